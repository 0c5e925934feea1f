//! Runs one of the pyvcloud scripts of `tests/compat/` against a vCloud simulator and
//! returns the JSON of its `RESULT` line. Skipped (`None`) without `$NEBULAIR_PYTHON`,
//! except under CI, where it must be set.

use std::path::PathBuf;
use std::process::Command;

use nebulair_sim::vcloud::VcloudSimulatorHandle;
use serde_json::Value;

/// The script's `RESULT` JSON, or `None` when no Python is configured outside CI.
pub(crate) async fn run(script: &str, sim: &VcloudSimulatorHandle) -> Option<Value> {
    let py = match std::env::var_os("NEBULAIR_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "NEBULAIR_PYTHON must be set under CI"
            );
            println!("skipped: NEBULAIR_PYTHON is not set");
            return None;
        }
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut cmd = Command::new(py);
    cmd.arg(dir.join(script))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("SIM_BASE", sim.base_url().as_str())
        .env("SIM_TMP", tmp.path())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        // pyvcloud writes vcd_sdk.log into the working directory.
        .current_dir(tmp.path());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("thread")
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("{script}: no RESULT line:\n{stdout}\n{stderr}"));
    Some(serde_json::from_str(line).expect("json"))
}
