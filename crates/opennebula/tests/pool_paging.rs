//! Pool streams against the simulator with page sizes 1, 2 and the pool size: every object
//! once, in the server's order, and no request ever sends -1 ("no limit") as the end id.
//!
//! A recording transport wraps the real one, so the test sees the exact `(offset, end)`
//! pairs sent and how many objects each answer held.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::TryStreamExt;
use nebulair_core::{HttpConfig, HttpRequest, HttpResponse, HttpTransport, ReqwestTransport};
use nebulair_opennebula::ids::TemplateId;
use nebulair_opennebula::pool::PoolFilter;
use nebulair_opennebula::{Credentials, OneClient, Template};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

#[derive(Debug)]
struct Recording {
    inner: ReqwestTransport,
    /// (request body, number of `<VMTEMPLATE>` elements in the answer)
    log: Mutex<Vec<(String, usize)>>,
}

#[async_trait]
impl HttpTransport for Recording {
    async fn send(&self, request: HttpRequest) -> nebulair_core::Result<HttpResponse> {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let resp = self.inner.send(request).await?;
        let text = String::from_utf8_lossy(&resp.body);
        // The pool document travels escaped inside the XML-RPC <string>.
        let n = text.matches("&lt;VMTEMPLATE&gt;").count() + text.matches("<VMTEMPLATE>").count();
        self.log.lock().expect("lock").push((body, n));
        Ok(resp)
    }
}

/// The `<i4>` values of a request body, in order.
fn ints(body: &str) -> Vec<i32> {
    body.split("<i4>")
        .skip(1)
        .filter_map(|s| s.split("</i4>").next())
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

async fn sim_with_templates(n: usize) -> (OneSimHandle, Vec<TemplateId>) {
    let sim = OneSimulator::builder().start().await.expect("simulator");
    let admin = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("client");
    let mut ids = Vec::new();
    for i in 0..n {
        let t = Template::parse(&format!("NAME = \"t{i}\"\nCPU = \"1\"\nMEMORY = \"64\""))
            .expect("template");
        ids.push(admin.templates().allocate(&t).await.expect("allocate"));
    }
    let pool = admin
        .templates()
        .info(&PoolFilter::all())
        .await
        .expect("pool");
    let all: Vec<TemplateId> = pool.vmtemplate.iter().map(|t| t.id).collect();
    for id in &ids {
        assert!(all.contains(id), "template {id} is in the pool");
    }
    (sim, all)
}

async fn stream_with(
    sim: &OneSimHandle,
    page_size: u32,
) -> (Vec<TemplateId>, Vec<(String, usize)>) {
    let rec = Arc::new(Recording {
        inner: ReqwestTransport::new(&HttpConfig::default()).expect("transport"),
        log: Mutex::new(Vec::new()),
    });
    let client = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .transport(rec.clone())
        .page_size(page_size)
        .build()
        .expect("client");
    let ids: Vec<TemplateId> = client
        .templates()
        .stream(PoolFilter::all())
        .map_ok(|t| t.id)
        .try_collect()
        .await
        .expect("stream");
    let log = rec.log.lock().expect("lock").clone();
    (ids, log)
}

#[tokio::test]
async fn page_sizes_one_two_and_the_pool_size_never_send_minus_one() {
    let (sim, all) = sim_with_templates(5).await;
    let n = all.len();
    assert!(n >= 5);
    for page_size in [1u32, 2, n as u32] {
        let (ids, log) = stream_with(&sim, page_size).await;
        assert_eq!(
            ids, all,
            "page size {page_size}: every template once, in order"
        );
        // oned cannot be asked for a page of one: 1 fetches pages of 2.
        let expected_page = page_size.max(2) as usize;
        for (body, n) in &log {
            assert!(body.contains("one.templatepool.info"), "{body}");
            let p = ints(body);
            assert_eq!(p.len(), 3, "{body}");
            assert_ne!(p[2], -1, "page size {page_size} sent end id -1: {body}");
            assert_eq!(p[2], -(expected_page as i32), "{body}");
            assert!(*n <= expected_page, "page size {page_size}: a page of {n}");
        }
        // Pages are full until the last one, which is short (possibly empty).
        let pages = n / expected_page + 1;
        assert_eq!(log.len(), pages, "page size {page_size}: {log:?}");
        let offsets: Vec<i32> = log.iter().map(|(b, _)| ints(b)[1]).collect();
        let want: Vec<i32> = (0..pages).map(|i| (i * expected_page) as i32).collect();
        assert_eq!(offsets, want, "page size {page_size}");
    }
}

#[tokio::test]
async fn page_size_one_on_a_pool_of_one_and_an_empty_pool() {
    // The seeded simulator holds one template (or none without seed data).
    for seed in [true, false] {
        let sim = OneSimulator::builder()
            .seed_data(seed)
            .start()
            .await
            .expect("simulator");
        let (ids, log) = stream_with(&sim, 1).await;
        assert!(ids.len() <= 1, "{ids:?}");
        assert_eq!(log.len(), 1, "a short first page ends the stream: {log:?}");
        assert_eq!(ints(&log[0].0)[2], -2);
        assert_eq!(log[0].1, ids.len());
    }
}
