//! Generator of the OpenNebula method bindings: reads
//! `crates/opennebula/data/api-methods.tsv` and writes `crates/opennebula/src/api/generated.rs`.
//!
//! Parameter order and types come from the TSV column `signature_from_params` /
//! `params_after_session` (the declared signatures are wrong for 27 methods). Methods are
//! grouped per resource: calls whose first parameter is the object id become methods of a
//! handle (`client.vm(id).info()`), the others methods of the collection
//! (`client.vms().allocate(..)`, pools, quotas). This file has no dependencies so the
//! crate's staleness test can include it with `#[path]`.

use std::fmt::Write as _;
use std::path::Path;

/// Regenerates the method bindings.
#[allow(dead_code)]
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let tsv_path = root.join("crates/opennebula/data/api-methods.tsv");
    let out_path = root.join("crates/opennebula/src/api/generated.rs");
    let tsv = std::fs::read_to_string(&tsv_path)
        .map_err(|e| format!("cannot read {}: {e}", tsv_path.display()))?;
    let code = generate(&tsv)?;
    std::fs::write(&out_path, code)
        .map_err(|e| format!("cannot write {}: {e}", out_path.display()))?;
    println!("wrote {}", out_path.display());
    Ok(())
}

/// One resource family: wire namespace, id type, handle and collection names.
struct Family {
    ns: &'static str,
    id: &'static str,
    one: &'static str,
    many: &'static str,
    handle: &'static str,
    coll: &'static str,
    what: &'static str,
}

const FAMILIES: &[Family] = &[
    fam(
        "vm",
        "VmId",
        "vm",
        "vms",
        "VmHandle",
        "Vms",
        "virtual machine",
    ),
    fam(
        "host",
        "HostId",
        "host",
        "hosts",
        "HostHandle",
        "Hosts",
        "host",
    ),
    fam(
        "cluster",
        "ClusterId",
        "cluster",
        "clusters",
        "ClusterHandle",
        "Clusters",
        "cluster",
    ),
    fam(
        "template",
        "TemplateId",
        "template",
        "templates",
        "TemplateHandle",
        "Templates",
        "VM template",
    ),
    fam(
        "vntemplate",
        "VnTemplateId",
        "vn_template",
        "vn_templates",
        "VnTemplateHandle",
        "VnTemplates",
        "virtual network template",
    ),
    fam(
        "vn",
        "VnetId",
        "vnet",
        "vnets",
        "VnetHandle",
        "Vnets",
        "virtual network",
    ),
    fam(
        "image",
        "ImageId",
        "image",
        "images",
        "ImageHandle",
        "Images",
        "image",
    ),
    fam(
        "datastore",
        "DatastoreId",
        "datastore",
        "datastores",
        "DatastoreHandle",
        "Datastores",
        "datastore",
    ),
    fam(
        "group",
        "GroupId",
        "group",
        "groups",
        "GroupHandle",
        "Groups",
        "group",
    ),
    fam(
        "user",
        "UserId",
        "user",
        "users",
        "UserHandle",
        "Users",
        "user",
    ),
    fam(
        "acl",
        "AclId",
        "acl",
        "acls",
        "AclHandle",
        "Acls",
        "ACL rule",
    ),
    fam(
        "document",
        "DocumentId",
        "document",
        "documents",
        "DocumentHandle",
        "Documents",
        "document",
    ),
    fam(
        "zone",
        "ZoneId",
        "zone",
        "zones",
        "ZoneHandle",
        "Zones",
        "zone",
    ),
    fam(
        "secgroup",
        "SecGroupId",
        "secgroup",
        "secgroups",
        "SecGroupHandle",
        "SecGroups",
        "security group",
    ),
    fam(
        "vmgroup",
        "VmGroupId",
        "vm_group",
        "vm_groups",
        "VmGroupHandle",
        "VmGroups",
        "VM group",
    ),
    fam("vdc", "VdcId", "vdc", "vdcs", "VdcHandle", "Vdcs", "VDC"),
    fam(
        "vrouter",
        "VrouterId",
        "vrouter",
        "vrouters",
        "VrouterHandle",
        "Vrouters",
        "virtual router",
    ),
    fam(
        "market",
        "MarketId",
        "market",
        "markets",
        "MarketHandle",
        "Markets",
        "marketplace",
    ),
    fam(
        "marketapp",
        "MarketAppId",
        "market_app",
        "market_apps",
        "MarketAppHandle",
        "MarketApps",
        "marketplace app",
    ),
    fam(
        "hook",
        "HookId",
        "hook",
        "hooks",
        "HookHandle",
        "Hooks",
        "hook",
    ),
    fam(
        "backupjob",
        "BackupJobId",
        "backup_job",
        "backup_jobs",
        "BackupJobHandle",
        "BackupJobs",
        "backup job",
    ),
];

const fn fam(
    ns: &'static str,
    id: &'static str,
    one: &'static str,
    many: &'static str,
    handle: &'static str,
    coll: &'static str,
    what: &'static str,
) -> Family {
    Family {
        ns,
        id,
        one,
        many,
        handle,
        coll,
        what,
    }
}

/// Federation / HA internals: callable, documented as internal.
const INTERNAL: &[&str] = &[
    "one.zone.replicate",
    "one.zone.fedreplicate",
    "one.zone.voterequest",
    "one.zone.updatedb",
    "one.market.allocatedb",
    "one.market.updatedb",
    "one.marketapp.allocatedb",
    "one.marketapp.updatedb",
    "one.marketapp.dropdb",
    "one.system.sql",
    "one.system.sqlquery",
];

/// Methods whose XML document is parsed into a typed resource of `crate::model` (a
/// `_raw` variant returns the document itself).
const TYPED: &[(&str, &str)] = &[
    ("one.vm.info", "Vm"),
    ("one.vmpool.info", "VmPool"),
    ("one.vmpool.infoextended", "VmPoolExtended"),
    ("one.vm.monitoring", "MonitoringData"),
    ("one.vmpool.monitoring", "MonitoringData"),
    ("one.vmpool.infoset", "VmPoolExtended"),
    ("one.host.monitoring", "HostMonitoringData"),
    ("one.hostpool.monitoring", "HostMonitoringData"),
    ("one.userquota.info", "UserDefaultUserQuotas"),
    ("one.userquota.update", "UserDefaultUserQuotas"),
    ("one.groupquota.info", "GroupDefaultGroupQuotas"),
    ("one.groupquota.update", "GroupDefaultGroupQuotas"),
    ("one.vmpool.accounting", "AccountingRecords"),
    ("one.vmpool.showback", "ShowbackRecords"),
    ("one.host.info", "Host"),
    ("one.hostpool.info", "HostPool"),
    ("one.cluster.info", "Cluster"),
    ("one.clusterpool.info", "ClusterPool"),
    ("one.template.info", "VmTemplate"),
    ("one.templatepool.info", "VmTemplatePool"),
    ("one.vntemplate.info", "VnTemplate"),
    ("one.vntemplatepool.info", "VnTemplatePool"),
    ("one.vn.info", "Vnet"),
    ("one.vnpool.info", "VnetPool"),
    ("one.image.info", "Image"),
    ("one.imagepool.info", "ImagePool"),
    ("one.datastore.info", "Datastore"),
    ("one.datastorepool.info", "DatastorePool"),
    ("one.group.info", "Group"),
    ("one.grouppool.info", "GroupPool"),
    ("one.user.info", "User"),
    ("one.userpool.info", "UserPool"),
    ("one.acl.info", "AclPool"),
    ("one.document.info", "Document"),
    ("one.documentpool.info", "DocumentPool"),
    ("one.zone.info", "Zone"),
    ("one.zonepool.info", "ZonePool"),
    ("one.zone.raftstatus", "RaftStatus"),
    ("one.secgroup.info", "SecurityGroup"),
    ("one.secgrouppool.info", "SecurityGroupPool"),
    ("one.vmgroup.info", "VmGroup"),
    ("one.vmgrouppool.info", "VmGroupPool"),
    ("one.vdc.info", "Vdc"),
    ("one.vdcpool.info", "VdcPool"),
    ("one.vrouter.info", "VirtualRouter"),
    ("one.vrouterpool.info", "VirtualRouterPool"),
    ("one.market.info", "Marketplace"),
    ("one.marketpool.info", "MarketplacePool"),
    ("one.marketapp.info", "MarketplaceApp"),
    ("one.marketapppool.info", "MarketplaceAppPool"),
    ("one.hook.info", "Hook"),
    ("one.hookpool.info", "HookPool"),
    ("one.hooklog.info", "Hooklog"),
    ("one.backupjob.info", "BackupJob"),
    ("one.backupjobpool.info", "BackupJobPool"),
    ("one.system.config", "SystemConfig"),
];

/// Methods whose main form takes every parameter, optional ones included.
const FULL_FORM: &[&str] = &["one.template.instantiate"];

/// String parameters that hold a template.
const TEMPLATE_PARAMS: &[&str] = &[
    "template",
    "Template",
    "tmpl",
    "extra_template",
    "quota",
    "quota_template",
    "role_template",
    "optional_template",
    "str_uattrs",
    "vlan_rules",
];

const CHMOD: [&str; 9] = [
    "user_use",
    "user_manage",
    "user_admin",
    "group_use",
    "group_manage",
    "group_admin",
    "other_use",
    "other_manage",
    "other_admin",
];

#[derive(Clone)]
struct Param {
    name: String,
    ty: String,
    default: Option<String>,
    optional_absent: bool,
}

struct Method {
    name: String,
    params: Vec<Param>,
    returns: String,
    description: String,
    notes: String,
}

/// Whether the Rust API treats a parameter as optional. The update type (`append`) is
/// always explicit, as in goca's `Update(tpl, UpdateType)`.
fn is_optional(p: &Param) -> bool {
    (p.default.is_some() && p.name != "append") || p.optional_absent
}

fn parse_params(text: &str) -> Result<Vec<Param>, String> {
    let text = text.trim();
    if text == "(session only)" {
        return Ok(Vec::new());
    }
    // drop parenthetical notes, which may contain ';'
    let mut clean = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => clean.push(c),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for raw in clean.split(';') {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let (name, rest) = raw
            .split_once(':')
            .ok_or_else(|| format!("parameter {raw:?} has no type"))?;
        let (ty, default, optional_absent) = if let Some((t, d)) = rest.split_once('=') {
            (t.to_owned(), Some(d.to_owned()), false)
        } else if let Some(t) = rest.strip_suffix('?') {
            (t.to_owned(), None, true)
        } else {
            (rest.to_owned(), None, false)
        };
        out.push(Param {
            name: name.to_owned(),
            ty,
            default,
            optional_absent,
        });
    }
    Ok(out)
}

fn parse_tsv(tsv: &str) -> Result<Vec<Method>, String> {
    let mut methods = Vec::new();
    let mut header = true;
    for line in tsv.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if header {
            header = false;
            if !line.starts_with("method\t") {
                return Err("the TSV header row is missing".into());
            }
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 6 {
            return Err(format!("short TSV row: {line}"));
        }
        methods.push(Method {
            name: cols[0].to_owned(),
            params: parse_params(cols[3])?,
            returns: cols[4].to_owned(),
            description: cols[5].to_owned(),
            notes: cols.get(6).copied().unwrap_or("").to_owned(),
        });
    }
    Ok(methods)
}

/// Where a method goes: (family or "system", handle?, rust method name).
fn placement(m: &Method) -> Result<(String, bool, String), String> {
    let rest = m
        .name
        .strip_prefix("one.")
        .ok_or_else(|| format!("{}: no one. prefix", m.name))?;
    let (ns, op) = rest
        .split_once('.')
        .ok_or_else(|| format!("{}: no namespace", m.name))?;
    if ns == "system" {
        return Ok(("system".into(), false, op.into()));
    }
    if let Some(base) = ns.strip_suffix("pool") {
        return Ok((base.into(), false, op.into()));
    }
    if let Some(base) = ns.strip_suffix("quota") {
        return Ok((base.into(), false, format!("default_quota_{op}")));
    }
    if ns == "hooklog" {
        return Ok(("hook".into(), false, format!("log_{op}")));
    }
    let has_id = m
        .params
        .iter()
        .any(|p| (p.name == "oid" || p.name == "id") && p.ty == "int");
    Ok((ns.into(), has_id, op.into()))
}

fn family(ns: &str) -> Result<&'static Family, String> {
    FAMILIES
        .iter()
        .find(|f| f.ns == ns)
        .ok_or_else(|| format!("unknown namespace {ns}"))
}

fn id_type_for(name: &str) -> Option<&'static str> {
    Some(match name {
        "hid" | "host_id" => "HostId",
        "ds_id" | "datastore_id" => "DatastoreId",
        "cluster_id" => "ClusterId",
        "user_id" => "UserId",
        "group_id" | "egid" => "GroupId",
        "net_id" | "vnet_id" => "VnetId",
        "zone_id" => "ZoneId",
        "image_id" => "ImageId",
        "template_id" => "TemplateId",
        "secgroup_id" => "SecGroupId",
        "vmg_id" => "VmGroupId",
        "MarketPlace_ID" => "MarketId",
        "hook_id" => "HookId",
        _ => return None,
    })
}

fn rust_ident(name: &str) -> String {
    let mut s = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() {
            if i > 0 && !s.ends_with('_') && !name[..i].ends_with(|p: char| p.is_ascii_uppercase())
            {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    match s.as_str() {
        "type" => "kind".into(),
        "ar_id" => "ar_id".into(),
        other => other.into(),
    }
}

/// A Rust argument plus the statement pushing its wire values.
struct Arg {
    decl: Option<String>,
    push: String,
    doc: String,
}

fn default_expr(p: &Param, ty: &str) -> Result<String, String> {
    let d = p.default.as_deref().unwrap_or("");
    Ok(match (p.ty.as_str(), ty) {
        (_, "UpdateType") => match d {
            "0" => "UpdateType::Replace".into(),
            "1" => "UpdateType::Merge".into(),
            _ => return Err(format!("append default {d}")),
        },
        ("int", "i32") => d.to_owned(),
        ("int", id) => format!("{id}::new({d})"),
        ("bool", _) => d.to_owned(),
        ("string", _) => "\"\"".into(),
        _ => return Err(format!("no default for {}:{}", p.name, p.ty)),
    })
}

/// Builds the arguments of a method; `with_optional` includes optional parameters as
/// arguments (otherwise defaults are sent and absent ones omitted).
fn build_args(m: &Method, is_handle: bool, with_optional: bool) -> Result<Vec<Arg>, String> {
    let mut args = Vec::new();
    let ps = &m.params;
    let mut i = 0;
    let pool_like = ps.iter().any(|p| p.name == "filter_flag");
    while i < ps.len() {
        let p = &ps[i];
        // chmod: nine ints -> Permissions
        if p.name == "user_use" {
            if ps.len() < i + 9 || !ps[i..i + 9].iter().map(|p| p.name.as_str()).eq(CHMOD) {
                return Err(format!("{}: unexpected chmod layout", m.name));
            }
            args.push(Arg {
                decl: Some("perms: Permissions".into()),
                push: "p.extend(perms.to_params());".into(),
                doc: "`perms`: the nine permission bits (`user_use` … `other_admin`), each unchanged when `None`.".into(),
            });
            i += 9;
            continue;
        }
        // pools: filter_flag, start, end (+ state for the VM pool info calls)
        if p.name == "filter_flag" {
            let next: Vec<&str> = ps[i + 1..].iter().map(|p| p.name.as_str()).collect();
            let has_range = next.len() >= 2
                && next[0].eq_ignore_ascii_case("start_id")
                && next[1].eq_ignore_ascii_case("end_id");
            if has_range {
                let with_state = next.get(2) == Some(&"state");
                if with_state {
                    args.push(Arg {
                        decl: Some("filter: &PoolFilter".into()),
                        push: "p.extend(filter.vm_params());".into(),
                        doc: "`filter`: whose objects, which id range or page, which VM state (`filter_flag`, `start_id`, `end_id`, `state`).".into(),
                    });
                    i += 4;
                } else {
                    args.push(Arg {
                        decl: Some("filter: &PoolFilter".into()),
                        push: "p.extend(filter.range_params());".into(),
                        doc: "`filter`: whose objects and which id range or page (`filter_flag`, `start_id`, `end_id`).".into(),
                    });
                    i += 3;
                }
            } else {
                args.push(Arg {
                    decl: Some("who: Who".into()),
                    push: "p.push(who.into());".into(),
                    doc: "`who`: whose objects (`filter_flag`).".into(),
                });
                i += 1;
            }
            continue;
        }
        let _ = pool_like;
        let ident = rust_ident(&p.name);
        let optional = is_optional(p);
        // the object id of a handle
        if is_handle && (p.name == "oid" || p.name == "id") && p.ty == "int" {
            args.push(Arg {
                decl: None,
                push: "p.push(self.id.into());".into(),
                doc: String::new(),
            });
            i += 1;
            continue;
        }
        let (ty, conv): (String, String) = match (p.name.as_str(), p.ty.as_str()) {
            ("action", "string") if m.name == "one.vm.action" => (
                "VmAction".into(),
                format!("p.push({ident}.as_str().into());"),
            ),
            ("append", "int") => ("UpdateType".into(), format!("p.push({ident}.into());")),
            ("lock_level", "int") => ("LockLevel".into(), format!("p.push({ident}.into());")),
            ("status", "int") if m.name == "one.host.status" => {
                ("HostStatus".into(), format!("p.push({ident}.into());"))
            }
            (n, "string") if TEMPLATE_PARAMS.contains(&n) => (
                "&Template".into(),
                format!("p.push(template_param({ident})?);"),
            ),
            ("ids", "string") if m.name == "one.vmpool.infoset" => (
                "&[VmId]".into(),
                format!("p.push(id_list({ident}).into());"),
            ),
            (_, "string") => ("&str".into(), format!("p.push({ident}.into());")),
            (_, "bool") => ("bool".into(), format!("p.push({ident}.into());")),
            (n, "int") => match id_type_for(n) {
                Some(t) => (t.into(), format!("p.push({ident}.into());")),
                None => ("i32".into(), format!("p.push({ident}.into());")),
            },
            (_, "i8") => ("i64".into(), format!("p.push(RpcValue::I8({ident}));")),
            (_, "array<int>") if p.name == "group_ids" => (
                "&[GroupId]".into(),
                format!("p.push(RpcValue::Array({ident}.iter().map(|g| (*g).into()).collect()));"),
            ),
            (n, t) => return Err(format!("{}: unsupported parameter {n}:{t}", m.name)),
        };
        let doc_default = match &p.default {
            Some(d) => format!(" (optional on the server, default `{d}`)"),
            None if p.optional_absent => " (optional on the server, omitted by default)".into(),
            None => String::new(),
        };
        let doc = format!(
            "`{ident}`: wire parameter `{}` ({}){doc_default}.",
            p.name, p.ty
        );
        if optional && !with_optional {
            if p.optional_absent {
                // not sent
            } else {
                let d = default_expr(p, &ty)?;
                let push = if ty == "&Template" {
                    format!("p.push(RpcValue::from({d}));")
                } else if ty == "UpdateType" || ty.ends_with("Id") {
                    format!("p.push({d}.into());")
                } else {
                    format!("p.push(RpcValue::from({d}));")
                };
                args.push(Arg {
                    decl: None,
                    push,
                    doc: String::new(),
                });
            }
        } else {
            args.push(Arg {
                decl: Some(format!("{ident}: {ty}")),
                push: conv,
                doc,
            });
        }
        i += 1;
    }
    Ok(args)
}

fn return_type(m: &Method, fam_id: Option<&str>) -> (String, String) {
    let r = m.returns.as_str();
    let op = m.name.rsplit('.').next().unwrap_or("");
    if r.starts_with("XML string") {
        return ("XmlDocument".into(), "XmlDocument::from_value(v)".into());
    }
    if r.starts_with("string") {
        return ("String".into(), "v.into_string()".into());
    }
    if r.starts_with("i8") {
        return ("i64".into(), "v.into_i64()".into());
    }
    let typed = match m.name.as_str() {
        "one.template.instantiate" => Some("VmId"),
        "one.vntemplate.instantiate" | "one.vn.reserve" => Some("VnetId"),
        "one.vm.disksaveas" => Some("ImageId"),
        "one.vrouter.instantiate" => Some("VrouterId"),
        "one.acl.addrule" => Some("AclId"),
        _ if (op == "allocate" || op == "clone") => fam_id,
        _ => None,
    };
    match typed {
        Some(t) => (t.into(), format!("v.into_i32().map({t}::new)")),
        None => ("i32".into(), "v.into_i32()".into()),
    }
}

fn doc_escape(s: &str) -> String {
    s.replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

fn emit_method(
    out: &mut String,
    m: &Method,
    rust_name: &str,
    is_handle: bool,
    fam_id: Option<&str>,
) -> Result<(), String> {
    let has_optional = m.params.iter().any(is_optional);
    let full_only = FULL_FORM.contains(&m.name.as_str());
    let mut forms: Vec<(String, bool)> = Vec::new();
    if has_optional && !full_only {
        forms.push((rust_name.to_owned(), false));
        forms.push((format!("{rust_name}_with"), true));
    } else {
        forms.push((rust_name.to_owned(), true));
    }
    let (raw_ret, raw_conv) = return_type(m, fam_id);
    let typed = TYPED.iter().find(|(n, _)| *n == m.name).map(|(_, t)| *t);
    let internal = INTERNAL.contains(&m.name.as_str());
    let mut all_forms = Vec::new();
    for (fname, with_optional) in forms {
        if let Some(t) = typed {
            all_forms.push((
                fname.clone(),
                with_optional,
                format!("model::{t}"),
                "parse_document(XmlDocument::from_value(v)?).await".to_owned(),
            ));
            all_forms.push((
                format!("{fname}_raw"),
                with_optional,
                raw_ret.clone(),
                raw_conv.clone(),
            ));
        } else {
            all_forms.push((fname, with_optional, raw_ret.clone(), raw_conv.clone()));
        }
    }
    for (fname, with_optional, ret, conv) in all_forms {
        let args = build_args(m, is_handle, with_optional)?;
        let _ = writeln!(
            out,
            "    /// `{}`: {}",
            m.name,
            doc_escape(m.description.trim_end_matches('.'))
        );
        let _ = writeln!(out, "    ///");
        if let Some(t) = typed {
            if fname.ends_with("_raw") {
                let _ = writeln!(
                    out,
                    "    /// The XML document as sent by oned (no parsing); see the typed form returning [`crate::model::{t}`]."
                );
                let _ = writeln!(out, "    ///");
            } else {
                let _ = writeln!(
                    out,
                    "    /// Returns the document parsed into [`crate::model::{t}`] (the `_raw` form returns the XML)."
                );
                let _ = writeln!(out, "    ///");
            }
        }
        if internal {
            let _ = writeln!(
                out,
                "    /// **Internal**: used by oned itself for federation and HA replication; not meant for applications."
            );
            let _ = writeln!(out, "    ///");
        }
        if has_optional && !with_optional {
            let _ = writeln!(
                out,
                "    /// Optional parameters are sent with their server defaults; see [`Self::{rust_name}_with`] to set them."
            );
            let _ = writeln!(out, "    ///");
        }
        let docs: Vec<&str> = args
            .iter()
            .filter(|a| a.decl.is_some())
            .map(|a| a.doc.as_str())
            .collect();
        if !docs.is_empty() {
            let _ = writeln!(out, "    /// Parameters:");
            for d in docs {
                let _ = writeln!(out, "    /// * {}", doc_escape(d));
            }
            let _ = writeln!(out, "    ///");
        }
        let _ = writeln!(out, "    /// Returns: {}", doc_escape(&m.returns));
        if !m.notes.trim().is_empty() {
            let _ = writeln!(out, "    ///");
            let _ = writeln!(out, "    /// Note: {}", doc_escape(m.notes.trim()));
        }
        let _ = writeln!(out, "    ///");
        let _ = writeln!(out, "    /// # Errors");
        let _ = writeln!(
            out,
            "    /// The mapped OpenNebula error ([`crate::OneErrorCode`]), an XML-RPC fault, a transport error or [`crate::ErrorKind::Protocol`] for an unexpected response."
        );
        let decls: Vec<String> = args.iter().filter_map(|a| a.decl.clone()).collect();
        let sig = if decls.is_empty() {
            String::new()
        } else {
            format!(", {}", decls.join(", "))
        };
        let n = args.len() + 8;
        let _ = writeln!(
            out,
            "    pub async fn {fname}(&self{sig}) -> Result<{ret}> {{"
        );
        if args.is_empty() {
            let _ = writeln!(out, "        let p: Vec<RpcValue> = Vec::new();");
        } else {
            let _ = writeln!(
                out,
                "        let mut p: Vec<RpcValue> = Vec::with_capacity({n});"
            );
        }
        for a in &args {
            let _ = writeln!(out, "        {}", a.push);
        }
        let _ = writeln!(
            out,
            "        let v = self.client.call_full({:?}, &p).await?;",
            m.name
        );
        let _ = writeln!(out, "        {conv}");
        let _ = writeln!(out, "    }}");
        let _ = writeln!(out);
    }
    Ok(())
}

/// A family's methods: namespace, handle methods, collection methods.
type Group<'m> = (String, Vec<(&'m Method, String)>, Vec<(&'m Method, String)>);

/// Generates the bindings source from the TSV text.
pub(crate) fn generate(tsv: &str) -> Result<String, String> {
    let methods = parse_tsv(tsv)?;
    // family ns -> (handle methods, collection methods)
    let mut groups: Vec<Group<'_>> = Vec::new();
    for m in &methods {
        let (fam_ns, is_handle, name) = placement(m)?;
        let idx = match groups.iter().position(|g| g.0 == fam_ns) {
            Some(i) => i,
            None => {
                groups.push((fam_ns.clone(), Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        if is_handle {
            groups[idx].1.push((m, name));
        } else {
            groups[idx].2.push((m, name));
        }
    }
    let mut out = String::new();
    out.push_str(
        "// @generated by `cargo xtask methods` from crates/opennebula/data/api-methods.tsv.\n\
         // Do not edit by hand: change the TSV or xtask/src/methods.rs and regenerate.\n\n\
         #![allow(clippy::too_many_arguments)]\n\n\
         use super::{\n    HostStatus, LockLevel, Permissions, UpdateType, VmAction, XmlDocument, id_list, parse_document,\n    template_param,\n};\n\
         use crate::model;\n\
         use crate::client::OneClient;\n\
         use crate::ids::*;\n\
         use crate::pool::{PoolFilter, Who};\n\
         use crate::rpc::RpcValue;\n\
         use crate::template::Template;\n\
         use nebulair_core::Result;\n\n",
    );
    let _ = writeln!(
        out,
        "/// Every method of `api-methods.tsv`, for coverage checks."
    );
    let _ = writeln!(out, "pub const METHODS: &[&str] = &[");
    for m in &methods {
        let _ = writeln!(out, "    {:?},", m.name);
    }
    let _ = writeln!(out, "];\n");

    // accessors on the client
    let _ = writeln!(out, "impl OneClient {{");
    for (ns, handles, colls) in &groups {
        if ns == "system" {
            let _ = writeln!(
                out,
                "    /// System calls (`one.system.*`): version, configuration."
            );
            let _ = writeln!(
                out,
                "    pub fn system(&self) -> System<'_> {{\n        System {{ client: self }}\n    }}\n"
            );
            continue;
        }
        let f = family(ns)?;
        if !handles.is_empty() {
            let _ = writeln!(
                out,
                "    /// The {} with id `id` (`one.{}.*` calls on one object).",
                f.what, f.ns
            );
            let _ = writeln!(
                out,
                "    pub fn {}(&self, id: impl Into<{}>) -> {}<'_> {{\n        {} {{ client: self, id: id.into() }}\n    }}\n",
                f.one, f.id, f.handle, f.handle
            );
        }
        if !colls.is_empty() {
            let _ = writeln!(
                out,
                "    /// All {}s: allocation, pool listing and other calls without an object id.",
                f.what
            );
            let _ = writeln!(
                out,
                "    pub fn {}(&self) -> {}<'_> {{\n        {} {{ client: self }}\n    }}\n",
                f.many, f.coll, f.coll
            );
        }
    }
    let _ = writeln!(out, "}}\n");

    for (ns, handles, colls) in &groups {
        if ns == "system" {
            let _ = writeln!(out, "/// System calls (`one.system.*`).");
            let _ = writeln!(out, "#[derive(Debug, Clone, Copy)]");
            let _ = writeln!(
                out,
                "pub struct System<'a> {{\n    client: &'a OneClient,\n}}\n"
            );
            let _ = writeln!(out, "impl System<'_> {{");
            for (m, name) in colls {
                emit_method(&mut out, m, name, false, None)?;
            }
            let _ = writeln!(out, "}}\n");
            continue;
        }
        let f = family(ns)?;
        if !handles.is_empty() {
            let _ = writeln!(out, "/// One {} (`client.{}(id)`).", f.what, f.one);
            let _ = writeln!(out, "#[derive(Debug, Clone, Copy)]");
            let _ = writeln!(
                out,
                "pub struct {}<'a> {{\n    client: &'a OneClient,\n    id: {},\n}}\n",
                f.handle, f.id
            );
            let _ = writeln!(out, "impl {}<'_> {{", f.handle);
            let _ = writeln!(out, "    /// The id of this {}.", f.what);
            let _ = writeln!(
                out,
                "    pub fn id(&self) -> {} {{\n        self.id\n    }}\n",
                f.id
            );
            for (m, name) in handles {
                emit_method(&mut out, m, name, true, Some(f.id))?;
            }
            let _ = writeln!(out, "}}\n");
        }
        if !colls.is_empty() {
            let _ = writeln!(out, "/// All {}s (`client.{}()`).", f.what, f.many);
            let _ = writeln!(out, "#[derive(Debug, Clone, Copy)]");
            let _ = writeln!(
                out,
                "pub struct {}<'a> {{\n    pub(crate) client: &'a OneClient,\n}}\n",
                f.coll
            );
            let _ = writeln!(out, "impl {}<'_> {{", f.coll);
            for (m, name) in colls {
                emit_method(&mut out, m, name, false, Some(f.id))?;
            }
            let _ = writeln!(out, "}}\n");
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out)
}
