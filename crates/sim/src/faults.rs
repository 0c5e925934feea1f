//! Fault injection for reliability tests of clients: added latency, a share of requests
//! answered with HTTP 500 or with the service's internal error, dropped connections and
//! truncated bodies. Everything is off by default.
//!
//! ```
//! use std::time::Duration;
//! use nebulair_sim::faults::FaultConfig;
//!
//! let faults = FaultConfig::default()
//!     .latency(Duration::from_millis(5), Duration::from_millis(2))
//!     .http_500_ratio(0.1)
//!     .seed(42);
//! assert!(faults.is_active());
//! assert!(!FaultConfig::default().is_active());
//! ```

use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt as _;

/// What to inject. Ratios are probabilities in `0.0..=1.0` (values outside are clamped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    latency: Duration,
    jitter: Duration,
    http_500: f64,
    internal: f64,
    drop_connection: f64,
    truncate: f64,
    seed: Option<u64>,
}

/// The fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Answer HTTP 500 with an empty body.
    Http500,
    /// Answer the service's own internal error (for OpenNebula: INTERNAL 0x2000).
    Internal,
    /// Close the connection without answering.
    Drop,
    /// Send the headers (with the full `Content-Length`) and half of the body, then close.
    Truncate,
}

impl FaultConfig {
    /// Add `base` plus a uniform random `0..=jitter` delay before each answer.
    pub fn latency(mut self, base: Duration, jitter: Duration) -> Self {
        self.latency = base;
        self.jitter = jitter;
        self
    }
    /// Share of requests answered with HTTP 500.
    pub fn http_500_ratio(mut self, r: f64) -> Self {
        self.http_500 = r.clamp(0.0, 1.0);
        self
    }
    /// Share of requests answered with the service's internal error.
    pub fn internal_error_ratio(mut self, r: f64) -> Self {
        self.internal = r.clamp(0.0, 1.0);
        self
    }
    /// Share of connections closed without an answer.
    pub fn drop_connection_ratio(mut self, r: f64) -> Self {
        self.drop_connection = r.clamp(0.0, 1.0);
        self
    }
    /// Share of answers cut in the middle of the body.
    pub fn truncate_ratio(mut self, r: f64) -> Self {
        self.truncate = r.clamp(0.0, 1.0);
        self
    }
    /// Seed of the random choices, for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Whether any fault or latency is configured.
    pub fn is_active(&self) -> bool {
        !self.latency.is_zero()
            || !self.jitter.is_zero()
            || self.http_500 > 0.0
            || self.internal > 0.0
            || self.drop_connection > 0.0
            || self.truncate > 0.0
    }
}

/// Draws faults for requests from a [`FaultConfig`].
#[derive(Debug)]
pub struct FaultInjector {
    config: FaultConfig,
    rng: Mutex<fastrand::Rng>,
}

impl FaultInjector {
    /// An injector for `config`.
    pub fn new(config: FaultConfig) -> Self {
        let rng = match config.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        Self {
            config,
            rng: Mutex::new(rng),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Choose the delay and the fault for the next request.
    pub fn draw(&self) -> (Duration, Fault) {
        if !self.config.is_active() {
            return (Duration::ZERO, Fault::None);
        }
        let mut rng = match self.rng.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let jitter = if self.config.jitter.is_zero() {
            Duration::ZERO
        } else {
            self.config.jitter.mul_f64(rng.f64())
        };
        let x = rng.f64();
        let c = &self.config;
        let fault = if x < c.drop_connection {
            Fault::Drop
        } else if x < c.drop_connection + c.http_500 {
            Fault::Http500
        } else if x < c.drop_connection + c.http_500 + c.internal {
            Fault::Internal
        } else if x < c.drop_connection + c.http_500 + c.internal + c.truncate {
            Fault::Truncate
        } else {
            Fault::None
        };
        (c.latency + jitter, fault)
    }
}

/// Puts fault injection in front of an axum router (the vCloud simulator's HTTP stack):
/// latency before every answer; HTTP 500 with an empty body; `internal()` (the service's
/// own internal-error answer); a dropped connection (nothing is answered and the request is
/// not handled); or a truncated answer (the request is handled, the headers carry the full
/// `Content-Length`, half of the body is sent, then the connection is closed). With an
/// inactive configuration the router is returned unchanged.
pub(crate) fn axum_layer(
    router: axum::Router,
    injector: std::sync::Arc<FaultInjector>,
    internal: fn() -> axum::response::Response,
) -> axum::Router {
    if !injector.config().is_active() {
        return router;
    }
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let injector = injector.clone();
            async move { inject(&injector, internal, req, next).await }
        },
    ))
}

async fn inject(
    injector: &FaultInjector,
    internal: fn() -> axum::response::Response,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::body::Body;
    use axum::response::Response;

    let (delay, fault) = injector.draw();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Fault::None => next.run(req).await,
        Fault::Http500 => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            resp
        }
        Fault::Internal => internal(),
        // A body that fails before its first byte: hyper closes the connection without
        // writing the (still buffered) head, so the client sees the connection dropped.
        Fault::Drop => Response::new(Body::from_stream(futures::stream::once(async {
            Err::<bytes::Bytes, _>(std::io::Error::other(
                "connection dropped by fault injection",
            ))
        }))),
        Fault::Truncate => {
            let resp = next.run(req).await;
            let (mut parts, body) = resp.into_parts();
            let Ok(full) = axum::body::to_bytes(body, usize::MAX).await else {
                return Response::from_parts(parts, Body::empty());
            };
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, full.len().into());
            let half = full.slice(..full.len() / 2);
            let stream = futures::stream::iter([Ok::<_, std::io::Error>(half)]).chain(
                futures::stream::once(async {
                    // Let hyper flush the head and the first half before the failure ends
                    // the connection.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(std::io::Error::other("answer truncated by fault injection"))
                }),
            );
            Response::from_parts(parts, Body::from_stream(stream))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default() {
        let f = FaultInjector::new(FaultConfig::default());
        for _ in 0..100 {
            assert_eq!(f.draw(), (Duration::ZERO, Fault::None));
        }
    }

    #[test]
    fn ratios_are_respected() {
        let f = FaultInjector::new(FaultConfig::default().http_500_ratio(0.5).seed(7));
        let n = (0..10_000).filter(|_| f.draw().1 == Fault::Http500).count();
        assert!((4_500..5_500).contains(&n), "{n}");
        let all = FaultInjector::new(FaultConfig::default().drop_connection_ratio(1.0));
        assert_eq!(all.draw().1, Fault::Drop);
    }
}
