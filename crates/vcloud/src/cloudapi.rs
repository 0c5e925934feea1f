//! The cloudapi (vCD's OpenAPI, JSON under `/cloudapi/1.0.0/`) plumbing shared by its
//! users (NSX-T edge gateways today): paged lists, FIQL filters and sorting, and changes
//! that vCD runs as long-running operations.
//!
//! - **Paging**: a list answers one page, `{"resultTotal", "pageCount", "page",
//!   "pageSize", "values": [...]}`; [`CloudApi::list_all`] walks every page (vCD caps
//!   `pageSize` at 128) and stops with a typed error when the server's page count does not
//!   add up, instead of looping.
//! - **Filters**: the same [`Filter`] as the query service (FIQL: `name==web*;enabled==true`),
//!   sent with the cloudapi's escaping; [`ListParams::sort_asc`] / `sort_desc`.
//! - **Long-running operations**: a change answered `202 Accepted` carries a `Location`
//!   header naming a vCD Task (`/api/task/{id}`); [`CloudApi::change`] reads it and
//!   [`CloudApi::change_and_wait`] waits for it (a task ending in error is an error with
//!   the task's message). A change refused with `BUSY_ENTITY` (another operation runs on
//!   the same edge) is sent again with backoff, per the [`WorkloadOptions`](crate::workload::WorkloadOptions)
//!   of the [`Workloads`] it was built from.
//! - **Errors**: the cloudapi's JSON error (`minorErrorCode`, `message`) becomes a typed
//!   error as for the XML API ([`crate::error::error_from_response`]).
//!
//! ```
//! use nebulair_vcloud::cloudapi::{ListParams, Page};
//! use nebulair_vcloud::Filter;
//!
//! let page: Page<serde_json::Value> = serde_json::from_str(
//!     r#"{"resultTotal":3,"pageCount":2,"page":1,"pageSize":2,"associations":[],
//!         "values":[{"name":"a"},{"name":"b"}]}"#,
//! )?;
//! assert_eq!((page.result_total, page.page_count, page.values.len()), (3, 2, 2));
//!
//! let params = ListParams::new()
//!     .filter(Filter::eq("name", "edge-(dev)"))
//!     .sort_asc("name")
//!     .page_size(50);
//! assert_eq!(
//!     params.query_pairs(1),
//!     vec![
//!         ("page".to_owned(), "1".to_owned()),
//!         ("pageSize".to_owned(), "50".to_owned()),
//!         ("filter".to_owned(), r"name==edge-\(dev\)".to_owned()),
//!         ("sortAsc".to_owned(), "name".to_owned()),
//!     ]
//! );
//! # Ok::<(), serde_json::Error>(())
//! ```

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use nebulair_core::{Error, Result};

use crate::client::{Accept, ApiRequest, VcdResponse};
use crate::query::Filter;
use crate::task::Task;
use crate::workload::Workloads;

/// The cloudapi root every path here is relative to.
pub const ROOT: &str = "cloudapi/1.0.0";

/// The largest page the cloudapi serves.
pub const MAX_PAGE_SIZE: u32 = 128;

/// One page of a cloudapi list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Page<T> {
    /// How many items the whole list has.
    #[serde(default)]
    pub result_total: u64,
    /// How many pages the list has at this page size.
    #[serde(default)]
    pub page_count: u64,
    /// This page's number (from 1).
    #[serde(default)]
    pub page: u64,
    /// The page size.
    #[serde(default)]
    pub page_size: u64,
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub values: Vec<T>,
}

/// How a list is asked for: filter, sort order, page size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    filter: Option<Filter>,
    sort: Option<(String, bool)>,
    page_size: u32,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams {
            filter: None,
            sort: None,
            page_size: MAX_PAGE_SIZE,
        }
    }
}

impl ListParams {
    /// Everything, in the server's order, 128 to a page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only what matches this FIQL filter (an earlier filter is kept: both must match).
    pub fn filter(mut self, filter: impl Into<Filter>) -> Self {
        let f = filter.into();
        self.filter = Some(match self.filter.take() {
            Some(old) => old.and(f),
            None => f,
        });
        self
    }

    /// Sorts ascending by this field (`sortAsc`).
    pub fn sort_asc(mut self, field: impl Into<String>) -> Self {
        self.sort = Some((field.into(), true));
        self
    }

    /// Sorts descending by this field (`sortDesc`).
    pub fn sort_desc(mut self, field: impl Into<String>) -> Self {
        self.sort = Some((field.into(), false));
        self
    }

    /// Items per page: 1 to [`MAX_PAGE_SIZE`] (values outside are clamped).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The query parameters of page `page`.
    pub fn query_pairs(&self, page: u64) -> Vec<(String, String)> {
        let mut out = vec![
            ("page".to_owned(), page.to_string()),
            ("pageSize".to_owned(), self.page_size.to_string()),
        ];
        if let Some(f) = &self.filter {
            out.push(("filter".to_owned(), f.to_fiql()));
        }
        if let Some((field, asc)) = &self.sort {
            let key = if *asc { "sortAsc" } else { "sortDesc" };
            out.push((key.to_owned(), field.clone()));
        }
        out
    }
}

/// The cloudapi over a client with workload options (busy retry, task waits).
#[derive(Debug, Clone)]
pub struct CloudApi {
    ws: Workloads,
}

/// The largest number of pages [`CloudApi::list_all`] reads before it gives up.
const MAX_PAGES: u64 = 100_000;

impl CloudApi {
    /// The cloudapi of these workloads.
    pub fn new(ws: Workloads) -> Self {
        CloudApi { ws }
    }

    /// The workloads (client and options) underneath.
    pub fn workloads(&self) -> &Workloads {
        &self.ws
    }

    /// `path` under [`ROOT`] (a path already starting with `cloudapi/` or an absolute URL
    /// is kept).
    pub fn path(path: &str) -> String {
        let p = path.trim_start_matches('/');
        if p.starts_with("cloudapi/") || p.starts_with("http://") || p.starts_with("https://") {
            p.to_owned()
        } else {
            format!("{ROOT}/{p}")
        }
    }

    /// `GET` one JSON document.
    ///
    /// # Errors
    /// Request errors; [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when
    /// the body is not a `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.ws
            .client()
            .send(ApiRequest::get(Self::path(path)).accept(Accept::VcdJson))
            .await?
            .json()
    }

    /// One page (`page` from 1) of a list.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &ListParams,
        page: u64,
    ) -> Result<Page<T>> {
        let mut req = ApiRequest::get(Self::path(path)).accept(Accept::VcdJson);
        for (k, v) in params.query_pairs(page) {
            req = req.query(k, v);
        }
        self.ws.client().send(req).await?.json()
    }

    /// Every item of a list, page after page.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol)
    /// when the server answers another page than asked, or more pages than
    /// `resultTotal / pageSize` allows.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &ListParams,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p: Page<T> = self.page(path, params, page).await?;
            if p.page != 0 && p.page != page {
                return Err(Error::protocol(format!(
                    "GET {path}: asked for page {page}, the server answered page {}",
                    p.page
                )));
            }
            let got = p.values.len();
            out.extend(p.values);
            if got == 0 || page >= p.page_count || page >= MAX_PAGES {
                if page >= MAX_PAGES && page < p.page_count {
                    return Err(Error::protocol(format!(
                        "GET {path}: the server reports {} pages; read {MAX_PAGES} and stopped",
                        p.page_count
                    )));
                }
                return Ok(out);
            }
            page += 1;
        }
    }

    /// Sends a change (`POST`, `PUT`, `DELETE` with an optional JSON body), retrying while
    /// vCD answers `BUSY_ENTITY`, and returns the Task a `202 Accepted` names in its
    /// `Location` header (`None` for an answer that is done already: 200, 201, 204).
    ///
    /// # Errors
    /// The request's error (the last `BUSY_ENTITY` once the retries are spent);
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for a 202 without a
    /// `Location`.
    pub async fn change<B: Serialize + ?Sized>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Option<Task>> {
        // A query string in `path` (`orgs/{id}?force=true`) becomes query parameters.
        let (bare, query) = path.split_once('?').unwrap_or((path, ""));
        let mut req = ApiRequest::new(method.clone(), Self::path(bare)).accept(Accept::VcdJson);
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            req = req.query(k.into_owned(), v.into_owned());
        }
        if let Some(b) = body {
            req = req.json(b)?;
        }
        let resp = self.ws.submit(req).await?;
        self.task_of(&method, path, &resp).await
    }

    /// As [`change`](Self::change), then waits for the task (per the workload options'
    /// poll interval, deadline and idle timeout) and returns it finished.
    ///
    /// # Errors
    /// As [`change`](Self::change); a task that ends in error or is cancelled is an error
    /// carrying the task's message.
    pub async fn change_and_wait<B: Serialize + ?Sized>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Option<Task>> {
        match self.change(method, path, body).await? {
            Some(task) => self.ws.waiter().wait(&task).await.map(Some),
            None => Ok(None),
        }
    }

    async fn task_of(
        &self,
        method: &http::Method,
        path: &str,
        resp: &VcdResponse,
    ) -> Result<Option<Task>> {
        if resp.status() != StatusCode::ACCEPTED {
            return Ok(None);
        }
        let Some(location) = resp.header("location").map(str::to_owned) else {
            // Some operations answer 202 with the Task in the body, as the XML API does.
            return match resp.task()? {
                Some(t) => Ok(Some(t)),
                None => Err(Error::protocol(format!(
                    "{method} {path}: 202 Accepted without a Location header or a Task"
                ))
                .with_http_status(202)),
            };
        };
        self.ws.client().get_task(&location).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_rooted_once() {
        assert_eq!(
            CloudApi::path("edgeGateways"),
            "cloudapi/1.0.0/edgeGateways"
        );
        assert_eq!(
            CloudApi::path("/cloudapi/1.0.0/edgeGateways/x"),
            "cloudapi/1.0.0/edgeGateways/x"
        );
        assert_eq!(
            CloudApi::path("https://h/cloudapi/1.0.0/x"),
            "https://h/cloudapi/1.0.0/x"
        );
    }

    #[test]
    fn page_sizes_are_clamped_and_filters_combine() {
        let p = ListParams::new().page_size(0);
        assert_eq!(p.query_pairs(2)[1].1, "1");
        let p = ListParams::new().page_size(10_000);
        assert_eq!(p.query_pairs(1)[1].1, "128");
        let p = ListParams::new()
            .filter(Filter::eq("a", "1"))
            .filter(Filter::eq("b", "x,y"))
            .sort_desc("name");
        let pairs = p.query_pairs(1);
        assert_eq!(pairs[2], ("filter".to_owned(), r"a==1;b==x\,y".to_owned()));
        assert_eq!(pairs[3], ("sortDesc".to_owned(), "name".to_owned()));
    }

    #[test]
    fn a_page_without_values_decodes_empty() {
        let p: Page<serde_json::Value> =
            serde_json::from_str(r#"{"resultTotal":0,"pageCount":0,"page":1,"pageSize":25}"#)
                .expect("page");
        assert!(p.values.is_empty());
    }
}
