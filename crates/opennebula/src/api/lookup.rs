//! Lookup by name: `client.vms().by_name("web")`, `client.templates().resolve("7")`.
//!
//! Every collection of named objects has:
//!
//! * `by_name(name)`: the one object (the pool entry) called exactly `name` among those the
//!   user may see ([`crate::Who::All`]; VMs in DONE are not listed), or
//!   [`LookupError::NotFound`] / [`LookupError::Ambiguous`] (with the ids of every match);
//! * `resolve(name_or_id)`: an id, as the OpenNebula CLI reads its arguments: text that is
//!   a number is an id (not checked), anything else is looked up with `by_name`.
//!
//! Documents are typed by their `TYPE` (OneFlow templates are 101, services 100), so
//! [`Documents::by_name`] takes the type too.
//!
//! [`LookupError`] converts into the crate's [`Error`] (`NotFound` and `Conflict` kinds)
//! so that `?` works in functions returning [`crate::Result`].

use std::fmt;

use nebulair_core::{Error, ErrorKind};

use super::{
    BackupJobs, Clusters, Datastores, Documents, Groups, Hooks, Hosts, Images, MarketApps, Markets,
    SecGroups, Templates, Users, Vdcs, VmGroups, Vms, VnTemplates, Vnets, Vrouters, Zones,
};
use crate::ids::*;
use crate::model;
use crate::pool::PoolFilter;

/// Why a name did not give one object.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError<I: fmt::Debug + fmt::Display> {
    /// No object has that name.
    #[error("no {what} is named {name:?}")]
    NotFound {
        /// The kind of object (`VM`, `image`, ...).
        what: &'static str,
        /// The name looked for.
        name: String,
    },
    /// Several objects have that name (names are unique per owner or per pool only for
    /// some kinds); use an id.
    #[error("{} {what}s are named {name:?} (ids {}); use an id", ids.len(), join(ids))]
    Ambiguous {
        /// The kind of object.
        what: &'static str,
        /// The name looked for.
        name: String,
        /// The ids of every object with that name.
        ids: Vec<I>,
    },
    /// Listing the pool failed.
    #[error(transparent)]
    Call(#[from] Error),
}

fn join<I: fmt::Display>(ids: &[I]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl<I: fmt::Debug + fmt::Display> LookupError<I> {
    /// Whether no object had the name.
    pub fn is_not_found(&self) -> bool {
        matches!(self, LookupError::NotFound { .. })
    }

    /// Whether several objects had the name.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, LookupError::Ambiguous { .. })
    }
}

impl<I: fmt::Debug + fmt::Display + Send + Sync + 'static> From<LookupError<I>> for Error {
    fn from(e: LookupError<I>) -> Error {
        match e {
            LookupError::Call(e) => e,
            other => {
                let kind = if other.is_not_found() {
                    ErrorKind::NotFound
                } else {
                    ErrorKind::Conflict
                };
                Error::with_source(kind, other.to_string(), other)
            }
        }
    }
}

/// The single entry of `items` named `name`.
pub(crate) fn pick<T, I: Copy + fmt::Debug + fmt::Display>(
    what: &'static str,
    name: &str,
    items: Vec<T>,
    name_of: impl Fn(&T) -> Option<&str>,
    id_of: impl Fn(&T) -> I,
) -> Result<T, LookupError<I>> {
    let mut matches: Vec<T> = items
        .into_iter()
        .filter(|o| name_of(o) == Some(name))
        .collect();
    match matches.len() {
        0 => Err(LookupError::NotFound {
            what,
            name: name.to_owned(),
        }),
        1 => Ok(matches.remove(0)),
        _ => Err(LookupError::Ambiguous {
            what,
            name: name.to_owned(),
            ids: matches.iter().map(id_of).collect(),
        }),
    }
}

/// Whether CLI-style text is an id: digits only (a leading `-` is not an id either).
pub(crate) fn as_id(text: &str) -> Option<i32> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse().ok()
    } else {
        None
    }
}

macro_rules! lookups {
    ($($coll:ident => $what:literal, $item:ident, $id:ident, |$c:ident| $list:expr;)+) => {$(
        impl $coll<'_> {
            #[doc = concat!("The ", $what, " named exactly `name` (a [`model::", stringify!($item), "`] pool entry).")]
            ///
            /// # Errors
            /// [`LookupError::NotFound`], [`LookupError::Ambiguous`] (with every matching id),
            /// or [`LookupError::Call`] when listing the pool fails.
            pub async fn by_name(&self, name: &str) -> Result<model::$item, LookupError<$id>> {
                let $c = self;
                let items: Vec<model::$item> = $list;
                pick($what, name, items, |o| o.name.as_deref(), |o| o.id)
            }

            #[doc = concat!("The id of the ", $what, " `name_or_id` names: a number is an id, other text a name (see `by_name`).")]
            ///
            /// # Errors
            /// As `by_name`, for names.
            pub async fn resolve(&self, name_or_id: &str) -> Result<$id, LookupError<$id>> {
                match as_id(name_or_id) {
                    Some(id) => Ok($id::new(id)),
                    None => self.by_name(name_or_id.trim()).await.map(|o| o.id),
                }
            }
        }
    )+};
}

lookups! {
    Vms => "VM", VmPoolVm, VmId, |c| c.info(&PoolFilter::all()).await?.vm;
    Templates => "VM template", VmTemplate, TemplateId, |c| c.info(&PoolFilter::all()).await?.vmtemplate;
    Images => "image", Image, ImageId, |c| c.info(&PoolFilter::all()).await?.image;
    Hosts => "host", Host, HostId, |c| c.info().await?.host;
    Vnets => "virtual network", VnetPoolVnet, VnetId, |c| c.info(&PoolFilter::all()).await?.vnet;
    VnTemplates => "network template", VnTemplate, VnTemplateId, |c| c.info(&PoolFilter::all()).await?.vntemplate;
    Users => "user", UserPoolUser, UserId, |c| c.info().await?.user;
    Groups => "group", GroupPoolGroup, GroupId, |c| c.info().await?.group;
    Clusters => "cluster", Cluster, ClusterId, |c| c.info().await?.cluster;
    Datastores => "datastore", Datastore, DatastoreId, |c| c.info().await?.datastore;
    SecGroups => "security group", SecurityGroup, SecGroupId, |c| c.info(&PoolFilter::all()).await?.security_group;
    VmGroups => "VM group", VmGroup, VmGroupId, |c| c.info(&PoolFilter::all()).await?.vm_group;
    Markets => "marketplace", Marketplace, MarketId, |c| c.info().await?.marketplace;
    MarketApps => "marketplace app", MarketplaceApp, MarketAppId, |c| c.info(&PoolFilter::all()).await?.marketplaceapp;
    Vrouters => "virtual router", VirtualRouter, VrouterId, |c| c.info(&PoolFilter::all()).await?.vrouter;
    Zones => "zone", ZonePoolZone, ZoneId, |c| c.info().await?.zone;
    Vdcs => "VDC", Vdc, VdcId, |c| c.info().await?.vdc;
    Hooks => "hook", Hook, HookId, |c| c.info().await?.hook;
    BackupJobs => "backup job", BackupJob, BackupJobId, |c| c.info(&PoolFilter::all()).await?.backupjob;
}

impl Documents<'_> {
    /// The document of type `kind` named exactly `name` (OneFlow service templates are
    /// type 101, services 100).
    ///
    /// # Errors
    /// As `Vms::by_name`.
    pub async fn by_name(
        &self,
        kind: i32,
        name: &str,
    ) -> Result<model::Document, LookupError<DocumentId>> {
        let items = self.info(&PoolFilter::all(), kind).await?.document;
        pick("document", name, items, |o| o.name.as_deref(), |o| o.id)
    }

    /// The id of the document of type `kind` that `name_or_id` names (a number is an id).
    ///
    /// # Errors
    /// As [`Documents::by_name`], for names.
    pub async fn resolve(
        &self,
        kind: i32,
        name_or_id: &str,
    ) -> Result<DocumentId, LookupError<DocumentId>> {
        match as_id(name_or_id) {
            Some(id) => Ok(DocumentId::new(id)),
            None => self.by_name(kind, name_or_id.trim()).await.map(|o| o.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_one_or_says_why_not() {
        let items = vec![(1, "a"), (2, "b"), (3, "a")];
        let got = pick("VM", "b", items.clone(), |o| Some(o.1), |o| VmId::new(o.0)).expect("b");
        assert_eq!(got.0, 2);
        let e = pick("VM", "a", items.clone(), |o| Some(o.1), |o| VmId::new(o.0)).expect_err("two");
        assert!(e.is_ambiguous());
        assert!(e.to_string().contains("ids 1, 3"), "{e}");
        let e = pick("VM", "z", items, |o| Some(o.1), |o| VmId::new(o.0)).expect_err("none");
        assert!(e.is_not_found());
        let e: Error = e.into();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(as_id(" 12 "), Some(12));
        assert_eq!(as_id("web-1"), None);
        assert_eq!(as_id("-1"), None);
        assert_eq!(as_id(""), None);
    }
}
