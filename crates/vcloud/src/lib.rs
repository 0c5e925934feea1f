//! VMware vCloud Director and vCloud Air SDK: sessions, query service, tasks, metrics,
//! ANS firewall/NAT/IPsec and DR failover.
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
pub use model::ApiVersion;
pub use model::xml::XmlElement;
pub use nebulair_core::{Error, ErrorKind, Result};
pub use session::OrgInfo;
pub use task::{Task, TaskStatus, TaskWaiter};
