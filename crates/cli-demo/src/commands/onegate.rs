//! `nebulair onegate ...`: the OneGate calls, for scripts running inside an OpenNebula VM.
//!
//! The endpoint, VM id and token are found like the VM's own tools find them: the flags
//! below, then `ONEGATE_ENDPOINT`, `VMID`, `TOKENTXT`/`ONEGATE_TOKEN`, then
//! `/run/one-context/one_env`, then `context.sh` and `token.txt` on the context CD.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use nebulair_core::{Error, HttpConfig, SecretString};
use nebulair_opennebula::ids::{VmId, VnetId};
use nebulair_opennebula::onegate::{
    AttrValue, Attributes, OneGateClient, OneGateVm, VmAction, VmAttributes,
};

use crate::Ctx;
use crate::commands::common::{TlsArgs, block_on, io_failure, read_secret_file, read_secret_stdin};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

/// OneGate: read and publish this VM's information from inside the VM.
#[derive(Debug, Args)]
pub(crate) struct OneGateCmd {
    #[command(flatten)]
    conn: OneGateConn,
    #[command(subcommand)]
    command: OneGateSub,
}

/// Where OneGate is and who this VM is (each falls back to the VM context).
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection options")]
struct OneGateConn {
    /// The OneGate endpoint, e.g. http://169.254.16.9:5030 [default: from the VM context]
    #[arg(long, global = true, value_name = "URL")]
    endpoint: Option<String>,
    /// This VM's id [default: from the VM context]
    #[arg(long = "vm-id", global = true, value_name = "ID")]
    vm_id: Option<i32>,
    /// Read the token from this file (token.txt) [default: from the VM context]
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "token_stdin"
    )]
    token_file: Option<PathBuf>,
    /// Read the token from the first line of standard input.
    #[arg(long, global = true)]
    token_stdin: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(Debug, Subcommand)]
enum OneGateSub {
    /// Show where the endpoint, VM id and token come from (never the token itself).
    Context,
    /// This VM, or another VM of its service.
    #[command(subcommand)]
    Vm(VmSub),
    /// The OneFlow service this VM belongs to.
    #[command(subcommand)]
    Service(ServiceSub),
    /// The virtual router this VM belongs to.
    Vrouter,
    /// A virtual network of this VM's virtual router.
    Vnet {
        /// The network id.
        id: i32,
        /// Name the NIC holding each lease.
        #[arg(long)]
        extended: bool,
    },
}

#[derive(Debug, Subcommand)]
enum VmSub {
    /// Show this VM (or VM `--id`): state, NICs and user template.
    Show {
        /// Another VM of the same service or router.
        #[arg(long)]
        id: Option<i32>,
    },
    /// Publish attributes into the user template: KEY=VALUE ...
    Update {
        /// Another VM of the same service or router.
        #[arg(long)]
        id: Option<i32>,
        /// Attributes as KEY=VALUE (at least one).
        #[arg(required = true, value_name = "KEY=VALUE")]
        attrs: Vec<String>,
    },
    /// Delete one attribute from the user template.
    DeleteAttr {
        /// Another VM of the same service or router.
        #[arg(long)]
        id: Option<i32>,
        /// The attribute name.
        key: String,
    },
    /// Run an action (poweroff, resume, terminate, ...) on a VM of the service.
    Action {
        /// The VM id.
        id: i32,
        /// The action name, as OneGate spells it (e.g. poweroff, snapshot_create).
        action: String,
        /// Parameters as JSON, e.g. `true` for a hard poweroff or `"new-name"`.
        #[arg(long, value_name = "JSON")]
        params: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ServiceSub {
    /// Show the service, its roles and their VMs.
    Show {
        /// Include each VM's whole document.
        #[arg(long)]
        extended: bool,
    },
    /// Scale a role to a number of VMs.
    Scale {
        /// The role name.
        role: String,
        /// The wanted number of VMs.
        cardinality: u32,
    },
}

impl OneGateCmd {
    /// Runs the command.
    pub(crate) fn run(self, ctx: Ctx) -> Result<(), Failure> {
        let client = self.conn.client(&ctx)?;
        block_on(
            &ctx,
            Some(crate::DEFAULT_DEADLINE),
            self.command.run(&client, ctx),
        )
    }
}

impl OneGateConn {
    fn client(&self, ctx: &Ctx) -> Result<OneGateClient, Failure> {
        let mut builder =
            OneGateClient::builder().http_config(self.tls.http_config(HttpConfig::default(), ctx)?);
        if let Some(e) = &self.endpoint {
            builder = builder.endpoint(e.clone());
        }
        if let Some(id) = self.vm_id {
            builder = builder.vm_id(VmId::new(id));
        }
        let token: Option<SecretString> = match (&self.token_file, self.token_stdin) {
            (Some(path), _) => Some(read_secret_file(path).during("reading the token file")?),
            (None, true) => Some(read_secret_stdin().during("reading the token from stdin")?),
            (None, false) => None,
        };
        if let Some(t) = token {
            use nebulair_core::ExposeSecret;
            builder = builder.token(t.expose_secret().to_owned());
        }
        builder
            .from_context()
            .during("finding the OneGate endpoint, VM id and token")
            .map_err(|f| f.hint("run this inside a VM with a OneGate token, or pass --endpoint, --vm-id and --token-file"))
    }
}

/// The hint for a failed OneGate call: OneGate has no user names, passwords or list
/// commands, only this VM's token and the objects of its service or router.
fn gate_hint(e: &Error) -> Option<&'static str> {
    use nebulair_core::ErrorKind;
    Some(match (e.http_status(), e.kind()) {
        (Some(400), _) => {
            "OneGate refused the request as malformed: check the attribute names and values, the action name and --params"
        }
        (Some(401), _) | (_, ErrorKind::Authentication) => {
            "OneGate did not accept the token: check TOKENTXT or --token-file, and that VMID or --vm-id is the VM the token belongs to"
        }
        (Some(403), _) | (_, ErrorKind::Authorization) => {
            "OneGate does not allow this: a VM may only act on itself and the VMs of its own service or router, and the OneGate server's :permissions: may turn a call off"
        }
        (Some(404), _) | (_, ErrorKind::NotFound) => {
            "OneGate has no such object: the VM, service, router or network does not exist, or this VM is not part of one"
        }
        (Some(s), _) if s >= 500 => {
            "the OneGate server (or oned behind it) failed; its log says more"
        }
        (_, ErrorKind::Transport | ErrorKind::Timeout) => {
            "is the OneGate server running at ONEGATE_ENDPOINT (or --endpoint) and reachable from here?"
        }
        _ => return None,
    })
}

/// Wraps a failed OneGate call with its action and the OneGate hint.
fn gate_failed(action: impl Into<String>) -> impl FnOnce(Error) -> Failure {
    let action = action.into();
    move |e: Error| {
        let hint = gate_hint(&e);
        let f = Failure::new(action, e);
        match hint {
            Some(h) => f.hint(h),
            None => f,
        }
    }
}

impl OneGateSub {
    async fn run(self, client: &OneGateClient, ctx: Ctx) -> Result<(), Failure> {
        let p = ctx.printer;
        match self {
            OneGateSub::Context => {
                let c = client.context();
                let view = serde_json::json!({
                    "endpoint": c.endpoint().as_str(),
                    "endpoint_source": c.endpoint_source().to_string(),
                    "vm_id": c.vm_id(),
                    "vm_id_source": c.vm_id_source().to_string(),
                    "token_source": c.token_source().to_string(),
                });
                p.print(&view, || {
                    key_values(&[
                        (
                            "ENDPOINT",
                            format!("{} (from {})", c.endpoint(), c.endpoint_source()),
                        ),
                        (
                            "VM ID",
                            format!("{} (from {})", c.vm_id(), c.vm_id_source()),
                        ),
                        ("TOKEN", format!("set (from {})", c.token_source())),
                    ])
                })
                .map_err(io_failure)
            }
            OneGateSub::Vm(VmSub::Show { id }) => {
                let vm = match id {
                    Some(id) => client.vm_by_id(VmId::new(id)).await,
                    None => client.vm().await,
                }
                .map_err(gate_failed("reading the VM from OneGate"))?;
                p.print(&vm, || vm_text(&vm)).map_err(io_failure)
            }
            OneGateSub::Vm(VmSub::Update { id, attrs }) => {
                let attrs = parse_attrs(&attrs).during("reading the attributes")?;
                match id {
                    Some(id) => client.update_vm_by_id(VmId::new(id), &attrs).await,
                    None => client.update_vm(&attrs).await,
                }
                .map_err(gate_failed("updating the VM's user template"))?;
                let keys: Vec<&str> = attrs.keys().collect();
                p.print(&serde_json::json!({ "updated": keys }), || {
                    format!("updated {}\n", keys.join(", "))
                })
                .map_err(io_failure)
            }
            OneGateSub::Vm(VmSub::DeleteAttr { id, key }) => {
                match id {
                    Some(id) => client.delete_vm_attr_by_id(VmId::new(id), &key).await,
                    None => client.delete_vm_attr(&key).await,
                }
                .map_err(gate_failed(format!("deleting attribute {key}")))?;
                p.print(&serde_json::json!({ "deleted": key }), || {
                    format!("deleted {key}\n")
                })
                .map_err(io_failure)
            }
            OneGateSub::Vm(VmSub::Action { id, action, params }) => {
                let act: VmAction = action.parse().during("reading the action")?;
                let params = params
                    .map(|t| {
                        serde_json::from_str::<serde_json::Value>(&t)
                            .map_err(|e| Error::invalid_input(format!("--params is not JSON: {e}")))
                    })
                    .transpose()
                    .during("reading --params")?;
                client
                    .vm_action(VmId::new(id), act.clone(), params)
                    .await
                    .map_err(gate_failed(format!("running {act} on VM {id}")))?;
                p.print(
                    &serde_json::json!({ "vm": id, "action": act.as_str() }),
                    || format!("{act} requested for VM {id}\n"),
                )
                .map_err(io_failure)
            }
            OneGateSub::Service(ServiceSub::Show { extended }) => {
                let svc = client
                    .service(extended)
                    .await
                    .map_err(gate_failed("reading the service from OneGate"))?;
                p.print(&svc, || {
                    let mut out = format!("service {} ({}) {:?}\n", svc.name, svc.id, svc.state);
                    let mut t = Table::new(["ROLE", "CARDINALITY", "STATE", "VMS"]);
                    for r in &svc.roles {
                        let vms: Vec<String> =
                            r.nodes.iter().map(|n| n.deploy_id.to_string()).collect();
                        t.row([
                            r.name.clone(),
                            r.cardinality.to_string(),
                            format!("{:?}", r.state),
                            vms.join(","),
                        ]);
                    }
                    out.push_str(&t.render());
                    out
                })
                .map_err(io_failure)
            }
            OneGateSub::Service(ServiceSub::Scale { role, cardinality }) => {
                client
                    .scale_role(&role, cardinality)
                    .await
                    .map_err(gate_failed(format!("scaling role {role}")))?;
                p.print(
                    &serde_json::json!({ "role": role, "cardinality": cardinality }),
                    || format!("role {role} scaling to {cardinality}\n"),
                )
                .map_err(io_failure)
            }
            OneGateSub::Vrouter => {
                let vr = client
                    .vrouter()
                    .await
                    .map_err(gate_failed("reading the virtual router from OneGate"))?;
                p.print(&vr, || {
                    let vms: Vec<String> = vr.vms.iter().map(ToString::to_string).collect();
                    key_values(&[
                        ("ID", vr.id.to_string()),
                        ("NAME", vr.name.clone()),
                        ("VMS", vms.join(",")),
                    ])
                })
                .map_err(io_failure)
            }
            OneGateSub::Vnet { id, extended } => {
                let vnet = client
                    .vnet(VnetId::new(id), extended)
                    .await
                    .map_err(gate_failed(format!(
                        "reading virtual network {id} from OneGate"
                    )))?;
                p.print(&vnet, || {
                    let mut out = key_values(&[
                        ("ID", vnet.id.to_string()),
                        ("NAME", vnet.name.clone()),
                        ("USED LEASES", vnet.used_leases.to_string()),
                    ]);
                    let mut t = Table::new(["AR", "TYPE", "SIZE"]);
                    for ar in &vnet.ar_pool.ars {
                        t.row([
                            ar.ar_id.to_string(),
                            ar.ar_type.clone(),
                            ar.size.to_string(),
                        ]);
                    }
                    out.push_str(&t.render());
                    out
                })
                .map_err(io_failure)
            }
        }
    }
}

/// `KEY=VALUE` pairs into OneGate attributes (the value may contain `=`).
fn parse_attrs(pairs: &[String]) -> nebulair_core::Result<VmAttributes> {
    let mut attrs = VmAttributes::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| Error::invalid_input(format!("{pair:?} is not KEY=VALUE")))?;
        if k.is_empty() {
            return Err(Error::invalid_input(format!("{pair:?} has an empty key")));
        }
        attrs = attrs.set(k, v);
    }
    // Validates names and values now, so a bad one is reported before any request.
    attrs.encode()?;
    Ok(attrs)
}

fn vm_text(vm: &OneGateVm) -> String {
    let mut out = key_values(&[
        ("ID", vm.id.to_string()),
        ("NAME", vm.name.clone()),
        (
            "STATE",
            format!(
                "{} ({})",
                nebulair_opennebula::model::VmState::from_code(i64::from(vm.state)),
                vm.state
            ),
        ),
        (
            "LCM STATE",
            format!(
                "{} ({})",
                nebulair_opennebula::model::LcmState::from_code(i64::from(vm.lcm_state)),
                vm.lcm_state
            ),
        ),
        ("RUNNING", vm.is_running().to_string()),
    ]);
    if !vm.template.nics.is_empty() {
        let mut t = Table::new(["NIC", "NETWORK", "IP", "MAC"]);
        for n in &vm.template.nics {
            t.row([
                n.name.clone().unwrap_or_default(),
                n.network.clone().unwrap_or_default(),
                n.ip.clone().unwrap_or_default(),
                n.mac.clone().unwrap_or_default(),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    out.push_str("\nUSER TEMPLATE\n");
    out.push_str(&attrs_text(&vm.user_template));
    out
}

fn attrs_text(attrs: &Attributes) -> String {
    let pairs: Vec<(&str, String)> = attrs
        .iter()
        .map(|(k, v)| (k.as_str(), attr_value_text(v)))
        .collect();
    key_values(&pairs)
}

fn attr_value_text(v: &AttrValue) -> String {
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_parse_keeps_equals_in_values() {
        let a = parse_attrs(&["A=1".into(), "B=x=y".into()]).expect("attrs");
        assert_eq!(a.keys().collect::<Vec<_>>(), ["A", "B"]);
        let text = a.encode().expect("encode");
        assert!(
            text.lines()
                .any(|l| l.starts_with("B=") && l.contains("x=y")),
            "{text}"
        );
    }

    #[test]
    fn attrs_parse_rejects_bad_input() {
        assert!(parse_attrs(&["novalue".into()]).is_err());
        assert!(parse_attrs(&["=v".into()]).is_err());
        assert!(parse_attrs(&["K=a,b".into()]).is_err());
    }
}
