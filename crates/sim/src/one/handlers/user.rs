//! `one.user.*` and `one.userpool.info`.

use super::prelude::*;
use super::quota::apply_quota;

fn user_info(s: &State, c: &Caller, a: &Args) -> R<Ret> {
    let id = if a.int(0) == -1 { c.uid } else { a.int(0) };
    let u = s.users.get(&id).ok_or_else(|| no_exists("user", id))?;
    if !c.admin && id != c.uid {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform USE USER [{id}].",
                c.uid
            ),
        ));
    }
    let mut out = String::new();
    render::user(&mut out, s, u, true);
    Ok(Ret::Str(out))
}

fn new_token() -> String {
    let mut out = String::with_capacity(64);
    for _ in 0..4 {
        out.push_str(&format!("{:016x}", fastrand::u64(..)));
    }
    out
}

fn user_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    let id = a.int(0);
    let self_ok = matches!(op, "passwd" | "update" | "login") && (id == c.uid || op == "login");
    if op == "allocate" {
        s.require_admin(c, Op::Admin, "USER", -1).map_err(|_| {
            RpcError::new(
                code::AUTHORIZATION,
                format!("User [{}] : Not authorized to perform CREATE USER.", c.uid),
            )
        })?;
        let name = a.str(0);
        // oned ends the user-name message with a period (recording 008).
        check_name(name).map_err(|e| RpcError::internal(format!("{}.", e.msg)))?;
        if let Some(u) = s.users.values().find(|u| u.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by USER {}.",
                u.id
            )));
        }
        let groups = a.ints(3);
        let gid = groups.first().copied().unwrap_or(1);
        if !s.groups.contains_key(&gid) {
            return Err(no_exists("group", gid));
        }
        let uid = s.next_user;
        s.next_user += 1;
        let mut t = Tmpl::new();
        t.set("TOKEN_PASSWORD", sha256_hex(&new_token()));
        let driver = if a.str(2).is_empty() {
            "core"
        } else {
            a.str(2)
        };
        s.users.insert(
            uid,
            User {
                id: uid,
                gid,
                groups: groups.iter().copied().chain([gid]).collect(),
                name: name.to_owned(),
                password: sha256_hex(a.str(1)),
                auth_driver: driver.to_owned(),
                enabled: true,
                template: t,
                tokens: Vec::new(),
                quota: Tmpl::new(),
            },
        );
        return Ok(Ret::Int(uid));
    }
    if op == "login" {
        let name = a.str(0);
        let u = s
            .users
            .values_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| no_exists("user", -1))?;
        if !c.admin && u.id != c.uid {
            return Err(RpcError::new(
                code::AUTHORIZATION,
                format!(
                    "User [{}] : Not authorized to perform MANAGE USER [{}].",
                    c.uid, u.id
                ),
            ));
        }
        let valid = a.int(2);
        let egid = a.int(3);
        let token = a.str(1).to_owned();
        // UserAPI::login's checks, in its order and with its RPC_API texts
        if valid == 0 {
            if token.is_empty() {
                u.tokens.clear();
            } else if u.tokens.iter().any(|t| t.token == token) {
                u.tokens.retain(|t| t.token != token);
            } else {
                return Err(RpcError::new(
                    code::RPC_API,
                    format!("Could not find token: {token}"),
                ));
            }
            return Ok(Ret::Str(token));
        }
        if valid < -1 {
            return Err(RpcError::new(code::RPC_API, "Wrong valid period for token"));
        }
        if egid != -1 && !c.admin && (!u.groups.contains(&egid) || !c.groups.contains(&egid)) {
            return Err(RpcError::new(
                code::RPC_API,
                "EGID is not in user group list",
            ));
        }
        if egid == -1 && u.groups != c.groups {
            return Err(RpcError::new(
                code::RPC_API,
                "Cannot create a full token with a specific group token",
            ));
        }
        let token = if token.is_empty() { new_token() } else { token };
        let expiration = if valid < 0 {
            -1
        } else {
            now() + i64::from(valid)
        };
        u.tokens.retain(|t| t.token != token);
        u.tokens.push(super::super::state::LoginToken {
            token: token.clone(),
            expiration,
            egid,
        });
        return Ok(Ret::Str(token));
    }
    if !s.users.contains_key(&id) {
        return Err(no_exists("user", id));
    }
    if !c.admin && !self_ok {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform MANAGE USER [{id}].",
                c.uid
            ),
        ));
    }
    match op {
        "delete" => {
            if id == 0 {
                return Err(RpcError::internal("oneadmin cannot be deleted."));
            }
            s.users.remove(&id);
        }
        "passwd" => {
            if a.str(1).is_empty() {
                return Err(RpcError::internal("Invalid password, it cannot be empty"));
            }
            if let Some(u) = s.users.get_mut(&id) {
                u.password = sha256_hex(a.str(1));
            }
        }
        "update" => {
            if let Some(u) = s.users.get_mut(&id) {
                let keep = u.template.get("TOKEN_PASSWORD").map(str::to_owned);
                update_tmpl(&mut u.template, a.str(1), a.int(2))?;
                if let Some(k) = keep
                    && u.template.get("TOKEN_PASSWORD").is_none()
                {
                    u.template.set("TOKEN_PASSWORD", k);
                }
            }
        }
        "chgrp" | "addgroup" | "delgroup" => {
            let gid = a.int(1);
            if !s.groups.contains_key(&gid) {
                return Err(no_exists("group", gid));
            }
            if let Some(u) = s.users.get_mut(&id) {
                match op {
                    "chgrp" => {
                        u.groups.remove(&u.gid);
                        u.gid = gid;
                        u.groups.insert(gid);
                    }
                    "addgroup" => {
                        u.groups.insert(gid);
                    }
                    _ => {
                        if u.gid == gid {
                            return Err(RpcError::action(
                                "Cannot remove user from the primary group",
                            ));
                        }
                        u.groups.remove(&gid);
                    }
                }
            }
        }
        "quota" => {
            let q = Tmpl::parse(a.str(1)).map_err(RpcError::internal)?;
            if let Some(u) = s.users.get_mut(&id) {
                apply_quota(&mut u.quota, &q);
            }
        }
        "enable" => {
            if let Some(u) = s.users.get_mut(&id) {
                u.enabled = a.bool(1);
            }
        }
        "chauth" => {
            if let Some(u) = s.users.get_mut(&id) {
                if !a.str(1).is_empty() {
                    u.auth_driver = a.str(1).to_owned();
                }
                if !a.str(2).is_empty() {
                    u.password = sha256_hex(a.str(2));
                }
            }
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

/// `one.user.info` and `one.userpool.info`.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (c, a, method) = (&k.c, k.a, k.method);
    match (k.ns, k.op) {
        ("user", "info") => user_info(s, c, a),
        ("userpool", "info") => {
            let mut users: Vec<&User> = s
                .users
                .values()
                .filter(|u| c.admin || u.id == c.uid)
                .collect();
            users.reverse();
            let mut out = String::new();
            render::user_pool(&mut out, s, &users);
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// The `one.user.*` calls that change state.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    user_write(s, &k.c, k.op, k.a, k.method)
}
