//! The XML-RPC tutorial walkthrough in Rust: connect, list hosts, read a VM template,
//! instantiate it, show the VM, terminate it.
//!
//! Without arguments it starts the loopback OpenNebula simulator and runs against it:
//!
//! ```text
//! cargo run -p nebulair-opennebula --example walkthrough
//! ```
//!
//! With `--env` it uses `OneClient::from_env()` (`ONE_XMLRPC`, `~/.one/one_auth`) to talk
//! to a real front-end, and instantiates the template id given as the next argument
//! (default 0).

use nebulair_opennebula::ids::{TemplateId, VmId};
use nebulair_opennebula::{Credentials, OneClient, Template, VmAction};

#[tokio::main]
async fn main() -> nebulair_opennebula::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let template_id: i32 = match args.get(1) {
        Some(t) => t.parse().map_err(|_| {
            nebulair_opennebula::Error::invalid_input("template id must be a number")
        })?,
        None => 0,
    };
    if args.first().map(String::as_str) == Some("--env") {
        run(&OneClient::from_env()?, TemplateId::new(template_id)).await?;
    } else {
        let sim = nebulair_sim::one::OneSimulator::builder().start().await?;
        let client = OneClient::builder()
            .endpoint(sim.url())
            .credentials(Credentials::password("oneadmin", "opennebula"))
            .build()?;
        run(&client, TemplateId::new(template_id)).await?;
        sim.shutdown().await;
    }
    Ok(())
}

/// The walkthrough; the id of the VM it created (and terminated).
pub(crate) async fn run(
    client: &OneClient,
    template_id: TemplateId,
) -> nebulair_opennebula::Result<VmId> {
    // 1. Connect: ask for the version.
    println!(
        "connected to {} (OpenNebula {})",
        client.endpoint(),
        client.system().version().await?
    );

    // 2. List the hosts.
    for host in client.hosts().info().await?.host {
        println!(
            "host {:>3} {:<12} state {:?}",
            host.id,
            host.name.as_deref().unwrap_or("?"),
            host.state()
        );
    }

    // 3. Read a VM template.
    let tpl = client.template(template_id).info().await?;
    println!("template {} {:?}:", tpl.id, tpl.name);
    for (name, value) in tpl.template.iter() {
        println!("  {name} = {value}");
    }

    // 4. Instantiate it.
    let extra = Template::new().with("DESCRIPTION", "created by the nebulair walkthrough");
    let vm_id = client
        .template(tpl.id)
        .instantiate("nebulair-walkthrough", false, &extra, false)
        .await?;
    println!("instantiated VM {vm_id}");

    // 5. Show the VM.
    let vm = client.vm(vm_id).info().await?;
    println!(
        "VM {} {:?}: state {:?}, lcm state {:?}",
        vm.id,
        vm.name,
        vm.state(),
        vm.lcm_state()
    );

    // 6. Terminate it.
    client.vm(vm_id).action(VmAction::TerminateHard).await?;
    println!("terminated VM {vm_id}");
    Ok(vm_id)
}
