//! Typed links: the `rel` values vCD uses, media types, and lookups on any document that
//! carries `<Link>` children ([`HasLinks`]).
//!
//! ```
//! use nebulair_vcloud::model::vcd::{HasLinks, Rel, VApp, media};
//!
//! let vapp: VApp = r#"<VApp xmlns="http://www.vmware.com/vcloud/v1.5" name="web" status="8" href="https://h/api/vApp/vapp-1">
//!   <Link rel="power:powerOn" href="https://h/api/vApp/vapp-1/power/action/powerOn"/>
//!   <Link rel="deploy" href="https://h/api/vApp/vapp-1/action/deploy" type="application/vnd.vmware.vcloud.deployVAppParams+xml"/>
//!   <Link rel="up" href="https://h/api/vdc/1" type="application/vnd.vmware.vcloud.vdc+xml"/>
//! </VApp>"#.parse()?;
//! assert!(vapp.has_link(&Rel::PowerOn));
//! assert_eq!(vapp.link(&Rel::Deploy).and_then(|l| l.type_.as_deref()), Some(media::DEPLOY_VAPP_PARAMS));
//! assert_eq!(vapp.link_typed(&Rel::Up, media::VDC).and_then(|l| l.href.as_deref()), Some("https://h/api/vdc/1"));
//! assert!(vapp.link(&Rel::PowerOff).is_none());
//! # Ok::<(), nebulair_core::Error>(())
//! ```

use std::fmt;

use super::Link;

/// The `rel` of a link, as vCD writes it (`Other` keeps any value this list lacks).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rel {
    /// `up`: the container (vApp of a VM, vDC of a vApp...).
    Up,
    /// `down`: a child collection.
    Down,
    /// `edit`: PUT the document back.
    Edit,
    /// `add`: POST a new child.
    Add,
    /// `remove`: DELETE the object.
    Remove,
    /// `alternate`: another view of the same object.
    Alternate,
    /// `deploy`.
    Deploy,
    /// `undeploy`.
    Undeploy,
    /// `power:powerOn`.
    PowerOn,
    /// `power:powerOff`.
    PowerOff,
    /// `power:reset`.
    Reset,
    /// `power:suspend`.
    Suspend,
    /// `power:shutdown` (guest shutdown).
    Shutdown,
    /// `power:reboot` (guest reboot).
    Reboot,
    /// `discardState` (discard the suspended state).
    DiscardState,
    /// `recompose`.
    Recompose,
    /// `customizeAtNextPowerOn`.
    CustomizeAtNextPowerOn,
    /// `snapshot:create`.
    SnapshotCreate,
    /// `snapshot:revertToCurrent`.
    SnapshotRevertToCurrent,
    /// `snapshot:removeAll`.
    SnapshotRemoveAll,
    /// `media:insertMedia`.
    InsertMedia,
    /// `media:ejectMedia`.
    EjectMedia,
    /// `task:cancel`.
    TaskCancel,
    /// `instantiateVAppTemplate` (on a vDC).
    InstantiateVAppTemplate,
    /// `composeVApp` (on a vDC).
    ComposeVApp,
    /// `nextPage` of a paged list.
    NextPage,
    /// `controlAccess`.
    ControlAccess,
    /// `reconfigureVm`.
    ReconfigureVm,
    /// Any other value, kept as written.
    Other(String),
}

impl Rel {
    /// The value as vCD writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Rel::Up => "up",
            Rel::Down => "down",
            Rel::Edit => "edit",
            Rel::Add => "add",
            Rel::Remove => "remove",
            Rel::Alternate => "alternate",
            Rel::Deploy => "deploy",
            Rel::Undeploy => "undeploy",
            Rel::PowerOn => "power:powerOn",
            Rel::PowerOff => "power:powerOff",
            Rel::Reset => "power:reset",
            Rel::Suspend => "power:suspend",
            Rel::Shutdown => "power:shutdown",
            Rel::Reboot => "power:reboot",
            Rel::DiscardState => "discardState",
            Rel::Recompose => "recompose",
            Rel::CustomizeAtNextPowerOn => "customizeAtNextPowerOn",
            Rel::SnapshotCreate => "snapshot:create",
            Rel::SnapshotRevertToCurrent => "snapshot:revertToCurrent",
            Rel::SnapshotRemoveAll => "snapshot:removeAll",
            Rel::InsertMedia => "media:insertMedia",
            Rel::EjectMedia => "media:ejectMedia",
            Rel::TaskCancel => "task:cancel",
            Rel::InstantiateVAppTemplate => "instantiateVAppTemplate",
            Rel::ComposeVApp => "composeVApp",
            Rel::NextPage => "nextPage",
            Rel::ControlAccess => "controlAccess",
            Rel::ReconfigureVm => "reconfigureVm",
            Rel::Other(s) => s,
        }
    }

    /// Parses a `rel` value (unknown values become [`Rel::Other`]).
    pub fn parse(s: &str) -> Rel {
        const ALL: &[Rel] = &[
            Rel::Up,
            Rel::Down,
            Rel::Edit,
            Rel::Add,
            Rel::Remove,
            Rel::Alternate,
            Rel::Deploy,
            Rel::Undeploy,
            Rel::PowerOn,
            Rel::PowerOff,
            Rel::Reset,
            Rel::Suspend,
            Rel::Shutdown,
            Rel::Reboot,
            Rel::DiscardState,
            Rel::Recompose,
            Rel::CustomizeAtNextPowerOn,
            Rel::SnapshotCreate,
            Rel::SnapshotRevertToCurrent,
            Rel::SnapshotRemoveAll,
            Rel::InsertMedia,
            Rel::EjectMedia,
            Rel::TaskCancel,
            Rel::InstantiateVAppTemplate,
            Rel::ComposeVApp,
            Rel::NextPage,
            Rel::ControlAccess,
            Rel::ReconfigureVm,
        ];
        ALL.iter()
            .find(|r| r.as_str() == s)
            .cloned()
            .unwrap_or_else(|| Rel::Other(s.to_owned()))
    }
}

impl fmt::Display for Rel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// vCD media types (the `type` of links and the `Content-Type` of bodies).
pub mod media {
    /// A vApp.
    pub const VAPP: &str = "application/vnd.vmware.vcloud.vApp+xml";
    /// A VM.
    pub const VM: &str = "application/vnd.vmware.vcloud.vm+xml";
    /// A vDC.
    pub const VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";
    /// An org.
    pub const ORG: &str = "application/vnd.vmware.vcloud.org+xml";
    /// The org list.
    pub const ORG_LIST: &str = "application/vnd.vmware.vcloud.orgList+xml";
    /// A catalog.
    pub const CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";
    /// A catalog item.
    pub const CATALOG_ITEM: &str = "application/vnd.vmware.vcloud.catalogItem+xml";
    /// A vApp template.
    pub const VAPP_TEMPLATE: &str = "application/vnd.vmware.vcloud.vAppTemplate+xml";
    /// A media (ISO/floppy).
    pub const MEDIA: &str = "application/vnd.vmware.vcloud.media+xml";
    /// A task.
    pub const TASK: &str = "application/vnd.vmware.vcloud.task+xml";
    /// An error.
    pub const ERROR: &str = "application/vnd.vmware.vcloud.error+xml";
    /// Metadata of an object.
    pub const METADATA: &str = "application/vnd.vmware.vcloud.metadata+xml";
    /// One metadata value.
    pub const METADATA_VALUE: &str = "application/vnd.vmware.vcloud.metadata.value+xml";
    /// Owner of a vApp.
    pub const OWNER: &str = "application/vnd.vmware.vcloud.owner+xml";
    /// Instantiate-vApp-template params.
    pub const INSTANTIATE_VAPP_TEMPLATE_PARAMS: &str =
        "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml";
    /// Compose-vApp params.
    pub const COMPOSE_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.composeVAppParams+xml";
    /// Recompose-vApp params.
    pub const RECOMPOSE_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.recomposeVAppParams+xml";
    /// Deploy params.
    pub const DEPLOY_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.deployVAppParams+xml";
    /// Undeploy params.
    pub const UNDEPLOY_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.undeployVAppParams+xml";
    /// Snapshot params.
    pub const CREATE_SNAPSHOT_PARAMS: &str =
        "application/vnd.vmware.vcloud.createSnapshotParams+xml";
    /// Media insert/eject params.
    pub const MEDIA_INSERT_OR_EJECT_PARAMS: &str =
        "application/vnd.vmware.vcloud.mediaInsertOrEjectParams+xml";
    /// The virtual hardware section.
    pub const VIRTUAL_HARDWARE_SECTION: &str =
        "application/vnd.vmware.vcloud.virtualHardwareSection+xml";
    /// One RASD item (CPU, memory).
    pub const RASD_ITEM: &str = "application/vnd.vmware.vcloud.rasdItem+xml";
    /// A list of RASD items (disks, NICs).
    pub const RASD_ITEMS_LIST: &str = "application/vnd.vmware.vcloud.rasdItemsList+xml";
    /// The guest customization section.
    pub const GUEST_CUSTOMIZATION_SECTION: &str =
        "application/vnd.vmware.vcloud.guestCustomizationSection+xml";
    /// The network connection section.
    pub const NETWORK_CONNECTION_SECTION: &str =
        "application/vnd.vmware.vcloud.networkConnectionSection+xml";
    /// The operating system section.
    pub const OPERATING_SYSTEM_SECTION: &str =
        "application/vnd.vmware.vcloud.operatingSystemSection+xml";
    /// The snapshot section.
    pub const SNAPSHOT_SECTION: &str = "application/vnd.vmware.vcloud.snapshotSection+xml";
    /// The lease settings section.
    pub const LEASE_SETTINGS_SECTION: &str =
        "application/vnd.vmware.vcloud.leaseSettingsSection+xml";
    /// The network config section of a vApp.
    pub const NETWORK_CONFIG_SECTION: &str =
        "application/vnd.vmware.vcloud.networkConfigSection+xml";
    /// A query result page of records.
    pub const QUERY_RECORDS: &str = "application/vnd.vmware.vcloud.query.records+xml";
    /// A whole VM spec (PUT to reconfigureVm).
    pub const VM_SPEC: &str = VM;

    /// Whether two media types name the same thing (case-insensitive, parameters such as
    /// `;version=` ignored).
    pub fn same(a: &str, b: &str) -> bool {
        let base = |s: &str| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        };
        base(a) == base(b)
    }
}

/// A document with `<Link>` children.
pub trait HasLinks {
    /// The links, in document order.
    fn links(&self) -> &[Link];

    /// The first link with this `rel`.
    fn link(&self, rel: &Rel) -> Option<&Link> {
        self.links()
            .iter()
            .find(|l| l.rel.as_deref() == Some(rel.as_str()))
    }

    /// The first link with this `rel` and media type (compared with [`media::same`]).
    fn link_typed(&self, rel: &Rel, media_type: &str) -> Option<&Link> {
        self.links().iter().find(|l| {
            l.rel.as_deref() == Some(rel.as_str())
                && l.type_
                    .as_deref()
                    .is_some_and(|t| media::same(t, media_type))
        })
    }

    /// Every link with this `rel`.
    fn links_with(&self, rel: &Rel) -> Vec<&Link> {
        self.links()
            .iter()
            .filter(|l| l.rel.as_deref() == Some(rel.as_str()))
            .collect()
    }

    /// Whether the server offers this operation now (vCD only lists the links of the
    /// operations the object's state allows).
    fn has_link(&self, rel: &Rel) -> bool {
        self.link(rel).is_some()
    }

    /// The `href` of the first link with this `rel`.
    fn href_of(&self, rel: &Rel) -> Option<&str> {
        self.link(rel).and_then(|l| l.href.as_deref())
    }
}

impl HasLinks for [Link] {
    fn links(&self) -> &[Link] {
        self
    }
}

impl HasLinks for Vec<Link> {
    fn links(&self) -> &[Link] {
        self
    }
}

impl Link {
    /// The typed `rel`.
    pub fn rel_typed(&self) -> Option<Rel> {
        self.rel.as_deref().map(Rel::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rels_round_trip() {
        for s in [
            "power:powerOn",
            "deploy",
            "edit",
            "up",
            "down",
            "add",
            "remove",
            "x:y",
        ] {
            assert_eq!(Rel::parse(s).as_str(), s);
        }
        assert_eq!(Rel::parse("x:y"), Rel::Other("x:y".into()));
    }

    #[test]
    fn media_types_compare_loosely() {
        assert!(media::same(
            "application/vnd.vmware.vcloud.vApp+xml;version=36.0",
            "application/VND.vmware.vcloud.vapp+xml"
        ));
        assert!(!media::same(media::VAPP, media::VM));
    }
}
