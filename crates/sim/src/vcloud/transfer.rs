//! vCD's transfer service: the `upload:default` / `download:default` file links of media
//! and vApp templates, at `{origin}/transfer/{session}/{file}`.
//!
//! Uploads are `PUT`s of one file, whole or in chunks with
//! `Content-Range: bytes {first}-{last}/{total}`. Bodies are streamed to a spool
//! directory (never held whole in memory, and not limited by the API's body cap); the
//! file's `bytesTransferred` is the length of the contiguous prefix received so far, so a
//! client resumes an interrupted upload from there. A chunk that starts past
//! `bytesTransferred` is refused with 416; one that lies inside the received prefix is
//! accepted again (a retry of a chunk whose answer was lost). The `descriptor.ovf` of a
//! vApp template upload is parsed once complete: its `References/File`s become the next
//! upload links, its `VirtualSystem`s, disks and networks the template's children once
//! every file has arrived and the import task has ended. A descriptor that is not an OVF
//! envelope is refused with 400 and fails the import task, as vCD does.
//!
//! Downloads (after `action/enableDownload`) are `GET`s, whole or with
//! `Range: bytes={first}-{last}` (206), streamed from the spool.
//!
//! Fault hooks on [`VcloudSimulatorHandle`]: the next chunk `PUT`s answered 500
//! ([`fail_upload_chunks`](VcloudSimulatorHandle::fail_upload_chunks)) or cut after a
//! number of body bytes, the connection dropped without an answer
//! ([`drop_upload_after`](VcloudSimulatorHandle::drop_upload_after)).

// Handlers answer refusals as ready `Response`s, which are large.
#![allow(clippy::result_large_err)]

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt as _;
use http::{HeaderValue, StatusCode};
use uuid::Uuid;

use super::VcloudSimulatorHandle;
use super::common::{Ctx, Shared, respond, unauthorized, vcd_error};
use super::state::{State, TemplateVm};
use super::xml::{self as x, Element};

/// Longest OVF descriptor the import accepts (vCD's limit is of this order).
const MAX_DESCRIPTOR: u64 = 16 * 1024 * 1024;
/// Bytes written to the spool at once.
const WRITE_BATCH: usize = 1024 * 1024;
/// Bytes per frame of a download.
const READ_BATCH: usize = 256 * 1024;
/// How long an upload task may run before vCD would give up (never, in practice).
pub(crate) const UPLOAD_TASK_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Which object a transfer file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Media(Uuid),
    Template(Uuid),
}

impl Owner {
    fn id(self) -> Uuid {
        match self {
            Owner::Media(u) | Owner::Template(u) => u,
        }
    }
}

/// Where the bytes of a stored file are.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// A file in the spool directory.
    Spool(PathBuf),
    /// Generated text (the descriptor of a seeded template).
    Inline(Bytes),
    /// This many zero bytes (the content of seeded media).
    Zeros(u64),
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Spool(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Content::Inline(b) => b.len() as u64,
            Content::Zeros(n) => *n,
        }
    }
}

/// One file of an upload session.
#[derive(Debug, Clone)]
pub(crate) struct UploadFile {
    pub(crate) session: Uuid,
    pub(crate) name: String,
    pub(crate) owner: Owner,
    /// `None` for a descriptor whose size is not known before it arrives (`size="-1"`).
    pub(crate) size: Option<u64>,
    /// The contiguous prefix received so far (`bytesTransferred`).
    pub(crate) received: u64,
    pub(crate) path: PathBuf,
    /// The task that ends when every file of the owner has arrived.
    pub(crate) task: Uuid,
}

/// One file offered for download.
#[derive(Debug, Clone)]
pub(crate) struct DownloadFile {
    pub(crate) session: Uuid,
    pub(crate) name: String,
    pub(crate) owner: Owner,
    pub(crate) content: Content,
}

/// The spool directory, removed with the simulator's state.
#[derive(Debug)]
struct Spool(PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The transfer service's state (inside [`State`]).
#[derive(Debug, Default)]
pub(crate) struct Transfers {
    pub(crate) uploads: Vec<UploadFile>,
    pub(crate) downloads: Vec<DownloadFile>,
    /// The files of finished uploads, by owner: (name, content).
    pub(crate) stored: Vec<(Owner, String, Content)>,
    /// The parsed descriptor of a template upload, applied when the import ends.
    pending: Vec<(Uuid, Vec<TemplateVm>, Vec<String>)>,
    spool: Option<Spool>,
    /// The next chunk PUTs answered 500.
    fail_chunks: u32,
    /// The next chunk PUT is cut after this many body bytes and its connection dropped.
    drop_after: Option<u64>,
    /// Chunk PUTs received.
    pub(crate) chunk_puts: u64,
}

impl Transfers {
    fn spool_dir(&mut self) -> std::io::Result<PathBuf> {
        if let Some(s) = &self.spool {
            return Ok(s.0.clone());
        }
        let dir = std::env::temp_dir().join(format!(
            "nebulair-sim-transfer-{}",
            crate::random_uuid().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        self.spool = Some(Spool(dir.clone()));
        Ok(dir)
    }

    /// Opens an upload file of `owner` and returns its session id.
    pub(crate) fn open_upload(
        &mut self,
        owner: Owner,
        name: &str,
        size: Option<u64>,
        task: Uuid,
        session: Option<Uuid>,
    ) -> std::io::Result<Uuid> {
        let session = session.unwrap_or_else(crate::random_uuid);
        let dir = self.spool_dir()?;
        let path = dir.join(format!(
            "{}-{}",
            crate::random_uuid().simple(),
            sanitize(name)
        ));
        std::fs::File::create(&path)?;
        self.uploads.push(UploadFile {
            session,
            name: name.to_owned(),
            owner,
            size,
            received: 0,
            path,
            task,
        });
        Ok(session)
    }

    /// The upload files of an owner, in order.
    pub(crate) fn uploads_of(&self, owner: Owner) -> Vec<&UploadFile> {
        self.uploads.iter().filter(|f| f.owner == owner).collect()
    }

    /// The download files of an owner, in order.
    pub(crate) fn downloads_of(&self, owner: Owner) -> Vec<&DownloadFile> {
        self.downloads.iter().filter(|f| f.owner == owner).collect()
    }

    /// Forgets everything about an owner (it was deleted) and removes its spool files.
    pub(crate) fn forget(&mut self, id: Uuid) {
        for f in self.uploads.iter().filter(|f| f.owner.id() == id) {
            let _ = std::fs::remove_file(&f.path);
        }
        for (o, _, c) in &self.stored {
            if o.id() == id
                && let Content::Spool(p) = c
            {
                let _ = std::fs::remove_file(p);
            }
        }
        self.uploads.retain(|f| f.owner.id() != id);
        self.downloads.retain(|f| f.owner.id() != id);
        self.stored.retain(|(o, _, _)| o.id() != id);
        self.pending.retain(|(t, _, _)| *t != id);
    }

    /// Offers the stored files of `owner` for download under a new session.
    pub(crate) fn enable_download(&mut self, owner: Owner, files: Vec<(String, Content)>) {
        self.downloads.retain(|f| f.owner != owner);
        let session = crate::random_uuid();
        for (name, content) in files {
            self.downloads.push(DownloadFile {
                session,
                name,
                owner,
                content,
            });
        }
    }

    /// The stored files of `owner`.
    pub(crate) fn stored_of(&self, owner: Owner) -> Vec<(String, Content)> {
        self.stored
            .iter()
            .filter(|(o, _, _)| *o == owner)
            .map(|(_, n, c)| (n.clone(), c.clone()))
            .collect()
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The href of a transfer file.
pub(crate) fn file_href(origin: &str, session: Uuid, name: &str) -> String {
    let enc: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("{origin}/transfer/{session}/{}", enc.replace('+', "%20"))
}

/// The `<Files>` element of an object being uploaded (empty string when there is none).
pub(crate) fn upload_files_xml(st: &State, origin: &str, owner: Owner) -> String {
    let files = st.transfers.uploads_of(owner);
    if files.is_empty() {
        return String::new();
    }
    let mut out = String::from("<Files>");
    for f in files {
        let size = f.size.map_or_else(|| "-1".to_owned(), |s| s.to_string());
        out.push_str(&format!(
            "<File{}>{}</File>",
            x::attrs(&[
                ("size", &size),
                ("bytesTransferred", &f.received.to_string()),
                ("name", &f.name),
            ]),
            x::link(
                "upload:default",
                &file_href(origin, f.session, &f.name),
                None,
                None
            )
        ));
    }
    out.push_str("</Files>");
    out
}

/// The `<Files>` element of a media offered for download.
pub(crate) fn download_files_xml(st: &State, origin: &str, owner: Owner) -> String {
    let files = st.transfers.downloads_of(owner);
    if files.is_empty() {
        return String::new();
    }
    let mut out = String::from("<Files>");
    for f in files {
        let size = f.content.len().to_string();
        out.push_str(&format!(
            "<File{}>{}</File>",
            x::attrs(&[
                ("size", &size),
                ("bytesTransferred", &size),
                ("name", &f.name),
            ]),
            x::link(
                "download:default",
                &file_href(origin, f.session, &f.name),
                None,
                None
            )
        ));
    }
    out.push_str("</Files>");
    out
}

// ---------------------------------------------------------------------------------------------
// OVF descriptors

/// What an OVF descriptor describes.
#[derive(Debug, Clone)]
pub(crate) struct Ovf {
    /// `References/File`: (href, size).
    pub(crate) files: Vec<(String, u64)>,
    pub(crate) vms: Vec<TemplateVm>,
    pub(crate) networks: Vec<String>,
}

fn attr<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Bytes per unit of an OVF `AllocationUnits` / `capacityAllocationUnits` (`byte * 2^30`).
fn unit_bytes(units: Option<&str>) -> Result<u64, String> {
    let Some(u) = units.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(1);
    };
    let compact: String = u.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "byte" | "bytes" => return Ok(1),
        "KB" | "kilobytes" => return Ok(1 << 10),
        "MB" | "megabytes" => return Ok(1 << 20),
        "GB" | "gigabytes" => return Ok(1 << 30),
        _ => {}
    }
    if let Some(exp) = compact.strip_prefix("byte*2^")
        && let Ok(e) = exp.parse::<u32>()
        && e < 64
    {
        return Ok(1u64 << e);
    }
    Err(format!("Unsupported allocation units \"{u}\"."))
}

fn all_named<'a>(e: &'a Element, name: &str, out: &mut Vec<&'a Element>) {
    for c in &e.children {
        if c.name == name {
            out.push(c);
        } else {
            all_named(c, name, out);
        }
    }
}

/// Parses an OVF descriptor as vCD's import does: an `Envelope` with at least one
/// `VirtualSystem`; disks refer to files of `References`, hard disk items to disks of the
/// `DiskSection`.
pub(crate) fn parse_ovf(text: &str) -> Result<Ovf, String> {
    let root = x::parse(text).map_err(|e| format!("The OVF descriptor is not valid XML: {e}"))?;
    if root.name != "Envelope" {
        return Err(format!(
            "The OVF descriptor is invalid: the root element is {}, not Envelope.",
            root.name
        ));
    }
    let mut files = Vec::new();
    let mut file_ids = Vec::new();
    if let Some(refs) = root.child("References") {
        for f in refs.children.iter().filter(|c| c.name == "File") {
            let href = attr(f, "href").ok_or("The OVF descriptor has a File without href.")?;
            if href.contains('/') || href.contains("..") || href.trim().is_empty() {
                return Err(format!(
                    "The OVF descriptor has an invalid file reference \"{href}\"."
                ));
            }
            let size = attr(f, "size")
                .ok_or_else(|| format!("The OVF file \"{href}\" has no size."))?
                .parse::<u64>()
                .map_err(|_| format!("The OVF file \"{href}\" has an invalid size."))?;
            file_ids.push((attr(f, "id").unwrap_or(href).to_owned(), href.to_owned()));
            files.push((href.to_owned(), size));
        }
    }
    // Disks of the DiskSection: id -> capacity in MB.
    let mut disks: Vec<(String, u64)> = Vec::new();
    if let Some(ds) = root.child("DiskSection") {
        for d in ds.children.iter().filter(|c| c.name == "Disk") {
            let id = attr(d, "diskId").ok_or("The OVF descriptor has a Disk without diskId.")?;
            let cap: u64 = attr(d, "capacity")
                .and_then(|c| c.trim().parse().ok())
                .ok_or_else(|| format!("The OVF disk \"{id}\" has an invalid capacity."))?;
            let bytes = cap.saturating_mul(unit_bytes(attr(d, "capacityAllocationUnits"))?);
            if let Some(r) = attr(d, "fileRef")
                && !file_ids.iter().any(|(fid, _)| fid == r)
            {
                return Err(format!(
                    "The OVF disk \"{id}\" refers to an unknown file \"{r}\"."
                ));
            }
            disks.push((id.to_owned(), bytes.div_ceil(1024 * 1024)));
        }
    }
    let networks: Vec<String> = root
        .child("NetworkSection")
        .map(|n| {
            n.children
                .iter()
                .filter(|c| c.name == "Network")
                .filter_map(|c| attr(c, "name").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut systems = Vec::new();
    all_named(&root, "VirtualSystem", &mut systems);
    if systems.is_empty() {
        return Err("The OVF descriptor has no VirtualSystem.".into());
    }
    let mut vms = Vec::new();
    for vs in systems {
        let name = vs
            .child_text("Name")
            .filter(|n| !n.is_empty())
            .or_else(|| attr(vs, "id"))
            .ok_or("The OVF descriptor has a VirtualSystem without id.")?
            .to_owned();
        let guest_os = vs
            .child("OperatingSystemSection")
            .and_then(|o| o.child_text("Description"))
            .filter(|d| !d.is_empty())
            .unwrap_or("Other (64-bit)")
            .to_owned();
        let (mut cpus, mut memory_mb, mut disks_mb, mut nics) =
            (1u32, 1024u32, Vec::new(), Vec::new());
        if let Some(hw) = vs.child("VirtualHardwareSection") {
            for item in hw.children.iter().filter(|c| c.name == "Item") {
                let rtype = item.child_text("ResourceType").unwrap_or_default();
                let qty = item.child_text("VirtualQuantity");
                match rtype {
                    "3" => {
                        cpus = qty
                            .and_then(|q| q.parse().ok())
                            .filter(|c| *c > 0)
                            .ok_or_else(|| format!("VM \"{name}\": invalid CPU count."))?;
                    }
                    "4" => {
                        let q: u64 = qty
                            .and_then(|q| q.parse().ok())
                            .ok_or_else(|| format!("VM \"{name}\": invalid memory size."))?;
                        let bytes = q.saturating_mul(unit_bytes(
                            item.child_text("AllocationUnits").or(Some("byte * 2^20")),
                        )?);
                        memory_mb = u32::try_from(bytes / (1024 * 1024))
                            .map_err(|_| format!("VM \"{name}\": memory too large."))?;
                    }
                    "17" => {
                        let host = item.child_text("HostResource").unwrap_or_default();
                        let id = host
                            .strip_prefix("ovf:/disk/")
                            .or_else(|| host.strip_prefix("/disk/"))
                            .unwrap_or(host);
                        let Some((_, mb)) = disks.iter().find(|(d, _)| d == id) else {
                            return Err(format!(
                                "VM \"{name}\": the hard disk refers to an unknown disk \"{host}\"."
                            ));
                        };
                        disks_mb.push(*mb);
                    }
                    "10" => nics.push(item.child_text("Connection").unwrap_or("none").to_owned()),
                    _ => {}
                }
            }
        }
        vms.push(TemplateVm {
            id: crate::random_uuid(),
            name,
            cpus,
            memory_mb,
            disk_mb: disks_mb.first().copied().unwrap_or(0),
            guest_os,
            disks_mb,
            nics,
        });
    }
    Ok(Ovf {
        files,
        vms,
        networks,
    })
}

/// The OVF descriptor of a template that was not uploaded (seeded): its VMs, no files.
pub(crate) fn synthetic_descriptor(name: &str, vms: &[TemplateVm], networks: &[String]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ovf:Envelope xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"><ovf:References/><ovf:DiskSection><ovf:Info>Virtual disks</ovf:Info>",
    );
    for (i, vm) in vms.iter().enumerate() {
        for (j, mb) in vm.disks_mb.iter().enumerate() {
            out.push_str(&format!(
                "<ovf:Disk ovf:diskId=\"vm{i}-disk{j}\" ovf:capacity=\"{mb}\" ovf:capacityAllocationUnits=\"byte * 2^20\"/>"
            ));
        }
    }
    out.push_str("</ovf:DiskSection><ovf:NetworkSection><ovf:Info>Networks</ovf:Info>");
    for n in networks {
        out.push_str(&format!("<ovf:Network ovf:name=\"{}\"/>", x::esc(n)));
    }
    out.push_str(&format!(
        "</ovf:NetworkSection><ovf:VirtualSystemCollection ovf:id=\"{}\"><ovf:Info>vApp template</ovf:Info>",
        x::esc(name)
    ));
    for (i, vm) in vms.iter().enumerate() {
        out.push_str(&format!(
            "<ovf:VirtualSystem ovf:id=\"{0}\"><ovf:Info>VM</ovf:Info><ovf:Name>{0}</ovf:Name><ovf:OperatingSystemSection ovf:id=\"1\"><ovf:Info>OS</ovf:Info><ovf:Description>{1}</ovf:Description></ovf:OperatingSystemSection><ovf:VirtualHardwareSection><ovf:Info>Hardware</ovf:Info><ovf:Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>{2}</rasd:VirtualQuantity></ovf:Item><ovf:Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>{3}</rasd:VirtualQuantity></ovf:Item>",
            x::esc(&vm.name),
            x::esc(&vm.guest_os),
            vm.cpus,
            vm.memory_mb
        ));
        for j in 0..vm.disks_mb.len() {
            out.push_str(&format!(
                "<ovf:Item><rasd:HostResource>ovf:/disk/vm{i}-disk{j}</rasd:HostResource><rasd:InstanceID>{}</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></ovf:Item>",
                10 + j
            ));
        }
        for (k, n) in vm.nics.iter().enumerate() {
            out.push_str(&format!(
                "<ovf:Item><rasd:Connection>{}</rasd:Connection><rasd:InstanceID>{}</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></ovf:Item>",
                x::esc(n),
                20 + k
            ));
        }
        out.push_str("</ovf:VirtualHardwareSection></ovf:VirtualSystem>");
    }
    out.push_str("</ovf:VirtualSystemCollection></ovf:Envelope>\n");
    out
}

// ---------------------------------------------------------------------------------------------
// HTTP

fn ctx_for<'a>(shared: &'a Shared, parts: &http::request::Parts) -> Ctx<'a> {
    let version = super::common::accept_version(&parts.headers).unwrap_or_else(|| {
        shared
            .cfg
            .versions
            .last()
            .cloned()
            .unwrap_or_else(|| "36.0".into())
    });
    Ctx {
        shared,
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        prefix: String::new(),
        query: Vec::new(),
        headers: parts.headers.clone(),
        body: Bytes::new(),
        now: Instant::now(),
        version,
    }
}

fn not_found(ctx: &Ctx<'_>) -> Response {
    vcd_error(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        &format!("No transfer session for {}.", ctx.path),
        &ctx.version,
    )
}

fn bad(ctx: &Ctx<'_>, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg, &ctx.version)
}

/// A response whose body fails at once: hyper closes the connection without an answer.
fn dropped() -> Response {
    Response::new(Body::from_stream(futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::other(
            "connection dropped by the upload fault hook",
        ))
    })))
}

/// `GET`/`PUT /transfer/{session}/{file}`, with the body still streaming.
pub(crate) async fn handle(shared: &Shared, parts: http::request::Parts, body: Body) -> Response {
    let ctx = ctx_for(shared, &parts);
    if ctx.vcd_token().is_none() {
        return unauthorized(&ctx);
    }
    let segs: Vec<&str> = ctx.path.trim_start_matches('/').split('/').collect();
    let (session, name) = match segs.as_slice() {
        ["transfer", s, name] => match Uuid::parse_str(s) {
            Ok(u) => (
                u,
                url::form_urlencoded::parse(format!("n={name}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default(),
            ),
            Err(_) => return not_found(&ctx),
        },
        _ => return not_found(&ctx),
    };
    match parts.method {
        http::Method::PUT => put(&ctx, session, &name, body).await,
        http::Method::GET => get(&ctx, session, &name).await,
        _ => vcd_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "The transfer service accepts GET and PUT.",
            &ctx.version,
        ),
    }
}

/// `Content-Range: bytes a-b/total` → (a, b, total); `total` may be `*`.
fn content_range(v: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.trim().split_once('-')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    (a <= b).then_some((a, b, total))
}

async fn put(ctx: &Ctx<'_>, session: Uuid, name: &str, body: Body) -> Response {
    let length: Option<u64> = ctx
        .header("content-length")
        .and_then(|v| v.trim().parse().ok());
    let range = match ctx.header("content-range") {
        Some(v) => match content_range(v) {
            Some(r) => Some(r),
            None => return bad(ctx, &format!("Invalid Content-Range header \"{v}\".")),
        },
        None => None,
    };
    // Check the request against the file, and draw the fault hooks.
    let (path, start, expect_len, drop_after) = {
        let mut st = ctx.lock();
        st.transfers.chunk_puts += 1;
        let Some(f) = st
            .transfers
            .uploads
            .iter()
            .find(|f| f.session == session && f.name == name)
            .cloned()
        else {
            drop(st);
            return not_found(ctx);
        };
        let (start, expect_len) = match range {
            Some((a, b, total)) => {
                if let (Some(t), Some(size)) = (total, f.size)
                    && t != size
                {
                    drop(st);
                    return bad(
                        ctx,
                        &format!(
                            "The Content-Range total {t} does not match the size {size} of \"{name}\"."
                        ),
                    );
                }
                (a, Some(b - a + 1))
            }
            None => (0, length),
        };
        if let (Some(n), Some(l)) = (expect_len, length)
            && n != l
        {
            drop(st);
            return bad(
                ctx,
                &format!("The Content-Range covers {n} bytes, the body has {l}."),
            );
        }
        let end = start + expect_len.unwrap_or(0);
        if let Some(size) = f.size
            && end > size
        {
            drop(st);
            return range_refused(ctx, start, end, size);
        }
        if f.size.is_none() && end > MAX_DESCRIPTOR {
            drop(st);
            return bad(ctx, "The OVF descriptor is too large.");
        }
        if start > f.received {
            let received = f.received;
            drop(st);
            return vcd_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "BAD_REQUEST",
                &format!(
                    "The chunk starts at byte {start}, but only {received} bytes of \"{name}\" have been received."
                ),
                &ctx.version,
            );
        }
        if st.transfers.fail_chunks > 0 && range.is_some() {
            st.transfers.fail_chunks -= 1;
            drop(st);
            return super::http::internal_error();
        }
        // The cut applies to the next PUT whose body is longer than the threshold.
        let drop_after = match st.transfers.drop_after {
            Some(d) if expect_len.is_none_or(|l| l > d) => st.transfers.drop_after.take(),
            _ => None,
        };
        (f.path, start, expect_len, drop_after)
    };
    let (written, outcome) = stream_to(&path, start, body, expect_len, drop_after).await;
    // Record the contiguous prefix, then see whether the owner is complete.
    let mut st = ctx.lock();
    let Some(idx) = st
        .transfers
        .uploads
        .iter()
        .position(|f| f.session == session && f.name == name)
    else {
        drop(st);
        return not_found(ctx);
    };
    {
        let f = &mut st.transfers.uploads[idx];
        if start <= f.received {
            f.received = f.received.max(start + written);
        }
    }
    match outcome {
        Stream::Io(e) => {
            drop(st);
            return vcd_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                &format!("The transfer could not be stored: {e}"),
                &ctx.version,
            );
        }
        Stream::Dropped => {
            drop(st);
            return dropped();
        }
        Stream::ClientGone => {
            drop(st);
            return bad(ctx, "The request body ended early.");
        }
        Stream::Done => {}
    }
    if let Some(n) = expect_len
        && written < n
    {
        drop(st);
        return bad(
            ctx,
            &format!("The body has {written} bytes, {n} were announced."),
        );
    }
    let f = st.transfers.uploads[idx].clone();
    let complete = match f.size {
        Some(size) => f.received == size,
        // A descriptor is complete when a whole-file PUT or the last chunk arrived.
        None => match range {
            Some((_, b, Some(t))) => b + 1 == t && f.received == t,
            Some((_, _, None)) => false,
            None => true,
        },
    };
    if complete && let Err(resp) = file_complete(ctx, &mut st, &f) {
        return resp;
    }
    drop(st);
    respond(StatusCode::OK, "text/plain", "")
}

fn range_refused(ctx: &Ctx<'_>, start: u64, end: u64, size: u64) -> Response {
    let mut r = vcd_error(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "BAD_REQUEST",
        &format!(
            "The range {start}-{} lies beyond the file size {size}.",
            end.saturating_sub(1)
        ),
        &ctx.version,
    );
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        r.headers_mut().insert(http::header::CONTENT_RANGE, v);
    }
    r
}

enum Stream {
    Done,
    Dropped,
    ClientGone,
    Io(std::io::Error),
}

fn write_at(path: &Path, offset: u64, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(data)
}

async fn flush(path: &Path, offset: u64, buf: Vec<u8>) -> std::io::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || write_at(&path, offset, &buf))
        .await
        .map_err(std::io::Error::other)?
}

/// Streams a body into `path` at `start`, in batches; stops after `limit` bytes when the
/// drop hook is armed, and never stores more than `expect` bytes.
async fn stream_to(
    path: &Path,
    start: u64,
    body: Body,
    expect: Option<u64>,
    drop_after: Option<u64>,
) -> (u64, Stream) {
    let mut stream = body.into_data_stream();
    let mut written = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
    let cap = match (expect, drop_after) {
        (Some(e), Some(d)) => Some(e.min(d)),
        (e, d) => e.or(d),
    };
    let mut outcome = Stream::Done;
    while let Some(frame) = stream.next().await {
        let Ok(mut data) = frame else {
            outcome = Stream::ClientGone;
            break;
        };
        if let Some(c) = cap {
            let room = c.saturating_sub(written + buf.len() as u64);
            if (data.len() as u64) > room {
                data = data.slice(..usize::try_from(room).unwrap_or(0));
            }
        }
        buf.extend_from_slice(&data);
        if buf.len() >= WRITE_BATCH {
            let n = buf.len() as u64;
            if let Err(e) = flush(path, start + written, std::mem::take(&mut buf)).await {
                return (written, Stream::Io(e));
            }
            written += n;
        }
        if drop_after.is_some_and(|d| written + buf.len() as u64 >= d) {
            outcome = Stream::Dropped;
            break;
        }
        if cap.is_some_and(|c| written + buf.len() as u64 >= c) {
            break;
        }
    }
    if !buf.is_empty() {
        let n = buf.len() as u64;
        if let Err(e) = flush(path, start + written, buf).await {
            return (written, Stream::Io(e));
        }
        written += n;
    }
    (written, outcome)
}

/// A file of an upload is complete: parse a descriptor, or end the import when it was the
/// owner's last file.
fn file_complete(ctx: &Ctx<'_>, st: &mut State, f: &UploadFile) -> Result<(), Response> {
    if let (Owner::Template(t), None) = (f.owner, f.size) {
        let text = match std::fs::read(&f.path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                return Err(bad(
                    ctx,
                    &format!("The OVF descriptor could not be read: {e}"),
                ));
            }
        };
        let ovf = match parse_ovf(&text) {
            Ok(o) => o,
            Err(msg) => {
                fail_task(st, f.task, &msg);
                return Err(bad(ctx, &msg));
            }
        };
        // The descriptor is now a known, complete file.
        if let Some(u) = st
            .transfers
            .uploads
            .iter_mut()
            .find(|u| u.session == f.session && u.name == f.name)
        {
            u.size = Some(u.received);
        }
        for (href, size) in &ovf.files {
            if let Err(e) = st.transfers.open_upload(
                Owner::Template(t),
                href,
                Some(*size),
                f.task,
                Some(f.session),
            ) {
                return Err(bad(ctx, &format!("The upload could not be prepared: {e}")));
            }
        }
        st.transfers.pending.push((t, ovf.vms, ovf.networks));
    }
    let files = st.transfers.uploads_of(f.owner);
    let done = files
        .iter()
        .all(|u| u.size.is_some_and(|s| u.received == s));
    if done {
        finish_import(st, f.owner, f.task);
    }
    Ok(())
}

fn fail_task(st: &mut State, task: Uuid, msg: &str) {
    if let Some(t) = st.tasks.get_mut(&task) {
        t.failure = Some(msg.to_owned());
        t.duration = t.created.elapsed();
    }
}

/// Every file has arrived: the import task ends after the simulator's task duration, and
/// its success applies the parsed descriptor (templates) or marks the media ready.
fn finish_import(st: &mut State, owner: Owner, task: Uuid) {
    let import = st.task_duration;
    let files: Vec<UploadFile> = st
        .transfers
        .uploads_of(owner)
        .into_iter()
        .cloned()
        .collect();
    st.transfers.uploads.retain(|u| u.owner != owner);
    for u in files {
        st.transfers
            .stored
            .push((owner, u.name.clone(), Content::Spool(u.path.clone())));
    }
    if let Some(t) = st.tasks.get_mut(&task) {
        t.duration = t.created.elapsed() + import;
    }
    let pending = st
        .transfers
        .pending
        .iter()
        .position(|(t, _, _)| *t == owner.id())
        .map(|i| st.transfers.pending.remove(i));
    if let Some(t) = st.tasks.get_mut(&task) {
        let ok: Arc<dyn Fn(&mut State) + Send + Sync> = match owner {
            Owner::Media(m) => Arc::new(move |st: &mut State| {
                if let Some(x) = st.media.iter_mut().find(|x| x.id == m) {
                    x.ready = true;
                }
            }),
            Owner::Template(id) => {
                let (vms, networks) = pending.map(|(_, v, n)| (v, n)).unwrap_or_default();
                Arc::new(move |st: &mut State| {
                    if let Some(x) = st.templates.iter_mut().find(|x| x.id == id) {
                        x.ready = true;
                        x.vms = vms.clone();
                        x.networks = networks.clone();
                    }
                })
            }
        };
        if let super::state::Effect::Workload { ok: cur, .. } = &mut t.effect {
            *cur = super::state::WorkloadFn(ok);
        }
    }
}

async fn get(ctx: &Ctx<'_>, session: Uuid, name: &str) -> Response {
    let file = {
        let st = ctx.lock();
        st.transfers
            .downloads
            .iter()
            .find(|f| f.session == session && f.name == name)
            .cloned()
    };
    let Some(file) = file else {
        return not_found(ctx);
    };
    let size = file.content.len();
    let (first, last, partial) = match ctx.header("range") {
        Some(r) => {
            let Some(spec) = r.trim().strip_prefix("bytes=") else {
                return range_refused(ctx, 0, 0, size);
            };
            let Some((a, b)) = spec.split_once('-') else {
                return range_refused(ctx, 0, 0, size);
            };
            let a: u64 = match a.trim().parse() {
                Ok(a) => a,
                Err(_) => return range_refused(ctx, 0, 0, size),
            };
            let b: u64 = match b.trim() {
                "" => size.saturating_sub(1),
                t => match t.parse::<u64>() {
                    Ok(b) => b.min(size.saturating_sub(1)),
                    Err(_) => return range_refused(ctx, a, a, size),
                },
            };
            if a >= size || a > b {
                return range_refused(ctx, a, b + 1, size);
            }
            (a, b, true)
        }
        None => (0, size.saturating_sub(1), false),
    };
    let len = if size == 0 { 0 } else { last - first + 1 };
    let stream = futures::stream::unfold(
        (file.content, first, len),
        |(content, pos, left)| async move {
            if left == 0 {
                return None;
            }
            let n = left.min(READ_BATCH as u64);
            let chunk = match &content {
                Content::Zeros(_) => Ok(Bytes::from(vec![0u8; n as usize])),
                Content::Inline(b) => Ok(b.slice(pos as usize..(pos + n) as usize)),
                Content::Spool(p) => {
                    let p = p.clone();
                    tokio::task::spawn_blocking(move || -> std::io::Result<Bytes> {
                        let mut f = std::fs::File::open(p)?;
                        f.seek(SeekFrom::Start(pos))?;
                        let mut buf = vec![0u8; n as usize];
                        f.read_exact(&mut buf)?;
                        Ok(Bytes::from(buf))
                    })
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|r| r)
                }
            };
            Some((chunk, (content, pos + n, left - n)))
        },
    );
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(http::header::CONTENT_LENGTH, len.into());
    h.insert(
        http::header::ACCEPT_RANGES,
        HeaderValue::from_static("bytes"),
    );
    if partial && let Ok(v) = HeaderValue::from_str(&format!("bytes {first}-{last}/{size}")) {
        h.insert(http::header::CONTENT_RANGE, v);
    }
    resp
}

// ---------------------------------------------------------------------------------------------
// Test hooks

impl VcloudSimulatorHandle {
    /// The next `n` chunk `PUT`s (those with a `Content-Range`) to the transfer service
    /// are answered 500 (vCD's internal error document) and store nothing.
    pub fn fail_upload_chunks(&self, n: u32) {
        self.shared.lock().transfers.fail_chunks = n;
    }

    /// The next chunk `PUT` to the transfer service whose body is longer than `bytes`
    /// stores its first `bytes` body bytes, then its connection is dropped without an
    /// answer (as a network cut would).
    pub fn drop_upload_after(&self, bytes: u64) {
        self.shared.lock().transfers.drop_after = Some(bytes);
    }

    /// Number of `PUT`s the transfer service has received.
    pub fn upload_put_count(&self) -> u64 {
        self.shared.lock().transfers.chunk_puts
    }

    /// Number of files still open for upload (all uploads finished: 0).
    pub fn open_upload_files(&self) -> usize {
        self.shared.lock().transfers.uploads.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OVF: &str = r#"<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="4096"/></References>
  <DiskSection><Info>d</Info><Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="2" ovf:capacityAllocationUnits="byte * 2^30"/></DiskSection>
  <NetworkSection><Info>n</Info><Network ovf:name="VM Network"/></NetworkSection>
  <VirtualSystem ovf:id="tiny"><Info>vm</Info><Name>tiny-01</Name>
    <OperatingSystemSection ovf:id="107"><Info>os</Info><Description>CentOS 7 (64-bit)</Description></OperatingSystemSection>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>
      <Item><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Connection>VM Network</rasd:Connection><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>"#;

    #[test]
    fn descriptors_become_vms_disks_and_networks() {
        let ovf = parse_ovf(OVF).expect("parses");
        assert_eq!(ovf.files, vec![("disk1.vmdk".to_owned(), 4096)]);
        assert_eq!(ovf.networks, vec!["VM Network".to_owned()]);
        let vm = &ovf.vms[0];
        assert_eq!(
            (vm.name.as_str(), vm.cpus, vm.memory_mb, vm.disk_mb),
            ("tiny-01", 2, 512, 2048)
        );
        assert_eq!(vm.nics, vec!["VM Network".to_owned()]);
        assert_eq!(vm.guest_os, "CentOS 7 (64-bit)");
        let again = parse_ovf(&synthetic_descriptor("t", &ovf.vms, &ovf.networks)).expect("own");
        assert_eq!(again.vms[0].disk_mb, 2048);
        assert_eq!(again.vms[0].cpus, 2);
    }

    #[test]
    fn bad_descriptors_are_refused() {
        assert!(
            parse_ovf("<VAppTemplate/>")
                .expect_err("refused")
                .contains("Envelope")
        );
        assert!(parse_ovf("not xml").is_err());
        assert!(
            parse_ovf("<Envelope/>")
                .expect_err("refused")
                .contains("VirtualSystem")
        );
        let bad_ref = OVF.replace("ovf:fileRef=\"file1\"", "ovf:fileRef=\"nope\"");
        assert!(
            parse_ovf(&bad_ref)
                .expect_err("refused")
                .contains("unknown file")
        );
        let escape = OVF.replace("disk1.vmdk", "../etc/passwd");
        assert!(
            parse_ovf(&escape)
                .expect_err("refused")
                .contains("invalid file reference")
        );
    }

    #[test]
    fn content_ranges_parse() {
        assert_eq!(content_range("bytes 0-9/10"), Some((0, 9, Some(10))));
        assert_eq!(content_range("bytes 5-9/*"), Some((5, 9, None)));
        assert_eq!(content_range("bytes 9-5/10"), None);
        assert_eq!(content_range("items 0-1/2"), None);
        assert_eq!(unit_bytes(Some("byte * 2^30")), Ok(1 << 30));
        assert!(unit_bytes(Some("furlongs")).is_err());
    }
}
