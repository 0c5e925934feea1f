//! The dispatch table: every method of oned's catalogue (`api-methods.tsv`, in its order)
//! and the handler that serves it. A test checks that the table and the catalogue list the
//! same methods in the same order, so a method is added by writing its handler in the
//! family's module under [`super::handlers`] and adding its row here.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::handlers::Handler::{self, Read as R, Write as W};
use super::handlers::{
    acl, backupjob, cluster, federation, group, hook, host, market, misc, objects, quota, showback,
    system, user, vdc, vm, vm_ops, zone,
};

/// Every method of the catalogue and its handler.
pub(crate) const TABLE: &[(&str, Handler)] = &[
    ("one.acl.addrule", W(acl::write)),
    ("one.acl.delrule", W(acl::write)),
    ("one.acl.info", R(acl::read)),
    ("one.host.allocate", W(host::write)),
    ("one.host.delete", W(host::write)),
    ("one.host.info", R(host::read)),
    ("one.host.update", W(host::write)),
    ("one.host.rename", W(host::write)),
    ("one.host.status", W(host::write)),
    ("one.host.monitoring", R(host::read)),
    ("one.hostpool.info", R(host::read)),
    ("one.hostpool.monitoring", R(host::read)),
    ("one.cluster.allocate", W(cluster::write)),
    ("one.cluster.delete", W(cluster::write)),
    ("one.cluster.info", R(cluster::read)),
    ("one.cluster.update", W(cluster::write)),
    ("one.cluster.rename", W(cluster::write)),
    ("one.cluster.addhost", W(cluster::write)),
    ("one.cluster.delhost", W(cluster::write)),
    ("one.cluster.adddatastore", W(cluster::write)),
    ("one.cluster.deldatastore", W(cluster::write)),
    ("one.cluster.addvnet", W(cluster::write)),
    ("one.cluster.delvnet", W(cluster::write)),
    ("one.cluster.optimize", W(misc::cluster_plan)),
    ("one.cluster.planexecute", W(misc::cluster_plan)),
    ("one.cluster.plandelete", W(misc::cluster_plan)),
    ("one.clusterpool.info", R(cluster::read)),
    ("one.template.allocate", W(objects::write)),
    ("one.template.delete", W(objects::write)),
    ("one.template.info", R(objects::read)),
    ("one.template.update", W(objects::write)),
    ("one.template.rename", W(objects::write)),
    ("one.template.chmod", W(objects::write)),
    ("one.template.chown", W(objects::write)),
    ("one.template.lock", W(objects::write)),
    ("one.template.unlock", W(objects::write)),
    ("one.template.clone", W(objects::write)),
    ("one.template.instantiate", W(objects::write)),
    ("one.templatepool.info", R(objects::read)),
    ("one.vntemplate.allocate", W(objects::write)),
    ("one.vntemplate.delete", W(objects::write)),
    ("one.vntemplate.info", R(objects::read)),
    ("one.vntemplate.update", W(objects::write)),
    ("one.vntemplate.rename", W(objects::write)),
    ("one.vntemplate.chmod", W(objects::write)),
    ("one.vntemplate.chown", W(objects::write)),
    ("one.vntemplate.lock", W(objects::write)),
    ("one.vntemplate.unlock", W(objects::write)),
    ("one.vntemplate.clone", W(objects::write)),
    ("one.vntemplate.instantiate", W(objects::write)),
    ("one.vntemplatepool.info", R(objects::read)),
    ("one.vm.allocate", W(vm::write_call)),
    ("one.vm.info", R(objects::read)),
    ("one.vm.update", W(vm::write_call)),
    ("one.vm.rename", W(vm::write_call)),
    ("one.vm.chmod", W(vm::write_call)),
    ("one.vm.chown", W(vm::write_call)),
    ("one.vm.lock", W(vm::write_call)),
    ("one.vm.unlock", W(vm::write_call)),
    ("one.vm.deploy", W(vm::write_call)),
    ("one.vm.action", W(vm::write_call)),
    ("one.vm.migrate", W(vm::write_call)),
    ("one.vm.disksaveas", W(vm_ops::write)),
    ("one.vm.disksnapshotcreate", W(vm::write_call)),
    ("one.vm.disksnapshotdelete", W(vm::write_call)),
    ("one.vm.disksnapshotrevert", W(vm::write_call)),
    ("one.vm.disksnapshotrename", W(vm::write_call)),
    ("one.vm.attach", W(vm::write_call)),
    ("one.vm.detach", W(vm::write_call)),
    ("one.vm.diskresize", W(vm::write_call)),
    ("one.vm.attachnic", W(vm::write_call)),
    ("one.vm.detachnic", W(vm::write_call)),
    ("one.vm.updatenic", W(vm_ops::write)),
    ("one.vm.attachsg", W(vm_ops::write)),
    ("one.vm.detachsg", W(vm_ops::write)),
    ("one.vm.snapshotcreate", W(vm::write_call)),
    ("one.vm.snapshotdelete", W(vm::write_call)),
    ("one.vm.snapshotrevert", W(vm::write_call)),
    ("one.vm.resize", W(vm::write_call)),
    ("one.vm.updateconf", W(vm::write_call)),
    ("one.vm.recover", W(vm::write_call)),
    ("one.vm.monitoring", R(vm::read)),
    ("one.vm.schedadd", W(vm_ops::write)),
    ("one.vm.schedupdate", W(vm_ops::write)),
    ("one.vm.scheddelete", W(vm_ops::write)),
    ("one.vm.backup", W(vm_ops::write)),
    ("one.vm.backupcancel", W(vm_ops::write)),
    ("one.vm.restore", W(vm_ops::write)),
    ("one.vm.attachpci", W(vm_ops::write)),
    ("one.vm.detachpci", W(vm_ops::write)),
    ("one.vm.exec", W(vm_ops::write)),
    ("one.vm.retryexec", W(vm_ops::write)),
    ("one.vm.cancelexec", W(vm_ops::write)),
    ("one.vm.vmgroupadd", W(vm_ops::write)),
    ("one.vm.vmgroupdel", W(vm_ops::write)),
    ("one.vmpool.info", R(vm::read)),
    ("one.vmpool.infoextended", R(vm::read)),
    ("one.vmpool.infoset", R(vm::read)),
    ("one.vmpool.accounting", R(showback::read)),
    ("one.vmpool.monitoring", R(vm::read)),
    ("one.vmpool.showback", R(showback::read)),
    ("one.vmpool.calculateshowback", W(showback::calculate)),
    ("one.vn.allocate", W(objects::write)),
    ("one.vn.delete", W(objects::write)),
    ("one.vn.info", R(objects::read)),
    ("one.vn.update", W(objects::write)),
    ("one.vn.rename", W(objects::write)),
    ("one.vn.chmod", W(objects::write)),
    ("one.vn.chown", W(objects::write)),
    ("one.vn.lock", W(objects::write)),
    ("one.vn.unlock", W(objects::write)),
    ("one.vn.add_ar", W(objects::write)),
    ("one.vn.rm_ar", W(objects::write)),
    ("one.vn.update_ar", W(misc::vnet)),
    ("one.vn.reserve", W(misc::vnet)),
    ("one.vn.free_ar", W(misc::vnet)),
    ("one.vn.hold", W(objects::write)),
    ("one.vn.release", W(objects::write)),
    ("one.vn.recover", W(misc::vnet)),
    ("one.vnpool.info", R(objects::read)),
    ("one.image.allocate", W(objects::write)),
    ("one.image.delete", W(objects::write)),
    ("one.image.info", R(objects::read)),
    ("one.image.update", W(objects::write)),
    ("one.image.rename", W(objects::write)),
    ("one.image.chmod", W(objects::write)),
    ("one.image.chown", W(objects::write)),
    ("one.image.lock", W(objects::write)),
    ("one.image.unlock", W(objects::write)),
    ("one.image.clone", W(objects::write)),
    ("one.image.enable", W(objects::write)),
    ("one.image.persistent", W(objects::write)),
    ("one.image.chtype", W(misc::image)),
    ("one.image.snapshotdelete", W(misc::image)),
    ("one.image.snapshotrevert", W(misc::image)),
    ("one.image.snapshotflatten", W(misc::image)),
    ("one.image.restore", W(vm_ops::image_restore)),
    ("one.imagepool.info", R(objects::read)),
    ("one.datastore.allocate", W(objects::write)),
    ("one.datastore.delete", W(objects::write)),
    ("one.datastore.info", R(objects::read)),
    ("one.datastore.update", W(objects::write)),
    ("one.datastore.rename", W(objects::write)),
    ("one.datastore.chown", W(objects::write)),
    ("one.datastore.chmod", W(objects::write)),
    ("one.datastore.enable", W(objects::write)),
    ("one.datastorepool.info", R(objects::read)),
    ("one.group.allocate", W(group::write)),
    ("one.group.delete", W(group::write)),
    ("one.group.info", R(group::read)),
    ("one.group.quota", W(group::write)),
    ("one.group.vlan", W(misc::group_vlan)),
    ("one.group.update", W(group::write)),
    ("one.group.addadmin", W(group::write)),
    ("one.group.deladmin", W(group::write)),
    ("one.grouppool.info", R(group::read)),
    ("one.groupquota.info", R(quota::read)),
    ("one.groupquota.update", W(quota::write)),
    ("one.user.allocate", W(user::write)),
    ("one.user.update", W(user::write)),
    ("one.user.delete", W(user::write)),
    ("one.user.info", R(user::read)),
    ("one.user.passwd", W(user::write)),
    ("one.user.chgrp", W(user::write)),
    ("one.user.addgroup", W(user::write)),
    ("one.user.delgroup", W(user::write)),
    ("one.user.chauth", W(user::write)),
    ("one.user.quota", W(user::write)),
    ("one.user.login", W(user::write)),
    ("one.user.enable", W(user::write)),
    ("one.userpool.info", R(user::read)),
    ("one.userquota.info", R(quota::read)),
    ("one.userquota.update", W(quota::write)),
    ("one.document.allocate", W(objects::write)),
    ("one.document.delete", W(objects::write)),
    ("one.document.info", R(objects::read)),
    ("one.document.update", W(objects::write)),
    ("one.document.chown", W(objects::write)),
    ("one.document.chmod", W(objects::write)),
    ("one.document.clone", W(objects::write)),
    ("one.document.rename", W(objects::write)),
    ("one.document.lock", W(objects::write)),
    ("one.document.unlock", W(objects::write)),
    ("one.documentpool.info", R(objects::read)),
    ("one.zone.updatedb", W(federation::zone_write)),
    ("one.zone.allocate", W(federation::zone_write)),
    ("one.zone.update", W(zone::write)),
    ("one.zone.delete", W(federation::zone_write)),
    ("one.zone.info", R(zone::read)),
    ("one.zone.rename", W(zone::write)),
    ("one.zone.enable", W(federation::zone_write)),
    ("one.zone.replicate", W(federation::zone_write)),
    ("one.zone.fedreplicate", W(federation::zone_write)),
    ("one.zone.voterequest", W(federation::zone_write)),
    ("one.zone.raftstatus", R(federation::raft_status)),
    ("one.zone.addserver", W(federation::zone_write)),
    ("one.zone.delserver", W(federation::zone_write)),
    ("one.zone.resetserver", W(federation::zone_write)),
    ("one.zonepool.info", R(zone::read)),
    ("one.secgroup.allocate", W(objects::write)),
    ("one.secgroup.delete", W(objects::write)),
    ("one.secgroup.info", R(objects::read)),
    ("one.secgroup.update", W(objects::write)),
    ("one.secgroup.chown", W(objects::write)),
    ("one.secgroup.chmod", W(objects::write)),
    ("one.secgroup.clone", W(objects::write)),
    ("one.secgroup.rename", W(objects::write)),
    ("one.secgroup.commit", W(misc::secgroup_commit)),
    ("one.secgrouppool.info", R(objects::read)),
    ("one.vmgroup.allocate", W(objects::write)),
    ("one.vmgroup.delete", W(objects::write)),
    ("one.vmgroup.info", R(objects::read)),
    ("one.vmgroup.chown", W(objects::write)),
    ("one.vmgroup.chmod", W(objects::write)),
    ("one.vmgroup.rename", W(objects::write)),
    ("one.vmgroup.update", W(objects::write)),
    ("one.vmgroup.lock", W(objects::write)),
    ("one.vmgroup.unlock", W(objects::write)),
    ("one.vmgroup.roleadd", W(misc::vmgroup_role)),
    ("one.vmgroup.roledelete", W(misc::vmgroup_role)),
    ("one.vmgroup.roleupdate", W(misc::vmgroup_role)),
    ("one.vmgrouppool.info", R(objects::read)),
    ("one.vdc.allocate", W(vdc::write_call)),
    ("one.vdc.update", W(vdc::write_call)),
    ("one.vdc.delete", W(vdc::write_call)),
    ("one.vdc.addgroup", W(vdc::write_call)),
    ("one.vdc.delgroup", W(vdc::write_call)),
    ("one.vdc.addcluster", W(vdc::write_call)),
    ("one.vdc.delcluster", W(vdc::write_call)),
    ("one.vdc.addhost", W(vdc::write_call)),
    ("one.vdc.delhost", W(vdc::write_call)),
    ("one.vdc.adddatastore", W(vdc::write_call)),
    ("one.vdc.deldatastore", W(vdc::write_call)),
    ("one.vdc.addvnet", W(vdc::write_call)),
    ("one.vdc.delvnet", W(vdc::write_call)),
    ("one.vdc.info", R(vdc::read_call)),
    ("one.vdc.rename", W(vdc::write_call)),
    ("one.vdcpool.info", R(vdc::read_call)),
    ("one.vrouter.update", W(objects::write)),
    ("one.vrouter.allocate", W(objects::write)),
    ("one.vrouter.delete", W(objects::write)),
    ("one.vrouter.info", R(objects::read)),
    ("one.vrouter.chown", W(objects::write)),
    ("one.vrouter.chmod", W(objects::write)),
    ("one.vrouter.rename", W(objects::write)),
    ("one.vrouter.instantiate", W(objects::write)),
    ("one.vrouter.attachnic", W(objects::write)),
    ("one.vrouter.detachnic", W(objects::write)),
    ("one.vrouter.lock", W(objects::write)),
    ("one.vrouter.unlock", W(objects::write)),
    ("one.vrouterpool.info", R(objects::read)),
    ("one.market.updatedb", W(market::market_write)),
    ("one.market.allocatedb", W(market::market_write)),
    ("one.market.allocate", W(market::market_write)),
    ("one.market.update", W(market::market_write)),
    ("one.market.delete", W(market::market_write)),
    ("one.market.chmod", W(market::market_write)),
    ("one.market.chown", W(market::market_write)),
    ("one.market.info", R(objects::read)),
    ("one.market.rename", W(market::market_write)),
    ("one.market.enable", W(market::market_write)),
    ("one.marketpool.info", R(objects::read)),
    ("one.marketapp.updatedb", W(market::app_write)),
    ("one.marketapp.dropdb", W(market::app_write)),
    ("one.marketapp.allocatedb", W(market::app_write)),
    ("one.marketapp.allocate", W(market::app_write)),
    ("one.marketapp.delete", W(market::app_write)),
    ("one.marketapp.info", R(objects::read)),
    ("one.marketapp.update", W(market::app_write)),
    ("one.marketapp.rename", W(market::app_write)),
    ("one.marketapp.chmod", W(market::app_write)),
    ("one.marketapp.chown", W(market::app_write)),
    ("one.marketapp.enable", W(market::app_write)),
    ("one.marketapp.lock", W(market::app_write)),
    ("one.marketapp.unlock", W(market::app_write)),
    ("one.marketapppool.info", R(objects::read)),
    ("one.hook.allocate", W(hook::write)),
    ("one.hook.delete", W(hook::write)),
    ("one.hook.update", W(hook::write)),
    ("one.hook.rename", W(hook::write)),
    ("one.hook.info", R(objects::read)),
    ("one.hook.lock", W(hook::write)),
    ("one.hook.unlock", W(hook::write)),
    ("one.hook.retry", W(hook::write)),
    ("one.hookpool.info", R(objects::read)),
    ("one.hooklog.info", R(hook::log_read)),
    ("one.backupjob.allocate", W(backupjob::write)),
    ("one.backupjob.delete", W(backupjob::write)),
    ("one.backupjob.update", W(backupjob::write)),
    ("one.backupjob.rename", W(backupjob::write)),
    ("one.backupjob.info", R(objects::read)),
    ("one.backupjob.chown", W(backupjob::write)),
    ("one.backupjob.chmod", W(backupjob::write)),
    ("one.backupjob.lock", W(backupjob::write)),
    ("one.backupjob.unlock", W(backupjob::write)),
    ("one.backupjob.backup", W(backupjob::write)),
    ("one.backupjob.cancel", W(backupjob::write)),
    ("one.backupjob.retry", W(backupjob::write)),
    ("one.backupjob.priority", W(backupjob::write)),
    ("one.backupjob.schedadd", W(backupjob::write)),
    ("one.backupjob.scheddelete", W(backupjob::write)),
    ("one.backupjob.schedupdate", W(backupjob::write)),
    ("one.backupjobpool.info", R(objects::read)),
    ("one.system.version", R(system::read)),
    ("one.system.config", R(system::read)),
    ("one.system.sql", W(federation::sql)),
    ("one.system.sqlquery", R(federation::sql_query)),
];

/// The handler of `method`: `None` for a method outside the catalogue.
pub(crate) fn lookup(method: &str) -> Option<Handler> {
    static MAP: OnceLock<HashMap<&'static str, Handler>> = OnceLock::new();
    MAP.get_or_init(|| TABLE.iter().copied().collect())
        .get(method)
        .copied()
}

const fn names() -> [&'static str; TABLE.len()] {
    let mut out = [""; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        out[i] = TABLE[i].0;
        i += 1;
    }
    out
}

/// The implemented methods (all of the catalogue), in catalogue order (computed from
/// [`TABLE`] at compile time).
pub(crate) const IMPLEMENTED: &[&str] = &names();

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
            if let Handler::Read(_) = h {
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
