//! pyvcloud 23.0.4's vApp network calls (`VApp.create_vapp_network`,
//! `get_vapp_network_list`, `connect_org_vdc_network`, `disconnect_org_vdc_network`,
//! `delete_vapp_network`) against the vCloud simulator, the vApp's `NetworkConfigSection`
//! read back after each, and a pool outside the subnet refused by the server.

mod pyvcloud_common;

use nebulair_sim::vcloud::VcloudSimulator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_creates_connects_and_deletes_vapp_networks() {
    let sim = VcloudSimulator::builder()
        .task_duration(std::time::Duration::from_millis(30))
        .start()
        .await
        .expect("simulator starts");
    let Some(got) = pyvcloud_common::run("pyvcloud_vapp_networks.py", &sim).await else {
        return;
    };
    let default = json!({"fence": "bridged", "parent": "default-routed"});
    let iso = json!({
        "description": "from pyvcloud", "fence": "isolated", "gateway": "172.40.0.1",
        "netmask": "255.255.255.0", "ranges": ["172.40.0.10-172.40.0.20"],
    });
    assert_eq!(
        got,
        json!({
            "after_create": {"default-routed": default, "py-iso": iso},
            "list": ["default-routed", "py-iso"],
            "after_connect": {
                "default-routed": default,
                "py-iso": iso,
                "py-org": {"fence": "bridged", "parent": "py-org"},
            },
            "bad_range": true,
            "at_end": {"default-routed": default},
        })
    );
    sim.shutdown().await;
}
