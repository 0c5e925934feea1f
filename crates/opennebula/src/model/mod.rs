//! Typed resources decoded from the OpenNebula XML schemas (filled by the model work).
