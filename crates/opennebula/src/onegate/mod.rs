//! The OneGate client (filled by the OneGate work).
