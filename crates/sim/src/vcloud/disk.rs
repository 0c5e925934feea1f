//! vCD independent disks: create in a vDC (`DiskCreateParams`), get, update (resize,
//! rename), delete, the VMs a disk is attached to, and a VM's `disk:attach` /
//! `disk:detach` actions (`DiskAttachOrDetachParams`).
//!
//! Rules as vCD applies them: an unknown disk id is 403
//! `ACCESS_TO_RESOURCE_IS_FORBIDDEN`; deleting an attached disk, shrinking one, or
//! detaching one that is not attached is 400 `BAD_REQUEST`; a new disk must fit the
//! vDC's storage allocation (VM disks plus independent disks); changes become visible
//! when their task succeeds.

#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::common::{Ctx, parse_id, unauthorized, vcd_error, vcd_xml};
use super::state::{Effect, IndependentDisk, State, WorkloadFn};
use super::vcd::task_accepted;
use super::xml::{self as x, Element, NS_VCLOUD, attrs, esc, link};

/// Media type of a Disk document.
pub(crate) const MT_DISK: &str = "application/vnd.vmware.vcloud.disk+xml";
const MT_VMS: &str = "application/vnd.vmware.vcloud.vms+xml";
const MT_VM: &str = "application/vnd.vmware.vcloud.vm+xml";
const MT_VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";

fn bad(ctx: &Ctx<'_>, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg, &ctx.version)
}

fn forbidden(ctx: &Ctx<'_>, what: &str) -> Response {
    vcd_error(
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        &format!("No access to entity \"{what}\"."),
        &ctx.version,
    )
}

fn disk_id(seg: &str) -> Option<Uuid> {
    parse_id(seg, "disk").or_else(|| Uuid::parse_str(seg).ok())
}

/// The storage (MB) a vDC's VM disks and independent disks use.
pub(crate) fn storage_used_mb(st: &State, vdc: Uuid) -> u64 {
    let (_, _, vm_disks) = super::workload::vdc_usage(st, vdc);
    vm_disks
        + st.independent_disks
            .iter()
            .filter(|d| d.vdc == vdc)
            .map(|d| d.size_bytes.div_ceil(1024 * 1024))
            .sum::<u64>()
}

fn disk_xml(base: &str, d: &IndependentDisk) -> String {
    let href = format!("{base}/api/disk/{}", d.id);
    let owner = "admin";
    let mut links = String::new();
    links.push_str(&link(
        "up",
        &format!("{base}/api/vdc/{}", d.vdc),
        Some(MT_VDC),
        None,
    ));
    links.push_str(&link("edit", &href, Some(MT_DISK), None));
    links.push_str(&link("remove", &href, None, None));
    links.push_str(&link(
        "down",
        &format!("{href}/attachedVms"),
        Some(MT_VMS),
        None,
    ));
    let desc = if d.description.is_empty() {
        String::new()
    } else {
        format!("<Description>{}</Description>", esc(&d.description))
    };
    let profile = format!(
        "<StorageProfile{}/>",
        attrs(&[
            (
                "href",
                &format!(
                    "{base}/api/vdcStorageProfile/{}",
                    Uuid::from_u128(d.vdc.as_u128() ^ 0xfe)
                )
            ),
            ("name", &d.storage_profile),
            (
                "type",
                "application/vnd.vmware.vcloud.vdcStorageProfile+xml"
            ),
        ])
    );
    let owner_xml = format!(
        "<Owner type=\"application/vnd.vmware.vcloud.owner+xml\"><User{}/></Owner>",
        attrs(&[
            (
                "href",
                &format!("{base}/api/admin/user/{}", super::workload::user_id(owner))
            ),
            ("name", owner),
            ("type", "application/vnd.vmware.admin.user+xml"),
        ])
    );
    format!(
        "<Disk{}>{links}{desc}{profile}{owner_xml}</Disk>",
        attrs(&[
            ("xmlns", NS_VCLOUD),
            ("href", &href),
            ("type", MT_DISK),
            ("id", &format!("urn:vcloud:disk:{}", d.id)),
            ("name", &d.name),
            ("status", if d.ready { "1" } else { "0" }),
            ("size", &d.size_bytes.to_string()),
            ("iops", "0"),
            ("busType", &d.bus_type),
            ("busSubType", &d.bus_sub_type),
        ])
    )
}

fn task_of_disk(
    ctx: &Ctx<'_>,
    st: &mut State,
    d: Uuid,
    op_name: &str,
    operation: String,
    ok: impl Fn(&mut State) + Send + Sync + 'static,
    extra: Vec<Uuid>,
) -> Uuid {
    let name = st
        .independent_disks
        .iter()
        .find(|x| x.id == d)
        .map(|x| x.name.clone())
        .unwrap_or_default();
    let id = st.new_task(
        op_name,
        operation,
        (format!("/api/disk/{d}"), name, MT_DISK.to_owned()),
        Effect::Workload {
            ok: WorkloadFn(Arc::new(ok)),
            failed: None,
        },
        &ctx.prefix,
        None,
        None,
    );
    if let Some(t) = st.tasks.get_mut(&id) {
        t.entities = std::iter::once(d).chain(extra).collect();
    }
    id
}

fn parse_body(ctx: &Ctx<'_>, root: &str) -> Result<Element, Response> {
    let body = ctx.body_str().map_err(|e| *e)?;
    let el = x::parse(body).map_err(|e| bad(ctx, &format!("Bad request body: {e}")))?;
    if el.name != root {
        return Err(bad(
            ctx,
            &format!("Expected a {root} document, got {}.", el.name),
        ));
    }
    Ok(el)
}

fn attr<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Bus types vCD accepts with their sub types (IDE, SCSI, SATA, NVMe).
fn valid_bus(bus: &str, sub: &str) -> bool {
    matches!(
        (bus, sub),
        ("5", "ide")
            | ("6", "buslogic" | "lsilogic" | "lsilogicsas" | "VirtualSCSI")
            | ("20", "vmware.sata.ahci")
            | ("20", "vmware.nvme.controller")
    )
}

/// `POST /api/vdc/{id}/disk`: a `DiskCreateParams` document.
pub(crate) fn create(ctx: &Ctx<'_>, vdc_seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let Some(vdc) = parse_id(vdc_seg, "vdc").or_else(|| Uuid::parse_str(vdc_seg).ok()) else {
        return forbidden(ctx, &format!("urn:vcloud:vdc:{vdc_seg}"));
    };
    let doc = match parse_body(ctx, "DiskCreateParams") {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(disk) = doc.child("Disk") else {
        return bad(ctx, "DiskCreateParams has no Disk element.");
    };
    let Some(name) = attr(disk, "name").filter(|n| !n.trim().is_empty()) else {
        return bad(ctx, "The disk name must not be empty.");
    };
    let size = match attr(disk, "size").map(str::parse::<u64>) {
        Some(Ok(s)) if s > 0 => s,
        Some(Ok(_)) => return bad(ctx, "The disk size must be greater than 0."),
        _ => match attr(disk, "sizeMb").map(str::parse::<u64>) {
            Some(Ok(mb)) if mb > 0 => mb * 1024 * 1024,
            _ => return bad(ctx, "The disk size is missing or not a number."),
        },
    };
    let bus_type = attr(disk, "busType").unwrap_or("6").to_owned();
    let bus_sub_type = attr(disk, "busSubType").unwrap_or("lsilogic").to_owned();
    if !valid_bus(&bus_type, &bus_sub_type) {
        return bad(
            ctx,
            &format!("Invalid bus type/sub type combination: {bus_type}/{bus_sub_type}."),
        );
    }
    let profile = disk
        .child("StorageProfile")
        .and_then(|p| {
            attr(p, "name")
                .map(str::to_owned)
                .or_else(|| attr(p, "href").map(str::to_owned))
        })
        .unwrap_or_else(|| "*".to_owned());
    let mut st = ctx.lock();
    if !st.vdcs.iter().any(|v| v.id == vdc) {
        return forbidden(ctx, &format!("urn:vcloud:vdc:{vdc}"));
    }
    let profile_href_ok =
        profile == "*" || profile.ends_with(&Uuid::from_u128(vdc.as_u128() ^ 0xfe).to_string());
    if !profile_href_ok {
        return bad(
            ctx,
            &format!("The storage profile \"{profile}\" is not available in the vDC."),
        );
    }
    let add_mb = size.div_ceil(1024 * 1024);
    let used = storage_used_mb(&st, vdc);
    let limit = super::workload::STORAGE_LIMIT_MB;
    if used + add_mb > limit {
        return bad(
            ctx,
            &format!(
                "The operation would exceed the vDC's storage allocation: {used} MB used, {add_mb} MB requested, {limit} MB allocated."
            ),
        );
    }
    let id = crate::random_uuid();
    st.independent_disks.push(IndependentDisk {
        id,
        vdc,
        name: name.to_owned(),
        description: doc
            .child("Disk")
            .and_then(|d| d.child_text("Description"))
            .unwrap_or_default()
            .to_owned(),
        size_bytes: size,
        bus_type,
        bus_sub_type,
        storage_profile: "*".to_owned(),
        attached: Vec::new(),
        ready: false,
    });
    let task = task_of_disk(
        ctx,
        &mut st,
        id,
        "vdcCreateDisk",
        format!("Creating Disk {name}({id})"),
        move |st: &mut State| {
            if let Some(d) = st.independent_disks.iter_mut().find(|d| d.id == id) {
                d.ready = true;
            }
        },
        Vec::new(),
    );
    let base = ctx.base();
    let Some(d) = st.independent_disks.iter().find(|d| d.id == id).cloned() else {
        return bad(ctx, "The disk vanished.");
    };
    let task_xml = match st.tasks.get(&task) {
        Some(t) => super::vcd::task_xml(&ctx.shared.origin, &st, t, ctx.now),
        None => String::new(),
    };
    let mut body = disk_xml(&base, &d);
    let tasks = format!("<Tasks>{}</Tasks>", strip_ns(&task_xml));
    if let Some(pos) = body.find("<StorageProfile") {
        body.insert_str(pos, &tasks);
    }
    vcd_xml(StatusCode::CREATED, MT_DISK, &ctx.version, &body)
}

/// A Task document without its own `xmlns` (inside a Disk it inherits the vCloud one).
fn strip_ns(task: &str) -> String {
    task.replacen(&format!(" xmlns=\"{NS_VCLOUD}\""), "", 1)
}

/// `GET /api/disk/{id}`.
pub(crate) fn get(ctx: &Ctx<'_>, seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let st = ctx.lock();
    match disk_id(seg).and_then(|id| st.independent_disks.iter().find(|d| d.id == id)) {
        Some(d) => vcd_xml(
            StatusCode::OK,
            MT_DISK,
            &ctx.version,
            &disk_xml(&ctx.base(), d),
        ),
        None => forbidden(ctx, &format!("urn:vcloud:disk:{seg}")),
    }
}

/// `GET /api/disk/{id}/attachedVms`: a `Vms` document of `VmReference`s.
pub(crate) fn attached_vms(ctx: &Ctx<'_>, seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let st = ctx.lock();
    let Some(d) = disk_id(seg).and_then(|id| st.independent_disks.iter().find(|d| d.id == id))
    else {
        return forbidden(ctx, &format!("urn:vcloud:disk:{seg}"));
    };
    let base = ctx.base();
    let refs: String = d
        .attached
        .iter()
        .filter_map(|m| st.vms.iter().find(|v| v.id == *m))
        .map(|v| {
            format!(
                "<VmReference{}/>",
                attrs(&[
                    ("href", &format!("{base}/api/vApp/vm-{}", v.id)),
                    ("id", &format!("urn:vcloud:vm:{}", v.id)),
                    ("type", MT_VM),
                    ("name", &v.name),
                ])
            )
        })
        .collect();
    vcd_xml(
        StatusCode::OK,
        MT_VMS,
        &ctx.version,
        &format!(
            "<Vms{}>{refs}</Vms>",
            attrs(&[
                ("xmlns", NS_VCLOUD),
                ("href", &format!("{base}/api/disk/{}/attachedVms", d.id)),
                ("type", MT_VMS),
            ])
        ),
    )
}

/// `PUT /api/disk/{id}`: a Disk document with the new name, description and size
/// (vCD only grows disks).
pub(crate) fn update(ctx: &Ctx<'_>, seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let doc = match parse_body(ctx, "Disk") {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut st = ctx.lock();
    let Some(d) = disk_id(seg)
        .and_then(|id| st.independent_disks.iter().find(|d| d.id == id))
        .cloned()
    else {
        return forbidden(ctx, &format!("urn:vcloud:disk:{seg}"));
    };
    let Some(size) = attr(&doc, "size").and_then(|s| s.parse::<u64>().ok()) else {
        return bad(ctx, "The disk size is missing or not a number.");
    };
    if size < d.size_bytes {
        return bad(
            ctx,
            &format!(
                "The disk \"{}\" cannot be shrunk: {} bytes requested, {} bytes allocated.",
                d.name, size, d.size_bytes
            ),
        );
    }
    let grow_mb = (size - d.size_bytes).div_ceil(1024 * 1024);
    let used = storage_used_mb(&st, d.vdc);
    let limit = super::workload::STORAGE_LIMIT_MB;
    if used + grow_mb > limit {
        return bad(
            ctx,
            &format!(
                "The operation would exceed the vDC's storage allocation: {used} MB used, {grow_mb} MB requested, {limit} MB allocated."
            ),
        );
    }
    let name = attr(&doc, "name").unwrap_or(&d.name).to_owned();
    let description = doc.child_text("Description").map(str::to_owned);
    let id = d.id;
    let task = task_of_disk(
        ctx,
        &mut st,
        id,
        "vdcUpdateDisk",
        format!("Updating Disk {}({id})", d.name),
        move |st: &mut State| {
            if let Some(d) = st.independent_disks.iter_mut().find(|d| d.id == id) {
                d.size_bytes = size;
                d.name = name.clone();
                if let Some(desc) = &description {
                    d.description = desc.clone();
                }
            }
        },
        Vec::new(),
    );
    task_accepted(ctx, &st, task)
}

/// `DELETE /api/disk/{id}`: refused while the disk is attached to a VM.
pub(crate) fn delete(ctx: &Ctx<'_>, seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let mut st = ctx.lock();
    let Some(d) = disk_id(seg)
        .and_then(|id| st.independent_disks.iter().find(|d| d.id == id))
        .cloned()
    else {
        return forbidden(ctx, &format!("urn:vcloud:disk:{seg}"));
    };
    if !d.attached.is_empty() {
        let vms: Vec<String> = d
            .attached
            .iter()
            .filter_map(|m| st.vms.iter().find(|v| v.id == *m).map(|v| v.name.clone()))
            .collect();
        return bad(
            ctx,
            &format!(
                "The disk \"{}\" cannot be deleted, because it is attached to VM(s) {}.",
                d.name,
                vms.join(", ")
            ),
        );
    }
    let id = d.id;
    let task = task_of_disk(
        ctx,
        &mut st,
        id,
        "vdcDeleteDisk",
        format!("Deleting Disk {}({id})", d.name),
        move |st: &mut State| st.independent_disks.retain(|d| d.id != id),
        Vec::new(),
    );
    task_accepted(ctx, &st, task)
}

/// `POST /api/vApp/vm-{id}/disk/action/{attach|detach}`: a `DiskAttachOrDetachParams`.
pub(crate) fn vm_action(ctx: &Ctx<'_>, vm_seg: &str, action: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let doc = match parse_body(ctx, "DiskAttachOrDetachParams") {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut st = ctx.lock();
    let Some(vm) = vm_seg
        .strip_prefix("vm-")
        .and_then(|s| Uuid::parse_str(s).ok())
        .and_then(|u| st.vms.iter().find(|v| v.id == u))
        .cloned()
    else {
        return forbidden(ctx, &format!("urn:vcloud:vm:{vm_seg}"));
    };
    let Some(href) = doc.child("Disk").and_then(|d| attr(d, "href")) else {
        return bad(ctx, "DiskAttachOrDetachParams has no Disk reference.");
    };
    let seg = href
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let Some(d) = disk_id(seg)
        .and_then(|id| st.independent_disks.iter().find(|d| d.id == id))
        .cloned()
    else {
        return forbidden(ctx, &format!("urn:vcloud:disk:{seg}"));
    };
    if d.vdc != vm.vdc {
        return bad(
            ctx,
            &format!(
                "The disk \"{}\" and the VM \"{}\" are not in the same vDC.",
                d.name, vm.name
            ),
        );
    }
    let (disk, m) = (d.id, vm.id);
    let task = match action {
        "attach" => {
            if d.attached.contains(&m) {
                return bad(
                    ctx,
                    &format!(
                        "The disk \"{}\" is already attached to VM \"{}\".",
                        d.name, vm.name
                    ),
                );
            }
            if !d.attached.is_empty() {
                return bad(
                    ctx,
                    &format!("The disk \"{}\" is already attached to another VM.", d.name),
                );
            }
            task_of_disk(
                ctx,
                &mut st,
                disk,
                "vappAttachDisk",
                format!("Attaching Disk {} to VM {}", d.name, vm.name),
                move |st: &mut State| {
                    if let Some(d) = st.independent_disks.iter_mut().find(|d| d.id == disk)
                        && !d.attached.contains(&m)
                    {
                        d.attached.push(m);
                    }
                },
                vec![m, vm.vapp],
            )
        }
        "detach" => {
            if !d.attached.contains(&m) {
                return bad(
                    ctx,
                    &format!(
                        "The disk \"{}\" is not attached to VM \"{}\".",
                        d.name, vm.name
                    ),
                );
            }
            task_of_disk(
                ctx,
                &mut st,
                disk,
                "vappDetachDisk",
                format!("Detaching Disk {} from VM {}", d.name, vm.name),
                move |st: &mut State| {
                    if let Some(d) = st.independent_disks.iter_mut().find(|d| d.id == disk) {
                        d.attached.retain(|v| *v != m);
                    }
                },
                vec![m, vm.vapp],
            )
        }
        other => {
            return vcd_error(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_FOUND",
                &format!("No resource for POST disk/action/{other}."),
                &ctx.version,
            );
        }
    };
    task_accepted(ctx, &st, task)
}
