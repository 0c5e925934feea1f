//! Independent disks of a vDC: create, list, look up by name or id, attach to and
//! detach from a VM, resize, delete, and the VMs a disk is attached to.
//!
//! ```
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::session::VcdSession;
//! use nebulair_vcloud::workload::{DiskBus, NewDisk};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .build()?;
//! session.login().await?;
//! let client = session.client()?;
//! let vdc = client.vdc("VDC-Prod");
//! let (disk, task) = vdc
//!     .create_disk(&NewDisk::new("data-01", 2 << 30).bus(DiskBus::ParaVirtual))
//!     .await?;
//! client.workloads().waiter().wait(&task).await?;
//! assert_eq!(disk.get().await?.size_bytes, 2 << 30);
//! disk.delete().wait().await?;
//! assert!(vdc.disks().await?.is_empty());
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("disks");
//! ```

use std::sync::Arc;

use futures::TryStreamExt as _;
use nebulair_core::{Error, ErrorKind, Result};
use tokio::sync::OnceCell;

use super::id::Locator;
use super::ops::{Pending, Workloads, task_of};
use super::vdc::VdcHandle;
use super::vm::VmHandle;
use crate::Task;
use crate::client::ApiRequest;
use crate::model::xml::XmlElement;
use crate::query::{Filter, Query, QueryType};

const NS: &str = "http://www.vmware.com/vcloud/v1.5";
/// Media type of a `Disk` document.
pub const MT_DISK: &str = "application/vnd.vmware.vcloud.disk+xml";
/// Media type of a `DiskCreateParams` document.
pub const MT_DISK_CREATE_PARAMS: &str = "application/vnd.vmware.vcloud.diskCreateParams+xml";
/// Media type of a `DiskAttachOrDetachParams` document.
pub const MT_DISK_ATTACH_PARAMS: &str =
    "application/vnd.vmware.vcloud.diskAttachOrDetachParams+xml";

/// What went wrong with a disk before or instead of a server error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiskError {
    /// No disk has this name (in this vDC, when the handle has one).
    #[error("no independent disk named {name:?}{}", .scope.as_ref().map(|s| format!(" in {s}")).unwrap_or_default())]
    NotFound {
        /// The name looked for.
        name: String,
        /// Where it was looked for.
        scope: Option<String>,
    },
    /// More than one disk has this name.
    #[error("{} independent disks are named {name:?}: {}; use an id", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        /// The name looked for.
        name: String,
        /// The hrefs of the candidates.
        candidates: Vec<String>,
    },
    /// A value the caller gave is out of range.
    #[error("invalid {what}: {reason}")]
    InvalidValue {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl DiskError {
    /// The disk error inside a core error, when there is one.
    pub fn of(err: &Error) -> Option<&DiskError> {
        std::error::Error::source(err).and_then(|s| s.downcast_ref::<DiskError>())
    }
}

impl From<DiskError> for Error {
    fn from(e: DiskError) -> Self {
        let kind = match e {
            DiskError::NotFound { .. } => ErrorKind::NotFound,
            _ => ErrorKind::InvalidInput,
        };
        Error::with_source(kind, e.to_string(), e)
    }
}

/// The bus (controller) a disk is attached through: vCD's `busType` / `busSubType`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskBus {
    /// IDE (`5` / `ide`).
    Ide,
    /// SCSI, LSI Logic parallel (`6` / `lsilogic`), vCD's default.
    LsiLogic,
    /// SCSI, LSI Logic SAS (`6` / `lsilogicsas`).
    LsiLogicSas,
    /// SCSI, BusLogic (`6` / `buslogic`).
    BusLogic,
    /// SCSI, VMware paravirtual (`6` / `VirtualSCSI`).
    ParaVirtual,
    /// SATA (`20` / `vmware.sata.ahci`).
    Sata,
    /// NVMe (`20` / `vmware.nvme.controller`).
    Nvme,
    /// Another pair, as written.
    Other {
        /// `busType`.
        bus_type: String,
        /// `busSubType`.
        sub_type: String,
    },
}

impl DiskBus {
    /// The (`busType`, `busSubType`) pair.
    pub fn wire(&self) -> (&str, &str) {
        match self {
            DiskBus::Ide => ("5", "ide"),
            DiskBus::LsiLogic => ("6", "lsilogic"),
            DiskBus::LsiLogicSas => ("6", "lsilogicsas"),
            DiskBus::BusLogic => ("6", "buslogic"),
            DiskBus::ParaVirtual => ("6", "VirtualSCSI"),
            DiskBus::Sata => ("20", "vmware.sata.ahci"),
            DiskBus::Nvme => ("20", "vmware.nvme.controller"),
            DiskBus::Other { bus_type, sub_type } => (bus_type, sub_type),
        }
    }

    /// The bus of a (`busType`, `busSubType`) pair.
    pub fn from_wire(bus_type: &str, sub_type: &str) -> Self {
        match (bus_type, sub_type) {
            ("5", "ide") => DiskBus::Ide,
            ("6", "lsilogic") => DiskBus::LsiLogic,
            ("6", "lsilogicsas") => DiskBus::LsiLogicSas,
            ("6", "buslogic") => DiskBus::BusLogic,
            ("6", "VirtualSCSI") => DiskBus::ParaVirtual,
            ("20", "vmware.sata.ahci") => DiskBus::Sata,
            ("20", "vmware.nvme.controller") => DiskBus::Nvme,
            (b, s) => DiskBus::Other {
                bus_type: b.to_owned(),
                sub_type: s.to_owned(),
            },
        }
    }
}

/// What a new disk should be (`DiskCreateParams`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDisk {
    /// Its name.
    pub name: String,
    /// Its size in bytes (vCD rounds to MB).
    pub size_bytes: u64,
    /// Its bus; `None` lets vCD choose (LSI Logic SCSI).
    pub bus: Option<DiskBus>,
    /// The href of the vDC storage profile; `None` is the vDC's default.
    pub storage_profile: Option<String>,
    /// Its description.
    pub description: Option<String>,
}

impl NewDisk {
    /// A disk of this name and size (bytes).
    pub fn new(name: impl Into<String>, size_bytes: u64) -> Self {
        NewDisk {
            name: name.into(),
            size_bytes,
            bus: None,
            storage_profile: None,
            description: None,
        }
    }

    /// Sets the bus.
    pub fn bus(mut self, bus: DiskBus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Sets the storage profile (its href).
    pub fn storage_profile(mut self, href: impl Into<String>) -> Self {
        self.storage_profile = Some(href.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    fn validate(&self) -> std::result::Result<(), DiskError> {
        if self.name.trim().is_empty() {
            return Err(DiskError::InvalidValue {
                what: "disk name",
                reason: "it is empty".into(),
            });
        }
        if self.size_bytes == 0 {
            return Err(DiskError::InvalidValue {
                what: "disk size",
                reason: "it must be greater than 0 bytes".into(),
            });
        }
        Ok(())
    }

    /// The `DiskCreateParams` document.
    pub fn to_xml(&self) -> String {
        let mut disk = XmlElement::new_ns(NS, "Disk")
            .with_attr("name", self.name.clone())
            .with_attr("size", self.size_bytes.to_string());
        if let Some(bus) = &self.bus {
            let (b, s) = bus.wire();
            disk = disk.with_attr("busType", b).with_attr("busSubType", s);
        }
        if let Some(d) = &self.description {
            disk.push_child(XmlElement::new_ns(NS, "Description").with_text(d.clone()));
        }
        if let Some(p) = &self.storage_profile {
            disk.push_child(
                XmlElement::new_ns(NS, "StorageProfile")
                    .with_attr("href", p.clone())
                    .with_attr(
                        "type",
                        "application/vnd.vmware.vcloud.vdcStorageProfile+xml",
                    ),
            );
        }
        XmlElement::new_ns(NS, "DiskCreateParams")
            .with_child(disk)
            .to_xml()
    }
}

/// A `Disk` document: an independent disk as vCD describes it.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct IndependentDisk {
    /// `href`.
    pub href: String,
    /// `id` (`urn:vcloud:disk:<uuid>`).
    pub id: Option<String>,
    /// `name`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `size` in bytes.
    pub size_bytes: u64,
    /// `busType`.
    pub bus_type: Option<String>,
    /// `busSubType`.
    pub bus_sub_type: Option<String>,
    /// `iops`.
    pub iops: Option<i64>,
    /// `status` (`0` not ready, `1` ready).
    pub status: Option<i32>,
    /// The storage profile's name.
    pub storage_profile: Option<String>,
    /// The storage profile's href.
    pub storage_profile_href: Option<String>,
    /// The owner's name.
    pub owner: Option<String>,
    /// Tasks running on the disk.
    pub tasks: Vec<Task>,
    /// The whole document, unknown parts included.
    pub element: XmlElement,
}

impl IndependentDisk {
    /// Decodes a `Disk` document.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] for another document or a size that is not a number.
    pub fn from_element(el: &XmlElement) -> Result<Self> {
        if el.name() != "Disk" {
            return Err(Error::protocol(format!(
                "expected a Disk document, got {}",
                el.name()
            )));
        }
        let size_bytes = match el.attr("size") {
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| Error::protocol(format!("Disk size {s:?} is not a number")))?,
            None => el
                .attr("sizeMb")
                .and_then(|s| s.parse::<u64>().ok())
                .map(|mb| mb * 1024 * 1024)
                .unwrap_or(0),
        };
        let profile = el.child("StorageProfile");
        Ok(IndependentDisk {
            href: el.attr("href").unwrap_or_default().to_owned(),
            id: el.attr("id").map(str::to_owned),
            name: el.attr("name").unwrap_or_default().to_owned(),
            description: el.child_text("Description").map(str::to_owned),
            size_bytes,
            bus_type: el.attr("busType").map(str::to_owned),
            bus_sub_type: el.attr("busSubType").map(str::to_owned),
            iops: el.attr("iops").and_then(|s| s.parse().ok()),
            status: el.attr("status").and_then(|s| s.parse().ok()),
            storage_profile: profile.and_then(|p| p.attr("name")).map(str::to_owned),
            storage_profile_href: profile.and_then(|p| p.attr("href")).map(str::to_owned),
            owner: el
                .child("Owner")
                .and_then(|o| o.child("User"))
                .and_then(|u| u.attr("name"))
                .map(str::to_owned),
            tasks: el
                .child("Tasks")
                .map(|t| {
                    t.children_named("Task")
                        .filter_map(|t| Task::from_element(t).ok())
                        .collect()
                })
                .unwrap_or_default(),
            element: el.clone(),
        })
    }

    /// The bus of the disk.
    pub fn bus(&self) -> Option<DiskBus> {
        Some(DiskBus::from_wire(
            self.bus_type.as_deref()?,
            self.bus_sub_type.as_deref()?,
        ))
    }
}

/// One row of [`VdcHandle::disks`]: a `DiskRecord` of the query service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskSummary {
    /// The disk's href.
    pub href: String,
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// The name of its vDC.
    pub vdc_name: Option<String>,
    /// Whether it is attached to a VM.
    pub attached: bool,
    /// `busType` / `busSubType`.
    pub bus: Option<DiskBus>,
    /// Its storage profile's name.
    pub storage_profile: Option<String>,
}

/// An independent disk, by name (in a vDC, or anywhere the user can see) or id.
#[derive(Debug, Clone)]
pub struct DiskHandle {
    ws: Workloads,
    vdc: Option<VdcHandle>,
    loc: Locator,
    resolved: Arc<OnceCell<String>>,
}

async fn disk_records(ws: &Workloads, vdc_href: Option<String>) -> Result<Vec<DiskSummary>> {
    let mut q = Query::new(QueryType::Other("disk".into()));
    if let Some(h) = vdc_href {
        q = q.filter(Filter::eq("vdc", h));
    }
    let records: Vec<_> = q.stream(&ws.client).try_collect().await?;
    Ok(records
        .iter()
        .filter_map(|r| {
            Some(DiskSummary {
                href: r.get("href")?.to_owned(),
                name: r.get("name").unwrap_or_default().to_owned(),
                size_bytes: r
                    .get("sizeB")
                    .and_then(|s| s.parse().ok())
                    .or_else(|| {
                        r.get("sizeMb")
                            .and_then(|s| s.parse::<u64>().ok())
                            .map(|mb| mb * 1024 * 1024)
                    })
                    .unwrap_or(0),
                vdc_name: r.get("vdcName").map(str::to_owned),
                attached: r.get("isAttached") == Some("true"),
                bus: match (r.get("busType"), r.get("busSubType")) {
                    (Some(b), Some(s)) => Some(DiskBus::from_wire(b, s)),
                    _ => None,
                },
                storage_profile: r.get("storageProfileName").map(str::to_owned),
            })
        })
        .collect())
}

/// The UUID of a disk id: `urn:vcloud:disk:<uuid>` or a bare UUID.
fn disk_uuid(text: &str) -> Option<uuid::Uuid> {
    let t = text.trim();
    uuid::Uuid::parse_str(t.strip_prefix("urn:vcloud:disk:").unwrap_or(t)).ok()
}

impl DiskHandle {
    pub(crate) fn new(ws: Workloads, loc: Locator, vdc: Option<VdcHandle>) -> Self {
        DiskHandle {
            ws,
            vdc,
            loc,
            resolved: Arc::new(OnceCell::new()),
        }
    }

    /// The disk's href (looking a name up with the query service the first time).
    ///
    /// # Errors
    /// [`DiskError::NotFound`] / [`DiskError::Ambiguous`]; request errors.
    pub async fn href(&self) -> Result<String> {
        self.resolved
            .get_or_try_init(|| async {
                match &self.loc {
                    Locator::Href(h) => Ok(h.clone()),
                    Locator::Id(id) => Ok(format!("/api/disk/{}", id.uuid())),
                    Locator::Name(name) if disk_uuid(name).is_some() => {
                        Ok(format!("/api/disk/{}", disk_uuid(name).unwrap_or_default()))
                    }
                    Locator::Name(name) => {
                        let (vdc_href, scope) = match &self.vdc {
                            Some(v) => (
                                Some(v.href().await?),
                                v.name().map(|n| format!("vDC {n:?}")),
                            ),
                            None => (None, None),
                        };
                        let all = disk_records(&self.ws, vdc_href).await?;
                        let exact: Vec<&DiskSummary> =
                            all.iter().filter(|d| &d.name == name).collect();
                        let found = if exact.is_empty() {
                            all.iter()
                                .filter(|d| d.name.eq_ignore_ascii_case(name))
                                .collect()
                        } else {
                            exact
                        };
                        match found.as_slice() {
                            [one] => Ok(one.href.clone()),
                            [] => Err(DiskError::NotFound {
                                name: name.clone(),
                                scope,
                            }
                            .into()),
                            many => Err(DiskError::Ambiguous {
                                name: name.clone(),
                                candidates: many.iter().map(|d| d.href.clone()).collect(),
                            }
                            .into()),
                        }
                    }
                }
            })
            .await
            .cloned()
    }

    /// The Disk document.
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<IndependentDisk> {
        let href = self.href().await?;
        IndependentDisk::from_element(&self.ws.client.get_xml(&href).await?)
    }

    /// The VMs the disk is attached to (`attachedVms`): (name, href) pairs.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn attached_vms(&self) -> Result<Vec<(String, String)>> {
        let href = self.href().await?;
        let el = self
            .ws
            .client
            .get_xml(&format!("{}/attachedVms", href.trim_end_matches('/')))
            .await?;
        Ok(el
            .children_named("VmReference")
            .map(|r| {
                (
                    r.attr("name").unwrap_or_default().to_owned(),
                    r.attr("href").unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Grows the disk to `size_bytes` (vCD does not shrink disks; the server refuses).
    /// The name and description stay.
    pub fn resize(&self, size_bytes: u64) -> Pending {
        self.update(None, None, Some(size_bytes))
    }

    /// Renames the disk, changes its description, and/or resizes it: a `PUT` of the
    /// Disk document with the changed values (what is not given stays).
    pub fn update(
        &self,
        name: Option<String>,
        description: Option<String>,
        size_bytes: Option<u64>,
    ) -> Pending {
        if size_bytes == Some(0) {
            return Pending::failed(
                &self.ws,
                DiskError::InvalidValue {
                    what: "disk size",
                    reason: "it must be greater than 0 bytes".into(),
                }
                .into(),
            );
        }
        let me = self.clone();
        Pending::new(&self.ws, async move {
            let cur = me.get().await?;
            let mut el = XmlElement::new_ns(NS, "Disk")
                .with_attr("name", name.unwrap_or(cur.name.clone()))
                .with_attr("size", size_bytes.unwrap_or(cur.size_bytes).to_string());
            if let Some(b) = &cur.bus_type {
                el = el.with_attr("busType", b.clone());
            }
            if let Some(s) = &cur.bus_sub_type {
                el = el.with_attr("busSubType", s.clone());
            }
            if let Some(d) = description.or(cur.description) {
                el.push_child(XmlElement::new_ns(NS, "Description").with_text(d));
            }
            me.ws
                .submit_task(ApiRequest::put(cur.href.clone()).body(MT_DISK, el.to_xml()))
                .await
        })
    }

    /// Deletes the disk (vCD refuses while it is attached to a VM).
    pub fn delete(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.ws, async move {
            let href = me.href().await?;
            me.ws.submit_task(ApiRequest::delete(href)).await
        })
    }

    /// Attaches the disk to `vm` (the VM's `disk:attach` action).
    pub fn attach_to(&self, vm: &VmHandle) -> Pending {
        self.vm_action(vm, "attach")
    }

    /// Detaches the disk from `vm` (the VM's `disk:detach` action).
    pub fn detach_from(&self, vm: &VmHandle) -> Pending {
        self.vm_action(vm, "detach")
    }

    fn vm_action(&self, vm: &VmHandle, action: &'static str) -> Pending {
        let me = self.clone();
        let vm = vm.clone();
        Pending::new(&self.ws, async move {
            let disk = me.href().await?;
            let vm_href = vm.href().await?;
            let body = XmlElement::new_ns(NS, "DiskAttachOrDetachParams")
                .with_child(
                    XmlElement::new_ns(NS, "Disk")
                        .with_attr("href", disk)
                        .with_attr("type", MT_DISK),
                )
                .to_xml();
            let target = format!("{}/disk/action/{action}", vm_href.trim_end_matches('/'));
            me.ws
                .submit_task(ApiRequest::post(target).body(MT_DISK_ATTACH_PARAMS, body))
                .await
        })
    }
}

impl VdcHandle {
    /// The independent disks of the vDC (query service, `type=disk`).
    ///
    /// # Errors
    /// As [`href`](Self::href); request errors.
    pub async fn disks(&self) -> Result<Vec<DiskSummary>> {
        let href = self.href().await?;
        disk_records(&self.core.ws, Some(href)).await
    }

    /// An independent disk of the vDC, by name or id.
    pub fn disk(&self, disk: impl Into<Locator>) -> DiskHandle {
        DiskHandle::new(self.core.ws.clone(), disk.into(), Some(self.clone()))
    }

    /// Creates an independent disk (`POST .../disk` with `DiskCreateParams`): the new
    /// disk's handle and the creation task (wait for it with
    /// [`Workloads::waiter`](super::Workloads::waiter) before attaching the disk).
    ///
    /// # Errors
    /// [`DiskError::InvalidValue`] for an empty name or a zero size (nothing sent); as
    /// [`href`](Self::href); the server's refusal (storage allocation exceeded, bad bus
    /// type); [`ErrorKind::Protocol`] when the answer is not a Disk with a task.
    pub async fn create_disk(&self, disk: &NewDisk) -> Result<(DiskHandle, Task)> {
        disk.validate()?;
        let href = self.href().await?;
        let req = ApiRequest::post(format!("{}/disk", href.trim_end_matches('/')))
            .body(MT_DISK_CREATE_PARAMS, disk.to_xml());
        let resp = self.core.ws.submit(req).await?;
        let root = resp.xml()?;
        let created = IndependentDisk::from_element(&root)?;
        let task =
            task_of(&root).ok_or_else(|| Error::protocol("the created Disk carries no Task"))?;
        let handle = DiskHandle::new(
            self.core.ws.clone(),
            Locator::Href(created.href.clone()),
            Some(self.clone()),
        );
        Ok((handle, task))
    }
}

impl Workloads {
    /// An independent disk by id, or by name among every disk the user can see.
    pub fn disk(&self, disk: impl Into<Locator>) -> DiskHandle {
        DiskHandle::new(self.clone(), disk.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_params_carry_every_value() {
        let xml = NewDisk::new("d", 1 << 20)
            .bus(DiskBus::Sata)
            .description("x & y")
            .storage_profile("https://h/api/vdcStorageProfile/1")
            .to_xml();
        let el = XmlElement::parse(&xml).expect("xml");
        let d = el.child("Disk").expect("Disk");
        assert_eq!(d.attr("size"), Some("1048576"));
        assert_eq!(d.attr("busType"), Some("20"));
        assert_eq!(d.attr("busSubType"), Some("vmware.sata.ahci"));
        assert_eq!(d.child_text("Description"), Some("x & y"));
        assert!(d.child("StorageProfile").is_some());
    }

    #[test]
    fn bad_values_are_typed() {
        assert!(matches!(
            NewDisk::new("", 1).validate(),
            Err(DiskError::InvalidValue {
                what: "disk name",
                ..
            })
        ));
        assert!(matches!(
            NewDisk::new("a", 0).validate(),
            Err(DiskError::InvalidValue {
                what: "disk size",
                ..
            })
        ));
        for b in [DiskBus::Ide, DiskBus::ParaVirtual, DiskBus::Nvme] {
            let (t, s) = b.wire();
            assert_eq!(DiskBus::from_wire(t, s), b);
        }
    }
}
