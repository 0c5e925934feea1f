//! DR payloads: the replication list, replication details, and action parameters.

use nebulair_core::{Error, Result};

use crate::model::xml::{XmlElement, escape};

/// The namespace of DR action parameters.
pub const NS_VR: &str = "http://www.vmware.com/vr/v6.0";
/// Media type of the `testFailover` body.
pub const TEST_FAILOVER_MEDIA: &str = "application/vnd.vmware.hcs.testFailoverParams+xml";
/// Media type of the `failover` body, spelled as vcloudair 0.5 sends it (media types
/// compare case-insensitively).
pub const FAILOVER_MEDIA: &str = "application/vnd.vmware.hcs.FailoverParams+xml";

/// One replicated VM.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replication {
    /// The replication id (the href's trailing UUID, lower-cased).
    pub uuid: String,
    /// The replication's URL; actions are posted to `{href}/action/...`.
    pub href: String,
    /// Details, once fetched.
    pub details: Option<ReplicationDetails>,
    /// Why the details could not be fetched, if they could not.
    pub details_error: Option<String>,
}

impl Replication {
    /// The VM's name, when the details were fetched.
    pub fn name(&self) -> Option<&str> {
        self.details.as_ref().and_then(|d| d.name.as_deref())
    }
}

/// A `ReplicationGroup` document (`GET` of a replication href).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReplicationDetails {
    /// The replicated VM's name (root `name`).
    pub name: Option<String>,
    /// `ReplicationState`, e.g. `ACTIVE`.
    pub replication_state: Option<String>,
    /// `Rpo` in minutes.
    pub rpo_minutes: Option<u32>,
    /// `Paused`.
    pub paused: Option<bool>,
    /// `CurrentRpoViolation`.
    pub current_rpo_violation: Option<String>,
    /// `TestRecoveryState`, e.g. `none`, `complete`.
    pub test_recovery_state: Option<String>,
    /// `RecoveryState`, e.g. `notStarted`, `failedOver`.
    pub recovery_state: Option<String>,
    /// `ReplicationGroupInstance/TransferStartTime` as written.
    pub transfer_start_time: Option<String>,
    /// `ReplicationGroupInstance/TransferSeconds`.
    pub transfer_seconds: Option<u64>,
    /// `ReplicationGroupInstance/TransferBytes`.
    pub transfer_bytes: Option<u64>,
}

impl ReplicationDetails {
    /// Decodes a `ReplicationGroup` element (names compared without prefixes).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when the root is not
    /// `ReplicationGroup` or a number is malformed.
    pub fn from_element(el: &XmlElement) -> Result<Self> {
        if el.name() != "ReplicationGroup" {
            return Err(Error::protocol(format!(
                "expected a ReplicationGroup document, got <{}>",
                el.name()
            )));
        }
        let text = |e: &XmlElement, n: &str| e.child_text(n).map(str::to_owned);
        fn num<T: std::str::FromStr>(v: Option<&str>, what: &str) -> Result<Option<T>> {
            match v {
                None | Some("") => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|_| {
                    Error::protocol(format!("ReplicationGroup {what} {s:?} is not a number"))
                }),
            }
        }
        let inst = el.child("ReplicationGroupInstance");
        Ok(ReplicationDetails {
            name: el.attr("name").map(str::to_owned),
            replication_state: text(el, "ReplicationState"),
            rpo_minutes: num(el.child_text("Rpo"), "Rpo")?,
            paused: el
                .child_text("Paused")
                .map(|p| p.eq_ignore_ascii_case("true")),
            current_rpo_violation: text(el, "CurrentRpoViolation"),
            test_recovery_state: text(el, "TestRecoveryState"),
            recovery_state: text(el, "RecoveryState"),
            transfer_start_time: inst.and_then(|i| text(i, "TransferStartTime")),
            transfer_seconds: num(
                inst.and_then(|i| i.child_text("TransferSeconds")),
                "TransferSeconds",
            )?,
            transfer_bytes: num(
                inst.and_then(|i| i.child_text("TransferBytes")),
                "TransferBytes",
            )?,
        })
    }
}

/// One page of the replication list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ReplicationPage {
    /// `(uuid, href)` of each `Reference`, in order.
    pub(crate) refs: Vec<(String, String)>,
    /// The `nextPage` link, if any.
    pub(crate) next: Option<String>,
    /// `total`, if given.
    pub(crate) total: Option<usize>,
}

/// Decodes a `References` page.
pub(crate) fn parse_page(el: &XmlElement) -> Result<ReplicationPage> {
    let mut page = ReplicationPage {
        total: el.attr("total").and_then(|t| t.trim().parse().ok()),
        ..ReplicationPage::default()
    };
    for child in el.children() {
        match child.name() {
            "Reference" => {
                let href = child
                    .attr("href")
                    .filter(|h| !h.trim().is_empty())
                    .ok_or_else(|| Error::protocol("replication Reference without href"))?;
                let uuid = replication_uuid(href).ok_or_else(|| {
                    Error::protocol(format!("replication href {href:?} has no id"))
                })?;
                page.refs.push((uuid, href.trim().to_owned()));
            }
            "Link" if child.attr("rel") == Some("nextPage") => {
                page.next = child.attr("href").map(str::to_owned);
            }
            _ => {}
        }
    }
    Ok(page)
}

/// The id of a replication href: its last path segment, lower-cased (vcloudair takes
/// the last 36 characters, which is the same for the hrefs servers send).
pub(crate) fn replication_uuid(href: &str) -> Option<String> {
    let path = href.split(['?', '#']).next().unwrap_or_default();
    let seg = path.trim_end_matches('/').rsplit('/').next()?;
    (!seg.is_empty()).then(|| seg.to_ascii_lowercase())
}

/// The `testFailover` / `failover` body.
pub(crate) fn failover_params(uuid: &str, power_on: bool, test: bool) -> String {
    let power = if power_on { 1 } else { 0 };
    if test {
        format!(
            "<TestFailoverParams xmlns=\"{NS_VR}\" name=\"{}\"><PowerOn>{power}</PowerOn><Synchronize>0</Synchronize></TestFailoverParams>",
            escape(uuid)
        )
    } else {
        format!(
            "<FailoverParams xmlns=\"{NS_VR}\" name=\"{}\"><PowerOn>{power}</PowerOn></FailoverParams>",
            escape(uuid)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_match_the_samples() {
        let uuid = "11111111-aaaa-4bbb-8ccc-000000000001";
        assert_eq!(
            failover_params(uuid, true, true),
            include_str!("../../tests/data/dr/dr_test_failover_params.xml").trim()
        );
        assert_eq!(
            failover_params(uuid, true, false),
            include_str!("../../tests/data/dr/dr_failover_params.xml").trim()
        );
        assert!(failover_params(uuid, false, false).contains("<PowerOn>0</PowerOn>"));
    }

    #[test]
    fn list_and_details_samples_decode() {
        let list = XmlElement::parse(include_str!("../../tests/data/dr/dr_replications.xml"))
            .expect("xml");
        let page = parse_page(&list).expect("page");
        assert_eq!(page.refs.len(), 3);
        assert_eq!(page.refs[0].0, "11111111-aaaa-4bbb-8ccc-000000000001");
        assert_eq!(page.total, Some(3));
        assert_eq!(page.next, None);
        let group = XmlElement::parse(include_str!("../../tests/data/dr/dr_replication_group.xml"))
            .expect("xml");
        let d = ReplicationDetails::from_element(&group).expect("details");
        assert_eq!(d.name.as_deref(), Some("app-server-01"));
        assert_eq!(d.rpo_minutes, Some(240));
        assert_eq!(d.paused, Some(false));
        assert_eq!(d.replication_state.as_deref(), Some("ACTIVE"));
        assert_eq!(d.transfer_bytes, Some(83_886_080));
        assert_eq!(d.recovery_state.as_deref(), Some("notStarted"));
    }

    #[test]
    fn bad_documents_are_protocol_errors() {
        let e = XmlElement::parse("<References><Reference/></References>").expect("xml");
        assert!(parse_page(&e).is_err());
        let e = XmlElement::parse("<Task/>").expect("xml");
        assert!(ReplicationDetails::from_element(&e).is_err());
        let e = XmlElement::parse("<ReplicationGroup name='x'><Rpo>soon</Rpo></ReplicationGroup>")
            .expect("xml");
        assert!(ReplicationDetails::from_element(&e).is_err());
        assert_eq!(
            replication_uuid("https://h/api/vr/replications/ABC/"),
            Some("abc".into())
        );
        assert_eq!(replication_uuid(""), None);
    }
}
