//! `OneClient` against the simulator for the method families the simulator gained with
//! every oned method: hooks, marketplaces and apps, backup jobs, VM scheduled actions,
//! guest command execution, backups, accounting and showback, network reservations,
//! VM-group roles, group VLAN rules, zones/raft and the SQL calls. Each test checks the
//! state re-read afterwards.

use std::time::Duration;

use nebulair_opennebula::api::{LockLevel, UpdateType, VmAction};
use nebulair_opennebula::ids::{
    DatastoreId, GroupId, HookId, ImageId, MarketId, VmGroupId, VmId, VnetId,
};
use nebulair_opennebula::pool::{PoolFilter, Who};
use nebulair_opennebula::{Credentials, ErrorKind, OneClient, OneErrorCode, Template};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

async fn start() -> (OneSimHandle, OneClient) {
    start_monitoring_every(Duration::from_millis(20)).await
}

/// A simulator whose monitoring samples (which also finish guest commands) come every
/// `every`.
async fn start_monitoring_every(every: Duration) -> (OneSimHandle, OneClient) {
    let sim = OneSimulator::builder()
        .monitor_interval(every)
        .start()
        .await
        .expect("simulator");
    let client = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("client");
    (sim, client)
}

fn tpl(text: &str) -> Template {
    Template::parse(text).expect("template")
}

async fn running_vm(sim: &OneSimHandle, c: &OneClient) -> VmId {
    let id = c
        .vms()
        .allocate(&tpl("NAME = \"t\"\nCPU = \"1\"\nMEMORY = \"128\"\nCPU_COST = \"2\"\nMEMORY_COST = \"1\"\nDISK = [ SIZE = \"1024\", TYPE = \"fs\" ]"))
        .await
        .expect("allocate");
    // up to 20 s: the phases run on a loaded machine too
    for _ in 0..4000 {
        sim.run_scheduler();
        let vm = c.vm(id).info().await.expect("info");
        if vm.lcm_state.map(|l| l == 3).unwrap_or(false) {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("VM {id:?} never ran");
}

#[tokio::test]
async fn hooks_fire_and_log() {
    let (sim, c) = start().await;
    let hook = c
        .hooks()
        .allocate(&tpl(
            "NAME = \"on-rename\"\nTYPE = \"api\"\nCALL = \"one.vdc.rename\"\nCOMMAND = \"/bin/true\"",
        ))
        .await
        .expect("hook");
    let failing = c
        .hooks()
        .allocate(&tpl(
            "NAME = \"on-run\"\nTYPE = \"state\"\nRESOURCE = \"VM\"\nSTATE = \"ACTIVE\"\nLCM_STATE = \"RUNNING\"\nCOMMAND = \"notify\"\nSIM_EXIT_CODE = \"3\"",
        ))
        .await
        .expect("state hook");
    let h = c.hook(hook).info().await.expect("info");
    assert_eq!(h.r#type.as_deref(), Some("api"));
    assert_eq!(
        h.template.get("REMOTE").and_then(|v| v.as_str()),
        Some("NO")
    );
    assert!(
        h.hooklog
            .map(|l| l.hook_execution_record.is_empty())
            .unwrap_or(true)
    );

    c.vdc(nebulair_opennebula::ids::VdcId::new(0))
        .rename("renamed")
        .await
        .expect("rename");
    let log = c.hooks().log_info(0, 0, hook, 0).await.expect("log");
    assert_eq!(log.hook_execution_record.len(), 1);
    let rec = &log.hook_execution_record[0];
    assert_eq!(rec.execution_id, Some(0));
    let res = rec.execution_result.as_ref().expect("result");
    assert_eq!(res.command.as_deref(), Some("/bin/true"));
    assert_eq!(res.code.as_deref(), Some("0"));

    c.hook(hook).retry(0).await.expect("retry");
    let h = c.hook(hook).info().await.expect("info");
    let recs = h.hooklog.expect("log").hook_execution_record;
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].retry.as_deref(), Some("yes"));

    running_vm(&sim, &c).await;
    let log = c
        .hooks()
        .log_info(0, 0, failing, -1)
        .await
        .expect("failures");
    assert_eq!(log.hook_execution_record.len(), 1);
    assert_eq!(
        log.hook_execution_record[0]
            .execution_result
            .as_ref()
            .and_then(|r| r.code.as_deref()),
        Some("3")
    );
    assert!(
        c.hooks()
            .log_info(0, 0, failing, 1)
            .await
            .expect("successes")
            .hook_execution_record
            .is_empty()
    );

    c.hook(hook).rename("renamed-hook").await.expect("rename");
    c.hook(hook)
        .update(&tpl("COMMAND = \"/bin/false\""), UpdateType::Merge)
        .await
        .expect("update");
    c.hook(hook).lock(LockLevel::Use).await.expect("lock");
    assert!(c.hook(hook).info().await.expect("info").lock.is_some());
    c.hook(hook).unlock().await.expect("unlock");
    let pool = c.hooks().info().await.expect("pool");
    assert_eq!(pool.hook.len(), 2);
    assert!(
        pool.hook.iter().all(|h| h.hooklog.is_none()),
        "pools carry no HOOKLOG"
    );
    c.hook(hook).delete().await.expect("delete");
    let err = c.hook(hook).info().await.expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let _: HookId = failing;
    sim.shutdown().await;
}

#[tokio::test]
async fn markets_and_apps_without_network() {
    let (sim, c) = start().await;
    let pool = c.markets().info().await.expect("markets");
    let names: Vec<_> = pool
        .marketplace
        .iter()
        .map(|m| m.name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Linux Containers", "OpenNebula Public"]);
    let err = c
        .market_apps()
        .allocate(
            &tpl("NAME = \"x\"\nORIGIN_ID = \"0\"\nTYPE = \"IMAGE\""),
            MarketId::new(0),
        )
        .await
        .expect_err("public market is read-only");
    assert!(
        err.to_string().contains("Create disabled for market"),
        "{err}"
    );

    let m = c
        .markets()
        .allocate(&tpl("NAME = \"local\"\nMARKET_MAD = \"http\"\nBASE_URL = \"http://127.0.0.1:1/\"\nPUBLIC_DIR = \"/var/tmp/m\""))
        .await
        .expect("market");
    assert_eq!(m, MarketId::new(100));
    let img = c
        .images()
        .allocate(
            &tpl("NAME = \"img\"\nPATH = \"/tmp/x.qcow2\"\nSIZE = \"256\""),
            DatastoreId::new(1),
        )
        .await
        .expect("image");
    let app = c
        .market_apps()
        .allocate(
            &tpl(&format!(
                "NAME = \"app\"\nORIGIN_ID = \"{}\"\nTYPE = \"IMAGE\"",
                img.get()
            )),
            m,
        )
        .await
        .expect("app");
    let a = c.market_app(app).info().await.expect("app info");
    assert_eq!(a.marketplace_id, Some(100));
    assert_eq!(a.marketplace.as_deref(), Some("local"));
    assert_eq!(a.state, Some(1), "READY once exported");
    assert_eq!(a.size, Some(256));
    assert_eq!(a.r#type, Some(1));
    let market = c.market(m).info().await.expect("market info");
    assert_eq!(market.marketplaceapps, vec![app]);

    c.market_app(app).enable(false).await.expect("disable");
    assert_eq!(c.market_app(app).info().await.expect("info").state, Some(4));
    c.market_app(app).enable(true).await.expect("enable");
    c.market(m).enable(false).await.expect("disable market");
    assert_eq!(c.market(m).info().await.expect("info").state, Some(1));
    c.market_app(app)
        .lock(LockLevel::Manage)
        .await
        .expect("lock");
    assert!(c.market_app(app).delete().await.is_err(), "locked");
    c.market_app(app).unlock().await.expect("unlock");
    assert!(c.market(m).delete().await.is_err(), "market with apps");
    c.market_app(app).delete().await.expect("delete app");
    c.market(m).delete().await.expect("delete market");
    assert_eq!(
        c.markets().info().await.expect("markets").marketplace.len(),
        2
    );
    let _: ImageId = img;
    sim.shutdown().await;
}

#[tokio::test]
async fn backup_jobs_and_vm_backups() {
    let (sim, c) = start().await;
    let vm = running_vm(&sim, &c).await;
    let err = c.vm(vm).backup().await.expect_err("no backup datastore");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::NoExists));
    let ds = c
        .datastores()
        .allocate(
            &tpl("NAME = \"backups\"\nTYPE = \"BACKUP_DS\"\nDS_MAD = \"dummy\"\nTM_MAD = \"-\""),
            nebulair_opennebula::ids::ClusterId::new(-1),
        )
        .await
        .expect("backup ds");
    c.vm(vm).backup().await.expect("backup");
    let doc = c.vm(vm).info_raw().await.expect("vm");
    assert!(
        doc.as_str().contains("<BACKUP_IDS><ID>"),
        "{}",
        doc.as_str()
    );
    let err = c.vm(vm).backupcancel().await.expect_err("nothing running");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Internal));

    let job = c
        .backup_jobs()
        .allocate(&tpl(&format!(
            "NAME = \"nightly\"\nBACKUP_VMS = \"{}\"\nDATASTORE_ID = \"{}\"",
            vm.get(),
            ds.get()
        )))
        .await
        .expect("job");
    let j = c.backup_job(job).info().await.expect("job info");
    assert_eq!(j.priority, Some(50));
    assert_eq!(
        j.template.get("MODE").and_then(|v| v.as_str()),
        Some("FULL")
    );
    c.backup_job(job).priority(20).await.expect("priority");
    c.backup_job(job).backup().await.expect("run");
    let j = c.backup_job(job).info().await.expect("job info");
    assert_eq!(j.priority, Some(20));
    assert!(j.last_backup_time.unwrap_or(0) > 0);
    assert_eq!(j.updated_vms, vec![vm]);
    let sa = c
        .backup_job(job)
        .schedadd(&tpl("SCHED_ACTION = [ REPEAT = \"0\", DAYS = \"1\", END_TYPE = \"0\", TIME = \"4102444800\" ]"))
        .await
        .expect("schedadd");
    c.backup_job(job)
        .schedupdate(sa, &tpl("SCHED_ACTION = [ TIME = \"4102444801\" ]"))
        .await
        .expect("schedupdate");
    let raw = c.backup_job(job).info_raw().await.expect("raw");
    assert!(
        raw.as_str().contains("<TIME><![CDATA[4102444801]]></TIME>"),
        "{}",
        raw.as_str()
    );
    c.backup_job(job)
        .scheddelete(sa)
        .await
        .expect("scheddelete");
    assert!(
        !c.backup_job(job)
            .info_raw()
            .await
            .expect("raw")
            .as_str()
            .contains("<SCHED_ACTION>")
    );
    let pool = c
        .backup_jobs()
        .info(&PoolFilter::default())
        .await
        .expect("pool");
    assert_eq!(pool.backupjob.len(), 1);
    c.backup_job(job).delete().await.expect("delete");
    sim.shutdown().await;
}

#[tokio::test]
async fn scheduled_actions_exec_and_vm_extras() {
    // no monitoring sample during the test: an exec stays RUNNING until cancelled
    let (sim, c) = start_monitoring_every(Duration::from_secs(3600)).await;
    let vm = running_vm(&sim, &c).await;
    // due now: fired by the scheduler as the VM's owner
    let sa = c
        .vm(vm)
        .schedadd(&tpl(
            "SCHED_ACTION = [ ACTION = \"poweroff\", TIME = \"1\" ]",
        ))
        .await
        .expect("schedadd");
    let later = c
        .vm(vm)
        .schedadd(&tpl(
            "SCHED_ACTION = [ ACTION = \"resume\", TIME = \"4102444800\" ]",
        ))
        .await
        .expect("later");
    assert_eq!(later, sa + 1);
    let mut off = false;
    // up to 20 s: the phases run on a loaded machine too
    for _ in 0..4000 {
        sim.run_scheduler();
        if c.vm(vm).info().await.expect("info").state == Some(8) {
            off = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(off, "the scheduled poweroff fired");
    let raw = c.vm(vm).info_raw().await.expect("raw").into_string();
    // the fired action is DONE, the later one still pending (-1)
    let fired = raw
        .split("<SCHED_ACTION>")
        .find(|x| x.contains("<ACTION><![CDATA[poweroff]]></ACTION>"))
        .expect("poweroff action in TEMPLATE");
    assert!(!fired.contains("<DONE><![CDATA[-1]]></DONE>"), "{raw}");
    assert!(
        raw.contains(&format!(
            "<SCHED_ACTIONS><ID>{sa}</ID><ID>{later}</ID></SCHED_ACTIONS>"
        )),
        "{raw}"
    );
    let vmx = c.vm(vm).info().await.expect("typed");
    assert_eq!(vmx.sched_actions.len(), 2);
    c.vm(vm).scheddelete(later).await.expect("scheddelete");

    // PCI devices need POWEROFF, and a free matching device on the host (the dummy
    // host's NVIDIA 10de:0863:0302)
    c.vm(vm)
        .attachpci(&tpl("PCI = [ VENDOR = \"10de\", CLASS = \"0302\" ]"))
        .await
        .expect("attachpci");
    assert!(
        c.vm(vm)
            .info_raw()
            .await
            .expect("raw")
            .as_str()
            .contains("<PCI_ID><![CDATA[0]]></PCI_ID>")
    );
    c.vm(vm).detachpci(0).await.expect("detachpci");

    c.vm(vm).action(VmAction::Resume).await.expect("resume");
    // up to 20 s: the phases run on a loaded machine too
    for _ in 0..4000 {
        sim.run_scheduler();
        if c.vm(vm).info().await.expect("info").lcm_state == Some(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    c.vm(vm).exec("echo hi", "").await.expect("exec");
    let err = c.vm(vm).retryexec().await.expect_err("still running");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Action));
    c.vm(vm).cancelexec().await.expect("cancel");
    let raw = c.vm(vm).info_raw().await.expect("raw").into_string();
    assert!(
        raw.contains("<STATUS><![CDATA[CANCELLED]]></STATUS>"),
        "{raw}"
    );

    let sg = c
        .secgroups()
        .allocate(&tpl("NAME = \"web\"\nRULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\", RANGE = \"80\" ]"))
        .await
        .expect("sg");
    let nic_vm = c
        .template(nebulair_opennebula::ids::TemplateId::new(0))
        .instantiate("n", false, &Template::new(), false)
        .await
        .expect("instantiate");
    // up to 20 s: the phases run on a loaded machine too
    for _ in 0..4000 {
        sim.run_scheduler();
        if c.vm(nic_vm).info().await.expect("info").lcm_state == Some(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    c.vm(nic_vm).attachsg(0, sg).await.expect("attachsg");
    let vmx = c.vm(nic_vm).info().await.expect("info");
    let nic = vmx.template.vectors("NIC").next().expect("nic").clone();
    assert_eq!(
        nic.get("SECURITY_GROUPS"),
        Some(format!("0,{}", sg.get()).as_str())
    );
    c.vm(nic_vm).detachsg(0, sg).await.expect("detachsg");
    c.vm(nic_vm)
        .updatenic(
            0,
            &tpl("NIC = [ INBOUND_AVG_BW = \"100\" ]"),
            UpdateType::Merge,
        )
        .await
        .expect("updatenic");
    let vmx = c.vm(nic_vm).info().await.expect("info");
    let nic = vmx.template.vectors("NIC").next().expect("nic").clone();
    assert_eq!(nic.get("INBOUND_AVG_BW"), Some("100"));
    assert_eq!(nic.get("SECURITY_GROUPS"), Some("0"));
    let img = c
        .vm(nic_vm)
        .disksaveas(0, "saved", "", -1)
        .await
        .expect("disksaveas");
    assert_eq!(
        c.image(img).info().await.expect("image").name.as_deref(),
        Some("saved")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn showback_accounting_reservations_roles_and_federation() {
    let (sim, c) = start().await;
    let vm = running_vm(&sim, &c).await;
    let acct = c
        .vms()
        .accounting(Who::All, -1, -1)
        .await
        .expect("accounting");
    assert!(!acct.history.is_empty());
    let now_year = 1970
        + (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            / 31_556_952) as i32;
    assert_eq!(
        c.vms()
            .calculateshowback(1, now_year - 1, 12, now_year + 1)
            .await
            .expect("calculate"),
        " "
    );
    let sb = c
        .vms()
        .showback(Who::All, 1, now_year - 1, 12, now_year + 1)
        .await
        .expect("showback");
    let rec = sb
        .showback
        .iter()
        .find(|r| r.vmid == Some(i64::from(vm.get())))
        .expect("record");
    assert!(rec.hours.is_some() && rec.total_cost.is_some());

    let resv = c
        .vnet(VnetId::new(0))
        .reserve(&tpl("NAME = \"mine\"\nSIZE = \"2\""))
        .await
        .expect("reserve");
    let r = c.vnet(resv).info().await.expect("reservation");
    // oned shows the parent as the VNET's own PARENT_NETWORK_ID (recorded-sweep 137)
    assert_eq!(r.parent_network_id.as_deref(), Some("0"));
    assert!(r.template.get("PARENT_NETWORK_ID").is_none());
    c.vnet(resv)
        .update_ar(&tpl("AR = [ AR_ID = \"0\", SIZE = \"1\" ]"))
        .await
        .expect("update_ar");
    let err = c.vnet(resv).recover(2).await.expect_err("READY network");
    assert!(err.to_string().contains("wrong state READY"), "{err}");
    c.vnet(resv).free_ar(0).await.expect("free_ar");

    let vmg = c
        .vm_groups()
        .allocate(&tpl(
            "NAME = \"g\"\nROLE = [ NAME = \"web\" ]\nROLE = [ NAME = \"db\" ]",
        ))
        .await
        .expect("vmg");
    c.vm_group(vmg)
        .roleadd(&tpl("ROLE = [ NAME = \"cache\" ]"))
        .await
        .expect("roleadd");
    c.vm_group(vmg)
        .roleupdate(2, &tpl("ROLE = [ NAME = \"cache\", POLICY = \"AFFINED\" ]"))
        .await
        .expect("roleupdate");
    c.vm_group(vmg).roledelete(1).await.expect("roledelete");
    let g = c.vm_group(vmg).info_raw().await.expect("raw").into_string();
    assert!(g.contains("<ROLE><ID><![CDATA[2]]></ID><NAME><![CDATA[cache]]></NAME><POLICY><![CDATA[AFFINED]]></POLICY></ROLE>"), "{g}");
    assert!(
        !g.contains("<TEMPLATE><ROLE>"),
        "roles only under ROLES: {g}"
    );
    let _: VmGroupId = vmg;

    let grp = c.groups().allocate("vlans").await.expect("group");
    c.group(grp)
        .vlan(&tpl("RULE = [ ID = \"100-110\", SCOPE = \"CVLAN\" ]"))
        .await
        .expect("vlan");
    let raw = c.group(grp).info_raw().await.expect("raw").into_string();
    assert!(raw.contains("<VLAN_RULES><ID><![CDATA[100]]></ID><RULE><ID><![CDATA[100-110]]></ID><SCOPE><![CDATA[CVLAN]]></SCOPE><VNTEMPLATE><![CDATA[-1]]></VNTEMPLATE></RULE></VLAN_RULES>"), "{raw}");
    let _: GroupId = grp;

    let raft = c.zones().raftstatus().await.expect("raft");
    assert_eq!((raft.server_id, raft.state), (Some(-1), Some(0)));
    let err = c
        .zones()
        .allocate(&tpl("NAME = \"z2\"\nENDPOINT = \"http://x:2633/RPC2\""))
        .await
        .expect_err("solo");
    assert!(err.to_string().contains("federation master"), "{err}");
    assert_eq!(
        c.system()
            .sql("UPDATE pool_control SET last_oid = last_oid", false)
            .await
            .expect("sql"),
        0
    );
    let q = c
        .system()
        .sqlquery("SELECT tablename, last_oid FROM pool_control")
        .await
        .expect("query");
    assert!(
        q.as_str().contains(
            "<tablename><![CDATA[user_pool]]></tablename><last_oid><![CDATA[1]]></last_oid>"
        ),
        "{}",
        q.as_str()
    );
    c.cluster(nebulair_opennebula::ids::ClusterId::new(0))
        .optimize()
        .await
        .expect("optimize");
    let err = c
        .cluster(nebulair_opennebula::ids::ClusterId::new(0))
        .planexecute()
        .await
        .expect_err("no DRS");
    assert!(err.to_string().contains("Plan is not ready"), "{err}");
    sim.shutdown().await;
}
