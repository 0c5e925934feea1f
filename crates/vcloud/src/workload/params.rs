//! Parameters of vApp creation: [`InstantiateParams`] (from a vApp template),
//! [`ComposeParams`] (from VMs of templates) and [`RecomposeParams`] (add and remove VMs),
//! with per-VM settings ([`VmSettings`]) and network mapping ([`NetworkMapping`]).

use nebulair_core::Result;

use super::error::WorkloadError;
use super::id::EntityKind;
use crate::model::vcd::{
    ComposeVAppParams, Document, GuestCustomizationSection, InstantiateVAppTemplateParams,
    InstantiationParams, NetworkConfigSection, NetworkConfiguration, NetworkConnection,
    NetworkConnectionSection, RecomposeVAppParams, Reference, Section, SourcedCompositionItemParam,
    VAppNetworkConfiguration, Vdc, VmGeneralParams, XmlText, media,
};

/// How a VM's NIC gets its address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpAllocation {
    /// `DHCP`.
    Dhcp,
    /// `POOL`: from the network's static pool.
    Pool,
    /// `MANUAL` with this address.
    Manual(std::net::IpAddr),
    /// `NONE`.
    None,
}

impl IpAllocation {
    /// The `IpAddressAllocationMode` value.
    pub fn mode(&self) -> &'static str {
        match self {
            IpAllocation::Dhcp => "DHCP",
            IpAllocation::Pool => "POOL",
            IpAllocation::Manual(_) => "MANUAL",
            IpAllocation::None => "NONE",
        }
    }

    /// The manual address, when there is one.
    pub fn address(&self) -> Option<String> {
        match self {
            IpAllocation::Manual(ip) => Some(ip.to_string()),
            _ => None,
        }
    }
}

/// Settings of one VM of a new vApp (all optional: the template's values stay).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmSettings {
    /// The VM's name in the vApp.
    pub name: Option<String>,
    /// The guest's computer name (host name).
    pub computer_name: Option<String>,
    /// The network of its first NIC (a vApp network name).
    pub network: Option<String>,
    /// How the first NIC gets its address.
    pub ip_allocation: Option<IpAllocation>,
    /// A storage profile name of the target vDC.
    pub storage_profile: Option<String>,
}

impl VmSettings {
    /// Settings with a name.
    pub fn named(name: impl Into<String>) -> Self {
        VmSettings {
            name: Some(name.into()),
            ..VmSettings::default()
        }
    }

    /// Sets the computer name.
    pub fn computer_name(mut self, n: impl Into<String>) -> Self {
        self.computer_name = Some(n.into());
        self
    }

    /// Sets the network of the first NIC and how it gets its address.
    pub fn network(mut self, network: impl Into<String>, ip: IpAllocation) -> Self {
        self.network = Some(network.into());
        self.ip_allocation = Some(ip);
        self
    }

    /// Sets the storage profile (by name).
    pub fn storage_profile(mut self, name: impl Into<String>) -> Self {
        self.storage_profile = Some(name.into());
        self
    }

    fn check(&self) -> Result<()> {
        if let Some(c) = &self.computer_name
            && (c.is_empty()
                || c.len() > 63
                || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
        {
            return Err(WorkloadError::invalid(
                "computer name",
                format!("{c:?} must be 1 to 63 letters, digits or '-'"),
            )
            .into());
        }
        if self.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(WorkloadError::invalid("VM name", "the name is empty").into());
        }
        Ok(())
    }

    /// The `SourcedItem` for a template VM at `source`.
    pub(crate) fn sourced_item(
        &self,
        source: &str,
        vdc: &Vdc,
    ) -> Result<SourcedCompositionItemParam> {
        self.check()?;
        let mut item = SourcedCompositionItemParam {
            source: Some(Box::new(Reference {
                href: Some(source.to_owned()),
                type_: Some(media::VM.to_owned()),
                ..Reference::default()
            })),
            ..SourcedCompositionItemParam::default()
        };
        if let Some(n) = &self.name {
            item.vm_general_params = Some(Box::new(VmGeneralParams {
                name: Some(n.clone()),
                ..VmGeneralParams::default()
            }));
        }
        let mut sections = Vec::new();
        if self.network.is_some() || self.ip_allocation.is_some() {
            let ip = self.ip_allocation.clone().unwrap_or(IpAllocation::Pool);
            sections.push(Section::NetworkConnectionSection(Box::new(
                NetworkConnectionSection {
                    info: Some(XmlText::new("Network connections")),
                    primary_network_connection_index: Some(0),
                    network_connections: vec![NetworkConnection {
                        network: Some(self.network.clone().unwrap_or_else(|| "none".into())),
                        network_connection_index: Some(0),
                        ip_address: ip.address(),
                        is_connected: Some(true),
                        ip_address_allocation_mode: Some(ip.mode().to_owned()),
                        ..NetworkConnection::default()
                    }],
                    ..NetworkConnectionSection::default()
                },
            )));
        }
        if let Some(c) = &self.computer_name {
            sections.push(Section::GuestCustomizationSection(Box::new(
                GuestCustomizationSection {
                    info: Some(XmlText::new("Guest customization")),
                    enabled: Some(true),
                    computer_name: Some(c.clone()),
                    ..GuestCustomizationSection::default()
                },
            )));
        }
        if !sections.is_empty() {
            item.instantiation_params = Some(Box::new(InstantiationParams {
                sections,
                ..InstantiationParams::default()
            }));
        }
        if let Some(sp) = &self.storage_profile {
            item.storage_profile = Some(Box::new(storage_profile(vdc, sp)?));
        }
        Ok(item)
    }
}

/// The reference of a storage profile of `vdc` by name.
fn storage_profile(vdc: &Vdc, name: &str) -> Result<Reference> {
    let profiles = vdc
        .vdc_storage_profiles
        .as_ref()
        .map(|p| p.vdc_storage_profiles.as_slice())
        .unwrap_or_default();
    profiles
        .iter()
        .find(|p| p.name.as_deref() == Some(name))
        .cloned()
        .ok_or_else(|| {
            WorkloadError::NotFound {
                kind: EntityKind::Vdc,
                name: format!("storage profile {name}"),
                scope: vdc.name.clone().map(|n| format!("vDC {n:?}")),
            }
            .into()
        })
}

/// A vApp network bridged to an org vDC network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkMapping {
    /// The vApp network's name (what VMs connect to).
    pub vapp_network: String,
    /// The org vDC network (a name among the vDC's available networks).
    pub org_network: String,
    /// `bridged` (default), `natRouted` or `isolated`.
    pub fence_mode: String,
}

impl NetworkMapping {
    /// A vApp network bridged to the org network of the same name.
    pub fn bridged(org_network: impl Into<String>) -> Self {
        let n = org_network.into();
        NetworkMapping {
            vapp_network: n.clone(),
            org_network: n,
            fence_mode: "bridged".into(),
        }
    }
}

fn network_section(vdc: &Vdc, maps: &[NetworkMapping]) -> Result<Option<Section>> {
    if maps.is_empty() {
        return Ok(None);
    }
    let available = vdc
        .available_networks
        .as_ref()
        .map(|a| a.networks.as_slice())
        .unwrap_or_default();
    let mut configs = Vec::new();
    for m in maps {
        let parent = available
            .iter()
            .find(|n| n.name.as_deref() == Some(m.org_network.as_str()))
            .cloned()
            .ok_or_else(|| WorkloadError::NotFound {
                kind: EntityKind::Vdc,
                name: format!("network {}", m.org_network),
                scope: vdc.name.clone().map(|n| format!("vDC {n:?}")),
            })?;
        configs.push(VAppNetworkConfiguration {
            network_name: Some(m.vapp_network.clone()),
            configuration: Some(Box::new(NetworkConfiguration {
                parent_network: Some(Box::new(parent)),
                fence_mode: Some(m.fence_mode.clone()),
                ..NetworkConfiguration::default()
            })),
            ..VAppNetworkConfiguration::default()
        });
    }
    Ok(Some(Section::NetworkConfigSection(Box::new(
        NetworkConfigSection {
            info: Some(XmlText::new(
                "Configuration parameters for logical networks",
            )),
            network_configs: configs,
            ..NetworkConfigSection::default()
        },
    ))))
}

/// What a new vApp made from a vApp template looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantiateParams {
    /// The vApp's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Deploy it when created (default true).
    pub deploy: bool,
    /// Power it on when created (default false).
    pub power_on: bool,
    /// vApp networks and the org networks they bridge to.
    pub networks: Vec<NetworkMapping>,
    /// Per template VM (by its name in the template): its settings.
    pub vms: Vec<(String, VmSettings)>,
    /// Settings applied to every template VM not listed in `vms` (e.g. a storage profile).
    pub all_vms: Option<VmSettings>,
    /// Accept every EULA of the template.
    pub accept_all_eulas: bool,
}

impl InstantiateParams {
    /// A vApp with this name: deployed, not powered on, the template's networks.
    pub fn new(name: impl Into<String>) -> Self {
        InstantiateParams {
            name: name.into(),
            description: None,
            deploy: true,
            power_on: false,
            networks: Vec::new(),
            vms: Vec::new(),
            all_vms: None,
            accept_all_eulas: true,
        }
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Powers the vApp on once created (and deploys it).
    pub fn power_on(mut self, on: bool) -> Self {
        self.power_on = on;
        if on {
            self.deploy = true;
        }
        self
    }

    /// Deploys the vApp once created.
    pub fn deploy(mut self, on: bool) -> Self {
        self.deploy = on;
        self
    }

    /// Adds a vApp network mapping.
    pub fn network(mut self, m: NetworkMapping) -> Self {
        self.networks.push(m);
        self
    }

    /// Settings of the template VM named `template_vm`.
    pub fn vm(mut self, template_vm: impl Into<String>, settings: VmSettings) -> Self {
        self.vms.push((template_vm.into(), settings));
        self
    }

    /// Settings of every VM not named with [`vm`](Self::vm).
    pub fn all_vms(mut self, settings: VmSettings) -> Self {
        self.all_vms = Some(settings);
        self
    }

    /// The document for the template at `template_href` whose VMs are `template_vms`
    /// (name, href), in `vdc`.
    ///
    /// # Errors
    /// [`WorkloadError`]s for an empty name, a VM name the template lacks, an unknown
    /// network or storage profile, a bad computer name.
    pub fn to_document(
        &self,
        template_href: &str,
        template_vms: &[(String, String)],
        vdc: &Vdc,
    ) -> Result<InstantiateVAppTemplateParams> {
        if self.name.trim().is_empty() {
            return Err(WorkloadError::invalid("vApp name", "the name is empty").into());
        }
        for (n, _) in &self.vms {
            if !template_vms.iter().any(|(t, _)| t == n) {
                return Err(WorkloadError::NotFound {
                    kind: EntityKind::Vm,
                    name: n.clone(),
                    scope: Some(format!(
                        "the template (its VMs: {})",
                        template_vms
                            .iter()
                            .map(|v| v.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
                .into());
            }
        }
        let mut items = Vec::new();
        for (tname, thref) in template_vms {
            let settings = self
                .vms
                .iter()
                .find(|(n, _)| n == tname)
                .map(|(_, s)| s.clone())
                .or_else(|| self.all_vms.clone());
            if let Some(s) = settings {
                items.push(s.sourced_item(thref, vdc)?);
            }
        }
        let sections: Vec<Section> = network_section(vdc, &self.networks)?.into_iter().collect();
        Ok(InstantiateVAppTemplateParams {
            name: Some(self.name.clone()),
            description: self.description.clone(),
            deploy: Some(self.deploy),
            power_on: Some(self.power_on),
            instantiation_params: (!sections.is_empty()).then(|| {
                Box::new(InstantiationParams {
                    sections,
                    ..InstantiationParams::default()
                })
            }),
            source: Some(Box::new(Reference {
                href: Some(template_href.to_owned()),
                type_: Some(media::VAPP_TEMPLATE.to_owned()),
                ..Reference::default()
            })),
            sourced_items: items,
            all_eul_as_accepted: Some(self.accept_all_eulas),
            ..InstantiateVAppTemplateParams::default()
        })
    }
}

/// A VM to add to a vApp: a template VM's href and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedVm {
    /// The href of the template VM (`/api/vAppTemplate/vm-<uuid>`).
    pub source_href: String,
    /// Its settings in the vApp.
    pub settings: VmSettings,
}

/// A new vApp made of VMs of templates (`composeVApp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeParams {
    /// The vApp's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The VMs.
    pub vms: Vec<SourcedVm>,
    /// vApp networks.
    pub networks: Vec<NetworkMapping>,
    /// Deploy when created.
    pub deploy: bool,
    /// Power on when created.
    pub power_on: bool,
}

impl ComposeParams {
    /// A vApp with this name and no VMs yet.
    pub fn new(name: impl Into<String>) -> Self {
        ComposeParams {
            name: name.into(),
            description: None,
            vms: Vec::new(),
            networks: Vec::new(),
            deploy: false,
            power_on: false,
        }
    }

    /// Adds a VM from a template VM href.
    pub fn vm(mut self, source_href: impl Into<String>, settings: VmSettings) -> Self {
        self.vms.push(SourcedVm {
            source_href: source_href.into(),
            settings,
        });
        self
    }

    /// Adds a network mapping.
    pub fn network(mut self, m: NetworkMapping) -> Self {
        self.networks.push(m);
        self
    }

    /// Powers on (and deploys) once created.
    pub fn power_on(mut self, on: bool) -> Self {
        self.power_on = on;
        self.deploy |= on;
        self
    }

    /// The document for `vdc`.
    ///
    /// # Errors
    /// As [`InstantiateParams::to_document`].
    pub fn to_document(&self, vdc: &Vdc) -> Result<ComposeVAppParams> {
        if self.name.trim().is_empty() {
            return Err(WorkloadError::invalid("vApp name", "the name is empty").into());
        }
        let sections: Vec<Section> = network_section(vdc, &self.networks)?.into_iter().collect();
        Ok(ComposeVAppParams {
            name: Some(self.name.clone()),
            description: self.description.clone(),
            deploy: Some(self.deploy),
            power_on: Some(self.power_on),
            instantiation_params: (!sections.is_empty()).then(|| {
                Box::new(InstantiationParams {
                    sections,
                    ..InstantiationParams::default()
                })
            }),
            sourced_items: self
                .vms
                .iter()
                .map(|v| v.settings.sourced_item(&v.source_href, vdc))
                .collect::<Result<_>>()?,
            all_eul_as_accepted: Some(true),
            ..ComposeVAppParams::default()
        })
    }
}

/// Changes to the VMs of a vApp (`recomposeVApp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecomposeParams {
    /// VMs to add.
    pub add: Vec<SourcedVm>,
    /// hrefs of VMs of the vApp to delete (they must be powered off).
    pub remove: Vec<String>,
}

impl RecomposeParams {
    /// Adds a VM from a template VM href.
    pub fn add_vm(mut self, source_href: impl Into<String>, settings: VmSettings) -> Self {
        self.add.push(SourcedVm {
            source_href: source_href.into(),
            settings,
        });
        self
    }

    /// Removes a VM by its href.
    pub fn remove_vm(mut self, href: impl Into<String>) -> Self {
        self.remove.push(href.into());
        self
    }

    /// The document (VM settings resolved against `vdc`).
    ///
    /// # Errors
    /// As [`InstantiateParams::to_document`]; an empty change is refused.
    pub fn to_document(&self, vdc: &Vdc) -> Result<RecomposeVAppParams> {
        if self.add.is_empty() && self.remove.is_empty() {
            return Err(WorkloadError::invalid("recompose", "nothing to add or remove").into());
        }
        Ok(RecomposeVAppParams {
            sourced_items: self
                .add
                .iter()
                .map(|v| v.settings.sourced_item(&v.source_href, vdc))
                .collect::<Result<_>>()?,
            delete_items: self
                .remove
                .iter()
                .map(|h| Reference {
                    href: Some(h.clone()),
                    ..Reference::default()
                })
                .collect(),
            all_eul_as_accepted: Some(true),
            ..RecomposeVAppParams::default()
        })
    }
}

/// Keeps [`Document`] in scope for callers encoding these documents.
pub(crate) fn encode<D: Document>(d: &D) -> String {
    d.to_xml()
}
