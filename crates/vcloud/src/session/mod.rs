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
    /// The transport for login requests: `transport` behind the retry policy (only
    /// idempotent requests, such as the `GET`s of a login, are repeated).
    pub(crate) login_transport: std::sync::Arc<dyn HttpTransport>,
    /// What the session's clients get: retry policy and extra allowed origins.
    pub(crate) options: crate::client::ClientOptions,
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
    pub(crate) retry: nebulair_core::RetryPolicy,
    pub(crate) allowed_origins: Vec<String>,
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
            retry: nebulair_core::RetryPolicy::default(),
            allowed_origins: Vec::new(),
        }
    }

    /// The session core: the given transport (or a reqwest one from the HTTP settings),
    /// the parsed base URL, and an empty state.
    pub(crate) fn build<S: Default>(self) -> Result<AirInner<S>> {
        let transport = match self.transport {
            Some(t) => t,
            None => std::sync::Arc::new(nebulair_core::ReqwestTransport::new(&self.http)?),
        };
        let options = client_options(self.retry, &self.allowed_origins)?;
        Ok(AirInner {
            login_transport: login_transport(&transport, &options),
            options,
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

            /// The retry policy of the session's logins and clients (default: core's
            /// [`RetryPolicy::default`](nebulair_core::RetryPolicy)). Only idempotent
            /// requests are retried.
            pub fn retry_policy(mut self, policy: nebulair_core::RetryPolicy) -> Self {
                self.air.retry = policy;
                self
            }

            /// Also lets the session's clients send credentials to `origin`
            /// (`scheme://host[:port]`), e.g. the public name of a vCD behind a proxy.
            /// Any other origin than the endpoint's is refused
            /// ([`ErrorKind::ForeignOrigin`](nebulair_core::ErrorKind::ForeignOrigin)).
            /// Checked by `build()` ([`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput)
            /// for an invalid origin).
            pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
                self.air.allowed_origins.push(origin.into());
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

/// The `exp` claim (seconds since the epoch) of a JSON Web Token, such as the bearer
/// tokens of cloudapi logins and API-token exchanges. `None` when `token` is not a JWT,
/// has no numeric `exp`, or its payload is not base64url JSON. The signature is not
/// checked: the server does that; this only tells a client when to log in again.
///
/// ```
/// use nebulair_vcloud::session::jwt_expiry;
/// // header {"alg":"none"}, payload {"exp":1767225600}
/// let jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3NjcyMjU2MDB9.sig";
/// let exp = jwt_expiry(jwt).expect("exp");
/// assert_eq!(exp, std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600));
/// assert_eq!(jwt_expiry("a27dc3f5567f49c3b4dd9d0c23b7e1b8"), None);
/// ```
pub fn jwt_expiry(token: &str) -> Option<std::time::SystemTime> {
    let mut parts = token.trim().split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    let secs = exp.as_u64().or_else(|| {
        exp.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })?;
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))
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

/// The client options of a session from its builder's settings.
pub(crate) fn client_options(
    retry: nebulair_core::RetryPolicy,
    allowed: &[String],
) -> Result<crate::client::ClientOptions> {
    let mut options = crate::client::ClientOptions::default().retry_policy(retry);
    for o in allowed {
        options = options.allow_origin(o)?;
    }
    Ok(options)
}

/// `transport` behind the session's retry policy, for login requests.
pub(crate) fn login_transport(
    transport: &std::sync::Arc<dyn HttpTransport>,
    options: &crate::client::ClientOptions,
) -> std::sync::Arc<dyn HttpTransport> {
    std::sync::Arc::new(nebulair_core::RetryTransport::new(
        transport.clone(),
        options.get_retry_policy().clone(),
    ))
}

/// Ensures a base URL ends with `/` so that relative joins keep its path.
pub(crate) fn base_url(text: &str) -> Result<url::Url> {
    org_info::normalise_base(text)
}
