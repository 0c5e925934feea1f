//! The two entry points the OneFlow simulator ([`crate::oneflow`]) needs on the oned
//! state: in-process XML-RPC (OneFlow is an XML-RPC client of oned, so it goes through
//! the same checks as any client) and a way for tests to set a VM's monitoring values,
//! which elasticity policies read.

use nebulair_core::{Error, ErrorKind, Result};

use super::OneState;
use super::state::Kind;

impl OneState {
    /// Handles one XML-RPC request body in-process (no HTTP, no fault injection) and
    /// returns the response body, as [`OneSimHandle::call_raw`](super::OneSimHandle::call_raw).
    pub fn call_raw(&self, body: &[u8]) -> String {
        self.engine.handle(body)
    }

    /// Appends a monitoring sample to VM `id` with `cpu` (percent of one CPU, as oned's
    /// `MONITORING/CPU`) and `memory_kb` (`MONITORING/MEMORY`; the last sample's value
    /// when `None`), stamped now. The network counters carry on from the last sample.
    ///
    /// The simulator adds its own random samples every
    /// [`monitor_interval`](super::OneSimulatorBuilder::monitor_interval); set a long
    /// interval when a test needs its values to stay the last ones.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when there is no such VM, [`ErrorKind::InvalidInput`] for a
    /// negative or non-finite `cpu`.
    pub fn push_monitoring(&self, id: i32, cpu: f64, memory_kb: Option<i64>) -> Result<()> {
        if !cpu.is_finite() || cpu < 0.0 {
            return Err(Error::invalid_input(format!(
                "monitoring CPU {cpu}: expected a non-negative number"
            )));
        }
        let mut st = self.engine.write();
        let v = st
            .pool_mut(Kind::Vm)
            .objs
            .get_mut(&id)
            .and_then(|o| o.vm_mut())
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("VM {id} does not exist")))?;
        let prev = v.monitoring.last().copied().unwrap_or((0, 0.0, 0, 0, 0));
        v.monitoring.push((
            super::state::now(),
            cpu,
            memory_kb.unwrap_or(prev.2),
            prev.3,
            prev.4,
        ));
        if v.monitoring.len() > 20 {
            v.monitoring.remove(0);
        }
        Ok(())
    }
}
