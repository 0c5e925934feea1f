//! `nebulair simulate --onegate-vm ID`: OneGate is printed for the chosen VM (from a state
//! file), with that VM's token; a VM without a token or a missing VM is a clear error.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use nebulair_sim::one::OneSimulator;

fn call(sim: &nebulair_sim::one::OneSimHandle, method: &str, params: &str) -> String {
    sim.call_raw(
        format!(
            "<methodCall><methodName>{method}</methodName><params><param><value><string>oneadmin:opennebula</string></value></param>{params}</params></methodCall>"
        )
        .as_bytes(),
    )
}

fn allocate(sim: &nebulair_sim::one::OneSimHandle, template: &str) {
    let r = call(
        sim,
        "one.vm.allocate",
        &format!("<param><value><string>{template}</string></value></param>"),
    );
    assert!(r.contains("<boolean>1</boolean>"), "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn simulate_acts_as_the_chosen_vm() {
    let sim = OneSimulator::builder()
        .onegate_endpoint("http://127.0.0.1:1")
        .start()
        .await
        .expect("simulator");
    allocate(
        &sim,
        "NAME = a\nCPU = 0.1\nMEMORY = 16\nCONTEXT = [ TOKEN = YES ]",
    );
    allocate(
        &sim,
        "NAME = b\nCPU = 0.1\nMEMORY = 16\nCONTEXT = [ TOKEN = YES ]",
    );
    allocate(&sim, "NAME = c\nCPU = 0.1\nMEMORY = 16");
    let token_b = sim.state().vm_token(1).expect("token of b");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("state.json");
    sim.save_snapshot(&file).expect("snapshot");
    sim.shutdown().await;

    let bin = assert_cmd::cargo::cargo_bin("nebulair");
    let mut child = Command::new(&bin)
        .args([
            "simulate",
            "--one-only",
            "-o",
            "json",
            "--onegate-vm",
            "1",
            "--state",
        ])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn simulate");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&line).expect("endpoints JSON");
    assert_eq!(v["onegate"]["vm_id"], 1, "{v}");
    assert_eq!(v["onegate"]["vm_name"], "b", "{v}");
    assert_eq!(v["onegate"]["token"], token_b.as_str(), "{v}");

    for (id, fragment) in [("2", "has no OneGate token"), ("99", "VM 99")] {
        let out = Command::new(&bin)
            .args(["simulate", "--one-only", "--onegate-vm", id, "--state"])
            .arg(&file)
            .output()
            .expect("run");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(fragment), "{err}");
    }
}
