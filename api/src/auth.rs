//! Who is calling: users and their roles, Argon2id passwords, opaque bearer tokens (stored as
//! SHA-256 hashes, with expiry and revocation), and throttling of failed logins.

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::{session, user};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use utoipa::ToSchema;

/// A user's role. Its name is the role name workflows bind (`roles:` in the YAML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ProvincialAdmin,
    MunicipalReviewer,
    Applicant,
    Expert,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProvincialAdmin => "provincial_admin",
            Self::MunicipalReviewer => "municipal_reviewer",
            Self::Applicant => "applicant",
            Self::Expert => "expert",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::ProvincialAdmin,
            Self::MunicipalReviewer,
            Self::Applicant,
            Self::Expert,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Caller {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub org_unit: String,
}

impl Caller {
    pub fn from_row(u: user::Model) -> Option<Self> {
        Some(Self {
            role: Role::parse(&u.role)?,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            org_unit: u.org_unit,
        })
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::ProvincialAdmin {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// Hashes off the async workers: Argon2 is deliberately slow.
pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

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

/// A hash to verify against when the user does not exist, so that unknown and known user
/// names take the same time to refuse.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("pilotflow-no-such-user").unwrap_or_default())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for the `Authorization` header.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: Caller,
}

pub async fn login(
    state: &AppState,
    req: LoginRequest,
    address: &str,
) -> Result<LoginResponse, ApiError> {
    let now = state.clock.now();
    let s = &state.settings;
    let window = Duration::minutes(i64::from(s.login_window_minutes));
    let keys = [
        (format!("user:{}", req.username), s.login_max_failures),
        (format!("addr:{address}"), s.login_max_failures_per_address),
    ];
    if let Some(wait) = state.throttle.blocked(&keys, window, now) {
        return Err(ApiError::new(
            "too_many_attempts",
            format!("登录失败次数过多,请 {} 分钟后再试", (wait + 59) / 60),
            format!("too many failed sign-ins; try again in {wait} seconds"),
        )
        .with("retry_after_seconds", wait));
    }
    let found = user::Entity::find_by_id(req.username.clone())
        .one(&state.store.read)
        .await?;
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
        state.throttle.record_failure(&keys, window, now);
        return Err(ApiError::new(
            "login_failed",
            "用户名或密码错误",
            "wrong user name or password",
        ));
    };
    state.throttle.clear(&keys[0].0);
    let token = new_token();
    let expires_at = now + Duration::hours(i64::from(s.token_ttl_hours));
    session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        username: Set(user_row.username.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(&state.store.write)
    .await?;
    let user = Caller::from_row(user_row)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("user with an unknown role")))?;
    Ok(LoginResponse {
        token,
        expires_at,
        user,
    })
}

pub async fn logout(state: &AppState, token: &str) -> Result<(), ApiError> {
    let hash = token_hash(token);
    state.sessions.forget_token(&hash);
    if let Some(row) = session::Entity::find_by_id(hash.clone())
        .one(&state.store.write)
        .await?
    {
        let mut active: session::ActiveModel = row.into();
        active.revoked_at = Set(Some(state.clock.now()));
        active.update(&state.store.write).await?;
    }
    Ok(())
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The bearer token of the request, for logout.
pub struct Token(pub String);

impl FromRequest for Token {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(bearer(req).map(Token).ok_or_else(ApiError::unauthenticated))
    }
}

async fn authenticate(
    state: web::Data<AppState>,
    token: Option<String>,
) -> Result<Caller, ApiError> {
    let token = token.ok_or_else(ApiError::unauthenticated)?;
    let now = state.clock.now();
    let hash = token_hash(&token);
    if let Some(caller) = state.sessions.get(&hash, now) {
        return Ok(caller);
    }
    let sess = session::Entity::find_by_id(hash.clone())
        .one(&state.store.read)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
        .ok_or_else(ApiError::unauthenticated)?;
    let user_row = user::Entity::find_by_id(sess.username)
        .one(&state.store.read)
        .await?
        .filter(|u| u.active)
        .ok_or_else(ApiError::unauthenticated)?;
    let caller = Caller::from_row(user_row).ok_or_else(ApiError::unauthenticated)?;
    state
        .sessions
        .put(hash, caller.clone(), sess.expires_at, now);
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

    fn forget_token(&self, hash: &str) {
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

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            authenticate(state, token).await
        })
    }
}
