//! Runs typed queries with a filter, paging and vcloudair's `find_by_name`.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` set it queries that vCD;
//! otherwise it starts the loopback simulator (with 200 extra VMs, so that paging shows):
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vcd_query -- web
//! ```

use futures::TryStreamExt;
use nebulair_core::Credentials;
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::query::{Filter, Query, QueryType, VmRecord};
use nebulair_vcloud::session::VcdSession;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prefix = std::env::args().nth(1).unwrap_or_else(|| "web".to_owned());
    let env = |k: &str| std::env::var(k).ok();
    let (sim, url, org, user, password) = match env("VCD_URL") {
        Some(url) => (
            None,
            url,
            env("VCD_ORG").unwrap_or_default(),
            env("VCD_USER").unwrap_or_default(),
            env("VCD_PASSWORD").unwrap_or_default(),
        ),
        None => {
            let sim = VcloudSimulator::builder().extra_vms(200).start().await?;
            let url = sim.base_url().to_string();
            (
                Some(sim),
                url,
                DEFAULT_ORG.to_owned(),
                DEFAULT_USER.to_owned(),
                DEFAULT_PASSWORD.to_owned(),
            )
        }
    };
    let session = VcdSession::builder(&url)
        .org(org)
        .credentials(Credentials::password(user, password))
        .build()?;
    session.login().await?;
    let client = session.client()?;

    // Every VM, page by page.
    let pages: Vec<_> = Query::new(QueryType::Vm)
        .fields(["status"])
        .pages(&client)
        .try_collect()
        .await?;
    println!(
        "{} VMs in {} page(s) of up to 128",
        pages.iter().map(|p| p.records.len()).sum::<usize>(),
        pages.len()
    );

    // VMs whose name starts with the prefix, sorted, typed.
    let vms: Vec<VmRecord> = Query::new(QueryType::Vm)
        .fields(["status", "containerName"])
        .filter(Filter::eq("name", format!("{prefix}*")))
        .sort_asc("name")
        .stream_typed(&client)
        .try_collect()
        .await?;
    for vm in &vms {
        println!(
            "{:<20} {:<12} in vApp {}",
            vm.name.as_deref().unwrap_or("-"),
            vm.status.as_deref().unwrap_or("-"),
            vm.container_name.as_deref().unwrap_or("-")
        );
    }

    // vcloudair's shape: uuid -> fields; names are not unique.
    let vapps = Query::new(QueryType::VApp).execute(&client).await?;
    for name in ["web-tier", "jenkins"] {
        println!(
            "vApps named {name:?} (any case): {:?}",
            vapps.find_by_name(name)
        );
    }

    session.logout().await?;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(())
}
