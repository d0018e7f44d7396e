//! Signing in and out, and who the caller is.

use super::extract::{JsonBody, SESSION_COOKIE, Token};
use super::{Data, resource};
use crate::error::{ApiError, Problem};
use crate::identity::{self, Caller, LoginRequest, LoginResponse, SessionKind};
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/login").route(web::post().to(login)))
        .service(resource("/auth/logout").route(web::post().to(logout)))
        .service(resource("/me").route(web::get().to(me)));
}

fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Sign in. With `"session": "cookie"` the session is an `HttpOnly` cookie (for the web
/// application) and the answer carries no token; otherwise the answer's bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "wrong user name or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    state: Data,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let kind = body.0.session;
    let mut out =
        identity::login(&state.ctx, &state.throttle, body.0, &client_address(&req)).await?;
    if kind == SessionKind::Bearer {
        return Ok(HttpResponse::Ok().json(out));
    }
    let token = out.token.take().unwrap_or_default();
    let ttl = time::Duration::hours(i64::from(state.ctx.settings.token_ttl_hours));
    let cookie = session_cookie(&state.ctx.settings.public_url, token, ttl);
    Ok(HttpResponse::Ok().cookie(cookie).json(out))
}

/// The session cookie: sent back only to this service, never to page scripts, not on
/// cross-site subrequests, and only over HTTPS when the service is reached by HTTPS.
fn session_cookie(public_url: &str, value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(public_url.starts_with("https://"))
        .max_age(max_age)
        .finish()
}

/// Revoke the session of this request (its bearer token or its cookie, which is cleared).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "signed out"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(state: Data, _caller: Caller, token: Token) -> Result<HttpResponse, ApiError> {
    identity::logout(&state.ctx, &state.sessions, token.secret()).await?;
    let mut answer = HttpResponse::NoContent();
    if let Token::Cookie(_) = token {
        let expired = session_cookie(
            &state.ctx.settings.public_url,
            String::new(),
            time::Duration::ZERO,
        );
        answer.cookie(expired);
    }
    Ok(answer.finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Caller),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(caller)
}
