//! PyONE on the same simulator and the same calls as `one_vm_info`: starts the simulator,
//! runs `scripts/bench-pyone.py` with `$NEBULAIR_PYTHON` and prints its figures.
//!
//! Run: `NEBULAIR_PYTHON=.venv/bin/python cargo bench -p nebulair-sim --bench one_pyone`.

use std::process::Command;

use nebulair_sim::one::OneSimulator;

fn main() {
    let Some(python) = std::env::var_os("NEBULAIR_PYTHON") else {
        println!("skipped: NEBULAIR_PYTHON is not set");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt
        .block_on(OneSimulator::builder().keep_alive().start())
        .expect("simulator");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/bench-pyone.py");
    let seconds = std::env::var("BENCH_SECONDS").unwrap_or_else(|_| "5".into());
    let status = Command::new(python)
        .arg(script)
        .arg(sim.url())
        .arg("--seconds")
        .arg(seconds)
        .status()
        .expect("run the PyONE benchmark");
    assert!(status.success(), "PyONE benchmark failed");
    rt.block_on(sim.shutdown());
}
