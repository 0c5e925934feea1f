//! The multi-cloud [`Compute`] trait of nebulair-core for vCloud Director.
//!
//! [`VcdCompute`] maps the query service's VM records onto [`VmSummary`] and the VM power
//! actions (`powerOn`, `powerOff`, `reboot`, each a vCD Task that is waited for) onto the
//! trait's verbs, so code can drive OpenNebula and vCloud VMs through one
//! `Box<dyn Compute>`.

use crate::client::{ApiRequest, VcdClient};
use crate::query::{Query, QueryType, VmRecord};
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt as _;
use nebulair_core::{Compute, Error, ErrorKind, Result, VmPowerState, VmSummary};

/// vCloud Director VMs (from the query service) as [`Compute`].
///
/// Ids are the VM UUIDs, with or without the `vm-` prefix. [`Compute::list_vms`] leaves
/// out VMs that belong to vApp templates. Errors: a VM id that no query record carries is
/// [`ErrorKind::NotFound`]; a power action whose Task ends in error fails with the Task's
/// message.
#[derive(Debug, Clone)]
pub struct VcdCompute {
    client: VcdClient,
    poll_interval: Duration,
}

impl VcdCompute {
    /// Wraps a logged-in client.
    pub fn new(client: VcdClient) -> Self {
        VcdCompute {
            client,
            poll_interval: Duration::from_secs(5),
        }
    }

    /// How often the Task of a power action is polled (default 5 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
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
        self.wait(&task).await
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcd_states_map_to_neutral_states() {
        assert_eq!(vcd_power_state(Some("POWERED_ON")), VmPowerState::Running);
        assert_eq!(vcd_power_state(Some("POWERED_OFF")), VmPowerState::Stopped);
        assert_eq!(vcd_power_state(Some("SUSPENDED")), VmPowerState::Suspended);
        assert_eq!(vcd_power_state(None), VmPowerState::Unknown);
    }
}
