//! OpenNebula SDK: every XML-RPC method, typed resources for every schema, templates,
//! typed errors and the OneGate client.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
pub mod client;
pub mod error;
pub mod ids;
pub mod model;
pub mod pool;
pub mod rpc;
pub mod template;

#[cfg(feature = "onegate")]
#[cfg_attr(docsrs, doc(cfg(feature = "onegate")))]
pub mod onegate;

pub use api::{VmAction, XmlDocument};
pub use client::{EnvConfig, EnvSource, OneClient, OneClientBuilder};
pub use error::OneErrorCode;
pub use ids::*;
pub use nebulair_core::{Error, ErrorKind, Result};
pub use pool::{PoolFilter, Who};
pub use template::Template;
pub mod compute;
