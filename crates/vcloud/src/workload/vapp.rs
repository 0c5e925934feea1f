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
                        // Boxed, as a VM's lookup in its vApp: keeps callers' futures small.
                        let cands = Box::pin(vdc.vapp_candidates()).await?;
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

super::lifecycle::entity_ops!(VAppHandle, "vApp");

/// How [`VAppHandle::delete_with`] treats a running vApp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeleteOptions {
    /// Undeploy (power off) a deployed vApp first instead of letting vCD refuse.
    pub undeploy_first: bool,
}

impl VAppHandle {
    /// Deletes the vApp. vCD refuses a deployed (running) vApp with `BAD_REQUEST`; see
    /// [`delete_with`](Self::delete_with) to undeploy first.
    pub fn delete(&self) -> Pending {
        self.delete_with(DeleteOptions::default())
    }

    /// Deletes the vApp, undeploying it first (power off, waited for) when asked and
    /// needed.
    pub fn delete_with(&self, options: DeleteOptions) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            if options.undeploy_first {
                let doc = me.get().await?;
                if doc.deployed == Some(true) {
                    me.undeploy(super::lifecycle::UndeployPowerAction::PowerOff)
                        .wait()
                        .await
                        .map_err(|e| e.context("undeploying before delete"))?;
                }
            }
            me.core.ws.submit_task(ApiRequest::delete(href)).await
        })
    }

    /// Renames the vApp and/or sets its description (`PUT` of the vApp).
    pub fn update(&self, name: Option<String>, description: Option<String>) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            let current = me.get().await?;
            let doc = VApp {
                name: name.or(current.name),
                description: description.or(current.description),
                ..VApp::default()
            };
            me.core
                .ws
                .submit_task(ApiRequest::put(href).body(media::VAPP, doc.to_xml()))
                .await
        })
    }

    /// Renames the vApp.
    pub fn rename(&self, name: impl Into<String>) -> Pending {
        self.update(Some(name.into()), None)
    }

    /// The vDC the vApp lives in (its `up` link), as a handle (go-vcloud-director's
    /// `GetParentVDC`).
    ///
    /// # Errors
    /// As [`get`](Self::get); [`WorkloadError::Missing`](super::WorkloadError::Missing)
    /// when the document has no up link to a vDC.
    pub async fn vdc(&self) -> Result<VdcHandle> {
        let doc = Box::pin(self.get()).await?;
        let href = doc
            .links
            .iter()
            .find(|l| {
                l.rel.as_deref() == Some("up")
                    && l.type_
                        .as_deref()
                        .is_some_and(|t| media::same(t, media::VDC))
            })
            .and_then(|l| l.href.clone())
            .ok_or_else(|| super::WorkloadError::Missing {
                kind: EntityKind::VApp,
                what: "an up link to its vDC".into(),
            })?;
        Ok(VdcHandle::new(
            self.core.ws.clone(),
            Locator::Href(href),
            None,
        ))
    }

    /// The vApp's owner (`GET .../owner`).
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn owner(&self) -> Result<Owner> {
        let href = self.href().await?;
        self.core
            .ws
            .get_document(&super::lifecycle::under(&href, "owner"))
            .await
    }

    /// Gives the vApp to another user (`PUT .../owner`, answered without a task).
    ///
    /// # Errors
    /// Request errors (an unknown user is vCD's error).
    pub async fn set_owner(&self, user_href: &str) -> Result<()> {
        let href = self.href().await?;
        let doc = Owner {
            user: Some(Box::new(Reference {
                href: Some(user_href.to_owned()),
                type_: Some("application/vnd.vmware.admin.user+xml".into()),
                ..Reference::default()
            })),
            ..Owner::default()
        };
        super::ops::retry_busy(&self.core.ws, || {
            self.core.ws.client.send(
                ApiRequest::put(super::lifecycle::under(&href, "owner"))
                    .body(media::OWNER, doc.to_xml()),
            )
        })
        .await
        .map(drop)
    }

    /// Adds and removes VMs (`action/recomposeVApp`). VM settings that name a storage
    /// profile or network are resolved against the vApp's vDC.
    pub fn recompose(&self, params: super::params::RecomposeParams) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            let doc = me.get().await?;
            let vdc_href = doc.href_of(&Rel::Up).map(str::to_owned).ok_or_else(|| {
                super::WorkloadError::Missing {
                    kind: EntityKind::VApp,
                    what: "an up link to its vDC".into(),
                }
            })?;
            let vdc: crate::model::vcd::Vdc = me.core.ws.get_document(&vdc_href).await?;
            let body = params.to_document(&vdc)?;
            me.core
                .ws
                .submit_task(
                    ApiRequest::post(super::lifecycle::under(&href, "action/recomposeVApp"))
                        .body(media::RECOMPOSE_VAPP_PARAMS, super::params::encode(&body)),
                )
                .await
        })
    }
}

use super::ops::Pending;
use crate::client::ApiRequest;
use crate::model::vcd::{
    Document as _, HasLinks as _, Metadata, MetadataTypedValue, MetadataValue, Owner, Reference,
    Rel, media,
};
