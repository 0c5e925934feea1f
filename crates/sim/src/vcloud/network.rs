//! Org vDC networks (`OrgVdcNetwork`), as vCD serves them:
//!
//! - `POST /api/admin/vdc/{id}/networks` creates one (201, the network with its creation
//!   Task; the vDC's `Link rel="add"` of type `orgVdcNetwork+xml` points here), after the
//!   checks vCD makes: a unique name in the vDC (400 `DUPLICATE_NAME`), a fence mode, a
//!   gateway and netmask that form a subnet, static pools inside it that hold neither the
//!   gateway nor overlap, an edge gateway of the same vDC for routed networks, a parent
//!   network for direct ones (400 `BAD_REQUEST` otherwise);
//! - `GET /api/network/{id}` and `/api/admin/network/{id}`, `PUT /api/admin/network/{id}`
//!   (name, description, DNS and pools; a Task), `DELETE /api/admin/network/{id}` (a Task;
//!   refused with 400 `BAD_REQUEST` while a vApp network or a VM NIC of the vDC uses it);
//! - query records of type `orgVdcNetwork` (`query.rs`) with `linkType` 0 direct,
//!   1 routed, 2 isolated.
//!
//! Every vDC starts with the routed network `default-routed` (its id is the vDC's with
//! the last byte flipped, as the vDC document links it).

use std::net::Ipv4Addr;

use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::common::{Ctx, parse_id, unauthorized, vcd_error, vcd_xml};
use super::state::{Effect, State, WorkloadFn};
use super::xml::{Element, NS_VCLOUD, attrs, esc, parse};

/// The media type of the network document.
pub(crate) const MT_NETWORK: &str = "application/vnd.vmware.vcloud.orgVdcNetwork+xml";

/// One org vDC network.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrgNetwork {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    /// `isolated`, `natRouted`, `bridged`.
    pub(crate) fence_mode: String,
    pub(crate) gateway: String,
    pub(crate) netmask: String,
    pub(crate) dns1: String,
    pub(crate) dns2: String,
    pub(crate) dns_suffix: String,
    pub(crate) ranges: Vec<(String, String)>,
    /// Routed: the edge gateway.
    pub(crate) edge: Option<Uuid>,
    /// Direct: the parent network's href.
    pub(crate) parent: Option<String>,
    pub(crate) shared: bool,
}

impl OrgNetwork {
    /// The seeded `default-routed` network of a vDC.
    pub(crate) fn default_for(vdc: Uuid, edge: Option<Uuid>, third_octet: u8) -> OrgNetwork {
        OrgNetwork {
            id: default_id(vdc),
            vdc,
            name: "default-routed".into(),
            description: "Routed network of the vDC".into(),
            fence_mode: if edge.is_some() {
                "natRouted"
            } else {
                "isolated"
            }
            .into(),
            gateway: format!("192.168.{third_octet}.1"),
            netmask: "255.255.255.0".into(),
            dns1: "8.8.8.8".into(),
            dns2: String::new(),
            dns_suffix: String::new(),
            ranges: vec![(
                format!("192.168.{third_octet}.100"),
                format!("192.168.{third_octet}.199"),
            )],
            edge,
            parent: None,
            shared: false,
        }
    }

    /// The query service's `linkType`.
    pub(crate) fn link_type(&self) -> &'static str {
        match self.fence_mode.as_str() {
            "bridged" => "0",
            "natRouted" => "1",
            _ => "2",
        }
    }
}

/// The id of a vDC's `default-routed` network.
pub(crate) fn default_id(vdc: Uuid) -> Uuid {
    Uuid::from_u128(vdc.as_u128() ^ 0xff)
}

/// The network document.
pub(crate) fn network_xml(base: &str, st: &State, n: &OrgNetwork, tasks: &str) -> String {
    let admin = format!("{base}/api/admin/network/{}", n.id);
    let mut links = String::new();
    for (rel, href, ty) in [
        (
            "up",
            format!("{base}/api/vdc/{}", n.vdc),
            "application/vnd.vmware.vcloud.vdc+xml",
        ),
        ("edit", admin.clone(), MT_NETWORK),
        ("remove", admin.clone(), ""),
    ] {
        let mut a = vec![("rel", rel), ("href", href.as_str())];
        if !ty.is_empty() {
            a.push(("type", ty));
        }
        links.push_str(&format!("<Link{}/>", attrs(&a)));
    }
    let mut scope = String::new();
    if n.fence_mode != "bridged" {
        scope.push_str("<IpScopes><IpScope><IsInherited>false</IsInherited>");
        scope.push_str(&format!(
            "<Gateway>{}</Gateway><Netmask>{}</Netmask>",
            esc(&n.gateway),
            esc(&n.netmask)
        ));
        if !n.dns1.is_empty() {
            scope.push_str(&format!("<Dns1>{}</Dns1>", esc(&n.dns1)));
        }
        if !n.dns2.is_empty() {
            scope.push_str(&format!("<Dns2>{}</Dns2>", esc(&n.dns2)));
        }
        if !n.dns_suffix.is_empty() {
            scope.push_str(&format!("<DnsSuffix>{}</DnsSuffix>", esc(&n.dns_suffix)));
        }
        scope.push_str("<IsEnabled>true</IsEnabled>");
        if !n.ranges.is_empty() {
            scope.push_str("<IpRanges>");
            for (s, e) in &n.ranges {
                scope.push_str(&format!(
                    "<IpRange><StartAddress>{}</StartAddress><EndAddress>{}</EndAddress></IpRange>",
                    esc(s),
                    esc(e)
                ));
            }
            scope.push_str("</IpRanges>");
        }
        scope.push_str("</IpScope></IpScopes>");
    }
    let parent = n
        .parent
        .as_ref()
        .map(|p| format!("<ParentNetwork{}/>", attrs(&[("href", p.as_str())])))
        .unwrap_or_default();
    let edge_name = n.edge.and_then(|e| {
        st.edges
            .iter()
            .find(|x| x.id == e)
            .map(|x| x.name.clone())
            .or_else(|| {
                st.nsxt
                    .edges
                    .iter()
                    .find(|x| x.id == e)
                    .map(|x| x.name.clone())
            })
    });
    let edge = match (n.edge, edge_name) {
        (Some(id), Some(name)) => format!(
            "<EdgeGateway{}/>",
            attrs(&[
                ("href", &format!("{base}/api/admin/edgeGateway/{id}")),
                ("name", &name),
                ("type", "application/vnd.vmware.admin.edgeGateway+xml"),
            ])
        ),
        _ => String::new(),
    };
    format!(
        "<OrgVdcNetwork xmlns=\"{NS_VCLOUD}\" status=\"1\"{}>{links}<Description>{}</Description>{tasks}\
         <Configuration>{scope}{parent}<FenceMode>{}</FenceMode>\
         <RetainNetInfoAcrossDeployments>false</RetainNetInfoAcrossDeployments></Configuration>\
         {edge}<IsShared>{}</IsShared></OrgVdcNetwork>",
        attrs(&[
            ("name", &n.name),
            ("id", &format!("urn:vcloud:network:{}", n.id)),
            ("href", &admin),
            ("type", MT_NETWORK),
        ]),
        esc(&n.description),
        esc(&n.fence_mode),
        n.shared
    )
}

fn bad(ctx: &Ctx<'_>, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg, &ctx.version)
}

fn forbidden(ctx: &Ctx<'_>, id: &str) -> Response {
    vcd_error(
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        &format!(
            "Either you need some or all of the following rights [ORG_VDC_NETWORK_VIEW] to perform operations [ORG_VDC_NETWORK_VIEW] for {id} or the target entity is invalid."
        ),
        &ctx.version,
    )
}

/// `GET /api/network/{id}` and `/api/admin/network/{id}`.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let st = ctx.lock();
    let Some(n) = parse_id(id, "").and_then(|u| st.org_networks.iter().find(|n| n.id == u)) else {
        drop(st);
        return forbidden(ctx, id);
    };
    let body = network_xml(&ctx.base(), &st, n, "");
    vcd_xml(StatusCode::OK, MT_NETWORK, &ctx.version, &body)
}

fn attr<'e>(el: &'e Element, k: &str) -> Option<&'e str> {
    el.attrs
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
}

fn ip(text: &str) -> Option<Ipv4Addr> {
    text.trim().parse().ok()
}

/// What a request body says about a network (the checks of vCD applied).
fn parse_body(
    ctx: &Ctx<'_>,
    st: &State,
    vdc: Uuid,
    id: Option<Uuid>,
) -> Result<OrgNetwork, String> {
    let body =
        std::str::from_utf8(&ctx.body).map_err(|_| "The request body is not UTF-8.".to_owned())?;
    let doc = parse(body).map_err(|e| format!("Bad request body: {e}"))?;
    if doc.name != "OrgVdcNetwork" {
        return Err(format!(
            "Expected an OrgVdcNetwork document, got {}.",
            doc.name
        ));
    }
    let name = attr(&doc, "name").unwrap_or("").trim().to_owned();
    if name.is_empty() {
        return Err("The network name must not be empty.".into());
    }
    let conf = doc.child("Configuration");
    let fence = conf
        .and_then(|c| c.child_text("FenceMode"))
        .unwrap_or_default()
        .to_owned();
    if !matches!(fence.as_str(), "isolated" | "natRouted" | "bridged") {
        return Err(format!(
            "Invalid fence mode \"{fence}\" for an org VDC network."
        ));
    }
    let scope = conf
        .and_then(|c| c.child("IpScopes"))
        .and_then(|s| s.child("IpScope"));
    let text = |k: &str| {
        scope
            .and_then(|s| s.child_text(k))
            .unwrap_or_default()
            .to_owned()
    };
    let mut net = OrgNetwork {
        id: id.unwrap_or_else(crate::random_uuid),
        vdc,
        name,
        description: doc.child_text("Description").unwrap_or_default().to_owned(),
        fence_mode: fence.clone(),
        gateway: text("Gateway"),
        netmask: text("Netmask"),
        dns1: text("Dns1"),
        dns2: text("Dns2"),
        dns_suffix: text("DnsSuffix"),
        ranges: scope
            .and_then(|s| s.child("IpRanges"))
            .map(|r| {
                r.children
                    .iter()
                    .filter(|x| x.name == "IpRange")
                    .map(|x| {
                        (
                            x.child_text("StartAddress").unwrap_or_default().to_owned(),
                            x.child_text("EndAddress").unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        edge: None,
        parent: conf
            .and_then(|c| c.child("ParentNetwork"))
            .and_then(|p| attr(p, "href").map(str::to_owned)),
        shared: doc.child_text("IsShared") == Some("true"),
    };
    if fence == "bridged" {
        if net.parent.is_none() {
            return Err("A directly connected network needs a ParentNetwork.".into());
        }
        return Ok(net);
    }
    let (Some(gw), Some(mask)) = (ip(&net.gateway), ip(&net.netmask)) else {
        return Err(format!(
            "Invalid gateway \"{}\" or netmask \"{}\".",
            net.gateway, net.netmask
        ));
    };
    let m = u32::from(mask);
    if m.leading_ones() + m.trailing_zeros() != 32 || m.leading_ones() == 0 || m.leading_ones() > 30
    {
        return Err(format!("Invalid netmask \"{mask}\"."));
    }
    let network = u32::from(gw) & m;
    let broadcast = network | !m;
    if u32::from(gw) == network || u32::from(gw) == broadcast {
        return Err(format!(
            "The gateway {gw} is not a host address of its subnet."
        ));
    }
    for dns in [&net.dns1, &net.dns2] {
        if !dns.is_empty() && ip(dns).is_none() {
            return Err(format!("Invalid DNS server \"{dns}\"."));
        }
    }
    let mut seen: Vec<(u32, u32)> = Vec::new();
    for (s, e) in &net.ranges {
        let (Some(a), Some(b)) = (ip(s), ip(e)) else {
            return Err(format!("Invalid IP range {s} - {e}."));
        };
        let (a, b) = (u32::from(a), u32::from(b));
        if a > b {
            return Err(format!(
                "Invalid IP range {s} - {e}: the start is after the end."
            ));
        }
        if a & m != network || b & m != network {
            return Err(format!(
                "The IP range {s} - {e} is not within the network {}/{}.",
                Ipv4Addr::from(network),
                m.leading_ones()
            ));
        }
        if (a..=b).contains(&u32::from(gw)) {
            return Err(format!(
                "The IP range {s} - {e} contains the gateway address {gw}."
            ));
        }
        if a == network || b == broadcast {
            return Err(format!(
                "The IP range {s} - {e} contains the network or broadcast address."
            ));
        }
        if seen.iter().any(|(x, y)| *x <= b && a <= *y) {
            return Err(format!("The IP range {s} - {e} overlaps another range."));
        }
        seen.push((a, b));
    }
    if fence == "natRouted" {
        let edge_href = doc
            .child("EdgeGateway")
            .and_then(|e| attr(e, "href").map(str::to_owned))
            .ok_or_else(|| "A routed network needs an EdgeGateway.".to_owned())?;
        let edge = edge_href
            .rsplit('/')
            .next()
            .and_then(|s| parse_id(s, ""))
            .filter(|u| {
                st.edges.iter().any(|e| e.id == *u && e.vdc == vdc)
                    || st.nsxt.edges.iter().any(|e| e.id == *u && e.vdc == vdc)
            })
            .ok_or_else(|| {
                format!("The edge gateway {edge_href} is not an edge gateway of this VDC.")
            })?;
        net.edge = Some(edge);
    }
    Ok(net)
}

/// `POST /api/admin/vdc/{id}/networks`.
pub(crate) fn create(ctx: &Ctx<'_>, vdc_id: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let mut st = ctx.lock();
    let Some(vdc) = parse_id(vdc_id, "").filter(|u| st.vdcs.iter().any(|v| v.id == *u)) else {
        drop(st);
        return forbidden(ctx, vdc_id);
    };
    let net = match parse_body(ctx, &st, vdc, None) {
        Ok(n) => n,
        Err(m) => {
            drop(st);
            return bad(ctx, &m);
        }
    };
    if st
        .org_networks
        .iter()
        .any(|n| n.vdc == vdc && n.name.eq_ignore_ascii_case(&net.name))
    {
        let msg = format!(
            "An org VDC network named \"{}\" already exists in this VDC.",
            net.name
        );
        drop(st);
        return vcd_error(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            &msg,
            &ctx.version,
        );
    }
    st.org_networks.push(net.clone());
    let base = ctx.base();
    let owner = (
        format!("/api/admin/network/{}", net.id),
        net.name.clone(),
        MT_NETWORK.to_owned(),
    );
    let id = net.id;
    let tid = st.new_task(
        "networkCreateOrgVdcNetwork",
        format!("Creating Org VDC network {}({})", net.name, net.id),
        owner,
        Effect::Workload {
            ok: WorkloadFn(std::sync::Arc::new(|_| {})),
            failed: Some(WorkloadFn(std::sync::Arc::new(move |st: &mut State| {
                st.org_networks.retain(|n| n.id != id);
            }))),
        },
        &ctx.prefix,
        None,
        None,
    );
    let task = match st.tasks.get(&tid) {
        Some(t) => super::vcd::task_xml(&ctx.shared.origin, &st, t, ctx.now).replacen(
            &format!(" xmlns=\"{NS_VCLOUD}\""),
            "",
            1,
        ),
        None => String::new(),
    };
    let doc = network_xml(&base, &st, &net, &format!("<Tasks>{task}</Tasks>"));
    vcd_xml(StatusCode::CREATED, MT_NETWORK, &ctx.version, &doc)
}

/// Whether a vApp network or a VM NIC of the network's vDC uses it.
fn users(st: &State, n: &OrgNetwork) -> Vec<String> {
    let mut out: Vec<String> = st
        .vapps
        .iter()
        .filter(|a| a.vdc == n.vdc && a.networks.iter().any(|x| x == &n.name))
        .map(|a| format!("vApp {}", a.name))
        .collect();
    for vm in st.vms.iter().filter(|m| m.vdc == n.vdc) {
        if vm.nics.iter().any(|c| c.network == n.name) {
            out.push(format!("VM {}", vm.name));
        }
    }
    out
}

/// `PUT /api/admin/network/{id}`: name, description, DNS, pools and sharing.
pub(crate) fn update(ctx: &Ctx<'_>, id: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let mut st = ctx.lock();
    let Some(cur) = parse_id(id, "")
        .and_then(|u| st.org_networks.iter().find(|n| n.id == u))
        .cloned()
    else {
        drop(st);
        return forbidden(ctx, id);
    };
    let mut next = match parse_body(ctx, &st, cur.vdc, Some(cur.id)) {
        Ok(n) => n,
        Err(m) => {
            drop(st);
            return bad(ctx, &m);
        }
    };
    if next.fence_mode != cur.fence_mode {
        drop(st);
        return bad(
            ctx,
            "The fence mode of an org VDC network cannot be changed.",
        );
    }
    if next.edge.is_none() {
        next.edge = cur.edge;
    }
    if st
        .org_networks
        .iter()
        .any(|n| n.vdc == cur.vdc && n.id != cur.id && n.name.eq_ignore_ascii_case(&next.name))
    {
        let msg = format!(
            "An org VDC network named \"{}\" already exists in this VDC.",
            next.name
        );
        drop(st);
        return vcd_error(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            &msg,
            &ctx.version,
        );
    }
    let owner = (
        format!("/api/admin/network/{}", cur.id),
        cur.name.clone(),
        MT_NETWORK.to_owned(),
    );
    let nid = cur.id;
    let tid = st.new_task(
        "networkUpdateNetwork",
        format!("Updating Org VDC network {}({})", cur.name, cur.id),
        owner,
        Effect::Workload {
            ok: WorkloadFn(std::sync::Arc::new(move |st: &mut State| {
                if let Some(n) = st.org_networks.iter_mut().find(|n| n.id == nid) {
                    *n = next.clone();
                }
            })),
            failed: None,
        },
        &ctx.prefix,
        None,
        None,
    );
    super::vcd::task_accepted(ctx, &st, tid)
}

/// `DELETE /api/admin/network/{id}`.
pub(crate) fn delete(ctx: &Ctx<'_>, id: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let mut st = ctx.lock();
    let Some(cur) = parse_id(id, "")
        .and_then(|u| st.org_networks.iter().find(|n| n.id == u))
        .cloned()
    else {
        drop(st);
        return forbidden(ctx, id);
    };
    let used = users(&st, &cur);
    if !used.is_empty() {
        drop(st);
        return bad(
            ctx,
            &format!(
                "Cannot delete network \"{}\": it is in use by {}.",
                cur.name,
                used.join(", ")
            ),
        );
    }
    let owner = (
        format!("/api/admin/network/{}", cur.id),
        cur.name.clone(),
        MT_NETWORK.to_owned(),
    );
    let nid = cur.id;
    let tid = st.new_task(
        "networkDelete",
        format!("Deleting Org VDC network {}({})", cur.name, cur.id),
        owner,
        Effect::Workload {
            ok: WorkloadFn(std::sync::Arc::new(move |st: &mut State| {
                st.org_networks.retain(|n| n.id != nid);
            })),
            failed: None,
        },
        &ctx.prefix,
        None,
        None,
    );
    super::vcd::task_accepted(ctx, &st, tid)
}
