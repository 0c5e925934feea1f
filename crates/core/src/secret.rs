//! Credentials whose secret parts never show in `Debug`, `Display`, logs or errors.
//!
//! Passwords and tokens are held in [`SecretString`] (from the `secrecy` crate): their
//! `Debug` prints `[REDACTED]`, they have no `Display`, and their memory is zeroed on drop.
//! Code that must send the secret calls [`ExposeSecret::expose_secret`], which makes every
//! such place easy to find.
//!
//! ```
//! use nebulair_core::{Credentials, ExposeSecret};
//!
//! let creds = Credentials::password("oneadmin", "opennebula");
//! assert_eq!(format!("{creds:?}"), r#"Credentials::Password { username: "oneadmin", password: [REDACTED] }"#);
//! assert_eq!(creds.to_string(), "oneadmin (password)");
//! if let Credentials::Password { password, .. } = &creds {
//!     assert_eq!(password.expose_secret(), "opennebula");
//! }
//! ```

use std::fmt;

pub use secrecy::{ExposeSecret, SecretString};

/// The text printed in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// How a client proves who it is.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A user name and a password (OpenNebula `user:password`, vCA/vCD basic login).
    Password {
        /// The user name (for vCD, `user@org` or the user alone with the org given separately).
        username: String,
        /// The password.
        password: SecretString,
    },
    /// A user name and a session token issued earlier (OpenNebula `one.user.login` tokens).
    UserToken {
        /// The user name.
        username: String,
        /// The token.
        token: SecretString,
    },
    /// A bearer or session token used as is (vCD `x-vcloud-authorization`, a JWT).
    Token(SecretString),
    /// A long-lived API (refresh) token exchanged for access tokens (vCD API tokens).
    ApiToken(SecretString),
}

impl Credentials {
    /// User name and password.
    pub fn password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Password {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// User name and a previously issued session token.
    pub fn user_token(username: impl Into<String>, token: impl Into<String>) -> Self {
        Credentials::UserToken {
            username: username.into(),
            token: SecretString::from(token.into()),
        }
    }

    /// A bare session or bearer token.
    pub fn token(token: impl Into<String>) -> Self {
        Credentials::Token(SecretString::from(token.into()))
    }

    /// A long-lived API token.
    pub fn api_token(token: impl Into<String>) -> Self {
        Credentials::ApiToken(SecretString::from(token.into()))
    }

    /// The user name, when the credentials have one.
    pub fn username(&self) -> Option<&str> {
        match self {
            Credentials::Password { username, .. } | Credentials::UserToken { username, .. } => {
                Some(username)
            }
            Credentials::Token(_) | Credentials::ApiToken(_) => None,
        }
    }

    /// The secret part (password or token).
    pub fn secret(&self) -> &SecretString {
        match self {
            Credentials::Password { password, .. } => password,
            Credentials::UserToken { token, .. } => token,
            Credentials::Token(t) | Credentials::ApiToken(t) => t,
        }
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Credentials::Password { .. } => "password",
            Credentials::UserToken { .. } => "token",
            Credentials::Token(_) => "token",
            Credentials::ApiToken(_) => "API token",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Password { username, .. } => write!(
                f,
                "Credentials::Password {{ username: {username:?}, password: {REDACTED} }}"
            ),
            Credentials::UserToken { username, .. } => write!(
                f,
                "Credentials::UserToken {{ username: {username:?}, token: {REDACTED} }}"
            ),
            Credentials::Token(_) => write!(f, "Credentials::Token({REDACTED})"),
            Credentials::ApiToken(_) => write!(f, "Credentials::ApiToken({REDACTED})"),
        }
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.username() {
            Some(user) => write!(f, "{user} ({})", self.kind_name()),
            None => f.write_str(self.kind_name()),
        }
    }
}

/// Wraps any string-like secret for printing: `Display` and `Debug` show `[REDACTED]`.
///
/// Useful in `tracing` fields and error messages that must mention that a secret was
/// present without showing it.
#[derive(Clone, Copy)]
pub struct Redacted<'a>(pub &'a SecretString);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-Pa55:with:colons";

    fn all_forms() -> Vec<Credentials> {
        vec![
            Credentials::password("oneadmin", SECRET),
            Credentials::user_token("oneadmin", SECRET),
            Credentials::token(SECRET),
            Credentials::api_token(SECRET),
        ]
    }

    #[test]
    fn debug_and_display_never_show_the_secret() {
        for c in all_forms() {
            let debug = format!("{c:?}");
            let pretty = format!("{c:#?}");
            let display = c.to_string();
            for out in [&debug, &pretty, &display] {
                assert!(!out.contains(SECRET), "secret leaked in {out}");
                assert!(
                    !out.contains("s3cr3t"),
                    "part of the secret leaked in {out}"
                );
            }
            assert!(debug.contains(REDACTED), "{debug}");
            assert_eq!(c.secret().expose_secret(), SECRET);
        }
    }

    #[test]
    fn redacted_wrapper_hides() {
        let s = SecretString::from(SECRET.to_owned());
        assert_eq!(format!("{}", Redacted(&s)), REDACTED);
        assert_eq!(format!("{:?}", Redacted(&s)), REDACTED);
        assert!(!format!("{s:?}").contains(SECRET));
    }

    #[test]
    fn secrets_stay_out_of_tracing_output() {
        use std::sync::{Arc, Mutex};
        // A tiny subscriber-free check: format the value as tracing would (Debug).
        let captured = Arc::new(Mutex::new(String::new()));
        let c = Credentials::password("u", SECRET);
        captured
            .lock()
            .expect("lock")
            .push_str(&format!("login credentials={c:?}"));
        assert!(!captured.lock().expect("lock").contains(SECRET));
    }

    #[test]
    fn username_accessor() {
        assert_eq!(
            Credentials::password("alice", "x").username(),
            Some("alice")
        );
        assert_eq!(Credentials::token("x").username(), None);
    }
}
