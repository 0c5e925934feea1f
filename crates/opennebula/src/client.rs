//! The XML-RPC client: configuration, `from_env`, calls, retries.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nebulair_core::{
    Credentials, Error, ErrorKind, ExposeSecret, HttpConfig, HttpRequest, HttpTransport,
    ReqwestTransport, Result, RetryPolicy, SecretString,
};
use tracing::Instrument as _;
use url::Url;

use crate::rpc::{self, RpcValue};

/// The endpoint used when nothing else is configured.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:2633/RPC2";

/// The default page size of pool streams (as the Ruby OCA's `ONE_POOL_PAGE_SIZE`).
pub const DEFAULT_PAGE_SIZE: u32 = 200;

/// Bodies larger than this are decoded on a blocking thread so the async runtime keeps
/// running while a big pool is unescaped.
const BLOCKING_DECODE_THRESHOLD: usize = 512 * 1024;

/// A client for oned's XML-RPC API. Cheap to clone (one shared connection pool).
///
/// Build one with [`OneClient::builder`] or [`OneClient::from_env`]; then call methods
/// through the resource handles (`client.vm(id)`, `client.vms()`, `client.hosts()`, ...)
/// or [`OneClient::call`].
#[derive(Clone)]
pub struct OneClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Url,
    session: SecretString,
    username: Option<String>,
    transport: Arc<dyn HttpTransport>,
    retry: RetryPolicy,
    timeout: Option<Duration>,
    page_size: u32,
}

impl fmt::Debug for OneClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneClient")
            .field(
                "endpoint",
                &nebulair_core::transport::redact_url(&self.inner.endpoint),
            )
            .field("username", &self.inner.username)
            .field("session", &"[redacted]")
            .field("timeout", &self.inner.timeout)
            .field("page_size", &self.inner.page_size)
            .finish_non_exhaustive()
    }
}

/// Builder for [`OneClient`].
#[derive(Default)]
pub struct OneClientBuilder {
    endpoint: Option<String>,
    credentials: Option<Credentials>,
    http: Option<HttpConfig>,
    retry: Option<RetryPolicy>,
    transport: Option<Arc<dyn HttpTransport>>,
    timeout: Option<Duration>,
    page_size: Option<u32>,
}

impl fmt::Debug for OneClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The endpoint may carry secrets (user info, a query string): shown redacted, as
        // in `OneClient`'s Debug; one that does not parse is not shown at all.
        let endpoint = self
            .endpoint
            .as_deref()
            .map(|e| match Url::parse(e.trim()) {
                Ok(u) => nebulair_core::transport::redact_url(&u),
                Err(_) => "[unparseable endpoint, not shown]".to_owned(),
            });
        f.debug_struct("OneClientBuilder")
            .field("endpoint", &endpoint)
            .field("credentials", &self.credentials)
            .field("http", &self.http)
            .field("timeout", &self.timeout)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl OneClientBuilder {
    /// The XML-RPC endpoint, e.g. `http://frontend:2633/RPC2` (default
    /// [`DEFAULT_ENDPOINT`]).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The credentials: [`Credentials::password`] or [`Credentials::user_token`] (sent as
    /// `user:secret`), or [`Credentials::token`] holding a complete `user:secret` session
    /// string.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// HTTP settings (timeouts, TLS, proxy, response size limit). Ignored when a
    /// transport is given.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = Some(config);
        self
    }

    /// The retry policy for read-only calls (default: core's default policy). Actions are
    /// never retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A custom transport (tests, instrumentation).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// A per-call timeout, overriding the HTTP config's request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The page size of pool streams (default [`DEFAULT_PAGE_SIZE`]). oned cannot be asked
    /// for a page of one (its end id would be -1, "no limit"), so 1 fetches pages of
    /// [`MIN_PAGE_SIZE`](crate::pool::MIN_PAGE_SIZE); the stream still yields one object at
    /// a time.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] without credentials, for an API token, or for an
    /// invalid endpoint URL; the transport's error if the HTTP client cannot be built.
    pub fn build(self) -> Result<OneClient> {
        let endpoint_text = self.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        let endpoint = Url::parse(endpoint_text.trim()).map_err(|e| {
            Error::invalid_input(format!(
                "invalid OpenNebula endpoint {endpoint_text:?}: {e}"
            ))
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(Error::invalid_input(format!(
                "invalid OpenNebula endpoint {endpoint_text:?}: the scheme must be http or https"
            )));
        }
        let credentials = self.credentials.ok_or_else(|| {
            Error::invalid_input("OneClient needs credentials (user:password or user:token)")
        })?;
        let (username, session) = session_of(&credentials)?;
        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page_size == 0 || page_size > i32::MAX as u32 {
            return Err(Error::invalid_input(
                "the pool page size must be at least 1",
            ));
        }
        let transport = match self.transport {
            Some(t) => t,
            None => ReqwestTransport::new(&self.http.unwrap_or_default())?.into_shared(),
        };
        Ok(OneClient {
            inner: Arc::new(Inner {
                endpoint,
                session,
                username,
                transport,
                retry: self.retry.unwrap_or_default(),
                timeout: self.timeout,
                page_size,
            }),
        })
    }
}

fn session_of(credentials: &Credentials) -> Result<(Option<String>, SecretString)> {
    match credentials {
        Credentials::Password { username, password } => Ok((
            Some(username.clone()),
            SecretString::from(format!("{username}:{}", password.expose_secret())),
        )),
        Credentials::UserToken { username, token } => Ok((
            Some(username.clone()),
            SecretString::from(format!("{username}:{}", token.expose_secret())),
        )),
        Credentials::Token(t) => {
            let user = t.expose_secret().split_once(':').map(|(u, _)| u.to_owned());
            Ok((user, t.clone()))
        }
        _ => Err(Error::invalid_input(
            "OpenNebula accepts user:password or user:token credentials, not API tokens",
        )),
    }
}

/// Where [`OneClient::from_env_with`] reads its settings: variables and the home folder.
pub struct EnvSource<'a> {
    var: &'a dyn Fn(&str) -> Option<String>,
    home: Option<&'a Path>,
}

impl fmt::Debug for EnvSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvSource")
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

impl<'a> EnvSource<'a> {
    /// Variables from `var`, files under `home` (`home/.one/one_auth`, ...).
    pub fn new(var: &'a dyn Fn(&str) -> Option<String>, home: Option<&'a Path>) -> Self {
        EnvSource { var, home }
    }

    fn get(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|v| !v.is_empty())
    }
}

fn read_file(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::InvalidInput
        } else {
            ErrorKind::Transport
        };
        Error::new(
            kind,
            format!("cannot read the {what} file {}: {e}", path.display()),
        )
    })
}

/// Parses an `one_auth` file: the first line, `user:password` split on the first colon,
/// whitespace trimmed.
fn parse_auth(content: &str, path: &Path) -> Result<Credentials> {
    let line = content
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let malformed = |why: &str| {
        Error::invalid_input(format!(
            "malformed OpenNebula auth file {}: {why} (expected one line user:password)",
            path.display()
        ))
    };
    let (user, secret) = line
        .split_once(':')
        .ok_or_else(|| malformed("no ':' found"))?;
    let (user, secret) = (user.trim(), secret.trim());
    if user.is_empty() {
        return Err(malformed("empty user name"));
    }
    if secret.is_empty() {
        return Err(malformed("empty password"));
    }
    Ok(Credentials::password(user, secret))
}

/// The settings [`OneClient::from_env`] found, before a client is built.
#[derive(Debug, Clone)]
pub struct EnvConfig {
    endpoint: String,
    credentials: Credentials,
    auth_file: PathBuf,
    timeout: Option<Duration>,
    insecure: bool,
    page_size: Option<u32>,
}

impl EnvConfig {
    /// Reads the OpenNebula settings from `env` (see [`OneClient::from_env`]).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the file or variable that is missing or
    /// malformed.
    pub fn load(env: &EnvSource<'_>) -> Result<EnvConfig> {
        let one_dir = env.home.map(|h| h.join(".one"));
        let endpoint = match env.get("ONE_XMLRPC") {
            Some(e) => e.trim().to_owned(),
            None => match one_dir.as_ref().map(|d| d.join("one_endpoint")) {
                Some(p) if p.is_file() => {
                    let text = read_file(&p, "OpenNebula endpoint")?;
                    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
                    line.map(str::to_owned).ok_or_else(|| {
                        Error::invalid_input(format!(
                            "the OpenNebula endpoint file {} is empty",
                            p.display()
                        ))
                    })?
                }
                _ => DEFAULT_ENDPOINT.to_owned(),
            },
        };
        let auth_file = match env.get("ONE_AUTH") {
            Some(p) => PathBuf::from(p),
            None => one_dir.map(|d| d.join("one_auth")).ok_or_else(|| {
                Error::invalid_input(
                    "no OpenNebula credentials: ONE_AUTH is not set and there is no home folder",
                )
            })?,
        };
        let credentials = parse_auth(&read_file(&auth_file, "OpenNebula auth")?, &auth_file)?;
        let timeout = match env.get("ONE_XMLRPC_TIMEOUT") {
            Some(t) => {
                let secs: f64 = t
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && s.is_finite() && *s < 1e9)
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "ONE_XMLRPC_TIMEOUT must be a positive number of seconds, got {t:?}"
                        ))
                    })?;
                Some(Duration::from_secs_f64(secs))
            }
            None => None,
        };
        let insecure = env.get("ONE_DISABLE_SSL_VERIFY").is_some_and(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "" | "0" | "false" | "no"
            )
        });
        let page_size =
            match env.get("ONE_POOL_PAGE_SIZE") {
                Some(p) => Some(p.trim().parse().ok().filter(|n: &u32| *n > 0).ok_or_else(
                    || {
                        Error::invalid_input(format!(
                            "ONE_POOL_PAGE_SIZE must be a positive integer, got {p:?}"
                        ))
                    },
                )?),
                None => None,
            };
        Ok(EnvConfig {
            endpoint,
            credentials,
            auth_file,
            timeout,
            insecure,
            page_size,
        })
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The credentials read from the auth file.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The auth file that was read.
    pub fn auth_file(&self) -> &Path {
        &self.auth_file
    }

    /// The per-call timeout from `ONE_XMLRPC_TIMEOUT`.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Whether `ONE_DISABLE_SSL_VERIFY` turns TLS verification off.
    pub fn tls_verification_disabled(&self) -> bool {
        self.insecure
    }

    /// The pool page size from `ONE_POOL_PAGE_SIZE`.
    pub fn page_size(&self) -> Option<u32> {
        self.page_size
    }

    /// Applies these settings to `builder` (endpoint, credentials, timeout, TLS, page size).
    pub fn apply(self, builder: OneClientBuilder) -> OneClientBuilder {
        let mut builder = builder
            .endpoint(self.endpoint)
            .credentials(self.credentials);
        let mut http = builder.http.take().unwrap_or_default();
        if let Some(t) = self.timeout {
            builder = builder.timeout(t);
            http = http.request_timeout(t);
        }
        if self.insecure {
            http = http.danger_accept_invalid_certs(true);
        }
        if let Some(n) = self.page_size {
            builder = builder.page_size(n);
        }
        builder.http = Some(http);
        builder
    }
}

impl OneClient {
    /// A builder.
    pub fn builder() -> OneClientBuilder {
        OneClientBuilder::default()
    }

    /// A client configured like the OpenNebula CLI:
    ///
    /// * endpoint: `$ONE_XMLRPC`, else the first line of `~/.one/one_endpoint`, else
    ///   [`DEFAULT_ENDPOINT`];
    /// * credentials: the file named by `$ONE_AUTH`, else `~/.one/one_auth` (one line
    ///   `user:password`, split on the first colon, whitespace trimmed);
    /// * `$ONE_XMLRPC_TIMEOUT` (seconds) sets the per-call timeout;
    /// * `$ONE_DISABLE_SSL_VERIFY` set to anything but `""`, `0`, `false` or `no` turns
    ///   TLS verification off;
    /// * `$ONE_POOL_PAGE_SIZE` sets the pool page size.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the file or variable that is missing or
    /// malformed.
    pub fn from_env() -> Result<OneClient> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let var = |name: &str| std::env::var(name).ok();
        OneClient::from_env_with(&EnvSource::new(&var, home.as_deref()), OneClient::builder())
    }

    /// [`OneClient::from_env`] with an explicit environment and home folder, starting
    /// from `builder` (for a transport or HTTP settings of your own).
    ///
    /// # Errors
    /// As [`OneClient::from_env`].
    pub fn from_env_with(env: &EnvSource<'_>, builder: OneClientBuilder) -> Result<OneClient> {
        EnvConfig::load(env)?.apply(builder).build()
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The user name of the session, when known.
    pub fn username(&self) -> Option<&str> {
        self.inner.username.as_deref()
    }

    /// The page size used by pool streams.
    pub fn page_size(&self) -> u32 {
        self.inner.page_size
    }

    /// The per-call timeout, if one was set (builder or `ONE_XMLRPC_TIMEOUT`).
    pub fn timeout(&self) -> Option<Duration> {
        self.inner.timeout
    }

    /// Calls any method with untyped parameters (the session is added first, and `one.`
    /// is prefixed when missing) and returns the untyped success value.
    ///
    /// Read-only methods ([`rpc::is_read_only`]) are retried on transport errors per the
    /// retry policy; others run once.
    ///
    /// # Errors
    /// Transport errors, [`ErrorKind::Protocol`] for malformed responses, the mapped
    /// OpenNebula error for failures (see [`crate::OneErrorCode`]), and faults.
    pub async fn call(&self, method: &str, params: Vec<RpcValue>) -> Result<RpcValue> {
        let method = rpc::full_method_name(method);
        self.call_full(&method, &params).await
    }

    pub(crate) async fn call_full(&self, method: &str, params: &[RpcValue]) -> Result<RpcValue> {
        let read_only = rpc::is_read_only(method);
        let body = Bytes::from(rpc::encode_call(
            method,
            self.inner.session.expose_secret(),
            params,
        )?);
        let span = tracing::debug_span!("opennebula.call", method, read_only);
        self.inner
            .retry
            .run(read_only, || {
                self.send_once(method, body.clone(), read_only)
            })
            .instrument(span)
            .await
    }

    async fn send_once(&self, method: &str, body: Bytes, read_only: bool) -> Result<RpcValue> {
        let mut request = HttpRequest::post(self.inner.endpoint.clone(), body)
            .header("Content-Type", "text/xml")?
            .idempotent(read_only);
        if let Some(t) = self.inner.timeout {
            request = request.timeout(t);
        }
        let response = self
            .inner
            .transport
            .send(request)
            .await
            .map_err(|e| e.context(method))?;
        let status = response.status.as_u16();
        if !response.status.is_success() {
            let kind = if status >= 500 {
                ErrorKind::Server
            } else {
                ErrorKind::Protocol
            };
            let mut err = Error::new(
                kind,
                format!("{method}: HTTP {status} from the XML-RPC endpoint"),
            )
            .with_http_status(status);
            if let Some(delay) = response.retry_after() {
                err = err.with_retry_after(delay);
            }
            return Err(err);
        }
        let body = response.body;
        tracing::debug!(method, bytes = body.len(), "response");
        if body.len() > BLOCKING_DECODE_THRESHOLD {
            let m = method.to_owned();
            tokio::task::spawn_blocking(move || rpc::decode_one_owned(body, &m))
                .await
                .map_err(|e| {
                    Error::with_source(ErrorKind::Cancelled, "response decoding was aborted", e)
                })?
        } else {
            rpc::decode_one_owned(body, method)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_file_rules() {
        let p = Path::new("/x/one_auth");
        let c = parse_auth("  oneadmin:pa:ss  \n", p).expect("valid");
        assert_eq!(c.username(), Some("oneadmin"));
        assert_eq!(c.secret().expose_secret(), "pa:ss");
        for bad in ["", "nocolon", ":pw", "user:", "\n\n"] {
            let err = parse_auth(bad, p).expect_err(bad);
            assert!(err.message().contains("/x/one_auth"), "{err}");
            assert!(!err.message().contains("pw"), "{err}");
        }
    }

    #[test]
    fn builder_validation() {
        assert!(OneClient::builder().build().is_err());
        let creds = Credentials::password("u", "p");
        assert!(
            OneClient::builder()
                .credentials(creds.clone())
                .endpoint("ftp://x")
                .build()
                .is_err()
        );
        assert!(
            OneClient::builder()
                .credentials(Credentials::api_token("t"))
                .build()
                .is_err()
        );
        let c = OneClient::builder()
            .credentials(creds)
            .build()
            .expect("client");
        assert_eq!(c.endpoint().as_str(), DEFAULT_ENDPOINT);
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("u:p"), "{dbg}");
    }

    #[test]
    fn builder_debug_redacts_the_endpoint() {
        let b = OneClient::builder()
            .endpoint("https://oneadmin:S3CRET-PW@one.example:2633/RPC2?token=S3CRET-TOK")
            .credentials(Credentials::password("u", "p"));
        let dbg = format!("{b:?}");
        assert!(!dbg.contains("S3CRET"), "{dbg}");
        assert!(dbg.contains("one.example:2633/RPC2"), "{dbg}");
        let b = OneClient::builder().endpoint("::not a url with S3CRET::");
        let dbg = format!("{b:?}");
        assert!(!dbg.contains("S3CRET"), "{dbg}");
        let c = b
            .endpoint("http://oneadmin:S3CRET-PW@h:2633/RPC2")
            .credentials(Credentials::password("u", "p"))
            .build()
            .expect("client");
        assert!(!format!("{c:?}").contains("S3CRET"));
    }
}
