//! A VM's TEMPLATE as oned completes it: image disks filled from the image and its
//! datastore (`Image::disk_attribute`, `Datastore::disk_attribute` with oned.conf's
//! `INHERIT_*_ATTR`), device targets per prefix, the boot `ORDER`, boolean `FEATURES`
//! written `YES`/`NO`, the `CONTEXT` variables (`$USER[...]`, `$NAME`, ...) and the
//! `ETHn_*` network context, `AUTOMATIC_REQUIREMENTS` / `AUTOMATIC_DS_REQUIREMENTS` /
//! `AUTOMATIC_NIC_REQUIREMENTS` from the clusters of the disks and networks,
//! `SECURITY_GROUP_RULE` from the NICs' security groups, and at deployment the system
//! datastore's attributes on volatile disks and the VNC port.
//!
//! Each function follows the oned 7.5 source it names; the replay of the recorded real
//! documents (`tests/one_replay.rs`) checks the result element by element.

use super::prelude::*;

/// A vector attribute's pairs.
pub(crate) type Vector = Vec<(String, String)>;

/// The value of `k` in a vector.
pub(crate) fn vget<'a>(v: &'a [(String, String)], k: &str) -> Option<&'a str> {
    v.iter().find(|(n, _)| n == k).map(|(_, x)| x.as_str())
}

/// Replace (or add) `k` in a vector.
pub(crate) fn vset(v: &mut Vector, k: &str, val: impl Into<String>) {
    let val = val.into();
    match v.iter_mut().find(|(n, _)| n == k) {
        Some(x) => x.1 = val,
        None => v.push((k.to_owned(), val)),
    }
}

/// Remove `k` from a vector.
pub(crate) fn vremove(v: &mut Vector, k: &str) {
    v.retain(|(n, _)| n != k);
}

/// Attributes oned.conf's `INHERIT_DATASTORE_ATTR` copies from a datastore into a disk.
const INHERIT_DATASTORE_ATTR: &[&str] = &[
    "ALLOW_ORPHANS",
    "CEPH_CONF",
    "CEPH_HOST",
    "CEPH_KEY",
    "CEPH_SECRET",
    "CEPH_TRASH",
    "CEPH_USER",
    "DISK_TYPE",
    "GLUSTER_HOST",
    "GLUSTER_VOLUME",
    "ISCSI_HOST",
    "ISCSI_USAGE",
    "ISCSI_USER",
    "LVM_THIN_ENABLE",
    "PERSISTENT_SNAPSHOTS",
    "POOL_NAME",
    "QCOW2_STANDALONE",
    "SPARSE",
];

/// Attributes oned.conf's `INHERIT_IMAGE_ATTR` copies from an image into a disk.
const INHERIT_IMAGE_ATTR: &[&str] = &[
    "DISK_TYPE",
    "ISCSI_HOST",
    "ISCSI_IQN",
    "ISCSI_USAGE",
    "ISCSI_USER",
    "LUKS_SECRET",
    "MOUNT_POINT",
    "MOUNT_TAG",
    "SERIAL",
];

/// oned's image type names (`Image::type_to_str`).
fn image_type_name(t: i32) -> &'static str {
    match t {
        0 => "OS",
        1 => "CDROM",
        2 => "DATABLOCK",
        3 => "KERNEL",
        4 => "RAMDISK",
        5 => "CONTEXT",
        6 => "BACKUP",
        7 => "FILESYSTEM",
        _ => "",
    }
}

/// oned's image state names (`Image::state_to_str`).
fn image_state_name(st: i32) -> &'static str {
    match st {
        0 => "INIT",
        1 => "READY",
        2 => "USED",
        3 => "DISABLED",
        4 => "LOCKED",
        5 => "ERROR",
        6 => "CLONE",
        7 => "DELETE",
        8 => "USED_PERS",
        9 => "LOCKED_USED",
        10 => "LOCKED_USED_PERS",
        _ => "",
    }
}

/// Copy the inherited attributes of `from` into `disk` where the disk has none.
fn inherit(disk: &mut Vector, from: &Tmpl, names: &[&str]) {
    for name in names {
        if let Some(v) = from.vectors(name).first() {
            for (k, x) in v.iter() {
                if vget(disk, k).is_none_or(str::is_empty) && !x.is_empty() {
                    vset(disk, k, x.clone());
                }
            }
        } else if let Some(x) = from.get(name)
            && !x.is_empty()
            && vget(disk, name).is_none_or(str::is_empty)
        {
            vset(disk, name, x);
        }
    }
}

/// `Datastore::disk_attribute`: the datastore's name, id, TM_MAD, clusters, clone and link
/// targets and inherited attributes; for volatile disks also DISK_TYPE, DRIVER and FORMAT.
fn datastore_disk_attribute(s: &State, ds_id: i32, disk: &mut Vector) {
    let Ok(o) = s.get(Kind::Datastore, ds_id) else {
        return;
    };
    let Extra::Datastore(d) = &o.extra else {
        return;
    };
    vset(disk, "DATASTORE", o.meta.name.clone());
    vset(disk, "DATASTORE_ID", ds_id.to_string());
    vset(disk, "TM_MAD", d.tm_mad.clone());
    vset(
        disk,
        "CLUSTER_ID",
        d.clusters
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    for k in ["CLONE_TARGET", "LN_TARGET"] {
        if let Some(x) = o.template.get(k)
            && !x.is_empty()
            && vget(disk, k).is_none_or(str::is_empty)
        {
            vset(disk, k, x);
        }
    }
    inherit(disk, &o.template, INHERIT_DATASTORE_ATTR);
    let ty = vget(disk, "TYPE").unwrap_or("").to_ascii_uppercase();
    let volatile = ty == "SWAP" || ty == "FS";
    if volatile && vget(disk, "DISK_TYPE").is_none_or(str::is_empty) {
        vset(
            disk,
            "DISK_TYPE",
            o.template.get("DISK_TYPE").unwrap_or("FILE").to_owned(),
        );
    }
    if volatile {
        // TM_MAD_CONF/DRIVER (none for the dummy and local drivers), the DS's DRIVER,
        // the disk's FORMAT, "raw"
        let driver = o.template.get("DRIVER").unwrap_or("").to_owned();
        if ty == "FS" {
            if !driver.is_empty() {
                vset(disk, "DRIVER", driver.clone());
                vset(disk, "FORMAT", driver);
            } else if let Some(f) = vget(disk, "FORMAT").filter(|f| !f.is_empty()) {
                let f = f.to_owned();
                vset(disk, "DRIVER", f);
            } else {
                vset(disk, "DRIVER", "raw");
                vset(disk, "FORMAT", "raw");
            }
        } else {
            vset(disk, "DRIVER", "raw");
            vset(disk, "FORMAT", "raw");
        }
    }
}

/// `ImagePool::acquire_disk` for a DISK naming an image (`IMAGE_ID`, or `IMAGE` with
/// `IMAGE_UNAME` / `IMAGE_UID`, the VM owner's otherwise): the image is marked in use by
/// the VM and the disk gets the image's and its datastore's attributes. `Ok(false)` for a
/// disk without an image (volatile). The error is oned's, without the `DISK n: ` prefix.
pub(crate) fn acquire_image_disk(
    s: &mut State,
    uid: i32,
    vm_id: i32,
    disk: &mut Vector,
    tm_mad_system: Option<&str>,
    attach: bool,
) -> Result<bool, String> {
    let image_id = if let Some(id) = vget(disk, "IMAGE_ID") {
        let id: i32 = id
            .trim()
            .parse()
            .map_err(|_| format!("Image with ID: {id} does not exist"))?;
        if s.get(Kind::Image, id).is_err() {
            return Err(format!("Image with ID: {id} does not exist"));
        }
        id
    } else if let Some(name) = vget(disk, "IMAGE") {
        let owner = if let Some(u) = vget(disk, "IMAGE_UID") {
            u.trim().parse().unwrap_or(-1)
        } else if let Some(u) = vget(disk, "IMAGE_UNAME") {
            s.users.values().find(|x| x.name == u).map_or(-1, |x| x.id)
        } else {
            uid
        };
        let found = s
            .pool(Kind::Image)
            .objs
            .values()
            .find(|o| o.meta.name == name && o.meta.uid == owner)
            .map(|o| o.meta.id);
        match found {
            Some(id) => id,
            None => {
                return Err(format!(
                    "User {owner} does not own an image with name: {name} . Set IMAGE_UNAME or IMAGE_UID of owner in DISK."
                ));
            }
        }
    } else {
        return Ok(false);
    };
    match tm_mad_system {
        Some(t) if !t.is_empty() => vset(disk, "TM_MAD_SYSTEM", t),
        _ => vremove(disk, "TM_MAD_SYSTEM"),
    }
    let o = s.get(Kind::Image, image_id).map_err(|e| e.msg)?;
    let Extra::Image(img) = &o.extra else {
        return Err(format!("Image with ID: {image_id} does not exist"));
    };
    let (name, itmpl) = (o.meta.name.clone(), o.template.clone());
    let img = img.clone();
    if matches!(img.img_type, 3..=6) {
        return Err(format!(
            "Image {image_id} ({name}) of type {} cannot be used as DISK.",
            image_type_name(img.img_type)
        ));
    }
    let state = render::image_state(&img);
    let shareable = itmpl
        .get("PERSISTENT_TYPE")
        .is_some_and(|p| p.eq_ignore_ascii_case("SHAREABLE"));
    match state {
        1 | 2 => {}
        8 | 10 if !shareable => {
            return Err(format!(
                "Cannot acquire image {image_id}, it is persistent and already in use"
            ));
        }
        8 => {}
        4 | 9 | 10 if attach => {
            return Err(format!("Cannot acquire image {image_id}, it is locked"));
        }
        4 | 9 | 10 => {}
        other => {
            return Err(format!(
                "Cannot acquire image {image_id}, it is in state: {}",
                image_state_name(other)
            ));
        }
    }
    if let Ok(o) = s.get_mut(Kind::Image, image_id)
        && let Extra::Image(i) = &mut o.extra
    {
        i.vms.insert(vm_id);
    }
    let img_state = s
        .get(Kind::Image, image_id)
        .ok()
        .and_then(|o| match &o.extra {
            Extra::Image(i) => Some(render::image_state(i)),
            _ => None,
        })
        .unwrap_or(state);
    // Image::disk_attribute
    let cdrom = img.img_type == 1;
    let fs = img.img_type == 7;
    if vget(disk, "DEV_PREFIX").is_none_or(str::is_empty) && !(cdrom || fs) {
        let p = itmpl
            .get("DEV_PREFIX")
            .filter(|p| !p.is_empty())
            .unwrap_or("sd")
            .to_owned();
        vset(disk, "DEV_PREFIX", p);
    }
    vset(disk, "IMAGE", name);
    vset(disk, "IMAGE_ID", image_id.to_string());
    vset(disk, "SOURCE", img.source.clone());
    vset(disk, "ORIGINAL_SIZE", img.size.to_string());
    if vget(disk, "SIZE").is_none_or(str::is_empty) {
        vset(disk, "SIZE", img.size.to_string());
    }
    let snap_total: i64 = img
        .snapshots
        .as_ref()
        .map_or(0, |d| d.snaps.iter().map(|x| x.size).sum());
    vset(disk, "DISK_SNAPSHOT_TOTAL_SIZE", snap_total.to_string());
    if img.format.is_empty() {
        vremove(disk, "DRIVER");
        vremove(disk, "FORMAT");
    } else {
        let f = img.format.to_ascii_lowercase();
        vset(disk, "DRIVER", f.clone());
        vset(disk, "FORMAT", f);
    }
    vset(disk, "IMAGE_STATE", img_state.to_string());
    let immutable = itmpl
        .get("PERSISTENT_TYPE")
        .is_some_and(|p| p.eq_ignore_ascii_case("IMMUTABLE"));
    if cdrom || immutable {
        vset(disk, "SAVE", "NO");
        vset(disk, "CLONE", "NO");
        vset(disk, "READONLY", "YES");
    } else {
        if vget(disk, "READONLY").is_none() {
            let ro = itmpl
                .get("READONLY")
                .is_some_and(|r| r.eq_ignore_ascii_case("YES"));
            vset(disk, "READONLY", if ro { "YES" } else { "NO" });
        }
        if img.persistent {
            vset(disk, "PERSISTENT", "YES");
            vset(disk, "CLONE", "NO");
            vset(disk, "SAVE", "YES");
        } else {
            vset(disk, "CLONE", "YES");
            vset(disk, "SAVE", "NO");
        }
    }
    if matches!(img_state, 4 | 9 | 10) {
        vset(disk, "CLONING", "YES");
    } else {
        vremove(disk, "CLONING");
    }
    vset(disk, "TYPE", if cdrom { "CDROM" } else { "FILE" });
    if vget(disk, "TARGET").is_none_or(str::is_empty)
        && let Some(t) = itmpl.get("TARGET").filter(|t| !t.is_empty())
    {
        vset(disk, "TARGET", t);
    }
    inherit(disk, &itmpl, INHERIT_IMAGE_ATTR);
    datastore_disk_attribute(s, img.ds_id, disk);
    disk.sort();
    Ok(true)
}

/// A persistent image's snapshots, which its disk starts from (`ImagePool::acquire_disk`
/// hands them to the VM), for the disk `disk` just acquired.
pub(crate) fn image_disk_snapshots(s: &State, disk: &[(String, String)]) -> Option<DiskSnapshots> {
    if vget(disk, "PERSISTENT") != Some("YES") {
        return None;
    }
    let iid: i32 = vget(disk, "IMAGE_ID")?.parse().ok()?;
    let disk_id: i32 = vget(disk, "DISK_ID")?.parse().ok()?;
    match &s.get(Kind::Image, iid).ok()?.extra {
        Extra::Image(i) => i.snapshots.clone().map(|mut d| {
            d.disk_id = disk_id;
            d
        }),
        _ => None,
    }
}

/// What a VM leaving a persistent image disk saves into the image
/// (`VirtualMachineDisks::release_images`, `ImageManager::set_image_snapshots`): the disk's
/// snapshots (when PERSISTENT_SNAPSHOTS is not NO; none clears them) and a grown SIZE.
pub(crate) fn save_disk_to_image(s: &mut State, vm_id: i32, disk: &[(String, String)]) {
    if vget(disk, "PERSISTENT") != Some("YES") {
        return;
    }
    let (Some(iid), Some(disk_id)) = (
        vget(disk, "IMAGE_ID").and_then(|x| x.parse::<i32>().ok()),
        vget(disk, "DISK_ID").and_then(|x| x.parse::<i32>().ok()),
    ) else {
        return;
    };
    let keep = vget(disk, "PERSISTENT_SNAPSHOTS").is_none_or(|p| !p.eq_ignore_ascii_case("NO"));
    let snaps = s
        .get(Kind::Vm, vm_id)
        .ok()
        .and_then(|o| o.vm())
        .and_then(|v| {
            v.disk_snapshots
                .iter()
                .find(|d| d.disk_id == disk_id)
                .cloned()
        })
        .filter(|d| keep && !d.snaps.is_empty());
    let size = vget(disk, "SIZE").and_then(|x| x.parse::<i64>().ok());
    let original = vget(disk, "ORIGINAL_SIZE").and_then(|x| x.parse::<i64>().ok());
    if let Ok(o) = s.get_mut(Kind::Image, iid)
        && let Extra::Image(i) = &mut o.extra
        && matches!(i.img_type, 0 | 2)
        && i.persistent
        && i.vms.contains(&vm_id)
    {
        i.snapshots = snaps.map(|mut d| {
            d.disk_id = -1;
            d
        });
        if let (Some(sz), Some(orig)) = (size, original)
            && sz > orig
        {
            i.size = sz;
        }
    }
}

/// Release the images a VM holds (it left, or a disk was detached).
pub(crate) fn release_images(s: &mut State, vm_id: i32, only: Option<i32>) {
    for o in s.pool_mut(Kind::Image).objs.values_mut() {
        if only.is_some_and(|i| i != o.meta.id) {
            continue;
        }
        if let Extra::Image(i) = &mut o.extra {
            i.vms.remove(&vm_id);
        }
    }
}

/// oned's target assignment (`VirtualMachineDisks::assign_targets`, simplified to what
/// the dummy drivers show): a disk without TARGET gets its prefix and the first letter no
/// other disk (nor the context CD, `hda`) of that prefix uses.
pub(crate) fn assign_targets(disks: &mut [Vector], context: bool) {
    let mut used: BTreeSet<String> = disks
        .iter()
        .filter_map(|d| vget(d, "TARGET").map(str::to_owned))
        .collect();
    if context {
        used.insert("hda".into());
    }
    for d in disks.iter_mut() {
        if vget(d, "TARGET").is_some_and(|t| !t.is_empty()) {
            continue;
        }
        let prefix = vget(d, "DEV_PREFIX").unwrap_or("sd").to_owned();
        if let Some(t) = (b'a'..=b'z')
            .map(|c| format!("{prefix}{}", c as char))
            .find(|t| !used.contains(t))
        {
            used.insert(t.clone());
            vset(d, "TARGET", t);
        }
    }
}

/// `set_boot_order`: OS/BOOT (`disk0,nic1`) gives the devices named there their ORDER.
pub(crate) fn boot_order(t: &mut Tmpl) -> Result<(), String> {
    for name in ["DISK", "NIC"] {
        for d in t.vectors_mut(name) {
            vremove(d, "ORDER");
        }
    }
    let Some(order) = t
        .vectors("OS")
        .first()
        .and_then(|os| vget(os, "BOOT").map(str::to_owned))
    else {
        return Ok(());
    };
    if order.is_empty() {
        return Ok(());
    }
    let mut index = 1;
    for dev in order.split(',') {
        let dev = dev.to_ascii_uppercase();
        let (name, key, num) = if let Some(n) = dev.strip_prefix("DISK") {
            ("DISK", "DISK_ID", n)
        } else if let Some(n) = dev.strip_prefix("NIC") {
            ("NIC", "NIC_ID", n)
        } else {
            return Err(format!(
                "Wrong OS/BOOT value: \"{order}\" should be a comma-separated list of disk# or nic#"
            ));
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "Wrong OS/BOOT value: \"{order}\" should be a comma-separated list of disk# or nic#"
            ));
        }
        let mut found = false;
        for d in t.vectors_mut(name) {
            if vget(d, key).and_then(|x| x.parse::<u32>().ok()) == num.parse::<u32>().ok() {
                vset(d, "ORDER", index.to_string());
                d.sort();
                index += 1;
                found = true;
            }
        }
        if !found {
            return Err(format!(
                "Wrong OS/BOOT value. Device with {key} {} not found",
                num.parse::<u32>().unwrap_or(0)
            ));
        }
    }
    Ok(())
}

/// `parse_features`: the boolean FEATURES are rewritten `YES` / `NO`.
pub(crate) fn bool_features(t: &mut Tmpl) {
    const BOOL: [&str; 8] = [
        "PAE",
        "ACPI",
        "APIC",
        "HYPERV",
        "LOCALTIME",
        "GUEST_AGENT",
        "RAS",
        "MIGRATE_COMPRESSED",
    ];
    for f in t.vectors_mut("FEATURES") {
        for (k, v) in f.iter_mut() {
            if BOOL.contains(&k.as_str()) {
                if v.eq_ignore_ascii_case("yes") || v.eq_ignore_ascii_case("true") {
                    *v = "YES".into();
                } else if v.eq_ignore_ascii_case("no") || v.eq_ignore_ascii_case("false") {
                    *v = "NO".into();
                }
            }
        }
    }
}

/// The clusters of a comma-separated CLUSTER_ID.
fn cluster_set(v: Option<&str>) -> Option<BTreeSet<i32>> {
    let v = v?;
    Some(v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
}

/// `VirtualMachine::automatic_requirements`: the clusters every disk's datastore and every
/// NIC's network share give `(CLUSTER_ID = a | CLUSTER_ID = b) & ` before the pinning
/// policy, and the system datastores and networks the VM may use. Errors are oned's.
pub(crate) fn automatic_requirements(t: &mut Tmpl) -> Result<(), String> {
    t.remove("AUTOMATIC_REQUIREMENTS");
    t.remove("AUTOMATIC_DS_REQUIREMENTS");
    t.remove("AUTOMATIC_NIC_REQUIREMENTS");
    let mut clusters: Option<BTreeSet<i32>> = None;
    let join = |c: &BTreeSet<i32>| c.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    for (what, name) in [("DISK", "DISK"), ("NIC", "NIC")] {
        for (i, d) in t.vectors(name).iter().enumerate() {
            if name == "NIC"
                && vget(d, "NETWORK_MODE").is_some_and(|m| m.eq_ignore_ascii_case("AUTO"))
            {
                continue;
            }
            let Some(ids) = cluster_set(vget(d, "CLUSTER_ID")) else {
                continue;
            };
            if ids.is_empty() {
                return Err(if what == "DISK" {
                    format!("Missing clusters. Datastore for DISK {i} is not in any cluster")
                } else {
                    format!("Missing clusters. Network for NIC {i} is not in any cluster")
                });
            }
            let next: BTreeSet<i32> = match &clusters {
                None => ids,
                Some(c) => c.intersection(&ids).copied().collect(),
            };
            if next.is_empty() {
                let c = clusters.as_ref().map(join).unwrap_or_default();
                return Err(if what == "DISK" {
                    format!(
                        "Incompatible clusters in DISK. Datastore for DISK {i} is not in the same cluster as the one used by other VM elements (cluster {c})"
                    )
                } else {
                    format!(
                        "Incompatible clusters in NIC. Network for NIC {i} is not in the same cluster as the one used by other VM elements (cluster {c})"
                    )
                });
            }
            clusters = Some(next);
        }
    }
    let clusters = clusters.unwrap_or_default();
    let pinned = t
        .vectors("TOPOLOGY")
        .first()
        .and_then(|v| vget(v, "PIN_POLICY"))
        .is_some_and(|p| !p.is_empty() && !p.eq_ignore_ascii_case("NONE"));
    let mut req = String::new();
    if !clusters.is_empty() {
        let parts: Vec<String> = clusters
            .iter()
            .map(|c| format!("CLUSTER_ID = {c}"))
            .collect();
        req.push_str(&format!("({}) & ", parts.join(" | ")));
    }
    req.push_str(if pinned {
        "(PIN_POLICY = PINNED)"
    } else {
        "!(PIN_POLICY = PINNED)"
    });
    if let Some(features) = t
        .vectors("CPU_MODEL")
        .first()
        .and_then(|v| vget(v, "FEATURES").map(str::to_owned))
    {
        for f in features.split(',').filter(|f| !f.is_empty()) {
            req.push_str(&format!(" & (KVM_CPU_FEATURES = \"*{f}*\")"));
        }
    }
    t.set("AUTOMATIC_REQUIREMENTS", req);
    if !clusters.is_empty() {
        let parts: Vec<String> = clusters
            .iter()
            .map(|c| format!("\"CLUSTERS/ID\" @> {c}"))
            .collect();
        let nic = format!("({})", parts.join(" | "));
        t.set("AUTOMATIC_NIC_REQUIREMENTS", nic.clone());
        let mut ds = nic;
        if let Some(tm) = t.get("TM_MAD_SYSTEM") {
            ds.push_str(&format!(" & (TM_MAD = \"{}\")", tm.trim()));
        }
        t.set("AUTOMATIC_DS_REQUIREMENTS", ds);
    }
    Ok(())
}

/// The VM's SECURITY_GROUP_RULE vectors: the rules of every security group its NICs name
/// (in the order they first appear), each with SECURITY_GROUP_ID and _NAME.
pub(crate) fn security_group_rules(s: &State, t: &mut Tmpl) {
    t.remove("SECURITY_GROUP_RULE");
    let mut sgs: Vec<i32> = Vec::new();
    for nic in t.vectors("NIC") {
        for id in vget(nic, "SECURITY_GROUPS")
            .unwrap_or("")
            .split(',')
            .filter_map(|x| x.trim().parse::<i32>().ok())
        {
            if !sgs.contains(&id) {
                sgs.push(id);
            }
        }
    }
    for id in sgs {
        let Ok(o) = s.get(Kind::SecGroup, id) else {
            continue;
        };
        for rule in o.template.vectors("RULE") {
            let mut r = rule.to_vec();
            vset(&mut r, "SECURITY_GROUP_ID", id.to_string());
            vset(&mut r, "SECURITY_GROUP_NAME", o.meta.name.clone());
            t.push("SECURITY_GROUP_RULE", AttrValue::Vector(r));
        }
    }
}

/// Recompute a VM's SECURITY_GROUP_RULE after its NICs or their groups changed.
pub(crate) fn refresh_security_group_rules(s: &mut State, vm_id: i32) {
    let Ok(o) = s.get(Kind::Vm, vm_id) else {
        return;
    };
    let mut t = o.template.clone();
    security_group_rules(s, &mut t);
    if let Ok(o) = s.get_mut(Kind::Vm, vm_id) {
        o.template = t;
    }
}

/// oned's `NETWORK_CONTEXT` and `NETWORK6_CONTEXT`: the ETHn_ name, the NIC attribute,
/// an alternative NIC attribute, and whether the address range and network are looked
/// up when the NIC has none.
const NETWORK_CONTEXT: &[(&str, &str, &str, bool)] = &[
    ("IP", "IP", "", false),
    ("MAC", "MAC", "", false),
    ("MASK", "NETWORK_MASK", "", true),
    ("NETWORK", "NETWORK_ADDRESS", "", true),
    ("GATEWAY", "GATEWAY", "", true),
    ("DNS", "DNS", "", true),
    ("SEARCH_DOMAIN", "SEARCH_DOMAIN", "", true),
    ("MTU", "GUEST_MTU", "", true),
    ("METRIC", "METRIC", "", true),
    ("METHOD", "METHOD", "", true),
    ("VLAN_ID", "VLAN_ID", "", true),
    ("VROUTER_IP", "VROUTER_IP", "", false),
    ("VROUTER_MANAGEMENT", "VROUTER_MANAGEMENT", "", false),
    ("EXTERNAL", "EXTERNAL", "", false),
    ("ROUTES", "ROUTES", "", true),
    ("IP6", "IP6_GLOBAL", "IP6", false),
    ("IP6_ULA", "IP6_ULA", "", false),
    ("IP6_GATEWAY", "GATEWAY6", "", true),
    ("IP6_METRIC", "IP6_METRIC", "", true),
    ("IP6_METHOD", "IP6_METHOD", "", true),
    ("IP6_PREFIX_LENGTH", "PREFIX_LENGTH", "", true),
    ("VROUTER_IP6", "VROUTER_IP6_GLOBAL", "VROUTER_IP6", false),
];

/// `generate_network_context`: with CONTEXT/NETWORK = YES, every NIC's ETHn_ variables,
/// from the NIC, else (for the looked-up ones) its address range, else its network.
pub(crate) fn network_context(s: &State, t: &Tmpl) -> Vector {
    let mut out = Vector::new();
    let net = t
        .vectors("CONTEXT")
        .first()
        .and_then(|c| vget(c, "NETWORK"))
        .is_some_and(|n| n.eq_ignore_ascii_case("YES"));
    if !net {
        return out;
    }
    for nic in t.vectors("NIC") {
        if vget(nic, "NETWORK_MODE").is_some_and(|m| m.eq_ignore_ascii_case("AUTO")) {
            continue;
        }
        let nic_id = vget(nic, "NIC_ID").unwrap_or("0");
        let vnet = vget(nic, "NETWORK_ID")
            .and_then(|x| x.parse::<i32>().ok())
            .and_then(|id| s.get(Kind::Vnet, id).ok());
        let ar = vnet.and_then(|o| match &o.extra {
            Extra::Vnet(v) => {
                let ar_id = vget(nic, "AR_ID").and_then(|x| x.parse::<i32>().ok())?;
                v.ars.iter().find(|a| a.id == ar_id)
            }
            _ => None,
        });
        for (ctx_name, nic_name, alt, lookup) in NETWORK_CONTEXT {
            let mut val = vget(nic, nic_name).unwrap_or("").to_owned();
            if val.is_empty() && !alt.is_empty() {
                val = vget(nic, alt).unwrap_or("").to_owned();
            }
            if val.is_empty() && *lookup {
                val = ar
                    .and_then(|a| vget(&a.extra, nic_name).map(str::to_owned))
                    .filter(|x| !x.is_empty())
                    .or_else(|| vnet.and_then(|o| o.template.get(nic_name).map(str::to_owned)))
                    .unwrap_or_default();
            }
            out.push((format!("ETH{nic_id}_{ctx_name}"), val));
        }
    }
    out
}

/// The network context after a NIC was attached or detached (oned regenerates it for
/// the VM's context CD): every NIC's ETHn_ variables, and none left for a NIC that went.
pub(crate) fn refresh_network_context(s: &mut State, vm_id: i32) {
    let Ok(o) = s.get(Kind::Vm, vm_id) else {
        return;
    };
    let mut t = o.template.clone();
    let eth = network_context(s, &t);
    let Some(cv) = t.vectors_mut("CONTEXT").into_iter().next() else {
        return;
    };
    if !vget(cv, "NETWORK").is_some_and(|n| n.eq_ignore_ascii_case("YES")) {
        return;
    }
    // ETH<digits>_... only (a user's ETHER_WALLET stays)
    let generated = |k: &str| {
        k.strip_prefix("ETH").is_some_and(|rest| {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && rest.as_bytes().get(digits) == Some(&b'_')
        })
    };
    cv.retain(|(k, _)| !generated(k));
    for (k, v) in eth {
        vset(cv, &k, v);
    }
    cv.sort();
    if let Ok(o) = s.get_mut(Kind::Vm, vm_id) {
        o.template = t;
    }
}

/// The CONTEXT variables oned substitutes (`$NAME`, `$VMID`, `$UID`, `$UNAME`, `$GID`,
/// `$GNAME`, `$USER[ATTR]`, and `$ATTR` / `$ATTR[KEY]` from the VM's template, then its user
/// template), unknown ones as the empty string, as oned's `parse_template_attribute` does.
pub(crate) fn substitute(
    s: &State,
    (uid, gid, vm_id): (i32, i32, i32),
    name: &str,
    templates: &[&Tmpl],
    value: &str,
) -> String {
    if !value.contains('$') {
        return value.to_owned();
    }
    let bytes = value.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < value.len() {
        let c = bytes[i];
        if c != b'$' {
            let ch = value[i..].chars().next().unwrap_or('\0');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < value.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        if j == start {
            out.push('$');
            i += 1;
            continue;
        }
        let var = &value[start..j];
        let mut key: Option<&str> = None;
        let mut end = j;
        if j < value.len()
            && bytes[j] == b'['
            && let Some(close) = value[j..].find(']')
        {
            key = Some(value[j + 1..j + close].trim());
            end = j + close + 1;
        }
        let user = s.users.get(&uid);
        let resolved = match (var.to_ascii_uppercase().as_str(), key) {
            ("NAME", None) => name.to_owned(),
            ("VMID", None) => vm_id.to_string(),
            ("UID", None) => uid.to_string(),
            ("GID", None) => gid.to_string(),
            ("UNAME", None) => s.uname(uid).to_owned(),
            ("GNAME", None) => s.gname(gid).to_owned(),
            ("USER", Some(k)) => match k.to_ascii_uppercase().as_str() {
                "NAME" => s.uname(uid).to_owned(),
                "ID" => uid.to_string(),
                k => user
                    .and_then(|u| u.template.get(k).map(str::to_owned))
                    .unwrap_or_default(),
            },
            (v, Some(k)) => templates
                .iter()
                .find_map(|t| {
                    t.vectors(v)
                        .first()
                        .and_then(|x| vget(x, &k.to_ascii_uppercase()).map(str::to_owned))
                })
                .unwrap_or_default(),
            (v, None) => templates
                .iter()
                .find_map(|t| t.get(v).map(str::to_owned))
                .unwrap_or_default(),
        };
        out.push_str(&resolved);
        i = end;
    }
    out
}

/// At deployment on system datastore `ds_id` (`VirtualMachine::set_up` / dispatch):
/// volatile disks get the datastore's attributes, and a VNC/SPICE GRAPHICS its port
/// (5900 + the VM id, oned's hint, or the next free one in the cluster).
pub(crate) fn deploy(s: &mut State, vm_id: i32, ds_id: i32, cluster: i32) {
    let Ok(o) = s.get(Kind::Vm, vm_id) else {
        return;
    };
    let mut t = o.template.clone();
    let mut disks: Vec<Vector> = t.vectors("DISK").iter().map(|d| d.to_vec()).collect();
    for d in disks.iter_mut() {
        if vget(d, "IMAGE_ID").is_some() {
            continue;
        }
        let ty = vget(d, "TYPE").unwrap_or("").to_ascii_uppercase();
        if ty == "SWAP" || ty == "FS" {
            datastore_disk_attribute(s, ds_id, d);
            d.sort();
        }
    }
    if !disks.is_empty() {
        t.remove("DISK");
        for d in disks {
            t.push("DISK", AttrValue::Vector(d));
        }
    }
    if let Some(g) = t.vectors_mut("GRAPHICS").into_iter().next()
        && vget(g, "PORT").is_none()
        && vget(g, "TYPE")
            .is_some_and(|ty| ty.eq_ignore_ascii_case("VNC") || ty.eq_ignore_ascii_case("SPICE"))
    {
        let taken: BTreeSet<i64> = s
            .pool(Kind::Vm)
            .objs
            .values()
            .filter(|x| x.meta.id != vm_id)
            .filter(|x| {
                x.vm().is_some_and(|v| {
                    v.state != st::DONE && v.history.last().is_some_and(|h| h.cid == cluster)
                })
            })
            .filter_map(|x| {
                x.template
                    .vectors("GRAPHICS")
                    .first()
                    .and_then(|g| vget(g, "PORT").and_then(|p| p.parse().ok()))
            })
            .collect();
        let mut port = 5900 + i64::from(vm_id) % (65536 - 5900);
        while taken.contains(&port) && port < 65535 {
            port += 1;
        }
        vset(g, "PORT", port.to_string());
        g.sort();
    }
    if let Ok(o) = s.get_mut(Kind::Vm, vm_id) {
        o.template = t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vec(pairs: &[(&str, &str)]) -> Vector {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn targets_per_prefix_like_oned() {
        let mut d = vec![
            vec(&[("DEV_PREFIX", "vd")]),
            vec(&[("DEV_PREFIX", "sd")]),
            vec(&[("DEV_PREFIX", "vd")]),
        ];
        assign_targets(&mut d, true);
        let t: Vec<_> = d.iter().map(|x| vget(x, "TARGET").unwrap_or("")).collect();
        assert_eq!(t, ["vda", "sda", "vdb"]);
    }

    #[test]
    fn requirements_from_clusters() {
        let mut t =
            Tmpl::parse("DISK = [ CLUSTER_ID = \"0,100\" ]\nNIC = [ CLUSTER_ID = \"100\" ]")
                .expect("parse");
        automatic_requirements(&mut t).expect("compatible");
        assert_eq!(
            t.get("AUTOMATIC_REQUIREMENTS"),
            Some("(CLUSTER_ID = 100) & !(PIN_POLICY = PINNED)")
        );
        assert_eq!(
            t.get("AUTOMATIC_DS_REQUIREMENTS"),
            Some("(\"CLUSTERS/ID\" @> 100)")
        );
        let mut t = Tmpl::parse("DISK = [ CLUSTER_ID = \"0\" ]\nNIC = [ CLUSTER_ID = \"100\" ]")
            .expect("parse");
        let e = automatic_requirements(&mut t).expect_err("incompatible");
        assert_eq!(
            e,
            "Incompatible clusters in NIC. Network for NIC 0 is not in the same cluster as the one used by other VM elements (cluster 0)"
        );
        let mut t = Tmpl::parse("CPU = 1").expect("parse");
        automatic_requirements(&mut t).expect("none");
        assert_eq!(
            t.get("AUTOMATIC_REQUIREMENTS"),
            Some("!(PIN_POLICY = PINNED)")
        );
        assert_eq!(t.get("AUTOMATIC_NIC_REQUIREMENTS"), None);
    }

    #[test]
    fn boot_order_and_features() {
        let mut t = Tmpl::parse(
            "DISK = [ DISK_ID = 0 ]\nDISK = [ DISK_ID = 1 ]\nNIC = [ NIC_ID = 0 ]\nOS = [ BOOT = \"nic0,disk1\" ]\nFEATURES = [ ACPI = \"yes\", APIC = \"no\", GIC = \"3\" ]",
        )
        .expect("parse");
        boot_order(&mut t).expect("order");
        assert_eq!(vget(t.vectors("NIC")[0], "ORDER"), Some("1"));
        assert_eq!(vget(t.vectors("DISK")[1], "ORDER"), Some("2"));
        assert_eq!(vget(t.vectors("DISK")[0], "ORDER"), None);
        let mut bad = Tmpl::parse("OS = [ BOOT = \"disk7\" ]").expect("parse");
        assert_eq!(
            boot_order(&mut bad).expect_err("missing"),
            "Wrong OS/BOOT value. Device with DISK_ID 7 not found"
        );
        bool_features(&mut t);
        let f = t.vectors("FEATURES")[0];
        assert_eq!(vget(f, "ACPI"), Some("YES"));
        assert_eq!(vget(f, "APIC"), Some("NO"));
        assert_eq!(vget(f, "GIC"), Some("3"));
    }
}
