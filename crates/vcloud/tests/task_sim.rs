//! Tasks against the vCloud simulator: a 202 Task that succeeds, one that ends in error
//! with its message, and waits cut by the deadline and the idle timeout.

use std::sync::Arc;
use std::time::Duration;

use nebulair_core::{
    Credentials, ErrorKind, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport,
};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::query::{Query, QueryType};
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::{ApiVersion, TaskStatus, VcdClient};

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

async fn login(sim: &VcloudSimulatorHandle) -> VcdClient {
    let sess = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .version(ApiVersion::new("36.0").expect("v"))
        .transport(transport())
        .build()
        .expect("build");
    sess.login().await.expect("login");
    sess.client().expect("client")
}

/// The href of the vApp named `name`.
async fn vapp_href(client: &VcdClient, name: &str) -> String {
    let res = Query::new(QueryType::VApp)
        .filter(format!("name=={name}"))
        .execute(client)
        .await
        .expect("query");
    let id = res
        .find_by_name(name)
        .into_iter()
        .next()
        .expect("vApp exists");
    format!("api/vApp/vapp-{id}")
}

#[tokio::test]
async fn power_action_task_succeeds() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(300))
        .start()
        .await
        .expect("sim");
    let client = login(&sim).await;
    // "jenkins" is powered on (the simulator refuses to power on a running vApp, as vCD does).
    let href = vapp_href(&client, "jenkins").await;
    let resp = client
        .post_xml(
            &format!("{href}/power/action/powerOff"),
            "application/xml",
            "",
        )
        .await
        .expect("202");
    assert_eq!(resp.status().as_u16(), 202);
    let task = resp.task().expect("decodes").expect("a Task");
    assert!(!task.status.is_terminal());
    let done = client
        .task_waiter()
        .poll_interval(Duration::from_millis(50))
        .wait(&task)
        .await
        .expect("success");
    assert_eq!(done.status, TaskStatus::Success);
    sim.shutdown().await;
}

#[tokio::test]
async fn task_ending_in_error_fails_with_its_message() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(200))
        .start()
        .await
        .expect("sim");
    let client = login(&sim).await;
    let href = vapp_href(&client, "db-tier").await;
    sim.fail_next_tasks(1);
    let task = client
        .post_xml(
            &format!("{href}/power/action/powerOff"),
            "application/xml",
            "",
        )
        .await
        .expect("202")
        .into_task()
        .expect("task");
    let err = client
        .task_waiter()
        .poll_interval(Duration::from_millis(50))
        .wait(&task)
        .await
        .expect_err("task error");
    let last = client.get_task(&task.href).await.expect("final state");
    assert_eq!(last.status, TaskStatus::Error);
    let message = last
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .expect("Error child");
    assert!(!message.is_empty());
    assert!(err.to_string().contains(&message), "{err} / {message}");
    assert!(err.service().is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn deadline_and_idle_timeout() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_secs(30))
        .start()
        .await
        .expect("sim");
    let client = login(&sim).await;
    let href = vapp_href(&client, "jenkins").await;
    let task = client
        .post_xml(&format!("{href}/power/action/reset"), "application/xml", "")
        .await
        .expect("202")
        .into_task()
        .expect("task");
    let err = client
        .task_waiter()
        .poll_interval(Duration::from_millis(50))
        .deadline(Some(Duration::from_millis(400)))
        .idle_timeout(None)
        .wait(&task)
        .await
        .expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("did not finish"), "{err}");
    sim.shutdown().await;
}
