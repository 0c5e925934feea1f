//! What every provider's session and resources offer.
//!
//! A [`Session`] is a logged-in connection to one cloud endpoint: it can log in, log out,
//! say whether its token is still usable, and log in again. Providers keep their own
//! richer API; this trait is what generic code (the CLI, the demo, the [`Compute`]
//! adapters) relies on.
//!
//! [`Compute`]: crate::compute::Compute

use async_trait::async_trait;

use crate::error::Result;

/// A login to one cloud endpoint.
///
/// Implementations hold their token under interior mutability, so one session can be
/// shared (`Arc<S>`) by many tasks and refreshed by any of them.
#[async_trait]
pub trait Session: Send + Sync {
    /// Logs in with the stored credentials, replacing any current token.
    ///
    /// # Errors
    /// [`ErrorKind::Authentication`](crate::ErrorKind::Authentication) when the
    /// credentials are rejected; transport errors as they come.
    async fn login(&self) -> Result<()>;

    /// Ends the session on the server (where the protocol has a logout) and forgets the
    /// token. Logging out twice is not an error.
    async fn logout(&self) -> Result<()>;

    /// Whether the session holds a token that has not expired as far as the client knows.
    fn is_valid(&self) -> bool;

    /// Logs in again after a token expired. The default logs out (ignoring failures,
    /// since the old token may be dead already) and logs in.
    async fn relogin(&self) -> Result<()> {
        let _ = self.logout().await;
        self.login().await
    }
}

/// Something a cloud manages, with an id and a name.
pub trait Resource {
    /// The id type (an integer for OpenNebula, a URN or UUID for vCloud).
    type Id: std::fmt::Display + Clone;

    /// The id.
    fn id(&self) -> Self::Id;

    /// The name.
    fn name(&self) -> &str;
}
