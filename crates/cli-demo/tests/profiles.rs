//! `nebulair profile`: profiles in a temporary config folder, passwords only on request
//! and then in a 0600 file, the cached vCD session used and replaced after expiry.

mod support;

use std::time::Duration;

use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use predicates::prelude::*;
use support::*;

fn config(home: &std::path::Path) -> std::path::PathBuf {
    home.join("nebulair-config")
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

#[test]
fn one_profiles_add_list_use_remove_and_keep_secrets_private() {
    let env = OneEnv::start();
    let home = env.dir.path();
    // a profile with a saved password (stdin), made current
    env.bare()
        .args([
            "profile",
            "add",
            "sim",
            "--cloud",
            "one",
            "--endpoint",
            &env.url(),
        ])
        .args(["--user", "oneadmin", "--save-password", "--password-stdin"])
        .write_stdin(format!("{ONE_PASSWORD}\n"))
        .assert()
        .success();
    let store = std::fs::read_to_string(config(home).join("profiles.json")).expect("profiles");
    assert!(!store.contains(ONE_PASSWORD), "{store}");
    let secret = config(home).join("secrets").join("sim");
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret").trim(),
        ONE_PASSWORD
    );
    #[cfg(unix)]
    assert_eq!(mode(&secret), 0o600);
    // used without any flag or variable
    env.bare()
        .args(["one", "host", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("host01"));
    // a second profile without a password: asked for on the (test) terminal
    env.bare()
        .args([
            "profile",
            "add",
            "ask",
            "--cloud",
            "one",
            "--endpoint",
            &env.url(),
            "--user",
            "oneadmin",
        ])
        .assert()
        .success();
    env.bare()
        .args(["--profile", "ask", "one", "version"])
        .env("NEBULAIR_TEST_TERMINAL", "1")
        .write_stdin(format!("{ONE_PASSWORD}\n"))
        .assert()
        .success()
        .stderr(predicate::str::contains("Password for oneadmin"));
    assert!(!config(home).join("secrets").join("ask").exists());
    // list: the current one is marked, no secret printed
    let out = env
        .bare()
        .args(["profile", "list", "-o", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["name"], "ask");
    assert_eq!(v[1]["name"], "sim");
    assert_eq!(v[1]["current"], true);
    assert!(!stdout_of(&out).contains(ONE_PASSWORD));
    // use, then remove (the saved password goes too)
    env.bare()
        .args(["profile", "use", "ask"])
        .assert()
        .success();
    env.bare()
        .args(["profile", "remove", "sim"])
        .assert()
        .success();
    assert!(!secret.exists());
    env.bare().args(["profile", "use", "sim"]).assert().code(4);
    env.bare()
        .args(["--profile", "nope", "one", "version"])
        .assert()
        .code(4);
    // flags and variables win over the profile
    env.bare()
        .args(["one", "--endpoint", "http://127.0.0.1:1/RPC2", "version"])
        .env("ONE_AUTH", &env.auth)
        .assert()
        .code(5);
}

#[test]
fn vcloud_profile_caches_the_session_and_logs_in_again_after_expiry() {
    let rt = rt();
    let sim = rt
        .block_on(
            VcloudSimulator::builder()
                .task_duration(Duration::from_millis(20))
                .start(),
        )
        .expect("vCloud simulator");
    let home = tempfile::tempdir().expect("home");
    nebulair(home.path())
        .args(["profile", "add", "vcd", "--cloud", "vcloud", "--endpoint"])
        .arg(format!("{}api", sim.base_url()))
        .args([
            "--user",
            &format!("{DEFAULT_USER}@{DEFAULT_ORG}"),
            "--save-password",
            "--password-stdin",
        ])
        .write_stdin(format!("{DEFAULT_PASSWORD}\n"))
        .assert()
        .success();
    let login = || {
        let before = sim.request_count();
        let out = nebulair(home.path())
            .args(["vcloud", "query", "vm", "-o", "json"])
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", stderr_of(&out));
        sim.request_count() - before
    };
    let first = login();
    let session = config(home.path()).join("sessions").join("vcd.json");
    assert!(session.exists());
    #[cfg(unix)]
    assert_eq!(mode(&session), 0o600);
    let cached = login();
    assert!(
        cached < first,
        "the cached session saves the login: {cached} vs {first}"
    );
    // the server forgets the token: the next command logs in again by itself
    sim.expire_tokens();
    let relogin = login();
    assert!(relogin > cached, "{relogin} vs {cached}");
    assert!(login() == cached, "cached again");
    rt.block_on(sim.shutdown());
}
