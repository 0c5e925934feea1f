//! `nebulair one ...`: everyday OpenNebula operations, configured like the `onevm` tools.

use std::io::Read as _;
use std::path::Path;

use nebulair_core::{Credentials, Error, ExposeSecret, HttpConfig};
use nebulair_opennebula::api::UpdateType;
use nebulair_opennebula::client::EnvSource;
use nebulair_opennebula::ids::{HostId, TemplateId, UserId, VmId};
use nebulair_opennebula::model::{
    Host, HostPool, ImagePool, Vm, VmPool, VmState, VmTemplate, VmTemplatePool, VnetPool,
};
use nebulair_opennebula::pool::{PoolFilter, VmStateFilter, Who as PoolWho};
use nebulair_opennebula::rpc::RpcValue;
use nebulair_opennebula::{OneClient, Template, VmAction};

use crate::Ctx;
use crate::commands::common::{block_on, io_failure, read_secret_file, read_secret_stdin};
use crate::commands::one_args::{
    HostSub, ListOnly, OneCmd, OneConn, OneSub, PoolArgs, TemplateSub, VmSub, Who,
};
use crate::commands::one_call;
use crate::commands::one_view::{
    host_table, image_table, template_table, vm_state, vm_table, vnet_table,
};
use crate::output::key_values;
use crate::report::{Context as _, Failure};

const ENDPOINT_HINT: &str = "is oned running at that address? set --endpoint or ONE_XMLRPC (`nebulair simulate` starts a local one)";
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
        let http = self.tls.http_config(HttpConfig::default(), ctx)?;
        let builder = OneClient::builder().http_config(http);
        if let Some(user) = &self.user {
            let secret = match &self.password_file {
                Some(p) => read_secret_file(p).during("reading the password file")?,
                None if self.password_stdin => {
                    read_secret_stdin().during("reading the password from stdin")?
                }
                None => {
                    return Err(Failure::new(
                        "configuring the OpenNebula client",
                        Error::invalid_input("--user needs --password-stdin or --password-file"),
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
            return b.build().during("configuring the OpenNebula client");
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
            .map_err(|f| f.hint(AUTH_HINT))
    }
}

/// Adds the hint that fits the error kind of a failed call.
fn call_failed(action: impl Into<String>) -> impl FnOnce(Error) -> Failure {
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

fn vm_state_filter(state: Option<&str>) -> Result<VmStateFilter, Failure> {
    let Some(s) = state else {
        return Ok(VmStateFilter::NotDone);
    };
    let upper = s.to_ascii_uppercase();
    if upper == "ANY" {
        return Ok(VmStateFilter::Any);
    }
    (0u8..=11)
        .find(|c| VmState::from_code(i64::from(*c)).to_string() == upper)
        .map(VmStateFilter::State)
        .ok_or_else(|| {
            Failure::new(
                "reading --state",
                Error::invalid_input(format!(
                    "unknown VM state {s:?} (one of INIT, PENDING, HOLD, ACTIVE, STOPPED, SUSPENDED, DONE, FAILED, POWEROFF, UNDEPLOYED, CLONING, CLONING_FAILURE, ANY)"
                )),
            )
        })
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
        OneSub::Host(HostSub::List) => {
            let pool: HostPool = client
                .hosts()
                .info()
                .await
                .map_err(call_failed("listing hosts"))?;
            p.print(&pool.host, || host_table(&pool.host))
                .map_err(io_failure)
        }
        OneSub::Host(HostSub::Show { id }) => {
            let host: Host = client
                .host(HostId::new(id))
                .info()
                .await
                .map_err(call_failed(format!("reading host {id}")))?;
            p.print(&host, || host_text(&host)).map_err(io_failure)
        }
        OneSub::Template(sub) => template(sub, client, ctx).await,
        OneSub::Image(ListOnly::List { pool }) => {
            let images: ImagePool = client
                .images()
                .info(&filter(&pool)?)
                .await
                .map_err(call_failed("listing images"))?;
            p.print(&images.image, || image_table(&images.image))
                .map_err(io_failure)
        }
        OneSub::Vnet(ListOnly::List { pool }) => {
            let vnets: VnetPool = client
                .vnets()
                .info(&filter(&pool)?)
                .await
                .map_err(call_failed("listing virtual networks"))?;
            p.print(&vnets.vnet, || vnet_table(&vnets.vnet))
                .map_err(io_failure)
        }
    }
}

async fn vm(sub: VmSub, client: &OneClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        VmSub::List { pool, state } => {
            let f = filter(&pool)?.state(vm_state_filter(state.as_deref())?);
            let vms: VmPool = client
                .vms()
                .info(&f)
                .await
                .map_err(call_failed("listing virtual machines"))?;
            p.print(&vms.vm, || vm_table(&vms.vm)).map_err(io_failure)
        }
        VmSub::Show { id } => {
            let vm: Vm = client
                .vm(VmId::new(id))
                .info()
                .await
                .map_err(call_failed(format!("reading VM {id}")))?;
            p.print(&vm, || vm_text(&vm)).map_err(io_failure)
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
        VmSub::Action { action, id } => {
            let act: VmAction = action.parse().during("reading the action").map_err(|f| {
                let names: Vec<&str> = VmAction::ALL.iter().map(|a| a.as_str()).collect();
                f.hint(format!("one of {}", names.join(", ")))
            })?;
            client
                .vm(VmId::new(id))
                .action(act)
                .await
                .map_err(call_failed(format!("running {act} on VM {id}")))?;
            p.print(
                &serde_json::json!({ "id": id, "action": act.as_str() }),
                || format!("{act} VM {id}: done\n"),
            )
            .map_err(io_failure)
        }
        VmSub::Update { id, file, merge } => {
            let tpl = read_template(&file)?;
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
        TemplateSub::List { pool } => {
            let tpls: VmTemplatePool = client
                .templates()
                .info(&filter(&pool)?)
                .await
                .map_err(call_failed("listing VM templates"))?;
            p.print(&tpls.vmtemplate, || template_table(&tpls.vmtemplate))
                .map_err(io_failure)
        }
        TemplateSub::Show { id } => {
            let t: VmTemplate = client
                .template(TemplateId::new(id))
                .info()
                .await
                .map_err(call_failed(format!("reading VM template {id}")))?;
            p.print(&t, || template_show_text(&t)).map_err(io_failure)
        }
        TemplateSub::Instantiate {
            id,
            name,
            hold,
            extra,
        } => {
            let extra = match extra {
                Some(path) => read_template(&path)?,
                None => Template::new(),
            };
            let vm = client
                .template(TemplateId::new(id))
                .instantiate(&name, hold, &extra, false)
                .await
                .map_err(call_failed(format!("instantiating template {id}")))?;
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
        assert_eq!(
            vm_state_filter(None).expect("default"),
            VmStateFilter::NotDone
        );
        assert_eq!(
            vm_state_filter(Some("poweroff")).expect("p"),
            VmStateFilter::State(8)
        );
        assert_eq!(
            vm_state_filter(Some("ANY")).expect("any"),
            VmStateFilter::Any
        );
        assert!(vm_state_filter(Some("sleeping")).is_err());
    }
}
