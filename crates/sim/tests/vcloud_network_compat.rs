//! pyvcloud 23.0.4's org vDC network calls (`VDC.create_isolated_vdc_network`,
//! `list_orgvdc_network_records`, `list_orgvdc_network_resources`,
//! `get_isolated_orgvdc_network`, `delete_isolated_orgvdc_network`) against the vCloud
//! simulator at API 32 and 36, values checked. Skipped without `$NEBULAIR_PYTHON`,
//! except under CI.

use std::path::PathBuf;
use std::process::Command;

use nebulair_sim::vcloud::VcloudSimulator;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_creates_lists_and_deletes_isolated_networks() {
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
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut cmd = Command::new(py);
    cmd.arg(dir.join("pyvcloud_networks.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("SIM_BASE", sim.base_url().as_str())
        .env("SIM_TMP", tmp.path())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .current_dir(tmp.path());
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
    let got: Value = serde_json::from_str(line).expect("json");
    for v in ["32.0", "36.0"] {
        let name = format!("py-iso-{v}");
        assert_eq!(
            got[v],
            json!({
                "records": [name],
                "linkType": ["DLR_UPLINK"],
                "fence": "isolated",
                "gateway": "10.77.0.1",
                "netmask": "255.255.255.0",
                "dns1": "10.77.0.53",
                "pool": ["10.77.0.100", "10.77.0.150"],
                "isolated": [name],
                "bad_pool": "BadRequestException",
                "gone": true,
            }),
            "{v}"
        );
    }
    sim.shutdown().await;
}
