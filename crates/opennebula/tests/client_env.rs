//! `OneClient::from_env` rules, with an injected environment and a temporary home.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use nebulair_core::{ErrorKind, ExposeSecret};
use nebulair_opennebula::{EnvConfig, EnvSource, OneClient};

fn load(vars: &[(&str, &str)], home: Option<&Path>) -> nebulair_opennebula::Result<EnvConfig> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let var = move |k: &str| map.get(k).cloned();
    EnvConfig::load(&EnvSource::new(&var, home))
}

fn home_with(auth: Option<&str>, endpoint: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".one")).expect("mkdir");
    if let Some(a) = auth {
        std::fs::write(dir.path().join(".one/one_auth"), a).expect("write");
    }
    if let Some(e) = endpoint {
        std::fs::write(dir.path().join(".one/one_endpoint"), e).expect("write");
    }
    dir
}

#[test]
fn defaults_from_home_files() {
    let home = home_with(Some("oneadmin:s3cr:et\n"), None);
    let cfg = load(&[], Some(home.path())).expect("config");
    assert_eq!(cfg.endpoint(), "http://localhost:2633/RPC2");
    assert_eq!(cfg.credentials().username(), Some("oneadmin"));
    assert_eq!(cfg.credentials().secret().expose_secret(), "s3cr:et");
    assert_eq!(cfg.auth_file(), home.path().join(".one/one_auth"));
    assert_eq!(cfg.timeout(), None);
    assert!(!cfg.tls_verification_disabled());
    assert!(!format!("{cfg:?}").contains("s3cr"));
}

#[test]
fn endpoint_order() {
    let home = home_with(Some("u:p"), Some("\n  https://fe.example:2633/RPC2  \n"));
    let cfg = load(&[], Some(home.path())).expect("config");
    assert_eq!(cfg.endpoint(), "https://fe.example:2633/RPC2");
    let cfg = load(&[("ONE_XMLRPC", "http://env:2633/RPC2")], Some(home.path())).expect("config");
    assert_eq!(cfg.endpoint(), "http://env:2633/RPC2");
    let empty = home_with(Some("u:p"), Some("\n\n"));
    let err = load(&[], Some(empty.path())).expect_err("empty endpoint file");
    assert!(err.message().contains("one_endpoint"), "{err}");
}

#[test]
fn one_auth_variable_wins_and_errors_name_the_file() {
    let home = home_with(Some("home:pw"), None);
    let other = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(other.path(), "  envuser : envpw  \n").expect("write");
    let path = other.path().to_string_lossy().into_owned();
    let cfg = load(&[("ONE_AUTH", &path)], Some(home.path())).expect("config");
    assert_eq!(cfg.credentials().username(), Some("envuser"));
    assert_eq!(cfg.credentials().secret().expose_secret(), "envpw");

    std::fs::write(other.path(), "no colon here").expect("write");
    let err = load(&[("ONE_AUTH", &path)], Some(home.path())).expect_err("malformed");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains(&path), "{err}");
    assert!(!err.message().contains("no colon here"), "{err}");

    let err = load(&[("ONE_AUTH", "/nonexistent/auth")], None).expect_err("missing");
    assert!(err.message().contains("/nonexistent/auth"), "{err}");

    let bare = home_with(None, None);
    let err = load(&[], Some(bare.path())).expect_err("no auth file");
    assert!(err.message().contains("one_auth"), "{err}");
    assert!(load(&[], None).is_err());
}

#[test]
fn timeout_tls_and_page_size() {
    let home = home_with(Some("u:p"), None);
    let cfg = load(
        &[
            ("ONE_XMLRPC_TIMEOUT", "2.5"),
            ("ONE_DISABLE_SSL_VERIFY", "yes"),
            ("ONE_POOL_PAGE_SIZE", "50"),
        ],
        Some(home.path()),
    )
    .expect("config");
    assert_eq!(cfg.timeout(), Some(Duration::from_millis(2500)));
    assert!(cfg.tls_verification_disabled());
    assert_eq!(cfg.page_size(), Some(50));
    for off in ["0", "false", "no", ""] {
        let cfg = load(&[("ONE_DISABLE_SSL_VERIFY", off)], Some(home.path())).expect("config");
        assert!(!cfg.tls_verification_disabled(), "{off:?}");
    }
    for bad in ["abc", "-1", "0"] {
        let err = load(&[("ONE_XMLRPC_TIMEOUT", bad)], Some(home.path())).expect_err(bad);
        assert!(err.message().contains("ONE_XMLRPC_TIMEOUT"), "{err}");
    }
    assert!(load(&[("ONE_POOL_PAGE_SIZE", "0")], Some(home.path())).is_err());

    let var = |k: &str| match k {
        "ONE_XMLRPC" => Some("http://127.0.0.1:1/RPC2".to_owned()),
        "ONE_XMLRPC_TIMEOUT" => Some("3".to_owned()),
        "ONE_POOL_PAGE_SIZE" => Some("7".to_owned()),
        _ => None,
    };
    let client = OneClient::from_env_with(
        &EnvSource::new(&var, Some(home.path())),
        OneClient::builder(),
    )
    .expect("client");
    assert_eq!(client.endpoint().as_str(), "http://127.0.0.1:1/RPC2");
    assert_eq!(client.timeout(), Some(Duration::from_secs(3)));
    assert_eq!(client.page_size(), 7);
    assert_eq!(client.username(), Some("u"));
}
