//! Every vCD document the vCloud simulator serves for orgs, vDCs, catalogs, catalog items,
//! vApp templates, media, vApps, VMs and their sections, metadata, tasks and errors
//! validates against the vCD schemas (`xmllint --schema` with the vcd-api-schemas copy of
//! `crates/vcloud/xsd` and its catalog for the OVF/CIM imports).
//!
//! The test crawls every `href` the documents link to (below `/api/`, except the query
//! service, sessions, admin/edge, DR and action URLs) after a few operations have put
//! objects into more states (a new vApp, a snapshot, metadata, a powered-off VM).

use std::collections::{BTreeSet, VecDeque};
use std::process::Command;
use std::time::Duration;

use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use reqwest::{Client, StatusCode};

const XML: &str = "application/*+xml;version=32.0";
const XSD_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vcloud/xsd");

fn http() -> Client {
    nebulair_core::config::build_reqwest_client(&nebulair_core::HttpConfig::default())
        .expect("core client");
    Client::builder().no_proxy().build().expect("client")
}

fn xmllint_available() -> bool {
    Command::new("xmllint").arg("--version").output().is_ok()
}

fn hrefs(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(i) = rest.find("href=\"") {
        rest = &rest[i + 6..];
        if let Some(end) = rest.find('"') {
            out.push(rest[..end].replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    out
}

fn first_attr(doc: &str, tag: &str, name: &str) -> Option<String> {
    let start = doc.find(&format!("<{tag} "))?;
    let end = start + doc[start..].find('>')?;
    let el = &doc[start..end];
    let key = format!(" {name}=\"");
    let v = el.find(&key)? + key.len();
    Some(el[v..v + el[v..].find('"')?].to_owned())
}

#[tokio::test]
async fn every_workload_document_validates_against_the_vcd_xsds() {
    if !xmllint_available() {
        if std::env::var_os("CI").is_some() {
            panic!("xmllint is required in CI (libxml2-utils)");
        }
        println!("skipped: xmllint is not installed");
        return;
    }
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(30))
        .start()
        .await
        .expect("sim");
    let base = sim.base_url().to_string();
    let c = http();
    let resp = c
        .post(format!("{base}api/sessions"))
        .header("Accept", XML)
        .basic_auth(
            format!("{DEFAULT_USER}@{DEFAULT_ORG}"),
            Some(DEFAULT_PASSWORD),
        )
        .send()
        .await
        .expect("login");
    let token = resp.headers()["x-vcloud-authorization"]
        .to_str()
        .expect("token")
        .to_owned();
    let send = |req: reqwest::RequestBuilder| {
        let token = token.clone();
        async move {
            let r = req
                .header("Accept", XML)
                .header("x-vcloud-authorization", token)
                .send()
                .await
                .expect("request");
            let status = r.status();
            (status, r.text().await.expect("body"))
        }
    };
    let wait = |doc: String| {
        let send = &send;
        let c = &c;
        async move {
            let href = first_attr(&doc, "Task", "href").expect("task href");
            for _ in 0..200 {
                let (_, t) = send(c.get(&href)).await;
                if !t.contains("status=\"queued\"") && !t.contains("status=\"running\"") {
                    return t;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("task did not end");
        }
    };
    let mut docs: Vec<(String, String)> = Vec::new();

    // Put objects into more states: a vApp from a template, metadata, a snapshot.
    let (_, org_list) = send(c.get(format!("{base}api/org/"))).await;
    let org_href = hrefs(&org_list)
        .into_iter()
        .find(|h| h.contains("/api/org/6e656275"))
        .expect("org");
    let (_, org) = send(c.get(&org_href)).await;
    let vdc = hrefs(&org)
        .into_iter()
        .find(|h| h.contains("/api/vdc/"))
        .expect("vdc");
    let (_, vdc_doc) = send(c.get(&vdc)).await;
    let tpl = hrefs(&vdc_doc)
        .into_iter()
        .find(|h| h.contains("vappTemplate-"))
        .expect("template");
    let params = format!(
        "<InstantiateVAppTemplateParams xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"xsd-app\" deploy=\"true\" powerOn=\"true\"><Source href=\"{tpl}\"/><AllEULAsAccepted>true</AllEULAsAccepted></InstantiateVAppTemplateParams>"
    );
    let (status, created) = send(
        c.post(format!("{vdc}/action/instantiateVAppTemplate"))
            .header(
                "Content-Type",
                "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
            )
            .body(params),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    docs.push(("instantiate answer".into(), created.clone()));
    let task = wait(created.clone()).await;
    docs.push(("task".into(), task));
    let vapp = first_attr(&created, "VApp", "href").expect("vApp href");
    let meta = "<MetadataValue xmlns=\"http://www.vmware.com/vcloud/v1.5\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><TypedValue xsi:type=\"MetadataNumberValue\"><Value>42</Value></TypedValue></MetadataValue>";
    let (status, t) = send(c.put(format!("{vapp}/metadata/answer")).body(meta)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{t}");
    wait(t).await;
    let (_, vapp_doc) = send(c.get(&vapp)).await;
    let vm = hrefs(&vapp_doc)
        .into_iter()
        .find(|h| h.contains("/api/vApp/vm-") && !h.contains("/action") && !h.contains("/power"))
        .expect("vm");
    let vm = vm
        .split("/api/vApp/")
        .next()
        .map(|b| b.to_owned())
        .unwrap_or_default()
        + "/api/vApp/"
        + vm.split("/api/vApp/")
            .nth(1)
            .and_then(|p| p.split('/').next())
            .unwrap_or("");
    let (status, t) = send(
        c.post(format!("{vm}/action/createSnapshot")).body(
            "<CreateSnapshotParams xmlns=\"http://www.vmware.com/vcloud/v1.5\" memory=\"true\" quiesce=\"false\" name=\"s1\"/>",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{t}");
    wait(t).await;
    // An Error document: powering on a powered-on VM.
    let (status, err) = send(c.post(format!("{vm}/power/action/powerOn"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    docs.push(("error".into(), err));

    // An independent disk: the creation answer (Disk with its Task), the Disk after an
    // attach, and its attachedVms (Vms).
    let (status, created) = send(
        c.post(format!("{vdc}/disk"))
            .header("Content-Type", "application/vnd.vmware.vcloud.diskCreateParams+xml")
            .body("<DiskCreateParams xmlns=\"http://www.vmware.com/vcloud/v1.5\"><Disk name=\"xsd-disk\" size=\"1048576\" busType=\"6\" busSubType=\"VirtualSCSI\"><Description>d</Description></Disk></DiskCreateParams>"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    docs.push(("disk create answer".into(), created.clone()));
    wait(created.clone()).await;
    let disk = first_attr(&created, "Disk", "href").expect("disk href");
    let (status, t) = send(c.post(format!("{vm}/disk/action/attach")).body(format!(
        "<DiskAttachOrDetachParams xmlns=\"http://www.vmware.com/vcloud/v1.5\"><Disk href=\"{disk}\"/></DiskAttachOrDetachParams>"
    )))
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{t}");
    wait(t).await;
    for h in [disk.clone(), format!("{disk}/attachedVms")] {
        let (status, body) = send(c.get(&h)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        docs.push((h, body));
    }
    assert!(docs.iter().any(|(_, d)| d.contains("<VmReference ")));

    // Crawl.
    let skip = [
        "/api/query",
        "/api/session",
        "/api/admin",
        "/api/vr/",
        "/replications",
        "/action/",
        "/power/",
        "/api/task/",
        "/api/network/",
        "/api/vdcStorageProfile/",
        "/runtimeInfoSection",
        "/leaseSettingsSection",
        "/api/sessions",
        "edgeGateways",
    ];
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::from([format!("{base}api/org/")]);
    while let Some(h) = queue.pop_front() {
        if !h.starts_with(&base) || skip.iter().any(|s| h.contains(s)) || !seen.insert(h.clone()) {
            continue;
        }
        let (status, body) = send(c.get(&h)).await;
        if status != StatusCode::OK {
            continue;
        }
        queue.extend(hrefs(&body));
        docs.push((h, body));
    }
    assert!(docs.len() >= 40, "only {} documents crawled", docs.len());
    for kind in [
        "<VApp ",
        "<Vm ",
        "<Catalog ",
        "<CatalogItem ",
        "<VAppTemplate ",
        "<Media ",
        "<Metadata ",
        "<MetadataValue ",
        "<Vdc ",
        "<Org ",
        "<OrgList ",
        "<Owner ",
        "<ovf:VirtualHardwareSection ",
        "<GuestCustomizationSection ",
        "<NetworkConnectionSection ",
        "<SnapshotSection ",
        "<RasdItemsList ",
        "<VmCapabilities ",
        "<Item ",
        "<Task ",
        "<Error ",
    ] {
        assert!(
            docs.iter().any(|(_, d)| d.contains(kind)),
            "no {kind} document crawled"
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (i, (_, body)) in docs.iter().enumerate() {
        let p = dir.path().join(format!("doc{i:03}.xml"));
        std::fs::write(&p, body).expect("write");
        files.push(p);
    }
    let out = Command::new("xmllint")
        .env(
            "XML_CATALOG_FILES",
            format!("{XSD_DIR}/schemas/external/catalog.xml"),
        )
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(format!("{XSD_DIR}/1.5/schemas/vcloud/vcloud.xsd"))
        .args(&files)
        .output()
        .expect("xmllint runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failures: Vec<String> = stderr
        .lines()
        .filter(|l| !l.ends_with(" validates"))
        .map(|l| {
            let idx = l
                .split("doc")
                .nth(1)
                .and_then(|s| s.get(..3))
                .and_then(|n| n.parse::<usize>().ok());
            match idx {
                Some(i) => format!("{} :: {l}", docs[i].0),
                None => l.to_owned(),
            }
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} documents fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    sim.shutdown().await;
}
