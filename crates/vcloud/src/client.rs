//! The request plumbing every vCloud feature shares: [`VcdClient`].
//!
//! A `VcdClient` is an [`OrgInfo`] (where to go, which token) plus an
//! `Arc<dyn HttpTransport>`. It is cheap to clone (clones share the token, so a re-login
//! by one is seen by all). Each call:
//!
//! - joins a relative path to [`OrgInfo::vcdurl`] (absolute URLs pass through),
//! - refuses to send the token to any origin (scheme, host, port) other than the
//!   `vcdurl`'s and the ones allowed with [`ClientOptions::allow_origin`]: an `href`, a
//!   `nextPage` link or a redirect naming another host is an
//!   [`ErrorKind::ForeignOrigin`] error naming that origin, and nothing is sent,
//! - retries `GET`s (and requests marked [`idempotent`](ApiRequest::idempotent)) on
//!   transport errors, timeouts and 429/502/503/504 per its [`RetryPolicy`], honouring
//!   `Retry-After`; other requests are sent once,
//! - sets the token header (`x-vcloud-authorization`, or `Authorization: Bearer`) and the
//!   `Accept` header (`application/*+xml;version=X`, JSON, ...),
//! - maps any status >= 400 to a typed [`Error`] (see [`crate::error`]),
//! - on a `401`, when a [`Reauthenticate`] hook is attached (sessions attach one),
//!   logs in again once with the stored credentials and repeats the request.
//!
//! A response that is `202 Accepted` with a `Task` body is available as
//! [`VcdResponse::task`]; [`VcdClient::wait_for`] polls it to the end.
//!
//! ```
//! use std::sync::Arc;
//! use nebulair_core::{HttpResponse, MockTransport};
//! use nebulair_vcloud::{OrgInfo, VcdClient};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! let mock = Arc::new(MockTransport::new());
//! mock.push_response(HttpResponse::new(200, r#"<Org xmlns="http://www.vmware.com/vcloud/v1.5" name="acme"/>"#));
//! let info = OrgInfo::new("https://vcd.example.test/", "tok", "0c9c1f5e-7c2b-4f4d-9a7b-1f0d2a3b4c5d")?
//!     .with_version("33.0".parse()?);
//! let client = VcdClient::new(info, mock.clone());
//! let org = client.get_xml("api/org/0c9c1f5e-7c2b-4f4d-9a7b-1f0d2a3b4c5d").await?;
//! assert_eq!(org.attr("name"), Some("acme"));
//! let sent = &mock.requests()[0];
//! assert_eq!(sent.header_str("accept"), Some("application/*+xml;version=33.0"));
//! assert_eq!(sent.header_str("x-vcloud-authorization"), Some("tok"));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use nebulair_core::transport::redact_url;
use nebulair_core::{
    Error, ErrorKind, HttpConfig, HttpRequest, HttpResponse, HttpTransport, ReqwestTransport,
    Result, RetryPolicy,
};

use crate::error::error_from_response;
use crate::model::xml::XmlElement;
use crate::session::OrgInfo;
use crate::task::{Task, TaskWaiter};

/// Logs in again after the server answered `401` and returns the new [`OrgInfo`].
///
/// Sessions implement this for the org info they hand out; [`VcdClient`] calls it at
/// most once per request.
#[async_trait]
pub trait Reauthenticate: Send + Sync + fmt::Debug {
    /// Logs in again with the stored credentials.
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`] when the credentials are rejected; transport errors.
    async fn reauthenticate(&self) -> Result<OrgInfo>;
}

/// The `Accept` header a request sends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accept {
    /// `application/*+xml;version=X` (vCD XML API).
    VcdXml,
    /// `application/json;version=X` (cloudapi).
    VcdJson,
    /// `application/json` without a version (hybridity ANS and metrics).
    Json,
    /// `application/xml;version=X` (vCA vchs).
    XmlVersioned,
    /// Exactly this value.
    Custom(String),
}

impl Accept {
    fn header_value(&self, version: &str) -> String {
        match self {
            Accept::VcdXml => format!("application/*+xml;version={version}"),
            Accept::VcdJson => format!("application/json;version={version}"),
            Accept::Json => "application/json".to_owned(),
            Accept::XmlVersioned => format!("application/xml;version={version}"),
            Accept::Custom(v) => v.clone(),
        }
    }
}

/// One request to a vCloud endpoint, before authentication is added.
///
/// ```
/// use nebulair_vcloud::client::{Accept, ApiRequest};
/// let req = ApiRequest::get("api/query")
///     .query("type", "vm")
///     .query("pageSize", "128")
///     .accept(Accept::VcdXml);
/// # let _ = req;
/// ```
#[derive(Clone)]
pub struct ApiRequest {
    method: Method,
    target: String,
    accept: Accept,
    content_type: Option<String>,
    body: Bytes,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    idempotent: Option<bool>,
    timeout: Option<Duration>,
}

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("accept", &self.accept)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    /// A request with `method` to `target`: a path relative to the org's `vcdurl`
    /// (`api/query`) or an absolute URL (an `href` from a document). Accepts vCD XML.
    pub fn new(method: Method, target: impl Into<String>) -> Self {
        ApiRequest {
            method,
            target: target.into(),
            accept: Accept::VcdXml,
            content_type: None,
            body: Bytes::new(),
            query: Vec::new(),
            headers: Vec::new(),
            idempotent: None,
            timeout: None,
        }
    }

    /// A `GET`.
    pub fn get(target: impl Into<String>) -> Self {
        Self::new(Method::GET, target)
    }

    /// A `POST` (no body until one is set).
    pub fn post(target: impl Into<String>) -> Self {
        Self::new(Method::POST, target)
    }

    /// A `PUT`.
    pub fn put(target: impl Into<String>) -> Self {
        Self::new(Method::PUT, target)
    }

    /// A `DELETE`.
    pub fn delete(target: impl Into<String>) -> Self {
        Self::new(Method::DELETE, target)
    }

    /// Sets the `Accept` header.
    pub fn accept(mut self, accept: Accept) -> Self {
        self.accept = accept;
        self
    }

    /// Sets a body with its `Content-Type`.
    pub fn body(mut self, content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        self.content_type = Some(content_type.into());
        self.body = body.into();
        self
    }

    /// Sets a JSON body (`Content-Type: application/json`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `value` cannot be serialised.
    pub fn json<B: Serialize + ?Sized>(self, value: &B) -> Result<Self> {
        let body = serde_json::to_vec(value).map_err(|e| {
            Error::with_source(ErrorKind::InvalidInput, "cannot encode the JSON body", e)
        })?;
        Ok(self.body("application/json", body))
    }

    /// Adds a query parameter (encoded).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Marks the request as safe (or not) to repeat; defaults follow the method.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Sets a timeout for this request only.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The target as given.
    pub fn target(&self) -> &str {
        &self.target
    }
}

/// A successful (status < 400) response, with decoding helpers.
#[derive(Debug, Clone)]
pub struct VcdResponse {
    operation: String,
    inner: HttpResponse,
}

impl VcdResponse {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.inner.status
    }

    /// The raw response.
    pub fn http(&self) -> &HttpResponse {
        &self.inner
    }

    /// Consumes the wrapper and returns the raw response.
    pub fn into_http(self) -> HttpResponse {
        self.inner
    }

    /// The value of a response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.header_str(name)
    }

    /// The body as text.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when it is not UTF-8.
    pub fn text(&self) -> Result<&str> {
        self.inner.body_str()
    }

    /// The body as an XML tree.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the body is empty, not UTF-8 or not XML.
    pub fn xml(&self) -> Result<XmlElement> {
        XmlElement::parse(self.text()?).map_err(|e| e.context(&self.operation))
    }

    /// The body decoded from JSON.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the body is not JSON of the expected shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.inner.body).map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                format!("{}: unexpected JSON in the response", self.operation),
                e,
            )
        })
    }

    /// The `Task` the server answered with, if the body is one (vCD answers long
    /// operations with `202 Accepted` and a Task).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the status is 202 but the body is not a valid Task.
    pub fn task(&self) -> Result<Option<Task>> {
        let body = self.inner.body_str().unwrap_or("").trim_start();
        let looks_like_task = body.starts_with('<')
            && XmlElement::parse(body)
                .map(|e| e.name() == "Task")
                .unwrap_or(false);
        if looks_like_task {
            return Task::from_xml(body).map(Some);
        }
        if self.inner.status == StatusCode::ACCEPTED && !body.is_empty() {
            return Err(Error::protocol(format!(
                "{}: 202 Accepted without a Task body",
                self.operation
            ))
            .with_http_status(202));
        }
        Ok(None)
    }

    /// The `Task` in the body.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the body is not a Task.
    pub fn into_task(self) -> Result<Task> {
        self.task()?.ok_or_else(|| {
            Error::protocol(format!(
                "{}: expected a Task in the response",
                self.operation
            ))
        })
    }
}

/// Settings of a [`VcdClient`] beyond its org: the retry policy and the origins, other
/// than the org's own, that may receive its credentials.
///
/// ```
/// use std::time::Duration;
/// use nebulair_core::RetryPolicy;
/// use nebulair_vcloud::client::ClientOptions;
///
/// // A vCD behind a proxy that writes its public name into every href.
/// let options = ClientOptions::default()
///     .retry_policy(RetryPolicy::default().deadline(Duration::from_secs(60)))
///     .allow_origin("https://vcloud.example.com")?;
/// assert_eq!(options.allowed_origins(), ["https://vcloud.example.com"]);
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ClientOptions {
    retry: RetryPolicy,
    allowed_origins: Vec<url::Origin>,
}

impl ClientOptions {
    /// The retry policy for idempotent requests (default: core's [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Also sends the credentials to `origin` (`scheme://host[:port]`, any path is
    /// ignored), e.g. the public name a vCD behind a reverse proxy puts in its hrefs.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `origin` is not an absolute `http(s)` URL.
    pub fn allow_origin(mut self, origin: &str) -> Result<Self> {
        let o = parse_origin(origin)?;
        if !self.allowed_origins.contains(&o) {
            self.allowed_origins.push(o);
        }
        Ok(self)
    }

    /// The retry policy.
    pub fn get_retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The extra allowed origins, as `scheme://host[:port]`.
    pub fn allowed_origins(&self) -> Vec<String> {
        self.allowed_origins
            .iter()
            .map(url::Origin::ascii_serialization)
            .collect()
    }

    /// Whether credentials of `org` may go to `url`: its origin is the org's `vcdurl`
    /// origin or an allowed one.
    pub fn may_send_credentials(&self, org: &OrgInfo, url: &Url) -> bool {
        let o = url.origin();
        o == org.vcdurl().origin() || self.allowed_origins.contains(&o)
    }
}

/// The origin of an absolute http(s) URL given by the user.
pub(crate) fn parse_origin(text: &str) -> Result<url::Origin> {
    let url = Url::parse(text.trim()).map_err(|e| {
        Error::with_source(
            ErrorKind::InvalidInput,
            format!("invalid origin {text:?} (expected e.g. https://vcd.example.com)"),
            e,
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::invalid_input(format!(
            "invalid origin {text:?}: it must be an http(s) URL with a host"
        )));
    }
    Ok(url.origin())
}

struct AuthState {
    org: OrgInfo,
    generation: u64,
}

struct Inner {
    transport: Arc<dyn HttpTransport>,
    state: RwLock<AuthState>,
    reauth: Option<Arc<dyn Reauthenticate>>,
    relogin_lock: tokio::sync::Mutex<()>,
    options: RwLock<ClientOptions>,
}

/// The shared request helper for one org: token, base URL, API version and transport.
/// Cheap to clone; clones share the token.
#[derive(Clone)]
pub struct VcdClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for VcdClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VcdClient")
            .field("org", &self.org_info())
            .field("transport", &self.inner.transport)
            .field("reauth", &self.inner.reauth.is_some())
            .field("options", &self.options())
            .finish()
    }
}

impl VcdClient {
    /// A client for `org` over `transport`, without automatic re-login.
    pub fn new(org: OrgInfo, transport: Arc<dyn HttpTransport>) -> Self {
        Self::build(org, transport, None)
    }

    /// A client over a new [`ReqwestTransport`] built from `config`.
    ///
    /// # Errors
    /// As [`ReqwestTransport::new`] (invalid TLS settings, proxy).
    pub fn with_config(org: OrgInfo, config: &HttpConfig) -> Result<Self> {
        Ok(Self::new(org, Arc::new(ReqwestTransport::new(config)?)))
    }

    /// A client that calls `reauth` once when a request gets `401` and repeats it.
    pub fn with_reauth(
        org: OrgInfo,
        transport: Arc<dyn HttpTransport>,
        reauth: Arc<dyn Reauthenticate>,
    ) -> Self {
        Self::build(org, transport, Some(reauth))
    }

    fn build(
        org: OrgInfo,
        transport: Arc<dyn HttpTransport>,
        reauth: Option<Arc<dyn Reauthenticate>>,
    ) -> Self {
        VcdClient {
            inner: Arc::new(Inner {
                transport,
                state: RwLock::new(AuthState { org, generation: 0 }),
                reauth,
                relogin_lock: tokio::sync::Mutex::new(()),
                options: RwLock::new(ClientOptions::default()),
            }),
        }
    }

    /// Replaces the [`ClientOptions`] (shared with clones of this client).
    pub fn with_options(self, options: ClientOptions) -> Self {
        self.set_options(options);
        self
    }

    /// Replaces the retry policy (shared with clones of this client).
    pub fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        let options = self.options().retry_policy(policy);
        self.with_options(options)
    }

    /// Also sends credentials to `origin` (see [`ClientOptions::allow_origin`]).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid origin.
    pub fn allow_origin(self, origin: &str) -> Result<Self> {
        let options = self.options().allow_origin(origin)?;
        Ok(self.with_options(options))
    }

    /// The current options.
    pub fn options(&self) -> ClientOptions {
        self.inner
            .options
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the options (shared with clones of this client).
    pub fn set_options(&self, options: ClientOptions) {
        *self
            .inner
            .options
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = options;
    }

    /// The current org info (with the current token).
    pub fn org_info(&self) -> OrgInfo {
        self.read_state().0
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn HttpTransport> {
        &self.inner.transport
    }

    /// Replaces the org info (e.g. after the caller logged in again itself).
    pub fn set_org_info(&self, org: OrgInfo) {
        let mut st = self
            .inner
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        st.org = org;
        st.generation += 1;
    }

    fn read_state(&self) -> (OrgInfo, u64) {
        let st = self
            .inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (st.org.clone(), st.generation)
    }

    /// Resolves `target` against the org's `vcdurl`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid URL.
    pub fn url(&self, target: &str) -> Result<Url> {
        self.org_info().join(target)
    }

    fn to_http(
        &self,
        req: &ApiRequest,
        org: &OrgInfo,
        options: &ClientOptions,
        idempotent: bool,
    ) -> Result<HttpRequest> {
        let mut url = org.join(&req.target)?;
        if !options.may_send_credentials(org, &url) {
            return Err(Error::foreign_origin(
                url.origin().ascii_serialization(),
                format!("{} {}", req.method, redact_url(&url)),
            ));
        }
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &req.query {
                pairs.append_pair(k, v);
            }
        }
        let mut http = HttpRequest::new(req.method.clone(), url)
            .header("accept", &req.accept.header_value(org.version().as_str()))?;
        let (name, value) = org.auth_header_value();
        http = http.secret_header(&name, &value)?;
        if org.is_bearer() {
            http = http.header("x-vmware-vcloud-token-type", "Bearer")?;
        }
        if let Some(ct) = &req.content_type {
            http = http.header("content-type", ct)?;
        }
        for (k, v) in &req.headers {
            http = http.header(k, v)?;
        }
        http.body = req.body.clone();
        http = http.idempotent(idempotent);
        if let Some(t) = req.timeout {
            http = http.timeout(t);
        }
        Ok(http)
    }

    /// Sends a request and returns the successful response.
    ///
    /// `GET`, `HEAD` and `OPTIONS` (and any request marked
    /// [`idempotent(true)`](ApiRequest::idempotent)) are retried per the client's
    /// [`RetryPolicy`] on transport errors, timeouts and HTTP 429/502/503/504 (waiting at
    /// least the server's `Retry-After`); every other request is sent once.
    ///
    /// # Errors
    /// Any status >= 400 as a typed error ([`crate::error::error_from_response`]),
    /// after one re-login on `401` when a [`Reauthenticate`] hook is attached; transport
    /// errors as they come; [`ErrorKind::InvalidInput`] for an invalid target or header;
    /// [`ErrorKind::ForeignOrigin`] when the target (or a redirect) is on an origin the
    /// credentials do not belong to.
    pub async fn send(&self, req: ApiRequest) -> Result<VcdResponse> {
        let idempotent = req.idempotent.unwrap_or(matches!(
            req.method,
            Method::GET | Method::HEAD | Method::OPTIONS
        ));
        let options = self.options();
        options
            .retry
            .run(idempotent, || self.send_once(&req, &options, idempotent))
            .await
    }

    async fn send_once(
        &self,
        req: &ApiRequest,
        options: &ClientOptions,
        idempotent: bool,
    ) -> Result<VcdResponse> {
        let (org, generation) = self.read_state();
        let http = self.to_http(req, &org, options, idempotent)?;
        let operation = format!("{} {}", req.method, http.url.path());
        tracing::debug!(method = %req.method, url = %redact_url(&http.url), "vcloud request");
        let resp = self.inner.transport.send(http).await?;
        if resp.status == StatusCode::UNAUTHORIZED
            && let Some(reauth) = &self.inner.reauth
        {
            tracing::debug!(operation = %operation, "401: logging in again once");
            let org = {
                let _guard = self.inner.relogin_lock.lock().await;
                let (current, current_gen) = self.read_state();
                if current_gen == generation {
                    let fresh = reauth
                        .reauthenticate()
                        .await
                        .map_err(|e| e.context(format!("{operation}: re-login after 401")))?;
                    self.set_org_info(fresh.clone());
                    fresh
                } else {
                    current
                }
            };
            let http = self.to_http(req, &org, options, idempotent)?;
            let resp = self.inner.transport.send(http).await?;
            return finish(operation, resp, &org, options);
        }
        finish(operation, resp, &org, options)
    }

    /// `GET` an XML document (vCD `Accept`).
    ///
    /// # Errors
    /// As [`send`](Self::send); [`ErrorKind::Protocol`] when the body is not XML.
    pub async fn get_xml(&self, target: &str) -> Result<XmlElement> {
        self.send(ApiRequest::get(target)).await?.xml()
    }

    /// `GET` a JSON document (`Accept: application/json`).
    ///
    /// # Errors
    /// As [`send`](Self::send); [`ErrorKind::Protocol`] when the body does not decode.
    pub async fn get_json<T: DeserializeOwned>(&self, target: &str) -> Result<T> {
        self.send(ApiRequest::get(target).accept(Accept::Json))
            .await?
            .json()
    }

    /// `PUT` a JSON body (`Accept` and `Content-Type: application/json`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn put_json<B: Serialize + ?Sized>(
        &self,
        target: &str,
        body: &B,
    ) -> Result<VcdResponse> {
        self.send(ApiRequest::put(target).accept(Accept::Json).json(body)?)
            .await
    }

    /// `POST` a JSON body (`Accept` and `Content-Type: application/json`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn post_json<B: Serialize + ?Sized>(
        &self,
        target: &str,
        body: &B,
    ) -> Result<VcdResponse> {
        self.send(ApiRequest::post(target).accept(Accept::Json).json(body)?)
            .await
    }

    /// `POST` an XML body with its media type (vCD `Accept`). Use
    /// [`VcdResponse::task`] for the Task of a `202`.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn post_xml(
        &self,
        target: &str,
        content_type: &str,
        body: impl Into<Bytes>,
    ) -> Result<VcdResponse> {
        self.send(ApiRequest::post(target).body(content_type, body))
            .await
    }

    /// `PUT` an XML body with its media type (vCD `Accept`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn put_xml(
        &self,
        target: &str,
        content_type: &str,
        body: impl Into<Bytes>,
    ) -> Result<VcdResponse> {
        self.send(ApiRequest::put(target).body(content_type, body))
            .await
    }

    /// `DELETE` (vCD `Accept`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn delete(&self, target: &str) -> Result<VcdResponse> {
        self.send(ApiRequest::delete(target)).await
    }

    /// `GET` a task by its href.
    ///
    /// # Errors
    /// As [`send`](Self::send); [`ErrorKind::Protocol`] when the body is not a Task.
    pub async fn get_task(&self, href: &str) -> Result<Task> {
        Task::from_element(&self.get_xml(href).await?)
    }

    /// Waits for a task with the default [`TaskWaiter`] settings (poll 5 s, deadline
    /// and idle timeout 600 s).
    ///
    /// # Errors
    /// As [`TaskWaiter::wait`].
    pub async fn wait_for(&self, task: &Task) -> Result<Task> {
        TaskWaiter::new(self.clone()).wait(task).await
    }

    /// A [`TaskWaiter`] to customise polling.
    pub fn task_waiter(&self) -> TaskWaiter {
        TaskWaiter::new(self.clone())
    }
}

fn finish(
    operation: String,
    resp: HttpResponse,
    org: &OrgInfo,
    options: &ClientOptions,
) -> Result<VcdResponse> {
    if resp.status.is_redirection()
        && let Some(location) = resp.header_str("location")
        && let Ok(to) = org.vcdurl().join(location)
        && !options.may_send_credentials(org, &to)
    {
        // The transport follows redirects within the origin only; one elsewhere ends here.
        return Err(Error::foreign_origin(
            to.origin().ascii_serialization(),
            format!("{operation}: a {} redirect", resp.status.as_u16()),
        )
        .with_http_status(resp.status.as_u16()));
    }
    if resp.status.as_u16() >= 400 {
        let mut err = error_from_response(&operation, &resp);
        if let Some(delay) = resp.retry_after() {
            err = err.with_retry_after(delay);
        }
        tracing::debug!(operation = %operation, status = resp.status.as_u16(), "vcloud error response");
        return Err(err);
    }
    Ok(VcdResponse {
        operation,
        inner: resp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nebulair_core::MockTransport;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn org(token: &str) -> OrgInfo {
        OrgInfo::new("https://vcd.example.test/api/compute", token, "org-1")
            .expect("org")
            .with_version(crate::model::ApiVersion::new("5.7").expect("v"))
    }

    #[derive(Debug)]
    struct CountingReauth(AtomicUsize);

    #[async_trait]
    impl Reauthenticate for CountingReauth {
        async fn reauthenticate(&self) -> Result<OrgInfo> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(org(&format!("fresh-{n}")))
        }
    }

    #[tokio::test]
    async fn joins_sets_headers_and_decodes() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(200, r#"{"a":1}"#));
        let c = VcdClient::new(org("S3CRET-TOK"), mock.clone());
        let v: serde_json::Value = c.get_json("hybridity/api/x?y=1").await.expect("json");
        assert_eq!(v["a"], 1);
        let r = &mock.requests()[0];
        assert_eq!(
            r.url.as_str(),
            "https://vcd.example.test/api/compute/hybridity/api/x?y=1"
        );
        assert_eq!(r.header_str("accept"), Some("application/json"));
        assert_eq!(r.header_str("x-vcloud-authorization"), Some("S3CRET-TOK"));
        assert!(
            !format!("{r:?}").contains("S3CRET"),
            "token hidden in Debug"
        );
        assert!(!format!("{c:?}").contains("S3CRET"));
    }

    #[tokio::test]
    async fn bearer_and_query_params() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(200, "<QueryResultRecords/>"));
        let c = VcdClient::new(org("jwt").with_auth_header("Authorization"), mock.clone());
        c.send(ApiRequest::get("api/query").query("filter", "name==a b;x==1"))
            .await
            .expect("ok");
        let r = &mock.requests()[0];
        assert_eq!(r.header_str("authorization"), Some("Bearer jwt"));
        assert_eq!(r.url.query(), Some("filter=name%3D%3Da+b%3Bx%3D%3D1"));
    }

    #[tokio::test]
    async fn error_mapping_and_202_task() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(
            HttpResponse::new(404, r#"<Error majorErrorCode="404" minorErrorCode="RESOURCE_NOT_FOUND" message="gone"/>"#)
                .with_header("X-VMWARE-VCLOUD-REQUEST-ID", "rq-9"),
        );
        mock.push_response(HttpResponse::new(
            202,
            include_str!("../tests/data/vcd_task_running_202.xml"),
        ));
        mock.push_response(HttpResponse::new(202, "<NotATask/>"));
        let c = VcdClient::new(org("t"), mock.clone());
        let err = c.get_xml("api/vApp/vapp-1").await.expect_err("404");
        assert!(err.is_not_found());
        assert_eq!(err.service().and_then(|s| s.request_id()), Some("rq-9"));
        assert_eq!(
            err.service().and_then(|s| s.operation()),
            Some("GET /api/compute/api/vApp/vapp-1")
        );
        let resp = c
            .post_xml(
                "api/vApp/vm-1/action/x",
                "application/vnd.vmware.vcloud.vm+xml",
                "<Vm/>",
            )
            .await
            .expect("202");
        let task = resp.task().expect("decode").expect("task");
        assert_eq!(task.status, crate::task::TaskStatus::Queued);
        let resp = c
            .post_xml("api/x", "application/xml", "<X/>")
            .await
            .expect("202");
        assert_eq!(resp.task().expect_err("bad").kind(), ErrorKind::Protocol);
    }

    #[tokio::test]
    async fn relogin_once_on_401() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(401, ""));
        mock.push_response(HttpResponse::new(200, "<Org/>"));
        mock.push_response(HttpResponse::new(401, ""));
        mock.push_response(HttpResponse::new(401, ""));
        let reauth = Arc::new(CountingReauth(AtomicUsize::new(0)));
        let c = VcdClient::with_reauth(org("old"), mock.clone(), reauth.clone());
        let clone = c.clone();
        c.get_xml("api/org").await.expect("after relogin");
        let reqs = mock.requests();
        assert_eq!(reqs[0].header_str("x-vcloud-authorization"), Some("old"));
        assert_eq!(
            reqs[1].header_str("x-vcloud-authorization"),
            Some("fresh-0")
        );
        assert_eq!(clone.org_info().token().expose_secret_str(), "fresh-0");
        // A second 401 after the re-login is an authentication error, not a loop.
        let err = c.get_xml("api/org").await.expect_err("401 twice");
        assert!(err.is_authentication());
        assert_eq!(reauth.0.load(Ordering::SeqCst), 2);
        assert_eq!(mock.request_count(), 4);
    }

    #[tokio::test]
    async fn no_reauth_means_plain_401() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(
            401,
            include_str!("../tests/data/vcd_cloudapi_error_401.json"),
        ));
        let c = VcdClient::new(org("t"), mock.clone());
        let err = c.get_xml("api/org").await.expect_err("401");
        assert!(err.is_authentication());
        assert_eq!(mock.request_count(), 1);
    }

    trait ExposeStr {
        fn expose_secret_str(&self) -> &str;
    }
    impl ExposeStr for nebulair_core::SecretString {
        fn expose_secret_str(&self) -> &str {
            use nebulair_core::ExposeSecret;
            self.expose_secret()
        }
    }
}
