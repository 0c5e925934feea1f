//! Virtual machines (state machine, actions, scheduler) and virtual network leases.

use super::prelude::*;
use super::vm_template as vt;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) use super::super::state::{lcm, st};

/// oned's state name (the LCM state for ACTIVE VMs), from the provider's state enums.
pub(crate) fn state_name(v: &VmData) -> &'static str {
    use nebulair_opennebula::model::{LcmState, VmState};
    let name = if v.state == st::ACTIVE {
        LcmState::from_code(i64::from(v.lcm_state)).name()
    } else {
        VmState::from_code(i64::from(v.state)).name()
    };
    name.unwrap_or("UNKNOWN")
}

/// History action numbers.
fn action_number(a: &str) -> i32 {
    match a {
        "undeploy" => 5,
        "undeploy-hard" => 6,
        "hold" => 7,
        "release" => 8,
        "stop" => 9,
        "suspend" => 10,
        "resume" => 11,
        "reboot" => 15,
        "reboot-hard" => 16,
        "resched" => 17,
        "unresched" => 18,
        "poweroff" => 19,
        "poweroff-hard" => 20,
        "delete" => 13,
        "delete-recreate" => 14,
        "terminate" => 27,
        "terminate-hard" => 28,
        _ => 0,
    }
}

/// Attributes that stay in a VM's TEMPLATE; all others go to USER_TEMPLATE.
const VM_TEMPLATE_ATTRS: &[&str] = &[
    "AUTOMATIC_DS_REQUIREMENTS",
    "AUTOMATIC_NIC_REQUIREMENTS",
    "AUTOMATIC_REQUIREMENTS",
    "BACKUP_CONFIG",
    "CONTEXT",
    "CPU",
    "CPU_COST",
    "CPU_MODEL",
    "DISK",
    "DISK_COST",
    "EMULATOR",
    "FEATURES",
    "GRAPHICS",
    "HYPERV_OPTIONS",
    "INPUT",
    "MEMORY",
    "MEMORY_COST",
    "MEMORY_MAX",
    "MEMORY_RESIZE_MODE",
    "MEMORY_SLOTS",
    "NIC",
    "NIC_ALIAS",
    "NIC_DEFAULT",
    "NUMA_NODE",
    "OS",
    "PCI",
    "RAW",
    "SECURITY_GROUP_RULE",
    "SNAPSHOT",
    "SPICE_OPTIONS",
    "SUBMIT_ON_HOLD",
    "TEMPLATE_ID",
    "TM_MAD_SYSTEM",
    "TOPOLOGY",
    "VCPU",
    "VCPU_MAX",
    "VIDEO",
    "VMGROUP",
    "VMID",
    "VROUTER_ID",
    "VROUTER_KEEPALIVED_ID",
    "VROUTER_KEEPALIVED_PASSWORD",
];

fn set_state(v: &mut VmData, state: i32, lcm_state: i32) {
    v.prev_state = v.state;
    v.prev_lcm_state = v.lcm_state;
    v.state = state;
    v.lcm_state = lcm_state;
}

/// Build a VM from a template. Returns the new id.
fn create_vm(
    s: &mut State,
    ctx: &Ctx,
    c: &Caller,
    mut t: Tmpl,
    name: Option<String>,
    hold: bool,
    template_id: Option<i32>,
) -> R<i32> {
    s.authorize_create(c, super::super::state::acl::VM, "VM")?;
    let mem_ok = t
        .get("MEMORY")
        .and_then(|m| m.parse::<i64>().ok())
        .map(|m| m > 0)
        .unwrap_or(false);
    if !mem_ok {
        return Err(RpcError::internal(
            "MEMORY attribute must be a positive integer value.",
        ));
    }
    let cpu_ok = t
        .get("CPU")
        .and_then(|m| m.parse::<f64>().ok())
        .map(|m| m > 0.0)
        .unwrap_or(false);
    if !cpu_ok {
        return Err(RpcError::internal(
            "CPU attribute must be a positive float or integer value.",
        ));
    }
    let token = t
        .vectors("CONTEXT")
        .first()
        .and_then(|c| {
            c.iter()
                .find(|(k, _)| k == "TOKEN")
                .map(|(_, v)| v.eq_ignore_ascii_case("YES"))
        })
        .unwrap_or(false);
    if token && s.onegate_endpoint.is_none() {
        return Err(RpcError::internal(
            "TOKEN set, but onegate endpoint was not defined in oned.conf.",
        ));
    }
    let name_attr = t.get("NAME").map(str::to_owned);
    t.remove("NAME");
    let pool = s.pool_mut(Kind::Vm);
    let id = pool.next_id;
    let name = name
        .filter(|n| !n.is_empty())
        .or(name_attr)
        .unwrap_or_else(|| format!("one-{id}"));
    check_name(&name)?;
    let mut meta = s.new_meta(Kind::Vm, c, name.clone());
    meta.id = id;

    // SCHED_ACTIONs become the VM's scheduled actions (oned's pool_allocate), parsed
    // from now; any error drops the VM
    let stime = now();
    let mut sched = Vec::new();
    for (k, v) in t.vectors("SCHED_ACTION").into_iter().enumerate() {
        let mut sa = super::sched::fresh(s.next_sched + k as i32);
        super::sched::parse_into(&mut sa, v, super::sched::Owner::Vm { stime })
            .map_err(RpcError::internal)?;
        sched.push(sa);
    }
    t.remove("SCHED_ACTION");
    // Split TEMPLATE / USER_TEMPLATE.
    let user_template = t.extract(|n| !VM_TEMPLATE_ATTRS.contains(&n));
    let mut t = t;
    t.set("VMID", id.to_string());
    t.set("AUTOMATIC_REQUIREMENTS", "!(PIN_POLICY = PINNED)");
    if hold {
        t.set("SUBMIT_ON_HOLD", "YES");
    }
    if let Some(tid) = template_id {
        t.set("TEMPLATE_ID", tid.to_string());
    }
    let mut os = t
        .vectors("OS")
        .first()
        .map(|v| v.to_vec())
        .unwrap_or_default();
    os.retain(|(k, _)| k != "UUID");
    os.push(("UUID".into(), crate::random_uuid().to_string()));
    t.remove("OS");
    t.push("OS", AttrValue::Vector(os));

    // NICs: take leases (oned's get_network_leases).
    let mut nics: Vec<Vec<(String, String)>> =
        t.vectors("NIC").iter().map(|v| v.to_vec()).collect();
    t.remove("NIC");
    let mut taken: Vec<(i32, i32, u32)> = Vec::new();
    let undo = |s: &mut State, taken: &[(i32, i32, u32)]| {
        for (vnet, ar, idx) in taken {
            release_lease(s, *vnet, *ar, *idx);
        }
        vt::release_images(s, id, None);
    };
    for (nic_id, nic) in nics.iter_mut().enumerate() {
        match lease_for_nic(s, c, id, nic, nic_id as i32) {
            Ok((vnet, ar, idx)) => taken.push((vnet, ar, idx)),
            Err(e) => {
                undo(s, &taken);
                return Err(e);
            }
        }
        nic.sort();
    }
    for nic in nics {
        t.push("NIC", AttrValue::Vector(nic));
    }
    // Disks: images acquired (get_disk_images), targets per prefix.
    let mut disks: Vec<Vec<(String, String)>> =
        t.vectors("DISK").iter().map(|v| v.to_vec()).collect();
    t.remove("DISK");
    let tm_mad_system = t.get("TM_MAD_SYSTEM").map(str::to_owned);
    for (disk_id, d) in disks.iter_mut().enumerate() {
        vt::vset(d, "DISK_ID", disk_id.to_string());
        match vt::acquire_image_disk(s, meta.uid, id, d, tm_mad_system.as_deref(), false) {
            Ok(true) => {}
            Ok(false) => {
                if vt::vget(d, "DEV_PREFIX").is_none() {
                    vt::vset(d, "DEV_PREFIX", "sd");
                }
            }
            Err(e) => {
                undo(s, &taken);
                return Err(RpcError::internal(format!("DISK {disk_id}: {e}")));
            }
        }
    }
    let has_context = !t.vectors("CONTEXT").is_empty();
    vt::assign_targets(&mut disks, has_context);
    let disk_count = disks.len();
    // a persistent image's snapshots come along with its disk
    let image_snapshots: Vec<DiskSnapshots> = disks
        .iter()
        .filter_map(|d| vt::image_disk_snapshots(s, d))
        .collect();
    for mut d in disks {
        d.sort();
        t.push("DISK", AttrValue::Vector(d));
    }
    if let Err(e) = vt::boot_order(&mut t) {
        undo(s, &taken);
        return Err(RpcError::internal(e));
    }
    vt::bool_features(&mut t);
    // Context (parse_context): variables substituted, the network context added.
    let mut token_value = None;
    let eth = vt::network_context(s, &t);
    let snapshot = t.clone();
    if let Some(cv) = t.vectors_mut("CONTEXT").into_iter().next() {
        for (_, v) in cv.iter_mut() {
            *v = vt::substitute(
                s,
                (meta.uid, meta.gid, id),
                &name,
                &[&snapshot, &user_template],
                v,
            );
        }
        cv.retain(|(k, _)| k != "TOKEN");
        vt::vset(cv, "DISK_ID", disk_count.to_string());
        vt::vset(cv, "TARGET", "hda");
        for (k, v) in eth {
            vt::vset(cv, &k, v);
        }
        if token {
            let tok: String = (0..32).map(|_| fastrand::alphanumeric()).collect();
            cv.push((
                "ONEGATE_ENDPOINT".into(),
                s.onegate_endpoint.clone().unwrap_or_default(),
            ));
            cv.push(("TOKEN".into(), "YES".into()));
            cv.push(("VMID".into(), id.to_string()));
            token_value = Some(tok);
        }
        cv.sort();
    }
    vt::security_group_rules(s, &mut t);
    if let Err(e) = vt::automatic_requirements(&mut t) {
        undo(s, &taken);
        return Err(RpcError::internal(e));
    }

    let data = VmData {
        state: if hold { st::HOLD } else { st::PENDING },
        lcm_state: lcm::INIT,
        prev_state: if hold { st::HOLD } else { st::PENDING },
        prev_lcm_state: 0,
        resched: 0,
        stime,
        etime: 0,
        deploy_id: String::new(),
        user_template,
        history: Vec::new(),
        token: token_value,
        monitoring: Vec::new(),
        forced_host: None,
        disk_snapshots: image_snapshots,
        sched,
        next_sched: 0,
        exec: None,
        backup_ids: Vec::new(),
    };
    meta.regtime = now();
    s.next_sched += data.sched.len() as i32;
    s.pool_mut(Kind::Vm).objs.insert(
        id,
        Obj {
            meta,
            template: t,
            extra: Extra::Vm(Box::new(data)),
        },
    );
    let _ = ctx;
    Ok(id)
}

/// Find the network of a NIC, take a lease and fill the NIC attributes.
/// A lease taken for a NIC: network id, address range id, index.
type Lease = (i32, i32, u32);

fn lease_for_nic(
    s: &mut State,
    c: &Caller,
    vm_id: i32,
    nic: &mut Vec<(String, String)>,
    nic_id: i32,
) -> R<Lease> {
    let get = |k: &str| nic.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let vnet_id = if let Some(id) = get("NETWORK_ID").and_then(|x| x.parse::<i32>().ok()) {
        id
    } else if let Some(name) = get("NETWORK") {
        let uname = get("NETWORK_UNAME");
        let uid = match uname {
            Some(u) => s
                .users
                .values()
                .find(|x| x.name == u)
                .map(|x| x.id)
                .unwrap_or(-9),
            None => c.uid,
        };
        s.pool(Kind::Vnet)
            .objs
            .values()
            .find(|o| o.meta.name == name && o.meta.uid == uid)
            .map(|o| o.meta.id)
            .ok_or_else(|| RpcError::internal(format!("Error getting virtual network [{name}].")))?
    } else {
        return Err(RpcError::internal(
            "NIC does not have NETWORK or NETWORK_ID attribute",
        ));
    };
    let o = s.get(Kind::Vnet, vnet_id)?;
    s.authorize(c, Op::Use, Kind::Vnet, &o.meta, true)?;
    let vname = o.meta.name.clone();
    let vt = o.template.clone();
    let o = s.get_mut(Kind::Vnet, vnet_id)?;
    let Extra::Vnet(v) = &mut o.extra else {
        return Err(RpcError::internal("not a network"));
    };
    let mut found = None;
    for ar in v.ars.iter_mut() {
        // oned's AddressRange::allocate_addr: from the index after the last one given
        let size = ar.size.max(1);
        let start = ar.next_index % size;
        if let Some(idx) = (0..ar.size)
            .map(|k| (start + k) % size)
            .find(|i| !ar.leases.contains_key(i))
        {
            ar.leases.insert(idx, vm_id);
            ar.ever_allocated = true;
            ar.next_index = (idx + 1) % size;
            found = Some((ar.id, idx, super::super::render::lease_addr(ar, idx)));
            break;
        }
    }
    let Some((ar_id, idx, (ip, mac))) = found else {
        return Err(RpcError::internal(format!(
            "Cannot get IP/MAC lease from virtual network {vnet_id}."
        )));
    };
    let bridge = v.bridge.clone();
    let vn_mad = v.vn_mad.clone();
    let cluster = v.clusters.iter().next().copied().unwrap_or(0);
    nic.retain(|(k, _)| !matches!(k.as_str(), "NETWORK_ID" | "NETWORK"));
    let mut add = vec![
        ("AR_ID", ar_id.to_string()),
        ("BRIDGE", bridge),
        ("BRIDGE_TYPE", "linux".into()),
        ("CLUSTER_ID", cluster.to_string()),
        ("MAC", mac.clone()),
        ("NAME", format!("NIC{nic_id}")),
        ("NETWORK", vname),
        ("NETWORK_ID", vnet_id.to_string()),
        ("NIC_ID", nic_id.to_string()),
        (
            "SECURITY_GROUPS",
            vt.get("SECURITY_GROUPS").unwrap_or("0").to_owned(),
        ),
        ("TARGET", format!("one-{vm_id}-{nic_id}")),
        ("VN_MAD", vn_mad),
    ];
    for k in ["DNS", "GATEWAY"] {
        if let Some(x) = vt.get(k) {
            add.push((k, x.to_owned()));
        }
    }
    if let Some(ip) = &ip {
        add.push(("IP", ip.clone()));
    }
    for (k, x) in add {
        nic.retain(|(n, _)| n != k);
        nic.push((k.to_owned(), x));
    }
    Ok((vnet_id, ar_id, idx))
}

fn release_lease(s: &mut State, vnet: i32, ar: i32, idx: u32) {
    if let Ok(o) = s.get_mut(Kind::Vnet, vnet)
        && let Extra::Vnet(v) = &mut o.extra
        && let Some(a) = v.ars.iter_mut().find(|a| a.id == ar)
    {
        a.leases.remove(&idx);
    }
}

/// Release every lease and image held by a VM.
fn release_vm_leases(s: &mut State, vm_id: i32) {
    let disks: Vec<Vec<(String, String)>> = s
        .get(Kind::Vm, vm_id)
        .map(|o| {
            o.template
                .vectors("DISK")
                .iter()
                .map(|d| d.to_vec())
                .collect()
        })
        .unwrap_or_default();
    for d in &disks {
        vt::save_disk_to_image(s, vm_id, d);
    }
    vt::release_images(s, vm_id, None);
    // and its VNC port (oned's free_vm_resources)
    if let Ok(o) = s.get_mut(Kind::Vm, vm_id) {
        for g in o.template.vectors_mut("GRAPHICS") {
            vt::vremove(g, "PORT");
        }
    }
    for o in s.pool_mut(Kind::Vnet).objs.values_mut() {
        if let Extra::Vnet(v) = &mut o.extra {
            for ar in &mut v.ars {
                ar.leases.retain(|_, vm| *vm != vm_id);
            }
        }
    }
}

/// `one.template.instantiate`.
pub(crate) fn instantiate(s: &mut State, ctx: &Ctx, c: &Caller, a: &Args) -> R<Ret> {
    let id = a.int(0);
    let o = s.get(Kind::Template, id)?;
    s.authorize(c, Op::Use, Kind::Template, &o.meta, true)?;
    let mut t = o.template.clone();
    if !a.str(3).is_empty() {
        let extra = Tmpl::parse(a.str(3)).map_err(RpcError::internal)?;
        t.merge(&extra);
    }
    let name = a.str(1).to_owned();
    let vm = create_vm(s, ctx, c, t, Some(name), a.bool(2), Some(id))?;
    Ok(Ret::Int(vm))
}

/// `one.vrouter.instantiate(id, n_vms, template_id, name, hold, extra)`: `n_vms` VMs from
/// the VM template, each with the router's NICs (and `VROUTER_ID`), named `name` with
/// `%i` replaced by the VM's index (`vr-<router>-<i>` when `name` is empty); the router's
/// id.
pub(crate) fn vrouter_instantiate(s: &mut State, ctx: &Ctx, c: &Caller, a: &Args) -> R<Ret> {
    let (id, n, template_id) = (a.int(0), a.int(1), a.int(2));
    let router = s.get(Kind::Vrouter, id)?;
    s.authorize(c, Op::Manage, Kind::Vrouter, &router.meta, true)?;
    let router_name = router.meta.name.clone();
    let nics: Vec<Vec<(String, String)>> = router
        .template
        .vectors("NIC")
        .into_iter()
        .map(<[(String, String)]>::to_vec)
        .collect();
    let tpl = s.get(Kind::Template, template_id)?;
    s.authorize(c, Op::Use, Kind::Template, &tpl.meta, true)?;
    let mut base = tpl.template.clone();
    if !a.str(5).is_empty() {
        let extra = Tmpl::parse(a.str(5)).map_err(RpcError::internal)?;
        base.merge(&extra);
    }
    if n < 1 {
        return Err(RpcError::internal(
            "The number of VMs to instantiate must be at least 1",
        ));
    }
    base.remove("NIC");
    for nic in &nics {
        let mut nic = nic.clone();
        nic.retain(|(k, _)| k != "NIC_ID");
        base.push("NIC", AttrValue::Vector(nic));
    }
    base.set("VROUTER_ID", id.to_string());
    // oned's parse_vrouter: the keepalived id (the router's id + 1) and the template the
    // router's VMs come from, kept on the router
    base.set("VROUTER_KEEPALIVED_ID", (id + 1).to_string());
    if let Ok(o) = s.get_mut(Kind::Vrouter, id) {
        o.template.set("TEMPLATE_ID", template_id.to_string());
    }
    for i in 0..n {
        let name = match a.str(3) {
            "" => format!("vr-{router_name}-{i}"),
            n if n.contains("%i") => n.replace("%i", &i.to_string()),
            n => format!("{n}-{i}"),
        };
        let vm = create_vm(
            s,
            ctx,
            c,
            base.clone(),
            Some(name),
            a.bool(4),
            Some(template_id),
        )?;
        if let Ok(o) = s.get_mut(Kind::Vrouter, id)
            && let Extra::Vrouter { vms } = &mut o.extra
        {
            vms.insert(vm);
        }
    }
    Ok(Ret::Int(id))
}

/// `one.vrouter.attachnic(id, template)` / `detachnic(id, nic_id)`: changes the router's
/// NICs and hot-plugs the change on each of its live VMs (with `one.vm.attachnic` /
/// `detachnic` semantics: leases, state checks); the router's id.
pub(crate) fn vrouter_nic(s: &mut State, ctx: &Ctx, c: &Caller, op: &str, a: &Args) -> R<Ret> {
    use super::super::xmlrpc::Value;
    let id = a.int(0);
    let router = s.get(Kind::Vrouter, id)?;
    s.authorize(c, Op::Manage, Kind::Vrouter, &router.meta, true)?;
    let nic_ids: Vec<i32> = router
        .template
        .vectors("NIC")
        .iter()
        .filter_map(|n| {
            n.iter()
                .find(|(k, _)| k == "NIC_ID")
                .and_then(|(_, v)| v.parse().ok())
        })
        .collect();
    let vms: Vec<i32> = match &router.extra {
        Extra::Vrouter { vms } => vms
            .iter()
            .copied()
            .filter(|vm| {
                s.get(Kind::Vm, *vm)
                    .ok()
                    .and_then(Obj::vm)
                    .is_some_and(|v| v.state != st::DONE)
            })
            .collect(),
        _ => Vec::new(),
    };
    if op == "attachnic" {
        let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
        let mut nic = t
            .vectors("NIC")
            .first()
            .map(|n| n.to_vec())
            .ok_or_else(|| RpcError::internal("Wrong format for NIC attribute"))?;
        nic.retain(|(k, _)| k != "NIC_ID");
        let mut one_nic = Tmpl::new();
        one_nic.push("NIC", AttrValue::Vector(nic.clone()));
        let text = one_nic.to_text();
        // VirtualRouterAPI::attach_nic: the router gets the NIC first; a VM that cannot
        // take it ends the call with ACTION and the router keeps the NIC
        let next = nic_ids.iter().max().map_or(0, |m| m + 1);
        nic.push(("NIC_ID".into(), next.to_string()));
        nic.sort();
        s.get_mut(Kind::Vrouter, id)?
            .template
            .push("NIC", AttrValue::Vector(nic));
        for vm in vms {
            let args = Args(vec![Value::Int(vm), Value::Str(text.clone())]);
            write(s, ctx, c, "attachnic", &args, "one.vm.attachnic")
                .map_err(|e| RpcError::action(e.msg))?;
        }
    } else {
        // VirtualRouterAPI::detach_nic: off the router first, then off each VM (whose
        // error ends the call as it is)
        let nic_id = a.int(1);
        if !nic_ids.contains(&nic_id) {
            return Err(RpcError::action(format!(
                "NIC with NIC_ID {nic_id} does not exist."
            )));
        }
        let o = s.get_mut(Kind::Vrouter, id)?;
        let key = nic_id.to_string();
        let rest: Vec<Vec<(String, String)>> = o
            .template
            .vectors("NIC")
            .iter()
            .filter(|n| !n.iter().any(|(k, v)| k == "NIC_ID" && *v == key))
            .map(|n| n.to_vec())
            .collect();
        o.template.remove("NIC");
        for n in rest {
            o.template.push("NIC", AttrValue::Vector(n));
        }
        for vm in vms {
            let args = Args(vec![Value::Int(vm), Value::Int(nic_id)]);
            write(s, ctx, c, "detachnic", &args, "one.vm.detachnic")?;
        }
    }
    Ok(Ret::Int(id))
}

/// Ends a VM at once (DONE, leases released), as oned does for the VMs of a deleted
/// virtual router.
pub(crate) fn terminate_now(s: &mut State, id: i32) -> R<()> {
    let o = s.get_mut(Kind::Vm, id)?;
    if let Some(v) = o.vm_mut()
        && v.state != st::DONE
    {
        close_history(v, action_number("terminate-hard"), None, -1);
        set_state(v, st::DONE, lcm::INIT);
        v.etime = now();
        release_vm_leases(s, id);
    }
    Ok(())
}

/// `one.vntemplate.instantiate(id, name, extra)`: a virtual network from the template
/// (`extra` merged over it, `NAME` set to `name`), in the cluster its `CLUSTER_IDS` names
/// first (the default cluster otherwise); the new network's id.
pub(crate) fn vntemplate_instantiate(s: &mut State, ctx: &Ctx, c: &Caller, a: &Args) -> R<Ret> {
    let id = a.int(0);
    let o = s.get(Kind::VnTemplate, id)?;
    s.authorize(c, Op::Use, Kind::VnTemplate, &o.meta, true)?;
    let mut t = o.template.clone();
    let extra = Tmpl::parse(a.str(2)).map_err(RpcError::internal)?;
    t.merge(&extra);
    let name = match a.str(1) {
        "" => format!("{}-{}", o.meta.name, s.pool(Kind::Vnet).next_id),
        n => n.to_owned(),
    };
    check_name(&name)?;
    t.set("NAME", name.clone());
    let cluster = t
        .get("CLUSTER_IDS")
        .and_then(|ids| ids.split(',').next())
        .and_then(|c| c.trim().parse::<i32>().ok())
        .unwrap_or(-1);
    s.authorize_create(c, Kind::Vnet.acl_bit(), Kind::Vnet.acl_name())?;
    if let Some(other) = s.name_taken(Kind::Vnet, c.uid, &name, -1) {
        return Err(RpcError::internal(format!(
            "NAME is already taken by NET {other}."
        )));
    }
    vnet_allocate(s, ctx, c, t, name, cluster)
}

/// `one.vn.allocate`.
pub(crate) fn vnet_allocate(
    s: &mut State,
    ctx: &Ctx,
    c: &Caller,
    mut t: Tmpl,
    name: String,
    cluster: i32,
) -> R<Ret> {
    let Some(vn_mad) = t.get("VN_MAD").map(str::to_owned) else {
        return Err(RpcError::internal(
            "No VN_MAD in template for Virtual Network.",
        ));
    };
    let cid = if cluster < 0 { 0 } else { cluster };
    if !s.clusters.contains_key(&cid) {
        return Err(no_exists("cluster", cid));
    }
    let ars: Vec<Vec<(String, String)>> = t.vectors("AR").iter().map(|v| v.to_vec()).collect();
    let mut data = VnetData {
        state: 2,
        prev_state: 0,
        clusters: [cid].into(),
        bridge: t.get("BRIDGE").unwrap_or("").to_owned(),
        vn_mad,
        ars: Vec::new(),
        next_ar: 0,
        ready_at_ms: now_ms() + ctx.delays.monitor.as_millis() as i64,
    };
    if data.bridge.is_empty() {
        data.bridge = "br0".into();
        t.set("BRIDGE", "br0");
    }
    for ar in &ars {
        add_ar(&mut data, ar)?;
    }
    t.remove("AR");
    for (k, v) in [
        ("BRIDGE_TYPE", "linux"),
        ("PHYDEV", ""),
        ("SECURITY_GROUPS", "0"),
        ("OUTER_VLAN_ID", ""),
        ("VLAN_ID", ""),
    ] {
        if t.get(k).is_none() {
            t.set(k, v);
        }
    }
    let meta = s.new_meta(Kind::Vnet, c, name);
    let id = meta.id;
    if let Some(cl) = s.clusters.get_mut(&cid) {
        cl.vnets.insert(id);
    }
    s.pool_mut(Kind::Vnet).objs.insert(
        id,
        Obj {
            meta,
            template: t,
            extra: Extra::Vnet(data),
        },
    );
    Ok(Ret::Int(id))
}

fn parse_mac(m: &str) -> Option<u64> {
    let parts: Vec<&str> = m.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut v = 0u64;
    for p in parts {
        v = (v << 8) | u64::from(u8::from_str_radix(p, 16).ok()?);
    }
    Some(v)
}

pub(crate) fn add_ar(v: &mut VnetData, ar: &[(String, String)]) -> R<()> {
    let get = |k: &str| ar.iter().find(|(n, _)| n == k).map(|(_, x)| x.as_str());
    let ar_type = get("TYPE").unwrap_or("IP4").to_ascii_uppercase();
    let size: u32 = get("SIZE")
        .and_then(|x| x.parse().ok())
        .filter(|x| *x > 0)
        .ok_or_else(|| RpcError::internal("Wrong SIZE for address range"))?;
    let ip = match ar_type.as_str() {
        "IP4" | "IP4_6" => Some(
            get("IP")
                .and_then(|x| x.parse::<std::net::Ipv4Addr>().ok())
                .map(u32::from)
                .ok_or_else(|| RpcError::internal("Wrong IP for address range"))?,
        ),
        "IP6" | "ETHER" | "IP6_STATIC" => None,
        other => {
            return Err(RpcError::internal(format!(
                "Unknown address range type {other}"
            )));
        }
    };
    let mac = match get("MAC").and_then(parse_mac) {
        Some(m) => m,
        None => match ip {
            Some(ip) => 0x0200_0000_0000 | u64::from(ip),
            None => 0x0200_0000_0000 | u64::from(fastrand::u32(..)),
        },
    };
    let extra: Vec<(String, String)> = ar
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "TYPE" | "SIZE" | "IP" | "MAC" | "AR_ID"))
        .cloned()
        .collect();
    let id = v.next_ar;
    v.next_ar += 1;
    v.ars.push(AddressRange {
        next_index: 0,
        ever_allocated: false,
        reserved: Default::default(),
        id,
        ar_type,
        ip,
        mac,
        size,
        extra,
        leases: Default::default(),
    });
    Ok(())
}

/// `one.vn.add_ar`, `rm_ar`, `hold`, `release`.
pub(crate) fn vnet_op(s: &mut State, c: &Caller, op: &str, a: &Args) -> R<Ret> {
    let id = a.int(0);
    let o = s.get(Kind::Vnet, id)?;
    s.authorize(
        c,
        if op == "add_ar" || op == "rm_ar" {
            Op::Admin
        } else {
            Op::Manage
        },
        Kind::Vnet,
        &o.meta,
        true,
    )?;
    let o = s.get_mut(Kind::Vnet, id)?;
    let Extra::Vnet(v) = &mut o.extra else {
        return Err(RpcError::internal("not a network"));
    };
    let (state, _) = super::super::render::vnet_state(v);
    if state != 1 {
        return Err(RpcError::action(format!(
            "Virtual network is not in READY state: {}",
            match state {
                2 => "LOCK_CREATE",
                3 => "LOCK_DELETE",
                _ => "ERROR",
            }
        )));
    }
    v.state = 1;
    v.prev_state = 1;
    match op {
        "add_ar" => {
            let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            let ars = t.vectors("AR");
            if ars.is_empty() {
                return Err(RpcError::internal(
                    "Wrong AR definition. AR vector attribute is missing.",
                ));
            }
            for ar in ars {
                add_ar(v, ar)?;
            }
        }
        "rm_ar" => {
            let ar_id = a.int(1);
            let Some(pos) = v.ars.iter().position(|x| x.id == ar_id) else {
                return Err(RpcError::internal(format!(
                    "Address Range does not exist. [{ar_id}]"
                )));
            };
            if !v.ars[pos].leases.is_empty() && !a.bool(2) {
                return Err(RpcError::internal("Address Range has leases in use"));
            }
            v.ars.remove(pos);
        }
        _ => {
            let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            let leases = t.vectors("LEASES");
            let Some(l) = leases.first() else {
                return Err(RpcError::internal("Missing LEASES attribute"));
            };
            let want_ip = l.iter().find(|(k, _)| k == "IP").map(|(_, x)| x.clone());
            let want_mac = l.iter().find(|(k, _)| k == "MAC").map(|(_, x)| x.clone());
            let mut done = false;
            for ar in v.ars.iter_mut() {
                for idx in 0..ar.size {
                    let (ip, mac) = super::super::render::lease_addr(ar, idx);
                    let hit = (want_ip.is_some() && ip == want_ip)
                        || (want_mac.is_some() && Some(mac) == want_mac);
                    if !hit {
                        continue;
                    }
                    if op == "hold" {
                        if ar.leases.contains_key(&idx) {
                            return Err(RpcError::internal("Address already in use"));
                        }
                        ar.leases.insert(idx, -1);
                        ar.ever_allocated = true;
                    } else if ar.leases.get(&idx) == Some(&-1) {
                        ar.leases.remove(&idx);
                    } else {
                        return Err(RpcError::internal("Address is not on hold"));
                    }
                    done = true;
                    break;
                }
                if done {
                    break;
                }
            }
            if !done {
                return Err(RpcError::internal("Address not in any address range"));
            }
        }
    }
    Ok(Ret::Int(id))
}

/// `one.vm.*` calls that change state.
pub(crate) fn write(
    s: &mut State,
    ctx: &Ctx,
    c: &Caller,
    op: &str,
    a: &Args,
    method: &str,
) -> R<Ret> {
    match op {
        "allocate" => {
            let t = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
            return Ok(Ret::Int(create_vm(s, ctx, c, t, None, a.bool(1), None)?));
        }
        "update" | "rename" | "chmod" | "chown" | "lock" | "unlock" | "deploy" | "action"
        | "migrate" | "attach" | "detach" | "attachnic" | "detachnic" | "resize" | "updateconf"
        | "snapshotcreate" | "snapshotrevert" | "snapshotdelete" | "disksnapshotcreate"
        | "disksnapshotrevert" | "disksnapshotdelete" | "disksnapshotrename" | "diskresize"
        | "recover" => {}
        _ => return Err(not_implemented(method)),
    }
    let (id, action) = if op == "action" {
        (a.int(1), a.str(0).to_owned())
    } else {
        (a.int(0), String::new())
    };
    let level = match op {
        // oned.conf's VM_ADMIN_OPERATIONS has deploy, migrate, recover and (un)resched
        "deploy" | "migrate" | "recover" => Op::Admin,
        "action" if matches!(action.as_str(), "resched" | "unresched") => Op::Admin,
        _ => Op::Manage,
    };
    {
        let o = s.get(Kind::Vm, id)?;
        let check_lock = !matches!(op, "lock" | "unlock");
        s.authorize(c, level, Kind::Vm, &o.meta, check_lock)?;
    }
    match op {
        "update" => {
            let o = s.get_mut(Kind::Vm, id)?;
            if let Some(v) = o.vm_mut() {
                update_tmpl(&mut v.user_template, a.str(1), a.int(2))?;
            }
        }
        "rename" => {
            check_name(a.str(1))?;
            s.get_mut(Kind::Vm, id)?.meta.name = a.str(1).to_owned();
        }
        "chmod" => {
            let o = s.get_mut(Kind::Vm, id)?;
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
            if !c.admin && uid >= 0 && uid != c.uid {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!(
                        "User [{}] : Not authorized to perform MANAGE USER [{uid}].",
                        c.uid
                    ),
                ));
            }
            let o = s.get_mut(Kind::Vm, id)?;
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
            let o = s.get_mut(Kind::Vm, id)?;
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
        "unlock" => s.get_mut(Kind::Vm, id)?.meta.lock = None,
        "deploy" => {
            let hid = a.int(1);
            let host = s.hosts.get(&hid).ok_or_else(|| no_exists("host", hid))?;
            let cid = host.cluster_id;
            let ds = a.int(3);
            let o = s.get_mut(Kind::Vm, id)?;
            let Some(v) = o.vm_mut() else {
                return Err(no_exists("virtual machine", id));
            };
            if !matches!(
                v.state,
                st::PENDING | st::HOLD | st::STOPPED | st::UNDEPLOYED
            ) {
                return Err(RpcError::action(format!(
                    "Deploy action is not available for state {}",
                    state_name(v)
                )));
            }
            v.forced_host = Some((hid, if ds < 0 { 0 } else { ds }));
            let _ = cid;
            place(s, ctx, id, hid, if ds < 0 { 0 } else { ds }, c);
        }
        "action" => vm_action(s, ctx, c, id, &action)?,
        "migrate" => migrate(s, c, id, a)?,
        "snapshotcreate" | "snapshotrevert" | "snapshotdelete" => {
            return snapshot(s, id, op, a).map(Ret::Int);
        }
        "disksnapshotcreate" | "disksnapshotrevert" | "disksnapshotdelete"
        | "disksnapshotrename" => {
            let r = disk_snapshot(s, id, op, a)?;
            snapshot_total_size(s, id, a.int(1));
            return Ok(Ret::Int(r));
        }
        "diskresize" => disk_resize(s, id, a)?,
        "recover" => recover(s, c, id, a.int(1))?,
        "attach" | "attachnic" => {
            let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            require_state(
                s,
                id,
                &[st::POWEROFF],
                &[lcm::RUNNING],
                if op == "attach" {
                    "disk-attach"
                } else {
                    "nic-attach"
                },
            )?;
            if op == "attach" {
                let d = t
                    .vectors("DISK")
                    .first()
                    .map(|d| d.to_vec())
                    .ok_or_else(|| RpcError::internal("Wrong format for DISK attribute"))?;
                let o = s.get_mut(Kind::Vm, id)?;
                // the context CD's DISK_ID counts as taken, as oned's get_next_disk_id
                let next = o
                    .template
                    .vectors("DISK")
                    .iter()
                    .chain(o.template.vectors("CONTEXT").iter())
                    .filter_map(|d| {
                        d.iter()
                            .find(|(k, _)| k == "DISK_ID")
                            .and_then(|(_, v)| v.parse::<i32>().ok())
                    })
                    .max()
                    .map(|m| m + 1)
                    .unwrap_or(0);
                let mut d = d;
                vt::vset(&mut d, "DISK_ID", next.to_string());
                let tsys = o.template.get("TM_MAD_SYSTEM").map(str::to_owned);
                let uid = o.meta.uid;
                let mut others: Vec<Vec<(String, String)>> = o
                    .template
                    .vectors("DISK")
                    .iter()
                    .map(|x| x.to_vec())
                    .collect();
                let has_context = !o.template.vectors("CONTEXT").is_empty();
                match vt::acquire_image_disk(s, uid, id, &mut d, tsys.as_deref(), true) {
                    Ok(true) => {}
                    Ok(false) => {
                        if vt::vget(&d, "DEV_PREFIX").is_none() {
                            vt::vset(&mut d, "DEV_PREFIX", "sd");
                        }
                    }
                    Err(e) => return Err(RpcError::internal(e)),
                }
                others.push(d);
                vt::assign_targets(&mut others, has_context);
                let mut d = others.pop().unwrap_or_default();
                d.sort();
                let snaps = vt::image_disk_snapshots(s, &d);
                let o = s.get_mut(Kind::Vm, id)?;
                o.template.push("DISK", AttrValue::Vector(d));
                if let (Some(sn), Some(v)) = (snaps, o.vm_mut()) {
                    v.disk_snapshots.push(sn);
                }
            } else {
                let mut nic = t
                    .vectors("NIC")
                    .first()
                    .map(|d| d.to_vec())
                    .ok_or_else(|| RpcError::internal("Wrong format for NIC attribute"))?;
                let next = {
                    let o = s.get(Kind::Vm, id)?;
                    o.template
                        .vectors("NIC")
                        .iter()
                        .filter_map(|d| {
                            d.iter()
                                .find(|(k, _)| k == "NIC_ID")
                                .and_then(|(_, v)| v.parse::<i32>().ok())
                        })
                        .max()
                        .map(|m| m + 1)
                        .unwrap_or(0)
                };
                lease_for_nic(s, c, id, &mut nic, next)?;
                nic.sort();
                s.get_mut(Kind::Vm, id)?
                    .template
                    .push("NIC", AttrValue::Vector(nic));
                vt::refresh_security_group_rules(s, id);
                vt::refresh_network_context(s, id);
            }
        }
        "detach" | "detachnic" => {
            require_state(
                s,
                id,
                &[st::POWEROFF],
                &[lcm::RUNNING],
                if op == "detach" {
                    "disk-detach"
                } else {
                    "nic-detach"
                },
            )?;
            let (name, key) = if op == "detach" {
                ("DISK", "DISK_ID")
            } else {
                ("NIC", "NIC_ID")
            };
            let want = a.int(1).to_string();
            let o = s.get_mut(Kind::Vm, id)?;
            let found: Vec<(String, String)> = o
                .template
                .vectors(name)
                .iter()
                .find(|v| v.iter().any(|(k, x)| k == key && *x == want))
                .map(|v| v.to_vec())
                .ok_or_else(|| RpcError::internal(format!("{name} {want} does not exist")))?;
            let rest: Vec<Vec<(String, String)>> = o
                .template
                .vectors(name)
                .iter()
                .filter(|v| !v.iter().any(|(k, x)| k == key && *x == want))
                .map(|v| v.to_vec())
                .collect();
            o.template.remove(name);
            for r in rest {
                o.template.push(name, AttrValue::Vector(r));
            }
            if op == "detach" {
                // a persistent image keeps the disk's snapshots; the VM loses them
                // (recorded-sweep 349/350)
                vt::save_disk_to_image(s, id, &found);
                if let Ok(o) = s.get_mut(Kind::Vm, id)
                    && let Some(v) = o.vm_mut()
                {
                    v.disk_snapshots.retain(|d| d.disk_id.to_string() != want);
                }
                if let Some(img) = vt::vget(&found, "IMAGE_ID").and_then(|x| x.parse().ok()) {
                    vt::release_images(s, id, Some(img));
                }
            }
            if op == "detachnic" {
                let get = |k: &str| {
                    found
                        .iter()
                        .find(|(n, _)| n == k)
                        .and_then(|(_, x)| x.parse::<i64>().ok())
                };
                if let (Some(vn), Some(ar)) = (get("NETWORK_ID"), get("AR_ID"))
                    && let Ok(vo) = s.get_mut(Kind::Vnet, vn as i32)
                    && let Extra::Vnet(v) = &mut vo.extra
                    && let Some(r) = v.ars.iter_mut().find(|r| i64::from(r.id) == ar)
                {
                    r.leases.retain(|_, vm| *vm != id);
                }
                vt::refresh_security_group_rules(s, id);
                vt::refresh_network_context(s, id);
            }
        }
        "resize" => {
            require_state(
                s,
                id,
                &[st::POWEROFF, st::UNDEPLOYED, st::PENDING, st::HOLD],
                &[],
                "resize",
            )?;
            let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            if let Some(m) = t.get("MEMORY")
                && m.parse::<i64>().map(|x| x <= 0).unwrap_or(true)
            {
                return Err(RpcError::internal(
                    "MEMORY attribute must be a positive integer value.",
                ));
            }
            let o = s.get_mut(Kind::Vm, id)?;
            for k in ["CPU", "VCPU", "MEMORY"] {
                if let Some(x) = t.get(k) {
                    o.template.set(k, x);
                }
            }
        }
        "updateconf" => {
            let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            let o = s.get_mut(Kind::Vm, id)?;
            for attr in t.attrs() {
                if [
                    "OS",
                    "FEATURES",
                    "INPUT",
                    "GRAPHICS",
                    "RAW",
                    "CONTEXT",
                    "CPU_MODEL",
                    "BACKUP_CONFIG",
                    "VIDEO",
                ]
                .contains(&attr.name.as_str())
                {
                    if a.int(2) == 0 || !matches!(attr.value, AttrValue::Vector(_)) {
                        o.template.remove(&attr.name);
                        o.template.push(&attr.name, attr.value.clone());
                    } else if let AttrValue::Vector(new) = &attr.value {
                        let mut cur = o
                            .template
                            .vectors(&attr.name)
                            .first()
                            .map(|v| v.to_vec())
                            .unwrap_or_default();
                        for (k, x) in new {
                            cur.retain(|(n, _)| n != k);
                            cur.push((k.clone(), x.clone()));
                        }
                        o.template.remove(&attr.name);
                        o.template.push(&attr.name, AttrValue::Vector(cur));
                    }
                }
            }
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

pub(crate) fn require_state(
    s: &State,
    id: i32,
    states: &[i32],
    running_lcm: &[i32],
    action: &str,
) -> R<()> {
    let o = s.get(Kind::Vm, id)?;
    let Some(v) = o.vm() else {
        return Err(no_exists("virtual machine", id));
    };
    let ok =
        states.contains(&v.state) || (v.state == st::ACTIVE && running_lcm.contains(&v.lcm_state));
    if ok {
        Ok(())
    } else {
        Err(RpcError::action(format!(
            "Error performing action \"{action}\": This action is not available for state {}",
            state_name(v)
        )))
    }
}

/// Close the current history record.
fn close_history(v: &mut VmData, action: i32, c: Option<&Caller>, req: i32) {
    let t = now();
    if let Some(h) = v.history.last_mut()
        && h.etime == 0
    {
        h.etime = t;
        if h.retime == 0 {
            h.retime = t;
        }
        h.action = action;
        if let Some(c) = c {
            h.uid = c.uid;
            h.gid = c.gid;
            h.req_id = req;
        }
    }
}

pub(crate) fn vm_action(s: &mut State, ctx: &Ctx, c: &Caller, id: i32, action: &str) -> R<()> {
    let known = [
        "terminate",
        "terminate-hard",
        "undeploy",
        "undeploy-hard",
        "hold",
        "release",
        "stop",
        "suspend",
        "resume",
        "reboot",
        "reboot-hard",
        "poweroff",
        "poweroff-hard",
        "resched",
        "unresched",
    ];
    if !known.contains(&action) {
        return Err(RpcError::action(format!(
            "Action \"{action}\" is not supported"
        )));
    }
    let req = s.next_req_id();
    let o = s.get_mut(Kind::Vm, id)?;
    let Some(v) = o.vm_mut() else {
        return Err(no_exists("virtual machine", id));
    };
    let wrong = |v: &VmData| {
        RpcError::action(format!(
            "Error performing action \"{action}\": This action is not available for state {}",
            state_name(v)
        ))
    };
    let running = v.state == st::ACTIVE && v.lcm_state == lcm::RUNNING;
    let num = action_number(action);
    let mut released = false;
    match action {
        "terminate" | "terminate-hard" => match v.state {
            st::PENDING | st::HOLD | st::STOPPED | st::UNDEPLOYED => {
                close_history(v, num, Some(c), req);
                set_state(v, st::DONE, lcm::INIT);
                v.etime = now();
                released = true;
            }
            st::POWEROFF | st::SUSPENDED => {
                close_history(v, num, Some(c), req);
                set_state(v, st::ACTIVE, lcm::EPILOG);
            }
            _ if running => {
                close_history(v, num, Some(c), req);
                set_state(
                    v,
                    st::ACTIVE,
                    if action == "terminate" {
                        lcm::SHUTDOWN
                    } else {
                        lcm::EPILOG
                    },
                );
            }
            _ => return Err(wrong(v)),
        },
        "poweroff" | "poweroff-hard" => {
            if !running {
                return Err(wrong(v));
            }
            close_history(v, num, Some(c), req);
            set_state(v, st::ACTIVE, lcm::SHUTDOWN_POWEROFF);
        }
        "undeploy" | "undeploy-hard" => {
            if running {
                close_history(v, num, Some(c), req);
                set_state(v, st::ACTIVE, lcm::SHUTDOWN_UNDEPLOY);
            } else if v.state == st::POWEROFF {
                close_history(v, num, Some(c), req);
                set_state(v, st::ACTIVE, lcm::EPILOG_UNDEPLOY);
            } else {
                return Err(wrong(v));
            }
        }
        "stop" if running => {
            close_history(v, num, Some(c), req);
            set_state(v, st::ACTIVE, lcm::SAVE_STOP);
        }
        "suspend" if running => {
            close_history(v, num, Some(c), req);
            set_state(v, st::ACTIVE, lcm::SAVE_SUSPEND);
        }
        "hold" => {
            if v.state != st::PENDING {
                return Err(wrong(v));
            }
            set_state(v, st::HOLD, lcm::INIT);
        }
        "release" => {
            if v.state != st::HOLD {
                return Err(wrong(v));
            }
            set_state(v, st::PENDING, lcm::INIT);
        }
        "resume" => match v.state {
            st::POWEROFF | st::SUSPENDED => {
                reopen_history(v);
                let l = if v.state == st::POWEROFF {
                    lcm::BOOT_POWEROFF
                } else {
                    lcm::BOOT_SUSPENDED
                };
                set_state(v, st::ACTIVE, l);
            }
            st::STOPPED | st::UNDEPLOYED => set_state(v, st::PENDING, lcm::INIT),
            _ => return Err(wrong(v)),
        },
        "reboot" | "reboot-hard" => {
            if !running {
                return Err(wrong(v));
            }
        }
        "resched" | "unresched" => {
            if !running && v.state != st::POWEROFF {
                return Err(wrong(v));
            }
            v.resched = i32::from(action == "resched");
        }
        _ => return Err(wrong(v)),
    }
    if released {
        release_vm_leases(s, id);
    }
    let _ = ctx;
    Ok(())
}

/// `one.vm.migrate`: a live migration of a RUNNING VM (MIGRATE), or a cold one of a
/// RUNNING (SAVE_MIGRATE, PROLOG_MIGRATE, BOOT), POWEROFF (PROLOG_MIGRATE_POWEROFF) or
/// SUSPENDED (PROLOG_MIGRATE_SUSPEND) VM; the current history record closes with the
/// migrate action and a new one opens on the target host and system datastore.
fn migrate(s: &mut State, c: &Caller, id: i32, a: &Args) -> R<()> {
    let (hid, live, ds_arg) = (a.int(1), a.bool(2), a.int(4));
    let (hostname, vm_mad, cid) = {
        let h = s.hosts.get(&hid).ok_or_else(|| no_exists("host", hid))?;
        (h.name.clone(), h.vm_mad.clone(), h.cluster_id)
    };
    let ds_clusters: BTreeMap<i32, BTreeSet<i32>> = s
        .pools
        .get(&Kind::Datastore)
        .map(|p| {
            p.objs
                .iter()
                .filter_map(|(i, o)| match &o.extra {
                    Extra::Datastore(d) => Some((*i, d.clusters.clone())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let req = s.next_req_id();
    let o = s.get_mut(Kind::Vm, id)?;
    let Some(v) = o.vm_mut() else {
        return Err(no_exists("virtual machine", id));
    };
    let running = v.state == st::ACTIVE && v.lcm_state == lcm::RUNNING;
    if !(running || matches!(v.state, st::POWEROFF | st::SUSPENDED)) {
        return Err(RpcError::action(format!(
            "Migrate action is not available for state {}",
            state_name(v)
        )));
    }
    let Some(last) = v.history.last().cloned() else {
        return Err(RpcError::action(format!(
            "Migrate action is not available for state {}",
            state_name(v)
        )));
    };
    let ds_id = if ds_arg < 0 { last.ds_id } else { ds_arg };
    if last.hid == hid && last.ds_id == ds_id {
        return Err(RpcError::action(format!(
            "VM is already running on host [{hid}] and datastore [{ds_id}]"
        )));
    }
    // VirtualMachineAPI::migrate: the system datastore must be in the new host's cluster
    let ds_clusters = ds_clusters.get(&ds_id).cloned().unwrap_or_default();
    if !ds_clusters.is_empty() && !ds_clusters.contains(&cid) {
        let joined = ds_clusters
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        return Err(RpcError::action(format!(
            "Cannot migrate VM [{id}] to host [{hid}] and system datastore [{ds_id}]. Host is in cluster [{cid}], and the datastore is in cluster [{joined}]"
        )));
    }
    let live = live && running;
    close_history(v, if live { 2 } else { 1 }, Some(c), req);
    let t = now();
    let mut next = continued(&last, t);
    next.hostname.clone_from(&hostname);
    next.hid = hid;
    next.cid = cid;
    next.vm_mad.clone_from(&vm_mad);
    next.ds_id = ds_id;
    if live {
        next.rstime = t;
    } else {
        next.pstime = t;
    }
    v.history.push(next);
    let next = match v.state {
        st::POWEROFF => lcm::PROLOG_MIGRATE_POWEROFF,
        st::SUSPENDED => lcm::PROLOG_MIGRATE_SUSPEND,
        _ if live => lcm::MIGRATE,
        _ => lcm::SAVE_MIGRATE,
    };
    set_state(v, st::ACTIVE, next);
    let name = o.meta.name.clone();
    if let Some(v) = o.vm_mut() {
        v.deploy_id = format!("{hostname}:{name}:{vm_mad}");
    }
    Ok(())
}

/// `one.vm.snapshotcreate|revert|delete`: system snapshots of a RUNNING VM, kept as
/// `SNAPSHOT` vectors of its template (the active one marked `ACTIVE = "YES"`); the VM
/// passes through HOTPLUG_SNAPSHOT. Create answers the new snapshot's id, the others the
/// VM's id.
fn snapshot(s: &mut State, id: i32, op: &str, a: &Args) -> R<i32> {
    let o = s.get_mut(Kind::Vm, id)?;
    let Some(v) = o.vm() else {
        return Err(no_exists("virtual machine", id));
    };
    let snap_arg = a.int(1);
    if v.state != st::ACTIVE || v.lcm_state != lcm::RUNNING {
        let state = state_name(v);
        return Err(RpcError::action(match op {
            "snapshotcreate" => {
                format!("Could not create a new snapshot for VM {id}, wrong state {state}.")
            }
            "snapshotrevert" => {
                format!("Could not revert VM {id} to snapshot {snap_arg}, wrong state {state}.")
            }
            _ => format!("Could not delete snapshot {snap_arg} for VM {id}, wrong state {state}."),
        }));
    }
    let snaps: Vec<Vec<(String, String)>> = o
        .template
        .vectors("SNAPSHOT")
        .into_iter()
        .map(<[(String, String)]>::to_vec)
        .collect();
    let snap_id = |v: &[(String, String)]| {
        v.iter()
            .find(|(k, _)| k == "SNAPSHOT_ID")
            .and_then(|(_, x)| x.parse::<i32>().ok())
    };
    let mut kept: Vec<Vec<(String, String)>> = Vec::with_capacity(snaps.len() + 1);
    let answer = match op {
        "snapshotcreate" => {
            let next = snaps
                .iter()
                .filter_map(|v| snap_id(v))
                .max()
                .map_or(0, |m| m + 1);
            let name = match a.str(1) {
                "" => format!("snapshot-{next}"),
                n => n.to_owned(),
            };
            for mut v in snaps {
                v.retain(|(k, _)| k != "ACTIVE");
                kept.push(v);
            }
            // oned marks a snapshot ACTIVE only while the driver works on it
            // (recorded-sweep 362 and 364 show none afterwards)
            kept.push(vec![
                ("HYPERVISOR_ID".into(), format!("snap-{next}")),
                ("NAME".into(), name),
                ("SNAPSHOT_ID".into(), next.to_string()),
                ("SYSTEM_DISK_SIZE".into(), "0".into()),
                ("TIME".into(), now().to_string()),
            ]);
            next
        }
        _ => {
            if !snaps.iter().any(|v| snap_id(v) == Some(snap_arg)) {
                return Err(RpcError::action(format!(
                    "Could not find snapshot {snap_arg} of VM {id}."
                )));
            }
            for mut v in snaps {
                let this = snap_id(&v) == Some(snap_arg);
                if op == "snapshotdelete" {
                    if !this {
                        kept.push(v);
                    }
                    continue;
                }
                v.retain(|(k, _)| k != "ACTIVE");
                kept.push(v);
            }
            id
        }
    };
    o.template.remove("SNAPSHOT");
    for v in kept {
        o.template.push("SNAPSHOT", AttrValue::Vector(v));
    }
    if let Some(v) = o.vm_mut() {
        set_state(v, st::ACTIVE, lcm::HOTPLUG_SNAPSHOT);
    }
    Ok(answer)
}

/// A disk's DISK_SNAPSHOT_TOTAL_SIZE (an image disk's attribute) follows its snapshots.
fn snapshot_total_size(s: &mut State, id: i32, disk_id: i32) {
    let Ok(o) = s.get_mut(Kind::Vm, id) else {
        return;
    };
    let total: i64 = o
        .vm()
        .and_then(|v| v.disk_snapshots.iter().find(|d| d.disk_id == disk_id))
        .map_or(0, |d| d.snaps.iter().map(|x| x.size).sum());
    let want = disk_id.to_string();
    for d in o.template.vectors_mut("DISK") {
        if vt::vget(d, "DISK_ID") == Some(want.as_str())
            && vt::vget(d, "DISK_SNAPSHOT_TOTAL_SIZE").is_some()
        {
            vt::vset(d, "DISK_SNAPSHOT_TOTAL_SIZE", total.to_string());
        }
    }
}

/// `one.vm.disksnapshot{create,revert,delete,rename}`: a tree of snapshots per disk (the
/// `SNAPSHOTS` elements of `one.vm.info`). Create works on RUNNING, POWEROFF and
/// SUSPENDED VMs, revert only when the VM is off (POWEROFF or SUSPENDED), delete follows
/// oned's rules for ALLOW_ORPHANS = NO (a leaf always goes); each passes through the matching
/// DISK_SNAPSHOT_* state. Create answers the snapshot id, the others the VM id.
fn disk_snapshot(s: &mut State, id: i32, op: &str, a: &Args) -> R<i32> {
    let (disk_id, snap_arg) = (a.int(1), a.int(2));
    let o = s.get_mut(Kind::Vm, id)?;
    let disk_size = o
        .template
        .vectors("DISK")
        .into_iter()
        .find(|d| {
            d.iter()
                .any(|(k, v)| k == "DISK_ID" && v == &disk_id.to_string())
        })
        .map(|d| {
            let size = d
                .iter()
                .find(|(k, _)| k == "SIZE")
                .and_then(|(_, v)| v.parse::<i64>().ok())
                .unwrap_or(0);
            let persistent = d
                .iter()
                .any(|(k, v)| k == "PERSISTENT" && v.eq_ignore_ascii_case("YES"));
            (size, persistent)
        });
    let persistent = disk_size.is_some_and(|d| d.1);
    let disk_size = disk_size.map(|d| d.0);
    let Some(v) = o.vm_mut() else {
        return Err(no_exists("virtual machine", id));
    };
    let running = v.state == st::ACTIVE && v.lcm_state == lcm::RUNNING;
    let allowed = match op {
        "disksnapshotrevert" => matches!(v.state, st::POWEROFF | st::SUSPENDED),
        "disksnapshotrename" => true,
        _ => running || matches!(v.state, st::POWEROFF | st::SUSPENDED),
    };
    let what = match op {
        "disksnapshotcreate" => "create a new disk snapshot",
        "disksnapshotrevert" => "revert to a disk snapshot",
        "disksnapshotdelete" => "delete a disk snapshot",
        _ => "rename a disk snapshot",
    };
    if !allowed {
        return Err(RpcError::action(format!(
            "Could not {what} for VM {id}, wrong state {}.",
            state_name(v)
        )));
    }
    let Some(size) = disk_size else {
        return Err(RpcError::action(format!(
            "Could not {what} for VM {id}: disk {disk_id} does not exist."
        )));
    };
    let pos = v.disk_snapshots.iter().position(|d| d.disk_id == disk_id);
    let missing = || {
        RpcError::action(format!(
            "Could not {what} for VM {id}: snapshot {snap_arg} of disk {disk_id} does not exist."
        ))
    };
    let answer = if op == "disksnapshotcreate" {
        let pos = match pos {
            Some(p) => p,
            None => {
                v.disk_snapshots.push(DiskSnapshots {
                    disk_id,
                    next: 0,
                    snaps: Vec::new(),
                });
                v.disk_snapshots.len() - 1
            }
        };
        let d = &mut v.disk_snapshots[pos];
        let snap = d.next;
        let parent = d.snaps.iter().find(|x| x.active).map_or(-1, |x| x.id);
        for x in &mut d.snaps {
            x.active = false;
        }
        d.snaps.push(DiskSnap {
            id: snap,
            name: match a.str(2) {
                "" => format!("snapshot-{snap}"),
                n => n.to_owned(),
            },
            date: now(),
            parent,
            size,
            active: true,
        });
        d.next += 1;
        snap
    } else {
        let d = pos
            .and_then(|p| v.disk_snapshots.get_mut(p))
            .ok_or_else(missing)?;
        let idx = d
            .snaps
            .iter()
            .position(|x| x.id == snap_arg)
            .ok_or_else(missing)?;
        match op {
            "disksnapshotrevert" => {
                for (i, x) in d.snaps.iter_mut().enumerate() {
                    x.active = i == idx;
                }
            }
            "disksnapshotdelete" => {
                // Snapshots::test_delete and delete_snapshot in ALLOW_ORPHANS = NO
                // (DENY) mode: a leaf goes, active or not; a snapshot with one child
                // goes too (the child moves up) unless it is the active one
                let children = |p: i32| -> Vec<i32> {
                    d.snaps
                        .iter()
                        .filter(|x| x.parent == p)
                        .map(|x| x.id)
                        .collect()
                };
                let mine = children(snap_arg);
                let refuse = |m: &str| Err(RpcError::action(m.to_owned()));
                if persistent && snap_arg == 0 {
                    return refuse("Cannot delete snapshot 0 for persistent disk images");
                }
                if mine.len() > 1 {
                    return refuse("Cannot delete snapshot with more than one children");
                }
                let parent = d.snaps[idx].parent;
                if mine.len() == 1 {
                    if d.snaps[idx].active {
                        return refuse("Cannot delete the active snapshot with children");
                    }
                    let grand = children(mine[0]);
                    let child_active = d.snaps.iter().any(|x| x.id == mine[0] && x.active);
                    if grand.len() > 1 || (grand.len() == 1 && child_active) {
                        return refuse("Cannot delete snapshot if child has children");
                    }
                    if parent != -1 && children(parent).len() > 1 {
                        return refuse("Cannot delete snapshot if parent has more than one child");
                    }
                }
                let was_active = d.snaps[idx].active;
                d.snaps.remove(idx);
                for x in &mut d.snaps {
                    if x.parent == snap_arg {
                        x.parent = parent;
                    }
                    if was_active && x.id == parent {
                        x.active = true;
                    }
                }
            }
            _ => {
                check_name(a.str(3))?;
                d.snaps[idx].name = a.str(3).to_owned();
            }
        }
        id
    };
    let next = match (op, v.state) {
        ("disksnapshotrename", _) => None,
        ("disksnapshotcreate", st::POWEROFF) => Some(lcm::DISK_SNAPSHOT_POWEROFF),
        ("disksnapshotcreate", st::SUSPENDED) => Some(lcm::DISK_SNAPSHOT_SUSPENDED),
        ("disksnapshotcreate", _) => Some(lcm::DISK_SNAPSHOT),
        ("disksnapshotrevert", st::POWEROFF) => Some(lcm::DISK_SNAPSHOT_REVERT_POWEROFF),
        ("disksnapshotrevert", _) => Some(lcm::DISK_SNAPSHOT_REVERT_SUSPENDED),
        (_, st::POWEROFF) => Some(lcm::DISK_SNAPSHOT_DELETE_POWEROFF),
        (_, st::SUSPENDED) => Some(lcm::DISK_SNAPSHOT_DELETE_SUSPENDED),
        _ => Some(lcm::DISK_SNAPSHOT_DELETE),
    };
    if let Some(l) = next {
        set_state(v, st::ACTIVE, l);
    }
    Ok(answer)
}

/// `one.vm.diskresize(id, disk_id, size)`: grows a disk of a RUNNING, POWEROFF or
/// UNDEPLOYED VM (through DISK_RESIZE, DISK_RESIZE_POWEROFF or DISK_RESIZE_UNDEPLOYED);
/// the new size (MiB) must be larger than the current one.
fn disk_resize(s: &mut State, id: i32, a: &Args) -> R<()> {
    let (disk_id, size_text) = (a.int(1), a.str(2));
    let new_size: i64 = size_text
        .trim()
        .parse()
        .map_err(|_| RpcError::action(format!("Invalid disk size: {size_text}")))?;
    let o = s.get_mut(Kind::Vm, id)?;
    let Some(v) = o.vm() else {
        return Err(no_exists("virtual machine", id));
    };
    let next = match (v.state, v.lcm_state) {
        (st::ACTIVE, lcm::RUNNING) => lcm::DISK_RESIZE,
        (st::POWEROFF, _) => lcm::DISK_RESIZE_POWEROFF,
        (st::UNDEPLOYED, _) => lcm::DISK_RESIZE_UNDEPLOYED,
        _ => {
            return Err(RpcError::action(format!(
                "Could not resize disk {disk_id} of VM {id}, wrong state {}.",
                state_name(v)
            )));
        }
    };
    let disk_key = disk_id.to_string();
    let mut disks = o.template.vectors_mut("DISK");
    let Some(disk) = disks
        .iter_mut()
        .find(|d| d.iter().any(|(k, v)| k == "DISK_ID" && *v == disk_key))
    else {
        return Err(RpcError::action(format!(
            "Could not resize disk {disk_id} of VM {id}: the disk does not exist."
        )));
    };
    let current = disk
        .iter()
        .find(|(k, _)| k == "SIZE")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .unwrap_or(0);
    if new_size <= current {
        return Err(RpcError::action(
            "New disk size has to be greater than current one",
        ));
    }
    match disk.iter_mut().find(|(k, _)| k == "SIZE") {
        Some(entry) => entry.1 = new_size.to_string(),
        None => {
            disk.push(("SIZE".into(), new_size.to_string()));
            disk.sort();
        }
    }
    if let Some(v) = o.vm_mut() {
        set_state(v, st::ACTIVE, next);
    }
    Ok(())
}

/// Pairs of a transitional LCM state and the failure state a failed driver leaves.
const FAILURES: [(i32, i32); 10] = [
    (lcm::PROLOG, lcm::PROLOG_FAILURE),
    (lcm::PROLOG_MIGRATE, lcm::PROLOG_MIGRATE_FAILURE),
    (lcm::PROLOG_RESUME, lcm::PROLOG_RESUME_FAILURE),
    (lcm::PROLOG_UNDEPLOY, lcm::PROLOG_UNDEPLOY_FAILURE),
    (lcm::BOOT, lcm::BOOT_FAILURE),
    (lcm::BOOT_STOPPED, lcm::BOOT_STOPPED_FAILURE),
    (lcm::BOOT_UNDEPLOY, lcm::BOOT_UNDEPLOY_FAILURE),
    (lcm::EPILOG, lcm::EPILOG_FAILURE),
    (lcm::EPILOG_STOP, lcm::EPILOG_STOP_FAILURE),
    (lcm::EPILOG_UNDEPLOY, lcm::EPILOG_UNDEPLOY_FAILURE),
];

/// `one.vm.recover(id, operation)`: 0 failure (a transitional phase fails: PROLOG →
/// PROLOG_FAILURE, ...), 1 success (the phase, or the failed one, completes now), 2 retry
/// (a failed phase starts again), 3 delete and 5 delete-db (DONE, leases released),
/// 4 delete-recreate (back to PENDING, same id, scheduled again).
fn recover(s: &mut State, c: &Caller, id: i32, operation: i32) -> R<()> {
    let req = s.next_req_id();
    let o = s.get_mut(Kind::Vm, id)?;
    let Some(v) = o.vm_mut() else {
        return Err(no_exists("virtual machine", id));
    };
    // VirtualMachineAPI::recover, DispatchManager::recover/retry/delete_vm/
    // delete_recreate and LifeCycleManager::recover/retry: an ACTIVE VM in a state
    // without a failure (RUNNING, ...) is left as it is, a deleted VM stays deleted
    let active = v.state == st::ACTIVE;
    let wrong = |v: &VmData, what: &str| {
        RpcError::action(format!(
            "Could not perform a {what} on VM {id}, wrong state {}.",
            state_name(v)
        ))
    };
    let failed_from = FAILURES
        .iter()
        .find(|(_, f)| *f == v.lcm_state)
        .map(|p| p.0);
    let mut release = false;
    match operation {
        0 | 1 if !active => return Err(wrong(v, "recover operation")),
        0 if v.lcm_state == lcm::UNKNOWN => set_state(v, st::ACTIVE, lcm::RUNNING),
        0 => {
            if let Some((_, failure)) = FAILURES.iter().find(|(from, _)| *from == v.lcm_state) {
                set_state(v, st::ACTIVE, *failure);
            }
        }
        1 if matches!(v.lcm_state, lcm::INIT | lcm::RUNNING) => {}
        1 if v.lcm_state == lcm::UNKNOWN => set_state(v, st::ACTIVE, lcm::RUNNING),
        1 => {
            let phase = failed_from.unwrap_or(v.lcm_state);
            release = advance(v, phase, now()).unwrap_or(false);
        }
        2 if !active => return Err(wrong(v, "retry")),
        2 => {
            if let Some(phase) = failed_from {
                set_state(v, st::ACTIVE, phase);
            }
        }
        3 | 5 if v.state == st::DONE => {}
        3 | 5 => {
            close_history(v, action_number("delete"), Some(c), req);
            set_state(v, st::DONE, lcm::INIT);
            v.etime = now();
            release = true;
        }
        4 if v.state == st::DONE => {
            return Err(RpcError::action(
                "Cannot delete-recreate a VM already in DONE state",
            ));
        }
        4 => {
            close_history(v, action_number("delete-recreate"), Some(c), req);
            set_state(v, st::PENDING, lcm::INIT);
            v.forced_host = None;
            v.deploy_id.clear();
        }
        _ => return Err(RpcError::action("Wrong recovery operation code")),
    }
    if release {
        release_vm_leases(s, id);
    }
    Ok(())
}

/// Open a new history record on the same host (resume after poweroff/suspend).
fn reopen_history(v: &mut VmData) {
    if let Some(last) = v.history.last() {
        let t = now();
        let mut next = continued(last, t);
        next.rstime = t;
        v.history.push(next);
    }
}

/// The record that follows `last` (next sequence number, opened at `t`, nothing closed
/// yet), on the same host until the caller says otherwise.
fn continued(last: &History, t: i64) -> History {
    History {
        seq: last.seq + 1,
        stime: t,
        etime: 0,
        pstime: 0,
        petime: 0,
        rstime: 0,
        retime: 0,
        estime: 0,
        eetime: 0,
        action: 0,
        uid: -1,
        gid: -1,
        req_id: -1,
        vm_copy: None,
        ..last.clone()
    }
}

/// oned keeps with every history record the VM's document as it was when the record was
/// closed (`one.vmpool.accounting` shows it, recorded-sweep 416): the records closed since
/// the last call get theirs (the VM's own HISTORY_RECORDS left empty).
pub(crate) fn copy_closed_history(s: &mut State) {
    let pending: Vec<i32> = s
        .pool(Kind::Vm)
        .objs
        .values()
        .filter(|o| {
            o.vm().is_some_and(|v| {
                v.history
                    .iter()
                    .any(|h| h.etime != 0 && h.vm_copy.is_none())
            })
        })
        .map(|o| o.meta.id)
        .collect();
    for id in pending {
        let Ok(o) = s.get(Kind::Vm, id) else {
            continue;
        };
        let mut doc = String::new();
        render::obj(&mut doc, s, o, false, false);
        if let (Some(i), Some(j)) = (
            doc.find("<HISTORY_RECORDS>"),
            doc.find("</HISTORY_RECORDS>"),
        ) {
            doc.replace_range(i..j + "</HISTORY_RECORDS>".len(), "<HISTORY_RECORDS/>");
        }
        if let Ok(o) = s.get_mut(Kind::Vm, id)
            && let Some(v) = o.vm_mut()
        {
            for h in v
                .history
                .iter_mut()
                .filter(|h| h.etime != 0 && h.vm_copy.is_none())
            {
                h.vm_copy = Some(doc.clone());
            }
        }
    }
}

/// Put a VM on a host: new history record, PROLOG (or PROLOG_RESUME / PROLOG_UNDEPLOY).
fn place(s: &mut State, _ctx: &Ctx, id: i32, hid: i32, ds_id: i32, c: &Caller) {
    let Some(h) = s.hosts.get(&hid) else { return };
    let (hostname, vm_mad, cid) = (h.name.clone(), h.vm_mad.clone(), h.cluster_id);
    let tm_mad = s
        .pool(Kind::Datastore)
        .objs
        .get(&ds_id)
        .and_then(|d| match &d.extra {
            Extra::Datastore(x) => Some(x.tm_mad.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "local".into());
    let ds_name = s
        .pool(Kind::Datastore)
        .objs
        .get(&ds_id)
        .map(|d| d.meta.name.clone())
        .unwrap_or_default();
    let Ok(o) = s.get_mut(Kind::Vm, id) else {
        return;
    };
    let name = o.meta.name.clone();
    for d in o.template.vectors_mut("DISK") {
        for (k, v) in [
            ("CLUSTER_ID", cid.to_string()),
            ("DATASTORE", ds_name.clone()),
            ("DATASTORE_ID", ds_id.to_string()),
            ("TM_MAD", tm_mad.clone()),
        ] {
            if !d.iter().any(|(n, _)| n == k) {
                d.push((k.to_owned(), v));
            }
        }
        d.sort();
    }
    o.template.set("TM_MAD_SYSTEM", tm_mad.clone());
    vt::deploy(s, id, ds_id, cid);
    let Ok(o) = s.get_mut(Kind::Vm, id) else {
        return;
    };
    let Some(v) = o.vm_mut() else { return };
    let t = now();
    let seq = v.history.len() as i32;
    v.history.push(History {
        seq,
        hostname: hostname.clone(),
        hid,
        cid,
        stime: t,
        etime: 0,
        vm_mad: vm_mad.clone(),
        tm_mad,
        ds_id,
        pstime: t,
        petime: 0,
        rstime: 0,
        retime: 0,
        estime: 0,
        eetime: 0,
        action: 0,
        uid: -1,
        gid: -1,
        req_id: -1,
        vm_copy: None,
    });
    let l = match v.state {
        st::STOPPED => lcm::PROLOG_RESUME,
        st::UNDEPLOYED => lcm::PROLOG_UNDEPLOY,
        _ => lcm::PROLOG,
    };
    // A stopped/undeployed VM being resumed passes through PENDING first.
    let l = match (v.prev_state, v.state) {
        (st::STOPPED, st::PENDING) => lcm::PROLOG_RESUME,
        (st::UNDEPLOYED, st::PENDING) => lcm::PROLOG_UNDEPLOY,
        _ => l,
    };
    set_state(v, st::ACTIVE, l);
    v.deploy_id = format!("{hostname}:{name}:{vm_mad}");
    v.forced_host = None;
    let _ = c;
}

/// CPU (percent) and memory (KB) in use per host, computed once per scheduler pass.
fn usage_map(s: &State) -> HashMap<i32, (i64, i64)> {
    s.hosts
        .keys()
        .map(|h| {
            let (_, c, m) = super::super::render::host_usage(s, *h);
            (*h, (c, m))
        })
        .collect()
}

fn host_fits(s: &State, usage: &HashMap<i32, (i64, i64)>, hid: i32, cpu: f64, mem: i64) -> bool {
    let Some(h) = s.hosts.get(&hid) else {
        return false;
    };
    if h.state != 2 {
        return false;
    }
    let (used_cpu, used_mem) = usage.get(&hid).copied().unwrap_or((0, 0));
    (used_cpu as f64 + cpu * 100.0) <= h.total_cpu as f64 && used_mem + mem * 1024 <= h.total_mem
}

/// One scheduler pass: advance every VM whose phase is over. Returns whether anything
/// changed. `phase_due(vm)` says whether the VM's current transitional phase has lasted
/// long enough.
pub(crate) fn tick(
    s: &mut State,
    ctx: &Ctx,
    phase_due: &mut dyn FnMut(i32, i32, i32) -> bool,
) -> bool {
    let t = now();
    // Hosts leave INIT once monitored.
    for h in s.hosts.values_mut() {
        if h.state == 0 && h.monitored_at <= t {
            h.prev_state = 2;
            h.state = 2;
        }
    }
    for o in s.pool_mut(Kind::Image).objs.values_mut() {
        if let Extra::Image(i) = &mut o.extra
            && i.state == 0
            && i.ready_at <= t
        {
            i.state = 1;
        }
    }
    let ms = now_ms();
    for o in s.pool_mut(Kind::Vnet).objs.values_mut() {
        if let Extra::Vnet(v) = &mut o.extra
            && v.state == 2
            && v.ready_at_ms <= ms
        {
            v.state = 1;
            v.prev_state = 1;
        }
    }
    let mut changed = false;
    let ids: Vec<(i32, i32, i32)> = s
        .pool(Kind::Vm)
        .objs
        .values()
        .filter_map(|o| o.vm().map(|v| (o.meta.id, v.state, v.lcm_state)))
        .filter(|(_, st_, l)| *st_ == st::PENDING || (*st_ == st::ACTIVE && *l != lcm::RUNNING))
        .collect();
    let mut usage: Option<HashMap<i32, (i64, i64)>> = None;
    for (id, state, l) in ids {
        if !phase_due(id, state, l) {
            continue;
        }
        if state == st::PENDING {
            let (cpu, mem, forced) = {
                let Ok(o) = s.get(Kind::Vm, id) else { continue };
                let cpu = o
                    .template
                    .get("CPU")
                    .and_then(|x| x.parse::<f64>().ok())
                    .unwrap_or(0.0);
                let mem = o
                    .template
                    .get("MEMORY")
                    .and_then(|x| x.parse::<i64>().ok())
                    .unwrap_or(0);
                (cpu, mem, o.vm().and_then(|v| v.forced_host))
            };
            let usage = usage.get_or_insert_with(|| usage_map(s));
            let target = match forced {
                Some((h, d)) => Some((h, d)),
                None => s
                    .hosts
                    .keys()
                    .copied()
                    .find(|h| host_fits(s, usage, *h, cpu, mem))
                    .map(|h| (h, 0)),
            };
            if let Some((hid, ds)) = target {
                let e = usage.entry(hid).or_insert((0, 0));
                e.0 += (cpu * 100.0) as i64;
                e.1 += mem * 1024;
                let admin = Caller {
                    uid: 0,
                    gid: 0,
                    groups: [0].into(),
                    admin: true,
                };
                place(s, ctx, id, hid, ds, &admin);
                changed = true;
            }
            continue;
        }
        let Ok(o) = s.get_mut(Kind::Vm, id) else {
            continue;
        };
        let Some(v) = o.vm_mut() else { continue };
        let Some(release) = advance(v, l, now()) else {
            continue;
        };
        changed = true;
        if release {
            release_vm_leases(s, id);
        }
    }
    changed
}

/// The end of a VM's transitional phase `l` (PROLOG → BOOT, BOOT → RUNNING, EPILOG →
/// DONE, ...): moves `v` on and says whether its leases are to be released; `None` when
/// `l` is not a phase that ends by itself (RUNNING, the *_FAILURE states, ...).
fn advance(v: &mut VmData, l: i32, t: i64) -> Option<bool> {
    let mut release = false;
    match l {
        lcm::PROLOG | lcm::PROLOG_RESUME | lcm::PROLOG_UNDEPLOY => {
            if let Some(h) = v.history.last_mut() {
                h.petime = t;
                h.rstime = t;
            }
            let next = match l {
                lcm::PROLOG_RESUME => lcm::BOOT_STOPPED,
                lcm::PROLOG_UNDEPLOY => lcm::BOOT_UNDEPLOY,
                _ => lcm::BOOT,
            };
            set_state(v, st::ACTIVE, next);
        }
        lcm::BOOT
        | lcm::BOOT_POWEROFF
        | lcm::BOOT_SUSPENDED
        | lcm::BOOT_STOPPED
        | lcm::BOOT_UNDEPLOY => {
            set_state(v, st::ACTIVE, lcm::RUNNING);
            v.prev_state = st::ACTIVE;
            v.prev_lcm_state = lcm::RUNNING;
        }
        lcm::MIGRATE => {
            set_state(v, st::ACTIVE, lcm::RUNNING);
            v.prev_state = st::ACTIVE;
            v.prev_lcm_state = lcm::RUNNING;
        }
        lcm::SAVE_MIGRATE => set_state(v, st::ACTIVE, lcm::PROLOG_MIGRATE),
        lcm::DISK_SNAPSHOT_POWEROFF
        | lcm::DISK_SNAPSHOT_REVERT_POWEROFF
        | lcm::DISK_SNAPSHOT_DELETE_POWEROFF => set_state(v, st::POWEROFF, lcm::INIT),
        lcm::DISK_SNAPSHOT_SUSPENDED
        | lcm::DISK_SNAPSHOT_REVERT_SUSPENDED
        | lcm::DISK_SNAPSHOT_DELETE_SUSPENDED => set_state(v, st::SUSPENDED, lcm::INIT),
        lcm::DISK_RESIZE_POWEROFF => set_state(v, st::POWEROFF, lcm::INIT),
        lcm::DISK_RESIZE_UNDEPLOYED => set_state(v, st::UNDEPLOYED, lcm::INIT),
        lcm::HOTPLUG_SNAPSHOT
        | lcm::DISK_SNAPSHOT
        | lcm::DISK_SNAPSHOT_DELETE
        | lcm::DISK_RESIZE => {
            set_state(v, st::ACTIVE, lcm::RUNNING);
            v.prev_state = st::ACTIVE;
            v.prev_lcm_state = lcm::RUNNING;
        }
        lcm::PROLOG_MIGRATE => {
            if let Some(h) = v.history.last_mut() {
                h.petime = t;
                h.rstime = t;
            }
            set_state(v, st::ACTIVE, lcm::BOOT);
        }
        lcm::PROLOG_MIGRATE_POWEROFF => {
            if let Some(h) = v.history.last_mut() {
                h.petime = t;
            }
            set_state(v, st::POWEROFF, lcm::INIT);
        }
        lcm::PROLOG_MIGRATE_SUSPEND => {
            if let Some(h) = v.history.last_mut() {
                h.petime = t;
            }
            set_state(v, st::SUSPENDED, lcm::INIT);
        }
        lcm::SHUTDOWN => set_state(v, st::ACTIVE, lcm::EPILOG),
        lcm::SHUTDOWN_POWEROFF => set_state(v, st::POWEROFF, lcm::INIT),
        lcm::SAVE_SUSPEND => set_state(v, st::SUSPENDED, lcm::INIT),
        lcm::SAVE_STOP => set_state(v, st::ACTIVE, lcm::EPILOG_STOP),
        lcm::SHUTDOWN_UNDEPLOY => set_state(v, st::ACTIVE, lcm::EPILOG_UNDEPLOY),
        lcm::EPILOG_STOP => set_state(v, st::STOPPED, lcm::INIT),
        lcm::EPILOG_UNDEPLOY => set_state(v, st::UNDEPLOYED, lcm::INIT),
        lcm::EPILOG => {
            if let Some(h) = v.history.last_mut() {
                h.estime = t;
                h.eetime = t;
            }
            set_state(v, st::DONE, lcm::INIT);
            v.prev_state = st::DONE;
            v.prev_lcm_state = lcm::INIT;
            v.etime = t;
            release = true;
        }
        _ => return None,
    }
    if matches!(
        v.state,
        st::POWEROFF | st::SUSPENDED | st::STOPPED | st::UNDEPLOYED
    ) {
        v.prev_state = v.state;
        v.prev_lcm_state = v.lcm_state;
    }
    Some(release)
}

/// Add a monitoring sample to every running VM.
pub(crate) fn monitor(s: &mut State) {
    let t = now();
    for o in s.pool_mut(Kind::Vm).objs.values_mut() {
        let mem = o
            .template
            .get("MEMORY")
            .and_then(|m| m.parse::<i64>().ok())
            .unwrap_or(0);
        if let Some(v) = o.vm_mut()
            && v.state == st::ACTIVE
            && v.lcm_state == lcm::RUNNING
        {
            let prev = v.monitoring.last().map(|m| (m.3, m.4)).unwrap_or((0, 0));
            v.monitoring.push((
                t,
                f64::from(fastrand::u8(0..100)) / 10.0,
                mem * 1024 / 2 + i64::from(fastrand::u16(..)),
                prev.0 + i64::from(fastrand::u16(..)),
                prev.1 + i64::from(fastrand::u16(..)),
            ));
            if v.monitoring.len() > 20 {
                v.monitoring.remove(0);
            }
        }
    }
}

/// `one.vm.monitoring` and the `one.vmpool.*` reads.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (c, a, method) = (&k.c, k.a, k.method);
    match (k.ns, k.op) {
        ("vm", "monitoring") => {
            let o = s.get(Kind::Vm, a.int(0))?;
            s.authorize(c, Op::Use, Kind::Vm, &o.meta, false)?;
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
            for o in filtered(s, c, Kind::Vm, a.int(0), -1, -1, -1)?
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
                    && s.can(c, Op::Use, Kind::Vm, &o.meta)
                {
                    if extended {
                        render::vm_in_pool(&mut out, s, o);
                    } else {
                        render::obj(&mut out, s, o, true, false);
                    }
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
            let objs = filtered(s, c, Kind::Vm, a.int(0), a.int(1), a.int(2), a.int(3))?;
            let mut out = String::with_capacity(objs.len() * 700 + 32);
            out.push_str("<VM_POOL>");
            for o in objs {
                if k.op == "info" {
                    render::obj(&mut out, s, o, true, false);
                } else {
                    render::vm_in_pool(&mut out, s, o);
                }
            }
            out.push_str("</VM_POOL>");
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// `one.vm.*` calls through the dispatch table.
pub(crate) fn write_call(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let r = write(s, k.ctx, &k.c, k.op, k.a, k.method)?;
    let action = match k.op {
        "attach" => 21,
        "detach" => 22,
        "attachnic" => 23,
        "detachnic" => 24,
        "disksnapshotcreate" => 25,
        "disksnapshotdelete" => 26,
        "diskresize" => 29,
        _ => return Ok(r),
    };
    history_action(s, &k.c, k.a.int(0), action);
    Ok(r)
}

/// oned closes the open history record of a VM on a host at a hot-plug action (the
/// record's ACTION, UID, GID and REQUEST_ID say which and by whom) and goes on in a new
/// record on the same host: recorded-sweep 416 lists DISK_ATTACH (21), DISK_SNAPSHOT_CREATE
/// (25), DISK_SNAPSHOT_DELETE (26), DISK_RESIZE (29), DISK_DETACH (22), NIC_ATTACH (23),
/// NIC_UPDATE (51), NIC_DETACH (24), EXEC (61) and EXEC_CANCEL (63) records for one VM
/// (system snapshots, disk snapshot renames, saveas and security groups leave none).
pub(crate) fn history_action(s: &mut State, c: &Caller, id: i32, action: i32) {
    let req = s.next_req_id();
    if let Ok(o) = s.get_mut(Kind::Vm, id)
        && let Some(v) = o.vm_mut()
        && v.state == st::ACTIVE
        && v.history.last().is_some_and(|h| h.etime == 0)
    {
        close_history(v, action, Some(c), req);
        reopen_history(v);
    }
}
