//! vCD core endpoints: versions, sessions (legacy, cloudapi, OAuth), org, vDC, vApp/VM,
//! tasks and the edge gateway XML services.

use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::json;
use uuid::Uuid;

use super::common::{
    Ctx, cloudapi_error, iso8601, json, parse_id, respond, unauthorized, vcd_error, vcd_xml, xml,
};
use super::state::{Effect, State, Task, TaskPhase, Token};
use super::xml::{NS_VCLOUD, NS_VERSIONS, attrs, esc, link};
use super::{SYSTEM_ORG, TokenKind};

const EDGE_INTERFACES: &str = include_str!("data/edge_interfaces.xml");

fn insert_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// Numeric comparison of API versions ("5.10" > "5.9").
pub(crate) fn version_at_least(v: &str, min: &str) -> bool {
    fn parts(s: &str) -> Vec<u64> {
        s.split('.').map(|p| p.parse().unwrap_or(0)).collect()
    }
    parts(v) >= parts(min)
}

/// `GET /api/versions` (no authentication).
pub(crate) fn versions(ctx: &Ctx<'_>) -> Response {
    let base = ctx.base();
    let mut body = format!("<SupportedVersions xmlns=\"{NS_VERSIONS}\">");
    for v in &ctx.shared.cfg.versions {
        let deprecated = !version_at_least(v, "5.6");
        body.push_str(&format!(
            "<VersionInfo deprecated=\"{deprecated}\"><Version>{}</Version><LoginUrl>{base}/api/sessions</LoginUrl></VersionInfo>",
            esc(v)
        ));
    }
    body.push_str("</SupportedVersions>");
    xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.versions+xml",
        &body,
    )
}

/// Splits `user@org` and checks the password; returns (user, canonical org name).
fn check_login(ctx: &Ctx<'_>) -> Option<(String, String)> {
    let (login, password) = ctx.basic()?;
    let (user, org) = login.rsplit_once('@')?;
    let st = ctx.lock();
    let configured = user == ctx.shared.cfg.user && password == ctx.shared.cfg.password;
    if !configured && !super::admin::login_ok(&st, org, user, &password) {
        return None;
    }
    let org = st.org_by_name(org)?;
    Some((user.to_owned(), org.name.clone()))
}

fn session_xml(ctx: &Ctx<'_>, st: &State, user: &str, org_name: &str) -> String {
    let base = ctx.base();
    let org_id = st.org_by_name(org_name).map(|o| o.id).unwrap_or_default();
    let mut links = String::new();
    links.push_str(&link(
        "down",
        &format!("{base}/api/org/"),
        Some("application/vnd.vmware.vcloud.orgList+xml"),
        None,
    ));
    links.push_str(&link("remove", &format!("{base}/api/session"), None, None));
    links.push_str(&link(
        "down",
        &format!("{base}/api/org/{org_id}"),
        Some("application/vnd.vmware.vcloud.org+xml"),
        Some(org_name),
    ));
    links.push_str(&link(
        "down",
        &format!("{base}/api/query"),
        Some("application/vnd.vmware.vcloud.query.queryList+xml"),
        None,
    ));
    links.push_str(&link(
        "entityResolver",
        &format!("{base}/api/entity/"),
        Some("application/vnd.vmware.vcloud.entity+xml"),
        None,
    ));
    let roles = if org_name.eq_ignore_ascii_case(SYSTEM_ORG) {
        "System Administrator"
    } else {
        "Organization Administrator"
    };
    format!(
        "<Session xmlns=\"{NS_VCLOUD}\"{}>{links}<AuthorizedLocations/></Session>",
        attrs(&[
            ("user", user),
            ("org", org_name),
            (
                "userId",
                "urn:vcloud:user:6e656275-6c61-4000-8000-00000000a001"
            ),
            ("roles", roles),
            ("href", &format!("{base}/api/session")),
            ("type", "application/vnd.vmware.vcloud.session+xml"),
        ])
    )
}

/// `POST /api/sessions`: Basic `user@org`, 200 with `x-vcloud-authorization`.
pub(crate) fn legacy_login(ctx: &Ctx<'_>) -> Response {
    let Some((user, org)) = check_login(ctx) else {
        return unauthorized(ctx);
    };
    let mut st = ctx.lock();
    let token = st.issue_token(TokenKind::Vcd, &user, &org);
    let body = session_xml(ctx, &st, &user, &org);
    let jwt = version_at_least(&ctx.version, "30.0")
        .then(|| st.issue_token(TokenKind::VcdJwt, &user, &org));
    drop(st);
    let mut resp = vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.session+xml",
        &ctx.version,
        &body,
    );
    insert_header(&mut resp, "x-vcloud-authorization", &token);
    if let Some(jwt) = jwt {
        insert_header(&mut resp, "x-vmware-vcloud-access-token", &jwt);
        insert_header(&mut resp, "x-vmware-vcloud-token-type", "Bearer");
    }
    resp
}

/// `GET /api/session`: the current session (401 when the token expired).
pub(crate) fn current_session(ctx: &Ctx<'_>) -> Response {
    let Some(tok) = ctx.vcd_token() else {
        return unauthorized(ctx);
    };
    let st = ctx.lock();
    let body = session_xml(ctx, &st, &tok.user, &tok.org);
    vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.session+xml",
        &ctx.version,
        &body,
    )
}

/// `DELETE /api/session` and `/cloudapi/1.0.0/sessions/current`: 204.
pub(crate) fn logout(ctx: &Ctx<'_>) -> Response {
    if ctx.vcd_token().is_none() {
        return unauthorized(ctx);
    }
    if let Some(v) = ctx.vcd_token_value()
        && let Some(t) = ctx.lock().tokens.get_mut(&v)
    {
        t.revoked = true;
    }
    respond(StatusCode::NO_CONTENT, "text/plain", "")
}

fn cloudapi_session_json(ctx: &Ctx<'_>, st: &State, tok: &Token) -> serde_json::Value {
    let org_id = st.org_by_name(&tok.org).map(|o| o.id).unwrap_or_default();
    let provider = tok.org.eq_ignore_ascii_case(SYSTEM_ORG);
    let role = if provider {
        "System Administrator"
    } else {
        "Organization Administrator"
    };
    json!({
        "id": format!("urn:vcloud:session:{}", crate::random_uuid()),
        "site": {"name": ctx.shared.origin, "id": "urn:vcloud:site:6e656275-6c61-4000-8000-00000000b001"},
        "user": {"name": tok.user, "id": "urn:vcloud:user:6e656275-6c61-4000-8000-00000000a001"},
        "org": {"name": tok.org, "id": format!("urn:vcloud:org:{org_id}")},
        "location": "6e656275-6c61-4000-8000-00000000b001@6e656275-6c61-4000-8000-00000000b001",
        "roles": [role],
        "roleRefs": [{"name": role, "id": "urn:vcloud:role:6e656275-6c61-4000-8000-00000000c001"}],
        "sessionIdleTimeoutMinutes": ctx.shared.cfg.token_lifetime.as_secs() / 60,
    })
}

/// `POST /cloudapi/1.0.0/sessions[/provider]`: JWT in `X-VMWARE-VCLOUD-ACCESS-TOKEN`.
pub(crate) fn cloudapi_login(ctx: &Ctx<'_>, provider: bool) -> Response {
    let Some((user, org)) = check_login(ctx) else {
        return cloudapi_error(
            StatusCode::UNAUTHORIZED,
            "NOT_AUTHENTICATED",
            "Invalid credentials.",
        );
    };
    let is_system = org.eq_ignore_ascii_case(SYSTEM_ORG);
    if is_system != provider {
        let msg = if provider {
            "Only System organization users can log in at /cloudapi/1.0.0/sessions/provider."
        } else {
            "System organization users must log in at /cloudapi/1.0.0/sessions/provider."
        };
        return cloudapi_error(StatusCode::UNAUTHORIZED, "NOT_AUTHENTICATED", msg);
    }
    let mut st = ctx.lock();
    let jwt = st.issue_token(TokenKind::VcdJwt, &user, &org);
    let tok = st.tokens.get(&jwt).cloned();
    let body = match tok {
        Some(t) => cloudapi_session_json(ctx, &st, &t),
        None => json!({}),
    };
    drop(st);
    let mut resp = respond(
        StatusCode::OK,
        &format!("application/json;version={}", ctx.version),
        body.to_string(),
    );
    insert_header(&mut resp, "x-vmware-vcloud-access-token", &jwt);
    insert_header(&mut resp, "x-vmware-vcloud-token-type", "Bearer");
    resp
}

/// `GET /cloudapi/1.0.0/sessions/current`.
pub(crate) fn cloudapi_current(ctx: &Ctx<'_>) -> Response {
    let Some(tok) = ctx.vcd_token() else {
        return cloudapi_error(
            StatusCode::UNAUTHORIZED,
            "NOT_AUTHENTICATED",
            "This operation is denied.",
        );
    };
    let st = ctx.lock();
    json(StatusCode::OK, &cloudapi_session_json(ctx, &st, &tok))
}

fn oauth_error(error: &str, description: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "error_description": description}),
    )
}

/// `POST /oauth/tenant/{org}/token` and `/oauth/provider/token` (refresh_token grant).
pub(crate) fn oauth_token(ctx: &Ctx<'_>, org: Option<&str>) -> Response {
    let ct = ctx
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded.",
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&ctx.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    if get("grant_type") == Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        let org_name = org.unwrap_or(SYSTEM_ORG);
        let mut st = ctx.lock();
        let (user, org_name, secret) = match super::admin::exchange(
            &mut st,
            get("assertion").unwrap_or_default(),
            get("client_id").unwrap_or_default(),
            org_name,
        ) {
            Ok(x) => x,
            Err(m) => return oauth_error("invalid_grant", m),
        };
        let jwt = st.issue_token(TokenKind::VcdJwt, &user, &org_name);
        return json(
            StatusCode::OK,
            &json!({
                "access_token": jwt,
                "token_type": "Bearer",
                "expires_in": ctx.shared.cfg.token_lifetime.as_secs(),
                "refresh_token": secret,
            }),
        );
    }
    if get("grant_type") == Some("urn:ietf:params:oauth:grant-type:device_code") {
        let org_name = org.unwrap_or(SYSTEM_ORG);
        let mut st = ctx.lock();
        let (name, org_name, secret) = match super::admin::device_token(
            &mut st,
            get("client_id").unwrap_or_default(),
            get("device_code").unwrap_or_default(),
            org_name,
        ) {
            Ok(x) => x,
            Err((code, m)) => return oauth_error(code, m),
        };
        let jwt = st.issue_token(TokenKind::VcdJwt, &name, &org_name);
        return json(
            StatusCode::OK,
            &json!({
                "access_token": jwt,
                "token_type": "Bearer",
                "expires_in": ctx.shared.cfg.token_lifetime.as_secs(),
                "refresh_token": secret,
            }),
        );
    }
    if get("grant_type") != Some("refresh_token") {
        return oauth_error(
            "unsupported_grant_type",
            "Only grant_type=refresh_token, urn:ietf:params:oauth:grant-type:jwt-bearer and urn:ietf:params:oauth:grant-type:device_code are supported.",
        );
    }
    let presented = get("refresh_token").unwrap_or_default();
    if presented != ctx.shared.cfg.api_token {
        // An API token created through the register / jwt-bearer flow.
        let owner = super::admin::api_token_owner(&ctx.lock(), presented);
        let Some((user, tok_org)) = owner else {
            return oauth_error(
                "invalid_grant",
                "The refresh token is invalid or was revoked.",
            );
        };
        if !org.unwrap_or(SYSTEM_ORG).eq_ignore_ascii_case(&tok_org) {
            return oauth_error(
                "invalid_grant",
                "The refresh token belongs to another organization.",
            );
        }
        let jwt = ctx.lock().issue_token(TokenKind::VcdJwt, &user, &tok_org);
        return json(
            StatusCode::OK,
            &json!({
                "access_token": jwt,
                "token_type": "Bearer",
                "expires_in": ctx.shared.cfg.token_lifetime.as_secs(),
                "refresh_token": presented,
            }),
        );
    }
    let org_name = match org {
        None => SYSTEM_ORG.to_owned(),
        Some(o) => match ctx.lock().org_by_name(o) {
            Some(org) if !org.name.eq_ignore_ascii_case(SYSTEM_ORG) => org.name.clone(),
            _ => return oauth_error("invalid_grant", "Unknown organization."),
        },
    };
    let jwt = ctx
        .lock()
        .issue_token(TokenKind::VcdJwt, &ctx.shared.cfg.user, &org_name);
    json(
        StatusCode::OK,
        &json!({
            "access_token": jwt,
            "token_type": "Bearer",
            "expires_in": ctx.shared.cfg.token_lifetime.as_secs(),
            "refresh_token": ctx.shared.cfg.api_token,
        }),
    )
}

/// Authenticates a vCD request or answers 401.
macro_rules! auth {
    ($ctx:expr) => {
        match $ctx.vcd_token() {
            Some(t) => t,
            None => return unauthorized($ctx),
        }
    };
}

fn not_found(ctx: &Ctx<'_>, what: &str) -> Response {
    vcd_error(
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        &format!("No access to entity \"{what}\"."),
        &ctx.version,
    )
}

/// `GET /api/org/`.
pub(crate) fn org_list(ctx: &Ctx<'_>) -> Response {
    let tok = auth!(ctx);
    let base = ctx.base();
    let st = ctx.lock();
    let provider = tok.org.eq_ignore_ascii_case(SYSTEM_ORG);
    let mut body = format!(
        "<OrgList xmlns=\"{NS_VCLOUD}\" href=\"{base}/api/org/\" type=\"application/vnd.vmware.vcloud.orgList+xml\">"
    );
    for o in st
        .orgs
        .iter()
        .filter(|o| provider || o.name.eq_ignore_ascii_case(&tok.org))
    {
        body.push_str(&format!(
            "<Org{}/>",
            attrs(&[
                ("href", &format!("{base}/api/org/{}", o.id)),
                ("name", &o.name),
                ("type", "application/vnd.vmware.vcloud.org+xml"),
            ])
        ));
    }
    body.push_str("</OrgList>");
    vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.orgList+xml",
        &ctx.version,
        &body,
    )
}

/// `GET /api/org/{id}`.
pub(crate) fn org(ctx: &Ctx<'_>, id: &str) -> Response {
    let _tok = auth!(ctx);
    let base = ctx.base();
    let st = ctx.lock();
    let Some(org) = parse_id(id, "").and_then(|u| st.orgs.iter().find(|o| o.id == u)) else {
        return not_found(ctx, id);
    };
    let mut links = String::new();
    if !version_at_least(&ctx.version, "33.0") {
        for v in st.vdcs.iter().filter(|v| v.org == org.id) {
            links.push_str(&link(
                "down",
                &format!("{base}/api/vdc/{}", v.id),
                Some("application/vnd.vmware.vcloud.vdc+xml"),
                Some(&v.name),
            ));
        }
    }
    links.push_str(&link(
        "add",
        &format!("{base}/api/admin/org/{}/catalogs", org.id),
        Some("application/vnd.vmware.admin.catalog+xml"),
        None,
    ));
    for c in st.catalogs.iter().filter(|c| c.org == org.id) {
        links.push_str(&link(
            "down",
            &format!("{base}/api/catalog/{}", c.id),
            Some("application/vnd.vmware.vcloud.catalog+xml"),
            Some(&c.name),
        ));
    }
    let filter = url::form_urlencoded::byte_serialize(format!("orgName=={}", org.name).as_bytes())
        .collect::<String>();
    links.push_str(&link(
        "down",
        &format!("{base}/api/query?type=catalog&format=records&filter={filter}"),
        Some("application/vnd.vmware.vcloud.query.records+xml"),
        None,
    ));
    links.push_str(&link(
        "down",
        &format!("{base}/api/query?type=orgVdc&format=records&filter={filter}"),
        Some("application/vnd.vmware.vcloud.query.records+xml"),
        None,
    ));
    let body = format!(
        "<Org xmlns=\"{NS_VCLOUD}\"{}>{links}<Description/><FullName>{}</FullName><IsEnabled>true</IsEnabled></Org>",
        attrs(&[
            ("name", &org.name),
            ("id", &format!("urn:vcloud:org:{}", org.id)),
            ("href", &format!("{base}/api/org/{}", org.id)),
            ("type", "application/vnd.vmware.vcloud.org+xml"),
        ]),
        esc(&org.full_name)
    );
    vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.org+xml",
        &ctx.version,
        &body,
    )
}

/// `GET /api/vdc/{id}`.
pub(crate) fn vdc(ctx: &Ctx<'_>, id: &str) -> Response {
    let _tok = auth!(ctx);
    let base = ctx.base();
    let st = ctx.lock();
    let Some(v) = parse_id(id, "").and_then(|u| st.vdcs.iter().find(|v| v.id == u)) else {
        return not_found(ctx, id);
    };
    let mut links = String::new();
    links.push_str(&link(
        "up",
        &format!("{base}/api/org/{}", v.org),
        Some("application/vnd.vmware.vcloud.org+xml"),
        None,
    ));
    links.push_str(&link(
        "edgeGateways",
        &format!("{base}/api/admin/vdc/{}/edgeGateways", v.id),
        Some("application/vnd.vmware.vcloud.query.records+xml"),
        None,
    ));
    links.push_str(&link(
        "add",
        &format!("{base}/api/vdc/{}/disk", v.id),
        Some("application/vnd.vmware.vcloud.diskCreateParams+xml"),
        None,
    ));
    links.push_str(&link(
        "add",
        &format!("{base}/api/admin/vdc/{}/networks", v.id),
        Some("application/vnd.vmware.vcloud.orgVdcNetwork+xml"),
        None,
    ));
    for (rel, action, media) in [
        (
            "add",
            "instantiateVAppTemplate",
            "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
        ),
        (
            "add",
            "composeVApp",
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
        ),
    ] {
        links.push_str(&link(
            rel,
            &format!("{base}/api/vdc/{}/action/{action}", v.id),
            Some(media),
            None,
        ));
    }
    let mut entities = String::new();
    for a in st.vapps.iter().filter(|a| a.vdc == v.id) {
        entities.push_str(&format!(
            "<ResourceEntity{}/>",
            attrs(&[
                ("href", &format!("{base}/api/vApp/vapp-{}", a.id)),
                ("name", &a.name),
                ("type", "application/vnd.vmware.vcloud.vApp+xml"),
            ])
        ));
    }
    for t in st.templates.iter().filter(|t| t.vdc == v.id) {
        entities.push_str(&format!(
            "<ResourceEntity{}/>",
            attrs(&[
                (
                    "href",
                    &format!("{base}/api/vAppTemplate/vappTemplate-{}", t.id)
                ),
                ("name", &t.name),
                ("type", "application/vnd.vmware.vcloud.vAppTemplate+xml"),
            ])
        ));
    }
    let (cpu_used, mem_used, _) = super::workload::vdc_usage(&st, v.id);
    let cpu_limit = super::workload::CPU_LIMIT_MHZ;
    let mem_limit = super::workload::MEMORY_LIMIT_MB;
    let storage_limit = super::workload::STORAGE_LIMIT_MB;
    let mhz = super::workload::MHZ_PER_VCPU;
    for m in st.media.iter().filter(|m| m.vdc == v.id) {
        entities.push_str(&format!(
            "<ResourceEntity{}/>",
            attrs(&[
                ("href", &format!("{base}/api/media/{}", m.id)),
                ("name", &m.name),
                ("type", "application/vnd.vmware.vcloud.media+xml"),
            ])
        ));
    }
    for d in st.independent_disks.iter().filter(|d| d.vdc == v.id) {
        entities.push_str(&format!(
            "<ResourceEntity{}/>",
            attrs(&[
                ("href", &format!("{base}/api/disk/{}", d.id)),
                ("id", &format!("urn:vcloud:disk:{}", d.id)),
                ("name", &d.name),
                ("type", super::disk::MT_DISK),
            ])
        ));
    }
    let storage_used = super::disk::storage_used_mb(&st, v.id);
    let org_nets: String = super::network::available(&st, &base, v.id)
        .iter()
        .map(|(href, name)| {
            format!(
                "<Network{}/>",
                attrs(&[
                    ("href", href.as_str()),
                    ("name", name.as_str()),
                    ("type", "application/vnd.vmware.vcloud.network+xml"),
                ])
            )
        })
        .collect();
    let body = format!(
        "<Vdc xmlns=\"{NS_VCLOUD}\" status=\"1\"{}>{links}<Description>{}</Description>\
         <AllocationModel>AllocationPool</AllocationModel>\
         <StorageCapacity><Units>MB</Units><Allocated>{storage_limit}</Allocated><Limit>{storage_limit}</Limit><Used>{storage_used}</Used><Overhead>0</Overhead></StorageCapacity>\
         <ComputeCapacity><Cpu><Units>MHz</Units><Allocated>{cpu_limit}</Allocated><Limit>{cpu_limit}</Limit><Reserved>0</Reserved><Used>{}</Used><Overhead>0</Overhead></Cpu>\
         <Memory><Units>MB</Units><Allocated>{mem_limit}</Allocated><Limit>{mem_limit}</Limit><Reserved>0</Reserved><Used>{}</Used><Overhead>0</Overhead></Memory></ComputeCapacity>\
         <ResourceEntities>{entities}</ResourceEntities>\
         <AvailableNetworks><Network{}/>{org_nets}</AvailableNetworks>\
         <Capabilities><SupportedHardwareVersions><SupportedHardwareVersion>vmx-13</SupportedHardwareVersion></SupportedHardwareVersions></Capabilities>\
         <NicQuota>0</NicQuota><NetworkQuota>1000</NetworkQuota><UsedNetworkCount>1</UsedNetworkCount><VmQuota>100</VmQuota><IsEnabled>true</IsEnabled>\
         <VdcStorageProfiles><VdcStorageProfile{}/></VdcStorageProfiles><VCpuInMhz2>{mhz}</VCpuInMhz2></Vdc>",
        attrs(&[
            ("name", &v.name),
            ("id", &format!("urn:vcloud:vdc:{}", v.id)),
            ("href", &format!("{base}/api/vdc/{}", v.id)),
            ("type", "application/vnd.vmware.vcloud.vdc+xml"),
        ]),
        esc(&v.description),
        cpu_used,
        mem_used,
        attrs(&[
            (
                "href",
                &format!(
                    "{base}/api/network/{}",
                    Uuid::from_u128(v.id.as_u128() ^ 0xff)
                )
            ),
            ("name", "default-routed"),
            ("type", "application/vnd.vmware.vcloud.network+xml"),
        ]),
        attrs(&[
            (
                "href",
                &format!(
                    "{base}/api/vdcStorageProfile/{}",
                    Uuid::from_u128(v.id.as_u128() ^ 0xfe)
                )
            ),
            ("name", "*"),
            (
                "type",
                "application/vnd.vmware.vcloud.vdcStorageProfile+xml"
            ),
        ]),
    );
    vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.vdc+xml",
        &ctx.version,
        &body,
    )
}

/// Renders a Task document (hrefs under the task's own prefix).
pub(crate) fn task_xml(origin: &str, st: &State, task: &Task, now: std::time::Instant) -> String {
    let base = format!("{origin}{}", task.prefix);
    let phase = task.phase(now);
    let status = match phase {
        TaskPhase::Queued => "queued",
        TaskPhase::Running(_) => "running",
        TaskPhase::Success => "success",
        TaskPhase::Error => "error",
        TaskPhase::Canceled => "canceled",
    };
    let start = iso8601(task.created_wall);
    let expiry = iso8601(task.created_wall + std::time::Duration::from_secs(90 * 86_400));
    let mut a: Vec<(&str, String)> = vec![
        ("cancelRequested", "false".into()),
        ("expiryTime", expiry),
        ("operation", task.operation.clone()),
        ("operationName", task.operation_name.clone()),
        ("serviceNamespace", "com.vmware.vcloud".into()),
        ("startTime", start),
    ];
    if matches!(
        phase,
        TaskPhase::Success | TaskPhase::Error | TaskPhase::Canceled
    ) {
        a.push(("endTime", iso8601(task.created_wall + task.duration)));
    }
    a.push(("status", status.into()));
    a.push(("name", "task".into()));
    a.push(("id", format!("urn:vcloud:task:{}", task.id)));
    a.push(("href", format!("{base}/api/task/{}", task.id)));
    a.push(("type", "application/vnd.vmware.vcloud.task+xml".into()));
    let pairs: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut body = format!("<Task xmlns=\"{NS_VCLOUD}\"{}>", attrs(&pairs));
    if matches!(phase, TaskPhase::Queued | TaskPhase::Running(_)) {
        body.push_str(&link(
            "task:cancel",
            &format!("{base}/api/task/{}/action/cancel", task.id),
            None,
            None,
        ));
    }
    body.push_str(&format!(
        "<Owner{}/>",
        attrs(&[
            ("href", &format!("{base}{}", task.owner_href_path)),
            ("name", &task.owner_name),
            ("type", &task.owner_type),
        ])
    ));
    if let (TaskPhase::Error, Some(msg)) = (phase, &task.failure) {
        body.push_str(&format!(
            "<Error majorErrorCode=\"500\" minorErrorCode=\"INTERNAL_SERVER_ERROR\" message=\"{}\" stackTrace=\"\"/>",
            esc(msg)
        ));
    }
    let org = st
        .orgs
        .iter()
        .find(|o| o.id == super::state::ids::ORG)
        .or(st.orgs.first());
    body.push_str(&format!(
        "<User href=\"{base}/api/admin/user/6e656275-6c61-4000-8000-00000000a001\" name=\"admin\" type=\"application/vnd.vmware.admin.user+xml\"/>"
    ));
    if let Some(o) = org {
        body.push_str(&format!(
            "<Organization{}/>",
            attrs(&[
                ("href", &format!("{base}/api/org/{}", o.id)),
                ("name", &o.name),
                ("type", "application/vnd.vmware.vcloud.org+xml"),
            ])
        ));
    }
    match phase {
        TaskPhase::Queued => body.push_str("<Progress>0</Progress>"),
        TaskPhase::Running(p) => body.push_str(&format!("<Progress>{p}</Progress>")),
        TaskPhase::Success => body.push_str("<Progress>100</Progress>"),
        TaskPhase::Error | TaskPhase::Canceled => {}
    }
    body.push_str("<Details/></Task>");
    body
}

/// A 202 answer carrying a freshly created task.
pub(crate) fn task_accepted(ctx: &Ctx<'_>, st: &State, id: Uuid) -> Response {
    match st.tasks.get(&id) {
        Some(t) => {
            let body = task_xml(&ctx.shared.origin, st, t, ctx.now);
            let mut resp = vcd_xml(
                StatusCode::ACCEPTED,
                "application/vnd.vmware.vcloud.task+xml",
                &ctx.version,
                &body,
            );
            insert_header(
                &mut resp,
                "location",
                &format!("{}{}/api/task/{id}", ctx.shared.origin, t.prefix),
            );
            resp
        }
        None => vcd_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "task vanished",
            &ctx.version,
        ),
    }
}

/// `GET /api/task/{id}`.
pub(crate) fn task(ctx: &Ctx<'_>, id: &str) -> Response {
    let _tok = auth!(ctx);
    let st = ctx.lock();
    let Some(t) = parse_id(id, "").and_then(|u| st.tasks.get(&u)) else {
        return not_found(ctx, id);
    };
    let body = task_xml(&ctx.shared.origin, &st, t, ctx.now);
    vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.vcloud.task+xml",
        &ctx.version,
        &body,
    )
}

/// `POST /api/task/{id}/action/cancel`: a running task ends as `canceled` (its effect is
/// not applied); a finished one is left alone. Answers 204.
pub(crate) fn cancel_task(ctx: &Ctx<'_>, id: &str) -> Response {
    let _tok = auth!(ctx);
    let mut st = ctx.lock();
    let Some(t) = parse_id(id, "").and_then(|u| st.tasks.get_mut(&u)) else {
        drop(st);
        return not_found(ctx, id);
    };
    if matches!(t.phase(ctx.now), TaskPhase::Queued | TaskPhase::Running(_)) {
        t.canceled_at = Some(ctx.now);
    }
    respond(StatusCode::NO_CONTENT, "text/plain", "")
}

/// `GET /api/admin/edgeGateway/{id}`.
pub(crate) fn edge(ctx: &Ctx<'_>, id: &str) -> Response {
    let _tok = auth!(ctx);
    let base = ctx.base();
    let st = ctx.lock();
    let Some(e) = parse_id(id, "").and_then(|u| st.edges.iter().find(|e| e.id == u)) else {
        return not_found(ctx, id);
    };
    let href = format!("{base}/api/admin/edgeGateway/{}", e.id);
    let mut links = link(
        "up",
        &format!("{base}/api/vdc/{}", e.vdc),
        Some("application/vnd.vmware.vcloud.vdc+xml"),
        None,
    );
    links.push_str(&link(
        "edgeGateway:redeploy",
        &format!("{href}/action/redeploy"),
        None,
        None,
    ));
    links.push_str(&link(
        "edgeGateway:configureServices",
        &format!("{href}/action/configureServices"),
        Some("application/vnd.vmware.admin.edgeGatewayServiceConfiguration+xml"),
        None,
    ));
    let body = format!(
        "<EdgeGateway xmlns=\"{NS_VCLOUD}\" status=\"1\"{}>{links}<Configuration><GatewayBackingConfig>compact</GatewayBackingConfig>\
         <GatewayInterfaces>{}</GatewayInterfaces><EdgeGatewayServiceConfiguration>{}</EdgeGatewayServiceConfiguration>\
         <HaEnabled>false</HaEnabled><UseDefaultRouteForDnsRelay>true</UseDefaultRouteForDnsRelay></Configuration></EdgeGateway>",
        attrs(&[
            ("name", &e.name),
            ("id", &format!("urn:vcloud:gateway:{}", e.id)),
            ("href", &href),
            ("type", "application/vnd.vmware.admin.edgeGateway+xml"),
        ]),
        EDGE_INTERFACES.trim().replace("{BASE}", &base),
        e.services_xml.replace("{BASE}", &base),
    );
    vcd_xml(
        StatusCode::OK,
        "application/vnd.vmware.admin.edgeGateway+xml",
        &ctx.version,
        &body,
    )
}

/// The inner XML of the root element of `doc`, after checking the root's name.
fn root_inner(doc: &str, root: &str) -> Result<String, String> {
    let parsed = super::xml::parse(doc)?;
    if parsed.name != root {
        return Err(format!("expected a {root} document, got {}", parsed.name));
    }
    let mut reader = quick_xml::Reader::from_str(doc);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => {
                let start = usize::try_from(reader.buffer_position()).map_err(|e| e.to_string())?;
                let end = doc.rfind("</").ok_or("no end tag")?;
                return Ok(doc.get(start..end).unwrap_or_default().trim().to_owned());
            }
            Ok(quick_xml::events::Event::Empty(_)) => return Ok(String::new()),
            Ok(quick_xml::events::Event::Eof) => return Err("empty document".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// `POST .../action/configureServices`: 202 Task, applied when the task succeeds;
/// 400 `BUSY_ENTITY` while another change runs.
pub(crate) fn configure_services(ctx: &Ctx<'_>, id: &str) -> Response {
    let _tok = auth!(ctx);
    let ct = ctx
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !ct.starts_with("application/vnd.vmware.admin.edgegatewayserviceconfiguration+xml") {
        return vcd_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Expected Content-Type application/vnd.vmware.admin.edgeGatewayServiceConfiguration+xml.",
            &ctx.version,
        );
    }
    let body = match ctx.body_str() {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let inner = match root_inner(body, "EdgeGatewayServiceConfiguration") {
        Ok(i) => i,
        Err(e) => {
            return vcd_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("Bad EdgeGatewayServiceConfiguration: {e}"),
                &ctx.version,
            );
        }
    };
    let mut st = ctx.lock();
    let Some(u) = parse_id(id, "") else {
        drop(st);
        return not_found(ctx, id);
    };
    let running = st.edge_task_running(u, ctx.now);
    let Some(e) = st.edges.iter_mut().find(|e| e.id == u) else {
        drop(st);
        return not_found(ctx, id);
    };
    if e.busy_for > 0 || running {
        e.busy_for = e.busy_for.saturating_sub(1);
        let msg = format!(
            "The entity gateway (com.vmware.vcloud.entity.gateway:{u}) is busy completing an operation NETWORK_GATEWAY_CONFIGURE_SERVICES."
        );
        return vcd_error(StatusCode::BAD_REQUEST, "BUSY_ENTITY", &msg, &ctx.version);
    }
    let name = e.name.clone();
    let owner = (
        format!("/api/admin/edgeGateway/{u}"),
        name.clone(),
        "application/vnd.vmware.admin.edgeGateway+xml".to_owned(),
    );
    let tid = st.new_task(
        "networkConfigureEdgeGatewayServices",
        format!("Configuring services of edge gateway {name}({u})"),
        owner,
        Effect::EdgeServices {
            edge: u,
            xml: inner,
        },
        &ctx.prefix,
        Some(u),
        None,
    );
    task_accepted(ctx, &st, tid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_at_least("5.10", "5.6"));
        assert!(!version_at_least("5.5", "5.6"));
        assert!(version_at_least("33.0", "33.0"));
        assert!(!version_at_least("32.0", "33.0"));
    }

    #[test]
    fn root_inner_extracts_children() {
        let doc = r#"<?xml version="1.0"?><EdgeGatewayServiceConfiguration xmlns="x" a=">"><FirewallService><IsEnabled>true</IsEnabled></FirewallService></EdgeGatewayServiceConfiguration>"#;
        assert_eq!(
            root_inner(doc, "EdgeGatewayServiceConfiguration").expect("inner"),
            "<FirewallService><IsEnabled>true</IsEnabled></FirewallService>"
        );
        assert!(root_inner("<Other/>", "EdgeGatewayServiceConfiguration").is_err());
        assert!(
            root_inner(
                "<EdgeGatewayServiceConfiguration>",
                "EdgeGatewayServiceConfiguration"
            )
            .is_err()
        );
    }
}
