#![no_main]
//! Error answers of every vCloud service (vCD `Error` XML, cloudapi JSON errors, NSX JSON,
//! OAuth errors) as `error_from_response` reads them, and the cloudapi / On-Demand JSON
//! documents (instance and plan lists). The first byte picks the HTTP status.

use libfuzzer_sys::fuzz_target;
use nebulair_core::HttpResponse;
use nebulair_vcloud::error_from_response;
use nebulair_vcloud::session::OdInstance;

const STATUSES: [u16; 8] = [400, 401, 403, 404, 406, 409, 500, 503];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(sel) % STATUSES.len()];
    let resp = HttpResponse::new(status, rest.to_vec()).with_header(
        "content-type",
        if sel & 8 == 0 {
            "application/json"
        } else {
            "application/xml"
        },
    );
    let err = error_from_response("GET /api/org", &resp);
    let _ = err.to_string();
    if let Ok(text) = std::str::from_utf8(rest) {
        let (a, b) = text.split_once('\u{1}').unwrap_or((text, "{}"));
        let _ = OdInstance::list_from_json(a, b);
    }
});
