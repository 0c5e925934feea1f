//! Direct vCloud Director login: API versions and negotiation, legacy `/api/sessions`,
//! cloudapi JWT sessions, and API tokens exchanged through OAuth2.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, RefreshToken, RequestTokenError, TokenResponse, TokenUrl};
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use nebulair_core::{
    Credentials, Error, ErrorKind, ExposeSecret, HttpConfig, HttpRequest, HttpResponse,
    HttpTransport, ReqwestTransport, Result, SecretString, ServiceError, Session,
};

use super::{
    BEARER_AUTH_HEADER, OrgInfo, VCLOUD_AUTH_HEADER, base_url, basic_auth, header_token,
    send_checked,
};
use crate::client::{Reauthenticate, VcdClient};
use crate::error::error_from_response;
use crate::model::xml::XmlElement;
use crate::model::{ApiVersion, Reference};

/// The JWT header of cloudapi logins (and of legacy logins on newer vCD).
const ACCESS_TOKEN_HEADER: &str = "x-vmware-vcloud-access-token";

/// The lowest API version this client negotiates by default.
const MIN_VERSION: &str = "5.1";
/// The highest API version this client negotiates by default.
const MAX_VERSION: &str = "39.0";

/// One `VersionInfo` of `GET /api/versions`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionInfo {
    /// `Version`.
    pub version: ApiVersion,
    /// `LoginUrl`.
    pub login_url: Option<String>,
    /// `@deprecated`.
    pub deprecated: bool,
}

/// Decodes a `SupportedVersions` document. Entries whose version is not a dotted
/// number are skipped.
///
/// # Errors
/// [`ErrorKind::Protocol`] when the document is not XML or not `SupportedVersions`.
pub fn parse_versions(text: &str) -> Result<Vec<VersionInfo>> {
    let doc = XmlElement::parse(text)?;
    if doc.name() != "SupportedVersions" {
        return Err(Error::protocol(format!(
            "expected SupportedVersions, got <{}>",
            doc.name()
        )));
    }
    Ok(doc
        .children_named("VersionInfo")
        .filter_map(|vi| {
            let version = ApiVersion::new(vi.child_text("Version")?).ok()?;
            Some(VersionInfo {
                version,
                login_url: vi.child_text("LoginUrl").map(str::to_owned),
                deprecated: vi.attr("deprecated") == Some("true"),
            })
        })
        .collect())
}

/// Picks the highest server version in `min..=max`, preferring versions not marked
/// deprecated (a deprecated one is used only when nothing else fits).
///
/// ```
/// use nebulair_vcloud::session::{negotiate_version, parse_versions};
/// let versions = parse_versions(r#"<SupportedVersions>
///   <VersionInfo deprecated="true"><Version>5.6</Version></VersionInfo>
///   <VersionInfo><Version>32.0</Version></VersionInfo>
///   <VersionInfo><Version>40.0</Version></VersionInfo></SupportedVersions>"#)?;
/// let v = negotiate_version(&versions, &"5.1".parse()?, &"39.0".parse()?)?;
/// assert_eq!(v.as_str(), "32.0");
/// # Ok::<(), nebulair_core::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`] listing the server's versions when none fits.
pub fn negotiate_version(
    server: &[VersionInfo],
    min: &ApiVersion,
    max: &ApiVersion,
) -> Result<ApiVersion> {
    let fits = |v: &&VersionInfo| &v.version >= min && &v.version <= max;
    server
        .iter()
        .filter(|v| !v.deprecated)
        .filter(fits)
        .map(|v| &v.version)
        .max()
        .or_else(|| server.iter().filter(fits).map(|v| &v.version).max())
        .cloned()
        .ok_or_else(|| {
            let list: Vec<&str> = server.iter().map(|v| v.version.as_str()).collect();
            Error::invalid_input(format!(
                "no API version in common: the server supports [{}], this client {min} to {max}",
                list.join(", ")
            ))
        })
}

/// How [`VcdSession`] logs in with a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginMode {
    /// cloudapi from API 33.0 on, legacy `/api/sessions` below.
    #[default]
    Auto,
    /// Always `POST /api/sessions` (token in `x-vcloud-authorization`).
    Legacy,
    /// Always `POST /cloudapi/1.0.0/sessions` (JWT, sent as `Authorization: Bearer`).
    CloudApi,
}

/// What a [`VcdSession`] logged in as.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VcdLogin {
    /// The user name.
    pub user: Option<String>,
    /// The org name.
    pub org_name: Option<String>,
    /// The org id (uuid).
    pub org_id: Option<String>,
    /// Role names (cloudapi logins).
    pub roles: Vec<String>,
    /// The links of the legacy `Session` document (org list, org, query list, ...).
    pub links: Vec<Reference>,
}

#[derive(Default)]
struct State {
    org_info: Option<OrgInfo>,
    version: Option<ApiVersion>,
    login: Option<VcdLogin>,
    expires_at: Option<Instant>,
    /// When the token itself ends (the JWT's `exp`, the OAuth `expires_in`).
    valid_until: Option<SystemTime>,
    /// The idle timeout the server announced (cloudapi `sessionIdleTimeoutMinutes`).
    idle_timeout: Option<Duration>,
}

/// What a login said about how long its token lasts.
#[derive(Debug, Clone, Copy, Default)]
struct Lifetime {
    /// From now until the token ends (the OAuth `expires_in`).
    expires_in: Option<Duration>,
    /// The idle timeout (cloudapi `sessionIdleTimeoutMinutes`).
    idle: Option<Duration>,
}

struct Inner {
    transport: Arc<dyn HttpTransport>,
    /// `transport` behind the retry policy, for the login requests.
    login_transport: Arc<dyn HttpTransport>,
    options: crate::client::ClientOptions,
    base: Url,
    org: Option<String>,
    credentials: Credentials,
    mode: LoginMode,
    fixed_version: Option<ApiVersion>,
    min_version: ApiVersion,
    max_version: ApiVersion,
    state: RwLock<State>,
    login_lock: tokio::sync::Mutex<()>,
}

/// A direct vCloud Director session.
///
/// Logs in with a password (legacy `POST /api/sessions` with `user@org`, or cloudapi
/// `POST /cloudapi/1.0.0/sessions`, `/sessions/provider` for the `System` org), with an
/// API token (OAuth2 refresh-token grant at `/oauth/tenant/{org}/token` or
/// `/oauth/provider/token`), or with an existing token. Without a fixed version it
/// reads `GET /api/versions` and negotiates the highest common one. A `406` says which
/// versions the server supports.
///
/// ```
/// use nebulair_core::Credentials;
/// use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_API_TOKEN, DEFAULT_ORG};
/// use nebulair_vcloud::session::VcdSession;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let sim = VcloudSimulator::builder().start().await?;
/// // An API token, exchanged at /oauth/tenant/{org}/token for a bearer access token.
/// let sess = VcdSession::builder(sim.base_url().as_str())
///     .org(DEFAULT_ORG)
///     .credentials(Credentials::api_token(DEFAULT_API_TOKEN))
///     .build()?;
/// let org_info = sess.login().await?;
/// assert!(org_info.is_bearer());
/// let client = sess.client()?; // logs in again on 401
/// client.get_xml("api/org/").await?;
/// sess.logout().await?;
/// # sim.shutdown().await;
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
/// ```
#[derive(Clone)]
pub struct VcdSession {
    inner: Arc<Inner>,
}

impl fmt::Debug for VcdSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.read();
        f.debug_struct("VcdSession")
            .field("base", &self.inner.base.as_str())
            .field("org", &self.inner.org)
            .field("credentials", &self.inner.credentials)
            .field("mode", &self.inner.mode)
            .field("version", &st.version.as_ref().map(ApiVersion::as_str))
            .field("logged_in", &st.org_info.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`VcdSession`].
#[derive(Debug)]
pub struct VcdSessionBuilder {
    base: String,
    org: Option<String>,
    credentials: Option<Credentials>,
    mode: LoginMode,
    version: Option<ApiVersion>,
    min_version: Option<ApiVersion>,
    max_version: Option<ApiVersion>,
    transport: Option<Arc<dyn HttpTransport>>,
    http: HttpConfig,
    retry: nebulair_core::RetryPolicy,
    allowed_origins: Vec<String>,
}

impl VcdSessionBuilder {
    /// The retry policy of the logins and of [`VcdSession::client`]'s clients (default:
    /// core's [`RetryPolicy::default`](nebulair_core::RetryPolicy)). Only idempotent
    /// requests are retried; a deadline set on it bounds each call with all its attempts.
    pub fn retry_policy(mut self, policy: nebulair_core::RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Also lets the session's clients send the token to `origin` (`scheme://host[:port]`),
    /// e.g. the public name a vCD behind a reverse proxy writes into its hrefs. Any other
    /// origin than the endpoint's is refused with
    /// [`ErrorKind::ForeignOrigin`](nebulair_core::ErrorKind::ForeignOrigin).
    /// Checked by [`build`](Self::build).
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// The org to log in to (`System` for the provider). A user name written
    /// `user@org` sets it too.
    pub fn org(mut self, org: impl Into<String>) -> Self {
        self.org = Some(org.into());
        self
    }

    /// The credentials: [`Credentials::Password`], [`Credentials::ApiToken`], or
    /// [`Credentials::Token`] (an existing `x-vcloud-authorization` token, or a JWT
    /// when longer than 32 characters).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// How password logins are done (default [`LoginMode::Auto`]).
    pub fn login_mode(mut self, mode: LoginMode) -> Self {
        self.mode = mode;
        self
    }

    /// Uses this API version instead of negotiating one.
    pub fn version(mut self, version: ApiVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// The range of versions negotiation may pick (default 5.1 to 39.0).
    pub fn version_range(mut self, min: ApiVersion, max: ApiVersion) -> Self {
        self.min_version = Some(min);
        self.max_version = Some(max);
        self
    }

    /// Uses this transport (default: a [`ReqwestTransport`] from the HTTP config).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// HTTP settings for the default transport.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// Builds the session (no request is sent yet).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid URL or allowed origin, missing
    /// credentials, a password or API-token login without an org, or a user token (not
    /// used by vCD).
    pub fn build(self) -> Result<VcdSession> {
        let mut credentials = self
            .credentials
            .ok_or_else(|| Error::invalid_input("VcdSession needs credentials"))?;
        let mut org = self.org;
        if let Credentials::Password { username, password } = &credentials
            && let Some((user, o)) = username.rsplit_once('@')
            && org.is_none()
        {
            org = Some(o.to_owned());
            credentials = Credentials::Password {
                username: user.to_owned(),
                password: password.clone(),
            };
        }
        match &credentials {
            Credentials::Password { .. } | Credentials::ApiToken(_) if org.is_none() => {
                return Err(Error::invalid_input(
                    "a vCD password or API-token login needs an org (builder .org(..) or user@org)",
                ));
            }
            Credentials::UserToken { .. } => {
                return Err(Error::invalid_input(
                    "vCD does not use user tokens: use a password, an API token or a session token",
                ));
            }
            _ => {}
        }
        let transport = match self.transport {
            Some(t) => t,
            None => Arc::new(ReqwestTransport::new(&self.http)?),
        };
        let parse = |s: &str| ApiVersion::new(s);
        let options = super::client_options(self.retry, &self.allowed_origins)?;
        Ok(VcdSession {
            inner: Arc::new(Inner {
                login_transport: super::login_transport(&transport, &options),
                options,
                transport,
                base: base_url(&self.base)?,
                org,
                credentials,
                mode: self.mode,
                fixed_version: self.version,
                min_version: self.min_version.map_or_else(|| parse(MIN_VERSION), Ok)?,
                max_version: self.max_version.map_or_else(|| parse(MAX_VERSION), Ok)?,
                state: RwLock::new(State::default()),
                login_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudApiSession {
    #[serde(default)]
    user: Option<NameId>,
    #[serde(default)]
    org: Option<NameId>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    session_idle_timeout_minutes: Option<u64>,
}

#[derive(Deserialize)]
struct NameId {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

impl VcdSession {
    /// A builder for a session with the vCD at `url` (e.g. `https://vcd.example.test`).
    pub fn builder(url: impl Into<String>) -> VcdSessionBuilder {
        VcdSessionBuilder {
            base: url.into(),
            org: None,
            credentials: None,
            mode: LoginMode::Auto,
            version: None,
            min_version: None,
            max_version: None,
            transport: None,
            http: HttpConfig::default(),
            retry: nebulair_core::RetryPolicy::default(),
            allowed_origins: Vec::new(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.inner.base.join(path).map_err(|e| {
            Error::with_source(ErrorKind::InvalidInput, format!("invalid path {path:?}"), e)
        })
    }

    fn is_system_org(&self) -> bool {
        self.inner
            .org
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("system"))
    }

    /// `GET /api/versions` (no authentication).
    ///
    /// # Errors
    /// Request errors; [`ErrorKind::Protocol`] for an unexpected document.
    pub async fn versions(&self) -> Result<Vec<VersionInfo>> {
        let req =
            HttpRequest::get(self.url("api/versions")?).header("accept", "application/*+xml")?;
        let resp = send_checked(&*self.inner.login_transport, req).await?;
        parse_versions(resp.body_str()?)
    }

    /// The version in use: the fixed one, the negotiated one, or (negotiating now)
    /// the highest common one.
    ///
    /// # Errors
    /// As [`versions`](Self::versions) and [`negotiate_version`].
    pub async fn api_version(&self) -> Result<ApiVersion> {
        if let Some(v) = &self.inner.fixed_version {
            return Ok(v.clone());
        }
        if let Some(v) = self.read().version.clone() {
            return Ok(v);
        }
        let versions = self.versions().await?;
        let v = negotiate_version(&versions, &self.inner.min_version, &self.inner.max_version)?;
        tracing::debug!(version = %v, "negotiated vCD API version");
        self.write().version = Some(v.clone());
        Ok(v)
    }

    /// Logs in with the stored credentials and returns the [`OrgInfo`]
    /// (vcdurl = the vCD URL, org uuid = the org's id).
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`] for rejected credentials or API tokens
    /// (`invalid_grant`); [`ErrorKind::InvalidInput`] when the server does not accept
    /// the API version (the message lists the versions it supports);
    /// [`ErrorKind::Protocol`] when the token header is missing.
    pub async fn login(&self) -> Result<OrgInfo> {
        let _guard = self.inner.login_lock.lock().await;
        self.login_locked().await
    }

    async fn login_locked(&self) -> Result<OrgInfo> {
        let version = self.api_version().await?;
        let result = match &self.inner.credentials {
            Credentials::Password { username, password } => {
                let cloudapi = match self.inner.mode {
                    LoginMode::Auto => version.at_least(33, 0),
                    LoginMode::Legacy => false,
                    LoginMode::CloudApi => true,
                };
                if cloudapi {
                    self.login_cloudapi(username, password, &version).await
                } else {
                    self.login_legacy(username, password, &version).await
                }
            }
            Credentials::ApiToken(token) => self.login_api_token(token, &version).await,
            Credentials::Token(token) => {
                let tok = token.expose_secret();
                let header = if tok.len() > 32 {
                    BEARER_AUTH_HEADER
                } else {
                    VCLOUD_AUTH_HEADER
                };
                self.adopt_token(token.clone(), header, &version).await
            }
            _ => Err(Error::invalid_input("unsupported credentials for vCD")),
        };
        let (info, login, lifetime) = match result {
            Ok(r) => r,
            Err(e) if e.http_status() == Some(406) => {
                return Err(self.explain_406(e, &version).await);
            }
            Err(e) => return Err(e),
        };
        let now = SystemTime::now();
        let jwt_exp = if info.is_bearer() {
            super::jwt_expiry(info.token().expose_secret())
        } else {
            None
        };
        let valid_until = [jwt_exp, lifetime.expires_in.map(|d| now + d)]
            .into_iter()
            .flatten()
            .min();
        // For `is_valid`: the earliest of the idle timeout and the token's own end.
        let until_end = valid_until.map(|t| t.duration_since(now).unwrap_or_default());
        let mut st = self.write();
        st.org_info = Some(info.clone());
        st.login = Some(login);
        st.expires_at = [lifetime.idle, until_end]
            .into_iter()
            .flatten()
            .min()
            .map(|d| Instant::now() + d);
        st.valid_until = valid_until;
        st.idle_timeout = lifetime.idle;
        Ok(info)
    }

    async fn explain_406(&self, err: Error, version: &ApiVersion) -> Error {
        let supported = match self.versions().await {
            Ok(v) => v
                .iter()
                .map(|v| v.version.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            Err(_) => "unknown (GET /api/versions failed)".to_owned(),
        };
        let mut out = Error::new(
            ErrorKind::InvalidInput,
            format!(
                "the server does not accept API version {version}; it supports [{supported}] ({})",
                err.message()
            ),
        )
        .with_http_status(406);
        if let Some(svc) = err.service() {
            out = out.with_service(svc.clone());
        }
        out.set_source(err)
    }

    fn login_request(
        &self,
        url: Url,
        accept: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<HttpRequest> {
        let org = self.inner.org.as_deref().unwrap_or_default();
        HttpRequest::post(url, "")
            .header("accept", accept)?
            .secret_header(
                "authorization",
                &basic_auth(&format!("{username}@{org}"), password),
            )
    }

    async fn login_legacy(
        &self,
        username: &str,
        password: &SecretString,
        version: &ApiVersion,
    ) -> Result<(OrgInfo, VcdLogin, Lifetime)> {
        let req = self.login_request(
            self.url("api/sessions")?,
            &format!("application/*+xml;version={version}"),
            username,
            password,
        )?;
        let resp = send_checked(&*self.inner.login_transport, req).await?;
        let (token, header) = match header_token(&resp, VCLOUD_AUTH_HEADER, "vCD login") {
            Ok(t) => (t, VCLOUD_AUTH_HEADER),
            Err(_) => (
                header_token(&resp, ACCESS_TOKEN_HEADER, "vCD login")?,
                BEARER_AUTH_HEADER,
            ),
        };
        let login = parse_session(&resp)?;
        let info = self.org_info_for(token, header, version, &login)?;
        Ok((info, login, Lifetime::default()))
    }

    async fn login_cloudapi(
        &self,
        username: &str,
        password: &SecretString,
        version: &ApiVersion,
    ) -> Result<(OrgInfo, VcdLogin, Lifetime)> {
        let path = if self.is_system_org() {
            "cloudapi/1.0.0/sessions/provider"
        } else {
            "cloudapi/1.0.0/sessions"
        };
        let req = self.login_request(
            self.url(path)?,
            &format!("application/json;version={version}"),
            username,
            password,
        )?;
        let resp = send_checked(&*self.inner.login_transport, req).await?;
        let token = header_token(&resp, ACCESS_TOKEN_HEADER, "cloudapi login")?;
        let body: CloudApiSession = serde_json::from_slice(&resp.body).map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                "cloudapi login: unexpected session JSON",
                e,
            )
        })?;
        let org_id = body
            .org
            .as_ref()
            .and_then(|o| o.id.as_deref())
            .map(|id| id.rsplit(':').next().unwrap_or(id).to_owned());
        let login = VcdLogin {
            user: body.user.and_then(|u| u.name),
            org_name: body.org.and_then(|o| o.name),
            org_id,
            roles: body.roles,
            links: Vec::new(),
        };
        let info = self.org_info_for(token, BEARER_AUTH_HEADER, version, &login)?;
        // 0 minutes says nothing usable (no server ends a session at once).
        let idle = body
            .session_idle_timeout_minutes
            .filter(|m| *m > 0)
            .map(|m| Duration::from_secs(m.saturating_mul(60)));
        Ok((
            info,
            login,
            Lifetime {
                expires_in: None,
                idle,
            },
        ))
    }

    async fn login_api_token(
        &self,
        api_token: &SecretString,
        version: &ApiVersion,
    ) -> Result<(OrgInfo, VcdLogin, Lifetime)> {
        let path = if self.is_system_org() {
            "oauth/provider/token".to_owned()
        } else {
            format!(
                "oauth/tenant/{}/token",
                self.inner.org.as_deref().unwrap_or_default()
            )
        };
        let token_url = self.url(&path)?;
        let operation = format!("POST {}", token_url.path());
        let client = BasicClient::new(ClientId::new(String::new()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::from_url(token_url));
        let http_client = OauthHttp {
            transport: self.inner.transport.clone(),
        };
        let refresh = RefreshToken::new(api_token.expose_secret().to_owned());
        let resp = client
            .exchange_refresh_token(&refresh)
            .request_async(&http_client)
            .await
            .map_err(|e| map_oauth_error(e, &operation))?;
        let access = SecretString::from(resp.access_token().secret().clone());
        let expires = resp.expires_in();
        let (info, login, _) = self
            .adopt_token(access, BEARER_AUTH_HEADER, version)
            .await?;
        Ok((
            info,
            login,
            Lifetime {
                expires_in: expires,
                idle: None,
            },
        ))
    }

    /// Validates a token with `GET /api/session` and reads the org from the Session.
    async fn adopt_token(
        &self,
        token: SecretString,
        header: &str,
        version: &ApiVersion,
    ) -> Result<(OrgInfo, VcdLogin, Lifetime)> {
        let value = if header == BEARER_AUTH_HEADER {
            format!("Bearer {}", token.expose_secret())
        } else {
            token.expose_secret().to_owned()
        };
        let req = HttpRequest::get(self.url("api/session")?)
            .header("accept", &format!("application/*+xml;version={version}"))?
            .secret_header(header, &value)?;
        let resp = send_checked(&*self.inner.login_transport, req).await?;
        let login = parse_session(&resp)?;
        let info = self.org_info_for(token, header, version, &login)?;
        Ok((info, login, Lifetime::default()))
    }

    fn org_info_for(
        &self,
        token: SecretString,
        header: &str,
        version: &ApiVersion,
        login: &VcdLogin,
    ) -> Result<OrgInfo> {
        let org_id = login.org_id.clone().unwrap_or_default();
        Ok(
            OrgInfo::new(self.inner.base.as_str(), token.expose_secret(), org_id)?
                .with_auth_header(header)
                .with_version(version.clone()),
        )
    }

    /// The current [`OrgInfo`], if logged in.
    pub fn org_info(&self) -> Option<OrgInfo> {
        self.read().org_info.clone()
    }

    /// What the session logged in as, if logged in.
    pub fn login_details(&self) -> Option<VcdLogin> {
        self.read().login.clone()
    }

    /// When the token of the last login ends, as the server said: the `exp` claim of a
    /// JWT (cloudapi logins, API-token access tokens, bearer tokens of newer vCD), or
    /// the OAuth `expires_in` of an API-token login, whichever comes first. `None` when
    /// not logged in or when the server did not say (legacy `x-vcloud-authorization`
    /// tokens end after an idle time only). Use it to cache a session across processes.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.read().valid_until
    }

    /// The idle timeout the server announced at login (cloudapi's
    /// `sessionIdleTimeoutMinutes`): the session ends when no request uses it for this
    /// long. `None` when not logged in or when the server did not say.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.read().idle_timeout
    }

    /// A [`VcdClient`] for the logged-in org that logs in again on `401`.
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`] when not logged in.
    pub fn client(&self) -> Result<VcdClient> {
        let info = self.org_info().ok_or_else(|| {
            Error::new(
                ErrorKind::Authentication,
                "not logged in to vCD: call login() first",
            )
        })?;
        Ok(VcdClient::with_reauth(
            info,
            self.inner.transport.clone(),
            Arc::new(VcdReauth {
                session: self.clone(),
            }),
        )
        .with_options(self.inner.options.clone()))
    }

    /// vcloudair's direct-vCD `org_info` (its `VCASession.login(vcd_url=...)`): the
    /// current one with `org_uuid` replaced by the id of the org's first vDC, which is
    /// what vDC-level features such as [`Metrics::for_vdc`](crate::metrics::Metrics::for_vdc)
    /// expect.
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`] when not logged in; [`ErrorKind::NotFound`] when the
    /// org has no vDC; request errors.
    pub async fn vdc_org_info(&self) -> Result<OrgInfo> {
        let client = self.client()?;
        let info = client.org_info();
        let org = client
            .get_xml(&format!("api/org/{}", info.org_uuid()))
            .await?;
        let vdc = crate::model::links(&org)
            .into_iter()
            .find(|l| {
                l.media_type
                    .as_deref()
                    .is_some_and(|t| t.contains("vcloud.vdc+xml"))
            })
            .and_then(|l| l.trailing_uuid())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("org {} has no vDC link", info.org_uuid()),
                )
            })?;
        let base = info.vcdurl().as_str().to_owned();
        Ok(OrgInfo::new(base, info.token().expose_secret(), vdc)?
            .with_auth_header(info.auth_header())
            .with_version(info.version().clone()))
    }

    /// Ends the session (`DELETE /api/session`) and forgets the token. A token that is
    /// already dead is not an error.
    ///
    /// # Errors
    /// Transport errors and unexpected statuses.
    pub async fn logout(&self) -> Result<()> {
        let info = {
            let mut st = self.write();
            st.login = None;
            st.expires_at = None;
            st.valid_until = None;
            st.idle_timeout = None;
            st.org_info.take()
        };
        let Some(info) = info else { return Ok(()) };
        let (name, value) = info.auth_header_value();
        let req = HttpRequest::delete(self.url("api/session")?)
            .header(
                "accept",
                &format!("application/*+xml;version={}", info.version()),
            )?
            .secret_header(&name, &value)?;
        match send_checked(&*self.inner.login_transport, req).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_authentication() || e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The `oauth2` crate's async HTTP client, driven through our transport.
struct OauthHttp {
    transport: Arc<dyn HttpTransport>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OauthHttp {
    type Error = Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(oauth_send(&*self.transport, request))
    }
}

/// Sends an OAuth request through our transport (the `oauth2` crate's async HTTP
/// client). vCD binds API tokens to the user, so the empty `client_id` field the crate
/// always writes is dropped. Error statuses whose body is not an OAuth error JSON
/// become typed errors here.
async fn oauth_send(
    transport: &dyn HttpTransport,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse> {
    let (parts, body) = req.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| Error::with_source(ErrorKind::InvalidInput, "invalid OAuth token URL", e))?;
    let body: Vec<u8> = form_urlencoded_without_empty(&body, "client_id");
    let mut http = HttpRequest::new(parts.method, url)
        .body(body)
        .idempotent(false);
    for (name, value) in &parts.headers {
        http.headers.append(name.clone(), value.clone());
    }
    let operation = format!("{} {}", http.method, http.url.path());
    let resp: HttpResponse = transport.send(http).await?;
    if resp.status.as_u16() >= 400 {
        let is_oauth_error = serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .is_some_and(|v| v.get("error").is_some());
        if !is_oauth_error {
            return Err(error_from_response(&operation, &resp));
        }
    }
    let mut builder = http::Response::builder().status(resp.status);
    for (name, value) in &resp.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(resp.body.to_vec())
        .map_err(|e| Error::with_source(ErrorKind::Protocol, "invalid OAuth response", e))
}

/// Drops `name=` (empty value) from a form body.
fn form_urlencoded_without_empty(body: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let empty = format!("{name}=");
    text.split('&')
        .filter(|p| *p != empty && !p.is_empty())
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn map_oauth_error(
    err: RequestTokenError<Error, oauth2::basic::BasicErrorResponse>,
    operation: &str,
) -> Error {
    match err {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(resp) => {
            let code = resp.error();
            let kind = match code {
                BasicErrorResponseType::InvalidGrant
                | BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => ErrorKind::Authentication,
                BasicErrorResponseType::InvalidRequest
                | BasicErrorResponseType::InvalidScope
                | BasicErrorResponseType::UnsupportedGrantType => ErrorKind::InvalidInput,
                _ => ErrorKind::Server,
            };
            let desc = resp
                .error_description()
                .cloned()
                .unwrap_or_else(|| code.as_ref().to_owned());
            Error::new(kind, format!("{operation}: API token rejected: {desc}")).with_service(
                ServiceError::new("oauth", 400, desc)
                    .with_code_name(code.as_ref())
                    .with_operation(operation),
            )
        }
        RequestTokenError::Parse(e, _) => Error::with_source(
            ErrorKind::Protocol,
            format!("{operation}: unexpected OAuth token response"),
            e,
        ),
        RequestTokenError::Other(msg) => {
            Error::protocol(format!("{operation}: OAuth token request failed: {msg}"))
        }
    }
}

/// Reads a legacy `Session` document: user, org name, org id (from the org link).
fn parse_session(resp: &HttpResponse) -> Result<VcdLogin> {
    let doc = XmlElement::parse(resp.body_str()?)?;
    if doc.name() != "Session" {
        return Err(Error::protocol(format!(
            "expected a Session, got <{}>",
            doc.name()
        )));
    }
    let links = crate::model::links(&doc);
    let org_name = doc.attr("org").map(str::to_owned);
    let org_links: Vec<&Reference> = links
        .iter()
        .filter(|l| {
            l.media_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("application/vnd.vmware.vcloud.org+xml"))
        })
        .collect();
    let org_link = org_links
        .iter()
        .find(|l| {
            l.name.is_some()
                && l.name.as_deref().map(str::to_lowercase)
                    == org_name.as_deref().map(str::to_lowercase)
        })
        .or_else(|| org_links.first());
    let org_id = org_link.and_then(|l| l.trailing_uuid());
    Ok(VcdLogin {
        user: doc.attr("user").map(str::to_owned),
        org_name,
        org_id,
        roles: doc
            .attr("roles")
            .map(|r| {
                r.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        links: links.clone(),
    })
}

#[derive(Debug)]
struct VcdReauth {
    session: VcdSession,
}

#[async_trait]
impl Reauthenticate for VcdReauth {
    async fn reauthenticate(&self) -> Result<OrgInfo> {
        if matches!(self.session.inner.credentials, Credentials::Token(_)) {
            return Err(Error::new(
                ErrorKind::Authentication,
                "the vCD session token expired and there are no stored credentials to log in again",
            ));
        }
        tracing::debug!("vCD token rejected: logging in again");
        self.session.login().await
    }
}

#[async_trait]
impl Session for VcdSession {
    async fn login(&self) -> Result<()> {
        VcdSession::login(self).await.map(|_| ())
    }

    async fn logout(&self) -> Result<()> {
        VcdSession::logout(self).await
    }

    fn is_valid(&self) -> bool {
        let st = self.read();
        st.org_info.is_some() && st.expires_at.is_none_or(|t| Instant::now() < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
            .expect("sample")
    }

    #[test]
    fn version_samples() {
        let v = parse_versions(&sample("vcd_versions.xml")).expect("versions");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].version.as_str(), "1.5");
        assert_eq!(
            v[0].login_url.as_deref(),
            Some("http://localhost:4444/api/sessions")
        );
        let multi = parse_versions(&sample("vcd_versions_multi.xml")).expect("versions");
        assert_eq!(multi.len(), 5);
        assert!(multi[0].deprecated && !multi[2].deprecated);
        let min = ApiVersion::new("5.1").expect("v");
        let max = ApiVersion::new("39.0").expect("v");
        assert_eq!(
            negotiate_version(&multi, &min, &max).expect("v").as_str(),
            "33.0"
        );
        let max32 = ApiVersion::new("32.0").expect("v");
        assert_eq!(
            negotiate_version(&multi, &min, &max32).expect("v").as_str(),
            "32.0"
        );
        let only_old = ApiVersion::new("5.6").expect("v");
        assert_eq!(
            negotiate_version(&multi, &min, &only_old)
                .expect("deprecated fallback")
                .as_str(),
            "5.6"
        );
        let err = negotiate_version(&v, &min, &max).expect_err("1.5 too old");
        assert!(err.to_string().contains("[1.5]"), "{err}");
        assert!(parse_versions("<Other/>").is_err());
    }

    #[test]
    fn session_samples() {
        let login =
            parse_session(&HttpResponse::new(200, sample("vcd_session.xml"))).expect("session");
        assert_eq!(login.user.as_deref(), Some("username"));
        assert_eq!(login.org_name.as_deref(), Some("organization"));
        assert_eq!(
            login.org_id.as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
        assert_eq!(login.links.len(), 6);
        let v9 = parse_session(&HttpResponse::new(200, sample("vcd_session_v9.xml"))).expect("v9");
        assert!(v9.org_id.is_some());
        let cloud: CloudApiSession =
            serde_json::from_str(&sample("vcd_cloudapi_session.json")).expect("json");
        assert_eq!(
            cloud.org.and_then(|o| o.id).as_deref(),
            Some("urn:vcloud:org:8f03aa58-b618-4c32-836b-dc6b612ed3a4")
        );
        assert_eq!(cloud.session_idle_timeout_minutes, Some(30));
    }

    #[test]
    fn form_filter() {
        assert_eq!(
            form_urlencoded_without_empty(
                b"grant_type=refresh_token&refresh_token=abc&client_id=",
                "client_id"
            ),
            b"grant_type=refresh_token&refresh_token=abc".to_vec()
        );
    }

    #[test]
    fn builder_validation() {
        let no_org = VcdSession::builder("https://h")
            .credentials(Credentials::password("alice", "p"))
            .build();
        assert!(no_org.expect_err("org").kind() == ErrorKind::InvalidInput);
        let s = VcdSession::builder("https://h")
            .credentials(Credentials::password("alice@Acme", "p"))
            .build()
            .expect("user@org");
        assert_eq!(s.inner.org.as_deref(), Some("Acme"));
        assert!(!format!("{s:?}").contains("\"p\""));
        assert!(VcdSession::builder("https://h").build().is_err());
        assert!(
            VcdSession::builder("nope")
                .credentials(Credentials::token("t"))
                .build()
                .is_err()
        );
    }

    use nebulair_core::MockTransport;

    fn versions_body() -> String {
        r#"<SupportedVersions><VersionInfo><Version>32.0</Version></VersionInfo><VersionInfo><Version>36.0</Version></VersionInfo></SupportedVersions>"#.to_owned()
    }

    #[tokio::test]
    async fn cloudapi_login_with_mock() {
        let mock = Arc::new(MockTransport::with_handler(|req| {
            Ok(match (req.method.as_str(), req.url.path()) {
                ("GET", "/api/versions") => HttpResponse::new(200, versions_body()),
                ("POST", "/cloudapi/1.0.0/sessions") => {
                    HttpResponse::new(200, sample("vcd_cloudapi_session.json"))
                        .with_header(ACCESS_TOKEN_HEADER, "eyJ.jwt.sig")
                }
                ("DELETE", "/api/session") => HttpResponse::new(204, ""),
                _ => HttpResponse::new(404, ""),
            })
        }));
        let s = VcdSession::builder("https://vcd.example.test")
            .credentials(Credentials::password("alice@Acme", "pw"))
            .transport(mock.clone())
            .build()
            .expect("build");
        let info = s.login().await.expect("login");
        assert_eq!(info.version().as_str(), "36.0");
        assert_eq!(info.org_uuid(), "8f03aa58-b618-4c32-836b-dc6b612ed3a4");
        assert!(info.is_bearer());
        let login = s.login_details().expect("details");
        assert_eq!(login.roles, vec!["Organization Administrator".to_owned()]);
        assert!(Session::is_valid(&s));
        let req = &mock.requests()[1];
        assert_eq!(
            req.header_str("accept"),
            Some("application/json;version=36.0")
        );
        assert_eq!(
            req.header_str("authorization"),
            Some(basic_auth("alice@Acme", &SecretString::from("pw".to_owned())).as_str())
        );
        s.logout().await.expect("logout");
        let del = mock.requests().pop().expect("delete");
        assert_eq!(del.header_str("authorization"), Some("Bearer eyJ.jwt.sig"));
        assert!(!Session::is_valid(&s));
    }

    /// A JWT whose payload is `{"sub":"alice","exp":EXP}` (unsigned: only the client
    /// reads it).
    fn jwt_with_exp(exp: u64) -> String {
        use base64::Engine as _;
        let payload = format!(r#"{{"sub":"alice","exp":{exp}}}"#);
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[tokio::test]
    async fn the_expiry_is_what_the_server_said() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        for (exp, valid) in [(now + 600, true), (now - 5, false)] {
            let jwt = jwt_with_exp(exp);
            let mock = Arc::new(MockTransport::with_handler(move |req| {
                Ok(match (req.method.as_str(), req.url.path()) {
                    ("GET", "/api/versions") => HttpResponse::new(200, versions_body()),
                    ("POST", "/cloudapi/1.0.0/sessions") => {
                        HttpResponse::new(200, sample("vcd_cloudapi_session.json"))
                            .with_header(ACCESS_TOKEN_HEADER, &jwt)
                    }
                    _ => HttpResponse::new(404, ""),
                })
            }));
            let s = VcdSession::builder("https://vcd.example.test")
                .credentials(Credentials::password("alice@Acme", "pw"))
                .transport(mock)
                .build()
                .expect("build");
            assert_eq!(s.expires_at(), None, "not logged in yet");
            s.login().await.expect("login");
            assert_eq!(
                s.expires_at(),
                Some(std::time::UNIX_EPOCH + Duration::from_secs(exp)),
                "the JWT's exp"
            );
            assert_eq!(
                s.idle_timeout(),
                Some(Duration::from_secs(30 * 60)),
                "sessionIdleTimeoutMinutes"
            );
            assert_eq!(Session::is_valid(&s), valid, "exp {exp}, now {now}");
        }
    }

    #[tokio::test]
    async fn api_token_goes_through_oauth2_over_our_transport() {
        let mock = Arc::new(MockTransport::with_handler(|req| {
            Ok(match (req.method.as_str(), req.url.path()) {
                ("POST", "/oauth/tenant/acme/token") => {
                    let body = req.body_str().unwrap_or("");
                    if body.contains("refresh_token=api-tok")
                        && body.contains("grant_type=refresh_token")
                    {
                        HttpResponse::new(200, sample("vcd_oauth_token_response.json"))
                            .with_header("content-type", "application/json")
                    } else {
                        HttpResponse::new(
                            400,
                            r#"{"error":"invalid_grant","error_description":"bad token"}"#,
                        )
                        .with_header("content-type", "application/json")
                    }
                }
                ("GET", "/api/session") => HttpResponse::new(200, sample("vcd_session.xml")),
                _ => HttpResponse::new(404, ""),
            })
        }));
        let s = VcdSession::builder("https://vcd.example.test")
            .org("acme")
            .credentials(Credentials::api_token("api-tok"))
            .version(ApiVersion::new("36.0").expect("v"))
            .transport(mock.clone())
            .build()
            .expect("build");
        let info = s.login().await.expect("login");
        assert_eq!(
            info.token().expose_secret(),
            "eyJhbGciOiJSUzI1NiJ9.ZXhhbXBsZQ.c2lnbmF0dXJl"
        );
        assert_eq!(info.org_uuid(), "00000000-0000-0000-0000-000000000000");
        let reqs = mock.requests();
        let body = reqs[0].body_str().expect("body");
        assert!(!body.contains("client_id"), "{body}");
        assert_eq!(
            reqs[0].header_str("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            reqs[1].header_str("authorization"),
            Some("Bearer eyJhbGciOiJSUzI1NiJ9.ZXhhbXBsZQ.c2lnbmF0dXJl")
        );
        assert!(Session::is_valid(&s), "expires in 30 days");
        // The sample's access token is no JWT: the OAuth expires_in (30 days) says.
        let left = s
            .expires_at()
            .expect("expires_in")
            .duration_since(std::time::SystemTime::now())
            .expect("in the future");
        assert!(
            left <= Duration::from_secs(2_592_000) && left > Duration::from_secs(2_591_000),
            "{left:?}"
        );
        assert_eq!(s.idle_timeout(), None);

        let bad = VcdSession::builder("https://vcd.example.test")
            .org("acme")
            .credentials(Credentials::api_token("wrong"))
            .version(ApiVersion::new("36.0").expect("v"))
            .transport(mock.clone())
            .build()
            .expect("build");
        let err = bad.login().await.expect_err("invalid_grant");
        assert!(err.is_authentication());
        assert_eq!(
            err.service().and_then(|s| s.code_name()),
            Some("invalid_grant")
        );
        let other = VcdSession::builder("https://vcd.example.test")
            .org("nope")
            .credentials(Credentials::api_token("api-tok"))
            .version(ApiVersion::new("36.0").expect("v"))
            .transport(mock)
            .build()
            .expect("build");
        assert!(other.login().await.expect_err("404").is_not_found());
    }

    #[tokio::test]
    async fn not_acceptable_lists_server_versions() {
        let mock = Arc::new(MockTransport::with_handler(|req| {
            Ok(match req.url.path() {
                "/api/versions" => HttpResponse::new(200, versions_body()),
                _ => HttpResponse::new(
                    406,
                    r#"<Error majorErrorCode="406" minorErrorCode="NOT_ACCEPTABLE" message="The request has invalid accept header: Invalid API version requested."/>"#,
                ),
            })
        }));
        let s = VcdSession::builder("https://vcd.example.test")
            .org("acme")
            .credentials(Credentials::password("alice", "pw"))
            .version(ApiVersion::new("5.1").expect("v"))
            .transport(mock)
            .build()
            .expect("build");
        let err = s.login().await.expect_err("406");
        assert_eq!(err.http_status(), Some(406));
        assert!(err.to_string().contains("[32.0, 36.0]"), "{err}");
        assert!(err.to_string().contains("5.1"));
    }

    #[tokio::test]
    async fn vdc_org_info_uses_the_first_vdc() {
        let mock = Arc::new(MockTransport::with_handler(|req| {
            Ok(match (req.method.as_str(), req.url.path()) {
                ("POST", "/api/sessions") => HttpResponse::new(200, sample("vcd_session.xml"))
                    .with_header(VCLOUD_AUTH_HEADER, "tok"),
                ("GET", "/api/org/00000000-0000-0000-0000-000000000000") => {
                    HttpResponse::new(200, sample("vcd_org.xml"))
                }
                _ => HttpResponse::new(404, ""),
            })
        }));
        let s = VcdSession::builder("http://localhost:4444")
            .org("organization")
            .credentials(Credentials::password("username", "pw"))
            .version(ApiVersion::new("5.6").expect("v"))
            .transport(mock)
            .build()
            .expect("build");
        s.login().await.expect("login");
        let info = s.vdc_org_info().await.expect("vdc");
        assert_eq!(info.org_uuid(), "00000000-0000-0000-0000-000000000000");
        assert_eq!(info.token().expose_secret(), "tok");
    }
}
