//! Catalogs against the vCD simulator: list, create, rename, publish, share, delete; the
//! items, media and vApp templates in them; lookups by name with typed errors. Every
//! change is read back from the server.

mod workload_common;

use nebulair_core::ErrorKind;
use nebulair_vcloud::workload::{AccessLevel, CatalogAccess, EntityKind, WorkloadError};
use workload_common::env;

#[tokio::test]
async fn catalog_lifecycle_with_state_reread() {
    let e = env().await;
    let org = e.ws.current_org();
    let names: Vec<String> = org
        .catalogs()
        .await
        .expect("list")
        .iter()
        .filter_map(|c| c.name())
        .collect();
    assert_eq!(names, vec!["Public".to_owned(), "DevOps".to_owned()]);

    let cat = org
        .create_catalog("isos", "ISO images")
        .await
        .expect("create");
    let doc = cat.get().await.expect("get");
    assert_eq!(doc.name.as_deref(), Some("isos"));
    assert_eq!(doc.description.as_deref(), Some("ISO images"));
    assert_eq!(doc.is_published, Some(false));
    assert!(
        doc.catalog_items
            .as_ref()
            .is_none_or(|i| i.catalog_items.is_empty())
    );
    // listed, and found by name without regard to case
    assert_eq!(org.catalogs().await.expect("list").len(), 3);
    assert_eq!(
        e.ws.catalog("ISOS").href().await.expect("by name"),
        cat.href().await.expect("href")
    );

    // a name the org uses is refused by the server, an empty one before sending
    let dup = org.create_catalog("ISOs", "").await.expect_err("dup");
    assert_eq!(
        dup.service().and_then(|s| s.code_name()),
        Some("DUPLICATE_NAME"),
        "{dup}"
    );
    let empty = org.create_catalog("  ", "").await.expect_err("empty");
    assert!(matches!(
        WorkloadError::of(&empty),
        Some(WorkloadError::InvalidValue { .. })
    ));

    // rename and describe, read back (the old name no longer resolves)
    let changed = cat
        .update(Some("install-media"), Some("Installers"))
        .await
        .expect("update");
    assert_eq!(changed.name.as_deref(), Some("install-media"));
    let again = e.ws.catalog("install-media").get().await.expect("re-read");
    assert_eq!(again.description.as_deref(), Some("Installers"));
    assert!(again.version_number.unwrap_or(0) >= 2);
    let gone = e.ws.catalog("isos").get().await.expect_err("old name");
    assert!(gone.is_not_found(), "{gone}");
    assert!(matches!(
        WorkloadError::of(&gone),
        Some(WorkloadError::NotFound {
            kind: EntityKind::Catalog,
            ..
        })
    ));
    // renaming onto another catalog's name is refused
    let clash = cat.update(Some("public"), None).await.expect_err("clash");
    assert_eq!(
        clash.service().and_then(|s| s.code_name()),
        Some("DUPLICATE_NAME")
    );

    // publish and withdraw
    cat.publish(true).await.expect("publish");
    assert_eq!(cat.get().await.expect("get").is_published, Some(true));
    cat.publish(false).await.expect("withdraw");
    assert_eq!(cat.admin().await.expect("admin").is_published, Some(false));

    // share: everyone read-only, plus the org with Change; read back with names
    assert_eq!(
        cat.access().await.expect("access"),
        CatalogAccess::private()
    );
    let org_href = org.href().await.expect("org href");
    let admin_org = org_href.replacen("/api/org/", "/api/admin/org/", 1);
    let stored = cat
        .set_access(&CatalogAccess::everyone().share(admin_org.clone(), AccessLevel::Change))
        .await
        .expect("share");
    assert_eq!(stored.everyone, Some(AccessLevel::ReadOnly));
    assert_eq!(stored.settings.len(), 1);
    assert_eq!(stored.settings[0].level, AccessLevel::Change);
    assert_eq!(stored.settings[0].subject_name.as_deref(), Some("nebulair"));
    assert_eq!(cat.access().await.expect("re-read"), stored);
    // levels vCD does not accept: typed errors before sending
    let bad = CatalogAccess::private().share(admin_org.clone(), AccessLevel::Other("Owner".into()));
    let err = cat.set_access(&bad).await.expect_err("bad level");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let bad_everyone = CatalogAccess {
        everyone: Some(AccessLevel::FullControl),
        settings: Vec::new(),
    };
    assert!(cat.set_access(&bad_everyone).await.is_err());
    // an unknown subject is refused by the server
    let unknown = CatalogAccess::private().share(
        admin_org.replace("000000000001", "0000000000ff"),
        AccessLevel::ReadOnly,
    );
    let err = cat.set_access(&unknown).await.expect_err("unknown subject");
    assert_eq!(err.http_status(), Some(403), "{err}");
    cat.set_access(&CatalogAccess::private())
        .await
        .expect("unshare");
    assert_eq!(
        cat.access().await.expect("re-read"),
        CatalogAccess::private()
    );

    // a catalog with items is deleted only recursively
    let public = e.ws.catalog("Public");
    let err = public.delete(false).await.expect_err("not empty");
    assert_eq!(err.http_status(), Some(400));
    assert!(err.to_string().contains("not empty"), "{err}");
    cat.delete(false).await.expect("delete empty");
    let err = e.ws.catalog("install-media").get().await.expect_err("gone");
    assert!(err.is_not_found());
    public.delete(true).await.expect("delete recursive");
    assert_eq!(org.catalogs().await.expect("list").len(), 1);
    let err =
        e.ws.vapp_template("ubuntu22-base")
            .get()
            .await
            .expect_err("gone");
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn items_media_and_templates_by_name() {
    let e = env().await;
    let public = e.ws.catalog("Public");
    let mut items: Vec<String> = public
        .items()
        .await
        .expect("items")
        .iter()
        .filter_map(|i| i.name())
        .collect();
    items.sort();
    assert_eq!(items, ["centos7-base", "ubuntu-22.04.iso", "ubuntu22-base"]);
    let templates: Vec<String> = public
        .templates()
        .await
        .expect("templates")
        .iter()
        .filter_map(|t| t.name())
        .collect();
    assert_eq!(templates.len(), 2);
    let media = public.media_list().await.expect("media");
    assert_eq!(media.len(), 1);
    let iso = public.media("ubuntu-22.04.iso").get().await.expect("media");
    assert_eq!(iso.image_type.as_deref(), Some("iso"));
    assert_eq!(iso.size, Some(1_474_873_344));
    assert_eq!(iso.status, Some(1));
    // the item's entity is the media; asking it for a template is a typed error
    let item = public.item("ubuntu-22.04.iso");
    assert_eq!(
        item.media()
            .await
            .expect("media")
            .href()
            .await
            .expect("href"),
        iso.href.clone().expect("href")
    );
    let err = item.template().await.expect_err("not a template");
    assert!(matches!(
        WorkloadError::of(&err),
        Some(WorkloadError::Missing { .. })
    ));
    // a template name is not a media name
    let err = public
        .media("centos7-base")
        .href()
        .await
        .expect_err("not media");
    assert!(matches!(
        WorkloadError::of(&err),
        Some(WorkloadError::NotFound {
            kind: EntityKind::Media,
            ..
        })
    ));
    // the same name in two catalogs (other case): exact match wins, else ambiguous
    let t =
        e.ws.vapp_template("CentOS7-Base")
            .get()
            .await
            .expect("exact");
    assert_eq!(t.name.as_deref(), Some("CentOS7-Base"));
    let err =
        e.ws.vapp_template("CENTOS7-BASE")
            .get()
            .await
            .expect_err("ambiguous");
    assert!(matches!(
        WorkloadError::of(&err),
        Some(WorkloadError::Ambiguous { .. })
    ));
    assert!(err.to_string().contains("DevOps"), "{err}");
    // narrowed to one catalog, the name is found
    let t =
        e.ws.catalog("DevOps")
            .template("centos7-base")
            .get()
            .await
            .expect("in DevOps");
    assert_eq!(t.name.as_deref(), Some("CentOS7-Base"));

    // deleting an item removes its entity; deleting a template entity removes its item
    item.delete().await.expect("delete item");
    assert!(public.media_list().await.expect("media").is_empty());
    let tpl = public.template("ubuntu22-base");
    tpl.delete().wait().await.expect("delete template");
    let left: Vec<String> = public
        .items()
        .await
        .expect("items")
        .iter()
        .filter_map(|i| i.name())
        .collect();
    assert_eq!(left, ["centos7-base"]);
}

#[tokio::test]
async fn capture_rename_and_media_in_a_vm() {
    use nebulair_vcloud::model::vcd::Section;
    use nebulair_vcloud::workload::{InstantiateParams, TransferOptions};

    let e = env().await;
    let devops = e.ws.catalog("DevOps");
    let source = e.ws.vdc("VDC-Prod").vapp("db-tier");
    let (tpl, task) = devops
        .capture_vapp(&source, "db-golden", "captured")
        .await
        .expect("capture");
    let done = e.ws.waiter().wait(&task).await.expect("capture task");
    assert_eq!(done.operation_name.as_deref(), Some("vdcCaptureTemplate"));
    let doc = tpl.get().await.expect("template");
    assert_eq!(doc.status, Some(8));
    let vms = doc.vm_templates();
    assert_eq!(vms.len(), 1);
    assert_eq!(vms[0].name.as_deref(), Some("db-01"));
    let cpus = vms[0].sections.iter().find_map(|s| match s {
        Section::VirtualHardwareSection(h) => h.cpu_count(),
        _ => None,
    });
    assert_eq!(cpus, Some(4));
    // the captured template instantiates like any other
    let app =
        e.ws.vdc("VDC-Prod")
            .instantiate(&tpl, InstantiateParams::new("db-copy").power_on(false))
            .wait()
            .await
            .expect("instantiate");
    let copy = app.get().await.expect("vapp");
    assert_eq!(copy.vms()[0].cpu_count(), Some(4));
    assert_eq!(copy.vms()[0].memory_mb(), Some(8192));
    // an empty name is refused before sending; a taken one by the server
    assert!(devops.capture_vapp(&source, " ", "").await.is_err());
    let dup = devops
        .capture_vapp(&source, "LAMP-STACK", "")
        .await
        .expect_err("dup");
    assert_eq!(
        dup.service().and_then(|s| s.code_name()),
        Some("DUPLICATE_NAME")
    );

    // rename and re-describe the template; the item follows
    tpl.update(Some("db-gold"), Some("golden image"))
        .wait()
        .await
        .expect("rename");
    let doc = devops.template("db-gold").get().await.expect("renamed");
    assert_eq!(doc.description.as_deref(), Some("golden image"));
    assert!(devops.template("db-golden").href().await.is_err());
    let err = tpl
        .update(Some("lamp-stack"), None)
        .wait()
        .await
        .expect_err("dup");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("DUPLICATE_NAME")
    );

    // an uploaded ISO in a VM's CD drive cannot be deleted until it is ejected
    let dir = tempfile::tempdir().expect("tmp");
    let iso = dir.path().join("tools.iso");
    std::fs::write(&iso, vec![5u8; 4096]).expect("write");
    let report =
        e.ws.catalog("Public")
            .upload_media(&iso, &TransferOptions::default())
            .await
            .expect("upload");
    let media = report.media();
    let href = media.href().await.expect("href");
    let vm = e.ws.vdc("VDC-Prod").vapp("web-tier").vm("web-01");
    vm.insert_media(href.clone()).wait().await.expect("insert");
    let err = media.delete().wait().await.expect_err("inserted");
    assert_eq!(err.http_status(), Some(400));
    assert!(err.to_string().contains("inserted"), "{err}");
    vm.eject_media(href).wait().await.expect("eject");
    media
        .update(Some("vmware-tools.iso"), Some("guest tools"))
        .wait()
        .await
        .expect("rename media");
    let doc =
        e.ws.catalog("Public")
            .media("vmware-tools.iso")
            .get()
            .await
            .expect("renamed");
    assert_eq!(doc.description.as_deref(), Some("guest tools"));
    media.delete().wait().await.expect("delete");
    assert_eq!(
        e.ws.catalog("Public")
            .media_list()
            .await
            .expect("list")
            .len(),
        1
    );
}
