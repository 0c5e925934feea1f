//! [`VdcHandle`]: a virtual data center, its vApps, and creating vApps in it.

use nebulair_core::Result;

use super::id::{EntityKind, Locator};
use super::ops::Workloads;
use super::org::OrgHandle;
use super::vapp::{VAppHandle, VAppScope};
use super::{Candidate, Core, pick};
use crate::model::vcd::{Vdc, media};

/// A vDC, by name or id. See [`VcdClient::vdc`](crate::VcdClient::vdc).
#[derive(Debug, Clone)]
pub struct VdcHandle {
    pub(crate) core: Core,
    org: Option<OrgHandle>,
}

impl VdcHandle {
    pub(crate) fn new(ws: Workloads, loc: Locator, org: Option<OrgHandle>) -> Self {
        VdcHandle {
            core: Core::new(ws, loc, EntityKind::Vdc),
            org,
        }
    }

    pub(crate) fn known(ws: Workloads, href: String, name: String, org: Option<OrgHandle>) -> Self {
        VdcHandle {
            core: Core::known(ws, EntityKind::Vdc, href, Some(name)),
            org,
        }
    }

    /// The name the handle was made with or listed with.
    pub fn name(&self) -> Option<String> {
        self.core.name()
    }

    fn org(&self) -> OrgHandle {
        self.org
            .clone()
            .unwrap_or_else(|| self.core.ws.current_org())
    }

    /// The vDC's href (looking a name up among the org's vDCs the first time).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`](super::WorkloadError::NotFound) /
    /// [`Ambiguous`](super::WorkloadError::Ambiguous); request errors.
    pub async fn href(&self) -> Result<String> {
        let org = self.org();
        self.core
            .href(|name| async move {
                let cands = org.vdc_candidates().await?;
                Ok(pick(EntityKind::Vdc, &name, Some(org.label()), cands)?.href)
            })
            .await
    }

    /// The Vdc document (capacity, storage profiles, networks, resource entities).
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<Vdc> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }

    pub(crate) async fn vapp_candidates(&self) -> Result<Vec<Candidate>> {
        let vdc = self.get().await?;
        Ok(vdc
            .resource_entities
            .as_ref()
            .map(|r| r.resource_entities.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|e| {
                e.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media::VAPP))
            })
            .filter_map(|e| Some(Candidate::new(e.name.clone()?, e.href.clone()?)))
            .collect())
    }

    /// The vApps of the vDC (its `ResourceEntities` of type vApp).
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn vapps(&self) -> Result<Vec<VAppHandle>> {
        Ok(self
            .vapp_candidates()
            .await?
            .into_iter()
            .map(|c| VAppHandle::known(self.core.ws.clone(), c.href, c.name))
            .collect())
    }

    /// A vApp of this vDC, by name or id.
    pub fn vapp(&self, vapp: impl Into<Locator>) -> VAppHandle {
        VAppHandle::new(
            self.core.ws.clone(),
            vapp.into(),
            VAppScope::Vdc(Box::new(self.clone())),
        )
    }

    /// A label for messages (`vDC "VDC-Prod"`).
    pub(crate) fn label(&self) -> String {
        match (&self.core.loc, self.core.name()) {
            (_, Some(n)) => format!("vDC {n:?}"),
            (other, None) => format!("vDC {other}"),
        }
    }
}

impl VdcHandle {
    /// Instantiates a vApp template into this vDC (`action/instantiateVAppTemplate`).
    ///
    /// The template is read first (to map VM names to their hrefs) and the vDC (for
    /// network and storage profile names), so bad input fails before anything is created.
    pub fn instantiate(
        &self,
        template: &super::VAppTemplateHandle,
        params: super::params::InstantiateParams,
    ) -> super::ops::PendingVApp {
        let me = self.clone();
        let template = template.clone();
        super::ops::PendingVApp::new(&self.core.ws, async move {
            let vdc_href = me.href().await?;
            let vdc = me.get().await?;
            let thref = template.href().await?;
            let tdoc = template.get().await?;
            let tvms: Vec<(String, String)> = tdoc
                .vm_templates()
                .iter()
                .filter_map(|v| Some((v.name.clone()?, v.href.clone()?)))
                .collect();
            let thref = tdoc.href.clone().unwrap_or(thref);
            let doc = params.to_document(&thref, &tvms, &vdc)?;
            me.create(
                &vdc_href,
                "action/instantiateVAppTemplate",
                media::INSTANTIATE_VAPP_TEMPLATE_PARAMS,
                super::params::encode(&doc),
            )
            .await
        })
    }

    /// Composes a new vApp in this vDC from VMs of templates (`action/composeVApp`).
    pub fn compose(&self, params: super::params::ComposeParams) -> super::ops::PendingVApp {
        let me = self.clone();
        super::ops::PendingVApp::new(&self.core.ws, async move {
            let vdc_href = me.href().await?;
            let vdc = me.get().await?;
            let doc = params.to_document(&vdc)?;
            me.create(
                &vdc_href,
                "action/composeVApp",
                media::COMPOSE_VAPP_PARAMS,
                super::params::encode(&doc),
            )
            .await
        })
    }

    async fn create(
        &self,
        vdc_href: &str,
        tail: &str,
        content_type: &str,
        body: String,
    ) -> Result<(VAppHandle, crate::task::Task)> {
        let req = crate::client::ApiRequest::post(super::lifecycle::under(vdc_href, tail))
            .body(content_type, body);
        let op = format!("POST {tail}");
        let resp = self.core.ws.submit(req).await?;
        let root = resp.xml()?;
        let vapp = crate::model::vcd::VApp::from_root(&root)?;
        let task = super::ops::task_of(&root).ok_or_else(|| {
            nebulair_core::Error::protocol(format!("{op}: the new vApp carries no Task"))
        })?;
        let href = vapp.href.clone().ok_or_else(|| {
            nebulair_core::Error::protocol(format!("{op}: the new vApp has no href"))
        })?;
        Ok((
            VAppHandle::known(self.core.ws.clone(), href, vapp.name.unwrap_or_default()),
            task,
        ))
    }
}

use crate::model::vcd::Document as _;
