//! Marketplaces (`one.market.*`, `one.marketpool.info`) and marketplace apps
//! (`one.marketapp.*`, `one.marketapppool.info`), with no network access: an app made from
//! an image is "exported" by copying the image's size and format (the app is LOCKED for the
//! monitor delay, then READY); exporting an app back into a datastore is an
//! `one.image.allocate` whose PATH is the app's SOURCE, as the CLI does it.

use super::objects::obj_write;
use super::prelude::*;

/// Marketplace drivers that cannot create apps (the public, read-only catalogues).
fn read_only_mad(mad: &str) -> bool {
    matches!(
        mad,
        "one" | "linuxcontainers" | "dockerhub" | "turnkeylinux"
    )
}

/// The `one.market.*` calls that change state.
pub(crate) fn market_write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    match k.op {
        "allocate" => {
            s.require_admin(c, Op::Admin, "MARKETPLACE", -1)
                .map_err(|_| {
                    RpcError::new(
                        code::AUTHORIZATION,
                        format!(
                            "User [{}] : Not authorized to perform CREATE MARKETPLACE.",
                            c.uid
                        ),
                    )
                })?;
            let mut t = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
            let name = t
                .get("NAME")
                .map(str::to_owned)
                .ok_or_else(|| RpcError::internal("No NAME in template."))?;
            t.remove("NAME");
            check_name(&name)?;
            let Some(mad) = t.get("MARKET_MAD").map(str::to_owned) else {
                return Err(RpcError::internal("No MARKET_MAD in template."));
            };
            if let Some(other) = s
                .pool(Kind::Market)
                .objs
                .values()
                .find(|o| o.meta.name == name)
            {
                return Err(RpcError::internal(format!(
                    "NAME is already taken by MARKETPLACE {}.",
                    other.meta.id
                )));
            }
            let meta = s.new_meta(Kind::Market, c, name);
            let id = meta.id;
            s.pool_mut(Kind::Market).objs.insert(
                id,
                Obj {
                    meta,
                    template: t,
                    extra: Extra::Market { mad, state: 0 },
                },
            );
            Ok(Ret::Int(id))
        }
        "enable" => {
            let id = a.int(0);
            let o = s.get(Kind::Market, id)?;
            s.authorize(c, Op::Admin, Kind::Market, &o.meta, true)?;
            if let Extra::Market { state, .. } = &mut s.get_mut(Kind::Market, id)?.extra {
                *state = if a.bool(1) { 0 } else { 1 };
            }
            Ok(Ret::Int(id))
        }
        "delete" => {
            let id = a.int(0);
            s.get(Kind::Market, id)?;
            if s.pool(Kind::MarketApp)
                .objs
                .values()
                .any(|o| matches!(&o.extra, Extra::MarketApp(x) if x.market_id == id))
            {
                return Err(RpcError::internal(
                    "Cannot delete marketplace, it still has apps",
                ));
            }
            obj_write(s, k.ctx, c, Kind::Market, "delete", a, k.method)
        }
        "updatedb" => db_update(s, c, Kind::Market, a),
        "allocatedb" => allocate_db(s, c, Kind::Market, a.str(0)),
        op => obj_write(s, k.ctx, c, Kind::Market, op, a, k.method),
    }
}

/// The `one.marketapp.*` calls that change state.
pub(crate) fn app_write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    match k.op {
        "allocate" => app_allocate(s, k),
        "enable" => {
            let id = a.int(0);
            let o = s.get(Kind::MarketApp, id)?;
            s.authorize(c, Op::Manage, Kind::MarketApp, &o.meta, true)?;
            if let Extra::MarketApp(m) = &mut s.get_mut(Kind::MarketApp, id)?.extra {
                let cur = render::marketapp_state(m);
                match (a.bool(1), cur) {
                    (true, 4) => m.state = 1,
                    (false, 1) => m.state = 4,
                    (true, 1) | (false, 4) => {}
                    _ => {
                        return Err(RpcError::internal(
                            "Marketplace app is not in an enabled or disabled state",
                        ));
                    }
                }
            }
            Ok(Ret::Int(id))
        }
        "updatedb" => db_update(s, c, Kind::MarketApp, a),
        "allocatedb" => allocate_db(s, c, Kind::MarketApp, a.str(0)),
        "dropdb" => {
            let id = a.int(0);
            s.get(Kind::MarketApp, id)?;
            s.require_admin(c, Op::Admin, "MARKETPLACEAPP", id)?;
            s.pool_mut(Kind::MarketApp).objs.remove(&id);
            Ok(Ret::Int(id))
        }
        op => obj_write(s, k.ctx, c, Kind::MarketApp, op, a, k.method),
    }
}

fn app_allocate(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    let market_id = a.int(1);
    let mut t = Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
    s.authorize_create(c, acl::MARKETPLACEAPP, "MARKETPLACEAPP")?;
    let market = s.get(Kind::Market, market_id)?;
    s.authorize(c, Op::Use, Kind::Market, &market.meta, false)?;
    let (mad, mstate) = match &market.extra {
        Extra::Market { mad, state } => (mad.clone(), *state),
        _ => (String::new(), 0),
    };
    if read_only_mad(&mad) {
        return Err(RpcError::internal(format!(
            "Create disabled for market: {}",
            market.meta.name
        )));
    }
    if mstate != 0 {
        return Err(RpcError::internal(format!(
            "Marketplace {} is disabled",
            market.meta.name
        )));
    }
    let name = t
        .get("NAME")
        .map(str::to_owned)
        .ok_or_else(|| RpcError::internal("No NAME in template."))?;
    check_name(&name)?;
    if let Some(other) = s.pool(Kind::MarketApp).objs.values().find(|o| {
        o.meta.name == name && matches!(&o.extra, Extra::MarketApp(x) if x.market_id == market_id)
    }) {
        return Err(RpcError::internal(format!(
            "NAME is already taken by MARKETPLACEAPP {}.",
            other.meta.id
        )));
    }
    let app_type = match t
        .get("TYPE")
        .unwrap_or("IMAGE")
        .to_ascii_uppercase()
        .as_str()
    {
        "IMAGE" => 1,
        "VMTEMPLATE" => 2,
        "SERVICE_TEMPLATE" => 3,
        other => {
            return Err(RpcError::internal(format!(
                "Unknown MarketPlaceApp type: {other}"
            )));
        }
    };
    let origin_id: i32 = t
        .get("ORIGIN_ID")
        .and_then(|x| x.trim().parse().ok())
        .unwrap_or(-1);
    let (size, format) = if app_type == 1 {
        let img = s.get(Kind::Image, origin_id)?;
        s.authorize(c, Op::Use, Kind::Image, &img.meta, false)?;
        match &img.extra {
            Extra::Image(i) => (i.size, i.format.clone()),
            _ => (0, String::new()),
        }
    } else {
        (0, String::new())
    };
    let description = t.get("DESCRIPTION").unwrap_or("").to_owned();
    let version = t.get("VERSION").unwrap_or("0.0").to_owned();
    let apptemplate64 = t.get("APPTEMPLATE64").unwrap_or("").to_owned();
    for key in [
        "NAME",
        "ORIGIN_ID",
        "DESCRIPTION",
        "VERSION",
        "APPTEMPLATE64",
    ] {
        t.remove(key);
    }
    let meta = s.new_meta(Kind::MarketApp, c, name);
    let id = meta.id;
    let base = s
        .get(Kind::Market, market_id)?
        .template
        .get("BASE_URL")
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned();
    s.pool_mut(Kind::MarketApp).objs.insert(
        id,
        Obj {
            meta,
            template: t,
            extra: Extra::MarketApp(MarketAppData {
                market_id,
                origin_id,
                state: 2,
                app_type,
                size,
                format,
                source: format!("{base}/{id}"),
                md5: format!("{:032x}", u128::from(fastrand::u64(..))),
                version,
                description,
                apptemplate64,
                ready_at: now() + k.ctx.delays.monitor.as_secs() as i64,
            }),
        },
    );
    Ok(Ret::Int(id))
}

/// `*.updatedb` of a solo oned: the object must exist; its XML body is checked and its
/// NAME taken over.
pub(crate) fn db_update(s: &mut State, c: &Caller, kind: Kind, a: &Args) -> R<Ret> {
    let id = a.int(0);
    s.get(kind, id)?;
    s.require_admin(c, Op::Admin, kind.acl_name(), id)?;
    let name = xml_field(a.str(1), "NAME")
        .ok_or_else(|| RpcError::internal("Error parsing the object XML"))?;
    s.get_mut(kind, id)?.meta.name = name;
    Ok(Ret::Int(id))
}

/// `*.allocatedb` of a solo oned: a new object from its XML (NAME and MARKET_MAD).
fn allocate_db(s: &mut State, c: &Caller, kind: Kind, xml: &str) -> R<Ret> {
    s.require_admin(c, Op::Admin, kind.acl_name(), -1)?;
    let name =
        xml_field(xml, "NAME").ok_or_else(|| RpcError::internal("Error parsing the object XML"))?;
    let extra = match kind {
        Kind::Market => Extra::Market {
            mad: xml_field(xml, "MARKET_MAD").unwrap_or_default(),
            state: 0,
        },
        _ => Extra::MarketApp(MarketAppData {
            market_id: xml_field(xml, "MARKETPLACE_ID")
                .and_then(|x| x.parse().ok())
                .unwrap_or(-1),
            origin_id: -1,
            state: 1,
            app_type: 1,
            size: 0,
            format: String::new(),
            source: String::new(),
            md5: String::new(),
            version: String::new(),
            description: String::new(),
            apptemplate64: String::new(),
            ready_at: 0,
        }),
    };
    let meta = s.new_meta(kind, c, name);
    let id = meta.id;
    s.pool_mut(kind).objs.insert(
        id,
        Obj {
            meta,
            template: Tmpl::new(),
            extra,
        },
    );
    Ok(Ret::Int(id))
}

/// The text of the first `<name>` element of `xml` (CDATA unwrapped).
fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let v = &xml[start..end];
    let v = v
        .strip_prefix("<![CDATA[")
        .and_then(|x| x.strip_suffix("]]>"))
        .unwrap_or(v);
    Some(v.to_owned())
}
