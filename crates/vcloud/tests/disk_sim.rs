//! Independent disks against the vCD simulator: create, list, get by name and id,
//! attach, detach, resize, delete, each re-read; refusals (delete while attached,
//! shrink, unknown name, bad values before sending).

mod workload_common;

use nebulair_core::ErrorKind;
use nebulair_vcloud::workload::{DiskBus, DiskError, Locator, NewDisk};
use workload_common::env;

const MB: u64 = 1024 * 1024;

#[tokio::test]
async fn disk_lifecycle_with_state_reread() {
    let e = env().await;
    let vdc = e.ws.vdc("VDC-Prod");
    assert!(vdc.disks().await.expect("list").is_empty());

    let (disk, task) = vdc
        .create_disk(
            &NewDisk::new("data-01", 512 * MB)
                .bus(DiskBus::ParaVirtual)
                .description("scratch space"),
        )
        .await
        .expect("create");
    e.ws.waiter().wait(&task).await.expect("create task");

    let doc = disk.get().await.expect("get");
    assert_eq!(doc.name, "data-01");
    assert_eq!(doc.size_bytes, 512 * MB);
    assert_eq!(doc.bus(), Some(DiskBus::ParaVirtual));
    assert_eq!(doc.description.as_deref(), Some("scratch space"));
    assert_eq!(doc.status, Some(1));
    assert_eq!(doc.storage_profile.as_deref(), Some("*"));

    // listed, and found by name (vDC scope, global scope, case-insensitive) and by id
    let list = vdc.disks().await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "data-01");
    assert_eq!(list[0].size_bytes, 512 * MB);
    assert!(!list[0].attached);
    assert_eq!(vdc.disk("DATA-01").href().await.expect("by name"), doc.href);
    assert_eq!(e.ws.disk("data-01").href().await.expect("global"), doc.href);
    let id = doc.id.clone().expect("id");
    let by_id = e.ws.disk(Locator::parse(&id)).get().await.expect("by id");
    assert_eq!(by_id.name, "data-01");
    // the other vDC does not have it
    let err =
        e.ws.vdc("VDC-Dev")
            .disk("data-01")
            .get()
            .await
            .expect_err("other vdc");
    assert!(err.is_not_found(), "{err}");
    assert!(matches!(
        DiskError::of(&err),
        Some(DiskError::NotFound { .. })
    ));

    // attach to a VM
    let vm = e.ws.vdc("VDC-Prod").vapp("db-tier").vm("db-01");
    disk.attach_to(&vm).wait().await.expect("attach");
    let vms = disk.attached_vms().await.expect("attached vms");
    assert_eq!(vms.len(), 1);
    assert_eq!(vms[0].0, "db-01");
    assert!(vdc.disks().await.expect("list")[0].attached);
    // attaching twice is refused by the server
    let err = disk.attach_to(&vm).wait().await.expect_err("twice");
    assert!(err.to_string().contains("already attached"), "{err}");

    // delete while attached: refused, the disk stays
    let err = disk.delete().wait().await.expect_err("attached");
    assert!(err.to_string().contains("attached"), "{err}");
    assert_eq!(vdc.disks().await.expect("list").len(), 1);

    // resize (grow), rename; shrinking is refused
    disk.resize(1024 * MB).wait().await.expect("resize");
    assert_eq!(disk.get().await.expect("get").size_bytes, 1024 * MB);
    let err = disk.resize(10 * MB).wait().await.expect_err("shrink");
    assert!(err.to_string().contains("cannot be shrunk"), "{err}");
    disk.update(Some("data-02".into()), Some("bigger".into()), None)
        .wait()
        .await
        .expect("update");
    let doc = disk.get().await.expect("get");
    assert_eq!(
        (
            doc.name.as_str(),
            doc.description.as_deref(),
            doc.size_bytes
        ),
        ("data-02", Some("bigger"), 1024 * MB)
    );

    // detach, then delete
    disk.detach_from(&vm).wait().await.expect("detach");
    assert!(disk.attached_vms().await.expect("vms").is_empty());
    let err = disk
        .detach_from(&vm)
        .wait()
        .await
        .expect_err("not attached");
    assert!(err.to_string().contains("not attached"), "{err}");
    disk.delete().wait().await.expect("delete");
    assert!(vdc.disks().await.expect("list").is_empty());
    let err = disk.get().await.expect_err("gone");
    assert!(
        matches!(err.kind(), ErrorKind::Authorization | ErrorKind::NotFound),
        "{err}"
    );
    assert!(err.to_string().contains("No access to entity"), "{err}");
    e.sim.shutdown().await;
}

#[tokio::test]
async fn bad_disk_input_is_refused() {
    let e = env().await;
    let vdc = e.ws.vdc("VDC-Prod");
    // typed errors before sending
    let err = vdc
        .create_disk(&NewDisk::new("x", 0))
        .await
        .expect_err("zero");
    assert!(matches!(
        DiskError::of(&err),
        Some(DiskError::InvalidValue {
            what: "disk size",
            ..
        })
    ));
    let err = vdc
        .create_disk(&NewDisk::new(" ", 1))
        .await
        .expect_err("no name");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // the server refuses a bus pair it does not know, and a disk beyond the allocation
    let err = vdc
        .create_disk(&NewDisk::new("x", MB).bus(DiskBus::Other {
            bus_type: "6".into(),
            sub_type: "floppy".into(),
        }))
        .await
        .expect_err("bus");
    assert!(err.to_string().contains("bus type"), "{err}");
    let err = vdc
        .create_disk(&NewDisk::new("huge", 4 << 40))
        .await
        .expect_err("allocation");
    assert!(err.to_string().contains("storage allocation"), "{err}");
    assert!(vdc.disks().await.expect("list").is_empty());
    // unknown names
    let err = vdc.disk("nope").delete().wait().await.expect_err("unknown");
    assert!(err.is_not_found(), "{err}");
    e.sim.shutdown().await;
}
