//! `one.acl.*`.

use super::prelude::*;

fn parse_acl_part(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn acl_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    s.require_admin(c, Op::Admin, "ACL", -1)?;
    match op {
        "addrule" => {
            let user = parse_acl_part(a.str(0)).unwrap_or(0);
            let resource = parse_acl_part(a.str(1)).unwrap_or(0);
            let rights = parse_acl_part(a.str(2)).unwrap_or(0);
            let zone = if a.str(3).is_empty() {
                acl::INDIVIDUAL
            } else {
                parse_acl_part(a.str(3)).unwrap_or(0)
            };
            let rule = AclRule {
                id: -1,
                user,
                resource,
                rights,
                zone,
            };
            let mut errs = Vec::new();
            if user & (acl::INDIVIDUAL | acl::GROUP | acl::ALL) == 0 {
                errs.push("[user] is missing one of the INDIVIDUAL, GROUP or ALL bits");
            }
            if resource & (acl::INDIVIDUAL | acl::GROUP | acl::ALL | acl::CLUSTER) == 0 {
                errs.push(
                    "[resource] is missing one of the INDIVIDUAL, GROUP, CLUSTER or ALL bits",
                );
            }
            if resource & !0xF_FFFF_FFFFu64 == 0 {
                errs.push("[resource] type is missing");
            }
            if rights == 0 || rights > 0xF {
                errs.push("wrong [rights], it cannot be bigger than 0xF");
            }
            if !errs.is_empty() {
                return Err(RpcError::internal(format!(
                    "Rule {} is malformed: {}",
                    rule.to_str(),
                    errs.join("; ")
                )));
            }
            if s.acls.values().any(|r| {
                r.user == user && r.resource == resource && r.rights == rights && r.zone == zone
            }) {
                return Err(RpcError::internal(format!(
                    "Rule {} already exists",
                    rule.to_str()
                )));
            }
            let id = s.next_acl;
            s.next_acl += 1;
            s.acls.insert(id, AclRule { id, ..rule });
            Ok(Ret::Int(id))
        }
        "delrule" => {
            let id = a.int(0);
            if s.acls.remove(&id).is_none() {
                return Err(RpcError::internal(format!("Rule {id} does not exist")));
            }
            Ok(Ret::Int(id))
        }
        _ => Err(not_implemented(method)),
    }
}

/// `one.acl.info`.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let method = k.method;
    match (k.ns, k.op) {
        ("acl", "info") => {
            let mut out = String::new();
            render::acl_pool(&mut out, s);
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// `one.acl.addrule` and `one.acl.delrule`.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    acl_write(s, &k.c, k.op, k.a, k.method)
}
