//! How OpenNebula resources look: the columns of the `one*` tools (`onevm list`,
//! `onehost list`, `onetemplate list`, `oneimage list`, `onevnet list`), their short
//! state names (`runn`, `poff`, `on`, `rdy`), and the state names added to JSON/YAML.

use std::time::{SystemTime, UNIX_EPOCH};

use nebulair_opennebula::model::{
    Host, HostState, Image, ImageState, LcmState, VmPoolVm, VmState, VmTemplate, VnetPoolVnet,
};
use nebulair_opennebula::template::Template;

use crate::output::{Col, Doc, insert_after};
#[cfg(any(test, feature = "simulators"))]
use crate::output::{Table, select_columns};

/// The state column of `onevm list` in full: the LCM state for ACTIVE VMs, the main
/// state otherwise.
pub(crate) fn vm_state(state: Option<i64>, lcm: Option<i64>) -> String {
    match state.map(VmState::from_code) {
        Some(VmState::Active) => lcm
            .map(|l| LcmState::from_code(l).to_string())
            .unwrap_or_else(|| "ACTIVE".to_owned()),
        Some(s) => s.to_string(),
        None => "-".to_owned(),
    }
}

/// The short VM state name `onevm list` prints (SHORT_VM_STATES).
pub(crate) fn short_vm_state(s: VmState) -> &'static str {
    match s {
        VmState::Init => "init",
        VmState::Pending => "pend",
        VmState::Hold => "hold",
        VmState::Active => "actv",
        VmState::Stopped => "stop",
        VmState::Suspended => "susp",
        VmState::Done => "done",
        VmState::Failed => "fail",
        VmState::Poweroff => "poff",
        VmState::Undeployed => "unde",
        VmState::Cloning => "clon",
        VmState::CloningFailure => "fail",
        _ => "unkn",
    }
}

/// The short LCM state name `onevm list` prints for ACTIVE VMs (SHORT_LCM_STATES).
pub(crate) fn short_lcm_state(s: LcmState) -> &'static str {
    let name = s.name().unwrap_or("UNKNOWN");
    match name {
        "LCM_INIT" => "init",
        "RUNNING" => "runn",
        "MIGRATE" => "migr",
        "SAVE_STOP" | "SAVE_SUSPEND" | "SAVE_MIGRATE" => "save",
        "CANCEL" => "shut",
        "UNKNOWN" => "unkn",
        "HOTPLUG_SNAPSHOT" => "snap",
        _ if name.ends_with("_FAILURE") || name == "FAILURE" => "fail",
        _ if name.starts_with("PROLOG_MIGRATE") => "migr",
        _ if name.starts_with("PROLOG") => "prol",
        _ if name.starts_with("BOOT") => "boot",
        _ if name.starts_with("EPILOG") => "epil",
        _ if name.starts_with("SHUTDOWN") => "shut",
        _ if name.starts_with("CLEANUP") => "clea",
        _ if name.starts_with("DISK_SNAPSHOT") => "snap",
        _ if name.starts_with("DISK_RESIZE") => "drsz",
        _ if name.starts_with("HOTPLUG") => "hotp",
        _ => "unkn",
    }
}

/// The STAT column of `onevm list`: the short LCM state for ACTIVE VMs, the short VM
/// state otherwise.
pub(crate) fn vm_stat(state: Option<i64>, lcm: Option<i64>) -> String {
    match state.map(VmState::from_code) {
        Some(VmState::Active) => lcm
            .map(|l| short_lcm_state(LcmState::from_code(l)).to_owned())
            .unwrap_or_else(|| "actv".to_owned()),
        Some(s) => short_vm_state(s).to_owned(),
        None => "-".to_owned(),
    }
}

/// The short host state `onehost list` prints.
pub(crate) fn short_host_state(s: HostState) -> &'static str {
    match s {
        HostState::Init | HostState::MonitoringInit => "init",
        HostState::MonitoringMonitored => "update",
        HostState::Monitored => "on",
        HostState::Error => "err",
        HostState::Disabled | HostState::MonitoringDisabled => "dsbl",
        HostState::MonitoringError => "retry",
        HostState::Offline => "off",
        _ => "unkn",
    }
}

/// The short image state `oneimage list` prints.
pub(crate) fn short_image_state(s: ImageState) -> &'static str {
    match s {
        ImageState::Init => "init",
        ImageState::Ready => "rdy",
        ImageState::Used | ImageState::UsedPers => "used",
        ImageState::Disabled => "disa",
        ImageState::Locked | ImageState::LockedUsed | ImageState::LockedUsedPers => "lock",
        ImageState::Error => "err",
        ImageState::Clone => "clon",
        ImageState::Delete => "dele",
        _ => "unkn",
    }
}

/// The short virtual network state `onevnet list` prints.
pub(crate) fn vnet_state_name(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "INIT",
        1 => "READY",
        2 => "LOCK_CREATE",
        3 => "LOCK_DELETE",
        4 => "DONE",
        5 => "ERROR",
        6 => "UPDATE_FAILURE",
        _ => return None,
    })
}

fn short_vnet_state(code: i64) -> &'static str {
    match code {
        0 => "init",
        1 => "rdy",
        2 | 3 => "lock",
        4 => "done",
        5 => "err",
        6 => "upd_fail",
        _ => "unkn",
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".to_owned())
}

fn tpl(t: &Template, key: &str) -> String {
    t.get_str(key).unwrap_or("-").to_owned()
}

/// The host a VM runs on: the last history record's HOSTNAME.
fn vm_host(vm: &VmPoolVm) -> String {
    vm.history_records
        .as_ref()
        .and_then(|h| h.history.last())
        .and_then(|h| h.hostname.clone())
        .unwrap_or_else(|| "-".to_owned())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// onevm's TIME: how long the VM has existed (until it ended), as `Nd HHhMM`.
pub(crate) fn elapsed(stime: Option<i64>, etime: Option<i64>, now: i64) -> String {
    let Some(start) = stime.filter(|s| *s > 0) else {
        return "-".to_owned();
    };
    let end = etime.filter(|e| *e > 0).unwrap_or(now);
    let secs = (end - start).max(0);
    let (d, h, m) = (secs / 86_400, (secs % 86_400) / 3_600, (secs % 3_600) / 60);
    format!("{d}d {h:02}h{m:02}")
}

pub(crate) fn date(t: Option<i64>) -> String {
    match t.filter(|t| *t > 0) {
        None => "-".to_owned(),
        Some(t) => {
            // days since the epoch to a civil date (UTC), then HH:MM:SS
            let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let day = doy - (153 * mp + 2) / 5 + 1;
            let month = if mp < 10 { mp + 3 } else { mp - 9 };
            let year = yoe + era * 400 + i64::from(month <= 2);
            format!(
                "{month:02}/{day:02}/{:02} {:02}:{:02}:{:02}",
                year % 100,
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60
            )
        }
    }
}

fn mem_text(mb: Option<&str>) -> String {
    match mb.and_then(|m| m.parse::<u64>().ok()) {
        Some(m) if m >= 1024 && m % 1024 == 0 => format!("{}G", m / 1024),
        Some(m) => format!("{m}M"),
        None => "-".to_owned(),
    }
}

fn kib(v: Option<i64>) -> String {
    match v {
        Some(k) if k >= 1024 * 1024 => format!("{:.1}G", k as f64 / (1024.0 * 1024.0)),
        Some(k) if k >= 1024 => format!("{:.1}M", k as f64 / 1024.0),
        Some(k) => format!("{k}K"),
        None => "-".to_owned(),
    }
}

fn vm_ips(vm: &VmPoolVm) -> String {
    let ips: Vec<String> = vm
        .template
        .vectors("NIC")
        .filter_map(|n| n.get("IP").map(str::to_owned))
        .collect();
    if ips.is_empty() {
        "-".to_owned()
    } else {
        ips.join(",")
    }
}

/// `onevm list` columns (TIME and the rest as onevm names them; `-o wide` adds the
/// full state names, IP, RESCHED and the ids).
pub(crate) const VM_COLUMNS: &[Col<VmPoolVm>] = &[
    Col::num("ID", |v| v.id.to_string()),
    Col::new("USER", |v| opt(&v.uname)),
    Col::new("GROUP", |v| opt(&v.gname)),
    Col::new("NAME", |v| opt(&v.name)),
    Col::new("STAT", |v| vm_stat(v.state, v.lcm_state)),
    Col::num("CPU", |v| tpl(&v.template, "CPU")),
    Col::num("MEM", |v| mem_text(v.template.get_str("MEMORY"))),
    Col::new("HOST", vm_host),
    Col::num("TIME", |v| elapsed(v.stime, v.etime, now())),
    Col::w("STATE", |v| opt(&v.state()).to_string()),
    Col::w("LCM_STATE", |v| opt(&v.lcm_state())),
    Col::w("IP", vm_ips),
    Col::wnum("VCPU", |v| tpl(&v.template, "VCPU")),
    Col::wnum("RESCHED", |v| opt(&v.resched)),
    Col::wnum("UID", |v| opt(&v.uid)),
    Col::wnum("GID", |v| opt(&v.gid)),
    Col::w("START", |v| date(v.stime)),
];

fn host_alloc_cpu(h: &Host) -> String {
    h.host_share
        .as_ref()
        .map(|s| {
            let (u, m) = (s.cpu_usage.unwrap_or(0), s.max_cpu.unwrap_or(0));
            let pct = if m > 0 { u * 100 / m } else { 0 };
            format!("{u} / {m} ({pct}%)")
        })
        .unwrap_or_else(|| "-".to_owned())
}

fn host_alloc_mem(h: &Host) -> String {
    h.host_share
        .as_ref()
        .map(|s| {
            let (u, m) = (s.mem_usage, s.max_mem);
            let pct = match (u, m) {
                (Some(u), Some(m)) if m > 0 => u * 100 / m,
                _ => 0,
            };
            format!("{} / {} ({pct}%)", kib(u), kib(m))
        })
        .unwrap_or_else(|| "-".to_owned())
}

/// `onehost list` columns.
pub(crate) const HOST_COLUMNS: &[Col<Host>] = &[
    Col::num("ID", |h| h.id.to_string()),
    Col::new("NAME", |h| opt(&h.name)),
    Col::new("CLUSTER", |h| opt(&h.cluster)),
    Col::num("TVM", |h| {
        h.host_share
            .as_ref()
            .map(|s| opt(&s.running_vms))
            .unwrap_or_else(|| "-".to_owned())
    }),
    Col::num("ALLOCATED_CPU", host_alloc_cpu),
    Col::num("ALLOCATED_MEM", host_alloc_mem),
    Col::new("STAT", |h| {
        h.state()
            .map(|s| short_host_state(s).to_owned())
            .unwrap_or_else(|| "-".to_owned())
    }),
    Col::w("STATE", |h| opt(&h.state())),
    Col::w("IM_MAD", |h| opt(&h.im_mad)),
    Col::w("VM_MAD", |h| opt(&h.vm_mad)),
    Col::wnum("CLUSTER_ID", |h| opt(&h.cluster_id)),
];

/// `onetemplate list` columns.
pub(crate) const TEMPLATE_COLUMNS: &[Col<VmTemplate>] = &[
    Col::num("ID", |t| t.id.to_string()),
    Col::new("USER", |t| opt(&t.uname)),
    Col::new("GROUP", |t| opt(&t.gname)),
    Col::new("NAME", |t| opt(&t.name)),
    Col::new("REGTIME", |t| date(t.regtime)),
    Col::wnum("CPU", |t| tpl(&t.template, "CPU")),
    Col::wnum("MEMORY", |t| mem_text(t.template.get_str("MEMORY"))),
];

/// `oneimage list` columns.
pub(crate) const IMAGE_COLUMNS: &[Col<Image>] = &[
    Col::num("ID", |i| i.id.to_string()),
    Col::new("USER", |i| opt(&i.uname)),
    Col::new("GROUP", |i| opt(&i.gname)),
    Col::new("NAME", |i| opt(&i.name)),
    Col::new("DATASTORE", |i| opt(&i.datastore)),
    Col::num("SIZE", |i| {
        i.size
            .map(|s| mem_text(Some(&s.to_string())))
            .unwrap_or_else(|| "-".to_owned())
    }),
    Col::new("TYPE", |i| opt(&i.image_type())),
    Col::new("PER", |i| match i.persistent {
        Some(1) => "Yes".to_owned(),
        Some(_) => "No".to_owned(),
        None => "-".to_owned(),
    }),
    Col::new("STAT", |i| {
        i.state()
            .map(|s| short_image_state(s).to_owned())
            .unwrap_or_else(|| "-".to_owned())
    }),
    Col::num("RVMS", |i| opt(&i.running_vms)),
    Col::w("STATE", |i| opt(&i.state())),
    Col::w("REGTIME", |i| date(i.regtime)),
];

/// `onevnet list` columns.
pub(crate) const VNET_COLUMNS: &[Col<VnetPoolVnet>] = &[
    Col::num("ID", |n| n.id.to_string()),
    Col::new("USER", |n| opt(&n.uname)),
    Col::new("GROUP", |n| opt(&n.gname)),
    Col::new("NAME", |n| opt(&n.name)),
    Col::new("CLUSTERS", |n| {
        if n.clusters.is_empty() {
            "-".to_owned()
        } else {
            n.clusters
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        }
    }),
    Col::new("BRIDGE", |n| opt(&n.bridge)),
    Col::new("STATE", |n| {
        n.state
            .map(|s| short_vnet_state(s).to_owned())
            .unwrap_or_else(|| "-".to_owned())
    }),
    Col::num("LEASES", |n| opt(&n.used_leases)),
    Col::w("VN_MAD", |n| opt(&n.vn_mad)),
    Col::w("VLAN_ID", |n| opt(&n.vlan_id)),
];

/// A table of `items` with the default columns (for the demo).
#[cfg(any(test, feature = "simulators"))]
pub(crate) fn table<T>(items: &[T], cols: &[Col<T>]) -> String {
    let sel = select_columns(cols, &[], false).unwrap_or_default();
    Table::of(items, &sel).render()
}

/// `onevm list` for the demo.
#[cfg(any(test, feature = "simulators"))]
pub(crate) fn vm_table(vms: &[VmPoolVm]) -> String {
    table(vms, VM_COLUMNS)
}

/// `onehost list` for the demo.
#[cfg(feature = "simulators")]
pub(crate) fn host_table(hosts: &[Host]) -> String {
    table(hosts, HOST_COLUMNS)
}

/// `onetemplate list` for the demo.
#[cfg(feature = "simulators")]
pub(crate) fn template_table(tpls: &[VmTemplate]) -> String {
    table(tpls, TEMPLATE_COLUMNS)
}

/// Names for the numeric state fields of a family's documents: `(field, name of code)`.
pub(crate) type StateNames = &'static [(&'static str, fn(i64) -> Option<String>)];

fn vm_state_name(c: i64) -> Option<String> {
    VmState::from_code(c).name().map(str::to_owned)
}
fn lcm_state_name(c: i64) -> Option<String> {
    LcmState::from_code(c).name().map(str::to_owned)
}
fn host_state_name(c: i64) -> Option<String> {
    HostState::from_code(c).name().map(str::to_owned)
}
fn image_state_name(c: i64) -> Option<String> {
    ImageState::from_code(c).name().map(str::to_owned)
}
fn image_type_name(c: i64) -> Option<String> {
    nebulair_opennebula::model::ImageType::from_code(c)
        .name()
        .map(str::to_owned)
}
fn vnet_state(c: i64) -> Option<String> {
    vnet_state_name(c).map(str::to_owned)
}
fn datastore_state_name(c: i64) -> Option<String> {
    nebulair_opennebula::model::DatastoreState::from_code(c)
        .name()
        .map(str::to_owned)
}
fn market_app_state_name(c: i64) -> Option<String> {
    nebulair_opennebula::model::MarketAppState::from_code(c)
        .name()
        .map(str::to_owned)
}

/// VM documents: `state_name`, `lcm_state_name`, `prev_state_name`, `prev_lcm_state_name`.
pub(crate) const VM_STATES: StateNames = &[
    ("state", vm_state_name),
    ("lcm_state", lcm_state_name),
    ("prev_state", vm_state_name),
    ("prev_lcm_state", lcm_state_name),
];
/// Host documents.
pub(crate) const HOST_STATES: StateNames =
    &[("state", host_state_name), ("prev_state", host_state_name)];
/// Image documents.
pub(crate) const IMAGE_STATES: StateNames = &[
    ("state", image_state_name),
    ("prev_state", image_state_name),
    ("type", image_type_name),
];
/// Virtual network documents.
pub(crate) const VNET_STATES: StateNames = &[("state", vnet_state), ("prev_state", vnet_state)];
fn datastore_type_name(c: i64) -> Option<String> {
    nebulair_opennebula::model::DatastoreType::from_code(c)
        .name()
        .map(str::to_owned)
}
fn market_app_type_name(c: i64) -> Option<String> {
    nebulair_opennebula::model::MarketAppType::from_code(c)
        .name()
        .map(str::to_owned)
}

fn zone_state_name(c: i64) -> Option<String> {
    match c {
        0 => Some("ENABLED".to_owned()),
        1 => Some("DISABLED".to_owned()),
        _ => None,
    }
}

/// Zone documents.
pub(crate) const ZONE_STATES: StateNames = &[("state", zone_state_name)];
/// Marketplace documents (ENABLED/DISABLED like zones).
pub(crate) const MARKET_STATES: StateNames = &[("state", zone_state_name)];
/// Datastore documents.
pub(crate) const DATASTORE_STATES: StateNames = &[
    ("state", datastore_state_name),
    ("type", datastore_type_name),
];
/// Marketplace app documents.
pub(crate) const MARKET_APP_STATES: StateNames = &[
    ("state", market_app_state_name),
    ("type", market_app_type_name),
];
/// Documents without states.
pub(crate) const NO_STATES: StateNames = &[];

/// Adds `<field>_name` after each numeric state field of a document (or of each
/// document of a list), keeping the number: scripts get both.
pub(crate) fn name_states(doc: &mut Doc, names: StateNames) {
    match doc {
        Doc::Sequence(items) => items.iter_mut().for_each(|d| name_states(d, names)),
        Doc::Mapping(_) => {
            for (field, name) in names {
                let code = doc.get(*field).and_then(Doc::as_i64);
                if let Some(n) = code.and_then(name) {
                    insert_after(doc, field, &format!("{field}_name"), Doc::String(n));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_column_prefers_lcm_for_active() {
        assert_eq!(vm_state(Some(3), Some(3)), "RUNNING");
        assert_eq!(vm_state(Some(3), Some(1)), "PROLOG");
        assert_eq!(vm_state(Some(8), Some(0)), "POWEROFF");
        assert_eq!(vm_state(Some(1), None), "PENDING");
        assert_eq!(vm_state(None, None), "-");
    }

    #[test]
    fn short_states_as_onevm_prints_them() {
        assert_eq!(vm_stat(Some(3), Some(3)), "runn");
        assert_eq!(vm_stat(Some(3), Some(1)), "prol");
        assert_eq!(vm_stat(Some(3), Some(8)), "migr");
        assert_eq!(vm_stat(Some(3), Some(36)), "fail");
        assert_eq!(vm_stat(Some(3), Some(20)), "boot");
        assert_eq!(vm_stat(Some(3), Some(24)), "snap");
        assert_eq!(vm_stat(Some(3), Some(57)), "snap");
        assert_eq!(vm_stat(Some(3), Some(17)), "hotp");
        assert_eq!(vm_stat(Some(8), Some(0)), "poff");
        assert_eq!(vm_stat(Some(1), None), "pend");
        assert_eq!(vm_stat(Some(9), None), "unde");
        assert_eq!(short_host_state(HostState::Monitored), "on");
        assert_eq!(short_host_state(HostState::Disabled), "dsbl");
        assert_eq!(short_image_state(ImageState::Ready), "rdy");
    }

    #[test]
    fn time_column() {
        assert_eq!(
            elapsed(Some(100), None, 100 + 3 * 3600 + 5 * 60),
            "0d 03h05"
        );
        assert_eq!(
            elapsed(Some(100), Some(100 + 2 * 86_400 + 60), 0),
            "2d 00h01"
        );
        assert_eq!(elapsed(None, None, 5), "-");
        assert_eq!(date(Some(0)), "-");
        assert_eq!(date(Some(1_700_000_000)), "11/14/23 22:13:20");
    }

    #[test]
    fn memory_units() {
        assert_eq!(mem_text(Some("512")), "512M");
        assert_eq!(mem_text(Some("2048")), "2G");
        assert_eq!(mem_text(None), "-");
        assert_eq!(kib(Some(2 * 1024 * 1024)), "2.0G");
    }

    #[test]
    fn vm_table_from_pool_document() {
        let pool: nebulair_opennebula::model::VmPool = "<VM_POOL><VM><ID>4</ID><UNAME>oneadmin</UNAME>\
            <GNAME>oneadmin</GNAME><NAME>web</NAME><STATE>3</STATE><LCM_STATE>3</LCM_STATE>\
            <STIME>0</STIME><TEMPLATE><CPU>1</CPU><MEMORY>1024</MEMORY></TEMPLATE>\
            <HISTORY_RECORDS><HISTORY><HOSTNAME>node-1</HOSTNAME></HISTORY></HISTORY_RECORDS></VM></VM_POOL>"
            .parse()
            .expect("pool");
        let text = vm_table(&pool.vm);
        let row = text.lines().nth(1).expect("row");
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "4", "oneadmin", "oneadmin", "web", "runn", "1", "1G", "node-1", "-"
            ]
        );
        let mut doc = crate::output::to_doc(&pool.vm).expect("doc");
        name_states(&mut doc, VM_STATES);
        let json = serde_json::to_string(&doc).expect("json");
        assert!(
            json.contains(
                r#""state":3,"state_name":"ACTIVE","lcm_state":3,"lcm_state_name":"RUNNING""#
            ),
            "{json}"
        );
    }
}
