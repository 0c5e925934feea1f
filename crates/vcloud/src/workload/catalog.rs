//! [`CatalogHandle`], [`CatalogItemHandle`] and [`VAppTemplateHandle`]: catalogs, their
//! items and the vApp templates vApps are instantiated from.

use futures::TryStreamExt as _;
use nebulair_core::Result;

use super::error::WorkloadError;
use super::id::{EntityKind, Locator};
use super::ops::Workloads;
use super::org::OrgHandle;
use super::{Candidate, Core, pick};
use crate::model::vcd::{Catalog, CatalogItem, VAppTemplate, media};
use crate::query::{Filter, Query, QueryType, VAppTemplateRecord};

/// A catalog, by name or id. See [`VcdClient::catalog`](crate::VcdClient::catalog).
#[derive(Debug, Clone)]
pub struct CatalogHandle {
    core: Core,
    org: OrgHandle,
}

impl CatalogHandle {
    pub(crate) fn new(ws: Workloads, loc: Locator, org: OrgHandle) -> Self {
        CatalogHandle {
            core: Core::new(ws, loc, EntityKind::Catalog),
            org,
        }
    }

    pub(crate) fn known(ws: Workloads, href: String, name: String, org: OrgHandle) -> Self {
        CatalogHandle {
            core: Core::known(ws, EntityKind::Catalog, href, Some(name)),
            org,
        }
    }

    /// The name the handle was made with or listed with.
    pub fn name(&self) -> Option<String> {
        self.core.name()
    }

    /// The catalog's href (looking a name up among the org's catalogs the first time).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`] / [`WorkloadError::Ambiguous`]; request errors.
    pub async fn href(&self) -> Result<String> {
        let org = self.org.clone();
        self.core
            .href(|name| async move {
                let cands = org.catalog_candidates().await?;
                Ok(pick(EntityKind::Catalog, &name, Some(org.label()), cands)?.href)
            })
            .await
    }

    /// The Catalog document.
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<Catalog> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }

    async fn item_candidates(&self) -> Result<Vec<Candidate>> {
        let cat = self.get().await?;
        Ok(cat
            .catalog_items
            .as_ref()
            .map(|c| c.catalog_items.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| Some(Candidate::new(r.name.clone()?, r.href.clone()?)))
            .collect())
    }

    /// The items of the catalog (vApp templates and media).
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn items(&self) -> Result<Vec<CatalogItemHandle>> {
        Ok(self
            .item_candidates()
            .await?
            .into_iter()
            .map(|c| CatalogItemHandle {
                core: Core::known(
                    self.core.ws.clone(),
                    EntityKind::CatalogItem,
                    c.href,
                    Some(c.name),
                ),
                catalog: Some(self.clone()),
            })
            .collect())
    }

    /// An item of this catalog, by name or id.
    pub fn item(&self, item: impl Into<Locator>) -> CatalogItemHandle {
        CatalogItemHandle {
            core: Core::new(self.core.ws.clone(), item.into(), EntityKind::CatalogItem),
            catalog: Some(self.clone()),
        }
    }

    /// The vApp template of the item with this name (or a template id).
    pub fn template(&self, template: impl Into<Locator>) -> VAppTemplateHandle {
        VAppTemplateHandle::new(
            self.core.ws.clone(),
            template.into(),
            TemplateScope::Catalog(Box::new(self.clone())),
        )
    }

    fn label(&self) -> String {
        match (&self.core.loc, self.core.name()) {
            (_, Some(n)) => format!("catalog {n:?}"),
            (other, None) => format!("catalog {other}"),
        }
    }
}

/// A catalog item: a reference to a vApp template or a media.
#[derive(Debug, Clone)]
pub struct CatalogItemHandle {
    core: Core,
    catalog: Option<CatalogHandle>,
}

impl CatalogItemHandle {
    /// The name the handle was made with or listed with.
    pub fn name(&self) -> Option<String> {
        self.core.name()
    }

    /// The item's href (looking a name up in its catalog the first time).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`] / [`WorkloadError::Ambiguous`]; request errors.
    pub async fn href(&self) -> Result<String> {
        let catalog = self.catalog.clone();
        self.core
            .href(|name| async move {
                let Some(catalog) = catalog else {
                    return Err(WorkloadError::NotFound {
                        kind: EntityKind::CatalogItem,
                        name,
                        scope: None,
                    }
                    .into());
                };
                let cands = catalog.item_candidates().await?;
                Ok(pick(EntityKind::CatalogItem, &name, Some(catalog.label()), cands)?.href)
            })
            .await
    }

    /// The CatalogItem document (its `Entity` is the template or media).
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<CatalogItem> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }

    /// The vApp template the item holds.
    ///
    /// # Errors
    /// [`WorkloadError::Missing`] when the item holds a media or nothing; request errors.
    pub async fn template(&self) -> Result<VAppTemplateHandle> {
        let item = self.get().await?;
        let entity = item.entity.as_deref();
        match entity {
            Some(e)
                if e.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media::VAPP_TEMPLATE))
                    && e.href.is_some() =>
            {
                Ok(VAppTemplateHandle {
                    core: Core::known(
                        self.core.ws.clone(),
                        EntityKind::VAppTemplate,
                        e.href.clone().unwrap_or_default(),
                        e.name.clone().or(item.name.clone()),
                    ),
                    scope: TemplateScope::Any,
                })
            }
            _ => Err(WorkloadError::Missing {
                kind: EntityKind::CatalogItem,
                what: format!(
                    "a vApp template entity (item {:?} holds {})",
                    item.name.as_deref().unwrap_or_default(),
                    entity
                        .and_then(|e| e.type_.clone())
                        .unwrap_or_else(|| "nothing".into())
                ),
            }
            .into()),
        }
    }
}

/// Where a template name is looked up.
#[derive(Debug, Clone)]
pub(crate) enum TemplateScope {
    /// Every template the user can see (query service).
    Any,
    /// The items of one catalog.
    Catalog(Box<CatalogHandle>),
}

/// A vApp template, by name or id. See
/// [`VcdClient::vapp_template`](crate::VcdClient::vapp_template).
#[derive(Debug, Clone)]
pub struct VAppTemplateHandle {
    pub(crate) core: Core,
    scope: TemplateScope,
}

impl VAppTemplateHandle {
    pub(crate) fn new(ws: Workloads, loc: Locator, scope: TemplateScope) -> Self {
        VAppTemplateHandle {
            core: Core::new(ws, loc, EntityKind::VAppTemplate),
            scope,
        }
    }

    /// The name the handle was made with or listed with.
    pub fn name(&self) -> Option<String> {
        self.core.name()
    }

    /// The template's href (looking a name up the first time).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`] / [`WorkloadError::Ambiguous`] (naming the catalog and
    /// vDC of each candidate); request errors.
    pub async fn href(&self) -> Result<String> {
        let scope = self.scope.clone();
        let ws = self.core.ws.clone();
        self.core
            .href(|name| async move {
                match scope {
                    TemplateScope::Catalog(cat) => {
                        let item = cat.item(Locator::Name(name));
                        item.href().await?;
                        Ok(item
                            .template()
                            .await?
                            .core
                            .href(|_| async { unreachable_name() })
                            .await?)
                    }
                    TemplateScope::Any => {
                        let records: Vec<VAppTemplateRecord> = Query::new(QueryType::VAppTemplate)
                            .filter(Filter::eq("name", name.clone()))
                            .stream_typed(&ws.client)
                            .try_collect()
                            .await?;
                        let cands = records
                            .into_iter()
                            .filter_map(|r| {
                                let place = match (&r.catalog_name, &r.vdc_name) {
                                    (Some(c), Some(v)) => Some(format!("catalog {c}, vDC {v}")),
                                    (Some(c), None) => Some(format!("catalog {c}")),
                                    (None, v) => v.clone().map(|v| format!("vDC {v}")),
                                };
                                Some(Candidate::new(r.name.clone()?, r.href).at(place))
                            })
                            .collect();
                        Ok(pick(EntityKind::VAppTemplate, &name, None, cands)?.href)
                    }
                }
            })
            .await
    }

    /// The VAppTemplate document (with its template VMs in `Children`).
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<VAppTemplate> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }
}

/// A known handle never looks a name up.
fn unreachable_name() -> Result<String> {
    Err(nebulair_core::Error::protocol(
        "a listed vApp template has no href",
    ))
}
