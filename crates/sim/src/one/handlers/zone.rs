//! `one.zone.*` and `one.zonepool.info` for a solo, non-federated oned.

use super::prelude::*;

/// `one.zone.info` and `one.zonepool.info`.
pub(crate) fn read(s: &State, k: &Call<'_>) -> R<Ret> {
    let (a, method) = (k.a, k.method);
    match (k.ns, k.op) {
        ("zone", "info") => {
            let z = s
                .zones
                .get(&a.int(0))
                .ok_or_else(|| no_exists("zone", a.int(0)))?;
            let mut out = String::new();
            render::zone(&mut out, z);
            Ok(Ret::Str(out))
        }
        ("zonepool", "info") => {
            let mut out = String::from("<ZONE_POOL>");
            for z in s.zones.values() {
                render::zone(&mut out, z);
            }
            out.push_str("</ZONE_POOL>");
            Ok(Ret::Str(out))
        }
        _ => Err(not_implemented(method)),
    }
}

/// `one.zone.update` and `one.zone.rename`.
pub(crate) fn write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a, op, method) = (&k.c, k.a, k.op, k.method);
    s.require_admin(c, Op::Admin, "ZONE", a.int(0))?;
    let z = s
        .zones
        .get_mut(&a.int(0))
        .ok_or_else(|| no_exists("zone", a.int(0)))?;
    match op {
        "update" => update_tmpl(&mut z.template, a.str(1), a.int(2))?,
        "rename" => {
            check_name(a.str(1))?;
            z.name = a.str(1).to_owned();
        }
        _ => return Err(not_implemented(method)),
    }
    Ok(Ret::Int(a.int(0)))
}
