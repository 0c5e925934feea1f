//! Uploads into and downloads from a catalog: ISO/floppy media, OVF packages (a
//! descriptor and its files) and OVAs (a tar of them, read as a stream and never held
//! whole in memory).
//!
//! An upload creates the catalog item, reads the `upload:default` (else
//! `upload:alternate`) link of each file from the entity's `Files`, and `PUT`s the file in
//! chunks of [`TransferOptions::chunk_size`] bytes (default 50 MiB) with
//! `Content-Range: bytes {first}-{last}/{size}`. A chunk that fails (a transport error, a
//! 5xx, a 416) is retried after reading the server's `bytesTransferred` for the file, so
//! only what the server lacks is sent again; running the same upload again after an
//! interruption continues the unfinished item from `bytesTransferred` instead of starting
//! over. When the package has a manifest (`.mf`: `SHA256(disk.vmdk)= <hex>`, also SHA1
//! and SHA512), each file is hashed while it is read, and the last chunk of a file whose
//! digest does not match is never sent: the upload stops with
//! [`TransferError::DigestMismatch`] before vCD has the file, and the unfinished item is
//! deleted. Then the import task is awaited. Memory stays flat: one chunk at a time.
//!
//! ```
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::session::VcdSession;
//! use nebulair_vcloud::workload::TransferOptions;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .build()?;
//! session.login().await?;
//! let client = session.client()?;
//! let dir = tempfile::tempdir()?;
//! let iso = dir.path().join("tools.iso");
//! std::fs::write(&iso, vec![7u8; 300_000])?;
//!
//! let catalog = client.catalog("Public");
//! let opts = TransferOptions::default().chunk_size(64 * 1024);
//! let report = catalog.upload_media(&iso, &opts).await?;
//! assert_eq!(report.bytes, 300_000);
//! assert_eq!(report.chunks, 5);
//! let media = catalog.media("tools.iso");
//! assert!(media.is_ready().await?);
//!
//! let back = dir.path().join("back.iso");
//! assert_eq!(media.download(&back, &opts).await?, 300_000);
//! assert_eq!(std::fs::read(&back)?, std::fs::read(&iso)?);
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("upload");
//! ```

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nebulair_core::{Error, ErrorKind, Result};
use sha1::Digest as _;

use super::catalog::{CatalogHandle, CatalogItemHandle, VAppTemplateHandle};
use super::media::MediaHandle;
use super::ops::Workloads;
use crate::Task;
use crate::client::ApiRequest;
use crate::model::vcd::media as mt;
use crate::model::xml::XmlElement;

const NS: &str = "http://www.vmware.com/vcloud/v1.5";
/// Media type of an `UploadVAppTemplateParams` document.
pub const MT_UPLOAD_VAPP_TEMPLATE_PARAMS: &str =
    "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml";
/// The default chunk size: 50 MiB.
pub const DEFAULT_CHUNK_SIZE: u64 = 50 * 1024 * 1024;
/// The largest OVF descriptor or manifest read into memory.
const MAX_DESCRIPTOR: u64 = 16 * 1024 * 1024;
/// The name vCD gives the descriptor of a template upload.
const DESCRIPTOR: &str = "descriptor.ovf";

/// What went wrong in a transfer before or instead of a server error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The file is not a tar archive (an OVA must be one).
    #[error("{path} is not an OVA: {reason}")]
    NotATar {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The package has no OVF descriptor (an OVA must start with one).
    #[error("no OVF descriptor: {0}")]
    NoDescriptor(String),
    /// The descriptor is not an OVF envelope or is malformed.
    #[error("invalid OVF descriptor: {0}")]
    InvalidDescriptor(String),
    /// A file the descriptor references is missing from the package.
    #[error("the package lacks {0:?}, which the OVF descriptor references")]
    MissingFile(String),
    /// A file's size differs from the one the descriptor (or the server) gives.
    #[error("{file:?} has {actual} bytes, {expected} expected")]
    SizeMismatch {
        /// The file.
        file: String,
        /// The size expected.
        expected: u64,
        /// The size found.
        actual: u64,
    },
    /// A file's digest differs from the manifest's: the file was not (fully) uploaded.
    #[error("{file:?}: {algorithm} digest {actual} does not match the manifest's {expected}")]
    DigestMismatch {
        /// The file.
        file: String,
        /// `SHA1`, `SHA256` or `SHA512`.
        algorithm: String,
        /// The manifest's digest.
        expected: String,
        /// The digest of the file read.
        actual: String,
    },
    /// The manifest is malformed or uses an unknown algorithm.
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    /// The server gave no upload (or download) link for a file.
    #[error("the server offers no {link} link for {file:?}")]
    NoLink {
        /// The file.
        file: String,
        /// `upload:default` / `download:default`.
        link: String,
    },
    /// A value the caller gave is out of range.
    #[error("invalid {what}: {reason}")]
    InvalidValue {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A local file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
}

impl TransferError {
    /// The transfer error inside a core error, when there is one.
    pub fn of(err: &Error) -> Option<&TransferError> {
        std::error::Error::source(err).and_then(|s| s.downcast_ref::<TransferError>())
    }

    fn io(path: &Path, e: &std::io::Error) -> TransferError {
        TransferError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}

impl From<TransferError> for Error {
    fn from(e: TransferError) -> Self {
        let kind = match e {
            TransferError::NoLink { .. } => ErrorKind::Protocol,
            TransferError::Io { .. } => ErrorKind::Transport,
            _ => ErrorKind::InvalidInput,
        };
        Error::with_source(kind, e.to_string(), e)
    }
}

/// Where a transfer is, given to [`TransferOptions::on_progress`] after every chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferProgress {
    /// The file being transferred.
    pub file: String,
    /// Bytes of that file transferred (or already on the server).
    pub file_bytes: u64,
    /// Its size.
    pub file_size: u64,
    /// Bytes of every file transferred.
    pub bytes: u64,
    /// The size of every file (the descriptor included).
    pub total_bytes: u64,
    /// Files complete.
    pub files_done: usize,
    /// Files in all.
    pub files_total: usize,
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&TransferProgress) + Send + Sync>;

/// Settings of an upload or download.
#[derive(Clone)]
pub struct TransferOptions {
    chunk_size: u64,
    chunk_retries: u32,
    retry_backoff: Duration,
    item_name: Option<String>,
    description: String,
    verify_manifest: bool,
    resume: bool,
    cleanup_on_failure: bool,
    wait_import: bool,
    poll_interval: Duration,
    descriptor_timeout: Duration,
    chunk_timeout: Duration,
    progress: Option<ProgressFn>,
}

impl fmt::Debug for TransferOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferOptions")
            .field("chunk_size", &self.chunk_size)
            .field("chunk_retries", &self.chunk_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("item_name", &self.item_name)
            .field("verify_manifest", &self.verify_manifest)
            .field("resume", &self.resume)
            .field("cleanup_on_failure", &self.cleanup_on_failure)
            .field("wait_import", &self.wait_import)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for TransferOptions {
    /// 50 MiB chunks, each retried 5 times (backoff from 500 ms), manifests checked,
    /// unfinished items of the same name resumed, an item whose upload fails for good
    /// deleted, the import task awaited, 10 minutes per chunk.
    fn default() -> Self {
        TransferOptions {
            chunk_size: DEFAULT_CHUNK_SIZE,
            chunk_retries: 5,
            retry_backoff: Duration::from_millis(500),
            item_name: None,
            description: String::new(),
            verify_manifest: true,
            resume: true,
            cleanup_on_failure: true,
            wait_import: true,
            poll_interval: Duration::from_millis(200),
            descriptor_timeout: Duration::from_secs(600),
            chunk_timeout: Duration::from_secs(600),
            progress: None,
        }
    }
}

impl TransferOptions {
    /// Bytes per `PUT` (or ranged `GET`); at least 1.
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// How often a failed chunk is retried (after re-reading `bytesTransferred`).
    pub fn chunk_retries(mut self, n: u32) -> Self {
        self.chunk_retries = n;
        self
    }

    /// The first backoff between retries of a chunk (doubled each time, at most 30 s).
    pub fn retry_backoff(mut self, d: Duration) -> Self {
        self.retry_backoff = d;
        self
    }

    /// The catalog item's name (default: the file name for media, its stem for OVF/OVA).
    pub fn item_name(mut self, name: impl Into<String>) -> Self {
        self.item_name = Some(name.into());
        self
    }

    /// The item's description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Whether manifest digests are checked (default true).
    pub fn verify_manifest(mut self, on: bool) -> Self {
        self.verify_manifest = on;
        self
    }

    /// Whether an unfinished item of the same name is continued (default true) instead
    /// of a new one being created (which vCD refuses as a duplicate name).
    pub fn resume(mut self, on: bool) -> Self {
        self.resume = on;
        self
    }

    /// Whether an item whose upload fails for good (a digest mismatch, a bad package) is
    /// deleted (default true). Transport failures that outlast the retries keep the item,
    /// so the upload can be resumed.
    pub fn cleanup_on_failure(mut self, on: bool) -> Self {
        self.cleanup_on_failure = on;
        self
    }

    /// Whether the import task is awaited (default true).
    pub fn wait_import(mut self, on: bool) -> Self {
        self.wait_import = on;
        self
    }

    /// How often the entity is polled while vCD parses the descriptor.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    /// How long one chunk `PUT` (or ranged `GET`) may take (default 10 minutes, instead
    /// of the client's request timeout); one that takes longer is retried from
    /// `bytesTransferred`.
    pub fn chunk_timeout(mut self, d: Duration) -> Self {
        self.chunk_timeout = d;
        self
    }

    /// A callback run after every chunk.
    pub fn on_progress(mut self, f: impl Fn(&TransferProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The chunk size.
    pub fn get_chunk_size(&self) -> u64 {
        self.chunk_size
    }
}

/// What an upload did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadReport {
    /// The catalog item.
    pub item: CatalogItemHandle,
    /// The entity's href (the media or vApp template).
    pub entity_href: String,
    /// Bytes this run delivered to the server (what it already had is not counted;
    /// what a failed attempt delivered is).
    pub bytes: u64,
    /// Bytes the server already had when this run started (a resumed upload).
    pub resumed_bytes: u64,
    /// Files uploaded (the descriptor included).
    pub files: usize,
    /// Chunk `PUT`s that succeeded.
    pub chunks: u64,
    /// Chunk `PUT`s that failed and were retried.
    pub retries: u64,
    /// The import task, once finished (when awaited and still listed).
    pub task: Option<Task>,
}

impl UploadReport {
    /// The uploaded vApp template (for an OVF/OVA upload).
    pub fn template(&self) -> VAppTemplateHandle {
        VAppTemplateHandle::known(
            self.item.workloads().clone(),
            self.entity_href.clone(),
            self.item.name(),
        )
    }

    /// The uploaded media (for a media upload).
    pub fn media(&self) -> MediaHandle {
        MediaHandle::known(
            self.item.workloads().clone(),
            self.entity_href.clone(),
            self.item.name(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Reading local files and streams without blocking the runtime

/// A reader used from async code: each read runs on the blocking pool.
struct BlockingReader {
    inner: Option<Box<dyn Read + Send>>,
    what: PathBuf,
}

impl BlockingReader {
    fn open(path: &Path) -> std::result::Result<Self, TransferError> {
        let f = std::fs::File::open(path).map_err(|e| TransferError::io(path, &e))?;
        Ok(BlockingReader {
            inner: Some(Box::new(f)),
            what: path.to_owned(),
        })
    }

    fn from_reader(reader: Box<dyn Read + Send>, what: &str) -> Self {
        BlockingReader {
            inner: Some(reader),
            what: PathBuf::from(what),
        }
    }

    /// Reads up to `n` bytes: fewer only at the end of the stream.
    async fn read_up_to(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut r = self
            .inner
            .take()
            .ok_or_else(|| Error::protocol("a reader was used after a failure"))?;
        let (r, res) = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; n];
            let mut got = 0;
            let res = loop {
                if got == n {
                    break Ok(());
                }
                match r.read(&mut buf[got..]) {
                    Ok(0) => break Ok(()),
                    Ok(k) => got += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            buf.truncate(got);
            (r, res.map(|()| buf))
        })
        .await
        .map_err(|e| Error::new(ErrorKind::Transport, format!("reader thread: {e}")))?;
        self.inner = Some(r);
        res.map_err(|e| TransferError::io(&self.what, &e).into())
    }
}

/// A writer used from async code.
struct BlockingWriter {
    inner: Option<std::fs::File>,
    what: PathBuf,
}

impl BlockingWriter {
    fn create(path: &Path) -> std::result::Result<Self, TransferError> {
        let f = std::fs::File::create(path).map_err(|e| TransferError::io(path, &e))?;
        Ok(BlockingWriter {
            inner: Some(f),
            what: path.to_owned(),
        })
    }

    async fn write_all(&mut self, data: Bytes) -> Result<()> {
        let mut f = self
            .inner
            .take()
            .ok_or_else(|| Error::protocol("a writer was used after a failure"))?;
        let (f, res) = tokio::task::spawn_blocking(move || {
            let res = f.write_all(&data);
            (f, res)
        })
        .await
        .map_err(|e| Error::new(ErrorKind::Transport, format!("writer thread: {e}")))?;
        self.inner = Some(f);
        res.map_err(|e| TransferError::io(&self.what, &e).into())
    }

    async fn finish(mut self) -> Result<()> {
        if let Some(f) = self.inner.take() {
            let what = self.what.clone();
            tokio::task::spawn_blocking(move || f.sync_all())
                .await
                .map_err(|e| Error::new(ErrorKind::Transport, format!("writer thread: {e}")))?
                .map_err(|e| Error::from(TransferError::io(&what, &e)))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Tar (OVA) reading and writing

/// One entry of a tar stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TarEntry {
    name: String,
    size: u64,
    regular: bool,
}

/// A tar archive read as a stream: headers and data in order, nothing kept.
struct TarReader {
    src: BlockingReader,
    /// Data bytes of the current entry not read yet.
    remaining: u64,
    /// Padding after the current entry.
    pad: u64,
    headers: u64,
}

fn octal(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // GNU base-256: big-endian, the first byte's high bit cleared.
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(*b))?;
        }
        return Some(v);
    }
    let s: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Checks a 512-byte header block: its checksum and fields.
fn parse_header(h: &[u8]) -> std::result::Result<(String, u64, u8), String> {
    let stored = octal(&h[148..156]).ok_or("the header checksum is not a number")?;
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(*b)
            }
        })
        .sum();
    if sum != stored {
        return Err("the header checksum does not match".into());
    }
    let size = octal(&h[124..136]).ok_or("the entry size is not a number")?;
    let mut name = cstr(&h[0..100]);
    // POSIX ustar keeps a path prefix at 345; GNU tar ("ustar  ") uses those bytes for
    // other fields.
    if &h[257..263] == b"ustar\0" {
        let prefix = cstr(&h[345..500]);
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
    }
    Ok((name, size, h[156]))
}

impl TarReader {
    fn new(src: BlockingReader) -> Self {
        TarReader {
            src,
            remaining: 0,
            pad: 0,
            headers: 0,
        }
    }

    fn not_tar(&self, reason: impl Into<String>) -> Error {
        TransferError::NotATar {
            path: self.src.what.display().to_string(),
            reason: reason.into(),
        }
        .into()
    }

    async fn skip(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let step = n.min(1 << 20) as usize;
            let got = self.src.read_up_to(step).await?;
            if got.len() < step {
                return Err(self.not_tar("the archive is truncated"));
            }
            n -= step as u64;
        }
        Ok(())
    }

    /// The next regular file (directories skipped; pax and GNU long-name headers applied).
    async fn next_entry(&mut self) -> Result<Option<TarEntry>> {
        let (rest, pad) = (self.remaining, self.pad);
        self.skip(rest + pad).await?;
        self.remaining = 0;
        self.pad = 0;
        let mut long_name: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            let h = self.src.read_up_to(512).await?;
            if h.is_empty() && self.headers > 0 {
                return Ok(None);
            }
            if h.len() < 512 {
                return Err(self.not_tar(if self.headers == 0 {
                    "it is shorter than one tar header"
                } else {
                    "the archive is truncated"
                }));
            }
            if h.iter().all(|b| *b == 0) {
                if self.headers == 0 {
                    return Err(self.not_tar("it starts with an empty block"));
                }
                return Ok(None);
            }
            let (name, size, flag) = match parse_header(&h) {
                Ok(v) => v,
                Err(reason) => {
                    return Err(if self.headers == 0 {
                        self.not_tar(reason)
                    } else {
                        self.not_tar(format!("header {}: {reason}", self.headers + 1))
                    });
                }
            };
            self.headers += 1;
            let padding = (512 - size % 512) % 512;
            match flag {
                b'x' | b'L' | b'g' => {
                    if size > MAX_DESCRIPTOR {
                        return Err(self.not_tar("an extended header is too large"));
                    }
                    let data = self.src.read_up_to(size as usize).await?;
                    if (data.len() as u64) < size {
                        return Err(self.not_tar("the archive is truncated"));
                    }
                    self.skip(padding).await?;
                    if flag == b'L' {
                        long_name = Some(cstr(&data));
                    } else if flag == b'x' {
                        for (k, v) in pax_records(&data) {
                            match k.as_str() {
                                "path" => long_name = Some(v),
                                "size" => pax_size = v.parse().ok(),
                                _ => {}
                            }
                        }
                    }
                }
                b'0' | 0 | b'7' => {
                    let size = pax_size.take().unwrap_or(size);
                    let padding = (512 - size % 512) % 512;
                    let name = long_name.take().unwrap_or(name);
                    self.remaining = size;
                    self.pad = padding;
                    return Ok(Some(TarEntry {
                        name: name.trim_start_matches("./").to_owned(),
                        size,
                        regular: true,
                    }));
                }
                _ => {
                    // Directories, links and other special entries carry no file data
                    // for vCD; their data (if any) is skipped.
                    let size = pax_size.take().unwrap_or(size);
                    long_name = None;
                    self.skip(size + (512 - size % 512) % 512).await?;
                }
            }
        }
    }

    /// Reads up to `n` bytes of the current entry.
    async fn read(&mut self, n: u64) -> Result<Bytes> {
        let want = n.min(self.remaining) as usize;
        if want == 0 {
            return Ok(Bytes::new());
        }
        let data = self.src.read_up_to(want).await?;
        if data.len() < want {
            return Err(self.not_tar("the archive is truncated inside a file"));
        }
        self.remaining -= want as u64;
        Ok(Bytes::from(data))
    }
}

fn pax_records(data: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some((len, _)) = rest.split_once(' ') {
        let Ok(n) = len.parse::<usize>() else { break };
        if n == 0 || n > rest.len() {
            break;
        }
        let record = &rest[..n];
        rest = &rest[n..];
        let body = record
            .split_once(' ')
            .map(|(_, b)| b.trim_end_matches('\n'))
            .unwrap_or("");
        if let Some((k, v)) = body.split_once('=') {
            out.push((k.to_owned(), v.to_owned()));
        }
    }
    out
}

/// A ustar header for a regular file (names up to 100 bytes, GNU base-256 sizes past
/// 8 GiB).
fn tar_header(name: &str, size: u64) -> std::result::Result<[u8; 512], TransferError> {
    let mut h = [0u8; 512];
    if name.len() > 100 || name.is_empty() {
        return Err(TransferError::InvalidValue {
            what: "file name",
            reason: format!("{name:?} does not fit a tar header (1 to 100 bytes)"),
        });
    }
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 0o77_777_777_777 {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    h[136..148].copy_from_slice(format!("{:011o}\0", mtime & 0o77_777_777_777).as_bytes());
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

// ---------------------------------------------------------------------------------------------
// Manifests and digests

/// A digest being computed.
enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn new(algorithm: &str) -> Option<Hasher> {
        Some(match algorithm.to_ascii_uppercase().as_str() {
            "SHA1" => Hasher::Sha1(sha1::Sha1::new()),
            "SHA256" => Hasher::Sha256(sha2::Sha256::new()),
            "SHA512" => Hasher::Sha512(sha2::Sha512::new()),
            _ => return None,
        })
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    fn hex(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// One line of a manifest: `ALGORITHM(file)= hex`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ManifestEntry {
    algorithm: String,
    file: String,
    digest: String,
}

fn parse_manifest(text: &str) -> std::result::Result<Vec<ManifestEntry>, TransferError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || TransferError::InvalidManifest(format!("line {}: {line:?}", i + 1));
        let (left, digest) = line.split_once('=').ok_or_else(bad)?;
        let (alg, file) = left.trim().split_once('(').ok_or_else(bad)?;
        let file = file.strip_suffix(')').ok_or_else(bad)?;
        let digest = digest.trim().to_ascii_lowercase();
        if Hasher::new(alg.trim()).is_none() {
            return Err(TransferError::InvalidManifest(format!(
                "line {}: unknown digest algorithm {:?}",
                i + 1,
                alg.trim()
            )));
        }
        if digest.is_empty() || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        out.push(ManifestEntry {
            algorithm: alg.trim().to_ascii_uppercase(),
            file: file.to_owned(),
            digest,
        });
    }
    Ok(out)
}

fn check_digest(entry: &ManifestEntry, data: &[u8]) -> std::result::Result<(), TransferError> {
    let mut h = Hasher::new(&entry.algorithm)
        .ok_or_else(|| TransferError::InvalidManifest(entry.algorithm.clone()))?;
    h.update(data);
    compare(entry, h.hex())
}

fn compare(entry: &ManifestEntry, actual: String) -> std::result::Result<(), TransferError> {
    if actual == entry.digest {
        Ok(())
    } else {
        Err(TransferError::DigestMismatch {
            file: entry.file.clone(),
            algorithm: entry.algorithm.clone(),
            expected: entry.digest.clone(),
            actual,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// OVF descriptors (the client's view: the files to send)

/// A file the descriptor references.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OvfFile {
    href: String,
    size: Option<u64>,
    /// `ovf:chunkSize`: the file is split into `href.000000000`, `href.000000001`...
    chunk_size: Option<u64>,
}

fn descriptor_files(text: &str) -> std::result::Result<Vec<OvfFile>, TransferError> {
    let root = XmlElement::parse(text)
        .map_err(|e| TransferError::InvalidDescriptor(format!("not XML: {e}")))?;
    if root.name() != "Envelope" {
        return Err(TransferError::InvalidDescriptor(format!(
            "the root element is {}, not an OVF Envelope",
            root.name()
        )));
    }
    let mut out = Vec::new();
    if let Some(refs) = root.child("References") {
        for f in refs.children_named("File") {
            let href = f
                .attr("href")
                .ok_or_else(|| TransferError::InvalidDescriptor("a File has no href".into()))?;
            if href.contains("..") || href.starts_with('/') || href.contains("://") {
                return Err(TransferError::InvalidDescriptor(format!(
                    "the file reference {href:?} is not a local file name"
                )));
            }
            let num = |n: &str| -> std::result::Result<Option<u64>, TransferError> {
                f.attr(n)
                    .map(|v| {
                        v.trim().parse::<u64>().map_err(|_| {
                            TransferError::InvalidDescriptor(format!("{href}: {n} {v:?}"))
                        })
                    })
                    .transpose()
            };
            out.push(OvfFile {
                href: href.to_owned(),
                size: num("size")?,
                chunk_size: num("chunkSize")?,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The server side of an upload: the entity's Files

/// A file of the entity's `Files`, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServerFile {
    name: String,
    size: Option<u64>,
    transferred: u64,
    upload: Option<String>,
    download: Option<String>,
}

fn server_files(entity: &XmlElement) -> Vec<ServerFile> {
    let Some(files) = entity.child("Files") else {
        return Vec::new();
    };
    files
        .children_named("File")
        .map(|f| {
            let link = |rel: &str| {
                f.children_named("Link")
                    .find(|l| l.attr("rel") == Some(rel))
                    .and_then(|l| l.attr("href"))
                    .map(str::to_owned)
            };
            ServerFile {
                name: f.attr("name").unwrap_or_default().to_owned(),
                size: f
                    .attr("size")
                    .and_then(|s| s.parse::<i64>().ok())
                    .and_then(|s| u64::try_from(s).ok()),
                transferred: f
                    .attr("bytesTransferred")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                upload: link("upload:default").or_else(|| link("upload:alternate")),
                download: link("download:default").or_else(|| link("download:alternate")),
            }
        })
        .collect()
}

fn entity_task(entity: &XmlElement) -> Option<Task> {
    entity
        .child("Tasks")?
        .children_named("Task")
        .filter_map(|t| Task::from_element(t).ok())
        .find(|t| !t.status.is_terminal())
}

/// Sends one file in chunks, resuming from the server's `bytesTransferred`.
struct Uploader {
    ws: Workloads,
    opts: TransferOptions,
    entity_href: String,
    report_bytes: u64,
    resumed: u64,
    chunks: u64,
    retries: u64,
    done_bytes: u64,
    total_bytes: u64,
    files_done: usize,
    files_total: usize,
}

/// Where the bytes of a file come from.
enum Source<'a> {
    File(&'a mut BlockingReader),
    Tar(&'a mut TarReader),
}

impl Source<'_> {
    async fn read(&mut self, n: u64) -> Result<Bytes> {
        match self {
            Source::File(r) => Ok(Bytes::from(r.read_up_to(n as usize).await?)),
            Source::Tar(t) => t.read(n).await,
        }
    }
}

impl Uploader {
    async fn entity(&self) -> Result<XmlElement> {
        self.ws.client.get_xml(&self.entity_href).await
    }

    async fn server_file(&self, name: &str) -> Result<Option<ServerFile>> {
        Ok(server_files(&self.entity().await?)
            .into_iter()
            .find(|f| f.name == name))
    }

    fn progress(&self, file: &str, file_bytes: u64, file_size: u64) {
        if let Some(p) = &self.opts.progress {
            p(&TransferProgress {
                file: file.to_owned(),
                file_bytes,
                file_size,
                bytes: self.done_bytes,
                total_bytes: self.total_bytes,
                files_done: self.files_done,
                files_total: self.files_total,
            });
        }
    }

    /// Sends `size` bytes from `src` (read at its current position, which is the file's
    /// `base` offset) as the server file `name`, starting where the server is.
    /// `part` is (offset of this part in the whole file, the whole file's size) for
    /// multi-part OVF files. The digest, when a manifest entry is given, is checked
    /// before the last chunk of the whole file is sent.
    #[allow(clippy::too_many_arguments)]
    async fn send_file(
        &mut self,
        name: &str,
        src: &mut Source<'_>,
        part_offset: u64,
        part_size: u64,
        whole_size: u64,
        hasher: &mut Option<(ManifestEntry, Hasher)>,
    ) -> Result<()> {
        let Some(sf) = self.server_file(name).await? else {
            // Listed no more: the server has the whole file (an earlier run finished it).
            self.skip_part(src, part_size, hasher).await?;
            self.done_bytes += part_size;
            return Ok(());
        };
        let href = sf.upload.clone().ok_or_else(|| TransferError::NoLink {
            file: name.to_owned(),
            link: "upload:default".into(),
        })?;
        if let Some(s) = sf.size
            && s != whole_size
        {
            return Err(TransferError::SizeMismatch {
                file: name.to_owned(),
                expected: s,
                actual: whole_size,
            }
            .into());
        }
        let part_end = part_offset + part_size;
        let mut pos = part_offset;
        // What the server already has of this part is read (for the digest) and skipped.
        let have = sf.transferred.clamp(part_offset, part_end);
        if have > part_offset {
            let skip = have - part_offset;
            self.skip_part(src, skip, hasher).await?;
            self.resumed += skip;
            self.done_bytes += skip;
            pos = have;
            tracing::debug!(
                file = name,
                bytes = skip,
                "resuming after the bytes the server has"
            );
        }
        while pos < part_end {
            let want = self.opts.chunk_size.min(part_end - pos);
            let data = src.read(want).await?;
            if (data.len() as u64) < want {
                return Err(TransferError::SizeMismatch {
                    file: name.to_owned(),
                    expected: whole_size,
                    actual: pos + data.len() as u64,
                }
                .into());
            }
            if let Some((_, h)) = hasher.as_mut() {
                h.update(&data);
            }
            let chunk_end = pos + want;
            if chunk_end == whole_size
                && let Some((entry, h)) = hasher.take_if(|(e, _)| !e.digest.is_empty())
            {
                compare(&entry, h.hex())?;
            }
            self.put_chunk(name, &href, pos, data, whole_size).await?;
            self.done_bytes += want;
            pos = chunk_end;
            self.progress(name, pos, whole_size);
        }
        Ok(())
    }

    async fn skip_part(
        &mut self,
        src: &mut Source<'_>,
        mut n: u64,
        hasher: &mut Option<(ManifestEntry, Hasher)>,
    ) -> Result<()> {
        while n > 0 {
            let step = n.min(self.opts.chunk_size.min(8 << 20));
            let data = src.read(step).await?;
            if (data.len() as u64) < step {
                return Err(Error::protocol(
                    "the local file is shorter than the server's part",
                ));
            }
            if let Some((_, h)) = hasher.as_mut() {
                h.update(&data);
            }
            n -= step;
        }
        Ok(())
    }

    /// `PUT`s one chunk starting at `start`, retrying from the server's `bytesTransferred`.
    async fn put_chunk(
        &mut self,
        name: &str,
        href: &str,
        start: u64,
        data: Bytes,
        size: u64,
    ) -> Result<()> {
        let end = start + data.len() as u64;
        let mut from = start;
        let mut backoff = self.opts.retry_backoff;
        let mut attempt = 0u32;
        loop {
            let body = data.slice((from - start) as usize..);
            let range = format!("bytes {from}-{}/{size}", end - 1);
            let req = ApiRequest::put(href.to_owned())
                .body("application/octet-stream", body.clone())
                .header("Content-Range", range.clone())
                .timeout(self.opts.chunk_timeout);
            match self.ws.client.send(req).await {
                Ok(_) => {
                    self.chunks += 1;
                    self.report_bytes += body.len() as u64;
                    return Ok(());
                }
                Err(e) => {
                    let retryable = e.is_retryable()
                        || matches!(
                            e.kind(),
                            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Server
                        )
                        || e.http_status() == Some(416);
                    if !retryable || attempt >= self.opts.chunk_retries {
                        return Err(e.context(format!(
                            "uploading {name:?} ({range}) after {} attempt(s)",
                            attempt + 1
                        )));
                    }
                    attempt += 1;
                    self.retries += 1;
                    tracing::warn!(file = name, %range, error = %e, attempt, "chunk failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    match self.server_file(name).await {
                        Ok(Some(sf)) => {
                            // What the failed attempt delivered counts as sent.
                            self.report_bytes += sf.transferred.clamp(from, end) - from;
                            if sf.transferred >= end {
                                self.chunks += 1;
                                return Ok(());
                            }
                            if sf.transferred < start {
                                return Err(Error::protocol(format!(
                                    "{name:?}: the server has {} bytes, less than the {start} it had confirmed",
                                    sf.transferred
                                )));
                            }
                            from = sf.transferred;
                        }
                        // The file is no longer listed: the server has all of it.
                        Ok(None) => {
                            self.report_bytes += end - from;
                            self.chunks += 1;
                            return Ok(());
                        }
                        // Reading the entity failed too: retry the same range.
                        Err(re) => {
                            tracing::debug!(error = %re, "re-reading bytesTransferred failed")
                        }
                    }
                }
            }
        }
    }

    /// Waits until vCD has parsed the descriptor (the entity lists more than it).
    async fn wait_descriptor(&self) -> Result<Vec<ServerFile>> {
        let start = Instant::now();
        loop {
            let el = self.entity().await?;
            let files = server_files(&el);
            let parsed = el.attr("ovfDescriptorUploaded") == Some("true");
            if parsed || files.iter().any(|f| f.name != DESCRIPTOR) {
                return Ok(files);
            }
            if let Some(t) = entity_task(&el).filter(|t| t.status.is_terminal()) {
                return Err(Error::protocol(format!(
                    "the import task ended ({}) before the descriptor was parsed",
                    t.status
                )));
            }
            if start.elapsed() > self.opts.descriptor_timeout {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "vCD did not parse the OVF descriptor in time",
                ));
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }

    async fn finish(&self, task: Option<Task>) -> Result<Option<Task>> {
        if !self.opts.wait_import {
            return Ok(task);
        }
        let task = match task {
            Some(t) => Some(t),
            None => entity_task(&self.entity().await?),
        };
        match task {
            Some(t) => Ok(Some(self.ws.waiter().wait(&t).await?)),
            None => Ok(None),
        }
    }
}

fn file_name_of(path: &Path) -> std::result::Result<String, TransferError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| TransferError::InvalidValue {
            what: "path",
            reason: format!("{} has no file name", path.display()),
        })
}

fn stem_of(path: &Path) -> std::result::Result<String, TransferError> {
    path.file_stem()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| TransferError::InvalidValue {
            what: "path",
            reason: format!("{} has no file name", path.display()),
        })
}

/// The image type of a media file by its extension: `iso`, or `floppy` for `.flp`,
/// `.img`, `.vfd`.
pub fn media_image_type(path: &Path) -> std::result::Result<&'static str, TransferError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "iso" => Ok("iso"),
        "flp" | "img" | "vfd" => Ok("floppy"),
        other => Err(TransferError::InvalidValue {
            what: "media file",
            reason: format!(
                "{}: extension {other:?} is neither an ISO (.iso) nor a floppy image (.flp, .img, .vfd)",
                path.display()
            ),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Uploads

/// The item of this name in the catalog whose entity still has files to upload.
async fn unfinished_item(
    catalog: &CatalogHandle,
    name: &str,
    entity_type: &str,
) -> Result<Option<(CatalogItemHandle, String)>> {
    for item in catalog.items().await? {
        if item.name().as_deref() != Some(name) {
            continue;
        }
        let doc = item.get().await?;
        let Some(e) = doc.entity.as_deref() else {
            continue;
        };
        if !e.type_.as_deref().is_some_and(|t| mt::same(t, entity_type)) {
            continue;
        }
        let Some(href) = e.href.clone() else { continue };
        let el = catalog.workloads().client.get_xml(&href).await?;
        if server_files(&el).iter().any(|f| f.upload.is_some()) {
            return Ok(Some((item, href)));
        }
    }
    Ok(None)
}

/// Creates a catalog item by `POST .../action/upload`.
async fn create_item(
    catalog: &CatalogHandle,
    content_type: &str,
    body: String,
) -> Result<(CatalogItemHandle, String)> {
    let href = catalog.href().await?;
    let el = catalog.workloads().client.get_xml(&href).await?;
    let target = el
        .children_named("Link")
        .find(|l| {
            l.attr("rel") == Some("add")
                && l.attr("type").is_some_and(|t| mt::same(t, content_type))
        })
        .and_then(|l| l.attr("href"))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}/action/upload", href.trim_end_matches('/')));
    let resp = catalog
        .workloads()
        .submit(ApiRequest::post(target).body(content_type, body))
        .await?;
    let root = resp.xml()?;
    let entity = root
        .child("Entity")
        .and_then(|e| e.attr("href"))
        .ok_or_else(|| Error::protocol("the new CatalogItem has no Entity href"))?
        .to_owned();
    let item_href = root
        .attr("href")
        .ok_or_else(|| Error::protocol("the new CatalogItem has no href"))?
        .to_owned();
    let name = root.attr("name").unwrap_or_default().to_owned();
    Ok((
        CatalogItemHandle::known(
            catalog.workloads().clone(),
            item_href,
            name,
            catalog.clone(),
        ),
        entity,
    ))
}

async fn cleanup(opts: &TransferOptions, item: &CatalogItemHandle, err: &Error) {
    let permanent = TransferError::of(err).is_some()
        || matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Protocol);
    if opts.cleanup_on_failure
        && permanent
        && let Err(e) = item.delete().await
    {
        tracing::warn!(error = %e, "could not delete the unfinished catalog item");
    }
}

impl CatalogHandle {
    /// Uploads an ISO or floppy image as a media item (`POST action/upload` with a
    /// `Media`, then chunked `PUT`s of the file), and waits for the import.
    ///
    /// # Errors
    /// [`TransferError`] for a file that cannot be read or has an unknown extension; the
    /// server's refusal (`DUPLICATE_NAME` when the name is taken by a finished item, a
    /// storage allocation exceeded); a chunk error once its retries are spent (the item
    /// stays, and the same call resumes it); the import task's error.
    pub async fn upload_media(&self, path: &Path, opts: &TransferOptions) -> Result<UploadReport> {
        let image_type = media_image_type(path)?;
        let size = std::fs::metadata(path)
            .map_err(|e| TransferError::io(path, &e))?
            .len();
        let name = match &opts.item_name {
            Some(n) => n.clone(),
            None => file_name_of(path)?,
        };
        let existing = if opts.resume {
            unfinished_item(self, &name, mt::MEDIA).await?
        } else {
            None
        };
        let (item, entity_href) = match existing {
            Some(found) => found,
            None => {
                let body = XmlElement::new_ns(NS, "Media")
                    .with_attr("name", name.clone())
                    .with_attr("size", size.to_string())
                    .with_attr("imageType", image_type)
                    .with_child(
                        XmlElement::new_ns(NS, "Description").with_text(opts.description.clone()),
                    )
                    .to_xml();
                create_item(self, mt::MEDIA, body).await?
            }
        };
        let mut up = Uploader {
            ws: self.workloads().clone(),
            opts: opts.clone(),
            entity_href: entity_href.clone(),
            report_bytes: 0,
            resumed: 0,
            chunks: 0,
            retries: 0,
            done_bytes: 0,
            total_bytes: size,
            files_done: 0,
            files_total: 1,
        };
        let result =
            async {
                let task = entity_task(&up.entity().await?);
                let server = server_files(&up.entity().await?);
                let file = server.first().map(|f| f.name.clone()).ok_or_else(|| {
                    TransferError::NoLink {
                        file: name.clone(),
                        link: "upload:default".into(),
                    }
                })?;
                let mut reader = BlockingReader::open(path)?;
                up.send_file(
                    &file,
                    &mut Source::File(&mut reader),
                    0,
                    size,
                    size,
                    &mut None,
                )
                .await?;
                up.files_done = 1;
                up.progress(&file, size, size);
                up.finish(task).await
            }
            .await;
        match result {
            Ok(task) => Ok(UploadReport {
                item,
                entity_href,
                bytes: up.report_bytes,
                resumed_bytes: up.resumed,
                files: 1,
                chunks: up.chunks,
                retries: up.retries,
                task,
            }),
            Err(e) => {
                cleanup(opts, &item, &e).await;
                Err(e)
            }
        }
    }

    /// Uploads an OVF package (the descriptor at `descriptor` and the files it
    /// references, next to it; a `.mf` manifest next to it is checked) as a vApp template.
    ///
    /// # Errors
    /// As [`upload_ova`](Self::upload_ova).
    pub async fn upload_ovf(
        &self,
        descriptor: &Path,
        opts: &TransferOptions,
    ) -> Result<UploadReport> {
        let text = read_small(descriptor).await?;
        let dir = descriptor.parent().unwrap_or(Path::new(".")).to_owned();
        let manifest_path = descriptor.with_extension("mf");
        let manifest = if opts.verify_manifest && manifest_path.exists() {
            Some(parse_manifest(&String::from_utf8_lossy(
                &read_small(&manifest_path).await?,
            ))?)
        } else {
            None
        };
        let name = match &opts.item_name {
            Some(n) => n.clone(),
            None => stem_of(descriptor)?,
        };
        let dname = file_name_of(descriptor)?;
        let files = descriptor_files(&String::from_utf8_lossy(&text))?;
        // Local sizes, and every file present, before anything is created.
        let mut local = Vec::new();
        for f in &files {
            let parts = part_paths(&dir, f)?;
            let mut whole = 0;
            for p in &parts {
                whole += std::fs::metadata(p)
                    .map_err(|_| TransferError::MissingFile(p.display().to_string()))?
                    .len();
            }
            if let Some(s) = f.size
                && s != whole
            {
                return Err(TransferError::SizeMismatch {
                    file: f.href.clone(),
                    expected: s,
                    actual: whole,
                }
                .into());
            }
            local.push((f.clone(), parts, whole));
        }
        let mut pkg = Package::new(self, opts, name, text, &dname, manifest, &local).await?;
        let result = async {
            pkg.send_descriptor().await?;
            for (f, parts, whole) in &local {
                let mut hasher = pkg.hasher_for(&f.href);
                let mut offset = 0;
                for p in parts {
                    let len = std::fs::metadata(p)
                        .map_err(|e| TransferError::io(p, &e))?
                        .len();
                    let mut reader = BlockingReader::open(p)?;
                    pkg.up
                        .send_file(
                            &f.href,
                            &mut Source::File(&mut reader),
                            offset,
                            len,
                            *whole,
                            &mut hasher,
                        )
                        .await?;
                    offset += len;
                }
                if let Some((entry, h)) = hasher.take() {
                    compare(&entry, h.hex())?;
                }
                pkg.up.files_done += 1;
            }
            pkg.up.finish(pkg.task.clone()).await
        }
        .await;
        pkg.report(result).await
    }

    /// Uploads an OVA (a tar holding the OVF descriptor first, then an optional `.mf`
    /// manifest, then the files) as a vApp template, reading the archive as a stream.
    ///
    /// # Errors
    /// [`TransferError::NotATar`] for a file that is not a tar archive;
    /// [`TransferError::NoDescriptor`] when it does not start with a `.ovf`;
    /// [`TransferError::InvalidDescriptor`], [`TransferError::MissingFile`],
    /// [`TransferError::SizeMismatch`]; [`TransferError::DigestMismatch`] when a file
    /// does not match the manifest (its last chunk is not sent and the item is deleted);
    /// the server's refusal of the descriptor or a chunk; the import task's error.
    pub async fn upload_ova(&self, path: &Path, opts: &TransferOptions) -> Result<UploadReport> {
        let name = match &opts.item_name {
            Some(n) => n.clone(),
            None => stem_of(path)?,
        };
        let reader = BlockingReader::open(path)?;
        self.upload_ova_stream(reader, name, opts).await
    }

    /// As [`upload_ova`](Self::upload_ova), from any reader (a pipe, stdin), under this
    /// item name. A stream cannot be read twice, so resuming works only for the file
    /// being sent when the stream is continued by the retries of its chunks.
    ///
    /// # Errors
    /// As [`upload_ova`](Self::upload_ova).
    pub async fn upload_ova_from(
        &self,
        reader: Box<dyn Read + Send>,
        name: &str,
        opts: &TransferOptions,
    ) -> Result<UploadReport> {
        self.upload_ova_stream(
            BlockingReader::from_reader(reader, name),
            name.to_owned(),
            opts,
        )
        .await
    }

    async fn upload_ova_stream(
        &self,
        reader: BlockingReader,
        name: String,
        opts: &TransferOptions,
    ) -> Result<UploadReport> {
        let mut tar = TarReader::new(reader);
        let first = tar
            .next_entry()
            .await?
            .ok_or_else(|| TransferError::NoDescriptor("the archive is empty".into()))?;
        if !first.name.to_ascii_lowercase().ends_with(".ovf") {
            return Err(TransferError::NoDescriptor(format!(
                "an OVA starts with its .ovf descriptor, this one with {:?}",
                first.name
            ))
            .into());
        }
        if first.size > MAX_DESCRIPTOR {
            return Err(TransferError::InvalidDescriptor(format!(
                "{} bytes is more than the {MAX_DESCRIPTOR} accepted",
                first.size
            ))
            .into());
        }
        let text = tar.read(first.size).await?.to_vec();
        let files = descriptor_files(&String::from_utf8_lossy(&text))?;
        // The manifest, when it comes right after the descriptor (as the OVF spec says).
        let mut next = tar.next_entry().await?;
        let mut manifest = None;
        if let Some(e) = &next
            && e.name.to_ascii_lowercase().ends_with(".mf")
        {
            if e.size > MAX_DESCRIPTOR {
                return Err(TransferError::InvalidManifest("it is too large".into()).into());
            }
            let data = tar.read(e.size).await?;
            if opts.verify_manifest {
                manifest = Some(parse_manifest(&String::from_utf8_lossy(&data))?);
            }
            next = tar.next_entry().await?;
        }
        let local: Vec<(OvfFile, Vec<PathBuf>, u64)> = files
            .iter()
            .map(|f| (f.clone(), Vec::new(), f.size.unwrap_or(0)))
            .collect();
        let mut pkg = Package::new(self, opts, name, text, &first.name, manifest, &local).await?;
        let result = async {
            pkg.send_descriptor().await?;
            let mut sent: Vec<String> = Vec::new();
            let mut late_digests: Vec<(String, String, String)> = Vec::new();
            while let Some(entry) = next.take() {
                let lower = entry.name.to_ascii_lowercase();
                // A file, or a part of a chunked file (`disk.vmdk.000000001`).
                let target = files.iter().find_map(|f| {
                    if entry.name == f.href {
                        Some((f, 0u64))
                    } else {
                        let idx = entry.name.strip_prefix(&format!("{}.", f.href))?;
                        let i: u64 = (idx.len() == 9).then(|| idx.parse().ok()).flatten()?;
                        Some((f, i * f.chunk_size?))
                    }
                });
                match target {
                    Some((f, offset)) => {
                        let whole = f.size.ok_or_else(|| {
                            TransferError::InvalidDescriptor(format!("{} has no ovf:size", f.href))
                        })?;
                        let mut hasher = if offset == 0 {
                            pkg.hasher_for(&f.href).or_else(|| {
                                // No manifest yet: a digest to check one that comes late.
                                opts.verify_manifest.then(|| {
                                    (
                                        ManifestEntry {
                                            algorithm: "SHA256".into(),
                                            file: f.href.clone(),
                                            digest: String::new(),
                                        },
                                        Hasher::Sha256(sha2::Sha256::new()),
                                    )
                                })
                            })
                        } else {
                            pkg.part_hasher.take()
                        };
                        pkg.up
                            .send_file(
                                &f.href,
                                &mut Source::Tar(&mut tar),
                                offset,
                                entry.size,
                                whole,
                                &mut hasher,
                            )
                            .await?;
                        if offset + entry.size >= whole {
                            if let Some((e, h)) = hasher.take() {
                                if e.digest.is_empty() {
                                    late_digests.push((f.href.clone(), e.algorithm, h.hex()));
                                } else {
                                    compare(&e, h.hex())?;
                                }
                            }
                            pkg.up.files_done += 1;
                            sent.push(f.href.clone());
                        } else {
                            pkg.part_hasher = hasher;
                        }
                    }
                    None if lower.ends_with(".mf") => {
                        // A manifest after the files: check what was sent, now.
                        let data = tar.read(entry.size).await?;
                        if opts.verify_manifest {
                            let m = parse_manifest(&String::from_utf8_lossy(&data))?;
                            for e in &m {
                                if let Some((_, _, hex)) =
                                    late_digests.iter().find(|(f, a, _)| *f == e.file && *a == e.algorithm)
                                {
                                    compare(e, hex.clone())?;
                                } else if e.file == pkg.descriptor_name {
                                    check_digest(e, &pkg.descriptor)?;
                                }
                            }
                        }
                    }
                    None => {
                        tracing::debug!(entry = %entry.name, "OVA entry not referenced by the descriptor; skipped");
                    }
                }
                next = tar.next_entry().await?;
            }
            for f in &files {
                if !sent.contains(&f.href) {
                    return Err(TransferError::MissingFile(f.href.clone()).into());
                }
            }
            pkg.up.finish(pkg.task.clone()).await
        }
        .await;
        pkg.report(result).await
    }
}

fn part_paths(dir: &Path, f: &OvfFile) -> std::result::Result<Vec<PathBuf>, TransferError> {
    match (f.chunk_size, f.size) {
        (Some(c), Some(s)) if c > 0 => {
            let n = s.div_ceil(c).max(1);
            Ok((0..n)
                .map(|i| dir.join(format!("{}.{:09}", f.href, i)))
                .collect())
        }
        (Some(_), None) => Err(TransferError::InvalidDescriptor(format!(
            "{} has an ovf:chunkSize but no ovf:size",
            f.href
        ))),
        _ => Ok(vec![dir.join(&f.href)]),
    }
}

async fn read_small(path: &Path) -> Result<Vec<u8>> {
    let mut r = BlockingReader::open(path)?;
    let data = r.read_up_to(MAX_DESCRIPTOR as usize + 1).await?;
    if data.len() as u64 > MAX_DESCRIPTOR {
        return Err(TransferError::InvalidDescriptor(format!(
            "{} is larger than {MAX_DESCRIPTOR} bytes",
            path.display()
        ))
        .into());
    }
    Ok(data)
}

/// A vApp template upload under way: the item, the descriptor and the manifest.
struct Package {
    item: CatalogItemHandle,
    opts: TransferOptions,
    up: Uploader,
    descriptor: Vec<u8>,
    descriptor_name: String,
    manifest: Option<Vec<ManifestEntry>>,
    task: Option<Task>,
    /// The digest of a multi-part file between its parts.
    part_hasher: Option<(ManifestEntry, Hasher)>,
}

impl Package {
    async fn new(
        catalog: &CatalogHandle,
        opts: &TransferOptions,
        name: String,
        descriptor: Vec<u8>,
        descriptor_name: &str,
        manifest: Option<Vec<ManifestEntry>>,
        files: &[(OvfFile, Vec<PathBuf>, u64)],
    ) -> Result<Package> {
        // The descriptor's own digest is checked before anything is created.
        if let Some(m) = &manifest
            && let Some(e) = m.iter().find(|e| e.file == descriptor_name)
        {
            check_digest(e, &descriptor)?;
        }
        let existing = if opts.resume {
            unfinished_item(catalog, &name, mt::VAPP_TEMPLATE).await?
        } else {
            None
        };
        let (item, entity_href) = match existing {
            Some(found) => found,
            None => {
                let body = XmlElement::new_ns(NS, "UploadVAppTemplateParams")
                    .with_attr("name", name.clone())
                    .with_child(
                        XmlElement::new_ns(NS, "Description").with_text(opts.description.clone()),
                    )
                    .to_xml();
                create_item(catalog, MT_UPLOAD_VAPP_TEMPLATE_PARAMS, body).await?
            }
        };
        let total: u64 = descriptor.len() as u64 + files.iter().map(|(_, _, s)| *s).sum::<u64>();
        let up = Uploader {
            ws: catalog.workloads().clone(),
            opts: opts.clone(),
            entity_href,
            report_bytes: 0,
            resumed: 0,
            chunks: 0,
            retries: 0,
            done_bytes: 0,
            total_bytes: total,
            files_done: 0,
            files_total: files.len() + 1,
        };
        Ok(Package {
            item,
            opts: opts.clone(),
            up,
            descriptor,
            descriptor_name: descriptor_name.to_owned(),
            manifest,
            task: None,
            part_hasher: None,
        })
    }

    fn hasher_for(&self, file: &str) -> Option<(ManifestEntry, Hasher)> {
        let e = self.manifest.as_ref()?.iter().find(|e| e.file == file)?;
        Some((e.clone(), Hasher::new(&e.algorithm)?))
    }

    /// `PUT`s the descriptor (unless the server has it) and waits for vCD to parse it.
    async fn send_descriptor(&mut self) -> Result<()> {
        let el = self.up.entity().await?;
        self.task = entity_task(&el);
        let files = server_files(&el);
        let pending = files
            .iter()
            .find(|f| f.name == DESCRIPTOR && f.upload.is_some());
        let parsed = el.attr("ovfDescriptorUploaded") == Some("true");
        if let (Some(d), false) = (pending, parsed) {
            let href = d.upload.clone().unwrap_or_default();
            let req = ApiRequest::put(href).body("text/xml", Bytes::from(self.descriptor.clone()));
            self.up
                .ws
                .submit(req)
                .await
                .map_err(|e| e.context("uploading the OVF descriptor"))?;
            self.up.report_bytes += self.descriptor.len() as u64;
            self.up.chunks += 1;
        } else {
            self.up.resumed += self.descriptor.len() as u64;
        }
        self.up.done_bytes += self.descriptor.len() as u64;
        self.up.files_done += 1;
        self.up.progress(
            DESCRIPTOR,
            self.descriptor.len() as u64,
            self.descriptor.len() as u64,
        );
        self.up.wait_descriptor().await?;
        Ok(())
    }

    async fn report(self, result: Result<Option<Task>>) -> Result<UploadReport> {
        match result {
            Ok(task) => Ok(UploadReport {
                item: self.item,
                entity_href: self.up.entity_href.clone(),
                bytes: self.up.report_bytes,
                resumed_bytes: self.up.resumed,
                files: self.up.files_total,
                chunks: self.up.chunks,
                retries: self.up.retries,
                task,
            }),
            Err(e) => {
                cleanup(&self.opts, &self.item, &e).await;
                Err(e)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Downloads

/// Fetches `href` into `out` in ranged `GET`s of the chunk size; returns the bytes.
async fn fetch_to(
    ws: &Workloads,
    href: &str,
    size: Option<u64>,
    opts: &TransferOptions,
    name: &str,
    out: &mut BlockingWriter,
    progress: &mut (u64, u64),
) -> Result<u64> {
    let mut pos = 0u64;
    loop {
        if size.is_some_and(|s| pos >= s) {
            break;
        }
        let end = pos + opts.chunk_size - 1;
        let end = size.map_or(end, |s| end.min(s - 1));
        let req = ApiRequest::get(href.to_owned())
            .header("Range", format!("bytes={pos}-{end}"))
            .accept(crate::client::Accept::Custom("*/*".into()))
            .timeout(opts.chunk_timeout);
        let resp = match ws.client.send(req).await {
            Ok(r) => r,
            // Past the end of a file whose size was not given: it is complete.
            Err(e) if size.is_none() && pos > 0 && e.http_status() == Some(416) => break,
            Err(e) => return Err(e.context(format!("downloading {name:?} from byte {pos}"))),
        };
        let status = resp.status().as_u16();
        let body = resp.into_http().body;
        let n = body.len() as u64;
        out.write_all(body).await?;
        pos += n;
        progress.0 += n;
        if let Some(p) = &opts.progress {
            p(&TransferProgress {
                file: name.to_owned(),
                file_bytes: pos,
                file_size: size.unwrap_or(pos),
                bytes: progress.0,
                total_bytes: progress.1,
                files_done: 0,
                files_total: 0,
            });
        }
        // 200: the server sent the whole file at once; a short 206: the end.
        if status == 200 || n == 0 || n < end - (pos - n) + 1 {
            break;
        }
    }
    if let Some(s) = size
        && pos != s
    {
        return Err(TransferError::SizeMismatch {
            file: name.to_owned(),
            expected: s,
            actual: pos,
        }
        .into());
    }
    Ok(pos)
}

impl MediaHandle {
    /// Downloads the media into a local file (enabling the download first when vCD
    /// does not offer it yet); returns the bytes written.
    ///
    /// # Errors
    /// [`TransferError::Io`] for the local file; [`TransferError::NoLink`] when vCD offers
    /// no download link after enabling; request and task errors.
    pub async fn download(&self, to: &Path, opts: &TransferOptions) -> Result<u64> {
        let href = self.href().await?;
        let ws = self.core.ws.clone();
        let mut el = ws.client.get_xml(&href).await?;
        if !server_files(&el).iter().any(|f| f.download.is_some()) {
            self.enable_download().wait().await?;
            el = ws.client.get_xml(&href).await?;
        }
        let f = server_files(&el)
            .into_iter()
            .find(|f| f.download.is_some())
            .ok_or_else(|| TransferError::NoLink {
                file: self.name().unwrap_or_else(|| href.clone()),
                link: "download:default".into(),
            })?;
        let mut out = BlockingWriter::create(to)?;
        let mut progress = (0, f.size.unwrap_or(0));
        let n = fetch_to(
            &ws,
            f.download.as_deref().unwrap_or_default(),
            f.size,
            opts,
            &f.name,
            &mut out,
            &mut progress,
        )
        .await?;
        out.finish().await?;
        Ok(n)
    }
}

impl VAppTemplateHandle {
    /// Downloads the template as an OVA (its descriptor, then its files, in a tar),
    /// enabling the download first when vCD does not offer it yet; returns the bytes of
    /// the files (the descriptor included, tar headers not).
    ///
    /// # Errors
    /// As [`MediaHandle::download`]; [`TransferError::InvalidDescriptor`] for a descriptor
    /// the client cannot read.
    pub async fn download_ova(&self, to: &Path, opts: &TransferOptions) -> Result<u64> {
        let href = self.href().await?;
        let ws = self.core.ws.clone();
        let find = |el: &XmlElement| {
            el.children_named("Link")
                .find(|l| l.attr("rel") == Some("download:default"))
                .and_then(|l| l.attr("href"))
                .map(str::to_owned)
        };
        let mut el = ws.client.get_xml(&href).await?;
        if find(&el).is_none() {
            self.enable_download().wait().await?;
            el = ws.client.get_xml(&href).await?;
        }
        let ovf_href = find(&el).ok_or_else(|| TransferError::NoLink {
            file: DESCRIPTOR.into(),
            link: "download:default".into(),
        })?;
        let resp = ws
            .client
            .send(
                ApiRequest::get(ovf_href.clone())
                    .accept(crate::client::Accept::Custom("*/*".into())),
            )
            .await?;
        let descriptor = resp.into_http().body;
        let files = descriptor_files(&String::from_utf8_lossy(&descriptor))?;
        let base = ovf_href
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or_default();
        let name = el.attr("name").unwrap_or("template").to_owned();
        let total: u64 = descriptor.len() as u64 + files.iter().filter_map(|f| f.size).sum::<u64>();
        let mut out = BlockingWriter::create(to)?;
        let mut progress = (0u64, total);
        let pad = |n: u64| Bytes::from(vec![0u8; ((512 - n % 512) % 512) as usize]);
        let ovf_name = format!("{}.ovf", sanitize_name(&name));
        out.write_all(Bytes::copy_from_slice(&tar_header(
            &ovf_name,
            descriptor.len() as u64,
        )?))
        .await?;
        let dlen = descriptor.len() as u64;
        out.write_all(descriptor).await?;
        out.write_all(pad(dlen)).await?;
        progress.0 += dlen;
        let mut bytes = dlen;
        for f in &files {
            let size = f.size.ok_or_else(|| {
                TransferError::InvalidDescriptor(format!("{} has no ovf:size", f.href))
            })?;
            out.write_all(Bytes::copy_from_slice(&tar_header(&f.href, size)?))
                .await?;
            let enc: String = url::form_urlencoded::byte_serialize(f.href.as_bytes()).collect();
            let file_href = format!("{base}/{}", enc.replace('+', "%20"));
            let n = fetch_to(
                &ws,
                &file_href,
                Some(size),
                opts,
                &f.href,
                &mut out,
                &mut progress,
            )
            .await?;
            out.write_all(pad(n)).await?;
            bytes += n;
        }
        out.write_all(Bytes::from(vec![0u8; 1024])).await?;
        out.finish().await?;
        Ok(bytes)
    }
}

fn sanitize_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.chars().take(90).collect()
}

/// Writes a tar archive (an OVA) from named byte slices, for tests and tools: each
/// entry as a ustar header, its data and padding, then the two zero blocks.
///
/// # Errors
/// [`TransferError::InvalidValue`] for a name longer than 100 bytes;
/// [`TransferError::Io`] for the writer.
pub fn write_tar<W: Write>(
    out: &mut W,
    entries: &[(&str, &[u8])],
) -> std::result::Result<(), TransferError> {
    let io = |e: std::io::Error| TransferError::Io {
        path: "tar".into(),
        reason: e.to_string(),
    };
    for (name, data) in entries {
        out.write_all(&tar_header(name, data.len() as u64)?)
            .map_err(io)?;
        out.write_all(data).map_err(io)?;
        let pad = (512 - data.len() % 512) % 512;
        out.write_all(&vec![0u8; pad]).map_err(io)?;
    }
    out.write_all(&[0u8; 1024]).map_err(io)
}

/// Writes the ustar header of one entry of `size` bytes (the data and the padding to a
/// multiple of 512 bytes are the caller's), for streaming large archives.
///
/// # Errors
/// [`TransferError::InvalidValue`] for a name longer than 100 bytes.
pub fn tar_entry_header(name: &str, size: u64) -> std::result::Result<[u8; 512], TransferError> {
    tar_header(name, size)
}

/// The `ALGORITHM(file)= hex` manifest line of `data` (`SHA1`, `SHA256` or `SHA512`).
///
/// # Errors
/// [`TransferError::InvalidManifest`] for another algorithm.
pub fn manifest_line(
    algorithm: &str,
    file: &str,
    data: &[u8],
) -> std::result::Result<String, TransferError> {
    let mut h = Hasher::new(algorithm).ok_or_else(|| {
        TransferError::InvalidManifest(format!("unknown algorithm {algorithm:?}"))
    })?;
    h.update(data);
    Ok(format!(
        "{}({file})= {}\n",
        algorithm.to_ascii_uppercase(),
        h.hex()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_headers_round_trip() {
        let h = tar_header("disk1.vmdk", 1234).expect("header");
        let (name, size, flag) = parse_header(&h).expect("valid");
        assert_eq!((name.as_str(), size, flag), ("disk1.vmdk", 1234, b'0'));
        let big = tar_header("big", 10 << 30).expect("header");
        assert_eq!(parse_header(&big).expect("valid").1, 10 << 30);
        let mut bad = h;
        bad[0] ^= 1;
        assert!(parse_header(&bad).is_err());
        assert!(tar_header(&"x".repeat(101), 1).is_err());
    }

    #[test]
    fn manifests_parse_and_check() {
        let line = manifest_line("sha256", "a.ovf", b"abc").expect("line");
        assert_eq!(
            line,
            "SHA256(a.ovf)= ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        );
        let sha1 = manifest_line("SHA1", "d", b"abc").expect("sha1");
        assert!(
            sha1.contains("a9993e364706816aba3e25717850c26c9cd0d89d"),
            "{sha1}"
        );
        let m = parse_manifest(&format!("{line}{sha1}")).expect("parses");
        assert_eq!(m.len(), 2);
        check_digest(&m[0], b"abc").expect("matches");
        assert!(matches!(
            check_digest(&m[0], b"abd"),
            Err(TransferError::DigestMismatch { .. })
        ));
        assert!(parse_manifest("MD5(x)= 00").is_err());
        assert!(parse_manifest("garbage").is_err());
    }

    #[test]
    fn descriptors_list_their_files() {
        let ovf = r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"><References><File ovf:href="d.vmdk" ovf:id="f1" ovf:size="10" ovf:chunkSize="4"/></References></Envelope>"#;
        let files = descriptor_files(ovf).expect("parses");
        assert_eq!(
            files,
            vec![OvfFile {
                href: "d.vmdk".into(),
                size: Some(10),
                chunk_size: Some(4)
            }]
        );
        let parts = part_paths(Path::new("/x"), &files[0]).expect("parts");
        assert_eq!(parts.len(), 3);
        assert!(parts[2].ends_with("d.vmdk.000000002"));
        assert!(matches!(
            descriptor_files("<VAppTemplate/>"),
            Err(TransferError::InvalidDescriptor(_))
        ));
        let escape = ovf.replace("d.vmdk", "../d.vmdk");
        assert!(descriptor_files(&escape).is_err());
    }

    fn header_with(name: &str, size: u64, flag: u8) -> [u8; 512] {
        let mut h = tar_header(name, size).expect("header");
        h[156] = flag;
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn padded(data: &[u8]) -> Vec<u8> {
        let mut v = data.to_vec();
        v.resize(data.len().div_ceil(512) * 512, 0);
        v
    }

    #[tokio::test]
    async fn tar_streams_with_long_names_pax_and_directories() {
        let long = format!("{}/disk.vmdk", "d".repeat(120));
        let mut tar = Vec::new();
        // a directory entry, skipped
        tar.extend_from_slice(&header_with("pkg/", 0, b'5'));
        // a GNU long name for the next entry
        tar.extend_from_slice(&header_with("././@LongLink", long.len() as u64 + 1, b'L'));
        tar.extend(padded(format!("{long}\0").as_bytes()));
        tar.extend_from_slice(&header_with("truncated", 5, b'0'));
        tar.extend(padded(b"hello"));
        // a pax header giving the path of the next entry
        let rec = "23 path=pax/named.file\n";
        tar.extend_from_slice(&header_with("PaxHeaders/x", rec.len() as u64, b'x'));
        tar.extend(padded(rec.as_bytes()));
        tar.extend_from_slice(&header_with("short", 3, b'0'));
        tar.extend(padded(b"abc"));
        tar.extend_from_slice(&[0u8; 1024]);
        let reader = BlockingReader::from_reader(Box::new(std::io::Cursor::new(tar)), "t.tar");
        let mut t = TarReader::new(reader);
        let e = t.next_entry().await.expect("entry").expect("some");
        assert_eq!((e.name.as_str(), e.size), (long.as_str(), 5));
        assert_eq!(&t.read(100).await.expect("data")[..], b"hello");
        let e = t.next_entry().await.expect("entry").expect("some");
        assert_eq!(e.name, "pax/named.file");
        // the data is skipped when not read
        assert!(t.next_entry().await.expect("end").is_none());

        // truncated inside a file: a typed error, not a panic
        let mut cut = header_with("f", 2000, b'0').to_vec();
        cut.extend_from_slice(&[1u8; 700]);
        let reader = BlockingReader::from_reader(Box::new(std::io::Cursor::new(cut)), "cut.tar");
        let mut t = TarReader::new(reader);
        t.next_entry().await.expect("header").expect("entry");
        let err = t.read(2000).await.expect_err("truncated");
        assert!(matches!(
            TransferError::of(&err),
            Some(TransferError::NotATar { .. })
        ));
    }

    #[test]
    fn upload_links_prefer_default_then_alternate() {
        let el = XmlElement::parse(
            r#"<Media xmlns="http://www.vmware.com/vcloud/v1.5"><Files>
              <File name="a" size="10" bytesTransferred="4"><Link rel="upload:alternate" href="https://alt/a"/><Link rel="upload:default" href="https://def/a"/></File>
              <File name="b" size="-1" bytesTransferred="0"><Link rel="upload:alternate" href="https://alt/b"/></File>
            </Files></Media>"#,
        )
        .expect("xml");
        let files = server_files(&el);
        assert_eq!(files[0].upload.as_deref(), Some("https://def/a"));
        assert_eq!((files[0].size, files[0].transferred), (Some(10), 4));
        assert_eq!(files[1].upload.as_deref(), Some("https://alt/b"));
        assert_eq!(files[1].size, None);
    }

    #[test]
    fn pax_records_and_octal() {
        let recs = pax_records(b"30 path=some/very/long/name.x\n11 size=42\n");
        assert_eq!(
            recs,
            vec![
                ("path".into(), "some/very/long/name.x".into()),
                ("size".into(), "42".into())
            ]
        );
        assert_eq!(octal(b"0000644\0"), Some(0o644));
        assert_eq!(octal(b"zz"), None);
        assert_eq!(media_image_type(Path::new("a.ISO")).ok(), Some("iso"));
        assert_eq!(media_image_type(Path::new("a.flp")).ok(), Some("floppy"));
        assert!(media_image_type(Path::new("a.txt")).is_err());
    }
}
