//! OneGate simulator behaviours the recordings do not show, taken from the server code:
//! disabled permissions, malformed action bodies, non-numeric ids, erasing absent keys,
//! raw bodies with a form type, and the service routes.

use std::sync::Arc;

use nebulair_sim::onegate::{MemoryBackend, OneGateConfig, OneGateSim};

struct T {
    base: String,
    sim: OneGateSim,
    backend: Arc<MemoryBackend>,
    http: reqwest::Client,
}

async fn start(config: OneGateConfig) -> T {
    let backend = Arc::new(MemoryBackend::new());
    let sim = OneGateSim::with_config(backend.clone(), config);
    let (addr, _task) = sim.spawn("127.0.0.1:0").await.expect("spawn");
    nebulair_core::config::ensure_crypto_provider();
    T {
        base: format!("http://{addr}"),
        sim,
        backend,
        http: reqwest::Client::new(),
    }
}

impl T {
    async fn send(
        &self,
        vm: i32,
        method: &str,
        path: &str,
        ctype: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        let mut b = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base),
            )
            .header("X-ONEGATE-VMID", vm.to_string())
            .header("X-ONEGATE-TOKEN", self.sim.token(vm).unwrap_or_default())
            .body(body.to_owned());
        if let Some(ct) = ctype {
            b = b.header("Content-Type", ct);
        }
        let resp = b.send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("text"))
    }
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

#[tokio::test]
async fn disabled_permission_is_403() {
    let mut config = OneGateConfig::default();
    config.disabled.push(("vm".into(), "update".into()));
    let t = start(config).await;
    let vm = t.backend.add_vm("a", true);
    let (s, body) = t.send(vm, "PUT", "/vm", FORM, "data=A%3D1&type=1").await;
    assert_eq!(
        (s, body.as_str()),
        (403, "Action (update) on resource (vm) not supported")
    );
    // Other routes still work.
    assert_eq!(t.send(vm, "GET", "/vm", None, "").await.0, 200);
}

#[tokio::test]
async fn updates_deletes_and_their_errors() {
    let t = start(OneGateConfig::default()).await;
    let vm = t.backend.add_vm("a", true);
    // type in the query, raw body with several lines, unquoted spaces.
    let (s, _) = t
        .send(
            vm,
            "PUT",
            "/vm?type=1",
            Some("text/plain"),
            "A=one two\nB=x",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.backend.user_attr(vm, "A").as_deref(), Some("one two"));
    // Lower-case restricted names are refused with the name as sent.
    let (s, body) = t
        .send(vm, "PUT", "/vm", FORM, "data=role_name%3Dx&type=1")
        .await;
    assert_eq!(
        (s, body.as_str()),
        (403, "Attribute (role_name) cannot be modified")
    );
    // Erasing: present key, then absent key (500), then a key in another case (500).
    assert_eq!(t.send(vm, "PUT", "/vm", FORM, "data=A&type=2").await.0, 200);
    assert_eq!(t.backend.user_attr(vm, "A"), None);
    let (s, body) = t.send(vm, "PUT", "/vm", FORM, "data=A&type=2").await;
    assert_eq!((s, body.as_str()), (500, "Internal server error"));
    let (s, _) = t.send(vm, "PUT", "/vm", FORM, "data=Z&type=2").await;
    assert_eq!(s, 500);
    // A value OneGate's quoting breaks: oned refuses the template, OneGate says 500.
    let (s, body) = t
        .send(vm, "PUT", "/vm", FORM, "data=C%3Da%2Cb&type=1")
        .await;
    assert_eq!((s, body.as_str()), (500, "Internal server error"));
}

#[tokio::test]
async fn action_bodies_and_ids() {
    let t = start(OneGateConfig::default()).await;
    let vm = t.backend.add_vm("a", true);
    let path = format!("/vms/{vm}/action");
    let (s, body) = t.send(vm, "POST", &path, None, "{not json").await;
    assert_eq!(s, 400);
    // Ruby's JSON.parse (json 2.20.0, the gem OpenNebula 7.5.80 pins) words it
    assert_eq!(
        body, "expected object key, got 'not' at line 1 column 2",
        "{body}"
    );
    let (s, body) = t.send(vm, "POST", &path, None, "").await;
    assert_eq!(
        (s, body.as_str()),
        (400, "unexpected end of input at line 1 column 1")
    );
    let (s, body) = t
        .send(vm, "POST", &path, None, r#"{"perform":"resched"}"#)
        .await;
    assert_eq!(
        (s, body.as_str()),
        (400, "Error parsing JSON: Wrong resource type")
    );
    let (s, body) = t
        .send(
            vm,
            "POST",
            &path,
            None,
            r#"{"action":{"perform":"REBOOT"}}"#,
        )
        .await;
    assert_eq!(
        (s, body.as_str()),
        (403, "Action (REBOOT) is not allowed on this resource")
    );
    let (s, body) = t
        .send(vm, "POST", &path, None, r#"{"action":{"perform":"dance"}}"#)
        .await;
    assert_eq!((s, body.as_str()), (500, "Internal server error"));
    // Wrong state: resume a running VM.
    let (s, _) = t
        .send(
            vm,
            "POST",
            &path,
            None,
            r#"{"action":{"perform":"resume"}}"#,
        )
        .await;
    assert_eq!(s, 500);
    let (s, body) = t
        .send(
            vm,
            "POST",
            &path,
            None,
            r#"{"action":{"perform":"poweroff","params":true}}"#,
        )
        .await;
    assert_eq!((s, body.as_str()), (204, ""));
    assert_eq!(t.backend.vm_state(vm), Some((8, 0)));
    // `/vms/abc` is VM 0 (Ruby's to_i), which is this VM here.
    assert_eq!(vm, 0);
    assert_eq!(t.send(vm, "GET", "/vms/abc", None, "").await.0, 200);
    // /vnet with a non-integer id.
    let (s, body) = t.send(vm, "GET", "/vnet/abc", None, "").await;
    assert_eq!(
        (s, body.as_str()),
        (400, "Invalid id format (ID: abc). ID must be an integer.")
    );
    // Unknown routes and methods, with or without headers.
    for (m, p) in [
        ("DELETE", "/vm"),
        ("GET", "/vm/"),
        ("PATCH", "/service"),
        ("GET", "/vms/"),
    ] {
        let (s, body) = t.send(vm, m, p, None, "").await;
        assert_eq!(
            (s, body.as_str()),
            (400, "OneGate server doesn't support this feature"),
            "{m} {p}"
        );
    }
}

#[tokio::test]
async fn services_by_id_and_scaling_record_cardinality() {
    let t = start(OneGateConfig::default()).await;
    let a = t.backend.add_vm("a", true);
    let b = t.backend.add_vm("b", true);
    let outsider = t.backend.add_vm("c", true);
    let svc = t
        .sim
        .create_service("s", &[("web", &[a, b])])
        .expect("service");
    assert_eq!(t.backend.user_attr(a, "SERVICE_ID"), Some(svc.to_string()));
    let (s, body) = t
        .send(a, "GET", &format!("/vms/{outsider}"), None, "")
        .await;
    assert_eq!(
        (s, body),
        (
            400,
            format!("Service {svc} does not contain VM {outsider}.")
        )
    );
    let (s, body) = t.send(a, "GET", "/service", FORM, "extended=true").await;
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["SERVICE"]["id"], serde_json::json!(svc.to_string()));
    assert!(v["SERVICE"]["roles"][0]["nodes"][0]["vm_info"]["VM"]["USER_TEMPLATE"].is_object());
    // Scaling up clones the first VM; down terminates the last ones.
    let (s, _) = t
        .send(
            a,
            "PUT",
            "/service/role/web",
            Some("application/json"),
            r#"{"cardinality": 3}"#,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.sim.role_cardinality(svc, "web"), Some(3));
    let (s, _) = t
        .send(a, "PUT", "/service/role/web", None, r#"{"cardinality": 1}"#)
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.sim.role_cardinality(svc, "web"), Some(1));
    assert_eq!(t.backend.vm_state(b), Some((6, 0)));
    let (s, body) = t
        .send(
            a,
            "PUT",
            "/service/role/web",
            None,
            r#"{"cardinality": "many"}"#,
        )
        .await;
    assert_eq!(
        (s, body),
        (
            400,
            format!("Error performing action on service {svc} role web")
        )
    );
}
