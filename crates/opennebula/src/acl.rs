//! ACL rules in oned's text syntax, as `oneacl create` takes them.
//!
//! `one.acl.addrule` takes three (or four) hexadecimal bit sets; nobody writes those by
//! hand. [`AclRule`] parses and prints the syntax of `oneacl` and of the `STRING` element of
//! `one.acl.info` (`"@100 VM+IMAGE/* USE+MANAGE #0"`: who, resource types / which objects,
//! rights, optionally the zone), converts to and from the wire values, and
//! [`Acls::add`](crate::api::Acls::add) sends it.
//!
//! ```
//! use nebulair_opennebula::acl::{AclRights, AclRule, AclSet, ResourceType};
//!
//! let rule: AclRule = "@100 VM+IMAGE/* USE+MANAGE #0".parse()?;
//! assert_eq!(rule.user, AclSet::Group(100));
//! assert_eq!(rule.resources, [ResourceType::Vm, ResourceType::Image]);
//! assert_eq!(rule.rights, AclRights::USE | AclRights::MANAGE);
//! assert_eq!(rule.wire_user(), "200000064");
//! assert_eq!(rule.wire_resource(), "9400000000");
//! assert_eq!(rule.to_string(), "@100 VM+IMAGE/* USE+MANAGE #0");
//!
//! // what one.acl.info returns decodes back
//! let back = AclRule::from_wire("200000064", "9400000000", "3", Some("100000000"))?;
//! assert_eq!(back, rule);
//! # Ok::<(), nebulair_opennebula::Error>(())
//! ```

use std::fmt;
use std::ops::BitOr;
use std::str::FromStr;

use nebulair_core::{Error, Result};

use crate::api::Acls;
use crate::ids::AclId;
use crate::model::AclPoolAcl;

const INDIVIDUAL: u64 = 0x1_0000_0000;
const GROUP: u64 = 0x2_0000_0000;
const ALL: u64 = 0x4_0000_0000;
const CLUSTER: u64 = 0x8_0000_0000;
const ID_MASK: u64 = 0xFFFF_FFFF;
const SET_MASK: u64 = INDIVIDUAL | GROUP | ALL | CLUSTER;

/// Which users, objects or zones a rule covers: `#id`, `@gid`, `%cluster_id` or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AclSet {
    /// `#id`: one user, object or zone.
    Individual(u32),
    /// `@gid`: the members (or objects) of a group.
    Group(u32),
    /// `%cid`: the objects of a cluster (resources only).
    Cluster(u32),
    /// `*`: everything.
    All,
}

impl AclSet {
    fn bits(self) -> u64 {
        match self {
            AclSet::Individual(id) => INDIVIDUAL | u64::from(id),
            AclSet::Group(id) => GROUP | u64::from(id),
            AclSet::Cluster(id) => CLUSTER | u64::from(id),
            AclSet::All => ALL,
        }
    }

    fn from_bits(bits: u64, what: &str) -> Result<AclSet> {
        let id = u32::try_from(bits & ID_MASK).unwrap_or(u32::MAX);
        match bits & SET_MASK {
            INDIVIDUAL => Ok(AclSet::Individual(id)),
            GROUP => Ok(AclSet::Group(id)),
            CLUSTER => Ok(AclSet::Cluster(id)),
            ALL => Ok(AclSet::All),
            _ => Err(Error::protocol(format!(
                "ACL {what} {bits:#x} has not exactly one of the INDIVIDUAL, GROUP, CLUSTER or ALL bits"
            ))),
        }
    }

    fn parse(s: &str, what: &str) -> Result<AclSet> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid ACL {what} {s:?}: expected #ID, @GROUP_ID, %CLUSTER_ID or *"
            ))
        };
        if s == "*" {
            return Ok(AclSet::All);
        }
        let (kind, num) = s.split_at_checked(1).ok_or_else(bad)?;
        let id: u32 = num.parse().map_err(|_| bad())?;
        match kind {
            "#" => Ok(AclSet::Individual(id)),
            "@" => Ok(AclSet::Group(id)),
            "%" => Ok(AclSet::Cluster(id)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for AclSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AclSet::Individual(id) => write!(f, "#{id}"),
            AclSet::Group(id) => write!(f, "@{id}"),
            AclSet::Cluster(id) => write!(f, "%{id}"),
            AclSet::All => f.write_str("*"),
        }
    }
}

macro_rules! resource_types {
    ($($variant:ident => $name:literal, $bit:literal;)+) => {
        /// The resource types an ACL rule can name (`VM`, `HOST`, `NET`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ResourceType {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant,
            )+
        }

        impl ResourceType {
            /// Every type, in oned's bit order.
            pub const ALL: &'static [ResourceType] = &[$(ResourceType::$variant),+];

            /// The name in the rule syntax.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ResourceType::$variant => $name,)+
                }
            }

            /// The bit of the type in the resource set.
            pub const fn bit(self) -> u64 {
                match self {
                    $(ResourceType::$variant => $bit,)+
                }
            }
        }
    };
}

resource_types! {
    Vm => "VM", 0x10_0000_0000;
    Host => "HOST", 0x20_0000_0000;
    Net => "NET", 0x40_0000_0000;
    Image => "IMAGE", 0x80_0000_0000;
    User => "USER", 0x100_0000_0000;
    Template => "TEMPLATE", 0x200_0000_0000;
    Group => "GROUP", 0x400_0000_0000;
    Datastore => "DATASTORE", 0x1000_0000_0000;
    Cluster => "CLUSTER", 0x2000_0000_0000;
    Document => "DOCUMENT", 0x4000_0000_0000;
    Zone => "ZONE", 0x8000_0000_0000;
    SecGroup => "SECGROUP", 0x1_0000_0000_0000;
    Vdc => "VDC", 0x2_0000_0000_0000;
    Vrouter => "VROUTER", 0x4_0000_0000_0000;
    Marketplace => "MARKETPLACE", 0x8_0000_0000_0000;
    MarketplaceApp => "MARKETPLACEAPP", 0x10_0000_0000_0000;
    VmGroup => "VMGROUP", 0x20_0000_0000_0000;
    VnTemplate => "VNTEMPLATE", 0x40_0000_0000_0000;
    Hook => "HOOK", 0x80_0000_0000_0000;
    BackupJob => "BACKUPJOB", 0x100_0000_0000_0000;
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ResourceType {
    type Err = Error;

    /// Parses a type name, case-insensitively (`"vm"`, `"SECGROUP"`).
    fn from_str(s: &str) -> Result<Self> {
        ResourceType::ALL
            .iter()
            .copied()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::invalid_input(format!("unknown ACL resource type {s:?}")))
    }
}

/// The rights a rule grants: any combination of `USE`, `MANAGE`, `ADMIN` and `CREATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AclRights(u8);

impl AclRights {
    /// `USE`.
    pub const USE: AclRights = AclRights(1);
    /// `MANAGE`.
    pub const MANAGE: AclRights = AclRights(2);
    /// `ADMIN`.
    pub const ADMIN: AclRights = AclRights(4);
    /// `CREATE`.
    pub const CREATE: AclRights = AclRights(8);

    const NAMES: [(AclRights, &'static str); 4] = [
        (AclRights::USE, "USE"),
        (AclRights::MANAGE, "MANAGE"),
        (AclRights::ADMIN, "ADMIN"),
        (AclRights::CREATE, "CREATE"),
    ];

    /// The bit set.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every right of `other` is granted.
    pub const fn contains(self, other: AclRights) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no right is granted.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for AclRights {
    type Output = AclRights;

    fn bitor(self, rhs: AclRights) -> AclRights {
        AclRights(self.0 | rhs.0)
    }
}

impl fmt::Display for AclRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (r, name) in AclRights::NAMES {
            if self.contains(r) {
                if !first {
                    f.write_str("+")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// One ACL rule: who may do what on which objects, in which zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AclRule {
    /// Who the rule applies to (`#uid`, `@gid` or `*`).
    pub user: AclSet,
    /// The resource types, in oned's bit order, without repeats.
    pub resources: Vec<ResourceType>,
    /// Which objects of those types (`#id`, `@gid`, `%cid` or `*`).
    pub objects: AclSet,
    /// The rights granted.
    pub rights: AclRights,
    /// The zone (`#zone_id` or `*`); `None` lets oned use its own zone.
    pub zone: Option<AclSet>,
}

fn parse_hex(s: &str, what: &str) -> Result<u64> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(t, 16)
        .map_err(|_| Error::protocol(format!("ACL {what} {s:?} is not a hexadecimal number")))
}

impl AclRule {
    /// A rule; `resources` are put in oned's order and repeats dropped.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when the rule cannot be valid: no resource type,
    /// no right, a `%cluster` user, or a zone that is neither `#id` nor `*`.
    pub fn new(
        user: AclSet,
        resources: impl IntoIterator<Item = ResourceType>,
        objects: AclSet,
        rights: AclRights,
        zone: Option<AclSet>,
    ) -> Result<AclRule> {
        let mut resources: Vec<ResourceType> = resources.into_iter().collect();
        resources.sort();
        resources.dedup();
        if resources.is_empty() {
            return Err(Error::invalid_input("an ACL rule needs a resource type"));
        }
        if rights.is_empty() {
            return Err(Error::invalid_input("an ACL rule needs at least one right"));
        }
        if matches!(user, AclSet::Cluster(_)) {
            return Err(Error::invalid_input(
                "the user of an ACL rule is #UID, @GID or *, not a cluster",
            ));
        }
        if matches!(zone, Some(AclSet::Group(_) | AclSet::Cluster(_))) {
            return Err(Error::invalid_input(
                "the zone of an ACL rule is #ZONE_ID or *",
            ));
        }
        Ok(AclRule {
            user,
            resources,
            objects,
            rights,
            zone,
        })
    }

    /// The `user` parameter of `one.acl.addrule` (hexadecimal).
    pub fn wire_user(&self) -> String {
        format!("{:x}", self.user.bits())
    }

    /// The `resource` parameter of `one.acl.addrule` (hexadecimal).
    pub fn wire_resource(&self) -> String {
        let types = self.resources.iter().fold(0, |acc, t| acc | t.bit());
        format!("{:x}", types | self.objects.bits())
    }

    /// The `rights` parameter of `one.acl.addrule` (hexadecimal).
    pub fn wire_rights(&self) -> String {
        format!("{:x}", self.rights.bits())
    }

    /// The `zone` parameter of `one.acl.addrule` (hexadecimal), if the rule names one.
    pub fn wire_zone(&self) -> Option<String> {
        self.zone.map(|z| format!("{:x}", z.bits()))
    }

    /// Decodes the hexadecimal values of `one.acl.info` (or of an `addrule` call).
    ///
    /// # Errors
    /// [`crate::ErrorKind::Protocol`] for values that are not hexadecimal or do not make a
    /// valid rule.
    pub fn from_wire(
        user: &str,
        resource: &str,
        rights: &str,
        zone: Option<&str>,
    ) -> Result<AclRule> {
        let user = AclSet::from_bits(parse_hex(user, "user")?, "user")?;
        let res = parse_hex(resource, "resource")?;
        let objects = AclSet::from_bits(res & (SET_MASK | ID_MASK), "resource")?;
        let mut rest = res & !(SET_MASK | ID_MASK);
        let mut types = Vec::new();
        for t in ResourceType::ALL {
            if rest & t.bit() != 0 {
                types.push(*t);
                rest &= !t.bit();
            }
        }
        if rest != 0 {
            return Err(Error::protocol(format!(
                "ACL resource {resource:?} has unknown type bits {rest:#x}"
            )));
        }
        let r = parse_hex(rights, "rights")?;
        let rights = u8::try_from(r)
            .ok()
            .filter(|r| *r <= 0xF)
            .map(AclRights)
            .ok_or_else(|| Error::protocol(format!("ACL rights {rights:?} exceed 0xF")))?;
        let zone = match zone {
            Some(z) if !z.trim().is_empty() => {
                Some(AclSet::from_bits(parse_hex(z, "zone")?, "zone")?)
            }
            _ => None,
        };
        AclRule::new(user, types, objects, rights, zone)
            .map_err(|e| Error::protocol(format!("invalid ACL rule from the server: {e}")))
    }
}

impl FromStr for AclRule {
    type Err = Error;

    /// Parses `USER RESOURCES/OBJECTS RIGHTS [ZONE]` (`"@100 VM+IMAGE/* USE+MANAGE #0"`);
    /// type and right names are case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split_whitespace().collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(Error::invalid_input(format!(
                "invalid ACL rule {s:?}: expected \"USER RESOURCES/OBJECTS RIGHTS [ZONE]\""
            )));
        }
        let user = AclSet::parse(parts[0], "user")?;
        let (types, objects) = parts[1].split_once('/').ok_or_else(|| {
            Error::invalid_input(format!(
                "invalid ACL resource {:?}: expected TYPE[+TYPE...]/OBJECTS",
                parts[1]
            ))
        })?;
        let types = types
            .split('+')
            .map(str::parse)
            .collect::<Result<Vec<ResourceType>>>()?;
        let objects = AclSet::parse(objects, "objects")?;
        let mut rights = AclRights::default();
        for r in parts[2].split('+') {
            let (right, _) = AclRights::NAMES
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(r))
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "unknown ACL right {r:?}: expected USE, MANAGE, ADMIN or CREATE"
                    ))
                })?;
            rights = rights | *right;
        }
        let zone = parts.get(3).map(|z| AclSet::parse(z, "zone")).transpose()?;
        AclRule::new(user, types, objects, rights, zone)
    }
}

impl fmt::Display for AclRule {
    /// The rule syntax, as oned prints it in the `STRING` element.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.user)?;
        for (i, t) in self.resources.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(t.name())?;
        }
        write!(f, "/{} {}", self.objects, self.rights)?;
        if let Some(z) = self.zone {
            write!(f, " {z}")?;
        }
        Ok(())
    }
}

impl AclPoolAcl {
    /// The rule, decoded from the hexadecimal `USER`, `RESOURCE`, `RIGHTS` and `ZONE`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Protocol`] when a value is missing or invalid.
    pub fn rule(&self) -> Result<AclRule> {
        let need = |v: &Option<String>, what: &str| {
            v.clone()
                .ok_or_else(|| Error::protocol(format!("ACL {} lacks its {what}", self.id)))
        };
        AclRule::from_wire(
            &need(&self.user, "USER")?,
            &need(&self.resource, "RESOURCE")?,
            &need(&self.rights, "RIGHTS")?,
            self.zone.as_deref(),
        )
    }
}

impl Acls<'_> {
    /// Adds `rule` (`one.acl.addrule` with its wire values); the zone is sent only when the
    /// rule names one.
    ///
    /// # Errors
    /// The mapped OpenNebula error (oned answers INTERNAL for a rule it rejects), or a
    /// transport error.
    pub async fn add(&self, rule: &AclRule) -> Result<AclId> {
        let (user, resource, rights) = (rule.wire_user(), rule.wire_resource(), rule.wire_rights());
        match rule.wire_zone() {
            Some(zone) => self.addrule_with(&user, &resource, &rights, &zone).await,
            None => self.addrule(&user, &resource, &rights).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn matches_the_recorded_oned_rules() -> Result<()> {
        // one.acl.info of a real oned 7.5 (recorded/026)
        let cases = [
            (
                "100000002",
                "24400000000",
                "1",
                "100000000",
                "#2 NET+TEMPLATE/* USE #0",
            ),
            (
                "200000001",
                "121429400000000",
                "8",
                "400000000",
                "@1 VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VMGROUP+BACKUPJOB/* CREATE *",
            ),
            (
                "200000064",
                "100400000000",
                "1",
                "100000000",
                "@100 DATASTORE/* USE #0",
            ),
            (
                "400000000",
                "800400000000",
                "1",
                "400000000",
                "* ZONE/* USE *",
            ),
        ];
        for (u, r, ri, z, text) in cases {
            let rule = AclRule::from_wire(u, r, ri, Some(z))?;
            assert_eq!(rule.to_string(), text);
            let parsed: AclRule = text.parse()?;
            assert_eq!(parsed, rule);
            assert_eq!(
                (
                    parsed.wire_user(),
                    parsed.wire_resource(),
                    parsed.wire_rights()
                ),
                (u.to_owned(), r.to_owned(), ri.to_owned())
            );
            assert_eq!(parsed.wire_zone().as_deref(), Some(z));
        }
        // the recorded request wrote the types in another order
        let rule: AclRule = "#2 TEMPLATE+NET/* USE #0".parse()?;
        assert_eq!(rule.wire_resource(), "24400000000");
        Ok(())
    }

    #[test]
    fn rejects_bad_rules() {
        for bad in [
            "",
            "@1 VM/*",
            "@1 VM USE",
            "@1 VM/* USE #0 extra",
            "x1 VM/* USE",
            "@a VM/* USE",
            "@1 FOO/* USE",
            "@1 VM/* FLY",
            "%1 VM/* USE",
            "@1 VM/* USE @2",
            "@1 VM/#-1 USE",
        ] {
            let err = bad.parse::<AclRule>().expect_err(bad);
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
        for (u, r, ri) in [
            ("zz", "1", "1"),
            ("1", "1000000001", "1"),
            ("100000000", "400000000", "1"),
            ("100000000", "1400000000", "10"),
            ("300000000", "1400000000", "1"),
        ] {
            let err = AclRule::from_wire(u, r, ri, None).expect_err(u);
            assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        }
    }

    fn set() -> impl Strategy<Value = AclSet> {
        prop_oneof![
            any::<u32>().prop_map(AclSet::Individual),
            any::<u32>().prop_map(AclSet::Group),
            any::<u32>().prop_map(AclSet::Cluster),
            Just(AclSet::All),
        ]
    }

    fn rule() -> impl Strategy<Value = AclRule> {
        (
            set().prop_filter("no cluster user", |s| !matches!(s, AclSet::Cluster(_))),
            prop::collection::vec(prop::sample::select(ResourceType::ALL), 1..6),
            set(),
            1u8..16,
            prop::option::of(prop_oneof![
                any::<u32>().prop_map(AclSet::Individual),
                Just(AclSet::All)
            ]),
        )
            .prop_map(|(u, t, o, r, z)| {
                AclRule::new(u, t, o, AclRights(r), z).expect("valid by construction")
            })
    }

    proptest! {
        #[test]
        fn text_and_wire_round_trip(rule in rule()) {
            let text = rule.to_string();
            prop_assert_eq!(&text.parse::<AclRule>().expect("parses"), &rule);
            let wire = AclRule::from_wire(
                &rule.wire_user(),
                &rule.wire_resource(),
                &rule.wire_rights(),
                rule.wire_zone().as_deref(),
            ).expect("decodes");
            prop_assert_eq!(wire, rule);
        }

        #[test]
        fn garbage_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<AclRule>();
            let _ = AclRule::from_wire(&s, &s, &s, Some(&s));
        }
    }
}
