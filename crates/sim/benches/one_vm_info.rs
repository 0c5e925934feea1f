//! OpenNebula simulator throughput: `one.vm.info` calls per second over HTTP at
//! concurrency 1 and 32, through our `OneClient` (typed `vm(id).info()`, decoded into
//! `model::Vm`, and `info_raw()`) and through a raw reqwest XML-RPC client (keep-alive) for
//! the simulator's own cost; and `one.vmpool.info` over 10,000 VMs in-process (parse +
//! render + escape) versus over HTTP. `scripts/bench-pyone.py` (bench `one_pyone`) measures
//! PyONE on the same calls.
//!
//! Run: `cargo bench -p nebulair-sim --bench one_vm_info`.

use std::sync::OnceLock;

use divan::counter::ItemsCount;
use nebulair_opennebula::ids::VmId;
use nebulair_opennebula::{Credentials, OneClient};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

fn main() {
    divan::main();
}

struct Env {
    rt: tokio::runtime::Runtime,
    sim: OneSimHandle,
    client: reqwest::Client,
    one: OneClient,
    vm_id: i32,
}

fn call(method: &str, params: &str) -> String {
    format!(
        "<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params><param><value><string>oneadmin:opennebula</string></value></param>{params}</params></methodCall>"
    )
}

fn id_of(resp: &str) -> i32 {
    resp.split("<i4>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse().ok())
        .expect("an id in the response")
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt
            .block_on(OneSimulator::builder().keep_alive().start())
            .expect("simulator");
        // One running VM from the seed template, plus 10,000 held VMs for the pool.
        let vm_id = id_of(&sim.call_raw(
            call(
                "one.template.instantiate",
                "<param><value><i4>0</i4></value></param><param><value><string>bench</string></value></param>",
            )
            .as_bytes(),
        ));
        for i in 0..10_000 {
            let body = call(
                "one.vm.allocate",
                &format!("<param><value><string>NAME = \"perf-{i}\"\nCPU = \"0.1\"\nVCPU = \"1\"\nMEMORY = \"64\"\nDISK = [ SIZE = \"1024\", TYPE = \"fs\" ]\nLABELS = \"bench\"</string></value></param><param><value><boolean>1</boolean></value></param>"),
            );
            id_of(&sim.call_raw(body.as_bytes()));
        }
        sim.run_scheduler();
        nebulair_core::config::ensure_crypto_provider();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()
            .expect("client");
        let one = OneClient::builder()
            .endpoint(sim.url().to_owned())
            .credentials(Credentials::password("oneadmin", "opennebula"))
            .build()
            .expect("OneClient");
        Env {
            rt,
            sim,
            client,
            one,
            vm_id,
        }
    })
}

async fn post(e: &Env, body: String) -> usize {
    let r = e
        .client
        .post(e.sim.url())
        .header("Content-Type", "text/xml")
        .body(body)
        .send()
        .await
        .expect("send");
    let text = r.text().await.expect("body");
    assert!(text.contains("<boolean>1</boolean>"), "{text}");
    text.len()
}

/// One typed `one.vm.info` through `OneClient`, checked.
async fn one_info(e: &Env) -> usize {
    let vm = e.one.vm(VmId::new(e.vm_id)).info().await.expect("vm info");
    assert_eq!(vm.id.get(), e.vm_id);
    vm.template.len()
}

#[divan::bench]
fn vm_info_oneclient_concurrency_1(b: divan::Bencher<'_, '_>) {
    let e = env();
    b.counter(ItemsCount::new(1usize))
        .bench(|| e.rt.block_on(one_info(e)));
}

#[divan::bench]
fn vm_info_oneclient_concurrency_32(b: divan::Bencher<'_, '_>) {
    let e = env();
    b.counter(ItemsCount::new(32usize)).bench(|| {
        e.rt.block_on(async {
            let futs = (0..32).map(|_| one_info(e));
            futures::future::join_all(futs).await
        })
    });
}

#[divan::bench]
fn vm_info_oneclient_raw_concurrency_1(b: divan::Bencher<'_, '_>) {
    let e = env();
    b.counter(ItemsCount::new(1usize)).bench(|| {
        e.rt.block_on(async {
            let doc = e.one.vm(VmId::new(e.vm_id)).info_raw().await.expect("raw");
            doc.as_str().len()
        })
    });
}

#[divan::bench]
fn vm_info_oneclient_raw_concurrency_32(b: divan::Bencher<'_, '_>) {
    let e = env();
    b.counter(ItemsCount::new(32usize)).bench(|| {
        e.rt.block_on(async {
            let futs = (0..32).map(|_| async {
                let doc = e.one.vm(VmId::new(e.vm_id)).info_raw().await.expect("raw");
                doc.as_str().len()
            });
            futures::future::join_all(futs).await
        })
    });
}

#[divan::bench]
fn vm_info_http_concurrency_1(b: divan::Bencher<'_, '_>) {
    let e = env();
    let body = call(
        "one.vm.info",
        &format!("<param><value><i4>{}</i4></value></param>", e.vm_id),
    );
    b.counter(ItemsCount::new(1usize))
        .bench(|| e.rt.block_on(post(e, body.clone())));
}

#[divan::bench]
fn vm_info_http_concurrency_32(b: divan::Bencher<'_, '_>) {
    let e = env();
    let body = call(
        "one.vm.info",
        &format!("<param><value><i4>{}</i4></value></param>", e.vm_id),
    );
    b.counter(ItemsCount::new(32usize)).bench(|| {
        e.rt.block_on(async {
            let futs = (0..32).map(|_| post(e, body.clone()));
            futures::future::join_all(futs).await
        })
    });
}

#[divan::bench(sample_count = 20)]
fn vmpool_info_10k_in_process(b: divan::Bencher<'_, '_>) {
    let e = env();
    let body = call(
        "one.vmpool.info",
        "<param><value><i4>-2</i4></value></param><param><value><i4>-1</i4></value></param><param><value><i4>-1</i4></value></param><param><value><i4>-1</i4></value></param>",
    );
    b.bench(|| e.sim.call_raw(body.as_bytes()).len());
}

#[divan::bench(sample_count = 20)]
fn vmpool_info_10k_http(b: divan::Bencher<'_, '_>) {
    let e = env();
    let body = call(
        "one.vmpool.info",
        "<param><value><i4>-2</i4></value></param><param><value><i4>-1</i4></value></param><param><value><i4>-1</i4></value></param><param><value><i4>-1</i4></value></param>",
    );
    b.bench(|| e.rt.block_on(post(e, body.clone())));
}
