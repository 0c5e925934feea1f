//! Backup jobs (`one.backupjob.*`, `one.backupjobpool.info`); their schedules are
//! scheduled actions ([`super::sched`]) that fire on the simulator's clock.

use super::objects::obj_write;
use super::prelude::*;

fn job_mut(s: &mut State, id: i32) -> R<&mut BackupJobData> {
    match &mut s.get_mut(Kind::BackupJob, id)?.extra {
        Extra::BackupJob(b) => Ok(b),
        _ => Err(no_exists("backup job", id)),
    }
}

/// Run backup job `id` now: every VM of BACKUP_VMS is backed up (or marked in ERROR_VMS).
pub(crate) fn run(s: &mut State, ctx: &Ctx, c: &Caller, id: i32) -> R<()> {
    let o = s.get(Kind::BackupJob, id)?;
    let vms: Vec<i32> = o
        .template
        .get("BACKUP_VMS")
        .unwrap_or("")
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    let ds: i32 = o
        .template
        .get("DATASTORE_ID")
        .and_then(|x| x.trim().parse().ok())
        .unwrap_or(-1);
    let mut ok = BTreeSet::new();
    let mut bad = BTreeSet::new();
    for vm in vms {
        match super::vm_ops::backup_now(s, ctx, c, vm, ds, false) {
            Ok(()) => ok.insert(vm),
            Err(_) => bad.insert(vm),
        };
    }
    let b = job_mut(s, id)?;
    b.last_backup_time = now();
    b.last_backup_duration = 0;
    b.updated = ok;
    b.error = bad;
    b.outdated.clear();
    Ok(())
}

/// The `one.backupjob.*` calls that change state.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let id = a.int(0);
    let manage = |s: &State| -> R<()> {
        let o = s.get(Kind::BackupJob, id)?;
        s.authorize(c, Op::Manage, Kind::BackupJob, &o.meta, true)
    };
    match k.op {
        "allocate" => {
            s.authorize_create(c, acl::BACKUPJOB, "BACKUPJOB")?;
            let mut t = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
            let name = t
                .get("NAME")
                .map(str::to_owned)
                .ok_or_else(|| RpcError::internal("No NAME in template."))?;
            check_name(&name)?;
            if let Some(other) = s.name_taken(Kind::BackupJob, c.uid, &name, -1) {
                return Err(RpcError::internal(format!(
                    "NAME is already taken by BACKUPJOB {other}."
                )));
            }
            t.remove("NAME");
            let priority: i32 = t
                .get("PRIORITY")
                .and_then(|x| x.trim().parse().ok())
                .unwrap_or(50);
            t.remove("PRIORITY");
            for (key, d) in [
                ("BACKUP_VMS", ""),
                ("BACKUP_VOLATILE", "NO"),
                ("EXECUTION", "SEQUENTIAL"),
                ("FS_FREEZE", "NONE"),
                ("KEEP_LAST", "0"),
                ("MODE", "FULL"),
            ] {
                if t.get(key).is_none() {
                    t.set(key, d);
                }
            }
            let mut sched = Vec::new();
            for v in t.vectors("SCHED_ACTION") {
                let mut sa = super::sched::fresh(s.next_sched + sched.len() as i32);
                super::sched::parse_into(&mut sa, v, super::sched::Owner::BackupJob)
                    .map_err(RpcError::internal)?;
                sched.push(sa);
            }
            s.next_sched += sched.len() as i32;
            t.remove("SCHED_ACTION");
            let meta = s.new_meta(Kind::BackupJob, c, name);
            let new_id = meta.id;
            s.pool_mut(Kind::BackupJob).objs.insert(
                new_id,
                Obj {
                    meta,
                    template: t,
                    extra: Extra::BackupJob(BackupJobData {
                        priority: priority.clamp(0, 99),
                        last_backup_time: 0,
                        last_backup_duration: 0,
                        sched,
                        next_sched: 0,
                        outdated: BTreeSet::new(),
                        updated: BTreeSet::new(),
                        error: BTreeSet::new(),
                    }),
                },
            );
            Ok(Ret::Int(new_id))
        }
        "backup" => {
            manage(s)?;
            run(s, k.ctx, c, id)?;
            Ok(Ret::Int(id))
        }
        "cancel" | "retry" => {
            manage(s)?;
            if k.op == "retry" {
                let errs: Vec<i32> = job_mut(s, id)?.error.iter().copied().collect();
                let ds: i32 = s
                    .get(Kind::BackupJob, id)?
                    .template
                    .get("DATASTORE_ID")
                    .and_then(|x| x.trim().parse().ok())
                    .unwrap_or(-1);
                for vm in errs {
                    if super::vm_ops::backup_now(s, k.ctx, c, vm, ds, false).is_ok() {
                        let b = job_mut(s, id)?;
                        b.error.remove(&vm);
                        b.updated.insert(vm);
                    }
                }
            } else {
                job_mut(s, id)?.outdated.clear();
            }
            Ok(Ret::Int(id))
        }
        "priority" => {
            manage(s)?;
            let p = a.int(1);
            if !(0..=99).contains(&p) {
                return Err(RpcError::internal("Priority should be between 0 and 99"));
            }
            if p > 50 && !c.admin {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    "Only oneadmin can set priority > 50",
                ));
            }
            job_mut(s, id)?.priority = p;
            Ok(Ret::Int(id))
        }
        "schedadd" => {
            manage(s)?;
            let sa =
                super::sched::parse_new(a.str(1), s.next_sched, super::sched::Owner::BackupJob)?;
            s.next_sched += 1;
            let sid = sa.id;
            job_mut(s, id)?.sched.push(sa);
            Ok(Ret::Int(sid))
        }
        "schedupdate" => {
            manage(s)?;
            let sid = a.int(1);
            let va = super::sched::vector(a.str(2), code::INTERNAL)?;
            let b = job_mut(s, id)?;
            let sa = b.sched.iter_mut().find(|x| x.id == sid).ok_or_else(|| {
                RpcError::internal(format!("SCHED_ACTION with id = {sid} doesn't exist"))
            })?;
            super::sched::parse_into(sa, &va, super::sched::Owner::BackupJob)
                .map_err(RpcError::internal)?;
            Ok(Ret::Int(sid))
        }
        "scheddelete" => {
            manage(s)?;
            let sid = a.int(1);
            let b = job_mut(s, id)?;
            let before = b.sched.len();
            b.sched.retain(|x| x.id != sid);
            if b.sched.len() == before {
                return Err(no_exists("scheduled action", sid));
            }
            Ok(Ret::Int(sid))
        }
        op => obj_write(s, k.ctx, c, Kind::BackupJob, op, a, k.method),
    }
}
