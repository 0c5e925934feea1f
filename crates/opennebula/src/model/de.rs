//! The hand-driven XML reader behind every generated decoder.
//!
//! The generated code walks the children of an element with [`Decoder::next_child`] and
//! reads each one with a typed helper. Everything borrows from the input: element names and
//! plain text are slices of the document, so a field costs one allocation at most (its
//! `String`), numbers none.
//!
//! The tokenizer ([`Lexer`]) is our own rather than quick-xml's: the input is a `&str`
//! already (UTF-8 checked once, by whoever made it), and every boundary the lexer cuts at
//! is an ASCII byte (`<`, `>`, `]]>`, ...), so no token is validated again. It checks what
//! the decoders rely on: every end tag closes the element that is open, markup is
//! terminated, and entity references are the five of XML or character references. Text is
//! handed out raw and unescaped only where a value is read.

use std::borrow::Cow;

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

/// One token of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    /// `<NAME ...>`: the qualified name.
    Start(&'a str),
    /// `<NAME .../>`.
    Empty(&'a str),
    /// `</NAME>`, already checked against the element it closes.
    End(&'a str),
    /// Character data, raw (entity references not resolved; see [`unescape`]).
    Text(&'a str),
    /// The content of a `<![CDATA[...]]>` section.
    CData(&'a str),
    /// A comment or a processing instruction.
    Misc,
    /// The XML declaration or a `<!DOCTYPE>`.
    Decl,
    /// The end of the input.
    Eof,
}

/// A pull tokenizer over a borrowed document.
#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// The names of the open elements, innermost last.
    open: Vec<&'a str>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            open: Vec::with_capacity(16),
        }
    }

    /// The byte offset of the next token.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The name of the innermost open element.
    pub(crate) fn current(&self) -> Option<&'a str> {
        self.open.last().copied()
    }

    /// The number of open elements.
    pub(crate) fn depth(&self) -> usize {
        self.open.len()
    }

    /// `src[a..b]`, or an error (never a panic) should the bounds not be char boundaries.
    fn slice(&self, a: usize, b: usize) -> std::result::Result<&'a str, String> {
        self.src
            .get(a..b)
            .ok_or_else(|| "markup is not on character boundaries".to_owned())
    }

    /// Finds `pat` (a short terminator such as `]]>`) at or after `from`; the offset of its
    /// first byte. The sections it ends are short, so a `memchr` on the first byte beats
    /// building a substring searcher per call.
    fn find(&self, from: usize, pat: &[u8]) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let (&first, _) = pat.split_first()?;
        let mut at = from;
        loop {
            let i = at + memchr::memchr(first, bytes.get(at..)?)?;
            if bytes[i..].starts_with(pat) {
                return Some(i);
            }
            at = i + 1;
        }
    }

    /// The next token.
    ///
    /// # Errors
    /// A message for unterminated markup, an end tag that does not close the open element,
    /// a tag without a name, or `<` inside a tag.
    pub(crate) fn next(&mut self) -> std::result::Result<Tok<'a>, String> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let Some(rest) = bytes.get(start..) else {
            return Ok(Tok::Eof);
        };
        let Some(&first) = rest.first() else {
            return Ok(Tok::Eof);
        };
        if first != b'<' {
            let n = find_byte(rest, b'<').unwrap_or(rest.len());
            let t = self.slice(start, start + n)?;
            self.pos = start + n;
            return Ok(Tok::Text(t));
        }
        match rest.get(1).copied() {
            Some(b'/') => {
                let gt = find_byte(&rest[2..], b'>')
                    .map(|i| start + 2 + i)
                    .ok_or("unterminated end tag")?;
                let name = self.slice(start + 2, gt)?.trim_end_matches(is_space_char);
                if name.is_empty() || name.bytes().any(|b| is_space(b) || b == b'<') {
                    return Err(format!("malformed end tag </{name}>"));
                }
                match self.open.pop() {
                    Some(open) if open == name => {}
                    Some(open) => {
                        return Err(format!("expected </{open}>, found </{name}>"));
                    }
                    None => return Err(format!("end tag </{name}> without a start tag")),
                }
                self.pos = gt + 1;
                Ok(Tok::End(name))
            }
            Some(b'!') => {
                if rest.starts_with(b"<![CDATA[") {
                    let end = self
                        .find(start + 9, b"]]>")
                        .ok_or("unterminated CDATA section")?;
                    let t = self.slice(start + 9, end)?;
                    self.pos = end + 3;
                    Ok(Tok::CData(t))
                } else if rest.starts_with(b"<!--") {
                    let end = self.find(start + 4, b"-->").ok_or("unterminated comment")?;
                    self.pos = end + 3;
                    Ok(Tok::Misc)
                } else if rest.starts_with(b"<!DOCTYPE") {
                    // Up to the first `>` outside an internal subset `[...]`.
                    let mut depth = 0usize;
                    let mut i = start + 9;
                    loop {
                        match bytes.get(i) {
                            None => return Err("unterminated DOCTYPE".into()),
                            Some(b'[') => depth += 1,
                            Some(b']') => depth = depth.saturating_sub(1),
                            Some(b'>') if depth == 0 => break,
                            Some(_) => {}
                        }
                        i += 1;
                    }
                    self.pos = i + 1;
                    Ok(Tok::Decl)
                } else {
                    Err("unknown markup after <!".into())
                }
            }
            Some(b'?') => {
                let end = self
                    .find(start + 2, b"?>")
                    .ok_or("unterminated processing instruction")?;
                let target = &bytes[start + 2..end];
                self.pos = end + 2;
                let decl = target.starts_with(b"xml")
                    && target.get(3).is_none_or(|b| is_space(*b) || *b == b'?');
                Ok(if decl { Tok::Decl } else { Tok::Misc })
            }
            Some(_) => {
                // Fast path: no quote and no `<` before the first `>`.
                let body = &rest[1..];
                let mut end = None;
                for (i, &b) in body.iter().enumerate() {
                    match b {
                        b'>' => {
                            end = Some(start + 1 + i);
                            break;
                        }
                        b'"' | b'\'' | b'<' => break,
                        _ => {}
                    }
                }
                let end = match end {
                    Some(e) => e,
                    None => self.quoted_tag_end(start + 1)?,
                };
                let mut inner = self.slice(start + 1, end)?;
                let empty = inner.ends_with('/');
                if empty {
                    inner = &inner[..inner.len() - 1];
                }
                let name_len = inner.bytes().position(is_space).unwrap_or(inner.len());
                let name = &inner[..name_len];
                if name.is_empty() {
                    return Err("a tag without a name".into());
                }
                self.pos = end + 1;
                if empty {
                    Ok(Tok::Empty(name))
                } else {
                    self.open.push(name);
                    Ok(Tok::Start(name))
                }
            }
            None => Err("a lone '<' at the end of the document".into()),
        }
    }

    /// The offset of the `>` ending a start tag with attributes (quotes respected).
    fn quoted_tag_end(&self, from: usize) -> std::result::Result<usize, String> {
        let bytes = self.src.as_bytes();
        let mut quote = 0u8;
        let mut i = from;
        loop {
            let Some(&b) = bytes.get(i) else {
                return Err("unterminated start tag".into());
            };
            if quote != 0 {
                if b == quote {
                    quote = 0;
                } else if b == b'<' {
                    return Err("'<' in an attribute value".into());
                }
            } else {
                match b {
                    b'"' | b'\'' => quote = b,
                    b'>' => return Ok(i),
                    b'<' => return Err("'<' inside a tag".into()),
                    _ => {}
                }
            }
            i += 1;
        }
    }

    /// Reads up to the end of the element whose start tag was just read and returns its
    /// content, verbatim.
    pub(crate) fn raw_content(&mut self) -> std::result::Result<&'a str, String> {
        let from = self.pos;
        let depth = self.open.len();
        loop {
            let before = self.pos;
            match self.next()? {
                Tok::End(_) if self.open.len() < depth => return self.slice(from, before),
                Tok::Eof => return Err("unexpected end of document".into()),
                _ => {}
            }
        }
    }
}

/// The first `b` in `hay`. Runs between markup are short in these documents (`<ID>7</ID>`),
/// so the first bytes are looked at one by one before a vectorised search is set up.
#[inline(always)]
fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    const SHORT: usize = 24;
    if let Some(i) = hay.iter().take(SHORT).position(|&x| x == b) {
        return Some(i);
    }
    if hay.len() <= SHORT {
        return None;
    }
    memchr::memchr(b, &hay[SHORT..]).map(|i| i + SHORT)
}

fn is_space_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The character an entity or character reference (`amp`, `#60`, `#x3C`) stands for.
pub(crate) fn entity(name: &str) -> std::result::Result<char, String> {
    Ok(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let num = if let Some(h) = name.strip_prefix("#x") {
                u32::from_str_radix(h, 16).ok()
            } else if let Some(d) = name.strip_prefix('#') {
                d.parse::<u32>().ok()
            } else {
                return Err(format!("unknown entity &{name};"));
            };
            num.and_then(char::from_u32)
                .filter(|c| *c != '\0')
                .ok_or_else(|| format!("bad character reference &{name};"))?
        }
    })
}

/// Appends `raw` to `out` with its entity and character references resolved.
///
/// # Errors
/// A message for an unterminated or unknown reference.
pub(crate) fn unescape_into(out: &mut String, raw: &str) -> std::result::Result<(), String> {
    let bytes = raw.as_bytes();
    let mut start = 0;
    while let Some(off) = memchr::memchr(b'&', &bytes[start..]) {
        let amp = start + off;
        out.push_str(&raw[start..amp]);
        start = amp + 1 + push_reference(out, raw, amp)?;
    }
    out.push_str(&raw[start..]);
    Ok(())
}

/// As [`unescape_into`], up to the first `<` of `raw`: the text of an element followed by
/// markup, read in the same pass that finds its end. Returns the offset of that `<`
/// (`raw.len()` when there is none).
///
/// # Errors
/// As [`unescape_into`].
pub(crate) fn unescape_until_markup(
    out: &mut String,
    raw: &str,
) -> std::result::Result<usize, String> {
    // An escaped document has a reference every few bytes (`&lt;ID&gt;7&lt;/ID&gt;`):
    // a plain byte loop beats starting a vectorised search for each of them.
    let bytes = raw.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'&' && b != b'<' {
            i += 1;
            continue;
        }
        out.push_str(&raw[start..i]);
        if b == b'<' {
            return Ok(i);
        }
        i += 1 + push_reference(out, raw, i)?;
        start = i;
    }
    out.push_str(&raw[start..]);
    Ok(raw.len())
}

/// Resolves the reference starting with the `&` at `amp`, pushes its character and returns
/// the length of the reference after the `&`.
#[inline(always)]
fn push_reference(out: &mut String, raw: &str, amp: usize) -> std::result::Result<usize, String> {
    let tail = &raw.as_bytes()[amp + 1..];
    // The common references first, without looking for `;`.
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
            .ok_or("unterminated entity reference")?;
        let name = raw
            .get(amp + 1..amp + 1 + semi)
            .ok_or("bad entity reference")?;
        (entity(name)?, semi + 1)
    };
    out.push(c);
    Ok(len)
}

/// `raw` with its references resolved, borrowed when it holds none.
///
/// # Errors
/// As [`unescape_into`].
pub(crate) fn unescape(raw: &str) -> std::result::Result<Cow<'_, str>, String> {
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    unescape_into(&mut out, raw)?;
    Ok(Cow::Owned(out))
}

/// Reads elements out of one borrowed document.
pub(crate) struct Decoder<'a> {
    lex: Lexer<'a>,
    /// Scratch buffers of the template reader, reused from one template to the next.
    scratch: crate::template::xml::Scratch,
}

fn local(name: &str) -> &[u8] {
    let name = name.as_bytes();
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

impl<'a> Decoder<'a> {
    /// A decoder over `input`.
    pub(crate) fn new(input: &'a str) -> Self {
        Decoder {
            lex: Lexer::new(input),
            scratch: crate::template::xml::Scratch::default(),
        }
    }

    fn malformed(&self, e: impl std::fmt::Display) -> Error {
        Error::protocol(format!(
            "malformed XML near byte {}: {e}",
            self.lex.position()
        ))
    }

    fn truncated(&self) -> Error {
        Error::protocol(format!(
            "truncated XML: the document ends at byte {} inside an element",
            self.lex.position()
        ))
    }

    #[inline]
    fn event(&mut self) -> Result<Tok<'a>> {
        match self.lex.next() {
            Ok(t) => Ok(t),
            Err(e) => Err(self.malformed(e)),
        }
    }

    /// Skips the prolog and returns the root element's local name.
    pub(crate) fn root(&mut self) -> Result<(&'a [u8], bool)> {
        loop {
            match self.event()? {
                Tok::Start(q) => return Ok((local(q), false)),
                Tok::Empty(q) => return Ok((local(q), true)),
                Tok::Text(t) if t.bytes().all(is_space) => {}
                Tok::Decl | Tok::Misc => {}
                Tok::Eof => return Err(Error::protocol("empty XML document: no root element")),
                _ => return Err(self.malformed("content before the root element")),
            }
        }
    }

    /// Checks that only whitespace, comments or processing instructions follow the root.
    pub(crate) fn finish(&mut self) -> Result<()> {
        loop {
            match self.event()? {
                Tok::Eof => return Ok(()),
                Tok::Text(t) if t.bytes().all(is_space) => {}
                Tok::Misc => {}
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
                Tok::Start(q) => return Ok(Some((local(q), false))),
                Tok::Empty(q) => return Ok(Some((local(q), true))),
                Tok::End(_) => return Ok(None),
                Tok::Eof => return Err(self.truncated()),
                Tok::Text(_) | Tok::CData(_) | Tok::Misc => {}
                Tok::Decl => return Err(self.malformed("declaration inside an element")),
            }
        }
    }

    /// Skips the rest of an element (unknown to the schema or to this version).
    pub(crate) fn skip(&mut self, empty: bool) -> Result<()> {
        if empty {
            return Ok(());
        }
        let depth = self.lex.depth();
        loop {
            match self.event()? {
                Tok::End(_) if self.lex.depth() < depth => return Ok(()),
                Tok::Eof => return Err(self.truncated()),
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
                Tok::Text(t) => unescape(t).map_err(|e| self.malformed(e))?,
                Tok::CData(t) => Cow::Borrowed(t),
                Tok::End(_) => return Ok(out),
                Tok::Misc => continue,
                Tok::Start(_) | Tok::Empty(_) => {
                    return Err(Error::protocol(format!(
                        "element <{name}> should hold text but holds child elements"
                    )));
                }
                Tok::Eof => return Err(self.truncated()),
                Tok::Decl => return Err(self.malformed("declaration inside an element")),
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
        crate::template::xml::read_packed(&mut self.lex, &mut self.scratch)
    }

    /// The error for a required element that is absent.
    pub(crate) fn missing(element: &str, child: &str) -> Error {
        Error::protocol(format!("element <{element}> lacks its required <{child}>"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> std::result::Result<Vec<Tok<'_>>, String> {
        let mut l = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = l.next()?;
            if t == Tok::Eof {
                return Ok(out);
            }
            out.push(t);
        }
    }

    #[test]
    fn lexes_every_kind_of_markup() {
        let t = toks(
            "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a k=\"v>\" j='<'?><!-- c -->\
             <?pi x?><b/><c >t&amp;<![CDATA[<x>]]></c ></a>",
        );
        assert!(t.is_err(), "'<' in an attribute value: {t:?}");
        let t = toks(
            "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a k=\"v>\"><!-- c -->\
             <?pi x?><b/><c >t&amp;<![CDATA[<x>]]></c ></a>",
        )
        .expect("lexes");
        assert_eq!(
            t,
            vec![
                Tok::Decl,
                Tok::Decl,
                Tok::Start("a"),
                Tok::Misc,
                Tok::Misc,
                Tok::Empty("b"),
                Tok::Start("c"),
                Tok::Text("t&amp;"),
                Tok::CData("<x>"),
                Tok::End("c"),
                Tok::End("a"),
            ]
        );
    }

    #[test]
    fn malformed_markup_is_an_error() {
        for bad in [
            "<a></b>",
            "</a>",
            "<a",
            "<a><!-- x",
            "<a><![CDATA[x",
            "<a><?pi",
            "<>",
            "<",
            "<a><!x></a>",
            "<a></a b>",
            "<a k=\"x></a>",
        ] {
            assert!(toks(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unescapes_references() {
        assert_eq!(
            unescape("a&lt;b&gt;&amp;&quot;&apos;&#65;&#x42;").as_deref(),
            Ok("a<b>&\"'AB")
        );
        assert!(matches!(unescape("plain"), Ok(Cow::Borrowed("plain"))));
        for bad in ["&bogus;", "&#0;", "&#xZZ;", "& x", "&#1114112;"] {
            assert!(unescape(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn raw_content_is_verbatim() {
        let mut l = Lexer::new("<a><b>x<c/>&amp;</b></a>");
        assert_eq!(l.next(), Ok(Tok::Start("a")));
        assert_eq!(l.next(), Ok(Tok::Start("b")));
        assert_eq!(l.raw_content().as_deref(), Ok("x<c/>&amp;"));
        assert_eq!(l.next(), Ok(Tok::End("a")));
    }
}
