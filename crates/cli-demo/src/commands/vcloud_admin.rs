//! `nebulair vcloud org|user|token|service-account ...`: org administration over the
//! cloudapi (orgs for system administrators, users, roles, API tokens, service accounts).

use std::path::PathBuf;

use clap::Subcommand;
use nebulair_core::ExposeSecret;
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::admin::{AdminOrg, EntityRef, ServiceAccount, User};

use crate::Ctx;
use crate::commands::common::{
    Confirm, io_failure, print_deleted, read_secret_file, read_secret_stdin,
};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

/// `vcloud org ...` (system administrators).
#[derive(Debug, Subcommand)]
pub(crate) enum OrgSub {
    /// The orgs the session can see.
    List,
    /// One org, by name or id.
    Show {
        /// The org.
        #[arg(value_name = "ORG")]
        name: String,
    },
    /// Create an org (enabled unless --disabled).
    Create {
        /// Its short name (one word).
        name: String,
        /// Its display name (default: the name).
        #[arg(long)]
        display_name: Option<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Enable an org.
    Enable {
        /// The org.
        #[arg(value_name = "ORG")]
        name: String,
    },
    /// Disable an org (needed before deleting it).
    Disable {
        /// The org.
        #[arg(value_name = "ORG")]
        name: String,
    },
    /// Delete a disabled org.
    Delete {
        /// The org.
        #[arg(value_name = "ORG")]
        name: String,
        /// Also delete its vDCs and catalogs.
        #[arg(long)]
        recursive: bool,
        /// Stop running vApps first.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
}

/// `vcloud user ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum UserSub {
    /// The users the session can see.
    List,
    /// One user, by name or id.
    Show {
        /// The user.
        #[arg(value_name = "USER")]
        name: String,
    },
    /// Create a local user; the password comes from a file or standard input, never an
    /// argument.
    Create {
        /// The user name.
        name: String,
        /// The role (name or id), e.g. "vApp Author".
        #[arg(long)]
        role: String,
        /// The org the user belongs to (name or id; default: the session's org).
        #[arg(long, value_name = "ORG")]
        member_of: Option<String>,
        /// The full name.
        #[arg(long)]
        full_name: Option<String>,
        /// The e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Read the password from this file.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "user_password_stdin"
        )]
        user_password_file: Option<PathBuf>,
        /// Read the password from standard input.
        #[arg(long)]
        user_password_stdin: bool,
    },
    /// Enable a user.
    Enable {
        /// The user.
        #[arg(value_name = "USER")]
        name: String,
    },
    /// Disable a user.
    Disable {
        /// The user.
        #[arg(value_name = "USER")]
        name: String,
    },
    /// Delete a user.
    Delete {
        /// The user.
        #[arg(value_name = "USER")]
        name: String,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// The roles of the session's org (with --rights ROLE: that role's rights).
    Roles {
        /// Show this role's rights.
        #[arg(long, value_name = "ROLE")]
        rights: Option<String>,
    },
}

/// `vcloud token ...`: API tokens of the session's user.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenSub {
    /// The API tokens of the session's user.
    List,
    /// Create an API token and write it to FILE (mode 0600); it is never printed.
    Create {
        /// The token's name.
        name: String,
        /// Where to write the token.
        #[arg(long, value_name = "FILE")]
        output_file: PathBuf,
    },
    /// Delete (revoke) an API token, by name or id.
    Delete {
        /// The token.
        token: String,
        #[command(flatten)]
        confirm: Confirm,
    },
}

/// `vcloud service-account ...`: service accounts of the session's org (vCD 10.4+), OAuth
/// clients with a role of their own, activated through the device authorization grant.
#[derive(Debug, Subcommand)]
pub(crate) enum ServiceAccountSub {
    /// The service accounts of the session's org.
    List,
    /// One service account, by name or id.
    Show {
        /// The service account.
        #[arg(value_name = "ACCOUNT")]
        name: String,
    },
    /// Register a service account (status CREATED until activated).
    Create {
        /// Its name.
        name: String,
        /// The role it acts with (name or id).
        #[arg(long)]
        role: String,
        /// The id of the software that uses it (a UUID of your choosing, kept per product).
        #[arg(long, value_name = "UUID")]
        software_id: String,
        /// The software's version.
        #[arg(long, value_name = "VERSION", default_value = "1.0.0")]
        software_version: String,
        /// The software's URI (informational).
        #[arg(long, value_name = "URI", default_value = "")]
        uri: String,
    },
    /// Activate a service account in one go, as an administrator of its org: request its
    /// activation, grant the request, and write its API token to FILE (mode 0600; never
    /// printed).
    Activate {
        /// The service account.
        #[arg(value_name = "ACCOUNT")]
        name: String,
        /// Where to write the token.
        #[arg(long, value_name = "FILE")]
        output_file: PathBuf,
    },
    /// Grant an activation that the software itself requested, by the user code it shows.
    Grant {
        /// The user code (e.g. `ABCD-EFGH`).
        #[arg(value_name = "USER_CODE")]
        user_code: String,
    },
    /// Revoke a service account's tokens (back to CREATED).
    Revoke {
        /// The service account.
        #[arg(value_name = "ACCOUNT")]
        name: String,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Delete a service account.
    Delete {
        /// The service account.
        #[arg(value_name = "ACCOUNT")]
        name: String,
        #[command(flatten)]
        confirm: Confirm,
    },
}

fn org_table(orgs: &[AdminOrg]) -> String {
    let mut t = Table::new(["NAME", "DISPLAY NAME", "ENABLED", "VDCS", "USERS", "ID"]);
    for o in orgs {
        t.row([
            o.name.clone(),
            o.display_name.clone(),
            o.is_enabled.to_string(),
            o.org_vdc_count.map(|n| n.to_string()).unwrap_or_default(),
            o.user_count.map(|n| n.to_string()).unwrap_or_default(),
            o.id.clone().unwrap_or_default(),
        ]);
    }
    t.render()
}

fn user_text(u: &User) -> String {
    key_values(&[
        ("name", u.username.clone()),
        ("id", u.id.clone().unwrap_or_default()),
        ("full name", u.full_name.clone().unwrap_or_default()),
        (
            "org",
            u.org_entity_ref
                .as_ref()
                .and_then(|o| o.name.clone())
                .unwrap_or_default(),
        ),
        (
            "roles",
            u.role_entity_refs
                .iter()
                .filter_map(|r| r.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("enabled", u.enabled.to_string()),
        ("email", u.email.clone().unwrap_or_default()),
    ])
}

/// Runs `vcloud org ...`.
pub(crate) async fn org(sub: OrgSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    let admin = client.admin();
    let one = |o: AdminOrg| {
        let text = org_table(std::slice::from_ref(&o));
        p.print(&o, || text).map_err(io_failure)
    };
    match sub {
        OrgSub::List => {
            let orgs = admin.orgs().await.during("listing the orgs")?;
            p.print(&orgs, || org_table(&orgs)).map_err(io_failure)
        }
        OrgSub::Show { name } => one(admin.org(&name).await.during("reading the org")?),
        OrgSub::Create {
            name,
            display_name,
            description,
            disabled,
        } => {
            let mut o = AdminOrg::new(&name, display_name.unwrap_or_else(|| name.clone()));
            o.description = description;
            o.is_enabled = !disabled;
            one(admin
                .create_org(&o)
                .await
                .during(format!("creating org {name:?}"))?)
        }
        OrgSub::Enable { name: org } => one(admin
            .set_org_enabled(&org, true)
            .await
            .during("enabling the org")?),
        OrgSub::Disable { name: org } => one(admin
            .set_org_enabled(&org, false)
            .await
            .during("disabling the org")?),
        OrgSub::Delete {
            name: org,
            recursive,
            force,
            confirm,
        } => {
            let o = admin.org(&org).await.during("reading the org")?;
            if !confirm.approve(
                &ctx,
                &[format!(
                    "delete org {} ({})",
                    o.name,
                    o.id.clone().unwrap_or_default()
                )],
            )? {
                return Ok(());
            }
            admin
                .delete_org(&org, force, recursive)
                .await
                .during(format!("deleting org {org:?}"))?;
            print_deleted(&p, "org", &o.name)
        }
    }
}

/// Runs `vcloud user ...`.
pub(crate) async fn user(sub: UserSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    let admin = client.admin();
    let one = |u: User| {
        let text = user_text(&u);
        p.print(&u, || text).map_err(io_failure)
    };
    match sub {
        UserSub::List => {
            let users = admin.users().await.during("listing the users")?;
            p.print(&users, || {
                let mut t = Table::new(["NAME", "ORG", "ROLES", "ENABLED", "ID"]);
                for u in &users {
                    t.row([
                        u.username.clone(),
                        u.org_entity_ref
                            .as_ref()
                            .and_then(|o| o.name.clone())
                            .unwrap_or_default(),
                        u.role_entity_refs
                            .iter()
                            .filter_map(|r| r.name.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                        u.enabled.to_string(),
                        u.id.clone().unwrap_or_default(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
        UserSub::Show { name } => one(admin.user(&name).await.during("reading the user")?),
        UserSub::Create {
            name,
            role,
            member_of,
            full_name,
            email,
            user_password_file,
            user_password_stdin: _,
        } => {
            let password = match user_password_file {
                Some(f) => read_secret_file(&f).during("reading the user's password")?,
                None => read_secret_stdin().during("reading the user's password")?,
            };
            let role = admin.role(&role).await.during("finding the role")?;
            let mut u = User::new(&name, password.expose_secret(), role.reference());
            if let Some(o) = member_of {
                let o = admin.org(&o).await.during("finding the org")?;
                u.org_entity_ref = o.id.map(EntityRef::id);
            }
            u.full_name = full_name;
            u.email = email;
            one(admin
                .create_user(&u)
                .await
                .during(format!("creating user {name:?}"))?)
        }
        UserSub::Enable { name: user } => one(admin
            .set_user_enabled(&user, true)
            .await
            .during("enabling the user")?),
        UserSub::Disable { name: user } => one(admin
            .set_user_enabled(&user, false)
            .await
            .during("disabling the user")?),
        UserSub::Delete {
            name: user,
            confirm,
        } => {
            let u = admin.user(&user).await.during("reading the user")?;
            if !confirm.approve(
                &ctx,
                &[format!(
                    "delete user {} ({})",
                    u.username,
                    u.id.clone().unwrap_or_default()
                )],
            )? {
                return Ok(());
            }
            admin
                .delete_user(&user)
                .await
                .during(format!("deleting user {user:?}"))?;
            print_deleted(&p, "user", &u.username)
        }
        UserSub::Roles { rights: Some(role) } => {
            let rights = admin
                .role_rights(&role)
                .await
                .during("reading the role's rights")?;
            p.print(&rights, || {
                let mut t = Table::new(["RIGHT", "TYPE"]);
                for r in &rights {
                    t.row([r.name.clone(), r.right_type.clone().unwrap_or_default()]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
        UserSub::Roles { rights: None } => {
            let roles = admin.roles().await.during("listing the roles")?;
            p.print(&roles, || {
                let mut t = Table::new(["ROLE", "READ ONLY", "ID"]);
                for r in &roles {
                    t.row([
                        r.name.clone(),
                        r.read_only.to_string(),
                        r.id.clone().unwrap_or_default(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
    }
}

/// Writes `secret` to `path`, readable by the owner only.
fn write_secret(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")
}

fn write_token_file(path: &std::path::Path, secret: &str) -> Result<String, Failure> {
    write_secret(path, secret).map_err(|e| {
        Failure::new(
            format!("writing the token to {}", path.display()),
            nebulair_core::Error::with_source(
                nebulair_core::ErrorKind::InvalidInput,
                e.to_string(),
                e,
            ),
        )
    })?;
    Ok(path.display().to_string())
}

fn account_text(a: &ServiceAccount) -> String {
    let name = |r: &Option<EntityRef>| r.as_ref().and_then(|r| r.name.clone()).unwrap_or_default();
    key_values(&[
        ("name", a.name.clone()),
        ("id", a.id.clone().unwrap_or_default()),
        ("status", a.status.clone().unwrap_or_default()),
        ("role", name(&a.role)),
        ("org", name(&a.org)),
        ("software id", a.software_id.clone().unwrap_or_default()),
        (
            "software version",
            a.software_version.clone().unwrap_or_default(),
        ),
        ("uri", a.uri.clone().unwrap_or_default()),
    ])
}

/// Runs `vcloud service-account ...`.
pub(crate) async fn service_account(
    sub: ServiceAccountSub,
    client: &VcdClient,
    ctx: Ctx,
) -> Result<(), Failure> {
    let p = ctx.printer;
    let admin = client.admin();
    let one = |a: ServiceAccount| {
        let text = account_text(&a);
        p.print(&a, || text).map_err(io_failure)
    };
    match sub {
        ServiceAccountSub::List => {
            let all = admin
                .service_accounts()
                .await
                .during("listing the service accounts")?;
            p.print(&all, || {
                let mut t = Table::new(["NAME", "STATUS", "ROLE", "SOFTWARE ID", "ID"]);
                for a in &all {
                    t.row([
                        a.name.clone(),
                        a.status.clone().unwrap_or_default(),
                        a.role
                            .as_ref()
                            .and_then(|r| r.name.clone())
                            .unwrap_or_default(),
                        a.software_id.clone().unwrap_or_default(),
                        a.id.clone().unwrap_or_default(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
        ServiceAccountSub::Show { name } => one(admin
            .service_account(&name)
            .await
            .during(format!("reading service account {name:?}"))?),
        ServiceAccountSub::Create {
            name,
            role,
            software_id,
            software_version,
            uri,
        } => {
            let role = admin
                .role(&role)
                .await
                .during(format!("looking up role {role:?}"))?;
            one(admin
                .create_service_account(&name, &role, &software_id, &software_version, &uri)
                .await
                .during(format!("creating service account {name:?}"))?)
        }
        ServiceAccountSub::Activate { name, output_file } => {
            let during = format!("activating service account {name:?}");
            let account = admin.service_account(&name).await.during(&during)?;
            let auth = admin
                .authorize_service_account(&account)
                .await
                .during(&during)?;
            admin
                .grant_service_account(&auth.user_code)
                .await
                .during(&during)?;
            let token = admin
                .service_account_token(&account, &auth)
                .await
                .during(&during)?;
            let path = write_token_file(&output_file, token.expose_secret())?;
            let account = admin.service_account(&name).await.during(&during)?;
            p.print(
                &serde_json::json!({ "service_account": account, "written_to": path }),
                || format!("service account {name} activated; its token is written to {path} (mode 0600)\n"),
            )
            .map_err(io_failure)
        }
        ServiceAccountSub::Grant { user_code } => {
            admin
                .grant_service_account(&user_code)
                .await
                .during(format!("granting user code {user_code:?}"))?;
            p.print(&serde_json::json!({ "granted": user_code }), || {
                format!("user code {user_code} granted\n")
            })
            .map_err(io_failure)
        }
        ServiceAccountSub::Revoke { name, confirm } => {
            if !confirm.approve(
                &ctx,
                &[format!("revoke the tokens of service account {name}")],
            )? {
                return Ok(());
            }
            admin
                .revoke_service_account(&name)
                .await
                .during(format!("revoking service account {name:?}"))?;
            one(admin
                .service_account(&name)
                .await
                .during(format!("reading service account {name:?}"))?)
        }
        ServiceAccountSub::Delete { name, confirm } => {
            if !confirm.approve(&ctx, &[format!("delete service account {name}")])? {
                return Ok(());
            }
            admin
                .delete_service_account(&name)
                .await
                .during(format!("deleting service account {name:?}"))?;
            print_deleted(&p, "service account", &name)
        }
    }
}

/// Runs `vcloud token ...`.
pub(crate) async fn token(sub: TokenSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    let admin = client.admin();
    match sub {
        TokenSub::List => {
            let tokens = admin.api_tokens().await.during("listing the API tokens")?;
            p.print(&tokens, || {
                let mut t = Table::new(["NAME", "OWNER", "ORG", "ID"]);
                for k in &tokens {
                    t.row([
                        k.name.clone(),
                        k.owner
                            .as_ref()
                            .and_then(|o| o.name.clone())
                            .unwrap_or_default(),
                        k.org
                            .as_ref()
                            .and_then(|o| o.name.clone())
                            .unwrap_or_default(),
                        k.id.clone().unwrap_or_default(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
        TokenSub::Create { name, output_file } => {
            let created = admin
                .create_api_token(&name)
                .await
                .during(format!("creating API token {name:?}"))?;
            let path = write_token_file(&output_file, created.secret.expose_secret())?;
            p.print(
                &serde_json::json!({ "token": created.token, "written_to": path }),
                || format!("API token {name} created; written to {path} (mode 0600)\n"),
            )
            .map_err(io_failure)
        }
        TokenSub::Delete { token, confirm } => {
            if !confirm.approve(&ctx, &[format!("delete API token {token}")])? {
                return Ok(());
            }
            admin
                .delete_api_token(&token)
                .await
                .during(format!("deleting API token {token:?}"))?;
            print_deleted(&p, "API token", &token)
        }
    }
}
