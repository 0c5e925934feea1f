//! Runs typed queries with a filter, paging and vcloudair's `find_by_name`.
//!
//! With `VCD_URL`, `VCD_ORG`, `VCD_USER` and `VCD_PASSWORD` set it queries that vCD;
//! otherwise it starts the loopback simulator (with 200 extra VMs, so that paging shows):
//!
//! ```sh
//! cargo run -p nebulair-vcloud --example vcd_query -- web
//! ```

use futures::TryStreamExt;
use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::query::{Filter, Query, QueryType, VmRecord};
use nebulair_vcloud::session::VcdSession;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The vApp names looked up with `find_by_name`.
pub(crate) const VAPP_NAMES: [&str; 2] = ["web-tier", "jenkins"];

/// Which vCD to query, as whom.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) org: String,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) http: HttpConfig,
}

/// What the queries found.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Found {
    /// Every VM, counted over all pages.
    pub(crate) vm_count: usize,
    /// How many pages that took.
    pub(crate) pages: usize,
    /// Names of the VMs matching the prefix, in the server's (ascending) order.
    pub(crate) matching: Vec<String>,
    /// For each of [`VAPP_NAMES`], the uuids of the vApps with that name (any case).
    pub(crate) vapps_by_name: Vec<(String, Vec<String>)>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let prefix = std::env::args().nth(1).unwrap_or_else(|| "web".to_owned());
    let env = |k: &str| std::env::var(k).ok();
    match env("VCD_URL") {
        Some(url) => {
            let target = Target {
                url,
                org: env("VCD_ORG").unwrap_or_default(),
                user: env("VCD_USER").unwrap_or_default(),
                password: env("VCD_PASSWORD").unwrap_or_default(),
                http: HttpConfig::default(),
            };
            run(&target, &prefix).await?;
        }
        None => {
            let sim = VcloudSimulator::builder().extra_vms(200).start().await?;
            run(&simulator_target(sim.base_url().as_str()), &prefix).await?;
            sim.shutdown().await;
        }
    }
    Ok(())
}

/// The simulator's fixed test account at `url`.
pub(crate) fn simulator_target(url: &str) -> Target {
    Target {
        url: url.to_owned(),
        org: DEFAULT_ORG.to_owned(),
        user: DEFAULT_USER.to_owned(),
        password: DEFAULT_PASSWORD.to_owned(),
        http: HttpConfig::default().proxy(ProxyConfig::Disabled),
    }
}

/// Logs in, counts every VM page by page, lists the VMs whose name starts with `prefix`
/// (sorted, typed), looks up vApps by name, logs out; prints each result.
pub(crate) async fn run(t: &Target, prefix: &str) -> Result<Found> {
    let session = VcdSession::builder(&t.url)
        .org(&t.org)
        .credentials(Credentials::password(&t.user, &t.password))
        .http_config(t.http.clone())
        .build()?;
    session.login().await?;
    let client = session.client()?;

    // Every VM, page by page.
    let pages: Vec<_> = Query::new(QueryType::Vm)
        .fields(["status"])
        .pages(&client)
        .try_collect()
        .await?;
    let vm_count = pages.iter().map(|p| p.records.len()).sum::<usize>();
    println!("{vm_count} VMs in {} page(s) of up to 128", pages.len());

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
    let mut vapps_by_name = Vec::new();
    for name in VAPP_NAMES {
        let uuids = vapps.find_by_name(name);
        println!("vApps named {name:?} (any case): {uuids:?}");
        vapps_by_name.push((name.to_owned(), uuids));
    }

    session.logout().await?;
    Ok(Found {
        vm_count,
        pages: pages.len(),
        matching: vms.into_iter().filter_map(|vm| vm.name).collect(),
        vapps_by_name,
    })
}
