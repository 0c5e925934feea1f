//! One measurement per process, for `cargo xtask bench-decode` (the driver runs this
//! binary once per variant and round, interleaved, and aggregates the lines it prints).
//!
//! ```text
//! decode_probe <variant> <body-file>      measure one variant on a saved response body
//! decode_probe envelope <doc> <body>      write oned's XML-RPC response around a document
//! decode_probe profile <variant> <body> <n>  repeat one decode n times (for perf record)
//! decode_probe calls [seconds]            the per-call split of `one.vm.info` (common/calls.rs)
//! ```
//!
//! Variants (the input is read and prepared before the clock and the memory peak start):
//! * `memcpy`: copy the response body into a new buffer (the cost of touching the bytes);
//! * `scan`: every quick-xml (0.42) event of the document, nothing kept (the floor);
//!   `scan-checked`: the same with end-name checking on (the check our decoder makes);
//! * `typed`: the document (`&str`) into `model::VmPool`;
//! * `typed-touch`: as `typed`, then read every `TEMPLATE`/`USER_TEMPLATE` attribute, every
//!   name and value of every vector (what a caller pays when it does look at the
//!   templates: they are kept compact until first read);
//! * `full`: the HTTP response body bytes into `model::VmPool`, envelope included, through
//!   [`rpc::decode_document`]: `rpc::decode_one_owned` (what `OneClient` runs on a response
//!   body), then the typed decode of the document;
//!
//! * `stream`: the body read from its file in 64 KiB chunks and decoded one VM at a time
//!   ([`rpc::stream::PoolReader`]), each VM dropped after it is counted: the memory of a
//!   pool that does not fit.
//!
//! Each run prints one line: `probe variant=.. ns=.. cpu_ns=.. items=.. input_bytes=.. base_kb=..
//! hwm_kb=.. rss_kb=..`, where `hwm_kb` is `VmHWM` from `/proc/self/status` after the
//! peak was reset (through `/proc/self/clear_refs`) just before the input was read.

use std::hint::black_box;
use std::time::Instant;

use nebulair_opennebula::model::{VmPool, VmPoolVm};
use nebulair_opennebula::rpc;
use nebulair_opennebula::rpc::stream::PoolReader;
use nebulair_opennebula::template::TemplateValue;
use quick_xml::Reader;
use quick_xml::events::Event;

mod common;

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Nanoseconds this thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`): unlike the wall
/// clock, it does not count the time the thread waited for a core on a loaded box.
fn cpu_ns() -> u128 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// Wall and CPU time of `f`.
fn timed<R>(f: impl FnOnce() -> R) -> (R, u128, u128) {
    let c = cpu_ns();
    let t = Instant::now();
    let r = f();
    let wall = t.elapsed().as_nanos();
    (r, wall, cpu_ns().saturating_sub(c))
}

fn reset_peak() -> u64 {
    // "5" resets VmHWM to the current RSS (Linux >= 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_kb("VmRSS:")
}

/// The bare scan: every event of the document, nothing kept. quick-xml's fastest
/// configuration for a borrowed slice (no trimming; `scan` also skips the end-name check,
/// `scan-checked` keeps it, as our decoder does).
fn scan(doc: &str, check_end_names: bool) -> usize {
    let mut reader = Reader::from_str(doc);
    reader.config_mut().check_end_names = check_end_names;
    let mut events = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(ev) => {
                black_box(&ev);
                events += 1;
            }
            Err(e) => panic!("scan failed: {e}"),
        }
    }
    events
}

fn touch(pool: &VmPool) -> usize {
    let mut n = 0;
    for vm in &pool.vm {
        for tpl in [&vm.template, &vm.user_template] {
            for (name, value) in tpl.iter() {
                n += name.len();
                match value {
                    TemplateValue::Single(s) => n += s.len(),
                    TemplateValue::Vector(v) => {
                        for (k, s) in v.iter() {
                            n += k.len() + s.len();
                        }
                    }
                }
            }
        }
    }
    n
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") || args.iter().any(|a| a == "--bench") {
        // `cargo bench` runs every bench binary; this one is only for the driver.
        return;
    }
    match args.as_slice() {
        [cmd, doc, body] if cmd == "envelope" => {
            let doc = std::fs::read_to_string(doc).expect("reading the document");
            std::fs::write(body, common::envelope(&doc)).expect("writing the body");
        }
        [cmd, variant, file, n] if cmd == "profile" => profile(variant, file, n),
        [cmd] if cmd == "calls" => common::calls::run(1.0),
        [cmd, secs] if cmd == "calls" => common::calls::run(secs.parse().expect("seconds")),
        [variant, file] => run(variant, file),
        _ => {
            eprintln!(
                "usage: decode_probe <variant> <body-file> | envelope <doc> <body> \
                 | profile <variant> <body> <n> | calls [seconds]"
            );
            std::process::exit(2);
        }
    }
}

/// `decode_probe profile <variant> <body> <n>`: runs only the decode of `variant` `n`
/// times (for `perf record`; the input preparation is then a small share of the samples).
fn profile(variant: &str, file: &str, n: &str) {
    let n: usize = n.parse().expect("a number of runs");
    let body = std::fs::read(file).expect("reading the body");
    let doc = rpc::decode_string(&body, "one.vmpool.info").expect("the body holds a document");
    for _ in 0..n {
        // `vm` and `envelope` are for a saved `one.vm.info` answer (`calls` with
        // NEBULAIR_SAVE_VM_INFO=path writes one).
        match variant {
            "vm" => {
                let vm: nebulair_opennebula::model::Vm =
                    black_box(doc.as_str()).parse().expect("a VM");
                black_box(vm.id);
            }
            "envelope" => {
                black_box(rpc::decode_one(black_box(&body), "one.vmpool.info").ok());
            }
            "scan" => {
                black_box(scan(&doc, true));
            }
            "typed" => {
                let pool: VmPool = black_box(doc.as_str()).parse().expect("the pool decodes");
                black_box(pool.vm.len());
            }
            "typed-touch" => {
                let pool: VmPool = black_box(doc.as_str()).parse().expect("the pool decodes");
                black_box(touch(&pool));
            }
            "full" => {
                let b = bytes::Bytes::from(body.clone());
                let pool = rpc::decode_document::<VmPool>(black_box(b), "one.vmpool.info")
                    .expect("decodes");
                black_box(pool.vm.len());
            }
            other => {
                eprintln!("unknown variant {other:?}");
                std::process::exit(2);
            }
        }
    }
}

fn run(variant: &str, file: &str) {
    // Inputs that are prepared outside the measurement.
    let doc = matches!(variant, "scan" | "scan-checked" | "typed" | "typed-touch").then(|| {
        let body = std::fs::read(file).expect("reading the body");
        rpc::decode_string(&body, "one.vmpool.info").expect("the body holds a document")
    });
    let base = reset_peak();
    let (items, input, wall, cpu) = match variant {
        "memcpy" => {
            let body = std::fs::read(file).expect("reading the body");
            let (copy, wall, cpu) = timed(|| black_box(body.as_slice()).to_vec());
            black_box(&copy);
            (copy.len(), body.len(), wall, cpu)
        }
        "scan" | "scan-checked" => {
            let doc = doc.as_deref().unwrap_or_default();
            let (events, wall, cpu) = timed(|| scan(black_box(doc), variant == "scan-checked"));
            (events, doc.len(), wall, cpu)
        }
        "typed" | "typed-touch" => {
            let doc = doc.as_deref().unwrap_or_default();
            let ((pool, n), wall, cpu) = timed(|| {
                let pool: VmPool = black_box(doc).parse().expect("the pool decodes");
                let n = if variant == "typed-touch" {
                    touch(&pool)
                } else {
                    0
                };
                (pool, n)
            });
            black_box(n);
            let items = pool.vm.len();
            std::mem::forget(pool); // the drop is not part of the measurement
            (items, doc.len(), wall, cpu)
        }
        "full" => {
            let body = bytes::Bytes::from(std::fs::read(file).expect("reading the body"));
            let len = body.len();
            let (pool, wall, cpu) = timed(|| {
                rpc::decode_document::<VmPool>(black_box(body), "one.vmpool.info").expect("decodes")
            });
            let items = pool.vm.len();
            std::mem::forget(pool);
            (items, len, wall, cpu)
        }
        "stream" => {
            // The body is read from the file in 64 KiB chunks inside the measurement: the
            // point is that the pool is never held.
            let len = std::fs::metadata(file).expect("the body file").len() as usize;
            let ((items, n), wall, cpu) = timed(|| {
                let f = std::fs::File::open(file).expect("opening the body");
                let mut items = 0usize;
                let mut n = 0usize;
                for vm in PoolReader::<_, VmPoolVm>::new(f, "one.vmpool.info") {
                    let vm = vm.expect("the pool streams");
                    n += vm.template.len();
                    items += 1;
                }
                (items, n)
            });
            black_box(n);
            (items, len, wall, cpu)
        }
        other => {
            eprintln!("unknown variant {other:?}");
            std::process::exit(2);
        }
    };
    println!(
        "probe variant={variant} ns={wall} cpu_ns={cpu} items={items} input_bytes={input} \
         base_kb={base} hwm_kb={} rss_kb={}",
        status_kb("VmHWM:"),
        status_kb("VmRSS:")
    );
}
