//! `one.cluster.*` and `one.clusterpool.info`.

use super::prelude::*;

fn cluster_write(s: &mut State, c: &Caller, op: &str, a: &Args, method: &str) -> R<Ret> {
    s.require_admin(
        c,
        Op::Admin,
        "CLUSTER",
        if op == "allocate" { -1 } else { a.int(0) },
    )?;
    if op == "allocate" {
        let name = a.str(0);
        check_name(name)?;
        if let Some(cl) = s.clusters.values().find(|x| x.name == name) {
            return Err(RpcError::internal(format!(
                "NAME is already taken by CLUSTER {}.",
                cl.id
            )));
        }
        let id = s.next_cluster;
        s.next_cluster += 1;
        let mut t = Tmpl::new();
        t.set("RESERVED_CPU", "");
        t.set("RESERVED_MEM", "");
        s.clusters.insert(
            id,
            Cluster {
                id,
                name: name.to_owned(),
                template: t,
                datastores: BTreeSet::new(),
                vnets: BTreeSet::new(),
            },
        );
        return Ok(Ret::Int(id));
    }
    let id = a.int(0);
    if !s.clusters.contains_key(&id) {
        return Err(no_exists("cluster", id));
    }
    let other = a.int(1);
    match op {
        "delete" => {
            let cl = &s.clusters[&id];
            if s.hosts.values().any(|h| h.cluster_id == id)
                || !cl.datastores.is_empty()
                || !cl.vnets.is_empty()
            {
                return Err(RpcError::internal(
                    "Cluster is not empty, it cannot be deleted.",
                ));
            }
            s.clusters.remove(&id);
        }
        "update" => {
            if let Some(cl) = s.clusters.get_mut(&id) {
                update_tmpl(&mut cl.template, a.str(1), a.int(2))?;
            }
        }
        "rename" => {
            check_name(a.str(1))?;
            if let Some(cl) = s.clusters.get_mut(&id) {
                cl.name = a.str(1).to_owned();
            }
        }
        "addhost" | "delhost" => {
            let h = s
                .hosts
                .get_mut(&other)
                .ok_or_else(|| no_exists("host", other))?;
            h.cluster_id = if op == "addhost" { id } else { 0 };
        }
        "adddatastore" | "deldatastore" => {
            let o = s.get_mut(Kind::Datastore, other)?;
            if let Extra::Datastore(d) = &mut o.extra {
                if op == "adddatastore" {
                    d.clusters.insert(id);
                } else {
                    d.clusters.remove(&id);
                }
            }
            if let Some(cl) = s.clusters.get_mut(&id) {
                if op == "adddatastore" {
                    cl.datastores.insert(other);
                } else {
                    cl.datastores.remove(&other);
                }
            }
        }
        "addvnet" | "delvnet" => {
            let o = s.get_mut(Kind::Vnet, other)?;
            if let Extra::Vnet(v) = &mut o.extra {
                if op == "addvnet" {
                    v.clusters.insert(id);
                } else {
                    v.clusters.remove(&id);
                }
            }
            if let Some(cl) = s.clusters.get_mut(&id) {
                if op == "addvnet" {
                    cl.vnets.insert(other);
                } else {
                    cl.vnets.remove(&other);
                }
            }
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(id))
}

/// `one.cluster.info` and `one.clusterpool.info`.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (a, method) = (k.a, k.method);
    match (k.ns, k.op) {
        ("cluster", "info") => {
            let cl = s
                .clusters
                .get(&a.int(0))
                .ok_or_else(|| no_exists("cluster", a.int(0)))?;
            let mut out = String::new();
            render::cluster(&mut out, s, cl);
            Ok(Ret::Str(out))
        }
        ("clusterpool", "info") => {
            let mut out = String::from("<CLUSTER_POOL>");
            for cl in s.clusters.values().rev() {
                render::cluster(&mut out, s, cl);
            }
            out.push_str("</CLUSTER_POOL>");
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// The `one.cluster.*` calls that change state.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    cluster_write(s, &k.c, k.op, k.a, k.method)
}
