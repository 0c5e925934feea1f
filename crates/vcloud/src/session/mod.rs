//! Logins: vCloud Air subscription ([`VcaSession`], "vchs"), vCloud Air On-Demand
//! ([`VcaOdSession`], IAM + service controller) and direct vCD ([`VcdSession`]: legacy
//! `/api/sessions`, cloudapi JWT sessions, API tokens). Each yields an [`OrgInfo`] that
//! every feature accepts, and a [`VcdClient`](crate::VcdClient) that logs in again by
//! itself when the server answers `401`.
//!
//! All three implement [`nebulair_core::Session`]. Passwords and tokens are held in
//! [`SecretString`] and never appear in `Debug`, logs or
//! errors.

mod org_info;
mod vca;
mod vca_od;
mod vcd;

use base64::Engine as _;
use nebulair_core::{
    Error, ErrorKind, ExposeSecret, HttpRequest, HttpResponse, HttpTransport, Result, SecretString,
};

use crate::error::error_from_response;

pub use org_info::{BEARER_AUTH_HEADER, OrgInfo, VCLOUD_AUTH_HEADER};
pub use vca::{DEFAULT_VCHS_BASE, VcaService, VcaSession, VcaSessionBuilder, VdcRef};
pub use vca_od::{
    DEFAULT_VCA_BASE, InstanceAttributes, InstanceSelector, OdInstance, OdPlan, VcaOdSession,
    VcaOdSessionBuilder,
};
pub use vcd::{
    LoginMode, VcdLogin, VcdSession, VcdSessionBuilder, VersionInfo, negotiate_version,
    parse_versions,
};

/// `Basic base64(user:password)`.
pub(crate) fn basic_auth(user: &str, password: &SecretString) -> String {
    let raw = format!("{user}:{}", password.expose_secret());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    )
}

/// Sends an unauthenticated (login) request and maps statuses >= 400 to errors.
pub(crate) async fn send_checked(
    transport: &dyn HttpTransport,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let operation = format!("{} {}", req.method, req.url.path());
    tracing::debug!(operation = %operation, "vcloud login request");
    let resp = transport.send(req).await?;
    if resp.status.as_u16() >= 400 {
        return Err(error_from_response(&operation, &resp));
    }
    Ok(resp)
}

/// A token from a response header, or a protocol error naming the header.
pub(crate) fn header_token(resp: &HttpResponse, name: &str, what: &str) -> Result<SecretString> {
    match resp.header_str(name) {
        Some(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
        _ => Err(Error::new(
            ErrorKind::Protocol,
            format!("{what}: the server answered without the {name} header"),
        )),
    }
}

/// Ensures a base URL ends with `/` so that relative joins keep its path.
pub(crate) fn base_url(text: &str) -> Result<url::Url> {
    org_info::normalise_base(text)
}
