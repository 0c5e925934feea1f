//! Org administration over the cloudapi (JSON): orgs (system administrators), users,
//! roles and rights, and API tokens.
//!
//! | operation | library | vCD request |
//! |---|---|---|
//! | orgs | [`Admin::orgs`], [`Admin::org`], [`Admin::create_org`], [`Admin::set_org_enabled`], [`Admin::delete_org`] | `GET`/`POST /cloudapi/1.0.0/orgs`, `GET`/`PUT`/`DELETE .../orgs/{id}` |
//! | users | [`Admin::users`], [`Admin::user`], [`Admin::create_user`], [`Admin::set_user_enabled`], [`Admin::delete_user`] | `GET`/`POST .../users`, `GET`/`PUT`/`DELETE .../users/{id}` |
//! | roles and rights | [`Admin::roles`], [`Admin::role`], [`Admin::role_rights`] | `GET .../roles`, `GET .../roles/{id}/rights` |
//! | API tokens | [`Admin::create_api_token`], [`Admin::api_tokens`], [`Admin::delete_api_token`] | `POST /oauth/tenant/{org}/register`, `POST /oauth/tenant/{org}/token` (`jwt-bearer` grant), `GET`/`DELETE .../tokens[/{id}]` |
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

pub use model::{AdminOrg, ApiToken, EntityRef, NewApiToken, Password, Right, Role, User};

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
            Ok(items.into_iter().nth(i).expect("index from the same list"))
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
