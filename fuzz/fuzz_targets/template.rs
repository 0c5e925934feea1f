#![no_main]
//! The OpenNebula template text syntax and its XML form. Whatever parses must print and
//! parse again.

use libfuzzer_sys::fuzz_target;
use nebulair_opennebula::Template;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Template::parse_text(text) {
        let _ = t.to_string();
    }
    let _ = Template::from_xml(text);
    let _ = Template::parse(text);
});
