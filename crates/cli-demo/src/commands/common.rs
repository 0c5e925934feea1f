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

/// Whether a person is at the keyboard: stdin and stderr are terminals. The hidden
/// test hook `NEBULAIR_TEST_TERMINAL=1` makes the tests' pipes count as one (prompts then
/// read their answers, passwords too, from stdin).
pub(crate) fn interactive() -> bool {
    use std::io::IsTerminal as _;
    if std::env::var("NEBULAIR_TEST_TERMINAL").is_ok_and(|v| v == "1") {
        return true;
    }
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn test_terminal() -> bool {
    std::env::var("NEBULAIR_TEST_TERMINAL").is_ok_and(|v| v == "1")
}

/// Asks for a secret on the terminal without echoing it.
///
/// # Errors
/// When there is no terminal (then the flags or the environment must give it) or the
/// answer is empty.
pub(crate) fn prompt_secret(prompt: &str) -> Result<SecretString, Failure> {
    let fail = |msg: String| Failure::new("reading the password", Error::invalid_input(msg));
    if !interactive() {
        return Err(fail(
            "no password given and no terminal to ask on".to_owned(),
        ));
    }
    let answer = if test_terminal() {
        eprint!("{prompt}");
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::new("reading the password", Error::from(e)))?;
        line
    } else {
        rpassword::prompt_password(prompt)
            .map_err(|e| Failure::new("reading the password", Error::from(e)))?
    };
    first_line_secret(&answer).ok_or_else(|| fail("the password is empty".to_owned()))
}

/// `--yes` and `--dry-run` of commands that change or delete several things.
#[derive(Debug, Clone, Args)]
pub(crate) struct Confirm {
    /// Do it without asking (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    /// Print what would be done, and do nothing.
    #[arg(long, conflicts_with = "yes")]
    pub(crate) dry_run: bool,
}

impl Confirm {
    /// Whether to go ahead with `plan` (one line per change): `--dry-run` prints it and
    /// says no; `--yes` says yes; on a terminal the user is asked; otherwise it is an
    /// error that names `--yes`.
    ///
    /// # Errors
    /// Without `--yes` off a terminal, or when the user says no.
    pub(crate) fn approve(&self, ctx: &Ctx, plan: &[String]) -> Result<bool, Failure> {
        if self.dry_run {
            ctx.printer
                .print(
                    &serde_json::json!({ "dry_run": true, "would": plan }),
                    || plan.iter().map(|l| format!("would {l}\n")).collect(),
                )
                .map_err(io_failure)?;
            return Ok(false);
        }
        if self.yes {
            return Ok(true);
        }
        if !interactive() {
            return Err(Failure::new(
                "confirming",
                Error::invalid_input(format!(
                    "refusing to {} without --yes (no terminal to ask on)",
                    summary(plan)
                )),
            )
            .hint("add --yes to go ahead, or --dry-run to see what would be done"));
        }
        let mut err = std::io::stderr().lock();
        use std::io::Write as _;
        for l in plan {
            let _ = writeln!(err, "  {l}");
        }
        let _ = write!(err, "Go ahead ({})? [y/N] ", summary(plan));
        let _ = err.flush();
        drop(err);
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::new("reading the answer", Error::from(e)))?;
        if matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(true)
        } else {
            Err(Failure::new(
                "confirming",
                Error::invalid_input("not confirmed; nothing was changed"),
            )
            .hint("answer y to go ahead"))
        }
    }
}

fn summary(plan: &[String]) -> String {
    match plan {
        [one] => one.clone(),
        many => format!("make {} changes", many.len()),
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

/// Reports that the `what` named `name` was deleted: `{"deleted": name}` as data, or
/// `deleted <what> <name>` in a table.
pub(crate) fn print_deleted(
    p: &crate::output::Printer,
    what: &str,
    name: &str,
) -> Result<(), Failure> {
    p.print(&serde_json::json!({ "deleted": name }), || {
        format!("deleted {what} {name}\n")
    })
    .map_err(io_failure)
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
