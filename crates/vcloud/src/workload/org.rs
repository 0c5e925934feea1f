//! [`OrgHandle`]: an organization, its vDCs and catalogs.

use futures::TryStreamExt as _;
use nebulair_core::Result;

use super::catalog::CatalogHandle;
use super::id::{EntityKind, Locator};
use super::ops::Workloads;
use super::vdc::VdcHandle;
use super::{Candidate, Core, pick};
use crate::model::vcd::{HasLinks, Org, OrgList, Rel, media};
use crate::query::{OrgVdcRecord, Query, QueryType};

/// An organization, by name or id. See [`VcdClient::org`](crate::VcdClient::org).
#[derive(Debug, Clone)]
pub struct OrgHandle {
    pub(crate) core: Core,
}

impl OrgHandle {
    pub(crate) fn new(ws: Workloads, loc: Locator) -> Self {
        OrgHandle {
            core: Core::new(ws, loc, EntityKind::Org),
        }
    }

    /// The name the handle was made with, when it was made with one.
    pub fn name(&self) -> Option<String> {
        self.core.name()
    }

    /// The org's href (looking the name up in `GET /api/org` the first time).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`](super::WorkloadError::NotFound) /
    /// [`Ambiguous`](super::WorkloadError::Ambiguous) for a name; request errors.
    pub async fn href(&self) -> Result<String> {
        let ws = self.core.ws.clone();
        self.core
            .href(|name| async move {
                let list: OrgList = ws.get_document("api/org/").await?;
                let cands = list
                    .orgs
                    .iter()
                    .filter_map(|o| Some(Candidate::new(o.name.clone()?, o.href.clone()?)))
                    .collect();
                Ok(pick(EntityKind::Org, &name, None, cands)?.href)
            })
            .await
    }

    /// The Org document.
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<Org> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }

    /// A vDC of this org, by name or id.
    pub fn vdc(&self, vdc: impl Into<Locator>) -> VdcHandle {
        VdcHandle::new(self.core.ws.clone(), vdc.into(), Some(self.clone()))
    }

    /// A catalog of this org, by name or id.
    pub fn catalog(&self, catalog: impl Into<Locator>) -> CatalogHandle {
        CatalogHandle::new(self.core.ws.clone(), catalog.into(), self.clone())
    }

    /// The vDCs of the org: the Org's vDC links (API < 33) or else the query service's
    /// `orgVdc` records of this org.
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn vdcs(&self) -> Result<Vec<VdcHandle>> {
        Ok(self
            .vdc_candidates()
            .await?
            .into_iter()
            .map(|c| VdcHandle::known(self.core.ws.clone(), c.href, c.name, Some(self.clone())))
            .collect())
    }

    pub(crate) async fn vdc_candidates(&self) -> Result<Vec<Candidate>> {
        let org = self.get().await?;
        let linked: Vec<Candidate> = org
            .links
            .iter()
            .filter(|l| {
                l.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media::VDC))
            })
            .filter_map(|l| Some(Candidate::new(l.name.clone()?, l.href.clone()?)))
            .collect();
        if !linked.is_empty() {
            return Ok(linked);
        }
        let org_name = org.name.clone().unwrap_or_default();
        let records: Vec<OrgVdcRecord> = Query::new(QueryType::OrgVdc)
            .stream_typed(&self.core.ws.client)
            .try_collect()
            .await?;
        Ok(records
            .into_iter()
            .filter(|r| {
                r.org_name
                    .as_deref()
                    .is_none_or(|n| n.eq_ignore_ascii_case(&org_name))
            })
            .filter_map(|r| Some(Candidate::new(r.name.clone()?, r.href)))
            .collect())
    }

    /// The catalogs of the org (its catalog links).
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn catalogs(&self) -> Result<Vec<CatalogHandle>> {
        Ok(self
            .catalog_candidates()
            .await?
            .into_iter()
            .map(|c| CatalogHandle::known(self.core.ws.clone(), c.href, c.name, self.clone()))
            .collect())
    }

    pub(crate) async fn catalog_candidates(&self) -> Result<Vec<Candidate>> {
        let org = self.get().await?;
        Ok(org
            .links_with(&Rel::Down)
            .into_iter()
            .filter(|l| {
                l.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media::CATALOG))
            })
            .filter_map(|l| Some(Candidate::new(l.name.clone()?, l.href.clone()?)))
            .collect())
    }

    /// A label for messages (`org "acme"`).
    pub(crate) fn label(&self) -> String {
        match &self.core.loc {
            Locator::Name(n) => format!("org {n:?}"),
            other => format!("org {other}"),
        }
    }
}
