//! Logs in to a vCD with every supported method and prints what it got.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` (and optionally
//! `VCD_API_TOKEN`) set, it talks to that vCD; otherwise it starts the loopback
//! simulator and logs in there:
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vcd_login
//! ```

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{
    DEFAULT_API_TOKEN, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator,
};
use nebulair_vcloud::session::{LoginMode, VcdSession};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Where to log in and as whom.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) org: String,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) api_token: Option<String>,
    pub(crate) http: HttpConfig,
}

/// What the logins got.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Logins {
    /// The API versions the server offers.
    pub(crate) versions: Vec<String>,
    /// One `(mode, API version, org uuid)` per password login.
    pub(crate) password_logins: Vec<(LoginMode, String, String)>,
    /// The org of the API-token login, when a token was given.
    pub(crate) api_token_org: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    match env("VCD_URL") {
        Some(url) => {
            run(&Target {
                url,
                org: env("VCD_ORG").unwrap_or_else(|| "System".into()),
                user: env("VCD_USER").unwrap_or_default(),
                password: env("VCD_PASSWORD").unwrap_or_default(),
                api_token: env("VCD_API_TOKEN"),
                http: HttpConfig::default(),
            })
            .await?;
        }
        None => {
            let sim = VcloudSimulator::builder().start().await?;
            println!("started the vCloud simulator at {}", sim.base_url());
            run(&simulator_target(sim.base_url().as_str())).await?;
            sim.shutdown().await;
        }
    }
    Ok(())
}

/// The simulator's fixed test account at `url`.
pub(crate) fn simulator_target(url: &str) -> Target {
    Target {
        url: url.to_owned(),
        org: DEFAULT_ORG.to_owned(),
        user: DEFAULT_USER.to_owned(),
        password: DEFAULT_PASSWORD.to_owned(),
        api_token: Some(DEFAULT_API_TOKEN.to_owned()),
        http: HttpConfig::default().proxy(ProxyConfig::Disabled),
    }
}

/// Lists the server's API versions, logs in with a password in both login modes, then
/// with the API token if there is one, printing each result.
pub(crate) async fn run(t: &Target) -> Result<Logins> {
    let probe = VcdSession::builder(&t.url)
        .credentials(Credentials::token("unused"))
        .http_config(t.http.clone())
        .build()?;
    let versions: Vec<String> = probe
        .versions()
        .await?
        .iter()
        .map(|v| v.version.to_string())
        .collect();
    println!("server versions: {}", versions.join(", "));

    let mut password_logins = Vec::new();
    for mode in [LoginMode::Legacy, LoginMode::CloudApi] {
        let sess = VcdSession::builder(&t.url)
            .org(&t.org)
            .credentials(Credentials::password(&t.user, &t.password))
            .login_mode(mode)
            .http_config(t.http.clone())
            .build()?;
        let info = sess.login().await?;
        println!(
            "{mode:?}: API {} org {} via header {} (token hidden: {info:?})",
            info.version(),
            info.org_uuid(),
            info.auth_header()
        );
        password_logins.push((mode, info.version().to_string(), info.org_uuid().to_owned()));
        sess.logout().await?;
    }

    let mut api_token_org = None;
    if let Some(token) = &t.api_token {
        let sess = VcdSession::builder(&t.url)
            .org(&t.org)
            .credentials(Credentials::api_token(token.clone()))
            .http_config(t.http.clone())
            .build()?;
        let info = sess.login().await?;
        println!("API token: bearer access token for org {}", info.org_uuid());
        api_token_org = Some(info.org_uuid().to_owned());
    }
    Ok(Logins {
        versions,
        password_logins,
        api_token_org,
    })
}
