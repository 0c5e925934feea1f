//! PyONE (the reference Python client) against the simulator: the seed walkthrough and
//! error cases, run with `$NEBULAIR_PYTHON`.

use std::process::Command;

use nebulair_sim::one::OneSimulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyone_walkthrough() {
    let Some(python) = std::env::var_os("NEBULAIR_PYTHON") else {
        if std::env::var_os("CI").is_some() {
            panic!("NEBULAIR_PYTHON must be set in CI");
        }
        println!("skipped: NEBULAIR_PYTHON is not set");
        return;
    };
    let sim = OneSimulator::builder().start().await.expect("start");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/compat/pyone_walkthrough.py"
    );
    let url = sim.url().to_owned();
    let out =
        tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(url).output())
            .await
            .expect("join")
            .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "PyONE walkthrough failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.trim(), "OK");
    sim.shutdown().await;
}
