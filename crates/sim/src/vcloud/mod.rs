//! A loopback simulator of vCloud Air (vchs subscription and On-Demand logins) and
//! vCloud Director (REST/XML API, cloudapi, OAuth, query service, tasks, edge gateway
//! services) plus the vCloud Air "hybridity" services (ANS firewall/NAT/IPsec, metrics)
//! and Disaster Recovery replications.
//!
//! It speaks the wire protocol of the real servers (the URLs, headers, payloads, error
//! documents and quirks of vCD 5.6 to 10.x and of the vCloud Air services) and is
//! checked against the real Python clients (vcloudair 0.5, pyvcloud 23.0.4) by the
//! `vcloud_compat` integration tests. It never depends on `nebulair-vcloud`.
//!
//! ```
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_PASSWORD, DEFAULT_USER, DEFAULT_ORG};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! // Direct vCD login: POST /api/sessions with Basic user@org:password.
//! // Any HTTP client works; this one comes from nebulair-core's builder.
//! let client = nebulair_core::config::build_reqwest_client(&Default::default())?;
//! let resp = client
//!     .post(sim.base_url().join("api/sessions")?)
//!     .header("Accept", "application/*+xml;version=32.0")
//!     .basic_auth(format!("{DEFAULT_USER}@{DEFAULT_ORG}"), Some(DEFAULT_PASSWORD))
//!     .send()
//!     .await?;
//! assert_eq!(resp.status(), 200);
//! assert!(resp.headers().contains_key("x-vcloud-authorization"));
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Default credentials and seed data
//!
//! | what | value |
//! |---|---|
//! | user / password (vchs, IAM, vCD, cloudapi) | [`DEFAULT_USER`] / [`DEFAULT_PASSWORD`] (`admin` / `nebulair`) |
//! | tenant org | [`DEFAULT_ORG`] (`nebulair`), id [`ORG_ID`]; also `System` (provider) |
//! | API token (OAuth refresh-token grant) | [`DEFAULT_API_TOKEN`] |
//! | vCA VPC account | one `compute:vpc` service ([`VPC_SERVICE_ID`]) with two vDCs `VDC-Prod` ([`VDC_PROD_ID`]) and `VDC-Dev` ([`VDC_DEV_ID`]) |
//! | vCA On-Demand account | instances `Virtual Private Cloud OnDemand` ([`OD_COMPUTE_INSTANCE_ID`]) and `Disaster Recovery` ([`OD_DR_INSTANCE_ID`]) plus an `Object Storage` instance with "No Attributes"; each instance id is also an org name for `login_to_instance` |
//! | inventory | vApps `web-tier`, `Web-Tier` (same name, other case), `db-tier`, `jenkins`, `empty-vapp`; VMs `web-01`, `web-02`, `WEB-01`, `db-01`, `jenkins01`, `jenkins-agent`; vApp templates `centos7-base` and `CentOS7-Base`; edge gateway `edge-prod` ([`EDGE_ID`], NSX-V) and NSX-T edge gateway `edge-nsxt-dev` of `VDC-Dev` ([`NSXT_EDGE_ID`]) |
//! | DR | [`SimulatorBuilder::dr_replications`] replications (default 30) named `dr-vm-001`... in the DR instance's org |
//!
//! # URL layout
//!
//! Everything is served from [`VcloudSimulatorHandle::base_url`] (`http://127.0.0.1:<port>/`).
//! The vCD API (everything below) is also served under the prefixes `/api/compute/`
//! (On-Demand: instance `apiUrl` is `{base}api/compute/api/org/{id}`, so vcloudair's
//! vcdurl is `{base}api/compute/`) and `/compute:443/` (VPC: the vchs `VdcLink@href` is
//! `{base}compute:443/api/vdc/{uuid}`, a form that vcloudair's split on `:443/api/vdc/`
//! and a split on `/api/vdc/` both understand). Hrefs in answers keep the prefix the
//! request came in with.
//!
//! | group | endpoints |
//! |---|---|
//! | vchs (VPC) | `POST /api/vchs/sessions` (201, `x-vchs-authorization`), `GET /api/vchs/services`, `GET /api/vchs/compute/{id}`, `POST /api/vchs/compute/{id}/vdc/{vdc}/vcloudsession` (201), `DELETE /api/vchs/session` |
//! | IAM / On-Demand | `POST /api/iam/login` (201, `vchs-authorization`), `GET /api/sc/instances`, `GET /api/sc/plans` (Bearer), `POST /api/sessions/vcloud/{org}` (Bearer SSO) |
//! | vCD sessions | `GET /api/versions`, `POST /api/sessions` (200, `x-vcloud-authorization` + `X-VMWARE-VCLOUD-ACCESS-TOKEN`), `GET`/`DELETE /api/session`, `POST /cloudapi/1.0.0/sessions` and `/sessions/provider` (JWT in `X-VMWARE-VCLOUD-ACCESS-TOKEN`), `GET`/`DELETE /cloudapi/1.0.0/sessions/current`, `POST /oauth/tenant/{org}/token`, `POST /oauth/provider/token` |
//! | vCD objects | `GET /api/org/`, `/api/org/{id}`, `/api/vdc/{id}`, `/api/vApp/vapp-{id}`, `/api/vApp/vm-{id}`, `POST /api/vApp/{id}/power/action/{powerOn,powerOff,reset,suspend,shutdown,reboot}` (202 Task), `DELETE /api/vApp/vapp-{id}` (202 Task), `GET /api/task/{id}`, `POST /api/task/{id}/action/cancel` (204; the task ends `canceled`) |
//! | query | `GET /api/query` (query list), `GET /api/query?type=..` with `format` (records, idrecords, references), `fields`, `filter` (FIQL `==` `!=` `=gt=` `=ge=` `=lt=` `=le=`, `;` and `,`, parentheses, `*` wildcards; string equality ignores case), `filterEncoded`, `sortAsc`/`sortDesc`, `page`, `pageSize` (default 25, capped at 128); types `vm`, `vApp`, `vAppTemplate`, `edgeGateway`, `orgVdc`; `GET /api/admin/vdc/{id}/edgeGateways` |
//! | edge (vCD XML) | `GET /api/admin/edgeGateway/{id}`, `POST /api/admin/edgeGateway/{id}/action/configureServices` (202 Task; applied when the task succeeds) |
//! | NSX-T edges (cloudapi) | `GET /cloudapi/1.0.0/edgeGateways` (`page`, `pageSize` capped at 128, FIQL `filter` on dotted paths such as `orgVdc.id`, `sortAsc`/`sortDesc`), `GET .../edgeGateways/{urn}`, `GET`/`PUT .../firewall/rules`, `GET`/`POST .../nat/rules` and `.../ipsec/tunnels`, `GET`/`PUT`/`DELETE .../nat/rules/{id}` and `.../ipsec/tunnels/{id}`; changes answer 202 with `Location: .../api/task/{id}`, keep the edge busy (`BUSY_ENTITY`) while the task runs and check `version` |
//! | hybridity | `GET`/`PUT /hybridity/api/gateways/{edge}/{firewall,nat,ipsec}/config`, `POST /hybridity/api/metrics/vdc/{uuid}` and `/hybridity/api/metrics/vApp/vm-{uuid}` (`?next=` paging) |
//! | DR | `GET /api/org/{org}/replications?page=&pageSize=`, `GET /api/vr/replications/{id}`, `POST /api/vr/replications/{id}/action/{testFailover,failover,testCleanup}` (202 Task) |
//!
//! Failures follow the real servers: vCD `Error` XML (`majorErrorCode` = HTTP status,
//! `minorErrorCode`), cloudapi JSON errors, OAuth `invalid_grant`, NSX-style JSON for the
//! hybridity services. An expired or unknown token gives 401; an unsupported `Accept`
//! version gives 406 `NOT_ACCEPTABLE` listing the supported versions. An edge that is
//! changing (a running `configureServices` task, or [`VcloudSimulatorHandle::make_edge_busy`])
//! answers `configureServices` with 400 `BUSY_ENTITY` and an ANS `PUT` with 409 and NSX
//! JSON error code `10003`. An ANS `PUT` whose body still has `version` is rejected with
//! 400 (`"version"` is managed by the server; a stale one is called stale).
//!
//! Every answer carries `X-VMWARE-VCLOUD-REQUEST-ID`.
//!
//! # Test hooks
//!
//! On [`VcloudSimulatorHandle`]: [`expire_tokens`](VcloudSimulatorHandle::expire_tokens)
//! (every issued token gets 401 from now on), [`set_task_duration`](VcloudSimulatorHandle::set_task_duration),
//! [`set_task_failure_share`](VcloudSimulatorHandle::set_task_failure_share),
//! [`fail_next_tasks`](VcloudSimulatorHandle::fail_next_tasks) and
//! [`fail_tasks_after`](VcloudSimulatorHandle::fail_tasks_after) (tasks end in
//! `status="error"` with an `Error` child), [`make_edge_busy`](VcloudSimulatorHandle::make_edge_busy),
//! and inspection: [`ans_config`](VcloudSimulatorHandle::ans_config),
//! [`edge_services_xml`](VcloudSimulatorHandle::edge_services_xml),
//! [`replications`](VcloudSimulatorHandle::replications),
//! [`vm_power_state`](VcloudSimulatorHandle::vm_power_state),
//! [`task_count`](VcloudSimulatorHandle::task_count),
//! [`request_count`](VcloudSimulatorHandle::request_count).
//!
//! Tasks are computed from the clock: `queued` when just created (`Progress` 0), then
//! `running` with `Progress` growing to 99, then `success` (`Progress` 100) or `error`
//! (no `Progress`, an `Error` child) once the task duration has passed. Their effects
//! (power state, edge configuration, DR states) apply only when they succeed.

mod admin;
mod catalog;
mod common;
mod disk;
mod dr;
mod http;
mod hybridity;
mod network;
mod nsxt;
mod query;
mod state;
mod transfer;
mod vapp_net;
mod vcd;
mod vchs;
mod workload;
mod xml;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;
use uuid::Uuid;

use state::State;

/// Default user name accepted by every login (vchs, IAM, vCD as `admin@<org>`, cloudapi).
pub const DEFAULT_USER: &str = "admin";
/// Default password.
pub const DEFAULT_PASSWORD: &str = "nebulair";
/// Default tenant organization name.
pub const DEFAULT_ORG: &str = "nebulair";
/// The provider (system) organization name; logins to it use `/sessions/provider`.
pub const SYSTEM_ORG: &str = "System";
/// Default API token, exchanged at `/oauth/tenant/{org}/token` or `/oauth/provider/token`.
pub const DEFAULT_API_TOKEN: &str = "nebulair-sim-api-token-0123456789abcdef";
/// Id of the default org.
pub const ORG_ID: &str = "6e656275-6c61-4000-8000-000000000001";
/// Id of the vDC `VDC-Prod` (holds the edge gateway).
pub const VDC_PROD_ID: &str = "6e656275-6c61-4000-8000-000000000101";
/// Id of the vDC `VDC-Dev`.
pub const VDC_DEV_ID: &str = "6e656275-6c61-4000-8000-000000000102";
/// Id of the NSX-T edge gateway `edge-nsxt-dev` of `VDC-Dev` (cloudapi
/// `/cloudapi/1.0.0/edgeGateways/urn:vcloud:gateway:<id>`).
pub const NSXT_EDGE_ID: &str = "6e656275-6c61-4000-8000-000000000202";
/// Id of the edge gateway `edge-prod` (vCD XML services and hybridity ANS).
pub const EDGE_ID: &str = "6e656275-6c61-4000-8000-000000000201";
/// Id of the vCA VPC compute service.
pub const VPC_SERVICE_ID: &str = "6e656275-6c61-4000-8000-000000000301";
/// Id (and org name) of the On-Demand compute instance.
pub const OD_COMPUTE_INSTANCE_ID: &str = "a8c5a6f0-5a3e-4b0e-9c1d-1f2e3d4c5b6a";
/// Id (and org name) of the On-Demand Disaster Recovery instance (owns the replications).
pub const OD_DR_INSTANCE_ID: &str = "d4e5f6a7-1111-4222-8333-444455556666";

/// vCD API versions served by default (oldest first). `5.5` is marked deprecated.
pub const DEFAULT_VERSIONS: &[&str] = &[
    "5.5", "5.6", "5.7", "9.0", "27.0", "29.0", "30.0", "31.0", "32.0", "33.0", "34.0", "35.0",
    "36.0",
];

/// What a token was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// vchs (VPC) `x-vchs-authorization`.
    Vchs,
    /// IAM (On-Demand) `vchs-authorization`, sent back as Bearer.
    Iam,
    /// vCD `x-vcloud-authorization`.
    Vcd,
    /// vCD JWT (cloudapi and OAuth), sent as Bearer.
    VcdJwt,
}

/// Simulator settings (see [`SimulatorBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) org: String,
    pub(crate) api_token: String,
    pub(crate) token_lifetime: Duration,
    pub(crate) task_duration: Duration,
    pub(crate) task_failure_share: f64,
    pub(crate) dr_replications: u32,
    pub(crate) dr_page_size: u32,
    pub(crate) query_default_page_size: u32,
    pub(crate) query_max_page_size: u32,
    pub(crate) metrics_page_size: u32,
    pub(crate) seed_data: bool,
    pub(crate) extra_vms: u32,
    pub(crate) versions: Vec<String>,
    pub(crate) rng_seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            user: DEFAULT_USER.into(),
            password: DEFAULT_PASSWORD.into(),
            org: DEFAULT_ORG.into(),
            api_token: DEFAULT_API_TOKEN.into(),
            token_lifetime: Duration::from_secs(30 * 60),
            task_duration: Duration::from_millis(500),
            task_failure_share: 0.0,
            dr_replications: 30,
            dr_page_size: 25,
            query_default_page_size: 25,
            query_max_page_size: 128,
            metrics_page_size: 100,
            seed_data: true,
            extra_vms: 0,
            versions: DEFAULT_VERSIONS.iter().map(|v| (*v).to_owned()).collect(),
            rng_seed: 0x6e65_6275,
        }
    }
}

/// Builds a [`VcloudSimulator`]; every setting has a documented default.
#[derive(Debug, Clone, Default)]
pub struct SimulatorBuilder {
    cfg: Config,
    bind: Option<SocketAddr>,
    faults: crate::faults::FaultConfig,
}

impl SimulatorBuilder {
    /// Address to listen on (default `127.0.0.1:0`, a random free port on loopback).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = Some(addr);
        self
    }

    /// User name and password accepted by every login (default [`DEFAULT_USER`] /
    /// [`DEFAULT_PASSWORD`]).
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.cfg.user = user.into();
        self.cfg.password = password.into();
        self
    }

    /// Name of the tenant org (default [`DEFAULT_ORG`]).
    pub fn org(mut self, name: impl Into<String>) -> Self {
        self.cfg.org = name.into();
        self
    }

    /// The API token accepted by the OAuth endpoints (default [`DEFAULT_API_TOKEN`]).
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.cfg.api_token = token.into();
        self
    }

    /// How long any issued token stays valid (default 30 minutes); later requests get 401.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.cfg.token_lifetime = lifetime;
        self
    }

    /// How long every task runs before it succeeds or fails (default 500 ms).
    pub fn task_duration(mut self, duration: Duration) -> Self {
        self.cfg.task_duration = duration;
        self
    }

    /// Share of tasks (0.0..=1.0, clamped) that end in `status="error"` (default 0).
    /// The choice is pseudo-random with a fixed seed, so runs are repeatable.
    pub fn task_failure_share(mut self, share: f64) -> Self {
        self.cfg.task_failure_share = if share.is_nan() {
            0.0
        } else {
            share.clamp(0.0, 1.0)
        };
        self
    }

    /// Number of DR replications in the DR instance's org (default 30).
    pub fn dr_replications(mut self, count: u32) -> Self {
        self.cfg.dr_replications = count;
        self
    }

    /// Page size of the replication list when the client sends none (default 25).
    pub fn dr_page_size(mut self, size: u32) -> Self {
        self.cfg.dr_page_size = size.max(1);
        self
    }

    /// Query page size when the client sends none (default 25, as vCD).
    pub fn query_default_page_size(mut self, size: u32) -> Self {
        self.cfg.query_default_page_size = size.max(1);
        self
    }

    /// Largest query page size; bigger requests are capped (default 128).
    pub fn query_max_page_size(mut self, size: u32) -> Self {
        self.cfg.query_max_page_size = size.max(1);
        self
    }

    /// Rows per metrics page before a `next` token is given (default 100).
    pub fn metrics_page_size(mut self, size: u32) -> Self {
        self.cfg.metrics_page_size = size.max(1);
        self
    }

    /// Whether the seed inventory (vDCs, vApps, VMs, templates, edge) exists (default true).
    /// Accounts, orgs and DR replications exist either way.
    pub fn seed_data(mut self, on: bool) -> Self {
        self.cfg.seed_data = on;
        self
    }

    /// Adds this many extra powered-off VMs (each in its own vApp, in `VDC-Dev`), for
    /// paging tests (default 0).
    pub fn extra_vms(mut self, count: u32) -> Self {
        self.cfg.extra_vms = count;
        self
    }

    /// The vCD API versions listed by `/api/versions` and accepted in `Accept`
    /// (default [`DEFAULT_VERSIONS`]; versions below 5.6 are marked deprecated).
    pub fn versions<I, S>(mut self, versions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cfg.versions = versions.into_iter().map(Into::into).collect();
        self
    }

    /// Fault injection on every HTTP request (default: none): latency, HTTP 500 with an
    /// empty body, vCD's internal error (`500` with an `Error` document,
    /// `minorErrorCode="INTERNAL_SERVER_ERROR"`), dropped connections (the request is not
    /// handled) and truncated answers (the request is handled, half of the body is sent).
    /// See [`FaultConfig`](crate::faults::FaultConfig).
    pub fn faults(mut self, faults: crate::faults::FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Seed of the pseudo-random choice of failing tasks.
    pub fn rng_seed(mut self, seed: u64) -> Self {
        self.cfg.rng_seed = seed;
        self
    }

    /// Binds the [`bind`](Self::bind) address (by default a random free port on
    /// 127.0.0.1) and starts serving.
    ///
    /// # Errors
    /// The I/O error of binding the listener (e.g. the port is in use).
    pub async fn start(self) -> std::io::Result<VcloudSimulatorHandle> {
        let addr = self
            .bind
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let origin = format!("http://{addr}");
        let shared = Arc::new(http::Shared {
            state: Mutex::new(State::new(&self.cfg)),
            cfg: self.cfg,
            origin,
        });
        let cancel = CancellationToken::new();
        let app = crate::faults::axum_layer(
            http::router(shared.clone()),
            Arc::new(crate::faults::FaultInjector::new(self.faults)),
            http::internal_error,
        );
        let stop = cancel.clone();
        let join = tokio::spawn(async move {
            let server = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await });
            if let Err(err) = server.await {
                tracing::warn!(error = %err, "vcloud simulator stopped with an error");
            }
        });
        tracing::debug!(%addr, "vcloud simulator listening");
        Ok(VcloudSimulatorHandle {
            shared,
            addr,
            cancel,
            join,
        })
    }
}

/// Entry point: `VcloudSimulator::builder()...start().await`.
#[derive(Debug, Clone, Copy)]
pub struct VcloudSimulator;

impl VcloudSimulator {
    /// A builder with the defaults documented on [`SimulatorBuilder`]'s methods.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }
}

/// A running simulator; dropping it without [`shutdown`](Self::shutdown) stops the
/// server task when the runtime ends.
#[derive(Debug)]
pub struct VcloudSimulatorHandle {
    shared: Arc<http::Shared>,
    addr: SocketAddr,
    cancel: CancellationToken,
    join: JoinHandle<()>,
}

/// The state of one DR replication, as [`VcloudSimulatorHandle::replications`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationState {
    /// Replication id.
    pub id: String,
    /// Name of the replicated VM.
    pub vm_name: String,
    /// `TestRecoveryState`: `none` or `complete`.
    pub test_recovery_state: String,
    /// `RecoveryState`: `notStarted` or `failedOver`.
    pub recovery_state: String,
}

impl VcloudSimulatorHandle {
    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// `http://127.0.0.1:<port>/` (with the trailing slash).
    pub fn base_url(&self) -> Url {
        // The origin is built from a socket address, so it always parses.
        Url::parse(&format!("{}/", self.shared.origin)).expect("socket address URL parses")
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The vcdurl of the On-Demand instances (`{base}api/compute/`).
    pub fn od_vcd_url(&self) -> Url {
        Url::parse(&format!("{}/api/compute/", self.shared.origin))
            .expect("socket address URL parses")
    }

    /// Makes every token issued so far invalid (the next request with one gets 401).
    pub fn expire_tokens(&self) {
        for t in self.state().tokens.values_mut() {
            t.revoked = true;
        }
    }

    /// Changes the duration of tasks created from now on.
    pub fn set_task_duration(&self, duration: Duration) {
        self.state().task_duration = duration;
    }

    /// Changes the share (0.0..=1.0) of tasks created from now on that fail.
    pub fn set_task_failure_share(&self, share: f64) {
        self.state().task_failure_share = if share.is_nan() {
            0.0
        } else {
            share.clamp(0.0, 1.0)
        };
    }

    /// The next `n` tasks created end in `status="error"`.
    pub fn fail_next_tasks(&self, n: u32) {
        self.fail_tasks_after(0, n);
    }

    /// The `skip` next tasks run normally, then the `n` after them end in
    /// `status="error"` (with an `Error` child whose message names the operation).
    pub fn fail_tasks_after(&self, skip: u32, n: u32) {
        let mut st = self.state();
        st.fail_skip = skip;
        st.fail_next = n;
    }

    /// The next `n` change requests to this edge (ANS `PUT`, `configureServices`) are
    /// refused as busy. Returns false when the edge id is unknown.
    pub fn make_edge_busy(&self, edge_id: &str, n: u32) -> bool {
        let Ok(id) = Uuid::parse_str(edge_id) else {
            return false;
        };
        match self.state().edges.iter_mut().find(|e| e.id == id) {
            Some(e) => {
                e.busy_for = n;
                true
            }
            None => false,
        }
    }

    /// The stored ANS config of an edge section (`firewall`, `nat`, `ipsec`), with its
    /// `version`, or `None` when unknown.
    pub fn ans_config(&self, edge_id: &str, section: &str) -> Option<serde_json::Value> {
        let id = Uuid::parse_str(edge_id).ok()?;
        let section = state::AnsSection::parse(section)?;
        let st = self.state();
        st.edges
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.ans.get(&section).cloned())
    }

    /// The inner XML of the edge's `EdgeGatewayServiceConfiguration` as stored now.
    pub fn edge_services_xml(&self, edge_id: &str) -> Option<String> {
        let id = Uuid::parse_str(edge_id).ok()?;
        let mut st = self.state();
        st.settle(std::time::Instant::now());
        st.edges
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.services_xml.replace("{BASE}", &self.shared.origin))
    }

    /// All DR replications with their states (tasks that have finished are applied).
    pub fn replications(&self) -> Vec<ReplicationState> {
        let mut st = self.state();
        st.settle(std::time::Instant::now());
        st.replications
            .iter()
            .map(|r| ReplicationState {
                id: r.id.to_string(),
                vm_name: r.vm_name.clone(),
                test_recovery_state: r.test_recovery_state.into(),
                recovery_state: r.recovery_state.into(),
            })
            .collect()
    }

    /// Number of tasks created so far.
    pub fn task_count(&self) -> usize {
        self.state().tasks.len()
    }

    /// Number of HTTP requests served so far.
    pub fn request_count(&self) -> u64 {
        self.state().request_count
    }

    /// Power state (`POWERED_ON`, `POWERED_OFF`, `SUSPENDED`) of a VM by name (first
    /// match, case-sensitive), after applying finished tasks.
    pub fn vm_power_state(&self, name: &str) -> Option<&'static str> {
        let mut st = self.state();
        st.settle(std::time::Instant::now());
        st.vms
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.power.as_str())
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        if let Err(err) = self.join.await {
            tracing::warn!(error = %err, "vcloud simulator task ended abnormally");
        }
    }
}
