//! The typed vCloud Director model, generated from the vCD XSDs.
//!
//! `generated.rs` is written by `cargo xtask vcd` from `crates/vcloud/xsd/` (the schemas
//! of vmware/vcd-api-schemas) and checked by a staleness test. Every complex type reachable
//! from the documents users handle (Session, Org, Vdc, VApp, Vm and its sections,
//! VAppTemplate, Catalog, CatalogItem, Media, Task, Error, Metadata, the instantiate /
//! compose / recompose / deploy / undeploy / snapshot params, the OVF envelope pieces) is a
//! struct whose fields are `Option`s and `Vec`s, decoded leniently (names compared by local
//! part, missing elements allowed). Nothing is dropped: attributes and elements a struct
//! does not declare are kept in `other_attributes` / `other_elements`, so a document read
//! from the server can be changed and `PUT` back ([`Document::to_xml`]).
//!
//! ```
//! use nebulair_vcloud::model::vcd::{Document, Vm, Section};
//!
//! let vm: Vm = r#"<Vm xmlns="http://www.vmware.com/vcloud/v1.5"
//!     xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
//!     name="web-01" status="4" href="https://vcd.example.test/api/vApp/vm-1" futureAttr="kept">
//!   <Link rel="power:powerOff" href="https://vcd.example.test/api/vApp/vm-1/power/action/powerOff"/>
//!   <ovf:OperatingSystemSection ovf:id="101"><ovf:Info>OS</ovf:Info></ovf:OperatingSystemSection>
//!   <FutureElement>kept too</FutureElement>
//! </Vm>"#.parse()?;
//! assert_eq!(vm.name.as_deref(), Some("web-01"));
//! assert_eq!(vm.status, Some(4));
//! assert!(matches!(vm.sections[0], Section::OperatingSystemSection(_)));
//! assert_eq!(vm.other_elements[0].name(), "FutureElement");
//! let again: Vm = vm.to_xml().parse()?;
//! assert_eq!(again, vm);
//! # Ok::<(), nebulair_core::Error>(())
//! ```

pub mod codec;
#[rustfmt::skip]
mod generated;
pub mod helpers;
pub mod links;

pub use codec::{Document, Element, XmlAttribute, XmlText};
pub use generated::*;
pub use helpers::{MetadataTypedValue, VAppStatus};
pub use links::{HasLinks, Rel, media};
