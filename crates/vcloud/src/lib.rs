//! # nebulair-vcloud
//!
//! A VMware vCloud Director and vCloud Air SDK: logins (vCA subscription, vCA
//! On-Demand, direct vCD with passwords, cloudapi JWTs or API tokens), the query
//! service, tasks, metrics, ANS firewall/NAT/IPsec and DR failover.
//!
//! ## Log in and query (the seed walkthrough, in Rust)
//!
//! The classic vCD walkthrough logs in with `POST /api/sessions` (Basic `user@org`),
//! keeps the `x-vcloud-authorization` header, then follows the org links and runs
//! queries. Here the same against a vCD (the simulator in `nebulair-sim` speaks the
//! same protocol):
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use nebulair_core::Credentials;
//! use nebulair_vcloud::query::{Filter, Query, QueryType, VmRecord};
//! use nebulair_vcloud::session::{LoginMode, VcdSession};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! // 1. Log in: negotiates the API version from GET /api/versions, then
//! //    POST /api/sessions with Basic alice@acme (LoginMode::Auto uses cloudapi from 33.0).
//! let session = VcdSession::builder("https://vcd.example.test")
//!     .org("acme")
//!     .credentials(Credentials::password("alice", "secret"))
//!     .login_mode(LoginMode::Legacy)
//!     .build()?;
//! let org_info = session.login().await?;
//! println!("API {} at {}", org_info.version(), org_info.vcdurl());
//!
//! // 2. A client for the org: sets the token and Accept headers, maps errors, and
//! //    logs in again by itself if the token expires (401).
//! let client = session.client()?;
//! let org = client.get_xml(&format!("api/org/{}", org_info.org_uuid())).await?;
//! for link in org.children_named("Link") {
//!     println!("{} -> {}", link.attr("name").unwrap_or("-"), link.attr("href").unwrap_or("-"));
//! }
//!
//! // 3. Query: every VM whose name starts with "web", 128 per page, all pages.
//! let vms: Vec<VmRecord> = Query::new(QueryType::Vm)
//!     .fields(["name", "status", "containerName"])
//!     .filter(Filter::eq("name", "web*"))
//!     .sort_asc("name")
//!     .stream_typed(&client)
//!     .try_collect()
//!     .await?;
//! for vm in &vms {
//!     println!("{:?} {:?}", vm.name, vm.status);
//! }
//!
//! // vcloudair's shape: uuid -> fields, and find_by_name (case-insensitive, all matches).
//! let edges = Query::new(QueryType::EdgeGateway).execute(&client).await?;
//! let ids = edges.find_by_name("edge-prod");
//! # let _ = ids;
//! session.logout().await?;
//! # Ok(()) }
//! ```
//!
//! ## Modules
//!
//! - [`session`]: [`VcaSession`](session::VcaSession), [`VcaOdSession`](session::VcaOdSession),
//!   [`VcdSession`](session::VcdSession) and [`OrgInfo`].
//! - [`client`]: [`VcdClient`], the request plumbing every feature shares.
//! - [`query`], [`task`], [`metrics`]; [`ans`], [`edge`], [`dr`].
//! - [`error`]: how vCD, cloudapi, NSX and OAuth errors map to [`ErrorKind`]s.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod ans;
pub mod client;
pub mod dr;
pub mod edge;
pub mod error;
pub mod metrics;
pub mod model;
pub mod query;
pub mod session;
pub mod task;

pub use client::{Accept, ApiRequest, Reauthenticate, VcdClient, VcdResponse};
pub use error::{VcdError, error_from_response};
pub use metrics::{MetricData, MetricValue, Metrics, Unit};
pub use model::ApiVersion;
pub use model::xml::XmlElement;
pub use nebulair_core::{Error, ErrorKind, Result};
pub use query::{Filter, Query, QueryResults, QueryType};
pub use session::{OrgInfo, VcaOdSession, VcaSession, VcdSession};
pub use task::{Task, TaskStatus, TaskWaiter};
