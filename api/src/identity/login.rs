//! Signing in and out, and the throttling of failed logins.

use super::Caller;
use super::passwords::{dummy_hash, verify_password};
use super::sessions::{SessionCache, new_token, token_hash};
use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use utoipa::ToSchema;

/// Failed logins per user name and per client address, in memory.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
}

/// Entries kept before expired ones are dropped (user names are chosen by whoever calls).
const THROTTLE_PRUNE_AT: usize = 10_000;

impl Throttle {
    /// Seconds to wait if any (key, limit) pair has reached its limit within the window.
    fn blocked(&self, keys: &[(String, u32)], window: Duration, now: DateTime<Utc>) -> Option<i64> {
        let map = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|(k, max)| map.get(k).map(|e| (e, *max)))
            .filter(|((n, since), max)| *n >= *max && now - *since < window)
            .map(|((_, since), _)| (*since + window - now).num_seconds().max(1))
            .max()
    }

    fn record_failure(&self, keys: &[(String, u32)], window: Duration, now: DateTime<Utc>) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() >= THROTTLE_PRUNE_AT {
                map.retain(|_, (_, since)| now - *since < window);
            }
            for (k, _) in keys {
                let entry = map.entry(k.clone()).or_insert((0, now));
                if now - entry.1 >= window {
                    *entry = (0, now);
                }
                entry.0 += 1;
            }
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

/// Where the client keeps its session: a bearer token it sends itself (API clients), or a
/// cookie the browser keeps out of the page scripts' reach (the web application).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    #[default]
    Bearer,
    Cookie,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// `bearer` (the default): the token is in the answer. `cookie`: it is set as an
    /// `HttpOnly` cookie instead and the answer carries none.
    #[serde(default)]
    pub session: SessionKind,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for the `Authorization` header (absent for a cookie session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub user: Caller,
}

pub async fn login(
    ctx: &Context,
    throttle: &Throttle,
    req: LoginRequest,
    address: &str,
) -> Result<LoginResponse, ApiError> {
    let now = ctx.clock.now();
    let s = &ctx.settings;
    let window = Duration::minutes(i64::from(s.login_window_minutes));
    let keys = [
        (format!("user:{}", req.username), s.login_max_failures),
        (format!("addr:{address}"), s.login_max_failures_per_address),
    ];
    if let Some(wait) = throttle.blocked(&keys, window, now) {
        return Err(ApiError::new(
            ErrorCode::TooManyAttempts,
            format!("登录失败次数过多,请 {} 分钟后再试", (wait + 59) / 60),
            format!("too many failed sign-ins; try again in {wait} seconds"),
        )
        .with("retry_after_seconds", wait));
    }
    let found = ctx.store.user(&req.username).await?;
    let password = req.password.clone();
    let candidate = found.filter(|u| u.active);
    let phc = candidate.as_ref().map(|u| u.password_hash.clone());
    // Argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&password, &phc),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(user_row) = candidate.filter(|_| ok) else {
        throttle.record_failure(&keys, window, now);
        return Err(ApiError::new(
            ErrorCode::LoginFailed,
            "用户名或密码错误",
            "wrong user name or password",
        ));
    };
    throttle.clear(&keys[0].0);
    let token = new_token();
    let expires_at = now + Duration::hours(i64::from(s.token_ttl_hours));
    ctx.store
        .insert_session(
            token_hash(&token),
            user_row.username.clone(),
            now,
            expires_at,
        )
        .await?;
    let user = Caller::from_row(user_row)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("user with an unknown role")))?;
    Ok(LoginResponse {
        token: Some(token),
        expires_at,
        user,
    })
}

pub async fn logout(ctx: &Context, sessions: &SessionCache, token: &str) -> Result<(), ApiError> {
    let hash = token_hash(token);
    sessions.forget_token(&hash);
    ctx.store.revoke_session(&hash, ctx.clock.now()).await?;
    Ok(())
}
