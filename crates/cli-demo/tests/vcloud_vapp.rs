//! `nebulair vcloud vapp ...` and `nebulair vcloud vm ...` against the embedded vCD
//! simulator: every change is checked by reading the state again (`show -o json`, and the
//! simulator's own state), and bad input ends with a clear error and a non-zero exit.

mod support;

use std::time::Duration;

use assert_cmd::Command;
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator, VcloudSimulatorHandle,
};
use predicates::prelude::*;
use serde_json::Value;
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

    /// `nebulair vcloud <group> <args> --poll-interval 0.02`, logged in to the simulator.
    fn cmd(&self, group: &str, args: &[&str]) -> Command {
        let mut c = nebulair(self.home.path());
        c.args([
            "vcloud",
            "--url",
            self.sim().base_url().as_str(),
            "--user",
            DEFAULT_USER,
            "--org",
            DEFAULT_ORG,
            group,
        ])
        .args(args)
        .args(["--poll-interval", "0.02"])
        .env("VCD_PASSWORD", DEFAULT_PASSWORD);
        c
    }

    fn vapp(&self, args: &[&str]) -> Command {
        self.cmd("vapp", args)
    }

    fn vm(&self, args: &[&str]) -> Command {
        self.cmd("vm", args)
    }

    /// Runs and parses stdout as JSON (`-o json` added); the command must succeed.
    fn json(&self, mut c: Command) -> Value {
        let out = c.args(["-o", "json"]).output().expect("run");
        assert!(
            out.status.success(),
            "{}\n{}",
            stdout_of(&out),
            stderr_of(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout_of(&out)))
    }

    fn vapp_json(&self, args: &[&str]) -> Value {
        self.json(self.vapp(args))
    }

    fn vm_json(&self, args: &[&str]) -> Value {
        self.json(self.vm(args))
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|v| v["name"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn vapp_create_power_cycle_rename_delete() {
    let env = Env::start();
    let created = env.vapp_json(&[
        "create",
        "shop",
        "--in",
        "VDC-Dev",
        "--template",
        "lamp-stack",
        "--catalog",
        "DevOps",
        "--vm",
        "web=shop-web",
        "--network",
        "default-routed",
        "--description",
        "web shop",
    ]);
    assert_eq!(created["name"], "shop");
    assert_eq!(created["deployed"], true);
    let mut vms = names(&created["vms"]);
    vms.sort();
    assert_eq!(vms, ["db", "shop-web"]);
    // Read again, by name in its vDC: the same vApp, described.
    let shown = env.vapp_json(&["show", "shop", "--in", "VDC-Dev"]);
    assert_eq!(shown["id"], created["id"]);
    assert_eq!(shown["description"], "web shop");
    assert!(names(&env.vapp_json(&["list", "--in", "VDC-Dev"])).contains(&"shop".to_owned()));
    assert!(!names(&env.vapp_json(&["list", "--in", "VDC-Prod"])).contains(&"shop".to_owned()));

    let status = || env.vapp_json(&["show", "shop"])["status"].clone();
    for (action, after) in [
        ("power-on", "POWERED_ON"),
        ("suspend", "SUSPENDED"),
        ("discard-suspend", "POWERED_OFF"),
        ("power-on", "POWERED_ON"),
        ("reboot", "POWERED_ON"),
        ("reset", "POWERED_ON"),
        ("shutdown", "POWERED_OFF"),
        ("power-on", "POWERED_ON"),
        ("power-off", "POWERED_OFF"),
    ] {
        let printed = env.vapp_json(&[action, "shop"]);
        assert_eq!(printed["status"], after, "{action}: printed");
        assert_eq!(status(), after, "{action}: read again");
    }
    assert_eq!(env.sim().vm_power_state("shop-web"), Some("POWERED_OFF"));
    // vCD refuses to power off a powered-off vApp; its code and message reach the user.
    env.vapp(&["power-off", "shop"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("BAD_REQUEST"))
        .stderr(predicate::str::contains("shop"));

    // Undeploy and deploy without powering on; the deployed flag read again.
    env.vapp(&["undeploy", "shop", "--action", "power-off"])
        .assert()
        .success();
    assert_eq!(env.vapp_json(&["show", "shop"])["deployed"], false);
    env.vapp(&["deploy", "shop", "--no-power-on"])
        .assert()
        .success();
    let d = env.vapp_json(&["show", "shop"]);
    assert_eq!(
        (d["deployed"].clone(), d["status"].clone()),
        (true.into(), "POWERED_OFF".into())
    );

    // Rename (and describe); the old name is gone.
    env.vapp(&["rename", "shop", "boutique", "--description", "renamed"])
        .assert()
        .success();
    let r = env.vapp_json(&["show", "boutique"]);
    assert_eq!(r["id"], created["id"]);
    assert_eq!(r["description"], "renamed");
    env.vapp(&["show", "shop"]).assert().code(4);

    // Snapshots of every VM of the vApp, read again on the vApp and on a VM.
    let snapped = env.vapp_json(&["snapshot", "create", "boutique", "--name", "s1"]);
    for vm in snapped["vms"].as_array().expect("vms") {
        assert!(vm["snapshot"].is_string(), "{snapped}");
    }
    assert!(env.vm_json(&["show", "shop-web", "--vapp", "boutique"])["snapshot"].is_object());
    env.vapp(&["snapshot", "revert", "boutique"])
        .assert()
        .success();
    let cleared = env.vapp_json(&["snapshot", "remove-all", "boutique"]);
    for vm in cleared["vms"].as_array().expect("vms") {
        assert_eq!(vm["snapshot"], Value::Null, "{cleared}");
    }
    assert_eq!(
        env.vm_json(&["show", "shop-web", "--vapp", "boutique"])["snapshot"],
        Value::Null
    );

    // Delete: refused without --yes off a terminal, dry run changes nothing, vCD refuses a
    // deployed vApp (with a hint), --undeploy powers it off first.
    env.vapp(&["power-on", "boutique"]).assert().success();
    env.vapp(&["delete", "boutique"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    env.vapp(&["delete", "boutique", "--undeploy", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would undeploy vApp boutique"))
        .stdout(predicate::str::contains("would delete vApp boutique"));
    env.vapp(&["delete", "boutique", "--yes"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--undeploy"));
    assert_eq!(env.vapp_json(&["show", "boutique"])["status"], "POWERED_ON");
    let gone = env.vapp_json(&["delete", "boutique", "--undeploy", "--yes"]);
    assert_eq!(gone["deleted"], "boutique");
    env.vapp(&["show", "boutique"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no vApp named \"boutique\""));
    assert_eq!(env.sim().vm_power_state("shop-web"), None);
}

#[test]
fn vm_reconfiguration_is_read_back() {
    let env = Env::start();
    // WEB-01 (vApp Web-Tier, VDC-Dev) is powered off: every change is allowed.
    let vm = ["--vapp", "Web-Tier", "--in", "VDC-Dev"];
    let show = || {
        let mut a = vec!["show", "WEB-01"];
        a.extend(vm);
        env.vm_json(&a)
    };
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(vm);
        env.vm_json(&a)
    };
    let before = show();
    assert_eq!(before["vapp"], "Web-Tier");
    assert_eq!(before["status"], "POWERED_OFF");

    // CPU and memory.
    assert_eq!(
        run(&["cpu", "WEB-01", "4", "--cores-per-socket", "2"])["cpus"],
        4
    );
    let s = show();
    assert_eq!(
        (s["cpus"].clone(), s["cores_per_socket"].clone()),
        (4.into(), 2.into())
    );
    assert_eq!(run(&["memory", "WEB-01", "4096"])["memory_mb"], 4096);
    assert_eq!(show()["memory_mb"], 4096);
    // Bad values: typed errors, exit 2, nothing sent.
    let requests = env.sim().request_count();
    env.vm(&["memory", "WEB-01", "1001", "--vapp", "Web-Tier"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid memory"))
        .stderr(predicate::str::contains("multiple of 4 MB"));
    env.vm(&["cpu", "WEB-01", "-2", "--vapp", "Web-Tier"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid cpu count"));
    env.vm(&[
        "cpu",
        "WEB-01",
        "6",
        "--cores-per-socket",
        "4",
        "--vapp",
        "Web-Tier",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("do not divide"));
    // Only the logins and name lookups reached the server, no change.
    assert!(env.sim().request_count() - requests < 20);
    let s = show();
    assert_eq!(
        (s["cpus"].clone(), s["memory_mb"].clone()),
        (4.into(), 4096.into())
    );

    // Hard disks: add, grow, refuse to shrink, remove (by name or InstanceID).
    let disks = |v: &Value| v["disks"].as_array().expect("disks").clone();
    assert_eq!(disks(&before).len(), 1);
    let added = run(&[
        "disk",
        "add",
        "WEB-01",
        "--size-mb",
        "2048",
        "--bus",
        "sata",
    ]);
    let d = disks(&added);
    assert_eq!(d.len(), 2);
    assert_eq!(
        (d[1]["size_mb"].clone(), d[1]["bus"].clone()),
        (2048.into(), "sata".into())
    );
    let id = d[1]["instance_id"].as_i64().expect("id").to_string();
    run(&[
        "disk",
        "resize",
        "WEB-01",
        "Hard disk 2",
        "--size-mb",
        "4096",
    ]);
    assert_eq!(disks(&show())[1]["size_mb"], 4096);
    env.vm(&[
        "disk",
        "resize",
        "WEB-01",
        &id,
        "--size-mb",
        "1024",
        "--vapp",
        "Web-Tier",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("cannot shrink"));
    env.vm(&[
        "disk",
        "remove",
        "WEB-01",
        "Hard disk 9",
        "--vapp",
        "Web-Tier",
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("no disk \"Hard disk 9\""));
    run(&["disk", "remove", "WEB-01", &id]);
    assert_eq!(disks(&show()).len(), 1);

    // NICs: add a manual one as primary, change it, remove it.
    let nics = |v: &Value| v["nics"].as_array().expect("nics").clone();
    let nic = |v: &Value, i: i64| {
        nics(v)
            .into_iter()
            .find(|n| n["index"] == i)
            .unwrap_or_else(|| panic!("NIC {i} in {v}"))
    };
    let added = run(&[
        "nic",
        "add",
        "WEB-01",
        "default-routed",
        "--ip",
        "192.168.109.201",
        "--primary",
    ]);
    assert_eq!(nics(&added).len(), 2);
    let n = nic(&added, 1);
    assert_eq!(n["ip_mode"], "MANUAL");
    assert_eq!(n["ip_address"], "192.168.109.201");
    assert_eq!(n["primary"], true);
    assert_eq!(nic(&added, 0)["primary"], false);
    run(&[
        "nic",
        "modify",
        "WEB-01",
        "1",
        "--ip-mode",
        "dhcp",
        "--connected",
        "off",
    ]);
    let n = nic(&show(), 1);
    assert_eq!(
        (n["ip_mode"].clone(), n["connected"].clone()),
        ("DHCP".into(), false.into())
    );
    env.vm(&[
        "nic",
        "add",
        "WEB-01",
        "default-routed",
        "--ip-mode",
        "manual",
        "--vapp",
        "Web-Tier",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("needs --ip"));
    run(&["nic", "remove", "WEB-01", "1"]);
    let s = show();
    assert_eq!(nics(&s).len(), 1);
    assert_eq!(nic(&s, 0)["primary"], true);

    // Hot add flags.
    run(&["hot-add", "WEB-01", "--cpu", "on", "--memory", "off"]);
    let s = show();
    assert_eq!(
        (s["cpu_hot_add"].clone(), s["memory_hot_add"].clone()),
        (true.into(), false.into())
    );

    // Guest customization: the password is set and never printed.
    let pw = env.home.path().join("admin-pw");
    std::fs::write(&pw, "Adm1n-s3cret!\n").expect("pw");
    let script = env.home.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho customized\n").expect("script");
    let out = env
        .vm(&[
            "customize",
            "WEB-01",
            "--vapp",
            "Web-Tier",
            "--computer-name",
            "web-one",
            "--admin-password-file",
            pw.to_str().expect("utf-8"),
            "--auto-logon",
            "2",
            "--script-file",
            script.to_str().expect("utf-8"),
            "--at-next-power-on",
            "-o",
            "json",
            "-vv",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stdout_of(&out).contains("s3cret") && !stderr_of(&out).contains("s3cret"));
    let s = show();
    let c = &s["customization"];
    assert_eq!(c["computer_name"], "web-one");
    assert_eq!(c["admin_password_set"], true);
    assert_eq!(c["admin_password_auto"], false);
    assert_eq!(c["auto_logon_count"], 2);
    assert_eq!(c["script"], true);
    assert_eq!(s["needs_customization"], true);
    assert!(!s.to_string().contains("s3cret"));
    env.vm(&[
        "customize",
        "WEB-01",
        "--computer-name",
        "bad name",
        "--vapp",
        "Web-Tier",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("computer name"));
    env.vm(&["customize", "WEB-01", "--vapp", "Web-Tier"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to change"));

    // Media from a catalog, by item name.
    let media = ["ubuntu-22.04.iso", "--catalog", "Public"];
    let mut a = vec!["media", "insert", "WEB-01"];
    a.extend(media);
    assert_eq!(run(&a)["media"], "ubuntu-22.04.iso");
    assert_eq!(show()["media"], "ubuntu-22.04.iso");
    let mut a = vec!["media", "eject", "WEB-01"];
    a.extend(media);
    run(&a);
    assert_eq!(show()["media"], Value::Null);
    env.vm(&[
        "media",
        "insert",
        "WEB-01",
        "ubuntu-22.04.iso",
        "--vapp",
        "Web-Tier",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("--catalog"));

    // Snapshots.
    let snap = run(&["snapshot", "create", "WEB-01", "--name", "before-upgrade"]);
    assert!(snap["snapshot"]["created"].is_string(), "{snap}");
    assert!(show()["snapshot"].is_object());
    run(&["snapshot", "revert", "WEB-01"]);
    assert!(show()["snapshot"].is_object());
    run(&["snapshot", "remove-all", "WEB-01"]);
    assert_eq!(show()["snapshot"], Value::Null);

    // Rename.
    run(&[
        "rename",
        "WEB-01",
        "WEB-ONE",
        "--description",
        "first web VM",
    ]);
    let s = env.vm_json(&["show", "WEB-ONE", "--vapp", "Web-Tier"]);
    assert_eq!(s["id"], before["id"]);
    assert_eq!(s["description"], "first web VM");
}

#[test]
fn vm_power_metadata_and_delete() {
    let env = Env::start();
    let id = env.vm_json(&["show", "db-01"])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // By urn, the same VM.
    assert_eq!(env.vm_json(&["show", &id])["name"], "db-01");
    for (action, after, sim) in [
        ("power-off", "POWERED_OFF", "POWERED_OFF"),
        ("power-on", "POWERED_ON", "POWERED_ON"),
        ("suspend", "SUSPENDED", "SUSPENDED"),
        ("discard-suspend", "POWERED_OFF", "POWERED_OFF"),
        ("power-on", "POWERED_ON", "POWERED_ON"),
        ("reboot", "POWERED_ON", "POWERED_ON"),
        ("reset", "POWERED_ON", "POWERED_ON"),
        ("shutdown", "POWERED_OFF", "POWERED_OFF"),
    ] {
        assert_eq!(env.vm_json(&[action, &id])["status"], after, "{action}");
        assert_eq!(env.vm_json(&["show", "db-01"])["status"], after, "{action}");
        assert_eq!(env.sim().vm_power_state("db-01"), Some(sim), "{action}");
    }
    // Powered off: growing memory past what a running VM could is fine now.
    env.vm(&["memory", "db-01", "12288"]).assert().success();
    assert_eq!(env.vm_json(&["show", "db-01"])["memory_mb"], 12288);

    // Typed metadata: set, read each back typed, remove.
    for (k, v, t) in [
        ("env", "prod", "string"),
        ("replicas", "3", "number"),
        ("critical", "true", "boolean"),
        ("since", "2026-01-01T00:00:00Z", "datetime"),
    ] {
        env.vm(&["metadata", "db-01", "set", k, v, "--type", t])
            .assert()
            .success();
    }
    let all = env.vm_json(&["metadata", "db-01", "get"]);
    let entry = |k: &str| {
        all.as_array()
            .expect("entries")
            .iter()
            .find(|e| e["key"] == k)
            .unwrap_or_else(|| panic!("{k} in {all}"))
            .clone()
    };
    assert_eq!(entry("replicas")["value"], 3);
    assert_eq!(entry("replicas")["type"], "number");
    assert_eq!(entry("critical")["value"], true);
    assert_eq!(entry("since")["type"], "datetime");
    assert_eq!(entry("env")["domain"], "GENERAL");
    env.vm(&["metadata", "db-01", "get", "replicas"])
        .assert()
        .success()
        .stdout("3\n");
    env.vm(&[
        "metadata", "db-01", "set", "replicas", "three", "--type", "number",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("not an integer"));
    env.vm(&["metadata", "db-01", "remove", "env"])
        .assert()
        .success();
    assert_eq!(
        env.vm_json(&["metadata", "db-01", "get"])
            .as_array()
            .expect("entries")
            .len(),
        3
    );
    // Several at once (one task), typed; a malformed entry refused.
    let tasks = env.sim().task_count();
    let many = env.vm_json(&[
        "metadata", "db-01", "set-many", "a=1", "b=2", "--type", "number",
    ]);
    assert_eq!(env.sim().task_count(), tasks + 1);
    let a = many
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["key"] == "a")
        .expect("a")
        .clone();
    assert_eq!(
        (a["value"].clone(), a["type"].clone()),
        (1.into(), "number".into())
    );
    env.vm(&["metadata", "db-01", "set-many", "c"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("KEY=VALUE"));
    env.vm(&["metadata", "db-01", "set-many", "c=x", "--type", "number"])
        .assert()
        .code(2);
    env.vm(&["metadata", "db-01", "remove", "a"])
        .assert()
        .success();
    env.vm(&["metadata", "db-01", "remove", "b"])
        .assert()
        .success();
    // vApp metadata too, by name in its vDC.
    env.vapp(&[
        "metadata", "db-tier", "--in", "VDC-Prod", "set", "tier", "data",
    ])
    .assert()
    .success();
    env.vapp(&["metadata", "db-tier", "get", "tier"])
        .assert()
        .success()
        .stdout("data\n");

    // Delete: confirmation; vCD refuses a deployed VM (with a hint); --undeploy first;
    // then gone (its vApp stays).
    env.vm(&["delete", "db-01"]).assert().code(2);
    env.vm(&["delete", "db-01", "--yes"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--undeploy"));
    assert_eq!(env.vm_json(&["show", "db-01"])["deployed"], true);
    env.vm(&["delete", "db-01", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would delete VM db-01"));
    assert_eq!(
        env.vm_json(&["delete", "db-01", "--undeploy", "--yes"])["deleted"],
        "db-01"
    );
    env.vm(&["show", "db-01"]).assert().code(4);
    assert!(
        env.vapp_json(&["show", "db-tier"])["vms"]
            .as_array()
            .expect("vms")
            .is_empty()
    );
}

#[test]
fn names_ids_lists_formats_and_errors() {
    let env = Env::start();
    // Lists.
    let all = names(&env.vapp_json(&["list"]));
    for n in ["web-tier", "Web-Tier", "db-tier", "jenkins", "empty-vapp"] {
        assert!(all.contains(&n.to_owned()), "{n} in {all:?}");
    }
    let dev = names(&env.vapp_json(&["list", "--in", "VDC-Dev"]));
    assert!(dev.contains(&"Web-Tier".to_owned()) && !dev.contains(&"web-tier".to_owned()));
    let web = env.vm_json(&["list", "--vapp", "web-tier"]);
    let mut vms = names(&web);
    vms.sort();
    assert_eq!(vms, ["web-01", "web-02"]);
    assert_eq!(web[0]["vapp"], "web-tier");
    let in_prod = names(&env.vm_json(&["list", "--in", "VDC-Prod"]));
    assert!(in_prod.contains(&"db-01".to_owned()) && !in_prod.contains(&"jenkins01".to_owned()));
    // YAML and table output.
    env.vm(&["show", "web-01", "-o", "yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("name: web-01"));
    env.vapp(&["show", "web-tier"])
        .assert()
        .success()
        .stdout(predicate::str::contains("POWERED_ON"))
        .stdout(predicate::str::contains("web-02"));

    // Unknown names: exit 4, the name and where it was looked for.
    env.vapp(&["show", "no-such-vapp"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no vApp named \"no-such-vapp\""));
    env.vapp(&["power-on", "no-such-vapp", "--in", "VDC-Dev"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("in vDC \"VDC-Dev\""));
    env.vm(&["show", "web-01", "--vapp", "db-tier"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "no VM named \"web-01\" in vApp \"db-tier\"",
        ));
    env.vapp(&["list", "--in", "VDC-Nope"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no vDC named \"VDC-Nope\""));
    // A name two vApps match only without case: ambiguous, both named.
    env.vapp(&["show", "WEB-TIER"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("VDC-Prod"))
        .stderr(predicate::str::contains("VDC-Dev"));
    // An id of the wrong kind.
    let vm_id = env.vm_json(&["show", "web-01"])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    env.vapp(&["show", &vm_id]).assert().failure();
    // --in without --vapp for a VM, an unknown template.
    env.vm(&["show", "web-01", "--in", "VDC-Prod"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--vapp"));
    env.vapp(&[
        "create",
        "x",
        "--in",
        "VDC-Dev",
        "--template",
        "no-such-template",
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("no-such-template"));
    env.vapp(&[
        "create",
        "x",
        "--in",
        "VDC-Dev",
        "--template",
        "lamp-stack",
        "--vm",
        "web",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("TEMPLATE_VM=NAME"));
    env.vapp(&["show", "web-tier", "--poll-interval", "0"])
        .assert()
        .failure();
}

#[test]
fn no_wait_prints_the_task_and_busy_entity_is_retried() {
    let env = Env::start();
    env.sim().set_task_duration(Duration::from_millis(700));
    // --no-wait: the task, at once; the vApp is still on.
    let task = env.vapp_json(&["power-off", "web-tier", "--no-wait"]);
    let href = task["task"].as_str().expect("task href");
    assert!(href.contains("/api/task/"), "{task}");
    assert!(
        task["id"]
            .as_str()
            .expect("id")
            .starts_with("urn:vcloud:task:")
    );
    assert_eq!(task["operation"], "vappPowerOff");
    assert_ne!(task["status"], "success");
    // A second change while that task runs: vCD answers BUSY_ENTITY, the library retries
    // (a warning on stderr) and the change goes through once the first task ends.
    let out = env
        .vm(&["power-on", "web-01", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("BUSY_ENTITY"),
        "{}",
        stderr_of(&out)
    );
    let vm: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(vm["status"], "POWERED_ON");
    env.sim().set_task_duration(Duration::from_millis(20));
    assert_eq!(env.sim().vm_power_state("web-01"), Some("POWERED_ON"));
    assert_eq!(env.sim().vm_power_state("web-02"), Some("POWERED_OFF"));

    // A failing task: its error reaches the user, the state is unchanged.
    env.sim().fail_next_tasks(1);
    env.vm(&["power-off", "web-01"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("Simulated failure"));
    assert_eq!(env.vm_json(&["show", "web-01"])["status"], "POWERED_ON");
}

#[test]
fn create_options_no_wait_vm_deploy_and_unknown_ids() {
    let env = Env::start();
    // Powered on at creation, every VM on the vDC's storage profile "*".
    let on = env.vapp_json(&[
        "create",
        "single",
        "--in",
        "VDC-Dev",
        "--template",
        "ubuntu22-base",
        "--storage-profile",
        "*",
        "--power-on",
    ]);
    assert_eq!(on["status"], "POWERED_ON");
    assert_eq!(names(&on["vms"]), ["ubuntu22"]);
    assert_eq!(env.sim().vm_power_state("ubuntu22"), Some("POWERED_ON"));
    // A storage profile the vDC lacks: named, with those it has, nothing created.
    env.vapp(&[
        "create",
        "nope",
        "--in",
        "VDC-Dev",
        "--template",
        "ubuntu22-base",
        "--storage-profile",
        "gold",
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains(
        "no storage profile \"gold\" (it has: *)",
    ));
    env.vapp(&["show", "nope"]).assert().code(4);
    env.vm(&[
        "disk",
        "add",
        "ubuntu22",
        "--size-mb",
        "1024",
        "--storage-profile",
        "gold",
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("no storage profile \"gold\""));
    let with_profile = env.vm_json(&[
        "disk",
        "add",
        "ubuntu22",
        "--size-mb",
        "1024",
        "--storage-profile",
        "*",
    ]);
    assert_eq!(with_profile["disks"].as_array().expect("disks").len(), 2);
    // Not deployed at creation.
    let cold = env.vapp_json(&[
        "create",
        "cold",
        "--in",
        "VDC-Prod",
        "--template",
        "centos7-base",
        "--catalog",
        "Public",
        "--no-deploy",
    ]);
    assert_eq!(cold["deployed"], false);
    assert_eq!(
        cold["status"], "RESOLVED",
        "vCD's status of a vApp never deployed"
    );

    // --no-wait: the task and the new vApp's href at once; the vApp is there once the
    // task has ended.
    let started = env.vapp_json(&[
        "create",
        "later",
        "--in",
        "VDC-Dev",
        "--template",
        "lamp-stack",
        "--no-wait",
    ]);
    assert!(
        started["task"]
            .as_str()
            .expect("task")
            .contains("/api/task/")
    );
    assert_eq!(started["operation"], "vdcInstantiateVapp");
    let href = started["vapp"].as_str().expect("vapp href").to_owned();
    let mut shown = None;
    for _ in 0..50 {
        let out = env
            .vapp(&["show", &href, "-o", "json"])
            .output()
            .expect("run");
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).expect("json");
            if v["status"] != "UNRESOLVED" && v["vms"].as_array().is_some_and(|a| a.len() == 2) {
                shown = Some(v);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    let shown = shown.expect("the vApp once its task ended");
    assert_eq!(shown["name"], "later");

    // A VM alone: undeploy, deploy without power on, deploy (power on).
    env.vm(&["undeploy", "db-01", "--action", "power-off"])
        .assert()
        .success();
    let d = env.vm_json(&["show", "db-01"]);
    assert_eq!(
        (d["deployed"].clone(), d["status"].clone()),
        (false.into(), "POWERED_OFF".into())
    );
    env.vm(&["deploy", "db-01", "--no-power-on"])
        .assert()
        .success();
    assert_eq!(env.vm_json(&["show", "db-01"])["deployed"], true);
    env.vm(&["deploy", "db-01", "--lease", "-5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--lease"));

    // An id that does not exist: vCD's 403, with a hint that says so.
    env.vapp(&[
        "show",
        "urn:vcloud:vapp:11111111-2222-4333-8444-555555555555",
    ])
    .assert()
    .code(3)
    .stderr(predicate::str::contains("ACCESS_TO_RESOURCE_IS_FORBIDDEN"))
    .stderr(predicate::str::contains("id that does not exist"));
    env.vm(&["power-on", "vm-11111111-2222-4333-8444-555555555555"])
        .assert()
        .code(3);

    // vApp metadata removed and read again.
    env.vapp(&["metadata", "single", "set", "k", "v"])
        .assert()
        .success();
    env.vapp(&["metadata", "single", "remove", "k"])
        .assert()
        .success();
    env.vapp(&["metadata", "single", "get", "k"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("\"k\""));
    assert_eq!(
        env.vapp_json(&["metadata", "single", "get"])
            .as_array()
            .expect("entries")
            .len(),
        0
    );
}

#[test]
fn admin_password_from_stdin_is_set_and_never_printed() {
    let env = Env::start();
    let out = env
        .vm(&[
            "customize",
            "WEB-01",
            "--vapp",
            "Web-Tier",
            "--admin-password-stdin",
            "-vv",
        ])
        .write_stdin("Stdin-s3cret-pw\n")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stdout_of(&out).contains("s3cret") && !stderr_of(&out).contains("s3cret"));
    let c = env.vm_json(&["show", "WEB-01", "--vapp", "Web-Tier"])["customization"].clone();
    assert_eq!(
        (
            c["admin_password_set"].clone(),
            c["admin_password_auto"].clone()
        ),
        (true.into(), false.into())
    );
    // Both passwords from stdin: refused before logging in.
    let mut c = nebulair(env.home.path());
    c.args([
        "vcloud",
        "--url",
        env.sim().base_url().as_str(),
        "--user",
        DEFAULT_USER,
        "--org",
        DEFAULT_ORG,
        "--password-stdin",
        "vm",
        "customize",
        "WEB-01",
        "--admin-password-stdin",
    ])
    .write_stdin(format!("{DEFAULT_PASSWORD}\nx\n"))
    .assert()
    .code(2)
    .stderr(predicate::str::contains("cannot both read standard input"));
    // An empty password: refused.
    env.vm(&["customize", "WEB-01", "--admin-password-stdin"])
        .write_stdin("\n")
        .assert()
        .code(2);
}

#[test]
fn a_saved_profile_is_enough() {
    let env = Env::start();
    let user = format!("{DEFAULT_USER}@{DEFAULT_ORG}");
    nebulair(env.home.path())
        .args(["profile", "add", "lab", "--cloud", "vcloud", "--endpoint"])
        .arg(format!("{}api", env.sim().base_url()))
        .args([
            "--user",
            &user,
            "--save-password",
            "--password-stdin",
            "--cache-session",
        ])
        .write_stdin(format!("{DEFAULT_PASSWORD}\n"))
        .assert()
        .success();
    let with_profile = |args: &[&str]| {
        let mut c = nebulair(env.home.path());
        c.args(["--profile", "lab", "vcloud"])
            .args(args)
            .args(["--poll-interval", "0.02"]);
        c
    };
    with_profile(&["vapp", "power-off", "db-tier"])
        .assert()
        .success();
    let out = with_profile(&["vm", "show", "db-01", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let vm: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(vm["status"], "POWERED_OFF");
    assert_eq!(env.sim().vm_power_state("db-01"), Some("POWERED_OFF"));
}

#[test]
fn vapp_add_vm_and_remove_vm_recompose() {
    let env = Env::start();
    // Into the empty vApp, from the Public catalog's one-VM template.
    let added = env.vapp_json(&[
        "add-vm",
        "empty-vapp",
        "--template",
        "centos7-base",
        "--catalog",
        "Public",
        "--name",
        "added-1",
        "--computer-name",
        "added-1",
        "--network",
        "default-routed",
    ]);
    assert_eq!(names(&added["vms"]), ["added-1"]);
    let vm = env.vm_json(&["show", "added-1", "--vapp", "empty-vapp"]);
    assert_eq!(vm["customization"]["computer_name"], "added-1");
    assert_eq!(vm["cpus"], 1, "the template VM's CPUs");
    // A template of two VMs needs --source-vm; an unknown one is named.
    env.vapp(&["add-vm", "empty-vapp", "--template", "lamp-stack"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--source-vm"));
    env.vapp(&[
        "add-vm",
        "empty-vapp",
        "--template",
        "lamp-stack",
        "--source-vm",
        "cache",
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains(
        "has no VM \"cache\" (it has: web, db)",
    ));
    env.vapp(&[
        "add-vm",
        "empty-vapp",
        "--template",
        "lamp-stack",
        "--source-vm",
        "db",
        "--name",
        "added-db",
    ])
    .assert()
    .success();
    let mut vms = names(&env.vapp_json(&["show", "empty-vapp"])["vms"]);
    vms.sort();
    assert_eq!(vms, ["added-1", "added-db"]);

    // Remove: every name checked first, confirmation, then gone.
    env.vapp(&["remove-vm", "empty-vapp", "added-1", "no-such-vm", "--yes"])
        .assert()
        .code(4);
    assert_eq!(
        names(&env.vapp_json(&["show", "empty-vapp"])["vms"]).len(),
        2
    );
    env.vapp(&["remove-vm", "empty-vapp", "added-1"])
        .assert()
        .code(2);
    let after = env.vapp_json(&["remove-vm", "empty-vapp", "added-1", "--yes"]);
    assert_eq!(names(&after["vms"]), ["added-db"]);
    env.vm(&["show", "added-1"]).assert().code(4);
}
