//! The vCloud simulator (filled by the vCloud simulator work).
