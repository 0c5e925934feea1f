//! pyvcloud 23.0.4's org vDC network calls (`VDC.create_isolated_vdc_network`,
//! `list_orgvdc_network_records`, `list_orgvdc_network_resources`,
//! `list_orgvdc_isolated_networks`/`routed`, `get_isolated_orgvdc_network`,
//! `delete_isolated_orgvdc_network`) against the vCloud simulator, values checked. Skipped
//! without `$NEBULAIR_PYTHON`, except under CI.

use std::path::PathBuf;
use std::process::Command;

use nebulair_sim::vcloud::VcloudSimulator;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_creates_lists_and_deletes_org_vdc_networks() {
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
    cmd.arg(dir.join("pyvcloud_networks.py"))
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
    assert_eq!(
        out,
        json!({
            "records": ["default-routed", "py-isolated"],
            "network": {
                "name": "py-isolated",
                "description": "from pyvcloud",
                "fence": "isolated",
                "gateway": "10.50.0.1",
                "netmask": "255.255.255.0",
                "dns1": "10.50.0.2",
                "suffix": "py.example",
                "range": ["10.50.0.10", "10.50.0.20"],
                "shared": "False",
            },
            "isolated": ["py-isolated"],
            "routed": ["default-routed"],
            "by_name": ["py-isolated"],
            "duplicate": true,
            "gone": true,
        })
    );
    sim.shutdown().await;
}
