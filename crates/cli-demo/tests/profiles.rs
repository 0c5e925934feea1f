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

/// Unix seconds now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The vCloud simulator with a profile folder.
struct VcdEnv {
    rt: tokio::runtime::Runtime,
    sim: Option<nebulair_sim::vcloud::VcloudSimulatorHandle>,
    home: tempfile::TempDir,
}

impl VcdEnv {
    fn start() -> VcdEnv {
        let rt = rt();
        let sim = rt
            .block_on(
                VcloudSimulator::builder()
                    .task_duration(Duration::from_millis(20))
                    .start(),
            )
            .expect("vCloud simulator");
        VcdEnv {
            rt,
            sim: Some(sim),
            home: tempfile::tempdir().expect("home"),
        }
    }

    fn sim(&self) -> &nebulair_sim::vcloud::VcloudSimulatorHandle {
        self.sim.as_ref().expect("sim")
    }

    fn cmd(&self) -> assert_cmd::Command {
        nebulair(self.home.path())
    }

    /// `profile add NAME --cloud vcloud --endpoint <sim>/api EXTRA...`
    fn add(&self, name: &str, extra: &[&str]) {
        self.cmd()
            .args(["profile", "add", name, "--cloud", "vcloud", "--endpoint"])
            .arg(format!("{}api", self.sim().base_url()))
            .args(extra)
            .write_stdin(format!("{DEFAULT_PASSWORD}\n"))
            .assert()
            .success();
    }

    /// Runs `vcloud query vm` with the profile and returns the number of requests the
    /// simulator got for it.
    fn query(&self, profile: &str, envs: &[(&str, &str)]) -> u64 {
        let before = self.sim().request_count();
        let out = self
            .cmd()
            .args(["--profile", profile, "vcloud", "query", "vm", "-o", "json"])
            .envs(envs.iter().copied())
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", stderr_of(&out));
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(rows.as_array().is_some_and(|r| !r.is_empty()), "{rows}");
        self.sim().request_count() - before
    }

    fn session_file(&self, profile: &str) -> std::path::PathBuf {
        config(self.home.path())
            .join("sessions")
            .join(format!("{profile}.json"))
    }

    fn session(&self, profile: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.session_file(profile)).expect("session file");
        serde_json::from_str(&text).expect("session JSON")
    }

    fn token(&self, profile: &str) -> String {
        self.session(profile)["org_info"]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Rewrites one field of the cached session.
    fn patch_session(&self, profile: &str, field: &str, value: serde_json::Value) {
        let mut s = self.session(profile);
        s[field] = value;
        std::fs::write(self.session_file(profile), s.to_string()).expect("write");
    }

    /// Every file under the config folder, as text.
    fn config_text(&self) -> String {
        let mut out = String::new();
        let mut dirs = vec![config(self.home.path())];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
        out
    }
}

impl Drop for VcdEnv {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

#[test]
fn vcloud_profile_caches_the_session_with_the_servers_expiry() {
    let env = VcdEnv::start();
    let user = format!("{DEFAULT_USER}@{DEFAULT_ORG}");
    env.add(
        "vcd",
        &[
            "--user",
            &user,
            "--save-password",
            "--password-stdin",
            "--cache-session",
        ],
    );
    let first = env.query("vcd", &[]);
    let session = env.session_file("vcd");
    #[cfg(unix)]
    assert_eq!(mode(&session), 0o600);
    // The expiry is the JWT's `exp` (the simulator's tokens last 30 minutes), the idle
    // timeout the cloudapi session's sessionIdleTimeoutMinutes.
    let s = env.session("vcd");
    let exp = s["expires_at"].as_u64().expect("expires_at");
    assert!(exp.abs_diff(now() + 30 * 60) < 120, "{s}");
    assert_eq!(s["idle_timeout"], 30 * 60);
    assert_eq!(s["org_info"]["auth-header"], "authorization");
    let token = env.token("vcd");
    // The profile itself holds no token.
    let store = std::fs::read_to_string(config(env.home.path()).join("profiles.json")).expect("p");
    assert!(!store.contains(&token), "{store}");
    // Used as long as it lasts: no new login, the same token.
    let cached = env.query("vcd", &[]);
    assert!(
        cached < first,
        "the cached session saves the login: {cached} vs {first}"
    );
    assert_eq!(env.token("vcd"), token);
    // `vcloud login -o json` says when it ends and that it is new (login always logs in).
    let out = env
        .cmd()
        .args(["vcloud", "login", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["session"], "new");
    assert!(
        v["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );
    assert!(!stdout_of(&out).contains(&env.token("vcd")));
    assert_ne!(env.token("vcd"), token, "login replaced the cached session");
    let token = env.token("vcd");

    // An expired cached token (as its recorded expiry says) is not sent at all: the
    // command logs in again, although the server would still accept the old one.
    env.patch_session("vcd", "expires_at", serde_json::json!(now() - 60));
    let relogin = env.query("vcd", &[]);
    assert!(relogin > cached, "{relogin} vs {cached}");
    let fresh = env.token("vcd");
    assert_ne!(fresh, token);
    assert!(env.session("vcd")["expires_at"].as_u64().expect("exp") > now());
    // So is one that was idle longer than the idle timeout.
    env.patch_session("vcd", "last_used", serde_json::json!(now() - 31 * 60));
    assert!(env.query("vcd", &[]) > cached);
    assert_ne!(env.token("vcd"), fresh);
    let fresh = env.token("vcd");
    assert!(env.session("vcd")["last_used"].as_u64().expect("used") + 5 >= now());

    // The server forgets the token (401): the next command logs in again by itself and
    // caches the new session.
    env.sim().expire_tokens();
    let relogin = env.query("vcd", &[]);
    assert!(relogin > cached, "{relogin} vs {cached}");
    assert_ne!(env.token("vcd"), fresh);
    assert_eq!(env.query("vcd", &[]), cached, "cached again");

    // logout ends it on the server and forgets it.
    let saved = env.session("vcd");
    env.cmd()
        .args(["vcloud", "logout"])
        .assert()
        .success()
        .stdout(predicate::str::contains("logged out"));
    assert!(!env.session_file("vcd").exists());
    let org_info: nebulair_vcloud::session::OrgInfo =
        serde_json::from_value(saved["org_info"].clone()).expect("org info");
    let client =
        nebulair_vcloud::VcdClient::with_config(org_info, &Default::default()).expect("client");
    let err = env
        .rt
        .block_on(client.send(nebulair_vcloud::client::ApiRequest::get("api/session")))
        .expect_err("the old token is refused");
    assert!(err.is_authentication(), "{err}");
}

#[test]
fn every_login_kind_is_cached_and_nothing_without_cache_session() {
    let env = VcdEnv::start();
    // An API-token profile: the token comes from VCD_API_TOKEN, the cached session's end
    // from the OAuth expires_in / the JWT's exp.
    env.add(
        "tok",
        &[
            "--service",
            "api-token",
            "--org",
            DEFAULT_ORG,
            "--cache-session",
        ],
    );
    let api = [("VCD_API_TOKEN", nebulair_sim::vcloud::DEFAULT_API_TOKEN)];
    let first = env.query("tok", &api);
    let s = env.session("tok");
    assert!(
        s["expires_at"]
            .as_u64()
            .expect("exp")
            .abs_diff(now() + 30 * 60)
            < 120,
        "{s}"
    );
    assert!(
        s["key"].as_str().expect("key").starts_with("ApiToken|"),
        "{s}"
    );
    let cached = env.query("tok", &api);
    assert!(cached < first, "{cached} vs {first}");
    assert!(
        !env.config_text()
            .contains(nebulair_sim::vcloud::DEFAULT_API_TOKEN)
    );

    // vCloud Air On-Demand: the instance's vCD session is cached too.
    env.cmd()
        .args(["profile", "add", "od", "--cloud", "vcloud", "--endpoint"])
        .arg(env.sim().base_url().as_str())
        .args([
            "--service",
            "vca-od",
            "--user",
            DEFAULT_USER,
            "--cache-session",
        ])
        .assert()
        .success();
    let od = [("VCD_PASSWORD", DEFAULT_PASSWORD)];
    let before = env.sim().request_count();
    env.cmd()
        .args(["--profile", "od", "vcloud", "login"])
        .envs(od)
        .assert()
        .success();
    let od_login = env.sim().request_count() - before;
    assert!(env.session_file("od").exists());
    let od_token = env.token("od");
    let cached = env.query("od", &od);
    assert!(cached < od_login, "{cached} vs {od_login}");
    assert_eq!(
        env.token("od"),
        od_token,
        "the cached On-Demand session was used"
    );

    // Without --cache-session nothing but the profile is written, and every command
    // logs in.
    let user = format!("{DEFAULT_USER}@{DEFAULT_ORG}");
    env.add("plain", &["--user", &user]);
    let pw = [("VCD_PASSWORD", DEFAULT_PASSWORD)];
    let a = env.query("plain", &pw);
    let b = env.query("plain", &pw);
    assert_eq!(a, b, "no cache: both commands log in");
    assert!(!env.session_file("plain").exists());
    assert!(
        !config(env.home.path())
            .join("secrets")
            .join("plain")
            .exists()
    );
    // Tokens (JWTs) are only in the session files of the profiles that asked for them.
    let profiles =
        std::fs::read_to_string(config(env.home.path()).join("profiles.json")).expect("profiles");
    assert!(!profiles.contains("eyJ"), "{profiles}");
    let sessions: Vec<String> = std::fs::read_dir(config(env.home.path()).join("sessions"))
        .expect("sessions")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !sessions.iter().any(|f| f.starts_with("plain")),
        "{sessions:?}"
    );
    // profile list shows which profiles cache their session
    let out = env
        .cmd()
        .args(["profile", "list", "-o", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let by_name = |n: &str| {
        v.as_array()
            .expect("list")
            .iter()
            .find(|p| p["name"] == n)
            .cloned()
            .expect("profile")
    };
    assert_eq!(by_name("tok")["cache_session"], true);
    assert_eq!(by_name("plain")["cache_session"], false);
}
