//! Turning a failure into the one line a user reads, and the exit code scripts check.
//!
//! The line says what failed, what the server said (the library error's `Display` carries
//! the server's code and message), and a hint chosen from the error kind unless the
//! command gave a better one. `-v` adds the cause chain. Library errors never contain a
//! password or token, and nothing here adds one.

use std::fmt;
use std::process::ExitCode;

use nebulair_core::error::display_chain;
use nebulair_core::{Error, ErrorKind};

/// A failed command: what the user asked for, the error, and an optional hint.
#[derive(Debug)]
pub(crate) struct Failure {
    action: String,
    error: Error,
    hint: Option<String>,
}

impl Failure {
    /// A failure of `action` (e.g. "listing virtual machines") caused by `error`.
    pub(crate) fn new(action: impl Into<String>, error: Error) -> Self {
        Failure {
            action: action.into(),
            error,
            hint: None,
        }
    }

    /// Replaces the kind-based hint with a more specific one.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The library error.
    #[cfg(test)]
    pub(crate) fn error(&self) -> &Error {
        &self.error
    }

    /// The one-line message: `error: <action> failed: <what the server said> [<code>]
    /// (hint: ...)`.
    pub(crate) fn line(&self) -> String {
        let hint = self
            .hint
            .clone()
            .or_else(|| default_hint(self.error.kind()).map(str::to_owned));
        let mut what = describe(&self.error);
        // Without -v, a transport failure still says why (refused, reset, DNS, TLS...).
        if matches!(
            self.error.kind(),
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Tls
        ) && let Some(root) = root_cause(&self.error)
            && !what.contains(&root)
        {
            what = format!("{what}: {root}");
        }
        let line = match hint {
            Some(h) => format!("error: {} failed: {what} (hint: {h})", self.action),
            None => format!("error: {} failed: {what}", self.action),
        };
        // One line, whatever the server put in its message.
        line.replace(['\r', '\n'], " ")
    }

    /// The cause chain shown with `-v`, one cause per line, without the first element
    /// (already in [`line`](Self::line)).
    pub(crate) fn causes(&self) -> Vec<String> {
        let mut out = vec![format!("kind: {}", self.error.kind().as_str())];
        if let Some(status) = self.error.http_status() {
            out.push(format!("http status: {status}"));
        }
        if let Some(id) = self.error.service().and_then(|s| s.request_id()) {
            out.push(format!("request id: {id}"));
        }
        if let Some(src) = std::error::Error::source(&self.error) {
            // display_chain renders the rest of the chain on the same line.
            out.push(format!("caused by: {}", display_chain(src)));
        }
        out
    }

    /// Prints the failure to stderr and returns the exit code for it.
    pub(crate) fn emit(&self, verbose: bool) -> ExitCode {
        eprintln!("{}", self.line());
        if verbose {
            for c in self.causes() {
                eprintln!("  {c}");
            }
        }
        ExitCode::from(exit_code(self.error.kind()))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// The innermost cause of an error, when it has one.
fn root_cause(err: &Error) -> Option<String> {
    let mut cur: &dyn std::error::Error = std::error::Error::source(err)?;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let text = cur.to_string();
    (!text.trim().is_empty()).then_some(text)
}

/// Attaches "what failed" to a library result.
pub(crate) trait Context<T> {
    /// Wraps the error in a [`Failure`] describing `action`.
    fn during(self, action: impl Into<String>) -> Result<T, Failure>;
}

impl<T> Context<T> for Result<T, Error> {
    fn during(self, action: impl Into<String>) -> Result<T, Failure> {
        self.map_err(|e| Failure::new(action, e))
    }
}

/// The exit code for an error kind. Documented in the user guide: 1 for a server-side or
/// unexpected failure, 2 for bad usage (clap's own), 3 authentication or authorization,
/// 4 not found, 5 transport, TLS or timeout (the server could not be reached), 6 conflict.
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 2,
        ErrorKind::Authentication | ErrorKind::Authorization => 3,
        ErrorKind::NotFound => 4,
        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Tls => 5,
        ErrorKind::Conflict => 6,
        _ => 1,
    }
}

/// The error's message and the server's own, without saying the same thing twice, then
/// the server's code name (or number) and the HTTP status.
fn describe(err: &Error) -> String {
    let mut out = match err.service() {
        Some(svc) => {
            let ours = err.message().trim();
            let theirs = svc.message().trim();
            if ours.is_empty() || ours.contains(theirs) {
                ours.to_owned()
            } else if theirs.contains(ours) {
                theirs.to_owned()
            } else {
                format!("{ours}: {theirs}")
            }
        }
        None => err.message().to_owned(),
    };
    let mut tags = Vec::new();
    if let Some(svc) = err.service() {
        match svc.code_name() {
            Some(name) => tags.push(format!("{name} {:#x}", svc.code())),
            None if svc.code() != 0 && i64::from(err.http_status().unwrap_or(0)) != svc.code() => {
                tags.push(format!("code {}", svc.code()))
            }
            None => {}
        }
    }
    if let Some(status) = err.http_status() {
        tags.push(format!("HTTP {status}"));
    }
    if !tags.is_empty() {
        out.push_str(&format!(" [{}]", tags.join(", ")));
    }
    out
}

fn default_hint(kind: ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::Authentication => "check the user name and password or token",
        ErrorKind::Authorization => "this user is not allowed to do that; ask an administrator",
        ErrorKind::NotFound => "check the id or name; the list commands show what exists",
        ErrorKind::Transport => "is the endpoint right and the server running?",
        ErrorKind::Timeout => "the server did not answer in time; try again or raise --timeout",
        ErrorKind::Tls => {
            "the server certificate is not trusted; pass --ca-cert FILE (or --insecure for a test server)"
        }
        ErrorKind::Conflict => {
            "the object is locked, busy or in the wrong state; check it and retry"
        }
        ErrorKind::InvalidInput => "check the arguments (see --help)",
        ErrorKind::Protocol => "the answer could not be understood; is this the right endpoint?",
        ErrorKind::Server => "the server failed; its logs say more",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nebulair_core::ServiceError;

    #[test]
    fn line_has_action_server_message_and_hint() {
        let err = Error::new(ErrorKind::Authentication, "authentication failed").with_service(
            ServiceError::new(
                "opennebula",
                0x100,
                "User couldn't be authenticated, aborting call.",
            )
            .with_code_name("AUTHENTICATION")
            .with_operation("one.vmpool.info"),
        );
        let f = Failure::new("listing virtual machines", err);
        let line = f.line();
        assert_eq!(
            line,
            "error: listing virtual machines failed: authentication failed: User couldn't be \
             authenticated, aborting call. [AUTHENTICATION 0x100] (hint: check the user name and \
             password or token)"
        );
        assert!(line.contains("(hint: check the user name"));
        assert!(!line.contains('\n'));
        assert_eq!(exit_code(f.error().kind()), 3);
    }

    #[test]
    fn repeated_server_message_is_said_once() {
        let msg = "[one.vm.info] Error getting virtual machine [9].";
        let err = Error::new(ErrorKind::NotFound, msg)
            .with_service(ServiceError::new("opennebula", 0x400, msg).with_code_name("NO_EXISTS"));
        let line = Failure::new("reading VM 9", err).line();
        assert_eq!(line.matches("Error getting").count(), 1);
        assert!(line.contains("[NO_EXISTS 0x400]"));
    }

    #[test]
    fn multi_line_server_messages_stay_on_one_line() {
        let err = Error::new(ErrorKind::Server, "boom\nsecond line").with_http_status(500);
        let line = Failure::new("x", err).line();
        assert!(!line.contains('\n'));
        assert!(line.contains("[HTTP 500]"));
    }

    #[test]
    fn custom_hint_replaces_default() {
        let f = Failure::new("x", Error::new(ErrorKind::Transport, "connection refused"))
            .hint("start one with `nebulair simulate`");
        assert_eq!(
            f.line(),
            "error: x failed: connection refused (hint: start one with `nebulair simulate`)"
        );
    }

    #[test]
    fn transport_lines_name_the_root_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = Error::with_source(ErrorKind::Transport, "request failed", io);
        let line = Failure::new("listing hosts", err).line();
        assert!(
            line.contains("request failed: Connection refused"),
            "{line}"
        );
    }

    #[test]
    fn causes_show_the_chain() {
        let io = std::io::Error::other("connection refused");
        let err = Error::with_source(ErrorKind::Transport, "POST http://127.0.0.1:9/RPC2", io);
        let f = Failure::new("listing hosts", err);
        let causes = f.causes();
        assert_eq!(causes[0], "kind: transport error");
        assert!(causes.iter().any(|c| c == "caused by: connection refused"));
    }

    #[test]
    fn exit_codes_are_distinct_per_class() {
        assert_eq!(exit_code(ErrorKind::NotFound), 4);
        assert_eq!(exit_code(ErrorKind::Timeout), 5);
        assert_eq!(exit_code(ErrorKind::Server), 1);
    }
}
