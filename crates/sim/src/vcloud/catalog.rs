//! vCD catalogs, catalog items, vApp templates and media: their documents, the seed
//! catalogs, and the handlers that create, change, share, upload into, download from and
//! delete them (uploads and downloads themselves go through `transfer.rs`).
//!
//! Rules as vCD applies them: an unknown id is 403 `ACCESS_TO_RESOURCE_IS_FORBIDDEN`;
//! every request needs a session; names of catalogs (in an org) and of items (in a
//! catalog) are unique without regard to case (400 `DUPLICATE_NAME`); a catalog that
//! holds items is deleted only with `recursive=true`; access levels are `ReadOnly`,
//! `Change` and `FullControl`, and a catalog is shared with everyone only `ReadOnly`.

// Handlers answer refusals as ready `Response`s, which are large; the seed table is a
// literal of tuples.
#![allow(clippy::result_large_err, clippy::type_complexity)]

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::common::{Ctx, parse_id, unauthorized, vcd_error, vcd_xml};
use super::state::{Catalog, Effect, Media, State, Template, TemplateVm, Token, WorkloadFn};
use super::transfer::{self, Content, Owner};
use super::vcd::task_accepted;
use super::workload::user_id;
use super::xml::{self as x, Element, NS_VCLOUD, attrs, esc, link};

const NS_OVF: &str = "http://schemas.dmtf.org/ovf/envelope/1";
const NS_RASD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData";
const NS_VSSD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData";
const NS_VMW: &str = "http://www.vmware.com/schema/ovf";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

const MT_VM: &str = "application/vnd.vmware.vcloud.vm+xml";
const MT_CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";
const MT_ADMIN_CATALOG: &str = "application/vnd.vmware.admin.catalog+xml";
const MT_ITEM: &str = "application/vnd.vmware.vcloud.catalogItem+xml";
const MT_MEDIA: &str = "application/vnd.vmware.vcloud.media+xml";
const MT_TEMPLATE: &str = "application/vnd.vmware.vcloud.vAppTemplate+xml";
const MT_UPLOAD_PARAMS: &str = "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml";
const MT_CONTROL_ACCESS: &str = "application/vnd.vmware.vcloud.controlAccess+xml";
const MT_PUBLISH: &str = "application/vnd.vmware.admin.publishCatalogParams+xml";
const MT_ORG: &str = "application/vnd.vmware.vcloud.org+xml";
const MT_ADMIN_ORG: &str = "application/vnd.vmware.admin.organization+xml";
const MT_USER: &str = "application/vnd.vmware.admin.user+xml";

/// Access levels vCD accepts on catalogs.
const LEVELS: [&str; 3] = ["ReadOnly", "Change", "FullControl"];

fn root_ns() -> String {
    format!(
        " xmlns=\"{NS_VCLOUD}\" xmlns:vcloud=\"{NS_VCLOUD}\" xmlns:ovf=\"{NS_OVF}\" xmlns:rasd=\"{NS_RASD}\" xmlns:vssd=\"{NS_VSSD}\" xmlns:vmw=\"{NS_VMW}\" xmlns:xsi=\"{NS_XSI}\""
    )
}

fn a(pairs: &[(&str, &str)]) -> String {
    attrs(pairs)
}

fn auth(ctx: &Ctx<'_>) -> Result<Token, Response> {
    ctx.vcd_token().ok_or_else(|| unauthorized(ctx))
}

fn forbidden(ctx: &Ctx<'_>, what: &str) -> Response {
    vcd_error(
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        &format!("No access to entity \"{what}\"."),
        &ctx.version,
    )
}

fn ok_xml(ctx: &Ctx<'_>, media: &str, body: &str) -> Response {
    vcd_xml(StatusCode::OK, media, &ctx.version, body)
}

fn bad_request(ctx: &Ctx<'_>, code: &str, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, code, msg, &ctx.version)
}

fn new_id() -> Uuid {
    crate::random_uuid()
}

fn owner_xml(base: &str) -> String {
    format!(
        "<Owner type=\"application/vnd.vmware.vcloud.owner+xml\"><User{}/></Owner>",
        a(&[
            (
                "href",
                &format!("{base}/api/admin/user/{}", user_id("admin"))
            ),
            ("name", "admin"),
            ("type", MT_USER),
        ])
    )
}

fn parse_body(ctx: &Ctx<'_>) -> Result<Element, Response> {
    let body = ctx.body_str().map_err(|e| *e)?;
    x::parse(body).map_err(|e| bad_request(ctx, "BAD_REQUEST", &format!("Bad request body: {e}")))
}

fn attr<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------
// Seed data

/// Seeds catalogs `Public` and `DevOps` with four vApp templates in both vDCs and an ISO;
/// the first two templates get the ids drawn by the seed (kept stable for older tests).
pub(crate) fn seed_catalogs(st: &mut State, template_ids: &[Uuid], created: &str) {
    use super::state::ids;
    let mut rng = fastrand::Rng::with_seed(8);
    let mut uuid = || uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid();
    let catalog = |id: Uuid, name: &str, description: &str| Catalog {
        id,
        org: ids::ORG,
        name: name.into(),
        description: description.into(),
        published: false,
        everyone: None,
        access: Vec::new(),
        version: 1,
        created: created.to_owned(),
    };
    let public = catalog(uuid(), "Public", "Shared base images");
    let devops = catalog(uuid(), "DevOps", "Team templates");
    let specs: [(&str, &Catalog, Uuid, &[(&str, u32, u32, u64, &str)]); 4] = [
        (
            "centos7-base",
            &public,
            ids::VDC_PROD,
            &[("centos7", 1, 1024, 16384, "CentOS 7 (64-bit)")],
        ),
        (
            "CentOS7-Base",
            &devops,
            ids::VDC_PROD,
            &[("centos7", 2, 2048, 20480, "CentOS 7 (64-bit)")],
        ),
        (
            "ubuntu22-base",
            &public,
            ids::VDC_DEV,
            &[("ubuntu22", 1, 2048, 20480, "Ubuntu Linux (64-bit)")],
        ),
        (
            "lamp-stack",
            &devops,
            ids::VDC_DEV,
            &[
                ("web", 2, 2048, 16384, "CentOS 7 (64-bit)"),
                ("db", 2, 4096, 32768, "Ubuntu Linux (64-bit)"),
            ],
        ),
    ];
    for (i, (name, cat, vdc, vms)) in specs.iter().enumerate() {
        let id = template_ids.get(i).copied().unwrap_or_else(&mut uuid);
        let item_id = uuid();
        st.templates.push(Template {
            id,
            vdc: *vdc,
            name: (*name).into(),
            catalog: cat.name.clone(),
            created: created.to_owned(),
            catalog_id: cat.id,
            item_id,
            description: format!("{name} template"),
            vms: vms
                .iter()
                .map(|(n, c, m, d, os)| TemplateVm {
                    id: uuid(),
                    name: (*n).into(),
                    cpus: *c,
                    memory_mb: *m,
                    disk_mb: *d,
                    guest_os: (*os).into(),
                    disks_mb: vec![*d],
                    nics: Vec::new(),
                })
                .collect(),
            networks: Vec::new(),
            ready: true,
        });
    }
    st.media.push(Media {
        id: uuid(),
        vdc: ids::VDC_PROD,
        catalog: public.id,
        item: uuid(),
        name: "ubuntu-22.04.iso".into(),
        size: 1_474_873_344,
        image_type: "iso".into(),
        description: String::new(),
        ready: true,
    });
    st.catalogs.push(public);
    st.catalogs.push(devops);
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn template_vm_hardware(vm: &TemplateVm) -> String {
    let item = |fields: &[(&str, String)]| {
        let mut out = String::from("<ovf:Item>");
        for (k, v) in fields {
            if k.starts_with('<') {
                out.push_str(v);
            } else {
                out.push_str(&format!("<rasd:{k}>{}</rasd:{k}>", esc(v)));
            }
        }
        out.push_str("</ovf:Item>");
        out
    };
    let mut out = String::from(
        "<ovf:VirtualHardwareSection ovf:transport=\"\"><ovf:Info>Virtual hardware requirements</ovf:Info>",
    );
    out.push_str(&item(&[
        ("AllocationUnits", "hertz * 10^6".into()),
        ("ElementName", format!("{} virtual CPU(s)", vm.cpus)),
        ("InstanceID", "1".into()),
        ("ResourceType", "3".into()),
        ("VirtualQuantity", vm.cpus.to_string()),
    ]));
    out.push_str(&item(&[
        ("AllocationUnits", "byte * 2^20".into()),
        ("ElementName", format!("{} MB of memory", vm.memory_mb)),
        ("InstanceID", "2".into()),
        ("ResourceType", "4".into()),
        ("VirtualQuantity", vm.memory_mb.to_string()),
    ]));
    for (i, mb) in vm.disks_mb.iter().enumerate() {
        out.push_str(&item(&[
            ("AddressOnParent", i.to_string()),
            ("ElementName", format!("Hard disk {}", i + 1)),
            (
                "<HostResource",
                format!("<rasd:HostResource vcloud:capacity=\"{mb}\"/>"),
            ),
            ("InstanceID", (2000 + i).to_string()),
            ("ResourceType", "17".into()),
            ("VirtualQuantity", (mb * 1024 * 1024).to_string()),
            ("VirtualQuantityUnits", "byte".into()),
        ]));
    }
    for (i, net) in vm.nics.iter().enumerate() {
        out.push_str(&item(&[
            (
                "<Connection",
                format!(
                    "<rasd:Connection vcloud:ipAddressingMode=\"NONE\" vcloud:primaryNetworkConnection=\"{}\">{}</rasd:Connection>",
                    i == 0,
                    esc(net)
                ),
            ),
            ("ElementName", format!("Network adapter {i}")),
            ("InstanceID", (3000 + i).to_string()),
            ("ResourceType", "10".into()),
        ]));
    }
    out.push_str("</ovf:VirtualHardwareSection>");
    out
}

fn template_xml(st: &State, origin: &str, base: &str, t: &Template) -> String {
    let href = format!("{base}/api/vAppTemplate/vappTemplate-{}", t.id);
    let owner = Owner::Template(t.id);
    let uploads = st.transfers.uploads_of(owner);
    let descriptor_done = uploads
        .iter()
        .find(|f| f.name == "descriptor.ovf")
        .is_none_or(|f| f.size.is_some());
    let mut out = format!(
        "<VAppTemplate{}{}>",
        root_ns(),
        a(&[
            ("goldMaster", "false"),
            (
                "ovfDescriptorUploaded",
                if descriptor_done { "true" } else { "false" }
            ),
            ("status", if t.ready { "8" } else { "0" }),
            ("name", &t.name),
            ("id", &format!("urn:vcloud:vapptemplate:{}", t.id)),
            ("href", &href),
            ("type", MT_TEMPLATE),
        ])
    );
    out.push_str(&link(
        "up",
        &format!("{base}/api/vdc/{}", t.vdc),
        Some("application/vnd.vmware.vcloud.vdc+xml"),
        None,
    ));
    out.push_str(&link(
        "up",
        &format!("{base}/api/catalogItem/{}", t.item_id),
        Some(MT_ITEM),
        None,
    ));
    if t.ready {
        out.push_str(&link(
            "enable",
            &format!("{href}/action/enableDownload"),
            None,
            None,
        ));
        out.push_str(&link("edit", &href, Some(MT_TEMPLATE), None));
        out.push_str(&link("remove", &href, None, None));
        if let Some(d) = st
            .transfers
            .downloads_of(owner)
            .into_iter()
            .find(|d| d.name == "descriptor.ovf")
        {
            out.push_str(&link(
                "download:default",
                &transfer::file_href(origin, d.session, &d.name),
                Some("text/xml"),
                None,
            ));
        }
    }
    out.push_str(&format!(
        "<Description>{}</Description>",
        esc(&t.description)
    ));
    let tasks = running_tasks_xml(
        st,
        origin,
        &format!("/api/vAppTemplate/vappTemplate-{}", t.id),
    );
    out.push_str(&tasks);
    out.push_str(&transfer::upload_files_xml(st, origin, owner));
    out.push_str(&owner_xml(base));
    out.push_str("<Children>");
    for vm in &t.vms {
        out.push_str(&format!(
            "<Vm goldMaster=\"false\"{}><Description/>{}<NetworkConnectionSection{} ovf:required=\"false\"><ovf:Info>Network connections</ovf:Info><PrimaryNetworkConnectionIndex>0</PrimaryNetworkConnectionIndex><NetworkConnection network=\"none\"><NetworkConnectionIndex>0</NetworkConnectionIndex><IsConnected>false</IsConnected><IpAddressAllocationMode>NONE</IpAddressAllocationMode></NetworkConnection></NetworkConnectionSection><VAppScopedLocalId>{}</VAppScopedLocalId><DateCreated>{}</DateCreated></Vm>",
            a(&[
                ("status", "8"),
                ("name", &vm.name),
                ("id", &format!("urn:vcloud:vm:{}", vm.id)),
                ("href", &format!("{base}/api/vAppTemplate/vm-{}", vm.id)),
                ("type", MT_VM),
            ]),
            template_vm_hardware(vm),
            a(&[
                ("href", &format!("{base}/api/vAppTemplate/vm-{}/networkConnectionSection/", vm.id)),
                ("type", "application/vnd.vmware.vcloud.networkConnectionSection+xml"),
            ]),
            esc(&vm.name),
            esc(&t.created)
        ));
    }
    out.push_str("</Children>");
    if !t.networks.is_empty() {
        out.push_str("<ovf:NetworkSection><ovf:Info>The list of logical networks</ovf:Info>");
        for n in &t.networks {
            out.push_str(&format!(
                "<ovf:Network ovf:name=\"{}\"><ovf:Description/></ovf:Network>",
                esc(n)
            ));
        }
        out.push_str("</ovf:NetworkSection>");
    }
    out.push_str(&format!(
        "<DateCreated>{}</DateCreated></VAppTemplate>",
        esc(&t.created)
    ));
    out
}

/// `<Tasks>` with the running tasks whose owner is `path` (empty string when none).
fn running_tasks_xml(st: &State, origin: &str, path: &str) -> String {
    let now = std::time::Instant::now();
    let mut tasks: Vec<_> = st
        .tasks
        .values()
        .filter(|t| t.owner_href_path == path)
        .filter(|t| {
            matches!(
                t.phase(now),
                super::state::TaskPhase::Queued | super::state::TaskPhase::Running(_)
            )
        })
        .collect();
    if tasks.is_empty() {
        return String::new();
    }
    tasks.sort_by_key(|t| t.created);
    let mut out = String::from("<Tasks>");
    for t in tasks {
        let xml = super::vcd::task_xml(origin, st, t, now);
        out.push_str(&xml.replacen(&format!(" xmlns=\"{NS_VCLOUD}\""), "", 1));
    }
    out.push_str("</Tasks>");
    out
}

fn catalog_links(base: &str, c: &Catalog, admin: bool) -> String {
    let me = format!("{base}/api/catalog/{}", c.id);
    let admin_href = format!("{base}/api/admin/catalog/{}", c.id);
    let mut out = String::new();
    if admin {
        out.push_str(&link(
            "up",
            &format!("{base}/api/admin/org/{}", c.org),
            Some(MT_ADMIN_ORG),
            None,
        ));
        out.push_str(&link("alternate", &me, Some(MT_CATALOG), None));
        out.push_str(&link("edit", &admin_href, Some(MT_ADMIN_CATALOG), None));
        out.push_str(&link("remove", &admin_href, None, None));
    } else {
        out.push_str(&link(
            "up",
            &format!("{base}/api/org/{}", c.org),
            Some(MT_ORG),
            None,
        ));
        out.push_str(&link(
            "add",
            &format!("{me}/action/upload"),
            Some(MT_MEDIA),
            None,
        ));
        out.push_str(&link(
            "add",
            &format!("{me}/action/upload"),
            Some(MT_UPLOAD_PARAMS),
            None,
        ));
        out.push_str(&link(
            "add",
            &format!("{me}/action/captureVApp"),
            Some("application/vnd.vmware.vcloud.captureVAppParams+xml"),
            None,
        ));
        out.push_str(&link(
            "down",
            &format!("{me}/controlAccess/"),
            Some(MT_CONTROL_ACCESS),
            None,
        ));
        out.push_str(&link(
            "controlAccess",
            &format!(
                "{base}/api/org/{}/catalog/{}/action/controlAccess",
                c.org, c.id
            ),
            Some(MT_CONTROL_ACCESS),
            None,
        ));
    }
    out.push_str(&link(
        "publish",
        &format!("{admin_href}/action/publish"),
        Some(MT_PUBLISH),
        None,
    ));
    out
}

fn catalog_xml(st: &State, base: &str, c: &Catalog, admin: bool) -> String {
    let (root, mt) = if admin {
        ("AdminCatalog", MT_ADMIN_CATALOG)
    } else {
        ("Catalog", MT_CATALOG)
    };
    let href = if admin {
        format!("{base}/api/admin/catalog/{}", c.id)
    } else {
        format!("{base}/api/catalog/{}", c.id)
    };
    let mut out = format!(
        "<{root} xmlns=\"{NS_VCLOUD}\"{}>",
        a(&[
            ("name", &c.name),
            ("id", &format!("urn:vcloud:catalog:{}", c.id)),
            ("href", &href),
            ("type", mt),
        ])
    );
    out.push_str(&catalog_links(base, c, admin));
    out.push_str(&format!(
        "<Description>{}</Description>{}<CatalogItems>",
        esc(&c.description),
        owner_xml(base)
    ));
    let items = st
        .templates
        .iter()
        .filter(|t| t.catalog_id == c.id)
        .map(|t| (t.item_id, &t.name))
        .chain(
            st.media
                .iter()
                .filter(|m| m.catalog == c.id)
                .map(|m| (m.item, &m.name)),
        );
    for (item, name) in items {
        out.push_str(&format!(
            "<CatalogItem{}/>",
            a(&[
                ("href", &format!("{base}/api/catalogItem/{item}")),
                ("id", &item.to_string()),
                ("name", name),
                ("type", MT_ITEM),
            ])
        ));
    }
    out.push_str(&format!(
        "</CatalogItems><IsPublished>{}</IsPublished><DateCreated>{}</DateCreated><VersionNumber>{}</VersionNumber></{root}>",
        c.published,
        esc(&c.created),
        c.version
    ));
    out
}

fn catalog_item_xml(
    base: &str,
    item: Uuid,
    catalog: Uuid,
    name: &str,
    description: &str,
    size: u64,
    entity: (String, &str),
) -> String {
    format!(
        "<CatalogItem xmlns=\"{NS_VCLOUD}\"{}>{}{}<Description>{}</Description><Entity{}/><DateCreated>2026-01-15T10:12:44.517Z</DateCreated><VersionNumber>1</VersionNumber></CatalogItem>",
        a(&[
            ("size", &size.to_string()),
            ("name", name),
            ("id", &format!("urn:vcloud:catalogitem:{item}")),
            ("href", &format!("{base}/api/catalogItem/{item}")),
            ("type", MT_ITEM),
        ]),
        link(
            "up",
            &format!("{base}/api/catalog/{catalog}"),
            Some(MT_CATALOG),
            None
        ),
        link(
            "remove",
            &format!("{base}/api/catalogItem/{item}"),
            None,
            None
        ),
        esc(description),
        a(&[("href", &entity.0), ("name", name), ("type", entity.1)])
    )
}

fn media_xml(st: &State, origin: &str, base: &str, m: &Media) -> String {
    let href = format!("{base}/api/media/{}", m.id);
    let owner = Owner::Media(m.id);
    let mut links = link(
        "up",
        &format!("{base}/api/vdc/{}", m.vdc),
        Some("application/vnd.vmware.vcloud.vdc+xml"),
        None,
    );
    links.push_str(&link(
        "up",
        &format!("{base}/api/catalogItem/{}", m.item),
        Some(MT_ITEM),
        None,
    ));
    if m.ready {
        links.push_str(&link(
            "enable",
            &format!("{href}/action/enableDownload"),
            None,
            None,
        ));
        links.push_str(&link("edit", &href, Some(MT_MEDIA), None));
        links.push_str(&link("remove", &href, None, None));
    }
    let files = if m.ready {
        transfer::download_files_xml(st, origin, owner)
    } else {
        transfer::upload_files_xml(st, origin, owner)
    };
    let tasks = running_tasks_xml(st, origin, &format!("/api/media/{}", m.id));
    format!(
        "<Media xmlns=\"{NS_VCLOUD}\"{}>{links}<Description>{}</Description>{tasks}{files}{}</Media>",
        a(&[
            ("size", &m.size.to_string()),
            ("imageType", &m.image_type),
            ("status", if m.ready { "1" } else { "0" }),
            ("name", &m.name),
            ("id", &format!("urn:vcloud:media:{}", m.id)),
            ("href", &href),
            ("type", MT_MEDIA),
        ]),
        esc(&m.description),
        owner_xml(base)
    )
}

fn control_access_xml(st: &State, c: &Catalog) -> String {
    let _ = st;
    let mut out = format!(
        "<ControlAccessParams xmlns=\"{NS_VCLOUD}\"><IsSharedToEveryone>{}</IsSharedToEveryone>",
        c.everyone.is_some()
    );
    if let Some(level) = &c.everyone {
        out.push_str(&format!(
            "<EveryoneAccessLevel>{}</EveryoneAccessLevel>",
            esc(level)
        ));
    }
    if !c.access.is_empty() {
        out.push_str("<AccessSettings>");
        for (href, name, typ, level) in &c.access {
            out.push_str(&format!(
                "<AccessSetting><Subject{}/><AccessLevel>{}</AccessLevel></AccessSetting>",
                a(&[("href", href), ("name", name), ("type", typ)]),
                esc(level)
            ));
        }
        out.push_str("</AccessSettings>");
    }
    out.push_str("</ControlAccessParams>");
    out
}

// ---------------------------------------------------------------------------------------------
// Handlers: reading

fn find_catalog<'a>(st: &'a State, id: &str) -> Option<&'a Catalog> {
    parse_id(id, "").and_then(|u| st.catalogs.iter().find(|c| c.id == u))
}

/// `GET /api/catalog/{id}`.
pub(crate) fn catalog(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    match find_catalog(&st, id) {
        Some(c) => ok_xml(ctx, MT_CATALOG, &catalog_xml(&st, &base, c, false)),
        None => forbidden(ctx, id),
    }
}

/// `GET /api/admin/catalog/{id}`: the AdminCatalog view.
pub(crate) fn admin_catalog(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    match find_catalog(&st, id) {
        Some(c) => ok_xml(ctx, MT_ADMIN_CATALOG, &catalog_xml(&st, &base, c, true)),
        None => forbidden(ctx, id),
    }
}

/// `GET /api/catalogItem/{id}`.
pub(crate) fn catalog_item(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    let Some(u) = parse_id(id, "") else {
        return forbidden(ctx, id);
    };
    if let Some(t) = st.templates.iter().find(|t| t.item_id == u) {
        let entity = (
            format!("{base}/api/vAppTemplate/vappTemplate-{}", t.id),
            MT_TEMPLATE,
        );
        let size: u64 = st
            .transfers
            .stored_of(Owner::Template(t.id))
            .iter()
            .map(|(_, c)| content_len(c))
            .sum();
        return ok_xml(
            ctx,
            MT_ITEM,
            &catalog_item_xml(
                &base,
                u,
                t.catalog_id,
                &t.name,
                &t.description,
                size,
                entity,
            ),
        );
    }
    if let Some(m) = st.media.iter().find(|m| m.item == u) {
        let entity = (format!("{base}/api/media/{}", m.id), MT_MEDIA);
        return ok_xml(
            ctx,
            MT_ITEM,
            &catalog_item_xml(&base, u, m.catalog, &m.name, &m.description, m.size, entity),
        );
    }
    forbidden(ctx, id)
}

fn content_len(c: &Content) -> u64 {
    match c {
        Content::Spool(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        Content::Inline(b) => b.len() as u64,
        Content::Zeros(n) => *n,
    }
}

/// `GET /api/vAppTemplate/vappTemplate-{id}`.
pub(crate) fn vapp_template(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    match parse_id(id, "vappTemplate").and_then(|u| st.templates.iter().find(|t| t.id == u)) {
        Some(t) => ok_xml(
            ctx,
            MT_TEMPLATE,
            &template_xml(&st, &ctx.shared.origin, &base, t),
        ),
        None => forbidden(ctx, id),
    }
}

/// `GET /api/media/{id}`.
pub(crate) fn media(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    match parse_id(id, "").and_then(|u| st.media.iter().find(|m| m.id == u)) {
        Some(m) => ok_xml(ctx, MT_MEDIA, &media_xml(&st, &ctx.shared.origin, &base, m)),
        None => forbidden(ctx, id),
    }
}

/// `GET /api/catalog/{id}/controlAccess/`.
pub(crate) fn control_access(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let st = ctx.lock();
    match find_catalog(&st, id) {
        Some(c) => ok_xml(ctx, MT_CONTROL_ACCESS, &control_access_xml(&st, c)),
        None => forbidden(ctx, id),
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: create, change, share and delete catalogs

/// `POST /api/admin/org/{id}/catalogs` with an `AdminCatalog` document: creates an empty
/// catalog. vCD refuses a name already used in the org (400 `DUPLICATE_NAME`) and an
/// empty name (400 `BAD_REQUEST`).
pub(crate) fn create(ctx: &Ctx<'_>, org: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let doc = match parse_body(ctx) {
        Ok(d) if d.name == "AdminCatalog" => d,
        Ok(_) => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                "The request body must be an AdminCatalog document.",
            );
        }
        Err(r) => return r,
    };
    let name = attr(&doc, "name")
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        return bad_request(ctx, "BAD_REQUEST", "The catalog name must not be empty.");
    }
    let description = doc
        .child("Description")
        .map(|d| d.text.clone())
        .unwrap_or_default();
    let base = ctx.base();
    let mut st = ctx.lock();
    let Some(org_id) = parse_id(org, "").filter(|u| st.orgs.iter().any(|o| o.id == *u)) else {
        drop(st);
        return forbidden(ctx, org);
    };
    if st
        .catalogs
        .iter()
        .any(|c| c.org == org_id && c.name.eq_ignore_ascii_case(&name))
    {
        drop(st);
        return bad_request(
            ctx,
            "DUPLICATE_NAME",
            &format!("The VCD entity {name} already exists."),
        );
    }
    let c = Catalog {
        id: new_id(),
        org: org_id,
        name,
        description,
        published: false,
        everyone: None,
        access: Vec::new(),
        version: 1,
        created: super::common::iso8601(std::time::SystemTime::now()),
    };
    let xml = catalog_xml(&st, &base, &c, true);
    st.catalogs.push(c);
    drop(st);
    vcd_xml(StatusCode::CREATED, MT_ADMIN_CATALOG, &ctx.version, &xml)
}

/// `PUT /api/admin/catalog/{id}` with an `AdminCatalog`: renames the catalog and changes
/// its description (what the document omits stays); answers the new AdminCatalog.
pub(crate) fn update(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let doc = match parse_body(ctx) {
        Ok(d) if d.name == "AdminCatalog" || d.name == "Catalog" => d,
        Ok(_) => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                "The request body must be an AdminCatalog document.",
            );
        }
        Err(r) => return r,
    };
    let base = ctx.base();
    let mut st = ctx.lock();
    let Some(cur) = find_catalog(&st, id).cloned() else {
        drop(st);
        return forbidden(ctx, id);
    };
    let name = attr(&doc, "name")
        .map(str::trim)
        .unwrap_or(&cur.name)
        .to_owned();
    if name.is_empty() {
        drop(st);
        return bad_request(ctx, "BAD_REQUEST", "The catalog name must not be empty.");
    }
    if st
        .catalogs
        .iter()
        .any(|c| c.org == cur.org && c.id != cur.id && c.name.eq_ignore_ascii_case(&name))
    {
        drop(st);
        return bad_request(
            ctx,
            "DUPLICATE_NAME",
            &format!("The VCD entity {name} already exists."),
        );
    }
    let description = doc.child("Description").map(|d| d.text.clone());
    let Some(c) = st.catalogs.iter_mut().find(|c| c.id == cur.id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    c.name.clone_from(&name);
    if let Some(d) = description {
        c.description = d;
    }
    c.version += 1;
    let c = c.clone();
    for t in st.templates.iter_mut().filter(|t| t.catalog_id == c.id) {
        t.catalog.clone_from(&name);
    }
    let xml = catalog_xml(&st, &base, &c, true);
    drop(st);
    ok_xml(ctx, MT_ADMIN_CATALOG, &xml)
}

/// `POST /api/admin/catalog/{id}/action/publish` (also under `/api/catalog/`) with
/// `PublishCatalogParams`: 204.
pub(crate) fn publish(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let doc = match parse_body(ctx) {
        Ok(d) if d.name == "PublishCatalogParams" => d,
        Ok(_) => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                "The request body must be a PublishCatalogParams document.",
            );
        }
        Err(r) => return r,
    };
    let published = match doc.child_text("IsPublished") {
        Some("true" | "1") => true,
        Some("false" | "0") => false,
        other => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                &format!("IsPublished must be true or false, got {other:?}."),
            );
        }
    };
    let mut st = ctx.lock();
    let Some(u) = find_catalog(&st, id).map(|c| c.id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    if let Some(c) = st.catalogs.iter_mut().find(|c| c.id == u) {
        c.published = published;
        c.version += 1;
    }
    drop(st);
    super::common::respond(StatusCode::NO_CONTENT, "text/plain", "")
}

/// `POST /api/org/{org}/catalog/{id}/action/controlAccess` (also
/// `/api/catalog/{id}/action/controlAccess`) with `ControlAccessParams`: replaces the
/// sharing settings and answers them.
pub(crate) fn set_control_access(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let doc = match parse_body(ctx) {
        Ok(d) if d.name == "ControlAccessParams" => d,
        Ok(_) => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                "The request body must be a ControlAccessParams document.",
            );
        }
        Err(r) => return r,
    };
    let everyone = match doc.child_text("IsSharedToEveryone") {
        Some("true") => true,
        Some("false") | None => false,
        Some(other) => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                &format!("IsSharedToEveryone must be true or false, got \"{other}\"."),
            );
        }
    };
    let everyone_level = doc.child_text("EveryoneAccessLevel").map(str::to_owned);
    let everyone = if everyone {
        match everyone_level.as_deref() {
            Some("ReadOnly") | None => Some("ReadOnly".to_owned()),
            Some(l) => {
                return bad_request(
                    ctx,
                    "BAD_REQUEST",
                    &format!("A catalog is shared with everyone ReadOnly, not \"{l}\"."),
                );
            }
        }
    } else {
        None
    };
    let base = ctx.base();
    let mut st = ctx.lock();
    let Some(cat) = find_catalog(&st, id).map(|c| c.id) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let mut access = Vec::new();
    if let Some(settings) = doc.child("AccessSettings") {
        for s in settings
            .children
            .iter()
            .filter(|c| c.name == "AccessSetting")
        {
            let level = s.child_text("AccessLevel").unwrap_or_default();
            if !LEVELS.contains(&level) {
                drop(st);
                return bad_request(
                    ctx,
                    "BAD_REQUEST",
                    &format!(
                        "Invalid access level \"{level}\"; use ReadOnly, Change or FullControl."
                    ),
                );
            }
            let Some(href) = s.child("Subject").and_then(|x| attr(x, "href")) else {
                drop(st);
                return bad_request(ctx, "BAD_REQUEST", "An AccessSetting has no Subject href.");
            };
            let seg = href
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let Some(u) = parse_id(seg, "") else {
                drop(st);
                return forbidden(ctx, href);
            };
            let subject = if href.contains("/user/") {
                (u == user_id("admin")).then(|| {
                    (
                        format!("{base}/api/admin/user/{u}"),
                        "admin".to_owned(),
                        MT_USER.to_owned(),
                    )
                })
            } else {
                st.orgs.iter().find(|o| o.id == u).map(|o| {
                    (
                        format!("{base}/api/admin/org/{u}"),
                        o.name.clone(),
                        MT_ADMIN_ORG.to_owned(),
                    )
                })
            };
            let Some((h, n, t)) = subject else {
                drop(st);
                return forbidden(ctx, href);
            };
            access.push((h, n, t, level.to_owned()));
        }
    }
    let Some(c) = st.catalogs.iter_mut().find(|c| c.id == cat) else {
        drop(st);
        return forbidden(ctx, id);
    };
    c.everyone = everyone;
    c.access = access;
    c.version += 1;
    let c = c.clone();
    let xml = control_access_xml(&st, &c);
    drop(st);
    ok_xml(ctx, MT_CONTROL_ACCESS, &xml)
}

/// `DELETE /api/admin/catalog/{id}`: refused (400 `BAD_REQUEST`) while the catalog holds
/// items, as vCD does without `recursive=true`; with `recursive=true` its templates and
/// media go too.
pub(crate) fn delete(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let recursive = ctx.param("recursive") == Some("true");
    let mut st = ctx.lock();
    let Some(c) = find_catalog(&st, id).cloned() else {
        drop(st);
        return forbidden(ctx, id);
    };
    let non_empty = st.templates.iter().any(|t| t.catalog_id == c.id)
        || st.media.iter().any(|m| m.catalog == c.id);
    if non_empty && !recursive {
        drop(st);
        return bad_request(
            ctx,
            "BAD_REQUEST",
            &format!(
                "The catalog \"{}\" cannot be deleted, because it is not empty.",
                c.name
            ),
        );
    }
    let gone: Vec<Uuid> = st
        .templates
        .iter()
        .filter(|t| t.catalog_id == c.id)
        .map(|t| t.id)
        .chain(st.media.iter().filter(|m| m.catalog == c.id).map(|m| m.id))
        .collect();
    for g in gone {
        st.transfers.forget(g);
    }
    st.templates.retain(|t| t.catalog_id != c.id);
    st.media.retain(|m| m.catalog != c.id);
    st.catalogs.retain(|x| x.id != c.id);
    drop(st);
    super::common::respond(StatusCode::NO_CONTENT, "text/plain", "")
}

// ---------------------------------------------------------------------------------------------
// Handlers: upload into a catalog, enable downloads, delete items

/// The vDC a catalog stores its items in: the first vDC of its org.
fn storage_vdc(st: &State, org: Uuid) -> Option<Uuid> {
    st.vdcs.iter().find(|v| v.org == org).map(|v| v.id)
}

fn upload_task(
    ctx: &Ctx<'_>,
    st: &mut State,
    op_name: &str,
    operation: String,
    owner: (String, String, String),
    failed: impl Fn(&mut State) + Send + Sync + 'static,
) -> Uuid {
    st.new_task(
        op_name,
        operation,
        owner,
        Effect::Workload {
            ok: WorkloadFn(Arc::new(|_: &mut State| {})),
            failed: Some(WorkloadFn(Arc::new(failed))),
        },
        &ctx.prefix,
        None,
        Some(transfer::UPLOAD_TASK_DURATION),
    )
}

/// `POST /api/catalog/{id}/action/upload` with a `Media` (an ISO or floppy image of a
/// given size) or an `UploadVAppTemplateParams`: creates the item and its entity, opens
/// the upload (`Files/File` with an `upload:default` link on the entity) and starts the
/// import task; answers 201 with the CatalogItem.
pub(crate) fn upload(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let doc = match parse_body(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let name = attr(&doc, "name")
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        return bad_request(ctx, "BAD_REQUEST", "The item name must not be empty.");
    }
    let description = doc
        .child("Description")
        .map(|d| d.text.clone())
        .unwrap_or_default();
    let base = ctx.base();
    let mut st = ctx.lock();
    let Some(cat) = find_catalog(&st, id).cloned() else {
        drop(st);
        return forbidden(ctx, id);
    };
    let taken = st
        .templates
        .iter()
        .filter(|t| t.catalog_id == cat.id)
        .map(|t| &t.name)
        .chain(
            st.media
                .iter()
                .filter(|m| m.catalog == cat.id)
                .map(|m| &m.name),
        )
        .any(|n| n.eq_ignore_ascii_case(&name));
    if taken {
        drop(st);
        return bad_request(
            ctx,
            "DUPLICATE_NAME",
            &format!("The VCD entity {name} already exists."),
        );
    }
    let Some(vdc) = storage_vdc(&st, cat.org) else {
        drop(st);
        return bad_request(
            ctx,
            "BAD_REQUEST",
            &format!(
                "The catalog \"{}\" has no storage: its org has no vDC.",
                cat.name
            ),
        );
    };
    let item = new_id();
    let entity = new_id();
    let (entity_href, entity_type, size) = match doc.name.as_str() {
        "Media" => {
            let image_type = attr(&doc, "imageType")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if image_type != "iso" && image_type != "floppy" {
                drop(st);
                return bad_request(
                    ctx,
                    "BAD_REQUEST",
                    &format!("Invalid media image type \"{image_type}\"; use iso or floppy."),
                );
            }
            let Some(size) = attr(&doc, "size").and_then(|s| s.trim().parse::<u64>().ok()) else {
                drop(st);
                return bad_request(
                    ctx,
                    "BAD_REQUEST",
                    "The media size is missing or not a number.",
                );
            };
            let limit_mb = super::workload::STORAGE_LIMIT_MB;
            let used = super::disk::storage_used_mb(&st, vdc);
            if used + size.div_ceil(1024 * 1024) > limit_mb {
                drop(st);
                return bad_request(
                    ctx,
                    "BAD_REQUEST",
                    &format!(
                        "The operation would exceed the vDC's storage allocation: {used} MB used, {} MB requested, {limit_mb} MB allocated.",
                        size.div_ceil(1024 * 1024)
                    ),
                );
            }
            st.media.push(Media {
                id: entity,
                vdc,
                catalog: cat.id,
                item,
                name: name.clone(),
                size,
                image_type,
                description: description.clone(),
                ready: false,
            });
            let task = upload_task(
                ctx,
                &mut st,
                "vdcUploadMedia",
                format!("Importing Media {name}({entity})"),
                (
                    format!("/api/media/{entity}"),
                    name.clone(),
                    MT_MEDIA.to_owned(),
                ),
                move |st: &mut State| {
                    st.media.retain(|m| m.id != entity);
                    st.transfers.forget(entity);
                },
            );
            if let Err(e) =
                st.transfers
                    .open_upload(Owner::Media(entity), "file", Some(size), task, None)
            {
                drop(st);
                return bad_request(
                    ctx,
                    "BAD_REQUEST",
                    &format!("The upload could not be prepared: {e}"),
                );
            }
            (format!("{base}/api/media/{entity}"), MT_MEDIA, size)
        }
        "UploadVAppTemplateParams" => {
            st.templates.push(Template {
                id: entity,
                vdc,
                name: name.clone(),
                catalog: cat.name.clone(),
                created: super::common::iso8601(std::time::SystemTime::now()),
                catalog_id: cat.id,
                item_id: item,
                description: description.clone(),
                vms: Vec::new(),
                networks: Vec::new(),
                ready: false,
            });
            let task = upload_task(
                ctx,
                &mut st,
                "vdcUploadOvfContents",
                format!("Importing vApp template {name}({entity})"),
                (
                    format!("/api/vAppTemplate/vappTemplate-{entity}"),
                    name.clone(),
                    MT_TEMPLATE.to_owned(),
                ),
                move |st: &mut State| {
                    st.templates.retain(|t| t.id != entity);
                    st.transfers.forget(entity);
                },
            );
            if let Err(e) = st.transfers.open_upload(
                Owner::Template(entity),
                "descriptor.ovf",
                None,
                task,
                None,
            ) {
                drop(st);
                return bad_request(
                    ctx,
                    "BAD_REQUEST",
                    &format!("The upload could not be prepared: {e}"),
                );
            }
            (
                format!("{base}/api/vAppTemplate/vappTemplate-{entity}"),
                MT_TEMPLATE,
                0,
            )
        }
        other => {
            drop(st);
            return bad_request(
                ctx,
                "BAD_REQUEST",
                &format!("Cannot upload a {other}: send a Media or an UploadVAppTemplateParams."),
            );
        }
    };
    let xml = catalog_item_xml(
        &base,
        item,
        cat.id,
        &name,
        &description,
        size,
        (entity_href, entity_type),
    );
    drop(st);
    vcd_xml(StatusCode::CREATED, MT_ITEM, &ctx.version, &xml)
}

/// `POST /api/media/{id}/action/enableDownload` and
/// `POST /api/vAppTemplate/vappTemplate-{id}/action/enableDownload`: a task that, once it
/// succeeds, offers the files for download (`download:default` links).
pub(crate) fn enable_download(ctx: &Ctx<'_>, seg: &str, template: bool) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let mut st = ctx.lock();
    let (owner, path, name, mt) = if template {
        let Some(t) =
            parse_id(seg, "vappTemplate").and_then(|u| st.templates.iter().find(|t| t.id == u))
        else {
            drop(st);
            return forbidden(ctx, seg);
        };
        if !t.ready {
            let n = t.name.clone();
            drop(st);
            return bad_request(
                ctx,
                "BAD_REQUEST",
                &format!("The vApp template \"{n}\" is not ready: its upload has not finished."),
            );
        }
        (
            Owner::Template(t.id),
            format!("/api/vAppTemplate/vappTemplate-{}", t.id),
            t.name.clone(),
            MT_TEMPLATE,
        )
    } else {
        let Some(m) = parse_id(seg, "").and_then(|u| st.media.iter().find(|m| m.id == u)) else {
            drop(st);
            return forbidden(ctx, seg);
        };
        if !m.ready {
            let n = m.name.clone();
            drop(st);
            return bad_request(
                ctx,
                "BAD_REQUEST",
                &format!("The media \"{n}\" is not ready: its upload has not finished."),
            );
        }
        (
            Owner::Media(m.id),
            format!("/api/media/{}", m.id),
            m.name.clone(),
            MT_MEDIA,
        )
    };
    let files: Vec<(String, Content)> = {
        let stored = st.transfers.stored_of(owner);
        if !stored.is_empty() {
            stored
        } else {
            match owner {
                Owner::Media(m) => {
                    let size = st.media.iter().find(|x| x.id == m).map_or(0, |x| x.size);
                    vec![("file".to_owned(), Content::Zeros(size))]
                }
                Owner::Template(t) => {
                    let tpl = st.templates.iter().find(|x| x.id == t);
                    let text = tpl
                        .map(|x| transfer::synthetic_descriptor(&x.name, &x.vms, &x.networks))
                        .unwrap_or_default();
                    vec![(
                        "descriptor.ovf".to_owned(),
                        Content::Inline(bytes::Bytes::from(text)),
                    )]
                }
            }
        }
    };
    let task = st.new_task(
        "enableDownload",
        format!("Enabling download of {name}"),
        (path, name, mt.to_owned()),
        Effect::Workload {
            ok: WorkloadFn(Arc::new(move |st: &mut State| {
                st.transfers.enable_download(owner, files.clone());
            })),
            failed: None,
        },
        &ctx.prefix,
        None,
        None,
    );
    task_accepted(ctx, &st, task)
}

/// `DELETE /api/catalogItem/{id}`: removes the item with its template or media (204).
pub(crate) fn delete_item(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let mut st = ctx.lock();
    let Some(u) = parse_id(id, "") else {
        drop(st);
        return forbidden(ctx, id);
    };
    let entity = st
        .templates
        .iter()
        .find(|t| t.item_id == u)
        .map(|t| t.id)
        .or_else(|| st.media.iter().find(|m| m.item == u).map(|m| m.id));
    let Some(entity) = entity else {
        drop(st);
        return forbidden(ctx, id);
    };
    remove_entity(&mut st, entity);
    drop(st);
    super::common::respond(StatusCode::NO_CONTENT, "text/plain", "")
}

fn remove_entity(st: &mut State, entity: Uuid) {
    st.transfers.forget(entity);
    st.templates.retain(|t| t.id != entity);
    st.media.retain(|m| m.id != entity);
    for v in st.vms.iter_mut().filter(|v| v.media == Some(entity)) {
        v.media = None;
    }
}

/// `DELETE /api/media/{id}` and `DELETE /api/vAppTemplate/vappTemplate-{id}`: a task
/// that removes the entity and its catalog item. A media inserted in a VM is refused.
pub(crate) fn delete_entity(ctx: &Ctx<'_>, seg: &str, template: bool) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let mut st = ctx.lock();
    let found = if template {
        parse_id(seg, "vappTemplate")
            .and_then(|u| st.templates.iter().find(|t| t.id == u))
            .map(|t| {
                (
                    t.id,
                    t.name.clone(),
                    format!("/api/vAppTemplate/vappTemplate-{}", t.id),
                    MT_TEMPLATE,
                )
            })
    } else {
        parse_id(seg, "")
            .and_then(|u| st.media.iter().find(|m| m.id == u))
            .map(|m| {
                (
                    m.id,
                    m.name.clone(),
                    format!("/api/media/{}", m.id),
                    MT_MEDIA,
                )
            })
    };
    let Some((id, name, path, mt)) = found else {
        drop(st);
        return forbidden(ctx, seg);
    };
    if let Some(vm) = st.vms.iter().find(|v| v.media == Some(id)) {
        let vm = vm.name.clone();
        drop(st);
        return bad_request(
            ctx,
            "BAD_REQUEST",
            &format!(
                "The media \"{name}\" cannot be deleted, because it is inserted in VM \"{vm}\"."
            ),
        );
    }
    let op = if template {
        "vdcDeleteTemplate"
    } else {
        "vdcDeleteMedia"
    };
    let task = st.new_task(
        op,
        format!("Deleting {name}({id})"),
        (path, name, mt.to_owned()),
        Effect::Workload {
            ok: WorkloadFn(Arc::new(move |st: &mut State| remove_entity(st, id))),
            failed: None,
        },
        &ctx.prefix,
        None,
        None,
    );
    task_accepted(ctx, &st, task)
}

/// `POST /api/catalog/{id}/action/captureVApp` with `CaptureVAppParams`: a new vApp
/// template in the catalog made from a vApp's VMs (their hardware, disks and NICs); answers
/// 201 with the VAppTemplate (status 0 with the capture task until it ends). vCD refuses a
/// vApp that another task is changing (400 `BUSY_ENTITY`) and a duplicate item name.
pub(crate) fn capture(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let doc = match parse_body(ctx) {
        Ok(d) if d.name == "CaptureVAppParams" => d,
        Ok(_) => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                "The request body must be a CaptureVAppParams document.",
            );
        }
        Err(r) => return r,
    };
    let name = attr(&doc, "name")
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        return bad_request(ctx, "BAD_REQUEST", "The template name must not be empty.");
    }
    let Some(source) = doc
        .child("Source")
        .and_then(|s| attr(s, "href"))
        .map(str::to_owned)
    else {
        return bad_request(ctx, "BAD_REQUEST", "CaptureVAppParams need a Source.");
    };
    let description = doc
        .child("Description")
        .map(|d| d.text.clone())
        .unwrap_or_default();
    let base = ctx.base();
    let mut st = ctx.lock();
    let Some(cat) = find_catalog(&st, id).cloned() else {
        drop(st);
        return forbidden(ctx, id);
    };
    let seg = source
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let Some(app) = parse_id(seg, "vapp")
        .and_then(|u| st.vapps.iter().find(|a| a.id == u))
        .cloned()
    else {
        drop(st);
        return forbidden(ctx, &source);
    };
    let taken = st
        .templates
        .iter()
        .filter(|t| t.catalog_id == cat.id)
        .map(|t| &t.name)
        .chain(
            st.media
                .iter()
                .filter(|m| m.catalog == cat.id)
                .map(|m| &m.name),
        )
        .any(|n| n.eq_ignore_ascii_case(&name));
    if taken {
        drop(st);
        return bad_request(
            ctx,
            "DUPLICATE_NAME",
            &format!("The VCD entity {name} already exists."),
        );
    }
    let vm_ids: Vec<Uuid> = st
        .vms
        .iter()
        .filter(|v| v.vapp == app.id)
        .map(|v| v.id)
        .collect();
    let now = std::time::Instant::now();
    let busy = st.unsettled.iter().any(|t| {
        st.tasks.get(t).is_some_and(|t| {
            t.entities
                .iter()
                .any(|e| *e == app.id || vm_ids.contains(e))
                && matches!(
                    t.phase(now),
                    super::state::TaskPhase::Queued | super::state::TaskPhase::Running(_)
                )
        })
    });
    if busy {
        drop(st);
        return bad_request(
            ctx,
            "BUSY_ENTITY",
            &format!(
                "The entity vApp \"{}\" is busy completing an operation.",
                app.name
            ),
        );
    }
    let vms: Vec<TemplateVm> = st
        .vms
        .iter()
        .filter(|v| v.vapp == app.id)
        .map(|v| TemplateVm {
            id: new_id(),
            name: v.name.clone(),
            cpus: v.cpus,
            memory_mb: v.memory_mb,
            disk_mb: v.disks.first().map_or(0, |d| d.size_mb),
            guest_os: v.guest_os.clone(),
            disks_mb: v.disks.iter().map(|d| d.size_mb).collect(),
            nics: v.nics.iter().map(|n| n.network.clone()).collect(),
        })
        .collect();
    let template = new_id();
    let item = new_id();
    st.templates.push(Template {
        id: template,
        vdc: app.vdc,
        name: name.clone(),
        catalog: cat.name.clone(),
        created: super::common::iso8601(std::time::SystemTime::now()),
        catalog_id: cat.id,
        item_id: item,
        description,
        vms: Vec::new(),
        networks: Vec::new(),
        ready: false,
    });
    let networks = app.networks.clone();
    let task = st.new_task(
        "vdcCaptureTemplate",
        format!("Capturing vApp {} as {name}", app.name),
        (
            format!("/api/vAppTemplate/vappTemplate-{template}"),
            name.clone(),
            MT_TEMPLATE.to_owned(),
        ),
        Effect::Workload {
            ok: WorkloadFn(Arc::new(move |st: &mut State| {
                if let Some(t) = st.templates.iter_mut().find(|t| t.id == template) {
                    t.ready = true;
                    t.vms = vms.clone();
                    t.networks = networks.clone();
                }
            })),
            failed: Some(WorkloadFn(Arc::new(move |st: &mut State| {
                st.templates.retain(|t| t.id != template);
            }))),
        },
        &ctx.prefix,
        None,
        None,
    );
    if let Some(t) = st.tasks.get_mut(&task) {
        t.entities = std::iter::once(app.id).chain(vm_ids).collect();
    }
    let body = match st.templates.iter().find(|t| t.id == template) {
        Some(t) => template_xml(&st, &ctx.shared.origin, &base, t),
        None => String::new(),
    };
    drop(st);
    vcd_xml(StatusCode::CREATED, MT_TEMPLATE, &ctx.version, &body)
}

/// `PUT /api/vAppTemplate/vappTemplate-{id}` with a VAppTemplate, or `PUT /api/media/{id}`
/// with a Media: renames the entity (and its catalog item) and changes its description;
/// a task. A name another item of the catalog uses is refused (`DUPLICATE_NAME`).
pub(crate) fn update_entity(ctx: &Ctx<'_>, seg: &str, template: bool) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let root = if template { "VAppTemplate" } else { "Media" };
    let doc = match parse_body(ctx) {
        Ok(d) if d.name == root => d,
        Ok(d) => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                &format!("Expected a {root} document, got {}.", d.name),
            );
        }
        Err(r) => return r,
    };
    let mut st = ctx.lock();
    let found = if template {
        parse_id(seg, "vappTemplate")
            .and_then(|u| st.templates.iter().find(|t| t.id == u))
            .map(|t| {
                (
                    t.id,
                    t.catalog_id,
                    t.name.clone(),
                    format!("/api/vAppTemplate/vappTemplate-{}", t.id),
                )
            })
    } else {
        parse_id(seg, "")
            .and_then(|u| st.media.iter().find(|m| m.id == u))
            .map(|m| {
                (
                    m.id,
                    m.catalog,
                    m.name.clone(),
                    format!("/api/media/{}", m.id),
                )
            })
    };
    let Some((id, catalog, old, path)) = found else {
        drop(st);
        return forbidden(ctx, seg);
    };
    let name = attr(&doc, "name").map(str::trim).unwrap_or(&old).to_owned();
    if name.is_empty() {
        drop(st);
        return bad_request(ctx, "BAD_REQUEST", "The name must not be empty.");
    }
    let clash = st
        .templates
        .iter()
        .filter(|t| t.catalog_id == catalog && t.id != id)
        .map(|t| &t.name)
        .chain(
            st.media
                .iter()
                .filter(|m| m.catalog == catalog && m.id != id)
                .map(|m| &m.name),
        )
        .any(|n| n.eq_ignore_ascii_case(&name));
    if clash {
        drop(st);
        return bad_request(
            ctx,
            "DUPLICATE_NAME",
            &format!("The VCD entity {name} already exists."),
        );
    }
    let description = doc.child("Description").map(|d| d.text.clone());
    let mt = if template { MT_TEMPLATE } else { MT_MEDIA };
    let task = st.new_task(
        if template {
            "vdcUpdateTemplate"
        } else {
            "vdcUpdateMedia"
        },
        format!("Updating {old}({id})"),
        (path, old, mt.to_owned()),
        Effect::Workload {
            ok: WorkloadFn(Arc::new(move |st: &mut State| {
                if let Some(t) = st.templates.iter_mut().find(|t| t.id == id) {
                    t.name.clone_from(&name);
                    if let Some(d) = &description {
                        t.description.clone_from(d);
                    }
                }
                if let Some(m) = st.media.iter_mut().find(|m| m.id == id) {
                    m.name.clone_from(&name);
                    if let Some(d) = &description {
                        m.description.clone_from(d);
                    }
                }
            })),
            failed: None,
        },
        &ctx.prefix,
        None,
        None,
    );
    task_accepted(ctx, &st, task)
}
