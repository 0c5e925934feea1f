//! `nebulair vcloud edge|firewall|nat|ipsec|org|user|token|service-account` against the
//! vCloud simulator (org, user, token and service account: administration over the
//! cloudapi, secrets from and to files, never printed). The
//! edge commands pick the cloudapi for NSX-T edges, re-read what they changed, refuse what
//! NSX-T cannot express, and never print a pre-shared key.

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
        let sim = self.sim.as_ref().expect("sim");
        c.env("VCD_URL", sim.base_url().as_str())
            .env("VCD_USER", DEFAULT_USER)
            .env("VCD_ORG", DEFAULT_ORG)
            .env("VCD_PASSWORD", DEFAULT_PASSWORD)
            .arg("vcloud");
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
        serde_json::from_str(&stdout_of(&out)).expect("json")
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.vcd().args(args).output().expect("run");
        assert!(!out.status.success(), "{args:?} should fail");
        stderr_of(&out)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn edges_are_listed_with_their_backing() {
    let env = Env::start();
    let edges = env.json(&["edge", "list"]);
    assert_eq!(names(&edges), ["edge-nsxt-dev", "edge-prod"]);
    let table = env.vcd().args(["edge", "list"]).output().expect("run");
    let text = stdout_of(&table);
    assert!(text.contains("NSX-T") && text.contains("NSX-V"), "{text}");
    assert!(text.contains("203.0.113.10"), "{text}");
}

#[test]
fn nat_rules_on_an_nsxt_edge() {
    let env = Env::start();
    let edge = ["--edge", "edge-nsxt-dev"];
    let before = env.json(&["nat", "list", edge[0], edge[1]]);
    assert_eq!(names(&before), ["snat-dev"]);

    let created = env.json(&[
        "nat",
        "add",
        edge[0],
        edge[1],
        "dnat",
        "203.0.113.10",
        "10.10.0.30",
        "--original-port",
        "8443",
        "--name",
        "web-alt",
    ]);
    assert_eq!(created["name"], "web-alt");
    assert_eq!(created["dnatExternalPort"], "8443");
    let after = env.json(&["nat", "list", edge[0], edge[1]]);
    assert_eq!(names(&after), ["snat-dev", "web-alt"]);
    let rule = &after[1];
    assert_eq!(rule["externalAddresses"], "203.0.113.10");
    assert_eq!(rule["internalAddresses"], "10.10.0.30");

    // What NSX-T cannot take, and bad values, are refused before anything changes.
    let err = env.fails(&[
        "nat",
        "add",
        edge[0],
        edge[1],
        "dnat",
        "203.0.113.10",
        "10.10.0.31",
        "--protocol",
        "tcp",
    ]);
    assert!(err.contains("application port profile"), "{err}");
    let err = env.fails(&[
        "nat",
        "add",
        edge[0],
        edge[1],
        "dnat",
        "203.0.113.999",
        "10.10.0.31",
    ]);
    assert!(err.contains("203.0.113.999"), "{err}");
    assert_eq!(
        names(&env.json(&["nat", "list", edge[0], edge[1]])).len(),
        2
    );

    let deleted = env.json(&["nat", "delete", edge[0], edge[1], "web-alt", "--yes"]);
    assert_eq!(deleted["deleted"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        names(&env.json(&["nat", "list", edge[0], edge[1]])),
        ["snat-dev"]
    );
    let err = env.fails(&["nat", "delete", edge[0], edge[1], "no-such-rule", "--yes"]);
    assert!(err.contains("no-such-rule"), "{err}");
}

#[test]
fn firewall_and_ipsec_on_an_nsxt_edge() {
    let env = Env::start();
    let edge = ["--edge", "edge-nsxt-dev"];
    env.json(&[
        "firewall",
        "add",
        edge[0],
        edge[1],
        "block-rest",
        "any",
        "any",
        "--action",
        "deny",
    ]);
    let rules = env.json(&["firewall", "list", edge[0], edge[1]]);
    let user = &rules["userDefinedRules"];
    assert_eq!(names(user), ["allow-outbound", "block-rest"]);
    assert_eq!(user[1]["actionValue"], "DROP");
    let err = env.fails(&[
        "firewall",
        "add",
        edge[0],
        edge[1],
        "web",
        "any",
        "10.10.0.5",
    ]);
    assert!(err.contains("firewall groups"), "{err}");
    env.json(&[
        "firewall",
        "delete",
        edge[0],
        edge[1],
        "block-rest",
        "--yes",
    ]);
    let rules = env.json(&["firewall", "list", edge[0], edge[1]]);
    assert_eq!(names(&rules["userDefinedRules"]), ["allow-outbound"]);

    let dir = tempfile::tempdir().expect("dir");
    let psk = dir.path().join("psk.txt");
    std::fs::write(&psk, "not-for-your-eyes\n").expect("psk");
    let psk = psk.to_str().expect("path");
    let created = env
        .vcd()
        .args([
            "ipsec",
            "add",
            edge[0],
            edge[1],
            "to-office",
            "--local-id",
            "dev",
            "--local-ip",
            "203.0.113.10",
            "--peer-id",
            "office",
            "--peer-ip",
            "198.51.100.7",
            "--local-subnets",
            "10.10.0.0/24",
            "--peer-subnets",
            "192.168.10.0/24,192.168.20.0/24",
            "--psk-file",
            psk,
            "-o",
            "json",
        ])
        .output()
        .expect("run");
    assert!(created.status.success(), "{}", stderr_of(&created));
    assert!(!stdout_of(&created).contains("not-for-your-eyes"));
    let out = env
        .vcd()
        .args(["ipsec", "list", edge[0], edge[1], "-o", "json"])
        .output()
        .expect("run");
    let text = stdout_of(&out);
    assert!(!text.contains("not-for-your-eyes"), "{text}");
    let tunnels: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(tunnels[0]["preSharedKey"], "[REDACTED]");
    assert_eq!(
        tunnels[0]["remoteEndpoint"]["remoteNetworks"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(tunnels[0]["localEndpoint"]["localId"], "dev");
    env.json(&["ipsec", "delete", edge[0], edge[1], "to-office", "--yes"]);
    assert!(
        env.json(&["ipsec", "list", edge[0], edge[1]])
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

#[test]
fn orgs_users_and_api_tokens_from_the_command_line() {
    let env = Env::start();
    let sys = |args: &[&str]| -> Value {
        let out = env
            .vcd()
            .env("VCD_ORG", "System")
            .args(args)
            .args(["-o", "json"])
            .output()
            .expect("run");
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        serde_json::from_str(&stdout_of(&out)).expect("json")
    };
    let created = sys(&[
        "org",
        "create",
        "acme",
        "--display-name",
        "ACME",
        "--description",
        "a customer",
    ]);
    assert_eq!(created["isEnabled"], true);
    assert!(names(&sys(&["org", "list"])).contains(&"acme".to_owned()));

    let dir = tempfile::tempdir().expect("dir");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "alice-secret-pw\n").expect("pw");
    let out = env
        .vcd()
        .env("VCD_ORG", "System")
        .args([
            "user",
            "create",
            "alice",
            "--role",
            "vApp Author",
            "--org",
            "acme",
            "--user-password-file",
        ])
        .arg(&pw)
        .args(["-o", "json", "-vv"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        !stdout_of(&out).contains("alice-secret-pw")
            && !stderr_of(&out).contains("alice-secret-pw")
    );
    let alice: Value = serde_json::from_str(&stdout_of(&out)).expect("json");
    assert_eq!(alice["orgEntityRef"]["name"], "acme");
    assert_eq!(alice["roleEntityRefs"][0]["name"], "vApp Author");

    // alice logs in to acme with that password.
    let out = env
        .vcd()
        .env("VCD_ORG", "acme")
        .env("VCD_USER", "alice")
        .env("VCD_PASSWORD", "alice-secret-pw")
        .args(["user", "show", "alice", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let off = sys(&["user", "disable", "alice"]);
    assert_eq!(off["enabled"], false);
    let roles = env.json(&["user", "roles"]);
    assert!(names(&roles).contains(&"vApp Author".to_owned()));

    // An API token, written to a file (0600) and never printed; it logs in; then revoked.
    let tok = dir.path().join("token");
    let out = env
        .vcd()
        .args([
            "token",
            "create",
            "ci",
            "--org",
            DEFAULT_ORG,
            "--output-file",
        ])
        .arg(&tok)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let secret = std::fs::read_to_string(&tok).expect("token file");
    let secret = secret.trim();
    assert!(!secret.is_empty() && !stdout_of(&out).contains(secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&tok).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(names(&env.json(&["token", "list"])), ["ci"]);
    env.json(&["token", "delete", "ci", "--yes"]);
    assert!(
        env.json(&["token", "list"])
            .as_array()
            .is_some_and(Vec::is_empty)
    );

    let err = env.fails(&["org", "create", "evil"]);
    assert!(
        err.to_lowercase().contains("right") || err.contains("403") || err.contains("FORBIDDEN"),
        "{err}"
    );
}

#[test]
fn service_accounts_from_the_command_line() {
    let env = Env::start();
    let sw = "8b3f1f4e-2d6a-4c1b-9f0e-5a7d3c2b1a00";
    let err = env.fails(&[
        "service-account",
        "create",
        "robot",
        "--role",
        "vApp Author",
        "--software-id",
        "not-a-uuid",
    ]);
    assert!(err.contains("UUID"), "{err}");
    let created = env.json(&[
        "service-account",
        "create",
        "robot",
        "--role",
        "vApp Author",
        "--software-id",
        sw,
        "--uri",
        "https://ci.example.com",
    ]);
    assert_eq!(created["status"], "CREATED");
    assert_eq!(created["role"]["name"], "vApp Author");
    assert_eq!(created["softwareId"], sw);
    assert_eq!(names(&env.json(&["service-account", "list"])), ["robot"]);

    // Request, grant and token in one go; the token goes to a 0600 file only.
    let dir = tempfile::tempdir().expect("dir");
    let tok = dir.path().join("robot.token");
    let out = env
        .vcd()
        .args([
            "service-account",
            "activate",
            "robot",
            "-o",
            "json",
            "-vv",
            "--output-file",
        ])
        .arg(&tok)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let secret = std::fs::read_to_string(&tok).expect("token file");
    let secret = secret.trim();
    assert!(!secret.is_empty());
    assert!(!stdout_of(&out).contains(secret) && !stderr_of(&out).contains(secret));
    let shown: Value = serde_json::from_str(&stdout_of(&out)).expect("json");
    assert_eq!(shown["service_account"]["status"], "ACTIVE");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&tok).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }
    // The token logs in as the service account.
    let out = env
        .vcd()
        .env_remove("VCD_PASSWORD")
        .env("VCD_API_TOKEN", secret)
        .args(["--service", "api-token", "vapp", "list", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));

    // A code nothing waits for is refused; revoke goes back to CREATED; delete.
    let err = env.fails(&["service-account", "grant", "ZZZZ-ZZZZ"]);
    assert!(!err.is_empty());
    let revoked = env.json(&["service-account", "revoke", "robot", "--yes"]);
    assert_eq!(revoked["status"], "CREATED");
    env.json(&["service-account", "delete", "robot", "--yes"]);
    assert!(
        env.json(&["service-account", "list"])
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let err = env.fails(&["service-account", "show", "robot"]);
    assert!(err.contains("robot"), "{err}");
}
