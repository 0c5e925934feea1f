//! [`OrgInfo`]: everything a feature needs to call one vCD organisation.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use nebulair_core::{Error, ErrorKind, ExposeSecret, Result, SecretString};

use crate::model::ApiVersion;

/// The default vCD token header.
pub const VCLOUD_AUTH_HEADER: &str = "x-vcloud-authorization";

/// The header that carries a bearer token (JWT or OAuth access token).
pub const BEARER_AUTH_HEADER: &str = "authorization";

/// What every feature needs to call one organisation (or On-Demand instance, or vDC):
/// vcloudair's `org_info` dict, typed.
///
/// | field | vcloudair key | meaning |
/// |---|---|---|
/// | [`vcdurl`](Self::vcdurl) | `vcdurl` | base URL, always ending in `/` (paths are joined to it) |
/// | [`token`](Self::token) | `token` | the vCD session token or bearer token |
/// | [`org_uuid`](Self::org_uuid) | `org_uuid` | org (or vDC, or instance) id |
/// | [`auth_header`](Self::auth_header) | `auth-header` | `x-vcloud-authorization`, or `authorization` for a bearer token |
/// | [`version`](Self::version) | `version` | the API version for `Accept` headers |
///
/// It serialises to the same keys (the token in clear: that is the point of saving it;
/// keep the file private). `Debug` never shows the token.
///
/// ```
/// use nebulair_vcloud::OrgInfo;
///
/// let info = OrgInfo::new("https://vcd.example.test/api/compute", "tok-123", "6f0c9ad2-ab0b-4b5e-9c64-6d7a1f0a0d4e")?
///     .with_version("5.7".parse()?);
/// assert_eq!(info.vcdurl().as_str(), "https://vcd.example.test/api/compute/");
/// assert!(!format!("{info:?}").contains("tok-123"));
/// let json = serde_json::to_string(&info).expect("json");
/// assert!(json.contains(r#""auth-header":"x-vcloud-authorization""#));
/// let back: OrgInfo = serde_json::from_str(&json).expect("back");
/// assert_eq!(back.org_uuid(), info.org_uuid());
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OrgInfo {
    vcdurl: Url,
    token: SecretString,
    org_uuid: String,
    auth_header: String,
    version: ApiVersion,
}

impl OrgInfo {
    /// An org info with the default header (`x-vcloud-authorization`) and API version
    /// 5.6. A missing trailing slash on `vcdurl` is added.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `vcdurl` is not an absolute `http(s)` URL.
    pub fn new(
        vcdurl: impl AsRef<str>,
        token: impl Into<String>,
        org_uuid: impl Into<String>,
    ) -> Result<Self> {
        Ok(OrgInfo {
            vcdurl: normalise_base(vcdurl.as_ref())?,
            token: SecretString::from(token.into()),
            org_uuid: org_uuid.into(),
            auth_header: VCLOUD_AUTH_HEADER.to_owned(),
            version: ApiVersion::vca_default(),
        })
    }

    /// Sets the header name the token travels in. `authorization` means a bearer
    /// token (`Authorization: Bearer <token>`).
    pub fn with_auth_header(mut self, header: impl Into<String>) -> Self {
        self.auth_header = header.into().to_ascii_lowercase();
        self
    }

    /// Sets the API version.
    pub fn with_version(mut self, version: ApiVersion) -> Self {
        self.version = version;
        self
    }

    /// Replaces the token (after a re-login).
    pub fn with_token(mut self, token: SecretString) -> Self {
        self.token = token;
        self
    }

    /// The base URL, ending in `/`.
    pub fn vcdurl(&self) -> &Url {
        &self.vcdurl
    }

    /// The token. Call [`ExposeSecret::expose_secret`] only to send it.
    pub fn token(&self) -> &SecretString {
        &self.token
    }

    /// The org (or vDC, or On-Demand instance) id.
    pub fn org_uuid(&self) -> &str {
        &self.org_uuid
    }

    /// The header name (lower case) the token is sent in.
    pub fn auth_header(&self) -> &str {
        &self.auth_header
    }

    /// Whether the token is sent as `Authorization: Bearer`.
    pub fn is_bearer(&self) -> bool {
        self.auth_header == BEARER_AUTH_HEADER
    }

    /// The API version used in `Accept` headers.
    pub fn version(&self) -> &ApiVersion {
        &self.version
    }

    /// The header name and value that authenticate a request.
    pub fn auth_header_value(&self) -> (String, String) {
        let tok = self.token.expose_secret();
        if self.is_bearer() {
            (self.auth_header.clone(), format!("Bearer {tok}"))
        } else {
            (self.auth_header.clone(), tok.to_owned())
        }
    }

    /// Joins a relative path (`api/query`, `hybridity/api/metrics/vdc/{id}`) to
    /// [`vcdurl`](Self::vcdurl) the way vcloudair's `urljoin` does; an absolute URL is
    /// returned as it is.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the result is not a valid URL.
    pub fn join(&self, path: &str) -> Result<Url> {
        if path.starts_with("http://") || path.starts_with("https://") {
            return Url::parse(path).map_err(|e| {
                Error::with_source(ErrorKind::InvalidInput, format!("invalid URL {path:?}"), e)
            });
        }
        self.vcdurl.join(path).map_err(|e| {
            Error::with_source(
                ErrorKind::InvalidInput,
                format!("cannot join {path:?} to the base URL"),
                e,
            )
        })
    }

    /// The scheme, host and port of [`vcdurl`](Self::vcdurl) with path `/`: where
    /// `/api/...` and `/cloudapi/...` live.
    pub fn host_root(&self) -> Url {
        let mut u = self.vcdurl.clone();
        u.set_path("/");
        u.set_query(None);
        u.set_fragment(None);
        u
    }
}

/// Parses a base URL and makes sure its path ends in `/`.
pub(crate) fn normalise_base(text: &str) -> Result<Url> {
    let mut url = Url::parse(text.trim()).map_err(|e| {
        Error::with_source(
            ErrorKind::InvalidInput,
            format!("invalid base URL {text:?}"),
            e,
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(Error::invalid_input(format!(
            "base URL {text:?} must use http or https"
        )));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(Error::invalid_input(format!(
            "base URL {text:?} has no host"
        )));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

impl fmt::Debug for OrgInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgInfo")
            .field("vcdurl", &self.vcdurl.as_str())
            .field(
                "token",
                &format_args!("{}", nebulair_core::secret::REDACTED),
            )
            .field("org_uuid", &self.org_uuid)
            .field("auth_header", &self.auth_header)
            .field("version", &self.version.as_str())
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    vcdurl: String,
    token: String,
    org_uuid: String,
    #[serde(rename = "auth-header", default = "default_header")]
    auth_header: String,
    #[serde(default = "default_version")]
    version: ApiVersion,
}

fn default_header() -> String {
    VCLOUD_AUTH_HEADER.to_owned()
}

fn default_version() -> ApiVersion {
    ApiVersion::vca_default()
}

impl Serialize for OrgInfo {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Wire {
            vcdurl: self.vcdurl.to_string(),
            token: self.token.expose_secret().to_owned(),
            org_uuid: self.org_uuid.clone(),
            auth_header: self.auth_header.clone(),
            version: self.version.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for OrgInfo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(OrgInfo::new(&w.vcdurl, w.token, w.org_uuid)
            .map_err(serde::de::Error::custom)?
            .with_auth_header(w.auth_header)
            .with_version(w.version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slash_and_join() {
        let o = OrgInfo::new("https://h.example/api/compute", "t", "u").expect("org");
        assert_eq!(
            o.join("api/query").expect("join").as_str(),
            "https://h.example/api/compute/api/query"
        );
        assert_eq!(o.host_root().as_str(), "https://h.example/");
        let o = OrgInfo::new("https://h.example", "t", "u").expect("org");
        assert_eq!(o.vcdurl().as_str(), "https://h.example/");
        assert_eq!(
            o.join("http://other/x").expect("abs").as_str(),
            "http://other/x"
        );
        for bad in ["", "h.example", "ftp://h/", "mailto:x@y"] {
            assert!(OrgInfo::new(bad, "t", "u").is_err(), "{bad}");
        }
    }

    #[test]
    fn bearer_header_value() {
        let o = OrgInfo::new("https://h/", "jwt", "u")
            .expect("org")
            .with_auth_header("Authorization");
        assert!(o.is_bearer());
        assert_eq!(
            o.auth_header_value(),
            ("authorization".into(), "Bearer jwt".into())
        );
    }

    #[test]
    fn debug_hides_token_and_serde_round_trip() {
        let o = OrgInfo::new("https://h/", "SECRET-TOKEN", "u").expect("org");
        assert!(!format!("{o:?}").contains("SECRET"));
        assert!(!format!("{o:#?}").contains("SECRET"));
        let v: serde_json::Value = serde_json::to_value(&o).expect("json");
        assert_eq!(v["token"], "SECRET-TOKEN");
        assert_eq!(v["version"], "5.6");
        let minimal: OrgInfo =
            serde_json::from_str(r#"{"vcdurl":"https://x/y","token":"t","org_uuid":"o"}"#)
                .expect("minimal");
        assert_eq!(minimal.vcdurl().as_str(), "https://x/y/");
        assert!(
            serde_json::from_str::<OrgInfo>(r#"{"vcdurl":"nope","token":"t","org_uuid":"o"}"#)
                .is_err()
        );
    }
}
