//! The vCloud simulator listens where it is told (as `nebulair simulate --vcloud-port`
//! needs), and a port in use is an I/O error, not a panic.

use std::net::SocketAddr;

use nebulair_sim::vcloud::VcloudSimulator;

#[tokio::test]
async fn binds_the_requested_address_and_reports_a_busy_port() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
    let port = probe.local_addr().expect("addr").port();
    drop(probe);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    let sim = VcloudSimulator::builder()
        .bind(addr)
        .start()
        .await
        .expect("starts on the requested port");
    assert_eq!(sim.base_url().port(), Some(port));
    // reqwest is built without a default crypto provider; core installs ring.
    nebulair_core::config::ensure_crypto_provider();
    let versions = reqwest::get(sim.base_url().join("api/versions").expect("url"))
        .await
        .expect("served")
        .text()
        .await
        .expect("body");
    assert!(versions.contains("SupportedVersions"), "{versions}");

    let err = VcloudSimulator::builder()
        .bind(addr)
        .start()
        .await
        .expect_err("the port is taken");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    sim.shutdown().await;
}
