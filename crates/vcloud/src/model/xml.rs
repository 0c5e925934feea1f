//! A small, lenient XML tree used to decode vCD and vCA payloads.
//!
//! vCD documents mix namespaces, carry optional elements that older servers omit and
//! attributes that newer servers add; the schemas change between API versions. Decoding
//! through this tree keeps every model lenient: names are compared by their local part
//! (prefixes and namespaces are ignored), unknown elements and attributes are kept, and
//! malformed input is an [`ErrorKind::Protocol`]
//! error, never a panic. Each element and attribute also remembers its namespace URI, so
//! that a tree read from the server can be written back ([`XmlElement::to_xml`]) with the
//! same meaning: the typed vCD model ([`crate::model::vcd`]) keeps the elements it does not
//! model as `XmlElement`s for exactly that.
//!
//! ```
//! use nebulair_vcloud::model::xml::XmlElement;
//!
//! let doc = XmlElement::parse(r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="running"><Progress>40</Progress></Task>"#)?;
//! assert_eq!(doc.name(), "Task");
//! assert_eq!(doc.attr("status"), Some("running"));
//! assert_eq!(doc.child_text("Progress"), Some("40"));
//! # Ok::<(), nebulair_core::Error>(())
//! ```

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use nebulair_core::{Error, ErrorKind, Result};

/// How deep elements may nest before a document is rejected (protects the stack).
pub const MAX_DEPTH: usize = 256;

/// One XML element: its local name, attributes (local names), child elements and text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlElement {
    name: String,
    namespace: Option<String>,
    attributes: Vec<(String, String)>,
    /// The namespace of each attribute (same index as `attributes`).
    attribute_ns: Vec<Option<String>>,
    children: Vec<XmlElement>,
    text: String,
}

impl XmlElement {
    /// Parses a whole document and returns its root element.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the text is not well-formed XML, has no root element,
    /// or nests deeper than [`MAX_DEPTH`].
    pub fn parse(text: &str) -> Result<XmlElement> {
        let mut reader = NsReader::from_str(text);
        reader.config_mut().trim_text(false);
        let mut stack: Vec<XmlElement> = Vec::new();
        let mut root: Option<XmlElement> = None;
        loop {
            let event = reader.read_event().map_err(|e| {
                Error::with_source(
                    ErrorKind::Protocol,
                    format!("malformed XML at byte {}", reader.error_position()),
                    e,
                )
            })?;
            match event {
                Event::Start(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Error::protocol(format!(
                            "XML nests deeper than {MAX_DEPTH} elements"
                        )));
                    }
                    stack.push(element_from_start(&reader, &start)?);
                }
                Event::Empty(start) => {
                    let el = element_from_start(&reader, &start)?;
                    attach(&mut stack, &mut root, el)?;
                }
                Event::End(_) => {
                    let el = stack
                        .pop()
                        .ok_or_else(|| Error::protocol("unbalanced XML end tag"))?;
                    attach(&mut stack, &mut root, el)?;
                }
                Event::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        let s = quick_xml::escape::unescape(&t).map_err(|e| {
                            Error::with_source(ErrorKind::Protocol, "invalid XML escape", e)
                        })?;
                        top.text.push_str(&s);
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(top) = stack.last_mut() {
                        let entity = format!("&{};", &*r);
                        let s = quick_xml::escape::unescape(&entity).map_err(|e| {
                            Error::with_source(ErrorKind::Protocol, "invalid XML entity", e)
                        })?;
                        top.text.push_str(&s);
                    }
                }
                Event::CData(c) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&c);
                    }
                }
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            }
        }
        if !stack.is_empty() {
            return Err(Error::protocol(
                "truncated XML: unclosed elements at end of input",
            ));
        }
        root.ok_or_else(|| Error::protocol("empty XML document: no root element"))
    }

    /// A new element with a local name (for building test documents and bodies).
    pub fn new(name: impl Into<String>) -> Self {
        XmlElement {
            name: name.into(),
            ..Default::default()
        }
    }

    /// A new element with a namespace URI and a local name.
    pub fn new_ns(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        XmlElement {
            name: name.into(),
            namespace: Some(namespace.into()),
            ..Default::default()
        }
    }

    /// Adds an attribute without a namespace (builder style).
    pub fn with_attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push_attr(None, name, value);
        self
    }

    /// Adds an attribute in a namespace (builder style), e.g. `ovf:required`.
    pub fn with_ns_attr(
        mut self,
        namespace: impl Into<String>,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.push_attr(Some(namespace.into()), name, value);
        self
    }

    /// Appends an attribute with an optional namespace.
    pub fn push_attr(
        &mut self,
        namespace: Option<String>,
        name: impl Into<String>,
        value: impl Into<String>,
    ) {
        self.attributes.push((name.into(), value.into()));
        self.attribute_ns.push(namespace);
    }

    /// Appends a child element.
    pub fn push_child(&mut self, child: XmlElement) {
        self.children.push(child);
    }

    /// Sets the text.
    pub fn set_text(&mut self, text: impl Into<String>) {
        self.text = text.into();
    }

    /// The namespace URI of the element, when it has one.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The namespace URI of the attribute at `index` of [`XmlElement::attributes`].
    pub fn attribute_namespace(&self, index: usize) -> Option<&str> {
        self.attribute_ns.get(index).and_then(|n| n.as_deref())
    }

    /// Every attribute as `(namespace, local name, value)`, in document order.
    pub fn attributes_ns(&self) -> impl Iterator<Item = (Option<&str>, &str, &str)> {
        self.attributes
            .iter()
            .enumerate()
            .map(|(i, (n, v))| (self.attribute_namespace(i), n.as_str(), v.as_str()))
    }

    /// Writes the element as an XML document (no declaration): namespaces are declared on
    /// the root (the root's own namespace as the default one, the others with the usual
    /// vCD prefixes `ovf`, `rasd`, `vssd`, `vmw`, `vcloud`, `xsi`, or `ns1`, `ns2`...).
    ///
    /// ```
    /// use nebulair_vcloud::model::xml::XmlElement;
    /// let doc = r#"<Vm xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" name="a&amp;b"><ovf:Info ovf:msgid="x">hi</ovf:Info></Vm>"#;
    /// let el = XmlElement::parse(doc)?;
    /// let again = XmlElement::parse(&el.to_xml())?;
    /// assert_eq!(again, el);
    /// assert_eq!(again.children()[0].namespace(), Some("http://schemas.dmtf.org/ovf/envelope/1"));
    /// # Ok::<(), nebulair_core::Error>(())
    /// ```
    pub fn to_xml(&self) -> String {
        let mut prefixes: Vec<(String, String)> = Vec::new();
        let default = self.namespace.clone();
        self.collect_namespaces(default.as_deref(), &mut prefixes);
        let mut out = String::new();
        self.write(&mut out, default.as_deref(), &prefixes, true);
        out
    }

    fn collect_namespaces(&self, default: Option<&str>, prefixes: &mut Vec<(String, String)>) {
        let mut add = |ns: &str, for_attr: bool| {
            if (!for_attr && Some(ns) == default) || prefixes.iter().any(|(u, _)| u == ns) {
                return;
            }
            let known = KNOWN_PREFIXES
                .iter()
                .find(|(u, _)| *u == ns)
                .map(|(_, p)| (*p).to_owned());
            let prefix = known
                .filter(|p| !prefixes.iter().any(|(_, q)| q == p))
                .unwrap_or_else(|| format!("ns{}", prefixes.len() + 1));
            prefixes.push((ns.to_owned(), prefix));
        };
        if let Some(ns) = self.namespace.as_deref() {
            add(ns, false);
        }
        for ns in self.attribute_ns.iter().flatten() {
            add(ns, true);
        }
        for c in &self.children {
            c.collect_namespaces(default, prefixes);
        }
    }

    fn write(
        &self,
        out: &mut String,
        default: Option<&str>,
        prefixes: &[(String, String)],
        root: bool,
    ) {
        let prefix_of = |ns: &str| {
            prefixes
                .iter()
                .find(|(u, _)| u == ns)
                .map(|(_, p)| p.as_str())
        };
        let qname = match self.namespace.as_deref() {
            Some(ns) if Some(ns) != default => match prefix_of(ns) {
                Some(p) => format!("{p}:{}", self.name),
                None => self.name.clone(),
            },
            _ => self.name.clone(),
        };
        out.push('<');
        out.push_str(&qname);
        if root {
            if let Some(d) = default {
                out.push_str(&format!(" xmlns=\"{}\"", escape(d)));
            }
            for (u, p) in prefixes {
                out.push_str(&format!(" xmlns:{p}=\"{}\"", escape(u)));
            }
        }
        for (ns, name, value) in self.attributes_ns() {
            out.push(' ');
            if let Some(p) = ns.and_then(prefix_of) {
                out.push_str(p);
                out.push(':');
            }
            out.push_str(name);
            out.push_str("=\"");
            out.push_str(
                &escape(value)
                    .replace('\n', "&#10;")
                    .replace('\r', "&#13;")
                    .replace('\t', "&#9;"),
            );
            out.push('"');
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        out.push_str(&escape(&self.text).replace('\r', "&#13;"));
        for c in &self.children {
            c.write(out, default, prefixes, false);
        }
        out.push_str("</");
        out.push_str(&qname);
        out.push('>');
    }

    /// Adds a child element (builder style).
    pub fn with_child(mut self, child: XmlElement) -> Self {
        self.children.push(child);
        self
    }

    /// Sets the text (builder style).
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// The local name (without a namespace prefix).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every attribute as `(local name, value)`, in document order. Namespace
    /// declarations (`xmlns`, `xmlns:*`) are not included.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// The value of the attribute with this local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements in document order.
    pub fn children(&self) -> &[XmlElement] {
        &self.children
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&XmlElement> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a XmlElement> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text directly inside this element (entities resolved, not trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The trimmed text of the first child with this local name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Prefixes [`XmlElement::to_xml`] gives well-known namespaces.
const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("http://www.vmware.com/vcloud/v1.5", "vcloud"),
    ("http://schemas.dmtf.org/ovf/envelope/1", "ovf"),
    (
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData",
        "rasd",
    ),
    (
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData",
        "vssd",
    ),
    ("http://www.vmware.com/schema/ovf", "vmw"),
    ("http://www.w3.org/2001/XMLSchema-instance", "xsi"),
    ("http://schemas.dmtf.org/wbem/wscim/1/common", "cim"),
    ("http://schemas.dmtf.org/ovf/environment/1", "ovfenv"),
    ("http://www.w3.org/XML/1998/namespace", "xml"),
];

fn resolved(r: ResolveResult<'_>) -> Option<String> {
    match r {
        ResolveResult::Bound(ns) => Some(ns.as_ref().to_owned()),
        _ => None,
    }
}

fn element_from_start(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<XmlElement> {
    let name = start.local_name().as_ref().to_owned();
    let namespace = resolved(reader.resolver().resolve_element(start.name()).0);
    let mut attributes = Vec::new();
    let mut attribute_ns = Vec::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                format!("malformed attribute in <{name}>"),
                e,
            )
        })?;
        let key = attr.key;
        if key.as_ref() == "xmlns" || key.prefix().is_some_and(|p| p.as_ref() == "xmlns") {
            continue;
        }
        let local = key.local_name().as_ref().to_owned();
        let ns = if key.prefix().is_some_and(|p| p.as_ref() == "xml") {
            Some("http://www.w3.org/XML/1998/namespace".to_owned())
        } else {
            resolved(reader.resolver().resolve_attribute(key).0)
        };
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| {
                Error::with_source(
                    ErrorKind::Protocol,
                    format!("invalid value for attribute {local} in <{name}>"),
                    e,
                )
            })?;
        attributes.push((local, value.into_owned()));
        attribute_ns.push(ns);
    }
    Ok(XmlElement {
        name,
        namespace,
        attributes,
        attribute_ns,
        children: Vec::new(),
        text: String::new(),
    })
}

fn attach(stack: &mut [XmlElement], root: &mut Option<XmlElement>, el: XmlElement) -> Result<()> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(el);
            Ok(())
        }
        None if root.is_none() => {
            *root = Some(el);
            Ok(())
        }
        None => Err(Error::protocol("XML has more than one root element")),
    }
}

impl serde::Serialize for XmlElement {
    /// JSON/YAML view of a kept element: `name`, `namespace`, `attributes` (name -> value),
    /// `text` and `children`, each left out when empty.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &self.name)?;
        if let Some(ns) = &self.namespace {
            m.serialize_entry("namespace", ns)?;
        }
        if !self.attributes.is_empty() {
            let attrs: std::collections::BTreeMap<&str, &str> = self
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            m.serialize_entry("attributes", &attrs)?;
        }
        if !self.text.trim().is_empty() {
            m.serialize_entry("text", &self.text)?;
        }
        if !self.children.is_empty() {
            m.serialize_entry("children", &self.children)?;
        }
        m.end()
    }
}

/// Escapes text for use in XML content or attribute values.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_document() {
        let doc = XmlElement::parse(
            r#"<?xml version="1.0"?><ns:A xmlns:ns="urn:x" xmlns:xsi="urn:y" xsi:type="t" b="1&amp;2"><ns:B>x &lt; y</ns:B><C/></ns:A>"#,
        )
        .expect("parse");
        assert_eq!(doc.name(), "A");
        assert_eq!(doc.attr("type"), Some("t"));
        assert_eq!(doc.attr("b"), Some("1&2"));
        assert_eq!(doc.child_text("B"), Some("x < y"));
        assert!(doc.child("C").is_some());
        assert_eq!(doc.attributes().len(), 2);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "   ",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "not xml",
            "<a x='1' x='2'>",
        ] {
            let err = XmlElement::parse(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::Protocol, "{bad}: {err}");
        }
    }

    #[test]
    fn depth_limit() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(XmlElement::parse(&deep).is_err());
    }

    proptest::proptest! {
        #[test]
        fn garbage_never_panics(s in ".{0,200}") {
            let _ = XmlElement::parse(&s);
        }

        #[test]
        fn text_round_trips(s in "[^\u{0}-\u{1f}\u{fffe}\u{ffff}]{0,50}") {
            let doc = format!("<a v=\"{}\">{}</a>", escape(&s), escape(&s));
            let el = XmlElement::parse(&doc).expect("parse");
            proptest::prop_assert_eq!(el.attr("v"), Some(s.as_str()));
            proptest::prop_assert_eq!(el.text(), s.as_str());
            let again = XmlElement::parse(&el.to_xml()).expect("reparse");
            proptest::prop_assert_eq!(again, el);
        }
    }
}
