//! Single-pass XML-RPC response decoder on quick-xml, with a fast path for big strings.

use nebulair_core::{Error, Result};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

use super::RpcValue;

/// A decoded `<methodResponse>`.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcResponse {
    /// `<params><param><value>...</value></param></params>`.
    Value(RpcValue),
    /// `<fault>` with its `faultCode` and `faultString`.
    Fault {
        /// `faultCode`.
        code: i32,
        /// `faultString`.
        message: String,
    },
}

/// How deep arrays and structs may nest before the response is refused.
const MAX_DEPTH: usize = 64;

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::protocol(format!("malformed XML-RPC response: {msg}"))
}

fn xml_err(e: quick_xml::Error) -> Error {
    bad(e)
}

/// Decodes an XML-RPC response body.
///
/// # Errors
/// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when the body is not UTF-8,
/// not well-formed, or not a `methodResponse`; the message never quotes the body.
pub fn decode_response(body: &[u8]) -> Result<RpcResponse> {
    let text = std::str::from_utf8(body).map_err(|e| bad(format_args!("not UTF-8 ({e})")))?;
    Decoder::new(text, false).response()
}

/// Strings at least this long are left in the body by [`decode_response_owned`] and
/// unescaped in place afterwards.
const IN_PLACE_MIN: usize = 64 * 1024;

/// As [`decode_response`], taking the body by value: when the response is OpenNebula's
/// result array holding one large document (a pool), the document is unescaped in place,
/// in the body's own buffer (which is not copied when no other handle shares it), instead
/// of into a second buffer. That saves the allocation and its page faults and keeps the
/// peak memory at about the body's size.
pub(crate) fn decode_response_owned(body: bytes::Bytes) -> Result<RpcResponse> {
    let (resp, range) = {
        let text = std::str::from_utf8(&body).map_err(|e| bad(format_args!("not UTF-8 ({e})")))?;
        let mut d = Decoder::new(text, true);
        let resp = d.response()?;
        (resp, d.deferred)
    };
    let Some(range) = range else {
        return Ok(resp);
    };
    // Only `[ok, document, ...]` with the document as its first string is filled in place;
    // anything else is decoded again the ordinary way.
    let RpcResponse::Value(RpcValue::Array(mut items)) = resp else {
        return decode_response(&body);
    };
    if !matches!(items.first(), Some(RpcValue::Bool(_)))
        || !matches!(items.get(1), Some(RpcValue::String(s)) if s.is_empty())
    {
        return decode_response(&body);
    }
    let mut buf: Vec<u8> = Vec::from(body);
    let len = unescape_in_place(&mut buf, range)?;
    buf.truncate(len);
    if buf.capacity() - buf.len() > buf.len() / 8 {
        buf.shrink_to_fit();
    }
    let doc = String::from_utf8(buf).map_err(|_| bad("string content is not UTF-8"))?;
    items[1] = RpcValue::String(doc);
    Ok(RpcResponse::Value(RpcValue::Array(items)))
}

/// Unescapes `buf[range]` (character data already checked to be UTF-8 and free of markup)
/// to the front of `buf`; returns the unescaped length. The text only shrinks (a reference
/// is at least as long as the UTF-8 of its character), so writing never overtakes reading.
fn unescape_in_place(buf: &mut [u8], range: std::ops::Range<usize>) -> Result<usize> {
    let end = range.end.min(buf.len());
    let mut r = range.start.min(end);
    let mut w = 0usize;
    // References come every few bytes in an escaped document: a byte loop finds them
    // faster than a vectorised search set up for each.
    while let Some(off) = buf[r..end].iter().position(|&b| b == b'&') {
        let amp = r + off;
        buf.copy_within(r..amp, w);
        w += amp - r;
        let tail = &buf[amp + 1..end];
        let (c, len) = if tail.starts_with(b"lt;") {
            ('<', 3)
        } else if tail.starts_with(b"gt;") {
            ('>', 3)
        } else if tail.starts_with(b"amp;") {
            ('&', 4)
        } else {
            let semi = tail
                .iter()
                .take(12)
                .position(|b| *b == b';')
                .ok_or_else(|| bad("unterminated entity reference"))?;
            let name =
                std::str::from_utf8(&tail[..semi]).map_err(|_| bad("bad entity reference"))?;
            (crate::model::de::entity(name).map_err(bad)?, semi + 1)
        };
        let mut utf8 = [0u8; 4];
        let enc = c.encode_utf8(&mut utf8).as_bytes();
        buf[w..w + enc.len()].copy_from_slice(enc);
        w += enc.len();
        r = amp + 1 + len;
    }
    buf.copy_within(r..end, w);
    Ok(w + (end - r))
}

impl<'a> Decoder<'a> {
    fn new(text: &'a str, defer: bool) -> Self {
        Decoder {
            text,
            reader: Reader::from_str(text),
            defer,
            deferred: None,
            strings: 0,
        }
    }

    /// The whole `<methodResponse>`.
    fn response(&mut self) -> Result<RpcResponse> {
        let d = self;
        d.expect_start(b"methodResponse")?;
        let resp = match d.next_tag()? {
            Tag::Start(name) if name == b"params" => {
                d.expect_start(b"param")?;
                d.expect_start(b"value")?;
                let v = d.value(0)?;
                d.expect_end(b"param")?;
                d.expect_end(b"params")?;
                RpcResponse::Value(v)
            }
            Tag::Start(name) if name == b"fault" => {
                // A fault's strings are read in full.
                d.defer = false;
                d.deferred = None;
                d.expect_start(b"value")?;
                let v = d.value(0)?;
                d.expect_end(b"fault")?;
                fault_from(v)?
            }
            other => {
                return Err(bad(format_args!(
                    "expected <params> or <fault>, found {other}"
                )));
            }
        };
        d.expect_end(b"methodResponse")?;
        match d.next_tag()? {
            Tag::Eof => Ok(resp),
            other => Err(bad(format_args!(
                "content after </methodResponse>: {other}"
            ))),
        }
    }
}

fn fault_from(v: RpcValue) -> Result<RpcResponse> {
    let RpcValue::Struct(members) = v else {
        return Err(bad("<fault> does not hold a struct"));
    };
    let mut code = None;
    let mut message = None;
    for (k, v) in members {
        match k.as_str() {
            "faultCode" => code = v.as_i32(),
            "faultString" => message = v.as_str().map(str::to_owned),
            _ => {}
        }
    }
    match (code, message) {
        (Some(code), Some(message)) => Ok(RpcResponse::Fault { code, message }),
        _ => Err(bad("<fault> lacks faultCode or faultString")),
    }
}

enum Tag {
    Start(Vec<u8>),
    Empty(Vec<u8>),
    End(Vec<u8>),
    Eof,
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tag::Start(n) => write!(f, "<{}>", String::from_utf8_lossy(n)),
            Tag::Empty(n) => write!(f, "<{}/>", String::from_utf8_lossy(n)),
            Tag::End(n) => write!(f, "</{}>", String::from_utf8_lossy(n)),
            Tag::Eof => f.write_str("the end of the body"),
        }
    }
}

struct Decoder<'a> {
    /// The whole body, for slicing string contents without validating UTF-8 twice.
    text: &'a str,
    reader: Reader<&'a [u8]>,
    /// Whether the first large `<string>` is left in the body ([`decode_response_owned`]).
    defer: bool,
    /// The byte range of the string left in the body (an empty string stands for it).
    deferred: Option<std::ops::Range<usize>>,
    /// How many `<string>` values were read before.
    strings: usize,
}

fn push_ref(out: &mut String, r: &BytesRef<'_>) -> Result<()> {
    if let Some(c) = r.resolve_char_ref().map_err(xml_err)? {
        out.push(c);
        return Ok(());
    }
    out.push(named_entity(r)?);
    Ok(())
}

fn named_entity(r: &BytesRef<'_>) -> Result<char> {
    match &**r {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(bad(format_args!("unknown entity &{other};"))),
    }
}

impl<'a> Decoder<'a> {
    /// The next start/empty/end tag, skipping whitespace, comments, the declaration and
    /// processing instructions. Non-blank text here is an error.
    fn next_tag(&mut self) -> Result<Tag> {
        loop {
            match self.reader.read_event().map_err(xml_err)? {
                Event::Start(s) => return Ok(Tag::Start(s.name().as_ref().as_bytes().to_vec())),
                Event::Empty(s) => return Ok(Tag::Empty(s.name().as_ref().as_bytes().to_vec())),
                Event::End(e) => return Ok(Tag::End(e.name().as_ref().as_bytes().to_vec())),
                Event::Eof => return Ok(Tag::Eof),
                Event::Text(t) if t.as_bytes().iter().all(u8::is_ascii_whitespace) => {}
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(bad("unexpected text between elements"));
                }
            }
        }
    }

    fn expect_start(&mut self, name: &[u8]) -> Result<()> {
        match self.next_tag()? {
            Tag::Start(n) if n == name => Ok(()),
            other => Err(bad(format_args!(
                "expected <{}>, found {other}",
                String::from_utf8_lossy(name)
            ))),
        }
    }

    fn expect_end(&mut self, name: &[u8]) -> Result<()> {
        match self.next_tag()? {
            Tag::End(n) if n == name => Ok(()),
            other => Err(bad(format_args!(
                "expected </{}>, found {other}",
                String::from_utf8_lossy(name)
            ))),
        }
    }

    /// Reads character data up to the end tag `end` (text, entities, CDATA).
    fn text_until(&mut self, end: &[u8]) -> Result<String> {
        let mut out = String::new();
        loop {
            match self.reader.read_event().map_err(xml_err)? {
                Event::Text(t) => {
                    let s: &str = &t;
                    out.push_str(s);
                }
                Event::CData(t) => {
                    let s: &str = &t;
                    out.push_str(s);
                }
                Event::GeneralRef(r) => push_ref(&mut out, &r)?,
                Event::End(e) if e.name().as_ref().as_bytes() == end => return Ok(out),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => return Err(bad("unexpected end of the body")),
                _ => {
                    return Err(bad(format_args!(
                        "unexpected markup inside <{}>",
                        String::from_utf8_lossy(end)
                    )));
                }
            }
        }
    }

    /// The fast path for `<string>`: find the closing tag with memchr and unescape the
    /// text in one pass; falls back to [`Decoder::text_until`] when the text holds markup
    /// (CDATA, comments).
    fn string_body(&mut self) -> Result<String> {
        let rest: &'a [u8] = self.reader.get_ref();
        // `rest` is a suffix of `text` that starts right after `<string>` (an ASCII byte),
        // so it starts on a char boundary.
        let start = self.text.len() - rest.len();
        self.strings += 1;
        if self.defer
            && self.strings == 1
            && self.deferred.is_none()
            && let Some(lt) = memchr::memchr(b'<', rest)
            && lt >= IN_PLACE_MIN
            && rest[lt..].starts_with(b"</string>")
        {
            // Leave it in the body; references are checked when it is unescaped.
            self.deferred = Some(start..start + lt);
            *self.reader.get_mut() = &rest[lt..];
            self.expect_end(b"string")?;
            return Ok(String::new());
        }
        let raw = self
            .text
            .get(start..)
            .ok_or_else(|| bad("string content is not on character boundaries"))?;
        // One pass: unescape up to the first markup, which is `</string>` unless the text
        // holds CDATA or a comment (then the general path reads it).
        let mut out = String::with_capacity(raw.len());
        let lt = crate::model::de::unescape_until_markup(&mut out, raw).map_err(bad)?;
        if rest[lt..].starts_with(b"</string>") {
            // The escaped text is a third longer than the document; give the rest back
            // (a large buffer shrinks in place).
            if out.capacity() - out.len() > out.len() / 8 {
                out.shrink_to_fit();
            }
            // Skip the text we consumed; the reader goes on with `</string>`.
            *self.reader.get_mut() = &rest[lt..];
            self.expect_end(b"string")?;
            return Ok(out);
        }
        self.text_until(b"string")
    }

    /// Reads a value after its `<value>` start tag, through `</value>`.
    fn value(&mut self, depth: usize) -> Result<RpcValue> {
        if depth > MAX_DEPTH {
            return Err(bad("values nested too deeply"));
        }
        let mut untyped = String::new();
        loop {
            match self.reader.read_event().map_err(xml_err)? {
                Event::Text(t) => {
                    let s: &str = &t;
                    untyped.push_str(s);
                }
                Event::CData(t) => {
                    let s: &str = &t;
                    untyped.push_str(s);
                }
                Event::GeneralRef(r) => push_ref(&mut untyped, &r)?,
                Event::End(e) if e.name().as_ref().as_bytes() == b"value" => {
                    return Ok(RpcValue::String(untyped));
                }
                Event::Start(s) => {
                    if !untyped.trim().is_empty() {
                        return Err(bad("text mixed with a typed value"));
                    }
                    let name = s.name().as_ref().as_bytes().to_vec();
                    let v = self.typed(&name, depth)?;
                    self.expect_end(b"value")?;
                    return Ok(v);
                }
                Event::Empty(s) => {
                    if !untyped.trim().is_empty() {
                        return Err(bad("text mixed with a typed value"));
                    }
                    let v = match s.name().as_ref().as_bytes() {
                        b"string" => RpcValue::String(String::new()),
                        b"nil" => RpcValue::Nil,
                        b"array" => RpcValue::Array(Vec::new()),
                        b"struct" => RpcValue::Struct(Vec::new()),
                        b"base64" => RpcValue::Base64(Vec::new()),
                        other => {
                            return Err(bad(format_args!(
                                "empty <{}/> is not a value",
                                String::from_utf8_lossy(other)
                            )));
                        }
                    };
                    self.expect_end(b"value")?;
                    return Ok(v);
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => return Err(bad("unexpected end of the body")),
                _ => return Err(bad("unexpected markup inside <value>")),
            }
        }
    }

    fn typed(&mut self, name: &[u8], depth: usize) -> Result<RpcValue> {
        Ok(match name {
            b"string" => RpcValue::String(self.string_body()?),
            b"i4" | b"int" => {
                let t = self.text_until(name)?;
                RpcValue::Int(t.trim().parse().map_err(|_| {
                    bad(format_args!(
                        "<{}> holds {t:?}",
                        String::from_utf8_lossy(name)
                    ))
                })?)
            }
            b"i8" => {
                let t = self.text_until(name)?;
                RpcValue::I8(
                    t.trim()
                        .parse()
                        .map_err(|_| bad(format_args!("<i8> holds {t:?}")))?,
                )
            }
            b"boolean" => {
                let t = self.text_until(name)?;
                match t.trim() {
                    "1" | "true" => RpcValue::Bool(true),
                    "0" | "false" => RpcValue::Bool(false),
                    _ => return Err(bad(format_args!("<boolean> holds {t:?}"))),
                }
            }
            b"double" => {
                let t = self.text_until(name)?;
                RpcValue::Double(
                    t.trim()
                        .parse()
                        .map_err(|_| bad(format_args!("<double> holds {t:?}")))?,
                )
            }
            b"dateTime.iso8601" => RpcValue::DateTime(self.text_until(name)?.trim().to_owned()),
            b"base64" => {
                use base64::Engine as _;
                let t = self.text_until(name)?;
                let clean: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                RpcValue::Base64(
                    base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .map_err(|_| bad("invalid <base64> content"))?,
                )
            }
            b"nil" => {
                self.expect_end(b"nil")?;
                RpcValue::Nil
            }
            b"array" => {
                let mut items = Vec::new();
                match self.next_tag()? {
                    Tag::Start(n) if n == b"data" => loop {
                        match self.next_tag()? {
                            Tag::Start(n) if n == b"value" => items.push(self.value(depth + 1)?),
                            Tag::Empty(n) if n == b"value" => {
                                items.push(RpcValue::String(String::new()))
                            }
                            Tag::End(n) if n == b"data" => break,
                            other => {
                                return Err(bad(format_args!(
                                    "expected <value> in <data>, found {other}"
                                )));
                            }
                        }
                    },
                    Tag::Empty(n) if n == b"data" => {}
                    other => {
                        return Err(bad(format_args!(
                            "expected <data> in <array>, found {other}"
                        )));
                    }
                }
                self.expect_end(b"array")?;
                RpcValue::Array(items)
            }
            b"struct" => {
                let mut members = Vec::new();
                loop {
                    match self.next_tag()? {
                        Tag::Start(n) if n == b"member" => {
                            self.expect_start(b"name")?;
                            let key = self.text_until(b"name")?;
                            let v = match self.next_tag()? {
                                Tag::Start(n) if n == b"value" => self.value(depth + 1)?,
                                Tag::Empty(n) if n == b"value" => RpcValue::String(String::new()),
                                other => {
                                    return Err(bad(format_args!(
                                        "expected <value> in <member>, found {other}"
                                    )));
                                }
                            };
                            self.expect_end(b"member")?;
                            members.push((key, v));
                        }
                        Tag::End(n) if n == b"struct" => break,
                        other => {
                            return Err(bad(format_args!(
                                "expected <member> in <struct>, found {other}"
                            )));
                        }
                    }
                }
                RpcValue::Struct(members)
            }
            other => {
                return Err(bad(format_args!(
                    "unknown value type <{}>",
                    String::from_utf8_lossy(other)
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> RpcValue {
        match decode_response(body.as_bytes()) {
            Ok(RpcResponse::Value(v)) => v,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn wrap(v: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<methodResponse><params><param><value>{v}</value></param></params></methodResponse>\n"
        )
    }

    #[test]
    fn all_scalar_types() {
        assert_eq!(ok(&wrap("<i4>-5</i4>")), RpcValue::Int(-5));
        assert_eq!(ok(&wrap("<int>7</int>")), RpcValue::Int(7));
        assert_eq!(ok(&wrap("<i8>-1</i8>")), RpcValue::I8(-1));
        assert_eq!(ok(&wrap("<boolean>1</boolean>")), RpcValue::Bool(true));
        assert_eq!(ok(&wrap("<double>1.5</double>")), RpcValue::Double(1.5));
        assert_eq!(
            ok(&wrap("untyped &amp; text")),
            RpcValue::from("untyped & text")
        );
        assert_eq!(ok(&wrap("")), RpcValue::from(""));
        assert_eq!(ok(&wrap("<string/>")), RpcValue::from(""));
        assert_eq!(ok(&wrap("<nil/>")), RpcValue::Nil);
        assert_eq!(
            ok(&wrap("<base64>aGk=</base64>")),
            RpcValue::Base64(b"hi".to_vec())
        );
        assert_eq!(
            ok(&wrap(
                "<string>&lt;A&gt;x &amp; &#233;&#x41;\n\"q\"&lt;/A&gt;</string>"
            )),
            RpcValue::from("<A>x & éA\n\"q\"</A>")
        );
        assert_eq!(
            ok(&wrap("<string>a<![CDATA[<b>]]>c</string>")),
            RpcValue::from("a<b>c")
        );
    }

    #[test]
    fn arrays_structs_and_faults() {
        assert_eq!(
            ok(&wrap(
                "<array><data>\n<value><boolean>0</boolean></value><value>s</value><value/></data></array>"
            )),
            RpcValue::Array(vec![false.into(), "s".into(), "".into()])
        );
        assert_eq!(ok(&wrap("<array><data/></array>")), RpcValue::Array(vec![]));
        let fault = "<methodResponse><fault><value><struct><member><name>faultCode</name>\
            <value><int>-506</int></value></member><member><name>faultString</name><value>\
            <string>Method 'x' not defined</string></value></member></struct></value></fault>\
            </methodResponse>";
        assert_eq!(
            decode_response(fault.as_bytes()).ok(),
            Some(RpcResponse::Fault {
                code: -506,
                message: "Method 'x' not defined".into()
            })
        );
    }

    #[test]
    fn owned_decoding_unescapes_large_documents_in_place() {
        let mut doc = String::from("&lt;VM_POOL&gt;");
        while doc.len() < 3 * IN_PLACE_MIN {
            doc.push_str(
                "&lt;VM&gt;&lt;NAME&gt;é &amp;amp; &#233;&#x41;&quot;x'&lt;/NAME&gt;&lt;/VM&gt;\n",
            );
        }
        doc.push_str("&lt;/VM_POOL&gt;");
        let body = format!(
            "<?xml version=\"1.0\"?>\r\n<methodResponse><params><param><value><array><data>\
             <value><boolean>1</boolean></value><value><string>{doc}</string></value>\
             <value><i4>0</i4></value></data></array></value></param></params></methodResponse>\r\n"
        );
        let expected = decode_response(body.as_bytes()).expect("decodes");
        let owned = bytes::Bytes::from(body.clone().into_bytes());
        assert_eq!(decode_response_owned(owned).expect("in place"), expected);
        // A shared body is copied first, with the same result.
        let shared = bytes::Bytes::from(body.clone().into_bytes());
        let keep = shared.clone();
        assert_eq!(decode_response_owned(shared).expect("copied"), expected);
        assert_eq!(keep.len(), body.len());
        // Other shapes and small strings take the ordinary path.
        let other = wrap(&format!("<string>{doc}</string>"));
        assert_eq!(
            decode_response_owned(bytes::Bytes::from(other.clone().into_bytes())).ok(),
            decode_response(other.as_bytes()).ok()
        );
        let small = wrap(
            "<array><data><value><boolean>1</boolean></value><value><string>&lt;x/&gt;</string></value></data></array>",
        );
        assert_eq!(
            decode_response_owned(bytes::Bytes::from(small.clone().into_bytes())).ok(),
            decode_response(small.as_bytes()).ok()
        );
        // Bad references in a large document are protocol errors, as on the ordinary path.
        for bad_ref in ["&bogus;", "&#0;", "&", "&#xFFFFFFFF;"] {
            let broken = body.replacen("&amp;amp;", bad_ref, 1);
            let err = decode_response_owned(bytes::Bytes::from(broken.clone().into_bytes()))
                .expect_err(bad_ref);
            assert_eq!(err.kind(), nebulair_core::ErrorKind::Protocol);
            assert!(decode_response(broken.as_bytes()).is_err());
        }
    }

    #[test]
    fn malformed_bodies_are_protocol_errors() {
        for body in [
            "",
            "<html>nope</html>",
            "<methodResponse><params><param><value><i4>x</i4></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><string>&bogus;</string></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><string>unterminated",
            "<methodResponse><params><param><value><foo>1</foo></value></param></params></methodResponse>",
            "<methodResponse><fault><value><i4>1</i4></value></fault></methodResponse>",
            "<methodResponse><params><param><value><i4>1</i4></value></param></params></methodResponse><x/>",
        ] {
            let err = decode_response(body.as_bytes()).expect_err(body);
            assert_eq!(err.kind(), nebulair_core::ErrorKind::Protocol, "{body}");
        }
        assert!(decode_response(&[0xff, 0xfe]).is_err());
        let deep = wrap(&"<array><data><value>".repeat(100));
        assert!(decode_response(deep.as_bytes()).is_err());
    }
}
