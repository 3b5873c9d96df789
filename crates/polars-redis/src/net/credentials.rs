//! Credentials asked for on every new connection ([`CredentialProvider`]),
//! for tokens that rotate (cloud IAM auth) instead of a fixed password.
//!
//! ```
//! use polars_redis::config::{ConnectionConfig, CredentialProvider};
//!
//! let provider = CredentialProvider::new(|| Ok((Some("app".to_string()), "token-1".to_string())));
//! let config = ConnectionConfig::from_url("redis://cache:6379")?.with_credential_provider(provider);
//! assert!(!format!("{config:?}").contains("token-1"));
//! # Ok::<(), polars_redis::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use crate::error::Result;

/// What a provider returns: the user (`None` for the default user) and the
/// password or token.
pub type Credentials = (Option<String>, String);

type ProviderFn = dyn Fn() -> Result<Credentials> + Send + Sync;

/// A function called for the user and password of every new connection.
///
/// It runs on a worker thread of the crate's runtime, while a connection is
/// being opened (within its connect timeout), so it should return quickly.
/// Two providers are equal only when they are the same one.
#[derive(Clone)]
pub struct CredentialProvider(Arc<ProviderFn>);

impl CredentialProvider {
    /// Wrap `provider`.
    pub fn new(provider: impl Fn() -> Result<Credentials> + Send + Sync + 'static) -> Self {
        CredentialProvider(Arc::new(provider))
    }

    /// Ask for the credentials of a new connection.
    pub(crate) fn credentials(&self) -> Result<Credentials> {
        (self.0)()
    }
}

impl fmt::Debug for CredentialProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialProvider(..)")
    }
}

impl PartialEq for CredentialProvider {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CredentialProvider {}
