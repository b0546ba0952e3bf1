//! Object store: one trait, the local-filesystem implementation for the embedded farm, and the
//! conformance suite every implementation (local, S3) must pass.
//!
//! Keys are `/`-separated relative paths (`plates/SH010/SH010.0086400.exr`). A key that could
//! leave the store's root (`..`, absolute, backslash, NUL) is refused before any IO.

pub mod conformance;
mod local;
mod retry;
mod url;

pub use local::LocalStore;
pub use retry::{RetryMetrics, RetryPolicy, Retrying};
pub use url::{check_bucket_name, StoreUrl, StoreUrlError};

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("no object at {key:?}")]
    NotFound { key: String },
    #[error("object {key:?} is {size} bytes, more than the limit of {limit}")]
    TooLarge { key: String, size: u64, limit: u64 },
    #[error("store I/O on {key:?}: {source}")]
    Io {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("store backend unavailable: {0}")]
    Unavailable(String),
    /// The backend refused our identity or permissions (wrong keys, no access to the bucket):
    /// trying again with the same configuration cannot succeed.
    #[error("access to {store} denied: {reason}")]
    Denied { store: String, reason: String },
    /// The store is misconfigured (no such bucket, a setting out of range, a request the
    /// backend rejects as malformed): permanent until someone fixes the configuration.
    #[error("store {store} misconfigured: {reason}")]
    Config { store: String, reason: String },
}

impl StoreError {
    /// Whether trying again later may succeed (an outage), as opposed to a wrong key, a
    /// missing object, refused credentials or a bad configuration.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Io { .. } | StoreError::Unavailable(_))
    }

    /// A short, bounded label for metrics (`platefarm_store_errors_total{kind}`).
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::InvalidKey { .. } => "invalid_key",
            StoreError::NotFound { .. } => "not_found",
            StoreError::TooLarge { .. } => "too_large",
            StoreError::Io { .. } => "io",
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Denied { .. } => "denied",
            StoreError::Config { .. } => "config",
        }
    }
}

/// Metadata of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
}

#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Reads a whole object (refusing objects over `max_bytes`).
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError>;
    /// Writes a whole object atomically: readers see the old object or the new one, never a part.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError>;
    /// Size of an object, or `None` if absent.
    async fn head(&self, key: &str) -> Result<Option<u64>, StoreError>;
    /// Objects whose key starts with `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError>;
    /// Removes an object; removing an absent object succeeds.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// A human-readable location for messages (`/srv/farm`, `s3://bucket`).
    fn describe(&self) -> String;
}

/// Checks a key is a clean relative path. Shared by every implementation.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    let bad = |reason| {
        Err(StoreError::InvalidKey {
            key: key.to_string(),
            reason,
        })
    };
    if key.is_empty() {
        return bad("empty key");
    }
    if key.starts_with('/') {
        return bad("absolute path (keys are relative to the store root)");
    }
    if key.contains('\\') || key.contains('\0') {
        return bad("backslash or NUL in key");
    }
    if key.split('/').any(|seg| seg == ".." || seg == ".") {
        return bad("'.' or '..' segment (keys must stay under the root)");
    }
    if key.split('/').any(str::is_empty) {
        return bad("empty path segment");
    }
    Ok(())
}
