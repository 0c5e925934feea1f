//! Small XML helpers: escaping for rendering, and a lenient reader for request bodies.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The vCD namespace used by every vCD payload (all API versions).
pub(crate) const NS_VCLOUD: &str = "http://www.vmware.com/vcloud/v1.5";
/// The vCloud Air subscription (vchs) namespace.
pub(crate) const NS_VCHS: &str = "http://www.vmware.com/vchs/v5.6";
/// The DR (vSphere Replication) namespace.
pub(crate) const NS_VR: &str = "http://www.vmware.com/vr/v6.0";
/// The namespace of `/api/versions`.
pub(crate) const NS_VERSIONS: &str = "http://www.vmware.com/vcloud/versions";

/// Escapes text for use in an attribute value or element content.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders `name="value"` pairs (escaped), each preceded by a space.
pub(crate) fn attrs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(&esc(v));
        out.push('"');
    }
    out
}

/// A `<Link .../>` element.
pub(crate) fn link(rel: &str, href: &str, typ: Option<&str>, name: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![("rel", rel), ("href", href)];
    if let Some(t) = typ {
        pairs.push(("type", t));
    }
    if let Some(n) = name {
        pairs.push(("name", n));
    }
    format!("<Link{}/>", attrs(&pairs))
}

/// A parsed element of a request body: local name, attributes, text and children.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    /// Local name (namespace prefix removed).
    pub(crate) name: String,
    /// Attributes by local name.
    pub(crate) attrs: Vec<(String, String)>,
    /// Concatenated text content.
    pub(crate) text: String,
    /// Child elements in order.
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child with this local name.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text of the first child with this local name, trimmed.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => s.into_owned(),
    }
}

fn start_element(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let mut el = Element {
        name: local(e.name().as_ref().as_bytes()),
        ..Element::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        let key = a.key.as_ref().to_owned();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| format!("bad attribute value: {err}"))?
            .into_owned();
        el.attrs.push((local(key.as_bytes()), value));
    }
    Ok(el)
}

/// Parses a whole document into its root element; any malformation is an error message.
pub(crate) fn parse(doc: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(doc);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                stack.push(start_element(&e)?);
            }
            Ok(Event::Empty(e)) => {
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                let el = start_element(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(cur) = stack.last_mut() {
                    let text = quick_xml::escape::unescape(&t)
                        .map_err(|err| format!("bad text: {err}"))?;
                    cur.text.push_str(&text);
                } else if !t.as_bytes().iter().all(u8::is_ascii_whitespace) {
                    return Err("text outside the root element".into());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(cur) = stack.last_mut() {
                    let entity = format!("&{};", &*r);
                    let resolved = quick_xml::escape::unescape(&entity)
                        .map_err(|err| format!("bad reference: {err}"))?;
                    cur.text.push_str(&resolved);
                }
            }
            Ok(Event::CData(c)) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&c);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(err) => return Err(format!("malformed XML: {err}")),
        }
    }
    if !stack.is_empty() {
        return Err("truncated XML: unclosed element".into());
    }
    root.ok_or_else(|| "empty XML document".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_and_entities() {
        let doc = r#"<a:Root xmlns:a="urn:x" name="n&amp;m"><Child>1 &lt; 2</Child><Empty k="v"/></a:Root>"#;
        let root = parse(doc).expect("parses");
        assert_eq!(root.name, "Root");
        assert_eq!(root.attrs, vec![("name".to_owned(), "n&m".to_owned())]);
        assert_eq!(root.child_text("Child"), Some("1 < 2"));
        assert_eq!(root.child("Empty").map(|e| e.attrs.len()), Some(1));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("").is_err());
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("not xml").is_err());
    }

    #[test]
    fn garbage_documents_never_panic() {
        let alphabet: Vec<char> = "<>/=\"'&;a:b ![CDATA]?-\u{e9}".chars().collect();
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let len = rng.usize(0..40);
            let s: String = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let _ = parse(&s);
        }
        // Every prefix of a valid document either parses or is an error, never a panic.
        let doc = r#"<a x="1"><b>t&amp;</b><![CDATA[c]]><c/></a>"#;
        for i in 0..doc.len() {
            let _ = parse(&doc[..i]);
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
