//! Passwords, API tokens and session tokens never reach logs, `Debug` output or error
//! messages, whatever the login flow and whether it succeeds or fails.

use std::io::Write;
use std::sync::{Arc, Mutex};

use nebulair_core::{
    Credentials, ExposeSecret, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport,
};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::query::{Query, QueryType};
use nebulair_vcloud::session::{LoginMode, VcaOdSession, VcaSession, VcdSession};

const PASSWORD: &str = "Pa55-W0rd-that-must-not-leak";
const API_TOKEN: &str = "api-token-that-must-not-leak-0123456789";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

#[tokio::test]
async fn no_secret_in_logs_debug_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = VcloudSimulator::builder()
        .credentials(DEFAULT_USER, PASSWORD)
        .api_token(API_TOKEN)
        .start()
        .await
        .expect("sim");
    let base = sim.base_url().to_string();
    let mut seen_tokens = Vec::new();
    let mut outputs = Vec::new();

    let vca = VcaSession::builder(DEFAULT_USER, PASSWORD)
        .base_url(&base)
        .transport(transport())
        .build()
        .expect("build");
    let info = vca.login("VDC-Prod").await.expect("vca");
    seen_tokens.push(info.token().expose_secret().to_owned());
    outputs.push(format!(
        "{vca:?} {info:?} {:?}",
        vca.client("VDC-Prod").expect("client")
    ));

    let od = VcaOdSession::builder(DEFAULT_USER, PASSWORD)
        .base_url(&base)
        .transport(transport())
        .build()
        .expect("build");
    od.login_iam().await.expect("iam");
    let info = od.login_to_instance(0).await.expect("instance");
    seen_tokens.push(info.token().expose_secret().to_owned());
    outputs.push(format!("{od:?} {info:?}"));

    for (creds, mode) in [
        (
            Credentials::password(DEFAULT_USER, PASSWORD),
            LoginMode::Legacy,
        ),
        (
            Credentials::password(DEFAULT_USER, PASSWORD),
            LoginMode::CloudApi,
        ),
        (Credentials::api_token(API_TOKEN), LoginMode::Auto),
    ] {
        let sess = VcdSession::builder(&base)
            .org(DEFAULT_ORG)
            .credentials(creds)
            .login_mode(mode)
            .transport(transport())
            .build()
            .expect("build");
        let info = sess.login().await.expect("vcd");
        seen_tokens.push(info.token().expose_secret().to_owned());
        let client = sess.client().expect("client");
        sim.expire_tokens();
        Query::new(QueryType::Vm)
            .execute(&client)
            .await
            .expect("re-login");
        seen_tokens.push(client.org_info().token().expose_secret().to_owned());
        outputs.push(format!("{sess:?} {info:?} {client:?}"));
    }

    // Failures carry no secret either.
    let wrong = format!("{PASSWORD}-wrong");
    let bad = VcdSession::builder(&base)
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, &wrong))
        .transport(transport())
        .build()
        .expect("build");
    let err = bad.login().await.expect_err("401");
    outputs.push(format!("{err} {err:?} {bad:?}"));
    let bad = VcdSession::builder(&base)
        .org(DEFAULT_ORG)
        .credentials(Credentials::api_token(format!("{API_TOKEN}-revoked")))
        .transport(transport())
        .build()
        .expect("build");
    let err = bad.login().await.expect_err("invalid_grant");
    outputs.push(format!("{err} {err:?}"));
    sim.shutdown().await;

    let logs = String::from_utf8_lossy(&capture.0.lock().expect("lock")).into_owned();
    assert!(logs.contains("vcloud"), "logging was captured");
    let mut secrets = vec![PASSWORD.to_owned(), API_TOKEN.to_owned()];
    secrets.extend(seen_tokens.into_iter().filter(|t| t.len() >= 8));
    // The Basic credentials as they travel.
    use base64::Engine as _;
    for user in [
        DEFAULT_USER.to_owned(),
        format!("{DEFAULT_USER}@{DEFAULT_ORG}"),
    ] {
        let raw = format!("{user}:{PASSWORD}");
        secrets.push(base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()));
    }
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret leaked into the logs"
        );
        for out in &outputs {
            assert!(!out.contains(secret.as_str()), "a secret leaked into {out}");
        }
    }
}
