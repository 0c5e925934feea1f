//! vCD API versions: kept as text (`5.10` is not `5.1`), compared numerically.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use nebulair_core::{Error, Result};

/// A vCD API version such as `5.6`, `9.0` or `36.0`.
///
/// The text is kept exactly as the server wrote it (it goes back into `Accept` headers);
/// ordering compares the dot-separated parts as numbers, so `5.10 > 5.9` and
/// `36.0 > 5.10`.
///
/// ```
/// use nebulair_vcloud::ApiVersion;
///
/// let a: ApiVersion = "5.10".parse()?;
/// let b: ApiVersion = "5.9".parse()?;
/// assert!(a > b);
/// assert_eq!(a.to_string(), "5.10");
/// assert!(ApiVersion::new("36.0")? >= ApiVersion::new("33.0")?);
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Clone, Debug, Eq)]
pub struct ApiVersion {
    text: String,
    parts: Vec<u32>,
}

impl ApiVersion {
    /// Parses a version.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) unless the text
    /// is one or more dot-separated decimal numbers.
    pub fn new(text: &str) -> Result<Self> {
        let text = text.trim();
        let parts = text
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                p.parse::<u32>().ok()
            })
            .collect::<Option<Vec<_>>>()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::invalid_input(format!("invalid vCD API version {text:?}")))?;
        Ok(ApiVersion {
            text: text.to_owned(),
            parts,
        })
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The major number (`36` for `36.0`).
    pub fn major(&self) -> u32 {
        self.parts.first().copied().unwrap_or(0)
    }

    /// Whether this version is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        let m = self.parts.get(1).copied().unwrap_or(0);
        (self.major(), m) >= (major, minor)
    }

    /// vCloud Air subscription (vchs) default: `5.6`.
    pub fn vca_default() -> Self {
        Self::known("5.6", &[5, 6])
    }

    /// vCloud Air On-Demand default: `5.7`.
    pub fn vca_od_default() -> Self {
        Self::known("5.7", &[5, 7])
    }

    fn known(text: &str, parts: &[u32]) -> Self {
        ApiVersion {
            text: text.to_owned(),
            parts: parts.to_vec(),
        }
    }
}

impl PartialEq for ApiVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl std::hash::Hash for ApiVersion {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut parts = self.parts.as_slice();
        while let [rest @ .., 0] = parts {
            parts = rest;
        }
        parts.hash(state);
    }
}

impl Ord for ApiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).copied().unwrap_or(0);
            let b = other.parts.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for ApiVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ApiVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ApiVersion::new(s)
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ApiVersion::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_is_numeric() {
        let v = |s: &str| ApiVersion::new(s).expect("version");
        assert!(v("5.10") > v("5.9"));
        assert!(v("5.10") != v("5.1"));
        assert_eq!(v("36"), v("36.0"));
        assert!(v("33.0").at_least(33, 0));
        assert!(!v("32.0").at_least(33, 0));
        for bad in ["", "a", "1..2", "1.x", "-1", ".5"] {
            assert!(ApiVersion::new(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn round_trips(parts in proptest::collection::vec(0u32..1000, 1..4)) {
            let text = parts.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
            let v = ApiVersion::new(&text).expect("valid");
            proptest::prop_assert_eq!(v.to_string(), text);
        }

        #[test]
        fn garbage_never_panics(s in ".{0,20}") {
            let _ = ApiVersion::new(&s);
        }
    }
}
