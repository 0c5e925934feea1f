//! vCloud Air metrics (`hybridity/api/metrics`): per-VM performance samples for a
//! whole vDC or for chosen VMs, collected across every page.
//!
//! vcloudair's `Metrics` class, typed: [`Metrics::for_vdc`] or [`Metrics::for_vms`]
//! (ids with or without the `vm-` prefix), [`relative_interval`](Metrics::relative_interval)
//! with an optional [`end`](Metrics::relative_end), metric filters, and
//! [`collect`](Metrics::collect), which follows `next` tokens until the last page.
//! Results are `data[vm][timestamp][metric]`; a filtered metric that a sample lacks is
//! [`MetricValue::Absent`] (vcloudair wrote the string "Invalid Metric Name").
//!
//! ```
//! use std::sync::Arc;
//! use nebulair_core::{HttpResponse, MockTransport};
//! use nebulair_vcloud::metrics::{MetricValue, Metrics, Unit};
//! use nebulair_vcloud::{OrgInfo, VcdClient};
//!
//! # async fn run() -> nebulair_core::Result<()> {
//! let mock = Arc::new(MockTransport::new());
//! mock.push_response(HttpResponse::new(200, r#"{"next":"p2","rows":[{"vmId":"vm-1","timestamp":"t1","metrics":[{"name":"cpu.usage.average","value":3.5}]}]}"#));
//! mock.push_response(HttpResponse::new(200, r#"{"next":null,"rows":[{"vmId":"vm-1","timestamp":"t2","metrics":[]}]}"#));
//! let info = OrgInfo::new("https://vcd.example.test/", "tok", "cf6ea964-a67f-4ba1-b69e-3dd5d6cb0c89")?;
//! let client = VcdClient::new(info, mock.clone());
//!
//! let data = Metrics::for_vdc(&client)
//!     .relative_interval(Unit::Hour, 1)
//!     .set_metric_filters(["cpu.usage.average"])
//!     .collect()
//!     .await?;
//! assert_eq!(data.get("vm-1", "t1", "cpu.usage.average"), Some(&MetricValue::Number(3.5)));
//! assert_eq!(data.get("vm-1", "t2", "cpu.usage.average"), Some(&MetricValue::Absent));
//! assert!(mock.requests()[1].url.as_str().ends_with("?next=p2"));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("ok");
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use nebulair_core::{Error, ErrorKind, Result};

use crate::client::{Accept, ApiRequest, VcdClient};

/// The unit of a relative interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Unit {
    /// `HOUR`.
    Hour,
    /// `MINUTE`.
    Minute,
    /// `SECOND`.
    Second,
}

impl std::str::FromStr for Unit {
    type Err = Error;

    /// Parses `hour`/`minute`/`second` in any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "HOUR" => Ok(Unit::Hour),
            "MINUTE" => Ok(Unit::Minute),
            "SECOND" => Ok(Unit::Second),
            _ => Err(Error::invalid_input(format!(
                "metrics unit {s:?} must be HOUR, MINUTE or SECOND"
            ))),
        }
    }
}

/// `{interval, unit}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelativeTime {
    /// How many units back.
    pub interval: u32,
    /// The unit.
    pub unit: Unit,
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricsRequest {
    relative_start_time: RelativeTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    relative_end_time: Option<RelativeTime>,
}

/// One metric value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A number.
    Number(f64),
    /// Anything else the server sent (a string, `null`, an object), unchanged.
    Other(serde_json::Value),
    /// A filtered metric that this sample does not have.
    Absent,
}

impl MetricValue {
    /// The number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            MetricValue::Number(n) => Some(*n),
            _ => None,
        }
    }
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricValue::Number(n) => write!(f, "{n}"),
            MetricValue::Other(v) => write!(f, "{v}"),
            MetricValue::Absent => f.write_str("absent"),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    next: Option<serde_json::Value>,
    #[serde(default)]
    rows: Vec<Row>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    vm_id: String,
    timestamp: String,
    #[serde(default)]
    metrics: Vec<Sample>,
}

#[derive(Deserialize)]
struct Sample {
    name: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// Collected metrics: `data[vm][timestamp][metric]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricData {
    data: BTreeMap<String, BTreeMap<String, BTreeMap<String, MetricValue>>>,
    pages: usize,
}

impl MetricData {
    /// The whole map.
    pub fn data(&self) -> &BTreeMap<String, BTreeMap<String, BTreeMap<String, MetricValue>>> {
        &self.data
    }

    /// One value.
    pub fn get(&self, vm: &str, timestamp: &str, metric: &str) -> Option<&MetricValue> {
        self.data.get(vm)?.get(timestamp)?.get(metric)
    }

    /// The VM ids that have samples.
    pub fn vms(&self) -> impl Iterator<Item = &str> {
        self.data.keys().map(String::as_str)
    }

    /// The number of `(vm, timestamp)` samples.
    pub fn sample_count(&self) -> usize {
        self.data.values().map(BTreeMap::len).sum()
    }

    /// How many pages were read.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Decodes stored response pages (`{"rows": [...], "next": ...}`) into one collection,
    /// keeping only the metrics named in `filters` (every metric when empty), as
    /// [`Metrics::collect`] does with pages it downloads.
    ///
    /// ```
    /// use nebulair_vcloud::MetricData;
    /// let page = r#"{"rows":[{"vmId":"vm-1","timestamp":"t0","metrics":[{"name":"cpu.usage.average","value":3.5}]}],"next":null}"#;
    /// let data = MetricData::from_json_pages([page], &[])?;
    /// assert_eq!(data.get("vm-1", "t0", "cpu.usage.average").and_then(|v| v.as_f64()), Some(3.5));
    /// # Ok::<(), nebulair_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when a page is not JSON of that shape.
    pub fn from_json_pages<'a, I: IntoIterator<Item = &'a str>>(
        pages: I,
        filters: &[String],
    ) -> Result<Self> {
        let mut out = MetricData::default();
        for text in pages {
            let page: Page = serde_json::from_str(text).map_err(|e| {
                Error::with_source(ErrorKind::Protocol, "metrics page is not valid JSON", e)
            })?;
            out.pages += 1;
            store_rows(filters, page.rows, &mut out);
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Vdc(String),
    Vms(Vec<String>),
}

/// A metrics collection (vcloudair's `Metrics`).
#[derive(Debug, Clone)]
pub struct Metrics {
    client: VcdClient,
    target: Target,
    start: RelativeTime,
    end: Option<RelativeTime>,
    filters: Vec<String>,
}

impl Metrics {
    /// Metrics of every VM in the vDC whose id is the client's
    /// [`OrgInfo::org_uuid`](crate::OrgInfo::org_uuid) (a vCA VPC login gives the vDC id).
    pub fn for_vdc(client: &VcdClient) -> Self {
        let id = client.org_info().org_uuid().to_owned();
        Self::for_vdc_id(client, id)
    }

    /// Metrics of every VM in the vDC `vdc_id`.
    pub fn for_vdc_id(client: &VcdClient, vdc_id: impl Into<String>) -> Self {
        Self::new(client, Target::Vdc(vdc_id.into()))
    }

    /// Metrics of these VMs (ids with or without the `vm-` prefix; duplicates are
    /// asked for once).
    pub fn for_vms<I, S>(client: &VcdClient, vm_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seen = HashSet::new();
        let ids = vm_ids
            .into_iter()
            .map(|s| {
                let s = s.as_ref().trim();
                s.strip_prefix("vm-").unwrap_or(s).to_owned()
            })
            .filter(|s| seen.insert(s.to_lowercase()))
            .collect();
        Self::new(client, Target::Vms(ids))
    }

    fn new(client: &VcdClient, target: Target) -> Self {
        Metrics {
            client: client.clone(),
            target,
            start: RelativeTime {
                interval: 5,
                unit: Unit::Minute,
            },
            end: None,
            filters: Vec::new(),
        }
    }

    /// Starts `interval` units back (default 5 minutes).
    pub fn relative_interval(mut self, unit: Unit, interval: u32) -> Self {
        self.start = RelativeTime { interval, unit };
        self
    }

    /// Ends `interval` units back, in the start's unit (`relative_interval(Hour, 2)` +
    /// `relative_end(1)` = the hour before the last).
    pub fn relative_end(mut self, interval: u32) -> Self {
        self.end = Some(RelativeTime {
            interval,
            unit: self.start.unit,
        });
        self
    }

    /// Keeps only these metrics (replaces earlier filters).
    pub fn set_metric_filters<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.filters = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds metrics to the filter list.
    pub fn add_metric_filters<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for n in names {
            let n = n.into();
            if !self.filters.contains(&n) {
                self.filters.push(n);
            }
        }
        self
    }

    /// The current filters.
    pub fn metric_filters(&self) -> &[String] {
        &self.filters
    }

    /// The request body.
    fn body(&self) -> Result<MetricsRequest> {
        if let Some(end) = &self.end
            && end.interval >= self.start.interval
        {
            return Err(Error::invalid_input(format!(
                "metrics end ({} {:?} ago) must be after the start ({} {:?} ago)",
                end.interval, end.unit, self.start.interval, self.start.unit
            )));
        }
        Ok(MetricsRequest {
            relative_start_time: self.start,
            relative_end_time: self.end,
        })
    }

    /// Fetches every page for every target.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an end
    /// not after the start or an empty VM list; request errors;
    /// [`ErrorKind::Protocol`] for an unexpected
    /// page or a `next` token that repeats.
    pub async fn collect(&self) -> Result<MetricData> {
        let body = self.body()?;
        let paths: Vec<String> = match &self.target {
            Target::Vdc(id) => vec![format!("hybridity/api/metrics/vdc/{id}")],
            Target::Vms(ids) if ids.is_empty() => {
                return Err(Error::invalid_input(
                    "metrics for_vms needs at least one VM id",
                ));
            }
            Target::Vms(ids) => ids
                .iter()
                .map(|id| format!("hybridity/api/metrics/vApp/vm-{id}"))
                .collect(),
        };
        let mut out = MetricData::default();
        for path in paths {
            self.collect_path(&path, &body, &mut out).await?;
        }
        Ok(out)
    }

    async fn collect_path(
        &self,
        path: &str,
        body: &MetricsRequest,
        out: &mut MetricData,
    ) -> Result<()> {
        let mut next: Option<String> = None;
        let mut seen = HashSet::new();
        loop {
            let mut req = ApiRequest::post(path).accept(Accept::Json).json(body)?;
            // Reading metrics changes nothing: safe to repeat.
            req = req.idempotent(true);
            if let Some(token) = &next {
                req = req.query("next", token);
            }
            let page: Page = self.client.send(req).await?.json()?;
            out.pages += 1;
            self.store(page.rows, out);
            next = match page.next {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) if s.is_empty() => None,
                Some(serde_json::Value::String(s)) => Some(s),
                Some(other) => Some(other.to_string()),
            };
            match &next {
                None => return Ok(()),
                Some(t) if !seen.insert(t.clone()) => {
                    return Err(Error::protocol(format!(
                        "metrics paging loops: next token {t:?} repeated"
                    )));
                }
                Some(_) => {}
            }
        }
    }

    fn store(&self, rows: Vec<Row>, out: &mut MetricData) {
        store_rows(&self.filters, rows, out);
    }
}

fn store_rows(filters: &[String], rows: Vec<Row>, out: &mut MetricData) {
    {
        for row in rows {
            let mut values: BTreeMap<String, MetricValue> = BTreeMap::new();
            if filters.is_empty() {
                for s in row.metrics {
                    values.insert(s.name, to_value(s.value));
                }
            } else {
                let mut by_name: BTreeMap<String, serde_json::Value> =
                    row.metrics.into_iter().map(|s| (s.name, s.value)).collect();
                for f in filters {
                    let v = by_name.remove(f).map_or(MetricValue::Absent, to_value);
                    values.insert(f.clone(), v);
                }
            }
            out.data
                .entry(row.vm_id)
                .or_default()
                .entry(row.timestamp)
                .or_default()
                .extend(values);
        }
    }
}

fn to_value(v: serde_json::Value) -> MetricValue {
    match v.as_f64() {
        Some(n) => MetricValue::Number(n),
        None => MetricValue::Other(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::OrgInfo;
    use nebulair_core::{HttpResponse, MockTransport};
    use std::sync::Arc;

    fn client(mock: Arc<MockTransport>) -> VcdClient {
        VcdClient::new(
            OrgInfo::new("https://h.example/api/compute/", "t", "vdc-uuid").expect("org"),
            mock,
        )
    }

    #[test]
    fn request_body_matches_sample() {
        let mock = Arc::new(MockTransport::new());
        let m = Metrics::for_vdc(&client(mock)).relative_interval(Unit::Hour, 1);
        let body = serde_json::to_value(m.body().expect("body")).expect("json");
        let sample: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/metrics_request.json"))
                .expect("sample");
        assert_eq!(body, sample);
        let m = m.relative_interval(Unit::Hour, 2).relative_end(1);
        let body = serde_json::to_value(m.body().expect("body")).expect("json");
        assert_eq!(
            body["relativeEndTime"],
            serde_json::json!({"interval":1,"unit":"HOUR"})
        );
        assert!(m.relative_end(3).body().is_err());
        assert_eq!("minute".parse::<Unit>().expect("unit"), Unit::Minute);
        assert!("day".parse::<Unit>().is_err());
    }

    #[tokio::test]
    async fn response_sample_with_filters() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(
            200,
            include_str!("../tests/data/metrics_vdc_response.json"),
        ));
        let data = Metrics::for_vdc(&client(mock.clone()))
            .set_metric_filters(["cpu.ready.summation"])
            .add_metric_filters(["cpu.usage.average", "cpu.idle.summation"])
            .collect()
            .await
            .expect("collect");
        assert_eq!(data.vms().count(), 2);
        assert_eq!(data.sample_count(), 3);
        assert_eq!(
            data.get(
                "66666666-6666-6666-6666-666666666666",
                "2016-09-20T14:01:00Z",
                "cpu.ready.summation"
            ),
            Some(&MetricValue::Number(41.0))
        );
        assert_eq!(
            data.get(
                "77777777-7777-7777-7777-777777777777",
                "2016-09-20T14:01:00Z",
                "cpu.idle.summation"
            ),
            Some(&MetricValue::Absent)
        );
        assert_eq!(
            data.get(
                "66666666-6666-6666-6666-666666666666",
                "2016-09-20T14:01:00Z",
                "mem.usage.average"
            ),
            None
        );
        let req = &mock.requests()[0];
        assert_eq!(
            req.url.as_str(),
            "https://h.example/api/compute/hybridity/api/metrics/vdc/vdc-uuid"
        );
        assert_eq!(req.header_str("content-type"), Some("application/json"));
        assert_eq!(req.header_str("accept"), Some("application/json"));
    }

    #[tokio::test]
    async fn per_vm_paths_and_loop_guard() {
        let mock = Arc::new(MockTransport::new());
        mock.push_response(HttpResponse::new(200, r#"{"rows":[],"next":""}"#));
        mock.push_response(HttpResponse::new(200, r#"{"rows":[]}"#));
        Metrics::for_vms(&client(mock.clone()), ["vm-AAA", "bbb", "AAA"])
            .collect()
            .await
            .expect("ok");
        let urls: Vec<String> = mock
            .requests()
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect();
        assert_eq!(
            urls,
            vec![
                "/api/compute/hybridity/api/metrics/vApp/vm-AAA",
                "/api/compute/hybridity/api/metrics/vApp/vm-bbb"
            ]
        );
        let looping = Arc::new(MockTransport::with_handler(|_| {
            Ok(HttpResponse::new(200, r#"{"rows":[],"next":"same"}"#))
        }));
        let err = Metrics::for_vdc(&client(looping))
            .collect()
            .await
            .expect_err("loop");
        assert!(err.to_string().contains("repeated"));
        let empty: [&str; 0] = [];
        assert!(
            Metrics::for_vms(&client(mock), empty)
                .collect()
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn malformed_pages_are_protocol_errors() {
        for body in [
            r#"{"rows":[{"timestamp":"t"}]}"#,
            "not json",
            r#"{"rows":5}"#,
        ] {
            let mock = Arc::new(MockTransport::new());
            mock.push_response(HttpResponse::new(200, body));
            let err = Metrics::for_vdc(&client(mock))
                .collect()
                .await
                .expect_err(body);
            assert_eq!(err.kind(), nebulair_core::ErrorKind::Protocol);
        }
    }
}
