//! `one.group.*` and `one.grouppool.info`.

use super::prelude::*;
use super::quota::apply_quota;

fn default_group_acls(s: &mut State, gid: i32) {
    for (res, rights) in [
        (acl::HOST | acl::ALL, acl::MANAGE),
        (acl::NET | acl::ALL, acl::USE),
        (acl::DATASTORE | acl::ALL, acl::USE),
    ] {
        let id = s.next_acl;
        s.next_acl += 1;
        s.acls.insert(
            id,
            AclRule {
                id,
                user: acl::GROUP | gid as u64,
                resource: res,
                rights,
                zone: acl::INDIVIDUAL,
            },
        );
    }
}

fn group_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    s.require_admin(
        c,
        Op::Admin,
        "GROUP",
        if op == "allocate" { -1 } else { a.int(0) },
    )?;
    if op == "allocate" {
        let name = a.str(0);
        check_name(name)?;
        if let Some(g) = s.groups.values().find(|g| g.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by GROUP {}.",
                g.id
            )));
        }
        let id = s.next_group;
        s.next_group += 1;
        s.groups.insert(
            id,
            Group {
                id,
                name: name.to_owned(),
                template: Tmpl::new(),
                admins: BTreeSet::new(),
                quota: Tmpl::new(),
                vlan_rules: Vec::new(),
            },
        );
        default_group_acls(s, id);
        return Ok(Ret::Int(id));
    }
    let id = a.int(0);
    if !s.groups.contains_key(&id) {
        return Err(no_exists("group", id));
    }
    match op {
        "delete" => {
            if id < 100 {
                return Err(RpcError::internal(
                    "System Groups (ID < 100) cannot be deleted.",
                ));
            }
            if s.users.values().any(|u| u.groups.contains(&id)) {
                return Err(RpcError::internal("Group has users. Cannot delete."));
            }
            s.groups.remove(&id);
            s.acls
                .retain(|_, r| !(r.user & acl::GROUP != 0 && (r.user & 0xFFFF_FFFF) as i32 == id));
        }
        "update" | "quota" | "addadmin" | "deladmin" => {
            let uid = a.int(1);
            if matches!(op, "addadmin" | "deladmin") && !s.users.contains_key(&uid) {
                return Err(no_exists("user", uid));
            }
            let g = s
                .groups
                .get_mut(&id)
                .ok_or_else(|| no_exists("group", id))?;
            match op {
                "update" => update_tmpl(&mut g.template, a.str(1), a.int(2))?,
                "quota" => apply_quota(
                    &mut g.quota,
                    &Tmpl::parse(a.str(1)).map_err(RpcError::internal)?,
                ),
                "addadmin" => {
                    g.admins.insert(uid);
                }
                _ => {
                    g.admins.remove(&uid);
                }
            }
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

/// `one.group.info` and `one.grouppool.info`.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (c, a, method) = (&k.c, k.a, k.method);
    match (k.ns, k.op) {
        ("group", "info") => {
            let id = if a.int(0) == -1 { c.gid } else { a.int(0) };
            let g = s.groups.get(&id).ok_or_else(|| no_exists("group", id))?;
            if !c.admin && !c.groups.contains(&id) {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!(
                        "User [{}] : Not authorized to perform USE GROUP [{id}].",
                        c.uid
                    ),
                ));
            }
            let mut out = String::new();
            render::group(&mut out, s, g);
            Ok(Ret::Str(out))
        }
        ("grouppool", "info") => {
            let gs: Vec<&Group> = s
                .groups
                .values()
                .rev()
                .filter(|g| c.admin || c.groups.contains(&g.id))
                .collect();
            let mut out = String::new();
            render::group_pool(&mut out, s, &gs);
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// The `one.group.*` calls that change state.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    group_write(s, &k.c, k.op, k.a, k.method)
}
