//! `nebulair simulate`: the simulators in the foreground, for your own automation.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use nebulair_core::Error;
use nebulair_sim::one::{Delays, OneSimulator, load_snapshot};
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
    /// Start OpenNebula from this JSON state file if it exists, and save the state to it
    /// when stopped with Ctrl-C or SIGTERM.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// VMs take realistic seconds to boot and shut down (zero by default).
    #[arg(long)]
    realistic: bool,
    /// Start only the OpenNebula simulator.
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
    vcloud: Option<VcloudEndpoint>,
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
            let mut b = OneSimulator::builder();
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
                    .during("starting the OpenNebula simulator")
                    .map_err(|f| {
                        f.hint("is the port free? try another --one-port or leave it out")
                    })?,
            )
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
            Format::Table => endpoints.text(),
            Format::Json => {
                // One line, so a script can read it before the simulators stop.
                let mut s = serde_json::to_string(&endpoints)
                    .map_err(|e| Failure::new("rendering JSON", Error::protocol(e.to_string())))?;
                s.push('\n');
                s
            }
            Format::Yaml => {
                let v = serde_json::to_value(&endpoints)
                    .map_err(|e| Failure::new("rendering YAML", Error::protocol(e.to_string())))?;
                crate::output::to_yaml(&v)
            }
        };
        crate::output::write_stdout(&text).map_err(io_failure)?;
        wait_for_stop().await?;
        if let (Some(sim), Some(path)) = (&one, &self.state) {
            sim.save_snapshot(path).during("saving the state file")?;
            eprintln!("state saved to {}", path.display());
        }
        if let Some(s) = one {
            s.shutdown().await;
        }
        if let Some(s) = vcloud {
            s.shutdown().await;
        }
        Ok(())
    }
}
