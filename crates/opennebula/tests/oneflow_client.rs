//! The OneFlow client against a recording mock: the method, path and JSON body of every
//! route, basic auth, typed answers and the `{"error": {"message"}}` errors.
//!
//! (Not against a simulator: the OneFlow simulator is not written yet.)

use std::sync::Arc;

use nebulair_core::{Credentials, ErrorKind, HttpResponse, MockTransport};
use nebulair_opennebula::ids::{DocumentId, GroupId, TemplateId, UserId};
use nebulair_opennebula::oneflow::{
    FlowClient, InstantiateOptions, RoleAction, RoleTemplate, ServiceState, ServiceTemplateBody,
};
use serde_json::{Value, json};

const TEMPLATE: &str = r#"{"DOCUMENT":{"ID":"4","UID":"0","GID":"0","UNAME":"oneadmin","GNAME":"oneadmin","NAME":"shop","TYPE":"101","TEMPLATE":{"BODY":{"name":"shop","deployment":"straight","roles":[{"name":"db","cardinality":1,"template_id":0},{"name":"web","cardinality":2,"template_id":0,"parents":["db"]}]}}}}"#;
const SERVICE: &str = r#"{"DOCUMENT":{"ID":"9","NAME":"shop-1","TYPE":"100","TEMPLATE":{"BODY":{"name":"shop-1","state":1,"roles":[{"name":"db","state":1,"cardinality":1,"nodes":[{"deploy_id":12}]}]}}}}"#;

fn client(mock: &Arc<MockTransport>) -> FlowClient {
    FlowClient::builder()
        .endpoint("http://frontend:2474/")
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .transport(mock.clone())
        .build()
        .expect("client")
}

fn last(mock: &MockTransport) -> (String, String, Value) {
    let r = mock.requests().pop().expect("a request");
    let body = if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&r.body).expect("JSON body")
    };
    (r.method.to_string(), r.url.path().to_owned(), body)
}

#[tokio::test]
async fn template_routes() {
    let mock = Arc::new(MockTransport::new());
    let flow = client(&mock);
    mock.push_response(HttpResponse::new(
        200,
        format!(
            r#"{{"DOCUMENT_POOL":{{"DOCUMENT":[{}]}}}}"#,
            &TEMPLATE[12..TEMPLATE.len() - 1]
        ),
    ));
    let all = flow.templates().list().await.expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].body().roles[1].parents, ["db"]);
    let r = mock.requests().pop().expect("req");
    assert_eq!(
        r.header_str("Authorization"),
        Some("Basic b25lYWRtaW46b3Blbm5lYnVsYQ==")
    );
    assert_eq!(
        (r.method.as_str(), r.url.path()),
        ("GET", "/service_template")
    );

    mock.push_response(HttpResponse::new(201, TEMPLATE));
    let body =
        ServiceTemplateBody::new("shop", vec![RoleTemplate::new("db", TemplateId::new(0), 1)]);
    let t = flow.templates().create(&body).await.expect("create");
    assert_eq!(t.id, DocumentId::new(4));
    let (m, p, b) = last(&mock);
    assert_eq!((m.as_str(), p.as_str()), ("POST", "/service_template"));
    assert_eq!(b["roles"][0]["name"], "db");
    assert_eq!(b["deployment"], "none");

    mock.push_response(HttpResponse::new(200, TEMPLATE));
    flow.templates().update(t.id, &body).await.expect("update");
    assert_eq!(last(&mock).0, "PUT");

    mock.push_response(HttpResponse::new(201, SERVICE));
    let s = flow
        .templates()
        .instantiate(
            t.id,
            &InstantiateOptions::new()
                .name("shop-1")
                .user_input("SIZE", "2"),
        )
        .await
        .expect("instantiate");
    assert_eq!(s.body().state, ServiceState::Deploying);
    let (_, p, b) = last(&mock);
    assert_eq!(p, "/service_template/4/action");
    assert_eq!(b["action"]["perform"], "instantiate");
    assert_eq!(b["action"]["params"]["merge_template"]["name"], "shop-1");
    assert_eq!(
        b["action"]["params"]["merge_template"]["user_inputs_values"]["SIZE"],
        "2"
    );

    for (call, perform, params) in [
        ("chown", "chown", json!({"owner_id": 2, "group_id": -1})),
        ("chgrp", "chgrp", json!({"group_id": 1})),
        ("chmod", "chmod", json!({"octet": "640"})),
        ("rename", "rename", json!({"name": "shop2"})),
    ] {
        mock.push_response(HttpResponse::new(204, ""));
        let r = match call {
            "chown" => flow.templates().chown(t.id, UserId::new(2), None).await,
            "chgrp" => flow.templates().chgrp(t.id, GroupId::USERS).await,
            "chmod" => flow.templates().chmod(t.id, "640").await,
            _ => flow.templates().rename(t.id, "shop2").await,
        };
        r.expect(call);
        let (_, p, b) = last(&mock);
        assert_eq!(p, "/service_template/4/action");
        assert_eq!(b["action"]["perform"], perform);
        assert_eq!(b["action"]["params"], params, "{call}");
    }
    let before = mock.request_count();
    assert_eq!(
        flow.templates()
            .chmod(t.id, "99")
            .await
            .expect_err("octet")
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(mock.request_count(), before, "a bad octet is not sent");

    mock.push_response(HttpResponse::new(204, ""));
    flow.templates()
        .delete(t.id, nebulair_opennebula::oneflow::DeleteMode::TemplateOnly)
        .await
        .expect("delete");
    assert_eq!(last(&mock).0, "DELETE");
}

#[tokio::test]
async fn service_routes_and_errors() {
    let mock = Arc::new(MockTransport::new());
    let flow = client(&mock);
    let id = DocumentId::new(9);
    mock.push_response(HttpResponse::new(200, SERVICE));
    let s = flow.services().show(id).await.expect("show");
    assert_eq!(s.body().vm_ids().len(), 1);
    assert_eq!(last(&mock).1, "/service/9");

    mock.push_response(HttpResponse::new(201, ""));
    flow.services()
        .scale(id, "web", 4, true)
        .await
        .expect("scale");
    let (m, p, b) = last(&mock);
    assert_eq!((m.as_str(), p.as_str()), ("POST", "/service/9/scale"));
    assert_eq!(
        b,
        json!({"role_name": "web", "cardinality": 4, "force": true})
    );

    mock.push_response(HttpResponse::new(201, ""));
    flow.services()
        .role_action(id, "web", RoleAction::PoweroffHard, Some((30, 2)))
        .await
        .expect("role action");
    let (_, p, b) = last(&mock);
    assert_eq!(p, "/service/9/role/web/action");
    assert_eq!(
        b,
        json!({"action": {"perform": "poweroff-hard", "params": {"period": 30, "number": 2}}})
    );

    mock.push_response(HttpResponse::new(204, ""));
    flow.services().recover(id, true).await.expect("recover");
    let (_, p, b) = last(&mock);
    assert_eq!(p, "/service/9/action");
    assert_eq!(
        b["action"],
        json!({"perform": "recover", "params": {"delete": true}})
    );

    mock.push_response(HttpResponse::new(204, ""));
    flow.services().delete(id).await.expect("delete");
    assert_eq!(last(&mock).0, "DELETE");

    mock.push_response(HttpResponse::new(
        400,
        r#"{"error":{"message":"Role 'nope' not found"}}"#,
    ));
    let e = flow
        .services()
        .scale(id, "nope", 1, false)
        .await
        .expect_err("unknown role");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        e.service().map(|s| s.message()),
        Some("Role 'nope' not found")
    );
    assert_eq!(e.service().map(|s| s.provider()), Some("oneflow"));

    mock.push_response(HttpResponse::new(
        404,
        r#"{"error":{"message":"Error getting document [9]."}}"#,
    ));
    assert!(
        flow.services()
            .show(id)
            .await
            .expect_err("gone")
            .is_not_found()
    );
    mock.push_response(HttpResponse::new(
        401,
        "A username and password must be provided",
    ));
    assert_eq!(
        flow.services().list().await.expect_err("auth").kind(),
        ErrorKind::Authentication
    );

    // Names: one match, none, several.
    let pool = r#"{"DOCUMENT_POOL":{"DOCUMENT":[
        {"ID":"1","NAME":"a","TEMPLATE":{"BODY":{"name":"a","state":2,"roles":[]}}},
        {"ID":"2","NAME":"b","TEMPLATE":{"BODY":{"name":"b","state":2,"roles":[]}}},
        {"ID":"3","NAME":"b","TEMPLATE":{"BODY":{"name":"b","state":2,"roles":[]}}}]}}"#;
    mock.push_response(HttpResponse::new(200, pool));
    assert_eq!(
        flow.services().resolve("a").await.expect("a"),
        DocumentId::new(1)
    );
    mock.push_response(HttpResponse::new(200, pool));
    assert!(
        flow.services()
            .by_name("b")
            .await
            .expect_err("two")
            .is_ambiguous()
    );
    mock.push_response(HttpResponse::new(200, pool));
    assert!(
        flow.services()
            .by_name("z")
            .await
            .expect_err("none")
            .is_not_found()
    );
    assert_eq!(
        flow.services().resolve("17").await.expect("id"),
        DocumentId::new(17)
    );
}
