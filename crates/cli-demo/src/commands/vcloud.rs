//! `nebulair vcloud ...`: vCloud Air and vCloud Director from the command line.
//!
//! Every command logs in first (`--service`, default `vcd`), then does its work with the
//! resulting `OrgInfo`. Credentials come from flags, or from the environment variables
//! the Terraform vCD provider uses (`VCD_URL`, `VCD_USER`, `VCD_PASSWORD`, `VCD_ORG`,
//! `VCD_API_TOKEN`); `--password-stdin` keeps the password out of the process list and
//! the shell history. Tokens are never printed.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use futures::TryStreamExt as _;
use nebulair_core::{Credentials, Error, ErrorKind, ExposeSecret, HttpConfig, SecretString};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::metrics::{MetricData, MetricValue, Metrics, Unit};
use nebulair_vcloud::query::{Query, QueryRecord, QueryType};
use nebulair_vcloud::session::{OrgInfo, VcaOdSession, VcaSession, VcdSession};
use serde::Serialize;
use serde_json::Value;

use crate::Ctx;
use crate::commands::common::{TlsArgs, block_on, io_failure, read_secret_file, read_secret_stdin};
use crate::commands::vcloud_admin::{
    OrgSub, ServiceAccountSub, TokenSub, UserSub, org, service_account, token, user,
};
use crate::commands::vcloud_ans::{FirewallSub, IpsecSub, NatSub, firewall, ipsec, nat};
use crate::commands::vcloud_catalog::{
    CatalogSub, MediaSub, TemplateSub, catalog, media, template,
};
use crate::commands::vcloud_disk::{DiskSub, disk};
use crate::commands::vcloud_dr::{DrSub, dr};
use crate::commands::vcloud_network::{NetworkSub, network};
use crate::commands::vcloud_nsxt::{EdgeSub, edge};
use crate::commands::vcloud_vapp::{TaskArgs, VAppSub, vapp};
use crate::commands::vcloud_vm::{VmSub, vm};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

/// How to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Service {
    /// vCloud Director directly, with a password (`user@org`).
    #[default]
    Vcd,
    /// vCloud Director with an API token (OAuth refresh-token grant).
    ApiToken,
    /// vCloud Air VPC/Dedicated subscription (vchs), then one vDC (`--vdc`).
    Vca,
    /// vCloud Air On-Demand (IAM), then one instance (`--instance`).
    VcaOd,
}

/// Where the cloud is and who you are.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection options")]
pub(crate) struct VcloudConn {
    /// How to log in.
    #[arg(long, value_enum, global = true, default_value_t = Service::Vcd)]
    service: Service,
    /// The base URL: the vCD host, or the vCloud Air host for vca/vca-od [env: VCD_URL]
    #[arg(long, global = true, value_name = "URL")]
    url: Option<String>,
    /// The user name [env: VCD_USER]
    #[arg(long, global = true, value_name = "NAME")]
    user: Option<String>,
    /// The vCD organisation (vcd, api-token) [env: VCD_ORG]
    #[arg(long, global = true, value_name = "ORG")]
    org: Option<String>,
    /// Read the password from the first line of standard input [else env: VCD_PASSWORD]
    #[arg(long, global = true, conflicts_with = "password_file")]
    password_stdin: bool,
    /// Read the password from the first line of this file.
    #[arg(long, global = true, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Read the API token from this file (api-token) [else env: VCD_API_TOKEN]
    #[arg(long, global = true, value_name = "FILE")]
    api_token_file: Option<PathBuf>,
    /// The On-Demand instance: its id or its position in the list (vca-od) [default: 0]
    #[arg(long, global = true, value_name = "ID|INDEX")]
    instance: Option<String>,
    /// The vDC to log in to (vca) [default: the first one]
    #[arg(long, global = true, value_name = "NAME")]
    vdc: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
}

/// vCloud Air and vCloud Director.
#[derive(Debug, Args)]
pub(crate) struct VcloudCmd {
    #[command(flatten)]
    conn: VcloudConn,
    #[command(subcommand)]
    command: VcloudSub,
}

#[derive(Debug, Subcommand)]
enum VcloudSub {
    /// Log in and show what the credentials reach (never the token).
    ///
    /// `login USER@ORG` (or `login USER` with --org) logs in to vCD with a password;
    /// `login vcd|api-token|vca|vca-od` chooses the service like --service.
    Login {
        /// USER@ORG, USER, or the service: vcd, api-token, vca, vca-od.
        #[arg(value_name = "USER@ORG|SERVICE")]
        target: Option<String>,
    },
    /// End the profile's cached session (on the server too) and forget it.
    Logout,
    /// The query service: every record of a type, following every page.
    Query {
        /// The type: vm, vApp, vAppTemplate, edgeGateway, orgVdc, or any other the server knows.
        #[arg(value_name = "TYPE")]
        query_type: String,
        /// The attributes to return, comma separated (e.g. name,status).
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
        /// A FIQL filter, e.g. `name==web*;status==POWERED_ON`.
        #[arg(long)]
        filter: Option<String>,
        /// Sort ascending by this attribute.
        #[arg(long, conflicts_with = "sort_desc")]
        sort_asc: Option<String>,
        /// Sort descending by this attribute.
        #[arg(long)]
        sort_desc: Option<String>,
        /// Records per page (the server caps it, usually at 128).
        #[arg(long, default_value_t = 128)]
        page_size: u32,
    },
    /// Performance metrics of the VMs of the vDC (or of --vm), vCloud Air hybridity API.
    Metrics {
        /// Only these VMs (ids with or without the `vm-` prefix).
        #[arg(long = "vm", value_name = "ID")]
        vms: Vec<String>,
        /// How far back, in hours.
        #[arg(long, default_value_t = 1)]
        hours: u32,
        /// Only these metrics (e.g. cpu.usage.average); repeat for more.
        #[arg(long = "metric", value_name = "NAME")]
        metrics: Vec<String>,
    },
    /// The edge gateways of the cloudapi (NSX-T and NSX-V).
    #[command(subcommand)]
    Edge(EdgeSub),
    /// The edge firewall rules (NSX-T edges over the cloudapi, others over ANS).
    #[command(subcommand)]
    Firewall(FirewallSub),
    /// The edge NAT rules (NSX-T edges over the cloudapi, others over ANS).
    #[command(subcommand)]
    Nat(NatSub),
    /// The edge IPsec VPN tunnels (NSX-T edges over the cloudapi, others over ANS).
    #[command(subcommand)]
    Ipsec(IpsecSub),
    /// Disaster recovery: replications, test failover, failover, cleanup.
    #[command(subcommand)]
    Dr(DrSub),
    /// Independent disks of a vDC: list, show, create, attach, detach, resize, delete.
    #[command(subcommand)]
    Disk(DiskSub),
    /// Orgs (system administrators): list, show, create, enable, disable, delete.
    #[command(subcommand)]
    Org(OrgSub),
    /// Users and roles: list, show, create, enable, disable, delete, roles.
    #[command(subcommand)]
    User(UserSub),
    /// API tokens of the session's user: list, create (written to a file), delete.
    #[command(subcommand)]
    Token(TokenSub),
    /// Service accounts of the session's org: list, show, create, activate (token written
    /// to a file), grant, revoke, delete.
    #[command(subcommand)]
    ServiceAccount(ServiceAccountSub),
    /// vApps: list, show, create from a template, deploy, power actions, rename, delete.
    Vapp {
        #[command(flatten)]
        task: TaskArgs,
        #[command(subcommand)]
        sub: VAppSub,
    },
    /// VMs of vApps: power actions, CPU, memory, disks, NICs, customization, media,
    /// snapshots, metadata.
    Vm {
        #[command(flatten)]
        task: TaskArgs,
        #[command(subcommand)]
        sub: Box<VmSub>,
    },
    /// Catalogs of the org: list, show, create, delete.
    #[command(subcommand)]
    Catalog(CatalogSub),
    /// ISO and floppy media in a catalog: upload, download (resumable, with progress).
    #[command(subcommand)]
    Media(MediaSub),
    /// vApp templates in a catalog: upload an OVA or OVF, download an OVA.
    #[command(subcommand)]
    Template(TemplateSub),
    /// Org vDC networks: list, show, create, delete.
    #[command(subcommand)]
    Network(NetworkSub),
}

/// The edge an ANS command works on.
impl VcloudCmd {
    /// Runs the command.
    pub(crate) fn run(self, ctx: Ctx) -> Result<(), Failure> {
        // DR actions run as long as their VMs need (each has its idle timeout); every
        // other command has the default deadline unless --timeout says otherwise.
        let deadline = match &self.command {
            VcloudSub::Dr(sub) if !sub.is_list() => None,
            // Changes of vApps and VMs wait for their task (its own deadline and idle
            // timeout); reads keep the default.
            VcloudSub::Vapp { sub, .. } if !sub.is_read() => None,
            VcloudSub::Vm { sub, .. } if !sub.is_read() => None,
            // Uploads and downloads take as long as their bytes need.
            VcloudSub::Media(_) | VcloudSub::Template(_) => None,
            _ => Some(crate::DEFAULT_DEADLINE),
        };
        block_on(&ctx, deadline, self.run_async(ctx))
    }

    async fn run_async(self, ctx: Ctx) -> Result<(), Failure> {
        let p = ctx.printer;
        match self.command {
            VcloudSub::Login { target } => {
                let mut conn = self.conn;
                if let Some(t) = target {
                    match Service::from_str(&t, true) {
                        Ok(k) => conn.service = k,
                        Err(_) => conn.user = Some(t),
                    }
                }
                // Always a new login; a profile with --cache-session keeps it.
                let login = conn.login_with(&ctx, true).await?;
                p.print(&login, || login.text()).map_err(io_failure)
            }
            VcloudSub::Logout => self.conn.logout(&ctx).await,
            VcloudSub::Query {
                query_type,
                fields,
                filter,
                sort_asc,
                sort_desc,
                page_size,
            } => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                let mut q = Query::new(QueryType::from(query_type.as_str())).page_size(page_size);
                if !fields.is_empty() {
                    q = q.fields(fields.clone());
                }
                if let Some(f) = filter {
                    q = q.filter(f.as_str());
                }
                if let Some(f) = sort_asc {
                    q = q.sort_asc(f);
                }
                if let Some(f) = sort_desc {
                    q = q.sort_desc(f);
                }
                let records: Vec<QueryRecord> = q
                    .stream(&client)
                    .try_collect()
                    .await
                    .during(format!("querying {query_type}"))?;
                let rows: Vec<&std::collections::BTreeMap<String, String>> =
                    records.iter().map(|r| r.attributes()).collect();
                p.print(&rows, || query_table(&records, &fields))
                    .map_err(io_failure)?;
                p.note(&count(records.len(), "record"));
                Ok(())
            }
            VcloudSub::Metrics {
                vms,
                hours,
                metrics,
            } => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                let mut m = if vms.is_empty() {
                    Metrics::for_vdc(&client)
                } else {
                    Metrics::for_vms(&client, vms)
                }
                .relative_interval(Unit::Hour, hours.max(1));
                if !metrics.is_empty() {
                    m = m.set_metric_filters(metrics);
                }
                let data = m.collect().await.during("collecting metrics")?;
                let view = metrics_json(&data);
                p.print(&view, || metrics_table(&data))
                    .map_err(io_failure)?;
                p.note(&metrics_footer(&data));
                Ok(())
            }
            VcloudSub::Edge(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                edge(sub, &org, &self.conn.http(&ctx)?, ctx).await
            }
            VcloudSub::Firewall(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                firewall(sub, &org, &self.conn.http(&ctx)?, ctx).await
            }
            VcloudSub::Nat(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                nat(sub, &org, &self.conn.http(&ctx)?, ctx).await
            }
            VcloudSub::Ipsec(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                ipsec(sub, &org, &self.conn.http(&ctx)?, ctx).await
            }
            VcloudSub::Dr(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                dr(sub, &org, ctx).await
            }
            VcloudSub::Disk(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                disk(sub, &client, ctx).await
            }
            VcloudSub::Catalog(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                catalog(sub, &client, ctx).await
            }
            VcloudSub::Media(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                media(sub, &client, ctx).await
            }
            VcloudSub::Template(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                template(sub, &client, ctx).await
            }
            VcloudSub::Network(sub) => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                network(sub, &client, ctx).await
            }
            VcloudSub::Org(sub) => {
                let org_info = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org_info, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                org(sub, &client, ctx).await
            }
            VcloudSub::User(sub) => {
                if matches!(
                    sub,
                    UserSub::Create {
                        user_password_stdin: true,
                        ..
                    }
                ) && self.conn.password_stdin
                {
                    return Err(Failure::new(
                        "reading the passwords",
                        Error::invalid_input(
                            "--password-stdin and --user-password-stdin cannot both read standard input",
                        ),
                    ));
                }
                let org_info = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org_info, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                user(sub, &client, ctx).await
            }
            VcloudSub::Token(sub) => {
                let org_info = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org_info, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                token(sub, &client, ctx).await
            }
            VcloudSub::ServiceAccount(sub) => {
                let org_info = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org_info, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                service_account(sub, &client, ctx).await
            }
            VcloudSub::Vapp { task, sub } => {
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                vapp(sub, &client, &task, ctx).await
            }
            VcloudSub::Vm { task, sub } => {
                if sub.reads_stdin() && self.conn.password_stdin {
                    return Err(Failure::new(
                        "reading the passwords",
                        Error::invalid_input(
                            "--password-stdin and --admin-password-stdin cannot both read standard input",
                        ),
                    )
                    .hint("give one of them in a file (--password-file, --admin-password-file)"));
                }
                let org = self.conn.login(&ctx).await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http(&ctx)?)
                    .during("configuring the vCD client")?;
                vm(*sub, &client, &task, ctx).await
            }
        }
    }
}

/// The result of a login, as printed (the token is not part of it).
#[derive(Debug, Serialize)]
pub(crate) struct LoginView {
    service: &'static str,
    vcdurl: String,
    org_uuid: String,
    api_version: String,
    auth_header: String,
    /// When the token ends, as the server said (RFC 3339), if it said.
    expires_at: Option<String>,
    /// `new` (this command logged in) or `cached` (the profile's cached session).
    session: &'static str,
    /// On-Demand instances or VPC vDCs the account has.
    reachable: Vec<Reachable>,
    #[serde(skip)]
    pub(crate) org_info: OrgInfo,
    /// The token's end (Unix seconds), as the server said.
    #[serde(skip)]
    expires_secs: Option<u64>,
    /// The idle timeout the server announced (seconds).
    #[serde(skip)]
    idle_secs: Option<u64>,
}

/// One instance or vDC the credentials reach.
#[derive(Debug, Serialize)]
pub(crate) struct Reachable {
    id: String,
    name: String,
    region: String,
}

impl LoginView {
    fn new(service: &'static str, org: OrgInfo, reachable: Vec<Reachable>) -> Self {
        // A bearer token that is a JWT says when it ends; sessions that know more (the
        // OAuth expires_in) set it with `lifetime`.
        let expires_secs = org
            .is_bearer()
            .then(|| nebulair_vcloud::session::jwt_expiry(org.token().expose_secret()))
            .flatten()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        LoginView {
            service,
            vcdurl: org.vcdurl().to_string(),
            org_uuid: org.org_uuid().to_owned(),
            api_version: org.version().to_string(),
            auth_header: org.auth_header().to_owned(),
            expires_at: expires_secs.map(crate::commands::profile::rfc3339),
            session: "new",
            reachable,
            org_info: org,
            expires_secs,
            idle_secs: None,
        }
    }

    /// What a [`VcdSession`] said of its token's end and idle timeout.
    fn lifetime(mut self, session: &VcdSession) -> Self {
        if let Some(end) = session
            .expires_at()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        {
            self.expires_secs = Some(end.as_secs());
            self.expires_at = Some(crate::commands::profile::rfc3339(end.as_secs()));
        }
        self.idle_secs = session.idle_timeout().map(|d| d.as_secs());
        self
    }

    /// The view of a cached session.
    fn cached(service: &'static str, cached: &crate::commands::profile::CachedSession) -> Self {
        let mut view = LoginView::new(service, cached.org_info.clone(), Vec::new());
        view.session = "cached";
        view.expires_secs = cached.expires_at;
        view.expires_at = cached.expires_at.map(crate::commands::profile::rfc3339);
        view.idle_secs = Some(cached.idle_timeout);
        view
    }

    fn text(&self) -> String {
        let mut out = key_values(&[
            ("SERVICE", self.service.to_owned()),
            ("VCD URL", self.vcdurl.clone()),
            ("ORG", self.org_uuid.clone()),
            ("API VERSION", self.api_version.clone()),
            ("AUTH HEADER", self.auth_header.clone()),
            (
                "EXPIRES AT",
                self.expires_at
                    .clone()
                    .unwrap_or_else(|| "(idle timeout only)".to_owned()),
            ),
            ("SESSION", self.session.to_owned()),
        ]);
        if !self.reachable.is_empty() {
            let mut t = Table::new(["#", "ID", "NAME", "REGION"]);
            for (i, r) in self.reachable.iter().enumerate() {
                t.row([
                    i.to_string(),
                    r.id.clone(),
                    r.name.clone(),
                    r.region.clone(),
                ]);
            }
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `true`, `1`, `yes`, `on` (any case), as terraform reads its boolean variables.
fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on" | "t" | "y"
    )
}

/// The host part of a vCD URL: terraform's `VCD_URL` ends in `/api`, the library wants
/// the base (it adds `/api/...` itself).
pub(crate) fn base_url(url: &str) -> String {
    let t = url.trim().trim_end_matches('/');
    let t = t
        .strip_suffix("/api")
        .or_else(|| t.strip_suffix("/API"))
        .unwrap_or(t);
    t.trim_end_matches('/').to_owned()
}

/// `user@org` into the user and the organisation (the last `@` separates them).
pub(crate) fn split_user_org(user: &str) -> (String, Option<String>) {
    match user.rsplit_once('@') {
        Some((u, o)) if !u.is_empty() && !o.is_empty() => (u.to_owned(), Some(o.to_owned())),
        _ => (user.to_owned(), None),
    }
}

impl VcloudConn {
    fn http(&self, ctx: &Ctx) -> Result<HttpConfig, Failure> {
        let mut tls = self.tls.clone();
        // terraform-provider-vcd's variable for --insecure.
        if env("VCD_ALLOW_UNVERIFIED_SSL").is_some_and(|v| truthy(&v)) {
            tls.insecure = true;
        }
        tls.http_config(HttpConfig::default(), ctx)
    }

    fn url(&self) -> Result<String, Failure> {
        let url = self.url.clone().or_else(|| env("VCD_URL")).ok_or_else(|| {
            Failure::new(
                "logging in",
                Error::invalid_input("no URL given (--url or VCD_URL)"),
            )
            .hint("point --url at your vCD or vCloud Air host; `nebulair simulate` prints one")
        })?;
        Ok(base_url(&url))
    }

    /// The user, and the organisation when the user is given as `user@org`.
    fn user_and_org(&self) -> Result<(String, Option<String>), Failure> {
        let user = self
            .user
            .clone()
            .or_else(|| env("VCD_USER"))
            .ok_or_else(|| {
                Failure::new(
                    "logging in",
                    Error::invalid_input("no user given (--user, VCD_USER or login USER@ORG)"),
                )
            })?;
        Ok(split_user_org(&user))
    }

    /// The whole user name (vCloud Air logins are e-mail addresses).
    fn user(&self) -> Result<String, Failure> {
        self.user
            .clone()
            .or_else(|| env("VCD_USER"))
            .ok_or_else(|| {
                Failure::new(
                    "logging in",
                    Error::invalid_input("no user given (--user or VCD_USER)"),
                )
            })
    }

    /// The organisation: --org, then the `@org` of the user, then VCD_ORG.
    fn org(&self) -> Result<String, Failure> {
        let from_user = self
            .user
            .clone()
            .or_else(|| env("VCD_USER"))
            .and_then(|u| split_user_org(&u).1);
        self.org
            .clone()
            .or(from_user)
            .or_else(|| env("VCD_ORG"))
            .ok_or_else(|| {
                Failure::new(
                    "logging in",
                    Error::invalid_input("no organisation given (--org, USER@ORG or VCD_ORG)"),
                )
            })
    }

    fn password(&self) -> Result<SecretString, Failure> {
        if self.password_stdin {
            return read_secret_stdin().during("reading the password from stdin");
        }
        if let Some(path) = &self.password_file {
            return read_secret_file(path).during("reading the password file");
        }
        if let Some(p) = env("VCD_PASSWORD") {
            return Ok(SecretString::from(p));
        }
        if crate::commands::common::interactive() {
            let who = self.user().unwrap_or_default();
            return crate::commands::common::prompt_secret(&format!("Password for {who}: "));
        }
        Err(Failure::new(
            "logging in",
            Error::invalid_input(
                "no password given (--password-stdin, --password-file, VCD_PASSWORD, or a terminal to ask on)",
            ),
        ))
    }

    /// Logs in as `--service` says, through the profile's cached session when the
    /// profile keeps one (`profile add --cache-session`).
    pub(crate) async fn login(&self, ctx: &Ctx) -> Result<LoginView, Failure> {
        self.login_with(ctx, false).await
    }

    /// Logs in; `fresh` skips the cached session (and replaces it).
    async fn login_with(&self, ctx: &Ctx, fresh: bool) -> Result<LoginView, Failure> {
        match self.with_profile(ctx)? {
            Some((name, conn, true)) => conn.login_cached(ctx, &name, fresh).await,
            Some((_, conn, false)) => conn.login_direct(ctx).await,
            None => self.login_direct(ctx).await,
        }
    }

    /// `vcloud logout`: ends the cached session of the active profile on the server and
    /// removes it.
    async fn logout(&self, ctx: &Ctx) -> Result<(), Failure> {
        use crate::commands::profile::{cached_session, drop_session};
        let p = ctx.printer;
        let Some((name, conn, _)) = self.with_profile(ctx)? else {
            return Err(Failure::new(
                "logging out",
                Error::invalid_input("no vCloud profile is active (--profile or `profile use`)"),
            )
            .hint("only a profile's cached session outlives a command"));
        };
        let cached = cached_session(&name, &conn.cache_key());
        drop_session(&name);
        let ended = match cached {
            Some(c) => {
                let client = VcdClient::with_config(c.org_info, &conn.http(ctx)?)
                    .during("configuring the vCD client")?;
                match client
                    .send(nebulair_vcloud::client::ApiRequest::delete("api/session"))
                    .await
                {
                    Ok(_) => true,
                    // already ended on the server
                    Err(e) if e.is_authentication() || e.is_not_found() => false,
                    Err(e) => return Err(Failure::new("ending the vCloud session", e)),
                }
            }
            None => false,
        };
        p.print(
            &serde_json::json!({ "profile": name, "ended_on_server": ended }),
            || {
                if ended {
                    format!("logged out of profile {name}; its cached session is gone\n")
                } else {
                    format!("profile {name} has no live cached session (nothing to end)\n")
                }
            },
        )
        .map_err(io_failure)
    }

    /// These flags completed by the active vCloud profile, when there is one and neither
    /// --url nor VCD_URL say where to go.
    /// The profile's name, these flags completed by it, and whether it caches sessions.
    fn with_profile(&self, ctx: &Ctx) -> Result<Option<(String, VcloudConn, bool)>, Failure> {
        if self.url.is_some() || env("VCD_URL").is_some() {
            return Ok(None);
        }
        let Some((name, prof)) = crate::commands::profile::active(ctx)? else {
            return Ok(None);
        };
        if prof.cloud != crate::commands::profile::CloudKind::Vcloud {
            return Ok(None);
        }
        let mut conn = self.clone();
        conn.url = Some(prof.endpoint.clone());
        if conn.user.is_none() && env("VCD_USER").is_none() {
            conn.user = prof.user.clone();
        }
        if conn.org.is_none() && env("VCD_ORG").is_none() {
            conn.org = prof.org.clone();
        }
        if let Some(svc) = &prof.service {
            conn.service = Service::from_str(svc, true).map_err(|e| {
                Failure::new(
                    format!("reading profile {name}"),
                    Error::invalid_input(format!("service {svc:?}: {e}")),
                )
            })?;
        }
        if conn.tls.ca_cert.is_none() {
            conn.tls.ca_cert = prof.ca_cert.clone();
        }
        conn.tls.insecure |= prof.insecure;
        if conn.password_file.is_none() && !conn.password_stdin && env("VCD_PASSWORD").is_none() {
            conn.password_file = crate::commands::profile::saved_password(&name)?;
        }
        Ok(Some((name, conn, prof.cache_session)))
    }

    /// What a cached session must have been made for: service, endpoint, user, org,
    /// and the On-Demand instance or vCloud Air vDC.
    fn cache_key(&self) -> String {
        let user = self
            .user
            .clone()
            .or_else(|| env("VCD_USER"))
            .unwrap_or_default();
        format!(
            "{:?}|{}|{user}|{}|{}|{}",
            self.service,
            self.url().unwrap_or_default(),
            self.org().unwrap_or_default(),
            self.instance.as_deref().unwrap_or_default(),
            self.vdc.as_deref().unwrap_or_default()
        )
    }

    /// A login through the profile's cached session: used while the token has not
    /// ended (as the server said), has not been idle too long, and the server still
    /// accepts it (`GET /api/session`); otherwise a new login, which replaces it.
    async fn login_cached(
        &self,
        ctx: &Ctx,
        profile: &str,
        fresh: bool,
    ) -> Result<LoginView, Failure> {
        use crate::commands::profile::{
            CachedSession, DEFAULT_IDLE_SECS, cache_session, cached_session, drop_session, now,
        };
        let key = self.cache_key();
        if let Some(mut cached) = cached_session(profile, &key).filter(|_| !fresh) {
            match cached.expired_because(now()) {
                Some(why) => {
                    tracing::info!(profile, "not using the cached vCloud session: {why}");
                }
                None => {
                    let client = VcdClient::with_config(cached.org_info.clone(), &self.http(ctx)?)
                        .during("configuring the vCD client")?;
                    match client
                        .send(nebulair_vcloud::client::ApiRequest::get("api/session"))
                        .await
                    {
                        Ok(_) => {
                            tracing::debug!(profile, "using the cached vCloud session");
                            cached.last_used = now();
                            cache_session(profile, &cached)?;
                            return Ok(LoginView::cached(self.service_name(), &cached));
                        }
                        Err(e) if e.is_authentication() => {
                            tracing::info!(
                                profile,
                                "the server refused the cached vCloud session; logging in again"
                            );
                        }
                        Err(e) => {
                            return Err(Failure::new("checking the cached vCloud session", e));
                        }
                    }
                }
            }
            drop_session(profile);
        }
        let view = self.login_direct(ctx).await?;
        cache_session(
            profile,
            &CachedSession {
                key,
                expires_at: view.expires_secs,
                idle_timeout: view.idle_secs.unwrap_or(DEFAULT_IDLE_SECS),
                last_used: now(),
                org_info: view.org_info.clone(),
            },
        )?;
        Ok(view)
    }

    /// The service's name in views.
    fn service_name(&self) -> &'static str {
        match self.service {
            Service::Vcd => "vcd",
            Service::ApiToken => "api-token",
            Service::Vca => "vca",
            Service::VcaOd => "vca-od",
        }
    }

    async fn login_direct(&self, ctx: &Ctx) -> Result<LoginView, Failure> {
        let http = self.http(ctx)?;
        let url = self.url()?;
        let failed = |e: Error| {
            let auth = e.is_authentication();
            let f = Failure::new("logging in to vCloud", e);
            if auth {
                f.hint("check the user, organisation and password (or API token)")
            } else {
                f
            }
        };
        match self.service {
            Service::Vcd | Service::ApiToken => {
                let org = self.org()?;
                let creds =
                    if self.service == Service::ApiToken {
                        let token = match &self.api_token_file {
                        Some(p) => read_secret_file(p).during("reading the API token file")?,
                        None => env("VCD_API_TOKEN").map(SecretString::from).ok_or_else(|| {
                            Failure::new(
                                "logging in",
                                Error::invalid_input(
                                    "no API token given (--api-token-file or VCD_API_TOKEN)",
                                ),
                            )
                        })?,
                    };
                        Credentials::api_token(token.expose_secret().to_owned())
                    } else {
                        let (user, _) = self.user_and_org()?;
                        let password = self.password()?;
                        Credentials::password(user, password.expose_secret().to_owned())
                    };
                let session = VcdSession::builder(url)
                    .org(org)
                    .credentials(creds)
                    .http_config(http)
                    .build()
                    .during("configuring the vCD session")?;
                let info = session.login().await.map_err(failed)?;
                Ok(LoginView::new(self.service_name(), info, Vec::new()).lifetime(&session))
            }
            Service::VcaOd => {
                let password = self.password()?;
                let session =
                    VcaOdSession::builder(self.user()?, password.expose_secret().to_owned())
                        .base_url(url)
                        .http_config(http)
                        .build()
                        .during("configuring the On-Demand session")?;
                session.login_iam().await.map_err(failed)?;
                let instances = session.instances();
                let reachable = instances
                    .iter()
                    .map(|i| Reachable {
                        id: i.id.clone(),
                        name: i.friendly_name.clone(),
                        region: i.short_region().to_owned(),
                    })
                    .collect();
                let info = match self.instance.as_deref() {
                    Some(sel) => match sel.parse::<usize>() {
                        Ok(i) => session.login_to_instance(i).await,
                        Err(_) => session.login_to_instance(sel).await,
                    },
                    None => session.login_to_instance(0).await,
                }
                .during("logging in to the On-Demand instance")?;
                Ok(LoginView::new("vca-od", info, reachable))
            }
            Service::Vca => {
                let password = self.password()?;
                let session =
                    VcaSession::builder(self.user()?, password.expose_secret().to_owned())
                        .base_url(url)
                        .http_config(http)
                        .build()
                        .during("configuring the vCloud Air session")?;
                session.login_vca().await.map_err(failed)?;
                let reachable = session
                    .vdc_refs()
                    .into_values()
                    .map(|v| Reachable {
                        id: v.name.clone(),
                        name: v.status.clone().unwrap_or_default(),
                        region: v.service_id.clone().unwrap_or_default(),
                    })
                    .collect::<Vec<_>>();
                let vdc = match &self.vdc {
                    Some(v) => v.clone(),
                    None => session.vdc_names().into_iter().next().ok_or_else(|| {
                        Failure::new(
                            "logging in to vCloud Air",
                            Error::new(ErrorKind::NotFound, "the account has no vDC"),
                        )
                    })?,
                };
                let info = session
                    .login_to_vdc(&vdc)
                    .await
                    .during(format!("logging in to vDC {vdc}"))?;
                Ok(LoginView::new("vca", info, reachable))
            }
        }
    }
}

// ----- query and metrics -----

/// A table of query records: the requested fields, or name and id.
pub(crate) fn query_table(records: &[QueryRecord], fields: &[String]) -> String {
    let cols: Vec<String> = if fields.is_empty() {
        vec!["name".to_owned()]
    } else {
        fields.to_vec()
    };
    let mut header: Vec<String> = vec!["ID".to_owned()];
    header.extend(cols.iter().map(|c| c.to_ascii_uppercase()));
    let mut t = Table::new(header);
    for r in records {
        let mut row = vec![r.uuid().unwrap_or_default()];
        row.extend(cols.iter().map(|c| r.get(c).unwrap_or("").to_owned()));
        t.row(row);
    }
    t.render()
}

/// `1 record`, `2 records`.
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn metric_value_json(v: &MetricValue) -> Value {
    match v {
        MetricValue::Number(n) => Value::from(*n),
        MetricValue::Other(o) => o.clone(),
        MetricValue::Absent => Value::Null,
    }
}

/// `{vm: {timestamp: {metric: value}}}` with absent metrics as `null`.
pub(crate) fn metrics_json(data: &MetricData) -> Value {
    let mut out = serde_json::Map::new();
    for (vm, samples) in data.data() {
        let mut s = serde_json::Map::new();
        for (ts, metrics) in samples {
            let m: serde_json::Map<String, Value> = metrics
                .iter()
                .map(|(k, v)| (k.clone(), metric_value_json(v)))
                .collect();
            s.insert(ts.clone(), Value::Object(m));
        }
        out.insert(vm.clone(), Value::Object(s));
    }
    Value::Object(out)
}

/// One row per VM: sample count and the average of each metric over the samples.
pub(crate) fn metrics_table(data: &MetricData) -> String {
    let mut names: Vec<String> = data
        .data()
        .values()
        .flat_map(|s| s.values().flat_map(|m| m.keys().cloned()))
        .collect();
    names.sort();
    names.dedup();
    let mut header = vec!["VM".to_owned(), "SAMPLES".to_owned()];
    header.extend(names.iter().map(|n| format!("AVG {n}")));
    let mut t = Table::new(header);
    for (vm, samples) in data.data() {
        let mut row = vec![vm.clone(), samples.len().to_string()];
        for n in &names {
            let vals: Vec<f64> = samples
                .values()
                .filter_map(|m| m.get(n).and_then(MetricValue::as_f64))
                .collect();
            row.push(if vals.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.2}", vals.iter().sum::<f64>() / vals.len() as f64)
            });
        }
        t.row(row);
    }
    t.render()
}

/// The footer of a metrics table (printed on stderr).
pub(crate) fn metrics_footer(data: &MetricData) -> String {
    format!(
        "{} from {}",
        count(data.sample_count(), "sample"),
        count(data.pages(), "page")
    )
}
