//! Peak resident memory of the full path (c): response bytes of a 10,000-VM
//! `one.vmpool.info` -> `VmPool`, as a multiple of the response body size.
//!
//! Linux only (reads `/proc/self/status`, resets the peak through `/proc/self/clear_refs`).
//! Run with `cargo bench -p nebulair-opennebula --bench model_vmpool_rss` (add
//! `-- --in-place` for the in-place unescaping variant).

mod common;

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field in /proc/self/status")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let path = {
        let doc = common::pool_xml();
        let body = common::envelope(&doc);
        let path =
            std::env::temp_dir().join(format!("nebulair-vmpool-body-{}.xml", std::process::id()));
        std::fs::write(&path, &body).expect("writing the response body");
        path
    };
    // Everything above is freed; start the measurement from here.
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak RSS");
    let base = status_kb("VmRSS:");
    let body = std::fs::read(&path).expect("reading the response body");
    let _ = std::fs::remove_file(&path);
    let body_len = body.len() as f64;
    let start = std::time::Instant::now();
    let in_place = std::env::args().any(|a| a == "--in-place");
    let pool = if in_place {
        common::decode_envelope_in_place(body)
    } else {
        common::decode_envelope(body)
    }
    .expect("response decodes");
    let elapsed = start.elapsed();
    let peak = status_kb("VmHWM:");
    let after = status_kb("VmRSS:");
    let peak_bytes = (peak.saturating_sub(base) * 1024) as f64;
    let kept_bytes = (after.saturating_sub(base) * 1024) as f64;
    println!(
        "full path{}: {} VMs, body {:.1} MB, {:.0} ms; peak RSS above baseline {:.1} MB = {:.2}x body; \
         RSS holding the decoded pool {:.1} MB = {:.2}x body",
        if in_place {
            " (in-place unescape)"
        } else {
            " (rpc::decode_string)"
        },
        pool.vm.len(),
        body_len / 1e6,
        elapsed.as_secs_f64() * 1e3,
        peak_bytes / 1e6,
        peak_bytes / body_len,
        kept_bytes / 1e6,
        kept_bytes / body_len,
    );
    drop(pool);
}
