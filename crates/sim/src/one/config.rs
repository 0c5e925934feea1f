//! `one.system.config`: the configuration document of the recorded oned 7.5.

/// The `OPENNEBULA_CONFIGURATION` document served by `one.system.config`.
pub(crate) const CONFIG: &str = include_str!("oned-config.xml");
