//! `nebulair demo`: a guided tour of the SDK on embedded simulators.
//!
//! The tour is ordinary SDK code; each step prints what it does and what came back, so
//! reading this file is also a way to learn the API.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use futures::TryStreamExt as _;
use nebulair_core::{Compute, Credentials, Error, ErrorKind};
use nebulair_opennebula::ids::{TemplateId, VmId};
use nebulair_opennebula::model::{HostPool, Vm, VmPool, VmTemplatePool};
use nebulair_opennebula::onegate::{OneGateClient, VmAttributes};
use nebulair_opennebula::pool::{PoolFilter, VmStateFilter};
use nebulair_opennebula::template::{Context, Template};
use nebulair_opennebula::{OneClient, VmAction};
use nebulair_sim::one::{Delays, OneSimHandle, OneSimulator};
use nebulair_sim::vcloud::{
    DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, OD_COMPUTE_INSTANCE_ID, OD_DR_INSTANCE_ID,
    VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::ans::{
    AnsFirewall, AnsNat, FirewallAction, NewFirewallRule, NewNatRule, Protocol,
};
use nebulair_vcloud::dr::DisasterRecovery;
use nebulair_vcloud::metrics::{Metrics, Unit};
use nebulair_vcloud::query::{Query, QueryType};
use nebulair_vcloud::session::VcaOdSession;

use crate::commands::one_args::OneConn;
use crate::commands::one_view::{host_table, template_table, vm_state, vm_table};
use crate::commands::vcloud::metrics_table;
use crate::commands::vcloud_ans::{firewall_table, nat_table};
use crate::commands::vcloud_dr::{DrReportView, run_dr_action};
use crate::output::Table;
use crate::report::{Context as _, Failure};
use nebulair_vcloud::VcdCompute;

/// Which half of the tour to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Cloud {
    /// OpenNebula and OneGate.
    One,
    /// vCloud Air and vCloud Director.
    Vcloud,
}

/// Options of `nebulair demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Run only one half of the tour.
    #[arg(long, value_enum)]
    cloud: Option<Cloud>,
    /// No pauses and no simulated delays (for tests and CI); also env NEBULAIR_DEMO_FAST=1.
    #[arg(long, env = "NEBULAIR_DEMO_FAST", value_parser = clap::builder::FalseyValueParser::new())]
    fast: bool,
    /// Run the OpenNebula part against this real oned instead of the simulator (with
    /// --user and --password-stdin, or ONE_AUTH). It creates and terminates one VM from
    /// the first template it can use.
    #[command(flatten)]
    one: OneConn,
}

/// Prints the tour: section titles, steps, results, with short pauses between steps so a
/// person can follow (none with `--fast`).
#[derive(Debug, Clone, Copy)]
struct Narrator {
    pause: Duration,
}

impl Narrator {
    fn new(fast: bool) -> Self {
        Narrator {
            pause: if fast {
                Duration::ZERO
            } else {
                Duration::from_millis(300)
            },
        }
    }

    fn fast(&self) -> bool {
        self.pause.is_zero()
    }

    fn section(&self, title: &str) {
        say(String::new());
        say(format!("== {title} =="));
    }

    async fn step(&self, text: &str) {
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        say(String::new());
        say(format!("> {text}"));
    }

    fn show(&self, text: &str) {
        for line in text.lines() {
            say(format!("  {line}"));
        }
    }
}

/// What the OpenNebula half leaves for the final `Compute` section.
struct OneSide {
    client: OneClient,
    _sim: Option<OneSimHandle>,
}

/// What the vCloud half leaves for the final `Compute` section.
struct VcloudSide {
    client: VcdClient,
    _sim: VcloudSimulatorHandle,
}

impl DemoArgs {
    /// Runs the tour.
    pub(crate) fn run(self, ctx: crate::Ctx) -> Result<(), Failure> {
        crate::commands::common::block_on(&ctx, None, self.tour(ctx))
    }

    async fn tour(self, ctx: crate::Ctx) -> Result<(), Failure> {
        let n = Narrator::new(self.fast);
        let started = Instant::now();
        say(format!(
            "nebulair {} guided demo",
            env!("CARGO_PKG_VERSION")
        ));
        say(
            "Everything below runs against loopback simulators started by this command,"
                .to_string(),
        );
        say("through the same SDK calls you would use against a real cloud.".to_string());
        let one = if self.cloud != Some(Cloud::Vcloud) {
            Some(one_tour(&n, &self.one, ctx).await?)
        } else {
            None
        };
        let vcloud = if self.cloud != Some(Cloud::One) {
            Some(vcloud_tour(&n).await?)
        } else {
            None
        };
        compute_tour(&n, one.as_ref(), vcloud.as_ref()).await?;
        say(String::new());
        say(format!(
            "Demo finished in {:.1}s. Next: `nebulair simulate` to keep the simulators running,",
            started.elapsed().as_secs_f64()
        ));
        say("and the user guide in docs/ (start with docs/src/getting-started.md).".to_string());
        Ok(())
    }
}

fn demo_delays(fast: bool) -> Delays {
    if fast {
        Delays::default()
    } else {
        Delays {
            schedule: Duration::from_millis(600),
            prolog: Duration::from_millis(900),
            boot: Duration::from_millis(700),
            shutdown: Duration::from_millis(500),
            epilog: Duration::from_millis(300),
            monitor: Duration::from_millis(300),
        }
    }
}

/// Polls a VM until it is RUNNING (or fails), printing every state it passes through.
async fn follow_vm(n: &Narrator, client: &OneClient, id: VmId) -> Result<Vm, Failure> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let vm: Vm = client
            .vm(id)
            .info()
            .await
            .during(format!("reading VM {id}"))?;
        let state = vm_state(vm.state, vm.lcm_state);
        if seen.last() != Some(&state) {
            seen.push(state.clone());
            n.show(&format!("state: {}", seen.join(" -> ")));
        }
        if vm.is_running() {
            return Ok(vm);
        }
        if state == "FAILED" || state.ends_with("FAILURE") || Instant::now() > deadline {
            return Err(Failure::new(
                format!("waiting for VM {id} to run"),
                Error::new(ErrorKind::Timeout, format!("VM {id} stayed in {state}")),
            ));
        }
        tokio::time::sleep(Duration::from_millis(if n.fast() { 10 } else { 150 })).await;
    }
}

async fn one_tour(n: &Narrator, conn: &OneConn, ctx: crate::Ctx) -> Result<OneSide, Failure> {
    n.section("OpenNebula");
    let (client, sim) = if conn.endpoint.is_some() {
        n.step("Connecting to your OpenNebula (--endpoint)").await;
        (conn.client(&ctx)?, None)
    } else {
        n.step(
            "Starting the OpenNebula simulator on 127.0.0.1 (an oned look-alike) and its OneGate",
        )
        .await;
        let sim = OneSimulator::builder()
            .delays(demo_delays(n.fast()))
            .with_onegate()
            .start()
            .await
            .during("starting the OpenNebula simulator")?;
        let gate_url = sim.onegate_url().unwrap_or_default().to_owned();
        n.show(&format!("XML-RPC endpoint: {}", sim.url()));
        n.show(&format!("OneGate endpoint: {gate_url}"));
        let client = OneClient::builder()
            .endpoint(sim.url())
            .credentials(Credentials::password("oneadmin", "opennebula"))
            .build()
            .during("configuring the OpenNebula client")?;
        (client, Some(sim))
    };

    n.step("client.system().version()").await;
    let version = client
        .system()
        .version()
        .await
        .during("reading the OpenNebula version")?;
    n.show(&format!("OpenNebula {version} at {}", client.endpoint()));

    n.step("client.hosts().info() parsed into model::HostPool")
        .await;
    let hosts: HostPool = client.hosts().info().await.during("listing hosts")?;
    n.show(&host_table(&hosts.host));

    n.step("client.templates().info(&PoolFilter::all())").await;
    let templates: VmTemplatePool = client
        .templates()
        .info(&PoolFilter::all())
        .await
        .during("listing VM templates")?;
    n.show(&template_table(&templates.vmtemplate));
    let Some(tpl) = templates.vmtemplate.first() else {
        return Err(Failure::new(
            "running the OpenNebula tour",
            Error::new(
                ErrorKind::NotFound,
                "the server has no VM template to instantiate",
            ),
        ));
    };
    let tpl_id: TemplateId = tpl.id;
    n.show(&format!(
        "template {} ({}): CPU={} MEMORY={} NIC network={}",
        tpl.id,
        tpl.name.as_deref().unwrap_or("-"),
        tpl.template.get_str("CPU").unwrap_or("-"),
        tpl.template.get_str("MEMORY").unwrap_or("-"),
        tpl.template
            .get_vector("NIC")
            .and_then(|v| v.get("NETWORK").or_else(|| v.get("NETWORK_ID")))
            .unwrap_or("-"),
    ));

    n.step(&format!(
        "client.template({tpl_id}).instantiate(\"demo-web\", false, &extra, false) with a typed extra template"
    ))
    .await;
    let mut extra = Template::new();
    extra.set("DESCRIPTION", r#"made by "nebulair demo""#).set(
        "CONTEXT",
        Context::new().network(true).set_hostname("demo-web"),
    );
    n.show(&format!(
        "extra template (text syntax, escaped):\n{}",
        extra.render().unwrap_or_default()
    ));
    let vm_id = client
        .template(tpl_id)
        .instantiate("demo-web", false, &extra, false)
        .await
        .during(format!("instantiating template {tpl_id}"))?;
    n.show(&format!("VM {vm_id} created; following it until it runs:"));
    let vm = follow_vm(n, &client, vm_id).await?;
    n.show(&format!(
        "VM {} '{}' is {} (vm.is_running() = {})",
        vm.id,
        vm.name.as_deref().unwrap_or("-"),
        vm_state(vm.state, vm.lcm_state),
        vm.is_running()
    ));

    n.step("Two more VMs, one of them on hold, then pool filtering")
        .await;
    let db = client
        .template(tpl_id)
        .instantiate("demo-db", false, &Template::new(), false)
        .await
        .during("instantiating demo-db")?;
    let held = client
        .template(tpl_id)
        .instantiate("demo-batch", true, &Template::new(), false)
        .await
        .during("instantiating demo-batch on hold")?;
    follow_vm(n, &client, db).await?;
    let all: VmPool = client
        .vms()
        .info(&PoolFilter::all())
        .await
        .during("listing VMs")?;
    n.show("client.vms().info(&PoolFilter::all()) (newest first, like oned):");
    n.show(&vm_table(&all.vm));
    let on_hold: VmPool = client
        .vms()
        .info(&PoolFilter::all().state(VmStateFilter::State(2)))
        .await
        .during("listing held VMs")?;
    n.show("PoolFilter::all().state(VmStateFilter::State(2)) (HOLD only):");
    n.show(&vm_table(&on_hold.vm));
    let range = PoolFilter::all()
        .id_range(vm_id.get(), db.get())
        .during("building the id range")?;
    let ranged: VmPool = client
        .vms()
        .info(&range)
        .await
        .during("listing VMs by id range")?;
    n.show(&format!(
        "PoolFilter::all().id_range({}, {}): {} VMs",
        vm_id,
        db,
        ranged.vm.len()
    ));
    client
        .vm(held)
        .action(VmAction::Release)
        .await
        .during(format!("releasing VM {held}"))?;
    n.show(&format!(
        "client.vm({held}).action(VmAction::Release): released for scheduling"
    ));

    n.step("An error, as your code and a user see it: client.vm(9999).info()")
        .await;
    match client.vm(VmId::new(9999)).info().await {
        Ok(_) => n.show("(the server has a VM 9999)"),
        Err(e) => {
            n.show(&format!(
                "err.kind() = {:?}, err.is_not_found() = {}",
                e.kind(),
                e.is_not_found()
            ));
            if let Some(s) = e.service() {
                n.show(&format!(
                    "server code {} ({}), message: {}",
                    s.code(),
                    s.code_name().unwrap_or("-"),
                    s.message()
                ));
            }
            n.show(&format!(
                "the CLI prints: {}",
                Failure::new("reading VM 9999", e).line()
            ));
        }
    }
    if sim.is_some() {
        let bad = OneClient::builder()
            .endpoint(client.endpoint().as_str())
            .credentials(Credentials::password("oneadmin", "wrong-password"))
            .build()
            .during("configuring a client with a wrong password")?;
        if let Err(e) = bad.system().version().await {
            n.show(&format!(
                "with a wrong password: is_authentication() = {}; the CLI prints:",
                e.is_authentication()
            ));
            n.show(&Failure::new("reading the OpenNebula version", e).line());
        }
    }

    if let Some(sim) = &sim {
        onegate_tour(n, &client, sim, tpl_id).await?;
    }

    n.step(&format!("client.vm({db}).action(VmAction::Terminate)"))
        .await;
    client
        .vm(db)
        .action(VmAction::Terminate)
        .await
        .during(format!("terminating VM {db}"))?;
    n.show(&format!("VM {db} terminating"));

    Ok(OneSide { client, _sim: sim })
}

/// OneGate from inside a VM: a VM made with `CONTEXT = [ TOKEN = "YES" ]` reads its own
/// state and publishes values that oned (and OneFlow) then see.
async fn onegate_tour(
    n: &Narrator,
    client: &OneClient,
    sim: &OneSimHandle,
    tpl: TemplateId,
) -> Result<(), Failure> {
    n.section("OneGate (from inside a VM)");
    n.step("Instantiating a VM whose context asks for a OneGate token")
        .await;
    let mut extra = Template::new();
    extra.set("CONTEXT", Context::new().network(true).token(true));
    let id = client
        .template(tpl)
        .instantiate("demo-app", false, &extra, false)
        .await
        .during("instantiating demo-app")?;
    follow_vm(n, client, id).await?;
    let vm: Vm = client
        .vm(id)
        .info()
        .await
        .during(format!("reading VM {id}"))?;
    let endpoint = vm
        .template
        .get_vector("CONTEXT")
        .and_then(|c| c.get("ONEGATE_ENDPOINT"))
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::new(
                "reading the VM context",
                Error::new(
                    ErrorKind::NotFound,
                    "the VM context has no ONEGATE_ENDPOINT",
                ),
            )
        })?;
    // Inside the VM this is token.txt on the context CD; the simulator hands it out.
    let token = sim.state().vm_token(id.get()).ok_or_else(|| {
        Failure::new(
            "reading the VM's OneGate token",
            Error::new(ErrorKind::NotFound, "the VM has no OneGate token"),
        )
    })?;
    n.show(&format!(
        "VM {id}: ONEGATE_ENDPOINT={endpoint}, token.txt present (never printed)"
    ));

    n.step("OneGateClient::builder().endpoint(..).vm_id(..).token(..).build()?.vm()")
        .await;
    let gate = OneGateClient::builder()
        .endpoint(endpoint)
        .vm_id(id)
        .token(token)
        .build()
        .during("configuring the OneGate client")?;
    let me = gate.vm().await.during("reading this VM from OneGate")?;
    n.show(&format!(
        "I am VM {} '{}', running = {}, NICs: {}",
        me.id,
        me.name,
        me.is_running(),
        me.template
            .nics
            .iter()
            .filter_map(|nic| nic.ip.clone())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    n.step("gate.update_vm(VmAttributes::new().set(\"READY\", \"YES\").set(\"APP_LOAD\", 0.42))")
        .await;
    gate.update_vm(
        &VmAttributes::new()
            .set("READY", "YES")
            .set("APP_LOAD", 0.42),
    )
    .await
    .during("publishing through OneGate")?;
    let seen: Vm = client
        .vm(id)
        .info()
        .await
        .during(format!("reading VM {id}"))?;
    n.show(&format!(
        "oned now shows USER_TEMPLATE READY={} APP_LOAD={} (one.vm.info)",
        seen.user_template.get_str("READY").unwrap_or("-"),
        seen.user_template.get_str("APP_LOAD").unwrap_or("-")
    ));
    match gate
        .update_vm(&VmAttributes::new().set("SCHED_REQUIREMENTS", "ID=0"))
        .await
    {
        Ok(()) => n.show("(the server accepted a restricted attribute)"),
        Err(e) => n.show(&format!(
            "a restricted attribute is refused: {}",
            Failure::new("updating SCHED_REQUIREMENTS", e).line()
        )),
    }
    Ok(())
}

async fn vcloud_tour(n: &Narrator) -> Result<VcloudSide, Failure> {
    n.section("vCloud");
    n.step("Starting the vCloud simulator (vCloud Air logins, vCD API, ANS, DR, metrics)")
        .await;
    let task = if n.fast() {
        Duration::from_millis(20)
    } else {
        Duration::from_millis(900)
    };
    let sim = VcloudSimulator::builder()
        .task_duration(task)
        .dr_replications(60)
        .extra_vms(40)
        .start()
        .await
        .map_err(|e| Failure::new("starting the vCloud simulator", Error::from(e)))?;
    n.show(&format!("base URL: {}", sim.base_url()));

    n.step("VcaOdSession::builder(user, password).base_url(..).build()?.login_iam()")
        .await;
    let od = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .build()
        .during("configuring the On-Demand session")?;
    od.login_iam()
        .await
        .during("logging in to vCloud Air On-Demand")?;
    let mut t = Table::new(["#", "INSTANCE", "PLAN", "REGION"]);
    for (i, inst) in od.instances().iter().enumerate() {
        t.row([
            i.to_string(),
            inst.id.clone(),
            inst.friendly_name.clone(),
            inst.short_region().to_owned(),
        ]);
    }
    n.show("od.instances():");
    n.show(&t.render());

    n.step("od.login_to_instance(<compute instance>) gives an OrgInfo; od.client(..) a VcdClient")
        .await;
    let org = od
        .login_to_instance(OD_COMPUTE_INSTANCE_ID)
        .await
        .during("logging in to the compute instance")?;
    n.show(&format!(
        "vcdurl {} org {} API {} (the token stays inside: {:?})",
        org.vcdurl(),
        org.org_uuid(),
        org.version(),
        org.token()
    ));
    let client = od
        .client(OD_COMPUTE_INSTANCE_ID)
        .during("building the vCD client")?;

    n.step("Query::new(QueryType::Vm).fields([\"name\", \"status\"]).page_size(25).pages(&client)")
        .await;
    let pages: Vec<_> = Query::new(QueryType::Vm)
        .fields(["name", "status"])
        .page_size(25)
        .pages(&client)
        .try_collect()
        .await
        .during("querying VMs")?;
    let mut total = 0;
    for (i, p) in pages.iter().enumerate() {
        total += p.records.len();
        n.show(&format!("page {}: {} records", i + 1, p.records.len()));
    }
    n.show(&format!(
        "{total} VMs in {} pages, every nextPage link followed",
        pages.len()
    ));
    let web = Query::new(QueryType::Vm)
        .fields(["name", "status"])
        .filter("name==web*")
        .execute(&client)
        .await
        .during("querying web VMs")?;
    n.show(&format!(
        "filter name==web* (case-insensitive on the server): {} VMs; find_by_name(\"web-01\") -> {} ids",
        web.len(),
        web.find_by_name("web-01").len()
    ));

    n.step(&format!(
        "AnsFirewall::new(\"{EDGE_ID}\", &org)?.fetch(), add_rule, save"
    ))
    .await;
    let mut fw = AnsFirewall::new(EDGE_ID, &org).during("configuring the firewall")?;
    fw.fetch().await.during("reading the firewall")?;
    let before = fw.len();
    fw.add_rule(
        NewFirewallRule::parse("demo-https", "external", "10.0.0.10")
            .during("building the rule")?
            .action(FirewallAction::Accept)
            .protocol(Protocol::Tcp)
            .dest_port(443),
    )
    .during("adding the rule")?;
    fw.save().await.during("saving the firewall")?;
    let mut fw = AnsFirewall::new(EDGE_ID, &org).during("configuring the firewall")?;
    fw.fetch().await.during("reading the firewall back")?;
    n.show(&format!(
        "{before} rules before, {} after saving and reading back:",
        fw.len()
    ));
    n.show(&firewall_table(fw.rules()));
    match NewFirewallRule::parse("typo", "external", "10.0.0.300") {
        Ok(_) => {}
        Err(e) => n.show(&format!("an invalid address never reaches the server: {e}")),
    }

    n.step("AnsNat: a DNAT rule for the web server").await;
    let mut nat = AnsNat::new(EDGE_ID, &org).during("configuring NAT")?;
    nat.fetch().await.during("reading NAT")?;
    nat.add_rule(
        NewNatRule::parse("dnat", "203.0.113.10", "10.0.0.10")
            .during("building the NAT rule")?
            .protocol(Protocol::Tcp)
            .original_port(443)
            .translated_port(443),
    )
    .during("adding the NAT rule")?;
    nat.save().await.during("saving NAT")?;
    n.show(&nat_table(nat.rules()));

    n.step("DisasterRecovery: test failover of every replication, 20 at a time")
        .await;
    let dr_org = od
        .login_to_instance(OD_DR_INSTANCE_ID)
        .await
        .during("logging in to the DR instance")?;
    let mut dr = DisasterRecovery::new(&dr_org)
        .during("configuring DR")?
        .concurrency(20)
        .poll_interval(Duration::from_millis(if n.fast() { 10 } else { 250 }));
    dr.fetch_replications()
        .await
        .during("listing replications")?;
    n.show(&format!(
        "{} replications (all pages); first: {}",
        dr.replications().len(),
        dr.replications()
            .first()
            .and_then(|r| r.name())
            .unwrap_or("-")
    ));
    let report = run_dr_action(&mut dr, "test-failover", Vec::new(), true).await?;
    n.show(&DrReportView::new(&report).text());
    let cleanup = run_dr_action(&mut dr, "test-cleanup", Vec::new(), false).await?;
    n.show(&DrReportView::new(&cleanup).text());

    n.step(
        "Metrics::for_vdc(&client).relative_interval(Unit::Hour, 1).set_metric_filters([cpu, mem]).collect()",
    )
    .await;
    let data = Metrics::for_vdc(&client)
        .relative_interval(Unit::Hour, 1)
        .set_metric_filters(["cpu.usage.average", "mem.usage.average"])
        .collect()
        .await
        .during("collecting metrics")?;
    let table = metrics_table(&data);
    let lines: Vec<&str> = table.lines().collect();
    for line in lines.iter().take(6) {
        n.show(line);
    }
    if lines.len() > 6 {
        n.show(&format!("... {} more VMs", lines.len() - 6));
    }
    n.show(&crate::commands::vcloud::metrics_footer(&data));

    Ok(VcloudSide { client, _sim: sim })
}

async fn compute_tour(
    n: &Narrator,
    one: Option<&OneSide>,
    vcloud: Option<&VcloudSide>,
) -> Result<(), Failure> {
    n.section("One trait for both clouds");
    n.step("Vec<Box<dyn nebulair_core::Compute>>: list_vms() on each")
        .await;
    let mut clouds: Vec<Box<dyn Compute>> = Vec::new();
    if let Some(o) = one {
        clouds.push(Box::new(o.client.clone()));
    }
    if let Some(v) = vcloud {
        clouds.push(Box::new(VcdCompute::new(v.client.clone())));
    }
    let mut t = Table::new([
        "PROVIDER",
        "ID",
        "NAME",
        "STATE",
        "PROVIDER STATE",
        "CPU",
        "MEMORY",
    ]);
    let mut count = 0;
    for c in &clouds {
        let vms = c
            .list_vms()
            .await
            .during(format!("listing {} VMs", c.provider()))?;
        for vm in vms.iter().take(6) {
            t.row([
                vm.provider.clone(),
                vm.id.clone(),
                vm.name.clone(),
                vm.state.to_string(),
                vm.provider_state.clone(),
                vm.cpu.map(|c| c.to_string()).unwrap_or_default(),
                vm.memory_mb.map(|m| format!("{m} MiB")).unwrap_or_default(),
            ]);
        }
        n.show(&format!("{}: {} VMs", c.provider(), vms.len()));
        count += vms.len();
    }
    n.show(&t.render());
    n.show(&format!(
        "{count} VMs across {} clouds (first 6 of each shown)",
        clouds.len()
    ));
    Ok(())
}

/// One line of the tour on stdout; a closed pipe (`| head`) ends the output quietly.
fn say(line: String) {
    let _ = crate::output::write_stdout(&format!("{line}\n"));
}
