//! `nebulair simulate`: the simulators in the foreground, for your own automation.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use nebulair_core::{Credentials, Error, HttpConfig, ProxyConfig};
use nebulair_opennebula::OneClient;
use nebulair_opennebula::template::{Context as VmContext, Template};
use nebulair_sim::one::{Delays, OneSimHandle, OneSimulator, OneState, load_snapshot};
use nebulair_sim::oneflow::{OneFlowHandle, OneFlowSimulator};
use nebulair_sim::vcloud::{
    DEFAULT_API_TOKEN, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID,
    OD_COMPUTE_INSTANCE_ID, OD_DR_INSTANCE_ID, VcloudSimulator,
};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{io_failure, runtime};
use crate::output::Format;
use crate::report::{Context as _, Failure};

/// Options of `nebulair simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Serve OpenNebula XML-RPC on this port (http://127.0.0.1:N/RPC2) [default: a free port]
    #[arg(long, value_name = "N")]
    one_port: Option<u16>,
    /// Serve the vCloud simulator on this port (http://127.0.0.1:M/) [default: a free port]
    #[arg(long, value_name = "M")]
    vcloud_port: Option<u16>,
    /// Serve OneGate (for code inside the simulated VMs) on this port
    /// (http://127.0.0.1:P) [default: a free port]
    #[arg(long, value_name = "P", conflicts_with = "vcloud_only")]
    onegate_port: Option<u16>,
    /// Also serve OneFlow (services of several VMs) on this port (http://127.0.0.1:F,
    /// e.g. 2474); OneGate's service calls then answer from it.
    #[arg(long, value_name = "F", conflicts_with = "vcloud_only")]
    oneflow_port: Option<u16>,
    /// Act in OneGate as this VM (it needs a OneGate token: `CONTEXT = [ TOKEN = "YES" ]`),
    /// printing its token, instead of the first VM with a token [default: that VM, or a
    /// new one]
    #[arg(long, value_name = "ID", conflicts_with = "vcloud_only")]
    onegate_vm: Option<i32>,
    /// Start OpenNebula from this JSON state file if it exists, and save the state to it
    /// when stopped with Ctrl-C or SIGTERM.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// VMs take realistic seconds to boot and shut down (zero by default).
    #[arg(long)]
    realistic: bool,
    /// Start only the OpenNebula simulators (oned and OneGate).
    #[arg(long, conflicts_with = "vcloud_only")]
    one_only: bool,
    /// Start only the vCloud simulator.
    #[arg(long)]
    vcloud_only: bool,
}

/// What `simulate` prints (also as JSON with `-o json`).
#[derive(Debug, Serialize)]
struct Endpoints {
    #[serde(skip_serializing_if = "Option::is_none")]
    opennebula: Option<OneEndpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    onegate: Option<OneGateEndpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oneflow: Option<OneFlowEndpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vcloud: Option<VcloudEndpoint>,
}

/// The OneGate endpoint and a simulated VM to act as: what its context (`one_env`) and
/// `token.txt` would hold.
#[derive(Debug, Serialize)]
struct OneGateEndpoint {
    endpoint: String,
    vm_id: i32,
    vm_name: String,
    /// The simulated VM's OneGate token (made up by the simulator, so printing it is
    /// harmless).
    token: String,
    /// The OneFlow service the VM is in (simulated, not persisted with `--state`).
    service_id: i32,
    /// The VM's role in that service.
    role: &'static str,
}

#[derive(Debug, Serialize)]
struct OneFlowEndpoint {
    endpoint: String,
    user: &'static str,
    password: &'static str,
}

#[derive(Debug, Serialize)]
struct OneEndpoint {
    xmlrpc: String,
    user: &'static str,
    password: &'static str,
}

#[derive(Debug, Serialize)]
struct VcloudEndpoint {
    base_url: String,
    user: &'static str,
    password: &'static str,
    org: &'static str,
    api_token: &'static str,
    od_compute_instance: &'static str,
    od_dr_instance: &'static str,
    edge: &'static str,
}

impl Endpoints {
    fn text(&self) -> String {
        let mut out = String::new();
        if let Some(o) = &self.opennebula {
            out.push_str(&format!(
                "OpenNebula XML-RPC  {}\n  user {} / password {} (the simulator's fixed test account)\n  \
                 export ONE_XMLRPC={}\n  \
                 printf 'oneadmin:opennebula\\n' > one_auth && export ONE_AUTH=$PWD/one_auth\n  \
                 nebulair one vm list    # or PyONE: pyone.OneServer(\"{}\", session=\"oneadmin:opennebula\")\n",
                o.xmlrpc, o.user, o.password, o.xmlrpc, o.xmlrpc
            ));
        }
        if let Some(f) = &self.oneflow {
            out.push_str(&format!(
                "OneFlow             {}\n  user {} / password {} (oned's users)\n  \
                 export ONEFLOW_URL={}\n  \
                 nebulair flow template list    # or: oneflow-template list\n",
                f.endpoint, f.user, f.password, f.endpoint
            ));
        }
        if let Some(g) = &self.onegate {
            out.push_str(&format!(
                "OneGate             {}\n  act as VM {} '{}', role '{}' of service {} (its context and token.txt, simulated):\n  \
                 export ONEGATE_ENDPOINT={} VMID={} TOKENTXT={}\n  \
                 nebulair onegate vm show    # or: nebulair onegate service show\n",
                g.endpoint,
                g.vm_id,
                g.vm_name,
                g.role,
                g.service_id,
                g.endpoint,
                g.vm_id,
                g.token
            ));
        }
        if let Some(v) = &self.vcloud {
            out.push_str(&format!(
                "vCloud              {}\n  user {} / password {}, org {}, API token {}\n  \
                 On-Demand instances: compute {}, DR {}; edge {}\n  \
                 export VCD_URL={} VCD_USER={} VCD_ORG={} VCD_PASSWORD={}\n  \
                 nebulair vcloud query vm\n",
                v.base_url,
                v.user,
                v.password,
                v.org,
                v.api_token,
                v.od_compute_instance,
                v.od_dr_instance,
                v.edge,
                v.base_url,
                v.user,
                v.org,
                v.password
            ));
        }
        out.push_str("Press Ctrl-C (or send SIGTERM) to stop.\n");
        out
    }
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM (`kill PID`); shells start background
/// jobs with SIGINT ignored, so SIGTERM is how scripts stop a backgrounded `simulate`.
async fn wait_for_stop() -> Result<(), Failure> {
    let failed = |e: std::io::Error| Failure::new("waiting for Ctrl-C", Error::from(e));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(failed)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(failed),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(failed)
    }
}

impl SimulateArgs {
    /// Runs the simulators until Ctrl-C.
    pub(crate) fn run(self, ctx: Ctx) -> Result<(), Failure> {
        runtime()?.block_on(self.serve(ctx))
    }

    async fn serve(self, ctx: Ctx) -> Result<(), Failure> {
        let one = if self.vcloud_only {
            None
        } else {
            // oned and its OneGate, on the same state; VM contexts carry OneGate's URL.
            let gate_addr = SocketAddr::from(([127, 0, 0, 1], self.onegate_port.unwrap_or(0)));
            let mut b = OneSimulator::builder().onegate_bind(gate_addr);
            if let Some(port) = self.one_port {
                b = b.bind(SocketAddr::from(([127, 0, 0, 1], port)));
            }
            if self.realistic {
                b = b.delays(Delays::realistic());
            }
            if let Some(path) = &self.state
                && path.exists()
            {
                b = b.snapshot_json(load_snapshot(path).during("reading the state file")?);
            }
            Some(
                b.start()
                    .await
                    .during("starting the OpenNebula simulator and its OneGate")
                    .map_err(|f| {
                        f.hint(
                            "is the port free? try another --one-port or --onegate-port, \
                             or leave them out",
                        )
                    })?,
            )
        };
        let oneflow = match (&one, self.oneflow_port) {
            (Some(sim), Some(port)) => Some(
                OneFlowSimulator::builder()
                    .bind(SocketAddr::from(([127, 0, 0, 1], port)))
                    .start(sim)
                    .await
                    .during("starting the OneFlow simulator")
                    .map_err(|f| f.hint("is the port free? try another --oneflow-port"))?,
            ),
            _ => None,
        };
        let gate = match &one {
            Some(sim) => Some(prepare_onegate(sim, self.onegate_vm, oneflow.as_ref()).await?),
            None => None,
        };
        let vcloud = if self.one_only {
            None
        } else {
            let mut b = VcloudSimulator::builder();
            if let Some(port) = self.vcloud_port {
                b = b.bind(SocketAddr::from(([127, 0, 0, 1], port)));
            }
            Some(b.start().await.map_err(|e| {
                Failure::new("starting the vCloud simulator", Error::from(e))
                    .hint("is the port free? try another --vcloud-port or leave it out")
            })?)
        };
        let endpoints = Endpoints {
            opennebula: one.as_ref().map(|s| OneEndpoint {
                xmlrpc: s.url().to_owned(),
                user: "oneadmin",
                password: "opennebula",
            }),
            oneflow: oneflow.as_ref().map(|f| OneFlowEndpoint {
                endpoint: f.url().to_owned(),
                user: ADMIN_USER,
                password: ADMIN_PASSWORD,
            }),
            onegate: gate.as_ref().map(|e| OneGateEndpoint {
                endpoint: e.endpoint.clone(),
                vm_id: e.vm_id,
                vm_name: e.vm_name.clone(),
                token: e.token.clone(),
                service_id: e.service_id,
                role: e.role,
            }),
            vcloud: vcloud.as_ref().map(|s| VcloudEndpoint {
                base_url: s.base_url().to_string(),
                user: DEFAULT_USER,
                password: DEFAULT_PASSWORD,
                org: DEFAULT_ORG,
                api_token: DEFAULT_API_TOKEN,
                od_compute_instance: OD_COMPUTE_INSTANCE_ID,
                od_dr_instance: OD_DR_INSTANCE_ID,
                edge: EDGE_ID,
            }),
        };
        let text = match ctx.printer.format() {
            Format::Table | Format::Wide => endpoints.text(),
            Format::Json => {
                // One line, so a script can read it before the simulators stop.
                let mut s = serde_json::to_string(&endpoints)
                    .map_err(|e| Failure::new("rendering JSON", Error::protocol(e.to_string())))?;
                s.push('\n');
                s
            }
            Format::Yaml => serde_norway::to_string(&endpoints)
                .map_err(|e| Failure::new("rendering YAML", Error::protocol(e.to_string())))?,
        };
        crate::output::write_stdout(&text).map_err(io_failure)?;
        wait_for_stop().await?;
        if let (Some(sim), Some(path)) = (&one, &self.state) {
            sim.save_snapshot(path).during("saving the state file")?;
            eprintln!("state saved to {}", path.display());
        }
        if let Some(f) = oneflow {
            f.shutdown().await;
        }
        if let Some(s) = one {
            s.shutdown().await; // oned and OneGate
        }
        if let Some(s) = vcloud {
            s.shutdown().await;
        }
        Ok(())
    }
}

/// What `simulate` prints for OneGate: the VM to act as (one with a token) inside a
/// one-role OneFlow service, so that `onegate vm|service ...` have something to answer.
async fn prepare_onegate(
    sim: &OneSimHandle,
    wanted: Option<i32>,
    oneflow: Option<&OneFlowHandle>,
) -> Result<OneGateEndpoint, Failure> {
    let (Some(gate), Some(url)) = (sim.onegate(), sim.onegate_url()) else {
        return Err(Failure::new(
            "starting the OneGate simulator",
            Error::protocol("the OpenNebula simulator serves no OneGate"),
        ));
    };
    if let (Some(flow), None) = (oneflow, wanted) {
        return onegate_in_oneflow(sim, flow, url).await;
    }
    let vm = match wanted {
        Some(id) => {
            let view = sim
                .state()
                .vm_info(id)
                .map_err(|e| Failure::new(format!("finding VM {id} for --onegate-vm"), e))?;
            (id, view.name)
        }
        None => onegate_vm(sim).await?,
    };
    let token = sim.state().vm_token(vm.0).ok_or_else(|| {
        Failure::new(
            "preparing a VM for OneGate",
            Error::invalid_input(format!(
                "VM {} has no OneGate token (its CONTEXT needs TOKEN = \"YES\")",
                vm.0
            )),
        )
    })?;
    let service = gate
        .create_service(ONEGATE_SERVICE_NAME, &[(ONEGATE_ROLE, &[vm.0])])
        .map_err(|e| {
            Failure::new(
                "preparing a OneFlow service for OneGate",
                Error::protocol(e),
            )
        })?;
    Ok(OneGateEndpoint {
        endpoint: url.to_owned(),
        vm_id: vm.0,
        vm_name: vm.1,
        token,
        service_id: service,
        role: ONEGATE_ROLE,
    })
}

/// The simulator's administrator (seed data).
const ADMIN_USER: &str = "oneadmin";
/// The administrator's password (seed data).
const ADMIN_PASSWORD: &str = "opennebula";
/// Name of the OneFlow service `simulate` puts the OneGate VM in.
const ONEGATE_SERVICE_NAME: &str = "onegate-service";
/// The role of that VM in the service.
const ONEGATE_ROLE: &str = "app";
/// Name of the VM `simulate` creates when no VM has a OneGate token yet.
const ONEGATE_VM_NAME: &str = "onegate-vm";
/// oned's `VM_STATE` DONE: such VMs no longer answer OneGate.
const VM_STATE_DONE: i32 = 6;

/// A live VM with a OneGate token, `(id, name)`: the first one in the state (a state
/// file may hold one from an earlier run), otherwise a new VM `onegate-vm` instantiated
/// from template 0 with `CONTEXT = [ TOKEN = "YES" ]` (or allocated from a minimal
/// template when template 0 is gone).
async fn onegate_vm(sim: &OneSimHandle) -> Result<(i32, String), Failure> {
    let state = sim.state();
    if let Some(found) = find_token_vm(&state) {
        return Ok(found);
    }
    let client = OneClient::builder()
        .endpoint(sim.url())
        .credentials(Credentials::password(ADMIN_USER, ADMIN_PASSWORD))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()
        .during("configuring the OpenNebula client")?;
    let mut extra = Template::new();
    extra.set("CONTEXT", VmContext::new().network(true).token(true));
    let made = client
        .template(0)
        .instantiate(ONEGATE_VM_NAME, false, &extra, false)
        .await;
    let id = match made {
        Ok(id) => id,
        Err(e) if e.is_not_found() => {
            let mut tpl = Template::new();
            tpl.set("NAME", ONEGATE_VM_NAME)
                .set("CPU", "0.1")
                .set("MEMORY", "64")
                .set("CONTEXT", VmContext::new().token(true));
            client
                .vms()
                .allocate(&tpl)
                .await
                .during("creating a VM for OneGate")?
        }
        Err(e) => return Err(Failure::new("creating a VM for OneGate", e)),
    };
    Ok((id.get(), ONEGATE_VM_NAME.to_owned()))
}

/// The first VM (lowest id) that has a OneGate token and is not DONE.
fn find_token_vm(state: &OneState) -> Option<(i32, String)> {
    state.vm_ids().into_iter().find_map(|id| {
        state.vm_token(id)?;
        let vm = state.vm_info(id).ok()?;
        (vm.state != VM_STATE_DONE).then_some((id, vm.name))
    })
}

/// With OneFlow, the OneGate VM is the VM of a real one-role OneFlow service (made from
/// template 0 with a OneGate token), so that `onegate service ...` and `flow service ...`
/// see the same service.
async fn onegate_in_oneflow(
    sim: &OneSimHandle,
    flow: &OneFlowHandle,
    url: &str,
) -> Result<OneGateEndpoint, Failure> {
    use nebulair_opennebula::ids::TemplateId;
    use nebulair_opennebula::oneflow::{
        FlowClient, InstantiateOptions, RoleTemplate, ServiceState, ServiceTemplateBody,
    };
    let client = FlowClient::builder()
        .endpoint(flow.url())
        .credentials(Credentials::password(ADMIN_USER, ADMIN_PASSWORD))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()
        .during("configuring the OneFlow client")?;
    let role = RoleTemplate::new(ONEGATE_ROLE, TemplateId::new(0), 1).template_attr(
        "CONTEXT",
        serde_json::json!({"TOKEN": "YES", "NETWORK": "YES"}),
    );
    let body = ServiceTemplateBody::new(ONEGATE_SERVICE_NAME, vec![role]);
    let t = client
        .templates()
        .create(&body)
        .await
        .during("creating the OneGate service template")?;
    let s = client
        .templates()
        .instantiate(t.id, &InstantiateOptions::new())
        .await
        .during("instantiating the OneGate service")?;
    let opts = nebulair_opennebula::api::WaitOptions::timeout(std::time::Duration::from_secs(120));
    let s = client
        .services()
        .wait_for(s.id, ServiceState::Running, &opts)
        .await
        .map_err(|e| Failure::new("deploying the OneGate service", Error::from(e)))?
        .ok_or_else(|| {
            Failure::new(
                "deploying the OneGate service",
                Error::protocol("the service disappeared"),
            )
        })?;
    let vm = s
        .body()
        .role(ONEGATE_ROLE)
        .and_then(|r| r.nodes.first())
        .map(|n| n.deploy_id.get())
        .ok_or_else(|| {
            Failure::new(
                "deploying the OneGate service",
                Error::protocol("the service has no VM"),
            )
        })?;
    let token = sim.state().vm_token(vm).ok_or_else(|| {
        Failure::new(
            "preparing a VM for OneGate",
            Error::protocol(format!("VM {vm} has no OneGate token")),
        )
    })?;
    let name = sim.state().vm_info(vm).map(|v| v.name).unwrap_or_default();
    Ok(OneGateEndpoint {
        endpoint: url.to_owned(),
        vm_id: vm,
        vm_name: name,
        token,
        service_id: s.id.get(),
        role: ONEGATE_ROLE,
    })
}
