//! Disaster Recovery 2.x: paged replication list, replication details, and the
//! testFailover / failover / testCleanup actions that answer 202 with a Task.

use axum::response::Response;
use http::StatusCode;

use super::common::{Ctx, parse_id, unauthorized, vcd_error, vcd_xml};
use super::state::Effect;
use super::vcd::task_accepted;
use super::xml::{NS_VCLOUD, NS_VR, attrs, esc, link};

const REFS_MEDIA: &str = "application/vnd.vmware.hcs.replicationGroupReferences+xml";
const GROUP_MEDIA: &str = "application/vnd.vmware.hcs.replicationGroup+xml";

fn bad(ctx: &Ctx<'_>, msg: &str) -> Response {
    vcd_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg, &ctx.version)
}

fn not_found(ctx: &Ctx<'_>, what: &str) -> Response {
    vcd_error(
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        &format!("No access to entity \"{what}\"."),
        &ctx.version,
    )
}

/// `GET /api/org/{org}/replications?page=&pageSize=`: `References` with one
/// `Reference` per replication; a page past the end holds only the links.
pub(crate) fn list(ctx: &Ctx<'_>, org: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let page: usize = match ctx.param("page").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => return bad(ctx, "The page parameter must be a positive integer."),
    };
    let size: usize = match ctx.param("pageSize").map(str::parse::<usize>) {
        None => ctx.shared.cfg.dr_page_size as usize,
        Some(Ok(p)) if p >= 1 => p.min(ctx.shared.cfg.query_max_page_size as usize),
        Some(_) => return bad(ctx, "The pageSize parameter must be a positive integer."),
    };
    let base = ctx.base();
    let st = ctx.lock();
    let Some(org_id) = parse_id(org, "").filter(|u| st.orgs.iter().any(|o| o.id == *u)) else {
        drop(st);
        return not_found(ctx, org);
    };
    let reps: Vec<_> = st.replications.iter().filter(|r| r.org == org_id).collect();
    let total = reps.len();
    let href = format!("{base}/api/org/{org_id}/replications");
    let mut body = format!(
        "<References xmlns=\"{NS_VCLOUD}\" xmlns:vr=\"{NS_VR}\"{}>",
        attrs(&[
            ("href", &href),
            ("type", REFS_MEDIA),
            ("page", &page.to_string()),
            ("pageSize", &size.to_string()),
            ("total", &total.to_string()),
        ])
    );
    body.push_str(&link(
        "up",
        &format!("{base}/api/org/{org_id}"),
        Some("application/vnd.vmware.vcloud.org+xml"),
        None,
    ));
    let start = (page - 1).saturating_mul(size);
    if page > 1 && start <= total {
        body.push_str(&link(
            "previousPage",
            &format!("{href}?page={}&pageSize={size}", page - 1),
            Some(REFS_MEDIA),
            None,
        ));
    }
    if start.saturating_add(size) < total {
        body.push_str(&link(
            "nextPage",
            &format!("{href}?page={}&pageSize={size}", page + 1),
            Some(REFS_MEDIA),
            None,
        ));
    }
    for r in reps.iter().skip(start).take(size) {
        body.push_str(&format!(
            "<Reference{}/>",
            attrs(&[
                ("href", &format!("{base}/api/vr/replications/{}", r.id)),
                ("type", GROUP_MEDIA),
                ("name", &r.vm_name),
            ])
        ));
    }
    body.push_str("</References>");
    vcd_xml(StatusCode::OK, REFS_MEDIA, &ctx.version, &body)
}

/// `GET /api/vr/replications/{id}`.
pub(crate) fn details(ctx: &Ctx<'_>, id: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let base = ctx.base();
    let st = ctx.lock();
    let Some(r) = parse_id(id, "").and_then(|u| st.replications.iter().find(|r| r.id == u)) else {
        drop(st);
        return not_found(ctx, id);
    };
    let href = format!("{base}/api/vr/replications/{}", r.id);
    let body = format!(
        "<vr:ReplicationGroup xmlns=\"{NS_VCLOUD}\" xmlns:vr=\"{NS_VR}\"{}>{}{}{}{}\
         <vr:Paused>false</vr:Paused><vr:Rpo>{}</vr:Rpo><vr:ReplicationState>ACTIVE</vr:ReplicationState>\
         <vr:CurrentRpoViolation>0</vr:CurrentRpoViolation><vr:TestRecoveryState>{}</vr:TestRecoveryState>\
         <vr:RecoveryState>{}</vr:RecoveryState><vr:ReplicationGroupInstance><vr:TransferStartTime>2026-01-15T13:55:02.120Z</vr:TransferStartTime>\
         <vr:TransferSeconds>41</vr:TransferSeconds><vr:TransferBytes>83886080</vr:TransferBytes></vr:ReplicationGroupInstance></vr:ReplicationGroup>",
        attrs(&[
            ("name", &r.vm_name),
            ("id", &format!("urn:vcloud:replicationGroup:{}", r.id)),
            ("href", &href),
            ("type", GROUP_MEDIA),
        ]),
        link(
            "up",
            &format!("{base}/api/org/{}/replications", r.org),
            Some(REFS_MEDIA),
            None
        ),
        link(
            "testFailover",
            &format!("{href}/action/testFailover"),
            Some("application/vnd.vmware.hcs.testFailoverParams+xml"),
            None
        ),
        link(
            "failover",
            &format!("{href}/action/failover"),
            Some("application/vnd.vmware.hcs.failoverParams+xml"),
            None
        ),
        link(
            "testCleanup",
            &format!("{href}/action/testCleanup"),
            None,
            None
        ),
        r.rpo,
        esc(r.test_recovery_state),
        esc(r.recovery_state),
    );
    vcd_xml(StatusCode::OK, GROUP_MEDIA, &ctx.version, &body)
}

/// Checks a `TestFailoverParams` / `FailoverParams` body.
fn check_params(ctx: &Ctx<'_>, root: &str, media: &str) -> Result<(), Box<Response>> {
    let ct = ctx
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !ct.starts_with(&media.to_ascii_lowercase()) {
        return Err(Box::new(vcd_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("Expected Content-Type {media}."),
            &ctx.version,
        )));
    }
    let body = ctx.body_str()?;
    let el =
        super::xml::parse(body).map_err(|e| Box::new(bad(ctx, &format!("Bad {root}: {e}."))))?;
    if el.name != root {
        return Err(Box::new(bad(
            ctx,
            &format!("Expected a {root} document, got {}.", el.name),
        )));
    }
    match el.child_text("PowerOn") {
        Some("0" | "1" | "true" | "false") => {}
        _ => {
            return Err(Box::new(bad(
                ctx,
                &format!("{root}/PowerOn must be 0 or 1."),
            )));
        }
    }
    if root == "TestFailoverParams" {
        match el.child_text("Synchronize") {
            None | Some("0" | "1" | "true" | "false") => {}
            _ => {
                return Err(Box::new(bad(
                    ctx,
                    "TestFailoverParams/Synchronize must be 0 or 1.",
                )));
            }
        }
    }
    Ok(())
}

/// `POST /api/vr/replications/{id}/action/{testFailover|failover|testCleanup}`: 202 Task.
pub(crate) fn action(ctx: &Ctx<'_>, id: &str, action: &str) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    let checked = match action {
        "testFailover" => check_params(
            ctx,
            "TestFailoverParams",
            "application/vnd.vmware.hcs.testFailoverParams+xml",
        ),
        "failover" => check_params(
            ctx,
            "FailoverParams",
            "application/vnd.vmware.hcs.failoverParams+xml",
        ),
        "testCleanup" => Ok(()),
        other => return bad(ctx, &format!("Unknown replication action \"{other}\".")),
    };
    if let Err(resp) = checked {
        return *resp;
    }
    let mut st = ctx.lock();
    let Some(r) = parse_id(id, "")
        .and_then(|u| st.replications.iter().find(|r| r.id == u))
        .cloned()
    else {
        drop(st);
        return not_found(ctx, id);
    };
    let (op, effect) = match action {
        "testFailover" => ("hcsTestFailover", Effect::DrTestFailover(r.id)),
        "failover" => ("hcsFailover", Effect::DrFailover(r.id)),
        _ => ("hcsTestCleanup", Effect::DrTestCleanup(r.id)),
    };
    let owner = (
        format!("/api/vr/replications/{}", r.id),
        r.vm_name.clone(),
        GROUP_MEDIA.to_owned(),
    );
    let tid = st.new_task(
        op,
        format!("{action} of {}", r.vm_name),
        owner,
        effect,
        &ctx.prefix,
        None,
        None,
    );
    task_accepted(ctx, &st, tid)
}
