//! The high-level API, one module per resource family (filled by the client work).
