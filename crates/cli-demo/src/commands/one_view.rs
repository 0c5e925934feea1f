//! How OpenNebula resources look in tables (the columns of the `one*` tools).

use nebulair_opennebula::model::{
    Host, Image, LcmState, VmPoolVm, VmState, VmTemplate, VnetPoolVnet,
};
use nebulair_opennebula::template::Template;

use crate::output::Table;

/// The state column of `onevm list`: the LCM state for ACTIVE VMs, the main state
/// otherwise.
pub(crate) fn vm_state(state: Option<i64>, lcm: Option<i64>) -> String {
    match state.map(VmState::from_code) {
        Some(VmState::Active) => lcm
            .map(|l| LcmState::from_code(l).to_string())
            .unwrap_or_else(|| "ACTIVE".to_owned()),
        Some(s) => s.to_string(),
        None => "-".to_owned(),
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

/// `onevm list` columns.
pub(crate) fn vm_table(vms: &[VmPoolVm]) -> String {
    let mut t = Table::new(["ID", "USER", "GROUP", "NAME", "STAT", "CPU", "MEM", "HOST"]);
    for vm in vms {
        t.row([
            vm.id.to_string(),
            opt(&vm.uname),
            opt(&vm.gname),
            opt(&vm.name),
            vm_state(vm.state, vm.lcm_state),
            tpl(&vm.template, "CPU"),
            mem_text(vm.template.get_str("MEMORY")),
            vm_host(vm),
        ]);
    }
    t.render()
}

fn mem_text(mb: Option<&str>) -> String {
    match mb.and_then(|m| m.parse::<u64>().ok()) {
        Some(m) if m >= 1024 && m % 1024 == 0 => format!("{}G", m / 1024),
        Some(m) => format!("{m}M"),
        None => "-".to_owned(),
    }
}

/// `onehost list` columns.
pub(crate) fn host_table(hosts: &[Host]) -> String {
    let mut t = Table::new([
        "ID",
        "NAME",
        "CLUSTER",
        "RVM",
        "ALLOCATED_CPU",
        "ALLOCATED_MEM",
        "STAT",
    ]);
    for h in hosts {
        let share = h.host_share.as_ref();
        let cpu = share
            .map(|s| format!("{} / {}", opt(&s.cpu_usage), opt(&s.max_cpu)))
            .unwrap_or_else(|| "-".to_owned());
        let mem = share
            .map(|s| format!("{} / {}", kib(s.mem_usage), kib(s.max_mem)))
            .unwrap_or_else(|| "-".to_owned());
        t.row([
            h.id.to_string(),
            opt(&h.name),
            opt(&h.cluster),
            share
                .map(|s| opt(&s.running_vms))
                .unwrap_or_else(|| "-".to_owned()),
            cpu,
            mem,
            opt(&h.state()),
        ]);
    }
    t.render()
}

fn kib(v: Option<i64>) -> String {
    match v {
        Some(k) if k >= 1024 * 1024 => format!("{:.1}G", k as f64 / (1024.0 * 1024.0)),
        Some(k) if k >= 1024 => format!("{:.1}M", k as f64 / 1024.0),
        Some(k) => format!("{k}K"),
        None => "-".to_owned(),
    }
}

/// `onetemplate list` columns.
pub(crate) fn template_table(tpls: &[VmTemplate]) -> String {
    let mut t = Table::new(["ID", "USER", "GROUP", "NAME", "CPU", "MEMORY"]);
    for v in tpls {
        t.row([
            v.id.to_string(),
            opt(&v.uname),
            opt(&v.gname),
            opt(&v.name),
            tpl(&v.template, "CPU"),
            mem_text(v.template.get_str("MEMORY")),
        ]);
    }
    t.render()
}

/// `oneimage list` columns.
pub(crate) fn image_table(images: &[Image]) -> String {
    let mut t = Table::new([
        "ID",
        "USER",
        "GROUP",
        "NAME",
        "DATASTORE",
        "SIZE",
        "TYPE",
        "PER",
        "STAT",
        "RVMS",
    ]);
    for i in images {
        t.row([
            i.id.to_string(),
            opt(&i.uname),
            opt(&i.gname),
            opt(&i.name),
            opt(&i.datastore),
            i.size
                .map(|s| format!("{s}M"))
                .unwrap_or_else(|| "-".to_owned()),
            opt(&i.image_type()),
            match i.persistent {
                Some(1) => "Yes".to_owned(),
                Some(_) => "No".to_owned(),
                None => "-".to_owned(),
            },
            opt(&i.state()),
            opt(&i.running_vms),
        ]);
    }
    t.render()
}

/// `onevnet list` columns.
pub(crate) fn vnet_table(vnets: &[VnetPoolVnet]) -> String {
    let mut t = Table::new([
        "ID", "USER", "GROUP", "NAME", "CLUSTERS", "BRIDGE", "LEASES",
    ]);
    for n in vnets {
        let clusters: Vec<String> = n.clusters.iter().map(ToString::to_string).collect();
        t.row([
            n.id.to_string(),
            opt(&n.uname),
            opt(&n.gname),
            opt(&n.name),
            if clusters.is_empty() {
                "-".to_owned()
            } else {
                clusters.join(",")
            },
            opt(&n.bridge),
            opt(&n.used_leases),
        ]);
    }
    t.render()
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
            <TEMPLATE><CPU>1</CPU><MEMORY>1024</MEMORY></TEMPLATE>\
            <HISTORY_RECORDS><HISTORY><HOSTNAME>node-1</HOSTNAME></HISTORY></HISTORY_RECORDS></VM></VM_POOL>"
            .parse()
            .expect("pool");
        let text = vm_table(&pool.vm);
        let row = text.lines().nth(1).expect("row");
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "4", "oneadmin", "oneadmin", "web", "RUNNING", "1", "1G", "node-1"
            ]
        );
    }
}
