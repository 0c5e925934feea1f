//! The `nebulair` binary against the simulators: every command group, JSON output read
//! back as the library's own serde form, the error line and exit code for a bad password
//! and an unreachable endpoint, no secret in any output, `simulate`, and the demo.

#![cfg_attr(not(feature = "simulators"), allow(unused_imports))]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command as StdCommand, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use nebulair_core::Credentials;
use nebulair_opennebula::OneClient;
use nebulair_opennebula::onegate::{OneGateService, OneGateVm};
use nebulair_opennebula::pool::PoolFilter;
use nebulair_sim::one::{OneSimHandle, OneSimulator};
use nebulair_sim::onegate::{MemoryBackend, OneGateSim};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, OD_DR_INSTANCE_ID, VcloudSimulator,
    VcloudSimulatorHandle,
};
use predicates::prelude::*;

const ONE_PASSWORD: &str = "opennebula";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn nebulair() -> Command {
    let mut c = Command::cargo_bin("nebulair").expect("the nebulair binary");
    // Never pick up the developer's own cloud settings.
    for var in [
        "ONE_XMLRPC",
        "ONE_AUTH",
        "VCD_URL",
        "VCD_USER",
        "VCD_PASSWORD",
        "VCD_ORG",
        "VCD_API_TOKEN",
        "VCD_EDGE",
        "ONEGATE_ENDPOINT",
        "ONEGATE_TOKEN",
        "TOKENTXT",
        "VMID",
        "NEBULAIR_DEMO_FAST",
    ] {
        c.env_remove(var);
    }
    c.env("HOME", std::env::temp_dir().join("nebulair-cli-test-home"));
    c.timeout(Duration::from_secs(90));
    c
}

struct OneEnv {
    rt: tokio::runtime::Runtime,
    sim: Option<OneSimHandle>,
    _dir: tempfile::TempDir,
    auth: std::path::PathBuf,
}

impl OneEnv {
    fn start() -> OneEnv {
        let rt = rt();
        let sim = rt
            .block_on(OneSimulator::builder().start())
            .expect("OpenNebula simulator");
        let dir = tempfile::tempdir().expect("dir");
        let auth = dir.path().join("one_auth");
        std::fs::write(&auth, format!("oneadmin:{ONE_PASSWORD}\n")).expect("auth file");
        OneEnv {
            rt,
            sim: Some(sim),
            _dir: dir,
            auth,
        }
    }

    fn url(&self) -> String {
        self.sim.as_ref().expect("sim").url().to_owned()
    }

    /// `nebulair one ...` with ONE_XMLRPC and ONE_AUTH set like the onevm tools read them.
    fn one(&self) -> Command {
        let mut c = nebulair();
        c.env("ONE_XMLRPC", self.url())
            .env("ONE_AUTH", &self.auth)
            .arg("one");
        c
    }

    fn client(&self) -> OneClient {
        OneClient::builder()
            .endpoint(self.url())
            .credentials(Credentials::password("oneadmin", ONE_PASSWORD))
            .build()
            .expect("client")
    }
}

impl Drop for OneEnv {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_is_everywhere_and_completions_generate() {
    for args in [
        vec!["--help"],
        #[cfg(feature = "simulators")]
        vec!["demo", "--help"],
        #[cfg(feature = "simulators")]
        vec!["simulate", "--help"],
        vec!["one", "--help"],
        vec!["one", "vm", "--help"],
        vec!["one", "vm", "list", "--help"],
        vec!["one", "call", "--help"],
        vec!["onegate", "--help"],
        vec!["onegate", "vm", "update", "--help"],
        vec!["vcloud", "--help"],
        vec!["vcloud", "query", "--help"],
        vec!["vcloud", "firewall", "add", "--help"],
        vec!["vcloud", "dr", "test-failover", "--help"],
        vec!["vcloud", "metrics", "--help"],
        vec!["completions", "--help"],
    ] {
        nebulair()
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage:"));
    }
    nebulair()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_nebulair").and(predicate::str::contains("vcloud")));
    nebulair()
        .args(["one", "vm", "frobnicate"])
        .assert()
        .code(2);
}

#[test]
fn one_group_against_the_simulator() {
    let env = OneEnv::start();
    env.one()
        .arg("version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("7."));
    env.one().args(["host", "list"]).assert().success().stdout(
        predicate::str::contains("host01").and(predicate::str::is_match(r"(?m) on$").expect("re")),
    );
    env.one()
        .args(["host", "show", "0"])
        .assert()
        .success()
        .stdout(predicate::str::contains("host01"));

    // Create from a template file, then read it back three ways.
    let dir = tempfile::tempdir().expect("dir");
    let tpl = dir.path().join("vm.tpl");
    std::fs::write(&tpl, "NAME = \"cli-vm\"\nCPU = 1\nMEMORY = 256\n").expect("tpl");
    env.one()
        .args(["vm", "create"])
        .arg(&tpl)
        .assert()
        .success()
        .stdout("ID: 0\n");
    let out = env
        .one()
        .args(["vm", "list", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let lib = env
        .rt
        .block_on(env.client().vms().info(&PoolFilter::all()))
        .expect("pool");
    // The library's serde form, with the state names added after each state number.
    let mut without_names = cli.clone();
    for vm in without_names.as_array_mut().expect("list") {
        let m = vm.as_object_mut().expect("object");
        assert!(m["state_name"].is_string(), "{m:?}");
        m.retain(|k, _| !k.ends_with("state_name"));
    }
    assert_eq!(
        without_names,
        serde_json::to_value(&lib.vm).expect("lib JSON")
    );
    assert_eq!(cli[0]["name"], "cli-vm");
    env.one()
        .args(["vm", "show", "0", "-o", "yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("name: cli-vm"));
    env.one()
        .args(["vm", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cli-vm").and(predicate::str::contains("STAT")));

    // Update the user template, run an action, filter by state.
    let upd = dir.path().join("upd.tpl");
    std::fs::write(&upd, "OWNER_TEAM = \"web\"\n").expect("tpl");
    env.one()
        .args(["vm", "update", "0", "--merge"])
        .arg(&upd)
        .assert()
        .success();
    let vm = env.rt.block_on(env.client().vm(0).info()).expect("vm");
    assert_eq!(vm.user_template.get_str("OWNER_TEAM"), Some("web"));
    env.rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !env.client().vm(0).info().await.expect("vm").is_running() {
            assert!(Instant::now() < deadline, "VM never ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    env.one()
        .args(["vm", "action", "poweroff-hard", "0"])
        .assert()
        .success();
    env.one()
        .args(["vm", "action", "explode", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("poweroff-hard"));

    // Templates, images, networks, and the raw escape hatch.
    env.one()
        .args(["template", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ttylinux"));
    env.one()
        .args(["template", "show", "0"])
        .assert()
        .success()
        .stdout(predicate::str::contains("MEMORY"));
    env.one()
        .args([
            "template",
            "instantiate",
            "0",
            "--name",
            "from-tpl",
            "-o",
            "json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"id\": 1"));
    env.one().args(["image", "list"]).assert().success();
    let out = env
        .one()
        .args(["vnet", "list", "-o", "json"])
        .output()
        .expect("run");
    let vnets: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(vnets[0]["name"], "public");
    env.one()
        .args(["call", "one.user.info", "--", "-1"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("<USER>")
                .and(predicate::str::contains("oneadmin"))
                // the password hash (sha256 of "opennebula") is masked
                .and(predicate::str::contains("<PASSWORD>(redacted)</PASSWORD>"))
                .and(
                    predicate::str::contains(
                        "b065663b91df7176a5d6567fddde2eb91b3ea73a5055c1f0915909f764d92cc6",
                    )
                    .not(),
                ),
        );
    // A missing VM: NO_EXISTS, exit code 4.
    env.one()
        .args(["vm", "show", "4242"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("error: reading VM 4242 failed")
                .and(predicate::str::contains("NO_EXISTS")),
        );
}

#[test]
fn password_from_stdin_and_a_bad_password() {
    let env = OneEnv::start();
    nebulair()
        .args([
            "one",
            "--endpoint",
            &env.url(),
            "--user",
            "oneadmin",
            "--password-stdin",
            "version",
        ])
        .write_stdin(format!("{ONE_PASSWORD}\n"))
        .assert()
        .success();
    let secret = "Wr0ng-Pa55word-xyz";
    let out = nebulair()
        .args([
            "one",
            "--endpoint",
            &env.url(),
            "--user",
            "oneadmin",
            "--password-stdin",
            "vm",
            "list",
        ])
        .write_stdin(format!("{secret}\n"))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(3),
        "authentication failures exit with 3"
    );
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("error: listing virtual machines failed:"),
        "{err}"
    );
    assert!(err.contains("User couldn't be authenticated"), "{err}");
    assert!(err.contains("(hint: check the user and password"), "{err}");
    assert!(stdout_of(&out).is_empty());
    // -v adds the cause chain, still without the secret.
    let out = nebulair()
        .args([
            "-v",
            "one",
            "--endpoint",
            &env.url(),
            "--user",
            "oneadmin",
            "--password-stdin",
            "vm",
            "list",
        ])
        .write_stdin(format!("{secret}\n"))
        .output()
        .expect("run");
    let err = stderr_of(&out);
    assert!(err.contains("kind: authentication"), "{err}");
    for text in [stdout_of(&out), err] {
        assert!(!text.contains(secret), "the password leaked: {text}");
    }
}

#[test]
fn unreachable_endpoint_gives_transport_exit_code() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dir = tempfile::tempdir().expect("dir");
    let auth = dir.path().join("auth");
    std::fs::write(&auth, "oneadmin:s3cret-value\n").expect("auth");
    let out = nebulair()
        .env("ONE_AUTH", &auth)
        .args([
            "one",
            "--endpoint",
            &format!("http://127.0.0.1:{port}/RPC2"),
            "host",
            "list",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let all = stderr_of(&out);
    // The read is retried (3 times by default), each retry announced by a warning line.
    assert_eq!(
        all.lines().filter(|l| l.contains("WARN")).count(),
        3,
        "{all}"
    );
    let err: String = all.lines().filter(|l| !l.contains("WARN")).collect();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: listing hosts failed:"), "{err}");
    assert!(err.contains("hint: is oned running"), "{err}");
    assert!(!err.contains("s3cret-value"));
    // A missing auth file is named.
    nebulair()
        .env("ONE_AUTH", dir.path().join("nope"))
        .args([
            "one",
            "--endpoint",
            "http://127.0.0.1:1/RPC2",
            "host",
            "list",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("nope"));
}

struct VcloudEnv {
    rt: tokio::runtime::Runtime,
    sim: Option<VcloudSimulatorHandle>,
}

impl VcloudEnv {
    fn start() -> VcloudEnv {
        let rt = rt();
        let sim = rt
            .block_on(
                VcloudSimulator::builder()
                    .task_duration(Duration::from_millis(20))
                    .dr_replications(12)
                    .start(),
            )
            .expect("vCloud simulator");
        VcloudEnv { rt, sim: Some(sim) }
    }

    fn sim(&self) -> &VcloudSimulatorHandle {
        self.sim.as_ref().expect("sim")
    }

    /// `nebulair vcloud` logged in to vCD directly, password from the environment.
    fn vcd(&self) -> Command {
        let mut c = nebulair();
        c.env("VCD_URL", self.sim().base_url().as_str())
            .env("VCD_USER", DEFAULT_USER)
            .env("VCD_ORG", DEFAULT_ORG)
            .env("VCD_PASSWORD", DEFAULT_PASSWORD)
            .arg("vcloud");
        c
    }

    /// `nebulair vcloud --service vca-od` with the password on stdin.
    fn od(&self, instance: &str) -> Command {
        let mut c = nebulair();
        c.args([
            "vcloud",
            "--service",
            "vca-od",
            "--url",
            self.sim().base_url().as_str(),
            "--user",
            DEFAULT_USER,
            "--password-stdin",
            "--instance",
            instance,
        ])
        .write_stdin(format!("{DEFAULT_PASSWORD}\n"));
        c
    }
}

impl Drop for VcloudEnv {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

#[test]
fn vcloud_group_against_the_simulator() {
    let env = VcloudEnv::start();
    // Logins: vcd (env), vca-od (stdin); the output never holds a token or password.
    let out = env
        .vcd()
        .args(["login", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let login: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(login["service"], "vcd");
    assert!(login.get("token").is_none());
    let out = env.od("0").args(["login"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    assert!(text.contains(OD_DR_INSTANCE_ID), "{text}");
    assert!(!text.contains(DEFAULT_PASSWORD) || DEFAULT_PASSWORD == DEFAULT_ORG);

    // Query: every page, as attribute maps.
    let out = env
        .vcd()
        .args([
            "query",
            "vm",
            "--fields",
            "name,status",
            "--page-size",
            "2",
            "-o",
            "json",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let rows: Vec<std::collections::BTreeMap<String, String>> =
        serde_json::from_slice(&out.stdout).expect("records");
    assert!(rows.len() > 2, "paging followed: {}", rows.len());
    assert!(
        rows.iter()
            .any(|r| r.get("name").map(String::as_str) == Some("web-01"))
    );
    env.vcd()
        .args(["query", "vm", "--filter", "name==db*"])
        .assert()
        .success()
        .stdout(predicate::str::contains("db-01").and(predicate::str::contains("record").not()))
        // The footer goes to stderr, never into the data.
        .stderr(predicate::str::contains("1 record\n"));

    // Firewall and NAT: add, saved on the server, listed, deleted.
    env.od("0")
        .args([
            "firewall",
            "add",
            "--edge",
            EDGE_ID,
            "cli-https",
            "external",
            "10.0.0.10",
            "--dest-port",
            "443",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("added and saved"));
    let saved = env.sim().ans_config(EDGE_ID, "firewall").expect("config");
    assert!(saved.to_string().contains("cli-https"));
    env.od("0")
        .args(["firewall", "list", "--edge", EDGE_ID])
        .assert()
        .success()
        .stdout(predicate::str::contains("cli-https"));
    env.od("0")
        .args([
            "firewall",
            "add",
            "--edge",
            EDGE_ID,
            "bad",
            "external",
            "10.0.0.300",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("10.0.0.300"));
    env.od("0")
        .args([
            "nat",
            "add",
            "--edge",
            EDGE_ID,
            "dnat",
            "203.0.113.10",
            "10.0.0.10",
        ])
        .assert()
        .success();
    assert!(
        env.sim()
            .ans_config(EDGE_ID, "nat")
            .expect("nat")
            .to_string()
            .contains("203.0.113.10")
    );

    // DR: list, then a test failover with a duplicate and an unknown id.
    let out = env
        .od(OD_DR_INSTANCE_ID)
        .args(["dr", "list", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let reps: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let reps = reps.as_array().expect("array");
    assert_eq!(reps.len(), 12);
    let id = reps[0]["id"].as_str().expect("id").to_owned();
    // An unknown id stops the run before anything starts (nothing is reported as run).
    let out = env
        .od(OD_DR_INSTANCE_ID)
        .args([
            "dr",
            "test-failover",
            &id,
            "no-such-id",
            "--yes",
            "--poll-interval",
            "0.01",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("no replication no-such-id"));
    // A duplicate is dropped; the one target succeeds.
    let out = env
        .od(OD_DR_INSTANCE_ID)
        .args([
            "dr",
            "test-failover",
            &id,
            &id,
            "--yes",
            "--poll-interval",
            "0.01",
            "-o",
            "json",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["succeeded"], 1);
    env.od(OD_DR_INSTANCE_ID)
        .args([
            "dr",
            "test-cleanup",
            &id,
            "--yes",
            "--poll-interval",
            "0.01",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 succeeded, 0 failed"));

    // Metrics, every page.
    let out = env
        .od("0")
        .args(["metrics", "--metric", "cpu.usage.average", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metrics");
    assert!(!m.as_object().expect("object").is_empty());

    // A bad password: one line, exit 3, the password not echoed.
    let out = nebulair()
        .args([
            "vcloud",
            "--url",
            env.sim().base_url().as_str(),
            "--org",
            DEFAULT_ORG,
            "--user",
            DEFAULT_USER,
            "--password-stdin",
            "login",
        ])
        .write_stdin("Not-The-Password-42\n")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(stderr_of(&out).starts_with("error: logging in to vCloud failed"));
    assert!(!stderr_of(&out).contains("Not-The-Password-42"));
}

#[test]
fn onegate_group_against_the_simulator() {
    let rt = rt();
    let backend = Arc::new(MemoryBackend::new());
    let vm = backend.add_vm("web-0", true);
    let sim = OneGateSim::new(backend.clone());
    let (addr, _server) = rt.block_on(sim.spawn("127.0.0.1:0")).expect("OneGate");
    let token = sim.token(vm).expect("token");
    let dir = tempfile::tempdir().expect("dir");
    let token_file = dir.path().join("token.txt");
    std::fs::write(&token_file, format!("{token}\n")).expect("token file");
    let gate = |args: &[&str]| {
        let mut c = nebulair();
        c.args([
            "onegate",
            "--endpoint",
            &format!("http://{addr}"),
            "--vm-id",
            &vm.to_string(),
        ])
        .arg("--token-file")
        .arg(&token_file)
        .args(args);
        c
    };
    let out = gate(&["vm", "update", "READY=YES", "APP_PORT=8080"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(backend.user_attr(vm, "READY").as_deref(), Some("YES"));
    let out = gate(&["vm", "show", "-o", "json"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let me: OneGateVm = serde_json::from_slice(&out.stdout).expect("OneGateVm from JSON");
    assert_eq!(me.name, "web-0");
    assert_eq!(me.user_attr("APP_PORT"), Some("8080"));
    // The table names the states (as onegate does), with oned's numbers.
    let out = gate(&["vm", "show"]).output().expect("run");
    let text = stdout_of(&out);
    assert!(
        text.contains("ACTIVE (3)") && text.contains("RUNNING (3)"),
        "{text}"
    );
    let out = gate(&["context"]).output().expect("run");
    let text = stdout_of(&out);
    assert!(text.contains("TOKEN") && text.contains("set"), "{text}");
    for t in [text, stderr_of(&out)] {
        assert!(!t.contains(&token), "the token leaked");
    }
    gate(&["vm", "update", "SCHED_REQUIREMENTS=ID=0"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("cannot be modified"));
    gate(&["vm", "delete-attr", "READY"]).assert().success();
    assert_eq!(backend.user_attr(vm, "READY"), None);
    // A wrong token: 401, exit 3, nothing leaked.
    std::fs::write(&token_file, "not-the-token\n").expect("token file");
    gate(&["vm", "show"]).assert().code(3);
}

#[test]
#[cfg(feature = "simulators")]
fn simulate_serves_until_interrupted_and_keeps_its_state() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state.json");
    let bin = assert_cmd::cargo::cargo_bin("nebulair");
    let start = || {
        let mut child = StdCommand::new(&bin)
            .args(["simulate", "--one-only", "-o", "json", "--state"])
            .arg(&state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn simulate");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("endpoints JSON");
        let url = v["opennebula"]["xmlrpc"].as_str().expect("url").to_owned();
        (child, url)
    };
    let stop = |child: &mut std::process::Child, signal: &str| {
        StdCommand::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        let status = child.wait().expect("wait");
        assert!(
            status.success(),
            "simulate exits cleanly on Ctrl-C: {status:?}"
        );
    };
    let (mut child, url) = start();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/RPC2"),
        "{url}"
    );
    let run = |args: &[&str]| {
        let mut c = nebulair();
        c.args([
            "one",
            "--endpoint",
            &url,
            "--user",
            "oneadmin",
            "--password-stdin",
        ])
        .args(args)
        .write_stdin("opennebula\n");
        c
    };
    run(&["template", "instantiate", "0", "--name", "kept"])
        .assert()
        .success();
    stop(&mut child, "-INT");
    assert!(state.exists());
    let (mut child, url2) = start();
    let mut c = nebulair();
    c.args([
        "one",
        "--endpoint",
        &url2,
        "--user",
        "oneadmin",
        "--password-stdin",
        "vm",
        "list",
    ])
    .write_stdin("opennebula\n")
    .assert()
    .success()
    .stdout(predicate::str::contains("kept"));
    stop(&mut child, "-TERM");
    let _ = std::io::stdout().flush();
}

/// `simulate` with all three simulators: the printed `export` lines are enough to drive
/// OpenNebula and OneGate (as the printed VM) and vCloud.
#[test]
#[cfg(feature = "simulators")]
fn simulate_prints_working_env_lines_for_onegate() {
    // A free port for --onegate-port; the other two are left to `simulate`.
    let gate_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let bin = assert_cmd::cargo::cargo_bin("nebulair");
    let mut child = StdCommand::new(&bin)
        .args(["simulate", "--onegate-port", &gate_port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn simulate");
    let mut printed = String::new();
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    while !printed.contains("Press Ctrl-C") {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read") == 0 {
            break;
        }
        printed.push_str(&line);
    }
    // `export A=1 B=2` lines -> (A, 1), (B, 2).
    let vars: Vec<(String, String)> = printed
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let var = |k: &str| {
        vars.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in the printed lines:\n{printed}"))
    };
    let endpoint = var("ONEGATE_ENDPOINT");
    assert_eq!(endpoint, format!("http://127.0.0.1:{gate_port}"));
    let vm_id: i32 = var("VMID").parse().expect("VMID is a number");
    let gate = |args: &[&str]| {
        let mut c = nebulair();
        for k in ["ONEGATE_ENDPOINT", "VMID", "TOKENTXT"] {
            c.env(k, var(k));
        }
        c.arg("onegate").args(args);
        c
    };
    let out = gate(&["vm", "show", "-o", "json"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let me: OneGateVm = serde_json::from_slice(&out.stdout).expect("OneGateVm from JSON");
    assert_eq!(me.id.get(), vm_id);
    assert_eq!(me.name, "onegate-vm");
    gate(&["vm", "update", "READY=YES"]).assert().success();

    // The VM is the one node of role `app` of a simulated OneFlow service, which scales.
    let service = |c: &mut Command| -> OneGateService {
        let out = c.output().expect("run");
        assert!(out.status.success(), "{}", stderr_of(&out));
        serde_json::from_slice(&out.stdout).expect("OneGateService from JSON")
    };
    let svc = service(&mut gate(&["service", "show", "-o", "json"]));
    let app = svc.role("app").expect("role app");
    assert_eq!(app.cardinality, 1);
    assert_eq!(app.nodes[0].deploy_id.get(), vm_id);
    gate(&["service", "scale", "app", "2"]).assert().success();
    let svc = service(&mut gate(&["service", "show", "-o", "json"]));
    let app = svc.role("app").expect("role app");
    assert_eq!((app.cardinality, app.nodes.len()), (2, 2), "{svc:?}");

    // What OneGate wrote is in oned's state, seen through the printed XML-RPC endpoint.
    let dir = tempfile::tempdir().expect("dir");
    let auth = dir.path().join("one_auth");
    std::fs::write(&auth, "oneadmin:opennebula\n").expect("auth file");
    let out = nebulair()
        .env("ONE_XMLRPC", var("ONE_XMLRPC"))
        .env("ONE_AUTH", &auth)
        .args(["one", "vm", "show", &vm_id.to_string(), "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let vm: serde_json::Value = serde_json::from_slice(&out.stdout).expect("VM JSON");
    assert_eq!(vm["name"], "onegate-vm", "{vm}");
    assert_eq!(vm["user_template"]["READY"], "YES", "{vm}");

    // A wrong token is refused (401, exit 3).
    let mut wrong = gate(&["vm", "show"]);
    wrong.env("TOKENTXT", "not-the-token").assert().code(3);

    // The vCloud line works as printed too.
    let mut vcd = nebulair();
    for k in ["VCD_URL", "VCD_USER", "VCD_ORG", "VCD_PASSWORD"] {
        vcd.env(k, var(k));
    }
    vcd.args(["vcloud", "query", "vm"]).assert().success();

    StdCommand::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert!(status.success(), "simulate stops cleanly: {status:?}");
}

#[test]
#[cfg(feature = "simulators")]
fn demo_runs_fast_and_shows_the_tour() {
    let started = Instant::now();
    let out = nebulair().args(["demo", "--fast"]).output().expect("run");
    let text = stdout_of(&out);
    assert!(
        out.status.success(),
        "demo failed: {}\n{text}",
        stderr_of(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    for key in [
        "== OpenNebula ==",
        "OpenNebula 7.",
        "ALLOCATED_CPU",
        "state: ",
        "RUNNING",
        "HOLD only",
        "NO_EXISTS",
        "User couldn't be authenticated",
        "== OneGate (from inside a VM) ==",
        "oned now shows USER_TEMPLATE READY=YES",
        "== vCloud ==",
        "every nextPage link followed",
        "4 rules before, 5 after",
        "testFailover: 60 succeeded, 0 failed",
        "testCleanup: 60 succeeded",
        "samples from",
        "== One trait for both clouds ==",
        "opennebula",
        "POWERED_ON",
        "Demo finished",
    ] {
        assert!(
            text.contains(key),
            "missing {key:?} in the demo output:\n{text}"
        );
    }
    assert!(!text.contains("wrong-password"));
    // Half tours.
    nebulair()
        .args(["demo", "--cloud", "vcloud"])
        .env("NEBULAIR_DEMO_FAST", "1")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("== vCloud ==")
                .and(predicate::str::contains("== OpenNebula ==").not()),
        );
}
