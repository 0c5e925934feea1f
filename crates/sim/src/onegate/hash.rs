//! oned XML to the JSON OneGate sends, the way the Ruby server does it
//! (`OpenNebula::XMLElement#to_hash`): an element with text is a string, an element with
//! children is an object (`{}` when empty), a repeated element becomes an array; keys
//! keep document order.

use quick_xml::Reader;
use quick_xml::events::Event;

/// A JSON value whose objects keep their key order (Ruby hashes do).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub(crate) fn obj() -> J {
        J::Obj(Vec::new())
    }

    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut J> {
        match self {
            J::Obj(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a `A/B/C` path of object members.
    pub(crate) fn path(&self, path: &str) -> Option<&J> {
        path.split('/').try_fold(self, |cur, k| cur.get(k))
    }

    /// The text of a string member (`None` for objects, arrays, absent keys).
    pub(crate) fn text(&self, path: &str) -> Option<&str> {
        match self.path(path)? {
            J::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Sets (or replaces) a member of an object.
    pub(crate) fn set(&mut self, key: &str, value: J) {
        if let J::Obj(m) = self {
            if let Some(slot) = m.iter_mut().find(|(k, _)| k == key) {
                slot.1 = value;
            } else {
                m.push((key.to_owned(), value));
            }
        }
    }

    /// A single value as a list of one, `null` as an empty list, a list as itself.
    pub(crate) fn into_list(self) -> Vec<J> {
        match self {
            J::Arr(items) => items,
            J::Null => Vec::new(),
            other => vec![other],
        }
    }

    /// Writes compact JSON (as Ruby's `to_json`).
    pub(crate) fn write(&self, out: &mut String) {
        match self {
            J::Str(s) => write_str(out, s),
            J::Int(n) => out.push_str(&n.to_string()),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Null => out.push_str("null"),
            J::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            J::Obj(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    pub(crate) fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Converts an XML document to `{root_name: hash}` like `to_hash`.
pub(crate) fn xml_to_hash(xml: &str) -> Result<J, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Vec<(String, J)> = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                stack.push(Frame {
                    name,
                    children: Vec::new(),
                    text: String::new(),
                    saw_child: false,
                    saw_text: false,
                });
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                let target = match stack.last_mut() {
                    Some(top) => {
                        top.saw_child = true;
                        &mut top.children
                    }
                    None => &mut root,
                };
                insert(target, name, J::obj());
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let text = quick_xml::escape::unescape(&t)
                        .map_err(|e| e.to_string())?
                        .into_owned();
                    if !text.trim().is_empty() {
                        top.saw_text = true;
                    }
                    top.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let entity = format!("&{};", &*r);
                    let text = quick_xml::escape::unescape(&entity)
                        .map_err(|e| e.to_string())?
                        .into_owned();
                    top.saw_text = true;
                    top.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.saw_text = true;
                    top.text.push_str(&t);
                }
            }
            Event::End(_) => {
                let Some(frame) = stack.pop() else {
                    return Err("unbalanced XML".into());
                };
                let name = frame.name;
                let value = if frame.saw_child {
                    J::Obj(frame.children)
                } else if frame.saw_text {
                    J::Str(frame.text)
                } else {
                    J::obj()
                };
                let target = match stack.last_mut() {
                    Some(top) => {
                        top.saw_child = true;
                        &mut top.children
                    }
                    None => &mut root,
                };
                insert(target, name, value);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("truncated XML".into());
    }
    Ok(J::Obj(root))
}

struct Frame {
    name: String,
    children: Vec<(String, J)>,
    text: String,
    saw_child: bool,
    saw_text: bool,
}

fn insert(target: &mut Vec<(String, J)>, name: String, value: J) {
    if let Some(slot) = target.iter_mut().find(|(k, _)| *k == name) {
        match &mut slot.1 {
            J::Arr(items) => items.push(value),
            other => {
                let first = std::mem::replace(other, J::Null);
                *other = J::Arr(vec![first, value]);
            }
        }
    } else {
        target.push((name, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_like_ruby_to_hash() {
        let xml = "<VM><ID>7</ID><NAME>a&amp;b</NAME><USER_TEMPLATE><A><![CDATA[1]]></A><V><X><![CDATA[1]]></X></V><R>1</R><R>2</R><E></E><E2/><C><![CDATA[]]></C></USER_TEMPLATE></VM>";
        let h = xml_to_hash(xml).expect("xml");
        assert_eq!(
            h.to_json(),
            r#"{"VM":{"ID":"7","NAME":"a&b","USER_TEMPLATE":{"A":"1","V":{"X":"1"},"R":["1","2"],"E":{},"E2":{},"C":""}}}"#
        );
        assert_eq!(h.text("VM/USER_TEMPLATE/A"), Some("1"));
        assert!(xml_to_hash("<A><B></A>").is_err());
    }

    #[test]
    fn json_escapes() {
        let j = J::Obj(vec![("k".into(), J::Str("a\"b\\c\nd\u{1}".into()))]);
        assert_eq!(j.to_json(), r#"{"k":"a\"b\\c\nd\u0001"}"#);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn garbage_never_panics(s in "\\PC*") {
            let _ = xml_to_hash(&s);
        }

        #[test]
        fn element_soup_never_panics(parts in proptest::collection::vec(
            prop_oneof![
                Just("<A>".to_owned()), Just("</A>".to_owned()), Just("<B/>".to_owned()),
                Just("<![CDATA[x]]>".to_owned()), Just("&amp;".to_owned()), Just("&bad;".to_owned()),
                "[a-z ]{0,5}",
            ],
            0..20,
        )) {
            let _ = xml_to_hash(&parts.concat());
        }
    }
}
