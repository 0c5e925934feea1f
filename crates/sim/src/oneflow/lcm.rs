//! OneFlow's life-cycle manager on the oned simulator: services as type-100 documents,
//! templates as type-101 documents, roles' VMs created, watched and removed through
//! XML-RPC, as `src/flow/lib/LifeCycleManager.rb`, `EventManager.rb`,
//! `ServiceAutoScaler.rb` and the role/service models do it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde_json::{Map, Value, json};

use super::doc;
use super::expr;
use super::rpc::{A, OneError, Rpc};
use super::sched;

/// Service states (`Service::STATE_STR`).
pub(crate) const SERVICE_STATES: [&str; 16] = [
    "PENDING",
    "DEPLOYING",
    "RUNNING",
    "UNDEPLOYING",
    "WARNING",
    "DONE",
    "FAILED_UNDEPLOYING",
    "FAILED_DEPLOYING",
    "SCALING",
    "FAILED_SCALING",
    "COOLDOWN",
    "DEPLOYING_NETS",
    "UNDEPLOYING_NETS",
    "FAILED_DEPLOYING_NETS",
    "FAILED_UNDEPLOYING_NETS",
    "HOLD",
];

/// Service and role state numbers.
pub(crate) mod st {
    pub(crate) const PENDING: i64 = 0;
    pub(crate) const DEPLOYING: i64 = 1;
    pub(crate) const RUNNING: i64 = 2;
    pub(crate) const UNDEPLOYING: i64 = 3;
    pub(crate) const WARNING: i64 = 4;
    pub(crate) const DONE: i64 = 5;
    pub(crate) const FAILED_UNDEPLOYING: i64 = 6;
    pub(crate) const FAILED_DEPLOYING: i64 = 7;
    pub(crate) const SCALING: i64 = 8;
    pub(crate) const FAILED_SCALING: i64 = 9;
    pub(crate) const COOLDOWN: i64 = 10;
    pub(crate) const DEPLOYING_NETS: i64 = 11;
    pub(crate) const UNDEPLOYING_NETS: i64 = 12;
    pub(crate) const FAILED_DEPLOYING_NETS: i64 = 13;
    pub(crate) const FAILED_UNDEPLOYING_NETS: i64 = 14;
    /// Service HOLD (roles use 11).
    pub(crate) const HOLD: i64 = 15;
    /// Role HOLD.
    pub(crate) const ROLE_HOLD: i64 = 11;
}

/// Actions on a role's VMs (`Role::SCHEDULE_ACTIONS`).
pub(crate) const SCHEDULE_ACTIONS: [&str; 19] = [
    "terminate",
    "terminate-hard",
    "undeploy",
    "undeploy-hard",
    "hold",
    "release",
    "stop",
    "suspend",
    "resume",
    "reboot",
    "reboot-hard",
    "poweroff",
    "poweroff-hard",
    "snapshot-create",
    "snapshot-revert",
    "snapshot-delete",
    "disk-snapshot-create",
    "disk-snapshot-revert",
    "disk-snapshot-delete",
];

/// VM LCM states OneFlow counts as failures (`Role::FAILURE_STATES`).
const VM_FAILURE_LCM: [i64; 14] = [36, 37, 38, 39, 40, 41, 42, 44, 46, 47, 50, 51, 52, 53];

/// An error answer: HTTP status and the plain-text message OneFlow sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpErr {
    pub(crate) status: u16,
    pub(crate) msg: String,
}

pub(crate) type Res<T> = Result<T, HttpErr>;

pub(crate) fn err<T>(status: u16, msg: impl Into<String>) -> Res<T> {
    Err(HttpErr {
        status,
        msg: msg.into(),
    })
}

impl From<OneError> for HttpErr {
    fn from(e: OneError) -> Self {
        HttpErr {
            status: e.http(),
            msg: e.msg,
        }
    }
}

/// A general OneFlow error (`OpenNebula::Error.new(msg)`, errno 0x1111): HTTP 500.
fn general<T>(msg: impl Into<String>) -> Res<T> {
    err(500, msg)
}

/// The server settings (`oneflow-server.conf`).
#[derive(Debug, Clone)]
pub(crate) struct Conf {
    pub(crate) default_cooldown: i64,
    pub(crate) shutdown_action: String,
    pub(crate) action_period: i64,
    pub(crate) action_number: i64,
    pub(crate) vm_name_template: String,
    pub(crate) autoscaler_interval: i64,
}

impl Default for Conf {
    fn default() -> Self {
        Conf {
            default_cooldown: 300,
            shutdown_action: "terminate".into(),
            action_period: 60,
            action_number: 1,
            vm_name_template: "$ROLE_NAME_$VM_NUMBER_(service_$SERVICE_ID)".into(),
            autoscaler_interval: 90,
        }
    }
}

/// OneFlow's clock: the system clock, or a frozen one, plus an offset tests advance.
#[derive(Debug)]
pub(crate) struct Clock {
    frozen_at: Option<i64>,
    offset: AtomicI64,
}

pub(crate) fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Clock {
    pub(crate) fn new(frozen: bool) -> Self {
        Clock {
            frozen_at: frozen.then(real_now),
            offset: AtomicI64::new(0),
        }
    }
    pub(crate) fn now(&self) -> i64 {
        self.frozen_at.unwrap_or_else(real_now) + self.offset.load(Ordering::SeqCst)
    }
    pub(crate) fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
    }
}

#[derive(Debug, Default)]
struct Mem {
    /// Service id -> the session of the user who instantiated it (the background work
    /// acts as that user, as OneFlow does with its login tokens).
    sessions: HashMap<i64, String>,
    /// (service, role) -> end of the cooldown.
    cooldowns: HashMap<(i64, String), i64>,
    last_autoscale: Option<i64>,
}

/// The OneFlow engine.
#[derive(Debug)]
pub(crate) struct Flow {
    pub(crate) rpc: Rpc,
    pub(crate) admin: String,
    pub(crate) conf: Conf,
    pub(crate) clock: Clock,
    mem: Mutex<Mem>,
}

/// A service or template document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Doc {
    pub(crate) id: i64,
    /// The `DOCUMENT` object without its body.
    meta: Value,
    /// `TEMPLATE.BODY`.
    body: Map<String, Value>,
}

impl Doc {
    fn from_doc(id: i64, mut doc: Value) -> Doc {
        let body = match doc.pointer_mut("/TEMPLATE/BODY").map(Value::take) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Doc {
            id,
            meta: doc,
            body,
        }
    }
    /// The `DOCUMENT` object as OneFlow answers it.
    pub(crate) fn rendered(&self) -> Value {
        let mut d = self.meta.clone();
        if !d.is_object() {
            d = json!({});
        }
        if !d["TEMPLATE"].is_object() {
            d["TEMPLATE"] = json!({});
        }
        d["TEMPLATE"]["BODY"] = Value::Object(self.body.clone());
        d
    }
    fn body_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.body
    }
    fn get(&self, k: &str) -> &Value {
        self.body.get(k).unwrap_or(&Value::Null)
    }
    fn state(&self) -> i64 {
        int(self.get("state"))
    }
    fn state_str(&self) -> &'static str {
        state_str(self.state())
    }
    fn roles(&self) -> Vec<Value> {
        self.get("roles").as_array().cloned().unwrap_or_default()
    }
    fn roles_mut(&mut self) -> &mut Vec<Value> {
        let slot = self.body.entry("roles").or_insert_with(|| json!([]));
        if !slot.is_array() {
            *slot = json!([]);
        }
        match slot {
            Value::Array(a) => a,
            // made an array just above
            _ => unreachable!("roles is an array"),
        }
    }
    fn role_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.roles_mut()
            .iter_mut()
            .find(|r| r["name"].as_str() == Some(name))
    }
    fn log(&mut self, sev: &str, msg: &str, now: i64) {
        let log = self.body.entry("log").or_insert_with(|| json!([]));
        if !log.is_array() {
            *log = json!([]);
        }
        if let Value::Array(a) = log {
            a.push(json!({"timestamp": now, "severity": sev, "message": msg}));
            let n = a.len();
            if n > 50 {
                a.drain(..n - 50);
            }
        }
    }
    fn set_state(&mut self, s: i64, now: i64) {
        self.body.insert("state".into(), json!(s));
        self.log("I", &format!("New state: {}", state_str(s)), now);
    }
    fn strategy_straight(&self) -> bool {
        self.get("deployment").as_str() == Some("straight")
    }
    fn name(&self) -> String {
        self.meta["NAME"].as_str().unwrap_or_default().to_owned()
    }
}

pub(crate) fn state_str(s: i64) -> &'static str {
    usize::try_from(s)
        .ok()
        .and_then(|i| SERVICE_STATES.get(i))
        .copied()
        .unwrap_or("UNKNOWN")
}

/// Ruby's `to_i` on a JSON value.
pub(crate) fn int(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        Value::String(s) => {
            let t = s.trim_start();
            let end = t
                .char_indices()
                .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
                .map(|(i, c)| i + c.len_utf8())
                .last()
                .unwrap_or(0);
            t[..end].parse().unwrap_or(0)
        }
        Value::Bool(true) => 1,
        _ => 0,
    }
}

fn role_state(r: &Value) -> i64 {
    int(&r["state"])
}

fn set_role_state(r: &mut Value, s: i64) {
    r["state"] = json!(s);
    if s == st::SCALING
        && let Some(Value::Array(ps)) = r.get_mut("elasticity_policies")
    {
        for p in ps {
            if let Value::Object(m) = p {
                m.remove("true_evals");
            }
        }
    }
}

fn role_name(r: &Value) -> String {
    r["name"].as_str().unwrap_or_default().to_owned()
}

fn nodes(r: &Value) -> Vec<Value> {
    r["nodes"].as_array().cloned().unwrap_or_default()
}

fn node_ids(r: &Value) -> Vec<i64> {
    nodes(r).iter().map(|n| int(&n["deploy_id"])).collect()
}

fn parents(r: &Value) -> Vec<String> {
    r["parents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// What OneFlow sees of a VM.
#[derive(Debug, Clone)]
struct VmSeen {
    state: i64,
    lcm: i64,
    hash: Value,
}

impl VmSeen {
    fn running(&self) -> bool {
        self.state == 3 && self.lcm == 3
    }
    fn failed(&self) -> bool {
        self.state == 3 && VM_FAILURE_LCM.contains(&self.lcm)
    }
    /// States the deploy wait gives up on (`SUBSCRIBE_STATES` + DONE).
    fn gave_up(&self) -> bool {
        self.failed() || matches!(self.state, 4 | 5 | 6 | 8 | 9)
    }
    fn done(&self) -> bool {
        self.state == 6
    }
    fn ready(&self) -> bool {
        self.hash
            .pointer("/USER_TEMPLATE/READY")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("YES"))
    }
}

fn perms_from_octet(octet: &str) -> Option<[i64; 9]> {
    let d: Vec<i64> = octet
        .trim()
        .chars()
        .map(|c| c.to_digit(8).map(i64::from))
        .collect::<Option<_>>()?;
    if d.len() != 3 {
        return None;
    }
    let mut out = [0; 9];
    for (i, digit) in d.iter().enumerate() {
        out[i * 3] = (digit >> 2) & 1;
        out[i * 3 + 1] = (digit >> 1) & 1;
        out[i * 3 + 2] = digit & 1;
    }
    Some(out)
}

impl Flow {
    pub(crate) fn new(rpc: Rpc, admin: String, conf: Conf, frozen_clock: bool) -> Self {
        Flow {
            rpc,
            admin,
            conf,
            clock: Clock::new(frozen_clock),
            mem: Mutex::new(Mem::default()),
        }
    }

    fn mem(&self) -> MutexGuard<'_, Mem> {
        self.mem
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Checks HTTP basic credentials as OneFlow does (`one.user.info(-1)` with them); the
    /// oned session.
    pub(crate) fn authenticate(&self, user: &str, password: &str) -> Res<String> {
        let session = format!("{user}:{password}");
        match self
            .rpc
            .call(&session, "one.user.info", &[A::I(-1), A::B(false)])
        {
            Ok(_) => Ok(session),
            Err(_) => err(401, "Invalid credentials"),
        }
    }

    // ---------------------------------------------------------------- documents

    fn info(&self, session: &str, id: i64, doc_type: i64) -> Res<Doc> {
        let xml = self
            .rpc
            .call(session, "one.document.info", &[A::I(id), A::B(false)])?;
        let d = doc::document(&xml).map_err(|e| HttpErr {
            status: 500,
            msg: e,
        })?;
        if int(&d["TYPE"]) != doc_type {
            return general(format!("[DocumentInfo] Error getting document [{id}]."));
        }
        Ok(Doc::from_doc(id, d))
    }

    fn save(&self, session: &str, d: &Doc) -> Res<()> {
        let xml = doc::template_xml(&Value::Object(d.body.clone()), None);
        self.rpc.call(
            session,
            "one.document.update",
            &[A::I(d.id), A::S(&xml), A::I(0)],
        )?;
        Ok(())
    }

    fn pool(&self, session: &str, doc_type: i64) -> Res<Vec<Value>> {
        let xml = self.rpc.call(
            session,
            "one.documentpool.info",
            &[A::I(-2), A::I(-1), A::I(-1), A::I(doc_type)],
        )?;
        doc::pool(&xml).map_err(|e| HttpErr {
            status: 500,
            msg: e,
        })
    }

    fn owner_session(&self, id: i64) -> String {
        self.mem()
            .sessions
            .get(&id)
            .cloned()
            .unwrap_or_else(|| self.admin.clone())
    }

    fn vm(&self, id: i64) -> Option<VmSeen> {
        let xml = self
            .rpc
            .call(&self.admin, "one.vm.info", &[A::I(id), A::B(false)])
            .ok()?;
        let mut h = doc::xml_value(&xml).ok()?;
        let vm = h.get_mut("VM").map(Value::take)?;
        Some(VmSeen {
            state: int(&vm["STATE"]),
            lcm: int(&vm["LCM_STATE"]),
            hash: vm,
        })
    }

    // ---------------------------------------------------------------- templates

    /// `GET /service_template`.
    pub(crate) fn template_list(&self, session: &str) -> Res<Value> {
        Ok(doc::pool_json(self.pool(session, 101)?))
    }

    /// `GET /service_template/:id`.
    pub(crate) fn template_show(&self, session: &str, id: i64) -> Res<Value> {
        Ok(json!({"DOCUMENT": self.info(session, id, 101)?.rendered()}))
    }

    /// `POST /service_template`.
    pub(crate) fn template_create(&self, session: &str, text: &str) -> Res<Value> {
        let mut t: Value = serde_json::from_str(text).map_err(|e| HttpErr {
            status: 400,
            msg: e.to_string(),
        })?;
        validate(&mut t).map_err(|m| HttpErr {
            status: 400,
            msg: m,
        })?;
        t["registration_time"] = json!(self.now());
        let name = t["name"].as_str().unwrap_or_default().to_owned();
        let xml = doc::template_xml(&t, Some(&name));
        let id = self
            .rpc
            .call_int(session, "one.document.allocate", &[A::S(&xml), A::I(101)])?;
        self.template_show(session, id)
    }

    /// `PUT /service_template/:id`.
    pub(crate) fn template_update(&self, session: &str, id: i64, text: &str) -> Res<Value> {
        let mut d = self.info(session, id, 101)?;
        let mut t: Value = serde_json::from_str(text).map_err(|e| HttpErr {
            status: 400,
            msg: e.to_string(),
        })?;
        self.template_replace(session, &mut d, &mut t, false)?;
        self.template_show(session, id)
    }

    fn template_replace(&self, session: &str, d: &mut Doc, t: &mut Value, append: bool) -> Res<()> {
        let current = Value::Object(d.body.clone());
        if !t.is_object() {
            return err(400, "The template must be a JSON object");
        }
        let reg = "registration_time";
        if append {
            if !t[reg].is_null() {
                return general(format!(
                    "Immutable value: `service_template/{reg}` can not be changed"
                ));
            }
            let mut merged = current.clone();
            if let (Value::Object(m), Value::Object(o)) = (&mut merged, &*t) {
                for (k, v) in o {
                    m.insert(k.clone(), v.clone());
                }
            }
            *t = merged;
        } else {
            if t[reg].is_null() {
                t[reg] = current[reg].clone();
            }
            if t[reg] != current[reg] {
                return general(format!(
                    "Immutable value: `service_template/{reg}` can not be changed"
                ));
            }
        }
        validate(t).map_err(|m| HttpErr {
            status: 400,
            msg: m,
        })?;
        d.body = t.as_object().cloned().unwrap_or_default();
        self.save(session, d)
    }

    /// `DELETE /service_template/:id` with `delete_type` none/templates/all.
    pub(crate) fn template_delete(&self, session: &str, id: i64, delete_type: &str) -> Res<()> {
        let d = self.info(session, id, 101)?;
        if matches!(delete_type, "all" | "templates") {
            let mut seen = Vec::new();
            for r in d.roles() {
                let t = int(&r["template_id"]);
                if seen.contains(&t) {
                    continue;
                }
                seen.push(t);
                self.rpc.call(
                    session,
                    "one.template.info",
                    &[A::I(t), A::B(false), A::B(false)],
                )?;
                self.rpc.call(
                    session,
                    "one.template.delete",
                    &[A::I(t), A::B(delete_type == "all")],
                )?;
            }
        }
        self.rpc.call(session, "one.document.delete", &[A::I(id)])?;
        Ok(())
    }

    /// `POST /service_template/:id/action`: the status and body.
    pub(crate) fn template_action(&self, session: &str, id: i64, text: &str) -> Res<(u16, String)> {
        let v: Value = serde_json::from_str(text).map_err(|e| HttpErr {
            status: 500,
            msg: json!({"message": "Internal server error", "reason": e.to_string()}).to_string(),
        })?;
        let action = &v["action"];
        let opts = action.get("params").cloned().unwrap_or_else(|| json!({}));
        let opts = if opts.is_null() { json!({}) } else { opts };
        let perform = action["perform"].as_str().unwrap_or_default();
        match perform {
            "instantiate" => {
                let svc = self.instantiate(session, id, &opts)?;
                Ok((201, pretty(&json!({"DOCUMENT": svc.rendered()}))))
            }
            "chown" => {
                if opts["owner_id"].is_null() {
                    return Ok((200, String::new()));
                }
                // The server sends `group_id.to_i` (0 when absent) and does not look at the
                // outcome: the answer is 204 whatever oned says.
                let _ = self.rpc.call(
                    session,
                    "one.document.chown",
                    &[
                        A::I(id),
                        A::I(int(&opts["owner_id"])),
                        A::I(int(&opts["group_id"])),
                    ],
                );
                Ok((204, String::new()))
            }
            "chgrp" => {
                if opts["group_id"].is_null() {
                    return Ok((200, String::new()));
                }
                let _ = self.rpc.call(
                    session,
                    "one.document.chown",
                    &[A::I(id), A::I(-1), A::I(int(&opts["group_id"]))],
                );
                Ok((204, String::new()))
            }
            "chmod" => {
                let Some(octet) = opts["octet"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| opts["octet"].as_i64().map(|n| n.to_string()))
                else {
                    return Ok((200, String::new()));
                };
                if let Some(p) = perms_from_octet(&octet) {
                    let mut args = vec![A::I(id)];
                    args.extend(p.iter().map(|b| A::I(*b)));
                    let _ = self.rpc.call(session, "one.document.chmod", &args);
                }
                Ok((204, String::new()))
            }
            "rename" => {
                let name = opts["name"].as_str().unwrap_or_default();
                let _ = self
                    .rpc
                    .call(session, "one.document.rename", &[A::I(id), A::S(name)]);
                Ok((204, String::new()))
            }
            "update" => {
                let append = opts["append"] == json!(true);
                let Some(tj) = opts.get("template_json") else {
                    return Ok((200, String::new()));
                };
                let mut t: Value = match tj {
                    Value::String(s) => serde_json::from_str(s).map_err(|e| HttpErr {
                        status: 400,
                        msg: e.to_string(),
                    })?,
                    other => other.clone(),
                };
                let mut d = self.info(session, id, 101)?;
                self.template_replace(session, &mut d, &mut t, append)?;
                Ok((204, String::new()))
            }
            "clone" => {
                let name = opts["name"].as_str().unwrap_or_default().to_owned();
                let mode = match &opts["recursive"] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                let new_id = self.clone_template(session, id, &name, &mode)?;
                let shown = self.info(session, new_id, 101).map_err(|e| HttpErr {
                    status: 500,
                    msg: e.msg,
                })?;
                Ok((201, pretty(&json!({"DOCUMENT": shown.rendered()}))))
            }
            _ => Ok((200, String::new())),
        }
    }

    fn clone_template(&self, session: &str, id: i64, name: &str, mode: &str) -> Res<i64> {
        self.info(session, id, 101)?;
        let general_err = |e: OneError| HttpErr {
            status: 500,
            msg: e.msg,
        };
        let new_id = self
            .rpc
            .call_int(session, "one.document.clone", &[A::I(id), A::S(name)])
            .map_err(general_err)?;
        let mut d = self.info(session, new_id, 101)?;
        d.body_mut()
            .insert("registration_time".into(), json!(self.now()));
        if mode != "none" {
            let mut cloned: HashMap<i64, i64> = HashMap::new();
            let roles = d.roles();
            let mut new_roles = Vec::new();
            for mut r in roles {
                let t = int(&r["template_id"]);
                let nt = match cloned.get(&t) {
                    Some(n) => *n,
                    None => {
                        let txml = self
                            .rpc
                            .call(
                                session,
                                "one.template.info",
                                &[A::I(t), A::B(false), A::B(false)],
                            )
                            .map_err(general_err)?;
                        let tname = doc::xml_value(&txml)
                            .ok()
                            .and_then(|h| {
                                h.pointer("/VMTEMPLATE/NAME")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned)
                            })
                            .unwrap_or_default();
                        let n = self
                            .rpc
                            .call_int(
                                session,
                                "one.template.clone",
                                &[
                                    A::I(t),
                                    A::S(&format!("{tname}-{name}")),
                                    A::B(mode == "all"),
                                ],
                            )
                            .map_err(general_err)?;
                        cloned.insert(t, n);
                        n
                    }
                };
                r["template_id"] = json!(nt);
                new_roles.push(r);
            }
            *d.roles_mut() = new_roles;
        }
        self.save(session, &d)?;
        Ok(new_id)
    }

    fn instantiate(&self, session: &str, id: i64, opts: &Value) -> Res<Doc> {
        let t = self.info(session, id, 101)?;
        let mut body = Value::Object(t.body.clone());
        let mut merge = opts
            .get("merge_template")
            .cloned()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        if let Some(v) = merge
            .as_object_mut()
            .and_then(|m| m.remove("custom_attrs_values"))
        {
            merge["user_inputs_values"] = v;
        }
        check_user_inputs(&body["user_inputs"], &merge["user_inputs_values"]).map_err(|m| {
            HttpErr {
                status: 400,
                msg: m,
            }
        })?;
        for role in body["roles"].as_array().cloned().unwrap_or_default() {
            if !role.get("template_contents").is_none_or(Value::is_object) {
                return err(
                    400,
                    format!(
                        "Error validating template_contents object for therole {}. The object must be a valid hash.",
                        role_name(&role)
                    ),
                );
            }
            if role["user_inputs"].is_null() {
                continue;
            }
            let Some(mroles) = merge.get("roles") else {
                return err(
                    400,
                    format!(
                        "The Service template specifies user inputs for the role {} but no values have been found",
                        role_name(&role)
                    ),
                );
            };
            let Some(list) = mroles.as_array().filter(|a| !a.is_empty()) else {
                return err(
                    400,
                    "The role user inputs are empty or do not have a valid format",
                );
            };
            if let Some(mr) = list.iter().find(|m| m["name"] == role["name"]) {
                let vals = if mr["user_inputs_values"].is_null() {
                    mr["custom_attrs_values"].clone()
                } else {
                    mr["user_inputs_values"].clone()
                };
                check_user_inputs(&role["user_inputs"], &vals).map_err(|m| HttpErr {
                    status: 400,
                    msg: m,
                })?;
            }
        }
        // Networks: defaults from the template, checks as the server does them.
        let networks = body.get("networks").cloned().filter(|n| !n.is_null());
        if let Some(nets) = &networks {
            let Some(nets) = nets.as_object() else {
                return err(400, "Wrong networks format");
            };
            if merge["networks_values"].is_null() {
                let mut values = Vec::new();
                for (k, v) in nets {
                    let parsed = v.as_str().and_then(|s| s.split('|').nth(4)).map(|s| {
                        s.trim()
                            .splitn(2, ':')
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    });
                    match parsed {
                        Some(kv) if kv.len() == 2 => {
                            values.push(json!({k: {kv[0].clone(): kv[1].clone()}}))
                        }
                        _ => return err(400, "Wrong networks format"),
                    }
                }
                merge["networks_values"] = Value::Array(values);
            }
            let Some(values) = merge["networks_values"].as_array() else {
                return err(400, "Wrong networks_values format");
            };
            if values.iter().any(|v| !v.is_object()) {
                return err(400, "Wrong networks_values format");
            }
            let keys: Vec<&String> = values
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.keys())
                .collect();
            if nets.keys().any(|k| !keys.contains(&k)) {
                return err(
                    400,
                    "Every network key must have its value defined at networks_value",
                );
            }
        }
        // handle_nested_values + deep_merge
        if let Some(mroles) = merge.as_object_mut().and_then(|m| m.remove("roles"))
            && let (Some(list), Some(roles)) = (mroles.as_array(), body["roles"].as_array_mut())
        {
            for r in roles.iter_mut() {
                if let Some(extra) = list.iter().find(|m| m["name"] == r["name"]) {
                    doc::deep_merge(r, extra);
                }
            }
        }
        doc::deep_merge(&mut body, &merge);
        if let Err(m) = validate(&mut body) {
            return general(m);
        }
        body["state"] = json!(st::PENDING);
        if let Some(roles) = body["roles"].as_array_mut() {
            for r in roles {
                if r["state"].is_null() {
                    r["state"] = json!(st::PENDING);
                }
            }
        }
        body["start_time"] = json!(self.now());
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let xml = doc::template_xml(&body, Some(&name));
        let sid = self
            .rpc
            .call_int(session, "one.document.allocate", &[A::S(&xml), A::I(100)])?;
        let svc = self.info(session, sid, 100)?;
        self.mem().sessions.insert(sid, session.to_owned());
        // deploy_nets_action: PENDING -> DEPLOYING_NETS; the background pass goes on.
        let mut s = svc.clone();
        self.deploy_networks(session, &mut s)?;
        let now = self.now();
        s.set_state(st::DEPLOYING_NETS, now);
        self.save(session, &s)?;
        Ok(svc)
    }

    /// Creates the networks asked for with `template_id` or `reserve_from`.
    fn deploy_networks(&self, session: &str, s: &mut Doc) -> Res<()> {
        let sid = s.id;
        let Some(values) = s
            .body_mut()
            .get_mut("networks_values")
            .and_then(Value::as_array_mut)
        else {
            return Ok(());
        };
        let mut values = std::mem::take(values);
        let mut outcome = Ok(());
        for v in &mut values {
            let Some(m) = v.as_object_mut() else { continue };
            for (name, net) in m.iter_mut() {
                if !net["id"].is_null() {
                    continue;
                }
                let extra = net["extra"].as_str().unwrap_or_default().to_owned();
                let vname = format!("{name}-{sid}");
                let r = if !net["template_id"].is_null() {
                    self.rpc.call_int(
                        session,
                        "one.vntemplate.instantiate",
                        &[A::I(int(&net["template_id"])), A::S(&vname), A::S(&extra)],
                    )
                } else if !net["reserve_from"].is_null() {
                    let text = format!("{extra}\nNAME=\"{vname}\"\n");
                    self.rpc.call_int(
                        session,
                        "one.vn.reserve",
                        &[A::I(int(&net["reserve_from"])), A::S(&text)],
                    )
                } else {
                    continue;
                };
                match r {
                    Ok(id) => net["id"] = json!(id.to_string()),
                    Err(e) => {
                        outcome = Err(HttpErr::from(e));
                    }
                }
            }
        }
        s.body_mut()
            .insert("networks_values".into(), Value::Array(values));
        if outcome.is_err() {
            let now = self.now();
            s.set_state(st::FAILED_DEPLOYING, now);
            self.save(session, s)?;
        }
        outcome
    }

    // ---------------------------------------------------------------- services

    /// `GET /service`.
    pub(crate) fn service_list(&self, session: &str) -> Res<Value> {
        let mut docs = self.pool(session, 100)?;
        for d in &mut docs {
            if let Some(Value::Object(b)) = d.pointer_mut("/TEMPLATE/BODY") {
                default_cooldowns(b, self.conf.default_cooldown);
            }
        }
        Ok(doc::pool_json(docs))
    }

    /// `GET /service/:id`.
    pub(crate) fn service_show(&self, session: &str, id: i64) -> Res<Value> {
        let d = self.load(session, id)?;
        Ok(json!({"DOCUMENT": d.rendered()}))
    }

    /// The service document for OneGate (as the server user).
    pub(crate) fn service_for_gate(&self, id: i64) -> Option<Value> {
        self.service_show(&self.admin, id).ok()
    }

    fn load(&self, session: &str, id: i64) -> Res<Doc> {
        let mut d = self.info(session, id, 100)?;
        default_cooldowns(&mut d.body, self.conf.default_cooldown);
        Ok(d)
    }

    /// `DELETE /service/:id` (and `recover` with `delete`).
    pub(crate) fn undeploy(&self, session: &str, id: i64, force: bool) -> Res<()> {
        let mut s = self.load(session, id)?;
        let state = s.state();
        let transient = matches!(
            state,
            st::DEPLOYING | st::SCALING | st::COOLDOWN | st::DEPLOYING_NETS | st::UNDEPLOYING_NETS
        );
        let failed = matches!(
            state,
            st::FAILED_DEPLOYING
                | st::FAILED_UNDEPLOYING
                | st::FAILED_SCALING
                | st::FAILED_DEPLOYING_NETS
                | st::FAILED_UNDEPLOYING_NETS
        );
        if !force && (transient || state == st::DONE || failed) {
            return general(format!(
                "Service cannot be undeployed in state: {}",
                s.state_str()
            ));
        }
        let roles = roles_shutdown(&s);
        if roles.is_empty() {
            self.rpc.call(session, "one.document.delete", &[A::I(id)])?;
            return Ok(());
        }
        let now = self.now();
        let ok = self.undeploy_roles(
            &mut s,
            &roles,
            st::UNDEPLOYING,
            st::FAILED_UNDEPLOYING,
            false,
        );
        s.set_state(
            if ok {
                st::UNDEPLOYING
            } else {
                st::FAILED_UNDEPLOYING
            },
            now,
        );
        self.save(session, &s)
    }

    /// Terminates the nodes of `roles` (the extra ones when scaling down); marks them
    /// `disposed` until they are DONE.
    fn undeploy_roles(
        &self,
        s: &mut Doc,
        roles: &[String],
        ok: i64,
        bad: i64,
        recover: bool,
    ) -> bool {
        let action = s
            .get("shutdown_action")
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| self.conf.shutdown_action.clone());
        let now = self.now();
        let mut all = true;
        let mut logs = Vec::new();
        for name in roles {
            let Some(r) = s.role_mut(name) else { continue };
            let action = r["shutdown_action"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| action.clone());
            let card = usize::try_from(int(&r["cardinality"])).unwrap_or(0);
            let mut ns = nodes(r);
            let live: Vec<usize> = (0..ns.len())
                .filter(|i| !truthy(&ns[*i]["disposed"]) || recover)
                .collect();
            let n = if ns.len() != card {
                ns.len().saturating_sub(card)
            } else {
                ns.len()
            };
            let mut ok_nodes = 0;
            for &i in live.iter().take(n) {
                let vm = int(&ns[i]["deploy_id"]);
                let failed = recover && self.vm(vm).is_some_and(|v| v.failed());
                let r1 = if failed {
                    self.rpc
                        .call(&self.admin, "one.vm.recover", &[A::I(vm), A::I(2)])
                } else {
                    let a = if action == "terminate-hard" {
                        "terminate-hard"
                    } else {
                        "terminate"
                    };
                    self.rpc
                        .call(&self.admin, "one.vm.action", &[A::S(a), A::I(vm)])
                };
                let done = match r1 {
                    Ok(_) => true,
                    Err(e) => {
                        logs.push(format!(
                            "Role {name} : Terminate failed for VM {vm}, will perform a Delete; {}",
                            e.msg
                        ));
                        self.rpc
                            .call(
                                &self.admin,
                                "one.vm.action",
                                &[A::S("terminate-hard"), A::I(vm)],
                            )
                            .or_else(|_| {
                                self.rpc
                                    .call(&self.admin, "one.vm.recover", &[A::I(vm), A::I(3)])
                            })
                            .is_ok()
                    }
                };
                if done {
                    ns[i]["disposed"] = json!(true);
                    ok_nodes += 1;
                }
            }
            r["nodes"] = Value::Array(ns);
            if ok_nodes == n.min(live.len()) {
                set_role_state(r, ok);
            } else {
                set_role_state(r, bad);
                all = false;
            }
        }
        for l in logs {
            s.log("E", &l, now);
        }
        all
    }

    /// `POST /service/:id/action`: the status.
    pub(crate) fn service_action(&self, session: &str, id: i64, text: &str) -> Res<()> {
        let v: Value = serde_json::from_str(text).map_err(|e| HttpErr {
            status: 500,
            msg: json!({"message": "Internal server error", "reason": e.to_string()}).to_string(),
        })?;
        let action = &v["action"];
        let opts = action.get("params").cloned().unwrap_or(Value::Null);
        let perform = action["perform"].as_str().unwrap_or_default();
        match perform {
            "recover" => {
                if truthy(&opts["delete"]) {
                    self.undeploy(session, id, true)
                } else {
                    self.recover(session, id)
                }
            }
            "chown" => {
                if opts["owner_id"].is_null() {
                    return general("Action chown: You have to specify a UID");
                }
                let gid = if opts["group_id"].is_null() {
                    -1
                } else {
                    int(&opts["group_id"])
                };
                self.chown(session, id, int(&opts["owner_id"]), gid)
            }
            "chgrp" => {
                if opts["group_id"].is_null() {
                    return general("Action chgrp: You have to specify a GID");
                }
                self.chown(session, id, -1, int(&opts["group_id"]))
            }
            "chmod" => {
                let octet = match &opts["octet"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return general("Action chmod: You have to specify an OCTET"),
                };
                self.load(session, id)?;
                let p = perms_from_octet(&octet).ok_or_else(|| HttpErr {
                    status: 500,
                    msg: format!("Wrong permissions octet: {octet}"),
                })?;
                let mut args = vec![A::I(id)];
                args.extend(p.iter().map(|b| A::I(*b)));
                self.rpc.call(session, "one.document.chmod", &args)?;
                Ok(())
            }
            "rename" => {
                let Some(name) = opts["name"].as_str() else {
                    return general("Action rename: You have to specify a name");
                };
                self.load(session, id)?;
                self.rpc
                    .call(session, "one.document.rename", &[A::I(id), A::S(name)])?;
                Ok(())
            }
            "release" => self.release(session, id),
            a if SCHEDULE_ACTIONS.contains(&a) => {
                if !opts.is_object() {
                    return general(
                        json!({"message": "Internal server error", "reason": "undefined method `[]' for nil"})
                            .to_string(),
                    );
                }
                let s = self.load(session, id)?;
                for r in s.roles() {
                    self.batch_action(session, &s, &role_name(&r), a, &opts)?;
                }
                Ok(())
            }
            other => general(format!("Action {other} not supported")),
        }
    }

    fn chown(&self, session: &str, id: i64, uid: i64, gid: i64) -> Res<()> {
        let s = self.load(session, id)?;
        self.rpc.call(
            session,
            "one.document.chown",
            &[A::I(id), A::I(uid), A::I(gid)],
        )?;
        for r in s.roles() {
            for vm in node_ids(&r) {
                self.rpc
                    .call(session, "one.vm.chown", &[A::I(vm), A::I(uid), A::I(gid)])?;
            }
        }
        Ok(())
    }

    /// `POST /service/:id/role/:role/action`.
    pub(crate) fn role_action(&self, session: &str, id: i64, role: &str, text: &str) -> Res<()> {
        let v: Value = serde_json::from_str(text).map_err(|e| HttpErr {
            status: 500,
            msg: json!({"message": "Internal server error", "reason": e.to_string()}).to_string(),
        })?;
        let action = &v["action"];
        let opts = action.get("params").cloned().unwrap_or(Value::Null);
        if !opts.is_object() {
            return general(
                json!({"message": "Internal server error", "reason": "undefined method `[]' for nil"})
                    .to_string(),
            );
        }
        let perform = action["perform"].as_str().unwrap_or_default();
        let s = self.load(session, id)?;
        if !s.roles().iter().any(|r| r["name"].as_str() == Some(role)) {
            return general(format!("Role '{role}' not found"));
        }
        self.batch_action(session, &s, role, perform, &opts)
    }

    /// `Role#batch_action`: a scheduled action on each VM of the role, `number` VMs every
    /// `period` seconds (oned's scheduler runs them).
    fn batch_action(
        &self,
        session: &str,
        s: &Doc,
        role: &str,
        action: &str,
        opts: &Value,
    ) -> Res<()> {
        let Some(r) = s
            .roles()
            .into_iter()
            .find(|r| r["name"].as_str() == Some(role))
        else {
            return general(format!("Role '{role}' not found"));
        };
        if role_state(&r) == st::DONE {
            return general(format!("Role {role} is in DONE state"));
        }
        let period = if opts["period"].is_null() {
            self.conf.action_period
        } else {
            int(&opts["period"])
        };
        let number = if opts["number"].is_null() {
            self.conf.action_number
        } else {
            int(&opts["number"])
        };
        let args = opts["args"].as_str();
        let now = real_now();
        let offsets = period > 0 && number > 0;
        let mut errors = Vec::new();
        for (i, vm) in node_ids(&r).into_iter().enumerate() {
            let off = if offsets {
                (i64::try_from(i).unwrap_or(0) / number) * period
            } else {
                0
            };
            let mut t = format!("SCHED_ACTION = [ACTION = {action},");
            if let Some(a) = args {
                t.push_str(&format!("ARGS = \"{a}\","));
            }
            t.push_str(&format!("TIME = {}]", now + off));
            if let Err(e) = self
                .rpc
                .call(session, "one.vm.schedadd", &[A::I(vm), A::S(&t)])
            {
                errors.push(format!(
                    "Role {role} : VM {vm} error scheduling action; {}",
                    e.msg
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            general(errors.join("\\n"))
        }
    }

    /// `POST /service/:id/scale`.
    pub(crate) fn scale(
        &self,
        session: &str,
        id: i64,
        role: &str,
        cardinality: i64,
        force: bool,
    ) -> Res<()> {
        let mut s = self.load(session, id)?;
        if s.state() != st::RUNNING {
            return general(format!(
                "Service cannot be scaled in state: {}",
                s.state_str()
            ));
        }
        let now = self.now();
        let Some(r) = s.role_mut(role) else {
            return general(format!("Role {role} not found"));
        };
        let current = int(&r["cardinality"]);
        if !force {
            let min = int(&r["min_vms"]);
            if cardinality < min {
                return general(format!(
                    "Can't scale service {id}: Minimum cardinality is {min}"
                ));
            }
            if !r["max_vms"].is_null() && cardinality > int(&r["max_vms"]) {
                return general(format!(
                    "Can't scale service {id}: Maximum cardinality is {}",
                    int(&r["max_vms"])
                ));
            }
        }
        let diff = cardinality - current;
        if diff == 0 {
            return general(format!("Cardinality of {role} is already at {cardinality}"));
        }
        let dir = if diff > 0 { "up" } else { "down" };
        r["cardinality"] = json!(cardinality);
        r["scale_way"] = json!(if diff > 0 { 0 } else { 1 });
        s.log(
            "I",
            &format!("Role {role} scaling {dir} from {current} to {cardinality} nodes"),
            now,
        );
        let owner = self.owner_session(id);
        let ok = if diff > 0 {
            match self.deploy_role(&owner, &mut s, role) {
                Ok(()) => {
                    if let Some(r) = s.role_mut(role) {
                        set_role_state(r, st::SCALING);
                    }
                    true
                }
                Err(m) => {
                    s.log("E", &m, now);
                    if let Some(r) = s.role_mut(role) {
                        set_role_state(r, st::FAILED_SCALING);
                    }
                    false
                }
            }
        } else {
            self.undeploy_roles(
                &mut s,
                &[role.to_owned()],
                st::SCALING,
                st::FAILED_SCALING,
                false,
            )
        };
        s.set_state(if ok { st::SCALING } else { st::FAILED_SCALING }, now);
        self.save(session, &s)
    }

    /// `recover` without `delete`.
    fn recover(&self, session: &str, id: i64) -> Res<()> {
        let mut s = self.load(session, id)?;
        let now = self.now();
        let owner = self.owner_session(id);
        let straight = s.strategy_straight();
        match s.state() {
            st::FAILED_DEPLOYING | st::DEPLOYING | st::PENDING => {
                let roles = s.roles();
                let running: Vec<String> = roles
                    .iter()
                    .filter(|r| role_state(r) == st::RUNNING)
                    .map(role_name)
                    .collect();
                for r in &roles {
                    let rs = role_state(r);
                    let can = match rs {
                        st::PENDING => !straight || parents(r).iter().all(|p| running.contains(p)),
                        st::FAILED_DEPLOYING | st::DEPLOYING => true,
                        _ => false,
                    };
                    if can {
                        let name = role_name(r);
                        self.recover_nodes(&mut s, &name);
                        if let Err(m) = self.deploy_role(&owner, &mut s, &name) {
                            s.log("E", &m, now);
                        }
                        if let Some(r) = s.role_mut(&name) {
                            set_role_state(r, st::DEPLOYING);
                        }
                    }
                }
                s.set_state(st::DEPLOYING, now);
            }
            st::FAILED_UNDEPLOYING | st::UNDEPLOYING | st::FAILED_UNDEPLOYING_NETS => {
                let names: Vec<String> = s
                    .roles()
                    .iter()
                    .filter(|r| matches!(role_state(r), st::FAILED_UNDEPLOYING | st::UNDEPLOYING))
                    .map(role_name)
                    .collect();
                self.undeploy_roles(
                    &mut s,
                    &names,
                    st::UNDEPLOYING,
                    st::FAILED_UNDEPLOYING,
                    true,
                );
                s.set_state(st::UNDEPLOYING, now);
            }
            st::FAILED_SCALING | st::SCALING => {
                for r in s.roles() {
                    if !matches!(role_state(&r), st::FAILED_SCALING | st::SCALING) {
                        continue;
                    }
                    let name = role_name(&r);
                    if int(&r["scale_way"]) == 0 {
                        self.recover_nodes(&mut s, &name);
                        if let Err(m) = self.deploy_role(&owner, &mut s, &name) {
                            s.log("E", &m, now);
                        }
                    } else {
                        self.undeploy_roles(
                            &mut s,
                            std::slice::from_ref(&name),
                            st::SCALING,
                            st::FAILED_SCALING,
                            true,
                        );
                    }
                    if let Some(r) = s.role_mut(&name) {
                        set_role_state(r, st::SCALING);
                    }
                }
                s.set_state(st::SCALING, now);
            }
            st::DEPLOYING_NETS | st::FAILED_DEPLOYING_NETS => {
                s.set_state(st::DEPLOYING_NETS, now);
            }
            st::UNDEPLOYING_NETS => {}
            st::COOLDOWN => {
                let roles = s.roles_mut();
                for r in roles.iter_mut() {
                    set_role_state(r, st::RUNNING);
                }
                s.set_state(st::RUNNING, now);
                self.mem().cooldowns.retain(|(sid, _), _| *sid != id);
            }
            _ => {
                return general(format!(
                    "Service cannot be recovered in state: {}",
                    s.state_str()
                ));
            }
        }
        self.save(session, &s)
    }

    /// `Role#recover_deploy` on existing nodes: failed VMs retried, others resumed, DONE
    /// or vanished ones dropped.
    fn recover_nodes(&self, s: &mut Doc, role: &str) {
        let Some(r) = s.role_mut(role) else { return };
        let mut keep = Vec::new();
        for n in nodes(r) {
            let id = int(&n["deploy_id"]);
            let Some(vm) = self.vm(id) else { continue };
            if vm.done() {
                continue;
            }
            if vm.failed() {
                let _ = self
                    .rpc
                    .call(&self.admin, "one.vm.recover", &[A::I(id), A::I(2)]);
            } else if !vm.running() {
                let _ = self
                    .rpc
                    .call(&self.admin, "one.vm.action", &[A::S("resume"), A::I(id)]);
            }
            keep.push(n);
        }
        r["nodes"] = Value::Array(keep);
    }

    fn release(&self, session: &str, id: i64) -> Res<()> {
        let mut s = self.load(session, id)?;
        let now = self.now();
        let roles = s.roles();
        let straight = s.strategy_straight();
        let running: Vec<String> = roles
            .iter()
            .filter(|r| role_state(r) == st::RUNNING)
            .map(role_name)
            .collect();
        let release: Vec<String> = roles
            .iter()
            .filter(|r| role_state(r) == st::ROLE_HOLD)
            .filter(|r| !straight || parents(r).iter().all(|p| running.contains(p)))
            .map(role_name)
            .collect();
        if release.is_empty() {
            return general("Service has no roles in HOLD");
        }
        for name in &release {
            let Some(r) = s.role_mut(name) else { continue };
            for vm in node_ids(r) {
                let _ = self
                    .rpc
                    .call(&self.admin, "one.vm.action", &[A::S("release"), A::I(vm)]);
            }
            r["on_hold"] = json!(false);
            set_role_state(r, st::DEPLOYING);
        }
        s.body_mut().insert("on_hold".into(), json!(false));
        s.set_state(st::DEPLOYING, now);
        self.save(session, &s)
    }

    /// `Role#deploy`: instantiates the VMs the role lacks (cardinality - nodes).
    fn deploy_role(&self, session: &str, s: &mut Doc, role: &str) -> Result<(), String> {
        let sid = s.id;
        let sname = s.name();
        let service_hold = truthy(s.get("on_hold"));
        let Some(r) = s.role_mut(role) else {
            return Err(format!("Role {role} not found"));
        };
        let live = nodes(r).iter().filter(|n| !truthy(&n["disposed"])).count();
        let want = usize::try_from(int(&r["cardinality"])).unwrap_or(0);
        if live >= want {
            return Ok(());
        }
        let tid = int(&r["template_id"]);
        let mut extra = r
            .get("template_contents")
            .cloned()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        if extra.as_object().is_some_and(|m| !m.is_empty()) {
            let xml = self
                .rpc
                .call(
                    session,
                    "one.template.info",
                    &[A::I(tid), A::B(false), A::B(false)],
                )
                .map_err(|e| {
                    format!(
                        "Error fetching Info to instantiate template {tid} in Role {role}: {}",
                        e.msg
                    )
                })?;
            let mut base = doc::xml_value(&xml)
                .ok()
                .and_then(|mut h| h.pointer_mut("/VMTEMPLATE/TEMPLATE").map(Value::take))
                .unwrap_or_else(|| json!({}));
            doc::deep_merge(&mut base, &extra);
            extra = base;
        }
        extra["SERVICE_ID"] = json!(sid.to_string());
        extra["ROLE_NAME"] = json!(role);
        let raw = doc::to_raw(extra.as_object().unwrap_or(&Map::new()));
        let hold = service_hold || truthy(&r["on_hold"]);
        for _ in live..want {
            let n = int(&r["last_vmname"]);
            let name = self
                .conf
                .vm_name_template
                .replace("$SERVICE_ID", &sid.to_string())
                .replace("$SERVICE_NAME", &sname)
                .replace("$ROLE_NAME", role)
                .replace("$VM_NUMBER", &n.to_string());
            r["last_vmname"] = json!(n + 1);
            let vm = self
                .rpc
                .call_int(
                    session,
                    "one.template.instantiate",
                    &[A::I(tid), A::S(&name), A::B(hold), A::S(&raw), A::B(false)],
                )
                .map_err(|e| {
                    format!(
                        "Error instantiating VM Template {tid} in Role {role}: {}",
                        e.msg
                    )
                })?;
            let info = self.vm(vm).map(|v| {
                let keep = ["ID", "UID", "GID", "UNAME", "GNAME", "NAME"];
                let m: Map<String, Value> = v
                    .hash
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .filter(|(k, _)| keep.contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"VM": m})
            });
            let node = json!({"deploy_id": vm, "vm_info": info.unwrap_or(Value::Null)});
            match r.get_mut("nodes") {
                Some(Value::Array(a)) => a.push(node),
                _ => r["nodes"] = json!([node]),
            }
        }
        if hold {
            r["on_hold"] = json!(true);
        }
        Ok(())
    }

    /// `Service#generate_template_contents`: user inputs into each role's
    /// `template_contents` (and CONTEXT), `$network` NIC ids resolved.
    fn fill_template(s: &mut Doc) {
        let inputs = s.get("user_inputs_values").clone();
        let nets = s
            .get("networks_values")
            .as_array()
            .cloned()
            .unwrap_or_default();
        for r in s.roles_mut() {
            let mut tc = r
                .get("template_contents")
                .cloned()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            if let Some(Value::Array(nics)) = tc.get_mut("NIC") {
                for nic in nics {
                    let Some(net) = nic["NETWORK_ID"]
                        .as_str()
                        .and_then(|s| s.strip_prefix('$'))
                        .map(str::to_owned)
                    else {
                        continue;
                    };
                    if let Some(id) = nets
                        .iter()
                        .find_map(|n| n.get(&net).map(|v| v["id"].clone()))
                    {
                        nic["NETWORK_ID"] = id;
                    }
                }
            }
            let mut vals = if inputs.is_object() {
                inputs.clone()
            } else {
                json!({})
            };
            if r["user_inputs_values"].is_object() {
                doc::deep_merge(&mut vals, &r["user_inputs_values"]);
            }
            if let Some(m) = vals.as_object().filter(|m| !m.is_empty()) {
                if !tc["CONTEXT"].is_object() {
                    tc["CONTEXT"] = json!({});
                }
                for (k, v) in m {
                    tc[k] = v.clone();
                    tc["CONTEXT"][k] = json!(format!("${k}"));
                }
            }
            if tc.as_object().is_some_and(|m| !m.is_empty()) {
                r["template_contents"] = tc;
            }
        }
    }

    /// `deploy_action`.
    fn deploy(&self, s: &mut Doc) {
        let now = self.now();
        let owner = self.owner_session(s.id);
        Self::fill_template(s);
        let roles = roles_deploy(s);
        if roles.is_empty() {
            if s.roles().iter().all(|r| role_state(r) == st::RUNNING) {
                s.set_state(st::RUNNING, now);
            }
            return;
        }
        let service_hold = truthy(s.get("on_hold"));
        let mut ok = true;
        for name in roles {
            let held_parent = s
                .roles()
                .iter()
                .find(|r| r["name"].as_str() == Some(&name))
                .map(parents)
                .unwrap_or_default()
                .iter()
                .any(|p| {
                    s.roles()
                        .iter()
                        .any(|r| r["name"].as_str() == Some(p) && truthy(&r["on_hold"]))
                });
            if held_parent && let Some(r) = s.role_mut(&name) {
                r["on_hold"] = json!(true);
            }
            match self.deploy_role(&owner, s, &name) {
                Ok(()) => {
                    if let Some(r) = s.role_mut(&name) {
                        let hold = truthy(&r["on_hold"]) || service_hold;
                        set_role_state(r, if hold { st::ROLE_HOLD } else { st::DEPLOYING });
                    }
                }
                Err(m) => {
                    s.log("E", &format!("Error deploying role {name}: {m}"), now);
                    if let Some(r) = s.role_mut(&name) {
                        set_role_state(r, st::FAILED_DEPLOYING);
                    }
                    ok = false;
                    break;
                }
            }
        }
        let next = if !ok {
            st::FAILED_DEPLOYING
        } else if service_hold {
            st::HOLD
        } else {
            st::DEPLOYING
        };
        if s.state() != next {
            s.set_state(next, now);
        }
    }

    // ---------------------------------------------------------------- background

    /// One pass of the life-cycle manager, the watchdog and (when due) the autoscaler over
    /// every service. Returns whether anything changed.
    pub(crate) fn tick(&self) -> bool {
        let Ok(docs) = self.pool(&self.admin, 100) else {
            return false;
        };
        let now = self.now();
        let autoscale = {
            let mut m = self.mem();
            let due = m
                .last_autoscale
                .is_none_or(|t| now >= t + self.conf.autoscaler_interval);
            if due {
                m.last_autoscale = Some(now);
            }
            due
        };
        let mut changed = false;
        for d in docs {
            let id = int(&d["ID"]);
            let Ok(mut s) = self.load(&self.admin, id) else {
                continue;
            };
            let before = s.clone();
            let delete = self.advance(&mut s);
            if delete {
                let _ = self
                    .rpc
                    .call(&self.admin, "one.document.delete", &[A::I(id)]);
                self.mem().sessions.remove(&id);
                changed = true;
                continue;
            }
            let wanted = if autoscale && s.state() == st::RUNNING {
                self.autoscale(&mut s)
            } else {
                None
            };
            if s != before {
                changed = true;
                let _ = self.save(&self.admin, &s);
            }
            if let Some((role, card)) = wanted {
                changed = true;
                if let Err(e) = self.scale(&self.admin, id, &role, card, false) {
                    tracing::info!(service = id, %role, error = %e.msg, "OneFlow autoscaler: scaling refused");
                }
            }
        }
        changed
    }

    /// Runs the autoscaler now over every RUNNING service (tests).
    pub(crate) fn autoscale_now(&self) {
        self.mem().last_autoscale = None;
        self.tick();
    }

    /// The state machine of one service; `true` when its document is to be deleted.
    fn advance(&self, s: &mut Doc) -> bool {
        let now = self.now();
        let id = s.id;
        match s.state() {
            st::PENDING => {}
            st::DEPLOYING_NETS => {
                // The networks were created at instantiation (or recovery): deploy.
                self.deploy(s);
                return false;
            }
            st::UNDEPLOYING_NETS => return true,
            _ => {}
        }
        let report = truthy(s.get("ready_status_gate"));
        let names: Vec<String> = s.roles().iter().map(role_name).collect();
        let mut redeploy = false;
        let mut reshutdown = false;
        for name in &names {
            let Some(r) = s
                .roles()
                .into_iter()
                .find(|r| r["name"].as_str() == Some(name))
            else {
                continue;
            };
            let rs = role_state(&r);
            let seen: Vec<(Value, Option<VmSeen>)> = nodes(&r)
                .into_iter()
                .map(|n| {
                    let v = self.vm(int(&n["deploy_id"]));
                    (n, v)
                })
                .collect();
            let scale_up = int(&r["scale_way"]) == 0 && !r["scale_way"].is_null();
            match rs {
                st::DEPLOYING | st::SCALING if rs == st::DEPLOYING || scale_up => {
                    let live: Vec<&(Value, Option<VmSeen>)> = seen
                        .iter()
                        .filter(|(n, _)| !truthy(&n["disposed"]))
                        .collect();
                    if live
                        .iter()
                        .any(|(_, v)| v.as_ref().is_none_or(VmSeen::gave_up))
                    {
                        let failed = if rs == st::DEPLOYING {
                            st::FAILED_DEPLOYING
                        } else {
                            st::FAILED_SCALING
                        };
                        if let Some(r) = s.role_mut(name) {
                            set_role_state(r, failed);
                        }
                        s.log(
                            "E",
                            &format!("Role {name} : a VM failed to reach RUNNING"),
                            now,
                        );
                        s.set_state(failed, now);
                        self.mem().cooldowns.retain(|(sid, _), _| *sid != id);
                        return false;
                    }
                    let all = live.iter().all(|(_, v)| {
                        v.as_ref()
                            .is_some_and(|v| v.running() && (!report || v.ready()))
                    });
                    if all {
                        if rs == st::DEPLOYING {
                            if let Some(r) = s.role_mut(name) {
                                set_role_state(r, st::RUNNING);
                            }
                            redeploy = true;
                        } else {
                            self.start_cooldown(s, name);
                        }
                    }
                }
                st::SCALING | st::UNDEPLOYING => {
                    let disposed: Vec<&(Value, Option<VmSeen>)> = seen
                        .iter()
                        .filter(|(n, _)| truthy(&n["disposed"]) || rs == st::UNDEPLOYING)
                        .collect();
                    if disposed
                        .iter()
                        .any(|(_, v)| v.as_ref().is_some_and(|v| v.failed()))
                    {
                        let failed = if rs == st::SCALING {
                            st::FAILED_SCALING
                        } else {
                            st::FAILED_UNDEPLOYING
                        };
                        if let Some(r) = s.role_mut(name) {
                            set_role_state(r, failed);
                        }
                        s.set_state(failed, now);
                        return false;
                    }
                    if disposed
                        .iter()
                        .all(|(_, v)| v.as_ref().is_none_or(VmSeen::done))
                    {
                        if let Some(r) = s.role_mut(name) {
                            let keep: Vec<Value> = nodes(r)
                                .into_iter()
                                .filter(|n| !truthy(&n["disposed"]) && rs != st::UNDEPLOYING)
                                .collect();
                            r["nodes"] = Value::Array(keep);
                            if rs == st::UNDEPLOYING {
                                set_role_state(r, st::DONE);
                            }
                        }
                        if rs == st::UNDEPLOYING {
                            reshutdown = true;
                        } else {
                            self.start_cooldown(s, name);
                        }
                    }
                }
                st::COOLDOWN => {
                    let end = self.mem().cooldowns.get(&(id, name.clone())).copied();
                    if end.is_none_or(|e| now >= e) {
                        self.mem().cooldowns.remove(&(id, name.clone()));
                        if let Some(r) = s.role_mut(name) {
                            set_role_state(r, st::RUNNING);
                        }
                        s.set_state(st::RUNNING, now);
                    }
                }
                st::RUNNING | st::WARNING => {
                    if !matches!(s.state(), st::RUNNING | st::WARNING) {
                        continue;
                    }
                    // The watchdog.
                    let mut warn = false;
                    let mut gone = Vec::new();
                    for (n, v) in &seen {
                        match v {
                            None => gone.push(int(&n["deploy_id"])),
                            Some(v) if v.done() => gone.push(int(&n["deploy_id"])),
                            Some(v) if v.failed() || v.lcm == 16 => warn = true,
                            _ => {}
                        }
                    }
                    if let Some(r) = s.role_mut(name) {
                        if !gone.is_empty() {
                            let card =
                                int(&r["cardinality"]) - i64::try_from(gone.len()).unwrap_or(0);
                            r["cardinality"] = json!(card.max(0));
                            let keep: Vec<Value> = nodes(r)
                                .into_iter()
                                .filter(|n| !gone.contains(&int(&n["deploy_id"])))
                                .collect();
                            r["nodes"] = Value::Array(keep);
                        }
                        if warn && rs != st::WARNING {
                            set_role_state(r, st::WARNING);
                        } else if !warn && rs == st::WARNING {
                            set_role_state(r, st::RUNNING);
                        }
                    }
                    let any_warn = s.roles().iter().any(|r| role_state(r) == st::WARNING);
                    if any_warn && s.state() != st::WARNING {
                        s.set_state(st::WARNING, now);
                    } else if !any_warn && s.state() == st::WARNING {
                        s.set_state(st::RUNNING, now);
                    }
                }
                _ => {}
            }
        }
        if redeploy && s.state() == st::DEPLOYING {
            if s.roles().iter().all(|r| role_state(r) == st::RUNNING) {
                s.set_state(st::RUNNING, now);
            } else if s.strategy_straight() {
                self.deploy(s);
            }
        }
        if reshutdown && s.state() == st::UNDEPLOYING {
            if s.roles().iter().all(|r| role_state(r) == st::DONE) {
                return true;
            }
            if s.strategy_straight() {
                let next = roles_shutdown(s);
                self.undeploy_roles(s, &next, st::UNDEPLOYING, st::FAILED_UNDEPLOYING, false);
            }
        }
        false
    }

    fn start_cooldown(&self, s: &mut Doc, role: &str) {
        let now = self.now();
        let id = s.id;
        let Some(r) = s.role_mut(role) else { return };
        let cd = if r["cooldown"].is_null() {
            self.conf.default_cooldown
        } else {
            int(&r["cooldown"])
        };
        set_role_state(r, st::COOLDOWN);
        if let Value::Object(m) = r {
            m.remove("scale_way");
        }
        self.mem().cooldowns.insert((id, role.to_owned()), now + cd);
        s.set_state(st::COOLDOWN, now);
    }

    /// Evaluates every role's policies (`Role#scale?`), recording the evaluation in the
    /// policies; the first role to scale and its new cardinality.
    fn autoscale(&self, s: &mut Doc) -> Option<(String, i64)> {
        let now = self.now();
        let default_cd = self.conf.default_cooldown;
        let names: Vec<String> = s.roles().iter().map(role_name).collect();
        for name in names {
            let Some(r) = s
                .roles()
                .into_iter()
                .find(|r| r["name"].as_str() == Some(&name))
            else {
                continue;
            };
            if r["type"].as_str().is_some_and(|t| t != "vm") {
                continue;
            }
            let lookups: Vec<VmSeen> = node_ids(&r)
                .into_iter()
                .filter_map(|id| self.vm(id))
                .filter(VmSeen::running)
                .collect();
            let lookup = |att: &str| -> Option<f64> {
                let mut total = 0.0;
                let mut n = 0.0;
                for v in &lookups {
                    let h = &v.hash;
                    let val = ["USER_TEMPLATE", "MONITORING", "TEMPLATE"]
                        .iter()
                        .find_map(|sec| h.get(*sec).and_then(|x| x.get(att)))
                        .or_else(|| h.get(att));
                    if let Some(f) = val.and_then(|x| match x {
                        Value::String(s) => s.trim().parse::<f64>().ok(),
                        Value::Number(n) => n.as_f64(),
                        _ => None,
                    }) {
                        total += f;
                        n += 1.0;
                    }
                }
                (n > 0.0).then(|| total / n)
            };
            let Some(role) = s.role_mut(&name) else {
                continue;
            };
            let card = int(&role["cardinality"]);
            let (diff, cooldown) = scale_decision(role, card, now, &lookup, default_cd);
            if diff != 0 {
                if let Some(cd) = cooldown {
                    role["cooldown"] = json!(cd);
                }
                tracing::info!(service = s.id, role = %name, diff, "OneFlow autoscaler: role needs to scale");
                return Some((name, card + diff));
            }
        }
        None
    }

    /// OneGate's `PUT /service/role/:role` (as the service owner).
    pub(crate) fn gate_scale(&self, id: i64, role: &str, cardinality: i64) -> Result<(), String> {
        let owner = self.owner_session(id);
        self.scale(&owner, id, role, cardinality, false)
            .map_err(|e| e.msg)
    }

    /// Advances OneFlow's clock.
    pub(crate) fn advance_clock(&self, secs: i64) {
        self.clock.advance(secs);
    }
}

/// `VMRole#initialize`: a role without `cooldown` gets the server default.
fn default_cooldowns(body: &mut Map<String, Value>, default: i64) {
    if let Some(Value::Array(roles)) = body.get_mut("roles") {
        for r in roles {
            if r.get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "vm")
                && r.get("cooldown").is_none_or(Value::is_null)
                && r.is_object()
            {
                r["cooldown"] = json!(default);
            }
        }
    }
}

/// `Role#scale?` for one role (`card` VMs now): the change and the cooldown to use.
fn scale_decision(
    role: &mut Value,
    card: i64,
    now: i64,
    lookup: &dyn Fn(&str) -> Option<f64>,
    default_cd: i64,
) -> (i64, Option<i64>) {
    let min = int(&role["min_vms"]);
    let max = int(&role["max_vms"]);
    let role_cd = role.get("cooldown").filter(|c| !c.is_null()).map(int);
    if let Some(Value::Array(ps)) = role.get_mut("scheduled_policies") {
        for p in ps.iter_mut() {
            let last = int(&p["last_eval"]);
            p["last_eval"] = json!(now);
            if last == 0 || p["adjust"].is_null() {
                continue;
            }
            let start = match p["start_time"].as_str().filter(|s| !s.is_empty()) {
                Some(t) => sched::start_time(t),
                None => p["recurrence"]
                    .as_str()
                    .and_then(sched::Cron::parse)
                    .and_then(|c| c.next(last)),
            };
            if let Some(t) = start
                && t > last
                && t <= now
            {
                let new = new_cardinality(p, card, min, max);
                if new != card {
                    let cd = p.get("cooldown").filter(|c| !c.is_null()).map(int);
                    return (new - card, cd);
                }
            }
        }
    }
    if let Some(Value::Array(ps)) = role.get_mut("elasticity_policies") {
        for p in ps.iter_mut() {
            let period = int(&p["period"]);
            let number = int(&p["period_number"]);
            let last = int(&p["last_eval"]);
            if now < last + period {
                continue;
            }
            p["last_eval"] = json!(now);
            let mut new = card;
            let mut evals = 0;
            let (value, text) = match p["expression"].as_str().map(expr::parse) {
                Some(Ok(e)) => expr::eval(&e, lookup),
                Some(Err(m)) => (
                    false,
                    format!(
                        "Parse error. '{}': {m}",
                        p["expression"].as_str().unwrap_or_default()
                    ),
                ),
                None => (false, String::new()),
            };
            if value {
                evals = (int(&p["true_evals"]) + 1).min(number);
                if evals >= number {
                    new = new_cardinality(p, card, min, max);
                }
            }
            p["true_evals"] = json!(evals);
            p["expression_evaluated"] = json!(text);
            if new != card {
                let cd = p
                    .get("cooldown")
                    .filter(|c| !c.is_null())
                    .map(int)
                    .or(role_cd)
                    .unwrap_or(default_cd);
                return (new - card, Some(cd));
            }
        }
    }
    if card < min {
        return (min - card, Some(0));
    }
    (0, None)
}

/// `calculate_new_cardinality`.
fn new_cardinality(p: &Value, card: i64, min: i64, max: i64) -> i64 {
    let adjust = int(&p["adjust"]);
    let upper = card.max(max);
    let new = match p["type"].as_str().map(str::to_ascii_uppercase).as_deref() {
        Some("CHANGE") => card + adjust,
        Some("PERCENTAGE_CHANGE") => {
            let step = int(&p["min_adjust_step"]);
            let change = card as f64 * adjust as f64 / 100.0;
            let sign = if change > 0.0 { 1 } else { -1 };
            let abs = change.abs();
            let abs = if abs < 1.0 { 1 } else { abs as i64 };
            card + sign * abs.max(step)
        }
        Some("CARDINALITY") => adjust,
        _ => return card,
    };
    if adjust > 0 && new > upper {
        upper
    } else if adjust < 0 && new < min {
        min
    } else {
        new
    }
}

/// Roles to deploy now (`Strategy#roles_deploy` / `Straight#roles_deploy`).
fn roles_deploy(s: &Doc) -> Vec<String> {
    let roles = s.roles();
    if s.strategy_straight() {
        let running: Vec<String> = roles
            .iter()
            .filter(|r| role_state(r) == st::RUNNING)
            .map(role_name)
            .collect();
        roles
            .iter()
            .filter(|r| {
                role_state(r) == st::PENDING && parents(r).iter().all(|p| running.contains(p))
            })
            .map(role_name)
            .collect()
    } else {
        roles
            .iter()
            .filter(|r| matches!(role_state(r), st::PENDING | st::SCALING))
            .map(role_name)
            .collect()
    }
}

/// Roles to shut down now: children before parents with `straight`.
fn roles_shutdown(s: &Doc) -> Vec<String> {
    let roles = s.roles();
    let live = |r: &&Value| {
        !matches!(
            role_state(r),
            st::UNDEPLOYING | st::DONE | st::FAILED_UNDEPLOYING
        )
    };
    if s.strategy_straight() {
        let parents_of_live: Vec<String> = roles
            .iter()
            .filter(|r| role_state(r) != st::DONE)
            .flat_map(parents)
            .collect();
        roles
            .iter()
            .filter(live)
            .filter(|r| !parents_of_live.contains(&role_name(r)))
            .map(role_name)
            .collect()
    } else {
        roles.iter().filter(live).map(role_name).collect()
    }
}

fn check_user_inputs(inputs: &Value, values: &Value) -> Result<(), String> {
    let Some(inputs) = inputs.as_object().filter(|m| !m.is_empty()) else {
        if inputs.is_null() || inputs.as_object().is_some_and(Map::is_empty) {
            return Ok(());
        }
        if values.is_null() {
            return Err(
                "The Service template specifies User Inputs but no values have been found".into(),
            );
        }
        return Err("Wrong User Inputs or User Inputs Values format".into());
    };
    if values.is_null() {
        return Err(
            "The Service template specifies User Inputs but no values have been found".into(),
        );
    }
    let Some(values) = values.as_object() else {
        return Err("Wrong User Inputs or User Inputs Values format".into());
    };
    if inputs.keys().any(|k| !values.contains_key(k)) {
        return Err("Verify that every User Input have its corresponding value defined".into());
    }
    Ok(())
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// `ServiceTemplate.validate`: the schema (with defaults) and the value checks, with the
/// server's messages. Old (6.x) role bodies are converted first.
pub(crate) fn validate(t: &mut Value) -> Result<(), String> {
    let Some(m) = t.as_object_mut() else {
        return Err("KeyError: 'name' is required".into());
    };
    convert_old(m);
    let kind = |v: &Value| match v {
        Value::String(_) => "String",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "Float",
        Value::Bool(_) => "Boolean",
        Value::Array(_) => "Array",
        Value::Object(_) => "Hash",
        Value::Null => "NilClass",
    };
    let want = |m: &Map<String, Value>, key: &str, ty: &str, path: &str| -> Result<(), String> {
        match m.get(key) {
            None => Ok(()),
            Some(v) => {
                let ok = match ty {
                    "string" => v.is_string(),
                    "integer" => {
                        v.is_i64() || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok())
                    }
                    "boolean" => v.is_boolean(),
                    "array" => v.is_array(),
                    "object" => v.is_object(),
                    _ => true,
                };
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "KeyError, '{path}{key}' must be a {ty}, not {}",
                        kind(v)
                    ))
                }
            }
        }
    };
    if !m.contains_key("name") {
        return Err("KeyError, 'name' is required".into());
    }
    want(m, "name", "string", "")?;
    if !m.contains_key("deployment") {
        m.insert("deployment".into(), json!("none"));
    }
    if !m
        .get("deployment")
        .and_then(Value::as_str)
        .is_some_and(|d| d == "none" || d == "straight")
    {
        return Err(format!(
            "KeyError, 'deployment' must be one of none, straight, not {}",
            m["deployment"]
        ));
    }
    if !m.contains_key("description") {
        m.insert("description".into(), json!(""));
    }
    for (k, ty) in [
        ("description", "string"),
        ("shutdown_action", "string"),
        ("user_inputs", "object"),
        ("user_inputs_values", "object"),
        ("ready_status_gate", "boolean"),
        ("automatic_deletion", "boolean"),
        ("networks", "object"),
        ("networks_values", "array"),
        ("on_hold", "boolean"),
    ] {
        want(m, k, ty, "")?;
    }
    let Some(roles) = m.get_mut("roles") else {
        return Err("KeyError, 'roles' is required".into());
    };
    let Some(roles) = roles.as_array_mut() else {
        return Err(format!(
            "KeyError, 'roles' must be an array, not {}",
            kind(roles)
        ));
    };
    let mut names: Vec<String> = Vec::new();
    for role in roles.iter_mut() {
        let Some(r) = role.as_object_mut() else {
            return Err("KeyError, 'roles' items must be objects".into());
        };
        let ty = r
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("vm")
            .to_owned();
        if ty != "vm" && ty != "vr" {
            return Err(format!("Unsupported role type \"{ty}\""));
        }
        for key in ["name", "type", "template_id"] {
            if !r.contains_key(key) {
                return Err(format!("KeyError, 'roles/{key}' is required"));
            }
        }
        want(r, "name", "string", "roles/")?;
        let name = r["name"].as_str().unwrap_or_default().to_owned();
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!(
                "KeyError, 'roles/name' must match /^\\w+$/, not \"{name}\""
            ));
        }
        want(r, "template_id", "integer", "roles/")?;
        if !r.contains_key("cardinality") {
            r.insert("cardinality".into(), json!(0));
        }
        for (k, t) in [
            ("cardinality", "integer"),
            ("template_contents", "object"),
            ("user_inputs", "object"),
            ("user_inputs_values", "object"),
            ("parents", "array"),
            ("min_vms", "integer"),
            ("max_vms", "integer"),
            ("cooldown", "integer"),
            ("on_hold", "boolean"),
            ("elasticity_policies", "array"),
            ("scheduled_policies", "array"),
            ("shutdown_action", "string"),
        ] {
            want(r, k, t, "roles/")?;
        }
        for k in ["cardinality", "min_vms", "max_vms", "cooldown"] {
            if r.get(k).is_some_and(|v| int(v) < 0) {
                return Err(format!(
                    "KeyError, 'roles/{k}' must be greater than or equal to 0"
                ));
            }
        }
        if names.contains(&name) {
            return Err(format!("Role name '{name}' is repeated"));
        }
        names.push(name.clone());
        if ty == "vr" {
            let card = int(&r["cardinality"]);
            let floating = r
                .get("template_contents")
                .and_then(|tc| tc.get("NIC"))
                .and_then(Value::as_array)
                .is_some_and(|nics| {
                    nics.iter().any(|n| {
                        n.as_object()
                            .is_some_and(|o| o.keys().any(|k| k.starts_with("FLOATING")))
                    })
                });
            let has_nics = r
                .get("template_contents")
                .and_then(|tc| tc.get("NIC"))
                .is_some_and(Value::is_array);
            if has_nics && card > 1 && !floating {
                return Err(format!(
                    "Role '{name}' with 'cardinality' greather than one must define a floating IP"
                ));
            }
            continue;
        }
        let card = int(&r["cardinality"]);
        if r.get("min_vms").is_some_and(|v| int(v) > card) {
            return Err(format!(
                "Role '{name}' 'cardinality' must be greater than or equal to 'min_vms'"
            ));
        }
        if r.get("max_vms").is_some_and(|v| int(v) < card) {
            return Err(format!(
                "Role '{name}' 'cardinality' must be lower than or equal to 'max_vms'"
            ));
        }
        let has = |k: &str| {
            r.get(k)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        };
        if (has("elasticity_policies") || has("scheduled_policies"))
            && (r.get("min_vms").is_none() || r.get("max_vms").is_none())
        {
            return Err(format!(
                "Role '{name}' with  'elasticity_policies' or 'scheduled_policies'must define both 'min_vms' and 'max_vms'"
            ));
        }
        if let Some(ps) = r.get("elasticity_policies").and_then(Value::as_array) {
            for (i, p) in ps.iter().enumerate() {
                check_policy(p, "roles/elasticity_policies")?;
                let Some(e) = p.get("expression").and_then(Value::as_str) else {
                    return Err(
                        "KeyError, 'roles/elasticity_policies/expression' is required".into(),
                    );
                };
                if e.is_empty() {
                    return Err(format!(
                        "Role '{name}', elasticity policy #{i} 'expression' cannot be empty"
                    ));
                }
                if let Err(m) = expr::parse(e) {
                    return Err(format!(
                        "Role '{name}', elasticity policy #{i} 'expression' parse error: {m}"
                    ));
                }
            }
        }
        if let Some(ps) = r.get("scheduled_policies").and_then(Value::as_array) {
            for (i, p) in ps.iter().enumerate() {
                check_policy(p, "roles/scheduled_policies")?;
                let start = p.get("start_time").filter(|v| !v.is_null());
                let rec = p.get("recurrence").filter(|v| !v.is_null());
                match (start, rec) {
                    (Some(_), Some(_)) => {
                        return Err(format!(
                            "Role '{name}', scheduled policy #{i} must define 'start_time' or 'recurrence', but not both"
                        ));
                    }
                    (Some(s), None) => {
                        if s.as_str().and_then(sched::start_time).is_none() {
                            return Err(format!(
                                "Role '{name}', scheduled policy #{i} 'start_time' is not a valid Time. Try with YYYY-MM-DD hh:mm:ss or 0YYY-MM-DDThh:mm:ssZ"
                            ));
                        }
                    }
                    (None, Some(c)) => {
                        if c.as_str().and_then(sched::Cron::parse).is_none() {
                            return Err(format!(
                                "Role '{name}', scheduled policy #{i} 'recurrence' is not a valid cron expression"
                            ));
                        }
                    }
                    (None, None) => {
                        return Err(format!(
                            "Role '{name}', scheduled policy ##{i} needs to define either 'start_time' or 'recurrence'"
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_policy(p: &Value, path: &str) -> Result<(), String> {
    let Some(m) = p.as_object() else {
        return Err(format!("KeyError, '{path}' items must be objects"));
    };
    match m.get("type").and_then(Value::as_str) {
        None => return Err(format!("KeyError, '{path}/type' is required")),
        Some("CHANGE" | "CARDINALITY" | "PERCENTAGE_CHANGE") => {}
        Some(other) => {
            return Err(format!(
                "KeyError, '{path}/type' must be one of CHANGE, CARDINALITY, PERCENTAGE_CHANGE, not {other}"
            ));
        }
    }
    match m.get("adjust") {
        None => return Err(format!("KeyError, '{path}/adjust' is required")),
        Some(v) if !(v.is_i64() || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok())) => {
            return Err(format!("KeyError, '{path}/adjust' must be an integer"));
        }
        _ => {}
    }
    if m.get("min_adjust_step").is_some_and(|v| int(v) < 1) {
        return Err(format!(
            "KeyError, '{path}/min_adjust_step' must be greater than or equal to 1"
        ));
    }
    Ok(())
}

/// `ServiceTemplate.convert_template` for 6.x bodies (`vm_template`,
/// `vm_template_contents`, `custom_attrs`).
fn convert_old(m: &mut Map<String, Value>) {
    let old = m.get("roles").and_then(Value::as_array).is_some_and(|rs| {
        !rs.is_empty()
            && rs
                .iter()
                .all(|r| r.get("vm_template").is_some() || r.get("vm_template_contents").is_some())
    });
    if !old {
        return;
    }
    if let Some(Value::Array(rs)) = m.get_mut("roles") {
        for r in rs {
            let Some(r) = r.as_object_mut() else { continue };
            if let Some(t) = r.remove("vm_template") {
                r.insert("template_id".into(), json!(int(&t)));
            }
            r.insert("type".into(), json!("vm"));
            if let Some(c) = r.remove("custom_attrs") {
                r.insert("user_inputs".into(), c);
            }
            if let Some(Value::String(text)) = r.remove("vm_template_contents") {
                let mut tc = Map::new();
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        tc.insert(k.trim().to_owned(), json!(v.trim().replace('"', "")));
                    }
                }
                r.insert("template_contents".into(), Value::Object(tc));
            }
        }
    }
    if let Some(c) = m.remove("custom_attrs") {
        m.insert("user_inputs".into(), c);
    }
    if let Some(c) = m.remove("custom_attrs_values") {
        m.insert("user_inputs_values".into(), c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages_are_the_servers() {
        let mut ok = json!({"name": "web", "roles": [{"name": "a", "type": "vm", "template_id": 0, "cardinality": 1}]});
        validate(&mut ok).expect("valid");
        assert_eq!(ok["deployment"], "none");
        let cases = [
            (json!({"roles": []}), "KeyError, 'name' is required"),
            (json!({"name": "x"}), "KeyError, 'roles' is required"),
            (
                json!({"name": "x", "roles": [{"name": "a", "type": "vm", "template_id": 0}, {"name": "a", "type": "vm", "template_id": 0}]}),
                "Role name 'a' is repeated",
            ),
            (
                json!({"name": "x", "roles": [{"name": "a", "type": "vm", "template_id": 0, "cardinality": 1, "min_vms": 2}]}),
                "Role 'a' 'cardinality' must be greater than or equal to 'min_vms'",
            ),
            (
                json!({"name": "x", "roles": [{"name": "a", "type": "vm", "template_id": 0, "elasticity_policies": [{"type": "CHANGE", "adjust": 1, "expression": "CPU >"}], "min_vms": 0, "max_vms": 2}]}),
                "Role 'a', elasticity policy #0 'expression' parse error",
            ),
            (
                json!({"name": "x", "roles": [{"name": "a", "type": "xx", "template_id": 0}]}),
                "Unsupported role type \"xx\"",
            ),
        ];
        for (mut t, want) in cases {
            let e = validate(&mut t).expect_err(want);
            assert!(e.starts_with(want), "{e}");
        }
        let mut old = json!({"name": "x", "roles": [{"name": "a", "vm_template": 3, "vm_template_contents": "A=\"1\""}]});
        validate(&mut old).expect("6.x converted");
        assert_eq!(old["roles"][0]["template_id"], 3);
        assert_eq!(old["roles"][0]["template_contents"]["A"], "1");
    }

    #[test]
    fn cardinality_arithmetic_is_the_servers() {
        let p = |t: &str, adjust: i64, step: Option<i64>| {
            let mut v = json!({"type": t, "adjust": adjust});
            if let Some(s) = step {
                v["min_adjust_step"] = json!(s);
            }
            v
        };
        assert_eq!(new_cardinality(&p("CHANGE", 1, None), 2, 1, 5), 3);
        assert_eq!(new_cardinality(&p("CHANGE", 10, None), 2, 1, 5), 5);
        assert_eq!(new_cardinality(&p("CHANGE", -10, None), 2, 1, 5), 1);
        assert_eq!(new_cardinality(&p("CARDINALITY", 4, None), 2, 1, 5), 4);
        assert_eq!(
            new_cardinality(&p("PERCENTAGE_CHANGE", 10, None), 2, 1, 5),
            3
        );
        assert_eq!(
            new_cardinality(&p("PERCENTAGE_CHANGE", 50, Some(3)), 4, 1, 10),
            7
        );
        assert_eq!(
            new_cardinality(&p("PERCENTAGE_CHANGE", -50, None), 4, 1, 10),
            2
        );
        assert_eq!(perms_from_octet("640"), Some([1, 1, 0, 1, 0, 0, 0, 0, 0]));
        assert_eq!(perms_from_octet("64"), None);
        assert_eq!(int(&json!("12abc")), 12);
        assert_eq!(int(&json!(null)), 0);
    }
}
