//! The multi-cloud [`Compute`] trait of nebulair-core for vCloud Director.
//!
//! [`VcdCompute`] maps the query service's VM records onto [`VmSummary`] and the VM power
//! actions (`powerOn`, `powerOff`, `reboot`, each a vCD Task that is waited for) onto the
//! trait's verbs, so code can drive OpenNebula and vCloud VMs through one
//! `Box<dyn Compute>`.
//!
//! | trait call | vCD requests |
//! |---|---|
//! | `list_vms` | the query service, `type=vm`, paged (one request a page; template VMs left out) |
//! | `get_vm` and the id of every verb | the query service, `type=vm&filter=id==urn:vcloud:vm:<uuid>` (one request) |
//! | `start_vm`, `stop_vm`, `reboot_vm` | `POST {vm}/power/action/powerOn` (`powerOff`, `reboot`), Task waited for |
//! | `delete_vm` | `DELETE {vm}`, Task waited for |
//! | `create_vm` | the vApp template looked up by name or id; `instantiateVAppTemplate` into the configured vDC (a vApp named as the VM, holding it); `PUT virtualHardwareSection/cpu` and `/memory` when asked; `POST {vApp}/power/action/powerOn` |

use crate::client::{ApiRequest, VcdClient};
use crate::query::{Filter, Query, QueryType, VmRecord};
use crate::workload::{
    InstantiateParams, Locator, VcdId, VdcHandle, VmSettings, WorkloadOptions, Workloads,
};
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt as _;
use nebulair_core::{Compute, Error, ErrorKind, Result, VmPowerState, VmSpec, VmSummary};

/// vCloud Director VMs (from the query service) as [`Compute`].
///
/// Ids are the VM UUIDs, with or without the `vm-` prefix, as `urn:vcloud:vm:<uuid>` or
/// as an href. [`Compute::list_vms`] leaves out VMs that belong to vApp templates. Errors:
/// a VM id that no query record carries is [`ErrorKind::NotFound`]; a power action whose
/// Task ends in error fails with the Task's message.
///
/// [`Compute::create_vm`] makes a vApp named after the VM from a vApp template that holds
/// exactly one VM, in the vDC set with [`VcdCompute::vdc`] (or the org's only vDC). The
/// CPU count must be a whole number (cores per socket are kept when they divide it, else
/// 1) and the memory a multiple of 4 MB; both are checked before anything is sent.
#[derive(Debug, Clone)]
pub struct VcdCompute {
    client: VcdClient,
    poll_interval: Duration,
    vdc: Option<Locator>,
}

impl VcdCompute {
    /// Wraps a logged-in client.
    pub fn new(client: VcdClient) -> Self {
        VcdCompute {
            client,
            poll_interval: Duration::from_secs(5),
            vdc: None,
        }
    }

    /// How often the Task of a power action is polled (default 5 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The vDC (name or id) [`Compute::create_vm`] creates VMs in. Without one, the org
    /// must have exactly one vDC.
    pub fn vdc(mut self, vdc: impl Into<Locator>) -> Self {
        self.vdc = Some(vdc.into());
        self
    }

    fn workloads(&self) -> Workloads {
        self.client
            .workloads_with(WorkloadOptions::default().poll_interval(self.poll_interval))
    }

    async fn target_vdc(&self, ws: &Workloads) -> Result<VdcHandle> {
        if let Some(loc) = &self.vdc {
            return Ok(ws.vdc(loc.clone()));
        }
        let mut vdcs = ws.current_org().vdcs().await?;
        match vdcs.len() {
            1 => Ok(vdcs.remove(0)),
            0 => Err(Error::new(
                ErrorKind::NotFound,
                "create_vm: the org has no vDC",
            )),
            _ => Err(Error::invalid_input(format!(
                "create_vm: the org has {} vDCs ({}); choose one with VcdCompute::vdc",
                vdcs.len(),
                vdcs.iter()
                    .map(|v| v.name().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    async fn wait(&self, task: &crate::task::Task) -> Result<()> {
        self.client
            .task_waiter()
            .poll_interval(self.poll_interval)
            .wait(task)
            .await
            .map(drop)
    }

    async fn records(&self) -> Result<Vec<VmRecord>> {
        Query::new(QueryType::Vm)
            .stream_typed::<VmRecord>(&self.client)
            .try_collect()
            .await
    }

    /// The query record of one VM: one filtered query (`id==urn:vcloud:vm:<uuid>`), not a
    /// walk over every VM.
    async fn record(&self, id: &str) -> Result<VmRecord> {
        let uuid = parse_vm_id(id)?;
        let want = uuid.to_string();
        let page = Query::new(QueryType::Vm)
            .filter(Filter::eq("id", format!("urn:vcloud:vm:{want}")))
            .page_size(2)
            .stream_typed::<VmRecord>(&self.client)
            .try_collect::<Vec<_>>()
            .await?;
        page.into_iter()
            .find(|r| r.uuid().as_deref() == Some(want.as_str()))
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("no vCloud VM with id {id}")))
    }

    async fn power(&self, id: &str, action: &str) -> Result<()> {
        let rec = self.record(id).await?;
        let target = format!("{}/power/action/{action}", rec.href);
        let task = self
            .client
            .send(ApiRequest::post(target))
            .await?
            .into_task()?;
        self.wait(&task).await
    }
}

/// The UUID of a VM id (bare, `vm-`, urn or href).
fn parse_vm_id(id: &str) -> Result<uuid::Uuid> {
    id.trim()
        .parse::<VcdId>()
        .map(|v| v.uuid())
        .map_err(|_| Error::invalid_input(format!("{id:?} is not a vCloud VM id")))
}

/// The CPU count of `spec` as vCD takes it: a whole number, at least 1.
fn whole_cpus(spec: &VmSpec) -> Result<Option<i64>> {
    match spec.cpu {
        None => Ok(None),
        Some(c) if c.fract() == 0.0 && (1.0..=4096.0).contains(&c) => Ok(Some(c as i64)),
        Some(c) => Err(Error::invalid_input(format!(
            "create_vm: vCloud VMs take a whole number of CPUs (1 to 4096), not {c}"
        ))),
    }
}

/// The memory of `spec` as vCD takes it: a multiple of 4 MB.
fn memory_of(spec: &VmSpec) -> Result<Option<i64>> {
    match spec.memory_mb {
        None => Ok(None),
        Some(mb) => {
            let mb = i64::try_from(mb)
                .map_err(|_| Error::invalid_input(format!("create_vm: {mb} MB is too large")))?;
            crate::workload::reconfig::check_memory_mb(mb)?;
            Ok(Some(mb))
        }
    }
}

/// The neutral state of a vCD VM `status` (as in query records).
pub fn vcd_power_state(status: Option<&str>) -> VmPowerState {
    match status {
        Some("POWERED_ON") => VmPowerState::Running,
        Some("POWERED_OFF" | "RESOLVED" | "UNDEPLOYED") => VmPowerState::Stopped,
        Some("SUSPENDED" | "PARTIALLY_SUSPENDED") => VmPowerState::Suspended,
        Some("UNRESOLVED" | "WAITING_FOR_INPUT" | "MIXED") => VmPowerState::Transitioning,
        Some("FAILED_CREATION" | "INCONSISTENT_STATE") => VmPowerState::Error,
        _ => VmPowerState::Unknown,
    }
}

fn vcd_summary(r: &VmRecord) -> VmSummary {
    let mut s = VmSummary::new(
        "vcloud",
        r.uuid().unwrap_or_default(),
        r.name.clone().unwrap_or_default(),
        vcd_power_state(r.status.as_deref()),
    )
    .with_provider_state(r.status.clone().unwrap_or_default());
    if let Some(c) = r.number_of_cpus {
        s = s.with_cpu(c as f64);
    }
    if let Some(m) = r.memory_mb.and_then(|m| u64::try_from(m).ok()) {
        s = s.with_memory_mb(m);
    }
    if let Some(ip) = r.ip_address.as_deref().and_then(|i| i.parse().ok()) {
        s = s.with_ip(ip);
    }
    s
}

#[async_trait]
impl Compute for VcdCompute {
    fn provider(&self) -> &str {
        "vcloud"
    }

    async fn list_vms(&self) -> Result<Vec<VmSummary>> {
        Ok(self
            .records()
            .await?
            .iter()
            .filter(|r| r.is_vapp_template != Some(true))
            .map(vcd_summary)
            .collect())
    }

    async fn get_vm(&self, id: &str) -> Result<VmSummary> {
        Ok(vcd_summary(&self.record(id).await?))
    }

    async fn start_vm(&self, id: &str) -> Result<()> {
        self.power(id, "powerOn").await
    }

    async fn stop_vm(&self, id: &str) -> Result<()> {
        self.power(id, "powerOff").await
    }

    async fn reboot_vm(&self, id: &str) -> Result<()> {
        self.power(id, "reboot").await
    }

    async fn delete_vm(&self, id: &str) -> Result<()> {
        let rec = self.record(id).await?;
        let resp = self
            .client
            .send(ApiRequest::delete(rec.href.clone()))
            .await?;
        match resp.task()? {
            Some(task) => self.wait(&task).await,
            None => Ok(()),
        }
    }

    async fn create_vm(&self, spec: &VmSpec) -> Result<VmSummary> {
        spec.validate()?;
        let cpus = whole_cpus(spec)?;
        let memory = memory_of(spec)?;
        let ws = self.workloads();
        let template = ws.vapp_template(spec.template.trim());
        let tdoc = template.get().await?;
        let tvms = tdoc.vm_templates();
        let [tvm] = tvms else {
            return Err(Error::invalid_input(format!(
                "create_vm: the vApp template {:?} holds {} VMs; Compute::create_vm makes one \
                 (use VdcHandle::instantiate for multi-VM templates)",
                spec.template,
                tvms.len()
            )));
        };
        let tvm_name = tvm.name.clone().unwrap_or_default();
        let vdc = self.target_vdc(&ws).await?;
        let name = spec.name.trim();
        let params = InstantiateParams::new(name)
            .power_on(false)
            .vm(tvm_name, VmSettings::named(name));
        let vapp = vdc.instantiate(&template, params).wait().await?;
        // From here on the vApp exists: a failure names it, so it can be cleaned up.
        let in_vapp = |e: Error| e.context(format!("create_vm: vApp {name:?} was created"));
        let vm = vapp
            .vms()
            .await
            .map_err(in_vapp)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::protocol(format!("create_vm: the new vApp {name:?} has no VM"))
            })?;
        if let Some(count) = cpus {
            let current = vm.get().await.map_err(in_vapp)?;
            let cores = current
                .virtual_hardware_section()
                .and_then(|h| h.cores_per_socket())
                .filter(|c| *c >= 1 && count % c == 0)
                .unwrap_or(1);
            vm.set_cpu(count, cores).wait().await.map_err(in_vapp)?;
        }
        if let Some(mb) = memory {
            vm.set_memory_mb(mb).wait().await.map_err(in_vapp)?;
        }
        if spec.power_on {
            vapp.power_on().wait().await.map_err(in_vapp)?;
        }
        let href = vm.href().await.map_err(in_vapp)?;
        tracing::debug!(vm = %href, vapp = %name, "created a VM through Compute");
        self.get_vm(&href).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_ids_and_spec_values_are_checked() {
        let u = "4f1c1d12-8a55-4e3b-9ad6-1f2d3e4c5b6a";
        for id in [
            u.to_owned(),
            format!("vm-{u}"),
            format!("urn:vcloud:vm:{u}"),
            format!("https://vcd.example.com/api/vApp/vm-{u}"),
        ] {
            assert_eq!(parse_vm_id(&id).expect("id").to_string(), u, "{id}");
        }
        assert_eq!(
            parse_vm_id("web-1").expect_err("name").kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            whole_cpus(&VmSpec::new("a", "t").cpu(2.0)).expect("2"),
            Some(2)
        );
        assert!(whole_cpus(&VmSpec::new("a", "t").cpu(0.5)).is_err());
        assert_eq!(
            memory_of(&VmSpec::new("a", "t").memory_mb(2048)).expect("ok"),
            Some(2048)
        );
        assert!(memory_of(&VmSpec::new("a", "t").memory_mb(1023)).is_err());
        assert!(memory_of(&VmSpec::new("a", "t").memory_mb(u64::MAX)).is_err());
    }

    #[test]
    fn vcd_states_map_to_neutral_states() {
        assert_eq!(vcd_power_state(Some("POWERED_ON")), VmPowerState::Running);
        assert_eq!(vcd_power_state(Some("POWERED_OFF")), VmPowerState::Stopped);
        assert_eq!(vcd_power_state(Some("SUSPENDED")), VmPowerState::Suspended);
        assert_eq!(vcd_power_state(None), VmPowerState::Unknown);
    }
}
