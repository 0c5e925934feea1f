//! The OpenNebula resource families beyond VMs, hosts, templates, images and networks,
//! as the `one*` tools cover them: `list`, `show`, `create`, `update`, `rename`,
//! `delete` (with `--yes` and `--dry-run`), on the typed API, with names or ids.
//!
//! The tables come from each object's serde form: the columns the `one*` tool prints by
//! default, every scalar field with `-o wide` or `--columns`.

use std::path::PathBuf;

use clap::Subcommand;
use nebulair_core::{Error, ExposeSecret as _};
use nebulair_opennebula::OneClient;
use nebulair_opennebula::api::UpdateType;
use nebulair_opennebula::ids::*;
use nebulair_opennebula::pool::PoolFilter;

use crate::Ctx;
use crate::commands::common::{Confirm, io_failure, read_secret_file, read_secret_stdin};
use crate::commands::one::{call_failed, read_template};
use crate::commands::one_args::ColumnArgs;
use crate::commands::one_resolve::{self as resolve, Kind};
use crate::commands::one_view::{self, StateNames};
use crate::output::{Doc, Table, to_doc};
use crate::report::{Context as _, Failure};

/// Commands of one family.
#[derive(Debug, Subcommand)]
pub(crate) enum FamilySub {
    /// List them.
    List {
        #[command(flatten)]
        columns: ColumnArgs,
    },
    /// Show one (id or name).
    Show {
        /// The id or name.
        id: String,
    },
    /// Create one: from a template file (text or XML syntax, `-` reads stdin), or, for
    /// clusters, groups and users, with a name.
    Create {
        /// The template file, or the name (clusters, groups, users).
        what: String,
        /// Where it goes: the cluster of a datastore, the marketplace of an app.
        #[arg(long = "in", value_name = "ID|NAME")]
        parent: Option<String>,
        /// The new user's password, from the first line of this file (users).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// The new user's password, from standard input (users).
        #[arg(long, conflicts_with = "password_file")]
        password_stdin: bool,
    },
    /// Replace (or with --merge, merge into) its template.
    Update {
        /// The id or name.
        id: String,
        /// The template file (`-` reads stdin).
        file: PathBuf,
        /// Merge into the existing template instead of replacing it.
        #[arg(long)]
        merge: bool,
    },
    /// Rename it.
    Rename {
        /// The id or name.
        id: String,
        /// The new name.
        name: String,
    },
    /// Delete them (every id or name is checked first; asks on a terminal, else needs --yes).
    Delete {
        /// Ids or names.
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },
}

/// `one acl ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AclSub {
    /// List the ACL rules.
    List {
        #[command(flatten)]
        columns: ColumnArgs,
    },
    /// Add a rule, as `oneacl create` writes it: `USER RESOURCES RIGHTS [ZONE]` in hex.
    Create {
        /// The user part (hex, e.g. 0x100000000 for all users).
        user: String,
        /// The resource part (hex).
        resource: String,
        /// The rights (hex).
        rights: String,
        /// The zone part (hex); none for the current zone.
        zone: Option<String>,
    },
    /// Delete rules by id.
    Delete {
        /// Rule ids.
        #[arg(required = true)]
        ids: Vec<i32>,
        #[command(flatten)]
        confirm: Confirm,
    },
}

/// Default columns per family: `(HEADER, serde field)`, as the `one*` tools print them.
fn default_columns(kind: Kind) -> &'static [(&'static str, &'static str)] {
    const OWNED: &[(&str, &str)] = &[
        ("ID", "id"),
        ("USER", "uname"),
        ("GROUP", "gname"),
        ("NAME", "name"),
    ];
    match kind {
        Kind::User => &[
            ("ID", "id"),
            ("NAME", "name"),
            ("GROUP", "gname"),
            ("AUTH", "auth_driver"),
            ("ENABLED", "enabled"),
        ],
        Kind::Group | Kind::Zone | Kind::Vdc | Kind::Cluster => &[("ID", "id"), ("NAME", "name")],
        Kind::Datastore => &[
            ("ID", "id"),
            ("USER", "uname"),
            ("GROUP", "gname"),
            ("NAME", "name"),
            ("TYPE", "type_name"),
            ("DS_MAD", "ds_mad"),
            ("TM_MAD", "tm_mad"),
            ("STAT", "state_name"),
        ],
        Kind::Market => &[
            ("ID", "id"),
            ("NAME", "name"),
            ("MARKET_MAD", "market_mad"),
            ("ZONE", "zone_id"),
        ],
        Kind::MarketApp => &[
            ("ID", "id"),
            ("NAME", "name"),
            ("VERSION", "version"),
            ("SIZE", "size"),
            ("STAT", "state_name"),
            ("TYPE", "type_name"),
            ("MARKET", "marketplace"),
        ],
        Kind::Hook => &[("ID", "id"), ("NAME", "name"), ("TYPE", "type")],
        Kind::BackupJob => &[
            ("ID", "id"),
            ("USER", "uname"),
            ("GROUP", "gname"),
            ("NAME", "name"),
            ("PRIORITY", "priority"),
        ],
        _ => OWNED,
    }
}

fn states(kind: Kind) -> StateNames {
    match kind {
        Kind::Datastore => one_view::DATASTORE_STATES,
        Kind::Zone => one_view::ZONE_STATES,
        Kind::Market => one_view::MARKET_STATES,
        Kind::MarketApp => one_view::MARKET_APP_STATES,
        Kind::Image => one_view::IMAGE_STATES,
        Kind::Vnet => one_view::VNET_STATES,
        Kind::Host => one_view::HOST_STATES,
        Kind::Vm => one_view::VM_STATES,
        _ => one_view::NO_STATES,
    }
}

fn cell(v: Option<&Doc>) -> String {
    match v {
        None | Some(Doc::Null) => "-".to_owned(),
        Some(Doc::String(s)) => s.clone(),
        Some(Doc::Number(n)) => n.to_string(),
        Some(Doc::Bool(b)) => b.to_string(),
        Some(Doc::Sequence(s)) => {
            let parts: Vec<String> = s.iter().map(|v| cell(Some(v))).collect();
            if parts.is_empty() {
                "-".to_owned()
            } else {
                parts.join(",")
            }
        }
        Some(_) => "…".to_owned(),
    }
}

/// A table of documents: the family's default columns, every scalar field with `wide`,
/// or the `--columns` asked for (headers or field names, any case).
pub(crate) fn doc_table(
    kind: Kind,
    items: &[Doc],
    wanted: &[String],
    wide: bool,
) -> Result<String, Failure> {
    let defaults = default_columns(kind);
    // Every scalar field of the documents, in their order.
    let mut all: Vec<(String, String)> = Vec::new();
    for (h, k) in defaults {
        all.push(((*h).to_owned(), (*k).to_owned()));
    }
    for item in items {
        if let Doc::Mapping(m) = item {
            for (k, v) in m {
                let Some(k) = k.as_str() else { continue };
                if matches!(v, Doc::Mapping(_)) || all.iter().any(|(_, f)| f == k) {
                    continue;
                }
                all.push((k.to_ascii_uppercase(), k.to_owned()));
            }
        }
    }
    let norm = |s: &str| s.trim().to_ascii_uppercase().replace('-', "_");
    let cols: Vec<(String, String)> = if !wanted.is_empty() {
        wanted
            .iter()
            .filter(|w| !w.trim().is_empty())
            .map(|w| {
                all.iter()
                    .find(|(h, f)| norm(h) == norm(w) || norm(f) == norm(w))
                    .cloned()
                    .ok_or_else(|| {
                        let known: Vec<&str> = all.iter().map(|(h, _)| h.as_str()).collect();
                        Failure::new(
                            "reading --columns",
                            Error::invalid_input(format!(
                                "unknown column {w:?} (known: {})",
                                known.join(", ")
                            )),
                        )
                    })
            })
            .collect::<Result<_, _>>()?
    } else if wide {
        all
    } else {
        defaults
            .iter()
            .map(|(h, k)| ((*h).to_owned(), (*k).to_owned()))
            .collect()
    };
    let mut t = Table::new(cols.iter().map(|(h, _)| h.clone()));
    for item in items {
        t.row(cols.iter().map(|(_, f)| cell(item.get(f.as_str()))));
    }
    Ok(t.render())
}

macro_rules! each_family {
    ($kind:expr, $m:ident, $($args:tt)*) => {
        match $kind {
            Kind::Host => $m!(host, hosts, HostId, plain, host, $($args)*),
            Kind::Template => $m!(template, templates, TemplateId, filtered, vmtemplate, $($args)*),
            Kind::Image => $m!(image, images, ImageId, filtered, image, $($args)*),
            Kind::Vnet => $m!(vnet, vnets, VnetId, filtered, vnet, $($args)*),
            Kind::VnTemplate => $m!(vn_template, vn_templates, VnTemplateId, filtered, vntemplate, $($args)*),
            Kind::SecGroup => $m!(secgroup, secgroups, SecGroupId, filtered, security_group, $($args)*),
            Kind::VmGroup => $m!(vm_group, vm_groups, VmGroupId, filtered, vm_group, $($args)*),
            Kind::User => $m!(user, users, UserId, plain, user, $($args)*),
            Kind::Group => $m!(group, groups, GroupId, plain, group, $($args)*),
            Kind::Cluster => $m!(cluster, clusters, ClusterId, plain, cluster, $($args)*),
            Kind::Datastore => $m!(datastore, datastores, DatastoreId, plain, datastore, $($args)*),
            Kind::Zone => $m!(zone, zones, ZoneId, plain, zone, $($args)*),
            Kind::Vdc => $m!(vdc, vdcs, VdcId, plain, vdc, $($args)*),
            Kind::Market => $m!(market, markets, MarketId, plain, marketplace, $($args)*),
            Kind::MarketApp => $m!(market_app, market_apps, MarketAppId, filtered, marketplaceapp, $($args)*),
            Kind::Vrouter => $m!(vrouter, vrouters, VrouterId, filtered, vrouter, $($args)*),
            Kind::Hook => $m!(hook, hooks, HookId, plain, hook, $($args)*),
            Kind::BackupJob => $m!(backup_job, backup_jobs, BackupJobId, filtered, backupjob, $($args)*),
            Kind::Document => $m!(document, documents, DocumentId, document, document, $($args)*),
            other => return Err(Error::invalid_input(format!(
                "the {} commands are not generic", other.noun()
            ))),
        }
    };
}

macro_rules! pool_info {
    ($c:expr, $pool:ident, plain) => {
        $c.$pool().info().await?
    };
    ($c:expr, $pool:ident, filtered) => {
        $c.$pool().info(&PoolFilter::all()).await?
    };
    ($c:expr, $pool:ident, document) => {
        $c.$pool().info(&PoolFilter::all(), -1).await?
    };
}

async fn list_docs(c: &OneClient, kind: Kind) -> nebulair_core::Result<Doc> {
    macro_rules! list {
        ($one:ident, $pool:ident, $Id:ident, $how:ident, $field:ident,) => {
            to_doc(&pool_info!(c, $pool, $how).$field).map_err(Error::from)?
        };
    }
    Ok(each_family!(kind, list,))
}

async fn show_doc(c: &OneClient, kind: Kind, id: i32) -> nebulair_core::Result<Doc> {
    macro_rules! show {
        ($one:ident, $pool:ident, $Id:ident, $how:ident, $field:ident,) => {
            to_doc(&c.$one($Id::new(id)).info().await?).map_err(Error::from)?
        };
    }
    Ok(each_family!(kind, show,))
}

async fn delete_one(c: &OneClient, kind: Kind, id: i32) -> nebulair_core::Result<()> {
    macro_rules! del {
        ($one:ident, $pool:ident, $Id:ident, $how:ident, $field:ident,) => {{
            c.$one($Id::new(id)).delete().await?;
        }};
    }
    each_family!(kind, del,);
    Ok(())
}

async fn update_one(
    c: &OneClient,
    kind: Kind,
    id: i32,
    tpl: &nebulair_opennebula::Template,
    how: UpdateType,
) -> nebulair_core::Result<()> {
    macro_rules! upd {
        ($one:ident, $pool:ident, $Id:ident, $how:ident, $field:ident,) => {{
            c.$one($Id::new(id)).update(tpl, how).await?;
        }};
    }
    each_family!(kind, upd,);
    Ok(())
}

async fn rename_one(c: &OneClient, kind: Kind, id: i32, name: &str) -> nebulair_core::Result<()> {
    macro_rules! ren {
        (user, $($rest:tt)*) => {
            return Err(Error::invalid_input(
                "users cannot be renamed (oned has no one.user.rename)",
            ))
        };
        (group, $($rest:tt)*) => {
            return Err(Error::invalid_input(
                "groups cannot be renamed (oned has no one.group.rename)",
            ))
        };
        ($one:ident, $pool:ident, $Id:ident, $how:ident, $field:ident,) => {{
            c.$one($Id::new(id)).rename(name).await?;
        }};
    }
    each_family!(kind, ren,);
    Ok(())
}

/// What `create` was given.
struct CreateInput {
    what: String,
    parent: Option<i32>,
    password: Option<nebulair_core::SecretString>,
}

async fn create_one(c: &OneClient, kind: Kind, input: &CreateInput) -> Result<i32, Failure> {
    let needs_parent = |what: &str| {
        input.parent.ok_or_else(|| {
            Failure::new(
                "reading the options",
                Error::invalid_input(format!("creating a {} needs --in {what}", kind.noun())),
            )
        })
    };
    let failed = call_failed(format!("creating the {}", kind.noun()));
    let id = match kind {
        Kind::Cluster => c.clusters().allocate(&input.what).await.map(|i| i.get()),
        Kind::Group => c.groups().allocate(&input.what).await.map(|i| i.get()),
        Kind::User => {
            let pw = input.password.as_ref().ok_or_else(|| {
                Failure::new(
                    "reading the options",
                    Error::invalid_input("a new user needs --password-file or --password-stdin"),
                )
            })?;
            c.users()
                .allocate(&input.what, pw.expose_secret(), "")
                .await
                .map(|i| i.get())
        }
        _ => {
            let tpl = read_template(std::path::Path::new(&input.what))?;
            match kind {
                Kind::VnTemplate => c.vn_templates().allocate(&tpl).await.map(|i| i.get()),
                Kind::SecGroup => c.secgroups().allocate(&tpl).await.map(|i| i.get()),
                Kind::VmGroup => c.vm_groups().allocate(&tpl).await.map(|i| i.get()),
                Kind::Zone => c.zones().allocate(&tpl).await.map(|i| i.get()),
                Kind::Vdc => c.vdcs().allocate(&tpl).await.map(|i| i.get()),
                Kind::Market => c.markets().allocate(&tpl).await.map(|i| i.get()),
                Kind::Vrouter => c.vrouters().allocate(&tpl).await.map(|i| i.get()),
                Kind::Hook => c.hooks().allocate(&tpl).await.map(|i| i.get()),
                Kind::BackupJob => c.backup_jobs().allocate(&tpl).await.map(|i| i.get()),
                Kind::Document => c.documents().allocate(&tpl, 0).await.map(|i| i.get()),
                Kind::Datastore => {
                    let cl = input.parent.unwrap_or(-1);
                    c.datastores()
                        .allocate(&tpl, ClusterId::new(cl))
                        .await
                        .map(|i| i.get())
                }
                Kind::MarketApp => {
                    let m = needs_parent("MARKETPLACE")?;
                    c.market_apps()
                        .allocate(&tpl, MarketId::new(m))
                        .await
                        .map(|i| i.get())
                }
                other => {
                    return Err(Failure::new(
                        "creating",
                        Error::invalid_input(format!("{}s are not created here", other.noun())),
                    ));
                }
            }
        }
    };
    id.map_err(failed)
}

/// Runs a family command.
pub(crate) async fn run(
    kind: Kind,
    sub: FamilySub,
    c: &OneClient,
    ctx: Ctx,
) -> Result<(), Failure> {
    let p = ctx.printer;
    let noun = kind.noun();
    match sub {
        FamilySub::List { columns } => {
            let mut doc = list_docs(c, kind)
                .await
                .map_err(call_failed(format!("listing {noun}s")))?;
            one_view::name_states(&mut doc, states(kind));
            if p.is_data() {
                return p.print_doc(&doc, String::new).map_err(io_failure);
            }
            let items = match &doc {
                Doc::Sequence(s) => s.clone(),
                _ => Vec::new(),
            };
            let text = doc_table(kind, &items, &columns.columns, p.wide())?;
            p.print_doc(&Doc::Null, || text).map_err(io_failure)
        }
        FamilySub::Show { id } => {
            let id = resolve::one(c, kind, &id).await?;
            let mut doc = show_doc(c, kind, id)
                .await
                .map_err(call_failed(format!("reading {noun} {id}")))?;
            one_view::name_states(&mut doc, states(kind));
            if p.is_data() {
                return p.print_doc(&doc, String::new).map_err(io_failure);
            }
            let text = serde_norway::to_string(&doc)
                .map_err(|e| Failure::new("rendering", Error::protocol(e.to_string())))?;
            p.print_doc(&Doc::Null, || text).map_err(io_failure)
        }
        FamilySub::Create {
            what,
            parent,
            password_file,
            password_stdin,
        } => {
            let parent_kind = match kind {
                Kind::Datastore => Some(Kind::Cluster),
                Kind::MarketApp => Some(Kind::Market),
                _ => None,
            };
            let parent = match (parent, parent_kind) {
                (Some(p), Some(k)) => Some(resolve::one(c, k, &p).await?),
                (Some(_), None) => {
                    return Err(Failure::new(
                        "reading --in",
                        Error::invalid_input(format!("--in does not apply to {noun}s")),
                    ));
                }
                (None, _) => None,
            };
            let password = match (password_file, password_stdin) {
                (Some(f), _) => Some(read_secret_file(&f).during("reading the password file")?),
                (None, true) => Some(read_secret_stdin().during("reading the password")?),
                _ => None,
            };
            let id = create_one(
                c,
                kind,
                &CreateInput {
                    what,
                    parent,
                    password,
                },
            )
            .await?;
            p.print(&serde_json::json!({ "id": id }), || format!("ID: {id}\n"))
                .map_err(io_failure)
        }
        FamilySub::Update { id, file, merge } => {
            let tpl = read_template(&file)?;
            let id = resolve::one(c, kind, &id).await?;
            let how = if merge {
                UpdateType::Merge
            } else {
                UpdateType::Replace
            };
            update_one(c, kind, id, &tpl, how)
                .await
                .map_err(call_failed(format!("updating {noun} {id}")))?;
            p.print(&serde_json::json!({ "id": id, "updated": true }), || {
                format!("{noun} {id} updated\n")
            })
            .map_err(io_failure)
        }
        FamilySub::Rename { id, name } => {
            let id = resolve::one(c, kind, &id).await?;
            rename_one(c, kind, id, &name)
                .await
                .map_err(call_failed(format!("renaming {noun} {id}")))?;
            p.print(&serde_json::json!({ "id": id, "name": name }), || {
                format!("{noun} {id} renamed to {name}\n")
            })
            .map_err(io_failure)
        }
        FamilySub::Delete { ids, confirm } => {
            // Every id or name is found before anything is deleted.
            let found = resolve::many(c, kind, &ids).await?;
            let plan: Vec<String> = found
                .iter()
                .zip(&ids)
                .map(|(id, arg)| {
                    if arg.trim() == id.to_string() {
                        format!("delete {noun} {id}")
                    } else {
                        format!("delete {noun} {id} ({arg})")
                    }
                })
                .collect();
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            let mut done = Vec::new();
            for id in &found {
                delete_one(c, kind, *id)
                    .await
                    .map_err(call_failed(format!("deleting {noun} {id}")))?;
                done.push(*id);
            }
            p.print(&serde_json::json!({ "deleted": done }), || {
                done.iter()
                    .map(|id| format!("{noun} {id} deleted\n"))
                    .collect()
            })
            .map_err(io_failure)
        }
    }
}

/// Runs an `one acl` command.
pub(crate) async fn run_acl(sub: AclSub, c: &OneClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        AclSub::List { columns } => {
            let pool = c
                .acls()
                .info()
                .await
                .map_err(call_failed("listing ACL rules"))?;
            let doc = to_doc(&pool.acl).map_err(io_failure)?;
            if p.is_data() {
                return p.print_doc(&doc, String::new).map_err(io_failure);
            }
            let items = match &doc {
                Doc::Sequence(s) => s.clone(),
                _ => Vec::new(),
            };
            let mut cols = columns.columns.clone();
            if cols.is_empty() && !p.wide() {
                cols = ["ID", "USER", "RESOURCE", "RIGHTS", "ZONE", "STRING"]
                    .map(String::from)
                    .to_vec();
            }
            let text = doc_table(Kind::User, &items, &cols, true)?;
            p.print_doc(&Doc::Null, || text).map_err(io_failure)
        }
        AclSub::Create {
            user,
            resource,
            rights,
            zone,
        } => {
            let acls = c.acls();
            let id = match &zone {
                Some(z) => acls.addrule_with(&user, &resource, &rights, z).await,
                None => acls.addrule(&user, &resource, &rights).await,
            }
            .map_err(call_failed("adding the ACL rule"))?;
            p.print(&serde_json::json!({ "id": id }), || format!("ID: {id}\n"))
                .map_err(io_failure)
        }
        AclSub::Delete { ids, confirm } => {
            let pool = c
                .acls()
                .info()
                .await
                .map_err(call_failed("listing ACL rules"))?;
            let known: Vec<i32> = pool.acl.iter().map(|a| a.id.get()).collect();
            if let Some(bad) = ids.iter().find(|i| !known.contains(i)) {
                return Err(Failure::new(
                    "finding the ACL rules",
                    Error::new(
                        nebulair_core::ErrorKind::NotFound,
                        format!("no ACL rule {bad}"),
                    ),
                )
                .hint("`nebulair one acl list` shows the rules"));
            }
            let plan: Vec<String> = ids.iter().map(|i| format!("delete ACL rule {i}")).collect();
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            for id in &ids {
                c.acl(AclId::new(*id))
                    .delrule()
                    .await
                    .map_err(call_failed(format!("deleting ACL rule {id}")))?;
            }
            p.print(&serde_json::json!({ "deleted": ids }), || {
                ids.iter()
                    .map(|i| format!("ACL rule {i} deleted\n"))
                    .collect()
            })
            .map_err(io_failure)
        }
    }
}
