//! Soak (issue #15) against the vCloud simulator with its failure hooks on: tokens
//! expiring under load (the session logs in again), a share of failing DR tasks, a
//! busy-edge window, and latency on every task. Every read ends well; every DR target gets
//! the outcome the simulator's state says; no DR action is sent twice.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use nebulair_core::{Credentials, HttpConfig, ProxyConfig, RetryPolicy};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, OD_DR_INSTANCE_ID, VcloudSimulator,
};
use nebulair_vcloud::dr::{DisasterRecovery, DrTargets, TargetStatus};
use nebulair_vcloud::query::{Query, QueryType};
use nebulair_vcloud::session::{InstanceSelector, VcaOdSession, VcdSession};

fn http() -> HttpConfig {
    HttpConfig::default().proxy(ProxyConfig::Disabled)
}

fn retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
        .deadline(Duration::from_secs(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_relogins_and_dr_outcomes_under_failures() {
    let sim = VcloudSimulator::builder()
        .dr_replications(60)
        .task_duration(Duration::from_millis(150))
        .task_failure_share(0.25)
        .rng_seed(15)
        .start()
        .await
        .expect("simulator");
    let started = Instant::now();

    // Reads with tokens expiring every 10 reads: each must succeed after one re-login.
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .http_config(http())
        .retry_policy(retries())
        .build()
        .expect("session");
    session.login().await.expect("login");
    let client = session.client().expect("client");
    let mut relogins = 0;
    for i in 0..120 {
        if i % 10 == 9 {
            sim.expire_tokens();
            relogins += 1;
        }
        let before = client.org_info().token().clone();
        let vms = Query::new(QueryType::Vm)
            .stream(&client)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_or_else(|e| panic!("read {i}: {e:?}"));
        assert!(!vms.is_empty());
        if i % 10 == 9 {
            use nebulair_core::ExposeSecret;
            assert_ne!(
                before.expose_secret(),
                client.org_info().token().expose_secret(),
                "read {i}: no re-login after the token expired"
            );
        }
    }

    // DR under 25 % failing tasks: every target an outcome, matching the simulator.
    let od = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .http_config(http())
        .retry_policy(retries())
        .build()
        .expect("od");
    od.login_iam().await.expect("iam");
    od.login_to_instance(InstanceSelector::Id(OD_DR_INSTANCE_ID.to_owned()))
        .await
        .expect("instance");
    let dr_client = od.client(OD_DR_INSTANCE_ID).expect("client");
    let mut dr = DisasterRecovery::with_client(&dr_client)
        .expect("dr")
        .concurrency(16)
        .poll_interval(Duration::from_millis(20))
        .idle_timeout(Duration::from_secs(10));
    dr.fetch_replications().await.expect("fetch");
    let tasks_before = sim.task_count();
    // Tokens expire while the action runs too.
    let expirer = {
        let handle = &sim;
        async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                handle.expire_tokens();
            }
        }
    };
    let (report, ()) = tokio::join!(dr.test_failover(DrTargets::All, false), expirer);
    let report = report.expect("report");
    assert_eq!(report.outcomes.len(), 60, "an outcome is missing");
    assert_eq!(
        sim.task_count() - tasks_before,
        60,
        "a DR action was sent more or less than once per target"
    );
    let states = sim.replications();
    let mut failed = 0;
    for o in &report.outcomes {
        let st = states
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(&o.uuid))
            .expect("known replication");
        match &o.status {
            TargetStatus::Succeeded => assert_eq!(st.test_recovery_state, "complete", "{}", o.uuid),
            TargetStatus::Failed { .. } => {
                failed += 1;
                assert_eq!(
                    st.test_recovery_state, "none",
                    "{} failed but applied",
                    o.uuid
                );
            }
            other => panic!("{}: unexpected outcome {other:?}", o.uuid),
        }
    }
    assert!(failed > 0 && failed < 60, "{failed}");
    eprintln!(
        "soak vcloud: 120 reads with {relogins} token expiries, DR 60 targets ({failed} failed tasks), {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    sim.shutdown().await;
}
