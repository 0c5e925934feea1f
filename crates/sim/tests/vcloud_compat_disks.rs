//! pyvcloud 23.0.4's independent-disk calls (`VDC.create_disk`, `get_disk`, `get_disks`,
//! `list_idisk`, `VApp.attach_disk_to_vm`, `detach_disk_from_vm`, `delete_disk`) against
//! the vCloud simulator, at API 32 (size in bytes) and 36 (`sizeMb`). Skipped without
//! `$NEBULAIR_PYTHON`, except under CI.

mod pyvcloud_common;

use nebulair_sim::vcloud::VcloudSimulator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_creates_lists_and_deletes_disks() {
    let sim = VcloudSimulator::builder()
        .task_duration(std::time::Duration::from_millis(30))
        .start()
        .await
        .expect("simulator starts");
    let Some(out) = pyvcloud_common::run("pyvcloud_disks.py", &sim).await else {
        return;
    };
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
