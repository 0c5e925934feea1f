//! HTTP and TLS settings, per client, and the one function that turns them into a
//! `reqwest::Client`.
//!
//! Every setting belongs to one client: two clients in one process can have different
//! timeouts or trust different CAs (PyONE, by contrast, sets its timeout process-wide).
//! TLS certificates are verified by default, against the platform's trust store plus any
//! extra PEM certificates you add; turning verification off is an explicit, loudly named
//! opt-in.
//!
//! ```
//! use std::time::Duration;
//! use nebulair_core::HttpConfig;
//!
//! let config = HttpConfig::default()
//!     .connect_timeout(Duration::from_secs(5))
//!     .request_timeout(Duration::from_secs(30));
//! assert!(!config.accepts_invalid_certs());
//! let _client = nebulair_core::config::build_reqwest_client(&config)?;
//! # Ok::<(), nebulair_core::Error>(())
//! ```

use std::fmt;
use std::sync::Once;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// The `User-Agent` sent by default: `nebulair/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("nebulair/", env!("CARGO_PKG_VERSION"));

/// Default limit on the size of one response body: 1 GiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1 << 30;

/// Where requests go through a proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// Use the usual environment variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`, and their lower-case forms). The default.
    #[default]
    FromEnvironment,
    /// Never use a proxy.
    Disabled,
    /// Send every request through this proxy URL (e.g. `http://proxy:3128`).
    Url(String),
}

/// HTTP and TLS settings of one client.
#[derive(Clone)]
pub struct HttpConfig {
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    danger_accept_invalid_certs: bool,
    extra_ca_pem: Vec<Vec<u8>>,
    proxy: ProxyConfig,
    user_agent: String,
    max_response_bytes: u64,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(120)),
            danger_accept_invalid_certs: false,
            extra_ca_pem: Vec::new(),
            proxy: ProxyConfig::FromEnvironment,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            pool_idle_timeout: Some(Duration::from_secs(60)),
            pool_max_idle_per_host: 32,
        }
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field("extra_ca_certificates", &self.extra_ca_pem.len())
            .field("proxy", &self.proxy)
            .field("user_agent", &self.user_agent)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl HttpConfig {
    /// The defaults: 10 s to connect, 120 s per request, TLS verified, proxy from the
    /// environment, `User-Agent: nebulair/<version>`, bodies up to 1 GiB.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long to wait for a TCP (and TLS) connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take, from sending to the end of the body.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Lets requests run as long as they need (the connect timeout still applies).
    pub fn no_request_timeout(mut self) -> Self {
        self.request_timeout = None;
        self
    }

    /// Trusts this PEM certificate (or bundle) in addition to the platform's roots.
    pub fn add_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_ca_pem.push(pem.into());
        self
    }

    /// **Turns off TLS certificate and host name verification.** Anyone on the network
    /// path can then read and change the traffic, credentials included. The equivalent of
    /// PyONE's `https_verify=False` and `ONE_DISABLE_SSL_VERIFY`; use only against test
    /// servers you control. Off by default.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// Chooses the proxy behaviour (default: from the environment).
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Replaces the `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The largest response body accepted, in bytes; a larger one fails with
    /// [`ErrorKind::Protocol`] before it is read into memory.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How long an idle pooled connection is kept (`None`: forever).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// How many idle connections per host are kept for reuse.
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool_max_idle_per_host = n;
        self
    }

    /// The connect timeout.
    pub fn get_connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The per-request timeout, if any.
    pub fn get_request_timeout(&self) -> Option<Duration> {
        self.request_timeout
    }

    /// Whether TLS verification was turned off.
    pub fn accepts_invalid_certs(&self) -> bool {
        self.danger_accept_invalid_certs
    }

    /// The response size limit.
    pub fn get_max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    /// The `User-Agent`.
    pub fn get_user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The proxy behaviour.
    pub fn get_proxy(&self) -> &ProxyConfig {
        &self.proxy
    }
}

/// Installs rustls' `ring` crypto provider as the process default unless one is set.
/// Called by [`build_reqwest_client`]; harmless to call again.
pub fn ensure_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error only means another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Redirects are followed (up to 10) only within the origin of the first request: a
/// redirect elsewhere would carry the request's headers, tokens included (reqwest strips
/// only `Authorization` and cookies, not `x-vcloud-authorization`), so the 3xx answer is
/// returned to the caller instead.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(|u| u.origin());
        if attempt.previous().len() > 10 {
            attempt.error("more than 10 redirects")
        } else if first.is_some_and(|o| o != attempt.url().origin()) {
            tracing::warn!(
                to = %crate::transport::redact_url(attempt.url()),
                "not following a redirect to another origin"
            );
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// Builds the `reqwest::Client` described by `config`: rustls, the platform trust store
/// plus the extra CAs, the timeouts, proxy and `User-Agent`, and connection reuse.
///
/// # Errors
/// [`ErrorKind::Tls`] when an extra CA is not valid PEM; [`ErrorKind::InvalidInput`] for
/// an invalid proxy URL or `User-Agent`.
pub fn build_reqwest_client(config: &HttpConfig) -> Result<reqwest::Client> {
    ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .user_agent(config.user_agent.clone())
        .pool_idle_timeout(config.pool_idle_timeout)
        .pool_max_idle_per_host(config.pool_max_idle_per_host)
        .redirect(same_origin_redirects())
        .tcp_nodelay(true);
    if let Some(t) = config.request_timeout {
        builder = builder.timeout(t);
    }
    if !config.extra_ca_pem.is_empty() {
        let mut certs = Vec::new();
        for pem in &config.extra_ca_pem {
            let bundle = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::with_source(ErrorKind::Tls, "invalid CA certificate (expected PEM)", e)
            })?;
            if bundle.is_empty() {
                return Err(Error::new(
                    ErrorKind::Tls,
                    "invalid CA certificate: no PEM certificate found",
                ));
            }
            certs.extend(bundle);
        }
        builder = builder.tls_certs_merge(certs);
    }
    if config.danger_accept_invalid_certs {
        tracing::warn!("TLS certificate verification is disabled for this client");
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    match &config.proxy {
        ProxyConfig::FromEnvironment => {}
        ProxyConfig::Disabled => builder = builder.no_proxy(),
        ProxyConfig::Url(url) => {
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|e| Error::with_source(ErrorKind::InvalidInput, "invalid proxy URL", e))?;
            builder = builder.proxy(proxy);
        }
    }
    builder.build().map_err(|e| {
        Error::with_source(
            ErrorKind::InvalidInput,
            "could not build the HTTP client from its configuration",
            e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_verification_is_on_by_default_and_opt_out_is_explicit() {
        let c = HttpConfig::default();
        assert!(!c.accepts_invalid_certs());
        let c = c.danger_accept_invalid_certs(true);
        assert!(c.accepts_invalid_certs());
        assert!(format!("{c:?}").contains("danger_accept_invalid_certs: true"));
    }

    #[test]
    fn user_agent_names_nebulair_and_version() {
        let c = HttpConfig::default();
        assert_eq!(
            c.get_user_agent(),
            format!("nebulair/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn invalid_pem_is_a_tls_error() {
        let c = HttpConfig::default().add_ca_pem(b"not a certificate".to_vec());
        let err = build_reqwest_client(&c).expect_err("must fail");
        assert_eq!(err.kind(), ErrorKind::Tls);
    }

    #[test]
    fn invalid_proxy_is_invalid_input() {
        let c = HttpConfig::default().proxy(ProxyConfig::Url("::not a url::".into()));
        let err = build_reqwest_client(&c).expect_err("must fail");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn builds_with_each_setting() {
        for c in [
            HttpConfig::default(),
            HttpConfig::default().danger_accept_invalid_certs(true),
            HttpConfig::default().proxy(ProxyConfig::Disabled),
            HttpConfig::default().proxy(ProxyConfig::Url("http://127.0.0.1:3128".into())),
            HttpConfig::default().no_request_timeout(),
        ] {
            build_reqwest_client(&c).expect("client builds");
        }
    }
}
