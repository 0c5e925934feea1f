//! The OneFlow HTTP client.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use http::Method;
use nebulair_core::{
    Credentials, Error, ErrorKind, ExposeSecret, HttpConfig, HttpRequest, HttpResponse,
    HttpTransport, ReqwestTransport, Result, SecretString, ServiceError,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use super::model::{
    DocEnvelope, PoolEnvelope, RoleAction, Service, ServiceBody, ServiceTemplate,
    ServiceTemplateBody,
};
use crate::api::{LookupError, ObservedState, WaitError, WaitOptions, WaitProgress};
use crate::ids::{DocumentId, GroupId, UserId};
use crate::onegate::ServiceState;

/// The provider name in [`ServiceError`]s of this client.
pub const PROVIDER: &str = "oneflow";
/// OneFlow's default port.
pub const DEFAULT_PORT: u16 = 2474;

/// Builds a [`FlowClient`].
#[derive(Default)]
pub struct FlowClientBuilder {
    endpoint: Option<String>,
    username: Option<String>,
    password: Option<SecretString>,
    http: Option<HttpConfig>,
    transport: Option<Arc<dyn HttpTransport>>,
}

impl fmt::Debug for FlowClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl FlowClientBuilder {
    /// The OneFlow endpoint, e.g. `http://frontend:2474` (a path prefix is kept).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The OpenNebula user and password (or login token), sent with HTTP basic auth.
    ///
    /// [`Credentials::Password`] and [`Credentials::UserToken`] are accepted; other kinds
    /// make [`build`](Self::build) fail.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        match credentials {
            Credentials::Password { username, password } => {
                self.username = Some(username);
                self.password = Some(password);
            }
            Credentials::UserToken { username, token } => {
                self.username = Some(username);
                self.password = Some(token);
            }
            _ => {
                self.username = None;
                self.password = None;
            }
        }
        self
    }

    /// HTTP and TLS settings.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = Some(config);
        self
    }

    /// Sends requests through `transport` (tests, a shared transport).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] without an endpoint or a user and password, or for an
    /// invalid URL; the transport's error if it cannot be built.
    pub fn build(self) -> Result<FlowClient> {
        let endpoint = self
            .endpoint
            .ok_or_else(|| Error::invalid_input("OneFlow client: no endpoint given"))?;
        let base = Url::parse(&endpoint).map_err(|e| {
            Error::with_source(
                ErrorKind::InvalidInput,
                format!("invalid OneFlow endpoint {endpoint:?}"),
                e,
            )
        })?;
        let (Some(username), Some(password)) = (self.username, self.password) else {
            return Err(Error::invalid_input(
                "OneFlow client: needs a user and password (or login token)",
            ));
        };
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose_secret()));
        let transport = match self.transport {
            Some(t) => t,
            None => ReqwestTransport::new(&self.http.unwrap_or_default())?.into_shared(),
        };
        Ok(FlowClient {
            inner: Arc::new(Inner {
                base: base.as_str().trim_end_matches('/').to_owned(),
                username,
                auth: SecretString::from(format!("Basic {auth}")),
                transport,
            }),
        })
    }
}

struct Inner {
    base: String,
    username: String,
    auth: SecretString,
    transport: Arc<dyn HttpTransport>,
}

/// A OneFlow client: service templates ([`FlowClient::templates`]) and services
/// ([`FlowClient::services`]). Cheap to clone.
#[derive(Clone)]
pub struct FlowClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for FlowClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowClient")
            .field("base", &self.inner.base)
            .field("username", &self.inner.username)
            .finish_non_exhaustive()
    }
}

/// Options of [`Templates::instantiate`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct InstantiateOptions {
    /// The service name (the template's name when unset).
    pub name: Option<String>,
    /// Attributes merged over the template body (`merge_template`).
    pub merge: serde_json::Map<String, Value>,
    /// Values of the template's user inputs (`user_inputs_values`).
    pub user_inputs: serde_json::Map<String, Value>,
}

impl InstantiateOptions {
    /// No options.
    pub fn new() -> Self {
        InstantiateOptions::default()
    }

    /// Names the service.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Merges `key: value` over the template body.
    pub fn merge(mut self, key: impl Into<String>, value: Value) -> Self {
        self.merge.insert(key.into(), value);
        self
    }

    /// Sets a user input.
    pub fn user_input(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.user_inputs
            .insert(key.into(), Value::String(value.into()));
        self
    }

    fn merge_template(&self) -> Option<Value> {
        let mut m = self.merge.clone();
        if let Some(n) = &self.name {
            m.insert("name".into(), Value::String(n.clone()));
        }
        if !self.user_inputs.is_empty() {
            m.insert(
                "user_inputs_values".into(),
                Value::Object(self.user_inputs.clone()),
            );
        }
        (!m.is_empty()).then_some(Value::Object(m))
    }
}

impl FlowClient {
    /// A builder.
    pub fn builder() -> FlowClientBuilder {
        FlowClientBuilder::default()
    }

    /// The service templates.
    pub fn templates(&self) -> Templates<'_> {
        Templates { client: self }
    }

    /// The services.
    pub fn services(&self) -> Services<'_> {
        Services { client: self }
    }

    /// The user requests are sent as.
    pub fn username(&self) -> &str {
        &self.inner.username
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<HttpResponse> {
        let op = format!("{method} {path}");
        let url = Url::parse(&format!("{}{path}", self.inner.base)).map_err(|e| {
            Error::with_source(
                ErrorKind::InvalidInput,
                format!("invalid OneFlow URL for {path}"),
                e,
            )
        })?;
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let mut req = HttpRequest::new(method, url)
            .header("Authorization", self.inner.auth.expose_secret())?
            .header("Accept", "application/json")?
            .idempotent(idempotent);
        if let Some(b) = body {
            req = req
                .body(b.to_string())
                .header("Content-Type", "application/json")?;
        }
        tracing::debug!(operation = %op, "OneFlow request");
        let resp = self
            .inner
            .transport
            .send(req)
            .await
            .map_err(|e| e.context(format!("OneFlow {op}")))?;
        if resp.is_success() {
            Ok(resp)
        } else {
            Err(status_error(&op, &resp))
        }
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T> {
        let resp = self.send(method, path, body).await?;
        serde_json::from_slice(&resp.body).map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                format!("OneFlow {path}: the answer is not the expected JSON document: {e}"),
                e,
            )
            .with_http_status(resp.status.as_u16())
        })
    }

    async fn action(&self, path: &str, perform: &str, params: Value) -> Result<HttpResponse> {
        self.send(
            Method::POST,
            path,
            Some(json!({"action": {"perform": perform, "params": params}})),
        )
        .await
    }
}

/// The error for a non-2xx answer: OneFlow sends `{"error": {"message": "..."}}` (older
/// servers plain text).
pub(crate) fn status_error(op: &str, resp: &HttpResponse) -> Error {
    let status = resp.status.as_u16();
    let kind = match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::Authorization,
        404 => ErrorKind::NotFound,
        409 | 423 => ErrorKind::Conflict,
        400 | 405 | 411 | 413 | 415 | 422 => ErrorKind::InvalidInput,
        _ => ErrorKind::Server,
    };
    let text = String::from_utf8_lossy(&resp.body).trim().to_owned();
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| text.chars().take(2048).collect());
    let shown = if message.is_empty() {
        resp.status
            .canonical_reason()
            .unwrap_or("no message")
            .to_owned()
    } else {
        message.clone()
    };
    Error::new(
        kind,
        format!("OneFlow {op} failed with HTTP {status}: {shown}"),
    )
    .with_http_status(status)
    .with_service(
        ServiceError::new(PROVIDER, i64::from(status), message).with_operation(op.to_owned()),
    )
}

fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Service templates (`/service_template`).
#[derive(Debug, Clone, Copy)]
pub struct Templates<'a> {
    client: &'a FlowClient,
}

impl Templates<'_> {
    /// `GET /service_template`: every template the user may see.
    ///
    /// # Errors
    /// The server's error (typed by HTTP status, message from `{"error": {"message"}}`),
    /// transport errors, [`ErrorKind::Protocol`] for an unexpected answer.
    pub async fn list(&self) -> Result<Vec<ServiceTemplate>> {
        let p: PoolEnvelope<ServiceTemplateBody> = self
            .client
            .json(Method::GET, "/service_template", None)
            .await?;
        Ok(p.pool.documents)
    }

    /// `GET /service_template/:id`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for an unknown id; as [`Templates::list`].
    pub async fn show(&self, id: DocumentId) -> Result<ServiceTemplate> {
        let d: DocEnvelope<ServiceTemplateBody> = self
            .client
            .json(Method::GET, &format!("/service_template/{id}"), None)
            .await?;
        Ok(d.document)
    }

    /// `POST /service_template`: creates a template; returns it as stored.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when OneFlow's validation refuses the body (the message
    /// says why); as [`Templates::list`].
    pub async fn create(&self, body: &ServiceTemplateBody) -> Result<ServiceTemplate> {
        let v = serde_json::to_value(body)
            .map_err(|e| Error::with_source(ErrorKind::InvalidInput, "encoding the template", e))?;
        self.create_json(v).await
    }

    /// As [`Templates::create`] from a JSON body (e.g. a file the Ruby CLI takes).
    ///
    /// # Errors
    /// As [`Templates::create`].
    pub async fn create_json(&self, body: Value) -> Result<ServiceTemplate> {
        let d: DocEnvelope<ServiceTemplateBody> = self
            .client
            .json(Method::POST, "/service_template", Some(body))
            .await?;
        Ok(d.document)
    }

    /// `PUT /service_template/:id`: replaces the body; returns the template as stored.
    ///
    /// # Errors
    /// As [`Templates::create`].
    pub async fn update(
        &self,
        id: DocumentId,
        body: &ServiceTemplateBody,
    ) -> Result<ServiceTemplate> {
        let v = serde_json::to_value(body)
            .map_err(|e| Error::with_source(ErrorKind::InvalidInput, "encoding the template", e))?;
        let d: DocEnvelope<ServiceTemplateBody> = self
            .client
            .json(Method::PUT, &format!("/service_template/{id}"), Some(v))
            .await?;
        Ok(d.document)
    }

    /// `DELETE /service_template/:id` with a [`DeleteMode`] (`delete_type`): the template
    /// only, or also its roles' VM templates (and their images).
    ///
    /// # Errors
    /// As [`Templates::show`].
    pub async fn delete(&self, id: DocumentId, mode: DeleteMode) -> Result<()> {
        let body =
            (mode != DeleteMode::TemplateOnly).then(|| json!({"delete_type": mode.as_str()}));
        self.client
            .send(Method::DELETE, &format!("/service_template/{id}"), body)
            .await
            .map(drop)
    }

    /// `instantiate`: creates a service from the template, with `opts` merged.
    ///
    /// # Errors
    /// As [`Templates::create`].
    pub async fn instantiate(&self, id: DocumentId, opts: &InstantiateOptions) -> Result<Service> {
        let params = match opts.merge_template() {
            Some(m) => json!({"merge_template": m}),
            None => json!({}),
        };
        let resp = self
            .client
            .action(
                &format!("/service_template/{id}/action"),
                "instantiate",
                params,
            )
            .await?;
        let d: DocEnvelope<ServiceBody> = serde_json::from_slice(&resp.body).map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                "OneFlow instantiate: unexpected answer",
                e,
            )
        })?;
        Ok(d.document)
    }

    /// `clone`: copies the template as `name`; with [`CloneMode::Templates`] or
    /// [`CloneMode::All`] the roles' VM templates are cloned too (named
    /// `<template>-<name>`; `All` clones their images as well). Returns the new template.
    ///
    /// # Errors
    /// As [`Templates::show`]; OneFlow answers 500 when a VM template cannot be cloned.
    pub async fn clone_template(
        &self,
        id: DocumentId,
        name: &str,
        mode: CloneMode,
    ) -> Result<ServiceTemplate> {
        let resp = self
            .client
            .action(
                &format!("/service_template/{id}/action"),
                "clone",
                json!({"name": name, "recursive": mode.as_str()}),
            )
            .await?;
        serde_json::from_slice::<DocEnvelope<ServiceTemplateBody>>(&resp.body)
            .map(|d| d.document)
            .map_err(|e| {
                Error::with_source(ErrorKind::Protocol, "OneFlow clone: unexpected answer", e)
            })
    }

    /// `chown`.
    ///
    /// # Errors
    /// As [`Templates::show`].
    pub async fn chown(&self, id: DocumentId, user: UserId, group: Option<GroupId>) -> Result<()> {
        let gid = group.map_or(-1, GroupId::get);
        self.client
            .action(
                &format!("/service_template/{id}/action"),
                "chown",
                json!({"owner_id": user.get(), "group_id": gid}),
            )
            .await
            .map(drop)
    }

    /// `chgrp`.
    ///
    /// # Errors
    /// As [`Templates::show`].
    pub async fn chgrp(&self, id: DocumentId, group: GroupId) -> Result<()> {
        self.client
            .action(
                &format!("/service_template/{id}/action"),
                "chgrp",
                json!({"group_id": group.get()}),
            )
            .await
            .map(drop)
    }

    /// `chmod` with an octet (`"640"`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an octet that is not three octal digits; as
    /// [`Templates::show`].
    pub async fn chmod(&self, id: DocumentId, octet: &str) -> Result<()> {
        check_octet(octet)?;
        self.client
            .action(
                &format!("/service_template/{id}/action"),
                "chmod",
                json!({"octet": octet}),
            )
            .await
            .map(drop)
    }

    /// `rename`.
    ///
    /// # Errors
    /// As [`Templates::show`].
    pub async fn rename(&self, id: DocumentId, name: &str) -> Result<()> {
        self.client
            .action(
                &format!("/service_template/{id}/action"),
                "rename",
                json!({"name": name}),
            )
            .await
            .map(drop)
    }

    /// The template named exactly `name`.
    ///
    /// # Errors
    /// [`LookupError::NotFound`] / [`LookupError::Ambiguous`], or the listing's error.
    pub async fn by_name(
        &self,
        name: &str,
    ) -> std::result::Result<ServiceTemplate, LookupError<DocumentId>> {
        let all = self.list().await?;
        crate::api::pick_named(
            "service template",
            name,
            all,
            |t| Some(t.name.as_str()),
            |t| t.id,
        )
    }

    /// An id from a name or a number (as the CLI reads its arguments).
    ///
    /// # Errors
    /// As [`Templates::by_name`] for names.
    pub async fn resolve(
        &self,
        name_or_id: &str,
    ) -> std::result::Result<DocumentId, LookupError<DocumentId>> {
        match crate::api::text_id(name_or_id) {
            Some(id) => Ok(DocumentId::new(id)),
            None => self.by_name(name_or_id.trim()).await.map(|t| t.id),
        }
    }
}

fn period_params(period_and_number: Option<(u64, u32)>) -> Value {
    match period_and_number {
        Some((period, number)) => json!({"period": period, "number": number}),
        None => json!({}),
    }
}

/// What [`Templates::clone_template`] copies besides the service template (`recursive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CloneMode {
    /// The service template only (`none`).
    #[default]
    TemplateOnly,
    /// Also the roles' VM templates (`templates`).
    Templates,
    /// Also the VM templates and their images (`all`).
    All,
}

impl CloneMode {
    /// The value OneFlow reads.
    pub fn as_str(self) -> &'static str {
        match self {
            CloneMode::TemplateOnly => "none",
            CloneMode::Templates => "templates",
            CloneMode::All => "all",
        }
    }
}

/// What [`Templates::delete`] removes besides the service template (`delete_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DeleteMode {
    /// The service template only (`none`).
    #[default]
    TemplateOnly,
    /// Also the roles' VM templates (`templates`).
    Templates,
    /// Also the VM templates' images (`all`).
    All,
}

impl DeleteMode {
    /// The value OneFlow reads.
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteMode::TemplateOnly => "none",
            DeleteMode::Templates => "templates",
            DeleteMode::All => "all",
        }
    }
}

fn check_octet(octet: &str) -> Result<()> {
    if octet.len() == 3 && octet.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "permissions {octet:?}: expected three octal digits such as 640"
        )))
    }
}

/// Services (`/service`).
#[derive(Debug, Clone, Copy)]
pub struct Services<'a> {
    client: &'a FlowClient,
}

impl Services<'_> {
    /// `GET /service`: every service the user may see.
    ///
    /// # Errors
    /// As [`Templates::list`].
    pub async fn list(&self) -> Result<Vec<Service>> {
        let p: PoolEnvelope<ServiceBody> = self.client.json(Method::GET, "/service", None).await?;
        Ok(p.pool.documents)
    }

    /// `GET /service/:id`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for an unknown id; as [`Templates::list`].
    pub async fn show(&self, id: DocumentId) -> Result<Service> {
        let d: DocEnvelope<ServiceBody> = self
            .client
            .json(Method::GET, &format!("/service/{id}"), None)
            .await?;
        Ok(d.document)
    }

    /// `DELETE /service/:id`: terminates the roles' VMs (children first with `straight`
    /// deployment) and removes the service once they are DONE. OneFlow refuses it in a
    /// transient or failed state; [`Services::recover`] with `delete` removes a service in
    /// any state.
    ///
    /// # Errors
    /// [`ErrorKind::Server`] with `Service cannot be undeployed in state: ...`; as
    /// [`Services::show`].
    pub async fn delete(&self, id: DocumentId) -> Result<()> {
        self.client
            .send(Method::DELETE, &format!("/service/{id}"), None)
            .await
            .map(drop)
    }

    /// `POST /service/:id/action` with a VM action: runs `action` on the VMs of every
    /// role, `number` VMs every `period` seconds when given (OneFlow's defaults, 1 VM every
    /// 60 s, otherwise).
    ///
    /// # Errors
    /// As [`Services::show`].
    pub async fn vm_action(
        &self,
        id: DocumentId,
        action: RoleAction,
        period_and_number: Option<(u64, u32)>,
    ) -> Result<()> {
        self.client
            .action(
                &format!("/service/{id}/action"),
                action.as_str(),
                period_params(period_and_number),
            )
            .await
            .map(drop)
    }

    /// `recover`: retries what failed (FAILED_DEPLOYING, FAILED_SCALING,
    /// FAILED_UNDEPLOYING); with `delete`, removes a service stuck in any state.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`]/[`ErrorKind::InvalidInput`] when the state allows no
    /// recovery; as [`Services::show`].
    pub async fn recover(&self, id: DocumentId, delete: bool) -> Result<()> {
        let params = if delete {
            json!({"delete": true})
        } else {
            json!({})
        };
        self.client
            .action(&format!("/service/{id}/action"), "recover", params)
            .await
            .map(drop)
    }

    /// `release`: deploys the roles held with `on_hold`.
    ///
    /// # Errors
    /// As [`Services::show`].
    pub async fn release(&self, id: DocumentId) -> Result<()> {
        self.client
            .action(&format!("/service/{id}/action"), "release", json!({}))
            .await
            .map(drop)
    }

    /// `chown`.
    ///
    /// # Errors
    /// As [`Services::show`].
    pub async fn chown(&self, id: DocumentId, user: UserId, group: Option<GroupId>) -> Result<()> {
        let gid = group.map_or(-1, GroupId::get);
        self.client
            .action(
                &format!("/service/{id}/action"),
                "chown",
                json!({"owner_id": user.get(), "group_id": gid}),
            )
            .await
            .map(drop)
    }

    /// `chgrp`.
    ///
    /// # Errors
    /// As [`Services::show`].
    pub async fn chgrp(&self, id: DocumentId, group: GroupId) -> Result<()> {
        self.client
            .action(
                &format!("/service/{id}/action"),
                "chgrp",
                json!({"group_id": group.get()}),
            )
            .await
            .map(drop)
    }

    /// `chmod` with an octet.
    ///
    /// # Errors
    /// As [`Templates::chmod`].
    pub async fn chmod(&self, id: DocumentId, octet: &str) -> Result<()> {
        check_octet(octet)?;
        self.client
            .action(
                &format!("/service/{id}/action"),
                "chmod",
                json!({"octet": octet}),
            )
            .await
            .map(drop)
    }

    /// `rename`.
    ///
    /// # Errors
    /// As [`Services::show`].
    pub async fn rename(&self, id: DocumentId, name: &str) -> Result<()> {
        self.client
            .action(
                &format!("/service/{id}/action"),
                "rename",
                json!({"name": name}),
            )
            .await
            .map(drop)
    }

    /// `POST /service/:id/scale`: sets `role`'s cardinality; `force` ignores the role's
    /// `min_vms`/`max_vms`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty role name, or when OneFlow refuses (unknown
    /// role, outside the bounds, service not RUNNING); as [`Services::show`].
    pub async fn scale(
        &self,
        id: DocumentId,
        role: &str,
        cardinality: u32,
        force: bool,
    ) -> Result<()> {
        if role.trim().is_empty() {
            return Err(Error::invalid_input("OneFlow scale: empty role name"));
        }
        self.client
            .send(
                Method::POST,
                &format!("/service/{id}/scale"),
                Some(json!({"role_name": role, "cardinality": cardinality, "force": force})),
            )
            .await
            .map(drop)
    }

    /// `POST /service/:id/role/:role/action`: runs `action` on the role's VMs, `number` VMs
    /// every `period` seconds when both are given (all at once otherwise).
    ///
    /// # Errors
    /// As [`Services::scale`].
    pub async fn role_action(
        &self,
        id: DocumentId,
        role: &str,
        action: RoleAction,
        period_and_number: Option<(u64, u32)>,
    ) -> Result<()> {
        if role.trim().is_empty() {
            return Err(Error::invalid_input("OneFlow role action: empty role name"));
        }
        let params = period_params(period_and_number);
        self.client
            .action(
                &format!("/service/{id}/role/{}/action", seg(role)),
                action.as_str(),
                params,
            )
            .await
            .map(drop)
    }

    /// The service named exactly `name`.
    ///
    /// # Errors
    /// [`LookupError::NotFound`] / [`LookupError::Ambiguous`], or the listing's error.
    pub async fn by_name(
        &self,
        name: &str,
    ) -> std::result::Result<Service, LookupError<DocumentId>> {
        let all = self.list().await?;
        crate::api::pick_named("service", name, all, |t| Some(t.name.as_str()), |t| t.id)
    }

    /// An id from a name or a number.
    ///
    /// # Errors
    /// As [`Services::by_name`] for names.
    pub async fn resolve(
        &self,
        name_or_id: &str,
    ) -> std::result::Result<DocumentId, LookupError<DocumentId>> {
        match crate::api::text_id(name_or_id) {
            Some(id) => Ok(DocumentId::new(id)),
            None => self.by_name(name_or_id.trim()).await.map(|t| t.id),
        }
    }

    /// Waits until the service is in `target` (RUNNING, DONE, ...).
    ///
    /// DEPLOYING, SCALING, COOLDOWN, PENDING, UNDEPLOYING and the *_NETS states are on the
    /// way; FAILED_* states (and DONE when it is not the target) end the wait as
    /// [`WaitError::Failed`]; WARNING is on the way (a VM may come back). A service that
    /// disappears while waiting for DONE counts as DONE.
    ///
    /// # Errors
    /// [`WaitError::Failed`], [`WaitError::Timeout`], [`WaitError::Call`].
    pub async fn wait_for(
        &self,
        id: DocumentId,
        target: ServiceState,
        opts: &WaitOptions,
    ) -> std::result::Result<Option<Service>, WaitError> {
        self.wait_for_with_progress(id, target, opts, &mut |_| {})
            .await
    }

    /// As [`Services::wait_for`], calling `progress` after each poll. Returns `None` when
    /// the service was deleted (waiting for DONE).
    ///
    /// # Errors
    /// As [`Services::wait_for`].
    pub async fn wait_for_with_progress(
        &self,
        id: DocumentId,
        target: ServiceState,
        opts: &WaitOptions,
        progress: &mut (dyn FnMut(&WaitProgress<'_, Option<Service>>) + Send),
    ) -> std::result::Result<Option<Service>, WaitError> {
        crate::api::poll_wait(
            format!("service {id}"),
            target.to_string(),
            opts,
            || async move {
                match self.show(id).await {
                    Ok(s) => Ok(Some(s)),
                    Err(e) if e.is_not_found() && target == ServiceState::Done => Ok(None),
                    Err(e) => Err(e),
                }
            },
            |s: &Option<Service>| match s {
                None => (
                    crate::api::WaitStep::Reached,
                    ObservedState::Service(ServiceState::Done),
                ),
                Some(s) => {
                    let st = s.body().state;
                    (service_step(target, st), ObservedState::Service(st))
                }
            },
            progress,
        )
        .await
    }
}

/// Where a service in `state` is relative to `target`.
pub(crate) fn service_step(target: ServiceState, state: ServiceState) -> crate::api::WaitStep {
    use crate::api::WaitStep;
    if state == target {
        return WaitStep::Reached;
    }
    match state {
        ServiceState::FailedDeploying
        | ServiceState::FailedScaling
        | ServiceState::FailedUndeploying
        | ServiceState::FailedDeployingNets
        | ServiceState::FailedUndeployingNets
        | ServiceState::Done => WaitStep::Failed,
        _ => WaitStep::OnTheWay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_documents_become_typed_errors() {
        let resp = HttpResponse::new(400, r#"{"error":{"message":"Role 'x' not found"}}"#);
        let e = status_error("POST /service/1/scale", &resp);
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            e.service().map(ServiceError::message),
            Some("Role 'x' not found")
        );
        assert!(e.to_string().contains("Role 'x' not found"), "{e}");
        let e = status_error("GET /service/9", &HttpResponse::new(404, "plain text"));
        assert!(e.is_not_found());
        assert!(e.to_string().contains("plain text"));
        assert!(check_octet("640").is_ok());
        assert!(check_octet("64").is_err() && check_octet("680").is_err());
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        use crate::api::WaitStep;
        assert_eq!(
            service_step(ServiceState::Running, ServiceState::Deploying),
            WaitStep::OnTheWay
        );
        assert_eq!(
            service_step(ServiceState::Running, ServiceState::Cooldown),
            WaitStep::OnTheWay
        );
        assert_eq!(
            service_step(ServiceState::Running, ServiceState::FailedDeploying),
            WaitStep::Failed
        );
        assert_eq!(
            service_step(ServiceState::Done, ServiceState::Done),
            WaitStep::Reached
        );
    }
}
