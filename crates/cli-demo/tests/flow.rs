//! `nebulair flow ...` against the OneFlow simulator (on the oned simulator, loopback):
//! templates and services by name, `--wait` to RUNNING and DONE, a failure state as a
//! non-zero exit naming the state, table/JSON/YAML output.

mod support;

use std::time::Duration;

use nebulair_core::Credentials;
use nebulair_opennebula::OneClient;
use nebulair_opennebula::model::{LcmState, VmState};
use nebulair_sim::one::{Delays, OneSimHandle, OneSimulator};
use nebulair_sim::oneflow::{OneFlowHandle, OneFlowSimulator};
use serde_json::Value;
use support::{ONE_PASSWORD, nebulair, rt};

struct FlowEnv {
    rt: tokio::runtime::Runtime,
    one: Option<OneSimHandle>,
    flow: Option<OneFlowHandle>,
    dir: tempfile::TempDir,
}

impl FlowEnv {
    fn start(delays: Delays) -> FlowEnv {
        let rt = rt();
        let one = rt
            .block_on(OneSimulator::builder().delays(delays).start())
            .expect("oned simulator");
        let flow = rt
            .block_on(
                OneFlowSimulator::builder()
                    .poll_interval(Duration::from_millis(20))
                    .start(&one),
            )
            .expect("OneFlow simulator");
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("one_auth"),
            format!("oneadmin:{ONE_PASSWORD}\n"),
        )
        .expect("auth");
        FlowEnv {
            rt,
            one: Some(one),
            flow: Some(flow),
            dir,
        }
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = nebulair(self.dir.path());
        c.env("ONEFLOW_URL", self.flow.as_ref().expect("flow").url())
            .env("ONE_AUTH", self.dir.path().join("one_auth"));
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self
            .cmd()
            .args(["-o", "json"])
            .args(args)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    }

    fn rpc(&self) -> OneClient {
        OneClient::builder()
            .endpoint(self.one.as_ref().expect("one").url().to_owned())
            .credentials(Credentials::password("oneadmin", ONE_PASSWORD))
            .build()
            .expect("client")
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    }
}

impl Drop for FlowEnv {
    fn drop(&mut self) {
        if let Some(f) = self.flow.take() {
            self.rt.block_on(f.shutdown());
        }
        if let Some(o) = self.one.take() {
            self.rt.block_on(o.shutdown());
        }
    }
}

const SHOP: &str = r#"{"name":"shop","deployment":"straight","roles":[
  {"name":"db","type":"vm","template_id":0,"cardinality":1,"cooldown":0},
  {"name":"web","type":"vm","template_id":0,"cardinality":2,"parents":["db"],"min_vms":1,"max_vms":3,"cooldown":0}]}"#;

#[test]
fn templates_and_services_by_name_with_wait() {
    let env = FlowEnv::start(Delays::default());
    let file = env.write("shop.json", SHOP);
    let created = env.json(&["flow", "template", "create", &file]);
    assert_eq!(created["NAME"], "shop");

    // list as a table, JSON and YAML
    let out = env
        .cmd()
        .args(["flow", "template", "list"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("ID") && text.contains("REGTIME") && text.contains("shop"),
        "{text}"
    );
    let list = env.json(&["flow", "template", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let yaml = env
        .cmd()
        .args(["-o", "yaml", "flow", "template", "list"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&yaml.stdout).contains("NAME: shop"));
    let shown = env
        .cmd()
        .args(["flow", "template", "show", "shop"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("DEPLOYMENT") && text.contains("straight") && text.contains("web"),
        "{text}"
    );

    // instantiate by name and wait for RUNNING
    let s = env.json(&[
        "flow",
        "template",
        "instantiate",
        "shop",
        "--name",
        "shop-1",
        "--wait",
        "--wait-timeout",
        "60",
    ]);
    assert_eq!(s["TEMPLATE"]["BODY"]["state"], 2, "{s}");
    let id = s["ID"].as_i64().expect("id").to_string();
    let services = env.json(&["flow", "service", "list"]);
    assert_eq!(services[0]["NAME"], "shop-1");
    let show = env
        .cmd()
        .args(["flow", "service", "show", "shop-1"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("RUNNING") && text.contains("db") && text.contains("web"),
        "{text}"
    );

    // scale by name, wait; the VMs are there through XML-RPC
    let s = env.json(&["flow", "service", "scale", "shop-1", "web", "3", "--wait"]);
    let web = &s["TEMPLATE"]["BODY"]["roles"][1];
    assert_eq!(web["nodes"].as_array().map(Vec::len), Some(3));
    let rpc = env.rpc();
    for n in web["nodes"].as_array().expect("nodes") {
        let vm = env
            .rt
            .block_on(
                rpc.vm(i32::try_from(n["deploy_id"].as_i64().expect("id")).expect("i32"))
                    .info(),
            )
            .expect("vm");
        assert!(vm.is_running());
    }
    // a refusal: non-zero exit with OneFlow's message
    let out = env
        .cmd()
        .args(["flow", "service", "scale", "shop-1", "web", "9"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Maximum cardinality is 3"));
    // an unknown name
    let out = env
        .cmd()
        .args(["flow", "service", "show", "nope"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));

    env.cmd()
        .args(["flow", "service", "rename", &id, "shop-2"])
        .assert()
        .success();
    env.cmd()
        .args([
            "flow",
            "service",
            "role-action",
            "shop-2",
            "web",
            "poweroff",
            "--period",
            "3600",
            "--number",
            "1",
        ])
        .assert()
        .success();

    // delete by name and wait for DONE: the document is gone
    let out = env
        .cmd()
        .args(["flow", "service", "delete", "shop-2", "--wait"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted"));
    assert_eq!(
        env.json(&["flow", "service", "list"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    env.cmd()
        .args(["flow", "template", "delete", "shop"])
        .assert()
        .success();
    assert_eq!(
        env.json(&["flow", "template", "list"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

#[test]
fn a_failed_deployment_is_a_non_zero_exit_naming_the_state_and_recover_works() {
    let env = FlowEnv::start(Delays {
        boot: Duration::from_secs(2),
        ..Delays::default()
    });
    let file = env.write(
        "one.json",
        r#"{"name":"one","roles":[{"name":"app","type":"vm","template_id":0,"cardinality":1}]}"#,
    );
    env.json(&["flow", "template", "create", &file]);
    let s = env.json(&["flow", "template", "instantiate", "one"]);
    let id = s["ID"].as_i64().expect("id").to_string();
    // make the booting VM fail, as a driver would
    let rpc = env.rpc();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let vm = loop {
        let s = env.json(&["flow", "service", "show", &id]);
        if let Some(vm) = s["TEMPLATE"]["BODY"]["roles"][0]["nodes"][0]["deploy_id"].as_i64() {
            let vm = i32::try_from(vm).expect("i32");
            if env.rt.block_on(rpc.vm(vm).info()).expect("vm").lcm_state() == Some(LcmState::Boot) {
                break vm;
            }
        }
        assert!(std::time::Instant::now() < deadline, "never booting");
        std::thread::sleep(Duration::from_millis(20));
    };
    env.rt
        .block_on(rpc.vm(vm).recover(0))
        .expect("fail the boot");
    let out = env
        .cmd()
        .args(["flow", "service", "recover", "one", "--delete"])
        .arg("--help")
        .output()
        .expect("help");
    assert!(out.status.success());
    // waiting for RUNNING now ends in FAILED_DEPLOYING
    let out = env
        .cmd()
        .args(["flow", "service", "release", &id, "--wait"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "no role is held");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = env.json(&["flow", "service", "show", &id]);
        if s["TEMPLATE"]["BODY"]["state"] == 7 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never FAILED_DEPLOYING: {s}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = env
        .cmd()
        .args(["flow", "service", "scale", "one", "app", "2", "--wait"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FAILED_DEPLOYING"), "{err}");
    // recover --wait: RUNNING again
    let out = env
        .cmd()
        .args([
            "flow",
            "service",
            "recover",
            "one",
            "--wait",
            "--wait-timeout",
            "60",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("RUNNING"));
    assert_eq!(
        env.rt.block_on(rpc.vm(vm).info()).expect("vm").state(),
        Some(VmState::Active)
    );
    // recover --delete --wait: gone
    env.cmd()
        .args(["flow", "service", "recover", "one", "--delete", "--wait"])
        .assert()
        .success();
    assert_eq!(
        env.json(&["flow", "service", "list"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

#[test]
fn wait_failure_exit_names_the_state() {
    // A service whose VM cannot be deployed from the start: template 9 does not exist.
    let env = FlowEnv::start(Delays::default());
    let file = env.write(
        "bad.json",
        r#"{"name":"bad","roles":[{"name":"app","type":"vm","template_id":9,"cardinality":1}]}"#,
    );
    env.json(&["flow", "template", "create", &file]);
    let out = env
        .cmd()
        .args([
            "flow",
            "template",
            "instantiate",
            "bad",
            "--wait",
            "--wait-timeout",
            "30",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FAILED_DEPLOYING"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no spinner when stderr is not a terminal"
    );
}

#[test]
fn vm_instantiate_and_actions_wait_for_their_state() {
    let env = FlowEnv::start(Delays {
        boot: Duration::from_millis(300),
        shutdown: Duration::from_millis(300),
        ..Delays::default()
    });
    let one = |c: &mut assert_cmd::Command| {
        c.env("ONE_XMLRPC", env.one.as_ref().expect("one").url());
    };
    let mut c = env.cmd();
    one(&mut c);
    let out = c
        .args([
            "-o",
            "json",
            "one",
            "template",
            "instantiate",
            "ttylinux",
            "--name",
            "w1",
            "--wait",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = i32::try_from(v["id"].as_i64().expect("id")).expect("i32");
    let rpc = env.rpc();
    assert!(
        env.rt.block_on(rpc.vm(id).info()).expect("vm").is_running(),
        "RUNNING when the command returns"
    );
    let mut c = env.cmd();
    one(&mut c);
    c.args(["one", "vm", "action", "poweroff", "w1", "--wait"])
        .assert()
        .success();
    assert_eq!(
        env.rt.block_on(rpc.vm(id).info()).expect("vm").state(),
        Some(VmState::Poweroff)
    );
    let mut c = env.cmd();
    one(&mut c);
    let out = c
        .args(["one", "vm", "action", "resched", "w1", "--wait"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "resched has no state to wait for");
}
