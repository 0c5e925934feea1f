//! [`CatalogHandle`], [`CatalogItemHandle`] and [`VAppTemplateHandle`]: catalogs, their
//! items and the vApp templates vApps are instantiated from.

use futures::TryStreamExt as _;
use nebulair_core::Result;

use super::error::WorkloadError;
use super::id::{EntityKind, Locator};
use super::ops::{Pending, Workloads};
use super::org::OrgHandle;
use super::{Candidate, Core, pick};
use crate::client::ApiRequest;
use crate::model::vcd::{Catalog, CatalogItem, VAppTemplate, media};
use crate::model::xml::XmlElement;
use crate::query::{Filter, Query, QueryType, VAppTemplateRecord};

/// A catalog, by name or id. See [`VcdClient::catalog`](crate::VcdClient::catalog).
#[derive(Debug, Clone)]
pub struct CatalogHandle {
    pub(crate) core: Core,
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

// ---------------------------------------------------------------------------------------------
// Catalog management: create, rename, delete, publish, share; item and entity deletion.

const NS: &str = "http://www.vmware.com/vcloud/v1.5";
/// Media type of an `AdminCatalog` document.
pub const MT_ADMIN_CATALOG: &str = "application/vnd.vmware.admin.catalog+xml";
/// Media type of a `PublishCatalogParams` document.
pub const MT_PUBLISH_CATALOG_PARAMS: &str = "application/vnd.vmware.admin.publishCatalogParams+xml";
/// Media type of a `ControlAccessParams` document.
pub const MT_CONTROL_ACCESS: &str = "application/vnd.vmware.vcloud.controlAccess+xml";

/// An access level of a catalog share (`AccessLevel`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessLevel {
    /// `ReadOnly`: see and use the items.
    ReadOnly,
    /// `Change`: also add and change items.
    Change,
    /// `FullControl`: also change the sharing.
    FullControl,
    /// Another level, as written.
    Other(String),
}

impl AccessLevel {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            AccessLevel::ReadOnly => "ReadOnly",
            AccessLevel::Change => "Change",
            AccessLevel::FullControl => "FullControl",
            AccessLevel::Other(s) => s,
        }
    }

    /// The level of a wire value.
    pub fn parse(s: &str) -> AccessLevel {
        match s.trim() {
            "ReadOnly" => AccessLevel::ReadOnly,
            "Change" => AccessLevel::Change,
            "FullControl" => AccessLevel::FullControl,
            other => AccessLevel::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One share of a catalog: a user or an org and its access level (`AccessSetting`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSetting {
    /// The href of the user (`/api/admin/user/..`) or org (`/api/admin/org/..`).
    pub subject_href: String,
    /// The subject's name, as the server reports it.
    pub subject_name: Option<String>,
    /// The subject's media type, as the server reports it.
    pub subject_type: Option<String>,
    /// The access level.
    pub level: AccessLevel,
}

/// The sharing settings of a catalog (`ControlAccessParams`).
///
/// ```
/// use nebulair_vcloud::workload::{AccessLevel, CatalogAccess};
/// let access = CatalogAccess::private()
///     .share("https://vcd.example.test/api/admin/org/6e656275-6c61-4000-8000-000000000001", AccessLevel::ReadOnly);
/// assert!(access.to_xml().contains("<AccessLevel>ReadOnly</AccessLevel>"));
/// assert_eq!(CatalogAccess::everyone().everyone, Some(AccessLevel::ReadOnly));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogAccess {
    /// Shared with everyone in the org at this level (`IsSharedToEveryone`); vCD allows
    /// only [`AccessLevel::ReadOnly`] for catalogs.
    pub everyone: Option<AccessLevel>,
    /// The individual shares.
    pub settings: Vec<AccessSetting>,
}

impl CatalogAccess {
    /// Not shared with anyone.
    pub fn private() -> Self {
        CatalogAccess::default()
    }

    /// Shared read-only with everyone in the org.
    pub fn everyone() -> Self {
        CatalogAccess {
            everyone: Some(AccessLevel::ReadOnly),
            settings: Vec::new(),
        }
    }

    /// Adds a share with the subject of this href (a user or an org).
    pub fn share(mut self, subject_href: impl Into<String>, level: AccessLevel) -> Self {
        self.settings.push(AccessSetting {
            subject_href: subject_href.into(),
            subject_name: None,
            subject_type: None,
            level,
        });
        self
    }

    fn validate(&self) -> std::result::Result<(), WorkloadError> {
        for s in &self.settings {
            if s.subject_href.trim().is_empty() {
                return Err(WorkloadError::invalid(
                    "access setting",
                    "a share needs the href of a user or an org",
                ));
            }
            if let AccessLevel::Other(l) = &s.level {
                return Err(WorkloadError::invalid(
                    "access level",
                    format!("{l:?} is not ReadOnly, Change or FullControl"),
                ));
            }
        }
        if let Some(l) = &self.everyone
            && *l != AccessLevel::ReadOnly
        {
            return Err(WorkloadError::invalid(
                "access level",
                format!("a catalog is shared with everyone ReadOnly, not {l}"),
            ));
        }
        Ok(())
    }

    /// The `ControlAccessParams` document.
    pub fn to_xml(&self) -> String {
        let mut root = XmlElement::new_ns(NS, "ControlAccessParams").with_child(
            XmlElement::new_ns(NS, "IsSharedToEveryone")
                .with_text(self.everyone.is_some().to_string()),
        );
        if let Some(l) = &self.everyone {
            root.push_child(XmlElement::new_ns(NS, "EveryoneAccessLevel").with_text(l.as_str()));
        }
        if !self.settings.is_empty() {
            let mut list = XmlElement::new_ns(NS, "AccessSettings");
            for s in &self.settings {
                let mut subject =
                    XmlElement::new_ns(NS, "Subject").with_attr("href", s.subject_href.clone());
                let typ = s.subject_type.clone().unwrap_or_else(|| {
                    if s.subject_href.contains("/user/") {
                        "application/vnd.vmware.admin.user+xml".into()
                    } else {
                        "application/vnd.vmware.admin.organization+xml".into()
                    }
                });
                subject = subject.with_attr("type", typ);
                list.push_child(
                    XmlElement::new_ns(NS, "AccessSetting")
                        .with_child(subject)
                        .with_child(
                            XmlElement::new_ns(NS, "AccessLevel").with_text(s.level.as_str()),
                        ),
                );
            }
            root.push_child(list);
        }
        root.to_xml()
    }

    /// Decodes a `ControlAccessParams` document.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for another document.
    pub fn from_element(el: &XmlElement) -> Result<Self> {
        if el.name() != "ControlAccessParams" {
            return Err(nebulair_core::Error::protocol(format!(
                "expected ControlAccessParams, got {}",
                el.name()
            )));
        }
        let everyone = (el.child_text("IsSharedToEveryone") == Some("true")).then(|| {
            el.child_text("EveryoneAccessLevel")
                .map_or(AccessLevel::ReadOnly, AccessLevel::parse)
        });
        let settings = el
            .child("AccessSettings")
            .map(|l| {
                l.children_named("AccessSetting")
                    .filter_map(|s| {
                        let subj = s.child("Subject")?;
                        Some(AccessSetting {
                            subject_href: subj.attr("href")?.to_owned(),
                            subject_name: subj.attr("name").map(str::to_owned),
                            subject_type: subj.attr("type").map(str::to_owned),
                            level: AccessLevel::parse(s.child_text("AccessLevel").unwrap_or("")),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(CatalogAccess { everyone, settings })
    }
}

/// The admin href of a catalog href (`/api/catalog/x` → `/api/admin/catalog/x`).
fn admin_href(href: &str) -> String {
    if href.contains("/api/admin/") {
        href.to_owned()
    } else {
        href.replacen("/api/catalog/", "/api/admin/catalog/", 1)
    }
}

fn link_href(doc: &XmlElement, rel: &str, type_: Option<&str>) -> Option<String> {
    doc.children_named("Link")
        .find(|l| {
            l.attr("rel") == Some(rel)
                && type_.is_none_or(|t| l.attr("type").is_some_and(|lt| media::same(lt, t)))
        })
        .and_then(|l| l.attr("href"))
        .map(str::to_owned)
}

/// Waits for the task of a `202 Task` answer; a `204` (or another body) is done at once.
async fn finish_answer(ws: &Workloads, resp: crate::client::VcdResponse) -> Result<()> {
    if resp.status().as_u16() == 202
        && let Ok(root) = resp.xml()
        && let Some(task) = super::ops::task_of(&root)
    {
        ws.waiter().wait(&task).await?;
    }
    Ok(())
}

impl OrgHandle {
    /// Creates an empty catalog in the org (`POST .../catalogs` with an `AdminCatalog`) and
    /// returns its handle once vCD has created it.
    ///
    /// # Errors
    /// [`WorkloadError::InvalidValue`] for an empty name (nothing sent); the server's
    /// refusal (`DUPLICATE_NAME` for a name the org already uses); request errors.
    pub async fn create_catalog(&self, name: &str, description: &str) -> Result<CatalogHandle> {
        if name.trim().is_empty() {
            return Err(WorkloadError::invalid("catalog name", "it is empty").into());
        }
        let org_href = self.href().await?;
        let org_el = self.core.ws.client.get_xml(&org_href).await?;
        let target = link_href(&org_el, "add", Some(MT_ADMIN_CATALOG)).unwrap_or_else(|| {
            let uuid = org_href
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            format!("api/admin/org/{uuid}/catalogs")
        });
        let body = XmlElement::new_ns(NS, "AdminCatalog")
            .with_attr("name", name.to_owned())
            .with_child(XmlElement::new_ns(NS, "Description").with_text(description.to_owned()))
            .to_xml();
        let resp = self
            .core
            .ws
            .submit(ApiRequest::post(target).body(MT_ADMIN_CATALOG, body))
            .await?;
        let root = resp.xml()?;
        if let Some(task) = super::ops::task_of(&root) {
            self.core.ws.waiter().wait(&task).await?;
        }
        let href = link_href(&root, "alternate", Some(media::CATALOG))
            .or_else(|| {
                root.attr("href")
                    .map(|h| h.replacen("/api/admin/catalog/", "/api/catalog/", 1))
            })
            .ok_or_else(|| nebulair_core::Error::protocol("the new AdminCatalog has no href"))?;
        Ok(CatalogHandle::known(
            self.core.ws.clone(),
            href,
            root.attr("name").unwrap_or(name).to_owned(),
            self.clone(),
        ))
    }
}

impl CatalogHandle {
    /// The AdminCatalog view of the catalog (`GET /api/admin/catalog/{id}`), decoded as a
    /// [`Catalog`].
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn admin(&self) -> Result<Catalog> {
        let href = admin_href(&self.href().await?);
        let el = self.core.ws.client.get_xml(&href).await?;
        <Catalog as crate::model::vcd::Element>::from_element(&el)
    }

    /// Renames the catalog and/or changes its description (`PUT` of the AdminCatalog;
    /// what is `None` stays). Returns the changed catalog.
    ///
    /// # Errors
    /// [`WorkloadError::InvalidValue`] for an empty name; the server's refusal
    /// (`DUPLICATE_NAME`); request errors.
    pub async fn update(&self, name: Option<&str>, description: Option<&str>) -> Result<Catalog> {
        if name.is_some_and(|n| n.trim().is_empty()) {
            return Err(WorkloadError::invalid("catalog name", "it is empty").into());
        }
        let cur = self.admin().await?;
        let href = admin_href(&self.href().await?);
        let mut el = XmlElement::new_ns(NS, "AdminCatalog").with_attr(
            "name",
            name.map(str::to_owned)
                .or(cur.name.clone())
                .unwrap_or_default(),
        );
        if let Some(d) = description.map(str::to_owned).or(cur.description.clone()) {
            el.push_child(XmlElement::new_ns(NS, "Description").with_text(d));
        }
        let resp = self
            .core
            .ws
            .submit(ApiRequest::put(href).body(MT_ADMIN_CATALOG, el.to_xml()))
            .await?;
        let root = resp.xml()?;
        if let Some(task) = super::ops::task_of(&root) {
            self.core.ws.waiter().wait(&task).await?;
            return self.admin().await;
        }
        <Catalog as crate::model::vcd::Element>::from_element(&root)
    }

    /// Deletes the catalog. vCD refuses a catalog that holds items unless `recursive`
    /// (which deletes its templates and media too).
    ///
    /// # Errors
    /// The server's refusal (`BAD_REQUEST`: not empty); request and task errors.
    pub async fn delete(&self, recursive: bool) -> Result<()> {
        let href = admin_href(&self.href().await?);
        let mut req = ApiRequest::delete(href);
        if recursive {
            req = req.query("recursive", "true").query("force", "true");
        }
        let resp = self.core.ws.submit(req).await?;
        finish_answer(&self.core.ws, resp).await
    }

    /// Publishes the catalog to other orgs, or withdraws it (`action/publish`).
    ///
    /// # Errors
    /// Request errors (only system administrators may publish on a real vCD).
    pub async fn publish(&self, published: bool) -> Result<()> {
        let href = self.href().await?;
        let el = self.core.ws.client.get_xml(&href).await?;
        let target = link_href(&el, "publish", None)
            .unwrap_or_else(|| format!("{}/action/publish", admin_href(&href)));
        let body = XmlElement::new_ns(NS, "PublishCatalogParams")
            .with_child(XmlElement::new_ns(NS, "IsPublished").with_text(published.to_string()))
            .to_xml();
        let resp = self
            .core
            .ws
            .submit(ApiRequest::post(target).body(MT_PUBLISH_CATALOG_PARAMS, body))
            .await?;
        finish_answer(&self.core.ws, resp).await
    }

    /// The sharing settings (`GET .../controlAccess/`).
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn access(&self) -> Result<CatalogAccess> {
        let href = self.href().await?;
        let el = self.core.ws.client.get_xml(&href).await?;
        let target = link_href(&el, "down", Some(MT_CONTROL_ACCESS))
            .unwrap_or_else(|| format!("{}/controlAccess/", href.trim_end_matches('/')));
        CatalogAccess::from_element(&self.core.ws.client.get_xml(&target).await?)
    }

    /// Replaces the sharing settings (`action/controlAccess`); returns them as vCD stored
    /// them (with the subjects' names).
    ///
    /// # Errors
    /// [`WorkloadError::InvalidValue`] for an unknown level or a level other than
    /// `ReadOnly` for everyone (nothing sent); the server's refusal (an unknown subject);
    /// request errors.
    pub async fn set_access(&self, access: &CatalogAccess) -> Result<CatalogAccess> {
        access.validate()?;
        let href = self.href().await?;
        let el = self.core.ws.client.get_xml(&href).await?;
        let target = link_href(&el, "controlAccess", Some(MT_CONTROL_ACCESS))
            .unwrap_or_else(|| format!("{}/action/controlAccess", href.trim_end_matches('/')));
        let resp = self
            .core
            .ws
            .submit(ApiRequest::post(target).body(MT_CONTROL_ACCESS, access.to_xml()))
            .await?;
        CatalogAccess::from_element(&resp.xml()?)
    }

    /// The vApp templates of the catalog (items whose entity is a template).
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn templates(&self) -> Result<Vec<VAppTemplateHandle>> {
        let mut out = Vec::new();
        for item in self.items().await? {
            let doc = item.get().await?;
            if let Some(e) = doc.entity.as_deref()
                && e.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media::VAPP_TEMPLATE))
                && let Some(h) = e.href.clone()
            {
                out.push(VAppTemplateHandle {
                    core: Core::known(
                        self.core.ws.clone(),
                        EntityKind::VAppTemplate,
                        h,
                        e.name.clone().or(doc.name.clone()),
                    ),
                    scope: TemplateScope::Any,
                });
            }
        }
        Ok(out)
    }

    /// The media of the catalog (items whose entity is a media).
    ///
    /// # Errors
    /// Request and decoding errors.
    pub async fn media_list(&self) -> Result<Vec<super::media::MediaHandle>> {
        Ok(self
            .media_candidates()
            .await?
            .into_iter()
            .map(|c| super::media::MediaHandle::known(self.core.ws.clone(), c.href, Some(c.name)))
            .collect())
    }

    /// (name, href) of every media item of the catalog.
    pub(crate) async fn media_candidates(&self) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        for item in self.items().await? {
            let doc = item.get().await?;
            if let Some(e) = doc.entity.as_deref()
                && e.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media::MEDIA))
                && let Some(h) = e.href.clone()
                && let Some(n) = e.name.clone().or(doc.name.clone())
            {
                out.push(Candidate::new(n, h));
            }
        }
        Ok(out)
    }

    /// The media of the item with this name (or a media id).
    pub fn media(&self, media: impl Into<Locator>) -> super::media::MediaHandle {
        super::media::MediaHandle::in_catalog(self.core.ws.clone(), media.into(), self.clone())
    }

    pub(crate) fn workloads(&self) -> &Workloads {
        &self.core.ws
    }
}

impl CatalogItemHandle {
    /// Deletes the item with its template or media (`DELETE /api/catalogItem/{id}`).
    ///
    /// # Errors
    /// As [`href`](Self::href); request and task errors.
    pub async fn delete(&self) -> Result<()> {
        let href = self.href().await?;
        let resp = self.core.ws.submit(ApiRequest::delete(href)).await?;
        finish_answer(&self.core.ws, resp).await
    }

    /// The media the item holds.
    ///
    /// # Errors
    /// [`WorkloadError::Missing`] when the item holds a template or nothing; request errors.
    pub async fn media(&self) -> Result<super::media::MediaHandle> {
        let item = self.get().await?;
        match item.entity.as_deref() {
            Some(e)
                if e.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media::MEDIA))
                    && e.href.is_some() =>
            {
                Ok(super::media::MediaHandle::known(
                    self.core.ws.clone(),
                    e.href.clone().unwrap_or_default(),
                    e.name.clone().or(item.name.clone()),
                ))
            }
            other => Err(WorkloadError::Missing {
                kind: EntityKind::CatalogItem,
                what: format!(
                    "a media entity (item {:?} holds {})",
                    item.name.as_deref().unwrap_or_default(),
                    other
                        .and_then(|e| e.type_.clone())
                        .unwrap_or_else(|| "nothing".into())
                ),
            }
            .into()),
        }
    }

    pub(crate) fn workloads(&self) -> &Workloads {
        &self.core.ws
    }

    pub(crate) fn known(ws: Workloads, href: String, name: String, catalog: CatalogHandle) -> Self {
        CatalogItemHandle {
            core: Core::known(ws, EntityKind::CatalogItem, href, Some(name)),
            catalog: Some(catalog),
        }
    }
}

impl VAppTemplateHandle {
    /// Deletes the template (and its catalog item); a task.
    pub fn delete(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            me.core.ws.submit_task(ApiRequest::delete(href)).await
        })
    }

    /// Makes the template's files downloadable (`action/enableDownload`); a task.
    pub fn enable_download(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            me.core
                .ws
                .submit_task(ApiRequest::post(format!(
                    "{}/action/enableDownload",
                    href.trim_end_matches('/')
                )))
                .await
        })
    }

    pub(crate) fn known(ws: Workloads, href: String, name: Option<String>) -> Self {
        VAppTemplateHandle {
            core: Core::known(ws, EntityKind::VAppTemplate, href, name),
            scope: TemplateScope::Any,
        }
    }
}

/// Media type of a `CaptureVAppParams` document.
pub const MT_CAPTURE_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.captureVAppParams+xml";

impl CatalogHandle {
    /// Captures a vApp as a new vApp template of this catalog
    /// (`POST .../action/captureVApp`): the template's handle and the capture task (wait
    /// for it with [`Workloads::waiter`] before instantiating the template).
    ///
    /// # Errors
    /// [`WorkloadError::InvalidValue`] for an empty name (nothing sent); the server's
    /// refusal (`BUSY_ENTITY` after the busy retries, `DUPLICATE_NAME`); request errors;
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when the answer is not a
    /// VAppTemplate with a task.
    pub async fn capture_vapp(
        &self,
        vapp: &super::VAppHandle,
        name: &str,
        description: &str,
    ) -> Result<(VAppTemplateHandle, crate::Task)> {
        if name.trim().is_empty() {
            return Err(WorkloadError::invalid("template name", "it is empty").into());
        }
        let source = vapp.href().await?;
        let href = self.href().await?;
        let el = self.core.ws.client.get_xml(&href).await?;
        let target = link_href(&el, "add", Some(MT_CAPTURE_VAPP_PARAMS))
            .unwrap_or_else(|| format!("{}/action/captureVApp", href.trim_end_matches('/')));
        let body = XmlElement::new_ns(NS, "CaptureVAppParams")
            .with_attr("name", name.to_owned())
            .with_child(XmlElement::new_ns(NS, "Description").with_text(description.to_owned()))
            .with_child(
                XmlElement::new_ns(NS, "Source")
                    .with_attr("href", source)
                    .with_attr("type", media::VAPP),
            )
            .to_xml();
        let resp = self
            .core
            .ws
            .submit(ApiRequest::post(target).body(MT_CAPTURE_VAPP_PARAMS, body))
            .await?;
        let root = resp.xml()?;
        let task = super::ops::task_of(&root).ok_or_else(|| {
            nebulair_core::Error::protocol("the captured template carries no Task")
        })?;
        let thref = root
            .attr("href")
            .ok_or_else(|| nebulair_core::Error::protocol("the captured template has no href"))?
            .to_owned();
        Ok((
            VAppTemplateHandle::known(self.core.ws.clone(), thref, Some(name.to_owned())),
            task,
        ))
    }
}

/// The `PUT` of a renamed / re-described template or media.
fn rename_pending(
    ws: &Workloads,
    href: impl std::future::Future<Output = Result<String>> + Send + 'static,
    root: &'static str,
    content_type: &'static str,
    name: Option<String>,
    description: Option<String>,
) -> Pending {
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Pending::failed(ws, WorkloadError::invalid("name", "it is empty").into());
    }
    let ws2 = ws.clone();
    Pending::new(ws, async move {
        let href = href.await?;
        let cur = ws2.client.get_xml(&href).await?;
        let mut el = XmlElement::new_ns(NS, root).with_attr(
            "name",
            name.unwrap_or_else(|| cur.attr("name").unwrap_or_default().to_owned()),
        );
        if let Some(d) = description.or_else(|| cur.child_text("Description").map(str::to_owned)) {
            el.push_child(XmlElement::new_ns(NS, "Description").with_text(d));
        }
        ws2.submit_task(ApiRequest::put(href).body(content_type, el.to_xml()))
            .await
    })
}

impl VAppTemplateHandle {
    /// Renames the template and/or changes its description (`PUT` of the VAppTemplate);
    /// a task. What is `None` stays.
    pub fn update(&self, name: Option<&str>, description: Option<&str>) -> Pending {
        let me = self.clone();
        rename_pending(
            &self.core.ws,
            async move { me.href().await },
            "VAppTemplate",
            media::VAPP_TEMPLATE,
            name.map(str::to_owned),
            description.map(str::to_owned),
        )
    }
}

impl super::media::MediaHandle {
    /// Renames the media and/or changes its description (`PUT` of the Media); a task.
    pub fn update(&self, name: Option<&str>, description: Option<&str>) -> Pending {
        let me = self.clone();
        rename_pending(
            &self.core.ws,
            async move { me.href().await },
            "Media",
            media::MEDIA,
            name.map(str::to_owned),
            description.map(str::to_owned),
        )
    }
}
