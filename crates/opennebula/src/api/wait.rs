//! Waiting for states: `client.vm(id).wait_for(LcmState::Running, &WaitOptions::default())`.
//!
//! Every resource with states has a `wait_for` on its handle (VM, host, image, virtual
//! network, marketplace app; a backup job has [`BackupJobHandle::wait_for_backups`], a
//! OneFlow service has its own in [`crate::oneflow`]). A wait polls the object's `info`
//! with a poll interval that grows by [`WaitOptions::backoff`] up to
//! [`WaitOptions::max_interval`], until:
//!
//! * the object is in the target state: `Ok(object)` (the last document read);
//! * the object is in a state it cannot leave by itself towards the target, a failure
//!   state (`FAILED`, `CLONING_FAILURE`, any `*_FAILURE` LCM state, `UNKNOWN`; `DONE` when
//!   DONE is not the target; `ERROR` for hosts, images, networks and apps):
//!   [`WaitError::Failed`] naming the state;
//! * the deadline passes: [`WaitError::Timeout`] with the last state seen.
//!
//! Transient states are on the way: a VM in PENDING, PROLOG or BOOT is going to RUNNING;
//! an image in LOCKED is going to READY; a host in MONITORING_INIT to MONITORED. Errors of
//! the `info` call that may pass ([`Error::is_retryable`]) are retried until the deadline;
//! other errors end the wait as [`WaitError::Call`].
//!
//! The `_with_progress` forms call a callback after each poll with a [`WaitProgress`]
//! (attempt, elapsed time, state, object) — the CLI draws its spinner with it.
//!
//! [`WaitError`] converts into the crate's [`Error`] (kind `Timeout` for the deadline,
//! `Server` for a failure state) so `?` works in functions returning [`crate::Result`].

use std::fmt;
use std::future::Future;
use std::time::Duration;

use nebulair_core::{Error, ErrorKind};

use super::{BackupJobHandle, HostHandle, ImageHandle, MarketAppHandle, VmHandle, VnetHandle};
use crate::ids::VmId;
use crate::model::{
    BackupJob, Host, HostState, Image, ImageState, LcmState, MarketAppState, MarketplaceApp, Vm,
    VmState, Vnet, VnetState,
};

/// How long to wait and how often to look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    timeout: Duration,
    interval: Duration,
    max_interval: Duration,
    backoff: f64,
}

impl Default for WaitOptions {
    /// Five minutes, polling after 1 s, then 1.5 times longer each time, at most every 10 s.
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(300),
            interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            backoff: 1.5,
        }
    }
}

impl WaitOptions {
    /// The default options with another deadline.
    pub fn timeout(timeout: Duration) -> Self {
        WaitOptions {
            timeout,
            ..WaitOptions::default()
        }
    }

    /// Sets the deadline (measured from the start of the wait).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the first poll interval (also the smallest).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the largest poll interval.
    pub fn max_interval(mut self, max: Duration) -> Self {
        self.max_interval = max;
        self
    }

    /// Sets the factor by which the interval grows after each poll (values below 1 are
    /// read as 1, a fixed interval).
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = factor;
        self
    }

    /// The deadline.
    pub fn deadline(&self) -> Duration {
        self.timeout
    }

    /// The poll intervals this wait uses, in order (the first `n`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use nebulair_opennebula::api::WaitOptions;
    ///
    /// let o = WaitOptions::default().interval(Duration::from_millis(100))
    ///     .max_interval(Duration::from_millis(300)).backoff(2.0);
    /// let ms: Vec<u128> = o.intervals(4).iter().map(Duration::as_millis).collect();
    /// assert_eq!(ms, [100, 200, 300, 300]);
    /// ```
    pub fn intervals(&self, n: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        let mut d = self.interval;
        for _ in 0..n {
            out.push(d);
            d = self.next_interval(d);
        }
        out
    }

    fn next_interval(&self, d: Duration) -> Duration {
        let factor = if self.backoff.is_finite() && self.backoff > 1.0 {
            self.backoff
        } else {
            1.0
        };
        let max = self.max_interval.max(self.interval);
        Duration::try_from_secs_f64(d.as_secs_f64() * factor)
            .unwrap_or(max)
            .min(max)
    }
}

/// The state of an object as a wait saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObservedState {
    /// A VM (the LCM state matters when the VM is ACTIVE).
    Vm(VmState, LcmState),
    /// A host.
    Host(HostState),
    /// An image.
    Image(ImageState),
    /// A virtual network.
    Vnet(VnetState),
    /// A marketplace app.
    MarketApp(MarketAppState),
    /// A backup job: the VMs still to back up, being backed up and failed.
    BackupJob {
        /// `OUTDATED_VMS`.
        outdated: Vec<VmId>,
        /// `BACKING_UP_VMS`.
        backing_up: Vec<VmId>,
        /// `ERROR_VMS`.
        error: Vec<VmId>,
    },
    /// A OneFlow service.
    #[cfg(feature = "oneflow")]
    Service(crate::onegate::ServiceState),
    /// The document carried no state.
    Missing,
}

impl fmt::Display for ObservedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObservedState::Vm(VmState::Active, lcm) => write!(f, "ACTIVE/{lcm}"),
            ObservedState::Vm(s, _) => write!(f, "{s}"),
            ObservedState::Host(s) => write!(f, "{s}"),
            ObservedState::Image(s) => write!(f, "{s}"),
            ObservedState::Vnet(s) => write!(f, "{s}"),
            ObservedState::MarketApp(s) => write!(f, "{s}"),
            ObservedState::BackupJob {
                outdated,
                backing_up,
                error,
            } => write!(
                f,
                "{} outdated, {} backing up, {} failed",
                outdated.len(),
                backing_up.len(),
                error.len()
            ),
            #[cfg(feature = "oneflow")]
            ObservedState::Service(s) => write!(f, "{s}"),
            ObservedState::Missing => f.write_str("no state"),
        }
    }
}

/// Why a wait ended without reaching its target.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The object went into a state it will not leave towards the target by itself.
    #[error("{subject} is in {state} (a failure state) while waiting for {target}")]
    Failed {
        /// What was waited for (`VM 42`).
        subject: String,
        /// The target (`RUNNING`).
        target: String,
        /// The state it is in.
        state: ObservedState,
    },
    /// The deadline passed.
    #[error("{subject} did not reach {target} within {elapsed:?} (last state: {state})")]
    Timeout {
        /// What was waited for.
        subject: String,
        /// The target.
        target: String,
        /// The last state seen ([`ObservedState::Missing`] when no poll succeeded).
        state: ObservedState,
        /// How long the wait lasted.
        elapsed: Duration,
    },
    /// Reading the object failed (not found, authorization, a non-retryable error).
    #[error(transparent)]
    Call(#[from] Error),
}

impl WaitError {
    /// The state the object was last seen in (`None` for [`WaitError::Call`]).
    pub fn state(&self) -> Option<&ObservedState> {
        match self {
            WaitError::Failed { state, .. } | WaitError::Timeout { state, .. } => Some(state),
            WaitError::Call(_) => None,
        }
    }

    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::Timeout { .. })
    }

    /// Whether the object reached a failure state.
    pub fn is_failed(&self) -> bool {
        matches!(self, WaitError::Failed { .. })
    }
}

impl From<WaitError> for Error {
    fn from(e: WaitError) -> Error {
        match e {
            WaitError::Call(e) => e,
            other => {
                let kind = if other.is_timeout() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Server
                };
                Error::with_source(kind, other.to_string(), other)
            }
        }
    }
}

/// What a poll found, passed to the progress callback.
#[derive(Debug)]
#[non_exhaustive]
pub struct WaitProgress<'a, T> {
    /// 1 for the first poll.
    pub attempt: u32,
    /// Time since the wait started.
    pub elapsed: Duration,
    /// The state seen.
    pub state: &'a ObservedState,
    /// The document read.
    pub object: &'a T,
}

/// Where an object is relative to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Reached,
    OnTheWay,
    Failed,
}

/// The polling loop shared by every `wait_for`.
pub(crate) async fn poll<T, Fut, F, C>(
    subject: String,
    target: String,
    opts: &WaitOptions,
    mut fetch: F,
    classify: C,
    progress: &mut (dyn FnMut(&WaitProgress<'_, T>) + Send),
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = crate::Result<T>>,
    C: Fn(&T) -> (Step, ObservedState),
{
    let start = tokio::time::Instant::now();
    let mut interval = opts.interval;
    let mut attempt = 0u32;
    let mut last = ObservedState::Missing;
    loop {
        attempt = attempt.saturating_add(1);
        match fetch().await {
            Ok(obj) => {
                let (step, state) = classify(&obj);
                progress(&WaitProgress {
                    attempt,
                    elapsed: start.elapsed(),
                    state: &state,
                    object: &obj,
                });
                tracing::debug!(%subject, %target, %state, attempt, "wait poll");
                match step {
                    Step::Reached => return Ok(obj),
                    Step::Failed => {
                        return Err(WaitError::Failed {
                            subject,
                            target,
                            state,
                        });
                    }
                    Step::OnTheWay => last = state,
                }
            }
            Err(e) if e.is_retryable() => {
                tracing::debug!(%subject, error = %e, attempt, "wait poll failed; retrying");
            }
            Err(e) => return Err(WaitError::Call(e.context(format!("waiting for {subject}")))),
        }
        let elapsed = start.elapsed();
        if elapsed >= opts.timeout {
            return Err(WaitError::Timeout {
                subject,
                target,
                state: last,
                elapsed,
            });
        }
        tokio::time::sleep(interval.min(opts.timeout - elapsed)).await;
        interval = opts.next_interval(interval);
    }
}

fn no_progress<T>(_: &WaitProgress<'_, T>) {}

/// The target of a VM wait: a main state (`POWEROFF`, `DONE`, ...) or an LCM state of an
/// ACTIVE VM (`RUNNING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmTarget {
    /// The VM's `STATE`.
    State(VmState),
    /// `STATE` ACTIVE and this `LCM_STATE`.
    Lcm(LcmState),
}

impl From<VmState> for VmTarget {
    fn from(s: VmState) -> Self {
        VmTarget::State(s)
    }
}

impl From<LcmState> for VmTarget {
    fn from(s: LcmState) -> Self {
        VmTarget::Lcm(s)
    }
}

impl fmt::Display for VmTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmTarget::State(s) => write!(f, "{s}"),
            VmTarget::Lcm(l) => write!(f, "{l}"),
        }
    }
}

/// Whether an LCM state is a failure the VM does not leave by itself.
pub fn is_lcm_failure(lcm: LcmState) -> bool {
    lcm == LcmState::Failure
        || lcm == LcmState::LcmUnknown
        || lcm.name().is_some_and(|n| n.ends_with("_FAILURE"))
}

/// Where a VM in `state`/`lcm` is relative to `target`.
pub(crate) fn vm_step(target: VmTarget, state: VmState, lcm: LcmState) -> Step {
    let reached = match target {
        VmTarget::State(s) => state == s,
        VmTarget::Lcm(l) => state == VmState::Active && lcm == l,
    };
    if reached {
        return Step::Reached;
    }
    let failed = match state {
        VmState::Failed | VmState::CloningFailure | VmState::Done => true,
        VmState::Active => is_lcm_failure(lcm),
        _ => false,
    };
    if failed { Step::Failed } else { Step::OnTheWay }
}

impl VmHandle<'_> {
    /// Waits until the VM is in `target` (`LcmState::Running`, `VmState::Poweroff`, ...).
    ///
    /// # Errors
    /// [`WaitError::Failed`] when the VM reaches a failure state on the way,
    /// [`WaitError::Timeout`] at the deadline, [`WaitError::Call`] when `one.vm.info`
    /// fails (e.g. the VM does not exist).
    pub async fn wait_for(
        &self,
        target: impl Into<VmTarget>,
        opts: &WaitOptions,
    ) -> Result<Vm, WaitError> {
        self.wait_for_with_progress(target, opts, &mut no_progress)
            .await
    }

    /// As [`VmHandle::wait_for`], calling `progress` after each poll.
    ///
    /// # Errors
    /// As [`VmHandle::wait_for`].
    pub async fn wait_for_with_progress(
        &self,
        target: impl Into<VmTarget>,
        opts: &WaitOptions,
        progress: &mut (dyn FnMut(&WaitProgress<'_, Vm>) + Send),
    ) -> Result<Vm, WaitError> {
        let target = target.into();
        poll(
            format!("VM {}", self.id()),
            target.to_string(),
            opts,
            || self.info(),
            |vm: &Vm| match (vm.state(), vm.lcm_state()) {
                (Some(s), lcm) => {
                    let lcm = lcm.unwrap_or(LcmState::LcmInit);
                    (vm_step(target, s, lcm), ObservedState::Vm(s, lcm))
                }
                (None, _) => (Step::OnTheWay, ObservedState::Missing),
            },
            progress,
        )
        .await
    }
}

macro_rules! simple_waits {
    ($($handle:ident => $what:literal, $model:ident, $state:ident, $obs:ident, $info:literal, [$($fail:ident),*]);+ $(;)?) => {$(
        impl $handle<'_> {
            #[doc = concat!("Waits until the ", $what, " is in `target`.")]
            ///
            #[doc = concat!("Failure states (unless they are the target): ", $(concat!("`", stringify!($fail), "` "),)* ".")]
            ///
            /// # Errors
            #[doc = concat!("[`WaitError::Failed`] for a failure state, [`WaitError::Timeout`] at the deadline, [`WaitError::Call`] when `", $info, "` fails.")]
            pub async fn wait_for(&self, target: $state, opts: &WaitOptions) -> Result<$model, WaitError> {
                self.wait_for_with_progress(target, opts, &mut no_progress).await
            }

            #[doc = concat!("As `wait_for`, calling `progress` after each poll.")]
            ///
            /// # Errors
            /// As `wait_for`.
            pub async fn wait_for_with_progress(
                &self,
                target: $state,
                opts: &WaitOptions,
                progress: &mut (dyn FnMut(&WaitProgress<'_, $model>) + Send),
            ) -> Result<$model, WaitError> {
                poll(
                    format!(concat!($what, " {}"), self.id()),
                    target.to_string(),
                    opts,
                    || self.info(),
                    |o: &$model| match o.state() {
                        Some(s) if s == target => (Step::Reached, ObservedState::$obs(s)),
                        Some(s) if [$($state::$fail),*].contains(&s) => (Step::Failed, ObservedState::$obs(s)),
                        Some(s) => (Step::OnTheWay, ObservedState::$obs(s)),
                        None => (Step::OnTheWay, ObservedState::Missing),
                    },
                    progress,
                )
                .await
            }
        }
    )+};
}

simple_waits! {
    HostHandle => "host", Host, HostState, Host, "one.host.info", [Error, MonitoringError];
    ImageHandle => "image", Image, ImageState, Image, "one.image.info", [Error, Delete];
    VnetHandle => "virtual network", Vnet, VnetState, Vnet, "one.vn.info", [Error, UpdateFailure, Done];
    MarketAppHandle => "marketplace app", MarketplaceApp, MarketAppState, MarketApp, "one.marketapp.info", [Error];
}

impl Vnet {
    /// The network's state, if the document carried one.
    pub fn state(&self) -> Option<VnetState> {
        self.state.map(VnetState::from_code)
    }
}

impl BackupJob {
    /// What the job's VM lists say (outdated, backing up, failed).
    pub fn backup_state(&self) -> ObservedState {
        ObservedState::BackupJob {
            outdated: self.outdated_vms.clone(),
            backing_up: self.backing_up_vms.clone(),
            error: self.error_vms.clone(),
        }
    }
}

impl BackupJobHandle<'_> {
    /// Waits until the job has no VM left to back up or being backed up (after
    /// `backup()`), i.e. its last run finished.
    ///
    /// # Errors
    /// [`WaitError::Failed`] when a VM is in `ERROR_VMS` (the state names the VMs),
    /// [`WaitError::Timeout`] at the deadline, [`WaitError::Call`] when
    /// `one.backupjob.info` fails.
    pub async fn wait_for_backups(&self, opts: &WaitOptions) -> Result<BackupJob, WaitError> {
        self.wait_for_backups_with_progress(opts, &mut no_progress)
            .await
    }

    /// As [`BackupJobHandle::wait_for_backups`], calling `progress` after each poll.
    ///
    /// # Errors
    /// As [`BackupJobHandle::wait_for_backups`].
    pub async fn wait_for_backups_with_progress(
        &self,
        opts: &WaitOptions,
        progress: &mut (dyn FnMut(&WaitProgress<'_, BackupJob>) + Send),
    ) -> Result<BackupJob, WaitError> {
        poll(
            format!("backup job {}", self.id()),
            "no VM outdated or backing up".to_owned(),
            opts,
            || self.info(),
            |j: &BackupJob| {
                let step = if !j.error_vms.is_empty() {
                    Step::Failed
                } else if j.outdated_vms.is_empty() && j.backing_up_vms.is_empty() {
                    Step::Reached
                } else {
                    Step::OnTheWay
                };
                (step, j.backup_state())
            },
            progress,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_steps() {
        let running = VmTarget::from(LcmState::Running);
        assert_eq!(
            vm_step(running, VmState::Active, LcmState::Running),
            Step::Reached
        );
        for lcm in [LcmState::Prolog, LcmState::Boot, LcmState::LcmInit] {
            assert_eq!(
                vm_step(running, VmState::Active, lcm),
                Step::OnTheWay,
                "{lcm}"
            );
        }
        assert_eq!(
            vm_step(running, VmState::Pending, LcmState::LcmInit),
            Step::OnTheWay
        );
        for lcm in [
            LcmState::BootFailure,
            LcmState::PrologFailure,
            LcmState::Failure,
            LcmState::LcmUnknown,
        ] {
            assert_eq!(
                vm_step(running, VmState::Active, lcm),
                Step::Failed,
                "{lcm}"
            );
        }
        assert_eq!(
            vm_step(running, VmState::Done, LcmState::LcmInit),
            Step::Failed
        );
        assert_eq!(
            vm_step(running, VmState::Failed, LcmState::LcmInit),
            Step::Failed
        );
        let done = VmTarget::from(VmState::Done);
        assert_eq!(
            vm_step(done, VmState::Done, LcmState::LcmInit),
            Step::Reached
        );
        assert_eq!(
            vm_step(done, VmState::Active, LcmState::Epilog),
            Step::OnTheWay
        );
    }

    #[test]
    fn intervals_grow_to_the_cap_and_bad_factors_are_fixed() {
        let o = WaitOptions::default()
            .interval(Duration::from_secs(1))
            .max_interval(Duration::from_secs(3))
            .backoff(f64::NAN);
        assert_eq!(o.intervals(3), vec![Duration::from_secs(1); 3]);
        let e: Error = WaitError::Timeout {
            subject: "VM 1".into(),
            target: "RUNNING".into(),
            state: ObservedState::Vm(VmState::Pending, LcmState::LcmInit),
            elapsed: Duration::from_secs(1),
        }
        .into();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.to_string().contains("PENDING"), "{e}");
    }
}
