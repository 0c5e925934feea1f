//! Org administration over the cloudapi (JSON): orgs (system administrators), users,
//! roles and rights, and API tokens.
//!
//! | operation | library | vCD request |
//! |---|---|---|
//! | orgs | [`Admin::orgs`], [`Admin::org`], [`Admin::create_org`], [`Admin::set_org_enabled`], [`Admin::delete_org`] | `GET`/`POST /cloudapi/1.0.0/orgs`, `GET`/`PUT`/`DELETE .../orgs/{id}` |
//! | users | [`Admin::users`], [`Admin::user`], [`Admin::create_user`], [`Admin::set_user_enabled`], [`Admin::delete_user`] | `GET`/`POST .../users`, `GET`/`PUT`/`DELETE .../users/{id}` |
//! | roles and rights | [`Admin::roles`], [`Admin::role`], [`Admin::role_rights`] | `GET .../roles`, `GET .../roles/{id}/rights` |
//! | API tokens | [`Admin::create_api_token`], [`Admin::api_tokens`], [`Admin::delete_api_token`] | `POST /oauth/tenant/{org}/register`, `POST /oauth/tenant/{org}/token` (`jwt-bearer` grant), `GET`/`DELETE .../tokens[/{id}]` |
//! | service accounts | [`Admin::create_service_account`], [`Admin::authorize_service_account`], [`Admin::grant_service_account`], [`Admin::service_account_token`], [`Admin::service_accounts`], [`Admin::revoke_service_account`], [`Admin::delete_service_account`] | `POST /oauth/tenant/{org}/register` (with `software_id`), `.../device_authorization`, `POST .../deviceLookup/grant`, the token endpoint's `device_code` grant, `GET`/`DELETE .../serviceAccounts[/{id}]`, `POST .../{id}/revoke` |
//!
//! Names are looked up with a FIQL filter (`name==...`, `username==...`); a missing name
//! is [`ErrorKind::NotFound`], a name several entries share [`ErrorKind::InvalidInput`].
//! Passwords ([`Password`]) and new API tokens ([`NewApiToken::secret`]) are secrets:
//! `Debug` never shows them, and vCD never returns a password.
//!
//! ```
//! use nebulair_core::{Credentials, ExposeSecret};
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::admin::User;
//! use nebulair_vcloud::session::{LoginMode, VcdSession};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .login_mode(LoginMode::CloudApi)
//!     .build()?;
//! session.login().await?;
//! let admin = session.client()?.admin();
//!
//! let author = admin.role("vApp Author").await?;
//! let user = admin.create_user(&User::new("ci-bot", "a-long-secret", author.reference())).await?;
//! assert!(user.enabled);
//! assert!(!format!("{user:?}").contains("a-long-secret"));
//!
//! let token = admin.create_api_token("ci").await?;
//! assert!(!token.secret.expose_secret().is_empty());
//! assert!(admin.api_tokens().await?.iter().any(|t| t.name == "ci"));
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("admin");
//! ```

pub mod model;

use http::Method;
use nebulair_core::{Error, ErrorKind, ExposeSecret, Result, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use model::{
    AdminOrg, ApiToken, DeviceAuthorization, EntityRef, NewApiToken, Password, Right, Role,
    ServiceAccount, User,
};

use crate::client::{Accept, ApiRequest, VcdClient};
use crate::cloudapi::{CloudApi, ListParams};
use crate::query::Filter;
use crate::workload::Workloads;

impl VcdClient {
    /// Org administration with the default workload options.
    pub fn admin(&self) -> Admin {
        Admin::new(self.workloads())
    }
}

/// Org administration over the cloudapi.
#[derive(Debug, Clone)]
pub struct Admin {
    api: CloudApi,
}

/// The one entry of `items` whose `name` is exactly `name` (case-insensitive when no entry
/// matches exactly).
fn one<T>(
    what: &str,
    name: &str,
    items: Vec<T>,
    name_of: impl Fn(&T) -> &str,
    id_of: impl Fn(&T) -> Option<&str>,
) -> Result<T> {
    let exact: Vec<usize> = (0..items.len())
        .filter(|i| name_of(&items[*i]) == name)
        .collect();
    let hits = if exact.is_empty() {
        (0..items.len())
            .filter(|i| name_of(&items[*i]).eq_ignore_ascii_case(name))
            .collect()
    } else {
        exact
    };
    match hits.as_slice() {
        [i] => {
            let i = *i;
            items
                .into_iter()
                .nth(i)
                .ok_or_else(|| Error::protocol(format!("the {what} list changed while read")))
        }
        [] => Err(Error::new(
            ErrorKind::NotFound,
            format!("no {what} is named {name:?}"),
        )),
        many => Err(Error::invalid_input(format!(
            "{} {what}s are named {name:?} ({}); use an id",
            many.len(),
            many.iter()
                .filter_map(|i| id_of(&items[*i]))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn is_urn(text: &str, kind: &str) -> bool {
    text.trim().starts_with(&format!("urn:vcloud:{kind}:"))
}

/// What `oauth/.../register` answers.
#[derive(Debug, Deserialize)]
struct Registered {
    client_id: String,
}

/// What `oauth/.../device_authorization` answers.
#[derive(Deserialize)]
struct DeviceAnswer {
    device_code: String,
    user_code: String,
    #[serde(default)]
    verification_uri: Option<String>,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    interval: u64,
}

/// What `oauth/.../token` answers for the `jwt-bearer` grant.
#[derive(Deserialize)]
struct Granted {
    refresh_token: String,
}

impl Admin {
    /// Administration over these workloads (busy retry and task waits apply).
    pub fn new(ws: Workloads) -> Self {
        Admin {
            api: CloudApi::new(ws),
        }
    }

    async fn find<T: DeserializeOwned>(
        &self,
        path: &str,
        field: &str,
        name: &str,
    ) -> Result<Vec<T>> {
        self.api
            .list_all(
                path,
                &ListParams::new().filter(Filter::eq(field, name.trim())),
            )
            .await
    }

    /// Every org the session can see (a system administrator sees them all).
    ///
    /// # Errors
    /// Request errors.
    pub async fn orgs(&self) -> Result<Vec<AdminOrg>> {
        self.api
            .list_all("orgs", &ListParams::new().sort_asc("name"))
            .await
    }

    /// An org by name or id (`urn:vcloud:org:...`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] / [`ErrorKind::InvalidInput`] for a missing or shared name;
    /// request errors.
    pub async fn org(&self, name_or_id: &str) -> Result<AdminOrg> {
        if is_urn(name_or_id, "org") {
            return self.api.get(&format!("orgs/{}", name_or_id.trim())).await;
        }
        let found = self.find("orgs", "name", name_or_id).await?;
        one(
            "org",
            name_or_id.trim(),
            found,
            |o: &AdminOrg| &o.name,
            |o| o.id.as_deref(),
        )
    }

    /// Creates an org (system administrators only).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty name (nothing sent); vCD's refusal (a name
    /// in use, not a system administrator).
    pub async fn create_org(&self, org: &AdminOrg) -> Result<AdminOrg> {
        if org.name.trim().is_empty() || org.name.contains(char::is_whitespace) {
            return Err(Error::invalid_input(format!(
                "an org name must be one word, not {:?}",
                org.name
            )));
        }
        self.api
            .change_and_wait(Method::POST, "orgs", Some(org))
            .await?;
        self.org(&org.name).await
    }

    /// Enables or disables an org (an org must be disabled before it is deleted).
    ///
    /// # Errors
    /// As [`org`](Self::org); request errors.
    pub async fn set_org_enabled(&self, name_or_id: &str, enabled: bool) -> Result<AdminOrg> {
        let mut org = self.org(name_or_id).await?;
        let id = org
            .id
            .clone()
            .ok_or_else(|| Error::protocol("the org has no id"))?;
        org.is_enabled = enabled;
        self.api
            .change_and_wait(Method::PUT, &format!("orgs/{id}"), Some(&org))
            .await?;
        self.org(&id).await
    }

    /// Deletes an org; vCD refuses an enabled org, and one that still holds vDCs or
    /// catalogs unless `recursive` (with `force`, running vApps are stopped first).
    ///
    /// # Errors
    /// As [`org`](Self::org); vCD's refusal.
    pub async fn delete_org(&self, name_or_id: &str, force: bool, recursive: bool) -> Result<()> {
        let org = self.org(name_or_id).await?;
        let id = org.id.ok_or_else(|| Error::protocol("the org has no id"))?;
        let path = format!("orgs/{id}?force={force}&recursive={recursive}");
        self.api
            .change_and_wait::<()>(Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// The users the session can see (an org administrator: its org's).
    ///
    /// # Errors
    /// Request errors.
    pub async fn users(&self) -> Result<Vec<User>> {
        self.api
            .list_all("users", &ListParams::new().sort_asc("username"))
            .await
    }

    /// A user by name or id (`urn:vcloud:user:...`).
    ///
    /// # Errors
    /// As [`org`](Self::org).
    pub async fn user(&self, name_or_id: &str) -> Result<User> {
        if is_urn(name_or_id, "user") {
            return self.api.get(&format!("users/{}", name_or_id.trim())).await;
        }
        let found = self.find("users", "username", name_or_id).await?;
        one(
            "user",
            name_or_id.trim(),
            found,
            |u: &User| &u.username,
            |u| u.id.as_deref(),
        )
    }

    /// Creates a user (with its password and roles) and returns it as stored.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty user name, a local user without a
    /// password or with a password under 6 characters, no role, or a role reference
    /// without an id (nothing sent); vCD's refusal (a name in use).
    pub async fn create_user(&self, user: &User) -> Result<User> {
        if user.username.trim().is_empty() {
            return Err(Error::invalid_input("a user needs a user name"));
        }
        let local = user
            .provider_type
            .as_deref()
            .is_none_or(|p| p.eq_ignore_ascii_case("LOCAL"));
        if local
            && user
                .password
                .as_ref()
                .is_none_or(|p| p.expose().chars().count() < 6)
        {
            return Err(Error::invalid_input(format!(
                "user {:?}: a local user needs a password of at least 6 characters",
                user.username
            )));
        }
        if user.role_entity_refs.is_empty() || user.role_entity_refs.iter().any(|r| r.id.is_none())
        {
            return Err(Error::invalid_input(format!(
                "user {:?}: give at least one role, by id (Admin::role(..).reference())",
                user.username
            )));
        }
        self.api
            .change_and_wait(Method::POST, "users", Some(user))
            .await?;
        self.user(&user.username).await
    }

    /// Enables or disables a user.
    ///
    /// # Errors
    /// As [`user`](Self::user); request errors.
    pub async fn set_user_enabled(&self, name_or_id: &str, enabled: bool) -> Result<User> {
        let mut user = self.user(name_or_id).await?;
        let id = user
            .id
            .clone()
            .ok_or_else(|| Error::protocol("the user has no id"))?;
        user.enabled = enabled;
        user.password = None;
        self.api
            .change_and_wait(Method::PUT, &format!("users/{id}"), Some(&user))
            .await?;
        self.user(&id).await
    }

    /// Deletes a user.
    ///
    /// # Errors
    /// As [`user`](Self::user); request errors.
    pub async fn delete_user(&self, name_or_id: &str) -> Result<()> {
        let user = self.user(name_or_id).await?;
        let id = user
            .id
            .ok_or_else(|| Error::protocol("the user has no id"))?;
        self.api
            .change_and_wait::<()>(Method::DELETE, &format!("users/{id}"), None)
            .await?;
        Ok(())
    }

    /// The roles of the session's org.
    ///
    /// # Errors
    /// Request errors.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        self.api
            .list_all("roles", &ListParams::new().sort_asc("name"))
            .await
    }

    /// A role by name or id.
    ///
    /// # Errors
    /// As [`org`](Self::org).
    pub async fn role(&self, name_or_id: &str) -> Result<Role> {
        if is_urn(name_or_id, "role") {
            return self.api.get(&format!("roles/{}", name_or_id.trim())).await;
        }
        let found = self.find("roles", "name", name_or_id).await?;
        one(
            "role",
            name_or_id.trim(),
            found,
            |r: &Role| &r.name,
            |r| r.id.as_deref(),
        )
    }

    /// The rights of a role (by name or id).
    ///
    /// # Errors
    /// As [`role`](Self::role).
    pub async fn role_rights(&self, role: &str) -> Result<Vec<Right>> {
        let r = self.role(role).await?;
        let id = r.id.ok_or_else(|| Error::protocol("the role has no id"))?;
        self.api
            .list_all(
                &format!("roles/{id}/rights"),
                &ListParams::new().sort_asc("name"),
            )
            .await
    }

    /// Creates an API token named `name` for the session's user in the session's org
    /// (vCD 10.3.1, API 36.1): registers it as an OAuth client, then trades the session's
    /// bearer token for the token (`jwt-bearer` grant). The token is in
    /// [`NewApiToken::secret`], shown by vCD only this once.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty name or a session without a bearer token
    /// (log in with `LoginMode::CloudApi`); vCD's refusal.
    pub async fn create_api_token(&self, name: &str) -> Result<NewApiToken> {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("an API token needs a name"));
        }
        let client = self.api.workloads().client();
        let info = client.org_info();
        if !info.is_bearer() {
            return Err(Error::invalid_input(
                "API tokens are created with a bearer session (LoginMode::CloudApi or an API token login)",
            ));
        }
        let session: serde_json::Value = self.api.get("sessions/current").await?;
        let org = session["org"]["name"]
            .as_str()
            .ok_or_else(|| Error::protocol("the current session names no org"))?
            .to_owned();
        let context = if org.eq_ignore_ascii_case("system") {
            "provider".to_owned()
        } else {
            format!("tenant/{}", org.trim())
        };
        let reg: Registered = client
            .send(
                ApiRequest::post(format!("oauth/{context}/register"))
                    .accept(Accept::Json)
                    .json(&serde_json::json!({ "client_name": name.trim() }))?,
            )
            .await?
            .json()?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", info.token().expose_secret())
            .append_pair("client_id", &reg.client_id)
            .finish();
        let granted: Granted = client
            .send(
                ApiRequest::post(format!("oauth/{context}/token"))
                    .accept(Accept::Json)
                    .body("application/x-www-form-urlencoded", form),
            )
            .await?
            .json()?;
        let token: ApiToken = self
            .api
            .get(&format!("tokens/urn:vcloud:token:{}", reg.client_id))
            .await?;
        Ok(NewApiToken {
            token,
            secret: SecretString::from(granted.refresh_token),
        })
    }

    async fn oauth_context(&self) -> Result<String> {
        let session: serde_json::Value = self.api.get("sessions/current").await?;
        let org = session["org"]["name"]
            .as_str()
            .ok_or_else(|| Error::protocol("the current session names no org"))?;
        Ok(if org.eq_ignore_ascii_case("system") {
            "provider".to_owned()
        } else {
            format!("tenant/{org}")
        })
    }

    /// Creates a service account of the session's org (vCD 10.4, API 37.0): registers an
    /// OAuth client with `software_id` (a UUID), `software_version`, `uri` and the role
    /// as its scope. It starts `CREATED`; [`authorize_service_account`](Self::authorize_service_account)
    /// starts its activation.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty name or a software id that is not a UUID
    /// (nothing sent); vCD's refusal.
    pub async fn create_service_account(
        &self,
        name: &str,
        role: &Role,
        software_id: &str,
        software_version: &str,
        uri: &str,
    ) -> Result<ServiceAccount> {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("a service account needs a name"));
        }
        if uuid::Uuid::parse_str(software_id.trim()).is_err() {
            return Err(Error::invalid_input(format!(
                "the software id {software_id:?} is not a UUID"
            )));
        }
        let context = self.oauth_context().await?;
        let scope = format!(
            "urn:vcloud:role:{}",
            url::form_urlencoded::byte_serialize(role.name.as_bytes()).collect::<String>()
        );
        let reg: Registered = self
            .api
            .workloads()
            .client()
            .send(
                ApiRequest::post(format!("oauth/{context}/register"))
                    .accept(Accept::Json)
                    .json(&serde_json::json!({
                        "client_name": name.trim(),
                        "software_id": software_id.trim(),
                        "software_version": software_version,
                        "client_uri": uri,
                        "scope": scope,
                    }))?,
            )
            .await?
            .json()?;
        self.api
            .get(&format!(
                "serviceAccounts/urn:vcloud:serviceAccount:{}",
                reg.client_id
            ))
            .await
    }

    /// The service accounts of the session's org.
    ///
    /// # Errors
    /// Request errors.
    pub async fn service_accounts(&self) -> Result<Vec<ServiceAccount>> {
        self.api
            .list_all("serviceAccounts", &ListParams::new().sort_asc("name"))
            .await
    }

    /// A service account by name or id.
    ///
    /// # Errors
    /// As [`org`](Self::org).
    pub async fn service_account(&self, name_or_id: &str) -> Result<ServiceAccount> {
        if is_urn(name_or_id, "serviceAccount") {
            return self
                .api
                .get(&format!("serviceAccounts/{}", name_or_id.trim()))
                .await;
        }
        let found = self.find("serviceAccounts", "name", name_or_id).await?;
        one(
            "service account",
            name_or_id.trim(),
            found,
            |s: &ServiceAccount| &s.name,
            |s| s.id.as_deref(),
        )
    }

    /// Starts the device authorization of a service account (what the software itself
    /// does): the answer's `user_code` goes to an administrator.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] for an account without an id; vCD's refusal.
    pub async fn authorize_service_account(
        &self,
        account: &ServiceAccount,
    ) -> Result<DeviceAuthorization> {
        let client_id = account
            .client_id()
            .ok_or_else(|| Error::protocol("the service account has no id"))?;
        let context = self.oauth_context().await?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .finish();
        let a: DeviceAnswer = self
            .api
            .workloads()
            .client()
            .send(
                ApiRequest::post(format!("oauth/{context}/device_authorization"))
                    .accept(Accept::Json)
                    .body("application/x-www-form-urlencoded", form),
            )
            .await?
            .json()?;
        Ok(DeviceAuthorization {
            device_code: SecretString::from(a.device_code),
            user_code: a.user_code,
            verification_uri: a.verification_uri,
            expires_in: a.expires_in,
            interval: a.interval.max(1),
        })
    }

    /// Grants a requested service account by its user code (an administrator of the org).
    ///
    /// # Errors
    /// vCD's refusal for a code nothing waits for.
    pub async fn grant_service_account(&self, user_code: &str) -> Result<()> {
        self.api
            .change_and_wait(
                Method::POST,
                "deviceLookup/grant",
                Some(&serde_json::json!({ "userCode": user_code.trim() })),
            )
            .await?;
        Ok(())
    }

    /// Polls the token endpoint (the `device_code` grant) every `auth.interval` seconds
    /// until the account is granted, and returns its API token (a refresh token, shown
    /// once; log in with it through `Credentials::api_token`).
    ///
    /// # Errors
    /// [`ErrorKind::Timeout`] when `auth.expires_in` passes while still pending; vCD's
    /// refusal (an unknown or used device code).
    pub async fn service_account_token(
        &self,
        account: &ServiceAccount,
        auth: &DeviceAuthorization,
    ) -> Result<SecretString> {
        let client_id = account
            .client_id()
            .ok_or_else(|| Error::protocol("the service account has no id"))?;
        let context = self.oauth_context().await?;
        let deadline =
            tokio::time::Instant::now() + std::time::Duration::from_secs(auth.expires_in.max(1));
        loop {
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
                .append_pair("client_id", client_id)
                .append_pair("device_code", auth.device_code.expose_secret())
                .finish();
            let sent = self
                .api
                .workloads()
                .client()
                .send(
                    ApiRequest::post(format!("oauth/{context}/token"))
                        .accept(Accept::Json)
                        .body("application/x-www-form-urlencoded", form),
                )
                .await;
            match sent {
                Ok(resp) => {
                    let g: Granted = resp.json()?;
                    return Ok(SecretString::from(g.refresh_token));
                }
                Err(e)
                    if e.service()
                        .and_then(|s| s.code_name())
                        .is_some_and(|c| c == "authorization_pending")
                        || e.to_string().contains("authorization_pending") =>
                {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            format!("service account {:?} was not granted in time", account.name),
                        ));
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(auth.interval)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Revokes a service account's tokens (it goes back to `CREATED`).
    ///
    /// # Errors
    /// As [`service_account`](Self::service_account); request errors.
    pub async fn revoke_service_account(&self, name_or_id: &str) -> Result<()> {
        let sa = self.service_account(name_or_id).await?;
        let id = sa
            .id
            .ok_or_else(|| Error::protocol("the service account has no id"))?;
        self.api
            .change_and_wait::<()>(Method::POST, &format!("serviceAccounts/{id}/revoke"), None)
            .await?;
        Ok(())
    }

    /// Deletes a service account.
    ///
    /// # Errors
    /// As [`service_account`](Self::service_account); request errors.
    pub async fn delete_service_account(&self, name_or_id: &str) -> Result<()> {
        let sa = self.service_account(name_or_id).await?;
        let id = sa
            .id
            .ok_or_else(|| Error::protocol("the service account has no id"))?;
        self.api
            .change_and_wait::<()>(Method::DELETE, &format!("serviceAccounts/{id}"), None)
            .await?;
        Ok(())
    }

    /// The API tokens of the session's user (`type==REFRESH`).
    ///
    /// # Errors
    /// Request errors.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.api
            .list_all(
                "tokens",
                &ListParams::new().filter(Filter::eq("type", "REFRESH")),
            )
            .await
    }

    /// Revokes and deletes an API token by id (`urn:vcloud:token:...`) or name.
    ///
    /// # Errors
    /// As [`org`](Self::org) for a name; request errors.
    pub async fn delete_api_token(&self, name_or_id: &str) -> Result<()> {
        let id = if is_urn(name_or_id, "token") {
            name_or_id.trim().to_owned()
        } else {
            let all = self.api_tokens().await?;
            one(
                "API token",
                name_or_id.trim(),
                all,
                |t: &ApiToken| &t.name,
                |t| t.id.as_deref(),
            )?
            .id
            .ok_or_else(|| Error::protocol("the token has no id"))?
        };
        self.api
            .change_and_wait::<()>(Method::DELETE, &format!("tokens/{id}"), None)
            .await?;
        Ok(())
    }
}
