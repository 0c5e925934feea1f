//! OpenNebula SDK: every XML-RPC method, typed resources for every schema, templates, typed errors and the OneGate client.
#![cfg_attr(docsrs, feature(doc_cfg))]
