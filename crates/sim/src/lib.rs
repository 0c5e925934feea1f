//! Loopback simulators of OpenNebula (XML-RPC, OneGate) and vCloud (vCA, vCD) for
//! testing cloud automation without a cloud.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod faults;
pub mod one;
pub mod onegate;
pub mod vcloud;

/// The README's example, compiled as a doctest so that the crates.io page cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
