//! Virtual data centers (`one.vdc.*`, `one.vdcpool.info`): groups and, per zone, the
//! clusters, hosts, datastores and networks they may use. `-10` stands for every resource
//! of that kind in the zone, as in oned's default VDC.

use super::prelude::*;

pub(crate) use super::super::state::{ALL_RESOURCES, Vdc};

/// `one.vdc.info` and `one.vdcpool.info`.
pub(crate) fn read(s: &State, op: &str, a: &Args, method: &str) -> R<Ret> {
    let mut out = String::new();
    match op {
        "pool" => {
            out.push_str("<VDC_POOL>");
            // newest first, as every oned pool (recorded-sweep 256)
            for v in s.vdcs.values().rev() {
                render::vdc(&mut out, v);
            }
            out.push_str("</VDC_POOL>");
        }
        "info" => {
            let id = a.int(0);
            let v = s.vdcs.get(&id).ok_or_else(|| no_exists("VDC", id))?;
            render::vdc(&mut out, v);
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Str(out))
}

/// The `one.vdc.*` calls that change state (oneadmin only, like oned's default ACLs).
pub(crate) fn write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    if op == "allocate" {
        s.require_admin(c, Op::Admin, "VDC", -1)?;
        let t = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
        let name = t
            .get("NAME")
            .map(str::to_owned)
            .ok_or_else(|| RpcError::internal("No NAME in template for VDC."))?;
        check_name(&name)?;
        if let Some(other) = s.vdcs.values().find(|v| v.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by VDC {}.",
                other.id
            )));
        }
        let id = s.next_vdc.max(100);
        s.next_vdc = id + 1;
        let mut template = t;
        template.remove("NAME");
        s.vdcs.insert(
            id,
            Vdc {
                id,
                name,
                groups: BTreeSet::new(),
                clusters: BTreeSet::new(),
                hosts: BTreeSet::new(),
                datastores: BTreeSet::new(),
                vnets: BTreeSet::new(),
                template,
            },
        );
        return Ok(Ret::Int(id));
    }
    let id = a.int(0);
    s.require_admin(c, Op::Admin, "VDC", id)?;
    if !s.vdcs.contains_key(&id) {
        return Err(no_exists("VDC", id));
    }
    // Check what an add/del names before borrowing the VDC mutably.
    let (zone, res) = (a.int(1), a.int(2));
    let zone_res = |s: &State, what: &str, exists: bool| -> R<()> {
        if !s.zones.contains_key(&zone) {
            return Err(no_exists("zone", zone));
        }
        if res != ALL_RESOURCES && !exists {
            return Err(no_exists(what, res));
        }
        Ok(())
    };
    match op {
        "addgroup" | "delgroup" if !s.groups.contains_key(&a.int(1)) => {
            return Err(no_exists("group", a.int(1)));
        }
        "addcluster" | "delcluster" => zone_res(s, "cluster", s.clusters.contains_key(&res))?,
        "addhost" | "delhost" => zone_res(s, "host", s.hosts.contains_key(&res))?,
        "adddatastore" | "deldatastore" => zone_res(
            s,
            "datastore",
            s.pool(super::super::state::Kind::Datastore)
                .objs
                .contains_key(&res),
        )?,
        "addvnet" | "delvnet" => zone_res(
            s,
            "virtual network",
            s.pool(super::super::state::Kind::Vnet)
                .objs
                .contains_key(&res),
        )?,
        "rename" => {
            let name = a.str(1);
            check_name(name)?;
            if let Some(other) = s.vdcs.values().find(|v| v.name == name && v.id != id) {
                return Err(RpcError::internal(format!(
                    "NAME is already taken by VDC {}.",
                    other.id
                )));
            }
        }
        _ => {}
    }
    if op == "delete" {
        s.vdcs.remove(&id);
        return Ok(Ret::Int(id));
    }
    let Some(v) = s.vdcs.get_mut(&id) else {
        return Err(no_exists("VDC", id));
    };
    let change = |set: &mut BTreeSet<(i32, i32)>, add: bool, what: &str| -> R<()> {
        let changed = if add {
            set.insert((zone, res))
        } else {
            set.remove(&(zone, res))
        };
        if changed {
            Ok(())
        } else if add {
            Err(RpcError::internal(format!(
                "{what} {res} from zone {zone} is already assigned to the VDC {id}"
            )))
        } else {
            Err(RpcError::internal(format!(
                "{what} {res} from zone {zone} is not assigned to the VDC {id}"
            )))
        }
    };
    match op {
        "update" => update_tmpl(&mut v.template, a.str(1), a.int(2))?,
        "rename" => a.str(1).clone_into(&mut v.name),
        "addgroup" => {
            if !v.groups.insert(a.int(1)) {
                return Err(RpcError::internal(format!(
                    "Group {} is already assigned to the VDC {id}",
                    a.int(1)
                )));
            }
        }
        "delgroup" => {
            if !v.groups.remove(&a.int(1)) {
                return Err(RpcError::internal(format!(
                    "Group {} is not assigned to the VDC {id}",
                    a.int(1)
                )));
            }
        }
        "addcluster" => change(&mut v.clusters, true, "Cluster")?,
        "delcluster" => change(&mut v.clusters, false, "Cluster")?,
        "addhost" => change(&mut v.hosts, true, "Host")?,
        "delhost" => change(&mut v.hosts, false, "Host")?,
        "adddatastore" => change(&mut v.datastores, true, "Datastore")?,
        "deldatastore" => change(&mut v.datastores, false, "Datastore")?,
        "addvnet" => change(&mut v.vnets, true, "Vnet")?,
        "delvnet" => change(&mut v.vnets, false, "Vnet")?,
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

/// `one.vdc.info` and `one.vdcpool.info` through the dispatch table.
pub(crate) fn read_call(s: &State, k: &Call<'_>) -> R<Ret> {
    read(
        s,
        if k.ns == "vdcpool" { "pool" } else { "info" },
        k.a,
        k.method,
    )
}

/// The `one.vdc.*` calls that change state, through the dispatch table.
pub(crate) fn write_call(s: &mut State, k: &Call<'_>) -> R<Ret> {
    write(s, &k.c, k.op, k.a, k.method)
}
