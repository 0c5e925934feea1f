//! The HTTP layer, on top of every handler module: one catch-all handler that strips the
//! URL prefixes, counts requests, negotiates versions, and routes by method and path to
//! the handler modules. Shared helpers live in [`super::common`]; this module holds
//! routing only.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State as AxState};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};

use super::catalog;
pub(crate) use super::common::Shared;
use super::common::{Ctx, accept_version, cloudapi_error, nsx_json_error, vcd_error};
use super::{admin, disk, dr, hybridity, network, nsxt, query, transfer, vcd, vchs, workload};

/// Largest request body accepted (bigger bodies get 413).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Builds the router: every path goes to one dispatcher.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let request_id = crate::random_uuid().to_string();
    let (parts, body) = req.into_parts();
    // The transfer service streams its bodies (uploads are not limited by MAX_BODY).
    let mut resp = if parts.uri.path().starts_with("/transfer/") {
        shared.lock().request_count += 1;
        transfer::handle(&shared, parts, body).await
    } else {
        match to_bytes(body, MAX_BODY).await {
            Ok(body) => dispatch(&shared, parts, body),
            Err(_) => vcd_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_REQUEST",
                "The request body is too large.",
                "36.0",
            ),
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-vmware-vcloud-request-id", v);
    }
    resp
}

/// vCD's answer to a request that failed inside the server (used by fault injection).
pub(crate) fn internal_error() -> Response {
    vcd_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_SERVER_ERROR",
        "[simulator] Internal error injected by the fault configuration",
        "36.0",
    )
}

fn split_prefix(path: &str) -> (String, String) {
    for prefix in [
        "/api/compute",
        "/compute:443",
        "/compute%3A443",
        "/compute%3a443",
    ] {
        if let Some(rest) = path.strip_prefix(prefix)
            && (rest.starts_with("/api/") || rest.starts_with("/hybridity/") || rest == "/api")
        {
            let prefix = if prefix.starts_with("/compute%") {
                "/compute:443"
            } else {
                prefix
            };
            return (prefix.to_owned(), rest.to_owned());
        }
    }
    (String::new(), path.to_owned())
}

fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    match raw {
        Some(q) => url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        None => Vec::new(),
    }
}

fn dispatch(shared: &Shared, parts: http::request::Parts, body: Bytes) -> Response {
    let now = Instant::now();
    {
        let mut st = shared.lock();
        st.request_count += 1;
    }
    let (prefix, path) = split_prefix(parts.uri.path());
    let highest = shared
        .cfg
        .versions
        .last()
        .cloned()
        .unwrap_or_else(|| "36.0".into());
    let requested = accept_version(&parts.headers);
    let ctx = Ctx {
        shared,
        method: parts.method.clone(),
        path,
        prefix,
        query: parse_query(parts.uri.query()),
        headers: parts.headers,
        body,
        now,
        version: requested.clone().unwrap_or(highest),
    };
    let segs: Vec<&str> = ctx.path.trim_start_matches('/').split('/').collect();

    // Version negotiation applies to the vCD API and cloudapi, not to vchs/IAM/hybridity.
    let versioned = matches!(segs.first(), Some(&"api") | Some(&"cloudapi"))
        && !matches!(
            segs.get(1),
            Some(&"vchs") | Some(&"iam") | Some(&"sc") | Some(&"versions")
        );
    if versioned
        && let Some(v) = &requested
        && !shared.cfg.versions.iter().any(|s| s == v)
    {
        let msg = format!(
            "The request has invalid accept header: Invalid api version requested {v}. Supported versions are: {}",
            shared.cfg.versions.join(", ")
        );
        return if segs.first() == Some(&"cloudapi") {
            cloudapi_error(StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE", &msg)
        } else {
            vcd_error(StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE", &msg, v)
        };
    }
    tracing::trace!(method = %ctx.method, path = %ctx.path, prefix = %ctx.prefix, "vcloud sim request");

    use Method as M;
    let m = ctx.method.clone();
    match (m, segs.as_slice()) {
        // vCloud Air subscription (vchs)
        (M::POST, ["api", "vchs", "sessions"]) => vchs::login(&ctx),
        (M::DELETE, ["api", "vchs", "session"]) => vchs::logout(&ctx),
        (M::GET, ["api", "vchs", "services"]) => vchs::services(&ctx),
        (M::GET, ["api", "vchs", "compute", id]) => vchs::compute(&ctx, id),
        (M::POST, ["api", "vchs", "compute", sid, "vdc", vdc, "vcloudsession"]) => {
            vchs::vcloudsession(&ctx, sid, vdc)
        }
        // vCloud Air On-Demand (IAM + service controller)
        (M::POST, ["api", "iam", "login"]) => vchs::iam_login(&ctx),
        (M::GET, ["api", "sc", "instances"]) => vchs::instances(&ctx),
        (M::GET, ["api", "sc", "plans"]) => vchs::plans(&ctx),
        (M::POST, ["api", "sessions", "vcloud", org]) => vchs::sso_login(&ctx, org),
        // vCD sessions
        (M::GET, ["api", "versions"]) => vcd::versions(&ctx),
        (M::POST, ["api", "sessions"]) => vcd::legacy_login(&ctx),
        (M::GET, ["api", "session"] | ["api", "session", ""]) => vcd::current_session(&ctx),
        (M::DELETE, ["api", "session"] | ["api", "session", ""]) => vcd::logout(&ctx),
        (M::POST, ["cloudapi", "1.0.0", "sessions"]) => vcd::cloudapi_login(&ctx, false),
        (M::POST, ["cloudapi", "1.0.0", "sessions", "provider"]) => vcd::cloudapi_login(&ctx, true),
        (M::GET, ["cloudapi", "1.0.0", "sessions", "current"]) => vcd::cloudapi_current(&ctx),
        (M::DELETE, ["cloudapi", "1.0.0", "sessions", "current"]) => vcd::logout(&ctx),
        // org administration (cloudapi, OAuth client registration)
        (M::GET, ["cloudapi", "1.0.0", "orgs"]) => admin::orgs(&ctx),
        (M::POST, ["cloudapi", "1.0.0", "orgs"]) => admin::create_org(&ctx),
        (M::GET | M::PUT | M::DELETE, ["cloudapi", "1.0.0", "orgs", id]) => admin::org(&ctx, id),
        (M::GET, ["cloudapi", "1.0.0", "users"]) => admin::users(&ctx),
        (M::POST, ["cloudapi", "1.0.0", "users"]) => admin::create_user(&ctx),
        (M::GET | M::PUT | M::DELETE, ["cloudapi", "1.0.0", "users", id]) => admin::user(&ctx, id),
        (M::GET, ["cloudapi", "1.0.0", "roles"]) => admin::roles(&ctx),
        (M::GET, ["cloudapi", "1.0.0", "roles", id]) => admin::role(&ctx, id, false),
        (M::GET, ["cloudapi", "1.0.0", "roles", id, "rights"]) => admin::role(&ctx, id, true),
        (M::GET, ["cloudapi", "1.0.0", "tokens"]) => admin::tokens(&ctx),
        (M::GET | M::DELETE, ["cloudapi", "1.0.0", "tokens", id]) => admin::token(&ctx, id),
        (M::POST, ["oauth", "tenant", org, "register"]) => admin::register(&ctx, Some(org)),
        (M::POST, ["oauth", "provider", "register"]) => admin::register(&ctx, None),
        (M::POST, ["oauth", "tenant", org, "device_authorization"]) => {
            admin::device_authorization(&ctx, Some(org))
        }
        (M::POST, ["oauth", "provider", "device_authorization"]) => {
            admin::device_authorization(&ctx, None)
        }
        (M::GET, ["cloudapi", "1.0.0", "serviceAccounts"]) => admin::service_accounts(&ctx),
        (M::GET | M::DELETE, ["cloudapi", "1.0.0", "serviceAccounts", id]) => {
            admin::service_account(&ctx, id, false)
        }
        (M::POST, ["cloudapi", "1.0.0", "serviceAccounts", id, "revoke"]) => {
            admin::service_account(&ctx, id, true)
        }
        (M::POST, ["cloudapi", "1.0.0", "deviceLookup", "grant"]) => admin::grant(&ctx),
        // NSX-T edge gateways (cloudapi)
        (M::GET, ["cloudapi", "1.0.0", "edgeGateways"]) => nsxt::list(&ctx),
        (M::GET, ["cloudapi", "1.0.0", "edgeGateways", id]) => nsxt::get(&ctx, id),
        (M::GET, ["cloudapi", "1.0.0", "edgeGateways", id, "firewall", "rules"]) => {
            nsxt::firewall_get(&ctx, id)
        }
        (M::PUT, ["cloudapi", "1.0.0", "edgeGateways", id, "firewall", "rules"]) => {
            nsxt::firewall_put(&ctx, id)
        }
        (M::GET, ["cloudapi", "1.0.0", "edgeGateways", id, svc, coll]) => {
            nsxt::service_list(&ctx, id, &format!("{svc}/{coll}"))
        }
        (M::POST, ["cloudapi", "1.0.0", "edgeGateways", id, svc, coll]) => {
            nsxt::service_create(&ctx, id, &format!("{svc}/{coll}"))
        }
        (M::GET, ["cloudapi", "1.0.0", "edgeGateways", id, svc, coll, item]) => {
            nsxt::service_get(&ctx, id, &format!("{svc}/{coll}"), item)
        }
        (M::PUT, ["cloudapi", "1.0.0", "edgeGateways", id, svc, coll, item]) => {
            nsxt::service_update(&ctx, id, &format!("{svc}/{coll}"), item)
        }
        (M::DELETE, ["cloudapi", "1.0.0", "edgeGateways", id, svc, coll, item]) => {
            nsxt::service_delete(&ctx, id, &format!("{svc}/{coll}"), item)
        }
        (M::POST, ["oauth", "tenant", org, "token"]) => vcd::oauth_token(&ctx, Some(org)),
        (M::POST, ["oauth", "provider", "token"]) => vcd::oauth_token(&ctx, None),
        // vCD objects
        (M::GET, ["api", "org"] | ["api", "org", ""]) => vcd::org_list(&ctx),
        (M::GET, ["api", "org", id] | ["api", "org", id, ""]) => vcd::org(&ctx, id),
        (M::GET, ["api", "org", id, "replications"]) => dr::list(&ctx, id),
        (M::GET, ["api", "vdc", id]) => vcd::vdc(&ctx, id),
        (M::GET, ["api", "admin", "vdc", id, "edgeGateways"]) => query::vdc_edges(&ctx, id),
        (M::GET, ["api", "query"]) => query::query(&ctx),
        (M::GET, ["api", "task", id]) => vcd::task(&ctx, id),
        (M::POST, ["api", "task", id, "action", "cancel"]) => vcd::cancel_task(&ctx, id),
        // vCD workloads
        (M::GET, ["api", "vApp", id]) => workload::get(&ctx, id),
        (M::PUT, ["api", "vApp", id]) => workload::put(&ctx, id),
        (M::DELETE, ["api", "vApp", id]) => workload::delete(&ctx, id),
        (M::POST, ["api", "vApp", id, "power", "action", action]) => {
            workload::power(&ctx, id, action)
        }
        (M::POST, ["api", "vApp", id, "action", action]) => workload::action(&ctx, id, action),
        (M::POST, ["api", "vApp", id, "media", "action", action]) => {
            workload::media_action(&ctx, id, action)
        }
        (M::POST, ["api", "vApp", id, "disk", "action", action]) => {
            disk::vm_action(&ctx, id, action)
        }
        (M::GET, ["api", "vApp", id, rest @ ..]) => workload::section_get(&ctx, id, rest),
        (M::PUT | M::POST | M::DELETE, ["api", "vApp", id, rest @ ..]) => {
            workload::section_write(&ctx, id, rest)
        }
        (M::POST, ["api", "vdc", id, "action", "instantiateVAppTemplate"]) => {
            workload::instantiate(&ctx, id)
        }
        (M::POST, ["api", "vdc", id, "action", "composeVApp"]) => workload::compose(&ctx, id),
        (M::POST, ["api", "vdc", id, "disk"]) => disk::create(&ctx, id),
        (M::GET, ["api", "disk", id]) => disk::get(&ctx, id),
        (M::PUT, ["api", "disk", id]) => disk::update(&ctx, id),
        (M::DELETE, ["api", "disk", id]) => disk::delete(&ctx, id),
        (M::GET, ["api", "disk", id, "attachedVms"]) => disk::attached_vms(&ctx, id),
        (M::POST, ["api", "admin", "vdc", id, "networks"]) => network::create(&ctx, id),
        (M::GET, ["api", "admin", "network", id] | ["api", "network", id]) => {
            network::get(&ctx, id)
        }
        (M::PUT, ["api", "admin", "network", id]) => network::update(&ctx, id),
        (M::DELETE, ["api", "admin", "network", id]) => network::delete(&ctx, id),
        (M::GET, ["api", "catalog", id]) => catalog::catalog(&ctx, id),
        (
            M::GET,
            ["api", "catalog", id, "controlAccess"] | ["api", "catalog", id, "controlAccess", ""],
        ) => catalog::control_access(&ctx, id),
        (
            M::POST,
            ["api", "catalog", id, "action", "controlAccess"]
            | ["api", "org", _, "catalog", id, "action", "controlAccess"],
        ) => catalog::set_control_access(&ctx, id),
        (M::POST, ["api", "catalog", id, "action", "upload"]) => catalog::upload(&ctx, id),
        (M::POST, ["api", "catalog", id, "action", "captureVApp"]) => catalog::capture(&ctx, id),
        (M::PUT, ["api", "vAppTemplate", id]) => catalog::update_entity(&ctx, id, true),
        (M::PUT, ["api", "media", id]) => catalog::update_entity(&ctx, id, false),
        (
            M::POST,
            ["api", "catalog", id, "action", "publish"]
            | ["api", "admin", "catalog", id, "action", "publish"],
        ) => catalog::publish(&ctx, id),
        (M::GET, ["api", "catalogItem", id]) => catalog::catalog_item(&ctx, id),
        (M::DELETE, ["api", "catalogItem", id]) => catalog::delete_item(&ctx, id),
        (M::GET, ["api", "vAppTemplate", id]) => catalog::vapp_template(&ctx, id),
        (M::DELETE, ["api", "vAppTemplate", id]) => catalog::delete_entity(&ctx, id, true),
        (M::POST, ["api", "vAppTemplate", id, "action", "enableDownload"]) => {
            catalog::enable_download(&ctx, id, true)
        }
        (M::GET, ["api", "media", id]) => catalog::media(&ctx, id),
        (M::DELETE, ["api", "media", id]) => catalog::delete_entity(&ctx, id, false),
        (M::POST, ["api", "media", id, "action", "enableDownload"]) => {
            catalog::enable_download(&ctx, id, false)
        }
        (M::POST, ["api", "admin", "org", id, "catalogs"]) => catalog::create(&ctx, id),
        (M::GET, ["api", "admin", "catalog", id]) => catalog::admin_catalog(&ctx, id),
        (M::PUT, ["api", "admin", "catalog", id]) => catalog::update(&ctx, id),
        (M::DELETE, ["api", "admin", "catalog", id]) => catalog::delete(&ctx, id),
        (M::GET, ["api", "admin", "edgeGateway", id]) => vcd::edge(&ctx, id),
        (
            M::POST,
            [
                "api",
                "admin",
                "edgeGateway",
                id,
                "action",
                "configureServices",
            ],
        ) => vcd::configure_services(&ctx, id),
        // hybridity
        (M::GET, ["hybridity", "api", "gateways", edge, section, "config"]) => {
            hybridity::get_config(&ctx, edge, section)
        }
        (M::PUT, ["hybridity", "api", "gateways", edge, section, "config"]) => {
            hybridity::put_config(&ctx, edge, section)
        }
        (M::POST, ["hybridity", "api", "metrics", "vdc", id]) => {
            hybridity::metrics(&ctx, Some(id), None)
        }
        (M::POST, ["hybridity", "api", "metrics", "vApp", vm]) => {
            hybridity::metrics(&ctx, None, Some(vm))
        }
        // DR
        (M::GET, ["api", "vr", "replications", id]) => dr::details(&ctx, id),
        (M::POST, ["api", "vr", "replications", id, "action", action]) => {
            dr::action(&ctx, id, action)
        }
        (_, ["hybridity", ..]) => nsx_json_error(
            StatusCode::NOT_FOUND,
            404,
            "The requested resource was not found.",
        ),
        (_, ["cloudapi", ..]) => cloudapi_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource was not found.",
        ),
        _ => vcd_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            &format!("No resource for {} {}.", ctx.method, ctx.path),
            &ctx.version,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_stripped_only_before_api_paths() {
        assert_eq!(
            split_prefix("/api/compute/api/org/x"),
            ("/api/compute".into(), "/api/org/x".into())
        );
        assert_eq!(
            split_prefix("/compute:443/api/query"),
            ("/compute:443".into(), "/api/query".into())
        );
        assert_eq!(
            split_prefix("/api/compute/hybridity/api/metrics/vdc/x"),
            ("/api/compute".into(), "/hybridity/api/metrics/vdc/x".into())
        );
        assert_eq!(
            split_prefix("/api/vchs/compute/x"),
            ("".into(), "/api/vchs/compute/x".into())
        );
    }
}
