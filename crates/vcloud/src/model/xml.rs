//! A small, lenient XML tree used to decode vCD and vCA payloads.
//!
//! vCD documents mix namespaces, carry optional elements that older servers omit and
//! attributes that newer servers add; the schemas change between API versions. Decoding
//! through this tree keeps every model lenient: names are compared by their local part
//! (prefixes and namespaces are ignored), unknown elements and attributes are kept, and
//! malformed input is an [`ErrorKind::Protocol`]
//! error, never a panic.
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

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use nebulair_core::{Error, ErrorKind, Result};

/// How deep elements may nest before a document is rejected (protects the stack).
pub const MAX_DEPTH: usize = 256;

/// One XML element: its local name, attributes (local names), child elements and text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlElement {
    name: String,
    attributes: Vec<(String, String)>,
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
        let mut reader = Reader::from_str(text);
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
                    stack.push(element_from_start(&start)?);
                }
                Event::Empty(start) => {
                    let el = element_from_start(&start)?;
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
                        let s = t.decode().map_err(|e| {
                            Error::with_source(ErrorKind::Protocol, "invalid XML text", e)
                        })?;
                        let s = quick_xml::escape::unescape(&s).map_err(|e| {
                            Error::with_source(ErrorKind::Protocol, "invalid XML escape", e)
                        })?;
                        top.text.push_str(&s);
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(top) = stack.last_mut() {
                        let name = r.decode().map_err(|e| {
                            Error::with_source(ErrorKind::Protocol, "invalid XML reference", e)
                        })?;
                        let entity = format!("&{name};");
                        let s = quick_xml::escape::unescape(&entity).map_err(|e| {
                            Error::with_source(ErrorKind::Protocol, "invalid XML entity", e)
                        })?;
                        top.text.push_str(&s);
                    }
                }
                Event::CData(c) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&String::from_utf8_lossy(&c.into_inner()));
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

    /// Adds an attribute (builder style).
    pub fn with_attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
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

fn element_from_start(start: &BytesStart<'_>) -> Result<XmlElement> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                format!("malformed attribute in <{name}>"),
                e,
            )
        })?;
        let key = attr.key;
        if key.as_ref() == b"xmlns" || key.prefix().is_some_and(|p| p.as_ref() == b"xmlns") {
            continue;
        }
        let local = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
        let value = attr.unescape_value().map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                format!("invalid value for attribute {local} in <{name}>"),
                e,
            )
        })?;
        attributes.push((local, value.into_owned()));
    }
    Ok(XmlElement {
        name,
        attributes,
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
        }
    }
}
