use std::sync::Arc;
use std::time::Duration;

use nebulair_core::{ErrorKind, HttpResponse, MockTransport};
use proptest::prelude::*;

use super::*;
use crate::session::OrgInfo;

const SAMPLE: &str = include_str!("../../tests/data/edge/edgegateway_services.xml");

fn reparse(xml: &str) -> Node {
    Node::from_element(&XmlElement::parse(xml).expect("our output is XML"))
}

#[test]
fn sample_decodes_and_round_trips_unchanged() {
    let services = EdgeGatewayServices::from_xml(SAMPLE).expect("sample");
    assert_eq!(
        services.service_names(),
        [
            "FirewallService",
            "NatService",
            "GatewayIpsecVpnService",
            "StaticRoutingService",
            "LoadBalancerService"
        ]
    );
    let fw = services.firewall().expect("fw").expect("present");
    assert_eq!(fw.default_action.as_deref(), Some("drop"));
    assert_eq!(fw.rules.len(), 4);
    assert_eq!(fw.rules[0].destination_ip.as_deref(), Some("23.92.225.51"));
    assert_eq!(fw.rules[0].protocols.as_ref().map(|p| p.tcp), Some(true));
    assert_eq!(fw.rules[1].protocols.as_ref().map(|p| p.any), Some(true));
    let nat = services.nat().expect("nat").expect("present");
    assert_eq!(nat.is_enabled, Some(false));
    assert_eq!(nat.rules.len(), 4);
    assert_eq!(nat.rules[0].rule_type.as_deref(), Some("DNAT"));
    assert_eq!(nat.rules[0].interface_name.as_deref(), Some("d2p3-ext"));
    assert_eq!(nat.rules[1].original_port, None);
    let vpn = services.ipsec().expect("ipsec").expect("present");
    assert_eq!(vpn.tunnels.len(), 2);
    assert_eq!(vpn.tunnels[0].peer_subnets[0].name, "192.168.120.0/24");
    assert_eq!(vpn.tunnels[0].mtu, Some(1500));
    assert!(!format!("{vpn:?}").contains("Blah1Blah2"));

    // Putting unchanged views back changes nothing.
    let mut again = services.clone();
    again.set_firewall(&fw);
    again.set_nat(&nat);
    again.set_ipsec(&vpn);
    assert_eq!(again, services);
    let xml = services.to_xml();
    assert!(xml.starts_with(
        r#"<EdgeGatewayServiceConfiguration xmlns="http://www.vmware.com/vcloud/v1.5">"#
    ));
    assert_eq!(reparse(&xml), services.root);
}

#[test]
fn edits_keep_schema_order_and_unknown_elements() {
    let mut services = EdgeGatewayServices::from_xml(SAMPLE).expect("sample");
    let mut fw = services.firewall().expect("fw").expect("present");
    fw.rules.remove(3);
    fw.rules
        .push(EdgeFirewallRule::allow("web", "Any", "23.92.225.51", "443"));
    fw.rules[0].description = Some("ssh from home".into());
    fw.rules[0].enable_logging = Some(true);
    services.set_firewall(&fw);
    let mut nat = services.nat().expect("nat").expect("present");
    nat.rules.truncate(1);
    let mut r = EdgeNatRule::new(
        "dnat",
        "http://localhost:4444/api/admin/network/6254f107",
        "23.92.225.73",
        "192.168.109.20",
    );
    r.original_port = Some("80".into());
    r.translated_port = Some("8080".into());
    r.protocol = Some("Tcp".into());
    nat.rules.push(r);
    services.set_nat(&nat);
    let mut vpn = services.ipsec().expect("ipsec").expect("present");
    vpn.tunnels.push(EdgeIpsecTunnel::new(
        "dc2",
        "23.92.225.51",
        "203.0.113.9",
        "203.0.113.9",
        vec![IpsecSubnet::new("net", "192.168.109.1", "255.255.255.0")],
        vec![IpsecSubnet::new("10.9.0.0/16", "10.9.0.1", "255.255.0.0")],
        "psk-value",
    ));
    services.set_ipsec(&vpn);

    let xml = services.to_xml();
    let back = EdgeGatewayServices::from_xml(&xml).expect("reparse");
    let fw2 = back.firewall().expect("fw").expect("present");
    assert_eq!(fw2.rules.len(), 4);
    assert_eq!(fw2.rules[3].destination_port_range.as_deref(), Some("443"));
    assert_eq!(fw2.rules[0].description.as_deref(), Some("ssh from home"));
    let names: Vec<&str> = back.root.children[0].children[3]
        .children
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Id",
            "IsEnabled",
            "MatchOnTranslate",
            "Description",
            "Policy",
            "Protocols",
            "Port",
            "DestinationPortRange",
            "DestinationIp",
            "SourcePort",
            "SourcePortRange",
            "SourceIp",
            "EnableLogging"
        ]
    );
    let nat2 = back.nat().expect("nat").expect("present");
    assert_eq!(nat2.rules.len(), 2);
    assert_eq!(nat2.rules[1].rule_type.as_deref(), Some("DNAT"));
    assert_eq!(nat2.rules[1].translated_port.as_deref(), Some("8080"));
    let rule_children: Vec<&str> = back.root.children[1].children[2]
        .children
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(rule_children, ["RuleType", "IsEnabled", "GatewayNatRule"]);
    let vpn2 = back.ipsec().expect("ipsec").expect("present");
    assert_eq!(
        vpn2.tunnels[2]
            .shared_secret
            .as_ref()
            .map(SharedSecret::expose),
        Some("psk-value")
    );
    assert_eq!(
        back.root.children[1]
            .children
            .last()
            .map(|c| c.name.as_str()),
        Some("NatRule")
    );
    assert!(
        xml.contains("<StaticRoutingService><IsEnabled>false</IsEnabled></StaticRoutingService>")
    );
    assert!(
        xml.contains(
            "<IpsecVpnThirdPartyPeer><PeerId>203.0.113.9</PeerId></IpsecVpnThirdPartyPeer>"
        )
    );
}

#[test]
fn malformed_documents_are_errors() {
    assert!(EdgeGatewayServices::from_xml("<EdgeGateway/>").is_err());
    assert!(EdgeGatewayServices::from_xml("not xml").is_err());
    let bad = EdgeGatewayServices::from_xml(
        "<EdgeGatewayServiceConfiguration><FirewallService><IsEnabled>maybe</IsEnabled></FirewallService></EdgeGatewayServiceConfiguration>",
    )
    .expect("parses");
    assert_eq!(
        bad.firewall().expect_err("bool").kind(),
        ErrorKind::Protocol
    );
}

#[tokio::test]
async fn configure_services_retries_busy_and_returns_the_task() {
    let mock = Arc::new(MockTransport::new());
    mock.push_response(HttpResponse::new(200, SAMPLE));
    mock.push_response(HttpResponse::new(
        400,
        r#"<Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="400" minorErrorCode="BUSY_ENTITY" message="The entity gateway is busy completing an operation."/>"#,
    ));
    mock.push_response(HttpResponse::new(
        202,
        r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="running" href="https://vcd.example.test/api/task/9"><Progress>0</Progress></Task>"#,
    ));
    let org = OrgInfo::new("https://vcd.example.test/", "tok", "org").expect("org");
    let client = VcdClient::new(org, mock.clone());
    let edge = EdgeGateway::new(
        &client,
        "urn:vcloud:gateway:00000000-0000-0000-0000-000000000000",
    )
    .expect("edge")
    .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(1)));
    let services = edge.services().await.expect("services");
    let task = edge.configure_services(&services).await.expect("task");
    assert_eq!(task.href, "https://vcd.example.test/api/task/9");
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0].url.path(),
        "/api/admin/edgeGateway/00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        reqs[2].url.path(),
        "/api/admin/edgeGateway/00000000-0000-0000-0000-000000000000/action/configureServices"
    );
    assert_eq!(
        reqs[2].header_str("content-type"),
        Some(SERVICE_CONFIGURATION_MEDIA)
    );
    assert_eq!(reqs[2].body_str().expect("utf8"), services.to_xml());
    assert!(EdgeGateway::new(&client, "a/b").is_err());
    assert!(EdgeGateway::new(&client, "").is_err());
}

proptest! {
    #[test]
    fn garbage_never_panics(s in "\\PC{0,80}") {
        if let Ok(svc) = EdgeGatewayServices::from_xml(&s) {
            let _ = svc.firewall();
            let _ = svc.nat();
            let _ = svc.ipsec();
            let _ = svc.to_xml();
        }
    }

    #[test]
    fn text_values_round_trip(desc in "\\PC{0,20}", ip in "[0-9.]{1,15}") {
        let mut svc = EdgeGatewayServices::from_xml(
            "<EdgeGatewayServiceConfiguration><FirewallService><IsEnabled>true</IsEnabled></FirewallService></EdgeGatewayServiceConfiguration>",
        ).expect("parses");
        let mut fw = svc.firewall().expect("ok").expect("fw");
        fw.rules.push(EdgeFirewallRule::allow(desc.trim(), "Any", ip.clone(), "Any"));
        svc.set_firewall(&fw);
        let back = EdgeGatewayServices::from_xml(&svc.to_xml()).expect("reparse");
        let r = back.firewall().expect("ok").expect("fw").rules.remove(0);
        prop_assert_eq!(r.description.as_deref().unwrap_or(""), desc.trim());
        prop_assert_eq!(r.destination_ip, Some(ip));
    }
}
