//! [`VAppHandle`]: a vApp, its VMs, and what can be done to it.

use futures::TryStreamExt as _;
use nebulair_core::Result;

use super::id::{EntityKind, Locator};
use super::ops::Workloads;
use super::vdc::VdcHandle;
use super::vm::{VmHandle, VmScope};
use super::{Candidate, Core, pick};
use crate::model::vcd::VApp;
use crate::query::{Filter, Query, QueryType, VAppRecord};

/// Where a vApp name is looked up.
#[derive(Debug, Clone)]
pub(crate) enum VAppScope {
    /// Every vApp the user can see (query service).
    Any,
    /// One vDC's resource entities.
    Vdc(Box<VdcHandle>),
}

/// A vApp, by name or id. See [`VcdClient::vapp`](crate::VcdClient::vapp).
#[derive(Debug, Clone)]
pub struct VAppHandle {
    pub(crate) core: Core,
    scope: VAppScope,
}

impl VAppHandle {
    pub(crate) fn new(ws: Workloads, loc: Locator, scope: VAppScope) -> Self {
        VAppHandle {
            core: Core::new(ws, loc, EntityKind::VApp),
            scope,
        }
    }

    pub(crate) fn known(ws: Workloads, href: String, name: String) -> Self {
        VAppHandle {
            core: Core::known(ws, EntityKind::VApp, href, Some(name)),
            scope: VAppScope::Any,
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

    /// The vApp's href (looking a name up the first time: in the vDC for
    /// [`VdcHandle::vapp`], else through the query service).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`](super::WorkloadError::NotFound) /
    /// [`Ambiguous`](super::WorkloadError::Ambiguous) (naming each candidate's vDC);
    /// request errors.
    pub async fn href(&self) -> Result<String> {
        let scope = self.scope.clone();
        let ws = self.core.ws.clone();
        self.core
            .href(|name| async move {
                match scope {
                    VAppScope::Vdc(vdc) => {
                        let cands = vdc.vapp_candidates().await?;
                        Ok(pick(EntityKind::VApp, &name, Some(vdc.label()), cands)?.href)
                    }
                    VAppScope::Any => {
                        let records: Vec<VAppRecord> = Query::new(QueryType::VApp)
                            .filter(Filter::eq("name", name.clone()))
                            .stream_typed(&ws.client)
                            .try_collect()
                            .await?;
                        let cands = records
                            .into_iter()
                            .filter_map(|r| {
                                let place = r.vdc_name.clone().map(|v| format!("vDC {v}"));
                                Some(Candidate::new(r.name.clone()?, r.href).at(place))
                            })
                            .collect();
                        Ok(pick(EntityKind::VApp, &name, None, cands)?.href)
                    }
                }
            })
            .await
    }

    /// The VApp document, with its VMs in `Children`.
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<VApp> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }

    /// The VMs of the vApp.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn vms(&self) -> Result<Vec<VmHandle>> {
        let vapp = self.get().await?;
        Ok(vapp
            .vms()
            .iter()
            .filter_map(|v| {
                Some(VmHandle::known(
                    self.core.ws.clone(),
                    v.href.clone()?,
                    v.name.clone().unwrap_or_default(),
                ))
            })
            .collect())
    }

    /// A VM of this vApp, by name or id.
    pub fn vm(&self, vm: impl Into<Locator>) -> VmHandle {
        VmHandle::new(
            self.core.ws.clone(),
            vm.into(),
            VmScope::VApp(Box::new(self.clone())),
        )
    }

    pub(crate) async fn vm_candidates(&self) -> Result<Vec<Candidate>> {
        let vapp = self.get().await?;
        Ok(vapp
            .vms()
            .iter()
            .filter_map(|v| Some(Candidate::new(v.name.clone()?, v.href.clone()?)))
            .collect())
    }

    pub(crate) fn label(&self) -> String {
        match (&self.core.loc, self.core.name()) {
            (_, Some(n)) => format!("vApp {n:?}"),
            (other, None) => format!("vApp {other}"),
        }
    }
}
