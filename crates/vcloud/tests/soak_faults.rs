//! Soak (issue #15) against the vCloud simulator with its failure hooks on: tokens
//! expiring under load (the session logs in again), a share of failing DR tasks, busy-edge
//! windows (BUSY_ENTITY), latency on every task, and the HTTP fault injection (500,
//! internal errors, dropped connections, truncated answers). Every read ends well or with
//! the error its fault means; every DR target gets the outcome the simulator's state says
//! (or says that it does not know); no write is applied twice.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use nebulair_core::{Credentials, ErrorKind, HttpConfig, ProxyConfig, RetryPolicy};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, OD_DR_INSTANCE_ID, VcloudSimulator,
};
use nebulair_vcloud::dr::{DisasterRecovery, DrTargets, TargetStatus};
use nebulair_vcloud::edge::{EdgeFirewallRule, EdgeGateway};
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

    // Busy entity: the edge refuses changes while another one runs (BUSY_ENTITY). Each
    // change is retried until the edge is free, is applied exactly once (one task each),
    // and the rule set read back is the one sent.
    let edge = EdgeGateway::new(&client, EDGE_ID)
        .expect("edge")
        .retry_policy(retries().max_retries(4));
    let mut busy_answers = 0;
    let mut failed_changes = 0;
    for round in 0..8u32 {
        let mut services = edge.services().await.expect("services");
        let mut fw = services.firewall().expect("fw").expect("firewall present");
        let rules = fw.rules.len();
        fw.rules.push(EdgeFirewallRule::allow(
            format!("soak-{round}"),
            "Any",
            "192.0.2.10",
            format!("{}", 8000 + round),
        ));
        services.set_firewall(&fw);
        let busy = round % 3;
        busy_answers += busy;
        assert!(sim.make_edge_busy(EDGE_ID, busy));
        let tasks = sim.task_count();
        let task = edge
            .configure_services(&services)
            .await
            .unwrap_or_else(|e| panic!("round {round}: still busy after retries: {e:?}"));
        assert_eq!(
            sim.task_count() - tasks,
            1,
            "round {round}: applied more than once"
        );
        // A quarter of the simulator's tasks fail: a failed change leaves the rules as
        // they were.
        let done = client
            .task_waiter()
            .poll_interval(Duration::from_millis(20))
            .wait(&task)
            .await;
        let back = edge.services().await.expect("read back");
        let fw2 = back.firewall().expect("fw").expect("present");
        match done {
            Ok(_) => assert_eq!(fw2.rules.len(), rules + 1, "round {round}"),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Server, "round {round}: {e:?}");
                assert_eq!(fw2.rules.len(), rules, "round {round}: failed but applied");
                failed_changes += 1;
            }
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
        "soak vcloud: 120 reads with {relogins} token expiries, 8 edge changes through \
         {busy_answers} busy answers ({failed_changes} failed tasks), DR 60 targets ({failed} failed tasks), {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    sim.shutdown().await;
}

/// The simulator's HTTP fault injection on every request (latency, HTTP 500, vCD internal
/// errors, dropped connections, truncated answers): reads are retried away or fail with
/// the error the fault means; every DR target gets an outcome that matches the
/// simulator's state, and no DR action reaches the simulator twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_dr_under_http_faults() {
    use nebulair_sim::faults::FaultConfig;

    let sim = VcloudSimulator::builder()
        .dr_replications(40)
        .task_duration(Duration::from_millis(60))
        .task_failure_share(0.1)
        .rng_seed(16)
        .faults(
            FaultConfig::default()
                .latency(Duration::from_millis(1), Duration::from_millis(2))
                .http_500_ratio(0.03)
                .internal_error_ratio(0.03)
                .drop_connection_ratio(0.04)
                .truncate_ratio(0.04)
                .seed(1516),
        )
        .start()
        .await
        .expect("simulator");
    let started = Instant::now();
    let policy = retries().max_retries(8);

    // Logging in is a POST: it is sent once; a fault on it is reported, and the caller
    // logs in again.
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .http_config(http())
        .retry_policy(policy.clone())
        .build()
        .expect("session");
    let mut login_faults = 0;
    while let Err(e) = session.login().await {
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Transport | ErrorKind::Server | ErrorKind::Protocol
            ),
            "login: unexpected {e:?}"
        );
        login_faults += 1;
        assert!(login_faults < 20, "login never succeeded");
    }
    let client = session.client().expect("client");

    let (mut ok, mut server) = (0u32, 0u32);
    for i in 0..150 {
        match Query::new(QueryType::Vm)
            .page_size(5)
            .stream(&client)
            .try_collect::<Vec<_>>()
            .await
        {
            Ok(vms) => {
                assert!(!vms.is_empty());
                ok += 1;
            }
            // HTTP 500 is not retried (the server failed, a retry is the caller's call);
            // dropped and truncated answers to GETs are retried, so never seen here.
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Server, "read {i}: {e:?}");
                server += 1;
            }
        }
    }
    assert!(ok > 0 && server > 0, "ok {ok}, server {server}");

    let od = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .http_config(http())
        .retry_policy(policy.clone())
        .build()
        .expect("od");
    let mut attempts = 0;
    while let Err(e) = async {
        od.login_iam().await?;
        od.login_to_instance(InstanceSelector::Id(OD_DR_INSTANCE_ID.to_owned()))
            .await
    }
    .await
    {
        attempts += 1;
        assert!(attempts < 20, "instance login never succeeded: {e:?}");
    }
    let dr_client = od.client(OD_DR_INSTANCE_ID).expect("client");
    let mut dr = DisasterRecovery::with_client(&dr_client)
        .expect("dr")
        .concurrency(8)
        .poll_interval(Duration::from_millis(20))
        .idle_timeout(Duration::from_secs(10));
    let mut attempts = 0;
    while let Err(e) = dr.fetch_replications().await {
        assert_eq!(e.kind(), ErrorKind::Server, "fetch: {e:?}");
        attempts += 1;
        assert!(attempts < 20, "the replication list never came");
    }
    assert_eq!(dr.replications().len(), 40);
    let tasks_before = sim.task_count();
    let report = dr
        .test_failover(DrTargets::All, false)
        .await
        .expect("report");
    assert_eq!(report.outcomes.len(), 40, "an outcome is missing");
    let sent = sim.task_count() - tasks_before;
    assert!(
        sent <= 40,
        "{sent} DR tasks for 40 targets: an action was sent twice"
    );
    let states = sim.replications();
    let mut tally = std::collections::BTreeMap::<String, u32>::new();
    for o in &report.outcomes {
        let st = states
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(&o.uuid))
            .expect("known replication");
        let key = match &o.status {
            TargetStatus::Succeeded => {
                assert_eq!(st.test_recovery_state, "complete", "{}", o.uuid);
                "succeeded".to_owned()
            }
            // A refusal the server answered (HTTP 500, internal error, a failed task):
            // nothing was applied.
            TargetStatus::Failed { kind, message } => {
                assert_ne!(
                    st.test_recovery_state, "complete",
                    "{} reported failed ({kind:?}: {message}) but it was applied",
                    o.uuid
                );
                format!("failed {kind:?}")
            }
            // The answer to the action was lost: it may have been applied, and the outcome
            // says that it does not know.
            TargetStatus::Unconfirmed { kind, message } => {
                assert!(
                    matches!(
                        kind,
                        ErrorKind::Transport
                            | ErrorKind::Timeout
                            | ErrorKind::Protocol
                            | ErrorKind::Server
                    ),
                    "{}: {kind:?} {message}",
                    o.uuid
                );
                assert!(
                    message.contains("may have been applied") || message.contains("not known"),
                    "{message}"
                );
                format!("unconfirmed {kind:?} (applied: {})", st.test_recovery_state)
            }
            other => panic!("{}: unexpected outcome {other:?}", o.uuid),
        };
        *tally.entry(key).or_default() += 1;
    }
    eprintln!(
        "soak vcloud http faults: login faults {login_faults}, 150 reads ({ok} ok, {server} \
         HTTP 500/internal), DR 40 targets {tally:?}, {sent} actions sent, {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    sim.shutdown().await;
}
