//! String-valued enums of the ANS JSON, liberal on read: a value this SDK does not know
//! is kept in `Other` and written back exactly as received.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use nebulair_core::Error;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $var,)+
            /// A value this SDK does not know, kept exactly as received.
            Other(String),
        }

        impl $name {
            /// The JSON value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$var => $s,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            /// Case-insensitive; an unknown value becomes `Other` (lower-cased).
            fn from_str(s: &str) -> Result<Self, Error> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($s) { return Ok($name::$var); })+
                if t.is_empty() {
                    return Err(Error::invalid_input(concat!("empty ", stringify!($name))));
                }
                Ok($name::Other(t.to_ascii_lowercase()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            /// Exact match only, so that a value in another case round-trips unchanged.
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(match s.as_str() {
                    $($s => $name::$var,)+
                    _ => $name::Other(s),
                })
            }
        }
    };
}

string_enum! {
    /// Who owns a rule.
    RuleType {
        /// Added by a user; editable.
        User => "user",
        /// Created by the edge itself, evaluated first.
        InternalHigh => "internal_high",
        /// Created by the edge itself, evaluated last.
        InternalLow => "internal_low",
        /// The default policy rule.
        DefaultPolicy => "default_policy",
    }
}

string_enum! {
    /// What a firewall rule does with matching traffic.
    FirewallAction {
        /// Let it through.
        Accept => "accept",
        /// Drop it silently.
        Deny => "deny",
        /// Drop it and answer with a reset or ICMP unreachable.
        Reject => "reject",
    }
}

string_enum! {
    /// A network protocol.
    Protocol {
        /// TCP.
        Tcp => "tcp",
        /// UDP.
        Udp => "udp",
        /// ICMP.
        Icmp => "icmp",
        /// Any protocol.
        Any => "any",
    }
}

string_enum! {
    /// The kind of a NAT rule.
    NatAction {
        /// Source NAT.
        Snat => "snat",
        /// Destination NAT.
        Dnat => "dnat",
    }
}

string_enum! {
    /// An IPsec cipher.
    EncryptionAlgorithm {
        /// AES-128.
        Aes => "aes",
        /// AES-256 (the default).
        Aes256 => "aes256",
        /// Triple DES.
        TripleDes => "3des",
        /// AES-GCM.
        AesGcm => "aes-gcm",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_round_trip_exactly() {
        let p: Protocol = serde_json::from_str("\"TCP\"").expect("decodes");
        assert_eq!(p, Protocol::Other("TCP".into()));
        assert_eq!(serde_json::to_string(&p).expect("encodes"), "\"TCP\"");
        assert_eq!("TCP".parse::<Protocol>().expect("parses"), Protocol::Tcp);
        let a: RuleType = serde_json::from_str("\"internal_high\"").expect("decodes");
        assert_eq!(a, RuleType::InternalHigh);
        assert!("".parse::<NatAction>().is_err());
    }
}
