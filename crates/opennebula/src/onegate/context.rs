//! Where a VM finds its OneGate endpoint, VM id and token.
//!
//! [`ContextSources`] describes where to look (an environment lookup function and a
//! filesystem root, both replaceable so tests never touch the process);
//! [`ContextSources::resolve`] searches, for each of the three values, in this order:
//!
//! 1. the explicit value given to the builder;
//! 2. the environment: `ONEGATE_ENDPOINT`, `VMID`, `TOKENTXT` (the token itself) or
//!    `ONEGATE_TOKEN`;
//! 3. `/run/one-context/one_env`, then `/var/run/one-context/one_env` (written by the
//!    one-context packages, `export KEY="value"` lines, readable by root only);
//! 4. `context.sh` plus `token.txt` on a mounted context CD (`/mnt`, `/mnt/context`,
//!    `/media/context`, `/media/CONTEXT`, `/media/cdrom`, `/cdrom`, `/context`); a
//!    context variable `ONEGATE_TOKEN` there overrides `token.txt`.
//!
//! When something is missing, the error lists every source tried and what was found
//! there.
//!
//! ```
//! use std::collections::HashMap;
//! use nebulair_opennebula::onegate::{ContextSources, ValueSource};
//!
//! let root = tempfile::tempdir()?;
//! std::fs::create_dir_all(root.path().join("run/one-context"))?;
//! std::fs::write(
//!     root.path().join("run/one-context/one_env"),
//!     "export TOKENTXT=\"secret\"\nexport VMID=\"7\"\nexport ONEGATE_ENDPOINT=\"http://169.254.16.9:5030\"\n",
//! )?;
//! let env = HashMap::from([("VMID".to_owned(), "8".to_owned())]);
//! let ctx = ContextSources::new()
//!     .env_map(env)
//!     .root(root.path())
//!     .resolve(Default::default())?;
//! assert_eq!(ctx.vm_id().get(), 8); // the environment wins over one_env
//! assert_eq!(ctx.endpoint().as_str(), "http://169.254.16.9:5030/");
//! assert!(matches!(ctx.token_source(), ValueSource::OneEnv(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nebulair_core::{Error, ErrorKind, ExposeSecret, Result, SecretString};
use url::Url;

use crate::ids::VmId;

/// The `one_env` files, relative to the filesystem root, in search order.
pub const ONE_ENV_PATHS: [&str; 2] = ["run/one-context/one_env", "var/run/one-context/one_env"];

/// Where a context CD is usually mounted, relative to the filesystem root, in search
/// order.
pub const CONTEXT_MOUNT_POINTS: [&str; 7] = [
    "mnt",
    "mnt/context",
    "media/context",
    "media/CONTEXT",
    "media/cdrom",
    "cdrom",
    "context",
];

type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where [`ContextSources::resolve`] looks: an environment lookup and a filesystem root.
#[derive(Clone)]
pub struct ContextSources {
    env: Arc<EnvFn>,
    root: PathBuf,
    mount_points: Vec<PathBuf>,
}

impl fmt::Debug for ContextSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextSources")
            .field("root", &self.root)
            .field("mount_points", &self.mount_points)
            .finish_non_exhaustive()
    }
}

impl Default for ContextSources {
    fn default() -> Self {
        Self::system()
    }
}

impl ContextSources {
    /// The process environment and the real filesystem (root `/`).
    pub fn system() -> Self {
        ContextSources {
            env: Arc::new(|name| std::env::var(name).ok()),
            root: PathBuf::from("/"),
            mount_points: CONTEXT_MOUNT_POINTS.iter().map(PathBuf::from).collect(),
        }
    }

    /// No environment at all and the real filesystem; replace parts with the setters.
    pub fn new() -> Self {
        ContextSources {
            env: Arc::new(|_| None),
            ..Self::system()
        }
    }

    /// Looks environment variables up with `lookup`.
    pub fn env_fn(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Arc::new(lookup);
        self
    }

    /// Takes environment variables from a map.
    pub fn env_map(self, vars: HashMap<String, String>) -> Self {
        self.env_fn(move |name| vars.get(name).cloned())
    }

    /// Reads files below `root` instead of `/` (for tests and chroots).
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }

    /// Replaces the context CD mount points searched (relative to the root, or absolute).
    pub fn mount_points(mut self, points: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        self.mount_points = points.into_iter().map(Into::into).collect();
        self
    }

    fn path(&self, rel: &Path) -> PathBuf {
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        self.root.join(rel)
    }

    /// Finds the endpoint, VM id and token, taking `explicit` values first.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when a value is missing from every source (the message
    /// lists each source tried and what it held) or when a value found is malformed (a
    /// non-numeric VMID, an endpoint that is not an http(s) URL, a context file that does
    /// not parse); the message names the source.
    pub fn resolve(&self, explicit: ExplicitContext) -> Result<OneGateContext> {
        let mut trail = Vec::new();
        let mut endpoint = explicit.endpoint.map(|e| (e, ValueSource::Explicit));
        let mut vm_id = explicit
            .vm_id
            .map(|v| (v.to_string(), ValueSource::Explicit));
        let mut token = explicit.token.map(|t| (t, ValueSource::Explicit));
        trail.push(format!(
            "explicit values ({})",
            present_list(endpoint.is_some(), vm_id.is_some(), token.is_some())
        ));

        // Environment.
        if endpoint.is_none() || vm_id.is_none() || token.is_none() {
            let get = |name: &str| (self.env)(name).filter(|v| !v.trim().is_empty());
            let e = get("ONEGATE_ENDPOINT");
            let v = get("VMID");
            let (t, tname) = match get("TOKENTXT") {
                Some(t) => (Some(t), "TOKENTXT"),
                None => (get("ONEGATE_TOKEN"), "ONEGATE_TOKEN"),
            };
            trail.push(format!(
                "environment ONEGATE_ENDPOINT, VMID, TOKENTXT/ONEGATE_TOKEN ({})",
                present_list(e.is_some(), v.is_some(), t.is_some())
            ));
            fill(&mut endpoint, e, || {
                ValueSource::Environment("ONEGATE_ENDPOINT")
            });
            fill(&mut vm_id, v, || ValueSource::Environment("VMID"));
            fill(&mut token, t.map(SecretString::from), || {
                ValueSource::Environment(tname)
            });
        }

        // one_env files.
        for rel in ONE_ENV_PATHS {
            if endpoint.is_some() && vm_id.is_some() && token.is_some() {
                break;
            }
            let path = self.path(Path::new(rel));
            match read_optional(&path) {
                Ok(None) => trail.push(format!("{} (not found)", path.display())),
                Err(e) => trail.push(format!("{} ({e})", path.display())),
                Ok(Some(text)) => {
                    let vars = parse_shell_vars(&text).map_err(|e| e.context(path.display()))?;
                    let e = non_empty(&vars, "ONEGATE_ENDPOINT");
                    let v = non_empty(&vars, "VMID");
                    let t =
                        non_empty(&vars, "TOKENTXT").or_else(|| non_empty(&vars, "ONEGATE_TOKEN"));
                    trail.push(format!(
                        "{} ({})",
                        path.display(),
                        present_list(e.is_some(), v.is_some(), t.is_some())
                    ));
                    fill(&mut endpoint, e, || ValueSource::OneEnv(path.clone()));
                    fill(&mut vm_id, v, || ValueSource::OneEnv(path.clone()));
                    fill(&mut token, t.map(SecretString::from), || {
                        ValueSource::OneEnv(path.clone())
                    });
                }
            }
        }

        // Context CD.
        for mount in &self.mount_points {
            if endpoint.is_some() && vm_id.is_some() && token.is_some() {
                break;
            }
            let dir = self.path(mount);
            let ctx_path = dir.join("context.sh");
            match read_optional(&ctx_path) {
                Ok(None) => trail.push(format!("{} (not found)", ctx_path.display())),
                Err(e) => trail.push(format!("{} ({e})", ctx_path.display())),
                Ok(Some(text)) => {
                    let vars =
                        parse_shell_vars(&text).map_err(|e| e.context(ctx_path.display()))?;
                    let e = non_empty(&vars, "ONEGATE_ENDPOINT");
                    let v = non_empty(&vars, "VMID");
                    let token_path = dir.join("token.txt");
                    let (t, tsrc) = match non_empty(&vars, "ONEGATE_TOKEN") {
                        Some(t) => (Some(t), ValueSource::ContextCd(ctx_path.clone())),
                        None => match read_optional(&token_path) {
                            Ok(Some(t)) if !t.trim().is_empty() => (
                                Some(t.trim().to_owned()),
                                ValueSource::ContextCd(token_path.clone()),
                            ),
                            Ok(_) => {
                                trail
                                    .push(format!("{} (not found or empty)", token_path.display()));
                                (None, ValueSource::ContextCd(token_path.clone()))
                            }
                            Err(err) => {
                                trail.push(format!("{} ({err})", token_path.display()));
                                (None, ValueSource::ContextCd(token_path.clone()))
                            }
                        },
                    };
                    trail.push(format!(
                        "{} + token.txt ({})",
                        ctx_path.display(),
                        present_list(e.is_some(), v.is_some(), t.is_some())
                    ));
                    fill(&mut endpoint, e, || {
                        ValueSource::ContextCd(ctx_path.clone())
                    });
                    fill(&mut vm_id, v, || ValueSource::ContextCd(ctx_path.clone()));
                    fill(&mut token, t.map(SecretString::from), || tsrc);
                }
            }
        }

        let ((endpoint, endpoint_source), (vm_raw, vm_id_source), (token, token_source)) =
            match (endpoint, vm_id, token) {
                (Some(e), Some(v), Some(t)) => (e, v, t),
                (e, v, t) => {
                    let mut missing = Vec::new();
                    if e.is_none() {
                        missing.push("no endpoint (ONEGATE_ENDPOINT)");
                    }
                    if v.is_none() {
                        missing.push("no VM id (VMID)");
                    }
                    if t.is_none() {
                        missing.push("no token (TOKENTXT, ONEGATE_TOKEN or token.txt)");
                    }
                    return Err(Error::invalid_input(format!(
                        "OneGate context incomplete: {}; sources tried: {}",
                        missing.join(", "),
                        trail.join("; ")
                    )));
                }
            };

        let vm_id: VmId = vm_raw.trim().parse().map_err(|_| {
            Error::invalid_input(format!(
                "OneGate VM id {vm_raw:?} from {vm_id_source} is not a number"
            ))
        })?;
        if vm_id.get() < 0 {
            return Err(Error::invalid_input(format!(
                "OneGate VM id {vm_id} from {vm_id_source} is negative"
            )));
        }
        let endpoint = parse_endpoint(&endpoint)
            .map_err(|e| e.context(format!("OneGate endpoint from {endpoint_source}")))?;
        if token.expose_secret().trim().is_empty() {
            return Err(Error::invalid_input(format!(
                "OneGate token from {token_source} is empty"
            )));
        }
        Ok(OneGateContext {
            endpoint,
            endpoint_source,
            vm_id,
            vm_id_source,
            token: SecretString::from(token.expose_secret().trim().to_owned()),
            token_source,
        })
    }
}

fn present_list(e: bool, v: bool, t: bool) -> String {
    let names: Vec<&str> = [(e, "endpoint"), (v, "VM id"), (t, "token")]
        .into_iter()
        .filter_map(|(p, n)| p.then_some(n))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn fill<T>(
    slot: &mut Option<(T, ValueSource)>,
    value: Option<T>,
    source: impl FnOnce() -> ValueSource,
) {
    if slot.is_none()
        && let Some(v) = value
    {
        *slot = Some((v, source()));
    }
}

fn non_empty(vars: &HashMap<String, String>, key: &str) -> Option<String> {
    vars.get(key).filter(|v| !v.trim().is_empty()).cloned()
}

fn read_optional(path: &Path) -> std::result::Result<Option<String>, String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            Err("permission denied; it is readable by root only".to_owned())
        }
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(None),
        Err(e) => Err(format!("unreadable: {e}")),
    }
}

/// Parses an endpoint: an absolute `http` or `https` URL, path prefix kept.
pub(crate) fn parse_endpoint(text: &str) -> Result<Url> {
    let t = text.trim();
    let url = Url::parse(t).map_err(|e| {
        Error::with_source(ErrorKind::InvalidInput, format!("invalid URL {t:?}"), e)
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid_input(format!(
            "{t:?} is not an http:// or https:// URL"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "{t:?} must not have a query or fragment"
        )));
    }
    Ok(url)
}

/// Explicit values for [`ContextSources::resolve`]; each one wins over every source.
#[derive(Debug, Clone, Default)]
pub struct ExplicitContext {
    /// The endpoint URL text.
    pub endpoint: Option<String>,
    /// The VM id.
    pub vm_id: Option<VmId>,
    /// The token (the contents of `token.txt`).
    pub token: Option<SecretString>,
}

/// Where one value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueSource {
    /// Given to the builder.
    Explicit,
    /// An environment variable (its name).
    Environment(&'static str),
    /// A `one_env` file.
    OneEnv(PathBuf),
    /// A file of the context CD (`context.sh` or `token.txt`).
    ContextCd(PathBuf),
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::Explicit => f.write_str("the explicit value"),
            ValueSource::Environment(name) => write!(f, "environment variable {name}"),
            ValueSource::OneEnv(p) | ValueSource::ContextCd(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The endpoint, VM id and token a client uses, with where each came from.
#[derive(Clone)]
pub struct OneGateContext {
    endpoint: Url,
    endpoint_source: ValueSource,
    vm_id: VmId,
    vm_id_source: ValueSource,
    token: SecretString,
    token_source: ValueSource,
}

impl fmt::Debug for OneGateContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneGateContext")
            .field("endpoint", &self.endpoint.as_str())
            .field("endpoint_source", &self.endpoint_source)
            .field("vm_id", &self.vm_id)
            .field("vm_id_source", &self.vm_id_source)
            .field("token", &"[REDACTED]")
            .field("token_source", &self.token_source)
            .finish()
    }
}

impl OneGateContext {
    /// The OneGate endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }
    /// Where the endpoint came from.
    pub fn endpoint_source(&self) -> &ValueSource {
        &self.endpoint_source
    }
    /// The VM id.
    pub fn vm_id(&self) -> VmId {
        self.vm_id
    }
    /// Where the VM id came from.
    pub fn vm_id_source(&self) -> &ValueSource {
        &self.vm_id_source
    }
    /// The token (never shown by `Debug`).
    pub fn token(&self) -> &SecretString {
        &self.token
    }
    /// Where the token came from.
    pub fn token_source(&self) -> &ValueSource {
        &self.token_source
    }
}

/// Parses shell variable assignments as one-context writes them: `KEY='v'`,
/// `export KEY="v"`, `KEY=v`, values spanning lines inside quotes, `'\''` escapes,
/// comments and blank lines. Lines that are not assignments are skipped.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for an unterminated quote (with its line number).
pub fn parse_shell_vars(text: &str) -> Result<HashMap<String, String>> {
    let mut vars = HashMap::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut line = 1usize;
    while i < chars.len() {
        // Start of a line: skip blanks.
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        if chars[i] == '\n' {
            i += 1;
            line += 1;
            continue;
        }
        if chars[i] == '#' {
            skip_line(&chars, &mut i);
            continue;
        }
        // Optional `export`.
        if starts_with(&chars, i, "export")
            && chars.get(i + 6).is_some_and(|c| *c == ' ' || *c == '\t')
        {
            i += 6;
            while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
                i += 1;
            }
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '-')
        {
            i += 1;
        }
        if i == start || chars.get(i) != Some(&'=') {
            skip_line(&chars, &mut i);
            continue;
        }
        let name: String = chars[start..i].iter().collect();
        i += 1; // '='
        let value_line = line;
        let mut value = String::new();
        while i < chars.len() {
            match chars[i] {
                '\'' => {
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => {
                                return Err(Error::invalid_input(format!(
                                    "line {value_line}: unterminated single quote in {name}"
                                )));
                            }
                            Some('\'') => {
                                i += 1;
                                break;
                            }
                            Some(c) => {
                                if *c == '\n' {
                                    line += 1;
                                }
                                value.push(*c);
                                i += 1;
                            }
                        }
                    }
                }
                '"' => {
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => {
                                return Err(Error::invalid_input(format!(
                                    "line {value_line}: unterminated double quote in {name}"
                                )));
                            }
                            Some('"') => {
                                i += 1;
                                break;
                            }
                            Some('\\')
                                if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) =>
                            {
                                if let Some(c) = chars.get(i + 1) {
                                    value.push(*c);
                                }
                                i += 2;
                            }
                            Some('\\') if chars.get(i + 1) == Some(&'\n') => {
                                line += 1;
                                i += 2;
                            }
                            Some(c) => {
                                if *c == '\n' {
                                    line += 1;
                                }
                                value.push(*c);
                                i += 1;
                            }
                        }
                    }
                }
                '\\' => {
                    if let Some(c) = chars.get(i + 1) {
                        if *c == '\n' {
                            line += 1;
                        } else {
                            value.push(*c);
                        }
                    }
                    i += 2;
                }
                ' ' | '\t' | ';' => {
                    skip_line(&chars, &mut i);
                    break;
                }
                '\n' => break,
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        vars.insert(name, value);
    }
    Ok(vars)
}

fn starts_with(chars: &[char], at: usize, word: &str) -> bool {
    word.chars()
        .enumerate()
        .all(|(k, w)| chars.get(at + k) == Some(&w))
}

fn skip_line(chars: &[char], i: &mut usize) {
    while *i < chars.len() && chars[*i] != '\n' {
        *i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_one_env_and_context_sh() {
        let vars = parse_shell_vars(
            "# Context variables generated by OpenNebula\nDISK_ID='1'\nSSH_PUBLIC_KEY='ssh-rsa A\nssh-rsa B'\nQ='it'\\''s'\nexport TOKENTXT=\"a\\\"b\"\nPLAIN=v ; echo x\nnot an assignment\n  export  SP=\"x y\"\n",
        )
        .expect("parse");
        assert_eq!(vars["DISK_ID"], "1");
        assert_eq!(vars["SSH_PUBLIC_KEY"], "ssh-rsa A\nssh-rsa B");
        assert_eq!(vars["Q"], "it's");
        assert_eq!(vars["TOKENTXT"], "a\"b");
        assert_eq!(vars["PLAIN"], "v");
        assert_eq!(vars["SP"], "x y");
        assert_eq!(vars.len(), 6);
        let err = parse_shell_vars("A=1\nB='open\n").expect_err("unterminated");
        assert!(err.message().contains("line 2"), "{err}");
    }

    #[test]
    fn environment_wins_and_token_prefers_tokentxt() {
        let ctx = ContextSources::new()
            .env_map(env(&[
                ("ONEGATE_ENDPOINT", "http://10.0.0.1:5030"),
                ("VMID", "12"),
                ("TOKENTXT", "tok\n"),
                ("ONEGATE_TOKEN", "other"),
            ]))
            .root("/nonexistent-root")
            .resolve(ExplicitContext::default())
            .expect("resolve");
        assert_eq!(ctx.vm_id(), VmId::new(12));
        assert_eq!(ctx.token().expose_secret(), "tok");
        assert_eq!(ctx.token_source(), &ValueSource::Environment("TOKENTXT"));
        assert!(!format!("{ctx:?}").contains("tok\""));
    }

    #[test]
    fn explicit_values_win() {
        let ctx = ContextSources::new()
            .env_map(env(&[
                ("ONEGATE_ENDPOINT", "http://a:1"),
                ("VMID", "1"),
                ("ONEGATE_TOKEN", "t"),
            ]))
            .root("/nonexistent-root")
            .resolve(ExplicitContext {
                endpoint: Some("https://gate.example/onegate".into()),
                vm_id: Some(VmId::new(5)),
                token: None,
            })
            .expect("resolve");
        assert_eq!(ctx.endpoint().as_str(), "https://gate.example/onegate");
        assert_eq!(ctx.vm_id_source(), &ValueSource::Explicit);
        assert_eq!(
            ctx.token_source(),
            &ValueSource::Environment("ONEGATE_TOKEN")
        );
    }

    #[test]
    fn context_cd_with_token_txt() {
        let root = tempfile::tempdir().expect("tmp");
        let mnt = root.path().join("media/context");
        fs::create_dir_all(&mnt).expect("mkdir");
        fs::write(
            mnt.join("context.sh"),
            "ONEGATE_ENDPOINT='http://169.254.16.9:5030'\nVMID='2007'\nTOKEN='YES'\n",
        )
        .expect("write");
        fs::write(mnt.join("token.txt"), "cd-token\n").expect("write");
        let ctx = ContextSources::new()
            .root(root.path())
            .resolve(ExplicitContext::default())
            .expect("resolve");
        assert_eq!(ctx.vm_id(), VmId::new(2007));
        assert_eq!(ctx.token().expose_secret(), "cd-token");
        assert_eq!(
            ctx.token_source(),
            &ValueSource::ContextCd(mnt.join("token.txt"))
        );
        // ONEGATE_TOKEN in context.sh overrides token.txt.
        fs::write(
            mnt.join("context.sh"),
            "ONEGATE_ENDPOINT='http://169.254.16.9:5030'\nVMID='2007'\nONEGATE_TOKEN='ctx'\n",
        )
        .expect("write");
        let ctx = ContextSources::new()
            .root(root.path())
            .resolve(ExplicitContext::default())
            .expect("resolve");
        assert_eq!(ctx.token().expose_secret(), "ctx");
    }

    #[test]
    fn var_run_one_env_is_second() {
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("var/run/one-context");
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(
            dir.join("one_env"),
            "export TOKENTXT=\"t\"\nexport VMID=\"3\"\nexport ONEGATE_ENDPOINT=\"http://h:5030\"\n",
        )
        .expect("write");
        let ctx = ContextSources::new()
            .root(root.path())
            .resolve(ExplicitContext::default())
            .expect("resolve");
        assert_eq!(
            ctx.vm_id_source(),
            &ValueSource::OneEnv(dir.join("one_env"))
        );
    }

    #[test]
    fn missing_values_list_every_source() {
        let root = tempfile::tempdir().expect("tmp");
        let err = ContextSources::new()
            .env_map(env(&[("VMID", "4")]))
            .root(root.path())
            .resolve(ExplicitContext::default())
            .expect_err("incomplete");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let msg = err.message();
        assert!(msg.contains("no endpoint"), "{msg}");
        assert!(msg.contains("no token"), "{msg}");
        assert!(!msg.contains("no VM id"), "{msg}");
        for part in [
            "explicit values",
            "environment",
            "run/one-context/one_env",
            "var/run/one-context/one_env",
            "mnt/context.sh",
            "media/CONTEXT/context.sh",
        ] {
            assert!(msg.contains(part), "{part} missing from {msg}");
        }
    }

    #[test]
    fn malformed_values_name_their_source() {
        let err = ContextSources::new()
            .env_map(env(&[
                ("ONEGATE_ENDPOINT", "http://h:1"),
                ("VMID", "abc"),
                ("TOKENTXT", "t"),
            ]))
            .root("/nonexistent-root")
            .resolve(ExplicitContext::default())
            .expect_err("bad vmid");
        assert!(err.message().contains("environment variable VMID"), "{err}");
        let err = ContextSources::new()
            .env_map(env(&[
                ("ONEGATE_ENDPOINT", "ftp://h"),
                ("VMID", "1"),
                ("TOKENTXT", "t"),
            ]))
            .root("/nonexistent-root")
            .resolve(ExplicitContext::default())
            .expect_err("bad url");
        assert!(err.message().contains("ONEGATE_ENDPOINT"), "{err}");
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("run/one-context");
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("one_env"), "export TOKENTXT=\"open\n").expect("write");
        let err = ContextSources::new()
            .root(root.path())
            .resolve(ExplicitContext::default())
            .expect_err("bad file");
        assert!(err.message().contains("one_env"), "{err}");
    }

    mod prop {
        use super::super::parse_shell_vars;
        use proptest::prelude::*;

        fn single_quote(v: &str) -> String {
            format!("'{}'", v.replace('\'', "'\\''"))
        }

        fn double_quote(v: &str) -> String {
            let mut out = String::from("\"");
            for c in v.chars() {
                if matches!(c, '"' | '\\' | '$' | '`') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            out
        }

        proptest! {
            #[test]
            fn garbage_never_panics(s in "\\PC*") {
                let _ = parse_shell_vars(&s);
            }

            #[test]
            fn quoted_values_round_trip(name in "[A-Z_][A-Z0-9_]{0,12}", v in "[^\u{0}]{0,40}") {
                let text = format!("{name}={}\nexport {name}_2={}\n", single_quote(&v), double_quote(&v));
                let vars = parse_shell_vars(&text).expect("parse");
                prop_assert_eq!(&vars[&name], &v);
                prop_assert_eq!(&vars[&format!("{name}_2")], &v);
            }
        }
    }
}
