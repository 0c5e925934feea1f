//! Integration tests of the vCloud simulator over raw HTTP, one group of endpoints each.

use std::time::{Duration, Instant};

use nebulair_sim::vcloud::{
    DEFAULT_API_TOKEN, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID,
    OD_COMPUTE_INSTANCE_ID, OD_DR_INSTANCE_ID, ORG_ID, VDC_PROD_ID, VcloudSimulator,
    VcloudSimulatorHandle,
};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

const XML_36: &str = "application/*+xml;version=36.0";

fn http() -> Client {
    // Building a client through core installs the rustls crypto provider that reqwest
    // (built with `rustls-no-provider`) needs; ours then skips any proxy for loopback.
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

async fn text(resp: Response) -> String {
    resp.text().await.expect("body")
}

async fn json_of(resp: Response) -> Value {
    serde_json::from_str(&text(resp).await).expect("JSON body")
}

/// `reqwest` without its `json` feature: a JSON body by hand.
trait JsonBody {
    fn json_body(self, v: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, v: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(v.to_string())
    }
}

/// Attribute `name` of the first element `tag` in `doc` (test helper, not a parser).
fn attr(doc: &str, tag: &str, name: &str) -> Option<String> {
    let start = doc
        .find(&format!("<{tag} "))
        .or_else(|| doc.find(&format!("<{tag}>")))?;
    let end = start + doc[start..].find('>')?;
    let el = &doc[start..end];
    let key = format!(" {name}=\"");
    let v = el.find(&key)? + key.len();
    Some(el[v..v + el[v..].find('"')?].replace("&amp;", "&"))
}

fn count(doc: &str, tag: &str) -> usize {
    doc.matches(&format!("<{tag} ")).count()
}

/// Legacy login; returns the x-vcloud-authorization token.
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
    assert_eq!(resp.status(), StatusCode::OK);
    resp.headers()["x-vcloud-authorization"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

async fn get(sim: &VcloudSimulatorHandle, token: &str, path: &str) -> Response {
    let target = if path.starts_with("http") {
        path.to_owned()
    } else {
        url(sim, path)
    };
    http()
        .get(target)
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", token)
        .send()
        .await
        .expect("GET")
}

async fn start() -> VcloudSimulatorHandle {
    VcloudSimulator::builder()
        .start()
        .await
        .expect("simulator starts")
}

#[tokio::test]
async fn versions_and_version_negotiation() {
    let sim = start().await;
    let resp = http()
        .get(url(&sim, "api/versions"))
        .send()
        .await
        .expect("versions");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().contains_key("x-vmware-vcloud-request-id"));
    let body = text(resp).await;
    assert!(body.contains("<Version>36.0</Version>"));
    assert!(body.contains("<VersionInfo deprecated=\"true\"><Version>5.5</Version>"));

    let resp = http()
        .post(url(&sim, "api/sessions"))
        .header("Accept", "application/*+xml;version=5.1")
        .basic_auth("admin@nebulair", Some("nebulair"))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
    let body = text(resp).await;
    assert_eq!(
        attr(&body, "Error", "minorErrorCode").as_deref(),
        Some("NOT_ACCEPTABLE")
    );
    let msg = attr(&body, "Error", "message").expect("message");
    assert!(msg.contains("5.1") && msg.contains("36.0"), "{msg}");

    let resp = http()
        .post(url(&sim, "api/sessions"))
        .header("Accept", XML_36)
        .basic_auth("admin@nebulair", Some("wrong"))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        attr(&text(resp).await, "Error", "majorErrorCode").as_deref(),
        Some("401")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn legacy_session_lifecycle() {
    let sim = start().await;
    let token = login(&sim).await;
    let resp = get(&sim, &token, "api/session").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = text(resp).await;
    assert_eq!(attr(&body, "Session", "org").as_deref(), Some(DEFAULT_ORG));
    assert!(body.contains("application/vnd.vmware.vcloud.query.queryList+xml"));
    let resp = http()
        .delete(url(&sim, "api/session"))
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&sim, &token, "api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn cloudapi_logins_tenant_and_provider() {
    let sim = start().await;
    let resp = http()
        .post(url(&sim, "cloudapi/1.0.0/sessions"))
        .header("Accept", "application/json;version=36.0")
        .basic_auth("admin@nebulair", Some("nebulair"))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    let jwt = resp.headers()["x-vmware-vcloud-access-token"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(jwt.split('.').count(), 3);
    let body = json_of(resp).await;
    assert_eq!(body["org"]["name"], DEFAULT_ORG);
    let resp = http()
        .get(url(&sim, "api/session"))
        .header("Accept", XML_36)
        .bearer_auth(&jwt)
        .send()
        .await
        .expect("session");
    assert_eq!(resp.status(), StatusCode::OK);

    // System users must use /provider, tenants must not.
    let sys = |path: &'static str, who: &'static str| {
        let u = url(&sim, path);
        async move {
            http()
                .post(u)
                .header("Accept", "application/json;version=36.0")
                .basic_auth(who, Some("nebulair"))
                .send()
                .await
                .expect("login")
        }
    };
    let r = sys("cloudapi/1.0.0/sessions", "admin@System").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let err = json_of(r).await;
    assert_eq!(err["minorErrorCode"], "NOT_AUTHENTICATED");
    assert_eq!(
        sys("cloudapi/1.0.0/sessions/provider", "admin@nebulair")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let r = sys("cloudapi/1.0.0/sessions/provider", "admin@system").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = json_of(r).await;
    assert_eq!(body["roles"][0], "System Administrator");
    sim.shutdown().await;
}

#[tokio::test]
async fn oauth_refresh_token_grant() {
    let sim = start().await;
    let post = |path: String, body: String| async move {
        http()
            .post(path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("token")
    };
    let r = post(
        url(&sim, "oauth/tenant/nebulair/token"),
        format!("grant_type=refresh_token&refresh_token={DEFAULT_API_TOKEN}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let tok = json_of(r).await;
    assert_eq!(tok["token_type"], "Bearer");
    let access = tok["access_token"].as_str().expect("access token");
    let r = http()
        .get(url(&sim, "api/org/"))
        .header("Accept", XML_36)
        .bearer_auth(access)
        .send()
        .await
        .expect("org list");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(count(&text(r).await, "Org"), 1);

    let r = post(
        url(&sim, "oauth/tenant/nebulair/token"),
        "grant_type=refresh_token&refresh_token=nope".into(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(r).await["error"], "invalid_grant");
    let r = post(
        url(&sim, "oauth/tenant/nebulair/token"),
        "grant_type=password".into(),
    )
    .await;
    assert_eq!(json_of(r).await["error"], "unsupported_grant_type");
    let r = post(
        url(&sim, "oauth/provider/token"),
        format!("grant_type=refresh_token&refresh_token={DEFAULT_API_TOKEN}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_by_lifetime_and_by_hook() {
    let sim = VcloudSimulator::builder()
        .token_lifetime(Duration::from_millis(1500))
        .start()
        .await
        .expect("simulator starts");
    let token = login(&sim).await;
    assert_eq!(get(&sim, &token, "api/org/").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let r = get(&sim, &token, "api/org/").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        attr(&text(r).await, "Error", "minorErrorCode").as_deref(),
        Some("NOT_AUTHENTICATED")
    );
    sim.shutdown().await;

    let sim = start().await;
    let token = login(&sim).await;
    sim.expire_tokens();
    assert_eq!(
        get(&sim, &token, "api/org/").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let fresh = login(&sim).await;
    assert_eq!(get(&sim, &fresh, "api/org/").await.status(), StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn vchs_vpc_login_flow() {
    let sim = start().await;
    let r = http()
        .post(url(&sim, "api/vchs/sessions"))
        .header("Accept", "application/xml;version=5.6")
        .basic_auth(DEFAULT_USER, Some(DEFAULT_PASSWORD))
        .send()
        .await
        .expect("vchs login");
    assert_eq!(r.status(), StatusCode::CREATED);
    let vchs = r.headers()["x-vchs-authorization"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body = text(r).await;
    let services = attr(&body, "Link", "href").expect("service list link");
    let vget = |u: String| {
        let t = vchs.clone();
        async move {
            http()
                .get(u)
                .header("x-vchs-authorization", t)
                .send()
                .await
                .expect("GET")
        }
    };
    let services = text(vget(services).await).await;
    let compute = attr(&services, "Service", "href").expect("service href");
    let compute = text(vget(compute).await).await;
    assert_eq!(count(&compute, "VdcRef"), 2);
    assert_eq!(
        attr(&compute, "VdcRef", "name").as_deref(),
        Some("VDC-Prod")
    );
    let start = compute.find("<VdcRef ").expect("vdcref");
    let session_link = attr(&compute[start..], "Link", "href").expect("vcloudsession link");
    let r = http()
        .post(session_link)
        .header("x-vchs-authorization", &vchs)
        .send()
        .await
        .expect("vcloudsession");
    assert_eq!(r.status(), StatusCode::CREATED);
    let body = text(r).await;
    let href = attr(&body, "VdcLink", "href").expect("vdc link");
    assert!(
        href.ends_with(&format!(":443/api/vdc/{VDC_PROD_ID}")),
        "{href}"
    );
    let token = attr(&body, "VdcLink", "authorizationToken").expect("token");
    // The vCD API answers under the VdcLink's prefix as well.
    let vcd = href.split("/api/vdc/").next().expect("prefix").to_owned();
    let r = get(&sim, &token, &format!("{vcd}/api/vdc/{VDC_PROD_ID}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        text(r)
            .await
            .contains(&format!("{vcd}/api/admin/vdc/{VDC_PROD_ID}/edgeGateways"))
    );
    // Without the vchs token: 401.
    let r = http()
        .get(url(&sim, "api/vchs/services"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    sim.shutdown().await;
}

#[tokio::test]
async fn on_demand_login_flow() {
    let sim = start().await;
    let r = http()
        .post(url(&sim, "api/iam/login"))
        .header("Accept", "application/json;version=5.7")
        .basic_auth(DEFAULT_USER, Some(DEFAULT_PASSWORD))
        .send()
        .await
        .expect("iam login");
    assert_eq!(r.status(), StatusCode::CREATED);
    let bearer = r.headers()["vchs-authorization"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let instances = http()
        .get(url(&sim, "api/sc/instances"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("instances");
    let instances = json_of(instances).await;
    let list = instances["instances"].as_array().expect("list");
    assert_eq!(list.len(), 3);
    assert_eq!(list[2]["instanceAttributes"], "No Attributes");
    let attrs: Value =
        serde_json::from_str(list[0]["instanceAttributes"].as_str().expect("string"))
            .expect("attributes are JSON in a string");
    assert_eq!(attrs["orgName"], OD_COMPUTE_INSTANCE_ID);
    let plans = http()
        .get(url(&sim, "api/sc/plans"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("plans");
    let plans = json_of(plans).await;
    assert_eq!(plans["plans"][1]["id"], list[1]["planId"]);
    let r = http()
        .post(attrs["sessionUri"].as_str().expect("session uri"))
        .header("Accept", "application/*+xml;version=5.7")
        .basic_auth(
            format!("{DEFAULT_USER}@{OD_COMPUTE_INSTANCE_ID}"),
            Some(DEFAULT_PASSWORD),
        )
        .send()
        .await
        .expect("instance login");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-vcloud-authorization"));
    let r = http()
        .get(url(&sim, "api/sc/instances"))
        .bearer_auth("bogus")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    sim.shutdown().await;
}

#[tokio::test]
async fn query_paging_filter_sort_fields_and_errors() {
    let sim = VcloudSimulator::builder()
        .extra_vms(30)
        .start()
        .await
        .expect("simulator starts");
    let token = login(&sim).await;
    // Follow nextPage links across 4 pages of 10.
    let mut next = Some(url(
        &sim,
        "api/query?type=vm&format=records&pageSize=10&fields=status",
    ));
    let mut names = Vec::new();
    let mut pages = 0;
    while let Some(u) = next.take() {
        let body = text(get(&sim, &token, &u).await).await;
        pages += 1;
        assert_eq!(
            attr(&body, "QueryResultRecords", "total").as_deref(),
            Some("36")
        );
        let mut rest = body.as_str();
        while let Some(i) = rest.find("<VMRecord ") {
            let rec = &rest[i..];
            names.push(attr(rec, "VMRecord", "name").expect("name"));
            assert!(attr(rec, "VMRecord", "status").is_some());
            assert!(
                attr(rec, "VMRecord", "guestOs").is_none(),
                "only requested fields"
            );
            rest = &rec[1..];
        }
        next = body
            .split("<Link ")
            .find(|l| l.contains("rel=\"nextPage\""))
            .and_then(|l| attr(&format!("<Link {l}"), "Link", "href"));
    }
    assert_eq!(pages, 4);
    assert_eq!(names.len(), 36);

    // Filter (case-insensitive wildcard) and sort descending.
    let body = text(
        get(
            &sim,
            &token,
            "api/query?type=vm&format=records&filter=name%3D%3Dweb*&sortDesc=name",
        )
        .await,
    )
    .await;
    assert_eq!(
        attr(&body, "QueryResultRecords", "total").as_deref(),
        Some("3")
    );
    assert_eq!(attr(&body, "VMRecord", "name").as_deref(), Some("web-02"));
    // Or, and, comparison operators.
    let body = text(get(&sim, &token, "api/query?type=vm&format=records&filter=(name%3D%3Ddb*,name%3D%3Djenkins01);numberOfCpus%3Dge%3D4").await).await;
    assert_eq!(
        attr(&body, "QueryResultRecords", "total").as_deref(),
        Some("1")
    );
    // filterEncoded decodes values once more.
    let body = text(
        get(
            &sim,
            &token,
            "api/query?type=vApp&format=records&filterEncoded=true&filter=name%3D%3Dweb%252Dtier",
        )
        .await,
    )
    .await;
    assert_eq!(
        attr(&body, "QueryResultRecords", "total").as_deref(),
        Some("2")
    );
    // References and idrecords formats.
    let body = text(get(&sim, &token, "api/query?type=edgeGateway").await).await;
    assert!(body.contains("<EdgeGatewayReferences "));
    assert_eq!(
        attr(&body, "EdgeGatewayReference", "name").as_deref(),
        Some("edge-prod")
    );
    let body = text(get(&sim, &token, "api/query?type=orgVdc&format=idrecords").await).await;
    assert!(
        attr(&body, "OrgVdcRecord", "id")
            .expect("id")
            .starts_with("urn:vcloud:vdc:")
    );
    // The query list.
    let body = text(get(&sim, &token, "api/query").await).await;
    assert!(body.contains("name=\"vAppTemplate\""));
    // Errors.
    for bad in [
        "api/query?type=vm&filter=nosuch%3D%3D1",
        "api/query?type=vm&filter=name",
        "api/query?type=vm&sortAsc=nosuch",
        "api/query?type=vm&page=99",
        "api/query?type=vm&pageSize=0",
        "api/query?type=user",
        "api/query?type=vm&format=json",
    ] {
        let r = get(&sim, &token, bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            attr(&text(r).await, "Error", "minorErrorCode").as_deref(),
            Some("BAD_REQUEST")
        );
    }
    // pageSize above the maximum is capped at 128.
    let body = text(get(&sim, &token, "api/query?type=vm&pageSize=1000").await).await;
    assert_eq!(
        attr(&body, "VMReferences", "pageSize").as_deref(),
        Some("128")
    );
    sim.shutdown().await;
}

async fn poll_task(sim: &VcloudSimulatorHandle, token: &str, href: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = text(get(sim, token, href).await).await;
        let status = attr(&body, "Task", "status").expect("status");
        if status == "success" || status == "error" {
            return body;
        }
        assert!(Instant::now() < deadline, "task did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn tasks_progress_and_fail() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_secs(3))
        .start()
        .await
        .expect("simulator starts");
    let token = login(&sim).await;
    let body = text(
        get(
            &sim,
            &token,
            "api/query?type=vApp&format=records&filter=name%3D%3Ddb-tier",
        )
        .await,
    )
    .await;
    let vapp = attr(&body, "VAppRecord", "href").expect("vapp href");
    let post = |u: String| {
        let t = token.clone();
        async move {
            http()
                .post(u)
                .header("Accept", XML_36)
                .header("x-vcloud-authorization", t)
                .send()
                .await
                .expect("POST")
        }
    };
    let r = post(format!("{vapp}/power/action/powerOff")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body = text(r).await;
    assert_eq!(attr(&body, "Task", "status").as_deref(), Some("queued"));
    let href = attr(&body, "Task", "href").expect("task href");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mid = text(get(&sim, &token, &href).await).await;
    assert_eq!(attr(&mid, "Task", "status").as_deref(), Some("running"));
    assert!(mid.contains("<Progress>"));
    let done = poll_task(&sim, &token, &href).await;
    assert_eq!(attr(&done, "Task", "status").as_deref(), Some("success"));
    assert!(done.contains("<Progress>100</Progress>"));
    assert_eq!(sim.vm_power_state("db-01"), Some("POWERED_OFF"));
    sim.set_task_duration(Duration::from_millis(200));
    // Deleting a stopped vApp works; a failing task ends in error with an Error child.
    sim.fail_next_tasks(1);
    let r = post(format!("{vapp}/power/action/powerOn")).await;
    let href = attr(&text(r).await, "Task", "href").expect("href");
    let failed = poll_task(&sim, &token, &href).await;
    assert_eq!(attr(&failed, "Task", "status").as_deref(), Some("error"));
    assert!(
        attr(&failed, "Error", "message")
            .expect("error")
            .contains("Simulated failure")
    );
    assert_eq!(
        sim.vm_power_state("db-01"),
        Some("POWERED_OFF"),
        "a failed task changes nothing"
    );
    // Cancel: a long task ends as canceled and changes nothing.
    sim.set_task_duration(Duration::from_secs(30));
    let r = post(format!("{vapp}/power/action/powerOn")).await;
    let href = attr(&text(r).await, "Task", "href").expect("href");
    let r = post(format!("{href}/action/cancel")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let canceled = text(get(&sim, &token, &href).await).await;
    assert_eq!(
        attr(&canceled, "Task", "status").as_deref(),
        Some("canceled")
    );
    assert_eq!(sim.vm_power_state("db-01"), Some("POWERED_OFF"));
    // A running vApp cannot be deleted.
    let web = text(
        get(
            &sim,
            &token,
            "api/query?type=vApp&format=records&filter=name%3D%3Djenkins",
        )
        .await,
    )
    .await;
    let web = attr(&web, "VAppRecord", "href").expect("href");
    let r = http()
        .delete(&web)
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A powered-off vApp is still deployed: vCD refuses to delete it until it is undeployed.
    let r = http()
        .delete(&vapp)
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(text(r).await.contains("Undeploy it first"));
    sim.set_task_duration(Duration::from_millis(100));
    let r = http()
        .post(format!("{vapp}/action/undeploy"))
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .header("Content-Type", "application/vnd.vmware.vcloud.undeployVAppParams+xml")
        .body("<UndeployVAppParams xmlns=\"http://www.vmware.com/vcloud/v1.5\"><UndeployPowerAction>powerOff</UndeployPowerAction></UndeployVAppParams>")
        .send()
        .await
        .expect("undeploy");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let href = attr(&text(r).await, "Task", "href").expect("href");
    let done = poll_task(&sim, &token, &href).await;
    assert_eq!(attr(&done, "Task", "status").as_deref(), Some("success"));
    let r = http()
        .delete(&vapp)
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    sim.shutdown().await;
}

#[tokio::test]
async fn edge_gateway_services_configure_busy_and_apply() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_secs(2))
        .start()
        .await
        .expect("simulator starts");
    let token = login(&sim).await;
    let edge = text(get(&sim, &token, &format!("api/admin/edgeGateway/{EDGE_ID}")).await).await;
    assert!(edge.contains("<FirewallRule>"));
    let cfg_href = edge
        .split("<Link ")
        .find(|l| l.contains("edgeGateway:configureServices"))
        .and_then(|l| attr(&format!("<Link {l}"), "Link", "href"))
        .expect("configureServices link");
    let body = "<EdgeGatewayServiceConfiguration xmlns=\"http://www.vmware.com/vcloud/v1.5\"><FirewallService><IsEnabled>false</IsEnabled><DefaultAction>allow</DefaultAction><LogDefaultAction>false</LogDefaultAction></FirewallService></EdgeGatewayServiceConfiguration>";
    let send = |ct: &'static str, b: &'static str| {
        let t = token.clone();
        let u = cfg_href.clone();
        async move {
            http()
                .post(u)
                .header("Accept", XML_36)
                .header("x-vcloud-authorization", t)
                .header("Content-Type", ct)
                .body(b)
                .send()
                .await
                .expect("POST")
        }
    };
    const CT: &str = "application/vnd.vmware.admin.edgeGatewayServiceConfiguration+xml";
    assert_eq!(
        send("application/xml", body).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        send(CT, "<EdgeGatewayServiceConfiguration>").await.status(),
        StatusCode::BAD_REQUEST
    );
    let r = send(CT, body).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let task = attr(&text(r).await, "Task", "href").expect("task");
    // A second change while the first runs: BUSY_ENTITY.
    let r = send(CT, body).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        attr(&text(r).await, "Error", "minorErrorCode").as_deref(),
        Some("BUSY_ENTITY")
    );
    let done = poll_task(&sim, &token, &task).await;
    assert_eq!(attr(&done, "Task", "status").as_deref(), Some("success"));
    let stored = sim.edge_services_xml(EDGE_ID).expect("edge");
    assert!(
        stored.contains("<DefaultAction>allow</DefaultAction>") && !stored.contains("<NatService>")
    );
    // The busy hook.
    sim.set_task_duration(Duration::from_millis(10));
    assert!(sim.make_edge_busy(EDGE_ID, 1));
    assert_eq!(send(CT, body).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(send(CT, body).await.status(), StatusCode::ACCEPTED);
    sim.shutdown().await;
}

#[tokio::test]
async fn ans_config_versioning_busy_and_validation() {
    let sim = start().await;
    let token = login(&sim).await;
    let cfg_url = url(
        &sim,
        &format!("api/compute/hybridity/api/gateways/{EDGE_ID}/firewall/config"),
    );
    let r = http()
        .get(&cfg_url)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let mut cfg = json_of(r).await;
    assert_eq!(cfg["version"], 7);
    let put = |v: Value| {
        let t = token.clone();
        let u = cfg_url.clone();
        async move {
            http()
                .put(u)
                .header("x-vcloud-authorization", t)
                .json_body(&v)
                .send()
                .await
                .expect("PUT")
        }
    };
    // With version: rejected (current or stale).
    let r = put(cfg.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    cfg["version"] = json!(3);
    let r = put(cfg.clone()).await;
    assert!(
        json_of(r).await["details"]
            .as_str()
            .expect("details")
            .contains("Stale")
    );
    // Without version: accepted; the new rule gets an id; version increments.
    let obj = cfg.as_object_mut().expect("object");
    obj.remove("version");
    cfg["firewallRules"]["firewallRules"]
        .as_array_mut()
        .expect("rules")
        .push(json!({"name": "new", "action": "accept", "unknownKey": {"kept": true}}));
    assert_eq!(put(cfg.clone()).await.status(), StatusCode::NO_CONTENT);
    let stored = sim.ans_config(EDGE_ID, "firewall").expect("stored");
    assert_eq!(stored["version"], 8);
    let last = stored["firewallRules"]["firewallRules"]
        .as_array()
        .and_then(|a| a.last().cloned())
        .expect("last");
    assert!(last["ruleId"].is_number());
    assert_eq!(last["unknownKey"]["kept"], true);
    // Busy: 409 with NSX error code 10003, then accepted.
    sim.make_edge_busy(EDGE_ID, 1);
    let r = put(cfg.clone()).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(r).await["errorCode"], 10003);
    assert_eq!(put(cfg.clone()).await.status(), StatusCode::NO_CONTENT);
    // Validation.
    assert_eq!(
        put(json!({"enabled": true})).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(put(json!([1, 2])).await.status(), StatusCode::BAD_REQUEST);
    let r = http()
        .put(&cfg_url)
        .header("x-vcloud-authorization", &token)
        .header("Content-Type", "application/json")
        .body("{\"truncated\": ")
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http().get(&cfg_url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    for section in ["nat", "ipsec"] {
        let r = http()
            .get(url(
                &sim,
                &format!("hybridity/api/gateways/{EDGE_ID}/{section}/config"),
            ))
            .header("x-vcloud-authorization", &token)
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), StatusCode::OK);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn metrics_paging_and_validation() {
    let sim = VcloudSimulator::builder()
        .metrics_page_size(50)
        .start()
        .await
        .expect("simulator starts");
    let token = login(&sim).await;
    let murl = url(&sim, &format!("hybridity/api/metrics/vdc/{VDC_PROD_ID}"));
    let mut next: Option<String> = None;
    let mut rows = 0;
    let mut pages = 0;
    loop {
        let mut req = http()
            .post(&murl)
            .header("x-vcloud-authorization", &token)
            .json_body(&json!({"relativeStartTime": {"interval": 1, "unit": "HOUR"}}));
        if let Some(n) = &next {
            req = http()
                .post(format!("{murl}?next={n}"))
                .header("x-vcloud-authorization", &token)
                .json_body(&json!({"relativeStartTime": {"interval": 1, "unit": "HOUR"}}));
        }
        let page = json_of(req.send().await.expect("POST")).await;
        pages += 1;
        rows += page["rows"].as_array().expect("rows").len();
        match &page["next"] {
            Value::Null => break,
            Value::String(s) => next = Some(s.clone()),
            other => panic!("next must be a string or null, got {other}"),
        }
    }
    assert_eq!(rows, 3 * 60);
    assert_eq!(pages, 4);
    for bad in [
        json!({"relativeStartTime": {"interval": 1, "unit": "DAY"}}),
        json!({"relativeEndTime": {"interval": 1, "unit": "HOUR"}}),
        json!({"relativeStartTime": {"interval": 1, "unit": "HOUR"}, "relativeEndTime": {"interval": 2, "unit": "HOUR"}}),
    ] {
        let r = http()
            .post(&murl)
            .header("x-vcloud-authorization", &token)
            .json_body(&bad)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = http()
        .post(format!("{murl}?next=garbage"))
        .header("x-vcloud-authorization", &token)
        .json_body(&json!({"relativeStartTime": {"interval": 1, "unit": "HOUR"}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http()
        .post(url(
            &sim,
            "hybridity/api/metrics/vApp/vm-00000000-0000-0000-0000-000000000000",
        ))
        .header("x-vcloud-authorization", &token)
        .json_body(&json!({"relativeStartTime": {"interval": 5, "unit": "MINUTE"}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    sim.shutdown().await;
}

#[tokio::test]
async fn dr_replications_paging_and_actions() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(200))
        .start()
        .await
        .expect("simulator starts");
    let token = login(&sim).await;
    let list = format!("api/compute/api/org/{OD_DR_INSTANCE_ID}/replications");
    let p1 = text(get(&sim, &token, &list).await).await;
    assert_eq!(count(&p1, "Reference"), 25);
    assert!(p1.contains("rel=\"nextPage\""));
    let p2 = text(get(&sim, &token, &format!("{list}?page=2&pageSize=25")).await).await;
    assert_eq!(count(&p2, "Reference"), 5);
    assert!(!p2.contains("rel=\"nextPage\""));
    let p3 = text(get(&sim, &token, &format!("{list}?page=3&pageSize=25")).await).await;
    assert_eq!(count(&p3, "Reference"), 0);
    assert!(p3.contains("<Link "));
    let rep = attr(&p1, "Reference", "href").expect("replication href");
    let details = text(get(&sim, &token, &rep).await).await;
    assert_eq!(
        attr(&details, "vr:ReplicationGroup", "name").as_deref(),
        Some("dr-vm-001")
    );
    let act = |action: &'static str, ct: Option<&'static str>, body: &'static str| {
        let t = token.clone();
        let u = format!("{rep}/action/{action}");
        async move {
            let mut req = http()
                .post(u)
                .header("Accept", "application/*+xml;version=5.7")
                .header("x-vcloud-authorization", t);
            if let Some(ct) = ct {
                req = req.header("Content-Type", ct).body(body);
            }
            req.send().await.expect("POST")
        }
    };
    let tf = "<TestFailoverParams xmlns=\"http://www.vmware.com/vr/v6.0\" name=\"x\"><PowerOn>1</PowerOn><Synchronize>0</Synchronize></TestFailoverParams>";
    assert_eq!(
        act("testFailover", Some("application/xml"), tf)
            .await
            .status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        act(
            "testFailover",
            Some("application/vnd.vmware.hcs.testFailoverParams+xml"),
            "<TestFailoverParams><PowerOn>7</PowerOn></TestFailoverParams>"
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    let r = act(
        "testFailover",
        Some("application/vnd.vmware.hcs.testFailoverParams+xml"),
        tf,
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body = text(r).await;
    assert!(body.contains("<Progress>0</Progress>"));
    let task = attr(&body, "Task", "href").expect("task");
    assert!(task.contains("/api/compute/api/task/"), "{task}");
    poll_task(&sim, &token, &task).await;
    assert_eq!(sim.replications()[0].test_recovery_state, "complete");
    let r = act("testCleanup", None, "").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    poll_task(
        &sim,
        &token,
        &attr(&text(r).await, "Task", "href").expect("task"),
    )
    .await;
    assert_eq!(sim.replications()[0].test_recovery_state, "none");
    // vcloudair's capital-F media type is accepted (media types ignore case).
    let r = act(
        "failover",
        Some("application/vnd.vmware.hcs.FailoverParams+xml"),
        "<FailoverParams xmlns=\"http://www.vmware.com/vr/v6.0\" name=\"x\"><PowerOn>0</PowerOn></FailoverParams>",
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    poll_task(
        &sim,
        &token,
        &attr(&text(r).await, "Task", "href").expect("task"),
    )
    .await;
    assert_eq!(sim.replications()[0].recovery_state, "failedOver");
    assert_eq!(
        act("explode", None, "").await.status(),
        StatusCode::BAD_REQUEST
    );
    sim.shutdown().await;
}

/// The DR benchmark's shape: 200 replications, 20 workers, tasks of 0.5 s each. Checks
/// that every task completes (the timing is measured by the client's benchmark).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dr_at_benchmark_scale() {
    let sim = VcloudSimulator::builder()
        .dr_replications(200)
        .task_duration(Duration::from_millis(500))
        .start()
        .await
        .expect("simulator starts");
    let token = login(&sim).await;
    let mut hrefs = Vec::new();
    for page in 1..=2 {
        let body = text(
            get(
                &sim,
                &token,
                &format!("api/org/{OD_DR_INSTANCE_ID}/replications?page={page}&pageSize=128"),
            )
            .await,
        )
        .await;
        let mut rest = body.as_str();
        while let Some(i) = rest.find("<Reference ") {
            hrefs.push(attr(&rest[i..], "Reference", "href").expect("href"));
            rest = &rest[i + 1..];
        }
    }
    assert_eq!(hrefs.len(), 200);
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(hrefs));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..20 {
        let queue = queue.clone();
        let token = token.clone();
        let client = http();
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                let Some(href) = queue.lock().await.pop() else {
                    return done;
                };
                let r = client
                    .post(format!("{href}/action/testCleanup"))
                    .header("Accept", XML_36)
                    .header("x-vcloud-authorization", &token)
                    .send()
                    .await
                    .expect("POST");
                assert_eq!(r.status(), StatusCode::ACCEPTED);
                let task = attr(&r.text().await.expect("body"), "Task", "href").expect("task");
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let body = client
                        .get(&task)
                        .header("Accept", XML_36)
                        .header("x-vcloud-authorization", &token)
                        .send()
                        .await
                        .expect("GET")
                        .text()
                        .await
                        .expect("body");
                    if attr(&body, "Task", "status").as_deref() == Some("success") {
                        break;
                    }
                }
                done += 1;
            }
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.expect("worker");
    }
    assert_eq!(total, 200);
    println!(
        "200 DR tasks of 0.5 s on 20 workers took {:?}",
        started.elapsed()
    );
    assert_eq!(sim.task_count(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn org_and_vdc_documents() {
    let sim = start().await;
    let token = login(&sim).await;
    let org = text(get(&sim, &token, &format!("api/org/{ORG_ID}")).await).await;
    assert_eq!(attr(&org, "Org", "name").as_deref(), Some(DEFAULT_ORG));
    assert!(
        org.contains("type=orgVdc"),
        "API >= 33 lists vDCs through a query link"
    );
    let r = http()
        .get(url(&sim, &format!("api/org/{ORG_ID}")))
        .header("Accept", "application/*+xml;version=32.0")
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("GET");
    let org32 = text(r).await;
    assert!(
        org32.contains("name=\"VDC-Prod\""),
        "API < 33 has vdc links"
    );
    let vdc = text(get(&sim, &token, &format!("api/vdc/{VDC_PROD_ID}")).await).await;
    assert_eq!(vdc.matches("rel=\"edgeGateways\"").count(), 1);
    let edges = text(
        get(
            &sim,
            &token,
            &format!("api/admin/vdc/{VDC_PROD_ID}/edgeGateways"),
        )
        .await,
    )
    .await;
    assert_eq!(
        attr(&edges, "EdgeGatewayRecord", "name").as_deref(),
        Some("edge-prod")
    );
    let r = get(&sim, &token, "api/vdc/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = get(&sim, &token, "api/nothing/here").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(sim.request_count() >= 7);
    sim.shutdown().await;
}

/// Renders documents of every kind and validates them with `xmllint --schema` against the
/// vCD XSDs copied into tests/data/vcloud/xsd.
#[tokio::test]
async fn payloads_validate_against_the_vcd_xsds() {
    let xmllint = std::process::Command::new("xmllint")
        .arg("--version")
        .output();
    if xmllint.is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint (libxml2-utils) is required under CI"
        );
        println!("skipped: xmllint is not installed");
        return;
    }
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(50))
        .start()
        .await
        .expect("simulator starts");
    let resp = http()
        .post(url(&sim, "api/sessions"))
        .header("Accept", XML_36)
        .basic_auth("admin@nebulair", Some("nebulair"))
        .send()
        .await
        .expect("login");
    let token = resp.headers()["x-vcloud-authorization"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let mut docs = vec![("session", text(resp).await)];
    for (name, path) in [
        ("orglist", "api/org/".to_owned()),
        ("org", format!("api/org/{ORG_ID}")),
        ("vdc", format!("api/vdc/{VDC_PROD_ID}")),
        ("query-list", "api/query".to_owned()),
        (
            "vm-records",
            "api/query?type=vm&format=records&pageSize=2".to_owned(),
        ),
        (
            "vapp-references",
            "api/query?type=vApp&format=references".to_owned(),
        ),
        (
            "template-records",
            "api/query?type=vAppTemplate&format=records".to_owned(),
        ),
        (
            "edge-idrecords",
            "api/query?type=edgeGateway&format=idrecords".to_owned(),
        ),
        (
            "vdc-records",
            "api/query?type=orgVdc&format=records".to_owned(),
        ),
        ("edge", format!("api/admin/edgeGateway/{EDGE_ID}")),
        ("error", "api/vdc/nope".to_owned()),
    ] {
        docs.push((name, text(get(&sim, &token, &path).await).await));
    }
    let vapps = text(
        get(
            &sim,
            &token,
            "api/query?type=vApp&format=records&filter=name%3D%3Ddb-tier",
        )
        .await,
    )
    .await;
    let vapp = attr(&vapps, "VAppRecord", "href").expect("vapp");
    let r = http()
        .post(format!("{vapp}/power/action/powerOff"))
        .header("Accept", XML_36)
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .expect("POST");
    let task = text(r).await;
    let href = attr(&task, "Task", "href").expect("href");
    docs.push(("task-queued", task));
    docs.push(("task-done", poll_task(&sim, &token, &href).await));

    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vcloud");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut validate = |name: &str, doc: &str, schema: &std::path::Path| {
        let file = dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, doc).expect("write");
        let out = std::process::Command::new("xmllint")
            .args(["--nonet", "--noout", "--schema"])
            .arg(schema)
            .arg(&file)
            .env(
                "XML_CATALOG_FILES",
                data.join("xsd/schemas/external/catalog.xml"),
            )
            .output()
            .expect("xmllint runs");
        if !out.status.success() {
            failures.push(format!("{name}: {}", String::from_utf8_lossy(&out.stderr)));
        }
    };
    for (name, doc) in &docs {
        validate(name, doc, &data.join("master.xsd"));
    }
    let versions = text(
        http()
            .get(url(&sim, "api/versions"))
            .send()
            .await
            .expect("versions"),
    )
    .await;
    validate(
        "versions",
        &versions,
        &data.join("xsd/schemas/versioning/versions.xsd"),
    );
    assert!(failures.is_empty(), "{failures:#?}");
    sim.shutdown().await;
}
