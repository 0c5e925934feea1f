//! Instantiates a vApp template into a vDC: the vApp's name and description, a vApp
//! network bridged to an org vDC network, a new name and computer name for one template
//! VM, then powers it on and prints what vCD made.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` set it works on that vCD
//! (arguments: `VDC CATALOG TEMPLATE TEMPLATE_VM NEW_VAPP NETWORK`); otherwise it starts
//! the loopback simulator and instantiates its `DevOps/lamp-stack` into `VDC-Dev`:
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vapp_instantiate
//! VCD_URL=https://vcd.example.com VCD_ORG=acme VCD_USER=me VCD_PASSWORD=... \
//!   cargo run -p nebulair-vcloud --example vapp_instantiate -- vdc1 Templates centos7 centos7 demo-vapp net1
//! ```

use std::time::Duration;

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::model::vcd::VAppStatus;
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::{
    InstantiateParams, IpAllocation, NetworkMapping, VmSettings, WorkloadOptions,
};

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

/// What to instantiate, and where.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) vdc: String,
    pub(crate) catalog: String,
    pub(crate) template: String,
    /// The template VM that gets a new name (`<vapp>-web`) and computer name.
    pub(crate) template_vm: String,
    pub(crate) vapp: String,
    /// The org vDC network the vApp network bridges to.
    pub(crate) network: String,
}

/// What vCD made.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Created {
    /// The new vApp's id (`urn:vcloud:vapp:...`).
    pub(crate) id: String,
    /// Its status once powered on, read again.
    pub(crate) status: Option<VAppStatus>,
    /// Its VMs: (name, computer name, CPUs, memory MB, IP addresses).
    pub(crate) vms: Vec<(String, String, i64, i64, Vec<String>)>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match env("VCD_URL") {
        Some(url) => {
            let [vdc, catalog, template, template_vm, vapp, network] = args.as_slice() else {
                return Err("arguments: VDC CATALOG TEMPLATE TEMPLATE_VM NEW_VAPP NETWORK".into());
            };
            let target = Target {
                url,
                org: env("VCD_ORG").unwrap_or_default(),
                user: env("VCD_USER").unwrap_or_default(),
                password: env("VCD_PASSWORD").unwrap_or_default(),
                http: HttpConfig::default(),
                poll: Duration::from_secs(2),
            };
            let request = Request {
                vdc: vdc.clone(),
                catalog: catalog.clone(),
                template: template.clone(),
                template_vm: template_vm.clone(),
                vapp: vapp.clone(),
                network: network.clone(),
            };
            run(&target, &request).await?;
        }
        None => {
            let sim = VcloudSimulator::builder().start().await?;
            run(
                &simulator_target(sim.base_url().as_str()),
                &simulator_request("demo-shop"),
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

/// The simulator's `DevOps/lamp-stack` (VMs `web` and `db`) into `VDC-Dev`.
pub(crate) fn simulator_request(vapp: &str) -> Request {
    Request {
        vdc: "VDC-Dev".into(),
        catalog: "DevOps".into(),
        template: "lamp-stack".into(),
        template_vm: "web".into(),
        vapp: vapp.into(),
        network: "default-routed".into(),
    }
}

/// Logs in, instantiates the template (waiting for the task), powers the vApp on,
/// reads it again and prints its VMs; logs out.
pub(crate) async fn run(t: &Target, r: &Request) -> Result<Created> {
    let session = VcdSession::builder(&t.url)
        .org(&t.org)
        .credentials(Credentials::password(&t.user, &t.password))
        .http_config(t.http.clone())
        .build()?;
    session.login().await?;
    let client = session.client()?;
    let ws = client.workloads_with(WorkloadOptions::default().poll_interval(t.poll));

    let template = ws.catalog(r.catalog.as_str()).template(r.template.as_str());
    let web = format!("{}-web", r.vapp);
    let params = InstantiateParams::new(r.vapp.clone())
        .description(format!("made from {}/{}", r.catalog, r.template))
        .network(NetworkMapping::bridged(r.network.clone()))
        .vm(
            r.template_vm.clone(),
            VmSettings::named(web.clone())
                .computer_name(web.clone())
                .network(r.network.clone(), IpAllocation::Pool),
        );
    // `.wait()`: the vApp's handle once vCD's creation task has succeeded.
    let vapp = ws
        .vdc(r.vdc.as_str())
        .instantiate(&template, params)
        .wait()
        .await?;
    vapp.power_on().wait().await?;

    let doc = vapp.get().await?;
    let mut vms = Vec::new();
    for vm in doc.vms() {
        let name = vm.name.clone().unwrap_or_default();
        let computer = vm
            .guest_customization_section()
            .and_then(|g| g.computer_name.clone())
            .unwrap_or_default();
        let ips: Vec<String> = vm
            .network_connections()
            .iter()
            .filter_map(|c| c.ip_address.clone())
            .collect();
        println!(
            "{name:<16} {computer:<16} {} CPU {:>6} MB  {}",
            vm.cpu_count().unwrap_or(0),
            vm.memory_mb().unwrap_or(0),
            ips.join(", ")
        );
        vms.push((
            name,
            computer,
            vm.cpu_count().unwrap_or(0),
            vm.memory_mb().unwrap_or(0),
            ips,
        ));
    }
    let status = doc.status_typed();
    println!(
        "vApp {} ({}) is {}",
        r.vapp,
        doc.id.as_deref().unwrap_or("?"),
        status.map(|s| s.as_str()).unwrap_or("?")
    );
    session.logout().await?;
    Ok(Created {
        id: doc.id.unwrap_or_default(),
        status,
        vms,
    })
}
