//! The typed API: every XML-RPC method of oned 7.4, grouped by resource.
//!
//! The bindings in [`generated`](self) are produced by `cargo xtask methods` from
//! `crates/opennebula/data/api-methods.tsv` (a test fails when they are stale or when a
//! method of the TSV has no binding). The rules:
//!
//! * calls on one object are methods of a handle: `client.vm(id).info()`,
//!   `client.vm(id).action(VmAction::Terminate)`, `client.host(id).status(HostStatus::Disabled)`;
//! * other calls (allocate, pools, quotas) are methods of the collection:
//!   `client.vms().allocate(&tpl, false)`, `client.vms().info(&PoolFilter::all())`,
//!   `client.hosts().info()`, `client.users().default_quota_info()`;
//! * `one.system.*` is `client.system()`;
//! * a method with optional trailing parameters has a short form that sends the server
//!   defaults (`info()`) and a `_with` form taking every parameter (`info_with(true)`);
//!   `template(id).instantiate(name, hold, &extra, persistent)` takes them all;
//! * ids are typed ([`crate::ids`]), templates are [`Template`]s, the
//!   VM action, update type, lock level, host status and permissions are enums/structs;
//! * XML documents come back parsed into the typed resources of [`crate::model`]
//!   (`vm(id).info()` gives a [`crate::model::Vm`], `vms().info(..)` a
//!   [`crate::model::VmPool`]); each such method has a `_raw` twin returning the
//!   [`XmlDocument`]; ids come back as typed ids; other integers as `i32`.
//!
//! Federation/HA internals (`one.zone.replicate`, `*.allocatedb`, `one.system.sql`, ...)
//! are callable and marked **Internal** in their docs.

#[rustfmt::skip]
mod generated;
mod lookup;
mod wait;

use std::fmt;
use std::str::FromStr;

use nebulair_core::{Error, Result};

pub use generated::*;
pub use lookup::LookupError;
pub(crate) use lookup::{as_id as text_id, pick as pick_named};
pub use wait::{ObservedState, VmTarget, WaitError, WaitOptions, WaitProgress, is_lcm_failure};
pub(crate) use wait::{Step as WaitStep, poll as poll_wait};

use crate::rpc::RpcValue;
use crate::template::Template;

/// An XML document returned by oned (`one.vm.info`, pools, `one.system.config`...).
///
/// Parse it into a typed resource with [`XmlDocument::parse`] (e.g.
/// `doc.parse::<nebulair_opennebula::model::Vm>()`), or use the text.
#[derive(Clone, PartialEq, Eq)]
pub struct XmlDocument(String);

impl XmlDocument {
    /// Wraps a document.
    pub fn new(xml: impl Into<String>) -> Self {
        XmlDocument(xml.into())
    }

    pub(crate) fn from_value(v: RpcValue) -> Result<XmlDocument> {
        v.into_string().map(XmlDocument)
    }

    /// The XML text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The XML text, without copying.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The name of the root element (`VM`, `VM_POOL`, ...), if the text starts with one.
    pub fn root_name(&self) -> Option<&str> {
        let s = self.0.trim_start();
        let s = if s.starts_with("<?") {
            s.split_once("?>").map(|(_, r)| r.trim_start())?
        } else {
            s
        };
        let rest = s.strip_prefix('<')?;
        let end = rest.find(|c: char| c == '>' || c == '/' || c.is_whitespace())?;
        Some(&rest[..end])
    }

    /// Parses the document into `T` (any `FromStr` whose error is ours, such as the
    /// typed resources of [`crate::model`]).
    ///
    /// # Errors
    /// Whatever `T::from_str` returns, typically [`crate::ErrorKind::Protocol`].
    pub fn parse<T: FromStr<Err = Error>>(&self) -> Result<T> {
        self.0.parse()
    }
}

impl fmt::Debug for XmlDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 200;
        let mut end = self.0.len().min(MAX);
        while !self.0.is_char_boundary(end) {
            end -= 1;
        }
        let more = if self.0.len() > end { "…" } else { "" };
        write!(
            f,
            "XmlDocument({:?}{more}, {} bytes)",
            &self.0[..end],
            self.0.len()
        )
    }
}

impl fmt::Display for XmlDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for XmlDocument {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<XmlDocument> for String {
    fn from(d: XmlDocument) -> String {
        d.0
    }
}

/// Documents larger than this are parsed on a blocking thread.
const BLOCKING_PARSE_THRESHOLD: usize = 256 * 1024;

/// Parses a document into a typed resource, on a blocking thread when it is large so the
/// async runtime keeps running.
pub(crate) async fn parse_document<T>(doc: XmlDocument) -> Result<T>
where
    T: FromStr<Err = Error> + Send + 'static,
{
    if doc.0.len() > BLOCKING_PARSE_THRESHOLD {
        tokio::task::spawn_blocking(move || doc.parse::<T>())
            .await
            .map_err(|e| {
                Error::with_source(
                    nebulair_core::ErrorKind::Cancelled,
                    "document parsing was aborted",
                    e,
                )
            })?
    } else {
        doc.parse()
    }
}

/// Renders a list of ids as oned's comma-separated string (`"3,7,9"`).
pub(crate) fn id_list<T: fmt::Display>(ids: &[T]) -> String {
    let mut out = String::new();
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out
}

/// Renders a template parameter (text syntax when possible, XML otherwise).
pub(crate) fn template_param(t: &Template) -> Result<RpcValue> {
    t.render().map(RpcValue::String)
}

/// The actions of `one.vm.action`, sent as their wire strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VmAction {
    /// `terminate`: shut down gracefully and delete.
    Terminate,
    /// `terminate-hard`: destroy immediately and delete.
    TerminateHard,
    /// `undeploy`: shut down and free the host, keeping the disks.
    Undeploy,
    /// `undeploy-hard`: as undeploy, destroying instead of shutting down.
    UndeployHard,
    /// `poweroff`: shut down, keeping the host allocation.
    Poweroff,
    /// `poweroff-hard`: power off immediately.
    PoweroffHard,
    /// `reboot`: reboot gracefully.
    Reboot,
    /// `reboot-hard`: reset.
    RebootHard,
    /// `hold`: keep a pending VM from being scheduled.
    Hold,
    /// `release`: release a held VM.
    Release,
    /// `stop`: save the state and free the host.
    Stop,
    /// `suspend`: save the state, keeping the host.
    Suspend,
    /// `resume`: resume a stopped, suspended, undeployed or powered-off VM.
    Resume,
    /// `resched`: mark for rescheduling.
    Resched,
    /// `unresched`: clear the rescheduling mark.
    Unresched,
}

impl VmAction {
    /// Every action.
    pub const ALL: [VmAction; 15] = [
        VmAction::Terminate,
        VmAction::TerminateHard,
        VmAction::Undeploy,
        VmAction::UndeployHard,
        VmAction::Poweroff,
        VmAction::PoweroffHard,
        VmAction::Reboot,
        VmAction::RebootHard,
        VmAction::Hold,
        VmAction::Release,
        VmAction::Stop,
        VmAction::Suspend,
        VmAction::Resume,
        VmAction::Resched,
        VmAction::Unresched,
    ];

    /// The wire string (`terminate-hard`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            VmAction::Terminate => "terminate",
            VmAction::TerminateHard => "terminate-hard",
            VmAction::Undeploy => "undeploy",
            VmAction::UndeployHard => "undeploy-hard",
            VmAction::Poweroff => "poweroff",
            VmAction::PoweroffHard => "poweroff-hard",
            VmAction::Reboot => "reboot",
            VmAction::RebootHard => "reboot-hard",
            VmAction::Hold => "hold",
            VmAction::Release => "release",
            VmAction::Stop => "stop",
            VmAction::Suspend => "suspend",
            VmAction::Resume => "resume",
            VmAction::Resched => "resched",
            VmAction::Unresched => "unresched",
        }
    }
}

impl fmt::Display for VmAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VmAction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        VmAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| Error::invalid_input(format!("unknown VM action {s:?}")))
    }
}

/// How `*.update` applies a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UpdateType {
    /// 0: replace the whole template.
    #[default]
    Replace,
    /// 1: merge into the existing template.
    Merge,
}

impl From<UpdateType> for RpcValue {
    fn from(u: UpdateType) -> RpcValue {
        RpcValue::Int(match u {
            UpdateType::Replace => 0,
            UpdateType::Merge => 1,
        })
    }
}

/// Lock levels of `*.lock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockLevel {
    /// 1: block use (and manage/admin) operations.
    Use,
    /// 2: block manage (and admin) operations.
    Manage,
    /// 3: block admin operations.
    Admin,
    /// 4: block everything.
    All,
}

impl From<LockLevel> for RpcValue {
    fn from(l: LockLevel) -> RpcValue {
        RpcValue::Int(match l {
            LockLevel::Use => 1,
            LockLevel::Manage => 2,
            LockLevel::Admin => 3,
            LockLevel::All => 4,
        })
    }
}

/// The argument of `one.host.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostStatus {
    /// 0: enabled.
    Enabled,
    /// 1: disabled (monitored, no new VMs).
    Disabled,
    /// 2: offline (not monitored).
    Offline,
}

impl From<HostStatus> for RpcValue {
    fn from(s: HostStatus) -> RpcValue {
        RpcValue::Int(match s {
            HostStatus::Enabled => 0,
            HostStatus::Disabled => 1,
            HostStatus::Offline => 2,
        })
    }
}

/// The nine permission bits of `*.chmod`; `None` leaves a bit unchanged (-1 on the wire).
///
/// ```
/// use nebulair_opennebula::api::Permissions;
///
/// let p = Permissions::from_octal(0o640);
/// assert_eq!(p.user_manage, Some(true));
/// assert_eq!(p.group_use, Some(true));
/// assert_eq!(p.other_use, Some(false));
/// assert_eq!(Permissions::unchanged().group_admin, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions {
    /// Owner may use.
    pub user_use: Option<bool>,
    /// Owner may manage.
    pub user_manage: Option<bool>,
    /// Owner may administrate.
    pub user_admin: Option<bool>,
    /// Group may use.
    pub group_use: Option<bool>,
    /// Group may manage.
    pub group_manage: Option<bool>,
    /// Group may administrate.
    pub group_admin: Option<bool>,
    /// Others may use.
    pub other_use: Option<bool>,
    /// Others may manage.
    pub other_manage: Option<bool>,
    /// Others may administrate.
    pub other_admin: Option<bool>,
}

impl Permissions {
    /// Every bit unchanged.
    pub fn unchanged() -> Self {
        Permissions::default()
    }

    /// From the octal notation of `onevm chmod` (`0o640`: use=4, manage=2, admin=1 per
    /// digit; owner, group, other). Bits above `0o777` are ignored.
    pub fn from_octal(mode: u16) -> Self {
        let bit = |shift: u16, b: u16| Some(mode >> shift & b != 0);
        Permissions {
            user_use: bit(6, 4),
            user_manage: bit(6, 2),
            user_admin: bit(6, 1),
            group_use: bit(3, 4),
            group_manage: bit(3, 2),
            group_admin: bit(3, 1),
            other_use: bit(0, 4),
            other_manage: bit(0, 2),
            other_admin: bit(0, 1),
        }
    }

    pub(crate) fn to_params(self) -> [RpcValue; 9] {
        let v = |b: Option<bool>| RpcValue::Int(b.map_or(-1, i32::from));
        [
            v(self.user_use),
            v(self.user_manage),
            v(self.user_admin),
            v(self.group_use),
            v(self.group_manage),
            v(self.group_admin),
            v(self.other_use),
            v(self.other_manage),
            v(self.other_admin),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_actions_round_trip() {
        for a in VmAction::ALL {
            assert_eq!(a.as_str().parse::<VmAction>().ok(), Some(a));
        }
        assert!("explode".parse::<VmAction>().is_err());
    }

    #[test]
    fn xml_document_helpers() {
        let d = XmlDocument::new("<?xml version=\"1.0\"?>\n<VM_POOL><VM/></VM_POOL>");
        assert_eq!(d.root_name(), Some("VM_POOL"));
        assert_eq!(XmlDocument::new("<HOST/>").root_name(), Some("HOST"));
        assert_eq!(XmlDocument::new("7.4.0").root_name(), None);
        let long = XmlDocument::new("é".repeat(300));
        assert!(format!("{long:?}").contains("600 bytes"));
    }

    #[test]
    fn permissions_params() {
        let p = Permissions::from_octal(0o751).to_params();
        let ints: Vec<i32> = p.iter().filter_map(RpcValue::as_i32).collect();
        assert_eq!(ints, vec![1, 1, 1, 1, 0, 1, 0, 0, 1]);
        let u = Permissions::unchanged().to_params();
        assert!(u.iter().all(|v| v.as_i32() == Some(-1)));
    }
}
