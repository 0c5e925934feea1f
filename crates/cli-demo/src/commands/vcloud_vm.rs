//! `nebulair vcloud vm ...`: VMs of vCloud Director vApps (list, show, power actions,
//! deploy/undeploy, rename, CPU, memory, hard disks, NICs, hot add, guest customization,
//! media, snapshots, metadata, delete).
//!
//! A VM is named by name or id; `--vapp` (and `--in VDC` for the vApp) narrows a name.
//! Every change waits for vCD's task (a spinner on a terminal) and then prints the VM
//! read again; `--no-wait` prints the task instead. Values that cannot be right (0 CPUs,
//! memory that is not a multiple of 4 MB, a shrinking disk) are refused by the library
//! before anything is sent.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use futures::TryStreamExt as _;
use nebulair_core::{Error, ExposeSecret as _};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::model::vcd::Vm;
use nebulair_vcloud::model::vcd::helpers::resource_type;
use nebulair_vcloud::query::{Query, QueryType, VmRecord};
use nebulair_vcloud::workload::reconfig::hot_add_of;
use nebulair_vcloud::workload::{
    AdminPassword, BusType, DiskSpec, EntityKind, GuestCustomization, IpAllocation, Locator,
    NicSpec, NicUpdate, Pending, SnapshotOptions, ToolsStatus, VcdId, VmHandle, Workloads,
};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{Confirm, io_failure, read_secret_file, read_secret_stdin};
use crate::commands::vcloud_vapp::{
    DeployArgs, Entity, MetadataSub, TaskArgs, UndeployAction, metadata, run_task, vapp_handle,
    vcd_failure,
};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

/// A VM named on the command line, with the vApp (and vDC) that narrow its name.
#[derive(Debug, Clone, Args)]
pub(crate) struct VmRef {
    /// The VM (name, id, urn or href).
    #[arg(value_name = "VM")]
    vm: String,
    /// Look the name up in this vApp (name or id) only.
    #[arg(long, global = true)]
    vapp: Option<String>,
    /// The vDC of --vapp (name or id).
    #[arg(long = "in", id = "in_vdc", value_name = "VDC", global = true)]
    vdc: Option<String>,
}

impl VmRef {
    /// The handle; `--in` without `--vapp` is refused (a VM name is looked up in a
    /// vApp, or among every VM).
    fn handle(&self, ws: &Workloads) -> Result<VmHandle, Failure> {
        self.check()?;
        Ok(match &self.vapp {
            Some(a) => vapp_handle(ws, a, self.vdc.as_deref()).vm(self.vm.as_str()),
            None => ws.vm(self.vm.as_str()),
        })
    }

    fn check(&self) -> Result<(), Failure> {
        if self.vdc.is_some() && self.vapp.is_none() {
            return Err(invalid(
                "reading --in",
                "--in VDC narrows --vapp: give the VM's vApp too".into(),
            ));
        }
        Ok(())
    }
}

/// A bus (`--bus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Bus {
    /// SCSI (the sub type defaults to VirtualSCSI).
    #[default]
    Scsi,
    /// IDE.
    Ide,
    /// SATA.
    Sata,
}

/// An addressing mode (`--ip-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IpMode {
    /// DHCP.
    Dhcp,
    /// The network's static pool.
    Pool,
    /// The address of --ip.
    Manual,
    /// No address.
    None,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl OnOff {
    fn get(self) -> bool {
        self == OnOff::On
    }
}

/// `vm disk ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum DiskSub {
    /// Adds a hard disk.
    Add {
        #[command(flatten)]
        target: VmRef,
        /// Its size in MB.
        #[arg(long, allow_negative_numbers = true)]
        size_mb: i64,
        /// The controller type.
        #[arg(long, value_enum, default_value_t = Bus::Scsi)]
        bus: Bus,
        /// The controller sub type (lsilogic, lsilogicsas, VirtualSCSI, ...).
        #[arg(long)]
        bus_sub_type: Option<String>,
        /// A storage profile of the VM's vDC (by name).
        #[arg(long)]
        storage_profile: Option<String>,
    },
    /// Grows a hard disk (vCD does not shrink disks).
    Resize {
        #[command(flatten)]
        target: VmRef,
        /// The disk: its InstanceID (2000) or name (`Hard disk 1`), as `vm show` lists.
        disk: String,
        /// The new size in MB.
        #[arg(long, allow_negative_numbers = true)]
        size_mb: i64,
    },
    /// Removes a hard disk.
    Remove {
        #[command(flatten)]
        target: VmRef,
        /// The disk: its InstanceID or name.
        disk: String,
    },
}

/// `vm nic ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum NicSub {
    /// Adds a NIC (it gets the next free index).
    Add {
        #[command(flatten)]
        target: VmRef,
        /// The vApp network it connects to.
        network: String,
        /// How it gets its address [default: manual with --ip, else pool]
        #[arg(long, value_enum)]
        ip_mode: Option<IpMode>,
        /// The address (manual mode).
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
        /// Make it the primary NIC.
        #[arg(long)]
        primary: bool,
        /// Add it disconnected.
        #[arg(long)]
        disconnected: bool,
        /// The adapter type (VMXNET3, E1000, ...).
        #[arg(long)]
        adapter: Option<String>,
    },
    /// Changes a NIC (network, addressing, primary, connected).
    Modify {
        #[command(flatten)]
        target: VmRef,
        /// The NIC's index.
        index: i64,
        /// A new network.
        #[arg(long)]
        network: Option<String>,
        /// A new addressing mode.
        #[arg(long, value_enum)]
        ip_mode: Option<IpMode>,
        /// The address (manual mode).
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
        /// Make it the primary NIC.
        #[arg(long)]
        primary: bool,
        /// Connect or disconnect it.
        #[arg(long, value_enum)]
        connected: Option<OnOff>,
    },
    /// Removes a NIC.
    Remove {
        #[command(flatten)]
        target: VmRef,
        /// The NIC's index.
        index: i64,
    },
}

/// `vm snapshot ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotSub {
    /// Creates a snapshot (replacing the current one).
    Create {
        #[command(flatten)]
        target: VmRef,
        /// Include the memory of a running VM.
        #[arg(long)]
        memory: bool,
        /// Quiesce the guest file systems (needs guest tools).
        #[arg(long)]
        quiesce: bool,
        /// A name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Reverts to the current snapshot.
    Revert(VmRef),
    /// Removes every snapshot.
    RemoveAll(VmRef),
}

/// `vm media ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum MediaSub {
    /// Inserts a media into the CD drive.
    Insert {
        #[command(flatten)]
        target: VmRef,
        /// The media: a catalog item name (with --catalog), or a media id or href.
        media: String,
        /// The catalog that holds the media.
        #[arg(long)]
        catalog: Option<String>,
    },
    /// Ejects a media from the CD drive.
    Eject {
        #[command(flatten)]
        target: VmRef,
        /// The media: a catalog item name (with --catalog), or a media id or href.
        media: String,
        /// The catalog that holds the media.
        #[arg(long)]
        catalog: Option<String>,
    },
}

/// `vm customize` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct CustomizeArgs {
    #[command(flatten)]
    target: VmRef,
    /// Enable guest customization.
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    /// Disable guest customization.
    #[arg(long)]
    disable: bool,
    /// The computer (host) name: 1 to 63 letters, digits or '-'.
    #[arg(long)]
    computer_name: Option<String>,
    /// Read the administrator password from the first line of standard input.
    #[arg(long, conflicts_with_all = ["admin_password_file", "admin_password_auto", "no_admin_password"])]
    admin_password_stdin: bool,
    /// Read the administrator password from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["admin_password_auto", "no_admin_password"])]
    admin_password_file: Option<PathBuf>,
    /// Let vCD generate the administrator password.
    #[arg(long, conflicts_with = "no_admin_password")]
    admin_password_auto: bool,
    /// Set no administrator password.
    #[arg(long)]
    no_admin_password: bool,
    /// Log the administrator on automatically this many times (0 turns it off).
    #[arg(long, value_name = "COUNT")]
    auto_logon: Option<u32>,
    /// Require a password change at first logon.
    #[arg(long, value_enum)]
    reset_password_required: Option<OnOff>,
    /// The customization script, from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "no_script")]
    script_file: Option<PathBuf>,
    /// Remove the customization script.
    #[arg(long)]
    no_script: bool,
    /// Also mark the VM to be customized at its next power on.
    #[arg(long)]
    at_next_power_on: bool,
}

/// The VM commands.
#[derive(Debug, Subcommand)]
pub(crate) enum VmSub {
    /// The VMs the user sees (of one vApp with --vapp), template VMs left out.
    List {
        /// Only the VMs of this vApp (name or id).
        #[arg(long)]
        vapp: Option<String>,
        /// Only the VMs of this vDC (name or id); with --vapp, where the vApp is looked up.
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: Option<String>,
    },
    /// One VM: hardware, NICs, disks, customization, snapshot, tools.
    Show(VmRef),
    /// Powers the VM on.
    PowerOn(VmRef),
    /// Powers the VM off, hard.
    PowerOff(VmRef),
    /// Shuts the guest down (needs guest tools).
    Shutdown(VmRef),
    /// Reboots the guest (needs guest tools).
    Reboot(VmRef),
    /// Suspends the VM.
    Suspend(VmRef),
    /// Resets the VM.
    Reset(VmRef),
    /// Discards the suspended state.
    DiscardSuspend(VmRef),
    /// Deploys the VM (powering it on unless --no-power-on).
    Deploy {
        #[command(flatten)]
        target: VmRef,
        #[command(flatten)]
        deploy: DeployArgs,
    },
    /// Undeploys the VM.
    Undeploy {
        #[command(flatten)]
        target: VmRef,
        /// What happens to the running VM.
        #[arg(long, value_enum, default_value_t = UndeployAction::Default)]
        action: UndeployAction,
    },
    /// Renames the VM (and sets its description).
    Rename {
        #[command(flatten)]
        target: VmRef,
        /// The new name.
        new_name: String,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Sets the virtual CPU count (and cores per socket).
    Cpu {
        #[command(flatten)]
        target: VmRef,
        /// The CPU count (at least 1).
        #[arg(allow_negative_numbers = true)]
        count: i64,
        /// Cores per socket; must divide the count [default: the VM's, when it divides, else 1]
        #[arg(long, allow_negative_numbers = true)]
        cores_per_socket: Option<i64>,
    },
    /// Sets the memory (a positive multiple of 4 MB).
    Memory {
        #[command(flatten)]
        target: VmRef,
        /// The memory in MB.
        #[arg(allow_negative_numbers = true)]
        mb: i64,
    },
    /// Hard disks: add, resize, remove.
    #[command(subcommand)]
    Disk(DiskSub),
    /// NICs: add, modify, remove.
    #[command(subcommand)]
    Nic(NicSub),
    /// CPU and memory hot add (changed while the VM is powered off).
    HotAdd {
        #[command(flatten)]
        target: VmRef,
        /// CPU hot add.
        #[arg(long, value_enum)]
        cpu: Option<OnOff>,
        /// Memory hot add.
        #[arg(long, value_enum)]
        memory: Option<OnOff>,
    },
    /// Guest customization: computer name, admin password, auto-logon, script.
    Customize(Box<CustomizeArgs>),
    /// The CD drive: insert or eject a media.
    #[command(subcommand)]
    Media(MediaSub),
    /// Snapshots: create, revert, remove-all.
    #[command(subcommand)]
    Snapshot(SnapshotSub),
    /// Metadata of the VM: get, set, remove.
    Metadata {
        #[command(flatten)]
        target: VmRef,
        #[command(subcommand)]
        sub: MetadataSub,
    },
    /// Deletes the VM from its vApp (vCD refuses a deployed VM unless --undeploy).
    Delete {
        #[command(flatten)]
        target: VmRef,
        /// Undeploy (power off) a deployed VM first.
        #[arg(long)]
        undeploy: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
}

impl VmSub {
    /// Whether the command reads a secret from standard input (`customize
    /// --admin-password-stdin`), which then cannot also give the login password.
    pub(crate) fn reads_stdin(&self) -> bool {
        matches!(self, VmSub::Customize(c) if c.admin_password_stdin)
    }

    /// Whether the command only reads (and so keeps the default deadline).
    pub(crate) fn is_read(&self) -> bool {
        matches!(
            self,
            VmSub::List { .. }
                | VmSub::Show(_)
                | VmSub::Metadata {
                    sub: MetadataSub::Get { .. },
                    ..
                }
        )
    }
}

// ----- views -----

/// A hard disk as printed.
#[derive(Debug, Serialize)]
struct DiskView {
    instance_id: Option<i64>,
    name: String,
    size_mb: Option<i64>,
    bus: String,
    bus_sub_type: Option<String>,
    storage_profile_href: Option<String>,
    unit: Option<i64>,
}

/// A NIC as printed.
#[derive(Debug, Serialize)]
struct NicView {
    index: Option<i64>,
    network: Option<String>,
    ip_mode: Option<String>,
    ip_address: Option<String>,
    mac_address: Option<String>,
    connected: Option<bool>,
    primary: bool,
    adapter: Option<String>,
}

/// Guest customization as printed (never the password itself).
#[derive(Debug, Serialize)]
struct CustomizationView {
    enabled: Option<bool>,
    computer_name: Option<String>,
    admin_password_enabled: Option<bool>,
    admin_password_auto: Option<bool>,
    admin_password_set: bool,
    auto_logon_count: Option<i64>,
    reset_password_required: Option<bool>,
    script: bool,
}

/// A snapshot as printed.
#[derive(Debug, Serialize)]
struct SnapshotView {
    created: Option<String>,
    size: Option<i64>,
    powered_on: Option<bool>,
}

/// A VM as printed.
#[derive(Debug, Serialize)]
struct VmView {
    name: String,
    id: Option<String>,
    href: Option<String>,
    vapp: Option<String>,
    status: String,
    deployed: Option<bool>,
    description: Option<String>,
    guest_os: Option<String>,
    cpus: Option<i64>,
    cores_per_socket: Option<i64>,
    memory_mb: Option<i64>,
    cpu_hot_add: bool,
    memory_hot_add: bool,
    tools: String,
    storage_profile: Option<String>,
    media: Option<String>,
    needs_customization: Option<bool>,
    disks: Vec<DiskView>,
    nics: Vec<NicView>,
    customization: Option<CustomizationView>,
    snapshot: Option<SnapshotView>,
}

fn bus_name(code: Option<&str>) -> String {
    match code {
        Some("5") => "ide".into(),
        Some("6") => "scsi".into(),
        Some("20") => "sata".into(),
        Some(other) => other.to_owned(),
        None => String::new(),
    }
}

fn tools_text(t: &ToolsStatus) -> String {
    match t {
        ToolsStatus::NotInstalled => "not installed".into(),
        ToolsStatus::NotRunning { version } => format!("not running ({version})"),
        ToolsStatus::Running { version } => format!("running ({version})"),
        _ => "unknown".into(),
    }
}

/// The media in the CD drive (the drive's host resource), when one is inserted.
fn inserted_media(vm: &Vm) -> Option<String> {
    vm.virtual_hardware_section()?
        .items_of(resource_type::CD_DRIVE)
        .filter_map(|i| i.host_resources.first())
        .map(|h| h.value.trim().to_owned())
        .find(|v| !v.is_empty())
}

impl VmView {
    fn of(vm: &Vm) -> Self {
        let (cpu_hot_add, memory_hot_add) = hot_add_of(vm);
        let primary = vm
            .network_connection_section()
            .and_then(|s| s.primary_network_connection_index);
        VmView {
            name: vm.name.clone().unwrap_or_default(),
            id: vm.id.clone(),
            href: vm.href.clone(),
            vapp: vm.vapp_parent.as_ref().and_then(|r| r.name.clone()),
            status: vm
                .status_typed()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            deployed: vm.deployed,
            description: vm.description.clone().filter(|d| !d.is_empty()),
            guest_os: vm
                .operating_system_section()
                .and_then(|o| o.description.as_ref())
                .map(|d| d.value.clone()),
            cpus: vm.cpu_count(),
            cores_per_socket: vm
                .virtual_hardware_section()
                .and_then(|h| h.cores_per_socket()),
            memory_mb: vm.memory_mb(),
            cpu_hot_add,
            memory_hot_add,
            tools: tools_text(&ToolsStatus::of(vm)),
            storage_profile: vm.storage_profile.as_ref().and_then(|r| r.name.clone()),
            media: inserted_media(vm),
            needs_customization: vm.needs_customization,
            disks: vm
                .disks()
                .into_iter()
                .map(|d| DiskView {
                    instance_id: d.instance_id,
                    name: d.name,
                    size_mb: d.size_mb,
                    bus: bus_name(d.bus_type.as_deref()),
                    bus_sub_type: d.bus_sub_type,
                    storage_profile_href: d.storage_profile_href,
                    unit: d.address_on_parent,
                })
                .collect(),
            nics: vm
                .network_connections()
                .iter()
                .map(|c| NicView {
                    index: c.network_connection_index,
                    network: c.network.clone(),
                    ip_mode: c.ip_address_allocation_mode.clone(),
                    ip_address: c.ip_address.clone(),
                    mac_address: c.mac_address.clone(),
                    connected: c.is_connected,
                    primary: primary.is_some() && primary == c.network_connection_index,
                    adapter: c.network_adapter_type.clone(),
                })
                .collect(),
            customization: vm.guest_customization_section().map(|g| CustomizationView {
                enabled: g.enabled,
                computer_name: g.computer_name.clone(),
                admin_password_enabled: g.admin_password_enabled,
                admin_password_auto: g.admin_password_auto,
                admin_password_set: g.admin_password.as_deref().is_some_and(|p| !p.is_empty()),
                auto_logon_count: g.admin_auto_logon_count,
                reset_password_required: g.reset_password_required,
                script: g
                    .customization_script
                    .as_deref()
                    .is_some_and(|s| !s.is_empty()),
            }),
            snapshot: vm.snapshot().map(|s| SnapshotView {
                created: s.created.clone(),
                size: s.size,
                powered_on: s.powered_on,
            }),
        }
    }

    fn text(&self) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        let c = self.customization.as_ref();
        let mut out = key_values(&[
            ("name", self.name.clone()),
            ("id", opt(&self.id)),
            ("vapp", opt(&self.vapp)),
            ("status", self.status.clone()),
            (
                "deployed",
                self.deployed.map(|d| d.to_string()).unwrap_or_default(),
            ),
            ("description", opt(&self.description)),
            ("guest os", opt(&self.guest_os)),
            (
                "cpus",
                format!(
                    "{} ({} per socket)",
                    num(self.cpus),
                    num(self.cores_per_socket)
                ),
            ),
            ("memory", format!("{} MB", num(self.memory_mb))),
            (
                "hot add",
                format!(
                    "cpu {}, memory {}",
                    if self.cpu_hot_add { "on" } else { "off" },
                    if self.memory_hot_add { "on" } else { "off" }
                ),
            ),
            ("guest tools", self.tools.clone()),
            ("storage profile", opt(&self.storage_profile)),
            ("media", opt(&self.media)),
            (
                "computer name",
                c.and_then(|c| c.computer_name.clone()).unwrap_or_default(),
            ),
            (
                "customization",
                c.map(|c| {
                    format!(
                        "{}{}{}",
                        if c.enabled == Some(true) {
                            "enabled"
                        } else {
                            "disabled"
                        },
                        match (c.admin_password_auto, c.admin_password_enabled) {
                            (Some(true), _) => ", admin password auto",
                            (_, Some(true)) => ", admin password set",
                            _ => "",
                        },
                        if c.script { ", script" } else { "" }
                    )
                })
                .unwrap_or_default(),
            ),
            (
                "snapshot",
                self.snapshot
                    .as_ref()
                    .map(|s| format!("{} ({} bytes)", opt(&s.created), num(s.size)))
                    .unwrap_or_else(|| "none".into()),
            ),
        ]);
        if !self.disks.is_empty() {
            let mut t = Table::new(["DISK", "NAME", "SIZE (MB)", "BUS", "UNIT"]);
            for d in &self.disks {
                t.row([
                    num(d.instance_id),
                    d.name.clone(),
                    num(d.size_mb),
                    format!("{}/{}", d.bus, opt(&d.bus_sub_type)),
                    num(d.unit),
                ]);
            }
            out.push('\n');
            out.push_str(&t.render());
        }
        if !self.nics.is_empty() {
            let mut t = Table::new([
                "NIC",
                "NETWORK",
                "MODE",
                "IP",
                "MAC",
                "CONNECTED",
                "PRIMARY",
            ]);
            for n in &self.nics {
                t.row([
                    num(n.index),
                    opt(&n.network),
                    opt(&n.ip_mode),
                    opt(&n.ip_address),
                    opt(&n.mac_address),
                    n.connected.map(|c| c.to_string()).unwrap_or_default(),
                    if n.primary { "yes" } else { "" }.to_owned(),
                ]);
            }
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    }
}

/// A VM of `vm list`.
#[derive(Debug, Serialize)]
struct VmRow {
    name: String,
    id: Option<String>,
    href: String,
    status: Option<String>,
    vapp: Option<String>,
    cpus: Option<i64>,
    memory_mb: Option<i64>,
    ip_address: Option<String>,
    guest_os: Option<String>,
}

async fn show_vm(h: &VmHandle, ctx: &Ctx) -> Result<(), Failure> {
    let vm = h
        .get()
        .await
        .map_err(|e| vcd_failure("reading the VM", e))?;
    let mut v = VmView::of(&vm);
    if v.vapp.is_none() {
        // The VM names its vApp only by its up link.
        let up = vm.links.iter().find(|l| {
            l.rel.as_deref() == Some("up")
                && l.type_.as_deref().is_some_and(|t| t.contains("vApp+xml"))
        });
        if let Some(href) = up.and_then(|l| l.href.as_deref()) {
            let vapp: nebulair_vcloud::model::vcd::VApp = h
                .workloads()
                .get_document(href)
                .await
                .during("reading the VM's vApp")?;
            v.vapp = vapp.name;
        }
    }
    ctx.printer.print(&v, || v.text()).map_err(io_failure)
}

fn invalid(action: &str, msg: String) -> Failure {
    Failure::new(action, Error::invalid_input(msg))
}

fn ip_allocation(
    mode: Option<IpMode>,
    ip: Option<std::net::IpAddr>,
) -> Result<Option<IpAllocation>, Failure> {
    let action = "reading --ip-mode";
    Ok(match (mode, ip) {
        (None, None) => None,
        (None | Some(IpMode::Manual), Some(ip)) => Some(IpAllocation::Manual(ip)),
        (Some(IpMode::Manual), None) => {
            return Err(invalid(action, "--ip-mode manual needs --ip".into()));
        }
        (Some(m), Some(_)) => {
            return Err(invalid(
                action,
                format!("--ip goes with --ip-mode manual, not {m:?}").to_lowercase(),
            ));
        }
        (Some(IpMode::Dhcp), None) => Some(IpAllocation::Dhcp),
        (Some(IpMode::Pool), None) => Some(IpAllocation::Pool),
        (Some(IpMode::None), None) => Some(IpAllocation::None),
    })
}

/// The InstanceID of a disk named by id or by name (`Hard disk 1`).
async fn disk_id(h: &VmHandle, disk: &str) -> Result<i64, Failure> {
    if let Ok(id) = disk.trim().parse::<i64>() {
        return Ok(id);
    }
    let vm = h
        .get()
        .await
        .map_err(|e| vcd_failure("reading the VM", e))?;
    let disks = vm.disks();
    let found: Vec<i64> = disks
        .iter()
        .filter(|d| d.name.eq_ignore_ascii_case(disk.trim()))
        .filter_map(|d| d.instance_id)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Failure::new(
            "finding the disk",
            Error::new(
                nebulair_core::ErrorKind::NotFound,
                format!(
                    "the VM has no disk {disk:?} (its disks: {})",
                    disks
                        .iter()
                        .map(|d| format!(
                            "{} {}",
                            d.instance_id.map(|i| i.to_string()).unwrap_or_default(),
                            d.name
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        )),
        many => Err(invalid(
            "finding the disk",
            format!(
                "{} disks are named {disk:?}; use the InstanceID",
                many.len()
            ),
        )),
    }
}

/// The href of a media: a catalog item's entity, an href, or an id.
async fn media_href(
    ws: &Workloads,
    client: &VcdClient,
    media: &str,
    catalog: Option<&str>,
) -> Result<String, Failure> {
    if let Some(c) = catalog {
        let item = ws
            .catalog(c)
            .item(media)
            .get()
            .await
            .during(format!("finding media {media} in catalog {c}"))?;
        let entity = item.entity.as_deref();
        let is_media = entity
            .and_then(|e| e.type_.as_deref())
            .is_some_and(|t| t.contains("media+xml"));
        return match entity.and_then(|e| e.href.clone()) {
            Some(h) if is_media => Ok(h),
            _ => Err(invalid(
                "finding the media",
                format!("catalog item {media:?} of {c:?} is not a media"),
            )),
        };
    }
    match Locator::parse(media) {
        Locator::Href(h) => Ok(h),
        Locator::Id(id) => {
            let id: VcdId = id
                .expect_kind(EntityKind::Media)
                .during("reading the media id")?;
            let base = client
                .org_info()
                .vcdurl()
                .as_str()
                .trim_end_matches('/')
                .to_owned();
            Ok(format!("{base}/{}", EntityKind::Media.path_for(&id.uuid())))
        }
        _ => Err(invalid(
            "finding the media",
            format!("{media:?} is a name: give its catalog with --catalog, or a media id"),
        )),
    }
}

fn read_script(path: &PathBuf) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::from(e).context(path.display()))
        .during("reading --script-file")
}

/// Runs `pending` and shows the VM read again after it (unless `--no-wait`).
async fn change(
    h: &VmHandle,
    pending: Pending,
    what: String,
    args: &TaskArgs,
    ctx: &Ctx,
) -> Result<(), Failure> {
    if run_task(h.workloads(), pending, &what, args, ctx)
        .await?
        .is_some()
    {
        show_vm(h, ctx).await?;
    }
    Ok(())
}

/// Runs a VM command.
pub(crate) async fn vm(
    sub: VmSub,
    client: &VcdClient,
    args: &TaskArgs,
    ctx: Ctx,
) -> Result<(), Failure> {
    let p = ctx.printer;
    let ws = args.workloads(client, &ctx)?;
    match sub {
        VmSub::List { vapp, vdc } => {
            let container = match &vapp {
                Some(a) => Some(
                    vapp_handle(&ws, a, vdc.as_deref())
                        .href()
                        .await
                        .during("finding the vApp")?,
                ),
                None => None,
            };
            let vdc_href = match (&vapp, &vdc) {
                (None, Some(v)) => Some(ws.vdc(v.as_str()).href().await.during("finding the vDC")?),
                _ => None,
            };
            let tail = |s: &str| {
                s.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .map(str::to_owned)
            };
            let records: Vec<VmRecord> = Query::new(QueryType::Vm)
                .sort_asc("name")
                .stream_typed(client)
                .try_collect()
                .await
                .during("listing the VMs")?;
            let rows: Vec<VmRow> = records
                .into_iter()
                .filter(|r| r.is_vapp_template != Some(true))
                .filter(|r| match &container {
                    Some(c) => r.container.as_deref().and_then(tail) == tail(c),
                    None => true,
                })
                .filter(|r| match &vdc_href {
                    Some(v) => r.vdc.as_deref().and_then(tail) == tail(v),
                    None => true,
                })
                .map(|r| VmRow {
                    name: r.name.clone().unwrap_or_default(),
                    id: r.uuid().map(|u| format!("urn:vcloud:vm:{u}")),
                    href: r.href.clone(),
                    status: r.status.clone(),
                    vapp: r.container_name.clone(),
                    cpus: r.number_of_cpus,
                    memory_mb: r.memory_mb,
                    ip_address: r.ip_address.clone(),
                    guest_os: r.guest_os.clone(),
                })
                .collect();
            p.print(&rows, || {
                let mut t =
                    Table::new(["NAME", "STATUS", "VAPP", "CPUS", "MEMORY (MB)", "IP", "ID"]);
                for r in &rows {
                    t.row([
                        r.name.clone(),
                        r.status.clone().unwrap_or_default(),
                        r.vapp.clone().unwrap_or_default(),
                        r.cpus.map(|c| c.to_string()).unwrap_or_default(),
                        r.memory_mb.map(|c| c.to_string()).unwrap_or_default(),
                        r.ip_address.clone().unwrap_or_default(),
                        r.id.clone().unwrap_or_default(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)?;
            p.note(&crate::commands::vcloud::count(rows.len(), "VM"));
            Ok(())
        }
        VmSub::Show(t) => show_vm(&t.handle(&ws)?, &ctx).await,
        VmSub::PowerOn(t) => {
            let h = t.handle(&ws)?;
            change(
                &h,
                h.power_on(),
                format!("powering on VM {}", t.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::PowerOff(t) => {
            let h = t.handle(&ws)?;
            change(
                &h,
                h.power_off(),
                format!("powering off VM {}", t.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Shutdown(t) => {
            let h = t.handle(&ws)?;
            change(
                &h,
                h.shutdown(),
                format!("shutting down VM {}", t.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Reboot(t) => {
            let h = t.handle(&ws)?;
            change(&h, h.reboot(), format!("rebooting VM {}", t.vm), args, &ctx).await
        }
        VmSub::Suspend(t) => {
            let h = t.handle(&ws)?;
            change(
                &h,
                h.suspend(),
                format!("suspending VM {}", t.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Reset(t) => {
            let h = t.handle(&ws)?;
            change(&h, h.reset(), format!("resetting VM {}", t.vm), args, &ctx).await
        }
        VmSub::DiscardSuspend(t) => {
            let h = t.handle(&ws)?;
            change(
                &h,
                h.discard_suspended_state(),
                format!("discarding the suspended state of VM {}", t.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Deploy { target, deploy } => {
            let options = deploy.options()?;
            let h = target.handle(&ws)?;
            change(
                &h,
                h.deploy(options),
                format!("deploying VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Undeploy { target, action } => {
            let h = target.handle(&ws)?;
            change(
                &h,
                h.undeploy(action.library()),
                format!("undeploying VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Rename {
            target,
            new_name,
            description,
        } => {
            if new_name.trim().is_empty() {
                return Err(invalid("renaming the VM", "the new name is empty".into()));
            }
            let h = target.handle(&ws)?;
            change(
                &h,
                h.update(Some(new_name.clone()), description),
                format!("renaming VM {} to {new_name}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Cpu {
            target,
            count,
            cores_per_socket,
        } => {
            let h = target.handle(&ws)?;
            let cores = match cores_per_socket {
                Some(c) => c,
                None if count >= 1 => {
                    let now = h
                        .get()
                        .await
                        .map_err(|e| vcd_failure("reading the VM", e))?
                        .virtual_hardware_section()
                        .and_then(|s| s.cores_per_socket())
                        .unwrap_or(1);
                    if now >= 1 && count % now == 0 { now } else { 1 }
                }
                None => 1,
            };
            change(
                &h,
                h.set_cpu(count, cores),
                format!("setting the CPUs of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Memory { target, mb } => {
            let h = target.handle(&ws)?;
            change(
                &h,
                h.set_memory_mb(mb),
                format!("setting the memory of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Disk(DiskSub::Add {
            target,
            size_mb,
            bus,
            bus_sub_type,
            storage_profile,
        }) => {
            let h = target.handle(&ws)?;
            let mut spec = DiskSpec::new(size_mb).bus(match bus {
                Bus::Scsi => BusType::Scsi,
                Bus::Ide => BusType::Ide,
                Bus::Sata => BusType::Sata,
            });
            if let Some(s) = bus_sub_type {
                spec = spec.bus_sub_type(s);
            }
            if let Some(s) = storage_profile {
                let vdc = h
                    .vdc()
                    .await
                    .map_err(|e| vcd_failure("finding the VM's vDC", e))?;
                crate::commands::vcloud_vapp::check_storage_profile(&vdc, &s).await?;
                spec = spec.storage_profile(s);
            }
            change(
                &h,
                h.add_disk(spec),
                format!("adding a disk to VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Disk(DiskSub::Resize {
            target,
            disk,
            size_mb,
        }) => {
            let h = target.handle(&ws)?;
            let id = disk_id(&h, &disk).await?;
            change(
                &h,
                h.resize_disk(id, size_mb),
                format!("resizing disk {disk} of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Disk(DiskSub::Remove { target, disk }) => {
            let h = target.handle(&ws)?;
            let id = disk_id(&h, &disk).await?;
            change(
                &h,
                h.remove_disk(id),
                format!("removing disk {disk} of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Nic(NicSub::Add {
            target,
            network,
            ip_mode,
            ip,
            primary,
            disconnected,
            adapter,
        }) => {
            let alloc = ip_allocation(ip_mode, ip)?.unwrap_or(IpAllocation::Pool);
            let mut spec = NicSpec::new(network, alloc).connected(!disconnected);
            if primary {
                spec = spec.primary();
            }
            if let Some(a) = adapter {
                spec = spec.adapter_type(a);
            }
            let h = target.handle(&ws)?;
            change(
                &h,
                h.add_nic(spec),
                format!("adding a NIC to VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Nic(NicSub::Modify {
            target,
            index,
            network,
            ip_mode,
            ip,
            primary,
            connected,
        }) => {
            let update = NicUpdate {
                network,
                ip: ip_allocation(ip_mode, ip)?,
                primary: primary.then_some(true),
                connected: connected.map(OnOff::get),
            };
            if update == NicUpdate::default() {
                return Err(invalid(
                    "changing the NIC",
                    "nothing to change: give --network, --ip-mode, --ip, --primary or --connected"
                        .into(),
                ));
            }
            let h = target.handle(&ws)?;
            change(
                &h,
                h.modify_nic(index, update),
                format!("changing NIC {index} of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Nic(NicSub::Remove { target, index }) => {
            let h = target.handle(&ws)?;
            change(
                &h,
                h.remove_nic(index),
                format!("removing NIC {index} of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::HotAdd {
            target,
            cpu,
            memory,
        } => {
            if cpu.is_none() && memory.is_none() {
                return Err(invalid(
                    "changing hot add",
                    "nothing to change: give --cpu and/or --memory".into(),
                ));
            }
            let h = target.handle(&ws)?;
            change(
                &h,
                h.set_hot_add(cpu.map(OnOff::get), memory.map(OnOff::get)),
                format!("changing hot add of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Customize(c) => customize(*c, &ws, args, &ctx).await,
        VmSub::Media(MediaSub::Insert {
            target,
            media,
            catalog,
        }) => {
            let href = media_href(&ws, client, &media, catalog.as_deref()).await?;
            let h = target.handle(&ws)?;
            change(
                &h,
                h.insert_media(href),
                format!("inserting {media} into VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Media(MediaSub::Eject {
            target,
            media,
            catalog,
        }) => {
            let href = media_href(&ws, client, &media, catalog.as_deref()).await?;
            let h = target.handle(&ws)?;
            change(
                &h,
                h.eject_media(href),
                format!("ejecting {media} from VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Snapshot(SnapshotSub::Create {
            target,
            memory,
            quiesce,
            name,
        }) => {
            let h = target.handle(&ws)?;
            let options = SnapshotOptions {
                memory,
                quiesce,
                name,
            };
            change(
                &h,
                h.create_snapshot(&options),
                format!("creating a snapshot of VM {}", target.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Snapshot(SnapshotSub::Revert(t)) => {
            let h = t.handle(&ws)?;
            change(
                &h,
                h.revert_to_current_snapshot(),
                format!("reverting VM {} to its snapshot", t.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Snapshot(SnapshotSub::RemoveAll(t)) => {
            let h = t.handle(&ws)?;
            change(
                &h,
                h.remove_all_snapshots(),
                format!("removing the snapshots of VM {}", t.vm),
                args,
                &ctx,
            )
            .await
        }
        VmSub::Metadata { target, sub } => {
            metadata(sub, Entity::Vm(target.handle(&ws)?), args, ctx).await
        }
        VmSub::Delete {
            target,
            undeploy,
            confirm,
        } => {
            let h = target.handle(&ws)?;
            let vm = h
                .get()
                .await
                .map_err(|e| vcd_failure("reading the VM", e))?;
            let name = vm.name.clone().unwrap_or_default();
            let id = vm.id.clone().unwrap_or_default();
            let vapp = vm
                .vapp_parent
                .as_ref()
                .and_then(|r| r.name.clone())
                .unwrap_or_default();
            let deployed = vm.deployed == Some(true);
            let mut plan = Vec::new();
            if undeploy && deployed {
                plan.push(format!("undeploy VM {name} ({id})"));
            }
            plan.push(format!("delete VM {name} ({id}) of vApp {vapp}"));
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            if undeploy && deployed {
                let wait = TaskArgs {
                    no_wait: false,
                    ..args.clone()
                };
                run_task(
                    &ws,
                    h.undeploy(nebulair_vcloud::workload::UndeployPowerAction::PowerOff),
                    &format!("undeploying VM {name}"),
                    &wait,
                    &ctx,
                )
                .await?;
            }
            let done = run_task(&ws, h.delete(), &format!("deleting VM {name}"), args, &ctx)
                .await
                .map_err(|f| {
                    if deployed && !undeploy {
                        f.hint("the VM is deployed: add --undeploy to power it off first")
                    } else {
                        f
                    }
                })?;
            if done.is_some() {
                p.print(&serde_json::json!({ "deleted": name, "id": id }), || {
                    format!("deleted VM {name}\n")
                })
                .map_err(io_failure)?;
            }
            Ok(())
        }
    }
}

/// `vm customize`: changes the customization section, then (when asked) marks the VM
/// for customization at its next power on.
async fn customize(
    c: CustomizeArgs,
    ws: &Workloads,
    args: &TaskArgs,
    ctx: &Ctx,
) -> Result<(), Failure> {
    let admin_password = if c.admin_password_stdin {
        Some(AdminPassword::Set(
            read_secret_stdin().during("reading the admin password from stdin")?,
        ))
    } else if let Some(f) = &c.admin_password_file {
        Some(AdminPassword::Set(
            read_secret_file(f).during("reading --admin-password-file")?,
        ))
    } else if c.admin_password_auto {
        Some(AdminPassword::Auto)
    } else if c.no_admin_password {
        Some(AdminPassword::Disabled)
    } else {
        None
    };
    if let Some(AdminPassword::Set(p)) = &admin_password
        && p.expose_secret().is_empty()
    {
        return Err(invalid(
            "reading the admin password",
            "the password is empty".into(),
        ));
    }
    let script = match (&c.script_file, c.no_script) {
        (Some(f), _) => Some(read_script(f)?),
        (None, true) => Some(String::new()),
        (None, false) => None,
    };
    let changes = GuestCustomization {
        enabled: if c.enable {
            Some(true)
        } else if c.disable {
            Some(false)
        } else {
            None
        },
        computer_name: c.computer_name.clone(),
        admin_password,
        auto_logon_count: c.auto_logon,
        reset_password_required: c.reset_password_required.map(OnOff::get),
        script,
    };
    let anything = changes.enabled.is_some()
        || changes.computer_name.is_some()
        || changes.admin_password.is_some()
        || changes.auto_logon_count.is_some()
        || changes.reset_password_required.is_some()
        || changes.script.is_some();
    if !anything && !c.at_next_power_on {
        return Err(invalid(
            "customizing the VM",
            "nothing to change: see `vm customize --help`".into(),
        ));
    }
    let h = c.target.handle(ws)?;
    let what = format!("customizing VM {}", c.target.vm);
    if anything {
        let done = run_task(ws, h.set_guest_customization(changes), &what, args, ctx).await?;
        if done.is_none() {
            // --no-wait: the task is printed; marking now would meet BUSY_ENTITY.
            if c.at_next_power_on {
                ctx.printer
                    .note("not marked for customization at next power on (--no-wait)");
            }
            return Ok(());
        }
    }
    if c.at_next_power_on {
        h.customize_at_next_power_on()
            .await
            .during("marking the VM for customization at its next power on")?;
    }
    show_vm(&h, ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_modes_and_addresses() {
        let ip: std::net::IpAddr = "10.0.0.5".parse().expect("ip");
        assert_eq!(ip_allocation(None, None).expect("none"), None);
        assert_eq!(
            ip_allocation(None, Some(ip)).expect("manual"),
            Some(IpAllocation::Manual(ip))
        );
        assert_eq!(
            ip_allocation(Some(IpMode::Dhcp), None).expect("dhcp"),
            Some(IpAllocation::Dhcp)
        );
        assert!(ip_allocation(Some(IpMode::Manual), None).is_err());
        assert!(ip_allocation(Some(IpMode::Pool), Some(ip)).is_err());
    }

    #[test]
    fn bus_names() {
        assert_eq!(bus_name(Some("6")), "scsi");
        assert_eq!(bus_name(Some("20")), "sata");
        assert_eq!(bus_name(Some("99")), "99");
        assert_eq!(bus_name(None), "");
    }
}
