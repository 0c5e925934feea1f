//! Every document the OpenNebula simulator emits validates against OpenNebula's XSDs
//! (`xmllint --schema`, elements put into the schema's namespace).
//!
//! One documented deviation, taken from the real server: oned leaves `TM_MAD_SYSTEM` out
//! of a VM's TEMPLATE until the VM is deployed (recordings 062, 066), which the shipped
//! `vm.xsd` declares mandatory; real oned documents fail that check, so the test's copy of
//! `vm.xsd` makes that one element optional. `one.system.config` is the recorded oned
//! document verbatim (which also does not validate against its XSD) and is compared with
//! the recording instead. Likewise the zone TEMPLATE's ENDPOINT_GRPC (recorded-sweep 013),
//! which the shipped zone.xsd lacks, is allowed in the test's copy.

mod one_common;

use std::process::Command;

const XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/one/xsd");

fn xsd_for(root: &str, extended: bool) -> Option<&'static str> {
    Some(match root {
        "USER" => "user",
        "USER_POOL" => "user_pool",
        "GROUP" => "group",
        "GROUP_POOL" => "group_pool",
        "ACL_POOL" => "acl_pool",
        "CLUSTER" => "cluster",
        "CLUSTER_POOL" => "cluster_pool",
        "HOST" => "host",
        "HOST_POOL" => "host_pool",
        "DATASTORE" => "datastore",
        "DATASTORE_POOL" => "datastore_pool",
        "IMAGE" => "image",
        "IMAGE_POOL" => "image_pool",
        "VNET" => "vnet",
        "VNET_POOL" => "vnet_pool",
        "VMTEMPLATE" => "vmtemplate",
        "VMTEMPLATE_POOL" => "vmtemplate_pool",
        "VM" => "vm",
        "VM_POOL" if extended => "vm_pool_extended",
        "VM_POOL" => "vm_pool",
        "MONITORING_DATA" => "monitoring_data",
        "SECURITY_GROUP" => "security_group",
        "SECURITY_GROUP_POOL" => "security_group_pool",
        "VM_GROUP" => "vm_group",
        "VM_GROUP_POOL" => "vm_group_pool",
        "DOCUMENT" => "document",
        "DOCUMENT_POOL" => "document_pool",
        "ZONE" => "zone",
        "ZONE_POOL" => "zone_pool",
        "VNTEMPLATE" => "vntemplate",
        "VDC" => "vdc",
        "VDC_POOL" => "vdc_pool",
        "VROUTER" => "vrouter",
        "VROUTER_POOL" => "vrouter_pool",
        "VNTEMPLATE_POOL" => "vntemplate_pool",
        "HOOK" => "hook",
        "HOOK_POOL" => "hook_pool",
        "MARKETPLACE" => "marketplace",
        "MARKETPLACE_POOL" => "marketplace_pool",
        "MARKETPLACEAPP" => "marketplaceapp",
        "MARKETPLACEAPP_POOL" => "marketplaceapp_pool",
        "BACKUPJOB" => "backupjob",
        "BACKUPJOB_POOL" => "backupjob_pool",
        "RAFT" => "raftstatus",
        "HISTORY_RECORDS" => "acct",
        "SHOWBACK_RECORDS" => "showback",
        _ => return None,
    })
}

fn xmllint_available() -> bool {
    Command::new("xmllint").arg("--version").output().is_ok()
}

#[tokio::test]
async fn every_document_validates_against_the_xsds() {
    if !xmllint_available() {
        if std::env::var_os("CI").is_some() {
            panic!("xmllint is required in CI (libxml2-utils)");
        }
        println!("skipped: xmllint is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for e in std::fs::read_dir(XSD).expect("xsd dir") {
        let p = e.expect("entry").path();
        let mut text = std::fs::read_to_string(&p).expect("xsd");
        if matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("zone.xsd" | "zone_pool.xsd")
        ) {
            // oned 7.5 adds ENDPOINT_GRPC to the zone template (recorded-sweep 013), which
            // the shipped zone.xsd does not list yet
            text = text.replace(
                "<xs:element name=\"ENDPOINT\" type=\"xs:string\"/>",
                "<xs:element name=\"ENDPOINT\" type=\"xs:string\"/>\n              <xs:element name=\"ENDPOINT_GRPC\" type=\"xs:string\" minOccurs=\"0\"/>",
            );
        }
        if p.file_name().and_then(|n| n.to_str()) == Some("vm.xsd") {
            text = text.replace(
                "<xs:element name=\"TM_MAD_SYSTEM\" type=\"xs:string\"/>",
                "<xs:element name=\"TM_MAD_SYSTEM\" type=\"xs:string\" minOccurs=\"0\"/>",
            );
        }
        std::fs::write(dir.path().join(p.file_name().expect("name")), text).expect("write");
    }
    let (sim, rpc) = one_common::start().await;
    let docs = one_common::scenario(&rpc).await;
    assert!(docs.len() >= 39, "{}", docs.len());
    let mut checked = 0;
    let mut extended_seen = false;
    for (i, d) in docs.iter().enumerate() {
        let root: String = d[1..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if root == "OPENNEBULA_CONFIGURATION" {
            let recorded = std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/one/recorded/002_one.system.config.response.xml"
            ))
            .expect("recording");
            let escaped = d
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            assert!(
                recorded.contains(&escaped),
                "system.config differs from the recording"
            );
            continue;
        }
        // infoextended VM pools carry PERMISSIONS inside each VM.
        let extended = root == "VM_POOL" && d.contains("<PERMISSIONS>");
        extended_seen |= extended;
        let xsd = xsd_for(&root, extended).unwrap_or_else(|| panic!("no XSD for {root}"));
        let with_ns = d.replacen(
            &format!("<{root}"),
            &format!("<{root} xmlns=\"http://opennebula.org/XMLSchema\""),
            1,
        );
        let file = dir.path().join(format!("doc{i}.xml"));
        std::fs::write(&file, &with_ns).expect("write doc");
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(dir.path().join(format!("{xsd}.xsd")))
            .arg(&file)
            .output()
            .expect("xmllint");
        assert!(
            out.status.success(),
            "{root} does not validate against {xsd}.xsd: {}\n{d}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(extended_seen);
    assert!(checked >= 38);
    sim.shutdown().await;
}
