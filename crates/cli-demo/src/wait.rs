//! `--wait`: poll until an object reaches its state with the library's `wait_for`, showing
//! a spinner with the state seen (only when stderr is a terminal). A failure state ends
//! the command with a non-zero exit and the state named.

use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nebulair_opennebula::OneClient;
use nebulair_opennebula::api::VmTarget;
use nebulair_opennebula::api::{WaitError, WaitOptions, WaitProgress};
use nebulair_opennebula::ids::{DocumentId, VmId};
use nebulair_opennebula::model::{LcmState, VmState};
use nebulair_opennebula::oneflow::{FlowClient, Service, ServiceState};

use crate::Ctx;
use crate::report::Failure;

/// The `--wait` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct WaitArgs {
    /// Wait until the object reaches its state (a failure state is an error).
    #[arg(long)]
    pub(crate) wait: bool,
    /// How long `--wait` may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, requires = "wait")]
    pub(crate) wait_timeout: u64,
}

impl WaitArgs {
    /// The library's options for these flags (`--timeout` also bounds the wait).
    pub(crate) fn options(&self, ctx: &Ctx) -> WaitOptions {
        let mut d = Duration::from_secs(self.wait_timeout);
        if let Some(t) = ctx.timeout {
            d = d.min(t);
        }
        WaitOptions::timeout(d)
            .interval(Duration::from_millis(200))
            .max_interval(Duration::from_secs(5))
    }
}

/// A spinner on stderr, drawn only on a terminal.
#[derive(Debug)]
pub(crate) struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    /// A spinner saying `what`; hidden unless stderr is a terminal.
    pub(crate) fn new(what: &str) -> Self {
        Self::with_visibility(what, std::io::IsTerminal::is_terminal(&std::io::stderr()))
    }

    /// A spinner drawn only when `visible`.
    pub(crate) fn with_visibility(what: &str, visible: bool) -> Self {
        if !visible {
            return Spinner { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner { bar: Some(bar) }
    }

    /// Whether it is drawn.
    #[cfg(test)]
    pub(crate) fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Shows the state seen at the last poll.
    pub(crate) fn update<T>(&self, p: &WaitProgress<'_, T>) {
        if let Some(b) = &self.bar {
            b.set_message(format!("({}, poll {})", p.state, p.attempt));
        }
    }

    /// Shows a message after the prefix (a vCD task's status and progress).
    pub(crate) fn message(&self, msg: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(msg.into());
        }
    }

    /// Removes the spinner.
    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The failure for a wait that did not end in the target: the state named in the message.
pub(crate) fn wait_failed(e: WaitError) -> Failure {
    let hint = match &e {
        WaitError::Failed { .. } => {
            Some("the object is in a failure state: see its log; `recover` may retry it")
        }
        WaitError::Timeout { .. } => {
            Some("raise --wait-timeout, or look at why it does not get there")
        }
        _ => None,
    };
    let f = Failure::new("waiting", nebulair_core::Error::from(e));
    match hint {
        Some(h) => f.hint(h),
        None => f,
    }
}

/// Waits for a OneFlow service to reach `target` with a spinner; `None` when it was
/// removed while waiting for DONE.
pub(crate) async fn wait_service(
    flow: &FlowClient,
    id: DocumentId,
    target: ServiceState,
    args: &WaitArgs,
    ctx: &Ctx,
) -> Result<Option<Service>, Failure> {
    let spinner = Spinner::new(&format!("service {id} → {target}"));
    let r = flow
        .services()
        .wait_for_with_progress(id, target, &args.options(ctx), &mut |p| spinner.update(p))
        .await;
    spinner.finish();
    r.map_err(wait_failed)
}

/// The state a VM action leads to, for `--wait` (`None` for resched/unresched).
pub(crate) fn vm_target(a: nebulair_opennebula::VmAction) -> Option<VmTarget> {
    use nebulair_opennebula::VmAction as A;
    Some(match a {
        A::Terminate | A::TerminateHard => VmTarget::State(VmState::Done),
        A::Undeploy | A::UndeployHard => VmTarget::State(VmState::Undeployed),
        A::Poweroff | A::PoweroffHard => VmTarget::State(VmState::Poweroff),
        A::Hold => VmTarget::State(VmState::Hold),
        A::Stop => VmTarget::State(VmState::Stopped),
        A::Suspend => VmTarget::State(VmState::Suspended),
        A::Reboot | A::RebootHard | A::Resume | A::Release => VmTarget::Lcm(LcmState::Running),
        _ => return None,
    })
}

/// Waits for a VM to reach `target` with a spinner.
pub(crate) async fn wait_vm(
    client: &OneClient,
    id: VmId,
    target: VmTarget,
    args: &WaitArgs,
    ctx: &Ctx,
) -> Result<(), Failure> {
    let spinner = Spinner::new(&format!("VM {id} → {target}"));
    let r = client
        .vm(id)
        .wait_for_with_progress(target, &args.options(ctx), &mut |p| spinner.update(p))
        .await;
    spinner.finish();
    r.map(drop).map_err(wait_failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_spinner_accepts_every_call() {
        let s = Spinner::with_visibility("x", false);
        assert!(!s.is_visible());
        s.message("(running, 40%)");
        s.finish();
    }
}
