//! `Idempotency-Key`: a client that repeats an action with the same key gets the first answer
//! again instead of a second transition. The key and a fingerprint of the request are read by
//! the HTTP layer's extractor; the answer is stored with the transition, in the same write
//! (`store::transition`), so it exists exactly when the transition does.

use crate::error::{ApiError, ErrorCode};
use crate::store::Store;
use crate::store::entities::idempotency_key;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 200;

/// An idempotent request's key and the fingerprint of what it asks.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    /// The key as sent (trimmed, 1 to 200 visible characters) and the fingerprint of the
    /// request's parts: each part's length, then its bytes, so no two requests share one.
    pub fn new(raw_key: &str, parts: &[&[u8]]) -> Result<Self, ApiError> {
        let key = raw_key.trim();
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(ApiError::malformed(
                "Idempotency-Key 应为 1 到 200 个可见字符",
                "Idempotency-Key must be 1 to 200 visible characters",
            ));
        }
        let mut h = Sha256::new();
        for part in parts {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        Ok(Self {
            key: key.to_owned(),
            request_hash: hex::encode(h.finalize()),
        })
    }

    /// The stored answer when this user already used the key for the same request; a key used
    /// for a different request is refused.
    pub async fn replayed(&self, store: &Store, username: &str) -> Result<Option<Value>, ApiError> {
        match store.idempotency_record(username, &self.key).await? {
            None => Ok(None),
            Some(row) if row.request_hash == self.request_hash => Ok(Some(
                serde_json::from_str(&row.response).map_err(ApiError::internal)?,
            )),
            Some(_) => Err(ApiError::new(
                ErrorCode::IdempotencyKeyReused,
                "该 Idempotency-Key 已用于另一个不同的请求",
                "this Idempotency-Key was already used for a different request",
            )),
        }
    }

    /// The record written with the transition: the answer (`response`, JSON) to replay.
    pub fn record(
        &self,
        username: &str,
        response: String,
        at: DateTime<Utc>,
    ) -> idempotency_key::Model {
        idempotency_key::Model {
            username: username.to_owned(),
            key: self.key.clone(),
            request_hash: self.request_hash.clone(),
            status: 200,
            response,
            created_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_tells_parts_apart_by_their_lengths() {
        let a = Idempotency::new("k", &[b"ab", b"c"]).map(|i| i.request_hash);
        let b = Idempotency::new("k", &[b"a", b"bc"]).map(|i| i.request_hash);
        assert!(a.is_ok() && b.is_ok());
        assert_ne!(a.ok(), b.ok());
    }

    #[test]
    fn keys_are_trimmed_and_bounded() {
        assert_eq!(
            Idempotency::new("  k1 ", &[])
                .map(|i| i.key)
                .ok()
                .as_deref(),
            Some("k1")
        );
        assert!(Idempotency::new("   ", &[]).is_err());
        assert!(Idempotency::new(&"x".repeat(201), &[]).is_err());
    }
}
