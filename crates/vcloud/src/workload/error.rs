//! Typed errors of the workload handles. Each becomes a [`nebulair_core::Error`] whose
//! [`kind`](nebulair_core::Error::kind) says what happened (a missing name is
//! [`ErrorKind::NotFound`], an ambiguous one or bad input [`ErrorKind::InvalidInput`], an
//! operation the object's state does not offer [`ErrorKind::Conflict`]) and whose
//! `source` is the [`WorkloadError`] itself ([`WorkloadError::of`] finds it again).
//!
//! ```
//! use nebulair_vcloud::workload::{EntityKind, WorkloadError};
//!
//! let err: nebulair_core::Error = WorkloadError::Ambiguous {
//!     kind: EntityKind::VApp,
//!     name: "web".into(),
//!     candidates: vec!["web (VDC-Prod)".into(), "web (VDC-Dev)".into()],
//! }
//! .into();
//! assert_eq!(err.kind(), nebulair_core::ErrorKind::InvalidInput);
//! assert!(err.to_string().contains("web (VDC-Dev)"));
//! assert!(matches!(WorkloadError::of(&err), Some(WorkloadError::Ambiguous { .. })));
//! ```

use nebulair_core::{Error, ErrorKind};

use super::id::EntityKind;

/// What went wrong in a workload handle before or instead of a server error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// No object of this kind has this name.
    #[error("no {kind} named {name:?}{}", scope_text(.scope))]
    NotFound {
        /// The kind looked for.
        kind: EntityKind,
        /// The name looked for.
        name: String,
        /// Where it was looked for (`vDC "VDC-Prod"`), when narrower than the org.
        scope: Option<String>,
    },
    /// More than one object has this name.
    #[error("{} {kind}s are named {name:?}: {}; use an id or a narrower scope", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        /// The kind looked for.
        kind: EntityKind,
        /// The name looked for.
        name: String,
        /// The candidates, each as `name (where) id`.
        candidates: Vec<String>,
    },
    /// The object's current state does not offer this operation (vCD lists only the
    /// links of the operations it allows now).
    #[error("{kind} {name:?} does not offer {operation} in its current state ({state})")]
    NotOffered {
        /// The kind of the object.
        kind: EntityKind,
        /// Its name.
        name: String,
        /// The operation (the link `rel`).
        operation: String,
        /// Its state, as vCD reports it.
        state: String,
    },
    /// A value the caller gave is out of range or malformed.
    #[error("invalid {what}: {reason}")]
    InvalidValue {
        /// Which value (`memory`, `cpu count`...).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The server's answer lacks something the operation needs.
    #[error("the {kind} document lacks {what}")]
    Missing {
        /// The kind of the document.
        kind: EntityKind,
        /// What is missing (`an href`, `a VirtualHardwareSection`...).
        what: String,
    },
}

fn scope_text(scope: &Option<String>) -> String {
    scope
        .as_ref()
        .map(|s| format!(" in {s}"))
        .unwrap_or_default()
}

impl WorkloadError {
    /// The [`ErrorKind`] of this error.
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            WorkloadError::NotFound { .. } => ErrorKind::NotFound,
            WorkloadError::Ambiguous { .. } | WorkloadError::InvalidValue { .. } => {
                ErrorKind::InvalidInput
            }
            WorkloadError::NotOffered { .. } => ErrorKind::Conflict,
            WorkloadError::Missing { .. } => ErrorKind::Protocol,
        }
    }

    /// The workload error inside a core error, when there is one.
    pub fn of(err: &Error) -> Option<&WorkloadError> {
        std::error::Error::source(err).and_then(|s| s.downcast_ref::<WorkloadError>())
    }

    /// An [`WorkloadError::InvalidValue`].
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        WorkloadError::InvalidValue {
            what,
            reason: reason.into(),
        }
    }
}

impl From<WorkloadError> for Error {
    fn from(e: WorkloadError) -> Self {
        Error::with_source(e.error_kind(), e.to_string(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let e: Error = WorkloadError::NotFound {
            kind: EntityKind::Vdc,
            name: "nope".into(),
            scope: Some("org \"acme\"".into()),
        }
        .into();
        assert!(e.is_not_found());
        assert!(
            e.to_string()
                .contains("no vDC named \"nope\" in org \"acme\""),
            "{e}"
        );
        let e: Error = WorkloadError::invalid("memory", "1001 MB is not a multiple of 4 MB").into();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(matches!(
            WorkloadError::of(&e),
            Some(WorkloadError::InvalidValue { what: "memory", .. })
        ));
    }
}
