//! The OneGate client against the exchanges recorded from a real OneGate 7.5 server
//! (tests/data/onegate/NNN_*.json) and the OneGate JSON samples.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use nebulair_core::{ErrorKind, HttpResponse, MockTransport};
use nebulair_opennebula::ids::{VmId, VnetId};
use nebulair_opennebula::onegate::{
    AttrValue, OneGateClient, OneGateService, OneGateVm, OneGateVnet, OneGateVrouter, RoleState,
    ServiceState, VmAction, VmAttributes,
};
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/onegate");

struct Exchange {
    name: String,
    method: String,
    path: String,
    vmid: Option<String>,
    status: u16,
    content_type: Option<String>,
    body: String,
}

fn header(list: &Value, name: &str) -> Option<String> {
    list.as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str().map(str::to_owned))
}

fn exchanges() -> Vec<Exchange> {
    let mut names: Vec<String> = std::fs::read_dir(DATA)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.as_bytes().first().is_some_and(u8::is_ascii_digit) && n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "recordings missing: {}", names.len());
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(format!("{DATA}/{name}")).expect("read");
            let v: Value = serde_json::from_str(&text).expect("json");
            Exchange {
                method: v["request"]["method"].as_str().expect("method").to_owned(),
                path: v["request"]["path"].as_str().expect("path").to_owned(),
                vmid: header(&v["request"]["headers"], "X-ONEGATE-VMID"),
                status: u16::try_from(v["response"]["status"].as_u64().expect("status"))
                    .expect("u16"),
                content_type: header(&v["response"]["headers"], "Content-Type"),
                body: v["response"]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                name,
            }
        })
        .collect()
}

fn client_for(mock: &Arc<MockTransport>, vmid: i32) -> OneGateClient {
    OneGateClient::builder()
        .endpoint("http://127.0.0.1:5030")
        .vm_id(VmId::new(vmid))
        .token("recorded-token")
        .transport(mock.clone())
        .build()
        .expect("client")
}

/// What a call returned, reduced to what the recordings can be compared with.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Err(ErrorKind, String),
}

async fn call(client: &OneGateClient, ex: &Exchange) -> Option<Outcome> {
    let path = ex.path.split('?').next().unwrap_or_default();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let attrs = VmAttributes::new().set("ONEGATE_X", 1);
    let res = match (ex.method.as_str(), segs.as_slice()) {
        ("GET", [""]) => client.root().await.map(drop),
        ("GET", ["vm"]) => client.vm().await.map(drop),
        ("PUT", ["vm"]) => client.update_vm(&attrs).await,
        ("GET", ["vms", id]) => client.vm_by_id(id.parse().ok()?).await.map(drop),
        ("PUT", ["vms", id]) => client.update_vm_by_id(id.parse().ok()?, &attrs).await,
        ("POST", ["vms", id, "action"]) => {
            client
                .vm_action(id.parse().ok()?, VmAction::Resched, None)
                .await
        }
        ("GET", ["service"]) => client.service(false).await.map(drop),
        ("PUT", ["service", "role", role]) => client.scale_role(role, 2).await,
        ("GET", ["vrouter"]) => client.vrouter().await.map(drop),
        ("GET", ["vnet", id]) => client.vnet(id.parse().ok()?, false).await.map(drop),
        _ => return None,
    };
    Some(match res {
        Ok(()) => Outcome::Ok,
        Err(e) => Outcome::Err(
            e.kind(),
            e.service()
                .map(|s| s.message().to_owned())
                .unwrap_or_default(),
        ),
    })
}

#[tokio::test]
async fn every_recorded_answer_maps_to_the_right_result() {
    let mut checked = 0;
    for ex in exchanges() {
        let mock = Arc::new(MockTransport::new());
        let mut resp = HttpResponse::new(ex.status, ex.body.clone());
        if let Some(ct) = &ex.content_type {
            resp = resp.with_header("Content-Type", ct);
        }
        mock.push_response(resp);
        let vmid = ex
            .vmid
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2007);
        let client = client_for(&mock, vmid);
        let Some(outcome) = call(&client, &ex).await else {
            // Unknown routes (/nowhere) have no client call.
            assert_eq!(ex.status, 400, "{}", ex.name);
            continue;
        };
        let expected = match ex.status {
            200..=299 => Outcome::Ok,
            401 => Outcome::Err(ErrorKind::Authentication, ex.body.clone()),
            403 => Outcome::Err(ErrorKind::Authorization, ex.body.clone()),
            404 => Outcome::Err(ErrorKind::NotFound, ex.body.clone()),
            400 => Outcome::Err(ErrorKind::InvalidInput, ex.body.clone()),
            _ => Outcome::Err(ErrorKind::Server, ex.body.clone()),
        };
        assert_eq!(outcome, expected, "{}", ex.name);
        // The request went where the recording says, with the OneGate headers.
        let req = &mock.requests()[0];
        assert_eq!(req.method.as_str(), ex.method, "{}", ex.name);
        assert_eq!(
            req.url.path(),
            ex.path.split('?').next().unwrap_or_default(),
            "{}",
            ex.name
        );
        assert_eq!(req.header_str("X-ONEGATE-TOKEN"), Some("recorded-token"));
        assert_eq!(
            req.header_str("X-ONEGATE-VMID"),
            Some(vmid.to_string().as_str())
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} exchanges checked");
}

#[test]
fn recorded_vm_documents_decode() {
    for ex in exchanges() {
        if ex.status != 200 || !ex.body.starts_with("{\"VM\"") {
            continue;
        }
        let v: Value = serde_json::from_str(&ex.body).expect("json");
        let vm: OneGateVm = serde_json::from_value(v["VM"].clone()).expect(&ex.name);
        assert!(vm.is_running(), "{}", ex.name);
        assert_eq!(vm.template.nics.len(), 1, "{}", ex.name);
        assert!(vm.template.nic_aliases.is_empty());
    }
    let after: Value = serde_json::from_str(
        &exchanges()
            .into_iter()
            .find(|e| e.name.starts_with("008_"))
            .expect("008")
            .body,
    )
    .expect("json");
    let vm: OneGateVm = serde_json::from_value(after["VM"].clone()).expect("vm");
    assert_eq!(vm.id, VmId::new(2007));
    assert_eq!(vm.name, "onegate-rec");
    assert_eq!(vm.user_attr("ONEGATE_B"), Some("quoted two"));
    // A vector attribute comes back as an object.
    let vec = vm.user_template.get("ONEGATE_VEC").expect("vector");
    assert_eq!(vec.get("X").and_then(AttrValue::as_str), Some("1"));
    assert_eq!(vm.template.nics[0].ip.as_deref(), Some("10.0.0.11"));
    assert_eq!(vm.template.nics[0].name.as_deref(), Some("NIC0"));
}

#[test]
fn recorded_vrouter_and_vnet_decode() {
    let all = exchanges();
    let body = |prefix: &str| -> Value {
        serde_json::from_str(
            &all.iter()
                .find(|e| e.name.starts_with(prefix))
                .expect(prefix)
                .body,
        )
        .expect("json")
    };
    // VMS.ID is an array of numbers here.
    let vr: OneGateVrouter = serde_json::from_value(body("054_")["VROUTER"].clone()).expect("vr");
    assert_eq!(vr.vms, [VmId::new(2008), VmId::new(2009)]);
    assert_eq!(vr.template.nics.len(), 1);
    assert_eq!(
        vr.template.nics[0]
            .get("NETWORK_ID")
            .and_then(AttrValue::as_str),
        Some("0")
    );
    assert_eq!(
        vr.template
            .other
            .get("TEMPLATE_ID")
            .and_then(AttrValue::as_str),
        Some("7")
    );
    // VROUTERS.ID is an array of strings, PARENT_NETWORK_ID is {}.
    let vnet: OneGateVnet = serde_json::from_value(body("056_")["VNET"].clone()).expect("vnet");
    assert_eq!(vnet.id, VnetId::new(0));
    assert_eq!(vnet.used_leases, 5);
    assert_eq!(vnet.vrouters.len(), 2);
    assert_eq!(vnet.parent_network_id, None);
    assert_eq!(vnet.ar_pool.ars.len(), 3);
    let ar0 = &vnet.ar_pool.ars[0];
    assert_eq!(ar0.ar_type, "IP4");
    assert_eq!(ar0.size, 50);
    assert_eq!(ar0.attr("IP_END"), Some("10.0.0.59"));
    assert_eq!(ar0.leases.len(), 5);
    assert_eq!(ar0.leases[1].vm, Some(VmId::new(2007)));
    assert!(vnet.ar_pool.ars[1].leases.is_empty());
    assert_eq!(
        vnet.template.get("GATEWAY").and_then(AttrValue::as_str),
        Some("10.0.0.1")
    );
}

#[test]
fn samples_decode() {
    let read = |n: &str| std::fs::read_to_string(format!("{DATA}/{n}")).expect(n);
    let v: Value = serde_json::from_str(&read("onegate_service.json")).expect("json");
    let svc: OneGateService = serde_json::from_value(v["SERVICE"].clone()).expect("service");
    assert_eq!(svc.name, "svc");
    assert_eq!(svc.id.get(), 4);
    assert_eq!(svc.state, ServiceState::Running);
    let web = svc.role("web").expect("role");
    assert_eq!(web.cardinality, 2);
    assert_eq!(web.state, RoleState::Running);
    assert_eq!(web.nodes.len(), 2);
    assert_eq!(web.nodes[0].deploy_id, VmId::new(1));
    assert_eq!(web.nodes[0].running, Some(true));
    let info = web.nodes[1].vm_info.as_ref().expect("vm_info");
    assert_eq!(info.vm.name, "web_1_(service_4)");
    assert_eq!(info.vm.state, Some(3));

    let v: Value = serde_json::from_str(&read("onegate_vm.json")).expect("json");
    let vm: OneGateVm = serde_json::from_value(v["VM"].clone()).expect("vm");
    assert_eq!(vm.user_attr("SERVICE_ID"), Some("4"));
    assert_eq!(vm.user_attr("ONEGATE_APP_LOAD"), Some("9.7"));

    let root: nebulair_opennebula::onegate::OneGateRoot =
        serde_json::from_str(&read("onegate_root.json")).expect("root");
    assert_eq!(root.vm_info, "http://169.254.16.9:5030/vm");
}

#[test]
fn object_or_array_shapes() {
    // One NIC sent as an object, ids and states as numbers, no NIC_ALIAS at all.
    let vm: OneGateVm = serde_json::from_value(serde_json::json!({
        "NAME": "x", "ID": 9, "STATE": 3, "LCM_STATE": "3",
        "USER_TEMPLATE": {"LIST": ["a", "b"], "N": 5},
        "TEMPLATE": {"NIC": {"IP": "10.0.0.1", "MAC": "02:00"}}
    }))
    .expect("vm");
    assert_eq!(vm.template.nics.len(), 1);
    assert!(vm.template.nic_aliases.is_empty());
    assert_eq!(vm.user_attr("N"), Some("5"));
    assert_eq!(
        vm.user_template.get("LIST").map(|v| v.as_list().len()),
        Some(2)
    );
    // One AR and one lease as objects, a single router id, a parent network.
    let vnet: OneGateVnet = serde_json::from_value(serde_json::json!({
        "ID": "3", "NAME": "n", "USED_LEASES": "1", "VROUTERS": {"ID": "4"},
        "PARENT_NETWORK_ID": "1",
        "AR_POOL": {"AR": {"AR_ID": "0", "TYPE": "IP4", "SIZE": "2",
            "LEASES": {"LEASE": {"IP": "10.0.0.2", "VM": "5", "NIC_NAME": "NIC0"}}}},
        "TEMPLATE": {}
    }))
    .expect("vnet");
    assert_eq!(vnet.vrouters.len(), 1);
    assert_eq!(vnet.parent_network_id, Some(VnetId::new(1)));
    assert_eq!(
        vnet.ar_pool.ars[0].leases[0].nic_name.as_deref(),
        Some("NIC0")
    );
    // A role with one node as an object; an empty VMS element.
    let svc: OneGateService = serde_json::from_value(serde_json::json!({
        "name": "s", "id": 2, "state": "8",
        "roles": {"name": "r", "cardinality": "1", "state": 99,
                  "nodes": {"deploy_id": "7", "running": null}}
    }))
    .expect("service");
    assert_eq!(svc.state, ServiceState::Scaling);
    assert_eq!(svc.roles[0].state, RoleState::Unknown(99));
    assert_eq!(svc.roles[0].nodes[0].running, None);
    let vr: OneGateVrouter = serde_json::from_value(serde_json::json!({
        "NAME": "v", "ID": 1, "VMS": {}, "TEMPLATE": {"NIC": {"NETWORK_ID": "0"}}
    }))
    .expect("vrouter");
    assert!(vr.vms.is_empty());
    assert_eq!(vr.template.nics.len(), 1);
    // Wrong types are errors, not panics or silent defaults.
    assert!(serde_json::from_value::<OneGateVm>(serde_json::json!({"ID": "abc"})).is_err());
    assert!(
        serde_json::from_value::<OneGateVm>(serde_json::json!({"ID": "1", "TEMPLATE": {"NIC": 5}}))
            .is_err()
    );
}

/// The real transport (reqwest) against a loopback server answering like OneGate.
#[tokio::test]
async fn reqwest_transport_against_a_loopback_onegate() {
    let ex = exchanges()
        .into_iter()
        .find(|e| e.name.starts_with("002_"))
        .expect("002");
    let body = ex.body.clone();
    let app = Router::new().route(
        "/vm",
        get(move |headers: HeaderMap| {
            let body = body.clone();
            async move {
                let ok = headers.get("x-onegate-token").is_some_and(|v| v == "tok")
                    && headers.get("x-onegate-vmid").is_some_and(|v| v == "2007");
                if ok {
                    (
                        StatusCode::OK,
                        [("content-type", "application/json;charset=utf-8")],
                        body,
                    )
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        [("content-type", "application/json;charset=utf-8")],
                        "Not authorized".to_owned(),
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoint = format!("http://{addr}");
    let good = OneGateClient::builder()
        .endpoint(&endpoint)
        .vm_id(VmId::new(2007))
        .token("tok")
        .build()
        .expect("client");
    let vm = good.vm().await.expect("vm");
    assert_eq!(vm.name, "onegate-rec");
    let bad = OneGateClient::builder()
        .endpoint(&endpoint)
        .vm_id(VmId::new(2007))
        .token("wrong")
        .build()
        .expect("client");
    let err = bad.vm().await.expect_err("401");
    assert!(err.is_authentication());
    assert_eq!(err.service().map(|s| s.message()), Some("Not authorized"));
    assert!(!err.to_string().contains("wrong"));
}
