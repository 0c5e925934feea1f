//! Inside an OpenNebula VM: read this VM through OneGate, publish a value, and show the
//! service this VM belongs to.
//!
//! Without arguments it starts the OpenNebula simulator with OneGate, creates a VM with a
//! OneGate token, and acts as that VM:
//!
//! ```text
//! cargo run -p nebulair-opennebula --example onegate
//! ```
//!
//! Inside a real VM (context with `TOKEN = "YES"`), `--context` finds the endpoint, VM id
//! and token in the environment, `one_env` or the context CD, as
//! `OneGateClient::from_context` does:
//!
//! ```text
//! cargo run -p nebulair-opennebula --example onegate -- --context
//! ```

use std::time::Duration;

use nebulair_opennebula::ids::{TemplateId, VmId};
use nebulair_opennebula::onegate::{OneGateClient, VmAttributes};
use nebulair_opennebula::{Credentials, Error, OneClient, Result, Template};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let seen = if std::env::args().nth(1).as_deref() == Some("--context") {
        let gate = OneGateClient::from_context()?;
        run(&gate).await?
    } else {
        let (sim, gate) = simulated_vm().await?;
        let seen = run(&gate).await?;
        sim.shutdown().await;
        seen
    };
    println!(
        "done as VM {} {:?}; the published value read back as {:?}",
        seen.vm, seen.name, seen.published
    );
    Ok(())
}

/// What the tour saw: the VM's id and name, and the attribute read back.
#[derive(Debug)]
pub(crate) struct Seen {
    pub(crate) vm: VmId,
    pub(crate) name: Option<String>,
    pub(crate) published: Option<String>,
}

/// Starts the simulators and instantiates a VM whose context asks for a OneGate token;
/// a OneGate client acting as that VM.
pub(crate) async fn simulated_vm() -> Result<(OneSimHandle, OneGateClient)> {
    let sim = OneSimulator::builder().with_onegate().start().await?;
    let one = OneClient::builder()
        .endpoint(sim.url())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()?;
    let extra = Template::parse("CONTEXT = [ TOKEN = \"YES\", NETWORK = \"YES\" ]")?;
    let vm = one
        .template(TemplateId::new(0))
        .instantiate("onegate-example", false, &extra, false)
        .await?;
    // OneGate answers for VMs that exist; wait until the scheduler has deployed it.
    for _ in 0..200 {
        if one.vm(vm).info().await?.is_running() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let token = sim
        .state()
        .vm_token(vm.get())
        .ok_or_else(|| Error::protocol(format!("VM {vm} has no OneGate token")))?;
    let endpoint = sim
        .onegate_url()
        .ok_or_else(|| Error::protocol("the simulator serves no OneGate"))?
        .to_owned();
    let gate = OneGateClient::builder()
        .endpoint(endpoint)
        .vm_id(vm)
        .token(token)
        .build()?;
    Ok((sim, gate))
}

/// The tour: read the VM, publish an attribute, read it back, remove it, show the
/// service.
pub(crate) async fn run(gate: &OneGateClient) -> Result<Seen> {
    let ctx = gate.context();
    println!(
        "OneGate {} for VM {} (token from {})",
        ctx.endpoint(),
        ctx.vm_id(),
        ctx.token_source()
    );

    let vm = gate.vm().await?;
    println!(
        "VM {} {:?}: state {}/{}",
        vm.id, vm.name, vm.state, vm.lcm_state
    );
    for nic in &vm.template.nics {
        println!(
            "  NIC {} {} on {}",
            nic.name.as_deref().unwrap_or("-"),
            nic.ip.as_deref().unwrap_or("-"),
            nic.network.as_deref().unwrap_or("-")
        );
    }

    gate.update_vm(&VmAttributes::new().set("ONEGATE_EXAMPLE", "hello from nebulair"))
        .await?;
    let published = gate
        .vm()
        .await?
        .user_attr("ONEGATE_EXAMPLE")
        .map(str::to_owned);
    println!("ONEGATE_EXAMPLE = {published:?}");
    gate.delete_vm_attr("ONEGATE_EXAMPLE").await?;

    match gate.service(false).await {
        Ok(svc) => {
            println!("service {} {:?} ({})", svc.id, svc.name, svc.state);
            for role in &svc.roles {
                println!(
                    "  role {} x{} ({})",
                    role.name, role.cardinality, role.state
                );
            }
        }
        Err(e) if e.kind() == nebulair_core::ErrorKind::InvalidInput => {
            println!("not part of a OneFlow service");
        }
        Err(e) => return Err(e),
    }
    Ok(Seen {
        vm: vm.id,
        name: Some(vm.name),
        published,
    })
}
