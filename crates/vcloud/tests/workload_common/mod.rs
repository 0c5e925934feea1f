//! Shared set-up of the workload tests: a simulator on loopback and a logged-in client.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use nebulair_core::{
    Credentials, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport, RetryPolicy,
};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::{WorkloadOptions, Workloads};
use nebulair_vcloud::{ApiVersion, VcdClient};

pub(crate) fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

pub(crate) struct Env {
    pub(crate) sim: VcloudSimulatorHandle,
    pub(crate) session: VcdSession,
    pub(crate) client: VcdClient,
    pub(crate) ws: Workloads,
}

/// Fast tasks (`task_ms`), fast polling and busy retries.
pub(crate) fn fast_options() -> WorkloadOptions {
    WorkloadOptions::default()
        .poll_interval(Duration::from_millis(10))
        .deadline(Some(Duration::from_secs(30)))
        .busy_retry(
            RetryPolicy::default()
                .max_retries(40)
                .initial_backoff(Duration::from_millis(20))
                .max_backoff(Duration::from_millis(100))
                .no_deadline(),
        )
}

pub(crate) async fn env_with(version: &str, task_ms: u64) -> Env {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(task_ms))
        .start()
        .await
        .expect("sim");
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .version(ApiVersion::new(version).expect("v"))
        .transport(transport())
        .build()
        .expect("build");
    session.login().await.expect("login");
    let client = session.client().expect("client");
    let ws = client.workloads_with(fast_options());
    Env {
        sim,
        session,
        client,
        ws,
    }
}

pub(crate) async fn env() -> Env {
    env_with("36.0", 30).await
}
