//! pyvcloud 23.0.4's org vDC network calls (`VDC.create_isolated_vdc_network`,
//! `list_orgvdc_network_records`, `list_orgvdc_network_resources`,
//! `get_isolated_orgvdc_network`, `delete_isolated_orgvdc_network`) against the vCloud
//! simulator at API 32 and 36, values checked. Skipped without `$NEBULAIR_PYTHON`,
//! except under CI.

mod pyvcloud_common;

use nebulair_sim::vcloud::VcloudSimulator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_creates_lists_and_deletes_isolated_networks() {
    let sim = VcloudSimulator::builder()
        .task_duration(std::time::Duration::from_millis(30))
        .start()
        .await
        .expect("simulator starts");
    let Some(got) = pyvcloud_common::run("pyvcloud_networks.py", &sim).await else {
        return;
    };
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
