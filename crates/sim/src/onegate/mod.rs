//! The OneGate simulator: the REST routes a VM uses to read and publish its data,
//! answering exactly like OpenNebula 7.5's OneGate server (routes, status codes, error
//! texts, content types, value types), on top of the oned simulator's state.
//!
//! [`OneGateSim`] serves the routes over a [`OneGateBackend`]: the oned state that
//! `one.vm.info` and `one.vm.update` use, so a `PUT /vm` shows in the VM's
//! `USER_TEMPLATE`. It checks tokens (a VM's token exists when it was instantiated with
//! `CONTEXT=[TOKEN="YES"]`; read it with [`OneGateSim::token`], as the VM reads
//! `token.txt`), applies the default server configuration (restricted attributes
//! `SCHED_REQUIREMENTS`, `SERVICE_ID`, `ROLE_NAME`; restricted action `reboot`), and keeps
//! a minimal OneFlow: [`OneGateSim::create_service`] groups VMs into roles so `GET
//! /service`, `GET /vms/:id` and `PUT /service/role/:role` work, and
//! [`OneGateSim::create_vrouter`] groups VMs behind a virtual router for `GET /vrouter` and
//! `GET /vnet/:id`.
//!
//! What the real server does, and so does this one:
//! * every answer with a body has `Content-Type: application/json;charset=utf-8`, error
//!   bodies are plain text, every answer has `X-Content-Type-Options: nosniff`;
//! * a missing or wrong token or VM id is 401 `Not authorized`; an unknown route is 400
//!   `OneGate server doesn't support this feature`, checked before authentication;
//! * successful PUTs answer 200 with an empty body, actions 204 with no body;
//! * every 500 says `Internal server error` (the reason goes to the log only);
//! * `data`/`type`/`extended` are read from the query string or a form body, and `PUT`
//!   data may also be a raw body.
//!
//! ```
//! use std::sync::Arc;
//! use nebulair_sim::onegate::{MemoryBackend, OneGateSim};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = Arc::new(MemoryBackend::new());
//! let vm = backend.add_vm("web-0", true);
//! let sim = OneGateSim::new(backend.clone());
//! let (addr, _server) = sim.spawn("127.0.0.1:0").await?;
//! let token = sim.token(vm).expect("TOKEN=YES");
//!
//! nebulair_core::config::ensure_crypto_provider();
//! let resp = reqwest::Client::new()
//!     .put(format!("http://{addr}/vm"))
//!     .header("X-ONEGATE-TOKEN", token)
//!     .header("X-ONEGATE-VMID", vm.to_string())
//!     .header("Content-Type", "application/x-www-form-urlencoded")
//!     .body("data=READY%3DYES&type=1")
//!     .send()
//!     .await?;
//! assert_eq!(resp.status(), 200);
//! assert_eq!(backend.user_attr(vm, "READY").as_deref(), Some("YES"));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```

mod escape;
pub(crate) mod hash;
mod memory;
mod one;
mod routes;
mod ruby_json;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub use memory::{MemoryBackend, MemoryVm};
pub use one::OneSimBackend;

/// The oned side the OneGate simulator works on. Implemented by the oned simulator's
/// state and by [`MemoryBackend`].
pub trait OneGateBackend: Send + Sync + 'static {
    /// The `one.vm.info` document of VM `id` (`<VM>...</VM>`), or `None` when it does
    /// not exist.
    fn vm_xml(&self, id: i32) -> Option<String>;

    /// The OneGate token of VM `id` (what its `token.txt` holds), when it has one.
    fn vm_token(&self, id: i32) -> Option<String>;

    /// The `one.vrouter.info` document of virtual router `id`, when the backend keeps
    /// virtual routers (otherwise those made with [`OneGateSim::create_vrouter`] are
    /// used).
    fn vrouter_xml(&self, id: i32) -> Option<String> {
        let _ = id;
        None
    }

    /// The `one.vn.info` document of virtual network `id`.
    fn vnet_xml(&self, id: i32) -> Option<String>;

    /// `one.vm.update` of the user template: merges `text` when `append`, replaces the
    /// whole user template otherwise.
    ///
    /// # Errors
    /// The oned error message (a template that does not parse, a VM that is gone).
    fn update_user_template(&self, id: i32, text: &str, append: bool) -> Result<(), String>;

    /// Removes attribute `name` from the user template of VM `id` (the caller checked it
    /// is there).
    ///
    /// # Errors
    /// The oned error message.
    fn remove_user_attr(&self, id: i32, name: &str) -> Result<(), String>;

    /// Runs an action (`rename`, `resched`, `terminate`, ...) with its parameters as
    /// OneGate received them.
    ///
    /// # Errors
    /// The oned error message (unknown action, wrong state, bad parameters).
    fn vm_action(
        &self,
        id: i32,
        action: &str,
        params: Option<&serde_json::Value>,
    ) -> Result<(), String>;

    /// Creates a VM like `template_vm` (same template) named `name`, for scaling up a
    /// service role; the new id.
    ///
    /// # Errors
    /// A message when the backend cannot create VMs.
    fn instantiate_like(&self, template_vm: i32, name: &str) -> Result<i32, String> {
        let _ = (template_vm, name);
        Err("this backend cannot create VMs".into())
    }
}

/// The OneGate server configuration (`onegate-server.conf`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OneGateConfig {
    /// Attributes a VM may not set or delete (`:restricted_attrs`).
    pub restricted_attrs: Vec<String>,
    /// Actions a VM may not run (`:restricted_actions`).
    pub restricted_actions: Vec<String>,
    /// Virtual network template attributes shown by `GET /vnet/:id`.
    pub vnet_template_attributes: Vec<String>,
    /// `(resource, action)` pairs disabled in `:permissions` (403 `Action (a) on
    /// resource (r) not supported`), e.g. `("vm", "update")`.
    pub disabled: Vec<(String, String)>,
}

impl Default for OneGateConfig {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        OneGateConfig {
            restricted_attrs: s(&["SCHED_REQUIREMENTS", "SERVICE_ID", "ROLE_NAME"]),
            restricted_actions: s(&["reboot"]),
            vnet_template_attributes: s(&[
                "NETWORK_ADDRESS",
                "NETWORK_MASK",
                "GATEWAY",
                "GATEWAY6",
                "DNS",
                "GUEST_MTU",
                "SEARCH_DOMAIN",
                "METRIC",
                "IP6_METRIC",
            ]),
            disabled: Vec::new(),
        }
    }
}

/// One role of a simulated OneFlow service.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Role {
    name: String,
    cardinality: u32,
    state: i64,
    nodes: Vec<i32>,
}

/// A simulated OneFlow service.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Service {
    id: i32,
    name: String,
    state: i64,
    roles: Vec<Role>,
}

/// A virtual router kept by the OneGate simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Vrouter {
    id: i32,
    name: String,
    vms: Vec<i32>,
    networks: Vec<i32>,
    attrs: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Flow {
    services: BTreeMap<i32, Service>,
    next_service: i32,
    vrouters: BTreeMap<i32, Vrouter>,
    next_vrouter: i32,
}

struct Inner {
    backend: Arc<dyn OneGateBackend>,
    config: OneGateConfig,
    flow: Mutex<Flow>,
    oneflow: std::sync::OnceLock<Arc<dyn FlowBackend>>,
}

/// A OneFlow server OneGate relays `GET /service` and `PUT /service/role/:role` to, as
/// the real OneGate calls OneFlow's `GET /service/:id` and `POST /service/:id/scale`.
/// The OneFlow simulator ([`crate::oneflow`]) attaches itself with
/// [`OneGateSim::attach_oneflow`]; without one, the services made with
/// [`OneGateSim::create_service`] answer.
pub trait FlowBackend: Send + Sync + 'static {
    /// OneFlow's `DOCUMENT` object of service `id` (`{"ID": "3", "NAME": ..,
    /// "TEMPLATE": {"BODY": {...}}}`), or `None` when OneFlow does not know it.
    fn service_document(&self, id: i32) -> Option<serde_json::Value>;

    /// `POST /service/:id/scale` with `{"role_name", "cardinality", "force": false}`.
    ///
    /// # Errors
    /// OneFlow's error message.
    fn scale(&self, id: i32, role: &str, cardinality: i64) -> Result<(), String>;
}

/// The OneGate simulator. Cheap to clone; clones share the service and router tables.
#[derive(Clone)]
pub struct OneGateSim {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OneGateSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneGateSim")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// OneFlow's RUNNING state for services and roles.
const FLOW_RUNNING: i64 = 2;

impl OneGateSim {
    /// A simulator over `backend` with the default server configuration.
    pub fn new(backend: Arc<dyn OneGateBackend>) -> Self {
        Self::with_config(backend, OneGateConfig::default())
    }

    /// A simulator over `backend` with `config`.
    pub fn with_config(backend: Arc<dyn OneGateBackend>, config: OneGateConfig) -> Self {
        OneGateSim {
            inner: Arc::new(Inner {
                backend,
                config,
                flow: Mutex::new(Flow::default()),
                oneflow: std::sync::OnceLock::new(),
            }),
        }
    }

    fn flow(&self) -> MutexGuard<'_, Flow> {
        // A panic while holding the lock cannot leave the tables half-written (every
        // change is a single insert), so a poisoned lock is still usable.
        self.inner
            .flow
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The axum router serving the OneGate routes (every path; unknown ones answer 400).
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .fallback(routes::handle)
            .with_state(self.clone())
    }

    /// Binds `addr` (e.g. `127.0.0.1:0` for a free port) and serves in a background
    /// task; the bound address and the task.
    ///
    /// # Errors
    /// The bind error.
    pub async fn spawn(
        &self,
        addr: &str,
    ) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        Ok((local, self.serve(listener)))
    }

    /// Serves on an already bound listener in a background task (bind first when the
    /// oned simulator needs the OneGate URL before this simulator exists).
    pub fn serve(&self, listener: tokio::net::TcpListener) -> tokio::task::JoinHandle<()> {
        let app = self.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "OneGate simulator stopped");
            }
        })
    }

    /// Makes `GET /service` and `PUT /service/role/:role` answer from `flow` (a OneFlow
    /// server); `false` when one is attached already.
    pub fn attach_oneflow(&self, flow: Arc<dyn FlowBackend>) -> bool {
        self.inner.oneflow.set(flow).is_ok()
    }

    fn oneflow(&self) -> Option<&Arc<dyn FlowBackend>> {
        self.inner.oneflow.get()
    }

    /// The token of VM `vm`, as its `token.txt` holds it (`None` without `TOKEN=YES`).
    pub fn token(&self, vm: i32) -> Option<String> {
        self.inner.backend.vm_token(vm)
    }

    /// Creates a OneFlow service named `name` whose roles hold the given VMs (cardinality
    /// = number of VMs, state RUNNING), and writes `SERVICE_ID` and `ROLE_NAME` into each
    /// VM's user template as OneFlow does; the service id.
    ///
    /// # Errors
    /// When a VM does not exist or its template cannot be updated.
    pub fn create_service(&self, name: &str, roles: &[(&str, &[i32])]) -> Result<i32, String> {
        for (_, vms) in roles {
            for vm in *vms {
                if self.inner.backend.vm_xml(*vm).is_none() {
                    return Err(format!("VM {vm} does not exist"));
                }
            }
        }
        let id = {
            let mut flow = self.flow();
            let id = flow.next_service;
            flow.next_service += 1;
            flow.services.insert(
                id,
                Service {
                    id,
                    name: name.to_owned(),
                    state: FLOW_RUNNING,
                    roles: roles
                        .iter()
                        .map(|(role, vms)| Role {
                            name: (*role).to_owned(),
                            cardinality: u32::try_from(vms.len()).unwrap_or(u32::MAX),
                            state: FLOW_RUNNING,
                            nodes: vms.to_vec(),
                        })
                        .collect(),
                },
            );
            id
        };
        for (role, vms) in roles {
            for vm in *vms {
                self.inner.backend.update_user_template(
                    *vm,
                    &format!("SERVICE_ID=\"{id}\"\nROLE_NAME=\"{role}\""),
                    true,
                )?;
            }
        }
        Ok(id)
    }

    /// The cardinality of `role` in service `service`, as OneFlow records it.
    pub fn role_cardinality(&self, service: i32, role: &str) -> Option<u32> {
        let flow = self.flow();
        let svc = flow.services.get(&service)?;
        svc.roles
            .iter()
            .find(|r| r.name == role)
            .map(|r| r.cardinality)
    }

    /// Creates a virtual router named `name` with the given VMs, attached to the given
    /// networks (one NIC each); the router id. The VMs are its members for `GET
    /// /vrouter`, `GET /vms/:id` and `GET /vnet/:id`.
    pub fn create_vrouter(&self, name: &str, vms: &[i32], networks: &[i32]) -> i32 {
        let mut flow = self.flow();
        let id = flow.next_vrouter;
        flow.next_vrouter += 1;
        flow.vrouters.insert(
            id,
            Vrouter {
                id,
                name: name.to_owned(),
                vms: vms.to_vec(),
                networks: networks.to_vec(),
                attrs: Vec::new(),
            },
        );
        id
    }

    /// Adds a template attribute (e.g. `TEMPLATE_ID`) to a virtual router made with
    /// [`create_vrouter`](Self::create_vrouter); `false` when there is no such router.
    pub fn set_vrouter_attr(&self, vrouter: i32, key: &str, value: &str) -> bool {
        let mut flow = self.flow();
        match flow.vrouters.get_mut(&vrouter) {
            Some(r) => {
                r.attrs.retain(|(k, _)| k != key);
                r.attrs.push((key.to_owned(), value.to_owned()));
                true
            }
            None => false,
        }
    }

    /// Makes the next virtual router created get id `next` (to match ids of a recording).
    pub fn set_next_vrouter_id(&self, next: i32) {
        self.flow().next_vrouter = next;
    }

    /// Makes the next service created get id `next`.
    pub fn set_next_service_id(&self, next: i32) {
        self.flow().next_service = next;
    }
}
