//! (filled by the vCloud work)
