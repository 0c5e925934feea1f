//! ANS (Advanced Network Services) edge configuration: firewall, NAT and IPsec.
//!
//! vCloud Air's hybridity API exposes each section of an edge as one JSON document,
//! `GET`/`PUT {vcd}/hybridity/api/gateways/{edge}/{firewall|nat|ipsec}/config`. An
//! [`AnsSection`] fetches that document, gives typed, indexable access to its rule list
//! ([`AnsFirewall`], [`AnsNat`], [`AnsIpsec`]), keeps every field it does not model, and
//! [`save`](AnsSection::save)s the whole document back without the server-managed
//! `version` key. Compared with vcloudair 0.5:
//!
//! * addresses are validated (IPv4, IPv4/0..=32, `internal`/`external`, `any`) and a
//!   destination IP goes to `ipAddress`, not `vnicGroupId`;
//! * adding, removing or saving before [`fetch`](AnsSection::fetch) is a typed error;
//! * an edge that answers "busy" (one change at a time) is retried with backoff, a
//!   bounded number of times ([`AnsSection::retry_policy`]).
//!
//! ```no_run
//! use nebulair_vcloud::ans::{AnsFirewall, NewFirewallRule};
//! # async fn run(org: nebulair_vcloud::session::OrgInfo) -> nebulair_vcloud::Result<()> {
//! let mut fw = AnsFirewall::new("edge-uuid", &org)?;
//! fw.fetch().await?;
//! for rule in fw.iter() {
//!     println!("{:?} {:?}", rule.name, rule.action);
//! }
//! fw.add_rule(NewFirewallRule::parse("web", "external", "23.92.225.51")?.dest_port(443))?;
//! fw.remove(1)?;
//! fw.save().await?;
//! # Ok(()) }
//! ```

mod address;
mod enums;
mod firewall;
mod ipsec;
mod nat;

use std::fmt;
use std::marker::PhantomData;
use std::ops::Index;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use nebulair_core::{Error, ErrorKind, Result, RetryPolicy};

use crate::client::{Accept, ApiRequest, VcdClient};
use crate::session::OrgInfo;

pub use address::{AnsAddress, Ipv4Cidr, VnicGroup, normalize_port};
pub use enums::{EncryptionAlgorithm, FirewallAction, NatAction, Protocol, RuleType};
pub use firewall::{Application, FirewallRule, NewFirewallRule, RuleEndpoint, Service};
pub use ipsec::{DH_GROUPS, IpsecSite, NewPskTunnel, PresharedKey, SubnetList, Subnets};
pub use nat::{NatRule, NewNatRule};

mod sealed {
    pub trait Sealed {}
}

/// One section of an ANS edge: its URL segment, where its rule list lives, and its rule
/// type. Implemented by [`Firewall`], [`Nat`] and [`Ipsec`] only.
pub trait SectionKind: sealed::Sealed + Send + Sync + 'static {
    /// The URL segment (`firewall`, `nat`, `ipsec`).
    const SECTION: &'static str;
    /// The top-level key of the object that holds the list.
    const OUTER: &'static str;
    /// The key of the list inside that object.
    const INNER: &'static str;
    /// One entry of the list.
    type Rule: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + Send + Sync;
}

/// The firewall section (`firewallRules.firewallRules[]`).
#[derive(Debug, Clone, Copy)]
pub struct Firewall;
/// The NAT section (`rules.natRulesDtos[]`).
#[derive(Debug, Clone, Copy)]
pub struct Nat;
/// The IPsec section (`sites.sites[]`).
#[derive(Debug, Clone, Copy)]
pub struct Ipsec;

impl sealed::Sealed for Firewall {}
impl sealed::Sealed for Nat {}
impl sealed::Sealed for Ipsec {}

impl SectionKind for Firewall {
    const SECTION: &'static str = "firewall";
    const OUTER: &'static str = "firewallRules";
    const INNER: &'static str = "firewallRules";
    type Rule = FirewallRule;
}

impl SectionKind for Nat {
    const SECTION: &'static str = "nat";
    const OUTER: &'static str = "rules";
    const INNER: &'static str = "natRulesDtos";
    type Rule = NatRule;
}

impl SectionKind for Ipsec {
    const SECTION: &'static str = "ipsec";
    const OUTER: &'static str = "sites";
    const INNER: &'static str = "sites";
    type Rule = IpsecSite;
}

/// The firewall of an ANS edge.
pub type AnsFirewall = AnsSection<Firewall>;
/// The NAT rules of an ANS edge.
pub type AnsNat = AnsSection<Nat>;
/// The IPsec VPN sites of an ANS edge.
pub type AnsIpsec = AnsSection<Ipsec>;

/// The retry policy for "busy" answers: 5 retries, 500 ms doubling up to 8 s, with jitter.
pub fn default_busy_retry() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(5)
        .initial_backoff(Duration::from_millis(500))
        .max_backoff(Duration::from_secs(8))
}

/// Whether an error means the edge is busy with another change and the same request may
/// succeed later: HTTP 409, a `BUSY_ENTITY` code, a message saying "busy", or a
/// retryable transport failure.
pub fn is_edge_busy(err: &Error) -> bool {
    if err.is_retryable() || err.http_status() == Some(409) {
        return true;
    }
    let mentions_busy = |s: &str| s.to_ascii_lowercase().contains("busy");
    if let Some(svc) = err.service()
        && (svc
            .code_name()
            .is_some_and(|c| c.eq_ignore_ascii_case("BUSY_ENTITY"))
            || mentions_busy(svc.message()))
    {
        return true;
    }
    err.kind() == ErrorKind::Conflict && mentions_busy(err.message())
}

/// The fetched document, split into the rule list and everything else.
#[derive(Debug, Clone, PartialEq)]
struct Loaded<R> {
    /// The document without `version` and without the rule list.
    config: Map<String, Value>,
    rules: Vec<R>,
    version: Option<Value>,
}

/// One section of an ANS edge. See the [module docs](self).
///
/// Indexing (`section[i]`) panics when `i` is out of range, like a slice; before
/// [`fetch`](Self::fetch) the section has no rules.
pub struct AnsSection<K: SectionKind> {
    client: VcdClient,
    edge_id: String,
    url: Url,
    retry: RetryPolicy,
    loaded: Option<Loaded<K::Rule>>,
    _kind: PhantomData<K>,
}

impl<K: SectionKind> fmt::Debug for AnsSection<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnsSection")
            .field("section", &K::SECTION)
            .field("edge_id", &self.edge_id)
            .field("fetched", &self.loaded.is_some())
            .field("rules", &self.len())
            .finish_non_exhaustive()
    }
}

impl<K: SectionKind> AnsSection<K> {
    /// The section of edge `edge_id`, reached through `org`'s vCD URL and token over a
    /// default HTTP client ([`HttpConfig::default`](nebulair_core::HttpConfig)). Nothing
    /// is sent until [`fetch`](Self::fetch).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty edge id or one containing `/`, `?`, `#`
    /// or `\\`; errors building the HTTP client.
    pub fn new(edge_id: &str, org: &OrgInfo) -> Result<Self> {
        let client = VcdClient::with_config(org.clone(), &nebulair_core::HttpConfig::default())?;
        Self::with_client(edge_id, &client)
    }

    /// The section of edge `edge_id`, sent through an existing [`VcdClient`] (sharing its
    /// transport, token and re-login hook).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_client(edge_id: &str, client: &VcdClient) -> Result<Self> {
        let edge = edge_id.trim();
        if edge.is_empty() || edge.contains(['/', '?', '#', '\\']) {
            return Err(Error::invalid_input(format!("invalid edge id {edge_id:?}")));
        }
        let url = client.url(&format!(
            "hybridity/api/gateways/{edge}/{}/config",
            K::SECTION
        ))?;
        Ok(AnsSection {
            client: client.clone(),
            edge_id: edge.to_owned(),
            url,
            retry: default_busy_retry(),
            loaded: None,
            _kind: PhantomData,
        })
    }

    /// How "busy" answers (and transport failures) are retried; see [`is_edge_busy`].
    /// Default: [`default_busy_retry`]. [`RetryPolicy::none`] disables retries.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The edge id.
    pub fn edge_id(&self) -> &str {
        &self.edge_id
    }

    /// The URL of this section's configuration document.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Downloads the configuration, replacing any local changes.
    ///
    /// # Errors
    /// The request's error (after retries when the edge is busy);
    /// [`ErrorKind::Protocol`] when the document is not a JSON object, its rule list is
    /// not a list, or a rule has a field of the wrong type.
    pub async fn fetch(&mut self) -> Result<()> {
        let client = &self.client;
        let target = self.url.as_str();
        let body = self
            .retry
            .run_if(true, is_edge_busy, &mut || async move {
                let resp = client
                    .send(ApiRequest::get(target).accept(Accept::Json))
                    .await?;
                Ok(resp.into_http().body)
            })
            .await
            .map_err(|e| {
                e.context(format!(
                    "fetching {} config of edge {}",
                    K::SECTION,
                    self.edge_id
                ))
            })?;
        self.loaded = Some(decode::<K>(&body)?);
        Ok(())
    }

    /// Whether [`fetch`](Self::fetch) has succeeded.
    pub fn is_fetched(&self) -> bool {
        self.loaded.is_some()
    }

    /// The server's `version` of the fetched document (it is never sent back).
    pub fn version(&self) -> Option<&Value> {
        self.loaded.as_ref().and_then(|l| l.version.as_ref())
    }

    /// The rules (empty before [`fetch`](Self::fetch)).
    pub fn rules(&self) -> &[K::Rule] {
        self.loaded
            .as_ref()
            .map(|l| l.rules.as_slice())
            .unwrap_or_default()
    }

    /// The rule at `index`, if any.
    pub fn get(&self, index: usize) -> Option<&K::Rule> {
        self.rules().get(index)
    }

    /// The rule at `index` for editing, if any.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut K::Rule> {
        self.loaded.as_mut().and_then(|l| l.rules.get_mut(index))
    }

    /// Iterates over the rules in order.
    pub fn iter(&self) -> std::slice::Iter<'_, K::Rule> {
        self.rules().iter()
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules().len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules().is_empty()
    }

    /// Removes and returns the rule at `index`; later rules move up.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch) or when `index` is out
    /// of range.
    pub fn remove(&mut self, index: usize) -> Result<K::Rule> {
        let loaded = self.loaded_mut()?;
        if index >= loaded.rules.len() {
            return Err(Error::invalid_input(format!(
                "rule index {index} out of range ({} rules)",
                loaded.rules.len()
            )));
        }
        Ok(loaded.rules.remove(index))
    }

    /// Appends a rule given in the section's own model; returns its index.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch).
    pub fn push(&mut self, rule: K::Rule) -> Result<usize> {
        let loaded = self.loaded_mut()?;
        loaded.rules.push(rule);
        Ok(loaded.rules.len() - 1)
    }

    /// Inserts a rule at `index` (0..=len); returns `index`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch) or when `index` is past
    /// the end.
    pub fn insert(&mut self, index: usize, rule: K::Rule) -> Result<usize> {
        let loaded = self.loaded_mut()?;
        if index > loaded.rules.len() {
            return Err(Error::invalid_input(format!(
                "insert position {index} out of range ({} rules)",
                loaded.rules.len()
            )));
        }
        loaded.rules.insert(index, rule);
        Ok(index)
    }

    /// The rest of the document (global settings such as `defaultPolicy`, `globalConfig`,
    /// `enabled`, `logging`, `global`), without `version` and without the rule list.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch).
    pub fn config(&self) -> Result<&Map<String, Value>> {
        self.loaded
            .as_ref()
            .map(|l| &l.config)
            .ok_or_else(not_fetched::<K>)
    }

    /// The rest of the document for editing (see [`config`](Self::config)). Changes are
    /// sent by [`save`](Self::save).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch).
    pub fn config_mut(&mut self) -> Result<&mut Map<String, Value>> {
        Ok(&mut self.loaded_mut()?.config)
    }

    /// The whole document as [`save`](Self::save) sends it (no `version` key).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch) or when
    /// [`config_mut`](Self::config_mut) replaced the rule list's parent with a non-object.
    pub fn to_json(&self) -> Result<Value> {
        let loaded = self.loaded.as_ref().ok_or_else(not_fetched::<K>)?;
        encode::<K>(loaded)
    }

    /// Sends the whole document back (`PUT`, without `version`). Retries while the edge
    /// is busy. Server-assigned ids of new rules appear after the next
    /// [`fetch`](Self::fetch).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch); the request's error
    /// (after retries when the edge is busy), e.g. [`ErrorKind::Conflict`] or a
    /// [`ErrorKind::Server`] error carrying the edge's message.
    pub async fn save(&self) -> Result<()> {
        let doc = self.to_json()?;
        let client = &self.client;
        let target = self.url.as_str();
        self.retry
            .run_if(true, is_edge_busy, &mut || async {
                client.put_json(target, &doc).await.map(|_| ())
            })
            .await
            .map_err(|e| {
                e.context(format!(
                    "saving {} config of edge {}",
                    K::SECTION,
                    self.edge_id
                ))
            })
    }

    fn loaded_mut(&mut self) -> Result<&mut Loaded<K::Rule>> {
        self.loaded.as_mut().ok_or_else(not_fetched::<K>)
    }
}

impl<K: SectionKind> Index<usize> for AnsSection<K> {
    type Output = K::Rule;

    /// # Panics
    /// When `index` is out of range (as for a slice).
    fn index(&self, index: usize) -> &K::Rule {
        &self.rules()[index]
    }
}

impl<'a, K: SectionKind> IntoIterator for &'a AnsSection<K> {
    type Item = &'a K::Rule;
    type IntoIter = std::slice::Iter<'a, K::Rule>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl AnsSection<Firewall> {
    /// Appends a firewall rule built from `rule` (see [`NewFirewallRule`] for the
    /// defaults); returns its index.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch) or for an invalid rule.
    pub fn add_rule(&mut self, rule: NewFirewallRule) -> Result<usize> {
        self.loaded_mut()?;
        let rule = rule.build()?;
        self.push(rule)
    }
}

impl AnsSection<Nat> {
    /// Appends a NAT rule built from `rule` (see [`NewNatRule`] for the defaults); returns
    /// its index.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch) or for an invalid rule.
    pub fn add_rule(&mut self, rule: NewNatRule) -> Result<usize> {
        self.loaded_mut()?;
        let rule = rule.build()?;
        self.push(rule)
    }
}

impl AnsSection<Ipsec> {
    /// Appends a pre-shared-key tunnel (see [`NewPskTunnel`] for the defaults); returns
    /// its index.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] before [`fetch`](Self::fetch) or for an invalid tunnel.
    pub fn add_psk_tunnel(&mut self, tunnel: NewPskTunnel) -> Result<usize> {
        self.loaded_mut()?;
        let site = tunnel.build()?;
        self.push(site)
    }
}

fn not_fetched<K: SectionKind>() -> Error {
    Error::invalid_input(format!(
        "empty {} configuration: call fetch() before changing or saving it",
        K::SECTION
    ))
}

/// Splits a fetched document into the rule list and the rest.
/// A section's configuration decoded from a document already in hand (a stored
/// `GET .../config` answer), without a client: the rules, the other top-level fields and
/// the server's `version`. [`AnsSection::load`] puts it into a section to edit and save.
///
/// ```
/// use nebulair_vcloud::ans::{AnsConfig, Firewall};
/// let doc = r#"{"version": 7, "enabled": true, "firewallRules": {"firewallRules": [
///   {"name": "web", "action": "accept", "ruleType": "user", "enabled": true}]}}"#;
/// let cfg: AnsConfig<Firewall> = doc.parse()?;
/// assert_eq!(cfg.rules().len(), 1);
/// assert_eq!(cfg.rules()[0].name.as_deref(), Some("web"));
/// assert_eq!(cfg.version(), Some(&serde_json::json!(7)));
/// # Ok::<(), nebulair_core::Error>(())
/// ```
pub struct AnsConfig<K: SectionKind> {
    loaded: Loaded<K::Rule>,
}

impl<K: SectionKind> fmt::Debug for AnsConfig<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnsConfig")
            .field("section", &K::SECTION)
            .field("rules", &self.loaded.rules)
            .field("config", &self.loaded.config)
            .field("version", &self.loaded.version)
            .finish()
    }
}

impl<K: SectionKind> Clone for AnsConfig<K> {
    fn clone(&self) -> Self {
        AnsConfig {
            loaded: self.loaded.clone(),
        }
    }
}

impl<K: SectionKind> AnsConfig<K> {
    /// Decodes a configuration document.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] as [`AnsSection::fetch`] for a downloaded one.
    pub fn from_json(json: &str) -> Result<Self> {
        Ok(AnsConfig {
            loaded: decode::<K>(json.as_bytes())?,
        })
    }

    /// The rules.
    pub fn rules(&self) -> &[K::Rule] {
        &self.loaded.rules
    }

    /// The top-level fields other than the rule list and `version`.
    pub fn config(&self) -> &Map<String, Value> {
        &self.loaded.config
    }

    /// The server's `version`, when the document had one.
    pub fn version(&self) -> Option<&Value> {
        self.loaded.version.as_ref()
    }

    /// The document as the server would take it back (without `version`).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when a rule cannot be encoded.
    pub fn to_json(&self) -> Result<Value> {
        encode::<K>(&self.loaded)
    }
}

impl<K: SectionKind> std::str::FromStr for AnsConfig<K> {
    type Err = Error;
    fn from_str(json: &str) -> Result<Self> {
        AnsConfig::from_json(json)
    }
}

impl<K: SectionKind> AnsSection<K> {
    /// Uses a configuration decoded from a stored document instead of fetching one
    /// (replaces any local changes); [`save`](Self::save) then writes it to the edge.
    pub fn load(&mut self, config: AnsConfig<K>) {
        self.loaded = Some(config.loaded);
    }
}

fn decode<K: SectionKind>(body: &[u8]) -> Result<Loaded<K::Rule>> {
    let what = || format!("{} config", K::SECTION);
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Error::with_source(
            ErrorKind::Protocol,
            format!("{} is not valid JSON", what()),
            e,
        )
    })?;
    let Value::Object(mut config) = value else {
        return Err(Error::protocol(format!("{} is not a JSON object", what())));
    };
    let version = config.remove("version");
    let list = match config.get_mut(K::OUTER) {
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(Value::Object(outer)) => match outer.remove(K::INNER) {
            None | Some(Value::Null) => Value::Array(Vec::new()),
            Some(v) => v,
        },
        Some(_) => {
            return Err(Error::protocol(format!(
                "{}: `{}` is not an object",
                what(),
                K::OUTER
            )));
        }
    };
    let Value::Array(items) = list else {
        return Err(Error::protocol(format!(
            "{}: `{}.{}` is not a list",
            what(),
            K::OUTER,
            K::INNER
        )));
    };
    let rules = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<K::Rule>(item).map_err(|e| {
                Error::with_source(
                    ErrorKind::Protocol,
                    format!(
                        "{}: entry {i} of `{}.{}` is malformed",
                        what(),
                        K::OUTER,
                        K::INNER
                    ),
                    e,
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Loaded {
        config,
        rules,
        version,
    })
}

/// Joins the rule list back into the document.
fn encode<K: SectionKind>(loaded: &Loaded<K::Rule>) -> Result<Value> {
    let mut doc = loaded.config.clone();
    let rules = serde_json::to_value(&loaded.rules)
        .map_err(|e| Error::with_source(ErrorKind::InvalidInput, "encoding rules", e))?;
    let outer = doc
        .entry(K::OUTER)
        .or_insert_with(|| Value::Object(Map::new()));
    if outer.is_null() {
        *outer = Value::Object(Map::new());
    }
    let Value::Object(outer) = outer else {
        return Err(Error::invalid_input(format!(
            "`{}` in the {} config is not an object",
            K::OUTER,
            K::SECTION
        )));
    };
    outer.insert(K::INNER.to_owned(), rules);
    doc.remove("version");
    Ok(Value::Object(doc))
}

#[cfg(test)]
mod tests;
