//! Org administration over the cloudapi, as vCD 10.x serves it:
//!
//! - `GET`/`POST /cloudapi/1.0.0/orgs`, `GET`/`PUT`/`DELETE .../orgs/{urn}`: a tenant sees
//!   its own org; creating, changing and deleting orgs needs a `System` session (403
//!   otherwise). A new org is a real org of the simulator: its users can log in. Deleting
//!   an enabled org, or one that holds vDCs or catalogs without `recursive=true`, is
//!   refused (400 `BAD_REQUEST`).
//! - `GET`/`POST .../users`, `GET`/`PUT`/`DELETE .../users/{urn}`: a tenant administrator
//!   manages its org's users, a system administrator every org's. A local user needs a
//!   password of at least 6 characters; roles must exist; a user name is unique in its
//!   org (400 `DUPLICATE_NAME`). Passwords are never returned. Created users log in with
//!   their password (`POST /api/sessions`, `/cloudapi/1.0.0/sessions`) while they and
//!   their org are enabled.
//! - `GET .../roles`, `.../roles/{urn}`, `.../roles/{urn}/rights`: vCD's predefined roles.
//! - API tokens (vCD 10.3.1): `POST /oauth/tenant/{org}/register` (or
//!   `/oauth/provider/register`) registers a client for the session's user; the token
//!   endpoint's `urn:ietf:params:oauth:grant-type:jwt-bearer` grant (the session's JWT as
//!   `assertion`, the `client_id`) answers the API token once, as `refresh_token`; that
//!   token then logs in with the `refresh_token` grant until it is deleted
//!   (`GET .../tokens?filter=type==REFRESH`, `DELETE .../tokens/{urn}`).
//! - Service accounts (vCD 10.4): the same `register` with a `software_id` (and the role in
//!   `scope`, `urn:vcloud:role:<name>`) makes a `CREATED` account
//!   (`GET .../serviceAccounts[/{urn}]`); `POST /oauth/.../device_authorization` answers a
//!   device code and a user code (`REQUESTED`); `POST .../deviceLookup/grant` with the user
//!   code grants it (`GRANTED`); the token endpoint's
//!   `urn:ietf:params:oauth:grant-type:device_code` grant answers `authorization_pending`
//!   until then, and the API token once (`ACTIVE`); the account logs in as itself with it
//!   until `POST .../{urn}/revoke` or `DELETE`.
//!
//! Lists page, filter (FIQL) and sort as the other cloudapi lists (`nsxt.rs`). The texts
//! of the refusals are the simulator's own; vCD's exact wording is not recorded.

use std::collections::HashMap;

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{
    Ctx, cloudapi_bad, cloudapi_forbidden, cloudapi_refusal, json as json_response, respond,
};
use super::state::{Org, State, Token};
use crate::vcloud::SYSTEM_ORG;

/// A right of a role: (name, `VIEW` or `MODIFY`).
type RightDef = (&'static str, &'static str);

/// One predefined role: (name, description, rights).
const ROLES: &[(&str, &str, &[RightDef])] = &[
    (
        "Organization Administrator",
        "Built-in rights for administering an organization",
        &[
            ("Organization: View", "VIEW"),
            ("General: Administrator Control", "MODIFY"),
            ("User: Manage", "MODIFY"),
            ("vApp: Create / Reconfigure a vApp", "MODIFY"),
            ("Catalog: Create / Delete a Catalog", "MODIFY"),
        ],
    ),
    (
        "vApp Author",
        "Rights given to a user who uses catalogs and creates vApps",
        &[
            ("vApp: Create / Reconfigure a vApp", "MODIFY"),
            ("vApp: View VM metrics", "VIEW"),
            ("Catalog: View Private and Shared Catalogs", "VIEW"),
        ],
    ),
    (
        "vApp User",
        "Rights given to a user who uses vApps created by others",
        &[
            ("vApp: Use Console", "MODIFY"),
            ("vApp: View VM metrics", "VIEW"),
        ],
    ),
    (
        "Console Access Only",
        "Rights given to a user who can only view VM state and properties and use the guest OS",
        &[("vApp: Use Console", "MODIFY")],
    ),
    (
        "Catalog Author",
        "Rights given to a user who creates and publishes new catalogs",
        &[
            ("Catalog: Create / Delete a Catalog", "MODIFY"),
            ("Catalog: Publish", "MODIFY"),
        ],
    ),
    (
        "System Administrator",
        "Built-in rights for administering the system",
        &[
            ("General: Administrator Control", "MODIFY"),
            ("Organization: Create", "MODIFY"),
        ],
    ),
];

fn role_id(i: usize) -> Uuid {
    Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_0000_c001 + i as u128)
}

fn right_id(role: usize, j: usize) -> Uuid {
    Uuid::from_u128(0x6e65_6275_6c61_4000_8000_0000_000d_0000 + (role as u128) * 0x100 + j as u128)
}

/// A user of the simulator.
#[derive(Debug, Clone)]
pub(crate) struct SimUser {
    pub(crate) id: Uuid,
    pub(crate) org: Uuid,
    pub(crate) username: String,
    pub(crate) full_name: String,
    pub(crate) description: String,
    pub(crate) email: String,
    /// `None` for the configured administrator (checked against the configuration).
    pub(crate) password: Option<String>,
    pub(crate) roles: Vec<usize>,
    pub(crate) enabled: bool,
}

/// An API token client: registered, then exchanged once for the token.
#[derive(Debug, Clone)]
pub(crate) struct ApiClient {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) org: String,
    pub(crate) user: String,
    /// The API token, once exchanged.
    pub(crate) secret: Option<String>,
    /// Set for a service account (registered with a `software_id`).
    pub(crate) service: Option<ServiceAccount>,
}

/// What a service account adds to its OAuth client (vCD 10.4).
#[derive(Debug, Clone)]
pub(crate) struct ServiceAccount {
    pub(crate) software_id: String,
    pub(crate) software_version: String,
    pub(crate) uri: String,
    pub(crate) role: usize,
    /// `CREATED`, `REQUESTED`, `GRANTED`, `ACTIVE`.
    pub(crate) status: &'static str,
    /// The device authorization in progress: (device code, user code).
    pub(crate) device: Option<(String, String)>,
}

/// The administration part of the simulator's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct AdminState {
    /// Per org: (description, enabled).
    pub(crate) org_meta: HashMap<Uuid, (String, bool)>,
    pub(crate) users: Vec<SimUser>,
    pub(crate) clients: Vec<ApiClient>,
}

impl AdminState {
    /// The configured administrator in every org of the seed.
    pub(crate) fn seeded(orgs: &[Org], admin: &str) -> AdminState {
        let users = orgs
            .iter()
            .map(|o| {
                let sys = o.name.eq_ignore_ascii_case(SYSTEM_ORG);
                SimUser {
                    id: if sys {
                        Uuid::from_u128(super::workload::user_id(admin).as_u128() ^ 0x5)
                    } else {
                        super::workload::user_id(admin)
                    },
                    org: o.id,
                    username: admin.to_owned(),
                    full_name: "Administrator".into(),
                    description: String::new(),
                    email: String::new(),
                    password: None,
                    roles: vec![if sys { 5 } else { 0 }],
                    enabled: true,
                }
            })
            .collect();
        AdminState {
            org_meta: orgs.iter().map(|o| (o.id, (String::new(), true))).collect(),
            users,
            clients: Vec::new(),
        }
    }
}

/// Whether `user@org` with `password` is a created (not the configured) enabled user of an
/// enabled org.
pub(crate) fn login_ok(st: &State, org: &str, user: &str, password: &str) -> bool {
    let Some(o) = st.org_by_name(org) else {
        return false;
    };
    let org_on = st.admin.org_meta.get(&o.id).is_none_or(|m| m.1);
    org_on
        && st.admin.users.iter().any(|u| {
            u.org == o.id
                && u.username == user
                && u.enabled
                && u.password.as_deref() == Some(password)
        })
}

/// The API token client whose exchanged token is `secret`: (user, org).
pub(crate) fn api_token_owner(st: &State, secret: &str) -> Option<(String, String)> {
    st.admin
        .clients
        .iter()
        .find(|c| c.secret.as_deref() == Some(secret))
        .map(|c| {
            // A service account logs in as itself, a user's API token as that user.
            let who = if c.service.is_some() {
                &c.name
            } else {
                &c.user
            };
            (who.clone(), c.org.clone())
        })
}

fn err(status: StatusCode, minor: &str, message: &str) -> Response {
    cloudapi_refusal(status, minor, message)
}

fn bad(message: &str) -> Response {
    cloudapi_bad(message)
}

fn forbidden(what: &str) -> Response {
    cloudapi_forbidden("ORG_VIEW", "ORG_VIEW", what)
}

fn unauthenticated() -> Response {
    err(
        StatusCode::UNAUTHORIZED,
        "NOT_AUTHENTICATED",
        "This operation is denied.",
    )
}

fn is_sys(tok: &Token) -> bool {
    tok.org.eq_ignore_ascii_case(SYSTEM_ORG)
}

fn org_json(st: &State, o: &Org) -> Value {
    let (desc, enabled) = st.admin.org_meta.get(&o.id).cloned().unwrap_or_default();
    let vdcs = st.vdcs.iter().filter(|v| v.org == o.id).count();
    let users = st.admin.users.iter().filter(|u| u.org == o.id).count();
    json!({
        "id": format!("urn:vcloud:org:{}", o.id),
        "name": o.name,
        "displayName": o.full_name,
        "description": desc,
        "isEnabled": enabled,
        "orgVdcCount": vdcs,
        "catalogCount": st.catalogs.iter().filter(|c| c.org == o.id).count(),
        "vappCount": st.vapps.iter().filter(|a| st.vdcs.iter().any(|v| v.id == a.vdc && v.org == o.id)).count(),
        "runningVMCount": 0,
        "userCount": users,
        "diskCount": 0,
        "managedBy": {"name": SYSTEM_ORG, "id": format!("urn:vcloud:org:{}", super::state::ids::SYSTEM_ORG)},
        "canManageOrgs": o.name.eq_ignore_ascii_case(SYSTEM_ORG),
        "canPublish": false,
        "maskedEventTaskUsername": null,
        "directlyManagedOrgCount": 0
    })
}

fn role_ref(i: usize) -> Value {
    json!({"name": ROLES[i].0, "id": format!("urn:vcloud:role:{}", role_id(i))})
}

fn user_json(st: &State, u: &SimUser) -> Value {
    let org = st.orgs.iter().find(|o| o.id == u.org);
    json!({
        "id": format!("urn:vcloud:user:{}", u.id),
        "username": u.username,
        "fullName": u.full_name,
        "description": u.description,
        "roleEntityRefs": u.roles.iter().map(|r| role_ref(*r)).collect::<Vec<_>>(),
        "orgEntityRef": {"name": org.map(|o| o.name.clone()), "id": format!("urn:vcloud:org:{}", u.org)},
        "email": u.email,
        "nameInSource": u.username,
        "enabled": u.enabled,
        "isGroupRole": false,
        "providerType": "LOCAL",
        "locked": false,
        "stranded": false
    })
}

fn body_json(ctx: &Ctx<'_>) -> Result<Value, Box<Response>> {
    match serde_json::from_slice::<Value>(&ctx.body) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(Box::new(bad("The request body must be a JSON object."))),
        Err(e) => Err(Box::new(bad(&format!(
            "Unable to parse the request body as JSON: {e}."
        )))),
    }
}

fn s<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

fn urn_uuid(seg: &str, kind: &str) -> Option<Uuid> {
    Uuid::parse_str(seg.strip_prefix(&format!("urn:vcloud:{kind}:"))?).ok()
}

macro_rules! token {
    ($ctx:expr) => {
        match $ctx.vcd_token() {
            Some(t) => t,
            None => return unauthenticated(),
        }
    };
}

/// `GET /cloudapi/1.0.0/orgs`.
pub(crate) fn orgs(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    let st = ctx.lock();
    let items: Vec<Value> = st
        .orgs
        .iter()
        .filter(|o| is_sys(&tok) || o.name.eq_ignore_ascii_case(&tok.org))
        .map(|o| org_json(&st, o))
        .collect();
    drop(st);
    super::query::cloudapi_page(ctx, items)
}

/// `POST /cloudapi/1.0.0/orgs`.
pub(crate) fn create_org(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    if !is_sys(&tok) {
        return forbidden("orgs");
    }
    let body = match body_json(ctx) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let name = s(&body, "name").unwrap_or("").trim().to_owned();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return bad(&format!("Invalid organization name \"{name}\"."));
    }
    let mut st = ctx.lock();
    if st.org_by_name(&name).is_some() {
        drop(st);
        return err(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            &format!("An organization named \"{name}\" already exists."),
        );
    }
    let id = crate::random_uuid();
    let org = Org {
        id,
        name: name.clone(),
        full_name: s(&body, "displayName").unwrap_or(&name).to_owned(),
    };
    st.orgs.push(org.clone());
    let enabled = body
        .get("isEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let desc = s(&body, "description").unwrap_or("").to_owned();
    st.admin.org_meta.insert(id, (desc, enabled));
    let v = org_json(&st, &org);
    json_response(StatusCode::CREATED, &v)
}

/// `GET`, `PUT`, `DELETE /cloudapi/1.0.0/orgs/{urn}`.
pub(crate) fn org(ctx: &Ctx<'_>, id: &str) -> Response {
    let tok = token!(ctx);
    let mut st = ctx.lock();
    let Some(o) = urn_uuid(id, "org")
        .and_then(|u| st.orgs.iter().find(|o| o.id == u))
        .cloned()
    else {
        drop(st);
        return forbidden(id);
    };
    if !is_sys(&tok) && !o.name.eq_ignore_ascii_case(&tok.org) {
        drop(st);
        return forbidden(id);
    }
    match ctx.method {
        http::Method::GET => json_response(StatusCode::OK, &org_json(&st, &o)),
        http::Method::PUT => {
            if !is_sys(&tok) {
                drop(st);
                return forbidden(id);
            }
            let body = match body_json(ctx) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            if let Some(n) = s(&body, "name")
                && n != o.name
            {
                drop(st);
                return bad("The name of an organization cannot be changed here.");
            }
            if let Some(x) = st.orgs.iter_mut().find(|x| x.id == o.id)
                && let Some(d) = s(&body, "displayName")
            {
                x.full_name = d.to_owned();
            }
            let meta = st
                .admin
                .org_meta
                .entry(o.id)
                .or_insert((String::new(), true));
            if let Some(d) = s(&body, "description") {
                meta.0 = d.to_owned();
            }
            if let Some(e) = body.get("isEnabled").and_then(Value::as_bool) {
                meta.1 = e;
            }
            let o = st.orgs.iter().find(|x| x.id == o.id).cloned().unwrap_or(o);
            json_response(StatusCode::OK, &org_json(&st, &o))
        }
        http::Method::DELETE => {
            if !is_sys(&tok) || o.name.eq_ignore_ascii_case(SYSTEM_ORG) {
                drop(st);
                return forbidden(id);
            }
            if st.admin.org_meta.get(&o.id).is_none_or(|m| m.1) {
                drop(st);
                return bad(&format!(
                    "The organization \"{}\" is enabled: disable it before deleting it.",
                    o.name
                ));
            }
            let recursive = ctx.param("recursive") == Some("true");
            let holds =
                st.vdcs.iter().any(|v| v.org == o.id) || st.catalogs.iter().any(|c| c.org == o.id);
            if holds && !recursive {
                drop(st);
                return bad(&format!(
                    "The organization \"{}\" still has VDCs or catalogs: delete them first or use recursive=true.",
                    o.name
                ));
            }
            let vdcs: Vec<Uuid> = st
                .vdcs
                .iter()
                .filter(|v| v.org == o.id)
                .map(|v| v.id)
                .collect();
            st.vdcs.retain(|v| v.org != o.id);
            st.vapps.retain(|a| !vdcs.contains(&a.vdc));
            st.vms.retain(|m| !vdcs.contains(&m.vdc));
            st.catalogs.retain(|c| c.org != o.id);
            st.orgs.retain(|x| x.id != o.id);
            st.admin.users.retain(|u| u.org != o.id);
            st.admin.org_meta.remove(&o.id);
            respond(StatusCode::NO_CONTENT, "application/json", "")
        }
        _ => bad("Unsupported method."),
    }
}

fn visible(tok: &Token, st: &State, u: &SimUser) -> bool {
    is_sys(tok) || st.org_by_name(&tok.org).is_some_and(|o| o.id == u.org)
}

/// `GET /cloudapi/1.0.0/users`.
pub(crate) fn users(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    let st = ctx.lock();
    let items: Vec<Value> = st
        .admin
        .users
        .iter()
        .filter(|u| visible(&tok, &st, u))
        .map(|u| user_json(&st, u))
        .collect();
    drop(st);
    super::query::cloudapi_page(ctx, items)
}

fn roles_of(body: &Value) -> Result<Vec<usize>, String> {
    let refs = body
        .get("roleEntityRefs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if refs.is_empty() {
        return Err("A user needs a role.".into());
    }
    refs.iter()
        .map(|r| {
            let id = s(r, "id").and_then(|i| urn_uuid(i, "role"));
            (0..ROLES.len())
                .find(|i| Some(role_id(*i)) == id)
                .ok_or_else(|| format!("Role {r} does not exist."))
        })
        .collect()
}

/// `POST /cloudapi/1.0.0/users`.
pub(crate) fn create_user(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    let body = match body_json(ctx) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let mut st = ctx.lock();
    let org = match body
        .get("orgEntityRef")
        .and_then(|o| s(o, "id"))
        .and_then(|i| urn_uuid(i, "org"))
    {
        Some(u) if is_sys(&tok) || st.org_by_name(&tok.org).is_some_and(|o| o.id == u) => u,
        Some(u) => {
            drop(st);
            return forbidden(&format!("urn:vcloud:org:{u}"));
        }
        None => match st.org_by_name(&tok.org) {
            Some(o) => o.id,
            None => {
                drop(st);
                return bad("The session's organization is unknown.");
            }
        },
    };
    if !st.orgs.iter().any(|o| o.id == org) {
        drop(st);
        return forbidden(&format!("urn:vcloud:org:{org}"));
    }
    let username = s(&body, "username").unwrap_or("").trim().to_owned();
    if username.is_empty() {
        drop(st);
        return bad("The user name is required.");
    }
    let local = s(&body, "providerType").is_none_or(|p| p.eq_ignore_ascii_case("LOCAL"));
    let password = s(&body, "password").map(str::to_owned);
    if local && password.as_deref().is_none_or(|p| p.chars().count() < 6) {
        drop(st);
        return bad("A local user needs a password of at least 6 characters.");
    }
    let roles = match roles_of(&body) {
        Ok(r) => r,
        Err(m) => {
            drop(st);
            return bad(&m);
        }
    };
    if st
        .admin
        .users
        .iter()
        .any(|u| u.org == org && u.username.eq_ignore_ascii_case(&username))
    {
        drop(st);
        return err(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            &format!("A user named \"{username}\" already exists in the organization."),
        );
    }
    let user = SimUser {
        id: crate::random_uuid(),
        org,
        username,
        full_name: s(&body, "fullName").unwrap_or("").to_owned(),
        description: s(&body, "description").unwrap_or("").to_owned(),
        email: s(&body, "email").unwrap_or("").to_owned(),
        password,
        roles,
        enabled: body.get("enabled").and_then(Value::as_bool).unwrap_or(true),
    };
    st.admin.users.push(user.clone());
    let v = user_json(&st, &user);
    json_response(StatusCode::CREATED, &v)
}

/// `GET`, `PUT`, `DELETE /cloudapi/1.0.0/users/{urn}`.
pub(crate) fn user(ctx: &Ctx<'_>, id: &str) -> Response {
    let tok = token!(ctx);
    let mut st = ctx.lock();
    let Some(u) = urn_uuid(id, "user")
        .and_then(|x| st.admin.users.iter().find(|u| u.id == x))
        .cloned()
        .filter(|u| visible(&tok, &st, u))
    else {
        drop(st);
        return forbidden(id);
    };
    match ctx.method {
        http::Method::GET => json_response(StatusCode::OK, &user_json(&st, &u)),
        http::Method::PUT => {
            let body = match body_json(ctx) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            let roles = if body.get("roleEntityRefs").is_some() {
                match roles_of(&body) {
                    Ok(r) => Some(r),
                    Err(m) => {
                        drop(st);
                        return bad(&m);
                    }
                }
            } else {
                None
            };
            if let Some(p) = s(&body, "password")
                && p.chars().count() < 6
            {
                drop(st);
                return bad("A local user needs a password of at least 6 characters.");
            }
            let Some(x) = st.admin.users.iter_mut().find(|x| x.id == u.id) else {
                drop(st);
                return forbidden(id);
            };
            if let Some(v) = s(&body, "fullName") {
                x.full_name = v.to_owned();
            }
            if let Some(v) = s(&body, "description") {
                x.description = v.to_owned();
            }
            if let Some(v) = s(&body, "email") {
                x.email = v.to_owned();
            }
            if let Some(e) = body.get("enabled").and_then(Value::as_bool) {
                x.enabled = e;
            }
            if let Some(p) = s(&body, "password") {
                x.password = Some(p.to_owned());
            }
            if let Some(r) = roles {
                x.roles = r;
            }
            let x = x.clone();
            json_response(StatusCode::OK, &user_json(&st, &x))
        }
        http::Method::DELETE => {
            st.admin.users.retain(|x| x.id != u.id);
            let org_name = st_org_name(&st.orgs, u.org);
            st.admin
                .clients
                .retain(|c| !(c.user == u.username && c.org == org_name));
            respond(StatusCode::NO_CONTENT, "application/json", "")
        }
        _ => bad("Unsupported method."),
    }
}

fn st_org_name(orgs: &[Org], id: Uuid) -> String {
    orgs.iter()
        .find(|o| o.id == id)
        .map(|o| o.name.clone())
        .unwrap_or_default()
}

fn role_json(i: usize) -> Value {
    json!({
        "id": format!("urn:vcloud:role:{}", role_id(i)),
        "name": ROLES[i].0,
        "description": ROLES[i].1,
        "bundleKey": format!("ROLE_{}", ROLES[i].0.to_uppercase().replace([' ', '/'], "_")),
        "readOnly": true
    })
}

/// `GET /cloudapi/1.0.0/roles`.
pub(crate) fn roles(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    let items: Vec<Value> = (0..ROLES.len())
        .filter(|i| (ROLES[*i].0 == "System Administrator") == is_sys(&tok))
        .map(role_json)
        .collect();
    super::query::cloudapi_page(ctx, items)
}

/// `GET /cloudapi/1.0.0/roles/{urn}` and `.../roles/{urn}/rights`.
pub(crate) fn role(ctx: &Ctx<'_>, id: &str, rights: bool) -> Response {
    let _tok = token!(ctx);
    let Some(i) = urn_uuid(id, "role").and_then(|u| (0..ROLES.len()).find(|i| role_id(*i) == u))
    else {
        return forbidden(id);
    };
    if !rights {
        return json_response(StatusCode::OK, &role_json(i));
    }
    let items: Vec<Value> = ROLES[i]
        .2
        .iter()
        .enumerate()
        .map(|(j, (name, kind))| {
            json!({
                "id": format!("urn:vcloud:right:{}", right_id(i, j)),
                "name": name,
                "description": name,
                "bundleKey": format!("RIGHT_{}", name.to_uppercase().replace([' ', ':', '/'], "_")),
                "category": format!("urn:vcloud:rightsCategory:{}", name.split(':').next().unwrap_or("").trim().to_lowercase()),
                "serviceNamespace": "com.vmware.vcloud",
                "rightType": kind
            })
        })
        .collect();
    super::query::cloudapi_page(ctx, items)
}

/// `POST /oauth/tenant/{org}/register` (`org` `None`: `/oauth/provider/register`).
pub(crate) fn register(ctx: &Ctx<'_>, org: Option<&str>) -> Response {
    let tok = token!(ctx);
    let want = org.unwrap_or(SYSTEM_ORG);
    if !tok.org.eq_ignore_ascii_case(want) {
        return forbidden(&format!("oauth/{want}/register"));
    }
    let body = match body_json(ctx) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(name) = s(&body, "client_name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        return bad("client_name is required.");
    };
    let mut st = ctx.lock();
    if st
        .admin
        .clients
        .iter()
        .any(|c| c.user == tok.user && c.org.eq_ignore_ascii_case(&tok.org) && c.name == name)
    {
        drop(st);
        return err(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            &format!("A token named \"{name}\" already exists."),
        );
    }
    let service = match s(&body, "software_id").map(str::trim) {
        None => None,
        Some(sw) => {
            if Uuid::parse_str(sw).is_err() {
                drop(st);
                return bad("software_id must be a UUID.");
            }
            // `scope` names the role: `urn:vcloud:role:<name, percent-encoded>`.
            let role_name = s(&body, "scope")
                .and_then(|sc| sc.strip_prefix("urn:vcloud:role:"))
                .map(|n| {
                    url::form_urlencoded::parse(format!("n={n}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                })
                .unwrap_or_else(|| "vApp Author".to_owned());
            let Some(role) = (0..ROLES.len()).find(|i| ROLES[*i].0 == role_name) else {
                drop(st);
                return bad(&format!("Role \"{role_name}\" does not exist."));
            };
            Some(ServiceAccount {
                software_id: sw.to_owned(),
                software_version: s(&body, "software_version").unwrap_or("").to_owned(),
                uri: s(&body, "client_uri").unwrap_or("").to_owned(),
                role,
                status: "CREATED",
                device: None,
            })
        }
    };
    let id = crate::random_uuid();
    st.admin.clients.push(ApiClient {
        id,
        name: name.to_owned(),
        org: tok.org.clone(),
        user: tok.user.clone(),
        secret: None,
        service,
    });
    json_response(
        StatusCode::OK,
        &json!({
            "client_name": name,
            "client_id": id.to_string(),
            "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
            "token_endpoint_auth_method": "none",
            "software_id": null,
            "software_version": null,
            "client_uri": null,
            "logo_uri": null,
            "tos_uri": null
        }),
    )
}

/// The `jwt-bearer` grant of the token endpoint: `Ok((user, org, secret))` for a valid
/// session JWT and a registered, not yet exchanged client of its user.
pub(crate) fn exchange(
    st: &mut State,
    assertion: &str,
    client_id: &str,
    org: &str,
) -> Result<(String, String, String), &'static str> {
    let tok = st
        .tokens
        .get(assertion)
        .filter(|t| !t.revoked && t.org.eq_ignore_ascii_case(org))
        .cloned()
        .ok_or("The assertion is not a valid session token of this organization.")?;
    let id = Uuid::parse_str(client_id).map_err(|_| "Unknown client_id.")?;
    let client = st
        .admin
        .clients
        .iter_mut()
        .find(|c| {
            c.id == id
                && c.service.is_none()
                && c.user == tok.user
                && c.org.eq_ignore_ascii_case(&tok.org)
        })
        .ok_or("Unknown client_id.")?;
    if client.secret.is_some() {
        return Err("The token of this client was already issued.");
    }
    let secret = format!(
        "{}{}",
        crate::random_uuid().simple(),
        crate::random_uuid().simple()
    );
    client.secret = Some(secret.clone());
    Ok((tok.user, tok.org, secret))
}

fn token_json(st: &State, c: &ApiClient) -> Value {
    let org_id = st.org_by_name(&c.org).map(|o| o.id).unwrap_or_default();
    let user_id = st
        .admin
        .users
        .iter()
        .find(|u| u.org == org_id && u.username == c.user)
        .map(|u| u.id)
        .unwrap_or_default();
    json!({
        "id": format!("urn:vcloud:token:{}", c.id),
        "name": c.name,
        "token": null,
        "expirationTimeUtc": null,
        "owner": {"name": c.user, "id": format!("urn:vcloud:user:{user_id}")},
        "org": {"name": c.org, "id": format!("urn:vcloud:org:{org_id}")},
        "type": "REFRESH"
    })
}

/// `GET /cloudapi/1.0.0/tokens`: the session user's API tokens.
pub(crate) fn tokens(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    let st = ctx.lock();
    let items: Vec<Value> = st
        .admin
        .clients
        .iter()
        .filter(|c| {
            c.service.is_none() && c.user == tok.user && c.org.eq_ignore_ascii_case(&tok.org)
        })
        .map(|c| token_json(&st, c))
        .collect();
    drop(st);
    super::query::cloudapi_page(ctx, items)
}

/// `GET`, `DELETE /cloudapi/1.0.0/tokens/{urn}`.
pub(crate) fn token(ctx: &Ctx<'_>, id: &str) -> Response {
    let tok = token!(ctx);
    let mut st = ctx.lock();
    let Some(c) = urn_uuid(id, "token")
        .and_then(|u| st.admin.clients.iter().find(|c| c.id == u))
        .filter(|c| c.user == tok.user && c.org.eq_ignore_ascii_case(&tok.org))
        .cloned()
    else {
        drop(st);
        return forbidden(id);
    };
    match ctx.method {
        http::Method::GET => json_response(StatusCode::OK, &token_json(&st, &c)),
        http::Method::DELETE => {
            st.admin.clients.retain(|x| x.id != c.id);
            respond(StatusCode::NO_CONTENT, "application/json", "")
        }
        _ => bad("Unsupported method."),
    }
}

fn service_json(st: &State, c: &ApiClient, sa: &ServiceAccount) -> Value {
    let org_id = st.org_by_name(&c.org).map(|o| o.id).unwrap_or_default();
    json!({
        "id": format!("urn:vcloud:serviceAccount:{}", c.id),
        "name": c.name,
        "softwareId": sa.software_id,
        "softwareVersion": sa.software_version,
        "role": role_ref(sa.role),
        "uri": sa.uri,
        "org": {"name": c.org, "id": format!("urn:vcloud:org:{org_id}")},
        "status": sa.status
    })
}

/// `GET /cloudapi/1.0.0/serviceAccounts`: the service accounts of the session's org.
pub(crate) fn service_accounts(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    let st = ctx.lock();
    let items: Vec<Value> = st
        .admin
        .clients
        .iter()
        .filter(|c| is_sys(&tok) || c.org.eq_ignore_ascii_case(&tok.org))
        .filter_map(|c| c.service.as_ref().map(|sa| service_json(&st, c, sa)))
        .collect();
    drop(st);
    super::query::cloudapi_page(ctx, items)
}

/// `GET`, `DELETE /cloudapi/1.0.0/serviceAccounts/{urn}` and `POST .../{urn}/revoke`.
pub(crate) fn service_account(ctx: &Ctx<'_>, id: &str, revoke: bool) -> Response {
    let tok = token!(ctx);
    let mut st = ctx.lock();
    let Some(i) = urn_uuid(id, "serviceAccount").and_then(|u| {
        st.admin.clients.iter().position(|c| {
            c.id == u
                && c.service.is_some()
                && (is_sys(&tok) || c.org.eq_ignore_ascii_case(&tok.org))
        })
    }) else {
        drop(st);
        return forbidden(id);
    };
    match (&ctx.method, revoke) {
        (&http::Method::GET, false) => {
            let c = &st.admin.clients[i];
            let v = service_json(&st, c, c.service.as_ref().expect("a service account"));
            json_response(StatusCode::OK, &v)
        }
        (&http::Method::POST, true) => {
            let c = &mut st.admin.clients[i];
            c.secret = None;
            if let Some(sa) = c.service.as_mut() {
                sa.status = "CREATED";
                sa.device = None;
            }
            respond(StatusCode::NO_CONTENT, "application/json", "")
        }
        (&http::Method::DELETE, false) => {
            st.admin.clients.remove(i);
            respond(StatusCode::NO_CONTENT, "application/json", "")
        }
        _ => bad("Unsupported method."),
    }
}

/// `POST /oauth/tenant/{org}/device_authorization` (form `client_id`): starts the device
/// authorization of a service account.
pub(crate) fn device_authorization(ctx: &Ctx<'_>, org: Option<&str>) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&ctx.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let client_id = form
        .iter()
        .find(|(k, _)| k == "client_id")
        .and_then(|(_, v)| Uuid::parse_str(v).ok());
    let org_name = org.unwrap_or(SYSTEM_ORG);
    let mut st = ctx.lock();
    let Some(c) = client_id.and_then(|u| {
        st.admin
            .clients
            .iter_mut()
            .find(|c| c.id == u && c.service.is_some() && c.org.eq_ignore_ascii_case(org_name))
    }) else {
        drop(st);
        return oauth_error("invalid_client", "Unknown client_id.");
    };
    let device = format!("{}", crate::random_uuid().simple());
    let user_code = crate::random_uuid().simple().to_string()[..8].to_uppercase();
    if let Some(sa) = c.service.as_mut() {
        sa.status = "REQUESTED";
        sa.device = Some((device.clone(), user_code.clone()));
    }
    let origin = ctx.shared.origin.clone();
    json_response(
        StatusCode::OK,
        &json!({
            "device_code": device,
            "user_code": user_code,
            "verification_uri": format!("{origin}/tenant/{org_name}/administration/settings/service-accounts"),
            "expires_in": 600,
            "interval": 1
        }),
    )
}

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "error_description": description}),
    )
}

/// `POST /cloudapi/1.0.0/deviceLookup/grant` (`{"userCode"}`): an administrator of the
/// org grants a requested service account.
pub(crate) fn grant(ctx: &Ctx<'_>) -> Response {
    let tok = token!(ctx);
    let body = match body_json(ctx) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let code = s(&body, "userCode").unwrap_or("").trim().to_uppercase();
    let mut st = ctx.lock();
    let Some(sa) = st
        .admin
        .clients
        .iter_mut()
        .filter(|c| is_sys(&tok) || c.org.eq_ignore_ascii_case(&tok.org))
        .filter_map(|c| c.service.as_mut())
        .find(|sa| sa.device.as_ref().is_some_and(|(_, u)| *u == code))
    else {
        drop(st);
        return bad(&format!(
            "No service account waits for the user code \"{code}\"."
        ));
    };
    sa.status = "GRANTED";
    respond(StatusCode::NO_CONTENT, "application/json", "")
}

/// The `device_code` grant: `Ok((name, org, secret))` once the service account is granted;
/// `Err(("authorization_pending", ..))` before.
pub(crate) fn device_token(
    st: &mut State,
    client_id: &str,
    device_code: &str,
    org: &str,
) -> Result<(String, String, String), (&'static str, &'static str)> {
    let id = Uuid::parse_str(client_id).map_err(|_| ("invalid_client", "Unknown client_id."))?;
    let c = st
        .admin
        .clients
        .iter_mut()
        .find(|c| c.id == id && c.org.eq_ignore_ascii_case(org))
        .ok_or(("invalid_client", "Unknown client_id."))?;
    let sa = c
        .service
        .as_mut()
        .ok_or(("invalid_client", "The client is not a service account."))?;
    if sa.device.as_ref().map(|(d, _)| d.as_str()) != Some(device_code) {
        return Err(("invalid_grant", "Unknown or expired device_code."));
    }
    match sa.status {
        "REQUESTED" => {
            return Err((
                "authorization_pending",
                "The service account is not granted yet.",
            ));
        }
        "GRANTED" => {}
        _ => return Err(("invalid_grant", "The device_code was already used.")),
    }
    let secret = format!(
        "{}{}",
        crate::random_uuid().simple(),
        crate::random_uuid().simple()
    );
    sa.status = "ACTIVE";
    c.secret = Some(secret.clone());
    Ok((c.name.clone(), c.org.clone(), secret))
}
