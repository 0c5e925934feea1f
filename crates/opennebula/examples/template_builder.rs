//! Building a VM template three ways (builders, the text syntax, JSON as in PyONE's
//! examples), rendering it, and instantiating it.
//!
//! Without arguments it runs against the loopback OpenNebula simulator:
//!
//! ```text
//! cargo run -p nebulair-opennebula --example template_builder
//! ```
//!
//! With `--env` it registers the template on the front-end `OneClient::from_env()` finds
//! (`ONE_XMLRPC`, `ONE_AUTH`), instantiates it on hold and deletes both again.

use nebulair_opennebula::ids::{ImageId, VnetId};
use nebulair_opennebula::template::{Context, Disk, Graphics, Nic, Os, TemplateValue};
use nebulair_opennebula::{Credentials, Error, OneClient, Result, Template, VmAction};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let (tpl, same) = build()?;
    println!(
        "-- the template, in the text syntax oned reads:\n{}",
        tpl.to_text()?
    );
    println!("-- parsed from text and from JSON, it is the same template: {same}");

    if std::env::args().nth(1).as_deref() == Some("--env") {
        run(&OneClient::from_env()?, &tpl).await?;
    } else {
        let sim = nebulair_sim::one::OneSimulator::builder().start().await?;
        let client = OneClient::builder()
            .endpoint(sim.url())
            .credentials(Credentials::password("oneadmin", "opennebula"))
            .build()?;
        run(&client, &tpl).await?;
        sim.shutdown().await;
    }
    Ok(())
}

/// Builds the template with the builders, and checks that the text syntax and JSON give
/// the same one; the template and whether they agreed.
pub(crate) fn build() -> Result<(Template, bool)> {
    // 1. With the builders: repeated DISKs are simply pushed twice.
    let built = Template::new()
        .with("NAME", "web-small")
        .with("CPU", 0.5)
        .with("VCPU", 1)
        .with("MEMORY", 512)
        .with(
            "DESCRIPTION",
            "a \"quoted\" word, a back\\slash and a\nnewline",
        )
        .with_pushed(Disk::NAME, Disk::image(ImageId::new(0)).target("vda"))
        .with_pushed(Disk::NAME, Disk::volatile(1024).format("raw"))
        .with_pushed(Nic::NAME, Nic::network(VnetId::new(0)).model("virtio"))
        .with(
            Context::NAME,
            Context::new()
                .network(true)
                .set_hostname("web-small")
                .ssh_public_key("ssh-ed25519 AAAAC3Nza example"),
        )
        .with(Graphics::NAME, Graphics::vnc().listen("0.0.0.0"))
        .with(Os::NAME, Os::new().arch("x86_64").boot("disk0"));

    // 2. The text syntax (as `onetemplate create` reads it) round-trips.
    let from_text = Template::parse(&built.to_text()?)?;

    // 3. JSON or any serde map, as in PyONE's dict examples.
    let json = serde_json::json!({
        "NAME": "web-small",
        "CPU": 0.5,
        "VCPU": 1,
        "MEMORY": 512,
        "DESCRIPTION": "a \"quoted\" word, a back\\slash and a\nnewline",
        "DISK": [
            {"IMAGE_ID": 0, "TARGET": "vda"},
            {"TYPE": "fs", "SIZE": 1024, "FORMAT": "raw"}
        ],
        "NIC": {"NETWORK_ID": 0, "MODEL": "virtio"},
        "CONTEXT": {"NETWORK": "YES", "SET_HOSTNAME": "web-small", "SSH_PUBLIC_KEY": "ssh-ed25519 AAAAC3Nza example"},
        "GRAPHICS": {"TYPE": "VNC", "LISTEN": "0.0.0.0"},
        "OS": {"ARCH": "x86_64", "BOOT": "disk0"}
    });
    let from_json: Template = serde_json::from_value(json)
        .map_err(|e| Error::invalid_input(format!("template JSON: {e}")))?;

    // Names are validated: no value can smuggle in another attribute.
    let injected = Template::new().with("NAME\"] = [ X", "y").render();
    assert!(injected.is_err(), "invalid attribute names are refused");

    // A JSON object has no order, so compare attribute by attribute.
    let same_as_json = built.iter().all(|(name, _)| {
        let mine: Vec<String> = built.get_all(name).map(canonical).collect();
        let theirs: Vec<String> = from_json.get_all(name).map(canonical).collect();
        mine == theirs
    }) && built.len() == from_json.len();
    let same = from_text == built && same_as_json;
    Ok((built, same))
}

/// A value as text, vector keys sorted.
fn canonical(v: &TemplateValue) -> String {
    match v {
        TemplateValue::Vector(vec) => {
            let mut pairs: Vec<String> = vec.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.sort();
            pairs.join(",")
        }
        other => other.as_str().unwrap_or_default().to_owned(),
    }
}

/// Registers the template, instantiates it on hold, shows the VM's disks and NICs, and
/// cleans up; the number of disks the VM got.
pub(crate) async fn run(client: &OneClient, tpl: &Template) -> Result<usize> {
    let id = client.templates().allocate(tpl).await?;
    println!("registered template {id}");
    let vm_id = client
        .template(id)
        .instantiate("web-small-1", true, &Template::new(), false)
        .await?;
    let vm = client.vm(vm_id).info().await?;
    let disks = vm.template.vectors("DISK").count();
    println!(
        "VM {vm_id} {:?} on hold: {disks} disks, {} NICs, MEMORY {:?}",
        vm.name,
        vm.template.vectors("NIC").count(),
        vm.template.get_str("MEMORY")
    );
    client.vm(vm_id).action(VmAction::TerminateHard).await?;
    client.template(id).delete().await?;
    println!("terminated VM {vm_id} and deleted template {id}");
    Ok(disks)
}
