//! Typed OneGate answers.
//!
//! The field names follow the wire (`NAME`, `USER_TEMPLATE`, `roles`, ...) through serde
//! renames, so the types serialise back to the same JSON shape. Decoding is liberal where
//! OneGate is inconsistent: VM fields are strings (`"ID":"2007"`) but `/vrouter` ids are
//! numbers, a list with one element may be an object, an empty element is `{}`; every
//! such field accepts all of those shapes.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::de as lenient;
use crate::ids::{DocumentId, VmId, VnetId, VrouterId};

/// One value of a template attribute: text (`KEY="v"`), a vector attribute
/// (`KEY=[A="1", B="2"]`), or a list when the attribute is repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A single value. Numbers and booleans sent by the server are kept as their text.
    Text(String),
    /// A vector attribute: sub-attribute name to value.
    Vector(BTreeMap<String, AttrValue>),
    /// A repeated attribute.
    List(Vec<AttrValue>),
}

impl AttrValue {
    /// The text, when this is a single value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A sub-attribute of a vector attribute.
    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        match self {
            AttrValue::Vector(m) => m.get(key),
            _ => None,
        }
    }

    /// The values, seen as a list: a list is itself, anything else is a list of one.
    pub fn as_list(&self) -> Vec<&AttrValue> {
        match self {
            AttrValue::List(items) => items.iter().collect(),
            other => vec![other],
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Text(s) => f.write_str(s),
            AttrValue::Vector(m) => {
                f.write_str("[")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("]")
            }
            AttrValue::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Text(s.to_owned())
    }
}

impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::Text(t) => s.serialize_str(t),
            AttrValue::Vector(m) => m.serialize(s),
            AttrValue::List(items) => items.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AttrValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a template attribute value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<AttrValue, E> {
                Ok(AttrValue::Text(String::new()))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<AttrValue, D2::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<AttrValue, A::Error> {
                lenient::seq_to_vec(seq).map(AttrValue::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttrValue, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, AttrValue>()? {
                    out.insert(k, v);
                }
                Ok(AttrValue::Vector(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Template attributes by name, as OneGate returns `USER_TEMPLATE`.
pub type Attributes = BTreeMap<String, AttrValue>;

/// A VM as `GET /vm` and `GET /vms/:id` return it (`{"VM": {...}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OneGateVm {
    /// The VM name.
    #[serde(rename = "NAME", default, deserialize_with = "lenient::text")]
    pub name: String,
    /// The VM id.
    #[serde(rename = "ID", deserialize_with = "lenient::num")]
    pub id: VmId,
    /// The VM state number (`3` = ACTIVE; see OpenNebula's `VM_STATE`).
    #[serde(rename = "STATE", default, deserialize_with = "lenient::num")]
    pub state: u32,
    /// The LCM state number (`3` = RUNNING; see OpenNebula's `LCM_STATE`).
    #[serde(rename = "LCM_STATE", default, deserialize_with = "lenient::num")]
    pub lcm_state: u32,
    /// The user template (without `SCHED_MESSAGE`): where OneGate writes go.
    #[serde(rename = "USER_TEMPLATE", default)]
    pub user_template: Attributes,
    /// The network part of the VM template.
    #[serde(rename = "TEMPLATE", default)]
    pub template: OneGateVmTemplate,
}

impl OneGateVm {
    /// Whether the VM is ACTIVE/RUNNING (state 3, LCM state 3).
    pub fn is_running(&self) -> bool {
        self.state == 3 && self.lcm_state == 3
    }

    /// A user-template attribute as text, when it is a single value.
    pub fn user_attr(&self, key: &str) -> Option<&str> {
        self.user_template.get(key).and_then(AttrValue::as_str)
    }
}

/// The part of the VM template OneGate shows: NICs and NIC aliases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OneGateVmTemplate {
    /// The NICs (always a list, even with one NIC).
    #[serde(rename = "NIC", default, deserialize_with = "lenient::one_or_many")]
    pub nics: Vec<OneGateNic>,
    /// The NIC aliases.
    #[serde(
        rename = "NIC_ALIAS",
        default,
        deserialize_with = "lenient::one_or_many"
    )]
    pub nic_aliases: Vec<OneGateNic>,
}

/// One NIC as OneGate shows it (the server keeps only these keys).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OneGateNic {
    /// NIC name (`NIC0`).
    #[serde(
        rename = "NAME",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub name: Option<String>,
    /// IPv4 address.
    #[serde(
        rename = "IP",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub ip: Option<String>,
    /// IPv6 link-local address.
    #[serde(
        rename = "IP6_LINK",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub ip6_link: Option<String>,
    /// IPv6 site (ULA) address.
    #[serde(
        rename = "IP6_SITE",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub ip6_site: Option<String>,
    /// IPv6 global address.
    #[serde(
        rename = "IP6_GLOBAL",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub ip6_global: Option<String>,
    /// MAC address.
    #[serde(
        rename = "MAC",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub mac: Option<String>,
    /// Virtual network name.
    #[serde(
        rename = "NETWORK",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub network: Option<String>,
    /// Parent NIC of an alias.
    #[serde(
        rename = "PARENT",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub parent: Option<String>,
    /// `YES` when the address is external (NIC alias).
    #[serde(
        rename = "EXTERNAL",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub external: Option<String>,
    /// External IP reported by the hypervisor.
    #[serde(
        rename = "EXTERNAL_IP",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub external_ip: Option<String>,
}

/// A OneFlow service as `GET /service` returns it (`{"SERVICE": {...}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OneGateService {
    /// Service name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    /// Service id (a OneFlow service is an oned document).
    #[serde(deserialize_with = "lenient::num")]
    pub id: DocumentId,
    /// Service state.
    #[serde(default, deserialize_with = "lenient::num")]
    pub state: ServiceState,
    /// The roles.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub roles: Vec<ServiceRole>,
}

impl OneGateService {
    /// The role called `name`.
    pub fn role(&self, name: &str) -> Option<&ServiceRole> {
        self.roles.iter().find(|r| r.name == name)
    }
}

/// One role of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceRole {
    /// Role name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    /// Number of VMs the role should have.
    #[serde(default, deserialize_with = "lenient::num")]
    pub cardinality: u32,
    /// Role state.
    #[serde(default, deserialize_with = "lenient::num")]
    pub state: RoleState,
    /// The VMs of the role.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub nodes: Vec<ServiceNode>,
}

/// One VM of a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceNode {
    /// The VM id.
    #[serde(deserialize_with = "lenient::num")]
    pub deploy_id: VmId,
    /// Whether OneFlow saw the VM running (`None` when it has not reported yet).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub running: Option<bool>,
    /// What OneFlow knows of the VM (`{"VM": {...}}`); with `extended`, the whole VM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_info: Option<NodeVmInfo>,
}

/// The `vm_info` of a service node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeVmInfo {
    /// The VM.
    #[serde(rename = "VM")]
    pub vm: NodeVm,
}

/// A VM as OneFlow reports it inside a service. With `extended` the server sends the
/// whole VM document; the fields not named here are kept in [`NodeVm::other`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeVm {
    /// VM id.
    #[serde(rename = "ID", deserialize_with = "lenient::num")]
    pub id: VmId,
    /// VM name.
    #[serde(rename = "NAME", default, deserialize_with = "lenient::text")]
    pub name: String,
    /// VM state number.
    #[serde(
        rename = "STATE",
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub state: Option<u32>,
    /// LCM state number.
    #[serde(
        rename = "LCM_STATE",
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub lcm_state: Option<u32>,
    /// The user template, when sent.
    #[serde(
        rename = "USER_TEMPLATE",
        default,
        skip_serializing_if = "Attributes::is_empty"
    )]
    pub user_template: Attributes,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

macro_rules! state_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $n:literal => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A state this version does not know (the number as sent).
            Unknown(u32),
        }

        impl $name {
            /// The number OneFlow uses.
            pub fn code(self) -> u32 {
                match self {
                    $($name::$variant => $n,)+
                    $name::Unknown(n) => n,
                }
            }

            /// The name OneFlow uses (`RUNNING`), or `UNKNOWN`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown(_) => "UNKNOWN",
                }
            }
        }

        impl From<u32> for $name {
            fn from(n: u32) -> Self {
                match n {
                    $($n => $name::$variant,)+
                    other => $name::Unknown(other),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<u32>().map($name::from)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Unknown(n) => write!(f, "UNKNOWN({n})"),
                    other => f.write_str(other.as_str()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u32(self.code())
            }
        }
    };
}

state_enum! {
    /// The state of a OneFlow service (OneFlow `Service::STATE`).
    ServiceState {
        /// Waiting to be deployed.
        #[default]
        Pending = 0 => "PENDING",
        /// Deploying its roles.
        Deploying = 1 => "DEPLOYING",
        /// Every role is running.
        Running = 2 => "RUNNING",
        /// Being undeployed.
        Undeploying = 3 => "UNDEPLOYING",
        /// A VM failed or is not reporting.
        Warning = 4 => "WARNING",
        /// Undeployed.
        Done = 5 => "DONE",
        /// Undeploying failed.
        FailedUndeploying = 6 => "FAILED_UNDEPLOYING",
        /// Deploying failed.
        FailedDeploying = 7 => "FAILED_DEPLOYING",
        /// A role is changing its cardinality.
        Scaling = 8 => "SCALING",
        /// Scaling failed.
        FailedScaling = 9 => "FAILED_SCALING",
        /// Waiting after a scaling operation.
        Cooldown = 10 => "COOLDOWN",
        /// Creating the service networks.
        DeployingNets = 11 => "DEPLOYING_NETS",
        /// Removing the service networks.
        UndeployingNets = 12 => "UNDEPLOYING_NETS",
        /// Creating the networks failed.
        FailedDeployingNets = 13 => "FAILED_DEPLOYING_NETS",
        /// Removing the networks failed.
        FailedUndeployingNets = 14 => "FAILED_UNDEPLOYING_NETS",
        /// Held.
        Hold = 15 => "HOLD",
    }
}

state_enum! {
    /// The state of a service role (OneFlow `Role::STATE`).
    RoleState {
        /// Waiting to be deployed.
        #[default]
        Pending = 0 => "PENDING",
        /// Deploying its VMs.
        Deploying = 1 => "DEPLOYING",
        /// Every VM is running.
        Running = 2 => "RUNNING",
        /// Being undeployed.
        Undeploying = 3 => "UNDEPLOYING",
        /// A VM failed or is not reporting.
        Warning = 4 => "WARNING",
        /// Undeployed.
        Done = 5 => "DONE",
        /// Undeploying failed.
        FailedUndeploying = 6 => "FAILED_UNDEPLOYING",
        /// Deploying failed.
        FailedDeploying = 7 => "FAILED_DEPLOYING",
        /// Changing its cardinality.
        Scaling = 8 => "SCALING",
        /// Scaling failed.
        FailedScaling = 9 => "FAILED_SCALING",
        /// Waiting after a scaling operation.
        Cooldown = 10 => "COOLDOWN",
        /// Held.
        Hold = 11 => "HOLD",
    }
}

/// A virtual router as `GET /vrouter` returns it (`{"VROUTER": {...}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OneGateVrouter {
    /// Router name.
    #[serde(rename = "NAME", default, deserialize_with = "lenient::text")]
    pub name: String,
    /// Router id.
    #[serde(rename = "ID", deserialize_with = "lenient::num")]
    pub id: VrouterId,
    /// The VMs of the router (sent as `{"ID": [..]}`, numbers or strings).
    #[serde(
        rename = "VMS",
        default,
        deserialize_with = "lenient::id_list",
        serialize_with = "ser_id_list"
    )]
    pub vms: Vec<VmId>,
    /// The router template.
    #[serde(rename = "TEMPLATE", default)]
    pub template: VrouterTemplate,
}

/// The template of a virtual router.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VrouterTemplate {
    /// The router NICs (always a list).
    #[serde(rename = "NIC", default, deserialize_with = "lenient::one_or_many")]
    pub nics: Vec<Attributes>,
    /// Every other template attribute.
    #[serde(flatten)]
    pub other: Attributes,
}

/// A virtual network as `GET /vnet/:id` returns it (`{"VNET": {...}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OneGateVnet {
    /// Network id.
    #[serde(rename = "ID", deserialize_with = "lenient::num")]
    pub id: VnetId,
    /// Network name.
    #[serde(rename = "NAME", default, deserialize_with = "lenient::text")]
    pub name: String,
    /// Leases in use.
    #[serde(rename = "USED_LEASES", default, deserialize_with = "lenient::num")]
    pub used_leases: u64,
    /// Virtual routers using the network.
    #[serde(
        rename = "VROUTERS",
        default,
        deserialize_with = "lenient::id_list",
        serialize_with = "ser_id_list"
    )]
    pub vrouters: Vec<VrouterId>,
    /// Parent network of a reservation (`{}` on the wire when none).
    #[serde(
        rename = "PARENT_NETWORK_ID",
        default,
        deserialize_with = "lenient::opt_num"
    )]
    pub parent_network_id: Option<VnetId>,
    /// The address ranges.
    #[serde(rename = "AR_POOL", default)]
    pub ar_pool: ArPool,
    /// The template attributes the server exposes (NETWORK_ADDRESS, GATEWAY, DNS, ...).
    #[serde(rename = "TEMPLATE", default)]
    pub template: Attributes,
}

/// The address ranges of a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArPool {
    /// The ranges (always a list).
    #[serde(rename = "AR", default, deserialize_with = "lenient::one_or_many")]
    pub ars: Vec<AddressRange>,
}

/// One address range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddressRange {
    /// Range id.
    #[serde(rename = "AR_ID", deserialize_with = "lenient::num")]
    pub ar_id: u32,
    /// `IP4`, `IP6`, `IP4_6`, `ETHER`, ...
    #[serde(rename = "TYPE", default, deserialize_with = "lenient::text")]
    pub ar_type: String,
    /// Number of addresses.
    #[serde(rename = "SIZE", default, deserialize_with = "lenient::num")]
    pub size: u64,
    /// Addresses in use.
    #[serde(
        rename = "USED_LEASES",
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub used_leases: Option<u64>,
    /// The leases.
    #[serde(
        rename = "LEASES",
        default,
        deserialize_with = "leases",
        serialize_with = "ser_leases"
    )]
    pub leases: Vec<Lease>,
    /// Every other attribute (IP, MAC, IP_END, GLOBAL_PREFIX, ...).
    #[serde(flatten)]
    pub other: Attributes,
}

impl AddressRange {
    /// An attribute of the range as text (`IP`, `MAC`, `IP_END`, ...).
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.other.get(key).and_then(AttrValue::as_str)
    }
}

/// One lease of an address range. With `extended`, leases of VMs also carry
/// `NIC_NAME` (and, for alias and backend VMs, `PARENT`, `EXTERNAL`, `BACKEND` and the
/// VM's `ONEGATE_*` attributes, kept in [`Lease::other`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Lease {
    /// IPv4 address.
    #[serde(
        rename = "IP",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub ip: Option<String>,
    /// MAC address.
    #[serde(
        rename = "MAC",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub mac: Option<String>,
    /// The VM holding the lease.
    #[serde(
        rename = "VM",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_num"
    )]
    pub vm: Option<VmId>,
    /// The NIC name in that VM (`extended` only).
    #[serde(
        rename = "NIC_NAME",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub nic_name: Option<String>,
    /// Every other attribute (IP6_*, VROUTER, PARENT, BACKEND, ONEGATE_*, ...).
    #[serde(flatten)]
    pub other: Attributes,
}

fn leases<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Lease>, D::Error> {
    #[derive(Deserialize)]
    struct Holder {
        #[serde(rename = "LEASE", default, deserialize_with = "lenient::one_or_many")]
        lease: Vec<Lease>,
    }
    Ok(Option::<Holder>::deserialize(d)?
        .map(|h| h.lease)
        .unwrap_or_default())
}

fn ser_leases<S: Serializer>(leases: &[Lease], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Holder<'a> {
        #[serde(rename = "LEASE")]
        lease: &'a [Lease],
    }
    Holder { lease: leases }.serialize(s)
}

fn ser_id_list<S: Serializer, T: Serialize>(ids: &[T], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Holder<'a, T> {
        #[serde(rename = "ID")]
        id: &'a [T],
    }
    Holder { id: ids }.serialize(s)
}

/// The answer of `GET /`: where the VM and service documents are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OneGateRoot {
    /// URL of `/vm`.
    pub vm_info: String,
    /// URL of `/service`.
    pub service_info: String,
}

/// A OneGate answer type that can be decoded from a document in hand (a stored answer, a
/// recorded exchange, a file), as the OpenNebula models decode with `FromStr`.
///
/// The document is the whole answer, envelope included (`{"VM": {...}}` for a
/// [`OneGateVm`], `{"SERVICE": {...}}` for a [`OneGateService`], `{"VROUTER": {...}}`,
/// `{"VNET": {...}}`); each type also implements [`FromStr`](std::str::FromStr) doing
/// the same. The object inside the envelope deserialises with serde as the type itself.
///
/// ```
/// use nebulair_opennebula::onegate::{OneGateDocument, OneGateService, OneGateVm, ServiceState};
///
/// let vm: OneGateVm = r#"{"VM":{"NAME":"web-0","ID":"7","STATE":"3","LCM_STATE":"3",
///     "USER_TEMPLATE":{},"TEMPLATE":{"NIC":[],"NIC_ALIAS":[]}}}"#.parse().expect("vm");
/// assert_eq!(vm.id.get(), 7);
/// let service = OneGateService::from_json(
///     br#"{"SERVICE":{"name":"s","id":"3","state":2,"roles":[]}}"#).expect("service");
/// assert_eq!(service.state, ServiceState::Running);
/// assert!(OneGateVm::from_json(br#"{"SERVICE":{}}"#).is_err());
/// ```
pub trait OneGateDocument: Sized {
    /// The envelope key of the answer (`VM`, `SERVICE`, `VROUTER`, `VNET`).
    const ENVELOPE: &'static str;

    /// Decodes a whole answer (`{"<ENVELOPE>": {...}}`).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when the bytes are not JSON, the
    /// envelope key is missing, or the object does not have the fields of the type; the
    /// message names the envelope and serde's reason.
    fn from_json(json: &[u8]) -> crate::Result<Self>;

    /// Decodes an answer already parsed into a [`serde_json::Value`].
    ///
    /// # Errors
    /// As [`OneGateDocument::from_json`].
    fn from_value(value: serde_json::Value) -> crate::Result<Self>;
}

macro_rules! onegate_documents {
    ($($ty:ident => $env:ident . $field:ident = $key:literal),+ $(,)?) => {$(
        impl OneGateDocument for $ty {
            const ENVELOPE: &'static str = $key;

            fn from_json(json: &[u8]) -> crate::Result<Self> {
                serde_json::from_slice::<$env>(json)
                    .map(|e| e.$field)
                    .map_err(|e| bad_document($key, e))
            }

            fn from_value(value: serde_json::Value) -> crate::Result<Self> {
                serde_json::from_value::<$env>(value)
                    .map(|e| e.$field)
                    .map_err(|e| bad_document($key, e))
            }
        }

        impl std::str::FromStr for $ty {
            type Err = crate::Error;

            /// Decodes a whole answer; see [`OneGateDocument::from_json`].
            fn from_str(json: &str) -> crate::Result<Self> {
                <$ty as OneGateDocument>::from_json(json.as_bytes())
            }
        }
    )+};
}

fn bad_document(key: &str, e: serde_json::Error) -> crate::Error {
    crate::Error::with_source(
        crate::ErrorKind::Protocol,
        format!("not a OneGate {{\"{key}\": ...}} document: {e}"),
        e,
    )
}

onegate_documents! {
    OneGateVm => VmEnvelope.vm = "VM",
    OneGateService => ServiceEnvelope.service = "SERVICE",
    OneGateVrouter => VrouterEnvelope.vrouter = "VROUTER",
    OneGateVnet => VnetEnvelope.vnet = "VNET",
}

impl std::str::FromStr for OneGateRoot {
    type Err = crate::Error;

    /// Decodes the answer of `GET /` (no envelope).
    fn from_str(json: &str) -> crate::Result<Self> {
        serde_json::from_str(json).map_err(|e| {
            crate::Error::with_source(
                crate::ErrorKind::Protocol,
                format!("not a OneGate root document: {e}"),
                e,
            )
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct VmEnvelope {
    #[serde(rename = "VM")]
    pub(crate) vm: OneGateVm,
}

#[derive(Deserialize)]
pub(crate) struct ServiceEnvelope {
    #[serde(rename = "SERVICE")]
    pub(crate) service: OneGateService,
}

#[derive(Deserialize)]
pub(crate) struct VrouterEnvelope {
    #[serde(rename = "VROUTER")]
    pub(crate) vrouter: OneGateVrouter,
}

#[derive(Deserialize)]
pub(crate) struct VnetEnvelope {
    #[serde(rename = "VNET")]
    pub(crate) vnet: OneGateVnet,
}

impl<'de> Deserialize<'de> for ServiceState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::num::<D, u32>(d).map(ServiceState::from)
    }
}

impl<'de> Deserialize<'de> for RoleState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::num::<D, u32>(d).map(RoleState::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            "[0-9a-zA-Z ]{0,6}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("ID".to_owned()),
                        Just("NAME".to_owned()),
                        Just("NIC".to_owned()),
                        Just("TEMPLATE".to_owned()),
                        Just("USER_TEMPLATE".to_owned()),
                        Just("AR_POOL".to_owned()),
                        Just("AR".to_owned()),
                        Just("LEASES".to_owned()),
                        Just("LEASE".to_owned()),
                        Just("VMS".to_owned()),
                        Just("roles".to_owned()),
                        Just("nodes".to_owned()),
                        Just("id".to_owned()),
                        "[A-Z_]{1,5}",
                    ],
                    inner,
                    0..5,
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn documents_decode_with_their_envelope_only() {
        let vnet: OneGateVnet =
            r#"{"VNET":{"ID":"4","NAME":"n","USED_LEASES":"1","AR_POOL":{},"TEMPLATE":{}}}"#
                .parse()
                .expect("vnet");
        assert_eq!(vnet.id, VnetId::new(4));
        let router: OneGateVrouter =
            r#"{"VROUTER":{"NAME":"r","ID":2,"VMS":{"ID":[5,"6"]},"TEMPLATE":{}}}"#
                .parse()
                .expect("vrouter");
        assert_eq!(router.vms, vec![VmId::new(5), VmId::new(6)]);
        let e = r#"{"NAME":"r","ID":2}"#.parse::<OneGateVrouter>().expect_err("no envelope");
        assert_eq!(e.kind(), crate::ErrorKind::Protocol);
        assert!(e.to_string().contains("VROUTER"), "{e}");
        assert!("not json".parse::<OneGateVm>().is_err());
        let value =
            serde_json::json!({"SERVICE": {"name": "s", "id": 3, "state": "7", "roles": []}});
        let service = OneGateService::from_value(value).expect("service");
        assert_eq!(service.state, ServiceState::FailedDeploying);
        let root: OneGateRoot = r#"{"vm_info":"/vm","service_info":"/service"}"#
            .parse()
            .expect("root");
        assert_eq!(root.vm_info, "/vm");
    }

    proptest! {
        #[test]
        fn any_json_decodes_or_errors_without_panicking(v in json()) {
            let _ = serde_json::from_value::<OneGateVm>(v.clone());
            let _ = serde_json::from_value::<OneGateService>(v.clone());
            let _ = serde_json::from_value::<OneGateVrouter>(v.clone());
            let _ = serde_json::from_value::<OneGateVnet>(v);
        }

        #[test]
        fn vm_round_trips_through_json(name in "[a-z0-9-]{1,12}", id in 0i32..100_000, key in "[A-Z_]{1,8}", val in "[a-z ]{0,8}") {
            let vm: OneGateVm = serde_json::from_value(serde_json::json!({
                "NAME": name, "ID": id.to_string(), "STATE": "3", "LCM_STATE": "3",
                "USER_TEMPLATE": {key.clone(): val, "VEC": {"A": "1"}},
                "TEMPLATE": {"NIC": {"IP": "10.0.0.1"}, "NIC_ALIAS": []}
            })).expect("decode");
            let back: OneGateVm = serde_json::from_value(serde_json::to_value(&vm).expect("encode")).expect("decode again");
            prop_assert_eq!(back, vm);
        }
    }
}
