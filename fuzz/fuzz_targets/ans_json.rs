#![no_main]
//! The ANS (hybridity) firewall, NAT and IPsec configuration documents.

use libfuzzer_sys::fuzz_target;
use nebulair_vcloud::ans::{AnsConfig, Firewall, Ipsec, Nat};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match sel % 3 {
        0 => {
            let _ = AnsConfig::<Firewall>::from_json(text);
        }
        1 => {
            let _ = AnsConfig::<Nat>::from_json(text);
        }
        _ => {
            let _ = AnsConfig::<Ipsec>::from_json(text);
        }
    }
});
