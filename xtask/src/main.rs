//! Project automation: `cargo xtask <command>`.

fn main() {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    eprintln!("xtask: unknown command {cmd:?}");
    std::process::exit(2);
}
