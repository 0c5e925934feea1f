//! vCD org vDC networks: create in a vDC (`OrgVdcNetwork`: isolated, routed through the
//! vDC's edge gateway, or direct on an external network), get, update, delete.
//!
//! Rules as vCD applies them: the gateway and every static IP pool lie inside the subnet
//! (gateway plus prefix length or netmask), pools do not contain the gateway, the network
//! or broadcast address, or overlap;
//! a routed network needs an edge gateway of the same vDC, a direct one the provider's
//! external network; names are unique in the vDC without regard to case
//! (`DUPLICATE_NAME`); a network a vApp or VM of the vDC uses is not deleted (400); an
//! unknown id is 403. Changes apply when their task succeeds.

#![allow(clippy::result_large_err)]

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::common::{Ctx, parse_id, unauthorized, vcd_error, vcd_xml};
use super::state::{Effect, State, WorkloadFn};
use super::vcd::task_accepted;
use super::xml::{self as x, Element, NS_VCLOUD, attrs, esc, link};

/// Media type of an admin `OrgVdcNetwork` document.
pub(crate) const MT_ORG_VDC_NETWORK: &str = "application/vnd.vmware.vcloud.orgVdcNetwork+xml";
/// Id of the provider's external network that direct networks attach to.
pub(crate) const EXTERNAL_NETWORK: Uuid =
    Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0401);
const EXTERNAL_NAME: &str = "ext-public";

/// How an org vDC network reaches the outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fence {
    Isolated,
    /// Routed through this edge gateway (`natRouted`).
    Routed(Uuid),
    /// Directly on the external network (`bridged`).
    Direct,
}

/// An org vDC network.
#[derive(Debug, Clone)]
pub(crate) struct OrgNetwork {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) fence: Fence,
    pub(crate) gateway: Ipv4Addr,
    pub(crate) prefix: u8,
    pub(crate) dns1: String,
    pub(crate) dns2: String,
    pub(crate) dns_suffix: String,
    pub(crate) pools: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub(crate) shared: bool,
    pub(crate) ready: bool,
}

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

fn attr<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn in_subnet(ip: Ipv4Addr, gw: Ipv4Addr, prefix: u8) -> bool {
    u32::from(ip) & mask(prefix) == u32::from(gw) & mask(prefix)
}

/// The prefix length of a dotted netmask, if it is one.
fn netmask_prefix(m: &str) -> Option<u8> {
    let v = u32::from(m.trim().parse::<Ipv4Addr>().ok()?);
    let ones = v.leading_ones();
    (v.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// The networks of a vDC, as the vDC's `AvailableNetworks` lists them after
/// `default-routed`: (href, name).
pub(crate) fn available(st: &State, base: &str, vdc: Uuid) -> Vec<(String, String)> {
    st.org_networks
        .iter()
        .filter(|n| n.vdc == vdc && n.ready)
        .map(|n| (format!("{base}/api/network/{}", n.id), n.name.clone()))
        .collect()
}

fn network_xml(base: &str, n: &OrgNetwork, st: &State) -> String {
    let href = format!("{base}/api/admin/network/{}", n.id);
    let mut links = link(
        "up",
        &format!("{base}/api/admin/vdc/{}", n.vdc),
        Some("application/vnd.vmware.admin.vdc+xml"),
        None,
    );
    links.push_str(&link(
        "alternate",
        &format!("{base}/api/network/{}", n.id),
        Some("application/vnd.vmware.vcloud.orgNetwork+xml"),
        None,
    ));
    links.push_str(&link("edit", &href, Some(MT_ORG_VDC_NETWORK), None));
    links.push_str(&link("remove", &href, None, None));
    let mut pools = String::new();
    for (a, b) in &n.pools {
        pools.push_str(&format!(
            "<IpRange><StartAddress>{a}</StartAddress><EndAddress>{b}</EndAddress></IpRange>"
        ));
    }
    let netmask = Ipv4Addr::from(mask(n.prefix));
    let fence = match n.fence {
        Fence::Isolated => "isolated",
        Fence::Routed(_) => "natRouted",
        Fence::Direct => "bridged",
    };
    let parent = if n.fence == Fence::Direct {
        format!(
            "<ParentNetwork{}/>",
            attrs(&[
                (
                    "href",
                    &format!("{base}/api/admin/network/{EXTERNAL_NETWORK}")
                ),
                ("name", EXTERNAL_NAME),
                ("type", "application/vnd.vmware.admin.network+xml"),
            ])
        )
    } else {
        String::new()
    };
    let edge = match &n.fence {
        Fence::Routed(e) => format!(
            "<EdgeGateway{}/>",
            attrs(&[
                ("href", &format!("{base}/api/admin/edgeGateway/{e}")),
                (
                    "name",
                    &st.edges
                        .iter()
                        .find(|x| x.id == *e)
                        .map(|x| x.name.clone())
                        .unwrap_or_default(),
                ),
                ("type", "application/vnd.vmware.admin.edgeGateway+xml"),
            ])
        ),
        _ => String::new(),
    };
    let opt = |tag: &str, v: &str| {
        if v.is_empty() {
            String::new()
        } else {
            format!("<{tag}>{}</{tag}>", esc(v))
        }
    };
    format!(
        "<OrgVdcNetwork{}>{links}<Description>{}</Description><Configuration><IpScopes><IpScope><IsInherited>false</IsInherited><Gateway>{}</Gateway><Netmask>{netmask}</Netmask>{}{}{}<IsEnabled>true</IsEnabled>{}</IpScope></IpScopes>{parent}<FenceMode>{fence}</FenceMode><RetainNetInfoAcrossDeployments>false</RetainNetInfoAcrossDeployments></Configuration>{edge}<IsShared>{}</IsShared></OrgVdcNetwork>",
        attrs(&[
            ("xmlns", NS_VCLOUD),
            ("status", if n.ready { "1" } else { "0" }),
            ("name", &n.name),
            ("id", &format!("urn:vcloud:network:{}", n.id)),
            ("href", &href),
            ("type", MT_ORG_VDC_NETWORK),
        ]),
        esc(&n.description),
        n.gateway,
        opt("Dns1", &n.dns1),
        opt("Dns2", &n.dns2),
        opt("DnsSuffix", &n.dns_suffix),
        if pools.is_empty() {
            String::new()
        } else {
            format!("<IpRanges>{pools}</IpRanges>")
        },
        n.shared
    )
}

/// Reads an `OrgVdcNetwork` body into a network (checked as vCD checks it).
fn parse_network(st: &State, vdc: Uuid, doc: &Element) -> Result<OrgNetwork, String> {
    if doc.name != "OrgVdcNetwork" {
        return Err(format!(
            "Expected an OrgVdcNetwork document, got {}.",
            doc.name
        ));
    }
    let name = attr(doc, "name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or("The network name must not be empty.")?
        .to_owned();
    let cfg = doc
        .child("Configuration")
        .ok_or("The network has no Configuration.")?;
    let fence = match cfg.child_text("FenceMode").unwrap_or_default() {
        "isolated" => Fence::Isolated,
        "natRouted" => {
            let href = doc
                .child("EdgeGateway")
                .and_then(|e| attr(e, "href"))
                .ok_or("A routed network needs an EdgeGateway.")?;
            let seg = href
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let edge = parse_id(seg, "")
                .and_then(|u| st.edges.iter().find(|e| e.id == u))
                .ok_or_else(|| format!("The edge gateway \"{href}\" does not exist."))?;
            if edge.vdc != vdc {
                return Err(format!(
                    "The edge gateway \"{}\" belongs to another vDC.",
                    edge.name
                ));
            }
            Fence::Routed(edge.id)
        }
        "bridged" => {
            let href = cfg
                .child("ParentNetwork")
                .and_then(|p| attr(p, "href"))
                .ok_or("A direct network needs a ParentNetwork.")?;
            if !href
                .trim_end_matches('/')
                .ends_with(&EXTERNAL_NETWORK.to_string())
            {
                return Err(format!("The external network \"{href}\" does not exist."));
            }
            Fence::Direct
        }
        other => {
            return Err(format!(
                "Invalid FenceMode \"{other}\"; use isolated, natRouted or bridged."
            ));
        }
    };
    let scope = cfg
        .child("IpScopes")
        .and_then(|s| s.child("IpScope"))
        .ok_or("The network has no IpScope.")?;
    let ip = |tag: &str| -> Result<Option<Ipv4Addr>, String> {
        match scope.child_text(tag) {
            None | Some("") => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|_| format!("{tag} \"{t}\" is not an IPv4 address.")),
        }
    };
    let gateway = ip("Gateway")?.ok_or("The IpScope has no Gateway.")?;
    let prefix = match (
        scope.child_text("SubnetPrefixLength"),
        scope.child_text("Netmask"),
    ) {
        (Some(p), _) if !p.is_empty() => p
            .parse::<u8>()
            .ok()
            .filter(|p| (1..=30).contains(p))
            .ok_or_else(|| format!("Invalid SubnetPrefixLength \"{p}\"."))?,
        (_, Some(m)) => netmask_prefix(m)
            .filter(|p| (1..=30).contains(p))
            .ok_or_else(|| format!("Invalid Netmask \"{m}\"."))?,
        _ => return Err("The IpScope needs a Netmask or a SubnetPrefixLength.".into()),
    };
    let host = u32::from(gateway) & !mask(prefix);
    if host == 0 || host == !mask(prefix) {
        return Err(format!(
            "The gateway {gateway} is the network or broadcast address of its subnet."
        ));
    }
    let mut pools: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
    if let Some(ranges) = scope.child("IpRanges") {
        for r in ranges.children.iter().filter(|c| c.name == "IpRange") {
            let parse = |tag: &str| -> Result<Ipv4Addr, String> {
                let t = r.child_text(tag).unwrap_or_default();
                t.parse()
                    .map_err(|_| format!("{tag} \"{t}\" is not an IPv4 address."))
            };
            let (a, b) = (parse("StartAddress")?, parse("EndAddress")?);
            if u32::from(a) > u32::from(b) {
                return Err(format!("The IP range {a}-{b} ends before it starts."));
            }
            for end in [a, b] {
                if !in_subnet(end, gateway, prefix) {
                    return Err(format!(
                        "The IP range {a}-{b} is not within the network {}/{prefix}.",
                        Ipv4Addr::from(u32::from(gateway) & mask(prefix))
                    ));
                }
            }
            let net = u32::from(gateway) & mask(prefix);
            let range = u32::from(a)..=u32::from(b);
            if range.contains(&net) || range.contains(&(net | !mask(prefix))) {
                return Err(format!(
                    "The IP range {a}-{b} holds the network or broadcast address of {}/{prefix}.",
                    Ipv4Addr::from(net)
                ));
            }
            if (u32::from(a)..=u32::from(b)).contains(&u32::from(gateway)) {
                return Err(format!(
                    "The IP range {a}-{b} contains the gateway {gateway}."
                ));
            }
            if pools
                .iter()
                .any(|(c, d)| u32::from(a) <= u32::from(*d) && u32::from(*c) <= u32::from(b))
            {
                return Err(format!("The IP range {a}-{b} overlaps another range."));
            }
            pools.push((a, b));
        }
    }
    for dns in ["Dns1", "Dns2"] {
        ip(dns)?;
    }
    Ok(OrgNetwork {
        id: crate::random_uuid(),
        vdc,
        name,
        description: doc
            .child("Description")
            .map(|d| d.text.clone())
            .unwrap_or_default(),
        fence,
        gateway,
        prefix,
        dns1: scope.child_text("Dns1").unwrap_or_default().to_owned(),
        dns2: scope.child_text("Dns2").unwrap_or_default().to_owned(),
        dns_suffix: scope.child_text("DnsSuffix").unwrap_or_default().to_owned(),
        pools,
        shared: doc.child_text("IsShared") == Some("true"),
        ready: false,
    })
}

fn parse_body(ctx: &Ctx<'_>) -> Result<Element, Response> {
    let body = ctx.body_str().map_err(|e| *e)?;
    x::parse(body).map_err(|e| bad(ctx, &format!("Bad request body: {e}")))
}

fn net_task(
    ctx: &Ctx<'_>,
    st: &mut State,
    n: &OrgNetwork,
    op: &str,
    what: String,
    ok: impl Fn(&mut State) + Send + Sync + 'static,
    failed: Option<WorkloadFn>,
) -> Uuid {
    st.new_task(
        op,
        what,
        (
            format!("/api/admin/network/{}", n.id),
            n.name.clone(),
            MT_ORG_VDC_NETWORK.to_owned(),
        ),
        Effect::Workload {
            ok: WorkloadFn(Arc::new(ok)),
            failed,
        },
        &ctx.prefix,
        None,
        None,
    )
}

/// `POST /api/admin/vdc/{id}/networks` with an `OrgVdcNetwork`: 201 with the network and
/// its creation task.
pub(crate) fn create(ctx: &Ctx<'_>, vdc_seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let doc = match parse_body(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let base = ctx.base();
    let mut st = ctx.lock();
    let Some(vdc) = parse_id(vdc_seg, "").filter(|u| st.vdcs.iter().any(|v| v.id == *u)) else {
        drop(st);
        return forbidden(ctx, &format!("urn:vcloud:vdc:{vdc_seg}"));
    };
    let n = match parse_network(&st, vdc, &doc) {
        Ok(n) => n,
        Err(m) => {
            drop(st);
            return bad(ctx, &m);
        }
    };
    let taken = n.name.eq_ignore_ascii_case("default-routed")
        || st
            .org_networks
            .iter()
            .any(|o| o.vdc == vdc && o.name.eq_ignore_ascii_case(&n.name));
    if taken {
        drop(st);
        return vcd_error(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            &format!("The VCD entity {} already exists.", n.name),
            &ctx.version,
        );
    }
    let id = n.id;
    st.org_networks.push(n.clone());
    let task = net_task(
        ctx,
        &mut st,
        &n,
        "networkCreateOrgVdcNetwork",
        format!("Creating Network {}({id})", n.name),
        move |st: &mut State| {
            if let Some(x) = st.org_networks.iter_mut().find(|x| x.id == id) {
                x.ready = true;
            }
        },
        Some(WorkloadFn(Arc::new(move |st: &mut State| {
            st.org_networks.retain(|x| x.id != id)
        }))),
    );
    let task_xml = st
        .tasks
        .get(&task)
        .map(|t| super::vcd::task_xml(&ctx.shared.origin, &st, t, ctx.now))
        .unwrap_or_default();
    let mut body = network_xml(&base, &n, &st);
    let tasks = format!(
        "<Tasks>{}</Tasks>",
        task_xml.replacen(&format!(" xmlns=\"{NS_VCLOUD}\""), "", 1)
    );
    if let Some(pos) = body.find("<Configuration>") {
        body.insert_str(pos, &tasks);
    }
    vcd_xml(StatusCode::CREATED, MT_ORG_VDC_NETWORK, &ctx.version, &body)
}

/// `GET /api/admin/network/{id}` and `GET /api/network/{id}`.
pub(crate) fn get(ctx: &Ctx<'_>, seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let st = ctx.lock();
    match parse_id(seg, "").and_then(|u| st.org_networks.iter().find(|n| n.id == u)) {
        Some(n) => vcd_xml(
            StatusCode::OK,
            MT_ORG_VDC_NETWORK,
            &ctx.version,
            &network_xml(&ctx.base(), n, &st),
        ),
        None => forbidden(ctx, &format!("urn:vcloud:network:{seg}")),
    }
}

/// Who uses a network: the names of the vApps and VMs of its vDC connected to it.
fn users(st: &State, n: &OrgNetwork) -> Vec<String> {
    let mut out: Vec<String> = st
        .vapps
        .iter()
        .filter(|a| a.vdc == n.vdc && a.networks.iter().any(|x| x == &n.name))
        .map(|a| format!("vApp {}", a.name))
        .collect();
    out.extend(
        st.vms
            .iter()
            .filter(|v| v.vdc == n.vdc && v.nics.iter().any(|x| x.network == n.name))
            .map(|v| format!("VM {}", v.name)),
    );
    out
}

/// `PUT /api/admin/network/{id}` with an `OrgVdcNetwork`: the new name, description, DNS
/// and pools (the fence mode and subnet stay); a task.
pub(crate) fn update(ctx: &Ctx<'_>, seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let doc = match parse_body(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut st = ctx.lock();
    let Some(cur) = parse_id(seg, "")
        .and_then(|u| st.org_networks.iter().find(|n| n.id == u))
        .cloned()
    else {
        drop(st);
        return forbidden(ctx, &format!("urn:vcloud:network:{seg}"));
    };
    let new = match parse_network(&st, cur.vdc, &doc) {
        Ok(n) => n,
        Err(m) => {
            drop(st);
            return bad(ctx, &m);
        }
    };
    if new.fence != cur.fence || new.gateway != cur.gateway || new.prefix != cur.prefix {
        drop(st);
        return bad(
            ctx,
            "The fence mode, gateway and subnet of a network cannot be changed.",
        );
    }
    if !new.name.eq_ignore_ascii_case(&cur.name) {
        if st
            .org_networks
            .iter()
            .any(|o| o.vdc == cur.vdc && o.id != cur.id && o.name.eq_ignore_ascii_case(&new.name))
        {
            drop(st);
            return vcd_error(
                StatusCode::BAD_REQUEST,
                "DUPLICATE_NAME",
                &format!("The VCD entity {} already exists.", new.name),
                &ctx.version,
            );
        }
        let used = users(&st, &cur);
        if !used.is_empty() {
            drop(st);
            return bad(
                ctx,
                &format!(
                    "The network \"{}\" cannot be renamed while it is in use by {}.",
                    cur.name,
                    used.join(", ")
                ),
            );
        }
    }
    let id = cur.id;
    let task = net_task(
        ctx,
        &mut st,
        &cur,
        "networkUpdateNetwork",
        format!("Updating Network {}({id})", cur.name),
        move |st: &mut State| {
            if let Some(x) = st.org_networks.iter_mut().find(|x| x.id == id) {
                x.name.clone_from(&new.name);
                x.description.clone_from(&new.description);
                x.dns1.clone_from(&new.dns1);
                x.dns2.clone_from(&new.dns2);
                x.dns_suffix.clone_from(&new.dns_suffix);
                x.pools.clone_from(&new.pools);
                x.shared = new.shared;
            }
        },
        None,
    );
    task_accepted(ctx, &st, task)
}

/// `DELETE /api/admin/network/{id}`: refused while a vApp or VM uses the network, unless
/// `force=true`; a task.
pub(crate) fn delete(ctx: &Ctx<'_>, seg: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let mut st = ctx.lock();
    let Some(n) = parse_id(seg, "")
        .and_then(|u| st.org_networks.iter().find(|n| n.id == u))
        .cloned()
    else {
        drop(st);
        return forbidden(ctx, &format!("urn:vcloud:network:{seg}"));
    };
    let used = users(&st, &n);
    if !used.is_empty() && ctx.param("force") != Some("true") {
        drop(st);
        return bad(
            ctx,
            &format!(
                "The network \"{}\" cannot be deleted, because it is in use by {}.",
                n.name,
                used.join(", ")
            ),
        );
    }
    let id = n.id;
    let task = net_task(
        ctx,
        &mut st,
        &n,
        "networkDelete",
        format!("Deleting Network {}({id})", n.name),
        move |st: &mut State| st.org_networks.retain(|x| x.id != id),
        None,
    );
    task_accepted(ctx, &st, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_and_masks() {
        assert_eq!(netmask_prefix("255.255.255.0"), Some(24));
        assert_eq!(netmask_prefix("255.255.0.255"), None);
        let gw: Ipv4Addr = "10.0.5.1".parse().expect("ip");
        assert!(in_subnet("10.0.5.200".parse().expect("ip"), gw, 24));
        assert!(!in_subnet("10.0.6.2".parse().expect("ip"), gw, 24));
    }

    fn isolated(pools: &[(&str, &str)]) -> Result<OrgNetwork, String> {
        let ranges: String = pools
            .iter()
            .map(|(a, b)| {
                format!("<IpRange><StartAddress>{a}</StartAddress><EndAddress>{b}</EndAddress></IpRange>")
            })
            .collect();
        let doc = x::parse(&format!(
            "<OrgVdcNetwork xmlns=\"{NS_VCLOUD}\" name=\"n\"><Configuration><IpScopes><IpScope>\
             <IsInherited>false</IsInherited><Gateway>10.0.5.1</Gateway>\
             <Netmask>255.255.255.0</Netmask><IpRanges>{ranges}</IpRanges></IpScope></IpScopes>\
             <FenceMode>isolated</FenceMode></Configuration></OrgVdcNetwork>"
        ))?;
        let st = State::new(&crate::vcloud::Config::default());
        parse_network(&st, Uuid::nil(), &doc)
    }

    #[test]
    fn pools_are_checked_as_vcd_checks_them() {
        let n = isolated(&[("10.0.5.10", "10.0.5.20"), ("10.0.5.30", "10.0.5.254")]).expect("ok");
        assert_eq!(
            (n.gateway.to_string(), n.prefix, n.pools.len()),
            ("10.0.5.1".into(), 24, 2)
        );
        for (pools, says) in [
            (&[("10.0.5.20", "10.0.5.10")][..], "ends before it starts"),
            (
                &[("10.0.5.200", "10.0.6.3")][..],
                "not within the network 10.0.5.0/24",
            ),
            (
                &[("10.0.5.0", "10.0.5.9")][..],
                "network or broadcast address",
            ),
            (
                &[("10.0.5.250", "10.0.5.255")][..],
                "network or broadcast address",
            ),
            (&[("10.0.5.1", "10.0.5.9")][..], "contains the gateway"),
            (
                &[("10.0.5.10", "10.0.5.20"), ("10.0.5.15", "10.0.5.30")][..],
                "overlaps",
            ),
        ] {
            let err = isolated(pools).expect_err(says);
            assert!(err.contains(says), "{pools:?}: {err}");
        }
    }
}
