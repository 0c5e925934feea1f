//! One module per command group.

pub(crate) mod common;
#[cfg(feature = "simulators")]
pub(crate) mod demo;
pub(crate) mod flow;
pub(crate) mod one;
pub(crate) mod one_args;
pub(crate) mod one_call;
pub(crate) mod one_family;
pub(crate) mod one_resolve;
pub(crate) mod one_view;
pub(crate) mod onegate;
pub(crate) mod profile;
#[cfg(feature = "simulators")]
pub(crate) mod simulate;
pub(crate) mod vcloud;
pub(crate) mod vcloud_admin;
pub(crate) mod vcloud_ans;
pub(crate) mod vcloud_catalog;
pub(crate) mod vcloud_disk;
pub(crate) mod vcloud_dr;
pub(crate) mod vcloud_network;
pub(crate) mod vcloud_nsxt;
pub(crate) mod vcloud_vapp;
pub(crate) mod vcloud_vapp_network;
pub(crate) mod vcloud_vm;
