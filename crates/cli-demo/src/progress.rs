//! Progress for long operations: an `indicatif` bar when stdout is a terminal, nothing
//! (or one summary line, printed by the caller) otherwise, so scripts and logs stay clean.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that is only drawn on a terminal.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `total` steps labelled `label`; hidden unless stdout is a terminal.
    pub(crate) fn new(total: u64, label: &str) -> Self {
        Self::with_visibility(total, label, crate::output::stdout_is_terminal())
    }

    /// A bar that is drawn only when `visible`.
    pub(crate) fn with_visibility(total: u64, label: &str, visible: bool) -> Self {
        if !visible {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:40.cyan/blue}] {pos}/{len} {elapsed_precise} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    /// Whether the bar is drawn.
    #[cfg(test)]
    pub(crate) fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Advances by one finished step.
    pub(crate) fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Sets the message shown after the counter.
    pub(crate) fn message(&self, msg: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(msg.into());
        }
    }

    /// Removes the bar from the screen.
    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_bar_accepts_every_call() {
        let p = Progress::with_visibility(3, "x", false);
        assert!(!p.is_visible());
        p.inc();
        p.message("m");
        p.finish();
    }
}
