//! DR: list replications, dump them as CSV, run a test failover of every VM with a
//! progress line, print the per-VM outcome, then clean up.
//!
//! Runs against the built-in vCloud simulator (30 replications, 1 s tasks, 10 % failing):
//! `cargo run -p nebulair-vcloud --example dr_failover`.

use std::time::Duration;

use nebulair_core::{HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_PASSWORD, DEFAULT_USER, OD_DR_INSTANCE_ID, VcloudSimulator};
use nebulair_vcloud::dr::{DisasterRecovery, DrEventKind, DrTargets};
use nebulair_vcloud::session::{InstanceSelector, VcaOdSession};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = VcloudSimulator::builder()
        .dr_replications(30)
        .task_duration(Duration::from_secs(1))
        .task_failure_share(0.1)
        .start()
        .await?;
    let od = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()?;
    od.login_iam().await?;
    od.login_to_instance(InstanceSelector::Id(OD_DR_INSTANCE_ID.to_owned()))
        .await?;
    let client = od.client(OD_DR_INSTANCE_ID)?;

    let mut dr = DisasterRecovery::with_client(&client)?
        .concurrency(10)
        .poll_interval(Duration::from_millis(200));
    let n = dr.fetch_replications().await?.len();
    println!("{n} replications; uuid,name:");
    dr.dump_replication_details(std::io::stdout().lock())?;

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
    let report = dr.test_failover(DrTargets::All, true).await?;
    println!(
        "test failover: {} succeeded, {} failed in {:.1} s",
        report.succeeded().count(),
        report.failed().count(),
        report.elapsed.as_secs_f64()
    );
    for e in dr.action_errors() {
        println!("  {} {}: {}", e.vm_uuid, e.vm_name, e.message);
    }
    let cleanup = dr.test_cleanup(DrTargets::All).await?;
    println!("test cleanup: {} succeeded", cleanup.succeeded().count());
    drop(dr);
    printer.await?;
    sim.shutdown().await;
    Ok(())
}
