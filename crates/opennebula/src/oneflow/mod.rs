//! The OneFlow client: multi-VM services from service templates.
//!
//! OneFlow is OpenNebula's REST server for services (default port [`DEFAULT_PORT`],
//! HTTP basic auth with the OpenNebula user and password or login token, JSON bodies).
//! It stores service templates as oned documents of type 101 and services as type 100;
//! its answers are those documents with the JSON body in `TEMPLATE.BODY` ([`model`]).
//!
//! | call | route |
//! |---|---|
//! | [`Templates::list`] / [`show`](Templates::show) | `GET /service_template[/:id]` |
//! | [`Templates::create`] | `POST /service_template` |
//! | [`Templates::update`] | `PUT /service_template/:id` |
//! | [`Templates::delete`] (with a [`DeleteMode`]) | `DELETE /service_template/:id` |
//! | [`Templates::instantiate`], [`clone_template`](Templates::clone_template) (with a [`CloneMode`]), `chown`, `chgrp`, `chmod`, `rename` | `POST /service_template/:id/action` |
//! | [`Services::list`] / [`show`](Services::show) | `GET /service[/:id]` |
//! | [`Services::delete`] | `DELETE /service/:id` |
//! | [`Services::recover`], [`release`](Services::release), [`vm_action`](Services::vm_action), `chown`, `chgrp`, `chmod`, `rename` | `POST /service/:id/action` |
//! | [`Services::scale`] | `POST /service/:id/scale` |
//! | [`Services::role_action`] | `POST /service/:id/role/:role/action` |
//!
//! Bodies are OneFlow 7's: roles with `type`, `template_id` and a `template_contents`
//! object (6.x's `vm_template` is read too).
//!
//! Errors: OneFlow 7 answers a plain-text message (`Service cannot be scaled in state:
//! DEPLOYING`; `{"error": {"message": ...}}` documents, as Sunstone sends them, are read
//! too), which becomes a [`nebulair_core::Error`] whose kind follows the HTTP status (400
//! `InvalidInput`, 401 `Authentication`, 403 `Authorization`, 404 `NotFound`, 500
//! `Server`: OneFlow answers 500 to most refusals, such as a scale in the wrong state) with a [`ServiceError`](nebulair_core::ServiceError) of provider `oneflow`.
//! Service and role states are [`ServiceState`] and [`RoleState`] (shared with OneGate,
//! which relays OneFlow's document), with `Unknown(n)` for states a newer server adds.
//!
//! ```
//! use std::sync::Arc;
//! use nebulair_core::{Credentials, HttpResponse, MockTransport};
//! use nebulair_opennebula::ids::TemplateId;
//! use nebulair_opennebula::oneflow::{FlowClient, InstantiateOptions, RoleTemplate, ServiceState, ServiceTemplateBody};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! let mock = Arc::new(MockTransport::new());
//! mock.push_response(HttpResponse::new(201,
//!     r#"{"DOCUMENT":{"ID":"4","NAME":"web","TEMPLATE":{"BODY":{"name":"web","roles":[]}}}}"#));
//! mock.push_response(HttpResponse::new(201,
//!     r#"{"DOCUMENT":{"ID":"9","NAME":"web-1","TEMPLATE":{"BODY":{"name":"web-1","state":0,"roles":[]}}}}"#));
//! let flow = FlowClient::builder()
//!     .endpoint("http://frontend:2474")
//!     .credentials(Credentials::password("oneadmin", "opennebula"))
//!     .transport(mock.clone()) // leave out to use the network
//!     .build()?;
//! let body = ServiceTemplateBody::new("web", vec![RoleTemplate::new("frontend", TemplateId::new(0), 2)]);
//! let template = flow.templates().create(&body).await?;
//! let service = flow.templates().instantiate(template.id, &InstantiateOptions::new().name("web-1")).await?;
//! assert_eq!(service.body().state, ServiceState::Pending);
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```

mod client;
pub mod model;

pub use crate::onegate::{RoleState, ServiceState};
pub use client::{
    CloneMode, DEFAULT_PORT, DeleteMode, FlowClient, FlowClientBuilder, InstantiateOptions,
    PROVIDER, Services, Templates,
};
pub use model::{
    AdjustmentType, Deployment, ElasticityPolicy, FlowDocument, FlowTemplate, LogEntry, Node, Role,
    RoleAction, RoleTemplate, RoleType, ScheduledPolicy, Service, ServiceBody, ServiceTemplate,
    ServiceTemplateBody,
};

/// The oned document type of services.
pub const SERVICE_DOCUMENT_TYPE: i32 = 100;
/// The oned document type of service templates.
pub const TEMPLATE_DOCUMENT_TYPE: i32 = 101;
