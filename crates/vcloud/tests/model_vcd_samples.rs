//! Every vCD sample in `tests/data/` decodes into the typed model with the values it holds,
//! writes back to XML that decodes to the same value (nothing dropped), and the other
//! features' stored payloads decode without a client.

use std::path::PathBuf;

use nebulair_vcloud::ans::{AnsConfig, Firewall, Ipsec, Nat};
use nebulair_vcloud::model::documents::ReplicationList;
use nebulair_vcloud::model::vcd::{
    self, Document, HasLinks, OrgList, Rel, Section, VAppStatus, media,
};
use nebulair_vcloud::model::xml::XmlElement;
use nebulair_vcloud::query::QueryPage;
use nebulair_vcloud::session::OdInstance;
use nebulair_vcloud::{MetricData, QueryResults, Task, TaskStatus};

fn read(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Decodes, re-encodes and decodes again: the second value equals the first.
fn round_trip<T: Document + PartialEq + std::fmt::Debug>(name: &str) -> T {
    let v = T::from_xml(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let xml = v.to_xml();
    let again = T::from_xml(&xml).unwrap_or_else(|e| panic!("{name} re-read: {e}\n{xml}"));
    assert_eq!(again, v, "{name} does not round-trip");
    v
}

#[test]
fn session_samples() {
    for name in ["vcd_session.xml", "vcd_session_v9.xml"] {
        let s: vcd::Session = round_trip(name);
        assert!(s.user.is_some(), "{name}");
        assert!(
            s.link_typed(&Rel::Down, media::ORG_LIST).is_some(),
            "{name}: no orgList link"
        );
    }
    let s: vcd::Session = round_trip("vcd_session.xml");
    assert_eq!(s.user.as_deref(), Some("username"));
    assert_eq!(s.org.as_deref(), Some("organization"));
    assert_eq!(
        s.user_id.as_deref(),
        Some("urn:vcloud:user:00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(
        s.href_of(&Rel::Remove),
        Some("http://localhost:4444/api/session/")
    );
}

#[test]
fn org_list_and_org_samples() {
    let list: OrgList = round_trip("vcd_orglist.xml");
    let names: Vec<_> = list.orgs.iter().filter_map(|o| o.name.as_deref()).collect();
    assert_eq!(names, ["Acme", "Acme-DR"]);
    assert_eq!(list.orgs[0].type_.as_deref(), Some(media::ORG));

    let org: vcd::Org = round_trip("vcd_org.xml");
    assert_eq!(org.name.as_deref(), Some("organization"));
    assert_eq!(
        org.id.as_deref(),
        Some("urn:vcloud:org:00000000-0000-0000-0000-000000000000")
    );
    let vdcs = org
        .links_with(&Rel::Down)
        .into_iter()
        .filter(|l| l.type_.as_deref() == Some(media::VDC))
        .count();
    assert!(vdcs >= 1);
    let org: vcd::Org = round_trip("vcd_org_vca.xml");
    assert!(org.name.is_some());
}

#[test]
fn vdc_samples() {
    let vdc: vcd::Vdc = round_trip("vcd_vdc_v9.xml");
    assert_eq!(vdc.name.as_deref(), Some("RedHat VDC 2"));
    let cpu = vdc
        .compute_capacity
        .as_ref()
        .and_then(|c| c.cpu.as_ref())
        .expect("cpu capacity");
    assert_eq!(cpu.units.as_deref(), Some("MHz"));
    assert_eq!(cpu.allocated, Some(7160));
    assert_eq!(cpu.limit, Some(7160));
    let mem = vdc
        .compute_capacity
        .as_ref()
        .and_then(|c| c.memory.as_ref())
        .expect("memory capacity");
    assert_eq!(mem.units.as_deref(), Some("MB"));
    assert_eq!(mem.allocated, Some(29378));
    let entities = vdc
        .resource_entities
        .as_ref()
        .map(|r| r.resource_entities.len())
        .unwrap_or(0);
    assert!(entities >= 4, "{entities} resource entities");
    assert!(vdc.resource_entities.as_ref().is_some_and(|r| {
        r.resource_entities
            .iter()
            .any(|e| e.name.as_deref() == Some("berginc-vapp"))
    }));
    // The vCloud Air fixture has a malformed xsi URI; it still decodes.
    let vca: vcd::Vdc = round_trip("vcd_vdc_vca.xml");
    assert!(vca.name.is_some());
}

#[test]
fn vapp_sample() {
    let vapp: vcd::VApp = round_trip("vcd_vapp_novms_v9.xml");
    assert_eq!(vapp.name.as_deref(), Some("berginc-vapp"));
    assert_eq!(vapp.status, Some(1));
    assert_eq!(vapp.status_typed(), Some(VAppStatus::Resolved));
    assert_eq!(vapp.deployed, Some(false));
    assert_eq!(vapp.ovf_descriptor_uploaded, Some(true));
    assert!(vapp.vms().is_empty());
    assert!(vapp.lease_settings_section().is_some());
    assert!(vapp.network_config_section().is_some());
    assert!(
        vapp.sections
            .iter()
            .any(|s| matches!(s, Section::NetworkSection(_)))
    );
    assert_eq!(
        vapp.href_of(&Rel::Up),
        Some("https://VMWARE_CLOUD_HOST/api/vdc/cf6ea964-a67f-4ba1-b69e-3dd5d6cb0c89")
    );
    // The attributes of ovf:NetworkSection in the vcloud namespace survive the round trip.
    let ns = vapp
        .sections
        .iter()
        .find_map(|s| match s {
            Section::NetworkSection(n) => Some(n),
            _ => None,
        })
        .expect("network section");
    assert!(
        ns.other_attributes.iter().any(|a| a.name == "href"
            && a.namespace.as_deref() == Some("http://www.vmware.com/vcloud/v1.5"))
    );
}

#[test]
fn vm_authored_sample() {
    let vm: vcd::Vm = round_trip("vcd_vm_authored.xml");
    assert_eq!(vm.name.as_deref(), Some("web-01"));
    assert_eq!(vm.status_typed(), Some(VAppStatus::PoweredOn));
    assert_eq!(vm.deployed, Some(true));
    assert_eq!(vm.needs_customization, Some(false));
    assert_eq!(vm.description.as_deref(), Some("Front-end web server"));
    assert_eq!(vm.cpu_count(), Some(2));
    assert_eq!(
        vm.virtual_hardware_section()
            .and_then(|h| h.cores_per_socket()),
        Some(1)
    );
    assert_eq!(vm.memory_mb(), Some(2048));
    let disks = vm.disks();
    assert_eq!(disks.len(), 1);
    assert_eq!(disks[0].size_mb, Some(16384));
    assert_eq!(disks[0].bus_type.as_deref(), Some("6"));
    assert_eq!(disks[0].name, "Hard disk 1");
    let nics = vm.virtual_hardware_section().expect("hw").nics();
    assert_eq!(nics.len(), 1);
    assert_eq!(nics[0].network, "default-routed");
    assert_eq!(nics[0].ip_addressing_mode.as_deref(), Some("POOL"));
    assert!(nics[0].primary);
    let conns = vm.network_connections();
    assert_eq!(conns[0].ip_address.as_deref(), Some("192.168.109.11"));
    assert_eq!(conns[0].is_connected, Some(true));
    assert_eq!(conns[0].network.as_deref(), Some("default-routed"));
    let gc = vm.guest_customization_section().expect("customization");
    assert_eq!(gc.computer_name.as_deref(), Some("web-01"));
    assert_eq!(gc.admin_password_enabled, Some(true));
    assert_eq!(
        gc.customization_script.as_deref(),
        Some("#!/bin/sh\necho hello > /tmp/hello")
    );
    let os = vm.operating_system_section().expect("os");
    assert_eq!(os.id, Some(107));
    assert_eq!(
        os.description.as_ref().map(|d| d.value.as_str()),
        Some("CentOS 7 (64-bit)")
    );
    assert_eq!(vm.tools_version(), Some("11269"));
    let snap = vm.snapshot().expect("snapshot");
    assert_eq!(snap.powered_on, Some(true));
    assert_eq!(snap.size, Some(2_147_483_648));
    assert_eq!(
        vm.vm_capabilities
            .as_ref()
            .and_then(|c| c.memory_hot_add_enabled),
        Some(true)
    );
    assert_eq!(
        vm.storage_profile.as_ref().and_then(|s| s.name.as_deref()),
        Some("Gold")
    );
    assert!(vm.has_link(&Rel::PowerOff));
    assert!(!vm.has_link(&Rel::PowerOn));
    assert_eq!(
        vm.link(&Rel::Undeploy).and_then(|l| l.type_.as_deref()),
        Some(media::UNDEPLOY_VAPP_PARAMS)
    );
}

#[test]
fn unknown_elements_and_attributes_are_kept() {
    let doc = r#"<Vm xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:x="urn:future" name="a" x:flag="1" newAttr="v">
        <Description>d</Description><x:Future a="b"><x:Inner>t</x:Inner></x:Future></Vm>"#;
    let vm: vcd::Vm = doc.parse().expect("vm");
    assert_eq!(vm.other_attributes.len(), 2);
    assert_eq!(vm.other_elements.len(), 1);
    let again = XmlElement::parse(&vm.to_xml()).expect("xml");
    let fut = again.child("Future").expect("kept");
    assert_eq!(fut.namespace(), Some("urn:future"));
    assert_eq!(fut.child_text("Inner"), Some("t"));
    assert_eq!(again.attr("flag"), Some("1"));
    assert_eq!(again.attr("newAttr"), Some("v"));
}

#[test]
fn bad_values_are_typed_errors_not_panics() {
    let err = "<Vm xmlns=\"http://www.vmware.com/vcloud/v1.5\" status=\"on\"/>"
        .parse::<vcd::Vm>()
        .expect_err("status is an int");
    assert_eq!(err.kind(), nebulair_vcloud::ErrorKind::Protocol);
    assert!(err.to_string().contains("status"), "{err}");
    let err = "<VApp xmlns=\"http://www.vmware.com/vcloud/v1.5\"/>"
        .parse::<vcd::Vm>()
        .expect_err("wrong root");
    assert!(err.to_string().contains("expected a <Vm>"), "{err}");
    assert!("not xml".parse::<vcd::Vm>().is_err());
}

#[test]
fn task_and_error_samples() {
    let t: vcd::Task = round_trip("vcd_task_success.xml");
    assert_eq!(t.status.as_deref(), Some("success"));
    assert_eq!(t.operation_name.as_deref(), Some("vdcComposeVapp"));
    let t: vcd::Task = round_trip("vcd_task_running_202.xml");
    assert_eq!(t.status.as_deref(), Some("queued"));
    assert_eq!(t.operation_name.as_deref(), Some("vappUpdateVm"));
    assert_eq!(t.cancel_requested, Some(false));
    let legacy: Task = read("vcd_task_running_202.xml").parse().expect("task");
    assert_eq!(legacy.status, TaskStatus::Queued);

    let e: vcd::Error = round_trip("vcd_error_500.xml");
    assert_eq!(e.major_error_code, Some(500));
    assert_eq!(e.minor_error_code.as_deref(), Some("Server Error"));
    assert_eq!(e.message.as_deref(), Some("Error Message"));
    assert_eq!(
        e.vendor_specific_error_code.as_deref(),
        Some("NoSpecificError")
    );
    assert_eq!(
        e.stack_trace.as_deref(),
        Some("Hello my name is Stack Trace")
    );
}

#[test]
fn other_features_decode_stored_payloads() {
    let fw: AnsConfig<Firewall> = read("ans_firewall_config.json").parse().expect("fw");
    assert!(!fw.rules().is_empty());
    assert!(fw.config().contains_key("defaultPolicy"));
    let nat: AnsConfig<Nat> = read("ans_nat_config.json").parse().expect("nat");
    assert!(!nat.rules().is_empty());
    let ipsec: AnsConfig<Ipsec> = read("ans_ipsec_config.json").parse().expect("ipsec");
    assert!(!ipsec.rules().is_empty());
    assert!("[1]".parse::<AnsConfig<Nat>>().is_err());

    let reps: ReplicationList = read("dr_replications.xml").parse().expect("replications");
    assert!(!reps.replications.is_empty());
    assert!(reps.replications.iter().all(
        |(id, href)| href.ends_with(id.as_str()) || href.to_lowercase().ends_with(id.as_str())
    ));
    let details: nebulair_vcloud::dr::ReplicationDetails =
        read("dr_replication_group.xml").parse().expect("details");
    assert!(details.name.is_some());
    assert!(details.rpo_minutes.is_some());

    let page = read("metrics_vdc_response.json");
    let data = MetricData::from_json_pages([page.as_str()], &[]).expect("metrics");
    assert_eq!(data.pages(), 1);
    assert!(data.sample_count() > 0);
    let filtered = MetricData::from_json_pages(
        [page.as_str()],
        &["cpu.usage.average".to_owned(), "no.such.metric".to_owned()],
    )
    .expect("filtered");
    let vm = filtered.vms().next().expect("a vm").to_owned();
    let ts = filtered.data()[&vm].keys().next().expect("ts").clone();
    assert_eq!(
        filtered.get(&vm, &ts, "no.such.metric"),
        Some(&nebulair_vcloud::MetricValue::Absent)
    );

    let instances =
        OdInstance::list_from_json(&read("vca_od_instances.json"), &read("vca_od_plans.json"))
            .expect("instances");
    assert_eq!(instances.len(), 3);
    assert_eq!(instances.iter().filter(|i| i.has_session()).count(), 2);
    assert!(instances.iter().any(|i| i.friendly_name != "Unnamed"));

    let page: QueryPage = read("vcd_query_vapp_records_page1.xml")
        .parse()
        .expect("page");
    assert_eq!(page.records.len(), 2);
    let results: QueryResults = read("vcd_query_vm_records.xml").parse().expect("results");
    assert!(!results.is_empty());
    let (_, fields) = results.records().iter().next().expect("one");
    assert!(fields.contains_key("name"));
    let p2: QueryPage = read("vcd_query_vapp_records_page2.xml")
        .parse()
        .expect("p2");
    let both = QueryResults::from_pages([&page, &p2], &["name"]).expect("both");
    assert_eq!(both.len(), 3);
    assert_eq!(both.find_by_name("WEB-TIER").len(), 2);
}
