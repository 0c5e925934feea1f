//! Image snapshots as oned keeps them, read back with `OneClient`: a persistent image's
//! disk snapshots are saved into the image when the VM lets the disk go, the next VM's
//! disk starts from them, and `one.image.snapshotrevert/delete/flatten` work on them with
//! oned's checks and texts.

use std::time::Duration;

use nebulair_opennebula::api::VmAction;
use nebulair_opennebula::ids::{DatastoreId, ImageId, VmId};
use nebulair_opennebula::{Credentials, OneClient, OneErrorCode, Template};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

async fn start() -> (OneSimHandle, OneClient) {
    let sim = OneSimulator::builder().start().await.expect("simulator");
    let client = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("client");
    (sim, client)
}

fn tpl(text: &str) -> Template {
    Template::parse(text).expect("template")
}

async fn wait(sim: &OneSimHandle, c: &OneClient, id: VmId, state: i64, lcm: i64) {
    for _ in 0..4000 {
        sim.run_scheduler();
        let vm = c.vm(id).info().await.expect("info");
        if vm.state == Some(state) && vm.lcm_state == Some(lcm) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("VM {id:?} never reached {state}/{lcm}");
}

async fn vm_with(sim: &OneSimHandle, c: &OneClient, img: ImageId) -> VmId {
    let id = c
        .vms()
        .allocate(&tpl(&format!(
            "NAME = \"v\"\nCPU = \"1\"\nMEMORY = \"64\"\nDISK = [ IMAGE_ID = \"{}\" ]",
            img.get()
        )))
        .await
        .expect("allocate");
    wait(sim, c, id, 3, 3).await;
    id
}

/// The image's snapshot ids, and the active one.
async fn image_snaps(c: &OneClient, img: ImageId) -> (Vec<i64>, Option<i64>, String) {
    let raw = c.image(img).info_raw().await.expect("raw").into_string();
    let part = raw
        .split("<SNAPSHOTS>")
        .nth(1)
        .and_then(|x| x.split("</SNAPSHOTS>").next())
        .unwrap_or("")
        .to_owned();
    let ids = part
        .split("<SNAPSHOT>")
        .skip(1)
        .filter_map(|x| {
            x.split("<ID>")
                .nth(1)
                .and_then(|y| y.split("</ID>").next())
                .and_then(|y| y.parse().ok())
        })
        .collect();
    let active = part
        .split("<SNAPSHOT>")
        .skip(1)
        .find(|x| x.contains("<ACTIVE>YES</ACTIVE>"))
        .and_then(|x| x.split("<ID>").nth(1))
        .and_then(|y| y.split("</ID>").next())
        .and_then(|y| y.parse().ok());
    (ids, active, part)
}

#[tokio::test]
async fn persistent_image_snapshots() {
    let (sim, c) = start().await;
    let img = c
        .images()
        .allocate(
            &tpl("NAME = \"data\"\nTYPE = \"DATABLOCK\"\nSIZE = \"16\"\nPERSISTENT = \"YES\""),
            DatastoreId::new(1),
        )
        .await
        .expect("image");
    let err = c.image(img).snapshotdelete(0).await.expect_err("none yet");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Action));
    assert!(err.message().ends_with("Snapshot does not exist"), "{err}");

    let vm = vm_with(&sim, &c, img).await;
    for name in ["s0", "s1"] {
        c.vm(vm)
            .disksnapshotcreate(0, name)
            .await
            .expect("disk snapshot");
        wait(&sim, &c, vm, 3, 3).await;
    }
    // in use: the image's snapshots cannot be touched
    let err = c.image(img).snapshotflatten(0).await.expect_err("in use");
    assert!(
        err.message()
            .ends_with("Cannot flatten snapshot in state USED_PERS"),
        "{err}"
    );
    c.vm(vm)
        .action(VmAction::TerminateHard)
        .await
        .expect("terminate");
    wait(&sim, &c, vm, 6, 0).await;
    let (ids, active, _) = image_snaps(&c, img).await;
    assert_eq!(ids, [0, 1], "the disk's snapshots are the image's now");
    assert_eq!(active, Some(1));

    // the next VM's disk starts from them
    let vm2 = vm_with(&sim, &c, img).await;
    let v = c.vm(vm2).info().await.expect("vm");
    let disk = v.template.vectors("DISK").next().expect("disk");
    assert_eq!(disk.get("DISK_SNAPSHOT_TOTAL_SIZE"), Some("32"));
    assert_eq!(v.snapshots.len(), 1, "the disk's SNAPSHOTS");
    c.vm(vm2)
        .action(VmAction::TerminateHard)
        .await
        .expect("terminate");
    wait(&sim, &c, vm2, 6, 0).await;

    c.image(img).snapshotrevert(0).await.expect("revert");
    let (_, active, _) = image_snaps(&c, img).await;
    assert_eq!(active, Some(0));
    for (sid, want) in [
        (0, "Cannot delete the active snapshot"),
        (9, "Snapshot does not exist"),
    ] {
        let err = c.image(img).snapshotdelete(sid).await.expect_err("refused");
        assert!(err.message().ends_with(want), "{err}");
    }
    c.image(img).snapshotdelete(1).await.expect("delete");
    assert_eq!(image_snaps(&c, img).await.0, [0]);
    c.image(img).snapshotflatten(0).await.expect("flatten");
    assert!(image_snaps(&c, img).await.0.is_empty());

    // only OS and DATABLOCK images have snapshots
    let cd = c
        .images()
        .allocate(
            &tpl("NAME = \"cd\"\nTYPE = \"CDROM\"\nPATH = \"/tmp/x.iso\""),
            DatastoreId::new(1),
        )
        .await
        .expect("cdrom");
    let err = c.image(cd).snapshotrevert(0).await.expect_err("cdrom");
    assert!(
        err.message().ends_with(
            "IMAGES of type KERNEL, RAMDISK, BACKUP, FILESYSTEM and CONTEXT does not have snapshots."
        ),
        "{err}"
    );
    sim.shutdown().await;
}
