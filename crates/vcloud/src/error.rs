//! How vCloud error responses become [`nebulair_core::Error`]s.
//!
//! Servers in this family answer failures in four shapes, all recognised here:
//!
//! | shape | example | provider in [`ServiceError`] |
//! |---|---|---|
//! | vCD `Error` XML | `<Error majorErrorCode="403" minorErrorCode="ACCESS_TO_RESOURCE_IS_FORBIDDEN" message=".."/>` | `vcloud` |
//! | cloudapi (OpenAPI) JSON | `{"minorErrorCode":"NOT_AUTHENTICATED","message":"..","stackTrace":null}` | `vcloud` |
//! | NSX errors (XML or JSON) | `<error><details>..</details><errorCode>13008</errorCode><moduleName>vShield Edge</moduleName></error>` | `nsx` |
//! | OAuth errors | `{"error":"invalid_grant","error_description":".."}` | `oauth` |
//!
//! Anything else keeps the HTTP status and the start of the body. The kind follows the
//! status (401 → [`ErrorKind::Authentication`], 403 → [`ErrorKind::Authorization`],
//! 404 → [`ErrorKind::NotFound`], 409/412 → [`ErrorKind::Conflict`], 400/405/406/415/416 →
//! [`ErrorKind::InvalidInput`], 408/504 → [`ErrorKind::Timeout`], other 5xx →
//! [`ErrorKind::Server`]), refined by well-known vCD minor codes. The request id from
//! `X-VMWARE-VCLOUD-REQUEST-ID` is kept in [`ServiceError::request_id`].
//!
//! ```
//! use nebulair_core::{ErrorKind, HttpResponse};
//! use nebulair_vcloud::error::error_from_response;
//!
//! let resp = HttpResponse::new(403, r#"<Error xmlns="http://www.vmware.com/vcloud/v1.5"
//!     majorErrorCode="403" minorErrorCode="ACCESS_TO_RESOURCE_IS_FORBIDDEN"
//!     message="Either you need some or all of the following rights [ORG_VDC_VIEW]"/>"#)
//!     .with_header("X-VMWARE-VCLOUD-REQUEST-ID", "a1b2");
//! let err = error_from_response("GET /api/vdc/1", &resp);
//! assert_eq!(err.kind(), ErrorKind::Authorization);
//! let svc = err.service().expect("server error kept");
//! assert_eq!(svc.code_name(), Some("ACCESS_TO_RESOURCE_IS_FORBIDDEN"));
//! assert_eq!(svc.request_id(), Some("a1b2"));
//! ```

use nebulair_core::{Error, ErrorKind, HttpResponse, ServiceError};

use crate::model::xml::XmlElement;

/// The response header carrying vCD's request id.
pub const REQUEST_ID_HEADER: &str = "x-vmware-vcloud-request-id";

/// How many bytes of an unrecognised error body are kept in the message.
const BODY_SNIPPET: usize = 300;

/// The error kind for an HTTP status.
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::Authorization,
        404 | 410 => ErrorKind::NotFound,
        409 | 412 | 423 => ErrorKind::Conflict,
        408 | 504 => ErrorKind::Timeout,
        400 | 405 | 406 | 411 | 413 | 414 | 415 | 416 | 422 => ErrorKind::InvalidInput,
        _ => ErrorKind::Server,
    }
}

/// Refines a kind from a vCD `minorErrorCode`, when the code says more than the status.
fn kind_for_minor(minor: &str, fallback: ErrorKind) -> ErrorKind {
    match minor.to_ascii_uppercase().as_str() {
        "NOT_AUTHENTICATED" | "AUTHENTICATION_FAILURE" | "UNAUTHORIZED" => {
            ErrorKind::Authentication
        }
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN" | "FORBIDDEN" => ErrorKind::Authorization,
        "RESOURCE_NOT_FOUND" | "NOT_FOUND" => ErrorKind::NotFound,
        "BUSY_ENTITY" | "DUPLICATE_NAME" | "CONFLICT" | "INVALID_STATE" => ErrorKind::Conflict,
        "BAD_REQUEST" | "INVALID_REFERENCE" | "NOT_ACCEPTABLE" | "UNSUPPORTED_MEDIA_TYPE" => {
            if fallback == ErrorKind::Server {
                ErrorKind::InvalidInput
            } else {
                fallback
            }
        }
        _ => fallback,
    }
}

/// A decoded vCD `Error` element (`ErrorType` in the schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcdError {
    /// `majorErrorCode`: the HTTP status the server meant.
    pub major_error_code: i64,
    /// `minorErrorCode`, e.g. `ACCESS_TO_RESOURCE_IS_FORBIDDEN`.
    pub minor_error_code: Option<String>,
    /// `vendorSpecificErrorCode`.
    pub vendor_specific_error_code: Option<String>,
    /// `message`.
    pub message: String,
}

impl VcdError {
    /// Reads an `Error` (or a Task's `Error` child) element.
    pub fn from_element(el: &XmlElement) -> VcdError {
        VcdError {
            major_error_code: el
                .attr("majorErrorCode")
                .and_then(|c| c.trim().parse().ok())
                .unwrap_or(0),
            minor_error_code: el.attr("minorErrorCode").map(str::to_owned),
            vendor_specific_error_code: el.attr("vendorSpecificErrorCode").map(str::to_owned),
            message: el.attr("message").unwrap_or_default().to_owned(),
        }
    }

    /// This error as a core [`ServiceError`] (provider `vcloud`).
    pub fn to_service_error(&self) -> ServiceError {
        let mut svc = ServiceError::new("vcloud", self.major_error_code, self.message.clone());
        if let Some(minor) = &self.minor_error_code {
            svc = svc.with_code_name(minor.clone());
        }
        svc
    }
}

/// Turns an error response (status >= 400) into an [`Error`]; `operation` is
/// `"METHOD /path"` and is recorded in the [`ServiceError`].
///
/// Never fails: an undecodable body becomes a plain status error with a body snippet.
pub fn error_from_response(operation: &str, resp: &HttpResponse) -> Error {
    let status = resp.status.as_u16();
    let request_id = resp.header_str(REQUEST_ID_HEADER).map(str::to_owned);
    let mut kind = kind_for_status(status);
    let text = String::from_utf8_lossy(&resp.body);
    let trimmed = text.trim();

    let service = parse_error_body(trimmed, status);
    let err = match service {
        Some((svc, minor)) => {
            if let Some(minor) = &minor {
                kind = kind_for_minor(minor, kind);
            }
            let mut svc = svc.with_operation(operation);
            if let Some(id) = &request_id {
                svc = svc.with_request_id(id.clone());
            }
            let msg = if svc.message().is_empty() {
                format!("{operation} failed with HTTP {status}")
            } else {
                format!("{operation} failed with HTTP {status}: {}", svc.message())
            };
            Error::new(kind, msg).with_service(svc)
        }
        None => {
            let mut msg = format!("{operation} failed with HTTP {status}");
            if let Some(reason) = resp.status.canonical_reason() {
                msg.push_str(&format!(" {reason}"));
            }
            if !trimmed.is_empty() {
                msg.push_str(": ");
                msg.push_str(&snippet(trimmed));
            }
            let mut err = Error::new(kind, msg);
            if let Some(id) = request_id {
                let svc = ServiceError::new("vcloud", i64::from(status), "")
                    .with_operation(operation)
                    .with_request_id(id);
                err = err.with_service(svc);
            }
            err
        }
    };
    err.with_http_status(status)
}

fn snippet(text: &str) -> String {
    if text.len() <= BODY_SNIPPET {
        return text.to_owned();
    }
    let mut end = BODY_SNIPPET;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Recognises the known error body shapes; returns the service error and the minor code.
fn parse_error_body(body: &str, status: u16) -> Option<(ServiceError, Option<String>)> {
    if body.starts_with('<') {
        let el = XmlElement::parse(body).ok()?;
        return match el.name() {
            "Error" => {
                let e = VcdError::from_element(&el);
                let mut svc = e.to_service_error();
                if e.major_error_code == 0 {
                    svc = ServiceError::new("vcloud", i64::from(status), e.message.clone());
                    if let Some(m) = &e.minor_error_code {
                        svc = svc.with_code_name(m.clone());
                    }
                }
                Some((svc, e.minor_error_code))
            }
            "error" => {
                let details = el.child_text("details").unwrap_or_default().to_owned();
                let code = el
                    .child_text("errorCode")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(i64::from(status));
                let mut svc = ServiceError::new("nsx", code, details);
                if let Some(module) = el.child_text("moduleName") {
                    svc = svc.with_code_name(module.to_owned());
                }
                Some((svc, None))
            }
            _ => None,
        };
    }
    if body.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        let obj = v.as_object()?;
        let s = |k: &str| obj.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        if obj.contains_key("minorErrorCode")
            || (obj.contains_key("message") && !obj.contains_key("errorCode"))
        {
            let minor = s("minorErrorCode");
            let major = obj
                .get("majorErrorCode")
                .and_then(|x| x.as_i64())
                .unwrap_or(i64::from(status));
            let mut svc = ServiceError::new("vcloud", major, s("message").unwrap_or_default());
            if let Some(m) = &minor {
                svc = svc.with_code_name(m.clone());
            }
            return Some((svc, minor));
        }
        if obj.contains_key("errorCode") || obj.contains_key("details") {
            let code = obj
                .get("errorCode")
                .and_then(|x| {
                    x.as_i64()
                        .or_else(|| x.as_str().and_then(|t| t.parse().ok()))
                })
                .unwrap_or(i64::from(status));
            let mut svc = ServiceError::new("nsx", code, s("details").unwrap_or_default());
            if let Some(m) = s("moduleName") {
                svc = svc.with_code_name(m);
            }
            return Some((svc, None));
        }
        if let Some(error) = s("error") {
            let desc = s("error_description").unwrap_or_else(|| error.clone());
            let svc =
                ServiceError::new("oauth", i64::from(status), desc).with_code_name(error.clone());
            let minor = (error == "invalid_grant"
                || error == "invalid_client"
                || error == "unauthorized_client")
                .then(|| "NOT_AUTHENTICATED".to_owned());
            return Some((svc, minor));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body.to_owned())
    }

    #[test]
    fn vcd_error_xml_sample() {
        let body = include_str!("../tests/data/vcd_error_500.xml");
        let err = error_from_response(
            "GET /api/x",
            &resp(500, body).with_header("X-VMWARE-VCLOUD-REQUEST-ID", "rid-1"),
        );
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.http_status(), Some(500));
        let svc = err.service().expect("svc");
        assert_eq!(svc.provider(), "vcloud");
        assert_eq!(svc.code(), 500);
        assert_eq!(svc.code_name(), Some("Server Error"));
        assert_eq!(svc.message(), "Error Message");
        assert_eq!(svc.request_id(), Some("rid-1"));
        assert_eq!(svc.operation(), Some("GET /api/x"));
        assert!(err.is_retryable() || err.http_status() == Some(500));
    }

    #[test]
    fn cloudapi_json_sample() {
        let body = include_str!("../tests/data/vcd_cloudapi_error_401.json");
        let err = error_from_response("POST /cloudapi/1.0.0/sessions", &resp(401, body));
        assert!(err.is_authentication());
        let svc = err.service().expect("svc");
        assert_eq!(svc.code_name(), Some("NOT_AUTHENTICATED"));
        assert!(svc.message().contains("This operation is denied"));
    }

    #[test]
    fn nsx_error_sample() {
        let body = include_str!("../tests/data/nsx_error.xml");
        let err = error_from_response(
            "GET /network/edges/e/firewall/config/rules/1",
            &resp(404, body),
        );
        assert!(err.is_not_found());
        let svc = err.service().expect("svc");
        assert_eq!(svc.provider(), "nsx");
        assert_eq!(svc.code(), 13008);
        assert_eq!(svc.code_name(), Some("vShield Edge"));
        assert_eq!(svc.message(), "[Firewall] Rule id 131079 not found.");
    }

    #[test]
    fn nsx_json_and_oauth_errors() {
        let err = error_from_response(
            "PUT /hybridity/api/gateways/e/nat/config",
            &resp(
                400,
                r#"{"details":"bad rule","errorCode":15003,"moduleName":"vShield Edge","rootCauseString":null}"#,
            ),
        );
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.service().map(|s| s.code()), Some(15003));
        let err = error_from_response(
            "POST /oauth/tenant/acme/token",
            &resp(
                400,
                r#"{"error":"invalid_grant","error_description":"token revoked"}"#,
            ),
        );
        assert!(err.is_authentication());
        assert_eq!(err.service().map(|s| s.provider()), Some("oauth"));
    }

    #[test]
    fn forbidden_minor_code_and_plain_statuses() {
        let err = error_from_response(
            "GET /api/vdc/1",
            &resp(
                400,
                r#"<Error majorErrorCode="403" minorErrorCode="ACCESS_TO_RESOURCE_IS_FORBIDDEN" message="no"/>"#,
            ),
        );
        assert!(err.is_authorization());
        for (status, kind) in [
            (401, ErrorKind::Authentication),
            (403, ErrorKind::Authorization),
            (404, ErrorKind::NotFound),
            (405, ErrorKind::InvalidInput),
            (406, ErrorKind::InvalidInput),
            (408, ErrorKind::Timeout),
            (409, ErrorKind::Conflict),
            (415, ErrorKind::InvalidInput),
            (503, ErrorKind::Server),
        ] {
            let err = error_from_response("GET /", &resp(status, "<html>oops</html>"));
            assert_eq!(err.kind(), kind, "{status}");
            assert_eq!(err.http_status(), Some(status));
            assert!(err.message().contains("oops"), "{err}");
        }
    }

    #[test]
    fn huge_and_binary_bodies_are_cut() {
        let body = "x".repeat(100_000);
        let err = error_from_response("GET /", &resp(500, &body));
        assert!(err.message().len() < 1000);
        let err = error_from_response("GET /", &HttpResponse::new(500, vec![0xff, 0xfe, 0x00]));
        assert_eq!(err.kind(), ErrorKind::Server);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(status in 400u16..600, body in ".{0,300}") {
            let err = error_from_response("GET /", &resp(status, &body));
            proptest::prop_assert_eq!(err.http_status(), Some(status));
        }
    }
}
