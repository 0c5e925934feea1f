//! OpenNebula SDK: every XML-RPC method of oned 7.4, typed resources for every schema,
//! templates, typed errors and the OneGate client.
//!
//! # Walkthrough
//!
//! Connect, list the hosts, read a VM template, instantiate it, show the VM and terminate
//! it (the classic XML-RPC tutorial, in Rust). This example runs against the loopback
//! OpenNebula simulator of `nebulair-sim`; against a real front-end use
//! [`OneClient::from_env`] (which reads `ONE_XMLRPC` and `~/.one/one_auth` like the CLI)
//! or point the builder at `http://frontend:2633/RPC2`.
//!
//! ```
//! use nebulair_opennebula::ids::TemplateId;
//! use nebulair_opennebula::{Credentials, OneClient, Template, VmAction};
//!
//! # async fn walkthrough() -> nebulair_opennebula::Result<()> {
//! # let sim = nebulair_sim::one::OneSimulator::builder().start().await?;
//! # let endpoint = sim.url().to_owned();
//! // 1. Connect.
//! let client = OneClient::builder()
//!     .endpoint(endpoint) // e.g. "http://frontend:2633/RPC2"
//!     .credentials(Credentials::password("oneadmin", "opennebula"))
//!     .build()?;
//! println!("OpenNebula {}", client.system().version().await?);
//!
//! // 2. List the hosts.
//! let hosts = client.hosts().info().await?;
//! for host in &hosts.host {
//!     println!("host {} {:?} {:?}", host.id, host.name, host.state());
//! }
//! assert!(!hosts.host.is_empty());
//!
//! // 3. Read a VM template.
//! let tpl = client.template(TemplateId::new(0)).info().await?;
//! println!("template {:?}, MEMORY = {:?}", tpl.name, tpl.template.get_str("MEMORY"));
//!
//! // 4. Instantiate it, overriding an attribute.
//! let extra = Template::new().with("MEMORY", 512);
//! let vm_id = client
//!     .template(tpl.id)
//!     .instantiate("walkthrough-vm", false, &extra, false)
//!     .await?;
//!
//! // 5. Show the VM.
//! let vm = client.vm(vm_id).info().await?;
//! println!("VM {} {:?} in state {:?}", vm.id, vm.name, vm.state());
//! assert_eq!(vm.name.as_deref(), Some("walkthrough-vm"));
//!
//! // 6. Terminate it.
//! client.vm(vm_id).action(VmAction::TerminateHard).await?;
//! # sim.shutdown().await;
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread()
//! #     .enable_all()
//! #     .build()
//! #     .expect("runtime")
//! #     .block_on(walkthrough())
//! #     .expect("walkthrough");
//! ```
//!
//! # Map
//!
//! * [`OneClient`]: configuration ([`OneClient::builder`], [`OneClient::from_env`]),
//!   the raw [`OneClient::call`], and one handle per resource family with every method
//!   of the catalogue ([`api`]): `client.vm(id)`, `client.vms()`, `client.hosts()`,
//!   `client.system()`, ...
//! * [`template`]: the [`Template`] type, both template syntaxes, builders.
//! * [`model`]: typed resources decoded from the XML schemas.
//! * [`pool`]: [`PoolFilter`] and paged streams of typed objects
//!   (`client.vms().stream(PoolFilter::all())` yields [`model::VmPoolVm`]s).
//! * [`acl`]: ACL rules in `oneacl` syntax (`"@100 VM+IMAGE/* USE"`) and their wire form.
//! * [`rpc`]: the XML-RPC codec; [`error`]: [`OneErrorCode`] and the error mapping.
//! * [`ids`]: typed ids.
//!
//! The crate's `examples/` (`walkthrough`, `template_builder`, `pool_paging`, `onegate`)
//! each run against the simulator with `cargo run -p nebulair-opennebula --example NAME`;
//! the user guide (`docs/` in the repository) covers configuration, templates, OneGate,
//! errors and retries, and migrating from PyONE.
//!
//! Errors are [`nebulair_core::Error`]s: match on [`Error::kind`] (`NotFound`,
//! `Conflict`, `Authentication`, ...) or get the OpenNebula code with
//! [`OneErrorCode::of`]. The session string never appears in errors, logs or `Debug`.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod acl;
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

#[cfg(feature = "oneflow")]
#[cfg_attr(docsrs, doc(cfg(feature = "oneflow")))]
pub mod oneflow;

pub use api::{VmAction, XmlDocument};
pub use client::{EnvConfig, EnvSource, OneClient, OneClientBuilder};
pub use error::OneErrorCode;
pub use ids::*;
pub use nebulair_core::{Credentials, Error, ErrorKind, HttpConfig, Result, RetryPolicy};
pub use pool::{PoolFilter, Who};
pub use template::Template;
pub mod compute;

/// The README's example, compiled as a doctest so that the crates.io page cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
