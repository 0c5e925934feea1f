//! Runs every example of this crate against the simulator, so that none can rot: each
//! example's `run` is compiled in here and its results checked.

use nebulair_opennebula::ids::TemplateId;
use nebulair_opennebula::{Credentials, OneClient};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

#[path = "../examples/walkthrough.rs"]
#[allow(dead_code)]
mod walkthrough;

#[path = "../examples/template_builder.rs"]
#[allow(dead_code)]
mod template_builder;

#[path = "../examples/pool_paging.rs"]
#[allow(dead_code)]
mod pool_paging;

#[path = "../examples/onegate.rs"]
#[allow(dead_code)]
mod onegate;

async fn start(page_size: u32) -> (OneSimHandle, OneClient) {
    let sim = OneSimulator::builder().start().await.expect("simulator");
    let client = OneClient::builder()
        .endpoint(sim.url())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .page_size(page_size)
        .build()
        .expect("client");
    (sim, client)
}

#[tokio::test]
async fn walkthrough_instantiates_and_terminates() {
    let (_sim, client) = start(100).await;
    let vm = walkthrough::run(&client, TemplateId::new(0))
        .await
        .expect("walkthrough");
    let info = client.vm(vm).info().await.expect("the VM still answers");
    assert_eq!(info.name.as_deref(), Some("nebulair-walkthrough"));
    assert_eq!(
        info.user_template.get_str("DESCRIPTION"),
        Some("created by the nebulair walkthrough")
    );
}

#[tokio::test]
async fn template_builder_agrees_across_syntaxes_and_instantiates() {
    let (tpl, same) = template_builder::build().expect("build");
    assert!(same, "builders, text and JSON give the same template");
    assert_eq!(tpl.vectors("DISK").count(), 2);
    let (_sim, client) = start(100).await;
    let disks = template_builder::run(&client, &tpl).await.expect("run");
    assert_eq!(disks, 2);
}

#[tokio::test]
async fn pool_paging_counts_every_vm() {
    let (_sim, client) = start(100).await;
    pool_paging::populate(&client, 250).await.expect("populate");
    let counts = pool_paging::run(&client).await.expect("run");
    assert_eq!(counts.total, 250);
    assert_eq!(counts.on_hold, 84);
    assert_eq!(counts.by_state.get("Hold"), Some(&84));
    assert_eq!(
        counts.newest,
        [
            "paging-249",
            "paging-248",
            "paging-247",
            "paging-246",
            "paging-245"
        ]
    );
}

#[tokio::test]
async fn onegate_reads_and_writes_the_vm() {
    let (sim, gate) = onegate::simulated_vm().await.expect("simulated VM");
    let seen = onegate::run(&gate).await.expect("run");
    assert_eq!(seen.name.as_deref(), Some("onegate-example"));
    assert_eq!(seen.published.as_deref(), Some("hello from nebulair"));
    let vm = sim
        .state()
        .vm_info(seen.vm.get())
        .expect("the VM in the simulator");
    drop(vm);
}
