use std::sync::Arc;
use std::time::Duration;

use nebulair_core::{ErrorKind, HttpResponse, MockTransport, RetryPolicy};
use proptest::prelude::*;
use serde_json::json;

use super::*;

const FIREWALL: &str = include_str!("../../tests/data/ans/firewall_config.json");
const NAT: &str = include_str!("../../tests/data/ans/nat_config.json");
const IPSEC: &str = include_str!("../../tests/data/ans/ipsec_config.json");

fn client(mock: &Arc<MockTransport>) -> VcdClient {
    let org = OrgInfo::new(
        "https://us-california-1-3.vchs.vmware.com/api/compute/",
        "tok-abc",
        "d4e5f6a7-1111-4222-8333-444455556666",
    )
    .expect("org");
    VcdClient::new(org, mock.clone())
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2))
}

fn sent_json(mock: &MockTransport, i: usize) -> Value {
    serde_json::from_slice(&mock.requests()[i].body).expect("json body")
}

#[tokio::test]
async fn firewall_fetch_edit_save_round_trips_everything_but_version() {
    let mock = Arc::new(MockTransport::new());
    mock.push_response(HttpResponse::new(200, FIREWALL));
    mock.push_response(HttpResponse::new(204, ""));
    let mut fw = AnsFirewall::with_client("edge-1", &client(&mock)).expect("section");
    assert!(!fw.is_fetched());
    fw.fetch().await.expect("fetch");
    assert_eq!(fw.len(), 4);
    assert_eq!(fw.version(), Some(&json!(7)));
    assert_eq!(fw[1].name.as_deref(), Some("ssh-in"));
    assert_eq!(
        fw.get(0).and_then(|r| r.rule_type.clone()),
        Some(RuleType::InternalHigh)
    );
    assert!(fw.get(4).is_none());
    assert_eq!(fw.iter().filter(|r| r.is_user_rule()).count(), 2);
    assert_eq!(
        fw.config().expect("config")["defaultPolicy"]["action"],
        "deny"
    );

    // Unchanged save: the document comes back exactly, minus `version`.
    let mut expected: Value = serde_json::from_str(FIREWALL).expect("sample");
    expected.as_object_mut().expect("object").remove("version");
    assert_eq!(fw.to_json().expect("json"), expected);

    let idx = fw
        .add_rule(
            NewFirewallRule::parse("web", "External", "23.92.225.51/32")
                .expect("rule")
                .dest_port(443),
        )
        .expect("add");
    assert_eq!(idx, 4);
    let removed = fw.remove(2).expect("remove");
    assert_eq!(removed.name.as_deref(), Some("outbound"));
    fw.config_mut().expect("config")["enabled"] = json!(false);
    fw.save().await.expect("save");

    let reqs = mock.requests();
    assert_eq!(reqs[0].method, http::Method::GET);
    assert_eq!(
        reqs[0].url.as_str(),
        "https://us-california-1-3.vchs.vmware.com/api/compute/hybridity/api/gateways/edge-1/firewall/config"
    );
    assert_eq!(reqs[0].header_str("accept"), Some("application/json"));
    assert_eq!(
        reqs[0].header_str("x-vcloud-authorization"),
        Some("tok-abc")
    );
    assert_eq!(reqs[1].method, http::Method::PUT);
    assert_eq!(reqs[1].header_str("content-type"), Some("application/json"));
    let body = sent_json(&mock, 1);
    assert!(body.get("version").is_none());
    assert_eq!(body["enabled"], false);
    assert_eq!(body["globalConfig"]["tcpTimeoutOpen"], 30);
    let rules = body["firewallRules"]["firewallRules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), 4);
    let new = &rules[3];
    assert_eq!(
        new,
        &json!({
            "name": "web", "enabled": true, "description": "", "ruleType": "user",
            "action": "accept",
            "source": {"ipAddress": [], "vnicGroupId": ["external"]},
            "destination": {"ipAddress": ["23.92.225.51/32"], "vnicGroupId": []},
            "application": {"service": [{"protocol": "tcp", "port": ["443"], "sourcePort": ["any"]}]}
        })
    );
    // Server fields of kept rules survive.
    assert_eq!(rules[1]["ruleId"], 131074);
    assert_eq!(rules[1]["loggingEnabled"], false);
}

#[tokio::test]
async fn nat_defaults_and_icmp() {
    let mock = Arc::new(MockTransport::new());
    mock.push_response(HttpResponse::new(200, NAT));
    mock.push_response(HttpResponse::new(200, "{}"));
    let mut nat = AnsNat::with_client("edge-1", &client(&mock)).expect("section");
    nat.fetch().await.expect("fetch");
    assert_eq!(nat.len(), 3);
    assert_eq!(nat[2].icmp_type.as_deref(), Some("any"));
    nat.add_rule(NewNatRule::parse("SNAT", "192.168.109.0/24", "23.92.225.51").expect("rule"))
        .expect("add");
    nat.add_rule(
        NewNatRule::dnat(
            std::net::Ipv4Addr::new(23, 92, 225, 74),
            std::net::Ipv4Addr::new(192, 168, 109, 9),
        )
        .protocol(Protocol::Icmp)
        .description("ping"),
    )
    .expect("add icmp");
    nat.save().await.expect("save");
    let body = sent_json(&mock, 1);
    let rules = body["rules"]["natRulesDtos"].as_array().expect("rules");
    assert_eq!(rules.len(), 5);
    assert_eq!(
        rules[3],
        json!({
            "action": "snat", "description": "", "enabled": true, "vnic": "0",
            "originalAddress": "192.168.109.0/24", "originalPort": "any", "protocol": "tcp",
            "translatedAddress": "23.92.225.51", "translatedPort": "any", "ruleType": "user",
            "loggingEnabled": false
        })
    );
    assert_eq!(rules[4]["icmpType"], "any");
    assert_eq!(rules[4]["protocol"], "icmp");
    assert!(rules[3].get("icmpType").is_none());
    assert!(NewNatRule::parse("nat", "1.1.1.1", "2.2.2.2").is_err());
    assert!(NewNatRule::parse("dnat", "1.1.1.1/40", "2.2.2.2").is_err());
}

#[tokio::test]
async fn ipsec_psk_tunnel_defaults_and_secret_hidden() {
    let mock = Arc::new(MockTransport::new());
    mock.push_response(HttpResponse::new(200, IPSEC));
    mock.push_response(HttpResponse::new(200, ""));
    let mut vpn = AnsIpsec::with_client("edge-1", &client(&mock)).expect("section");
    vpn.fetch().await.expect("fetch");
    assert_eq!(vpn.len(), 1);
    assert_eq!(
        vpn.config().expect("config")["logging"]["logLevel"],
        "warning"
    );
    vpn.add_psk_tunnel(
        NewPskTunnel::new(
            "dc2",
            "23.92.225.51",
            "23.92.225.51",
            "203.0.113.9",
            "203.0.113.9",
            vec!["192.168.109.0/24"],
            " 10.1.0.0/16 , 10.2.0.0/16",
            "very-secret-psk",
        )
        .extension("securelocaltrafficbyip=0"),
    )
    .expect("add");
    assert!(!format!("{vpn:?}{:?}", vpn[1]).contains("very-secret-psk"));
    vpn.save().await.expect("save");
    let body = sent_json(&mock, 1);
    let site = &body["sites"]["sites"][1];
    assert_eq!(
        site,
        &json!({
            "name": "dc2", "enabled": true, "localId": "23.92.225.51", "localIp": "23.92.225.51",
            "peerId": "203.0.113.9", "peerIp": "203.0.113.9", "encryptionAlgorithm": "aes256",
            "enablePfs": true, "dhGroup": "dh2",
            "localSubnets": {"subnets": ["192.168.109.0/24"]},
            "peerSubnets": {"subnets": ["10.1.0.0/16", "10.2.0.0/16"]},
            "psk": "very-secret-psk", "authenticationMode": "psk",
            "extension": "securelocaltrafficbyip=0"
        })
    );
    assert_eq!(body["sites"]["sites"][0]["siteId"], "ipsecsite-1");
    assert_eq!(body["global"]["caCertificates"], json!([]));
    assert!(body["global"]["psk"].is_null());
}

#[tokio::test]
async fn changes_before_fetch_are_typed_errors() {
    let mock = Arc::new(MockTransport::new());
    let mut fw = AnsFirewall::with_client("edge-1", &client(&mock)).expect("section");
    let e = fw
        .add_rule(NewFirewallRule::new("x", AnsAddress::Any, AnsAddress::Any))
        .expect_err("not fetched");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("fetch"), "{e}");
    assert_eq!(
        fw.remove(0).expect_err("not fetched").kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        fw.save().await.expect_err("not fetched").kind(),
        ErrorKind::InvalidInput
    );
    assert!(fw.config().is_err());
    assert_eq!(mock.request_count(), 0);
    let mut vpn = AnsIpsec::with_client("edge-1", &client(&mock)).expect("section");
    assert!(
        vpn.add_psk_tunnel(NewPskTunnel::new(
            "t",
            "a",
            "1.1.1.1",
            "b",
            "2.2.2.2",
            "10.0.0.0/8",
            "10.1.0.0/16",
            "k"
        ))
        .is_err()
    );
    for bad in ["", "a/b", "x?y", "e#1"] {
        assert!(AnsNat::with_client(bad, &client(&mock)).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn busy_edge_is_retried_a_bounded_number_of_times() {
    let busy = || {
        HttpResponse::new(
            409,
            r#"<Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="409" minorErrorCode="BUSY_ENTITY" message="The entity gateway (edge-1) is busy completing an operation."/>"#,
        )
    };
    let mock = Arc::new(MockTransport::new());
    mock.push_response(HttpResponse::new(200, NAT));
    mock.push_response(busy());
    mock.push_response(busy());
    mock.push_response(HttpResponse::new(204, ""));
    let mut nat = AnsNat::with_client("edge-1", &client(&mock))
        .expect("section")
        .retry_policy(fast_retry());
    nat.fetch().await.expect("fetch");
    nat.save().await.expect("saved on the third try");
    assert_eq!(mock.request_count(), 4);

    // Always busy: 1 try + 3 retries, then the Conflict surfaces.
    let mock = Arc::new(MockTransport::with_handler(move |_| Ok(busy())));
    mock.push_response(HttpResponse::new(200, NAT));
    let mut nat = AnsNat::with_client("edge-1", &client(&mock))
        .expect("section")
        .retry_policy(fast_retry());
    nat.fetch().await.expect("fetch");
    let e = nat.save().await.expect_err("still busy");
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(is_edge_busy(&e));
    assert_eq!(mock.request_count(), 5);

    // A validation error is not retried.
    let mock = Arc::new(MockTransport::new());
    mock.push_response(HttpResponse::new(200, NAT));
    mock.push_response(HttpResponse::new(
        400,
        r#"{"details":"Invalid NAT rule","errorCode":15018,"moduleName":"vShield Edge"}"#,
    ));
    let mut nat = AnsNat::with_client("edge-1", &client(&mock))
        .expect("section")
        .retry_policy(fast_retry());
    nat.fetch().await.expect("fetch");
    let e = nat.save().await.expect_err("invalid");
    assert!(!is_edge_busy(&e), "{e}");
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn malformed_documents_are_protocol_errors() {
    for body in [
        "not json",
        "[1,2]",
        r#"{"firewallRules": 5}"#,
        r#"{"firewallRules": {"firewallRules": {}}}"#,
        r#"{"firewallRules": {"firewallRules": [{"ruleId": "abc"}]}}"#,
        r#"{"firewallRules": {"firewallRules": [7]}}"#,
    ] {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(200, body));
        let mut fw = AnsFirewall::with_client("edge-1", &client(&mock))
            .expect("section")
            .retry_policy(RetryPolicy::none());
        let e = fw.fetch().await.expect_err(body);
        assert_eq!(e.kind(), ErrorKind::Protocol, "{body}: {e}");
    }
    // A missing list is an empty one, and is written back.
    let mock = Arc::new(MockTransport::new());
    mock.push_response(HttpResponse::new(200, r#"{"version": 1, "enabled": true}"#));
    let mut fw = AnsFirewall::with_client("edge-1", &client(&mock)).expect("section");
    fw.fetch().await.expect("fetch");
    assert!(fw.is_empty());
    assert_eq!(
        fw.to_json().expect("json"),
        json!({"enabled": true, "firewallRules": {"firewallRules": []}})
    );
}

fn arb_json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z0-9 ]{0,8}".prop_map(Value::String),
        Just(json!([])),
        Just(json!({"k": [1, "two"]})),
    ]
}

proptest! {
    #[test]
    fn unknown_keys_survive_a_round_trip(
        extra in proptest::collection::btree_map("x[A-Za-z]{1,6}", arb_json_leaf(), 0..5),
        name in proptest::option::of("[a-z]{1,8}"),
        id in proptest::option::of(any::<u32>()),
    ) {
        let mut rule = serde_json::Map::new();
        if let Some(n) = &name { rule.insert("name".into(), json!(n)); }
        if let Some(i) = id { rule.insert("ruleId".into(), json!(i)); }
        rule.insert("source".into(), json!({"ipAddress": ["1.2.3.4"], "xSrc": true}));
        for (k, v) in &extra { rule.insert(k.clone(), v.clone()); }
        let doc = json!({"version": 3, "firewallRules": {"firewallRules": [Value::Object(rule.clone())], "xOuter": 1}, "xTop": extra.len()});
        let loaded = decode::<Firewall>(doc.to_string().as_bytes()).expect("decodes");
        let back = encode::<Firewall>(&loaded).expect("encodes");
        let mut expected = doc.clone();
        expected.as_object_mut().expect("obj").remove("version");
        prop_assert_eq!(back, expected);
        let nat = decode::<Nat>(json!({"rules": {"natRulesDtos": [Value::Object(rule.clone())]}}).to_string().as_bytes());
        prop_assert!(nat.is_ok());
    }

    #[test]
    fn garbage_documents_never_panic(s in "\\PC{0,64}") {
        let _ = decode::<Firewall>(s.as_bytes());
        let _ = decode::<Nat>(s.as_bytes());
        let _ = decode::<Ipsec>(s.as_bytes());
    }
}
