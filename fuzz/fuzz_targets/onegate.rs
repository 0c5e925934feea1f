#![no_main]
//! OneGate's JSON answers (VM, service, virtual router, virtual network) and the
//! `context.sh` / `one_env` shell files it is configured from.

use libfuzzer_sys::fuzz_target;
use nebulair_opennebula::onegate::{
    OneGateDocument, OneGateService, OneGateVm, OneGateVnet, OneGateVrouter, parse_shell_vars,
};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    match sel % 5 {
        0 => {
            let _ = OneGateVm::from_json(rest);
        }
        1 => {
            let _ = OneGateService::from_json(rest);
        }
        2 => {
            let _ = OneGateVrouter::from_json(rest);
        }
        3 => {
            let _ = OneGateVnet::from_json(rest);
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = parse_shell_vars(text);
            }
        }
    }
});
