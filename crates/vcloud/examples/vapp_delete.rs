//! Deletes a vApp the way vCD wants it: a plain delete of a running vApp is refused
//! (`BAD_REQUEST`), so the example shows that refusal, then deletes with
//! `undeploy_first` (power off, waited for, then delete) and checks that the vApp is gone.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` set it works on that vCD
//! (arguments: `VDC VAPP`; it really deletes the vApp); otherwise it starts the loopback
//! simulator and deletes its running `jenkins` vApp in `VDC-Dev`:
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vapp_delete
//! ```

use std::time::Duration;

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::{DeleteOptions, WorkloadOptions};

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

/// What the deletion did.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Deleted {
    /// The vApp's id.
    pub(crate) id: String,
    /// vCD's minorErrorCode for the plain delete, when the vApp was deployed.
    pub(crate) refused: Option<String>,
    /// The VMs it had.
    pub(crate) vms: Vec<String>,
    /// Whether reading it afterwards is "not found".
    pub(crate) gone: bool,
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
                "jenkins",
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

/// Logs in, reads the vApp, tries a plain delete (refused while deployed), deletes it
/// undeploying first, and reads it again; logs out.
pub(crate) async fn run(t: &Target, vdc: &str, vapp: &str) -> Result<Deleted> {
    let session = VcdSession::builder(&t.url)
        .org(&t.org)
        .credentials(Credentials::password(&t.user, &t.password))
        .http_config(t.http.clone())
        .build()?;
    session.login().await?;
    let client = session.client()?;
    let ws = client.workloads_with(WorkloadOptions::default().poll_interval(t.poll));
    let handle = ws.vdc(vdc).vapp(vapp);
    let doc = handle.get().await?;
    let id = doc.id.clone().unwrap_or_default();
    let vms: Vec<String> = doc.vms().iter().filter_map(|v| v.name.clone()).collect();
    println!("deleting vApp {vapp} ({id}) with VMs {vms:?}");

    let refused = if doc.deployed == Some(true) {
        let err = handle
            .delete()
            .await
            .expect_err("vCD refuses a deployed vApp");
        let code = err
            .service()
            .and_then(|s| s.code_name())
            .unwrap_or_default()
            .to_owned();
        println!("plain delete refused: {err}");
        Some(code)
    } else {
        None
    };
    handle
        .delete_with(DeleteOptions {
            undeploy_first: true,
        })
        .wait()
        .await?;
    // A new lookup by name: the vDC no longer lists it.
    let gone = match ws.vdc(vdc).vapp(vapp).get().await {
        Err(e) => e.is_not_found(),
        Ok(_) => false,
    };
    println!("gone: {gone}");
    session.logout().await?;
    Ok(Deleted {
        id,
        refused,
        vms,
        gone,
    })
}
