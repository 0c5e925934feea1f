//! The OneGate client, for code running inside an OpenNebula VM.
//!
//! OneGate is the small REST server through which a VM reads its own state, publishes
//! values into its user template (`ONEGATE_*` keys that OneFlow elasticity rules and
//! other VMs can read), sees the other VMs of its OneFlow service or virtual router,
//! runs actions on them, and scales its service.
//!
//! [`OneGateClient::from_context`] finds the endpoint, VM id and token the way a VM
//! should (explicit values, environment, `one_env`, context CD; see [`ContextSources`]);
//! [`OneGateClient::builder`] takes them explicitly. TLS certificates are verified
//! (OpenNebula's Ruby client skips that; opting out needs
//! [`HttpConfig::danger_accept_invalid_certs`](nebulair_core::HttpConfig::danger_accept_invalid_certs)).
//!
//! | call | route |
//! |---|---|
//! | [`vm`](OneGateClient::vm) | `GET /vm` |
//! | [`update_vm`](OneGateClient::update_vm) / [`delete_vm_attr`](OneGateClient::delete_vm_attr) | `PUT /vm` (`type=1` / `type=2`) |
//! | [`vm_by_id`](OneGateClient::vm_by_id) | `GET /vms/:id` |
//! | [`update_vm_by_id`](OneGateClient::update_vm_by_id) / [`delete_vm_attr_by_id`](OneGateClient::delete_vm_attr_by_id) | `PUT /vms/:id` |
//! | [`vm_action`](OneGateClient::vm_action) | `POST /vms/:id/action` (204) |
//! | [`service`](OneGateClient::service) | `GET /service` |
//! | [`scale_role`](OneGateClient::scale_role) | `PUT /service/role/:role` |
//! | [`vrouter`](OneGateClient::vrouter) | `GET /vrouter` |
//! | [`vnet`](OneGateClient::vnet) | `GET /vnet/:id` |
//!
//! Errors are [`nebulair_core::Error`]s: 401 is `Authentication`, 403 (restricted
//! attribute or action) `Authorization`, 404 `NotFound`, 400 `InvalidInput`, 500
//! `Server`; each carries the server's plain-text message in a
//! [`ServiceError`](nebulair_core::ServiceError) with provider `"onegate"`.
//!
//! ```
//! use std::sync::Arc;
//! use nebulair_core::{HttpResponse, MockTransport};
//! use nebulair_opennebula::ids::VmId;
//! use nebulair_opennebula::onegate::{OneGateClient, VmAttributes};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! let mock = Arc::new(MockTransport::new());
//! mock.push_response(HttpResponse::new(200, ""));
//! mock.push_response(HttpResponse::new(200,
//!     r#"{"VM":{"NAME":"web-1","ID":"7","STATE":"3","LCM_STATE":"3",
//!         "USER_TEMPLATE":{"ONEGATE_LOAD":"0.5"},"TEMPLATE":{"NIC":[],"NIC_ALIAS":[]}}}"#));
//!
//! let gate = OneGateClient::builder()
//!     .endpoint("http://169.254.16.9:5030")
//!     .vm_id(VmId::new(7))
//!     .token("contents of token.txt")
//!     .transport(mock.clone()) // leave out to use the network
//!     .build()?;
//! gate.update_vm(&VmAttributes::new().set("ONEGATE_LOAD", 0.5)).await?;
//! let vm = gate.vm().await?;
//! assert_eq!(vm.user_attr("ONEGATE_LOAD"), Some("0.5"));
//! assert!(vm.is_running());
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```

mod attrs;
mod client;
mod context;
pub(crate) mod de;
mod model;

pub use attrs::{VmAction, VmAttributes};
pub use client::{OneGateClient, OneGateClientBuilder, PROVIDER, TOKEN_HEADER, VMID_HEADER};
pub use context::{
    CONTEXT_MOUNT_POINTS, ContextSources, ExplicitContext, ONE_ENV_PATHS, OneGateContext,
    ValueSource, parse_shell_vars,
};
pub use model::{
    AddressRange, ArPool, AttrValue, Attributes, Lease, NodeVm, NodeVmInfo, OneGateDocument,
    OneGateNic, OneGateRoot, OneGateService, OneGateVm, OneGateVmTemplate, OneGateVnet,
    OneGateVrouter, RoleState, ServiceNode, ServiceRole, ServiceState, VrouterTemplate,
};
