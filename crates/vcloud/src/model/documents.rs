//! Decoders for stored documents of the features whose types are not documents of their
//! own: the DR replication list and a replication's details (`FromStr`), so tests and
//! tools can decode a payload already in hand.
//!
//! The other features decode stored payloads through their own types:
//! [`AnsConfig`](crate::ans::AnsConfig) (ANS firewall/NAT/IPsec JSON),
//! [`MetricData::from_json_pages`](crate::MetricData::from_json_pages),
//! [`OdInstance::list_from_json`](crate::session::OdInstance::list_from_json),
//! [`QueryPage`](crate::query::QueryPage) and [`QueryResults`](crate::QueryResults) (`FromStr`),
//! [`Task`](crate::Task) (`FromStr`), and every type of the vCD model
//! ([`crate::model::vcd`]).

use std::str::FromStr;

use nebulair_core::{Error, Result};

use crate::dr::ReplicationDetails;
use crate::model::xml::XmlElement;

/// One page of a DR replication list (`GET {org}/replications`).
///
/// ```
/// use nebulair_vcloud::model::documents::ReplicationList;
/// let page: ReplicationList = r#"<References xmlns="http://www.vmware.com/vcloud/v1.5" total="1">
///   <Reference href="https://h/api/vr/replications/5f0f0c0e-0000-4000-8000-000000000001" type="application/vnd.vmware.hcs.replicationGroup+xml"/>
/// </References>"#.parse()?;
/// assert_eq!(page.replications[0].0, "5f0f0c0e-0000-4000-8000-000000000001");
/// assert_eq!(page.total, Some(1));
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReplicationList {
    /// `(uuid, href)` of each replication, in document order.
    pub replications: Vec<(String, String)>,
    /// The `nextPage` link.
    pub next_page: Option<String>,
    /// `total`, when given.
    pub total: Option<usize>,
}

impl FromStr for ReplicationList {
    type Err = Error;

    /// Decodes a `References` page; a `Reference` without an href or id is an
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) error.
    fn from_str(xml: &str) -> Result<Self> {
        let page = crate::dr::parse_replication_page(&XmlElement::parse(xml)?)?;
        Ok(ReplicationList {
            replications: page.refs,
            next_page: page.next,
            total: page.total,
        })
    }
}

impl FromStr for ReplicationDetails {
    type Err = Error;

    /// Decodes a `ReplicationGroup` document.
    fn from_str(xml: &str) -> Result<Self> {
        ReplicationDetails::from_element(&XmlElement::parse(xml)?)
    }
}

impl FromStr for crate::task::Task {
    type Err = Error;

    /// As [`Task::from_xml`](crate::task::Task::from_xml).
    fn from_str(xml: &str) -> Result<Self> {
        crate::task::Task::from_xml(xml)
    }
}
