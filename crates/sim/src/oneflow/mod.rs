//! The OneFlow simulator: OpenNebula's multi-VM service server (`oneflow-server`, REST on
//! port 2474) on the oned simulator's state, in the same process.
//!
//! Like the real server it is an XML-RPC client of oned: service templates are oned
//! documents of type 101 and services documents of type 100 (so `one.documentpool.info`
//! shows them, and oned's permissions and ownership apply), the body is the JSON in the
//! document's `TEMPLATE/BODY`, requests authenticate with HTTP basic auth against oned's
//! users (`one.user.info` with the given user and password or login token), and the
//! roles' VMs are instantiated, watched, scaled and terminated through oned.
//!
//! What it does, as `src/flow/` of OpenNebula 7 does:
//! * routes: `GET/POST /service_template`, `GET/PUT/DELETE /service_template/:id`,
//!   `POST /service_template/:id/action` (instantiate with `merge_template`, user inputs
//!   and networks checks, clone with `recursive` none/templates/all, chown, chgrp, chmod,
//!   rename, update), `GET /service`, `GET/DELETE /service/:id`, `POST
//!   /service/:id/action` (recover, recover with `delete`, chown, chgrp, chmod, rename,
//!   release, and VM actions for every role), `POST /service/:id/scale`, `POST
//!   /service/:id/role/:role/action` (VM actions as scheduled actions, `number` VMs every
//!   `period` seconds), `POST /service_pool/purge_done`;
//! * the body schema and value checks with the server's messages (400), 6.x bodies
//!   (`vm_template`, `vm_template_contents`) converted as the server does;
//! * services go PENDING → DEPLOYING_NETS → DEPLOYING → RUNNING as their VMs reach
//!   RUNNING (and report `READY=YES` with `ready_status_gate`), roles in order
//!   (`deployment: straight` waits for the parents), `on_hold` roles to HOLD until
//!   `release`; a VM that ends in a `*_FAILURE` state (or POWEROFF, STOPPED, ...) while
//!   deploying gives FAILED_DEPLOYING, and `recover` retries it (`one.vm.recover` retry),
//!   resumes the others and creates the missing ones;
//! * scaling: cardinality checked against `min_vms`/`max_vms` unless `force`, SCALING while
//!   VMs are created or terminated (the oldest first), then COOLDOWN for the role's
//!   cooldown (default 300 s), then RUNNING;
//! * elasticity policies evaluated every autoscaler interval (default 90 s) against the
//!   role's RUNNING VMs (USER_TEMPLATE, MONITORING, TEMPLATE values averaged), with
//!   `period`, `period_number` (`true_evals`, `last_eval`, `expression_evaluated` kept
//!   in the policy) and the policy's cooldown; scheduled policies (`start_time` or cron
//!   `recurrence`, UTC); the implicit scale up to `min_vms`;
//! * the watchdog: a VM failing in a RUNNING service gives WARNING, a VM that is DONE is
//!   removed from its role (cardinality minus one);
//! * `DELETE /service/:id` terminates the roles (children first with `straight`) and
//!   removes the document when every VM is DONE;
//! * errors as the server sends them: plain-text messages (`Service cannot be scaled in
//!   state: DEPLOYING`, `Role web not found`, `Can't scale service 3: Maximum cardinality
//!   is 2`, ...), 400 for validation, oned's errors mapped by `one_error_to_http` (401 for
//!   oned's AUTHORIZATION, 403 for AUTHENTICATION, 404 for NO_EXISTS, 500 otherwise), 401
//!   `Invalid credentials`, 500 for refused operations. Note the real server answers 204
//!   to a template `chown`/`chgrp`/`chmod`/`rename` whatever oned said (it does not look
//!   at the outcome), and 200 with an empty body to an unknown template action; so does
//!   this one.
//!
//! OneGate's `GET /service` and `PUT /service/role/:role` answer from this server when
//! the oned simulator was started [`with_onegate`](crate::one::OneSimulatorBuilder::with_onegate).
//!
//! # Time and monitoring in tests
//!
//! OneFlow's clock (policy periods, cooldowns, scheduled policies) can be frozen
//! ([`OneFlowSimulatorBuilder::frozen_clock`]) and moved with
//! [`OneFlowHandle::advance_clock`]; [`OneFlowHandle::run_autoscaler`] evaluates the
//! policies at once and [`OneFlowHandle::run_lifecycle`] runs a pass of the life-cycle
//! manager (both also run in the background). Set the VMs' monitoring values with
//! [`OneState::push_monitoring`](crate::one::OneState::push_monitoring) (and a long
//! [`monitor_interval`](crate::one::OneSimulatorBuilder::monitor_interval) so the oned
//! simulator's random samples do not replace them).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async {
//! use nebulair_sim::one::OneSimulator;
//! use nebulair_sim::oneflow::OneFlowSimulator;
//!
//! let one = OneSimulator::builder().start().await?;
//! let flow = OneFlowSimulator::builder().start(&one).await?;
//! nebulair_core::config::ensure_crypto_provider();
//! let http = reqwest::Client::new();
//! let created = http
//!     .post(format!("{}/service_template", flow.url()))
//!     .basic_auth("oneadmin", Some("opennebula"))
//!     .body(r#"{"name":"web","roles":[{"name":"front","type":"vm","template_id":0,"cardinality":2}]}"#)
//!     .send()
//!     .await
//!     .expect("request");
//! assert_eq!(created.status(), 201);
//! let body = created.bytes().await.expect("body");
//! let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
//! assert_eq!(doc["DOCUMENT"]["TYPE"], "101");
//! flow.shutdown().await;
//! one.shutdown().await;
//! # Ok::<(), nebulair_core::Error>(())
//! # }).expect("doctest");
//! ```

mod doc;
mod expr;
mod lcm;
mod rpc;
mod sched;
mod server;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use nebulair_core::{Error, ErrorKind, Result};
use tokio_util::sync::CancellationToken;

use crate::one::OneSimHandle;

/// OneFlow's default port.
pub const DEFAULT_PORT: u16 = 2474;

/// Entry point: [`OneFlowSimulator::builder`].
#[derive(Debug)]
pub struct OneFlowSimulator;

impl OneFlowSimulator {
    /// A builder: random port on 127.0.0.1, server user `oneadmin`/`opennebula`, the
    /// system clock, the server's defaults (autoscaler every 90 s, cooldown 300 s).
    pub fn builder() -> OneFlowSimulatorBuilder {
        OneFlowSimulatorBuilder::default()
    }
}

/// Configures a OneFlow simulator.
#[derive(Debug, Clone)]
pub struct OneFlowSimulatorBuilder {
    bind: SocketAddr,
    server_user: String,
    server_password: String,
    frozen: bool,
    autoscaler_interval: Duration,
    default_cooldown: Duration,
    poll: Duration,
    action_period: Duration,
    action_number: u32,
}

impl Default for OneFlowSimulatorBuilder {
    fn default() -> Self {
        OneFlowSimulatorBuilder {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            server_user: "oneadmin".into(),
            server_password: "opennebula".into(),
            frozen: false,
            autoscaler_interval: Duration::from_secs(90),
            default_cooldown: Duration::from_secs(300),
            poll: Duration::from_millis(100),
            action_period: Duration::from_secs(60),
            action_number: 1,
        }
    }
}

impl OneFlowSimulatorBuilder {
    /// Address to listen on (default `127.0.0.1:0`, a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The oned user the server's own work runs as (watching VMs, the autoscaler; the
    /// real server uses `serveradmin` login tokens). Default `oneadmin`/`opennebula`; give
    /// the oned simulator's admin password when it is another.
    pub fn server_credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.server_user = user.into();
        self.server_password = password.into();
        self
    }

    /// Freezes OneFlow's clock at the start time: it moves only with
    /// [`OneFlowHandle::advance_clock`] (deterministic elasticity tests).
    pub fn frozen_clock(mut self) -> Self {
        self.frozen = true;
        self
    }

    /// How often the autoscaler evaluates the policies, on OneFlow's clock
    /// (`:autoscaler_interval`, default 90 s).
    pub fn autoscaler_interval(mut self, d: Duration) -> Self {
        self.autoscaler_interval = d;
        self
    }

    /// The cooldown of roles that set none (`:default_cooldown`, default 300 s).
    pub fn default_cooldown(mut self, d: Duration) -> Self {
        self.default_cooldown = d;
        self
    }

    /// How often the background pass looks at the VMs (default 100 ms of real time).
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll = d.max(Duration::from_millis(1));
        self
    }

    /// The defaults of role actions without `period`/`number` (`:action_period` 60 s,
    /// `:action_number` 1).
    pub fn action_defaults(mut self, period: Duration, number: u32) -> Self {
        self.action_period = period;
        self.action_number = number;
        self
    }

    /// Starts the server on `one`'s state and its background pass; attaches it to `one`'s
    /// OneGate simulator when there is one.
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`] when the server credentials are refused by oned,
    /// [`ErrorKind::Transport`] when the address cannot be bound.
    pub async fn start(self, one: &OneSimHandle) -> Result<OneFlowHandle> {
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let conf = lcm::Conf {
            default_cooldown: secs(self.default_cooldown),
            autoscaler_interval: secs(self.autoscaler_interval),
            action_period: secs(self.action_period),
            action_number: i64::from(self.action_number),
            ..lcm::Conf::default()
        };
        let admin = format!("{}:{}", self.server_user, self.server_password);
        let flow = lcm::Flow::new(rpc::Rpc { state: one.state() }, admin, conf, self.frozen);
        flow.authenticate(&self.server_user, &self.server_password)
            .map_err(|_| {
                Error::new(
                    ErrorKind::Authentication,
                    format!(
                        "OneFlow simulator: oned refused the server user {}",
                        self.server_user
                    ),
                )
            })?;
        let shared = Arc::new(Shared {
            flow,
            lock: Mutex::new(()),
        });
        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(|e| {
                Error::with_source(ErrorKind::Transport, "cannot bind the OneFlow simulator", e)
            })?;
        let addr = listener.local_addr().map_err(|e| {
            Error::with_source(ErrorKind::Transport, "cannot read the bound address", e)
        })?;
        let stop = CancellationToken::new();
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let stopped = stop.clone();
        let serve = tokio::spawn(async move {
            let r = axum::serve(listener, app)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await;
            if let Err(e) = r {
                tracing::error!(error = %e, "OneFlow simulator stopped");
            }
        });
        let bg = shared.clone();
        let stopped = stop.clone();
        let poll = self.poll;
        let pass = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.cancelled() => return,
                    _ = tokio::time::sleep(poll) => {}
                }
                let s = bg.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let _serial = s.serial();
                    s.flow.tick();
                })
                .await;
            }
        });
        if let Some(gate) = one.onegate() {
            gate.attach_oneflow(Arc::new(GateLink(shared.clone())));
        }
        let url = format!("http://{addr}");
        tracing::info!(%url, "OneFlow simulator listening");
        Ok(OneFlowHandle {
            url,
            addr,
            shared,
            stop,
            tasks: Mutex::new(vec![serve, pass]),
        })
    }
}

/// The engine and the lock that serialises its work (OneFlow's per-service lock,
/// simplified to one).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) flow: lcm::Flow,
    lock: Mutex<()>,
}

impl Shared {
    pub(crate) fn serial(&self) -> MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct GateLink(Arc<Shared>);

impl crate::onegate::FlowBackend for GateLink {
    fn service_document(&self, id: i32) -> Option<serde_json::Value> {
        let _serial = self.0.serial();
        self.0
            .flow
            .service_for_gate(i64::from(id))
            .and_then(|v| v.get("DOCUMENT").cloned())
    }

    fn scale(&self, id: i32, role: &str, cardinality: i64) -> std::result::Result<(), String> {
        let _serial = self.0.serial();
        self.0.flow.gate_scale(i64::from(id), role, cardinality)
    }
}

/// A running OneFlow simulator.
#[derive(Debug)]
pub struct OneFlowHandle {
    url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl OneFlowHandle {
    /// The endpoint, `http://127.0.0.1:PORT` (what `ONEFLOW_URL` holds).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// OneFlow's clock now, in epoch seconds.
    pub fn now(&self) -> i64 {
        self.shared.flow.clock.now()
    }

    /// Moves OneFlow's clock forward (cooldowns end, policy periods pass, scheduled
    /// policies come due).
    pub fn advance_clock(&self, by: Duration) {
        self.shared
            .flow
            .advance_clock(i64::try_from(by.as_secs()).unwrap_or(i64::MAX));
    }

    /// Runs one pass of the life-cycle manager and the watchdog now (the background task
    /// does it every poll interval).
    pub fn run_lifecycle(&self) {
        let _serial = self.shared.serial();
        self.shared.flow.tick();
    }

    /// Evaluates the elasticity and scheduled policies of every RUNNING service now,
    /// whatever the autoscaler interval.
    pub fn run_autoscaler(&self) {
        let _serial = self.shared.serial();
        self.shared.flow.autoscale_now();
    }

    /// Stops the server and its background pass and waits for them.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let tasks = match self.tasks.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for OneFlowHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
