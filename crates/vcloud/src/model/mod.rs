//! Payload types shared by the vCloud features: references and links, API versions,
//! and the lenient XML tree every XML model is decoded from.
//!
//! Feature-specific payloads live next to their feature ([`crate::task::Task`],
//! [`crate::query`] records, [`crate::metrics`] rows, the session documents in [`crate::session`]).

pub mod documents;
pub mod vcd;
pub mod version;
pub mod xml;

pub use version::ApiVersion;

use self::xml::XmlElement;

/// The number of characters vcloudair takes from the end of an href as the object id.
pub const UUID_LEN: usize = 36;

/// A reference or link to another object: `href`, and the optional `type`, `name`,
/// `id` and `rel` attributes (`ReferenceType`/`LinkType` in the schema).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Reference {
    /// `href`.
    pub href: String,
    /// `type` (the media type).
    pub media_type: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `id`.
    pub id: Option<String>,
    /// `rel` (links only).
    pub rel: Option<String>,
}

impl Reference {
    /// Reads the attributes of a `Reference`/`Link`-like element (a missing `href` is
    /// kept as an empty string).
    pub fn from_element(el: &XmlElement) -> Reference {
        let a = |n: &str| el.attr(n).map(str::to_owned);
        Reference {
            href: el.attr("href").unwrap_or_default().to_owned(),
            media_type: a("type"),
            name: a("name"),
            id: a("id"),
            rel: a("rel"),
        }
    }

    /// The id taken the vcloudair way: the last 36 characters of `href`, lower-cased.
    pub fn trailing_uuid(&self) -> Option<String> {
        trailing_uuid(&self.href)
    }
}

/// The last 36 characters of an href, lower-cased (vcloudair's object id), or `None`
/// when the href is shorter.
///
/// ```
/// use nebulair_vcloud::model::trailing_uuid;
/// assert_eq!(
///     trailing_uuid("https://h/api/vApp/vapp-2E4A1B6C-1111-4222-8333-944455556666").as_deref(),
///     Some("2e4a1b6c-1111-4222-8333-944455556666"),
/// );
/// assert_eq!(trailing_uuid("short"), None);
/// ```
pub fn trailing_uuid(href: &str) -> Option<String> {
    let href = href.trim_end_matches('/');
    let n = href.chars().count();
    if n < UUID_LEN {
        return None;
    }
    Some(
        href.chars()
            .skip(n - UUID_LEN)
            .collect::<String>()
            .to_ascii_lowercase(),
    )
}

/// The `Link` children of an element.
pub fn links(el: &XmlElement) -> Vec<Reference> {
    el.children_named("Link")
        .map(Reference::from_element)
        .collect()
}
