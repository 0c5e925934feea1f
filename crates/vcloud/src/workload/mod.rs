//! vCloud Director workloads: handles for orgs, vDCs, catalogs, vApp templates, vApps and
//! VMs that read like the API.
//!
//! Each handle names its object by id (bare UUID, `urn:vcloud:<type>:<uuid>`, `vm-<uuid>`
//! or an href, see [`VcdId`]) or by name; a name is looked up when the handle is first
//! used, and a name that matches nothing, or more than one object, is a typed
//! [`WorkloadError`] naming the candidates. `get()` returns the typed document of
//! [`crate::model::vcd`]. Mutating operations return a [`Pending`]: `.await` it for the
//! [`Task`](crate::Task) vCD started, or [`Pending::wait`] for the finished task; a
//! request refused with `BUSY_ENTITY` is retried with backoff ([`WorkloadOptions`]).
//!
//! ```
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::session::VcdSession;
//! use nebulair_vcloud::model::vcd::VAppStatus;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .build()?;
//! session.login().await?;
//! let client = session.client()?;
//!
//! let vdc = client.vdc("VDC-Prod");
//! let names: Vec<String> = vdc.vapps().await?.iter().map(|v| v.name().unwrap_or_default()).collect();
//! assert!(names.contains(&"web-tier".to_owned()));
//!
//! let vapp = vdc.vapp("db-tier");
//! assert_eq!(vapp.get().await?.status_typed(), Some(VAppStatus::PoweredOn));
//! let vm = vapp.vm("db-01");
//! assert_eq!(vm.get().await?.cpu_count(), Some(4));
//!
//! // "web-tier" (VDC-Prod) and "Web-Tier" (VDC-Dev): an exact name picks one, a name
//! // that matches both only without case is ambiguous, and the error names both.
//! assert_eq!(client.vapp("Web-Tier").get().await?.name.as_deref(), Some("Web-Tier"));
//! let err = client.vapp("WEB-TIER").get().await.expect_err("ambiguous");
//! assert!(err.to_string().contains("VDC-Prod"), "{err}");
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("handles");
//! ```

pub mod catalog;
pub mod disk;
pub mod error;
pub mod id;
pub mod lifecycle;
pub mod media;
pub mod network;
pub mod ops;
pub mod org;
pub mod params;
pub mod reconfig;
pub mod subnet;
pub mod transfer;
pub mod vapp;
pub mod vapp_network;
pub mod vdc;
pub mod vm;

use std::sync::Arc;

use nebulair_core::Result;
use tokio::sync::OnceCell;

use crate::client::VcdClient;

pub use catalog::{
    AccessLevel, AccessSetting, CatalogAccess, CatalogHandle, CatalogItemHandle, VAppTemplateHandle,
};
pub use disk::{DiskBus, DiskError, DiskHandle, DiskSummary, IndependentDisk, NewDisk};
pub use error::WorkloadError;
pub use id::{EntityKind, Locator, VcdId};
pub use lifecycle::{
    DeployOptions, MetadataDomain, MetadataVisibility, SnapshotOptions, UndeployPowerAction,
};
pub use media::MediaHandle;
pub use network::{FenceMode, NetworkError, NewOrgNetwork, OrgNetwork, OrgNetworkHandle};
pub use ops::{Pending, PendingVApp, WorkloadOptions, Workloads, is_busy_entity};
pub use org::OrgHandle;
pub use params::{
    ComposeParams, InstantiateParams, IpAllocation, NetworkMapping, RecomposeParams, SourcedVm,
    VmSettings,
};
pub use reconfig::{
    AdminPassword, BusType, DiskSpec, GuestCustomization, NicSpec, NicUpdate, ToolsStatus,
};
pub use subnet::Subnet;
pub use transfer::{
    ProgressFn, TransferError, TransferOptions, TransferProgress, UploadReport, media_image_type,
};
pub use vapp::{DeleteOptions, VAppHandle};
pub use vapp_network::VAppNetwork;
pub use vdc::VdcHandle;
pub use vm::VmHandle;

impl VcdClient {
    /// Workload handles with the default [`WorkloadOptions`].
    pub fn workloads(&self) -> Workloads {
        Workloads::new(self.clone(), WorkloadOptions::default())
    }

    /// Workload handles with these options.
    pub fn workloads_with(&self, options: WorkloadOptions) -> Workloads {
        Workloads::new(self.clone(), options)
    }

    /// An org by name or id (names compare case-insensitively, as vCD's do).
    pub fn org(&self, org: impl Into<Locator>) -> OrgHandle {
        self.workloads().org(org)
    }

    /// The org of the session.
    pub fn current_org(&self) -> OrgHandle {
        self.workloads().current_org()
    }

    /// A vDC of the session's org, by name or id.
    pub fn vdc(&self, vdc: impl Into<Locator>) -> VdcHandle {
        self.workloads().vdc(vdc)
    }

    /// A catalog of the session's org, by name or id.
    pub fn catalog(&self, catalog: impl Into<Locator>) -> CatalogHandle {
        self.workloads().catalog(catalog)
    }

    /// A vApp template by id, or by name among every template the user can see
    /// (the query service); [`CatalogHandle::template`] narrows a name to one catalog.
    pub fn vapp_template(&self, template: impl Into<Locator>) -> VAppTemplateHandle {
        self.workloads().vapp_template(template)
    }

    /// A vApp by id, or by name among every vApp the user can see.
    pub fn vapp(&self, vapp: impl Into<Locator>) -> VAppHandle {
        self.workloads().vapp(vapp)
    }

    /// A VM by id, or by name among every VM the user can see (not template VMs).
    pub fn vm(&self, vm: impl Into<Locator>) -> VmHandle {
        self.workloads().vm(vm)
    }
}

impl Workloads {
    /// As [`VcdClient::org`].
    pub fn org(&self, org: impl Into<Locator>) -> OrgHandle {
        OrgHandle::new(self.clone(), org.into())
    }

    /// As [`VcdClient::current_org`].
    pub fn current_org(&self) -> OrgHandle {
        let uuid = self.client.org_info().org_uuid().to_owned();
        match uuid.parse::<VcdId>() {
            Ok(id) => OrgHandle::new(self.clone(), Locator::Id(id)),
            Err(_) => OrgHandle::new(self.clone(), Locator::Href(format!("api/org/{uuid}"))),
        }
    }

    /// As [`VcdClient::vdc`].
    pub fn vdc(&self, vdc: impl Into<Locator>) -> VdcHandle {
        self.current_org().vdc(vdc)
    }

    /// As [`VcdClient::catalog`].
    pub fn catalog(&self, catalog: impl Into<Locator>) -> CatalogHandle {
        self.current_org().catalog(catalog)
    }

    /// As [`VcdClient::vapp_template`].
    pub fn vapp_template(&self, template: impl Into<Locator>) -> VAppTemplateHandle {
        VAppTemplateHandle::new(self.clone(), template.into(), catalog::TemplateScope::Any)
    }

    /// As [`VcdClient::vapp`].
    pub fn vapp(&self, vapp: impl Into<Locator>) -> VAppHandle {
        VAppHandle::new(self.clone(), vapp.into(), vapp::VAppScope::Any)
    }

    /// As [`VcdClient::vm`].
    pub fn vm(&self, vm: impl Into<Locator>) -> VmHandle {
        VmHandle::new(self.clone(), vm.into(), vm::VmScope::Any)
    }
}

/// One object a name lookup found.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) name: String,
    pub(crate) href: String,
    /// Where it lives (`vDC "VDC-Prod"`), for messages.
    pub(crate) place: Option<String>,
}

impl Candidate {
    pub(crate) fn new(name: impl Into<String>, href: impl Into<String>) -> Self {
        Candidate {
            name: name.into(),
            href: href.into(),
            place: None,
        }
    }

    pub(crate) fn at(mut self, place: Option<String>) -> Self {
        self.place = place.filter(|p| !p.is_empty());
        self
    }

    fn describe(&self) -> String {
        let id = self
            .href
            .parse::<VcdId>()
            .map(|i| i.to_string())
            .unwrap_or_else(|_| self.href.clone());
        match &self.place {
            Some(p) => format!("{} ({p}) {id}", self.name),
            None => format!("{} {id}", self.name),
        }
    }
}

/// Picks the one candidate named `name`: exact matches first, then case-insensitive ones.
///
/// # Errors
/// [`WorkloadError::NotFound`] / [`WorkloadError::Ambiguous`].
pub(crate) fn pick(
    kind: EntityKind,
    name: &str,
    scope: Option<String>,
    candidates: Vec<Candidate>,
) -> Result<Candidate> {
    let exact: Vec<&Candidate> = candidates.iter().filter(|c| c.name == name).collect();
    let matches = if exact.is_empty() {
        candidates
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(name))
            .collect()
    } else {
        exact
    };
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(WorkloadError::NotFound {
            kind,
            name: name.to_owned(),
            scope,
        }
        .into()),
        many => Err(WorkloadError::Ambiguous {
            kind,
            name: name.to_owned(),
            candidates: many.iter().map(|c| c.describe()).collect(),
        }
        .into()),
    }
}

/// What every handle holds: where to go, what it names, and the href once resolved.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub(crate) ws: Workloads,
    pub(crate) loc: Locator,
    pub(crate) kind: EntityKind,
    resolved: Arc<OnceCell<String>>,
    name: Option<String>,
}

impl Core {
    pub(crate) fn new(ws: Workloads, loc: Locator, kind: EntityKind) -> Self {
        let name = match &loc {
            Locator::Name(n) => Some(n.clone()),
            _ => None,
        };
        Core {
            ws,
            loc,
            kind,
            resolved: Arc::new(OnceCell::new()),
            name,
        }
    }

    /// A handle for an object whose href and name a listing already gave.
    pub(crate) fn known(
        ws: Workloads,
        kind: EntityKind,
        href: String,
        name: Option<String>,
    ) -> Self {
        let cell = OnceCell::new();
        let _ = cell.set(href.clone());
        Core {
            ws,
            loc: Locator::Href(href),
            kind,
            resolved: Arc::new(cell),
            name,
        }
    }

    pub(crate) fn name(&self) -> Option<String> {
        self.name.clone()
    }

    /// The href, resolving a name with `lookup` the first time.
    pub(crate) async fn href<F, Fut>(&self, lookup: F) -> Result<String>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<String>>,
    {
        let kind = self.kind;
        let loc = self.loc.clone();
        self.resolved
            .get_or_try_init(|| async move {
                match loc {
                    Locator::Id(id) => id.path(kind),
                    Locator::Href(h) => {
                        if let Ok(id) = h.parse::<VcdId>() {
                            id.expect_kind(kind)?;
                        }
                        Ok(h)
                    }
                    Locator::Name(n) => lookup(n).await,
                }
            })
            .await
            .cloned()
    }
}
