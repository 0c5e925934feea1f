//! `decode_probe calls [SECONDS]`: where the time of one `one.vm.info` through `OneClient`
//! goes, against `nebulair-sim`'s oned simulator (issue #18, item 4).
//!
//! Every part is timed on its own in this one process, each for about `SECONDS` (default
//! 1) after a warm-up, as the median of 10 batches (mean time of one call in a batch):
//!
//! * `encode`: `rpc::encode_call` of the request (what `OneClient` sends);
//! * `envelope`: `rpc::decode_one` of the simulator's response body (to the document);
//! * `model`: the document into `model::Vm`;
//! * `sim in-process`: the simulator handling the request body without HTTP
//!   (`OneSimHandle::call_raw`: parse, authorise, render, escape);
//! * `client, null transport`: the whole `client.vm(id).info()` (and `info_raw()`) with a
//!   transport that answers the canned response at once: our cost per call without the
//!   network and the simulator;
//! * `client over HTTP`: `client.vm(id).info()` (and `info_raw()`) against the simulator on
//!   loopback, at concurrency 1 and 32 (32 calls joined; the time of one call is the
//!   batch's time / 32).
//!
//! The client and the simulator share one Tokio runtime with 2 worker threads, as in
//! `cargo bench -p nebulair-sim --bench one_vm_info`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nebulair_core::transport::{HttpRequest, HttpResponse, HttpTransport};
use nebulair_opennebula::ids::VmId;
use nebulair_opennebula::model::Vm;
use nebulair_opennebula::rpc::{self, RpcValue};
use nebulair_opennebula::{Credentials, OneClient};
use nebulair_sim::one::OneSimulator;

/// Answers every request with the same body.
#[derive(Debug)]
struct Canned(bytes::Bytes);

#[async_trait]
impl HttpTransport for Canned {
    async fn send(&self, _request: HttpRequest) -> nebulair_core::Result<HttpResponse> {
        Ok(HttpResponse::new(200, self.0.clone()))
    }
}

fn call(method: &str, params: &str) -> String {
    format!(
        "<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params><param><value><string>oneadmin:opennebula</string></value></param>{params}</params></methodCall>"
    )
}

/// Median over 10 batches of the mean nanoseconds per call of `f`, run for about `secs`.
fn per_call(secs: f64, calls_per_run: usize, mut f: impl FnMut()) -> f64 {
    // Warm up and size the batches.
    let t = Instant::now();
    let mut n = 0usize;
    while t.elapsed() < Duration::from_millis(100) {
        f();
        n += 1;
    }
    let per_batch = ((n as f64 / 0.1) * secs / 10.0).max(1.0) as usize;
    let mut batches = Vec::with_capacity(10);
    for _ in 0..10 {
        let t = Instant::now();
        for _ in 0..per_batch {
            f();
        }
        batches.push(t.elapsed().as_nanos() as f64 / (per_batch * calls_per_run) as f64);
    }
    batches.sort_by(f64::total_cmp);
    (batches[4] + batches[5]) / 2.0
}

fn line(what: &str, ns: f64) {
    println!(
        "| {what} | {:.1} µs | {:.0} calls/s |",
        ns / 1000.0,
        1e9 / ns
    );
}

/// Runs the split and prints a Markdown table.
pub(crate) fn run(secs: f64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt
        .block_on(OneSimulator::builder().keep_alive().start())
        .expect("simulator");
    let resp = sim.call_raw(
        call(
            "one.template.instantiate",
            "<param><value><i4>0</i4></value></param><param><value><string>bench</string></value></param>",
        )
        .as_bytes(),
    );
    let vm_id: i32 = resp
        .split("<i4>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse().ok())
        .expect("an id in the response");
    sim.run_scheduler();
    let session = "oneadmin:opennebula";
    let params = [RpcValue::from(vm_id), RpcValue::from(false)];
    let request = rpc::encode_call("one.vm.info", session, &params).expect("encodes");
    let response = sim.call_raw(request.as_bytes());
    let doc = rpc::decode_string(response.as_bytes(), "one.vm.info").expect("a document");
    let vm: Vm = doc.parse().expect("a VM");
    assert_eq!(vm.id.get(), vm_id);
    if let Ok(path) = std::env::var("NEBULAIR_SAVE_VM_INFO") {
        std::fs::write(path, &response).expect("saving the response");
    }
    println!(
        "`one.vm.info` of a running VM: request {} bytes, response {} bytes, document {} bytes.\n",
        request.len(),
        response.len(),
        doc.len()
    );
    println!("| part of one call | time per call (median of 10 batches) | calls/s |");
    println!("|---|---|---|");
    line(
        "`encode`: `rpc::encode_call`",
        per_call(secs, 1, || {
            black_box(rpc::encode_call("one.vm.info", session, black_box(&params)).ok());
        }),
    );
    let body = response.as_bytes();
    line(
        "`envelope`: `rpc::decode_one` of the response",
        per_call(secs, 1, || {
            black_box(rpc::decode_one(black_box(body), "one.vm.info").ok());
        }),
    );
    line(
        "`model`: document into `model::Vm`",
        per_call(secs, 1, || {
            black_box(black_box(doc.as_str()).parse::<Vm>().ok());
        }),
    );
    line(
        "simulator in-process (`call_raw`: parse, authorise, render, escape)",
        per_call(secs, 1, || {
            black_box(sim.call_raw(black_box(request.as_bytes())));
        }),
    );
    let null = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .transport(Arc::new(Canned(bytes::Bytes::from(response.clone()))))
        .build()
        .expect("client");
    let id = VmId::new(vm_id);
    line(
        "`OneClient`, null transport: `vm(id).info()` (encode, request, envelope, model, async)",
        per_call(secs, 1, || {
            black_box(rt.block_on(null.vm(id).info()).ok());
        }),
    );
    line(
        "`OneClient`, null transport: `vm(id).info_raw()` (no model)",
        per_call(secs, 1, || {
            black_box(rt.block_on(null.vm(id).info_raw()).ok());
        }),
    );
    nebulair_core::config::ensure_crypto_provider();
    let one = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("client");
    line(
        "`OneClient` over HTTP, concurrency 1: `vm(id).info()`",
        per_call(secs, 1, || {
            black_box(rt.block_on(one.vm(id).info()).expect("info"));
        }),
    );
    line(
        "`OneClient` over HTTP, concurrency 1: `vm(id).info_raw()`",
        per_call(secs, 1, || {
            black_box(rt.block_on(one.vm(id).info_raw()).expect("info"));
        }),
    );
    line(
        "`OneClient` over HTTP, concurrency 32: `vm(id).info()`",
        per_call(secs, 32, || {
            rt.block_on(async {
                let futs = (0..32).map(|_| async { one.vm(id).info().await });
                for r in futures::future::join_all(futs).await {
                    black_box(r.expect("info"));
                }
            });
        }),
    );
    line(
        "`OneClient` over HTTP, concurrency 32: `vm(id).info_raw()`",
        per_call(secs, 32, || {
            rt.block_on(async {
                let futs = (0..32).map(|_| async { one.vm(id).info_raw().await });
                for r in futures::future::join_all(futs).await {
                    black_box(r.expect("info"));
                }
            });
        }),
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\nload average at the end: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(", ")
    );
}
