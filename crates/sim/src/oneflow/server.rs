//! The OneFlow REST routes (`src/flow/oneflow-server.rb`), with the server's status
//! codes and plain-text error bodies.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::Value;

use super::Shared;
use super::lcm::{HttpErr, Res, err, int};

/// Every answer: Sinatra's default content type (OneFlow sets none).
fn reply(status: u16, body: String) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [("Content-Type", "text/html;charset=utf-8")],
        if code == StatusCode::NO_CONTENT {
            String::new()
        } else {
            body
        },
    )
        .into_response()
}

fn json_body(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn basic(headers: &HeaderMap) -> Res<(String, String)> {
    let none = || HttpErr {
        status: 401,
        msg: "A username and password must be provided".into(),
    };
    let h = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(none)?;
    let (scheme, b64) = h.trim().split_once(' ').ok_or_else(none)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(none());
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| none())?;
    let text = String::from_utf8(raw).map_err(|_| none())?;
    let (u, p) = text.split_once(':').ok_or_else(none)?;
    Ok((u.to_owned(), p.to_owned()))
}

fn id_of(s: &str) -> i64 {
    // Ruby's `to_i` of the path segment, as `Document.new_with_id` reads it
    int(&Value::String(s.to_owned()))
}

fn parse_json(body: &[u8]) -> Res<Value> {
    serde_json::from_slice(body).map_err(|e| HttpErr {
        status: 500,
        msg: serde_json::json!({"message": "Internal server error", "reason": e.to_string()})
            .to_string(),
    })
}

/// The single handler: authentication first (as the `before` filter), then the route.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared2 = shared.clone();
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let result = tokio::task::spawn_blocking(move || {
        let _serial = shared2.serial();
        route(&shared2, &method, &path, &query, &headers, &body)
    })
    .await;
    match result {
        Ok(Ok((status, body))) => reply(status, body),
        Ok(Err(e)) => {
            tracing::info!(status = e.status, message = %e.msg, "OneFlow simulator error");
            reply(e.status, e.msg)
        }
        Err(e) => reply(
            500,
            serde_json::json!({"message": "Internal server error", "reason": e.to_string()})
                .to_string(),
        ),
    }
}

fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    _query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Res<(u16, String)> {
    let flow = &shared.flow;
    let (user, pass) = basic(headers)?;
    let session = flow.authenticate(&user, &pass)?;
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let text = String::from_utf8_lossy(body).into_owned();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["service"]) => Ok((200, json_body(&flow.service_list(&session)?))),
        ("GET", ["service", id]) => Ok((200, json_body(&flow.service_show(&session, id_of(id))?))),
        ("DELETE", ["service", id]) => {
            flow.undeploy(&session, id_of(id), false)?;
            Ok((204, String::new()))
        }
        ("POST", ["service", id, "action"]) => {
            flow.service_action(&session, id_of(id), &text)?;
            Ok((204, String::new()))
        }
        ("POST", ["service", id, "scale"]) => {
            let v = parse_json(body)?;
            let role = v["role_name"].as_str().unwrap_or_default().to_owned();
            let force = matches!(v["force"], Value::Bool(true))
                || v["force"].as_str().is_some_and(|s| s == "true");
            flow.scale(&session, id_of(id), &role, int(&v["cardinality"]), force)?;
            Ok((204, String::new()))
        }
        ("POST", ["service", id, "role", role, "action"]) => {
            let role = percent_decode(role);
            flow.role_action(&session, id_of(id), &role, &text)?;
            Ok((204, String::new()))
        }
        ("POST", ["service_pool", "purge_done"]) => {
            flow.service_list(&session)?;
            Ok((204, String::new()))
        }
        ("GET", ["service_template"]) => Ok((200, json_body(&flow.template_list(&session)?))),
        ("GET", ["service_template", id]) => {
            Ok((200, json_body(&flow.template_show(&session, id_of(id))?)))
        }
        ("POST", ["service_template"]) => {
            Ok((201, json_body(&flow.template_create(&session, &text)?)))
        }
        ("PUT", ["service_template", id]) => Ok((
            200,
            json_body(&flow.template_update(&session, id_of(id), &text)?),
        )),
        ("DELETE", ["service_template", id]) => {
            let delete_type = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v["delete_type"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "none".into());
            flow.template_delete(&session, id_of(id), &delete_type)?;
            Ok((204, String::new()))
        }
        ("POST", ["service_template", id, "action"]) => {
            flow.template_action(&session, id_of(id), &text)
        }
        _ => err(404, "<h1>Not Found</h1>"),
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}
