//! The vCD query service: typed queries over the in-memory inventory with FIQL filters,
//! sorting, fields, formats and real paging.

use serde_json::{Value, json};
use std::cmp::Ordering;

use axum::response::Response;
use http::StatusCode;

use super::common::{Ctx, parse_id, unauthorized, vcd_error, vcd_xml};
use super::state::{Power, State};
use super::xml::{NS_VCLOUD, attrs, link};

/// The query types the simulator serves: (query type, record element, reference element,
/// media type of one entity).
const TYPES: &[(&str, &str, &str, &str)] = &[
    (
        "vm",
        "VMRecord",
        "VMReference",
        "application/vnd.vmware.vcloud.vm+xml",
    ),
    (
        "vApp",
        "VAppRecord",
        "VAppReference",
        "application/vnd.vmware.vcloud.vApp+xml",
    ),
    (
        "vAppTemplate",
        "VAppTemplateRecord",
        "VAppTemplateReference",
        "application/vnd.vmware.vcloud.vAppTemplate+xml",
    ),
    (
        "edgeGateway",
        "EdgeGatewayRecord",
        "EdgeGatewayReference",
        "application/vnd.vmware.admin.edgeGateway+xml",
    ),
    (
        "orgVdc",
        "OrgVdcRecord",
        "OrgVdcReference",
        "application/vnd.vmware.vcloud.vdc+xml",
    ),
    (
        "disk",
        "DiskRecord",
        "DiskReference",
        "application/vnd.vmware.vcloud.disk+xml",
    ),
    (
        "orgVdcNetwork",
        "OrgVdcNetworkRecord",
        "OrgVdcNetworkReference",
        "application/vnd.vmware.vcloud.orgVdcNetwork+xml",
    ),
    (
        "catalog",
        "CatalogRecord",
        "CatalogReference",
        "application/vnd.vmware.vcloud.catalog+xml",
    ),
    (
        "media",
        "MediaRecord",
        "MediaReference",
        "application/vnd.vmware.vcloud.media+xml",
    ),
];

/// One query record: href, urn id and attributes (name first).
#[derive(Debug, Clone)]
struct Rec {
    href: String,
    id: String,
    attrs: Vec<(&'static str, String)>,
}

impl Rec {
    fn get(&self, name: &str) -> Option<&str> {
        if name == "href" {
            return Some(&self.href);
        }
        if name == "id" {
            return Some(&self.id);
        }
        self.attrs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn b(v: bool) -> String {
    v.to_string()
}

fn records(st: &State, typ: &str, base: &str, now: std::time::Instant) -> Vec<Rec> {
    let vdc_name = |id| {
        st.vdcs
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.name.clone())
            .unwrap_or_default()
    };
    let vdc_href = |id| format!("{base}/api/vdc/{id}");
    match typ {
        "vm" => st
            .vms
            .iter()
            .map(|m| {
                let app = st.vapps.iter().find(|a| a.id == m.vapp);
                Rec {
                    href: format!("{base}/api/vApp/vm-{}", m.id),
                    id: format!("urn:vcloud:vm:{}", m.id),
                    attrs: vec![
                        ("name", m.name.clone()),
                        (
                            "containerName",
                            app.map(|a| a.name.clone()).unwrap_or_default(),
                        ),
                        ("container", format!("{base}/api/vApp/vapp-{}", m.vapp)),
                        ("ownerName", "admin".into()),
                        ("vdc", vdc_href(m.vdc)),
                        ("isVAppTemplate", b(false)),
                        ("isDeleted", b(false)),
                        ("guestOs", m.guest_os.clone()),
                        ("numberOfCpus", m.cpus.to_string()),
                        ("memoryMB", m.memory_mb.to_string()),
                        ("status", m.power.as_str().into()),
                        ("networkName", m.network.clone()),
                        ("ipAddress", m.ip.clone()),
                        ("isBusy", b(false)),
                        ("isDeployed", b(m.power == Power::On)),
                        ("isPublished", b(false)),
                        ("hardwareVersion", "13".into()),
                        ("isInMaintenanceMode", b(false)),
                        ("storageProfileName", "*".into()),
                    ],
                }
            })
            .collect(),
        "vApp" => st
            .vapps
            .iter()
            .map(|a| Rec {
                href: format!("{base}/api/vApp/vapp-{}", a.id),
                id: format!("urn:vcloud:vapp:{}", a.id),
                attrs: vec![
                    ("name", a.name.clone()),
                    ("vdc", vdc_href(a.vdc)),
                    ("vdcName", vdc_name(a.vdc)),
                    ("isPublic", b(false)),
                    ("isEnabled", b(true)),
                    ("isBusy", b(false)),
                    ("creationDate", a.created.clone()),
                    ("status", a.power.as_str().into()),
                    ("ownerName", "admin".into()),
                    ("isDeployed", b(a.power == Power::On)),
                    ("isInMaintenanceMode", b(false)),
                    ("isExpired", b(false)),
                ],
            })
            .collect(),
        "vAppTemplate" => st
            .templates
            .iter()
            .map(|t| Rec {
                href: format!("{base}/api/vAppTemplate/vappTemplate-{}", t.id),
                id: format!("urn:vcloud:vapptemplate:{}", t.id),
                attrs: vec![
                    ("name", t.name.clone()),
                    ("ownerName", "admin".into()),
                    ("catalogName", t.catalog.clone()),
                    ("isPublished", b(true)),
                    ("vdc", vdc_href(t.vdc)),
                    ("vdcName", vdc_name(t.vdc)),
                    ("creationDate", t.created.clone()),
                    ("isBusy", b(false)),
                    ("isGoldMaster", b(false)),
                    ("isEnabled", b(true)),
                    ("status", "RESOLVED".into()),
                    ("isDeployed", b(false)),
                    ("isExpired", b(false)),
                    ("storageProfileName", "*".into()),
                ],
            })
            .collect(),
        "edgeGateway" => st
            .edges
            .iter()
            .map(|e| Rec {
                href: format!("{base}/api/admin/edgeGateway/{}", e.id),
                id: format!("urn:vcloud:gateway:{}", e.id),
                attrs: vec![
                    ("name", e.name.clone()),
                    ("vdc", vdc_href(e.vdc)),
                    ("numberOfExtNetworks", "1".into()),
                    ("numberOfOrgNetworks", "2".into()),
                    ("isBusy", b(st.edge_task_running(e.id, now))),
                    ("orgVdcName", vdc_name(e.vdc)),
                    ("gatewayStatus", "READY".into()),
                    ("haStatus", "UP".into()),
                    ("advancedNetworkingEnabled", b(true)),
                    ("distributedRoutingEnabled", b(false)),
                ],
            })
            .collect(),
        "orgVdc" => st
            .vdcs
            .iter()
            .map(|v| {
                let vms: Vec<_> = st.vms.iter().filter(|m| m.vdc == v.id).collect();
                let org = st
                    .orgs
                    .iter()
                    .find(|o| o.id == v.org)
                    .map(|o| o.name.clone())
                    .unwrap_or_default();
                Rec {
                    href: format!("{base}/api/vdc/{}", v.id),
                    id: format!("urn:vcloud:vdc:{}", v.id),
                    attrs: vec![
                        ("name", v.name.clone()),
                        ("description", v.description.clone()),
                        ("isEnabled", b(true)),
                        ("cpuAllocationMhz", "8000".into()),
                        ("cpuLimitMhz", "8000".into()),
                        ("cpuUsedMhz", (vms.len() * 1000).to_string()),
                        ("memoryAllocationMB", "32768".into()),
                        ("memoryLimitMB", "32768".into()),
                        ("memoryUsedMB", (vms.len() * 2048).to_string()),
                        ("orgName", org),
                        (
                            "numberOfVApps",
                            st.vapps
                                .iter()
                                .filter(|a| a.vdc == v.id)
                                .count()
                                .to_string(),
                        ),
                        (
                            "numberOfVAppTemplates",
                            st.templates
                                .iter()
                                .filter(|t| t.vdc == v.id)
                                .count()
                                .to_string(),
                        ),
                        ("isSystemVdc", b(false)),
                        ("isBusy", b(false)),
                        ("status", "READY".into()),
                        ("numberOfVMs", vms.len().to_string()),
                        (
                            "numberOfRunningVMs",
                            vms.iter()
                                .filter(|m| m.power == Power::On)
                                .count()
                                .to_string(),
                        ),
                    ],
                }
            })
            .collect(),
        "disk" => st
            .independent_disks
            .iter()
            .map(|d| Rec {
                href: format!("{base}/api/disk/{}", d.id),
                id: format!("urn:vcloud:disk:{}", d.id),
                attrs: vec![
                    ("name", d.name.clone()),
                    ("vdc", vdc_href(d.vdc)),
                    ("vdcName", vdc_name(d.vdc)),
                    ("description", d.description.clone()),
                    ("sizeB", d.size_bytes.to_string()),
                    ("sizeMb", d.size_bytes.div_ceil(1024 * 1024).to_string()),
                    ("busType", d.bus_type.clone()),
                    ("busSubType", d.bus_sub_type.clone()),
                    ("storageProfileName", d.storage_profile.clone()),
                    ("ownerName", "admin".into()),
                    ("isAttached", b(!d.attached.is_empty())),
                    (
                        "status",
                        if d.ready { "RESOLVED" } else { "UNRESOLVED" }.into(),
                    ),
                ],
            })
            .collect(),
        "orgVdcNetwork" => st
            .org_networks
            .iter()
            .map(|n| {
                use super::network::Fence;
                let (link_type, connected) = match &n.fence {
                    Fence::Direct => ("0", "ext-public".to_owned()),
                    Fence::Routed(e) => (
                        "1",
                        st.edges
                            .iter()
                            .find(|x| x.id == *e)
                            .map(|x| x.name.clone())
                            .unwrap_or_default(),
                    ),
                    Fence::Isolated => ("2", String::new()),
                };
                Rec {
                    href: format!("{base}/api/admin/network/{}", n.id),
                    id: format!("urn:vcloud:network:{}", n.id),
                    attrs: vec![
                        ("name", n.name.clone()),
                        ("vdc", vdc_href(n.vdc)),
                        ("vdcName", vdc_name(n.vdc)),
                        ("defaultGateway", n.gateway.to_string()),
                        (
                            "netmask",
                            std::net::Ipv4Addr::from(u32::MAX << (32 - u32::from(n.prefix)))
                                .to_string(),
                        ),
                        ("dns1", n.dns1.clone()),
                        ("dns2", n.dns2.clone()),
                        ("dnsSuffix", n.dns_suffix.clone()),
                        ("linkType", link_type.into()),
                        ("connectedTo", connected),
                        ("isShared", b(n.shared)),
                        ("isBusy", b(!n.ready)),
                    ],
                }
            })
            .collect(),
        "catalog" => st
            .catalogs
            .iter()
            .map(|c| Rec {
                href: format!("{base}/api/catalog/{}", c.id),
                id: format!("urn:vcloud:catalog:{}", c.id),
                attrs: vec![
                    ("name", c.name.clone()),
                    ("description", c.description.clone()),
                    ("isPublished", b(c.published)),
                    ("isShared", b(c.everyone.is_some() || !c.access.is_empty())),
                    (
                        "orgName",
                        st.orgs
                            .iter()
                            .find(|o| o.id == c.org)
                            .map(|o| o.name.clone())
                            .unwrap_or_default(),
                    ),
                    ("ownerName", "admin".into()),
                    ("creationDate", c.created.clone()),
                    (
                        "numberOfVAppTemplates",
                        st.templates
                            .iter()
                            .filter(|t| t.catalog_id == c.id)
                            .count()
                            .to_string(),
                    ),
                    (
                        "numberOfMedia",
                        st.media
                            .iter()
                            .filter(|m| m.catalog == c.id)
                            .count()
                            .to_string(),
                    ),
                ],
            })
            .collect(),
        "media" => st
            .media
            .iter()
            .map(|m| Rec {
                href: format!("{base}/api/media/{}", m.id),
                id: format!("urn:vcloud:media:{}", m.id),
                attrs: vec![
                    ("name", m.name.clone()),
                    (
                        "catalogName",
                        st.catalogs
                            .iter()
                            .find(|c| c.id == m.catalog)
                            .map(|c| c.name.clone())
                            .unwrap_or_default(),
                    ),
                    ("catalog", format!("{base}/api/catalog/{}", m.catalog)),
                    ("catalogItem", format!("{base}/api/catalogItem/{}", m.item)),
                    ("vdc", vdc_href(m.vdc)),
                    ("vdcName", vdc_name(m.vdc)),
                    ("storageB", m.size.to_string()),
                    ("ownerName", "admin".into()),
                    ("isBusy", b(!m.ready)),
                    (
                        "status",
                        if m.ready { "RESOLVED" } else { "UNRESOLVED" }.into(),
                    ),
                ],
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A parsed FIQL filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Cmp { attr: String, op: Op, value: String },
}

/// A FIQL comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    decode_values: bool,
}

impl Parser<'_> {
    fn or(&mut self) -> Result<Filter, String> {
        let mut items = vec![self.and()?];
        while self.s.get(self.pos) == Some(&b',') {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Filter::Or(items)
        })
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut items = vec![self.term()?];
        while self.s.get(self.pos) == Some(&b';') {
            self.pos += 1;
            items.push(self.term()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Filter::And(items)
        })
    }

    fn term(&mut self) -> Result<Filter, String> {
        if self.s.get(self.pos) == Some(&b'(') {
            self.pos += 1;
            let inner = self.or()?;
            if self.s.get(self.pos) != Some(&b')') {
                return Err(format!("missing ')' at position {}", self.pos));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric()
                || self.s[self.pos] == b'_'
                || self.s[self.pos] == b'.')
        {
            self.pos += 1;
        }
        let attr = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        if attr.is_empty() {
            return Err(format!("expected an attribute name at position {start}"));
        }
        let rest = &self.s[self.pos..];
        let (op, len) = if rest.starts_with(b"==") {
            (Op::Eq, 2)
        } else if rest.starts_with(b"!=") {
            (Op::Ne, 2)
        } else if rest.starts_with(b"=gt=") {
            (Op::Gt, 4)
        } else if rest.starts_with(b"=ge=") {
            (Op::Ge, 4)
        } else if rest.starts_with(b"=lt=") {
            (Op::Lt, 4)
        } else if rest.starts_with(b"=le=") {
            (Op::Le, 4)
        } else {
            return Err(format!("expected a comparison operator after '{attr}'"));
        };
        self.pos += len;
        let mut value = Vec::new();
        while let Some(&c) = self.s.get(self.pos) {
            match c {
                b'\\' => {
                    if let Some(&n) = self.s.get(self.pos + 1) {
                        value.push(n);
                        self.pos += 2;
                    } else {
                        return Err("dangling escape at the end of the filter".into());
                    }
                }
                b';' | b',' | b')' => break,
                _ => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
        let mut value = String::from_utf8_lossy(&value).into_owned();
        if self.decode_values {
            value = percent_decode(&value);
        }
        Ok(Filter::Cmp { attr, op, value })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a FIQL filter; `decode_values` is `filterEncoded=true`.
pub(crate) fn parse_filter(s: &str, decode_values: bool) -> Result<Filter, String> {
    let mut p = Parser {
        s: s.as_bytes(),
        pos: 0,
        decode_values,
    };
    let f = p.or()?;
    if p.pos != s.len() {
        return Err(format!("unexpected character at position {}", p.pos));
    }
    Ok(f)
}

fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn eval(f: &Filter, r: &Rec) -> bool {
    eval_with(f, &|attr| r.get(attr).map(str::to_owned))
}

/// Evaluates a filter over any record: `get` gives an attribute's text (missing is "").
/// The cloudapi handlers use it over JSON documents with dotted paths (`orgVdc.id`).
pub(crate) fn eval_with(f: &Filter, get: &dyn Fn(&str) -> Option<String>) -> bool {
    match f {
        Filter::And(v) => v.iter().all(|x| eval_with(x, get)),
        Filter::Or(v) => v.iter().any(|x| eval_with(x, get)),
        Filter::Cmp { attr, op, value } => {
            let have = get(attr).unwrap_or_default();
            let have = have.as_str();
            match op {
                Op::Eq => glob(value, have),
                Op::Ne => !glob(value, have),
                Op::Gt => compare(have, value) == Ordering::Greater,
                Op::Ge => compare(have, value) != Ordering::Less,
                Op::Lt => compare(have, value) == Ordering::Less,
                Op::Le => compare(have, value) != Ordering::Greater,
            }
        }
    }
}

fn filter_attrs(f: &Filter, out: &mut Vec<String>) {
    match f {
        Filter::And(v) | Filter::Or(v) => v.iter().for_each(|x| filter_attrs(x, out)),
        Filter::Cmp { attr, .. } => out.push(attr.clone()),
    }
}

/// The value at a dotted path (`orgVdc.id`) as filter/sort text.
pub(crate) fn path_text(v: &Value, path: &str) -> Option<String> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A cloudapi page of `items` (JSON documents) per the request's `page`, `pageSize`
/// (default 25, capped at 128), FIQL `filter` over dotted paths and `sortAsc`/`sortDesc`:
/// `{resultTotal, pageCount, page, pageSize, associations, values}`.
pub(crate) fn cloudapi_page(ctx: &Ctx<'_>, mut items: Vec<Value>) -> Response {
    let num = |name: &str, default: u64| -> Result<u64, Box<Response>> {
        match ctx.param(name) {
            None | Some("") => Ok(default),
            Some(t) => t.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Box::new(super::common::cloudapi_bad(&format!(
                    "Invalid {name} \"{t}\": it must be a positive number."
                )))
            }),
        }
    };
    let page = match num("page", 1) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let page_size = match num("pageSize", 25) {
        Ok(p) => p.min(128),
        Err(r) => return *r,
    };
    if let Some(f) = ctx.param("filter").filter(|f| !f.is_empty()) {
        let parsed = match parse_filter(f, false) {
            Ok(p) => p,
            Err(e) => return super::common::cloudapi_bad(&format!("Invalid filter \"{f}\": {e}.")),
        };
        items.retain(|v| eval_with(&parsed, &|attr| path_text(v, attr)));
    }
    let sort = ctx
        .param("sortAsc")
        .map(|f| (f.to_owned(), true))
        .or_else(|| ctx.param("sortDesc").map(|f| (f.to_owned(), false)));
    if let Some((field, asc)) = sort {
        items.sort_by(|a, b| {
            let o = path_text(a, &field)
                .unwrap_or_default()
                .to_lowercase()
                .cmp(&path_text(b, &field).unwrap_or_default().to_lowercase());
            if asc { o } else { o.reverse() }
        });
    }
    let total = items.len() as u64;
    let page_count = total.div_ceil(page_size);
    let start = ((page - 1) * page_size).min(total) as usize;
    let end = (start + page_size as usize).min(items.len());
    super::common::json(
        StatusCode::OK,
        &json!({
            "resultTotal": total,
            "pageCount": page_count,
            "page": page,
            "pageSize": page_size,
            "associations": null,
            "values": items[start..end].to_vec(),
        }),
    )
}

/// `GET /api/query`: the query list without `type`, a typed query with it.
pub(crate) fn query(ctx: &Ctx<'_>) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    match ctx.param("type") {
        None => query_list(ctx),
        Some(t) => run(ctx, t, "/api/query", None, "references"),
    }
}

/// `GET /api/admin/vdc/{id}/edgeGateways`: edge gateway records of one vDC.
pub(crate) fn vdc_edges(ctx: &Ctx<'_>, id: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let Some(u) = parse_id(id, "") else {
        return vcd_error(
            StatusCode::FORBIDDEN,
            "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
            "No such vDC.",
            &ctx.version,
        );
    };
    if !ctx.lock().vdcs.iter().any(|v| v.id == u) {
        return vcd_error(
            StatusCode::FORBIDDEN,
            "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
            "No such vDC.",
            &ctx.version,
        );
    }
    let path = format!("/api/admin/vdc/{u}/edgeGateways");
    let vdc_href = format!("{}/api/vdc/{u}", ctx.base());
    run(ctx, "edgeGateway", &path, Some(vdc_href), "records")
}

fn query_list(ctx: &Ctx<'_>) -> Response {
    let base = ctx.base();
    let mut body = format!(
        "<QueryList xmlns=\"{NS_VCLOUD}\" href=\"{base}/api/query\" type=\"application/vnd.vmware.vcloud.query.queryList+xml\">"
    );
    for (t, ..) in TYPES {
        for (format, media) in [
            (
                "references",
                "application/vnd.vmware.vcloud.query.references+xml",
            ),
            ("records", "application/vnd.vmware.vcloud.query.records+xml"),
            (
                "idrecords",
                "application/vnd.vmware.vcloud.query.idrecords+xml",
            ),
        ] {
            body.push_str(&link(
                "down",
                &format!("{base}/api/query?type={t}&format={format}"),
                Some(media),
                Some(t),
            ));
        }
    }
    body.push_str("</QueryList>");
    vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.query.queryList+xml",
        &ctx.version,
        &body,
    )
}

fn bad(ctx: &Ctx<'_>, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg, &ctx.version)
}

fn run(
    ctx: &Ctx<'_>,
    typ: &str,
    path: &str,
    vdc_only: Option<String>,
    default_format: &str,
) -> Response {
    let Some(&(typ, record_el, ref_el, entity_media)) =
        TYPES.iter().find(|(t, ..)| t.eq_ignore_ascii_case(typ))
    else {
        return bad(
            ctx,
            &format!("The query type \"{typ}\" is not supported by this server."),
        );
    };
    let format = ctx.param("format").unwrap_or(default_format);
    let refs_root = format!("{ref_el}s");
    let (root, media) = match format {
        "records" => (
            "QueryResultRecords",
            "application/vnd.vmware.vcloud.query.records+xml",
        ),
        "idrecords" => (
            "QueryResultRecords",
            "application/vnd.vmware.vcloud.query.idrecords+xml",
        ),
        "references" => (
            refs_root.as_str(),
            "application/vnd.vmware.vcloud.query.references+xml",
        ),
        other => return bad(ctx, &format!("Unknown query format \"{other}\".")),
    };
    let cfg = &ctx.shared.cfg;
    let page: u64 = match ctx.param("page").map(str::parse::<u64>) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => return bad(ctx, "The page parameter must be a positive integer."),
    };
    let page_size: u64 = match ctx.param("pageSize").map(str::parse::<u64>) {
        None => u64::from(cfg.query_default_page_size),
        Some(Ok(p)) if p >= 1 => p.min(u64::from(cfg.query_max_page_size)),
        Some(_) => return bad(ctx, "The pageSize parameter must be a positive integer."),
    };
    let base = ctx.base();
    let st = ctx.lock();
    let mut recs = records(&st, typ, &base, ctx.now);
    drop(st);
    if let Some(vdc) = &vdc_only {
        recs.retain(|r| r.get("vdc") == Some(vdc.as_str()));
    }
    let known: Vec<&str> = recs
        .first()
        .map(|r| r.attrs.iter().map(|(k, _)| *k).collect())
        .unwrap_or_default();
    let is_known = |a: &str| known.is_empty() || known.contains(&a) || a == "href" || a == "id";
    if let Some(f) = ctx.param("filter").filter(|f| !f.is_empty()) {
        let decode = ctx.param("filterEncoded") == Some("true");
        let parsed = match parse_filter(f, decode) {
            Ok(p) => p,
            Err(e) => return bad(ctx, &format!("Invalid filter \"{f}\": {e}.")),
        };
        let mut used = Vec::new();
        filter_attrs(&parsed, &mut used);
        if let Some(u) = used.iter().find(|a| !is_known(a)) {
            return bad(
                ctx,
                &format!("Invalid filter attribute \"{u}\" for query type {typ}."),
            );
        }
        recs.retain(|r| eval(&parsed, r));
    }
    let sort = match (ctx.param("sortAsc"), ctx.param("sortDesc")) {
        (Some(_), Some(_)) => return bad(ctx, "Only one of sortAsc and sortDesc may be given."),
        (Some(a), None) => Some((a, false)),
        (None, Some(d)) => Some((d, true)),
        (None, None) => None,
    };
    if let Some((attr, desc)) = sort {
        if !is_known(attr) {
            return bad(
                ctx,
                &format!("Invalid sort attribute \"{attr}\" for query type {typ}."),
            );
        }
        recs.sort_by(|a, b| {
            let o = compare(a.get(attr).unwrap_or(""), b.get(attr).unwrap_or(""));
            if desc { o.reverse() } else { o }
        });
    }
    let fields: Option<Vec<String>> = ctx
        .param("fields")
        .filter(|f| !f.is_empty())
        .map(|f| f.split(',').map(|s| s.trim().to_owned()).collect());
    if let Some(fs) = &fields
        && let Some(u) = fs.iter().find(|a| !is_known(a))
    {
        return bad(ctx, &format!("Invalid field \"{u}\" for query type {typ}."));
    }
    let total = recs.len() as u64;
    let last_page = total.div_ceil(page_size).max(1);
    if page > last_page {
        return bad(
            ctx,
            &format!("The requested page {page} is out of range (last page {last_page})."),
        );
    }
    let start = usize::try_from((page - 1) * page_size).unwrap_or(usize::MAX);
    let shown: Vec<&Rec> = recs
        .iter()
        .skip(start)
        .take(usize::try_from(page_size).unwrap_or(usize::MAX))
        .collect();

    let href_for = |p: u64, fmt: &str| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        let mut seen_page = false;
        let mut seen_size = false;
        let mut seen_format = false;
        for (k, v) in &ctx.query {
            match k.as_str() {
                "page" => {
                    seen_page = true;
                    ser.append_pair(k, &p.to_string());
                }
                "pageSize" => {
                    seen_size = true;
                    ser.append_pair(k, &page_size.to_string());
                }
                "format" => {
                    seen_format = true;
                    ser.append_pair(k, fmt);
                }
                _ => {
                    ser.append_pair(k, v);
                }
            }
        }
        if !seen_page {
            ser.append_pair("page", &p.to_string());
        }
        if !seen_size {
            ser.append_pair("pageSize", &page_size.to_string());
        }
        if !seen_format {
            ser.append_pair("format", fmt);
        }
        format!("{base}{path}?{}", ser.finish())
    };
    let mut body = format!(
        "<{root} xmlns=\"{NS_VCLOUD}\"{}>",
        attrs(&[
            ("name", typ),
            ("page", &page.to_string()),
            ("pageSize", &page_size.to_string()),
            ("total", &total.to_string()),
            ("href", &href_for(page, format)),
            ("type", media),
        ])
    );
    for (fmt, m) in [
        (
            "references",
            "application/vnd.vmware.vcloud.query.references+xml",
        ),
        ("records", "application/vnd.vmware.vcloud.query.records+xml"),
        (
            "idrecords",
            "application/vnd.vmware.vcloud.query.idrecords+xml",
        ),
    ] {
        if fmt != format {
            body.push_str(&link("alternate", &href_for(page, fmt), Some(m), None));
        }
    }
    if page > 1 {
        body.push_str(&link("firstPage", &href_for(1, format), Some(media), None));
        body.push_str(&link(
            "previousPage",
            &href_for(page - 1, format),
            Some(media),
            None,
        ));
    }
    if page < last_page {
        body.push_str(&link(
            "nextPage",
            &href_for(page + 1, format),
            Some(media),
            None,
        ));
        body.push_str(&link(
            "lastPage",
            &href_for(last_page, format),
            Some(media),
            None,
        ));
    }
    for r in shown {
        if format == "references" {
            let name = r.get("name").unwrap_or_default();
            body.push_str(&format!(
                "<{ref_el}{}/>",
                attrs(&[
                    ("href", &r.href),
                    ("id", &r.id),
                    ("name", name),
                    ("type", entity_media)
                ])
            ));
            continue;
        }
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (k, v) in &r.attrs {
            let wanted = match &fields {
                Some(fs) => *k == "name" || fs.iter().any(|f| f == k),
                None => true,
            };
            if wanted {
                pairs.push((k, v));
            }
        }
        pairs.push(("href", &r.href));
        if format == "idrecords" {
            pairs.push(("id", &r.id));
        }
        body.push_str(&format!("<{record_el}{}/>", attrs(&pairs)));
    }
    body.push_str(&format!("</{root}>"));
    vcd_xml(StatusCode::OK, media, &ctx.version, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fiql() {
        let f = parse_filter("name==web*;isDeleted==false", false).expect("parses");
        assert!(matches!(f, Filter::And(ref v) if v.len() == 2));
        let f = parse_filter("(name==a,name==b);status!=POWERED_ON", false).expect("parses");
        assert!(matches!(f, Filter::And(_)));
        let f = parse_filter(r"name==a\,b", false).expect("parses");
        assert_eq!(
            f,
            Filter::Cmp {
                attr: "name".into(),
                op: Op::Eq,
                value: "a,b".into()
            }
        );
        let f = parse_filter("numberOfCpus=ge=2", false).expect("parses");
        assert!(matches!(f, Filter::Cmp { op: Op::Ge, .. }));
        assert!(parse_filter("name", false).is_err());
        assert!(parse_filter("(name==a", false).is_err());
        assert!(parse_filter("==a", false).is_err());
        let f = parse_filter("name==a%20b", true).expect("parses");
        assert_eq!(
            f,
            Filter::Cmp {
                attr: "name".into(),
                op: Op::Eq,
                value: "a b".into()
            }
        );
    }

    #[test]
    fn garbage_filters_never_panic() {
        let alphabet: Vec<char> = "ab=!;,()\\*%2Fgtle \u{e9}0".chars().collect();
        let mut rng = fastrand::Rng::with_seed(42);
        for _ in 0..20_000 {
            let len = rng.usize(0..24);
            let s: String = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let _ = parse_filter(&s, rng.bool());
            let _ = percent_decode(&s);
            let _ = glob(&s, "abc");
        }
    }

    #[test]
    fn globs_ignore_case() {
        assert!(glob("web*", "Web-Tier"));
        assert!(glob("*tier", "web-tier"));
        assert!(glob("w*-*r", "web-tier"));
        assert!(!glob("db*", "web-tier"));
        assert!(glob("web-tier", "WEB-TIER"));
    }

    #[test]
    fn compares_numbers_numerically() {
        assert_eq!(compare("10", "9"), Ordering::Greater);
        assert_eq!(compare("b", "A"), Ordering::Greater);
    }

    #[test]
    fn percent_decoding_tolerates_garbage() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
