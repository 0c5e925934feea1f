//! vCD catalogs, catalog items, vApp templates and media: their documents, the seed
//! catalogs, and the handlers that read them.
//!
//! Rules as vCD applies them: an unknown id is 403 `ACCESS_TO_RESOURCE_IS_FORBIDDEN`;
//! every request needs a session.

// Handlers answer refusals as ready `Response`s, which are large; the seed table is a
// literal of tuples.
#![allow(clippy::result_large_err, clippy::type_complexity)]

use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::common::{Ctx, parse_id, unauthorized, vcd_error, vcd_xml};
use super::state::{Catalog, Media, State, Template, TemplateVm, Token};
use super::workload::user_id;
use super::xml::{NS_VCLOUD, attrs, esc, link};

const NS_OVF: &str = "http://schemas.dmtf.org/ovf/envelope/1";
const NS_RASD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData";
const NS_VSSD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData";
const NS_VMW: &str = "http://www.vmware.com/schema/ovf";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

const MT_VM: &str = "application/vnd.vmware.vcloud.vm+xml";

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

// ---------------------------------------------------------------------------------------------
// Seed data

/// Seeds catalogs `Public` and `DevOps` with four vApp templates in both vDCs and an ISO;
/// the first two templates get the ids drawn by the seed (kept stable for older tests).
pub(crate) fn seed_catalogs(st: &mut State, template_ids: &[Uuid], created: &str) {
    use super::state::ids;
    let mut rng = fastrand::Rng::with_seed(8);
    let mut uuid = || uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid();
    let public = Catalog {
        id: uuid(),
        org: ids::ORG,
        name: "Public".into(),
        description: "Shared base images".into(),
    };
    let devops = Catalog {
        id: uuid(),
        org: ids::ORG,
        name: "DevOps".into(),
        description: "Team templates".into(),
    };
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
                })
                .collect(),
        });
    }
    st.media.push(Media {
        id: uuid(),
        vdc: ids::VDC_PROD,
        catalog: public.id,
        item: uuid(),
        name: "ubuntu-22.04.iso".into(),
        size: 1_474_873_344,
    });
    st.catalogs.push(public);
    st.catalogs.push(devops);
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn template_xml(base: &str, t: &Template) -> String {
    let href = format!("{base}/api/vAppTemplate/vappTemplate-{}", t.id);
    let mut out = format!(
        "<VAppTemplate{} ovfDescriptorUploaded=\"true\" goldMaster=\"false\"{}>",
        root_ns(),
        a(&[
            ("status", "8"),
            ("name", &t.name),
            ("id", &format!("urn:vcloud:vapptemplate:{}", t.id)),
            ("href", &href),
            ("type", "application/vnd.vmware.vcloud.vAppTemplate+xml"),
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
        Some("application/vnd.vmware.vcloud.catalogItem+xml"),
        None,
    ));
    out.push_str(&format!(
        "<Description>{}</Description>",
        esc(&t.description)
    ));
    out.push_str(&format!(
        "<Owner type=\"application/vnd.vmware.vcloud.owner+xml\"><User{}/></Owner><Children>",
        a(&[
            (
                "href",
                &format!("{base}/api/admin/user/{}", user_id("admin"))
            ),
            ("name", "admin"),
            ("type", "application/vnd.vmware.admin.user+xml"),
        ])
    ));
    for vm in &t.vms {
        out.push_str(&format!(
            "<Vm goldMaster=\"false\"{}><Description/><NetworkConnectionSection{} ovf:required=\"false\"><ovf:Info>Network connections</ovf:Info><PrimaryNetworkConnectionIndex>0</PrimaryNetworkConnectionIndex><NetworkConnection network=\"none\"><NetworkConnectionIndex>0</NetworkConnectionIndex><IsConnected>false</IsConnected><IpAddressAllocationMode>NONE</IpAddressAllocationMode></NetworkConnection></NetworkConnectionSection><VAppScopedLocalId>{}</VAppScopedLocalId><DateCreated>{}</DateCreated></Vm>",
            a(&[
                ("status", "8"),
                ("name", &vm.name),
                ("id", &format!("urn:vcloud:vm:{}", vm.id)),
                ("href", &format!("{base}/api/vAppTemplate/vm-{}", vm.id)),
                ("type", MT_VM),
            ]),
            a(&[
                ("href", &format!("{base}/api/vAppTemplate/vm-{}/networkConnectionSection/", vm.id)),
                ("type", "application/vnd.vmware.vcloud.networkConnectionSection+xml"),
            ]),
            esc(&vm.name),
            esc(&t.created)
        ));
    }
    out.push_str(&format!(
        "</Children><DateCreated>{}</DateCreated></VAppTemplate>",
        esc(&t.created)
    ));
    out
}

fn catalog_xml(st: &State, base: &str, c: &Catalog) -> String {
    let mut out = format!(
        "<Catalog xmlns=\"{NS_VCLOUD}\"{}>",
        a(&[
            ("name", &c.name),
            ("id", &format!("urn:vcloud:catalog:{}", c.id)),
            ("href", &format!("{base}/api/catalog/{}", c.id)),
            ("type", "application/vnd.vmware.vcloud.catalog+xml"),
        ])
    );
    out.push_str(&link(
        "up",
        &format!("{base}/api/org/{}", c.org),
        Some("application/vnd.vmware.vcloud.org+xml"),
        None,
    ));
    out.push_str(&format!(
        "<Description>{}</Description><CatalogItems>",
        esc(&c.description)
    ));
    for t in st.templates.iter().filter(|t| t.catalog_id == c.id) {
        out.push_str(&format!(
            "<CatalogItem{}/>",
            a(&[
                ("href", &format!("{base}/api/catalogItem/{}", t.item_id)),
                ("id", &t.item_id.to_string()),
                ("name", &t.name),
                ("type", "application/vnd.vmware.vcloud.catalogItem+xml"),
            ])
        ));
    }
    for m in st.media.iter().filter(|m| m.catalog == c.id) {
        out.push_str(&format!(
            "<CatalogItem{}/>",
            a(&[
                ("href", &format!("{base}/api/catalogItem/{}", m.item)),
                ("id", &m.item.to_string()),
                ("name", &m.name),
                ("type", "application/vnd.vmware.vcloud.catalogItem+xml"),
            ])
        ));
    }
    out.push_str("</CatalogItems><IsPublished>false</IsPublished><DateCreated>2026-01-15T10:12:44.517Z</DateCreated><VersionNumber>1</VersionNumber></Catalog>");
    out
}

fn catalog_item_xml(
    base: &str,
    item: Uuid,
    catalog: Uuid,
    name: &str,
    entity: (String, &str),
) -> String {
    format!(
        "<CatalogItem xmlns=\"{NS_VCLOUD}\"{}>{}<Description/><Entity{}/><DateCreated>2026-01-15T10:12:44.517Z</DateCreated><VersionNumber>1</VersionNumber></CatalogItem>",
        a(&[
            ("size", "0"),
            ("name", name),
            ("id", &format!("urn:vcloud:catalogitem:{item}")),
            ("href", &format!("{base}/api/catalogItem/{item}")),
            ("type", "application/vnd.vmware.vcloud.catalogItem+xml"),
        ]),
        link(
            "up",
            &format!("{base}/api/catalog/{catalog}"),
            Some("application/vnd.vmware.vcloud.catalog+xml"),
            None
        ),
        a(&[("href", &entity.0), ("name", name), ("type", entity.1)])
    )
}

fn media_xml(base: &str, m: &Media) -> String {
    format!(
        "<Media xmlns=\"{NS_VCLOUD}\"{}>{}<Description/><Owner type=\"application/vnd.vmware.vcloud.owner+xml\"><User{}/></Owner></Media>",
        a(&[
            ("size", &m.size.to_string()),
            ("imageType", "iso"),
            ("status", "1"),
            ("name", &m.name),
            ("id", &format!("urn:vcloud:media:{}", m.id)),
            ("href", &format!("{base}/api/media/{}", m.id)),
            ("type", "application/vnd.vmware.vcloud.media+xml"),
        ]),
        link(
            "up",
            &format!("{base}/api/vdc/{}", m.vdc),
            Some("application/vnd.vmware.vcloud.vdc+xml"),
            None
        ),
        a(&[
            (
                "href",
                &format!("{base}/api/admin/user/{}", user_id("admin"))
            ),
            ("name", "admin"),
            ("type", "application/vnd.vmware.admin.user+xml"),
        ])
    )
}

// ---------------------------------------------------------------------------------------------
// Handlers: reading

/// `GET /api/catalog/{id}`.
pub(crate) fn catalog(ctx: &Ctx<'_>, id: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let base = ctx.base();
    let st = ctx.lock();
    match parse_id(id, "").and_then(|u| st.catalogs.iter().find(|c| c.id == u)) {
        Some(c) => ok_xml(
            ctx,
            "application/vnd.vmware.vcloud.catalog+xml",
            &catalog_xml(&st, &base, c),
        ),
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
    let mt = "application/vnd.vmware.vcloud.catalogItem+xml";
    if let Some(t) = st.templates.iter().find(|t| t.item_id == u) {
        let entity = (
            format!("{base}/api/vAppTemplate/vappTemplate-{}", t.id),
            "application/vnd.vmware.vcloud.vAppTemplate+xml",
        );
        return ok_xml(
            ctx,
            mt,
            &catalog_item_xml(&base, u, t.catalog_id, &t.name, entity),
        );
    }
    if let Some(m) = st.media.iter().find(|m| m.item == u) {
        let entity = (
            format!("{base}/api/media/{}", m.id),
            "application/vnd.vmware.vcloud.media+xml",
        );
        return ok_xml(
            ctx,
            mt,
            &catalog_item_xml(&base, u, m.catalog, &m.name, entity),
        );
    }
    forbidden(ctx, id)
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
            "application/vnd.vmware.vcloud.vAppTemplate+xml",
            &template_xml(&base, t),
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
        Some(m) => ok_xml(
            ctx,
            "application/vnd.vmware.vcloud.media+xml",
            &media_xml(&base, m),
        ),
        None => forbidden(ctx, id),
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: create and delete catalogs

fn bad_request(ctx: &Ctx<'_>, code: &str, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, code, msg, &ctx.version)
}

/// `POST /api/admin/org/{id}/catalogs` with an `AdminCatalog` document: creates an empty
/// catalog. vCD refuses a name already used in the org (400 `DUPLICATE_NAME`) and an
/// empty name (400 `BAD_REQUEST`).
pub(crate) fn create(ctx: &Ctx<'_>, org: &str) -> Response {
    if let Err(r) = auth(ctx) {
        return r;
    }
    let body = match ctx.body_str() {
        Ok(b) => b.to_owned(),
        Err(r) => return *r,
    };
    let doc = match super::xml::parse(&body) {
        Ok(d) if d.name == "AdminCatalog" => d,
        _ => {
            return bad_request(
                ctx,
                "BAD_REQUEST",
                "The request body must be an AdminCatalog document.",
            );
        }
    };
    let name = doc
        .attrs
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
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
        id: uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid(),
        org: org_id,
        name,
        description,
    };
    let xml = catalog_xml(&st, &base, &c).replacen("<Catalog ", "<AdminCatalog ", 1);
    let xml = xml.replacen("</Catalog>", "</AdminCatalog>", 1);
    st.catalogs.push(c);
    drop(st);
    vcd_xml(
        StatusCode::CREATED,
        "application/vnd.vmware.admin.catalog+xml",
        &ctx.version,
        &xml,
    )
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
    let Some(c) = parse_id(id, "").and_then(|u| st.catalogs.iter().find(|c| c.id == u).cloned())
    else {
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
    st.templates.retain(|t| t.catalog_id != c.id);
    st.media.retain(|m| m.catalog != c.id);
    st.catalogs.retain(|x| x.id != c.id);
    drop(st);
    super::common::respond(StatusCode::NO_CONTENT, "text/plain", "")
}
