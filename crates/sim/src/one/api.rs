//! Method handlers: one function per implemented XML-RPC method group.

use std::collections::BTreeSet;

use super::methods::Args;
use super::render;
use super::state::{
    AclRule, Caller, Cluster, DsData, Extra, Group, Host, ImageData, Kind, Lock, Obj, Op, R,
    RpcError, State, User, acl, check_name, code, no_exists, now, sha256_hex,
};
use super::tmpl::{AttrValue, Tmpl};
use super::vm;
use super::xmlrpc::Ret;

/// oned's version string.
pub(crate) const VERSION: &str = "7.5.80";

/// Settings the handlers need.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) delays: super::Delays,
    pub(crate) endpoint: String,
}

/// Every method the simulator implements (the others answer RPC_API "not implemented").
pub(crate) const IMPLEMENTED: &[&str] = &[
    "one.system.version",
    "one.system.config",
    "one.user.allocate",
    "one.user.delete",
    "one.user.info",
    "one.user.passwd",
    "one.user.update",
    "one.user.chgrp",
    "one.user.addgroup",
    "one.user.delgroup",
    "one.user.quota",
    "one.user.login",
    "one.user.enable",
    "one.user.chauth",
    "one.userpool.info",
    "one.userquota.info",
    "one.userquota.update",
    "one.group.allocate",
    "one.group.delete",
    "one.group.info",
    "one.group.update",
    "one.group.quota",
    "one.group.addadmin",
    "one.group.deladmin",
    "one.grouppool.info",
    "one.groupquota.info",
    "one.groupquota.update",
    "one.acl.addrule",
    "one.acl.delrule",
    "one.acl.info",
    "one.cluster.allocate",
    "one.cluster.delete",
    "one.cluster.info",
    "one.cluster.update",
    "one.cluster.rename",
    "one.cluster.addhost",
    "one.cluster.delhost",
    "one.cluster.adddatastore",
    "one.cluster.deldatastore",
    "one.cluster.addvnet",
    "one.cluster.delvnet",
    "one.clusterpool.info",
    "one.host.allocate",
    "one.host.delete",
    "one.host.info",
    "one.host.update",
    "one.host.rename",
    "one.host.status",
    "one.host.monitoring",
    "one.hostpool.info",
    "one.hostpool.monitoring",
    "one.zone.info",
    "one.zone.update",
    "one.zone.rename",
    "one.zonepool.info",
    "one.datastore.allocate",
    "one.datastore.delete",
    "one.datastore.info",
    "one.datastore.update",
    "one.datastore.rename",
    "one.datastore.chmod",
    "one.datastore.chown",
    "one.datastore.enable",
    "one.datastorepool.info",
    "one.image.allocate",
    "one.image.delete",
    "one.image.info",
    "one.image.update",
    "one.image.rename",
    "one.image.chmod",
    "one.image.chown",
    "one.image.lock",
    "one.image.unlock",
    "one.image.clone",
    "one.image.enable",
    "one.image.persistent",
    "one.imagepool.info",
    "one.template.allocate",
    "one.template.delete",
    "one.template.info",
    "one.template.update",
    "one.template.rename",
    "one.template.chmod",
    "one.template.chown",
    "one.template.lock",
    "one.template.unlock",
    "one.template.clone",
    "one.template.instantiate",
    "one.templatepool.info",
    "one.vn.allocate",
    "one.vn.delete",
    "one.vn.info",
    "one.vn.update",
    "one.vn.rename",
    "one.vn.chmod",
    "one.vn.chown",
    "one.vn.lock",
    "one.vn.unlock",
    "one.vn.add_ar",
    "one.vn.rm_ar",
    "one.vn.hold",
    "one.vn.release",
    "one.vnpool.info",
    "one.secgroup.allocate",
    "one.secgroup.delete",
    "one.secgroup.info",
    "one.secgroup.update",
    "one.secgroup.rename",
    "one.secgroup.chmod",
    "one.secgroup.chown",
    "one.secgroup.clone",
    "one.secgrouppool.info",
    "one.vmgroup.allocate",
    "one.vmgroup.delete",
    "one.vmgroup.info",
    "one.vmgroup.update",
    "one.vmgroup.rename",
    "one.vmgroup.chmod",
    "one.vmgroup.chown",
    "one.vmgroup.lock",
    "one.vmgroup.unlock",
    "one.vmgrouppool.info",
    "one.document.allocate",
    "one.document.delete",
    "one.document.info",
    "one.document.update",
    "one.document.rename",
    "one.document.chmod",
    "one.document.chown",
    "one.document.clone",
    "one.document.lock",
    "one.document.unlock",
    "one.documentpool.info",
    "one.vntemplate.allocate",
    "one.vntemplate.delete",
    "one.vntemplate.info",
    "one.vntemplate.update",
    "one.vntemplate.rename",
    "one.vntemplate.chmod",
    "one.vntemplate.chown",
    "one.vntemplate.lock",
    "one.vntemplate.unlock",
    "one.vntemplate.clone",
    "one.vntemplate.instantiate",
    "one.vntemplatepool.info",
    "one.vdc.allocate",
    "one.vdc.update",
    "one.vdc.delete",
    "one.vdc.addgroup",
    "one.vdc.delgroup",
    "one.vdc.addcluster",
    "one.vdc.delcluster",
    "one.vdc.addhost",
    "one.vdc.delhost",
    "one.vdc.adddatastore",
    "one.vdc.deldatastore",
    "one.vdc.addvnet",
    "one.vdc.delvnet",
    "one.vdc.info",
    "one.vdc.rename",
    "one.vdcpool.info",
    "one.vrouter.allocate",
    "one.vrouter.delete",
    "one.vrouter.info",
    "one.vrouter.update",
    "one.vrouter.rename",
    "one.vrouter.chmod",
    "one.vrouter.chown",
    "one.vrouter.lock",
    "one.vrouter.unlock",
    "one.vrouter.instantiate",
    "one.vrouter.attachnic",
    "one.vrouter.detachnic",
    "one.vrouterpool.info",
    "one.vm.allocate",
    "one.vm.info",
    "one.vm.update",
    "one.vm.rename",
    "one.vm.chmod",
    "one.vm.chown",
    "one.vm.lock",
    "one.vm.unlock",
    "one.vm.deploy",
    "one.vm.action",
    "one.vm.migrate",
    "one.vm.snapshotcreate",
    "one.vm.snapshotrevert",
    "one.vm.snapshotdelete",
    "one.vm.disksnapshotcreate",
    "one.vm.disksnapshotrevert",
    "one.vm.disksnapshotdelete",
    "one.vm.disksnapshotrename",
    "one.vm.diskresize",
    "one.vm.recover",
    "one.vm.attach",
    "one.vm.detach",
    "one.vm.attachnic",
    "one.vm.detachnic",
    "one.vm.resize",
    "one.vm.updateconf",
    "one.vm.monitoring",
    "one.vmpool.info",
    "one.vmpool.infoextended",
    "one.vmpool.infoset",
    "one.vmpool.monitoring",
];

/// Methods that only read state (served under the read lock).
pub(crate) fn is_read_only(method: &str) -> bool {
    method.ends_with(".info")
        || method.ends_with(".infoextended")
        || method.ends_with(".infoset")
        || method.ends_with(".monitoring")
        || method == "one.system.version"
        || method == "one.system.config"
}

fn kind_of(ns: &str) -> Option<Kind> {
    Some(match ns {
        "vm" | "vmpool" => Kind::Vm,
        "template" | "templatepool" => Kind::Template,
        "vn" | "vnpool" => Kind::Vnet,
        "image" | "imagepool" => Kind::Image,
        "datastore" | "datastorepool" => Kind::Datastore,
        "secgroup" | "secgrouppool" => Kind::SecGroup,
        "vmgroup" | "vmgrouppool" => Kind::VmGroup,
        "document" | "documentpool" => Kind::Document,
        "vntemplate" | "vntemplatepool" => Kind::VnTemplate,
        "vrouter" | "vrouterpool" => Kind::Vrouter,
        _ => return None,
    })
}

/// Dispatch a read-only call.
pub(crate) fn read(s: &State, ctx: &Ctx, method: &str, session: &str, a: &Args) -> R<Ret> {
    let c = s.authenticate(session)?;
    let (ns, op) = split(method);
    match (ns, op) {
        ("system", "version") => Ok(Ret::Str(VERSION.into())),
        ("system", "config") => Ok(Ret::Str(super::config::CONFIG.into())),
        ("user", "info") => user_info(s, &c, a),
        ("userpool", "info") => {
            let mut users: Vec<&User> = s
                .users
                .values()
                .filter(|u| c.admin || u.id == c.uid)
                .collect();
            users.reverse();
            let mut out = String::new();
            render::user_pool(&mut out, s, &users);
            Ok(Ret::Str(out))
        }
        ("userquota", "info") | ("groupquota", "info") => {
            let mut out = String::new();
            render::default_quotas(&mut out, s, default_quota_root(ns));
            Ok(Ret::Str(out))
        }
        ("group", "info") => {
            let id = if a.int(0) == -1 { c.gid } else { a.int(0) };
            let g = s.groups.get(&id).ok_or_else(|| no_exists("group", id))?;
            if !c.admin && !c.groups.contains(&id) {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!(
                        "User [{}] : Not authorized to perform USE GROUP [{id}].",
                        c.uid
                    ),
                ));
            }
            let mut out = String::new();
            render::group(&mut out, s, g);
            Ok(Ret::Str(out))
        }
        ("grouppool", "info") => {
            let gs: Vec<&Group> = s
                .groups
                .values()
                .rev()
                .filter(|g| c.admin || c.groups.contains(&g.id))
                .collect();
            let mut out = String::new();
            render::group_pool(&mut out, s, &gs);
            Ok(Ret::Str(out))
        }
        ("acl", "info") => {
            let mut out = String::new();
            render::acl_pool(&mut out, s);
            Ok(Ret::Str(out))
        }
        ("cluster", "info") => {
            let cl = s
                .clusters
                .get(&a.int(0))
                .ok_or_else(|| no_exists("cluster", a.int(0)))?;
            let mut out = String::new();
            render::cluster(&mut out, s, cl);
            Ok(Ret::Str(out))
        }
        ("clusterpool", "info") => {
            let mut out = String::from("<CLUSTER_POOL>");
            for cl in s.clusters.values().rev() {
                render::cluster(&mut out, s, cl);
            }
            out.push_str("</CLUSTER_POOL>");
            Ok(Ret::Str(out))
        }
        ("host", "info") => {
            let h = s
                .hosts
                .get(&a.int(0))
                .ok_or_else(|| no_exists("host", a.int(0)))?;
            let mut out = String::new();
            render::host(&mut out, s, h);
            Ok(Ret::Str(out))
        }
        ("hostpool", "info") => {
            let mut out = String::from("<HOST_POOL>");
            for h in s.hosts.values().rev() {
                render::host(&mut out, s, h);
            }
            out.push_str("</HOST_POOL>");
            Ok(Ret::Str(out))
        }
        ("host", "monitoring") => {
            let h = s
                .hosts
                .get(&a.int(0))
                .ok_or_else(|| no_exists("host", a.int(0)))?;
            Ok(Ret::Str(host_monitoring(s, &[h])))
        }
        ("hostpool", "monitoring") => {
            let hs: Vec<&Host> = s.hosts.values().collect();
            Ok(Ret::Str(host_monitoring(s, &hs)))
        }
        ("zone", "info") => {
            let z = s
                .zones
                .get(&a.int(0))
                .ok_or_else(|| no_exists("zone", a.int(0)))?;
            let mut out = String::new();
            render::zone(&mut out, z, &ctx.endpoint);
            Ok(Ret::Str(out))
        }
        ("vdc", "info") => super::vdc::read(s, "info", a, method),
        ("vdcpool", "info") => super::vdc::read(s, "pool", a, method),
        ("zonepool", "info") => {
            let mut out = String::from("<ZONE_POOL>");
            for z in s.zones.values() {
                render::zone(&mut out, z, &ctx.endpoint);
            }
            out.push_str("</ZONE_POOL>");
            Ok(Ret::Str(out))
        }
        ("vm", "monitoring") => {
            let o = s.get(Kind::Vm, a.int(0))?;
            s.authorize(&c, Op::Use, Kind::Vm, &o.meta, false)?;
            let mut out = String::from("<MONITORING_DATA>");
            if let Some(v) = o.vm() {
                render::monitoring_records(&mut out, o.meta.id, v, false);
            }
            out.push_str("</MONITORING_DATA>");
            Ok(Ret::Str(out))
        }
        ("vmpool", "monitoring") => {
            let last_only = a.int(1) == 0;
            let mut out = String::from("<MONITORING_DATA>");
            for o in filtered(s, &c, Kind::Vm, a.int(0), -1, -1, -1)?
                .into_iter()
                .rev()
            {
                if let Some(v) = o.vm() {
                    render::monitoring_records(&mut out, o.meta.id, v, last_only);
                }
            }
            out.push_str("</MONITORING_DATA>");
            Ok(Ret::Str(out))
        }
        ("vmpool", "infoset") => {
            let extended = a.bool(1);
            let mut out = String::from("<VM_POOL>");
            let wanted: BTreeSet<i32> = a
                .str(0)
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect();
            for id in wanted.iter().rev() {
                if let Ok(o) = s.get(Kind::Vm, *id)
                    && s.can(&c, Op::Use, Kind::Vm, &o.meta)
                {
                    render::obj(&mut out, s, o, !extended, false);
                }
            }
            out.push_str("</VM_POOL>");
            Ok(Ret::Str(out))
        }
        ("vmpool", "info") | ("vmpool", "infoextended") => {
            if !a.str(4).is_empty() {
                return Err(RpcError::internal(
                    "JSON query search is not supported by the SQL backend",
                ));
            }
            let objs = filtered(s, &c, Kind::Vm, a.int(0), a.int(1), a.int(2), a.int(3))?;
            let mut out = String::with_capacity(objs.len() * 700 + 32);
            out.push_str("<VM_POOL>");
            for o in objs {
                render::obj(&mut out, s, o, op == "info", false);
            }
            out.push_str("</VM_POOL>");
            Ok(Ret::Str(out))
        }
        (ns, "info") if ns.ends_with("pool") => {
            let kind = kind_of(ns).ok_or_else(|| not_implemented(method))?;
            let (f, st, en) = if kind == Kind::Datastore {
                (-2, -1, -1)
            } else {
                (a.int(0), a.int(1), a.int(2))
            };
            let doc_type = if kind == Kind::Document {
                Some(a.int(3))
            } else {
                None
            };
            let mut out = String::new();
            out.push('<');
            out.push_str(render::pool_root(kind));
            out.push('>');
            for o in filtered(s, &c, kind, f, st, en, -2)? {
                if let (Some(t), Extra::Document { doc_type: d }) = (doc_type, &o.extra)
                    && t >= 0
                    && *d != t
                {
                    continue;
                }
                render::obj(&mut out, s, o, true, false);
            }
            out.push_str("</");
            out.push_str(render::pool_root(kind));
            out.push('>');
            Ok(Ret::Str(out))
        }
        (ns, "info") => {
            let kind = kind_of(ns).ok_or_else(|| not_implemented(method))?;
            let o = s.get(kind, a.int(0))?;
            s.authorize(&c, Op::Use, kind, &o.meta, false)?;
            let mut out = String::new();
            render::obj(&mut out, s, o, false, a.bool(1));
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

fn host_monitoring(s: &State, hs: &[&Host]) -> String {
    let mut out = String::from("<MONITORING_DATA>");
    let t = now();
    for h in hs {
        if h.state == 0 || h.monitored_at > t {
            continue;
        }
        let (_, cpu, mem) = render::host_usage(s, h.id);
        out.push_str("<MONITORING>");
        render::el(&mut out, "TIMESTAMP", t);
        render::el(&mut out, "ID", h.id);
        out.push_str("<CAPACITY>");
        super::tmpl::cdata_elem(&mut out, "FREE_CPU", &(h.total_cpu - cpu).to_string());
        super::tmpl::cdata_elem(&mut out, "FREE_MEMORY", &(h.total_mem - mem).to_string());
        super::tmpl::cdata_elem(&mut out, "USED_CPU", &cpu.to_string());
        super::tmpl::cdata_elem(&mut out, "USED_MEMORY", &mem.to_string());
        out.push_str("</CAPACITY><SYSTEM>");
        super::tmpl::cdata_elem(&mut out, "NETRX", "0");
        super::tmpl::cdata_elem(&mut out, "NETTX", "0");
        out.push_str("</SYSTEM></MONITORING>");
    }
    out.push_str("</MONITORING_DATA>");
    out
}

fn split(method: &str) -> (&str, &str) {
    let rest = method.strip_prefix("one.").unwrap_or(method);
    rest.split_once('.').unwrap_or((rest, ""))
}

/// RPC_API error for a method the simulator does not implement.
pub(crate) fn not_implemented(method: &str) -> RpcError {
    RpcError::new(
        code::RPC_API,
        format!("{method} is not implemented by the nebulair OpenNebula simulator"),
    )
}

/// Pool filtering: filter flag, id range or pagination, VM state; newest first.
pub(crate) fn filtered<'s>(
    s: &'s State,
    c: &Caller,
    kind: Kind,
    flag: i32,
    start: i32,
    end: i32,
    vm_state: i32,
) -> R<Vec<&'s Obj>> {
    if flag < -4 {
        return Err(RpcError::new(code::RPC_API, "Incorrect filter_flag."));
    }
    let objs = &s.pool(kind).objs;
    let matches = |o: &&Obj| -> bool {
        let m = &o.meta;
        let own = match flag {
            -4 => m.gid == c.gid && s.can(c, Op::Use, kind, m),
            -3 => m.uid == c.uid,
            -2 => s.can(c, Op::Use, kind, m),
            -1 => m.uid == c.uid || (c.groups.contains(&m.gid) && s.can(c, Op::Use, kind, m)),
            uid => m.uid == uid && s.can(c, Op::Use, kind, m),
        };
        if !own {
            return false;
        }
        if let Some(v) = o.vm() {
            match vm_state {
                -2 => {}
                -1 => {
                    if v.state == 6 {
                        return false;
                    }
                }
                st => {
                    if v.state != st {
                        return false;
                    }
                }
            }
        }
        true
    };
    if end < -1 {
        let offset = start.max(0) as usize;
        let limit = (-(end as i64)) as usize;
        Ok(objs
            .values()
            .rev()
            .filter(matches)
            .skip(offset)
            .take(limit)
            .collect())
    } else {
        let lo = if start < 0 { i32::MIN } else { start };
        let hi = if end == -1 { i32::MAX } else { end };
        if lo > hi {
            return Ok(Vec::new());
        }
        Ok(objs
            .range(lo..=hi)
            .rev()
            .map(|(_, o)| o)
            .filter(matches)
            .collect())
    }
}

/// Dispatch a call that may change state.
pub(crate) fn write(s: &mut State, ctx: &Ctx, method: &str, session: &str, a: &Args) -> R<Ret> {
    let c = s.authenticate(session)?;
    let (ns, op) = split(method);
    match ns {
        "user" => user_write(s, &c, op, a, method),
        "group" => group_write(s, &c, op, a, method),
        "acl" => acl_write(s, &c, op, a, method),
        "cluster" => cluster_write(s, &c, op, a, method),
        "host" => host_write(s, ctx, &c, op, a, method),
        "zone" => {
            s.require_admin(&c, Op::Admin, "ZONE", a.int(0))?;
            let z = s
                .zones
                .get_mut(&a.int(0))
                .ok_or_else(|| no_exists("zone", a.int(0)))?;
            match op {
                "update" => update_tmpl(&mut z.template, a.str(1), a.int(2))?,
                "rename" => {
                    check_name(a.str(1))?;
                    z.name = a.str(1).to_owned();
                }
                _ => return Err(not_implemented(method)),
            }
            Ok(Ret::Int(a.int(0)))
        }
        "vm" => vm::write(s, ctx, &c, op, a, method),
        "vdc" => super::vdc::write(s, &c, op, a, method),
        "userquota" | "groupquota" if op == "update" => {
            s.require_admin(&c, Op::Admin, "USER", -1)?;
            let q = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
            let target = if ns == "userquota" {
                &mut s.default_user_quota
            } else {
                &mut s.default_group_quota
            };
            apply_quota(target, &q);
            let mut out = String::new();
            render::default_quotas(&mut out, s, default_quota_root(ns));
            Ok(Ret::Str(out))
        }
        _ => {
            let kind = kind_of(ns).ok_or_else(|| not_implemented(method))?;
            obj_write(s, ctx, &c, kind, op, a, method)
        }
    }
}

/// `update` semantics: 0 replace, 1 merge.
pub(crate) fn update_tmpl(t: &mut Tmpl, text: &str, append: i32) -> R<()> {
    let new = Tmpl::parse(text).map_err(RpcError::internal)?;
    if append == 1 {
        t.merge(&new);
    } else {
        *t = new;
    }
    Ok(())
}

fn user_info(s: &State, c: &Caller, a: &Args) -> R<Ret> {
    let id = if a.int(0) == -1 { c.uid } else { a.int(0) };
    let u = s.users.get(&id).ok_or_else(|| no_exists("user", id))?;
    if !c.admin && id != c.uid {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform USE USER [{id}].",
                c.uid
            ),
        ));
    }
    let mut out = String::new();
    render::user(&mut out, s, u, true);
    Ok(Ret::Str(out))
}

fn new_token() -> String {
    let mut out = String::with_capacity(64);
    for _ in 0..4 {
        out.push_str(&format!("{:016x}", fastrand::u64(..)));
    }
    out
}

fn user_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    let id = a.int(0);
    let self_ok = matches!(op, "passwd" | "update" | "login") && (id == c.uid || op == "login");
    if op == "allocate" {
        s.require_admin(c, Op::Admin, "USER", -1).map_err(|_| {
            RpcError::new(
                code::AUTHORIZATION,
                format!("User [{}] : Not authorized to perform CREATE USER.", c.uid),
            )
        })?;
        let name = a.str(0);
        // oned ends the user-name message with a period (recording 008).
        check_name(name).map_err(|e| RpcError::internal(format!("{}.", e.msg)))?;
        if let Some(u) = s.users.values().find(|u| u.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by USER {}.",
                u.id
            )));
        }
        let groups = a.ints(3);
        let gid = groups.first().copied().unwrap_or(1);
        if !s.groups.contains_key(&gid) {
            return Err(no_exists("group", gid));
        }
        let uid = s.next_user;
        s.next_user += 1;
        let mut t = Tmpl::new();
        t.set("TOKEN_PASSWORD", sha256_hex(&new_token()));
        let driver = if a.str(2).is_empty() {
            "core"
        } else {
            a.str(2)
        };
        s.users.insert(
            uid,
            User {
                id: uid,
                gid,
                groups: groups.iter().copied().chain([gid]).collect(),
                name: name.to_owned(),
                password: sha256_hex(a.str(1)),
                auth_driver: driver.to_owned(),
                enabled: true,
                template: t,
                tokens: Vec::new(),
                quota: Tmpl::new(),
            },
        );
        return Ok(Ret::Int(uid));
    }
    if op == "login" {
        let name = a.str(0);
        let u = s
            .users
            .values_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| no_exists("user", -1))?;
        if !c.admin && u.id != c.uid {
            return Err(RpcError::new(
                code::AUTHORIZATION,
                format!(
                    "User [{}] : Not authorized to perform MANAGE USER [{}].",
                    c.uid, u.id
                ),
            ));
        }
        let valid = a.int(2);
        let token = a.str(1).to_owned();
        if valid == 0 {
            u.tokens.retain(|t| t.token != token);
            return Ok(Ret::Str(token));
        }
        let token = if token.is_empty() { new_token() } else { token };
        let expiration = if valid < 0 {
            -1
        } else {
            now() + i64::from(valid)
        };
        u.tokens.retain(|t| t.token != token);
        u.tokens.push(super::state::LoginToken {
            token: token.clone(),
            expiration,
            egid: a.int(3),
        });
        return Ok(Ret::Str(token));
    }
    if !s.users.contains_key(&id) {
        return Err(no_exists("user", id));
    }
    if !c.admin && !self_ok {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform MANAGE USER [{id}].",
                c.uid
            ),
        ));
    }
    match op {
        "delete" => {
            if id == 0 {
                return Err(RpcError::internal("oneadmin cannot be deleted."));
            }
            s.users.remove(&id);
        }
        "passwd" => {
            if a.str(1).is_empty() {
                return Err(RpcError::internal("Invalid password, it cannot be empty"));
            }
            if let Some(u) = s.users.get_mut(&id) {
                u.password = sha256_hex(a.str(1));
            }
        }
        "update" => {
            if let Some(u) = s.users.get_mut(&id) {
                let keep = u.template.get("TOKEN_PASSWORD").map(str::to_owned);
                update_tmpl(&mut u.template, a.str(1), a.int(2))?;
                if let Some(k) = keep
                    && u.template.get("TOKEN_PASSWORD").is_none()
                {
                    u.template.set("TOKEN_PASSWORD", k);
                }
            }
        }
        "chgrp" | "addgroup" | "delgroup" => {
            let gid = a.int(1);
            if !s.groups.contains_key(&gid) {
                return Err(no_exists("group", gid));
            }
            if let Some(u) = s.users.get_mut(&id) {
                match op {
                    "chgrp" => {
                        u.groups.remove(&u.gid);
                        u.gid = gid;
                        u.groups.insert(gid);
                    }
                    "addgroup" => {
                        u.groups.insert(gid);
                    }
                    _ => {
                        if u.gid == gid {
                            return Err(RpcError::action(
                                "Cannot remove user from the primary group",
                            ));
                        }
                        u.groups.remove(&gid);
                    }
                }
            }
        }
        "quota" => {
            let q = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            if let Some(u) = s.users.get_mut(&id) {
                apply_quota(&mut u.quota, &q);
            }
        }
        "enable" => {
            if let Some(u) = s.users.get_mut(&id) {
                u.enabled = a.bool(1);
            }
        }
        "chauth" => {
            if let Some(u) = s.users.get_mut(&id) {
                if !a.str(1).is_empty() {
                    u.auth_driver = a.str(1).to_owned();
                }
                if !a.str(2).is_empty() {
                    u.password = sha256_hex(a.str(2));
                }
            }
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

/// The root element of the default quotas of `userquota` or `groupquota`.
fn default_quota_root(ns: &str) -> &'static str {
    if ns == "userquota" {
        "DEFAULT_USER_QUOTAS"
    } else {
        "DEFAULT_GROUP_QUOTAS"
    }
}

/// Merge quota vectors, filling the `_USED` counters and -1 defaults like oned.
fn apply_quota(q: &mut Tmpl, new: &Tmpl) {
    for a in new.attrs() {
        let AttrValue::Vector(items) = &a.value else {
            continue;
        };
        let mut v: Vec<(String, String)> = Vec::new();
        let keys: &[&str] = match a.name.as_str() {
            "VM" => &render::VM_METRICS,
            "DATASTORE" => &["ID", "IMAGES", "SIZE"],
            "NETWORK" => &["ID", "LEASES"],
            "IMAGE" => &["ID", "RVMS"],
            _ => continue,
        };
        for k in keys {
            let val = items
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, x)| x.clone())
                .unwrap_or_else(|| "-1".into());
            v.push(((*k).to_owned(), val));
            if *k != "ID" {
                v.push((format!("{k}_USED"), "0".into()));
            }
        }
        if a.name != "VM" {
            let id = items
                .iter()
                .find(|(n, _)| n == "ID")
                .map(|(_, x)| x.clone());
            let mut existing: Vec<AttrValue> = Vec::new();
            for old in q.vectors(&a.name) {
                if old.iter().find(|(n, _)| n == "ID").map(|(_, x)| x.clone()) != id {
                    existing.push(AttrValue::Vector(old.to_vec()));
                }
            }
            q.remove(&a.name);
            for e in existing {
                q.push(&a.name, e);
            }
        } else {
            q.remove("VM");
        }
        q.push(&a.name, AttrValue::Vector(v));
    }
}

fn default_group_acls(s: &mut State, gid: i32) {
    for (res, rights) in [
        (acl::HOST | acl::ALL, acl::MANAGE),
        (acl::NET | acl::ALL, acl::USE),
        (acl::DATASTORE | acl::ALL, acl::USE),
    ] {
        let id = s.next_acl;
        s.next_acl += 1;
        s.acls.insert(
            id,
            AclRule {
                id,
                user: acl::GROUP | gid as u64,
                resource: res,
                rights,
                zone: acl::INDIVIDUAL,
            },
        );
    }
}

fn group_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    s.require_admin(
        c,
        Op::Admin,
        "GROUP",
        if op == "allocate" { -1 } else { a.int(0) },
    )?;
    if op == "allocate" {
        let name = a.str(0);
        check_name(name)?;
        if let Some(g) = s.groups.values().find(|g| g.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by GROUP {}.",
                g.id
            )));
        }
        let id = s.next_group;
        s.next_group += 1;
        s.groups.insert(
            id,
            Group {
                id,
                name: name.to_owned(),
                template: Tmpl::new(),
                admins: BTreeSet::new(),
                quota: Tmpl::new(),
            },
        );
        default_group_acls(s, id);
        return Ok(Ret::Int(id));
    }
    let id = a.int(0);
    if !s.groups.contains_key(&id) {
        return Err(no_exists("group", id));
    }
    match op {
        "delete" => {
            if id < 100 {
                return Err(RpcError::internal(
                    "System Groups (ID < 100) cannot be deleted.",
                ));
            }
            if s.users.values().any(|u| u.groups.contains(&id)) {
                return Err(RpcError::internal("Group has users. Cannot delete."));
            }
            s.groups.remove(&id);
            s.acls
                .retain(|_, r| !(r.user & acl::GROUP != 0 && (r.user & 0xFFFF_FFFF) as i32 == id));
        }
        "update" | "quota" | "addadmin" | "deladmin" => {
            let uid = a.int(1);
            if matches!(op, "addadmin" | "deladmin") && !s.users.contains_key(&uid) {
                return Err(no_exists("user", uid));
            }
            let g = s
                .groups
                .get_mut(&id)
                .ok_or_else(|| no_exists("group", id))?;
            match op {
                "update" => update_tmpl(&mut g.template, a.str(1), a.int(2))?,
                "quota" => apply_quota(
                    &mut g.quota,
                    &Tmpl::parse(a.str(1)).map_err(RpcError::internal)?,
                ),
                "addadmin" => {
                    g.admins.insert(uid);
                }
                _ => {
                    g.admins.remove(&uid);
                }
            }
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

fn parse_acl_part(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn acl_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    s.require_admin(c, Op::Admin, "ACL", -1)?;
    match op {
        "addrule" => {
            let user = parse_acl_part(a.str(0)).unwrap_or(0);
            let resource = parse_acl_part(a.str(1)).unwrap_or(0);
            let rights = parse_acl_part(a.str(2)).unwrap_or(0);
            let zone = if a.str(3).is_empty() {
                acl::INDIVIDUAL
            } else {
                parse_acl_part(a.str(3)).unwrap_or(0)
            };
            let rule = AclRule {
                id: -1,
                user,
                resource,
                rights,
                zone,
            };
            let mut errs = Vec::new();
            if user & (acl::INDIVIDUAL | acl::GROUP | acl::ALL) == 0 {
                errs.push("[user] is missing one of the INDIVIDUAL, GROUP or ALL bits");
            }
            if resource & (acl::INDIVIDUAL | acl::GROUP | acl::ALL | acl::CLUSTER) == 0 {
                errs.push(
                    "[resource] is missing one of the INDIVIDUAL, GROUP, CLUSTER or ALL bits",
                );
            }
            if resource & !0xF_FFFF_FFFFu64 == 0 {
                errs.push("[resource] type is missing");
            }
            if rights == 0 || rights > 0xF {
                errs.push("wrong [rights], it cannot be bigger than 0xF");
            }
            if !errs.is_empty() {
                return Err(RpcError::internal(format!(
                    "Rule {} is malformed: {}",
                    rule.to_str(),
                    errs.join("; ")
                )));
            }
            if s.acls.values().any(|r| {
                r.user == user && r.resource == resource && r.rights == rights && r.zone == zone
            }) {
                return Err(RpcError::internal(format!(
                    "Rule {} already exists",
                    rule.to_str()
                )));
            }
            let id = s.next_acl;
            s.next_acl += 1;
            s.acls.insert(id, AclRule { id, ..rule });
            Ok(Ret::Int(id))
        }
        "delrule" => {
            let id = a.int(0);
            if s.acls.remove(&id).is_none() {
                return Err(RpcError::internal(format!("Rule {id} does not exist")));
            }
            Ok(Ret::Int(id))
        }
        _ => Err(not_implemented(method)),
    }
}

fn cluster_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    s.require_admin(
        c,
        Op::Admin,
        "CLUSTER",
        if op == "allocate" { -1 } else { a.int(0) },
    )?;
    if op == "allocate" {
        let name = a.str(0);
        check_name(name)?;
        if let Some(cl) = s.clusters.values().find(|x| x.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by CLUSTER {}.",
                cl.id
            )));
        }
        let id = s.next_cluster;
        s.next_cluster += 1;
        let mut t = Tmpl::new();
        t.set("RESERVED_CPU", "");
        t.set("RESERVED_MEM", "");
        s.clusters.insert(
            id,
            Cluster {
                id,
                name: name.to_owned(),
                template: t,
                datastores: BTreeSet::new(),
                vnets: BTreeSet::new(),
            },
        );
        return Ok(Ret::Int(id));
    }
    let id = a.int(0);
    if !s.clusters.contains_key(&id) {
        return Err(no_exists("cluster", id));
    }
    let other = a.int(1);
    match op {
        "delete" => {
            let cl = &s.clusters[&id];
            if s.hosts.values().any(|h| h.cluster_id == id)
                || !cl.datastores.is_empty()
                || !cl.vnets.is_empty()
            {
                return Err(RpcError::internal(
                    "Cluster is not empty, it cannot be deleted.",
                ));
            }
            s.clusters.remove(&id);
        }
        "update" => {
            if let Some(cl) = s.clusters.get_mut(&id) {
                update_tmpl(&mut cl.template, a.str(1), a.int(2))?;
            }
        }
        "rename" => {
            check_name(a.str(1))?;
            if let Some(cl) = s.clusters.get_mut(&id) {
                cl.name = a.str(1).to_owned();
            }
        }
        "addhost" | "delhost" => {
            let h = s
                .hosts
                .get_mut(&other)
                .ok_or_else(|| no_exists("host", other))?;
            h.cluster_id = if op == "addhost" { id } else { 0 };
        }
        "adddatastore" | "deldatastore" => {
            let o = s.get_mut(Kind::Datastore, other)?;
            if let Extra::Datastore(d) = &mut o.extra {
                if op == "adddatastore" {
                    d.clusters.insert(id);
                } else {
                    d.clusters.remove(&id);
                }
            }
            if let Some(cl) = s.clusters.get_mut(&id) {
                if op == "adddatastore" {
                    cl.datastores.insert(other);
                } else {
                    cl.datastores.remove(&other);
                }
            }
        }
        "addvnet" | "delvnet" => {
            let o = s.get_mut(Kind::Vnet, other)?;
            if let Extra::Vnet(v) = &mut o.extra {
                if op == "addvnet" {
                    v.clusters.insert(id);
                } else {
                    v.clusters.remove(&id);
                }
            }
            if let Some(cl) = s.clusters.get_mut(&id) {
                if op == "addvnet" {
                    cl.vnets.insert(other);
                } else {
                    cl.vnets.remove(&other);
                }
            }
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

fn host_write(s: &mut State, ctx: &Ctx, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    if op == "allocate" {
        if !c.admin {
            let cid = if a.int(3) < 0 { 0 } else { a.int(3) };
            return Err(RpcError::new(
                code::AUTHORIZATION,
                format!(
                    "User [{}] : Not authorized to perform CREATE HOST; Not authorized to perform ADMIN CLUSTER [{cid}].",
                    c.uid
                ),
            ));
        }
        let name = a.str(0);
        check_name(name)?;
        if let Some(h) = s.hosts.values().find(|h| h.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by HOST {}.",
                h.id
            )));
        }
        let cid = if a.int(3) < 0 { 0 } else { a.int(3) };
        if !s.clusters.contains_key(&cid) {
            return Err(no_exists("cluster", cid));
        }
        let id = s.next_host;
        s.next_host += 1;
        let mut t = Tmpl::new();
        t.set("IM_MAD", a.str(1));
        t.set("VM_MAD", a.str(2));
        t.set("RESERVED_CPU", "");
        t.set("RESERVED_MEM", "");
        s.hosts.insert(
            id,
            Host {
                id,
                name: name.to_owned(),
                state: 0,
                prev_state: 0,
                im_mad: a.str(1).to_owned(),
                vm_mad: a.str(2).to_owned(),
                cluster_id: cid,
                template: t,
                total_cpu: 800,
                total_mem: 16 * 1024 * 1024,
                monitored_at: now() + ctx.delays.monitor.as_secs() as i64,
            },
        );
        return Ok(Ret::Int(id));
    }
    let id = a.int(0);
    if !s.hosts.contains_key(&id) {
        return Err(no_exists("host", id));
    }
    if !c.admin {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform MANAGE HOST [{id}].",
                c.uid
            ),
        ));
    }
    match op {
        "delete" => {
            let (vms, _, _) = render::host_usage(s, id);
            if !vms.is_empty() {
                return Err(RpcError::action("Can not remove a host with running VMs"));
            }
            s.hosts.remove(&id);
        }
        "update" => {
            if let Some(h) = s.hosts.get_mut(&id) {
                update_tmpl(&mut h.template, a.str(1), a.int(2))?;
            }
        }
        "rename" => {
            check_name(a.str(1))?;
            if let Some(h) = s.hosts.get_mut(&id) {
                h.name = a.str(1).to_owned();
            }
        }
        "status" => {
            let st = a.int(1);
            let h = s.hosts.get_mut(&id).ok_or_else(|| no_exists("host", id))?;
            let new = match st {
                0 => 2,
                1 => 4,
                2 => 8,
                _ => return Err(RpcError::new(code::RPC_API, "Wrong status code")),
            };
            h.prev_state = h.state;
            h.state = if new == 2 && h.monitored_at > now() {
                0
            } else {
                new
            };
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

/// Generic handlers for owned objects (templates, networks, images, datastores, ...).
fn obj_write(
    s: &mut State,
    ctx: &Ctx,
    c: &Caller,
    kind: Kind,
    op: &str,
    a: &Args,
    method: &str,
) -> R<Ret> {
    match op {
        "allocate" => return allocate(s, ctx, c, kind, a),
        "update" | "rename" | "chmod" | "chown" | "lock" | "unlock" | "delete" | "clone"
        | "enable" | "persistent" => {}
        "instantiate" if kind == Kind::Template => return vm::instantiate(s, ctx, c, a),
        "instantiate" if kind == Kind::VnTemplate => {
            return vm::vntemplate_instantiate(s, ctx, c, a);
        }
        "instantiate" if kind == Kind::Vrouter => return vm::vrouter_instantiate(s, ctx, c, a),
        "attachnic" | "detachnic" if kind == Kind::Vrouter => {
            return vm::vrouter_nic(s, ctx, c, op, a);
        }
        "add_ar" | "rm_ar" | "hold" | "release" if kind == Kind::Vnet => {
            return vm::vnet_op(s, c, op, a);
        }
        _ => return Err(not_implemented(method)),
    }
    let id = a.int(0);
    let level = match op {
        "chown" | "chmod" | "delete" | "update" | "rename" | "lock" | "unlock" | "enable"
        | "persistent" => Op::Manage,
        _ => Op::Use,
    };
    {
        let o = s.get(kind, id)?;
        s.authorize(
            c,
            level,
            kind,
            &o.meta,
            !matches!(op, "lock" | "unlock" | "clone"),
        )?;
    }
    match op {
        "update" => {
            let o = s.get_mut(kind, id)?;
            update_tmpl(&mut o.template, a.str(1), a.int(2))?;
        }
        "rename" => {
            let name = a.str(1);
            check_name(name)?;
            let uid = s.get(kind, id)?.meta.uid;
            if let Some(other) = s.name_taken(kind, uid, name, id) {
                return Err(RpcError::internal(format!(
                    "NAME is already taken by {} {other}.",
                    kind.acl_name()
                )));
            }
            s.get_mut(kind, id)?.meta.name = name.to_owned();
        }
        "chmod" => {
            let o = s.get_mut(kind, id)?;
            for i in 0..9 {
                let v = a.int(1 + i);
                if v >= 0 {
                    o.meta.perms[i] = u8::from(v > 0);
                }
            }
        }
        "chown" => {
            let (uid, gid) = (a.int(1), a.int(2));
            if uid >= 0 && !s.users.contains_key(&uid) {
                return Err(no_exists("user", uid));
            }
            if gid >= 0 && !s.groups.contains_key(&gid) {
                return Err(no_exists("group", gid));
            }
            if !c.admin && (uid >= 0 && uid != c.uid) {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!(
                        "User [{}] : Not authorized to perform MANAGE USER [{uid}].",
                        c.uid
                    ),
                ));
            }
            let o = s.get_mut(kind, id)?;
            if uid >= 0 {
                o.meta.uid = uid;
            }
            if gid >= 0 {
                o.meta.gid = gid;
            }
        }
        "lock" => {
            let level = a.int(1);
            if !(1..=4).contains(&level) {
                return Err(RpcError::new(code::RPC_API, "Wrong lock level"));
            }
            let req = s.next_req_id();
            let o = s.get_mut(kind, id)?;
            if o.meta.lock.is_some() && !a.bool(2) {
                return Err(RpcError::action(format!(
                    "Error trying to lock the resource [{id}]"
                )));
            }
            o.meta.lock = Some(Lock {
                level,
                owner: c.uid,
                time: now(),
                req_id: req,
            });
        }
        "unlock" => {
            s.get_mut(kind, id)?.meta.lock = None;
        }
        "delete" => {
            if let Extra::Image(i) = &s.get(kind, id)?.extra
                && !i.vms.is_empty()
            {
                return Err(RpcError::action(
                    "Cannot delete image, it is being used by VMs",
                ));
            }
            if kind == Kind::Datastore
                && s.pool(Kind::Image)
                    .objs
                    .values()
                    .any(|i| matches!(&i.extra, Extra::Image(x) if x.ds_id == id))
            {
                return Err(RpcError::internal(
                    "Datastore is not empty, it cannot be deleted.",
                ));
            }
            if let Extra::Vnet(v) = &s.get(kind, id)?.extra
                && v.ars.iter().any(|ar| ar.leases.values().any(|vm| *vm >= 0))
            {
                return Err(RpcError::internal(
                    "Can not remove a virtual network with leases in use",
                ));
            }
            let removed = s.pool_mut(kind).objs.remove(&id);
            // oned terminates a deleted virtual router's VMs
            if let Some(Obj {
                extra: Extra::Vrouter { vms },
                ..
            }) = removed
            {
                for vm in vms {
                    let _ = vm::terminate_now(s, vm);
                }
            }
            for cl in s.clusters.values_mut() {
                if kind == Kind::Datastore {
                    cl.datastores.remove(&id);
                }
                if kind == Kind::Vnet {
                    cl.vnets.remove(&id);
                }
            }
        }
        "enable" => {
            let on = a.bool(1);
            match &mut s.get_mut(kind, id)?.extra {
                Extra::Image(i) => i.state = if on { 1 } else { 3 },
                Extra::Datastore(d) => d.state = if on { 0 } else { 1 },
                _ => return Err(not_implemented(method)),
            }
        }
        "persistent" => match &mut s.get_mut(kind, id)?.extra {
            Extra::Image(i) => i.persistent = a.bool(1),
            _ => return Err(not_implemented(method)),
        },
        "clone" => {
            let name = a.str(1).to_owned();
            check_name(&name)?;
            s.authorize_create(c, kind.acl_bit(), kind.acl_name())?;
            if let Some(other) = s.name_taken(kind, c.uid, &name, -1) {
                return Err(RpcError::internal(format!(
                    "NAME is already taken by {} {other}.",
                    kind.acl_name()
                )));
            }
            let src = s.get(kind, id)?.clone();
            let meta = s.new_meta(kind, c, name);
            let new_id = meta.id;
            let mut extra = src.extra;
            if let Extra::Image(i) = &mut extra {
                i.vms.clear();
                i.state = 0;
                i.ready_at = now() + ctx.delays.monitor.as_secs() as i64;
            }
            s.pool_mut(kind).objs.insert(
                new_id,
                Obj {
                    meta,
                    template: src.template,
                    extra,
                },
            );
            return Ok(Ret::Int(new_id));
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

fn allocate(s: &mut State, ctx: &Ctx, c: &Caller, kind: Kind, a: &Args) -> R<Ret> {
    let mut t = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
    let name = t.get("NAME").map(str::to_owned);
    t.remove("NAME");
    if kind == Kind::Datastore || kind == Kind::Vnet {
        s.require_admin(c, Op::Admin, "CLUSTER", a.int(1).max(0))
            .map_err(|_| {
                RpcError::new(
                    code::AUTHORIZATION,
                    format!(
                        "User [{}] : Not authorized to perform CREATE {}.",
                        c.uid,
                        kind.acl_name()
                    ),
                )
            })?;
    } else {
        s.authorize_create(c, kind.acl_bit(), kind.acl_name())?;
    }
    let name = match name {
        Some(n) => n,
        None if matches!(kind, Kind::Template | Kind::Document | Kind::VnTemplate) => String::new(),
        None => return Err(RpcError::internal("No NAME in template.")),
    };
    check_name(&name)?;
    if let Some(other) = s.name_taken(kind, c.uid, &name, -1) {
        return Err(RpcError::internal(format!(
            "NAME is already taken by {} {other}.",
            kind.acl_name()
        )));
    }
    if kind == Kind::Vrouter {
        // oned numbers a virtual router's NICs (NIC_ID) when it is created
        for (i, nic) in t.vectors_mut("NIC").into_iter().enumerate() {
            nic.retain(|(k, _)| k != "NIC_ID");
            nic.push(("NIC_ID".into(), i.to_string()));
            nic.sort();
        }
    }
    let extra = match kind {
        Kind::Template => Extra::Template,
        Kind::VnTemplate => Extra::VnTemplate,
        Kind::Vrouter => Extra::Vrouter {
            vms: std::collections::BTreeSet::new(),
        },
        Kind::SecGroup => Extra::SecGroup,
        Kind::VmGroup => Extra::VmGroup,
        Kind::Document => Extra::Document { doc_type: a.int(1) },
        Kind::Datastore => {
            let ds_type = match t.get("TYPE") {
                Some("SYSTEM_DS") => 1,
                Some("FILE_DS") => 2,
                _ => 0,
            };
            let ds_mad = t.get("DS_MAD").unwrap_or("-").to_owned();
            if ds_type != 1 && ds_mad == "-" {
                return Err(RpcError::internal("No DS_MAD in template."));
            }
            let Some(tm_mad) = t.get("TM_MAD").map(str::to_owned) else {
                return Err(RpcError::internal("No TM_MAD in template."));
            };
            let cid = if a.int(1) < 0 { 0 } else { a.int(1) };
            if !s.clusters.contains_key(&cid) {
                return Err(no_exists("cluster", cid));
            }
            for (k, v) in [
                ("ALLOW_ORPHANS", "NO"),
                ("CLONE_TARGET", "SYSTEM"),
                ("DISK_TYPE", "FILE"),
                ("LN_TARGET", "NONE"),
                ("PERSISTENT_SNAPSHOTS", "YES"),
                ("RESTRICTED_DIRS", "/"),
                ("SAFE_DIRS", "/var/tmp"),
            ] {
                if t.get(k).is_none()
                    && !(ds_type == 1 && matches!(k, "CLONE_TARGET" | "LN_TARGET"))
                {
                    t.set(k, v);
                }
            }
            Extra::Datastore(DsData {
                ds_mad,
                tm_mad,
                ds_type,
                state: 0,
                clusters: [cid].into(),
                total_mb: 102_400,
            })
        }
        Kind::Vnet => return vm::vnet_allocate(s, ctx, c, t, name, a.int(1)),
        Kind::Image => {
            let ds_id = a.int(1);
            let ds = s.get(Kind::Datastore, ds_id)?;
            s.authorize(c, Op::Use, Kind::Datastore, &ds.meta, true)?;
            if let Extra::Datastore(d) = &ds.extra
                && d.ds_type != 0
            {
                return Err(RpcError::internal("Datastore is not of type IMAGE_DS"));
            }
            let img_type = match t.get("TYPE").unwrap_or("OS") {
                "OS" => 0,
                "CDROM" => 1,
                "DATABLOCK" => 2,
                "KERNEL" => 3,
                "RAMDISK" => 4,
                "CONTEXT" => 5,
                other => return Err(RpcError::internal(format!("Unknown Image type: {other}"))),
            };
            let path = t.get("PATH").unwrap_or("").to_owned();
            let size: i64 = t
                .get("SIZE")
                .and_then(|x| x.parse().ok())
                .unwrap_or(if path.is_empty() { 0 } else { 1024 });
            if path.is_empty() && img_type != 2 {
                return Err(RpcError::internal("No PATH in template."));
            }
            let persistent = t
                .get("PERSISTENT")
                .map(|p| p.eq_ignore_ascii_case("YES"))
                .unwrap_or(false);
            for k in ["PATH", "SIZE", "TYPE", "PERSISTENT"] {
                t.remove(k);
            }
            if t.get("DEV_PREFIX").is_none() {
                t.set("DEV_PREFIX", "sd");
            }
            Extra::Image(ImageData {
                img_type,
                persistent,
                state: 0,
                size,
                ds_id,
                source: "dummy_path".into(),
                path,
                format: "dummy_format".into(),
                vms: BTreeSet::new(),
                ready_at: now() + ctx.delays.monitor.as_secs() as i64,
            })
        }
        Kind::Vm => return Err(RpcError::internal("unreachable")),
    };
    let meta = s.new_meta(kind, c, name);
    let id = meta.id;
    if let Extra::Datastore(d) = &extra {
        for cid in &d.clusters {
            if let Some(cl) = s.clusters.get_mut(cid) {
                cl.datastores.insert(id);
            }
        }
    }
    s.pool_mut(kind).objs.insert(
        id,
        Obj {
            meta,
            template: t,
            extra,
        },
    );
    Ok(Ret::Int(id))
}
