//! Generator of the OpenNebula model structs from the XSDs.
//!
//! Reads `crates/opennebula/xsd/*.xsd` (the schemas of OpenNebula/one `share/doc/xsd`) and
//! writes `crates/opennebula/src/model/generated.rs`: one struct per element with element
//! children (top-level elements, named complex types and anonymous nested types), each with a
//! hand-driven `quick-xml` decoder (`Decode`), `FromStr` and `serde::Serialize`.
//!
//! Rules (see the model module docs for the reasons):
//! * `xs:integer`/`xs:long` become `Option<i64>`, `xs:decimal`/`xs:float` `Option<f64>`,
//!   `xs:string` (and string restrictions) `Option<String>`;
//! * the object's own `ID` (in a top-level element or a pool entry) becomes its typed id
//!   from `crate::ids` and is required;
//! * `TEMPLATE`, `USER_TEMPLATE`, `xs:anyType` and complex types holding only `xs:any` become a
//!   `Template` of the opennebula crate (always present, empty when absent);
//! * the shared `IDS` type (and an element holding only repeated `ID`s, like a user's
//!   `GROUPS`) becomes a `Vec` of the typed id its name says ([`ID_LISTS`]: `VMS` ->
//!   `VmId`, `USERS` -> `UserId`, ...); the lists of ids of an object's parts (scheduled
//!   actions, disks) stay `Vec<i64>` ([`PART_ID_LISTS`]), and any other list is an error so
//!   that a new schema gets a conscious choice;
//! * a few free-form elements of the pool schemas are typed like the same element of the
//!   full object ([`TYPE_OVERRIDES`]: `VM_POOL/VM/MONITORING` is `VmMonitoring`, as in
//!   `Vm`);
//! * repeated elements become `Vec<T>`, nested structs `Option<T>`.
//!
//! The XSDs are simple, well-formed XML; a small parser here reads them so the generator
//! needs no dependency.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Regenerates the model structs.
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let xsd_dir = root.join("crates/opennebula/xsd");
    let out = root.join("crates/opennebula/src/model/generated.rs");
    let code = generate(&xsd_dir)?;
    std::fs::write(&out, code).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Generates the Rust source from the XSD folder (also used by the staleness test of
/// `crates/opennebula/tests/model_generated.rs`).
pub(crate) fn generate(dir: &Path) -> Result<String, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xsd"))
        .collect();
    files.sort();
    let mut schemas = BTreeMap::new();
    for f in &files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("reading {}: {e}", f.display()))?;
        let doc = parse_xml(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        schemas.insert(name, doc);
    }
    let mut g = Gen {
        schemas,
        structs: Vec::new(),
        by_name: HashMap::new(),
        roots: HashMap::new(),
    };
    let names: Vec<String> = g.schemas.keys().cloned().collect();
    for file in &names {
        if file == "index.xsd" {
            continue;
        }
        let tops: Vec<Node> = g.schemas[file]
            .children
            .iter()
            .filter(|c| c.name == "element")
            .cloned()
            .collect();
        for top in &tops {
            g.root_struct(file, top)?;
        }
    }
    Ok(g.emit())
}

// ---------------------------------------------------------------------------------------------
// A tiny XML reader for the schemas.

#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// Local name (prefix removed).
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
}

impl Node {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn parse_xml(text: &str) -> Result<Node, String> {
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut rest = text;
    while let Some(pos) = rest.find('<') {
        rest = &rest[pos..];
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unterminated comment")?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<?") {
            let end = r.find("?>").ok_or("unterminated declaration")?;
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unterminated end tag")?;
            rest = &r[end + 1..];
            let node = stack.pop().ok_or("unbalanced end tag")?;
            stack
                .last_mut()
                .ok_or("unbalanced end tag")?
                .children
                .push(node);
        } else {
            let end = rest.find('>').ok_or("unterminated tag")?;
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            let (tag, empty) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let node = parse_tag(tag)?;
            if empty {
                stack
                    .last_mut()
                    .ok_or("unbalanced tag")?
                    .children
                    .push(node);
            } else {
                stack.push(node);
            }
        }
    }
    let mut top = stack.pop().ok_or("empty document")?;
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    top.children.pop().ok_or_else(|| "no root element".into())
}

fn parse_tag(tag: &str) -> Result<Node, String> {
    let tag = tag.trim();
    let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
    let qname = &tag[..name_end];
    let name = qname.rsplit(':').next().unwrap_or(qname).to_string();
    let mut attrs = Vec::new();
    let mut rest = tag[name_end..].trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("bad attribute in <{tag}>"))?;
        let key = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().ok_or("missing attribute value")?;
        let body = &after[1..];
        let close = body
            .find(quote)
            .ok_or_else(|| format!("unterminated attribute in <{tag}>"))?;
        attrs.push((key, body[..close].to_string()));
        rest = body[close + 1..].trim_start();
    }
    Ok(Node {
        name,
        attrs,
        children: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Int,
    Decimal,
    Str,
    Template,
    /// A list of ids, the Rust type of one id (`VmId`, or `i64` for ids of parts).
    Ids(&'static str),
    Struct(String),
    /// The object's own typed id (`crate::ids::X`).
    OwnId(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    xml: String,
    rust: String,
    kind: Kind,
    repeated: bool,
    /// The XSD type text, for the doc comment.
    xsd_type: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Struct {
    name: String,
    element: String,
    file: String,
    /// Path of the element inside its schema, for the docs.
    path: String,
    fields: Vec<Field>,
}

struct Gen {
    schemas: BTreeMap<String, Node>,
    structs: Vec<Struct>,
    by_name: HashMap<String, usize>,
    /// (file, top-level element) -> struct name
    roots: HashMap<(String, String), String>,
}

/// Rust names of top-level elements that `pascal` would spell badly or that several files
/// define.
const ROOT_NAMES: &[(&str, &str, &str)] = &[
    ("vm_pool_extended.xsd", "VM_POOL", "VmPoolExtended"),
    ("vnet_pool_extended.xsd", "VNET_POOL", "VnetPoolExtended"),
    ("hook_message_api.xsd", "HOOK_MESSAGE", "HookMessageApi"),
    ("hook_message_retry.xsd", "HOOK_MESSAGE", "HookMessageRetry"),
    ("hook_message_state.xsd", "HOOK_MESSAGE", "HookMessageState"),
    ("acct.xsd", "HISTORY_RECORDS", "AccountingRecords"),
    ("acct.xsd", "HISTORY", "AccountingHistory"),
    ("vmtemplate.xsd", "VMTEMPLATE", "VmTemplate"),
    ("vmtemplate_pool.xsd", "VMTEMPLATE_POOL", "VmTemplatePool"),
    ("marketplaceapp.xsd", "MARKETPLACEAPP", "MarketplaceApp"),
    (
        "marketplaceapp_pool.xsd",
        "MARKETPLACEAPP_POOL",
        "MarketplaceAppPool",
    ),
    ("vntemplate.xsd", "VNTEMPLATE", "VnTemplate"),
    ("vntemplate_pool.xsd", "VNTEMPLATE_POOL", "VnTemplatePool"),
    ("backupjob.xsd", "BACKUPJOB", "BackupJob"),
    ("backupjob_pool.xsd", "BACKUPJOB_POOL", "BackupJobPool"),
    ("raftstatus.xsd", "RAFT", "RaftStatus"),
    (
        "opennebula_configuration.xsd",
        "OPENNEBULA_CONFIGURATION",
        "SystemConfig",
    ),
    ("vrouter.xsd", "VROUTER", "VirtualRouter"),
    ("vrouter_pool.xsd", "VROUTER_POOL", "VirtualRouterPool"),
];

/// Elements whose `ID` child is the object's own id, and the typed id it becomes.
const OWN_IDS: &[(&str, &str)] = &[
    ("VM", "VmId"),
    ("HOST", "HostId"),
    ("CLUSTER", "ClusterId"),
    ("DATASTORE", "DatastoreId"),
    ("IMAGE", "ImageId"),
    ("VMTEMPLATE", "TemplateId"),
    ("VNET", "VnetId"),
    ("VNTEMPLATE", "VnTemplateId"),
    ("USER", "UserId"),
    ("GROUP", "GroupId"),
    ("ACL", "AclId"),
    ("ZONE", "ZoneId"),
    ("DOCUMENT", "DocumentId"),
    ("MARKETPLACE", "MarketId"),
    ("MARKETPLACEAPP", "MarketAppId"),
    ("SECURITY_GROUP", "SecGroupId"),
    ("VM_GROUP", "VmGroupId"),
    ("VROUTER", "VrouterId"),
    ("VDC", "VdcId"),
    ("HOOK", "HookId"),
    ("BACKUPJOB", "BackupJobId"),
];

/// Id lists (`IDS`) by element name, and the typed id of their items.
const ID_LISTS: &[(&str, &str)] = &[
    ("VMS", "VmId"),
    ("UPDATED_VMS", "VmId"),
    ("OUTDATED_VMS", "VmId"),
    ("UPDATING_VMS", "VmId"),
    ("ERROR_VMS", "VmId"),
    ("BACKING_UP_VMS", "VmId"),
    ("HOSTS", "HostId"),
    ("DATASTORES", "DatastoreId"),
    ("VNETS", "VnetId"),
    ("CLUSTERS", "ClusterId"),
    ("IMAGES", "ImageId"),
    // An image's clones are images; its app clones are marketplace apps.
    ("CLONES", "ImageId"),
    ("APP_CLONES", "MarketAppId"),
    ("MARKETPLACEAPPS", "MarketAppId"),
    ("USERS", "UserId"),
    ("ADMINS", "UserId"),
    ("GROUPS", "GroupId"),
    ("VROUTERS", "VrouterId"),
    // A VM's backups are images of the backup datastore.
    ("BACKUP_IDS", "ImageId"),
];

/// Id lists whose ids number parts of one object (not objects of their own): `i64`.
const PART_ID_LISTS: &[&str] = &["SCHED_ACTIONS", "BACKUP_DISK_IDS"];

/// Elements (by schema file and path) typed as an existing struct instead of what their
/// schema says (free-form in the pool schemas, typed in the object's own schema).
const TYPE_OVERRIDES: &[(&str, &str, &str)] =
    &[("vm_pool.xsd", "VM_POOL/VM/MONITORING", "VmMonitoring")];

/// The item type of the id list element `xml`.
fn id_list_type(file: &str, xml: &str) -> Result<&'static str, String> {
    if let Some((_, id)) = ID_LISTS.iter().find(|(e, _)| *e == xml) {
        return Ok(id);
    }
    if PART_ID_LISTS.contains(&xml) {
        return Ok("i64");
    }
    Err(format!(
        "{file}: id list <{xml}> has no typed id; add it to ID_LISTS or PART_ID_LISTS"
    ))
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

fn pascal(xml: &str) -> String {
    let mut out = String::new();
    for part in xml.split(['_', '-', '.']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    out
}

fn snake(xml: &str) -> String {
    let s = xml.to_ascii_lowercase().replace(['-', '.'], "_");
    if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n{s}")
    } else {
        s
    }
}

/// Element children of a complex type (through sequence/all/choice), with a flag saying that
/// an enclosing group repeats, and whether an `xs:any` was seen.
fn element_children<'n>(node: &'n Node, repeated: bool, out: &mut Vec<(&'n Node, bool)>) -> bool {
    let mut any = false;
    for c in &node.children {
        match c.name.as_str() {
            "element" => out.push((c, repeated)),
            "sequence" | "all" | "choice" => {
                let rep = repeated || max_many(c);
                any |= element_children(c, rep, out);
            }
            "any" => any = true,
            _ => {}
        }
    }
    any
}

fn max_many(n: &Node) -> bool {
    match n.attr("maxOccurs") {
        Some("unbounded") => true,
        Some(v) => v.parse::<u32>().map(|v| v > 1).unwrap_or(false),
        None => false,
    }
}

impl Gen {
    fn root_struct(&mut self, file: &str, el: &Node) -> Result<String, String> {
        let element = el.attr("name").ok_or("top-level element without name")?;
        let key = (file.to_string(), element.to_string());
        if let Some(name) = self.roots.get(&key) {
            return Ok(name.clone());
        }
        let name = ROOT_NAMES
            .iter()
            .find(|(f, e, _)| *f == file && *e == element)
            .map(|(_, _, n)| (*n).to_string())
            .unwrap_or_else(|| pascal(element));
        if self.by_name.contains_key(&name) {
            return Err(format!(
                "{file}: top-level {element} would be named {name}, which is taken; add it to ROOT_NAMES"
            ));
        }
        self.roots.insert(key, name.clone());
        let ct = el
            .children
            .iter()
            .find(|c| c.name == "complexType")
            .ok_or_else(|| format!("{file}: top-level {element} has no complex type"))?;
        let own = true;
        self.build_struct(file, &name, &name, element, element, ct, own)?;
        Ok(name)
    }

    fn resolve_ref(&mut self, file: &str, target: &str) -> Result<String, String> {
        // The file itself, then the files it includes (depth first), then any file.
        let mut seen = Vec::new();
        if let Some(f) = self.find_top(file, target, &mut seen) {
            let el = self.top_element(&f, target).ok_or("vanished element")?;
            return self.root_struct(&f, &el);
        }
        let files: Vec<String> = self.schemas.keys().cloned().collect();
        for f in files {
            if let Some(el) = self.top_element(&f, target) {
                return self.root_struct(&f, &el);
            }
        }
        Err(format!("{file}: unresolved ref {target}"))
    }

    fn top_element(&self, file: &str, target: &str) -> Option<Node> {
        self.schemas[file]
            .children
            .iter()
            .find(|c| c.name == "element" && c.attr("name") == Some(target))
            .cloned()
    }

    fn find_top(&self, file: &str, target: &str, seen: &mut Vec<String>) -> Option<String> {
        if seen.iter().any(|s| s == file) || !self.schemas.contains_key(file) {
            return None;
        }
        seen.push(file.to_string());
        if self.top_element(file, target).is_some() {
            return Some(file.to_string());
        }
        let includes: Vec<String> = self.schemas[file]
            .children
            .iter()
            .filter(|c| c.name == "include")
            .filter_map(|c| c.attr("schemaLocation").map(String::from))
            .collect();
        includes
            .into_iter()
            .find_map(|inc| self.find_top(&inc, target, seen))
    }

    fn named_complex(&self, file: &str, name: &str) -> Option<(String, Node)> {
        let mut order: Vec<String> = vec![file.to_string(), "shared.xsd".to_string()];
        order.extend(self.schemas.keys().cloned());
        for f in order {
            if let Some(n) = self.schemas.get(&f).and_then(|s| {
                s.children
                    .iter()
                    .find(|c| c.name == "complexType" && c.attr("name") == Some(name))
            }) {
                return Some((f, n.clone()));
            }
        }
        None
    }

    fn simple_base(&self, file: &str, name: &str) -> Option<String> {
        let mut order: Vec<String> = vec![file.to_string(), "shared.xsd".to_string()];
        order.extend(self.schemas.keys().cloned());
        order.into_iter().find_map(|f| {
            self.schemas.get(&f).and_then(|s| {
                s.children
                    .iter()
                    .find(|c| c.name == "simpleType" && c.attr("name") == Some(name))
                    .and_then(restriction_base)
            })
        })
    }

    /// Builds (or reuses) a struct for a complex type and returns its name.
    #[allow(clippy::too_many_arguments)]
    fn build_struct(
        &mut self,
        file: &str,
        name: &str,
        root_name: &str,
        element: &str,
        path: &str,
        ct: &Node,
        own_id: bool,
    ) -> Result<String, String> {
        // Reserve the name first so recursive types terminate.
        let index = self.structs.len();
        self.by_name.insert(name.to_string(), index);
        self.structs.push(Struct {
            name: name.to_string(),
            element: element.to_string(),
            file: file.to_string(),
            path: path.to_string(),
            fields: Vec::new(),
        });
        let mut kids = Vec::new();
        element_children(ct, false, &mut kids);
        let mut fields: Vec<Field> = Vec::new();
        for (child, group_rep) in kids {
            let field = self.field(
                file, name, root_name, element, path, child, group_rep, own_id,
            )?;
            if let Some(existing) = fields.iter_mut().find(|f| f.xml == field.xml) {
                existing.repeated = true;
                continue;
            }
            fields.push(field);
        }
        self.structs[index].fields = fields;
        // Reuse an identical struct generated under another name? Names are unique by
        // construction, so only identical re-generation (same name) needs checking, done by
        // the caller.
        Ok(name.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    fn field(
        &mut self,
        file: &str,
        parent: &str,
        root_name: &str,
        parent_element: &str,
        path: &str,
        child: &Node,
        group_rep: bool,
        own_id: bool,
    ) -> Result<Field, String> {
        let repeated = group_rep || max_many(child);
        if let Some(target) = child.attr("ref") {
            let sname = self.resolve_ref(file, target)?;
            return Ok(Field {
                xml: target.to_string(),
                rust: snake(target),
                kind: Kind::Struct(sname.clone()),
                repeated,
                xsd_type: format!("[`{sname}`]"),
            });
        }
        let xml = child
            .attr("name")
            .ok_or_else(|| format!("{file}: element without name in {path}"))?
            .to_string();
        let rust = snake(&xml);
        let child_path = format!("{path}/{xml}");
        let mk = |kind: Kind, xsd_type: String| Field {
            xml: xml.clone(),
            rust: rust.clone(),
            kind,
            repeated,
            xsd_type,
        };
        if xml == "TEMPLATE" || xml == "USER_TEMPLATE" {
            return Ok(mk(Kind::Template, "free-form template".into()));
        }
        if let Some(t) = child.attr("type") {
            let local = t.rsplit(':').next().unwrap_or(t);
            let kind = match (t.starts_with("xs:"), local) {
                (true, "integer" | "long" | "int") => {
                    if xml == "ID" && own_id && !repeated {
                        match OWN_IDS.iter().find(|(e, _)| *e == parent_element) {
                            Some((_, id)) => Kind::OwnId(id),
                            None => Kind::Int,
                        }
                    } else {
                        Kind::Int
                    }
                }
                (true, "decimal" | "float" | "double") => Kind::Decimal,
                (true, "string" | "boolean") => Kind::Str,
                (true, "anyType") => Kind::Template,
                (true, other) => return Err(format!("{file}: unsupported type xs:{other}")),
                (false, "IDS") => Kind::Ids(id_list_type(file, &xml)?),
                (false, named) => {
                    if let Some((f, ct)) = self.named_complex(file, named) {
                        let sname = pascal(named);
                        if !self.by_name.contains_key(&sname) {
                            self.build_struct(&f, &sname, &sname, named, named, &ct, false)?;
                        }
                        Kind::Struct(sname)
                    } else if let Some(base) = self.simple_base(file, named) {
                        simple_kind(&base)
                    } else {
                        return Err(format!("{file}: unknown type {named}"));
                    }
                }
            };
            return Ok(mk(kind, t.to_string()));
        }
        if let Some(st) = child.children.iter().find(|c| c.name == "simpleType") {
            let base = restriction_base(st).unwrap_or_else(|| "xs:string".into());
            return Ok(mk(simple_kind(&base), base));
        }
        if let Some((_, _, sname)) = TYPE_OVERRIDES
            .iter()
            .find(|(f, p, _)| *f == file && *p == child_path)
        {
            if !self.by_name.contains_key(*sname) {
                return Err(format!(
                    "{file}: {child_path} is typed as {sname}, which is not generated (yet)"
                ));
            }
            return Ok(mk(
                Kind::Struct((*sname).to_string()),
                format!("[`{sname}`]"),
            ));
        }
        if let Some(ct) = child.children.iter().find(|c| c.name == "complexType") {
            let mut kids = Vec::new();
            element_children(ct, false, &mut kids);
            let only_ids = kids.len() == 1
                && kids[0].0.attr("name") == Some("ID")
                && (kids[0].1 || max_many(kids[0].0));
            if only_ids && ID_LISTS.iter().any(|(e, _)| *e == xml) {
                return Ok(mk(
                    Kind::Ids(id_list_type(file, &xml)?),
                    "list of `ID`s".into(),
                ));
            }
            if kids.is_empty() {
                return Ok(mk(Kind::Template, "free-form (xs:any)".into()));
            }
            let sname = self.nested_name(root_name, parent, &xml);
            let child_own = parent_element.ends_with("_POOL");
            self.build_struct(file, &sname, root_name, &xml, &child_path, ct, child_own)?;
            return Ok(mk(Kind::Struct(sname.clone()), format!("[`{sname}`]")));
        }
        Ok(mk(Kind::Template, "free-form (xs:anyType)".into()))
    }

    fn nested_name(&self, root: &str, parent: &str, xml: &str) -> String {
        let p = pascal(xml);
        let join = |prefix: &str| {
            if p.starts_with(prefix) {
                p.clone()
            } else {
                format!("{prefix}{p}")
            }
        };
        let first = join(root);
        if !self.by_name.contains_key(&first) {
            return first;
        }
        let second = join(parent);
        if !self.by_name.contains_key(&second) {
            return second;
        }
        let mut n = 2;
        loop {
            let c = format!("{second}{n}");
            if !self.by_name.contains_key(&c) {
                return c;
            }
            n += 1;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Emission.

    fn emit(&self) -> String {
        let mut o = String::new();
        o.push_str(
            "// @generated by `cargo xtask xsd` from crates/opennebula/xsd/*.xsd. Do not edit by hand.\n\
             //! Structs generated from the OpenNebula XSDs (see the [`model`](super) module docs).\n\n\
             use std::str::FromStr;\n\n\
             use serde::Serialize;\n\n\
             use super::de::{Decode, Decoder};\n\
             use crate::ids::*;\n\
             use crate::template::Template;\n\
             use crate::{Error, Result};\n",
        );
        let mut structs: Vec<&Struct> = self.structs.iter().collect();
        structs.sort_by(|a, b| a.name.cmp(&b.name));
        for s in structs {
            self.emit_struct(&mut o, s);
        }
        o
    }

    fn emit_struct(&self, o: &mut String, s: &Struct) {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "/// The `<{}>` element (`{}` in `{}`).",
            s.element, s.path, s.file
        );
        let _ = writeln!(o, "///");
        let _ = writeln!(
            o,
            "/// Parse a document whose root is `<{}>` with [`FromStr`]; fields the response does not carry are `None` (or empty).",
            s.element
        );
        let _ = writeln!(o, "#[derive(Debug, Clone, PartialEq, Serialize)]");
        let _ = writeln!(o, "#[non_exhaustive]");
        let _ = writeln!(o, "pub struct {} {{", s.name);
        for f in &s.fields {
            let (ty, skip) = field_type(f);
            let _ = writeln!(o, "    /// `<{}>` ({}).", f.xml, f.xsd_type);
            if let Some(skip) = skip {
                let _ = writeln!(o, "    #[serde(skip_serializing_if = \"{skip}\")]");
            }
            let _ = writeln!(o, "    pub {}: {ty},", f.rust);
        }
        let _ = writeln!(o, "}}");

        // Decode
        let _ = writeln!(o);
        let _ = writeln!(o, "impl Decode for {} {{", s.name);
        let _ = writeln!(o, "    const ELEMENT: &'static str = {:?};", s.element);
        let _ = writeln!(o);
        let used = if s.fields.is_empty() { "_" } else { "" };
        let _ = writeln!(
            o,
            "    fn decode({used}d: &mut Decoder<'_>, {used}empty: bool) -> Result<Self> {{"
        );
        for f in &s.fields {
            let init = match (&f.kind, f.repeated) {
                (Kind::Template, false) => "Template::default()".to_string(),
                (Kind::Ids(_), _) | (_, true) => "Vec::new()".to_string(),
                (Kind::OwnId(id), false) => format!("None::<{id}>"),
                _ => "None".to_string(),
            };
            let _ = writeln!(o, "        let mut {} = {init};", local(&f.rust));
        }
        if !s.fields.is_empty() {
            let _ = writeln!(o, "        if !empty {{");
            let _ = writeln!(
                o,
                "            while let Some((name, empty)) = d.next_child()? {{"
            );
            let _ = writeln!(o, "                match name {{");
            for f in &s.fields {
                let l = local(&f.rust);
                let x = &f.xml;
                let read = match &f.kind {
                    Kind::Int => format!("d.int(empty, {x:?})?"),
                    Kind::Decimal => format!("d.decimal(empty, {x:?})?"),
                    Kind::Str => "d.string(empty)?".to_string(),
                    Kind::Template => "d.template(empty)?".to_string(),
                    Kind::Ids(_) => "d.ids(empty, &mut ##)?".to_string(),
                    Kind::Struct(n) => format!("{n}::decode(d, empty)?"),
                    Kind::OwnId(_) => format!("d.id(empty, {x:?})?"),
                };
                let stmt = match (&f.kind, f.repeated) {
                    (Kind::Ids(_), _) => read.replace("##", &l),
                    (Kind::Int | Kind::Decimal | Kind::Str | Kind::OwnId(_), true) => {
                        format!("if let Some(v) = {read} {{ {l}.push(v) }}")
                    }
                    (_, true) => format!("{l}.push({read})"),
                    (Kind::Template, false) => format!("{l} = {read}"),
                    (Kind::Struct(_), false) => format!("{l} = Some({read})"),
                    (_, false) => format!("{l} = {read}"),
                };
                let _ = writeln!(o, "                    b{x:?} => {stmt},");
            }
            let _ = writeln!(o, "                    _ => d.skip(empty)?,");
            let _ = writeln!(o, "                }}");
            let _ = writeln!(o, "            }}");
            let _ = writeln!(o, "        }}");
        }
        let _ = writeln!(o, "        Ok(Self {{");
        for f in &s.fields {
            let l = local(&f.rust);
            match (&f.kind, f.repeated) {
                (Kind::OwnId(id), false) => {
                    let _ = writeln!(
                        o,
                        "            {}: {l}.ok_or_else(|| Decoder::missing({:?}, {:?}))?,",
                        f.rust, s.element, f.xml
                    );
                    let _ = id;
                }
                _ => {
                    if f.rust == l {
                        let _ = writeln!(o, "            {},", f.rust);
                    } else {
                        let _ = writeln!(o, "            {}: {l},", f.rust);
                    }
                }
            }
        }
        let _ = writeln!(o, "        }})");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}");
        let _ = writeln!(o);
        let _ = writeln!(o, "impl FromStr for {} {{", s.name);
        let _ = writeln!(o, "    type Err = Error;");
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "    /// Parses a `<{}>` document; a malformed document or another root is a [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) error.",
            s.element
        );
        let _ = writeln!(o, "    fn from_str(xml: &str) -> Result<Self> {{");
        let _ = writeln!(o, "        super::de::from_document(xml)");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}");
    }
}

/// The local variable holding a field while decoding (raw identifiers lose their prefix so
/// they cannot clash with the decoder's own names).
fn local(rust: &str) -> String {
    format!("f_{}", rust.trim_start_matches("r#"))
}

fn field_type(f: &Field) -> (String, Option<&'static str>) {
    let base = match &f.kind {
        Kind::Int => "i64".to_string(),
        Kind::Decimal => "f64".to_string(),
        Kind::Str => "String".to_string(),
        Kind::Template => "Template".to_string(),
        Kind::Ids(id) => return (format!("Vec<{id}>"), None),
        Kind::Struct(n) => n.clone(),
        Kind::OwnId(id) => return ((*id).to_string(), None),
    };
    if f.repeated {
        (format!("Vec<{base}>"), Some("Vec::is_empty"))
    } else if f.kind == Kind::Template {
        (base, None)
    } else {
        (format!("Option<{base}>"), Some("Option::is_none"))
    }
}

fn restriction_base(st: &Node) -> Option<String> {
    st.children
        .iter()
        .find(|c| c.name == "restriction")
        .and_then(|r| r.attr("base").map(String::from))
}

fn simple_kind(base: &str) -> Kind {
    match base.rsplit(':').next().unwrap_or(base) {
        "integer" | "long" | "int" => Kind::Int,
        "decimal" | "float" | "double" => Kind::Decimal,
        _ => Kind::Str,
    }
}
