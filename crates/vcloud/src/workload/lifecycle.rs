//! What vApps and VMs share: power actions, deploy/undeploy, delete, rename, snapshots
//! and metadata. Every operation here is sent to the object's own href (vCD answers a
//! state that does not allow it with a `BAD_REQUEST` Error document, surfaced as the
//! error's [`ServiceError`](nebulair_core::ServiceError)).

use std::fmt;

use nebulair_core::Result;

use crate::model::vcd::{
    CreateSnapshotParams, DeployVAppParams, Document, MetadataTypedValue, UndeployVAppParams,
};
use crate::model::xml::XmlElement;

/// What undeploy does to the running VMs (`UndeployPowerAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UndeployPowerAction {
    /// The VMs' own default (`default`).
    #[default]
    Default,
    /// Power off (`powerOff`).
    PowerOff,
    /// Suspend (`suspend`).
    Suspend,
    /// Shut the guests down (`shutdown`).
    Shutdown,
    /// Force (`force`).
    Force,
}

impl UndeployPowerAction {
    /// The value vCD expects.
    pub fn as_str(self) -> &'static str {
        match self {
            UndeployPowerAction::Default => "default",
            UndeployPowerAction::PowerOff => "powerOff",
            UndeployPowerAction::Suspend => "suspend",
            UndeployPowerAction::Shutdown => "shutdown",
            UndeployPowerAction::Force => "force",
        }
    }
}

impl fmt::Display for UndeployPowerAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options of a deploy (`DeployVAppParams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployOptions {
    /// Power the VMs on (default true).
    pub power_on: bool,
    /// Run guest customization again.
    pub force_customization: bool,
    /// The deployment lease in seconds, when set.
    pub lease_seconds: Option<i64>,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            power_on: true,
            force_customization: false,
            lease_seconds: None,
        }
    }
}

impl DeployOptions {
    /// Deploy without powering on.
    pub fn without_power_on() -> Self {
        DeployOptions {
            power_on: false,
            ..DeployOptions::default()
        }
    }

    pub(crate) fn to_xml(self) -> String {
        DeployVAppParams {
            power_on: Some(self.power_on),
            force_customization: self.force_customization.then_some(true),
            deployment_lease_seconds: self.lease_seconds,
            ..DeployVAppParams::default()
        }
        .to_xml()
    }
}

/// Options of a snapshot (`CreateSnapshotParams`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotOptions {
    /// Include the memory of running VMs.
    pub memory: bool,
    /// Quiesce the guest file systems (needs guest tools).
    pub quiesce: bool,
    /// A name, when set.
    pub name: Option<String>,
}

pub(crate) fn undeploy_xml(action: UndeployPowerAction) -> String {
    UndeployVAppParams {
        undeploy_power_action: Some(action.as_str().to_owned()),
        ..UndeployVAppParams::default()
    }
    .to_xml()
}

pub(crate) fn snapshot_xml(o: &SnapshotOptions) -> String {
    CreateSnapshotParams {
        memory: Some(o.memory),
        quiesce: Some(o.quiesce),
        name: o.name.clone(),
        ..CreateSnapshotParams::default()
    }
    .to_xml()
}

/// Who may see and change a metadata entry (`Domain@visibility`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetadataVisibility {
    /// `READWRITE` (not allowed in the `SYSTEM` domain).
    #[default]
    ReadWrite,
    /// `READONLY`.
    ReadOnly,
    /// `PRIVATE` (`SYSTEM` domain only).
    Private,
}

impl MetadataVisibility {
    /// The value vCD expects.
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataVisibility::ReadWrite => "READWRITE",
            MetadataVisibility::ReadOnly => "READONLY",
            MetadataVisibility::Private => "PRIVATE",
        }
    }
}

/// The domain of a metadata entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetadataDomain {
    /// `GENERAL`: user metadata.
    #[default]
    General,
    /// `SYSTEM`: set by system administrators (`READONLY` or `PRIVATE` to users).
    System,
}

impl MetadataDomain {
    /// The value vCD expects.
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataDomain::General => "GENERAL",
            MetadataDomain::System => "SYSTEM",
        }
    }
}

/// A `MetadataValue` document with a typed value in a domain (`GENERAL` unless given).
pub(crate) fn metadata_value_xml(value: &MetadataTypedValue, domain: Option<&str>) -> String {
    metadata_value_xml_with(value, domain, MetadataVisibility::ReadWrite)
}

/// As [`metadata_value_xml`] with a visibility.
pub(crate) fn metadata_value_xml_with(
    value: &MetadataTypedValue,
    domain: Option<&str>,
    visibility: MetadataVisibility,
) -> String {
    let mut doc = XmlElement::new_ns(crate::model::vcd::NS_VCLOUD, "MetadataValue");
    if let Some(d) = domain {
        doc.push_child(
            XmlElement::new_ns(crate::model::vcd::NS_VCLOUD, "Domain")
                .with_attr("visibility", visibility.as_str())
                .with_text(d),
        );
    }
    doc.push_child(value.to_element());
    doc.to_xml()
}

/// A `Metadata` document of typed entries, all in one domain with one visibility
/// (`POST .../metadata` merges them into what the object has).
///
/// # Errors
/// [`WorkloadError::InvalidValue`](super::WorkloadError::InvalidValue) for no entries, an
/// empty key or a key given twice.
pub(crate) fn metadata_entries_xml(
    entries: &[(&str, MetadataTypedValue)],
    domain: MetadataDomain,
    visibility: MetadataVisibility,
) -> Result<String> {
    if entries.is_empty() {
        return Err(super::WorkloadError::invalid("metadata", "no entries to set").into());
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut doc = XmlElement::new_ns(crate::model::vcd::NS_VCLOUD, "Metadata");
    for (key, value) in entries {
        key_path(key)?;
        if !seen.insert(*key) {
            return Err(super::WorkloadError::invalid(
                "metadata key",
                format!("{key:?} is given twice"),
            )
            .into());
        }
        let mut entry = XmlElement::new_ns(crate::model::vcd::NS_VCLOUD, "MetadataEntry");
        entry.push_child(
            XmlElement::new_ns(crate::model::vcd::NS_VCLOUD, "Domain")
                .with_attr("visibility", visibility.as_str())
                .with_text(domain.as_str()),
        );
        entry.push_child(XmlElement::new_ns(crate::model::vcd::NS_VCLOUD, "Key").with_text(*key));
        entry.push_child(value.to_element());
        doc.push_child(entry);
    }
    Ok(doc.to_xml())
}

/// Joins a tail to an href.
pub(crate) fn under(href: &str, tail: &str) -> String {
    format!(
        "{}/{}",
        href.trim_end_matches('/'),
        tail.trim_start_matches('/')
    )
}

/// Operations every vApp and VM handle has; implemented through its href.
macro_rules! entity_ops {
    ($ty:ty, $label:literal) => {
        impl $ty {
            fn post(&self, tail: &'static str, body: Option<(&'static str, String)>) -> Pending {
                let me = self.clone();
                Pending::new(&self.core.ws, async move {
                    let href = me.href().await?;
                    let mut req = ApiRequest::post(crate::workload::lifecycle::under(&href, tail));
                    if let Some((ct, b)) = body {
                        req = req.body(ct, b);
                    }
                    me.core.ws.submit_task(req).await
                })
            }

            #[doc = concat!("Powers the ", $label, " on (`power/action/powerOn`).")]
            pub fn power_on(&self) -> Pending {
                self.post("power/action/powerOn", None)
            }

            #[doc = concat!("Powers the ", $label, " off, hard (`power/action/powerOff`); it stays deployed.")]
            pub fn power_off(&self) -> Pending {
                self.post("power/action/powerOff", None)
            }

            #[doc = concat!("Suspends the ", $label, " (`power/action/suspend`).")]
            pub fn suspend(&self) -> Pending {
                self.post("power/action/suspend", None)
            }

            #[doc = concat!("Resets the ", $label, " (`power/action/reset`).")]
            pub fn reset(&self) -> Pending {
                self.post("power/action/reset", None)
            }

            #[doc = concat!("Shuts the guest OS of the ", $label, " down (`power/action/shutdown`; needs guest tools).")]
            pub fn shutdown(&self) -> Pending {
                self.post("power/action/shutdown", None)
            }

            #[doc = concat!("Reboots the guest OS of the ", $label, " (`power/action/reboot`; needs guest tools).")]
            pub fn reboot(&self) -> Pending {
                self.post("power/action/reboot", None)
            }

            #[doc = concat!("Discards the suspended state of the ", $label, " (`action/discardSuspendedState`).")]
            pub fn discard_suspended_state(&self) -> Pending {
                self.post("action/discardSuspendedState", None)
            }

            #[doc = concat!("Deploys the ", $label, " (`action/deploy`), powering on unless told not to.")]
            pub fn deploy(&self, options: crate::workload::lifecycle::DeployOptions) -> Pending {
                self.post(
                    "action/deploy",
                    Some((media::DEPLOY_VAPP_PARAMS, options.to_xml())),
                )
            }

            #[doc = concat!("Undeploys the ", $label, " (`action/undeploy`) with this power action.")]
            pub fn undeploy(&self, action: crate::workload::lifecycle::UndeployPowerAction) -> Pending {
                self.post(
                    "action/undeploy",
                    Some((
                        media::UNDEPLOY_VAPP_PARAMS,
                        crate::workload::lifecycle::undeploy_xml(action),
                    )),
                )
            }

            #[doc = concat!("Creates a snapshot of the ", $label, " (`action/createSnapshot`), replacing the current one.")]
            pub fn create_snapshot(&self, options: &crate::workload::lifecycle::SnapshotOptions) -> Pending {
                self.post(
                    "action/createSnapshot",
                    Some((
                        media::CREATE_SNAPSHOT_PARAMS,
                        crate::workload::lifecycle::snapshot_xml(options),
                    )),
                )
            }

            #[doc = concat!("Reverts the ", $label, " to its current snapshot (`action/revertToCurrentSnapshot`).")]
            pub fn revert_to_current_snapshot(&self) -> Pending {
                self.post("action/revertToCurrentSnapshot", None)
            }

            #[doc = concat!("Removes every snapshot of the ", $label, " (`action/removeAllSnapshots`).")]
            pub fn remove_all_snapshots(&self) -> Pending {
                self.post("action/removeAllSnapshots", None)
            }

            #[doc = concat!("Polls the ", $label, " every `poll` while its status is `unwanted`, for at most `timeout`; returns the status it reached (go-vcloud-director's `BlockWhileStatus`).")]
            ///
            /// # Errors
            /// Request errors; [`ErrorKind::Timeout`](nebulair_core::ErrorKind::Timeout)
            /// when the status is still `unwanted` after `timeout`.
            pub async fn wait_while_status(
                &self,
                unwanted: crate::model::vcd::VAppStatus,
                timeout: std::time::Duration,
                poll: std::time::Duration,
            ) -> nebulair_core::Result<crate::model::vcd::VAppStatus> {
                let start = tokio::time::Instant::now();
                loop {
                    let status = Box::pin(self.get()).await?.status_typed();
                    match status {
                        Some(s) if s != unwanted => return Ok(s),
                        _ => {}
                    }
                    let spent = start.elapsed();
                    if spent >= timeout {
                        return Err(nebulair_core::Error::new(
                            nebulair_core::ErrorKind::Timeout,
                            format!(
                                "{} still {} after {timeout:?}",
                                self.label(),
                                status.map(|s| s.as_str()).unwrap_or("without a status")
                            ),
                        ));
                    }
                    tokio::time::sleep(poll.min(timeout - spent)).await;
                }
            }

            #[doc = concat!("The metadata of the ", $label, " (`GET .../metadata`).")]
            ///
            /// # Errors
            /// Request and decoding errors.
            pub async fn metadata(&self) -> nebulair_core::Result<Metadata> {
                let href = self.href().await?;
                self.core
                    .ws
                    .get_document(&crate::workload::lifecycle::under(&href, "metadata"))
                    .await
            }

            #[doc = concat!("One metadata value of the ", $label, " (`GET .../metadata/{key}`), typed.")]
            ///
            /// # Errors
            /// Request errors (vCD answers an unknown key with 403 or 404); a value whose type
            /// is unknown is [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol).
            pub async fn metadata_value(&self, key: &str) -> nebulair_core::Result<Option<MetadataTypedValue>> {
                let href = self.href().await?;
                let v: MetadataValue = self
                    .core
                    .ws
                    .get_document(&crate::workload::lifecycle::under(&href, &format!("metadata/{}", crate::workload::lifecycle::key_path(key)?)))
                    .await?;
                v.typed()
            }

            #[doc = concat!("Sets one typed metadata value of the ", $label, " (`PUT .../metadata/{key}`, domain `GENERAL`).")]
            pub fn set_metadata(&self, key: &str, value: MetadataTypedValue) -> Pending {
                self.set_metadata_in(key, value, None)
            }

            #[doc = concat!("Sets one typed metadata value of the ", $label, " in a domain (`GENERAL` or `SYSTEM`).")]
            pub fn set_metadata_in(&self, key: &str, value: MetadataTypedValue, domain: Option<&str>) -> Pending {
                let key = match crate::workload::lifecycle::key_path(key) {
                    Ok(k) => k,
                    Err(e) => return Pending::failed(&self.core.ws, e),
                };
                let body = crate::workload::lifecycle::metadata_value_xml(&value, domain);
                let me = self.clone();
                Pending::new(&self.core.ws, async move {
                    let href = me.href().await?;
                    me.core
                        .ws
                        .submit_task(
                            ApiRequest::put(crate::workload::lifecycle::under(&href, &format!("metadata/{key}")))
                                .body(media::METADATA_VALUE, body),
                        )
                        .await
                })
            }

            #[doc = concat!("Sets one typed metadata value of the ", $label, " in a domain with a visibility (vCD refuses `SYSTEM` + `READWRITE` and `GENERAL` + `PRIVATE`).")]
            pub fn set_metadata_with(
                &self,
                key: &str,
                value: MetadataTypedValue,
                domain: crate::workload::lifecycle::MetadataDomain,
                visibility: crate::workload::lifecycle::MetadataVisibility,
            ) -> Pending {
                let key = match crate::workload::lifecycle::key_path(key) {
                    Ok(k) => k,
                    Err(e) => return Pending::failed(&self.core.ws, e),
                };
                let body = crate::workload::lifecycle::metadata_value_xml_with(&value, Some(domain.as_str()), visibility);
                let me = self.clone();
                Pending::new(&self.core.ws, async move {
                    let href = me.href().await?;
                    me.core
                        .ws
                        .submit_task(
                            ApiRequest::put(crate::workload::lifecycle::under(&href, &format!("metadata/{key}")))
                                .body(media::METADATA_VALUE, body),
                        )
                        .await
                })
            }

            #[doc = concat!("Sets several typed metadata values of the ", $label, " in one request and one task (`POST .../metadata`, merged into the entries it has; pyvcloud's `set_multiple_metadata`, go-vcloud-director's `MergeMetadata`).")]
            pub fn set_metadata_entries(
                &self,
                entries: &[(&str, MetadataTypedValue)],
                domain: crate::workload::lifecycle::MetadataDomain,
                visibility: crate::workload::lifecycle::MetadataVisibility,
            ) -> Pending {
                let body = match crate::workload::lifecycle::metadata_entries_xml(entries, domain, visibility) {
                    Ok(b) => b,
                    Err(e) => return Pending::failed(&self.core.ws, e),
                };
                let me = self.clone();
                Pending::new(&self.core.ws, async move {
                    let href = me.href().await?;
                    me.core
                        .ws
                        .submit_task(
                            ApiRequest::post(crate::workload::lifecycle::under(&href, "metadata"))
                                .body(media::METADATA, body),
                        )
                        .await
                })
            }

            #[doc = concat!("Removes one metadata key of the ", $label, " (`DELETE .../metadata/{key}`).")]
            pub fn delete_metadata(&self, key: &str) -> Pending {
                let key = match crate::workload::lifecycle::key_path(key) {
                    Ok(k) => k,
                    Err(e) => return Pending::failed(&self.core.ws, e),
                };
                let me = self.clone();
                Pending::new(&self.core.ws, async move {
                    let href = me.href().await?;
                    me.core
                        .ws
                        .submit_task(ApiRequest::delete(crate::workload::lifecycle::under(&href, &format!("metadata/{key}"))))
                        .await
                })
            }
        }
    };
}

pub(crate) use entity_ops;

/// A metadata key as a path segment (percent-encoded); an empty key is refused.
pub(crate) fn key_path(key: &str) -> Result<String> {
    if key.is_empty() {
        return Err(super::WorkloadError::invalid("metadata key", "the key is empty").into());
    }
    Ok(url::form_urlencoded::byte_serialize(key.as_bytes())
        .collect::<String>()
        .replace('+', "%20"))
}
