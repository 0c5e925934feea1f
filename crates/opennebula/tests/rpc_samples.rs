//! Every recorded oned response and every XML-RPC sample envelope decodes, with the outcome
//! the recording says (success, or the recorded error code), and agrees with dxr's generic
//! decoder.

use nebulair_opennebula::OneErrorCode;
use nebulair_opennebula::rpc::{self, RpcResponse, RpcValue};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rpc/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).expect("data file")
}

/// dxr's value, converted to ours (dxr is the reference for the envelope structure).
fn from_dxr(v: &dxr::Value) -> RpcValue {
    use dxr::TryFromValue;
    match v {
        dxr::Value::Integer(i) => RpcValue::Int(*i),
        dxr::Value::Long(i) => RpcValue::I8(*i),
        dxr::Value::Boolean(b) => RpcValue::Bool(*b),
        dxr::Value::String(s) => RpcValue::String(s.clone()),
        dxr::Value::Double(d) => RpcValue::Double(*d),
        dxr::Value::Nil => RpcValue::Nil,
        other => {
            let items = Vec::<dxr::Value>::try_from_value(other).expect("array");
            RpcValue::Array(items.iter().map(from_dxr).collect())
        }
    }
}

#[test]
fn every_recorded_response_decodes_as_recorded() {
    let index = String::from_utf8(read("index.tsv")).expect("utf-8");
    let mut checked = 0;
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (seq, method, success, code) = (cols[0], cols[1], cols[4], cols[5]);
        let name = format!("{seq}_{method}.response.xml");
        let body = read(&name);
        match rpc::decode_response(&body).expect(&name) {
            RpcResponse::Fault {
                code: fault,
                message,
            } => {
                assert_eq!(success, "fault", "{name}: {fault} {message}");
                assert_eq!(code, fault.to_string(), "{name}");
                let err = rpc::decode_one(&body, method).expect_err("fault");
                assert_eq!(err.service().map(|s| s.code()), Some(i64::from(fault)));
            }
            RpcResponse::Value(v) => {
                let text = std::str::from_utf8(&body).expect("utf-8");
                let reference = dxr::MethodResponse::from_xml(text).expect("dxr decodes it");
                assert_eq!(v, from_dxr(&reference.value), "{name}");
                match rpc::decode_one(&body, method) {
                    Ok(value) => {
                        assert_eq!(success, "true", "{name}");
                        if let Some(doc) = value.as_str()
                            && doc.starts_with('<')
                        {
                            assert!(doc.ends_with('>'), "{name}: document looks truncated");
                        }
                    }
                    Err(e) => {
                        assert_eq!(success, "false", "{name}: {e}");
                        let expected: i64 = code.parse().expect("code");
                        let svc = e.service().expect("service error");
                        assert_eq!(svc.code(), expected, "{name}");
                        assert_eq!(svc.operation(), Some(method));
                        assert!(svc.message().starts_with('['), "{name}");
                        if let Some(c) = OneErrorCode::from_code(expected) {
                            assert_eq!(e.kind(), c.kind(), "{name}");
                        }
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 140, "only {checked} recorded responses");
}

#[test]
fn sample_envelopes_decode() {
    let ok =
        rpc::decode_one(&read("xmlrpc_ok_version.xml"), "one.system.version").expect("version");
    assert!(
        ok.as_str()
            .is_some_and(|v| v.starts_with('7') || v.starts_with('6'))
    );
    let id = rpc::decode_one(&read("xmlrpc_ok_int_allocate.xml"), "one.vm.allocate").expect("id");
    assert_eq!(id, RpcValue::Int(42));
    let doc = rpc::decode_string(&read("xmlrpc_ok_vm_info.xml"), "one.vm.info").expect("vm");
    assert!(doc.starts_with("<VM>"), "{doc}");
    for (file, code) in [
        (
            "xmlrpc_err_authentication.xml",
            OneErrorCode::Authentication,
        ),
        ("xmlrpc_err_authorization.xml", OneErrorCode::Authorization),
        ("xmlrpc_err_no_exists.xml", OneErrorCode::NoExists),
    ] {
        let err = rpc::decode_one(&read(file), "one.vm.info").expect_err(file);
        assert_eq!(OneErrorCode::of(&err), Some(code), "{file}");
        assert_eq!(err.kind(), code.kind());
    }
    match rpc::decode_response(&read("xmlrpc_fault.xml")).expect("fault") {
        RpcResponse::Fault { code, message } => {
            assert_eq!(code, -501);
            assert!(message.contains("too few"));
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn truncated_and_garbage_bodies_are_errors_not_panics() {
    let body = read("002_one.system.config.response.xml");
    for cut in [0, 1, 10, 100, body.len() / 2, body.len() - 20] {
        assert!(rpc::decode_response(&body[..cut]).is_err(), "cut at {cut}");
    }
    let mut flipped = body.clone();
    for i in (0..flipped.len()).step_by(997) {
        flipped[i] = b'<';
        let _ = rpc::decode_response(&flipped);
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn envelope(inner: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value>{inner}</value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>"
        )
    }

    proptest! {
        #[test]
        fn strings_round_trip(s in "\\PC{0,200}") {
            // \r would be kept as-is by our decoder; quick-xml's escape keeps it raw too
            let escaped = quick_xml::escape::escape(s.as_str());
            let body = envelope(&format!("<string>{escaped}</string>"));
            let v = rpc::decode_one(body.as_bytes(), "one.x.info").expect("decodes");
            prop_assert_eq!(v, RpcValue::String(s.clone()));
            // untyped values too
            let body = envelope(&escaped);
            let v = rpc::decode_one(body.as_bytes(), "one.x.info").expect("decodes");
            prop_assert_eq!(v, RpcValue::String(s));
        }

        #[test]
        fn integers_round_trip(i in any::<i32>(), l in any::<i64>()) {
            let body = envelope(&format!("<int>{i}</int>"));
            prop_assert_eq!(rpc::decode_one(body.as_bytes(), "m").expect("int"), RpcValue::Int(i));
            let body = envelope(&format!("<i8>{l}</i8>"));
            prop_assert_eq!(rpc::decode_one(body.as_bytes(), "m").expect("i8"), RpcValue::I8(l));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = rpc::decode_response(&bytes);
        }

        #[test]
        fn markup_garbage_never_panics(s in "[<>/a-z&;#x0-9 \\[\\]!]{0,120}") {
            let _ = rpc::decode_response(envelope(&s).as_bytes());
            let _ = rpc::decode_response(s.as_bytes());
        }
    }
}
