//! Generator of the typed vCloud Director model from the vCD XSDs.
//!
//! Reads every schema under `crates/vcloud/xsd/` (vmware/vcd-api-schemas: the vCloud 1.5
//! namespace schemas and the OVF 1.1 / CIM schemas they import) and writes
//! `crates/vcloud/src/model/vcd/generated.rs`: one struct per complex type reachable from
//! the [`ROOTS`] elements, with a decoder from the crate's lenient `XmlElement` tree and an
//! encoder back to it.
//!
//! Rules (see the `model::vcd` module docs for the reasons):
//! * `xs:extension` is flattened: a type's fields are its base's fields, then its own;
//! * attributes and elements of a builtin or simple type become `Option<String>`,
//!   `Option<i64>`, `Option<bool>` or `Option<f64>`; repeated elements become `Vec<T>`;
//! * complex types with simple content (the CIM `cimString`... types of RASD items,
//!   `MetadataDomainTag`) become the shared `XmlText` (the text and every attribute);
//! * an element that refers to the head of a substitution group (`ovf:Section`) becomes an
//!   enum of the group's members plus `Other(XmlElement)`;
//! * abstract types, `xs:anyType` and types in [`RAW_TYPES`] stay `XmlElement`;
//! * every struct keeps the attributes and child elements it does not model
//!   (`other_attributes`, `other_elements`), so a document read can be written back.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::xsd::{Node, parse_xml};

const XS: &str = "http://www.w3.org/2001/XMLSchema";
const NS_VCLOUD: &str = "http://www.vmware.com/vcloud/v1.5";
const NS_OVF: &str = "http://schemas.dmtf.org/ovf/envelope/1";

/// Short names of the namespaces, used for Rust names and constants.
const NAMESPACES: &[(&str, &str)] = &[
    ("http://www.vmware.com/vcloud/v1.5", "VCLOUD"),
    ("http://schemas.dmtf.org/ovf/envelope/1", "OVF"),
    (
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData",
        "RASD",
    ),
    (
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData",
        "VSSD",
    ),
    ("http://www.vmware.com/schema/ovf", "VMW"),
    ("http://schemas.dmtf.org/wbem/wscim/1/common", "CIM"),
    ("http://schemas.dmtf.org/ovf/environment/1", "OVFENV"),
    ("http://www.w3.org/XML/1998/namespace", "XML"),
];

/// The documents the model starts from (namespace, top-level element); everything they
/// reach is generated.
const ROOTS: &[(&str, &str)] = &[
    (NS_VCLOUD, "Session"),
    (NS_VCLOUD, "OrgList"),
    (NS_VCLOUD, "Org"),
    (NS_VCLOUD, "Vdc"),
    (NS_VCLOUD, "VApp"),
    (NS_VCLOUD, "Vm"),
    (NS_VCLOUD, "VAppTemplate"),
    (NS_VCLOUD, "Catalog"),
    (NS_VCLOUD, "CatalogItem"),
    (NS_VCLOUD, "Media"),
    (NS_VCLOUD, "Task"),
    (NS_VCLOUD, "TasksList"),
    (NS_VCLOUD, "Error"),
    (NS_VCLOUD, "Metadata"),
    (NS_VCLOUD, "MetadataValue"),
    (NS_VCLOUD, "Link"),
    (NS_VCLOUD, "Reference"),
    (NS_VCLOUD, "References"),
    (NS_VCLOUD, "Owner"),
    (NS_VCLOUD, "ResourceEntity"),
    (NS_VCLOUD, "InstantiateVAppTemplateParams"),
    (NS_VCLOUD, "ComposeVAppParams"),
    (NS_VCLOUD, "RecomposeVAppParams"),
    (NS_VCLOUD, "DeployVAppParams"),
    (NS_VCLOUD, "UndeployVAppParams"),
    (NS_VCLOUD, "CreateSnapshotParams"),
    (NS_VCLOUD, "MediaInsertOrEjectParams"),
    (NS_OVF, "VirtualHardwareSection"),
    (NS_VCLOUD, "Item"),
    (NS_VCLOUD, "RasdItemsList"),
    (NS_VCLOUD, "GuestCustomizationSection"),
    (NS_VCLOUD, "NetworkConnectionSection"),
    (NS_VCLOUD, "SnapshotSection"),
    (NS_VCLOUD, "LeaseSettingsSection"),
    (NS_VCLOUD, "NetworkConfigSection"),
    (NS_VCLOUD, "RuntimeInfoSection"),
    (NS_OVF, "OperatingSystemSection"),
    (NS_VCLOUD, "ProductSectionList"),
    (NS_VCLOUD, "VmCapabilities"),
    (NS_VCLOUD, "ControlAccessParams"),
    (NS_VCLOUD, "OrgVdcNetwork"),
    (NS_OVF, "Envelope"),
];

/// Types kept as `XmlElement` although they are concrete: the network services and IP
/// settings of vApp networks (large, edited through the edge APIs, not through vApps).
const RAW_TYPES: &[&str] = &[
    "NetworkFeaturesType",
    "GatewayFeaturesType",
    "RouterInfoType",
    "SyslogServerSettingsType",
    "VendorServicesType",
];

/// Schema files not read (the query record views have their own hand-written model).
const SKIP_FILES: &[&str] = &[
    "queryRecordView.xsd",
    "queryReferenceView.xsd",
    "hybrid.xsd",
];

/// Regenerates the model.
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let dir = root.join("crates/vcloud/xsd");
    let out = root.join("crates/vcloud/src/model/vcd/generated.rs");
    let code = generate(&dir)?;
    std::fs::write(&out, code).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

fn xsd_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for e in rd {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.is_dir() {
            xsd_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "xsd") {
            out.push(p);
        }
    }
    Ok(())
}

struct Schema {
    file: String,
    tns: String,
    prefixes: HashMap<String, String>,
    attr_qualified: bool,
    root: Node,
}

type QName = (String, String);

/// Generates the Rust source (also used by the staleness test of
/// `crates/vcloud/tests/model_generated.rs`).
pub(crate) fn generate(dir: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    xsd_files(dir, &mut files)?;
    files.sort();
    let mut schemas = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if SKIP_FILES.contains(&name.as_str()) {
            continue;
        }
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("reading {}: {e}", f.display()))?;
        let root = parse_xml(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        let mut prefixes = HashMap::new();
        for (k, v) in &root.attrs {
            if k == "xmlns" {
                prefixes.insert(String::new(), v.clone());
            } else if let Some(p) = k.strip_prefix("xmlns:") {
                prefixes.insert(p.to_owned(), v.clone());
            }
        }
        let rel = f
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or(name);
        schemas.push(Schema {
            file: rel,
            tns: root.attr("targetNamespace").unwrap_or_default().to_owned(),
            prefixes,
            attr_qualified: root.attr("attributeFormDefault") == Some("qualified"),
            root,
        });
    }
    let mut g = Gen::new(schemas);
    for (ns, el) in ROOTS {
        let key = ((*ns).to_owned(), (*el).to_owned());
        let (si, node) = g
            .elements
            .get(&key)
            .cloned()
            .ok_or_else(|| format!("root element {el} not found in the schemas"))?;
        let ty = g.element_type(si, &node, el)?;
        g.roots.push((key, ty));
    }
    while let Some(job) = g.queue.pop() {
        g.build(job)?;
    }
    Ok(g.emit())
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Str,
    Int,
    Bool,
    Float,
    Text,
    Raw,
    Struct(String),
    Enum(String),
}

#[derive(Debug, Clone)]
struct Field {
    attr: bool,
    ns: Option<String>,
    xml: String,
    rust: String,
    ty: Ty,
    repeated: bool,
    doc: String,
}

#[derive(Debug, Clone)]
struct Struct {
    rust: String,
    xsd: String,
    file: String,
    doc: String,
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct EnumDef {
    rust: String,
    head: QName,
    file: String,
    /// (element namespace, element name, Rust variant, struct)
    variants: Vec<(String, String, String, Ty)>,
}

#[derive(Debug, Clone)]
enum Job {
    Named {
        si: usize,
        qn: QName,
        rust: String,
    },
    Anon {
        si: usize,
        node: Node,
        rust: String,
        what: String,
    },
}

struct Gen {
    schemas: Vec<Schema>,
    complex: HashMap<QName, (usize, Node)>,
    simple: HashMap<QName, (usize, Node)>,
    elements: HashMap<QName, (usize, Node)>,
    attributes: HashMap<QName, (usize, Node)>,
    attr_groups: HashMap<QName, (usize, Node)>,
    groups: HashMap<QName, (usize, Node)>,
    subst: BTreeMap<QName, Vec<QName>>,
    /// complex type -> Rust name
    named: HashMap<QName, String>,
    used_names: BTreeSet<String>,
    enums: BTreeMap<QName, EnumDef>,
    structs: Vec<Struct>,
    queue: Vec<Job>,
    roots: Vec<(QName, Ty)>,
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

const RESERVED_TYPES: &[&str] = &[
    "Result",
    "Option",
    "String",
    "Vec",
    "Box",
    "Self",
    "XmlElement",
    "XmlText",
    "XmlAttribute",
];

fn ns_short(ns: &str) -> &'static str {
    NAMESPACES
        .iter()
        .find(|(u, _)| *u == ns)
        .map(|(_, s)| *s)
        .unwrap_or("OTHER")
}

fn ns_const(ns: &str) -> String {
    format!("NS_{}", ns_short(ns))
}

fn pascal(s: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in s.chars() {
        if c == '_' || c == '-' || c == '.' {
            up = true;
            continue;
        }
        if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake(s: &str) -> String {
    let s = s
        .replace("VApp", "Vapp")
        .replace("VCloud", "Vcloud")
        .replace("vApp", "vapp");
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == '.' {
            out.push('_');
            continue;
        }
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    out
}

fn plural(s: &str) -> String {
    if s.ends_with('s') || s.ends_with("_list") {
        s.to_owned()
    } else if let Some(stem) = s.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{s}s")
    }
}

fn type_stem(name: &str) -> String {
    let base = name
        .strip_suffix("_Type")
        .or_else(|| name.strip_suffix("Type"))
        .filter(|b| !b.is_empty())
        .unwrap_or(name);
    pascal(base)
}

fn max_many(n: &Node) -> bool {
    n.attr("maxOccurs")
        .is_some_and(|m| m == "unbounded" || m.parse::<u32>().is_ok_and(|v| v > 1))
}

fn doc_of(n: &Node) -> String {
    // The tiny XSD reader keeps no text, so documentation is not available; the field docs
    // name the schema item instead.
    let _ = n;
    String::new()
}

impl Gen {
    fn new(schemas: Vec<Schema>) -> Gen {
        let mut g = Gen {
            schemas,
            complex: HashMap::new(),
            simple: HashMap::new(),
            elements: HashMap::new(),
            attributes: HashMap::new(),
            attr_groups: HashMap::new(),
            groups: HashMap::new(),
            subst: BTreeMap::new(),
            named: HashMap::new(),
            used_names: BTreeSet::new(),
            enums: BTreeMap::new(),
            structs: Vec::new(),
            queue: Vec::new(),
            roots: Vec::new(),
        };
        for (si, s) in g.schemas.iter().enumerate() {
            for c in &s.root.children {
                let Some(name) = c.attr("name") else { continue };
                let qn = (s.tns.clone(), name.to_owned());
                let map = match c.name.as_str() {
                    "complexType" => &mut g.complex,
                    "simpleType" => &mut g.simple,
                    "element" => &mut g.elements,
                    "attribute" => &mut g.attributes,
                    "attributeGroup" => &mut g.attr_groups,
                    "group" => &mut g.groups,
                    _ => continue,
                };
                map.entry(qn).or_insert((si, c.clone()));
            }
        }
        let mut subst: BTreeMap<QName, Vec<QName>> = BTreeMap::new();
        for (qn, (si, node)) in &g.elements {
            if let Some(head) = node.attr("substitutionGroup") {
                let h = g.resolve(*si, head);
                subst.entry(h).or_default().push(qn.clone());
            }
        }
        for v in subst.values_mut() {
            v.sort();
        }
        g.subst = subst;
        g
    }

    fn resolve(&self, si: usize, qname: &str) -> QName {
        let (prefix, local) = match qname.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", qname),
        };
        let ns = self.schemas[si]
            .prefixes
            .get(prefix)
            .cloned()
            .unwrap_or_else(|| {
                if prefix == "xml" {
                    "http://www.w3.org/XML/1998/namespace".to_owned()
                } else {
                    self.schemas[si].tns.clone()
                }
            });
        (ns, local.to_owned())
    }

    fn claim(&mut self, wanted: String, ns: &str) -> String {
        let mut name = wanted.clone();
        if RESERVED_TYPES.contains(&name.as_str()) {
            name.push_str("Type");
        }
        if self.used_names.contains(&name) {
            let short = ns_short(ns);
            name = format!(
                "{}{}{}",
                &short[..1],
                short[1..].to_ascii_lowercase(),
                wanted
            );
        }
        let mut n = 2;
        let base = name.clone();
        while self.used_names.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.used_names.insert(name.clone());
        name
    }

    /// Scalar kind of a simple type (builtin or named), or None when it is complex.
    fn simple_kind(&self, qn: &QName) -> Option<Ty> {
        if qn.0 == XS {
            return Some(match qn.1.as_str() {
                "int" | "long" | "integer" | "short" | "byte" | "unsignedShort" | "unsignedInt"
                | "unsignedLong" | "unsignedByte" | "nonNegativeInteger" | "positiveInteger"
                | "negativeInteger" | "nonPositiveInteger" => Ty::Int,
                "boolean" => Ty::Bool,
                "double" | "float" | "decimal" => Ty::Float,
                "anyType" => return None,
                _ => Ty::Str,
            });
        }
        let (si, node) = self.simple.get(qn)?;
        Some(self.simple_node_kind(*si, node))
    }

    fn simple_node_kind(&self, si: usize, node: &Node) -> Ty {
        if let Some(r) = node.children.iter().find(|c| c.name == "restriction")
            && let Some(base) = r.attr("base")
        {
            let q = self.resolve(si, base);
            return self.simple_kind(&q).unwrap_or(Ty::Str);
        }
        Ty::Str
    }

    /// The field type of an element declaration.
    fn element_type(&mut self, si: usize, el: &Node, anon_name: &str) -> Result<Ty, String> {
        if let Some(t) = el.attr("type") {
            let qn = self.resolve(si, t);
            return self.type_ref(&qn);
        }
        if let Some(ct) = el.children.iter().find(|c| c.name == "complexType") {
            if is_simple_content(ct) {
                return Ok(Ty::Text);
            }
            let rust = self.claim(pascal(anon_name), &self.schemas[si].tns.clone());
            self.queue.push(Job::Anon {
                si,
                node: ct.clone(),
                rust: rust.clone(),
                what: anon_name.to_owned(),
            });
            return Ok(Ty::Struct(rust));
        }
        if let Some(st) = el.children.iter().find(|c| c.name == "simpleType") {
            return Ok(self.simple_node_kind(si, st));
        }
        Ok(Ty::Raw)
    }

    fn type_ref(&mut self, qn: &QName) -> Result<Ty, String> {
        if let Some(k) = self.simple_kind(qn) {
            return Ok(k);
        }
        if qn.0 == XS {
            return Ok(Ty::Raw);
        }
        let Some((si, node)) = self.complex.get(qn).cloned() else {
            return Ok(Ty::Raw);
        };
        if node.attr("abstract") == Some("true") || RAW_TYPES.contains(&qn.1.as_str()) {
            return Ok(Ty::Raw);
        }
        if is_simple_content(&node) {
            return Ok(Ty::Text);
        }
        if let Some(r) = self.named.get(qn) {
            return Ok(Ty::Struct(r.clone()));
        }
        let rust = self.claim(type_stem(&qn.1), &qn.0);
        self.named.insert(qn.clone(), rust.clone());
        self.queue.push(Job::Named {
            si,
            qn: qn.clone(),
            rust: rust.clone(),
        });
        Ok(Ty::Struct(rust))
    }

    fn build(&mut self, job: Job) -> Result<(), String> {
        let (si, node, rust, xsd) = match job {
            Job::Named { si, qn, rust } => {
                let node = self.complex[&qn].1.clone();
                (si, node, rust, format!("{} (complex type)", qn.1))
            }
            Job::Anon {
                si,
                node,
                rust,
                what,
            } => (si, node, rust, format!("anonymous type of {what}")),
        };
        let mut fields = Vec::new();
        self.collect(si, &node, &mut fields, false, &mut Vec::new())?;
        // De-duplicate names (an element and an attribute can share a name).
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut out: Vec<Field> = Vec::new();
        for mut f in fields {
            if out
                .iter()
                .any(|o| o.attr == f.attr && o.xml == f.xml && o.ns == f.ns)
            {
                continue;
            }
            if seen.contains(&f.rust) {
                f.rust = format!("{}_{}", f.rust, if f.attr { "attr" } else { "element" });
            }
            seen.insert(f.rust.clone());
            out.push(f);
        }
        let file = self.schemas[si].file.clone();
        self.structs.push(Struct {
            rust,
            xsd,
            file,
            doc: doc_of(&node),
            fields: out,
        });
        Ok(())
    }

    /// Collects the fields of a complex type (base type first).
    fn collect(
        &mut self,
        si: usize,
        ct: &Node,
        fields: &mut Vec<Field>,
        optional: bool,
        stack: &mut Vec<QName>,
    ) -> Result<(), String> {
        for c in &ct.children {
            match c.name.as_str() {
                "complexContent" => {
                    for d in &c.children {
                        if d.name == "extension" || d.name == "restriction" {
                            if let Some(base) = d.attr("base") {
                                let qn = self.resolve(si, base);
                                if !stack.contains(&qn)
                                    && let Some((bsi, bnode)) = self.complex.get(&qn).cloned()
                                {
                                    stack.push(qn);
                                    self.collect(bsi, &bnode, fields, optional, stack)?;
                                    stack.pop();
                                }
                            }
                            if d.name == "extension" {
                                self.collect(si, d, fields, optional, stack)?;
                            }
                        }
                    }
                }
                "sequence" | "choice" | "all" => {
                    let many = max_many(c);
                    self.particles(si, c, fields, many, optional || c.name == "choice")?;
                }
                "group" => {
                    if let Some(r) = c.attr("ref") {
                        let qn = self.resolve(si, r);
                        if let Some((gsi, g)) = self.groups.get(&qn).cloned() {
                            self.collect(gsi, &g, fields, optional, stack)?;
                        }
                    }
                }
                "attribute" => self.attribute(si, c, fields)?,
                "attributeGroup" => {
                    if let Some(r) = c.attr("ref") {
                        let qn = self.resolve(si, r);
                        if let Some((gsi, g)) = self.attr_groups.get(&qn).cloned() {
                            self.collect(gsi, &g, fields, optional, stack)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn particles(
        &mut self,
        si: usize,
        seq: &Node,
        fields: &mut Vec<Field>,
        many: bool,
        optional: bool,
    ) -> Result<(), String> {
        let _ = optional;
        for p in &seq.children {
            match p.name.as_str() {
                "element" => {
                    let repeated = many || max_many(p);
                    let (ns, xml, ty) = if let Some(r) = p.attr("ref") {
                        let qn = self.resolve(si, r);
                        let ty = if self.subst.contains_key(&qn) {
                            self.subst_enum(&qn)?
                        } else if let Some((esi, en)) = self.elements.get(&qn).cloned() {
                            self.element_type(esi, &en, &qn.1.clone())?
                        } else {
                            Ty::Raw
                        };
                        (Some(qn.0.clone()), qn.1.clone(), ty)
                    } else {
                        let name = p.attr("name").unwrap_or_default().to_owned();
                        let ty = self.element_type(si, p, &name.clone())?;
                        (Some(self.schemas[si].tns.clone()), name, ty)
                    };
                    let rust = if repeated {
                        plural(&snake(&xml))
                    } else {
                        snake(&xml)
                    };
                    fields.push(Field {
                        attr: false,
                        ns,
                        rust,
                        doc: format!("`<{xml}>`"),
                        xml,
                        ty,
                        repeated,
                    });
                }
                "sequence" | "choice" => {
                    let m = many || max_many(p);
                    self.particles(si, p, fields, m, true)?;
                }
                "group" => {
                    if let Some(r) = p.attr("ref") {
                        let qn = self.resolve(si, r);
                        if let Some((gsi, g)) = self.groups.get(&qn).cloned() {
                            for gc in &g.children {
                                let m = many || max_many(gc);
                                self.particles(gsi, gc, fields, m, true)?;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn attribute(&mut self, si: usize, a: &Node, fields: &mut Vec<Field>) -> Result<(), String> {
        let (ns, name, ty) = if let Some(r) = a.attr("ref") {
            let qn = self.resolve(si, r);
            let ty = match self.attributes.get(&qn).cloned() {
                Some((asi, an)) => self.attr_type(asi, &an),
                None => Ty::Str,
            };
            (Some(qn.0), qn.1, ty)
        } else {
            let name = a.attr("name").unwrap_or_default().to_owned();
            let qualified = match a.attr("form") {
                Some(f) => f == "qualified",
                None => self.schemas[si].attr_qualified,
            };
            let ns = qualified.then(|| self.schemas[si].tns.clone());
            (ns, name, self.attr_type(si, a))
        };
        if a.attr("use") == Some("prohibited") {
            return Ok(());
        }
        fields.push(Field {
            attr: true,
            ns,
            rust: snake(&name),
            doc: format!("attribute `{name}`"),
            xml: name,
            ty,
            repeated: false,
        });
        Ok(())
    }

    fn attr_type(&self, si: usize, a: &Node) -> Ty {
        if let Some(t) = a.attr("type") {
            let qn = self.resolve(si, t);
            return self.simple_kind(&qn).unwrap_or(Ty::Str);
        }
        if let Some(st) = a.children.iter().find(|c| c.name == "simpleType") {
            return self.simple_node_kind(si, st);
        }
        Ty::Str
    }

    fn subst_enum(&mut self, head: &QName) -> Result<Ty, String> {
        if let Some(e) = self.enums.get(head) {
            return Ok(Ty::Enum(e.rust.clone()));
        }
        let rust = self.claim(pascal(&head.1), &head.0);
        let members = self.subst.get(head).cloned().unwrap_or_default();
        let mut variants = Vec::new();
        // Register first (members may contain sections again).
        self.enums.insert(
            head.clone(),
            EnumDef {
                rust: rust.clone(),
                head: head.clone(),
                file: String::new(),
                variants: Vec::new(),
            },
        );
        let mut file = String::new();
        for m in members {
            let Some((msi, mn)) = self.elements.get(&m).cloned() else {
                continue;
            };
            file = self.schemas[msi].file.clone();
            let ty = self.element_type(msi, &mn, &m.1.clone())?;
            let mut variant = pascal(&m.1);
            if variants.iter().any(|(_, _, v, _)| *v == variant) {
                variant = format!(
                    "{}{}",
                    pascal(&ns_short(&m.0).to_ascii_lowercase()),
                    variant
                );
            }
            variants.push((m.0.clone(), m.1.clone(), variant, ty));
        }
        if let Some(e) = self.enums.get_mut(head) {
            e.variants = variants;
            e.file = file;
        }
        Ok(Ty::Enum(rust))
    }

    // -----------------------------------------------------------------------------------------

    fn emit(&self) -> String {
        let mut o = String::new();
        o.push_str(
            "// @generated by `cargo xtask vcd` from crates/vcloud/xsd (vmware/vcd-api-schemas).\n\
             // Do not edit by hand: change the generator (xtask/src/vcd.rs) and run it again.\n\
             \n\
             #![allow(clippy::all, clippy::pedantic)]\n\
             \n\
             use serde::Serialize;\n\
             \n\
             use super::codec::{self, XmlAttribute, XmlText};\n\
             use crate::model::xml::XmlElement;\n\
             \n",
        );
        for (ns, short) in NAMESPACES {
            let _ = writeln!(o, "/// The `{ns}` namespace.");
            let _ = writeln!(o, "pub const NS_{short}: &str = {ns:?};");
        }
        let mut structs: Vec<&Struct> = self.structs.iter().collect();
        structs.sort_by(|a, b| a.rust.cmp(&b.rust));
        for s in structs {
            self.emit_struct(&mut o, s);
        }
        for e in self.enums.values() {
            self.emit_enum(&mut o, e);
        }
        let mut roots = self.roots.clone();
        roots.sort_by(|a, b| a.0.1.cmp(&b.0.1));
        for ((ns, el), ty) in &roots {
            if let Ty::Struct(name) = ty {
                let _ = writeln!(o);
                let _ = writeln!(o, "impl codec::Document for {name} {{");
                let _ = writeln!(o, "    const NAMESPACE: &'static str = {};", ns_const(ns));
                let _ = writeln!(o, "    const ELEMENT: &'static str = {el:?};");
                let _ = writeln!(o, "}}");
                let _ = writeln!(o);
                let _ = writeln!(o, "impl std::str::FromStr for {name} {{");
                let _ = writeln!(o, "    type Err = crate::Error;");
                let _ = writeln!(o);
                let _ = writeln!(
                    o,
                    "    /// Parses a `<{el}>` document; malformed XML, another root element or a value of the wrong type is an [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) error."
                );
                let _ = writeln!(
                    o,
                    "    fn from_str(xml: &str) -> ::std::result::Result<Self, crate::Error> {{"
                );
                let _ = writeln!(o, "        codec::from_document(xml)");
                let _ = writeln!(o, "    }}");
                let _ = writeln!(o, "}}");
            }
        }
        o
    }

    fn rust_type(f: &Field) -> String {
        let base = match &f.ty {
            Ty::Str => "String".to_owned(),
            Ty::Int => "i64".to_owned(),
            Ty::Bool => "bool".to_owned(),
            Ty::Float => "f64".to_owned(),
            Ty::Text => "XmlText".to_owned(),
            Ty::Raw => "XmlElement".to_owned(),
            Ty::Struct(n) | Ty::Enum(n) => n.clone(),
        };
        if f.repeated {
            format!("Vec<{base}>")
        } else if matches!(f.ty, Ty::Struct(_) | Ty::Enum(_)) {
            format!("Option<Box<{base}>>")
        } else {
            format!("Option<{base}>")
        }
    }

    fn emit_struct(&self, o: &mut String, s: &Struct) {
        let _ = writeln!(o);
        let _ = writeln!(o, "/// `{}` in `{}`.", s.xsd, s.file);
        if !s.doc.is_empty() {
            let _ = writeln!(o, "///\n/// {}", s.doc);
        }
        let _ = writeln!(o, "#[derive(Debug, Clone, PartialEq, Default, Serialize)]");
        let _ = writeln!(o, "#[serde(rename_all = \"camelCase\")]");
        let _ = writeln!(o, "pub struct {} {{", s.rust);
        for f in &s.fields {
            let ns = f.ns.as_deref().map(ns_short).unwrap_or("");
            let ns = if f.attr && !ns.is_empty() {
                format!(" ({} namespace)", ns.to_ascii_lowercase())
            } else {
                String::new()
            };
            let _ = writeln!(o, "    /// The {}{ns}.", f.doc);
            let skip = if f.repeated {
                "Vec::is_empty"
            } else {
                "Option::is_none"
            };
            let _ = writeln!(o, "    #[serde(skip_serializing_if = \"{skip}\")]");
            let _ = writeln!(o, "    pub {}: {},", f.rust, Self::rust_type(f));
        }
        let _ = writeln!(
            o,
            "    /// Attributes the schema does not declare here (kept for writing back)."
        );
        let _ = writeln!(o, "    #[serde(skip_serializing_if = \"Vec::is_empty\")]");
        let _ = writeln!(o, "    pub other_attributes: Vec<XmlAttribute>,");
        let _ = writeln!(
            o,
            "    /// Child elements the schema does not declare here (kept for writing back)."
        );
        let _ = writeln!(o, "    #[serde(skip_serializing_if = \"Vec::is_empty\")]");
        let _ = writeln!(o, "    pub other_elements: Vec<XmlElement>,");
        let _ = writeln!(o, "}}");

        // decode
        let _ = writeln!(o);
        let _ = writeln!(o, "impl codec::Element for {} {{", s.rust);
        let _ = writeln!(
            o,
            "    fn from_element(el: &XmlElement) -> crate::Result<Self> {{"
        );
        let _ = writeln!(o, "        let mut out = Self::default();");
        let attrs: Vec<&Field> = s.fields.iter().filter(|f| f.attr).collect();
        let elems: Vec<&Field> = s.fields.iter().filter(|f| !f.attr).collect();
        let _ = writeln!(
            o,
            "        for ({}ns, name, value) in el.attributes_ns() {{",
            if attrs.is_empty() { "_" } else { "" }
        );
        if attrs.is_empty() {
            let _ = writeln!(
                o,
                "            out.other_attributes.push(XmlAttribute::new(_ns, name, value));"
            );
        } else {
            let _ = writeln!(o, "            match name {{");
            for f in &attrs {
                let parse = match f.ty {
                    Ty::Int => "codec::int(el, name, value)?",
                    Ty::Bool => "codec::boolean(el, name, value)?",
                    Ty::Float => "codec::float(el, name, value)?",
                    _ => "value.to_owned()",
                };
                let _ = writeln!(
                    o,
                    "                {:?} if out.{}.is_none() => out.{} = Some({parse}),",
                    f.xml, f.rust, f.rust
                );
            }
            let _ = writeln!(
                o,
                "                _ => out.other_attributes.push(XmlAttribute::new(ns, name, value)),"
            );
            let _ = writeln!(o, "            }}");
        }
        let _ = writeln!(o, "        }}");
        let _ = writeln!(o, "        for child in el.children() {{");
        if elems.is_empty() {
            let _ = writeln!(o, "            out.other_elements.push(child.clone());");
        } else {
            let _ = writeln!(o, "            match child.name() {{");
            for f in &elems {
                let read = match &f.ty {
                    Ty::Str => "child.text().to_owned()".to_owned(),
                    Ty::Int => "codec::int(child, child.name(), child.text())?".to_owned(),
                    Ty::Bool => "codec::boolean(child, child.name(), child.text())?".to_owned(),
                    Ty::Float => "codec::float(child, child.name(), child.text())?".to_owned(),
                    Ty::Text => "XmlText::from_element(child)".to_owned(),
                    Ty::Raw => "child.clone()".to_owned(),
                    Ty::Struct(n) => {
                        format!("<{n} as codec::Element>::from_element(child)?")
                    }
                    Ty::Enum(n) => format!("{n}::from_element(child)?"),
                };
                let boxed = matches!(f.ty, Ty::Struct(_) | Ty::Enum(_));
                if f.repeated {
                    let _ = writeln!(
                        o,
                        "                {:?} => out.{}.push({read}),",
                        f.xml, f.rust
                    );
                } else if boxed {
                    let _ = writeln!(
                        o,
                        "                {:?} if out.{}.is_none() => out.{} = Some(Box::new({read})),",
                        f.xml, f.rust, f.rust
                    );
                } else {
                    let _ = writeln!(
                        o,
                        "                {:?} if out.{}.is_none() => out.{} = Some({read}),",
                        f.xml, f.rust, f.rust
                    );
                }
            }
            // Enum fields also match every member name.
            for f in &elems {
                if let Ty::Enum(n) = &f.ty {
                    if f.repeated {
                        let _ = writeln!(
                            o,
                            "                other if {n}::is_member(other) => out.{}.push({n}::from_element(child)?),",
                            f.rust
                        );
                    } else {
                        let _ = writeln!(
                            o,
                            "                other if {n}::is_member(other) && out.{}.is_none() => out.{} = Some(Box::new({n}::from_element(child)?)),",
                            f.rust, f.rust
                        );
                    }
                }
            }
            let _ = writeln!(
                o,
                "                _ => out.other_elements.push(child.clone()),"
            );
            let _ = writeln!(o, "            }}");
        }
        let _ = writeln!(o, "        }}");
        let _ = writeln!(o, "        Ok(out)");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "    fn to_element(&self, namespace: &str, name: &str) -> XmlElement {{"
        );
        let _ = writeln!(
            o,
            "        let mut el = XmlElement::new_ns(namespace, name);"
        );
        for f in &attrs {
            let ns = match &f.ns {
                Some(n) => format!("Some({}.to_owned())", ns_const(n)),
                None => "None".to_owned(),
            };
            let val = match f.ty {
                Ty::Str => "v.clone()",
                _ => "codec::render(v)",
            };
            let _ = writeln!(
                o,
                "        if let Some(v) = &self.{} {{ el.push_attr({ns}, {:?}, {val}); }}",
                f.rust, f.xml
            );
        }
        let _ = writeln!(
            o,
            "        for a in &self.other_attributes {{ el.push_attr(a.namespace.clone(), a.name.clone(), a.value.clone()); }}"
        );
        for f in &elems {
            let ns =
                f.ns.as_deref()
                    .map(ns_const)
                    .unwrap_or_else(|| "\"\"".into());
            let write = |v: &str| -> String {
                match &f.ty {
                    Ty::Str => format!(
                        "el.push_child(codec::text_element({ns}, {:?}, {v}));",
                        f.xml
                    ),
                    Ty::Int | Ty::Bool | Ty::Float => format!(
                        "el.push_child(codec::text_element({ns}, {:?}, &codec::render({v})));",
                        f.xml
                    ),
                    Ty::Text => format!("el.push_child({v}.to_element({ns}, {:?}));", f.xml),
                    Ty::Raw => format!("el.push_child({v}.clone());"),
                    Ty::Struct(_) => format!(
                        "el.push_child(codec::Element::to_element(&**{v}, {ns}, {:?}));",
                        f.xml
                    ),
                    Ty::Enum(_) => format!("el.push_child({v}.to_element());"),
                }
            };
            if f.repeated {
                let w = write("v").replace("&**v", "v");
                let _ = writeln!(o, "        for v in &self.{} {{ {w} }}", f.rust);
            } else {
                let _ = writeln!(
                    o,
                    "        if let Some(v) = &self.{} {{ {} }}",
                    f.rust,
                    write("v")
                );
            }
        }
        let _ = writeln!(
            o,
            "        for c in &self.other_elements {{ el.push_child(c.clone()); }}"
        );
        let _ = writeln!(o, "        el");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}");
        if s.fields
            .iter()
            .any(|f| f.rust == "links" && f.repeated && f.ty == Ty::Struct("Link".into()))
        {
            let _ = writeln!(o);
            let _ = writeln!(o, "impl super::links::HasLinks for {} {{", s.rust);
            let _ = writeln!(o, "    fn links(&self) -> &[Link] {{");
            let _ = writeln!(o, "        &self.links");
            let _ = writeln!(o, "    }}");
            let _ = writeln!(o, "}}");
        }
    }

    fn emit_enum(&self, o: &mut String, e: &EnumDef) {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "/// The members of the `{}` substitution group (`{}` namespace), from `{}`.",
            e.head.1,
            ns_short(&e.head.0).to_ascii_lowercase(),
            e.file
        );
        let _ = writeln!(o, "#[derive(Debug, Clone, PartialEq, Serialize)]");
        let _ = writeln!(o, "#[non_exhaustive]");
        let _ = writeln!(o, "pub enum {} {{", e.rust);
        for (ns, el, v, ty) in &e.variants {
            let t = match ty {
                Ty::Struct(n) => format!("Box<{n}>"),
                Ty::Text => "XmlText".into(),
                _ => "XmlElement".into(),
            };
            let _ = writeln!(o, "    /// `<{}:{el}>`.", ns_short(ns).to_ascii_lowercase());
            let _ = writeln!(o, "    {v}({t}),");
        }
        let _ = writeln!(
            o,
            "    /// A member this model does not know (kept as read)."
        );
        let _ = writeln!(o, "    Other(XmlElement),");
        let _ = writeln!(o, "}}");
        let _ = writeln!(o);
        let _ = writeln!(o, "impl {} {{", e.rust);
        let _ = writeln!(
            o,
            "    /// Whether an element with this local name is a known member of the group."
        );
        let _ = writeln!(o, "    pub fn is_member(name: &str) -> bool {{");
        let names: Vec<String> = e.variants.iter().map(|v| format!("{:?}", v.1)).collect();
        if names.is_empty() {
            let _ = writeln!(o, "        let _ = name;\n        false");
        } else {
            let _ = writeln!(o, "        matches!(name, {})", names.join(" | "));
        }
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "    /// Decodes a member by its element name (an unknown name is kept as [`{}::Other`]).",
            e.rust
        );
        let _ = writeln!(
            o,
            "    ///\n    /// # Errors\n    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when a known member has a value of the wrong type."
        );
        let _ = writeln!(
            o,
            "    pub fn from_element(el: &XmlElement) -> crate::Result<Self> {{"
        );
        let _ = writeln!(o, "        Ok(match el.name() {{");
        for (_, el, v, ty) in &e.variants {
            let read = match ty {
                Ty::Struct(n) => {
                    format!("Box::new(<{n} as codec::Element>::from_element(el)?)")
                }
                Ty::Text => "XmlText::from_element(el)".into(),
                _ => "el.clone()".into(),
            };
            let _ = writeln!(o, "            {el:?} => Self::{v}({read}),");
        }
        let _ = writeln!(o, "            _ => Self::Other(el.clone()),");
        let _ = writeln!(o, "        }})");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o);
        let _ = writeln!(o, "    /// Encodes the member with its own element name.");
        let _ = writeln!(o, "    pub fn to_element(&self) -> XmlElement {{");
        let _ = writeln!(o, "        match self {{");
        for (ns, el, v, ty) in &e.variants {
            let w = match ty {
                Ty::Struct(_) => {
                    format!("codec::Element::to_element(&**x, {}, {el:?})", ns_const(ns))
                }
                Ty::Text => format!("x.to_element({}, {el:?})", ns_const(ns)),
                _ => "x.clone()".into(),
            };
            let _ = writeln!(o, "            Self::{v}(x) => {w},");
        }
        let _ = writeln!(o, "            Self::Other(x) => x.clone(),");
        let _ = writeln!(o, "        }}");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o);
        let _ = writeln!(o, "    /// The local element name of the member.");
        let _ = writeln!(o, "    pub fn element_name(&self) -> &str {{");
        let _ = writeln!(o, "        match self {{");
        for (_, el, v, _) in &e.variants {
            let _ = writeln!(o, "            Self::{v}(_) => {el:?},");
        }
        let _ = writeln!(o, "            Self::Other(x) => x.name(),");
        let _ = writeln!(o, "        }}");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}");
    }
}

fn is_simple_content(ct: &Node) -> bool {
    ct.children.iter().any(|c| c.name == "simpleContent")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("VAppTemplate"), "vapp_template");
        assert_eq!(
            snake("ipAddressAllocationMode"),
            "ip_address_allocation_mode"
        );
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("MACAddress"), "mac_address");
        assert_eq!(plural("link"), "links");
        assert_eq!(plural("metadata_entry"), "metadata_entries");
        assert_eq!(
            type_stem("VirtualHardwareSection_Type"),
            "VirtualHardwareSection"
        );
        assert_eq!(type_stem("VmType"), "Vm");
    }
}
