//! VMware vCloud Director and vCloud Air SDK: sessions, query service, tasks, metrics,
//! ANS firewall/NAT/IPsec and DR failover.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod ans;
pub mod dr;
pub mod edge;
pub mod metrics;
pub mod model;
pub mod query;
pub mod session;
pub mod task;

pub use nebulair_core::{Error, ErrorKind, Result};
