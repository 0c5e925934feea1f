//! The vCloud simulator's fault injection seen from a raw TCP client: each fault kind
//! reaches the wire as documented (dropped: no byte; truncated: full `Content-Length`,
//! half the body; HTTP 500; vCD's internal `Error`), and a dropped request is not handled.

use std::time::Duration;

use nebulair_sim::faults::FaultConfig;
use nebulair_sim::vcloud::VcloudSimulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn raw_get(addr: std::net::SocketAddr, path: &str) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    // A reset connection is a valid way of dropping: keep what was read before it.
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server must close the connection");
    out
}

fn split(resp: &[u8]) -> (String, Vec<u8>) {
    let at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (
        String::from_utf8_lossy(&resp[..at]).to_ascii_lowercase(),
        resp[at + 4..].to_vec(),
    )
}

#[tokio::test]
async fn dropped_connections_answer_nothing_and_are_not_handled() {
    let sim = VcloudSimulator::builder()
        .faults(FaultConfig::default().drop_connection_ratio(1.0))
        .start()
        .await
        .expect("simulator");
    let before = sim.request_count();
    for _ in 0..5 {
        let resp = raw_get(sim.addr(), "/api/versions").await;
        assert!(resp.is_empty(), "{}", String::from_utf8_lossy(&resp));
    }
    assert_eq!(sim.request_count(), before, "a dropped request was handled");
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_answers_promise_the_whole_body_and_send_half() {
    let sim = VcloudSimulator::builder()
        .faults(FaultConfig::default().truncate_ratio(1.0))
        .start()
        .await
        .expect("simulator");
    let resp = raw_get(sim.addr(), "/api/versions").await;
    let (head, body) = split(&resp);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .expect("content-length")
        .trim()
        .parse()
        .expect("number");
    assert!(len > 100, "{len}");
    assert_eq!(body.len(), len / 2, "{head}");
    assert_eq!(sim.request_count(), 1, "a truncated request is handled");
    sim.shutdown().await;
}

#[tokio::test]
async fn http_500_and_internal_errors() {
    let sim = VcloudSimulator::builder()
        .faults(FaultConfig::default().http_500_ratio(1.0))
        .start()
        .await
        .expect("simulator");
    let (head, body) = split(&raw_get(sim.addr(), "/api/versions").await);
    assert!(head.starts_with("http/1.1 500"), "{head}");
    assert!(body.is_empty());
    sim.shutdown().await;

    let sim = VcloudSimulator::builder()
        .faults(FaultConfig::default().internal_error_ratio(1.0))
        .start()
        .await
        .expect("simulator");
    let (head, body) = split(&raw_get(sim.addr(), "/api/versions").await);
    assert!(head.starts_with("http/1.1 500"), "{head}");
    let body = String::from_utf8(body).expect("utf-8");
    assert!(
        body.contains("majorErrorCode=\"500\"") && body.contains("INTERNAL_SERVER_ERROR"),
        "{body}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn no_faults_by_default() {
    let sim = VcloudSimulator::builder().start().await.expect("simulator");
    for _ in 0..20 {
        let (head, body) = split(&raw_get(sim.addr(), "/api/versions").await);
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(!body.is_empty());
    }
    sim.shutdown().await;
}
