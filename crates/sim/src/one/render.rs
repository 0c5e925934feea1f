//! XML documents in oned's exact element order.

use std::fmt::Write as _;

use super::state::{Extra, History, Host, Kind, Meta, Obj, State, User};
use super::tmpl::{Tmpl, cdata_elem};

/// `<NAME>value</NAME>` with a plain (already safe) value.
pub(crate) fn el(out: &mut String, name: &str, v: impl std::fmt::Display) {
    let _ = write!(out, "<{name}>{v}</{name}>");
}

/// `<NAME>escaped text</NAME>`.
pub(crate) fn el_text(out: &mut String, name: &str, v: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    for ch in v.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn ids(out: &mut String, name: &str, ids: impl IntoIterator<Item = i32>) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    for i in ids {
        el(out, "ID", i);
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn perms(out: &mut String, p: &[u8; 9]) {
    out.push_str("<PERMISSIONS>");
    for (i, n) in [
        "OWNER_U", "OWNER_M", "OWNER_A", "GROUP_U", "GROUP_M", "GROUP_A", "OTHER_U", "OTHER_M",
        "OTHER_A",
    ]
    .iter()
    .enumerate()
    {
        el(out, n, p[i]);
    }
    out.push_str("</PERMISSIONS>");
}

fn owner(out: &mut String, s: &State, m: &Meta) {
    el(out, "ID", m.id);
    el(out, "UID", m.uid);
    el(out, "GID", m.gid);
    el_text(out, "UNAME", s.uname(m.uid));
    el_text(out, "GNAME", s.gname(m.gid));
    el_text(out, "NAME", &m.name);
}

fn lock(out: &mut String, m: &Meta) {
    if let Some(l) = &m.lock {
        out.push_str("<LOCK>");
        el(out, "LOCKED", l.level);
        el(out, "OWNER", l.owner);
        el(out, "TIME", l.time);
        el(out, "REQ_ID", l.req_id);
        out.push_str("</LOCK>");
    }
}

/// Whose VMs a quota counts.
#[derive(Clone, Copy)]
pub(crate) enum QuotaOwner {
    User(i32),
    Group(i32),
}

/// What the VMs of a user or group use, as oned counts it for the VM quota.
#[derive(Default)]
struct VmUsage {
    vms: i64,
    cpu: f64,
    memory: i64,
    system_disk: i64,
    running_vms: i64,
    running_cpu: f64,
    running_memory: i64,
}

impl VmUsage {
    fn of(s: &State, owner: QuotaOwner) -> VmUsage {
        use super::state::st;
        let mut u = VmUsage::default();
        // oned keeps no quota usage for oneadmin (user 0) and the oneadmin group (0)
        // (Quotas::quota_check, recorded 179)
        if matches!(owner, QuotaOwner::User(0) | QuotaOwner::Group(0)) {
            return u;
        }
        for o in s.pool(Kind::Vm).objs.values() {
            let mine = match owner {
                QuotaOwner::User(id) => o.meta.uid == id,
                QuotaOwner::Group(id) => o.meta.gid == id,
            };
            let Some(v) = o.vm() else { continue };
            if !mine || v.state == st::DONE {
                continue;
            }
            let num = |k: &str| o.template.get(k).and_then(|x| x.parse::<f64>().ok());
            let cpu = num("CPU").unwrap_or(0.0);
            // oned counts whole MiB
            #[allow(clippy::cast_possible_truncation)]
            let memory = num("MEMORY").unwrap_or(0.0) as i64;
            u.vms += 1;
            u.cpu += cpu;
            u.memory += memory;
            u.system_disk += o
                .template
                .vectors("DISK")
                .iter()
                .filter(|d| !d.iter().any(|(k, _)| k == "IMAGE_ID" || k == "IMAGE"))
                .filter_map(|d| d.iter().find(|(k, _)| k == "SIZE"))
                .filter_map(|(_, x)| x.parse::<i64>().ok())
                .sum::<i64>();
            // running quotas leave out VMs that hold no host resources
            if !matches!(
                v.state,
                st::HOLD | st::STOPPED | st::POWEROFF | st::UNDEPLOYED
            ) {
                u.running_vms += 1;
                u.running_cpu += cpu;
                u.running_memory += memory;
            }
        }
        u
    }

    fn used(&self, metric: &str) -> Option<String> {
        let f = |x: f64| {
            let r = (x * 100.0).round() / 100.0;
            if r.fract() == 0.0 {
                format!("{r:.0}")
            } else {
                format!("{r}")
            }
        };
        Some(match metric {
            "VMS" => self.vms.to_string(),
            "CPU" => f(self.cpu),
            "MEMORY" => self.memory.to_string(),
            "SYSTEM_DISK_SIZE" => self.system_disk.to_string(),
            "RUNNING_VMS" => self.running_vms.to_string(),
            "RUNNING_CPU" => f(self.running_cpu),
            "RUNNING_MEMORY" => self.running_memory.to_string(),
            _ => return None,
        })
    }
}

/// The VM quota metrics in oned's order.
pub(crate) const VM_METRICS: [&str; 11] = [
    "CPU",
    "MEMORY",
    "PCI_DEV",
    "PCI_NIC",
    "RUNNING_CPU",
    "RUNNING_MEMORY",
    "RUNNING_PCI_DEV",
    "RUNNING_PCI_NIC",
    "RUNNING_VMS",
    "SYSTEM_DISK_SIZE",
    "VMS",
];

/// The quota elements; VM usage is counted from the owner's VMs, and a VM entry with
/// default (-1) limits appears once the owner has VMs, as in oned.
fn quotas(out: &mut String, s: &State, q: &Tmpl, owner: Option<QuotaOwner>) {
    let usage = owner.map(|o| VmUsage::of(s, o)).unwrap_or_default();
    for (el_name, vec_name) in [
        ("DATASTORE_QUOTA", "DATASTORE"),
        ("NETWORK_QUOTA", "NETWORK"),
        ("VM_QUOTA", "VM"),
        ("IMAGE_QUOTA", "IMAGE"),
    ] {
        out.push('<');
        out.push_str(el_name);
        out.push('>');
        let vectors = q.vectors(vec_name);
        if vec_name == "VM" && vectors.is_empty() && usage.vms > 0 {
            out.push_str("<VM>");
            for m in VM_METRICS {
                cdata_elem(out, m, "-1");
                let used = usage.used(m).unwrap_or_else(|| "0".into());
                cdata_elem(out, &format!("{m}_USED"), &used);
            }
            out.push_str("</VM>");
        }
        for v in vectors {
            out.push('<');
            out.push_str(vec_name);
            out.push('>');
            for (k, x) in v {
                let counted = if vec_name == "VM" && owner.is_some() {
                    k.strip_suffix("_USED").and_then(|m| usage.used(m))
                } else {
                    None
                };
                cdata_elem(out, k, counted.as_deref().unwrap_or(x));
            }
            out.push_str("</");
            out.push_str(vec_name);
            out.push('>');
        }
        out.push_str("</");
        out.push_str(el_name);
        out.push('>');
    }
}

/// `<DEFAULT_USER_QUOTAS>` or `<DEFAULT_GROUP_QUOTAS>` (`one.userquota.info`, and inside
/// user and group documents).
pub(crate) fn default_quotas(out: &mut String, s: &State, root: &str) {
    let q = if root == "DEFAULT_USER_QUOTAS" {
        &s.default_user_quota
    } else {
        &s.default_group_quota
    };
    out.push('<');
    out.push_str(root);
    out.push('>');
    quotas(out, s, q, None);
    out.push_str("</");
    out.push_str(root);
    out.push('>');
}

/// `<USER>` as `one.user.info` shows it.
pub(crate) fn user(out: &mut String, s: &State, u: &User, full: bool) {
    out.push_str("<USER>");
    user_body(out, s, u, full);
    if full {
        quotas(out, s, &u.quota, Some(QuotaOwner::User(u.id)));
        default_quotas(out, s, "DEFAULT_USER_QUOTAS");
    }
    out.push_str("</USER>");
}

fn user_body(out: &mut String, s: &State, u: &User, with_tokens: bool) {
    el(out, "ID", u.id);
    el(out, "GID", u.gid);
    ids(out, "GROUPS", u.groups.iter().copied());
    el_text(out, "GNAME", s.gname(u.gid));
    el_text(out, "NAME", &u.name);
    cdata_elem(out, "PASSWORD", &u.password);
    cdata_elem(out, "AUTH_DRIVER", &u.auth_driver);
    el(out, "ENABLED", u8::from(u.enabled));
    if with_tokens {
        let t = super::state::now();
        for k in u
            .tokens
            .iter()
            .filter(|k| k.expiration < 0 || k.expiration > t)
        {
            out.push_str("<LOGIN_TOKEN>");
            el(out, "TOKEN", &k.token);
            el(out, "EXPIRATION_TIME", k.expiration);
            el(out, "EGID", k.egid);
            out.push_str("</LOGIN_TOKEN>");
        }
    }
    u.template.render(out, "TEMPLATE");
}

/// `<USER_POOL>`.
pub(crate) fn user_pool(out: &mut String, s: &State, users: &[&User]) {
    out.push_str("<USER_POOL>");
    for u in users {
        out.push_str("<USER>");
        // the pool lists login tokens too (recorded-sweep 225)
        user_body(out, s, u, true);
        out.push_str("</USER><QUOTAS>");
        el(out, "ID", u.id);
        quotas(out, s, &u.quota, Some(QuotaOwner::User(u.id)));
        out.push_str("</QUOTAS>");
    }
    default_quotas(out, s, "DEFAULT_USER_QUOTAS");
    out.push_str("</USER_POOL>");
}

fn group_users(s: &State, gid: i32) -> Vec<i32> {
    s.users
        .values()
        .filter(|u| u.groups.contains(&gid))
        .map(|u| u.id)
        .collect()
}

/// `<GROUP>`.
pub(crate) fn group(out: &mut String, s: &State, g: &super::state::Group) {
    out.push_str("<GROUP>");
    el(out, "ID", g.id);
    el_text(out, "NAME", &g.name);
    g.template.render(out, "TEMPLATE");
    ids(out, "USERS", group_users(s, g.id));
    ids(out, "ADMINS", g.admins.iter().copied());
    quotas(out, s, &g.quota, Some(QuotaOwner::Group(g.id)));
    vlan_rules(out, g);
    default_quotas(out, s, "DEFAULT_GROUP_QUOTAS");
    out.push_str("</GROUP>");
}

/// A group's `<VLAN_RULES>` (in `one.group.info` and, with its rules too, the pool).
fn vlan_rules(out: &mut String, g: &super::state::Group) {
    out.push_str("<VLAN_RULES>");
    cdata_elem(out, "ID", &g.id.to_string());
    for r in &g.vlan_rules {
        out.push_str("<RULE>");
        for (k, v) in r {
            cdata_elem(out, k, v);
        }
        out.push_str("</RULE>");
    }
    out.push_str("</VLAN_RULES>");
}

/// `<GROUP_POOL>`.
pub(crate) fn group_pool(out: &mut String, s: &State, groups: &[&super::state::Group]) {
    out.push_str("<GROUP_POOL>");
    for g in groups {
        out.push_str("<GROUP>");
        el(out, "ID", g.id);
        el_text(out, "NAME", &g.name);
        g.template.render(out, "TEMPLATE");
        ids(out, "USERS", group_users(s, g.id));
        ids(out, "ADMINS", g.admins.iter().copied());
        out.push_str("</GROUP><QUOTAS>");
        el(out, "ID", g.id);
        quotas(out, s, &g.quota, Some(QuotaOwner::Group(g.id)));
        out.push_str("</QUOTAS>");
        vlan_rules(out, g);
    }
    default_quotas(out, s, "DEFAULT_GROUP_QUOTAS");
    out.push_str("</GROUP_POOL>");
}

/// `<CLUSTER>`.
pub(crate) fn cluster(out: &mut String, s: &State, c: &super::state::Cluster) {
    out.push_str("<CLUSTER>");
    el(out, "ID", c.id);
    el_text(out, "NAME", &c.name);
    ids(
        out,
        "HOSTS",
        s.hosts
            .values()
            .filter(|h| h.cluster_id == c.id)
            .map(|h| h.id),
    );
    ids(out, "DATASTORES", c.datastores.iter().copied());
    ids(out, "VNETS", c.vnets.iter().copied());
    c.template.render(out, "TEMPLATE");
    out.push_str("</CLUSTER>");
}

/// Running VMs on a host and their CPU/memory use.
pub(crate) fn host_usage(s: &State, hid: i32) -> (Vec<i32>, i64, i64) {
    let mut vms = Vec::new();
    let (mut cpu, mut mem) = (0i64, 0i64);
    for o in s.pool(Kind::Vm).objs.values() {
        if let Some(v) = o.vm() {
            let active = matches!(v.state, 3 | 5 | 8);
            if active && v.history.last().map(|h| h.hid) == Some(hid) {
                vms.push(o.meta.id);
                cpu += (o
                    .template
                    .get("CPU")
                    .and_then(|c| c.parse::<f64>().ok())
                    .unwrap_or(0.0)
                    * 100.0) as i64;
                mem += o
                    .template
                    .get("MEMORY")
                    .and_then(|c| c.parse::<i64>().ok())
                    .unwrap_or(0)
                    * 1024;
            }
        }
    }
    (vms, cpu, mem)
}

/// `<HOST>` (with its last monitoring record for `one.host.info`, without it in pools).
pub(crate) fn host(out: &mut String, s: &State, h: &Host, with_monitoring: bool) {
    let monitored = h.state != 0 && h.monitored_at <= super::state::now();
    let (vms, cpu, mem) = host_usage(s, h.id);
    let (tc, tm) = if monitored {
        (h.total_cpu, h.total_mem)
    } else {
        (0, 0)
    };
    out.push_str("<HOST>");
    el(out, "ID", h.id);
    el_text(out, "NAME", &h.name);
    el(out, "STATE", h.state);
    // as for VMs: HostPool::update sets PREV_STATE to STATE before storing
    el(out, "PREV_STATE", h.state);
    cdata_elem(out, "IM_MAD", &h.im_mad);
    cdata_elem(out, "VM_MAD", &h.vm_mad);
    el(out, "CLUSTER_ID", h.cluster_id);
    el_text(
        out,
        "CLUSTER",
        s.clusters
            .get(&h.cluster_id)
            .map(|c| c.name.as_str())
            .unwrap_or(""),
    );
    out.push_str("<HOST_SHARE>");
    el(out, "MEM_USAGE", mem);
    el(out, "CPU_USAGE", cpu);
    el(out, "TOTAL_MEM", tm);
    el(out, "TOTAL_CPU", tc);
    el(out, "MAX_MEM", tm);
    el(out, "MAX_CPU", tc);
    el(out, "RUNNING_VMS", vms.len());
    el(out, "VMS_THREAD", 1);
    out.push_str("<DATASTORES>");
    let (disk, used) = if monitored {
        ("20480", super::dummy_probe::DS_USED_MB.to_string())
    } else {
        ("0", "0".to_owned())
    };
    cdata_elem(out, "DISK_USAGE", "0");
    cdata_elem(out, "FREE_DISK", disk);
    cdata_elem(out, "MAX_DISK", disk);
    cdata_elem(out, "USED_DISK", &used);
    out.push_str("</DATASTORES>");
    if monitored {
        super::dummy_probe::render_pci_devices(out, s, h.id);
        super::dummy_probe::render_numa_nodes(out);
    } else {
        out.push_str("<PCI_DEVICES></PCI_DEVICES><NUMA_NODES></NUMA_NODES>");
    }
    out.push_str("</HOST_SHARE>");
    ids(out, "VMS", vms);
    if monitored {
        super::dummy_probe::monitored_template(h).render(out, "TEMPLATE");
    } else {
        h.template.render(out, "TEMPLATE");
    }
    // the pool's HOST has no monitoring (oned keeps it in its own table), one.host.info
    // the last record
    if monitored && with_monitoring {
        out.push_str("<MONITORING>");
        el(out, "TIMESTAMP", super::state::now());
        el(out, "ID", h.id);
        out.push_str("<CAPACITY>");
        cdata_elem(out, "FREE_CPU", &(tc - cpu).to_string());
        cdata_elem(out, "FREE_MEMORY", &(tm - mem).to_string());
        cdata_elem(out, "USED_CPU", &cpu.to_string());
        cdata_elem(out, "USED_MEMORY", &mem.to_string());
        out.push_str("</CAPACITY><SYSTEM>");
        cdata_elem(out, "NETRX", "0");
        cdata_elem(out, "NETTX", "0");
        out.push_str("</SYSTEM>");
        super::dummy_probe::render_monitoring_numa(out, mem);
        out.push_str("</MONITORING>");
    } else {
        out.push_str("<MONITORING/>");
    }
    out.push_str("</HOST>");
}

/// `<ZONE>`.
/// `<VDC>`.
pub(crate) fn vdc(out: &mut String, v: &super::state::Vdc) {
    out.push_str("<VDC>");
    el(out, "ID", v.id);
    el_text(out, "NAME", &v.name);
    ids(out, "GROUPS", v.groups.iter().copied());
    for (list, item, id_name, set) in [
        ("CLUSTERS", "CLUSTER", "CLUSTER_ID", &v.clusters),
        ("HOSTS", "HOST", "HOST_ID", &v.hosts),
        ("DATASTORES", "DATASTORE", "DATASTORE_ID", &v.datastores),
        ("VNETS", "VNET", "VNET_ID", &v.vnets),
    ] {
        let _ = write!(out, "<{list}>");
        for (zone, id) in set {
            let _ = write!(
                out,
                "<{item}><ZONE_ID>{zone}</ZONE_ID><{id_name}>{id}</{id_name}></{item}>"
            );
        }
        let _ = write!(out, "</{list}>");
    }
    v.template.render(out, "TEMPLATE");
    out.push_str("</VDC>");
}

/// A zone of a solo (non-HA) oned: its SERVER_POOL is empty (recorded-sweep 013).
pub(crate) fn zone(out: &mut String, z: &super::state::Zone) {
    out.push_str("<ZONE>");
    el(out, "ID", z.id);
    el_text(out, "NAME", &z.name);
    out.push_str("<STATE>0</STATE>");
    z.template.render(out, "TEMPLATE");
    out.push_str("<SERVER_POOL></SERVER_POOL></ZONE>");
}

/// `<ACL_POOL>`.
pub(crate) fn acl_pool(out: &mut String, s: &State) {
    out.push_str("<ACL_POOL>");
    let mut rules: Vec<_> = s.acls.values().collect();
    rules.sort_by_key(|r| (r.user, r.id));
    for r in rules {
        out.push_str("<ACL>");
        el(out, "ID", r.id);
        el(out, "USER", format!("{:x}", r.user));
        el(out, "RESOURCE", format!("{:x}", r.resource));
        el(out, "RIGHTS", format!("{:x}", r.rights));
        el(out, "ZONE", format!("{:x}", r.zone));
        el_text(out, "STRING", &r.to_str());
        out.push_str("</ACL>");
    }
    out.push_str("</ACL_POOL>");
}

/// The root element of a pool of `kind`.
pub(crate) fn pool_root(kind: Kind) -> &'static str {
    match kind {
        Kind::Vm => "VM_POOL",
        Kind::Template => "VMTEMPLATE_POOL",
        Kind::Vnet => "VNET_POOL",
        Kind::Image => "IMAGE_POOL",
        Kind::Datastore => "DATASTORE_POOL",
        Kind::SecGroup => "SECURITY_GROUP_POOL",
        Kind::VmGroup => "VM_GROUP_POOL",
        Kind::Document => "DOCUMENT_POOL",
        Kind::VnTemplate => "VNTEMPLATE_POOL",
        Kind::Vrouter => "VROUTER_POOL",
        Kind::Market => "MARKETPLACE_POOL",
        Kind::MarketApp => "MARKETPLACEAPP_POOL",
        Kind::BackupJob => "BACKUPJOB_POOL",
        Kind::Hook => "HOOK_POOL",
    }
}

/// Render an owned object. `short` = the reduced form used in pools where oned has one.
pub(crate) fn obj(out: &mut String, s: &State, o: &Obj, short: bool, decrypt: bool) {
    let _ = decrypt;
    match &o.extra {
        Extra::Vm(_) if short => vm_short(out, s, o),
        Extra::Vm(_) => vm_full(out, s, o, false),
        Extra::Template | Extra::VnTemplate => {
            let root = if matches!(o.extra, Extra::Template) {
                "VMTEMPLATE"
            } else {
                "VNTEMPLATE"
            };
            out.push('<');
            out.push_str(root);
            out.push('>');
            owner(out, s, &o.meta);
            lock(out, &o.meta);
            perms(out, &o.meta.perms);
            el(out, "REGTIME", o.meta.regtime);
            o.template.render(out, "TEMPLATE");
            out.push_str("</");
            out.push_str(root);
            out.push('>');
        }
        Extra::Vnet(v) => vnet(out, s, o, v, short),
        Extra::Vrouter { vms } => {
            out.push_str("<VROUTER>");
            owner(out, s, &o.meta);
            perms(out, &o.meta.perms);
            lock(out, &o.meta);
            ids(out, "VMS", vms.iter().copied());
            o.template.render(out, "TEMPLATE");
            out.push_str("</VROUTER>");
        }
        Extra::Image(i) => {
            out.push_str("<IMAGE>");
            owner(out, s, &o.meta);
            lock(out, &o.meta);
            perms(out, &o.meta.perms);
            el(out, "TYPE", i.img_type);
            el(out, "DISK_TYPE", 0);
            el(out, "PERSISTENT", u8::from(i.persistent));
            el(out, "REGTIME", o.meta.regtime);
            el(out, "MODTIME", o.meta.regtime);
            cdata_elem(out, "SOURCE", &i.source);
            cdata_elem(out, "PATH", &i.path);
            cdata_elem(out, "FORMAT", &i.format);
            cdata_elem(out, "FS", "");
            el(out, "SIZE", i.size);
            let state = image_state(i);
            el(out, "STATE", state);
            el(out, "PREV_STATE", state);
            el(out, "RUNNING_VMS", i.vms.len());
            el(out, "CLONING_OPS", 0);
            el(out, "CLONING_ID", -1);
            el(out, "TARGET_SNAPSHOT", -1);
            el(out, "DATASTORE_ID", i.ds_id);
            el_text(
                out,
                "DATASTORE",
                s.pool(Kind::Datastore)
                    .objs
                    .get(&i.ds_id)
                    .map(|d| d.meta.name.as_str())
                    .unwrap_or(""),
            );
            ids(out, "VMS", i.vms.iter().copied());
            out.push_str("<CLONES></CLONES><APP_CLONES></APP_CLONES>");
            o.template.render(out, "TEMPLATE");
            out.push_str("<SNAPSHOTS>");
            cdata_elem(out, "ALLOW_ORPHANS", "NO");
            cdata_elem(out, "CURRENT_BASE", "-1");
            match &i.snapshots {
                Some(d) => {
                    cdata_elem(out, "NEXT_SNAPSHOT", &d.next.to_string());
                    snapshot_list(out, d);
                }
                None => cdata_elem(out, "NEXT_SNAPSHOT", "0"),
            }
            out.push_str("</SNAPSHOTS><BACKUP_INCREMENTS></BACKUP_INCREMENTS><BACKUP_DISK_IDS></BACKUP_DISK_IDS></IMAGE>");
        }
        Extra::Datastore(d) => {
            out.push_str("<DATASTORE>");
            owner(out, s, &o.meta);
            perms(out, &o.meta.perms);
            cdata_elem(out, "DS_MAD", &d.ds_mad);
            cdata_elem(out, "TM_MAD", &d.tm_mad);
            cdata_elem(
                out,
                "BASE_PATH",
                &format!("/var/lib/one/var//datastores/{}", o.meta.id),
            );
            el(out, "TYPE", d.ds_type);
            el(out, "DISK_TYPE", 0);
            el(out, "STATE", d.state);
            ids(out, "CLUSTERS", d.clusters.iter().copied());
            let (total, free, used) = datastore_capacity(s, o, d);
            el(out, "TOTAL_MB", total);
            el(out, "FREE_MB", free);
            el(out, "USED_MB", used);
            ids(
                out,
                "IMAGES",
                s.pool(Kind::Image)
                    .objs
                    .values()
                    .filter_map(|i| match &i.extra {
                        Extra::Image(x) if x.ds_id == o.meta.id => Some(i.meta.id),
                        _ => None,
                    }),
            );
            o.template.render(out, "TEMPLATE");
            out.push_str("</DATASTORE>");
        }
        Extra::SecGroup => {
            out.push_str("<SECURITY_GROUP>");
            owner(out, s, &o.meta);
            perms(out, &o.meta.perms);
            out.push_str("<UPDATED_VMS></UPDATED_VMS><OUTDATED_VMS></OUTDATED_VMS><UPDATING_VMS></UPDATING_VMS><ERROR_VMS></ERROR_VMS>");
            o.template.render(out, "TEMPLATE");
            out.push_str("</SECURITY_GROUP>");
        }
        Extra::VmGroup => {
            out.push_str("<VM_GROUP>");
            owner(out, s, &o.meta);
            perms(out, &o.meta.perms);
            lock(out, &o.meta);
            out.push_str("<ROLES>");
            for (i, r) in o.template.vectors("ROLE").iter().enumerate() {
                out.push_str("<ROLE>");
                let mut attrs: Vec<(String, String)> = r.to_vec();
                if !attrs.iter().any(|(k, _)| k == "ID") {
                    attrs.push(("ID".into(), i.to_string()));
                }
                let vms: Vec<String> = s
                    .pool(Kind::Vm)
                    .objs
                    .values()
                    .filter(|v| {
                        v.vm().is_some_and(|d| d.state != super::state::st::DONE)
                            && v.template.vectors("VMGROUP").iter().any(|g| {
                                g.iter()
                                    .any(|(k, x)| k == "VMGROUP_ID" && *x == o.meta.id.to_string())
                                    && g.iter().any(|(k, x)| {
                                        k == "ROLE" && r.iter().any(|(n, y)| n == "NAME" && y == x)
                                    })
                            })
                    })
                    .map(|v| v.meta.id.to_string())
                    .collect();
                if !vms.is_empty() {
                    attrs.retain(|(k, _)| k != "VMS");
                    attrs.push(("VMS".into(), vms.join(",")));
                }
                attrs.sort();
                for (k, v) in &attrs {
                    cdata_elem(out, k, v);
                }
                out.push_str("</ROLE>");
            }
            out.push_str("</ROLES>");
            let mut t = o.template.clone();
            t.remove("ROLE");
            t.render(out, "TEMPLATE");
            out.push_str("</VM_GROUP>");
        }
        Extra::Market { mad, state } => {
            out.push_str("<MARKETPLACE>");
            owner(out, s, &o.meta);
            el(out, "STATE", state);
            cdata_elem(out, "MARKET_MAD", mad);
            cdata_elem(out, "ZONE_ID", "0");
            let apps: Vec<&Obj> = s
                .pool(Kind::MarketApp)
                .objs
                .values()
                .filter(|a| matches!(&a.extra, Extra::MarketApp(x) if x.market_id == o.meta.id))
                .collect();
            // the dummy/http and the public drivers report no capacity
            out.push_str("<TOTAL_MB>0</TOTAL_MB><FREE_MB>0</FREE_MB><USED_MB>0</USED_MB>");
            ids(out, "MARKETPLACEAPPS", apps.iter().map(|a| a.meta.id));
            perms(out, &o.meta.perms);
            o.template.render(out, "TEMPLATE");
            out.push_str("</MARKETPLACE>");
        }
        Extra::MarketApp(m) => {
            out.push_str("<MARKETPLACEAPP>");
            el(out, "ID", o.meta.id);
            el(out, "UID", o.meta.uid);
            el(out, "GID", o.meta.gid);
            el_text(out, "UNAME", s.uname(o.meta.uid));
            el_text(out, "GNAME", s.gname(o.meta.gid));
            lock(out, &o.meta);
            el(out, "REGTIME", o.meta.regtime);
            el_text(out, "NAME", &o.meta.name);
            cdata_elem(out, "ZONE_ID", "0");
            cdata_elem(out, "ORIGIN_ID", &m.origin_id.to_string());
            cdata_elem(out, "SOURCE", &m.source);
            cdata_elem(out, "MD5", &m.md5);
            el(out, "SIZE", m.size);
            cdata_elem(out, "DESCRIPTION", &m.description);
            cdata_elem(out, "VERSION", &m.version);
            cdata_elem(out, "FORMAT", &m.format);
            cdata_elem(out, "APPTEMPLATE64", &m.apptemplate64);
            el(out, "MARKETPLACE_ID", m.market_id);
            el_text(
                out,
                "MARKETPLACE",
                s.pool(Kind::Market)
                    .objs
                    .get(&m.market_id)
                    .map(|x| x.meta.name.as_str())
                    .unwrap_or(""),
            );
            el(out, "STATE", marketapp_state(m));
            el(out, "TYPE", m.app_type);
            perms(out, &o.meta.perms);
            o.template.render(out, "TEMPLATE");
            out.push_str("</MARKETPLACEAPP>");
        }
        Extra::BackupJob(b) => {
            out.push_str("<BACKUPJOB>");
            owner(out, s, &o.meta);
            lock(out, &o.meta);
            perms(out, &o.meta.perms);
            el(out, "PRIORITY", b.priority);
            el(out, "LAST_BACKUP_TIME", b.last_backup_time);
            el(out, "LAST_BACKUP_DURATION", b.last_backup_duration);
            sched_actions(out, o.meta.id, "BACKUPJOB", &b.sched);
            ids(out, "UPDATED_VMS", b.updated.iter().copied());
            ids(out, "OUTDATED_VMS", b.outdated.iter().copied());
            out.push_str("<BACKING_UP_VMS></BACKING_UP_VMS>");
            ids(out, "ERROR_VMS", b.error.iter().copied());
            template_with_sched(out, &o.template, o.meta.id, "BACKUPJOB", &b.sched);
            out.push_str("</BACKUPJOB>");
        }
        Extra::Hook(h) => {
            out.push_str("<HOOK>");
            el(out, "ID", o.meta.id);
            el_text(out, "NAME", &o.meta.name);
            el_text(out, "TYPE", &h.hook_type);
            lock(out, &o.meta);
            o.template.render(out, "TEMPLATE");
            if !short {
                hook_log(out, h.log.iter());
            }
            out.push_str("</HOOK>");
        }
        Extra::Document { doc_type } => {
            out.push_str("<DOCUMENT>");
            owner(out, s, &o.meta);
            el(out, "TYPE", doc_type);
            perms(out, &o.meta.perms);
            lock(out, &o.meta);
            o.template.render(out, "TEMPLATE");
            out.push_str("</DOCUMENT>");
        }
    }
}

/// The effective image state (INIT turns READY once its time has come).
pub(crate) fn image_state(i: &super::state::ImageData) -> i32 {
    if i.state == 0 && i.ready_at <= super::state::now() {
        1
    } else if i.state == 1 && !i.vms.is_empty() {
        if i.persistent { 8 } else { 2 }
    } else {
        i.state
    }
}

/// A datastore's (TOTAL_MB, FREE_MB, USED_MB) as its monitor reports them: the dummy
/// datastore driver's fixed 20480 / 20480 / 9720 (`datastore_mad/remotes/dummy/monitor`),
/// a dummy system datastore the dummy TM's 4796800 / 3333260 / 1429920
/// (`tm_mad/dummy/monitor`), a system datastore that is not shared nothing (its hosts
/// report it), and the others (a real front-end's `df`) the simulator's own 102400 MB with
/// its images' sizes used (recorded-sweep 088, 089, 096).
pub(crate) fn datastore_capacity(s: &State, o: &Obj, d: &super::state::DsData) -> (i64, i64, i64) {
    if d.ds_type != 1 && d.ds_mad == "dummy" {
        return (20_480, 20_480, 9_720);
    }
    if d.ds_type == 1 && d.tm_mad == "dummy" {
        return (4_796_800, 3_333_260, 1_429_920);
    }
    if d.ds_type == 1
        && o.template
            .get("SHARED")
            .is_some_and(|x| x.eq_ignore_ascii_case("NO"))
    {
        return (0, 0, 0);
    }
    let used: i64 = s
        .pool(Kind::Image)
        .objs
        .values()
        .filter_map(|i| match &i.extra {
            Extra::Image(x) if x.ds_id == o.meta.id => Some(x.size),
            _ => None,
        })
        .sum();
    (d.total_mb, (d.total_mb - used).max(0), used)
}

/// The effective virtual network state.
pub(crate) fn vnet_state(v: &super::state::VnetData) -> (i32, i32) {
    if v.state == 2 && v.ready_at_ms <= super::state::now_ms() {
        (1, 1)
    } else {
        (v.state, v.prev_state)
    }
}

fn mac_str(m: u64) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        (m >> 40) & 0xff,
        (m >> 32) & 0xff,
        (m >> 24) & 0xff,
        (m >> 16) & 0xff,
        (m >> 8) & 0xff,
        m & 0xff
    )
}

fn ip_str(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

/// IP and MAC of lease `idx` of an address range.
pub(crate) fn lease_addr(ar: &super::state::AddressRange, idx: u32) -> (Option<String>, String) {
    (
        ar.ip.map(|ip| ip_str(ip.wrapping_add(idx))),
        mac_str(ar.mac + u64::from(idx)),
    )
}

/// The IPv6 address of `prefix` (its first 64 bits) and the EUI-64 interface id of `mac`
/// (the universal/local bit flipped, `ff:fe` in the middle), as oned's address ranges.
fn ip6_of(prefix: &str, mac: u64) -> Option<String> {
    let p: std::net::Ipv6Addr = prefix.trim().parse().ok()?;
    let high = u128::from(p) >> 64 << 64;
    let b = mac.to_be_bytes(); // the MAC is the low 48 bits
    let iid = u64::from_be_bytes([b[2] ^ 0x02, b[3], b[4], 0xff, 0xfe, b[5], b[6], b[7]]);
    Some(std::net::Ipv6Addr::from(high | u128::from(iid)).to_string())
}

fn vnet(out: &mut String, s: &State, o: &Obj, v: &super::state::VnetData, short: bool) {
    let (state, prev) = vnet_state(v);
    let used: usize = v.ars.iter().map(|a| a.leases.len()).sum();
    out.push_str("<VNET>");
    owner(out, s, &o.meta);
    lock(out, &o.meta);
    perms(out, &o.meta.perms);
    ids(out, "CLUSTERS", v.clusters.iter().copied());
    cdata_elem(out, "BRIDGE", &v.bridge);
    cdata_elem(out, "BRIDGE_TYPE", "linux");
    cdata_elem(out, "STATE", &state.to_string());
    cdata_elem(out, "PREV_STATE", &prev.to_string());
    // a reservation keeps its parent in the state's template; oned shows it here only
    let parent = o.template.get("PARENT_NETWORK_ID");
    match parent {
        Some(p) => el_text(out, "PARENT_NETWORK_ID", p),
        None => out.push_str("<PARENT_NETWORK_ID/>"),
    }
    out.push_str("<TEMPLATE_ID/>");
    cdata_elem(out, "VN_MAD", &v.vn_mad);
    out.push_str("<PHYDEV/><VLAN_ID/><OUTER_VLAN_ID/><VLAN_ID_AUTOMATIC>0</VLAN_ID_AUTOMATIC><OUTER_VLAN_ID_AUTOMATIC>0</OUTER_VLAN_ID_AUTOMATIC>");
    el(out, "USED_LEASES", used);
    // the virtual routers with a NIC on this network
    let vnet_id = o.meta.id.to_string();
    ids(
        out,
        "VROUTERS",
        s.pool(Kind::Vrouter)
            .objs
            .values()
            .filter(|r| {
                r.template.vectors("NIC").iter().any(|n| {
                    n.iter()
                        .any(|(k, v)| k == "NETWORK_ID" && v.trim() == vnet_id)
                })
            })
            .map(|r| r.meta.id),
    );
    out.push_str("<UPDATED_VMS></UPDATED_VMS><OUTDATED_VMS></OUTDATED_VMS><UPDATING_VMS></UPDATING_VMS><ERROR_VMS></ERROR_VMS>");
    if parent.is_some() {
        let mut t = o.template.clone();
        t.remove("PARENT_NETWORK_ID");
        t.render(out, "TEMPLATE");
    } else {
        o.template.render(out, "TEMPLATE");
    }
    out.push_str("<AR_POOL>");
    if state != 2 {
        for ar in &v.ars {
            out.push_str("<AR>");
            let mut attrs: Vec<(String, String)> = ar.extra.clone();
            attrs.push(("AR_ID".into(), ar.id.to_string()));
            if let Some(ip) = ar.ip {
                attrs.push(("IP".into(), ip_str(ip)));
            }
            attrs.push(("MAC".into(), mac_str(ar.mac)));
            // oned's allocator goes on after the last address it gave a VM; holds do not
            // move it (recorded-sweep 137, recorded 047)
            attrs.push(("NEXT_INDEX".into(), ar.next_index.to_string()));
            if short && (ar.ever_allocated || !ar.leases.is_empty()) {
                // the stored form: " index owner" pairs, owner = object type bit | id (oned's
                // set_allocated_addr: a VM's lease VM | id, a hold VM | -1, a reservation
                // NET | the reservation's id)
                const VM: i64 = 0x10_0000_0000;
                const NET: i64 = 0x40_0000_0000;
                let mut packed = String::new();
                for (idx, vm) in &ar.leases {
                    let owner = match ar.reserved.get(idx) {
                        Some(net) => NET | (i64::from(*net) & 0xFFFF_FFFF),
                        None => VM | (i64::from(*vm) & 0xFFFF_FFFF),
                    };
                    packed.push_str(&format!(" {idx} {owner}"));
                }
                attrs.push(("ALLOCATED".into(), packed));
            }
            attrs.push(("SHARED".into(), "NO".into()));
            attrs.push(("SIZE".into(), ar.size.to_string()));
            attrs.push(("TYPE".into(), ar.ar_type.clone()));
            attrs.sort();
            for (k, x) in &attrs {
                cdata_elem(out, k, x);
            }
            if !short {
                let last = ar.size.saturating_sub(1);
                cdata_elem(out, "MAC_END", &mac_str(ar.mac + u64::from(last)));
                if let Some(ip) = ar.ip {
                    cdata_elem(out, "IP_END", &ip_str(ip.wrapping_add(last)));
                }
                // IPv6 ranges: the prefixes with the MAC's EUI-64 interface id
                for (prefix, name) in [("ULA_PREFIX", "IP6_ULA"), ("GLOBAL_PREFIX", "IP6_GLOBAL")] {
                    if let Some((_, p)) = ar.extra.iter().find(|(k, _)| k == prefix)
                        && let (Some(first), Some(end)) =
                            (ip6_of(p, ar.mac), ip6_of(p, ar.mac + u64::from(last)))
                    {
                        cdata_elem(out, name, &first);
                        cdata_elem(out, &format!("{name}_END"), &end);
                    }
                }
                el(out, "USED_LEASES", ar.leases.len());
                if ar.leases.is_empty() {
                    out.push_str("<LEASES/>");
                } else {
                    out.push_str("<LEASES>");
                    for (idx, vm) in &ar.leases {
                        out.push_str("<LEASE>");
                        let (ip, mac) = lease_addr(ar, *idx);
                        if let Some(ip) = ip {
                            cdata_elem(out, "IP", &ip);
                        }
                        cdata_elem(out, "MAC", &mac);
                        cdata_elem(out, "VM", &vm.to_string());
                        out.push_str("</LEASE>");
                    }
                    out.push_str("</LEASES>");
                }
            }
            out.push_str("</AR>");
        }
    }
    out.push_str("</AR_POOL></VNET>");
}

pub(crate) fn history_record(out: &mut String, oid: i32, h: &History) {
    out.push_str("<HISTORY>");
    el(out, "OID", oid);
    el(out, "SEQ", h.seq);
    el_text(out, "HOSTNAME", &h.hostname);
    el(out, "HID", h.hid);
    el(out, "CID", h.cid);
    el(out, "STIME", h.stime);
    el(out, "ETIME", h.etime);
    cdata_elem(out, "VM_MAD", &h.vm_mad);
    cdata_elem(out, "TM_MAD", &h.tm_mad);
    el(out, "DS_ID", h.ds_id);
    el(out, "PLAN_ID", -2);
    el(out, "ACTION_ID", -1);
    el(out, "PSTIME", h.pstime);
    el(out, "PETIME", h.petime);
    el(out, "RSTIME", h.rstime);
    el(out, "RETIME", h.retime);
    el(out, "ESTIME", h.estime);
    el(out, "EETIME", h.eetime);
    el(out, "ACTION", h.action);
    el(out, "UID", h.uid);
    el(out, "GID", h.gid);
    el(out, "REQUEST_ID", h.req_id);
    out.push_str("</HISTORY>");
}

fn vm_monitoring(out: &mut String, oid: i32, m: &(i64, f64, i64, i64, i64)) {
    cdata_elem(out, "CPU", &m.1.to_string());
    cdata_elem(out, "DISKRDBYTES", "0");
    cdata_elem(out, "DISKRDIOPS", "0");
    cdata_elem(out, "DISKWRBYTES", "0");
    cdata_elem(out, "DISKWRIOPS", "0");
    cdata_elem(out, "ID", &oid.to_string());
    cdata_elem(out, "MEMORY", &m.2.to_string());
    cdata_elem(out, "NETRX", &m.3.to_string());
    cdata_elem(out, "NETTX", &m.4.to_string());
    cdata_elem(out, "TIMESTAMP", &m.0.to_string());
}

/// `<MONITORING>` records for `one.vm.monitoring` / `one.vmpool.monitoring`.
pub(crate) fn monitoring_records(
    out: &mut String,
    oid: i32,
    v: &super::state::VmData,
    last_only: bool,
) {
    let recs: &[_] = if last_only {
        match v.monitoring.last() {
            Some(_) => &v.monitoring[v.monitoring.len() - 1..],
            None => &[],
        }
    } else {
        &v.monitoring
    };
    for m in recs {
        out.push_str("<MONITORING>");
        vm_monitoring(out, oid, m);
        out.push_str("</MONITORING>");
    }
}

/// A VM in an extended pool listing (`vmpool.infoextended`, `vmpool.infoset`): the full
/// VM with only its last history record, as oned's pool query gives it
/// (recorded-sweep 412, 414).
pub(crate) fn vm_in_pool(out: &mut String, s: &State, o: &Obj) {
    vm_full(out, s, o, true);
}

fn vm_full(out: &mut String, s: &State, o: &Obj, last_history_only: bool) {
    let Some(v) = o.vm() else { return };
    out.push_str("<VM>");
    owner(out, s, &o.meta);
    perms(out, &o.meta.perms);
    el(
        out,
        "LAST_POLL",
        v.monitoring.last().map(|m| m.0).unwrap_or(0),
    );
    el(out, "STATE", v.state);
    el(out, "LCM_STATE", v.lcm_state);
    // oned's pool update copies the state into PREV_* before it stores the document, so
    // what it answers always has them equal (every VM document of the recordings)
    el(out, "PREV_STATE", v.state);
    el(out, "PREV_LCM_STATE", v.lcm_state);
    el(out, "RESCHED", v.resched);
    el(out, "STIME", v.stime);
    el(out, "ETIME", v.etime);
    el_text(out, "DEPLOY_ID", &v.deploy_id);
    lock(out, &o.meta);
    match v.monitoring.last() {
        Some(m) => {
            out.push_str("<MONITORING>");
            vm_monitoring(out, o.meta.id, m);
            out.push_str("</MONITORING>");
        }
        None => out.push_str("<MONITORING></MONITORING>"),
    }
    sched_actions(out, o.meta.id, "VM", &v.sched);
    template_with_sched(out, &o.template, o.meta.id, "VM", &v.sched);
    v.user_template.render(out, "USER_TEMPLATE");
    if v.history.is_empty() {
        out.push_str("<HISTORY_RECORDS/>");
    } else {
        out.push_str("<HISTORY_RECORDS>");
        let skip = if last_history_only {
            v.history.len().saturating_sub(1)
        } else {
            0
        };
        for h in v.history.iter().skip(skip) {
            history_record(out, o.meta.id, h);
        }
        out.push_str("</HISTORY_RECORDS>");
    }
    for d in &v.disk_snapshots {
        out.push_str("<SNAPSHOTS><ALLOW_ORPHANS>NO</ALLOW_ORPHANS>");
        el(out, "CURRENT_BASE", -1);
        el(out, "DISK_ID", d.disk_id);
        el(out, "NEXT_SNAPSHOT", d.next);
        snapshot_list(out, d);
        out.push_str("</SNAPSHOTS>");
    }
    out.push_str("<BACKUPS><BACKUP_CONFIG/>");
    ids(out, "BACKUP_IDS", v.backup_ids.iter().copied());
    out.push_str("</BACKUPS></VM>");
}

/// The SNAPSHOT elements of a disk's (or image's) snapshot tree.
fn snapshot_list(out: &mut String, d: &super::state::DiskSnapshots) {
    {
        for x in &d.snaps {
            out.push_str("<SNAPSHOT>");
            if x.active {
                el(out, "ACTIVE", "YES");
            }
            let children: Vec<String> = d
                .snaps
                .iter()
                .filter(|c| c.parent == x.id)
                .map(|c| c.id.to_string())
                .collect();
            if !children.is_empty() {
                el(out, "CHILDREN", children.join(","));
            }
            el(out, "DATE", x.date);
            el(out, "ID", x.id);
            el_text(out, "NAME", &x.name);
            el(out, "PARENT", x.parent);
            el(out, "SIZE", x.size);
            out.push_str("</SNAPSHOT>");
        }
    }
}

const SHORT_DISK: [&str; 11] = [
    "DISK_ID",
    "DATASTORE",
    "DATASTORE_ID",
    "IMAGE",
    "IMAGE_ID",
    "SIZE",
    "TYPE",
    "CLONE",
    "CLONE_TARGET",
    "LN_TARGET",
    "DISK_SNAPSHOT_TOTAL_SIZE",
];
const SHORT_NIC: [&str; 9] = [
    "IP",
    "IP6",
    "IP6_GLOBAL",
    "IP6_ULA",
    "MAC",
    "NETWORK",
    "NETWORK_ID",
    "NIC_ID",
    "SECURITY_GROUPS",
];
const SHORT_USER: [&str; 3] = ["LABELS", "SCHED_RANK", "SCHED_REQUIREMENTS"];

fn vm_short(out: &mut String, s: &State, o: &Obj) {
    let Some(v) = o.vm() else { return };
    out.push_str("<VM>");
    owner(out, s, &o.meta);
    el(
        out,
        "LAST_POLL",
        v.monitoring.last().map(|m| m.0).unwrap_or(0),
    );
    el(out, "STATE", v.state);
    el(out, "LCM_STATE", v.lcm_state);
    el(out, "RESCHED", v.resched);
    el(out, "STIME", v.stime);
    el(out, "ETIME", v.etime);
    el_text(out, "DEPLOY_ID", &v.deploy_id);
    lock(out, &o.meta);
    out.push_str("<TEMPLATE>");
    // oned writes the three always, empty when the template has none
    for n in ["CPU", "MEMORY", "VCPU"] {
        el_text(out, n, o.template.get(n).unwrap_or(""));
    }
    for d in o.template.vectors("DISK") {
        out.push_str("<DISK>");
        for k in SHORT_DISK {
            cdata_elem(
                out,
                k,
                d.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, x)| x.as_str())
                    .unwrap_or(""),
            );
        }
        out.push_str("</DISK>");
    }
    for n in o.template.vectors("NIC") {
        out.push_str("<NIC>");
        for k in SHORT_NIC {
            if let Some((_, x)) = n.iter().find(|(n, _)| n == k) {
                cdata_elem(out, k, x);
            }
        }
        out.push_str("</NIC>");
    }
    if let Some(g) = o.template.vectors("GRAPHICS").first() {
        out.push_str("<GRAPHICS>");
        for (k, x) in g.iter() {
            cdata_elem(out, k, x);
        }
        out.push_str("</GRAPHICS>");
    }
    out.push_str("</TEMPLATE>");
    match v.monitoring.last() {
        Some(m) => {
            out.push_str("<MONITORING>");
            vm_monitoring(out, o.meta.id, m);
            out.push_str("</MONITORING>");
        }
        None => out.push_str("<MONITORING/>"),
    }
    out.push_str("<USER_TEMPLATE>");
    for a in v.user_template.attrs() {
        if SHORT_USER.contains(&a.name.as_str())
            && let super::tmpl::AttrValue::Single(x) = &a.value
        {
            cdata_elem(out, &a.name, x);
        }
    }
    out.push_str("</USER_TEMPLATE>");
    match v.history.last() {
        None => out.push_str("<HISTORY_RECORDS/>"),
        Some(h) => {
            out.push_str("<HISTORY_RECORDS><HISTORY>");
            el(out, "OID", o.meta.id);
            el(out, "SEQ", h.seq);
            cdata_elem(out, "HOSTNAME", &h.hostname);
            el(out, "HID", h.hid);
            el(out, "CID", h.cid);
            el(out, "DS_ID", h.ds_id);
            cdata_elem(out, "VM_MAD", &h.vm_mad);
            cdata_elem(out, "TM_MAD", &h.tm_mad);
            cdata_elem(out, "ACTION", &h.action.to_string());
            out.push_str("</HISTORY></HISTORY_RECORDS>");
        }
    }
    out.push_str("</VM>");
}

/// The effective marketplace-app state (LOCKED turns READY once the export is done).
pub(crate) fn marketapp_state(m: &super::state::MarketAppData) -> i32 {
    if m.state == 2 && m.ready_at <= super::state::now() {
        1
    } else {
        m.state
    }
}

/// `<SCHED_ACTIONS>` of a VM or a backup job: the ids (vm.xsd, backupjob.xsd); the
/// actions themselves are SCHED_ACTION vectors of the TEMPLATE ([`with_sched`]).
pub(crate) fn sched_actions(
    out: &mut String,
    _parent: i32,
    _ty: &str,
    list: &[super::state::SchedAction],
) {
    ids(out, "SCHED_ACTIONS", list.iter().map(|a| a.id));
}

/// Render `t` as TEMPLATE with the scheduled actions appended as SCHED_ACTION elements,
/// as `one.vm.info` and `one.backupjob.info` show them: after the other attributes, fields
/// in the order of shared.xsd's SCHED_ACTION.
pub(crate) fn template_with_sched(
    out: &mut String,
    t: &Tmpl,
    parent: i32,
    ty: &str,
    list: &[super::state::SchedAction],
) {
    out.push_str("<TEMPLATE>");
    t.render_children(out);
    for a in list {
        out.push_str("<SCHED_ACTION>");
        for (k, v) in [
            ("ID", a.id.to_string()),
            ("PARENT_ID", parent.to_string()),
            ("TYPE", ty.to_owned()),
            ("ACTION", a.action.clone()),
            ("ARGS", a.args.clone()),
            ("TIME", a.time.clone()),
            ("REPEAT", a.repeat.to_string()),
            ("DAYS", a.days.clone()),
            ("END_TYPE", a.end_type.to_string()),
            ("END_VALUE", a.end_value.to_string()),
            ("DONE", a.done.to_string()),
            ("MESSAGE", a.message.clone()),
            ("WARNING", a.warning.to_string()),
        ] {
            cdata_elem(out, k, &v);
        }
        out.push_str("</SCHED_ACTION>");
    }
    out.push_str("</TEMPLATE>");
}

/// `<HOOKLOG>` with the given execution records.
pub(crate) fn hook_log<'a>(
    out: &mut String,
    records: impl Iterator<Item = &'a super::state::HookExec>,
) {
    out.push_str("<HOOKLOG>");
    for r in records {
        out.push_str("<HOOK_EXECUTION_RECORD>");
        el(out, "HOOK_ID", r.hook_id);
        el(out, "EXECUTION_ID", r.exec_id);
        el(out, "TIMESTAMP", r.timestamp);
        el_text(out, "ARGUMENTS", &r.arguments);
        out.push_str("<EXECUTION_RESULT>");
        el_text(out, "COMMAND", &r.command);
        el_text(out, "STDOUT", &r.stdout);
        el_text(out, "STDERR", &r.stderr);
        el(out, "CODE", r.code);
        out.push_str("</EXECUTION_RESULT>");
        if r.retry {
            el_text(out, "RETRY", "yes");
        }
        out.push_str("</HOOK_EXECUTION_RECORD>");
    }
    out.push_str("</HOOKLOG>");
}
