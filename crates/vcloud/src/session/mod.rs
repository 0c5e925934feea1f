//! Logins: vCloud Air subscription (vchs), vCloud Air On-Demand, and direct vCD
//! (legacy, cloudapi, API tokens). Each yields an [`OrgInfo`] that every feature accepts.

mod org_info;

pub use org_info::{BEARER_AUTH_HEADER, OrgInfo, VCLOUD_AUTH_HEADER};
