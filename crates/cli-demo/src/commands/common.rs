//! Pieces every command group shares: TLS and timeout flags, reading secrets, the
//! runtime.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use nebulair_core::{Error, ErrorKind, HttpConfig, SecretString};

use crate::report::Failure;

/// TLS and timeout flags shared by every client.
#[derive(Debug, Clone, Args)]
pub(crate) struct TlsArgs {
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate (test servers only).
    #[arg(long, global = true)]
    pub(crate) insecure: bool,
    /// Request timeout in seconds.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub(crate) timeout: Option<u64>,
}

impl TlsArgs {
    /// Applies the flags to `base`.
    ///
    /// # Errors
    /// When the CA file cannot be read.
    pub(crate) fn http_config(&self, base: HttpConfig) -> nebulair_core::Result<HttpConfig> {
        let mut config = base;
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path).map_err(|e| Error::from(e).context(path.display()))?;
            config = config.add_ca_pem(pem);
        }
        if self.insecure {
            config = config.danger_accept_invalid_certs(true);
        }
        if let Some(secs) = self.timeout {
            config = config.request_timeout(Duration::from_secs(secs));
        }
        Ok(config)
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
