//! A small self-contained oned state for running the OneGate simulator on its own.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use nebulair_opennebula::template::{Template, TemplateValue};

use super::OneGateBackend;

#[derive(Debug, Clone)]
struct MemVm {
    name: String,
    state: i32,
    lcm_state: i32,
    resched: i32,
    token: Option<String>,
    user_template: Template,
    nics: Vec<Vec<(String, String)>>,
    context: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Mem {
    vms: BTreeMap<i32, MemVm>,
    next_vm: i32,
    vnets: BTreeMap<i32, String>,
}

/// An in-memory set of VMs and networks implementing [`OneGateBackend`], for running the
/// OneGate simulator without the oned simulator. VMs are created ACTIVE/RUNNING.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    mem: Mutex<Mem>,
}

/// A VM to add to a [`MemoryBackend`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MemoryVm {
    /// The id (default: the next free one).
    pub id: Option<i32>,
    /// The name.
    pub name: String,
    /// Whether it gets a OneGate token (`CONTEXT=[TOKEN="YES"]`).
    pub token: bool,
    /// The user template, in template syntax (`GREETING="hello"`).
    pub user_template: String,
    /// The NICs, each a list of attributes (`IP`, `MAC`, `NAME`, `NETWORK`, ...).
    pub nics: Vec<Vec<(String, String)>>,
    /// Context attributes (e.g. `BACKEND=YES`).
    pub context: Vec<(String, String)>,
}

impl MemoryVm {
    /// A VM named `name`, with or without a token.
    pub fn new(name: impl Into<String>, token: bool) -> Self {
        MemoryVm {
            name: name.into(),
            token,
            ..Self::default()
        }
    }

    /// Uses this id.
    pub fn id(mut self, id: i32) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the user template text.
    pub fn user_template(mut self, text: impl Into<String>) -> Self {
        self.user_template = text.into();
        self
    }

    /// Adds a NIC.
    pub fn nic(mut self, attrs: &[(&str, &str)]) -> Self {
        self.nics.push(
            attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        self
    }

    /// Adds a context attribute.
    pub fn context(mut self, key: &str, value: &str) -> Self {
        self.context.push((key.to_owned(), value.to_owned()));
        self
    }
}

fn new_token() -> String {
    // Shaped like real tokens (base64 of an AES block sequence).
    let mut t: String = (0..42).map(|_| fastrand::alphanumeric()).collect();
    t.push_str("==");
    t
}

impl MemoryBackend {
    /// No VMs, no networks.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Mem> {
        self.mem
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a running VM named `name` (with a token when `token`) under the next free
    /// id; the id.
    pub fn add_vm(&self, name: &str, token: bool) -> i32 {
        let mut mem = self.lock();
        let id = mem.next_vm;
        mem.next_vm += 1;
        mem.vms.insert(
            id,
            MemVm {
                name: name.to_owned(),
                state: 3,
                lcm_state: 3,
                resched: 0,
                token: token.then(new_token),
                user_template: Template::new(),
                nics: Vec::new(),
                context: Vec::new(),
            },
        );
        id
    }

    /// Adds a VM described by `vm`; its id.
    ///
    /// # Errors
    /// When the id is taken or the user template does not parse.
    pub fn add(&self, vm: MemoryVm) -> Result<i32, String> {
        let user_template = if vm.user_template.trim().is_empty() {
            Template::new()
        } else {
            upper(Template::parse_text(&vm.user_template).map_err(|e| e.to_string())?)
        };
        let mut mem = self.lock();
        let id = vm.id.unwrap_or(mem.next_vm);
        if mem.vms.contains_key(&id) {
            return Err(format!("VM {id} already exists"));
        }
        mem.next_vm = mem.next_vm.max(id + 1);
        mem.vms.insert(
            id,
            MemVm {
                name: vm.name,
                state: 3,
                lcm_state: 3,
                resched: 0,
                token: vm.token.then(new_token),
                user_template,
                nics: vm.nics,
                context: vm.context,
            },
        );
        Ok(id)
    }

    /// Adds a virtual network given as its `one.vn.info` XML document.
    pub fn add_vnet_xml(&self, id: i32, xml: impl Into<String>) {
        self.lock().vnets.insert(id, xml.into());
    }

    /// A user-template attribute of a VM, when it is a single value.
    pub fn user_attr(&self, vm: i32, key: &str) -> Option<String> {
        self.lock()
            .vms
            .get(&vm)?
            .user_template
            .get_str(key)
            .map(str::to_owned)
    }

    /// The name of a VM.
    pub fn vm_name(&self, vm: i32) -> Option<String> {
        self.lock().vms.get(&vm).map(|v| v.name.clone())
    }

    /// The state and LCM state of a VM.
    pub fn vm_state(&self, vm: i32) -> Option<(i32, i32)> {
        self.lock().vms.get(&vm).map(|v| (v.state, v.lcm_state))
    }
}

/// oned stores attribute names upper-cased.
fn upper(t: Template) -> Template {
    let mut out = Template::new();
    for (name, value) in t.iter() {
        out.push(name.to_uppercase(), value.clone());
    }
    out
}

fn cdata(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str("><![CDATA[");
    out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]></");
    out.push_str(name);
    out.push('>');
}

fn render_pairs(out: &mut String, name: &str, pairs: &[(String, String)]) {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    out.push_str(&format!("<{name}>"));
    for (k, v) in sorted {
        cdata(out, k, v);
    }
    out.push_str(&format!("</{name}>"));
}

fn render_vm(id: i32, vm: &MemVm) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "<VM><ID>{id}</ID><NAME>{}</NAME><STATE>{}</STATE><LCM_STATE>{}</LCM_STATE><RESCHED>{}</RESCHED><TEMPLATE>",
        xml_escape(&vm.name),
        vm.state,
        vm.lcm_state,
        vm.resched
    ));
    if !vm.context.is_empty() {
        render_pairs(&mut out, "CONTEXT", &vm.context);
    }
    for nic in &vm.nics {
        render_pairs(&mut out, "NIC", nic);
    }
    out.push_str("</TEMPLATE><MONITORING/><USER_TEMPLATE>");
    let mut attrs: Vec<(&str, &TemplateValue)> = vm.user_template.iter().collect();
    attrs.sort_by(|a, b| a.0.cmp(b.0));
    for (name, value) in attrs {
        match value {
            TemplateValue::Single(s) => cdata(&mut out, name, s),
            TemplateValue::Vector(v) => {
                let pairs: Vec<(String, String)> = v
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                render_pairs(&mut out, name, &pairs);
            }
        }
    }
    out.push_str("</USER_TEMPLATE></VM>");
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn param_str(params: Option<&serde_json::Value>) -> Option<String> {
    match params? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl OneGateBackend for MemoryBackend {
    fn vm_xml(&self, id: i32) -> Option<String> {
        let mem = self.lock();
        mem.vms.get(&id).map(|vm| render_vm(id, vm))
    }

    fn vm_token(&self, id: i32) -> Option<String> {
        self.lock().vms.get(&id)?.token.clone()
    }

    fn vnet_xml(&self, id: i32) -> Option<String> {
        self.lock().vnets.get(&id).cloned()
    }

    fn update_user_template(&self, id: i32, text: &str, append: bool) -> Result<(), String> {
        let parsed =
            upper(Template::parse_text(text).map_err(|e| format!("Error parsing template: {e}"))?);
        let mut mem = self.lock();
        let vm = mem
            .vms
            .get_mut(&id)
            .ok_or_else(|| format!("Error getting virtual machine [{id}]."))?;
        if append {
            let names: Vec<String> = parsed.iter().map(|(n, _)| n.to_owned()).collect();
            for n in &names {
                vm.user_template.remove(n);
            }
            vm.user_template.extend(parsed);
        } else {
            vm.user_template = parsed;
        }
        Ok(())
    }

    fn remove_user_attr(&self, id: i32, name: &str) -> Result<(), String> {
        let mut mem = self.lock();
        let vm = mem
            .vms
            .get_mut(&id)
            .ok_or_else(|| format!("Error getting virtual machine [{id}]."))?;
        vm.user_template.remove(name);
        Ok(())
    }

    fn vm_action(
        &self,
        id: i32,
        action: &str,
        params: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        let mut mem = self.lock();
        let vm = mem
            .vms
            .get_mut(&id)
            .ok_or_else(|| format!("Error getting virtual machine [{id}]."))?;
        let running = vm.state == 3 && vm.lcm_state == 3;
        let wrong_state = || format!("Wrong state to perform action {action}");
        match action {
            "rename" => {
                let name = param_str(params).filter(|n| !n.trim().is_empty());
                vm.name = name.ok_or("Invalid name: cannot be empty")?;
            }
            "resched" | "unresched" => {
                if !running {
                    return Err(wrong_state());
                }
                vm.resched = i32::from(action == "resched");
            }
            "reboot" => {
                if !running {
                    return Err(wrong_state());
                }
            }
            "poweroff" | "suspend" | "stop" | "undeploy" => {
                if !running {
                    return Err(wrong_state());
                }
                vm.state = match action {
                    "poweroff" => 8,
                    "suspend" => 5,
                    "stop" => 4,
                    _ => 9,
                };
                vm.lcm_state = 0;
            }
            "resume" => {
                if !matches!(vm.state, 4 | 5 | 8 | 9) {
                    return Err(wrong_state());
                }
                vm.state = 3;
                vm.lcm_state = 3;
            }
            "terminate" | "delete" | "shutdown" => {
                vm.state = 6;
                vm.lcm_state = 0;
            }
            "hold" | "release" => return Err(wrong_state()),
            other => return Err(format!("{other} action not available for this resource")),
        }
        Ok(())
    }

    fn instantiate_like(&self, template_vm: i32, name: &str) -> Result<i32, String> {
        let mut mem = self.lock();
        let mut vm = mem
            .vms
            .get(&template_vm)
            .cloned()
            .ok_or_else(|| format!("Error getting virtual machine [{template_vm}]."))?;
        vm.name = name.to_owned();
        vm.token = vm.token.as_ref().map(|_| new_token());
        vm.state = 3;
        vm.lcm_state = 3;
        let id = mem.next_vm;
        mem.next_vm += 1;
        mem.vms.insert(id, vm);
        Ok(id)
    }
}
