//! The one error type shared by every nebulair crate.
//!
//! Every failure, whether it comes from the network, from TLS, from a server that
//! refused the request or from a document that could not be decoded, is an
//! [`Error`]. Callers match on [`Error::kind`] (a small, stable [`ErrorKind`]) or
//! use the predicates ([`Error::is_not_found`], [`Error::is_retryable`], ...);
//! what the server said is kept in [`Error::service`].
//!
//! ```
//! use nebulair_core::{Error, ErrorKind, ServiceError};
//!
//! let err = Error::new(ErrorKind::NotFound, "virtual machine 42 does not exist")
//!     .with_service(ServiceError::new("opennebula", 0x400, "Error getting virtual machine [42].")
//!         .with_code_name("NO_EXISTS")
//!         .with_operation("one.vm.info"));
//! assert!(err.is_not_found());
//! assert_eq!(err.service().map(|s| s.code()), Some(0x400));
//! ```

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// A boxed error that can cross threads; used as the `source` of an [`Error`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// `Result` with nebulair's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is. Stable and small, so callers can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request never got an answer: connection refused or reset, DNS failure, I/O error.
    Transport,
    /// A connect, request, idle or overall deadline elapsed.
    Timeout,
    /// TLS handshake or certificate verification failed, or the TLS settings are invalid.
    Tls,
    /// The credentials were rejected, missing, or the session/token expired.
    Authentication,
    /// The credentials are valid but not allowed to do this.
    Authorization,
    /// The addressed object does not exist.
    NotFound,
    /// The object is locked, busy, in the wrong state for the action, or was changed concurrently.
    Conflict,
    /// The caller's input is invalid (bad parameter, template, address, configuration).
    InvalidInput,
    /// The server answered with something that could not be decoded (malformed, truncated,
    /// too large, wrong type).
    Protocol,
    /// The server reported an error of its own that fits no other kind.
    Server,
    /// The operation was cancelled by the caller.
    Cancelled,
    /// A request would have carried credentials to an origin (scheme, host, port) they do
    /// not belong to, e.g. an `href` or a redirect from the server naming another host. It
    /// was not sent; [`Error::foreign_origin`] names the origin.
    ForeignOrigin,
}

impl ErrorKind {
    /// A short lower-case name, e.g. `"not found"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Transport => "transport error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "TLS error",
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::Authorization => "not authorized",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Server => "server error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::ForeignOrigin => "credentials refused for a foreign origin",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a server said when it refused a request: the provider's own code and message,
/// and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    provider: Cow<'static, str>,
    code: i64,
    code_name: Option<String>,
    message: String,
    operation: Option<String>,
    resource_id: Option<String>,
    request_id: Option<String>,
}

impl ServiceError {
    /// A server error from `provider` (e.g. `"opennebula"`, `"vcloud"`) with its numeric
    /// `code` (OpenNebula's error code, vCD's `majorErrorCode`, or an HTTP status) and message.
    pub fn new(
        provider: impl Into<Cow<'static, str>>,
        code: i64,
        message: impl Into<String>,
    ) -> Self {
        ServiceError {
            provider: provider.into(),
            code,
            code_name: None,
            message: message.into(),
            operation: None,
            resource_id: None,
            request_id: None,
        }
    }

    /// Sets the symbolic name of the code (e.g. `NO_EXISTS`, vCD's `minorErrorCode`).
    pub fn with_code_name(mut self, name: impl Into<String>) -> Self {
        self.code_name = Some(name.into());
        self
    }

    /// Sets the operation that failed (an XML-RPC method name, or `METHOD path`).
    pub fn with_operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Sets the id of the object the operation addressed.
    pub fn with_resource_id(mut self, id: impl Into<String>) -> Self {
        self.resource_id = Some(id.into());
        self
    }

    /// Sets the server's request id (e.g. vCD's `X-VMWARE-VCLOUD-REQUEST-ID`).
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// The provider that produced the error.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The provider's numeric code.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The symbolic name of the code, when the provider has one.
    pub fn code_name(&self) -> Option<&str> {
        self.code_name.as_deref()
    }

    /// The server's message, unchanged.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The operation that failed.
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// The id of the object the operation addressed.
    pub fn resource_id(&self) -> Option<&str> {
        self.resource_id.as_deref()
    }

    /// The server's request id, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(op) = &self.operation {
            write!(f, "{op}: ")?;
        }
        match &self.code_name {
            // Negative codes (XML-RPC faults such as -501) read best in decimal: in hex
            // they would print as 64-bit two's complement.
            Some(name) if self.code < 0 => write!(f, "{name} ({})", self.code)?,
            Some(name) => write!(f, "{name} ({:#x})", self.code)?,
            None => write!(f, "code {}", self.code)?,
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// The error type of every nebulair crate.
///
/// It carries a [`kind`](Error::kind), a human-readable message, the server's own
/// error when there was one ([`service`](Error::service)), the HTTP status when one was
/// received, and the underlying cause as [`source`](std::error::Error::source).
/// It never contains a password, token or session string.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    service: Option<ServiceError>,
    http_status: Option<u16>,
    retry_after: Option<Duration>,
    foreign_origin: Option<String>,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                service: None,
                http_status: None,
                retry_after: None,
                foreign_origin: None,
                source: None,
            }),
        }
    }

    /// A new error of `kind` with a message and an underlying cause.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<Cow<'static, str>>,
        source: impl Into<BoxError>,
    ) -> Self {
        let mut e = Error::new(kind, message);
        e.inner.source = Some(source.into());
        e
    }

    /// An [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// An [`ErrorKind::Protocol`] error (the server's answer could not be decoded).
    pub fn protocol(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    /// An [`ErrorKind::Cancelled`] error.
    pub fn cancelled(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Cancelled, message)
    }

    /// Attaches what the server said.
    pub fn with_service(mut self, service: ServiceError) -> Self {
        self.inner.service = Some(service);
        self
    }

    /// Attaches the HTTP status of the response.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.inner.http_status = Some(status);
        self
    }

    /// Attaches the delay the server asked for before the next attempt (its
    /// `Retry-After` header on a 429 or 503). [`RetryPolicy`](crate::RetryPolicy) waits
    /// at least this long (capped by its
    /// [`max_retry_after`](crate::RetryPolicy::max_retry_after)).
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.inner.retry_after = Some(delay);
        self
    }

    /// A [`ErrorKind::ForeignOrigin`] error: credentials for `allowed` were about to be
    /// sent to `origin` (`scheme://host:port`). `what` says what named that origin (e.g.
    /// `"GET https://evil.example/api/task/1"`, or `"a redirect"`).
    pub fn foreign_origin(origin: impl Into<String>, what: impl fmt::Display) -> Self {
        let origin = origin.into();
        let mut e = Error::new(
            ErrorKind::ForeignOrigin,
            format!(
                "{what}: refusing to send credentials to {origin}, which is neither the \
                 configured endpoint's origin nor an allowed one (allow it on the builder \
                 if it is the same service under another name)"
            ),
        );
        e.inner.foreign_origin = Some(origin);
        e
    }

    /// Attaches (or replaces) the underlying cause.
    pub fn set_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Prefixes the message with context, e.g. `"reading ~/.one/one_auth"`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.inner.message = Cow::Owned(format!("{context}: {}", self.inner.message));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without the kind or the server's details.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// What the server said, when the failure came from a server.
    pub fn service(&self) -> Option<&ServiceError> {
        self.inner.service.as_ref()
    }

    /// The HTTP status of the response, when one was received.
    pub fn http_status(&self) -> Option<u16> {
        self.inner.http_status
    }

    /// The delay the server asked for before the next attempt (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// For an [`ErrorKind::ForeignOrigin`] error: the origin (`scheme://host:port`) the
    /// credentials were refused for.
    pub fn foreign_origin_name(&self) -> Option<&str> {
        self.inner.foreign_origin.as_deref()
    }

    /// Whether credentials were refused for a foreign origin ([`ErrorKind::ForeignOrigin`]).
    pub fn is_foreign_origin(&self) -> bool {
        self.kind() == ErrorKind::ForeignOrigin
    }

    /// Whether trying the same idempotent request again may succeed: transport failures,
    /// timeouts, and HTTP 429, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Transport | ErrorKind::Timeout)
            || matches!(self.http_status(), Some(429 | 502 | 503 | 504))
    }

    /// Whether the addressed object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// Whether a deadline elapsed.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// Whether the credentials were rejected or the session expired.
    pub fn is_authentication(&self) -> bool {
        self.kind() == ErrorKind::Authentication
    }

    /// Whether the caller is not allowed to do this.
    pub fn is_authorization(&self) -> bool {
        self.kind() == ErrorKind::Authorization
    }

    /// Whether the object is locked, busy or in the wrong state.
    pub fn is_conflict(&self) -> bool {
        self.kind() == ErrorKind::Conflict
    }

    /// Whether the operation was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.kind() == ErrorKind::Cancelled
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(s) = &self.inner.service {
            d.field("service", s);
        }
        if let Some(s) = self.inner.http_status {
            d.field("http_status", &s);
        }
        if let Some(s) = self.inner.retry_after {
            d.field("retry_after", &s);
        }
        if let Some(s) = &self.inner.foreign_origin {
            d.field("foreign_origin", s);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(service) = &self.inner.service {
            write!(f, " [{service}]")?;
        } else if let Some(status) = self.inner.http_status {
            write!(f, " [HTTP {status}]")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                ErrorKind::InvalidInput
            }
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::Authorization,
            _ => ErrorKind::Transport,
        };
        let message = err.to_string();
        Error::with_source(kind, message, err)
    }
}

/// Renders an error and its whole `source()` chain on one line, separated by `: `.
///
/// ```
/// use nebulair_core::{Error, ErrorKind, error::display_chain};
/// let io = std::io::Error::other("connection reset");
/// let err = Error::with_source(ErrorKind::Transport, "calling one.vm.info", io);
/// assert_eq!(display_chain(&err), "calling one.vm.info: connection reset");
/// ```
pub fn display_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_chain_is_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = Error::with_source(ErrorKind::Transport, "POST /RPC2", io);
        let src = err.source().expect("source kept");
        assert_eq!(src.to_string(), "reset by peer");
        assert_eq!(display_chain(&err), "POST /RPC2: reset by peer");
    }

    #[test]
    fn retryable_kinds_and_statuses() {
        assert!(Error::new(ErrorKind::Transport, "x").is_retryable());
        assert!(Error::new(ErrorKind::Timeout, "x").is_retryable());
        assert!(
            Error::new(ErrorKind::Server, "x")
                .with_http_status(503)
                .is_retryable()
        );
        assert!(
            !Error::new(ErrorKind::Server, "x")
                .with_http_status(500)
                .is_retryable()
        );
        assert!(!Error::new(ErrorKind::NotFound, "x").is_retryable());
        assert!(!Error::new(ErrorKind::Authentication, "x").is_retryable());
    }

    #[test]
    fn display_includes_service_details() {
        let err = Error::new(ErrorKind::NotFound, "virtual machine 7 not found").with_service(
            ServiceError::new("opennebula", 0x400, "Error getting virtual machine [7].")
                .with_code_name("NO_EXISTS")
                .with_operation("one.vm.info")
                .with_resource_id("7"),
        );
        assert_eq!(
            err.to_string(),
            "virtual machine 7 not found [one.vm.info: NO_EXISTS (0x400): Error getting virtual machine [7].]"
        );
        let s = err.service().expect("service");
        assert_eq!(s.resource_id(), Some("7"));
        assert_eq!(s.provider(), "opennebula");
    }

    #[test]
    fn negative_codes_print_in_decimal_not_as_64_bit_hex() {
        let svc =
            ServiceError::new("opennebula", -501, "No such method").with_code_name("XMLRPC_FAULT");
        assert_eq!(svc.to_string(), "XMLRPC_FAULT (-501): No such method");
        assert!(!svc.to_string().contains("fffffff"), "{svc}");
        let svc = ServiceError::new("opennebula", 0x400, "gone").with_code_name("NO_EXISTS");
        assert_eq!(svc.to_string(), "NO_EXISTS (0x400): gone");
    }

    #[test]
    fn foreign_origin_errors_name_the_origin_and_are_not_retried() {
        let e = Error::foreign_origin("https://evil.example:8443", "GET /api/task/1");
        assert!(e.is_foreign_origin());
        assert!(!e.is_retryable());
        assert_eq!(e.foreign_origin_name(), Some("https://evil.example:8443"));
        assert!(e.to_string().contains("https://evil.example:8443"), "{e}");
    }

    #[test]
    fn io_errors_map_to_kinds() {
        let e: Error = std::io::Error::new(std::io::ErrorKind::TimedOut, "t").into();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        let e: Error = std::io::Error::new(std::io::ErrorKind::NotFound, "f").into();
        assert!(e.is_not_found());
    }

    #[test]
    fn context_prefixes_message() {
        let e = Error::invalid_input("missing ':'").context("/root/.one/one_auth");
        assert_eq!(e.message(), "/root/.one/one_auth: missing ':'");
    }

    #[test]
    fn error_is_send_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }
}
