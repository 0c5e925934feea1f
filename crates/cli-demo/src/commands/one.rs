//! `nebulair one ...`: everyday OpenNebula operations, configured like the `onevm` tools.

use std::io::Read as _;
use std::path::Path;

use nebulair_core::{Credentials, Error, ExposeSecret, HttpConfig};
use nebulair_opennebula::api::UpdateType;
use nebulair_opennebula::client::EnvSource;
use nebulair_opennebula::ids::{HostId, TemplateId, UserId, VmId};
use nebulair_opennebula::model::{
    Host, HostPool, ImagePool, LcmState, Vm, VmPool, VmState, VmTemplate, VmTemplatePool, VnetPool,
};
use nebulair_opennebula::pool::{PoolFilter, VmStateFilter, Who as PoolWho};
use nebulair_opennebula::rpc::RpcValue;
use nebulair_opennebula::{OneClient, Template, VmAction};

use crate::Ctx;
use crate::commands::common::{block_on, io_failure, read_secret_file, read_secret_stdin};
use crate::commands::one_args::{
    HostSub, ListOnly, OneCmd, OneConn, OneSub, PoolArgs, TemplateSub, VmSub, Who,
};
use crate::commands::one_family::FamilySub;
use crate::commands::one_resolve::{self as resolve, Kind};
use crate::commands::one_view::{
    self, HOST_COLUMNS, HOST_STATES, IMAGE_COLUMNS, IMAGE_STATES, NO_STATES, StateNames,
    TEMPLATE_COLUMNS, VM_COLUMNS, VM_STATES, VNET_COLUMNS, VNET_STATES, name_states, vm_state,
};
use crate::commands::{one_call, one_family};
use crate::output::{Col, Doc, Table, key_values, select_columns, to_doc};
use crate::report::{Context as _, Failure};

const ENDPOINT_HINT: &str = "is oned running at that address? set --endpoint or ONE_XMLRPC (`nebulair simulate` starts a local one)";
const URL_HINT: &str = "the endpoint must be an http(s) URL such as http://frontend:2633/RPC2 (--endpoint, ONE_XMLRPC or ~/.one/one_endpoint)";
const AUTH_HINT: &str = "check the user and password: --user with --password-stdin, --auth-file, ONE_AUTH or ~/.one/one_auth";

impl OneCmd {
    /// Runs the command.
    pub(crate) fn run(self, ctx: Ctx) -> Result<(), Failure> {
        let client = self.conn.client(&ctx)?;
        block_on(
            &ctx,
            Some(crate::DEFAULT_DEADLINE),
            run(self.command, &client, ctx),
        )
    }
}

impl OneConn {
    /// The client these flags (and the environment) describe.
    pub(crate) fn client(&self, ctx: &Ctx) -> Result<OneClient, Failure> {
        match self.with_profile(ctx)? {
            Some(conn) => conn.client_direct(ctx),
            None => self.client_direct(ctx),
        }
    }

    /// These flags completed by the active OpenNebula profile, when there is one and
    /// neither the flags nor ONE_XMLRPC/ONE_AUTH say where to go.
    fn with_profile(&self, ctx: &Ctx) -> Result<Option<OneConn>, Failure> {
        let env_set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
        if self.endpoint.is_some() || self.auth_file.is_some() || env_set("ONE_XMLRPC") {
            return Ok(None);
        }
        let Some((name, prof)) = crate::commands::profile::active(ctx)? else {
            return Ok(None);
        };
        if prof.cloud != crate::commands::profile::CloudKind::One {
            return Ok(None);
        }
        let mut conn = self.clone();
        conn.endpoint = Some(prof.endpoint.clone());
        if conn.tls.ca_cert.is_none() {
            conn.tls.ca_cert = prof.ca_cert.clone();
        }
        conn.tls.insecure |= prof.insecure;
        if conn.user.is_none() && !env_set("ONE_AUTH") {
            conn.user = prof.user.clone();
        }
        if conn.user.is_some() && conn.password_file.is_none() && !conn.password_stdin {
            conn.password_file = crate::commands::profile::saved_password(&name)?;
        }
        Ok(Some(conn))
    }

    fn client_direct(&self, ctx: &Ctx) -> Result<OneClient, Failure> {
        let http = self.tls.http_config(HttpConfig::default(), ctx)?;
        // The retry policy stops where the command's deadline does.
        let builder = OneClient::builder().http_config(http).retry_policy(
            nebulair_core::RetryPolicy::default().deadline(ctx.deadline(crate::DEFAULT_DEADLINE)),
        );
        if let Some(user) = &self.user {
            let secret = match &self.password_file {
                Some(p) => read_secret_file(p).during("reading the password file")?,
                None if self.password_stdin => {
                    read_secret_stdin().during("reading the password from stdin")?
                }
                // On a terminal, ask (without echo), like the one* tools do.
                None if crate::commands::common::interactive() => {
                    crate::commands::common::prompt_secret(&format!("Password for {user}: "))?
                }
                None => {
                    return Err(Failure::new(
                        "configuring the OpenNebula client",
                        Error::invalid_input(
                            "--user needs --password-stdin or --password-file (or a terminal to ask on)",
                        ),
                    ));
                }
            };
            let endpoint = self
                .endpoint
                .clone()
                .or_else(|| std::env::var("ONE_XMLRPC").ok())
                .unwrap_or_else(|| nebulair_opennebula::client::DEFAULT_ENDPOINT.to_owned());
            let b = builder
                .endpoint(endpoint)
                .credentials(Credentials::password(
                    user.clone(),
                    secret.expose_secret().to_owned(),
                ));
            return b
                .build()
                .during("configuring the OpenNebula client")
                .map_err(config_hint);
        }
        let endpoint = self.endpoint.clone();
        let auth = self.auth_file.as_ref().map(|p| p.display().to_string());
        let var = move |name: &str| -> Option<String> {
            match name {
                "ONE_XMLRPC" if endpoint.is_some() => endpoint.clone(),
                "ONE_AUTH" if auth.is_some() => auth.clone(),
                _ => std::env::var(name).ok(),
            }
        };
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        OneClient::from_env_with(&EnvSource::new(&var, home.as_deref()), builder)
            .during("configuring the OpenNebula client")
            .map_err(config_hint)
    }
}

/// The hint for a client that cannot be configured: about the endpoint when the
/// endpoint is what is wrong, about credentials otherwise.
fn config_hint(f: Failure) -> Failure {
    let line = f.line().to_ascii_lowercase();
    if line.contains("endpoint") || line.contains("one_xmlrpc") {
        f.hint(URL_HINT)
    } else if line.contains("timeout") || line.contains("page_size") || line.contains("page size") {
        f
    } else {
        f.hint(AUTH_HINT)
    }
}

/// Adds the hint that fits the error kind of a failed call.
pub(crate) fn call_failed(action: impl Into<String>) -> impl FnOnce(Error) -> Failure {
    let action = action.into();
    move |e: Error| {
        let hint = if e.is_authentication() {
            Some(AUTH_HINT)
        } else if matches!(
            e.kind(),
            nebulair_core::ErrorKind::Transport | nebulair_core::ErrorKind::Timeout
        ) {
            Some(ENDPOINT_HINT)
        } else {
            None
        };
        let f = Failure::new(action, e);
        match hint {
            Some(h) => f.hint(h),
            None => f,
        }
    }
}

fn filter(pool: &PoolArgs) -> Result<PoolFilter, Failure> {
    let who = match (pool.owner, pool.who) {
        (Some(uid), _) => PoolWho::User(UserId::new(uid)),
        (None, Who::Mine) => PoolWho::Mine,
        (None, Who::MineAndGroup) => PoolWho::MineAndGroups,
        (None, Who::Group) => PoolWho::Group,
        (None, Who::All) => PoolWho::All,
    };
    let f = PoolFilter::with_who(who);
    match (pool.start_id, pool.end_id) {
        (None, None) => Ok(f),
        (s, e) => f
            .id_range(s.unwrap_or(-1), e.unwrap_or(-1))
            .during("reading --start-id/--end-id"),
    }
}

/// A check of a VM's `(STATE, LCM_STATE)`.
type StateCheck = Box<dyn Fn(Option<i64>, Option<i64>) -> bool>;

/// What `--state` asks for: the server-side filter, and a check of each VM for LCM
/// and short names the server cannot filter on.
pub(crate) struct StateWanted {
    server: VmStateFilter,
    keep: Option<StateCheck>,
}

impl std::fmt::Debug for StateWanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateWanted")
            .field("server", &self.server)
            .field("keep", &self.keep.is_some())
            .finish()
    }
}

fn vm_state_filter(state: Option<&str>) -> Result<StateWanted, Failure> {
    let server_only = |server| StateWanted { server, keep: None };
    let Some(s) = state else {
        return Ok(server_only(VmStateFilter::NotDone));
    };
    let upper = s.trim().to_ascii_uppercase();
    if upper == "ANY" || upper == "ALL" {
        return Ok(server_only(VmStateFilter::Any));
    }
    // A VM state (ACTIVE, POWEROFF, ...): the server filters.
    if let Some(c) = (0u8..=11).find(|c| VmState::from_code(i64::from(*c)).name() == Some(&upper)) {
        return Ok(server_only(VmStateFilter::State(c)));
    }
    // An LCM state (RUNNING, PROLOG, ...): ACTIVE VMs in that LCM state.
    if let Some(code) = (0i64..=200).find(|c| LcmState::from_code(*c).name() == Some(&upper)) {
        return Ok(StateWanted {
            server: VmStateFilter::State(3),
            keep: Some(Box::new(move |_, lcm| lcm == Some(code))),
        });
    }
    // A short name as the STAT column shows it (runn, poff, ...).
    let lower = s.trim().to_ascii_lowercase();
    let known = (0i64..=11)
        .map(|c| one_view::short_vm_state(VmState::from_code(c)))
        .chain(
            (0i64..=200)
                .filter(|c| LcmState::from_code(*c).name().is_some())
                .map(|c| one_view::short_lcm_state(LcmState::from_code(c))),
        )
        .any(|n| n == lower);
    if known {
        return Ok(StateWanted {
            server: VmStateFilter::Any,
            keep: Some(Box::new(move |st, lcm| one_view::vm_stat(st, lcm) == lower)),
        });
    }
    Err(Failure::new(
        "reading --state",
        Error::invalid_input(format!(
            "unknown VM state {s:?}: a VM state (INIT, PENDING, HOLD, ACTIVE, STOPPED, SUSPENDED, DONE, FAILED, POWEROFF, UNDEPLOYED, CLONING, CLONING_FAILURE), an LCM state (RUNNING, PROLOG, BOOT, ...), a short name (runn, poff, pend, ...) or ANY"
        )),
    ))
}

/// Reads a template file (`-` is stdin) in either syntax.
pub(crate) fn read_template(path: &Path) -> Result<Template, Failure> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::new("reading the template from stdin", Error::from(e)))?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            Failure::new(
                format!("reading the template {}", path.display()),
                Error::from(e),
            )
        })?
    };
    Template::parse(&text).during(format!("parsing the template {}", path.display()))
}

/// A command-line argument for `one call`: `s:`/`i:`/`b:` prefixes force a type.
fn call_arg(a: &str) -> Result<RpcValue, Failure> {
    let bad = |what: &str| {
        Failure::new(
            "reading the call arguments",
            Error::invalid_input(format!("{a:?} is not {what}")),
        )
    };
    if let Some(s) = a.strip_prefix("s:") {
        return Ok(RpcValue::String(s.to_owned()));
    }
    if let Some(i) = a.strip_prefix("i:") {
        return i
            .parse()
            .map(RpcValue::Int)
            .map_err(|_| bad("a 32-bit integer"));
    }
    if let Some(b) = a.strip_prefix("b:") {
        return b
            .parse()
            .map(RpcValue::Bool)
            .map_err(|_| bad("true or false"));
    }
    if let Ok(i) = a.parse::<i32>() {
        return Ok(RpcValue::Int(i));
    }
    match a {
        "true" => Ok(RpcValue::Bool(true)),
        "false" => Ok(RpcValue::Bool(false)),
        _ => Ok(RpcValue::String(a.to_owned())),
    }
}

fn template_text(t: &Template) -> String {
    t.render()
        .unwrap_or_else(|e| format!("(cannot render: {e})"))
}

fn vm_text(vm: &Vm) -> String {
    let host = vm
        .history_records
        .as_ref()
        .and_then(|h| h.history.last())
        .and_then(|h| h.hostname.clone())
        .unwrap_or_else(|| "-".to_owned());
    let mut out = key_values(&[
        ("ID", vm.id.to_string()),
        ("NAME", vm.name.clone().unwrap_or_default()),
        ("USER", vm.uname.clone().unwrap_or_default()),
        ("GROUP", vm.gname.clone().unwrap_or_default()),
        (
            "STATE",
            vm.state().map(|s| s.to_string()).unwrap_or_default(),
        ),
        (
            "LCM_STATE",
            vm.lcm_state().map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("STAT", vm_state(vm.state, vm.lcm_state)),
        ("HOST", host),
    ]);
    out.push_str("\nTEMPLATE\n");
    out.push_str(&template_text(&vm.template));
    if !vm.user_template.is_empty() {
        out.push_str("\nUSER TEMPLATE\n");
        out.push_str(&template_text(&vm.user_template));
    }
    out
}

fn host_text(h: &Host) -> String {
    let share = h.host_share.as_ref();
    let mut out = key_values(&[
        ("ID", h.id.to_string()),
        ("NAME", h.name.clone().unwrap_or_default()),
        (
            "STATE",
            h.state().map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("CLUSTER", h.cluster.clone().unwrap_or_default()),
        ("IM_MAD", h.im_mad.clone().unwrap_or_default()),
        ("VM_MAD", h.vm_mad.clone().unwrap_or_default()),
        (
            "RUNNING VMS",
            share
                .and_then(|s| s.running_vms)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ),
        (
            "CPU (used/max)",
            share
                .map(|s| format!("{} / {}", s.cpu_usage.unwrap_or(0), s.max_cpu.unwrap_or(0)))
                .unwrap_or_default(),
        ),
        (
            "MEMORY KiB (used/max)",
            share
                .map(|s| format!("{} / {}", s.mem_usage.unwrap_or(0), s.max_mem.unwrap_or(0)))
                .unwrap_or_default(),
        ),
    ]);
    out.push_str("\nTEMPLATE\n");
    out.push_str(&template_text(&h.template));
    out
}

fn template_show_text(t: &VmTemplate) -> String {
    let mut out = key_values(&[
        ("ID", t.id.to_string()),
        ("NAME", t.name.clone().unwrap_or_default()),
        ("USER", t.uname.clone().unwrap_or_default()),
        ("GROUP", t.gname.clone().unwrap_or_default()),
    ]);
    out.push_str("\nTEMPLATE\n");
    out.push_str(&template_text(&t.template));
    out
}

async fn run(command: OneSub, client: &OneClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match command {
        OneSub::Version => {
            let v = client
                .system()
                .version()
                .await
                .map_err(call_failed("reading the OpenNebula version"))?;
            p.print(&serde_json::json!({ "version": v }), || format!("{v}\n"))
                .map_err(io_failure)
        }
        OneSub::Call { method, args } => {
            let params = args
                .iter()
                .map(|a| call_arg(a))
                .collect::<Result<Vec<_>, _>>()?;
            let v = client
                .call(&method, params)
                .await
                .map_err(call_failed(format!("calling {method}")))?;
            if one_call::answer_is_secret(&method) {
                // The answer is the login token itself: it is never printed.
                let doc = serde_norway::Value::String(one_call::REDACTED.to_owned());
                p.print_doc(&doc, || format!("{}\n", one_call::REDACTED))
                    .map_err(io_failure)?;
                eprintln!(
                    "note: {method} answered with a login token, which nebulair never prints"
                );
                return Ok(());
            }
            p.print_doc(&one_call::answer_doc(&v), || one_call::answer_text(&v))
                .map_err(io_failure)
        }
        OneSub::Vm(sub) => vm(sub, client, ctx).await,
        OneSub::Vntemplate(sub) => one_family::run(Kind::VnTemplate, sub, client, ctx).await,
        OneSub::Secgroup(sub) => one_family::run(Kind::SecGroup, sub, client, ctx).await,
        OneSub::Vmgroup(sub) => one_family::run(Kind::VmGroup, sub, client, ctx).await,
        OneSub::User(sub) => one_family::run(Kind::User, sub, client, ctx).await,
        OneSub::Group(sub) => one_family::run(Kind::Group, sub, client, ctx).await,
        OneSub::Acl(sub) => one_family::run_acl(sub, client, ctx).await,
        OneSub::Cluster(sub) => one_family::run(Kind::Cluster, sub, client, ctx).await,
        OneSub::Datastore(sub) => one_family::run(Kind::Datastore, sub, client, ctx).await,
        OneSub::Zone(sub) => one_family::run(Kind::Zone, sub, client, ctx).await,
        OneSub::Vdc(sub) => one_family::run(Kind::Vdc, sub, client, ctx).await,
        OneSub::Market(sub) => one_family::run(Kind::Market, sub, client, ctx).await,
        OneSub::Marketapp(sub) => one_family::run(Kind::MarketApp, sub, client, ctx).await,
        OneSub::Vrouter(sub) => one_family::run(Kind::Vrouter, sub, client, ctx).await,
        OneSub::Hook(sub) => one_family::run(Kind::Hook, sub, client, ctx).await,
        OneSub::Backupjob(sub) => one_family::run(Kind::BackupJob, sub, client, ctx).await,
        OneSub::Document(sub) => one_family::run(Kind::Document, sub, client, ctx).await,
        OneSub::Host(HostSub::List { columns }) => {
            let pool: HostPool = client
                .hosts()
                .info()
                .await
                .map_err(call_failed("listing hosts"))?;
            print_list(
                &ctx,
                &pool.host,
                HOST_COLUMNS,
                &columns.columns,
                HOST_STATES,
            )
        }
        OneSub::Host(HostSub::Show { host }) => {
            let id = resolve::one(client, Kind::Host, &host).await?;
            let host: Host = client
                .host(HostId::new(id))
                .info()
                .await
                .map_err(call_failed(format!("reading host {id}")))?;
            print_one(&ctx, &host, HOST_STATES, || host_text(&host))
        }
        OneSub::Template(sub) => template(sub, client, ctx).await,
        OneSub::Host(HostSub::Update { id, file, merge }) => {
            one_family::run(
                Kind::Host,
                FamilySub::Update { id, file, merge },
                client,
                ctx,
            )
            .await
        }
        OneSub::Host(HostSub::Rename { id, name }) => {
            one_family::run(Kind::Host, FamilySub::Rename { id, name }, client, ctx).await
        }
        OneSub::Host(HostSub::Delete { ids, confirm }) => {
            one_family::run(Kind::Host, FamilySub::Delete { ids, confirm }, client, ctx).await
        }

        OneSub::Image(ListOnly::List { pool, columns }) => {
            let images: ImagePool = client
                .images()
                .info(&filter(&pool)?)
                .await
                .map_err(call_failed("listing images"))?;
            print_list(
                &ctx,
                &images.image,
                IMAGE_COLUMNS,
                &columns.columns,
                IMAGE_STATES,
            )
        }
        OneSub::Vnet(ListOnly::List { pool, columns }) => {
            let vnets: VnetPool = client
                .vnets()
                .info(&filter(&pool)?)
                .await
                .map_err(call_failed("listing virtual networks"))?;
            print_list(
                &ctx,
                &vnets.vnet,
                VNET_COLUMNS,
                &columns.columns,
                VNET_STATES,
            )
        }
        OneSub::Image(sub) => one_family::run(Kind::Image, list_only(sub), client, ctx).await,
        OneSub::Vnet(sub) => one_family::run(Kind::Vnet, list_only(sub), client, ctx).await,
    }
}

/// The generic form of an image or vnet command other than `list`.
fn list_only(sub: ListOnly) -> FamilySub {
    match sub {
        ListOnly::Show { id } => FamilySub::Show { id },
        ListOnly::Update { id, file, merge } => FamilySub::Update { id, file, merge },
        ListOnly::Rename { id, name } => FamilySub::Rename { id, name },
        ListOnly::Delete { ids, confirm } => FamilySub::Delete { ids, confirm },
        ListOnly::List { columns, .. } => FamilySub::List { columns },
    }
}

/// Prints a list: a table of the chosen columns, or JSON/YAML with state names.
pub(crate) fn print_list<T: serde::Serialize>(
    ctx: &Ctx,
    items: &[T],
    cols: &[Col<T>],
    wanted: &[String],
    states: StateNames,
) -> Result<(), Failure> {
    let p = ctx.printer;
    if p.is_data() {
        let mut doc = to_doc(items).map_err(io_failure)?;
        name_states(&mut doc, states);
        return p.print_doc(&doc, String::new).map_err(io_failure);
    }
    let sel = select_columns(cols, wanted, p.wide())?;
    let table = Table::of(items, &sel);
    p.print_doc(&Doc::Null, || table.render())
        .map_err(io_failure)
}

/// Prints one object: its text, or JSON/YAML with state names.
pub(crate) fn print_one<T: serde::Serialize>(
    ctx: &Ctx,
    item: &T,
    states: StateNames,
    text: impl FnOnce() -> String,
) -> Result<(), Failure> {
    let p = ctx.printer;
    if p.is_data() {
        let mut doc = to_doc(item).map_err(io_failure)?;
        name_states(&mut doc, states);
        return p.print_doc(&doc, String::new).map_err(io_failure);
    }
    p.print_doc(&Doc::Null, text).map_err(io_failure)
}

async fn vm(sub: VmSub, client: &OneClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        VmSub::List {
            pool,
            columns,
            state,
        } => {
            let wanted = vm_state_filter(state.as_deref())?;
            let f = filter(&pool)?.state(wanted.server);
            let mut vms: VmPool = client
                .vms()
                .info(&f)
                .await
                .map_err(call_failed("listing virtual machines"))?;
            if let Some(keep) = wanted.keep {
                vms.vm.retain(|v| keep(v.state, v.lcm_state));
            }
            print_list(&ctx, &vms.vm, VM_COLUMNS, &columns.columns, VM_STATES)
        }
        VmSub::Show { vm } => {
            let id = resolve::one(client, Kind::Vm, &vm).await?;
            let vm: Vm = client
                .vm(VmId::new(id))
                .info()
                .await
                .map_err(call_failed(format!("reading VM {id}")))?;
            print_one(&ctx, &vm, VM_STATES, || vm_text(&vm))
        }
        VmSub::Create { file, hold } => {
            let tpl = read_template(&file)?;
            let id = client
                .vms()
                .allocate_with(&tpl, hold)
                .await
                .map_err(call_failed("creating the VM"))?;
            p.print(&serde_json::json!({ "id": id }), || format!("ID: {id}\n"))
                .map_err(io_failure)
        }
        VmSub::Action { action, vms, wait } => {
            let act: VmAction = action.parse().during("reading the action").map_err(|f| {
                let names: Vec<&str> = VmAction::ALL.iter().map(|a| a.as_str()).collect();
                f.hint(format!("one of {}", names.join(", ")))
            })?;
            // Every VM is found before the first action is sent.
            let ids = resolve::many(client, Kind::Vm, &vms).await?;
            let mut done = Vec::new();
            for id in ids {
                client
                    .vm(VmId::new(id))
                    .action(act)
                    .await
                    .map_err(call_failed(format!("running {act} on VM {id}")))?;
                done.push(id);
            }
            if wait.wait {
                let Some(target) = crate::wait::vm_target(act) else {
                    return Err(Failure::new(
                        "waiting",
                        Error::invalid_input(format!("{act} has no state to wait for")),
                    ));
                };
                for id in &done {
                    crate::wait::wait_vm(client, VmId::new(*id), target, &wait, &ctx).await?;
                }
            }
            p.print(
                &serde_json::json!({ "ids": done, "action": act.as_str() }),
                || {
                    done.iter()
                        .map(|id| format!("{act} VM {id}: done\n"))
                        .collect()
                },
            )
            .map_err(io_failure)
        }
        VmSub::Update { vm, file, merge } => {
            let tpl = read_template(&file)?;
            let id = resolve::one(client, Kind::Vm, &vm).await?;
            let kind = if merge {
                UpdateType::Merge
            } else {
                UpdateType::Replace
            };
            client
                .vm(VmId::new(id))
                .update(&tpl, kind)
                .await
                .map_err(call_failed(format!("updating VM {id}")))?;
            p.print(&serde_json::json!({ "id": id, "updated": true }), || {
                format!("VM {id} updated\n")
            })
            .map_err(io_failure)
        }
    }
}

async fn template(sub: TemplateSub, client: &OneClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        TemplateSub::List { pool, columns } => {
            let tpls: VmTemplatePool = client
                .templates()
                .info(&filter(&pool)?)
                .await
                .map_err(call_failed("listing VM templates"))?;
            print_list(
                &ctx,
                &tpls.vmtemplate,
                TEMPLATE_COLUMNS,
                &columns.columns,
                NO_STATES,
            )
        }
        TemplateSub::Show { template } => {
            let id = resolve::one(client, Kind::Template, &template).await?;
            let t: VmTemplate = client
                .template(TemplateId::new(id))
                .info()
                .await
                .map_err(call_failed(format!("reading VM template {id}")))?;
            print_one(&ctx, &t, NO_STATES, || template_show_text(&t))
        }
        TemplateSub::Update { id, file, merge } => {
            one_family::run(
                Kind::Template,
                FamilySub::Update { id, file, merge },
                client,
                ctx,
            )
            .await
        }
        TemplateSub::Rename { id, name } => {
            one_family::run(Kind::Template, FamilySub::Rename { id, name }, client, ctx).await
        }
        TemplateSub::Delete { ids, confirm } => {
            one_family::run(
                Kind::Template,
                FamilySub::Delete { ids, confirm },
                client,
                ctx,
            )
            .await
        }
        TemplateSub::Instantiate {
            template,
            name,
            hold,
            extra,
            wait,
        } => {
            let extra = match extra {
                Some(path) => read_template(&path)?,
                None => Template::new(),
            };
            let id = resolve::one(client, Kind::Template, &template).await?;
            let vm = client
                .template(TemplateId::new(id))
                .instantiate(&name, hold, &extra, false)
                .await
                .map_err(call_failed(format!("instantiating template {id}")))?;
            if wait.wait {
                let target = if hold {
                    nebulair_opennebula::api::VmTarget::State(
                        nebulair_opennebula::model::VmState::Hold,
                    )
                } else {
                    nebulair_opennebula::api::VmTarget::Lcm(
                        nebulair_opennebula::model::LcmState::Running,
                    )
                };
                crate::wait::wait_vm(client, vm, target, &wait, &ctx).await?;
            }
            p.print(&serde_json::json!({ "id": vm }), || {
                format!("VM ID: {vm}\n")
            })
            .map_err(io_failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_args_are_typed() {
        assert_eq!(call_arg("42").expect("int"), RpcValue::Int(42));
        assert_eq!(call_arg("-1").expect("int"), RpcValue::Int(-1));
        assert_eq!(call_arg("true").expect("bool"), RpcValue::Bool(true));
        assert_eq!(
            call_arg("s:42").expect("str"),
            RpcValue::String("42".into())
        );
        assert_eq!(call_arg("b:false").expect("bool"), RpcValue::Bool(false));
        assert_eq!(
            call_arg("web").expect("str"),
            RpcValue::String("web".into())
        );
        assert!(call_arg("i:x").is_err());
        assert!(call_arg("i:99999999999").is_err());
    }

    #[test]
    fn state_filter_names() {
        let f = |s: Option<&str>| vm_state_filter(s).expect("state");
        assert_eq!(f(None).server, VmStateFilter::NotDone);
        assert_eq!(f(Some("poweroff")).server, VmStateFilter::State(8));
        assert_eq!(f(Some("ANY")).server, VmStateFilter::Any);
        let running = f(Some("RUNNING"));
        assert_eq!(running.server, VmStateFilter::State(3));
        let keep = running.keep.expect("lcm check");
        assert!(keep(Some(3), Some(3)) && !keep(Some(3), Some(1)));
        let runn = f(Some("runn")).keep.expect("short check");
        assert!(runn(Some(3), Some(3)) && !runn(Some(8), Some(0)));
        let poff = f(Some("poff")).keep.expect("short check");
        assert!(poff(Some(8), Some(0)));
        assert!(vm_state_filter(Some("sleeping")).is_err());
    }
}
