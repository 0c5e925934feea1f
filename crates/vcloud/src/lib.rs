//! # nebulair-vcloud
//!
//! A VMware vCloud Director and vCloud Air SDK: logins (vCA subscription, vCA
//! On-Demand, direct vCD with passwords, cloudapi JWTs or API tokens), the query
//! service, tasks, metrics, ANS firewall/NAT/IPsec and DR failover.
//!
//! ## Log in and query (the seed walkthrough, in Rust)
//!
//! The classic vCD walkthrough logs in with `POST /api/sessions` (Basic `user@org`),
//! keeps the `x-vcloud-authorization` header, follows the org links and runs queries.
//! Here it is against the loopback simulator from `nebulair-sim`, which speaks the same
//! protocol as a vCD (point `VcdSession::builder` at your vCD instead):
//!
//! ```
//! use futures::TryStreamExt;
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::query::{Filter, Query, QueryType, VmRecord};
//! use nebulair_vcloud::session::{LoginMode, VcdSession};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//!
//! // 1. Log in: POST /api/sessions with Basic admin@nebulair. Without `.version(..)`
//! //    the version is negotiated from GET /api/versions; 32.0 keeps the seed's view
//! //    (the Org lists its vDCs as links). LoginMode::Auto uses cloudapi from 33.0.
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .version("32.0".parse()?)
//!     .login_mode(LoginMode::Legacy)
//!     .build()?;
//! let org_info = session.login().await?;
//! assert_eq!(org_info.auth_header(), "x-vcloud-authorization");
//!
//! // 2. A client for the org: it sets the token and Accept headers, maps errors to
//! //    typed ones, and logs in again by itself when the token expires (401).
//! let client = session.client()?;
//! let org = client.get_xml(&format!("api/org/{}", org_info.org_uuid())).await?;
//! let vdcs: Vec<&str> = org
//!     .children_named("Link")
//!     .filter(|l| l.attr("type") == Some("application/vnd.vmware.vcloud.vdc+xml"))
//!     .filter_map(|l| l.attr("name"))
//!     .collect();
//! assert!(vdcs.contains(&"VDC-Prod"));
//!
//! // 3. Query every VM whose name starts with "web": 128 per page, every page.
//! let vms: Vec<VmRecord> = Query::new(QueryType::Vm)
//!     .fields(["name", "status", "containerName"])
//!     .filter(Filter::eq("name", "web*"))
//!     .sort_asc("name")
//!     .stream_typed(&client)
//!     .try_collect()
//!     .await?;
//! assert_eq!(vms.len(), 3);
//!
//! // vcloudair's result shape: uuid -> fields, and a case-insensitive find_by_name.
//! let vapps = Query::new(QueryType::VApp).execute(&client).await?;
//! assert_eq!(vapps.find_by_name("web-tier").len(), 2); // "web-tier" and "Web-Tier"
//!
//! session.logout().await?;
//! sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("runtime").block_on(run()).expect("walkthrough");
//! ```
//!
//! vCloud Air logins ([`VcaSession`] for VPC/Dedicated, [`VcaOdSession`] for On-Demand)
//! give the same [`OrgInfo`], so queries, metrics, ANS and DR work the same way after them.
//!
//! ## Modules
//!
//! - [`session`]: [`VcaSession`], [`VcaOdSession`],
//!   [`VcdSession`] and [`OrgInfo`].
//! - [`client`]: [`VcdClient`], the request plumbing every feature shares.
//! - [`query`], [`task`], [`metrics`]; [`ans`], [`edge`], [`dr`].
//! - [`model`]: the typed vCD documents (generated from the schemas) and [`workload`]: orgs,
//!   vDCs, catalogs and uploads, vApps, VMs, disks and networks as handles.
//! - [`cloudapi`]: paging, filters and long-running operations of the JSON API, used by
//!   [`nsxt`] (NSX-T edge gateways) and [`admin`] (orgs, users, roles, API tokens).
//! - [`compute`]: the multi-cloud `Compute` trait for vCD VMs.
//! - [`error`]: how vCD, cloudapi, NSX and OAuth errors map to [`ErrorKind`]s.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod admin;
pub mod ans;
pub mod client;
pub mod cloudapi;
pub mod compute;
pub mod dr;
pub mod edge;
pub mod error;
pub mod metrics;
pub mod model;
pub mod nsxt;
pub mod query;
pub mod session;
pub mod task;
pub mod workload;

pub use client::{Accept, ApiRequest, ClientOptions, Reauthenticate, VcdClient, VcdResponse};
pub use compute::VcdCompute;
pub use error::{VcdError, error_from_response};
pub use metrics::{MetricData, MetricValue, Metrics, Unit};
pub use model::ApiVersion;
pub use model::xml::XmlElement;
pub use nebulair_core::{Error, ErrorKind, Result};
pub use query::{Filter, Query, QueryResults, QueryType};
pub use session::{OrgInfo, VcaOdSession, VcaSession, VcdSession};
pub use task::{Task, TaskStatus, TaskWaiter};

/// The README's example, compiled as a doctest so that the crates.io page cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
