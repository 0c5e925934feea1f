//! `nebulair vcloud dr ...`: disaster recovery (replications, failover, cleanup).

use std::time::Duration;

use clap::{Args, Subcommand};
use nebulair_core::{Error, ErrorKind};
use nebulair_vcloud::dr::{
    DisasterRecovery, DrEventKind, DrReport, DrTargets, Replication, TargetStatus,
};
use nebulair_vcloud::session::OrgInfo;
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{Confirm, io_failure};
use crate::output::Table;
use crate::progress::Progress;
use crate::report::{Context as _, Failure};

/// Which replications an action targets.
#[derive(Debug, Clone, Args)]
pub(crate) struct DrTargetArgs {
    /// Replication ids or VM names (all are checked before anything starts).
    #[arg(required_unless_present = "all", value_name = "ID|NAME")]
    ids: Vec<String>,
    /// Every replication (instead of a list of ids or names).
    #[arg(long, conflicts_with = "ids")]
    all: bool,
    #[command(flatten)]
    confirm: Confirm,
    /// At most this many VMs at once.
    #[arg(long, default_value_t = 20)]
    workers: usize,
    /// Seconds between two polls of a VM's task.
    #[arg(long, default_value_t = 10.0)]
    poll_interval: f64,
    /// Fail a VM whose task shows no progress for this many seconds.
    #[arg(long, default_value_t = 600.0)]
    idle_timeout: f64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DrSub {
    /// List the replications (every page) with their state.
    List {
        /// Write the details as CSV (vcloudair's dump_replication_details) instead.
        #[arg(long)]
        csv: bool,
    },
    /// Test failover: bring up copies of the VMs without stopping replication.
    TestFailover {
        #[command(flatten)]
        targets: DrTargetArgs,
        /// Power the VMs on after the failover.
        #[arg(long)]
        power_on: bool,
    },
    /// Fail the VMs over for real.
    Failover {
        #[command(flatten)]
        targets: DrTargetArgs,
        /// Power the VMs on after the failover.
        #[arg(long)]
        power_on: bool,
    },
    /// Remove what a test failover created.
    TestCleanup {
        #[command(flatten)]
        targets: DrTargetArgs,
    },
}

// ----- DR -----

/// One replication as printed.
#[derive(Debug, Serialize)]
pub(crate) struct ReplicationView {
    id: String,
    name: Option<String>,
    state: Option<String>,
    rpo_minutes: Option<u32>,
    test_recovery: Option<String>,
    recovery: Option<String>,
    error: Option<String>,
}

/// One target's outcome as printed.
#[derive(Debug, Serialize)]
pub(crate) struct OutcomeView {
    id: String,
    name: Option<String>,
    status: &'static str,
    message: Option<String>,
}

/// A DR run as printed.
#[derive(Debug, Serialize)]
pub(crate) struct DrReportView {
    action: &'static str,
    succeeded: usize,
    failed: usize,
    elapsed_seconds: f64,
    unknown_ids: Vec<String>,
    duplicate_ids: Vec<String>,
    outcomes: Vec<OutcomeView>,
}

impl DrReportView {
    pub(crate) fn new(r: &DrReport) -> Self {
        let outcomes: Vec<OutcomeView> = r
            .outcomes
            .iter()
            .map(|o| {
                let (status, message) = match &o.status {
                    TargetStatus::Succeeded => ("succeeded", None),
                    TargetStatus::Failed { message, .. } => ("failed", Some(message.clone())),
                    TargetStatus::TimedOut { .. } => ("timed out", None),
                    TargetStatus::Unconfirmed { message, .. } => {
                        ("unconfirmed", Some(message.clone()))
                    }
                    TargetStatus::NotStarted => ("not started", None),
                    TargetStatus::Interrupted => ("interrupted", None),
                    _ => ("other", None),
                };
                OutcomeView {
                    id: o.uuid.clone(),
                    name: o.name.clone(),
                    status,
                    message,
                }
            })
            .collect();
        DrReportView {
            action: r.action.as_str(),
            succeeded: r.succeeded().count(),
            failed: r.failed().count(),
            elapsed_seconds: r.elapsed.as_secs_f64(),
            unknown_ids: r.unknown_ids.clone(),
            duplicate_ids: r.duplicate_ids.clone(),
            outcomes,
        }
    }

    /// The summary line and, when some failed, a table of the failures.
    pub(crate) fn text(&self) -> String {
        let mut out = format!(
            "{}: {} succeeded, {} failed in {:.1}s\n",
            self.action, self.succeeded, self.failed, self.elapsed_seconds
        );
        if !self.unknown_ids.is_empty() {
            out.push_str(&format!("unknown ids: {}\n", self.unknown_ids.join(", ")));
        }
        if !self.duplicate_ids.is_empty() {
            out.push_str(&format!(
                "duplicates ignored: {}\n",
                self.duplicate_ids.join(", ")
            ));
        }
        let failed: Vec<&OutcomeView> = self
            .outcomes
            .iter()
            .filter(|o| o.status != "succeeded")
            .collect();
        if !failed.is_empty() {
            let mut t = Table::new(["ID", "NAME", "STATUS", "MESSAGE"]);
            for o in failed {
                t.row([
                    o.id.clone(),
                    o.name.clone().unwrap_or_default(),
                    o.status.to_owned(),
                    o.message.clone().unwrap_or_default(),
                ]);
            }
            out.push_str(&t.render());
        }
        out
    }
}

pub(crate) fn secs(s: f64, what: &str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        Failure::new(
            "reading the options",
            Error::invalid_input(format!("--{what} must be a non-negative number of seconds")),
        )
    })
}

/// Runs one DR action with a progress bar on terminals.
pub(crate) async fn run_dr_action(
    dr: &mut DisasterRecovery,
    action: &'static str,
    ids: Vec<String>,
    power_on: bool,
) -> Result<DrReport, Failure> {
    let targets = if ids.is_empty() {
        DrTargets::All
    } else {
        DrTargets::ids(ids)
    };
    let total = match &targets {
        DrTargets::All => dr.replications().len(),
        DrTargets::Ids(v) => v.len(),
    };
    let bar = Progress::new(total as u64, action);
    let mut events = dr.progress_channel();
    let bar2 = bar.clone();
    let drawer = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            match ev.kind {
                DrEventKind::Finished { .. } => bar2.inc(),
                _ => bar2.message(ev.name.unwrap_or(ev.uuid)),
            }
        }
    });
    let result = match action {
        "test-failover" => dr.test_failover(targets, power_on).await,
        "failover" => dr.failover(targets, power_on).await,
        _ => dr.test_cleanup(targets).await,
    };
    drawer.abort();
    bar.finish();
    result.during(format!("running {action}"))
}

pub(crate) async fn dr_list(mut dr: DisasterRecovery, csv: bool, ctx: Ctx) -> Result<(), Failure> {
    dr.fetch_replications()
        .await
        .during("listing the replications")?;
    if csv {
        let mut buf = Vec::new();
        dr.dump_replication_details(&mut buf)
            .during("writing the CSV")?;
        return crate::output::write_stdout(&String::from_utf8_lossy(&buf)).map_err(io_failure);
    }
    let views: Vec<ReplicationView> = dr
        .replications()
        .iter()
        .map(|r| ReplicationView {
            id: r.uuid.clone(),
            name: r.name().map(str::to_owned),
            state: r.details.as_ref().and_then(|d| d.replication_state.clone()),
            rpo_minutes: r.details.as_ref().and_then(|d| d.rpo_minutes),
            test_recovery: r
                .details
                .as_ref()
                .and_then(|d| d.test_recovery_state.clone()),
            recovery: r.details.as_ref().and_then(|d| d.recovery_state.clone()),
            error: r.details_error.clone(),
        })
        .collect();
    ctx.printer
        .print(&views, || {
            let mut t = Table::new(["ID", "NAME", "STATE", "RPO", "TEST RECOVERY", "RECOVERY"]);
            for v in &views {
                t.row([
                    v.id.clone(),
                    v.name.clone().unwrap_or_default(),
                    v.state.clone().unwrap_or_default(),
                    v.rpo_minutes.map(|m| format!("{m}m")).unwrap_or_default(),
                    v.test_recovery.clone().unwrap_or_default(),
                    v.recovery.clone().unwrap_or_default(),
                ]);
            }
            t.render()
        })
        .map_err(io_failure)
}

pub(crate) async fn dr(sub: DrSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let dr = DisasterRecovery::new(org).during("configuring disaster recovery")?;
    let (action, targets, power_on) = match sub {
        DrSub::List { csv } => return dr_list(dr, csv, ctx).await,
        DrSub::TestFailover { targets, power_on } => ("test-failover", targets, power_on),
        DrSub::Failover { targets, power_on } => ("failover", targets, power_on),
        DrSub::TestCleanup { targets } => ("test-cleanup", targets, false),
    };
    let mut dr = dr
        .concurrency(targets.workers.max(1))
        .poll_interval(secs(targets.poll_interval, "poll-interval")?)
        .idle_timeout(secs(targets.idle_timeout, "idle-timeout")?);
    dr.fetch_replications()
        .await
        .during("listing the replications")?;
    // Every id or name is found before the first request of the action.
    let ids = if targets.all {
        Vec::new()
    } else {
        resolve_targets(dr.replications(), &targets.ids)?
    };
    let names: Vec<(String, Option<String>)> = dr
        .replications()
        .iter()
        .map(|r| (r.uuid.clone(), r.name().map(str::to_owned)))
        .collect();
    let label = |id: &str| match names.iter().find(|(u, _)| u == id) {
        Some((_, Some(n))) => format!("{id} ({n})"),
        _ => id.to_owned(),
    };
    let plan: Vec<String> = if targets.all {
        vec![format!("{action} every replication ({})", names.len())]
    } else {
        ids.iter()
            .map(|id| format!("{action} {}", label(id)))
            .collect()
    };
    if !targets.confirm.approve(&ctx, &plan)? {
        return Ok(());
    }
    let report = run_dr_action(&mut dr, action, ids, power_on).await?;
    let view = DrReportView::new(&report);
    ctx.printer
        .print(&view, || view.text())
        .map_err(io_failure)?;
    if report.all_succeeded() && report.unknown_ids.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            action,
            Error::new(
                ErrorKind::Server,
                format!(
                    "{} of {} targets did not succeed",
                    view.failed + view.unknown_ids.len(),
                    view.outcomes.len() + view.unknown_ids.len()
                ),
            ),
        )
        .hint("the output above lists each failed VM with the server's message"))
    }
}

/// The replication ids of `wanted` (ids, or the names of their VMs), duplicates
/// dropped; every one must exist, else nothing starts.
fn resolve_targets(reps: &[Replication], wanted: &[String]) -> Result<Vec<String>, Failure> {
    let mut out: Vec<String> = Vec::new();
    let mut missing = Vec::new();
    for w in wanted {
        let w = w.trim();
        let hits: Vec<&str> = if reps.iter().any(|r| r.uuid == w) {
            vec![w]
        } else {
            reps.iter()
                .filter(|r| r.name() == Some(w))
                .map(|r| r.uuid.as_str())
                .collect()
        };
        match hits.as_slice() {
            [id] => {
                if !out.iter().any(|o| o == id) {
                    out.push((*id).to_owned());
                }
            }
            [] => missing.push(w.to_owned()),
            many => {
                return Err(Failure::new(
                    "finding the replications",
                    Error::invalid_input(format!(
                        "{} replications are named {w:?} ({}): give the id",
                        many.len(),
                        many.join(", ")
                    )),
                ));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Failure::new(
            "finding the replications",
            Error::new(
                ErrorKind::NotFound,
                format!("no replication {}", missing.join(", ")),
            ),
        )
        .hint("`nebulair vcloud dr list` shows the ids and names; nothing was started"));
    }
    Ok(out)
}

impl DrSub {
    /// Whether this is `dr list` (a read, with the default deadline).
    pub(crate) fn is_list(&self) -> bool {
        matches!(self, DrSub::List { .. })
    }
}
