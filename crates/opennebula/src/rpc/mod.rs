//! XML-RPC wire encoding and decoding, as oned speaks it.
//!
//! * Requests are encoded with [`dxr`]: integers as `<i4>` (oned answers `<i8>` parameters
//!   with fault -501), booleans as `<boolean>`, the session string first.
//! * Responses are decoded by our own single-pass decoder on `quick-xml`
//!   ([`decode_response`]): it accepts `<i4>`, `<int>`, `<i8>`, `<boolean>`, `<string>`,
//!   `<double>`, `<base64>`, `<dateTime.iso8601>`, `<nil/>`, a `<value>` without a type (a
//!   string), arrays, structs and `<fault>`. A `<string>` holding a large XML document is
//!   located with `memchr` and unescaped in one pass into its final `String`, so a 40 MB VM
//!   pool costs one copy.
//! * [`stream`] decodes the items of one large pool response one at a time as its body
//!   arrives ([`stream::PoolReader`], [`stream::decode_stream`]), in memory flat in the
//!   pool size.
//! * [`into_one_result`] reads OpenNebula's `[ok, value, code, (object id, replication
//!   index)]` array and maps failures to typed errors ([`OneErrorCode`]).
//!
//! ```
//! use nebulair_opennebula::rpc::{self, RpcValue};
//!
//! # fn main() -> nebulair_opennebula::Result<()> {
//! let body = rpc::encode_call("one.vm.info", "oneadmin:secret", &[RpcValue::from(7), false.into()])?;
//! assert!(body.contains("<methodName>one.vm.info</methodName>"));
//! assert!(body.contains("<i4>7</i4>"));
//!
//! let response = br#"<?xml version="1.0"?><methodResponse><params><param><value><array><data>
//!   <value><boolean>1</boolean></value><value><string>&lt;VM&gt;&lt;ID&gt;7&lt;/ID&gt;&lt;/VM&gt;</string></value>
//!   <value><i4>0</i4></value></data></array></value></param></params></methodResponse>"#;
//! let value = rpc::decode_one(response, "one.vm.info")?;
//! assert_eq!(value.as_str(), Some("<VM><ID>7</ID></VM>"));
//! # Ok(())
//! # }
//! ```

mod decode;
pub mod stream;

use std::borrow::Cow;
use std::fmt;

use nebulair_core::{Error, ErrorKind, Result, ServiceError};

pub use crate::error::OneErrorCode;
pub use decode::{RpcResponse, decode_response};

/// An XML-RPC value.
///
/// `Debug` shows strings in full; the session string is never part of a value (it is
/// added by [`encode_call`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RpcValue {
    /// `<i4>` / `<int>`.
    Int(i32),
    /// `<i8>` (never sent by the typed API except for the raft internals).
    I8(i64),
    /// `<boolean>`.
    Bool(bool),
    /// `<string>` or an untyped `<value>`.
    String(String),
    /// `<double>`.
    Double(f64),
    /// `<base64>`, decoded.
    Base64(Vec<u8>),
    /// `<dateTime.iso8601>`, as sent.
    DateTime(String),
    /// `<array>`.
    Array(Vec<RpcValue>),
    /// `<struct>`, members in order.
    Struct(Vec<(String, RpcValue)>),
    /// `<nil/>`.
    Nil,
}

impl RpcValue {
    /// The XML-RPC type name (`i4`, `string`, ...), for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            RpcValue::Int(_) => "i4",
            RpcValue::I8(_) => "i8",
            RpcValue::Bool(_) => "boolean",
            RpcValue::String(_) => "string",
            RpcValue::Double(_) => "double",
            RpcValue::Base64(_) => "base64",
            RpcValue::DateTime(_) => "dateTime.iso8601",
            RpcValue::Array(_) => "array",
            RpcValue::Struct(_) => "struct",
            RpcValue::Nil => "nil",
        }
    }

    /// The integer, for `<i4>`, or an `<i8>` that fits in 32 bits.
    pub fn as_i32(&self) -> Option<i32> {
        match self {
            RpcValue::Int(i) => Some(*i),
            RpcValue::I8(i) => i32::try_from(*i).ok(),
            _ => None,
        }
    }

    /// The integer, for `<i4>` or `<i8>`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            RpcValue::Int(i) => Some(i64::from(*i)),
            RpcValue::I8(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean (also accepts the integers 0 and 1).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            RpcValue::Bool(b) => Some(*b),
            RpcValue::Int(0) => Some(false),
            RpcValue::Int(1) => Some(true),
            _ => None,
        }
    }

    /// The string, for `<string>` or an untyped value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RpcValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The array elements.
    pub fn as_array(&self) -> Option<&[RpcValue]> {
        match self {
            RpcValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Takes the string out without copying.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the value is not a string.
    pub fn into_string(self) -> Result<String> {
        match self {
            RpcValue::String(s) => Ok(s),
            other => Err(Error::protocol(format!(
                "expected a string in the response, got <{}>",
                other.type_name()
            ))),
        }
    }

    /// The integer of an `<i4>` (or an `<i8>` that fits).
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the value is not an integer.
    pub fn into_i32(self) -> Result<i32> {
        self.as_i32().ok_or_else(|| {
            Error::protocol(format!(
                "expected an integer in the response, got <{}>",
                self.type_name()
            ))
        })
    }

    /// The integer of an `<i4>` or `<i8>`.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the value is not an integer.
    pub fn into_i64(self) -> Result<i64> {
        self.as_i64().ok_or_else(|| {
            Error::protocol(format!(
                "expected an integer in the response, got <{}>",
                self.type_name()
            ))
        })
    }

    fn to_dxr(&self) -> Result<dxr::Value> {
        use dxr::TryToValue;
        Ok(match self {
            RpcValue::Int(i) => dxr::Value::Integer(*i),
            RpcValue::I8(i) => dxr::Value::Long(*i),
            RpcValue::Bool(b) => dxr::Value::Boolean(*b),
            RpcValue::String(s) => dxr::Value::String(s.clone()),
            RpcValue::Double(d) => dxr::Value::Double(*d),
            RpcValue::Base64(b) => dxr::Value::Base64(b.clone()),
            RpcValue::DateTime(s) => {
                let dt: dxr::DateTime = s.parse().map_err(|_| {
                    Error::invalid_input(format!("invalid XML-RPC dateTime.iso8601 value {s:?}"))
                })?;
                dxr::Value::DateTime(dt)
            }
            RpcValue::Array(a) => {
                let values = a.iter().map(RpcValue::to_dxr).collect::<Result<Vec<_>>>()?;
                values
                    .try_to_value()
                    .map_err(|e| Error::invalid_input(format!("cannot encode an array: {e}")))?
            }
            RpcValue::Struct(members) => {
                let mut map = std::collections::HashMap::new();
                for (k, v) in members {
                    map.insert(k.clone(), v.to_dxr()?);
                }
                map.try_to_value()
                    .map_err(|e| Error::invalid_input(format!("cannot encode a struct: {e}")))?
            }
            RpcValue::Nil => dxr::Value::Nil,
        })
    }
}

impl fmt::Display for RpcValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcValue::Int(i) => write!(f, "{i}"),
            RpcValue::I8(i) => write!(f, "{i}"),
            RpcValue::Bool(b) => write!(f, "{b}"),
            RpcValue::String(s) => f.write_str(s),
            RpcValue::Double(d) => write!(f, "{d}"),
            RpcValue::Base64(b) => write!(f, "<{} bytes>", b.len()),
            RpcValue::DateTime(s) => f.write_str(s),
            RpcValue::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            RpcValue::Struct(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            RpcValue::Nil => f.write_str("nil"),
        }
    }
}

impl From<i32> for RpcValue {
    fn from(v: i32) -> Self {
        RpcValue::Int(v)
    }
}

impl From<bool> for RpcValue {
    fn from(v: bool) -> Self {
        RpcValue::Bool(v)
    }
}

impl From<&str> for RpcValue {
    fn from(v: &str) -> Self {
        RpcValue::String(v.to_owned())
    }
}

impl From<String> for RpcValue {
    fn from(v: String) -> Self {
        RpcValue::String(v)
    }
}

impl From<f64> for RpcValue {
    fn from(v: f64) -> Self {
        RpcValue::Double(v)
    }
}

impl<T: Into<RpcValue>> From<Vec<T>> for RpcValue {
    fn from(v: Vec<T>) -> Self {
        RpcValue::Array(v.into_iter().map(Into::into).collect())
    }
}

macro_rules! rpc_from_id {
    ($($t:ident),+) => {$(
        impl From<crate::ids::$t> for RpcValue {
            fn from(v: crate::ids::$t) -> Self {
                RpcValue::Int(v.get())
            }
        }
    )+};
}
rpc_from_id!(
    VmId,
    HostId,
    ClusterId,
    DatastoreId,
    ImageId,
    TemplateId,
    VnetId,
    VnTemplateId,
    UserId,
    GroupId,
    AclId,
    ZoneId,
    DocumentId,
    MarketId,
    MarketAppId,
    SecGroupId,
    VmGroupId,
    VrouterId,
    VdcId,
    HookId,
    BackupJobId
);

/// The full method name: `vm.info` becomes `one.vm.info`; a name already starting with
/// `one.` is kept.
pub fn full_method_name(method: &str) -> Cow<'_, str> {
    if method.starts_with("one.") {
        Cow::Borrowed(method)
    } else {
        Cow::Owned(format!("one.{method}"))
    }
}

/// Whether a method only reads (`*.info*`, `*pool.info*`, monitoring, accounting,
/// showback, `system.version`/`config`, `zone.raftstatus`): such calls are retried on
/// transport errors; every other call runs once.
pub fn is_read_only(method: &str) -> bool {
    let m = method.strip_prefix("one.").unwrap_or(method);
    let Some((ns, op)) = m.split_once('.') else {
        return false;
    };
    if ns == "system" {
        return matches!(op, "version" | "config");
    }
    op.starts_with("info") || matches!(op, "monitoring" | "accounting" | "showback" | "raftstatus")
}

/// Encodes a method call: the session string first, then `params`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when a value cannot be encoded (an invalid dateTime) or
/// contains a character XML cannot carry. The error never includes the session.
pub fn encode_call(method: &str, session: &str, params: &[RpcValue]) -> Result<String> {
    let mut values = Vec::with_capacity(params.len() + 1);
    values.push(dxr::Value::String(session.to_owned()));
    for p in params {
        values.push(p.to_dxr()?);
    }
    for (i, p) in params.iter().enumerate() {
        check_xml_chars(p).map_err(|c| {
            Error::invalid_input(format!(
                "{method}: parameter {} contains the character {c:?}, which XML cannot carry",
                i + 1
            ))
        })?;
    }
    if session.chars().any(|c| !xml_char(c)) {
        return Err(Error::invalid_input(format!(
            "{method}: the session string contains a character XML cannot carry"
        )));
    }
    let call = dxr::MethodCall {
        name: Cow::Borrowed(method),
        params: values,
    };
    let xml = call
        .to_xml()
        .map_err(|_| Error::invalid_input(format!("{method}: the call could not be encoded")))?;
    let mut body = String::with_capacity(xml.len() + 22);
    body.push_str("<?xml version=\"1.0\"?>\n");
    body.push_str(&xml);
    Ok(body)
}

fn xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

fn check_xml_chars(v: &RpcValue) -> std::result::Result<(), char> {
    match v {
        RpcValue::String(s) | RpcValue::DateTime(s) => match s.chars().find(|c| !xml_char(*c)) {
            Some(c) => Err(c),
            None => Ok(()),
        },
        RpcValue::Array(a) => a.iter().try_for_each(check_xml_chars),
        RpcValue::Struct(m) => m.iter().try_for_each(|(_, v)| check_xml_chars(v)),
        _ => Ok(()),
    }
}

/// Interprets OpenNebula's response array for `method`: `[true, value, 0]` gives `value`;
/// `[false, message, code, object id, replication index]` gives the typed error.
///
/// # Errors
/// The mapped OpenNebula error (see [`OneErrorCode`]), or [`ErrorKind::Protocol`] when the
/// value is not such an array.
pub fn into_one_result(value: RpcValue, method: &str) -> Result<RpcValue> {
    let RpcValue::Array(items) = value else {
        return Err(Error::protocol(format!(
            "{method}: expected a response array, got <{}>",
            value.type_name()
        )));
    };
    if items.len() < 2 {
        return Err(Error::protocol(format!(
            "{method}: response array has {} elements, expected at least 2",
            items.len()
        )));
    }
    let mut it = items.into_iter();
    let ok = it.next().and_then(|v| v.as_bool()).ok_or_else(|| {
        Error::protocol(format!(
            "{method}: the first response element is not a boolean"
        ))
    })?;
    let value = it.next().unwrap_or(RpcValue::Nil);
    if ok {
        return Ok(value);
    }
    let message = match value {
        RpcValue::String(s) => s,
        other => other.to_string(),
    };
    let code = it.next().and_then(|v| v.as_i64()).unwrap_or(-1);
    let resource = it.next().and_then(|v| v.as_i64());
    Err(crate::error::one_error(method, code, message, resource))
}

/// Decodes a whole response body for `method`: the envelope, then OpenNebula's result
/// array. Returns the success value (moved, not copied).
///
/// # Errors
/// [`ErrorKind::Protocol`] for a malformed body; the mapped error for a fault or an
/// OpenNebula failure.
pub fn decode_one(body: &[u8], method: &str) -> Result<RpcValue> {
    match decode_response(body)? {
        RpcResponse::Value(v) => into_one_result(v, method),
        RpcResponse::Fault { code, message } => Err(fault_error(method, code, message)),
    }
}

/// Decodes a response whose success value is a string (an XML document, a token) and
/// returns that string without copying it again.
///
/// # Errors
/// As [`decode_one`], plus [`ErrorKind::Protocol`] when the value is not a string.
pub fn decode_string(body: &[u8], method: &str) -> Result<String> {
    decode_one(body, method)?.into_string()
}

/// Decodes a response whose success value is an XML document straight into a typed
/// resource (`model::VmPool`, `model::Vm`, ...): the path `OneClient`'s typed calls take
/// from the HTTP body to the model. The body is released as soon as the document has been
/// taken out of it.
///
/// # Errors
/// As [`decode_string`], plus whatever `T::from_str` returns for the document
/// ([`ErrorKind::Protocol`] for the generated models).
pub fn decode_document<T>(body: bytes::Bytes, method: &str) -> Result<T>
where
    T: std::str::FromStr<Err = Error>,
{
    decode_one_owned(body, method)?.into_string()?.parse()
}

/// As [`decode_one`], taking the body by value: a large document (a pool) is unescaped in
/// place in the body's buffer (not copied when the [`Bytes`](bytes::Bytes) is not shared),
/// so decoding needs no second buffer the size of the document. This is what `OneClient`
/// uses.
///
/// # Errors
/// As [`decode_one`].
pub fn decode_one_owned(body: bytes::Bytes, method: &str) -> Result<RpcValue> {
    match decode::decode_response_owned(body)? {
        RpcResponse::Value(v) => into_one_result(v, method),
        RpcResponse::Fault { code, message } => Err(fault_error(method, code, message)),
    }
}

/// The error for an XML-RPC `<fault>` (raised by the XML-RPC layer before OpenNebula sees
/// the call): -501 (wrong parameter type or count) and -506 (unknown method) are
/// [`ErrorKind::InvalidInput`]; other codes (e.g. -503, malformed call) are
/// [`ErrorKind::Protocol`].
pub fn fault_error(method: &str, code: i32, message: String) -> Error {
    let kind = match code {
        -501 | -502 | -506 => ErrorKind::InvalidInput,
        _ => ErrorKind::Protocol,
    };
    Error::new(kind, format!("{method}: XML-RPC fault {code}: {message}")).with_service(
        ServiceError::new("opennebula", i64::from(code), message)
            .with_code_name("XMLRPC_FAULT")
            .with_operation(method),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_detection() {
        for m in [
            "one.vm.info",
            "one.vmpool.infoextended",
            "one.vmpool.infoset",
            "one.hostpool.info",
            "one.system.version",
            "one.system.config",
            "one.vm.monitoring",
            "one.zone.raftstatus",
            "one.userquota.info",
            "vm.info",
        ] {
            assert!(is_read_only(m), "{m}");
        }
        for m in [
            "one.vm.action",
            "one.vm.allocate",
            "one.system.sql",
            "one.vmpool.calculateshowback",
            "one.template.instantiate",
            "bogus",
        ] {
            assert!(!is_read_only(m), "{m}");
        }
    }

    #[test]
    fn encodes_i4_boolean_and_escapes() -> Result<()> {
        let body = encode_call(
            "one.vm.update",
            "a&b:<p>",
            &[
                RpcValue::Int(-1),
                true.into(),
                "x<y & \"z\"".into(),
                vec![1, 2].into(),
            ],
        )?;
        assert!(
            body.contains("<string>a&amp;b:&lt;p&gt;</string>"),
            "{body}"
        );
        assert!(body.contains("<i4>-1</i4>"), "{body}");
        assert!(body.contains("<boolean>1</boolean>"), "{body}");
        assert!(body.contains("x&lt;y &amp; "), "{body}");
        assert!(
            body.contains("<array><data><value><i4>1</i4></value>"),
            "{body}"
        );
        let err = encode_call("one.vm.update", "secret:pw", &["\u{1}".into()])
            .expect_err("control character");
        assert!(!err.to_string().contains("secret"));
        Ok(())
    }

    #[test]
    fn decode_document_reads_the_model_and_maps_failures() {
        let body = bytes::Bytes::from_static(
            b"<methodResponse><params><param><value><array><data><value><boolean>1</boolean>\
              </value><value><string>&lt;VM_POOL&gt;&lt;VM&gt;&lt;ID&gt;3&lt;/ID&gt;&lt;NAME&gt;a \
              &amp;amp; b&lt;/NAME&gt;&lt;/VM&gt;&lt;/VM_POOL&gt;</string></value><value><i4>0</i4>\
              </value></data></array></value></param></params></methodResponse>",
        );
        let pool: crate::model::VmPool = decode_document(body, "one.vmpool.info").expect("decodes");
        assert_eq!(pool.vm.len(), 1);
        assert_eq!(pool.vm[0].id.get(), 3);
        assert_eq!(pool.vm[0].name.as_deref(), Some("a & b"));
        let fail = bytes::Bytes::from_static(
            b"<methodResponse><params><param><value><array><data><value><boolean>0</boolean>\
              </value><value><string>[one.vm.info] Error getting virtual machine [9].</string>\
              </value><value><i4>1024</i4></value></data></array></value></param></params>\
              </methodResponse>",
        );
        let err = decode_document::<crate::model::Vm>(fail, "one.vm.info").expect_err("fails");
        assert!(err.is_not_found());
    }

    #[test]
    fn result_arrays() {
        let ok = RpcValue::Array(vec![true.into(), 42.into(), 0.into()]);
        assert_eq!(
            into_one_result(ok, "one.vm.allocate").ok(),
            Some(RpcValue::Int(42))
        );
        let fail = RpcValue::Array(vec![
            false.into(),
            "[one.vm.info] Error getting virtual machine [9].".into(),
            1024.into(),
            9.into(),
            RpcValue::I8(-1),
        ]);
        let err = into_one_result(fail, "one.vm.info").expect_err("failure");
        assert!(err.is_not_found());
        let svc = err.service().expect("service error");
        assert_eq!(svc.code(), 1024);
        assert_eq!(svc.code_name(), Some("NO_EXISTS"));
        assert_eq!(svc.resource_id(), Some("9"));
        assert_eq!(svc.operation(), Some("one.vm.info"));
        assert!(into_one_result(RpcValue::Int(1), "m").is_err());
        assert!(into_one_result(RpcValue::Array(vec![1.5.into(), 1.into()]), "m").is_err());
    }
}
