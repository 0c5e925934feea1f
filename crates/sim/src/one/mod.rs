//! The OpenNebula (oned) XML-RPC simulator (filled by the simulator work).
