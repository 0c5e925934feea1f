//! The dispatch table: every method of oned's catalogue (`api-methods.tsv`, in its order)
//! and the handler that serves it. A test checks that the table and the catalogue list the
//! same methods in the same order, so a method is added by writing its handler in the
//! family's module under [`super::handlers`] and replacing its `MISSING` row here.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::handlers::Handler::{self, Read as R, Write as W};
use super::handlers::{
    acl, backupjob, cluster, federation, group, hook, host, market, misc, objects, quota, showback,
    system, user, vdc, vm, vm_ops, zone,
};

/// Every method of the catalogue and its handler (`None`: not implemented).
pub(crate) const TABLE: &[(&str, Option<Handler>)] = &[
    ("one.acl.addrule", Some(W(acl::write))),
    ("one.acl.delrule", Some(W(acl::write))),
    ("one.acl.info", Some(R(acl::read))),
    ("one.host.allocate", Some(W(host::write))),
    ("one.host.delete", Some(W(host::write))),
    ("one.host.info", Some(R(host::read))),
    ("one.host.update", Some(W(host::write))),
    ("one.host.rename", Some(W(host::write))),
    ("one.host.status", Some(W(host::write))),
    ("one.host.monitoring", Some(R(host::read))),
    ("one.hostpool.info", Some(R(host::read))),
    ("one.hostpool.monitoring", Some(R(host::read))),
    ("one.cluster.allocate", Some(W(cluster::write))),
    ("one.cluster.delete", Some(W(cluster::write))),
    ("one.cluster.info", Some(R(cluster::read))),
    ("one.cluster.update", Some(W(cluster::write))),
    ("one.cluster.rename", Some(W(cluster::write))),
    ("one.cluster.addhost", Some(W(cluster::write))),
    ("one.cluster.delhost", Some(W(cluster::write))),
    ("one.cluster.adddatastore", Some(W(cluster::write))),
    ("one.cluster.deldatastore", Some(W(cluster::write))),
    ("one.cluster.addvnet", Some(W(cluster::write))),
    ("one.cluster.delvnet", Some(W(cluster::write))),
    ("one.cluster.optimize", Some(W(misc::cluster_plan))),
    ("one.cluster.planexecute", Some(W(misc::cluster_plan))),
    ("one.cluster.plandelete", Some(W(misc::cluster_plan))),
    ("one.clusterpool.info", Some(R(cluster::read))),
    ("one.template.allocate", Some(W(objects::write))),
    ("one.template.delete", Some(W(objects::write))),
    ("one.template.info", Some(R(objects::read))),
    ("one.template.update", Some(W(objects::write))),
    ("one.template.rename", Some(W(objects::write))),
    ("one.template.chmod", Some(W(objects::write))),
    ("one.template.chown", Some(W(objects::write))),
    ("one.template.lock", Some(W(objects::write))),
    ("one.template.unlock", Some(W(objects::write))),
    ("one.template.clone", Some(W(objects::write))),
    ("one.template.instantiate", Some(W(objects::write))),
    ("one.templatepool.info", Some(R(objects::read))),
    ("one.vntemplate.allocate", Some(W(objects::write))),
    ("one.vntemplate.delete", Some(W(objects::write))),
    ("one.vntemplate.info", Some(R(objects::read))),
    ("one.vntemplate.update", Some(W(objects::write))),
    ("one.vntemplate.rename", Some(W(objects::write))),
    ("one.vntemplate.chmod", Some(W(objects::write))),
    ("one.vntemplate.chown", Some(W(objects::write))),
    ("one.vntemplate.lock", Some(W(objects::write))),
    ("one.vntemplate.unlock", Some(W(objects::write))),
    ("one.vntemplate.clone", Some(W(objects::write))),
    ("one.vntemplate.instantiate", Some(W(objects::write))),
    ("one.vntemplatepool.info", Some(R(objects::read))),
    ("one.vm.allocate", Some(W(vm::write_call))),
    ("one.vm.info", Some(R(objects::read))),
    ("one.vm.update", Some(W(vm::write_call))),
    ("one.vm.rename", Some(W(vm::write_call))),
    ("one.vm.chmod", Some(W(vm::write_call))),
    ("one.vm.chown", Some(W(vm::write_call))),
    ("one.vm.lock", Some(W(vm::write_call))),
    ("one.vm.unlock", Some(W(vm::write_call))),
    ("one.vm.deploy", Some(W(vm::write_call))),
    ("one.vm.action", Some(W(vm::write_call))),
    ("one.vm.migrate", Some(W(vm::write_call))),
    ("one.vm.disksaveas", Some(W(vm_ops::write))),
    ("one.vm.disksnapshotcreate", Some(W(vm::write_call))),
    ("one.vm.disksnapshotdelete", Some(W(vm::write_call))),
    ("one.vm.disksnapshotrevert", Some(W(vm::write_call))),
    ("one.vm.disksnapshotrename", Some(W(vm::write_call))),
    ("one.vm.attach", Some(W(vm::write_call))),
    ("one.vm.detach", Some(W(vm::write_call))),
    ("one.vm.diskresize", Some(W(vm::write_call))),
    ("one.vm.attachnic", Some(W(vm::write_call))),
    ("one.vm.detachnic", Some(W(vm::write_call))),
    ("one.vm.updatenic", Some(W(vm_ops::write))),
    ("one.vm.attachsg", Some(W(vm_ops::write))),
    ("one.vm.detachsg", Some(W(vm_ops::write))),
    ("one.vm.snapshotcreate", Some(W(vm::write_call))),
    ("one.vm.snapshotdelete", Some(W(vm::write_call))),
    ("one.vm.snapshotrevert", Some(W(vm::write_call))),
    ("one.vm.resize", Some(W(vm::write_call))),
    ("one.vm.updateconf", Some(W(vm::write_call))),
    ("one.vm.recover", Some(W(vm::write_call))),
    ("one.vm.monitoring", Some(R(vm::read))),
    ("one.vm.schedadd", Some(W(vm_ops::write))),
    ("one.vm.schedupdate", Some(W(vm_ops::write))),
    ("one.vm.scheddelete", Some(W(vm_ops::write))),
    ("one.vm.backup", Some(W(vm_ops::write))),
    ("one.vm.backupcancel", Some(W(vm_ops::write))),
    ("one.vm.restore", Some(W(vm_ops::write))),
    ("one.vm.attachpci", Some(W(vm_ops::write))),
    ("one.vm.detachpci", Some(W(vm_ops::write))),
    ("one.vm.exec", Some(W(vm_ops::write))),
    ("one.vm.retryexec", Some(W(vm_ops::write))),
    ("one.vm.cancelexec", Some(W(vm_ops::write))),
    ("one.vm.vmgroupadd", Some(W(vm_ops::write))),
    ("one.vm.vmgroupdel", Some(W(vm_ops::write))),
    ("one.vmpool.info", Some(R(vm::read))),
    ("one.vmpool.infoextended", Some(R(vm::read))),
    ("one.vmpool.infoset", Some(R(vm::read))),
    ("one.vmpool.accounting", Some(R(showback::read))),
    ("one.vmpool.monitoring", Some(R(vm::read))),
    ("one.vmpool.showback", Some(R(showback::read))),
    ("one.vmpool.calculateshowback", Some(W(showback::calculate))),
    ("one.vn.allocate", Some(W(objects::write))),
    ("one.vn.delete", Some(W(objects::write))),
    ("one.vn.info", Some(R(objects::read))),
    ("one.vn.update", Some(W(objects::write))),
    ("one.vn.rename", Some(W(objects::write))),
    ("one.vn.chmod", Some(W(objects::write))),
    ("one.vn.chown", Some(W(objects::write))),
    ("one.vn.lock", Some(W(objects::write))),
    ("one.vn.unlock", Some(W(objects::write))),
    ("one.vn.add_ar", Some(W(objects::write))),
    ("one.vn.rm_ar", Some(W(objects::write))),
    ("one.vn.update_ar", Some(W(misc::vnet))),
    ("one.vn.reserve", Some(W(misc::vnet))),
    ("one.vn.free_ar", Some(W(misc::vnet))),
    ("one.vn.hold", Some(W(objects::write))),
    ("one.vn.release", Some(W(objects::write))),
    ("one.vn.recover", Some(W(misc::vnet))),
    ("one.vnpool.info", Some(R(objects::read))),
    ("one.image.allocate", Some(W(objects::write))),
    ("one.image.delete", Some(W(objects::write))),
    ("one.image.info", Some(R(objects::read))),
    ("one.image.update", Some(W(objects::write))),
    ("one.image.rename", Some(W(objects::write))),
    ("one.image.chmod", Some(W(objects::write))),
    ("one.image.chown", Some(W(objects::write))),
    ("one.image.lock", Some(W(objects::write))),
    ("one.image.unlock", Some(W(objects::write))),
    ("one.image.clone", Some(W(objects::write))),
    ("one.image.enable", Some(W(objects::write))),
    ("one.image.persistent", Some(W(objects::write))),
    ("one.image.chtype", Some(W(misc::image))),
    ("one.image.snapshotdelete", Some(W(misc::image))),
    ("one.image.snapshotrevert", Some(W(misc::image))),
    ("one.image.snapshotflatten", Some(W(misc::image))),
    ("one.image.restore", Some(W(vm_ops::image_restore))),
    ("one.imagepool.info", Some(R(objects::read))),
    ("one.datastore.allocate", Some(W(objects::write))),
    ("one.datastore.delete", Some(W(objects::write))),
    ("one.datastore.info", Some(R(objects::read))),
    ("one.datastore.update", Some(W(objects::write))),
    ("one.datastore.rename", Some(W(objects::write))),
    ("one.datastore.chown", Some(W(objects::write))),
    ("one.datastore.chmod", Some(W(objects::write))),
    ("one.datastore.enable", Some(W(objects::write))),
    ("one.datastorepool.info", Some(R(objects::read))),
    ("one.group.allocate", Some(W(group::write))),
    ("one.group.delete", Some(W(group::write))),
    ("one.group.info", Some(R(group::read))),
    ("one.group.quota", Some(W(group::write))),
    ("one.group.vlan", Some(W(misc::group_vlan))),
    ("one.group.update", Some(W(group::write))),
    ("one.group.addadmin", Some(W(group::write))),
    ("one.group.deladmin", Some(W(group::write))),
    ("one.grouppool.info", Some(R(group::read))),
    ("one.groupquota.info", Some(R(quota::read))),
    ("one.groupquota.update", Some(W(quota::write))),
    ("one.user.allocate", Some(W(user::write))),
    ("one.user.update", Some(W(user::write))),
    ("one.user.delete", Some(W(user::write))),
    ("one.user.info", Some(R(user::read))),
    ("one.user.passwd", Some(W(user::write))),
    ("one.user.chgrp", Some(W(user::write))),
    ("one.user.addgroup", Some(W(user::write))),
    ("one.user.delgroup", Some(W(user::write))),
    ("one.user.chauth", Some(W(user::write))),
    ("one.user.quota", Some(W(user::write))),
    ("one.user.login", Some(W(user::write))),
    ("one.user.enable", Some(W(user::write))),
    ("one.userpool.info", Some(R(user::read))),
    ("one.userquota.info", Some(R(quota::read))),
    ("one.userquota.update", Some(W(quota::write))),
    ("one.document.allocate", Some(W(objects::write))),
    ("one.document.delete", Some(W(objects::write))),
    ("one.document.info", Some(R(objects::read))),
    ("one.document.update", Some(W(objects::write))),
    ("one.document.chown", Some(W(objects::write))),
    ("one.document.chmod", Some(W(objects::write))),
    ("one.document.clone", Some(W(objects::write))),
    ("one.document.rename", Some(W(objects::write))),
    ("one.document.lock", Some(W(objects::write))),
    ("one.document.unlock", Some(W(objects::write))),
    ("one.documentpool.info", Some(R(objects::read))),
    ("one.zone.updatedb", Some(W(federation::zone_write))),
    ("one.zone.allocate", Some(W(federation::zone_write))),
    ("one.zone.update", Some(W(zone::write))),
    ("one.zone.delete", Some(W(federation::zone_write))),
    ("one.zone.info", Some(R(zone::read))),
    ("one.zone.rename", Some(W(zone::write))),
    ("one.zone.enable", Some(W(federation::zone_write))),
    ("one.zone.replicate", Some(W(federation::zone_write))),
    ("one.zone.fedreplicate", Some(W(federation::zone_write))),
    ("one.zone.voterequest", Some(W(federation::zone_write))),
    ("one.zone.raftstatus", Some(R(federation::raft_status))),
    ("one.zone.addserver", Some(W(federation::zone_write))),
    ("one.zone.delserver", Some(W(federation::zone_write))),
    ("one.zone.resetserver", Some(W(federation::zone_write))),
    ("one.zonepool.info", Some(R(zone::read))),
    ("one.secgroup.allocate", Some(W(objects::write))),
    ("one.secgroup.delete", Some(W(objects::write))),
    ("one.secgroup.info", Some(R(objects::read))),
    ("one.secgroup.update", Some(W(objects::write))),
    ("one.secgroup.chown", Some(W(objects::write))),
    ("one.secgroup.chmod", Some(W(objects::write))),
    ("one.secgroup.clone", Some(W(objects::write))),
    ("one.secgroup.rename", Some(W(objects::write))),
    ("one.secgroup.commit", Some(W(misc::secgroup_commit))),
    ("one.secgrouppool.info", Some(R(objects::read))),
    ("one.vmgroup.allocate", Some(W(objects::write))),
    ("one.vmgroup.delete", Some(W(objects::write))),
    ("one.vmgroup.info", Some(R(objects::read))),
    ("one.vmgroup.chown", Some(W(objects::write))),
    ("one.vmgroup.chmod", Some(W(objects::write))),
    ("one.vmgroup.rename", Some(W(objects::write))),
    ("one.vmgroup.update", Some(W(objects::write))),
    ("one.vmgroup.lock", Some(W(objects::write))),
    ("one.vmgroup.unlock", Some(W(objects::write))),
    ("one.vmgroup.roleadd", Some(W(misc::vmgroup_role))),
    ("one.vmgroup.roledelete", Some(W(misc::vmgroup_role))),
    ("one.vmgroup.roleupdate", Some(W(misc::vmgroup_role))),
    ("one.vmgrouppool.info", Some(R(objects::read))),
    ("one.vdc.allocate", Some(W(vdc::write_call))),
    ("one.vdc.update", Some(W(vdc::write_call))),
    ("one.vdc.delete", Some(W(vdc::write_call))),
    ("one.vdc.addgroup", Some(W(vdc::write_call))),
    ("one.vdc.delgroup", Some(W(vdc::write_call))),
    ("one.vdc.addcluster", Some(W(vdc::write_call))),
    ("one.vdc.delcluster", Some(W(vdc::write_call))),
    ("one.vdc.addhost", Some(W(vdc::write_call))),
    ("one.vdc.delhost", Some(W(vdc::write_call))),
    ("one.vdc.adddatastore", Some(W(vdc::write_call))),
    ("one.vdc.deldatastore", Some(W(vdc::write_call))),
    ("one.vdc.addvnet", Some(W(vdc::write_call))),
    ("one.vdc.delvnet", Some(W(vdc::write_call))),
    ("one.vdc.info", Some(R(vdc::read_call))),
    ("one.vdc.rename", Some(W(vdc::write_call))),
    ("one.vdcpool.info", Some(R(vdc::read_call))),
    ("one.vrouter.update", Some(W(objects::write))),
    ("one.vrouter.allocate", Some(W(objects::write))),
    ("one.vrouter.delete", Some(W(objects::write))),
    ("one.vrouter.info", Some(R(objects::read))),
    ("one.vrouter.chown", Some(W(objects::write))),
    ("one.vrouter.chmod", Some(W(objects::write))),
    ("one.vrouter.rename", Some(W(objects::write))),
    ("one.vrouter.instantiate", Some(W(objects::write))),
    ("one.vrouter.attachnic", Some(W(objects::write))),
    ("one.vrouter.detachnic", Some(W(objects::write))),
    ("one.vrouter.lock", Some(W(objects::write))),
    ("one.vrouter.unlock", Some(W(objects::write))),
    ("one.vrouterpool.info", Some(R(objects::read))),
    ("one.market.updatedb", Some(W(market::market_write))),
    ("one.market.allocatedb", Some(W(market::market_write))),
    ("one.market.allocate", Some(W(market::market_write))),
    ("one.market.update", Some(W(market::market_write))),
    ("one.market.delete", Some(W(market::market_write))),
    ("one.market.chmod", Some(W(market::market_write))),
    ("one.market.chown", Some(W(market::market_write))),
    ("one.market.info", Some(R(objects::read))),
    ("one.market.rename", Some(W(market::market_write))),
    ("one.market.enable", Some(W(market::market_write))),
    ("one.marketpool.info", Some(R(objects::read))),
    ("one.marketapp.updatedb", Some(W(market::app_write))),
    ("one.marketapp.dropdb", Some(W(market::app_write))),
    ("one.marketapp.allocatedb", Some(W(market::app_write))),
    ("one.marketapp.allocate", Some(W(market::app_write))),
    ("one.marketapp.delete", Some(W(market::app_write))),
    ("one.marketapp.info", Some(R(objects::read))),
    ("one.marketapp.update", Some(W(market::app_write))),
    ("one.marketapp.rename", Some(W(market::app_write))),
    ("one.marketapp.chmod", Some(W(market::app_write))),
    ("one.marketapp.chown", Some(W(market::app_write))),
    ("one.marketapp.enable", Some(W(market::app_write))),
    ("one.marketapp.lock", Some(W(market::app_write))),
    ("one.marketapp.unlock", Some(W(market::app_write))),
    ("one.marketapppool.info", Some(R(objects::read))),
    ("one.hook.allocate", Some(W(hook::write))),
    ("one.hook.delete", Some(W(hook::write))),
    ("one.hook.update", Some(W(hook::write))),
    ("one.hook.rename", Some(W(hook::write))),
    ("one.hook.info", Some(R(objects::read))),
    ("one.hook.lock", Some(W(hook::write))),
    ("one.hook.unlock", Some(W(hook::write))),
    ("one.hook.retry", Some(W(hook::write))),
    ("one.hookpool.info", Some(R(objects::read))),
    ("one.hooklog.info", Some(R(hook::log_read))),
    ("one.backupjob.allocate", Some(W(backupjob::write))),
    ("one.backupjob.delete", Some(W(backupjob::write))),
    ("one.backupjob.update", Some(W(backupjob::write))),
    ("one.backupjob.rename", Some(W(backupjob::write))),
    ("one.backupjob.info", Some(R(objects::read))),
    ("one.backupjob.chown", Some(W(backupjob::write))),
    ("one.backupjob.chmod", Some(W(backupjob::write))),
    ("one.backupjob.lock", Some(W(backupjob::write))),
    ("one.backupjob.unlock", Some(W(backupjob::write))),
    ("one.backupjob.backup", Some(W(backupjob::write))),
    ("one.backupjob.cancel", Some(W(backupjob::write))),
    ("one.backupjob.retry", Some(W(backupjob::write))),
    ("one.backupjob.priority", Some(W(backupjob::write))),
    ("one.backupjob.schedadd", Some(W(backupjob::write))),
    ("one.backupjob.scheddelete", Some(W(backupjob::write))),
    ("one.backupjob.schedupdate", Some(W(backupjob::write))),
    ("one.backupjobpool.info", Some(R(objects::read))),
    ("one.system.version", Some(R(system::read))),
    ("one.system.config", Some(R(system::read))),
    ("one.system.sql", Some(W(federation::sql))),
    ("one.system.sqlquery", Some(R(federation::sql_query))),
];

/// The handler of `method`: `None` for an unknown method, `Some(None)` for a catalogued
/// method that is not implemented.
pub(crate) fn lookup(method: &str) -> Option<Option<Handler>> {
    static MAP: OnceLock<HashMap<&'static str, Option<Handler>>> = OnceLock::new();
    MAP.get_or_init(|| TABLE.iter().copied().collect())
        .get(method)
        .copied()
}

const fn count_implemented() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < TABLE.len() {
        if TABLE[i].1.is_some() {
            n += 1;
        }
        i += 1;
    }
    n
}

const IMPLEMENTED_COUNT: usize = count_implemented();

const fn implemented_array() -> [&'static str; IMPLEMENTED_COUNT] {
    let mut out = [""; IMPLEMENTED_COUNT];
    let mut n = 0;
    let mut i = 0;
    while i < TABLE.len() {
        if TABLE[i].1.is_some() {
            out[n] = TABLE[i].0;
            n += 1;
        }
        i += 1;
    }
    out
}

/// The implemented methods, in catalogue order (computed from [`TABLE`] at compile time).
pub(crate) const IMPLEMENTED: &[&str] = &implemented_array();

#[cfg(test)]
mod tests {
    use super::*;

    /// The table lists exactly the catalogue's methods, in its order, each once.
    #[test]
    fn table_equals_the_catalogue() {
        let names: Vec<&str> = super::super::methods::CATALOGUE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("method\t") && !l.trim().is_empty())
            .filter_map(|l| l.split('\t').next())
            .collect();
        let table: Vec<&str> = TABLE.iter().map(|(m, _)| *m).collect();
        assert_eq!(names.len(), 307);
        assert_eq!(table, names);
        let unique: std::collections::BTreeSet<&str> = table.iter().copied().collect();
        assert_eq!(unique.len(), table.len());
    }

    /// Read handlers only serve reading methods.
    #[test]
    fn read_handlers_only_read() {
        for (m, h) in TABLE {
            if let Some(Handler::Read(_)) = h {
                let op = m.rsplit('.').next().unwrap_or("");
                assert!(
                    matches!(
                        op,
                        "info"
                            | "infoextended"
                            | "infoset"
                            | "monitoring"
                            | "version"
                            | "config"
                            | "raftstatus"
                            | "sqlquery"
                            | "accounting"
                            | "showback"
                    ),
                    "{m}"
                );
            }
        }
    }
}
