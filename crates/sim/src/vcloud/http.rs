//! The HTTP layer: one catch-all handler that strips the URL prefixes, counts requests,
//! negotiates versions, and dispatches by method and path.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State as AxState};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use uuid::Uuid;

use super::state::{State, Token};
use super::xml::{NS_VCLOUD, esc};
use super::{Config, TokenKind, dr, hybridity, query, vcd, vchs};

/// Largest request body accepted (bigger bodies get 413).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// State shared by every request.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) cfg: Config,
    /// `http://127.0.0.1:<port>`.
    pub(crate) origin: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way
        // that matters to a test simulator, so a poisoned lock is simply reused.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One request, decoded.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) method: Method,
    /// Path after the prefix, always starting with `/`.
    pub(crate) path: String,
    /// `""`, `/api/compute` or `/compute:443`.
    pub(crate) prefix: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) now: Instant,
    /// The API version from `Accept` (or the highest supported one).
    pub(crate) version: String,
}

impl Ctx<'_> {
    /// `origin + prefix`: where vCD hrefs start.
    pub(crate) fn base(&self) -> String {
        format!("{}{}", self.shared.origin, self.prefix)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        let mut st = self.shared.lock();
        st.settle(self.now);
        st
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Basic credentials `(user, password)` from `Authorization`.
    pub(crate) fn basic(&self) -> Option<(String, String)> {
        use base64::Engine;
        let v = self.header("authorization")?;
        let (scheme, rest) = v.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let s = String::from_utf8(raw).ok()?;
        let (u, p) = s.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    }

    /// The Bearer token from `Authorization`.
    pub(crate) fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?;
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    }

    /// The vCD session of this request (legacy header or Bearer JWT).
    pub(crate) fn vcd_token(&self) -> Option<Token> {
        let st = self.lock();
        let kinds = [TokenKind::Vcd, TokenKind::VcdJwt];
        [self.header("x-vcloud-authorization"), self.bearer()]
            .into_iter()
            .flatten()
            .find_map(|t| st.check_token(t, &kinds, self.now).cloned())
    }

    /// The raw token value this request authenticated with (for logout).
    pub(crate) fn vcd_token_value(&self) -> Option<String> {
        self.header("x-vcloud-authorization")
            .or_else(|| self.bearer())
            .map(str::to_owned)
    }

    pub(crate) fn body_str(&self) -> Result<&str, Box<Response>> {
        std::str::from_utf8(&self.body).map_err(|_| {
            Box::new(vcd_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "The request body is not UTF-8.",
                &self.version,
            ))
        })
    }
}

/// Builds the router: every path goes to one dispatcher.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let mut resp = match to_bytes(body, MAX_BODY).await {
        Ok(body) => dispatch(&shared, parts, body),
        Err(_) => vcd_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_REQUEST",
            "The request body is too large.",
            "36.0",
        ),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-vmware-vcloud-request-id", v);
    }
    resp
}

fn split_prefix(path: &str) -> (String, String) {
    for prefix in [
        "/api/compute",
        "/compute:443",
        "/compute%3A443",
        "/compute%3a443",
    ] {
        if let Some(rest) = path.strip_prefix(prefix)
            && (rest.starts_with("/api/") || rest.starts_with("/hybridity/") || rest == "/api")
        {
            let prefix = if prefix.starts_with("/compute%") {
                "/compute:443"
            } else {
                prefix
            };
            return (prefix.to_owned(), rest.to_owned());
        }
    }
    (String::new(), path.to_owned())
}

fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    match raw {
        Some(q) => url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        None => Vec::new(),
    }
}

/// The `version=` parameter of an `Accept` header, if any.
pub(crate) fn accept_version(headers: &HeaderMap) -> Option<String> {
    let accept = headers.get("accept")?.to_str().ok()?;
    for part in accept.split([';', ',']) {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("version=") {
            return Some(v.trim().trim_matches('"').to_owned());
        }
    }
    None
}

fn dispatch(shared: &Shared, parts: http::request::Parts, body: Bytes) -> Response {
    let now = Instant::now();
    {
        let mut st = shared.lock();
        st.request_count += 1;
    }
    let (prefix, path) = split_prefix(parts.uri.path());
    let highest = shared
        .cfg
        .versions
        .last()
        .cloned()
        .unwrap_or_else(|| "36.0".into());
    let requested = accept_version(&parts.headers);
    let ctx = Ctx {
        shared,
        method: parts.method.clone(),
        path,
        prefix,
        query: parse_query(parts.uri.query()),
        headers: parts.headers,
        body,
        now,
        version: requested.clone().unwrap_or(highest),
    };
    let segs: Vec<&str> = ctx.path.trim_start_matches('/').split('/').collect();

    // Version negotiation applies to the vCD API and cloudapi, not to vchs/IAM/hybridity.
    let versioned = matches!(segs.first(), Some(&"api") | Some(&"cloudapi"))
        && !matches!(
            segs.get(1),
            Some(&"vchs") | Some(&"iam") | Some(&"sc") | Some(&"versions")
        );
    if versioned
        && let Some(v) = &requested
        && !shared.cfg.versions.iter().any(|s| s == v)
    {
        let msg = format!(
            "The request has invalid accept header: Invalid api version requested {v}. Supported versions are: {}",
            shared.cfg.versions.join(", ")
        );
        return if segs.first() == Some(&"cloudapi") {
            cloudapi_error(StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE", &msg)
        } else {
            vcd_error(StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE", &msg, v)
        };
    }
    tracing::trace!(method = %ctx.method, path = %ctx.path, prefix = %ctx.prefix, "vcloud sim request");

    use Method as M;
    let m = ctx.method.clone();
    match (m, segs.as_slice()) {
        // vCloud Air subscription (vchs)
        (M::POST, ["api", "vchs", "sessions"]) => vchs::login(&ctx),
        (M::DELETE, ["api", "vchs", "session"]) => vchs::logout(&ctx),
        (M::GET, ["api", "vchs", "services"]) => vchs::services(&ctx),
        (M::GET, ["api", "vchs", "compute", id]) => vchs::compute(&ctx, id),
        (M::POST, ["api", "vchs", "compute", sid, "vdc", vdc, "vcloudsession"]) => {
            vchs::vcloudsession(&ctx, sid, vdc)
        }
        // vCloud Air On-Demand (IAM + service controller)
        (M::POST, ["api", "iam", "login"]) => vchs::iam_login(&ctx),
        (M::GET, ["api", "sc", "instances"]) => vchs::instances(&ctx),
        (M::GET, ["api", "sc", "plans"]) => vchs::plans(&ctx),
        (M::POST, ["api", "sessions", "vcloud", org]) => vchs::sso_login(&ctx, org),
        // vCD sessions
        (M::GET, ["api", "versions"]) => vcd::versions(&ctx),
        (M::POST, ["api", "sessions"]) => vcd::legacy_login(&ctx),
        (M::GET, ["api", "session"] | ["api", "session", ""]) => vcd::current_session(&ctx),
        (M::DELETE, ["api", "session"] | ["api", "session", ""]) => vcd::logout(&ctx),
        (M::POST, ["cloudapi", "1.0.0", "sessions"]) => vcd::cloudapi_login(&ctx, false),
        (M::POST, ["cloudapi", "1.0.0", "sessions", "provider"]) => vcd::cloudapi_login(&ctx, true),
        (M::GET, ["cloudapi", "1.0.0", "sessions", "current"]) => vcd::cloudapi_current(&ctx),
        (M::DELETE, ["cloudapi", "1.0.0", "sessions", "current"]) => vcd::logout(&ctx),
        (M::POST, ["oauth", "tenant", org, "token"]) => vcd::oauth_token(&ctx, Some(org)),
        (M::POST, ["oauth", "provider", "token"]) => vcd::oauth_token(&ctx, None),
        // vCD objects
        (M::GET, ["api", "org"] | ["api", "org", ""]) => vcd::org_list(&ctx),
        (M::GET, ["api", "org", id] | ["api", "org", id, ""]) => vcd::org(&ctx, id),
        (M::GET, ["api", "org", id, "replications"]) => dr::list(&ctx, id),
        (M::GET, ["api", "vdc", id]) => vcd::vdc(&ctx, id),
        (M::GET, ["api", "admin", "vdc", id, "edgeGateways"]) => query::vdc_edges(&ctx, id),
        (M::GET, ["api", "query"]) => query::query(&ctx),
        (M::GET, ["api", "task", id]) => vcd::task(&ctx, id),
        (M::POST, ["api", "task", id, "action", "cancel"]) => vcd::cancel_task(&ctx, id),
        (M::GET, ["api", "vApp", id]) => vcd::vapp_or_vm(&ctx, id),
        (M::DELETE, ["api", "vApp", id]) => vcd::delete_vapp(&ctx, id),
        (M::POST, ["api", "vApp", id, "power", "action", action]) => vcd::power(&ctx, id, action),
        (M::GET, ["api", "admin", "edgeGateway", id]) => vcd::edge(&ctx, id),
        (
            M::POST,
            [
                "api",
                "admin",
                "edgeGateway",
                id,
                "action",
                "configureServices",
            ],
        ) => vcd::configure_services(&ctx, id),
        // hybridity
        (M::GET, ["hybridity", "api", "gateways", edge, section, "config"]) => {
            hybridity::get_config(&ctx, edge, section)
        }
        (M::PUT, ["hybridity", "api", "gateways", edge, section, "config"]) => {
            hybridity::put_config(&ctx, edge, section)
        }
        (M::POST, ["hybridity", "api", "metrics", "vdc", id]) => {
            hybridity::metrics(&ctx, Some(id), None)
        }
        (M::POST, ["hybridity", "api", "metrics", "vApp", vm]) => {
            hybridity::metrics(&ctx, None, Some(vm))
        }
        // DR
        (M::GET, ["api", "vr", "replications", id]) => dr::details(&ctx, id),
        (M::POST, ["api", "vr", "replications", id, "action", action]) => {
            dr::action(&ctx, id, action)
        }
        (_, ["hybridity", ..]) => nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            "The requested resource was not found.",
        ),
        (_, ["cloudapi", ..]) => cloudapi_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource was not found.",
        ),
        _ => vcd_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            &format!("No resource for {} {}.", ctx.method, ctx.path),
            &ctx.version,
        ),
    }
}

/// A response with a body and a content type.
pub(crate) fn respond(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}

/// An XML document (declaration added).
pub(crate) fn xml(status: StatusCode, content_type: &str, body: &str) -> Response {
    respond(
        status,
        content_type,
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
    )
}

/// A vCD XML document with `;version=` appended to its media type.
pub(crate) fn vcd_xml(status: StatusCode, media: &str, version: &str, body: &str) -> Response {
    xml(status, &format!("{media};version={version}"), body)
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    respond(status, "application/json", value.to_string())
}

/// A vCD `Error` document.
pub(crate) fn vcd_error(status: StatusCode, minor: &str, message: &str, version: &str) -> Response {
    let body = format!(
        "<Error xmlns=\"{NS_VCLOUD}\" majorErrorCode=\"{}\" minorErrorCode=\"{}\" message=\"{}\" stackTrace=\"\"/>",
        status.as_u16(),
        esc(minor),
        esc(message)
    );
    vcd_xml(
        status,
        "application/vnd.vmware.vcloud.error+xml",
        version,
        &body,
    )
}

/// A cloudapi (OpenAPI) JSON error.
pub(crate) fn cloudapi_error(status: StatusCode, minor: &str, message: &str) -> Response {
    json(
        status,
        &serde_json::json!({"minorErrorCode": minor, "message": message, "stackTrace": null}),
    )
}

/// An NSX-style JSON error of the hybridity services.
pub(crate) fn nsx_json_error(status: StatusCode, code: i64, details: &str) -> Response {
    json(
        status,
        &serde_json::json!({
            "details": details,
            "errorCode": code,
            "moduleName": "vShield Edge",
            "rootCauseString": null,
            "errorData": null
        }),
    )
}

/// The standard 401 of the vCD API.
pub(crate) fn unauthorized(ctx: &Ctx<'_>) -> Response {
    let mut resp = vcd_error(
        StatusCode::UNAUTHORIZED,
        "NOT_AUTHENTICATED",
        "This operation is denied: missing, unknown or expired authorization token.",
        &ctx.version,
    );
    resp.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"vCloud Director\""),
    );
    resp
}

/// Parses an id segment as a UUID, accepting an optional `{prefix}-`.
pub(crate) fn parse_id(seg: &str, prefix: &str) -> Option<Uuid> {
    let s = seg
        .strip_prefix(prefix)
        .and_then(|s| s.strip_prefix('-'))
        .unwrap_or(seg);
    Uuid::parse_str(s).ok()
}

/// RFC 3339 UTC timestamp (millisecond precision) of a wall-clock time.
pub(crate) fn iso8601(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let millis = d.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_stripped_only_before_api_paths() {
        assert_eq!(
            split_prefix("/api/compute/api/org/x"),
            ("/api/compute".into(), "/api/org/x".into())
        );
        assert_eq!(
            split_prefix("/compute:443/api/query"),
            ("/compute:443".into(), "/api/query".into())
        );
        assert_eq!(
            split_prefix("/api/compute/hybridity/api/metrics/vdc/x"),
            ("/api/compute".into(), "/hybridity/api/metrics/vdc/x".into())
        );
        assert_eq!(
            split_prefix("/api/vchs/compute/x"),
            ("".into(), "/api/vchs/compute/x".into())
        );
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        assert_eq!(iso8601(t), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn accept_version_is_found() {
        let mut h = HeaderMap::new();
        h.insert(
            "accept",
            HeaderValue::from_static("application/*+xml;version=33.0"),
        );
        assert_eq!(accept_version(&h).as_deref(), Some("33.0"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        assert_eq!(accept_version(&h), None);
    }
}
