//! Query records: a generic [`QueryRecord`] and typed records for the canned types
//! (attributes from `queryRecordView.xsd`).

use std::collections::BTreeMap;

use nebulair_core::{Error, Result};

use super::QueryType;
use crate::model::trailing_uuid;
use crate::model::xml::XmlElement;

/// One record of any query type: its element name and every attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRecord {
    element: String,
    attributes: BTreeMap<String, String>,
}

impl QueryRecord {
    /// Reads a record element.
    pub fn from_element(el: &XmlElement) -> Self {
        QueryRecord {
            element: el.name().to_owned(),
            attributes: el
                .attributes()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The element name, e.g. `VMRecord`.
    pub fn element(&self) -> &str {
        &self.element
    }

    /// An attribute.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// Every attribute.
    pub fn attributes(&self) -> &BTreeMap<String, String> {
        &self.attributes
    }

    /// `href`.
    pub fn href(&self) -> Option<&str> {
        self.get("href")
    }

    /// `name`.
    pub fn name(&self) -> Option<&str> {
        self.get("name")
    }

    /// vcloudair's key: the last 36 characters of `href`, lower-cased.
    pub fn uuid(&self) -> Option<String> {
        self.href().and_then(trailing_uuid)
    }

    fn bool_attr(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(other) => Err(Error::protocol(format!(
                "{}: attribute {name}={other:?} is not a boolean",
                self.element
            ))),
        }
    }

    fn int_attr(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                Error::protocol(format!(
                    "{}: attribute {name}={v:?} is not an integer",
                    self.element
                ))
            }),
        }
    }

    fn str_attr(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }
}

/// A record type with a canned query type.
pub trait TypedRecord: Sized {
    /// The query type that returns these records.
    const QUERY_TYPE: QueryType;

    /// Decodes the typed fields of a generic record.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when the record is of
    /// another type or an attribute has the wrong type (e.g. `memoryMB="lots"`).
    fn from_record(record: &QueryRecord) -> Result<Self>;
}

macro_rules! typed_record {
    (
        $(#[$meta:meta])*
        $name:ident, $qt:expr, $elem:literal, {
            $( $(#[$fmeta:meta])* $field:ident : $kind:ident = $attr:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name {
            /// `href`.
            pub href: String,
            /// `id` (`idrecords` format).
            pub id: Option<String>,
            $( $(#[$fmeta])* pub $field: typed_record!(@ty $kind), )*
        }

        impl TypedRecord for $name {
            const QUERY_TYPE: QueryType = $qt;

            fn from_record(r: &QueryRecord) -> Result<Self> {
                if !r.element.eq_ignore_ascii_case($elem) {
                    return Err(Error::protocol(format!(
                        "expected a {} record, got {}", $elem, r.element
                    )));
                }
                Ok($name {
                    href: r.href().unwrap_or_default().to_owned(),
                    id: r.str_attr("id"),
                    $( $field: typed_record!(@get r, $kind, $attr), )*
                })
            }
        }

        impl $name {
            /// vcloudair's key: the last 36 characters of `href`, lower-cased.
            pub fn uuid(&self) -> Option<String> {
                trailing_uuid(&self.href)
            }
        }
    };
    (@ty str) => { Option<String> };
    (@ty bool) => { Option<bool> };
    (@ty int) => { Option<i64> };
    (@get $r:ident, str, $attr:literal) => { $r.str_attr($attr) };
    (@get $r:ident, bool, $attr:literal) => { $r.bool_attr($attr)? };
    (@get $r:ident, int, $attr:literal) => { $r.int_attr($attr)? };
}

typed_record! {
    /// A `VMRecord` (query type `vm`).
    VmRecord, QueryType::Vm, "VMRecord", {
        /// `name`.
        name: str = "name",
        /// `containerName` (the vApp's name).
        container_name: str = "containerName",
        /// `container` (the vApp's href).
        container: str = "container",
        /// `ownerName`.
        owner_name: str = "ownerName",
        /// `owner`.
        owner: str = "owner",
        /// `vdc` (href).
        vdc: str = "vdc",
        /// `isVAppTemplate`.
        is_vapp_template: bool = "isVAppTemplate",
        /// `isDeleted`.
        is_deleted: bool = "isDeleted",
        /// `guestOs`.
        guest_os: str = "guestOs",
        /// `numberOfCpus`.
        number_of_cpus: int = "numberOfCpus",
        /// `memoryMB`.
        memory_mb: int = "memoryMB",
        /// `status`, e.g. `POWERED_ON`.
        status: str = "status",
        /// `networkName`.
        network_name: str = "networkName",
        /// `network`.
        network: str = "network",
        /// `ipAddress`.
        ip_address: str = "ipAddress",
        /// `isBusy`.
        is_busy: bool = "isBusy",
        /// `isDeployed`.
        is_deployed: bool = "isDeployed",
        /// `isPublished`.
        is_published: bool = "isPublished",
        /// `catalogName`.
        catalog_name: str = "catalogName",
        /// `hardwareVersion`.
        hardware_version: int = "hardwareVersion",
        /// `vmToolsStatus`.
        vm_tools_status: str = "vmToolsStatus",
        /// `isInMaintenanceMode`.
        is_in_maintenance_mode: bool = "isInMaintenanceMode",
        /// `isAutoNature`.
        is_auto_nature: bool = "isAutoNature",
        /// `storageProfileName`.
        storage_profile_name: str = "storageProfileName",
        /// `gcStatus`.
        gc_status: str = "gcStatus",
        /// `autoUndeployDate`.
        auto_undeploy_date: str = "autoUndeployDate",
        /// `autoDeleteDate`.
        auto_delete_date: str = "autoDeleteDate",
        /// `isAutoUndeployNotified`.
        is_auto_undeploy_notified: bool = "isAutoUndeployNotified",
        /// `isAutoDeleteNotified`.
        is_auto_delete_notified: bool = "isAutoDeleteNotified",
    }
}

typed_record! {
    /// An `EdgeGatewayRecord` (query type `edgeGateway`).
    EdgeGatewayRecord, QueryType::EdgeGateway, "EdgeGatewayRecord", {
        /// `name`.
        name: str = "name",
        /// `vdc` (href).
        vdc: str = "vdc",
        /// `numberOfExtNetworks`.
        number_of_ext_networks: int = "numberOfExtNetworks",
        /// `numberOfOrgNetworks`.
        number_of_org_networks: int = "numberOfOrgNetworks",
        /// `isBusy`.
        is_busy: bool = "isBusy",
        /// `orgVdcName`.
        org_vdc_name: str = "orgVdcName",
        /// `availableNetCount`.
        available_net_count: int = "availableNetCount",
        /// `gatewayStatus`, e.g. `READY`.
        gateway_status: str = "gatewayStatus",
        /// `haStatus`.
        ha_status: str = "haStatus",
        /// `advancedNetworkingEnabled`.
        advanced_networking_enabled: bool = "advancedNetworkingEnabled",
        /// `distributedRoutingEnabled`.
        distributed_routing_enabled: bool = "distributedRoutingEnabled",
    }
}

typed_record! {
    /// A `VAppRecord` (query type `vApp`).
    VAppRecord, QueryType::VApp, "VAppRecord", {
        /// `name`.
        name: str = "name",
        /// `vdc` (href).
        vdc: str = "vdc",
        /// `vdcName`.
        vdc_name: str = "vdcName",
        /// `isPublic`.
        is_public: bool = "isPublic",
        /// `isEnabled`.
        is_enabled: bool = "isEnabled",
        /// `isBusy`.
        is_busy: bool = "isBusy",
        /// `creationDate`.
        creation_date: str = "creationDate",
        /// `status`.
        status: str = "status",
        /// `ownerName`.
        owner_name: str = "ownerName",
        /// `isDeployed`.
        is_deployed: bool = "isDeployed",
        /// `isInMaintenanceMode`.
        is_in_maintenance_mode: bool = "isInMaintenanceMode",
        /// `isAutoNature`.
        is_auto_nature: bool = "isAutoNature",
        /// `isExpired`.
        is_expired: bool = "isExpired",
    }
}

typed_record! {
    /// A `VAppTemplateRecord` (query type `vAppTemplate`).
    VAppTemplateRecord, QueryType::VAppTemplate, "VAppTemplateRecord", {
        /// `ownerName`.
        owner_name: str = "ownerName",
        /// `catalogName`.
        catalog_name: str = "catalogName",
        /// `isPublished`.
        is_published: bool = "isPublished",
        /// `name`.
        name: str = "name",
        /// `description`.
        description: str = "description",
        /// `vdc` (href).
        vdc: str = "vdc",
        /// `vdcName`.
        vdc_name: str = "vdcName",
        /// `org` (href).
        org: str = "org",
        /// `creationDate`.
        creation_date: str = "creationDate",
        /// `isBusy`.
        is_busy: bool = "isBusy",
        /// `isGoldMaster`.
        is_gold_master: bool = "isGoldMaster",
        /// `isEnabled`.
        is_enabled: bool = "isEnabled",
        /// `status`.
        status: str = "status",
        /// `isDeployed`.
        is_deployed: bool = "isDeployed",
        /// `isExpired`.
        is_expired: bool = "isExpired",
        /// `storageProfileName`.
        storage_profile_name: str = "storageProfileName",
        /// `version`.
        version: int = "version",
        /// `lastSuccessfulSync`.
        last_successful_sync: str = "lastSuccessfulSync",
    }
}

typed_record! {
    /// An `OrgVdcRecord` (query type `orgVdc`).
    OrgVdcRecord, QueryType::OrgVdc, "OrgVdcRecord", {
        /// `name`.
        name: str = "name",
        /// `description`.
        description: str = "description",
        /// `isEnabled`.
        is_enabled: bool = "isEnabled",
        /// `cpuAllocationMhz`.
        cpu_allocation_mhz: int = "cpuAllocationMhz",
        /// `cpuLimitMhz`.
        cpu_limit_mhz: int = "cpuLimitMhz",
        /// `cpuUsedMhz`.
        cpu_used_mhz: int = "cpuUsedMhz",
        /// `cpuReservedMhz`.
        cpu_reserved_mhz: int = "cpuReservedMhz",
        /// `memoryAllocationMB`.
        memory_allocation_mb: int = "memoryAllocationMB",
        /// `memoryLimitMB`.
        memory_limit_mb: int = "memoryLimitMB",
        /// `memoryUsedMB`.
        memory_used_mb: int = "memoryUsedMB",
        /// `memoryReservedMB`.
        memory_reserved_mb: int = "memoryReservedMB",
        /// `storageAllocationMB`.
        storage_allocation_mb: int = "storageAllocationMB",
        /// `storageLimitMB`.
        storage_limit_mb: int = "storageLimitMB",
        /// `storageUsedMB`.
        storage_used_mb: int = "storageUsedMB",
        /// `providerVdcName`.
        provider_vdc_name: str = "providerVdcName",
        /// `providerVdc`.
        provider_vdc: str = "providerVdc",
        /// `orgName`.
        org_name: str = "orgName",
        /// `numberOfVApps`.
        number_of_vapps: int = "numberOfVApps",
        /// `numberOfMedia`.
        number_of_media: int = "numberOfMedia",
        /// `numberOfDisks`.
        number_of_disks: int = "numberOfDisks",
        /// `numberOfVAppTemplates`.
        number_of_vapp_templates: int = "numberOfVAppTemplates",
        /// `isSystemVdc`.
        is_system_vdc: bool = "isSystemVdc",
        /// `isBusy`.
        is_busy: bool = "isBusy",
        /// `status`.
        status: str = "status",
        /// `numberOfDatastores`.
        number_of_datastores: int = "numberOfDatastores",
        /// `numberOfStorageProfiles`.
        number_of_storage_profiles: int = "numberOfStorageProfiles",
        /// `numberOfVMs`.
        number_of_vms: int = "numberOfVMs",
        /// `numberOfRunningVMs`.
        number_of_running_vms: int = "numberOfRunningVMs",
        /// `networkPoolUniversalId`.
        network_pool_universal_id: str = "networkPoolUniversalId",
        /// `numberOfDeployedVApps`.
        number_of_deployed_vapps: int = "numberOfDeployedVApps",
    }
}
