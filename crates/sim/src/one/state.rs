//! The in-memory OpenNebula state: pools, users, permissions, ACLs.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::tmpl::Tmpl;

/// oned's error codes.
pub(crate) mod code {
    pub(crate) const AUTHENTICATION: i32 = 0x100;
    pub(crate) const AUTHORIZATION: i32 = 0x200;
    pub(crate) const NO_EXISTS: i32 = 0x400;
    pub(crate) const ACTION: i32 = 0x800;
    pub(crate) const RPC_API: i32 = 0x1000;
    pub(crate) const INTERNAL: i32 = 0x2000;
}

/// An error answered as a 5-element failure array. `msg` lacks the `[method] ` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RpcError {
    pub(crate) code: i32,
    pub(crate) msg: String,
    pub(crate) id: i32,
}

impl RpcError {
    pub(crate) fn new(code: i32, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
            id: -1,
        }
    }
    pub(crate) fn internal(msg: impl Into<String>) -> Self {
        Self::new(code::INTERNAL, msg)
    }
    pub(crate) fn action(msg: impl Into<String>) -> Self {
        Self::new(code::ACTION, msg)
    }
}

/// Result of a handler.
pub(crate) type R<T> = Result<T, RpcError>;

/// Kinds of owned (permissioned) objects that share the generic handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum Kind {
    Vm,
    Template,
    Vnet,
    Image,
    Datastore,
    SecGroup,
    VmGroup,
    Document,
    VnTemplate,
    Vrouter,
    Market,
    MarketApp,
    BackupJob,
    Hook,
}

impl Kind {
    pub(crate) const ALL: [Kind; 14] = [
        Kind::Vm,
        Kind::Template,
        Kind::Vnet,
        Kind::Image,
        Kind::Datastore,
        Kind::SecGroup,
        Kind::VmGroup,
        Kind::Document,
        Kind::VnTemplate,
        Kind::Vrouter,
        Kind::Market,
        Kind::MarketApp,
        Kind::BackupJob,
        Kind::Hook,
    ];
    /// Name used in authorization messages and ACL strings.
    pub(crate) fn acl_name(self) -> &'static str {
        match self {
            Kind::Vm => "VM",
            Kind::Template => "TEMPLATE",
            Kind::Vnet => "NET",
            Kind::Image => "IMAGE",
            Kind::Datastore => "DATASTORE",
            Kind::SecGroup => "SECGROUP",
            Kind::VmGroup => "VMGROUP",
            Kind::Document => "DOCUMENT",
            Kind::VnTemplate => "VNTEMPLATE",
            Kind::Vrouter => "VROUTER",
            Kind::Market => "MARKETPLACE",
            Kind::MarketApp => "MARKETPLACEAPP",
            Kind::BackupJob => "BACKUPJOB",
            Kind::Hook => "HOOK",
        }
    }
    /// Name used in "Error getting ..." messages.
    pub(crate) fn long_name(self) -> &'static str {
        match self {
            Kind::Vm => "virtual machine",
            Kind::Template => "virtual machine template",
            Kind::Vnet => "virtual network",
            Kind::Image => "image",
            Kind::Datastore => "datastore",
            Kind::SecGroup => "security group",
            Kind::VmGroup => "VM group",
            Kind::Document => "document",
            Kind::VnTemplate => "virtual network template",
            Kind::Vrouter => "virtual router",
            Kind::Market => "marketplace",
            Kind::MarketApp => "marketplaceapp",
            Kind::BackupJob => "backup job",
            Kind::Hook => "hook",
        }
    }
    /// ACL resource bit.
    pub(crate) fn acl_bit(self) -> u64 {
        match self {
            Kind::Vm => acl::VM,
            Kind::Template => acl::TEMPLATE,
            Kind::Vnet => acl::NET,
            Kind::Image => acl::IMAGE,
            Kind::Datastore => acl::DATASTORE,
            Kind::SecGroup => acl::SECGROUP,
            Kind::VmGroup => acl::VMGROUP,
            Kind::Document => acl::DOCUMENT,
            Kind::VnTemplate => acl::VNTEMPLATE,
            Kind::Vrouter => acl::VROUTER,
            Kind::Market => acl::MARKETPLACE,
            Kind::MarketApp => acl::MARKETPLACEAPP,
            Kind::BackupJob => acl::BACKUPJOB,
            Kind::Hook => acl::HOOK,
        }
    }
}

/// ACL bits (include/AclRule.h, PoolObjectSQL.h).
pub(crate) mod acl {
    pub(crate) const INDIVIDUAL: u64 = 0x1_0000_0000;
    pub(crate) const GROUP: u64 = 0x2_0000_0000;
    pub(crate) const ALL: u64 = 0x4_0000_0000;
    pub(crate) const CLUSTER: u64 = 0x8_0000_0000;
    pub(crate) const VM: u64 = 0x10_0000_0000;
    pub(crate) const HOST: u64 = 0x20_0000_0000;
    pub(crate) const NET: u64 = 0x40_0000_0000;
    pub(crate) const IMAGE: u64 = 0x80_0000_0000;
    pub(crate) const USER: u64 = 0x100_0000_0000;
    pub(crate) const TEMPLATE: u64 = 0x200_0000_0000;
    pub(crate) const GROUP_R: u64 = 0x400_0000_0000;
    pub(crate) const DATASTORE: u64 = 0x1000_0000_0000;
    pub(crate) const CLUSTER_R: u64 = 0x2000_0000_0000;
    pub(crate) const DOCUMENT: u64 = 0x4000_0000_0000;
    pub(crate) const ZONE: u64 = 0x8000_0000_0000;
    pub(crate) const SECGROUP: u64 = 0x1_0000_0000_0000;
    pub(crate) const VDC: u64 = 0x2_0000_0000_0000;
    pub(crate) const VROUTER: u64 = 0x4_0000_0000_0000;
    pub(crate) const MARKETPLACE: u64 = 0x8_0000_0000_0000;
    pub(crate) const MARKETPLACEAPP: u64 = 0x10_0000_0000_0000;
    pub(crate) const VMGROUP: u64 = 0x20_0000_0000_0000;
    pub(crate) const VNTEMPLATE: u64 = 0x40_0000_0000_0000;
    pub(crate) const HOOK: u64 = 0x80_0000_0000_0000;
    pub(crate) const BACKUPJOB: u64 = 0x100_0000_0000_0000;
    /// Resource names in bit order.
    pub(crate) const NAMES: [(u64, &str); 20] = [
        (VM, "VM"),
        (HOST, "HOST"),
        (NET, "NET"),
        (IMAGE, "IMAGE"),
        (USER, "USER"),
        (TEMPLATE, "TEMPLATE"),
        (GROUP_R, "GROUP"),
        (DATASTORE, "DATASTORE"),
        (CLUSTER_R, "CLUSTER"),
        (DOCUMENT, "DOCUMENT"),
        (ZONE, "ZONE"),
        (SECGROUP, "SECGROUP"),
        (VDC, "VDC"),
        (VROUTER, "VROUTER"),
        (MARKETPLACE, "MARKETPLACE"),
        (MARKETPLACEAPP, "MARKETPLACEAPP"),
        (VMGROUP, "VMGROUP"),
        (VNTEMPLATE, "VNTEMPLATE"),
        (HOOK, "HOOK"),
        (BACKUPJOB, "BACKUPJOB"),
    ];
    pub(crate) const USE: u64 = 1;
    pub(crate) const MANAGE: u64 = 2;
    pub(crate) const ADMIN: u64 = 4;
    pub(crate) const CREATE: u64 = 8;
}

/// Operation levels, as in oned's AuthRequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    Use = 1,
    Manage = 2,
    Admin = 3,
}

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Use => "USE",
            Op::Manage => "MANAGE",
            Op::Admin => "ADMIN",
        }
    }
    fn bit(self) -> u64 {
        match self {
            Op::Use => acl::USE,
            Op::Manage => acl::MANAGE,
            Op::Admin => acl::ADMIN,
        }
    }
}

/// A lock on an object (`one.*.lock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Lock {
    pub(crate) level: i32,
    pub(crate) owner: i32,
    pub(crate) time: i64,
    pub(crate) req_id: i32,
}

/// Fields every owned object has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub(crate) id: i32,
    pub(crate) uid: i32,
    pub(crate) gid: i32,
    pub(crate) name: String,
    /// OWNER_U/M/A, GROUP_U/M/A, OTHER_U/M/A.
    pub(crate) perms: [u8; 9],
    pub(crate) regtime: i64,
    pub(crate) lock: Option<Lock>,
}

/// A user's login token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LoginToken {
    pub(crate) token: String,
    pub(crate) expiration: i64,
    pub(crate) egid: i32,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct User {
    pub(crate) id: i32,
    pub(crate) gid: i32,
    pub(crate) groups: BTreeSet<i32>,
    pub(crate) name: String,
    /// SHA-256 hex of the password.
    pub(crate) password: String,
    pub(crate) auth_driver: String,
    pub(crate) enabled: bool,
    pub(crate) template: Tmpl,
    pub(crate) tokens: Vec<LoginToken>,
    /// Quota vectors: DATASTORE, NETWORK, VM, IMAGE.
    pub(crate) quota: Tmpl,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Group {
    pub(crate) id: i32,
    pub(crate) name: String,
    pub(crate) template: Tmpl,
    pub(crate) admins: BTreeSet<i32>,
    pub(crate) quota: Tmpl,
    /// VLAN_RULES/RULE vectors (`one.group.vlan`).
    #[serde(default)]
    pub(crate) vlan_rules: Vec<Vec<(String, String)>>,
}

/// A cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cluster {
    pub(crate) id: i32,
    pub(crate) name: String,
    pub(crate) template: Tmpl,
    pub(crate) datastores: BTreeSet<i32>,
    pub(crate) vnets: BTreeSet<i32>,
}

/// A host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Host {
    pub(crate) id: i32,
    pub(crate) name: String,
    /// HOST_STATES: 0 INIT, 2 MONITORED, 4 DISABLED, 8 OFFLINE.
    pub(crate) state: i32,
    pub(crate) prev_state: i32,
    pub(crate) im_mad: String,
    pub(crate) vm_mad: String,
    pub(crate) cluster_id: i32,
    pub(crate) template: Tmpl,
    /// TOTAL_CPU (percent, 100 per core) once monitored.
    pub(crate) total_cpu: i64,
    /// TOTAL_MEM in KB once monitored.
    pub(crate) total_mem: i64,
    /// Monitoring becomes available at this UNIX time (INIT until then).
    pub(crate) monitored_at: i64,
}

/// A zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Zone {
    pub(crate) id: i32,
    pub(crate) name: String,
    pub(crate) template: Tmpl,
}

/// An ACL rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AclRule {
    pub(crate) id: i32,
    pub(crate) user: u64,
    pub(crate) resource: u64,
    pub(crate) rights: u64,
    pub(crate) zone: u64,
}

impl AclRule {
    /// oned's string form, e.g. `@1 HOST/* MANAGE #0`.
    pub(crate) fn to_str(&self) -> String {
        let who = |v: u64| -> String {
            let id = (v & 0xFFFF_FFFF) as i64;
            if v & acl::INDIVIDUAL != 0 {
                format!("#{id}")
            } else if v & acl::GROUP != 0 {
                format!("@{id}")
            } else if v & acl::ALL != 0 {
                "*".into()
            } else if v & acl::CLUSTER != 0 {
                format!("%{id}")
            } else {
                "??".into()
            }
        };
        let types: Vec<&str> = acl::NAMES
            .iter()
            .filter(|(b, _)| self.resource & b != 0)
            .map(|(_, n)| *n)
            .collect();
        let types = if types.is_empty() {
            String::new()
        } else {
            types.join("+")
        };
        let mut rights = Vec::new();
        for (b, n) in [
            (acl::USE, "USE"),
            (acl::MANAGE, "MANAGE"),
            (acl::ADMIN, "ADMIN"),
            (acl::CREATE, "CREATE"),
        ] {
            if self.rights & b != 0 {
                rights.push(n);
            }
        }
        format!(
            "{} {}/{} {} {}",
            who(self.user),
            types,
            who(self.resource & 0xF_FFFF_FFFF),
            rights.join("+"),
            who(self.zone)
        )
    }
}

/// One address range of a virtual network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AddressRange {
    pub(crate) id: i32,
    /// IP4, IP6, IP4_6, ETHER.
    pub(crate) ar_type: String,
    pub(crate) ip: Option<u32>,
    pub(crate) mac: u64,
    pub(crate) size: u32,
    /// Other attributes given at creation (GLOBAL_PREFIX, ULA_PREFIX, ...).
    pub(crate) extra: Vec<(String, String)>,
    /// Lease index -> VM id (-1 = on hold).
    pub(crate) leases: BTreeMap<u32, i32>,
    /// Where oned's allocator looks first: after the last address it gave a VM (holds do
    /// not move it), wrapping at the end.
    #[serde(default)]
    pub(crate) next_index: u32,
    /// Whether the range ever gave an address (oned keeps its ALLOCATED attribute, empty,
    /// after the last one goes back: recorded 049).
    #[serde(default)]
    pub(crate) ever_allocated: bool,
    /// Lease index -> the reservation (network id) it was reserved for.
    #[serde(default)]
    pub(crate) reserved: BTreeMap<u32, i32>,
}

/// A history record of a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct History {
    pub(crate) seq: i32,
    pub(crate) hostname: String,
    pub(crate) hid: i32,
    pub(crate) cid: i32,
    pub(crate) stime: i64,
    pub(crate) etime: i64,
    pub(crate) vm_mad: String,
    pub(crate) tm_mad: String,
    pub(crate) ds_id: i32,
    pub(crate) pstime: i64,
    pub(crate) petime: i64,
    pub(crate) rstime: i64,
    pub(crate) retime: i64,
    pub(crate) estime: i64,
    pub(crate) eetime: i64,
    pub(crate) action: i32,
    pub(crate) uid: i32,
    pub(crate) gid: i32,
    pub(crate) req_id: i32,
    /// The VM's document when the record was closed (oned keeps it with the record;
    /// `one.vmpool.accounting` shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vm_copy: Option<String>,
}

/// VM-specific data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct VmData {
    pub(crate) state: i32,
    pub(crate) lcm_state: i32,
    pub(crate) prev_state: i32,
    pub(crate) prev_lcm_state: i32,
    pub(crate) resched: i32,
    pub(crate) stime: i64,
    pub(crate) etime: i64,
    pub(crate) deploy_id: String,
    pub(crate) user_template: Tmpl,
    pub(crate) history: Vec<History>,
    /// The OneGate token of the VM (when CONTEXT/TOKEN = YES).
    pub(crate) token: Option<String>,
    /// Monitoring samples: (timestamp, cpu, memory KB, netrx, nettx).
    pub(crate) monitoring: Vec<(i64, f64, i64, i64, i64)>,
    /// Host the VM was asked to run on (`one.vm.deploy`).
    pub(crate) forced_host: Option<(i32, i32)>,
    /// Disk snapshots, one entry per disk that has any (`SNAPSHOTS`).
    #[serde(default)]
    pub(crate) disk_snapshots: Vec<DiskSnapshots>,
    /// Scheduled actions (`one.vm.schedadd`), fired by the scheduler at their TIME.
    #[serde(default)]
    pub(crate) sched: Vec<SchedAction>,
    /// The next scheduled-action id.
    #[serde(default)]
    pub(crate) next_sched: i32,
    /// The last `one.vm.exec` command: (command, stdin, state), state 0 running, 1 done,
    /// 2 cancelled.
    #[serde(default)]
    pub(crate) exec: Option<(String, String, i32)>,
    /// Backup images of this VM (`one.vm.backup`).
    #[serde(default)]
    pub(crate) backup_ids: Vec<i32>,
}

/// The snapshots of one VM disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DiskSnapshots {
    pub(crate) disk_id: i32,
    pub(crate) next: i32,
    pub(crate) snaps: Vec<DiskSnap>,
}

/// One disk snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DiskSnap {
    pub(crate) id: i32,
    pub(crate) name: String,
    pub(crate) date: i64,
    /// The snapshot this one was taken from (-1 for the first).
    pub(crate) parent: i32,
    pub(crate) size: i64,
    pub(crate) active: bool,
}

/// Image-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ImageData {
    pub(crate) img_type: i32,
    pub(crate) persistent: bool,
    pub(crate) state: i32,
    pub(crate) size: i64,
    pub(crate) ds_id: i32,
    pub(crate) source: String,
    pub(crate) path: String,
    pub(crate) format: String,
    pub(crate) vms: BTreeSet<i32>,
    /// UNIX time at which INIT turns READY.
    pub(crate) ready_at: i64,
    /// The image's snapshots (a persistent image's disk snapshots, saved into it when
    /// its VM lets it go); `disk_id` is unused.
    #[serde(default)]
    pub(crate) snapshots: Option<DiskSnapshots>,
}

/// Datastore-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DsData {
    pub(crate) ds_mad: String,
    pub(crate) tm_mad: String,
    /// 0 image, 1 system, 2 file.
    pub(crate) ds_type: i32,
    pub(crate) state: i32,
    pub(crate) clusters: BTreeSet<i32>,
    pub(crate) total_mb: i64,
}

/// Virtual-network-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VnetData {
    /// 0 INIT, 1 READY, 2 LOCK_CREATE, 3 LOCK_DELETE, 4 DONE, 5 ERROR.
    pub(crate) state: i32,
    pub(crate) prev_state: i32,
    pub(crate) clusters: BTreeSet<i32>,
    pub(crate) bridge: String,
    pub(crate) vn_mad: String,
    pub(crate) ars: Vec<AddressRange>,
    pub(crate) next_ar: i32,
    /// UNIX time (ms) at which LOCK_CREATE turns READY.
    pub(crate) ready_at_ms: i64,
}

/// The per-kind part of an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Extra {
    Vm(Box<VmData>),
    Template,
    Vnet(VnetData),
    Image(ImageData),
    Datastore(DsData),
    SecGroup,
    VmGroup,
    Document {
        doc_type: i32,
    },
    VnTemplate,
    /// A virtual router and the VMs instantiated for it.
    Vrouter {
        vms: BTreeSet<i32>,
    },
    /// A marketplace: its driver and state (0 enabled, 1 disabled).
    Market {
        mad: String,
        state: i32,
    },
    /// A marketplace app.
    MarketApp(MarketAppData),
    /// A backup job.
    BackupJob(BackupJobData),
    /// A hook and its execution log.
    Hook(HookData),
}

/// Marketplace-app-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MarketAppData {
    pub(crate) market_id: i32,
    pub(crate) origin_id: i32,
    /// 0 INIT, 1 READY, 2 LOCKED, 3 ERROR, 4 DISABLED.
    pub(crate) state: i32,
    /// 0 UNKNOWN, 1 IMAGE, 2 VMTEMPLATE, 3 SERVICE_TEMPLATE.
    pub(crate) app_type: i32,
    pub(crate) size: i64,
    pub(crate) format: String,
    pub(crate) source: String,
    pub(crate) md5: String,
    pub(crate) version: String,
    pub(crate) description: String,
    pub(crate) apptemplate64: String,
    /// UNIX time at which LOCKED (export in progress) turns READY.
    pub(crate) ready_at: i64,
}

/// A scheduled action (of a VM or a backup job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SchedAction {
    pub(crate) id: i32,
    pub(crate) action: String,
    pub(crate) args: String,
    pub(crate) time: String,
    pub(crate) repeat: i32,
    pub(crate) days: String,
    pub(crate) end_type: i32,
    pub(crate) end_value: i64,
    pub(crate) done: i64,
    pub(crate) message: String,
    /// WARNING (seconds before TIME, absolute once parsed; 0 none).
    #[serde(default)]
    pub(crate) warning: i64,
}

/// Backup-job-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BackupJobData {
    pub(crate) priority: i32,
    pub(crate) last_backup_time: i64,
    pub(crate) last_backup_duration: i64,
    pub(crate) sched: Vec<SchedAction>,
    pub(crate) next_sched: i32,
    pub(crate) outdated: BTreeSet<i32>,
    pub(crate) updated: BTreeSet<i32>,
    pub(crate) error: BTreeSet<i32>,
}

/// One execution of a hook (`HOOK_EXECUTION_RECORD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HookExec {
    pub(crate) hook_id: i32,
    pub(crate) exec_id: i32,
    pub(crate) timestamp: i64,
    pub(crate) command: String,
    pub(crate) arguments: String,
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// Set for records made by `one.hook.retry`.
    pub(crate) retry: bool,
}

/// Hook-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HookData {
    /// `api` or `state`.
    pub(crate) hook_type: String,
    pub(crate) log: Vec<HookExec>,
    pub(crate) next_exec: i32,
}

/// An owned object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Obj {
    pub(crate) meta: Meta,
    pub(crate) template: Tmpl,
    pub(crate) extra: Extra,
}

impl Obj {
    pub(crate) fn vm(&self) -> Option<&VmData> {
        match &self.extra {
            Extra::Vm(v) => Some(v),
            _ => None,
        }
    }
    pub(crate) fn vm_mut(&mut self) -> Option<&mut VmData> {
        match &mut self.extra {
            Extra::Vm(v) => Some(v),
            _ => None,
        }
    }
}

/// A pool of owned objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Pool {
    pub(crate) next_id: i32,
    pub(crate) objs: BTreeMap<i32, Obj>,
}

/// The whole state (serialisable for snapshots).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) users: BTreeMap<i32, User>,
    pub(crate) next_user: i32,
    pub(crate) groups: BTreeMap<i32, Group>,
    pub(crate) next_group: i32,
    pub(crate) clusters: BTreeMap<i32, Cluster>,
    pub(crate) next_cluster: i32,
    pub(crate) hosts: BTreeMap<i32, Host>,
    pub(crate) next_host: i32,
    pub(crate) zones: BTreeMap<i32, Zone>,
    pub(crate) acls: BTreeMap<i32, AclRule>,
    pub(crate) next_acl: i32,
    pub(crate) pools: BTreeMap<Kind, Pool>,
    pub(crate) next_req: i32,
    /// OneGate endpoint advertised in VM contexts, if any.
    pub(crate) onegate_endpoint: Option<String>,
    /// Default user quotas (`one.userquota.update`).
    #[serde(default)]
    pub(crate) default_user_quota: Tmpl,
    /// Default group quotas (`one.groupquota.update`).
    #[serde(default)]
    pub(crate) default_group_quota: Tmpl,
    /// Virtual data centers.
    #[serde(default)]
    pub(crate) vdcs: BTreeMap<i32, Vdc>,
    #[serde(default)]
    pub(crate) next_vdc: i32,
    /// The next scheduled-action id (oned numbers them across VMs and backup jobs).
    #[serde(default)]
    pub(crate) next_sched: i32,
    /// (state, lcm state) of each VM and host as the state hooks last saw them.
    #[serde(default)]
    pub(crate) hook_seen: BTreeMap<String, (i32, i32)>,
    /// Showback records computed by `one.vmpool.calculateshowback`.
    #[serde(default)]
    pub(crate) showback: Vec<Showback>,
    /// Seconds the scheduled actions' clock is ahead of the wall clock
    /// (`OneSimHandle::advance_clock`).
    #[serde(default)]
    pub(crate) clock_offset: i64,
}

/// One VM's showback for one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Showback {
    pub(crate) vmid: i32,
    pub(crate) year: i32,
    pub(crate) month: i32,
    pub(crate) cpu_cost: f64,
    pub(crate) memory_cost: f64,
    pub(crate) disk_cost: f64,
    pub(crate) hours: f64,
    pub(crate) rhours: f64,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) uid: i32,
    pub(crate) gid: i32,
    pub(crate) groups: BTreeSet<i32>,
    pub(crate) admin: bool,
}

/// SHA-256 hex digest.
pub(crate) fn sha256_hex(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Current UNIX time in seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Current UNIX time in milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// oned's object name check.
pub(crate) fn check_name(name: &str) -> R<()> {
    if name.is_empty() {
        return Err(RpcError::internal("Invalid NAME, it cannot be empty"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| "&|:\\\";/'#{}$<> \t\n\r".contains(*c) || c.is_control())
    {
        return Err(RpcError::internal(format!(
            "Invalid NAME, char '{c}' is not allowed"
        )));
    }
    if name.chars().count() > 128 {
        return Err(RpcError::internal("Invalid NAME, max length is 128 chars"));
    }
    Ok(())
}

impl State {
    /// The clock scheduled actions and backup job schedules fire on: the wall clock plus
    /// what `OneSimHandle::advance_clock` added.
    pub(crate) fn sched_now(&self) -> i64 {
        now() + self.clock_offset
    }

    pub(crate) fn pool(&self, kind: Kind) -> &Pool {
        static EMPTY: std::sync::OnceLock<Pool> = std::sync::OnceLock::new();
        self.pools
            .get(&kind)
            .unwrap_or_else(|| EMPTY.get_or_init(Pool::default))
    }
    pub(crate) fn pool_mut(&mut self, kind: Kind) -> &mut Pool {
        self.pools.entry(kind).or_default()
    }

    pub(crate) fn uname(&self, uid: i32) -> &str {
        self.users.get(&uid).map(|u| u.name.as_str()).unwrap_or("")
    }
    pub(crate) fn gname(&self, gid: i32) -> &str {
        self.groups.get(&gid).map(|g| g.name.as_str()).unwrap_or("")
    }

    pub(crate) fn next_req_id(&mut self) -> i32 {
        self.next_req += 1;
        self.next_req
    }

    /// Authenticate `user:secret` (password or login token).
    pub(crate) fn authenticate(&self, session: &str) -> R<Caller> {
        let fail = || {
            RpcError::new(
                code::AUTHENTICATION,
                "User couldn't be authenticated, aborting call.",
            )
        };
        let (name, secret) = session.split_once(':').ok_or_else(fail)?;
        let user = self
            .users
            .values()
            .find(|u| u.name == name)
            .ok_or_else(fail)?;
        if !user.enabled {
            return Err(fail());
        }
        let t = now();
        let mut gid = user.gid;
        let mut groups = user.groups.clone();
        let ok = if sha256_hex(secret) == user.password {
            true
        } else if let Some(tok) = user
            .tokens
            .iter()
            .find(|k| k.token == secret && (k.expiration < 0 || k.expiration > t))
        {
            if tok.egid >= 0 {
                // a group-scoped token authenticates in that group only (oned's
                // RequestAttributes::group_ids)
                gid = tok.egid;
                groups = [tok.egid].into();
            }
            true
        } else {
            false
        };
        if !ok {
            return Err(fail());
        }
        let admin = user.id == 0 || user.groups.contains(&0);
        Ok(Caller {
            uid: user.id,
            gid,
            groups,
            admin,
        })
    }

    /// Whether an ACL rule grants `right` on a resource of type `bit`.
    pub(crate) fn acl_allows(
        &self,
        c: &Caller,
        bit: u64,
        right: u64,
        oid: i32,
        ogid: i32,
        clusters: &[i32],
    ) -> bool {
        self.acls.values().any(|r| {
            let u = r.user;
            let uid = (u & 0xFFFF_FFFF) as i32;
            let user_ok = (u & acl::ALL != 0)
                || (u & acl::INDIVIDUAL != 0 && uid == c.uid)
                || (u & acl::GROUP != 0 && c.groups.contains(&uid));
            if !user_ok || r.rights & right == 0 || r.resource & bit == 0 {
                return false;
            }
            let rid = (r.resource & 0xFFFF_FFFF) as i32;
            (r.resource & acl::ALL != 0)
                || (r.resource & acl::INDIVIDUAL != 0 && rid == oid)
                || (r.resource & acl::GROUP != 0 && rid == ogid)
                || (r.resource & acl::CLUSTER != 0 && clusters.contains(&rid))
        })
    }

    /// Whether `c` may perform `op` on an owned object.
    pub(crate) fn can(&self, c: &Caller, op: Op, kind: Kind, m: &Meta) -> bool {
        if c.admin {
            return true;
        }
        let i = op as usize - 1;
        if m.uid == c.uid && m.perms[i] == 1 {
            return true;
        }
        if c.groups.contains(&m.gid) && m.perms[3 + i] == 1 {
            return true;
        }
        if m.perms[6 + i] == 1 {
            return true;
        }
        self.acl_allows(c, kind.acl_bit(), op.bit(), m.id, m.gid, &[])
    }

    /// Authorization check with oned's messages, lock check included.
    pub(crate) fn authorize(
        &self,
        c: &Caller,
        op: Op,
        kind: Kind,
        m: &Meta,
        check_lock: bool,
    ) -> R<()> {
        if check_lock && let Some(l) = &m.lock {
            let level = if l.level >= 4 { 1 } else { l.level };
            if op as i32 >= level {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!(
                        "User [{}] : {} is locked. [{}].",
                        c.uid,
                        kind.acl_name(),
                        m.id
                    ),
                ));
            }
        }
        if self.can(c, op, kind, m) {
            Ok(())
        } else {
            Err(RpcError::new(
                code::AUTHORIZATION,
                format!(
                    "User [{}] : Not authorized to perform {} {} [{}].",
                    c.uid,
                    op.name(),
                    kind.acl_name(),
                    m.id
                ),
            ))
        }
    }

    /// Check CREATE rights for a kind.
    pub(crate) fn authorize_create(&self, c: &Caller, bit: u64, name: &str) -> R<()> {
        if c.admin || self.acl_allows(c, bit, acl::CREATE, -1, -1, &[]) {
            Ok(())
        } else {
            Err(RpcError::new(
                code::AUTHORIZATION,
                format!(
                    "User [{}] : Not authorized to perform CREATE {name}.",
                    c.uid
                ),
            ))
        }
    }

    /// Require an administrator (oneadmin group).
    pub(crate) fn require_admin(&self, c: &Caller, op: Op, what: &str, id: i32) -> R<()> {
        if c.admin {
            Ok(())
        } else {
            Err(RpcError::new(
                code::AUTHORIZATION,
                format!(
                    "User [{}] : Not authorized to perform {} {what} [{id}].",
                    c.uid,
                    op.name()
                ),
            ))
        }
    }

    /// Look up an owned object or answer NO_EXISTS.
    pub(crate) fn get(&self, kind: Kind, id: i32) -> R<&Obj> {
        self.pool(kind)
            .objs
            .get(&id)
            .ok_or_else(|| no_exists(kind.long_name(), id))
    }

    /// Mutable lookup or NO_EXISTS.
    pub(crate) fn get_mut(&mut self, kind: Kind, id: i32) -> R<&mut Obj> {
        self.pool_mut(kind)
            .objs
            .get_mut(&id)
            .ok_or_else(|| no_exists(kind.long_name(), id))
    }

    /// Default permissions for a new object of `kind` created by `c` (umask 177 style).
    pub(crate) fn new_meta(&mut self, kind: Kind, c: &Caller, name: String) -> Meta {
        let pool = self.pool_mut(kind);
        let id = pool.next_id;
        pool.next_id += 1;
        let perms = match kind {
            Kind::Datastore => [1, 1, 0, 1, 0, 0, 0, 0, 0],
            _ => [1, 1, 0, 0, 0, 0, 0, 0, 0],
        };
        Meta {
            id,
            uid: c.uid,
            gid: c.gid,
            name,
            perms,
            regtime: now(),
            lock: None,
        }
    }

    /// Whether a name is used by another object of the same owner.
    pub(crate) fn name_taken(&self, kind: Kind, uid: i32, name: &str, except: i32) -> Option<i32> {
        self.pool(kind)
            .objs
            .values()
            .find(|o| o.meta.uid == uid && o.meta.name == name && o.meta.id != except)
            .map(|o| o.meta.id)
    }
}

/// NO_EXISTS with oned's message.
pub(crate) fn no_exists(what: &str, id: i32) -> RpcError {
    RpcError {
        code: code::NO_EXISTS,
        msg: format!("Error getting {what} [{id}]."),
        id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_strings_match_oned() {
        let r = AclRule {
            id: 0,
            user: 0x200000001,
            resource: 0x121429400000000,
            rights: 8,
            zone: 0x400000000,
        };
        assert_eq!(
            r.to_str(),
            "@1 VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VMGROUP+BACKUPJOB/* CREATE *"
        );
        let r = AclRule {
            id: 9,
            user: 0x100000002,
            resource: 0x24400000000,
            rights: 1,
            zone: 0x100000000,
        };
        assert_eq!(r.to_str(), "#2 NET+TEMPLATE/* USE #0");
    }

    #[test]
    fn names_are_validated() {
        assert!(check_name("ok-name_1.x").is_ok());
        let e = check_name("bob <&>").expect_err("space");
        assert_eq!(e.msg, "Invalid NAME, char ' ' is not allowed");
        assert!(check_name("").is_err());
    }

    #[test]
    fn sha256_matches_oned() {
        assert_eq!(
            sha256_hex("password"),
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
        );
    }
}

/// VM states.
pub(crate) mod st {
    pub(crate) const PENDING: i32 = 1;
    pub(crate) const HOLD: i32 = 2;
    pub(crate) const ACTIVE: i32 = 3;
    pub(crate) const STOPPED: i32 = 4;
    pub(crate) const SUSPENDED: i32 = 5;
    pub(crate) const DONE: i32 = 6;
    pub(crate) const POWEROFF: i32 = 8;
    pub(crate) const UNDEPLOYED: i32 = 9;
}

/// LCM states.
pub(crate) mod lcm {
    pub(crate) const INIT: i32 = 0;
    pub(crate) const PROLOG: i32 = 1;
    pub(crate) const BOOT: i32 = 2;
    pub(crate) const RUNNING: i32 = 3;
    pub(crate) const MIGRATE: i32 = 4;
    pub(crate) const SAVE_STOP: i32 = 5;
    pub(crate) const SAVE_SUSPEND: i32 = 6;
    pub(crate) const SAVE_MIGRATE: i32 = 7;
    pub(crate) const PROLOG_MIGRATE: i32 = 8;
    pub(crate) const PROLOG_RESUME: i32 = 9;
    pub(crate) const EPILOG_STOP: i32 = 10;
    pub(crate) const EPILOG: i32 = 11;
    pub(crate) const SHUTDOWN: i32 = 12;
    pub(crate) const UNKNOWN: i32 = 16;
    pub(crate) const SHUTDOWN_POWEROFF: i32 = 18;
    pub(crate) const HOTPLUG_SNAPSHOT: i32 = 24;
    pub(crate) const DISK_SNAPSHOT_POWEROFF: i32 = 51;
    pub(crate) const DISK_SNAPSHOT_REVERT_POWEROFF: i32 = 52;
    pub(crate) const DISK_SNAPSHOT_DELETE_POWEROFF: i32 = 53;
    pub(crate) const DISK_SNAPSHOT_SUSPENDED: i32 = 54;
    pub(crate) const DISK_SNAPSHOT_REVERT_SUSPENDED: i32 = 55;
    pub(crate) const DISK_SNAPSHOT_DELETE_SUSPENDED: i32 = 56;
    pub(crate) const DISK_SNAPSHOT: i32 = 57;
    pub(crate) const DISK_SNAPSHOT_DELETE: i32 = 59;
    pub(crate) const DISK_RESIZE: i32 = 62;
    pub(crate) const DISK_RESIZE_POWEROFF: i32 = 63;
    pub(crate) const DISK_RESIZE_UNDEPLOYED: i32 = 64;
    pub(crate) const BOOT_POWEROFF: i32 = 20;
    pub(crate) const BOOT_SUSPENDED: i32 = 21;
    pub(crate) const BOOT_STOPPED: i32 = 22;
    pub(crate) const SHUTDOWN_UNDEPLOY: i32 = 29;
    pub(crate) const EPILOG_UNDEPLOY: i32 = 30;
    pub(crate) const PROLOG_UNDEPLOY: i32 = 31;
    pub(crate) const BOOT_UNDEPLOY: i32 = 32;
    pub(crate) const BOOT_FAILURE: i32 = 36;
    pub(crate) const PROLOG_MIGRATE_FAILURE: i32 = 38;
    pub(crate) const PROLOG_FAILURE: i32 = 39;
    pub(crate) const EPILOG_FAILURE: i32 = 40;
    pub(crate) const EPILOG_STOP_FAILURE: i32 = 41;
    pub(crate) const EPILOG_UNDEPLOY_FAILURE: i32 = 42;
    pub(crate) const BOOT_UNDEPLOY_FAILURE: i32 = 47;
    pub(crate) const BOOT_STOPPED_FAILURE: i32 = 48;
    pub(crate) const PROLOG_RESUME_FAILURE: i32 = 49;
    pub(crate) const PROLOG_UNDEPLOY_FAILURE: i32 = 50;
    pub(crate) const PROLOG_MIGRATE_POWEROFF: i32 = 43;
    pub(crate) const PROLOG_MIGRATE_SUSPEND: i32 = 45;
}

/// "Every resource of this kind in the zone".
pub(crate) const ALL_RESOURCES: i32 = -10;

/// A VDC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Vdc {
    pub(crate) id: i32,
    pub(crate) name: String,
    pub(crate) groups: BTreeSet<i32>,
    /// `(zone, cluster)` pairs.
    pub(crate) clusters: BTreeSet<(i32, i32)>,
    /// `(zone, host)` pairs.
    pub(crate) hosts: BTreeSet<(i32, i32)>,
    /// `(zone, datastore)` pairs.
    pub(crate) datastores: BTreeSet<(i32, i32)>,
    /// `(zone, network)` pairs.
    pub(crate) vnets: BTreeSet<(i32, i32)>,
    pub(crate) template: Tmpl,
}

impl Vdc {
    /// oned's `default` VDC (id 0): the `users` group, every cluster of zone 0.
    pub(crate) fn default_vdc() -> Vdc {
        let all: BTreeSet<(i32, i32)> = [(0, ALL_RESOURCES)].into();
        let mut template = Tmpl::new();
        template.set(
            "DESCRIPTION",
            "Every new group is added to this VDC. Use it to store default access rules for your groups. NOTE: You may need to remove a group from the default VDC before assigning it to other VDC.",
        );
        // every cluster of zone 0, no single host, datastore or network (recorded-sweep 016)
        Vdc {
            id: 0,
            name: "default".into(),
            groups: [1].into(),
            clusters: all,
            hosts: BTreeSet::new(),
            datastores: BTreeSet::new(),
            vnets: BTreeSet::new(),
            template,
        }
    }
}
