//! Disaster Recovery 2.x (DRaaS): list replications, test failover, failover, test
//! cleanup, on a bounded worker pool.
//!
//! A [`DisasterRecovery`] works on one On-Demand DR instance (its [`OrgInfo`], from an
//! On-Demand login). [`fetch_replications`](DisasterRecovery::fetch_replications) reads
//! **every page** of `GET {vcd}/api/org/{org}/replications` (vcloudair 0.5 read only the
//! first) and the details of each replication concurrently. The actions
//! ([`test_failover`](DisasterRecovery::test_failover),
//! [`failover`](DisasterRecovery::failover), [`test_cleanup`](DisasterRecovery::test_cleanup))
//! take [`DrTargets`]: all replications, or ids (unknown ids are reported, duplicates
//! dropped in order). They run on core's [`TaskRunner`]: at most
//! [`concurrency`](DisasterRecovery::concurrency) VMs at once (default 20), started in
//! target order; per VM one `POST` and a task-poll loop every
//! [`poll_interval`](DisasterRecovery::poll_interval) (default 10 s) that fails when the
//! task's progress does not change for [`idle_timeout`](DisasterRecovery::idle_timeout)
//! (default 10 min; the timer resets on every change, it is not a deadline), and when
//! the task ends in `error`, `canceled` or `aborted` (with the task's message; vcloudair
//! ignored the status). The [`DrReport`] has one [`TargetOutcome`] per target; nothing is
//! lost when some VMs fail. Progress is observable with
//! [`on_progress`](DisasterRecovery::on_progress) or
//! [`progress_channel`](DisasterRecovery::progress_channel); cancelling the
//! [`cancel_token`](DisasterRecovery::cancel_token) stops queued VMs and records the
//! tasks already running.
//!
//! ```no_run
//! use nebulair_vcloud::dr::{DisasterRecovery, DrTargets};
//! # async fn run(org: nebulair_vcloud::OrgInfo) -> nebulair_vcloud::Result<()> {
//! let mut dr = DisasterRecovery::new(&org)?.on_progress(|ev| println!("{ev:?}"));
//! dr.fetch_replications().await?;
//! dr.dump_replication_details(std::fs::File::create("details.csv")?)?;
//! let report = dr.test_failover(DrTargets::All, true).await?;
//! for (uuid, name, message) in report.action_errors().into_iter().map(<(String, String, String)>::from) {
//!     eprintln!("{uuid} {name}: {message}");
//! }
//! dr.test_cleanup(DrTargets::All).await?;
//! # Ok(()) }
//! ```

mod model;
mod report;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nebulair_core::{
    CancellationToken, Error, ErrorKind, JobContext, ProgressEvent, Result, TaskRunner,
};
use tokio::time::Instant;

use crate::client::{ApiRequest, VcdClient};
use crate::session::OrgInfo;

pub(crate) use model::parse_page as parse_replication_page;
pub use model::{FAILOVER_MEDIA, NS_VR, Replication, ReplicationDetails, TEST_FAILOVER_MEDIA};
pub use report::{
    ActionError, DrAction, DrEvent, DrEventKind, DrReport, TargetOutcome, TargetStatus,
};

/// Default number of VMs handled at once (vcloudair's pool size).
pub const DEFAULT_CONCURRENCY: usize = 20;
/// Default interval between two polls of a task.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(10);
/// Default time a task may go without progress before it is given up.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// Default page size when listing replications.
pub const DEFAULT_PAGE_SIZE: u32 = 128;
/// Consecutive failures (transport errors, timeouts, 5xx, 401) tolerated while polling one
/// task; after that its outcome is [`TargetStatus::Unconfirmed`].
const MAX_POLL_FAILURES: u32 = 5;
/// Safety stop for servers that page forever.
const MAX_PAGES: usize = 100_000;

/// Which replications an action targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrTargets {
    /// Every replication (vcloudair's `total=True`).
    All,
    /// These replication ids (case-insensitive); unknown ones are reported, repeats
    /// dropped.
    Ids(Vec<String>),
}

impl DrTargets {
    /// Targets from any list of ids.
    pub fn ids<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DrTargets::Ids(ids.into_iter().map(Into::into).collect())
    }
}

impl From<&str> for DrTargets {
    fn from(id: &str) -> Self {
        DrTargets::Ids(vec![id.to_owned()])
    }
}

impl From<Vec<String>> for DrTargets {
    fn from(ids: Vec<String>) -> Self {
        DrTargets::Ids(ids)
    }
}

impl From<Vec<&str>> for DrTargets {
    fn from(ids: Vec<&str>) -> Self {
        DrTargets::ids(ids)
    }
}

impl From<&[&str]> for DrTargets {
    fn from(ids: &[&str]) -> Self {
        DrTargets::ids(ids.iter().copied())
    }
}

impl<const N: usize> From<[&str; N]> for DrTargets {
    fn from(ids: [&str; N]) -> Self {
        DrTargets::ids(ids)
    }
}

/// Targets resolved against the known replications.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ResolvedTargets {
    /// Replication ids to act on, in order, without repeats.
    pub uuids: Vec<String>,
    /// Given ids that are not known replications (each once, as given).
    pub unknown: Vec<String>,
    /// Given ids dropped because they repeated an earlier one.
    pub duplicates: Vec<String>,
}

type EventFn = dyn Fn(DrEvent) + Send + Sync;

/// The DR client of one On-Demand DR instance. See the [module docs](self).
pub struct DisasterRecovery {
    client: VcdClient,
    base: String,
    concurrency: usize,
    poll_interval: Duration,
    idle_timeout: Duration,
    page_size: u32,
    replications: Vec<Replication>,
    by_id: HashMap<String, usize>,
    fetched: bool,
    action_errors: Vec<ActionError>,
    cancel: CancellationToken,
    on_event: Option<Arc<EventFn>>,
}

impl fmt::Debug for DisasterRecovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DisasterRecovery")
            .field("base", &self.base)
            .field("concurrency", &self.concurrency)
            .field("poll_interval", &self.poll_interval)
            .field("idle_timeout", &self.idle_timeout)
            .field("replications", &self.replications.len())
            .finish_non_exhaustive()
    }
}

impl DisasterRecovery {
    /// A DR client for the instance in `org` (its `org_uuid` is the instance id), over a
    /// default HTTP client. Nothing is sent until a call.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the org id is empty or not a path segment; errors
    /// building the HTTP client.
    pub fn new(org: &OrgInfo) -> Result<Self> {
        let client = VcdClient::with_config(org.clone(), &nebulair_core::HttpConfig::default())?;
        Self::with_client(&client)
    }

    /// A DR client sharing an existing [`VcdClient`] (transport, token, re-login hook).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_client(client: &VcdClient) -> Result<Self> {
        let org = client.org_info();
        let id = org.org_uuid().trim();
        if id.is_empty() || id.contains(['/', '?', '#', '\\']) {
            return Err(Error::invalid_input(format!(
                "invalid DR instance id {:?}",
                org.org_uuid()
            )));
        }
        Ok(DisasterRecovery {
            client: client.clone(),
            base: format!("api/org/{id}/"),
            concurrency: DEFAULT_CONCURRENCY,
            poll_interval: DEFAULT_POLL_INTERVAL,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            page_size: DEFAULT_PAGE_SIZE,
            replications: Vec::new(),
            by_id: HashMap::new(),
            fetched: false,
            action_errors: Vec::new(),
            cancel: CancellationToken::new(),
            on_event: None,
        })
    }

    /// At most this many VMs (and detail fetches) at once (default 20, at least 1).
    pub fn concurrency(mut self, workers: usize) -> Self {
        self.concurrency = workers.max(1);
        self
    }

    /// The interval between two polls of a task (default 10 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long a task may go without a status or progress change (default 10 min).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The page size asked for when listing replications (default 128, at least 1).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Calls `f` for every [`DrEvent`] (from the workers' tasks: keep it quick).
    pub fn on_progress(mut self, f: impl Fn(DrEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(f));
        self
    }

    /// Sends every [`DrEvent`] into the returned channel (replacing any
    /// [`on_progress`](Self::on_progress) callback). Events are dropped once the
    /// receiver is gone.
    pub fn progress_channel(&mut self) -> tokio::sync::mpsc::UnboundedReceiver<DrEvent> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.on_event = Some(Arc::new(move |ev| {
            let _ = tx.send(ev);
        }));
        rx
    }

    /// Cancelling this token stops queued VMs (they are reported
    /// [`TargetStatus::NotStarted`]) and stops polling the running ones (reported
    /// [`TargetStatus::Interrupted`] with their task href). It stays cancelled; call
    /// [`reset_cancellation`](Self::reset_cancellation) before the next action.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Replaces a cancelled token with a fresh one.
    pub fn reset_cancellation(&mut self) {
        self.cancel = CancellationToken::new();
    }

    /// The replications from the last [`fetch_replications`](Self::fetch_replications).
    pub fn replications(&self) -> &[Replication] {
        &self.replications
    }

    /// One replication by id (case-insensitive).
    pub fn replication(&self, uuid: &str) -> Option<&Replication> {
        self.by_id
            .get(&uuid.trim().to_ascii_lowercase())
            .and_then(|&i| self.replications.get(i))
    }

    /// The problems of the last action as vcloudair's `(vm_uuid, vm_name, message)`
    /// (cleared when an action starts).
    pub fn action_errors(&self) -> &[ActionError] {
        &self.action_errors
    }

    /// Lists every replication, following every page, then fetches each one's details
    /// concurrently. A replication listed twice is kept once. A replication whose
    /// details cannot be fetched is kept with [`Replication::details_error`] set.
    ///
    /// # Errors
    /// The error of a list request (HTTP, transport, auth); [`ErrorKind::Protocol`] for
    /// a malformed list.
    pub async fn fetch_replications(&mut self) -> Result<&[Replication]> {
        let refs = self.list_all().await?;
        let client = self.client.clone();
        let runner = TaskRunner::new(self.concurrency).cancellation_token(self.cancel.clone());
        let hrefs: Vec<String> = refs.iter().map(|(_, h)| h.clone()).collect();
        let report = runner
            .run(hrefs, move |href, _ctx| {
                let client = client.clone();
                async move {
                    let el = client.get_xml(&href).await?;
                    ReplicationDetails::from_element(&el)
                }
            })
            .await;
        self.replications = refs
            .into_iter()
            .zip(report.into_results())
            .map(|((uuid, href), details)| {
                let (details, details_error) = match details {
                    Ok(d) => (Some(d), None),
                    Err(e) => {
                        tracing::warn!(uuid = %uuid, error = %e, "replication details unavailable");
                        (None, Some(e.to_string()))
                    }
                };
                Replication {
                    uuid,
                    href,
                    details,
                    details_error,
                }
            })
            .collect();
        self.by_id = self
            .replications
            .iter()
            .enumerate()
            .map(|(i, r)| (r.uuid.clone(), i))
            .collect();
        self.fetched = true;
        Ok(&self.replications)
    }

    /// Reads every page of the replication list: follows `nextPage` links, or asks for
    /// the next page while the `total` (or a full page) says there is more; stops at an
    /// empty page or a page that adds nothing new.
    async fn list_all(&self) -> Result<Vec<(String, String)>> {
        let mut seen = HashSet::new();
        let mut refs = Vec::new();
        let mut raw = 0usize;
        let mut page_no = 1usize;
        let mut request = self.page_request(page_no);
        for _ in 0..MAX_PAGES {
            let el = self.client.send(request).await?.xml()?;
            let page = model::parse_page(&el)
                .map_err(|e| e.context(format!("replication list page {page_no}")))?;
            raw += page.refs.len();
            let mut new = 0;
            let count = page.refs.len();
            for (uuid, href) in page.refs {
                if seen.insert(uuid.clone()) {
                    refs.push((uuid, href));
                    new += 1;
                }
            }
            let more = page.next.is_some()
                || match page.total {
                    Some(t) => raw < t,
                    None => count >= self.page_size as usize,
                };
            if count == 0 || new == 0 || !more {
                break;
            }
            page_no += 1;
            request = match page.next {
                Some(next) => ApiRequest::get(next),
                None => self.page_request(page_no),
            };
        }
        Ok(refs)
    }

    fn page_request(&self, page: usize) -> ApiRequest {
        ApiRequest::get(format!("{}replications", self.base))
            .query("page", page.to_string())
            .query("pageSize", self.page_size.to_string())
    }

    /// Writes one CSV line `uuid,name` per replication (no header, as vcloudair's
    /// `details.csv`; names are quoted when needed, unknown names are empty).
    ///
    /// # Errors
    /// [`ErrorKind::Transport`] when writing fails.
    pub fn dump_replication_details<W: std::io::Write>(&self, writer: W) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(writer);
        let io = |e: csv::Error| {
            Error::with_source(ErrorKind::Transport, "writing replication details", e)
        };
        for r in &self.replications {
            w.write_record([r.uuid.as_str(), r.name().unwrap_or_default()])
                .map_err(io)?;
        }
        w.flush()
            .map_err(|e| Error::with_source(ErrorKind::Transport, "writing replication details", e))
    }

    /// Resolves targets against the fetched replications: [`DrTargets::All`] is every
    /// replication in list order; ids keep their order, lose their repeats, and unknown
    /// ones are set apart.
    pub fn resolve_targets(&self, targets: &DrTargets) -> ResolvedTargets {
        match targets {
            DrTargets::All => ResolvedTargets {
                uuids: self.replications.iter().map(|r| r.uuid.clone()).collect(),
                ..ResolvedTargets::default()
            },
            DrTargets::Ids(ids) => {
                let mut out = ResolvedTargets::default();
                let mut seen = HashSet::new();
                for id in ids {
                    let key = id.trim().to_ascii_lowercase();
                    if !seen.insert(key.clone()) {
                        out.duplicates.push(id.clone());
                    } else if self.by_id.contains_key(&key) {
                        out.uuids.push(key);
                    } else {
                        out.unknown.push(id.clone());
                    }
                }
                out
            }
        }
    }

    /// Starts a test failover of the targets (`POST {href}/action/testFailover`) and
    /// waits for every task. Fetches the replications first if they were never fetched.
    ///
    /// # Errors
    /// Only the error of that first fetch: per-VM failures are in the report.
    pub async fn test_failover(
        &mut self,
        targets: impl Into<DrTargets>,
        power_on: bool,
    ) -> Result<DrReport> {
        self.run_action(DrAction::TestFailover, targets.into(), power_on)
            .await
    }

    /// Fails the targets over (`POST {href}/action/failover`) and waits for every task.
    ///
    /// # Errors
    /// As [`test_failover`](Self::test_failover).
    pub async fn failover(
        &mut self,
        targets: impl Into<DrTargets>,
        power_on: bool,
    ) -> Result<DrReport> {
        self.run_action(DrAction::Failover, targets.into(), power_on)
            .await
    }

    /// Cleans up after a test failover (`POST {href}/action/testCleanup`, no body) and
    /// waits for every task.
    ///
    /// # Errors
    /// As [`test_failover`](Self::test_failover).
    pub async fn test_cleanup(&mut self, targets: impl Into<DrTargets>) -> Result<DrReport> {
        self.run_action(DrAction::TestCleanup, targets.into(), false)
            .await
    }

    async fn run_action(
        &mut self,
        action: DrAction,
        targets: DrTargets,
        power_on: bool,
    ) -> Result<DrReport> {
        self.action_errors.clear();
        let started = Instant::now();
        if !self.fetched {
            self.fetch_replications().await?;
        }
        let resolved = self.resolve_targets(&targets);
        let jobs: Vec<Job> = resolved
            .uuids
            .iter()
            .filter_map(|u| self.replication(u))
            .map(|r| Job {
                uuid: r.uuid.clone(),
                href: r.href.clone(),
            })
            .collect();
        let names: Arc<Vec<(String, Option<String>)>> = Arc::new(
            resolved
                .uuids
                .iter()
                .map(|u| {
                    (
                        u.clone(),
                        self.replication(u)
                            .and_then(|r| r.name())
                            .map(str::to_owned),
                    )
                })
                .collect(),
        );
        let slots: Arc<Vec<Mutex<Slot>>> = Arc::new(
            (0..jobs.len())
                .map(|_| Mutex::new(Slot::default()))
                .collect(),
        );

        let mut runner = TaskRunner::new(self.concurrency)
            .idle_timeout(self.idle_timeout)
            .cancellation_token(self.cancel.clone());
        if let Some(cb) = self.on_event.clone() {
            let names = names.clone();
            runner = runner.on_progress(move |ev| {
                if let Some(ev) = to_dr_event(&names, ev) {
                    cb(ev);
                }
            });
        }
        tracing::info!(action = %action, targets = jobs.len(), unknown = resolved.unknown.len(), "DR action");
        let client = self.client.clone();
        let poll = self.poll_interval;
        let job_slots = slots.clone();
        let report = runner
            .run(jobs, move |job, ctx| {
                let client = client.clone();
                let slots = job_slots.clone();
                async move {
                    let slot = slots
                        .get(ctx.index())
                        .ok_or_else(|| Error::new(ErrorKind::Server, "DR job without a slot"))?;
                    run_job(&client, &job, action, power_on, poll, slot, &ctx).await
                }
            })
            .await;

        let outcomes: Vec<TargetOutcome> = report
            .into_results()
            .into_iter()
            .enumerate()
            .map(|(i, result)| {
                let slot = slots.get(i).map(|s| lock(s).clone()).unwrap_or_default();
                let (uuid, name) = names.get(i).cloned().unwrap_or_default();
                let status = match result {
                    Ok(()) => TargetStatus::Succeeded,
                    Err(_) if !slot.started => TargetStatus::NotStarted,
                    Err(_) if slot.interrupted => TargetStatus::Interrupted,
                    Err(e) if slot.unconfirmed => TargetStatus::Unconfirmed {
                        kind: e.kind(),
                        message: e.to_string(),
                    },
                    Err(e) if e.kind() == ErrorKind::Timeout => TargetStatus::TimedOut {
                        message: match &slot.status {
                            Some(st) => format!("{e} (last task status {st:?})"),
                            None => e.to_string(),
                        },
                    },
                    Err(e) => TargetStatus::Failed {
                        kind: e.kind(),
                        message: e.to_string(),
                    },
                };
                TargetOutcome {
                    uuid,
                    name,
                    status,
                    task_href: slot.task_href,
                    last_progress: slot.progress,
                }
            })
            .collect();
        let report = DrReport {
            action,
            outcomes,
            unknown_ids: resolved.unknown,
            duplicate_ids: resolved.duplicates,
            elapsed: started.elapsed(),
        };
        self.action_errors = report.action_errors();
        tracing::info!(
            action = %action,
            succeeded = report.succeeded().count(),
            failed = report.failed().count(),
            elapsed_ms = report.elapsed.as_millis() as u64,
            "DR action finished"
        );
        Ok(report)
    }
}

/// What one worker needs.
#[derive(Debug)]
struct Job {
    uuid: String,
    href: String,
}

/// What one worker leaves behind, also when it is timed out or cancelled.
#[derive(Debug, Clone, Default)]
struct Slot {
    started: bool,
    interrupted: bool,
    /// The request may have been applied, or the task was lost: the outcome is unknown.
    unconfirmed: bool,
    task_href: Option<String>,
    progress: Option<u8>,
    status: Option<String>,
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn to_dr_event(names: &[(String, Option<String>)], ev: ProgressEvent) -> Option<DrEvent> {
    let (index, kind) = match ev {
        ProgressEvent::Started { index } => (index, DrEventKind::Started),
        ProgressEvent::Progress {
            index,
            percent,
            message,
        } => (
            index,
            DrEventKind::Progress {
                percent: percent.map(|p| p.clamp(0.0, 100.0).round() as u8),
                status: message,
            },
        ),
        ProgressEvent::Finished { index, success } => (index, DrEventKind::Finished { success }),
        _ => return None,
    };
    let (uuid, name) = names.get(index)?.clone();
    Some(DrEvent {
        index,
        total: names.len(),
        uuid,
        name,
        kind,
    })
}

/// One VM: send the action, then poll its task until it ends.
async fn run_job(
    client: &VcdClient,
    job: &Job,
    action: DrAction,
    power_on: bool,
    poll: Duration,
    slot: &Mutex<Slot>,
    ctx: &JobContext,
) -> Result<()> {
    lock(slot).started = true;
    let target = format!(
        "{}/action/{}",
        job.href.trim_end_matches('/'),
        action.as_str()
    );
    let request = match action {
        DrAction::TestFailover => ApiRequest::post(target).body(
            TEST_FAILOVER_MEDIA,
            model::failover_params(&job.uuid, power_on, true),
        ),
        DrAction::Failover => ApiRequest::post(target).body(
            FAILOVER_MEDIA,
            model::failover_params(&job.uuid, power_on, false),
        ),
        DrAction::TestCleanup => ApiRequest::post(target),
    };
    // The action is a POST, sent once. A refusal (4xx/5xx with an answer) is a failure;
    // an answer lost on the way (or not a task) leaves the outcome unknown.
    let answer = match client.send(request).await {
        Err(e) if !answer_lost(&e) => return Err(e),
        other => other.and_then(|r| r.into_task()),
    };
    let mut task = answer.map_err(|e| {
        lock(slot).unconfirmed = true;
        e.context("the answer to the action was lost, so it may have been applied; read the replication before acting again")
    })?;
    {
        let mut s = lock(slot);
        s.task_href = Some(task.href.clone());
        s.progress = task.progress;
        s.status = Some(task.status.to_string());
    }
    ctx.progress(task.progress.map(f64::from), task.status.as_str());
    let mut last = (task.status.clone(), task.progress);
    let mut failures = 0;
    loop {
        // The same definition as TaskWaiter: only `success` succeeds; a status this
        // client does not know keeps the task waiting until the idle timeout.
        if task.completion()? {
            return Ok(());
        }
        if ctx.is_cancelled() {
            return Err(interrupted(slot));
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = ctx.cancelled() => return Err(interrupted(slot)),
        }
        match client.get_task(&task.href).await {
            Ok(t) => {
                failures = 0;
                let now = (t.status.clone(), t.progress);
                if now != last {
                    ctx.progress(t.progress.map(f64::from), t.status.as_str());
                    let mut s = lock(slot);
                    s.progress = t.progress;
                    s.status = Some(t.status.to_string());
                    drop(s);
                    last = now;
                }
                task = t;
            }
            Err(e) if poll_again(&e) && failures < MAX_POLL_FAILURES => {
                failures += 1;
                tracing::debug!(uuid = %job.uuid, error = %e, "task poll failed; retrying");
            }
            Err(e) => {
                lock(slot).unconfirmed = true;
                return Err(e.context(format!(
                    "the task {} was started but could not be read any more; its outcome is not known",
                    task.href
                )));
            }
        }
    }
}

/// Whether the error of the action's POST means its answer was lost on the way (so the
/// server may have applied it), rather than a refusal the server answered.
fn answer_lost(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Protocol
    )
}

/// Whether a failed task poll is worth another try: the task's state is a read, so
/// transport errors, timeouts, server errors (5xx) and a `401` that outlived the client's
/// one re-login (the new token expired before the repeated request: the next poll logs in
/// again) are polled through.
fn poll_again(e: &Error) -> bool {
    e.is_retryable() || matches!(e.kind(), ErrorKind::Server | ErrorKind::Authentication)
}

fn interrupted(slot: &Mutex<Slot>) -> Error {
    lock(slot).interrupted = true;
    Error::cancelled("cancelled while the task was running; the task was left running")
}

#[cfg(test)]
mod tests;
