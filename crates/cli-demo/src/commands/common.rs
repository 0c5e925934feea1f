//! Pieces every command group shares: TLS and timeout flags, reading secrets, the
//! runtime.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use nebulair_core::{Error, ErrorKind, HttpConfig, SecretString};

use crate::Ctx;
use crate::report::{Context as _, Failure};

/// TLS flags shared by every client.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection options")]
pub(crate) struct TlsArgs {
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate (test servers only).
    #[arg(long, global = true)]
    pub(crate) insecure: bool,
}

/// The hint for a CA file that could not be used: it is about the file, never about
/// user names or passwords.
pub(crate) const CA_HINT: &str =
    "--ca-cert must name a readable PEM file holding one or more CA certificates";

impl TlsArgs {
    /// Applies the flags and the per-request timeout of `ctx` to `base`.
    ///
    /// # Errors
    /// When the CA file cannot be read or holds no PEM certificate.
    pub(crate) fn http_config(&self, base: HttpConfig, ctx: &Ctx) -> Result<HttpConfig, Failure> {
        let mut config = base.request_timeout(ctx.attempt_timeout());
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| Error::from(e).context(path.display()))
                .during("reading --ca-cert")
                .map_err(|f| f.hint(CA_HINT))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(Failure::new(
                    "reading --ca-cert",
                    Error::new(
                        ErrorKind::Tls,
                        format!("{} holds no PEM certificate", path.display()),
                    ),
                )
                .hint(CA_HINT));
            }
            config = config.add_ca_pem(pem);
        }
        if self.insecure {
            config = config.danger_accept_invalid_certs(true);
        }
        Ok(config)
    }
}

/// Runs `fut` on a fresh runtime within the command's deadline (`--timeout`, else
/// `default`; `None` means no deadline unless `--timeout` is given). When it expires the
/// command fails with a timeout that says so.
pub(crate) fn block_on<T>(
    ctx: &Ctx,
    default: Option<Duration>,
    fut: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    let rt = runtime()?;
    let deadline = ctx.timeout.or(default);
    rt.block_on(async move {
        match deadline {
            None => fut.await,
            Some(d) => match tokio::time::timeout(d, fut).await {
                Ok(r) => r,
                Err(_) => Err(Failure::new(
                    "running the command",
                    Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "no result within the {} s deadline (every attempt and retry included)",
                            fmt_secs(d)
                        ),
                    ),
                )
                .hint("is the server up and answering? raise --timeout for slow servers")),
            },
        }
    })
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// A multi-threaded tokio runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new("starting the async runtime", Error::from(e)))
}

/// The first line of a file, trimmed, as a secret.
///
/// # Errors
/// When the file cannot be read or is empty.
pub(crate) fn read_secret_file(path: &Path) -> nebulair_core::Result<SecretString> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::from(e).context(path.display()))?;
    first_line_secret(&text)
        .ok_or_else(|| Error::invalid_input(format!("{} is empty", path.display())))
}

/// The first line of standard input, trimmed, as a secret (`--password-stdin`).
///
/// # Errors
/// When stdin cannot be read or is empty.
pub(crate) fn read_secret_stdin() -> nebulair_core::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    first_line_secret(&line)
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "standard input is empty"))
}

fn first_line_secret(text: &str) -> Option<SecretString> {
    let line = text.lines().next()?.trim_end_matches(['\r', '\n']).trim();
    (!line.is_empty()).then(|| SecretString::from(line.to_owned()))
}

/// A failure to write the output (stdout closed or full).
pub(crate) fn io_failure(e: std::io::Error) -> Failure {
    Failure::new("writing the output", Error::from(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nebulair_core::ExposeSecret;

    #[test]
    fn first_line_is_trimmed() {
        let s = first_line_secret("  s3cret \nsecond\n").expect("secret");
        assert_eq!(s.expose_secret(), "s3cret");
        assert!(first_line_secret("\n").is_none());
        assert!(first_line_secret("").is_none());
    }

    #[test]
    fn secret_file_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let missing = dir.path().join("nope");
        let err = read_secret_file(&missing).expect_err("missing");
        assert!(err.to_string().contains("nope"));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").expect("write");
        assert!(
            read_secret_file(&empty)
                .expect_err("empty")
                .to_string()
                .contains("empty")
        );
    }
}
