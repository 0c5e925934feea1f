//! The examples in `examples/`, run against the simulator and checked, so that they
//! cannot rot. Each example's `main` parses its arguments and calls its `run`; here `run`
//! is called directly and what it returns is checked.

use std::time::Duration;

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, VcloudSimulator};
use nebulair_vcloud::session::{LoginMode, VcdSession};

#[path = "../examples/dr_failover.rs"]
#[allow(dead_code)]
mod dr_failover;
#[path = "../examples/firewall_edit.rs"]
#[allow(dead_code)]
mod firewall_edit;
#[path = "../examples/vcd_login.rs"]
#[allow(dead_code)]
mod vcd_login;
#[path = "../examples/vcd_query.rs"]
#[allow(dead_code)]
mod vcd_query;

#[tokio::test]
async fn vcd_login_logs_in_every_way() {
    let sim = VcloudSimulator::builder().start().await.expect("simulator");
    let logins = vcd_login::run(&vcd_login::simulator_target(sim.base_url().as_str()))
        .await
        .expect("vcd_login");
    assert!(logins.versions.iter().any(|v| v == "36.0"), "{logins:?}");
    let modes: Vec<LoginMode> = logins.password_logins.iter().map(|l| l.0).collect();
    assert_eq!(modes, [LoginMode::Legacy, LoginMode::CloudApi]);
    let org = &logins.password_logins[0].2;
    assert!(!org.is_empty());
    assert!(logins.password_logins.iter().all(|l| &l.2 == org));
    assert_eq!(logins.api_token_org.as_ref(), Some(org));

    // A wrong password is an error, not a half-filled result.
    let mut wrong = vcd_login::simulator_target(sim.base_url().as_str());
    wrong.password = "not-the-password".into();
    let err = vcd_login::run(&wrong).await.expect_err("bad password");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_query_pages_filters_and_finds_by_name() {
    let sim = VcloudSimulator::builder()
        .extra_vms(200)
        .start()
        .await
        .expect("simulator");
    let target = vcd_query::simulator_target(sim.base_url().as_str());
    let found = vcd_query::run(&target, "web").await.expect("vcd_query");
    assert!(found.vm_count > 200, "{found:?}");
    assert_eq!(found.pages, found.vm_count.div_ceil(128), "{found:?}");
    assert!(!found.matching.is_empty());
    assert!(
        found
            .matching
            .iter()
            .all(|n| n.to_lowercase().starts_with("web")),
        "{found:?}"
    );
    let mut sorted = found.matching.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(found.matching, sorted, "sorted by name");
    let names: Vec<&str> = found
        .vapps_by_name
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, vcd_query::VAPP_NAMES);
    // The simulator has `web-tier` and `Web-Tier`: names are not unique, case ignored.
    assert_eq!(found.vapps_by_name[0].1.len(), 2, "{found:?}");
    assert_eq!(found.vapps_by_name[1].1.len(), 1, "{found:?}");

    let none = vcd_query::run(&target, "no-such-prefix")
        .await
        .expect("vcd_query");
    assert!(none.matching.is_empty(), "{none:?}");
    assert_eq!(none.vm_count, found.vm_count);
    sim.shutdown().await;
}

#[tokio::test]
async fn firewall_edit_saves_its_rules() {
    let sim = VcloudSimulator::builder().start().await.expect("simulator");
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()
        .expect("session");
    session.login().await.expect("login");
    let client = session.client().expect("client");
    let edited = firewall_edit::run(&client, EDGE_ID)
        .await
        .expect("firewall_edit");
    assert_eq!(edited.rules_after, edited.rules_before + 1, "{edited:?}");
    assert!(edited.rule_names.iter().any(|n| n == "https-in"));
    assert_eq!(
        edited.last_nat,
        (
            "dnat".to_owned(),
            "192.0.2.10:2222".to_owned(),
            "10.0.0.8:22".to_owned()
        )
    );
    // Saved on the server, not only in the client's copy.
    let fw = sim.ans_config(EDGE_ID, "firewall").expect("firewall");
    assert!(fw.to_string().contains("https-in"), "{fw}");
    let nat = sim.ans_config(EDGE_ID, "nat").expect("nat");
    assert!(nat.to_string().contains("ssh to app-01"), "{nat}");

    firewall_edit::run(&client, "not/an-edge")
        .await
        .expect_err("an invalid edge id is refused");
    sim.shutdown().await;
}

#[tokio::test]
async fn dr_failover_fails_over_and_cleans_up() {
    let sim = VcloudSimulator::builder()
        .dr_replications(12)
        .task_duration(Duration::from_millis(20))
        .start()
        .await
        .expect("simulator");
    let client = dr_failover::login(sim.base_url().as_str())
        .await
        .expect("login");
    let poll = Duration::from_millis(10);
    let ok = dr_failover::run(&client, poll).await.expect("dr_failover");
    assert_eq!(ok.replications, 12);
    assert_eq!(ok.failover.outcomes.len(), 12);
    assert_eq!(ok.failover.succeeded().count(), 12, "{ok:?}");
    assert!(ok.errors.is_empty(), "{ok:?}");
    assert_eq!(ok.cleanup.succeeded().count(), 12, "{ok:?}");

    // Failed tasks show in the report and in the vcloudair-style error list.
    sim.fail_next_tasks(2);
    let some_failed = dr_failover::run(&client, poll).await.expect("dr_failover");
    assert_eq!(some_failed.failover.failed().count(), 2, "{some_failed:?}");
    assert_eq!(some_failed.errors.len(), 2);
    assert!(some_failed.errors.iter().all(|e| !e.message.is_empty()));
    sim.shutdown().await;
}
