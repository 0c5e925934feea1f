//! The `nebulair` binary as operators use it: pipes into `head`, option placement,
//! secrets, colour, deadlines, hints, names, confirmations and output formats
//! (issue #17, and the CLI items of #15).

mod support;

use std::io::Read as _;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::*;

/// A reader that closes the pipe after the first bytes: the command must end quietly.
fn closes_early(mut cmd: StdCommand) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut first = [0u8; 16];
    out.read_exact(&mut first).expect("first bytes");
    drop(out);
    let output = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{:?} exit {:?}: {err}",
        cmd.get_args().collect::<Vec<_>>(),
        output.status.code()
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let home = tempfile::tempdir().expect("home");
    for shell in ["bash", "zsh", "fish"] {
        let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("nebulair"));
        c.args(["completions", shell]).env("HOME", home.path());
        closes_early(c);
    }
    let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("nebulair"));
    c.args(["demo", "--fast", "--cloud", "vcloud"])
        .env("HOME", home.path());
    closes_early(c);
}

#[test]
fn one_call_options_anywhere_json_decoded_and_tokens_never_printed() {
    let env = OneEnv::start();
    // `-o json` after the arguments is an option, not two more XML-RPC parameters;
    // negative numbers need no `--`.
    let out = env
        .one()
        .args(["call", "one.user.info", "-1", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // The XML answer is decoded, not a string holding XML.
    assert_eq!(v["USER"]["NAME"], "oneadmin", "{v}");
    assert_eq!(v["USER"]["ID"], 0, "{v}");
    assert_eq!(v["USER"]["PASSWORD"], "(redacted)", "{v}");
    // Element order is kept (ID before GID before NAME, as oned writes them).
    let text = stdout_of(&out);
    let (id, gid, name) = (
        text.find("\"ID\"").expect("ID"),
        text.find("\"GID\"").expect("GID"),
        text.find("\"NAME\"").expect("NAME"),
    );
    assert!(id < gid && gid < name, "{text}");
    // The same with -o before, and with `--` (then `-o` would be an argument).
    env.one()
        .args(["-o", "yaml", "call", "one.user.info", "-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("USER:\n  ID: 0\n"));

    // one.user.login answers with the token itself: never printed, in any format.
    let client = env.client();
    for fmt in ["table", "json", "yaml"] {
        let out = env
            .one()
            .args([
                "call",
                "one.user.login",
                "oneadmin",
                "",
                "3600",
                "-1",
                "-o",
                fmt,
            ])
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", stderr_of(&out));
        let text = stdout_of(&out);
        assert!(text.contains("(redacted)"), "{text}");
        let hex64 = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|w| w.len() >= 32);
        assert!(!hex64, "a token in the {fmt} output: {text}");
    }
    // The tokens exist on the server (the call did its work), and none was printed.
    let user = env
        .rt
        .block_on(client.user(nebulair_opennebula::ids::UserId::new(0)).info())
        .expect("user");
    let tokens = serde_json::to_string(&user).expect("json");
    assert!(
        tokens.contains("login_token") || tokens.contains("LOGIN_TOKEN"),
        "{tokens}"
    );
}

#[test]
fn logs_have_no_colour_codes_when_stderr_is_not_a_terminal() {
    let home = tempfile::tempdir().expect("home");
    // -vv logs at debug level; stderr is a pipe here.
    let out = nebulair(home.path())
        .args([
            "-vv",
            "one",
            "--endpoint",
            "http://127.0.0.1:9/RPC2",
            "version",
        ])
        .env("ONE_AUTH", home.path().join("nope"))
        .output()
        .expect("run");
    let err = stderr_of(&out);
    assert!(!err.contains('\u{1b}'), "ANSI codes in {err:?}");
    // Tables: colour only when asked for and never with NO_COLOR.
    let env = OneEnv::start();
    let plain = env.one().args(["host", "list"]).output().expect("run");
    assert!(!stdout_of(&plain).contains('\u{1b}'));
    let coloured = env
        .one()
        .args(["host", "list", "--color", "always"])
        .output()
        .expect("run");
    assert!(stdout_of(&coloured).contains("\u{1b}[1m"));
    let no_color = env
        .one()
        .args(["host", "list", "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    assert!(!stdout_of(&no_color).contains('\u{1b}'));
}

#[test]
fn a_bad_ca_file_gets_a_hint_about_the_file() {
    let home = tempfile::tempdir().expect("home");
    let bad = home.path().join("ca.pem");
    std::fs::write(&bad, "not a certificate\n").expect("write");
    for ca in [bad.clone(), home.path().join("missing.pem")] {
        let out = nebulair(home.path())
            .args(["one", "--endpoint", "https://127.0.0.1:9/RPC2", "--ca-cert"])
            .arg(&ca)
            .args(["version"])
            .env("ONE_AUTH", home.path().join("nope"))
            .output()
            .expect("run");
        assert!(!out.status.success());
        let err = stderr_of(&out);
        assert!(err.contains("--ca-cert"), "{err}");
        assert!(err.contains("PEM"), "{err}");
        assert!(!err.to_lowercase().contains("password"), "{err}");
    }
}

#[test]
fn the_deadline_covers_every_attempt_against_a_silent_server() {
    let home = tempfile::tempdir().expect("home");
    let url = silent_server();
    let auth = home.path().join("one_auth");
    std::fs::write(&auth, "oneadmin:x\n").expect("auth");
    let started = Instant::now();
    let out = nebulair(home.path())
        .args([
            "one",
            "--endpoint",
            &format!("{url}/RPC2"),
            "vm",
            "list",
            "--timeout",
            "3",
        ])
        .env("ONE_AUTH", &auth)
        .output()
        .expect("run");
    let took = started.elapsed();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    assert!(took >= Duration::from_secs(3), "took {took:?}: {err}");
    assert!(err.contains("3 s deadline"), "{err}");
    assert!(
        predicate::str::contains("timeout").eval(&err.to_lowercase()),
        "{err}"
    );
}

#[test]
fn global_options_are_listed_apart_from_the_commands_own() {
    let home = tempfile::tempdir().expect("home");
    let out = nebulair(home.path())
        .args(["one", "vm", "list", "--help"])
        .output()
        .expect("run");
    let help = stdout_of(&out);
    let global = help
        .find("Global options:")
        .expect("a Global options section");
    let conn = help
        .find("Connection options:")
        .expect("a Connection options section");
    let own = help.find("--state").expect("--state");
    assert!(own < global && own < conn, "{help}");
    assert!(help[global..].contains("--output"), "{help}");
    assert!(help[conn..].contains("--endpoint"), "{help}");
    let out = nebulair(home.path())
        .args(["vcloud", "firewall", "list", "--help"])
        .output()
        .expect("run");
    let help = stdout_of(&out);
    assert_eq!(help.matches("[env: VCD_EDGE").count(), 1, "{help}");
}
