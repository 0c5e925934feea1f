//! [`VmHandle`]: a VM of a vApp, and what can be done to it.

use futures::TryStreamExt as _;
use nebulair_core::Result;

use super::id::{EntityKind, Locator};
use super::ops::Workloads;
use super::vapp::VAppHandle;
use super::{Candidate, Core, pick};
use crate::model::vcd::Vm;
use crate::query::{Filter, Query, QueryType, VmRecord};

/// Where a VM name is looked up.
#[derive(Debug, Clone)]
pub(crate) enum VmScope {
    /// Every VM the user can see (query service), template VMs left out.
    Any,
    /// The VMs of one vApp.
    VApp(Box<VAppHandle>),
}

/// A VM, by name or id. See [`VcdClient::vm`](crate::VcdClient::vm).
#[derive(Debug, Clone)]
pub struct VmHandle {
    pub(crate) core: Core,
    scope: VmScope,
}

impl VmHandle {
    pub(crate) fn new(ws: Workloads, loc: Locator, scope: VmScope) -> Self {
        VmHandle {
            core: Core::new(ws, loc, EntityKind::Vm),
            scope,
        }
    }

    pub(crate) fn known(ws: Workloads, href: String, name: String) -> Self {
        VmHandle {
            core: Core::known(ws, EntityKind::Vm, href, Some(name)),
            scope: VmScope::Any,
        }
    }

    /// The name the handle was made with or listed with.
    pub fn name(&self) -> Option<String> {
        self.core.name()
    }

    /// The workload context of the handle.
    pub fn workloads(&self) -> &Workloads {
        &self.core.ws
    }

    /// The VM's href (looking a name up the first time: in the vApp for
    /// [`VAppHandle::vm`], else through the query service).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`](super::WorkloadError::NotFound) /
    /// [`Ambiguous`](super::WorkloadError::Ambiguous) (naming each candidate's vApp);
    /// request errors.
    pub async fn href(&self) -> Result<String> {
        let scope = self.scope.clone();
        let ws = self.core.ws.clone();
        self.core
            .href(|name| async move {
                match scope {
                    VmScope::VApp(vapp) => {
                        // Boxed: the vApp's own lookup nests another deep future, and
                        // callers' futures would hit the compiler's recursion limit.
                        let cands = Box::pin(vapp.vm_candidates()).await?;
                        Ok(pick(EntityKind::Vm, &name, Some(vapp.label()), cands)?.href)
                    }
                    VmScope::Any => {
                        let records: Vec<VmRecord> = Query::new(QueryType::Vm)
                            .filter(Filter::eq("name", name.clone()))
                            .stream_typed(&ws.client)
                            .try_collect()
                            .await?;
                        let cands = records
                            .into_iter()
                            .filter(|r| r.is_vapp_template != Some(true))
                            .filter_map(|r| {
                                let place = r.container_name.clone().map(|v| format!("vApp {v}"));
                                Some(Candidate::new(r.name.clone()?, r.href).at(place))
                            })
                            .collect();
                        Ok(pick(EntityKind::Vm, &name, None, cands)?.href)
                    }
                }
            })
            .await
    }

    pub(crate) fn label(&self) -> String {
        match (&self.core.loc, self.core.name()) {
            (_, Some(n)) => format!("VM {n:?}"),
            (other, None) => format!("VM {other}"),
        }
    }

    /// The Vm document with its sections (hardware, OS, network connections,
    /// customization, runtime info, snapshot).
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<Vm> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }
}

super::lifecycle::entity_ops!(VmHandle, "VM");

impl VmHandle {
    /// Deletes the VM from its vApp (vCD refuses a deployed VM).
    pub fn delete(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            me.core.ws.submit_task(ApiRequest::delete(href)).await
        })
    }

    /// Renames the VM and/or sets its description (`action/reconfigureVm`).
    pub fn update(&self, name: Option<String>, description: Option<String>) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            let current = me.get().await?;
            let doc = Vm {
                name: name.or(current.name),
                description: description.or(current.description),
                ..Vm::default()
            };
            me.core
                .ws
                .submit_task(
                    ApiRequest::post(super::lifecycle::under(&href, "action/reconfigureVm"))
                        .body(media::VM, doc.to_xml()),
                )
                .await
        })
    }

    /// Renames the VM.
    pub fn rename(&self, name: impl Into<String>) -> Pending {
        self.update(Some(name.into()), None)
    }

    /// The vApp the VM belongs to (its `VAppParent`, else its `up` link), as a handle
    /// (go-vcloud-director's `GetParentVApp`).
    ///
    /// # Errors
    /// As [`get`](Self::get); [`WorkloadError::Missing`](super::WorkloadError::Missing)
    /// when the document names no vApp.
    pub async fn vapp(&self) -> Result<VAppHandle> {
        // Boxed, as the other parent calls: a name lookup is a deep future.
        let vm = Box::pin(self.get()).await?;
        let parent = vm
            .vapp_parent
            .as_ref()
            .and_then(|r| r.href.clone())
            .or_else(|| {
                vm.links
                    .iter()
                    .find(|l| {
                        l.rel.as_deref() == Some("up")
                            && l.type_
                                .as_deref()
                                .is_some_and(|t| media::same(t, media::VAPP))
                    })
                    .and_then(|l| l.href.clone())
            });
        let href = parent.ok_or_else(|| super::WorkloadError::Missing {
            kind: EntityKind::Vm,
            what: "an up link to its vApp".into(),
        })?;
        Ok(VAppHandle::new(
            self.core.ws.clone(),
            Locator::Href(href),
            super::vapp::VAppScope::Any,
        ))
    }

    /// The vDC the VM runs in, through its vApp (go-vcloud-director's `GetParentVdc`).
    ///
    /// # Errors
    /// As [`vapp`](Self::vapp) and [`VAppHandle::vdc`].
    pub async fn vdc(&self) -> Result<super::VdcHandle> {
        let vapp = Box::pin(self.vapp()).await?;
        Box::pin(vapp.vdc()).await
    }
}

use super::ops::Pending;
use crate::client::ApiRequest;
use crate::model::vcd::{Document as _, Metadata, MetadataTypedValue, MetadataValue, media};
