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
#[path = "../examples/vapp_delete.rs"]
#[allow(dead_code)]
mod vapp_delete;
#[path = "../examples/vapp_instantiate.rs"]
#[allow(dead_code)]
mod vapp_instantiate;
#[path = "../examples/vapp_power_cycle.rs"]
#[allow(dead_code)]
mod vapp_power_cycle;
#[path = "../examples/vcd_login.rs"]
#[allow(dead_code)]
mod vcd_login;
#[path = "../examples/vcd_query.rs"]
#[allow(dead_code)]
mod vcd_query;
#[path = "../examples/vm_reconfigure.rs"]
#[allow(dead_code)]
mod vm_reconfigure;

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

#[tokio::test]
async fn vapp_instantiate_creates_names_and_powers_on() {
    use nebulair_vcloud::model::vcd::VAppStatus;
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(20))
        .start()
        .await
        .expect("simulator");
    let target = vapp_instantiate::simulator_target(sim.base_url().as_str());
    let made = vapp_instantiate::run(&target, &vapp_instantiate::simulator_request("ex-shop"))
        .await
        .expect("vapp_instantiate");
    assert!(made.id.starts_with("urn:vcloud:vapp:"), "{made:?}");
    assert_eq!(made.status, Some(VAppStatus::PoweredOn));
    let mut names: Vec<&str> = made.vms.iter().map(|v| v.0.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["db", "ex-shop-web"]);
    let web = made.vms.iter().find(|v| v.0 == "ex-shop-web").expect("web");
    assert_eq!(web.1, "ex-shop-web", "computer name");
    assert_eq!((web.2, web.3), (2, 2048), "the template's CPU and memory");
    assert_eq!(web.4.len(), 1, "a pool address: {made:?}");
    // The simulator agrees: running.
    assert_eq!(sim.vm_power_state("ex-shop-web"), Some("POWERED_ON"));

    // The same name again in the same vDC, or a template that does not exist: errors.
    let again = vapp_instantiate::run(&target, &vapp_instantiate::simulator_request("ex-shop"))
        .await
        .expect_err("duplicate name");
    assert!(again.to_string().contains("ex-shop"), "{again}");
    let mut missing = vapp_instantiate::simulator_request("ex-2");
    missing.template = "no-such-template".into();
    let err = vapp_instantiate::run(&target, &missing)
        .await
        .expect_err("unknown template");
    assert!(err.to_string().contains("no-such-template"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn vm_reconfigure_changes_are_read_back() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(20))
        .start()
        .await
        .expect("simulator");
    let target = vm_reconfigure::simulator_target(sim.base_url().as_str());
    let r = vm_reconfigure::run(&target, "Web-Tier", "WEB-01", "default-routed")
        .await
        .expect("vm_reconfigure");
    assert_eq!((r.before.cpus, r.before.memory_mb), (2, 2048), "{r:?}");
    assert_eq!(
        (r.after.cpus, r.after.cores_per_socket, r.after.memory_mb),
        (4, 2, 4096),
        "{r:?}"
    );
    assert_eq!(r.after.disks_mb.len(), r.before.disks_mb.len() + 1);
    assert_eq!(r.after.disks_mb.last(), Some(&10240));
    assert_eq!(r.after.nics.len(), r.before.nics.len() + 1);
    let new_nic = r.after.nics.iter().find(|n| n.0 == 1).expect("NIC 1");
    assert_eq!(
        (new_nic.1.as_str(), new_nic.2.as_str()),
        ("default-routed", "POOL")
    );
    assert_eq!(
        r.metadata,
        Some(nebulair_vcloud::model::vcd::MetadataTypedValue::String(
            "vm_reconfigure example".into()
        ))
    );
    assert!(r.refused.contains("multiple of 4 MB"), "{}", r.refused);
    // An unknown VM is an error, not a half-filled result.
    let err = vm_reconfigure::run(&target, "Web-Tier", "no-such-vm", "default-routed")
        .await
        .expect_err("unknown VM");
    assert!(err.to_string().contains("no-such-vm"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn vapp_power_cycle_sees_every_state() {
    use nebulair_vcloud::model::vcd::VAppStatus as S;
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(20))
        .start()
        .await
        .expect("simulator");
    let target = vapp_power_cycle::simulator_target(sim.base_url().as_str());
    let c = vapp_power_cycle::run(&target, "VDC-Dev", "Web-Tier")
        .await
        .expect("vapp_power_cycle");
    let seen: Vec<(&str, Option<S>)> = c.steps.clone();
    assert_eq!(
        seen,
        [
            ("power on", Some(S::PoweredOn)),
            ("suspend", Some(S::Suspended)),
            ("discard suspended state", Some(S::PoweredOff)),
            ("power on", Some(S::PoweredOn)),
            ("reboot", Some(S::PoweredOn)),
            ("shutdown", Some(S::PoweredOff)),
            ("undeploy", Some(S::PoweredOff)),
        ]
    );
    assert_eq!(c.refused.0, "BAD_REQUEST");
    assert!(c.refused.1.contains("not powered off"), "{:?}", c.refused);
    assert_eq!(c.deployed_at_end, Some(false));
    assert_eq!(sim.vm_power_state("WEB-01"), Some("POWERED_OFF"));
    // A vApp that starts powered on: the first step is refused, an error.
    vapp_power_cycle::run(&target, "VDC-Prod", "web-tier")
        .await
        .expect_err("already on");
    sim.shutdown().await;
}

#[tokio::test]
async fn vapp_delete_is_refused_then_undeploys_first() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(20))
        .start()
        .await
        .expect("simulator");
    let target = vapp_delete::simulator_target(sim.base_url().as_str());
    assert_eq!(sim.vm_power_state("jenkins01"), Some("POWERED_ON"));
    let d = vapp_delete::run(&target, "VDC-Dev", "jenkins")
        .await
        .expect("vapp_delete");
    assert!(d.id.starts_with("urn:vcloud:vapp:"), "{d:?}");
    assert_eq!(d.refused.as_deref(), Some("BAD_REQUEST"));
    let mut vms = d.vms.clone();
    vms.sort();
    assert_eq!(vms, ["jenkins-agent", "jenkins01"]);
    assert!(d.gone, "{d:?}");
    assert_eq!(
        sim.vm_power_state("jenkins01"),
        None,
        "its VMs are gone too"
    );
    // Deleting it again: not found.
    let err = vapp_delete::run(&target, "VDC-Dev", "jenkins")
        .await
        .expect_err("already deleted");
    assert!(err.to_string().contains("jenkins"), "{err}");
    // A powered-off vApp is deleted without the refusal.
    let off = vapp_delete::run(&target, "VDC-Prod", "empty-vapp")
        .await
        .expect("undeployed vApp");
    assert_eq!(off.refused, None);
    assert!(off.gone);
    sim.shutdown().await;
}
