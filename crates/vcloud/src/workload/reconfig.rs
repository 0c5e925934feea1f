//! VM reconfiguration: CPU, memory, hard disks, NICs, hot-add flags, guest customization,
//! media, and the typed power and guest tools state.
//!
//! Every change reads the section it touches as a typed document
//! (`virtualHardwareSection/cpu`, `.../memory`, `.../disks`, `networkConnectionSection`,
//! `guestCustomizationSection`, `vmCapabilities`), changes it and `PUT`s it back, so
//! elements and attributes the model does not know survive. Each returns a [`Pending`]
//! whose request is retried while vCD answers `BUSY_ENTITY`; input that is wrong before
//! anything is sent (0 CPUs, memory that is not a multiple of 4 MB, shrinking a disk) is a
//! typed [`WorkloadError::InvalidValue`].

use nebulair_core::{ExposeSecret as _, Result, SecretString};

use super::error::WorkloadError;
use super::id::EntityKind;
use super::lifecycle::under;
use super::ops::{Pending, retry_busy};
use super::params::IpAllocation;
use super::vm::VmHandle;
use crate::client::ApiRequest;
use crate::model::vcd::helpers::resource_type;
use crate::model::vcd::{
    Document, GuestCustomizationSection, MediaInsertOrEjectParams, NS_VMW, NetworkConnection,
    NetworkConnectionSection, RASD, RasdItemsList, Reference, VAppStatus, Vdc,
    VirtualHardwareSection, Vm, VmCapabilities, XmlAttribute, XmlText, media,
};
use crate::model::xml::XmlElement;

/// The media type of a `VmCapabilities` section.
pub const VM_CAPABILITIES: &str = "application/vnd.vmware.vcloud.vmCapabilitiesSection+xml";

/// The controller a hard disk hangs on (`vcloud:busType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BusType {
    /// IDE (5).
    Ide,
    /// SCSI (6), the default.
    #[default]
    Scsi,
    /// SATA (20).
    Sata,
}

impl BusType {
    /// The `busType` code.
    pub fn code(self) -> i64 {
        match self {
            BusType::Ide => 5,
            BusType::Scsi => 6,
            BusType::Sata => 20,
        }
    }

    /// The `busSubType` vCD uses when none is given.
    pub fn default_sub_type(self) -> &'static str {
        match self {
            BusType::Ide => "ide",
            BusType::Scsi => "VirtualSCSI",
            BusType::Sata => "vmware.sata.ahci",
        }
    }
}

/// A new hard disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSpec {
    /// Size in MB (positive).
    pub size_mb: i64,
    /// The controller type.
    pub bus: BusType,
    /// The controller sub type (`lsilogic`, `VirtualSCSI`...); the bus default when `None`.
    pub bus_sub_type: Option<String>,
    /// A storage profile of the VM's vDC by name; the VM's own when `None`.
    pub storage_profile: Option<String>,
}

impl DiskSpec {
    /// A SCSI disk of this size on the VM's storage profile.
    pub fn new(size_mb: i64) -> Self {
        DiskSpec {
            size_mb,
            bus: BusType::Scsi,
            bus_sub_type: None,
            storage_profile: None,
        }
    }

    /// Sets the bus.
    pub fn bus(mut self, bus: BusType) -> Self {
        self.bus = bus;
        self
    }

    /// Sets the bus sub type.
    pub fn bus_sub_type(mut self, s: impl Into<String>) -> Self {
        self.bus_sub_type = Some(s.into());
        self
    }

    /// Sets the storage profile (by name).
    pub fn storage_profile(mut self, name: impl Into<String>) -> Self {
        self.storage_profile = Some(name.into());
        self
    }
}

/// A new NIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicSpec {
    /// The vApp network it connects to (`none` for none).
    pub network: String,
    /// How it gets its address.
    pub ip: IpAllocation,
    /// Make it the primary NIC.
    pub primary: bool,
    /// Connected (default true).
    pub connected: bool,
    /// The adapter type (`VMXNET3`, `E1000`...), vCD's default when `None`.
    pub adapter_type: Option<String>,
}

impl NicSpec {
    /// A connected, non-primary NIC on `network`.
    pub fn new(network: impl Into<String>, ip: IpAllocation) -> Self {
        NicSpec {
            network: network.into(),
            ip,
            primary: false,
            connected: true,
            adapter_type: None,
        }
    }

    /// Makes it the primary NIC.
    pub fn primary(mut self) -> Self {
        self.primary = true;
        self
    }

    /// Sets the connected flag.
    pub fn connected(mut self, c: bool) -> Self {
        self.connected = c;
        self
    }

    /// Sets the adapter type.
    pub fn adapter_type(mut self, t: impl Into<String>) -> Self {
        self.adapter_type = Some(t.into());
        self
    }
}

/// A change of an existing NIC (what is `None` stays).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NicUpdate {
    /// A new network.
    pub network: Option<String>,
    /// A new addressing mode.
    pub ip: Option<IpAllocation>,
    /// Make it the primary NIC (`Some(true)`).
    pub primary: Option<bool>,
    /// Connect or disconnect.
    pub connected: Option<bool>,
}

/// The administrator password of guest customization. `Debug` never shows the password.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AdminPassword {
    /// No administrator password is set (`AdminPasswordEnabled` false).
    Disabled,
    /// vCD generates one (`AdminPasswordAuto`).
    Auto,
    /// This password.
    Set(SecretString),
}

impl AdminPassword {
    /// A given password.
    pub fn set(password: impl Into<String>) -> Self {
        AdminPassword::Set(SecretString::from(password.into()))
    }
}

/// Guest customization settings; what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct GuestCustomization {
    /// Enable or disable customization.
    pub enabled: Option<bool>,
    /// The computer (host) name: 1 to 63 letters, digits or `-`.
    pub computer_name: Option<String>,
    /// The administrator password.
    pub admin_password: Option<AdminPassword>,
    /// Auto-logon count (0 turns auto-logon off; at most 100).
    pub auto_logon_count: Option<u32>,
    /// Require a password change at first logon.
    pub reset_password_required: Option<bool>,
    /// The customization script (an empty string removes it).
    pub script: Option<String>,
}

/// The state of the guest tools, from `RuntimeInfoSection/VMWareTools@version` and the power
/// state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolsStatus {
    /// No tools version is reported (or version 0).
    NotInstalled,
    /// Installed, the VM is not powered on.
    NotRunning {
        /// The tools version.
        version: String,
    },
    /// Installed and the VM is powered on.
    Running {
        /// The tools version.
        version: String,
    },
}

impl ToolsStatus {
    /// The status of a VM document.
    pub fn of(vm: &Vm) -> ToolsStatus {
        match vm.tools_version().map(str::trim) {
            None | Some("") | Some("0") => ToolsStatus::NotInstalled,
            Some(v) if vm.status_typed() == Some(VAppStatus::PoweredOn) => ToolsStatus::Running {
                version: v.to_owned(),
            },
            Some(v) => ToolsStatus::NotRunning {
                version: v.to_owned(),
            },
        }
    }
}

/// The hot-add flags of a VM document (`VmCapabilities`): `(cpu, memory)`.
pub fn hot_add_of(vm: &Vm) -> (bool, bool) {
    vm.vm_capabilities
        .as_ref()
        .map(|c| {
            (
                c.cpu_hot_add_enabled.unwrap_or(false),
                c.memory_hot_add_enabled.unwrap_or(false),
            )
        })
        .unwrap_or((false, false))
}

fn invalid(what: &'static str, reason: impl Into<String>) -> nebulair_core::Error {
    WorkloadError::invalid(what, reason).into()
}

/// Checks a CPU count and cores per socket.
///
/// # Errors
/// [`WorkloadError::InvalidValue`] for a count or cores below 1, or cores that do not
/// divide the count.
pub fn check_cpu(count: i64, cores_per_socket: i64) -> Result<()> {
    if count < 1 {
        return Err(invalid("cpu count", format!("{count} is not at least 1")));
    }
    if cores_per_socket < 1 {
        return Err(invalid(
            "cores per socket",
            format!("{cores_per_socket} is not at least 1"),
        ));
    }
    if count % cores_per_socket != 0 {
        return Err(invalid(
            "cores per socket",
            format!("{cores_per_socket} cores per socket do not divide {count} CPUs"),
        ));
    }
    Ok(())
}

/// Checks a memory size.
///
/// # Errors
/// [`WorkloadError::InvalidValue`] unless it is a positive multiple of 4 MB.
pub fn check_memory_mb(mb: i64) -> Result<()> {
    if mb < 4 || mb % 4 != 0 {
        return Err(invalid(
            "memory",
            format!("{mb} MB is not a positive multiple of 4 MB"),
        ));
    }
    Ok(())
}

fn check_computer_name(c: &str) -> Result<()> {
    if c.is_empty() || c.len() > 63 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    {
        return Err(invalid(
            "computer name",
            format!("{c:?} must be 1 to 63 letters, digits or '-'"),
        ));
    }
    Ok(())
}

fn set_text(t: &mut Option<XmlText>, value: impl Into<String>) {
    match t {
        Some(t) => t.value = value.into(),
        None => *t = Some(XmlText::new(value)),
    }
}

/// Sets (or adds, in the vCloud namespace) an attribute of a simple-content element.
fn set_attr(t: &mut XmlText, name: &str, value: &str) {
    match t.attributes.iter_mut().find(|a| a.name == name) {
        Some(a) => a.value = value.to_owned(),
        None => t.attributes.push(XmlAttribute::new(
            Some(crate::model::vcd::NS_VCLOUD),
            name,
            value,
        )),
    }
}

/// Applies a CPU change to a CPU RASD item.
pub(crate) fn apply_cpu(item: &mut RASD, count: i64, cores: i64) {
    set_text(&mut item.virtual_quantity, count.to_string());
    set_text(&mut item.element_name, format!("{count} virtual CPU(s)"));
    match item
        .other_elements
        .iter_mut()
        .find(|e| e.name() == "CoresPerSocket")
    {
        Some(e) => e.set_text(cores.to_string()),
        None => {
            let mut e = XmlElement::new_ns(NS_VMW, "CoresPerSocket");
            e.push_attr(
                Some(crate::model::vcd::NS_OVF.to_owned()),
                "required",
                "false",
            );
            e.set_text(cores.to_string());
            item.other_elements.push(e);
        }
    }
}

/// A new disk item after the disks of `list`.
pub(crate) fn new_disk_item(
    list: &RasdItemsList,
    spec: &DiskSpec,
    profile_href: Option<&str>,
) -> RASD {
    let bus = spec.bus.code();
    let disks: Vec<&RASD> = list
        .items
        .iter()
        .filter(|i| i.resource_type_code() == Some(resource_type::DISK))
        .collect();
    let on_bus = |i: &&&RASD| {
        i.host_resources.first().and_then(|h| h.attr("busType")) == Some(&*bus.to_string())
    };
    let unit = disks
        .iter()
        .filter(on_bus)
        .filter_map(|i| {
            i.address_on_parent
                .as_ref()?
                .value
                .trim()
                .parse::<i64>()
                .ok()
        })
        .max()
        .map_or(0, |u| u + 1);
    let instance = disks
        .iter()
        .filter_map(|i| i.instance_id_value())
        .max()
        .map_or(2000, |i| i + 1);
    let parent = disks.iter().find(on_bus).and_then(|i| i.parent.clone());
    let mut host = XmlText::new("");
    set_attr(&mut host, "capacity", &spec.size_mb.to_string());
    set_attr(
        &mut host,
        "busSubType",
        spec.bus_sub_type
            .as_deref()
            .unwrap_or(spec.bus.default_sub_type()),
    );
    set_attr(&mut host, "busType", &bus.to_string());
    if let Some(p) = profile_href {
        set_attr(&mut host, "storageProfileHref", p);
    }
    RASD {
        address_on_parent: Some(XmlText::new(unit.to_string())),
        description: Some(XmlText::new("Hard disk")),
        element_name: Some(XmlText::new(format!("Hard disk {}", disks.len() + 1))),
        host_resources: vec![host],
        instance_id: Some(XmlText::new(instance.to_string())),
        parent,
        resource_type: Some(XmlText::new(resource_type::DISK.to_string())),
        virtual_quantity: Some(XmlText::new((spec.size_mb * 1024 * 1024).to_string())),
        virtual_quantity_units: Some(XmlText::new("byte")),
        ..RASD::default()
    }
}

/// Resizes the disk `instance_id` of `list`.
///
/// # Errors
/// [`WorkloadError::NotFound`] for an unknown disk; [`WorkloadError::InvalidValue`] when the
/// size is not positive or smaller than now (vCD does not shrink disks).
pub(crate) fn resize_disk_in(
    list: &mut RasdItemsList,
    instance_id: i64,
    size_mb: i64,
) -> Result<()> {
    if size_mb < 1 {
        return Err(invalid(
            "disk size",
            format!("{size_mb} MB is not positive"),
        ));
    }
    let item = disk_item(list, instance_id)?;
    let host = item
        .host_resources
        .first_mut()
        .ok_or_else(|| invalid("disk", "the disk item has no HostResource"))?;
    let current: Option<i64> = host.attr("capacity").and_then(|c| c.parse().ok());
    if let Some(cur) = current
        && size_mb < cur
    {
        return Err(invalid(
            "disk size",
            format!("disk {instance_id} cannot shrink from {cur} MB to {size_mb} MB"),
        ));
    }
    set_attr(host, "capacity", &size_mb.to_string());
    set_text(
        &mut item.virtual_quantity,
        (size_mb * 1024 * 1024).to_string(),
    );
    Ok(())
}

fn disk_item(list: &mut RasdItemsList, instance_id: i64) -> Result<&mut RASD> {
    list.items
        .iter_mut()
        .find(|i| {
            i.resource_type_code() == Some(resource_type::DISK)
                && i.instance_id_value() == Some(instance_id)
        })
        .ok_or_else(|| {
            WorkloadError::NotFound {
                kind: EntityKind::Vm,
                name: format!("hard disk {instance_id}"),
                scope: None,
            }
            .into()
        })
}

fn nic_not_found(index: i64) -> nebulair_core::Error {
    WorkloadError::NotFound {
        kind: EntityKind::Vm,
        name: format!("NIC {index}"),
        scope: None,
    }
    .into()
}

fn set_ip(c: &mut NetworkConnection, ip: &IpAllocation) {
    c.ip_address_allocation_mode = Some(ip.mode().to_owned());
    c.ip_address = ip.address();
}

/// Adds a NIC to a network connection section; returns its index.
pub(crate) fn add_nic_in(sec: &mut NetworkConnectionSection, spec: &NicSpec) -> Result<i64> {
    if spec.network.trim().is_empty() {
        return Err(invalid("network", "the network name is empty"));
    }
    let index = sec
        .network_connections
        .iter()
        .filter_map(|c| c.network_connection_index)
        .max()
        .map_or(0, |i| i + 1);
    let mut c = NetworkConnection {
        network: Some(spec.network.clone()),
        network_connection_index: Some(index),
        is_connected: Some(spec.connected),
        network_adapter_type: spec.adapter_type.clone(),
        ..NetworkConnection::default()
    };
    set_ip(&mut c, &spec.ip);
    sec.network_connections.push(c);
    if spec.primary || sec.network_connections.len() == 1 {
        sec.primary_network_connection_index = Some(index);
    }
    Ok(index)
}

/// Changes a NIC of a network connection section.
pub(crate) fn modify_nic_in(
    sec: &mut NetworkConnectionSection,
    index: i64,
    u: &NicUpdate,
) -> Result<()> {
    let c = sec
        .network_connections
        .iter_mut()
        .find(|c| c.network_connection_index == Some(index))
        .ok_or_else(|| nic_not_found(index))?;
    if let Some(n) = &u.network {
        if n.trim().is_empty() {
            return Err(invalid("network", "the network name is empty"));
        }
        c.network = Some(n.clone());
    }
    if let Some(ip) = &u.ip {
        set_ip(c, ip);
    }
    if let Some(conn) = u.connected {
        c.is_connected = Some(conn);
    }
    if u.primary == Some(true) {
        sec.primary_network_connection_index = Some(index);
    }
    Ok(())
}

/// Removes a NIC of a network connection section.
pub(crate) fn remove_nic_in(sec: &mut NetworkConnectionSection, index: i64) -> Result<()> {
    let pos = sec
        .network_connections
        .iter()
        .position(|c| c.network_connection_index == Some(index))
        .ok_or_else(|| nic_not_found(index))?;
    sec.network_connections.remove(pos);
    if sec.primary_network_connection_index == Some(index) {
        sec.primary_network_connection_index = sec
            .network_connections
            .first()
            .and_then(|c| c.network_connection_index);
    }
    Ok(())
}

/// Applies customization settings to a section.
pub(crate) fn apply_customization(
    sec: &mut GuestCustomizationSection,
    c: &GuestCustomization,
) -> Result<()> {
    if let Some(n) = &c.computer_name {
        check_computer_name(n)?;
        sec.computer_name = Some(n.clone());
    }
    if let Some(e) = c.enabled {
        sec.enabled = Some(e);
    }
    match &c.admin_password {
        None => {}
        Some(AdminPassword::Disabled) => {
            sec.admin_password_enabled = Some(false);
            sec.admin_password_auto = Some(false);
            sec.admin_password = None;
        }
        Some(AdminPassword::Auto) => {
            sec.admin_password_enabled = Some(true);
            sec.admin_password_auto = Some(true);
            sec.admin_password = None;
        }
        Some(AdminPassword::Set(p)) => {
            if p.expose_secret().is_empty() {
                return Err(invalid("admin password", "the password is empty"));
            }
            sec.admin_password_enabled = Some(true);
            sec.admin_password_auto = Some(false);
            sec.admin_password = Some(p.expose_secret().to_owned());
        }
    }
    if let Some(n) = c.auto_logon_count {
        if n > 100 {
            return Err(invalid("auto-logon count", format!("{n} is above 100")));
        }
        sec.admin_auto_logon_enabled = Some(n > 0);
        sec.admin_auto_logon_count = Some(i64::from(n));
    }
    if let Some(r) = c.reset_password_required {
        sec.reset_password_required = Some(r);
    }
    if let Some(s) = &c.script {
        sec.customization_script = (!s.is_empty()).then(|| s.clone());
    }
    Ok(())
}

/// The href of a storage profile of `vdc` by name.
fn profile_href(vdc: &Vdc, name: &str) -> Result<String> {
    vdc.vdc_storage_profiles
        .as_ref()
        .map(|p| p.vdc_storage_profiles.as_slice())
        .unwrap_or_default()
        .iter()
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| p.href.clone())
        .ok_or_else(|| {
            WorkloadError::NotFound {
                kind: EntityKind::Vdc,
                name: format!("storage profile {name}"),
                scope: vdc.name.clone().map(|n| format!("vDC {n:?}")),
            }
            .into()
        })
}

impl VmHandle {
    async fn section<T: Document>(&self, tail: &str) -> Result<(String, T)> {
        let href = under(&self.href().await?, tail);
        let doc = self.core.ws.get_document(&href).await?;
        Ok((href, doc))
    }

    /// A read-modify-write of one section, retried as a whole while vCD answers
    /// `BUSY_ENTITY`.
    fn edit<T, F>(&self, tail: &'static str, content_type: &'static str, change: F) -> Pending
    where
        T: Document + Send + 'static,
        F: Fn(&mut T) -> Result<()> + Send + Sync + 'static,
    {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let ws = me.core.ws.clone();
            let change = &change;
            let me = &me;
            retry_busy(&ws, || async move {
                let (href, mut doc) = me.section::<T>(tail).await?;
                change(&mut doc)?;
                me.core
                    .ws
                    .client
                    .send(ApiRequest::put(href).body(content_type, doc.to_xml()))
                    .await
                    .and_then(|resp| {
                        let root = resp.xml()?;
                        super::ops::task_of(&root).ok_or_else(|| {
                            nebulair_core::Error::protocol(format!(
                                "PUT {tail}: the answer carries no Task"
                            ))
                        })
                    })
            })
            .await
        })
    }

    /// Sets the CPU count and cores per socket (`PUT virtualHardwareSection/cpu`). On a
    /// powered-on VM vCD allows only growing, and only with CPU hot add enabled.
    pub fn set_cpu(&self, count: i64, cores_per_socket: i64) -> Pending {
        if let Err(e) = check_cpu(count, cores_per_socket) {
            return Pending::failed(&self.core.ws, e);
        }
        self.edit::<RASD, _>(
            "virtualHardwareSection/cpu",
            media::RASD_ITEM,
            move |item| {
                apply_cpu(item, count, cores_per_socket);
                Ok(())
            },
        )
    }

    /// Sets the memory in MB (`PUT virtualHardwareSection/memory`); a positive multiple of
    /// 4 MB. On a powered-on VM vCD allows only growing, with memory hot add enabled.
    pub fn set_memory_mb(&self, mb: i64) -> Pending {
        if let Err(e) = check_memory_mb(mb) {
            return Pending::failed(&self.core.ws, e);
        }
        self.edit::<RASD, _>(
            "virtualHardwareSection/memory",
            media::RASD_ITEM,
            move |item| {
                set_text(&mut item.virtual_quantity, mb.to_string());
                set_text(&mut item.element_name, format!("{mb} MB of memory"));
                Ok(())
            },
        )
    }

    /// Adds a hard disk (`PUT virtualHardwareSection/disks`). A storage profile name is
    /// looked up in the VM's vDC.
    pub fn add_disk(&self, spec: DiskSpec) -> Pending {
        if spec.size_mb < 1 {
            return Pending::failed(
                &self.core.ws,
                invalid("disk size", format!("{} MB is not positive", spec.size_mb)),
            );
        }
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let profile = match &spec.storage_profile {
                Some(name) => Some(profile_href(&me.vdc_document().await?, name)?),
                None => None,
            };
            me.edit::<RasdItemsList, _>(
                "virtualHardwareSection/disks",
                media::RASD_ITEMS_LIST,
                move |list| {
                    let item = new_disk_item(list, &spec, profile.as_deref());
                    list.items.push(item);
                    Ok(())
                },
            )
            .await
        })
    }

    /// Grows the hard disk with this `InstanceID` (see [`Vm::disks`]) to `size_mb`;
    /// shrinking is refused (as vCD does) with [`WorkloadError::InvalidValue`].
    pub fn resize_disk(&self, instance_id: i64, size_mb: i64) -> Pending {
        self.edit::<RasdItemsList, _>(
            "virtualHardwareSection/disks",
            media::RASD_ITEMS_LIST,
            move |list| resize_disk_in(list, instance_id, size_mb),
        )
    }

    /// Removes the hard disk with this `InstanceID`.
    pub fn remove_disk(&self, instance_id: i64) -> Pending {
        self.edit::<RasdItemsList, _>(
            "virtualHardwareSection/disks",
            media::RASD_ITEMS_LIST,
            move |list| {
                disk_item(list, instance_id)?;
                list.items.retain(|i| {
                    !(i.resource_type_code() == Some(resource_type::DISK)
                        && i.instance_id_value() == Some(instance_id))
                });
                Ok(())
            },
        )
    }

    /// Adds a NIC (`PUT networkConnectionSection`); it gets the next free index.
    pub fn add_nic(&self, spec: NicSpec) -> Pending {
        self.edit::<NetworkConnectionSection, _>(
            "networkConnectionSection",
            media::NETWORK_CONNECTION_SECTION,
            move |sec| add_nic_in(sec, &spec).map(|_| ()),
        )
    }

    /// Changes the NIC with this index (network, addressing, primary, connected).
    pub fn modify_nic(&self, index: i64, update: NicUpdate) -> Pending {
        self.edit::<NetworkConnectionSection, _>(
            "networkConnectionSection",
            media::NETWORK_CONNECTION_SECTION,
            move |sec| modify_nic_in(sec, index, &update),
        )
    }

    /// Removes the NIC with this index.
    pub fn remove_nic(&self, index: i64) -> Pending {
        self.edit::<NetworkConnectionSection, _>(
            "networkConnectionSection",
            media::NETWORK_CONNECTION_SECTION,
            move |sec| remove_nic_in(sec, index),
        )
    }

    /// Sets the CPU and memory hot-add flags (`PUT vmCapabilities`); `None` keeps a flag.
    /// vCD changes them only while the VM is powered off.
    pub fn set_hot_add(&self, cpu: Option<bool>, memory: Option<bool>) -> Pending {
        self.edit::<VmCapabilities, _>("vmCapabilities", VM_CAPABILITIES, move |c| {
            if let Some(v) = cpu {
                c.cpu_hot_add_enabled = Some(v);
            }
            if let Some(v) = memory {
                c.memory_hot_add_enabled = Some(v);
            }
            Ok(())
        })
    }

    /// Changes guest customization (`PUT guestCustomizationSection`).
    pub fn set_guest_customization(&self, c: GuestCustomization) -> Pending {
        self.edit::<GuestCustomizationSection, _>(
            "guestCustomizationSection",
            media::GUEST_CUSTOMIZATION_SECTION,
            move |sec| apply_customization(sec, &c),
        )
    }

    /// Marks the VM to be customized at its next power on
    /// (`action/customizeAtNextPowerOn`; vCD answers 204 without a task).
    ///
    /// # Errors
    /// Request errors.
    pub async fn customize_at_next_power_on(&self) -> Result<()> {
        let href = under(&self.href().await?, "action/customizeAtNextPowerOn");
        self.core.ws.submit(ApiRequest::post(href)).await?;
        Ok(())
    }

    /// Deploys and powers on with guest customization forced (`forceCustomization`).
    pub fn power_on_and_force_customization(&self) -> Pending {
        self.deploy(super::lifecycle::DeployOptions {
            power_on: true,
            force_customization: true,
            lease_seconds: None,
        })
    }

    /// Inserts a media (by href, e.g. of a catalog item's entity) into the CD drive.
    pub fn insert_media(&self, media_href: impl Into<String>) -> Pending {
        self.media_action("insertMedia", media_href.into())
    }

    /// Ejects a media (by href) from the CD drive.
    pub fn eject_media(&self, media_href: impl Into<String>) -> Pending {
        self.media_action("ejectMedia", media_href.into())
    }

    fn media_action(&self, action: &'static str, media_href: String) -> Pending {
        if media_href.trim().is_empty() {
            return Pending::failed(&self.core.ws, invalid("media", "the media href is empty"));
        }
        let body = MediaInsertOrEjectParams {
            media: Some(Box::new(Reference {
                href: Some(media_href),
                type_: Some(media::MEDIA.to_owned()),
                ..Reference::default()
            })),
            ..MediaInsertOrEjectParams::default()
        }
        .to_xml();
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = under(&me.href().await?, &format!("media/action/{action}"));
            me.core
                .ws
                .submit_task(ApiRequest::post(href).body(media::MEDIA_INSERT_OR_EJECT_PARAMS, body))
                .await
        })
    }

    /// The power state, read now.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`WorkloadError::Missing`] when the document has no status.
    pub async fn power_state(&self) -> Result<VAppStatus> {
        self.get().await?.status_typed().ok_or_else(|| {
            WorkloadError::Missing {
                kind: EntityKind::Vm,
                what: "a status".into(),
            }
            .into()
        })
    }

    /// The guest tools status, read now.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn tools_status(&self) -> Result<ToolsStatus> {
        Ok(ToolsStatus::of(&self.get().await?))
    }

    /// The vDC of the VM (through its vApp's `up` link).
    async fn vdc_document(&self) -> Result<Vdc> {
        let vm = self.get().await?;
        let vapp_href = vm
            .vapp_parent
            .as_ref()
            .and_then(|r| r.href.clone())
            .or_else(|| up_href(&vm.links, media::VAPP))
            .ok_or_else(|| WorkloadError::Missing {
                kind: EntityKind::Vm,
                what: "an up link to its vApp".into(),
            })?;
        let vapp: crate::model::vcd::VApp = self.core.ws.get_document(&vapp_href).await?;
        let vdc_href = up_href(&vapp.links, media::VDC).ok_or_else(|| WorkloadError::Missing {
            kind: EntityKind::VApp,
            what: "an up link to its vDC".into(),
        })?;
        self.core.ws.get_document(&vdc_href).await
    }
}

/// Whole sections, read and written as they are (go-vcloud-director's
/// `GetVirtualHardwareSection`, `GetNetworkConnectionSection`,
/// `UpdateNetworkConnectionSection`, `GetGuestCustomizationSection`,
/// `SetGuestCustomizationSection`). The typed changes above are usually simpler; these
/// are for callers that build the section themselves.
impl VmHandle {
    /// The virtual hardware section alone (`GET .../virtualHardwareSection`).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn virtual_hardware_section(&self) -> Result<VirtualHardwareSection> {
        Ok(self.section("virtualHardwareSection").await?.1)
    }

    /// The network connection section alone (`GET .../networkConnectionSection`).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn network_connection_section(&self) -> Result<NetworkConnectionSection> {
        Ok(self.section("networkConnectionSection").await?.1)
    }

    /// The guest customization section alone (`GET .../guestCustomizationSection`).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn guest_customization_section(&self) -> Result<GuestCustomizationSection> {
        Ok(self.section("guestCustomizationSection").await?.1)
    }

    /// Replaces the network connection section (`PUT .../networkConnectionSection`) with
    /// `section`. A primary index that names none of its NICs, or two NICs with one
    /// index, is a typed [`WorkloadError::InvalidValue`] before anything is sent.
    pub fn set_network_connection_section(&self, section: NetworkConnectionSection) -> Pending {
        if let Err(e) = check_connections(&section) {
            return Pending::failed(&self.core.ws, e);
        }
        self.put_section(
            "networkConnectionSection",
            media::NETWORK_CONNECTION_SECTION,
            section.to_xml(),
        )
    }

    /// Replaces the guest customization section (`PUT .../guestCustomizationSection`)
    /// with `section`; a bad computer name is a typed [`WorkloadError::InvalidValue`].
    pub fn set_guest_customization_section(&self, section: GuestCustomizationSection) -> Pending {
        if let Some(c) = section.computer_name.as_deref()
            && let Err(e) = check_computer_name(c)
        {
            return Pending::failed(&self.core.ws, e);
        }
        self.put_section(
            "guestCustomizationSection",
            media::GUEST_CUSTOMIZATION_SECTION,
            section.to_xml(),
        )
    }

    fn put_section(&self, tail: &'static str, content_type: &'static str, body: String) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = under(&me.href().await?, tail);
            me.core
                .ws
                .submit_task(ApiRequest::put(href).body(content_type, body))
                .await
        })
    }
}

impl VmHandle {
    /// Polls the VM every `poll` until each NIC of `nic_indexes` reports an IP address
    /// (a DHCP lease shows once guest tools report it), for at most `timeout`; returns
    /// the addresses in the order of `nic_indexes` (go-vcloud-director's
    /// `WaitForDhcpIpByNicIndexes`).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`] for an index the VM has no NIC for;
    /// [`ErrorKind::Timeout`](nebulair_core::ErrorKind::Timeout) naming the NICs still
    /// without an address; request errors.
    pub async fn wait_for_ip_addresses(
        &self,
        nic_indexes: &[i64],
        timeout: std::time::Duration,
        poll: std::time::Duration,
    ) -> Result<Vec<String>> {
        let start = tokio::time::Instant::now();
        loop {
            let vm = Box::pin(self.get()).await?;
            let nics = vm.network_connections();
            let mut found = Vec::with_capacity(nic_indexes.len());
            let mut missing = Vec::new();
            for &i in nic_indexes {
                let nic = nics
                    .iter()
                    .find(|c| c.network_connection_index == Some(i))
                    .ok_or_else(|| nic_not_found(i))?;
                match nic.ip_address.as_deref().map(str::trim) {
                    Some(ip) if !ip.is_empty() => found.push(ip.to_owned()),
                    _ => missing.push(i),
                }
            }
            if missing.is_empty() {
                return Ok(found);
            }
            let spent = start.elapsed();
            if spent >= timeout {
                return Err(nebulair_core::Error::new(
                    nebulair_core::ErrorKind::Timeout,
                    format!(
                        "{}: NIC(s) {missing:?} have no IP address after {timeout:?}",
                        self.label()
                    ),
                ));
            }
            tokio::time::sleep(poll.min(timeout - spent)).await;
        }
    }
}

/// Checks the NIC indexes of a whole network connection section.
fn check_connections(sec: &NetworkConnectionSection) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for c in &sec.network_connections {
        let Some(i) = c.network_connection_index else {
            return Err(invalid("network connection", "a NIC has no index"));
        };
        if !seen.insert(i) {
            return Err(invalid(
                "network connection",
                format!("two NICs have index {i}"),
            ));
        }
    }
    if let Some(p) = sec.primary_network_connection_index
        && !seen.is_empty()
        && !seen.contains(&p)
    {
        return Err(invalid(
            "primary network connection",
            format!("index {p} names none of the NICs"),
        ));
    }
    Ok(())
}

fn up_href(links: &[crate::model::vcd::Link], mt: &str) -> Option<String> {
    links
        .iter()
        .find(|l| l.rel.as_deref() == Some("up") && l.type_.as_deref() == Some(mt))
        .and_then(|l| l.href.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_checks() {
        assert!(check_cpu(4, 2).is_ok());
        assert!(check_cpu(0, 1).is_err());
        assert!(check_cpu(-2, 1).is_err());
        assert!(check_cpu(6, 4).is_err());
        assert!(check_cpu(4, 0).is_err());
        assert!(check_memory_mb(4096).is_ok());
        let e = check_memory_mb(1001).expect_err("not /4");
        assert!(matches!(
            WorkloadError::of(&e),
            Some(WorkloadError::InvalidValue { what: "memory", .. })
        ));
        assert!(check_memory_mb(0).is_err());
        assert!(check_memory_mb(-4).is_err());
    }

    #[test]
    fn cpu_item_keeps_unknown_elements() {
        let xml = r#"<Item xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:x="urn:x"><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity><vmw:CoresPerSocket>1</vmw:CoresPerSocket><x:Future>kept</x:Future></Item>"#;
        let mut item: RASD = xml.parse().expect("item");
        apply_cpu(&mut item, 8, 4);
        let out = item.to_xml();
        let back: RASD = out.parse().expect("back");
        assert_eq!(back.virtual_quantity_value(), Some(8));
        assert_eq!(back.cores_per_socket(), Some(4));
        assert!(out.contains("kept"), "{out}");
    }

    #[test]
    fn disks_add_resize_refuse_shrink() {
        let xml = r#"<RasdItemsList xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vcloud="http://www.vmware.com/vcloud/v1.5"><Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource vcloud:capacity="10240" vcloud:busType="6" vcloud:busSubType="VirtualSCSI"/><rasd:InstanceID>2000</rasd:InstanceID><rasd:Parent>106</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item></RasdItemsList>"#;
        let mut list: RasdItemsList = xml.parse().expect("list");
        let item = new_disk_item(&list, &DiskSpec::new(2048), Some("p"));
        assert_eq!(item.instance_id_value(), Some(2001));
        assert_eq!(
            item.address_on_parent.as_ref().map(|a| a.value.as_str()),
            Some("1")
        );
        assert_eq!(item.host_resources[0].attr("storageProfileHref"), Some("p"));
        list.items.push(item);
        resize_disk_in(&mut list, 2000, 20480).expect("grow");
        let e = resize_disk_in(&mut list, 2000, 1024).expect_err("shrink");
        assert!(e.to_string().contains("cannot shrink"), "{e}");
        assert!(resize_disk_in(&mut list, 2999, 1).is_err());
        let back: RasdItemsList = list.to_xml().parse().expect("back");
        assert_eq!(
            back.items[0].host_resources[0].attr("capacity"),
            Some("20480")
        );
    }

    #[test]
    fn nics_add_modify_remove() {
        let mut sec = NetworkConnectionSection::default();
        let i0 = add_nic_in(&mut sec, &NicSpec::new("a", IpAllocation::Dhcp)).expect("a");
        let i1 = add_nic_in(
            &mut sec,
            &NicSpec::new("b", IpAllocation::Manual("10.0.0.5".parse().expect("ip"))).primary(),
        )
        .expect("b");
        assert_eq!((i0, i1), (0, 1));
        assert_eq!(sec.primary_network_connection_index, Some(1));
        assert_eq!(
            sec.network_connections[1].ip_address.as_deref(),
            Some("10.0.0.5")
        );
        modify_nic_in(
            &mut sec,
            0,
            &NicUpdate {
                connected: Some(false),
                ip: Some(IpAllocation::Pool),
                ..NicUpdate::default()
            },
        )
        .expect("modify");
        assert_eq!(sec.network_connections[0].is_connected, Some(false));
        remove_nic_in(&mut sec, 1).expect("remove");
        assert_eq!(sec.primary_network_connection_index, Some(0));
        assert!(remove_nic_in(&mut sec, 7).is_err());
        assert!(add_nic_in(&mut sec, &NicSpec::new(" ", IpAllocation::Dhcp)).is_err());
    }

    #[test]
    fn whole_sections_are_checked() {
        let mut sec = NetworkConnectionSection::default();
        add_nic_in(&mut sec, &NicSpec::new("a", IpAllocation::Dhcp)).expect("a");
        add_nic_in(&mut sec, &NicSpec::new("b", IpAllocation::Pool)).expect("b");
        assert!(check_connections(&sec).is_ok());
        sec.primary_network_connection_index = Some(7);
        let e = check_connections(&sec).expect_err("unknown primary");
        assert!(e.to_string().contains("index 7"), "{e}");
        sec.primary_network_connection_index = Some(0);
        sec.network_connections[1].network_connection_index = Some(0);
        assert!(check_connections(&sec).is_err());
        sec.network_connections[1].network_connection_index = None;
        assert!(check_connections(&sec).is_err());
        assert!(check_connections(&NetworkConnectionSection::default()).is_ok());
    }

    #[test]
    fn customization_password_is_redacted() {
        let c = GuestCustomization {
            computer_name: Some("web-1".into()),
            admin_password: Some(AdminPassword::set("s3cr3t-pw")),
            auto_logon_count: Some(2),
            ..GuestCustomization::default()
        };
        assert!(!format!("{c:?}").contains("s3cr3t-pw"));
        let mut sec = GuestCustomizationSection::default();
        apply_customization(&mut sec, &c).expect("apply");
        assert_eq!(sec.admin_password.as_deref(), Some("s3cr3t-pw"));
        assert_eq!(sec.admin_auto_logon_enabled, Some(true));
        let bad = GuestCustomization {
            computer_name: Some("bad name".into()),
            ..GuestCustomization::default()
        };
        assert!(apply_customization(&mut sec, &bad).is_err());
    }
}
