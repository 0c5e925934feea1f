//! Power-cycles a vApp: power on, suspend, discard the suspended state, power on, reboot
//! the guests, shut them down, undeploy; reading the status again after every step and
//! showing vCD's refusal (with its codes) of powering on a vApp that is already on.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` set it works on that vCD
//! (arguments: `VDC VAPP`; reboot and shutdown need guest tools); otherwise it starts the
//! loopback simulator and cycles its powered-off `Web-Tier` in `VDC-Dev`:
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vapp_power_cycle
//! ```

use std::time::Duration;

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::model::vcd::VAppStatus;
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::{UndeployPowerAction, VAppHandle, WorkloadOptions};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Which vCD, as whom, and how often tasks are polled.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) org: String,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) http: HttpConfig,
    pub(crate) poll: Duration,
}

/// What the cycle saw.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Cycle {
    /// Each step and the status read after it.
    pub(crate) steps: Vec<(&'static str, Option<VAppStatus>)>,
    /// vCD's (minorErrorCode, message) for powering on a powered-on vApp.
    pub(crate) refused: (String, String),
    /// `deployed` at the end.
    pub(crate) deployed_at_end: Option<bool>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match env("VCD_URL") {
        Some(url) => {
            let [vdc, vapp] = args.as_slice() else {
                return Err("arguments: VDC VAPP".into());
            };
            let target = Target {
                url,
                org: env("VCD_ORG").unwrap_or_default(),
                user: env("VCD_USER").unwrap_or_default(),
                password: env("VCD_PASSWORD").unwrap_or_default(),
                http: HttpConfig::default(),
                poll: Duration::from_secs(2),
            };
            run(&target, vdc, vapp).await?;
        }
        None => {
            let sim = VcloudSimulator::builder().start().await?;
            run(
                &simulator_target(sim.base_url().as_str()),
                "VDC-Dev",
                "Web-Tier",
            )
            .await?;
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
        http: HttpConfig::default().proxy(ProxyConfig::Disabled),
        poll: Duration::from_millis(50),
    }
}

async fn status(vapp: &VAppHandle) -> Result<Option<VAppStatus>> {
    Ok(vapp.get().await?.status_typed())
}

/// Logs in and cycles the vApp `vapp` of `vdc` (which must start powered off), printing
/// each status; logs out.
pub(crate) async fn run(t: &Target, vdc: &str, vapp: &str) -> Result<Cycle> {
    let session = VcdSession::builder(&t.url)
        .org(&t.org)
        .credentials(Credentials::password(&t.user, &t.password))
        .http_config(t.http.clone())
        .build()?;
    session.login().await?;
    let client = session.client()?;
    let ws = client.workloads_with(WorkloadOptions::default().poll_interval(t.poll));
    let vapp = ws.vdc(vdc).vapp(vapp);
    let mut steps = Vec::new();

    vapp.power_on().wait().await?;
    steps.push(("power on", status(&vapp).await?));

    // Powering on again: vCD refuses with an Error document; its codes are kept.
    let err = vapp.power_on().await.expect_err("already powered on");
    let svc = err.service().ok_or("a vCD error document")?;
    let refused = (
        svc.code_name().unwrap_or_default().to_owned(),
        svc.message().to_owned(),
    );
    println!("refused: {} {}", refused.0, refused.1);

    vapp.suspend().wait().await?;
    steps.push(("suspend", status(&vapp).await?));
    vapp.discard_suspended_state().wait().await?;
    steps.push(("discard suspended state", status(&vapp).await?));
    vapp.power_on().wait().await?;
    steps.push(("power on", status(&vapp).await?));
    vapp.reboot().wait().await?;
    steps.push(("reboot", status(&vapp).await?));
    vapp.shutdown().wait().await?;
    steps.push(("shutdown", status(&vapp).await?));
    vapp.undeploy(UndeployPowerAction::PowerOff).wait().await?;
    steps.push(("undeploy", status(&vapp).await?));
    for (step, s) in &steps {
        println!("{step:<24} {}", s.map(|s| s.as_str()).unwrap_or("?"));
    }
    let deployed_at_end = vapp.get().await?.deployed;
    session.logout().await?;
    Ok(Cycle {
        steps,
        refused,
        deployed_at_end,
    })
}
