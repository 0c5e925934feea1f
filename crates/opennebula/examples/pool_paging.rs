//! Listing a large VM pool page by page, as a `Stream` of typed VMs, with filters.
//!
//! Without arguments it starts the loopback OpenNebula simulator, creates 250 VMs (some
//! on hold) and pages through them 100 at a time:
//!
//! ```text
//! cargo run -p nebulair-opennebula --example pool_paging
//! ```
//!
//! With `--env` it pages through the VM pool of the front-end `OneClient::from_env()`
//! finds (read-only).

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use nebulair_opennebula::pool::VmStateFilter;
use nebulair_opennebula::{Credentials, OneClient, PoolFilter, Result, Template};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    if std::env::args().nth(1).as_deref() == Some("--env") {
        run(&OneClient::from_env()?).await?;
    } else {
        let sim = nebulair_sim::one::OneSimulator::builder().start().await?;
        let client = OneClient::builder()
            .endpoint(sim.url())
            .credentials(Credentials::password("oneadmin", "opennebula"))
            .page_size(100)
            .build()?;
        populate(&client, 250).await?;
        run(&client).await?;
        sim.shutdown().await;
    }
    Ok(())
}

/// Allocates `n` VMs, every third one on hold.
pub(crate) async fn populate(client: &OneClient, n: usize) -> Result<()> {
    for i in 0..n {
        let tpl = Template::new()
            .with("NAME", format!("paging-{i}"))
            .with("CPU", 0.1)
            .with("MEMORY", 64);
        client.vms().allocate_with(&tpl, i % 3 == 0).await?;
    }
    Ok(())
}

/// What the tour counted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Counts {
    /// VMs seen through the stream (every state but DONE).
    pub(crate) total: usize,
    /// VMs per state name.
    pub(crate) by_state: BTreeMap<String, usize>,
    /// VMs in HOLD, through the state filter.
    pub(crate) on_hold: usize,
    /// Names of the first five VMs (oned lists newest first).
    pub(crate) newest: Vec<String>,
}

/// Streams the pool (one `one.vmpool.info` call per page of `client.page_size()` VMs),
/// counts VMs per state, then lists only the VMs on hold.
pub(crate) async fn run(client: &OneClient) -> Result<Counts> {
    let mut by_state = BTreeMap::new();
    let mut total = 0;
    let mut newest = Vec::new();
    let mut vms = client.vms().stream(PoolFilter::all());
    while let Some(vm) = vms.next().await {
        let vm = vm?;
        total += 1;
        if newest.len() < 5 {
            newest.push(vm.name.clone().unwrap_or_default());
        }
        let state = vm
            .state()
            .map_or_else(|| "?".to_owned(), |s| format!("{s:?}"));
        *by_state.entry(state).or_insert(0) += 1;
    }
    println!(
        "{total} VMs in pages of {}: {by_state:?}",
        client.page_size()
    );
    println!("newest first: {newest:?}");

    // The same stream with a state filter (oned's VM_STATE 2 = HOLD), collected.
    let held: Vec<String> = client
        .vms()
        .stream(PoolFilter::all().state(VmStateFilter::State(2)))
        .map_ok(|vm| vm.name.unwrap_or_default())
        .try_collect()
        .await?;
    println!(
        "{} on hold, e.g. {:?}",
        held.len(),
        held.first().map(String::as_str).unwrap_or("-")
    );
    Ok(Counts {
        total,
        by_state,
        on_hold: held.len(),
        newest,
    })
}
