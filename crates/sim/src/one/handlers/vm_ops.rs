//! The VM calls around the life cycle: scheduled actions (fired by the scheduler at their
//! TIME), guest command execution (`exec`, `retryexec`, `cancelexec`, kept in the
//! template's QEMU_GA_EXEC as oned does), security groups and QoS on NICs, PCI devices,
//! `disksaveas`, VM-group membership, backups and restores, and the accounting and
//! showback reports of `one.vmpool.*`.

use super::prelude::*;
use super::sched::Owner;
use super::vm::require_state;

fn manage(s: &State, c: &Caller, id: i32) -> R<()> {
    let o = s.get(Kind::Vm, id)?;
    s.authorize(c, Op::Manage, Kind::Vm, &o.meta, true)
}

fn vm_mut(s: &mut State, id: i32) -> R<&mut VmData> {
    s.get_mut(Kind::Vm, id)?
        .vm_mut()
        .ok_or_else(|| no_exists("virtual machine", id))
}

fn nic_index(t: &Tmpl, nic_id: i32) -> Option<usize> {
    t.vectors("NIC").iter().position(|n| {
        n.iter()
            .any(|(k, v)| k == "NIC_ID" && v.parse::<i32>().ok() == Some(nic_id))
    })
}

/// The `one.vm.*` calls of this module.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let id = a.int(0);
    manage(s, c, id)?;
    match k.op {
        "schedadd" => {
            let (stime, done) = {
                let o = s.get(Kind::Vm, id)?;
                let v = o.vm().ok_or_else(|| no_exists("virtual machine", id))?;
                (v.stime, v.state == st::DONE)
            };
            if done {
                return Err(RpcError {
                    code: code::INTERNAL,
                    msg: format!(
                        "Unable to create Scheduled Action for Virtual Machine {id}, it's in DONE state"
                    ),
                    id,
                });
            }
            let sa = super::sched::parse_new(a.str(1), s.next_sched, Owner::Vm { stime })?;
            s.next_sched += 1;
            let sid = sa.id;
            vm_mut(s, id)?.sched.push(sa);
            Ok(Ret::Int(sid))
        }
        "schedupdate" => {
            let sid = a.int(1);
            let va = super::sched::vector(a.str(2), code::INTERNAL)?;
            let v = vm_mut(s, id)?;
            let stime = v.stime;
            let sa = v.sched.iter_mut().find(|x| x.id == sid).ok_or_else(|| {
                RpcError::internal(format!("SCHED_ACTION with id = {sid} doesn't exist"))
            })?;
            super::sched::parse_into(sa, &va, Owner::Vm { stime }).map_err(RpcError::internal)?;
            Ok(Ret::Int(sid))
        }
        "scheddelete" => {
            let sid = a.int(1);
            let v = vm_mut(s, id)?;
            let before = v.sched.len();
            v.sched.retain(|x| x.id != sid);
            if before == v.sched.len() {
                return Err(no_exists("scheduled action", sid));
            }
            Ok(Ret::Int(id))
        }
        "exec" | "retryexec" | "cancelexec" => {
            let r = exec(s, k.op, id, a)?;
            let action = match k.op {
                "exec" => 61,
                "retryexec" => 62,
                _ => 63,
            };
            super::vm::history_action(s, c, id, action);
            Ok(r)
        }
        "attachsg" | "detachsg" => {
            let (nic_id, sg) = (a.int(1), a.int(2));
            s.get(Kind::SecGroup, sg)?;
            require_state(s, id, &[st::POWEROFF], &[lcm::RUNNING], "sg-attach")?;
            let o = s.get_mut(Kind::Vm, id)?;
            let Some(i) = nic_index(&o.template, nic_id) else {
                return Err(RpcError::internal(format!("NIC {nic_id} does not exist")));
            };
            let nic = &mut o.template.vectors_mut("NIC")[i];
            let mut sgs: Vec<i32> = nic
                .iter()
                .find(|(k, _)| k == "SECURITY_GROUPS")
                .map(|(_, v)| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                .unwrap_or_default();
            if k.op == "attachsg" {
                if sgs.contains(&sg) {
                    return Err(RpcError::internal(format!(
                        "Security group {sg} already attached to NIC {nic_id}"
                    )));
                }
                sgs.push(sg);
            } else {
                if !sgs.contains(&sg) {
                    return Err(RpcError::internal(format!(
                        "Security group {sg} is not attached to NIC {nic_id}"
                    )));
                }
                sgs.retain(|x| *x != sg);
            }
            nic.retain(|(k, _)| k != "SECURITY_GROUPS");
            nic.push((
                "SECURITY_GROUPS".into(),
                sgs.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ));
            nic.sort();
            super::vm_template::refresh_security_group_rules(s, id);
            Ok(Ret::Int(id))
        }
        "updatenic" => {
            let nic_id = a.int(1);
            let t = Tmpl::parse(a.str(2)).map_err(RpcError::internal)?;
            let new = t
                .vectors("NIC")
                .first()
                .map(|v| v.to_vec())
                .ok_or_else(|| RpcError::internal("Wrong format for NIC attribute"))?;
            let o = s.get_mut(Kind::Vm, id)?;
            let Some(i) = nic_index(&o.template, nic_id) else {
                return Err(RpcError::internal(format!("NIC {nic_id} does not exist")));
            };
            const QOS: [&str; 6] = [
                "INBOUND_AVG_BW",
                "INBOUND_PEAK_BW",
                "INBOUND_PEAK_KB",
                "OUTBOUND_AVG_BW",
                "OUTBOUND_PEAK_BW",
                "OUTBOUND_PEAK_KB",
            ];
            let nic = &mut o.template.vectors_mut("NIC")[i];
            if a.int(3) == 0 {
                nic.retain(|(k, _)| !QOS.contains(&k.as_str()));
            }
            for (key, v) in new {
                if QOS.contains(&key.as_str()) {
                    nic.retain(|(x, _)| *x != key);
                    nic.push((key, v));
                }
            }
            nic.sort();
            super::vm::history_action(s, c, id, 51);
            Ok(Ret::Int(id))
        }
        "attachpci" | "detachpci" => {
            // VirtualMachineAPI::pci_attach and DispatchManager::attach_pci/detach_pci
            let pci_req = if k.op == "attachpci" {
                let t = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
                let pci = t
                    .vectors("PCI")
                    .first()
                    .map(|v| v.to_vec())
                    .ok_or_else(|| RpcError::action("PCI attribute not found"))?;
                check_pci(&pci)?;
                Some(pci)
            } else {
                None
            };
            let (state, lcm_state, hid) = s
                .get(Kind::Vm, id)?
                .vm()
                .map(|v| (v.state, v.lcm_state, v.history.last().map(|h| h.hid)))
                .unwrap_or((0, 0, None));
            if !matches!(state, st::POWEROFF | st::UNDEPLOYED) || lcm_state != 0 {
                return Err(RpcError::action(
                    "VM in wrong state, it has to be in poweroff",
                ));
            }
            let Some(hid) = hid else {
                return Err(RpcError::action("Could not find host information"));
            };
            let device = match &pci_req {
                Some(pci) if state == st::POWEROFF => {
                    let owners = super::super::dummy_probe::pci_owners(s, hid);
                    let want = |key: &str| {
                        pci.iter()
                            .find(|(k, _)| k == key)
                            .map(|(_, v)| v.to_ascii_lowercase())
                    };
                    let found = super::super::dummy_probe::PCI_DEVICES
                        .iter()
                        .zip(owners)
                        .find(|(dev, owner)| {
                            *owner == -1
                                && ["VENDOR", "DEVICE", "CLASS", "SHORT_ADDRESS"].iter().all(
                                    |key| {
                                        want(key).is_none_or(|w| {
                                            super::super::dummy_probe::pci_value(dev, key) == w
                                        })
                                    },
                                )
                        })
                        .map(|(dev, _)| *dev);
                    match found {
                        Some(d) if s.hosts.contains_key(&hid) => Some(d),
                        _ => {
                            return Err(RpcError::action(
                                "Cannot assign PCI device in host. Check address and free devices",
                            ));
                        }
                    }
                }
                _ => None,
            };
            let o = s.get_mut(Kind::Vm, id)?;
            if let Some(mut pci) = pci_req {
                // the host's device: its address goes into the VM's PCI
                if let Some(dev) = device {
                    for key in [
                        "ADDRESS",
                        "BUS",
                        "DOMAIN",
                        "FUNCTION",
                        "NUMA_NODE",
                        "SHORT_ADDRESS",
                        "SLOT",
                    ] {
                        pci.retain(|(k, _)| k != key);
                        pci.push((
                            key.to_owned(),
                            super::super::dummy_probe::pci_value(dev, key).to_owned(),
                        ));
                    }
                }
                let next = o
                    .template
                    .vectors("PCI")
                    .iter()
                    .filter_map(|p| {
                        p.iter()
                            .find(|(k, _)| k == "PCI_ID")
                            .and_then(|(_, v)| v.parse::<i32>().ok())
                    })
                    .max()
                    .map_or(0, |m| m + 1);
                pci.retain(|(k, _)| k != "PCI_ID");
                pci.push(("PCI_ID".into(), next.to_string()));
                pci.sort();
                o.template.push("PCI", AttrValue::Vector(pci));
            } else {
                let pid = a.int(1).to_string();
                let keep: Vec<Vec<(String, String)>> = o
                    .template
                    .vectors("PCI")
                    .iter()
                    .filter(|p| !p.iter().any(|(k, v)| k == "PCI_ID" && *v == pid))
                    .map(|p| p.to_vec())
                    .collect();
                if keep.len() == o.template.vectors("PCI").len() {
                    return Err(RpcError::action("PCI device not found"));
                }
                o.template.remove("PCI");
                for p in keep {
                    o.template.push("PCI", AttrValue::Vector(p));
                }
            }
            Ok(Ret::Int(id))
        }
        "disksaveas" => disksaveas(s, k, id),
        "vmgroupadd" => {
            let (vmg, role) = (a.int(1), a.str(2).to_owned());
            let g = s.get(Kind::VmGroup, vmg)?;
            s.authorize(c, Op::Use, Kind::VmGroup, &g.meta, false)?;
            if !g
                .template
                .vectors("ROLE")
                .iter()
                .any(|r| r.iter().any(|(k, v)| k == "NAME" && *v == role))
            {
                return Err(RpcError::internal(format!(
                    "Role {role} does not exist in VM group {vmg}"
                )));
            }
            let o = s.get_mut(Kind::Vm, id)?;
            if !o.template.vectors("VMGROUP").is_empty() {
                return Err(RpcError::internal("VM is already in a VM group"));
            }
            o.template.push(
                "VMGROUP",
                AttrValue::Vector(vec![
                    ("ROLE".into(), role),
                    ("VMGROUP_ID".into(), vmg.to_string()),
                ]),
            );
            Ok(Ret::Int(id))
        }
        "vmgroupdel" => {
            let o = s.get_mut(Kind::Vm, id)?;
            if o.template.vectors("VMGROUP").is_empty() {
                return Err(RpcError::internal("VM is not in a VM group"));
            }
            o.template.remove("VMGROUP");
            Ok(Ret::Int(id))
        }
        "backup" => {
            backup_now(s, k.ctx, c, id, a.int(1), a.bool(2))?;
            Ok(Ret::Int(id))
        }
        "backupcancel" => Err(RpcError::internal(format!(
            "Could not cancel backup for VM {id}, no backup in progress"
        ))),
        "restore" => {
            let img = a.int(1);
            let i = s.get(Kind::Image, img)?;
            if !matches!(&i.extra, Extra::Image(x) if x.img_type == 6) {
                return Err(RpcError::action("Image has to be of type BACKUP"));
            }
            require_state(s, id, &[st::POWEROFF], &[], "restore")?;
            Ok(Ret::Int(id))
        }
        _ => Err(not_implemented(k.method)),
    }
}

fn exec(s: &mut State, op: &str, id: i32, a: &Args) -> R<Ret> {
    let o = s.get_mut(Kind::Vm, id)?;
    let running = o
        .vm()
        .map(|v| v.state == st::ACTIVE && v.lcm_state == lcm::RUNNING)
        .unwrap_or(false);
    let cur: Option<Vec<(String, String)>> = o
        .template
        .vectors("QEMU_GA_EXEC")
        .first()
        .map(|v| v.to_vec());
    let status = cur
        .as_ref()
        .and_then(|v| {
            v.iter()
                .find(|(k, _)| k == "STATUS")
                .map(|(_, x)| x.clone())
        })
        .unwrap_or_default();
    let set = |t: &mut Tmpl, cmd: String, stdin: String, status: &str| {
        t.remove("QEMU_GA_EXEC");
        t.push(
            "QEMU_GA_EXEC",
            AttrValue::Vector(vec![
                ("COMMAND".into(), cmd),
                ("STATUS".into(), status.into()),
                ("STDIN".into(), stdin),
            ]),
        );
    };
    let get = |k: &str| {
        cur.as_ref()
            .and_then(|v| v.iter().find(|(n, _)| n == k).map(|(_, x)| x.clone()))
            .unwrap_or_default()
    };
    match op {
        "exec" | "retryexec" => {
            if !running {
                return Err(RpcError::action(
                    "Could not execute command, VM has to be in RUNNING state",
                ));
            }
            if status == "RUNNING" {
                return Err(RpcError::action(
                    "Could not execute command, a command is already being executed",
                ));
            }
            let (cmd, stdin) = if op == "exec" {
                (a.str(1).to_owned(), a.str(2).to_owned())
            } else {
                if cur.is_none() {
                    return Err(RpcError::action(
                        "Could not retry command, no previous command",
                    ));
                }
                (get("COMMAND"), get("STDIN"))
            };
            set(&mut o.template, cmd, stdin, "RUNNING");
        }
        _ => {
            if status != "RUNNING" {
                return Err(RpcError::action(
                    "Could not cancel command, no command is being executed",
                ));
            }
            set(&mut o.template, get("COMMAND"), get("STDIN"), "CANCELLED");
        }
    }
    Ok(Ret::Int(id))
}

/// Finish the guest commands still RUNNING (the guest agent answers at the next monitor
/// sample): STATUS DONE, RETURN_CODE 0, empty STDOUT/STDERR.
pub(crate) fn finish_exec(s: &mut State) {
    for o in s.pool_mut(Kind::Vm).objs.values_mut() {
        for e in o.template.vectors_mut("QEMU_GA_EXEC") {
            if e.iter().any(|(k, v)| k == "STATUS" && v == "RUNNING") {
                e.retain(|(k, _)| {
                    !matches!(k.as_str(), "STATUS" | "RETURN_CODE" | "STDOUT" | "STDERR")
                });
                e.push(("RETURN_CODE".into(), "0".into()));
                e.push(("STATUS".into(), "DONE".into()));
                e.push(("STDERR".into(), String::new()));
                e.push(("STDOUT".into(), String::new()));
                e.sort();
            }
        }
    }
}

/// Fire the scheduled actions (VMs' and backup jobs') that are due on the simulator's
/// clock, as their owner ([`super::sched::fire`]).
pub(crate) fn fire_sched(s: &mut State, ctx: &Ctx) {
    super::sched::fire(s, ctx);
}

fn disk_of(t: &Tmpl, disk_id: i32) -> Option<Vec<(String, String)>> {
    t.vectors("DISK")
        .into_iter()
        .find(|d| {
            d.iter()
                .any(|(k, v)| k == "DISK_ID" && v.parse::<i32>().ok() == Some(disk_id))
        })
        .map(|d| d.to_vec())
}

#[allow(clippy::too_many_arguments)] // the fields of a new image, all needed
fn new_image(
    s: &mut State,
    ctx: &Ctx,
    c: &Caller,
    name: String,
    ds_id: i32,
    img_type: i32,
    size: i64,
    template: Tmpl,
) -> i32 {
    let meta = s.new_meta(Kind::Image, c, name);
    let id = meta.id;
    s.pool_mut(Kind::Image).objs.insert(
        id,
        Obj {
            meta,
            template,
            extra: Extra::Image(ImageData {
                img_type,
                persistent: false,
                state: 0,
                size,
                ds_id,
                source: "dummy_path".into(),
                path: String::new(),
                format: "raw".into(),
                vms: BTreeSet::new(),
                ready_at: now() + ctx.delays.monitor.as_secs() as i64,
                snapshots: None,
            }),
        },
    );
    id
}

fn disksaveas(s: &mut State, k: &Call<'_>, id: i32) -> R<Ret> {
    let a = k.a;
    let (disk_id, name) = (a.int(1), a.str(2).to_owned());
    check_name(&name)?;
    require_state(
        s,
        id,
        &[st::POWEROFF, st::SUSPENDED],
        &[lcm::RUNNING],
        "disk-saveas",
    )?;
    let o = s.get(Kind::Vm, id)?;
    let disk = disk_of(&o.template, disk_id)
        .ok_or_else(|| RpcError::internal(format!("VM disk with ID {disk_id} does not exist")))?;
    let get = |key: &str| disk.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone());
    let ds_id: i32 = get("DATASTORE_ID")
        .and_then(|x| x.parse().ok())
        .unwrap_or(1);
    let size: i64 = get("SIZE").and_then(|x| x.parse().ok()).unwrap_or(0);
    let ty = match a.str(3) {
        "" => match get("TYPE").as_deref() {
            Some("CDROM") => 1,
            _ => 0,
        },
        "OS" => 0,
        "CDROM" => 1,
        "DATABLOCK" => 2,
        other => return Err(RpcError::internal(format!("Unknown Image type: {other}"))),
    };
    if s.name_taken(Kind::Image, k.c.uid, &name, -1).is_some() {
        return Err(RpcError::internal(format!(
            "NAME is already taken by IMAGE {}.",
            s.name_taken(Kind::Image, k.c.uid, &name, -1).unwrap_or(-1)
        )));
    }
    let mut t = Tmpl::new();
    t.set(
        "DEV_PREFIX",
        get("DEV_PREFIX").unwrap_or_else(|| "sd".into()),
    );
    t.set("SAVED_DISK_ID", disk_id.to_string());
    t.set("SAVED_VM_ID", id.to_string());
    t.set("SAVE_AS_HOT", "YES");
    let img = new_image(s, k.ctx, &k.c, name, ds_id, ty, size, t);
    Ok(Ret::Int(img))
}

/// Back up VM `id` into backup datastore `ds` (-1: the first one): a BACKUP image per
/// backup, listed in the VM's BACKUPS/BACKUP_IDS.
pub(crate) fn backup_now(
    s: &mut State,
    ctx: &Ctx,
    c: &Caller,
    id: i32,
    ds: i32,
    reset: bool,
) -> R<()> {
    let _ = reset;
    let ds_id = if ds < 0 {
        s.pool(Kind::Datastore)
            .objs
            .values()
            .find(|d| matches!(&d.extra, Extra::Datastore(x) if x.ds_type == 3))
            .map(|d| d.meta.id)
            .ok_or_else(|| RpcError::new(code::NO_EXISTS, "Error getting datastore Pool."))?
    } else {
        s.get(Kind::Datastore, ds)?;
        ds
    };
    if !matches!(&s.get(Kind::Datastore, ds_id)?.extra, Extra::Datastore(x) if x.ds_type == 3) {
        return Err(RpcError::action(format!(
            "Datastore [{ds_id}] is not of type BACKUP"
        )));
    }
    require_state(s, id, &[st::POWEROFF], &[lcm::RUNNING], "backup")?;
    let o = s.get(Kind::Vm, id)?;
    let size: i64 = o
        .template
        .vectors("DISK")
        .iter()
        .filter_map(|d| {
            d.iter()
                .find(|(k, _)| k == "SIZE")
                .and_then(|(_, v)| v.parse::<i64>().ok())
        })
        .sum();
    let name = format!("{} {}", id, now());
    let uid = o.meta.uid;
    let owner = Caller {
        uid,
        gid: o.meta.gid,
        groups: c.groups.clone(),
        admin: c.admin,
    };
    let mut t = Tmpl::new();
    t.set("BACKUP_VM_ID", id.to_string());
    let img = new_image(s, ctx, &owner, name, ds_id, 6, size, t);
    vm_mut(s, id)?.backup_ids.push(img);
    Ok(())
}

/// `one.image.restore(id, ds, template)`: a BACKUP image restored as a disk image in `ds`;
/// answers the new image ids, blank separated.
pub(crate) fn image_restore(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let id = a.int(0);
    let o = s.get(Kind::Image, id)?;
    s.authorize(c, Op::Use, Kind::Image, &o.meta, true)?;
    let (size, name) = match &o.extra {
        Extra::Image(x) if x.img_type == 6 => (x.size, o.meta.name.clone()),
        _ => return Err(RpcError::action("Can only restore images of type BACKUP")),
    };
    let ds = a.int(1);
    let d = s.get(Kind::Datastore, ds)?;
    if !matches!(&d.extra, Extra::Datastore(x) if x.ds_type == 0) {
        return Err(RpcError::internal("Datastore is not of type IMAGE_DS"));
    }
    let new = new_image(
        s,
        k.ctx,
        c,
        format!("{name}-restored"),
        ds,
        0,
        size,
        Tmpl::new(),
    );
    Ok(Ret::Str(new.to_string()))
}

/// VirtualMachine::check_pci_attributes: hexadecimal VENDOR/DEVICE/CLASS, and either a
/// SHORT_ADDRESS or some of those three; a NIC goes through `one.vm.attachnic`.
fn check_pci(pci: &[(String, String)]) -> R<()> {
    let get = |key: &str| pci.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    if get("TYPE") == Some("NIC") {
        return Err(RpcError::action(
            "Use one.vm.attachnic to attach this PCI device",
        ));
    }
    for key in ["VENDOR", "DEVICE", "CLASS"] {
        if let Some(v) = get(key)
            && (v.is_empty() || !v.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(RpcError::action(format!(
                "Wrong Hex value for PCI attribute {key}"
            )));
        }
    }
    let any = ["VENDOR", "DEVICE", "CLASS"]
        .iter()
        .any(|k| get(k).is_some_and(|v| !v.is_empty()));
    match get("SHORT_ADDRESS").filter(|v| !v.is_empty()) {
        None if !any => Err(RpcError::action(
            "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.",
        )),
        Some(_) if any => Err(RpcError::action(
            "SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS",
        )),
        _ => Ok(()),
    }
}
