//! The XML form: `<TEMPLATE><NAME><![CDATA[v]]></NAME><DISK><K>v</K></DISK></TEMPLATE>`.

use nebulair_core::{Error, ErrorKind, Result};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

use super::{Template, TemplateValue, Vector, check_name};
use crate::model::de::{Lexer, Tok, unescape_into};

/// Whether XML 1.0 can carry `c` at all.
fn xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Appends `value` as CDATA: `]]>` is split across two sections and `\r` is written as a
/// character reference so XML line-end normalisation cannot turn `\r\n` into `\n`.
fn push_cdata(out: &mut String, name: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| !xml_char(*c)) {
        return Err(Error::invalid_input(format!(
            "template attribute {name}: character {c:?} cannot be carried by XML (nor by the \
             text syntax)"
        )));
    }
    out.push_str("<![CDATA[");
    let mut rest = value;
    while !rest.is_empty() {
        let cut = rest.find(['\r', ']']).unwrap_or(rest.len());
        out.push_str(&rest[..cut]);
        rest = &rest[cut..];
        if let Some(after) = rest.strip_prefix('\r') {
            out.push_str("]]>&#13;<![CDATA[");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("]]>") {
            out.push_str("]]]]><![CDATA[>");
            rest = after;
        } else if let Some(after) = rest.strip_prefix(']') {
            out.push(']');
            rest = after;
        }
    }
    out.push_str("]]>");
    Ok(())
}

pub(super) fn render(tpl: &Template, root: &str) -> Result<String> {
    let mut out = String::with_capacity(64 + tpl.len() * 32);
    out.push('<');
    out.push_str(root);
    out.push('>');
    for (name, value) in tpl.iter() {
        check_name(name)?;
        out.push('<');
        out.push_str(name);
        out.push('>');
        match value {
            TemplateValue::Single(s) => push_cdata(&mut out, name, s)?,
            TemplateValue::Vector(v) => {
                for (k, s) in v.iter() {
                    check_name(k).map_err(|e| e.context(format_args!("in vector {name}")))?;
                    out.push('<');
                    out.push_str(k);
                    out.push('>');
                    push_cdata(&mut out, &format!("{name}/{k}"), s)?;
                    out.push_str("</");
                    out.push_str(k);
                    out.push('>');
                }
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</");
    out.push_str(root);
    out.push('>');
    Ok(out)
}

fn resolve_ref(r: &BytesRef<'_>) -> std::result::Result<char, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c);
    }
    match &**r {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(format!("unknown entity &{other};")),
    }
}

/// Reads the content of one attribute element (after its start tag) up to its end tag.
fn read_attribute(
    reader: &mut Reader<&[u8]>,
    name: &[u8],
) -> std::result::Result<TemplateValue, String> {
    let mut text = String::new();
    let mut saw_text = false;
    let mut vector: Option<Vector> = None;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Text(t) => {
                text.push_str(&t);
                saw_text = true;
            }
            Event::CData(t) => {
                text.push_str(&t);
                saw_text = true;
            }
            Event::GeneralRef(r) => {
                text.push(resolve_ref(&r)?);
                saw_text = true;
            }
            Event::Start(s) => {
                let key = s.name().as_ref().to_owned();
                let value = read_scalar(reader, s.name().as_ref().as_bytes())?;
                vector.get_or_insert_with(Vector::new).push_raw(key, value);
            }
            Event::Empty(s) => {
                let key = s.name().as_ref().to_owned();
                vector
                    .get_or_insert_with(Vector::new)
                    .push_raw(key, String::new());
            }
            Event::End(e) if e.name().as_ref().as_bytes() == name => break,
            Event::End(e) => {
                return Err(format!("unexpected end tag </{}>", e.name().as_ref()));
            }
            Event::Eof => return Err("unexpected end of document".into()),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
        }
    }
    match vector {
        Some(v) => {
            if !text.trim().is_empty() {
                return Err(format!(
                    "element <{}> mixes text and child elements",
                    String::from_utf8_lossy(name)
                ));
            }
            Ok(TemplateValue::Vector(v))
        }
        None if saw_text => Ok(TemplateValue::Single(text)),
        // `<NAME></NAME>` with nothing inside: an empty vector (an empty string is written
        // `<![CDATA[]]>`, as oned does).
        None => Ok(TemplateValue::Vector(Vector::new())),
    }
}

/// Reads the text of a vector member; deeper markup (which oned does not produce) is kept
/// verbatim as the value so nothing is lost.
fn read_scalar(reader: &mut Reader<&[u8]>, name: &[u8]) -> std::result::Result<String, String> {
    let mut text = String::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Text(t) => text.push_str(&t),
            Event::CData(t) => text.push_str(&t),
            Event::GeneralRef(r) => text.push(resolve_ref(&r)?),
            Event::Start(s) => {
                let tag = s.name().as_ref().to_owned();
                let inner = reader.read_text(s.name()).map_err(|e| e.to_string())?;
                text.push('<');
                text.push_str(&tag);
                text.push('>');
                text.push_str(&inner);
                text.push_str("</");
                text.push_str(&tag);
                text.push('>');
            }
            Event::Empty(s) => {
                text.push('<');
                text.push_str(s.name().as_ref());
                text.push_str("/>");
            }
            Event::End(e) if e.name().as_ref().as_bytes() == name => return Ok(text),
            Event::End(e) => {
                return Err(format!("unexpected end tag </{}>", e.name().as_ref()));
            }
            Event::Eof => return Err("unexpected end of document".into()),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
        }
    }
}

fn read_body(reader: &mut Reader<&[u8]>, end: &[u8]) -> std::result::Result<Template, String> {
    let mut tpl = Template::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(s) => {
                let name = s.name().as_ref().to_owned();
                let value = read_attribute(reader, s.name().as_ref().as_bytes())?;
                tpl.push(name, value);
            }
            Event::Empty(s) => {
                let name = s.name().as_ref().to_owned();
                tpl.push(name, TemplateValue::Vector(Vector::new()));
            }
            Event::Text(t) => {
                if !t.trim().is_empty() {
                    return Err("text directly inside the template element".into());
                }
            }
            Event::CData(t) => {
                if !t.is_empty() {
                    return Err("CDATA directly inside the template element".into());
                }
            }
            Event::GeneralRef(_) => {
                return Err("text directly inside the template element".into());
            }
            Event::End(e) if e.name().as_ref().as_bytes() == end => return Ok(tpl),
            Event::End(e) => {
                return Err(format!("unexpected end tag </{}>", e.name().as_ref()));
            }
            Event::Eof => return Err("unexpected end of document".into()),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
        }
    }
}

/// Reads a template from a quick-xml reader positioned just after the start tag of the
/// template element (e.g. `<TEMPLATE>` or `<USER_TEMPLATE>`), up to and including the end
/// tag named `end`. This is what the typed resource decoders use for their free-form
/// template elements. Each child element is an attribute; a child holding elements is a
/// vector; an element with no content at all (`<X/>`, `<X></X>`) is an empty vector.
///
/// # Errors
/// [`ErrorKind::Protocol`] for malformed XML, text directly inside the template element,
/// or an element mixing text and children.
pub fn from_xml_reader(reader: &mut Reader<&[u8]>, end: &[u8]) -> Result<Template> {
    read_body(reader, end).map_err(|e| {
        Error::new(
            ErrorKind::Protocol,
            format!("malformed <{}> template: {e}", String::from_utf8_lossy(end)),
        )
    })
}

/// Scratch buffers of [`read_packed`], kept by the model decoder from one template to the
/// next so a pool of templates does not grow a buffer per template.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    text: String,
    lens: Vec<u32>,
    value: String,
}

fn len32(n: usize) -> std::result::Result<u32, String> {
    u32::try_from(n)
        .ok()
        .filter(|n| *n < u32::MAX >> 1)
        .ok_or_else(|| "template attribute too large".to_owned())
}

/// Reads a template element, its start tag just read by `lex`, into the compact form of
/// [`Packed`](super::Packed): the same rules as [`from_xml_reader`] (each child an
/// attribute, a child holding elements a vector, `<X/>` and `<X></X>` empty vectors, the
/// members of a vector deduplicated by exact name), with the same errors.
///
/// # Errors
/// [`ErrorKind::Protocol`] for malformed XML, text directly inside the template element,
/// or an element mixing text and children.
pub(crate) fn read_packed(lex: &mut Lexer<'_>, s: &mut Scratch) -> Result<Template> {
    s.text.clear();
    s.lens.clear();
    let element = lex.current().unwrap_or("TEMPLATE");
    match pack_body(lex, s) {
        Ok(0) => Ok(Template::new()),
        Ok(count) => Ok(super::Packed::template(&s.text, &s.lens, count)),
        Err(e) => Err(Error::new(
            ErrorKind::Protocol,
            format!("malformed <{element}> template: {e}"),
        )),
    }
}

fn pack_body(lex: &mut Lexer<'_>, s: &mut Scratch) -> std::result::Result<usize, String> {
    let mut count = 0usize;
    loop {
        match lex.next()? {
            Tok::Start(name) => {
                pack_attribute(lex, s, name)?;
                count += 1;
            }
            Tok::Empty(name) => {
                s.lens.push(len32(name.len())? << 1 | 1);
                s.lens.push(0);
                s.text.push_str(name);
                count += 1;
            }
            Tok::Text(t) => {
                if !t.trim().is_empty() {
                    return Err("text directly inside the template element".into());
                }
            }
            Tok::CData(t) => {
                if !t.is_empty() {
                    return Err("CDATA directly inside the template element".into());
                }
            }
            Tok::End(_) => return Ok(count),
            Tok::Eof => return Err("unexpected end of document".into()),
            Tok::Misc | Tok::Decl => {}
        }
    }
}

fn pack_attribute(
    lex: &mut Lexer<'_>,
    s: &mut Scratch,
    name: &str,
) -> std::result::Result<(), String> {
    let head = s.lens.len();
    let name_len = len32(name.len())?;
    s.lens.push(0);
    s.text.push_str(name);
    s.value.clear();
    let mut saw_text = false;
    let mut pairs: Option<u32> = None;
    loop {
        match lex.next()? {
            Tok::Text(t) => {
                unescape_into(&mut s.value, t)?;
                saw_text = true;
            }
            Tok::CData(t) => {
                s.value.push_str(t);
                saw_text = true;
            }
            tok @ (Tok::Start(key) | Tok::Empty(key)) => {
                let empty = matches!(tok, Tok::Empty(_));
                if pairs.is_none() {
                    s.lens.push(0);
                }
                let n = pairs.get_or_insert(0);
                *n += 1;
                s.lens.push(len32(key.len())?);
                s.text.push_str(key);
                let before = s.text.len();
                if !empty {
                    pack_scalar(lex, &mut s.text)?;
                }
                s.lens.push(len32(s.text.len() - before)?);
            }
            Tok::End(_) => break,
            Tok::Eof => return Err("unexpected end of document".into()),
            Tok::Misc | Tok::Decl => {}
        }
    }
    match pairs {
        Some(n) => {
            if !s.value.trim().is_empty() {
                return Err(format!("element <{name}> mixes text and child elements"));
            }
            s.lens[head] = name_len << 1 | 1;
            s.lens[head + 1] = n;
        }
        None if saw_text => {
            s.lens[head] = name_len << 1;
            s.lens.push(len32(s.value.len())?);
            s.text.push_str(&s.value);
        }
        // `<NAME></NAME>` with nothing inside: an empty vector.
        None => {
            s.lens[head] = name_len << 1 | 1;
            s.lens.push(0);
        }
    }
    Ok(())
}

/// Appends the text of a vector member to `out`; deeper markup (which oned does not
/// produce) is kept verbatim so nothing is lost.
fn pack_scalar(lex: &mut Lexer<'_>, out: &mut String) -> std::result::Result<(), String> {
    loop {
        match lex.next()? {
            Tok::Text(t) => unescape_into(out, t)?,
            Tok::CData(t) => out.push_str(t),
            Tok::Start(tag) => {
                let inner = lex.raw_content()?;
                out.push('<');
                out.push_str(tag);
                out.push('>');
                out.push_str(inner);
                out.push_str("</");
                out.push_str(tag);
                out.push('>');
            }
            Tok::Empty(tag) => {
                out.push('<');
                out.push_str(tag);
                out.push_str("/>");
            }
            Tok::End(_) => return Ok(()),
            Tok::Eof => return Err("unexpected end of document".into()),
            Tok::Misc | Tok::Decl => {}
        }
    }
}

pub(super) fn parse_document(input: &str) -> Result<Template> {
    let mut reader = Reader::from_str(input);
    let fail = |e: String| Error::invalid_input(format!("malformed XML template: {e}"));
    loop {
        match reader.read_event().map_err(|e| fail(e.to_string()))? {
            Event::Start(s) => {
                let name = s.name().as_ref().as_bytes().to_vec();
                let tpl = read_body(&mut reader, &name).map_err(fail)?;
                loop {
                    match reader.read_event().map_err(|e| fail(e.to_string()))? {
                        Event::Eof => return Ok(tpl),
                        Event::Text(t) if t.as_bytes().iter().all(u8::is_ascii_whitespace) => {}
                        Event::Comment(_) | Event::PI(_) => {}
                        _ => return Err(fail("content after the root element".into())),
                    }
                }
            }
            Event::Empty(_) => return Ok(Template::new()),
            Event::Text(t) if t.as_bytes().iter().all(u8::is_ascii_whitespace) => {}
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
            Event::Eof => return Err(fail("no root element".into())),
            _ => return Err(fail("content before the root element".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_oned_style_xml() -> Result<()> {
        let t = Template::from_xml(
            "<?xml version=\"1.0\"?>\n<TEMPLATE>\n  <CPU><![CDATA[1]]></CPU>\n  \
             <DISK><IMAGE_ID><![CDATA[0]]></IMAGE_ID><SIZE>10</SIZE></DISK>\n  \
             <DISK><IMAGE_ID>1</IMAGE_ID></DISK><E><![CDATA[]]></E><EV/>\
             <AMP>a &amp; b &#x41;</AMP></TEMPLATE>",
        )?;
        assert_eq!(t.get_str("CPU"), Some("1"));
        assert_eq!(t.vectors("DISK").count(), 2);
        assert_eq!(t.get_vector("DISK").and_then(|d| d.get("SIZE")), Some("10"));
        assert_eq!(t.get_str("E"), Some(""));
        assert!(t.get_vector("EV").is_some_and(Vector::is_empty));
        assert_eq!(t.get_str("AMP"), Some("a & b A"));
        Ok(())
    }

    #[test]
    fn cdata_splitting_and_cr() -> Result<()> {
        let t = Template::new().with("A", "x]]>y]\r\nz]]").with("B", "");
        let xml = t.to_xml()?;
        assert!(
            xml.contains("x]]]]><![CDATA[>y]]]>&#13;<![CDATA[\nz]]]]>"),
            "{xml}"
        );
        assert_eq!(Template::from_xml(&xml)?, t);
        assert!(Template::new().with("A", "\u{1}").to_xml().is_err());
        Ok(())
    }

    #[test]
    fn reader_entry_point_stops_at_end_tag() -> Result<()> {
        let doc = "<VM><ID>1</ID><USER_TEMPLATE><A>1</A></USER_TEMPLATE><NAME>x</NAME></VM>";
        let mut r = Reader::from_str(doc);
        loop {
            if let Event::Start(s) = r.read_event().map_err(|e| Error::protocol(e.to_string()))?
                && s.name().as_ref() == "USER_TEMPLATE"
            {
                break;
            }
        }
        let t = from_xml_reader(&mut r, b"USER_TEMPLATE")?;
        assert_eq!(t.get_str("A"), Some("1"));
        let next = r.read_event().map_err(|e| Error::protocol(e.to_string()))?;
        assert!(matches!(next, Event::Start(s) if s.name().as_ref() == "NAME"));
        Ok(())
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for bad in [
            "<T><A>1</B></T>",
            "<T><A>",
            "<T>text</T>",
            "<T><A>x<B>1</B></A></T>",
            "",
        ] {
            assert!(Template::from_xml(bad).is_err(), "{bad}");
        }
    }
}
