//! A bounded, ordered, cancellable runner for many jobs.
//!
//! [`TaskRunner`] runs N jobs with at most K at once, starting them in input order
//! (FIFO). Each job gets a [`JobContext`] to report progress; a job that reports nothing
//! for the idle timeout is failed with [`ErrorKind::Timeout`] (as vcloudair's DR does per
//! VM). The result is one entry per job, in input order: failures are collected, never
//! dropped, and a job that panics becomes an error too.
//!
//! ```
//! use std::time::Duration;
//! use nebulair_core::runner::TaskRunner;
//!
//! # async fn run() {
//! let runner = TaskRunner::new(4).idle_timeout(Duration::from_secs(60));
//! let report = runner
//!     .run(1..=10u32, |n, ctx| async move {
//!         ctx.progress(Some(50.0), "half way");
//!         if n == 7 { Err(nebulair_core::Error::invalid_input("seven")) } else { Ok(n * n) }
//!     })
//!     .await;
//! assert_eq!(report.len(), 10);
//! assert_eq!(report.succeeded().count(), 9);
//! assert_eq!(*report.results()[2].as_ref().expect("ok"), 9);
//! assert!(report.results()[6].is_err());
//! # }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run());
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};

/// What the runner reports while jobs run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// Job `index` started.
    Started {
        /// The job's position in the input.
        index: usize,
    },
    /// Job `index` reported progress.
    Progress {
        /// The job's position in the input.
        index: usize,
        /// Percent complete, when known.
        percent: Option<f64>,
        /// What the job is doing.
        message: String,
    },
    /// Job `index` ended (or was never started because the run was cancelled).
    Finished {
        /// The job's position in the input.
        index: usize,
        /// Whether it succeeded.
        success: bool,
    },
}

type ProgressFn = dyn Fn(ProgressEvent) + Send + Sync;

/// Handed to each job: its index, a way to report progress (which also resets the idle
/// timer), and the run's cancellation signal.
#[derive(Clone)]
pub struct JobContext {
    index: usize,
    heartbeat: Arc<watch::Sender<u64>>,
    cancel: CancellationToken,
    on_progress: Option<Arc<ProgressFn>>,
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("index", &self.index)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish()
    }
}

impl JobContext {
    /// The job's position in the input.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Reports progress: resets the idle timer and forwards a
    /// [`ProgressEvent::Progress`] to the runner's callback.
    pub fn progress(&self, percent: Option<f64>, message: impl Into<String>) {
        self.heartbeat();
        if let Some(cb) = &self.on_progress {
            cb(ProgressEvent::Progress {
                index: self.index,
                percent,
                message: message.into(),
            });
        }
    }

    /// Resets the idle timer without reporting anything.
    pub fn heartbeat(&self) {
        self.heartbeat.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether the run was cancelled. Running jobs decide themselves how to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the run is cancelled.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }
}

/// The outcome of a run: one result per job, in input order.
#[derive(Debug)]
pub struct RunReport<T> {
    results: Vec<Result<T>>,
}

impl<T> RunReport<T> {
    /// The results, in input order.
    pub fn results(&self) -> &[Result<T>] {
        &self.results
    }

    /// Consumes the report into its results, in input order.
    pub fn into_results(self) -> Vec<Result<T>> {
        self.results
    }

    /// How many jobs there were.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether there were no jobs.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The successful results with their indices.
    pub fn succeeded(&self) -> impl Iterator<Item = (usize, &T)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().ok().map(|v| (i, v)))
    }

    /// The failures with their indices.
    pub fn failed(&self) -> impl Iterator<Item = (usize, &Error)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
    }

    /// Whether every job succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.results.iter().all(Result::is_ok)
    }
}

/// Runs many jobs with bounded concurrency. See the [module docs](self).
#[derive(Clone)]
pub struct TaskRunner {
    concurrency: usize,
    idle_timeout: Option<Duration>,
    cancel: CancellationToken,
    on_progress: Option<Arc<ProgressFn>>,
}

impl fmt::Debug for TaskRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRunner")
            .field("concurrency", &self.concurrency)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl TaskRunner {
    /// A runner with at most `concurrency` jobs at once (at least 1), no idle timeout.
    pub fn new(concurrency: usize) -> Self {
        TaskRunner {
            concurrency: concurrency.max(1),
            idle_timeout: None,
            cancel: CancellationToken::new(),
            on_progress: None,
        }
    }

    /// Fails a job that reports no progress (see [`JobContext::progress`]) for `timeout`.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Calls `f` for every [`ProgressEvent`]. Called from the jobs' tasks: keep it quick.
    pub fn on_progress(mut self, f: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }

    /// Uses `token` for cancellation (e.g. one shared with a Ctrl-C handler).
    pub fn cancellation_token(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// The token that cancels this runner's runs: queued jobs are then not started (their
    /// result is an [`ErrorKind::Cancelled`] error) and running jobs see
    /// [`JobContext::is_cancelled`].
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The concurrency bound.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    fn emit(&self, event: ProgressEvent) {
        if let Some(cb) = &self.on_progress {
            cb(event);
        }
    }

    /// Runs `job` once per input, at most [`concurrency`](Self::concurrency) at once,
    /// started in input order, and returns one result per input in input order.
    ///
    /// Must be called within a Tokio runtime; jobs run as Tokio tasks.
    pub async fn run<I, T, F, Fut>(
        &self,
        inputs: impl IntoIterator<Item = I>,
        job: F,
    ) -> RunReport<T>
    where
        I: Send + 'static,
        T: Send + 'static,
        F: Fn(I, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let job = Arc::new(job);
        let mut pending = inputs.into_iter().enumerate();
        let mut results: Vec<Option<Result<T>>> = Vec::new();
        let mut set: JoinSet<(usize, Result<T>)> = JoinSet::new();
        let mut ids = std::collections::HashMap::new();
        let mut exhausted = false;

        loop {
            // Fill free slots in input order.
            while !exhausted && set.len() < self.concurrency && !self.cancel.is_cancelled() {
                let Some((index, input)) = pending.next() else {
                    exhausted = true;
                    break;
                };
                if results.len() <= index {
                    results.resize_with(index + 1, || None);
                }
                let (tx, rx) = watch::channel(0u64);
                let ctx = JobContext {
                    index,
                    heartbeat: Arc::new(tx),
                    cancel: self.cancel.clone(),
                    on_progress: self.on_progress.clone(),
                };
                self.emit(ProgressEvent::Started { index });
                let fut = job(input, ctx.clone());
                let idle = self.idle_timeout;
                let handle = set.spawn(async move {
                    let r = watch_idle(fut, rx, idle).await;
                    drop(ctx);
                    (index, r)
                });
                ids.insert(handle.id(), index);
            }

            let Some(joined) = set.join_next_with_id().await else {
                break;
            };
            let (index, result) = match joined {
                Ok((_, (index, result))) => (index, result),
                Err(join_err) => {
                    let index = ids.get(&join_err.id()).copied().unwrap_or(usize::MAX);
                    let msg = if join_err.is_panic() {
                        format!("job {index} panicked")
                    } else {
                        format!("job {index} was aborted")
                    };
                    (index, Err(Error::new(ErrorKind::Server, msg)))
                }
            };
            if let Some(slot) = results.get_mut(index) {
                self.emit(ProgressEvent::Finished {
                    index,
                    success: result.is_ok(),
                });
                *slot = Some(result);
            }
        }

        // Jobs never started because of cancellation.
        for (index, _input) in pending {
            if results.len() <= index {
                results.resize_with(index + 1, || None);
            }
            self.emit(ProgressEvent::Finished {
                index,
                success: false,
            });
            results[index] = Some(Err(Error::cancelled(format!(
                "job {index} was cancelled before it started"
            ))));
        }
        RunReport {
            results: results
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    r.unwrap_or_else(|| {
                        Err(Error::cancelled(format!(
                            "job {i} was cancelled before it started"
                        )))
                    })
                })
                .collect(),
        }
    }
}

/// Runs `fut`, failing it when `heartbeats` does not change for `idle`.
async fn watch_idle<T>(
    fut: impl Future<Output = Result<T>>,
    mut heartbeats: watch::Receiver<u64>,
    idle: Option<Duration>,
) -> Result<T> {
    let Some(idle) = idle else {
        return fut.await;
    };
    tokio::pin!(fut);
    loop {
        tokio::select! {
            biased;
            r = &mut fut => return r,
            beat = tokio::time::timeout(idle, heartbeats.changed()) => match beat {
                Ok(Ok(())) => continue,
                // Every sender is gone: the job cannot report progress any more.
                Ok(Err(_)) => return fut.await,
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("no progress for {} s (idle timeout)", idle.as_secs_f64()),
                    ))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn concurrency_bound_is_respected_and_results_are_in_order() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (r, p) = (running.clone(), peak.clone());
        let report = TaskRunner::new(3)
            .run(0..20u64, move |i, _ctx| {
                let (r, p) = (r.clone(), p.clone());
                async move {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(now, Ordering::SeqCst);
                    // Later jobs finish sooner, so completion order differs from input order.
                    tokio::time::sleep(Duration::from_millis(100 - i * 3)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    Ok(i * 10)
                }
            })
            .await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let values: Vec<u64> = report
            .into_results()
            .into_iter()
            .map(|r| r.expect("ok"))
            .collect();
        assert_eq!(values, (0..20).map(|i| i * 10).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn jobs_start_in_fifo_order() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let o = order.clone();
        TaskRunner::new(2)
            .run(0..8usize, move |i, _| {
                let o = o.clone();
                async move {
                    o.lock().expect("lock").push(i);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Ok(())
                }
            })
            .await;
        assert_eq!(*order.lock().expect("lock"), (0..8).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn failures_and_panics_are_collected_not_dropped() {
        let report = TaskRunner::new(4)
            .run(0..6u32, |i, _| async move {
                match i {
                    2 => Err(Error::new(ErrorKind::Server, "task failed")),
                    4 => panic!("boom"),
                    _ => Ok(i),
                }
            })
            .await;
        assert_eq!(report.len(), 6);
        let failed: Vec<usize> = report.failed().map(|(i, _)| i).collect();
        assert_eq!(failed, vec![2, 4]);
        assert!(
            report.results()[4]
                .as_ref()
                .expect_err("panic")
                .message()
                .contains("panicked")
        );
        assert!(!report.all_succeeded());
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_fires_without_progress_and_resets_with_it() {
        let report = TaskRunner::new(2)
            .idle_timeout(Duration::from_secs(10))
            .run([false, true], |reports, ctx| async move {
                for step in 0..5 {
                    tokio::time::sleep(Duration::from_secs(6)).await;
                    if reports {
                        ctx.progress(Some(step as f64 * 20.0), "working");
                    }
                }
                Ok("done")
            })
            .await;
        // 30 s in total, but progress every 6 s keeps the second job alive.
        let silent = report.results()[0].as_ref().expect_err("idle");
        assert_eq!(silent.kind(), ErrorKind::Timeout);
        assert_eq!(*report.results()[1].as_ref().expect("alive"), "done");
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_stops_queued_jobs_and_keeps_running_results() {
        let runner = TaskRunner::new(2);
        let token = runner.cancel_token();
        let started = Arc::new(AtomicUsize::new(0));
        let s = started.clone();
        let report = runner
            .run(0..10usize, move |i, ctx| {
                let (s, token) = (s.clone(), token.clone());
                async move {
                    s.fetch_add(1, Ordering::SeqCst);
                    if i == 1 {
                        token.cancel();
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if ctx.is_cancelled() {
                        return Ok(format!("job {i} stopped, task recorded"));
                    }
                    Ok(format!("job {i} done"))
                }
            })
            .await;
        assert_eq!(started.load(Ordering::SeqCst), 2);
        assert_eq!(report.len(), 10);
        assert!(report.results()[0].is_ok() && report.results()[1].is_ok());
        for r in &report.results()[2..] {
            assert_eq!(
                r.as_ref().expect_err("cancelled").kind(),
                ErrorKind::Cancelled
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn progress_events_are_delivered() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let e = events.clone();
        TaskRunner::new(1)
            .on_progress(move |ev| e.lock().expect("lock").push(ev))
            .run([7u8], |_, ctx| async move {
                ctx.progress(Some(50.0), "half");
                Ok(())
            })
            .await;
        let events = events.lock().expect("lock").clone();
        assert_eq!(
            events,
            vec![
                ProgressEvent::Started { index: 0 },
                ProgressEvent::Progress {
                    index: 0,
                    percent: Some(50.0),
                    message: "half".into()
                },
                ProgressEvent::Finished {
                    index: 0,
                    success: true
                },
            ]
        );
    }

    #[tokio::test]
    async fn empty_input_gives_empty_report() {
        let report = TaskRunner::new(5)
            .run(Vec::<u8>::new(), |_, _| async { Ok(()) })
            .await;
        assert!(report.is_empty());
    }
}
