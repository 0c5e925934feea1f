//! OpenNebula templates (filled by the client work).
