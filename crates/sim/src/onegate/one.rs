//! The OneGate simulator on the oned simulator's state.

use std::fmt;
use std::sync::Arc;

use super::OneGateBackend;
use crate::one::OneState;

type RpcFn = dyn Fn(&[u8]) -> String + Send + Sync;

/// [`OneGateBackend`] over the oned simulator ([`OneState`]): VMs, tokens, user templates
/// and actions are those `one.vm.info` and `one.vm.update` see.
///
/// [`OneState`] has no call for renaming, deploying or instantiating; give the backend
/// an XML-RPC entry point and a session ([`OneSimBackend::with_rpc`], e.g.
/// `OneSimHandle::call_raw`) and those go through XML-RPC as the VM owner would send them.
pub struct OneSimBackend {
    state: OneState,
    rpc: Option<(String, Arc<RpcFn>)>,
}

impl fmt::Debug for OneSimBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneSimBackend")
            .field("rpc", &self.rpc.is_some())
            .finish_non_exhaustive()
    }
}

impl OneSimBackend {
    /// A backend on `state` (from `OneSimHandle::state`).
    pub fn new(state: OneState) -> Self {
        OneSimBackend { state, rpc: None }
    }

    /// Sends the calls [`OneState`] lacks (`one.vm.rename`, `one.vm.deploy`,
    /// `one.template.instantiate`, ...) through `call` with `session`
    /// (`user:password`).
    pub fn with_rpc(
        mut self,
        session: impl Into<String>,
        call: impl Fn(&[u8]) -> String + Send + Sync + 'static,
    ) -> Self {
        self.rpc = Some((session.into(), Arc::new(call)));
        self
    }

    fn call(&self, method: &str, args: &[Arg<'_>]) -> Result<String, String> {
        let Some((session, call)) = &self.rpc else {
            return Err(format!(
                "{method} needs an XML-RPC entry point (OneSimBackend::with_rpc)"
            ));
        };
        let mut body =
            format!("<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>");
        push_param(&mut body, &Arg::Str(session));
        for a in args {
            push_param(&mut body, a);
        }
        body.push_str("</params></methodCall>");
        let answer = call(body.as_bytes());
        parse_answer(&answer)
    }
}

enum Arg<'a> {
    Str(&'a str),
    Int(i32),
    Bool(bool),
}

fn push_param(out: &mut String, a: &Arg<'_>) {
    out.push_str("<param><value>");
    match a {
        Arg::Str(s) => {
            out.push_str("<string>");
            out.push_str(
                &s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;"),
            );
            out.push_str("</string>");
        }
        Arg::Int(n) => out.push_str(&format!("<i4>{n}</i4>")),
        Arg::Bool(b) => out.push_str(&format!("<boolean>{}</boolean>", u8::from(*b))),
    }
    out.push_str("</value></param>");
}

/// The second value of an XML-RPC answer array: `Ok` with it when the first is true,
/// `Err` with the message otherwise.
fn parse_answer(answer: &str) -> Result<String, String> {
    let first_bool = answer
        .find("<boolean>")
        .and_then(|i| answer.get(i + 9..i + 10));
    let rest = answer
        .find("</boolean>")
        .map(|i| &answer[i + 10..])
        .unwrap_or_default();
    let value = ["<string>", "<i4>", "<int>"].iter().find_map(|open| {
        let start = rest.find(open)? + open.len();
        let close = open.replace('<', "</");
        let end = rest[start..].find(&close)? + start;
        Some(
            rest[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    });
    match first_bool {
        Some("1") => Ok(value.unwrap_or_default()),
        Some(_) => Err(value.unwrap_or_else(|| "oned refused the call".into())),
        None => Err(format!(
            "unexpected XML-RPC answer: {}",
            answer.chars().take(200).collect::<String>()
        )),
    }
}

fn param_text(params: Option<&serde_json::Value>) -> Option<String> {
    match params? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn is_true(params: Option<&serde_json::Value>) -> bool {
    match params {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl OneGateBackend for OneSimBackend {
    fn vm_xml(&self, id: i32) -> Option<String> {
        self.state.vm_xml(id).ok()
    }

    fn vm_token(&self, id: i32) -> Option<String> {
        self.state.vm_token(id)
    }

    fn vnet_xml(&self, id: i32) -> Option<String> {
        self.state.vnet_xml(id).ok()
    }

    fn vrouter_xml(&self, id: i32) -> Option<String> {
        self.state.vrouter_xml(id).ok()
    }

    fn update_user_template(&self, id: i32, text: &str, append: bool) -> Result<(), String> {
        self.state
            .update_user_template(id, text, append)
            .map_err(|e| e.to_string())
    }

    fn remove_user_attr(&self, id: i32, name: &str) -> Result<(), String> {
        self.state
            .remove_user_attribute(id, name)
            .map_err(|e| e.to_string())
    }

    fn vm_action(
        &self,
        id: i32,
        action: &str,
        params: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        let hard = is_true(params);
        let simple = |name: &str| {
            self.state
                .vm_action(id, name)
                .map_err(|e| e.message().to_owned())
        };
        match action {
            "terminate" | "poweroff" | "reboot" | "undeploy" if hard => {
                simple(&format!("{action}-hard"))
            }
            "terminate" | "poweroff" | "reboot" | "undeploy" | "hold" | "release" | "stop"
            | "suspend" | "resume" | "resched" | "unresched" => simple(action),
            "rename" => {
                let name = param_text(params).unwrap_or_default();
                self.call("one.vm.rename", &[Arg::Int(id), Arg::Str(&name)])
                    .map(drop)
            }
            "deploy" => {
                let host = param_text(params)
                    .and_then(|h| h.trim().parse::<i32>().ok())
                    .ok_or("deploy needs a host id")?;
                self.call(
                    "one.vm.deploy",
                    &[Arg::Int(id), Arg::Int(host), Arg::Bool(false), Arg::Int(-1)],
                )
                .map(drop)
            }
            "chmod" | "chown" | "resize" | "attachdisk" | "detachdisk" | "attachnic"
            | "detachnic" | "saveas" | "snapshot_create" | "snapshot_revert"
            | "snapshot_delete" | "migrate" | "livemigrate" | "recover" => Err(format!(
                "the OneGate simulator does not run {action} on the oned simulator"
            )),
            other => Err(format!("{other} action not available for this resource")),
        }
    }

    fn instantiate_like(&self, template_vm: i32, name: &str) -> Result<i32, String> {
        let xml = self.state.vm_xml(template_vm).map_err(|e| e.to_string())?;
        let template_id = xml
            .find("<TEMPLATE_ID>")
            .and_then(|i| {
                let rest = &xml[i + 13..];
                let end = rest.find("</TEMPLATE_ID>")?;
                Some(
                    rest[..end]
                        .trim_start_matches("<![CDATA[")
                        .trim_end_matches("]]>")
                        .to_owned(),
                )
            })
            .and_then(|t| t.trim().parse::<i32>().ok())
            .ok_or("the VM was not instantiated from a template")?;
        let ctx = if self.state.vm_token(template_vm).is_some() {
            "CONTEXT=[TOKEN=\"YES\"]"
        } else {
            ""
        };
        let id = self.call(
            "one.template.instantiate",
            &[
                Arg::Int(template_id),
                Arg::Str(name),
                Arg::Bool(false),
                Arg::Str(ctx),
                Arg::Bool(false),
            ],
        )?;
        id.trim()
            .parse()
            .map_err(|_| format!("unexpected VM id {id:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_xml_rpc_answers() {
        let ok = "<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value><i4>42</i4></value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>";
        assert_eq!(parse_answer(ok), Ok("42".into()));
        let err = "<methodResponse><params><param><value><array><data><value><boolean>0</boolean></value><value><string>[one.vm.rename] bad &amp; wrong</string></value><value><i4>2048</i4></value></data></array></value></param></params></methodResponse>";
        assert_eq!(parse_answer(err), Err("[one.vm.rename] bad & wrong".into()));
        assert!(parse_answer("<fault/>").is_err());
    }
}
