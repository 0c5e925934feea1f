//! XML-RPC wire format as spoken by oned (xmlrpc-c): request parsing and response writing.
//!
//! Responses are written byte for byte like the recordings of a real oned 7.5: a
//! `<methodResponse>` holding one array, 3 elements on success and 5 on failure (with the
//! trailing `<i8>`), and `<fault>` structs only for protocol-level problems.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// One decoded XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `<i4>` or `<int>`.
    Int(i32),
    /// `<i8>`.
    I8(i64),
    /// `<boolean>`.
    Bool(bool),
    /// `<string>` or an untyped value.
    Str(String),
    /// `<double>`.
    Double(f64),
    /// `<array>`.
    Array(Vec<Value>),
    /// `<struct>`.
    Struct(Vec<(String, Value)>),
    /// `<nil/>`.
    Nil,
    /// `<base64>` (kept encoded) or `<dateTime.iso8601>`.
    Other(String),
}

/// A parsed method call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// The method name.
    pub(crate) method: String,
    /// The parameters in order.
    pub(crate) params: Vec<Value>,
}

/// XML-RPC fault codes used by xmlrpc-c.
pub(crate) const FAULT_TYPE: i32 = -501;
/// Unknown method.
pub(crate) const FAULT_NO_SUCH_METHOD: i32 = -506;
/// Body is not a proper XML-RPC call.
pub(crate) const FAULT_PARSE: i32 = -503;

/// Parse a `<methodCall>` body. The error is the text of a -503 fault.
pub(crate) fn parse_call(body: &[u8]) -> Result<Call, String> {
    // xmlrpc-c's texts (its expat parser, then its structure checks)
    let text = std::str::from_utf8(body)
        .map_err(|_| bad("Call is not valid XML.  not well-formed (invalid token)"))?;
    if text.trim().is_empty() {
        return Err(bad("Call is not valid XML.  no element found"));
    }
    let mut r = Reader::from_str(text);
    let mut method: Option<String> = None;
    let mut params = Vec::new();
    // Find <methodCall>.
    loop {
        match r.read_event().map_err(xml_error)? {
            Event::Start(e) if e.local_name().as_ref().as_bytes() == b"methodCall" => break,
            Event::Decl(_) | Event::Comment(_) | Event::DocType(_) | Event::PI(_) => {}
            Event::Text(t) if is_blank(&t) => {}
            Event::Eof => return Err(bad("Call is not valid XML.  no element found")),
            Event::Text(_) => return Err(bad("Call is not valid XML.  syntax error")),
            Event::Start(e) | Event::Empty(e) => {
                return Err(bad(&format!(
                    "XML-RPC call should be a <methodCall> element.  Instead, we have a <{}> element.",
                    e.name().as_ref()
                )));
            }
            _ => return Err(bad("Call is not valid XML.  syntax error")),
        }
    }
    loop {
        match r.read_event().map_err(xml_error)? {
            Event::Start(e) => match e.local_name().as_ref().as_bytes() {
                b"methodName" => method = Some(read_text(&mut r, b"methodName")?),
                b"params" => read_params(&mut r, &mut params)?,
                other => {
                    return Err(bad(&format!(
                        "unexpected element <{}>",
                        String::from_utf8_lossy(other)
                    )));
                }
            },
            Event::Empty(e) if e.local_name().as_ref().as_bytes() == b"params" => {}
            Event::End(e) if e.local_name().as_ref().as_bytes() == b"methodCall" => break,
            Event::Text(t) if is_blank(&t) => {}
            Event::Comment(_) => {}
            Event::Eof => return Err(bad("Call is not valid XML.  no element found")),
            _ => return Err(bad("unexpected content in <methodCall>")),
        }
    }
    let method = method.ok_or_else(|| {
        bad("<methodCall> must contain a <methodName> element (and optionally a <params> element)")
    })?;
    Ok(Call {
        method: method.trim().to_owned(),
        params,
    })
}

/// A well-formedness error as expat words it.
fn xml_error(e: quick_xml::Error) -> String {
    let what = match e {
        quick_xml::Error::Syntax(_) => "no element found",
        quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::MismatchedEndTag {
            ..
        }) => "mismatched tag",
        _ => "not well-formed (invalid token)",
    };
    bad(&format!("Call is not valid XML.  {what}"))
}

fn bad(detail: &str) -> String {
    format!("Call XML not a proper XML-RPC call.  {detail}")
}

fn is_blank(t: &quick_xml::events::BytesText<'_>) -> bool {
    t.as_bytes().iter().all(u8::is_ascii_whitespace)
}

fn read_params(r: &mut Reader<&[u8]>, out: &mut Vec<Value>) -> Result<(), String> {
    loop {
        match r.read_event().map_err(xml_error)? {
            Event::Start(e) if e.local_name().as_ref().as_bytes() == b"param" => {
                let mut v = None;
                loop {
                    match r.read_event().map_err(xml_error)? {
                        Event::Start(e) if e.local_name().as_ref().as_bytes() == b"value" => {
                            v = Some(read_value(r)?);
                        }
                        Event::End(e) if e.local_name().as_ref().as_bytes() == b"param" => break,
                        Event::Text(t) if is_blank(&t) => {}
                        Event::Comment(_) => {}
                        _ => return Err(bad("unexpected content in <param>")),
                    }
                }
                out.push(v.ok_or_else(|| bad("<param> without <value>"))?);
            }
            Event::End(e) if e.local_name().as_ref().as_bytes() == b"params" => return Ok(()),
            Event::Text(t) if is_blank(&t) => {}
            Event::Comment(_) => {}
            _ => return Err(bad("unexpected content in <params>")),
        }
    }
}

/// Read the text content up to the end tag `end`, resolving entity references.
fn read_text(r: &mut Reader<&[u8]>, end: &[u8]) -> Result<String, String> {
    let mut s = String::new();
    loop {
        match r.read_event().map_err(xml_error)? {
            Event::Text(t) => {
                s.push_str(&t.xml10_content());
            }
            Event::CData(t) => {
                s.push_str(&t.xml10_content());
            }
            Event::GeneralRef(g) => push_ref(&mut s, &g)?,
            Event::End(e) if e.local_name().as_ref().as_bytes() == end => return Ok(s),
            Event::Comment(_) => {}
            _ => return Err(bad("unexpected element inside a text value")),
        }
    }
}

fn push_ref(s: &mut String, g: &quick_xml::events::BytesRef<'_>) -> Result<(), String> {
    if g.is_char_ref() {
        match g.resolve_char_ref().map_err(|e| bad(&e.to_string()))? {
            Some(c) => s.push(c),
            None => return Err(bad("invalid character reference")),
        }
        return Ok(());
    }
    let name: &str = g;
    match quick_xml::escape::resolve_predefined_entity(name) {
        Some(v) => s.push_str(v),
        None => return Err(bad(&format!("unknown entity &{name};"))),
    }
    Ok(())
}

/// Read a value after its `<value>` start tag, consuming the `</value>`.
fn read_value(r: &mut Reader<&[u8]>) -> Result<Value, String> {
    let mut untyped = String::new();
    let mut result: Option<Value> = None;
    loop {
        match r.read_event().map_err(xml_error)? {
            Event::Start(e) => {
                if result.is_some() {
                    return Err(bad("two types in one <value>"));
                }
                let name = e.local_name().as_ref().as_bytes().to_vec();
                result = Some(match name.as_slice() {
                    b"i4" | b"int" => {
                        let t = read_text(r, &name)?;
                        Value::Int(t.trim().parse().map_err(|_| bad("bad integer"))?)
                    }
                    b"i8" => {
                        let t = read_text(r, &name)?;
                        Value::I8(t.trim().parse().map_err(|_| bad("bad i8"))?)
                    }
                    b"boolean" => match read_text(r, &name)?.trim() {
                        "1" => Value::Bool(true),
                        "0" => Value::Bool(false),
                        _ => return Err(bad("bad boolean")),
                    },
                    b"string" => Value::Str(read_text(r, &name)?),
                    b"double" => {
                        let t = read_text(r, &name)?;
                        Value::Double(t.trim().parse().map_err(|_| bad("bad double"))?)
                    }
                    b"base64" | b"dateTime.iso8601" => Value::Other(read_text(r, &name)?),
                    b"array" => read_array(r)?,
                    b"struct" => read_struct(r)?,
                    b"nil" => {
                        read_text(r, b"nil")?;
                        Value::Nil
                    }
                    other => {
                        return Err(bad(&format!(
                            "unknown type <{}>",
                            String::from_utf8_lossy(other)
                        )));
                    }
                });
            }
            Event::Empty(e) => {
                if result.is_some() {
                    return Err(bad("two types in one <value>"));
                }
                result = Some(match e.local_name().as_ref().as_bytes() {
                    b"string" => Value::Str(String::new()),
                    b"nil" => Value::Nil,
                    b"base64" => Value::Other(String::new()),
                    _ => return Err(bad("empty typed value")),
                });
            }
            Event::Text(t) => {
                untyped.push_str(&t.xml10_content());
            }
            Event::CData(t) => {
                untyped.push_str(&t.xml10_content());
            }
            Event::GeneralRef(g) => push_ref(&mut untyped, &g)?,
            Event::End(e) if e.local_name().as_ref().as_bytes() == b"value" => {
                return Ok(result.unwrap_or(Value::Str(untyped)));
            }
            Event::Comment(_) => {}
            _ => return Err(bad("unexpected content in <value>")),
        }
    }
}

fn read_array(r: &mut Reader<&[u8]>) -> Result<Value, String> {
    let mut items = Vec::new();
    loop {
        match r.read_event().map_err(xml_error)? {
            Event::Start(e) if e.local_name().as_ref().as_bytes() == b"data" => {}
            Event::Empty(e) if e.local_name().as_ref().as_bytes() == b"data" => {}
            Event::End(e) if e.local_name().as_ref().as_bytes() == b"data" => {}
            Event::Start(e) if e.local_name().as_ref().as_bytes() == b"value" => {
                items.push(read_value(r)?)
            }
            Event::End(e) if e.local_name().as_ref().as_bytes() == b"array" => {
                return Ok(Value::Array(items));
            }
            Event::Text(t) if is_blank(&t) => {}
            Event::Comment(_) => {}
            _ => return Err(bad("unexpected content in <array>")),
        }
    }
}

fn read_struct(r: &mut Reader<&[u8]>) -> Result<Value, String> {
    let mut members = Vec::new();
    loop {
        match r.read_event().map_err(xml_error)? {
            Event::Start(e) if e.local_name().as_ref().as_bytes() == b"member" => {
                let mut name = None;
                let mut value = None;
                loop {
                    match r.read_event().map_err(xml_error)? {
                        Event::Start(e) if e.local_name().as_ref().as_bytes() == b"name" => {
                            name = Some(read_text(r, b"name")?);
                        }
                        Event::Start(e) if e.local_name().as_ref().as_bytes() == b"value" => {
                            value = Some(read_value(r)?);
                        }
                        Event::End(e) if e.local_name().as_ref().as_bytes() == b"member" => break,
                        Event::Text(t) if is_blank(&t) => {}
                        _ => return Err(bad("unexpected content in <member>")),
                    }
                }
                match (name, value) {
                    (Some(n), Some(v)) => members.push((n, v)),
                    _ => return Err(bad("incomplete struct member")),
                }
            }
            Event::End(e) if e.local_name().as_ref().as_bytes() == b"struct" => {
                return Ok(Value::Struct(members));
            }
            Event::Text(t) if is_blank(&t) => {}
            Event::Comment(_) => {}
            _ => return Err(bad("unexpected content in <struct>")),
        }
    }
}

/// Escape `<`, `>` and `&` like xmlrpc-c does for string values (quotes stay raw).
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, b) in bytes.iter().enumerate() {
        let rep = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n<param><value><array><data>\r\n<value><boolean>";
const TAIL: &str = "</data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n";

/// What a successful call returns as its second element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ret {
    /// An `<i4>` (object ids).
    Int(i32),
    /// A `<string>` (documents, tokens, the version).
    Str(String),
}

/// Write a success response `[true, value, 0]`.
pub(crate) fn success(ret: &Ret) -> String {
    match ret {
        Ret::Int(i) => {
            let mut out = String::with_capacity(256);
            out.push_str(HEAD);
            out.push_str("1</boolean></value>\r\n<value><i4>");
            out.push_str(&i.to_string());
            out.push_str("</i4></value>\r\n<value><i4>0</i4></value>\r\n");
            out.push_str(TAIL);
            out
        }
        Ret::Str(s) => {
            let mut out = String::with_capacity(s.len() + s.len() / 4 + 256);
            out.push_str(HEAD);
            out.push_str("1</boolean></value>\r\n<value><string>");
            escape_into(&mut out, s);
            out.push_str("</string></value>\r\n<value><i4>0</i4></value>\r\n");
            out.push_str(TAIL);
            out
        }
    }
}

/// Write a failure response `[false, message, code, id, i8 -1]`.
pub(crate) fn failure(message: &str, code: i32, id: i32) -> String {
    let mut out = String::with_capacity(message.len() + 300);
    out.push_str(HEAD);
    out.push_str("0</boolean></value>\r\n<value><string>");
    escape_into(&mut out, message);
    out.push_str("</string></value>\r\n<value><i4>");
    out.push_str(&code.to_string());
    out.push_str("</i4></value>\r\n<value><i4>");
    out.push_str(&id.to_string());
    out.push_str("</i4></value>\r\n<value><i8>-1</i8></value>\r\n");
    out.push_str(TAIL);
    out
}

/// Write an XML-RPC `<fault>`.
pub(crate) fn fault(code: i32, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 300);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<fault>\r\n<value><struct>\r\n<member><name>faultCode</name>\r\n<value><i4>");
    out.push_str(&code.to_string());
    out.push_str("</i4></value></member>\r\n<member><name>faultString</name>\r\n<value><string>");
    escape_into(&mut out, message);
    out.push_str(
        "</string></value></member>\r\n</struct></value>\r\n</fault>\r\n</methodResponse>\r\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorded_request() {
        let body = "<?xml version='1.0'?>\n<methodCall>\n<methodName>one.user.info</methodName>\n<params>\n<param>\n<value><string>oneadmin:password</string></value>\n</param>\n<param>\n<value><int>-1</int></value>\n</param>\n<param>\n<value><boolean>0</boolean></value>\n</param>\n</params>\n</methodCall>\n";
        let c = parse_call(body.as_bytes()).expect("parse");
        assert_eq!(c.method, "one.user.info");
        assert_eq!(
            c.params,
            vec![
                Value::Str("oneadmin:password".into()),
                Value::Int(-1),
                Value::Bool(false)
            ]
        );
    }

    #[test]
    fn untyped_value_entities_and_arrays() {
        let body = "<methodCall><methodName>m</methodName><params><param><value>a &amp;&lt;b&#65;</value></param><param><value><array><data><value><i4>1</i4></value></data></array></value></param><param><value><i8>5</i8></value></param></params></methodCall>";
        let c = parse_call(body.as_bytes()).expect("parse");
        assert_eq!(c.params[0], Value::Str("a &<bA".into()));
        assert_eq!(c.params[1], Value::Array(vec![Value::Int(1)]));
        assert_eq!(c.params[2], Value::I8(5));
    }

    #[test]
    fn garbage_is_an_error() {
        for b in [
            "",
            "<x/>",
            "<methodCall>",
            "<methodCall><params>",
            "not xml at all <",
        ] {
            assert!(parse_call(b.as_bytes()).is_err(), "{b}");
        }
    }

    #[test]
    fn writes_recorded_shapes() {
        let expected =
            include_str!("../../tests/data/one/recorded/001_one.system.version.response.xml");
        assert_eq!(success(&Ret::Str("7.5.80".into())), expected);
        let expected =
            include_str!("../../tests/data/one/recorded/007_one.user.allocate.response.xml");
        assert_eq!(
            failure(
                "[one.user.allocate] NAME is already taken by USER 2.",
                8192,
                -1
            ),
            expected
        );
        let expected =
            include_str!("../../tests/data/one/recorded/159_one.no.such.method.response.xml");
        assert_eq!(
            fault(
                FAULT_NO_SUCH_METHOD,
                "Method 'one.no.such.method' not defined"
            ),
            expected
        );
    }
}
