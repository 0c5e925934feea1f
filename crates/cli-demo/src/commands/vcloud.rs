//! `nebulair vcloud ...`: vCloud Air and vCloud Director from the command line.
//!
//! Every command logs in first (`--service`, default `vcd`), then does its work with the
//! resulting `OrgInfo`. Credentials come from flags, or from the environment variables
//! the Terraform vCD provider uses (`VCD_URL`, `VCD_USER`, `VCD_PASSWORD`, `VCD_ORG`,
//! `VCD_API_TOKEN`); `--password-stdin` keeps the password out of the process list and
//! the shell history. Tokens are never printed.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use futures::TryStreamExt as _;
use nebulair_core::{Credentials, Error, ErrorKind, ExposeSecret, HttpConfig, SecretString};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::ans::{
    AnsSection, FirewallAction, FirewallRule, IpsecSite, NatRule, NewFirewallRule, NewNatRule,
    NewPskTunnel, Protocol, SectionKind,
};
use nebulair_vcloud::dr::{DisasterRecovery, DrEventKind, DrReport, DrTargets, TargetStatus};
use nebulair_vcloud::metrics::{MetricData, MetricValue, Metrics, Unit};
use nebulair_vcloud::query::{Query, QueryRecord, QueryType};
use nebulair_vcloud::session::{OrgInfo, VcaOdSession, VcaSession, VcdSession};
use serde::Serialize;
use serde_json::Value;

use crate::Ctx;
use crate::commands::common::{TlsArgs, io_failure, read_secret_file, read_secret_stdin, runtime};
use crate::output::{Table, key_values};
use crate::progress::Progress;
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
    Login {
        /// How to log in (overrides --service).
        #[arg(value_enum)]
        kind: Option<Service>,
    },
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
    /// The edge firewall rules (ANS).
    #[command(subcommand)]
    Firewall(FirewallSub),
    /// The edge NAT rules (ANS).
    #[command(subcommand)]
    Nat(NatSub),
    /// The edge IPsec VPN sites (ANS).
    #[command(subcommand)]
    Ipsec(IpsecSub),
    /// Disaster recovery: replications, test failover, failover, cleanup.
    #[command(subcommand)]
    Dr(DrSub),
}

/// The edge an ANS command works on.
#[derive(Debug, Clone, Args)]
struct EdgeArg {
    /// The edge gateway id [env: VCD_EDGE]
    #[arg(long, env = "VCD_EDGE", value_name = "ID")]
    edge: String,
}

#[derive(Debug, Subcommand)]
enum FirewallSub {
    /// List the rules.
    List(EdgeArg),
    /// Add a rule and save the firewall.
    Add {
        #[command(flatten)]
        edge: EdgeArg,
        /// The rule name.
        name: String,
        /// Source: internal, external, any, an IPv4 address or network.
        source: String,
        /// Destination: internal, external, any, an IPv4 address or network.
        destination: String,
        /// accept or deny.
        #[arg(long, default_value = "accept")]
        action: String,
        /// tcp, udp, icmp or any.
        #[arg(long, default_value = "tcp")]
        protocol: String,
        /// Destination port or range.
        #[arg(long, default_value = "any")]
        dest_port: String,
        /// Source port or range.
        #[arg(long, default_value = "any")]
        source_port: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete the rule at INDEX (as `list` numbers them) and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// The rule's index.
        index: usize,
    },
}

#[derive(Debug, Subcommand)]
enum NatSub {
    /// List the rules.
    List(EdgeArg),
    /// Add a rule and save.
    Add {
        #[command(flatten)]
        edge: EdgeArg,
        /// snat or dnat.
        action: String,
        /// The original address or network.
        original: String,
        /// The translated address or network.
        translated: String,
        /// tcp, udp, icmp or any.
        #[arg(long)]
        protocol: Option<String>,
        /// The original port.
        #[arg(long)]
        original_port: Option<String>,
        /// The translated port.
        #[arg(long)]
        translated_port: Option<String>,
    },
    /// Delete the rule at INDEX and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// The rule's index.
        index: usize,
    },
}

#[derive(Debug, Subcommand)]
enum IpsecSub {
    /// List the VPN sites (pre-shared keys are never shown).
    List(EdgeArg),
    /// Add a pre-shared-key tunnel (AES-256, PFS, DH group 2) and save.
    Add {
        #[command(flatten)]
        edge: EdgeArg,
        /// The site name.
        name: String,
        /// Local id.
        #[arg(long)]
        local_id: String,
        /// Local endpoint IP.
        #[arg(long)]
        local_ip: String,
        /// Peer id.
        #[arg(long)]
        peer_id: String,
        /// Peer endpoint IP.
        #[arg(long)]
        peer_ip: String,
        /// Local subnets, comma separated.
        #[arg(long)]
        local_subnets: String,
        /// Peer subnets, comma separated.
        #[arg(long)]
        peer_subnets: String,
        /// Read the pre-shared key from this file.
        #[arg(long, value_name = "FILE", required_unless_present = "psk_stdin")]
        psk_file: Option<PathBuf>,
        /// Read the pre-shared key from standard input.
        #[arg(long)]
        psk_stdin: bool,
    },
    /// Delete the site at INDEX and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// The site's index.
        index: usize,
    },
}

/// Which replications an action targets.
#[derive(Debug, Clone, Args)]
struct DrTargetArgs {
    /// Replication ids; none means every replication.
    ids: Vec<String>,
    /// At most this many VMs at once.
    #[arg(long, default_value_t = 20)]
    workers: usize,
    /// Seconds between two polls of a VM's task.
    #[arg(long, default_value_t = 10.0)]
    poll_interval: f64,
    /// Fail a VM whose task shows no progress for this many seconds.
    #[arg(long, default_value_t = 600.0)]
    idle_timeout: f64,
}

#[derive(Debug, Subcommand)]
enum DrSub {
    /// List the replications (every page) with their state.
    List {
        /// Write the details as CSV (vcloudair's dump_replication_details) instead.
        #[arg(long)]
        csv: bool,
    },
    /// Test failover: bring up copies of the VMs without stopping replication.
    TestFailover {
        #[command(flatten)]
        targets: DrTargetArgs,
        /// Power the VMs on after the failover.
        #[arg(long)]
        power_on: bool,
    },
    /// Fail the VMs over for real.
    Failover {
        #[command(flatten)]
        targets: DrTargetArgs,
        /// Power the VMs on after the failover.
        #[arg(long)]
        power_on: bool,
    },
    /// Remove what a test failover created.
    TestCleanup {
        #[command(flatten)]
        targets: DrTargetArgs,
    },
}

impl VcloudCmd {
    /// Runs the command.
    pub(crate) fn run(self, ctx: Ctx) -> Result<(), Failure> {
        runtime()?.block_on(self.run_async(ctx))
    }

    async fn run_async(self, ctx: Ctx) -> Result<(), Failure> {
        let p = ctx.printer;
        match self.command {
            VcloudSub::Login { kind } => {
                let mut conn = self.conn;
                if let Some(k) = kind {
                    conn.service = k;
                }
                let login = conn.login().await?;
                p.print(&login, || login.text()).map_err(io_failure)
            }
            VcloudSub::Query {
                query_type,
                fields,
                filter,
                sort_asc,
                sort_desc,
                page_size,
            } => {
                let org = self.conn.login().await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http()?)
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
                    .map_err(io_failure)
            }
            VcloudSub::Metrics {
                vms,
                hours,
                metrics,
            } => {
                let org = self.conn.login().await?.org_info;
                let client = VcdClient::with_config(org, &self.conn.http()?)
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
                p.print(&view, || metrics_table(&data)).map_err(io_failure)
            }
            VcloudSub::Firewall(sub) => {
                let org = self.conn.login().await?.org_info;
                firewall(sub, &org, ctx).await
            }
            VcloudSub::Nat(sub) => {
                let org = self.conn.login().await?.org_info;
                nat(sub, &org, ctx).await
            }
            VcloudSub::Ipsec(sub) => {
                let org = self.conn.login().await?.org_info;
                ipsec(sub, &org, ctx).await
            }
            VcloudSub::Dr(sub) => {
                let org = self.conn.login().await?.org_info;
                dr(sub, &org, ctx).await
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
    /// On-Demand instances or VPC vDCs the account has.
    reachable: Vec<Reachable>,
    #[serde(skip)]
    pub(crate) org_info: OrgInfo,
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
        LoginView {
            service,
            vcdurl: org.vcdurl().to_string(),
            org_uuid: org.org_uuid().to_owned(),
            api_version: org.version().to_string(),
            auth_header: org.auth_header().to_owned(),
            reachable,
            org_info: org,
        }
    }

    fn text(&self) -> String {
        let mut out = key_values(&[
            ("SERVICE", self.service.to_owned()),
            ("VCD URL", self.vcdurl.clone()),
            ("ORG", self.org_uuid.clone()),
            ("API VERSION", self.api_version.clone()),
            ("AUTH HEADER", self.auth_header.clone()),
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

impl VcloudConn {
    fn http(&self) -> Result<HttpConfig, Failure> {
        self.tls
            .http_config(HttpConfig::default())
            .during("reading --ca-cert")
    }

    fn url(&self) -> Result<String, Failure> {
        self.url.clone().or_else(|| env("VCD_URL")).ok_or_else(|| {
            Failure::new(
                "logging in",
                Error::invalid_input("no URL given (--url or VCD_URL)"),
            )
            .hint("point --url at your vCD or vCloud Air host; `nebulair simulate` prints one")
        })
    }

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

    fn password(&self) -> Result<SecretString, Failure> {
        if self.password_stdin {
            return read_secret_stdin().during("reading the password from stdin");
        }
        if let Some(path) = &self.password_file {
            return read_secret_file(path).during("reading the password file");
        }
        env("VCD_PASSWORD").map(SecretString::from).ok_or_else(|| {
            Failure::new(
                "logging in",
                Error::invalid_input(
                    "no password given (--password-stdin, --password-file or VCD_PASSWORD)",
                ),
            )
        })
    }

    /// Logs in as `--service` says.
    pub(crate) async fn login(&self) -> Result<LoginView, Failure> {
        let http = self.http()?;
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
                let org = self.org.clone().or_else(|| env("VCD_ORG")).ok_or_else(|| {
                    Failure::new(
                        "logging in",
                        Error::invalid_input("no organisation given (--org or VCD_ORG)"),
                    )
                })?;
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
                        let user = self.user()?;
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
                let name = if self.service == Service::ApiToken {
                    "api-token"
                } else {
                    "vcd"
                };
                Ok(LoginView::new(name, info, Vec::new()))
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
    let mut out = t.render();
    out.push_str(&format!("{} records\n", records.len()));
    out
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
    let mut out = t.render();
    out.push_str(&format!(
        "{} samples from {} pages\n",
        data.sample_count(),
        data.pages()
    ));
    out
}

// ----- ANS -----

async fn fetched<K: SectionKind>(edge: &str, org: &OrgInfo) -> Result<AnsSection<K>, Failure> {
    let mut section = AnsSection::<K>::new(edge, org).during("configuring the edge client")?;
    section
        .fetch()
        .await
        .during(format!("reading the {} config of edge {edge}", K::SECTION))?;
    Ok(section)
}

async fn save<K: SectionKind>(section: &AnsSection<K>) -> Result<(), Failure> {
    section.save().await.during(format!(
        "saving the {} config of edge {}",
        K::SECTION,
        section.edge_id()
    ))
}

fn fw_endpoint(e: Option<&nebulair_vcloud::ans::RuleEndpoint>) -> String {
    match e {
        Some(e) => {
            let mut all: Vec<&str> = e.ip_addresses().iter().map(String::as_str).collect();
            all.extend(e.vnic_groups().iter().map(String::as_str));
            if all.is_empty() {
                "any".to_owned()
            } else {
                all.join(",")
            }
        }
        None => "any".to_owned(),
    }
}

fn fw_service(r: &FirewallRule) -> (String, String) {
    let services = r.application.as_ref().and_then(|a| a.service.as_ref());
    match services.and_then(|s| s.first()) {
        Some(s) => (
            s.protocol
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "any".to_owned()),
            s.port
                .as_ref()
                .map(|p| p.join(","))
                .unwrap_or_else(|| "any".to_owned()),
        ),
        None => ("any".to_owned(), "any".to_owned()),
    }
}

pub(crate) fn firewall_table(rules: &[FirewallRule]) -> String {
    let mut t = Table::new([
        "#",
        "NAME",
        "ACTION",
        "SOURCE",
        "DESTINATION",
        "PROTOCOL",
        "PORT",
        "ENABLED",
    ]);
    for (i, r) in rules.iter().enumerate() {
        let (proto, port) = fw_service(r);
        t.row([
            i.to_string(),
            r.name.clone().unwrap_or_default(),
            r.action.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            fw_endpoint(r.source.as_ref()),
            fw_endpoint(r.destination.as_ref()),
            proto,
            port,
            r.enabled.map(|e| e.to_string()).unwrap_or_default(),
        ]);
    }
    t.render()
}

pub(crate) fn nat_table(rules: &[NatRule]) -> String {
    let mut t = Table::new([
        "#",
        "ACTION",
        "ORIGINAL",
        "TRANSLATED",
        "PROTOCOL",
        "ORIG PORT",
        "TRANS PORT",
    ]);
    for (i, r) in rules.iter().enumerate() {
        t.row([
            i.to_string(),
            r.action.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            r.original_address.clone().unwrap_or_default(),
            r.translated_address.clone().unwrap_or_default(),
            r.protocol
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "any".to_owned()),
            r.original_port.clone().unwrap_or_else(|| "any".to_owned()),
            r.translated_port
                .clone()
                .unwrap_or_else(|| "any".to_owned()),
        ]);
    }
    t.render()
}

fn ipsec_table(sites: &[IpsecSite]) -> String {
    let mut t = Table::new([
        "#",
        "NAME",
        "LOCAL IP",
        "PEER IP",
        "PEER SUBNETS",
        "ENCRYPTION",
        "ENABLED",
    ]);
    for (i, s) in sites.iter().enumerate() {
        t.row([
            i.to_string(),
            s.name.clone().unwrap_or_default(),
            s.local_ip.clone().unwrap_or_default(),
            s.peer_ip.clone().unwrap_or_default(),
            s.peer_subnets
                .as_ref()
                .and_then(|l| l.subnets.as_ref())
                .map(|v| v.join(","))
                .unwrap_or_default(),
            s.encryption_algorithm
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            s.enabled.map(|e| e.to_string()).unwrap_or_default(),
        ]);
    }
    t.render()
}

/// JSON for rule lists with every pre-shared key replaced.
fn redacted_json<T: Serialize>(rules: &[T]) -> Result<Value, Failure> {
    let mut v = serde_json::to_value(rules).map_err(|e| {
        Failure::new(
            "rendering JSON",
            Error::with_source(ErrorKind::Protocol, "serialising rules", e),
        )
    })?;
    redact(&mut v);
    Ok(v)
}

fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                let lk = k.to_ascii_lowercase();
                if lk == "psk"
                    || lk.contains("password")
                    || lk.contains("secret")
                    || lk.contains("presharedkey")
                {
                    *val = Value::String("[REDACTED]".to_owned());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact),
        _ => {}
    }
}

fn parse_protocol(s: &str) -> Result<Protocol, Failure> {
    s.parse::<Protocol>().during("reading --protocol")
}

async fn firewall(sub: FirewallSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        FirewallSub::List(e) => {
            let fw = fetched::<nebulair_vcloud::ans::Firewall>(&e.edge, org).await?;
            let v = redacted_json(fw.rules())?;
            p.print(&v, || firewall_table(fw.rules()))
                .map_err(io_failure)
        }
        FirewallSub::Add {
            edge,
            name,
            source,
            destination,
            action,
            protocol,
            dest_port,
            source_port,
            description,
        } => {
            let action: FirewallAction = action.parse().during("reading --action")?;
            let mut rule = NewFirewallRule::parse(name, &source, &destination)
                .during("reading the rule")?
                .action(action)
                .protocol(parse_protocol(&protocol)?)
                .dest_port(dest_port)
                .source_port(source_port);
            if let Some(d) = description {
                rule = rule.description(d);
            }
            let mut fw = fetched::<nebulair_vcloud::ans::Firewall>(&edge.edge, org).await?;
            let index = fw.add_rule(rule).during("adding the rule")?;
            save(&fw).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("rule {index} added and saved ({} rules)\n", fw.len())
            })
            .map_err(io_failure)
        }
        FirewallSub::Delete { edge, index } => {
            let mut fw = fetched::<nebulair_vcloud::ans::Firewall>(&edge.edge, org).await?;
            let removed = fw.remove(index).during(format!("removing rule {index}"))?;
            save(&fw).await?;
            p.print(&serde_json::json!({ "deleted": index }), || {
                format!(
                    "rule {index} ({}) deleted and saved\n",
                    removed.name.unwrap_or_default()
                )
            })
            .map_err(io_failure)
        }
    }
}

async fn nat(sub: NatSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        NatSub::List(e) => {
            let n = fetched::<nebulair_vcloud::ans::Nat>(&e.edge, org).await?;
            let v = redacted_json(n.rules())?;
            p.print(&v, || nat_table(n.rules())).map_err(io_failure)
        }
        NatSub::Add {
            edge,
            action,
            original,
            translated,
            protocol,
            original_port,
            translated_port,
        } => {
            let mut rule =
                NewNatRule::parse(&action, &original, &translated).during("reading the rule")?;
            if let Some(pr) = protocol {
                rule = rule.protocol(parse_protocol(&pr)?);
            }
            if let Some(op) = original_port {
                rule = rule.original_port(op);
            }
            if let Some(tp) = translated_port {
                rule = rule.translated_port(tp);
            }
            let mut n = fetched::<nebulair_vcloud::ans::Nat>(&edge.edge, org).await?;
            let index = n.add_rule(rule).during("adding the rule")?;
            save(&n).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("rule {index} added and saved ({} rules)\n", n.len())
            })
            .map_err(io_failure)
        }
        NatSub::Delete { edge, index } => {
            let mut n = fetched::<nebulair_vcloud::ans::Nat>(&edge.edge, org).await?;
            n.remove(index).during(format!("removing rule {index}"))?;
            save(&n).await?;
            p.print(&serde_json::json!({ "deleted": index }), || {
                format!("rule {index} deleted and saved\n")
            })
            .map_err(io_failure)
        }
    }
}

async fn ipsec(sub: IpsecSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        IpsecSub::List(e) => {
            let s = fetched::<nebulair_vcloud::ans::Ipsec>(&e.edge, org).await?;
            let v = redacted_json(s.rules())?;
            p.print(&v, || ipsec_table(s.rules())).map_err(io_failure)
        }
        IpsecSub::Add {
            edge,
            name,
            local_id,
            local_ip,
            peer_id,
            peer_ip,
            local_subnets,
            peer_subnets,
            psk_file,
            psk_stdin,
        } => {
            let psk = match (psk_file, psk_stdin) {
                (Some(f), _) => read_secret_file(&f).during("reading the pre-shared key")?,
                (None, _) => read_secret_stdin().during("reading the pre-shared key")?,
            };
            let tunnel = NewPskTunnel::new(
                name,
                local_id,
                local_ip,
                peer_id,
                peer_ip,
                local_subnets.as_str(),
                peer_subnets.as_str(),
                psk.expose_secret().to_owned(),
            );
            let mut s = fetched::<nebulair_vcloud::ans::Ipsec>(&edge.edge, org).await?;
            let index = s.add_psk_tunnel(tunnel).during("adding the tunnel")?;
            save(&s).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("site {index} added and saved ({} sites)\n", s.len())
            })
            .map_err(io_failure)
        }
        IpsecSub::Delete { edge, index } => {
            let mut s = fetched::<nebulair_vcloud::ans::Ipsec>(&edge.edge, org).await?;
            s.remove(index).during(format!("removing site {index}"))?;
            save(&s).await?;
            p.print(&serde_json::json!({ "deleted": index }), || {
                format!("site {index} deleted and saved\n")
            })
            .map_err(io_failure)
        }
    }
}

// ----- DR -----

/// One replication as printed.
#[derive(Debug, Serialize)]
struct ReplicationView {
    id: String,
    name: Option<String>,
    state: Option<String>,
    rpo_minutes: Option<u32>,
    test_recovery: Option<String>,
    recovery: Option<String>,
    error: Option<String>,
}

/// One target's outcome as printed.
#[derive(Debug, Serialize)]
pub(crate) struct OutcomeView {
    id: String,
    name: Option<String>,
    status: &'static str,
    message: Option<String>,
}

/// A DR run as printed.
#[derive(Debug, Serialize)]
pub(crate) struct DrReportView {
    action: &'static str,
    succeeded: usize,
    failed: usize,
    elapsed_seconds: f64,
    unknown_ids: Vec<String>,
    duplicate_ids: Vec<String>,
    outcomes: Vec<OutcomeView>,
}

impl DrReportView {
    pub(crate) fn new(r: &DrReport) -> Self {
        let outcomes: Vec<OutcomeView> = r
            .outcomes
            .iter()
            .map(|o| {
                let (status, message) = match &o.status {
                    TargetStatus::Succeeded => ("succeeded", None),
                    TargetStatus::Failed { message, .. } => ("failed", Some(message.clone())),
                    TargetStatus::TimedOut { .. } => ("timed out", None),
                    TargetStatus::NotStarted => ("not started", None),
                    TargetStatus::Interrupted => ("interrupted", None),
                    _ => ("other", None),
                };
                OutcomeView {
                    id: o.uuid.clone(),
                    name: o.name.clone(),
                    status,
                    message,
                }
            })
            .collect();
        DrReportView {
            action: r.action.as_str(),
            succeeded: r.succeeded().count(),
            failed: r.failed().count(),
            elapsed_seconds: r.elapsed.as_secs_f64(),
            unknown_ids: r.unknown_ids.clone(),
            duplicate_ids: r.duplicate_ids.clone(),
            outcomes,
        }
    }

    /// The summary line and, when some failed, a table of the failures.
    pub(crate) fn text(&self) -> String {
        let mut out = format!(
            "{}: {} succeeded, {} failed in {:.1}s\n",
            self.action, self.succeeded, self.failed, self.elapsed_seconds
        );
        if !self.unknown_ids.is_empty() {
            out.push_str(&format!("unknown ids: {}\n", self.unknown_ids.join(", ")));
        }
        if !self.duplicate_ids.is_empty() {
            out.push_str(&format!(
                "duplicates ignored: {}\n",
                self.duplicate_ids.join(", ")
            ));
        }
        let failed: Vec<&OutcomeView> = self
            .outcomes
            .iter()
            .filter(|o| o.status != "succeeded")
            .collect();
        if !failed.is_empty() {
            let mut t = Table::new(["ID", "NAME", "STATUS", "MESSAGE"]);
            for o in failed {
                t.row([
                    o.id.clone(),
                    o.name.clone().unwrap_or_default(),
                    o.status.to_owned(),
                    o.message.clone().unwrap_or_default(),
                ]);
            }
            out.push_str(&t.render());
        }
        out
    }
}

fn secs(s: f64, what: &str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        Failure::new(
            "reading the options",
            Error::invalid_input(format!("--{what} must be a non-negative number of seconds")),
        )
    })
}

/// Runs one DR action with a progress bar on terminals.
pub(crate) async fn run_dr_action(
    dr: &mut DisasterRecovery,
    action: &'static str,
    ids: Vec<String>,
    power_on: bool,
) -> Result<DrReport, Failure> {
    let targets = if ids.is_empty() {
        DrTargets::All
    } else {
        DrTargets::ids(ids)
    };
    let total = match &targets {
        DrTargets::All => dr.replications().len(),
        DrTargets::Ids(v) => v.len(),
    };
    let bar = Progress::new(total as u64, action);
    let mut events = dr.progress_channel();
    let bar2 = bar.clone();
    let drawer = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            match ev.kind {
                DrEventKind::Finished { .. } => bar2.inc(),
                _ => bar2.message(ev.name.unwrap_or(ev.uuid)),
            }
        }
    });
    let result = match action {
        "test-failover" => dr.test_failover(targets, power_on).await,
        "failover" => dr.failover(targets, power_on).await,
        _ => dr.test_cleanup(targets).await,
    };
    drawer.abort();
    bar.finish();
    result.during(format!("running {action}"))
}

async fn dr_list(mut dr: DisasterRecovery, csv: bool, ctx: Ctx) -> Result<(), Failure> {
    dr.fetch_replications()
        .await
        .during("listing the replications")?;
    if csv {
        let mut buf = Vec::new();
        dr.dump_replication_details(&mut buf)
            .during("writing the CSV")?;
        return crate::output::write_stdout(&String::from_utf8_lossy(&buf)).map_err(io_failure);
    }
    let views: Vec<ReplicationView> = dr
        .replications()
        .iter()
        .map(|r| ReplicationView {
            id: r.uuid.clone(),
            name: r.name().map(str::to_owned),
            state: r.details.as_ref().and_then(|d| d.replication_state.clone()),
            rpo_minutes: r.details.as_ref().and_then(|d| d.rpo_minutes),
            test_recovery: r
                .details
                .as_ref()
                .and_then(|d| d.test_recovery_state.clone()),
            recovery: r.details.as_ref().and_then(|d| d.recovery_state.clone()),
            error: r.details_error.clone(),
        })
        .collect();
    ctx.printer
        .print(&views, || {
            let mut t = Table::new(["ID", "NAME", "STATE", "RPO", "TEST RECOVERY", "RECOVERY"]);
            for v in &views {
                t.row([
                    v.id.clone(),
                    v.name.clone().unwrap_or_default(),
                    v.state.clone().unwrap_or_default(),
                    v.rpo_minutes.map(|m| format!("{m}m")).unwrap_or_default(),
                    v.test_recovery.clone().unwrap_or_default(),
                    v.recovery.clone().unwrap_or_default(),
                ]);
            }
            t.render()
        })
        .map_err(io_failure)
}

async fn dr(sub: DrSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let dr = DisasterRecovery::new(org).during("configuring disaster recovery")?;
    let (action, targets, power_on) = match sub {
        DrSub::List { csv } => return dr_list(dr, csv, ctx).await,
        DrSub::TestFailover { targets, power_on } => ("test-failover", targets, power_on),
        DrSub::Failover { targets, power_on } => ("failover", targets, power_on),
        DrSub::TestCleanup { targets } => ("test-cleanup", targets, false),
    };
    let mut dr = dr
        .concurrency(targets.workers.max(1))
        .poll_interval(secs(targets.poll_interval, "poll-interval")?)
        .idle_timeout(secs(targets.idle_timeout, "idle-timeout")?);
    dr.fetch_replications()
        .await
        .during("listing the replications")?;
    let report = run_dr_action(&mut dr, action, targets.ids, power_on).await?;
    let view = DrReportView::new(&report);
    ctx.printer
        .print(&view, || view.text())
        .map_err(io_failure)?;
    if report.all_succeeded() && report.unknown_ids.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            action,
            Error::new(
                ErrorKind::Server,
                format!(
                    "{} of {} targets did not succeed",
                    view.failed + view.unknown_ids.len(),
                    view.outcomes.len() + view.unknown_ids.len()
                ),
            ),
        )
        .hint("the output above lists each failed VM with the server's message"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_keys_at_any_depth() {
        let mut v = serde_json::json!([{"name": "s", "psk": "k", "x": {"Password": "p", "ok": 1}}]);
        redact(&mut v);
        assert_eq!(v[0]["psk"], "[REDACTED]");
        assert_eq!(v[0]["x"]["Password"], "[REDACTED]");
        assert_eq!(v[0]["x"]["ok"], 1);
        assert_eq!(v[0]["name"], "s");
    }
}
