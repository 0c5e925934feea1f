//! The provider-neutral [`Compute`] trait of `nebulair-core`, for OpenNebula.
//!
//! | trait call | OpenNebula call |
//! |---|---|
//! | `list_vms` | `one.vmpool.info` (everything the user may see, DONE VMs left out) |
//! | `get_vm` | `one.vm.info` |
//! | `start_vm` | `one.vm.action("resume")` (from POWEROFF, SUSPENDED, STOPPED, UNDEPLOYED) |
//! | `stop_vm` | `one.vm.action("poweroff")` |
//! | `reboot_vm` | `one.vm.action("reboot")` |
//! | `delete_vm` | `one.vm.action("terminate")` |
//! | `create_vm` | `one.templatepool.info` (a name is looked up), `one.template.instantiate` with `CPU`, `VCPU`, `MEMORY` in the extra template (on hold when not powered on), then `one.vm.info` |
//! | `wait_until_running` | `one.vm.info` until `ACTIVE/RUNNING` |
//!
//! States map with [`power_state`]: `ACTIVE/RUNNING` (and hot-plug or live-migration
//! work on a running VM) is `Running`, `POWEROFF`/`STOPPED`/`UNDEPLOYED` are `Stopped`,
//! `SUSPENDED` is `Suspended`, `INIT`/`PENDING`/`HOLD` are `Pending`, `DONE` is
//! `Terminated`, `FAILED` and every `*_FAILURE` life-cycle state are `Error`, other
//! `ACTIVE` sub-states are `Transitioning`. [`VmSummary::provider_state`] keeps
//! OpenNebula's own `STATE/LCM_STATE` text.
//!
//! ```
//! use nebulair_core::compute::VmPowerState;
//! use nebulair_opennebula::compute::power_state;
//! use nebulair_opennebula::model::{LcmState, Vm, VmState};
//!
//! assert_eq!(power_state(VmState::Active, LcmState::Running), VmPowerState::Running);
//! assert_eq!(power_state(VmState::Poweroff, LcmState::LcmInit), VmPowerState::Stopped);
//! assert_eq!(power_state(VmState::Active, LcmState::BootFailure), VmPowerState::Error);
//!
//! let vm: Vm = "<VM><ID>4</ID><NAME>db</NAME><STATE>8</STATE><LCM_STATE>0</LCM_STATE>\
//!               <TEMPLATE><CPU>0.5</CPU><MEMORY>512</MEMORY>\
//!               <NIC><IP>10.0.0.4</IP></NIC></TEMPLATE></VM>".parse()?;
//! let summary = vm.summary();
//! assert_eq!(summary.to_string(), "opennebula/4 db stopped");
//! assert_eq!(summary.provider_state, "POWEROFF");
//! assert_eq!(summary.cpu, Some(0.5));
//! assert_eq!(summary.memory_mb, Some(512));
//! assert_eq!(summary.ips, vec!["10.0.0.4".parse::<std::net::IpAddr>()?]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;

use async_trait::async_trait;
use nebulair_core::compute::{Compute, VmPowerState, VmSpec, VmSummary};

use crate::api::VmAction;
use crate::ids::VmId;
use crate::model::{LcmState, Vm, VmPool, VmPoolVm, VmState};
use crate::pool::PoolFilter;
use crate::template::Template;
use crate::{Error, OneClient, Result};

/// The provider name used in [`VmSummary::provider`].
pub const PROVIDER: &str = "opennebula";

/// Maps OpenNebula's state pair to the neutral state (see the module docs).
pub fn power_state(state: VmState, lcm: LcmState) -> VmPowerState {
    use LcmState as L;
    match state {
        VmState::Init | VmState::Pending | VmState::Hold => VmPowerState::Pending,
        VmState::Cloning => VmPowerState::Transitioning,
        VmState::Stopped | VmState::Poweroff | VmState::Undeployed => VmPowerState::Stopped,
        VmState::Suspended => VmPowerState::Suspended,
        VmState::Done => VmPowerState::Terminated,
        VmState::Failed | VmState::CloningFailure => VmPowerState::Error,
        VmState::Unknown(_) => VmPowerState::Unknown,
        VmState::Active => match lcm {
            L::Running
            | L::Migrate
            | L::Hotplug
            | L::HotplugNic
            | L::HotplugSnapshot
            | L::HotplugSaveas
            | L::HotplugResize
            | L::DiskSnapshot
            | L::DiskSnapshotRevert
            | L::DiskSnapshotDelete
            | L::DiskResize => VmPowerState::Running,
            L::LcmUnknown | L::Unknown(_) => VmPowerState::Unknown,
            other => {
                if other.name().is_some_and(|n| n.ends_with("FAILURE")) {
                    VmPowerState::Error
                } else {
                    VmPowerState::Transitioning
                }
            }
        },
    }
}

fn state_text(state: VmState, lcm: LcmState) -> String {
    if state == VmState::Active {
        format!("{state}/{lcm}")
    } else {
        state.to_string()
    }
}

fn summary_of(
    id: VmId,
    name: Option<&str>,
    state: Option<i64>,
    lcm: Option<i64>,
    template: &Template,
) -> VmSummary {
    let state = state
        .map(VmState::from_code)
        .unwrap_or(VmState::Unknown(-1));
    let lcm = lcm.map(LcmState::from_code).unwrap_or(LcmState::LcmInit);
    let mut out = VmSummary::new(
        PROVIDER,
        id.to_string(),
        name.unwrap_or_default(),
        power_state(state, lcm),
    )
    .with_provider_state(state_text(state, lcm));
    if let Some(cpu) = template
        .get_str("CPU")
        .and_then(|c| c.trim().parse::<f64>().ok())
    {
        out = out.with_cpu(cpu);
    }
    if let Some(mem) = template
        .get_str("MEMORY")
        .and_then(|m| m.trim().parse::<u64>().ok())
    {
        out = out.with_memory_mb(mem);
    }
    for nic in template.vectors("NIC").chain(template.vectors("NIC_ALIAS")) {
        for key in ["IP", "IP6_GLOBAL", "IP6", "IP6_ULA"] {
            if let Some(ip) = nic.get(key).and_then(|v| v.trim().parse::<IpAddr>().ok()) {
                out = out.with_ip(ip);
            }
        }
    }
    out
}

impl Vm {
    /// The provider-neutral summary of this VM (state mapped with [`power_state`], CPU,
    /// memory and NIC addresses from its template).
    pub fn summary(&self) -> VmSummary {
        summary_of(
            self.id,
            self.name.as_deref(),
            self.state,
            self.lcm_state,
            &self.template,
        )
    }
}

impl VmPoolVm {
    /// The provider-neutral summary of this pool entry (see [`Vm::summary`]).
    pub fn summary(&self) -> VmSummary {
        summary_of(
            self.id,
            self.name.as_deref(),
            self.state,
            self.lcm_state,
            &self.template,
        )
    }
}

fn parse_id(id: &str) -> Result<VmId> {
    id.trim()
        .parse::<VmId>()
        .map_err(|_| Error::invalid_input(format!("{id:?} is not an OpenNebula VM id")))
}

/// The extra template `one.template.instantiate` gets for `spec`: `CPU` as given, `VCPU`
/// rounded up to a whole number, `MEMORY` in MiB; empty when the template's values stay.
pub fn instantiate_overrides(spec: &VmSpec) -> Template {
    let mut t = Template::new();
    if let Some(cpu) = spec.cpu {
        t.set("CPU", format_cpu(cpu));
        t.set("VCPU", (cpu.ceil() as u64).max(1).to_string());
    }
    if let Some(mb) = spec.memory_mb {
        t.set("MEMORY", mb.to_string());
    }
    t
}

/// `2` for 2.0, `0.5` for 0.5: what `onevm` prints and oned parses.
fn format_cpu(cpu: f64) -> String {
    if cpu.fract() == 0.0 && cpu < 1e15 {
        format!("{}", cpu as u64)
    } else {
        format!("{cpu}")
    }
}

#[async_trait]
impl Compute for OneClient {
    fn provider(&self) -> &str {
        PROVIDER
    }

    /// `one.vmpool.info` over everything the user may see (DONE VMs left out).
    async fn list_vms(&self) -> Result<Vec<VmSummary>> {
        let pool: VmPool = self.vms().info(&PoolFilter::all()).await?;
        Ok(pool.vm.iter().map(VmPoolVm::summary).collect())
    }

    /// `one.vm.info`; an unknown id is [`ErrorKind::NotFound`](crate::ErrorKind::NotFound),
    /// text that is not an id [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput).
    async fn get_vm(&self, id: &str) -> Result<VmSummary> {
        let vm: Vm = self.vm(parse_id(id)?).info().await?;
        Ok(vm.summary())
    }

    /// `one.vm.action("resume", id)`.
    async fn start_vm(&self, id: &str) -> Result<()> {
        self.vm(parse_id(id)?).action(VmAction::Resume).await?;
        Ok(())
    }

    /// `one.vm.action("poweroff", id)`.
    async fn stop_vm(&self, id: &str) -> Result<()> {
        self.vm(parse_id(id)?).action(VmAction::Poweroff).await?;
        Ok(())
    }

    /// `one.vm.action("reboot", id)`.
    async fn reboot_vm(&self, id: &str) -> Result<()> {
        self.vm(parse_id(id)?).action(VmAction::Reboot).await?;
        Ok(())
    }

    /// `one.vm.action("terminate", id)`.
    async fn delete_vm(&self, id: &str) -> Result<()> {
        self.vm(parse_id(id)?).action(VmAction::Terminate).await?;
        Ok(())
    }

    /// Looks the VM template up (a number is an id, other text a name: an unknown name is
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound), a name several templates
    /// carry [`ErrorKind::Conflict`](crate::ErrorKind::Conflict)), instantiates it with
    /// [`instantiate_overrides`] (on hold when `spec.power_on` is false), and reads the
    /// new VM.
    async fn create_vm(&self, spec: &VmSpec) -> Result<VmSummary> {
        spec.validate()?;
        let template = self.templates().resolve(&spec.template).await?;
        let id = self
            .template(template)
            .instantiate(
                spec.name.trim(),
                !spec.power_on,
                &instantiate_overrides(spec),
                false,
            )
            .await?;
        tracing::debug!(vm = %id, template = %template, "created a VM through Compute");
        let vm: Vm = self.vm(id).info().await?;
        Ok(vm.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_pair_maps() {
        use VmPowerState as P;
        let cases = [
            (VmState::Pending, LcmState::LcmInit, P::Pending),
            (VmState::Hold, LcmState::LcmInit, P::Pending),
            (VmState::Active, LcmState::Prolog, P::Transitioning),
            (VmState::Active, LcmState::Boot, P::Transitioning),
            (VmState::Active, LcmState::Running, P::Running),
            (VmState::Active, LcmState::HotplugNic, P::Running),
            (
                VmState::Active,
                LcmState::ShutdownPoweroff,
                P::Transitioning,
            ),
            (VmState::Active, LcmState::PrologMigrateFailure, P::Error),
            (VmState::Active, LcmState::Failure, P::Error),
            (VmState::Active, LcmState::LcmUnknown, P::Unknown),
            (VmState::Active, LcmState::Unknown(200), P::Unknown),
            (VmState::Poweroff, LcmState::LcmInit, P::Stopped),
            (VmState::Undeployed, LcmState::LcmInit, P::Stopped),
            (VmState::Stopped, LcmState::LcmInit, P::Stopped),
            (VmState::Suspended, LcmState::LcmInit, P::Suspended),
            (VmState::Done, LcmState::LcmInit, P::Terminated),
            (VmState::Failed, LcmState::LcmInit, P::Error),
            (VmState::CloningFailure, LcmState::LcmInit, P::Error),
            (VmState::Unknown(42), LcmState::LcmInit, P::Unknown),
        ];
        for (s, l, want) in cases {
            assert_eq!(power_state(s, l), want, "{s}/{l}");
        }
    }

    #[test]
    fn summary_of_a_running_vm() {
        let vm: Vm = "<VM><ID>9</ID><NAME>web</NAME><STATE>3</STATE><LCM_STATE>3</LCM_STATE>\
                      <TEMPLATE><CPU>2</CPU><MEMORY>not-a-number</MEMORY>\
                      <NIC><IP>192.168.1.9</IP><IP6_GLOBAL>2001:db8::9</IP6_GLOBAL></NIC>\
                      <NIC><IP>bogus</IP></NIC></TEMPLATE></VM>"
            .parse()
            .expect("decodes");
        let s = vm.summary();
        assert_eq!(s.id, "9");
        assert_eq!(s.state, VmPowerState::Running);
        assert_eq!(s.provider_state, "ACTIVE/RUNNING");
        assert_eq!(s.cpu, Some(2.0));
        assert_eq!(s.memory_mb, None);
        assert_eq!(s.ips.len(), 2);
    }

    #[test]
    fn overrides_carry_cpu_vcpu_and_memory() {
        let t = instantiate_overrides(&VmSpec::new("a", "t").cpu(0.5).memory_mb(768));
        assert_eq!(t.get_str("CPU"), Some("0.5"));
        assert_eq!(t.get_str("VCPU"), Some("1"));
        assert_eq!(t.get_str("MEMORY"), Some("768"));
        let t = instantiate_overrides(&VmSpec::new("a", "t").cpu(3.0));
        assert_eq!(t.get_str("CPU"), Some("3"));
        assert_eq!(t.get_str("VCPU"), Some("3"));
        assert_eq!(t.get_str("MEMORY"), None);
        assert!(instantiate_overrides(&VmSpec::new("a", "t")).is_empty());
    }

    #[test]
    fn ids_are_checked() {
        assert_eq!(parse_id(" 12 ").expect("id").get(), 12);
        let e = parse_id("vm-12").expect_err("not an id");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    }
}
