//! IPsec VPN sites of an ANS edge (`sites.sites[]`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use nebulair_core::{Error, Result};

use super::EncryptionAlgorithm;
use super::address::Ipv4Cidr;

/// A pre-shared key. `Debug` never shows it; [`expose`](Self::expose) does.
#[derive(Clone, PartialEq, Eq)]
pub struct PresharedKey(String);

impl PresharedKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        PresharedKey(key.into())
    }

    /// The key itself (for sending it; keep it out of logs).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PresharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(nebulair_core::secret::REDACTED)
    }
}

impl Serialize for PresharedKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PresharedKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(PresharedKey)
    }
}

/// A list of subnets (`{"subnets": [...]}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubnetList {
    /// The subnets, as `a.b.c.d/n` strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Vec<String>>,
    /// Every other key, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One IPsec site (tunnel) as the edge stores it. Fields this SDK does not model are kept
/// in [`extra`](Self::extra). The pre-shared key is never shown by `Debug`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IpsecSite {
    /// Whether the tunnel is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The tunnel's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The local identity (usually the edge's external IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    /// The local endpoint IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_ip: Option<String>,
    /// The peer's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// The peer's public IP (or `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_ip: Option<String>,
    /// The cipher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// The MTU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Perfect forward secrecy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_pfs: Option<bool>,
    /// The Diffie-Hellman group (`dh2`, `dh5`, `dh14`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_group: Option<String>,
    /// Local networks shared through the tunnel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_subnets: Option<SubnetList>,
    /// Remote networks reached through the tunnel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_subnets: Option<SubnetList>,
    /// The pre-shared key (servers usually answer `****`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psk: Option<PresharedKey>,
    /// `psk` or `x.509`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_mode: Option<String>,
    /// Server-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// An optional configuration directive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Every other key of the site, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Subnets given as a list or as one comma-separated string (spaces ignored), as
/// vcloudair's `add_psk_tunnel` accepts them.
///
/// ```
/// use nebulair_vcloud::ans::Subnets;
/// let a = Subnets::from("10.0.40.0/24, 10.0.41.0/24");
/// let b = Subnets::from(vec!["10.0.40.0/24", "10.0.41.0/24"]);
/// assert_eq!(a, b);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subnets(Vec<String>);

impl Subnets {
    /// Validates every subnet and returns them as strings.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an empty
    /// list or an entry that is not an IPv4 address or network.
    pub fn validate(&self) -> Result<Vec<String>> {
        if self.0.is_empty() {
            return Err(Error::invalid_input("subnet list is empty"));
        }
        self.0
            .iter()
            .map(|s| s.parse::<Ipv4Cidr>().map(|c| c.to_string()))
            .collect()
    }
}

impl From<&str> for Subnets {
    fn from(s: &str) -> Self {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Subnets(Vec::new());
        }
        Subnets(compact.split(',').map(str::to_owned).collect())
    }
}

impl From<String> for Subnets {
    fn from(s: String) -> Self {
        Subnets::from(s.as_str())
    }
}

impl<S: ToString> From<Vec<S>> for Subnets {
    fn from(v: Vec<S>) -> Self {
        Subnets(v.iter().map(|s| s.to_string().trim().to_owned()).collect())
    }
}

impl<S: ToString> From<&[S]> for Subnets {
    fn from(v: &[S]) -> Self {
        Subnets(v.iter().map(|s| s.to_string().trim().to_owned()).collect())
    }
}

impl<S: ToString, const N: usize> From<[S; N]> for Subnets {
    fn from(v: [S; N]) -> Self {
        Subnets(v.iter().map(|s| s.to_string().trim().to_owned()).collect())
    }
}

/// Diffie-Hellman groups NSX edges accept.
pub const DH_GROUPS: [u8; 5] = [2, 5, 14, 15, 16];

/// A pre-shared-key tunnel to add, with vcloudair's defaults: `aes256`, PFS on, DH group
/// 2, enabled, `authenticationMode` `psk`.
///
/// ```
/// use nebulair_vcloud::ans::NewPskTunnel;
///
/// let site = NewPskTunnel::new("to-office", "23.92.225.51", "23.92.225.51",
///         "198.51.100.7", "198.51.100.7", "192.168.109.0/24", "10.0.40.0/24,10.0.41.0/24",
///         "s3cret-key")
///     .build()?;
/// assert_eq!(site.dh_group.as_deref(), Some("dh2"));
/// assert_eq!(site.enable_pfs, Some(true));
/// assert!(!format!("{site:?}").contains("s3cret-key"));
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewPskTunnel {
    name: String,
    local_id: String,
    local_ip: String,
    peer_id: String,
    peer_ip: String,
    local_subnets: Subnets,
    peer_subnets: Subnets,
    psk: PresharedKey,
    encryption: EncryptionAlgorithm,
    pfs: bool,
    dh_group: u8,
    extension: Option<String>,
    description: Option<String>,
}

impl NewPskTunnel {
    /// A tunnel with the arguments of vcloudair's `add_psk_tunnel`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        local_id: impl Into<String>,
        local_ip: impl Into<String>,
        peer_id: impl Into<String>,
        peer_ip: impl Into<String>,
        local_subnets: impl Into<Subnets>,
        peer_subnets: impl Into<Subnets>,
        psk: impl Into<String>,
    ) -> Self {
        NewPskTunnel {
            name: name.into(),
            local_id: local_id.into(),
            local_ip: local_ip.into(),
            peer_id: peer_id.into(),
            peer_ip: peer_ip.into(),
            local_subnets: local_subnets.into(),
            peer_subnets: peer_subnets.into(),
            psk: PresharedKey::new(psk),
            encryption: EncryptionAlgorithm::Aes256,
            pfs: true,
            dh_group: 2,
            extension: None,
            description: None,
        }
    }

    /// The cipher (default `aes256`).
    pub fn encryption(mut self, algorithm: EncryptionAlgorithm) -> Self {
        self.encryption = algorithm;
        self
    }

    /// Perfect forward secrecy (default on).
    pub fn pfs(mut self, on: bool) -> Self {
        self.pfs = on;
        self
    }

    /// The Diffie-Hellman group number (default 2; one of [`DH_GROUPS`]).
    pub fn dh_group(mut self, group: u8) -> Self {
        self.dh_group = group;
        self
    }

    /// An extension directive (sent only when set).
    pub fn extension(mut self, text: impl Into<String>) -> Self {
        self.extension = Some(text.into());
        self
    }

    /// A description (sent only when set).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The site as it will be sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an empty
    /// name, id or key, a local IP that is not IPv4, a peer IP that is neither IPv4 nor
    /// `any`, an invalid subnet, or a DH group not in [`DH_GROUPS`].
    pub fn build(&self) -> Result<IpsecSite> {
        for (what, v) in [
            ("name", &self.name),
            ("local id", &self.local_id),
            ("peer id", &self.peer_id),
            ("pre-shared key", &self.psk.0),
        ] {
            if v.trim().is_empty() {
                return Err(Error::invalid_input(format!(
                    "IPsec tunnel {what} is empty"
                )));
            }
        }
        let local_ip: std::net::Ipv4Addr =
            self.local_ip.trim().parse().map_err(|_| {
                Error::invalid_input(format!("invalid local IP {:?}", self.local_ip))
            })?;
        let peer_ip = if self.peer_ip.trim().eq_ignore_ascii_case("any") {
            "any".to_owned()
        } else {
            self.peer_ip
                .trim()
                .parse::<std::net::Ipv4Addr>()
                .map_err(|_| Error::invalid_input(format!("invalid peer IP {:?}", self.peer_ip)))?
                .to_string()
        };
        if !DH_GROUPS.contains(&self.dh_group) {
            return Err(Error::invalid_input(format!(
                "unsupported Diffie-Hellman group {} (one of {DH_GROUPS:?})",
                self.dh_group
            )));
        }
        let local = self
            .local_subnets
            .validate()
            .map_err(|e| e.context("local subnets"))?;
        let peer = self
            .peer_subnets
            .validate()
            .map_err(|e| e.context("peer subnets"))?;
        Ok(IpsecSite {
            name: Some(self.name.clone()),
            enabled: Some(true),
            description: self.description.clone(),
            local_id: Some(self.local_id.clone()),
            local_ip: Some(local_ip.to_string()),
            peer_id: Some(self.peer_id.clone()),
            peer_ip: Some(peer_ip),
            encryption_algorithm: Some(self.encryption.clone()),
            enable_pfs: Some(self.pfs),
            dh_group: Some(format!("dh{}", self.dh_group)),
            local_subnets: Some(SubnetList {
                subnets: Some(local),
                extra: Map::new(),
            }),
            peer_subnets: Some(SubnetList {
                subnets: Some(peer),
                extra: Map::new(),
            }),
            psk: Some(self.psk.clone()),
            authentication_mode: Some("psk".to_owned()),
            extension: self.extension.clone(),
            ..IpsecSite::default()
        })
    }
}
