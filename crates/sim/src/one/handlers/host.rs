//! `one.host.*` and `one.hostpool.*`.

use super::prelude::*;

fn host_monitoring(s: &State, hs: &[&Host]) -> String {
    let mut out = String::from("<MONITORING_DATA>");
    let t = now();
    for h in hs {
        if h.state == 0 || h.monitored_at > t {
            continue;
        }
        let (_, cpu, mem) = render::host_usage(s, h.id);
        out.push_str("<MONITORING>");
        render::el(&mut out, "TIMESTAMP", t);
        render::el(&mut out, "ID", h.id);
        out.push_str("<CAPACITY>");
        super::super::tmpl::cdata_elem(&mut out, "FREE_CPU", &(h.total_cpu - cpu).to_string());
        super::super::tmpl::cdata_elem(&mut out, "FREE_MEMORY", &(h.total_mem - mem).to_string());
        super::super::tmpl::cdata_elem(&mut out, "USED_CPU", &cpu.to_string());
        super::super::tmpl::cdata_elem(&mut out, "USED_MEMORY", &mem.to_string());
        out.push_str("</CAPACITY><SYSTEM>");
        super::super::tmpl::cdata_elem(&mut out, "NETRX", "0");
        super::super::tmpl::cdata_elem(&mut out, "NETTX", "0");
        out.push_str("</SYSTEM>");
        super::super::dummy_probe::render_monitoring_numa(&mut out, mem);
        out.push_str("</MONITORING>");
    }
    out.push_str("</MONITORING_DATA>");
    out
}

fn host_write(s: &mut State, ctx: &Ctx, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    if op == "allocate" {
        if !c.admin {
            let cid = if a.int(3) < 0 { 0 } else { a.int(3) };
            return Err(RpcError::new(
                code::AUTHORIZATION,
                format!(
                    "User [{}] : Not authorized to perform CREATE HOST; Not authorized to perform ADMIN CLUSTER [{cid}].",
                    c.uid
                ),
            ));
        }
        let name = a.str(0);
        check_name(name)?;
        if let Some(h) = s.hosts.values().find(|h| h.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by HOST {}.",
                h.id
            )));
        }
        let cid = if a.int(3) < 0 { 0 } else { a.int(3) };
        if !s.clusters.contains_key(&cid) {
            return Err(no_exists("cluster", cid));
        }
        let id = s.next_host;
        s.next_host += 1;
        let mut t = Tmpl::new();
        t.set("IM_MAD", a.str(1));
        t.set("VM_MAD", a.str(2));
        t.set("RESERVED_CPU", "");
        t.set("RESERVED_MEM", "");
        s.hosts.insert(
            id,
            Host {
                id,
                name: name.to_owned(),
                state: 0,
                prev_state: 0,
                im_mad: a.str(1).to_owned(),
                vm_mad: a.str(2).to_owned(),
                cluster_id: cid,
                template: t,
                total_cpu: 800,
                total_mem: 16 * 1024 * 1024,
                monitored_at: now() + ctx.delays.monitor.as_secs() as i64,
            },
        );
        return Ok(Ret::Int(id));
    }
    let id = a.int(0);
    if !s.hosts.contains_key(&id) {
        return Err(no_exists("host", id));
    }
    if !c.admin {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform MANAGE HOST [{id}].",
                c.uid
            ),
        ));
    }
    match op {
        "delete" => {
            let (vms, _, _) = render::host_usage(s, id);
            if !vms.is_empty() {
                return Err(RpcError::action("Can not remove a host with running VMs"));
            }
            s.hosts.remove(&id);
        }
        "update" => {
            if let Some(h) = s.hosts.get_mut(&id) {
                update_tmpl(&mut h.template, a.str(1), a.int(2))?;
            }
        }
        "rename" => {
            check_name(a.str(1))?;
            if let Some(h) = s.hosts.get_mut(&id) {
                h.name = a.str(1).to_owned();
            }
        }
        "status" => {
            let st = a.int(1);
            let h = s.hosts.get_mut(&id).ok_or_else(|| no_exists("host", id))?;
            let new = match st {
                0 => 2,
                1 => 4,
                2 => 8,
                _ => return Err(RpcError::new(code::RPC_API, "Wrong status code")),
            };
            h.prev_state = h.state;
            h.state = if new == 2 && h.monitored_at > now() {
                0
            } else {
                new
            };
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

/// `one.host.info`, `one.hostpool.info` and the monitoring calls.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (a, method) = (k.a, k.method);
    match (k.ns, k.op) {
        ("host", "info") => {
            let h = s
                .hosts
                .get(&a.int(0))
                .ok_or_else(|| no_exists("host", a.int(0)))?;
            let mut out = String::new();
            render::host(&mut out, s, h, true);
            Ok(Ret::Str(out))
        }
        ("hostpool", "info") => {
            let mut out = String::from("<HOST_POOL>");
            for h in s.hosts.values().rev() {
                render::host(&mut out, s, h, false);
            }
            out.push_str("</HOST_POOL>");
            Ok(Ret::Str(out))
        }
        ("host", "monitoring") => {
            let h = s
                .hosts
                .get(&a.int(0))
                .ok_or_else(|| no_exists("host", a.int(0)))?;
            Ok(Ret::Str(host_monitoring(s, &[h])))
        }
        ("hostpool", "monitoring") => {
            let hs: Vec<&Host> = s.hosts.values().collect();
            Ok(Ret::Str(host_monitoring(s, &hs)))
        }
        _ => Err(not_implemented(method)),
    }
}

/// The `one.host.*` calls that change state.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    host_write(s, k.ctx, &k.c, k.op, k.a, k.method)
}
