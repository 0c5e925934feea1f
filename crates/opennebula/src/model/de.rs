//! The hand-driven `quick-xml` reader behind every generated decoder.
//!
//! The generated code walks the children of an element with [`Decoder::next_child`] and
//! reads each one with a typed helper. Everything borrows from the input: element names and
//! plain text are slices of the document, so a field costs one allocation at most (its
//! `String`), numbers none.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

use crate::template::Template;
use crate::{Error, Result};

/// A type decoded from one XML element.
pub(crate) trait Decode: Sized {
    /// The element name the type is decoded from (the root of its document).
    const ELEMENT: &'static str;

    /// Decodes the element whose start tag was just read; `empty` says it was `<X/>`.
    fn decode(d: &mut Decoder<'_>, empty: bool) -> Result<Self>;
}

/// Parses a whole document whose root element is `T::ELEMENT` (namespace prefixes ignored).
///
/// # Errors
/// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for malformed or truncated XML,
/// another root element, bad numbers, or content after the root.
pub(crate) fn from_document<T: Decode>(xml: &str) -> Result<T> {
    let mut d = Decoder::new(xml);
    let (name, empty) = d.root()?;
    if name != T::ELEMENT.as_bytes() {
        return Err(Error::protocol(format!(
            "expected a <{}> document, found <{}>",
            T::ELEMENT,
            String::from_utf8_lossy(name)
        )));
    }
    let value = T::decode(&mut d, empty)?;
    d.finish()?;
    Ok(value)
}

/// Reads elements out of one borrowed document.
pub(crate) struct Decoder<'a> {
    reader: Reader<&'a [u8]>,
    input: &'a str,
    /// Qualified name of the last start tag returned by [`Decoder::next_child`].
    qname: &'a [u8],
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

impl<'a> Decoder<'a> {
    /// A decoder over `input`.
    pub(crate) fn new(input: &'a str) -> Self {
        let mut reader = Reader::from_str(input);
        reader.config_mut().check_end_names = true;
        Decoder {
            reader,
            input,
            qname: b"",
        }
    }

    /// Re-borrows a slice the reader returned as a slice of the input (the slice reader
    /// never copies, so every event points into `input`).
    fn sub(&self, s: &[u8]) -> Result<&'a [u8]> {
        let base = self.input.as_ptr() as usize;
        let off = (s.as_ptr() as usize).wrapping_sub(base);
        self.input
            .as_bytes()
            .get(off..off.wrapping_add(s.len()))
            .ok_or_else(|| Error::protocol("XML reader returned data outside the document"))
    }

    fn sub_str(&self, s: &str) -> Result<&'a str> {
        let base = self.input.as_ptr() as usize;
        let off = (s.as_ptr() as usize).wrapping_sub(base);
        self.input
            .get(off..off.wrapping_add(s.len()))
            .ok_or_else(|| Error::protocol("XML text is not valid UTF-8"))
    }

    fn malformed(&self, e: impl std::fmt::Display) -> Error {
        Error::protocol(format!(
            "malformed XML near byte {}: {e}",
            self.reader.buffer_position()
        ))
    }

    fn truncated(&self) -> Error {
        Error::protocol(format!(
            "truncated XML: the document ends at byte {} inside an element",
            self.reader.buffer_position()
        ))
    }

    fn event(&mut self) -> Result<Event<'a>> {
        match self.reader.read_event() {
            Ok(ev) => Ok(ev),
            Err(e) => Err(self.malformed(e)),
        }
    }

    /// Skips the prolog and returns the root element's local name.
    pub(crate) fn root(&mut self) -> Result<(&'a [u8], bool)> {
        loop {
            match self.event()? {
                Event::Start(s) => {
                    let q = self.sub(s.name().into_inner().as_bytes())?;
                    self.qname = q;
                    return Ok((local(q), false));
                }
                Event::Empty(s) => {
                    let q = self.sub(s.name().into_inner().as_bytes())?;
                    self.qname = q;
                    return Ok((local(q), true));
                }
                Event::Text(t) if t.as_bytes().iter().all(u8::is_ascii_whitespace) => {}
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => return Err(Error::protocol("empty XML document: no root element")),
                _ => return Err(self.malformed("content before the root element")),
            }
        }
    }

    /// Checks that only whitespace, comments or processing instructions follow the root.
    pub(crate) fn finish(&mut self) -> Result<()> {
        loop {
            match self.event()? {
                Event::Eof => return Ok(()),
                Event::Text(t) if t.as_bytes().iter().all(u8::is_ascii_whitespace) => {}
                Event::Comment(_) | Event::PI(_) => {}
                _ => return Err(self.malformed("content after the root element")),
            }
        }
    }

    /// The next child element of the current element: its local name and whether it was
    /// self-closing; `None` once the current element's end tag is read. Text between child
    /// elements is ignored.
    #[inline]
    pub(crate) fn next_child(&mut self) -> Result<Option<(&'a [u8], bool)>> {
        loop {
            match self.event()? {
                Event::Start(s) => {
                    let q = self.sub(s.name().into_inner().as_bytes())?;
                    self.qname = q;
                    return Ok(Some((local(q), false)));
                }
                Event::Empty(s) => {
                    let q = self.sub(s.name().into_inner().as_bytes())?;
                    self.qname = q;
                    return Ok(Some((local(q), true)));
                }
                Event::End(_) => return Ok(None),
                Event::Eof => return Err(self.truncated()),
                Event::Text(_)
                | Event::CData(_)
                | Event::GeneralRef(_)
                | Event::Comment(_)
                | Event::PI(_) => {}
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(self.malformed("declaration inside an element"));
                }
            }
        }
    }

    /// Skips the rest of an element (unknown to the schema or to this version).
    pub(crate) fn skip(&mut self, empty: bool) -> Result<()> {
        if empty {
            return Ok(());
        }
        let mut depth = 1usize;
        loop {
            match self.event()? {
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Event::Eof => return Err(self.truncated()),
                _ => {}
            }
        }
    }

    /// The text content of a leaf element (text, CDATA and entity references joined).
    fn text(&mut self, empty: bool, name: &'static str) -> Result<Cow<'a, str>> {
        if empty {
            return Ok(Cow::Borrowed(""));
        }
        let mut out: Cow<'a, str> = Cow::Borrowed("");
        loop {
            let piece: Cow<'a, str> = match self.event()? {
                Event::Text(t) => Cow::Borrowed(self.sub_str(&t)?),
                Event::CData(t) => Cow::Borrowed(self.sub_str(&t)?),
                Event::GeneralRef(r) => {
                    Cow::Owned(resolve_ref(&r).map_err(|e| self.malformed(e))?.into())
                }
                Event::End(_) => return Ok(out),
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Start(_) | Event::Empty(_) => {
                    return Err(Error::protocol(format!(
                        "element <{name}> should hold text but holds child elements"
                    )));
                }
                Event::Eof => return Err(self.truncated()),
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(self.malformed("declaration inside an element"));
                }
            };
            if out.is_empty() {
                out = piece;
            } else {
                out.to_mut().push_str(&piece);
            }
        }
    }

    /// A string element; present but empty is `Some("")`.
    #[inline]
    pub(crate) fn string(&mut self, empty: bool) -> Result<Option<String>> {
        Ok(Some(self.text(empty, "string")?.into_owned()))
    }

    /// An integer element; empty is `None`.
    #[inline]
    pub(crate) fn int(&mut self, empty: bool, name: &'static str) -> Result<Option<i64>> {
        let text = self.text(empty, name)?;
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<i64>()
            .map(Some)
            .map_err(|_| Error::protocol(format!("element <{name}>: {t:?} is not an integer")))
    }

    /// A decimal element; empty is `None`.
    pub(crate) fn decimal(&mut self, empty: bool, name: &'static str) -> Result<Option<f64>> {
        let text = self.text(empty, name)?;
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<f64>()
            .map(Some)
            .map_err(|_| Error::protocol(format!("element <{name}>: {t:?} is not a number")))
    }

    /// A typed object id (an `i32` on the wire); empty is `None`.
    #[inline]
    pub(crate) fn id<T: From<i32>>(
        &mut self,
        empty: bool,
        name: &'static str,
    ) -> Result<Option<T>> {
        let text = self.text(empty, name)?;
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<i32>()
            .map(|v| Some(T::from(v)))
            .map_err(|_| Error::protocol(format!("element <{name}>: {t:?} is not an object id")))
    }

    /// An `IDS` list: `<X><ID>1</ID><ID>2</ID></X>`, appended to `out` as typed ids.
    pub(crate) fn ids<T: From<i32>>(&mut self, empty: bool, out: &mut Vec<T>) -> Result<()> {
        if empty {
            return Ok(());
        }
        while let Some((name, empty)) = self.next_child()? {
            if name == b"ID" {
                if let Some(v) = self.id::<T>(empty, "ID")? {
                    out.push(v);
                }
            } else {
                self.skip(empty)?;
            }
        }
        Ok(())
    }

    /// A free-form element read as a [`Template`].
    pub(crate) fn template(&mut self, empty: bool) -> Result<Template> {
        if empty {
            return Ok(Template::new());
        }
        let end = self.qname;
        crate::template::from_xml_reader(&mut self.reader, end)
    }

    /// The error for a required element that is absent.
    pub(crate) fn missing(element: &str, child: &str) -> Error {
        Error::protocol(format!("element <{element}> lacks its required <{child}>"))
    }
}

fn resolve_ref(r: &BytesRef<'_>) -> std::result::Result<char, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c);
    }
    let name: &str = r;
    match name {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(format!("unknown entity &{other};")),
    }
}
