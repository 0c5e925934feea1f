use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nebulair_core::{HttpRequest, HttpResponse, MockTransport};

use super::*;

const BASE: &str = "https://dr.example.test/api/compute/";
const ORG: &str = "d4e5f6a7-1111-4222-8333-444455556666";

fn id(n: u32) -> String {
    format!("11111111-aaaa-4bbb-8ccc-{n:012}")
}

/// A scripted DR server: replications 1..=5 paged by 2 (the second page lists #2 again),
/// #4's details fail, task of #3 fails, task of #5 hangs at 10 %.
struct Server {
    polls: Mutex<HashMap<String, u32>>,
}

impl Server {
    fn handle(&self, req: &HttpRequest) -> nebulair_core::Result<HttpResponse> {
        let path = req.url.path().to_owned();
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let rep = |n: u32| {
            format!(
                r#"<Reference href="{BASE}api/vr/replications/{}" type="application/vnd.vmware.hcs.replicationGroup+xml"/>"#,
                id(n)
            )
        };
        if path.ends_with("/replications") {
            let page: u32 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let refs = match page {
                1 => rep(1) + &rep(2),
                2 => rep(2) + &rep(3),
                3 => rep(4) + &rep(5),
                _ => String::new(),
            };
            return Ok(HttpResponse::new(
                200,
                format!(
                    r#"<References xmlns="http://www.vmware.com/vcloud/v1.5" page="{page}" pageSize="2"><Link rel="up" href="{BASE}api/org/{ORG}"/>{refs}</References>"#
                ),
            ));
        }
        if let Some(rest) = path.strip_prefix("/api/compute/api/vr/replications/") {
            let (uuid, action) = match rest.split_once("/action/") {
                Some((u, a)) => (u.to_owned(), Some(a.to_owned())),
                None => (rest.to_owned(), None),
            };
            let n: u32 = uuid[24..].parse().expect("numbered id");
            return Ok(match action {
                None if n == 4 => {
                    HttpResponse::new(500, "<Error majorErrorCode=\"500\" message=\"boom\"/>")
                }
                None => HttpResponse::new(
                    200,
                    format!(
                        r#"<vr:ReplicationGroup xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vr="http://www.vmware.com/vr/v6.0" name="vm-{n}"><vr:Rpo>60</vr:Rpo></vr:ReplicationGroup>"#
                    ),
                ),
                Some(a) => task(202, &format!("{uuid}-{a}"), "queued", None, ""),
            });
        }
        if let Some(t) = path.strip_prefix("/task/") {
            let mut polls = self.polls.lock().expect("lock");
            let k = polls.entry(t.to_owned()).or_insert(0);
            *k += 1;
            let n: u32 = t[24..36].parse().expect("numbered id");
            return Ok(match (n, *k) {
                (3, _) => task(
                    200,
                    t,
                    "error",
                    Some(40),
                    r#"<Error majorErrorCode="500" minorErrorCode="INTERNAL_SERVER_ERROR" message="replication broken"/>"#,
                ),
                (5, _) => task(200, t, "running", Some(10), ""),
                (_, 1) => task(200, t, "running", Some(50), ""),
                _ => task(200, t, "success", Some(100), ""),
            });
        }
        Ok(HttpResponse::new(
            404,
            "<Error majorErrorCode=\"404\" message=\"no route\"/>",
        ))
    }
}

fn task(status: u16, id: &str, st: &str, progress: Option<u8>, inner: &str) -> HttpResponse {
    let progress = progress
        .map(|p| format!("<Progress>{p}</Progress>"))
        .unwrap_or_default();
    HttpResponse::new(
        status,
        format!(
            r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="{st}" operationName="drAction" href="https://dr.example.test/task/{id}">{inner}{progress}</Task>"#
        ),
    )
}

fn dr() -> (DisasterRecovery, Arc<MockTransport>) {
    let server = Server {
        polls: Mutex::new(HashMap::new()),
    };
    let mock = Arc::new(MockTransport::with_handler(move |req| server.handle(req)));
    let org = OrgInfo::new(BASE, "tok", ORG)
        .expect("org")
        .with_version("5.7".parse().expect("v"));
    let client = VcdClient::new(org, mock.clone());
    let dr = DisasterRecovery::with_client(&client)
        .expect("dr")
        .concurrency(2)
        .page_size(2)
        .poll_interval(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(60));
    (dr, mock)
}

#[tokio::test(start_paused = true)]
async fn lists_every_page_dedupes_and_keeps_failed_details() {
    let (mut dr, mock) = dr();
    let reps = dr.fetch_replications().await.expect("fetch");
    let ids: Vec<&str> = reps.iter().map(|r| r.uuid.as_str()).collect();
    assert_eq!(ids, [id(1), id(2), id(3), id(4), id(5)]);
    assert_eq!(reps[0].name(), Some("vm-1"));
    assert!(reps[3].details.is_none());
    assert!(
        reps[3]
            .details_error
            .as_deref()
            .is_some_and(|e| e.contains("500"))
    );
    let list_reqs: Vec<String> = mock
        .requests()
        .iter()
        .filter(|r| r.url.path().ends_with("/replications"))
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    // Page 4 is empty: that ends the listing.
    assert_eq!(
        list_reqs,
        [
            "page=1&pageSize=2",
            "page=2&pageSize=2",
            "page=3&pageSize=2",
            "page=4&pageSize=2"
        ]
    );
    assert_eq!(
        mock.requests()[0].header_str("accept"),
        Some("application/*+xml;version=5.7")
    );

    let mut csv = Vec::new();
    dr.dump_replication_details(&mut csv).expect("csv");
    let csv = String::from_utf8(csv).expect("utf8");
    assert_eq!(csv.lines().next(), Some(format!("{},vm-1", id(1)).as_str()));
    assert_eq!(csv.lines().nth(3), Some(format!("{},", id(4)).as_str()));
    assert_eq!(csv.lines().count(), 5);
}

#[tokio::test(start_paused = true)]
async fn test_failover_reports_every_target() {
    let (dr0, mock) = dr();
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let mut dr = dr0.on_progress(move |e| ev.lock().expect("lock").push(e));
    let upper = id(1).to_uppercase();
    let report = dr
        .test_failover(
            vec![
                upper.as_str(),
                "nope",
                &id(2),
                &id(1),
                &id(3),
                &id(5),
                "nope",
            ],
            false,
        )
        .await
        .expect("action");
    assert_eq!(report.unknown_ids, ["nope"]);
    assert_eq!(report.duplicate_ids, [id(1), "nope".to_owned()]);
    let statuses: Vec<(&str, &TargetStatus)> = report
        .outcomes
        .iter()
        .map(|o| (o.uuid.as_str(), &o.status))
        .collect();
    assert_eq!(statuses.len(), 4);
    assert_eq!(statuses[0], (id(1).as_str(), &TargetStatus::Succeeded));
    assert_eq!(statuses[1], (id(2).as_str(), &TargetStatus::Succeeded));
    match statuses[2].1 {
        TargetStatus::Failed { message, .. } => {
            assert!(message.contains("replication broken"), "{message}")
        }
        other => panic!("expected failure, got {other:?}"),
    }
    assert!(
        matches!(statuses[3].1, TargetStatus::TimedOut { .. }),
        "{:?}",
        statuses[3]
    );
    assert_eq!(
        report.outcome(&id(5)).and_then(|o| o.last_progress),
        Some(10)
    );
    assert!(
        report
            .outcome(&id(5))
            .and_then(|o| o.task_href.as_deref())
            .is_some()
    );
    assert_eq!(report.outcomes[0].name.as_deref(), Some("vm-1"));

    let errors: Vec<(String, String, String)> =
        dr.action_errors().iter().cloned().map(Into::into).collect();
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0].0, "nope");
    assert_eq!(
        (errors[1].0.as_str(), errors[1].1.as_str()),
        (id(3).as_str(), "vm-3")
    );
    assert_eq!(errors[2].0, id(5));

    // The request bodies and headers.
    let posts: Vec<HttpRequest> = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == http::Method::POST)
        .collect();
    assert_eq!(posts.len(), 4);
    assert!(
        posts[0]
            .url
            .path()
            .ends_with(&format!("{}/action/testFailover", id(1)))
    );
    assert_eq!(
        posts[0].header_str("content-type"),
        Some(TEST_FAILOVER_MEDIA)
    );
    assert_eq!(
        posts[0].body_str().expect("utf8"),
        format!(
            r#"<TestFailoverParams xmlns="http://www.vmware.com/vr/v6.0" name="{}"><PowerOn>0</PowerOn><Synchronize>0</Synchronize></TestFailoverParams>"#,
            id(1)
        )
    );

    let events = events.lock().expect("lock");
    assert!(events.iter().all(|e| e.total == 4));
    assert!(events.iter().any(|e| e.uuid == id(2)
        && e.kind
            == DrEventKind::Progress {
                percent: Some(50),
                status: "running".into()
            }));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e.kind, DrEventKind::Finished { .. }))
            .count(),
        4
    );
}

#[tokio::test(start_paused = true)]
async fn failover_and_cleanup_requests() {
    let (mut dr, mock) = dr();
    let report = dr.failover(id(2).as_str(), true).await.expect("failover");
    assert!(report.all_succeeded());
    assert!(dr.action_errors().is_empty());
    let report = dr
        .test_cleanup(DrTargets::ids([id(1)]))
        .await
        .expect("cleanup");
    assert!(report.all_succeeded());
    let posts: Vec<HttpRequest> = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == http::Method::POST)
        .collect();
    assert_eq!(posts[0].header_str("content-type"), Some(FAILOVER_MEDIA));
    assert!(
        posts[0]
            .body_str()
            .expect("utf8")
            .contains("<PowerOn>1</PowerOn></FailoverParams>")
    );
    assert!(posts[1].url.path().ends_with("/action/testCleanup"));
    assert!(posts[1].body.is_empty());
    assert_eq!(posts[1].header_str("content-type"), None);
}

#[tokio::test(start_paused = true)]
async fn all_targets_and_cancellation() {
    let (mut dr, _mock) = dr();
    dr.fetch_replications().await.expect("fetch");
    let token = dr.cancel_token();
    let mut rx = dr.progress_channel();
    let canceller = tokio::spawn(async move {
        // Cancel once the first two workers have started.
        let mut started = 0;
        while let Some(ev) = rx.recv().await {
            if ev.kind == DrEventKind::Started {
                started += 1;
                if started == 2 {
                    token.cancel();
                }
            }
        }
    });
    let report = dr
        .test_failover(DrTargets::All, true)
        .await
        .expect("action");
    assert_eq!(report.outcomes.len(), 5);
    let interrupted = report
        .outcomes
        .iter()
        .filter(|o| o.status == TargetStatus::Interrupted)
        .count();
    let not_started = report
        .outcomes
        .iter()
        .filter(|o| o.status == TargetStatus::NotStarted)
        .count();
    assert_eq!((interrupted, not_started), (2, 3), "{report:?}");
    for o in report
        .outcomes
        .iter()
        .filter(|o| o.status == TargetStatus::Interrupted)
    {
        assert!(o.task_href.is_some());
    }
    assert_eq!(dr.action_errors().len(), 5);
    drop(dr);
    canceller.await.expect("canceller");
}

#[tokio::test]
async fn fetch_errors_surface() {
    let mock = Arc::new(MockTransport::with_handler(|_| {
        Ok(HttpResponse::new(
            401,
            r#"<Error majorErrorCode="401" message="expired"/>"#,
        ))
    }));
    let org = OrgInfo::new(BASE, "tok", ORG).expect("org");
    let mut dr = DisasterRecovery::with_client(&VcdClient::new(org, mock)).expect("dr");
    let e = dr.test_cleanup(DrTargets::All).await.expect_err("401");
    assert_eq!(e.kind(), ErrorKind::Authentication);
    let org = OrgInfo::new(BASE, "tok", "a/b").expect("org");
    let mock = Arc::new(MockTransport::new());
    assert!(DisasterRecovery::with_client(&VcdClient::new(org, mock)).is_err());
}

/// A lost answer to the action (the POST may have been applied) and a task that can no
/// longer be read are `Unconfirmed`, never `Failed`; the POST is sent once.
#[tokio::test(start_paused = true)]
async fn lost_answers_and_unreadable_tasks_are_unconfirmed() {
    let server = Server {
        polls: Mutex::new(HashMap::new()),
    };
    let mock = Arc::new(MockTransport::with_handler(move |req| {
        let path = req.url.path().to_owned();
        if path.ends_with(&format!("{}/action/testFailover", id(1))) {
            return Err(Error::new(
                ErrorKind::Transport,
                "connection closed before the answer",
            ));
        }
        if path.starts_with(&format!("/task/{}", id(2))) {
            return Ok(HttpResponse::new(
                500,
                "<Error majorErrorCode=\"500\" message=\"database unavailable\"/>",
            ));
        }
        server.handle(req)
    }));
    let org = OrgInfo::new(BASE, "tok", ORG)
        .expect("org")
        .with_version("5.7".parse().expect("v"));
    let client = VcdClient::new(org, mock.clone());
    let mut dr = DisasterRecovery::with_client(&client)
        .expect("dr")
        .concurrency(2)
        .page_size(2)
        .poll_interval(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(600));
    let report = dr
        .test_failover(vec![id(1).as_str(), id(2).as_str()], false)
        .await
        .expect("action");
    match &report.outcomes[0].status {
        TargetStatus::Unconfirmed { kind, message } => {
            assert_eq!(*kind, ErrorKind::Transport);
            assert!(message.contains("may have been applied"), "{message}");
        }
        other => panic!("lost answer: {other:?}"),
    }
    match &report.outcomes[1].status {
        TargetStatus::Unconfirmed { kind, message } => {
            assert_eq!(*kind, ErrorKind::Server);
            assert!(message.contains("outcome is not known"), "{message}");
        }
        other => panic!("unreadable task: {other:?}"),
    }
    assert!(report.outcomes[1].task_href.is_some());
    let posts = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == http::Method::POST)
        .count();
    assert_eq!(posts, 2, "an action POST was repeated");
    let polls = mock
        .requests()
        .into_iter()
        .filter(|r| r.url.path().starts_with(&format!("/task/{}", id(2))))
        .count();
    assert_eq!(
        polls as u32,
        MAX_POLL_FAILURES + 1,
        "polls of the unreadable task"
    );
    assert_eq!(dr.action_errors().len(), 2);
}
