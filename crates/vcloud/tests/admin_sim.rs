//! Org administration over the cloudapi against the vCloud simulator: orgs (system
//! administrator), users that then log in, roles and rights, API tokens that then log in
//! and stop working once deleted; secrets never in `Debug`; bad input refused.

use nebulair_core::{Credentials, ErrorKind, ExposeSecret};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, SYSTEM_ORG, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::admin::{AdminOrg, EntityRef, User};
use nebulair_vcloud::session::{LoginMode, VcdSession};

async fn login(
    sim: &VcloudSimulatorHandle,
    org: &str,
    creds: Credentials,
) -> nebulair_core::Result<VcdSession> {
    let s = VcdSession::builder(sim.base_url().as_str())
        .org(org)
        .credentials(creds)
        .login_mode(LoginMode::CloudApi)
        .build()?;
    s.login().await?;
    Ok(s)
}

#[tokio::test]
async fn orgs_users_roles_and_api_tokens() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    let system = login(
        &sim,
        SYSTEM_ORG,
        Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD),
    )
    .await
    .expect("provider login");
    let sys = system.client().expect("client").admin();

    // Orgs: the provider sees them all and creates one.
    let names: Vec<String> = sys
        .orgs()
        .await
        .expect("orgs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert!(
        names.contains(&DEFAULT_ORG.to_owned()) && names.contains(&SYSTEM_ORG.to_owned()),
        "{names:?}"
    );
    let mut new = AdminOrg::new("acme", "ACME Corp");
    new.description = Some("a customer".into());
    let acme = sys.create_org(&new).await.expect("create org");
    assert!(acme.is_enabled);
    assert_eq!(acme.display_name, "ACME Corp");
    assert_eq!(acme.description.as_deref(), Some("a customer"));
    let e = sys
        .create_org(&AdminOrg::new("acme", "again"))
        .await
        .expect_err("duplicate");
    assert!(
        e.to_string().contains("DUPLICATE_NAME") || e.to_string().contains("already exists"),
        "{e}"
    );
    assert_eq!(
        sys.create_org(&AdminOrg::new("two words", "x"))
            .await
            .expect_err("bad name")
            .kind(),
        ErrorKind::InvalidInput
    );

    // A user in the new org (the provider creates it), who then logs in there.
    let admin_role = sys.role("System Administrator").await.expect("sys role");
    assert!(
        !sys.role_rights(&admin_role.name)
            .await
            .expect("rights")
            .is_empty()
    );
    let mut u = User::new(
        "alice",
        "alice-secret",
        EntityRef::id("urn:vcloud:role:6e656275-6c61-4000-8000-00000000c001"),
    );
    u.org_entity_ref = Some(EntityRef::id(acme.id.clone().expect("id")));
    u.full_name = Some("Alice".into());
    let alice = sys.create_user(&u).await.expect("create user");
    assert_eq!(
        alice
            .org_entity_ref
            .as_ref()
            .and_then(|o| o.name.as_deref()),
        Some("acme")
    );
    assert!(alice.password.is_none(), "never returned");
    assert!(!format!("{u:?}").contains("alice-secret"));
    let s = login(&sim, "acme", Credentials::password("alice", "alice-secret"))
        .await
        .expect("alice logs in");
    let tenant = s.client().expect("client").admin();
    assert_eq!(
        tenant
            .orgs()
            .await
            .expect("own org")
            .into_iter()
            .map(|o| o.name)
            .collect::<Vec<_>>(),
        ["acme"]
    );
    let e = tenant
        .create_org(&AdminOrg::new("evil", "x"))
        .await
        .expect_err("tenants cannot");
    assert_eq!(e.kind(), ErrorKind::Authorization, "{e}");

    // Disabled users cannot log in.
    let off = sys.set_user_enabled("alice", false).await.expect("disable");
    assert!(!off.enabled);
    let e = login(&sim, "acme", Credentials::password("alice", "alice-secret"))
        .await
        .expect_err("disabled");
    assert_eq!(e.kind(), ErrorKind::Authentication);

    // Bad input, before sending.
    let role = EntityRef::id("urn:vcloud:role:6e656275-6c61-4000-8000-00000000c001");
    for (what, user) in [
        ("short password", User::new("bob", "12345", role.clone())),
        ("no role", {
            let mut u = User::new("bob", "long-enough", role.clone());
            u.role_entity_refs.clear();
            u
        }),
        ("no name", User::new(" ", "long-enough", role.clone())),
    ] {
        assert_eq!(
            sys.create_user(&user).await.expect_err(what).kind(),
            ErrorKind::InvalidInput,
            "{what}"
        );
    }

    // Deleting the org: refused while enabled, then done.
    let e = sys
        .delete_org("acme", false, false)
        .await
        .expect_err("enabled");
    assert!(e.to_string().contains("disable"), "{e}");
    sys.set_org_enabled("acme", false)
        .await
        .expect("disable org");
    sys.delete_org("acme", false, false)
        .await
        .expect("delete org");
    assert_eq!(
        sys.org("acme").await.expect_err("gone").kind(),
        ErrorKind::NotFound
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn api_tokens_are_created_used_and_revoked() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    let s = login(
        &sim,
        DEFAULT_ORG,
        Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD),
    )
    .await
    .expect("login");
    let admin = s.client().expect("client").admin();
    let roles: Vec<String> = admin
        .roles()
        .await
        .expect("roles")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(
        roles.contains(&"vApp Author".to_owned())
            && !roles.contains(&"System Administrator".to_owned()),
        "{roles:?}"
    );

    let token = admin.create_api_token("ci").await.expect("token");
    assert_eq!(token.token.name, "ci");
    assert_eq!(token.token.type_.as_deref(), Some("REFRESH"));
    assert!(!format!("{token:?}").contains(token.secret.expose_secret()));
    assert!(
        admin
            .api_tokens()
            .await
            .expect("list")
            .iter()
            .any(|t| t.name == "ci")
    );
    let e = admin.create_api_token("ci").await.expect_err("same name");
    assert!(e.to_string().contains("already exists"), "{e}");

    // The token logs in (OAuth refresh-token grant) ...
    let secret = token.secret.expose_secret().to_owned();
    let by_token = login(&sim, DEFAULT_ORG, Credentials::api_token(secret.clone()))
        .await
        .expect("api token login");
    assert!(
        !by_token
            .client()
            .expect("client")
            .admin()
            .users()
            .await
            .expect("users")
            .is_empty()
    );
    // ... until it is deleted.
    admin.delete_api_token("ci").await.expect("delete");
    assert!(admin.api_tokens().await.expect("list").is_empty());
    let e = login(&sim, DEFAULT_ORG, Credentials::api_token(secret))
        .await
        .expect_err("revoked");
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");

    // A legacy (x-vcloud-authorization) session has no bearer token to trade.
    let legacy = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .login_mode(LoginMode::Legacy)
        .build()
        .expect("legacy");
    legacy.login().await.expect("legacy login");
    let e = legacy
        .client()
        .expect("client")
        .admin()
        .create_api_token("x")
        .await
        .expect_err("no bearer token");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    sim.shutdown().await;
}

#[tokio::test]
async fn service_accounts_through_the_device_grant() {
    let sim = VcloudSimulator::builder().start().await.expect("sim");
    let s = login(
        &sim,
        DEFAULT_ORG,
        Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD),
    )
    .await
    .expect("login");
    let admin = s.client().expect("client").admin();
    let role = admin.role("vApp Author").await.expect("role");
    let sw = "8b3f1f4e-2d6a-4c1b-9f0e-5a7d3c2b1a00";
    let e = admin
        .create_service_account(
            "robot",
            &role,
            "not-a-uuid",
            "1.0",
            "https://ci.example.com",
        )
        .await
        .expect_err("bad software id");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let sa = admin
        .create_service_account("robot", &role, sw, "1.0", "https://ci.example.com")
        .await
        .expect("create");
    assert_eq!(sa.status.as_deref(), Some("CREATED"));
    assert_eq!(
        sa.role.as_ref().and_then(|r| r.name.as_deref()),
        Some("vApp Author")
    );
    assert_eq!(sa.software_id.as_deref(), Some(sw));

    // The software asks, an administrator grants, the software gets its token.
    let auth = admin
        .authorize_service_account(&sa)
        .await
        .expect("authorize");
    assert!(!format!("{auth:?}").contains(auth.device_code.expose_secret()));
    assert_eq!(
        admin
            .service_account("robot")
            .await
            .expect("get")
            .status
            .as_deref(),
        Some("REQUESTED")
    );
    let waiting = {
        let admin = admin.clone();
        let (sa, auth) = (sa.clone(), auth.clone());
        tokio::spawn(async move { admin.service_account_token(&sa, &auth).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "pending until granted");
    let e = admin
        .grant_service_account("NOPE1234")
        .await
        .expect_err("unknown code");
    assert_eq!(e.http_status(), Some(400));
    admin
        .grant_service_account(&auth.user_code)
        .await
        .expect("grant");
    let token = waiting.await.expect("join").expect("token");
    assert_eq!(
        admin
            .service_account("robot")
            .await
            .expect("get")
            .status
            .as_deref(),
        Some("ACTIVE")
    );
    let secret = token.expose_secret().to_owned();
    login(&sim, DEFAULT_ORG, Credentials::api_token(secret.clone()))
        .await
        .expect("the service account logs in");
    assert_eq!(
        admin
            .service_accounts()
            .await
            .expect("list")
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["robot"]
    );
    assert!(
        admin.api_tokens().await.expect("tokens").is_empty(),
        "not a user's API token"
    );

    // Revoked: the token stops working; deleted: gone.
    admin.revoke_service_account("robot").await.expect("revoke");
    let e = login(&sim, DEFAULT_ORG, Credentials::api_token(secret))
        .await
        .expect_err("revoked");
    assert_eq!(e.kind(), ErrorKind::Authentication);
    admin.delete_service_account("robot").await.expect("delete");
    assert_eq!(
        admin
            .service_account("robot")
            .await
            .expect_err("gone")
            .kind(),
        ErrorKind::NotFound
    );
    sim.shutdown().await;
}
