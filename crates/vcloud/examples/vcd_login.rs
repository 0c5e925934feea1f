//! Logs in to a vCD with every supported method and prints what it got.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` (and optionally
//! `VCD_API_TOKEN`) set, it talks to that vCD; otherwise it starts the loopback
//! simulator and logs in there:
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vcd_login
//! ```

use nebulair_core::Credentials;
use nebulair_sim::vcloud::{
    DEFAULT_API_TOKEN, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator,
};
use nebulair_vcloud::session::{LoginMode, VcdSession};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).ok();
    let (sim, url, org, user, password, api_token) = match env("VCD_URL") {
        Some(url) => (
            None,
            url,
            env("VCD_ORG").unwrap_or_else(|| "System".into()),
            env("VCD_USER").unwrap_or_default(),
            env("VCD_PASSWORD").unwrap_or_default(),
            env("VCD_API_TOKEN"),
        ),
        None => {
            let sim = VcloudSimulator::builder().start().await?;
            let url = sim.base_url().to_string();
            println!("started the vCloud simulator at {url}");
            (
                Some(sim),
                url,
                DEFAULT_ORG.to_owned(),
                DEFAULT_USER.to_owned(),
                DEFAULT_PASSWORD.to_owned(),
                Some(DEFAULT_API_TOKEN.to_owned()),
            )
        }
    };

    let probe = VcdSession::builder(&url)
        .credentials(Credentials::token("unused"))
        .build()?;
    let versions = probe.versions().await?;
    println!(
        "server versions: {}",
        versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    for mode in [LoginMode::Legacy, LoginMode::CloudApi] {
        let sess = VcdSession::builder(&url)
            .org(&org)
            .credentials(Credentials::password(&user, &password))
            .login_mode(mode)
            .build()?;
        let info = sess.login().await?;
        println!(
            "{mode:?}: API {} org {} via header {} (token hidden: {info:?})",
            info.version(),
            info.org_uuid(),
            info.auth_header()
        );
        sess.logout().await?;
    }

    if let Some(token) = api_token {
        let sess = VcdSession::builder(&url)
            .org(&org)
            .credentials(Credentials::api_token(token))
            .build()?;
        let info = sess.login().await?;
        println!("API token: bearer access token for org {}", info.org_uuid());
    }

    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(())
}
