//! Typed ids for every OpenNebula object, so a host id cannot be passed where a VM id is
//! expected.
//!
//! Each id wraps the `i32` oned uses on the wire (`<i4>`), converts from and to it, parses
//! from text and serialises as a bare number.
//!
//! ```
//! use nebulair_opennebula::ids::{ClusterId, VmId};
//!
//! let vm = VmId::new(42);
//! assert_eq!(vm.get(), 42);
//! assert_eq!(vm.to_string(), "42");
//! assert_eq!("42".parse::<VmId>().expect("id"), vm);
//! assert_eq!(ClusterId::DEFAULT.get(), 0);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($( $(#[$meta:meta])* $name:ident => $what:literal ),+ $(,)?) => {$(
        $(#[$meta])*
        #[doc = concat!("The id of ", $what, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i32);

        impl $name {
            #[doc = concat!("Wraps a raw id of ", $what, ".")]
            pub const fn new(id: i32) -> Self {
                $name(id)
            }

            /// The raw number sent on the wire.
            pub const fn get(self) -> i32 {
                self.0
            }
        }

        impl From<i32> for $name {
            fn from(id: i32) -> Self {
                $name(id)
            }
        }

        impl From<$name> for i32 {
            fn from(id: $name) -> i32 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }
    )+};
}

ids! {
    VmId => "a virtual machine",
    HostId => "a host",
    ClusterId => "a cluster",
    DatastoreId => "a datastore",
    ImageId => "an image",
    TemplateId => "a VM template",
    VnetId => "a virtual network",
    VnTemplateId => "a virtual network template",
    UserId => "a user",
    GroupId => "a group",
    AclId => "an ACL rule",
    ZoneId => "a zone",
    DocumentId => "a document",
    MarketId => "a marketplace",
    MarketAppId => "a marketplace app",
    SecGroupId => "a security group",
    VmGroupId => "a VM group",
    VrouterId => "a virtual router",
    VdcId => "a VDC",
    HookId => "a hook",
    BackupJobId => "a backup job",
}

impl ClusterId {
    /// The `default` cluster (id 0) every installation has.
    pub const DEFAULT: ClusterId = ClusterId(0);
    /// "No cluster" (-1): the server picks (e.g. for `one.host.allocate`).
    pub const NONE: ClusterId = ClusterId(-1);
}

impl GroupId {
    /// The `oneadmin` group (0).
    pub const ONEADMIN: GroupId = GroupId(0);
    /// The `users` group (1).
    pub const USERS: GroupId = GroupId(1);
}

impl UserId {
    /// The `oneadmin` user (0).
    pub const ONEADMIN: UserId = UserId(0);
}

impl ZoneId {
    /// The local zone (0).
    pub const LOCAL: ZoneId = ZoneId(0);
}

impl DatastoreId {
    /// The default system datastore (0).
    pub const SYSTEM: DatastoreId = DatastoreId(0);
    /// The default image datastore (1).
    pub const DEFAULT: DatastoreId = DatastoreId(1);
    /// The default file datastore (2).
    pub const FILES: DatastoreId = DatastoreId(2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id: HostId = " 7 ".parse().expect("parse");
        assert_eq!(id, HostId::new(7));
        assert_eq!(serde_json::to_string(&id).expect("json"), "7");
        let back: HostId = serde_json::from_str("7").expect("json");
        assert_eq!(back, id);
        assert!("x".parse::<VmId>().is_err());
        assert_eq!(i32::from(VmId::from(-1)), -1);
    }
}
