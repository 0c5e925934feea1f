//! DR: list replications, dump them as CSV, run a test failover of every VM with a
//! progress line, print the per-VM outcome, then clean up.
//!
//! Runs against the built-in vCloud simulator (30 replications, 1 s tasks, 10 % failing):
//! `cargo run -p nebulair-vcloud --example dr_failover`.

use std::time::Duration;

use nebulair_core::{HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_PASSWORD, DEFAULT_USER, OD_DR_INSTANCE_ID, VcloudSimulator};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::dr::{ActionError, DisasterRecovery, DrEventKind, DrReport, DrTargets};
use nebulair_vcloud::session::{InstanceSelector, VcaOdSession};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What the failover test and the cleanup did.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Outcome {
    /// How many replications the instance has.
    pub(crate) replications: usize,
    /// The test failover, one outcome per VM.
    pub(crate) failover: DrReport,
    /// The failover's problems, as vcloudair's `(vm_uuid, vm_name, message)`.
    pub(crate) errors: Vec<ActionError>,
    /// The cleanup afterwards.
    pub(crate) cleanup: DrReport,
}

#[tokio::main]
async fn main() -> Result<()> {
    let sim = VcloudSimulator::builder()
        .dr_replications(30)
        .task_duration(Duration::from_secs(1))
        .task_failure_share(0.1)
        .start()
        .await?;
    let client = login(sim.base_url().as_str()).await?;
    run(&client, Duration::from_millis(200)).await?;
    sim.shutdown().await;
    Ok(())
}

/// Logs in to vCloud Air On-Demand at `base_url` with the simulator's test account and
/// returns the client of the DR instance.
pub(crate) async fn login(base_url: &str) -> Result<VcdClient> {
    let od = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(base_url)
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()?;
    od.login_iam().await?;
    od.login_to_instance(InstanceSelector::Id(OD_DR_INSTANCE_ID.to_owned()))
        .await?;
    Ok(od.client(OD_DR_INSTANCE_ID)?)
}

/// Lists the replications (CSV on stdout), test-fails over every VM (10 at a time,
/// tasks polled every `poll`) with a progress line on stderr, prints the outcome and
/// the errors, then cleans up.
pub(crate) async fn run(client: &VcdClient, poll: Duration) -> Result<Outcome> {
    let mut dr = DisasterRecovery::with_client(client)?
        .concurrency(10)
        .poll_interval(poll);
    let replications = dr.fetch_replications().await?.len();
    println!("{replications} replications; uuid,name:");
    let mut csv = Vec::new();
    dr.dump_replication_details(&mut csv)?;
    print!("{}", String::from_utf8_lossy(&csv));

    let mut events = dr.progress_channel();
    let printer = tokio::spawn(async move {
        // One line per action: the counter restarts when every target has finished.
        let mut finished = 0;
        while let Some(ev) = events.recv().await {
            if let DrEventKind::Finished { .. } = ev.kind {
                finished += 1;
                eprint!("\r{finished}/{} VMs done", ev.total);
                if finished == ev.total {
                    eprintln!();
                    finished = 0;
                }
            }
        }
    });
    let failover = dr.test_failover(DrTargets::All, true).await?;
    println!(
        "test failover: {} succeeded, {} failed in {:.1} s",
        failover.succeeded().count(),
        failover.failed().count(),
        failover.elapsed.as_secs_f64()
    );
    let errors = dr.action_errors().to_vec();
    for e in &errors {
        println!("  {} {}: {}", e.vm_uuid, e.vm_name, e.message);
    }
    let cleanup = dr.test_cleanup(DrTargets::All).await?;
    println!("test cleanup: {} succeeded", cleanup.succeeded().count());
    drop(dr);
    printer.await?;
    Ok(Outcome {
        replications,
        failover,
        errors,
        cleanup,
    })
}
