//! The OneGate simulator endpoints (filled by the OneGate work).
