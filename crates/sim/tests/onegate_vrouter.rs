//! A virtual router made through XML-RPC (`one.vrouter.allocate` + `instantiate`) is what
//! OneGate answers for `/vrouter` and the router's networks, as the real OneGate asks oned.

mod one_common;

use nebulair_sim::one::OneSimulator;
use one_common::{P, Rpc};

#[tokio::test]
async fn xml_rpc_vrouters_are_seen_by_onegate() {
    let sim = OneSimulator::builder()
        .with_onegate()
        .start()
        .await
        .expect("start");
    let rpc = Rpc::new(sim.url());
    let router = rpc
        .call(
            "one.vrouter.allocate",
            &[P::S("NAME = \"gw\"\nNIC = [ NETWORK_ID = \"0\" ]")],
        )
        .await
        .id();
    let first = rpc
        .call(
            "one.vrouter.instantiate",
            &[
                P::I(router),
                P::I(1),
                P::I(0),
                P::S("gw-%i"),
                P::B(false),
                P::S("CONTEXT = [ TOKEN = \"YES\", NETWORK = \"YES\" ]"),
            ],
        )
        .await
        .id();
    sim.run_scheduler();
    let state = sim.state();
    let token = state
        .vm_token(first)
        .expect("the router VM has a OneGate token");
    let http = reqwest::Client::new();
    let gate = sim.onegate_url().expect("onegate url").to_owned();
    let get = |path: &str| {
        http.get(format!("{gate}{path}"))
            .header("X-ONEGATE-VMID", first.to_string())
            .header("X-ONEGATE-TOKEN", token.clone())
            .send()
    };
    let r = get("/vrouter").await.expect("vrouter");
    assert_eq!(r.status().as_u16(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.expect("body")).expect("json");
    assert_eq!(v["VROUTER"]["NAME"], "gw", "{v}");
    assert_eq!(v["VROUTER"]["ID"], router.to_string(), "{v}");
    let ids = &v["VROUTER"]["VMS"]["ID"];
    assert_eq!(ids, &serde_json::json!([first.to_string()]), "{v}");
    // the router's network, through the router
    let r = get("/vnet/0").await.expect("vnet");
    assert_eq!(
        r.status().as_u16(),
        200,
        "{}",
        r.text().await.unwrap_or_default()
    );
    sim.shutdown().await;
}
