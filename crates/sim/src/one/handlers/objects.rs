//! The generic handlers of owned objects (templates, networks, images, datastores, security
//! groups, VM groups, documents, network templates, virtual routers): allocate, update,
//! rename, chmod, chown, lock, unlock, delete, clone, info and pool info.

use super::prelude::*;
use super::vm;

/// Generic handlers for owned objects (templates, networks, images, datastores, ...).
pub(crate) fn obj_write(
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
            // Datastore::post_update_template writes the type back (recorded-sweep 096)
            if let Extra::Datastore(d) = &o.extra {
                let ty = match d.ds_type {
                    1 => "SYSTEM_DS",
                    2 => "FILE_DS",
                    3 => "BACKUP_DS",
                    _ => "IMAGE_DS",
                };
                o.template.set("TYPE", ty);
            }
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
                Extra::Datastore(d) if d.ds_type == 1 => d.state = if on { 0 } else { 1 },
                // recorded-sweep 094/095
                Extra::Datastore(_) => {
                    return Err(RpcError::internal(
                        "Only SYSTEM_DS can be disabled or enabled",
                    ));
                }
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
            if let Some(other) = (kind != Kind::Document)
                .then(|| s.name_taken(kind, c.uid, &name, -1))
                .flatten()
            {
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
    // oned's DocumentPool::allocate has no name check (OneFlow names a service like its
    // template); the other pools refuse a name the owner already uses.
    if let Some(other) = (kind != Kind::Document)
        .then(|| s.name_taken(kind, c.uid, &name, -1))
        .flatten()
    {
        return Err(RpcError::internal(format!(
            "NAME is already taken by {} {other}.",
            kind.acl_name()
        )));
    }
    if kind == Kind::VmGroup {
        // roles get stable IDs at creation and live under ROLES only
        for (i, role) in t.vectors_mut("ROLE").into_iter().enumerate() {
            role.retain(|(k, _)| k != "ID");
            role.push(("ID".into(), i.to_string()));
            role.sort();
        }
    }
    if kind == Kind::Vrouter {
        // oned numbers a virtual router's NICs (NIC_ID) when it is created, and names
        // the network of a NIC given by NETWORK_ID (recorded-sweep 395)
        let names: BTreeMap<i32, String> = s
            .pool(Kind::Vnet)
            .objs
            .values()
            .map(|o| (o.meta.id, o.meta.name.clone()))
            .collect();
        for (i, nic) in t.vectors_mut("NIC").into_iter().enumerate() {
            nic.retain(|(k, _)| k != "NIC_ID");
            nic.push(("NIC_ID".into(), i.to_string()));
            if !nic.iter().any(|(k, _)| k == "NETWORK")
                && let Some(n) = nic
                    .iter()
                    .find(|(k, _)| k == "NETWORK_ID")
                    .and_then(|(_, v)| v.trim().parse::<i32>().ok())
                    .and_then(|id| names.get(&id))
            {
                nic.push(("NETWORK".into(), n.clone()));
            }
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
                Some("BACKUP_DS") => 3,
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
            set_tm_mad(&mut t, &tm_mad, ds_type).map_err(RpcError::internal)?;
            for (k, v) in [
                ("DISK_TYPE", "FILE"),
                ("RESTRICTED_DIRS", "/"),
                ("SAFE_DIRS", "/var/tmp"),
            ] {
                let applies = match k {
                    "DISK_TYPE" => matches!(ds_type, 0 | 1),
                    _ => ds_type != 3,
                };
                if t.get(k).is_none() && applies {
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
            // the dummy datastore driver's cp answers "dummy_path dummy_format" for an
            // image copied from PATH; an empty datablock is made in the template's FORMAT,
            // raw by default (recorded 110/111, recorded-sweep 097)
            let format = if path.is_empty() {
                t.get("FORMAT")
                    .filter(|f| !f.is_empty())
                    .unwrap_or("raw")
                    .to_owned()
            } else {
                "dummy_format".to_owned()
            };
            Extra::Image(ImageData {
                img_type,
                persistent,
                state: 0,
                size,
                ds_id,
                source: "dummy_path".into(),
                path,
                format,
                vms: BTreeSet::new(),
                ready_at: now() + ctx.delays.monitor.as_secs() as i64,
                snapshots: None,
            })
        }
        Kind::Vm | Kind::Market | Kind::MarketApp | Kind::BackupJob | Kind::Hook => {
            return Err(RpcError::internal("unreachable"));
        }
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

/// `info` and pool `info` of the generic kinds.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (c, a, method) = (&k.c, k.a, k.method);
    match (k.ns, k.op) {
        (ns, "info") if ns.ends_with("pool") => {
            let kind = kind_of(ns).ok_or_else(|| not_implemented(method))?;
            let (f, st, en) = if matches!(kind, Kind::Datastore | Kind::Market | Kind::Hook) {
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
            for o in filtered(s, c, kind, f, st, en, -2)? {
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
            s.authorize(c, Op::Use, kind, &o.meta, false)?;
            let mut out = String::new();
            if kind == Kind::Template && a.bool(1) {
                // extended: the disks numbered and the NICs' networks resolved, as
                // oned's template.info fills them (recorded 052)
                let mut x = o.clone();
                extend_template(s, &mut x.template, o.meta.uid);
                render::obj(&mut out, s, &x, false, a.bool(2));
            } else {
                render::obj(&mut out, s, o, false, a.bool(1));
            }
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// oned.conf's TM_MAD_CONF of `tm_mad` (the simulator's oned.conf).
fn tm_mad_conf(tm_mad: &str) -> Option<Vec<(String, String)>> {
    static CONF: std::sync::OnceLock<Tmpl> = std::sync::OnceLock::new();
    let conf = CONF.get_or_init(|| Tmpl::parse(super::super::config::CONFIG).unwrap_or_default());
    conf.vectors("TM_MAD_CONF")
        .into_iter()
        .find(|v| v.iter().any(|(k, x)| k == "NAME" && x == tm_mad))
        .map(<[(String, String)]>::to_vec)
}

/// `Datastore::set_tm_mad`: the TM_MAD_CONF attributes a datastore takes (a system
/// datastore SHARED and the DS_*MIGRATE flags, an image one LN_TARGET, CLONE_TARGET,
/// DRIVER and DISK_TYPE), ALLOW_ORPHANS and PERSISTENT_SNAPSHOTS; backup datastores none.
fn set_tm_mad(t: &mut Tmpl, tm_mad: &str, ds_type: i32) -> Result<(), String> {
    if ds_type == 3 {
        return Ok(());
    }
    let conf = tm_mad_conf(tm_mad)
        .ok_or_else(|| format!("TM_MAD named \"{tm_mad}\" is not defined in oned.conf"))?;
    let get = |k: &str| conf.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let yes = |v: Option<String>, default: bool| {
        v.map_or(default, |x| {
            x.eq_ignore_ascii_case("YES") || x == "1" || x.eq_ignore_ascii_case("true")
        })
    };
    let flag = |b: bool| if b { "YES" } else { "NO" };
    let missing = || {
        format!(
            "Attribute shared, ln_target or clone_target in TM_MAD_CONF for {tm_mad} is missing or has wrong value in oned.conf"
        )
    };
    if ds_type == 1 {
        let shared = get("SHARED").ok_or_else(missing)?;
        t.set("SHARED", flag(yes(Some(shared), false)));
        t.set("DS_MIGRATE", flag(yes(get("DS_MIGRATE"), true)));
        t.set("DS_LIVE_MIGRATE", flag(yes(get("DS_LIVE_MIGRATE"), false)));
        t.set("DS_MIGRATE_SNAP", flag(yes(get("DS_MIGRATE_SNAP"), false)));
        t.remove("LN_TARGET");
        t.remove("CLONE_TARGET");
    } else {
        for k in ["LN_TARGET", "CLONE_TARGET"] {
            let v = get(k).ok_or_else(missing)?;
            t.set(k, v);
        }
        for k in ["DRIVER", "DISK_TYPE"] {
            if let Some(v) = get(k).filter(|v| !v.is_empty()) {
                t.set(k, v);
            }
        }
        t.remove("SHARED");
    }
    t.set(
        "ALLOW_ORPHANS",
        get("ALLOW_ORPHANS").unwrap_or_else(|| "NO".into()),
    );
    t.set(
        "PERSISTENT_SNAPSHOTS",
        flag(yes(get("PERSISTENT_SNAPSHOTS"), true)),
    );
    Ok(())
}

/// A VM template's extended form: DISK_ID on every disk, NETWORK_ID on every NIC that
/// names its network (by `NETWORK` and `NETWORK_UNAME` / `NETWORK_UID`, the template
/// owner's otherwise).
fn extend_template(s: &State, t: &mut Tmpl, owner: i32) {
    use super::vm_template::{vget, vset};
    for (i, d) in t.vectors_mut("DISK").into_iter().enumerate() {
        vset(d, "DISK_ID", i.to_string());
        d.sort();
    }
    for nic in t.vectors_mut("NIC") {
        if vget(nic, "NETWORK_ID").is_some() {
            continue;
        }
        let Some(name) = vget(nic, "NETWORK").map(str::to_owned) else {
            continue;
        };
        let uid = if let Some(u) = vget(nic, "NETWORK_UID") {
            u.parse().unwrap_or(-1)
        } else if let Some(u) = vget(nic, "NETWORK_UNAME") {
            s.users.values().find(|x| x.name == u).map_or(-1, |x| x.id)
        } else {
            owner
        };
        if let Some(id) = s
            .pool(Kind::Vnet)
            .objs
            .values()
            .find(|o| o.meta.name == name && o.meta.uid == uid)
            .map(|o| o.meta.id)
        {
            vset(nic, "NETWORK_ID", id.to_string());
            nic.sort();
        }
    }
}

/// The generic calls that change state.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let kind = kind_of(k.ns).ok_or_else(|| not_implemented(k.method))?;
    obj_write(s, k.ctx, &k.c, kind, k.op, k.a, k.method)
}
