//! The OneGate routes.

use std::collections::{BTreeSet, HashMap};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;

use super::escape::{escape_attr, restricted_key};
use super::hash::{J, xml_to_hash};
use super::{FLOW_RUNNING, OneGateSim, Service};

/// The `Content-Type` of every answer with a body.
const JSON_UTF8: &str = "application/json;charset=utf-8";
/// The NIC keys OneGate shows.
const NIC_VALID_KEYS: [&str; 10] = [
    "IP",
    "IP6_LINK",
    "IP6_SITE",
    "IP6_GLOBAL",
    "NETWORK",
    "MAC",
    "NAME",
    "PARENT",
    "EXTERNAL",
    "EXTERNAL_IP",
];
const VNET_ATTRIBUTES: [&str; 6] = [
    "ID",
    "NAME",
    "USED_LEASES",
    "VROUTERS",
    "PARENT_NETWORK_ID",
    "AR_POOL",
];

/// An early answer (Sinatra's `halt`).
struct Halt(StatusCode, String);

type Res<T> = Result<T, Halt>;

fn halt<T>(status: u16, msg: impl Into<String>) -> Res<T> {
    Err(Halt(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        msg.into(),
    ))
}

/// A 500: the real server only says this; the reason goes to the log.
fn internal<T>(reason: impl std::fmt::Display) -> Res<T> {
    tracing::warn!(%reason, "OneGate simulator: internal server error");
    halt(500, "Internal server error")
}

fn respond(status: StatusCode, body: String) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header("X-Content-Type-Options", "nosniff");
    if status != StatusCode::NO_CONTENT {
        builder = builder.header(header::CONTENT_TYPE, JSON_UTF8);
    }
    let body = if status == StatusCode::NO_CONTENT {
        Body::empty()
    } else {
        Body::from(body)
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// The request, as the handlers see it.
struct Req {
    method: Method,
    path: String,
    params: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) async fn handle(
    State(sim): State<OneGateSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params: HashMap<String, String> = HashMap::new();
    if let Some(q) = uri.query() {
        params.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    let form_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if form_body {
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    let req = Req {
        method,
        path: uri.path().to_owned(),
        params,
        headers,
        body,
    };
    let result = dispatch(&sim, &req);
    match result {
        Ok((status, body)) => respond(status, body),
        Err(Halt(status, msg)) => respond(status, msg),
    }
}

fn decode_segment(s: &str) -> String {
    percent_decode(s)
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn dispatch(sim: &OneGateSim, req: &Req) -> Res<(StatusCode, String)> {
    let segs: Vec<&str> = req.path.split('/').skip(1).collect();
    let m = &req.method;
    match (m.as_str(), segs.as_slice()) {
        ("GET", [""]) => root(sim, req),
        ("GET", ["vm"]) => get_vm(sim, req),
        ("PUT", ["vm"]) => put_vm(sim, req),
        ("GET", ["service"]) => get_service(sim, req),
        ("GET", ["vrouter"]) => get_vrouter(sim, req),
        ("GET", ["vnet", id]) if !id.is_empty() => get_vnet(sim, req, &decode_segment(id)),
        ("GET", ["vms", id]) if !id.is_empty() => get_vms(sim, req, &decode_segment(id)),
        ("PUT", ["vms", id]) if !id.is_empty() => put_vms(sim, req, &decode_segment(id)),
        ("POST", ["vms", id, "action"]) if !id.is_empty() => {
            vm_action(sim, req, &decode_segment(id))
        }
        ("PUT", ["service", "role", role]) if !role.is_empty() => {
            scale(sim, req, &decode_segment(role))
        }
        _ => halt(400, "OneGate server doesn't support this feature"),
    }
}

/// Ruby's `String#to_i`: leading white space, an optional sign, the leading digits; 0
/// when there are none.
pub(crate) fn ruby_to_i(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for c in rest.chars() {
        if c == '_' {
            continue;
        }
        let Some(d) = c.to_digit(10) else { break };
        n = n.saturating_mul(10).saturating_add(i64::from(d));
    }
    if neg { -n } else { n }
}

/// Ruby's `Integer(s)` for decimal text: `None` when it is not an integer.
fn ruby_integer(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    t.replace('_', "").parse().ok()
}

fn to_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

fn check_permission(sim: &OneGateSim, resource: &str, action: &str) -> Res<()> {
    let disabled = sim
        .inner
        .config
        .disabled
        .iter()
        .any(|(r, a)| r == resource && a == action);
    if disabled {
        return halt(
            403,
            format!("Action ({action}) on resource ({resource}) not supported"),
        );
    }
    Ok(())
}

/// Checks `X-ONEGATE-TOKEN` and `X-ONEGATE-VMID`; the VM id.
fn authenticate(sim: &OneGateSim, req: &Req) -> Res<i32> {
    let (Some(token), Some(vmid)) = (req.header("x-onegate-token"), req.header("x-onegate-vmid"))
    else {
        return halt(401, "Not authorized");
    };
    let id = to_i32(ruby_to_i(vmid));
    match sim.inner.backend.vm_token(id) {
        Some(expected) if !expected.is_empty() && expected == token => Ok(id),
        _ => halt(401, "Not authorized"),
    }
}

/// `one.vm.info` as a hash (`{"VM": {...}}` body without the root).
fn get_vm_hash(sim: &OneGateSim, id: i32) -> Res<J> {
    let Some(xml) = sim.inner.backend.vm_xml(id) else {
        return halt(
            404,
            format!("[one.vm.info] Error getting virtual machine [{id}]."),
        );
    };
    let mut h = match xml_to_hash(&xml) {
        Ok(h) => h,
        Err(e) => return internal(format!("VM {id} XML: {e}")),
    };
    let vm = match &mut h {
        J::Obj(m) => m
            .iter_mut()
            .find(|(k, _)| k == "VM")
            .map(|(_, v)| std::mem::replace(v, J::Null)),
        _ => None,
    };
    match vm {
        Some(vm) => Ok(vm),
        None => internal(format!("VM {id} XML has no VM element")),
    }
}

fn vm_id_of(vm: &J) -> i32 {
    vm.text("ID").map(|s| to_i32(ruby_to_i(s))).unwrap_or(-1)
}

/// `build_vm_hash`.
fn build_vm_hash(vm: &J) -> J {
    let filter_nics = |key: &str| -> J {
        let list = vm
            .path(&format!("TEMPLATE/{key}"))
            .cloned()
            .map(J::into_list)
            .unwrap_or_default();
        J::Arr(
            list.into_iter()
                .map(|nic| match nic {
                    J::Obj(m) => J::Obj(
                        m.into_iter()
                            .filter(|(k, _)| NIC_VALID_KEYS.contains(&k.as_str()))
                            .collect(),
                    ),
                    _ => J::obj(),
                })
                .collect(),
        )
    };
    let user_template = match vm.get("USER_TEMPLATE") {
        Some(J::Obj(m)) => J::Obj(
            m.iter()
                .filter(|(k, _)| k != "SCHED_MESSAGE")
                .cloned()
                .collect(),
        ),
        _ => J::obj(),
    };
    let field = |k: &str| vm.get(k).cloned().unwrap_or(J::Null);
    J::Obj(vec![(
        "VM".into(),
        J::Obj(vec![
            ("NAME".into(), field("NAME")),
            ("ID".into(), field("ID")),
            ("STATE".into(), field("STATE")),
            ("LCM_STATE".into(), field("LCM_STATE")),
            ("USER_TEMPLATE".into(), user_template),
            (
                "TEMPLATE".into(),
                J::Obj(vec![
                    ("NIC".into(), filter_nics("NIC")),
                    ("NIC_ALIAS".into(), filter_nics("NIC_ALIAS")),
                ]),
            ),
        ]),
    )])
}

fn ok_json(j: &J) -> Res<(StatusCode, String)> {
    Ok((StatusCode::OK, j.to_json()))
}

fn root(sim: &OneGateSim, req: &Req) -> Res<(StatusCode, String)> {
    authenticate(sim, req)?;
    let host = req.header("host").unwrap_or("127.0.0.1:5030");
    let base = format!("http://{host}");
    ok_json(&J::Obj(vec![
        ("vm_info".into(), J::Str(format!("{base}/vm"))),
        ("service_info".into(), J::Str(format!("{base}/service"))),
    ]))
}

fn get_vm(sim: &OneGateSim, req: &Req) -> Res<(StatusCode, String)> {
    check_permission(sim, "vm", "show")?;
    let id = authenticate(sim, req)?;
    let vm = get_vm_hash(sim, id)?;
    ok_json(&build_vm_hash(&vm))
}

fn put_vm(sim: &OneGateSim, req: &Req) -> Res<(StatusCode, String)> {
    check_permission(sim, "vm", "update")?;
    let id = authenticate(sim, req)?;
    let vm = get_vm_hash(sim, id)?;
    update(sim, req, &vm)?;
    Ok((StatusCode::OK, String::new()))
}

fn put_vms(sim: &OneGateSim, req: &Req, id: &str) -> Res<(StatusCode, String)> {
    check_permission(sim, "vm", "update_by_id")?;
    let source = authenticate(sim, req)?;
    let vm = requested_vm(sim, source, to_i32(ruby_to_i(id)))?;
    update(sim, req, &vm)?;
    Ok((StatusCode::OK, String::new()))
}

fn get_vms(sim: &OneGateSim, req: &Req, id: &str) -> Res<(StatusCode, String)> {
    check_permission(sim, "vm", "show_by_id")?;
    let source = authenticate(sim, req)?;
    let vm = requested_vm(sim, source, to_i32(ruby_to_i(id)))?;
    ok_json(&build_vm_hash(&vm))
}

/// The `update` helper: merge (`type` 1, the default) or delete (any other type).
fn update(sim: &OneGateSim, req: &Req, vm: &J) -> Res<()> {
    let id = vm_id_of(vm);
    // Without a `data` parameter the body itself is the data (Rack rewinds a parsed
    // form body, so that is the form text).
    let raw = match req.params.get("data") {
        Some(d) => d.clone(),
        None => String::from_utf8_lossy(&req.body).into_owned(),
    };
    let kind = req.params.get("type").map(|t| ruby_to_i(t)).unwrap_or(1);
    let attr = escape_attr(&raw);
    let what = if kind == 1 {
        "cannot be modified"
    } else {
        "cannot be deleted"
    };
    if let Some(key) = restricted_key(&attr, &sim.inner.config.restricted_attrs) {
        return halt(403, format!("Attribute ({key}) {what}"));
    }
    if kind == 1 {
        if let Err(e) = sim.inner.backend.update_user_template(id, &attr, true) {
            return internal(format!("VMID:{id} vm.update error: {e}"));
        }
        return Ok(());
    }
    // Delete: the element must be there (oned's delete_element finds nothing otherwise).
    let present = vm.get("USER_TEMPLATE").and_then(|u| u.get(&attr)).is_some();
    if !valid_xpath_name(&attr) || !present {
        return internal(format!("VMID:{id} vm.update error: attribute not found"));
    }
    if let Err(e) = sim.inner.backend.remove_user_attr(id, &attr) {
        return internal(format!("VMID:{id} vm.update error: {e}"));
    }
    Ok(())
}

fn valid_xpath_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `get_requested_vm`.
fn requested_vm(sim: &OneGateSim, source_id: i32, requested: i32) -> Res<J> {
    let source = get_vm_hash(sim, source_id)?;
    if vm_id_of(&source) == requested {
        return Ok(source);
    }
    if let Some(service_id) = source.text("USER_TEMPLATE/SERVICE_ID").map(str::to_owned) {
        check_vm_in_service(sim, requested, Some(&service_id), false)?;
        return get_vm_hash(sim, requested);
    }
    if let Some(vrouter_id) = vrouter_id_of(sim, &source) {
        let vrouter = get_vrouter_hash(sim, Some(&vrouter_id))?;
        check_vm_in_vrouter(requested, &vrouter, source_id)?;
        return get_vm_hash(sim, requested);
    }
    halt(
        400,
        "This VM does not belong to any Virtual Router or Service, so it cannot retrieve information from other VMs",
    )
}

/// `TEMPLATE/VROUTER_ID` of a VM, or the router made by `create_vrouter` holding it.
fn vrouter_id_of(sim: &OneGateSim, vm: &J) -> Option<String> {
    if let Some(id) = vm.text("TEMPLATE/VROUTER_ID") {
        return Some(id.to_owned());
    }
    let id = vm_id_of(vm);
    let flow = sim.flow();
    flow.vrouters
        .values()
        .find(|r| r.vms.contains(&id))
        .map(|r| r.id.to_string())
}

fn service_hash(sim: &OneGateSim, svc: &Service, extended: bool) -> Res<J> {
    let mut roles = Vec::new();
    for role in &svc.roles {
        let mut nodes = Vec::new();
        for vm_id in &role.nodes {
            let vm = get_vm_hash(sim, *vm_id);
            let (running, vm_info) = match vm {
                Ok(vm) => {
                    let running =
                        vm.text("STATE") == Some("3") && vm.text("LCM_STATE") == Some("3");
                    let info = if extended {
                        vm
                    } else {
                        let f = |k: &str| vm.get(k).cloned().unwrap_or(J::Null);
                        J::Obj(vec![
                            ("ID".into(), f("ID")),
                            ("NAME".into(), f("NAME")),
                            ("STATE".into(), f("STATE")),
                            ("LCM_STATE".into(), f("LCM_STATE")),
                        ])
                    };
                    (J::Bool(running), J::Obj(vec![("VM".into(), info)]))
                }
                Err(_) if !extended => (J::Null, J::Null),
                Err(e) => return Err(e),
            };
            nodes.push(J::Obj(vec![
                ("deploy_id".into(), J::Int(i64::from(*vm_id))),
                ("running".into(), running),
                ("vm_info".into(), vm_info),
            ]));
        }
        roles.push(J::Obj(vec![
            ("name".into(), J::Str(role.name.clone())),
            ("cardinality".into(), J::Int(i64::from(role.cardinality))),
            ("state".into(), J::Int(role.state)),
            ("nodes".into(), J::Arr(nodes)),
        ]));
    }
    Ok(J::Obj(vec![(
        "SERVICE".into(),
        J::Obj(vec![
            ("name".into(), J::Str(svc.name.clone())),
            ("id".into(), J::Str(svc.id.to_string())),
            ("state".into(), J::Int(svc.state)),
            ("roles".into(), J::Arr(roles)),
        ]),
    )]))
}

/// serde JSON to the order-keeping hash.
fn from_value(v: &serde_json::Value) -> J {
    match v {
        serde_json::Value::Null => J::Null,
        serde_json::Value::Bool(b) => J::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => J::Int(i),
            None => J::Str(n.to_string()),
        },
        serde_json::Value::String(s) => J::Str(s.clone()),
        serde_json::Value::Array(a) => J::Arr(a.iter().map(from_value).collect()),
        serde_json::Value::Object(m) => {
            J::Obj(m.iter().map(|(k, v)| (k.clone(), from_value(v))).collect())
        }
    }
}

/// `build_service_hash` over OneFlow's document: `None` when it has no roles.
fn flow_service_hash(sim: &OneGateSim, doc: &serde_json::Value, extended: bool) -> Res<Option<J>> {
    let body = doc
        .pointer("/TEMPLATE/BODY")
        .unwrap_or(&serde_json::Value::Null);
    let Some(roles) = body.get("roles").and_then(serde_json::Value::as_array) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for role in roles {
        let mut nodes = Vec::new();
        for n in role
            .get("nodes")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = match &n["deploy_id"] {
                serde_json::Value::Number(x) => x.as_i64().unwrap_or(0),
                serde_json::Value::String(s) => s.trim().parse().unwrap_or(0),
                _ => 0,
            };
            let vm_info = if extended {
                J::Obj(vec![("VM".into(), get_vm_hash(sim, to_i32(id))?)])
            } else {
                from_value(&n["vm_info"])
            };
            nodes.push(J::Obj(vec![
                ("deploy_id".into(), J::Int(id)),
                ("running".into(), from_value(&n["running"])),
                ("vm_info".into(), vm_info),
            ]));
        }
        out.push(J::Obj(vec![
            ("name".into(), from_value(&role["name"])),
            ("cardinality".into(), from_value(&role["cardinality"])),
            ("state".into(), from_value(&role["state"])),
            ("nodes".into(), J::Arr(nodes)),
        ]));
    }
    Ok(Some(J::Obj(vec![(
        "SERVICE".into(),
        J::Obj(vec![
            ("name".into(), from_value(&doc["NAME"])),
            ("id".into(), from_value(&doc["ID"])),
            ("state".into(), from_value(&body["state"])),
            ("roles".into(), J::Arr(out)),
        ]),
    )])))
}

/// `check_vm_in_service`: the service hash.
fn check_vm_in_service(
    sim: &OneGateSim,
    requested: i32,
    service_id: Option<&str>,
    extended: bool,
) -> Res<J> {
    let Some(sid) = service_id.filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
    else {
        return halt(400, "Empty or invalid SERVICE_ID");
    };
    if let Some(flow) = sim.oneflow() {
        let doc = sid
            .parse::<i32>()
            .ok()
            .and_then(|n| flow.service_document(n));
        let Some(doc) = doc else {
            return halt(404, format!("Service {sid} not found"));
        };
        let Some(hash) = flow_service_hash(sim, &doc, extended)? else {
            return halt(400, format!("Service {sid} is empty."));
        };
        let ids: Vec<i64> = hash
            .path("SERVICE/roles")
            .cloned()
            .map(J::into_list)
            .unwrap_or_default()
            .iter()
            .flat_map(|r| {
                r.get("nodes")
                    .cloned()
                    .map(J::into_list)
                    .unwrap_or_default()
            })
            .filter_map(|n| match n.get("deploy_id") {
                Some(J::Int(i)) => Some(*i),
                _ => None,
            })
            .collect();
        if !ids.contains(&i64::from(requested)) {
            return halt(
                400,
                format!("Service {sid} does not contain VM {requested}."),
            );
        }
        return Ok(hash);
    }
    let svc = {
        let flow = sim.flow();
        sid.parse::<i32>()
            .ok()
            .and_then(|n| flow.services.get(&n).cloned())
    };
    let Some(svc) = svc else {
        return halt(404, format!("Service {sid} not found"));
    };
    let contains = svc.roles.iter().any(|r| r.nodes.contains(&requested));
    if !contains {
        return halt(
            400,
            format!("Service {sid} does not contain VM {requested}."),
        );
    }
    service_hash(sim, &svc, extended)
}

fn get_service(sim: &OneGateSim, req: &Req) -> Res<(StatusCode, String)> {
    check_permission(sim, "service", "show")?;
    let id = authenticate(sim, req)?;
    let vm = get_vm_hash(sim, id)?;
    // Ruby: any value of `extended` is true.
    let extended = req.params.contains_key("extended");
    let svc = check_vm_in_service(
        sim,
        vm_id_of(&vm),
        vm.text("USER_TEMPLATE/SERVICE_ID"),
        extended,
    )?;
    ok_json(&svc)
}

fn scale(sim: &OneGateSim, req: &Req, role: &str) -> Res<(StatusCode, String)> {
    check_permission(sim, "service", "change_cardinality")?;
    let id = authenticate(sim, req)?;
    let vm = get_vm_hash(sim, id)?;
    let service_id = vm.text("USER_TEMPLATE/SERVICE_ID").map(str::to_owned);
    check_vm_in_service(sim, vm_id_of(&vm), service_id.as_deref(), false)?;
    let sid = service_id.unwrap_or_default();
    let cardinality = match serde_json::from_slice::<serde_json::Value>(&req.body) {
        Ok(v) => v.get("cardinality").cloned(),
        Err(e) => return internal(format!("scale body: {e}")),
    };
    if let Some(flow) = sim.oneflow() {
        let n = match &cardinality {
            Some(serde_json::Value::Number(x)) => x.as_i64().unwrap_or(0),
            Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
            _ => 0,
        };
        return match flow.scale(sid.parse().unwrap_or(-1), role, n) {
            Ok(()) => Ok((StatusCode::OK, String::new())),
            Err(why) => {
                tracing::warn!(%why, "OneFlow refused the scale request");
                halt(
                    400,
                    format!("Error performing action on service {sid} role {role}"),
                )
            }
        };
    }
    let flow_error = |why: String| -> Res<(StatusCode, String)> {
        tracing::warn!(%why, "OneFlow refused the scale request");
        halt(
            400,
            format!("Error performing action on service {sid} role {role}"),
        )
    };
    let wanted = match cardinality.as_ref().and_then(|c| {
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    }) {
        Some(n) => match u32::try_from(n) {
            Ok(n) => n,
            Err(_) => return flow_error(format!("cardinality {n} out of range")),
        },
        None => return flow_error("missing or invalid cardinality".into()),
    };
    let sid_num: i32 = sid.parse().unwrap_or(-1);
    let (current, template_vm) = {
        let flow = sim.flow();
        let Some(svc) = flow.services.get(&sid_num) else {
            return flow_error("service is gone".into());
        };
        let Some(r) = svc.roles.iter().find(|r| r.name == role) else {
            return flow_error(format!("role {role} does not exist"));
        };
        (r.nodes.clone(), r.nodes.first().copied())
    };
    let mut nodes = current;
    let target = usize::try_from(wanted).unwrap_or(usize::MAX);
    while nodes.len() < target {
        let Some(src) = template_vm else { break };
        let name = format!("{role}_{}_(service_{sid})", nodes.len());
        match sim.inner.backend.instantiate_like(src, &name) {
            Ok(new_id) => {
                let text = format!("SERVICE_ID=\"{sid}\"\nROLE_NAME=\"{role}\"");
                if let Err(e) = sim.inner.backend.update_user_template(new_id, &text, true) {
                    tracing::warn!(error = %e, "could not tag the new VM");
                }
                nodes.push(new_id);
            }
            Err(e) => {
                tracing::info!(reason = %e, "scaling records the cardinality only");
                break;
            }
        }
    }
    while nodes.len() > target {
        let Some(last) = nodes.pop() else { break };
        if let Err(e) = sim.inner.backend.vm_action(last, "terminate", None) {
            tracing::warn!(error = %e, vm = last, "could not terminate a scaled-down VM");
        }
    }
    let mut flow = sim.flow();
    if let Some(r) = flow
        .services
        .get_mut(&sid_num)
        .and_then(|s| s.roles.iter_mut().find(|r| r.name == role))
    {
        r.cardinality = wanted;
        r.nodes = nodes;
        r.state = FLOW_RUNNING;
    }
    Ok((StatusCode::OK, String::new()))
}

fn vm_action(sim: &OneGateSim, req: &Req, id: &str) -> Res<(StatusCode, String)> {
    check_permission(sim, "vm", "action_by_id")?;
    let source = authenticate(sim, req)?;
    let vm = requested_vm(sim, source, to_i32(ruby_to_i(id)))?;
    let text = String::from_utf8_lossy(&req.body);
    // OneGate's parse_json: Ruby's JSON.parse, its message as the 400 body
    if let Some(message) = super::ruby_json::parse_error(&text) {
        return halt(400, message);
    }
    let parsed: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        // what the gem takes and serde_json does not (comments): the gem's reading of
        // the same text without them is not reproduced
        Err(e) => return internal(format!("action body: {e}")),
    };
    let Some(obj) = parsed.as_object() else {
        return internal("action body is not a JSON object");
    };
    let Some(action) = obj.get("action") else {
        return halt(400, "Error parsing JSON: Wrong resource type");
    };
    let Some(action) = action.as_object() else {
        return internal("action is not an object");
    };
    let perform = match action.get("perform") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return internal("perform is not a string"),
    };
    if let Some(p) = &perform {
        let lower = p.to_lowercase();
        if sim.inner.config.restricted_actions.contains(&lower) {
            return halt(403, format!("Action ({p}) is not allowed on this resource"));
        }
    }
    const KNOWN: [&str; 29] = [
        "deploy",
        "hold",
        "livemigrate",
        "migrate",
        "resume",
        "release",
        "stop",
        "suspend",
        "saveas",
        "snapshot_create",
        "snapshot_revert",
        "snapshot_delete",
        "terminate",
        "reboot",
        "poweroff",
        "chown",
        "chmod",
        "resize",
        "attachdisk",
        "detachdisk",
        "attachnic",
        "detachnic",
        "rename",
        "undeploy",
        "resched",
        "unresched",
        "recover",
        "delete",
        "shutdown",
    ];
    let Some(perform) = perform.filter(|p| KNOWN.contains(&p.as_str())) else {
        return internal("action not available for this resource");
    };
    let params = action.get("params");
    let vm_id = vm_id_of(&vm);
    let (name, params) = match perform.as_str() {
        "delete" => ("terminate", Some(serde_json::Value::Bool(true))),
        "shutdown" => ("terminate", params.cloned()),
        other => (other, params.cloned()),
    };
    if let Err(e) = sim.inner.backend.vm_action(vm_id, name, params.as_ref()) {
        return internal(format!("VMID:{vm_id} {name}: {e}"));
    }
    Ok((StatusCode::NO_CONTENT, String::new()))
}

/// `get_vrouter`: the `VROUTER` hash (`{"VROUTER": {...}}`).
fn get_vrouter_hash(sim: &OneGateSim, vrouter_id: Option<&str>) -> Res<J> {
    let Some(text) = vrouter_id else {
        return halt(400, "Empty or invalid VROUTER_ID");
    };
    let Some(id) = ruby_integer(text) else {
        return internal(format!("invalid VROUTER_ID {text:?}"));
    };
    let id = to_i32(id);
    if let Some(xml) = sim.inner.backend.vrouter_xml(id) {
        return match xml_to_hash(&xml) {
            Ok(h) => Ok(h),
            Err(e) => internal(format!("vrouter {id} XML: {e}")),
        };
    }
    let router = sim.flow().vrouters.get(&id).cloned();
    let Some(router) = router else {
        return halt(404, format!("Virtual router {id} not found"));
    };
    // As oned renders it: one ID element per VM, one NIC per network.
    let ids: Vec<J> = router.vms.iter().map(|v| J::Str(v.to_string())).collect();
    let ids = if ids.len() == 1 {
        ids.into_iter().next().unwrap_or(J::Null)
    } else {
        J::Arr(ids)
    };
    let mut nics = Vec::new();
    for (i, net) in router.networks.iter().enumerate() {
        let name = sim
            .inner
            .backend
            .vnet_xml(*net)
            .and_then(|x| xml_to_hash(&x).ok())
            .and_then(|h| h.text("VNET/NAME").map(str::to_owned))
            .unwrap_or_default();
        nics.push(J::Obj(vec![
            ("NETWORK".into(), J::Str(name)),
            ("NETWORK_ID".into(), J::Str(net.to_string())),
            ("NIC_ID".into(), J::Str(i.to_string())),
        ]));
    }
    let nics = if nics.len() == 1 {
        nics.into_iter().next().unwrap_or(J::Null)
    } else {
        J::Arr(nics)
    };
    let mut template = J::obj();
    if !router.networks.is_empty() {
        template.set("NIC", nics);
    }
    for (k, v) in &router.attrs {
        template.set(k, J::Str(v.clone()));
    }
    Ok(J::Obj(vec![(
        "VROUTER".into(),
        J::Obj(vec![
            ("ID".into(), J::Str(router.id.to_string())),
            ("NAME".into(), J::Str(router.name.clone())),
            ("VMS".into(), J::Obj(vec![("ID".into(), ids)])),
            ("TEMPLATE".into(), template),
        ]),
    )]))
}

/// `check_vm_in_vrouter`. Like the Ruby code, converts an array of ids to integers in
/// place (so a router of several VMs later shows numeric ids, one of one VM a string).
fn check_vm_in_vrouter(requested: i32, vrouter: &J, source: i32) -> Res<J> {
    let mut vrouter = vrouter.clone();
    let router_id = vrouter.text("VROUTER/ID").unwrap_or_default().to_owned();
    let ids_slot = vrouter
        .get_mut("VROUTER")
        .and_then(|v| v.get_mut("VMS"))
        .and_then(|v| v.get_mut("ID"));
    let mut ids = Vec::new();
    match ids_slot {
        Some(J::Arr(items)) => {
            for item in items.iter_mut() {
                let n = match item {
                    J::Str(s) => ruby_integer(s),
                    J::Int(n) => Some(*n),
                    _ => None,
                };
                let Some(n) = n else {
                    return internal("invalid VM id in virtual router");
                };
                *item = J::Int(n);
                ids.push(n);
            }
        }
        Some(J::Str(s)) => match ruby_integer(s) {
            Some(n) => ids.push(n),
            None => return internal("invalid VM id in virtual router"),
        },
        Some(J::Int(n)) => ids.push(*n),
        _ => {}
    }
    if !ids.contains(&i64::from(requested)) || !ids.contains(&i64::from(source)) {
        return halt(
            400,
            format!("Virtual Router {router_id} does not contain VM {requested}."),
        );
    }
    Ok(vrouter)
}

fn get_vrouter(sim: &OneGateSim, req: &Req) -> Res<(StatusCode, String)> {
    check_permission(sim, "vrouter", "show")?;
    let id = authenticate(sim, req)?;
    let vm = get_vm_hash(sim, id)?;
    let vrouter_id = vrouter_id_of(sim, &vm);
    let hash = get_vrouter_hash(sim, vrouter_id.as_deref())?;
    let mut hash = check_vm_in_vrouter(vm_id_of(&vm), &hash, id)?;
    // build_vrouter_hash: NIC and VMS/ID always arrays.
    let Some(v) = hash.get_mut("VROUTER") else {
        return halt(
            400,
            format!(
                "Virtual router {} is empty.",
                vrouter_id.unwrap_or_default()
            ),
        );
    };
    let field = |k: &str| v.get(k).cloned().unwrap_or(J::Null);
    let mut template = field("TEMPLATE");
    if !matches!(template, J::Obj(_)) {
        template = J::obj();
    }
    let nic = template.get("NIC").cloned().unwrap_or(J::Null);
    template.set("NIC", J::Arr(nic.into_list()));
    let mut vms = field("VMS");
    if !matches!(vms, J::Obj(_)) {
        vms = J::obj();
    }
    let ids = vms.get("ID").cloned().unwrap_or(J::Null);
    vms.set("ID", J::Arr(ids.into_list()));
    ok_json(&J::Obj(vec![(
        "VROUTER".into(),
        J::Obj(vec![
            ("NAME".into(), field("NAME")),
            ("ID".into(), field("ID")),
            ("VMS".into(), vms),
            ("TEMPLATE".into(), template),
        ]),
    )]))
}

fn get_vnet_hash(sim: &OneGateSim, id: i64) -> Res<J> {
    let id = to_i32(id);
    let Some(xml) = sim.inner.backend.vnet_xml(id) else {
        return halt(404, format!("Virtual network {id} not found"));
    };
    match xml_to_hash(&xml) {
        Ok(h) => match h.get("VNET") {
            Some(v) => Ok(v.clone()),
            None => internal(format!("vnet {id} XML has no VNET element")),
        },
        Err(e) => internal(format!("vnet {id} XML: {e}")),
    }
}

fn parent_of(vnet: &J) -> Option<i64> {
    vnet.text("PARENT_NETWORK_ID").and_then(ruby_integer)
}

/// `check_vnet_in_vrouter`.
fn check_vnet_in_vrouter(sim: &OneGateSim, req_id: i64, req_vnet: &J, vrouter: &J) -> Res<()> {
    let nics = vrouter
        .path("VROUTER/TEMPLATE/NIC")
        .cloned()
        .map(J::into_list)
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut valid = BTreeSet::new();
    for nic in nics {
        let Some(net) = nic.text("NETWORK_ID").map(str::to_owned) else {
            continue;
        };
        if !seen.insert(net.clone()) {
            continue;
        }
        let Some(net_id) = ruby_integer(&net) else {
            return internal(format!("invalid NETWORK_ID {net:?}"));
        };
        let nic_vnet = get_vnet_hash(sim, net_id)?;
        valid.insert(net_id);
        if let Some(p) = parent_of(&nic_vnet) {
            valid.insert(p);
        }
        for ar in nic_vnet
            .path("AR_POOL/AR")
            .cloned()
            .map(J::into_list)
            .unwrap_or_default()
        {
            for lease in ar
                .path("LEASES/LEASE")
                .cloned()
                .map(J::into_list)
                .unwrap_or_default()
            {
                if let Some(child) = lease.text("VNET").and_then(ruby_integer) {
                    valid.insert(child);
                }
            }
        }
        if valid.contains(&req_id) || parent_of(req_vnet).is_some_and(|p| valid.contains(&p)) {
            return Ok(());
        }
    }
    halt(
        400,
        format!(
            "Virtual Network {req_id} cannot be retrieved from Virtual router {}.",
            vrouter.text("VROUTER/ID").unwrap_or_default()
        ),
    )
}

fn get_vnet(sim: &OneGateSim, req: &Req, id: &str) -> Res<(StatusCode, String)> {
    check_permission(sim, "vnet", "show_by_id")?;
    let source = authenticate(sim, req)?;
    let Some(vnet_id) = ruby_integer(id) else {
        return halt(
            400,
            format!("Invalid id format (ID: {id}). ID must be an integer."),
        );
    };
    let vm = get_vm_hash(sim, source)?;
    let Some(vrouter_id) = vrouter_id_of(sim, &vm).filter(|v| !v.is_empty()) else {
        return halt(
            400,
            "Virtual networks information can only be retrieved from Virtual Routers.",
        );
    };
    let vrouter = get_vrouter_hash(sim, Some(&vrouter_id))?;
    let vrouter = check_vm_in_vrouter(vm_id_of(&vm), &vrouter, source)?;
    let req_vnet = get_vnet_hash(sim, vnet_id)?;
    check_vnet_in_vrouter(sim, vnet_id, &req_vnet, &vrouter)?;
    let extended = req
        .params
        .get("extended")
        .is_some_and(|e| e.eq_ignore_ascii_case("true"));
    match build_vnet_hash(sim, &req_vnet, extended) {
        Some(v) => ok_json(&J::Obj(vec![("VNET".into(), v)])),
        None => halt(
            400,
            format!(
                "Virtual router {} is empty.",
                vrouter.text("VROUTER/ID").unwrap_or_default()
            ),
        ),
    }
}

/// `process_vnet` (+ the extended lease details); `None` where Ruby would raise.
fn build_vnet_hash(sim: &OneGateSim, vnet: &J, extended: bool) -> Option<J> {
    let mut out = J::obj();
    for key in VNET_ATTRIBUTES {
        out.set(key, vnet.get(key).cloned().unwrap_or(J::Null));
    }
    let mut template = J::obj();
    for key in &sim.inner.config.vnet_template_attributes {
        if let Some(v) = vnet.path(&format!("TEMPLATE/{key}")) {
            template.set(key, v.clone());
        }
    }
    out.set("TEMPLATE", template);
    // AR_POOL/AR and each LEASES/LEASE as arrays.
    let pool = out.get_mut("AR_POOL")?;
    if !matches!(pool, J::Obj(_)) {
        return None;
    }
    let ars = pool.get("AR").cloned().unwrap_or(J::Null).into_list();
    let mut new_ars = Vec::with_capacity(ars.len());
    for mut ar in ars {
        let leases_slot = ar.get_mut("LEASES")?;
        if !matches!(leases_slot, J::Obj(_)) {
            return None;
        }
        let leases = leases_slot
            .get("LEASE")
            .cloned()
            .unwrap_or(J::Null)
            .into_list();
        let mut new_leases = Vec::with_capacity(leases.len());
        for mut lease in leases {
            if extended {
                extend_lease(sim, &mut lease)?;
            }
            new_leases.push(lease);
        }
        leases_slot.set("LEASE", J::Arr(new_leases));
        new_ars.push(ar);
    }
    pool.set("AR", J::Arr(new_ars));
    let vrouters = out.get_mut("VROUTERS")?;
    if !matches!(vrouters, J::Obj(_)) {
        return None;
    }
    let ids = vrouters.get("ID").cloned().unwrap_or(J::Null).into_list();
    vrouters.set("ID", J::Arr(ids));
    Some(out)
}

/// The `extended` details of one lease; `None` where Ruby would raise.
fn extend_lease(sim: &OneGateSim, lease: &mut J) -> Option<()> {
    let Some(vm_text) = lease.text("VM").map(str::to_owned) else {
        return Some(());
    };
    let vm_id = ruby_integer(&vm_text)?;
    if vm_id < 0 {
        return Some(());
    }
    let vm = get_vm_hash(sim, to_i32(vm_id)).ok()?;
    let mac = lease.text("MAC").unwrap_or_default().to_owned();
    let find = |key: &str| -> Option<J> {
        vm.path(&format!("TEMPLATE/{key}"))
            .cloned()
            .map(J::into_list)
            .unwrap_or_default()
            .into_iter()
            .find(|n| n.text("MAC") == Some(mac.as_str()))
    };
    let nic = match find("NIC") {
        Some(n) => n,
        None => {
            let alias = find("NIC_ALIAS")?;
            let parent_id = alias.text("PARENT_ID").unwrap_or_default().to_owned();
            let parent_net = vm
                .path("TEMPLATE/NIC")
                .cloned()
                .map(J::into_list)
                .unwrap_or_default()
                .into_iter()
                .find(|n| n.text("NIC_ID") == Some(parent_id.as_str()))
                .and_then(|n| n.text("NETWORK_ID").map(str::to_owned))?;
            lease.set("PARENT", alias.get("PARENT").cloned().unwrap_or(J::Null));
            lease.set("PARENT_NETWORK_ID", J::Str(parent_net));
            let external = alias
                .text("EXTERNAL")
                .is_some_and(|e| e.eq_ignore_ascii_case("yes"));
            lease.set("EXTERNAL", J::Bool(external));
            alias
        }
    };
    lease.set("NIC_NAME", nic.get("NAME").cloned().unwrap_or(J::Null));
    let backend = vm
        .text("TEMPLATE/CONTEXT/BACKEND")
        .is_some_and(|b| b.eq_ignore_ascii_case("yes"));
    if backend {
        lease.set("BACKEND", J::Str("YES".into()));
        if let Some(J::Obj(attrs)) = vm.get("USER_TEMPLATE") {
            for (k, v) in attrs {
                if k.starts_with("ONEGATE_")
                    && let J::Str(_) = v
                {
                    lease.set(k, v.clone());
                }
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_number_parsing() {
        assert_eq!(ruby_to_i("2007"), 2007);
        assert_eq!(ruby_to_i("abc"), 0);
        assert_eq!(ruby_to_i(" 12abc"), 12);
        assert_eq!(ruby_to_i("-3"), -3);
        assert_eq!(ruby_integer(" 5 "), Some(5));
        assert_eq!(ruby_integer("1_000"), Some(1000));
        assert_eq!(ruby_integer("abc"), None);
        assert_eq!(ruby_integer("1.5"), None);
        assert_eq!(ruby_integer(""), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("web%20tier"), "web tier");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%é%41"), "%éA");
    }
}
