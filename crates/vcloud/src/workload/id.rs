//! Typed vCD ids: a bare UUID, a `urn:vcloud:<type>:<uuid>`, a `vm-<uuid>`-style path
//! segment or a whole href all name the same object.
//!
//! ```
//! use nebulair_vcloud::workload::{EntityKind, VcdId};
//!
//! let a: VcdId = "urn:vcloud:vm:2e4a1b6c-1111-4222-8333-944455556666".parse()?;
//! let b: VcdId = "https://vcd.example.test/api/vApp/vm-2E4A1B6C-1111-4222-8333-944455556666".parse()?;
//! let c: VcdId = "2e4a1b6c-1111-4222-8333-944455556666".parse()?;
//! assert_eq!(a, b);
//! assert_eq!(a.kind(), Some(EntityKind::Vm));
//! assert_eq!(c.kind(), None);
//! assert_eq!(c.uuid(), a.uuid());
//! assert_eq!(a.urn().as_deref(), Some("urn:vcloud:vm:2e4a1b6c-1111-4222-8333-944455556666"));
//! assert_eq!(a.path(EntityKind::Vm)?, "api/vApp/vm-2e4a1b6c-1111-4222-8333-944455556666");
//! assert!("not-an-id".parse::<VcdId>().is_err());
//! # Ok::<(), nebulair_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use nebulair_core::{Error, Result};
use serde::Serialize;
use uuid::Uuid;

/// The kind of a vCD object, as the id names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum EntityKind {
    /// An organization (`urn:vcloud:org:`, `/api/org/`).
    Org,
    /// A virtual data center (`urn:vcloud:vdc:`, `/api/vdc/`).
    Vdc,
    /// A vApp (`urn:vcloud:vapp:`, `/api/vApp/vapp-`).
    VApp,
    /// A VM (`urn:vcloud:vm:`, `/api/vApp/vm-`).
    Vm,
    /// A catalog (`urn:vcloud:catalog:`, `/api/catalog/`).
    Catalog,
    /// A catalog item (`urn:vcloud:catalogitem:`, `/api/catalogItem/`).
    CatalogItem,
    /// A vApp template (`urn:vcloud:vapptemplate:`, `/api/vAppTemplate/vappTemplate-`).
    VAppTemplate,
    /// A media (`urn:vcloud:media:`, `/api/media/`).
    Media,
    /// A task (`urn:vcloud:task:`, `/api/task/`).
    Task,
}

impl EntityKind {
    /// The type part of the urn (`vm`, `vapp`, `vapptemplate`...).
    pub fn urn_type(self) -> &'static str {
        match self {
            EntityKind::Org => "org",
            EntityKind::Vdc => "vdc",
            EntityKind::VApp => "vapp",
            EntityKind::Vm => "vm",
            EntityKind::Catalog => "catalog",
            EntityKind::CatalogItem => "catalogitem",
            EntityKind::VAppTemplate => "vapptemplate",
            EntityKind::Media => "media",
            EntityKind::Task => "task",
        }
    }

    /// A human name for messages (`vApp`, `VM`, `vDC`...).
    pub fn label(self) -> &'static str {
        match self {
            EntityKind::Org => "org",
            EntityKind::Vdc => "vDC",
            EntityKind::VApp => "vApp",
            EntityKind::Vm => "VM",
            EntityKind::Catalog => "catalog",
            EntityKind::CatalogItem => "catalog item",
            EntityKind::VAppTemplate => "vApp template",
            EntityKind::Media => "media",
            EntityKind::Task => "task",
        }
    }

    /// The API path of an object of this kind, relative to the vCD base URL.
    pub fn path_for(self, uuid: &Uuid) -> String {
        match self {
            EntityKind::Org => format!("api/org/{uuid}"),
            EntityKind::Vdc => format!("api/vdc/{uuid}"),
            EntityKind::VApp => format!("api/vApp/vapp-{uuid}"),
            EntityKind::Vm => format!("api/vApp/vm-{uuid}"),
            EntityKind::Catalog => format!("api/catalog/{uuid}"),
            EntityKind::CatalogItem => format!("api/catalogItem/{uuid}"),
            EntityKind::VAppTemplate => format!("api/vAppTemplate/vappTemplate-{uuid}"),
            EntityKind::Media => format!("api/media/{uuid}"),
            EntityKind::Task => format!("api/task/{uuid}"),
        }
    }

    fn from_urn_type(t: &str) -> Option<EntityKind> {
        Some(match t.to_ascii_lowercase().as_str() {
            "org" => EntityKind::Org,
            "vdc" => EntityKind::Vdc,
            "vapp" => EntityKind::VApp,
            "vm" => EntityKind::Vm,
            "catalog" => EntityKind::Catalog,
            "catalogitem" => EntityKind::CatalogItem,
            "vapptemplate" => EntityKind::VAppTemplate,
            "media" => EntityKind::Media,
            "task" => EntityKind::Task,
            _ => return None,
        })
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The id of a vCD object: its UUID and, when the text said so, its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct VcdId {
    kind: Option<EntityKind>,
    uuid: Uuid,
}

impl VcdId {
    /// An id of a known kind.
    pub fn new(kind: EntityKind, uuid: Uuid) -> Self {
        VcdId {
            kind: Some(kind),
            uuid,
        }
    }

    /// The UUID.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// The kind, when the text named one (a bare UUID does not).
    pub fn kind(&self) -> Option<EntityKind> {
        self.kind
    }

    /// `urn:vcloud:<type>:<uuid>`, when the kind is known.
    pub fn urn(&self) -> Option<String> {
        self.kind
            .map(|k| format!("urn:vcloud:{}:{}", k.urn_type(), self.uuid))
    }

    /// The id as an id of `kind`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) when the id names
    /// another kind (a vApp urn given where a VM is expected).
    pub fn expect_kind(self, kind: EntityKind) -> Result<VcdId> {
        match self.kind {
            Some(k) if k != kind => Err(Error::invalid_input(format!(
                "{self} is the id of a {k}, not of a {kind}"
            ))),
            _ => Ok(VcdId::new(kind, self.uuid)),
        }
    }

    /// The API path of the object as `kind` (`api/vApp/vm-<uuid>`).
    ///
    /// # Errors
    /// As [`expect_kind`](Self::expect_kind).
    pub fn path(&self, kind: EntityKind) -> Result<String> {
        Ok(kind.path_for(&self.expect_kind(kind)?.uuid))
    }

    /// Whether `text` looks like an id (a UUID, urn, `vm-<uuid>` or href) rather than a name.
    pub fn looks_like_id(text: &str) -> bool {
        text.parse::<VcdId>().is_ok()
    }
}

impl fmt::Display for VcdId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.urn() {
            Some(u) => f.write_str(&u),
            None => write!(f, "{}", self.uuid),
        }
    }
}

/// Path segments that carry a kind before the UUID (`vm-`, `vapp-`, `vappTemplate-`).
fn prefixed(seg: &str) -> Option<(Option<EntityKind>, Uuid)> {
    if let Ok(u) = Uuid::parse_str(seg) {
        return Some((None, u));
    }
    let (prefix, rest) = seg.split_once('-')?;
    let kind = match prefix.to_ascii_lowercase().as_str() {
        "vm" => EntityKind::Vm,
        "vapp" => EntityKind::VApp,
        "vapptemplate" => EntityKind::VAppTemplate,
        _ => return None,
    };
    Uuid::parse_str(rest).ok().map(|u| (Some(kind), u))
}

/// The kind named by the path segment before the id (`/api/vdc/<uuid>`).
fn kind_of_collection(seg: &str) -> Option<EntityKind> {
    Some(match seg {
        "org" => EntityKind::Org,
        "vdc" => EntityKind::Vdc,
        "catalog" => EntityKind::Catalog,
        "catalogItem" => EntityKind::CatalogItem,
        "media" => EntityKind::Media,
        "task" => EntityKind::Task,
        _ => return None,
    })
}

impl FromStr for VcdId {
    type Err = Error;

    /// Parses a bare UUID, `urn:vcloud:<type>:<uuid>`, `vm-<uuid>` / `vapp-<uuid>` /
    /// `vappTemplate-<uuid>`, or an href ending in one of these.
    fn from_str(s: &str) -> Result<VcdId> {
        let t = s.trim();
        let bad = || {
            Error::invalid_input(format!(
                "{s:?} is not a vCD id (a UUID, urn:vcloud:<type>:<uuid>, vm-<uuid> or an href)"
            ))
        };
        if let Some(rest) = t.strip_prefix("urn:vcloud:") {
            let (ty, id) = rest.split_once(':').ok_or_else(bad)?;
            let kind = EntityKind::from_urn_type(ty).ok_or_else(bad)?;
            let uuid = Uuid::parse_str(id).map_err(|_| bad())?;
            return Ok(VcdId::new(kind, uuid));
        }
        if t.contains('/') {
            let path = t
                .split(['?', '#'])
                .next()
                .unwrap_or(t)
                .trim_end_matches('/');
            let mut segs = path.rsplit('/');
            let last = segs.next().ok_or_else(bad)?;
            let (kind, uuid) = prefixed(last).ok_or_else(bad)?;
            let kind = kind.or_else(|| segs.next().and_then(kind_of_collection));
            return Ok(VcdId { kind, uuid });
        }
        let (kind, uuid) = prefixed(t).ok_or_else(bad)?;
        Ok(VcdId { kind, uuid })
    }
}

/// How a handle names its object: by id (any of the forms [`VcdId`] parses), by href, or
/// by name (looked up when first needed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Locator {
    /// By id.
    Id(VcdId),
    /// By an href the server gave (kept as written; an id is taken from it when needed).
    Href(String),
    /// By name.
    Name(String),
}

impl Locator {
    /// A locator that is always a name, even when the name looks like a UUID.
    pub fn name(name: impl Into<String>) -> Self {
        Locator::Name(name.into())
    }

    /// What a user typed: an href (`http(s)://...`), an id, or else a name.
    pub fn parse(text: &str) -> Self {
        let t = text.trim();
        if (t.starts_with("https://") || t.starts_with("http://")) && t.contains("/api/") {
            return Locator::Href(t.to_owned());
        }
        match t.parse::<VcdId>() {
            Ok(id) => Locator::Id(id),
            Err(_) => Locator::Name(text.to_owned()),
        }
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Id(id) => write!(f, "{id}"),
            Locator::Href(h) => f.write_str(h),
            Locator::Name(n) => write!(f, "{n:?}"),
        }
    }
}

impl From<&str> for Locator {
    fn from(s: &str) -> Self {
        Locator::parse(s)
    }
}

impl From<String> for Locator {
    fn from(s: String) -> Self {
        Locator::parse(&s)
    }
}

impl From<&String> for Locator {
    fn from(s: &String) -> Self {
        Locator::parse(s)
    }
}

impl From<VcdId> for Locator {
    fn from(id: VcdId) -> Self {
        Locator::Id(id)
    }
}

impl From<Uuid> for Locator {
    fn from(u: Uuid) -> Self {
        Locator::Id(VcdId {
            kind: None,
            uuid: u,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_form_parses() {
        let u = "2e4a1b6c-1111-4222-8333-944455556666";
        for (text, kind) in [
            (format!("urn:vcloud:vapp:{u}"), Some(EntityKind::VApp)),
            (format!("vapp-{u}"), Some(EntityKind::VApp)),
            (
                format!("https://h/api/vApp/vapp-{u}/"),
                Some(EntityKind::VApp),
            ),
            (format!("https://h/api/vdc/{u}"), Some(EntityKind::Vdc)),
            (
                format!("https://h/api/catalogItem/{u}?x=1"),
                Some(EntityKind::CatalogItem),
            ),
            (
                format!("https://h/api/vAppTemplate/vappTemplate-{u}"),
                Some(EntityKind::VAppTemplate),
            ),
            (format!("  {u} "), None),
        ] {
            let id: VcdId = text.parse().expect(&text);
            assert_eq!(id.kind(), kind, "{text}");
            assert_eq!(id.uuid().to_string(), u);
        }
    }

    #[test]
    fn bad_ids_are_errors() {
        for bad in [
            "",
            "web-01",
            "urn:vcloud:vm:nope",
            "urn:vcloud:bogus:2e4a1b6c-1111-4222-8333-944455556666",
            "https://h/api/vApp/web",
        ] {
            let e = bad.parse::<VcdId>().expect_err(bad);
            assert_eq!(e.kind(), nebulair_core::ErrorKind::InvalidInput);
        }
        let id: VcdId = "urn:vcloud:vapp:2e4a1b6c-1111-4222-8333-944455556666"
            .parse()
            .expect("id");
        assert!(id.expect_kind(EntityKind::Vm).is_err());
        assert!(id.expect_kind(EntityKind::VApp).is_ok());
    }

    #[test]
    fn locators_tell_names_from_ids() {
        assert!(matches!(Locator::parse("web-01"), Locator::Name(_)));
        assert!(matches!(
            Locator::parse("vm-2e4a1b6c-1111-4222-8333-944455556666"),
            Locator::Id(_)
        ));
        assert!(matches!(
            Locator::parse("https://h/api/vApp/vm-2e4a1b6c-1111-4222-8333-944455556666"),
            Locator::Href(_)
        ));
        assert!(matches!(
            Locator::name("2e4a1b6c-1111-4222-8333-944455556666"),
            Locator::Name(_)
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = s.parse::<VcdId>();
            let _ = Locator::parse(&s);
        }

        #[test]
        fn urns_round_trip(b in any::<u128>(), k in 0usize..9) {
            let kinds = [EntityKind::Org, EntityKind::Vdc, EntityKind::VApp, EntityKind::Vm,
                EntityKind::Catalog, EntityKind::CatalogItem, EntityKind::VAppTemplate,
                EntityKind::Media, EntityKind::Task];
            let id = VcdId::new(kinds[k], Uuid::from_u128(b));
            let back: VcdId = id.urn().expect("urn").parse().expect("parse");
            prop_assert_eq!(back, id);
            let from_path: VcdId = format!("https://h/{}", kinds[k].path_for(&id.uuid())).parse().expect("path");
            prop_assert_eq!(from_path, id);
        }
    }
}
