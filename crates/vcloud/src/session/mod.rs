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

/// What both vCloud Air sessions hold: who logs in, where, over which transport, and the
/// session's own state `S` (tokens, service or instance lists) behind a lock.
pub(crate) struct AirInner<S> {
    pub(crate) transport: std::sync::Arc<dyn HttpTransport>,
    pub(crate) base: url::Url,
    pub(crate) version: crate::model::ApiVersion,
    pub(crate) username: String,
    pub(crate) password: SecretString,
    pub(crate) state: std::sync::RwLock<S>,
    /// Serialises logins so that concurrent callers share one.
    pub(crate) login_lock: tokio::sync::Mutex<()>,
}

/// The builder core shared by [`VcaSessionBuilder`] and [`VcaOdSessionBuilder`].
#[derive(Debug)]
pub(crate) struct AirBuilder {
    pub(crate) username: String,
    pub(crate) password: SecretString,
    pub(crate) base: String,
    pub(crate) version: crate::model::ApiVersion,
    pub(crate) transport: Option<std::sync::Arc<dyn HttpTransport>>,
    pub(crate) http: nebulair_core::HttpConfig,
}

impl AirBuilder {
    pub(crate) fn new(
        username: String,
        password: String,
        base: &str,
        version: crate::model::ApiVersion,
    ) -> Self {
        AirBuilder {
            username,
            password: SecretString::from(password),
            base: base.to_owned(),
            version,
            transport: None,
            http: nebulair_core::HttpConfig::default(),
        }
    }

    /// The session core: the given transport (or a reqwest one from the HTTP settings),
    /// the parsed base URL, and an empty state.
    pub(crate) fn build<S: Default>(self) -> Result<AirInner<S>> {
        let transport = match self.transport {
            Some(t) => t,
            None => std::sync::Arc::new(nebulair_core::ReqwestTransport::new(&self.http)?),
        };
        Ok(AirInner {
            transport,
            base: base_url(&self.base)?,
            version: self.version,
            username: self.username,
            password: self.password,
            state: std::sync::RwLock::new(S::default()),
            login_lock: tokio::sync::Mutex::new(()),
        })
    }
}

/// The setters every vCloud Air session builder has (its `air` field is an
/// [`AirBuilder`]).
macro_rules! air_builder_setters {
    ($builder:ident, $default_version:literal) => {
        impl $builder {
            /// Uses this transport (default: a [`ReqwestTransport`] from the HTTP config).
            ///
            /// [`ReqwestTransport`]: nebulair_core::ReqwestTransport
            pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
                self.air.transport = Some(transport);
                self
            }

            /// HTTP settings for the default transport.
            pub fn http_config(mut self, config: nebulair_core::HttpConfig) -> Self {
                self.air.http = config;
                self
            }

            #[doc = concat!("The API version for `Accept` headers (default ", $default_version, ").")]
            pub fn version(mut self, version: ApiVersion) -> Self {
                self.air.version = version;
                self
            }
        }
    };
}
pub(crate) use air_builder_setters;

mod vca;
mod vca_od;
mod vcd;

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
