//! The multi-cloud `Compute` trait, in the spirit of Apache Libcloud's `NodeDriver`.
//!
//! Each provider implements [`Compute`] so that code can list and drive virtual machines
//! without knowing which cloud they live in. States are mapped to the small neutral
//! [`VmPowerState`]; the provider's own state is kept in [`VmSummary::provider_state`].
//!
//! ```
//! use nebulair_core::compute::{VmPowerState, VmSummary};
//!
//! let vm = VmSummary::new("one", "42", "web-1", VmPowerState::Running)
//!     .with_provider_state("ACTIVE/RUNNING")
//!     .with_cpu(1.0)
//!     .with_memory_mb(1024)
//!     .with_ip("192.168.150.2".parse().expect("ip"));
//! assert!(vm.state.is_running());
//! assert_eq!(vm.to_string(), "one/42 web-1 running");
//! ```

use std::fmt;
use std::net::IpAddr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A provider-neutral VM state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VmPowerState {
    /// Waiting to be placed or created.
    Pending,
    /// Being created, moved, started or otherwise in transition.
    Transitioning,
    /// Running.
    Running,
    /// Powered off or stopped, but still defined.
    Stopped,
    /// Suspended (memory saved).
    Suspended,
    /// Being deleted or already gone.
    Terminated,
    /// Failed; needs attention.
    Error,
    /// A state the mapping does not know.
    Unknown,
}

impl VmPowerState {
    /// Whether the VM is running.
    pub fn is_running(self) -> bool {
        self == VmPowerState::Running
    }

    /// Lower-case name, e.g. `"running"`.
    pub fn as_str(self) -> &'static str {
        match self {
            VmPowerState::Pending => "pending",
            VmPowerState::Transitioning => "transitioning",
            VmPowerState::Running => "running",
            VmPowerState::Stopped => "stopped",
            VmPowerState::Suspended => "suspended",
            VmPowerState::Terminated => "terminated",
            VmPowerState::Error => "error",
            VmPowerState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for VmPowerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A VM as any provider can describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VmSummary {
    /// The provider (`"opennebula"`, `"vcloud"`).
    pub provider: String,
    /// The provider's id, as text.
    pub id: String,
    /// The name.
    pub name: String,
    /// The neutral state.
    pub state: VmPowerState,
    /// The provider's own state, e.g. `ACTIVE/RUNNING` or `POWERED_ON`.
    pub provider_state: String,
    /// Virtual CPUs (OpenNebula's CPU may be fractional).
    pub cpu: Option<f64>,
    /// Memory in MiB.
    pub memory_mb: Option<u64>,
    /// IP addresses.
    pub ips: Vec<IpAddr>,
}

impl VmSummary {
    /// A summary with the required fields; the rest start empty.
    pub fn new(
        provider: impl Into<String>,
        id: impl Into<String>,
        name: impl Into<String>,
        state: VmPowerState,
    ) -> Self {
        VmSummary {
            provider: provider.into(),
            id: id.into(),
            name: name.into(),
            state,
            provider_state: String::new(),
            cpu: None,
            memory_mb: None,
            ips: Vec::new(),
        }
    }

    /// Sets the provider's own state text.
    pub fn with_provider_state(mut self, s: impl Into<String>) -> Self {
        self.provider_state = s.into();
        self
    }

    /// Sets the CPU count.
    pub fn with_cpu(mut self, cpu: f64) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// Sets the memory in MiB.
    pub fn with_memory_mb(mut self, mb: u64) -> Self {
        self.memory_mb = Some(mb);
        self
    }

    /// Adds an IP address.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ips.push(ip);
        self
    }
}

impl fmt::Display for VmSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} {} {}",
            self.provider, self.id, self.name, self.state
        )
    }
}

/// What every provider can do with VMs. Object safe: `Box<dyn Compute>` works.
#[async_trait]
pub trait Compute: Send + Sync {
    /// The provider name used in [`VmSummary::provider`].
    fn provider(&self) -> &str;

    /// Every VM the credentials can see.
    async fn list_vms(&self) -> Result<Vec<VmSummary>>;

    /// One VM by id.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when it does not exist.
    async fn get_vm(&self, id: &str) -> Result<VmSummary>;

    /// Powers the VM on (or resumes it).
    async fn start_vm(&self, id: &str) -> Result<()>;

    /// Powers the VM off gracefully.
    async fn stop_vm(&self, id: &str) -> Result<()>;

    /// Reboots the VM gracefully.
    async fn reboot_vm(&self, id: &str) -> Result<()>;

    /// Deletes (terminates) the VM.
    async fn delete_vm(&self, id: &str) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use std::sync::Mutex;

    /// A provider with an in-memory VM list, proving the trait is usable as an object.
    struct Fake(Mutex<Vec<VmSummary>>);

    #[async_trait]
    impl Compute for Fake {
        fn provider(&self) -> &str {
            "fake"
        }
        async fn list_vms(&self) -> Result<Vec<VmSummary>> {
            Ok(self.0.lock().expect("lock").clone())
        }
        async fn get_vm(&self, id: &str) -> Result<VmSummary> {
            self.0
                .lock()
                .expect("lock")
                .iter()
                .find(|v| v.id == id)
                .cloned()
                .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("vm {id}")))
        }
        async fn start_vm(&self, id: &str) -> Result<()> {
            self.set(id, VmPowerState::Running)
        }
        async fn stop_vm(&self, id: &str) -> Result<()> {
            self.set(id, VmPowerState::Stopped)
        }
        async fn reboot_vm(&self, id: &str) -> Result<()> {
            self.set(id, VmPowerState::Running)
        }
        async fn delete_vm(&self, id: &str) -> Result<()> {
            self.0.lock().expect("lock").retain(|v| v.id != id);
            Ok(())
        }
    }

    impl Fake {
        fn set(&self, id: &str, s: VmPowerState) -> Result<()> {
            let mut vms = self.0.lock().expect("lock");
            let vm = vms
                .iter_mut()
                .find(|v| v.id == id)
                .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("vm {id}")))?;
            vm.state = s;
            Ok(())
        }
    }

    #[tokio::test]
    async fn compute_is_object_safe_and_drives_vms() {
        let c: Box<dyn Compute> = Box::new(Fake(Mutex::new(vec![VmSummary::new(
            "fake",
            "1",
            "a",
            VmPowerState::Stopped,
        )])));
        c.start_vm("1").await.expect("start");
        assert!(c.get_vm("1").await.expect("get").state.is_running());
        c.delete_vm("1").await.expect("delete");
        assert!(c.get_vm("1").await.expect_err("gone").is_not_found());
    }

    #[test]
    fn summary_serialises_with_snake_case_state() {
        let vm = VmSummary::new("one", "3", "db", VmPowerState::Suspended);
        let json = serde_json::to_value(&vm).expect("json");
        assert_eq!(json["state"], "suspended");
        let back: VmSummary = serde_json::from_value(json).expect("back");
        assert_eq!(back, vm);
    }
}
