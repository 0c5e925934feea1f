//! Exponential backoff with jitter, for idempotent requests only.
//!
//! A [`RetryPolicy`] says how often and how long to wait; [`RetryPolicy::run`] applies it
//! to any async operation, and [`RetryTransport`] applies it to every request of an
//! [`HttpTransport`] that is marked idempotent. Requests that are not idempotent (an
//! OpenNebula action, a vCD POST) are sent exactly once, whatever happens.
//!
//! ```
//! use std::time::Duration;
//! use nebulair_core::RetryPolicy;
//!
//! let policy = RetryPolicy::default()
//!     .max_retries(4)
//!     .initial_backoff(Duration::from_millis(100))
//!     .max_backoff(Duration::from_secs(2));
//! // The n-th delay is at most min(cap, initial * 2^n) and at least half of it.
//! let d = policy.backoff(3);
//! assert!(d >= Duration::from_millis(400) && d <= Duration::from_millis(800));
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::transport::{HttpRequest, HttpResponse, HttpTransport};

/// How failed idempotent operations are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    jitter: bool,
}

impl Default for RetryPolicy {
    /// Three retries, starting at 200 ms, doubling, capped at 5 s, with jitter.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How many times a failed attempt is repeated (0: never).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The delay before the first retry (before jitter).
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The longest delay between two attempts.
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The growth factor between delays (at least 1.0).
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = if m.is_finite() { m.max(1.0) } else { 2.0 };
        self
    }

    /// Whether delays are randomised (between half and all of the computed delay), so
    /// that many clients do not retry in step. On by default.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The configured number of retries.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The delay before retry number `attempt` (0-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.initial_backoff.as_secs_f64() * self.multiplier.powi(attempt as i32);
        let capped = base.min(self.max_backoff.as_secs_f64()).max(0.0);
        let secs = if self.jitter {
            capped / 2.0 + fastrand::f64() * capped / 2.0
        } else {
            capped
        };
        Duration::from_secs_f64(secs)
    }

    /// Runs `op`, and when `idempotent` is true repeats it after a backoff delay while it
    /// fails with a retryable error ([`Error::is_retryable`]) and retries remain.
    /// A non-idempotent operation runs exactly once.
    pub async fn run<T, F, Fut>(&self, idempotent: bool, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.run_if(idempotent, Error::is_retryable, &mut op).await
    }

    /// As [`run`](Self::run), with a custom predicate deciding which errors are retried
    /// (e.g. an edge gateway that answers "busy").
    pub async fn run_if<T, F, Fut>(
        &self,
        idempotent: bool,
        retry_on: impl Fn(&Error) -> bool,
        op: &mut F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 0;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if idempotent && attempt < self.max_retries && retry_on(&e) => {
                    let delay = self.backoff(attempt);
                    tracing::debug!(attempt = attempt + 1, ?delay, error = %e, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// An [`HttpTransport`] that retries idempotent requests per a [`RetryPolicy`].
///
/// Only transport failures and timeouts are retried here (a response with any status is
/// passed through, since whether a 503 is worth repeating is the provider's call).
#[derive(Debug, Clone)]
pub struct RetryTransport {
    inner: Arc<dyn HttpTransport>,
    policy: RetryPolicy,
}

impl RetryTransport {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn HttpTransport>, policy: RetryPolicy) -> Self {
        RetryTransport { inner, policy }
    }
}

#[async_trait]
impl HttpTransport for RetryTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let idempotent = request.idempotent;
        self.policy
            .run(idempotent, || self.inner.send(request.clone()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::transport::MockTransport;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy::default()
            .max_retries(3)
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(40))
    }

    #[tokio::test(start_paused = true)]
    async fn idempotent_operations_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let out = fast()
            .run(true, || async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n < 2 {
                    Err(Error::new(ErrorKind::Transport, "reset"))
                } else {
                    Ok(n)
                }
            })
            .await
            .expect("succeeds on third try");
        assert_eq!(out, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn non_idempotent_operations_run_once() {
        let calls = AtomicU32::new(0);
        let err = fast()
            .run(false, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorKind::Transport, "reset"))
            })
            .await
            .expect_err("fails");
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let _ = fast()
            .run(true, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorKind::NotFound, "gone"))
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_retries_and_waits_between() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let policy = fast().jitter(false);
        let _ = policy
            .run(true, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorKind::Timeout, "slow"))
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        // 10 + 20 + 40 ms of (virtual) sleeping without jitter.
        assert_eq!(start.elapsed(), Duration::from_millis(70));
    }

    #[test]
    fn backoff_grows_is_capped_and_jitters_within_bounds() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(1));
        for attempt in 0..10 {
            let full = (0.1 * 2f64.powi(attempt)).min(1.0);
            for _ in 0..50 {
                let d = p.backoff(attempt as u32).as_secs_f64();
                assert!(d >= full / 2.0 - 1e-9 && d <= full + 1e-9, "{attempt}: {d}");
            }
        }
        let nj = p.clone().jitter(false);
        assert_eq!(nj.backoff(0), Duration::from_millis(100));
        assert_eq!(nj.backoff(20), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_transport_only_repeats_idempotent_requests() {
        let url: url::Url = "http://h/".parse().expect("url");
        let mock = Arc::new(MockTransport::new());
        mock.push_error(Error::new(ErrorKind::Transport, "reset"));
        mock.push_response(HttpResponse::new(200, "ok"));
        let t = RetryTransport::new(mock.clone(), fast());
        let r = t
            .send(HttpRequest::get(url.clone()))
            .await
            .expect("retried");
        assert_eq!(r.body_str().expect("s"), "ok");
        assert_eq!(mock.request_count(), 2);

        let mock = Arc::new(MockTransport::new());
        mock.push_error(Error::new(ErrorKind::Transport, "reset"));
        mock.push_response(HttpResponse::new(200, "ok"));
        let t = RetryTransport::new(mock.clone(), fast());
        t.send(HttpRequest::post(url, "action"))
            .await
            .expect_err("not retried");
        assert_eq!(mock.request_count(), 1);
    }
}
