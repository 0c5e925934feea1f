//! What a DR action reports: one outcome per target, the ids that were not targets, and
//! progress events while it runs.

use std::fmt;
use std::time::Duration;

use nebulair_core::ErrorKind;

/// A DR action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DrAction {
    /// `testFailover`: start a test copy of the VM at the recovery site.
    TestFailover,
    /// `failover`: fail the VM over to the recovery site.
    Failover,
    /// `testCleanup`: remove the test copy after a test failover.
    TestCleanup,
}

impl DrAction {
    /// The action's URL segment (`testFailover`, `failover`, `testCleanup`).
    pub fn as_str(self) -> &'static str {
        match self {
            DrAction::TestFailover => "testFailover",
            DrAction::Failover => "failover",
            DrAction::TestCleanup => "testCleanup",
        }
    }
}

impl fmt::Display for DrAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one target ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TargetStatus {
    /// The task ended with `success`.
    Succeeded,
    /// The request was refused, or the task ended in `error`, `canceled` or `aborted`
    /// (the message is the task's own error message), or its answer was malformed.
    Failed {
        /// The error kind.
        kind: ErrorKind,
        /// What went wrong.
        message: String,
    },
    /// The task's progress did not change for the idle timeout (or a request timed out).
    TimedOut {
        /// What timed out.
        message: String,
    },
    /// The outcome is not known, and this status says so instead of guessing: the answer to
    /// the action was lost (dropped connection, timeout, truncated or undecodable answer),
    /// so the server may have applied it; or the task was created but could not be read
    /// any more. Read the replication again (e.g.
    /// [`DisasterRecovery::fetch_replications`](super::DisasterRecovery::fetch_replications))
    /// before acting on this target again.
    Unconfirmed {
        /// The error kind of the lost answer or of the last failed task poll.
        kind: ErrorKind,
        /// What went wrong, and what is not known.
        message: String,
    },
    /// The action was cancelled before this target was started: nothing was sent.
    NotStarted,
    /// The action was cancelled while this target's task was running: the task was left
    /// running on the server, its href is in [`TargetOutcome::task_href`].
    Interrupted,
}

impl TargetStatus {
    /// Whether the target succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, TargetStatus::Succeeded)
    }
}

/// The outcome of one target.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TargetOutcome {
    /// The replication id.
    pub uuid: String,
    /// The VM's name, when known.
    pub name: Option<String>,
    /// How it ended.
    pub status: TargetStatus,
    /// The task the server started, when it answered with one.
    pub task_href: Option<String>,
    /// The last progress (0-100) seen.
    pub last_progress: Option<u8>,
}

/// One failed target, as vcloudair's `action_errors` tuple `(vm_uuid, vm_name, message)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// The replication id (as given, for unknown ids).
    pub vm_uuid: String,
    /// The VM's name (empty when unknown).
    pub vm_name: String,
    /// What went wrong.
    pub message: String,
}

impl ActionError {
    /// The error as vcloudair's tuple.
    pub fn as_tuple(&self) -> (&str, &str, &str) {
        (&self.vm_uuid, &self.vm_name, &self.message)
    }
}

impl From<ActionError> for (String, String, String) {
    fn from(e: ActionError) -> Self {
        (e.vm_uuid, e.vm_name, e.message)
    }
}

/// The result of a DR action: one [`TargetOutcome`] per target (in target order), plus
/// the given ids that were not targets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DrReport {
    /// The action.
    pub action: DrAction,
    /// One entry per target, in the order targets were resolved.
    pub outcomes: Vec<TargetOutcome>,
    /// Given ids that are not known replications (each reported once).
    pub unknown_ids: Vec<String>,
    /// Given ids that repeated an earlier one and were dropped.
    pub duplicate_ids: Vec<String>,
    /// How long the action took.
    pub elapsed: Duration,
}

impl DrReport {
    /// The targets that succeeded.
    pub fn succeeded(&self) -> impl Iterator<Item = &TargetOutcome> {
        self.outcomes.iter().filter(|o| o.status.is_success())
    }

    /// The targets that did not succeed.
    pub fn failed(&self) -> impl Iterator<Item = &TargetOutcome> {
        self.outcomes.iter().filter(|o| !o.status.is_success())
    }

    /// Whether every target succeeded and every given id was known.
    pub fn all_succeeded(&self) -> bool {
        self.unknown_ids.is_empty() && self.outcomes.iter().all(|o| o.status.is_success())
    }

    /// The outcome of one replication id.
    pub fn outcome(&self, uuid: &str) -> Option<&TargetOutcome> {
        self.outcomes
            .iter()
            .find(|o| o.uuid.eq_ignore_ascii_case(uuid.trim()))
    }

    /// Every problem as `(vm_uuid, vm_name, message)`: unknown ids first, then each
    /// target that did not succeed, in target order.
    pub fn action_errors(&self) -> Vec<ActionError> {
        let unknown = self.unknown_ids.iter().map(|id| ActionError {
            vm_uuid: id.clone(),
            vm_name: String::new(),
            message: "not a known replication id".to_owned(),
        });
        let failed = self.failed().map(|o| ActionError {
            vm_uuid: o.uuid.clone(),
            vm_name: o.name.clone().unwrap_or_default(),
            message: match &o.status {
                TargetStatus::Failed { message, .. }
                | TargetStatus::Unconfirmed { message, .. }
                | TargetStatus::TimedOut { message } => message.clone(),
                TargetStatus::NotStarted => "cancelled before it started".to_owned(),
                TargetStatus::Interrupted => format!(
                    "cancelled while running; task left running: {}",
                    o.task_href.as_deref().unwrap_or("unknown")
                ),
                TargetStatus::Succeeded => String::new(),
            },
        });
        unknown.chain(failed).collect()
    }
}

/// What happened to a target, as reported while an action (or detail fetch) runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DrEventKind {
    /// The target's request is being sent.
    Started,
    /// The target's task changed status or progress.
    Progress {
        /// Progress 0-100, when the task reports it.
        percent: Option<u8>,
        /// The task status (`queued`, `running`, ...).
        status: String,
    },
    /// The target ended (see the report for how).
    Finished {
        /// Whether it succeeded.
        success: bool,
    },
}

/// A progress event of one target, for progress bars.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DrEvent {
    /// The target's position (0-based) among [`total`](Self::total) targets.
    pub index: usize,
    /// How many targets the action has.
    pub total: usize,
    /// The replication id.
    pub uuid: String,
    /// The VM's name, when known.
    pub name: Option<String>,
    /// What happened.
    pub kind: DrEventKind,
}
