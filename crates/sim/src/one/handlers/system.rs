//! `one.system.*`.

use super::prelude::*;

/// `one.system.version` and `one.system.config`.
pub(crate) fn read(_: &State, k: &Call<'_>) -> R<Ret> {
    let method = k.method;
    match (k.ns, k.op) {
        ("system", "version") => Ok(Ret::Str(VERSION.into())),
        ("system", "config") => Ok(Ret::Str(super::super::config::CONFIG.into())),
        _ => Err(not_implemented(method)),
    }
}
