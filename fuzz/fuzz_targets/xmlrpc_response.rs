#![no_main]
//! The XML-RPC response envelope oned sends: decoding any bytes gives a value or a typed
//! error, never a panic, a hang or unbounded memory.

use libfuzzer_sys::fuzz_target;
use nebulair_opennebula::rpc;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = rpc::decode_one(data, "one.vm.info") {
        let _ = rpc::into_one_result(v, "one.vm.info");
    }
    let _ = rpc::decode_string(data, "one.vmpool.info");
});
