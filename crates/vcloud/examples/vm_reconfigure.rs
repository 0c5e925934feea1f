//! Reconfigures a VM: CPU count and cores per socket, memory, a new hard disk, a new
//! NIC and a metadata entry, each change waited for and the VM read again at the end;
//! and shows the typed error a bad value (memory that is not a multiple of 4 MB) gives
//! before anything is sent.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` set it works on that vCD
//! (arguments: `VAPP VM NETWORK`; the VM should be powered off, or have hot add
//! enabled); otherwise it starts the loopback simulator and changes `WEB-01` of its
//! vApp `Web-Tier`:
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vm_reconfigure
//! ```

use std::time::Duration;

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::model::vcd::{MetadataTypedValue, Vm};
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::{DiskSpec, IpAllocation, NicSpec, WorkloadError, WorkloadOptions};

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

/// The hardware of a VM, as read from vCD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hardware {
    pub(crate) cpus: i64,
    pub(crate) cores_per_socket: i64,
    pub(crate) memory_mb: i64,
    /// Hard disk sizes in MB, in `InstanceID` order.
    pub(crate) disks_mb: Vec<i64>,
    /// NICs as (index, network, addressing mode).
    pub(crate) nics: Vec<(i64, String, String)>,
}

impl Hardware {
    fn of(vm: &Vm) -> Hardware {
        Hardware {
            cpus: vm.cpu_count().unwrap_or(0),
            cores_per_socket: vm
                .virtual_hardware_section()
                .and_then(|h| h.cores_per_socket())
                .unwrap_or(1),
            memory_mb: vm.memory_mb().unwrap_or(0),
            disks_mb: vm.disks().iter().filter_map(|d| d.size_mb).collect(),
            nics: vm
                .network_connections()
                .iter()
                .map(|c| {
                    (
                        c.network_connection_index.unwrap_or(-1),
                        c.network.clone().unwrap_or_default(),
                        c.ip_address_allocation_mode.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }
}

/// What changed.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Reconfigured {
    pub(crate) before: Hardware,
    pub(crate) after: Hardware,
    /// The metadata value set, read back typed.
    pub(crate) metadata: Option<MetadataTypedValue>,
    /// The error 1001 MB of memory gave (nothing was sent).
    pub(crate) refused: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match env("VCD_URL") {
        Some(url) => {
            let [vapp, vm, network] = args.as_slice() else {
                return Err("arguments: VAPP VM NETWORK".into());
            };
            let target = Target {
                url,
                org: env("VCD_ORG").unwrap_or_default(),
                user: env("VCD_USER").unwrap_or_default(),
                password: env("VCD_PASSWORD").unwrap_or_default(),
                http: HttpConfig::default(),
                poll: Duration::from_secs(2),
            };
            run(&target, vapp, vm, network).await?;
        }
        None => {
            let sim = VcloudSimulator::builder().start().await?;
            run(
                &simulator_target(sim.base_url().as_str()),
                "Web-Tier",
                "WEB-01",
                "default-routed",
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

/// Logs in, reads the VM, refuses a bad memory size, then sets 4 CPUs (2 per socket)
/// and 4096 MB, adds a 10 GB disk and a pool NIC on `network`, sets a metadata entry,
/// reads the VM again and prints both; logs out.
pub(crate) async fn run(t: &Target, vapp: &str, vm: &str, network: &str) -> Result<Reconfigured> {
    let session = VcdSession::builder(&t.url)
        .org(&t.org)
        .credentials(Credentials::password(&t.user, &t.password))
        .http_config(t.http.clone())
        .build()?;
    session.login().await?;
    let client = session.client()?;
    let ws = client.workloads_with(WorkloadOptions::default().poll_interval(t.poll));
    // The VM by name inside its vApp (names are unique only within a vApp).
    let vm = ws.vapp(vapp).vm(vm);
    let before = Hardware::of(&vm.get().await?);
    println!("before: {before:?}");

    // Bad input is a typed error before any request.
    let err = vm
        .set_memory_mb(1001)
        .wait()
        .await
        .expect_err("not a multiple of 4 MB");
    let refused = match WorkloadError::of(&err) {
        Some(e @ WorkloadError::InvalidValue { .. }) => e.to_string(),
        _ => return Err(err.into()),
    };
    println!("refused: {refused}");

    vm.set_cpu(4, 2).wait().await?;
    vm.set_memory_mb(4096).wait().await?;
    vm.add_disk(DiskSpec::new(10 * 1024)).wait().await?;
    vm.add_nic(NicSpec::new(network, IpAllocation::Pool))
        .wait()
        .await?;
    vm.set_metadata(
        "reconfigured-by",
        MetadataTypedValue::String("vm_reconfigure example".into()),
    )
    .wait()
    .await?;

    let after = Hardware::of(&vm.get().await?);
    println!("after:  {after:?}");
    let metadata = vm.metadata_value("reconfigured-by").await?;
    session.logout().await?;
    Ok(Reconfigured {
        before,
        after,
        metadata,
        refused,
    })
}
