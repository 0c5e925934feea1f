//! OpenNebula error codes and their mapping to [`nebulair_core::Error`].
//!
//! Every failed call carries a [`ServiceError`] with provider `"opennebula"`, the numeric
//! code, its name ([`OneErrorCode::name`]), the server's message, the method name as the
//! operation and the object id when the server gave one. The session string is never part
//! of an error.
//!
//! ```
//! use nebulair_opennebula::{ErrorKind, OneErrorCode};
//!
//! assert_eq!(OneErrorCode::from_code(0x400), Some(OneErrorCode::NoExists));
//! assert_eq!(OneErrorCode::Locked.kind(), ErrorKind::Conflict);
//! assert_eq!(OneErrorCode::Replication.name(), "REPLICATION");
//! ```

use std::fmt;

use nebulair_core::{Error, ErrorKind, ServiceError};

/// An OpenNebula error code (the third element of a failure response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OneErrorCode {
    /// 0x100: the session was not accepted (wrong password, unknown user, expired token).
    Authentication,
    /// 0x200: the user may not do this (also used by oned for locked objects).
    Authorization,
    /// 0x400: the object does not exist.
    NoExists,
    /// 0x800: the action is not possible in the object's current state.
    Action,
    /// 0x1000: bad parameters (`XML_RPC_API`).
    RpcApi,
    /// 0x2000: an internal error, including most validation failures.
    Internal,
    /// 0x4000: the object could not be allocated.
    Allocate,
    /// 0x8000: the object is locked.
    Locked,
    /// 0x10000: a raft replication failure (federation/HA).
    Replication,
}

impl OneErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [OneErrorCode; 9] = [
        OneErrorCode::Authentication,
        OneErrorCode::Authorization,
        OneErrorCode::NoExists,
        OneErrorCode::Action,
        OneErrorCode::RpcApi,
        OneErrorCode::Internal,
        OneErrorCode::Allocate,
        OneErrorCode::Locked,
        OneErrorCode::Replication,
    ];

    /// The numeric code.
    pub const fn code(self) -> i64 {
        match self {
            OneErrorCode::Authentication => 0x100,
            OneErrorCode::Authorization => 0x200,
            OneErrorCode::NoExists => 0x400,
            OneErrorCode::Action => 0x800,
            OneErrorCode::RpcApi => 0x1000,
            OneErrorCode::Internal => 0x2000,
            OneErrorCode::Allocate => 0x4000,
            OneErrorCode::Locked => 0x8000,
            OneErrorCode::Replication => 0x10000,
        }
    }

    /// The name used by oned's sources (`NO_EXISTS`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            OneErrorCode::Authentication => "AUTHENTICATION",
            OneErrorCode::Authorization => "AUTHORIZATION",
            OneErrorCode::NoExists => "NO_EXISTS",
            OneErrorCode::Action => "ACTION",
            OneErrorCode::RpcApi => "RPC_API",
            OneErrorCode::Internal => "INTERNAL",
            OneErrorCode::Allocate => "ALLOCATE",
            OneErrorCode::Locked => "LOCKED",
            OneErrorCode::Replication => "REPLICATION",
        }
    }

    /// The code for a number, if it is one of OpenNebula's.
    pub fn from_code(code: i64) -> Option<OneErrorCode> {
        OneErrorCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The core error kind: authentication → `Authentication`, authorization →
    /// `Authorization`, no_exists → `NotFound`, action/locked → `Conflict`, rpc_api →
    /// `InvalidInput`, internal/allocate/replication → `Server`.
    pub const fn kind(self) -> ErrorKind {
        match self {
            OneErrorCode::Authentication => ErrorKind::Authentication,
            OneErrorCode::Authorization => ErrorKind::Authorization,
            OneErrorCode::NoExists => ErrorKind::NotFound,
            OneErrorCode::Action | OneErrorCode::Locked => ErrorKind::Conflict,
            OneErrorCode::RpcApi => ErrorKind::InvalidInput,
            OneErrorCode::Internal | OneErrorCode::Allocate | OneErrorCode::Replication => {
                ErrorKind::Server
            }
        }
    }

    /// The OpenNebula code of an error returned by this crate, if the server sent one.
    pub fn of(error: &Error) -> Option<OneErrorCode> {
        let svc = error.service()?;
        if svc.provider() != "opennebula" {
            return None;
        }
        OneErrorCode::from_code(svc.code())
    }
}

impl fmt::Display for OneErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:x})", self.name(), self.code())
    }
}

/// Builds the error for a failure response of `method`.
pub(crate) fn one_error(method: &str, code: i64, message: String, resource: Option<i64>) -> Error {
    let known = OneErrorCode::from_code(code);
    let kind = known.map_or(ErrorKind::Server, OneErrorCode::kind);
    let name = known.map_or("UNKNOWN", OneErrorCode::name);
    let mut svc = ServiceError::new("opennebula", code, message.clone())
        .with_code_name(name)
        .with_operation(method);
    if let Some(id) = resource.filter(|id| *id >= 0) {
        svc = svc.with_resource_id(id.to_string());
    }
    let text = if message.starts_with('[') {
        message
    } else {
        format!("[{method}] {message}")
    };
    Error::new(kind, text).with_service(svc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps() {
        let kinds = [
            ErrorKind::Authentication,
            ErrorKind::Authorization,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::InvalidInput,
            ErrorKind::Server,
            ErrorKind::Server,
            ErrorKind::Conflict,
            ErrorKind::Server,
        ];
        for (code, kind) in OneErrorCode::ALL.into_iter().zip(kinds) {
            let err = one_error(
                "one.vm.info",
                code.code(),
                "[one.vm.info] boom".into(),
                Some(3),
            );
            assert_eq!(err.kind(), kind, "{code}");
            assert_eq!(OneErrorCode::of(&err), Some(code));
            assert_eq!(err.service().and_then(|s| s.code_name()), Some(code.name()));
        }
        let err = one_error("one.vm.info", 0x40000, "odd".into(), Some(-1));
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.service().and_then(|s| s.resource_id()), None);
        assert!(err.message().starts_with("[one.vm.info]"));
    }
}
