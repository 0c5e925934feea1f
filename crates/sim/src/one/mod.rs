//! An oned-compatible OpenNebula XML-RPC simulator on loopback.
//!
//! [`OneSimulator::builder()`] configures and starts an in-memory OpenNebula front-end that
//! answers XML-RPC at `http://127.0.0.1:PORT/RPC2` byte for byte like a real oned 7.5
//! (recorded request/response pairs are part of the test suite): 3-element success and
//! 5-element failure arrays, `<fault>`s for wrong parameter counts or types, oned's error
//! codes and messages, permission bits and ACLs, locks, VM states driven by a built-in
//! scheduler, pools newest first with filters and pagination.
//!
//! ```
//! # tokio_test_shim::block_on(async {
//! use nebulair_sim::one::OneSimulator;
//!
//! let sim = OneSimulator::builder().start().await?;
//! let body = "<?xml version='1.0'?><methodCall><methodName>one.system.version</methodName>\
//!     <params><param><value><string>oneadmin:opennebula</string></value></param></params>\
//!     </methodCall>";
//! let answer = sim.call_raw(body.as_bytes());
//! assert!(answer.contains("<string>7.5.80</string>"));
//! assert!(sim.url().ends_with("/RPC2"));
//! sim.shutdown().await;
//! # Ok::<(), nebulair_core::Error>(())
//! # }).expect("doctest");
//! # mod tokio_test_shim {
//! #     pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #         tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(f)
//! #     }
//! # }
//! ```
//!
//! # Default contents
//!
//! With seed data on (the default): users `oneadmin` (id 0, password `opennebula` unless
//! changed with [`OneSimulatorBuilder::admin_password`]) and `serveradmin` (1); groups
//! `oneadmin` (0) and `users` (1) with oned's default ACL rules; cluster `default` (0);
//! datastores `system` (0), `default` (1, images) and `files` (2); hosts `host01` and
//! `host02` (monitored, 8 CPUs and 16 GB each); network `public` (0) with a 100-address
//! IPv4 range 192.168.150.100+; VM template `ttylinux` (0) with one NIC on `public`; OS
//! image `ttylinux` (0, READY in `default`); zone
//! `OpenNebula` (0). New objects get ids as in oned (users from 2, groups, clusters and
//! datastores from 100, the rest from the next free id).
//!
//! # Implemented methods
//!
//! All 307 methods of oned's catalogue ([`IMPLEMENTED_METHODS`]; the dispatch table in
//! `one/dispatch.rs` is checked against `api-methods.tsv`). Beyond the resource families
//! (users, groups, ACLs, clusters, hosts, zones, VDCs, datastores, images, templates,
//! networks, network templates, security groups, VM groups, documents, virtual routers,
//! VMs and their pools), the simulator has: hooks (`api` hooks fire after their CALL,
//! `state` hooks when a VM or host enters their state; executions land in HOOKLOG, the
//! command is never run and succeeds unless the hook's template has `SIM_EXIT_CODE`);
//! oned's two default marketplaces and apps exported from images (no network); backup
//! jobs and VM backups into BACKUP_DS datastores, `image.restore`; scheduled actions fired
//! by the scheduler at their TIME; `vm.exec` (QEMU_GA_EXEC, DONE at the next monitor
//! sample); security groups, QoS and PCI devices on VMs; `disksaveas`; VM-group roles;
//! accounting and showback from the VM history and the templates' costs; network
//! reservations; zones, raft and the federation internals as a solo, non-federated oned
//! answers them; cluster optimisation plans as oned answers without DRS.
//!
//! VM quota usage (`VMS_USED`, `CPU_USED`, `MEMORY_USED`, `SYSTEM_DISK_SIZE_USED` and the
//! `RUNNING_*` ones) is counted from the user's and group's live VMs; limits are stored
//! but not enforced.
//!
//! Unknown method names get oned's `-506` fault.
//!
//! # Sharing the state (OneGate)
//!
//! [`OneSimHandle::state()`] returns a [`OneState`], a cheap clonable handle on the same
//! in-memory state the XML-RPC server uses. It offers what a OneGate front-end needs:
//! [`OneState::vm_by_token`] (find the VM whose OneGate token is given, as
//! `X-ONEGATE-TOKEN` carries it), [`OneState::vm_token`], [`OneState::vm_info`] (the VM as
//! a [`VmView`]), [`OneState::vm_xml`] (the full `<VM>` document),
//! [`OneState::update_user_template`] (merge or replace a VM's USER_TEMPLATE with a
//! template string, as `PUT /vm` does), [`OneState::vm_action`] and
//! [`OneState::vnet_xml`]. Each call takes the lock for its own duration only. VMs get a
//! token when their CONTEXT says `TOKEN = "YES"`, which needs an endpoint:
//! [`OneSimulatorBuilder::onegate_endpoint`].

pub(crate) mod config;
pub(crate) mod dispatch;
pub(crate) mod dummy_probe;
mod flow_hook;
pub(crate) mod handlers;
pub(crate) mod methods;
pub(crate) mod render;
pub(crate) mod server;
pub(crate) mod state;
pub(crate) mod tmpl;
pub(crate) mod xmlrpc;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use nebulair_core::{Error, ErrorKind, Result};
use tokio_util::sync::CancellationToken;

use crate::faults::{FaultConfig, FaultInjector};
use handlers::{Call, Handler, vm};
use state::{
    AclRule, Caller, Cluster, DsData, Extra, Group, Host, Kind, Meta, Obj, Pool, State, User,
    VnetData, Zone, acl, sha256_hex,
};
use tmpl::{AttrValue, Tmpl};

/// Every XML-RPC method the simulator implements.
pub const IMPLEMENTED_METHODS: &[&str] = dispatch::IMPLEMENTED;

/// How long each asynchronous step takes. All zero by default (tests); see
/// [`Delays::realistic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delays {
    /// PENDING until the scheduler places the VM.
    pub schedule: Duration,
    /// PROLOG and the PROLOG_* states (disk transfer), and MIGRATE (live migration).
    pub prolog: Duration,
    /// BOOT, the BOOT_* states after resume, and HOTPLUG_SNAPSHOT.
    pub boot: Duration,
    /// SHUTDOWN, SHUTDOWN_POWEROFF, SAVE_* and SHUTDOWN_UNDEPLOY.
    pub shutdown: Duration,
    /// EPILOG states.
    pub epilog: Duration,
    /// Host INIT -> MONITORED, image INIT -> READY, network LOCK_CREATE -> READY.
    pub monitor: Duration,
}

impl Delays {
    /// Delays close to a small real deployment (seconds), for demos.
    pub fn realistic() -> Self {
        Self {
            schedule: Duration::from_secs(2),
            prolog: Duration::from_secs(3),
            boot: Duration::from_secs(2),
            shutdown: Duration::from_secs(2),
            epilog: Duration::from_secs(1),
            monitor: Duration::from_secs(1),
        }
    }
}

/// Entry point: `OneSimulator::builder()`.
#[derive(Debug)]
pub struct OneSimulator;

impl OneSimulator {
    /// A builder with the defaults (seed data, admin password `opennebula`, zero delays,
    /// no faults, random port on 127.0.0.1).
    pub fn builder() -> OneSimulatorBuilder {
        OneSimulatorBuilder::default()
    }
}

/// Configures a simulator.
#[derive(Debug, Clone)]
pub struct OneSimulatorBuilder {
    admin_password: String,
    seed: bool,
    delays: Delays,
    faults: FaultConfig,
    bind: SocketAddr,
    connection_close: bool,
    onegate_endpoint: Option<String>,
    snapshot: Option<String>,
    monitor_interval: Duration,
    onegate_bind: Option<SocketAddr>,
}

impl Default for OneSimulatorBuilder {
    fn default() -> Self {
        Self {
            admin_password: "opennebula".into(),
            seed: true,
            delays: Delays::default(),
            faults: FaultConfig::default(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            connection_close: true,
            onegate_endpoint: None,
            snapshot: None,
            monitor_interval: Duration::from_secs(5),
            onegate_bind: None,
        }
    }
}

impl OneSimulatorBuilder {
    /// Password of `oneadmin`.
    pub fn admin_password(mut self, p: impl Into<String>) -> Self {
        self.admin_password = p.into();
        self
    }
    /// Whether to create the default hosts, network and template (users, groups, the
    /// default cluster, datastores and zone always exist, as in a fresh oned).
    pub fn seed_data(mut self, on: bool) -> Self {
        self.seed = on;
        self
    }
    /// Scheduler and driver delays.
    pub fn delays(mut self, d: Delays) -> Self {
        self.delays = d;
        self
    }
    /// Fault injection.
    pub fn faults(mut self, f: FaultConfig) -> Self {
        self.faults = f;
        self
    }
    /// Address to listen on (default `127.0.0.1:0`, a random free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }
    /// Answer every request with `Connection: close` like oned's Abyss server (the
    /// default, one TCP connection per call); `false` keeps connections alive for clients
    /// that reuse them (benchmarks).
    pub fn connection_close(mut self, on: bool) -> Self {
        self.connection_close = on;
        self
    }
    /// Keep connections alive (the same as `connection_close(false)`), for benchmarks.
    pub fn keep_alive(self) -> Self {
        self.connection_close(false)
    }
    /// OneGate endpoint written into VM contexts with `TOKEN = "YES"`; without it such
    /// VMs are refused like oned does.
    pub fn onegate_endpoint(mut self, url: impl Into<String>) -> Self {
        self.onegate_endpoint = Some(url.into());
        self
    }
    /// Start from a JSON snapshot written by [`OneSimHandle::snapshot_json`].
    pub fn snapshot_json(mut self, json: impl Into<String>) -> Self {
        self.snapshot = Some(json.into());
        self
    }
    /// Also serve OneGate (for code inside the simulated VMs) on a free port of the same
    /// address, on this simulator's state: VM contexts then carry its URL, and
    /// [`OneSimHandle::onegate_url`] gives it. Off by default.
    pub fn with_onegate(mut self) -> Self {
        self.onegate_bind = Some(SocketAddr::new(self.bind.ip(), 0));
        self
    }

    /// As [`Self::with_onegate`], serving OneGate on `addr`.
    pub fn onegate_bind(mut self, addr: SocketAddr) -> Self {
        self.onegate_bind = Some(addr);
        self
    }

    /// How often running VMs get a monitoring sample (default 5 s).
    pub fn monitor_interval(mut self, d: Duration) -> Self {
        self.monitor_interval = d;
        self
    }

    /// Build the engine without a server (for in-process use and benchmarks).
    fn engine(&self) -> Result<Engine> {
        let mut st = match &self.snapshot {
            Some(json) => serde_json::from_str::<State>(json).map_err(|e| {
                Error::with_source(ErrorKind::InvalidInput, "invalid simulator snapshot", e)
            })?,
            None => initial_state(&self.admin_password, self.seed),
        };
        if self.onegate_endpoint.is_some() {
            st.onegate_endpoint = self.onegate_endpoint.clone();
        }
        Ok(Engine {
            state: RwLock::new(st),
            ctx: handlers::Ctx {
                delays: self.delays,
            },
            faults: FaultInjector::new(self.faults.clone()),
            connection_close: self.connection_close,
            phases: Mutex::new(HashMap::new()),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// Bind, start the server and the scheduler.
    ///
    /// # Errors
    /// [`ErrorKind::Transport`] when the address cannot be bound,
    /// [`ErrorKind::InvalidInput`] for an invalid snapshot.
    pub async fn start(mut self) -> Result<OneSimHandle> {
        // OneGate's URL goes into the VM contexts, so bind it before the state exists.
        let gate_listener = match self.onegate_bind {
            Some(addr) => {
                let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                    Error::with_source(ErrorKind::Transport, "cannot bind the OneGate simulator", e)
                })?;
                let local = l.local_addr().map_err(|e| {
                    Error::with_source(ErrorKind::Transport, "cannot read the bound address", e)
                })?;
                let url = format!("http://{local}");
                self.onegate_endpoint.get_or_insert_with(|| url.clone());
                Some((l, url))
            }
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(|e| {
                Error::with_source(
                    ErrorKind::Transport,
                    "cannot bind the OpenNebula simulator",
                    e,
                )
            })?;
        let addr = listener.local_addr().map_err(|e| {
            Error::with_source(ErrorKind::Transport, "cannot read the bound address", e)
        })?;
        let url = format!("http://{addr}/RPC2");
        let engine = Arc::new(self.engine()?);
        let stop = CancellationToken::new();
        let server = tokio::spawn(server::serve(listener, engine.clone(), stop.clone()));
        let scheduler = tokio::spawn(scheduler(
            engine.clone(),
            stop.clone(),
            self.monitor_interval,
        ));
        let mut tasks = vec![server, scheduler];
        let onegate = match gate_listener {
            Some((listener, gate_url)) => {
                let gate = onegate_sim(&engine, &self.admin_password);
                let app = gate.router();
                let stopped = stop.clone();
                tasks.push(tokio::spawn(async move {
                    let served = axum::serve(listener, app)
                        .with_graceful_shutdown(stopped.cancelled_owned())
                        .await;
                    if let Err(e) = served {
                        tracing::error!(error = %e, "OneGate simulator stopped");
                    }
                }));
                tracing::info!(url = %gate_url, "OneGate simulator listening");
                Some((gate_url, gate))
            }
            None => None,
        };
        tracing::info!(%url, "OpenNebula simulator listening");
        Ok(OneSimHandle {
            url,
            addr,
            engine,
            stop,
            tasks: Mutex::new(tasks),
            onegate,
        })
    }
}

/// The engine: state, settings and the request handler.
#[derive(Debug)]
pub(crate) struct Engine {
    state: RwLock<State>,
    ctx: handlers::Ctx,
    pub(crate) faults: FaultInjector,
    pub(crate) connection_close: bool,
    /// VM id -> (state, lcm_state, when that phase started).
    phases: Mutex<HashMap<i32, (i32, i32, tokio::time::Instant)>>,
    wake: tokio::sync::Notify,
}

impl Engine {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        match self.state.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        match self.state.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Handle one XML-RPC body and return the response body.
    pub(crate) fn handle(&self, body: &[u8]) -> String {
        let call = match xmlrpc::parse_call(body) {
            Ok(c) => c,
            Err(msg) => return xmlrpc::fault(xmlrpc::FAULT_PARSE, &msg),
        };
        let mut call = call;
        if matches!(
            call.method.as_str(),
            "one.market.allocatedb" | "one.marketapp.allocatedb"
        ) {
            // oned 7.5.80 reads the XML of these two from index 2 (recorded-sweep 278, 295)
            if call.params.len() < 3 {
                return xmlrpc::fault(xmlrpc::FAULT_TYPE, "Not enough parameters");
            }
            call.params.remove(1);
        }
        let Some(specs) = methods::catalogue().get(&call.method) else {
            return xmlrpc::fault(
                xmlrpc::FAULT_NO_SUCH_METHOD,
                &format!("Method '{}' not defined", call.method),
            );
        };
        let (session, args) = match methods::check(specs, &call.params) {
            Ok(x) => x,
            Err(msg) => return xmlrpc::fault(xmlrpc::FAULT_TYPE, &msg),
        };
        let result = match dispatch::lookup(&call.method) {
            // the catalogue and the table list the same methods (a test checks it)
            None => Err(handlers::not_implemented(&call.method)),
            Some(Handler::Read(f)) => {
                let (r, hooked) = {
                    let st = self.read();
                    let r = st
                        .authenticate(&session)
                        .and_then(|c| f(&st, &Call::new(&self.ctx, c, &call.method, &args)));
                    let hooked = r.is_ok() && handlers::hook::has_api_hook(&st, &call.method);
                    (r, hooked)
                };
                if hooked {
                    handlers::hook::fire_api(&mut self.write(), &call.method);
                }
                r
            }
            Some(Handler::Write(f)) => {
                let r = {
                    let mut st = self.write();
                    let r = st
                        .authenticate(&session)
                        .and_then(|c| f(&mut st, &Call::new(&self.ctx, c, &call.method, &args)));
                    if r.is_ok() {
                        handlers::hook::fire_api(&mut st, &call.method);
                        handlers::hook::fire_state(&mut st);
                        handlers::vm::copy_closed_history(&mut st);
                    }
                    r
                };
                self.wake.notify_one();
                r
            }
        };
        match result {
            Ok(ret) => xmlrpc::success(&ret),
            Err(e) => xmlrpc::failure(&format!("[{}] {}", call.method, e.msg), e.code, e.id),
        }
    }

    /// Run scheduler passes until nothing is due. Returns the time until the next phase
    /// ends, if any VM is in a timed phase.
    fn step(&self) -> Option<Duration> {
        let d = self.ctx.delays;
        let now = tokio::time::Instant::now();
        let mut next: Option<Duration> = None;
        let mut st = self.write();
        let mut phases = match self.phases.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for _ in 0..64 {
            let mut due = |id: i32, s: i32, l: i32| -> bool {
                let entry = phases.entry(id).or_insert((s, l, now));
                if entry.0 != s || entry.1 != l {
                    *entry = (s, l, now);
                }
                let need = match (s, l) {
                    (vm::st::PENDING, _) => d.schedule,
                    (
                        _,
                        vm::lcm::PROLOG
                        | vm::lcm::PROLOG_RESUME
                        | vm::lcm::PROLOG_UNDEPLOY
                        | vm::lcm::PROLOG_MIGRATE
                        | vm::lcm::PROLOG_MIGRATE_POWEROFF
                        | vm::lcm::PROLOG_MIGRATE_SUSPEND
                        | vm::lcm::MIGRATE,
                    ) => d.prolog,
                    (
                        _,
                        vm::lcm::BOOT
                        | vm::lcm::BOOT_POWEROFF
                        | vm::lcm::BOOT_SUSPENDED
                        | vm::lcm::BOOT_STOPPED
                        | vm::lcm::BOOT_UNDEPLOY
                        | vm::lcm::HOTPLUG_SNAPSHOT,
                    ) => d.boot,
                    (_, vm::lcm::EPILOG | vm::lcm::EPILOG_STOP | vm::lcm::EPILOG_UNDEPLOY) => {
                        d.epilog
                    }
                    _ => d.shutdown,
                };
                let elapsed = now.saturating_duration_since(entry.2);
                if elapsed >= need {
                    true
                } else {
                    let left = need - elapsed;
                    next = Some(next.map_or(left, |n| n.min(left)));
                    false
                }
            };
            if !vm::tick(&mut st, &self.ctx, &mut due) {
                break;
            }
        }
        handlers::vm_ops::fire_sched(&mut st, &self.ctx);
        handlers::hook::fire_state(&mut st);
        handlers::vm::copy_closed_history(&mut st);
        let live: BTreeSet<i32> = st.pool(Kind::Vm).objs.keys().copied().collect();
        phases.retain(|id, _| live.contains(id));
        next
    }
}

async fn scheduler(engine: Arc<Engine>, stop: CancellationToken, monitor_every: Duration) {
    let mut last_monitor = tokio::time::Instant::now();
    loop {
        let next = engine.step();
        if last_monitor.elapsed() >= monitor_every {
            {
                let mut st = engine.write();
                vm::monitor(&mut st);
                handlers::vm_ops::finish_exec(&mut st);
            }
            last_monitor = tokio::time::Instant::now();
        }
        let until_monitor = monitor_every.saturating_sub(last_monitor.elapsed());
        let wait = next
            .unwrap_or(Duration::from_millis(250))
            .min(until_monitor)
            .clamp(Duration::from_millis(1), Duration::from_millis(250));
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = engine.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The OneGate simulator on `engine`'s state; calls the state has no direct entry for go
/// through XML-RPC in-process as oneadmin. A weak reference, so that dropping the handle
/// frees the engine.
fn onegate_sim(engine: &Arc<Engine>, admin_password: &str) -> crate::onegate::OneGateSim {
    let weak = Arc::downgrade(engine);
    let backend = crate::onegate::OneSimBackend::new(OneState {
        engine: engine.clone(),
    })
    .with_rpc(
        format!("oneadmin:{admin_password}"),
        move |body| match weak.upgrade() {
            Some(engine) => engine.handle(body),
            None => "<methodResponse><fault>the simulator is stopping</fault></methodResponse>"
                .to_owned(),
        },
    );
    crate::onegate::OneGateSim::new(Arc::new(backend))
}

/// A running simulator.
#[derive(Debug)]
pub struct OneSimHandle {
    url: String,
    addr: SocketAddr,
    engine: Arc<Engine>,
    stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    onegate: Option<(String, crate::onegate::OneGateSim)>,
}

impl OneSimHandle {
    /// The XML-RPC endpoint, `http://127.0.0.1:PORT/RPC2`.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The OneGate endpoint (`http://127.0.0.1:PORT`), when started
    /// [`with_onegate`](OneSimulatorBuilder::with_onegate).
    pub fn onegate_url(&self) -> Option<&str> {
        self.onegate.as_ref().map(|(url, _)| url.as_str())
    }
    /// The OneGate simulator (to create OneFlow services and virtual routers), when started
    /// [`with_onegate`](OneSimulatorBuilder::with_onegate).
    pub fn onegate(&self) -> Option<&crate::onegate::OneGateSim> {
        self.onegate.as_ref().map(|(_, gate)| gate)
    }
    /// A handle on the shared state (for the OneGate front-end and tests).
    pub fn state(&self) -> OneState {
        OneState {
            engine: self.engine.clone(),
        }
    }
    /// Handle one XML-RPC request body in-process (no HTTP, no fault injection) and return
    /// the response body.
    pub fn call_raw(&self, body: &[u8]) -> String {
        self.engine.handle(body)
    }
    /// The whole state as JSON (load it with [`OneSimulatorBuilder::snapshot_json`]).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] if serialisation fails.
    pub fn snapshot_json(&self) -> Result<String> {
        serde_json::to_string(&*self.engine.read())
            .map_err(|e| Error::with_source(ErrorKind::Protocol, "cannot serialise the state", e))
    }
    /// Write [`Self::snapshot_json`] to a file.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the file cannot be written.
    pub fn save_snapshot(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.snapshot_json()?).map_err(|e| {
            Error::with_source(ErrorKind::InvalidInput, "cannot write the snapshot", e)
        })
    }
    /// Run the scheduler now (normally it runs on its own).
    pub fn run_scheduler(&self) {
        self.engine.step();
    }
    /// Move the clock that scheduled actions (`one.vm.schedadd`) and backup job schedules
    /// fire on forward by `by` (the wall clock plus all the advances so far), then run the
    /// scheduler: what became due fires, repeating actions move to their next time. Other
    /// times (history, monitoring) stay on the wall clock.
    pub fn advance_clock(&self, by: Duration) {
        {
            let mut st = self.engine.write();
            st.clock_offset = st
                .clock_offset
                .saturating_add(i64::try_from(by.as_secs()).unwrap_or(i64::MAX));
        }
        self.engine.step();
    }
    /// Stop the server and the scheduler and wait for them.
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

impl Drop for OneSimHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Read a snapshot file for [`OneSimulatorBuilder::snapshot_json`].
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when the file cannot be read.
pub fn load_snapshot(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::with_source(ErrorKind::InvalidInput, "cannot read the snapshot", e))
}

/// A summary of a VM, for the OneGate front-end.
#[derive(Debug, Clone, PartialEq)]
pub struct VmView {
    /// VM id.
    pub id: i32,
    /// Name.
    pub name: String,
    /// VM_STATE.
    pub state: i32,
    /// LCM_STATE.
    pub lcm_state: i32,
    /// Owner id.
    pub uid: i32,
    /// Group id.
    pub gid: i32,
    /// USER_TEMPLATE in text syntax.
    pub user_template: String,
    /// USER_TEMPLATE as (name, value) pairs; vectors rendered as `K=V,K2=V2`.
    pub user_attributes: Vec<(String, String)>,
    /// IPs of the NICs, in NIC order.
    pub ips: Vec<String>,
}

/// A clonable handle on the simulator's state (see the module docs).
#[derive(Debug, Clone)]
pub struct OneState {
    engine: Arc<Engine>,
}

fn not_found(id: i32) -> Error {
    Error::new(ErrorKind::NotFound, format!("VM {id} does not exist"))
}

impl OneState {
    /// The id of the VM whose OneGate token is `token` (DONE VMs excluded).
    pub fn vm_by_token(&self, token: &str) -> Option<i32> {
        let st = self.engine.read();
        st.pool(Kind::Vm).objs.values().find_map(|o| {
            let v = o.vm()?;
            (v.token.as_deref() == Some(token) && v.state != vm::st::DONE).then_some(o.meta.id)
        })
    }
    /// The OneGate token of a VM, if it has one.
    pub fn vm_token(&self, id: i32) -> Option<String> {
        let st = self.engine.read();
        st.pool(Kind::Vm).objs.get(&id)?.vm()?.token.clone()
    }
    /// All VM ids (ascending).
    pub fn vm_ids(&self) -> Vec<i32> {
        self.engine
            .read()
            .pool(Kind::Vm)
            .objs
            .keys()
            .copied()
            .collect()
    }
    /// A VM summary.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when there is no such VM.
    pub fn vm_info(&self, id: i32) -> Result<VmView> {
        let st = self.engine.read();
        let o = st
            .pool(Kind::Vm)
            .objs
            .get(&id)
            .ok_or_else(|| not_found(id))?;
        let v = o.vm().ok_or_else(|| not_found(id))?;
        let user_attributes = v
            .user_template
            .attrs()
            .iter()
            .map(|a| {
                let val = match &a.value {
                    AttrValue::Single(s) => s.clone(),
                    AttrValue::Vector(items) => items
                        .iter()
                        .map(|(k, x)| format!("{k}={x}"))
                        .collect::<Vec<_>>()
                        .join(","),
                };
                (a.name.clone(), val)
            })
            .collect();
        let ips = o
            .template
            .vectors("NIC")
            .iter()
            .filter_map(|n| n.iter().find(|(k, _)| k == "IP").map(|(_, x)| x.clone()))
            .collect();
        Ok(VmView {
            id,
            name: o.meta.name.clone(),
            state: v.state,
            lcm_state: v.lcm_state,
            uid: o.meta.uid,
            gid: o.meta.gid,
            user_template: v.user_template.to_text(),
            user_attributes,
            ips,
        })
    }
    /// The full `<VM>` document as `one.vm.info` returns it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when there is no such VM.
    pub fn vm_xml(&self, id: i32) -> Result<String> {
        let st = self.engine.read();
        let o = st
            .pool(Kind::Vm)
            .objs
            .get(&id)
            .ok_or_else(|| not_found(id))?;
        let mut out = String::new();
        render::obj(&mut out, &st, o, false, false);
        Ok(out)
    }
    /// The `<VNET>` document of a network.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when there is no such network.
    pub fn vnet_xml(&self, id: i32) -> Result<String> {
        let st = self.engine.read();
        let o = st.pool(Kind::Vnet).objs.get(&id).ok_or_else(|| {
            Error::new(ErrorKind::NotFound, format!("network {id} does not exist"))
        })?;
        let mut out = String::new();
        render::obj(&mut out, &st, o, false, false);
        Ok(out)
    }
    /// The `<VROUTER>` document of a virtual router (as `one.vrouter.info` returns it), so
    /// that OneGate sees the routers made through XML-RPC.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when there is no such router.
    pub fn vrouter_xml(&self, id: i32) -> Result<String> {
        let st = self.engine.read();
        let o = st.pool(Kind::Vrouter).objs.get(&id).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("virtual router {id} does not exist"),
            )
        })?;
        let mut out = String::new();
        render::obj(&mut out, &st, o, false, false);
        Ok(out)
    }
    /// Merge (`merge = true`, oned's append) or replace a VM's USER_TEMPLATE with a
    /// template in either syntax.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a missing VM, [`ErrorKind::InvalidInput`] for a
    /// template that does not parse.
    pub fn update_user_template(&self, id: i32, template: &str, merge: bool) -> Result<()> {
        let new = Tmpl::parse(template).map_err(|m| Error::new(ErrorKind::InvalidInput, m))?;
        let mut st = self.engine.write();
        let o = st
            .pool_mut(Kind::Vm)
            .objs
            .get_mut(&id)
            .ok_or_else(|| not_found(id))?;
        let v = o.vm_mut().ok_or_else(|| not_found(id))?;
        if merge {
            v.user_template.merge(&new);
        } else {
            v.user_template = new;
        }
        Ok(())
    }
    /// Remove one attribute from a VM's USER_TEMPLATE.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a missing VM.
    pub fn remove_user_attribute(&self, id: i32, name: &str) -> Result<()> {
        let mut st = self.engine.write();
        let o = st
            .pool_mut(Kind::Vm)
            .objs
            .get_mut(&id)
            .ok_or_else(|| not_found(id))?;
        o.vm_mut()
            .ok_or_else(|| not_found(id))?
            .user_template
            .remove(name);
        Ok(())
    }
    /// Perform a `one.vm.action` on behalf of the VM's owner.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a missing VM, [`ErrorKind::Conflict`] when the action is
    /// not available in the VM's state (the message is oned's).
    pub fn vm_action(&self, id: i32, action: &str) -> Result<()> {
        let r = {
            let mut st = self.engine.write();
            let (uid, gid) = {
                let o = st
                    .pool(Kind::Vm)
                    .objs
                    .get(&id)
                    .ok_or_else(|| not_found(id))?;
                (o.meta.uid, o.meta.gid)
            };
            let groups = st
                .users
                .get(&uid)
                .map(|u| u.groups.clone())
                .unwrap_or_default();
            let caller = Caller {
                uid,
                gid,
                admin: uid == 0 || groups.contains(&0),
                groups,
            };
            let args = methods::Args(vec![
                xmlrpc::Value::Str(action.to_owned()),
                xmlrpc::Value::Int(id),
            ]);
            vm::write(
                &mut st,
                &self.engine.ctx,
                &caller,
                "action",
                &args,
                "one.vm.action",
            )
        };
        self.engine.wake.notify_one();
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.code == state::code::NO_EXISTS => Err(not_found(id)),
            Err(e) => Err(Error::new(ErrorKind::Conflict, e.msg)),
        }
    }
}

fn meta(id: i32, name: &str, perms: [u8; 9]) -> Meta {
    Meta {
        id,
        uid: 0,
        gid: 0,
        name: name.into(),
        perms,
        regtime: state::now(),
        lock: None,
    }
}

fn tmpl(text: &str) -> Tmpl {
    Tmpl::parse(text).unwrap_or_default()
}

/// A fresh oned, plus the seed resources when `seed` is on.
fn initial_state(admin_password: &str, seed: bool) -> State {
    let mut s = State::default();
    let user = |id: i32, name: &str, pw: String, driver: &str| User {
        id,
        gid: 0,
        groups: [0].into(),
        name: name.into(),
        password: pw,
        auth_driver: driver.into(),
        enabled: true,
        template: tmpl(&format!(
            "TOKEN_PASSWORD = \"{}\"",
            sha256_hex(&format!("{name}-token-{}", fastrand::u64(..)))
        )),
        tokens: Vec::new(),
        quota: Tmpl::new(),
    };
    s.users.insert(
        1,
        user(
            1,
            "serveradmin",
            sha256_hex(&format!("sa-{}", fastrand::u64(..))),
            "server_cipher",
        ),
    );
    s.users
        .insert(0, user(0, "oneadmin", sha256_hex(admin_password), "core"));
    s.next_user = 2;
    s.groups.insert(
        0,
        Group {
            id: 0,
            name: "oneadmin".into(),
            template: Tmpl::new(),
            admins: BTreeSet::new(),
            quota: Tmpl::new(),
            vlan_rules: Vec::new(),
        },
    );
    s.groups.insert(
        1,
        Group {
            id: 1,
            name: "users".into(),
            template: tmpl(
                "SUNSTONE = [ DEFAULT_VIEW = \"cloud\", GROUP_ADMIN_DEFAULT_VIEW = \"groupadmin\", GROUP_ADMIN_VIEWS = \"groupadmin,cloud\", VIEWS = \"cloud\" ]",
            ),
            admins: BTreeSet::new(),
            quota: Tmpl::new(),
            vlan_rules: Vec::new(),
        },
    );
    s.next_group = 100;
    let rules = [
        (
            acl::GROUP | 1,
            acl::VM
                | acl::IMAGE
                | acl::TEMPLATE
                | acl::DOCUMENT
                | acl::SECGROUP
                | acl::VMGROUP
                | acl::BACKUPJOB
                | acl::ALL,
            acl::CREATE,
            acl::ALL,
        ),
        (acl::ALL, acl::ZONE | acl::ALL, acl::USE, acl::ALL),
        (
            acl::ALL,
            acl::MARKETPLACE | acl::MARKETPLACEAPP | acl::ALL,
            acl::USE,
            acl::ALL,
        ),
        (
            acl::GROUP | 1,
            acl::HOST | acl::ALL,
            acl::MANAGE,
            acl::INDIVIDUAL,
        ),
        (
            acl::GROUP | 1,
            acl::NET | acl::ALL,
            acl::USE,
            acl::INDIVIDUAL,
        ),
        (
            acl::GROUP | 1,
            acl::DATASTORE | acl::ALL,
            acl::USE,
            acl::INDIVIDUAL,
        ),
    ];
    for (i, (user, resource, rights, zone)) in rules.into_iter().enumerate() {
        let id = i as i32;
        s.acls.insert(
            id,
            AclRule {
                id,
                user,
                resource,
                rights,
                zone,
            },
        );
    }
    s.next_acl = 6;
    s.clusters.insert(
        0,
        Cluster {
            id: 0,
            name: "default".into(),
            template: tmpl("RESERVED_CPU = \"\"\nRESERVED_MEM = \"\""),
            datastores: [0, 1, 2].into(),
            vnets: BTreeSet::new(),
        },
    );
    s.next_cluster = 100;
    s.vdcs.insert(0, state::Vdc::default_vdc());
    s.next_vdc = 100;
    s.zones.insert(
        0,
        Zone {
            id: 0,
            name: "OpenNebula".into(),
            template: tmpl(
                "ENDPOINT = \"http://localhost:2633/RPC2\"\nENDPOINT_GRPC = \"localhost:2634\"",
            ),
        },
    );
    let ds_perm = [1, 1, 0, 1, 0, 0, 0, 0, 0];
    let mut ds = Pool {
        next_id: 100,
        ..Pool::default()
    };
    for (id, name, ty, ds_mad, t) in [
        (
            0,
            "system",
            1,
            "-",
            "ALLOW_ORPHANS = \"FORMAT\"\nDISK_TYPE = \"FILE\"\nDS_LIVE_MIGRATE = \"YES\"\nDS_MIGRATE = \"YES\"\nDS_MIGRATE_SNAP = \"YES\"\nPERSISTENT_SNAPSHOTS = \"YES\"\nRESTRICTED_DIRS = \"/\"\nSAFE_DIRS = \"/var/tmp\"\nSHARED = \"NO\"\nTM_MAD = \"local\"\nTYPE = \"SYSTEM_DS\"",
        ),
        (
            1,
            "default",
            0,
            "fs",
            "ALLOW_ORPHANS = \"FORMAT\"\nCLONE_TARGET = \"SYSTEM\"\nDISK_TYPE = \"FILE\"\nDS_MAD = \"fs\"\nLN_TARGET = \"SYSTEM\"\nPERSISTENT_SNAPSHOTS = \"YES\"\nRESTRICTED_DIRS = \"/\"\nSAFE_DIRS = \"/var/tmp\"\nTM_MAD = \"local\"\nTYPE = \"IMAGE_DS\"",
        ),
        (
            2,
            "files",
            2,
            "fs",
            "ALLOW_ORPHANS = \"FORMAT\"\nCLONE_TARGET = \"SYSTEM\"\nDS_MAD = \"fs\"\nLN_TARGET = \"SYSTEM\"\nPERSISTENT_SNAPSHOTS = \"YES\"\nRESTRICTED_DIRS = \"/\"\nSAFE_DIRS = \"/var/tmp\"\nTM_MAD = \"local\"\nTYPE = \"FILE_DS\"",
        ),
    ] {
        ds.objs.insert(
            id,
            Obj {
                meta: meta(id, name, ds_perm),
                template: tmpl(t),
                extra: Extra::Datastore(DsData {
                    ds_mad: ds_mad.into(),
                    tm_mad: "local".into(),
                    ds_type: ty,
                    state: 0,
                    clusters: [0].into(),
                    total_mb: 102_400,
                }),
            },
        );
    }
    s.pools.insert(Kind::Datastore, ds);
    for k in Kind::ALL {
        s.pools.entry(k).or_default();
    }
    s.pool_mut(Kind::SecGroup).objs.insert(
        0,
        Obj {
            meta: meta(0, "default", [1, 1, 1, 1, 0, 0, 1, 0, 0]),
            template: tmpl(
                "DESCRIPTION = \"The default security group is added to every network. Use it to add default filter rules for your networks. You may remove this security group from any network by updating its properties.\"\nRULE = [ PROTOCOL = \"ALL\", RULE_TYPE = \"OUTBOUND\" ]\nRULE = [ PROTOCOL = \"ALL\", RULE_TYPE = \"INBOUND\" ]",
            ),
            extra: Extra::SecGroup,
        },
    );
    s.pool_mut(Kind::SecGroup).next_id = 100;
    // oned's two default marketplaces (recorded-sweep 017)
    for (id, name, mad, state, perms, desc) in [
        (
            0,
            "OpenNebula Public",
            "one",
            0,
            [1, 1, 1, 1, 0, 0, 1, 0, 0],
            "OpenNebula Systems MarketPlace",
        ),
        (
            1,
            "Linux Containers",
            "linuxcontainers",
            1,
            [1, 1, 1, 1, 0, 0, 1, 0, 0],
            "MarketPlace for the public image server fo LXC & LXD hosted at linuxcontainers.org",
        ),
    ] {
        let mut t = Tmpl::new();
        t.set("DESCRIPTION", desc);
        t.set("MARKET_MAD", mad);
        s.pool_mut(Kind::Market).objs.insert(
            id,
            Obj {
                meta: meta(id, name, perms),
                template: t,
                extra: Extra::Market {
                    mad: mad.into(),
                    state,
                },
            },
        );
    }
    s.pool_mut(Kind::Market).next_id = 100;
    if seed {
        for (id, name) in [(0, "host01"), (1, "host02")] {
            s.hosts.insert(
                id,
                Host {
                    id,
                    name: name.into(),
                    state: 2,
                    prev_state: 2,
                    im_mad: "kvm".into(),
                    vm_mad: "kvm".into(),
                    cluster_id: 0,
                    template: tmpl(
                        "IM_MAD = \"kvm\"\nVM_MAD = \"kvm\"\nHYPERVISOR = \"kvm\"\nRESERVED_CPU = \"\"\nRESERVED_MEM = \"\"",
                    ),
                    total_cpu: 800,
                    total_mem: 16 * 1024 * 1024,
                    monitored_at: 0,
                },
            );
        }
        s.next_host = 2;
        let mut vnet = VnetData {
            state: 1,
            prev_state: 1,
            clusters: [0].into(),
            bridge: "br0".into(),
            vn_mad: "bridge".into(),
            ars: Vec::new(),
            next_ar: 1,
            ready_at_ms: 0,
        };
        vnet.ars.push(state::AddressRange {
            next_index: 0,
            ever_allocated: false,
            reserved: Default::default(),
            id: 0,
            ar_type: "IP4".into(),
            ip: Some(u32::from(std::net::Ipv4Addr::new(192, 168, 150, 100))),
            mac: 0x0200_c0a8_9664,
            size: 100,
            extra: Vec::new(),
            leases: Default::default(),
        });
        s.pool_mut(Kind::Vnet).objs.insert(
            0,
            Obj {
                meta: meta(0, "public", [1, 1, 0, 1, 0, 0, 0, 0, 0]),
                template: tmpl(
                    "BRIDGE = \"br0\"\nBRIDGE_TYPE = \"linux\"\nDESCRIPTION = \"Public network\"\nDNS = \"192.168.150.1\"\nGATEWAY = \"192.168.150.1\"\nNETWORK_ADDRESS = \"192.168.150.0\"\nNETWORK_MASK = \"255.255.255.0\"\nOUTER_VLAN_ID = \"\"\nPHYDEV = \"\"\nSECURITY_GROUPS = \"0\"\nVLAN_ID = \"\"\nVN_MAD = \"bridge\"",
                ),
                extra: Extra::Vnet(vnet),
            },
        );
        s.pool_mut(Kind::Vnet).next_id = 1;
        if let Some(c) = s.clusters.get_mut(&0) {
            c.vnets.insert(0);
        }
        s.pool_mut(Kind::Template).objs.insert(
            0,
            Obj {
                meta: meta(0, "ttylinux", [1, 1, 0, 1, 0, 0, 0, 0, 0]),
                template: tmpl(
                    "CPU = \"0.1\"\nVCPU = \"1\"\nMEMORY = \"128\"\nDESCRIPTION = \"A small Linux VM\"\nDISK = [ SIZE = \"1024\", TYPE = \"fs\" ]\nNIC = [ NETWORK = \"public\", NETWORK_UNAME = \"oneadmin\" ]\nGRAPHICS = [ LISTEN = \"0.0.0.0\", TYPE = \"VNC\" ]\nCONTEXT = [ NETWORK = \"YES\", SSH_PUBLIC_KEY = \"$USER[SSH_PUBLIC_KEY]\" ]\nLOGO = \"images/logos/linux.png\"",
                ),
                extra: Extra::Template,
            },
        );
        s.pool_mut(Kind::Template).next_id = 1;
        // the OS image a marketplace's ttylinux app gives (what templates' DISK =
        // [ IMAGE_ID = 0 ] name), READY in `default`
        s.pool_mut(Kind::Image).objs.insert(
            0,
            Obj {
                meta: meta(0, "ttylinux", [1, 1, 0, 0, 0, 0, 0, 0, 0]),
                template: tmpl("DEV_PREFIX = \"sd\""),
                extra: Extra::Image(state::ImageData {
                    img_type: 0,
                    persistent: false,
                    state: 1,
                    size: 200,
                    ds_id: 1,
                    source: "dummy_path".into(),
                    path: "https://marketplace.opennebula.io//appliance/ttylinux".into(),
                    format: "raw".into(),
                    vms: Default::default(),
                    ready_at: 0,
                    snapshots: None,
                }),
            },
        );
        s.pool_mut(Kind::Image).next_id = 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(e: &Engine, method: &str, params: &str) -> String {
        e.handle(
            format!(
                "<methodCall><methodName>{method}</methodName><params><param><value><string>oneadmin:opennebula</string></value></param>{params}</params></methodCall>"
            )
            .as_bytes(),
        )
    }

    #[test]
    fn engine_answers_like_oned() {
        let e = OneSimulator::builder().engine().expect("engine");
        assert!(call(&e, "one.system.version", "").contains("<string>7.5.80</string>"));
        let r = call(
            &e,
            "one.vm.info",
            "<param><value><int>99999</int></value></param>",
        );
        assert!(
            r.contains("[one.vm.info] Error getting virtual machine [99999]."),
            "{r}"
        );
        assert!(
            r.contains("<i4>1024</i4>") && r.contains("<i4>99999</i4>"),
            "{r}"
        );
        let r = call(
            &e,
            "one.vm.info",
            "<param><value><i8>1</i8></value></param>",
        );
        assert!(r.contains("<fault>") && r.contains("-501"), "{r}");
        assert_eq!(IMPLEMENTED_METHODS.len(), 307);
        let r = call(
            &e,
            "one.vm.backup",
            "<param><value><int>99999</int></value></param>",
        );
        assert!(r.contains("<i4>1024</i4>"), "{r}");
    }

    #[test]
    fn snapshot_round_trip() {
        let e = OneSimulator::builder().engine().expect("engine");
        let json = serde_json::to_string(&*e.read()).expect("json");
        let e2 = OneSimulator::builder()
            .snapshot_json(json)
            .engine()
            .expect("engine");
        assert_eq!(*e.read(), *e2.read());
        assert!(
            OneSimulator::builder()
                .snapshot_json("{not json")
                .engine()
                .is_err()
        );
    }
}
