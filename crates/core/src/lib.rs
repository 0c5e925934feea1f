//! # nebulair-core
//!
//! The foundation shared by the nebulair cloud SDKs ([`nebulair-opennebula`] and
//! [`nebulair-vcloud`]): one [`Error`] type with a matchable [`ErrorKind`], secret-safe
//! [`Credentials`], per-client [`HttpConfig`], the [`HttpTransport`] seam, a
//! [`RetryPolicy`] for idempotent requests, the bounded [`TaskRunner`], and the
//! [`Session`], [`Resource`] and multi-cloud [`Compute`] traits.
//!
//! ```
//! use std::time::Duration;
//! use nebulair_core::{Credentials, HttpConfig, RetryPolicy, TaskRunner};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! // Settings for one client: nothing here is process-wide.
//! let http = HttpConfig::default().request_timeout(Duration::from_secs(30));
//! let transport = nebulair_core::ReqwestTransport::new(&http)?;
//! let creds = Credentials::password("oneadmin", "opennebula");
//! assert!(!format!("{creds:?}").contains("opennebula"));
//!
//! // Fan out with at most 8 jobs at once; results come back in input order.
//! let report = TaskRunner::new(8)
//!     .run(0..100u32, |n, _ctx| async move { Ok(n * 2) })
//!     .await;
//! assert!(report.all_succeeded());
//! # let _ = (transport, RetryPolicy::default());
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```
//!
//! [`nebulair-opennebula`]: https://docs.rs/nebulair-opennebula
//! [`nebulair-vcloud`]: https://docs.rs/nebulair-vcloud
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod compute;
pub mod config;
pub mod error;
pub mod retry;
pub mod runner;
pub mod secret;
pub mod session;
pub mod transport;

pub use compute::{Compute, VmPowerState, VmSpec, VmSummary, WaitSpec};
pub use config::{HttpConfig, ProxyConfig};
pub use error::{BoxError, Error, ErrorKind, Result, ServiceError};
pub use retry::{RetryPolicy, RetryTransport};
pub use runner::{JobContext, ProgressEvent, RunReport, TaskRunner};
pub use secret::{Credentials, ExposeSecret, SecretString};
pub use session::{Resource, Session};
pub use tokio_util::sync::CancellationToken;
pub use transport::{HttpRequest, HttpResponse, HttpTransport, MockTransport, ReqwestTransport};
