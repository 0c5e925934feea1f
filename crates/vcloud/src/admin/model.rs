//! The cloudapi's JSON documents of org administration: orgs, users, roles, rights and API
//! tokens. Fields this SDK does not model are kept in `extra`; passwords and tokens are
//! secrets that `Debug` never shows.

use std::fmt;

use nebulair_core::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub use crate::nsxt::EntityRef;

/// An organization (`/cloudapi/1.0.0/orgs/{id}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AdminOrg {
    /// `urn:vcloud:org:<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The short name (used in logins and URLs).
    pub name: String,
    /// The display name.
    #[serde(default)]
    pub display_name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether users can log in and use it.
    #[serde(default)]
    pub is_enabled: bool,
    /// How many org vDCs it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_vdc_count: Option<u64>,
    /// How many users it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AdminOrg {
    /// A new, enabled org.
    pub fn new(name: impl Into<String>, display_name: impl Into<String>) -> Self {
        AdminOrg {
            name: name.into(),
            display_name: display_name.into(),
            is_enabled: true,
            ..Self::default()
        }
    }
}

/// A password sent when a user is created or changed: `Debug` shows it redacted, and it
/// is never read back from vCD.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// Wraps a password.
    pub fn new(p: impl Into<String>) -> Self {
        Password(SecretString::from(p.into()))
    }

    /// The password itself (for sending it).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(nebulair_core::secret::REDACTED)
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Serialize for Password {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Password::new)
    }
}

/// A user (`/cloudapi/1.0.0/users/{id}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// `urn:vcloud:user:<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The login name.
    pub username: String,
    /// The full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its roles.
    #[serde(default)]
    pub role_entity_refs: Vec<EntityRef>,
    /// Its org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_entity_ref: Option<EntityRef>,
    /// The password: sent on create and change, never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// The e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the user can log in.
    #[serde(default)]
    pub enabled: bool,
    /// `LOCAL`, `LDAP`, `SAML`, `OAUTH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<String>,
    /// Locked after failed logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl User {
    /// A new, enabled local user with a password and one role (its id).
    pub fn new(username: impl Into<String>, password: impl Into<String>, role: EntityRef) -> Self {
        User {
            username: username.into(),
            password: Some(Password::new(password)),
            role_entity_refs: vec![role],
            enabled: true,
            provider_type: Some("LOCAL".into()),
            ..Self::default()
        }
    }
}

/// A role (`/cloudapi/1.0.0/roles/{id}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Role {
    /// `urn:vcloud:role:<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    pub name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it is predefined and read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Role {
    /// A reference to this role (for [`User::role_entity_refs`]).
    pub fn reference(&self) -> EntityRef {
        EntityRef {
            name: Some(self.name.clone()),
            id: self.id.clone(),
            ..EntityRef::default()
        }
    }
}

/// A right (`/cloudapi/1.0.0/rights/{id}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Right {
    /// `urn:vcloud:right:<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name (`vApp: Create / Reconfigure a vApp`).
    pub name: String,
    /// The category id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `VIEW` or `MODIFY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_type: Option<String>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An API token (`/cloudapi/1.0.0/tokens/{id}`): what vCD lists about it; the token text
/// itself is only in [`NewApiToken`], once.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiToken {
    /// `urn:vcloud:token:<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name it was registered with.
    pub name: String,
    /// Its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<EntityRef>,
    /// Its org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<EntityRef>,
    /// `REFRESH` for API tokens.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A newly created API token: the listing and the token itself, which vCD shows only
/// this once (log in with it through `Credentials::api_token`).
#[derive(Clone)]
#[non_exhaustive]
pub struct NewApiToken {
    /// What vCD lists about the token.
    pub token: ApiToken,
    /// The API token (an OAuth refresh token).
    pub secret: SecretString,
}

impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken")
            .field("token", &self.token)
            .field("secret", &nebulair_core::secret::REDACTED)
            .finish()
    }
}

/// A service account (`/cloudapi/1.0.0/serviceAccounts/{id}`, vCD 10.4): an OAuth
/// client with a role of its own, activated through the device authorization grant.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceAccount {
    /// `urn:vcloud:serviceAccount:<uuid>` (the uuid is its OAuth `client_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The software's id (a UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// The software's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// Its role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<EntityRef>,
    /// The software's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<EntityRef>,
    /// `CREATED`, `REQUESTED`, `GRANTED` or `ACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ServiceAccount {
    /// Its OAuth `client_id` (the uuid of its id).
    pub fn client_id(&self) -> Option<&str> {
        self.id
            .as_deref()?
            .strip_prefix("urn:vcloud:serviceAccount:")
    }
}

/// A device authorization in progress (OAuth 2.0 device grant): show `user_code` to an
/// administrator of the org, who grants it ([`Admin::grant_service_account`](super::Admin::grant_service_account));
/// the `device_code` is a secret that `Debug` never shows.
#[derive(Clone)]
#[non_exhaustive]
pub struct DeviceAuthorization {
    /// The code the software polls with.
    pub device_code: SecretString,
    /// The code an administrator grants.
    pub user_code: String,
    /// Where an administrator grants it in the vCD UI.
    pub verification_uri: Option<String>,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds between two polls.
    pub interval: u64,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &nebulair_core::secret::REDACTED)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_sent_but_never_shown() {
        let u = User::new("ops", "hunter2-long", EntityRef::id("urn:vcloud:role:1"));
        assert!(!format!("{u:?}").contains("hunter2"));
        let json = serde_json::to_value(&u).expect("json");
        assert_eq!(json["password"], "hunter2-long");
        assert_eq!(json["roleEntityRefs"][0]["id"], "urn:vcloud:role:1");
        let back: User = serde_json::from_str(
            r#"{"id":"urn:vcloud:user:1","username":"ops","enabled":true,"roleEntityRefs":[],
                "stranded":false}"#,
        )
        .expect("decodes");
        assert!(back.password.is_none());
        assert!(back.extra.contains_key("stranded"));
    }

    #[test]
    fn new_tokens_hide_their_secret() {
        let t = NewApiToken {
            token: ApiToken {
                name: "ci".into(),
                ..ApiToken::default()
            },
            secret: SecretString::from("refresh-secret".to_owned()),
        };
        assert!(!format!("{t:?}").contains("refresh-secret"));
    }
}
