//! vCloud Air subscription login ("vchs": VPC and Dedicated Cloud).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use nebulair_core::{
    Error, ErrorKind, ExposeSecret, HttpRequest, HttpTransport, Result, SecretString, Session,
};

use super::{OrgInfo, VCLOUD_AUTH_HEADER, basic_auth, header_token, send_checked};
use crate::client::{Reauthenticate, VcdClient};
use crate::model::xml::XmlElement;
use crate::model::{ApiVersion, Reference};

/// The default vchs host.
pub const DEFAULT_VCHS_BASE: &str = "https://vchs.vmware.com/";

/// The header the vchs token travels in.
const VCHS_TOKEN_HEADER: &str = "x-vchs-authorization";

/// One service of a vchs account (`Services/Service`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VcaService {
    /// `href` of the service (`/api/vchs/compute/{id}`).
    pub href: String,
    /// `serviceId`, e.g. `CI123456-789`.
    pub service_id: Option<String>,
    /// `serviceType`, e.g. `compute:vpc`.
    pub service_type: Option<String>,
    /// `region`.
    pub region: Option<String>,
}

/// A vDC of a vchs compute service (`Compute/VdcRef`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VdcRef {
    /// The vDC name as the server writes it.
    pub name: String,
    /// `href` of the VdcRef.
    pub href: String,
    /// `status`, e.g. `Active`.
    pub status: Option<String>,
    /// The `vcloudsession` link: POST here to get a vCD token for this vDC.
    pub vcloud_session_href: String,
    /// The service the vDC belongs to.
    pub service_id: Option<String>,
}

#[derive(Default)]
struct State {
    token: Option<SecretString>,
    logout_href: Option<String>,
    services: Vec<VcaService>,
    /// Keyed by lower-cased vDC name.
    vdcs: BTreeMap<String, VdcRef>,
    /// Keyed by lower-cased vDC (org) name.
    orgs: BTreeMap<String, OrgInfo>,
}

type Inner = super::AirInner<State>;

/// A vCloud Air subscription session (VPC / Dedicated Cloud): vcloudair's `VCASession`.
///
/// [`login_vca`](Self::login_vca) (also [`Session::login`]) posts the user's credentials
/// to `/api/vchs/sessions`, keeps the `x-vchs-authorization` token, reads the service
/// list and every compute service's vDCs. [`login`](Self::login) and
/// [`login_to_vdc`](Self::login_to_vdc) then get a vCD token for one vDC (names are
/// case-insensitive) and return its [`OrgInfo`].
///
/// ```
/// use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_PASSWORD, DEFAULT_USER};
/// use nebulair_vcloud::session::VcaSession;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let sim = VcloudSimulator::builder().start().await?;
/// let sess = VcaSession::builder(DEFAULT_USER, DEFAULT_PASSWORD)
///     .base_url(sim.base_url().as_str()) // default https://vchs.vmware.com/
///     .build()?;
/// let org_info = sess.login("vdc-prod").await?; // vDC names are case-insensitive
/// assert!(sess.vdc_names().contains(&"VDC-Dev".to_owned()));
/// let dev = sess.login_to_vdc("VDC-Dev").await?; // reuses the vCA token
/// assert_ne!(dev.org_uuid(), org_info.org_uuid());
/// let client = sess.client("VDC-Prod")?; // logs in again on 401
/// client.get_xml(&format!("api/vdc/{}", org_info.org_uuid())).await?;
/// # sim.shutdown().await;
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
/// ```
#[derive(Clone)]
pub struct VcaSession {
    inner: Arc<Inner>,
}

impl fmt::Debug for VcaSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.read();
        f.debug_struct("VcaSession")
            .field("base", &self.inner.base.as_str())
            .field("version", &self.inner.version.as_str())
            .field("username", &self.inner.username)
            .field("logged_in", &st.token.is_some())
            .field("vdcs", &st.vdcs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds a [`VcaSession`].
#[derive(Debug)]
pub struct VcaSessionBuilder {
    air: super::AirBuilder,
}

super::air_builder_setters!(VcaSessionBuilder, "5.6");

impl VcaSessionBuilder {
    /// Overrides the vchs base URL (default [`DEFAULT_VCHS_BASE`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.air.base = url.into();
        self
    }

    /// Builds the session (no request is sent yet).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid base URL; transport construction errors.
    pub fn build(self) -> Result<VcaSession> {
        Ok(VcaSession {
            inner: Arc::new(self.air.build()?),
        })
    }
}

impl VcaSession {
    /// A builder for a session with these credentials.
    pub fn builder(username: impl Into<String>, password: impl Into<String>) -> VcaSessionBuilder {
        VcaSessionBuilder {
            air: super::AirBuilder::new(
                username.into(),
                password.into(),
                DEFAULT_VCHS_BASE,
                ApiVersion::vca_default(),
            ),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn accept(&self) -> String {
        format!("application/xml;version={}", self.inner.version)
    }

    fn vchs_request(&self, req: HttpRequest, token: &SecretString) -> Result<HttpRequest> {
        req.header("accept", &self.accept())?
            .secret_header(VCHS_TOKEN_HEADER, token.expose_secret())
    }

    fn vchs_token(&self) -> Result<SecretString> {
        self.read().token.clone().ok_or_else(|| {
            Error::new(
                ErrorKind::Authentication,
                "not logged in to vCloud Air: call login_vca() first",
            )
        })
    }

    fn resolve(&self, href: &str) -> Result<Url> {
        self.inner.base.join(href).map_err(|e| {
            Error::with_source(ErrorKind::Protocol, format!("invalid href {href:?}"), e)
        })
    }

    /// Logs in to vCloud Air: gets the vchs token, the service list and the vDCs of
    /// every service. Replaces what an earlier login found.
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`] for rejected credentials; [`ErrorKind::Protocol`]
    /// when the answers lack the token header or the service-list link.
    pub async fn login_vca(&self) -> Result<()> {
        let _guard = self.inner.login_lock.lock().await;
        let url = self.resolve("api/vchs/sessions")?;
        let req = HttpRequest::post(url, "")
            .header("accept", &self.accept())?
            .secret_header(
                "authorization",
                &basic_auth(&self.inner.username, &self.inner.password),
            )?;
        let resp = send_checked(&*self.inner.login_transport, req).await?;
        let token = header_token(&resp, VCHS_TOKEN_HEADER, "vCloud Air login")?;
        let session = XmlElement::parse(resp.body_str()?)?;
        let links: Vec<Reference> = crate::model::links(&session);
        let service_list = links
            .iter()
            .find(|l| {
                l.media_type
                    .as_deref()
                    .is_some_and(|t| t.to_ascii_lowercase().contains("servicelist"))
            })
            .ok_or_else(|| Error::protocol("vCloud Air session has no service-list link"))?
            .href
            .clone();
        let logout_href = links
            .iter()
            .find(|l| l.rel.as_deref() == Some("remove"))
            .map(|l| l.href.clone());

        // Services and their vDCs.
        let url = self.resolve(&service_list)?;
        let resp = send_checked(
            &*self.inner.login_transport,
            self.vchs_request(HttpRequest::get(url), &token)?,
        )
        .await?;
        let services_doc = XmlElement::parse(resp.body_str()?)?;
        let mut services = Vec::new();
        let mut vdcs = BTreeMap::new();
        for svc in services_doc.children_named("Service") {
            let Some(href) = svc.attr("href") else {
                continue;
            };
            let service = VcaService {
                href: href.to_owned(),
                service_id: svc.attr("serviceId").map(str::to_owned),
                service_type: svc.attr("serviceType").map(str::to_owned),
                region: svc.attr("region").map(str::to_owned),
            };
            let url = self.resolve(href)?;
            let resp = send_checked(
                &*self.inner.login_transport,
                self.vchs_request(HttpRequest::get(url), &token)?,
            )
            .await?;
            let compute = XmlElement::parse(resp.body_str()?)?;
            for vdc in parse_compute(&compute, service.service_id.as_deref()) {
                vdcs.insert(vdc.name.to_lowercase(), vdc);
            }
            services.push(service);
        }
        tracing::debug!(
            services = services.len(),
            vdcs = vdcs.len(),
            "vCloud Air login"
        );
        let mut st = self.write();
        st.token = Some(token);
        st.logout_href = logout_href;
        st.services = services;
        st.vdcs = vdcs;
        Ok(())
    }

    /// The services found at login.
    pub fn services(&self) -> Vec<VcaService> {
        self.read().services.clone()
    }

    /// The vDC names found at login, as the server writes them.
    pub fn vdc_names(&self) -> Vec<String> {
        self.read().vdcs.values().map(|v| v.name.clone()).collect()
    }

    /// The vDC references, keyed by lower-cased name.
    pub fn vdc_refs(&self) -> BTreeMap<String, VdcRef> {
        self.read().vdcs.clone()
    }

    /// Whether a vDC of this name (any case) exists.
    pub fn has_vdc(&self, name: &str) -> bool {
        self.read().vdcs.contains_key(&name.to_lowercase())
    }

    /// Logs in to vCloud Air and then to the vDC `org` (vcloudair's `login(orgname)`).
    ///
    /// # Errors
    /// As [`login_vca`](Self::login_vca) and [`login_to_vdc`](Self::login_to_vdc).
    pub async fn login(&self, org: &str) -> Result<OrgInfo> {
        self.login_vca().await?;
        self.login_to_vdc(org).await
    }

    /// Gets a vCD token for the vDC `org` (any case) with the current vchs token and
    /// stores its [`OrgInfo`].
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when no vDC has that name (the message lists the known
    /// ones); [`ErrorKind::Authentication`] when not logged in or the vchs token
    /// expired; [`ErrorKind::Protocol`] for an unexpected `VCloudSession`.
    pub async fn login_to_vdc(&self, org: &str) -> Result<OrgInfo> {
        let key = org.to_lowercase();
        let token = self.vchs_token()?;
        let vdc = self.read().vdcs.get(&key).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "no vDC named {org:?}; known: {}",
                    self.vdc_names().join(", ")
                ),
            )
        })?;
        let url = self.resolve(&vdc.vcloud_session_href)?;
        let resp = send_checked(
            &*self.inner.login_transport,
            self.vchs_request(HttpRequest::post(url, ""), &token)?,
        )
        .await?;
        let info =
            parse_vcloud_session(&XmlElement::parse(resp.body_str()?)?, &self.inner.version)?;
        self.write().orgs.insert(key, info.clone());
        Ok(info)
    }

    /// The [`OrgInfo`] stored for `org` (any case) by an earlier login
    /// (vcloudair's `session[org]`).
    pub fn org_info(&self, org: &str) -> Option<OrgInfo> {
        self.read().orgs.get(&org.to_lowercase()).cloned()
    }

    /// A [`VcdClient`] for the logged-in vDC `org`; on a `401` it gets a new vCD token
    /// (logging in to vCloud Air again if that token expired too) and repeats the request.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when `org` has not been logged in to.
    pub fn client(&self, org: &str) -> Result<VcdClient> {
        let info = self.org_info(org).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("not logged in to vDC {org:?}: call login or login_to_vdc first"),
            )
        })?;
        Ok(VcdClient::with_reauth(
            info,
            self.inner.transport.clone(),
            Arc::new(VdcReauth {
                session: self.clone(),
                org: org.to_lowercase(),
            }),
        )
        .with_options(self.inner.options.clone()))
    }

    /// Logs out of vCloud Air (`DELETE` the session's remove link, or
    /// `/api/vchs/session`) and forgets every token.
    ///
    /// # Errors
    /// Transport errors; a `401` (token already dead) is not an error.
    pub async fn logout_vca(&self) -> Result<()> {
        let (token, href) = {
            let st = self.read();
            (st.token.clone(), st.logout_href.clone())
        };
        *self.write() = State::default();
        let Some(token) = token else { return Ok(()) };
        let url = self.resolve(href.as_deref().unwrap_or("api/vchs/session"))?;
        match send_checked(
            &*self.inner.login_transport,
            self.vchs_request(HttpRequest::delete(url), &token)?,
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_authentication() || e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[derive(Debug)]
struct VdcReauth {
    session: VcaSession,
    org: String,
}

#[async_trait]
impl Reauthenticate for VdcReauth {
    async fn reauthenticate(&self) -> Result<OrgInfo> {
        match self.session.login_to_vdc(&self.org).await {
            Err(e) if e.is_authentication() => self.session.login(&self.org).await,
            other => other,
        }
    }
}

#[async_trait]
impl Session for VcaSession {
    async fn login(&self) -> Result<()> {
        self.login_vca().await
    }

    async fn logout(&self) -> Result<()> {
        self.logout_vca().await
    }

    fn is_valid(&self) -> bool {
        self.read().token.is_some()
    }
}

/// The vDCs of a `Compute` document: each child with a first sub-element (a
/// `VdcRef` with its `vcloudsession` link); children without sub-elements are skipped.
fn parse_compute(compute: &XmlElement, service_id: Option<&str>) -> Vec<VdcRef> {
    compute
        .children()
        .iter()
        .filter_map(|child| {
            let first = child.children().first()?;
            let name = child.attr("name")?;
            let session_link = child
                .children_named("Link")
                .find(|l| {
                    l.attr("type")
                        .is_some_and(|t| t.to_ascii_lowercase().contains("vcloudsession"))
                })
                .unwrap_or(first);
            Some(VdcRef {
                name: name.to_owned(),
                href: child.attr("href").unwrap_or_default().to_owned(),
                status: child.attr("status").map(str::to_owned),
                vcloud_session_href: session_link.attr("href")?.to_owned(),
                service_id: service_id.map(str::to_owned),
            })
        })
        .collect()
}

/// `VCloudSession/VdcLink` → org info: vcdurl = href before `/api/vdc/`, org uuid = after.
fn parse_vcloud_session(doc: &XmlElement, version: &ApiVersion) -> Result<OrgInfo> {
    let link = doc
        .children_named("VdcLink")
        .next()
        .ok_or_else(|| Error::protocol("VCloudSession has no VdcLink"))?;
    let href = link
        .attr("href")
        .ok_or_else(|| Error::protocol("VdcLink has no href"))?;
    let token = link
        .attr("authorizationToken")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::protocol("VdcLink has no authorizationToken"))?;
    let header = link
        .attr("authorizationHeader")
        .unwrap_or(VCLOUD_AUTH_HEADER);
    let (base, uuid) = href.rsplit_once("/api/vdc/").ok_or_else(|| {
        Error::protocol(format!("VdcLink href {href:?} does not contain /api/vdc/"))
    })?;
    Ok(OrgInfo::new(base, token, uuid.trim_end_matches('/'))?
        .with_auth_header(header)
        .with_version(version.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nebulair_core::{HttpResponse, MockTransport};

    fn sample(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
            .expect("sample")
    }

    fn mock() -> Arc<MockTransport> {
        let m = MockTransport::with_handler(|req| {
            let path = req.url.path().to_owned();
            let resp = match (req.method.as_str(), path.as_str()) {
                ("POST", "/api/vchs/sessions") => {
                    if req.header_str("authorization")
                        != Some(&basic_auth("u", &SecretString::from("p".to_owned())))
                    {
                        return Ok(HttpResponse::new(401, ""));
                    }
                    HttpResponse::new(201, sample("vca_vchs_session.xml"))
                        .with_header(VCHS_TOKEN_HEADER, "vchs-tok")
                }
                ("GET", "/api/vchs/services") => {
                    HttpResponse::new(200, sample("vca_vchs_services.xml"))
                }
                ("GET", p) if p.starts_with("/api/vchs/compute/") => {
                    HttpResponse::new(200, sample("vca_vchs_compute.xml"))
                }
                ("POST", p) if p.ends_with("/vcloudsession") => {
                    HttpResponse::new(201, sample("vca_vchs_vcloudsession.xml"))
                }
                ("DELETE", "/api/vchs/session") => HttpResponse::new(204, ""),
                _ => HttpResponse::new(404, ""),
            };
            Ok(resp)
        });
        Arc::new(m)
    }

    #[tokio::test]
    async fn full_vchs_flow_against_samples() {
        let m = mock();
        let s = VcaSession::builder("u", "p")
            .base_url("http://localhost:4444")
            .transport(m.clone())
            .build()
            .expect("build");
        let info = s.login("vdc12345-6789").await.expect("login");
        assert_eq!(info.vcdurl().as_str(), "http://localhost:4444/");
        assert_eq!(info.org_uuid(), "00000000-0000-0000-0000-000000000000");
        assert_eq!(info.auth_header(), "x-vcloud-authorization");
        assert_eq!(
            info.token().expose_secret(),
            "01234567890123456789012345678901"
        );
        assert_eq!(info.version().as_str(), "5.6");
        assert_eq!(s.vdc_names(), vec!["VDC12345-6789".to_owned()]);
        assert!(s.has_vdc("Vdc12345-6789"));
        assert!(s.org_info("VDC12345-6789").is_some());
        assert_eq!(s.services()[0].service_type.as_deref(), Some("compute:vpc"));
        let reqs = m.requests();
        assert_eq!(
            reqs[0].header_str("accept"),
            Some("application/xml;version=5.6")
        );
        assert_eq!(reqs[1].header_str("x-vchs-authorization"), Some("vchs-tok"));
        assert!(Session::is_valid(&s));
        let err = s.login_to_vdc("nope").await.expect_err("unknown vdc");
        assert!(err.is_not_found());
        assert!(err.to_string().contains("VDC12345-6789"));
        assert!(!format!("{s:?}").contains("vchs-tok"));
        Session::logout(&s).await.expect("logout");
        assert!(!Session::is_valid(&s));
        assert!(
            s.login_to_vdc("vdc12345-6789")
                .await
                .expect_err("logged out")
                .is_authentication()
        );
    }

    #[tokio::test]
    async fn bad_password_is_authentication_error() {
        let s = VcaSession::builder("u", "wrong")
            .base_url("http://localhost:4444")
            .transport(mock())
            .build()
            .expect("build");
        assert!(s.login_vca().await.expect_err("401").is_authentication());
    }

    #[test]
    fn vcloudsession_href_forms() {
        let v = ApiVersion::vca_default();
        for (href, base) in [
            (
                "https://p1v17-vcd.vchs.vmware.com:443/api/vdc/2b5cbd2a-0000-4000-8000-000000000001",
                "https://p1v17-vcd.vchs.vmware.com/",
            ),
            (
                "http://127.0.0.1:8080/compute:443/api/vdc/2b5cbd2a-0000-4000-8000-000000000001",
                "http://127.0.0.1:8080/compute:443/",
            ),
        ] {
            let doc = XmlElement::new("VCloudSession").with_child(
                XmlElement::new("VdcLink")
                    .with_attr("href", href)
                    .with_attr("authorizationToken", "t")
                    .with_attr("authorizationHeader", "x-vcloud-authorization"),
            );
            let info = parse_vcloud_session(&doc, &v).expect("info");
            assert_eq!(info.vcdurl().as_str(), base);
            assert_eq!(info.org_uuid(), "2b5cbd2a-0000-4000-8000-000000000001");
        }
        let doc = XmlElement::new("VCloudSession")
            .with_child(XmlElement::new("VdcLink").with_attr("href", "https://h/x"));
        assert_eq!(
            parse_vcloud_session(&doc, &v).expect_err("bad").kind(),
            ErrorKind::Protocol
        );
    }
}
