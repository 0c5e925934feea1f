//! Shared helpers of the vCloud simulator's handlers: the request context ([`Ctx`]), the
//! state every request shares ([`Shared`]), response builders (XML, JSON, the vCD `Error`
//! document, cloudapi and NSX errors, the 401), id parsing and time formatting.
//!
//! The handler modules (`vcd`, `workload`, `query`, `vchs`, `hybridity`, `dr`) use these;
//! `http` (routing) sits on top of them all and nothing here depends on a handler.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use uuid::Uuid;

use super::state::{State, Token};
use super::xml::{NS_VCLOUD, esc};
use super::{Config, TokenKind};

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

/// A cloudapi refusal as vCD words it: the message starts with `[ <request id> ]`.
pub(crate) fn cloudapi_refusal(status: StatusCode, minor: &str, message: &str) -> Response {
    cloudapi_error(
        status,
        minor,
        &format!("[ {} ] {message}", crate::random_uuid()),
    )
}

/// 400 `BAD_REQUEST` of the cloudapi.
pub(crate) fn cloudapi_bad(message: &str) -> Response {
    cloudapi_refusal(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
}

/// 403 `ACCESS_TO_RESOURCE_IS_FORBIDDEN` of the cloudapi, for an entity the caller
/// cannot see (or that does not exist), naming the rights it would need.
pub(crate) fn cloudapi_forbidden(right: &str, operation: &str, what: &str) -> Response {
    cloudapi_refusal(
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        &format!(
            "Either you need some or all of the following rights [{right}] to perform operations [{operation}] for {what} or the target entity is invalid."
        ),
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
    use http::HeaderMap;

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
