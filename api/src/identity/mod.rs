//! Who is calling and what they may see: users and their roles, passwords, bearer-token
//! sessions, login throttling, and access to cases (`access`).

pub mod access;
mod caller;
mod login;
mod passwords;
mod sessions;

pub use caller::{Caller, Role};
pub use login::{LoginRequest, LoginResponse, SessionKind, Throttle, login, logout};
pub use passwords::{PasswordError, hash_password, hash_password_blocking, verify_password};
pub use sessions::{SESSION_CACHE_SECONDS, SessionCache, authenticate, new_token, token_hash};
