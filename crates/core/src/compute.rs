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
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

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

/// What [`Compute::create_vm`] creates: one VM, named `name`, from the provider's
/// template `template` (a name or an id), with an optional CPU count and memory size.
///
/// ```
/// use nebulair_core::compute::VmSpec;
///
/// let spec = VmSpec::new("web-3", "ubuntu-22.04").cpu(2.0).memory_mb(2048);
/// spec.validate()?;
/// assert_eq!(spec.template, "ubuntu-22.04");
/// assert!(spec.power_on);
///
/// // Checked before anything is sent.
/// assert!(VmSpec::new("", "t").validate().is_err());
/// assert!(VmSpec::new("a", "t").cpu(-1.0).validate().is_err());
/// assert!(VmSpec::new("a", "t").memory_mb(0).validate().is_err());
/// # Ok::<(), nebulair_core::Error>(())
/// ```
///
/// What each field means to each provider:
///
/// | field | OpenNebula | vCloud Director |
/// |---|---|---|
/// | `template` | a VM template (`one.template.instantiate`) | a vApp template with exactly one VM (`instantiateVAppTemplate`), in a vDC the provider is configured with |
/// | `cpu` | `CPU` (may be fractional) and `VCPU` (rounded up) | the VM's CPU count (a whole number) |
/// | `memory_mb` | `MEMORY` | the VM's memory (a multiple of 4 MB) |
/// | `power_on` | `false` instantiates on hold | `false` leaves the vApp powered off |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VmSpec {
    /// The new VM's name.
    pub name: String,
    /// The template to create it from: a name or an id, as the provider knows it.
    pub template: String,
    /// Virtual CPUs; `None` keeps the template's.
    pub cpu: Option<f64>,
    /// Memory in MiB; `None` keeps the template's.
    pub memory_mb: Option<u64>,
    /// Whether the VM is started once created (default `true`).
    pub power_on: bool,
}

impl VmSpec {
    /// A VM named `name` from `template`, powered on, with the template's CPU and memory.
    pub fn new(name: impl Into<String>, template: impl Into<String>) -> Self {
        VmSpec {
            name: name.into(),
            template: template.into(),
            cpu: None,
            memory_mb: None,
            power_on: true,
        }
    }

    /// Sets the CPU count.
    pub fn cpu(mut self, cpu: f64) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// Sets the memory in MiB.
    pub fn memory_mb(mut self, mb: u64) -> Self {
        self.memory_mb = Some(mb);
        self
    }

    /// Whether to start the VM once created.
    pub fn power_on(mut self, on: bool) -> Self {
        self.power_on = on;
        self
    }

    /// Checks what every provider requires: a name and a template that are not blank and
    /// hold no control character, a CPU count that is finite and positive, a memory size
    /// that is not zero. Providers check their own rules on top.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [("name", &self.name), ("template", &self.template)] {
            if value.trim().is_empty() {
                return Err(Error::invalid_input(format!(
                    "VmSpec: the {field} is empty"
                )));
            }
            if value.chars().any(char::is_control) {
                return Err(Error::invalid_input(format!(
                    "VmSpec: the {field} {value:?} holds a control character"
                )));
            }
        }
        if let Some(cpu) = self.cpu
            && (!cpu.is_finite() || cpu <= 0.0)
        {
            return Err(Error::invalid_input(format!(
                "VmSpec: the CPU count must be positive, not {cpu}"
            )));
        }
        if self.memory_mb == Some(0) {
            return Err(Error::invalid_input("VmSpec: the memory size is 0 MiB"));
        }
        Ok(())
    }
}

/// How [`Compute::wait_for_state`] polls: every `interval` until `timeout` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitSpec {
    /// The time between two reads of the VM (default 2 s).
    pub interval: Duration,
    /// The longest wait (default 10 minutes).
    pub timeout: Duration,
}

impl Default for WaitSpec {
    fn default() -> Self {
        WaitSpec {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(600),
        }
    }
}

impl WaitSpec {
    /// Waits at most `timeout`, polling every 2 s (or every `timeout / 10` when shorter).
    pub fn timeout(timeout: Duration) -> Self {
        WaitSpec {
            interval: Duration::from_secs(2).min(timeout / 10),
            timeout,
        }
    }

    /// Sets the time between two reads.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
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
    /// [`ErrorKind::NotFound`] when it does not exist.
    async fn get_vm(&self, id: &str) -> Result<VmSummary>;

    /// Powers the VM on (or resumes it).
    async fn start_vm(&self, id: &str) -> Result<()>;

    /// Powers the VM off gracefully.
    async fn stop_vm(&self, id: &str) -> Result<()>;

    /// Reboots the VM gracefully.
    async fn reboot_vm(&self, id: &str) -> Result<()>;

    /// Deletes (terminates) the VM.
    async fn delete_vm(&self, id: &str) -> Result<()>;

    /// Creates one VM as `spec` says and returns it once it exists (the provider's id is
    /// in [`VmSummary::id`]); it may still be starting: [`Compute::wait_until_running`]
    /// waits for that.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `spec` fails [`VmSpec::validate`] or a rule of
    /// the provider (nothing is created then), [`ErrorKind::NotFound`] when the template
    /// does not exist, and the provider's own errors (quota, capacity, ...).
    async fn create_vm(&self, spec: &VmSpec) -> Result<VmSummary>;

    /// Reads the VM every `wait.interval` until its state is `want`.
    ///
    /// # Errors
    /// [`ErrorKind::Timeout`] when `wait.timeout` passes first, naming the last state;
    /// [`ErrorKind::Server`] when the VM enters [`VmPowerState::Error`] (or is terminated
    /// while another state is awaited), with the provider's state in the message; the
    /// errors of [`Compute::get_vm`].
    async fn wait_for_state(
        &self,
        id: &str,
        want: VmPowerState,
        wait: WaitSpec,
    ) -> Result<VmSummary> {
        let deadline = tokio::time::Instant::now() + wait.timeout;
        loop {
            let vm = self.get_vm(id).await?;
            if vm.state == want {
                return Ok(vm);
            }
            if vm.state == VmPowerState::Error || vm.state == VmPowerState::Terminated {
                return Err(Error::new(
                    ErrorKind::Server,
                    format!(
                        "{}/{id} is {} ({}) while waiting for {want}",
                        self.provider(),
                        vm.state,
                        vm.provider_state
                    ),
                ));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{}/{id} is still {} ({}) after {:?} waiting for {want}",
                        self.provider(),
                        vm.state,
                        vm.provider_state,
                        wait.timeout
                    ),
                ));
            }
            tokio::time::sleep(
                wait.interval
                    .max(Duration::from_millis(1))
                    .min(deadline - now),
            )
            .await;
        }
    }

    /// [`Compute::wait_for_state`] for [`VmPowerState::Running`].
    async fn wait_until_running(&self, id: &str, wait: WaitSpec) -> Result<VmSummary> {
        self.wait_for_state(id, VmPowerState::Running, wait).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        async fn create_vm(&self, spec: &VmSpec) -> Result<VmSummary> {
            spec.validate()?;
            let mut vms = self.0.lock().expect("lock");
            let vm = VmSummary::new("fake", (vms.len() + 1).to_string(), &spec.name, {
                if spec.power_on {
                    VmPowerState::Pending
                } else {
                    VmPowerState::Stopped
                }
            });
            vms.push(vm.clone());
            Ok(vm)
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

    /// A provider whose VM goes through a list of states, one per read.
    struct Scripted(Mutex<Vec<VmPowerState>>);

    #[async_trait]
    impl Compute for Scripted {
        fn provider(&self) -> &str {
            "scripted"
        }
        async fn list_vms(&self) -> Result<Vec<VmSummary>> {
            Ok(Vec::new())
        }
        async fn get_vm(&self, id: &str) -> Result<VmSummary> {
            let mut states = self.0.lock().expect("lock");
            let state = if states.len() > 1 {
                states.remove(0)
            } else {
                states[0]
            };
            Ok(VmSummary::new("scripted", id, "vm", state).with_provider_state(state.as_str()))
        }
        async fn start_vm(&self, _: &str) -> Result<()> {
            Ok(())
        }
        async fn stop_vm(&self, _: &str) -> Result<()> {
            Ok(())
        }
        async fn reboot_vm(&self, _: &str) -> Result<()> {
            Ok(())
        }
        async fn delete_vm(&self, _: &str) -> Result<()> {
            Ok(())
        }
        async fn create_vm(&self, _: &VmSpec) -> Result<VmSummary> {
            Err(Error::invalid_input("no"))
        }
    }

    fn scripted(states: &[VmPowerState]) -> Box<dyn Compute> {
        Box::new(Scripted(Mutex::new(states.to_vec())))
    }

    #[tokio::test(start_paused = true)]
    async fn waits_until_running_and_reports_errors_and_timeouts() {
        use VmPowerState as P;
        let wait = WaitSpec::timeout(Duration::from_secs(60));
        let c = scripted(&[P::Pending, P::Transitioning, P::Running]);
        let vm = c.wait_until_running("7", wait).await.expect("running");
        assert_eq!(vm.state, P::Running);

        let c = scripted(&[P::Pending, P::Error]);
        let e = c.wait_until_running("7", wait).await.expect_err("error");
        assert_eq!(e.kind(), ErrorKind::Server);
        assert!(e.to_string().contains("scripted/7 is error"), "{e}");

        let c = scripted(&[P::Running, P::Terminated]);
        let e = c
            .wait_for_state("7", P::Stopped, wait)
            .await
            .expect_err("gone");
        assert_eq!(e.kind(), ErrorKind::Server);

        let started = tokio::time::Instant::now();
        let c = scripted(&[P::Pending]);
        let e = c
            .wait_until_running("7", WaitSpec::timeout(Duration::from_secs(30)))
            .await
            .expect_err("timeout");
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.to_string().contains("still pending"), "{e}");
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test]
    async fn create_vm_through_the_object() {
        let c: Box<dyn Compute> = Box::new(Fake(Mutex::new(Vec::new())));
        let vm = c
            .create_vm(&VmSpec::new("a", "tmpl").power_on(false))
            .await
            .expect("create");
        assert_eq!(
            c.get_vm(&vm.id).await.expect("get").state,
            VmPowerState::Stopped
        );
        let ok = c.create_vm(&VmSpec::new(r"b\n", "tmpl")).await;
        assert!(ok.is_ok(), "a backslash is not a control character");
        let e = c
            .create_vm(&VmSpec::new("b\nc", "tmpl"))
            .await
            .expect_err("control character");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(VmSpec::new("a", "t").cpu(f64::NAN).validate().is_err());
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
