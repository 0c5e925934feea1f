//! `nebulair vcloud vapp ...`: vApps of vCloud Director (list, show, create from a vApp
//! template, deploy/undeploy, power actions, rename, metadata, networks (in
//! [`vcloud_vapp_network`](super::vcloud_vapp_network)), delete), and what the VM
//! commands share with them: the task flags (`--no-wait`, `--poll-interval`), waiting
//! with a spinner, metadata values and the task view.
//!
//! Names or ids are accepted wherever a vApp goes: a name is looked up by the library
//! (in the vDC given with `--in`, else among every vApp the user sees) and a name that
//! matches nothing, or several vApps, is a clear error naming the candidates.

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use futures::TryStreamExt as _;
use nebulair_core::{Error, ErrorKind};
use nebulair_vcloud::model::vcd::{Metadata, MetadataTypedValue, VApp};
use nebulair_vcloud::query::{Query, QueryType, VAppRecord};
use nebulair_vcloud::workload::{
    DeleteOptions, DeployOptions, InstantiateParams, MetadataDomain, MetadataVisibility,
    NetworkMapping, Pending, UndeployPowerAction, VAppHandle, VmHandle, VmSettings,
    WorkloadOptions, Workloads,
};
use nebulair_vcloud::{Task, VcdClient};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{Confirm, io_failure};
use crate::commands::vcloud_vapp_network::{VAppNetworkSub, vapp_network};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};
use crate::wait::Spinner;

// ----- what vApp and VM commands share -----

/// How a command treats the vCD task it starts.
#[derive(Debug, Clone, Args)]
pub(crate) struct TaskArgs {
    /// Do not wait for the task: print it (href, id, status) and return.
    #[arg(long, global = true)]
    pub(crate) no_wait: bool,
    /// Seconds between two polls of a task.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 2.0)]
    pub(crate) poll_interval: f64,
}

impl TaskArgs {
    /// The workload handles for these flags (the task wait is also bounded by `--timeout`).
    pub(crate) fn workloads(&self, client: &VcdClient, ctx: &Ctx) -> Result<Workloads, Failure> {
        let poll = Duration::try_from_secs_f64(self.poll_interval)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Failure::new(
                    "reading --poll-interval",
                    Error::invalid_input(format!(
                        "--poll-interval must be a positive number of seconds, not {}",
                        self.poll_interval
                    )),
                )
            })?;
        let mut options = WorkloadOptions::default().poll_interval(poll);
        if let Some(t) = ctx.timeout {
            options = options.deadline(Some(t));
        }
        Ok(client.workloads_with(options))
    }
}

/// A task as printed by `--no-wait` (and in JSON after waiting).
#[derive(Debug, Serialize)]
pub(crate) struct TaskView {
    /// The task's href (poll it, or `GET` it later).
    pub(crate) task: String,
    /// `urn:vcloud:task:...`.
    pub(crate) id: Option<String>,
    /// `queued`, `running`, `success`...
    pub(crate) status: String,
    /// vCD's operation name (`vappDeploy`...).
    pub(crate) operation: Option<String>,
}

impl TaskView {
    fn of(t: &Task) -> Self {
        TaskView {
            task: t.href.clone(),
            id: t.id.clone(),
            status: t.status.to_string(),
            operation: t.operation_name.clone(),
        }
    }

    fn text(&self) -> String {
        key_values(&[
            ("task", self.task.clone()),
            ("id", self.id.clone().unwrap_or_default()),
            ("status", self.status.clone()),
            ("operation", self.operation.clone().unwrap_or_default()),
        ])
    }
}

/// Sends `pending`; with `--no-wait` prints its task and gives `None`, else waits for the
/// task with a spinner (on a terminal) and gives the finished task.
///
/// # Errors
/// The request's or the task's error (vCD's codes and message kept), or a timeout.
pub(crate) async fn run_task(
    ws: &Workloads,
    pending: Pending,
    what: &str,
    args: &TaskArgs,
    ctx: &Ctx,
) -> Result<Option<Task>, Failure> {
    let task = pending.await.map_err(|e| vcd_failure(what, e))?;
    if args.no_wait {
        let v = TaskView::of(&task);
        ctx.printer.print(&v, || v.text()).map_err(io_failure)?;
        return Ok(None);
    }
    let task = wait_shown(ws, &task, what)
        .await
        .map_err(|e| vcd_failure(what, e))?;
    tracing::debug!(task = %task.href, "{what}: done");
    Ok(Some(task))
}

/// Waits for a task with the library's waiter (its poll interval, deadline and idle
/// timeout). On a terminal a spinner shows the status and progress vCD reports, read
/// by a second, display-only poll; off a terminal nothing is drawn and nothing extra is
/// sent.
pub(crate) async fn wait_shown(
    ws: &Workloads,
    task: &Task,
    what: &str,
) -> nebulair_core::Result<Task> {
    use std::io::IsTerminal as _;
    let visible = std::io::stderr().is_terminal();
    let spinner = Spinner::with_visibility(what, visible);
    spinner.message(status_text(task));
    let waiter = ws.waiter();
    let r = if visible {
        tokio::select! {
            r = waiter.wait(task) => r,
            () = show_progress(ws, task, &spinner) => unreachable!("the display poll never ends"),
        }
    } else {
        waiter.wait(task).await
    };
    spinner.finish();
    r
}

/// `(running, 40%)`.
fn status_text(t: &Task) -> String {
    match t.progress {
        Some(p) => format!("({}, {p}%)", t.status),
        None => format!("({})", t.status),
    }
}

/// Reads the task every second and shows its status; never ends (the wait does).
async fn show_progress(ws: &Workloads, task: &Task, spinner: &Spinner) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(t) = ws.client().get_task(&task.href).await {
            spinner.message(status_text(&t));
        }
    }
}

/// A failure with a hint for vCD's usual refusals (busy, wrong state, and the 403 vCD
/// answers for an id that does not exist).
pub(crate) fn vcd_failure(what: &str, e: Error) -> Failure {
    let code = e
        .service()
        .and_then(|s| s.code_name())
        .map(str::to_ascii_uppercase);
    let hint = match code.as_deref() {
        Some("BUSY_ENTITY") => {
            Some("another task is still working on it; wait for it (or cancel it) and retry")
        }
        Some("BAD_REQUEST") => Some("vCD refused it in the object's current state; `show` it"),
        Some("ACCESS_TO_RESOURCE_IS_FORBIDDEN") => Some(
            "vCD answers 403 for an id that does not exist, too: check the id (`vapp list`, `vm list`)",
        ),
        _ => None,
    };
    let f = Failure::new(what, e);
    match hint {
        Some(h) => f.hint(h),
        None => f,
    }
}

/// A metadata value's type (`--type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum MetaType {
    /// `MetadataStringValue`.
    #[default]
    String,
    /// `MetadataNumberValue` (an integer).
    Number,
    /// `MetadataBooleanValue` (true or false).
    Boolean,
    /// `MetadataDateTimeValue` (ISO 8601).
    Datetime,
}

/// A metadata domain (`--domain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum MetaDomain {
    /// User metadata.
    #[default]
    General,
    /// Set by system administrators.
    System,
}

/// A metadata visibility (`--visibility`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MetaVisibility {
    /// `READWRITE` (GENERAL only).
    ReadWrite,
    /// `READONLY`.
    ReadOnly,
    /// `PRIVATE` (SYSTEM only).
    Private,
}

/// `metadata get|set|remove`, for vApps and VMs alike.
#[derive(Debug, Subcommand)]
pub(crate) enum MetadataSub {
    /// Every entry, or the value of one key.
    Get {
        /// The key (every entry when left out).
        key: Option<String>,
    },
    /// Sets one key to a typed value.
    Set {
        /// The key.
        key: String,
        /// The value (parsed by --type).
        value: String,
        /// The value's type.
        #[arg(long = "type", value_enum, default_value_t = MetaType::String)]
        value_type: MetaType,
        /// The domain.
        #[arg(long, value_enum, default_value_t = MetaDomain::General)]
        domain: MetaDomain,
        /// Who may see and change it [default: read-write for GENERAL, read-only for SYSTEM]
        #[arg(long, value_enum)]
        visibility: Option<MetaVisibility>,
    },
    /// Sets several keys in one request and one task (KEY=VALUE, all of one type).
    SetMany {
        /// The entries.
        #[arg(required = true, value_name = "KEY=VALUE")]
        entries: Vec<String>,
        /// The values' type.
        #[arg(long = "type", value_enum, default_value_t = MetaType::String)]
        value_type: MetaType,
        /// The domain.
        #[arg(long, value_enum, default_value_t = MetaDomain::General)]
        domain: MetaDomain,
        /// Who may see and change them [default: read-write for GENERAL, read-only for SYSTEM]
        #[arg(long, value_enum)]
        visibility: Option<MetaVisibility>,
    },
    /// Removes one key.
    Remove {
        /// The key.
        key: String,
    },
}

/// The library's domain and visibility for the flags.
fn domain_and_visibility(
    domain: MetaDomain,
    visibility: Option<MetaVisibility>,
) -> (MetadataDomain, MetadataVisibility) {
    let (d, default_vis) = match domain {
        MetaDomain::General => (MetadataDomain::General, MetadataVisibility::ReadWrite),
        MetaDomain::System => (MetadataDomain::System, MetadataVisibility::ReadOnly),
    };
    let vis = match visibility {
        None => default_vis,
        Some(MetaVisibility::ReadWrite) => MetadataVisibility::ReadWrite,
        Some(MetaVisibility::ReadOnly) => MetadataVisibility::ReadOnly,
        Some(MetaVisibility::Private) => MetadataVisibility::Private,
    };
    (d, vis)
}

/// A typed value from the command line.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when the text is not of the type.
pub(crate) fn typed_value(ty: MetaType, text: &str) -> Result<MetadataTypedValue, Failure> {
    let bad = |what: &str| {
        Failure::new(
            "reading the metadata value",
            Error::invalid_input(format!("{text:?} is not {what}")),
        )
    };
    Ok(match ty {
        MetaType::String => MetadataTypedValue::String(text.to_owned()),
        MetaType::Number => {
            MetadataTypedValue::Number(text.trim().parse().map_err(|_| bad("an integer"))?)
        }
        MetaType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => MetadataTypedValue::Boolean(true),
            "false" => MetadataTypedValue::Boolean(false),
            _ => return Err(bad("true or false")),
        },
        MetaType::Datetime => {
            let t = text.trim();
            if t.parse::<jiff::Timestamp>().is_err() {
                return Err(bad(
                    "an ISO 8601 date and time with a zone (2026-01-01T00:00:00Z)",
                ));
            }
            MetadataTypedValue::DateTime(t.to_owned())
        }
    })
}

/// One metadata entry as printed.
#[derive(Debug, Serialize)]
pub(crate) struct MetaView {
    key: String,
    #[serde(rename = "type")]
    value_type: &'static str,
    value: serde_json::Value,
    domain: Option<String>,
}

fn meta_type_name(v: &MetadataTypedValue) -> &'static str {
    match v {
        MetadataTypedValue::String(_) => "string",
        MetadataTypedValue::Number(_) => "number",
        MetadataTypedValue::Boolean(_) => "boolean",
        MetadataTypedValue::DateTime(_) => "datetime",
        _ => "other",
    }
}

fn meta_json(v: &MetadataTypedValue) -> serde_json::Value {
    match v {
        MetadataTypedValue::Number(n) => serde_json::Value::from(*n),
        MetadataTypedValue::Boolean(b) => serde_json::Value::from(*b),
        other => serde_json::Value::from(other.to_text()),
    }
}

fn meta_views(m: &Metadata) -> Result<Vec<MetaView>, Failure> {
    let mut out = Vec::new();
    for e in &m.metadata_entries {
        let Some(v) = e.typed().during("reading the metadata")? else {
            continue;
        };
        out.push(MetaView {
            key: e.key.clone().unwrap_or_default(),
            value_type: meta_type_name(&v),
            value: meta_json(&v),
            domain: e.domain_name().map(str::to_owned),
        });
    }
    Ok(out)
}

fn meta_table(rows: &[MetaView]) -> String {
    let mut t = Table::new(["KEY", "TYPE", "VALUE", "DOMAIN"]);
    for r in rows {
        let value = match &r.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        t.row([
            r.key.clone(),
            r.value_type.to_owned(),
            value,
            r.domain.clone().unwrap_or_default(),
        ]);
    }
    t.render()
}

/// A vApp or a VM: what metadata commands work on.
#[derive(Debug, Clone)]
pub(crate) enum Entity {
    /// A vApp.
    VApp(VAppHandle),
    /// A VM.
    Vm(VmHandle),
}

impl Entity {
    fn workloads(&self) -> &Workloads {
        match self {
            Entity::VApp(h) => h.workloads(),
            Entity::Vm(h) => h.workloads(),
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Entity::VApp(_) => "vApp",
            Entity::Vm(_) => "VM",
        }
    }

    async fn metadata(&self) -> nebulair_core::Result<Metadata> {
        match self {
            Entity::VApp(h) => h.metadata().await,
            Entity::Vm(h) => h.metadata().await,
        }
    }

    async fn metadata_value(&self, key: &str) -> nebulair_core::Result<Option<MetadataTypedValue>> {
        match self {
            Entity::VApp(h) => h.metadata_value(key).await,
            Entity::Vm(h) => h.metadata_value(key).await,
        }
    }

    fn set_metadata_with(
        &self,
        key: &str,
        value: MetadataTypedValue,
        domain: MetadataDomain,
        visibility: MetadataVisibility,
    ) -> Pending {
        match self {
            Entity::VApp(h) => h.set_metadata_with(key, value, domain, visibility),
            Entity::Vm(h) => h.set_metadata_with(key, value, domain, visibility),
        }
    }

    fn set_metadata_entries(
        &self,
        entries: &[(&str, MetadataTypedValue)],
        domain: MetadataDomain,
        visibility: MetadataVisibility,
    ) -> Pending {
        match self {
            Entity::VApp(h) => h.set_metadata_entries(entries, domain, visibility),
            Entity::Vm(h) => h.set_metadata_entries(entries, domain, visibility),
        }
    }

    fn delete_metadata(&self, key: &str) -> Pending {
        match self {
            Entity::VApp(h) => h.delete_metadata(key),
            Entity::Vm(h) => h.delete_metadata(key),
        }
    }
}

/// Runs a metadata command; after a change the entries are read again and printed.
pub(crate) async fn metadata(
    sub: MetadataSub,
    target: Entity,
    args: &TaskArgs,
    ctx: Ctx,
) -> Result<(), Failure> {
    let p = ctx.printer;
    let label = target.label();
    let show_all = |target: Entity| async move {
        let m = target
            .metadata()
            .await
            .during(format!("reading the {label}'s metadata"))?;
        let rows = meta_views(&m)?;
        p.print(&rows, || meta_table(&rows)).map_err(io_failure)
    };
    match sub {
        MetadataSub::Get { key: None } => show_all(target).await,
        MetadataSub::Get { key: Some(key) } => {
            let v = target
                .metadata_value(&key)
                .await
                .during(format!("reading metadata {key:?}"))?
                .ok_or_else(|| {
                    Failure::new(
                        format!("reading metadata {key:?}"),
                        Error::new(
                            ErrorKind::NotFound,
                            format!("the {label} has no key {key:?}"),
                        ),
                    )
                })?;
            let row = MetaView {
                key,
                value_type: meta_type_name(&v),
                value: meta_json(&v),
                domain: None,
            };
            p.print(&row, || format!("{}\n", v.to_text()))
                .map_err(io_failure)
        }
        MetadataSub::Set {
            key,
            value,
            value_type,
            domain,
            visibility,
        } => {
            let v = typed_value(value_type, &value)?;
            let (d, vis) = domain_and_visibility(domain, visibility);
            let done = run_task(
                target.workloads(),
                target.set_metadata_with(&key, v, d, vis),
                &format!("setting metadata {key:?}"),
                args,
                &ctx,
            )
            .await?;
            match done {
                Some(_) => show_all(target).await,
                None => Ok(()),
            }
        }
        MetadataSub::SetMany {
            entries,
            value_type,
            domain,
            visibility,
        } => {
            let mut typed = Vec::with_capacity(entries.len());
            for e in &entries {
                let Some((k, v)) = e.split_once('=') else {
                    return Err(Failure::new(
                        "reading the metadata entries",
                        Error::invalid_input(format!("{e:?} is not KEY=VALUE")),
                    ));
                };
                typed.push((k.trim(), typed_value(value_type, v)?));
            }
            let (d, vis) = domain_and_visibility(domain, visibility);
            let done = run_task(
                target.workloads(),
                target.set_metadata_entries(&typed, d, vis),
                &format!("setting {} metadata entries", typed.len()),
                args,
                &ctx,
            )
            .await?;
            match done {
                Some(_) => show_all(target).await,
                None => Ok(()),
            }
        }
        MetadataSub::Remove { key } => {
            let done = run_task(
                target.workloads(),
                target.delete_metadata(&key),
                &format!("removing metadata {key:?}"),
                args,
                &ctx,
            )
            .await?;
            match done {
                Some(_) => show_all(target).await,
                None => Ok(()),
            }
        }
    }
}

// ----- vApps -----

/// What undeploy does to running VMs (`--action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum UndeployAction {
    /// The VMs' own default.
    #[default]
    Default,
    /// Power off.
    PowerOff,
    /// Suspend.
    Suspend,
    /// Shut the guests down.
    Shutdown,
    /// Force.
    Force,
}

impl UndeployAction {
    /// The library's value.
    pub(crate) fn library(self) -> UndeployPowerAction {
        match self {
            UndeployAction::Default => UndeployPowerAction::Default,
            UndeployAction::PowerOff => UndeployPowerAction::PowerOff,
            UndeployAction::Suspend => UndeployPowerAction::Suspend,
            UndeployAction::Shutdown => UndeployPowerAction::Shutdown,
            UndeployAction::Force => UndeployPowerAction::Force,
        }
    }
}

/// Deploy flags shared by `vapp deploy` and `vm deploy`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DeployArgs {
    /// Deploy without powering on.
    #[arg(long)]
    no_power_on: bool,
    /// Run guest customization again.
    #[arg(long)]
    force_customization: bool,
    /// The deployment lease, in seconds.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    lease: Option<i64>,
}

impl DeployArgs {
    /// The library's options.
    pub(crate) fn options(&self) -> Result<DeployOptions, Failure> {
        if let Some(l) = self.lease
            && l < 0
        {
            return Err(Failure::new(
                "reading --lease",
                Error::invalid_input(format!("--lease must not be negative, not {l}")),
            ));
        }
        Ok(DeployOptions {
            power_on: !self.no_power_on,
            force_customization: self.force_customization,
            lease_seconds: self.lease,
        })
    }
}

/// A vApp named on the command line, with the vDC that narrows its name.
#[derive(Debug, Clone, Args)]
pub(crate) struct VAppRef {
    /// The vApp (name, id, urn or href).
    #[arg(value_name = "VAPP")]
    vapp: String,
    /// Look the name up in this vDC (name or id) only.
    #[arg(long = "in", id = "in_vdc", value_name = "VDC", global = true)]
    vdc: Option<String>,
}

impl VAppRef {
    fn handle(&self, ws: &Workloads) -> VAppHandle {
        vapp_handle(ws, &self.vapp, self.vdc.as_deref())
    }
}

/// A vApp handle: in the vDC when one is given, else among every vApp.
pub(crate) fn vapp_handle(ws: &Workloads, vapp: &str, vdc: Option<&str>) -> VAppHandle {
    match vdc {
        Some(v) => ws.vdc(v).vapp(vapp),
        None => ws.vapp(vapp),
    }
}

/// `vapp snapshot ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum VAppSnapshotSub {
    /// Creates a snapshot of every VM (replacing the current ones).
    Create {
        #[command(flatten)]
        target: VAppRef,
        /// Include the memory of running VMs.
        #[arg(long)]
        memory: bool,
        /// Quiesce the guest file systems (needs guest tools).
        #[arg(long)]
        quiesce: bool,
        /// A name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Reverts every VM to its current snapshot.
    Revert(VAppRef),
    /// Removes every snapshot of every VM.
    RemoveAll(VAppRef),
}

/// The vApp commands.
#[derive(Debug, Subcommand)]
pub(crate) enum VAppSub {
    /// The vApps the user sees (of one vDC with --in).
    List {
        /// Only the vApps of this vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: Option<String>,
    },
    /// One vApp with its VMs.
    Show(VAppRef),
    /// Creates a vApp from a vApp template (instantiate) and waits for it.
    Create {
        /// The new vApp's name.
        name: String,
        /// The vDC to create it in (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
        /// The vApp template (name or id).
        #[arg(long)]
        template: String,
        /// Look the template name up in this catalog only.
        #[arg(long)]
        catalog: Option<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// Bridge a vApp network to this org vDC network (repeat for more).
        #[arg(long = "network", value_name = "ORG_NETWORK")]
        networks: Vec<String>,
        /// Name a template VM in the new vApp: TEMPLATE_VM=NAME (repeat for more).
        #[arg(long = "vm", value_name = "TEMPLATE_VM=NAME")]
        vms: Vec<String>,
        /// A storage profile of the vDC for every VM (by name).
        #[arg(long)]
        storage_profile: Option<String>,
        /// Power the vApp on once created.
        #[arg(long)]
        power_on: bool,
        /// Do not deploy it.
        #[arg(long, conflicts_with = "power_on")]
        no_deploy: bool,
    },
    /// Deploys the vApp (powering its VMs on unless --no-power-on).
    Deploy {
        #[command(flatten)]
        target: VAppRef,
        #[command(flatten)]
        deploy: DeployArgs,
    },
    /// Undeploys the vApp.
    Undeploy {
        #[command(flatten)]
        target: VAppRef,
        /// What happens to running VMs.
        #[arg(long, value_enum, default_value_t = UndeployAction::Default)]
        action: UndeployAction,
    },
    /// Powers the vApp on.
    PowerOn(VAppRef),
    /// Powers the vApp off, hard (it stays deployed).
    PowerOff(VAppRef),
    /// Shuts the guests down (needs guest tools).
    Shutdown(VAppRef),
    /// Reboots the guests (needs guest tools).
    Reboot(VAppRef),
    /// Suspends the vApp.
    Suspend(VAppRef),
    /// Resets the vApp.
    Reset(VAppRef),
    /// Discards the suspended state.
    DiscardSuspend(VAppRef),
    /// Renames the vApp (and sets its description).
    Rename {
        #[command(flatten)]
        target: VAppRef,
        /// The new name.
        new_name: String,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Metadata of the vApp: get, set, remove.
    Metadata {
        #[command(flatten)]
        target: VAppRef,
        #[command(subcommand)]
        sub: MetadataSub,
    },
    /// Snapshots of every VM of the vApp: create, revert, remove-all.
    #[command(subcommand)]
    Snapshot(VAppSnapshotSub),
    /// The vApp's networks: list, add, update, remove.
    Network {
        #[command(flatten)]
        target: VAppRef,
        #[command(subcommand)]
        sub: VAppNetworkSub,
    },
    /// Adds a VM from a VM of a vApp template (recompose).
    AddVm {
        #[command(flatten)]
        target: VAppRef,
        /// The vApp template that holds the VM (name or id).
        #[arg(long)]
        template: String,
        /// Look the template name up in this catalog only.
        #[arg(long)]
        catalog: Option<String>,
        /// The template's VM to copy [default: the template's only VM]
        #[arg(long)]
        source_vm: Option<String>,
        /// The new VM's name.
        #[arg(long)]
        name: Option<String>,
        /// Its computer name.
        #[arg(long)]
        computer_name: Option<String>,
        /// The vApp network of its first NIC (pool addressing).
        #[arg(long)]
        network: Option<String>,
        /// A storage profile of the vDC (by name).
        #[arg(long)]
        storage_profile: Option<String>,
    },
    /// Removes VMs from the vApp (recompose; vCD wants them powered off).
    RemoveVm {
        #[command(flatten)]
        target: VAppRef,
        /// The VMs (names or ids).
        #[arg(required = true, value_name = "VM")]
        vms: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Deletes the vApp (vCD refuses a deployed one unless --undeploy).
    Delete {
        #[command(flatten)]
        target: VAppRef,
        /// Undeploy (power off) a deployed vApp first.
        #[arg(long)]
        undeploy: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
}

impl VAppSub {
    /// Whether the command only reads (and so keeps the default deadline).
    pub(crate) fn is_read(&self) -> bool {
        matches!(
            self,
            VAppSub::List { .. }
                | VAppSub::Show(_)
                | VAppSub::Network {
                    sub: VAppNetworkSub::List,
                    ..
                }
                | VAppSub::Metadata {
                    sub: MetadataSub::Get { .. },
                    ..
                }
        )
    }
}

/// A VM of a vApp, as `vapp show` prints it.
#[derive(Debug, Serialize)]
struct VAppVmView {
    name: String,
    id: Option<String>,
    status: String,
    cpus: Option<i64>,
    memory_mb: Option<i64>,
    ip_addresses: Vec<String>,
    /// When the VM's current snapshot was taken, if it has one.
    snapshot: Option<String>,
}

/// A vApp as printed.
#[derive(Debug, Serialize)]
pub(crate) struct VAppView {
    name: String,
    id: Option<String>,
    href: Option<String>,
    status: String,
    deployed: Option<bool>,
    description: Option<String>,
    owner: Option<String>,
    created: Option<String>,
    vms: Vec<VAppVmView>,
}

fn status_name(code: Option<i64>) -> String {
    code.map(|c| {
        nebulair_vcloud::model::vcd::VAppStatus::from_code(c)
            .as_str()
            .to_owned()
    })
    .unwrap_or_default()
}

impl VAppView {
    fn of(doc: &VApp) -> Self {
        VAppView {
            name: doc.name.clone().unwrap_or_default(),
            id: doc.id.clone(),
            href: doc.href.clone(),
            status: status_name(doc.status),
            deployed: doc.deployed,
            description: doc.description.clone(),
            owner: doc
                .owner
                .as_ref()
                .and_then(|o| o.user.as_ref())
                .and_then(|u| u.name.clone()),
            created: doc.date_created.clone(),
            vms: doc
                .vms()
                .iter()
                .map(|v| VAppVmView {
                    name: v.name.clone().unwrap_or_default(),
                    id: v.id.clone(),
                    status: status_name(v.status),
                    cpus: v.cpu_count(),
                    memory_mb: v.memory_mb(),
                    ip_addresses: v
                        .network_connections()
                        .iter()
                        .filter_map(|c| c.ip_address.clone())
                        .collect(),
                    snapshot: v.snapshot().map(|s| s.created.clone().unwrap_or_default()),
                })
                .collect(),
        }
    }

    fn text(&self) -> String {
        let mut out = key_values(&[
            ("name", self.name.clone()),
            ("id", self.id.clone().unwrap_or_default()),
            ("status", self.status.clone()),
            (
                "deployed",
                self.deployed.map(|d| d.to_string()).unwrap_or_default(),
            ),
            ("description", self.description.clone().unwrap_or_default()),
            ("owner", self.owner.clone().unwrap_or_default()),
            ("created", self.created.clone().unwrap_or_default()),
        ]);
        if !self.vms.is_empty() {
            let mut t = Table::new(["VM", "STATUS", "CPUS", "MEMORY (MB)", "IP"]);
            for v in &self.vms {
                t.row([
                    v.name.clone(),
                    v.status.clone(),
                    v.cpus.map(|c| c.to_string()).unwrap_or_default(),
                    v.memory_mb.map(|c| c.to_string()).unwrap_or_default(),
                    v.ip_addresses.join(", "),
                ]);
            }
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    }
}

/// A vApp of `vapp list`.
#[derive(Debug, Serialize)]
struct VAppRow {
    name: String,
    id: Option<String>,
    href: String,
    status: Option<String>,
    deployed: Option<bool>,
    vdc: Option<String>,
    owner: Option<String>,
}

async fn show_vapp(h: &VAppHandle, ctx: &Ctx) -> Result<(), Failure> {
    let doc = h
        .get()
        .await
        .map_err(|e| vcd_failure("reading the vApp", e))?;
    let v = VAppView::of(&doc);
    ctx.printer.print(&v, || v.text()).map_err(io_failure)
}

/// Checks that the vDC has a storage profile of this name, for a clear message before
/// anything is sent (the library's own error names it as a vDC).
pub(crate) async fn check_storage_profile(
    vdc: &nebulair_vcloud::workload::VdcHandle,
    name: &str,
) -> Result<(), Failure> {
    let doc = vdc
        .get()
        .await
        .map_err(|e| vcd_failure("reading the vDC", e))?;
    let names: Vec<String> = doc
        .vdc_storage_profiles
        .as_ref()
        .map(|p| p.vdc_storage_profiles.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.name.clone())
        .collect();
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    Err(Failure::new(
        "reading --storage-profile",
        Error::new(
            ErrorKind::NotFound,
            format!(
                "vDC {:?} has no storage profile {name:?} (it has: {})",
                doc.name.unwrap_or_default(),
                names.join(", ")
            ),
        ),
    ))
}

/// Parses `--vm TEMPLATE_VM=NAME`.
fn vm_rename(text: &str) -> Result<(String, String), Failure> {
    match text.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
            Ok((from.trim().to_owned(), to.trim().to_owned()))
        }
        _ => Err(Failure::new(
            "reading --vm",
            Error::invalid_input(format!("{text:?} is not TEMPLATE_VM=NAME")),
        )),
    }
}

/// Runs a vApp command.
pub(crate) async fn vapp(
    sub: VAppSub,
    client: &VcdClient,
    args: &TaskArgs,
    ctx: Ctx,
) -> Result<(), Failure> {
    let p = ctx.printer;
    let ws = args.workloads(client, &ctx)?;
    // A power action: the task, then the vApp read again.
    let act = |h: VAppHandle, pending: Pending, what: String| async move {
        if run_task(h.workloads(), pending, &what, args, &ctx)
            .await?
            .is_some()
        {
            show_vapp(&h, &ctx).await?;
        }
        Ok::<(), Failure>(())
    };
    match sub {
        VAppSub::List { vdc } => {
            let vdc_href = match &vdc {
                Some(v) => Some(ws.vdc(v.as_str()).href().await.during("finding the vDC")?),
                None => None,
            };
            let records: Vec<VAppRecord> = Query::new(QueryType::VApp)
                .sort_asc("name")
                .stream_typed(client)
                .try_collect()
                .await
                .during("listing the vApps")?;
            let same = |a: &str, b: &str| {
                let tail = |s: &str| {
                    s.trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .map(str::to_owned)
                };
                tail(a) == tail(b)
            };
            let rows: Vec<VAppRow> = records
                .into_iter()
                .filter(|r| match (&vdc_href, &r.vdc) {
                    (Some(want), Some(have)) => same(want, have),
                    (Some(_), None) => false,
                    (None, _) => true,
                })
                .map(|r| VAppRow {
                    name: r.name.clone().unwrap_or_default(),
                    id: r.uuid().map(|u| format!("urn:vcloud:vapp:{u}")),
                    href: r.href.clone(),
                    status: r.status.clone(),
                    deployed: r.is_deployed,
                    vdc: r.vdc_name.clone(),
                    owner: r.owner_name.clone(),
                })
                .collect();
            p.print(&rows, || {
                let mut t = Table::new(["NAME", "STATUS", "DEPLOYED", "VDC", "ID"]);
                for r in &rows {
                    t.row([
                        r.name.clone(),
                        r.status.clone().unwrap_or_default(),
                        r.deployed.map(|d| d.to_string()).unwrap_or_default(),
                        r.vdc.clone().unwrap_or_default(),
                        r.id.clone().unwrap_or_default(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)?;
            p.note(&crate::commands::vcloud::count(rows.len(), "vApp"));
            Ok(())
        }
        VAppSub::Show(r) => show_vapp(&r.handle(&ws), &ctx).await,
        VAppSub::Create {
            name,
            vdc,
            template,
            catalog,
            description,
            networks,
            vms,
            storage_profile,
            power_on,
            no_deploy,
        } => {
            if let Some(sp) = &storage_profile {
                check_storage_profile(&ws.vdc(vdc.as_str()), sp).await?;
            }
            let mut params = InstantiateParams::new(name.clone())
                .power_on(power_on)
                .deploy(!no_deploy);
            if let Some(d) = description {
                params = params.description(d);
            }
            for n in networks {
                params = params.network(NetworkMapping::bridged(n));
            }
            for v in &vms {
                let (from, to) = vm_rename(v)?;
                let mut s = VmSettings::named(to);
                if let Some(sp) = &storage_profile {
                    s = s.storage_profile(sp.clone());
                }
                params = params.vm(from, s);
            }
            if let Some(sp) = storage_profile {
                params = params.all_vms(VmSettings::default().storage_profile(sp));
            }
            let tpl = match &catalog {
                Some(c) => ws.catalog(c.as_str()).template(template.as_str()),
                None => ws.vapp_template(template.as_str()),
            };
            let what = format!("creating vApp {name}");
            let pending = ws.vdc(vdc.as_str()).instantiate(&tpl, params);
            if args.no_wait {
                let (h, task) = pending.await.map_err(|e| vcd_failure(&what, e))?;
                let href = h.href().await.during("reading the new vApp's href")?;
                let t = TaskView::of(&task);
                let v = serde_json::json!({
                    "task": t.task, "id": t.id, "status": t.status,
                    "operation": t.operation, "vapp": href,
                });
                return p
                    .print(&v, || {
                        key_values(&[
                            ("task", t.task.clone()),
                            ("id", t.id.clone().unwrap_or_default()),
                            ("status", t.status.clone()),
                            ("operation", t.operation.clone().unwrap_or_default()),
                            ("vapp", href.clone()),
                        ])
                    })
                    .map_err(io_failure);
            }
            let (h, task) = pending.await.map_err(|e| vcd_failure(&what, e))?;
            wait_shown(&ws, &task, &what)
                .await
                .map_err(|e| vcd_failure(&what, e))?;
            show_vapp(&h, &ctx).await
        }
        VAppSub::Deploy { target, deploy } => {
            let options = deploy.options()?;
            let h = target.handle(&ws);
            act(
                h.clone(),
                h.deploy(options),
                format!("deploying vApp {}", target.vapp),
            )
            .await
        }
        VAppSub::Undeploy { target, action } => {
            let h = target.handle(&ws);
            act(
                h.clone(),
                h.undeploy(action.library()),
                format!("undeploying vApp {}", target.vapp),
            )
            .await
        }
        VAppSub::PowerOn(t) => {
            let h = t.handle(&ws);
            act(
                h.clone(),
                h.power_on(),
                format!("powering on vApp {}", t.vapp),
            )
            .await
        }
        VAppSub::PowerOff(t) => {
            let h = t.handle(&ws);
            act(
                h.clone(),
                h.power_off(),
                format!("powering off vApp {}", t.vapp),
            )
            .await
        }
        VAppSub::Shutdown(t) => {
            let h = t.handle(&ws);
            act(
                h.clone(),
                h.shutdown(),
                format!("shutting down vApp {}", t.vapp),
            )
            .await
        }
        VAppSub::Reboot(t) => {
            let h = t.handle(&ws);
            act(h.clone(), h.reboot(), format!("rebooting vApp {}", t.vapp)).await
        }
        VAppSub::Suspend(t) => {
            let h = t.handle(&ws);
            act(
                h.clone(),
                h.suspend(),
                format!("suspending vApp {}", t.vapp),
            )
            .await
        }
        VAppSub::Reset(t) => {
            let h = t.handle(&ws);
            act(h.clone(), h.reset(), format!("resetting vApp {}", t.vapp)).await
        }
        VAppSub::DiscardSuspend(t) => {
            let h = t.handle(&ws);
            act(
                h.clone(),
                h.discard_suspended_state(),
                format!("discarding the suspended state of vApp {}", t.vapp),
            )
            .await
        }
        VAppSub::Rename {
            target,
            new_name,
            description,
        } => {
            if new_name.trim().is_empty() {
                return Err(Failure::new(
                    "renaming the vApp",
                    Error::invalid_input("the new name is empty"),
                ));
            }
            let h = target.handle(&ws);
            act(
                h.clone(),
                h.update(Some(new_name.clone()), description),
                format!("renaming vApp {} to {new_name}", target.vapp),
            )
            .await
        }
        VAppSub::Snapshot(VAppSnapshotSub::Create {
            target,
            memory,
            quiesce,
            name,
        }) => {
            let h = target.handle(&ws);
            let options = nebulair_vcloud::workload::SnapshotOptions {
                memory,
                quiesce,
                name,
            };
            act(
                h.clone(),
                h.create_snapshot(&options),
                format!("creating a snapshot of vApp {}", target.vapp),
            )
            .await
        }
        VAppSub::Network { target, sub } => {
            vapp_network(target.handle(&ws), &target.vapp, sub, args, ctx).await
        }
        VAppSub::Snapshot(VAppSnapshotSub::Revert(t)) => {
            let h = t.handle(&ws);
            act(
                h.clone(),
                h.revert_to_current_snapshot(),
                format!("reverting vApp {} to its snapshot", t.vapp),
            )
            .await
        }
        VAppSub::Snapshot(VAppSnapshotSub::RemoveAll(t)) => {
            let h = t.handle(&ws);
            act(
                h.clone(),
                h.remove_all_snapshots(),
                format!("removing the snapshots of vApp {}", t.vapp),
            )
            .await
        }
        VAppSub::AddVm {
            target,
            template,
            catalog,
            source_vm,
            name,
            computer_name,
            network,
            storage_profile,
        } => {
            let tpl = match &catalog {
                Some(c) => ws.catalog(c.as_str()).template(template.as_str()),
                None => ws.vapp_template(template.as_str()),
            };
            let doc = tpl
                .get()
                .await
                .map_err(|e| vcd_failure("reading the vApp template", e))?;
            let vms: Vec<(String, String)> = doc
                .vm_templates()
                .iter()
                .filter_map(|v| Some((v.name.clone()?, v.href.clone()?)))
                .collect();
            let source = match (&source_vm, vms.as_slice()) {
                (Some(want), _) => vms.iter().find(|(n, _)| n == want),
                (None, [one]) => Some(one),
                (None, _) => None,
            };
            let Some((_, source)) = source else {
                let names: Vec<&str> = vms.iter().map(|(n, _)| n.as_str()).collect();
                return Err(Failure::new(
                    "choosing the template VM",
                    Error::new(
                        if source_vm.is_some() {
                            ErrorKind::NotFound
                        } else {
                            ErrorKind::InvalidInput
                        },
                        match &source_vm {
                            Some(w) => format!(
                                "template {template:?} has no VM {w:?} (it has: {})",
                                names.join(", ")
                            ),
                            None => format!(
                                "template {template:?} has {} VMs ({}): pick one with --source-vm",
                                names.len(),
                                names.join(", ")
                            ),
                        },
                    ),
                ));
            };
            let h = target.handle(&ws);
            if let Some(sp) = &storage_profile {
                let vdc = h
                    .vdc()
                    .await
                    .map_err(|e| vcd_failure("finding the vApp's vDC", e))?;
                check_storage_profile(&vdc, sp).await?;
            }
            let mut settings = VmSettings {
                name,
                computer_name,
                ..VmSettings::default()
            };
            if let Some(n) = network {
                settings = settings.network(n, nebulair_vcloud::workload::IpAllocation::Pool);
            }
            if let Some(sp) = storage_profile {
                settings = settings.storage_profile(sp);
            }
            let params = nebulair_vcloud::workload::RecomposeParams::default()
                .add_vm(source.clone(), settings);
            act(
                h.clone(),
                h.recompose(params),
                format!("adding a VM to vApp {}", target.vapp),
            )
            .await
        }
        VAppSub::RemoveVm {
            target,
            vms,
            confirm,
        } => {
            let h = target.handle(&ws);
            let mut params = nebulair_vcloud::workload::RecomposeParams::default();
            let mut plan = Vec::new();
            // Every name is looked up before asking or sending anything.
            for v in &vms {
                let vm = h.vm(v.as_str());
                let href = vm
                    .href()
                    .await
                    .map_err(|e| vcd_failure(&format!("finding VM {v}"), e))?;
                plan.push(format!("remove VM {v} from vApp {}", target.vapp));
                params = params.remove_vm(href);
            }
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            act(
                h.clone(),
                h.recompose(params),
                format!("removing VMs from vApp {}", target.vapp),
            )
            .await
        }
        VAppSub::Metadata { target, sub } => {
            metadata(sub, Entity::VApp(target.handle(&ws)), args, ctx).await
        }
        VAppSub::Delete {
            target,
            undeploy,
            confirm,
        } => {
            let h = target.handle(&ws);
            // Resolve the name (and read the vApp) before asking.
            let doc = h
                .get()
                .await
                .map_err(|e| vcd_failure("reading the vApp", e))?;
            let name = doc.name.clone().unwrap_or_default();
            let id = doc.id.clone().unwrap_or_default();
            let mut plan = Vec::new();
            if undeploy && doc.deployed == Some(true) {
                plan.push(format!("undeploy vApp {name} ({id})"));
            }
            plan.push(format!(
                "delete vApp {name} ({id}) with {} VM(s)",
                doc.vms().len()
            ));
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            let pending = h.delete_with(DeleteOptions {
                undeploy_first: undeploy,
            });
            let done = run_task(&ws, pending, &format!("deleting vApp {name}"), args, &ctx)
                .await
                .map_err(|f| {
                    if doc.deployed == Some(true) && !undeploy {
                        f.hint("the vApp is deployed: add --undeploy to power it off first")
                    } else {
                        f
                    }
                })?;
            if done.is_some() {
                p.print(&serde_json::json!({ "deleted": name, "id": id }), || {
                    format!("deleted vApp {name}\n")
                })
                .map_err(io_failure)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_parse_or_fail_typed() {
        assert_eq!(
            typed_value(MetaType::Number, " 42 ").expect("n"),
            MetadataTypedValue::Number(42)
        );
        assert_eq!(
            typed_value(MetaType::Boolean, "TRUE").expect("b"),
            MetadataTypedValue::Boolean(true)
        );
        assert!(typed_value(MetaType::Number, "4.5").is_err());
        assert!(typed_value(MetaType::Boolean, "yes").is_err());
        assert!(typed_value(MetaType::Datetime, "tomorrow").is_err());
        assert_eq!(
            typed_value(MetaType::Datetime, "2026-01-01T00:00:00Z").expect("d"),
            MetadataTypedValue::DateTime("2026-01-01T00:00:00Z".into())
        );
    }

    #[test]
    fn vm_renames_need_both_sides() {
        assert_eq!(
            vm_rename("web = shop-web").expect("ok"),
            ("web".into(), "shop-web".into())
        );
        assert!(vm_rename("web").is_err());
        assert!(vm_rename("=x").is_err());
        assert!(vm_rename("x=").is_err());
    }
}
