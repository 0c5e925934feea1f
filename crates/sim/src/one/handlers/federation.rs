//! Zones, raft and the federation internals as a solo, non-federated oned answers them:
//! new zones and servers can only be made at a federation master, raft reports a solo
//! server (SERVER_ID -1, STATE 0), the replication calls refuse, and `one.system.sql` /
//! `one.system.sqlquery` work on the simulator's own bookkeeping (`pool_control`).

use super::prelude::*;

/// oned's REPLICATION error code.
const REPLICATION: i32 = 0x10000;

/// The zone calls of this module that change state.
pub(crate) fn zone_write(s: &mut State, k: &Call<'_>) -> R<Ret> {
    let (c, a) = (&k.c, k.a);
    match k.op {
        "allocate" => {
            s.require_admin(c, Op::Admin, "ZONE", -1)?;
            Tmpl::parse(a.str(0)).map_err(RpcError::internal)?;
            Err(RpcError::new(
                0x4000,
                "Error allocating a new zone. New zones can only be created at federation master",
            ))
        }
        "delete" => {
            let id = a.int(0);
            s.require_admin(c, Op::Admin, "ZONE", id)?;
            if !s.zones.contains_key(&id) {
                return Err(no_exists("zone", id));
            }
            Err(RpcError::internal(
                "Zones can only be deleted at federation master",
            ))
        }
        "enable" => {
            s.require_admin(c, Op::Admin, "ZONE", a.int(0))?;
            Err(RpcError::action(
                "Enable/disable mode have to be set through the target zone endpoints",
            ))
        }
        "addserver" => {
            s.require_admin(c, Op::Admin, "ZONE", a.int(0))?;
            Err(RpcError::action(
                "Servers have to be added through the target zone endpoints",
            ))
        }
        "delserver" | "resetserver" => {
            s.require_admin(c, Op::Admin, "ZONE", a.int(0))?;
            Err(RpcError::action(
                "Servers have to be deleted through the target zone endpoints",
            ))
        }
        "updatedb" => {
            let id = a.int(0);
            s.require_admin(c, Op::Admin, "ZONE", id)?;
            if !s.zones.contains_key(&id) {
                return Err(no_exists("zone", id));
            }
            Ok(Ret::Int(id))
        }
        "replicate" => {
            if !c.admin {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!("User [{}] not authorized to perform action on zone.", c.uid),
                ));
            }
            Err(RpcError::internal("oned is not running in HA mode"))
        }
        "fedreplicate" => {
            if !c.admin {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!("User [{}] not authorized to perform action on zone.", c.uid),
                ));
            }
            let index = i64::from(a.int(0)).wrapping_sub(1) as u64;
            let sql = a.str(2);
            if sql.trim().is_empty() {
                return Err(RpcError::new(
                    REPLICATION,
                    format!(
                        "Error replicating log entry {index}: Received an empty SQL command at index{}.",
                        a.int(0)
                    ),
                ));
            }
            Err(RpcError::new(
                REPLICATION,
                format!("Error replicating log entry {index}: oned is not a federation slave"),
            ))
        }
        "voterequest" => {
            if !c.admin {
                return Err(RpcError::new(
                    code::AUTHORIZATION,
                    format!("User [{}] not authorized to perform action on zone.", c.uid),
                ));
            }
            // a solo server grants no votes; oned answers an empty message with id 0
            Err(RpcError {
                code: code::INTERNAL,
                msg: String::new(),
                id: 0,
            })
        }
        _ => Err(not_implemented(k.method)),
    }
}

/// `one.zone.raftstatus`: a solo server.
pub(crate) fn raft_status(s: &State, k: &Call<'_>) -> R<Ret> {
    s.require_admin(&k.c, Op::Manage, "ZONE", 0)?;
    Ok(Ret::Str(
        "<RAFT><SERVER_ID>-1</SERVER_ID><STATE>0</STATE><TERM>0</TERM><VOTEDFOR>-1</VOTEDFOR><COMMIT>0</COMMIT><LOG_INDEX>-1</LOG_INDEX><LOG_TERM>-1</LOG_TERM><FEDLOG_INDEX>-1</FEDLOG_INDEX></RAFT>".into(),
    ))
}

/// `one.system.sql(sql, federated)`: accepted and answered 0 (oneadmin only).
pub(crate) fn sql(s: &mut State, k: &Call<'_>) -> R<Ret> {
    if !k.c.admin {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform MANAGE SYSTEM.",
                k.c.uid
            ),
        ));
    }
    let _ = s;
    Ok(Ret::Int(0))
}

fn pool_control(s: &State) -> Vec<(&'static str, i32)> {
    let last = |k: Kind| s.pool(k).next_id - 1;
    let mut rows = vec![
        ("cluster_pool", s.next_cluster.max(100) - 1),
        ("group_pool", s.next_group.max(100) - 1),
        ("user_pool", s.next_user - 1),
        ("datastore_pool", last(Kind::Datastore).max(99)),
        ("zone_pool", 99),
        ("acl", s.next_acl - 1),
        ("vdc_pool", s.next_vdc.max(100) - 1),
        ("secgroup_pool", last(Kind::SecGroup).max(99)),
        ("marketplace_pool", last(Kind::Market).max(99)),
    ];
    for (name, kind) in [
        ("vm_pool", Kind::Vm),
        ("template_pool", Kind::Template),
        ("network_pool", Kind::Vnet),
        ("image_pool", Kind::Image),
        ("vmgroup_pool", Kind::VmGroup),
        ("document_pool", Kind::Document),
        ("vn_template_pool", Kind::VnTemplate),
        ("vrouter_pool", Kind::Vrouter),
        ("marketplaceapp_pool", Kind::MarketApp),
        ("hook_pool", Kind::Hook),
        ("backupjob_pool", Kind::BackupJob),
    ] {
        if s.pool(kind).next_id > 0 {
            rows.push((name, last(kind)));
        }
    }
    if s.next_host > 0 {
        rows.push(("host_pool", s.next_host - 1));
    }
    rows
}

/// `one.system.sqlquery(sql)`: SELECTs on `pool_control` are answered from the state;
/// other queries get an empty RESULT.
pub(crate) fn sql_query(s: &State, k: &Call<'_>) -> R<Ret> {
    if !k.c.admin {
        return Err(RpcError::new(
            code::AUTHORIZATION,
            format!(
                "User [{}] : Not authorized to perform MANAGE SYSTEM.",
                k.c.uid
            ),
        ));
    }
    let q = k.a.str(0);
    let mut out = String::from("<SQL_COMMAND>");
    super::super::tmpl::cdata_elem(&mut out, "QUERY", q);
    out.push_str("<RESULT>");
    let lower = q.to_ascii_lowercase();
    if lower.trim_start().starts_with("select") && lower.contains("from pool_control") {
        let cols: Vec<String> = lower
            .trim_start()
            .trim_start_matches("select")
            .split(" from ")
            .next()
            .unwrap_or("")
            .split(',')
            .map(|c| c.trim().to_owned())
            .collect();
        for (table, oid) in pool_control(s) {
            out.push_str("<ROW>");
            for col in &cols {
                let (name, value) = match col.as_str() {
                    "tablename" => ("tablename", table.to_owned()),
                    "last_oid" => ("last_oid", oid.to_string()),
                    "*" => {
                        super::super::tmpl::cdata_elem(&mut out, "tablename", table);
                        ("last_oid", oid.to_string())
                    }
                    _ => continue,
                };
                super::super::tmpl::cdata_elem(&mut out, name, &value);
            }
            out.push_str("</ROW>");
        }
    }
    out.push_str("</RESULT></SQL_COMMAND>");
    Ok(Ret::Str(out))
}
