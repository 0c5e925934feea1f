//! OpenNebula templates: an ordered multimap of attributes, in both wire syntaxes.
//!
//! A [`Template`] is what `*.allocate`, `*.update`, `one.template.instantiate` and friends
//! take, and what the `TEMPLATE` / `USER_TEMPLATE` elements of every resource hold. Each
//! attribute is either a single string ([`TemplateValue::Single`]) or a vector of
//! string pairs ([`TemplateValue::Vector`], e.g. `DISK = [ IMAGE_ID = "1" ]`). A name may
//! repeat (two `DISK`s): [`Template::get_all`] always returns every occurrence, so there is
//! no "one dict or a list of dicts" ambiguity.
//!
//! Both syntaxes oned accepts are parsed and rendered:
//!
//! * the text syntax (`NAME = "value"`, `DISK = [ IMAGE_ID = "1", SIZE = "1024" ]`,
//!   `# comments`, unquoted values), with [`Template::parse_text`] and [`Template::to_text`];
//! * the XML form (`<TEMPLATE><NAME><![CDATA[value]]></NAME>...</TEMPLATE>`), with
//!   [`Template::from_xml`] and [`Template::to_xml`].
//!
//! [`Template::render`] (also `Display`) picks the text syntax when it can carry every value
//! and falls back to the XML form otherwise (a value ending in `\`, containing `]]>` or a
//! control character), so a value is never silently corrupted. Attribute names are checked
//! against `[A-Za-z0-9_]+` when rendering, so no value or name can inject another attribute.
//!
//! ```
//! use nebulair_opennebula::template::{Disk, Nic, Template};
//! use nebulair_opennebula::ids::{ImageId, VnetId};
//!
//! # fn main() -> nebulair_opennebula::Result<()> {
//! let mut tpl = Template::new();
//! tpl.set("NAME", "web-1")
//!     .set("CPU", 0.5)
//!     .set("MEMORY", 1024)
//!     .push("DISK", Disk::image(ImageId::new(3)))
//!     .push("DISK", Disk::volatile(2048).format("raw"))
//!     .push("NIC", Nic::network(VnetId::new(0)))
//!     .set("DESCRIPTION", r#"says "hi""#);
//!
//! let text = tpl.to_text()?;
//! assert!(text.contains(r#"DESCRIPTION = "says \"hi\"""#));
//! assert_eq!(Template::parse_text(&text)?, tpl);
//! assert_eq!(tpl.get_all("DISK").count(), 2);
//! assert_eq!(tpl.get_str("MEMORY"), Some("1024"));
//!
//! // The XML form carries anything, including "]]>".
//! tpl.set("SCRIPT", "echo ']]>'\n");
//! assert!(tpl.to_text().is_err());
//! assert!(tpl.render()?.starts_with("<TEMPLATE>"));
//! assert_eq!(Template::from_xml(&tpl.to_xml()?)?, tpl);
//! # Ok(())
//! # }
//! ```
//!
//! Templates also convert from JSON-like maps, as in PyONE's examples: a nested object is a
//! vector, an array repeats the attribute, and numbers and booleans become strings (booleans
//! as OpenNebula's `YES`/`NO`).
//!
//! ```
//! use nebulair_opennebula::template::Template;
//!
//! let tpl: Template = serde_json::from_str(
//!     r#"{"NAME": "x", "DISK": [{"IMAGE_ID": 1}, {"IMAGE_ID": 2}], "CONTEXT": {"NETWORK": true}}"#,
//! ).expect("valid template");
//! assert_eq!(tpl.get_all("DISK").count(), 2);
//! assert_eq!(tpl.get_vector("CONTEXT").and_then(|c| c.get("NETWORK")), Some("YES"));
//! ```

mod builders;
mod serde_impl;
mod text;
pub(crate) mod xml;

use std::fmt;
use std::str::FromStr;

use nebulair_core::{Error, Result};

pub use builders::{Context, Disk, Graphics, Nic, Os};
pub use xml::from_xml_reader;

/// The value of one template attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TemplateValue {
    /// A plain string value: `NAME = "value"`.
    Single(String),
    /// A vector attribute: `DISK = [ IMAGE_ID = "1", SIZE = "1024" ]`.
    Vector(Vector),
}

impl TemplateValue {
    /// The string, if this is a single value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TemplateValue::Single(s) => Some(s),
            TemplateValue::Vector(_) => None,
        }
    }

    /// The vector, if this is a vector value.
    pub fn as_vector(&self) -> Option<&Vector> {
        match self {
            TemplateValue::Single(_) => None,
            TemplateValue::Vector(v) => Some(v),
        }
    }

    /// The vector, mutably, if this is a vector value.
    pub fn as_vector_mut(&mut self) -> Option<&mut Vector> {
        match self {
            TemplateValue::Single(_) => None,
            TemplateValue::Vector(v) => Some(v),
        }
    }

    /// Whether this is a vector value.
    pub fn is_vector(&self) -> bool {
        matches!(self, TemplateValue::Vector(_))
    }
}

impl fmt::Display for TemplateValue {
    /// A single value as is; a vector as `[ K = "v", ... ]` (quotes escaped as `\"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateValue::Single(s) => f.write_str(s),
            TemplateValue::Vector(v) => fmt::Display::fmt(v, f),
        }
    }
}

impl fmt::Display for Vector {
    /// `[ K = "v", ... ]`, quotes escaped as `\"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (k, v)) in self.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{k} = \"{}\"", v.replace('"', "\\\""))?;
        }
        f.write_str(" ]")
    }
}

impl From<Vector> for TemplateValue {
    fn from(v: Vector) -> Self {
        TemplateValue::Vector(v)
    }
}

impl From<String> for TemplateValue {
    fn from(v: String) -> Self {
        TemplateValue::Single(v)
    }
}

impl From<&str> for TemplateValue {
    fn from(v: &str) -> Self {
        TemplateValue::Single(v.to_owned())
    }
}

impl From<&String> for TemplateValue {
    fn from(v: &String) -> Self {
        TemplateValue::Single(v.clone())
    }
}

impl From<bool> for TemplateValue {
    /// OpenNebula's spelling of booleans: `YES` or `NO`.
    fn from(v: bool) -> Self {
        TemplateValue::Single(yes_no(v).to_owned())
    }
}

macro_rules! value_from_display {
    ($($t:ty),+) => {$(
        impl From<$t> for TemplateValue {
            fn from(v: $t) -> Self {
                TemplateValue::Single(v.to_string())
            }
        }
    )+};
}
value_from_display!(
    i8, i16, i32, i64, u8, u16, u32, u64, usize, isize, f32, f64, char
);

macro_rules! value_from_id {
    ($($t:ident),+) => {$(
        impl From<crate::ids::$t> for TemplateValue {
            fn from(v: crate::ids::$t) -> Self {
                TemplateValue::Single(v.to_string())
            }
        }
    )+};
}
value_from_id!(
    VmId,
    HostId,
    ClusterId,
    DatastoreId,
    ImageId,
    TemplateId,
    VnetId,
    VnTemplateId,
    UserId,
    GroupId,
    SecGroupId,
    VmGroupId,
    VrouterId
);

pub(crate) fn yes_no(v: bool) -> &'static str {
    if v { "YES" } else { "NO" }
}

/// A vector attribute: an ordered map of names to strings (`[ K1 = "v1", K2 = "v2" ]`).
///
/// Keys are unique: [`Vector::set`] replaces an existing key in place. Lookups ignore ASCII
/// case, as oned upper-cases every name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Vector {
    pairs: Vec<(String, String)>,
}

impl Vector {
    /// An empty vector.
    pub fn new() -> Self {
        Vector::default()
    }

    /// Sets `key` to `value`, replacing an existing value of the same key (ASCII case
    /// ignored) in place, or appending it.
    pub fn set(&mut self, key: impl Into<String>, value: impl ToTemplateString) -> &mut Self {
        let key = key.into();
        let value = value.to_template_string();
        match self
            .pairs
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            Some(slot) => slot.1 = value,
            None => self.pairs.push((key, value)),
        }
        self
    }

    /// Builder form of [`Vector::set`].
    pub fn with(mut self, key: impl Into<String>, value: impl ToTemplateString) -> Self {
        self.set(key, value);
        self
    }

    /// The value of `key` (ASCII case ignored).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let pos = self
            .pairs
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))?;
        Some(self.pairs.remove(pos).1)
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the vector has no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Appends a pair without looking for an existing key (used by the parsers, which keep
    /// whatever the input holds).
    pub(crate) fn push_raw(&mut self, key: String, value: String) {
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.pairs.push((key, value)),
        }
    }
}

impl<K: Into<String>, V: ToTemplateString> FromIterator<(K, V)> for Vector {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut v = Vector::new();
        for (k, val) in iter {
            v.set(k, val);
        }
        v
    }
}

impl<K: Into<String>, V: ToTemplateString, const N: usize> From<[(K, V); N]> for Vector {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

/// Values that can be stored in a [`Vector`]: strings, numbers, typed ids and booleans
/// (written `YES`/`NO`).
pub trait ToTemplateString {
    /// The string stored in the template.
    fn to_template_string(&self) -> String;
}

impl ToTemplateString for str {
    fn to_template_string(&self) -> String {
        self.to_owned()
    }
}

impl ToTemplateString for String {
    fn to_template_string(&self) -> String {
        self.clone()
    }
}

impl<T: ToTemplateString + ?Sized> ToTemplateString for &T {
    fn to_template_string(&self) -> String {
        (**self).to_template_string()
    }
}

impl ToTemplateString for bool {
    fn to_template_string(&self) -> String {
        yes_no(*self).to_owned()
    }
}

macro_rules! tts_display {
    ($($t:ty),+) => {$(
        impl ToTemplateString for $t {
            fn to_template_string(&self) -> String {
                self.to_string()
            }
        }
    )+};
}
tts_display!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    usize,
    isize,
    f32,
    f64,
    char,
    crate::ids::VmId,
    crate::ids::HostId,
    crate::ids::ClusterId,
    crate::ids::DatastoreId,
    crate::ids::ImageId,
    crate::ids::TemplateId,
    crate::ids::VnetId,
    crate::ids::VnTemplateId,
    crate::ids::UserId,
    crate::ids::GroupId,
    crate::ids::SecGroupId,
    crate::ids::VmGroupId,
    crate::ids::VrouterId
);

/// An OpenNebula template: an ordered multimap of attribute names to values.
///
/// Order is kept as given (oned itself returns attributes sorted by name). Names compare
/// ignoring ASCII case in lookups; `==` compares exactly.
///
/// A template decoded from a resource document (`TEMPLATE`, `USER_TEMPLATE`) is held in a
/// compact form (every name and value in one string) until it is first read, so decoding
/// a large pool does not allocate a `String` per attribute for templates nobody looks at;
/// the first read builds the attribute list once. This is invisible through the API.
#[derive(Clone, Default)]
pub struct Template {
    /// The attributes, when the template is not in compact form (`packed` is `None`).
    attrs: Vec<(String, TemplateValue)>,
    /// The compact form of a decoded template; `attrs` is then empty.
    packed: Option<Box<Packed>>,
}

/// The compact form of a decoded template: every name and value in one string, and a list
/// of lengths saying how to cut it (see [`Packed::unpack`]); the attribute list is built on
/// first read.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    text: Box<str>,
    lens: Box<[u32]>,
    count: usize,
    cache: std::sync::OnceLock<Vec<(String, TemplateValue)>>,
}

impl Packed {
    /// A compact template from the buffers of [`xml::Scratch`]: for each attribute, a head
    /// `name_len << 1 | is_vector`, then for a single value its length, for a vector its
    /// number of pairs and each pair's key and value lengths; `text` holds the names and
    /// values in the same order.
    pub(crate) fn template(text: &str, lens: &[u32], count: usize) -> Template {
        Template {
            attrs: Vec::new(),
            packed: Some(Box::new(Packed {
                text: text.into(),
                lens: lens.into(),
                count,
                cache: std::sync::OnceLock::new(),
            })),
        }
    }

    fn unpack(&self) -> Vec<(String, TemplateValue)> {
        let mut out = Vec::with_capacity(self.count);
        let mut at = 0usize;
        let mut take = |n: u32| -> String {
            let a = at;
            at = at.saturating_add(n as usize);
            self.text.get(a..at).unwrap_or_default().to_owned()
        };
        let mut it = self.lens.iter().copied();
        while let Some(head) = it.next() {
            let name = take(head >> 1);
            let n = it.next().unwrap_or(0);
            let value = if head & 1 == 0 {
                TemplateValue::Single(take(n))
            } else {
                let mut v = Vector {
                    pairs: Vec::with_capacity(n as usize),
                };
                for _ in 0..n {
                    let (kl, vl) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
                    let k = take(kl);
                    v.push_raw(k, take(vl));
                }
                TemplateValue::Vector(v)
            };
            out.push((name, value));
        }
        out
    }

    fn attrs(&self) -> &[(String, TemplateValue)] {
        self.cache.get_or_init(|| self.unpack())
    }

    fn into_attrs(mut self) -> Vec<(String, TemplateValue)> {
        match self.cache.take() {
            Some(v) => v,
            None => self.unpack(),
        }
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("attrs", &self.attrs())
            .finish()
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Self) -> bool {
        self.attrs() == other.attrs()
    }
}

impl Eq for Template {}

impl std::hash::Hash for Template {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.attrs().hash(state);
    }
}

impl Template {
    /// An empty template.
    pub fn new() -> Self {
        Template::default()
    }

    /// The attributes, built from the compact form on first use.
    fn attrs(&self) -> &[(String, TemplateValue)] {
        match &self.packed {
            Some(p) => p.attrs(),
            None => &self.attrs,
        }
    }

    /// The attributes for changing them (the compact form, if any, is given up).
    fn attrs_mut(&mut self) -> &mut Vec<(String, TemplateValue)> {
        if let Some(p) = self.packed.take() {
            self.attrs = (*p).into_attrs();
        }
        &mut self.attrs
    }

    /// The number of attributes (a repeated name counts once per occurrence).
    pub fn len(&self) -> usize {
        match &self.packed {
            Some(p) => p.count,
            None => self.attrs.len(),
        }
    }

    /// Whether the template has no attributes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first value named `name` (ASCII case ignored).
    pub fn get(&self, name: &str) -> Option<&TemplateValue> {
        self.get_all(name).next()
    }

    /// Every value named `name`, in order.
    pub fn get_all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a TemplateValue> + use<'a, 'n> {
        self.attrs()
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first value named `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut TemplateValue> {
        self.attrs_mut()
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first single (string) value named `name`.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get_all(name).find_map(TemplateValue::as_str)
    }

    /// The first vector value named `name`.
    pub fn get_vector(&self, name: &str) -> Option<&Vector> {
        self.get_all(name).find_map(TemplateValue::as_vector)
    }

    /// Every vector value named `name` (e.g. all `DISK`s).
    pub fn vectors<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a Vector> + use<'a, 'n> {
        self.get_all(name).filter_map(TemplateValue::as_vector)
    }

    /// Whether an attribute named `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to `value`: the first occurrence is replaced in place and any further
    /// occurrences are removed; if there is none the attribute is appended.
    ///
    /// Names are validated when the template is rendered.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<TemplateValue>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        let attrs = self.attrs_mut();
        match attrs
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(first) => {
                attrs[first].1 = value;
                let mut i = 0;
                attrs.retain(|(n, _)| {
                    let keep = i <= first || !n.eq_ignore_ascii_case(&name);
                    i += 1;
                    keep
                });
            }
            None => attrs.push((name, value)),
        }
        self
    }

    /// Appends an attribute, keeping existing ones of the same name (e.g. a second `DISK`).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<TemplateValue>) -> &mut Self {
        self.attrs_mut().push((name.into(), value.into()));
        self
    }

    /// Builder form of [`Template::set`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<TemplateValue>) -> Self {
        self.set(name, value);
        self
    }

    /// Builder form of [`Template::push`].
    pub fn with_pushed(mut self, name: impl Into<String>, value: impl Into<TemplateValue>) -> Self {
        self.push(name, value);
        self
    }

    /// Removes every attribute named `name` and returns them in order.
    pub fn remove(&mut self, name: &str) -> Vec<TemplateValue> {
        let mut removed = Vec::new();
        let attrs = self.attrs_mut();
        let mut kept = Vec::with_capacity(attrs.len());
        for (n, v) in attrs.drain(..) {
            if n.eq_ignore_ascii_case(name) {
                removed.push(v);
            } else {
                kept.push((n, v));
            }
        }
        *attrs = kept;
        removed
    }

    /// The attributes in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &TemplateValue)> + '_ {
        self.attrs().iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Appends every attribute of `other`.
    pub fn extend(&mut self, other: Template) -> &mut Self {
        let mut other = other;
        let theirs = std::mem::take(other.attrs_mut());
        self.attrs_mut().extend(theirs);
        self
    }

    /// Checks every attribute and vector key name against `[A-Za-z0-9_]+`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) naming the first
    /// bad name.
    pub fn validate_names(&self) -> Result<()> {
        for (name, value) in self.attrs() {
            check_name(name)?;
            if let TemplateValue::Vector(v) = value {
                for (k, _) in v.iter() {
                    check_name(k).map_err(|e| e.context(format_args!("in vector {name}")))?;
                }
            }
        }
        Ok(())
    }

    /// Parses a template in either syntax: XML when the text starts with `<` (after
    /// whitespace), the text syntax otherwise, as oned does.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) with the line
    /// and column of the first syntax error.
    pub fn parse(input: &str) -> Result<Template> {
        if input.trim_start().starts_with('<') {
            Template::from_xml(input)
        } else {
            Template::parse_text(input)
        }
    }

    /// Parses the text syntax (`NAME = "value"`, `NAME = [ K = "v", ... ]`, `# comment`).
    ///
    /// Inside double quotes the only escape is `\"`; any other backslash is kept, as oned
    /// does. Unquoted values are trimmed; quoted ones are kept verbatim.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) with the line
    /// and column of the first syntax error.
    pub fn parse_text(input: &str) -> Result<Template> {
        text::parse(input)
    }

    /// Parses the XML form: one root element (normally `TEMPLATE`) whose children are the
    /// attributes; a child with element children is a vector.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for malformed XML.
    pub fn from_xml(input: &str) -> Result<Template> {
        xml::parse_document(input)
    }

    /// Reads a template element from a quick-xml reader positioned just after its start
    /// tag; see [`from_xml_reader`].
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for malformed XML.
    pub fn from_xml_reader(reader: &mut quick_xml::Reader<&[u8]>, end: &[u8]) -> Result<Template> {
        xml::from_xml_reader(reader, end)
    }

    /// Renders the text syntax.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an invalid
    /// name, or a value the text syntax cannot carry: one ending in `\`, containing `]]>`,
    /// or holding a control character other than newline and tab. Use
    /// [`Template::to_xml`] or [`Template::render`] for those.
    pub fn to_text(&self) -> Result<String> {
        text::render(self)
    }

    /// Renders the XML form `<TEMPLATE>...</TEMPLATE>`, every value in CDATA (a `]]>` inside
    /// a value is split across two CDATA sections).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an invalid
    /// name or a character XML 1.0 cannot carry (e.g. `\u{1}`).
    pub fn to_xml(&self) -> Result<String> {
        xml::render(self, "TEMPLATE")
    }

    /// Renders the text syntax when every value fits in it, the XML form otherwise. This is
    /// what the client sends to oned.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an invalid
    /// name or a value neither syntax can carry.
    pub fn render(&self) -> Result<String> {
        self.validate_names()?;
        if self.iter().all(|(_, v)| match v {
            TemplateValue::Single(s) => text::text_safe(s),
            TemplateValue::Vector(vec) => vec.iter().all(|(_, s)| text::text_safe(s)),
        }) {
            self.to_text()
        } else {
            self.to_xml()
        }
    }
}

impl fmt::Display for Template {
    /// The text syntax when possible, the XML form otherwise; an invalid template renders
    /// as a `# invalid template: ...` comment line (use [`Template::render`] to get the
    /// error).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.render() {
            Ok(s) => f.write_str(&s),
            Err(e) => write!(f, "# invalid template: {}", e.message()),
        }
    }
}

impl FromStr for Template {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Template::parse(s)
    }
}

impl<'a> IntoIterator for &'a Template {
    type Item = (&'a str, &'a TemplateValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, TemplateValue)>,
        fn(&'a (String, TemplateValue)) -> (&'a str, &'a TemplateValue),
    >;
    fn into_iter(self) -> Self::IntoIter {
        fn pair(p: &(String, TemplateValue)) -> (&str, &TemplateValue) {
            (p.0.as_str(), &p.1)
        }
        self.attrs().iter().map(pair)
    }
}

impl IntoIterator for Template {
    type Item = (String, TemplateValue);
    type IntoIter = std::vec::IntoIter<(String, TemplateValue)>;
    fn into_iter(mut self) -> Self::IntoIter {
        std::mem::take(self.attrs_mut()).into_iter()
    }
}

impl<K: Into<String>, V: Into<TemplateValue>> FromIterator<(K, V)> for Template {
    /// Collects attributes in order; repeated names are kept (pushed).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Template {
            attrs: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            packed: None,
        }
    }
}

impl<K: Into<String>, V: Into<TemplateValue>, const N: usize> From<[(K, V); N]> for Template {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

/// Whether `name` is a valid attribute name (`[A-Za-z0-9_]+`).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_name(name: &str) -> Result<()> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "invalid template attribute name {name:?}: names must match [A-Za-z0-9_]+"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_push_repeats() {
        let mut t = Template::new();
        t.push("DISK", Vector::from([("IMAGE_ID", "1")]))
            .set("NAME", "a")
            .push("DISK", Vector::from([("IMAGE_ID", "2")]));
        assert_eq!(t.get_all("disk").count(), 2);
        t.set("DISK", Vector::from([("IMAGE_ID", "3")]));
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.get_vector("DISK").and_then(|v| v.get("image_id")),
            Some("3")
        );
        assert_eq!(t.iter().next().map(|(n, _)| n), Some("DISK"));
        assert_eq!(t.remove("DISK").len(), 1);
        assert_eq!(t.get_str("NAME"), Some("a"));
        assert!(!t.contains("DISK"));
    }

    #[test]
    fn names_are_validated_on_render() {
        let t = Template::new().with("BAD NAME", "x");
        assert!(t.to_text().is_err());
        assert!(t.to_xml().is_err());
        let t = Template::new().with("V", Vector::from([("K=\"1\"", "x")]));
        let err = t.render().expect_err("bad key");
        assert!(err.message().contains("K="), "{err}");
    }

    #[test]
    fn render_picks_xml_when_needed() -> Result<()> {
        let t = Template::new().with("A", "x\\");
        assert!(t.render()?.starts_with("<TEMPLATE>"));
        let t = Template::new().with("A", "x\\y \"q\"");
        assert_eq!(t.render()?, "A = \"x\\y \\\"q\\\"\"\n");
        assert_eq!(t.to_string(), t.render()?);
        Ok(())
    }

    #[test]
    fn display() {
        let v = Vector::from([("A", "1"), ("B", "say \"x\"")]);
        assert_eq!(v.to_string(), "[ A = \"1\", B = \"say \\\"x\\\"\" ]");
        assert_eq!(TemplateValue::from("plain").to_string(), "plain");
        assert_eq!(Vector::new().to_string(), "[ ]");
    }

    #[test]
    fn conversions() {
        let t = Template::from([("CPU", TemplateValue::from(1.5)), ("X", true.into())]);
        assert_eq!(t.get_str("CPU"), Some("1.5"));
        assert_eq!(t.get_str("X"), Some("YES"));
        let v: Vector = [("A", 1), ("a", 2)].into_iter().collect();
        assert_eq!(v.len(), 1);
        assert_eq!(v.get("A"), Some("2"));
    }
}
