//! DR throughput on the vCloud simulator: N replications, 20 workers, every task taking
//! 0.5 s, so the ideal wall time is N / 20 × 0.5 s (5 s for 200). The target is at least
//! 90 % of ideal (≤ 5.6 s for 200) with memory that does not grow with the run.
//!
//! Run: `cargo bench -p nebulair-vcloud --bench dr_throughput`. The allocation columns
//! (divan's `AllocProfiler`) show the memory per action: compare N = 50 and N = 200.

use std::time::Duration;

use divan::{AllocProfiler, Bencher};
use nebulair_core::{HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{
    DEFAULT_PASSWORD, DEFAULT_USER, OD_DR_INSTANCE_ID, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::dr::{DisasterRecovery, DrTargets};
use nebulair_vcloud::session::{InstanceSelector, VcaOdSession};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

const WORKERS: usize = 20;
const TASK: Duration = Duration::from_millis(500);
const POLL: Duration = Duration::from_millis(25);

fn main() {
    divan::main();
}

async fn setup(n: u32) -> (VcloudSimulatorHandle, DisasterRecovery) {
    let sim = VcloudSimulator::builder()
        .dr_replications(n)
        .task_duration(TASK)
        .start()
        .await
        .expect("simulator");
    let od = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()
        .expect("session");
    od.login_iam().await.expect("login");
    od.login_to_instance(InstanceSelector::Id(OD_DR_INSTANCE_ID.to_owned()))
        .await
        .expect("instance");
    let client = od.client(OD_DR_INSTANCE_ID).expect("client");
    let mut dr = DisasterRecovery::with_client(&client)
        .expect("dr")
        .concurrency(WORKERS)
        .poll_interval(POLL);
    let count = dr.fetch_replications().await.expect("list").len();
    assert_eq!(count, n as usize);
    (sim, dr)
}

/// One `test_failover` of every replication; the ideal time is `n / 20 × 0.5 s`.
#[divan::bench(args = [50, 200], sample_count = 3, sample_size = 1)]
fn test_failover_all(bencher: Bencher<'_, '_>, n: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (sim, mut dr) = rt.block_on(setup(n));
    bencher.bench_local(|| {
        let report = rt
            .block_on(dr.test_failover(DrTargets::All, true))
            .expect("action");
        assert_eq!(report.succeeded().count(), n as usize, "{report:?}");
        report.elapsed
    });
    rt.block_on(sim.shutdown());
}
