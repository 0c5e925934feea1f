//! Fault-injection soak (issue #15): the OpenNebula simulator with latency, HTTP 500,
//! INTERNAL answers, dropped connections and truncated bodies on, driven with reads and
//! writes for a bounded time. Every read ends well or with the right typed error; no write
//! is ever applied twice; what a write reported matches the state read back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nebulair_core::{Credentials, ErrorKind, HttpConfig, ProxyConfig, RetryPolicy};
use nebulair_opennebula::{OneClient, OneErrorCode, PoolFilter, Template};
use nebulair_sim::faults::FaultConfig;
use nebulair_sim::one::OneSimulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_writes_under_every_fault() {
    let sim = OneSimulator::builder()
        .faults(
            FaultConfig::default()
                .latency(Duration::from_millis(1), Duration::from_millis(2))
                .http_500_ratio(0.03)
                .internal_error_ratio(0.03)
                .drop_connection_ratio(0.04)
                .truncate_ratio(0.04)
                .seed(1515),
        )
        .start()
        .await
        .expect("simulator");
    let client = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(8)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(10)),
        )
        .build()
        .expect("client");

    let started = Instant::now();
    let mut reads = HashMap::<&str, u32>::new();
    let mut writes = Vec::new();
    for i in 0..240u32 {
        // A write: one template per iteration, unique name.
        let name = format!("soak-{i}");
        let tpl =
            Template::parse(&format!("NAME = \"{name}\"\nCPU = 1\nMEMORY = 64")).expect("template");
        let res = client.templates().allocate(&tpl).await;
        if let Err(e) = &res {
            // A write is never retried: a fault on it is reported as it happened.
            assert!(
                matches!(e.kind(), ErrorKind::Transport | ErrorKind::Server),
                "write {i}: unexpected {e:?}"
            );
        }
        writes.push((name, res));
        // Reads: each either succeeds or fails with the error the fault means.
        for (what, res) in [
            ("hostpool", client.hosts().info().await.map(|_| ())),
            (
                "system.version",
                client.call("one.system.version", vec![]).await.map(|_| ()),
            ),
        ] {
            match res {
                Ok(()) => *reads.entry("ok").or_default() += 1,
                Err(e) if e.http_status() == Some(500) => {
                    assert_eq!(e.kind(), ErrorKind::Server, "{what}: {e:?}");
                    *reads.entry("http500").or_default() += 1;
                }
                Err(e) if OneErrorCode::of(&e) == Some(OneErrorCode::Internal) => {
                    assert_eq!(e.kind(), ErrorKind::Server);
                    *reads.entry("internal").or_default() += 1;
                }
                Err(e) => panic!("{what}: a read failed with {e:?}"),
            }
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );

    // The state read back (through the same faults, retried until a clean answer).
    let pool = loop {
        if let Ok(p) = client.templates().info(&PoolFilter::all()).await {
            break p;
        }
    };
    let mut count = HashMap::<String, Vec<i64>>::new();
    for t in &pool.vmtemplate {
        count
            .entry(t.name.clone().unwrap_or_default())
            .or_default()
            .push(i64::from(t.id.get()));
    }
    let mut lost_answers = 0;
    for (name, res) in &writes {
        let ids = count.get(name).cloned().unwrap_or_default();
        assert!(ids.len() <= 1, "write {name} applied {} times", ids.len());
        match res {
            Ok(id) => assert_eq!(ids, [i64::from(id.get())], "{name}"),
            // Dropped or cut after oned applied it: at most once, never twice.
            Err(e) if e.kind() == ErrorKind::Transport => lost_answers += ids.len(),
            Err(_) => assert!(ids.is_empty(), "{name} failed but exists"),
        }
    }
    eprintln!(
        "soak one: {} reads {:?}, {} writes ({} ok, {} answers lost after being applied), {:?}",
        reads.values().sum::<u32>(),
        reads,
        writes.len(),
        writes.iter().filter(|(_, r)| r.is_ok()).count(),
        lost_answers,
        started.elapsed()
    );
    assert!(reads.get("ok").copied().unwrap_or(0) > 400);
}
