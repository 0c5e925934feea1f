//! The one seam between the providers and the network.
//!
//! Providers build an [`HttpRequest`] and hand it to an `Arc<dyn HttpTransport>`. In
//! production that is [`ReqwestTransport`] (rustls, per-client timeouts, a response size
//! limit); unit tests use [`MockTransport`], which records every request and answers from
//! a script; integration tests point the real transport at the loopback simulators.
//!
//! ```
//! use std::sync::Arc;
//! use nebulair_core::transport::{HttpRequest, HttpResponse, HttpTransport, MockTransport};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! let mock = Arc::new(MockTransport::new());
//! mock.push_response(HttpResponse::new(200, "<ok/>"));
//! let transport: Arc<dyn HttpTransport> = mock.clone();
//! let url = "http://127.0.0.1:2633/RPC2".parse().expect("url");
//! let resp = transport.send(HttpRequest::post(url, "<methodCall/>")).await?;
//! assert_eq!(resp.body_str()?, "<ok/>");
//! assert_eq!(mock.requests()[0].body_str()?, "<methodCall/>");
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use url::Url;

use crate::config::{HttpConfig, build_reqwest_client};
use crate::error::{Error, ErrorKind, Result};

/// One HTTP request, as the providers describe it.
#[derive(Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: Url,
    /// Request headers. Headers that carry secrets are marked sensitive so that
    /// `Debug` hides them.
    pub headers: HeaderMap,
    /// The body (empty for none).
    pub body: Bytes,
    /// Whether sending this request twice has the same effect as sending it once.
    /// Only idempotent requests are retried automatically.
    pub idempotent: bool,
    /// A timeout for this request only, overriding the client's.
    pub timeout: Option<Duration>,
}

impl HttpRequest {
    /// A request with no headers and an empty body. `GET`, `HEAD`, `PUT`, `DELETE` and
    /// `OPTIONS` are idempotent by default, `POST` and `PATCH` are not.
    pub fn new(method: Method, url: Url) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        HttpRequest {
            method,
            url,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            idempotent,
            timeout: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    /// A `POST` request with a body (not idempotent unless marked so).
    pub fn post(url: Url, body: impl Into<Bytes>) -> Self {
        Self::new(Method::POST, url).body(body)
    }

    /// A `PUT` request with a body.
    pub fn put(url: Url, body: impl Into<Bytes>) -> Self {
        Self::new(Method::PUT, url).body(body)
    }

    /// A `DELETE` request.
    pub fn delete(url: Url) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Adds a header. An invalid name or value is an [`ErrorKind::InvalidInput`] error.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let (n, v) = header_pair(name, value)?;
        self.headers.append(n, v);
        Ok(self)
    }

    /// Adds a header that carries a secret: it is marked sensitive, so `Debug` of the
    /// request shows `Sensitive` instead of the value.
    pub fn secret_header(mut self, name: &str, value: &str) -> Result<Self> {
        let (n, mut v) = header_pair(name, value)?;
        v.set_sensitive(true);
        self.headers.append(n, v);
        Ok(self)
    }

    /// Marks the request as safe (or not) to retry automatically.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Sets a timeout for this request only.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The body as UTF-8 text.
    pub fn body_str(&self) -> Result<&str> {
        std::str::from_utf8(&self.body).map_err(|e| {
            Error::with_source(ErrorKind::InvalidInput, "request body is not UTF-8", e)
        })
    }

    /// The value of a header as text, if present and valid.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
        Error::with_source(
            ErrorKind::InvalidInput,
            format!("invalid header name {name:?}"),
            e,
        )
    })?;
    let v = HeaderValue::from_str(value).map_err(|e| {
        Error::with_source(
            ErrorKind::InvalidInput,
            format!("invalid value for header {name}"),
            e,
        )
    })?;
    Ok((n, v))
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies may carry credentials (the XML-RPC session string, login forms): only
        // their size is shown.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// One HTTP response, fully read.
#[derive(Clone)]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// A response with a status and a body, for tests and mocks. An invalid status code
    /// becomes 500.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        HttpResponse {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// Adds a header (ignored if the name or value is invalid; meant for tests).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Ok((n, v)) = header_pair(name, value) {
            self.headers.append(n, v);
        }
        self
    }

    /// The body as UTF-8 text.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the body is not UTF-8.
    pub fn body_str(&self) -> Result<&str> {
        std::str::from_utf8(&self.body).map_err(|e| {
            Error::with_source(ErrorKind::Protocol, "response body is not valid UTF-8", e)
        })
    }

    /// The value of a header as text, if present and valid.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The delay asked for by `Retry-After` on a 429 or 503 answer
    /// ([`parse_retry_after`](crate::retry::parse_retry_after)); `None` for other
    /// statuses or without a valid header.
    pub fn retry_after(&self) -> Option<Duration> {
        if !matches!(self.status.as_u16(), 429 | 503) {
            return None;
        }
        crate::retry::parse_retry_after(self.header_str("retry-after")?)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Sends HTTP requests. The one seam between providers and the network.
///
/// Implementations return `Ok` for every response that arrived, whatever its status;
/// `Err` means no (complete, acceptable) response: a transport failure, a timeout, a TLS
/// failure, or a body over the size limit.
#[async_trait]
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends one request and reads the whole response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

/// The production transport: a `reqwest::Client` built from an [`HttpConfig`].
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: u64,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// Builds the transport from `config`.
    ///
    /// # Errors
    /// As [`build_reqwest_client`].
    pub fn new(config: &HttpConfig) -> Result<Self> {
        Ok(ReqwestTransport {
            client: build_reqwest_client(config)?,
            max_response_bytes: config.get_max_response_bytes(),
        })
    }

    /// Wraps an existing client (its settings are used as they are) with a body limit.
    pub fn from_client(client: reqwest::Client, max_response_bytes: u64) -> Self {
        ReqwestTransport {
            client,
            max_response_bytes,
        }
    }

    /// This transport behind an `Arc<dyn HttpTransport>`.
    pub fn into_shared(self) -> Arc<dyn HttpTransport> {
        Arc::new(self)
    }
}

/// Maps a failure while reading a response body: the connection was cut (or timed out)
/// after the headers, so the request may be repeated like any transport failure.
fn map_body_error(err: reqwest::Error, what: &str) -> Error {
    if err.is_timeout() {
        return Error::with_source(
            ErrorKind::Timeout,
            format!("{what}: timed out reading the response"),
            err.without_url(),
        );
    }
    Error::with_source(
        ErrorKind::Transport,
        format!("{what}: the connection broke while reading the response"),
        err.without_url(),
    )
}

/// Maps a reqwest failure to our kinds, keeping it as the source.
fn map_reqwest_error(err: reqwest::Error, what: &str) -> Error {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if is_tls_error(&err) {
        ErrorKind::Tls
    } else if err.is_builder() {
        ErrorKind::InvalidInput
    } else if err.is_decode() {
        ErrorKind::Protocol
    } else {
        ErrorKind::Transport
    };
    let msg = match kind {
        ErrorKind::Timeout => format!("{what}: timed out"),
        ErrorKind::Tls => format!("{what}: TLS failure"),
        ErrorKind::Protocol => format!("{what}: could not read the response"),
        _ => format!("{what}: request failed"),
    };
    Error::with_source(kind, msg, err.without_url())
}

fn is_tls_error(err: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        let s = e.to_string();
        if s.contains("certificate") || s.contains("tls handshake") || s.contains("TLS") {
            return true;
        }
        cur = e.source();
    }
    false
}

fn too_large(what: &str, limit: u64) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("{what}: response body larger than the limit of {limit} bytes"),
    )
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let what = format!("{} {}", request.method, redact_url(&request.url));
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers)
            .body(request.body);
        if let Some(t) = request.timeout {
            builder = builder.timeout(t);
        }
        tracing::debug!(request = %what, "sending");
        let mut resp = builder
            .send()
            .await
            .map_err(|e| map_reqwest_error(e, &what))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let limit = self.max_response_bytes;
        let expected = resp.content_length();
        if let Some(len) = expected
            && len > limit
        {
            return Err(too_large(&what, limit).with_http_status(status.as_u16()));
        }
        // Read the body chunk by chunk into one buffer sized from Content-Length: linear,
        // one copy, and stopped as soon as it passes the limit.
        let capacity = usize::try_from(expected.unwrap_or(8 * 1024).min(limit)).unwrap_or(0);
        let mut body = BytesMut::with_capacity(capacity);
        while let Some(chunk) = resp.chunk().await.map_err(|e| map_body_error(e, &what))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large(&what, limit).with_http_status(status.as_u16()));
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(len) = expected
            && (body.len() as u64) < len
        {
            // The connection ended before the announced length: a transport failure
            // (retryable for idempotent requests), not a malformed answer.
            return Err(Error::new(
                ErrorKind::Transport,
                format!(
                    "{what}: response body truncated ({} of {len} bytes)",
                    body.len()
                ),
            )
            .with_http_status(status.as_u16()));
        }
        tracing::debug!(request = %what, status = status.as_u16(), bytes = body.len(), "received");
        Ok(HttpResponse {
            status,
            headers,
            body: body.freeze(),
        })
    }
}

/// The URL without user info or query string, for messages and logs.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.query().is_some() {
        u.set_query(Some("…"));
    }
    u.to_string()
}

type Handler = dyn Fn(&HttpRequest) -> Result<HttpResponse> + Send + Sync;

/// A transport for unit tests: records every request and answers from a queue of
/// scripted responses, or from a handler function when the queue is empty.
#[derive(Default)]
pub struct MockTransport {
    requests: Mutex<Vec<HttpRequest>>,
    queue: Mutex<VecDeque<Result<HttpResponse>>>,
    handler: Option<Box<Handler>>,
}

impl fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockTransport")
            .field(
                "requests",
                &self.requests.lock().map(|r| r.len()).unwrap_or(0),
            )
            .finish_non_exhaustive()
    }
}

impl MockTransport {
    /// An empty mock: every request fails until responses are queued.
    pub fn new() -> Self {
        Self::default()
    }

    /// A mock that answers every request (after the queue is used up) with `handler`.
    pub fn with_handler(
        handler: impl Fn(&HttpRequest) -> Result<HttpResponse> + Send + Sync + 'static,
    ) -> Self {
        MockTransport {
            handler: Some(Box::new(handler)),
            ..Self::default()
        }
    }

    /// Queues a response.
    pub fn push_response(&self, response: HttpResponse) {
        self.lock_queue().push_back(Ok(response));
    }

    /// Queues a failure.
    pub fn push_error(&self, error: Error) {
        self.lock_queue().push_back(Err(error));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or(0)
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Result<HttpResponse>>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl HttpTransport for MockTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let next = self.lock_queue().pop_front();
        let result = match next {
            Some(r) => r,
            None => match &self.handler {
                Some(h) => h(&request),
                None => Err(Error::new(
                    ErrorKind::Transport,
                    format!(
                        "MockTransport: no response scripted for {} {}",
                        request.method, request.url
                    ),
                )),
            },
        };
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::{get, post};

    async fn serve(app: Router) -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}/").parse().expect("url")
    }

    fn transport(limit: u64) -> ReqwestTransport {
        ReqwestTransport::new(
            &HttpConfig::default()
                .max_response_bytes(limit)
                .proxy(crate::config::ProxyConfig::Disabled),
        )
        .expect("transport")
    }

    #[tokio::test]
    async fn reqwest_transport_round_trip_and_user_agent() {
        let url = serve(Router::new().route(
            "/echo",
            post(|headers: http::HeaderMap, body: String| async move {
                let ua = headers
                    .get("user-agent")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                format!("{ua}|{body}")
            }),
        ))
        .await;
        let t = transport(1024);
        let resp = t
            .send(HttpRequest::post(url.join("echo").expect("join"), "hello"))
            .await
            .expect("send");
        assert!(resp.is_success());
        assert_eq!(
            resp.body_str().expect("utf8"),
            format!("nebulair/{}|hello", env!("CARGO_PKG_VERSION"))
        );
    }

    #[tokio::test]
    async fn body_over_limit_is_rejected() {
        let url = serve(Router::new().route("/big", get(|| async { "x".repeat(5000) }))).await;
        let err = transport(1000)
            .send(HttpRequest::get(url.join("big").expect("join")))
            .await
            .expect_err("too large");
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.message().contains("larger than the limit"), "{err}");
        // At the limit it passes.
        let ok = transport(5000)
            .send(HttpRequest::get(url.join("big").expect("join")))
            .await
            .expect("fits");
        assert_eq!(ok.body.len(), 5000);
    }

    #[tokio::test]
    async fn streamed_body_over_limit_is_rejected() {
        // No Content-Length: the limit is enforced while reading.
        let url = serve(Router::new().route(
            "/stream",
            get(|| async {
                let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 1000]));
                axum::body::Body::from_stream(futures::stream::iter(chunks))
            }),
        ))
        .await;
        let err = transport(4000)
            .send(HttpRequest::get(url.join("stream").expect("join")))
            .await
            .expect_err("too large");
        assert_eq!(err.kind(), ErrorKind::Protocol);
    }

    /// A raw TCP server that answers every connection with `response` and closes it.
    async fn raw_server(response: &'static [u8]) -> Url {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(response).await;
                    let _ = s.flush().await;
                });
            }
        });
        format!("http://{addr}/").parse().expect("url")
    }

    #[tokio::test]
    async fn body_cut_mid_way_is_a_retryable_transport_error() {
        // Content-Length says 100, the server sends 10 bytes and closes.
        let url = raw_server(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n<methodRes",
        )
        .await;
        let err = transport(1 << 20)
            .send(HttpRequest::get(url))
            .await
            .expect_err("truncated");
        assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
        assert!(err.is_retryable());
        // Chunked encoding cut before the last chunk.
        let url = raw_server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n").await;
        let err = transport(1 << 20)
            .send(HttpRequest::get(url))
            .await
            .expect_err("truncated");
        assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    }

    #[tokio::test]
    async fn cross_origin_redirects_are_not_followed() {
        // A hostile server redirects to another origin: the secret header must not go
        // there; the 3xx comes back to the caller instead.
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen2 = seen.clone();
        let other = serve(Router::new().fallback(move |headers: http::HeaderMap| {
            let seen = seen2.clone();
            async move {
                let tok = headers
                    .get("x-vcloud-authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                seen.lock().expect("lock").push(tok);
                "stolen"
            }
        }))
        .await;
        let target = other.join("steal").expect("join").to_string();
        let url = serve(Router::new().route(
            "/go",
            get(move || {
                let t = target.clone();
                async move { axum::response::Redirect::temporary(&t) }
            }),
        ))
        .await;
        let resp = transport(1024)
            .send(
                HttpRequest::get(url.join("go").expect("join"))
                    .secret_header("x-vcloud-authorization", "TOKEN-1")
                    .expect("hdr"),
            )
            .await
            .expect("response");
        assert_eq!(resp.status.as_u16(), 307);
        assert!(
            seen.lock().expect("lock").is_empty(),
            "token sent to the other origin"
        );
        // Same-origin redirects are still followed.
        let url2 = serve(
            Router::new()
                .route(
                    "/a",
                    get(|| async { axum::response::Redirect::temporary("/b") }),
                )
                .route("/b", get(|| async { "here" })),
        )
        .await;
        let resp = transport(1024)
            .send(HttpRequest::get(url2.join("a").expect("join")))
            .await
            .expect("followed");
        assert_eq!(resp.body_str().expect("s"), "here");
    }

    #[test]
    fn retry_after_only_on_429_and_503() {
        let r = HttpResponse::new(503, "").with_header("Retry-After", "4");
        assert_eq!(r.retry_after(), Some(Duration::from_secs(4)));
        let r = HttpResponse::new(429, "").with_header("Retry-After", "1");
        assert_eq!(r.retry_after(), Some(Duration::from_secs(1)));
        let r = HttpResponse::new(500, "").with_header("Retry-After", "4");
        assert_eq!(r.retry_after(), None);
        assert_eq!(HttpResponse::new(503, "").retry_after(), None);
    }

    #[tokio::test]
    async fn connection_refused_is_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let url: Url = format!("http://127.0.0.1:{port}/").parse().expect("url");
        let err = transport(10)
            .send(HttpRequest::get(url))
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn request_timeout_is_timeout_error() {
        let url = serve(Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        ))
        .await;
        let err = transport(10)
            .send(
                HttpRequest::get(url.join("slow").expect("join"))
                    .timeout(Duration::from_millis(100)),
            )
            .await
            .expect_err("timeout");
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn idempotency_defaults_follow_http_semantics() {
        let url: Url = "http://h/".parse().expect("url");
        assert!(HttpRequest::get(url.clone()).idempotent);
        assert!(HttpRequest::put(url.clone(), "").idempotent);
        assert!(!HttpRequest::post(url.clone(), "").idempotent);
        assert!(HttpRequest::post(url, "").idempotent(true).idempotent);
    }

    #[test]
    fn debug_hides_secret_headers_and_bodies() {
        let url: Url = "http://h/".parse().expect("url");
        let req = HttpRequest::post(url, "oneadmin:opennebula")
            .secret_header("x-vcloud-authorization", "tok-123456")
            .expect("header");
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("tok-123456"), "{dbg}");
        assert!(!dbg.contains("opennebula"), "{dbg}");
    }

    #[test]
    fn redact_url_drops_userinfo_and_query() {
        let url: Url = "https://user:pw@host/path?token=abc".parse().expect("url");
        let s = redact_url(&url);
        assert!(!s.contains("pw") && !s.contains("abc"), "{s}");
    }

    #[tokio::test]
    async fn mock_records_and_scripts() {
        let mock = MockTransport::with_handler(|req| {
            Ok(HttpResponse::new(404, req.url.path().to_owned()))
        });
        mock.push_response(HttpResponse::new(200, "first"));
        let url: Url = "http://h/a".parse().expect("url");
        let r1 = mock.send(HttpRequest::get(url.clone())).await.expect("r1");
        let r2 = mock.send(HttpRequest::get(url)).await.expect("r2");
        assert_eq!(r1.body_str().expect("s"), "first");
        assert_eq!(r2.status.as_u16(), 404);
        assert_eq!(r2.body_str().expect("s"), "/a");
        assert_eq!(mock.request_count(), 2);
    }
}
