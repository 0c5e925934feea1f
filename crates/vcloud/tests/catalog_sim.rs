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
