//! Hooks (`one.hook.*`, `one.hookpool.info`, `one.hooklog.info`). The command of a hook is
//! never run: an execution is recorded in the hook's HOOKLOG with exit code 0, or with the
//! code the hook's template asks for in `SIM_EXIT_CODE` (the simulator's own attribute).
//! `api` hooks fire after every successful call of their `CALL`; `state` hooks fire when a
//! VM (`RESOURCE = VM`, `STATE` and `LCM_STATE`) or a host (`RESOURCE = HOST`, `STATE`)
//! enters the given state; `one.hook.retry` records the execution again, marked RETRY.

use super::objects::obj_write;
use super::prelude::*;

/// The `one.hook.*` calls that change state.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    match k.op {
        "allocate" => {
            s.require_admin(c, Op::Admin, "HOOK", -1).map_err(|_| {
                RpcError::new(
                    code::AUTHORIZATION,
                    format!("User [{}] : Not authorized to perform CREATE HOOK.", c.uid),
                )
            })?;
            let mut t = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
            let name = t
                .get("NAME")
                .map(str::to_owned)
                .ok_or_else(|| RpcError::internal("No NAME in template for Hook."))?;
            check_name(&name)?;
            let ty = t.get("TYPE").unwrap_or("").to_ascii_lowercase();
            if ty != "api" && ty != "state" {
                return Err(RpcError::internal("Error creating hook: Invalid hook type"));
            }
            if t.get("COMMAND").is_none() {
                return Err(RpcError::internal(
                    "Error creating hook: Hook COMMAND is not defined",
                ));
            }
            if ty == "api" {
                let call = t.get("CALL").unwrap_or("");
                if call.is_empty() {
                    return Err(RpcError::internal(
                        "Error creating hook: API hooks require a CALL attribute",
                    ));
                }
                if super::super::dispatch::lookup(call).is_none() {
                    return Err(RpcError::internal(format!(
                        "Error creating hook: API call does not exist: {call}"
                    )));
                }
            } else {
                let res = t.get("RESOURCE").unwrap_or("").to_ascii_uppercase();
                if !matches!(res.as_str(), "VM" | "HOST" | "IMAGE") {
                    return Err(RpcError::internal(
                        "Error creating hook: Invalid or unknown RESOURCE",
                    ));
                }
                if t.get("STATE").is_none() {
                    return Err(RpcError::internal(
                        "Error creating hook: Missing STATE attribute",
                    ));
                }
            }
            if let Some(other) = s
                .pool(Kind::Hook)
                .objs
                .values()
                .find(|o| o.meta.name == name)
            {
                return Err(RpcError::internal(format!(
                    "NAME is already taken by HOOK {}.",
                    other.meta.id
                )));
            }
            t.remove("NAME");
            t.remove("TYPE");
            if t.get("REMOTE").is_none() {
                t.set("REMOTE", "NO");
            }
            let meta = s.new_meta(Kind::Hook, c, name);
            let id = meta.id;
            s.pool_mut(Kind::Hook).objs.insert(
                id,
                Obj {
                    meta,
                    template: t,
                    extra: Extra::Hook(HookData {
                        hook_type: ty,
                        log: Vec::new(),
                        next_exec: 0,
                    }),
                },
            );
            Ok(Ret::Int(id))
        }
        "retry" => {
            let (id, exec) = (a.int(0), a.int(1));
            s.require_admin(c, Op::Manage, "HOOK", id)?;
            let o = s.get_mut(Kind::Hook, id)?;
            let Extra::Hook(h) = &mut o.extra else {
                return Err(no_exists("hook", id));
            };
            let Some(prev) = h.log.iter().find(|r| r.exec_id == exec).cloned() else {
                return Err(RpcError::internal(format!(
                    "Error retrying the hook execution {exec}: not found"
                )));
            };
            let exec_id = h.next_exec;
            h.next_exec += 1;
            h.log.push(HookExec {
                exec_id,
                timestamp: now(),
                retry: true,
                ..prev
            });
            Ok(Ret::Int(id))
        }
        op => {
            if matches!(op, "update" | "rename" | "delete" | "lock" | "unlock") {
                s.require_admin(c, Op::Manage, "HOOK", a.int(0))?;
            }
            obj_write(s, k.ctx, c, Kind::Hook, op, a, k.method)
        }
    }
}

/// `one.hooklog.info(min_ts, max_ts, hook_id, rc)`: rc 1 successes only, -1 failures only,
/// 0 both; hook_id -1 every hook; max_ts 0 or less no upper bound.
pub(crate) fn log_read(s: &State, k: &Call<'_>) -> R<Ret> {
    let a = k.a;
    s.require_admin(&k.c, Op::Manage, "HOOK", a.int(2))?;
    let (min, max, hid, rc) = (a.int(0), a.int(1), a.int(2), a.int(3));
    let mut recs: Vec<&HookExec> = s
        .pool(Kind::Hook)
        .objs
        .values()
        .filter(|o| hid < 0 || o.meta.id == hid)
        .filter_map(|o| match &o.extra {
            Extra::Hook(h) => Some(h.log.iter()),
            _ => None,
        })
        .flatten()
        .filter(|r| i64::from(min) <= r.timestamp && (max <= 0 || r.timestamp <= i64::from(max)))
        .filter(|r| match rc {
            1 => r.code == 0,
            -1 => r.code != 0,
            _ => true,
        })
        .collect();
    recs.sort_by_key(|r| (r.hook_id, r.exec_id));
    let mut out = String::new();
    render::hook_log(&mut out, recs.into_iter());
    Ok(Ret::Str(out))
}

fn record(s: &mut State, hook: i32, arguments: String) {
    let Ok(o) = s.get_mut(Kind::Hook, hook) else {
        return;
    };
    let command = o.template.get("COMMAND").unwrap_or("").to_owned();
    let code: i32 = o
        .template
        .get("SIM_EXIT_CODE")
        .and_then(|x| x.trim().parse().ok())
        .unwrap_or(0);
    let args = o.template.get("ARGUMENTS").map(str::to_owned);
    if let Extra::Hook(h) = &mut o.extra {
        let exec_id = h.next_exec;
        h.next_exec += 1;
        h.log.push(HookExec {
            hook_id: hook,
            exec_id,
            timestamp: now(),
            command,
            arguments: args.unwrap_or(arguments),
            code,
            stdout: String::new(),
            stderr: if code == 0 {
                String::new()
            } else {
                format!("exit code {code}")
            },
            retry: false,
        });
    }
}

/// Whether an `api` hook watches `method`.
pub(crate) fn has_api_hook(s: &State, method: &str) -> bool {
    s.pool(Kind::Hook).objs.values().any(|o| {
        matches!(&o.extra, Extra::Hook(h) if h.hook_type == "api")
            && o.template.get("CALL") == Some(method)
    })
}

/// Fire the `api` hooks of `method` (after a successful call).
pub(crate) fn fire_api(s: &mut State, method: &str) {
    let hooks: Vec<i32> = s
        .pool(Kind::Hook)
        .objs
        .values()
        .filter(|o| {
            matches!(&o.extra, Extra::Hook(h) if h.hook_type == "api")
                && o.template.get("CALL") == Some(method)
        })
        .map(|o| o.meta.id)
        .collect();
    for h in hooks {
        record(s, h, String::new());
    }
}

/// Fire the `state` hooks whose VM or host state was entered since the last look.
pub(crate) fn fire_state(s: &mut State) {
    let has_state_hooks = s
        .pool(Kind::Hook)
        .objs
        .values()
        .any(|o| matches!(&o.extra, Extra::Hook(h) if h.hook_type == "state"));
    let mut now_seen: BTreeMap<String, (i32, i32)> = BTreeMap::new();
    for o in s.pool(Kind::Vm).objs.values() {
        if let Some(v) = o.vm() {
            now_seen.insert(format!("VM/{}", o.meta.id), (v.state, v.lcm_state));
        }
    }
    for h in s.hosts.values() {
        now_seen.insert(format!("HOST/{}", h.id), (h.state, 0));
    }
    if has_state_hooks {
        let mut fire: Vec<(i32, String)> = Vec::new();
        for (key, st) in &now_seen {
            if s.hook_seen.get(key) == Some(st) {
                continue;
            }
            let (res, id) = key.split_once('/').unwrap_or(("", ""));
            for o in s.pool(Kind::Hook).objs.values() {
                if !matches!(&o.extra, Extra::Hook(h) if h.hook_type == "state") {
                    continue;
                }
                let t = &o.template;
                if !t.get("RESOURCE").unwrap_or("").eq_ignore_ascii_case(res) {
                    continue;
                }
                let want_state = t.get("STATE").unwrap_or("");
                let matches = if res == "VM" {
                    use nebulair_opennebula::model::{LcmState, VmState};
                    let vm_name = VmState::from_code(i64::from(st.0)).name().unwrap_or("");
                    let lcm_name = LcmState::from_code(i64::from(st.1)).name().unwrap_or("");
                    vm_name == want_state
                        && (vm_name != "ACTIVE" || t.get("LCM_STATE").unwrap_or("") == lcm_name)
                } else {
                    host_state_name(st.0) == want_state
                };
                if matches {
                    fire.push((o.meta.id, format!("{res} {id}")));
                }
            }
        }
        for (h, args) in fire {
            record(s, h, args);
        }
    }
    s.hook_seen = now_seen;
}

fn host_state_name(s: i32) -> &'static str {
    match s {
        0 => "INIT",
        1 => "MONITORING_MONITORED",
        2 => "MONITORED",
        3 => "ERROR",
        4 => "DISABLED",
        5 => "MONITORING_ERROR",
        6 => "MONITORING_INIT",
        7 => "MONITORING_DISABLED",
        8 => "OFFLINE",
        _ => "UNKNOWN",
    }
}
