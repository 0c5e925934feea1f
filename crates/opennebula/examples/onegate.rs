//! Inside an OpenNebula VM: read this VM through OneGate, publish a value, and show the
//! service this VM belongs to.
//!
//! ```text
//! cargo run -p nebulair-opennebula --example onegate            # inside a VM
//! ONEGATE_ENDPOINT=http://127.0.0.1:5030 VMID=0 TOKENTXT=... \
//!     cargo run -p nebulair-opennebula --example onegate        # against nebulair-sim
//! ```
//!
//! The endpoint, VM id and token come from the environment, `one_env` or the context
//! CD, as `OneGateClient::from_context` finds them.

use nebulair_opennebula::onegate::{OneGateClient, VmAttributes};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gate = match OneGateClient::from_context() {
        Ok(gate) => gate,
        Err(e) => {
            eprintln!("not inside an OpenNebula VM with TOKEN=YES: {e}");
            std::process::exit(2);
        }
    };
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
    let vm = gate.vm().await?;
    println!("ONEGATE_EXAMPLE = {:?}", vm.user_attr("ONEGATE_EXAMPLE"));
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
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
