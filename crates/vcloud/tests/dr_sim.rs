//! DR against the vCloud simulator: paged listing, every action with duplicates and
//! unknown ids, a failing task, an idle timeout and cancellation, checking each target's
//! outcome and the simulator's replication states.

use std::time::Duration;

use nebulair_core::{ErrorKind, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{
    DEFAULT_PASSWORD, DEFAULT_USER, OD_DR_INSTANCE_ID, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::dr::{DisasterRecovery, DrEventKind, DrTargets, TargetStatus};
use nebulair_vcloud::session::{InstanceSelector, VcaOdSession};

async fn start(replications: u32, task: Duration) -> (VcloudSimulatorHandle, VcdClient) {
    let sim = VcloudSimulator::builder()
        .dr_replications(replications)
        .task_duration(task)
        .start()
        .await
        .expect("simulator");
    let od = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()
        .expect("session");
    od.login_iam().await.expect("iam login");
    od.login_to_instance(InstanceSelector::Id(OD_DR_INSTANCE_ID.to_owned()))
        .await
        .expect("instance login");
    let client = od.client(OD_DR_INSTANCE_ID).expect("client");
    (sim, client)
}

fn dr(client: &VcdClient) -> DisasterRecovery {
    DisasterRecovery::with_client(client)
        .expect("dr")
        .poll_interval(Duration::from_millis(25))
        .idle_timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn lists_every_page_with_names_and_dumps_csv() {
    let (sim, client) = start(30, Duration::from_millis(100)).await;
    let mut dr = dr(&client).page_size(7);
    let reps = dr.fetch_replications().await.expect("fetch");
    assert_eq!(reps.len(), 30);
    let expected = sim.replications();
    for (mine, theirs) in reps.iter().zip(&expected) {
        assert_eq!(mine.uuid, theirs.id.to_ascii_lowercase());
        assert_eq!(mine.name(), Some(theirs.vm_name.as_str()));
        assert!(mine.details_error.is_none());
    }
    let mut out = Vec::new();
    dr.dump_replication_details(&mut out).expect("csv");
    let out = String::from_utf8(out).expect("utf8");
    assert_eq!(out.lines().count(), 30);
    assert_eq!(
        out.lines().next(),
        Some(format!("{},{}", expected[0].id, expected[0].vm_name).as_str())
    );
    // With the server's default page size too (no pageSize: 25 per page).
    let mut dr = DisasterRecovery::with_client(&client)
        .expect("dr")
        .page_size(25);
    assert_eq!(dr.fetch_replications().await.expect("fetch").len(), 30);
    sim.shutdown().await;
}

#[tokio::test]
async fn test_failover_cleanup_and_failover_with_duplicates_and_unknown_ids() {
    let (sim, client) = start(6, Duration::from_millis(150)).await;
    let mut dr = dr(&client);
    dr.fetch_replications().await.expect("fetch");
    let ids: Vec<String> = dr.replications().iter().map(|r| r.uuid.clone()).collect();
    let unknown = "00000000-0000-4000-8000-00000000dead";
    let upper = ids[0].to_uppercase();
    let targets = vec![
        ids[0].as_str(),
        ids[1].as_str(),
        upper.as_str(),
        unknown,
        ids[2].as_str(),
    ];

    let report = dr
        .test_failover(targets.clone(), true)
        .await
        .expect("test failover");
    assert_eq!(report.unknown_ids, [unknown]);
    assert_eq!(report.duplicate_ids, [ids[0].to_uppercase()]);
    let done: Vec<&str> = report.outcomes.iter().map(|o| o.uuid.as_str()).collect();
    assert_eq!(done, [&ids[0], &ids[1], &ids[2]]);
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| o.status == TargetStatus::Succeeded),
        "{report:?}"
    );
    assert_eq!(dr.action_errors().len(), 1);
    assert_eq!(dr.action_errors()[0].vm_uuid, unknown);
    let states = sim.replications();
    for (i, s) in states.iter().enumerate() {
        let want = if i < 3 { "complete" } else { "none" };
        assert_eq!(s.test_recovery_state, want, "replication {i}");
    }

    let report = dr.test_cleanup(targets).await.expect("cleanup");
    assert_eq!(report.succeeded().count(), 3);
    assert!(
        sim.replications()
            .iter()
            .all(|s| s.test_recovery_state == "none")
    );

    let report = dr
        .failover(DrTargets::ids([ids[4].clone()]), false)
        .await
        .expect("failover");
    assert!(report.all_succeeded(), "{report:?}");
    assert!(dr.action_errors().is_empty());
    let states = sim.replications();
    assert_eq!(states[4].recovery_state, "failedOver");
    assert_eq!(states[3].recovery_state, "notStarted");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failing_task_is_reported_with_its_message_and_others_complete() {
    let (sim, client) = start(4, Duration::from_millis(100)).await;
    let mut dr = dr(&client).concurrency(1);
    dr.fetch_replications().await.expect("fetch");
    let ids: Vec<String> = dr.replications().iter().map(|r| r.uuid.clone()).collect();
    sim.fail_next_tasks(1);
    let report = dr.failover(DrTargets::All, true).await.expect("failover");
    assert_eq!(report.outcomes.len(), 4);
    match &report.outcomes[0].status {
        TargetStatus::Failed { kind, message } => {
            assert_ne!(*kind, ErrorKind::Timeout);
            assert!(!message.is_empty());
        }
        other => panic!("first target should fail, got {other:?}"),
    }
    assert!(report.outcomes[0].task_href.is_some());
    assert!(
        report.outcomes[1..].iter().all(|o| o.status.is_success()),
        "{report:?}"
    );
    let errors = dr.action_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].vm_uuid, ids[0]);
    assert_eq!(
        Some(errors[0].vm_name.as_str()),
        dr.replications()[0].name()
    );
    let states = sim.replications();
    assert_eq!(states[0].recovery_state, "notStarted");
    assert!(states[1..].iter().all(|s| s.recovery_state == "failedOver"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_task_without_progress_hits_the_idle_timeout() {
    let (sim, client) = start(3, Duration::from_millis(100)).await;
    let mut dr = dr(&client).idle_timeout(Duration::from_millis(400));
    dr.fetch_replications().await.expect("fetch");
    let first = dr.replications()[0].uuid.clone();
    let second = dr.replications()[1].uuid.clone();
    // One hour per task: progress moves by 1 % every 36 s, i.e. not within 400 ms.
    sim.set_task_duration(Duration::from_secs(3600));
    let report = dr
        .test_failover(DrTargets::ids([first.clone(), second.clone()]), true)
        .await
        .expect("action");
    for o in &report.outcomes {
        assert!(matches!(o.status, TargetStatus::TimedOut { .. }), "{o:?}");
        assert!(o.task_href.is_some());
    }
    assert!(
        report.elapsed < Duration::from_secs(5),
        "{:?}",
        report.elapsed
    );
    assert_eq!(dr.action_errors().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn cancellation_stops_queued_work_and_records_running_tasks() {
    let (sim, client) = start(12, Duration::from_secs(30)).await;
    let mut dr = dr(&client).concurrency(3);
    dr.fetch_replications().await.expect("fetch");
    let tasks_before = sim.task_count();
    let token = dr.cancel_token();
    let mut events = dr.progress_channel();
    let watcher = tokio::spawn(async move {
        let mut progressed = 0;
        let mut seen = Vec::new();
        while let Some(ev) = events.recv().await {
            if matches!(ev.kind, DrEventKind::Progress { .. }) {
                progressed += 1;
                if progressed == 3 {
                    token.cancel();
                }
            }
            seen.push(ev);
        }
        seen
    });
    let report = dr
        .test_failover(DrTargets::All, true)
        .await
        .expect("action");
    assert_eq!(report.outcomes.len(), 12);
    let interrupted: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| o.status == TargetStatus::Interrupted)
        .collect();
    let not_started = report
        .outcomes
        .iter()
        .filter(|o| o.status == TargetStatus::NotStarted)
        .count();
    assert_eq!(interrupted.len() + not_started, 12, "{report:?}");
    assert!(
        interrupted.len() <= 3 && !interrupted.is_empty(),
        "{report:?}"
    );
    assert!(interrupted.iter().all(|o| o.task_href.is_some()));
    // Only the started VMs created tasks on the server.
    assert_eq!(sim.task_count() - tasks_before, interrupted.len());
    assert_eq!(dr.action_errors().len(), 12);
    drop(dr);
    let seen = watcher.await.expect("watcher");
    assert!(seen.iter().all(|e| e.total == 12));
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e.kind, DrEventKind::Finished { .. }))
            .count(),
        12
    );
    sim.shutdown().await;
}
