//! Smaller calls of several families: cluster optimisation plans (as oned answers them
//! without its optional DRS component), network reservations and address-range updates,
//! network recovery, image type changes and image snapshots, group VLAN rules, security
//! group commits and VM-group roles.

use super::prelude::*;

/// `one.cluster.optimize`, `planexecute`, `plandelete`: no DRS, so a plan never becomes
/// ready and never exists.
pub(crate) fn cluster_plan(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let id = k.a.int(0);
    s.require_admin(&k.c, Op::Admin, "CLUSTER", id)?;
    if !s.clusters.contains_key(&id) {
        return Err(no_exists("cluster", id));
    }
    match k.op {
        "optimize" => Ok(Ret::Int(id)),
        "planexecute" => Err(RpcError::action("Plan is not ready")),
        _ => Err(RpcError::action(format!(
            "Plan for cluster {id} does not exist"
        ))),
    }
}

fn vnet_mut(s: &mut State, id: i32) -> R<&mut VnetData> {
    match &mut s.get_mut(Kind::Vnet, id)?.extra {
        Extra::Vnet(v) => Ok(v),
        _ => Err(no_exists("virtual network", id)),
    }
}

/// `one.vn.update_ar`, `reserve`, `free_ar`, `recover`.
pub(crate) fn vnet(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let id = a.int(0);
    let o = s.get(Kind::Vnet, id)?;
    let level = if k.op == "reserve" {
        Op::Use
    } else {
        Op::Manage
    };
    s.authorize(c, level, Kind::Vnet, &o.meta, true)?;
    match k.op {
        "update_ar" => {
            let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            let ar = t.vectors("AR").first().map(|v| v.to_vec()).ok_or_else(|| {
                RpcError::internal("Wrong AR definition. AR vector attribute is missing.")
            })?;
            let get = |key: &str| ar.iter().find(|(n, _)| n == key).map(|(_, x)| x.clone());
            let ar_id: i32 = get("AR_ID")
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| RpcError::internal("Wrong AR definition. AR_ID is missing."))?;
            let v = vnet_mut(s, id)?;
            let r = v.ars.iter_mut().find(|r| r.id == ar_id).ok_or_else(|| {
                RpcError::internal(format!("Address Range {ar_id} does not exist"))
            })?;
            if let Some(size) = get("SIZE").and_then(|x| x.parse::<u32>().ok()) {
                if r.leases.keys().any(|i| *i >= size) {
                    return Err(RpcError::internal(
                        "New SIZE cannot be applied. There are used leases that would fall outside the range.",
                    ));
                }
                r.size = size;
            }
            for (key, val) in ar {
                if matches!(key.as_str(), "AR_ID" | "SIZE" | "TYPE" | "IP" | "MAC") {
                    continue;
                }
                r.extra.retain(|(n, _)| *n != key);
                r.extra.push((key, val));
            }
            Ok(Ret::Int(id))
        }
        "reserve" => reserve(s, k, id),
        "free_ar" => {
            let ar_id = a.int(1);
            let v = vnet_mut(s, id)?;
            let before = v.ars.len();
            if v.ars
                .iter()
                .any(|r| r.id == ar_id && r.leases.values().any(|vm| *vm >= 0))
            {
                return Err(RpcError::internal(format!(
                    "Address Range {ar_id} has leases in use"
                )));
            }
            v.ars.retain(|r| r.id != ar_id);
            if before == v.ars.len() {
                return Err(RpcError::internal(format!(
                    "Address Range {ar_id} does not exist"
                )));
            }
            Ok(Ret::Int(id))
        }
        "recover" => {
            let op = a.int(1);
            let name = match op {
                0 => "recover failure",
                1 => "recover success",
                2 => "recover delete",
                3 => "recover retry",
                _ => return Err(RpcError::new(code::ACTION, "Wrong recovery operation code")),
            };
            let v = vnet_mut(s, id)?;
            let (state, _) = render::vnet_state(v);
            let state_name = match state {
                0 => "INIT",
                1 => "READY",
                2 => "LOCK_CREATE",
                3 => "LOCK_DELETE",
                4 => "DONE",
                _ => "ERROR",
            };
            if !matches!(state, 2 | 3 | 5) {
                return Err(RpcError::internal(format!(
                    "Could not perform '{name}' on VN {id}, wrong state {state_name}."
                )));
            }
            match op {
                0 => v.state = 5,
                1 => {
                    v.state = 1;
                    v.ready_at_ms = 0;
                }
                3 => v.state = 2,
                _ => {
                    s.pool_mut(Kind::Vnet).objs.remove(&id);
                    for cl in s.clusters.values_mut() {
                        cl.vnets.remove(&id);
                    }
                }
            }
            Ok(Ret::Int(id))
        }
        _ => Err(not_implemented(k.method)),
    }
}

fn reserve(s: &mut State, k: &Call<'_>, parent: i32) -> R<Ret> {
    let t = Tmpl::parse(k.a.str(1)).map_err(RpcError::internal)?;
    let size: u32 = t
        .get("SIZE")
        .and_then(|x| x.trim().parse().ok())
        .filter(|x| *x > 0)
        .ok_or_else(|| RpcError::internal("Reservation SIZE must be a greater than 0"))?;
    let want_ar: Option<i32> = t.get("AR_ID").and_then(|x| x.trim().parse().ok());
    let target: Option<i32> = t.get("NETWORK_ID").and_then(|x| x.trim().parse().ok());
    let (p_tmpl, p_meta, pv) = {
        let o = s.get(Kind::Vnet, parent)?;
        let Extra::Vnet(v) = &o.extra else {
            return Err(no_exists("virtual network", parent));
        };
        (o.template.clone(), o.meta.clone(), v.clone())
    };
    if render::vnet_state(&pv).0 != 1 {
        return Err(RpcError::action("Virtual network is not in READY state"));
    }
    // find `size` consecutive free addresses in one address range
    let mut found: Option<(i32, u32)> = None;
    for ar in &pv.ars {
        if want_ar.is_some_and(|w| w != ar.id) {
            continue;
        }
        let mut run = 0;
        for i in 0..ar.size {
            if ar.leases.contains_key(&i) {
                run = 0;
            } else {
                run += 1;
                if run == size {
                    found = Some((ar.id, i + 1 - size));
                    break;
                }
            }
        }
        if found.is_some() {
            break;
        }
    }
    let Some((ar_id, first)) = found else {
        return Err(RpcError::internal(
            "Not enough free addresses in an address range",
        ));
    };
    let src = pv
        .ars
        .iter()
        .find(|r| r.id == ar_id)
        .cloned()
        .ok_or_else(|| RpcError::internal("no AR"))?;
    let resv_id = match target {
        Some(tid) => {
            s.get(Kind::Vnet, tid)?;
            tid
        }
        None => {
            let name = t
                .get("NAME")
                .map(str::to_owned)
                .ok_or_else(|| RpcError::internal("Reservation NAME is missing"))?;
            check_name(&name)?;
            let mut nt = p_tmpl.clone();
            nt.set("PARENT_NETWORK_ID", parent.to_string());
            let meta = s.new_meta(Kind::Vnet, &k.c, name);
            let nid = meta.id;
            let data = VnetData {
                state: 1,
                prev_state: 1,
                clusters: pv.clusters.clone(),
                bridge: pv.bridge.clone(),
                vn_mad: pv.vn_mad.clone(),
                ars: Vec::new(),
                next_ar: 0,
                ready_at_ms: 0,
            };
            for cid in &pv.clusters {
                if let Some(cl) = s.clusters.get_mut(cid) {
                    cl.vnets.insert(nid);
                }
            }
            s.pool_mut(Kind::Vnet).objs.insert(
                nid,
                Obj {
                    meta,
                    template: nt,
                    extra: Extra::Vnet(data),
                },
            );
            nid
        }
    };
    let _ = p_meta;
    {
        let v = vnet_mut(s, resv_id)?;
        let new_id = v.next_ar;
        v.next_ar += 1;
        let mut extra = src.extra.clone();
        extra.push(("PARENT_NETWORK_AR_ID".into(), ar_id.to_string()));
        v.ars.push(AddressRange {
            next_index: 0,
            ever_allocated: false,
            reserved: Default::default(),
            id: new_id,
            ar_type: src.ar_type.clone(),
            ip: src.ip.map(|ip| ip + first),
            mac: src.mac + u64::from(first),
            size,
            extra,
            leases: Default::default(),
        });
    }
    let v = vnet_mut(s, parent)?;
    if let Some(r) = v.ars.iter_mut().find(|r| r.id == ar_id) {
        for i in first..first + size {
            r.leases.insert(i, -1);
            r.reserved.insert(i, resv_id);
            r.ever_allocated = true;
        }
        // the parent's allocator goes on after the reserved block (recorded-sweep 137)
        r.next_index = (first + size) % r.size.max(1);
    }
    Ok(Ret::Int(resv_id))
}

/// `one.image.chtype`, `snapshotdelete`, `snapshotrevert`, `snapshotflatten`.
pub(crate) fn image(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let id = a.int(0);
    let o = s.get(Kind::Image, id)?;
    s.authorize(c, Op::Manage, Kind::Image, &o.meta, true)?;
    match k.op {
        "chtype" => {
            let ty = match a.str(1).to_ascii_uppercase().as_str() {
                "OS" => 0,
                "CDROM" => 1,
                "DATABLOCK" => 2,
                "KERNEL" => 3,
                "RAMDISK" => 4,
                "CONTEXT" => 5,
                other => {
                    return Err(RpcError::internal(format!("Unknown Image type: {other}")));
                }
            };
            if let Extra::Image(i) = &mut s.get_mut(Kind::Image, id)?.extra {
                if i.img_type == 6 {
                    return Err(RpcError::internal(
                        "Cannot change the type of a BACKUP image",
                    ));
                }
                i.img_type = ty;
            }
            Ok(Ret::Int(id))
        }
        op => image_snapshot(s, id, op, a.int(1)).map(|()| Ret::Int(id)),
    }
}

/// `one.image.snapshotdelete/revert/flatten` as oned's ImageManager checks them (OS and
/// DATABLOCK images only, READY, the snapshot there; delete as `test_delete_image` with
/// ALLOW_ORPHANS = NO) and the dummy datastore driver does them at once: delete drops the
/// snapshot, revert makes it the active one (the image takes its SIZE), flatten drops them
/// all. An image's snapshots are a persistent image's disk snapshots, saved into it when
/// the VM lets the disk go.
fn image_snapshot(s: &mut State, id: i32, op: &str, sid: i32) -> R<()> {
    let o = s.get_mut(Kind::Image, id)?;
    let Extra::Image(i) = &mut o.extra else {
        return Err(no_exists("image", id));
    };
    if !matches!(i.img_type, 0 | 2) {
        return Err(RpcError::action(
            "IMAGES of type KERNEL, RAMDISK, BACKUP, FILESYSTEM and CONTEXT does not have snapshots.",
        ));
    }
    let state = render::image_state(i);
    if state != 1 {
        let what = match op {
            "snapshotdelete" => "delete snapshot",
            "snapshotrevert" => "revert to snapshot",
            _ => "flatten snapshot",
        };
        let name = nebulair_opennebula::model::ImageState::from_code(i64::from(state))
            .name()
            .unwrap_or("UNKNOWN");
        return Err(RpcError::action(format!("Cannot {what} in state {name}")));
    }
    let Some(snaps) = i
        .snapshots
        .as_mut()
        .filter(|d| d.snaps.iter().any(|x| x.id == sid))
    else {
        return Err(RpcError::action("Snapshot does not exist"));
    };
    match op {
        "snapshotdelete" => {
            let Some(pos) = snaps.snaps.iter().position(|x| x.id == sid) else {
                return Err(RpcError::action("Snapshot does not exist"));
            };
            if snaps.snaps[pos].active {
                return Err(RpcError::action("Cannot delete the active snapshot"));
            }
            if snaps.snaps.iter().any(|x| x.parent == sid) {
                return Err(RpcError::action("Cannot delete snapshot with children"));
            }
            snaps.snaps.remove(pos);
            if snaps.snaps.is_empty() {
                i.snapshots = None;
            }
        }
        "snapshotrevert" => {
            let mut size = None;
            for x in &mut snaps.snaps {
                x.active = x.id == sid;
                if x.active {
                    size = Some(x.size);
                }
            }
            if let Some(sz) = size {
                i.size = sz;
            }
        }
        _ => i.snapshots = None,
    }
    Ok(())
}

/// `one.group.vlan(id, rules)`: the RULE vectors become the group's VLAN_RULES.
pub(crate) fn group_vlan(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let id = a.int(0);
    s.require_admin(c, Op::Admin, "GROUP", id)?;
    let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
    let mut rules = Vec::new();
    for r in t.vectors("RULE") {
        let mut r = r.to_vec();
        let get = |key: &str| r.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone());
        let scope = get("SCOPE").unwrap_or_default().to_ascii_uppercase();
        if !matches!(scope.as_str(), "CVLAN" | "SVLAN" | "VXLAN") {
            return Err(RpcError::internal(format!(
                "Wrong SCOPE in VLAN rule: {scope}"
            )));
        }
        if get("ID").is_none() {
            return Err(RpcError::internal("VLAN rule without ID"));
        }
        if get("VNTEMPLATE").is_none() {
            r.push(("VNTEMPLATE".into(), "-1".into()));
        }
        r.sort();
        rules.push(r);
    }
    let g = s
        .groups
        .get_mut(&id)
        .ok_or_else(|| no_exists("group", id))?;
    g.vlan_rules = rules;
    Ok(Ret::Int(id))
}

/// `one.secgroup.commit(id, recovery)`: the VMs using the group are brought up to date.
pub(crate) fn secgroup_commit(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let id = k.a.int(0);
    let o = s.get(Kind::SecGroup, id)?;
    s.authorize(&k.c, Op::Manage, Kind::SecGroup, &o.meta, true)?;
    Ok(Ret::Int(id))
}

fn role_id(r: &[(String, String)]) -> Option<i32> {
    r.iter()
        .find(|(k, _)| k == "ID")
        .and_then(|(_, v)| v.parse().ok())
}

/// `one.vmgroup.roleadd`, `roledelete`, `roleupdate`: roles live under ROLES only, each
/// with a stable ID.
pub(crate) fn vmgroup_role(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let id = a.int(0);
    let o = s.get(Kind::VmGroup, id)?;
    s.authorize(c, Op::Manage, Kind::VmGroup, &o.meta, true)?;
    let o = s.get_mut(Kind::VmGroup, id)?;
    let mut roles: Vec<Vec<(String, String)>> = o
        .template
        .vectors("ROLE")
        .iter()
        .map(|r| r.to_vec())
        .collect();
    let parse_role = |text: &str| -> R<Vec<(String, String)>> {
        let t = Tmpl::parse(text).map_err(RpcError::internal)?;
        t.vectors("ROLE")
            .first()
            .map(|r| r.to_vec())
            .ok_or_else(|| RpcError::internal("Wrong format for ROLE attribute"))
    };
    match k.op {
        "roleadd" => {
            let mut r = parse_role(a.str(1))?;
            let name = r
                .iter()
                .find(|(k, _)| k == "NAME")
                .map(|(_, v)| v.clone())
                .ok_or_else(|| RpcError::internal("Role must have a NAME"))?;
            if roles
                .iter()
                .any(|x| x.iter().any(|(k, v)| k == "NAME" && *v == name))
            {
                return Err(RpcError::internal(format!("Role {name} already exists")));
            }
            let next = roles
                .iter()
                .filter_map(|x| role_id(x))
                .max()
                .map_or(0, |m| m + 1);
            r.retain(|(k, _)| k != "ID");
            r.push(("ID".into(), next.to_string()));
            r.sort();
            roles.push(r);
        }
        "roledelete" => {
            let rid = a.int(1);
            let before = roles.len();
            roles.retain(|x| role_id(x) != Some(rid));
            if before == roles.len() {
                return Err(RpcError::internal(format!("Role {rid} does not exist")));
            }
        }
        _ => {
            let rid = a.int(1);
            let new = parse_role(a.str(2))?;
            let r = roles
                .iter_mut()
                .find(|x| role_id(x) == Some(rid))
                .ok_or_else(|| RpcError::internal(format!("Role {rid} does not exist")))?;
            for (key, v) in new {
                if key == "ID" || key == "NAME" {
                    continue;
                }
                r.retain(|(n, _)| *n != key);
                r.push((key, v));
            }
            r.sort();
        }
    }
    o.template.remove("ROLE");
    for r in roles {
        o.template.push("ROLE", AttrValue::Vector(r));
    }
    Ok(Ret::Int(id))
}
