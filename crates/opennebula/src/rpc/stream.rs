//! Streaming decode of one large pool response: the items of `one.vmpool.info` (and the
//! other pools) one at a time, as the HTTP body arrives, without holding the pool.
//!
//! oned answers a pool call with one XML-RPC response whose `<string>` holds the whole pool
//! document, escaped (`&lt;VM&gt;...`). [`PoolDecoder`] is fed the body in chunks of any
//! size; it checks the envelope head (`[true, "<document>", ...]`), unescapes the document
//! as it comes, finds each complete top-level item (`<VM>...</VM>`) and decodes it with the
//! item's [`FromStr`], the same decoder as the whole-pool one. It keeps only the item being
//! read and the unread part of the last chunk, so its memory is flat in the pool size.
//! [`PoolReader`] drives it from a [`std::io::Read`], [`decode_stream`] from a
//! [`futures::Stream`] of [`Bytes`] (an HTTP body stream).
//!
//! A failure answer (`[false, message, code]`) or an XML-RPC fault is read whole (it is
//! small) and returned as the same typed error [`crate::rpc::decode_one`] gives;
//! malformed, truncated or unexpected input is an [`ErrorKind::Protocol`] error, never a
//! panic.
//!
//! ```
//! use nebulair_opennebula::model::VmPoolVm;
//! use nebulair_opennebula::rpc::stream::PoolReader;
//!
//! let body = "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data>\
//!     <value><boolean>1</boolean></value><value><string>&lt;VM_POOL&gt;\
//!     &lt;VM&gt;&lt;ID&gt;1&lt;/ID&gt;&lt;NAME&gt;a &amp;amp; b&lt;/NAME&gt;&lt;/VM&gt;\
//!     &lt;VM&gt;&lt;ID&gt;0&lt;/ID&gt;&lt;/VM&gt;&lt;/VM_POOL&gt;</string></value>\
//!     <value><i4>0</i4></value></data></array></value></param></params></methodResponse>";
//! let mut names = Vec::new();
//! for vm in PoolReader::<_, VmPoolVm>::new(body.as_bytes(), "one.vmpool.info") {
//!     let vm = vm?;
//!     names.push((vm.id.get(), vm.name));
//! }
//! assert_eq!(names, [(1, Some("a & b".to_owned())), (0, None)]);
//! # Ok::<(), nebulair_opennebula::Error>(())
//! ```

use std::io::Read;
use std::marker::PhantomData;
use std::str::FromStr;

use bytes::Bytes;
use futures::Stream;
use nebulair_core::{Error, ErrorKind, Result};

use crate::model;

/// An item of a pool document that decodes on its own: the pool's root element and the
/// item's element (`VM_POOL` and `VM` for [`model::VmPoolVm`]).
pub trait PoolItem: FromStr<Err = Error> {
    /// The root element of the pool document.
    const POOL: &'static str;
    /// The element of one item.
    const ITEM: &'static str;
}

macro_rules! pool_items {
    ($($ty:ty => $pool:literal / $item:literal),+ $(,)?) => {$(
        impl PoolItem for $ty {
            const POOL: &'static str = $pool;
            const ITEM: &'static str = $item;
        }
    )+};
}

pool_items!(
    model::VmPoolVm => "VM_POOL" / "VM",
    model::Vm => "VM_POOL" / "VM",
    model::Host => "HOST_POOL" / "HOST",
    model::Image => "IMAGE_POOL" / "IMAGE",
    model::VmTemplate => "VMTEMPLATE_POOL" / "VMTEMPLATE",
    model::VnetPoolVnet => "VNET_POOL" / "VNET",
);

/// How much of the body may come before the document's `<string>`.
const HEAD_LIMIT: usize = 64 * 1024;
/// How large a failure answer or fault may be (it is read whole).
const ERROR_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// The longest reference the unescaper waits for across a chunk boundary (`&#x10FFFF;`).
const MAX_REF: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the document's `<string>`.
    Head,
    /// A failure answer or a fault, read whole and decoded at the end.
    ErrorBody,
    /// Inside the escaped document.
    Doc,
    /// After `</string>`.
    Tail,
    /// An error was returned; nothing more is decoded.
    Failed,
}

/// Decodes the items of one pool response from its body, fed in chunks.
///
/// Feed chunks with [`PoolDecoder::feed`], take the items they complete with
/// [`PoolDecoder::next_item`] until it returns `None`, and call [`PoolDecoder::finish`] at
/// the end of the body: it says whether the response was complete. [`PoolReader`] and
/// [`decode_stream`] do this loop for a reader or a byte stream.
#[derive(Debug)]
pub struct PoolDecoder<T> {
    method: String,
    state: State,
    /// Body bytes not yet consumed: the head, a reference cut by a chunk boundary, the
    /// tail, or a whole failure answer.
    raw: Vec<u8>,
    /// The unescaped document from the first byte not yet consumed.
    doc: Vec<u8>,
    /// How far `doc` has been scanned.
    scan: usize,
    /// Element depth at `scan` (1 inside the pool's root element).
    depth: usize,
    /// Where the item being read starts in `doc`, and whether it is an item (other
    /// children of the root are skipped, as the whole-pool decoder does).
    item: Option<(usize, bool)>,
    root_seen: bool,
    root_closed: bool,
    items: u64,
    _item: PhantomData<fn() -> T>,
}

fn protocol(method: &str, msg: impl std::fmt::Display) -> Error {
    Error::protocol(format!("{method}: malformed pool response: {msg}"))
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Finds a short terminator (`]]>`, `-->`, `<string>`) at or after `from`, with a `memchr`
/// on its first byte (building a substring searcher per call costs more here).
fn find(hay: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    let (&first, _) = pat.split_first()?;
    let mut at = from;
    loop {
        let i = at + memchr::memchr(first, hay.get(at..)?)?;
        if hay[i..].starts_with(pat) {
            return Some(i);
        }
        at = i + 1;
    }
}

impl<T: PoolItem> PoolDecoder<T> {
    /// A decoder for the answer to `method` (used in error messages and to map failures).
    pub fn new(method: &str) -> Self {
        PoolDecoder {
            method: method.to_owned(),
            state: State::Head,
            raw: Vec::new(),
            doc: Vec::new(),
            scan: 0,
            depth: 0,
            item: None,
            root_seen: false,
            root_closed: false,
            items: 0,
            _item: PhantomData,
        }
    }

    /// How many items have been decoded so far.
    pub fn items(&self) -> u64 {
        self.items
    }

    fn fail(&mut self, e: Error) -> Error {
        self.state = State::Failed;
        self.raw = Vec::new();
        self.doc = Vec::new();
        e
    }

    /// Feeds the next chunk of the body.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the envelope is not oned's, or the document holds a bad
    /// reference; after an error the decoder yields nothing more.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        match self.state {
            State::Failed => return Ok(()),
            State::Doc => {
                // Give back what the items already taken used.
                let keep = self.item.map_or(self.scan, |(start, _)| start);
                if keep > 0 {
                    self.doc.drain(..keep);
                    self.scan -= keep;
                    if let Some((start, _)) = &mut self.item {
                        *start -= keep;
                    }
                }
            }
            _ => {}
        }
        self.raw.extend_from_slice(chunk);
        let r = self.process();
        r.map_err(|e| self.fail(e))
    }

    fn process(&mut self) -> Result<()> {
        if self.state == State::Head {
            self.head()?;
        }
        match self.state {
            State::Doc => self.unescape(),
            State::ErrorBody if self.raw.len() > ERROR_BODY_LIMIT => Err(protocol(
                &self.method,
                "the answer is not a pool document and is too large to read whole",
            )),
            State::Tail if self.raw.len() > HEAD_LIMIT => Err(protocol(
                &self.method,
                "too much content after the document",
            )),
            _ => Ok(()),
        }
    }

    /// Looks for the document's `<string>` and checks the envelope before it.
    fn head(&mut self) -> Result<()> {
        let Some(at) = find(&self.raw, 0, b"<string>") else {
            if find(&self.raw, 0, b"<fault>").is_some() {
                self.state = State::ErrorBody;
            } else if self.raw.len() > HEAD_LIMIT {
                return Err(protocol(
                    &self.method,
                    "no <string> value in the first 64 KiB of the body",
                ));
            }
            return Ok(());
        };
        let end = at + b"<string>".len();
        let head = std::str::from_utf8(&self.raw[..end])
            .map_err(|_| protocol(&self.method, "the body is not UTF-8"))?;
        match head_shape(head) {
            Shape::Success => {
                self.raw.drain(..end);
                self.state = State::Doc;
            }
            Shape::Failure => self.state = State::ErrorBody,
            Shape::Other(why) => return Err(protocol(&self.method, why)),
        }
        Ok(())
    }

    /// Moves the escaped document text of `raw` into `doc`, unescaped, up to `</string>`
    /// or to a reference cut by the end of the chunk.
    fn unescape(&mut self) -> Result<()> {
        let raw = &self.raw;
        let mut i = 0;
        let mut out = std::mem::take(&mut self.doc);
        let result = loop {
            let Some(off) = memchr::memchr2(b'&', b'<', &raw[i..]) else {
                out.extend_from_slice(&raw[i..]);
                i = raw.len();
                break Ok(());
            };
            let at = i + off;
            out.extend_from_slice(&raw[i..at]);
            i = at;
            if raw[at] == b'<' {
                self.state = State::Tail;
                break Ok(());
            }
            let tail = &raw[at + 1..];
            let (c, len) = if tail.starts_with(b"lt;") {
                (b'<', 3)
            } else if tail.starts_with(b"gt;") {
                (b'>', 3)
            } else if tail.starts_with(b"amp;") {
                (b'&', 4)
            } else {
                match tail.iter().take(MAX_REF).position(|b| *b == b';') {
                    Some(semi) => {
                        let name = std::str::from_utf8(&tail[..semi]).unwrap_or("?");
                        match crate::model::de::entity(name) {
                            Ok(ch) => {
                                let mut utf8 = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                                i = at + 1 + semi + 1;
                                continue;
                            }
                            Err(e) => break Err(protocol(&self.method, e)),
                        }
                    }
                    // Cut by the chunk boundary: wait for the rest.
                    None if tail.len() < MAX_REF => break Ok(()),
                    None => break Err(protocol(&self.method, "unterminated entity reference")),
                }
            };
            out.push(c);
            i = at + 1 + len;
        };
        self.doc = out;
        self.raw.drain(..i);
        result
    }

    /// The next item the bytes fed so far complete, if any.
    ///
    /// Returns `None` when more input is needed (or after an error, or once the pool's
    /// root element is closed and every item taken).
    pub fn next_item(&mut self) -> Option<Result<T>> {
        if !matches!(self.state, State::Doc | State::Tail) {
            return None;
        }
        match self.scan_item() {
            Ok(Some((start, end))) => {
                let parsed = std::str::from_utf8(&self.doc[start..end])
                    .map_err(|_| protocol(&self.method, "an item is not UTF-8"))
                    .and_then(|xml| {
                        xml.parse::<T>().map_err(|e| {
                            e.context(format_args!("{}: item {}", self.method, self.items))
                        })
                    });
                self.item = None;
                match parsed {
                    Ok(v) => {
                        self.items += 1;
                        Some(Ok(v))
                    }
                    Err(e) => Some(Err(self.fail(e))),
                }
            }
            Ok(None) => None,
            Err(e) => Some(Err(self.fail(e))),
        }
    }

    /// Scans `doc` for the end of the next item: its byte range, or `None` when more input
    /// is needed.
    fn scan_item(&mut self) -> Result<Option<(usize, usize)>> {
        let doc = &self.doc;
        loop {
            let Some(off) = memchr::memchr(b'<', &doc[self.scan..]) else {
                self.check_text(self.scan, doc.len())?;
                self.scan = doc.len();
                return Ok(None);
            };
            let lt = self.scan + off;
            self.check_text(self.scan, lt)?;
            let rest = &doc[lt..];
            // Enough bytes to tell the kind of markup?
            if rest.len() < 9 && (b"<![CDATA[".starts_with(rest) || b"<!DOCTYPE".starts_with(rest))
                || rest.len() < 4 && b"<!--".starts_with(rest)
                || rest.len() < 2
            {
                self.scan = lt;
                return Ok(None);
            }
            let next = if rest.starts_with(b"<![CDATA[") {
                find(doc, lt + 9, b"]]>").map(|e| e + 3)
            } else if rest.starts_with(b"<!--") {
                find(doc, lt + 4, b"-->").map(|e| e + 3)
            } else if rest.starts_with(b"<?") {
                find(doc, lt + 2, b"?>").map(|e| e + 2)
            } else if rest.starts_with(b"<!") {
                if self.depth > 0 || !rest.starts_with(b"<!DOCTYPE") {
                    return Err(protocol(&self.method, "unexpected markup in the document"));
                }
                memchr::memchr(b'>', rest).map(|e| lt + e + 1)
            } else {
                None
            };
            if rest[1] == b'!' || rest[1] == b'?' {
                match next {
                    Some(n) => {
                        if rest.starts_with(b"<![CDATA[") && self.depth < 2 && n - lt > 12 {
                            return Err(protocol(&self.method, "CDATA outside an item"));
                        }
                        self.scan = n;
                        continue;
                    }
                    None => {
                        self.scan = lt;
                        return Ok(None);
                    }
                }
            }
            let Some(gt) = tag_end(rest) else {
                self.scan = lt;
                return Ok(None);
            };
            let tag = &rest[..=gt];
            self.scan = lt + gt + 1;
            if tag[1] == b'/' {
                // An end tag.
                match self.depth {
                    0 => return Err(protocol(&self.method, "an end tag outside the pool")),
                    1 => {
                        self.depth = 0;
                        self.root_closed = true;
                    }
                    2 => {
                        self.depth = 1;
                        if let Some((start, is_item)) = self.item.take()
                            && is_item
                        {
                            return Ok(Some((start, self.scan)));
                        }
                    }
                    _ => self.depth -= 1,
                }
                continue;
            }
            let empty = tag.ends_with(b"/>");
            let inner = &tag[1..tag.len() - if empty { 2 } else { 1 }];
            let name_len = inner
                .iter()
                .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(inner.len());
            let name = local(&inner[..name_len]);
            match self.depth {
                0 => {
                    if self.root_seen {
                        return Err(protocol(&self.method, "content after the pool element"));
                    }
                    if name != T::POOL.as_bytes() {
                        return Err(protocol(
                            &self.method,
                            format_args!(
                                "expected a <{}> document, found <{}>",
                                T::POOL,
                                String::from_utf8_lossy(name)
                            ),
                        ));
                    }
                    self.root_seen = true;
                    if empty {
                        self.root_closed = true;
                    } else {
                        self.depth = 1;
                    }
                }
                1 => {
                    let is_item = name == T::ITEM.as_bytes();
                    if empty {
                        if is_item {
                            return Ok(Some((lt, self.scan)));
                        }
                    } else {
                        self.depth = 2;
                        self.item = Some((lt, is_item));
                    }
                }
                _ => {
                    if !empty {
                        self.depth += 1;
                    }
                }
            }
        }
    }

    /// Text at the pool's level (outside items) may only be whitespace.
    fn check_text(&self, from: usize, to: usize) -> Result<()> {
        if self.depth < 2 && !self.doc[from..to].iter().all(u8::is_ascii_whitespace) {
            return Err(protocol(&self.method, "text outside the items"));
        }
        Ok(())
    }

    /// Declares the end of the body.
    ///
    /// # Errors
    /// The mapped OpenNebula error for a failure answer or fault (as
    /// [`crate::rpc::decode_one`]); [`ErrorKind::Protocol`] when the body ended before the
    /// pool document or the envelope was complete, or an item was left unread (call
    /// [`PoolDecoder::next_item`] until it returns `None` first).
    pub fn finish(&mut self) -> Result<()> {
        let r = self.finish_inner();
        r.map_err(|e| self.fail(e))
    }

    fn finish_inner(&mut self) -> Result<()> {
        match self.state {
            State::Failed => Ok(()),
            State::Head | State::ErrorBody => {
                if self.raw.iter().all(u8::is_ascii_whitespace) {
                    return Err(protocol(&self.method, "empty body"));
                }
                match super::decode_one(&self.raw, &self.method) {
                    Err(e) => Err(e),
                    Ok(v) => Err(protocol(
                        &self.method,
                        format_args!("expected a pool document, got <{}>", v.type_name()),
                    )),
                }
            }
            State::Doc => Err(protocol(
                &self.method,
                format_args!(
                    "truncated: the body ends inside the document, after {} items",
                    self.items
                ),
            )),
            State::Tail => {
                if !self.root_closed {
                    return Err(protocol(
                        &self.method,
                        format_args!(
                            "truncated document: the pool element is not closed after {} items",
                            self.items
                        ),
                    ));
                }
                if self.next_pending() {
                    return Err(protocol(
                        &self.method,
                        "content left unread after the items",
                    ));
                }
                let tail = std::str::from_utf8(&self.raw)
                    .map_err(|_| protocol(&self.method, "the body is not UTF-8"))?;
                if !tail.starts_with("</string>") || !tail.trim_end().ends_with("</methodResponse>")
                {
                    return Err(protocol(
                        &self.method,
                        "truncated: the envelope does not end with </methodResponse>",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Whether the scanned document still holds unread content (an item not taken).
    fn next_pending(&self) -> bool {
        self.item.is_some()
            || self.doc[self.scan..]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
    }
}

/// The offset of the `>` that ends the tag at the start of `tag`, quotes respected.
fn tag_end(tag: &[u8]) -> Option<usize> {
    let gt = memchr::memchr(b'>', tag)?;
    if memchr::memchr2(b'"', b'\'', &tag[..gt]).is_none() {
        return Some(gt);
    }
    let mut quote = 0u8;
    for (i, &b) in tag.iter().enumerate() {
        match (quote, b) {
            (0, b'"' | b'\'') => quote = b,
            (0, b'>') => return Some(i),
            (q, b) if q == b => quote = 0,
            _ => {}
        }
    }
    None
}

enum Shape {
    Success,
    Failure,
    Other(&'static str),
}

/// Reads the envelope up to the document's `<string>`: `[true, "` is a success; a `false`
/// first element or a fault is a failure answer, read whole.
fn head_shape(head: &str) -> Shape {
    let mut lex = crate::model::de::Lexer::new(head);
    let mut starts: Vec<&str> = Vec::new();
    let mut flag = String::new();
    loop {
        use crate::model::de::Tok;
        match lex.next() {
            Ok(Tok::Start(n)) => {
                if n == "fault" {
                    return Shape::Failure;
                }
                starts.push(n);
            }
            Ok(Tok::Text(t)) => {
                if starts.last() == Some(&"boolean") {
                    flag.push_str(t.trim());
                } else if !t.trim().is_empty() {
                    return Shape::Other("unexpected text in the envelope");
                }
            }
            Ok(Tok::Eof) => break,
            Ok(Tok::End(_) | Tok::Empty(_) | Tok::Decl | Tok::Misc | Tok::CData(_)) => {}
            Err(_) => return Shape::Other("malformed envelope"),
        }
    }
    const SHAPE: [&str; 10] = [
        "methodResponse",
        "params",
        "param",
        "value",
        "array",
        "data",
        "value",
        "boolean",
        "value",
        "string",
    ];
    if starts != SHAPE {
        return Shape::Other("not an OpenNebula result array holding a document");
    }
    match flag.as_str() {
        "1" | "true" => Shape::Success,
        "0" | "false" => Shape::Failure,
        _ => Shape::Other("the result flag is not a boolean"),
    }
}

/// The items of one pool response read from `R` (a file, a blocking HTTP body), one at a
/// time; see the [module](self) documentation.
#[derive(Debug)]
pub struct PoolReader<R, T> {
    reader: R,
    decoder: PoolDecoder<T>,
    buf: Box<[u8]>,
    done: bool,
}

impl<R: Read, T: PoolItem> PoolReader<R, T> {
    /// Reads the answer to `method` from `reader` in 64 KiB chunks.
    pub fn new(reader: R, method: &str) -> Self {
        PoolReader {
            reader,
            decoder: PoolDecoder::new(method),
            buf: vec![0; 64 * 1024].into_boxed_slice(),
            done: false,
        }
    }
}

impl<R: Read, T: PoolItem> Iterator for PoolReader<R, T> {
    type Item = Result<T>;

    /// The next item; after an error (a typed error, [`ErrorKind::Transport`] for a read
    /// failure) the iterator ends.
    fn next(&mut self) -> Option<Result<T>> {
        if self.done {
            return None;
        }
        loop {
            if let Some(item) = self.decoder.next_item() {
                self.done = item.is_err();
                return Some(item);
            }
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    return self.decoder.finish().err().map(Err);
                }
                Ok(n) => {
                    if let Err(e) = self.decoder.feed(&self.buf[..n]) {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::with_source(
                        ErrorKind::Transport,
                        "reading the pool response body failed",
                        e,
                    )));
                }
            }
        }
    }
}

/// The items of one pool response from a stream of body chunks (an HTTP body stream), one
/// at a time; see the [module](self) documentation. After an error the stream ends.
pub fn decode_stream<T, S>(
    body: S,
    method: &str,
) -> impl Stream<Item = Result<T>> + Send + use<T, S>
where
    T: PoolItem + Send + 'static,
    S: Stream<Item = Result<Bytes>> + Send + Unpin,
{
    use futures::StreamExt as _;
    let state = (body, PoolDecoder::<T>::new(method), false);
    futures::stream::unfold(state, |(mut body, mut dec, done)| async move {
        if done {
            return None;
        }
        loop {
            if let Some(item) = dec.next_item() {
                let failed = item.is_err();
                return Some((item, (body, dec, failed)));
            }
            match body.next().await {
                None => {
                    return dec.finish().err().map(|e| (Err(e), (body, dec, true)));
                }
                Some(Ok(chunk)) => {
                    if let Err(e) = dec.feed(&chunk) {
                        return Some((Err(e), (body, dec, true)));
                    }
                }
                Some(Err(e)) => return Some((Err(e), (body, dec, true))),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VmPoolVm;

    fn envelope(doc: &str) -> String {
        let escaped = doc
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n\
             <param><value><array><data>\r\n<value><boolean>1</boolean></value>\r\n\
             <value><string>{escaped}</string></value>\r\n<value><i4>0</i4></value>\r\n\
             </data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n"
        )
    }

    fn pool(n: usize) -> String {
        let mut doc = String::from("<VM_POOL>");
        for i in (0..n).rev() {
            doc.push_str(&format!(
                "<VM><ID>{i}</ID><NAME>vm-{i} &amp; &#233;</NAME><TEMPLATE><CPU><![CDATA[1]]></CPU>\
                 <DISK><IMAGE_ID>{i}</IMAGE_ID></DISK></TEMPLATE><!-- c --><USER_TEMPLATE/></VM>\n"
            ));
        }
        doc.push_str("<EXTRA><VM><ID>99</ID></VM></EXTRA></VM_POOL>");
        doc
    }

    /// Feeds `body` in chunks of `size` and collects the items or the first error.
    fn run(body: &[u8], size: usize) -> Result<Vec<VmPoolVm>> {
        let mut dec = PoolDecoder::<VmPoolVm>::new("one.vmpool.info");
        let mut out = Vec::new();
        for chunk in body.chunks(size.max(1)) {
            dec.feed(chunk)?;
            while let Some(vm) = dec.next_item() {
                out.push(vm?);
            }
        }
        dec.finish()?;
        Ok(out)
    }

    #[test]
    fn every_chunk_size_gives_the_whole_pool_decoders_items() {
        let doc = pool(7);
        let whole: crate::model::VmPool = doc.parse().expect("whole pool");
        let body = envelope(&doc);
        for size in [1, 2, 3, 5, 7, 13, 64, 1000, body.len()] {
            let items = run(body.as_bytes(), size).expect("decodes");
            assert_eq!(items, whole.vm, "chunk size {size}");
        }
        assert_eq!(whole.vm[0].name.as_deref(), Some("vm-6 & é"));
        assert_eq!(whole.vm[0].template.get_str("CPU"), Some("1"));
    }

    #[test]
    fn recorded_bodies_stream_like_the_whole_pool_decoder() {
        for (body, method) in [
            (
                include_str!("../../benches/data/one.vmpool.info__recorded_5_vms.xml"),
                "one.vmpool.info",
            ),
            (
                include_str!("../../benches/data/one.vmpool.infoextended__recorded_3_vms.xml"),
                "one.vmpool.infoextended",
            ),
        ] {
            let doc = crate::rpc::decode_string(body.as_bytes(), method).expect("recorded");
            let whole: crate::model::VmPool = doc.parse().expect("whole pool");
            assert!(!whole.vm.is_empty());
            for size in [1, 100, 8192] {
                assert_eq!(
                    run(body.as_bytes(), size).expect("streams"),
                    whole.vm,
                    "{method}"
                );
            }
            let extended: crate::model::VmPoolExtended = doc.parse().expect("extended");
            let vms: Vec<crate::model::Vm> = PoolReader::new(body.as_bytes(), method)
                .collect::<Result<_>>()
                .expect("streams as Vm");
            assert_eq!(vms, extended.vm);
        }
    }

    #[test]
    fn empty_pools() {
        for doc in ["<VM_POOL/>", "<VM_POOL></VM_POOL>", "<VM_POOL>\n</VM_POOL>"] {
            assert!(
                run(envelope(doc).as_bytes(), 4)
                    .expect("decodes")
                    .is_empty(),
                "{doc}"
            );
        }
    }

    #[test]
    fn truncated_bodies_are_protocol_errors_at_every_cut() {
        let body = envelope(&pool(3));
        let end = body.trim_end().len();
        for cut in 0..end {
            let err = run(&body.as_bytes()[..cut], 17).expect_err("truncated");
            assert_eq!(err.kind(), ErrorKind::Protocol, "cut at {cut}: {err}");
        }
    }

    #[test]
    fn failures_and_faults_are_the_typed_errors() {
        let fail = "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data>\
            <value><boolean>0</boolean></value><value><string>[one.vmpool.info] User couldn't \
            be authenticated, aborting call.</string></value><value><i4>256</i4></value>\
            </data></array></value></param></params></methodResponse>";
        let err = run(fail.as_bytes(), 10).expect_err("failure");
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
        let fault = "<methodResponse><fault><value><struct><member><name>faultCode</name>\
            <value><int>-506</int></value></member><member><name>faultString</name><value>\
            <string>Method 'x' not defined</string></value></member></struct></value></fault>\
            </methodResponse>";
        let err = run(fault.as_bytes(), 10).expect_err("fault");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }

    #[test]
    fn malformed_input_is_a_protocol_error_never_a_panic() {
        let good = envelope(&pool(2));
        let bad_docs = [
            envelope("<HOST_POOL></HOST_POOL>"),
            envelope("<VM_POOL><VM><ID>x</ID></VM></VM_POOL>"),
            envelope("<VM_POOL><VM><ID>1</ID></VM></VM_POOL><VM_POOL/>"),
            envelope("<VM_POOL>text<VM><ID>1</ID></VM></VM_POOL>"),
            envelope("<VM_POOL><VM><ID>1</ID></NAME></VM></VM_POOL>"),
            envelope("<VM_POOL></VM_POOL></VM>"),
            good.replace("&amp;amp;", "&bogus;"),
            good.replace("<boolean>1", "<boolean>maybe"),
            good.replace("</methodResponse>", "</methodRespons>"),
            good.replace("<array>", "<struct>"),
            "<html>nope</html>".to_owned(),
            String::new(),
        ];
        for body in &bad_docs {
            for size in [1, 5, 4096] {
                let err = run(body.as_bytes(), size).expect_err(body);
                assert_eq!(err.kind(), ErrorKind::Protocol, "{body}: {err}");
            }
        }
        assert!(run(&[0xff; 100], 7).is_err());
        let mut huge_head = String::from("<methodResponse>");
        huge_head.push_str(&" ".repeat(HEAD_LIMIT + 10));
        assert!(run(huge_head.as_bytes(), 4096).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

        /// Garbage, and a good body with bytes flipped, in random chunks: never a panic.
        #[test]
        fn garbage_and_corruption_never_panic(
            garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            flips in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 0..8),
            size in 1usize..300,
        ) {
            let _ = run(&garbage, size);
            let mut body = envelope(&pool(3)).into_bytes();
            for (at, b) in flips {
                let n = body.len();
                body[at % n] = b;
            }
            // Whatever the corruption, the result is items or a typed error with a message
            // (the kind depends on what was hit: a flipped result flag maps the code).
            if let Err(e) = run(&body, size) {
                proptest::prop_assert!(!e.message().is_empty());
            }
        }
    }

    #[test]
    fn the_reader_and_the_stream_yield_the_same() -> Result<()> {
        let body = envelope(&pool(5));
        let items: Vec<VmPoolVm> =
            PoolReader::new(body.as_bytes(), "one.vmpool.info").collect::<Result<_>>()?;
        assert_eq!(items.len(), 5);
        let chunks: Vec<Result<Bytes>> = body
            .as_bytes()
            .chunks(9)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let streamed: Vec<Result<VmPoolVm>> =
            futures::executor::block_on(futures::StreamExt::collect(decode_stream(
                futures::stream::iter(chunks),
                "one.vmpool.info",
            )));
        assert_eq!(streamed.into_iter().collect::<Result<Vec<_>>>()?, items);
        // An error of the byte stream ends the stream with that error.
        let broken = futures::stream::iter(vec![
            Ok(Bytes::copy_from_slice(&body.as_bytes()[..300])),
            Err(Error::new(ErrorKind::Transport, "connection reset")),
        ]);
        let out: Vec<Result<VmPoolVm>> = futures::executor::block_on(futures::StreamExt::collect(
            decode_stream(broken, "one.vmpool.info"),
        ));
        assert!(matches!(out.last(), Some(Err(e)) if e.kind() == ErrorKind::Transport));
        Ok(())
    }
}
