//! The method handlers, one module per resource family, and what they share.
//!
//! Layering: [`super::super::state`], [`super::super::tmpl`] and [`super::super::render`] are the bottom (data
//! and documents; they import no handler); the modules here are on top of them; the
//! dispatch table ([`super::dispatch`]) is on top of the handlers and maps every method of
//! oned's catalogue to one handler function. Adding a method = one function in the family's
//! module and one row in the table.

pub(crate) mod acl;
pub(crate) mod backupjob;
pub(crate) mod cluster;
pub(crate) mod federation;
pub(crate) mod group;
pub(crate) mod hook;
pub(crate) mod host;
pub(crate) mod market;
pub(crate) mod misc;
pub(crate) mod objects;
pub(crate) mod quota;
pub(crate) mod sched;
pub(crate) mod showback;
pub(crate) mod system;
pub(crate) mod user;
pub(crate) mod vdc;
pub(crate) mod vm;
pub(crate) mod vm_ops;
pub(crate) mod vm_template;
pub(crate) mod zone;

/// What every handler module uses: the bottom layers' types and the shared helpers.
pub(crate) mod prelude {
    pub(crate) use super::super::methods::Args;
    pub(crate) use super::super::render;
    pub(crate) use super::super::state::*;
    pub(crate) use super::super::tmpl::{AttrValue, Tmpl};
    pub(crate) use super::super::xmlrpc::Ret;
    pub(crate) use super::{Call, Ctx, VERSION, filtered, kind_of, not_implemented, update_tmpl};
    pub(crate) use std::collections::{BTreeMap, BTreeSet};
}

use super::methods::Args;
use super::state::{Caller, Kind, Obj, Op, R, RpcError, State, code};
use super::tmpl::Tmpl;
use super::xmlrpc::Ret;

/// oned's version string.
pub(crate) const VERSION: &str = "7.5.80";

/// Settings the handlers need.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) delays: super::Delays,
}

/// One authenticated call, as a handler sees it.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// Simulator settings.
    pub(crate) ctx: &'a Ctx,
    /// Who calls.
    pub(crate) c: Caller,
    /// The full method name (`one.vm.info`).
    pub(crate) method: &'a str,
    /// The namespace (`vm`, `vmpool`, ...).
    pub(crate) ns: &'a str,
    /// The operation (`info`, `allocate`, ...).
    pub(crate) op: &'a str,
    /// The checked parameters (session left out).
    pub(crate) a: &'a Args,
}

impl<'a> Call<'a> {
    /// A call of `method` by `c`.
    pub(crate) fn new(ctx: &'a Ctx, c: Caller, method: &'a str, a: &'a Args) -> Self {
        let (ns, op) = split(method);
        Self {
            ctx,
            c,
            method,
            ns,
            op,
            a,
        }
    }
}

/// A method handler: served under the read lock or the write lock.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    /// Reads the state only.
    Read(fn(&State, &Call<'_>) -> R<Ret>),
    /// May change the state.
    Write(fn(&mut State, &Call<'_>) -> R<Ret>),
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Handler::Read(_) => "Read",
            Handler::Write(_) => "Write",
        })
    }
}

/// The object kind of a namespace served by the generic handlers.
pub(crate) fn kind_of(ns: &str) -> Option<Kind> {
    Some(match ns {
        "vm" | "vmpool" => Kind::Vm,
        "template" | "templatepool" => Kind::Template,
        "vn" | "vnpool" => Kind::Vnet,
        "image" | "imagepool" => Kind::Image,
        "datastore" | "datastorepool" => Kind::Datastore,
        "secgroup" | "secgrouppool" => Kind::SecGroup,
        "vmgroup" | "vmgrouppool" => Kind::VmGroup,
        "document" | "documentpool" => Kind::Document,
        "vntemplate" | "vntemplatepool" => Kind::VnTemplate,
        "vrouter" | "vrouterpool" => Kind::Vrouter,
        "market" | "marketpool" => Kind::Market,
        "marketapp" | "marketapppool" => Kind::MarketApp,
        "backupjob" | "backupjobpool" => Kind::BackupJob,
        "hook" | "hookpool" => Kind::Hook,
        _ => return None,
    })
}

/// `one.vm.info` -> (`vm`, `info`).
pub(crate) fn split(method: &str) -> (&str, &str) {
    let rest = method.strip_prefix("one.").unwrap_or(method);
    rest.split_once('.').unwrap_or((rest, ""))
}

/// RPC_API error for a method the simulator does not implement.
pub(crate) fn not_implemented(method: &str) -> RpcError {
    RpcError::new(
        code::RPC_API,
        format!("{method} is not implemented by the nebulair OpenNebula simulator"),
    )
}

/// Pool filtering: filter flag, id range or pagination, VM state; newest first.
pub(crate) fn filtered<'s>(
    s: &'s State,
    c: &Caller,
    kind: Kind,
    flag: i32,
    start: i32,
    end: i32,
    vm_state: i32,
) -> R<Vec<&'s Obj>> {
    if flag < -4 {
        return Err(RpcError::new(code::RPC_API, "Incorrect filter_flag."));
    }
    let objs = &s.pool(kind).objs;
    let matches = |o: &&Obj| -> bool {
        let m = &o.meta;
        let own = match flag {
            -4 => m.gid == c.gid && s.can(c, Op::Use, kind, m),
            -3 => m.uid == c.uid,
            -2 => s.can(c, Op::Use, kind, m),
            -1 => m.uid == c.uid || (c.groups.contains(&m.gid) && s.can(c, Op::Use, kind, m)),
            uid => m.uid == uid && s.can(c, Op::Use, kind, m),
        };
        if !own {
            return false;
        }
        if let Some(v) = o.vm() {
            match vm_state {
                -2 => {}
                -1 => {
                    if v.state == 6 {
                        return false;
                    }
                }
                st => {
                    if v.state != st {
                        return false;
                    }
                }
            }
        }
        true
    };
    if end < -1 {
        let offset = start.max(0) as usize;
        let limit = (-(end as i64)) as usize;
        Ok(objs
            .values()
            .rev()
            .filter(matches)
            .skip(offset)
            .take(limit)
            .collect())
    } else {
        let lo = if start < 0 { i32::MIN } else { start };
        let hi = if end == -1 { i32::MAX } else { end };
        if lo > hi {
            return Ok(Vec::new());
        }
        Ok(objs
            .range(lo..=hi)
            .rev()
            .map(|(_, o)| o)
            .filter(matches)
            .collect())
    }
}

/// `update` semantics: 0 replace, 1 merge.
pub(crate) fn update_tmpl(t: &mut Tmpl, text: &str, append: i32) -> R<()> {
    let new = Tmpl::parse(text).map_err(RpcError::internal)?;
    if append == 1 {
        t.merge(&new);
    } else {
        *t = new;
    }
    Ok(())
}
