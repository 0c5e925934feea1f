//! Loopback simulators of OpenNebula (XML-RPC, OneGate) and vCloud (vCA, vCD) for
//! testing cloud automation without a cloud.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod faults;
pub mod one;
pub mod oneflow;
pub mod onegate;
pub mod vcloud;

/// The README's example, compiled as a doctest so that the crates.io page cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// A random (version 4) UUID from the process's `fastrand` generator, which is seeded from
/// the OS at start-up. The simulators need ids and tokens that differ between runs, not
/// cryptographic randomness; this keeps `uuid` free of its `v4` feature and so the build
/// free of a second `getrandom`.
pub(crate) fn random_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid()
}
