//! The simulator's in-memory world: accounts, tokens, inventory, tasks, edge configs, DR.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Config, TokenKind};

/// A power state as the query service renders it (`status` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Power {
    On,
    Off,
    Suspended,
    /// Created and never deployed (vCD's 1, `RESOLVED`).
    Resolved,
    /// Being created (vCD's 0, `UNRESOLVED`).
    Unresolved,
    /// Creation failed (vCD's -1, `FAILED_CREATION`).
    FailedCreation,
}

impl Power {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Power::On => "POWERED_ON",
            Power::Off => "POWERED_OFF",
            Power::Suspended => "SUSPENDED",
            Power::Resolved => "RESOLVED",
            Power::Unresolved => "UNRESOLVED",
            Power::FailedCreation => "FAILED_CREATION",
        }
    }
    /// The numeric `status` of vApp/VM documents.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Power::On => "4",
            Power::Off => "8",
            Power::Suspended => "3",
            Power::Resolved => "1",
            Power::Unresolved => "0",
            Power::FailedCreation => "-1",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) full_name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Vdc {
    pub(crate) id: Uuid,
    pub(crate) org: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
}

#[derive(Debug, Clone)]
pub(crate) struct VApp {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    pub(crate) power: Power,
    pub(crate) created: String,
    pub(crate) description: String,
    pub(crate) deployed: bool,
    pub(crate) owner: String,
    pub(crate) metadata: Vec<Meta>,
    /// The vApp network names (from instantiation or the seed).
    pub(crate) networks: Vec<String>,
}

/// One metadata entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Meta {
    pub(crate) key: String,
    /// `GENERAL` or `SYSTEM`.
    pub(crate) domain: String,
    /// `MetadataStringValue`, `MetadataNumberValue`, `MetadataBooleanValue`, `MetadataDateTimeValue`.
    pub(crate) kind: String,
    pub(crate) value: String,
    /// `READWRITE`, `READONLY` or `PRIVATE` (the `Domain@visibility`).
    pub(crate) visibility: String,
}

/// A VM hard disk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Disk {
    pub(crate) instance_id: u32,
    pub(crate) size_mb: u64,
    /// 5 IDE, 6 SCSI, 20 SATA.
    pub(crate) bus_type: u32,
    pub(crate) bus_sub_type: String,
    pub(crate) unit: u32,
}

/// A VM NIC.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Nic {
    pub(crate) index: u32,
    pub(crate) network: String,
    /// `DHCP`, `POOL`, `MANUAL`, `NONE`.
    pub(crate) mode: String,
    pub(crate) ip: String,
    pub(crate) mac: String,
    pub(crate) connected: bool,
    pub(crate) adapter: String,
}

/// Guest customization settings of a VM.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Customization {
    pub(crate) enabled: bool,
    pub(crate) computer_name: String,
    pub(crate) admin_password_enabled: bool,
    pub(crate) admin_password_auto: bool,
    pub(crate) admin_password: String,
    pub(crate) auto_logon_enabled: bool,
    pub(crate) auto_logon_count: u32,
    pub(crate) script: String,
    pub(crate) reset_password_required: bool,
}

/// A VM snapshot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) created: String,
    pub(crate) powered_on: bool,
    pub(crate) size: u64,
    pub(crate) memory: bool,
    pub(crate) quiesce: bool,
    /// The hardware at the time of the snapshot (restored by revert).
    pub(crate) cpus: u32,
    pub(crate) memory_mb: u32,
}

/// A catalog of an org.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub(crate) id: Uuid,
    pub(crate) org: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    /// Published to other orgs (`PublishCatalogParams`).
    pub(crate) published: bool,
    /// Shared with everyone in the org at this access level (`ReadOnly`...), if at all.
    pub(crate) everyone: Option<String>,
    /// Access settings: (subject href, subject name, subject type, access level).
    pub(crate) access: Vec<(String, String, String, String)>,
    /// `VersionNumber`, increased by every change.
    pub(crate) version: u32,
    pub(crate) created: String,
}

/// A VM inside a vApp template.
#[derive(Debug, Clone)]
pub(crate) struct TemplateVm {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) cpus: u32,
    pub(crate) memory_mb: u32,
    pub(crate) disk_mb: u64,
    pub(crate) guest_os: String,
    /// Every hard disk (MB), the first being `disk_mb` (OVF imports may have more).
    pub(crate) disks_mb: Vec<u64>,
    /// The networks its NICs connect to (OVF `rasd:Connection`).
    pub(crate) nics: Vec<String>,
}

/// A media (ISO) in a catalog.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) catalog: Uuid,
    pub(crate) item: Uuid,
    pub(crate) name: String,
    pub(crate) size: u64,
    /// `iso` or `floppy`.
    pub(crate) image_type: String,
    pub(crate) description: String,
    /// Its upload has finished (`status="1"`); `false` while the file is uploaded.
    pub(crate) ready: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Vm {
    pub(crate) id: Uuid,
    pub(crate) vapp: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    pub(crate) power: Power,
    pub(crate) guest_os: String,
    pub(crate) cpus: u32,
    pub(crate) memory_mb: u32,
    pub(crate) ip: String,
    pub(crate) network: String,
    pub(crate) description: String,
    pub(crate) cores_per_socket: u32,
    pub(crate) disks: Vec<Disk>,
    pub(crate) nics: Vec<Nic>,
    pub(crate) customization: Customization,
    /// "Customize at next power on" is pending.
    pub(crate) needs_customization: bool,
    pub(crate) metadata: Vec<Meta>,
    pub(crate) snapshot: Option<Snapshot>,
    pub(crate) storage_profile: String,
    /// The inserted media (its id), if any.
    pub(crate) media: Option<Uuid>,
    pub(crate) deployed: bool,
    pub(crate) cpu_hot_add: bool,
    pub(crate) memory_hot_add: bool,
    /// The guest OS id of the OperatingSystemSection.
    pub(crate) os_type: String,
    /// How many times the guest was customized (a power on with customization pending).
    pub(crate) customized_count: u32,
}

/// An independent disk of a vDC (see `disk.rs`).
#[derive(Debug, Clone)]
pub(crate) struct IndependentDisk {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) size_bytes: u64,
    /// `5` IDE, `6` SCSI, `20` SATA/NVMe.
    pub(crate) bus_type: String,
    pub(crate) bus_sub_type: String,
    pub(crate) storage_profile: String,
    /// The VMs it is attached to.
    pub(crate) attached: Vec<Uuid>,
    /// The creation task has finished.
    pub(crate) ready: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    pub(crate) catalog: String,
    pub(crate) created: String,
    pub(crate) catalog_id: Uuid,
    pub(crate) item_id: Uuid,
    pub(crate) description: String,
    pub(crate) vms: Vec<TemplateVm>,
    /// The networks of the template (OVF `NetworkSection`).
    pub(crate) networks: Vec<String>,
    /// Its import has finished (`status="8"`); `false` while files are uploaded.
    pub(crate) ready: bool,
}

/// One ANS section (firewall, NAT, IPsec) of an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AnsSection {
    Firewall,
    Nat,
    Ipsec,
}

impl AnsSection {
    pub(crate) fn parse(s: &str) -> Option<AnsSection> {
        match s {
            "firewall" => Some(AnsSection::Firewall),
            "nat" => Some(AnsSection::Nat),
            "ipsec" => Some(AnsSection::Ipsec),
            _ => None,
        }
    }
    /// JSON path of the rule list: (outer key, inner key).
    pub(crate) fn list_path(self) -> (&'static str, &'static str) {
        match self {
            AnsSection::Firewall => ("firewallRules", "firewallRules"),
            AnsSection::Nat => ("rules", "natRulesDtos"),
            AnsSection::Ipsec => ("sites", "sites"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    /// Inner XML of `EdgeGatewayServiceConfiguration` (children only).
    pub(crate) services_xml: String,
    /// ANS configs (with `version`).
    pub(crate) ans: HashMap<AnsSection, Value>,
    /// Next server-assigned rule id.
    pub(crate) next_rule_id: u64,
    /// Change requests still to be refused with "busy" (test hook).
    pub(crate) busy_for: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Replication {
    pub(crate) id: Uuid,
    pub(crate) org: Uuid,
    pub(crate) vm_name: String,
    pub(crate) rpo: u32,
    pub(crate) test_recovery_state: &'static str,
    pub(crate) recovery_state: &'static str,
}

/// What a finished task changes in the world.
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    EdgeServices {
        edge: Uuid,
        xml: String,
    },
    DrTestFailover(Uuid),
    DrFailover(Uuid),
    DrTestCleanup(Uuid),
    /// A workload change (see `workload.rs`): applied when the task succeeds, `failed`
    /// when it ends in error.
    Workload {
        ok: WorkloadFn,
        failed: Option<WorkloadFn>,
    },
}

/// A change of the world a workload task makes when it ends.
#[derive(Clone)]
pub(crate) struct WorkloadFn(pub(crate) std::sync::Arc<dyn Fn(&mut State) + Send + Sync>);

impl std::fmt::Debug for WorkloadFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkloadFn")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) id: Uuid,
    pub(crate) operation_name: String,
    pub(crate) operation: String,
    pub(crate) owner_href_path: String,
    pub(crate) owner_name: String,
    pub(crate) owner_type: String,
    pub(crate) created: Instant,
    pub(crate) created_wall: SystemTime,
    pub(crate) duration: Duration,
    /// `Some(message)` when the task ends in error.
    pub(crate) failure: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) settled: bool,
    /// URL prefix the task was created under (e.g. `/api/compute`).
    pub(crate) prefix: String,
    /// Edge the task keeps busy while it runs.
    pub(crate) edge: Option<Uuid>,
    /// When `action/cancel` was received.
    pub(crate) canceled_at: Option<Instant>,
    /// vApps and VMs the task keeps busy while it runs (BUSY_ENTITY).
    pub(crate) entities: Vec<Uuid>,
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskPhase {
    Queued,
    Running(u32),
    Success,
    Error,
    Canceled,
}

impl Task {
    pub(crate) fn phase(&self, now: Instant) -> TaskPhase {
        let elapsed = now.saturating_duration_since(self.created);
        if let Some(at) = self.canceled_at
            && at.saturating_duration_since(self.created) < self.duration
        {
            return TaskPhase::Canceled;
        }
        if elapsed >= self.duration {
            if self.failure.is_some() {
                TaskPhase::Error
            } else {
                TaskPhase::Success
            }
        } else if elapsed.is_zero() {
            TaskPhase::Queued
        } else {
            let pct = (elapsed.as_secs_f64() / self.duration.as_secs_f64() * 100.0) as u32;
            TaskPhase::Running(pct.min(99))
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) issued: Instant,
    pub(crate) revoked: bool,
    pub(crate) user: String,
    pub(crate) org: String,
}

/// An On-Demand service instance.
#[derive(Debug, Clone)]
pub(crate) struct OdInstance {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) plan_id: String,
    pub(crate) plan_name: String,
    pub(crate) plan_type: String,
    pub(crate) version: String,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) tokens: HashMap<String, Token>,
    pub(crate) orgs: Vec<Org>,
    pub(crate) vdcs: Vec<Vdc>,
    pub(crate) vapps: Vec<VApp>,
    pub(crate) vms: Vec<Vm>,
    pub(crate) templates: Vec<Template>,
    pub(crate) catalogs: Vec<Catalog>,
    pub(crate) media: Vec<Media>,
    /// Independent disks (`disk.rs`).
    pub(crate) independent_disks: Vec<IndependentDisk>,
    /// Upload and download sessions of the transfer service (`transfer.rs`).
    pub(crate) transfers: super::transfer::Transfers,
    /// Org vDC networks (`network.rs`), besides each vDC's `default-routed`.
    pub(crate) org_networks: Vec<super::network::OrgNetwork>,
    pub(crate) edges: Vec<Edge>,
    /// Users, org settings and API tokens of the cloudapi administration (`admin.rs`).
    pub(crate) admin: super::admin::AdminState,
    /// Settings of vApp networks other than the default bridge (`vapp_net.rs`), by
    /// (vApp, network name).
    pub(crate) vapp_nets: HashMap<(Uuid, String), super::vapp_net::VAppNet>,
    /// NSX-T edge gateways of the cloudapi (`nsxt.rs`).
    pub(crate) nsxt: super::nsxt::NsxtState,
    pub(crate) replications: Vec<Replication>,
    pub(crate) tasks: HashMap<Uuid, Task>,
    pub(crate) unsettled: Vec<Uuid>,
    pub(crate) od_instances: Vec<OdInstance>,
    pub(crate) vpc_service_id: Uuid,
    /// vDCs offered by the vCA VPC account, in order.
    pub(crate) vpc_vdcs: Vec<Uuid>,
    pub(crate) task_duration: Duration,
    pub(crate) task_failure_share: f64,
    pub(crate) fail_next: u32,
    /// Tasks still to be created normally before `fail_next` applies.
    pub(crate) fail_skip: u32,
    pub(crate) rng: fastrand::Rng,
    pub(crate) token_lifetime: Duration,
    pub(crate) request_count: u64,
    /// Unix seconds (whole minute) that metrics samples end at.
    pub(crate) metrics_epoch: i64,
}

/// Fixed ids of the seed data (documented in the module docs).
pub(crate) mod ids {
    use uuid::Uuid;
    pub(crate) const SYSTEM_ORG: Uuid = Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0000);
    pub(crate) const ORG: Uuid = Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0001);
    pub(crate) const VDC_PROD: Uuid = Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0101);
    pub(crate) const VDC_DEV: Uuid = Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0102);
    pub(crate) const EDGE: Uuid = Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0201);
    pub(crate) const OD_COMPUTE: Uuid = Uuid::from_u128(0xa8c5_a6f0_5a3e_4b0e_9c1d_1f2e_3d4c_5b6a);
    pub(crate) const OD_DR: Uuid = Uuid::from_u128(0xd4e5_f6a7_1111_4222_8333_4444_5555_6666);
    pub(crate) const VPC_SERVICE: Uuid = Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0301);
}

const SERVICES_XML: &str = include_str!("data/edge_services.xml");
const ANS_FIREWALL: &str = include_str!("data/ans_firewall_config.json");
const ANS_NAT: &str = include_str!("data/ans_nat_config.json");
const ANS_IPSEC: &str = include_str!("data/ans_ipsec_config.json");

fn seeded_uuid(rng: &mut fastrand::Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid()
}

impl State {
    pub(crate) fn new(cfg: &Config) -> State {
        let mut st = State {
            tokens: HashMap::new(),
            orgs: Vec::new(),
            vdcs: Vec::new(),
            vapps: Vec::new(),
            vms: Vec::new(),
            templates: Vec::new(),
            catalogs: Vec::new(),
            media: Vec::new(),
            independent_disks: Vec::new(),
            transfers: super::transfer::Transfers::default(),
            org_networks: Vec::new(),
            edges: Vec::new(),
            nsxt: super::nsxt::NsxtState::default(),
            vapp_nets: HashMap::new(),
            admin: super::admin::AdminState::default(),
            replications: Vec::new(),
            tasks: HashMap::new(),
            unsettled: Vec::new(),
            od_instances: Vec::new(),
            vpc_service_id: ids::VPC_SERVICE,
            vpc_vdcs: Vec::new(),
            task_duration: cfg.task_duration,
            task_failure_share: cfg.task_failure_share,
            fail_next: 0,
            fail_skip: 0,
            rng: fastrand::Rng::with_seed(cfg.rng_seed),
            token_lifetime: cfg.token_lifetime,
            request_count: 0,
            metrics_epoch: {
                let secs = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                i64::try_from(secs - secs % 60).unwrap_or(0)
            },
        };
        st.orgs.push(Org {
            id: ids::SYSTEM_ORG,
            name: super::SYSTEM_ORG.into(),
            full_name: "System (provider)".into(),
        });
        st.orgs.push(Org {
            id: ids::ORG,
            name: cfg.org.clone(),
            full_name: format!("{} (simulated organization)", cfg.org),
        });
        st.od_instances = vec![
            OdInstance {
                id: ids::OD_COMPUTE,
                name: "Virtual Private Cloud OnDemand".into(),
                region: "us-california-1-3.vchs.vmware.com".into(),
                plan_id: "region:us-california-1-3.vchs.vmware.com:planID:67538e4b-f5ef-4a8b-a3a5-b8e6a4b3d6c1".into(),
                plan_name: "Virtual Private Cloud OnDemand".into(),
                plan_type: "COMPUTE".into(),
                version: "1.0".into(),
            },
            OdInstance {
                id: ids::OD_DR,
                name: "Disaster Recovery".into(),
                region: "us-virginia-1-4.vchs.vmware.com".into(),
                plan_id: "region:us-virginia-1-4.vchs.vmware.com:planID:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b".into(),
                plan_name: "Disaster Recovery".into(),
                plan_type: "DR".into(),
                version: "2.0".into(),
            },
        ];
        for inst in st.od_instances.clone() {
            st.orgs.push(Org {
                id: inst.id,
                name: inst.id.to_string(),
                full_name: inst.name.clone(),
            });
        }
        for i in 0..cfg.dr_replications {
            let id = Uuid::from_u128(0x1111_1111_aaaa_4bbb_8ccc_0000_0000_0000 + u128::from(i) + 1);
            st.replications.push(Replication {
                id,
                org: ids::OD_DR,
                vm_name: format!("dr-vm-{:03}", i + 1),
                rpo: 240,
                test_recovery_state: "none",
                recovery_state: "notStarted",
            });
        }
        st.admin = super::admin::AdminState::seeded(&st.orgs, &cfg.user);
        if cfg.seed_data {
            st.seed_inventory(cfg);
        }
        st
    }

    fn seed_inventory(&mut self, cfg: &Config) {
        let created = "2026-01-15T10:12:44.517Z".to_owned();
        self.vdcs.push(Vdc {
            id: ids::VDC_PROD,
            org: ids::ORG,
            name: "VDC-Prod".into(),
            description: "Production vDC".into(),
        });
        self.vdcs.push(Vdc {
            id: ids::VDC_DEV,
            org: ids::ORG,
            name: "VDC-Dev".into(),
            description: "Development vDC".into(),
        });
        self.vpc_vdcs = vec![ids::VDC_PROD, ids::VDC_DEV];
        let mut rng = fastrand::Rng::with_seed(7);
        // vApps with VMs; "web-tier" and "Web-Tier" differ only in case on purpose.
        let apps: [(&str, Uuid, Power, &[&str]); 5] = [
            ("web-tier", ids::VDC_PROD, Power::On, &["web-01", "web-02"]),
            ("Web-Tier", ids::VDC_DEV, Power::Off, &["WEB-01"]),
            ("db-tier", ids::VDC_PROD, Power::On, &["db-01"]),
            (
                "jenkins",
                ids::VDC_DEV,
                Power::On,
                &["jenkins01", "jenkins-agent"],
            ),
            ("empty-vapp", ids::VDC_PROD, Power::Off, &[]),
        ];
        let mut ip = 10;
        for (name, vdc, power, vms) in apps {
            let app = super::workload::new_vapp(
                seeded_uuid(&mut rng),
                vdc,
                name,
                power,
                power == Power::On,
                &created,
            );
            for vm in vms {
                ip += 1;
                let db = vm.starts_with("db");
                self.vms
                    .push(super::workload::new_vm(super::workload::VmSeed {
                        id: seeded_uuid(&mut rng),
                        vapp: app.id,
                        vdc,
                        name: vm,
                        power,
                        guest_os: if db {
                            "Ubuntu Linux (64-bit)"
                        } else {
                            "CentOS 7 (64-bit)"
                        },
                        cpus: if db { 4 } else { 2 },
                        memory_mb: if db { 8192 } else { 2048 },
                        ip: &format!("192.168.109.{ip}"),
                        network: "default-routed",
                        disk_mb: 16384,
                    }));
            }
            self.vapps.push(app);
        }
        for i in 0..cfg.extra_vms {
            let app = super::workload::new_vapp(
                seeded_uuid(&mut rng),
                ids::VDC_DEV,
                &format!("bulk-{:04}", i + 1),
                Power::Off,
                false,
                &created,
            );
            self.vms
                .push(super::workload::new_vm(super::workload::VmSeed {
                    id: seeded_uuid(&mut rng),
                    vapp: app.id,
                    vdc: ids::VDC_DEV,
                    name: &format!("bulk-vm-{:04}", i + 1),
                    power: Power::Off,
                    guest_os: "CentOS 7 (64-bit)",
                    cpus: 1,
                    memory_mb: 512,
                    ip: "",
                    network: "default-routed",
                    disk_mb: 1024,
                }));
            self.vapps.push(app);
        }
        let mut template_ids = Vec::new();
        for _ in 0..2 {
            template_ids.push(seeded_uuid(&mut rng));
        }
        super::catalog::seed_catalogs(self, &template_ids, &created);
        let mut ans = HashMap::new();
        for (section, text) in [
            (AnsSection::Firewall, ANS_FIREWALL),
            (AnsSection::Nat, ANS_NAT),
            (AnsSection::Ipsec, ANS_IPSEC),
        ] {
            let value: Value = serde_json::from_str(text).unwrap_or_else(|_| json!({"version": 1}));
            ans.insert(section, value);
        }
        self.edges.push(Edge {
            id: ids::EDGE,
            vdc: ids::VDC_PROD,
            name: "edge-prod".into(),
            services_xml: SERVICES_XML.trim().to_owned(),
            ans,
            next_rule_id: 200_000,
            busy_for: 0,
        });
        self.nsxt = super::nsxt::NsxtState::seeded();
    }

    /// A new task; decides now whether it fails.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_task(
        &mut self,
        operation_name: &str,
        operation: String,
        owner: (String, String, String),
        effect: Effect,
        prefix: &str,
        edge: Option<Uuid>,
        duration: Option<Duration>,
    ) -> Uuid {
        let skip = self.fail_next > 0 && self.fail_skip > 0;
        if skip {
            self.fail_skip -= 1;
        }
        let failure = if self.fail_next > 0 && !skip {
            self.fail_next -= 1;
            Some(format!("Simulated failure of {operation_name}."))
        } else if self.task_failure_share > 0.0 && self.rng.f64() < self.task_failure_share {
            Some(format!(
                "Simulated failure of {operation_name} (failure share)."
            ))
        } else {
            None
        };
        let id = crate::random_uuid();
        self.tasks.insert(
            id,
            Task {
                id,
                operation_name: operation_name.into(),
                operation,
                owner_href_path: owner.0,
                owner_name: owner.1,
                owner_type: owner.2,
                created: Instant::now(),
                created_wall: SystemTime::now(),
                duration: duration.unwrap_or(self.task_duration),
                failure,
                effect,
                settled: false,
                prefix: prefix.into(),
                edge,
                canceled_at: None,
                entities: Vec::new(),
            },
        );
        self.unsettled.push(id);
        id
    }

    /// Applies the effects of tasks that have finished since the last call.
    pub(crate) fn settle(&mut self, now: Instant) {
        if self.unsettled.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.unsettled);
        for id in pending {
            let Some(task) = self.tasks.get(&id) else {
                continue;
            };
            match task.phase(now) {
                TaskPhase::Success => {
                    let effect = task.effect.clone();
                    self.apply(effect);
                }
                TaskPhase::Error | TaskPhase::Canceled => {
                    if let Effect::Workload {
                        failed: Some(f), ..
                    } = &task.effect
                    {
                        let f = f.clone();
                        (f.0)(self);
                    }
                }
                _ => {
                    self.unsettled.push(id);
                    continue;
                }
            }
            if let Some(t) = self.tasks.get_mut(&id) {
                t.settled = true;
            }
        }
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::EdgeServices { edge, xml } => {
                if let Some(e) = self.edges.iter_mut().find(|e| e.id == edge) {
                    e.services_xml = xml;
                }
            }
            Effect::DrTestFailover(r) => self.set_dr(r, Some("complete"), None),
            Effect::DrFailover(r) => self.set_dr(r, None, Some("failedOver")),
            Effect::DrTestCleanup(r) => self.set_dr(r, Some("none"), None),
            Effect::Workload { ok, .. } => (ok.0)(self),
        }
    }

    fn set_dr(&mut self, id: Uuid, test: Option<&'static str>, rec: Option<&'static str>) {
        if let Some(r) = self.replications.iter_mut().find(|r| r.id == id) {
            if let Some(t) = test {
                r.test_recovery_state = t;
            }
            if let Some(s) = rec {
                r.recovery_state = s;
            }
        }
    }

    /// Whether a running task keeps this edge busy.
    pub(crate) fn edge_task_running(&self, edge: Uuid, now: Instant) -> bool {
        self.unsettled.iter().any(|id| {
            self.tasks.get(id).is_some_and(|t| {
                t.edge == Some(edge)
                    && matches!(t.phase(now), TaskPhase::Queued | TaskPhase::Running(_))
            })
        })
    }

    /// Checks a token: `Ok(token)` when valid for one of `kinds`.
    pub(crate) fn check_token(
        &self,
        value: &str,
        kinds: &[TokenKind],
        now: Instant,
    ) -> Option<&Token> {
        let t = self.tokens.get(value)?;
        if t.revoked || now.saturating_duration_since(t.issued) >= self.token_lifetime {
            return None;
        }
        kinds.contains(&t.kind).then_some(t)
    }

    pub(crate) fn issue_token(&mut self, kind: TokenKind, user: &str, org: &str) -> String {
        let value = match kind {
            TokenKind::VcdJwt => {
                // Shaped like vCD's: base64url JSON claims with the token's end in `exp`
                // (clients read it to know when to log in again); the signature is random.
                use base64::Engine as _;
                let header = "eyJhbGciOiJSUzI1NiJ9";
                let exp = (std::time::SystemTime::now() + self.token_lifetime)
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let claims = serde_json::json!({
                    "sub": user,
                    "iss": format!("{org}@nebulair-sim"),
                    "exp": exp,
                    "jti": crate::random_uuid().simple().to_string(),
                });
                let body =
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
                let sig = crate::random_uuid().simple().to_string();
                format!("{header}.{body}.{sig}")
            }
            _ => crate::random_uuid().simple().to_string(),
        };
        self.tokens.insert(
            value.clone(),
            Token {
                kind,
                issued: Instant::now(),
                revoked: false,
                user: user.into(),
                org: org.into(),
            },
        );
        value
    }

    pub(crate) fn org_by_name(&self, name: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.name.eq_ignore_ascii_case(name))
    }
}
