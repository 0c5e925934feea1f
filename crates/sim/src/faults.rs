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
