//! vCloud Air logins: the subscription service (vchs, VPC/Dedicated) and On-Demand
//! (IAM login + service controller).

use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::json;
use uuid::Uuid;

use super::TokenKind;
use super::common::{Ctx, json, parse_id, respond, xml};
use super::xml::{NS_VCHS, attrs, esc};

const VCHS_CT: &str = "application/xml;class=vnd.vmware.vchs";

fn vchs_error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<Error xmlns=\"{NS_VCHS}\" majorErrorCode=\"{}\" minorErrorCode=\"{}\" message=\"{}\"/>",
        status.as_u16(),
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_uppercase()
            .replace(' ', "_"),
        esc(message)
    );
    xml(status, "application/xml;class=vnd.vmware.vchs.error", &body)
}

fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

fn creds_ok(ctx: &Ctx<'_>) -> Option<String> {
    let (user, password) = ctx.basic()?;
    (user == ctx.shared.cfg.user && password == ctx.shared.cfg.password).then_some(user)
}

fn vchs_token(ctx: &Ctx<'_>) -> bool {
    let Some(t) = ctx.header("x-vchs-authorization") else {
        return false;
    };
    ctx.lock()
        .check_token(t, &[TokenKind::Vchs], ctx.now)
        .is_some()
}

/// `POST /api/vchs/sessions`: Basic login, 201 with `x-vchs-authorization`.
pub(crate) fn login(ctx: &Ctx<'_>) -> Response {
    let Some(user) = creds_ok(ctx) else {
        return vchs_error(StatusCode::UNAUTHORIZED, "Invalid user name or password.");
    };
    let token = ctx.lock().issue_token(TokenKind::Vchs, &user, "");
    let o = &ctx.shared.origin;
    let body = format!(
        "<Session xmlns=\"{NS_VCHS}\" href=\"{o}/api/vchs/session\" type=\"{VCHS_CT}.session\">\
         <Link rel=\"down\" href=\"{o}/api/vchs/services\" type=\"{VCHS_CT}.servicelist\"/>\
         <Link rel=\"remove\" href=\"{o}/api/vchs/session\" type=\"{VCHS_CT}.session\"/>\
         </Session>"
    );
    let resp = xml(StatusCode::CREATED, &format!("{VCHS_CT}.session"), &body);
    with_header(resp, "x-vchs-authorization", &token)
}

/// `DELETE /api/vchs/session`.
pub(crate) fn logout(ctx: &Ctx<'_>) -> Response {
    let Some(t) = ctx.header("x-vchs-authorization") else {
        return vchs_error(StatusCode::UNAUTHORIZED, "Missing x-vchs-authorization.");
    };
    match ctx.lock().tokens.get_mut(t) {
        Some(tok) if tok.kind == TokenKind::Vchs && !tok.revoked => {
            tok.revoked = true;
            respond(StatusCode::NO_CONTENT, "text/plain", "")
        }
        _ => vchs_error(StatusCode::UNAUTHORIZED, "Unknown or expired token."),
    }
}

/// `GET /api/vchs/services`.
pub(crate) fn services(ctx: &Ctx<'_>) -> Response {
    if !vchs_token(ctx) {
        return vchs_error(StatusCode::UNAUTHORIZED, "Unknown or expired token.");
    }
    let o = &ctx.shared.origin;
    let sid = ctx.lock().vpc_service_id;
    let body = format!(
        "<Services xmlns=\"{NS_VCHS}\" href=\"{o}/api/vchs/services\" type=\"{VCHS_CT}.servicelist\">\
         <Service{}/></Services>",
        attrs(&[
            ("href", &format!("{o}/api/vchs/compute/{sid}")),
            ("region", "US - Anywhere"),
            ("serviceId", "M123456789-12345"),
            ("serviceType", "compute:vpc"),
            ("type", &format!("{VCHS_CT}.compute")),
        ])
    );
    xml(StatusCode::OK, &format!("{VCHS_CT}.servicelist"), &body)
}

/// `GET /api/vchs/compute/{id}`: Compute with one VdcRef per vDC.
pub(crate) fn compute(ctx: &Ctx<'_>, id: &str) -> Response {
    if !vchs_token(ctx) {
        return vchs_error(StatusCode::UNAUTHORIZED, "Unknown or expired token.");
    }
    let st = ctx.lock();
    if parse_id(id, "") != Some(st.vpc_service_id) {
        return vchs_error(StatusCode::NOT_FOUND, "No such compute service.");
    }
    let o = &ctx.shared.origin;
    let mut refs = String::new();
    for vdc_id in &st.vpc_vdcs {
        let Some(vdc) = st.vdcs.iter().find(|v| v.id == *vdc_id) else {
            continue;
        };
        let href = format!("{o}/api/vchs/compute/{id}/vdc/{vdc_id}");
        refs.push_str(&format!(
            "<VdcRef{}><Link{}/></VdcRef>",
            attrs(&[
                ("href", &href),
                ("name", &vdc.name),
                ("status", "Active"),
                ("type", &format!("{VCHS_CT}.vdcref")),
            ]),
            attrs(&[
                ("href", &format!("{href}/vcloudsession")),
                ("name", &vdc.name),
                ("rel", "down"),
                ("type", &format!("{VCHS_CT}.vcloudsession")),
            ])
        ));
    }
    let body = format!(
        "<Compute xmlns=\"{NS_VCHS}\" href=\"{o}/api/vchs/compute/{id}\" serviceId=\"M123456789-12345\" serviceType=\"compute:vpc\" type=\"{VCHS_CT}.compute\">\
         <Link href=\"{o}/api/vchs/services\" name=\"services\" rel=\"up\" type=\"{VCHS_CT}.servicelist\"/>{refs}</Compute>"
    );
    xml(StatusCode::OK, &format!("{VCHS_CT}.compute"), &body)
}

/// `POST .../vdc/{vdc}/vcloudsession`: 201 VCloudSession with the vCD token in VdcLink.
pub(crate) fn vcloudsession(ctx: &Ctx<'_>, sid: &str, vdc: &str) -> Response {
    if !vchs_token(ctx) {
        return vchs_error(StatusCode::UNAUTHORIZED, "Unknown or expired token.");
    }
    let mut st = ctx.lock();
    let Some(vdc_id) = parse_id(vdc, "") else {
        return vchs_error(StatusCode::NOT_FOUND, "No such vDC.");
    };
    if parse_id(sid, "") != Some(st.vpc_service_id) || !st.vpc_vdcs.contains(&vdc_id) {
        return vchs_error(StatusCode::NOT_FOUND, "No such vDC.");
    }
    let Some(v) = st.vdcs.iter().find(|v| v.id == vdc_id).cloned() else {
        return vchs_error(StatusCode::NOT_FOUND, "No such vDC.");
    };
    let org_name = st
        .orgs
        .iter()
        .find(|o| o.id == v.org)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let token = st.issue_token(TokenKind::Vcd, &ctx.shared.cfg.user, &org_name);
    let o = &ctx.shared.origin;
    let href = format!("{o}/api/vchs/compute/{sid}/vdc/{vdc_id}");
    let body = format!(
        "<VCloudSession xmlns=\"{NS_VCHS}\" href=\"{href}/vcloudsession\" name=\"{}-session\" type=\"{VCHS_CT}.vcloudsession\">\
         <Link href=\"{href}\" name=\"vdc\" rel=\"up\" type=\"{VCHS_CT}.vdcref\"/>\
         <VdcLink{}/></VCloudSession>",
        esc(&v.name),
        attrs(&[
            ("authorizationHeader", "x-vcloud-authorization"),
            ("authorizationToken", &token),
            ("href", &format!("{o}/compute:443/api/vdc/{vdc_id}")),
            ("name", &v.name),
            ("rel", "vcloudvdc"),
            ("type", "application/vnd.vmware.vcloud.vdc+xml"),
        ])
    );
    xml(
        StatusCode::CREATED,
        &format!("{VCHS_CT}.vcloudsession"),
        &body,
    )
}

fn iam_error(status: StatusCode, message: &str) -> Response {
    json(
        status,
        &json!({"code": status.as_u16(), "message": message}),
    )
}

/// `POST /api/iam/login`: 201 with `vchs-authorization`.
pub(crate) fn iam_login(ctx: &Ctx<'_>) -> Response {
    let Some(user) = creds_ok(ctx) else {
        return iam_error(StatusCode::UNAUTHORIZED, "Invalid user name or password.");
    };
    let token = ctx.lock().issue_token(TokenKind::Iam, &user, "");
    let resp = json(
        StatusCode::CREATED,
        &json!({"serviceGroupIds": {"serviceGroupId": ["3e2d1c0b-aaaa-4bbb-8ccc-0123456789ab"]}}),
    );
    with_header(resp, "vchs-authorization", &token)
}

fn iam_ok(ctx: &Ctx<'_>) -> bool {
    let Some(t) = ctx.bearer() else {
        return false;
    };
    ctx.lock()
        .check_token(t, &[TokenKind::Iam], ctx.now)
        .is_some()
}

/// `GET /api/sc/instances`: `instanceAttributes` is a JSON string, as on the real service.
pub(crate) fn instances(ctx: &Ctx<'_>) -> Response {
    if !iam_ok(ctx) {
        return iam_error(StatusCode::UNAUTHORIZED, "Unknown or expired token.");
    }
    let o = &ctx.shared.origin;
    let st = ctx.lock();
    let mut list: Vec<serde_json::Value> = st
        .od_instances
        .iter()
        .map(|i| {
            let attrs = json!({
                "orgName": i.id.to_string(),
                "sessionUri": format!("{o}/api/compute/api/sessions"),
                "apiVersionUri": format!("{o}/api/compute/api/versions"),
            });
            json!({
                "id": i.id.to_string(),
                "name": i.name,
                "description": format!("{} (simulated)", i.name),
                "region": i.region,
                "instanceVersion": i.version,
                "planId": i.plan_id,
                "serviceGroupId": "3e2d1c0b-aaaa-4bbb-8ccc-0123456789ab",
                "link": [],
                "apiUrl": format!("{o}/api/compute/api/org/{}", i.id),
                "dashboardUrl": format!("{o}/compute/ui/index.html?orgName={}", i.id),
                "instanceAttributes": attrs.to_string(),
            })
        })
        .collect();
    list.push(json!({
        "id": Uuid::from_u128(0x0b9a_8c7d_2222_4333_8444_5555_6666_7777).to_string(),
        "name": "Object Storage",
        "description": "Object storage instance without a vCD session",
        "region": "us-california-1-3.vchs.vmware.com",
        "instanceVersion": "1.0",
        "planId": "region:us-california-1-3.vchs.vmware.com:planID:99999999-8888-4777-8666-555544443333",
        "serviceGroupId": "3e2d1c0b-aaaa-4bbb-8ccc-0123456789ab",
        "link": [],
        "apiUrl": format!("{o}/objectstorage/"),
        "dashboardUrl": "",
        "instanceAttributes": "No Attributes",
    }));
    json(StatusCode::OK, &json!({ "instances": list }))
}

/// `GET /api/sc/plans`.
pub(crate) fn plans(ctx: &Ctx<'_>) -> Response {
    if !iam_ok(ctx) {
        return iam_error(StatusCode::UNAUTHORIZED, "Unknown or expired token.");
    }
    let st = ctx.lock();
    let mut list: Vec<serde_json::Value> = st
        .od_instances
        .iter()
        .map(|i| {
            json!({
                "id": i.plan_id,
                "name": i.plan_name,
                "planType": i.plan_type,
                "serviceName": "com.vmware.vchs.compute",
                "region": i.region,
                "planVersion": i.version,
                "description": i.plan_name,
            })
        })
        .collect();
    list.push(json!({
        "id": "region:us-california-1-3.vchs.vmware.com:planID:99999999-8888-4777-8666-555544443333",
        "name": "Object Storage",
        "serviceName": "com.vmware.vchs.objectstorage",
        "region": "us-california-1-3.vchs.vmware.com",
        "planVersion": "1.0",
    }));
    json(StatusCode::OK, &json!({ "plans": list }))
}

/// `POST /api/sessions/vcloud/{org}`: On-Demand SSO, Bearer IAM token -> vCD token.
pub(crate) fn sso_login(ctx: &Ctx<'_>, org: &str) -> Response {
    if !iam_ok(ctx) {
        return iam_error(StatusCode::UNAUTHORIZED, "Unknown or expired token.");
    }
    let mut st = ctx.lock();
    if st.org_by_name(org).is_none() {
        return iam_error(StatusCode::NOT_FOUND, "No such organization.");
    }
    let token = st.issue_token(TokenKind::Vcd, &ctx.shared.cfg.user, org);
    let resp = respond(StatusCode::OK, "application/xml", "");
    with_header(resp, "x-vcloud-authorization", &token)
}
