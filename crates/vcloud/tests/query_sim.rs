//! The query service against the vCloud simulator: paging across pages with fields, a
//! filter and sorting; filters encoded for old and new API versions; `find_by_name`
//! with duplicate names in different case; typed records.

use std::collections::HashSet;
use std::sync::Arc;

use futures::TryStreamExt;
use nebulair_core::{Credentials, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::query::{
    EdgeGatewayRecord, Filter, OrgVdcRecord, Query, QueryType, VAppRecord, VAppTemplateRecord,
    VmRecord,
};
use nebulair_vcloud::session::{LoginMode, VcdSession};
use nebulair_vcloud::{ApiVersion, VcdClient};

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

async fn login(sim: &VcloudSimulatorHandle, version: &str) -> VcdClient {
    let sess = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .version(ApiVersion::new(version).expect("version"))
        .login_mode(LoginMode::Auto)
        .transport(transport())
        .build()
        .expect("build");
    sess.login().await.expect("login");
    sess.client().expect("client")
}

#[tokio::test]
async fn paging_with_fields_filter_and_sort() {
    let sim = VcloudSimulator::builder()
        .extra_vms(300)
        .start()
        .await
        .expect("sim");
    let client = login(&sim, "36.0").await;
    let query = Query::new(QueryType::Vm)
        .fields(["status", "containerName"])
        .filter(Filter::eq("status", "POWERED_OFF"))
        .sort_asc("name");

    let pages: Vec<_> = query.pages(&client).try_collect().await.expect("pages");
    assert!(
        pages.len() >= 3,
        "300+ records at 128 per page: {} pages",
        pages.len()
    );
    let total = pages[0].total.expect("total");
    let records: Vec<_> = pages.iter().flat_map(|p| p.records.clone()).collect();
    assert_eq!(records.len() as u64, total, "every record exactly once");
    assert!(
        records
            .iter()
            .all(|r| r.get("status") == Some("POWERED_OFF"))
    );
    assert!(
        records.iter().all(|r| r.name().is_some()),
        "name is always requested"
    );
    let uuids: HashSet<_> = records.iter().filter_map(|r| r.uuid()).collect();
    assert_eq!(uuids.len(), records.len());
    let names: Vec<&str> = records.iter().filter_map(|r| r.name()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(
        names.iter().map(|n| n.to_lowercase()).collect::<Vec<_>>(),
        sorted.iter().map(|n| n.to_lowercase()).collect::<Vec<_>>(),
        "sortAsc=name holds across pages"
    );

    // The same through the vcloudair result map.
    let results = query.execute(&client).await.expect("execute");
    assert_eq!(results.len() as u64, total);
    let any = results.records().values().next().expect("one");
    assert!(
        any.contains_key("status") && any.contains_key("containerName") && any.contains_key("name")
    );

    // A small page size gives more pages and the same records.
    let small: Vec<VmRecord> = query
        .clone()
        .page_size(50)
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("typed stream");
    assert_eq!(small.len() as u64, total);
    assert!(
        small
            .iter()
            .all(|v| v.status.as_deref() == Some("POWERED_OFF"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn default_page_size_is_not_the_server_25() {
    let sim = VcloudSimulator::builder()
        .extra_vms(60)
        .start()
        .await
        .expect("sim");
    let client = login(&sim, "36.0").await;
    let pages: Vec<_> = Query::new(QueryType::Vm)
        .pages(&client)
        .try_collect()
        .await
        .expect("pages");
    assert_eq!(pages.len(), 1, "66 VMs fit one page of 128");
    assert_eq!(pages[0].page_size, Some(128));
    sim.shutdown().await;
}

#[tokio::test]
async fn filters_for_old_and_new_versions_agree() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    for version in ["32.0", "36.0"] {
        let client = login(&sim, version).await;
        let web = Query::new(QueryType::Vm)
            .filter(Filter::eq("name", "web*"))
            .execute(&client)
            .await
            .expect("wildcard");
        assert_eq!(web.len(), 3, "{version}: web-01, web-02, WEB-01");
        // Separators inside a value are data, not syntax.
        let odd = Query::new(QueryType::Vm)
            .filter(Filter::eq("name", "a;b,c(d)"))
            .execute(&client)
            .await
            .expect("special characters");
        assert!(odd.is_empty(), "{version}");
        let either = Query::new(QueryType::VApp)
            .filter(Filter::eq("name", "jenkins").or(Filter::eq("name", "db-tier")))
            .execute(&client)
            .await
            .expect("or");
        assert_eq!(either.len(), 2, "{version}");
        // A raw FIQL string works too.
        let raw = Query::new(QueryType::VApp)
            .filter("name==db-tier")
            .execute(&client)
            .await
            .expect("raw");
        assert_eq!(raw.len(), 1, "{version}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn find_by_name_returns_every_case_variant() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    let client = login(&sim, "36.0").await;
    let vapps = Query::new(QueryType::VApp)
        .execute(&client)
        .await
        .expect("vapps");
    let hits = vapps.find_by_name("WEB-tier");
    assert_eq!(hits.len(), 2, "web-tier and Web-Tier");
    for id in &hits {
        assert_eq!(id, &id.to_lowercase());
        assert!(vapps.get(&id.to_uppercase()).is_some());
    }
    assert!(vapps.find_by_name("no-such-vapp").is_empty());
    let vms = Query::new(QueryType::Vm)
        .execute(&client)
        .await
        .expect("vms");
    assert_eq!(vms.find_by_name("web-01").len(), 2);
    let templates = Query::new(QueryType::VAppTemplate)
        .execute(&client)
        .await
        .expect("templates");
    assert_eq!(templates.find_by_name("centos7-base").len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn typed_records_for_every_canned_type() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    let client = login(&sim, "36.0").await;
    let vms: Vec<VmRecord> = Query::new(QueryType::Vm)
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("vm");
    assert!(vms.len() >= 6);
    assert!(vms.iter().all(|v| v.name.is_some() && v.uuid().is_some()));
    let vapps: Vec<VAppRecord> = Query::new(QueryType::VApp)
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("vApp");
    assert!(vapps.len() >= 5);
    let templates: Vec<VAppTemplateRecord> = Query::new(QueryType::VAppTemplate)
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("vAppTemplate");
    assert_eq!(templates.len(), 4);
    let edges: Vec<EdgeGatewayRecord> = Query::new(QueryType::EdgeGateway)
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("edgeGateway");
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].uuid().as_deref(), Some(EDGE_ID));
    let vdcs: Vec<OrgVdcRecord> = Query::new(QueryType::OrgVdc)
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("orgVdc");
    assert_eq!(vdcs.len(), 2);
    // A sort field and id records.
    let desc: Vec<VAppRecord> = Query::new(QueryType::VApp)
        .sort_desc("name")
        .id_records()
        .stream_typed(&client)
        .try_collect()
        .await
        .expect("idrecords");
    assert!(desc.iter().all(|r| {
        r.id.as_deref()
            .is_some_and(|i| i.starts_with("urn:vcloud:"))
    }));
    // An unknown query type is the server's error, typed.
    let err = Query::new("noSuchType")
        .execute(&client)
        .await
        .expect_err("bad type");
    assert_eq!(err.kind(), nebulair_core::ErrorKind::InvalidInput, "{err}");
    sim.shutdown().await;
}
