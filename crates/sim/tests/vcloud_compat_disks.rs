//! pyvcloud 23.0.4's independent-disk calls (`VDC.create_disk`, `get_disk`, `get_disks`,
//! `list_idisk`, `VApp.attach_disk_to_vm`, `detach_disk_from_vm`, `delete_disk`) against
//! the vCloud simulator, at API 32 (size in bytes) and 36 (`sizeMb`). Skipped without `$NEBULAIR_PYTHON`, except under CI.

use std::path::PathBuf;
use std::process::Command;

use nebulair_sim::vcloud::VcloudSimulator;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_creates_lists_and_deletes_disks() {
    let py = match std::env::var_os("NEBULAIR_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "NEBULAIR_PYTHON must be set under CI"
            );
            println!("skipped: NEBULAIR_PYTHON is not set");
            return;
        }
    };
    let sim = VcloudSimulator::builder()
        .task_duration(std::time::Duration::from_millis(30))
        .start()
        .await
        .expect("simulator starts");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut cmd = Command::new(py);
    cmd.arg(dir.join("pyvcloud_disks.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("SIM_BASE", sim.base_url().as_str())
        .env("SIM_TMP", std::env::temp_dir())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .current_dir(std::env::temp_dir());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("thread")
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "script failed:\n{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line:\n{stdout}\n{stderr}"));
    let out: Value = serde_json::from_str(line).expect("json");
    for v in ["32.0", "36.0"] {
        let name = format!("py-disk-{v}");
        assert_eq!(
            out[v],
            json!({
                "name": name,
                "size": (64u64 << 20).to_string(),
                "busSubType": "VirtualSCSI",
                "description": "from pyvcloud",
                "attached": [],
                "attached_after": ["db-01"],
                "detached_after": [],
                "by_id": name,
                "listed": [name],
                "gone": true,
            }),
            "{v}"
        );
    }
    sim.shutdown().await;
}
