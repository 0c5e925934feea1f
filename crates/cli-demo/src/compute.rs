//! The multi-cloud `Compute` trait of nebulair-core, implemented over an OpenNebula
//! client and over a vCloud Director client, so the demo (and `nebulair`) can treat the
//! VMs of both clouds alike.

use async_trait::async_trait;
use futures::TryStreamExt as _;
use nebulair_core::{Compute, Error, ErrorKind, Result, VmPowerState, VmSummary};
use nebulair_opennebula::ids::VmId;
use nebulair_opennebula::model::{LcmState, Vm, VmPool, VmState};
use nebulair_opennebula::pool::PoolFilter;
use nebulair_opennebula::{OneClient, VmAction};
use nebulair_vcloud::query::{Query, QueryType, VmRecord};
use nebulair_vcloud::{ApiRequest, VcdClient};

/// OpenNebula VMs as [`Compute`].
#[derive(Debug, Clone)]
pub(crate) struct OneCompute {
    client: OneClient,
}

impl OneCompute {
    /// Wraps a client.
    pub(crate) fn new(client: OneClient) -> Self {
        OneCompute { client }
    }
}

/// The neutral state of an OpenNebula VM.
pub(crate) fn one_power_state(state: Option<i64>, lcm: Option<i64>) -> VmPowerState {
    match state.map(VmState::from_code) {
        Some(VmState::Active) => match lcm.map(LcmState::from_code) {
            Some(LcmState::Running) => VmPowerState::Running,
            _ => VmPowerState::Transitioning,
        },
        Some(VmState::Init | VmState::Pending | VmState::Hold | VmState::Cloning) => {
            VmPowerState::Pending
        }
        Some(VmState::Poweroff | VmState::Stopped | VmState::Undeployed) => VmPowerState::Stopped,
        Some(VmState::Suspended) => VmPowerState::Suspended,
        Some(VmState::Done) => VmPowerState::Terminated,
        Some(VmState::Failed | VmState::CloningFailure) => VmPowerState::Error,
        _ => VmPowerState::Unknown,
    }
}

fn one_summary(
    id: VmId,
    name: Option<&str>,
    state: Option<i64>,
    lcm: Option<i64>,
    tpl: &nebulair_opennebula::Template,
) -> VmSummary {
    let provider_state = crate::commands::one_view::vm_state(state, lcm);
    let mut s = VmSummary::new(
        "opennebula",
        id.to_string(),
        name.unwrap_or_default(),
        one_power_state(state, lcm),
    )
    .with_provider_state(provider_state);
    if let Some(cpu) = tpl.get_str("CPU").and_then(|c| c.parse().ok()) {
        s = s.with_cpu(cpu);
    }
    if let Some(mem) = tpl.get_str("MEMORY").and_then(|m| m.parse().ok()) {
        s = s.with_memory_mb(mem);
    }
    for nic in tpl.vectors("NIC") {
        if let Some(ip) = nic.get("IP").and_then(|i| i.parse().ok()) {
            s = s.with_ip(ip);
        }
    }
    s
}

fn one_id(id: &str) -> Result<VmId> {
    id.parse::<VmId>()
        .map_err(|_| Error::invalid_input(format!("{id:?} is not an OpenNebula VM id")))
}

#[async_trait]
impl Compute for OneCompute {
    fn provider(&self) -> &str {
        "opennebula"
    }

    async fn list_vms(&self) -> Result<Vec<VmSummary>> {
        let pool: VmPool = self.client.vms().info(&PoolFilter::all()).await?;
        Ok(pool
            .vm
            .iter()
            .map(|v| one_summary(v.id, v.name.as_deref(), v.state, v.lcm_state, &v.template))
            .collect())
    }

    async fn get_vm(&self, id: &str) -> Result<VmSummary> {
        let vm: Vm = self.client.vm(one_id(id)?).info().await?;
        Ok(one_summary(
            vm.id,
            vm.name.as_deref(),
            vm.state,
            vm.lcm_state,
            &vm.template,
        ))
    }

    async fn start_vm(&self, id: &str) -> Result<()> {
        self.client
            .vm(one_id(id)?)
            .action(VmAction::Resume)
            .await
            .map(drop)
    }

    async fn stop_vm(&self, id: &str) -> Result<()> {
        self.client
            .vm(one_id(id)?)
            .action(VmAction::Poweroff)
            .await
            .map(drop)
    }

    async fn reboot_vm(&self, id: &str) -> Result<()> {
        self.client
            .vm(one_id(id)?)
            .action(VmAction::Reboot)
            .await
            .map(drop)
    }

    async fn delete_vm(&self, id: &str) -> Result<()> {
        self.client
            .vm(one_id(id)?)
            .action(VmAction::Terminate)
            .await
            .map(drop)
    }
}

/// vCloud Director VMs (from the query service) as [`Compute`].
#[derive(Debug, Clone)]
pub(crate) struct VcdCompute {
    client: VcdClient,
}

impl VcdCompute {
    /// Wraps a client.
    pub(crate) fn new(client: VcdClient) -> Self {
        VcdCompute { client }
    }

    async fn records(&self) -> Result<Vec<VmRecord>> {
        Query::new(QueryType::Vm)
            .stream_typed::<VmRecord>(&self.client)
            .try_collect()
            .await
    }

    async fn record(&self, id: &str) -> Result<VmRecord> {
        let want = id.trim_start_matches("vm-").to_ascii_lowercase();
        self.records()
            .await?
            .into_iter()
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
        self.client.wait_for(&task).await.map(drop)
    }
}

/// The neutral state of a vCD VM `status`.
pub(crate) fn vcd_power_state(status: Option<&str>) -> VmPowerState {
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
            Some(task) => self.client.wait_for(&task).await.map(drop),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_states_map_to_neutral_states() {
        assert_eq!(one_power_state(Some(3), Some(3)), VmPowerState::Running);
        assert_eq!(
            one_power_state(Some(3), Some(1)),
            VmPowerState::Transitioning
        );
        assert_eq!(one_power_state(Some(1), None), VmPowerState::Pending);
        assert_eq!(one_power_state(Some(8), Some(0)), VmPowerState::Stopped);
        assert_eq!(one_power_state(Some(6), None), VmPowerState::Terminated);
        assert_eq!(one_power_state(Some(7), None), VmPowerState::Error);
        assert_eq!(one_power_state(None, None), VmPowerState::Unknown);
    }

    #[test]
    fn vcd_states_map_to_neutral_states() {
        assert_eq!(vcd_power_state(Some("POWERED_ON")), VmPowerState::Running);
        assert_eq!(vcd_power_state(Some("POWERED_OFF")), VmPowerState::Stopped);
        assert_eq!(vcd_power_state(Some("SUSPENDED")), VmPowerState::Suspended);
        assert_eq!(vcd_power_state(None), VmPowerState::Unknown);
    }
}
