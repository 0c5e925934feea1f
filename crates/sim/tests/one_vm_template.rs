//! A VM's TEMPLATE as oned completes it, read back with `OneClient`: an image disk filled
//! from the image and its datastore (and the image marked in use), targets per device
//! prefix, the boot ORDER, boolean FEATURES as YES, the CONTEXT variables and the ETH0_
//! network context, the automatic requirements from the clusters, the security group
//! rules of the NIC, and at deployment the system datastore on volatile disks and the
//! VNC port; terminate gives the image and the port back.

use std::time::Duration;

use nebulair_opennebula::api::{UpdateType, VmAction};
use nebulair_opennebula::ids::{DatastoreId, UserId, VmId};
use nebulair_opennebula::pool::PoolFilter;
use nebulair_opennebula::template::Vector;
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

fn disks(t: &Template) -> Vec<&Vector> {
    t.vectors("DISK").collect()
}

async fn wait_lcm(sim: &OneSimHandle, c: &OneClient, id: VmId, state: i64, lcm: i64) {
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

#[tokio::test]
async fn vm_template_completed_like_oned() {
    let (sim, c) = start().await;
    c.user(UserId::new(0))
        .update(
            &tpl("SSH_PUBLIC_KEY = \"ssh-ed25519 AAAAC3 me@host\""),
            UpdateType::Merge,
        )
        .await
        .expect("user update");
    let img = c
        .images()
        .allocate(
            &tpl("NAME = \"data\"\nTYPE = \"DATABLOCK\"\nSIZE = \"16\""),
            DatastoreId::new(1),
        )
        .await
        .expect("image");
    // on hold, to read it before the scheduler deploys it
    let id = c
        .vms()
        .allocate_with(&tpl(&format!(
            "NAME = \"tvm\"\nCPU = \"1\"\nMEMORY = \"64\"\n\
             DISK = [ IMAGE_ID = \"{}\" ]\n\
             DISK = [ TYPE = \"fs\", SIZE = \"8\", DEV_PREFIX = \"vd\" ]\n\
             NIC = [ NETWORK = \"public\" ]\n\
             CONTEXT = [ NETWORK = \"YES\", SSH_PUBLIC_KEY = \"$USER[SSH_PUBLIC_KEY]\", HOSTNAME = \"$NAME\", WHO = \"$UNAME\" ]\n\
             GRAPHICS = [ TYPE = \"VNC\", LISTEN = \"0.0.0.0\" ]\n\
             OS = [ BOOT = \"disk1,disk0\" ]\n\
             FEATURES = [ ACPI = \"yes\", APIC = \"no\" ]",
            img.get()
        )), true)
        .await
        .expect("allocate");

    let vm = c.vm(id).info().await.expect("info");
    let t = &vm.template;
    let d = disks(t);
    assert_eq!(d.len(), 2);
    let image_disk = d[0];
    for (k, v) in [
        ("IMAGE", "data"),
        ("IMAGE_ID", img.get().to_string().as_str()),
        ("DATASTORE", "default"),
        ("DATASTORE_ID", "1"),
        ("CLUSTER_ID", "0"),
        ("CLONE", "YES"),
        ("SAVE", "NO"),
        ("READONLY", "NO"),
        ("TYPE", "FILE"),
        ("DISK_TYPE", "FILE"),
        ("FORMAT", "raw"),
        ("DRIVER", "raw"),
        ("SIZE", "16"),
        ("ORIGINAL_SIZE", "16"),
        ("IMAGE_STATE", "2"),
        ("DEV_PREFIX", "sd"),
        ("TARGET", "sda"),
        ("PERSISTENT_SNAPSHOTS", "YES"),
        ("ORDER", "2"),
        ("DISK_ID", "0"),
    ] {
        assert_eq!(image_disk.get(k), Some(v), "image disk {k}: {image_disk:?}");
    }
    assert!(image_disk.get("ALLOW_ORPHANS").is_some());
    assert!(image_disk.get("SOURCE").is_some());
    let volatile = d[1];
    assert_eq!(volatile.get("TARGET"), Some("vda"));
    assert_eq!(volatile.get("ORDER"), Some("1"));
    assert_eq!(
        volatile.get("DRIVER"),
        None,
        "volatile disks get DRIVER at deploy"
    );
    assert_eq!(
        t.get_str("AUTOMATIC_REQUIREMENTS"),
        Some("(CLUSTER_ID = 0) & !(PIN_POLICY = PINNED)")
    );
    assert_eq!(
        t.get_str("AUTOMATIC_DS_REQUIREMENTS"),
        Some("(\"CLUSTERS/ID\" @> 0)")
    );
    assert_eq!(
        t.get_str("AUTOMATIC_NIC_REQUIREMENTS"),
        Some("(\"CLUSTERS/ID\" @> 0)")
    );
    let features = t.get_vector("FEATURES").expect("features");
    assert_eq!(features.get("ACPI"), Some("YES"));
    assert_eq!(features.get("APIC"), Some("NO"));
    let nic = t.vectors("NIC").next().expect("nic");
    let ctx = t.get_vector("CONTEXT").expect("context");
    assert_eq!(
        ctx.get("SSH_PUBLIC_KEY"),
        Some("ssh-ed25519 AAAAC3 me@host")
    );
    assert_eq!(ctx.get("HOSTNAME"), Some("tvm"));
    assert_eq!(ctx.get("WHO"), Some("oneadmin"));
    assert_eq!(ctx.get("DISK_ID"), Some("2"));
    assert_eq!(ctx.get("TARGET"), Some("hda"));
    assert_eq!(ctx.get("ETH0_IP"), nic.get("IP"));
    assert_eq!(ctx.get("ETH0_MAC"), nic.get("MAC"));
    for k in [
        "DNS",
        "EXTERNAL",
        "GATEWAY",
        "IP6",
        "IP6_GATEWAY",
        "IP6_METHOD",
        "IP6_METRIC",
        "IP6_PREFIX_LENGTH",
        "IP6_ULA",
        "MASK",
        "METHOD",
        "METRIC",
        "MTU",
        "NETWORK",
        "ROUTES",
        "SEARCH_DOMAIN",
        "VLAN_ID",
        "VROUTER_IP",
        "VROUTER_IP6",
        "VROUTER_MANAGEMENT",
    ] {
        assert!(
            ctx.get(&format!("ETH0_{k}")).is_some(),
            "ETH0_{k} in {ctx:?}"
        );
    }
    assert_eq!(nic.get("NETWORK_UNAME"), None, "oned adds no NETWORK_UNAME");
    let rules: Vec<&Vector> = t.vectors("SECURITY_GROUP_RULE").collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(rules.iter().all(|r| r.get("SECURITY_GROUP_ID") == Some("0")
        && r.get("SECURITY_GROUP_NAME") == Some("default")));
    assert!(
        t.get_vector("GRAPHICS")
            .is_some_and(|g| g.get("PORT").is_none()),
        "the port comes at deployment"
    );
    let image = c.image(img).info().await.expect("image info");
    assert_eq!(image.running_vms, Some(1));
    assert_eq!(image.state, Some(2), "USED");

    // deployed: the volatile disk gets the system datastore, GRAPHICS its port
    c.vm(id).action(VmAction::Release).await.expect("release");
    wait_lcm(&sim, &c, id, 3, 3).await;
    let vm = c.vm(id).info().await.expect("info");
    let t = &vm.template;
    let volatile = disks(t)[1];
    assert_eq!(volatile.get("DRIVER"), Some("raw"));
    assert_eq!(volatile.get("FORMAT"), Some("raw"));
    assert_eq!(volatile.get("DISK_TYPE"), Some("FILE"));
    assert!(volatile.get("DATASTORE_ID").is_some());
    let port = 5900 + i64::from(id.get());
    assert_eq!(
        t.get_vector("GRAPHICS").and_then(|g| g.get("PORT")),
        Some(port.to_string().as_str())
    );

    // a hot-plugged image disk: next free id (the context CD has 2) and target, and the
    // VM's TM_MAD_SYSTEM
    c.vm(id)
        .attach(&tpl(&format!("DISK = [ IMAGE_ID = \"{}\" ]", img.get())))
        .await
        .expect("attach");
    wait_lcm(&sim, &c, id, 3, 3).await;
    let vm = c.vm(id).info().await.expect("info");
    let d = disks(&vm.template);
    let hot = d.last().expect("attached");
    assert_eq!(hot.get("DISK_ID"), Some("3"));
    assert_eq!(hot.get("TARGET"), Some("sdb"));
    assert!(hot.get("TM_MAD_SYSTEM").is_some());
    assert_eq!(
        c.image(img).info().await.expect("image").running_vms,
        Some(1),
        "one VM, however many disks"
    );
    // a hot-plugged NIC gets its ETH1_ context, which goes with it
    c.vm(id)
        .attachnic(&tpl("NIC = [ NETWORK = \"public\" ]"))
        .await
        .expect("attach nic");
    wait_lcm(&sim, &c, id, 3, 3).await;
    let v = c.vm(id).info().await.expect("info");
    let nic1 = v
        .template
        .vectors("NIC")
        .find(|n| n.get("NIC_ID") == Some("1"))
        .expect("nic 1");
    let ctx = v.template.get_vector("CONTEXT").expect("context");
    assert_eq!(ctx.get("ETH1_IP"), nic1.get("IP"));
    assert!(ctx.get("ETH0_IP").is_some());
    c.vm(id).detachnic(1).await.expect("detach nic");
    wait_lcm(&sim, &c, id, 3, 3).await;
    let v = c.vm(id).info().await.expect("info");
    let ctx = v.template.get_vector("CONTEXT").expect("context");
    assert_eq!(ctx.get("ETH1_IP"), None);
    assert!(ctx.get("ETH0_IP").is_some());
    // the attach closed a history record (DISK_ATTACH = 21) and opened the next
    let acts: Vec<Option<i64>> = vm
        .history_records
        .iter()
        .flat_map(|r| r.history.iter().map(|h| h.action))
        .collect();
    assert!(acts.contains(&Some(21)), "{acts:?}");

    // the image and the port are given back when the VM leaves
    c.vm(id)
        .action(VmAction::TerminateHard)
        .await
        .expect("terminate");
    wait_lcm(&sim, &c, id, 6, 0).await;
    let vm = c.vm(id).info().await.expect("info");
    assert!(
        vm.template
            .get_vector("GRAPHICS")
            .is_some_and(|g| g.get("PORT").is_none())
    );
    let image = c.image(img).info().await.expect("image info");
    assert_eq!(image.running_vms, Some(0));
    assert_eq!(image.state, Some(1), "READY again");
    sim.shutdown().await;
}

#[tokio::test]
async fn vm_allocate_errors_like_oned() {
    let (sim, c) = start().await;
    let err = c
        .vms()
        .allocate(&tpl(
            "NAME = \"x\"\nCPU = \"1\"\nMEMORY = \"64\"\nDISK = [ IMAGE_ID = \"999\" ]",
        ))
        .await
        .expect_err("no image");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Internal));
    assert!(
        err.message()
            .ends_with("DISK 0: Image with ID: 999 does not exist"),
        "{err}"
    );
    let err = c
        .vms()
        .allocate(&tpl(
            "NAME = \"x\"\nCPU = \"1\"\nMEMORY = \"64\"\nDISK = [ IMAGE = \"nope\" ]",
        ))
        .await
        .expect_err("no image by name");
    assert!(
        err.message().ends_with(
            "DISK 0: User 0 does not own an image with name: nope . Set IMAGE_UNAME or IMAGE_UID of owner in DISK."
        ),
        "{err}"
    );
    let err = c
        .vms()
        .allocate(&tpl(
            "NAME = \"x\"\nCPU = \"1\"\nMEMORY = \"64\"\nDISK = [ SIZE = 1, TYPE = fs ]\nOS = [ BOOT = \"disk4\" ]",
        ))
        .await
        .expect_err("bad boot");
    assert!(
        err.message()
            .ends_with("Wrong OS/BOOT value. Device with DISK_ID 4 not found"),
        "{err}"
    );
    // nothing was left behind: no VM, the network's lease free
    let pool = c.vms().info(&PoolFilter::all()).await.expect("pool");
    assert!(pool.vm.is_empty(), "{pool:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_network_lists_its_virtual_routers() {
    let (sim, c) = start().await;
    let vnet = nebulair_opennebula::ids::VnetId::new(0);
    assert!(c.vnet(vnet).info().await.expect("vnet").vrouters.is_empty());
    let vr = c
        .vrouters()
        .allocate(&tpl("NAME = \"gw\"\nNIC = [ NETWORK_ID = \"0\" ]"))
        .await
        .expect("vrouter");
    assert_eq!(c.vnet(vnet).info().await.expect("vnet").vrouters, vec![vr]);
    // the router's NIC names its network, as oned fills it
    let r = c.vrouter(vr).info().await.expect("vrouter");
    let nic = r.template.vectors("NIC").next().expect("nic");
    assert_eq!(nic.get("NETWORK"), Some("public"));
    assert_eq!(nic.get("NIC_ID"), Some("0"));
    sim.shutdown().await;
}

#[tokio::test]
async fn datastores_take_oned_conf_tm_mad_attributes() {
    let (sim, c) = start().await;
    let cl = nebulair_opennebula::ids::ClusterId::new(-1);
    let sys = c
        .datastores()
        .allocate(
            &tpl("NAME = \"sys\"\nTYPE = \"SYSTEM_DS\"\nTM_MAD = \"dummy\""),
            cl,
        )
        .await
        .expect("system ds");
    let d = c.datastore(sys).info().await.expect("ds");
    for (k, v) in [
        ("SHARED", "YES"),
        ("DS_MIGRATE", "YES"),
        ("ALLOW_ORPHANS", "NO"),
        ("PERSISTENT_SNAPSHOTS", "YES"),
    ] {
        assert_eq!(d.template.get_str(k), Some(v), "{k}");
    }
    assert_eq!(d.template.get_str("LN_TARGET"), None);
    // the dummy TM's monitor numbers
    assert_eq!(
        (d.total_mb, d.free_mb, d.used_mb),
        (Some(4_796_800), Some(3_333_260), Some(1_429_920))
    );
    let img = c
        .datastores()
        .allocate(
            &tpl("NAME = \"img\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\""),
            cl,
        )
        .await
        .expect("image ds");
    let d = c.datastore(img).info().await.expect("ds");
    assert_eq!(d.template.get_str("LN_TARGET"), Some("NONE"));
    assert_eq!(d.template.get_str("CLONE_TARGET"), Some("SYSTEM"));
    assert_eq!(
        (d.total_mb, d.free_mb, d.used_mb),
        (Some(20_480), Some(20_480), Some(9_720))
    );
    let err = c
        .datastores()
        .allocate(
            &tpl("NAME = \"bad\"\nDS_MAD = \"dummy\"\nTM_MAD = \"nope\""),
            cl,
        )
        .await
        .expect_err("unknown TM");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Internal));
    assert!(
        err.message()
            .ends_with("TM_MAD named \"nope\" is not defined in oned.conf"),
        "{err}"
    );
    sim.shutdown().await;
}
