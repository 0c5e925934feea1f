//! Scheduled actions that repeat, and backup job schedules, on the simulator's clock
//! (`OneSimHandle::advance_clock`), read back with `OneClient`: a relative TIME is stored
//! from the VM's start, an HOURLY action with END_TYPE TIMES fires, moves its TIME on and
//! counts END_VALUE down until it ends; a failing action stays due with oned's
//! `<ctime> : <error>` MESSAGE; oned's parse errors; a backup job's schedule backs its VMs
//! up when it comes.

use std::time::Duration;

use nebulair_opennebula::api::VmAction;
use nebulair_opennebula::ids::{ClusterId, VmId};
use nebulair_opennebula::template::Vector;
use nebulair_opennebula::{Credentials, OneClient, OneErrorCode, Template};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

async fn start() -> (OneSimHandle, OneClient) {
    let sim = OneSimulator::builder().start().await.expect("simulator");
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
        .allocate(&tpl("NAME = \"t\"\nCPU = \"1\"\nMEMORY = \"64\""))
        .await
        .expect("allocate");
    wait(sim, c, id, 3, 3).await;
    id
}

async fn wait(sim: &OneSimHandle, c: &OneClient, id: VmId, state: i64, lcm: i64) {
    for _ in 0..4000 {
        sim.run_scheduler();
        let vm = c.vm(id).info().await.expect("info");
        if vm.state == Some(state) && vm.lcm_state == Some(lcm) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("VM {id:?} never reached {state}/{lcm}");
}

async fn sched(c: &OneClient, vm: VmId, id: i32) -> Vector {
    let v = c.vm(vm).info().await.expect("info");
    v.template
        .vectors("SCHED_ACTION")
        .find(|s| s.get("ID") == Some(id.to_string().as_str()))
        .cloned()
        .expect("scheduled action")
}

fn num(v: &Vector, k: &str) -> i64 {
    v.get(k).and_then(|x| x.parse().ok()).expect(k)
}

#[tokio::test]
async fn repeating_actions_fire_on_the_clock() {
    let (sim, c) = start().await;
    let vm = running_vm(&sim, &c).await;
    let stime = c.vm(vm).info().await.expect("info").stime.expect("stime");
    // every hour, twice more after the first run
    let sa = c
        .vm(vm)
        .schedadd(&tpl(
            "SCHED_ACTION = [ ACTION = \"reboot\", TIME = \"+30\", REPEAT = \"3\", DAYS = \"1\", END_TYPE = \"1\", END_VALUE = \"2\" ]",
        ))
        .await
        .expect("schedadd");
    let s0 = sched(&c, vm, sa).await;
    assert_eq!(num(&s0, "TIME"), stime + 30, "stored from the VM's start");
    assert_eq!(num(&s0, "DONE"), -1);
    sim.run_scheduler();
    assert_eq!(num(&sched(&c, vm, sa).await, "DONE"), -1, "not due yet");

    sim.advance_clock(Duration::from_secs(31));
    let s1 = sched(&c, vm, sa).await;
    assert!(num(&s1, "DONE") > 0, "{s1:?}");
    assert_eq!(num(&s1, "END_VALUE"), 1);
    let t1 = num(&s1, "TIME");
    assert_eq!(t1, stime + 30 + 3600, "an hour on");
    assert_eq!(s1.get("MESSAGE"), Some(""));
    wait(&sim, &c, vm, 3, 3).await;

    sim.advance_clock(Duration::from_secs(3600));
    let s2 = sched(&c, vm, sa).await;
    assert_eq!(num(&s2, "END_VALUE"), 0);
    assert_eq!(num(&s2, "TIME"), t1 + 3600);
    let done2 = num(&s2, "DONE");
    wait(&sim, &c, vm, 3, 3).await;

    // no repetition left: it does not fire again
    sim.advance_clock(Duration::from_secs(2 * 3600));
    let s3 = sched(&c, vm, sa).await;
    assert_eq!(num(&s3, "DONE"), done2);
    assert_eq!(num(&s3, "TIME"), t1 + 3600);

    // a failing action stays due and says why, as oned's scheduler logs it
    let bad = c
        .vm(vm)
        .schedadd(&tpl("SCHED_ACTION = [ ACTION = \"resume\", TIME = \"1\" ]"))
        .await
        .expect("schedadd");
    sim.run_scheduler();
    let b = sched(&c, vm, bad).await;
    assert_eq!(num(&b, "DONE"), -1);
    let msg = b.get("MESSAGE").unwrap_or("");
    assert!(
        msg.ends_with(
            " : Error performing action \"resume\": This action is not available for state RUNNING"
        ),
        "{msg}"
    );
    // ctime's form: "Wed Dec  2 13:45:13 2026 : ..."
    assert_eq!(msg.split(" : ").next().map(str::len), Some(24), "{msg}");

    // snapshot actions take their ARGS, as oned's vm_action_call
    let snap = c
        .vm(vm)
        .schedadd(&tpl(
            "SCHED_ACTION = [ ACTION = \"snapshot-create\", ARGS = \"nightly\", TIME = \"1\" ]",
        ))
        .await
        .expect("schedadd");
    let bad_args = c
        .vm(vm)
        .schedadd(&tpl(
            "SCHED_ACTION = [ ACTION = \"disk-snapshot-create\", ARGS = \"x\", TIME = \"1\" ]",
        ))
        .await
        .expect("schedadd");
    sim.run_scheduler();
    assert!(num(&sched(&c, vm, snap).await, "DONE") > 0);
    let v = c.vm(vm).info().await.expect("vm");
    assert!(
        v.template
            .vectors("SNAPSHOT")
            .any(|x| x.get("NAME") == Some("nightly")),
        "{:?}",
        v.template
    );
    let m = sched(&c, vm, bad_args).await;
    assert!(
        m.get("MESSAGE").unwrap_or("").ends_with(
            " : Missing or malformed ARGS for: disk-snapshot-create. Format: disk-id, snapshot-name"
        ),
        "{m:?}"
    );
    wait(&sim, &c, vm, 3, 3).await;

    // oned's parse errors and codes
    for (text, want) in [
        (
            "SCHED_ACTION = [ ACTION = \"fly\", TIME = \"1\" ]",
            "fly is not supported.",
        ),
        (
            "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", REPEAT = \"0\", DAYS = \"9\" ]",
            "Days in a week have to be in [0,6] range",
        ),
        (
            "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"soon\" ]",
            "Unable to parse the time value or value is empty: soon",
        ),
    ] {
        let err = c.vm(vm).schedadd(&tpl(text)).await.expect_err(text);
        assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Action), "{err}");
        assert!(err.message().ends_with(want), "{err}");
    }
    let err = c.vm(vm).scheddelete(9999).await.expect_err("missing");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::NoExists));
    assert!(
        err.message()
            .ends_with("Error getting scheduled action [9999]."),
        "{err}"
    );
    let err = c
        .vm(vm)
        .schedupdate(9999, &tpl("SCHED_ACTION = [ TIME = \"5\" ]"))
        .await
        .expect_err("missing");
    assert!(
        err.message()
            .ends_with("SCHED_ACTION with id = 9999 doesn't exist"),
        "{err}"
    );
    c.vm(vm)
        .action(VmAction::TerminateHard)
        .await
        .expect("terminate");
    sim.shutdown().await;
}

#[tokio::test]
async fn backup_job_schedules_fire_on_the_clock() {
    let (sim, c) = start().await;
    let vm = running_vm(&sim, &c).await;
    let ds = c
        .datastores()
        .allocate(
            &tpl("NAME = \"backups\"\nTYPE = \"BACKUP_DS\"\nDS_MAD = \"dummy\"\nTM_MAD = \"-\""),
            ClusterId::new(-1),
        )
        .await
        .expect("backup ds");
    let job = c
        .backup_jobs()
        .allocate(&tpl(&format!(
            "NAME = \"nightly\"\nBACKUP_VMS = \"{}\"\nDATASTORE_ID = \"{}\"",
            vm.get(),
            ds.get()
        )))
        .await
        .expect("job");
    // a relative TIME is refused for backup jobs, as oned's parse_time
    let err = c
        .backup_job(job)
        .schedadd(&tpl("SCHED_ACTION = [ TIME = \"+60\" ]"))
        .await
        .expect_err("relative");
    assert!(
        err.message()
            .ends_with("Unable to parse the time value or value is empty: +60"),
        "{err}"
    );
    let in_a_minute = c.vm(vm).info().await.expect("vm").stime.expect("stime") + 60;
    let sa = c
        .backup_job(job)
        .schedadd(&tpl(&format!(
            "SCHED_ACTION = [ TIME = \"{in_a_minute}\", REPEAT = \"3\", DAYS = \"24\", END_TYPE = \"0\" ]"
        )))
        .await
        .expect("schedadd");
    sim.run_scheduler();
    let j = c.backup_job(job).info().await.expect("job");
    assert_eq!(j.last_backup_time, Some(0), "not yet");
    sim.advance_clock(Duration::from_secs(120));
    let j = c.backup_job(job).info().await.expect("job");
    assert!(j.last_backup_time.unwrap_or(0) > 0, "{j:?}");
    assert_eq!(j.updated_vms, vec![vm]);
    let raw = c.backup_job(job).info_raw().await.expect("raw");
    let next = in_a_minute + 24 * 3600;
    assert!(
        raw.as_str()
            .contains(&format!("<TIME><![CDATA[{next}]]></TIME>")),
        "daily: {}",
        raw.as_str()
    );
    let doc = c.vm(vm).info_raw().await.expect("vm");
    assert!(
        doc.as_str().contains("<BACKUP_IDS><ID>"),
        "{}",
        doc.as_str()
    );
    let _ = sa;
    sim.shutdown().await;
}

#[tokio::test]
async fn sched_actions_in_the_vm_template() {
    let (sim, c) = start().await;
    let vm = c
        .vms()
        .allocate_with(
            &tpl("NAME = \"s\"\nCPU = \"1\"\nMEMORY = \"64\"\nSCHED_ACTION = [ ACTION = \"release\", TIME = \"+3600\" ]\nSCHED_ACTION = [ ACTION = \"terminate\", TIME = \"+7200\" ]"),
            true,
        )
        .await
        .expect("allocate");
    let v = c.vm(vm).info().await.expect("vm");
    let stime = v.stime.expect("stime");
    assert_eq!(v.sched_actions.len(), 2);
    let times: Vec<i64> = v
        .template
        .vectors("SCHED_ACTION")
        .map(|s| num(s, "TIME"))
        .collect();
    assert_eq!(times, [stime + 3600, stime + 7200]);
    assert!(v.user_template.get("SCHED_ACTION").is_none());
    // an hour later the release fires, as oneadmin
    sim.advance_clock(Duration::from_secs(3601));
    wait(&sim, &c, vm, 3, 3).await;
    // a bad one refuses the VM, as oned rolls it back
    let err = c
        .vms()
        .allocate(&tpl(
            "NAME = \"s2\"\nCPU = \"1\"\nMEMORY = \"64\"\nSCHED_ACTION = [ ACTION = \"fly\", TIME = \"1\" ]",
        ))
        .await
        .expect_err("bad action");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Internal));
    assert!(err.message().ends_with("fly is not supported."), "{err}");
    sim.shutdown().await;
}
