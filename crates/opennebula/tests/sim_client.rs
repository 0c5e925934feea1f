//! `OneClient` against the OpenNebula simulator on loopback, one test per resource group
//! the simulator implements: the typed API end to end (requests, typed responses, typed
//! errors), not the raw XML-RPC (the simulator's own tests cover that).

use std::time::Duration;

use futures::TryStreamExt;
use nebulair_opennebula::acl::{AclRule, AclSet};
use nebulair_opennebula::api::{HostStatus, LockLevel, Permissions, UpdateType, VmAction};
use nebulair_opennebula::ids::{
    ClusterId, DatastoreId, GroupId, HostId, TemplateId, UserId, VdcId, VmId, VnetId, ZoneId,
};
use nebulair_opennebula::model::{HostState, ImageState, LcmState, VmState};
use nebulair_opennebula::pool::{PoolFilter, VmStateFilter};
use nebulair_opennebula::{Credentials, Error, ErrorKind, OneClient, OneErrorCode, Template};
use nebulair_sim::one::{Delays, OneSimHandle, OneSimulator};

async fn start() -> (OneSimHandle, OneClient) {
    let sim = OneSimulator::builder()
        .monitor_interval(Duration::from_millis(20))
        .start()
        .await
        .expect("simulator");
    let client = client_as(&sim, "oneadmin", "opennebula");
    (sim, client)
}

fn client_as(sim: &OneSimHandle, user: &str, password: &str) -> OneClient {
    OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password(user, password))
        .page_size(2)
        .build()
        .expect("client")
}

fn tpl(text: &str) -> Template {
    Template::parse(text).expect("template")
}

#[track_caller]
fn assert_one_error(err: &Error, code: OneErrorCode, kind: ErrorKind, fragment: &str) {
    assert_eq!(OneErrorCode::of(err), Some(code), "{err}");
    assert_eq!(err.kind(), kind, "{err}");
    assert!(err.to_string().contains(fragment), "{err}");
}

/// Runs the simulator's scheduler until the VM is in `state`/`lcm` (or fails).
async fn wait_vm(sim: &OneSimHandle, c: &OneClient, id: VmId, state: VmState, lcm: LcmState) {
    for _ in 0..200 {
        sim.run_scheduler();
        let vm = c.vm(id).info().await.expect("vm info");
        if vm.state() == Some(state) && (state != VmState::Active || vm.lcm_state() == Some(lcm)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let vm = c.vm(id).info().await.expect("vm info");
    panic!(
        "VM {id} never reached {state:?}/{lcm:?}: {:?}/{:?}",
        vm.state(),
        vm.lcm_state()
    );
}

#[tokio::test]
async fn system_version_config_and_error_mapping() {
    let (sim, c) = start().await;
    let version = c.system().version().await.expect("version");
    assert!(version.starts_with('7'), "{version}");
    let config = c.system().config().await.expect("config");
    let raw = c.system().config_raw().await.expect("raw config");
    assert_eq!(raw.root_name(), Some("OPENNEBULA_CONFIGURATION"));
    drop(config);

    let bad = client_as(&sim, "oneadmin", "wrong");
    let err = bad.hosts().info().await.expect_err("bad password");
    assert_one_error(
        &err,
        OneErrorCode::Authentication,
        ErrorKind::Authentication,
        "User couldn't be authenticated",
    );
    assert!(!err.to_string().contains("wrong"), "no secret in {err}");

    let err = c.vm(VmId::new(4242)).info().await.expect_err("missing VM");
    assert_one_error(
        &err,
        OneErrorCode::NoExists,
        ErrorKind::NotFound,
        "Error getting virtual machine [4242]",
    );
    assert!(err.is_not_found());

    // oned answers RPC_API for a filter flag below -4
    use nebulair_opennebula::rpc::RpcValue as V;
    let err = c
        .call(
            "vmpool.info",
            vec![V::Int(-9), V::Int(-1), V::Int(-1), V::Int(-1)],
        )
        .await
        .expect_err("bad filter flag");
    assert_one_error(
        &err,
        OneErrorCode::RpcApi,
        ErrorKind::InvalidInput,
        "Incorrect filter_flag.",
    );
}

#[tokio::test]
async fn users_groups_acls_and_quotas() {
    let (sim, c) = start().await;
    let devs = c.groups().allocate("devs").await.expect("group");
    assert_eq!(devs, GroupId::new(100));
    let alice = c
        .users()
        .allocate_with("alice", "alicepw", "core", &[devs])
        .await
        .expect("user");
    assert_eq!(alice, UserId::new(2));
    let err = c
        .users()
        .allocate("alice", "x", "core")
        .await
        .expect_err("duplicate name");
    // oned 7.5 answers a taken name with INTERNAL (0x2000), as recorded
    assert_eq!(
        OneErrorCode::of(&err),
        Some(OneErrorCode::Internal),
        "{err}"
    );
    assert!(
        err.to_string().contains("NAME is already taken by USER 2"),
        "{err}"
    );

    let info = c.user(alice).info().await.expect("user info");
    assert_eq!(info.name.as_deref(), Some("alice"));
    assert_eq!(info.gid, Some(100));
    assert_eq!(info.gname.as_deref(), Some("devs"));
    assert_eq!(info.auth_driver.as_deref(), Some("core"));

    // the user logs in, gets a token, and can use it as a password
    let as_alice = client_as(&sim, "alice", "alicepw");
    let me = as_alice
        .user(UserId::new(-1))
        .info()
        .await
        .expect("own info");
    assert_eq!(me.id, alice);
    // oned refuses oneadmin a full token for a user in other groups (UserAPI::login,
    // recorded-sweep 222), but grants one scoped to a group of hers
    let err = c
        .users()
        .login("alice", "", 3600)
        .await
        .expect_err("full token for another user's groups");
    assert_one_error(
        &err,
        OneErrorCode::RpcApi,
        ErrorKind::InvalidInput,
        "Cannot create a full token with a specific group token",
    );
    let token = as_alice
        .users()
        .login("alice", "", 3600)
        .await
        .expect("login token");
    assert!(!token.is_empty());
    let with_token = client_as(&sim, "alice", &token);
    with_token
        .user(alice)
        .info()
        .await
        .expect("token works as a password");

    // password change, group membership, template update
    c.user(alice).passwd("newpw").await.expect("passwd");
    as_alice
        .user(alice)
        .info()
        .await
        .expect_err("old password is gone");
    let as_alice = client_as(&sim, "alice", "newpw");
    as_alice.user(alice).info().await.expect("new password");
    c.user(alice).addgroup(GroupId::new(1)).await.expect("add");
    let groups: Vec<GroupId> = c.user(alice).info().await.expect("info").groups;
    assert_eq!(groups, [GroupId::new(1), GroupId::new(100)]);
    c.user(alice).delgroup(GroupId::new(1)).await.expect("del");
    c.user(alice)
        .update(&tpl("EMAIL = \"alice@example.com\""), UpdateType::Merge)
        .await
        .expect("update");
    let info = c.user(alice).info().await.expect("info");
    assert_eq!(info.template.get_str("EMAIL"), Some("alice@example.com"));

    // quotas are stored and readable, default quotas typed
    c.user(alice)
        .quota(&tpl("VM = [ VMS = \"3\", CPU = \"2\", MEMORY = \"2048\" ]"))
        .await
        .expect("quota");
    let q = c.user(alice).info().await.expect("info").vm_quota;
    let vm_quota = q.expect("vm quota").vm.into_iter().next().expect("VM");
    assert_eq!(vm_quota.vms.as_deref(), Some("3"));
    assert_eq!(vm_quota.memory.as_deref(), Some("2048"));
    let defaults = c.users().default_quota_info().await.expect("defaults");
    assert!(
        defaults.vm_quota.and_then(|q| q.vm).is_none(),
        "none set yet"
    );
    let updated = c
        .users()
        .default_quota_update(&tpl("VM = [ VMS = \"10\", MEMORY = \"8192\" ]"))
        .await
        .expect("default quota update");
    let vm = updated.vm_quota.and_then(|q| q.vm).expect("VM defaults");
    assert_eq!(vm.vms.as_deref(), Some("10"));
    // a limit the default quotas are not given is UNLIMITED (-2) there (recorded-sweep 226)
    assert_eq!(vm.cpu.as_deref(), Some("-2"));
    let read = c.users().default_quota_info().await.expect("defaults");
    let vm = read.vm_quota.and_then(|q| q.vm).expect("VM defaults");
    assert_eq!(vm.memory.as_deref(), Some("8192"));
    let in_user = c
        .user(alice)
        .info()
        .await
        .expect("info")
        .default_user_quotas;
    let vm = in_user
        .and_then(|d| d.vm_quota)
        .and_then(|q| q.vm)
        .expect("defaults inside USER");
    assert_eq!(vm.vms.as_deref(), Some("10"));
    let groups = c
        .groups()
        .default_quota_update(&tpl("VM = [ RUNNING_VMS = \"4\" ]"))
        .await
        .expect("group defaults");
    let vm = groups.vm_quota.and_then(|q| q.vm).expect("VM defaults");
    assert_eq!(vm.running_vms, Some(4));
    let err = as_alice
        .users()
        .default_quota_update(&tpl("VM = [ VMS = \"99\" ]"))
        .await
        .expect_err("only oneadmin");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Authorization));

    // group info, admins, pool
    c.group(devs).addadmin(alice).await.expect("addadmin");
    let g = c.group(devs).info().await.expect("group info");
    assert_eq!(g.name.as_deref(), Some("devs"));
    assert_eq!(g.users, [alice]);
    assert_eq!(g.admins, [alice]);
    let names: Vec<String> = c
        .groups()
        .info()
        .await
        .expect("pool")
        .group
        .into_iter()
        .filter_map(|g| g.name)
        .collect();
    assert!(names.contains(&"devs".to_owned()), "{names:?}");
    let users = c.users().info().await.expect("user pool");
    assert!(
        users
            .user
            .iter()
            .any(|u| u.name.as_deref() == Some("alice"))
    );

    // ACL rules, in the oneacl syntax
    let rule: AclRule = "@100 VM+IMAGE/* USE+MANAGE".parse().expect("rule");
    let id = c.acls().add(&rule).await.expect("add rule");
    let acls = c.acls().info().await.expect("acls");
    let added = acls.acl.iter().find(|a| a.id == id).expect("new rule");
    assert_eq!(
        added.string.as_deref(),
        Some("@100 VM+IMAGE/* USE+MANAGE #0")
    );
    let decoded = added.rule().expect("decodes");
    assert_eq!(decoded.resources, rule.resources);
    assert_eq!(decoded.zone, Some(AclSet::Individual(0)), "oned's own zone");
    for acl in &acls.acl {
        let text = acl.rule().expect("every rule decodes").to_string();
        assert_eq!(Some(text.as_str()), acl.string.as_deref());
    }
    c.acl(id).delrule().await.expect("delrule");
    assert!(
        !c.acls()
            .info()
            .await
            .expect("acls")
            .acl
            .iter()
            .any(|a| a.id == id)
    );

    // a disabled user cannot log in; deletion
    c.user(alice).enable(false).await.expect("disable");
    let err = as_alice.user(alice).info().await.expect_err("disabled");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Authentication));
    c.user(alice).delete().await.expect("delete");
    let err = c.user(alice).info().await.expect_err("deleted");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::NoExists));
}

#[tokio::test]
async fn clusters_hosts_datastores_zones() {
    let (_sim, c) = start().await;
    let cl = c.clusters().allocate("edge").await.expect("cluster");
    assert_eq!(cl, ClusterId::new(100));
    let h = c
        .hosts()
        .allocate("edge01", "kvm", "kvm", cl)
        .await
        .expect("host");
    let host = c.host(h).info().await.expect("host info");
    assert_eq!(host.name.as_deref(), Some("edge01"));
    assert_eq!(host.cluster_id, Some(100));
    assert_eq!(host.im_mad.as_deref(), Some("kvm"));

    c.host(h)
        .status(HostStatus::Disabled)
        .await
        .expect("disable");
    assert_eq!(
        c.host(h).info().await.expect("info").state(),
        Some(HostState::Disabled)
    );
    c.host(h).status(HostStatus::Enabled).await.expect("enable");
    c.host(h).rename("edge-01").await.expect("rename");
    c.host(h)
        .update(&tpl("RACK = \"r1\""), UpdateType::Merge)
        .await
        .expect("update");
    let host = c.host(h).info().await.expect("info");
    assert_eq!(host.name.as_deref(), Some("edge-01"));
    assert_eq!(host.template.get_str("RACK"), Some("r1"));

    // monitoring of the seeded (monitored) hosts, typed
    let mon = c.hosts().monitoring().await.expect("pool monitoring");
    let ids: Vec<Option<i64>> = mon.monitoring.iter().map(|m| m.id).collect();
    assert!(ids.contains(&Some(0)) && ids.contains(&Some(1)), "{ids:?}");
    let one = c
        .host(HostId::new(0))
        .monitoring()
        .await
        .expect("host monitoring");
    let cap = one.monitoring[0].capacity.as_ref().expect("capacity");
    assert!(cap.free_cpu.is_some() && cap.used_memory.is_some());
    let raw = c
        .host(HostId::new(0))
        .monitoring_raw()
        .await
        .expect("raw monitoring");
    assert_eq!(raw.root_name(), Some("MONITORING_DATA"));

    // cluster membership
    c.cluster(ClusterId::DEFAULT)
        .addhost(h)
        .await
        .expect("move host");
    let default = c.cluster(ClusterId::DEFAULT).info().await.expect("cluster");
    assert!(default.hosts.contains(&h));
    assert!(!c.cluster(cl).info().await.expect("edge").hosts.contains(&h));
    c.cluster(cl)
        .adddatastore(DatastoreId::new(1))
        .await
        .expect("adddatastore");
    c.cluster(cl)
        .addvnet(VnetId::new(0))
        .await
        .expect("addvnet");
    let edge = c.cluster(cl).info().await.expect("edge");
    assert_eq!(edge.datastores, [DatastoreId::new(1)]);
    assert_eq!(edge.vnets, [VnetId::new(0)]);
    c.cluster(cl).rename("edge-zone").await.expect("rename");
    let names: Vec<Option<String>> = c
        .clusters()
        .info()
        .await
        .expect("pool")
        .cluster
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(names.contains(&Some("edge-zone".into())), "{names:?}");

    // datastores
    let pool = c.datastores().info().await.expect("datastores");
    let names: Vec<&str> = pool
        .datastore
        .iter()
        .filter_map(|d| d.name.as_deref())
        .collect();
    for want in ["system", "default", "files"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let ds = c
        .datastores()
        .allocate(
            &tpl("NAME = \"fast\"\nTYPE = \"IMAGE_DS\"\nDS_MAD = \"fs\"\nTM_MAD = \"ssh\""),
            cl,
        )
        .await
        .expect("datastore");
    let fast = c.datastore(ds).info().await.expect("info");
    assert_eq!(fast.name.as_deref(), Some("fast"));
    assert_eq!(fast.tm_mad.as_deref(), Some("ssh"));
    assert_eq!(fast.clusters, [ClusterId::new(100)]);
    // as oned: only system datastores are enabled or disabled
    let err = c.datastore(ds).enable(false).await.expect_err("image ds");
    assert!(err.to_string().contains("Only SYSTEM_DS"), "{err}");
    c.datastore(ds).delete().await.expect("delete ds");

    // zones
    let zone = c.zone(ZoneId::new(0)).info().await.expect("zone");
    assert_eq!(zone.name.as_deref(), Some("OpenNebula"));
    c.zone(ZoneId::new(0))
        .rename("home")
        .await
        .expect("rename zone");
    let zones = c.zones().info().await.expect("zones");
    assert_eq!(zones.zone[0].name.as_deref(), Some("home"));

    // VDCs: oned's default one, and a new one with a group and resources
    let default = c.vdc(VdcId::new(0)).info().await.expect("default VDC");
    assert_eq!(default.name.as_deref(), Some("default"));
    assert_eq!(default.groups, [GroupId::USERS]);
    let all = default.clusters.expect("clusters").cluster;
    assert_eq!((all[0].zone_id, all[0].cluster_id), (Some(0), Some(-10)));
    let vdc = c
        .vdcs()
        .allocate(&tpl("NAME = \"edge-vdc\"\nDESCRIPTION = \"edge\""))
        .await
        .expect("vdc");
    assert_eq!(vdc, VdcId::new(100));
    let zone = ZoneId::new(0);
    c.vdc(vdc)
        .addgroup(GroupId::new(1))
        .await
        .expect("addgroup");
    c.vdc(vdc).addcluster(zone, cl).await.expect("addcluster");
    c.vdc(vdc)
        .adddatastore(zone, DatastoreId::new(1))
        .await
        .expect("adddatastore");
    c.vdc(vdc)
        .addvnet(zone, VnetId::new(0))
        .await
        .expect("addvnet");
    let err = c
        .vdc(vdc)
        .addcluster(zone, cl)
        .await
        .expect_err("already assigned");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Internal));
    let err = c
        .vdc(vdc)
        .addhost(zone, HostId::new(77))
        .await
        .expect_err("no such host");
    assert!(err.is_not_found(), "{err}");
    c.vdc(vdc).rename("edge-vdc-2").await.expect("rename");
    let info = c.vdc(vdc).info().await.expect("vdc");
    assert_eq!(info.name.as_deref(), Some("edge-vdc-2"));
    assert_eq!(info.groups, [GroupId::USERS]);
    assert_eq!(info.template.get_str("DESCRIPTION"), Some("edge"));
    let clusters = info.clusters.expect("clusters").cluster;
    assert_eq!(clusters[0].cluster_id, Some(i64::from(cl.get())));
    let pool = c.vdcs().info().await.expect("vdc pool");
    assert_eq!(pool.vdc.len(), 2);
    c.vdc(vdc).delcluster(zone, cl).await.expect("delcluster");
    c.vdc(vdc).delete().await.expect("delete");
    assert!(c.vdc(vdc).info().await.expect_err("gone").is_not_found());

    // a host with VMs... none here: deleting works
    c.host(h).delete().await.expect("delete host");
    let err = c.host(h).info().await.expect_err("deleted");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn images_templates_permissions_and_locks() {
    let (_sim, c) = start().await;
    let img = c
        .images()
        .allocate(
            &tpl("NAME = \"disk-a\"\nTYPE = \"DATABLOCK\"\nSIZE = \"512\""),
            DatastoreId::new(1),
        )
        .await
        .expect("image");
    let mut state = None;
    for _ in 0..100 {
        state = c.image(img).info().await.expect("image").state();
        if state == Some(ImageState::Ready) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state, Some(ImageState::Ready));
    c.image(img).persistent(true).await.expect("persistent");
    let copy = c.image(img).clone("disk-b").await.expect("clone");
    assert_ne!(copy, img);
    c.image(img)
        .chmod(Permissions::from_octal(0o640))
        .await
        .expect("chmod");
    let info = c.image(img).info().await.expect("image");
    assert_eq!(info.persistent, Some(1));
    let perms = info.permissions.expect("permissions");
    assert_eq!(
        (perms.owner_u, perms.owner_m, perms.group_u, perms.other_u),
        (Some(1), Some(1), Some(1), Some(0))
    );

    // a locked image refuses changes like oned
    c.image(img).lock(LockLevel::Use).await.expect("lock");
    let err = c.image(img).rename("nope").await.expect_err("locked");
    assert_one_error(
        &err,
        OneErrorCode::Authorization,
        ErrorKind::Authorization,
        "is locked",
    );
    c.image(img).unlock().await.expect("unlock");
    c.image(img).rename("disk-main").await.expect("rename");
    let names: Vec<String> = c
        .images()
        .stream(PoolFilter::all())
        .map_ok(|i| i.name.unwrap_or_default())
        .try_collect()
        .await
        .expect("image stream");
    assert!(names.contains(&"disk-main".to_owned()) && names.contains(&"disk-b".to_owned()));

    // templates
    let t = c
        .templates()
        .allocate(&tpl("NAME = \"web\"\nCPU = \"0.5\"\nMEMORY = \"256\""))
        .await
        .expect("template");
    c.template(t)
        .update(&tpl("LABELS = \"prod\""), UpdateType::Merge)
        .await
        .expect("update");
    let info = c.template(t).info().await.expect("template");
    assert_eq!(info.name.as_deref(), Some("web"));
    assert_eq!(info.template.get_str("MEMORY"), Some("256"));
    assert_eq!(info.template.get_str("LABELS"), Some("prod"));
    let tcopy = c.template(t).clone("web-copy").await.expect("clone");
    c.template(tcopy).rename("web-2").await.expect("rename");
    c.template(tcopy)
        .chown(UserId::new(1), GroupId::new(1))
        .await
        .expect("chown");
    let copied = c.template(tcopy).info().await.expect("copy");
    assert_eq!(copied.uid, Some(1));
    assert_eq!(copied.gname.as_deref(), Some("users"));
    let pool = c.templates().info(&PoolFilter::all()).await.expect("pool");
    assert_eq!(pool.vmtemplate.len(), 3);
    let streamed: Vec<TemplateId> = c
        .templates()
        .stream(PoolFilter::all())
        .map_ok(|t| t.id)
        .try_collect()
        .await
        .expect("stream");
    let mut pooled: Vec<TemplateId> = pool.vmtemplate.iter().map(|t| t.id).collect();
    let mut sorted = streamed.clone();
    sorted.sort();
    pooled.sort();
    assert_eq!(sorted, pooled);

    c.template(tcopy).delete().await.expect("delete");
    let err = c.template(tcopy).info().await.expect_err("deleted");
    assert!(err.is_not_found());
    c.image(copy).delete().await.expect("delete image");
    let err = c.image(copy).info().await.expect_err("image deleted");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn networks_secgroups_vmgroups_documents() {
    let (sim, c) = start().await;
    let net = c
        .vnets()
        .allocate(
            &tpl("NAME = \"lab\"\nVN_MAD = \"bridge\"\nBRIDGE = \"br1\"\n\
                 AR = [ TYPE = \"IP4\", IP = \"10.0.0.10\", SIZE = \"4\" ]"),
            ClusterId::DEFAULT,
        )
        .await
        .expect("vnet");
    let mut info = c.vnet(net).info().await.expect("vnet");
    for _ in 0..100 {
        if info.state == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        info = c.vnet(net).info().await.expect("vnet");
    }
    assert_eq!(info.state, Some(1), "READY after LOCK_CREATE");
    assert_eq!(info.bridge.as_deref(), Some("br1"));
    let ar = &info.ar_pool.as_ref().expect("AR pool").ar[0];
    assert_eq!((ar.ip.as_deref(), ar.size), (Some("10.0.0.10"), Some(4)));

    c.vnet(net)
        .hold(&tpl("LEASES = [ IP = \"10.0.0.11\" ]"))
        .await
        .expect("hold");
    let info = c.vnet(net).info().await.expect("vnet");
    assert_eq!(info.used_leases, Some(1));
    let err = c
        .vnet(net)
        .hold(&tpl("LEASES = [ IP = \"10.0.0.11\" ]"))
        .await
        .expect_err("already on hold");
    assert!(OneErrorCode::of(&err).is_some(), "{err}");
    c.vnet(net)
        .release(&tpl("LEASES = [ IP = \"10.0.0.11\" ]"))
        .await
        .expect("release");
    assert_eq!(c.vnet(net).info().await.expect("vnet").used_leases, Some(0));
    let nets: Vec<VnetId> = c
        .vnets()
        .stream(PoolFilter::all())
        .map_ok(|n| n.id)
        .try_collect()
        .await
        .expect("vnet stream");
    assert_eq!(nets, [net, VnetId::new(0)]);

    // virtual network templates, instantiated into networks
    let vnt = c
        .vn_templates()
        .allocate(&tpl("NAME = \"lab-tpl\"\nVN_MAD = \"bridge\"\n\
             AR = [ TYPE = \"IP4\", IP = \"10.1.0.1\", SIZE = \"16\" ]"))
        .await
        .expect("vn template");
    c.vn_template(vnt)
        .update(&tpl("DESCRIPTION = \"lab networks\""), UpdateType::Merge)
        .await
        .expect("update");
    let copy = c.vn_template(vnt).clone("lab-tpl-2").await.expect("clone");
    let from_tpl = c
        .vn_template(vnt)
        .instantiate("lab-a", &tpl("BRIDGE = \"br9\""))
        .await
        .expect("instantiate");
    let lab = c.vnet(from_tpl).info().await.expect("vnet");
    assert_eq!(lab.name.as_deref(), Some("lab-a"));
    assert_eq!(lab.bridge.as_deref(), Some("br9"), "extra template merged");
    let ar = &lab.ar_pool.as_ref().expect("AR pool").ar[0];
    assert_eq!((ar.ip.as_deref(), ar.size), (Some("10.1.0.1"), Some(16)));
    let info = c.vn_template(vnt).info().await.expect("vn template");
    assert_eq!(info.template.get_str("DESCRIPTION"), Some("lab networks"));
    let names: Vec<Option<String>> = c
        .vn_templates()
        .stream(PoolFilter::all())
        .map_ok(|t| t.name)
        .try_collect()
        .await
        .expect("vn template stream");
    assert_eq!(names, [Some("lab-tpl-2".into()), Some("lab-tpl".into())]);
    c.vn_template(copy).delete().await.expect("delete");
    assert!(
        c.vn_template(copy)
            .info()
            .await
            .expect_err("deleted")
            .is_not_found()
    );
    c.vnet(from_tpl).delete().await.expect("delete network");

    // virtual routers: two VMs with the router's NIC; deleting it ends them
    let vr = c
        .vrouters()
        .allocate(&tpl("NAME = \"gw\"\nNIC = [ NETWORK_ID = \"0\" ]"))
        .await
        .expect("vrouter");
    let same = c
        .vrouter(vr)
        .instantiate(2, TemplateId::new(0), "gw-%i", false, &Template::new())
        .await
        .expect("instantiate");
    assert_eq!(same, vr);
    let router = c.vrouter(vr).info().await.expect("vrouter");
    assert_eq!(router.name.as_deref(), Some("gw"));
    assert_eq!(router.vms.len(), 2);
    let first = router.vms[0];
    let vm = c.vm(first).info().await.expect("router VM");
    assert_eq!(vm.name.as_deref(), Some("gw-0"));
    assert_eq!(
        vm.template.get_str("VROUTER_ID"),
        Some(vr.get().to_string().as_str())
    );
    let nic = vm.template.get_vector("NIC").expect("NIC");
    assert_eq!(nic.get("NETWORK"), Some("public"), "{nic:?}");
    // a NIC attached to the router is hot-plugged on its VMs, and detached again
    for vm in &router.vms {
        let vm = *vm;
        wait_vm(&sim, &c, vm, VmState::Active, LcmState::Running).await;
    }
    c.vrouter(vr)
        .attachnic(&tpl("NIC = [ NETWORK_ID = \"0\" ]"))
        .await
        .expect("router attachnic");
    let nics = |vm: nebulair_opennebula::model::Vm| vm.template.vectors("NIC").count();
    assert_eq!(nics(c.vm(first).info().await.expect("vm")), 2);
    let router_nics = c.vrouter(vr).info().await.expect("vrouter");
    assert_eq!(router_nics.template.vectors("NIC").count(), 2);
    c.vrouter(vr).detachnic(1).await.expect("router detachnic");
    assert_eq!(nics(c.vm(first).info().await.expect("vm")), 1);
    let err = c.vrouter(vr).detachnic(9).await.expect_err("no NIC 9");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        "NIC with NIC_ID 9 does not exist.",
    );

    let routers: Vec<_> = c
        .vrouters()
        .stream(PoolFilter::all())
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .expect("vrouter stream");
    assert_eq!(routers, [vr]);
    c.vrouter(vr).delete().await.expect("delete router");
    let vm = c.vm(first).info().await.expect("router VM");
    assert_eq!(
        vm.state(),
        Some(VmState::Done),
        "the router's VMs end with it"
    );

    // security groups
    let sg = c
        .secgroups()
        .allocate(&tpl(
            "NAME = \"web\"\nRULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\", RANGE = \"80\" ]",
        ))
        .await
        .expect("secgroup");
    let clone = c.secgroup(sg).clone("web-2").await.expect("clone");
    let info = c.secgroup(clone).info().await.expect("secgroup");
    assert_eq!(info.name.as_deref(), Some("web-2"));
    let rule = info.template.get_vector("RULE").expect("rule");
    assert_eq!(rule.get("RANGE"), Some("80"));
    let sgs: Vec<String> = c
        .secgroups()
        .stream(PoolFilter::all())
        .map_ok(|s| s.name.unwrap_or_default())
        .try_collect()
        .await
        .expect("secgroups");
    assert!(
        sgs.contains(&"web".into()) && sgs.contains(&"web-2".into()),
        "{sgs:?}"
    );

    // VM groups
    let vmg = c
        .vm_groups()
        .allocate(&tpl(
            "NAME = \"app\"\nROLE = [ NAME = \"db\" ]\nROLE = [ NAME = \"front\" ]",
        ))
        .await
        .expect("vmgroup");
    let info = c.vm_group(vmg).info().await.expect("vmgroup");
    let roles: Vec<Option<String>> = info
        .roles
        .expect("roles")
        .role
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(roles, [Some("db".into()), Some("front".into())]);
    c.vm_group(vmg).rename("app-2").await.expect("rename");
    let groups: Vec<Option<String>> = c
        .vm_groups()
        .stream(PoolFilter::all())
        .map_ok(|g| g.name)
        .try_collect()
        .await
        .expect("vmgroups");
    assert_eq!(groups, [Some("app-2".into())]);

    // documents
    let doc = c
        .documents()
        .allocate(&tpl("NAME = \"flow\"\nBODY = \"{}\""), 100)
        .await
        .expect("document");
    let info = c.document(doc).info().await.expect("document");
    assert_eq!(info.name.as_deref(), Some("flow"));
    assert_eq!(info.r#type.as_deref(), Some("100"));
    let copy = c.document(doc).clone("flow-2").await.expect("clone");
    let pool = c
        .documents()
        .info(&PoolFilter::all(), 100)
        .await
        .expect("documents");
    let ids: Vec<_> = pool.document.iter().map(|d| d.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&doc) && ids.contains(&copy));
    c.document(copy).delete().await.expect("delete");
}

#[tokio::test]
async fn vm_life_cycle_pools_and_monitoring() {
    let (sim, c) = start().await;
    let id = c
        .template(TemplateId::new(0))
        .instantiate("vm-a", false, &tpl("MEMORY = \"128\""), false)
        .await
        .expect("instantiate");
    wait_vm(&sim, &c, id, VmState::Active, LcmState::Running).await;
    let vm = c.vm(id).info().await.expect("vm");
    assert_eq!(vm.name.as_deref(), Some("vm-a"));
    assert_eq!(vm.template.get_str("MEMORY"), Some("128"));
    let nic = vm.template.get_vector("NIC").expect("NIC");
    assert_eq!(nic.get("NETWORK"), Some("public"));
    assert!(
        nic.get("IP")
            .is_some_and(|ip| ip.starts_with("192.168.150."))
    );
    let history = vm.history_records.expect("history").history;
    assert!(!history.is_empty());

    // a wrong-state action answers ACTION with oned's message
    let err = c
        .vm(id)
        .action(VmAction::Resume)
        .await
        .expect_err("resume a running VM");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        "Error performing action \"resume\"",
    );

    // live migration to the other host, a new history record there
    let host_of = |vm: &nebulair_opennebula::model::Vm| {
        vm.history_records
            .as_ref()
            .and_then(|h| h.history.last())
            .and_then(|h| h.hid)
            .expect("a history record with a host")
    };
    let first_host = host_of(&c.vm(id).info().await.expect("vm"));
    let other_host = HostId::new(i32::from(first_host == 0));
    let err = c
        .vm(id)
        .migrate(HostId::new(i32::try_from(first_host).expect("id")), true)
        .await
        .expect_err("same host");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        "VM is already running on host",
    );
    c.vm(id)
        .migrate(other_host, true)
        .await
        .expect("live migrate");
    wait_vm(&sim, &c, id, VmState::Active, LcmState::Running).await;
    let vm = c.vm(id).info().await.expect("vm");
    assert_eq!(host_of(&vm), i64::from(other_host.get()));
    let records = vm.history_records.expect("history").history;
    let closed = &records[records.len() - 2];
    assert_eq!(
        closed.action(),
        Some(nebulair_opennebula::model::HistoryAction::LiveMigrate)
    );

    c.vm(id).action(VmAction::Poweroff).await.expect("poweroff");
    wait_vm(&sim, &c, id, VmState::Poweroff, LcmState::LcmInit).await;
    // disk snapshots while powered off: a chain 0 <- 1, revert to 0, delete 1, rename 0
    let s0 = c
        .vm(id)
        .disksnapshotcreate(0, "clean")
        .await
        .expect("disk snapshot");
    wait_vm(&sim, &c, id, VmState::Poweroff, LcmState::LcmInit).await;
    let s1 = c
        .vm(id)
        .disksnapshotcreate(0, "")
        .await
        .expect("disk snapshot");
    wait_vm(&sim, &c, id, VmState::Poweroff, LcmState::LcmInit).await;
    c.vm(id).disksnapshotrevert(0, s0).await.expect("revert");
    wait_vm(&sim, &c, id, VmState::Poweroff, LcmState::LcmInit).await;
    // oned's rule (ALLOW_ORPHANS = NO): the active snapshot goes only as a leaf
    let err = c
        .vm(id)
        .disksnapshotdelete(0, s0)
        .await
        .expect_err("0 is active and has a child");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        "Cannot delete the active snapshot with children",
    );
    c.vm(id).disksnapshotdelete(0, s1).await.expect("delete");
    wait_vm(&sim, &c, id, VmState::Poweroff, LcmState::LcmInit).await;
    c.vm(id)
        .disksnapshotrename(0, s0, "golden")
        .await
        .expect("rename");
    let vm = c.vm(id).info().await.expect("vm");
    let disk = vm.snapshots.first().expect("SNAPSHOTS of disk 0");
    assert_eq!((disk.disk_id, disk.next_snapshot), (Some(0), Some(2)));
    let names: Vec<_> = disk.snapshot.iter().map(|x| x.name.as_deref()).collect();
    assert_eq!(names, [Some("golden")]);
    assert_eq!(disk.snapshot[0].active.as_deref(), Some("YES"));

    // disks only grow
    let err = c.vm(id).diskresize(0, "1").await.expect_err("smaller");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        "New disk size has to be greater than current one",
    );
    c.vm(id).diskresize(0, "40960").await.expect("resize");
    wait_vm(&sim, &c, id, VmState::Poweroff, LcmState::LcmInit).await;
    let vm = c.vm(id).info().await.expect("vm");
    let disk = vm.template.get_vector("DISK").expect("disk 0");
    assert_eq!(disk.get("SIZE"), Some("40960"));

    // a cold migration of a powered-off VM stays powered off
    c.vm(id)
        .migrate(HostId::new(i32::from(other_host.get() == 0)), false)
        .await
        .expect("cold migrate");
    wait_vm(&sim, &c, id, VmState::Poweroff, LcmState::LcmInit).await;
    assert_eq!(
        host_of(&c.vm(id).info().await.expect("vm")),
        first_host,
        "back on the first host"
    );
    c.vm(id)
        .resize(&tpl("CPU = \"1\"\nVCPU = \"2\"\nMEMORY = \"256\""))
        .await
        .expect("resize while off");
    c.vm(id)
        .updateconf(
            &tpl("CONTEXT = [ SSH_PUBLIC_KEY = \"ssh-ed25519 AAA\" ]"),
            UpdateType::Merge,
        )
        .await
        .expect("updateconf");
    c.vm(id)
        .attachnic(&tpl("NIC = [ NETWORK_ID = \"0\" ]"))
        .await
        .expect("attach nic");
    c.vm(id).action(VmAction::Resume).await.expect("resume");
    wait_vm(&sim, &c, id, VmState::Active, LcmState::Running).await;
    let vm = c.vm(id).info().await.expect("vm");
    assert_eq!(vm.template.get_str("MEMORY"), Some("256"));
    assert_eq!(vm.template.get_str("VCPU"), Some("2"));
    assert_eq!(vm.template.vectors("NIC").count(), 2);
    let ctx = vm.template.get_vector("CONTEXT").expect("context");
    assert_eq!(ctx.get("SSH_PUBLIC_KEY"), Some("ssh-ed25519 AAA"));

    // system snapshots: create two, revert to the first, delete the second
    let first = c
        .vm(id)
        .snapshotcreate("before-upgrade")
        .await
        .expect("snapshot");
    wait_vm(&sim, &c, id, VmState::Active, LcmState::Running).await;
    let second = c.vm(id).snapshotcreate("").await.expect("snapshot");
    assert_eq!((first, second), (0, 1));
    wait_vm(&sim, &c, id, VmState::Active, LcmState::Running).await;
    c.vm(id).snapshotrevert(first).await.expect("revert");
    wait_vm(&sim, &c, id, VmState::Active, LcmState::Running).await;
    c.vm(id).snapshotdelete(second).await.expect("delete");
    wait_vm(&sim, &c, id, VmState::Active, LcmState::Running).await;
    let vm = c.vm(id).info().await.expect("vm");
    let snaps: Vec<_> = vm.template.vectors("SNAPSHOT").collect();
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].get("NAME"), Some("before-upgrade"));
    // oned marks a snapshot ACTIVE only while the driver works on it (recorded-sweep 364)
    assert_eq!(snaps[0].get("ACTIVE"), None);
    let err = c
        .vm(id)
        .snapshotrevert(7)
        .await
        .expect_err("no such snapshot");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Action));

    // user template, rename, permissions, locks
    c.vm(id)
        .update(&tpl("LABELS = \"web\""), UpdateType::Merge)
        .await
        .expect("update");
    c.vm(id).rename("vm-web").await.expect("rename");
    c.vm(id).lock(LockLevel::Manage).await.expect("lock");
    let err = c
        .vm(id)
        .action(VmAction::Reboot)
        .await
        .expect_err("locked VM");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Authorization));
    c.vm(id).unlock().await.expect("unlock");
    let vm = c.vm(id).info().await.expect("vm");
    assert_eq!(vm.name.as_deref(), Some("vm-web"));
    assert_eq!(vm.user_template.get_str("LABELS"), Some("web"));
    assert!(vm.lock.is_none());

    // monitoring, typed (the simulator samples running VMs every 20 ms here)
    let mut mon = c.vm(id).monitoring().await.expect("monitoring");
    for _ in 0..100 {
        if !mon.monitoring.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        mon = c.vm(id).monitoring().await.expect("monitoring");
    }
    let sample = mon.monitoring.last().expect("a sample");
    assert_eq!(sample.id, Some(i64::from(id.get())));
    assert!(sample.memory.is_some_and(|m| m > 0));
    let all = c
        .vms()
        .monitoring(nebulair_opennebula::pool::Who::All)
        .await
        .expect("pool monitoring");
    assert!(!all.monitoring.is_empty());

    // more VMs: pool filters, streams, infoset
    let held = c
        .vms()
        .allocate_with(&tpl("NAME = \"held\"\nCPU = \"1\"\nMEMORY = \"64\""), true)
        .await
        .expect("allocate on hold");
    let other = c
        .template(TemplateId::new(0))
        .instantiate("vm-b", false, &Template::new(), false)
        .await
        .expect("instantiate");
    let pool = c.vms().info(&PoolFilter::all()).await.expect("pool");
    let ids: Vec<VmId> = pool.vm.iter().map(|v| v.id).collect();
    assert_eq!(ids, [other, held, id], "newest first");
    let hold_only = c
        .vms()
        .info(&PoolFilter::all().state(VmStateFilter::State(2)))
        .await
        .expect("HOLD filter");
    assert_eq!(hold_only.vm.len(), 1);
    assert_eq!(hold_only.vm[0].id, held);
    let streamed: Vec<VmId> = c
        .vms()
        .stream(PoolFilter::all())
        .map_ok(|v| v.id)
        .try_collect()
        .await
        .expect("stream (page size 2)");
    assert_eq!(streamed, ids);
    let extended: Vec<String> = c
        .vms()
        .stream_extended(PoolFilter::all())
        .map_ok(|v| v.name.unwrap_or_default())
        .try_collect()
        .await
        .expect("extended stream");
    assert_eq!(extended, ["vm-b", "held", "vm-web"]);
    // quota usage is counted from the owner's VMs (no limits set: -1, as oned shows)
    let memory: i64 = pool
        .vm
        .iter()
        .filter_map(|v| v.template.get_str("MEMORY")?.parse::<i64>().ok())
        .sum();
    let running_memory: i64 = pool
        .vm
        .iter()
        .filter(|v| v.id != held)
        .filter_map(|v| v.template.get_str("MEMORY")?.parse::<i64>().ok())
        .sum();
    // oned keeps no usage for oneadmin and its group (recorded 179) ...
    let admin = c.user(UserId::new(0)).info().await.expect("oneadmin");
    assert!(admin.vm_quota.is_none_or(|q| q.vm.is_empty()));
    // ... but counts it for everybody else: the VMs go to serveradmin / users
    for vm in [id, held, other] {
        c.vm(vm)
            .chown(UserId::new(1), GroupId::new(1))
            .await
            .expect("chown");
    }
    let owner = c.user(UserId::new(1)).info().await.expect("serveradmin");
    let usage = owner.vm_quota.expect("VM quota").vm.remove(0);
    assert_eq!(usage.vms.as_deref(), Some("-1"));
    assert_eq!(usage.vms_used.as_deref(), Some("3"));
    assert_eq!(usage.running_vms_used.as_deref(), Some("2"));
    assert_eq!(usage.memory_used, Some(memory.to_string()));
    assert_eq!(usage.running_memory_used, Some(running_memory.to_string()));
    let group = c.group(GroupId::new(1)).info().await.expect("users group");
    let group_usage = group.vm_quota.expect("group VM quota").vm.remove(0);
    assert_eq!(group_usage.vms_used.as_deref(), Some("3"));

    let set = c.vms().infoset(&[id, held], false).await.expect("infoset");
    let mut set_ids: Vec<VmId> = set.vm.iter().map(|v| v.id).collect();
    set_ids.sort();
    assert_eq!(set_ids, [id, held]);

    // release, terminate, DONE leaves the default filter
    c.vm(held).action(VmAction::Release).await.expect("release");
    wait_vm(&sim, &c, held, VmState::Active, LcmState::Running).await;
    for vm in [id, held, other] {
        c.vm(vm)
            .action(VmAction::TerminateHard)
            .await
            .expect("terminate");
    }
    for vm in [id, held, other] {
        wait_vm(&sim, &c, vm, VmState::Done, LcmState::LcmInit).await;
    }
    assert!(
        c.vms()
            .info(&PoolFilter::all())
            .await
            .expect("pool")
            .vm
            .is_empty()
    );
    let owner = c.user(UserId::new(1)).info().await.expect("serveradmin");
    let used = owner
        .vm_quota
        .and_then(|q| q.vm.into_iter().next())
        .and_then(|vm| vm.vms_used);
    assert!(
        used.as_deref().is_none_or(|u| u == "0"),
        "DONE VMs use nothing: {used:?}"
    );
    let done = c
        .vms()
        .info(&PoolFilter::all().state(VmStateFilter::Any))
        .await
        .expect("any state");
    assert_eq!(done.vm.len(), 3);
    let err = c
        .vms()
        .stream(PoolFilter::all().id_range(0, 3).expect("range"))
        .try_collect::<Vec<_>>()
        .await
        .expect_err("no id range while paging");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn vm_recover_operations() {
    // Phases that never end by themselves, so that the VM can be caught in PROLOG.
    let slow = Duration::from_secs(3600);
    let sim = OneSimulator::builder()
        .delays(Delays {
            prolog: slow,
            boot: slow,
            ..Delays::default()
        })
        .start()
        .await
        .expect("simulator");
    let c = client_as(&sim, "oneadmin", "opennebula");
    let state = |vm: &nebulair_opennebula::model::Vm| (vm.state(), vm.lcm_state());
    let id = c
        .template(TemplateId::new(0))
        .instantiate("stuck", false, &Template::new(), false)
        .await
        .expect("instantiate");
    for _ in 0..100 {
        sim.run_scheduler();
        if c.vm(id).info().await.expect("vm").lcm_state() == Some(LcmState::Prolog) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let active = Some(VmState::Active);
    let at = |l: LcmState| (active, Some(l));

    // oned's retry leaves an ACTIVE VM without a failure as it is (recorded-sweep 387)
    c.vm(id).recover(2).await.expect("retry without a failure");
    assert_eq!(
        state(&c.vm(id).info().await.expect("vm")),
        at(LcmState::Prolog)
    );
    c.vm(id).recover(0).await.expect("failure");
    assert_eq!(
        state(&c.vm(id).info().await.expect("vm")),
        at(LcmState::PrologFailure)
    );
    c.vm(id).recover(2).await.expect("retry");
    assert_eq!(
        state(&c.vm(id).info().await.expect("vm")),
        at(LcmState::Prolog)
    );
    c.vm(id).recover(1).await.expect("success");
    assert_eq!(
        state(&c.vm(id).info().await.expect("vm")),
        at(LcmState::Boot)
    );
    c.vm(id).recover(1).await.expect("success");
    assert_eq!(
        state(&c.vm(id).info().await.expect("vm")),
        at(LcmState::Running)
    );
    // a RUNNING VM has nothing to recover: oned accepts it and leaves it RUNNING
    c.vm(id).recover(1).await.expect("nothing to recover");
    assert_eq!(
        state(&c.vm(id).info().await.expect("vm")),
        at(LcmState::Running)
    );

    // delete-recreate: back to PENDING with the same id, scheduled again
    c.vm(id).recover(4).await.expect("delete-recreate");
    let vm = c.vm(id).info().await.expect("vm");
    assert!(
        matches!(vm.state(), Some(VmState::Pending | VmState::Active)),
        "{:?}",
        state(&vm)
    );
    let history = vm.history_records.expect("history").history;
    assert!(
        history
            .iter()
            .any(|h| h.action() == Some(nebulair_opennebula::model::HistoryAction::DeleteRecreate)),
        "the closed record says delete-recreate"
    );

    // delete: DONE at once, the NIC lease is free again
    c.vm(id).recover(3).await.expect("delete");
    assert_eq!(
        c.vm(id).info().await.expect("vm").state(),
        Some(VmState::Done)
    );
    let public = c.vnet(VnetId::new(0)).info().await.expect("vnet");
    assert_eq!(public.used_leases, Some(0));
    // deleting a DONE VM again is accepted and changes nothing (recorded-sweep 427)
    c.vm(id).recover(3).await.expect("already DONE");
    assert_eq!(
        c.vm(id).info().await.expect("vm").state(),
        Some(VmState::Done)
    );
    let err = c
        .vm(id)
        .recover(4)
        .await
        .expect_err("delete-recreate when DONE");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        "Cannot delete-recreate a VM already in DONE state",
    );
    let err = c.vm(id).recover(2).await.expect_err("retry when DONE");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        &format!("Could not perform a retry on VM {id}, wrong state DONE."),
    );
    let err = c.vm(id).recover(9).await.expect_err("no such operation");
    assert_one_error(
        &err,
        OneErrorCode::Action,
        ErrorKind::Conflict,
        "Wrong recovery operation code",
    );
}
