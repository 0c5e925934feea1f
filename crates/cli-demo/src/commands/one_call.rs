//! `nebulair one call`: any XML-RPC method, its answer decoded for `-o json|yaml`.
//!
//! oned answers most calls with an XML document inside a string. For JSON and YAML that
//! document is decoded into an ordered mapping (element names as keys, repeated elements
//! as lists, integers as numbers), so `-o json` gives data, not XML inside a string.
//! Secrets never print: password hashes, token passwords and login tokens inside a
//! document are masked, and the answer of `one.user.login` (the token itself) is replaced.

use nebulair_opennebula::rpc::RpcValue;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_norway::{Mapping, Value as Doc};

/// What every secret is replaced with.
pub(crate) const REDACTED: &str = "(redacted)";

/// Elements of oned's documents that hold secrets: password hashes, the token password,
/// and login tokens (`<LOGIN_TOKEN><TOKEN>`).
const SECRET_ELEMENTS: [&str; 3] = ["PASSWORD", "TOKEN_PASSWORD", "LOGIN_TOKEN"];

/// Methods whose whole answer is a secret (the login token).
pub(crate) fn answer_is_secret(method: &str) -> bool {
    let m = method.trim().to_ascii_lowercase();
    let m = m.strip_prefix("one.").unwrap_or(&m);
    m == "user.login"
}

/// The text with the content of every [`SECRET_ELEMENTS`] element replaced by
/// `(redacted)`, so that no raw answer prints a password hash or a token.
pub(crate) fn redact_secrets(text: &str) -> String {
    let mut out = text.to_owned();
    for name in SECRET_ELEMENTS {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        let mut from = 0;
        while let Some(start) = out[from..].find(&open).map(|i| from + i + open.len()) {
            let Some(end) = out[start..].find(&close).map(|i| start + i) else {
                break;
            };
            let masked = if name == "LOGIN_TOKEN" {
                // keep the expiration and group, mask the token itself
                mask_element(&out[start..end], "TOKEN")
            } else {
                REDACTED.to_owned()
            };
            out.replace_range(start..end, &masked);
            from = start + masked.len() + close.len();
        }
    }
    out
}

/// `inner` with the text of its `<name>` child masked.
fn mask_element(inner: &str, name: &str) -> String {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    match (inner.find(&open), inner.find(&close)) {
        (Some(a), Some(b)) if a + open.len() <= b => {
            format!("{}{REDACTED}{}", &inner[..a + open.len()], &inner[b..])
        }
        _ => inner.to_owned(),
    }
}

/// The answer as an ordered document, secrets masked; XML strings are decoded.
pub(crate) fn answer_doc(v: &RpcValue) -> Doc {
    match v {
        RpcValue::Int(i) => Doc::from(*i),
        RpcValue::Bool(b) => Doc::from(*b),
        RpcValue::Double(d) => Doc::from(*d),
        RpcValue::String(s) => {
            let clean = redact_secrets(s);
            xml_doc(&clean).unwrap_or(Doc::String(clean))
        }
        RpcValue::Array(a) => Doc::Sequence(a.iter().map(answer_doc).collect()),
        RpcValue::Struct(m) => {
            let mut map = Mapping::new();
            for (k, v) in m {
                map.insert(Doc::String(k.clone()), answer_doc(v));
            }
            Doc::Mapping(map)
        }
        other => Doc::String(format!("{other:?}")),
    }
}

/// The answer as text for a table: strings as they came (secrets masked), the rest as
/// JSON.
pub(crate) fn answer_text(v: &RpcValue) -> String {
    match v {
        RpcValue::String(s) => {
            let mut s = redact_secrets(s);
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        other => {
            let mut s = serde_json::to_string_pretty(&answer_doc(other)).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// An element being built: its name, attributes and children in document order, and
/// its text.
struct Node {
    name: String,
    children: Vec<(String, Doc)>,
    text: String,
}

impl Node {
    fn new(name: String, attrs: Vec<(String, String)>) -> Self {
        Node {
            name,
            children: attrs
                .into_iter()
                .map(|(k, v)| (format!("@{k}"), Doc::String(v)))
                .collect(),
            text: String::new(),
        }
    }

    /// Elements with children become mappings (repeated names become lists, in the
    /// place of their first occurrence); text-only elements become their text, an
    /// integer when it is one.
    fn finish(self) -> Doc {
        if self.children.is_empty() {
            return scalar(&self.text);
        }
        let mut order: Vec<String> = Vec::new();
        let mut groups: std::collections::HashMap<String, Vec<Doc>> = Default::default();
        for (k, v) in self.children {
            groups
                .entry(k.clone())
                .or_insert_with(|| {
                    order.push(k);
                    Vec::new()
                })
                .push(v);
        }
        let mut map = Mapping::new();
        for k in order {
            let mut values = groups.remove(&k).unwrap_or_default();
            let v = if values.len() == 1 {
                values.pop().unwrap_or(Doc::Null)
            } else {
                Doc::Sequence(values)
            };
            map.insert(Doc::String(k), v);
        }
        let text = self.text.trim();
        if !text.is_empty() {
            map.insert(Doc::String("#text".into()), Doc::String(text.to_owned()));
        }
        Doc::Mapping(map)
    }
}

fn scalar(text: &str) -> Doc {
    let t = text.trim();
    match t.parse::<i64>() {
        Ok(i) if i.to_string() == t => Doc::from(i),
        _ => Doc::String(text.to_owned()),
    }
}

/// Decodes an XML document into `{ROOT: {...}}`; `None` when the text is not XML.
pub(crate) fn xml_doc(text: &str) -> Option<Doc> {
    if !text.trim_start().starts_with('<') {
        return None;
    }
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<(String, Doc)> = None;
    let attrs_of = |e: &quick_xml::events::BytesStart<'_>| -> Option<Vec<(String, String)>> {
        e.attributes()
            .map(|a| {
                let a = a.ok()?;
                let key = a.key.as_ref().to_owned();
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()?
                    .into_owned();
                Some((key, value))
            })
            .collect()
    };
    let close = |stack: &mut Vec<Node>, root: &mut Option<(String, Doc)>, node: Node| {
        let name = node.name.clone();
        let doc = node.finish();
        match stack.last_mut() {
            Some(parent) => parent.children.push((name, doc)),
            None => *root = Some((name, doc)),
        }
    };
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                stack.push(Node::new(name, attrs_of(&e)?));
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                let node = Node::new(name, attrs_of(&e)?);
                close(&mut stack, &mut root, node);
            }
            Event::End(_) => {
                let node = stack.pop()?;
                close(&mut stack, &mut root, node);
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml11_content());
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => match &*r {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "apos" => "'".into(),
                        "quot" => "\"".into(),
                        _ => return None,
                    },
                };
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    let (name, doc) = root?;
    let mut map = Mapping::new();
    map.insert(Doc::String(name), doc);
    Some(Doc::Mapping(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_answers_mask_passwords_and_tokens() {
        let xml = "<USER><ID>2</ID><PASSWORD><![CDATA[5e8848]]></PASSWORD><LOGIN_TOKEN>\
                   <TOKEN>abc123</TOKEN><EXPIRATION_TIME>9</EXPIRATION_TIME></LOGIN_TOKEN>\
                   <TEMPLATE><TOKEN_PASSWORD><![CDATA[tp]]></TOKEN_PASSWORD>\
                   <CONTEXT><TOKEN>YES</TOKEN></CONTEXT></TEMPLATE><PASSWORD>x</PASSWORD></USER>";
        let out = redact_secrets(xml);
        for secret in ["5e8848", "abc123", "tp]]", "<PASSWORD>x<"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(
            out.contains("<EXPIRATION_TIME>9</EXPIRATION_TIME>"),
            "{out}"
        );
        assert!(
            out.contains("<CONTEXT><TOKEN>YES</TOKEN></CONTEXT>"),
            "{out}"
        );
        assert_eq!(out.matches("(redacted)").count(), 4, "{out}");
        assert_eq!(redact_secrets("<PASSWORD>unclosed"), "<PASSWORD>unclosed");
        let doc = answer_doc(&RpcValue::String(xml.into()));
        let json = serde_json::to_string(&doc).expect("json");
        for secret in ["5e8848", "abc123", "\"tp\""] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
    }

    #[test]
    fn xml_becomes_an_ordered_document() {
        let xml = "<VM_POOL><VM><ID>7</ID><NAME>web &amp; db</NAME><STATE>3</STATE>\
                   <TEMPLATE><NIC><IP>10.0.0.1</IP></NIC><NIC><IP>10.0.0.2</IP></NIC>\
                   <CPU><![CDATA[0.5]]></CPU></TEMPLATE></VM><VM><ID>3</ID><NAME/></VM></VM_POOL>";
        let doc = xml_doc(xml).expect("xml");
        let json = serde_json::to_string(&doc).expect("json");
        assert_eq!(
            json,
            r#"{"VM_POOL":{"VM":[{"ID":7,"NAME":"web & db","STATE":3,"TEMPLATE":{"NIC":[{"IP":"10.0.0.1"},{"IP":"10.0.0.2"}],"CPU":"0.5"}},{"ID":3,"NAME":""}]}}"#
        );
        assert!(xml_doc("not xml").is_none());
        assert!(xml_doc("<A><B></A>").is_none());
        assert_eq!(
            serde_json::to_string(&xml_doc("<A x=\"1\">t</A>").expect("attr")).expect("json"),
            r##"{"A":{"@x":"1","#text":"t"}}"##
        );
    }

    #[test]
    fn login_answers_are_secret() {
        assert!(answer_is_secret("one.user.login"));
        assert!(answer_is_secret("user.login"));
        assert!(!answer_is_secret("one.user.info"));
    }
}
