//! Every login flow end to end against the vCloud simulator: vCA subscription (vchs),
//! vCA On-Demand, direct vCD (legacy, cloudapi, provider, API tokens, existing tokens),
//! version negotiation including a 406, re-login after forced token expiry, logout.

use std::sync::Arc;

use nebulair_core::{
    Credentials, ErrorKind, ExposeSecret, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport,
    Session,
};
use nebulair_sim::vcloud::{
    DEFAULT_API_TOKEN, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, OD_COMPUTE_INSTANCE_ID,
    OD_DR_INSTANCE_ID, ORG_ID, SYSTEM_ORG, VDC_DEV_ID, VDC_PROD_ID, VcloudSimulator,
    VcloudSimulatorHandle,
};
use nebulair_vcloud::query::{Query, QueryType};
use nebulair_vcloud::session::{InstanceSelector, LoginMode, VcaOdSession, VcaSession, VcdSession};
use nebulair_vcloud::{ApiVersion, VcdClient};

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

async fn sim() -> VcloudSimulatorHandle {
    VcloudSimulator::builder().start().await.expect("simulator")
}

fn vcd(
    sim: &VcloudSimulatorHandle,
    creds: Credentials,
) -> nebulair_vcloud::session::VcdSessionBuilder {
    VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(creds)
        .transport(transport())
}

fn password() -> Credentials {
    Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD)
}

/// A request that needs a valid token: the org's vDC list through the query service.
async fn works(client: &VcdClient) {
    let res = Query::new(QueryType::OrgVdc)
        .execute(client)
        .await
        .expect("authenticated query");
    assert!(!res.is_empty());
}

#[tokio::test]
async fn vca_vchs_login_to_both_vdcs() {
    let sim = sim().await;
    let sess = VcaSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .transport(transport())
        .build()
        .expect("build");
    let prod = sess.login("vdc-prod").await.expect("login to VDC-Prod");
    assert_eq!(prod.org_uuid(), VDC_PROD_ID);
    assert_eq!(prod.auth_header(), "x-vcloud-authorization");
    assert_eq!(prod.version().as_str(), "5.6");
    assert!(prod.vcdurl().as_str().ends_with('/'));
    let mut names = sess.vdc_names();
    names.sort();
    assert_eq!(names, vec!["VDC-Dev".to_owned(), "VDC-Prod".to_owned()]);
    assert!(sess.has_vdc("VDC-DEV"));
    assert_eq!(sess.services().len(), 1);

    // login_to_vdc reuses the vchs token: only a vCD token is added.
    let dev = sess.login_to_vdc("VDC-Dev").await.expect("second vdc");
    assert_eq!(dev.org_uuid(), VDC_DEV_ID);
    assert_eq!(
        sess.org_info("vdc-dev").map(|o| o.org_uuid().to_owned()),
        Some(VDC_DEV_ID.to_owned())
    );

    let client = sess.client("VDC-Prod").expect("client");
    let vdc = client
        .get_xml(&format!("api/vdc/{VDC_PROD_ID}"))
        .await
        .expect("vdc document");
    assert_eq!(vdc.name(), "Vdc");
    works(&client).await;

    // Forced expiry of every token: the client logs in again (vchs + vCD) once.
    sim.expire_tokens();
    works(&client).await;
    assert_ne!(
        client.org_info().token().expose_secret(),
        prod.token().expose_secret(),
        "a new token after re-login"
    );

    assert!(
        sess.login_to_vdc("nope")
            .await
            .expect_err("unknown")
            .is_not_found()
    );
    Session::logout(&sess).await.expect("logout");
    assert!(!Session::is_valid(&sess));
    sim.shutdown().await;
}

#[tokio::test]
async fn vca_vchs_bad_password() {
    let sim = sim().await;
    let sess = VcaSession::builder(DEFAULT_USER, "wrong")
        .base_url(sim.base_url().as_str())
        .transport(transport())
        .build()
        .expect("build");
    let err = sess.login("VDC-Prod").await.expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(!format!("{err:?}").contains("wrong"));
    sim.shutdown().await;
}

#[tokio::test]
async fn vca_on_demand_instances_and_login() {
    let sim = sim().await;
    let sess = VcaOdSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
        .base_url(sim.base_url().as_str())
        .transport(transport())
        .build()
        .expect("build");
    Session::login(&sess).await.expect("IAM login");
    assert!(Session::is_valid(&sess));
    let instances = sess.instances();
    assert_eq!(
        instances.len(),
        2,
        "the instance with No Attributes is left out"
    );
    assert_eq!(sess.all_instances().len(), 3);
    assert!(
        sess.all_instances()
            .iter()
            .any(|i| i.attributes_raw.as_deref() == Some("No Attributes"))
    );
    assert!(
        instances
            .iter()
            .any(|i| i.friendly_name == "Disaster Recovery")
    );
    let idx = instances
        .iter()
        .position(|i| i.id == OD_COMPUTE_INSTANCE_ID)
        .expect("compute instance");

    let info = sess.login_to_instance(idx).await.expect("login by index");
    assert_eq!(info.org_uuid(), OD_COMPUTE_INSTANCE_ID);
    assert_eq!(info.vcdurl(), &sim.od_vcd_url());
    assert_eq!(info.version().as_str(), "5.7");
    let dr = sess
        .login_to_instance(InstanceSelector::Id(OD_DR_INSTANCE_ID.to_uppercase()))
        .await
        .expect("login by id, any case");
    assert_eq!(dr.org_uuid(), OD_DR_INSTANCE_ID);

    let client = sess.client(OD_COMPUTE_INSTANCE_ID).expect("client");
    // The instance's vCD answers under /api/compute/ (vcloudair's vcdurl).
    works(&client).await;
    sim.expire_tokens();
    let v = client
        .get_xml("api/org/")
        .await
        .expect("re-login through IAM and the instance");
    assert_eq!(v.name(), "OrgList");
    assert!(
        sess.login_to_instance(7)
            .await
            .expect_err("index")
            .is_not_found()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_legacy_login_with_fixed_version() {
    let sim = sim().await;
    let sess = vcd(&sim, password())
        .version(ApiVersion::new("32.0").expect("v"))
        .build()
        .expect("build");
    let info = sess.login().await.expect("legacy login");
    assert_eq!(info.auth_header(), "x-vcloud-authorization");
    assert_eq!(info.version().as_str(), "32.0");
    assert_eq!(info.org_uuid(), ORG_ID);
    let details = sess.login_details().expect("details");
    assert_eq!(details.user.as_deref(), Some(DEFAULT_USER));
    assert!(
        details
            .links
            .iter()
            .any(|l| l.rel.as_deref() == Some("remove"))
    );
    let client = sess.client().expect("client");
    works(&client).await;

    sim.expire_tokens();
    works(&client).await;
    assert!(Session::is_valid(&sess));

    // Logout kills the token on the server.
    let old = client.org_info();
    sess.logout().await.expect("logout");
    assert!(!Session::is_valid(&sess));
    let raw = VcdClient::new(old, transport());
    assert!(
        raw.get_xml("api/org/")
            .await
            .expect_err("dead token")
            .is_authentication()
    );
    sess.logout().await.expect("second logout is fine");
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_negotiates_highest_version_and_uses_cloudapi() {
    let sim = sim().await;
    let sess = vcd(&sim, password()).build().expect("build");
    let versions = sess.versions().await.expect("versions");
    assert!(versions.len() >= 5);
    let info = sess.login().await.expect("cloudapi login");
    assert_eq!(info.version().as_str(), "36.0");
    assert!(info.is_bearer(), "cloudapi gives a JWT sent as Bearer");
    assert_eq!(info.org_uuid(), ORG_ID);
    let client = sess.client().expect("client");
    works(&client).await;
    sim.expire_tokens();
    works(&client).await;
    sess.logout().await.expect("logout");
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_negotiation_below_33_uses_legacy() {
    let sim = VcloudSimulator::builder()
        .versions(["5.5", "9.0", "31.0"])
        .start()
        .await
        .expect("sim");
    let sess = vcd(&sim, password()).build().expect("build");
    let info = sess.login().await.expect("login");
    assert_eq!(info.version().as_str(), "31.0");
    assert!(!info.is_bearer());
    // A client that only speaks 33+ has nothing in common with this server.
    let picky = vcd(&sim, password())
        .version_range(
            ApiVersion::new("33.0").expect("v"),
            ApiVersion::new("39.0").expect("v"),
        )
        .build()
        .expect("build");
    let err = picky.login().await.expect_err("no common version");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("31.0"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_unsupported_version_gives_406_listing_versions() {
    let sim = sim().await;
    let sess = vcd(&sim, password())
        .version(ApiVersion::new("99.0").expect("v"))
        .login_mode(LoginMode::Legacy)
        .build()
        .expect("build");
    let err = sess.login().await.expect_err("406");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.http_status(), Some(406));
    let text = err.to_string();
    assert!(
        text.contains("99.0") && text.contains("36.0") && text.contains("32.0"),
        "{text}"
    );
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("NOT_ACCEPTABLE")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_provider_login_cloudapi_and_legacy() {
    let sim = sim().await;
    for mode in [LoginMode::CloudApi, LoginMode::Legacy] {
        let sess = VcdSession::builder(sim.base_url().as_str())
            .org(SYSTEM_ORG)
            .credentials(password())
            .login_mode(mode)
            .version(ApiVersion::new("36.0").expect("v"))
            .transport(transport())
            .build()
            .expect("build");
        let info = sess
            .login()
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert!(!info.org_uuid().is_empty(), "{mode:?}");
        let client = sess.client().expect("client");
        client
            .get_xml("api/org/")
            .await
            .expect("provider can list orgs");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_api_token_tenant_and_provider() {
    let sim = sim().await;
    let sess = vcd(&sim, Credentials::api_token(DEFAULT_API_TOKEN))
        .build()
        .expect("build");
    let info = sess.login().await.expect("API token login");
    assert!(info.is_bearer());
    assert_eq!(info.org_uuid(), ORG_ID);
    let client = sess.client().expect("client");
    works(&client).await;
    sim.expire_tokens();
    works(&client).await;

    let provider = VcdSession::builder(sim.base_url().as_str())
        .org("system")
        .credentials(Credentials::api_token(DEFAULT_API_TOKEN))
        .transport(transport())
        .build()
        .expect("build");
    provider.login().await.expect("provider API token");

    let bad = vcd(&sim, Credentials::api_token("not-a-token"))
        .build()
        .expect("build");
    let err = bad.login().await.expect_err("invalid_grant");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(!format!("{err:?} {err}").contains("not-a-token"));
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_existing_token_and_bad_password() {
    let sim = sim().await;
    let sess = vcd(&sim, password())
        .login_mode(LoginMode::Legacy)
        .build()
        .expect("build");
    let info = sess.login().await.expect("login");
    let adopted = vcd(&sim, Credentials::token(info.token().expose_secret()))
        .build()
        .expect("build");
    let again = adopted.login().await.expect("adopt the token");
    assert_eq!(again.org_uuid(), ORG_ID);
    // Without stored credentials an expired token cannot be renewed.
    let client = adopted.client().expect("client");
    sim.expire_tokens();
    let err = client
        .get_xml("api/org/")
        .await
        .expect_err("no credentials");
    assert!(err.is_authentication());

    let bad = vcd(&sim, Credentials::password(DEFAULT_USER, "nope"))
        .build()
        .expect("build");
    let err = bad.login().await.expect_err("401");
    assert!(err.is_authentication());
    assert!(!format!("{err:?}").contains("nope"));
    sim.shutdown().await;
}
