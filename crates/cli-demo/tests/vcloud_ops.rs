//! `nebulair vcloud` as terraform and vcd-cli users expect it: VCD_URL ending in /api,
//! `user@org`, edges and replications by name, rules deleted by id, and destructive
//! commands that check everything first and ask (or need --yes), with --dry-run.

mod support;

use std::time::Duration;

use assert_cmd::Command;
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, OD_DR_INSTANCE_ID, VcloudSimulator,
    VcloudSimulatorHandle,
};
use predicates::prelude::*;
use support::*;

struct Env {
    rt: tokio::runtime::Runtime,
    sim: Option<VcloudSimulatorHandle>,
    home: tempfile::TempDir,
}

impl Env {
    fn start() -> Env {
        let rt = rt();
        let sim = rt
            .block_on(
                VcloudSimulator::builder()
                    .task_duration(Duration::from_millis(20))
                    .dr_replications(6)
                    .start(),
            )
            .expect("vCloud simulator");
        Env {
            rt,
            sim: Some(sim),
            home: tempfile::tempdir().expect("home"),
        }
    }

    fn sim(&self) -> &VcloudSimulatorHandle {
        self.sim.as_ref().expect("sim")
    }

    fn bare(&self) -> Command {
        nebulair(self.home.path())
    }

    /// `nebulair vcloud --service vca-od` (the ANS and DR logins).
    fn od(&self, instance: &str) -> Command {
        let mut c = self.bare();
        c.args([
            "vcloud",
            "--service",
            "vca-od",
            "--url",
            self.sim().base_url().as_str(),
            "--user",
            DEFAULT_USER,
            "--instance",
            instance,
        ])
        .env("VCD_PASSWORD", DEFAULT_PASSWORD);
        c
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

#[test]
fn terraform_variables_and_user_at_org() {
    let env = Env::start();
    let base = env
        .sim()
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    // terraform-provider-vcd's VCD_URL ends in /api
    for url in [format!("{base}/api"), format!("{base}/api/"), base.clone()] {
        let out = env
            .bare()
            .args(["vcloud", "login", "-o", "json"])
            .env("VCD_URL", &url)
            .env("VCD_USER", DEFAULT_USER)
            .env("VCD_ORG", DEFAULT_ORG)
            .env("VCD_PASSWORD", DEFAULT_PASSWORD)
            .output()
            .expect("run");
        assert!(out.status.success(), "{url}: {}", stderr_of(&out));
        assert!(!stdout_of(&out).contains("/api/api"), "{url}");
    }
    // user@org, as an argument and as VCD_USER, without VCD_ORG
    env.bare()
        .args([
            "vcloud",
            "--url",
            &base,
            "login",
            &format!("{DEFAULT_USER}@{DEFAULT_ORG}"),
        ])
        .env("VCD_PASSWORD", DEFAULT_PASSWORD)
        .assert()
        .success()
        .stdout(predicate::str::contains("vcd"));
    env.bare()
        .args(["vcloud", "--url", &base, "login"])
        .env("VCD_USER", format!("{DEFAULT_USER}@{DEFAULT_ORG}"))
        .env("VCD_PASSWORD", DEFAULT_PASSWORD)
        .assert()
        .success();
    // a refused connection names the cause without -v
    let out = env
        .bare()
        .args(["vcloud", "--url", "http://127.0.0.1:1", "login", "me@org"])
        .env("VCD_PASSWORD", "x")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let err = stderr_of(&out).to_lowercase();
    assert!(err.contains("refused"), "{err}");
    assert!(!err.contains("password"), "{err}");
}

#[test]
fn edges_by_name_and_rules_deleted_by_id_after_confirmation() {
    let env = Env::start();
    // by name, the same rules as by id
    let by_id = env
        .od("0")
        .args(["firewall", "list", "--edge", EDGE_ID, "-o", "json"])
        .output()
        .expect("run");
    assert!(by_id.status.success(), "{}", stderr_of(&by_id));
    let by_name = env
        .od("0")
        .args(["firewall", "list", "--edge", "edge-prod", "-o", "json"])
        .output()
        .expect("run");
    assert!(by_name.status.success(), "{}", stderr_of(&by_name));
    assert_eq!(by_id.stdout, by_name.stdout);
    env.od("0")
        .args(["firewall", "list", "--edge", "no-such-edge"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "no edge gateway is named \"no-such-edge\"",
        ));

    // add two rules, then delete one by its id (not its position)
    for name in ["cli-a", "cli-b"] {
        env.od("0")
            .args([
                "firewall",
                "add",
                "--edge",
                "edge-prod",
                name,
                "external",
                "10.0.0.10",
            ])
            .assert()
            .success();
    }
    let rules: serde_json::Value = serde_json::from_slice(
        &env.od("0")
            .args(["firewall", "list", "--edge", "edge-prod", "-o", "json"])
            .output()
            .expect("run")
            .stdout,
    )
    .expect("json");
    let rule = |name: &str| {
        rules
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {rules}"))["ruleId"]
            .as_u64()
            .expect("ruleId")
    };
    let (a, b) = (rule("cli-a"), rule("cli-b"));
    let saved = || {
        env.sim()
            .ans_config(EDGE_ID, "firewall")
            .expect("config")
            .to_string()
    };
    // an unknown rule among them: nothing changes
    env.od("0")
        .args([
            "firewall",
            "delete",
            "--edge",
            "edge-prod",
            &a.to_string(),
            "999999",
            "--yes",
        ])
        .assert()
        .code(4);
    assert!(saved().contains("cli-a"));
    // no terminal, no --yes: refused
    env.od("0")
        .args(["firewall", "delete", "--edge", "edge-prod", &a.to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    // --dry-run names the rule and changes nothing
    env.od("0")
        .args([
            "firewall",
            "delete",
            "--edge",
            "edge-prod",
            &a.to_string(),
            "--dry-run",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "would delete firewall {a} (cli-a)"
        )));
    assert!(saved().contains("cli-a"));
    // --yes deletes exactly that rule; the other stays
    env.od("0")
        .args([
            "firewall",
            "delete",
            "--edge",
            "edge-prod",
            &a.to_string(),
            "--yes",
        ])
        .assert()
        .success();
    let now = saved();
    assert!(!now.contains("cli-a") && now.contains("cli-b"), "{now}");
    // by name, confirmed at the (test) terminal
    env.od("0")
        .args(["firewall", "delete", "--edge", "edge-prod", "cli-b"])
        .env("NEBULAIR_TEST_TERMINAL", "1")
        .write_stdin("y\n")
        .assert()
        .success();
    assert!(!saved().contains("cli-b"));
    let _ = b;
}

#[test]
fn dr_by_name_checks_everything_first_and_asks() {
    let env = Env::start();
    let out = env
        .od(OD_DR_INSTANCE_ID)
        .args(["dr", "list", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let reps: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let first = &reps.as_array().expect("list")[0];
    let (id, name) = (
        first["id"].as_str().expect("id").to_owned(),
        first["name"].as_str().expect("name").to_owned(),
    );
    // no ids: refused (no more "everything by default")
    env.od(OD_DR_INSTANCE_ID)
        .args(["dr", "failover"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("required arguments"));
    // --all without --yes off a terminal: refused
    env.od(OD_DR_INSTANCE_ID)
        .args(["dr", "failover", "--all"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    // --dry-run by name: the plan, nothing started
    env.od(OD_DR_INSTANCE_ID)
        .args(["dr", "test-failover", &name, "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "would test-failover {id} ({name})"
        )));
    // a bad name among good ones: nothing starts
    env.od(OD_DR_INSTANCE_ID)
        .args(["dr", "test-failover", &name, "no-such-vm", "--yes"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no replication no-such-vm"));
    let state = || {
        let out = env
            .od(OD_DR_INSTANCE_ID)
            .args(["dr", "list", "-o", "json"])
            .output()
            .expect("run");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v.as_array().expect("list")[0]["test_recovery"].clone()
    };
    let before = state();
    // by name with --yes: done, and the state re-read shows it
    env.od(OD_DR_INSTANCE_ID)
        .args([
            "dr",
            "test-failover",
            &name,
            "--yes",
            "--poll-interval",
            "0.01",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 succeeded, 0 failed"));
    assert_ne!(state(), before, "the test failover changed the replication");
}

#[test]
fn onegate_hints_speak_of_tokens_not_passwords() {
    use nebulair_sim::onegate::{MemoryBackend, OneGateSim};
    let rt = rt();
    let backend = std::sync::Arc::new(MemoryBackend::new());
    let vm = backend.add_vm("web-0", true);
    let sim = OneGateSim::new(backend.clone());
    let (addr, _server) = rt.block_on(sim.spawn("127.0.0.1:0")).expect("OneGate");
    let home = tempfile::tempdir().expect("home");
    let bad = home.path().join("token.txt");
    std::fs::write(&bad, "not-the-token\n").expect("token");
    let out = nebulair(home.path())
        .args([
            "onegate",
            "--endpoint",
            &format!("http://{addr}"),
            "--vm-id",
            &vm.to_string(),
        ])
        .arg("--token-file")
        .arg(&bad)
        .args(["vm", "show"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("token"), "{err}");
    assert!(!err.to_lowercase().contains("password"), "{err}");
    assert!(!err.contains("list command"), "{err}");
}
