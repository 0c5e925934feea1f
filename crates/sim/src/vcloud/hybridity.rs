//! vCloud Air "hybridity" services: ANS edge configs (firewall, NAT, IPsec) and metrics.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::TokenKind;
use super::common::{Ctx, json, nsx_json_error, parse_id, respond};
use super::state::AnsSection;

/// NSX error code used for "edge busy" answers.
pub(crate) const BUSY_CODE: i64 = 10003;

fn authed(ctx: &Ctx<'_>) -> bool {
    let Some(t) = ctx
        .header("x-vcloud-authorization")
        .or_else(|| ctx.bearer())
    else {
        return false;
    };
    ctx.lock()
        .check_token(t, &[TokenKind::Vcd, TokenKind::VcdJwt], ctx.now)
        .is_some()
}

fn unauth() -> Response {
    nsx_json_error(
        StatusCode::UNAUTHORIZED,
        401,
        "Authentication failed: missing, unknown or expired x-vcloud-authorization token.",
    )
}

/// `GET /hybridity/api/gateways/{edge}/{section}/config`.
pub(crate) fn get_config(ctx: &Ctx<'_>, edge: &str, section: &str) -> Response {
    if !authed(ctx) {
        return unauth();
    }
    let Some(sec) = AnsSection::parse(section) else {
        return nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            &format!("Unknown edge service \"{section}\"."),
        );
    };
    let st = ctx.lock();
    let Some(e) = parse_id(edge, "").and_then(|u| st.edges.iter().find(|e| e.id == u)) else {
        return nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            &format!("Edge gateway \"{edge}\" not found."),
        );
    };
    match e.ans.get(&sec) {
        Some(cfg) => json(StatusCode::OK, cfg),
        None => nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            "No configuration for this service.",
        ),
    }
}

/// `PUT /hybridity/api/gateways/{edge}/{section}/config`: replaces the whole config.
///
/// Rejects a body with `version` (400), a busy edge (409, NSX code [`BUSY_CODE`]) and a
/// body whose rule list is missing or not a list of objects (400). Assigns ids to new
/// rules and increments `version`. Answers 204.
pub(crate) fn put_config(ctx: &Ctx<'_>, edge: &str, section: &str) -> Response {
    if !authed(ctx) {
        return unauth();
    }
    let Some(sec) = AnsSection::parse(section) else {
        return nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            &format!("Unknown edge service \"{section}\"."),
        );
    };
    let mut body: Map<String, Value> = match serde_json::from_slice::<Value>(&ctx.body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return nsx_json_error(
                StatusCode::BAD_REQUEST,
                400,
                "The configuration must be a JSON object.",
            );
        }
        Err(e) => {
            return nsx_json_error(
                StatusCode::BAD_REQUEST,
                400,
                &format!("Malformed JSON: {e}"),
            );
        }
    };
    let mut st = ctx.lock();
    let Some(u) = parse_id(edge, "") else {
        return nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            &format!("Edge gateway \"{edge}\" not found."),
        );
    };
    let running = st.edge_task_running(u, ctx.now);
    let Some(e) = st.edges.iter_mut().find(|e| e.id == u) else {
        return nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            &format!("Edge gateway \"{edge}\" not found."),
        );
    };
    if e.busy_for > 0 || running {
        e.busy_for = e.busy_for.saturating_sub(1);
        return nsx_json_error(
            StatusCode::CONFLICT,
            BUSY_CODE,
            &format!(
                "Edge gateway {} is busy completing an operation. Try again later.",
                e.name
            ),
        );
    }
    let current = e
        .ans
        .get(&sec)
        .and_then(|c| c.get("version"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(v) = body.get("version") {
        let msg = match v.as_i64() {
            Some(n) if n < current => format!(
                "Stale configuration version {n}: the current version is {current}. Fetch the configuration again."
            ),
            _ => "The version field is managed by the server and must not be sent.".to_owned(),
        };
        return nsx_json_error(StatusCode::BAD_REQUEST, 400, &msg);
    }
    let (outer, inner) = sec.list_path();
    let Some(list) = body
        .get_mut(outer)
        .and_then(|o| o.get_mut(inner))
        .and_then(Value::as_array_mut)
    else {
        return nsx_json_error(
            StatusCode::BAD_REQUEST,
            400,
            &format!("The configuration must contain the list {outer}.{inner}."),
        );
    };
    for (i, rule) in list.iter_mut().enumerate() {
        let Some(obj) = rule.as_object_mut() else {
            return nsx_json_error(
                StatusCode::BAD_REQUEST,
                400,
                &format!("Entry {i} of {outer}.{inner} is not an object."),
            );
        };
        match sec {
            AnsSection::Firewall | AnsSection::Nat => {
                if !obj.get("ruleId").is_some_and(Value::is_number) {
                    e.next_rule_id += 1;
                    obj.insert("ruleId".into(), json!(e.next_rule_id));
                    obj.insert("ruleTag".into(), json!(e.next_rule_id));
                }
                obj.entry("ruleType").or_insert_with(|| json!("user"));
            }
            AnsSection::Ipsec => {
                if !obj.get("siteId").is_some_and(Value::is_string) {
                    e.next_rule_id += 1;
                    obj.insert(
                        "siteId".into(),
                        json!(format!("ipsecsite-{}", e.next_rule_id)),
                    );
                }
            }
        }
    }
    body.insert("version".into(), json!(current + 1));
    e.ans.insert(sec, Value::Object(body));
    respond(StatusCode::NO_CONTENT, "application/json", "")
}

const METRICS: &[&str] = &[
    "cpu.usage.average",
    "cpu.ready.summation",
    "cpu.idle.summation",
    "mem.usage.average",
    "disk.read.average",
    "net.received.average",
];

fn unit_secs(v: &Value) -> Result<u64, String> {
    let interval = v
        .get("interval")
        .and_then(Value::as_u64)
        .ok_or("interval must be a non-negative integer")?;
    let unit = v
        .get("unit")
        .and_then(Value::as_str)
        .ok_or("unit is missing")?;
    let secs = match unit {
        "HOUR" => 3600,
        "MINUTE" => 60,
        "SECOND" => 1,
        other => return Err(format!("unknown unit {other}; use HOUR, MINUTE or SECOND")),
    };
    Ok(interval.saturating_mul(secs))
}

fn timestamp(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = super::common::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `POST /hybridity/api/metrics/vdc/{uuid}` (`vdc_id`) or `.../vApp/vm-{uuid}` (`vm`).
///
/// Samples every 60 s over the relative interval (24 h kept), rows ordered by VM then
/// time, `?next=` pages of the configured size; the last page has `"next": null`.
pub(crate) fn metrics(ctx: &Ctx<'_>, vdc_id: Option<&str>, vm: Option<&str>) -> Response {
    if !authed(ctx) {
        return unauth();
    }
    let req: Value = match serde_json::from_slice(&ctx.body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return nsx_json_error(
                StatusCode::BAD_REQUEST,
                400,
                "The request must be a JSON object.",
            );
        }
        Err(e) => {
            return nsx_json_error(
                StatusCode::BAD_REQUEST,
                400,
                &format!("Malformed JSON: {e}"),
            );
        }
    };
    let Some(start) = req.get("relativeStartTime") else {
        return nsx_json_error(
            StatusCode::BAD_REQUEST,
            400,
            "relativeStartTime is required.",
        );
    };
    let start = match unit_secs(start) {
        Ok(s) => s,
        Err(e) => {
            return nsx_json_error(
                StatusCode::BAD_REQUEST,
                400,
                &format!("relativeStartTime: {e}."),
            );
        }
    };
    let end = match req.get("relativeEndTime") {
        None | Some(Value::Null) => 0,
        Some(v) => match unit_secs(v) {
            Ok(s) => s,
            Err(e) => {
                return nsx_json_error(
                    StatusCode::BAD_REQUEST,
                    400,
                    &format!("relativeEndTime: {e}."),
                );
            }
        },
    };
    if end >= start {
        return nsx_json_error(
            StatusCode::BAD_REQUEST,
            400,
            "The interval is empty: the end is not after the start.",
        );
    }
    let samples = ((start - end) / 60).clamp(1, 24 * 60);
    let st = ctx.lock();
    let vms: Vec<(String, usize)> = match (vdc_id, vm) {
        (Some(id), _) => {
            let Some(u) = parse_id(id, "") else {
                return nsx_json_error(
                    StatusCode::NOT_FOUND,
                    404,
                    &format!("Unknown vDC \"{id}\"."),
                );
            };
            if st.vdcs.iter().any(|v| v.id == u) {
                st.vms
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.vdc == u)
                    .map(|(i, m)| (m.id.to_string(), i))
                    .collect()
            } else if st.orgs.iter().any(|o| o.id == u) {
                st.vms
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.id.to_string(), i))
                    .collect()
            } else {
                return nsx_json_error(
                    StatusCode::NOT_FOUND,
                    404,
                    &format!("Unknown vDC \"{id}\"."),
                );
            }
        }
        (None, Some(v)) => {
            let Some(u) = v
                .strip_prefix("vm-")
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
            else {
                return nsx_json_error(StatusCode::NOT_FOUND, 404, &format!("Unknown VM \"{v}\"."));
            };
            match st.vms.iter().position(|m| m.id == u) {
                Some(i) => vec![(u.to_string(), i)],
                None => {
                    return nsx_json_error(
                        StatusCode::NOT_FOUND,
                        404,
                        &format!("Unknown VM \"{v}\"."),
                    );
                }
            }
        }
        (None, None) => Vec::new(),
    };
    let epoch = st.metrics_epoch;
    drop(st);
    let total = vms.len() as u64 * samples;
    let offset = match ctx.param("next") {
        None => 0,
        Some(tok) => match decode_next(tok) {
            Some(o) if o < total => o,
            _ => {
                return nsx_json_error(
                    StatusCode::BAD_REQUEST,
                    400,
                    &format!("Invalid next token \"{tok}\"."),
                );
            }
        },
    };
    let page = u64::from(ctx.shared.cfg.metrics_page_size);
    let stop = (offset + page).min(total);
    let mut rows = Vec::new();
    for n in offset..stop {
        let (vm_id, vm_index) = &vms[usize::try_from(n / samples).unwrap_or(0)];
        let k = n % samples;
        let t = epoch
            - i64::try_from(end).unwrap_or(0)
            - i64::try_from((samples - k) * 60).unwrap_or(0)
            + 60;
        let seed = (*vm_index as u64) * 7 + k * 3;
        let metrics: Vec<Value> = METRICS
            .iter()
            .filter(|m| !(vm_index % 3 == 2 && **m == "cpu.idle.summation"))
            .map(|m| {
                let value = match *m {
                    "cpu.usage.average" => json!((seed % 100) as f64 + 0.25),
                    "cpu.ready.summation" => json!(seed % 1000),
                    "cpu.idle.summation" => json!(19_000 + seed % 500),
                    "mem.usage.average" => json!((seed % 80) as f64 + 0.5),
                    "disk.read.average" => json!(seed % 50),
                    _ => json!(seed % 20),
                };
                json!({"name": m, "value": value})
            })
            .collect();
        rows.push(json!({"vmId": vm_id, "timestamp": timestamp(t), "metrics": metrics}));
    }
    let next = if stop < total {
        json!(encode_next(stop))
    } else {
        Value::Null
    };
    json(StatusCode::OK, &json!({"next": next, "rows": rows}))
}

fn encode_next(offset: u64) -> String {
    format!("n{:x}", offset ^ 0x5eed)
}

fn decode_next(tok: &str) -> Option<u64> {
    let hex = tok.strip_prefix('n')?;
    u64::from_str_radix(hex, 16).ok().map(|v| v ^ 0x5eed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tokens_round_trip() {
        for o in [0, 1, 100, 12_345] {
            assert_eq!(decode_next(&encode_next(o)), Some(o));
        }
        assert_eq!(decode_next("garbage"), None);
        assert_eq!(decode_next("nzz"), None);
    }

    #[test]
    fn units() {
        assert_eq!(unit_secs(&json!({"interval": 2, "unit": "HOUR"})), Ok(7200));
        assert!(unit_secs(&json!({"interval": 2, "unit": "DAY"})).is_err());
        assert!(unit_secs(&json!({"interval": "x", "unit": "HOUR"})).is_err());
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
