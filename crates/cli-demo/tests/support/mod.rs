//! Helpers shared by the operator-facing CLI tests: a clean `nebulair` command, the
//! OpenNebula simulator on a random loopback port, and hostile loopback servers.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use nebulair_core::Credentials;
use nebulair_opennebula::OneClient;
use nebulair_sim::one::{OneSimHandle, OneSimulator};

/// oned's test password in the simulator.
pub const ONE_PASSWORD: &str = "opennebula";

/// A tokio runtime for driving the simulators from a test.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `nebulair` with none of the developer's cloud settings and a private HOME and
/// config folder.
pub fn nebulair(home: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("nebulair").expect("the nebulair binary");
    for var in [
        "ONE_XMLRPC",
        "ONE_AUTH",
        "VCD_URL",
        "VCD_USER",
        "VCD_PASSWORD",
        "VCD_ORG",
        "VCD_API_TOKEN",
        "VCD_EDGE",
        "VCD_ALLOW_UNVERIFIED_SSL",
        "ONEGATE_ENDPOINT",
        "ONEGATE_TOKEN",
        "TOKENTXT",
        "VMID",
        "NEBULAIR_DEMO_FAST",
        "NEBULAIR_PROFILE",
        "NO_COLOR",
        "COLUMNS",
        "RUST_LOG",
    ] {
        c.env_remove(var);
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("NEBULAIR_CONFIG_DIR", home.join("nebulair-config"));
    c.timeout(Duration::from_secs(90));
    c
}

/// The OpenNebula simulator with an auth file for `oneadmin`.
pub struct OneEnv {
    pub rt: tokio::runtime::Runtime,
    sim: Option<OneSimHandle>,
    pub dir: tempfile::TempDir,
    pub auth: PathBuf,
}

impl OneEnv {
    /// Starts the simulator on a random port.
    pub fn start() -> OneEnv {
        let rt = rt();
        let sim = rt
            .block_on(OneSimulator::builder().start())
            .expect("OpenNebula simulator");
        let dir = tempfile::tempdir().expect("dir");
        let auth = dir.path().join("one_auth");
        std::fs::write(&auth, format!("oneadmin:{ONE_PASSWORD}\n")).expect("auth file");
        OneEnv {
            rt,
            sim: Some(sim),
            dir,
            auth,
        }
    }

    /// The XML-RPC endpoint.
    pub fn url(&self) -> String {
        self.sim.as_ref().expect("sim").url().to_owned()
    }

    /// A clean `nebulair` (HOME in the test's folder).
    pub fn bare(&self) -> Command {
        nebulair(self.dir.path())
    }

    /// `nebulair one ...` with ONE_XMLRPC and ONE_AUTH set.
    pub fn one(&self) -> Command {
        let mut c = self.bare();
        c.env("ONE_XMLRPC", self.url())
            .env("ONE_AUTH", &self.auth)
            .arg("one");
        c
    }

    /// A library client on the simulator.
    pub fn client(&self) -> OneClient {
        OneClient::builder()
            .endpoint(self.url())
            .credentials(Credentials::password("oneadmin", ONE_PASSWORD))
            .build()
            .expect("client")
    }
}

impl Drop for OneEnv {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

/// A loopback server that accepts connections and never answers; its address.
pub fn silent_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    format!("http://{addr}")
}

/// stdout as text.
pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
