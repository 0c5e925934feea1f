//! The password prompt on a real pseudo-terminal: `script` (util-linux) runs `nebulair`
//! on a new pty, the test types the password only once the terminal's echo is off, and
//! the screen must show the prompt but never the password.

#![cfg(target_os = "linux")]

mod support;

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use support::*;

#[test]
fn the_password_prompt_on_a_pseudo_terminal_does_not_echo() {
    let rt = rt();
    let sim = rt
        .block_on(VcloudSimulator::builder().start())
        .expect("vCloud simulator");
    let home = tempfile::tempdir().expect("home");
    let bin = assert_cmd::cargo::cargo_bin("nebulair");
    let tty_file = home.path().join("tty");
    // `tty` tells which pty the command runs on, so that the test can watch its echo flag.
    let inner = format!(
        "tty > '{}'; exec '{}' vcloud login --url '{}' --user '{}@{}'",
        tty_file.display(),
        bin.display(),
        sim.base_url(),
        DEFAULT_USER,
        DEFAULT_ORG
    );
    let mut child = Command::new("script")
        .args(["-qec", &format!("sh -c \"{inner}\""), "/dev/null"])
        .env("HOME", home.path())
        .env("NEBULAIR_CONFIG_DIR", home.path().join("cfg"))
        .env("NO_COLOR", "1")
        .env_remove("VCD_PASSWORD")
        .env_remove("VCD_URL")
        .env_remove("NEBULAIR_TEST_TERMINAL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the command on a pseudo-terminal");
    // Wait until the command turned the terminal's echo off (bounded: 30 s).
    let start = Instant::now();
    let echo_off = loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "echo never went off"
        );
        if let Ok(tty) = std::fs::read_to_string(&tty_file) {
            let out = Command::new("stty")
                .args(["-F", tty.trim(), "-a"])
                .output()
                .expect("stty");
            let flags = String::from_utf8_lossy(&out.stdout).into_owned();
            if flags.split_whitespace().any(|f| f == "-echo") {
                break flags;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(echo_off.contains("-echo"), "{echo_off}");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{DEFAULT_PASSWORD}\r").as_bytes())
        .expect("type the password");
    let mut screen = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut screen)
        .expect("read the screen");
    let status = child.wait().expect("wait");
    drop(stdin);
    assert!(status.success(), "{screen}");
    assert!(
        screen.contains(&format!("Password for {DEFAULT_USER}@{DEFAULT_ORG}: ")),
        "{screen}"
    );
    // The login worked with the typed password, which the screen never shows (the
    // simulator's password is also its org's name: look after the prompt only).
    let after_prompt = screen.split("Password for").nth(1).expect("prompt");
    let after_prompt = after_prompt.split_once(": ").map_or("", |(_, r)| r);
    assert!(after_prompt.contains("SERVICE"), "{screen}");
    let before_output = after_prompt.split("SERVICE").next().unwrap_or_default();
    assert!(
        !before_output.contains(DEFAULT_PASSWORD),
        "echoed: {screen:?}"
    );
    rt.block_on(sim.shutdown());
}
