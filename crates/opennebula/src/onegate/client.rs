//! The OneGate HTTP client.

use std::fmt;
use std::sync::Arc;

use http::Method;
use nebulair_core::{
    Error, ErrorKind, ExposeSecret, HttpConfig, HttpRequest, HttpResponse, HttpTransport,
    ReqwestTransport, Result, SecretString, ServiceError,
};
use serde::de::DeserializeOwned;
use url::Url;

use super::attrs::{VmAction, VmAttributes, check_key};
use super::context::{ContextSources, ExplicitContext, OneGateContext};
use super::model::{
    OneGateRoot, OneGateService, OneGateVm, OneGateVnet, OneGateVrouter, ServiceEnvelope,
    VmEnvelope, VnetEnvelope, VrouterEnvelope,
};
use crate::ids::{VmId, VnetId};

/// The header carrying the token (the contents of `token.txt`).
pub const TOKEN_HEADER: &str = "X-ONEGATE-TOKEN";
/// The header carrying the VM id.
pub const VMID_HEADER: &str = "X-ONEGATE-VMID";
/// The provider name in [`ServiceError`]s of this client.
pub const PROVIDER: &str = "onegate";

/// Longest server message kept in an error (a proxy may answer with a whole HTML page).
const MAX_MESSAGE: usize = 2048;

/// A client of the OneGate server, for code running inside an OpenNebula VM.
///
/// Build one with [`OneGateClient::from_context`] (finds everything the way a VM
/// should) or [`OneGateClient::builder`]. Every call sends `X-ONEGATE-TOKEN` and
/// `X-ONEGATE-VMID`; TLS certificates are verified unless the [`HttpConfig`] says
/// otherwise. Cloning is cheap and clones share the connection pool.
#[derive(Clone)]
pub struct OneGateClient {
    inner: Arc<Inner>,
}

struct Inner {
    context: OneGateContext,
    base: String,
    transport: Arc<dyn HttpTransport>,
}

impl fmt::Debug for OneGateClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneGateClient")
            .field("context", &self.inner.context)
            .field("transport", &self.inner.transport)
            .finish()
    }
}

/// Builds a [`OneGateClient`].
#[derive(Default)]
pub struct OneGateClientBuilder {
    explicit: ExplicitContext,
    http: Option<HttpConfig>,
    transport: Option<Arc<dyn HttpTransport>>,
    sources: Option<ContextSources>,
}

impl fmt::Debug for OneGateClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneGateClientBuilder")
            .field("endpoint", &self.explicit.endpoint)
            .field("vm_id", &self.explicit.vm_id)
            .field("token", &self.explicit.token.as_ref().map(|_| "[REDACTED]"))
            .field("http", &self.http)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl OneGateClientBuilder {
    /// The OneGate endpoint, e.g. `http://169.254.16.9:5030` (a path prefix is kept).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.explicit.endpoint = Some(endpoint.into());
        self
    }

    /// The id of the VM the code runs in.
    pub fn vm_id(mut self, id: impl Into<VmId>) -> Self {
        self.explicit.vm_id = Some(id.into());
        self
    }

    /// The token: the contents of `token.txt` (surrounding white space is removed).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.explicit.token = Some(SecretString::from(token.into()));
        self
    }

    /// HTTP and TLS settings (default: [`HttpConfig::default`], TLS verified).
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = Some(config);
        self
    }

    /// Sends requests through `transport` instead of a [`ReqwestTransport`] built from
    /// the HTTP settings (for tests, or to share a transport).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Where [`from_context`](Self::from_context) looks (default:
    /// [`ContextSources::system`]).
    pub fn sources(mut self, sources: ContextSources) -> Self {
        self.sources = Some(sources);
        self
    }

    /// Builds the client from the explicit values only.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the endpoint, VM id or token was not given or is
    /// malformed; [`ErrorKind::Tls`]/[`ErrorKind::InvalidInput`] when the HTTP settings
    /// cannot build a client.
    pub fn build(self) -> Result<OneGateClient> {
        // An empty environment and no mount points: only the explicit values count.
        let sources = ContextSources::new()
            .root("/nonexistent-nebulair-onegate-root")
            .mount_points(Vec::<std::path::PathBuf>::new());
        let ctx = resolve_explicit(&sources, self.explicit.clone())?;
        self.finish(ctx)
    }

    /// Builds the client, filling what was not given explicitly from the environment,
    /// `one_env` and the context CD (see [`ContextSources::resolve`]).
    ///
    /// # Errors
    /// As [`ContextSources::resolve`] (the message lists the sources tried), and as
    /// [`build`](Self::build) for the HTTP settings.
    pub fn from_context(self) -> Result<OneGateClient> {
        let sources = self.sources.clone().unwrap_or_default();
        let ctx = sources.resolve(self.explicit.clone())?;
        self.finish(ctx)
    }

    fn finish(self, context: OneGateContext) -> Result<OneGateClient> {
        let transport = match self.transport {
            Some(t) => t,
            None => ReqwestTransport::new(&self.http.unwrap_or_default())?.into_shared(),
        };
        let base = context.endpoint().as_str().trim_end_matches('/').to_owned();
        tracing::debug!(
            endpoint = %context.endpoint(),
            vm_id = %context.vm_id(),
            endpoint_source = %context.endpoint_source(),
            token_source = %context.token_source(),
            "OneGate client configured"
        );
        Ok(OneGateClient {
            inner: Arc::new(Inner {
                context,
                base,
                transport,
            }),
        })
    }
}

fn resolve_explicit(sources: &ContextSources, explicit: ExplicitContext) -> Result<OneGateContext> {
    let mut missing = Vec::new();
    if explicit.endpoint.is_none() {
        missing.push("endpoint");
    }
    if explicit.vm_id.is_none() {
        missing.push("VM id");
    }
    if explicit.token.is_none() {
        missing.push("token");
    }
    if !missing.is_empty() {
        return Err(Error::invalid_input(format!(
            "OneGate client: no {} given (use from_context() to read them from the VM context)",
            missing.join(", no ")
        )));
    }
    sources.resolve(explicit)
}

/// The `type` of a user-template PUT.
#[derive(Clone, Copy)]
enum UpdateType {
    Merge = 1,
    Delete = 2,
}

impl OneGateClient {
    /// A builder with nothing set.
    pub fn builder() -> OneGateClientBuilder {
        OneGateClientBuilder::default()
    }

    /// A client configured from the VM context: environment, `one_env`, then the context
    /// CD (see [`ContextSources::resolve`]), with default HTTP settings.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when a value is missing everywhere (the message lists
    /// every source tried) or malformed.
    pub fn from_context() -> Result<Self> {
        Self::builder().from_context()
    }

    /// The endpoint, VM id and token in use, with where each came from.
    pub fn context(&self) -> &OneGateContext {
        &self.inner.context
    }

    /// The id of the VM this client speaks for.
    pub fn vm_id(&self) -> VmId {
        self.inner.context.vm_id()
    }

    /// `GET /`: the URLs of the VM and service documents.
    ///
    /// # Errors
    /// See [`OneGateClient::vm`].
    pub async fn root(&self) -> Result<OneGateRoot> {
        self.get_json("/", &[]).await
    }

    /// `GET /vm`: this VM (name, state, user template, NICs).
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`] for a wrong token or VM id (401),
    /// [`ErrorKind::NotFound`] (404), [`ErrorKind::Protocol`] for an answer that is not
    /// the expected JSON, and transport, timeout and TLS errors. Server errors carry a
    /// [`ServiceError`] (provider `onegate`, code = HTTP status, the server's text).
    pub async fn vm(&self) -> Result<OneGateVm> {
        let env: VmEnvelope = self.get_json("/vm", &[]).await?;
        Ok(env.vm)
    }

    /// `PUT /vm`: merges `attrs` into this VM's user template.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for attributes OneGate cannot store (before anything
    /// is sent); [`ErrorKind::Authorization`] for a restricted attribute (403, e.g.
    /// `SERVICE_ID`); [`ErrorKind::Server`] when oned refused the update (500); and as
    /// [`OneGateClient::vm`].
    pub async fn update_vm(&self, attrs: &VmAttributes) -> Result<()> {
        let data = attrs.encode()?;
        self.put_form("/vm".to_owned(), &data, UpdateType::Merge)
            .await
    }

    /// `PUT /vm` with `type=2`: removes `key` from this VM's user template.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid name; [`ErrorKind::Authorization`] for a
    /// restricted attribute (403); [`ErrorKind::Server`] when the attribute does not exist
    /// (500); and as [`OneGateClient::vm`].
    pub async fn delete_vm_attr(&self, key: &str) -> Result<()> {
        check_key(key)?;
        self.put_form("/vm".to_owned(), key, UpdateType::Delete)
            .await
    }

    /// `GET /vms/:id`: another VM of the same OneFlow service or virtual router (or this
    /// VM).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] (400) when this VM is in no service or router, or the
    /// other VM is not in the same one; and as [`OneGateClient::vm`].
    pub async fn vm_by_id(&self, id: VmId) -> Result<OneGateVm> {
        let env: VmEnvelope = self.get_json(&format!("/vms/{id}"), &[]).await?;
        Ok(env.vm)
    }

    /// `PUT /vms/:id`: merges `attrs` into the user template of a VM of the same service
    /// or router.
    ///
    /// # Errors
    /// As [`OneGateClient::update_vm`] and [`OneGateClient::vm_by_id`].
    pub async fn update_vm_by_id(&self, id: VmId, attrs: &VmAttributes) -> Result<()> {
        let data = attrs.encode()?;
        self.put_form(format!("/vms/{id}"), &data, UpdateType::Merge)
            .await
    }

    /// `PUT /vms/:id` with `type=2`: removes `key` from the user template of a VM of the
    /// same service or router.
    ///
    /// # Errors
    /// As [`OneGateClient::delete_vm_attr`] and [`OneGateClient::vm_by_id`].
    pub async fn delete_vm_attr_by_id(&self, id: VmId, key: &str) -> Result<()> {
        check_key(key)?;
        self.put_form(format!("/vms/{id}"), key, UpdateType::Delete)
            .await
    }

    /// `POST /vms/:id/action`: runs `action` on a VM (this one, or one of the same
    /// service or router), with optional `params` (e.g. `true` for a hard poweroff, the
    /// new name for `rename`). The server answers 204.
    ///
    /// # Errors
    /// [`ErrorKind::Authorization`] for a restricted action (403, `reboot` by default);
    /// [`ErrorKind::Server`] (500) for an action the server does not know or that oned
    /// refused (wrong state); [`ErrorKind::InvalidInput`] (400) for a VM outside this
    /// VM's service or router; and as [`OneGateClient::vm`]. Not retried automatically.
    pub async fn vm_action(
        &self,
        id: VmId,
        action: VmAction,
        params: Option<serde_json::Value>,
    ) -> Result<()> {
        let mut inner = serde_json::Map::new();
        inner.insert(
            "perform".into(),
            serde_json::Value::String(action.as_str().to_owned()),
        );
        if let Some(p) = params {
            inner.insert("params".into(), p);
        }
        let body = serde_json::json!({ "action": inner }).to_string();
        let path = format!("/vms/{id}/action");
        let req = self
            .request(Method::POST, &path, &[])?
            .body(body)
            .header("Content-Type", "application/json")?;
        self.send(req, &path).await.map(drop)
    }

    /// `GET /service`: the OneFlow service this VM belongs to. With `extended`, each node
    /// carries the whole VM document.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] (400 `Empty or invalid SERVICE_ID`) when the VM is in
    /// no service; [`ErrorKind::NotFound`] (404) when the service is gone; and as
    /// [`OneGateClient::vm`].
    pub async fn service(&self, extended: bool) -> Result<OneGateService> {
        let query: &[(&str, &str)] = if extended {
            &[("extended", "true")]
        } else {
            &[]
        };
        let env: ServiceEnvelope = self.get_json("/service", query).await?;
        Ok(env.service)
    }

    /// `PUT /service/role/:role`: asks OneFlow to scale `role` of this VM's service to
    /// `cardinality` VMs.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty role name, or (400) when the VM is in no
    /// service or OneFlow refused the change; and as [`OneGateClient::vm`].
    pub async fn scale_role(&self, role: &str, cardinality: u32) -> Result<()> {
        if role.trim().is_empty() {
            return Err(Error::invalid_input("OneGate scale: empty role name"));
        }
        let path = format!("/service/role/{}", encode_segment(role));
        let body = serde_json::json!({ "cardinality": cardinality }).to_string();
        let req = self
            .request(Method::PUT, &path, &[])?
            .body(body)
            .header("Content-Type", "application/json")?;
        self.send(req, &path).await.map(drop)
    }

    /// `GET /vrouter`: the virtual router this VM belongs to.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] (400 `Empty or invalid VROUTER_ID`) when the VM is in
    /// no virtual router; [`ErrorKind::NotFound`] (404); and as [`OneGateClient::vm`].
    pub async fn vrouter(&self) -> Result<OneGateVrouter> {
        let env: VrouterEnvelope = self.get_json("/vrouter", &[]).await?;
        Ok(env.vrouter)
    }

    /// `GET /vnet/:id`: a virtual network reachable from this VM's virtual router. With
    /// `extended`, each lease names the NIC holding it.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] (400) when this VM is not a virtual router VM or the
    /// network is not attached to its router; [`ErrorKind::NotFound`] (404); and as
    /// [`OneGateClient::vm`].
    pub async fn vnet(&self, id: VnetId, extended: bool) -> Result<OneGateVnet> {
        let query: &[(&str, &str)] = if extended {
            &[("extended", "true")]
        } else {
            &[]
        };
        let env: VnetEnvelope = self.get_json(&format!("/vnet/{id}"), query).await?;
        Ok(env.vnet)
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = Url::parse(&format!("{}{path}", self.inner.base)).map_err(|e| {
            Error::with_source(
                ErrorKind::InvalidInput,
                format!("invalid OneGate URL for {path}"),
                e,
            )
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn request(&self, method: Method, path: &str, query: &[(&str, &str)]) -> Result<HttpRequest> {
        let url = self.url(path, query)?;
        HttpRequest::new(method, url)
            .header("Accept", "application/json")?
            .header(VMID_HEADER, &self.inner.context.vm_id().to_string())?
            .secret_header(TOKEN_HEADER, self.inner.context.token().expose_secret())
            .map_err(|_| Error::invalid_input("the OneGate token is not a valid header value"))
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        let req = self.request(Method::GET, path, query)?;
        let resp = self.send(req, path).await?;
        serde_json::from_slice(&resp.body).map_err(|e| {
            Error::with_source(
                ErrorKind::Protocol,
                format!("OneGate GET {path}: the answer is not the expected JSON"),
                e,
            )
            .with_http_status(resp.status.as_u16())
        })
    }

    async fn put_form(&self, path: String, data: &str, kind: UpdateType) -> Result<()> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("data", data)
            .append_pair("type", &(kind as u8).to_string())
            .finish();
        let req = self
            .request(Method::PUT, &path, &[])?
            .body(body)
            .header("Content-Type", "application/x-www-form-urlencoded")?;
        self.send(req, &path).await.map(drop)
    }

    async fn send(&self, req: HttpRequest, path: &str) -> Result<HttpResponse> {
        let method = req.method.clone();
        let op = format!("{method} {path}");
        tracing::debug!(operation = %op, vm_id = %self.vm_id(), "OneGate request");
        let resp = self
            .inner
            .transport
            .send(req)
            .await
            .map_err(|e| e.context(format!("OneGate {op}")))?;
        if resp.is_success() {
            return Ok(resp);
        }
        Err(status_error(&op, self.vm_id(), &resp))
    }
}

/// Turns a non-2xx answer into an [`Error`] carrying the server's text.
pub(crate) fn status_error(op: &str, vm_id: VmId, resp: &HttpResponse) -> Error {
    let status = resp.status.as_u16();
    let kind = match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::Authorization,
        404 => ErrorKind::NotFound,
        409 | 423 => ErrorKind::Conflict,
        400 | 405 | 411 | 413 | 414 | 415 | 422 => ErrorKind::InvalidInput,
        _ => ErrorKind::Server,
    };
    let mut text = String::from_utf8_lossy(&resp.body).trim().to_owned();
    if text.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    let shown = if text.is_empty() {
        resp.status
            .canonical_reason()
            .unwrap_or("no message")
            .to_owned()
    } else {
        text.clone()
    };
    let hint = match status {
        401 => " (check the token and VM id: token.txt must belong to this VM)",
        _ => "",
    };
    Error::new(
        kind,
        format!("OneGate {op} failed with HTTP {status}: {shown}{hint}"),
    )
    .with_http_status(status)
    .with_service(
        ServiceError::new(PROVIDER, i64::from(status), text)
            .with_operation(op.to_owned())
            .with_resource_id(vm_id.to_string()),
    )
}

/// Percent-encodes one path segment.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nebulair_core::MockTransport;

    fn client(mock: &Arc<MockTransport>) -> OneGateClient {
        OneGateClient::builder()
            .endpoint("http://169.254.16.9:5030/")
            .vm_id(VmId::new(2007))
            .token("tok==")
            .transport(mock.clone())
            .build()
            .expect("client")
    }

    #[tokio::test]
    async fn sends_headers_and_parses_vm() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(
            200,
            r#"{"VM":{"NAME":"n","ID":"2007","STATE":"3","LCM_STATE":"3","USER_TEMPLATE":{},"TEMPLATE":{"NIC":[],"NIC_ALIAS":[]}}}"#,
        ));
        let vm = client(&mock).vm().await.expect("vm");
        assert_eq!(vm.id, VmId::new(2007));
        let req = &mock.requests()[0];
        assert_eq!(req.url.as_str(), "http://169.254.16.9:5030/vm");
        assert_eq!(req.header_str("x-onegate-token"), Some("tok=="));
        assert_eq!(req.header_str("x-onegate-vmid"), Some("2007"));
        assert!(!format!("{req:?}").contains("tok=="));
    }

    #[tokio::test]
    async fn update_is_form_encoded() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(200, ""));
        mock.push_response(HttpResponse::new(200, ""));
        let c = client(&mock);
        c.update_vm(&VmAttributes::new().set("ONEGATE_FORM", "form value"))
            .await
            .expect("update");
        c.delete_vm_attr("ONEGATE_FORM").await.expect("delete");
        let reqs = mock.requests();
        assert_eq!(reqs[0].method, Method::PUT);
        assert_eq!(
            reqs[0].header_str("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            reqs[0].body_str().expect("utf8"),
            // Byte for byte what the Ruby client sends (recording 003).
            "data=ONEGATE_FORM%3Dform+value&type=1"
        );
        assert_eq!(
            reqs[1].body_str().expect("utf8"),
            "data=ONEGATE_FORM&type=2"
        );
    }

    #[tokio::test]
    async fn action_scale_and_extended_requests() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(204, ""));
        mock.push_response(HttpResponse::new(200, ""));
        let c = client(&mock);
        c.vm_action(VmId::new(5), VmAction::Rename, Some("x".into()))
            .await
            .expect("action");
        c.scale_role("web tier", 3).await.expect("scale");
        let reqs = mock.requests();
        assert_eq!(reqs[0].url.path(), "/vms/5/action");
        assert!(!reqs[0].idempotent);
        let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).expect("json body");
        assert_eq!(
            body,
            serde_json::json!({"action": {"perform": "rename", "params": "x"}})
        );
        assert_eq!(reqs[1].url.path(), "/service/role/web%20tier");
        assert_eq!(reqs[1].body_str().expect("utf8"), r#"{"cardinality":3}"#);
        assert!(c.scale_role(" ", 1).await.is_err());
    }

    #[tokio::test]
    async fn errors_carry_kind_status_and_server_text() {
        let cases = [
            (401, "Not authorized", ErrorKind::Authentication),
            (
                403,
                "Attribute (SERVICE_ID) cannot be modified",
                ErrorKind::Authorization,
            ),
            (
                404,
                "Error getting virtual machine [9].",
                ErrorKind::NotFound,
            ),
            (400, "Empty or invalid SERVICE_ID", ErrorKind::InvalidInput),
            (500, "Internal server error", ErrorKind::Server),
            (502, "", ErrorKind::Server),
        ];
        for (status, text, kind) in cases {
            let mock = Arc::new(MockTransport::new());
            mock.push_response(HttpResponse::new(status, text));
            let err = client(&mock).vm().await.expect_err("error");
            assert_eq!(err.kind(), kind, "{status}");
            assert_eq!(err.http_status(), Some(status));
            let svc = err.service().expect("service error");
            assert_eq!(svc.provider(), "onegate");
            assert_eq!(svc.code(), i64::from(status));
            assert_eq!(svc.message(), text);
            assert_eq!(svc.operation(), Some("GET /vm"));
            assert!(!err.to_string().contains("tok=="));
        }
    }

    #[tokio::test]
    async fn malformed_json_is_protocol_error() {
        for body in [
            "",
            "{",
            "[]",
            r#"{"VM":{"ID":"abc"}}"#,
            r#"{"VM":{"NAME":"x"}}"#,
        ] {
            let mock = Arc::new(MockTransport::new());
            mock.push_response(HttpResponse::new(200, body));
            let err = client(&mock).vm().await.expect_err(body);
            assert_eq!(err.kind(), ErrorKind::Protocol, "{body}");
        }
    }

    #[tokio::test]
    async fn transport_errors_name_the_operation() {
        let mock = Arc::new(MockTransport::new());
        mock.push_error(Error::new(ErrorKind::Transport, "connection refused"));
        let err = client(&mock).service(true).await.expect_err("transport");
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert!(err.message().contains("GET /service"), "{err}");
        assert_eq!(mock.requests()[0].url.query(), Some("extended=true"));
    }

    #[test]
    fn build_requires_explicit_values() {
        let err = OneGateClient::builder()
            .endpoint("http://h:5030")
            .build()
            .expect_err("missing");
        assert!(err.message().contains("no VM id, no token"), "{err}");
        let err = OneGateClient::builder()
            .endpoint("not a url")
            .vm_id(VmId::new(1))
            .token("t")
            .build()
            .expect_err("bad url");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn from_context_mixes_explicit_and_injected_sources() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(200, ""));
        let env = std::collections::HashMap::from([
            (
                "ONEGATE_ENDPOINT".to_owned(),
                "http://10.1.1.1:5030".to_owned(),
            ),
            ("TOKENTXT".to_owned(), "env-token".to_owned()),
            ("VMID".to_owned(), "3".to_owned()),
        ]);
        let c = OneGateClient::builder()
            .vm_id(VmId::new(9))
            .sources(ContextSources::new().env_map(env).root("/nonexistent-root"))
            .transport(mock.clone())
            .from_context()
            .expect("client");
        assert_eq!(c.vm_id(), VmId::new(9));
        assert_eq!(
            c.context().token_source(),
            &super::super::ValueSource::Environment("TOKENTXT")
        );
        c.delete_vm_attr("X").await.expect("delete");
        let req = &mock.requests()[0];
        assert_eq!(req.url.as_str(), "http://10.1.1.1:5030/vm");
        assert_eq!(req.header_str("x-onegate-vmid"), Some("9"));
        assert_eq!(req.header_str("x-onegate-token"), Some("env-token"));
        assert!(!format!("{c:?}").contains("env-token"));
    }

    #[test]
    fn path_prefix_is_kept() {
        let mock = Arc::new(MockTransport::new());
        let c = OneGateClient::builder()
            .endpoint("https://gate.example/onegate/")
            .vm_id(VmId::new(1))
            .token("t")
            .transport(mock)
            .build()
            .expect("client");
        assert_eq!(
            c.url("/vm", &[]).expect("url").as_str(),
            "https://gate.example/onegate/vm"
        );
    }
}
