//! Metrics against the vCloud simulator: a vDC across several pages with filters
//! (including a metric some VMs lack), and per-VM collection with or without `vm-`.

use std::sync::Arc;

use futures::TryStreamExt;
use nebulair_core::{HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport};
use nebulair_sim::vcloud::{
    DEFAULT_PASSWORD, DEFAULT_USER, VDC_DEV_ID, VDC_PROD_ID, VcloudSimulator,
};
use nebulair_vcloud::metrics::{MetricValue, Metrics, Unit};
use nebulair_vcloud::query::{Query, QueryType, VmRecord};
use nebulair_vcloud::session::VcaSession;

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

#[tokio::test]
async fn vdc_metrics_across_pages_with_filters() {
    let sim = VcloudSimulator::builder()
        .metrics_page_size(7)
        .start()
        .await
        .expect("sim");
    let sess = VcaSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .transport(transport())
        .build()
        .expect("build");
    let info = sess.login("VDC-Prod").await.expect("login");
    assert_eq!(info.org_uuid(), VDC_PROD_ID);
    let client = sess.client("VDC-Prod").expect("client");

    let filtered = Metrics::for_vdc(&client)
        .relative_interval(Unit::Minute, 10)
        .set_metric_filters(["cpu.ready.summation"])
        .add_metric_filters(["cpu.usage.average", "cpu.idle.summation"]);
    let data = filtered.collect().await.expect("collect");
    assert!(data.pages() > 1, "7 rows per page: {} pages", data.pages());
    assert!(data.vms().count() >= 2);
    assert!(data.sample_count() >= data.vms().count() * 9);
    // The other vDC of the account, by id, with the same settings.
    let dev = Metrics::for_vdc_id(&client, VDC_DEV_ID)
        .relative_interval(Unit::Minute, 10)
        .set_metric_filters(filtered.metric_filters().to_vec())
        .collect()
        .await
        .expect("collect dev");
    let mut absent = 0;
    for per_ts in data.data().values().chain(dev.data().values()) {
        for metrics in per_ts.values() {
            assert_eq!(metrics.len(), 3, "exactly the filtered metrics");
            assert!(matches!(
                metrics.get("cpu.usage.average"),
                Some(MetricValue::Number(_))
            ));
            assert!(!metrics.contains_key("mem.usage.average"));
            if metrics.get("cpu.idle.summation") == Some(&MetricValue::Absent) {
                absent += 1;
            }
        }
    }
    assert!(
        absent > 0,
        "a VM without cpu.idle.summation gives Absent values"
    );

    // Without filters every metric is kept; an hour-long window ending 30 minutes ago.
    let all = Metrics::for_vdc(&client)
        .relative_interval(Unit::Hour, 1)
        .collect()
        .await
        .expect("collect all");
    let some = all
        .data()
        .values()
        .next()
        .and_then(|t| t.values().next())
        .expect("sample");
    assert!(some.contains_key("mem.usage.average"));
    sim.shutdown().await;
}

#[tokio::test]
async fn per_vm_metrics_accept_both_id_forms() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    let sess = VcaSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .transport(transport())
        .build()
        .expect("build");
    sess.login("vdc-prod").await.expect("login");
    let client = sess.client("vdc-prod").expect("client");
    let vms: Vec<VmRecord> = Query::new(QueryType::Vm)
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("vms");
    let a = vms[0].uuid().expect("uuid");
    let b = vms[1].uuid().expect("uuid");
    let data = Metrics::for_vms(&client, [format!("vm-{a}"), b.clone()])
        .relative_interval(Unit::Minute, 3)
        .collect()
        .await
        .expect("collect");
    let got: Vec<String> = data
        .vms()
        .map(|v| v.trim_start_matches("vm-").to_lowercase())
        .collect();
    assert!(got.contains(&a) && got.contains(&b), "{got:?}");
    let err = Metrics::for_vms(&client, ["vm-00000000-0000-4000-8000-000000000000"])
        .collect()
        .await
        .expect_err("unknown VM");
    assert!(err.is_not_found(), "{err}");
    sim.shutdown().await;
}
