//! `one.vmpool.info` with 10,000 VMs (about 41.5 MB): (a) bare quick-xml event scan, the
//! floor; (b) typed decode into `VmPool`; (c) the full path from the XML-RPC response bytes.
//!
//! Run with `cargo bench -p nebulair-opennebula --bench model_vmpool`.

use std::sync::LazyLock;

use nebulair_opennebula::model::VmPool;
use quick_xml::Reader;
use quick_xml::events::Event;

mod common;

static DOC: LazyLock<String> = LazyLock::new(common::pool_xml);
static BODY: LazyLock<Vec<u8>> = LazyLock::new(|| common::envelope(&DOC));

fn main() {
    LazyLock::force(&DOC);
    LazyLock::force(&BODY);
    println!(
        "document: {} bytes, {} VMs; response body: {} bytes",
        DOC.len(),
        common::VMS,
        BODY.len()
    );
    divan::main();
}

/// (a) Every event of the document, nothing kept.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn a_quick_xml_scan() -> usize {
    let mut reader = Reader::from_str(&DOC);
    let mut events = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(_) => events += 1,
            Err(e) => panic!("scan failed: {e}"),
        }
    }
    events
}

/// (b) The document into `VmPool` (TEMPLATE/USER_TEMPLATE as `Template` trees).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn b_typed_decode(bencher: divan::Bencher<'_, '_>) {
    bencher.bench(|| {
        let pool: VmPool = DOC.parse().expect("pool decodes");
        assert_eq!(pool.vm.len(), common::VMS);
        pool
    });
}

/// (c) Response body bytes (owned, as the transport hands them over) into `VmPool`.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn c_full_path(bencher: divan::Bencher<'_, '_>) {
    bencher.with_inputs(|| BODY.clone()).bench_values(|body| {
        let pool = common::decode_envelope(body).expect("response decodes");
        assert_eq!(pool.vm.len(), common::VMS);
        pool
    });
}

/// (c') As (c), unescaping the document inside the body buffer (no second copy).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn c_full_path_in_place(bencher: divan::Bencher<'_, '_>) {
    bencher.with_inputs(|| BODY.clone()).bench_values(|body| {
        let pool = common::decode_envelope_in_place(body).expect("response decodes");
        assert_eq!(pool.vm.len(), common::VMS);
        pool
    });
}
