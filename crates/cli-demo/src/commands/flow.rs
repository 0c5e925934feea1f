//! `nebulair flow ...`: OneFlow service templates and services, as `oneflow-template` and
//! `oneflow` do. Names are accepted wherever ids are.
//!
//! The endpoint is `--endpoint`, else `ONEFLOW_URL`, else `http://localhost:2474`; the
//! user is `--user` with `--password-stdin`/`--password-file`, else the `user:password`
//! file in `--auth-file`, `ONE_AUTH` or `~/.one/one_auth` (the same as the Ruby CLI).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use nebulair_core::{Credentials, Error, ExposeSecret, HttpConfig};
use nebulair_opennebula::ids::{DocumentId, GroupId, UserId};
use nebulair_opennebula::oneflow::{
    CloneMode, DeleteMode, FlowClient, InstantiateOptions, RoleAction, Service, ServiceState,
    ServiceTemplate, ServiceTemplateBody,
};

use crate::Ctx;
use crate::commands::common::{TlsArgs, block_on, io_failure, read_secret_file, read_secret_stdin};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};
use crate::wait::{WaitArgs, wait_service};

/// OneFlow: multi-VM service templates and services.
#[derive(Debug, Args)]
pub(crate) struct FlowCmd {
    #[command(flatten)]
    conn: FlowConn,
    #[command(subcommand)]
    command: FlowSub,
}

/// Where OneFlow is and who you are.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection options")]
struct FlowConn {
    /// The OneFlow endpoint, e.g. http://frontend:2474 [env: ONEFLOW_URL]
    #[arg(long, global = true, value_name = "URL")]
    endpoint: Option<String>,
    /// The user name; the password comes from --password-stdin or --password-file.
    #[arg(long, global = true, value_name = "NAME")]
    user: Option<String>,
    /// Read the password (or login token) from the first line of standard input.
    #[arg(
        long,
        global = true,
        requires = "user",
        conflicts_with = "password_file"
    )]
    password_stdin: bool,
    /// Read the password (or login token) from the first line of this file.
    #[arg(long, global = true, value_name = "FILE", requires = "user")]
    password_file: Option<PathBuf>,
    /// A file holding `user:password`, like ONE_AUTH [env: ONE_AUTH]
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "user")]
    auth_file: Option<PathBuf>,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(Debug, Subcommand)]
enum FlowSub {
    /// Service templates (`oneflow-template`).
    #[command(subcommand)]
    Template(TemplateSub),
    /// Services (`oneflow`).
    #[command(subcommand)]
    Service(ServiceSub),
}

#[derive(Debug, Subcommand)]
enum TemplateSub {
    /// List the service templates.
    List,
    /// Show a service template (name or id) and its roles.
    Show {
        /// Name or id.
        template: String,
    },
    /// Create a service template from a JSON file (`-` for standard input).
    Create {
        /// The JSON body, as `oneflow-template create` takes it.
        file: PathBuf,
    },
    /// Instantiate a service template into a service.
    Instantiate {
        /// Name or id.
        template: String,
        /// The service name [default: the template's]
        #[arg(long)]
        name: Option<String>,
        /// A user input value, KEY=VALUE (repeatable).
        #[arg(long = "user-input", value_name = "KEY=VALUE")]
        user_inputs: Vec<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Clone a service template.
    Clone {
        /// Name or id.
        template: String,
        /// The new name.
        name: String,
        /// Also clone the VM templates (`templates`) and their images (`all`).
        #[arg(long, value_enum, default_value_t = CloneWhat::None)]
        recursive: CloneWhat,
    },
    /// Delete a service template.
    Delete {
        /// Name or id.
        template: String,
        /// Also delete the VM templates (`templates`) and their images (`all`).
        #[arg(long, value_enum, default_value_t = CloneWhat::None)]
        recursive: CloneWhat,
    },
}

/// What else a clone or delete touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CloneWhat {
    /// The service template only.
    None,
    /// Its VM templates too.
    Templates,
    /// Its VM templates and their images too.
    All,
}

#[derive(Debug, Subcommand)]
enum ServiceSub {
    /// List the services.
    List,
    /// Show a service (name or id), its roles and their VMs.
    Show {
        /// Name or id.
        service: String,
    },
    /// Set the number of VMs of a role.
    Scale {
        /// Name or id.
        service: String,
        /// The role name.
        role: String,
        /// The wanted number of VMs.
        cardinality: u32,
        /// Go past the role's min_vms/max_vms.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Recover a service in a failed state (or delete it whatever its state).
    Recover {
        /// Name or id.
        service: String,
        /// Remove the service in any state (`oneflow recover --delete`).
        #[arg(long)]
        delete: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Delete a service: its VMs are terminated, then the service is removed.
    Delete {
        /// Name or id.
        service: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Release the roles held with on_hold.
    Release {
        /// Name or id.
        service: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Run a VM action on the VMs of a role (terminate, poweroff, resume, reboot, ...).
    RoleAction {
        /// Name or id.
        service: String,
        /// The role name.
        role: String,
        /// The action, as OneFlow spells it (poweroff-hard, snapshot-create, ...).
        action: String,
        /// Seconds between batches (with --number).
        #[arg(long, requires = "number")]
        period: Option<u64>,
        /// VMs per batch (with --period).
        #[arg(long, requires = "period")]
        number: Option<u32>,
    },
    /// Rename a service.
    Rename {
        /// Name or id.
        service: String,
        /// The new name.
        name: String,
    },
    /// Change a service's permissions (e.g. 640).
    Chmod {
        /// Name or id.
        service: String,
        /// Three octal digits.
        octet: String,
    },
    /// Change a service's owner (and group); its VMs follow.
    Chown {
        /// Name or id.
        service: String,
        /// The new owner's user id.
        user: i32,
        /// The new group id.
        group: Option<i32>,
    },
}

impl FlowCmd {
    /// Runs the command.
    pub(crate) fn run(self, ctx: Ctx) -> Result<(), Failure> {
        let client = self.conn.client(&ctx)?;
        // `--wait` has its own deadline; the default covers the calls only.
        let default = if self.command.waits() {
            None
        } else {
            Some(crate::DEFAULT_DEADLINE)
        };
        block_on(&ctx, default, self.command.run(&client, ctx))
    }
}

fn read_auth_file(path: &Path) -> Result<(String, String), Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("reading {}", path.display()), Error::from(e)))?;
    let line = text.lines().next().unwrap_or_default().trim();
    match line.split_once(':') {
        Some((u, p)) if !u.is_empty() => Ok((u.to_owned(), p.to_owned())),
        _ => Err(Failure::new(
            format!("reading {}", path.display()),
            Error::invalid_input("expected one line user:password"),
        )),
    }
}

impl FlowConn {
    fn client(&self, ctx: &Ctx) -> Result<FlowClient, Failure> {
        let http = self.tls.http_config(HttpConfig::default(), ctx)?;
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| std::env::var("ONEFLOW_URL").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| {
                format!(
                    "http://localhost:{}",
                    nebulair_opennebula::oneflow::DEFAULT_PORT
                )
            });
        let (user, password) = match &self.user {
            Some(u) => {
                let secret = match &self.password_file {
                    Some(p) => read_secret_file(p).during("reading the password file")?,
                    None if self.password_stdin => {
                        read_secret_stdin().during("reading the password from stdin")?
                    }
                    None if crate::commands::common::interactive() => {
                        crate::commands::common::prompt_secret(&format!("Password for {u}: "))?
                    }
                    None => {
                        return Err(Failure::new(
                            "configuring the OneFlow client",
                            Error::invalid_input(
                                "--user needs --password-stdin or --password-file (or a terminal to ask on)",
                            ),
                        ));
                    }
                };
                (u.clone(), secret.expose_secret().to_owned())
            }
            None => {
                let path = self
                    .auth_file
                    .clone()
                    .or_else(|| {
                        std::env::var_os("ONE_AUTH")
                            .filter(|s| !s.is_empty())
                            .map(PathBuf::from)
                    })
                    .or_else(|| {
                        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".one/one_auth"))
                    })
                    .ok_or_else(|| {
                        Failure::new(
                            "configuring the OneFlow client",
                            Error::invalid_input(
                                "no credentials: give --user, --auth-file or ONE_AUTH",
                            ),
                        )
                    })?;
                read_auth_file(&path).map_err(|f| f.hint(AUTH_HINT))?
            }
        };
        FlowClient::builder()
            .endpoint(endpoint)
            .credentials(Credentials::password(user, password))
            .http_config(http)
            .build()
            .during("configuring the OneFlow client")
    }
}

const AUTH_HINT: &str = "check the user and password: --user with --password-stdin, --auth-file, ONE_AUTH or ~/.one/one_auth";

/// Wraps a failed OneFlow call with its action and a hint.
fn failed(action: impl Into<String>) -> impl FnOnce(Error) -> Failure {
    let action = action.into();
    move |e: Error| {
        let hint = if e.is_authentication() {
            Some(AUTH_HINT)
        } else if matches!(
            e.kind(),
            nebulair_core::ErrorKind::Transport | nebulair_core::ErrorKind::Timeout
        ) {
            Some(
                "is OneFlow running at ONEFLOW_URL (or --endpoint)? `nebulair simulate --oneflow-port 2474` starts one",
            )
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

fn looked_up<I: std::fmt::Debug + std::fmt::Display + Send + Sync + 'static>(
    what: &str,
) -> impl FnOnce(nebulair_opennebula::api::LookupError<I>) -> Failure + '_ {
    move |e| Failure::new(format!("finding the {what}"), Error::from(e))
}

fn time(t: Option<i64>) -> String {
    crate::commands::one_view::date(t)
}

fn templates_table(list: &[ServiceTemplate]) -> String {
    let mut t = Table::new(["ID", "USER", "GROUP", "NAME", "ROLES", "REGTIME"]);
    for d in list {
        let reg = d
            .body()
            .other
            .get("registration_time")
            .and_then(serde_json::Value::as_i64);
        t.row([
            d.id.to_string(),
            d.uname.clone().unwrap_or_default(),
            d.gname.clone().unwrap_or_default(),
            d.name.clone(),
            d.body().roles.len().to_string(),
            time(reg),
        ]);
    }
    t.render()
}

fn services_table(list: &[Service]) -> String {
    let mut t = Table::new(["ID", "USER", "GROUP", "NAME", "STATE", "VMS", "STIME"]);
    for d in list {
        t.row([
            d.id.to_string(),
            d.uname.clone().unwrap_or_default(),
            d.gname.clone().unwrap_or_default(),
            d.name.clone(),
            d.body().state.to_string(),
            d.body().vm_ids().len().to_string(),
            time(d.body().start_time),
        ]);
    }
    t.render()
}

fn template_text(d: &ServiceTemplate) -> String {
    let b = d.body();
    let mut out = key_values(&[
        ("ID", d.id.to_string()),
        ("NAME", d.name.clone()),
        ("USER", d.uname.clone().unwrap_or_default()),
        ("GROUP", d.gname.clone().unwrap_or_default()),
        ("DEPLOYMENT", format!("{:?}", b.deployment).to_lowercase()),
    ]);
    out.push('\n');
    let mut t = Table::new([
        "ROLE",
        "TYPE",
        "TEMPLATE",
        "CARDINALITY",
        "MIN",
        "MAX",
        "PARENTS",
    ]);
    for r in &b.roles {
        t.row([
            r.name.clone(),
            format!("{:?}", r.role_type).to_lowercase(),
            r.template_id
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            r.cardinality.to_string(),
            r.min_vms
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            r.max_vms
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            r.parents.join(","),
        ]);
    }
    out.push_str(&t.render());
    out
}

fn service_text(d: &Service) -> String {
    let b = d.body();
    let mut out = key_values(&[
        ("ID", d.id.to_string()),
        ("NAME", d.name.clone()),
        ("USER", d.uname.clone().unwrap_or_default()),
        ("GROUP", d.gname.clone().unwrap_or_default()),
        ("STATE", b.state.to_string()),
        ("STIME", time(b.start_time)),
    ]);
    out.push('\n');
    let mut t = Table::new(["ROLE", "STATE", "CARDINALITY", "VMS"]);
    for r in &b.roles {
        let vms: Vec<String> = r.nodes.iter().map(|n| n.deploy_id.to_string()).collect();
        t.row([
            r.name.clone(),
            r.state.to_string(),
            r.cardinality.to_string(),
            vms.join(","),
        ]);
    }
    out.push_str(&t.render());
    if let Some(last) = b.log.last() {
        out.push_str(&format!(
            "\nLAST LOG  {} [{}] {}\n",
            time(Some(last.timestamp)),
            last.severity,
            last.message
        ));
    }
    out
}

fn parse_inputs(items: &[String]) -> Result<Vec<(String, String)>, Failure> {
    items
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
            _ => Err(Failure::new(
                "reading --user-input",
                Error::invalid_input(format!("{kv:?}: expected KEY=VALUE")),
            )),
        })
        .collect()
}

impl FlowSub {
    fn waits(&self) -> bool {
        match self {
            FlowSub::Template(TemplateSub::Instantiate { wait, .. }) => wait.wait,
            FlowSub::Service(
                ServiceSub::Scale { wait, .. }
                | ServiceSub::Recover { wait, .. }
                | ServiceSub::Delete { wait, .. }
                | ServiceSub::Release { wait, .. },
            ) => wait.wait,
            _ => false,
        }
    }

    async fn run(self, flow: &FlowClient, ctx: Ctx) -> Result<(), Failure> {
        let p = ctx.printer;
        match self {
            FlowSub::Template(t) => match t {
                TemplateSub::List => {
                    let list = flow
                        .templates()
                        .list()
                        .await
                        .map_err(failed("listing the service templates"))?;
                    p.print(&list, || templates_table(&list))
                        .map_err(io_failure)
                }
                TemplateSub::Show { template } => {
                    let id = flow
                        .templates()
                        .resolve(&template)
                        .await
                        .map_err(looked_up("service template"))?;
                    let d = flow
                        .templates()
                        .show(id)
                        .await
                        .map_err(failed(format!("reading service template {id}")))?;
                    p.print(&d, || template_text(&d)).map_err(io_failure)
                }
                TemplateSub::Create { file } => {
                    let text = if file.as_os_str() == "-" {
                        std::io::read_to_string(std::io::stdin()).map_err(io_failure)?
                    } else {
                        std::fs::read_to_string(&file).map_err(|e| {
                            Failure::new(format!("reading {}", file.display()), Error::from(e))
                        })?
                    };
                    let body: ServiceTemplateBody = serde_json::from_str(&text).map_err(|e| {
                        Failure::new(
                            format!("reading {}", file.display()),
                            Error::invalid_input(format!("not a service template body: {e}")),
                        )
                    })?;
                    let d = flow
                        .templates()
                        .create(&body)
                        .await
                        .map_err(failed("creating the service template"))?;
                    p.print(&d, || format!("ID: {}\n", d.id))
                        .map_err(io_failure)
                }
                TemplateSub::Instantiate {
                    template,
                    name,
                    user_inputs,
                    wait,
                } => {
                    let id = flow
                        .templates()
                        .resolve(&template)
                        .await
                        .map_err(looked_up("service template"))?;
                    let mut opts = InstantiateOptions::new();
                    if let Some(n) = name {
                        opts = opts.name(n);
                    }
                    for (k, v) in parse_inputs(&user_inputs)? {
                        opts = opts.user_input(k, v);
                    }
                    let s = flow
                        .templates()
                        .instantiate(id, &opts)
                        .await
                        .map_err(failed(format!("instantiating service template {id}")))?;
                    let s = if wait.wait {
                        wait_service(flow, s.id, ServiceState::Running, &wait, &ctx)
                            .await?
                            .unwrap_or(s)
                    } else {
                        s
                    };
                    p.print(&s, || format!("ID: {}\n", s.id))
                        .map_err(io_failure)
                }
                TemplateSub::Clone {
                    template,
                    name,
                    recursive,
                } => {
                    let id = flow
                        .templates()
                        .resolve(&template)
                        .await
                        .map_err(looked_up("service template"))?;
                    let mode = match recursive {
                        CloneWhat::None => CloneMode::TemplateOnly,
                        CloneWhat::Templates => CloneMode::Templates,
                        CloneWhat::All => CloneMode::All,
                    };
                    let d = flow
                        .templates()
                        .clone_template(id, &name, mode)
                        .await
                        .map_err(failed(format!("cloning service template {id}")))?;
                    p.print(&d, || format!("ID: {}\n", d.id))
                        .map_err(io_failure)
                }
                TemplateSub::Delete {
                    template,
                    recursive,
                } => {
                    let id = flow
                        .templates()
                        .resolve(&template)
                        .await
                        .map_err(looked_up("service template"))?;
                    let mode = match recursive {
                        CloneWhat::None => DeleteMode::TemplateOnly,
                        CloneWhat::Templates => DeleteMode::Templates,
                        CloneWhat::All => DeleteMode::All,
                    };
                    flow.templates()
                        .delete(id, mode)
                        .await
                        .map_err(failed(format!("deleting service template {id}")))?;
                    done(&ctx, id, "deleted")
                }
            },
            FlowSub::Service(s) => s.run(flow, ctx).await,
        }
    }
}

fn done(ctx: &Ctx, id: DocumentId, what: &str) -> Result<(), Failure> {
    ctx.printer
        .print(&serde_json::json!({"id": id, "result": what}), || {
            format!("{id} {what}\n")
        })
        .map_err(io_failure)
}

impl ServiceSub {
    async fn run(self, flow: &FlowClient, ctx: Ctx) -> Result<(), Failure> {
        let p = ctx.printer;
        let resolve = |name: String| async move {
            flow.services()
                .resolve(&name)
                .await
                .map_err(looked_up("service"))
        };
        match self {
            ServiceSub::List => {
                let list = flow
                    .services()
                    .list()
                    .await
                    .map_err(failed("listing the services"))?;
                p.print(&list, || services_table(&list)).map_err(io_failure)
            }
            ServiceSub::Show { service } => {
                let id = resolve(service).await?;
                let d = flow
                    .services()
                    .show(id)
                    .await
                    .map_err(failed(format!("reading service {id}")))?;
                p.print(&d, || service_text(&d)).map_err(io_failure)
            }
            ServiceSub::Scale {
                service,
                role,
                cardinality,
                force,
                wait,
            } => {
                let id = resolve(service).await?;
                flow.services()
                    .scale(id, &role, cardinality, force)
                    .await
                    .map_err(failed(format!("scaling role {role} of service {id}")))?;
                finish(flow, &ctx, id, &wait, ServiceState::Running, "scaled").await
            }
            ServiceSub::Recover {
                service,
                delete,
                wait,
            } => {
                let id = resolve(service).await?;
                flow.services()
                    .recover(id, delete)
                    .await
                    .map_err(failed(format!("recovering service {id}")))?;
                let target = if delete {
                    ServiceState::Done
                } else {
                    ServiceState::Running
                };
                finish(flow, &ctx, id, &wait, target, "recovered").await
            }
            ServiceSub::Delete { service, wait } => {
                let id = resolve(service).await?;
                flow.services()
                    .delete(id)
                    .await
                    .map_err(failed(format!("deleting service {id}")))?;
                finish(flow, &ctx, id, &wait, ServiceState::Done, "deleted").await
            }
            ServiceSub::Release { service, wait } => {
                let id = resolve(service).await?;
                flow.services()
                    .release(id)
                    .await
                    .map_err(failed(format!("releasing service {id}")))?;
                finish(flow, &ctx, id, &wait, ServiceState::Running, "released").await
            }
            ServiceSub::RoleAction {
                service,
                role,
                action,
                period,
                number,
            } => {
                let id = resolve(service).await?;
                let action: RoleAction = action.parse().map_err(|e| {
                    Failure::new("reading the action", e).hint(
                        "actions: terminate[-hard], undeploy[-hard], hold, release, stop, suspend, resume, reboot[-hard], poweroff[-hard], snapshot-create, ...",
                    )
                })?;
                let batches = period.zip(number);
                flow.services()
                    .role_action(id, &role, action, batches)
                    .await
                    .map_err(failed(format!(
                        "running {action} on role {role} of service {id}"
                    )))?;
                done(&ctx, id, &format!("{action} scheduled on role {role}"))
            }
            ServiceSub::Rename { service, name } => {
                let id = resolve(service).await?;
                flow.services()
                    .rename(id, &name)
                    .await
                    .map_err(failed(format!("renaming service {id}")))?;
                done(&ctx, id, "renamed")
            }
            ServiceSub::Chmod { service, octet } => {
                let id = resolve(service).await?;
                flow.services()
                    .chmod(id, &octet)
                    .await
                    .map_err(failed(format!("changing the permissions of service {id}")))?;
                done(&ctx, id, "permissions changed")
            }
            ServiceSub::Chown {
                service,
                user,
                group,
            } => {
                let id = resolve(service).await?;
                flow.services()
                    .chown(id, UserId::new(user), group.map(GroupId::new))
                    .await
                    .map_err(failed(format!("changing the owner of service {id}")))?;
                done(&ctx, id, "owner changed")
            }
        }
    }
}

async fn finish(
    flow: &FlowClient,
    ctx: &Ctx,
    id: DocumentId,
    wait: &WaitArgs,
    target: ServiceState,
    what: &str,
) -> Result<(), Failure> {
    if wait.wait {
        match wait_service(flow, id, target, wait, ctx).await? {
            Some(s) => {
                return ctx
                    .printer
                    .print(&s, || service_text(&s))
                    .map_err(io_failure);
            }
            None => return done(ctx, id, "deleted"),
        }
    }
    done(ctx, id, what)
}
