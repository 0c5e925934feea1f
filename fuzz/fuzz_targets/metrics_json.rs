#![no_main]
//! The metrics service's JSON pages.

use libfuzzer_sys::fuzz_target;
use nebulair_vcloud::MetricData;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = MetricData::from_json_pages([text], &[]);
    let _ = MetricData::from_json_pages([text, text], &["cpu.usage.average".to_owned()]);
});
