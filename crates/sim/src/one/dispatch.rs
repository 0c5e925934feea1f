//! The dispatch table: every method of oned's catalogue (`api-methods.tsv`, in its order)
//! and the handler that serves it. A test checks that the table and the catalogue list the
//! same methods in the same order, so a method is added by writing its handler in the
//! family's module under [`super::handlers`] and replacing its `MISSING` row here.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::handlers::Handler::{self, Read as R, Write as W};
use super::handlers::{acl, cluster, group, host, objects, quota, system, user, vdc, vm, zone};

/// A method the simulator does not serve yet (answers RPC_API "not implemented").
const MISSING: Option<Handler> = None;

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
    ("one.cluster.optimize", MISSING),
    ("one.cluster.planexecute", MISSING),
    ("one.cluster.plandelete", MISSING),
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
    ("one.vm.disksaveas", MISSING),
    ("one.vm.disksnapshotcreate", Some(W(vm::write_call))),
    ("one.vm.disksnapshotdelete", Some(W(vm::write_call))),
    ("one.vm.disksnapshotrevert", Some(W(vm::write_call))),
    ("one.vm.disksnapshotrename", Some(W(vm::write_call))),
    ("one.vm.attach", Some(W(vm::write_call))),
    ("one.vm.detach", Some(W(vm::write_call))),
    ("one.vm.diskresize", Some(W(vm::write_call))),
    ("one.vm.attachnic", Some(W(vm::write_call))),
    ("one.vm.detachnic", Some(W(vm::write_call))),
    ("one.vm.updatenic", MISSING),
    ("one.vm.attachsg", MISSING),
    ("one.vm.detachsg", MISSING),
    ("one.vm.snapshotcreate", Some(W(vm::write_call))),
    ("one.vm.snapshotdelete", Some(W(vm::write_call))),
    ("one.vm.snapshotrevert", Some(W(vm::write_call))),
    ("one.vm.resize", Some(W(vm::write_call))),
    ("one.vm.updateconf", Some(W(vm::write_call))),
    ("one.vm.recover", Some(W(vm::write_call))),
    ("one.vm.monitoring", Some(R(vm::read))),
    ("one.vm.schedadd", MISSING),
    ("one.vm.schedupdate", MISSING),
    ("one.vm.scheddelete", MISSING),
    ("one.vm.backup", MISSING),
    ("one.vm.backupcancel", MISSING),
    ("one.vm.restore", MISSING),
    ("one.vm.attachpci", MISSING),
    ("one.vm.detachpci", MISSING),
    ("one.vm.exec", MISSING),
    ("one.vm.retryexec", MISSING),
    ("one.vm.cancelexec", MISSING),
    ("one.vm.vmgroupadd", MISSING),
    ("one.vm.vmgroupdel", MISSING),
    ("one.vmpool.info", Some(R(vm::read))),
    ("one.vmpool.infoextended", Some(R(vm::read))),
    ("one.vmpool.infoset", Some(R(vm::read))),
    ("one.vmpool.accounting", MISSING),
    ("one.vmpool.monitoring", Some(R(vm::read))),
    ("one.vmpool.showback", MISSING),
    ("one.vmpool.calculateshowback", MISSING),
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
    ("one.vn.update_ar", MISSING),
    ("one.vn.reserve", MISSING),
    ("one.vn.free_ar", MISSING),
    ("one.vn.hold", Some(W(objects::write))),
    ("one.vn.release", Some(W(objects::write))),
    ("one.vn.recover", MISSING),
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
    ("one.image.chtype", MISSING),
    ("one.image.snapshotdelete", MISSING),
    ("one.image.snapshotrevert", MISSING),
    ("one.image.snapshotflatten", MISSING),
    ("one.image.restore", MISSING),
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
    ("one.group.vlan", MISSING),
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
    ("one.zone.updatedb", MISSING),
    ("one.zone.allocate", MISSING),
    ("one.zone.update", Some(W(zone::write))),
    ("one.zone.delete", MISSING),
    ("one.zone.info", Some(R(zone::read))),
    ("one.zone.rename", Some(W(zone::write))),
    ("one.zone.enable", MISSING),
    ("one.zone.replicate", MISSING),
    ("one.zone.fedreplicate", MISSING),
    ("one.zone.voterequest", MISSING),
    ("one.zone.raftstatus", MISSING),
    ("one.zone.addserver", MISSING),
    ("one.zone.delserver", MISSING),
    ("one.zone.resetserver", MISSING),
    ("one.zonepool.info", Some(R(zone::read))),
    ("one.secgroup.allocate", Some(W(objects::write))),
    ("one.secgroup.delete", Some(W(objects::write))),
    ("one.secgroup.info", Some(R(objects::read))),
    ("one.secgroup.update", Some(W(objects::write))),
    ("one.secgroup.chown", Some(W(objects::write))),
    ("one.secgroup.chmod", Some(W(objects::write))),
    ("one.secgroup.clone", Some(W(objects::write))),
    ("one.secgroup.rename", Some(W(objects::write))),
    ("one.secgroup.commit", MISSING),
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
    ("one.vmgroup.roleadd", MISSING),
    ("one.vmgroup.roledelete", MISSING),
    ("one.vmgroup.roleupdate", MISSING),
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
    ("one.market.updatedb", MISSING),
    ("one.market.allocatedb", MISSING),
    ("one.market.allocate", MISSING),
    ("one.market.update", MISSING),
    ("one.market.delete", MISSING),
    ("one.market.chmod", MISSING),
    ("one.market.chown", MISSING),
    ("one.market.info", MISSING),
    ("one.market.rename", MISSING),
    ("one.market.enable", MISSING),
    ("one.marketpool.info", MISSING),
    ("one.marketapp.updatedb", MISSING),
    ("one.marketapp.dropdb", MISSING),
    ("one.marketapp.allocatedb", MISSING),
    ("one.marketapp.allocate", MISSING),
    ("one.marketapp.delete", MISSING),
    ("one.marketapp.info", MISSING),
    ("one.marketapp.update", MISSING),
    ("one.marketapp.rename", MISSING),
    ("one.marketapp.chmod", MISSING),
    ("one.marketapp.chown", MISSING),
    ("one.marketapp.enable", MISSING),
    ("one.marketapp.lock", MISSING),
    ("one.marketapp.unlock", MISSING),
    ("one.marketapppool.info", MISSING),
    ("one.hook.allocate", MISSING),
    ("one.hook.delete", MISSING),
    ("one.hook.update", MISSING),
    ("one.hook.rename", MISSING),
    ("one.hook.info", MISSING),
    ("one.hook.lock", MISSING),
    ("one.hook.unlock", MISSING),
    ("one.hook.retry", MISSING),
    ("one.hookpool.info", MISSING),
    ("one.hooklog.info", MISSING),
    ("one.backupjob.allocate", MISSING),
    ("one.backupjob.delete", MISSING),
    ("one.backupjob.update", MISSING),
    ("one.backupjob.rename", MISSING),
    ("one.backupjob.info", MISSING),
    ("one.backupjob.chown", MISSING),
    ("one.backupjob.chmod", MISSING),
    ("one.backupjob.lock", MISSING),
    ("one.backupjob.unlock", MISSING),
    ("one.backupjob.backup", MISSING),
    ("one.backupjob.cancel", MISSING),
    ("one.backupjob.retry", MISSING),
    ("one.backupjob.priority", MISSING),
    ("one.backupjob.schedadd", MISSING),
    ("one.backupjob.scheddelete", MISSING),
    ("one.backupjob.schedupdate", MISSING),
    ("one.backupjobpool.info", MISSING),
    ("one.system.version", Some(R(system::read))),
    ("one.system.config", Some(R(system::read))),
    ("one.system.sql", MISSING),
    ("one.system.sqlquery", MISSING),
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
                        "info" | "infoextended" | "infoset" | "monitoring" | "version" | "config"
                    ),
                    "{m}"
                );
            }
        }
    }
}
