//! Shared set-up of the OpenNebula pool benchmarks: the generated `one.vmpool.info`
//! document, its XML-RPC response envelope, and a minimal envelope decoder.
//!
//! The full path (c) is the client's own: `rpc::decode_string` (memchr-located `<string>`,
//! unescaped in one pass into a new `String`) then the typed decoder. A variant,
//! [`decode_envelope_in_place`], unescapes inside the body buffer instead (the escaped
//! form is never shorter), to show what the second copy costs in time and memory.

use std::path::PathBuf;
use std::process::Command;

use nebulair_opennebula::model::VmPool;
use nebulair_opennebula::{Error, Result};

/// Number of VMs in the benchmark pool (about 41.5 MB of XML).
pub(crate) const VMS: usize = 10_000;

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("nebulair-bench")
}

/// The pool document, generated once by `benches/gen_vmpool.py` into the target folder.
pub(crate) fn pool_xml() -> String {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).expect("creating the bench data folder");
    let path = dir.join(format!("vmpool-{VMS}.xml"));
    if !path.exists() {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/gen_vmpool.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(VMS.to_string())
            .arg(&path)
            .status()
            .expect("running python3 benches/gen_vmpool.py");
        assert!(status.success(), "gen_vmpool.py failed");
    }
    std::fs::read_to_string(&path).expect("reading the generated pool")
}

/// The HTTP body oned sends for `one.vmpool.info`: `[true, document, 0]`, the document
/// escaped as oned escapes it (`<`, `>`, `&`; quotes left alone).
pub(crate) fn envelope(doc: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.len() + doc.len() / 8 + 256);
    out.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n<param>\
          <value><array><data>\r\n<value><boolean>1</boolean></value>\r\n<value><string>",
    );
    for &b in doc.as_bytes() {
        match b {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            _ => out.push(b),
        }
    }
    out.extend_from_slice(
        b"</string></value>\r\n<value><i4>0</i4></value>\r\n</data></array></value></param>\
          \r\n</params>\r\n</methodResponse>\r\n",
    );
    out
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|i| i + from)
}

/// Full path (c): response bytes -> `VmPool` through the client's XML-RPC decoder.
pub(crate) fn decode_envelope(body: Vec<u8>) -> Result<VmPool> {
    let doc = nebulair_opennebula::rpc::decode_string(&body, "one.vmpool.info")?;
    drop(body);
    doc.parse()
}

/// Variant of (c): checks the success flag, unescapes the document `<string>` in place
/// inside the body buffer and decodes it (no second document-sized buffer).
pub(crate) fn decode_envelope_in_place(mut body: Vec<u8>) -> Result<VmPool> {
    let bad = |m: &str| Error::protocol(format!("bad XML-RPC response: {m}"));
    let ok = find(&body, b"<boolean>", 0).ok_or_else(|| bad("no status"))?;
    if body.get(ok + 9) != Some(&b'1') {
        return Err(bad("call failed"));
    }
    let start = find(&body, b"<string>", ok).ok_or_else(|| bad("no document"))? + 8;
    let end = find(&body, b"</string>", start).ok_or_else(|| bad("unterminated string"))?;
    // In-place unescape: the write cursor never passes the read cursor.
    let mut w = start;
    let mut r = start;
    while r < end {
        match memchr::memchr(b'&', &body[r..end]) {
            None => {
                body.copy_within(r..end, w);
                w += end - r;
                r = end;
            }
            Some(i) => {
                body.copy_within(r..r + i, w);
                w += i;
                r += i;
                let semi = memchr::memchr(b';', &body[r..end.min(r + 12)])
                    .ok_or_else(|| bad("unterminated entity"))?;
                let ch = match &body[r + 1..r + semi] {
                    b"lt" => b'<',
                    b"gt" => b'>',
                    b"amp" => b'&',
                    b"quot" => b'"',
                    b"apos" => b'\'',
                    _ => return Err(bad("unsupported entity")),
                };
                body[w] = ch;
                w += 1;
                r += semi + 1;
            }
        }
    }
    let doc = std::str::from_utf8(&body[start..w]).map_err(|_| bad("document is not UTF-8"))?;
    doc.parse()
}
