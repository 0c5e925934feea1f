//! Default quotas (`one.userquota.*`, `one.groupquota.*`) and quota merging.

use super::prelude::*;

/// The root element of the default quotas of `userquota` or `groupquota`.
fn default_quota_root(ns: &str) -> &'static str {
    if ns == "userquota" {
        "DEFAULT_USER_QUOTAS"
    } else {
        "DEFAULT_GROUP_QUOTAS"
    }
}

/// Merge quota vectors, filling the `_USED` counters and -1 (DEFAULT) for the limits not
/// given, like oned.
pub(crate) fn apply_quota(q: &mut Tmpl, new: &Tmpl) {
    apply_quota_with(q, new, "-1");
}

/// [`apply_quota`] with `fill` for the limits not given: the default quotas take -2
/// (UNLIMITED), as a DEFAULT there would refer to themselves (recorded-sweep 210, 226).
fn apply_quota_with(q: &mut Tmpl, new: &Tmpl, fill: &str) {
    for a in new.attrs() {
        let AttrValue::Vector(items) = &a.value else {
            continue;
        };
        let mut v: Vec<(String, String)> = Vec::new();
        let keys: &[&str] = match a.name.as_str() {
            "VM" => &render::VM_METRICS,
            "DATASTORE" => &["ID", "IMAGES", "SIZE"],
            "NETWORK" => &["ID", "LEASES"],
            "IMAGE" => &["ID", "RVMS"],
            _ => continue,
        };
        for k in keys {
            let val = items
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, x)| x.clone())
                .unwrap_or_else(|| fill.to_owned());
            v.push(((*k).to_owned(), val));
            if *k != "ID" {
                v.push((format!("{k}_USED"), "0".into()));
            }
        }
        if a.name != "VM" {
            let id = items
                .iter()
                .find(|(n, _)| n == "ID")
                .map(|(_, x)| x.clone());
            let mut existing: Vec<AttrValue> = Vec::new();
            for old in q.vectors(&a.name) {
                if old.iter().find(|(n, _)| n == "ID").map(|(_, x)| x.clone()) != id {
                    existing.push(AttrValue::Vector(old.to_vec()));
                }
            }
            q.remove(&a.name);
            for e in existing {
                q.push(&a.name, e);
            }
        } else {
            q.remove("VM");
        }
        q.push(&a.name, AttrValue::Vector(v));
    }
}

/// `one.userquota.info` and `one.groupquota.info`.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let method = k.method;
    match (k.ns, k.op) {
        ("userquota", "info") | ("groupquota", "info") => {
            let mut out = String::new();
            render::default_quotas(&mut out, s, default_quota_root(k.ns));
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// `one.userquota.update` and `one.groupquota.update`.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a, ns) = (&k.c, k.a, k.ns);
    s.require_admin(c, Op::Admin, "USER", -1)?;
    let q = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
    let target = if ns == "userquota" {
        &mut s.default_user_quota
    } else {
        &mut s.default_group_quota
    };
    apply_quota_with(target, &q, "-2");
    let mut out = String::new();
    render::default_quotas(&mut out, s, default_quota_root(ns));
    Ok(Ret::Str(out))
}
