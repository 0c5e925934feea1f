//! Regression tests of issue #15 against hostile loopback servers (one small server per
//! scenario, on a random free port): vCD retries, the credential origin policy, DR task
//! outcomes, `Retry-After` and the overall deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use nebulair_core::{ErrorKind, HttpConfig, ProxyConfig, RetryPolicy};
use nebulair_vcloud::dr::{DisasterRecovery, DrTargets, TargetStatus};
use nebulair_vcloud::query::{Query, QueryType};
use nebulair_vcloud::task::Task;
use nebulair_vcloud::{ApiRequest, OrgInfo, VcdClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "S3CRET-VCD-TOKEN";
const ORG: &str = "d4e5f6a7-1111-4222-8333-444455556666";

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/")
}

fn http() -> HttpConfig {
    HttpConfig::default().proxy(ProxyConfig::Disabled)
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(50))
}

fn client(base: &str) -> VcdClient {
    let org = OrgInfo::new(base, TOKEN, ORG).expect("org");
    VcdClient::with_config(org, &http())
        .expect("client")
        .with_retry_policy(fast_retries())
}

/// Records every request that reached it with the token it carried.
#[derive(Clone, Default)]
struct Thief {
    got: Arc<Mutex<Vec<(String, String)>>>,
}

impl Thief {
    async fn start(&self) -> String {
        let me = self.clone();
        serve(
            Router::new()
                .fallback(
                    |State(t): State<Thief>, uri: Uri, headers: HeaderMap| async move {
                        let tok = headers
                            .get("x-vcloud-authorization")
                            .or_else(|| headers.get("authorization"))
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        t.got.lock().expect("lock").push((uri.to_string(), tok));
                        (StatusCode::OK, "<Task href='x' status='success'/>")
                    },
                )
                .with_state(me),
        )
        .await
    }

    fn tokens_received(&self) -> Vec<(String, String)> {
        self.got.lock().expect("lock").clone()
    }
}

/// A raw TCP server: the first `resets` connections are closed without an answer, the
/// others get `answer`. Returns the base URL and the connection counter.
async fn resetting_server(resets: usize, answer: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let n = c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf).await;
                if n < resets {
                    // Reset: close with unread data pending, no answer.
                    drop(s);
                    return;
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.vmware.vcloud.org+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (format!("http://{addr}/"), count)
}

// ---- item 1: vCloud requests are retried ----

#[tokio::test]
async fn get_whose_first_connection_is_reset_is_retried() {
    let (base, count) = resetting_server(1, r#"<Org name="acme"/>"#).await;
    let org = client(&base).get_xml("api/org/1").await.expect("retried");
    assert_eq!(org.attr("name"), Some("acme"));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn post_whose_connection_is_reset_is_sent_once() {
    let (base, count) = resetting_server(1, r#"<Task href="h" status="queued"/>"#).await;
    let err = client(&base)
        .post_xml("api/vApp/vm-1/power/action/powerOn", "application/xml", "")
        .await
        .expect_err("not retried");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "a write was sent twice");
}

#[tokio::test]
async fn get_answered_503_then_200_is_retried_and_500_is_not() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let base = serve(Router::new().fallback(move |uri: Uri| {
        let c = c.clone();
        async move {
            let n = c.fetch_add(1, Ordering::SeqCst);
            if uri.path().ends_with("/fails") {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<Error majorErrorCode=\"500\" message=\"boom\"/>",
                )
                    .into_response();
            }
            if n == 0 {
                (StatusCode::SERVICE_UNAVAILABLE, "").into_response()
            } else {
                (StatusCode::OK, "<Org name=\"after-503\"/>").into_response()
            }
        }
    }))
    .await;
    let c = client(&base);
    let org = c.get_xml("api/org/1").await.expect("after a 503");
    assert_eq!(org.attr("name"), Some("after-503"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let err = c.get_xml("api/fails").await.expect_err("500");
    assert_eq!(err.http_status(), Some(500));
    assert_eq!(calls.load(Ordering::SeqCst), 3, "a 500 is not retried");
}

// ---- item 8 (library side): Retry-After and the overall deadline ----

#[tokio::test]
async fn retry_after_on_429_is_honoured() {
    let calls = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let c = calls.clone();
    let base = serve(Router::new().fallback(move || {
        let c = c.clone();
        async move {
            let mut v = c.lock().expect("lock");
            v.push(Instant::now());
            if v.len() == 1 {
                Response::builder()
                    .status(429)
                    .header("Retry-After", "1")
                    .body(axum::body::Body::empty())
                    .expect("response")
            } else {
                (StatusCode::OK, "<Org name=\"patient\"/>").into_response()
            }
        }
    }))
    .await;
    let org = client(&base).get_xml("api/org/1").await.expect("after 429");
    assert_eq!(org.attr("name"), Some("patient"));
    let v = calls.lock().expect("lock").clone();
    assert_eq!(v.len(), 2);
    // The backoff alone would be at most 10 ms; the server asked for one second.
    assert!(
        v[1] - v[0] >= Duration::from_millis(990),
        "{:?}",
        v[1] - v[0]
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_bounded_by_the_overall_deadline() {
    // Accepts connections and never answers. With a 120 s request timeout and 3
    // retries, only the policy's overall deadline ends this quickly.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let org = OrgInfo::new(format!("http://{addr}/"), TOKEN, ORG).expect("org");
    let c = VcdClient::with_config(org, &http().request_timeout(Duration::from_secs(120)))
        .expect("client")
        .with_retry_policy(RetryPolicy::default().deadline(Duration::from_millis(800)));
    let start = Instant::now();
    let err = c.get_xml("api/org/1").await.expect_err("deadline");
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("overall deadline"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

// ---- item 2: credentials stay with their origin ----

#[tokio::test]
async fn task_href_on_another_origin_gets_no_token() {
    let thief = Thief::default();
    let evil = thief.start().await;
    let c = client("http://127.0.0.1:9/");
    let task = Task::from_xml(&format!(
        r#"<Task href="{evil}api/task/1" status="running"/>"#
    ))
    .expect("task");
    let err = c
        .task_waiter()
        .poll_interval(Duration::from_millis(10))
        .wait(&task)
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::ForeignOrigin, "{err:?}");
    let origin = evil.trim_end_matches('/');
    assert_eq!(err.foreign_origin_name(), Some(origin));
    assert!(err.to_string().contains(origin), "{err}");
    assert!(thief.tokens_received().is_empty(), "token sent to {evil}");
}

#[tokio::test]
async fn query_next_page_on_another_origin_gets_no_token() {
    let thief = Thief::default();
    let evil = thief.start().await;
    let next = format!("{evil}api/query?type=vm&page=2");
    let base = serve(Router::new().fallback(move || {
        let next = next.clone();
        async move {
            format!(
                r#"<QueryResultRecords xmlns="http://www.vmware.com/vcloud/v1.5" page="1" pageSize="1" total="2">
  <Link rel="nextPage" href="{}" type="application/vnd.vmware.vcloud.query.records+xml"/>
  <VMRecord name="vm-1" href="http://127.0.0.1/api/vApp/vm-11111111-1111-4111-8111-111111111111"/>
</QueryResultRecords>"#,
                next.replace('&', "&amp;")
            )
        }
    }))
    .await;
    let c = client(&base);
    let err = Query::new(QueryType::Vm)
        .stream(&c)
        .try_collect::<Vec<_>>()
        .await
        .expect_err("refused");
    assert!(err.is_foreign_origin(), "{err:?}");
    assert!(thief.tokens_received().is_empty());
}

#[tokio::test]
async fn an_allowed_origin_receives_the_token() {
    // The vCD behind a proxy answers with its public name: allowed explicitly.
    let thief = Thief::default();
    let public = thief.start().await;
    let c = client("http://127.0.0.1:9/")
        .allow_origin(&public)
        .expect("origin");
    let task = Task::from_xml(&format!(
        r#"<Task href="{public}api/task/1" status="running"/>"#
    ))
    .expect("task");
    let done = c
        .task_waiter()
        .poll_interval(Duration::from_millis(10))
        .wait(&task)
        .await
        .expect("allowed");
    assert_eq!(done.status, nebulair_vcloud::TaskStatus::Success);
    let got = thief.tokens_received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, TOKEN);
    assert!(c.allow_origin("ftp://x").is_err());
}

#[tokio::test]
async fn a_redirect_to_another_origin_gets_no_token() {
    let thief = Thief::default();
    let evil = thief.start().await;
    let base = serve(Router::new().fallback(move || {
        let to = format!("{evil}api/org/1");
        async move { axum::response::Redirect::temporary(&to) }
    }))
    .await;
    let err = client(&base)
        .get_xml("api/org/1")
        .await
        .expect_err("refused");
    assert!(err.is_foreign_origin(), "{err:?}");
    assert!(thief.tokens_received().is_empty());
}

#[tokio::test]
async fn absolute_target_given_by_the_caller_on_another_origin_is_refused() {
    let thief = Thief::default();
    let evil = thief.start().await;
    let err = client("http://127.0.0.1:9/")
        .send(ApiRequest::get(format!("{evil}api/org")))
        .await
        .expect_err("refused");
    assert!(err.is_foreign_origin());
    // Same host, other port: another origin too.
    let err = client("http://127.0.0.1:9/")
        .send(ApiRequest::get("http://127.0.0.1:10/api/org"))
        .await
        .expect_err("refused");
    assert_eq!(err.foreign_origin_name(), Some("http://127.0.0.1:10"));
    assert!(thief.tokens_received().is_empty());
}

// ---- item 3: DR reports success only for tasks vCD calls `success` ----

fn dr_server(task_status: &'static str) -> Router {
    Router::new().fallback(move |uri: Uri| async move {
        let path = uri.path().to_owned();
        if path.ends_with("/replications") {
            return (
                StatusCode::OK,
                r#"<References xmlns="http://www.vmware.com/vcloud/v1.5" page="1" pageSize="128" total="1"><Reference href="/api/vr/replications/11111111-aaaa-4bbb-8ccc-000000000001" type="application/vnd.vmware.hcs.replicationGroup+xml"/></References>"#.to_owned(),
            )
                .into_response();
        }
        if path.contains("/action/") {
            return (
                StatusCode::ACCEPTED,
                format!(r#"<Task href="/api/task/1" status="{task_status}"/>"#),
            )
                .into_response();
        }
        if path.starts_with("/api/task/") {
            return (
                StatusCode::OK,
                format!(r#"<Task href="/api/task/1" status="{task_status}"/>"#),
            )
                .into_response();
        }
        (
            StatusCode::OK,
            r#"<vr:ReplicationGroup xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vr="http://www.vmware.com/vr/v6.0" name="vm-1"/>"#.to_owned(),
        )
            .into_response()
    })
}

#[tokio::test]
async fn dr_task_with_unknown_status_and_no_progress_is_not_a_success() {
    let base = serve(dr_server("stillThinking")).await;
    let mut dr = DisasterRecovery::with_client(&client(&base))
        .expect("dr")
        .poll_interval(Duration::from_millis(20))
        .idle_timeout(Duration::from_millis(400));
    let report = dr
        .test_failover(DrTargets::All, false)
        .await
        .expect("report");
    assert_eq!(report.outcomes.len(), 1);
    match &report.outcomes[0].status {
        TargetStatus::TimedOut { message } => {
            assert!(message.contains("stillThinking"), "{message}");
        }
        other => panic!("a task that never finished was reported {other:?}"),
    }
    assert_eq!(report.succeeded().count(), 0);
}

#[tokio::test]
async fn dr_task_with_success_status_succeeds() {
    let base = serve(dr_server("success")).await;
    let mut dr = DisasterRecovery::with_client(&client(&base))
        .expect("dr")
        .poll_interval(Duration::from_millis(20))
        .idle_timeout(Duration::from_secs(30));
    let report = dr
        .test_failover(DrTargets::All, false)
        .await
        .expect("report");
    assert_eq!(report.succeeded().count(), 1);
}
