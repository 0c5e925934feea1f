//! Scheduled actions as oned's `ScheduledAction` (src/sam/ScheduledAction.cc) handles
//! them, for VMs and backup jobs: `parse` with its checks and texts (a relative `+N` TIME
//! is stored absolute, from the VM's start), `is_due`, and `next_action` with REPEAT
//! (WEEKLY, MONTHLY, YEARLY, HOURLY), DAYS and END_TYPE / END_VALUE (NEVER, TIMES, DATE);
//! and the scheduler pass (`ScheduledActionManager`) that runs the due ones on the
//! simulator's clock as oneadmin (snapshot and backup actions with their ARGS): success
//! clears MESSAGE and moves the action on, a failure leaves it due and says why in MESSAGE
//! (`<ctime> : <error>`). Days are UTC days.

use super::prelude::*;

/// oned's `ScheduledAction::VM_ACTIONS`.
pub(crate) const VM_ACTIONS: &[&str] = &[
    "terminate",
    "terminate-hard",
    "undeploy",
    "undeploy-hard",
    "hold",
    "release",
    "stop",
    "suspend",
    "resume",
    "reboot",
    "reboot-hard",
    "poweroff",
    "poweroff-hard",
    "snapshot-create",
    "snapshot-revert",
    "snapshot-delete",
    "disk-snapshot-create",
    "disk-snapshot-revert",
    "disk-snapshot-delete",
    "backup",
];

/// Whose action it is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// A VM, started at `stime` (the origin of a `+N` TIME).
    Vm { stime: i64 },
    /// A backup job (its action is always `backup`; a relative TIME is refused).
    BackupJob,
}

const NONE: i32 = -1;
const WEEKLY: i32 = 0;
const MONTHLY: i32 = 1;
const YEARLY: i32 = 2;
const HOURLY: i32 = 3;
const END_NONE: i32 = -1;
const NEVER: i32 = 0;
const TIMES: i32 = 1;
const DATE: i32 = 2;

/// A fresh scheduled action, as oned's constructor leaves one.
pub(crate) fn fresh(id: i32) -> SchedAction {
    SchedAction {
        id,
        action: String::new(),
        args: String::new(),
        time: "-1".into(),
        repeat: NONE,
        days: String::new(),
        end_type: END_NONE,
        end_value: -1,
        done: -1,
        message: String::new(),
        warning: 0,
    }
}

/// The `SCHED_ACTION` vector of `text`. `missing_code` is the code oned answers when
/// there is none (ACTION for schedadd, INTERNAL for schedupdate).
pub(crate) fn vector(text: &str, missing_code: i32) -> R<Vec<(String, String)>> {
    let t = Tmpl::parse(text).map_err(RpcError::internal)?;
    t.vectors("SCHED_ACTION")
        .first()
        .map(|v| v.to_vec())
        .ok_or_else(|| RpcError::new(missing_code, "No SCHED_ACTION attribute in template"))
}

/// `ScheduledAction::parse_time`: an integer (`+N` relative to `origin` for VMs).
fn parse_time(s: &str, owner: Owner) -> i64 {
    let (digits, origin) = match (s.strip_prefix('+'), owner) {
        (Some(_), Owner::BackupJob) => return -1,
        (Some(rest), Owner::Vm { stime }) => (rest, stime),
        (None, _) => (s, 0),
    };
    // istringstream >> time_t: leading blanks skipped, the whole rest must be the number
    match digits.trim_start().parse::<i64>() {
        Ok(v) => v + origin,
        Err(_) => -1,
    }
}

/// An integer attribute as `vector_value(name, int&)` reads it (absent or not a number:
/// `None`).
fn int_of(v: &[(String, String)], k: &str) -> Option<i64> {
    v.iter()
        .find(|(n, _)| n == k)
        .and_then(|(_, x)| x.trim().parse::<i64>().ok())
}

fn str_of<'a>(v: &'a [(String, String)], k: &str) -> Option<&'a str> {
    v.iter().find(|(n, _)| n == k).map(|(_, x)| x.as_str())
}

/// `one_util::split_unique<int>` of DAYS.
fn days_set(days: &str) -> BTreeSet<i64> {
    days.split(',')
        .filter_map(|d| d.trim().parse::<i64>().ok())
        .collect()
}

/// `ScheduledAction::parse` of `va` into `sa` (a fresh action, or the one being updated).
/// The error is oned's text.
pub(crate) fn parse_into(
    sa: &mut SchedAction,
    va: &[(String, String)],
    owner: Owner,
) -> Result<(), String> {
    match owner {
        Owner::BackupJob => sa.action = "backup".into(),
        Owner::Vm { .. } => {
            if let Some(a) = str_of(va, "ACTION").filter(|a| !a.is_empty()) {
                if !VM_ACTIONS.contains(&a) {
                    return Err(format!("{a} is not supported."));
                }
                sa.action = a.to_owned();
            }
        }
    }
    if sa.action.is_empty() {
        return Err("No ACTION in template for Scheduled Action.".into());
    }
    let raw_time = str_of(va, "TIME").unwrap_or("").to_owned();
    if !raw_time.is_empty() {
        sa.time = parse_time(&raw_time, owner).to_string();
    }
    if sa.time.parse::<i64>().unwrap_or(-1) == -1 {
        return Err(format!(
            "Unable to parse the time value or value is empty: {raw_time}"
        ));
    }
    if let Some(w) = str_of(va, "WARNING").filter(|w| !w.is_empty()) {
        sa.warning = parse_time(w, owner);
        if sa.warning == -1 {
            return Err(format!("Unable to parse the warning value: {w}"));
        }
    }
    if let Some(r) = int_of(va, "REPEAT") {
        if (i64::from(NONE)..=i64::from(HOURLY)).contains(&r) {
            sa.repeat = r as i32;
        } else {
            return Err(format!("Wrong REPEAT value: {r}"));
        }
    }
    if sa.repeat == NONE {
        sa.days.clear();
    } else if let Some(d) = str_of(va, "DAYS") {
        sa.days = d.to_owned();
        days_in_range(sa)?;
    } else if sa.days.is_empty() {
        return Err("Repeat set, but DAYS are empty".into());
    }
    if let Some(e) = int_of(va, "END_TYPE") {
        if (i64::from(END_NONE)..=i64::from(DATE)).contains(&e) {
            sa.end_type = e as i32;
        } else {
            return Err(format!("Wrong END_TYPE value: {e}"));
        }
    }
    if sa.end_type <= NEVER {
        sa.end_value = -1;
    } else if let Some(v) = int_of(va, "END_VALUE") {
        sa.end_value = v;
        if sa.end_type == TIMES && v < 0 {
            return Err("Error parsing END_VALUE, times has to be greater or equal to 0".into());
        }
    }
    // (oned sets "END_TYPE set, but END_VALUE is empty" here and still succeeds)
    if let Some(a) = str_of(va, "ARGS") {
        sa.args = a.to_owned();
    }
    Ok(())
}

/// `ScheduledAction::days_in_range`.
fn days_in_range(sa: &SchedAction) -> Result<(), String> {
    const E: [&str; 4] = [
        "Days in a week have to be in [0,6] range",
        "Days in a month have to be in [1,31] range",
        "Days in a year have to be in [0,365] range",
        "Hours have to be in [0,168] range",
    ];
    const FDAY: [i64; 4] = [0, 1, 0, 1];
    const LDAY: [i64; 4] = [7, 32, 366, 168];
    let d = days_set(&sa.days);
    let (Some(&first), Some(&last)) = (d.first(), d.last()) else {
        return Err("Scheduled Action repeat set, but DAYS are empty".into());
    };
    let r = sa.repeat as usize;
    let extra = sa.repeat == HOURLY && d.len() != 1;
    if first < FDAY[r] || last >= LDAY[r] || extra {
        return Err(E[r].into());
    }
    Ok(())
}

/// A new action `id` from `text` (`one.vm.schedadd`, `one.backupjob.schedadd`): parse
/// errors answer ACTION, as oned's pool allocate does.
pub(crate) fn parse_new(text: &str, id: i32, owner: Owner) -> R<SchedAction> {
    let va = vector(text, code::ACTION)?;
    let mut sa = fresh(id);
    parse_into(&mut sa, &va, owner).map_err(|e| RpcError::new(code::ACTION, e))?;
    Ok(sa)
}

/// `ScheduledAction::is_due` at `now`.
pub(crate) fn is_due(sa: &SchedAction, now: i64) -> bool {
    let ended = match sa.end_type {
        TIMES => sa.end_value <= 0,
        DATE => now > sa.end_value,
        _ => false,
    };
    let time = sa.time.parse::<i64>().unwrap_or(i64::MAX);
    if ended || (sa.done > 0 && sa.done >= time) {
        return false;
    }
    time < now
}

/// `ScheduledAction::next_action` at `now`: DONE is `now`; a repeating action that has
/// not ended gets its next TIME (one repetition fewer for TIMES).
pub(crate) fn next_action(sa: &mut SchedAction, now: i64) {
    sa.done = now;
    if sa.repeat == NONE {
        return;
    }
    let days = days_set(&sa.days);
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return;
    };
    match sa.end_type {
        TIMES => {
            if sa.end_value <= 0 {
                return;
            }
            sa.end_value -= 1;
        }
        DATE if now > sa.end_value => return,
        _ => {}
    }
    let mut time = sa.time.parse::<i64>().unwrap_or(now);
    if sa.repeat == HOURLY {
        if first <= 0 {
            return;
        }
        // oned adds the period until TIME is not in the past (at least once); the count
        // is computed, not looped, so a TIME far in the past costs nothing
        let period = first.saturating_mul(3600);
        let behind = now.saturating_sub(time);
        let steps = if behind <= 0 {
            1
        } else {
            behind / period + i64::from(behind % period != 0)
        };
        time = time.saturating_add(steps.saturating_mul(period));
        sa.time = time.to_string();
        return;
    }
    let day = now.div_euclid(86_400);
    let (year, month, mday) = civil_from_days(day);
    let yday = day - days_from_civil(year, 1, 1);
    let wday = (day + 4).rem_euclid(7);
    let cday = match sa.repeat {
        WEEKLY => wday,
        MONTHLY => i64::from(mday),
        _ => yday,
    };
    let delta = if cday < first {
        first - cday
    } else if cday >= last {
        days_in_period(sa.repeat, month, year) - cday + first
    } else {
        days.range(cday + 1..).next().copied().unwrap_or(last) - cday
    };
    time += delta * 24 * 3600;
    sa.time = time.to_string();
    sa.warning = 0;
}

/// `ScheduledAction::days_in_period` (month 1-12 here).
fn days_in_period(repeat: i32, month: u32, year: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match repeat {
        WEEKLY => 7,
        MONTHLY => {
            const DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            DAYS[(month as usize).saturating_sub(1) % 12] + i64::from(leap && month == 2)
        }
        YEARLY => 365 + i64::from(leap),
        _ => 0,
    }
}

/// (year, month 1-12, day 1-31) of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The day number since 1970-01-01 of a date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `one_util::log_time`: ctime's form without the newline (`Wed Dec  2 13:45:13 2026`),
/// in UTC.
pub(crate) fn log_time(t: i64) -> String {
    const WD: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(day);
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {y}",
        WD[(day + 4).rem_euclid(7) as usize],
        MO[(m - 1) as usize],
        d,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// oned's scheduler runs scheduled actions as oneadmin (`RequestAttributes(ADMIN,
/// ONEADMIN_ID, ONEADMIN_ID)` in `ScheduledActionManager::vm_action_call`).
fn oneadmin() -> Caller {
    Caller {
        uid: 0,
        gid: 0,
        admin: true,
        groups: [0].into(),
    }
}

/// The leading integer of an ARGS token, as `istringstream >> int` reads it.
fn leading_int(t: &str) -> Option<i32> {
    let t = t.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().ok()
}

/// `ScheduledActionManager::vm_action_call`: the snapshot and backup actions take their
/// ARGS (comma-separated), the others are `one.vm.action`s.
fn vm_action_call(s: &mut State, ctx: &Ctx, vm: i32, action: &str, args: &str) -> R<()> {
    use super::super::xmlrpc::Value;
    let c = oneadmin();
    let tokens: Vec<&str> = if args.is_empty() {
        Vec::new()
    } else {
        args.split(',').collect()
    };
    let bad = |format: &str| {
        RpcError::internal(format!(
            "Missing or malformed ARGS for: {action}. Format: {format}"
        ))
    };
    let mut call = |op: &str, vals: Vec<Value>| {
        super::vm::write(
            s,
            ctx,
            &c,
            op,
            &super::super::methods::Args(vals),
            &format!("one.vm.{op}"),
        )
        .map(|_| ())
    };
    let int = |k: usize| tokens.get(k).and_then(|t| leading_int(t));
    match action {
        "snapshot-create" => {
            let name = tokens.first().ok_or_else(|| bad("snapshot-name"))?;
            call(
                "snapshotcreate",
                vec![Value::Int(vm), Value::Str((*name).to_owned())],
            )
        }
        "snapshot-revert" | "snapshot-delete" => {
            let snap = int(0).ok_or_else(|| bad("snapshot-id"))?;
            let op = if action == "snapshot-revert" {
                "snapshotrevert"
            } else {
                "snapshotdelete"
            };
            call(op, vec![Value::Int(vm), Value::Int(snap)])
        }
        "disk-snapshot-create" => {
            let (Some(disk), Some(name)) = (int(0), tokens.get(1)) else {
                return Err(bad("disk-id, snapshot-name"));
            };
            call(
                "disksnapshotcreate",
                vec![
                    Value::Int(vm),
                    Value::Int(disk),
                    Value::Str((*name).to_owned()),
                ],
            )
        }
        "disk-snapshot-revert" | "disk-snapshot-delete" => {
            let (Some(disk), Some(snap)) = (int(0), int(1)) else {
                return Err(bad("disk-id, snapshot-id"));
            };
            let op = if action == "disk-snapshot-revert" {
                "disksnapshotrevert"
            } else {
                "disksnapshotdelete"
            };
            call(op, vec![Value::Int(vm), Value::Int(disk), Value::Int(snap)])
        }
        "backup" => {
            // ARGS "ds" alone means reset = false; no ARGS at all is malformed
            let ds = int(0).ok_or_else(|| bad("datastore-id, reset"))?;
            let reset = match tokens.get(1) {
                None => false,
                Some(t) => match leading_int(t) {
                    Some(0) => false,
                    Some(1) => true,
                    _ => return Err(bad("datastore-id, reset")),
                },
            };
            super::vm_ops::backup_now(s, ctx, &c, vm, ds, reset)
        }
        _ => super::vm::vm_action(s, ctx, &c, vm, action),
    }
}

/// One scheduler pass over the VMs' and backup jobs' scheduled actions, on the
/// simulator's clock.
pub(crate) fn fire(s: &mut State, ctx: &Ctx) {
    let t = s.sched_now();
    let mut due: Vec<(i32, i32, String, String)> = Vec::new();
    for o in s.pool(Kind::Vm).objs.values() {
        let Some(v) = o.vm() else { continue };
        if v.state == st::DONE {
            continue;
        }
        for sa in v.sched.iter().filter(|sa| is_due(sa, t)) {
            due.push((o.meta.id, sa.id, sa.action.clone(), sa.args.clone()));
        }
    }
    for (vm, sid, action, args) in due {
        let r = vm_action_call(s, ctx, vm, &action, &args);
        if let Ok(o) = s.get_mut(Kind::Vm, vm)
            && let Some(v) = o.vm_mut()
            && let Some(sa) = v.sched.iter_mut().find(|x| x.id == sid)
        {
            match r {
                Ok(()) => {
                    sa.message.clear();
                    next_action(sa, t);
                }
                Err(e) => sa.message = format!("{} : {}", log_time(t), e.msg),
            }
        }
    }
    let jobs: Vec<(i32, i32)> = s
        .pool(Kind::BackupJob)
        .objs
        .values()
        .filter_map(|o| match &o.extra {
            Extra::BackupJob(b) => b
                .sched
                .iter()
                .find(|sa| is_due(sa, t))
                .map(|sa| (o.meta.id, sa.id)),
            _ => None,
        })
        .collect();
    // one due schedule per job and pass, as oned's scheduled_backup_jobs
    for (job, sid) in jobs {
        let r = super::backupjob::run(s, ctx, &oneadmin(), job);
        if let Ok(o) = s.get_mut(Kind::BackupJob, job)
            && let Extra::BackupJob(b) = &mut o.extra
            && let Some(sa) = b.sched.iter_mut().find(|x| x.id == sid)
        {
            match r {
                Ok(()) => {
                    sa.message.clear();
                    next_action(sa, t);
                }
                Err(e) => sa.message = format!("{} : {}", log_time(t), e.msg),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn va(text: &str) -> Vec<(String, String)> {
        vector(text, code::ACTION).expect("vector")
    }

    #[test]
    fn parse_like_oned() {
        let vm = Owner::Vm { stime: 1000 };
        let mut sa = fresh(0);
        parse_into(
            &mut sa,
            &va("SCHED_ACTION = [ ACTION = \"hold\", TIME = \"+60\" ]"),
            vm,
        )
        .expect("relative");
        assert_eq!(sa.time, "1060");
        for (text, owner, err) in [
            (
                "SCHED_ACTION = [ TIME = \"1\" ]",
                vm,
                "No ACTION in template for Scheduled Action.",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"fly\", TIME = \"1\" ]",
                vm,
                "fly is not supported.",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\" ]",
                vm,
                "Unable to parse the time value or value is empty: ",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"soon\" ]",
                vm,
                "Unable to parse the time value or value is empty: soon",
            ),
            (
                "SCHED_ACTION = [ TIME = \"+5\" ]",
                Owner::BackupJob,
                "Unable to parse the time value or value is empty: +5",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", REPEAT = \"7\" ]",
                vm,
                "Wrong REPEAT value: 7",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", REPEAT = \"0\" ]",
                vm,
                "Repeat set, but DAYS are empty",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", REPEAT = \"0\", DAYS = \"7\" ]",
                vm,
                "Days in a week have to be in [0,6] range",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", REPEAT = \"1\", DAYS = \"0\" ]",
                vm,
                "Days in a month have to be in [1,31] range",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", REPEAT = \"3\", DAYS = \"1,2\" ]",
                vm,
                "Hours have to be in [0,168] range",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", REPEAT = \"3\", DAYS = \"x\" ]",
                vm,
                "Scheduled Action repeat set, but DAYS are empty",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", END_TYPE = \"5\" ]",
                vm,
                "Wrong END_TYPE value: 5",
            ),
            (
                "SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1\", END_TYPE = \"1\", END_VALUE = \"-2\" ]",
                vm,
                "Error parsing END_VALUE, times has to be greater or equal to 0",
            ),
        ] {
            let mut sa = fresh(0);
            assert_eq!(
                parse_into(&mut sa, &va(text), owner).expect_err(text),
                err,
                "{text}"
            );
        }
        let e = parse_new("CPU = 1", 0, vm).expect_err("no vector");
        assert_eq!(
            (e.code, e.msg.as_str()),
            (code::ACTION, "No SCHED_ACTION attribute in template")
        );
    }

    #[test]
    fn repeats_like_oned() {
        // HOURLY every 2 h, 3 more times: TIME moves past now, END_VALUE counts down
        let now = 1_800_000_000;
        let mut sa = fresh(0);
        parse_into(
            &mut sa,
            &va("SCHED_ACTION = [ ACTION = \"hold\", TIME = \"1799990000\", REPEAT = \"3\", DAYS = \"2\", END_TYPE = \"1\", END_VALUE = \"2\" ]"),
            Owner::Vm { stime: 0 },
        )
        .expect("parse");
        assert!(is_due(&sa, now));
        next_action(&mut sa, now);
        assert_eq!(
            (sa.time.as_str(), sa.end_value, sa.done),
            ("1800004400", 1, now)
        );
        assert!(!is_due(&sa, now + 1));
        assert!(is_due(&sa, 1_800_004_401));
        next_action(&mut sa, 1_800_004_401);
        assert_eq!(sa.end_value, 0);
        // no repetitions left: the next run is the last one, then it is not due again
        assert!(!is_due(&sa, 1_800_100_000));
        // WEEKLY on Monday and Thursday: 2027-01-15 is a Friday; Monday is 3 days on
        let fri = days_from_civil(2027, 1, 15) * 86_400 + 3600;
        let mut w = fresh(1);
        parse_into(
            &mut w,
            &va(&format!("SCHED_ACTION = [ ACTION = \"hold\", TIME = \"{fri}\", REPEAT = \"0\", DAYS = \"1,4\", END_TYPE = \"0\" ]")),
            Owner::Vm { stime: 0 },
        )
        .expect("weekly");
        next_action(&mut w, fri + 10);
        assert_eq!(w.time, (fri + 3 * 86_400).to_string());
        // MONTHLY on the 1st and 15th, run on the 10th: the 15th
        let tenth = days_from_civil(2027, 3, 10) * 86_400;
        let mut m = fresh(2);
        parse_into(
            &mut m,
            &va(&format!("SCHED_ACTION = [ ACTION = \"hold\", TIME = \"{tenth}\", REPEAT = \"1\", DAYS = \"1,15\" ]")),
            Owner::Vm { stime: 0 },
        )
        .expect("monthly");
        next_action(&mut m, tenth + 5);
        assert_eq!(m.time, (tenth + 5 * 86_400).to_string());
        // DATE in the past: ended
        let mut d = fresh(3);
        parse_into(
            &mut d,
            &va("SCHED_ACTION = [ ACTION = \"hold\", TIME = \"10\", REPEAT = \"3\", DAYS = \"1\", END_TYPE = \"2\", END_VALUE = \"20\" ]"),
            Owner::Vm { stime: 0 },
        )
        .expect("date");
        assert!(!is_due(&d, 100));
    }

    #[test]
    fn hourly_from_far_in_the_past_is_quick() {
        let mut sa = fresh(9);
        sa.action = "hold".into();
        sa.time = (-9_000_000_000_000_000_i64).to_string();
        sa.repeat = HOURLY;
        sa.days = "1".into();
        sa.end_type = NEVER;
        next_action(&mut sa, 1_800_000_000);
        let t: i64 = sa.time.parse().expect("time");
        assert!((1_800_000_000..1_800_003_600).contains(&t), "{t}");
    }

    #[test]
    fn ctime_form() {
        assert_eq!(log_time(1_796_218_000), "Wed Dec  2 13:26:40 2026");
        assert_eq!(log_time(0), "Thu Jan  1 00:00:00 1970");
    }
}
