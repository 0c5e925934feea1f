//! vCD workloads: vApps and VMs (documents with their sections, power state machine,
//! deploy/undeploy, instantiate, compose, recompose, delete, rename, owner, metadata,
//! snapshots, guest customization, media, hardware reconfiguration), catalogs, catalog
//! items, vApp templates and media.
//!
//! Rules as vCD applies them: a refused operation is an `Error` document (400
//! `BAD_REQUEST` for a state that does not allow it, 400 `BUSY_ENTITY` while another task
//! works on the vApp or VM, 403 `ACCESS_TO_RESOURCE_IS_FORBIDDEN` for an unknown id);
//! changes become visible when their task succeeds; the vDC's CPU and memory allocation
//! is checked when VMs power on, its storage when disks are created.

// Handlers answer refusals as ready `Response`s, which are large; the seed table is a
// literal of tuples.
#![allow(clippy::result_large_err, clippy::type_complexity)]

use std::sync::Arc;

use axum::response::Response;
use http::{Method, StatusCode};
use uuid::Uuid;

use super::common::{Ctx, parse_id, respond, unauthorized, vcd_error, vcd_xml};
use super::state::{
    Customization, Disk, Effect, Meta, Nic, Power, Snapshot, State, TaskPhase, Template,
    TemplateVm, Token, VApp, Vm, WorkloadFn,
};
use super::vcd::task_accepted;
use super::xml::{self as x, Element, NS_VCLOUD, attrs, esc, link};

const NS_OVF: &str = "http://schemas.dmtf.org/ovf/envelope/1";
const NS_RASD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData";
const NS_VSSD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData";
const NS_VMW: &str = "http://www.vmware.com/schema/ovf";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// MHz one vCPU counts for in the vDC's CPU allocation.
pub(crate) const MHZ_PER_VCPU: u64 = 1000;
/// The vDCs' CPU allocation (MHz).
pub(crate) const CPU_LIMIT_MHZ: u64 = 16_000;
/// The vDCs' memory allocation (MB).
pub(crate) const MEMORY_LIMIT_MB: u64 = 65_536;
/// The vDCs' storage allocation (MB).
pub(crate) const STORAGE_LIMIT_MB: u64 = 1_048_576;

const MT_VAPP: &str = "application/vnd.vmware.vcloud.vApp+xml";
const MT_VM: &str = "application/vnd.vmware.vcloud.vm+xml";
const MT_TASK_OWNER_VAPP: &str = MT_VAPP;

fn root_ns() -> String {
    format!(
        " xmlns=\"{NS_VCLOUD}\" xmlns:vcloud=\"{NS_VCLOUD}\" xmlns:ovf=\"{NS_OVF}\" xmlns:rasd=\"{NS_RASD}\" xmlns:vssd=\"{NS_VSSD}\" xmlns:vmw=\"{NS_VMW}\" xmlns:xsi=\"{NS_XSI}\""
    )
}

// ---------------------------------------------------------------------------------------------
// Construction and seed data

/// What a new VM is made of.
pub(crate) struct VmSeed<'a> {
    pub(crate) id: Uuid,
    pub(crate) vapp: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: &'a str,
    pub(crate) power: Power,
    pub(crate) guest_os: &'a str,
    pub(crate) cpus: u32,
    pub(crate) memory_mb: u32,
    pub(crate) ip: &'a str,
    pub(crate) network: &'a str,
    pub(crate) disk_mb: u64,
}

fn mac(id: Uuid) -> String {
    let b = id.as_bytes();
    format!("00:50:56:{:02x}:{:02x}:{:02x}", b[13], b[14], b[15])
}

fn os_type(guest_os: &str) -> &'static str {
    if guest_os.starts_with("Ubuntu") {
        "ubuntu64Guest"
    } else if guest_os.starts_with("Microsoft") {
        "windows9Server64Guest"
    } else {
        "centos64Guest"
    }
}

/// A VM with one SCSI disk, one NIC and customization enabled.
pub(crate) fn new_vm(s: VmSeed<'_>) -> Vm {
    Vm {
        id: s.id,
        vapp: s.vapp,
        vdc: s.vdc,
        name: s.name.to_owned(),
        power: s.power,
        guest_os: s.guest_os.to_owned(),
        cpus: s.cpus,
        memory_mb: s.memory_mb,
        ip: s.ip.to_owned(),
        network: s.network.to_owned(),
        description: String::new(),
        cores_per_socket: 1,
        disks: vec![Disk {
            instance_id: 2000,
            size_mb: s.disk_mb,
            bus_type: 6,
            bus_sub_type: "VirtualSCSI".into(),
            unit: 0,
        }],
        nics: vec![Nic {
            index: 0,
            network: s.network.to_owned(),
            mode: if s.ip.is_empty() { "DHCP" } else { "POOL" }.into(),
            ip: s.ip.to_owned(),
            mac: mac(s.id),
            connected: true,
            adapter: "VMXNET3".into(),
        }],
        customization: Customization {
            enabled: true,
            computer_name: computer_name(s.name),
            admin_password_enabled: true,
            admin_password_auto: true,
            ..Customization::default()
        },
        needs_customization: false,
        metadata: Vec::new(),
        snapshot: None,
        storage_profile: "*".into(),
        media: None,
        deployed: s.power == Power::On || s.power == Power::Suspended,
        cpu_hot_add: false,
        memory_hot_add: true,
        os_type: os_type(s.guest_os).into(),
        customized_count: 0,
    }
}

/// A computer name from a VM name (letters, digits and `-`, at most 15 characters).
fn computer_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(15)
        .collect();
    if s.is_empty() { "vm".into() } else { s }
}

/// A vApp record.
pub(crate) fn new_vapp(
    id: Uuid,
    vdc: Uuid,
    name: &str,
    power: Power,
    deployed: bool,
    created: &str,
) -> VApp {
    VApp {
        id,
        vdc,
        name: name.to_owned(),
        power,
        created: created.to_owned(),
        description: String::new(),
        deployed,
        owner: "admin".into(),
        metadata: Vec::new(),
        networks: vec!["default-routed".into()],
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

fn auth(ctx: &Ctx<'_>) -> Result<Token, Response> {
    ctx.vcd_token().ok_or_else(|| unauthorized(ctx))
}

fn forbidden(ctx: &Ctx<'_>, what: &str) -> Response {
    vcd_error(
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        &format!("No access to entity \"{what}\"."),
        &ctx.version,
    )
}

fn bad(ctx: &Ctx<'_>, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg, &ctx.version)
}

fn busy(ctx: &Ctx<'_>, what: &str, name: &str) -> Response {
    vcd_error(
        StatusCode::BAD_REQUEST,
        "BUSY_ENTITY",
        &format!("The entity {what} \"{name}\" is busy completing an operation."),
        &ctx.version,
    )
}

/// Whether a running task keeps one of these entities busy.
fn entity_busy(st: &State, ids: &[Uuid], now: std::time::Instant) -> bool {
    st.unsettled.iter().any(|t| {
        st.tasks.get(t).is_some_and(|t| {
            t.entities.iter().any(|e| ids.contains(e))
                && matches!(t.phase(now), TaskPhase::Queued | TaskPhase::Running(_))
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Lookups

/// A vApp or VM addressed by a path segment (`vapp-<uuid>` / `vm-<uuid>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    VApp(Uuid),
    Vm(Uuid),
}

fn target(st: &State, seg: &str) -> Option<Target> {
    if let Some(u) = seg
        .strip_prefix("vm-")
        .and_then(|s| Uuid::parse_str(s).ok())
    {
        return st.vms.iter().any(|v| v.id == u).then_some(Target::Vm(u));
    }
    let u = parse_id(seg, "vapp")?;
    st.vapps
        .iter()
        .any(|a| a.id == u)
        .then_some(Target::VApp(u))
}

fn vm_of(st: &State, id: Uuid) -> Option<&Vm> {
    st.vms.iter().find(|v| v.id == id)
}

fn vm_mut(st: &mut State, id: Uuid) -> Option<&mut Vm> {
    st.vms.iter_mut().find(|v| v.id == id)
}

fn vapp_mut(st: &mut State, id: Uuid) -> Option<&mut VApp> {
    st.vapps.iter_mut().find(|a| a.id == id)
}

/// The entities a task on `t` keeps busy: the vApp and all its VMs, or the VM and its vApp.
fn busy_set(st: &State, t: Target) -> Vec<Uuid> {
    match t {
        Target::VApp(a) => {
            let mut v = vec![a];
            v.extend(st.vms.iter().filter(|m| m.vapp == a).map(|m| m.id));
            v
        }
        Target::Vm(m) => {
            let mut v = vec![m];
            if let Some(vm) = vm_of(st, m) {
                v.push(vm.vapp);
            }
            v
        }
    }
}

fn owner_of(st: &State, t: Target) -> (String, String, String) {
    match t {
        Target::VApp(a) => (
            format!("/api/vApp/vapp-{a}"),
            st.vapps
                .iter()
                .find(|x| x.id == a)
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            MT_TASK_OWNER_VAPP.into(),
        ),
        Target::Vm(m) => (
            format!("/api/vApp/vm-{m}"),
            vm_of(st, m).map(|v| v.name.clone()).unwrap_or_default(),
            MT_VM.into(),
        ),
    }
}

fn kind_name(st: &State, t: Target) -> (&'static str, String) {
    let (_, name, _) = owner_of(st, t);
    match t {
        Target::VApp(_) => ("vApp", name),
        Target::Vm(_) => ("VM", name),
    }
}

/// Starts a task that applies `ok` when it succeeds.
fn start_task(
    ctx: &Ctx<'_>,
    st: &mut State,
    t: Target,
    op_name: &str,
    operation: String,
    ok: impl Fn(&mut State) + Send + Sync + 'static,
    failed: Option<WorkloadFn>,
) -> Response {
    let owner = owner_of(st, t);
    let entities = busy_set(st, t);
    let id = st.new_task(
        op_name,
        operation,
        owner,
        Effect::Workload {
            ok: WorkloadFn(Arc::new(ok)),
            failed,
        },
        &ctx.prefix,
        None,
        None,
    );
    if let Some(task) = st.tasks.get_mut(&id) {
        task.entities = entities;
    }
    task_accepted(ctx, st, id)
}

// ---------------------------------------------------------------------------------------------
// Capacity

/// (CPU MHz, memory MB) used by the powered-on VMs of a vDC, and storage MB of all its VMs.
pub(crate) fn vdc_usage(st: &State, vdc: Uuid) -> (u64, u64, u64) {
    let mut cpu = 0;
    let mut mem = 0;
    let mut disk = 0;
    for v in st.vms.iter().filter(|v| v.vdc == vdc) {
        if v.power == Power::On || v.power == Power::Suspended {
            cpu += u64::from(v.cpus) * MHZ_PER_VCPU;
            mem += u64::from(v.memory_mb);
        }
        disk += v.disks.iter().map(|d| d.size_mb).sum::<u64>();
    }
    (cpu, mem, disk)
}

/// Refuses powering on `vms` (not yet running) when the vDC would exceed its allocation.
fn check_power_on(ctx: &Ctx<'_>, st: &State, vms: &[Uuid]) -> Result<(), Response> {
    let Some(first) = vms.first().and_then(|v| vm_of(st, *v)) else {
        return Ok(());
    };
    let (cpu, mem, _) = vdc_usage(st, first.vdc);
    let mut add_cpu = 0;
    let mut add_mem = 0;
    for v in vms.iter().filter_map(|v| vm_of(st, *v)) {
        if v.power != Power::On {
            add_cpu += u64::from(v.cpus) * MHZ_PER_VCPU;
            add_mem += u64::from(v.memory_mb);
        }
    }
    if cpu + add_cpu > CPU_LIMIT_MHZ {
        return Err(bad(
            ctx,
            &format!(
                "The operation would exceed the vDC's CPU allocation: {} MHz used, {add_cpu} MHz requested, {CPU_LIMIT_MHZ} MHz allocated.",
                cpu
            ),
        ));
    }
    if mem + add_mem > MEMORY_LIMIT_MB {
        return Err(bad(
            ctx,
            &format!(
                "The operation would exceed the vDC's memory allocation: {mem} MB used, {add_mem} MB requested, {MEMORY_LIMIT_MB} MB allocated."
            ),
        ));
    }
    Ok(())
}

fn check_storage(ctx: &Ctx<'_>, st: &State, vdc: Uuid, add_mb: u64) -> Result<(), Response> {
    let (_, _, used) = vdc_usage(st, vdc);
    if used + add_mb > STORAGE_LIMIT_MB {
        return Err(bad(
            ctx,
            &format!(
                "The operation would exceed the vDC's storage allocation: {used} MB used, {add_mb} MB requested, {STORAGE_LIMIT_MB} MB allocated."
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn a(pairs: &[(&str, &str)]) -> String {
    attrs(pairs)
}

fn meta_links(base: &str, path: &str) -> String {
    link(
        "down",
        &format!("{base}{path}/metadata"),
        Some("application/vnd.vmware.vcloud.metadata+xml"),
        None,
    )
}

fn rasd(fields: &[(&str, String)], extra: &str) -> String {
    let mut out = String::from("<ovf:Item>");
    for (k, v) in fields {
        if k.starts_with('<') {
            out.push_str(v);
        } else {
            out.push_str(&format!("<rasd:{k}>{}</rasd:{k}>", esc(v)));
        }
    }
    out.push_str(extra);
    out.push_str("</ovf:Item>");
    out
}

fn cpu_item(vm: &Vm) -> String {
    rasd(
        &[
            ("AllocationUnits", "hertz * 10^6".into()),
            ("Description", "Number of Virtual CPUs".into()),
            ("ElementName", format!("{} virtual CPU(s)", vm.cpus)),
            ("InstanceID", "4".into()),
            ("Reservation", "0".into()),
            ("ResourceType", "3".into()),
            ("VirtualQuantity", vm.cpus.to_string()),
            ("Weight", "0".into()),
        ],
        &format!(
            "<vmw:CoresPerSocket ovf:required=\"false\">{}</vmw:CoresPerSocket>",
            vm.cores_per_socket
        ),
    )
}

fn memory_item(vm: &Vm) -> String {
    rasd(
        &[
            ("AllocationUnits", "byte * 2^20".into()),
            ("Description", "Memory Size".into()),
            ("ElementName", format!("{} MB of memory", vm.memory_mb)),
            ("InstanceID", "5".into()),
            ("Reservation", "0".into()),
            ("ResourceType", "4".into()),
            ("VirtualQuantity", vm.memory_mb.to_string()),
            ("Weight", "0".into()),
        ],
        "",
    )
}

fn disk_items(base: &str, vm: &Vm) -> String {
    let mut out = String::new();
    let mut controllers: Vec<u32> = vm.disks.iter().map(|d| d.bus_type).collect();
    controllers.sort_unstable();
    controllers.dedup();
    for bus in &controllers {
        let (sub, desc) = match bus {
            5 => ("", "IDE Controller"),
            20 => ("vmware.sata.ahci", "SATA Controller"),
            _ => ("VirtualSCSI", "SCSI Controller"),
        };
        let mut f = vec![
            ("Address", "0".to_owned()),
            ("Description", desc.to_owned()),
            ("ElementName", format!("{desc} 0")),
            ("InstanceID", format!("{}", 100 + bus)),
        ];
        if !sub.is_empty() {
            f.push(("ResourceSubType", sub.into()));
        }
        f.push(("ResourceType", bus.to_string()));
        out.push_str(&rasd(&f, ""));
    }
    for d in &vm.disks {
        let host = format!(
            "<rasd:HostResource{}/>",
            a(&[
                ("vcloud:capacity", &d.size_mb.to_string()),
                ("vcloud:busSubType", &d.bus_sub_type),
                ("vcloud:busType", &d.bus_type.to_string()),
                (
                    "vcloud:storageProfileHref",
                    &format!(
                        "{base}/api/vdcStorageProfile/{}",
                        storage_profile_id(vm.vdc)
                    ),
                ),
            ])
        );
        out.push_str(&rasd(
            &[
                ("AddressOnParent", d.unit.to_string()),
                ("Description", "Hard disk".into()),
                ("ElementName", format!("Hard disk {}", d.instance_id - 1999)),
                ("<HostResource", host),
                ("InstanceID", d.instance_id.to_string()),
                ("Parent", format!("{}", 100 + d.bus_type)),
                ("ResourceType", "17".into()),
                ("VirtualQuantity", (d.size_mb * 1024 * 1024).to_string()),
                ("VirtualQuantityUnits", "byte".into()),
            ],
            "",
        ));
    }
    out
}

fn nic_items(vm: &Vm) -> String {
    let mut out = String::new();
    let primary = vm.nics.first().map(|n| n.index);
    for n in &vm.nics {
        let mut conn_attrs: Vec<(&str, &str)> = vec![("vcloud:ipAddressingMode", &n.mode)];
        if !n.ip.is_empty() {
            conn_attrs.push(("vcloud:ipAddress", &n.ip));
        }
        let prim = if Some(n.index) == primary {
            "true"
        } else {
            "false"
        };
        conn_attrs.push(("vcloud:primaryNetworkConnection", prim));
        let conn = format!(
            "<rasd:Connection{}>{}</rasd:Connection>",
            a(&conn_attrs),
            esc(&n.network)
        );
        out.push_str(&rasd(
            &[
                ("Address", n.mac.clone()),
                ("AddressOnParent", n.index.to_string()),
                ("AutomaticAllocation", n.connected.to_string()),
                ("<Connection", conn),
                (
                    "Description",
                    format!("{} ethernet adapter on \"{}\"", n.adapter, n.network),
                ),
                ("ElementName", format!("Network adapter {}", n.index)),
                ("InstanceID", format!("{}", 10 + n.index)),
                ("ResourceSubType", n.adapter.clone()),
                ("ResourceType", "10".into()),
            ],
            "",
        ));
    }
    out
}

fn media_item(st: &State, vm: &Vm) -> String {
    let name = vm
        .media
        .and_then(|m| st.media.iter().find(|x| x.id == m))
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let host = format!("<rasd:HostResource>{}</rasd:HostResource>", esc(&name));
    rasd(
        &[
            ("AddressOnParent", "0".into()),
            ("AutomaticAllocation", (!name.is_empty()).to_string()),
            ("Description", "CD/DVD Drive".into()),
            ("ElementName", "CD/DVD Drive 1".into()),
            ("<HostResource", host),
            ("InstanceID", "3000".into()),
            ("Parent", "105".into()),
            ("ResourceType", "15".into()),
        ],
        "",
    )
}

fn storage_profile_id(vdc: Uuid) -> Uuid {
    Uuid::from_u128(vdc.as_u128() ^ 0xfe)
}

fn hardware_section(st: &State, base: &str, vm: &Vm, root: bool) -> String {
    let href = format!("{base}/api/vApp/vm-{}/virtualHardwareSection/", vm.id);
    let ns = if root { root_ns() } else { String::new() };
    let mut out = format!(
        "<ovf:VirtualHardwareSection{ns} ovf:transport=\"\"{}>",
        a(&[
            (
                "type",
                "application/vnd.vmware.vcloud.virtualHardwareSection+xml"
            ),
            ("href", &href),
        ])
    );
    out.push_str("<ovf:Info>Virtual hardware requirements</ovf:Info>");
    out.push_str(&format!(
        "<ovf:System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemIdentifier>{}</vssd:VirtualSystemIdentifier><vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType></ovf:System>",
        esc(&vm.name)
    ));
    out.push_str(&nic_items(vm));
    out.push_str(&disk_items(base, vm));
    out.push_str(&media_item(st, vm));
    out.push_str(&cpu_item(vm));
    out.push_str(&memory_item(vm));
    out.push_str(&link(
        "edit",
        &href,
        Some("application/vnd.vmware.vcloud.virtualHardwareSection+xml"),
        None,
    ));
    for (part, mt) in [
        ("cpu", "application/vnd.vmware.vcloud.rasdItem+xml"),
        ("memory", "application/vnd.vmware.vcloud.rasdItem+xml"),
        ("disks", "application/vnd.vmware.vcloud.rasdItemsList+xml"),
        (
            "networkCards",
            "application/vnd.vmware.vcloud.rasdItemsList+xml",
        ),
    ] {
        out.push_str(&link("down", &format!("{href}{part}"), Some(mt), None));
        out.push_str(&link("edit", &format!("{href}{part}"), Some(mt), None));
    }
    out.push_str("</ovf:VirtualHardwareSection>");
    out
}

fn os_section(base: &str, vm: &Vm, root: bool) -> String {
    let ns = if root { root_ns() } else { String::new() };
    format!(
        "<ovf:OperatingSystemSection{ns} ovf:id=\"{}\" vmw:osType=\"{}\"{}><ovf:Info>Specifies the operating system installed</ovf:Info><ovf:Description>{}</ovf:Description></ovf:OperatingSystemSection>",
        if vm.os_type.starts_with("ubuntu") {
            94
        } else {
            107
        },
        esc(&vm.os_type),
        a(&[
            (
                "type",
                "application/vnd.vmware.vcloud.operatingSystemSection+xml"
            ),
            (
                "href",
                &format!("{base}/api/vApp/vm-{}/operatingSystemSection/", vm.id)
            ),
        ]),
        esc(&vm.guest_os)
    )
}

fn network_connection_section(base: &str, vm: &Vm, root: bool) -> String {
    let ns = if root { root_ns() } else { String::new() };
    let href = format!("{base}/api/vApp/vm-{}/networkConnectionSection/", vm.id);
    let mut out = format!(
        "<NetworkConnectionSection{ns}{} ovf:required=\"false\"><ovf:Info>Specifies the available VM network connections</ovf:Info>",
        a(&[
            (
                "type",
                "application/vnd.vmware.vcloud.networkConnectionSection+xml"
            ),
            ("href", &href),
        ])
    );
    if let Some(p) = vm.nics.first() {
        out.push_str(&format!(
            "<PrimaryNetworkConnectionIndex>{}</PrimaryNetworkConnectionIndex>",
            p.index
        ));
    }
    for n in &vm.nics {
        out.push_str(&format!(
            "<NetworkConnection needsCustomization=\"false\" network=\"{}\"><NetworkConnectionIndex>{}</NetworkConnectionIndex>",
            esc(&n.network),
            n.index
        ));
        if !n.ip.is_empty() {
            out.push_str(&format!("<IpAddress>{}</IpAddress>", esc(&n.ip)));
        }
        out.push_str(&format!(
            "<IsConnected>{}</IsConnected><MACAddress>{}</MACAddress><IpAddressAllocationMode>{}</IpAddressAllocationMode><NetworkAdapterType>{}</NetworkAdapterType></NetworkConnection>",
            n.connected,
            esc(&n.mac),
            esc(&n.mode),
            esc(&n.adapter)
        ));
    }
    out.push_str(&link(
        "edit",
        &href,
        Some("application/vnd.vmware.vcloud.networkConnectionSection+xml"),
        None,
    ));
    out.push_str("</NetworkConnectionSection>");
    out
}

fn customization_section(base: &str, vm: &Vm, root: bool) -> String {
    let ns = if root { root_ns() } else { String::new() };
    let c = &vm.customization;
    let href = format!("{base}/api/vApp/vm-{}/guestCustomizationSection/", vm.id);
    let mut out = format!(
        "<GuestCustomizationSection{ns}{} ovf:required=\"false\"><ovf:Info>Specifies Guest OS Customization Settings</ovf:Info>",
        a(&[
            (
                "type",
                "application/vnd.vmware.vcloud.guestCustomizationSection+xml"
            ),
            ("href", &href),
        ])
    );
    out.push_str(&format!(
        "<Enabled>{}</Enabled><ChangeSid>false</ChangeSid><VirtualMachineId>{}</VirtualMachineId><JoinDomainEnabled>false</JoinDomainEnabled><UseOrgSettings>false</UseOrgSettings><AdminPasswordEnabled>{}</AdminPasswordEnabled><AdminPasswordAuto>{}</AdminPasswordAuto>",
        c.enabled, vm.id, c.admin_password_enabled, c.admin_password_auto
    ));
    if !c.admin_password.is_empty() {
        out.push_str(&format!(
            "<AdminPassword>{}</AdminPassword>",
            esc(&c.admin_password)
        ));
    }
    out.push_str(&format!(
        "<AdminAutoLogonEnabled>{}</AdminAutoLogonEnabled><AdminAutoLogonCount>{}</AdminAutoLogonCount><ResetPasswordRequired>{}</ResetPasswordRequired>",
        c.auto_logon_enabled, c.auto_logon_count, c.reset_password_required
    ));
    if !c.script.is_empty() {
        out.push_str(&format!(
            "<CustomizationScript>{}</CustomizationScript>",
            esc(&c.script)
        ));
    }
    out.push_str(&format!(
        "<ComputerName>{}</ComputerName>",
        esc(&c.computer_name)
    ));
    out.push_str(&link(
        "edit",
        &href,
        Some("application/vnd.vmware.vcloud.guestCustomizationSection+xml"),
        None,
    ));
    out.push_str("</GuestCustomizationSection>");
    out
}

fn snapshot_section(base: &str, vm: &Vm, root: bool) -> String {
    let ns = if root { root_ns() } else { String::new() };
    let mut out = format!(
        "<SnapshotSection{ns}{} ovf:required=\"false\"><ovf:Info>Snapshot information section</ovf:Info>",
        a(&[
            (
                "href",
                &format!("{base}/api/vApp/vm-{}/snapshotSection", vm.id)
            ),
            ("type", "application/vnd.vmware.vcloud.snapshotSection+xml"),
        ])
    );
    if let Some(s) = &vm.snapshot {
        out.push_str(&format!(
            "<Snapshot{}/>",
            a(&[
                ("created", &s.created),
                ("poweredOn", &s.powered_on.to_string()),
                ("size", &s.size.to_string()),
            ])
        ));
    }
    out.push_str("</SnapshotSection>");
    out
}

fn power_links(base: &str, kind: &str, id: Uuid, power: Power, deployed: bool) -> String {
    let mut rels: Vec<(&str, &str)> = Vec::new();
    match power {
        Power::On => {
            rels.extend([
                ("power:powerOff", "power/action/powerOff"),
                ("power:reboot", "power/action/reboot"),
                ("power:reset", "power/action/reset"),
                ("power:shutdown", "power/action/shutdown"),
                ("power:suspend", "power/action/suspend"),
            ]);
        }
        Power::Suspended => {
            rels.push(("power:powerOn", "power/action/powerOn"));
            rels.push(("discardState", "action/discardSuspendedState"));
        }
        Power::Off | Power::Resolved => {
            rels.push(("power:powerOn", "power/action/powerOn"));
        }
        Power::Unresolved | Power::FailedCreation => {}
    }
    let mut out = String::new();
    for (rel, path) in rels {
        out.push_str(&link(
            rel,
            &format!("{base}/api/vApp/{kind}-{id}/{path}"),
            None,
            None,
        ));
    }
    if matches!(power, Power::Unresolved | Power::FailedCreation) {
        return out;
    }
    out.push_str(&link(
        "deploy",
        &format!("{base}/api/vApp/{kind}-{id}/action/deploy"),
        Some("application/vnd.vmware.vcloud.deployVAppParams+xml"),
        None,
    ));
    if deployed {
        out.push_str(&link(
            "undeploy",
            &format!("{base}/api/vApp/{kind}-{id}/action/undeploy"),
            Some("application/vnd.vmware.vcloud.undeployVAppParams+xml"),
            None,
        ));
    }
    out
}

/// The `VmCapabilities` section (hot-add flags) with its edit link.
fn capabilities_xml(base: &str, vm: &Vm, root: bool) -> String {
    let ns = if root {
        format!(" xmlns=\"{NS_VCLOUD}\"")
    } else {
        String::new()
    };
    let href = format!("{base}/api/vApp/vm-{}/vmCapabilities/", vm.id);
    format!(
        "<VmCapabilities{ns}{}>{}<MemoryHotAddEnabled>{}</MemoryHotAddEnabled><CpuHotAddEnabled>{}</CpuHotAddEnabled></VmCapabilities>",
        a(&[
            ("href", &href),
            (
                "type",
                "application/vnd.vmware.vcloud.vmCapabilitiesSection+xml"
            ),
        ]),
        link(
            "edit",
            &href,
            Some("application/vnd.vmware.vcloud.vmCapabilitiesSection+xml"),
            None
        ),
        vm.memory_hot_add,
        vm.cpu_hot_add
    )
}

/// A VM document (`root` adds the namespace declarations).
pub(crate) fn vm_xml(st: &State, base: &str, vm: &Vm, root: bool) -> String {
    let ns = if root { root_ns() } else { String::new() };
    let self_href = format!("{base}/api/vApp/vm-{}", vm.id);
    let mut out = format!(
        "<Vm{ns}{}>",
        a(&[
            ("needsCustomization", &vm.needs_customization.to_string()),
            ("deployed", &vm.deployed.to_string()),
            ("status", vm.power.code()),
            ("name", &vm.name),
            ("id", &format!("urn:vcloud:vm:{}", vm.id)),
            ("href", &self_href),
            ("type", MT_VM),
        ])
    );
    out.push_str(&power_links(base, "vm", vm.id, vm.power, vm.deployed));
    out.push_str(&link(
        "up",
        &format!("{base}/api/vApp/vapp-{}", vm.vapp),
        Some(MT_VAPP),
        None,
    ));
    out.push_str(&link("edit", &self_href, Some(MT_VM), None));
    if !vm.deployed {
        out.push_str(&link("remove", &self_href, None, None));
    }
    out.push_str(&meta_links(base, &format!("/api/vApp/vm-{}", vm.id)));
    out.push_str(&link(
        "reconfigureVm",
        &format!("{self_href}/action/reconfigureVm"),
        Some(MT_VM),
        Some(&vm.name),
    ));
    out.push_str(&link(
        "snapshot:create",
        &format!("{self_href}/action/createSnapshot"),
        Some("application/vnd.vmware.vcloud.createSnapshotParams+xml"),
        None,
    ));
    if vm.snapshot.is_some() {
        out.push_str(&link(
            "snapshot:revertToCurrent",
            &format!("{self_href}/action/revertToCurrentSnapshot"),
            None,
            None,
        ));
        out.push_str(&link(
            "snapshot:removeAll",
            &format!("{self_href}/action/removeAllSnapshots"),
            None,
            None,
        ));
    }
    out.push_str(&link(
        "customizeAtNextPowerOn",
        &format!("{self_href}/action/customizeAtNextPowerOn"),
        None,
        None,
    ));
    out.push_str(&link(
        "media:insertMedia",
        &format!("{self_href}/media/action/insertMedia"),
        Some("application/vnd.vmware.vcloud.mediaInsertOrEjectParams+xml"),
        None,
    ));
    out.push_str(&link(
        "media:ejectMedia",
        &format!("{self_href}/media/action/ejectMedia"),
        Some("application/vnd.vmware.vcloud.mediaInsertOrEjectParams+xml"),
        None,
    ));
    for action in ["attach", "detach"] {
        out.push_str(&link(
            &format!("disk:{action}"),
            &format!("{self_href}/disk/action/{action}"),
            Some("application/vnd.vmware.vcloud.diskAttachOrDetachParams+xml"),
            None,
        ));
    }
    out.push_str(&format!(
        "<Description>{}</Description>",
        esc(&vm.description)
    ));
    out.push_str(&hardware_section(st, base, vm, false));
    out.push_str(&os_section(base, vm, false));
    out.push_str(&network_connection_section(base, vm, false));
    out.push_str(&customization_section(base, vm, false));
    // The guest tools are installed in every simulated VM; vCD reports their version in
    // every power state.
    let tools = "11269";
    out.push_str(&format!(
        "<RuntimeInfoSection{}><ovf:Info>Specifies Runtime info</ovf:Info><VMWareTools version=\"{tools}\"/></RuntimeInfoSection>",
        a(&[
            ("type", "application/vnd.vmware.vcloud.virtualHardwareSection+xml"),
            ("href", &format!("{self_href}/runtimeInfoSection")),
        ])
    ));
    out.push_str(&snapshot_section(base, vm, false));
    out.push_str(&format!(
        "<DateCreated>2026-01-15T10:12:44.517Z</DateCreated><VAppScopedLocalId>{}</VAppScopedLocalId>",
        esc(&vm.name)
    ));
    out.push_str(&capabilities_xml(base, vm, false));
    out.push_str(&format!(
        "<StorageProfile{}/>",
        a(&[
            (
                "href",
                &format!(
                    "{base}/api/vdcStorageProfile/{}",
                    storage_profile_id(vm.vdc)
                )
            ),
            ("name", &vm.storage_profile),
            (
                "type",
                "application/vnd.vmware.vcloud.vdcStorageProfile+xml"
            ),
        ])
    ));
    out.push_str("</Vm>");
    out
}

/// A vApp document with its VMs.
pub(crate) fn vapp_xml(st: &State, base: &str, app: &VApp) -> String {
    let self_href = format!("{base}/api/vApp/vapp-{}", app.id);
    let mut out = format!(
        "<VApp{} ovfDescriptorUploaded=\"true\"{}>",
        root_ns(),
        a(&[
            ("deployed", &app.deployed.to_string()),
            ("status", app.power.code()),
            ("name", &app.name),
            ("id", &format!("urn:vcloud:vapp:{}", app.id)),
            ("href", &self_href),
            ("type", MT_VAPP),
        ])
    );
    out.push_str(&power_links(base, "vapp", app.id, app.power, app.deployed));
    out.push_str(&link(
        "up",
        &format!("{base}/api/vdc/{}", app.vdc),
        Some("application/vnd.vmware.vcloud.vdc+xml"),
        None,
    ));
    out.push_str(&link("edit", &self_href, Some(MT_VAPP), None));
    if !app.deployed {
        out.push_str(&link("remove", &self_href, None, None));
    }
    out.push_str(&link(
        "recompose",
        &format!("{self_href}/action/recomposeVApp"),
        Some("application/vnd.vmware.vcloud.recomposeVAppParams+xml"),
        None,
    ));
    out.push_str(&meta_links(base, &format!("/api/vApp/vapp-{}", app.id)));
    out.push_str(&link(
        "down",
        &format!("{self_href}/owner"),
        Some("application/vnd.vmware.vcloud.owner+xml"),
        None,
    ));
    out.push_str(&format!(
        "<Description>{}</Description>",
        esc(&app.description)
    ));
    out.push_str(&format!(
        "<LeaseSettingsSection{} ovf:required=\"false\"><ovf:Info>Lease settings section</ovf:Info><DeploymentLeaseInSeconds>0</DeploymentLeaseInSeconds><StorageLeaseInSeconds>0</StorageLeaseInSeconds></LeaseSettingsSection>",
        a(&[
            ("href", &format!("{self_href}/leaseSettingsSection/")),
            ("type", "application/vnd.vmware.vcloud.leaseSettingsSection+xml"),
        ])
    ));
    out.push_str(&super::vapp_net::section_xml(st, base, app, false));
    out.push_str(&format!("<DateCreated>{}</DateCreated>", esc(&app.created)));
    out.push_str(&format!(
        "<Owner type=\"application/vnd.vmware.vcloud.owner+xml\"><User{}/></Owner>",
        a(&[
            (
                "href",
                &format!("{base}/api/admin/user/{}", user_id(&app.owner))
            ),
            ("name", &app.owner),
            ("type", "application/vnd.vmware.admin.user+xml"),
        ])
    ));
    out.push_str("<InMaintenanceMode>false</InMaintenanceMode><Children>");
    for vm in st.vms.iter().filter(|m| m.vapp == app.id) {
        out.push_str(&vm_xml(st, base, vm, false));
    }
    out.push_str("</Children></VApp>");
    out
}

/// The id of a simulated user (stable per name).
pub(crate) fn user_id(name: &str) -> Uuid {
    let mut h: u128 = 0x6e65_6275_6c61_4000_8000_0000_0000_a000;
    if name != "admin" {
        for b in name.bytes() {
            h = h.wrapping_mul(131).wrapping_add(u128::from(b));
        }
        h = (h & 0xffff_ffff_ffff_0fff_3fff_ffff_ffff_ffff)
            | 0x0000_0000_0000_4000_8000_0000_0000_0000;
    } else {
        h += 1;
    }
    Uuid::from_u128(h)
}

fn meta_entry_xml(m: &Meta, href: &str, root: bool) -> String {
    let (el, key) = if root {
        ("MetadataValue", String::new())
    } else {
        ("MetadataEntry", format!("<Key>{}</Key>", esc(&m.key)))
    };
    let ns = if root {
        format!(" xmlns=\"{NS_VCLOUD}\" xmlns:xsi=\"{NS_XSI}\"")
    } else {
        String::new()
    };
    let kind = "application/vnd.vmware.vcloud.metadata.value+xml";
    format!(
        "<{el}{ns}{}>{}<Domain visibility=\"{}\">{}</Domain>{key}<TypedValue xsi:type=\"{}\"><Value>{}</Value></TypedValue></{el}>",
        a(&[("href", href), ("type", kind)]),
        link("edit", href, Some(kind), None),
        esc(&m.visibility),
        esc(&m.domain),
        esc(&m.kind),
        esc(&m.value)
    )
}

fn metadata_xml(base: &str, path: &str, list: &[Meta]) -> String {
    let href = format!("{base}{path}/metadata");
    let mut out = format!(
        "<Metadata xmlns=\"{NS_VCLOUD}\" xmlns:xsi=\"{NS_XSI}\"{}>",
        a(&[
            ("href", &href),
            ("type", "application/vnd.vmware.vcloud.metadata+xml"),
        ])
    );
    out.push_str(&link(
        "add",
        &href,
        Some("application/vnd.vmware.vcloud.metadata+xml"),
        None,
    ));
    for m in list {
        out.push_str(&meta_entry_xml(m, &format!("{href}/{}", m.key), false));
    }
    out.push_str("</Metadata>");
    out
}

fn ok_xml(ctx: &Ctx<'_>, media: &str, body: &str) -> Response {
    vcd_xml(StatusCode::OK, media, &ctx.version, body)
}

// ---------------------------------------------------------------------------------------------
// Handlers: reading

/// `GET /api/vApp/{vapp-|vm-}{id}`.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    match target(&st, id) {
        Some(Target::Vm(u)) => {
            let vm = vm_of(&st, u).expect("present");
            ok_xml(ctx, MT_VM, &vm_xml(&st, &base, vm, true))
        }
        Some(Target::VApp(u)) => {
            let app = st.vapps.iter().find(|a| a.id == u).expect("present");
            ok_xml(ctx, MT_VAPP, &vapp_xml(&st, &base, app))
        }
        None => forbidden(ctx, id),
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: power, deploy, delete

fn power_refusal(ctx: &Ctx<'_>, kind: &str, name: &str, wanted: &str) -> Response {
    bad(
        ctx,
        &format!(
            "The requested operation could not be executed since {kind} \"{name}\" is not {wanted}."
        ),
    )
}

/// `POST .../power/action/{action}`.
pub(crate) fn power(ctx: &Ctx<'_>, id: &str, action: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let mut st = ctx.lock();
    let Some(t) = target(&st, id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let (kind, name) = kind_name(&st, t);
    let ids = busy_set(&st, t);
    if entity_busy(&st, &ids, ctx.now) {
        drop(st);
        return busy(ctx, kind, &name);
    }
    let vms: Vec<Uuid> = match t {
        Target::VApp(a) => st
            .vms
            .iter()
            .filter(|m| m.vapp == a)
            .map(|m| m.id)
            .collect(),
        Target::Vm(m) => vec![m],
    };
    let current = match t {
        Target::VApp(a) => st.vapps.iter().find(|x| x.id == a).map(|x| x.power),
        Target::Vm(m) => vm_of(&st, m).map(|v| v.power),
    }
    .unwrap_or(Power::Off);
    let (to, allowed, wanted, op) = match action {
        "powerOn" => (
            Power::On,
            matches!(current, Power::Off | Power::Resolved | Power::Suspended),
            "powered off",
            "vappPowerOn",
        ),
        "powerOff" => (
            Power::Off,
            current == Power::On,
            "powered on",
            "vappPowerOff",
        ),
        "reset" => (Power::On, current == Power::On, "powered on", "vappReset"),
        "reboot" => (
            Power::On,
            current == Power::On,
            "powered on",
            "vappRebootGuest",
        ),
        "shutdown" => (
            Power::Off,
            current == Power::On,
            "powered on",
            "vappShutdownGuest",
        ),
        "suspend" => (
            Power::Suspended,
            current == Power::On,
            "powered on",
            "vappSuspend",
        ),
        _ => {
            drop(st);
            return bad(ctx, &format!("Unknown power action {action}."));
        }
    };
    if !allowed {
        drop(st);
        return power_refusal(ctx, kind, &name, wanted);
    }
    if to == Power::On
        && current != Power::On
        && let Err(r) = check_power_on(ctx, &st, &vms)
    {
        return r;
    }
    let customize = action == "powerOn";
    start_task(
        ctx,
        &mut st,
        t,
        op,
        format!("{action} {kind} {name}"),
        move |st| set_power(st, t, to, None, customize),
        None,
    )
}

/// Sets the power state of a vApp (and its VMs) or of one VM; `deployed` changes the
/// deployed flag when given. A power on with customization pending customizes the guest.
fn set_power(st: &mut State, t: Target, to: Power, deployed: Option<bool>, customize: bool) {
    let vms: Vec<Uuid> = match t {
        Target::VApp(a) => st
            .vms
            .iter()
            .filter(|m| m.vapp == a)
            .map(|m| m.id)
            .collect(),
        Target::Vm(m) => vec![m],
    };
    for id in &vms {
        if let Some(v) = vm_mut(st, *id) {
            if customize && to == Power::On && v.needs_customization {
                v.needs_customization = false;
                v.customized_count += 1;
            }
            v.power = to;
            if let Some(d) = deployed {
                v.deployed = d;
            } else if to == Power::On {
                v.deployed = true;
            }
        }
    }
    let app_id = match t {
        Target::VApp(a) => Some(a),
        Target::Vm(m) => vm_of(st, m).map(|v| v.vapp),
    };
    if let Some(a) = app_id {
        let states: Vec<(Power, bool)> = st
            .vms
            .iter()
            .filter(|m| m.vapp == a)
            .map(|m| (m.power, m.deployed))
            .collect();
        if let Some(app) = vapp_mut(st, a) {
            if matches!(t, Target::VApp(_)) || states.is_empty() {
                app.power = to;
                if let Some(d) = deployed {
                    app.deployed = d;
                } else if to == Power::On {
                    app.deployed = true;
                }
            } else {
                let first = states[0].0;
                app.power = if states.iter().all(|s| s.0 == first) {
                    first
                } else if states.iter().any(|s| s.0 == Power::On) {
                    Power::On
                } else {
                    Power::Off
                };
                app.deployed = states.iter().any(|s| s.1);
            }
        }
    }
}

/// `POST .../action/{action}` of a vApp or VM.
pub(crate) fn action(ctx: &Ctx<'_>, id: &str, action: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let body = match ctx.body_str() {
        Ok(b) => b.to_owned(),
        Err(r) => return *r,
    };
    let mut st = ctx.lock();
    let Some(t) = target(&st, id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let (kind, name) = kind_name(&st, t);
    let ids = busy_set(&st, t);
    if entity_busy(&st, &ids, ctx.now) {
        drop(st);
        return busy(ctx, kind, &name);
    }
    let parsed = if body.trim().is_empty() {
        None
    } else {
        match x::parse(&body) {
            Ok(e) => Some(e),
            Err(e) => {
                drop(st);
                return bad(ctx, &format!("The request body is not valid XML: {e}"));
            }
        }
    };
    let current = match t {
        Target::VApp(a) => st
            .vapps
            .iter()
            .find(|x| x.id == a)
            .map(|x| (x.power, x.deployed)),
        Target::Vm(m) => vm_of(&st, m).map(|v| (v.power, v.deployed)),
    }
    .unwrap_or((Power::Off, false));
    let vms: Vec<Uuid> = match t {
        Target::VApp(a) => st
            .vms
            .iter()
            .filter(|m| m.vapp == a)
            .map(|m| m.id)
            .collect(),
        Target::Vm(m) => vec![m],
    };
    match action {
        "deploy" => {
            let power_on = parsed
                .as_ref()
                .and_then(|p| p.attrs.iter().find(|(k, _)| k == "powerOn"))
                .is_none_or(|(_, v)| v == "true");
            if current.1 && (current.0 == Power::On || !power_on) {
                drop(st);
                return bad(
                    ctx,
                    &format!(
                        "The requested operation could not be executed since {kind} \"{name}\" is already deployed."
                    ),
                );
            }
            if power_on && let Err(r) = check_power_on(ctx, &st, &vms) {
                return r;
            }
            let to = if power_on { Power::On } else { current.0 };
            start_task(
                ctx,
                &mut st,
                t,
                "vappDeploy",
                format!("Starting {kind} {name}"),
                move |st| set_power(st, t, to, Some(true), power_on),
                None,
            )
        }
        "undeploy" => {
            if !current.1 {
                drop(st);
                return bad(
                    ctx,
                    &format!(
                        "The requested operation could not be executed since {kind} \"{name}\" is not deployed."
                    ),
                );
            }
            let mode = parsed
                .as_ref()
                .and_then(|p| p.child_text("UndeployPowerAction"))
                .unwrap_or("default")
                .to_owned();
            let to = match mode.as_str() {
                "suspend" => Power::Suspended,
                "powerOff" | "shutdown" | "force" | "default" => Power::Off,
                other => {
                    drop(st);
                    return bad(ctx, &format!("Invalid UndeployPowerAction \"{other}\"."));
                }
            };
            start_task(
                ctx,
                &mut st,
                t,
                "vappUndeployPowerOff",
                format!("Stopping {kind} {name}"),
                move |st| set_power(st, t, to, Some(false), false),
                None,
            )
        }
        "discardSuspendedState" => {
            if current.0 != Power::Suspended {
                drop(st);
                return power_refusal(ctx, kind, &name, "suspended");
            }
            start_task(
                ctx,
                &mut st,
                t,
                "vappDiscardSuspendedState",
                format!("Discarding suspended state of {kind} {name}"),
                move |st| set_power(st, t, Power::Off, None, false),
                None,
            )
        }
        "recomposeVApp" => match (t, parsed) {
            (Target::VApp(a), Some(p)) => recompose(ctx, &mut st, a, &p),
            _ => {
                drop(st);
                bad(ctx, "RecomposeVAppParams are required.")
            }
        },
        "reconfigureVm" => match (t, parsed) {
            (Target::Vm(m), Some(p)) => reconfigure_vm(ctx, &mut st, m, &p),
            _ => {
                drop(st);
                bad(ctx, "A Vm document is required.")
            }
        },
        "createSnapshot" => {
            let p = parsed.unwrap_or_default();
            let memory = p.attrs.iter().any(|(k, v)| k == "memory" && v == "true");
            let quiesce = p.attrs.iter().any(|(k, v)| k == "quiesce" && v == "true");
            let created = super::common::iso8601(std::time::SystemTime::now());
            start_task(
                ctx,
                &mut st,
                t,
                "vappCreateSnapshot",
                format!("Creating snapshot of {kind} {name}"),
                move |st| {
                    for id in &vms {
                        if let Some(v) = vm_mut(st, *id) {
                            v.snapshot = Some(Snapshot {
                                created: created.clone(),
                                powered_on: v.power == Power::On && memory,
                                size: u64::from(v.memory_mb) * 1024 * 1024,
                                memory,
                                quiesce,
                                cpus: v.cpus,
                                memory_mb: v.memory_mb,
                            });
                        }
                    }
                },
                None,
            )
        }
        "revertToCurrentSnapshot" | "removeAllSnapshots" => {
            let has = vms
                .iter()
                .any(|v| vm_of(&st, *v).is_some_and(|v| v.snapshot.is_some()));
            if !has {
                drop(st);
                return bad(ctx, &format!("{kind} \"{name}\" has no snapshot."));
            }
            let revert = action == "revertToCurrentSnapshot";
            start_task(
                ctx,
                &mut st,
                t,
                if revert {
                    "vappRevertToCurrentSnapshot"
                } else {
                    "vappRemoveAllSnapshots"
                },
                format!("{action} {kind} {name}"),
                move |st| {
                    for id in &vms {
                        if let Some(v) = vm_mut(st, *id) {
                            if revert {
                                if let Some(s) = v.snapshot.clone() {
                                    v.cpus = s.cpus;
                                    v.memory_mb = s.memory_mb;
                                    v.power = if s.powered_on { Power::On } else { Power::Off };
                                }
                            } else {
                                v.snapshot = None;
                            }
                        }
                    }
                },
                None,
            )
        }
        "customizeAtNextPowerOn" => match t {
            Target::Vm(m) => {
                if let Some(v) = vm_mut(&mut st, m) {
                    v.needs_customization = true;
                }
                respond(StatusCode::NO_CONTENT, "text/plain", "")
            }
            Target::VApp(_) => {
                drop(st);
                bad(ctx, "customizeAtNextPowerOn applies to VMs.")
            }
        },
        _ => {
            drop(st);
            vcd_error(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_FOUND",
                &format!("No resource for POST action/{action}."),
                &ctx.version,
            )
        }
    }
}

/// `POST /api/vApp/vm-{id}/media/action/{insertMedia|ejectMedia}`.
pub(crate) fn media_action(ctx: &Ctx<'_>, id: &str, action: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let body = match ctx.body_str() {
        Ok(b) => b.to_owned(),
        Err(r) => return *r,
    };
    let mut st = ctx.lock();
    let Some(Target::Vm(m)) = target(&st, id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let (kind, name) = kind_name(&st, Target::Vm(m));
    if entity_busy(&st, &busy_set(&st, Target::Vm(m)), ctx.now) {
        drop(st);
        return busy(ctx, kind, &name);
    }
    let href = x::parse(&body).ok().and_then(|e| {
        e.child("Media")
            .and_then(|c| attr(c, "href").map(str::to_owned))
    });
    let Some(media) = href
        .as_deref()
        .and_then(|h| h.rsplit('/').next())
        .and_then(|s| Uuid::parse_str(s).ok())
        .filter(|u| st.media.iter().any(|x| x.id == *u))
    else {
        drop(st);
        return bad(
            ctx,
            "MediaInsertOrEjectParams must reference a known media.",
        );
    };
    let insert = action == "insertMedia";
    let current = vm_of(&st, m).and_then(|v| v.media);
    if insert && current.is_some() {
        drop(st);
        return bad(ctx, &format!("VM \"{name}\" already has a media inserted."));
    }
    if !insert && current != Some(media) {
        drop(st);
        return bad(ctx, &format!("The media is not inserted in VM \"{name}\"."));
    }
    start_task(
        ctx,
        &mut st,
        Target::Vm(m),
        if insert {
            "vappInsertCdFloppy"
        } else {
            "vappEjectCdFloppy"
        },
        format!("{action} on VM {name}"),
        move |st| {
            if let Some(v) = vm_mut(st, m) {
                v.media = if insert { Some(media) } else { None };
            }
        },
        None,
    )
}

/// `DELETE /api/vApp/{vapp-|vm-}{id}`: refused while deployed, as vCD does.
pub(crate) fn delete(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let mut st = ctx.lock();
    let Some(t) = target(&st, id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let (kind, name) = kind_name(&st, t);
    if entity_busy(&st, &busy_set(&st, t), ctx.now) {
        drop(st);
        return busy(ctx, kind, &name);
    }
    let (power, deployed) = match t {
        Target::VApp(a) => st
            .vapps
            .iter()
            .find(|x| x.id == a)
            .map(|x| (x.power, x.deployed)),
        Target::Vm(m) => vm_of(&st, m).map(|v| (v.power, v.deployed)),
    }
    .unwrap_or((Power::Off, false));
    if deployed || power == Power::On {
        drop(st);
        return bad(
            ctx,
            &format!(
                "The requested operation could not be executed since {kind} \"{name}\" is running. Undeploy it first."
            ),
        );
    }
    start_task(
        ctx,
        &mut st,
        t,
        if matches!(t, Target::VApp(_)) {
            "vdcDeleteVapp"
        } else {
            "vappDeleteVm"
        },
        format!("Deleting {kind} {name}"),
        move |st| match t {
            Target::VApp(a) => {
                st.vapps.retain(|x| x.id != a);
                st.vms.retain(|v| v.vapp != a);
            }
            Target::Vm(m) => st.vms.retain(|v| v.id != m),
        },
        None,
    )
}

fn attr<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `PUT /api/vApp/{vapp-|vm-}{id}`: rename and description (a VApp or Vm document).
pub(crate) fn put(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let body = match ctx.body_str() {
        Ok(b) => b.to_owned(),
        Err(r) => return *r,
    };
    let Ok(doc) = x::parse(&body) else {
        return bad(ctx, "The request body is not valid XML.");
    };
    let mut st = ctx.lock();
    let Some(t) = target(&st, id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let (kind, old) = kind_name(&st, t);
    if entity_busy(&st, &busy_set(&st, t), ctx.now) {
        drop(st);
        return busy(ctx, kind, &old);
    }
    let name = attr(&doc, "name").map(str::to_owned).unwrap_or(old.clone());
    if name.trim().is_empty() {
        drop(st);
        return bad(ctx, "The name must not be empty.");
    }
    let description = doc.child("Description").map(|d| d.text.clone());
    if let Target::Vm(m) = t
        && doc.name == "Vm"
    {
        // A full Vm document (reconfigureVm through PUT of the VM itself).
        return reconfigure_vm(ctx, &mut st, m, &doc);
    }
    start_task(
        ctx,
        &mut st,
        t,
        "vappUpdateVApp",
        format!("Updating {kind} {old}"),
        move |st| match t {
            Target::VApp(a) => {
                if let Some(app) = vapp_mut(st, a) {
                    app.name = name.clone();
                    if let Some(d) = &description {
                        app.description = d.clone();
                    }
                }
            }
            Target::Vm(m) => {
                if let Some(v) = vm_mut(st, m) {
                    v.name = name.clone();
                    if let Some(d) = &description {
                        v.description = d.clone();
                    }
                }
            }
        },
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// Reconfiguration

/// The hardware a section or Vm document asks for.
#[derive(Debug, Default)]
struct Hardware {
    name: Option<String>,
    description: Option<String>,
    cpus: Option<i64>,
    cores: Option<i64>,
    memory: Option<i64>,
    disks: Option<Vec<Disk>>,
    nics: Option<Vec<Nic>>,
    customization: Option<Customization>,
    /// The `storageProfileHref`s the disk items name.
    disk_profiles: Vec<String>,
}

fn items_of(section: &Element) -> Vec<&Element> {
    section
        .children
        .iter()
        .filter(|c| c.name == "Item")
        .collect()
}

fn item_type(item: &Element) -> Option<i64> {
    item.child_text("ResourceType").and_then(|t| t.parse().ok())
}

fn parse_disks(items: &[&Element]) -> Result<Vec<Disk>, String> {
    let mut out = Vec::new();
    let mut next_id = 2000;
    for i in items.iter().filter(|i| item_type(i) == Some(17)) {
        let host = i.child("HostResource");
        let size = host
            .and_then(|h| attr(h, "capacity"))
            .ok_or("a disk item needs HostResource@capacity")?;
        let size_mb: i64 = size
            .parse()
            .map_err(|_| format!("disk capacity {size:?} is not a number"))?;
        if size_mb <= 0 {
            return Err(format!("disk capacity {size_mb} MB must be positive"));
        }
        let instance = i
            .child_text("InstanceID")
            .and_then(|t| t.parse::<u32>().ok())
            .filter(|v| *v >= 2000)
            .unwrap_or(next_id);
        next_id = next_id.max(instance + 1);
        let bus_type = host
            .and_then(|h| attr(h, "busType"))
            .and_then(|b| b.parse().ok())
            .unwrap_or(6);
        if ![5, 6, 20].contains(&bus_type) {
            return Err(format!(
                "bus type {bus_type} is not 5 (IDE), 6 (SCSI) or 20 (SATA)"
            ));
        }
        out.push(Disk {
            instance_id: instance,
            size_mb: size_mb as u64,
            bus_type,
            bus_sub_type: host
                .and_then(|h| attr(h, "busSubType"))
                .unwrap_or("VirtualSCSI")
                .to_owned(),
            unit: i
                .child_text("AddressOnParent")
                .and_then(|t| t.parse().ok())
                .unwrap_or(out.len() as u32),
        });
    }
    // Fresh disks (no InstanceID) get unique ids.
    let mut seen = std::collections::HashSet::new();
    for d in &mut out {
        while !seen.insert(d.instance_id) {
            d.instance_id += 1;
        }
    }
    Ok(out)
}

/// The storage profile hrefs the disk items name.
fn disk_profiles(items: &[&Element]) -> Vec<String> {
    items
        .iter()
        .filter(|i| item_type(i) == Some(17))
        .filter_map(|i| i.child("HostResource"))
        .filter_map(|h| attr(h, "storageProfileHref"))
        .map(str::to_owned)
        .collect()
}

fn parse_nics(items: &[&Element], vm: &Vm) -> Result<Vec<Nic>, String> {
    let mut out = Vec::new();
    for i in items.iter().filter(|i| item_type(i) == Some(10)) {
        let index = i
            .child_text("AddressOnParent")
            .and_then(|t| t.parse().ok())
            .unwrap_or(out.len() as u32);
        let conn = i.child("Connection");
        let network = conn.map(|c| c.text.trim().to_owned()).unwrap_or_default();
        let mode = conn
            .and_then(|c| attr(c, "ipAddressingMode"))
            .unwrap_or("DHCP")
            .to_owned();
        if !["DHCP", "POOL", "MANUAL", "NONE"].contains(&mode.as_str()) {
            return Err(format!(
                "IP addressing mode {mode:?} is not DHCP, POOL, MANUAL or NONE"
            ));
        }
        let ip = conn
            .and_then(|c| attr(c, "ipAddress"))
            .unwrap_or("")
            .to_owned();
        if mode == "MANUAL" && ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(format!("MANUAL addressing needs an IP address, got {ip:?}"));
        }
        let old = vm.nics.iter().find(|n| n.index == index);
        let ip = match mode.as_str() {
            "POOL" if ip.is_empty() => old
                .filter(|o| !o.ip.is_empty())
                .map(|o| o.ip.clone())
                .unwrap_or_else(|| {
                    format!(
                        "192.168.109.{}",
                        100 + (vm.id.as_bytes()[15] % 100) + index as u8
                    )
                }),
            "DHCP" | "NONE" => String::new(),
            _ => ip,
        };
        out.push(Nic {
            index,
            network,
            mode,
            ip,
            mac: i
                .child_text("Address")
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .or_else(|| old.map(|o| o.mac.clone()))
                .unwrap_or_else(|| {
                    let base = mac(vm.id);
                    format!("{}{:x}", &base[..base.len() - 1], index % 16)
                }),
            connected: i.child_text("AutomaticAllocation") != Some("false"),
            adapter: i
                .child_text("ResourceSubType")
                .unwrap_or("VMXNET3")
                .to_owned(),
        });
    }
    Ok(out)
}

fn parse_customization(sec: &Element, old: &Customization) -> Customization {
    let b = |n: &str, d: bool| sec.child_text(n).map(|v| v == "true").unwrap_or(d);
    Customization {
        enabled: b("Enabled", old.enabled),
        computer_name: sec
            .child_text("ComputerName")
            .map(str::to_owned)
            .unwrap_or_else(|| old.computer_name.clone()),
        admin_password_enabled: b("AdminPasswordEnabled", old.admin_password_enabled),
        admin_password_auto: b("AdminPasswordAuto", old.admin_password_auto),
        admin_password: sec
            .child("AdminPassword")
            .map(|p| p.text.clone())
            .unwrap_or_default(),
        auto_logon_enabled: b("AdminAutoLogonEnabled", old.auto_logon_enabled),
        auto_logon_count: sec
            .child_text("AdminAutoLogonCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(old.auto_logon_count),
        script: sec
            .child("CustomizationScript")
            .map(|p| p.text.clone())
            .unwrap_or_default(),
        reset_password_required: b("ResetPasswordRequired", old.reset_password_required),
    }
}

fn hardware_from_section(sec: &Element, vm: &Vm, h: &mut Hardware) -> Result<(), String> {
    let items = items_of(sec);
    for i in &items {
        match item_type(i) {
            Some(3) => {
                h.cpus = i.child_text("VirtualQuantity").and_then(|v| v.parse().ok());
                if h.cpus.is_none() {
                    return Err("the CPU item needs a numeric VirtualQuantity".into());
                }
                h.cores = i.child_text("CoresPerSocket").and_then(|v| v.parse().ok());
            }
            Some(4) => {
                h.memory = i.child_text("VirtualQuantity").and_then(|v| v.parse().ok());
                if h.memory.is_none() {
                    return Err("the memory item needs a numeric VirtualQuantity".into());
                }
            }
            _ => {}
        }
    }
    let has_disks = items.iter().any(|i| item_type(i) == Some(17));
    if has_disks
        || (sec.name == "RasdItemsList"
            && items
                .iter()
                .all(|i| matches!(item_type(i), Some(5 | 6 | 20 | 17))))
    {
        h.disks = Some(parse_disks(&items)?);
        h.disk_profiles = disk_profiles(&items);
    }
    if items.iter().any(|i| item_type(i) == Some(10)) {
        h.nics = Some(parse_nics(&items, vm)?);
    }
    Ok(())
}

/// Checks and applies (through a task) a hardware change of a VM.
fn apply_hardware(ctx: &Ctx<'_>, st: &mut State, m: Uuid, h: Hardware, op: &str) -> Response {
    let Some(vm) = vm_of(st, m).cloned() else {
        return forbidden(ctx, &m.to_string());
    };
    if let Some(c) = h.cpus
        && !(1..=128).contains(&c)
    {
        return bad(ctx, &format!("The CPU count {c} is not between 1 and 128."));
    }
    let cpus = h.cpus.map(|c| c as u32).unwrap_or(vm.cpus);
    if let Some(c) = h.cores
        && (c < 1 || !cpus.is_multiple_of(c as u32))
    {
        return bad(
            ctx,
            &format!("{c} cores per socket do not divide {cpus} virtual CPUs."),
        );
    }
    if let Some(mem) = h.memory
        && (mem < 4 || !(mem as u64).is_multiple_of(4))
    {
        return bad(
            ctx,
            &format!("The memory size {mem} MB is not a positive multiple of 4 MB."),
        );
    }
    let running = vm.power == Power::On;
    if running {
        if h.cpus.is_some_and(|c| c as u32 > vm.cpus) && !vm.cpu_hot_add
            || h.cpus.is_some_and(|c| (c as u32) < vm.cpus)
        {
            return bad(
                ctx,
                &format!(
                    "The CPU count of VM \"{}\" cannot change while it is powered on (CPU hot add is off).",
                    vm.name
                ),
            );
        }
        if h.memory.is_some_and(|mm| mm as u32 > vm.memory_mb) && !vm.memory_hot_add
            || h.memory.is_some_and(|mm| (mm as u32) < vm.memory_mb)
        {
            return bad(
                ctx,
                &format!(
                    "The memory of VM \"{}\" cannot shrink or grow while it is powered on.",
                    vm.name
                ),
            );
        }
        let mut probe = vm.clone();
        probe.power = Power::Off;
        probe.cpus = cpus;
        probe.memory_mb = h.memory.map(|x| x as u32).unwrap_or(vm.memory_mb);
        let (cpu, mem, _) = vdc_usage(st, vm.vdc);
        let add_cpu = u64::from(probe.cpus.saturating_sub(vm.cpus)) * MHZ_PER_VCPU;
        let add_mem = u64::from(probe.memory_mb.saturating_sub(vm.memory_mb));
        if cpu + add_cpu > CPU_LIMIT_MHZ || mem + add_mem > MEMORY_LIMIT_MB {
            return bad(
                ctx,
                "The operation would exceed the vDC's compute allocation.",
            );
        }
    }
    if let Some(disks) = &h.disks {
        for d in disks {
            if let Some(old) = vm.disks.iter().find(|o| o.instance_id == d.instance_id)
                && d.size_mb < old.size_mb
            {
                return bad(
                    ctx,
                    &format!(
                        "Hard disk {} cannot shrink from {} MB to {} MB.",
                        d.instance_id, old.size_mb, d.size_mb
                    ),
                );
            }
        }
        let old: u64 = vm.disks.iter().map(|d| d.size_mb).sum();
        let new: u64 = disks.iter().map(|d| d.size_mb).sum();
        if new > old
            && let Err(r) = check_storage(ctx, st, vm.vdc, new - old)
        {
            return r;
        }
        if let Some(p) = &h
            .disk_profiles
            .iter()
            .find(|p| !p.ends_with(&storage_profile_id(vm.vdc).to_string()))
        {
            return bad(
                ctx,
                &format!("The storage profile \"{p}\" is not a storage profile of the VM's vDC."),
            );
        }
        if running && disks.len() < vm.disks.len() {
            return bad(
                ctx,
                &format!(
                    "Disks of VM \"{}\" cannot be removed while it is powered on.",
                    vm.name
                ),
            );
        }
    }
    if let Some(nics) = &h.nics {
        let vapp_nets = st
            .vapps
            .iter()
            .find(|a| a.id == vm.vapp)
            .map(|a| a.networks.clone())
            .unwrap_or_default();
        for n in nics {
            if !n.network.is_empty() && n.network != "none" && !vapp_nets.contains(&n.network) {
                return bad(
                    ctx,
                    &format!(
                        "The network \"{}\" is not a network of the vApp.",
                        n.network
                    ),
                );
            }
        }
    }
    let t = Target::Vm(m);
    start_task(
        ctx,
        st,
        t,
        op,
        format!("Updating Virtual Machine {}({})", vm.name, vm.id),
        move |st| {
            if let Some(v) = vm_mut(st, m) {
                if let Some(n) = &h.name {
                    v.name = n.clone();
                }
                if let Some(d) = &h.description {
                    v.description = d.clone();
                }
                if let Some(c) = h.cpus {
                    v.cpus = c as u32;
                }
                if let Some(c) = h.cores {
                    v.cores_per_socket = c as u32;
                }
                if let Some(mm) = h.memory {
                    v.memory_mb = mm as u32;
                }
                if let Some(d) = &h.disks {
                    v.disks = d.clone();
                }
                if let Some(n) = &h.nics {
                    v.nics = n.clone();
                    v.ip = n.first().map(|n| n.ip.clone()).unwrap_or_default();
                    v.network = n.first().map(|n| n.network.clone()).unwrap_or_default();
                }
                if let Some(c) = &h.customization {
                    v.customization = c.clone();
                }
            }
        },
        None,
    )
}

/// The NICs a `NetworkConnectionSection` asks for (the primary one first).
fn parse_connections(doc: &Element, vm: &Vm) -> Result<Vec<Nic>, String> {
    let mut nics = Vec::new();
    let primary = doc
        .child_text("PrimaryNetworkConnectionIndex")
        .and_then(|p| p.parse::<u32>().ok());
    for c in doc
        .children
        .iter()
        .filter(|c| c.name == "NetworkConnection")
    {
        let index = c
            .child_text("NetworkConnectionIndex")
            .and_then(|i| i.parse().ok())
            .unwrap_or(nics.len() as u32);
        let mode = c
            .child_text("IpAddressAllocationMode")
            .unwrap_or("DHCP")
            .to_owned();
        if !["DHCP", "POOL", "MANUAL", "NONE"].contains(&mode.as_str()) {
            return Err(format!("Invalid IpAddressAllocationMode \"{mode}\"."));
        }
        let ip = c.child_text("IpAddress").unwrap_or("").to_owned();
        if mode == "MANUAL" && ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err("MANUAL addressing needs an IpAddress.".into());
        }
        let old = vm.nics.iter().find(|n| n.index == index);
        nics.push(Nic {
            index,
            network: attr(c, "network").unwrap_or("none").to_owned(),
            ip: match mode.as_str() {
                "POOL" if ip.is_empty() => old
                    .map(|o| o.ip.clone())
                    .filter(|i| !i.is_empty())
                    .unwrap_or_else(|| format!("192.168.109.{}", 150 + index)),
                "DHCP" | "NONE" => String::new(),
                _ => ip,
            },
            mode,
            mac: c
                .child_text("MACAddress")
                .map(str::to_owned)
                .or_else(|| old.map(|o| o.mac.clone()))
                .unwrap_or_else(|| format!("00:50:56:aa:bb:{:02x}", index)),
            connected: c.child_text("IsConnected") != Some("false"),
            adapter: c
                .child_text("NetworkAdapterType")
                .unwrap_or("VMXNET3")
                .to_owned(),
        });
    }
    if let Some(p) = primary
        && let Some(pos) = nics.iter().position(|n| n.index == p)
    {
        let n = nics.remove(pos);
        nics.insert(0, n);
    }
    Ok(nics)
}

/// `POST /api/vApp/vm-{id}/action/reconfigureVm` (a whole Vm document; its
/// `NetworkConnectionSection`, when present, says what the NICs are).
fn reconfigure_vm(ctx: &Ctx<'_>, st: &mut State, m: Uuid, doc: &Element) -> Response {
    let Some(vm) = vm_of(st, m).cloned() else {
        return forbidden(ctx, &m.to_string());
    };
    let mut h = Hardware {
        name: attr(doc, "name").map(str::to_owned),
        description: doc.child("Description").map(|d| d.text.clone()),
        ..Hardware::default()
    };
    if let Some(sec) = doc.child("VirtualHardwareSection")
        && let Err(e) = hardware_from_section(sec, &vm, &mut h)
    {
        return bad(ctx, &e);
    }
    if let Some(sec) = doc.child("NetworkConnectionSection") {
        match parse_connections(sec, &vm) {
            Ok(n) => h.nics = Some(n),
            Err(e) => return bad(ctx, &e),
        }
    }
    if let Some(sec) = doc.child("GuestCustomizationSection") {
        h.customization = Some(parse_customization(sec, &vm.customization));
    }
    apply_hardware(ctx, st, m, h, "vappUpdateVm")
}

/// `GET /api/vApp/vm-{id}/{section...}`.
pub(crate) fn section_get(ctx: &Ctx<'_>, id: &str, path: &[&str]) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    let t = target(&st, id);
    let path: Vec<&str> = path.iter().copied().filter(|p| !p.is_empty()).collect();
    match (t, path.as_slice()) {
        (Some(Target::Vm(m)), ["virtualHardwareSection"]) => {
            let vm = vm_of(&st, m).expect("present");
            ok_xml(
                ctx,
                "application/vnd.vmware.vcloud.virtualHardwareSection+xml",
                &hardware_section(&st, &base, vm, true),
            )
        }
        (Some(Target::Vm(m)), ["virtualHardwareSection", part]) => {
            let vm = vm_of(&st, m).expect("present");
            let href = format!("{base}/api/vApp/vm-{m}/virtualHardwareSection/{part}");
            let item_ns = format!(
                " xmlns=\"{NS_VCLOUD}\" xmlns:vcloud=\"{NS_VCLOUD}\" xmlns:rasd=\"{NS_RASD}\" xmlns:ovf=\"{NS_OVF}\" xmlns:vmw=\"{NS_VMW}\""
            );
            let (body, mt) = match *part {
                "cpu" => (
                    cpu_item(vm).replacen(
                        "<ovf:Item>",
                        &format!(
                            "<Item{item_ns} vcloud:href=\"{}\" vcloud:type=\"application/vnd.vmware.vcloud.rasdItem+xml\">",
                            esc(&href)
                        ),
                        1,
                    ).replace("</ovf:Item>", "</Item>"),
                    "application/vnd.vmware.vcloud.rasdItem+xml",
                ),
                "memory" => (
                    memory_item(vm).replacen(
                        "<ovf:Item>",
                        &format!(
                            "<Item{item_ns} vcloud:href=\"{}\" vcloud:type=\"application/vnd.vmware.vcloud.rasdItem+xml\">",
                            esc(&href)
                        ),
                        1,
                    ).replace("</ovf:Item>", "</Item>"),
                    "application/vnd.vmware.vcloud.rasdItem+xml",
                ),
                "disks" | "networkCards" => {
                    let items = if *part == "disks" {
                        disk_items(&base, vm)
                    } else {
                        nic_items(vm)
                    }
                    .replace("<ovf:Item>", "<Item>")
                    .replace("</ovf:Item>", "</Item>");
                    (
                        format!(
                            "<RasdItemsList{item_ns}{}>{}{items}</RasdItemsList>",
                            a(&[
                                ("href", &href),
                                ("type", "application/vnd.vmware.vcloud.rasdItemsList+xml"),
                            ]),
                            link("edit", &href, Some("application/vnd.vmware.vcloud.rasdItemsList+xml"), None)
                        ),
                        "application/vnd.vmware.vcloud.rasdItemsList+xml",
                    )
                }
                _ => return forbidden(ctx, part),
            };
            ok_xml(ctx, mt, &body)
        }
        (Some(Target::Vm(m)), ["guestCustomizationSection"]) => ok_xml(
            ctx,
            "application/vnd.vmware.vcloud.guestCustomizationSection+xml",
            &customization_section(&base, vm_of(&st, m).expect("present"), true),
        ),
        (Some(Target::Vm(m)), ["networkConnectionSection"]) => ok_xml(
            ctx,
            "application/vnd.vmware.vcloud.networkConnectionSection+xml",
            &network_connection_section(&base, vm_of(&st, m).expect("present"), true),
        ),
        (Some(Target::Vm(m)), ["operatingSystemSection"]) => ok_xml(
            ctx,
            "application/vnd.vmware.vcloud.operatingSystemSection+xml",
            &os_section(&base, vm_of(&st, m).expect("present"), true),
        ),
        (Some(Target::Vm(m)), ["vmCapabilities"]) => ok_xml(
            ctx,
            "application/vnd.vmware.vcloud.vmCapabilitiesSection+xml",
            &capabilities_xml(&base, vm_of(&st, m).expect("present"), true),
        ),
        (Some(Target::Vm(m)), ["snapshotSection"]) => ok_xml(
            ctx,
            "application/vnd.vmware.vcloud.snapshotSection+xml",
            &snapshot_section(&base, vm_of(&st, m).expect("present"), true),
        ),
        (Some(Target::VApp(app_id)), ["networkConfigSection"]) => {
            let app = st.vapps.iter().find(|x| x.id == app_id).expect("present");
            let body = super::vapp_net::section_xml(&st, &base, app, true);
            ok_xml(
                ctx,
                "application/vnd.vmware.vcloud.networkConfigSection+xml",
                &body,
            )
        }
        (Some(Target::VApp(app_id)), ["owner"]) => {
            let app = st.vapps.iter().find(|x| x.id == app_id).expect("present");
            ok_xml(
                ctx,
                "application/vnd.vmware.vcloud.owner+xml",
                &format!(
                    "<Owner xmlns=\"{NS_VCLOUD}\"{}><User{}/></Owner>",
                    a_owner(&base, app_id),
                    a(&[
                        (
                            "href",
                            &format!("{base}/api/admin/user/{}", user_id(&app.owner))
                        ),
                        ("name", &app.owner),
                        ("type", "application/vnd.vmware.admin.user+xml"),
                    ])
                ),
            )
        }
        (Some(t), ["metadata"]) => {
            let (path, list) = meta_of(&st, t);
            ok_xml(
                ctx,
                "application/vnd.vmware.vcloud.metadata+xml",
                &metadata_xml(&base, &path, &list),
            )
        }
        (Some(t), ["metadata", key] | ["metadata", _, key]) => {
            let (path, list) = meta_of(&st, t);
            match list.iter().find(|m| m.key == *key) {
                Some(m) => ok_xml(
                    ctx,
                    "application/vnd.vmware.vcloud.metadata.value+xml",
                    &meta_entry_xml(m, &format!("{base}{path}/metadata/{key}"), true),
                ),
                None => vcd_error(
                    StatusCode::FORBIDDEN,
                    "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                    &format!("No metadata entry with key \"{key}\"."),
                    &ctx.version,
                ),
            }
        }
        (None, _) => forbidden(ctx, id),
        _ => vcd_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            &format!("No resource for GET {}.", ctx.path),
            &ctx.version,
        ),
    }
}

fn a_owner(base: &str, app: Uuid) -> String {
    a(&[
        ("href", &format!("{base}/api/vApp/vapp-{app}/owner")),
        ("type", "application/vnd.vmware.vcloud.owner+xml"),
    ])
}

fn meta_of(st: &State, t: Target) -> (String, Vec<Meta>) {
    match t {
        Target::VApp(a) => (
            format!("/api/vApp/vapp-{a}"),
            st.vapps
                .iter()
                .find(|x| x.id == a)
                .map(|x| x.metadata.clone())
                .unwrap_or_default(),
        ),
        Target::Vm(m) => (
            format!("/api/vApp/vm-{m}"),
            vm_of(st, m).map(|v| v.metadata.clone()).unwrap_or_default(),
        ),
    }
}

fn meta_list_mut(st: &mut State, t: Target) -> Option<&mut Vec<Meta>> {
    match t {
        Target::VApp(a) => vapp_mut(st, a).map(|x| &mut x.metadata),
        Target::Vm(m) => vm_mut(st, m).map(|v| &mut v.metadata),
    }
}

fn parse_meta_value(ctx: &Ctx<'_>, key: &str, el: &Element) -> Result<Meta, Response> {
    let domain = el.child_text("Domain").unwrap_or("GENERAL").to_owned();
    if domain != "GENERAL" && domain != "SYSTEM" {
        return Err(bad(ctx, &format!("Invalid metadata domain \"{domain}\".")));
    }
    let visibility = el
        .child("Domain")
        .and_then(|d| attr(d, "visibility"))
        .unwrap_or("READWRITE")
        .to_owned();
    if !["READWRITE", "READONLY", "PRIVATE"].contains(&visibility.as_str()) {
        return Err(bad(
            ctx,
            &format!("Invalid metadata visibility \"{visibility}\"."),
        ));
    }
    // vCD: GENERAL entries are read-write or read-only; SYSTEM entries are never
    // read-write for users.
    if domain == "SYSTEM" && visibility == "READWRITE" {
        return Err(bad(
            ctx,
            "Metadata in the SYSTEM domain cannot have READWRITE visibility.",
        ));
    }
    if domain == "GENERAL" && visibility == "PRIVATE" {
        return Err(bad(
            ctx,
            "Metadata in the GENERAL domain cannot have PRIVATE visibility.",
        ));
    }
    let tv = el.child("TypedValue");
    let kind = tv
        .and_then(|t| attr(t, "type"))
        .map(|t| t.rsplit(':').next().unwrap_or(t).to_owned())
        .unwrap_or_else(|| "MetadataStringValue".into());
    let value = tv
        .and_then(|t| t.child_text("Value"))
        .or_else(|| el.child_text("Value"))
        .unwrap_or("")
        .to_owned();
    let valid = match kind.as_str() {
        "MetadataStringValue" => true,
        "MetadataNumberValue" => value.parse::<i64>().is_ok(),
        "MetadataBooleanValue" => value == "true" || value == "false",
        "MetadataDateTimeValue" => value.len() >= 19 && value.as_bytes().get(10) == Some(&b'T'),
        _ => {
            return Err(bad(
                ctx,
                &format!("Unknown metadata value type \"{kind}\"."),
            ));
        }
    };
    if !valid {
        return Err(bad(
            ctx,
            &format!("The value \"{value}\" of metadata entry \"{key}\" is not a valid {kind}."),
        ));
    }
    if key.is_empty() {
        return Err(bad(ctx, "A metadata key must not be empty."));
    }
    Ok(Meta {
        key: key.to_owned(),
        visibility,
        domain,
        kind,
        value,
    })
}

/// `PUT` of a section or metadata value, `POST` of metadata, `DELETE` of a metadata key.
pub(crate) fn section_write(ctx: &Ctx<'_>, id: &str, path: &[&str]) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let body = match ctx.body_str() {
        Ok(b) => b.to_owned(),
        Err(r) => return *r,
    };
    let mut st = ctx.lock();
    let Some(t) = target(&st, id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let (kind, name) = kind_name(&st, t);
    if entity_busy(&st, &busy_set(&st, t), ctx.now) {
        drop(st);
        return busy(ctx, kind, &name);
    }
    let path: Vec<&str> = path.iter().copied().filter(|p| !p.is_empty()).collect();
    let method = ctx.method.clone();
    let doc = if method == Method::DELETE {
        Element::default()
    } else {
        match x::parse(&body) {
            Ok(d) => d,
            Err(e) => {
                drop(st);
                return bad(ctx, &format!("The request body is not valid XML: {e}"));
            }
        }
    };
    match (t, method, path.as_slice()) {
        (Target::VApp(app_id), Method::PUT, ["networkConfigSection"]) => {
            let Some(app) = st.vapps.iter().find(|x| x.id == app_id).cloned() else {
                return forbidden(ctx, id);
            };
            let nets = match super::vapp_net::parse_section(&st, &app, &doc) {
                Ok(n) => n,
                Err(e) => return bad(ctx, &e),
            };
            start_task(
                ctx,
                &mut st,
                t,
                "vappUpdateNetworkConfigSection",
                format!("Updating the networks of vApp {}({app_id})", app.name),
                move |st: &mut State| {
                    st.vapp_nets.retain(|(a, _), _| *a != app_id);
                    for (n, c) in &nets {
                        st.vapp_nets.insert((app_id, n.clone()), c.clone());
                    }
                    if let Some(x) = st.vapps.iter_mut().find(|x| x.id == app_id) {
                        x.networks = nets.iter().map(|(n, _)| n.clone()).collect();
                    }
                },
                None,
            )
        }
        (Target::Vm(m), Method::PUT, ["virtualHardwareSection", ..]) => {
            let Some(vm) = vm_of(&st, m).cloned() else {
                return forbidden(ctx, id);
            };
            let mut h = Hardware::default();
            if path.len() == 2 && path[1] == "disks" {
                match parse_disks(&items_of(&doc)) {
                    Ok(d) => {
                        h.disks = Some(d);
                        h.disk_profiles = disk_profiles(&items_of(&doc));
                    }
                    Err(e) => return bad(ctx, &e),
                }
            } else if path.len() == 2 && path[1] == "networkCards" {
                match parse_nics(&items_of(&doc), &vm) {
                    Ok(n) => h.nics = Some(n),
                    Err(e) => return bad(ctx, &e),
                }
            } else if path.len() == 2 && (path[1] == "cpu" || path[1] == "memory") {
                let wrapper = Element {
                    name: "VirtualHardwareSection".into(),
                    children: vec![Element {
                        name: "Item".into(),
                        ..doc.clone()
                    }],
                    ..Element::default()
                };
                if let Err(e) = hardware_from_section(&wrapper, &vm, &mut h) {
                    return bad(ctx, &e);
                }
                if path[1] == "cpu" && h.cpus.is_none() || path[1] == "memory" && h.memory.is_none()
                {
                    return bad(
                        ctx,
                        &format!("The {} item has the wrong ResourceType.", path[1]),
                    );
                }
            } else if let Err(e) = hardware_from_section(&doc, &vm, &mut h) {
                return bad(ctx, &e);
            }
            apply_hardware(ctx, &mut st, m, h, "vappUpdateVm")
        }
        (Target::Vm(m), Method::PUT, ["vmCapabilities"]) => {
            let Some(vm) = vm_of(&st, m).cloned() else {
                return forbidden(ctx, id);
            };
            let flag = |n: &str, old: bool| -> Result<bool, String> {
                match doc.child_text(n).map(str::trim) {
                    None => Ok(old),
                    Some("true" | "1") => Ok(true),
                    Some("false" | "0") => Ok(false),
                    Some(v) => Err(format!("{n} \"{v}\" is not a boolean.")),
                }
            };
            let (cpu, mem) = match (
                flag("CpuHotAddEnabled", vm.cpu_hot_add),
                flag("MemoryHotAddEnabled", vm.memory_hot_add),
            ) {
                (Ok(c), Ok(mm)) => (c, mm),
                (Err(e), _) | (_, Err(e)) => return bad(ctx, &e),
            };
            if vm.power == Power::On && (cpu != vm.cpu_hot_add || mem != vm.memory_hot_add) {
                return bad(
                    ctx,
                    &format!(
                        "The hot add settings of VM \"{}\" can only be changed while it is powered off.",
                        vm.name
                    ),
                );
            }
            let t = Target::Vm(m);
            start_task(
                ctx,
                &mut st,
                t,
                "vappUpdateVm",
                format!("Updating Virtual Machine {}({})", vm.name, vm.id),
                move |st| {
                    if let Some(v) = vm_mut(st, m) {
                        v.cpu_hot_add = cpu;
                        v.memory_hot_add = mem;
                    }
                },
                None,
            )
        }
        (Target::Vm(m), Method::PUT, ["guestCustomizationSection"]) => {
            let Some(vm) = vm_of(&st, m).cloned() else {
                return forbidden(ctx, id);
            };
            let c = parse_customization(&doc, &vm.customization);
            if c.computer_name.is_empty() || c.computer_name.len() > 63 {
                return bad(ctx, "The computer name must have 1 to 63 characters.");
            }
            let h = Hardware {
                customization: Some(c),
                ..Hardware::default()
            };
            apply_hardware(ctx, &mut st, m, h, "vappUpdateVm")
        }
        (Target::Vm(m), Method::PUT, ["networkConnectionSection"]) => {
            let Some(vm) = vm_of(&st, m).cloned() else {
                return forbidden(ctx, id);
            };
            let nics = match parse_connections(&doc, &vm) {
                Ok(n) => n,
                Err(e) => return bad(ctx, &e),
            };
            let h = Hardware {
                nics: Some(nics),
                ..Hardware::default()
            };
            apply_hardware(ctx, &mut st, m, h, "vappUpdateVm")
        }
        (Target::VApp(a), Method::PUT, ["owner"]) => {
            let Some(user) = doc.child("User").and_then(|u| {
                attr(u, "name").map(str::to_owned).or_else(|| {
                    attr(u, "href").map(|h| h.rsplit('/').next().unwrap_or("").to_owned())
                })
            }) else {
                return bad(ctx, "The Owner document needs a User reference.");
            };
            let user = if let Ok(u) = Uuid::parse_str(&user) {
                if u == user_id("admin") {
                    "admin".into()
                } else {
                    format!("user-{u}")
                }
            } else {
                user
            };
            if let Some(app) = vapp_mut(&mut st, a) {
                app.owner = user;
            }
            respond(StatusCode::NO_CONTENT, "text/plain", "")
        }
        (t, Method::POST, ["metadata"]) => {
            let mut entries = Vec::new();
            for e in doc.children.iter().filter(|c| c.name == "MetadataEntry") {
                let key = e.child_text("Key").unwrap_or("").to_owned();
                match parse_meta_value(ctx, &key, e) {
                    Ok(m) => entries.push(m),
                    Err(r) => return r,
                }
            }
            start_task(
                ctx,
                &mut st,
                t,
                "metadataUpdate",
                format!("Updating metadata of {kind} {name}"),
                move |st| {
                    if let Some(list) = meta_list_mut(st, t) {
                        for e in &entries {
                            list.retain(|m| m.key != e.key);
                            list.push(e.clone());
                        }
                    }
                },
                None,
            )
        }
        (t, Method::PUT, ["metadata", key] | ["metadata", _, key]) => {
            let key = (*key).to_owned();
            let entry = match parse_meta_value(ctx, &key, &doc) {
                Ok(m) => m,
                Err(r) => return r,
            };
            start_task(
                ctx,
                &mut st,
                t,
                "metadataUpdate",
                format!("Updating metadata of {kind} {name}"),
                move |st| {
                    if let Some(list) = meta_list_mut(st, t) {
                        list.retain(|m| m.key != entry.key);
                        list.push(entry.clone());
                    }
                },
                None,
            )
        }
        (t, Method::DELETE, ["metadata", key] | ["metadata", _, key]) => {
            let key = (*key).to_owned();
            let exists = meta_of(&st, t).1.iter().any(|m| m.key == key);
            if !exists {
                drop(st);
                return vcd_error(
                    StatusCode::FORBIDDEN,
                    "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                    &format!("No metadata entry with key \"{key}\"."),
                    &ctx.version,
                );
            }
            start_task(
                ctx,
                &mut st,
                t,
                "metadataDelete",
                format!("Deleting metadata of {kind} {name}"),
                move |st| {
                    if let Some(list) = meta_list_mut(st, t) {
                        list.retain(|m| m.key != key);
                    }
                },
                None,
            )
        }
        _ => {
            drop(st);
            vcd_error(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_FOUND",
                &format!("No resource for {} {}.", ctx.method, ctx.path),
                &ctx.version,
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Instantiate, compose, recompose

fn template_by_href(st: &State, href: &str) -> Option<Template> {
    let seg = href.trim_end_matches('/').rsplit('/').next()?;
    let u = parse_id(seg, "vappTemplate")?;
    st.templates.iter().find(|t| t.id == u).cloned()
}

fn template_vm_by_href(st: &State, href: &str) -> Option<(Template, TemplateVm)> {
    let seg = href.trim_end_matches('/').rsplit('/').next()?;
    let u = parse_id(seg, "vm")?;
    st.templates.iter().find_map(|t| {
        t.vms
            .iter()
            .find(|v| v.id == u)
            .map(|v| (t.clone(), v.clone()))
    })
}

/// Per-VM settings from a `SourcedItem`/`SourcedVmInstantiationParams`.
#[derive(Debug, Default, Clone)]
struct VmParams {
    name: Option<String>,
    computer_name: Option<String>,
    network: Option<String>,
    mode: Option<String>,
    ip: Option<String>,
    storage_profile: Option<String>,
}

fn sourced_params(item: &Element) -> VmParams {
    let mut p = VmParams::default();
    if let Some(g) = item.child("VmGeneralParams") {
        p.name = g.child_text("Name").map(str::to_owned);
    }
    if let Some(ip) = item.child("InstantiationParams") {
        if let Some(nc) = ip.child("NetworkConnectionSection")
            && let Some(c) = nc.child("NetworkConnection")
        {
            p.network = attr(c, "network").map(str::to_owned);
            p.mode = c.child_text("IpAddressAllocationMode").map(str::to_owned);
            p.ip = c.child_text("IpAddress").map(str::to_owned);
        }
        if let Some(gc) = ip.child("GuestCustomizationSection") {
            p.computer_name = gc.child_text("ComputerName").map(str::to_owned);
        }
    }
    if let Some(sp) = item.child("StorageProfile") {
        p.storage_profile = attr(sp, "name")
            .map(str::to_owned)
            .or_else(|| Some("*".into()));
    }
    p
}

fn vm_from_template(
    st: &State,
    vdc: Uuid,
    vapp: Uuid,
    tvm: &TemplateVm,
    p: &VmParams,
    network: &str,
    index: usize,
) -> Result<Vm, String> {
    let id = crate::random_uuid();
    let name = p.name.clone().unwrap_or_else(|| tvm.name.clone());
    let mode = p.mode.clone().unwrap_or_else(|| "POOL".into());
    if !["DHCP", "POOL", "MANUAL", "NONE"].contains(&mode.as_str()) {
        return Err(format!("Invalid IpAddressAllocationMode \"{mode}\"."));
    }
    let net = p.network.clone().unwrap_or_else(|| network.to_owned());
    let ip = match mode.as_str() {
        "POOL" => format!("192.168.109.{}", 120 + (st.vms.len() % 100) + index),
        "MANUAL" => {
            let ip = p.ip.clone().unwrap_or_default();
            if ip.parse::<std::net::Ipv4Addr>().is_err() {
                return Err(format!(
                    "MANUAL addressing needs an IpAddress, got \"{ip}\"."
                ));
            }
            ip
        }
        _ => String::new(),
    };
    let mut vm = new_vm(VmSeed {
        id,
        vapp,
        vdc,
        name: &name,
        power: Power::Off,
        guest_os: &tvm.guest_os,
        cpus: tvm.cpus,
        memory_mb: tvm.memory_mb,
        ip: &ip,
        network: &net,
        disk_mb: tvm.disk_mb,
    });
    vm.nics[0].mode = mode;
    if let Some(c) = &p.computer_name {
        vm.customization.computer_name = c.clone();
    }
    if let Some(s) = &p.storage_profile {
        vm.storage_profile = s.clone();
    }
    vm.deployed = false;
    vm.power = Power::Unresolved;
    Ok(vm)
}

/// The vApp network of the instantiation params (`NetworkConfigSection`), defaulting to the
/// vDC's `default-routed`; a parent network the vDC lacks is refused.
fn vapp_network(params: Option<&Element>) -> Result<String, String> {
    let Some(ip) = params else {
        return Ok("default-routed".into());
    };
    let Some(sec) = ip.child("NetworkConfigSection") else {
        return Ok("default-routed".into());
    };
    let Some(cfg) = sec.child("NetworkConfig") else {
        return Ok("default-routed".into());
    };
    let name = attr(cfg, "networkName")
        .unwrap_or("default-routed")
        .to_owned();
    if let Some(parent) = cfg
        .child("Configuration")
        .and_then(|c| c.child("ParentNetwork"))
    {
        let pname = attr(parent, "name").unwrap_or("");
        let phref = attr(parent, "href").unwrap_or("");
        if pname != "default-routed" && !phref.contains("/api/network/") {
            return Err(format!("The vDC has no network \"{pname}\"."));
        }
    }
    Ok(name)
}

fn finish_creation(vapp: Uuid, deploy: bool, power_on: bool) -> impl Fn(&mut State) + Send + Sync {
    move |st: &mut State| {
        let to = if power_on { Power::On } else { Power::Off };
        for v in st.vms.iter_mut().filter(|v| v.vapp == vapp) {
            v.power = if power_on { Power::On } else { Power::Off };
            v.deployed = deploy || power_on;
            if power_on && v.customization.enabled {
                v.customized_count += 1;
            }
        }
        if let Some(app) = st.vapps.iter_mut().find(|a| a.id == vapp) {
            app.power = if power_on || deploy {
                to
            } else {
                Power::Resolved
            };
            app.deployed = deploy || power_on;
        }
    }
}

fn failed_creation(vapp: Uuid) -> WorkloadFn {
    WorkloadFn(Arc::new(move |st: &mut State| {
        for v in st.vms.iter_mut().filter(|v| v.vapp == vapp) {
            v.power = Power::FailedCreation;
        }
        if let Some(app) = st.vapps.iter_mut().find(|a| a.id == vapp) {
            app.power = Power::FailedCreation;
        }
    }))
}

fn flag(e: &Element, name: &str, default: bool) -> bool {
    attr(e, name).map(|v| v == "true").unwrap_or(default)
}

/// Creates the vApp record (status 0) and its VMs, then answers with the vApp and its task.
#[allow(clippy::too_many_arguments)]
fn create_vapp(
    ctx: &Ctx<'_>,
    st: &mut State,
    vdc: Uuid,
    name: &str,
    description: String,
    network: String,
    mut vms: Vec<Vm>,
    deploy: bool,
    power_on: bool,
    op: &str,
) -> Response {
    if st.vapps.iter().any(|a| a.vdc == vdc && a.name == name) {
        return vcd_error(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            &format!("The VCD entity {name} already exists."),
            &ctx.version,
        );
    }
    let disk: u64 = vms
        .iter()
        .flat_map(|v| v.disks.iter())
        .map(|d| d.size_mb)
        .sum();
    if let Err(r) = check_storage(ctx, st, vdc, disk) {
        return r;
    }
    if power_on {
        let (cpu, mem, _) = vdc_usage(st, vdc);
        let add_cpu: u64 = vms.iter().map(|v| u64::from(v.cpus) * MHZ_PER_VCPU).sum();
        let add_mem: u64 = vms.iter().map(|v| u64::from(v.memory_mb)).sum();
        if cpu + add_cpu > CPU_LIMIT_MHZ || mem + add_mem > MEMORY_LIMIT_MB {
            return bad(
                ctx,
                "The operation would exceed the vDC's compute allocation.",
            );
        }
    }
    let id = crate::random_uuid();
    for v in &mut vms {
        v.vapp = id;
    }
    let mut app = new_vapp(
        id,
        vdc,
        name,
        Power::Unresolved,
        false,
        &super::common::iso8601(std::time::SystemTime::now()),
    );
    app.description = description;
    app.networks = vec![network];
    st.vapps.push(app);
    st.vms.extend(vms);
    let owner = owner_of(st, Target::VApp(id));
    let entities = busy_set(st, Target::VApp(id));
    let tid = st.new_task(
        op,
        format!("Creating Virtual Application {name}({id})"),
        owner,
        Effect::Workload {
            ok: WorkloadFn(Arc::new(finish_creation(id, deploy, power_on))),
            failed: Some(failed_creation(id)),
        },
        &ctx.prefix,
        None,
        None,
    );
    if let Some(t) = st.tasks.get_mut(&tid) {
        t.entities = entities;
    }
    let base = ctx.base();
    let Some(app) = st.vapps.iter().find(|a| a.id == id).cloned() else {
        return bad(ctx, "vanished");
    };
    let task = st
        .tasks
        .get(&tid)
        .map(|t| super::vcd::task_xml(&ctx.shared.origin, st, t, ctx.now))
        .unwrap_or_default();
    // The vApp as vCD answers a creation: the new vApp with its task in Tasks.
    let mut body = vapp_xml(st, &base, &app);
    let task_inner = task.replacen(&format!("<Task xmlns=\"{NS_VCLOUD}\""), "<Task", 1);
    if let Some(pos) = body.find("</Description>") {
        body.insert_str(
            pos + "</Description>".len(),
            &format!("<Tasks>{task_inner}</Tasks>"),
        );
    }
    let mut resp = vcd_xml(StatusCode::CREATED, MT_VAPP, &ctx.version, &body);
    if let Ok(v) = http::HeaderValue::from_str(&format!("{base}/api/vApp/vapp-{id}")) {
        resp.headers_mut().insert("location", v);
    }
    resp
}

/// `POST /api/vdc/{id}/action/instantiateVAppTemplate`.
pub(crate) fn instantiate(ctx: &Ctx<'_>, vdc_id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let body = match ctx.body_str() {
        Ok(b) => b.to_owned(),
        Err(r) => return *r,
    };
    let Ok(doc) = x::parse(&body) else {
        return bad(ctx, "The request body is not valid XML.");
    };
    let mut st = ctx.lock();
    let Some(vdc) = parse_id(vdc_id, "").filter(|u| st.vdcs.iter().any(|v| v.id == *u)) else {
        drop(st);
        return forbidden(ctx, vdc_id);
    };
    let Some(name) = attr(&doc, "name")
        .filter(|n| !n.trim().is_empty())
        .map(str::to_owned)
    else {
        drop(st);
        return bad(ctx, "InstantiateVAppTemplateParams need a name.");
    };
    let Some(source) = doc
        .child("Source")
        .and_then(|s| attr(s, "href"))
        .map(str::to_owned)
    else {
        drop(st);
        return bad(ctx, "InstantiateVAppTemplateParams need a Source.");
    };
    let Some(template) = template_by_href(&st, &source) else {
        drop(st);
        return vcd_error(
            StatusCode::FORBIDDEN,
            "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
            &format!("No access to entity \"{source}\"."),
            &ctx.version,
        );
    };
    let vdc_org = st.vdcs.iter().find(|v| v.id == vdc).map(|v| v.org);
    let tpl_org = st.vdcs.iter().find(|v| v.id == template.vdc).map(|v| v.org);
    if vdc_org != tpl_org {
        drop(st);
        return vcd_error(
            StatusCode::FORBIDDEN,
            "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
            &format!(
                "The vApp template \"{}\" belongs to another organization.",
                template.name
            ),
            &ctx.version,
        );
    }
    let network = match vapp_network(doc.child("InstantiationParams")) {
        Ok(n) => n,
        Err(e) => {
            drop(st);
            return bad(ctx, &e);
        }
    };
    let deploy = flag(&doc, "deploy", true);
    let power_on = flag(&doc, "powerOn", true);
    let description = doc
        .child("Description")
        .map(|d| d.text.clone())
        .unwrap_or_default();
    let mut vms = Vec::new();
    for (i, tvm) in template.vms.iter().enumerate() {
        let href_tail = format!("vm-{}", tvm.id);
        let p = doc
            .children
            .iter()
            .filter(|c| c.name == "SourcedItem" || c.name == "SourcedVmInstantiationParams")
            .find(|c| {
                c.child("Source")
                    .and_then(|s| attr(s, "href"))
                    .is_some_and(|h| h.ends_with(&href_tail))
            })
            .map(sourced_params)
            .unwrap_or_default();
        match vm_from_template(&st, vdc, Uuid::nil(), tvm, &p, &network, i) {
            Ok(v) => vms.push(v),
            Err(e) => {
                drop(st);
                return bad(ctx, &e);
            }
        }
    }
    create_vapp(
        ctx,
        &mut st,
        vdc,
        &name,
        description,
        network,
        vms,
        deploy,
        power_on,
        "vdcInstantiateVapp",
    )
}

/// `POST /api/vdc/{id}/action/composeVApp`.
pub(crate) fn compose(ctx: &Ctx<'_>, vdc_id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let body = match ctx.body_str() {
        Ok(b) => b.to_owned(),
        Err(r) => return *r,
    };
    let Ok(doc) = x::parse(&body) else {
        return bad(ctx, "The request body is not valid XML.");
    };
    let mut st = ctx.lock();
    let Some(vdc) = parse_id(vdc_id, "").filter(|u| st.vdcs.iter().any(|v| v.id == *u)) else {
        drop(st);
        return forbidden(ctx, vdc_id);
    };
    let Some(name) = attr(&doc, "name")
        .filter(|n| !n.trim().is_empty())
        .map(str::to_owned)
    else {
        drop(st);
        return bad(ctx, "ComposeVAppParams need a name.");
    };
    let network = match vapp_network(doc.child("InstantiationParams")) {
        Ok(n) => n,
        Err(e) => {
            drop(st);
            return bad(ctx, &e);
        }
    };
    let mut vms = Vec::new();
    for (i, item) in doc
        .children
        .iter()
        .filter(|c| c.name == "SourcedItem")
        .enumerate()
    {
        let Some(href) = item.child("Source").and_then(|s| attr(s, "href")) else {
            drop(st);
            return bad(ctx, "Every SourcedItem needs a Source.");
        };
        let Some((_, tvm)) = template_vm_by_href(&st, href) else {
            drop(st);
            return vcd_error(
                StatusCode::FORBIDDEN,
                "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                &format!("No access to entity \"{href}\"."),
                &ctx.version,
            );
        };
        match vm_from_template(
            &st,
            vdc,
            Uuid::nil(),
            &tvm,
            &sourced_params(item),
            &network,
            i,
        ) {
            Ok(v) => vms.push(v),
            Err(e) => {
                drop(st);
                return bad(ctx, &e);
            }
        }
    }
    let deploy = flag(&doc, "deploy", false);
    let power_on = flag(&doc, "powerOn", false);
    let description = doc
        .child("Description")
        .map(|d| d.text.clone())
        .unwrap_or_default();
    create_vapp(
        ctx,
        &mut st,
        vdc,
        &name,
        description,
        network,
        vms,
        deploy,
        power_on,
        "vdcComposeVapp",
    )
}

/// `POST /api/vApp/vapp-{id}/action/recomposeVApp`: add VMs from templates, delete VMs.
fn recompose(ctx: &Ctx<'_>, st: &mut State, a: Uuid, doc: &Element) -> Response {
    let Some(app) = st.vapps.iter().find(|x| x.id == a).cloned() else {
        return forbidden(ctx, &a.to_string());
    };
    let network = app
        .networks
        .first()
        .cloned()
        .unwrap_or_else(|| "default-routed".into());
    let mut add = Vec::new();
    for (i, item) in doc
        .children
        .iter()
        .filter(|c| c.name == "SourcedItem")
        .enumerate()
    {
        let Some(href) = item.child("Source").and_then(|s| attr(s, "href")) else {
            return bad(ctx, "Every SourcedItem needs a Source.");
        };
        let Some((_, tvm)) = template_vm_by_href(st, href) else {
            return vcd_error(
                StatusCode::FORBIDDEN,
                "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                &format!("No access to entity \"{href}\"."),
                &ctx.version,
            );
        };
        match vm_from_template(st, app.vdc, a, &tvm, &sourced_params(item), &network, i) {
            Ok(mut v) => {
                v.power = Power::Off;
                add.push(v);
            }
            Err(e) => return bad(ctx, &e),
        }
    }
    let mut delete = Vec::new();
    for d in doc.children.iter().filter(|c| c.name == "DeleteItem") {
        let href = attr(d, "href").unwrap_or("");
        let Some(u) = href.rsplit('/').next().and_then(|s| parse_id(s, "vm")) else {
            return bad(ctx, &format!("DeleteItem href \"{href}\" is not a VM."));
        };
        match vm_of(st, u) {
            Some(v) if v.vapp == a => {
                if v.power == Power::On {
                    return bad(
                        ctx,
                        &format!(
                            "VM \"{}\" must be powered off before it is deleted.",
                            v.name
                        ),
                    );
                }
                delete.push(u);
            }
            _ => return bad(ctx, &format!("VM {u} is not in vApp \"{}\".", app.name)),
        }
    }
    let disk: u64 = add
        .iter()
        .flat_map(|v| v.disks.iter())
        .map(|d| d.size_mb)
        .sum();
    if let Err(r) = check_storage(ctx, st, app.vdc, disk) {
        return r;
    }
    let new_name = attr(doc, "name").map(str::to_owned);
    start_task(
        ctx,
        st,
        Target::VApp(a),
        "vdcRecomposeVapp",
        format!("Updating Virtual Application {}({a})", app.name),
        move |st| {
            st.vms.retain(|v| !delete.contains(&v.id));
            st.vms.extend(add.iter().cloned());
            if let Some(n) = &new_name
                && let Some(app) = vapp_mut(st, a)
            {
                app.name = n.clone();
            }
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computer_names_are_valid() {
        assert_eq!(computer_name("web 01_long-name-here!"), "web-01-long-nam");
        assert_eq!(computer_name(""), "vm");
    }

    #[test]
    fn user_ids_are_stable() {
        assert_eq!(user_id("admin"), user_id("admin"));
        assert_ne!(user_id("admin"), user_id("bob"));
    }
}
