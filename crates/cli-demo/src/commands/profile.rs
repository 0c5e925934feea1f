//! `nebulair profile ...`: named cloud endpoints, like vcd-cli's profiles.
//!
//! Profiles live in `profiles.json` in the platform's config folder (`~/.config/nebulair`
//! on Linux, `~/Library/Application Support/nebulair` on macOS, `%APPDATA%\nebulair` on
//! Windows; `NEBULAIR_CONFIG_DIR` overrides it). A profile holds where a cloud is and who
//! you are there, never a password or token: a password is stored only when asked for
//! with `--save-password`, and the session token only with `--cache-session`, each in a
//! file of its own with mode 0600. A cached session keeps the token's end as the server
//! said it (the JWT's `exp`, the OAuth `expires_in`) and its idle timeout; it is used
//! while both hold and the server accepts it, and replaced by a new login otherwise.
//!
//! Flags and environment variables always win over the active profile (`--profile`,
//! `NEBULAIR_PROFILE`, else the one `profile use` chose).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use nebulair_core::{Error, ErrorKind, ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::commands::common::{interactive, io_failure, prompt_secret, read_secret_stdin};
use crate::output::Table;
use crate::report::{Context as _, Failure};

/// Which cloud a profile is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CloudKind {
    /// OpenNebula (`nebulair one`).
    One,
    /// vCloud Director or vCloud Air (`nebulair vcloud`).
    Vcloud,
}

/// One saved endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    /// The cloud.
    pub(crate) cloud: CloudKind,
    /// The endpoint URL.
    pub(crate) endpoint: String,
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    /// The vCD organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) org: Option<String>,
    /// The vCloud login service (vcd, api-token, vca, vca-od).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) service: Option<String>,
    /// A CA file to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Whether TLS verification is off (test servers).
    #[serde(default)]
    pub(crate) insecure: bool,
    /// Whether a password file (mode 0600) was saved with `--save-password`.
    #[serde(default)]
    pub(crate) saved_password: bool,
    /// Whether the vCloud session token is cached (mode 0600) between commands.
    #[serde(default)]
    pub(crate) cache_session: bool,
}

/// The profiles file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// `nebulair profile ...`
#[derive(Debug, Args)]
pub(crate) struct ProfileCmd {
    #[command(subcommand)]
    command: ProfileSub,
}

#[derive(Debug, Subcommand)]
enum ProfileSub {
    /// Add (or replace) a profile.
    Add {
        /// The profile name.
        name: String,
        /// The cloud.
        #[arg(long, value_enum)]
        cloud: CloudKind,
        /// The endpoint (oned's XML-RPC URL, or the vCD / vCloud Air base URL).
        #[arg(long)]
        endpoint: String,
        /// The user (vCD: USER or USER@ORG).
        #[arg(long)]
        user: Option<String>,
        /// The vCD organisation.
        #[arg(long)]
        org: Option<String>,
        /// The vCloud login service: vcd, api-token, vca, vca-od.
        #[arg(long)]
        service: Option<String>,
        /// Trust this CA file.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// Do not verify TLS certificates (test servers only).
        #[arg(long)]
        insecure: bool,
        /// Also save the password, in a file of its own with mode 0600 (read from
        /// stdin with --password-stdin, else asked for on the terminal).
        #[arg(long)]
        save_password: bool,
        /// Read the password to save from standard input.
        #[arg(long, requires = "save_password")]
        password_stdin: bool,
        /// vCloud: keep the session token between commands, in a file of its own with
        /// mode 0600, until it expires (as the server says) or the server refuses it.
        #[arg(long)]
        cache_session: bool,
        /// Make it the active profile.
        #[arg(long = "use")]
        make_current: bool,
    },
    /// List the profiles (the active one is marked).
    List,
    /// Make a profile the active one.
    Use {
        /// The profile name.
        name: String,
    },
    /// Remove a profile with its saved password and cached session.
    Remove {
        /// The profile name.
        name: String,
    },
}

/// The folder profiles live in.
pub(crate) fn config_dir() -> Result<PathBuf, Failure> {
    if let Some(d) = std::env::var_os("NEBULAIR_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "nebulair")
        .map(|p| p.config_dir().to_path_buf())
        .ok_or_else(|| {
            Failure::new(
                "finding the config folder",
                Error::invalid_input("no home folder; set NEBULAIR_CONFIG_DIR"),
            )
        })
}

fn store_path() -> Result<PathBuf, Failure> {
    Ok(config_dir()?.join("profiles.json"))
}

fn secret_path(name: &str) -> Result<PathBuf, Failure> {
    Ok(config_dir()?.join("secrets").join(name))
}

fn session_path(name: &str) -> Result<PathBuf, Failure> {
    Ok(config_dir()?.join("sessions").join(format!("{name}.json")))
}

fn load() -> Result<Store, Failure> {
    let path = store_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            Failure::new(
                format!("reading {}", path.display()),
                Error::invalid_input(format!("not a profiles file: {e}")),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Store::default()),
        Err(e) => Err(Failure::new(
            format!("reading {}", path.display()),
            Error::from(e),
        )),
    }
}

fn save(store: &Store) -> Result<(), Failure> {
    let path = store_path()?;
    let text = serde_json::to_string_pretty(store)
        .map_err(|e| Failure::new("writing the profiles", Error::protocol(e.to_string())))?;
    write_file(&path, text.as_bytes(), false)
}

/// Writes a file, creating its folder; `private` files get mode 0600 (owner only).
fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), Failure> {
    let fail =
        |e: std::io::Error| Failure::new(format!("writing {}", path.display()), Error::from(e));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let _ = private;
    let mut f = opts.open(path).map_err(fail)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
    }
    f.write_all(bytes).map_err(fail)
}

/// The active profile: `--profile`/`NEBULAIR_PROFILE`, else the current one; `None`
/// when there is none.
pub(crate) fn active(ctx: &Ctx) -> Result<Option<(String, Profile)>, Failure> {
    let store = load()?;
    let wanted = ctx.profile.map(str::to_owned).or(store.current.clone());
    let Some(name) = wanted else { return Ok(None) };
    match store.profiles.get(&name) {
        Some(p) => Ok(Some((name, p.clone()))),
        None if ctx.profile.is_some() => Err(Failure::new(
            "choosing the profile",
            Error::new(ErrorKind::NotFound, format!("no profile named {name:?}")),
        )
        .hint("`nebulair profile list` shows them")),
        None => Ok(None),
    }
}

/// The saved password of a profile, if one was saved.
pub(crate) fn saved_password(name: &str) -> Result<Option<PathBuf>, Failure> {
    let p = secret_path(name)?;
    Ok(p.exists().then_some(p))
}

/// A cached vCloud session: the org info (token included) and how long it lasts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedSession {
    /// The endpoint, service, user, org (and instance or vDC) it was made for.
    pub(crate) key: String,
    /// The token's end as the server said (JWT `exp`, OAuth `expires_in`), in Unix
    /// seconds; `None` when it did not say (legacy tokens end after an idle time only).
    pub(crate) expires_at: Option<u64>,
    /// How long the server keeps an unused session (cloudapi's
    /// `sessionIdleTimeoutMinutes`, else vCD's default of 30 minutes), in seconds.
    pub(crate) idle_timeout: u64,
    /// When the session was last used (Unix seconds).
    pub(crate) last_used: u64,
    /// The session.
    pub(crate) org_info: nebulair_vcloud::session::OrgInfo,
}

/// vCD's default session idle timeout, used when the server does not announce one.
pub(crate) const DEFAULT_IDLE_SECS: u64 = 30 * 60;

/// A cached token this close to its end is not used: a command should not start with a
/// token that ends halfway.
pub(crate) const EXPIRY_MARGIN_SECS: u64 = 30;

/// Unix seconds now.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl CachedSession {
    /// Why the session cannot be used at `now` (Unix seconds), or `None` when it can.
    pub(crate) fn expired_because(&self, now: u64) -> Option<String> {
        if let Some(end) = self.expires_at
            && now + EXPIRY_MARGIN_SECS >= end
        {
            return Some(format!("its token ends at {}", rfc3339(end)));
        }
        let idle_end = self.last_used.saturating_add(self.idle_timeout);
        (now >= idle_end).then(|| {
            format!(
                "it was idle for more than {} minutes",
                self.idle_timeout.div_ceil(60)
            )
        })
    }
}

/// Unix seconds as `2026-12-02T04:30:00Z`.
pub(crate) fn rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| format!("{secs} s after the epoch"), |t| t.to_string())
}

/// The cached session of `profile` made for `key`, expired or not; `None` when there is
/// none, it is unreadable, or it was made for something else.
pub(crate) fn cached_session(profile: &str, key: &str) -> Option<CachedSession> {
    let path = session_path(profile).ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    let s: CachedSession = serde_json::from_str(&text).ok()?;
    (s.key == key).then_some(s)
}

/// Caches a session of `profile` in a file of its own with mode 0600.
pub(crate) fn cache_session(profile: &str, session: &CachedSession) -> Result<(), Failure> {
    let text = serde_json::to_vec(session)
        .map_err(|e| Failure::new("caching the session", Error::protocol(e.to_string())))?;
    write_file(&session_path(profile)?, &text, true)
}

/// Forgets the cached session of `profile`.
pub(crate) fn drop_session(profile: &str) {
    if let Ok(p) = session_path(profile) {
        let _ = std::fs::remove_file(p);
    }
}

#[derive(Serialize)]
struct ProfileView<'a> {
    name: &'a str,
    current: bool,
    #[serde(flatten)]
    profile: &'a Profile,
}

impl ProfileCmd {
    /// Runs the command.
    pub(crate) fn run(self, ctx: Ctx) -> Result<(), Failure> {
        let p = ctx.printer;
        match self.command {
            ProfileSub::Add {
                name,
                cloud,
                endpoint,
                user,
                org,
                service,
                ca_cert,
                insecure,
                save_password,
                password_stdin,
                cache_session,
                make_current,
            } => {
                if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
                    return Err(Failure::new(
                        "adding the profile",
                        Error::invalid_input(format!("{name:?} is not a usable profile name")),
                    ));
                }
                let mut store = load()?;
                if save_password {
                    let secret: SecretString = if password_stdin {
                        read_secret_stdin().during("reading the password")?
                    } else if interactive() {
                        prompt_secret("Password to save: ")?
                    } else {
                        return Err(Failure::new(
                            "saving the password",
                            Error::invalid_input(
                                "--save-password needs --password-stdin or a terminal to ask on",
                            ),
                        ));
                    };
                    write_file(
                        &secret_path(&name)?,
                        format!("{}\n", secret.expose_secret()).as_bytes(),
                        true,
                    )?;
                } else if let Ok(path) = secret_path(&name) {
                    let _ = std::fs::remove_file(path);
                }
                drop_session(&name);
                store.profiles.insert(
                    name.clone(),
                    Profile {
                        cloud,
                        endpoint,
                        user,
                        org,
                        service,
                        ca_cert,
                        insecure,
                        saved_password: save_password,
                        cache_session,
                    },
                );
                if make_current || store.current.is_none() {
                    store.current = Some(name.clone());
                }
                save(&store)?;
                p.print(&serde_json::json!({ "added": name }), || {
                    format!(
                        "profile {name} saved in {}\n",
                        config_dir()
                            .map(|d| d.display().to_string())
                            .unwrap_or_default()
                    )
                })
                .map_err(io_failure)
            }
            ProfileSub::List => {
                let store = load()?;
                let views: Vec<ProfileView<'_>> = store
                    .profiles
                    .iter()
                    .map(|(n, pr)| ProfileView {
                        name: n,
                        current: store.current.as_deref() == Some(n.as_str()),
                        profile: pr,
                    })
                    .collect();
                p.print(&views, || {
                    let mut t = Table::new([
                        "CURRENT", "NAME", "CLOUD", "ENDPOINT", "USER", "ORG", "PASSWORD",
                        "SESSION",
                    ]);
                    for v in &views {
                        t.row([
                            if v.current { "*" } else { "" }.to_owned(),
                            v.name.to_owned(),
                            format!("{:?}", v.profile.cloud).to_ascii_lowercase(),
                            v.profile.endpoint.clone(),
                            v.profile.user.clone().unwrap_or_default(),
                            v.profile.org.clone().unwrap_or_default(),
                            if v.profile.saved_password {
                                "saved (0600)"
                            } else {
                                "-"
                            }
                            .to_owned(),
                            if v.profile.cache_session {
                                "cached (0600)"
                            } else {
                                "-"
                            }
                            .to_owned(),
                        ]);
                    }
                    t.render()
                })
                .map_err(io_failure)
            }
            ProfileSub::Use { name } => {
                let mut store = load()?;
                if !store.profiles.contains_key(&name) {
                    return Err(Failure::new(
                        "choosing the profile",
                        Error::new(ErrorKind::NotFound, format!("no profile named {name:?}")),
                    )
                    .hint("`nebulair profile list` shows them"));
                }
                store.current = Some(name.clone());
                save(&store)?;
                p.print(&serde_json::json!({ "current": name }), || {
                    format!("using profile {name}\n")
                })
                .map_err(io_failure)
            }
            ProfileSub::Remove { name } => {
                let mut store = load()?;
                if store.profiles.remove(&name).is_none() {
                    return Err(Failure::new(
                        "removing the profile",
                        Error::new(ErrorKind::NotFound, format!("no profile named {name:?}")),
                    ));
                }
                if store.current.as_deref() == Some(name.as_str()) {
                    store.current = None;
                }
                save(&store)?;
                if let Ok(path) = secret_path(&name) {
                    let _ = std::fs::remove_file(path);
                }
                drop_session(&name);
                p.print(&serde_json::json!({ "removed": name }), || {
                    format!("profile {name} removed\n")
                })
                .map_err(io_failure)
            }
        }
    }
}
