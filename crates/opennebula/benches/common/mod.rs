//! Shared set-up of the OpenNebula pool benchmarks: oned's XML-RPC response envelope
//! around a `one.vmpool.info` document; the per-call split of `one.vm.info` ([`calls`]).

pub(crate) mod calls;

/// The HTTP body oned sends for `one.vmpool.info`: `[true, document, 0]`, the document
/// escaped as oned escapes it (`<`, `>`, `&`; quotes left alone).
pub(crate) fn envelope(doc: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.len() + doc.len() / 2 + 256);
    out.extend_from_slice(ENVELOPE_HEAD);
    escape_into(&mut out, doc.as_bytes());
    out.extend_from_slice(ENVELOPE_TAIL);
    out
}

/// What oned writes before the document.
pub(crate) const ENVELOPE_HEAD: &[u8] =
    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n<param>\
      <value><array><data>\r\n<value><boolean>1</boolean></value>\r\n<value><string>";

/// What oned writes after the document.
pub(crate) const ENVELOPE_TAIL: &[u8] =
    b"</string></value>\r\n<value><i4>0</i4></value>\r\n</data></array></value></param>\
      \r\n</params>\r\n</methodResponse>\r\n";

/// Escapes `<`, `>` and `&` as oned does.
pub(crate) fn escape_into(out: &mut Vec<u8>, doc: &[u8]) {
    for &b in doc {
        match b {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            _ => out.push(b),
        }
    }
}
