//! `nebulair vcloud network` against the vCloud simulator: an isolated network created
//! with DNS and pools, listed, shown, deleted; bad pools refused before sending; and
//! `vcloud vapp network`: the networks inside a vApp added, changed and removed.

mod support;

use std::time::Duration;

use assert_cmd::Command;
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator, VcloudSimulatorHandle,
};
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

    fn vcd(&self) -> Command {
        let mut c = nebulair(self.home.path());
        c.args([
            "vcloud",
            "--url",
            self.sim.as_ref().expect("sim").base_url().as_str(),
            "--user",
            DEFAULT_USER,
            "--org",
            DEFAULT_ORG,
        ])
        .env("VCD_PASSWORD", DEFAULT_PASSWORD);
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self
            .vcd()
            .args(args)
            .args(["-o", "json"])
            .output()
            .expect("run");
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        serde_json::from_str(&stdout_of(&out)).expect("json output")
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
fn networks_from_the_command_line() {
    let env = Env::start();
    let created = env.json(&[
        "network",
        "create",
        "cli-net",
        "--in",
        "VDC-Dev",
        "--gateway",
        "10.44.0.1/24",
        "--dns",
        "10.44.0.53",
        "--pool",
        "10.44.0.10-10.44.0.20",
        "--pool",
        "10.44.0.30-10.44.0.40",
        "--description",
        "from the CLI",
    ]);
    assert_eq!(created["name"], "cli-net");
    assert_eq!(created["fence_mode"], "isolated");
    assert_eq!(created["gateway"], "10.44.0.1");
    assert_eq!(created["prefix"], 24);
    assert_eq!(created["pools"].as_array().map(Vec::len), Some(2));
    let list = env.json(&["network", "list", "--in", "VDC-Dev"]);
    let names: Vec<&str> = list
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["default-routed", "cli-net"]);
    let shown = env.json(&["network", "show", "CLI-NET", "--in", "VDC-Dev"]);
    assert_eq!(shown["dns"][0], "10.44.0.53");
    assert_eq!(shown["description"], "from the CLI");

    // a pool outside the subnet: refused before anything is sent
    let out = env
        .vcd()
        .args([
            "network",
            "create",
            "bad",
            "--in",
            "VDC-Dev",
            "--gateway",
            "10.44.0.1/24",
            "--pool",
            "10.45.0.1-10.45.0.9",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("outside the subnet"),
        "{}",
        stderr_of(&out)
    );

    let deleted = env.json(&["network", "delete", "cli-net", "--in", "VDC-Dev"]);
    assert_eq!(deleted["deleted"], "cli-net");
    assert_eq!(
        env.json(&["network", "list", "--in", "VDC-Dev"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn vapp_networks_from_the_command_line() {
    let env = Env::start();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect()
    };
    let net = |args: &[&str]| {
        let mut all = vec!["vapp", "network", "db-tier", "--in", "VDC-Prod"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--poll-interval", "0.05"]);
        env.json(&all)
    };
    assert_eq!(names(&net(&["list"])), ["default-routed"]);
    // isolated, with two pools: the networks re-read after the task
    let after = net(&[
        "add",
        "backplane",
        "--gateway",
        "172.30.0.1/24",
        "--pool",
        "172.30.0.10-172.30.0.20",
        "--pool",
        "172.30.0.30-172.30.0.40",
        "--description",
        "replication",
    ]);
    assert_eq!(names(&after), ["default-routed", "backplane"]);
    let bp = &after[1];
    assert_eq!(bp["fence_mode"], "isolated");
    assert_eq!(bp["gateway"], "172.30.0.1");
    assert_eq!(bp["netmask"], "255.255.255.0");
    assert_eq!(bp["pools"][1], "172.30.0.30-172.30.0.40");
    assert_eq!(bp["description"], "replication");
    // changed in place: a new subnet, the description kept
    let after = net(&[
        "update",
        "backplane",
        "--gateway",
        "172.31.0.1/16",
        "--pool",
        "172.31.5.1-172.31.5.50",
    ]);
    let bp = &after[1];
    assert_eq!(
        (&bp["gateway"], &bp["netmask"], &bp["pools"][0]),
        (
            &Value::from("172.31.0.1"),
            &Value::from("255.255.0.0"),
            &Value::from("172.31.5.1-172.31.5.50")
        )
    );
    assert_eq!(bp["description"], "replication");
    // bridged to the vDC's org network, then fenced
    let after = net(&[
        "add",
        "uplink",
        "--kind",
        "bridged",
        "--parent",
        "default-routed",
    ]);
    assert_eq!(after[2]["fence_mode"], "bridged");
    assert_eq!(after[2]["parent"], "default-routed");
    let after = net(&[
        "update",
        "uplink",
        "--kind",
        "fenced",
        "--parent",
        "default-routed",
    ]);
    assert_eq!(after[2]["fence_mode"], "natRouted");

    // bad input: refused before anything is sent, nothing changed
    for (args, says) in [
        (
            &[
                "add",
                "x",
                "--gateway",
                "172.32.0.1/24",
                "--pool",
                "172.33.0.1-172.33.0.9",
            ][..],
            "outside the subnet",
        ),
        (&["add", "x", "--kind", "bridged"][..], "--parent"),
        (
            &["update", "nope", "--gateway", "10.1.0.1/24"][..],
            "no network named",
        ),
        (&["remove", "backplane"][..], "--yes"),
    ] {
        let mut all = vec!["vapp", "network", "db-tier", "--in", "VDC-Prod"];
        all.extend_from_slice(args);
        let out = env.vcd().args(&all).output().expect("run");
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr_of(&out).contains(says),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
    assert_eq!(names(&net(&["list"])).len(), 3);
    // removal: refused by the server while VM NICs use default-routed; two by name work
    let out = env
        .vcd()
        .args([
            "vapp", "network", "db-tier", "--in", "VDC-Prod", "remove", "--all", "--yes",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("in use by VM"),
        "{}",
        stderr_of(&out)
    );
    let after = net(&["remove", "backplane", "uplink", "--yes"]);
    assert_eq!(names(&after), ["default-routed"]);
}
