//! `nebulair vcloud network` against the vCloud simulator: an isolated network created
//! with DNS and pools, listed, shown, deleted; bad pools refused before sending.

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
