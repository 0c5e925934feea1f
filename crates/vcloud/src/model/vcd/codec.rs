//! The hand-written runtime of the generated vCD model: the [`Element`] and [`Document`]
//! traits, scalar parsing with typed errors, and the two generic holders [`XmlText`] and
//! [`XmlAttribute`].

use std::fmt;

use serde::Serialize;

use nebulair_core::{Error, Result};

use crate::model::xml::XmlElement;

/// A type of the vCD model that decodes from and encodes to an [`XmlElement`].
pub trait Element: Sized {
    /// Decodes the element (any name: the caller matched it).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when an attribute or child that the
    /// schema types as a number or a boolean holds something else.
    fn from_element(el: &XmlElement) -> Result<Self>;

    /// Encodes the value as an element with this namespace and local name. Fields come in
    /// schema order; kept unknown attributes and elements follow the known ones.
    fn to_element(&self, namespace: &str, name: &str) -> XmlElement;
}

/// A vCD document type: an [`Element`] with a top-level element name.
pub trait Document: Element {
    /// The namespace URI of the root element.
    const NAMESPACE: &'static str;
    /// The local name of the root element.
    const ELEMENT: &'static str;

    /// Decodes a document already in hand.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for malformed XML, a root element of
    /// another name, or a badly typed value.
    fn from_xml(text: &str) -> Result<Self> {
        from_document(text)
    }

    /// Decodes a root element already parsed.
    ///
    /// # Errors
    /// As [`Document::from_xml`].
    fn from_root(el: &XmlElement) -> Result<Self> {
        if el.name() != Self::ELEMENT {
            return Err(Error::protocol(format!(
                "expected a <{}> document, got <{}>",
                Self::ELEMENT,
                el.name()
            )));
        }
        Self::from_element(el)
    }

    /// The document as an element named [`Document::ELEMENT`].
    fn to_root(&self) -> XmlElement {
        self.to_element(Self::NAMESPACE, Self::ELEMENT)
    }

    /// The document as XML text (to `PUT` or `POST` it).
    fn to_xml(&self) -> String {
        self.to_root().to_xml()
    }
}

/// Parses `text` and decodes its root as `T`.
///
/// # Errors
/// As [`Document::from_xml`].
pub fn from_document<T: Document>(text: &str) -> Result<T> {
    T::from_root(&XmlElement::parse(text)?)
}

fn bad(el: &XmlElement, what: &str, value: &str, kind: &str) -> Error {
    Error::protocol(format!("<{}> {what}: {value:?} is not {kind}", el.name()))
}

/// Parses an integer value of `el` (an attribute or the element's own text).
///
/// # Errors
/// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) naming the element and the value.
pub fn int(el: &XmlElement, what: &str, value: &str) -> Result<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(el, what, value, "an integer"))
}

/// Parses a boolean (`true`/`false`/`1`/`0`).
///
/// # Errors
/// As [`int`].
pub fn boolean(el: &XmlElement, what: &str, value: &str) -> Result<bool> {
    match value.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(bad(el, what, value, "a boolean")),
    }
}

/// Parses a decimal number.
///
/// # Errors
/// As [`int`].
pub fn float(el: &XmlElement, what: &str, value: &str) -> Result<f64> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(el, what, value, "a number"))
}

/// Renders a scalar for XML.
pub fn render<T: fmt::Display>(v: &T) -> String {
    v.to_string()
}

/// An element holding only text.
pub fn text_element(namespace: &str, name: &str, text: &str) -> XmlElement {
    let mut el = XmlElement::new_ns(namespace, name);
    el.set_text(text);
    el
}

/// An attribute with its namespace (for attributes the model does not declare).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XmlAttribute {
    /// The namespace URI, when the attribute is qualified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The local name.
    pub name: String,
    /// The value.
    pub value: String,
}

impl XmlAttribute {
    /// A new attribute.
    pub fn new(namespace: Option<&str>, name: &str, value: &str) -> Self {
        XmlAttribute {
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }
}

/// An element with simple content: its text and every attribute (the CIM values of a
/// RASD item such as `<rasd:HostResource vcloud:capacity="10240">`, a metadata domain).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct XmlText {
    /// The text.
    pub value: String,
    /// The attributes, in document order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<XmlAttribute>,
}

impl XmlText {
    /// Text without attributes.
    pub fn new(value: impl Into<String>) -> Self {
        XmlText {
            value: value.into(),
            attributes: Vec::new(),
        }
    }

    /// Adds an attribute (builder style).
    pub fn with_attr(mut self, namespace: Option<&str>, name: &str, value: &str) -> Self {
        self.attributes
            .push(XmlAttribute::new(namespace, name, value));
        self
    }

    /// The value of the attribute with this local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Decodes an element's text and attributes (child elements, which simple content
    /// cannot have, are not kept).
    pub fn from_element(el: &XmlElement) -> Self {
        XmlText {
            value: el.text().to_owned(),
            attributes: el
                .attributes_ns()
                .map(|(ns, n, v)| XmlAttribute::new(ns, n, v))
                .collect(),
        }
    }

    /// Encodes as an element.
    pub fn to_element(&self, namespace: &str, name: &str) -> XmlElement {
        let mut el = text_element(namespace, name, &self.value);
        for a in &self.attributes {
            el.push_attr(a.namespace.clone(), a.name.clone(), a.value.clone());
        }
        el
    }
}

impl fmt::Display for XmlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}
