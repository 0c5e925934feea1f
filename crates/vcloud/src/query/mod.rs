//! The vCD query service (`GET api/query`): typed queries with fields, FIQL filters,
//! sorting and paging, streamed page by page.
//!
//! A [`Query`] describes what to ask; [`Query::stream`] yields every record, following
//! the server's `nextPage` links, and [`Query::execute`] gives vcloudair's result shape
//! ([`QueryResults`]: records keyed by the lower-cased trailing UUID of their `href`,
//! with the requested fields, and [`find_by_name`](QueryResults::find_by_name)). The
//! default page size is 128 (the server's silent default of 25 is never relied on).
//!
//! ```
//! use std::sync::Arc;
//! use futures::TryStreamExt;
//! use nebulair_core::{HttpResponse, MockTransport};
//! use nebulair_vcloud::query::{Filter, Query, QueryType, VAppRecord};
//! use nebulair_vcloud::{OrgInfo, VcdClient};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! let mock = Arc::new(MockTransport::new());
//! mock.push_response(HttpResponse::new(200, r#"<QueryResultRecords xmlns="http://www.vmware.com/vcloud/v1.5" page="1" pageSize="128" total="1">
//!   <VAppRecord name="web-tier" status="POWERED_ON" href="https://vcd.example.test/api/vApp/vapp-0a1b2c3d-1111-4e5f-8a9b-000000000001"/>
//! </QueryResultRecords>"#));
//! let client = VcdClient::new(OrgInfo::new("https://vcd.example.test/", "tok", "org")?, mock.clone());
//!
//! let query = Query::new(QueryType::VApp)
//!     .fields(["name", "status"])
//!     .filter(Filter::eq("name", "web*"))
//!     .sort_asc("name");
//! let vapps: Vec<VAppRecord> = query.stream_typed(&client).try_collect().await?;
//! assert_eq!(vapps[0].status.as_deref(), Some("POWERED_ON"));
//! let url = &mock.requests()[0].url;
//! assert!(url.query().unwrap_or("").contains("pageSize=128"));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```

mod filter;
mod records;

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use futures::{Stream, TryStreamExt};

use nebulair_core::{Error, Result};

use crate::client::{ApiRequest, VcdClient};
use crate::model::Reference;
use crate::model::xml::XmlElement;

pub use filter::{Filter, FilterOp};
pub use records::{
    EdgeGatewayRecord, OrgVdcRecord, QueryRecord, TypedRecord, VAppRecord, VAppTemplateRecord,
    VmRecord,
};

/// The page size used unless set: the largest the server accepts.
pub const DEFAULT_PAGE_SIZE: u32 = 128;

/// How many pages a query may follow before it is considered a server loop.
const MAX_PAGES: usize = 100_000;

/// The type of a query (`type=` parameter).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryType {
    /// `vm` (`VMRecord`).
    Vm,
    /// `edgeGateway` (`EdgeGatewayRecord`).
    EdgeGateway,
    /// `vApp` (`VAppRecord`).
    VApp,
    /// `vAppTemplate` (`VAppTemplateRecord`).
    VAppTemplate,
    /// `orgVdc` (`OrgVdcRecord`).
    OrgVdc,
    /// Any other query type, as the server names it (e.g. `adminVM`, `catalog`).
    Other(String),
}

impl QueryType {
    /// The `type=` value.
    pub fn as_str(&self) -> &str {
        match self {
            QueryType::Vm => "vm",
            QueryType::EdgeGateway => "edgeGateway",
            QueryType::VApp => "vApp",
            QueryType::VAppTemplate => "vAppTemplate",
            QueryType::OrgVdc => "orgVdc",
            QueryType::Other(s) => s,
        }
    }
}

impl fmt::Display for QueryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for QueryType {
    fn from(s: &str) -> Self {
        match s {
            "vm" => QueryType::Vm,
            "edgeGateway" => QueryType::EdgeGateway,
            "vApp" => QueryType::VApp,
            "vAppTemplate" => QueryType::VAppTemplate,
            "orgVdc" => QueryType::OrgVdc,
            other => QueryType::Other(other.to_owned()),
        }
    }
}

/// Sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sort {
    Asc(String),
    Desc(String),
}

/// A query description. Cheap to clone; run it with [`stream`](Self::stream),
/// [`pages`](Self::pages) or [`execute`](Self::execute).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    query_type: QueryType,
    fields: Vec<String>,
    filter: Option<Filter>,
    sort: Option<Sort>,
    page_size: u32,
    format: String,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueryPage {
    /// `page` (1-based).
    pub page: Option<u32>,
    /// `pageSize`.
    pub page_size: Option<u32>,
    /// `total`: the number of records over all pages.
    pub total: Option<u64>,
    /// The records on this page.
    pub records: Vec<QueryRecord>,
    /// The `nextPage` link, if there is one.
    pub next_page: Option<String>,
    /// Every `Link` (firstPage, previousPage, nextPage, lastPage, alternate).
    pub links: Vec<Reference>,
}

impl QueryPage {
    /// Decodes a `QueryResultRecords` (or `QueryResultReferences`) document.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for another document
    /// or an invalid `page`/`pageSize`/`total`.
    pub fn from_xml(text: &str) -> Result<QueryPage> {
        Self::from_element(&XmlElement::parse(text)?)
    }

    /// Decodes a query result element.
    ///
    /// # Errors
    /// As [`from_xml`](Self::from_xml).
    pub fn from_element(doc: &XmlElement) -> Result<QueryPage> {
        if !doc.name().starts_with("QueryResult") {
            return Err(Error::protocol(format!(
                "expected QueryResultRecords, got <{}>",
                doc.name()
            )));
        }
        fn num<T: std::str::FromStr>(doc: &XmlElement, n: &str) -> Result<Option<T>> {
            match doc.attr(n) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| {
                    Error::protocol(format!("QueryResultRecords {n}={v:?} is not a number"))
                }),
            }
        }
        let links = crate::model::links(doc);
        Ok(QueryPage {
            page: num(doc, "page")?,
            page_size: num(doc, "pageSize")?,
            total: num(doc, "total")?,
            records: doc
                .children()
                .iter()
                .filter(|c| c.name() != "Link")
                .map(QueryRecord::from_element)
                .collect(),
            next_page: links
                .iter()
                .find(|l| l.rel.as_deref() == Some("nextPage"))
                .map(|l| l.href.clone()),
            links,
        })
    }
}

impl Query {
    /// A query of `query_type` with page size 128 and `format=records`.
    pub fn new(query_type: impl Into<QueryType>) -> Self {
        Query {
            query_type: query_type.into(),
            fields: Vec::new(),
            filter: None,
            sort: None,
            page_size: DEFAULT_PAGE_SIZE,
            format: "records".to_owned(),
        }
    }

    /// The fields (attributes) to return. `name` is always included (vcloudair does
    /// the same: [`QueryResults::find_by_name`] needs it). Empty: every attribute.
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// A filter (a [`Filter`] or a FIQL string such as `name==web*;isDeleted==false`).
    pub fn filter(mut self, filter: impl Into<Filter>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Sorts ascending by `field` (replaces any sort).
    pub fn sort_asc(mut self, field: impl Into<String>) -> Self {
        self.sort = Some(Sort::Asc(field.into()));
        self
    }

    /// Sorts descending by `field` (replaces any sort).
    pub fn sort_desc(mut self, field: impl Into<String>) -> Self {
        self.sort = Some(Sort::Desc(field.into()));
        self
    }

    /// Records per page (default 128; clamped to at least 1).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// `idrecords` instead of `records` (records carry `id` URNs).
    pub fn id_records(mut self) -> Self {
        self.format = "idrecords".to_owned();
        self
    }

    /// The query type.
    pub fn query_type(&self) -> &QueryType {
        &self.query_type
    }

    fn effective_fields(&self) -> Vec<String> {
        let mut f = self.fields.clone();
        if !f.is_empty() && !f.iter().any(|x| x == "name") {
            f.insert(0, "name".to_owned());
        }
        f
    }

    /// The request for the first page (with the client's API version for the filter).
    fn first_request(&self, client: &VcdClient) -> ApiRequest {
        let mut req = ApiRequest::get("api/query")
            .query("type", self.query_type.as_str())
            .query("format", &self.format)
            .query("page", "1")
            .query("pageSize", self.page_size.to_string());
        let fields = self.effective_fields();
        if !fields.is_empty() {
            req = req.query("fields", fields.join(","));
        }
        if let Some(filter) = &self.filter {
            let (text, encoded) = filter.encode(client.org_info().version());
            req = req.query("filter", text);
            if encoded {
                req = req.query("filterEncoded", "true");
            }
        }
        match &self.sort {
            Some(Sort::Asc(f)) => req = req.query("sortAsc", f),
            Some(Sort::Desc(f)) => req = req.query("sortDesc", f),
            None => {}
        }
        req
    }

    /// Every page, in order, following `nextPage` links (absolute hrefs as the server
    /// gives them). A link seen twice ends the stream with a protocol error instead of
    /// looping.
    pub fn pages<'a>(
        &self,
        client: &'a VcdClient,
    ) -> impl Stream<Item = Result<QueryPage>> + Send + 'a {
        let first = self.first_request(client);
        struct St {
            next: Option<ApiRequest>,
            seen: HashSet<String>,
            count: usize,
        }
        let init = St {
            next: Some(first),
            seen: HashSet::new(),
            count: 0,
        };
        futures::stream::try_unfold(init, move |mut st| async move {
            let Some(req) = st.next.take() else {
                return Ok(None);
            };
            st.count += 1;
            if st.count > MAX_PAGES {
                return Err(Error::protocol(format!(
                    "query followed more than {MAX_PAGES} pages"
                )));
            }
            let page = QueryPage::from_element(&client.send(req).await?.xml()?)?;
            if let Some(next) = &page.next_page {
                if !st.seen.insert(next.clone()) {
                    return Err(Error::protocol(format!(
                        "query paging loops: nextPage {next} was already visited"
                    )));
                }
                st.next = Some(ApiRequest::get(next.clone()));
            }
            tracing::debug!(page = ?page.page, records = page.records.len(), total = ?page.total, "query page");
            Ok(Some((page, st)))
        })
    }

    /// Every record of every page.
    pub fn stream<'a>(
        &self,
        client: &'a VcdClient,
    ) -> impl Stream<Item = Result<QueryRecord>> + Send + 'a {
        self.pages(client)
            .map_ok(|p| futures::stream::iter(p.records.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Every record decoded as `R` (the query's type should be `R::QUERY_TYPE`).
    pub fn stream_typed<'a, R: TypedRecord + Send + 'a>(
        &self,
        client: &'a VcdClient,
    ) -> impl Stream<Item = Result<R>> + Send + 'a {
        self.stream(client)
            .and_then(|r| futures::future::ready(R::from_record(&r)))
    }

    /// Runs the query to the end and returns vcloudair's result map.
    ///
    /// # Errors
    /// Request errors; [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for a
    /// record whose `href` is shorter than a UUID.
    pub async fn execute(&self, client: &VcdClient) -> Result<QueryResults> {
        let fields = self.effective_fields();
        let fields = if fields.is_empty() {
            vec!["name".to_owned()]
        } else {
            fields
        };
        let mut records = BTreeMap::new();
        let mut stream = std::pin::pin!(self.stream(client));
        while let Some(rec) = stream.try_next().await? {
            let key = rec.uuid().ok_or_else(|| {
                Error::protocol(format!(
                    "{} record without a UUID href: {:?}",
                    rec.element(),
                    rec.href()
                ))
            })?;
            let values = fields
                .iter()
                .map(|f| (f.clone(), rec.get(f).map(str::to_owned)))
                .collect();
            records.insert(key, values);
        }
        Ok(QueryResults { records })
    }
}

impl From<QueryType> for Query {
    fn from(t: QueryType) -> Self {
        Query::new(t)
    }
}

/// vcloudair's query result: records keyed by the lower-cased trailing UUID of their
/// `href`, each with the requested fields (`None` when the record lacks one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryResults {
    records: BTreeMap<String, BTreeMap<String, Option<String>>>,
}

impl QueryResults {
    /// vcloudair's result shape from stored pages: every record of every page keyed by
    /// its UUID, with `fields` (or every attribute of the record when `fields` is empty).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when a record's `href` has no UUID.
    pub fn from_pages<'a, I: IntoIterator<Item = &'a QueryPage>>(
        pages: I,
        fields: &[&str],
    ) -> Result<QueryResults> {
        let mut records = BTreeMap::new();
        for page in pages {
            for rec in &page.records {
                let key = rec.uuid().ok_or_else(|| {
                    Error::protocol(format!(
                        "{} record without a UUID href: {:?}",
                        rec.element(),
                        rec.href()
                    ))
                })?;
                let values = if fields.is_empty() {
                    rec.attributes()
                        .iter()
                        .map(|(k, v)| (k.clone(), Some(v.clone())))
                        .collect()
                } else {
                    fields
                        .iter()
                        .map(|f| ((*f).to_owned(), rec.get(f).map(str::to_owned)))
                        .collect()
                };
                records.insert(key, values);
            }
        }
        Ok(QueryResults { records })
    }

    /// The map itself.
    pub fn records(&self) -> &BTreeMap<String, BTreeMap<String, Option<String>>> {
        &self.records
    }

    /// The fields of one record.
    pub fn get(&self, uuid: &str) -> Option<&BTreeMap<String, Option<String>>> {
        self.records.get(&uuid.to_lowercase())
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The UUIDs of every record whose name equals `name`, ignoring case (names are not
    /// unique), in key order.
    pub fn find_by_name(&self, name: &str) -> Vec<String> {
        let wanted = name.to_lowercase();
        self.records
            .iter()
            .filter(|(_, fields)| {
                fields
                    .get("name")
                    .and_then(|n| n.as_deref())
                    .is_some_and(|n| n.to_lowercase() == wanted)
            })
            .map(|(k, _)| k.clone())
            .collect()
    }
}

impl std::str::FromStr for QueryResults {
    type Err = Error;

    /// Decodes one stored `QueryResultRecords` page with every attribute of each record.
    fn from_str(xml: &str) -> Result<Self> {
        QueryResults::from_pages([&QueryPage::from_xml(xml)?], &[])
    }
}

impl std::str::FromStr for QueryPage {
    type Err = Error;

    /// As [`QueryPage::from_xml`].
    fn from_str(xml: &str) -> Result<Self> {
        QueryPage::from_xml(xml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::OrgInfo;
    use nebulair_core::{HttpResponse, MockTransport};
    use std::sync::Arc;

    fn sample(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
            .expect("sample")
    }

    fn client(mock: Arc<MockTransport>, version: &str) -> VcdClient {
        let info = OrgInfo::new("https://vcd.example.test/", "t", "o")
            .expect("org")
            .with_version(version.parse().expect("v"));
        VcdClient::new(info, mock)
    }

    #[test]
    fn decodes_query_samples() {
        let vm = QueryPage::from_xml(&sample("vcd_query_vm_records.xml")).expect("vm");
        assert!(!vm.records.is_empty());
        for r in &vm.records {
            let typed = VmRecord::from_record(r).expect("typed vm");
            assert!(typed.name.is_some());
            assert!(typed.uuid().is_some());
        }
        let first = VmRecord::from_record(&vm.records[0]).expect("vm");
        assert_eq!(first.memory_mb, Some(2048));
        assert_eq!(first.number_of_cpus, Some(2));
        assert_eq!(first.is_deployed, Some(true));
        let edge = QueryPage::from_xml(&sample("vcd_query_edgegateway_records.xml")).expect("edge");
        let e = EdgeGatewayRecord::from_record(&edge.records[0]).expect("edge");
        assert_eq!(e.gateway_status.as_deref(), Some("READY"));
        assert_eq!(e.number_of_org_networks, Some(2));
        let p1 = QueryPage::from_xml(&sample("vcd_query_vapp_records_page1.xml")).expect("p1");
        assert_eq!(
            (p1.page, p1.page_size, p1.total),
            (Some(1), Some(2), Some(3))
        );
        assert!(
            p1.next_page
                .as_deref()
                .is_some_and(|n| n.contains("page=2"))
        );
        let p2 = QueryPage::from_xml(&sample("vcd_query_vapp_records_page2.xml")).expect("p2");
        assert!(p2.next_page.is_none());
        let v = VAppRecord::from_record(&p2.records[0]).expect("vapp");
        assert_eq!(v.is_busy, Some(true));
        assert!(VmRecord::from_record(&p2.records[0]).is_err());
    }

    #[test]
    fn wrong_attribute_types_are_errors() {
        let p = QueryPage::from_xml(
            r#"<QueryResultRecords><VMRecord href="h" memoryMB="lots"/></QueryResultRecords>"#,
        )
        .expect("page");
        assert!(VmRecord::from_record(&p.records[0]).is_err());
        assert!(QueryPage::from_xml(r#"<QueryResultRecords total="x"/>"#).is_err());
        assert!(QueryPage::from_xml("<Org/>").is_err());
    }

    #[tokio::test]
    async fn pages_follow_next_links_and_results_map() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(
            200,
            sample("vcd_query_vapp_records_page1.xml"),
        ));
        mock.push_response(HttpResponse::new(
            200,
            sample("vcd_query_vapp_records_page2.xml"),
        ));
        let c = client(mock.clone(), "32.0");
        let q = Query::new(QueryType::VApp)
            .fields(["status"])
            .filter(Filter::eq("name", "*tier"))
            .sort_desc("name")
            .page_size(2);
        let res = q.execute(&c).await.expect("results");
        assert_eq!(res.len(), 3);
        let mut hits = res.find_by_name("WEB-TIER");
        hits.sort();
        assert_eq!(
            hits,
            vec![
                "0a1b2c3d-1111-4e5f-8a9b-000000000001".to_owned(),
                "0a1b2c3d-3333-4e5f-8a9b-000000000003".to_owned()
            ]
        );
        let rec = res
            .get("0A1B2C3D-3333-4E5F-8A9B-000000000003")
            .expect("upper-case key");
        assert_eq!(rec.get("status"), Some(&Some("MIXED".to_owned())));
        let reqs = mock.requests();
        let q1: BTreeMap<String, String> = reqs[0].url.query_pairs().into_owned().collect();
        assert_eq!(q1["type"], "vApp");
        assert_eq!(q1["pageSize"], "2");
        assert_eq!(q1["fields"], "name,status");
        assert_eq!(q1["filter"], "name==*tier");
        assert_eq!(q1["filterEncoded"], "true");
        assert_eq!(q1["sortDesc"], "name");
        assert_eq!(
            reqs[1].url.as_str(),
            "https://vcd.example.test/api/query?type=vApp&page=2&pageSize=2&format=records"
        );
    }

    #[tokio::test]
    async fn paging_loop_is_an_error() {
        let mock = Arc::new(MockTransport::with_handler(|_| {
            Ok(HttpResponse::new(
                200,
                r#"<QueryResultRecords><Link rel="nextPage" href="https://vcd.example.test/api/query?page=2"/></QueryResultRecords>"#,
            ))
        }));
        let c = client(mock, "36.0");
        let err = Query::new("adminVM")
            .stream(&c)
            .try_collect::<Vec<_>>()
            .await
            .expect_err("loop");
        assert!(err.to_string().contains("loops"));
    }

    proptest::proptest! {
        #[test]
        fn garbage_pages_never_panic(s in ".{0,300}") {
            let _ = QueryPage::from_xml(&s);
        }
    }
}
