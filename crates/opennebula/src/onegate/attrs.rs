//! What the client sends: user-template updates and VM actions.

use std::fmt;
use std::str::FromStr;

use nebulair_core::{Error, Result};
use serde::{Serialize, Serializer};

/// Attributes to merge into a VM's user template with
/// [`OneGateClient::update_vm`](super::OneGateClient::update_vm).
///
/// Setting a key twice keeps the last value. Keys are OpenNebula attribute names
/// (ASCII letters, digits and `_`, not starting with a digit); the client upper-cases
/// nothing, and the server stores keys as given.
///
/// OneGate re-quotes what it receives with a simple character scan, so some characters
/// can never be stored through it: a value must not contain `"`, `,`, `[`, `]`, `\\` or a
/// line break, and a sub-value of a vector attribute must not contain `=` either.
/// [`VmAttributes::encode`] rejects those with
/// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) instead of letting the server
/// fail with an opaque 500.
///
/// ```
/// use nebulair_opennebula::onegate::VmAttributes;
///
/// let attrs = VmAttributes::new()
///     .set("APP_STATUS", "ready")
///     .set("APP_LOAD", 0.75)
///     .set_vector("APP_INFO", [("PORT", "8080"), ("PROTO", "http")]);
/// assert_eq!(
///     attrs.encode()?,
///     "APP_STATUS=ready\nAPP_LOAD=0.75\nAPP_INFO=[PORT=\"8080\",PROTO=\"http\"]"
/// );
/// assert!(VmAttributes::new().set("X", "a,b").encode().is_err());
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmAttributes {
    entries: Vec<(String, Entry)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Single(String),
    Vector(Vec<(String, String)>),
}

impl VmAttributes {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value` (any `Display` value: text, numbers, booleans).
    pub fn set(mut self, key: impl Into<String>, value: impl fmt::Display) -> Self {
        self.put(key.into(), Entry::Single(value.to_string()));
        self
    }

    /// Sets `key` to a vector attribute `KEY=[A="1",B="2"]`.
    pub fn set_vector<K, V>(
        mut self,
        key: impl Into<String>,
        values: impl IntoIterator<Item = (K, V)>,
    ) -> Self
    where
        K: Into<String>,
        V: fmt::Display,
    {
        let values = values
            .into_iter()
            .map(|(k, v)| (k.into(), v.to_string()))
            .collect();
        self.put(key.into(), Entry::Vector(values));
        self
    }

    fn put(&mut self, key: String, entry: Entry) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = entry;
        } else {
            self.entries.push((key, entry));
        }
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many attributes are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The attribute names, in the order they were first set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The template text sent to OneGate: one `KEY=value` line per attribute (the server
    /// adds the quotes; an empty value is sent as `KEY=""`), vector attributes as
    /// `KEY=[A="1",B="2"]`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) when there is
    /// no attribute, a key is not a valid attribute name, a vector is empty, or a value
    /// holds a character OneGate cannot store.
    pub fn encode(&self) -> Result<String> {
        if self.entries.is_empty() {
            return Err(Error::invalid_input("OneGate update: no attribute to set"));
        }
        let mut out = String::new();
        for (i, (key, entry)) in self.entries.iter().enumerate() {
            check_key(key)?;
            if i > 0 {
                out.push('\n');
            }
            out.push_str(key);
            out.push('=');
            match entry {
                Entry::Single(v) => {
                    check_value(key, v, false)?;
                    if v.is_empty() {
                        out.push_str("\"\"");
                    } else {
                        out.push_str(v);
                    }
                }
                Entry::Vector(values) => {
                    if values.is_empty() {
                        return Err(Error::invalid_input(format!(
                            "OneGate update: vector attribute {key} has no sub-attribute"
                        )));
                    }
                    out.push('[');
                    for (j, (k, v)) in values.iter().enumerate() {
                        check_key(k)?;
                        check_value(&format!("{key}/{k}"), v, true)?;
                        if j > 0 {
                            out.push(',');
                        }
                        out.push_str(k);
                        out.push('=');
                        push_quoted(&mut out, v);
                    }
                    out.push(']');
                }
            }
        }
        Ok(out)
    }
}

fn push_quoted(out: &mut String, v: &str) {
    out.push('"');
    out.push_str(v);
    out.push('"');
}

/// Checks an attribute name: ASCII letters, digits and `_`, not starting with a digit.
pub(crate) fn check_key(key: &str) -> Result<()> {
    let mut chars = key.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "invalid attribute name {key:?}: use ASCII letters, digits and '_', not starting with a digit"
        )))
    }
}

/// The characters OneGate's quoting cannot carry inside a value.
const FORBIDDEN: &[char] = &['"', ',', '[', ']', '\\', '\n', '\r'];

fn check_value(key: &str, value: &str, in_vector: bool) -> Result<()> {
    if let Some(c) = value.chars().find(|c| FORBIDDEN.contains(c)) {
        return Err(Error::invalid_input(format!(
            "value of {key} contains {c:?}, which OneGate cannot store (forbidden: \" , [ ] \\ and line breaks)"
        )));
    }
    if in_vector && value.contains('=') {
        return Err(Error::invalid_input(format!(
            "value of {key} contains '=', which OneGate cannot store inside a vector attribute"
        )));
    }
    Ok(())
}

/// An action for [`OneGateClient::vm_action`](super::OneGateClient::vm_action): the
/// `perform` names the OneGate server accepts.
///
/// `Reboot` is refused by the default server configuration (403). Names the server does
/// not know give a 500; use [`VmAction::Other`] only for actions of newer servers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VmAction {
    /// `deploy` (params: host id, ...).
    Deploy,
    /// `hold`.
    Hold,
    /// `livemigrate` (params: host id).
    LiveMigrate,
    /// `migrate` (params: host id).
    Migrate,
    /// `resume`.
    Resume,
    /// `release`.
    Release,
    /// `stop`.
    Stop,
    /// `suspend`.
    Suspend,
    /// `saveas` (params: disk id, image name, ...).
    SaveAs,
    /// `snapshot_create` (params: snapshot name).
    SnapshotCreate,
    /// `snapshot_revert` (params: snapshot id).
    SnapshotRevert,
    /// `snapshot_delete` (params: snapshot id).
    SnapshotDelete,
    /// `terminate` (params: `true` for hard).
    Terminate,
    /// `reboot` (params: `true` for hard). Restricted by default.
    Reboot,
    /// `poweroff` (params: `true` for hard).
    Poweroff,
    /// `chown` (params: user id).
    Chown,
    /// `chmod` (params: octet).
    Chmod,
    /// `resize` (params: template).
    Resize,
    /// `attachdisk` (params: disk template).
    AttachDisk,
    /// `detachdisk` (params: disk id).
    DetachDisk,
    /// `attachnic` (params: NIC template).
    AttachNic,
    /// `detachnic` (params: NIC id).
    DetachNic,
    /// `rename` (params: the new name).
    Rename,
    /// `undeploy` (params: `true` for hard).
    Undeploy,
    /// `resched`.
    Resched,
    /// `unresched`.
    Unresched,
    /// `recover` (params: operation).
    Recover,
    /// Any other name, sent as is.
    Other(String),
}

impl VmAction {
    /// Every named action.
    pub const ALL: [VmAction; 27] = [
        VmAction::Deploy,
        VmAction::Hold,
        VmAction::LiveMigrate,
        VmAction::Migrate,
        VmAction::Resume,
        VmAction::Release,
        VmAction::Stop,
        VmAction::Suspend,
        VmAction::SaveAs,
        VmAction::SnapshotCreate,
        VmAction::SnapshotRevert,
        VmAction::SnapshotDelete,
        VmAction::Terminate,
        VmAction::Reboot,
        VmAction::Poweroff,
        VmAction::Chown,
        VmAction::Chmod,
        VmAction::Resize,
        VmAction::AttachDisk,
        VmAction::DetachDisk,
        VmAction::AttachNic,
        VmAction::DetachNic,
        VmAction::Rename,
        VmAction::Undeploy,
        VmAction::Resched,
        VmAction::Unresched,
        VmAction::Recover,
    ];

    /// The `perform` name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            VmAction::Deploy => "deploy",
            VmAction::Hold => "hold",
            VmAction::LiveMigrate => "livemigrate",
            VmAction::Migrate => "migrate",
            VmAction::Resume => "resume",
            VmAction::Release => "release",
            VmAction::Stop => "stop",
            VmAction::Suspend => "suspend",
            VmAction::SaveAs => "saveas",
            VmAction::SnapshotCreate => "snapshot_create",
            VmAction::SnapshotRevert => "snapshot_revert",
            VmAction::SnapshotDelete => "snapshot_delete",
            VmAction::Terminate => "terminate",
            VmAction::Reboot => "reboot",
            VmAction::Poweroff => "poweroff",
            VmAction::Chown => "chown",
            VmAction::Chmod => "chmod",
            VmAction::Resize => "resize",
            VmAction::AttachDisk => "attachdisk",
            VmAction::DetachDisk => "detachdisk",
            VmAction::AttachNic => "attachnic",
            VmAction::DetachNic => "detachnic",
            VmAction::Rename => "rename",
            VmAction::Undeploy => "undeploy",
            VmAction::Resched => "resched",
            VmAction::Unresched => "unresched",
            VmAction::Recover => "recover",
            VmAction::Other(s) => s,
        }
    }
}

impl fmt::Display for VmAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VmAction {
    type Err = Error;

    /// Parses a `perform` name (case-insensitive); unknown names become
    /// [`VmAction::Other`]. An empty name is an `InvalidInput` error.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.is_empty() {
            return Err(Error::invalid_input("empty VM action name"));
        }
        let lower = t.to_ascii_lowercase();
        Ok(VmAction::ALL
            .iter()
            .find(|a| a.as_str() == lower)
            .cloned()
            .unwrap_or(VmAction::Other(t.to_owned())))
    }
}

impl Serialize for VmAction {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_quoted_lines_and_vectors() {
        let a = VmAttributes::new()
            .set("A", 1)
            .set("B", "two words")
            .set("A", "again")
            .set_vector("V", [("X", "1"), ("Y", "2")])
            .set("EMPTY", "");
        assert_eq!(
            a.encode().expect("encode"),
            "A=again\nB=two words\nV=[X=\"1\",Y=\"2\"]\nEMPTY=\"\""
        );
        assert_eq!(a.len(), 4);
        assert_eq!(a.keys().collect::<Vec<_>>(), ["A", "B", "V", "EMPTY"]);
    }

    #[test]
    fn rejects_what_onegate_cannot_store() {
        for bad in ["a,b", "a\"b", "[x]", "a\\b", "l1\nl2"] {
            let err = VmAttributes::new().set("K", bad).encode().expect_err(bad);
            assert_eq!(err.kind(), nebulair_core::ErrorKind::InvalidInput);
            assert!(err.message().contains("K"), "{err}");
        }
        for key in ["", "1A", "A B", "A=B", "-A", "A-B", "ÄA"] {
            assert!(VmAttributes::new().set(key, "v").encode().is_err(), "{key}");
        }
        assert!(VmAttributes::new().encode().is_err());
        let empty: [(&str, &str); 0] = [];
        assert!(VmAttributes::new().set_vector("V", empty).encode().is_err());
        assert!(
            VmAttributes::new()
                .set_vector("V", [("A B", "1")])
                .encode()
                .is_err()
        );
        // '=' is fine in a plain value, not inside a vector.
        assert_eq!(
            VmAttributes::new().set("K", "a=b").encode().expect("ok"),
            "K=a=b"
        );
        assert!(
            VmAttributes::new()
                .set_vector("V", [("A", "x=y")])
                .encode()
                .is_err()
        );
    }

    #[test]
    fn actions_round_trip() {
        for a in VmAction::ALL {
            assert_eq!(a.as_str().parse::<VmAction>().expect("parse"), a);
        }
        assert_eq!("REBOOT".parse::<VmAction>().expect("p"), VmAction::Reboot);
        assert_eq!(
            "dance".parse::<VmAction>().expect("p"),
            VmAction::Other("dance".into())
        );
        assert!("  ".parse::<VmAction>().is_err());
        assert_eq!(
            serde_json::to_string(&VmAction::SnapshotCreate).expect("json"),
            "\"snapshot_create\""
        );
    }
}
