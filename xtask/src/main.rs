//! Project automation: `cargo xtask <command>`.
//!
//! | command | what it does |
//! |---|---|
//! | `methods` | regenerates `crates/opennebula/src/api/generated.rs` from `crates/opennebula/data/api-methods.tsv` |
//! | `xsd` | regenerates `crates/opennebula/src/model/generated.rs` from `crates/opennebula/xsd/*.xsd` |
//! | `vcd` | regenerates `crates/vcloud/src/model/vcd/generated.rs` from `crates/vcloud/xsd/**/*.xsd` |
//! | `codegen` | all of the above |
//! | `bench-decode` | the VM pool decode benchmark: fresh processes, interleaved rounds, medians and ratios (see `bench_decode.rs`) |

use std::path::PathBuf;
use std::process::ExitCode;

mod bench_decode;
mod methods;
mod vcd;
mod xsd;

/// The repository root (the parent of this crate's folder).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> ExitCode {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    let result = match cmd.as_str() {
        "methods" => methods::run(&root()),
        "xsd" => xsd::run(&root()),
        "vcd" => vcd::run(&root()),
        "codegen" => methods::run(&root())
            .and_then(|()| xsd::run(&root()))
            .and_then(|()| vcd::run(&root())),
        "bench-decode" => bench_decode::run(&root(), &std::env::args().skip(2).collect::<Vec<_>>()),
        _ => Err(format!(
            "unknown command {cmd:?}; expected one of: methods, xsd, vcd, codegen, bench-decode"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
