//! Opaque bearer tokens (stored as SHA-256 hashes, with expiry and revocation) and the cache
//! of sessions recently checked.

use super::Caller;
use crate::context::Context;
use crate::error::ApiError;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn new_token() -> String {
    // Two v4 UUIDs: 244 random bits from the operating system.
    format!(
        "pf_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The signed-in user a bearer token belongs to.
pub async fn authenticate(
    ctx: &Context,
    sessions: &SessionCache,
    token: Option<String>,
) -> Result<Caller, ApiError> {
    let token = token.ok_or_else(ApiError::unauthenticated)?;
    let now = ctx.clock.now();
    let hash = token_hash(&token);
    if let Some(caller) = sessions.get(&hash, now) {
        return Ok(caller);
    }
    let sess = ctx
        .store
        .session(&hash)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
        .ok_or_else(ApiError::unauthenticated)?;
    let user_row = ctx
        .store
        .active_user(&sess.username)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let caller = Caller::from_row(user_row).ok_or_else(ApiError::unauthenticated)?;
    sessions.put(hash, caller.clone(), sess.expires_at, now);
    Ok(caller)
}

/// Signed-in sessions recently checked against the database, so that a request does not read
/// the session and the user again. Logout and changes to a user clear their entries at once in
/// this process; another replica notices a revocation within `SESSION_CACHE_SECONDS`.
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, (Caller, DateTime<Utc>)>>,
}

pub const SESSION_CACHE_SECONDS: i64 = 30;
const SESSION_CACHE_MAX: usize = 10_000;

impl SessionCache {
    fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<Caller> {
        let map = self.entries.lock().ok()?;
        map.get(hash)
            .filter(|(_, until)| *until > now)
            .map(|(c, _)| c.clone())
    }

    fn put(&self, hash: String, caller: Caller, expires_at: DateTime<Utc>, now: DateTime<Utc>) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= SESSION_CACHE_MAX {
                map.retain(|_, (_, until)| *until > now);
                if map.len() >= SESSION_CACHE_MAX {
                    map.clear();
                }
            }
            let until = expires_at.min(now + Duration::seconds(SESSION_CACHE_SECONDS));
            map.insert(hash, (caller, until));
        }
    }

    pub(crate) fn forget_token(&self, hash: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(hash);
        }
    }

    /// Drops every cached session of a user (after the user was changed or disabled).
    pub fn forget_user(&self, username: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|_, (c, _)| c.username != username);
        }
    }
}
