//! Exponential backoff with jitter, for idempotent requests only.
//!
//! A [`RetryPolicy`] says how often and how long to wait; [`RetryPolicy::run`] applies it
//! to any async operation, and [`RetryTransport`] applies it to every request of an
//! [`HttpTransport`] that is marked idempotent. Requests that are not idempotent (an
//! OpenNebula action, a vCD POST) are sent exactly once, whatever happens.
//!
//! Every retry is logged with `tracing::warn!`, naming the attempt and the cause. A
//! server's `Retry-After` (on 429 and 503, see [`Error::retry_after`]) is honoured, capped
//! by [`max_retry_after`](RetryPolicy::max_retry_after). An optional overall
//! [`deadline`](RetryPolicy::deadline) bounds all attempts and waits together.
//!
//! ```
//! use std::time::Duration;
//! use nebulair_core::RetryPolicy;
//!
//! let policy = RetryPolicy::default()
//!     .max_retries(4)
//!     .initial_backoff(Duration::from_millis(100))
//!     .max_backoff(Duration::from_secs(2))
//!     .deadline(Duration::from_secs(30));
//! // The n-th delay is at most min(cap, initial * 2^n) and at least half of it.
//! let d = policy.backoff(3);
//! assert!(d >= Duration::from_millis(400) && d <= Duration::from_millis(800));
//! assert_eq!(policy.get_deadline(), Some(Duration::from_secs(30)));
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result, display_chain};
use crate::transport::{HttpRequest, HttpResponse, HttpTransport};

/// The default cap on a server's `Retry-After`: 30 s.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// How failed idempotent operations are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    jitter: bool,
    deadline: Option<Duration>,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, starting at 200 ms, doubling, capped at 5 s, with jitter;
    /// `Retry-After` honoured up to 30 s; no overall deadline.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: true,
            deadline: None,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
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

    /// An overall deadline for one operation: all attempts and the waits between them
    /// together. An attempt still running when it passes is abandoned and the operation
    /// fails with [`ErrorKind::Timeout`]; no retry is started that could not finish
    /// before it (the last error is returned then). Applies to non-idempotent operations
    /// too (their one attempt is bounded by it). None by default.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Removes the overall deadline.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// The longest `Retry-After` honoured (default 30 s): a server asking for more is
    /// waited for this long.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// The configured number of retries.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The overall deadline, if any.
    pub fn get_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The cap on `Retry-After`.
    pub fn get_max_retry_after(&self) -> Duration {
        self.max_retry_after
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

    /// The delay before retry number `attempt` after `error`: the backoff, or the
    /// server's `Retry-After` (capped) when that is longer.
    pub fn delay_after(&self, attempt: u32, error: &Error) -> Duration {
        let backoff = self.backoff(attempt);
        match error.retry_after() {
            Some(asked) => backoff.max(asked.min(self.max_retry_after)),
            None => backoff,
        }
    }

    /// Runs `op`, and when `idempotent` is true repeats it after a backoff delay while it
    /// fails with a retryable error ([`Error::is_retryable`]) and retries remain.
    /// A non-idempotent operation runs exactly once.
    ///
    /// # Errors
    /// The last attempt's error; [`ErrorKind::Timeout`] when the overall deadline passes
    /// during an attempt.
    pub async fn run<T, F, Fut>(&self, idempotent: bool, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.run_if(idempotent, Error::is_retryable, &mut op).await
    }

    /// As [`run`](Self::run), with a custom predicate deciding which errors are retried
    /// (e.g. an edge gateway that answers "busy").
    ///
    /// # Errors
    /// As [`run`](Self::run).
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
        let start = Instant::now();
        let ends_at = self.deadline.map(|d| start + d);
        let max_attempts = if idempotent { self.max_retries + 1 } else { 1 };
        let mut attempt = 0;
        loop {
            let result = match ends_at {
                Some(at) => match tokio::time::timeout_at(at, op()).await {
                    Ok(r) => r,
                    Err(_) => {
                        let d = self.deadline.unwrap_or_default();
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "the overall deadline of {d:?} passed during attempt {} of {max_attempts}",
                                attempt + 1
                            ),
                        ));
                    }
                },
                None => op().await,
            };
            let e = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if !(idempotent && attempt < self.max_retries && retry_on(&e)) {
                return Err(e);
            }
            let delay = self.delay_after(attempt, &e);
            if let Some(at) = ends_at
                && Instant::now() + delay >= at
            {
                let d = self.deadline.unwrap_or_default();
                tracing::warn!(
                    attempt = attempt + 1,
                    max_attempts,
                    "attempt {} of {max_attempts} failed and the {d:?} deadline leaves no time for another: {}",
                    attempt + 1,
                    display_chain(&e),
                );
                return Err(e.context(format!(
                    "gave up after attempt {} of {max_attempts} (the {d:?} deadline leaves no time for another)",
                    attempt + 1
                )));
            }
            tracing::warn!(
                attempt = attempt + 1,
                max_attempts,
                delay_ms = delay.as_millis() as u64,
                "attempt {} of {max_attempts} failed, retrying in {delay:?}: {}",
                attempt + 1,
                display_chain(&e),
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// Parses a `Retry-After` header value: delay-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to now; a date in the past is zero).
/// `None` for anything else.
///
/// ```
/// use std::time::Duration;
/// use nebulair_core::retry::parse_retry_after;
/// assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after("soon"), None);
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = parse_http_date(v)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(s: &str) -> Option<u64> {
    let rest = s.split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let (h, m, sec): (u64, u64, u64) = (
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
    );
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    // Days from civil (proleptic Gregorian), Howard Hinnant's algorithm.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo as i64 + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + m * 60 + sec)
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

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_capped() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let policy = fast().jitter(false).max_retry_after(Duration::from_secs(3));
        let out = policy
            .run(true, || async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                match n {
                    // Asks for 2 s: honoured (longer than the 10 ms backoff).
                    0 => Err(Error::new(ErrorKind::Server, "busy")
                        .with_http_status(503)
                        .with_retry_after(Duration::from_secs(2))),
                    // Asks for an hour: capped at 3 s.
                    1 => Err(Error::new(ErrorKind::Server, "slow down")
                        .with_http_status(429)
                        .with_retry_after(Duration::from_secs(3600))),
                    _ => Ok(n),
                }
            })
            .await
            .expect("third attempt");
        assert_eq!(out, 2);
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_bounds_all_attempts_together() {
        // Each attempt hangs for 100 s; the deadline of 5 s ends the whole operation.
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let err = fast()
            .deadline(Duration::from_secs(5))
            .run(true, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(100)).await;
                Ok::<_, Error>(())
            })
            .await
            .expect_err("deadline");
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.to_string().contains("overall deadline"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Failing attempts: retried until the next wait would pass the deadline.
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let err = RetryPolicy::default()
            .max_retries(100)
            .jitter(false)
            .initial_backoff(Duration::from_secs(1))
            .max_backoff(Duration::from_secs(1))
            .deadline(Duration::from_millis(3500))
            .run(true, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorKind::Transport, "reset"))
            })
            .await
            .expect_err("gives up");
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert!(err.to_string().contains("gave up after attempt 4"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert!(start.elapsed() < Duration::from_millis(3500));
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Wed, 21 Oct 2015 07:28:00 PST",
            "Wed, 32 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        let later = SystemTime::now() + Duration::from_secs(3600);
        let secs = later.duration_since(UNIX_EPOCH).expect("epoch").as_secs();
        // Format the date by hand-free round trip: parse of a far-future date is positive.
        assert!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT").is_some_and(|d| d.as_secs() > secs)
        );
    }

    #[test]
    fn warn_is_emitted_per_retry_naming_attempt_and_cause() {
        use std::io::Write;
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("rt");
        tracing::subscriber::with_default(subscriber, || {
            let calls = AtomicU32::new(0);
            rt.block_on(fast().run(true, || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(Error::new(ErrorKind::Transport, "connection reset by peer"))
                } else {
                    Ok(())
                }
            }))
            .expect("third attempt");
        });
        let out = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(
            lines[0].contains("WARN") && lines[0].contains("attempt 1 of 4 failed"),
            "{out}"
        );
        assert!(lines[1].contains("attempt 2 of 4 failed"), "{out}");
        assert!(lines[0].contains("connection reset by peer"), "{out}");
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
