//! `OneGateClient` against the OneGate simulator running on the oned simulator's state:
//! every call, token failures, restricted attributes and actions, and the
//! object-or-array shapes.

use std::sync::Arc;
use std::time::Duration;

use nebulair_core::ErrorKind;
use nebulair_opennebula::ids::{VmId, VnetId};
use nebulair_opennebula::onegate::{AttrValue, OneGateClient, VmAction, VmAttributes};
use nebulair_sim::one::{OneSimHandle, OneSimulator};
use nebulair_sim::onegate::{OneGateSim, OneSimBackend};

const SESSION: &str = "oneadmin:opennebula";

struct Env {
    one: Arc<OneSimHandle>,
    gate: OneGateSim,
    endpoint: String,
}

impl Env {
    async fn start() -> Env {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let one = Arc::new(
            OneSimulator::builder()
                .onegate_endpoint(endpoint.clone())
                .start()
                .await
                .expect("oned simulator"),
        );
        let rpc = one.clone();
        let backend = OneSimBackend::new(one.state()).with_rpc(SESSION, move |b| rpc.call_raw(b));
        let gate = OneGateSim::new(Arc::new(backend));
        gate.serve(listener);
        Env {
            one,
            gate,
            endpoint,
        }
    }

    fn rpc(&self, method: &str, params: &str) -> String {
        let body = format!(
            "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>\
             <param><value><string>{SESSION}</string></value></param>{params}</params></methodCall>"
        );
        self.one.call_raw(body.as_bytes())
    }

    /// Instantiates template 0 (`ttylinux`, one NIC on `public`) and waits for RUNNING.
    async fn vm(&self, name: &str, token: bool) -> i32 {
        let extra = if token {
            "CONTEXT=[TOKEN=&quot;YES&quot;]"
        } else {
            ""
        };
        let answer = self.rpc(
            "one.template.instantiate",
            &format!(
                "<param><value><i4>0</i4></value></param>\
                 <param><value><string>{name}</string></value></param>\
                 <param><value><boolean>0</boolean></value></param>\
                 <param><value><string>{extra}</string></value></param>\
                 <param><value><boolean>0</boolean></value></param>"
            ),
        );
        let id: i32 = answer
            .split("<i4>")
            .nth(1)
            .and_then(|s| s.split("</i4>").next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("instantiate failed: {answer}"));
        self.wait_running(id).await;
        id
    }

    async fn wait_running(&self, id: i32) {
        for _ in 0..500 {
            let v = self.one.state().vm_info(id).expect("vm");
            if v.state == 3 && v.lcm_state == 3 {
                return;
            }
            self.one.run_scheduler();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("VM {id} never reached RUNNING");
    }

    fn client(&self, vm: i32) -> OneGateClient {
        OneGateClient::builder()
            .endpoint(&self.endpoint)
            .vm_id(VmId::new(vm))
            .token(self.gate.token(vm).expect("token"))
            .build()
            .expect("client")
    }

    fn user_attr(&self, vm: i32, key: &str) -> Option<String> {
        self.one
            .state()
            .vm_info(vm)
            .expect("vm")
            .user_attributes
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

fn server_text(err: &nebulair_core::Error) -> &str {
    err.service().map(|s| s.message()).unwrap_or_default()
}

#[tokio::test]
async fn own_vm_read_update_delete_is_shared_with_oned() {
    let env = Env::start().await;
    let id = env.vm("gate-0", true).await;
    let gate = env.client(id);

    let root = gate.root().await.expect("root");
    assert!(root.vm_info.ends_with("/vm"));

    let vm = gate.vm().await.expect("vm");
    assert_eq!(vm.id, VmId::new(id));
    assert_eq!(vm.name, "gate-0");
    assert!(vm.is_running());
    assert_eq!(vm.template.nics.len(), 1);
    assert!(vm.template.nics[0].ip.is_some());

    gate.update_vm(
        &VmAttributes::new()
            .set("ONEGATE_LOAD", 0.75)
            .set("ONEGATE_STATUS", "all good")
            .set_vector("ONEGATE_VEC", [("X", "1"), ("Y", "2")]),
    )
    .await
    .expect("update");
    // The same state oned serves: one.vm.info shows it.
    assert_eq!(env.user_attr(id, "ONEGATE_LOAD").as_deref(), Some("0.75"));
    let info = env.rpc(
        "one.vm.info",
        &format!("<param><value><i4>{id}</i4></value></param>"),
    );
    assert!(info.contains("ONEGATE_STATUS"), "{info}");
    let vm = gate.vm().await.expect("vm");
    assert_eq!(vm.user_attr("ONEGATE_STATUS"), Some("all good"));
    // A vector attribute comes back as an object.
    assert_eq!(
        vm.user_template
            .get("ONEGATE_VEC")
            .and_then(|v| v.get("Y"))
            .and_then(AttrValue::as_str),
        Some("2")
    );

    gate.delete_vm_attr("ONEGATE_STATUS").await.expect("delete");
    assert_eq!(env.user_attr(id, "ONEGATE_STATUS"), None);
    let err = gate
        .delete_vm_attr("ONEGATE_STATUS")
        .await
        .expect_err("absent");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(server_text(&err), "Internal server error");

    // Restricted attributes, whatever the case.
    let err = gate
        .update_vm(&VmAttributes::new().set("SERVICE_ID", 3))
        .await
        .expect_err("restricted");
    assert_eq!(err.kind(), ErrorKind::Authorization);
    assert_eq!(
        server_text(&err),
        "Attribute (SERVICE_ID) cannot be modified"
    );
    let err = gate
        .delete_vm_attr("sched_requirements")
        .await
        .expect_err("restricted");
    assert_eq!(
        server_text(&err),
        "Attribute (sched_requirements) cannot be deleted"
    );

    // By id, the VM itself is allowed; a stranger is not.
    let same = gate.vm_by_id(VmId::new(id)).await.expect("self by id");
    assert_eq!(same.id, VmId::new(id));
    gate.update_vm_by_id(
        VmId::new(id),
        &VmAttributes::new().set("ONEGATE_BY_ID", "yes"),
    )
    .await
    .expect("update by id");
    assert_eq!(env.user_attr(id, "ONEGATE_BY_ID").as_deref(), Some("yes"));
    let other = env.vm("stranger", false).await;
    let err = gate.vm_by_id(VmId::new(other)).await.expect_err("stranger");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(server_text(&err).starts_with("This VM does not belong"));

    // Not in a service or a virtual router.
    let err = gate.service(false).await.expect_err("no service");
    assert_eq!(server_text(&err), "Empty or invalid SERVICE_ID");
    let err = gate.scale_role("web", 2).await.expect_err("no service");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = gate.vrouter().await.expect_err("no vrouter");
    assert_eq!(server_text(&err), "Empty or invalid VROUTER_ID");
    let err = gate
        .vnet(VnetId::new(0), false)
        .await
        .expect_err("no vrouter");
    assert_eq!(
        server_text(&err),
        "Virtual networks information can only be retrieved from Virtual Routers."
    );
}

#[tokio::test]
async fn token_failures_are_authentication_errors() {
    let env = Env::start().await;
    let id = env.vm("gate-1", true).await;
    let no_token = env.vm("plain", false).await;
    assert!(env.gate.token(no_token).is_none());
    for (vm, token) in [
        (id, "AAAAAAAAAAAAAAAAAAAAAA==".to_owned()),
        (no_token, env.gate.token(id).expect("token")),
        (9999, env.gate.token(id).expect("token")),
    ] {
        let gate = OneGateClient::builder()
            .endpoint(&env.endpoint)
            .vm_id(VmId::new(vm))
            .token(token)
            .build()
            .expect("client");
        let err = gate.vm().await.expect_err("401");
        assert_eq!(err.kind(), ErrorKind::Authentication, "{vm}");
        assert_eq!(err.http_status(), Some(401));
        assert_eq!(server_text(&err), "Not authorized");
    }
}

#[tokio::test]
async fn service_actions_and_scaling() {
    let env = Env::start().await;
    let a = env.vm("web-a", true).await;
    let b = env.vm("web-b", true).await;
    let svc = env
        .gate
        .create_service("shop", &[("web", &[a, b])])
        .expect("service");
    let gate = env.client(a);

    let service = gate.service(false).await.expect("service");
    assert_eq!(service.id.get(), svc);
    assert_eq!(service.name, "shop");
    let web = service.role("web").expect("role");
    assert_eq!(web.cardinality, 2);
    assert_eq!(web.nodes.len(), 2);
    assert_eq!(web.nodes[1].deploy_id, VmId::new(b));
    assert_eq!(web.nodes[0].running, Some(true));
    let node = web.nodes[0].vm_info.as_ref().expect("vm_info");
    assert_eq!(node.vm.name, "web-a");
    assert!(node.vm.other.is_empty());
    // Extended: the whole VM document of each node.
    let ext = gate.service(true).await.expect("extended");
    let node = ext.roles[0].nodes[0].vm_info.as_ref().expect("vm_info");
    assert!(
        node.vm.other.contains_key("TEMPLATE"),
        "{:?}",
        node.vm.other.keys()
    );
    assert_eq!(
        node.vm.user_template.get("ROLE_NAME"),
        Some(&AttrValue::from("web"))
    );

    // Another VM of the service: read, update, act.
    let other = gate.vm_by_id(VmId::new(b)).await.expect("sibling");
    assert_eq!(other.name, "web-b");
    gate.update_vm_by_id(VmId::new(b), &VmAttributes::new().set("ONEGATE_PEER", a))
        .await
        .expect("update sibling");
    assert_eq!(env.user_attr(b, "ONEGATE_PEER"), Some(a.to_string()));
    gate.vm_action(VmId::new(b), VmAction::Rename, Some("web-b2".into()))
        .await
        .expect("rename");
    assert_eq!(env.one.state().vm_info(b).expect("vm").name, "web-b2");
    gate.vm_action(VmId::new(b), VmAction::Resched, None)
        .await
        .expect("resched");
    let err = gate
        .vm_action(VmId::new(b), VmAction::Reboot, None)
        .await
        .expect_err("restricted action");
    assert_eq!(err.kind(), ErrorKind::Authorization);
    assert_eq!(
        server_text(&err),
        "Action (reboot) is not allowed on this resource"
    );
    let err = gate
        .vm_action(VmId::new(b), VmAction::Other("dance".into()), None)
        .await
        .expect_err("unknown action");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(server_text(&err), "Internal server error");
    gate.vm_action(VmId::new(b), VmAction::Poweroff, Some(true.into()))
        .await
        .expect("poweroff --hard");

    // Scaling: up creates VMs from the same template, OneFlow records the cardinality.
    gate.scale_role("web", 3).await.expect("scale up");
    assert_eq!(env.gate.role_cardinality(svc, "web"), Some(3));
    let service = gate.service(false).await.expect("service");
    assert_eq!(service.roles[0].nodes.len(), 3);
    let err = gate.scale_role("db", 1).await.expect_err("no such role");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        server_text(&err),
        format!("Error performing action on service {svc} role db")
    );
}

#[tokio::test]
async fn virtual_router_and_networks() {
    let env = Env::start().await;
    let a = env.vm("vr-a", true).await;
    let b = env.vm("vr-b", true).await;
    let solo = env.vm("vr-solo", true).await;
    let vr = env.gate.create_vrouter("router", &[a, b], &[0]);
    env.gate.create_vrouter("solo", &[solo], &[0]);
    let gate = env.client(a);

    // Several VMs: ids arrive as numbers.
    let router = gate.vrouter().await.expect("vrouter");
    assert_eq!(router.id.get(), vr);
    assert_eq!(router.vms, [VmId::new(a), VmId::new(b)]);
    assert_eq!(router.template.nics.len(), 1);
    // One VM: the id arrives as a string in a list; same typed result.
    let solo_router = env.client(solo).vrouter().await.expect("vrouter");
    assert_eq!(solo_router.vms, [VmId::new(solo)]);

    let sibling = gate.vm_by_id(VmId::new(b)).await.expect("router sibling");
    assert_eq!(sibling.name, "vr-b");
    let err = gate
        .vm_by_id(VmId::new(solo))
        .await
        .expect_err("other router");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let vnet = gate.vnet(VnetId::new(0), false).await.expect("vnet");
    assert_eq!(vnet.id, VnetId::new(0));
    assert!(!vnet.ar_pool.ars.is_empty());
    let leases: Vec<_> = vnet.ar_pool.ars.iter().flat_map(|ar| &ar.leases).collect();
    assert!(leases.iter().any(|l| l.vm == Some(VmId::new(a))));
    assert!(leases.iter().all(|l| l.nic_name.is_none()));
    let ext = gate
        .vnet(VnetId::new(0), true)
        .await
        .expect("extended vnet");
    let mine = ext
        .ar_pool
        .ars
        .iter()
        .flat_map(|ar| &ar.leases)
        .find(|l| l.vm == Some(VmId::new(a)))
        .expect("lease of this VM");
    assert_eq!(mine.nic_name.as_deref(), Some("NIC0"));
    let err = gate.vnet(VnetId::new(77), false).await.expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(server_text(&err), "Virtual network 77 not found");
}
