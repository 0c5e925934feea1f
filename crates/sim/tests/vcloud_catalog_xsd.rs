//! The catalog documents of the vCD simulator in every state of an upload validate
//! against the vCD schemas (`xmllint --schema`): a Catalog with its upload links, the
//! sharing settings, the CatalogItem of a new upload, a media and a vApp template while
//! their files are uploaded (`Files` with `bytesTransferred`, the running import task),
//! the template once imported (children with hardware, the `NetworkSection`), and both
//! once offered for download; org vDC networks (isolated, routed, direct) and the vDC
//! listing them. Skipped without xmllint, except under CI.

use std::process::Command;
use std::time::Duration;

use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use reqwest::{Client, StatusCode};

const XML: &str = "application/*+xml;version=32.0";
const XSD_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vcloud/xsd");

fn first_attr(doc: &str, tag: &str, name: &str) -> Option<String> {
    let start = doc.find(&format!("<{tag} "))?;
    let end = start + doc[start..].find('>')?;
    let el = &doc[start..end];
    let key = format!(" {name}=\"");
    let v = el.find(&key)? + key.len();
    Some(el[v..v + el[v..].find('"')?].replace("&amp;", "&"))
}

fn link(doc: &str, rel: &str) -> Option<String> {
    let key = format!("rel=\"{rel}\"");
    let at = doc.find(&key)?;
    let start = doc[..at].rfind('<')?;
    first_attr(&doc[start..], "Link", "href")
}

const OVF: &str = r#"<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:href="x-disk.vmdk" ovf:id="f1" ovf:size="3000"/></References>
  <DiskSection><Info>d</Info><Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30"/></DiskSection>
  <NetworkSection><Info>n</Info><Network ovf:name="VM Network"/></NetworkSection>
  <VirtualSystem ovf:id="x-vm"><Info>vm</Info><Name>x-vm</Name><VirtualHardwareSection><Info>hw</Info>
    <Item><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
    <Item><rasd:ElementName>disk</rasd:ElementName><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
    <Item><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>nic</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
  </VirtualHardwareSection></VirtualSystem>
</Envelope>"#;

#[tokio::test]
async fn catalog_documents_in_every_upload_state_validate() {
    if Command::new("xmllint").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint is required in CI (libxml2-utils)"
        );
        println!("skipped: xmllint is not installed");
        return;
    }
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(30))
        .start()
        .await
        .expect("sim");
    let base = sim.base_url().to_string();
    // Building a core client installs the rustls crypto provider reqwest needs.
    nebulair_core::config::build_reqwest_client(&nebulair_core::HttpConfig::default())
        .expect("core client");
    let c = Client::builder().no_proxy().build().expect("client");
    let token = c
        .post(format!("{base}api/sessions"))
        .header("Accept", XML)
        .basic_auth(
            format!("{DEFAULT_USER}@{DEFAULT_ORG}"),
            Some(DEFAULT_PASSWORD),
        )
        .send()
        .await
        .expect("login")
        .headers()["x-vcloud-authorization"]
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
    let wait = |task_doc: String| {
        let send = &send;
        let c = &c;
        async move {
            let href = first_attr(&task_doc, "Task", "href").expect("task href");
            for _ in 0..300 {
                let (_, t) = send(c.get(&href)).await;
                if t.contains("status=\"success\"") {
                    return;
                }
                assert!(!t.contains("status=\"error\""), "{t}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("task did not end");
        }
    };
    let mut docs: Vec<(&str, String)> = Vec::new();

    let (_, org) = send(c.get(format!("{base}api/org/{}", nebulair_sim::vcloud::ORG_ID))).await;
    let at = org.find("name=\"Public\"").expect("Public");
    let cat_href =
        first_attr(&org[org[..at].rfind('<').expect("<")..], "Link", "href").expect("href");
    let (_, catalog) = send(c.get(&cat_href)).await;
    let upload = link(&catalog, "add").expect("upload link");
    let access_post = link(&catalog, "controlAccess").expect("controlAccess link");
    docs.push(("catalog", catalog));

    let share = format!(
        "<ControlAccessParams xmlns=\"http://www.vmware.com/vcloud/v1.5\"><IsSharedToEveryone>true</IsSharedToEveryone><EveryoneAccessLevel>ReadOnly</EveryoneAccessLevel><AccessSettings><AccessSetting><Subject href=\"{base}api/admin/org/{}\" type=\"application/vnd.vmware.admin.organization+xml\"/><AccessLevel>Change</AccessLevel></AccessSetting></AccessSettings></ControlAccessParams>",
        nebulair_sim::vcloud::ORG_ID
    );
    let (status, shared) = send(
        c.post(&access_post)
            .header(
                "Content-Type",
                "application/vnd.vmware.vcloud.controlAccess+xml",
            )
            .body(share),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    docs.push(("controlAccess", shared));

    // a media while uploading, then done, then downloadable
    let (status, item) = send(
        c.post(&upload)
            .header("Content-Type", "application/vnd.vmware.vcloud.media+xml")
            .body("<Media xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"x.iso\" size=\"2048\" imageType=\"iso\"><Description>x</Description></Media>"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let media_href = first_attr(&item, "Entity", "href").expect("entity");
    docs.push(("new media item", item));
    let (_, media) = send(c.get(&media_href)).await;
    assert!(media.contains("bytesTransferred=\"0\""), "{media}");
    let put = link(&media, "upload:default").expect("upload link");
    docs.push(("media uploading", media));
    for (i, range) in ["bytes 0-1023/2048", "bytes 1024-2047/2048"]
        .iter()
        .enumerate()
    {
        let (status, body) = send(
            c.put(&put)
                .header("Content-Range", *range)
                .body(vec![i as u8; 1024]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut ready = String::new();
    for _ in 0..300 {
        let (_, m) = send(c.get(&media_href)).await;
        if m.contains("status=\"1\"") {
            ready = m;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!ready.is_empty(), "the media became ready");
    let enable = link(&ready, "enable").expect("enable link");
    docs.push(("media ready", ready));
    let (_, task) = send(c.post(&enable)).await;
    wait(task).await;
    let (_, downloadable) = send(c.get(&media_href)).await;
    assert!(downloadable.contains("download:default"), "{downloadable}");
    docs.push(("media downloadable", downloadable));

    // a template: descriptor pending, files pending, imported, downloadable
    let (status, item) = send(
        c.post(&upload)
            .header("Content-Type", "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml")
            .body("<UploadVAppTemplateParams xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"x-tpl\"><Description>x</Description></UploadVAppTemplateParams>"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let tpl_href = first_attr(&item, "Entity", "href").expect("entity");
    let (_, tpl) = send(c.get(&tpl_href)).await;
    assert!(tpl.contains("size=\"-1\""), "{tpl}");
    assert!(tpl.contains("ovfDescriptorUploaded=\"false\""), "{tpl}");
    let put = link(&tpl, "upload:default").expect("descriptor link");
    docs.push(("template, descriptor pending", tpl));
    let (status, body) = send(c.put(&put).header("Content-Type", "text/xml").body(OVF)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, tpl) = send(c.get(&tpl_href)).await;
    let at = tpl.find("name=\"x-disk.vmdk\"").expect("disk file listed");
    let disk_put = link(&tpl[at..], "upload:default").expect("disk link");
    docs.push(("template, files pending", tpl));
    let (status, body) = send(c.put(&disk_put).body(vec![9u8; 3000])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut imported = String::new();
    for _ in 0..300 {
        let (_, t) = send(c.get(&tpl_href)).await;
        if t.contains(" status=\"8\"") {
            imported = t;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(imported.contains("<ovf:NetworkSection>"), "{imported}");
    assert!(imported.contains("vcloud:capacity=\"1024\""), "{imported}");
    let enable = link(&imported, "enable").expect("enable");
    docs.push(("template imported", imported));
    let (_, task) = send(c.post(&enable)).await;
    wait(task).await;
    let (_, downloadable) = send(c.get(&tpl_href)).await;
    assert!(downloadable.contains("download:default"), "{downloadable}");
    docs.push(("template downloadable", downloadable));

    // org vDC networks: isolated (DNS, pools), routed through the edge, direct
    let vdc = nebulair_sim::vcloud::VDC_PROD_ID;
    let bodies = [
        "<OrgVdcNetwork xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"x-iso\"><Description>d</Description><Configuration><IpScopes><IpScope><IsInherited>false</IsInherited><Gateway>10.1.0.1</Gateway><Netmask>255.255.255.0</Netmask><Dns1>10.1.0.53</Dns1><DnsSuffix>x.example</DnsSuffix><IpRanges><IpRange><StartAddress>10.1.0.10</StartAddress><EndAddress>10.1.0.20</EndAddress></IpRange></IpRanges></IpScope></IpScopes><FenceMode>isolated</FenceMode></Configuration><IsShared>false</IsShared></OrgVdcNetwork>".to_owned(),
        format!("<OrgVdcNetwork xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"x-routed\"><Configuration><IpScopes><IpScope><IsInherited>false</IsInherited><Gateway>10.2.0.1</Gateway><Netmask>255.255.0.0</Netmask></IpScope></IpScopes><FenceMode>natRouted</FenceMode></Configuration><EdgeGateway href=\"{base}api/admin/edgeGateway/{}\"/></OrgVdcNetwork>", nebulair_sim::vcloud::EDGE_ID),
        format!("<OrgVdcNetwork xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"x-direct\"><Configuration><IpScopes><IpScope><IsInherited>false</IsInherited><Gateway>203.0.113.1</Gateway><Netmask>255.255.255.240</Netmask></IpScope></IpScopes><ParentNetwork href=\"{base}api/admin/network/6e656275-6c61-4000-8000-000000000401\"/><FenceMode>bridged</FenceMode></Configuration></OrgVdcNetwork>"),
    ];
    for (i, body) in bodies.into_iter().enumerate() {
        let (status, created) = send(
            c.post(format!("{base}api/admin/vdc/{vdc}/networks"))
                .header(
                    "Content-Type",
                    "application/vnd.vmware.vcloud.orgVdcNetwork+xml",
                )
                .body(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let href = first_attr(&created, "OrgVdcNetwork", "href").expect("href");
        let task = created[created.find("<Task ").expect("task")..].to_owned();
        if i == 0 {
            docs.push(("network being created", created));
        }
        wait(task).await;
        let (_, net) = send(c.get(&href)).await;
        docs.push(("network", net));
    }
    let (_, vdc_doc) = send(c.get(format!("{base}api/vdc/{vdc}"))).await;
    assert!(vdc_doc.contains("name=\"x-direct\""), "{vdc_doc}");
    docs.push(("vdc with networks", vdc_doc));

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
    assert_eq!(docs.len(), 15);
    sim.shutdown().await;
}
