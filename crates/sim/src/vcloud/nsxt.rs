//! NSX-T edge gateways over the cloudapi (`/cloudapi/1.0.0/edgeGateways/...`), as vCD
//! 10.x serves them: the gateway list (paged, FIQL `filter`, `sortAsc`/`sortDesc`), one
//! gateway, and its firewall rules, NAT rules and IPsec tunnels.
//!
//! - Reads answer at once; every change is a long-running operation: `202 Accepted`, an
//!   empty body and `Location: .../api/task/{id}`; the change is applied when the task
//!   succeeds (fault injection can fail it) and the task keeps the edge busy meanwhile, so
//!   a second change answers `400` with `minorErrorCode` `BUSY_ENTITY`.
//! - Rules carry `version.version`; a `PUT` whose version is not the current one is
//!   refused (400 `BAD_REQUEST`, the message names both versions). The texts of these
//!   messages are the simulator's own: vCD's exact wording is not recorded.
//! - Bad values (an address that is not an IP, CIDR or range, a port out of range, an
//!   empty name, an unknown action or rule type) answer 400 `BAD_REQUEST`.
//! - The NSX-V edge of the seed data is listed too (`gatewayType` `NSXV_BACKED`); its
//!   rule endpoints answer 400, as cloudapi rule endpoints do for NSX-V gateways.
//! - An unknown gateway or rule id answers 403 `ACCESS_TO_RESOURCE_IS_FORBIDDEN`, as vCD
//!   does for ids the caller cannot see.
//!
//! Errors have the cloudapi's JSON shape (`minorErrorCode`, `message`, `stackTrace` null),
//! messages start with `[ <request id> ]` as vCD's do.

use std::net::IpAddr;

use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{
    Ctx, cloudapi_bad, cloudapi_forbidden, cloudapi_refusal, json as json_response,
};
use super::query::cloudapi_page;
use super::state::{Effect, State, WorkloadFn, ids};

/// The seeded NSX-T edge gateway of `VDC-Dev`.
pub(crate) const NSXT_EDGE: Uuid = Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_0202);

/// One NSX-T edge gateway and its services.
#[derive(Debug, Clone)]
pub(crate) struct NsxtEdge {
    pub(crate) id: Uuid,
    pub(crate) vdc: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) primary_ip: String,
    pub(crate) gateway: String,
    /// User-defined firewall rules (JSON, with `id` and `version`).
    pub(crate) firewall: Vec<Value>,
    pub(crate) nat: Vec<Value>,
    pub(crate) ipsec: Vec<Value>,
}

/// The NSX-T part of the simulator's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct NsxtState {
    pub(crate) edges: Vec<NsxtEdge>,
}

impl NsxtState {
    /// One NSX-T edge in `VDC-Dev`, with one firewall rule and one SNAT rule.
    pub(crate) fn seeded() -> NsxtState {
        NsxtState {
            edges: vec![NsxtEdge {
                id: NSXT_EDGE,
                vdc: ids::VDC_DEV,
                name: "edge-nsxt-dev".into(),
                description: "NSX-T edge of VDC-Dev".into(),
                primary_ip: "203.0.113.10".into(),
                gateway: "203.0.113.1".into(),
                firewall: vec![json!({
                    "id": "0b7c3a5e-1f3e-4a6b-9c2d-000000000001",
                    "name": "allow-outbound",
                    "description": "",
                    "actionValue": "ALLOW",
                    "action": "ALLOW",
                    "enabled": true,
                    "ipProtocol": "IPV4_IPV6",
                    "logging": false,
                    "direction": "OUT",
                    "version": {"version": 0}
                })],
                nat: vec![json!({
                    "id": "0b7c3a5e-1f3e-4a6b-9c2d-000000000101",
                    "name": "snat-dev",
                    "description": "outbound for 10.10.0.0/24",
                    "enabled": true,
                    "ruleType": "SNAT",
                    "type": "SNAT",
                    "externalAddresses": "203.0.113.10",
                    "internalAddresses": "10.10.0.0/24",
                    "logging": false,
                    "firewallMatch": "MATCH_INTERNAL_ADDRESS",
                    "priority": 0,
                    "version": {"version": 0}
                })],
                ipsec: Vec::new(),
            }],
        }
    }
}

fn err(status: StatusCode, minor: &str, message: &str) -> Response {
    cloudapi_refusal(status, minor, message)
}

fn bad(message: &str) -> Response {
    cloudapi_bad(message)
}

fn forbidden(what: &str) -> Response {
    cloudapi_forbidden("ORG_VDC_GATEWAY_VIEW", "VDC_EDGE_GATEWAY_VIEW", what)
}

macro_rules! auth {
    ($ctx:expr) => {
        if $ctx.vcd_token().is_none() {
            return err(
                StatusCode::UNAUTHORIZED,
                "NOT_AUTHENTICATED",
                "This operation is denied.",
            );
        }
    };
}

fn gateway_uuid(seg: &str) -> Option<Uuid> {
    Uuid::parse_str(seg.strip_prefix("urn:vcloud:gateway:")?).ok()
}

fn edge_json(st: &State, e: &NsxtEdge) -> Value {
    let vdc_name = st
        .vdcs
        .iter()
        .find(|v| v.id == e.vdc)
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let vdc_ref = json!({"name": vdc_name, "id": format!("urn:vcloud:vdc:{}", e.vdc)});
    json!({
        "id": format!("urn:vcloud:gateway:{}", e.id),
        "name": e.name,
        "description": e.description,
        "status": "REALIZED",
        "orgVdc": vdc_ref,
        "ownerRef": vdc_ref,
        "orgRef": {"name": crate::vcloud::DEFAULT_ORG, "id": format!("urn:vcloud:org:{}", ids::ORG)},
        "edgeGatewayUplinks": [{
            "uplinkId": "urn:vcloud:network:6e656275-6c61-4000-8000-000000000401",
            "uplinkName": "ext-net-t0",
            "subnets": {"values": [{
                "gateway": e.gateway,
                "prefixLength": 24,
                "dnsSuffix": null,
                "dnsServer1": "",
                "dnsServer2": "",
                "ipRanges": {"values": [{"startAddress": e.primary_ip, "endAddress": e.primary_ip}]},
                "enabled": true,
                "totalIpCount": 1,
                "usedIpCount": 1,
                "primaryIp": e.primary_ip,
                "autoAllocateIpRanges": false
            }]},
            "connected": true,
            "quickAddAllocatedIpCount": null,
            "dedicated": false,
            "vrfLiteBacked": false
        }],
        "distributedRoutingEnabled": false,
        "orgVdcNetworkCount": 0,
        "gatewayBacking": {
            "backingId": format!("nsxt-t1-{}", e.id.simple()),
            "gatewayType": "NSXT_BACKED",
            "networkProvider": {"name": "nsxt-manager", "id": "urn:vcloud:nsxtmanager:6e656275-6c61-4000-8000-000000000501", "type": "NSX_T"}
        },
        "edgeClusterConfig": null,
        "usingIpSpace": false
    })
}

/// The NSX-V edge of the seed data, as the cloudapi lists it.
fn nsxv_json(st: &State, e: &super::state::Edge) -> Value {
    let vdc_name = st
        .vdcs
        .iter()
        .find(|v| v.id == e.vdc)
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let vdc_ref = json!({"name": vdc_name, "id": format!("urn:vcloud:vdc:{}", e.vdc)});
    json!({
        "id": format!("urn:vcloud:gateway:{}", e.id),
        "name": e.name,
        "description": "",
        "status": "REALIZED",
        "orgVdc": vdc_ref,
        "ownerRef": vdc_ref,
        "orgRef": {"name": crate::vcloud::DEFAULT_ORG, "id": format!("urn:vcloud:org:{}", ids::ORG)},
        "edgeGatewayUplinks": [],
        "gatewayBacking": {
            "backingId": format!("edge-{}", e.id.simple()),
            "gatewayType": "NSXV_BACKED",
            "networkProvider": {"name": "nsxv-manager", "id": "urn:vcloud:vcenter:6e656275-6c61-4000-8000-000000000502", "type": "NSX_V"}
        }
    })
}

/// `GET /cloudapi/1.0.0/edgeGateways`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Response {
    auth!(ctx);
    let st = ctx.lock();
    let mut items: Vec<Value> = st.edges.iter().map(|e| nsxv_json(&st, e)).collect();
    items.extend(st.nsxt.edges.iter().map(|e| edge_json(&st, e)));
    drop(st);
    cloudapi_page(ctx, items)
}

/// `GET /cloudapi/1.0.0/edgeGateways/{id}`.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Response {
    auth!(ctx);
    let Some(u) = gateway_uuid(id) else {
        return bad(&format!(
            "Invalid id \"{id}\": expected urn:vcloud:gateway:<uuid>."
        ));
    };
    let st = ctx.lock();
    if let Some(e) = st.nsxt.edges.iter().find(|e| e.id == u) {
        return json_response(StatusCode::OK, &edge_json(&st, e));
    }
    if let Some(e) = st.edges.iter().find(|e| e.id == u) {
        return json_response(StatusCode::OK, &nsxv_json(&st, e));
    }
    drop(st);
    forbidden(&format!("urn:vcloud:gateway:{u}"))
}

/// Which service list of an edge a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Nat,
    Ipsec,
}

impl Service {
    fn list(self, e: &NsxtEdge) -> &Vec<Value> {
        match self {
            Service::Nat => &e.nat,
            Service::Ipsec => &e.ipsec,
        }
    }
    fn list_mut(self, e: &mut NsxtEdge) -> &mut Vec<Value> {
        match self {
            Service::Nat => &mut e.nat,
            Service::Ipsec => &mut e.ipsec,
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Service::Nat => "NAT rule",
            Service::Ipsec => "IPsec VPN tunnel",
        }
    }
}

/// The edge of a rule path, or the error response.
fn nsxt_edge<'s>(st: &'s State, id: &str) -> Result<&'s NsxtEdge, Box<Response>> {
    let Some(u) = gateway_uuid(id) else {
        return Err(Box::new(bad(&format!(
            "Invalid id \"{id}\": expected urn:vcloud:gateway:<uuid>."
        ))));
    };
    if let Some(e) = st.nsxt.edges.iter().find(|e| e.id == u) {
        return Ok(e);
    }
    if st.edges.iter().any(|e| e.id == u) {
        return Err(Box::new(bad(
            "This operation is only supported for NSX-T backed edge gateways.",
        )));
    }
    Err(Box::new(forbidden(&format!("urn:vcloud:gateway:{u}"))))
}

fn body_json(ctx: &Ctx<'_>) -> Result<Value, Box<Response>> {
    serde_json::from_slice::<Value>(&ctx.body)
        .map_err(|e| {
            Box::new(bad(&format!(
                "Unable to parse the request body as JSON: {e}."
            )))
        })
        .and_then(|v| {
            if v.is_object() {
                Ok(v)
            } else {
                Err(Box::new(bad("The request body must be a JSON object.")))
            }
        })
}

fn check_ip_list(field: &str, text: &str) -> Result<(), String> {
    for part in text.split(',').map(str::trim) {
        let ok = if let Some((a, p)) = part.split_once('/') {
            a.parse::<IpAddr>().is_ok_and(|ip| {
                p.parse::<u8>()
                    .is_ok_and(|n| n <= if ip.is_ipv4() { 32 } else { 128 })
            })
        } else if let Some((a, b)) = part.split_once('-') {
            matches!((a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>()), (Ok(x), Ok(y)) if x <= y)
        } else {
            part.parse::<IpAddr>().is_ok()
        };
        if !ok {
            return Err(format!(
                "Invalid IP address, CIDR or range \"{part}\" in {field}."
            ));
        }
    }
    Ok(())
}

fn check_port(field: &str, text: &str) -> Result<(), String> {
    let p = |s: &str| s.trim().parse::<u16>().ok().filter(|n| *n >= 1);
    let ok = match text.split_once('-') {
        Some((a, b)) => matches!((p(a), p(b)), (Some(x), Some(y)) if x <= y),
        None => p(text).is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("Invalid port \"{text}\" in {field}."))
    }
}

fn str_field<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

/// vCD's checks of a NAT rule or IPsec tunnel body.
fn validate(service: Service, v: &Value) -> Result<(), String> {
    if str_field(v, "name").is_none_or(|n| n.trim().is_empty()) {
        return Err(format!("The {} name is required.", service.noun()));
    }
    match service {
        Service::Nat => {
            let kind = str_field(v, "type").or_else(|| str_field(v, "ruleType"));
            let kind = match kind {
                Some(k @ ("DNAT" | "SNAT" | "NO_DNAT" | "NO_SNAT" | "REFLEXIVE")) => k,
                Some(k) => return Err(format!("Invalid NAT rule type \"{k}\".")),
                None => return Err("The NAT rule type is required.".into()),
            };
            if kind != "NO_SNAT" {
                check_ip_list(
                    "externalAddresses",
                    str_field(v, "externalAddresses").unwrap_or(""),
                )?;
            }
            if kind != "NO_DNAT" {
                check_ip_list(
                    "internalAddresses",
                    str_field(v, "internalAddresses").unwrap_or(""),
                )?;
            }
            if let Some(p) = str_field(v, "dnatExternalPort").filter(|p| !p.is_empty()) {
                check_port("dnatExternalPort", p)?;
            }
        }
        Service::Ipsec => {
            for (side, addr, nets) in [
                ("localEndpoint", "localAddress", "localNetworks"),
                ("remoteEndpoint", "remoteAddress", "remoteNetworks"),
            ] {
                let ep = v.get(side).cloned().unwrap_or(Value::Null);
                let a = str_field(&ep, addr).unwrap_or("");
                if a.parse::<IpAddr>().is_err() {
                    return Err(format!("Invalid IP address \"{a}\" in {side}.{addr}."));
                }
                let list = ep
                    .get(nets)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if list.is_empty() {
                    return Err(format!("{side}.{nets} must not be empty."));
                }
                for n in list {
                    let n = n.as_str().unwrap_or("");
                    if !n.contains('/') {
                        return Err(format!("Invalid CIDR \"{n}\" in {side}.{nets}."));
                    }
                    check_ip_list(&format!("{side}.{nets}"), n)?;
                }
            }
        }
    }
    Ok(())
}

fn validate_firewall(rule: &Value) -> Result<(), String> {
    if str_field(rule, "name").is_none_or(|n| n.trim().is_empty()) {
        return Err("The firewall rule name is required.".into());
    }
    let action = str_field(rule, "actionValue").or_else(|| str_field(rule, "action"));
    match action {
        Some("ALLOW" | "DROP" | "REJECT") => {}
        Some(a) => return Err(format!("Invalid firewall rule action \"{a}\".")),
        None => return Err("The firewall rule action is required.".into()),
    }
    match str_field(rule, "direction") {
        Some("IN" | "OUT" | "IN_OUT") => {}
        other => return Err(format!("Invalid firewall rule direction {other:?}.")),
    }
    match str_field(rule, "ipProtocol") {
        Some("IPV4" | "IPV6" | "IPV4_IPV6") => {}
        other => return Err(format!("Invalid firewall rule IP protocol {other:?}.")),
    }
    Ok(())
}

/// 202 with an empty body and the task's `Location`, the change applied when it succeeds.
fn accepted(
    ctx: &Ctx<'_>,
    st: &mut State,
    edge: &NsxtEdge,
    operation_name: &str,
    operation: String,
    apply: impl Fn(&mut State) + Send + Sync + 'static,
) -> Response {
    let owner = (
        format!(
            "/cloudapi/1.0.0/edgeGateways/urn:vcloud:gateway:{}",
            edge.id
        ),
        edge.name.clone(),
        "application/json".to_owned(),
    );
    let tid = st.new_task(
        operation_name,
        operation,
        owner,
        Effect::Workload {
            ok: WorkloadFn(std::sync::Arc::new(apply)),
            failed: None,
        },
        &ctx.prefix,
        Some(edge.id),
        None,
    );
    let mut resp = super::common::respond(StatusCode::ACCEPTED, "application/json", "");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}{}/api/task/{tid}",
        ctx.shared.origin, ctx.prefix
    )) {
        resp.headers_mut().insert(http::header::LOCATION, v);
    }
    resp
}

fn busy(st: &State, ctx: &Ctx<'_>, edge: &NsxtEdge) -> Option<Response> {
    st.edge_task_running(edge.id, ctx.now).then(|| {
        err(
            StatusCode::BAD_REQUEST,
            "BUSY_ENTITY",
            &format!(
                "The entity {} (urn:vcloud:gateway:{}) is busy completing an operation.",
                edge.name, edge.id
            ),
        )
    })
}

fn edit_edge(st: &mut State, id: Uuid, f: impl FnOnce(&mut NsxtEdge)) {
    if let Some(e) = st.nsxt.edges.iter_mut().find(|e| e.id == id) {
        f(e);
    }
}

/// `GET .../firewall/rules`.
pub(crate) fn firewall_get(ctx: &Ctx<'_>, id: &str) -> Response {
    auth!(ctx);
    let st = ctx.lock();
    let edge = match nsxt_edge(&st, id) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    json_response(
        StatusCode::OK,
        &json!({
            "systemRules": [],
            "defaultRules": [{
                "id": format!("default-rule-{}", edge.id.simple()),
                "name": "Default Rule",
                "actionValue": "DROP",
                "action": "DROP",
                "enabled": true,
                "ipProtocol": "IPV4_IPV6",
                "logging": false,
                "direction": "IN_OUT",
                "version": {"version": 0}
            }],
            "userDefinedRules": edge.firewall,
        }),
    )
}

/// `PUT .../firewall/rules`: replaces the user-defined rules (a rule that names an id
/// keeps it and must carry its current version).
pub(crate) fn firewall_put(ctx: &Ctx<'_>, id: &str) -> Response {
    auth!(ctx);
    let body = match body_json(ctx) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let rules = body
        .get("userDefinedRules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut st = ctx.lock();
    let edge = match nsxt_edge(&st, id) {
        Ok(e) => e.clone(),
        Err(r) => return *r,
    };
    if let Some(r) = busy(&st, ctx, &edge) {
        return r;
    }
    let mut next = Vec::with_capacity(rules.len());
    for mut rule in rules {
        if let Err(m) = validate_firewall(&rule) {
            return bad(&m);
        }
        let version = match str_field(&rule, "id") {
            Some(rid) => {
                let Some(cur) = edge
                    .firewall
                    .iter()
                    .find(|r| str_field(r, "id") == Some(rid))
                else {
                    return bad(&format!("Firewall rule \"{rid}\" does not exist."));
                };
                let have = version_of(cur);
                if let Some(sent) = rule.get("version").map(version_of)
                    && sent != have
                {
                    return stale("firewall rule", rid, sent, have);
                }
                have + 1
            }
            None => {
                rule["id"] = Value::String(crate::random_uuid().to_string());
                0
            }
        };
        rule["version"] = json!({ "version": version });
        if let Some(a) = str_field(&rule, "actionValue").map(str::to_owned) {
            rule["action"] = Value::String(if a == "REJECT" { "DROP".into() } else { a });
        }
        next.push(rule);
    }
    let eid = edge.id;
    accepted(
        ctx,
        &mut st,
        &edge,
        "edgeFirewallRulesUpdate",
        format!("Updating firewall rules of edge gateway {}", edge.name),
        move |st| edit_edge(st, eid, |e| e.firewall = next.clone()),
    )
}

fn version_of(v: &Value) -> i64 {
    v.get("version")
        .and_then(|x| x.get("version").or(Some(x)))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn stale(what: &str, id: &str, sent: i64, have: i64) -> Response {
    bad(&format!(
        "The {what} \"{id}\" was modified: the request carries version {sent}, the current version is {have}. Read it again and retry."
    ))
}

/// `GET .../nat/rules` and `.../ipsec/tunnels`.
pub(crate) fn service_list(ctx: &Ctx<'_>, id: &str, service: &str) -> Response {
    auth!(ctx);
    let Some(service) = service_of(service) else {
        return err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource was not found.",
        );
    };
    let st = ctx.lock();
    let items = match nsxt_edge(&st, id) {
        Ok(e) => service.list(e).clone(),
        Err(r) => return *r,
    };
    drop(st);
    cloudapi_page(ctx, items)
}

fn service_of(s: &str) -> Option<Service> {
    match s {
        "nat/rules" => Some(Service::Nat),
        "ipsec/tunnels" => Some(Service::Ipsec),
        _ => None,
    }
}

/// `GET .../nat/rules/{rule}` and `.../ipsec/tunnels/{tunnel}`.
pub(crate) fn service_get(ctx: &Ctx<'_>, id: &str, service: &str, item: &str) -> Response {
    auth!(ctx);
    let Some(service) = service_of(service) else {
        return err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource was not found.",
        );
    };
    let st = ctx.lock();
    let edge = match nsxt_edge(&st, id) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    match service
        .list(edge)
        .iter()
        .find(|r| str_field(r, "id") == Some(item))
    {
        Some(r) => json_response(StatusCode::OK, r),
        None => forbidden(item),
    }
}

/// `POST .../nat/rules` and `.../ipsec/tunnels`.
pub(crate) fn service_create(ctx: &Ctx<'_>, id: &str, service: &str) -> Response {
    auth!(ctx);
    let Some(service) = service_of(service) else {
        return err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource was not found.",
        );
    };
    let mut body = match body_json(ctx) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if let Err(m) = validate(service, &body) {
        return bad(&m);
    }
    let mut st = ctx.lock();
    let edge = match nsxt_edge(&st, id) {
        Ok(e) => e.clone(),
        Err(r) => return *r,
    };
    if let Some(r) = busy(&st, ctx, &edge) {
        return r;
    }
    body["id"] = Value::String(crate::random_uuid().to_string());
    body["version"] = json!({"version": 0});
    if service == Service::Nat {
        // vCD answers both fields whichever one was sent.
        let kind = str_field(&body, "type")
            .or_else(|| str_field(&body, "ruleType"))
            .unwrap_or_default()
            .to_owned();
        body["type"] = Value::String(kind.clone());
        body["ruleType"] = Value::String(kind);
        if body.get("priority").is_none() {
            body["priority"] = json!(0);
        }
    }
    let name = str_field(&body, "name").unwrap_or_default().to_owned();
    let eid = edge.id;
    accepted(
        ctx,
        &mut st,
        &edge,
        match service {
            Service::Nat => "edgeNatRuleCreate",
            Service::Ipsec => "edgeIpSecVpnTunnelCreate",
        },
        format!(
            "Creating {} {name} on edge gateway {}",
            service.noun(),
            edge.name
        ),
        move |st| edit_edge(st, eid, |e| service.list_mut(e).push(body.clone())),
    )
}

/// `PUT .../nat/rules/{rule}` and `.../ipsec/tunnels/{tunnel}`: the body's version must be
/// the current one.
pub(crate) fn service_update(ctx: &Ctx<'_>, id: &str, service: &str, item: &str) -> Response {
    auth!(ctx);
    let Some(service) = service_of(service) else {
        return err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource was not found.",
        );
    };
    let mut body = match body_json(ctx) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if let Err(m) = validate(service, &body) {
        return bad(&m);
    }
    let mut st = ctx.lock();
    let edge = match nsxt_edge(&st, id) {
        Ok(e) => e.clone(),
        Err(r) => return *r,
    };
    let Some(cur) = service
        .list(&edge)
        .iter()
        .find(|r| str_field(r, "id") == Some(item))
    else {
        return forbidden(item);
    };
    if let Some(r) = busy(&st, ctx, &edge) {
        return r;
    }
    let have = version_of(cur);
    let sent = body.get("version").map(version_of).unwrap_or(-1);
    if sent != have {
        return stale(service.noun(), item, sent, have);
    }
    body["id"] = Value::String(item.to_owned());
    body["version"] = json!({"version": have + 1});
    let eid = edge.id;
    let item = item.to_owned();
    accepted(
        ctx,
        &mut st,
        &edge,
        match service {
            Service::Nat => "edgeNatRuleUpdate",
            Service::Ipsec => "edgeIpSecVpnTunnelUpdate",
        },
        format!(
            "Updating {} {item} on edge gateway {}",
            service.noun(),
            edge.name
        ),
        move |st| {
            edit_edge(st, eid, |e| {
                if let Some(slot) = service
                    .list_mut(e)
                    .iter_mut()
                    .find(|r| str_field(r, "id") == Some(item.as_str()))
                {
                    *slot = body.clone();
                }
            })
        },
    )
}

/// `DELETE .../nat/rules/{rule}` and `.../ipsec/tunnels/{tunnel}`.
pub(crate) fn service_delete(ctx: &Ctx<'_>, id: &str, service: &str, item: &str) -> Response {
    auth!(ctx);
    let Some(service) = service_of(service) else {
        return err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource was not found.",
        );
    };
    let mut st = ctx.lock();
    let edge = match nsxt_edge(&st, id) {
        Ok(e) => e.clone(),
        Err(r) => return *r,
    };
    if !service
        .list(&edge)
        .iter()
        .any(|r| str_field(r, "id") == Some(item))
    {
        return forbidden(item);
    }
    if let Some(r) = busy(&st, ctx, &edge) {
        return r;
    }
    let eid = edge.id;
    let item = item.to_owned();
    accepted(
        ctx,
        &mut st,
        &edge,
        match service {
            Service::Nat => "edgeNatRuleDelete",
            Service::Ipsec => "edgeIpSecVpnTunnelDelete",
        },
        format!(
            "Deleting {} {item} on edge gateway {}",
            service.noun(),
            edge.name
        ),
        move |st| {
            edit_edge(st, eid, |e| {
                service
                    .list_mut(e)
                    .retain(|r| str_field(r, "id") != Some(item.as_str()))
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcloud::query::path_text;

    #[test]
    fn the_public_id_is_the_seeded_one() {
        assert_eq!(NSXT_EDGE.to_string(), crate::vcloud::NSXT_EDGE_ID);
    }

    #[test]
    fn dotted_paths_read_nested_values() {
        let v = json!({"orgVdc": {"id": "urn:vcloud:vdc:1"}, "n": 3, "z": null});
        assert_eq!(
            path_text(&v, "orgVdc.id").as_deref(),
            Some("urn:vcloud:vdc:1")
        );
        assert_eq!(path_text(&v, "n").as_deref(), Some("3"));
        assert_eq!(path_text(&v, "z"), None);
        assert_eq!(path_text(&v, "orgVdc.name"), None);
    }

    #[test]
    fn nat_and_ipsec_bodies_are_checked() {
        let ok = json!({"name": "a", "ruleType": "DNAT", "externalAddresses": "203.0.113.5",
            "internalAddresses": "10.0.0.5", "dnatExternalPort": "443"});
        assert!(validate(Service::Nat, &ok).is_ok());
        let mut badip = ok.clone();
        badip["externalAddresses"] = json!("203.0.113.500");
        assert!(
            validate(Service::Nat, &badip)
                .expect_err("bad ip")
                .contains("203.0.113.500")
        );
        let mut badport = ok.clone();
        badport["dnatExternalPort"] = json!("70000");
        assert!(validate(Service::Nat, &badport).is_err());
        let t = json!({"name": "t", "localEndpoint": {"localAddress": "203.0.113.10", "localNetworks": ["10.0.0.0/24"]},
            "remoteEndpoint": {"remoteAddress": "198.51.100.1", "remoteNetworks": ["192.168.0.0/16"]}});
        assert!(validate(Service::Ipsec, &t).is_ok());
        let mut t2 = t.clone();
        t2["remoteEndpoint"]["remoteNetworks"] = json!(["192.168.0.1"]);
        assert!(validate(Service::Ipsec, &t2).is_err());
    }
}
