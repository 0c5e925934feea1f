//! The vCD simulator's catalog create and delete over raw HTTP, state re-read after each step.

use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, ORG_ID, VcloudSimulator, VcloudSimulatorHandle,
};
use reqwest::{Client, StatusCode};

const XML_36: &str = "application/*+xml;version=36.0";

fn http() -> Client {
    nebulair_core::config::build_reqwest_client(&nebulair_core::HttpConfig::default())
        .expect("core client");
    Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn url(sim: &VcloudSimulatorHandle, path: &str) -> String {
    format!("{}{}", sim.base_url(), path.trim_start_matches('/'))
}

async fn login(sim: &VcloudSimulatorHandle) -> String {
    let resp = http()
        .post(url(sim, "api/sessions"))
        .header("Accept", XML_36)
        .basic_auth(
            format!("{DEFAULT_USER}@{DEFAULT_ORG}"),
            Some(DEFAULT_PASSWORD),
        )
        .send()
        .await
        .expect("login");
    resp.headers()["x-vcloud-authorization"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn attr(doc: &str, tag: &str, name: &str) -> Option<String> {
    let start = doc.find(&format!("<{tag} "))?;
    let end = start + doc[start..].find('>')?;
    let el = &doc[start..end];
    let key = format!(" {name}=\"");
    let v = el.find(&key)? + key.len();
    Some(el[v..v + el[v..].find('"')?].to_owned())
}

#[tokio::test]
async fn create_duplicate_and_delete_catalogs() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    let token = login(&sim).await;
    let post = |body: &'static str| {
        http()
            .post(url(&sim, &format!("api/admin/org/{ORG_ID}/catalogs")))
            .header("Accept", XML_36)
            .header("x-vcloud-authorization", &token)
            .header("Content-Type", "application/vnd.vmware.admin.catalog+xml")
            .body(body)
            .send()
    };
    let body = "<AdminCatalog xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"isos\"><Description>ISO images</Description></AdminCatalog>";
    let resp = post(body).await.expect("POST");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let doc = resp.text().await.expect("body");
    assert_eq!(attr(&doc, "AdminCatalog", "name").as_deref(), Some("isos"));
    let href = attr(&doc, "AdminCatalog", "href").expect("href");
    let id = href.rsplit('/').next().expect("id").to_owned();
    let again = http()
        .get(&href)
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), StatusCode::OK);
    let doc = again.text().await.expect("body");
    assert!(
        doc.contains("<Description>ISO images</Description>"),
        "{doc}"
    );

    let dup = post(body).await.expect("POST");
    assert_eq!(dup.status(), StatusCode::BAD_REQUEST);
    assert!(dup.text().await.expect("body").contains("DUPLICATE_NAME"));

    let del = |path: String| {
        http()
            .delete(url(&sim, &path))
            .header("Accept", XML_36)
            .header("x-vcloud-authorization", &token)
            .send()
    };
    // The seeded catalog "Public" holds templates: refused without recursive=true.
    let org = http()
        .get(url(&sim, &format!("api/org/{ORG_ID}")))
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("GET org")
        .text()
        .await
        .expect("body");
    let at = org.find("name=\"Public\"").expect("Public link");
    let link = &org[org[..at].rfind('<').expect("tag")..];
    let public = attr(link, "Link", "href")
        .expect("href")
        .rsplit('/')
        .next()
        .expect("id")
        .to_owned();
    let refused = del(format!("api/admin/catalog/{public}"))
        .await
        .expect("DELETE");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("body").contains("not empty"));

    let ok = del(format!("api/admin/catalog/{id}"))
        .await
        .expect("DELETE");
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let gone = http()
        .get(&href)
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(gone.status(), StatusCode::FORBIDDEN);
}
