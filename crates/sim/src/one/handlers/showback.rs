//! `one.vmpool.accounting`, `one.vmpool.showback` and `one.vmpool.calculateshowback`.
//!
//! Showback is computed as oned does it: for every month and every history record of a
//! VM, the hours the record overlaps the month, times the VM template's CPU_COST × CPU,
//! MEMORY_COST × MEMORY (GB) and DISK_COST × the disks' SIZE (GB); RHOURS counts the
//! running part (from RSTIME to RETIME).

use super::prelude::*;

/// Month start (UNIX time, UTC) of `year`/`month` (1-12).
fn month_start(year: i32, month: i32) -> i64 {
    // days from civil (Howard Hinnant's algorithm)
    let (y, m) = if month <= 2 {
        (i64::from(year) - 1, i64::from(month) + 9)
    } else {
        (i64::from(year), i64::from(month) - 3)
    };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

fn next_month(year: i32, month: i32) -> (i32, i32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

fn num(t: &Tmpl, k: &str) -> f64 {
    t.get(k).and_then(|x| x.trim().parse().ok()).unwrap_or(0.0)
}

fn overlap(a0: i64, a1: i64, b0: i64, b1: i64) -> f64 {
    let lo = a0.max(b0);
    let hi = a1.min(b1);
    if hi > lo {
        (hi - lo) as f64 / 3600.0
    } else {
        0.0
    }
}

/// Float text as oned prints costs (no trailing zeros).
fn cost(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_owned()
    }
}

/// The `one.vmpool.*` reports.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    match k.op {
        "accounting" => {
            let (start, end) = (i64::from(a.int(1)), i64::from(a.int(2)));
            let mut out = String::from("<HISTORY_RECORDS>");
            let vms = filtered(s, c, Kind::Vm, a.int(0), -1, -1, -2)?;
            for o in vms.into_iter().rev() {
                let Some(v) = o.vm() else { continue };
                let mut vm_doc = String::new();
                render::obj(&mut vm_doc, s, o, false, false);
                if let (Some(i), Some(j)) = (
                    vm_doc.find("<HISTORY_RECORDS>"),
                    vm_doc.find("</HISTORY_RECORDS>"),
                ) {
                    vm_doc.replace_range(i..j + "</HISTORY_RECORDS>".len(), "<HISTORY_RECORDS/>");
                }
                for h in &v.history {
                    let h_end = if h.etime == 0 { i64::MAX } else { h.etime };
                    if (start >= 0 && h_end < start) || (end >= 0 && h.stime > end) {
                        continue;
                    }
                    let mut one = String::new();
                    render::history_record(&mut one, o.meta.id, h);
                    let close = one.rfind("</HISTORY>").unwrap_or(one.len());
                    one.insert_str(close, h.vm_copy.as_deref().unwrap_or(&vm_doc));
                    out.push_str(&one);
                }
            }
            out.push_str("</HISTORY_RECORDS>");
            Ok(Ret::Str(out))
        }
        "showback" => {
            let (sm, sy, em, ey) = (a.int(1), a.int(2), a.int(3), a.int(4));
            let from = if sy < 0 { i32::MIN } else { sy * 12 + sm };
            let to = if ey < 0 { i32::MAX } else { ey * 12 + em };
            let vms: BTreeSet<i32> = filtered(s, c, Kind::Vm, a.int(0), -1, -1, -2)?
                .into_iter()
                .map(|o| o.meta.id)
                .collect();
            let mut out = String::from("<SHOWBACK_RECORDS>");
            for r in &s.showback {
                let key = r.year * 12 + r.month;
                if !vms.contains(&r.vmid) || key < from || key > to {
                    continue;
                }
                let Ok(o) = s.get(Kind::Vm, r.vmid) else {
                    continue;
                };
                out.push_str("<SHOWBACK>");
                render::el(&mut out, "VMID", r.vmid);
                render::el_text(&mut out, "VMNAME", &o.meta.name);
                render::el(&mut out, "UID", o.meta.uid);
                render::el(&mut out, "GID", o.meta.gid);
                render::el_text(&mut out, "UNAME", s.uname(o.meta.uid));
                render::el_text(&mut out, "GNAME", s.gname(o.meta.gid));
                render::el(&mut out, "YEAR", r.year);
                render::el(&mut out, "MONTH", r.month);
                render::el(&mut out, "CPU_COST", cost(r.cpu_cost));
                render::el(&mut out, "MEMORY_COST", cost(r.memory_cost));
                render::el(&mut out, "DISK_COST", cost(r.disk_cost));
                render::el(
                    &mut out,
                    "TOTAL_COST",
                    cost(r.cpu_cost + r.memory_cost + r.disk_cost),
                );
                render::el(&mut out, "HOURS", format!("{:.2}", r.hours));
                render::el(&mut out, "RHOURS", format!("{:.2}", r.rhours));
                out.push_str("</SHOWBACK>");
            }
            out.push_str("</SHOWBACK_RECORDS>");
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(k.method)),
    }
}

/// `one.vmpool.calculateshowback(start_month, start_year, end_month, end_year)`
/// (oneadmin only); answers one space as oned does.
pub(crate) fn calculate(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    s.require_admin(c, Op::Manage, "VM", -1)?;
    let (mut y, mut m) = (a.int(1), a.int(0));
    let (ey, em) = (a.int(3), a.int(2));
    let t_now = now();
    // unset start: from the oldest VM; unset end: this month
    let oldest = s
        .pool(Kind::Vm)
        .objs
        .values()
        .filter_map(|o| o.vm().map(|v| v.stime))
        .min()
        .unwrap_or(t_now);
    if y < 0 || m < 1 {
        let days = oldest / 86_400;
        let mut yy = 1970;
        let mut mm = 1;
        while month_start(yy, mm) / 86_400 <= days {
            (yy, mm) = next_month(yy, mm);
        }
        (y, m) = if mm == 1 { (yy - 1, 12) } else { (yy, mm - 1) };
    }
    let end_key = if ey < 0 || em < 1 {
        i32::MAX
    } else {
        ey * 12 + em
    };
    let mut rows: Vec<Showback> = Vec::new();
    let mut guard = 0;
    while y * 12 + m <= end_key && month_start(y, m) <= t_now && guard < 2400 {
        guard += 1;
        let (ny, nm) = next_month(y, m);
        let (m0, m1) = (month_start(y, m), month_start(ny, nm));
        for o in s.pool(Kind::Vm).objs.values() {
            let Some(v) = o.vm() else { continue };
            let t = &o.template;
            let cpu = num(t, "CPU");
            let mem_gb = num(t, "MEMORY") / 1024.0;
            let disk_gb: f64 = t
                .vectors("DISK")
                .iter()
                .filter_map(|d| {
                    d.iter()
                        .find(|(k, _)| k == "SIZE")
                        .and_then(|(_, x)| x.parse::<f64>().ok())
                })
                .sum::<f64>()
                / 1024.0;
            let (cc, mc, dc) = (
                num(t, "CPU_COST"),
                num(t, "MEMORY_COST"),
                num(t, "DISK_COST"),
            );
            let mut r = Showback {
                vmid: o.meta.id,
                year: y,
                month: m,
                cpu_cost: 0.0,
                memory_cost: 0.0,
                disk_cost: 0.0,
                hours: 0.0,
                rhours: 0.0,
            };
            let mut any = false;
            for h in &v.history {
                let h_end = if h.etime == 0 { t_now } else { h.etime };
                let hours = overlap(h.stime, h_end, m0, m1);
                if h.stime < m1 && h_end >= m0 {
                    any = true;
                }
                let r_end = if h.retime == 0 { h_end } else { h.retime };
                let rh = if h.rstime > 0 {
                    overlap(h.rstime, r_end, m0, m1)
                } else {
                    0.0
                };
                r.hours += hours;
                r.rhours += rh;
                r.cpu_cost += cc * cpu * hours;
                r.memory_cost += mc * mem_gb * hours;
                r.disk_cost += dc * disk_gb * hours;
            }
            if any {
                rows.push(r);
            }
        }
        (y, m) = (ny, nm);
    }
    for r in rows {
        s.showback
            .retain(|x| !(x.vmid == r.vmid && x.year == r.year && x.month == r.month));
        s.showback.push(r);
    }
    s.showback
        .sort_by_key(|x| (x.year, x.month, std::cmp::Reverse(x.vmid)));
    Ok(Ret::Str(" ".into()))
}
