//! The workload handles against the vCD simulator: orgs, vDCs, catalogs, items,
//! templates, vApps and VMs by name and by every id form; missing and ambiguous names;
//! ids of the wrong kind.

mod workload_common;

use nebulair_core::ErrorKind;
use nebulair_vcloud::model::vcd::{HasLinks, Rel, VAppStatus};
use nebulair_vcloud::workload::{EntityKind, Locator, VcdId, WorkloadError};
use workload_common::{env, env_with};

#[tokio::test]
async fn orgs_vdcs_and_their_vapps_by_name_and_id() {
    let e = env().await;
    let org = e.client.org("NEBULAIR"); // org names compare case-insensitively
    let doc = org.get().await.expect("org");
    assert_eq!(doc.name.as_deref(), Some("nebulair"));
    let current = e.client.current_org().get().await.expect("current org");
    assert_eq!(current.id, doc.id);

    // API 36: the Org has no vDC links; the query service lists them.
    let mut vdcs: Vec<String> = org
        .vdcs()
        .await
        .expect("vdcs")
        .iter()
        .filter_map(|v| v.name())
        .collect();
    vdcs.sort();
    assert_eq!(vdcs, ["VDC-Dev", "VDC-Prod"]);

    let prod = e.client.vdc("VDC-Prod");
    let vdc = prod.get().await.expect("vdc");
    assert_eq!(vdc.name.as_deref(), Some("VDC-Prod"));
    let mut names: Vec<String> = prod
        .vapps()
        .await
        .expect("vapps")
        .iter()
        .filter_map(|v| v.name())
        .collect();
    names.sort();
    assert_eq!(names, ["db-tier", "empty-vapp", "web-tier"]);

    // The same vDC by urn, bare UUID and href.
    let id: VcdId = vdc.id.as_deref().expect("id").parse().expect("urn");
    assert_eq!(id.kind(), Some(EntityKind::Vdc));
    for loc in [
        Locator::Id(id),
        Locator::parse(&id.uuid().to_string()),
        Locator::parse(vdc.href.as_deref().expect("href")),
    ] {
        let again = e.client.vdc(loc.clone()).get().await.expect("by id");
        assert_eq!(again.id, vdc.id, "{loc}");
    }

    // A vApp in a vDC, its VMs, a VM by name inside it.
    let vapp = prod.vapp("web-tier");
    let doc = vapp.get().await.expect("vapp");
    assert_eq!(doc.status_typed(), Some(VAppStatus::PoweredOn));
    assert!(doc.has_link(&Rel::PowerOff));
    let vms = vapp.vms().await.expect("vms");
    let mut vm_names: Vec<String> = vms.iter().filter_map(|v| v.name()).collect();
    vm_names.sort();
    assert_eq!(vm_names, ["web-01", "web-02"]);
    let vm = vapp.vm("web-02").get().await.expect("vm");
    assert_eq!(vm.name.as_deref(), Some("web-02"));
    assert_eq!(vm.cpu_count(), Some(2));
    assert_eq!(vm.memory_mb(), Some(2048));
    // The VM by its urn, through the client, and by name through the query service.
    let by_urn = e
        .client
        .vm(vm.id.as_deref().expect("id"))
        .get()
        .await
        .expect("urn");
    assert_eq!(by_urn.href, vm.href);
    let by_name = e.client.vm("web-02").get().await.expect("name");
    assert_eq!(by_name.href, vm.href);
    let by_id = e
        .client
        .vapp(doc.id.as_deref().expect("id"))
        .get()
        .await
        .expect("vapp urn");
    assert_eq!(by_id.name, doc.name);
    e.sim.shutdown().await;
}

#[tokio::test]
async fn legacy_api_lists_vdcs_from_org_links() {
    let e = env_with("32.0", 30).await;
    let names: Vec<String> = e
        .client
        .current_org()
        .vdcs()
        .await
        .expect("vdcs")
        .iter()
        .filter_map(|v| v.name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let dev = e.client.vdc("VDC-Dev").get().await.expect("dev");
    assert_eq!(dev.name.as_deref(), Some("VDC-Dev"));
    e.sim.shutdown().await;
}

#[tokio::test]
async fn catalogs_items_and_templates() {
    let e = env().await;
    let mut cats: Vec<String> = e
        .client
        .current_org()
        .catalogs()
        .await
        .expect("catalogs")
        .iter()
        .filter_map(|c| c.name())
        .collect();
    cats.sort();
    assert_eq!(cats, ["DevOps", "Public"]);

    let public = e.client.catalog("Public");
    assert_eq!(
        public.get().await.expect("catalog").description.as_deref(),
        Some("Shared base images")
    );
    let mut items: Vec<String> = public
        .items()
        .await
        .expect("items")
        .iter()
        .filter_map(|i| i.name())
        .collect();
    items.sort();
    assert_eq!(items, ["centos7-base", "ubuntu-22.04.iso", "ubuntu22-base"]);

    // A template through its catalog item, through the catalog, and through the query.
    let item = public.item("ubuntu22-base");
    let via_item = item
        .template()
        .await
        .expect("template")
        .get()
        .await
        .expect("get");
    assert_eq!(via_item.name.as_deref(), Some("ubuntu22-base"));
    assert_eq!(via_item.vm_templates().len(), 1);
    let via_catalog = public
        .template("ubuntu22-base")
        .get()
        .await
        .expect("catalog template");
    assert_eq!(via_catalog.href, via_item.href);
    let via_query = e
        .client
        .vapp_template("lamp-stack")
        .get()
        .await
        .expect("query");
    assert_eq!(via_query.vm_templates().len(), 2);
    let by_id = e
        .client
        .vapp_template(via_query.id.as_deref().expect("id"))
        .get()
        .await
        .expect("by id");
    assert_eq!(by_id.name.as_deref(), Some("lamp-stack"));

    // "centos7-base" (Public) and "CentOS7-Base" (DevOps) differ in case only: the exact
    // name wins; a case-insensitive-only match of two is ambiguous.
    let exact = e
        .client
        .vapp_template("CentOS7-Base")
        .get()
        .await
        .expect("exact");
    assert_eq!(exact.name.as_deref(), Some("CentOS7-Base"));
    let err = e
        .client
        .vapp_template("CENTOS7-BASE")
        .get()
        .await
        .expect_err("ambiguous");
    match WorkloadError::of(&err) {
        Some(WorkloadError::Ambiguous { candidates, .. }) => {
            assert_eq!(candidates.len(), 2, "{candidates:?}");
            assert!(
                candidates.iter().any(|c| c.contains("DevOps")),
                "{candidates:?}"
            );
        }
        other => panic!("{other:?} {err}"),
    }

    // A media item holds no template: typed error, not a panic.
    let err = public
        .item("ubuntu-22.04.iso")
        .template()
        .await
        .expect_err("media");
    assert!(
        matches!(WorkloadError::of(&err), Some(WorkloadError::Missing { .. })),
        "{err}"
    );
    e.sim.shutdown().await;
}

#[tokio::test]
async fn missing_ambiguous_and_wrong_kind() {
    let e = env().await;
    // Unknown names in every scope.
    for err in [
        e.client.org("nope").get().await.map(drop).expect_err("org"),
        e.client.vdc("nope").get().await.map(drop).expect_err("vdc"),
        e.client
            .catalog("nope")
            .get()
            .await
            .map(drop)
            .expect_err("catalog"),
        e.client
            .catalog("Public")
            .item("nope")
            .get()
            .await
            .map(drop)
            .expect_err("item"),
        e.client
            .vapp_template("nope")
            .get()
            .await
            .map(drop)
            .expect_err("template"),
        e.client
            .vapp("nope")
            .get()
            .await
            .map(drop)
            .expect_err("vapp"),
        e.client
            .vdc("VDC-Prod")
            .vapp("nope")
            .get()
            .await
            .map(drop)
            .expect_err("vapp in vdc"),
        e.client.vm("nope").get().await.map(drop).expect_err("vm"),
        e.client
            .vapp("db-tier")
            .vm("nope")
            .get()
            .await
            .map(drop)
            .expect_err("vm in vapp"),
    ] {
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(
            matches!(
                WorkloadError::of(&err),
                Some(WorkloadError::NotFound { .. })
            ),
            "{err}"
        );
    }
    let err = e
        .client
        .vdc("VDC-Prod")
        .vapp("nope")
        .get()
        .await
        .expect_err("scope");
    assert!(err.to_string().contains("VDC-Prod"), "{err}");

    // "web-tier" in VDC-Prod and "Web-Tier" in VDC-Dev: the exact name picks one; a VM
    // name shared across vApps is ambiguous and names the vApps.
    let exact = e.client.vapp("Web-Tier").get().await.expect("exact case");
    assert_eq!(exact.name.as_deref(), Some("Web-Tier"));
    let err = e
        .client
        .vapp("WEB-TIER")
        .get()
        .await
        .expect_err("ambiguous");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("vDC VDC-Prod") && err.to_string().contains("vDC VDC-Dev"),
        "{err}"
    );
    let err = e.client.vm("Web-01").get().await.expect_err("ambiguous vm");
    assert!(err.to_string().contains("vApp web-tier"), "{err}");

    // An id of another kind is refused before anything is sent; an unknown id is the
    // server's error.
    let vapp = e.client.vapp("db-tier").get().await.expect("vapp");
    let err = e
        .client
        .vm(vapp.id.as_deref().expect("id"))
        .get()
        .await
        .expect_err("kind");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not of a VM"), "{err}");
    let err = e
        .client
        .vm("vm-00000000-0000-4000-8000-000000000000")
        .get()
        .await
        .expect_err("unknown id");
    assert!(err.service().and_then(|s| s.code_name()).is_some(), "{err}");
    e.sim.shutdown().await;
}
