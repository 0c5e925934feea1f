//! OneFlow documents: service templates and services as the OneFlow server sends them.
//!
//! OneFlow stores both as oned documents (type 101 for service templates, 100 for
//! services) and answers with the document in JSON: `{"DOCUMENT": {"ID": "3", "UID": ..,
//! "NAME": .., "TEMPLATE": {"BODY": {...}}}}`, pools as `{"DOCUMENT_POOL": {"DOCUMENT":
//! [...]}}`. The `BODY` is typed here ([`ServiceTemplateBody`], [`ServiceBody`]); every
//! attribute these types do not name is kept in their `other` map so that a body read,
//! changed and sent back (`update`) loses nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{DocumentId, GroupId, TemplateId, UserId, VmId};
use crate::onegate::{RoleState, ServiceState};

use crate::onegate::de;

/// Extra attributes of a body kept for round trips.
pub type Extra = BTreeMap<String, serde_json::Value>;

/// A OneFlow document: the oned document around a body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FlowDocument<B> {
    /// The document id (the service or template id).
    #[serde(rename = "ID", deserialize_with = "de::num")]
    pub id: DocumentId,
    /// The owner.
    #[serde(rename = "UID", default, deserialize_with = "de::opt_num")]
    pub uid: Option<UserId>,
    /// The group.
    #[serde(rename = "GID", default, deserialize_with = "de::opt_num")]
    pub gid: Option<GroupId>,
    /// The owner's name.
    #[serde(rename = "UNAME", default)]
    pub uname: Option<String>,
    /// The group's name.
    #[serde(rename = "GNAME", default)]
    pub gname: Option<String>,
    /// The document name.
    #[serde(rename = "NAME", default)]
    pub name: String,
    /// The oned document type (100 service, 101 service template).
    #[serde(rename = "TYPE", default, deserialize_with = "de::opt_num")]
    pub doc_type: Option<i32>,
    /// Permissions as OneFlow sends them (`OWNER_U`, ... as "0"/"1").
    #[serde(rename = "PERMISSIONS", default)]
    pub permissions: Extra,
    /// The template holding the body.
    #[serde(rename = "TEMPLATE")]
    pub template: FlowTemplate<B>,
}

/// The `TEMPLATE` of a OneFlow document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FlowTemplate<B> {
    /// The body.
    #[serde(rename = "BODY")]
    pub body: B,
}

impl<B> FlowDocument<B> {
    /// The body.
    pub fn body(&self) -> &B {
        &self.template.body
    }
}

/// A service template document.
pub type ServiceTemplate = FlowDocument<ServiceTemplateBody>;
/// A service document.
pub type Service = FlowDocument<ServiceBody>;

/// How roles are deployed: all at once or parents first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Deployment {
    /// Every role at once.
    #[default]
    None,
    /// A role after its parents are RUNNING.
    Straight,
}

/// The kind of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RoleType {
    /// Virtual machines.
    #[default]
    Vm,
    /// A virtual router.
    Vr,
}

/// The body of a service template.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceTemplateBody {
    /// The service name (the template's name).
    #[serde(default)]
    pub name: String,
    /// How the roles are deployed.
    #[serde(default)]
    pub deployment: Deployment,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The roles, in the order they are listed.
    #[serde(default)]
    pub roles: Vec<RoleTemplate>,
    /// Whether the service is RUNNING only once every VM reports `READY=YES` through OneGate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_status_gate: Option<bool>,
    /// Every other attribute (networks, user inputs, custom attributes, ...).
    #[serde(flatten)]
    pub other: Extra,
}

impl ServiceTemplateBody {
    /// A template named `name` with roles `roles`.
    pub fn new(name: impl Into<String>, roles: Vec<RoleTemplate>) -> Self {
        ServiceTemplateBody {
            name: name.into(),
            roles,
            ..ServiceTemplateBody::default()
        }
    }

    /// Sets the deployment strategy.
    pub fn deployment(mut self, d: Deployment) -> Self {
        self.deployment = d;
        self
    }
}

/// A role of a service template.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoleTemplate {
    /// The role name (unique in the service; letters, digits and `_`).
    pub name: String,
    /// The role type: VMs (`vm`) or a virtual router (`vr`).
    #[serde(rename = "type", default)]
    pub role_type: RoleType,
    /// How many VMs the role starts with.
    #[serde(default, deserialize_with = "de::num")]
    pub cardinality: u32,
    /// The VM template the role's VMs are instantiated from (`template_id`; OneFlow 6's
    /// `vm_template` is read too).
    #[serde(
        default,
        alias = "vm_template",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub template_id: Option<TemplateId>,
    /// Attributes merged into each VM's template (`template_contents`, a JSON object of
    /// template attributes, e.g. `{"MEMORY": "512", "CONTEXT": {"X": "1"}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_contents: Option<serde_json::Map<String, serde_json::Value>>,
    /// Instantiate the VMs on hold (the role waits in HOLD for `release`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_hold: Option<bool>,
    /// Roles deployed before this one (with `straight` deployment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// Fewest VMs elasticity may leave.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub min_vms: Option<u32>,
    /// Most VMs elasticity may start.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub max_vms: Option<u32>,
    /// Seconds to wait after a scaling before the next (the server default when absent).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub cooldown: Option<u64>,
    /// Rules that scale the role on monitoring values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elasticity_policies: Vec<ElasticityPolicy>,
    /// Rules that scale the role at given times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled_policies: Vec<ScheduledPolicy>,
    /// Every other attribute.
    #[serde(flatten)]
    pub other: Extra,
}

impl RoleTemplate {
    /// A VM role of `cardinality` VMs from `template`.
    pub fn new(name: impl Into<String>, template: TemplateId, cardinality: u32) -> Self {
        RoleTemplate {
            name: name.into(),
            cardinality,
            template_id: Some(template),
            ..RoleTemplate::default()
        }
    }

    /// Sets an attribute of `template_contents` (merged into each VM's template).
    pub fn template_attr(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.template_contents
            .get_or_insert_with(serde_json::Map::new)
            .insert(key.into(), value);
        self
    }

    /// Instantiates the role's VMs on hold.
    pub fn on_hold(mut self, on: bool) -> Self {
        self.on_hold = Some(on);
        self
    }

    /// Adds parent roles.
    pub fn parents<S: Into<String>>(mut self, parents: impl IntoIterator<Item = S>) -> Self {
        self.parents.extend(parents.into_iter().map(Into::into));
        self
    }

    /// Sets the elasticity bounds.
    pub fn bounds(mut self, min_vms: u32, max_vms: u32) -> Self {
        self.min_vms = Some(min_vms);
        self.max_vms = Some(max_vms);
        self
    }

    /// Sets the cooldown in seconds.
    pub fn cooldown(mut self, seconds: u64) -> Self {
        self.cooldown = Some(seconds);
        self
    }

    /// Adds an elasticity policy.
    pub fn elasticity(mut self, p: ElasticityPolicy) -> Self {
        self.elasticity_policies.push(p);
        self
    }

    /// Adds a scheduled policy.
    pub fn scheduled(mut self, p: ScheduledPolicy) -> Self {
        self.scheduled_policies.push(p);
        self
    }
}

/// How a policy's `adjust` changes the cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AdjustmentType {
    /// Add `adjust` VMs (negative removes).
    Change,
    /// Set the cardinality to `adjust`.
    Cardinality,
    /// Add `adjust` percent of the current cardinality (at least `min_adjust_step`).
    PercentageChange,
}

impl AdjustmentType {
    /// The new cardinality from `current`, as OneFlow computes it
    /// (`calculate_new_cardinality`) before the role's bounds are applied: a percentage
    /// change is at least one VM and at least `min_step`.
    ///
    /// ```
    /// use nebulair_opennebula::oneflow::AdjustmentType;
    ///
    /// assert_eq!(AdjustmentType::Change.apply(2, 1, None), 3);
    /// assert_eq!(AdjustmentType::Change.apply(2, -5, None), 0);
    /// assert_eq!(AdjustmentType::Cardinality.apply(2, 6, None), 6);
    /// assert_eq!(AdjustmentType::PercentageChange.apply(10, 20, None), 12);
    /// assert_eq!(AdjustmentType::PercentageChange.apply(2, 10, None), 3);
    /// assert_eq!(AdjustmentType::PercentageChange.apply(4, 50, Some(3)), 7);
    /// assert_eq!(AdjustmentType::PercentageChange.apply(4, -50, None), 2);
    /// ```
    pub fn apply(self, current: u32, adjust: i64, min_step: Option<i64>) -> u32 {
        let cur = i64::from(current);
        let next = match self {
            AdjustmentType::Change => cur + adjust,
            AdjustmentType::Cardinality => adjust,
            AdjustmentType::PercentageChange => {
                // Ruby: change = cur * adjust / 100.0; |change| < 1 is 1, else truncated;
                // then at least min_adjust_step, with the sign of change.
                let hundredths = cur * adjust;
                let sign = if hundredths > 0 { 1 } else { -1 };
                let abs = (hundredths.abs() / 100).max(1);
                cur + sign * abs.max(min_step.unwrap_or(0))
            }
        };
        u32::try_from(next.max(0)).unwrap_or(u32::MAX)
    }

    /// The new cardinality with the role's bounds as OneFlow applies them: a scale up
    /// stops at `max` (or the current cardinality when it is above), a scale down at
    /// `min`.
    ///
    /// ```
    /// use nebulair_opennebula::oneflow::AdjustmentType;
    ///
    /// assert_eq!(AdjustmentType::Change.apply_bounded(2, 10, None, 1, 5), 5);
    /// assert_eq!(AdjustmentType::Change.apply_bounded(2, -10, None, 1, 5), 1);
    /// ```
    pub fn apply_bounded(
        self,
        current: u32,
        adjust: i64,
        min_step: Option<i64>,
        min: u32,
        max: u32,
    ) -> u32 {
        let next = self.apply(current, adjust, min_step);
        if adjust > 0 {
            next.min(current.max(max))
        } else if adjust < 0 {
            next.max(min)
        } else {
            next
        }
    }
}

/// A rule that scales a role when an expression over its VMs' monitoring holds for
/// `period_number` periods of `period` seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ElasticityPolicy {
    /// How `adjust` applies.
    #[serde(rename = "type")]
    pub adjustment: AdjustmentType,
    /// The adjustment.
    #[serde(deserialize_with = "de::num")]
    pub adjust: i64,
    /// Least change for `PERCENTAGE_CHANGE`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub min_adjust_step: Option<i64>,
    /// The condition, e.g. `CPU > 80` (attributes are averaged over the role's VMs).
    pub expression: String,
    /// How many consecutive periods the expression must hold.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub period_number: Option<u32>,
    /// The period length in seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub period: Option<u64>,
    /// A cooldown for this policy, overriding the role's.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub cooldown: Option<u64>,
    /// Counters OneFlow keeps (`true_evals`, `last_eval`, `expression_evaluated`).
    #[serde(flatten)]
    pub other: Extra,
}

impl ElasticityPolicy {
    /// A policy adjusting by `adjust` when `expression` holds.
    pub fn new(adjustment: AdjustmentType, adjust: i64, expression: impl Into<String>) -> Self {
        ElasticityPolicy {
            adjustment,
            adjust,
            min_adjust_step: None,
            expression: expression.into(),
            period_number: None,
            period: None,
            cooldown: None,
            other: Extra::new(),
        }
    }

    /// The expression must hold `number` times, `seconds` apart.
    pub fn period(mut self, number: u32, seconds: u64) -> Self {
        self.period_number = Some(number);
        self.period = Some(seconds);
        self
    }

    /// A cooldown for this policy.
    pub fn cooldown(mut self, seconds: u64) -> Self {
        self.cooldown = Some(seconds);
        self
    }
}

/// A rule that scales a role at a time (`start_time`) or on a cron `recurrence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScheduledPolicy {
    /// How `adjust` applies.
    #[serde(rename = "type")]
    pub adjustment: AdjustmentType,
    /// The adjustment.
    #[serde(deserialize_with = "de::num")]
    pub adjust: i64,
    /// Least change for `PERCENTAGE_CHANGE`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub min_adjust_step: Option<i64>,
    /// A cron expression (`0 9 * * mon-fri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<String>,
    /// A time, as OneFlow parses it (`2025-01-01 09:00:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Every other attribute.
    #[serde(flatten)]
    pub other: Extra,
}

impl ScheduledPolicy {
    /// A policy on a cron recurrence.
    pub fn recurring(adjustment: AdjustmentType, adjust: i64, cron: impl Into<String>) -> Self {
        ScheduledPolicy {
            adjustment,
            adjust,
            min_adjust_step: None,
            recurrence: Some(cron.into()),
            start_time: None,
            other: Extra::new(),
        }
    }

    /// A policy at one time.
    pub fn at(adjustment: AdjustmentType, adjust: i64, start_time: impl Into<String>) -> Self {
        ScheduledPolicy {
            adjustment,
            adjust,
            min_adjust_step: None,
            recurrence: None,
            start_time: Some(start_time.into()),
            other: Extra::new(),
        }
    }
}

/// The body of a service.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceBody {
    /// The service name.
    #[serde(default)]
    pub name: String,
    /// The service state.
    #[serde(default)]
    pub state: ServiceState,
    /// How the roles are deployed.
    #[serde(default)]
    pub deployment: Deployment,
    /// The roles.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// The service log (newest last).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LogEntry>,
    /// Epoch seconds of the instantiation.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub start_time: Option<i64>,
    /// Every other attribute.
    #[serde(flatten)]
    pub other: Extra,
}

impl ServiceBody {
    /// The role called `name`.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// Every VM of every role.
    pub fn vm_ids(&self) -> Vec<VmId> {
        self.roles
            .iter()
            .flat_map(|r| r.nodes.iter().map(|n| n.deploy_id))
            .collect()
    }
}

/// A service log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogEntry {
    /// Epoch seconds.
    #[serde(default, deserialize_with = "de::num")]
    pub timestamp: i64,
    /// `I`, `E`, `D`.
    #[serde(default)]
    pub severity: String,
    /// The text.
    #[serde(default)]
    pub message: String,
}

/// A role of a service.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Role {
    /// The role name.
    pub name: String,
    /// The role state.
    #[serde(default)]
    pub state: RoleState,
    /// The role type.
    #[serde(rename = "type", default)]
    pub role_type: RoleType,
    /// How many VMs the role should have.
    #[serde(default, deserialize_with = "de::num")]
    pub cardinality: u32,
    /// The VM template of the role's VMs (`template_id`, or 6.x `vm_template`).
    #[serde(
        default,
        alias = "vm_template",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub template_id: Option<TemplateId>,
    /// Attributes merged into each VM's template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_contents: Option<serde_json::Map<String, serde_json::Value>>,
    /// Parent roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// Fewest VMs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub min_vms: Option<u32>,
    /// Most VMs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub max_vms: Option<u32>,
    /// Cooldown in seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_num"
    )]
    pub cooldown: Option<u64>,
    /// Elasticity policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elasticity_policies: Vec<ElasticityPolicy>,
    /// Scheduled policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled_policies: Vec<ScheduledPolicy>,
    /// The role's VMs.
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// Every other attribute.
    #[serde(flatten)]
    pub other: Extra,
}

/// A VM of a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Node {
    /// The VM id.
    #[serde(deserialize_with = "de::num")]
    pub deploy_id: VmId,
    /// What OneFlow recorded of the VM when it created it (`{"VM": {"ID", "UID", "GID",
    /// "UNAME", "GNAME", "NAME"}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_info: Option<serde_json::Value>,
    /// Every other attribute (`disposed`, `scale_up`, ...).
    #[serde(flatten)]
    pub other: Extra,
}

/// An action applied to the VMs of a role (`POST /service/:id/role/:role/action`), the VM
/// actions OneFlow accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoleAction {
    /// `terminate`.
    Terminate,
    /// `terminate-hard`.
    TerminateHard,
    /// `undeploy`.
    Undeploy,
    /// `undeploy-hard`.
    UndeployHard,
    /// `hold`.
    Hold,
    /// `release`.
    Release,
    /// `stop`.
    Stop,
    /// `suspend`.
    Suspend,
    /// `resume`.
    Resume,
    /// `reboot`.
    Reboot,
    /// `reboot-hard`.
    RebootHard,
    /// `poweroff`.
    Poweroff,
    /// `poweroff-hard`.
    PoweroffHard,
    /// `snapshot-create`.
    SnapshotCreate,
    /// `snapshot-revert` (the snapshot id as the action's `args`).
    SnapshotRevert,
    /// `snapshot-delete` (the snapshot id as `args`).
    SnapshotDelete,
    /// `disk-snapshot-create` (`disk_id,name` as `args`).
    DiskSnapshotCreate,
    /// `disk-snapshot-revert` (`disk_id,snapshot_id` as `args`).
    DiskSnapshotRevert,
    /// `disk-snapshot-delete` (`disk_id,snapshot_id` as `args`).
    DiskSnapshotDelete,
}

impl RoleAction {
    /// Every action.
    pub const ALL: [RoleAction; 19] = [
        RoleAction::Terminate,
        RoleAction::TerminateHard,
        RoleAction::Undeploy,
        RoleAction::UndeployHard,
        RoleAction::Hold,
        RoleAction::Release,
        RoleAction::Stop,
        RoleAction::Suspend,
        RoleAction::Resume,
        RoleAction::Reboot,
        RoleAction::RebootHard,
        RoleAction::Poweroff,
        RoleAction::PoweroffHard,
        RoleAction::SnapshotCreate,
        RoleAction::SnapshotRevert,
        RoleAction::SnapshotDelete,
        RoleAction::DiskSnapshotCreate,
        RoleAction::DiskSnapshotRevert,
        RoleAction::DiskSnapshotDelete,
    ];

    /// The name OneFlow uses.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleAction::Terminate => "terminate",
            RoleAction::TerminateHard => "terminate-hard",
            RoleAction::Undeploy => "undeploy",
            RoleAction::UndeployHard => "undeploy-hard",
            RoleAction::Hold => "hold",
            RoleAction::Release => "release",
            RoleAction::Stop => "stop",
            RoleAction::Suspend => "suspend",
            RoleAction::Resume => "resume",
            RoleAction::Reboot => "reboot",
            RoleAction::RebootHard => "reboot-hard",
            RoleAction::Poweroff => "poweroff",
            RoleAction::PoweroffHard => "poweroff-hard",
            RoleAction::SnapshotCreate => "snapshot-create",
            RoleAction::SnapshotRevert => "snapshot-revert",
            RoleAction::SnapshotDelete => "snapshot-delete",
            RoleAction::DiskSnapshotCreate => "disk-snapshot-create",
            RoleAction::DiskSnapshotRevert => "disk-snapshot-revert",
            RoleAction::DiskSnapshotDelete => "disk-snapshot-delete",
        }
    }
}

impl std::fmt::Display for RoleAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RoleAction {
    type Err = crate::Error;

    /// Parses OneFlow's name (`poweroff-hard`).
    fn from_str(s: &str) -> crate::Result<Self> {
        RoleAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or_else(|| crate::Error::invalid_input(format!("unknown role action {s:?}")))
    }
}

#[derive(Deserialize)]
pub(crate) struct DocEnvelope<B> {
    #[serde(rename = "DOCUMENT")]
    pub(crate) document: FlowDocument<B>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "B: serde::de::DeserializeOwned"))]
pub(crate) struct PoolEnvelope<B> {
    #[serde(rename = "DOCUMENT_POOL")]
    pub(crate) pool: PoolInner<B>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "B: serde::de::DeserializeOwned"))]
pub(crate) struct PoolInner<B> {
    #[serde(
        rename = "DOCUMENT",
        default = "Vec::new",
        deserialize_with = "de::one_or_many"
    )]
    pub(crate) documents: Vec<FlowDocument<B>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_documents_decode_and_keep_unknown_attributes() {
        let json = serde_json::json!({"DOCUMENT": {"ID": "5", "UID": "0", "GID": "0", "UNAME": "oneadmin",
            "GNAME": "oneadmin", "NAME": "web", "TYPE": "100", "PERMISSIONS": {"OWNER_U": "1"},
            "TEMPLATE": {"BODY": {"name": "web", "state": 2, "deployment": "straight",
                "custom_attrs": {"X": "y"},
                "roles": [{"name": "db", "type": "vm", "state": "2", "cardinality": "1", "template_id": 0,
                    "nodes": [{"deploy_id": 7, "vm_info": {"VM": {"ID": "7"}}}],
                    "elasticity_policies": [{"type": "CHANGE", "adjust": "1", "expression": "CPU > 80",
                        "period_number": 3, "period": 10, "true_evals": 0}]}]}}}});
        let env: DocEnvelope<ServiceBody> = serde_json::from_value(json).expect("decode");
        let s = env.document;
        assert_eq!(s.id, DocumentId::new(5));
        assert_eq!(s.body().state, ServiceState::Running);
        assert_eq!(s.body().deployment, Deployment::Straight);
        let db = s.body().role("db").expect("db");
        assert_eq!(db.state, RoleState::Running);
        assert_eq!(db.nodes[0].deploy_id, VmId::new(7));
        assert_eq!(db.template_id, Some(TemplateId::new(0)));
        let old: RoleTemplate =
            serde_json::from_value(serde_json::json!({"name": "a", "vm_template": "3"}))
                .expect("6.x");
        assert_eq!(old.template_id, Some(TemplateId::new(3)));
        assert_eq!(db.elasticity_policies[0].adjustment, AdjustmentType::Change);
        assert!(db.elasticity_policies[0].other.contains_key("true_evals"));
        assert!(s.body().other.contains_key("custom_attrs"));
        let back = serde_json::to_value(s.body()).expect("encode");
        assert_eq!(back["custom_attrs"]["X"], "y");
        assert_eq!(s.body().vm_ids(), vec![VmId::new(7)]);
        let unknown: ServiceState = serde_json::from_value(serde_json::json!(42)).expect("state");
        assert_eq!(unknown, ServiceState::Unknown(42));
        assert_eq!(
            "poweroff-hard".parse::<RoleAction>().expect("action"),
            RoleAction::PoweroffHard
        );
        assert!("explode".parse::<RoleAction>().is_err());
    }

    #[test]
    fn pools_with_one_none_or_many_documents() {
        let one: PoolEnvelope<ServiceTemplateBody> = serde_json::from_str(
            r#"{"DOCUMENT_POOL":{"DOCUMENT":{"ID":"1","NAME":"t","TEMPLATE":{"BODY":{"name":"t","roles":[]}}}}}"#,
        )
        .expect("one");
        assert_eq!(one.pool.documents.len(), 1);
        let none: PoolEnvelope<ServiceTemplateBody> =
            serde_json::from_str(r#"{"DOCUMENT_POOL":{}}"#).expect("none");
        assert!(none.pool.documents.is_empty());
    }
}
