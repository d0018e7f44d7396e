//! Extractors: the JSON body (400 with line and column, 422 with a JSON Pointer), the caller
//! (a bearer token's session), the administrator, the bearer token itself, `If-Match` and
//! `Idempotency-Key`.

use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, access, authenticate};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

/// Largest JSON body accepted (forms with long plans fit well within it).
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON request body. Syntax errors answer 400 with the line and column; a body of the wrong
/// shape answers 422 with the JSON Pointer of the offending value.
pub struct JsonBody<T>(pub T);

fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    if out == "/?" { String::new() } else { out }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Two steps: only reading the text can be a syntax error (400); anything the text says that
    // does not fit the expected shape is a validation error at a JSON Pointer (422).
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|inner| {
        ApiError::new(
            ErrorCode::MalformedRequest,
            format!(
                "请求内容不是有效的 JSON(第 {} 行第 {} 列)",
                inner.line(),
                inner.column()
            ),
            format!("the body is not valid JSON: {inner}"),
        )
    })?;
    if let Some(pointer) = nul_at(&value, String::new()) {
        return Err(ApiError::invalid(
            &pointer,
            "内容中不能包含空字符(NUL)",
            "text must not contain a NUL character",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = pointer(err.path());
        let message = err.into_inner().to_string();
        ApiError::invalid(
            &path,
            format!(
                "{} 处的内容类型或取值不正确({message})",
                display_pointer(&path)
            ),
            message,
        )
    })
}

/// Where a NUL character is, if any: PostgreSQL cannot store one in text, so it is refused at
/// the door on both backends.
fn nul_at(v: &serde_json::Value, at: String) -> Option<String> {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(at),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_at(x, format!("{at}/{i}"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            let here = format!("{at}/{}", escape(k));
            if k.contains('\0') {
                Some(here)
            } else {
                nul_at(x, here)
            }
        }),
        _ => None,
    }
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() { "请求体" } else { p }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|_| {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "请求内容过大",
                    format!("the body is larger than {JSON_LIMIT} bytes"),
                )
            })?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// The cookie a browser's session lives in: `HttpOnly`, so page scripts never see the token.
pub const SESSION_COOKIE: &str = "pf_session";

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The session token of a request: its bearer token, else its session cookie.
pub enum Token {
    Bearer(String),
    Cookie(String),
}

impl Token {
    fn of(req: &HttpRequest) -> Option<Self> {
        bearer(req).map(Token::Bearer).or_else(|| {
            req.cookie(SESSION_COOKIE)
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty())
                .map(Token::Cookie)
        })
    }

    pub fn secret(&self) -> &str {
        match self {
            Token::Bearer(t) | Token::Cookie(t) => t,
        }
    }
}

impl FromRequest for Token {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Token::of(req).ok_or_else(ApiError::unauthenticated))
    }
}

/// A request that changes something and rides on a cookie must come from this service's own
/// pages: its `Origin` (or, lacking one, its `Referer`) is the configured `public_url`'s
/// origin or the origin the request was sent to. A bearer token cannot be sent by another
/// site's page, so those requests need no check.
fn same_origin(req: &HttpRequest, public_url: &str) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let Some(sent) = header(header::ORIGIN).or_else(|| header(header::REFERER)) else {
        return false;
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    let sent = origin_of(sent);
    sent == origin_of(public_url) || sent == own
}

/// `scheme://host[:port]` of a URL, without path or trailing slash.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = Token::of(req);
        let forged = matches!(token, Some(Token::Cookie(_)))
            && state
                .as_ref()
                .is_some_and(|s| !same_origin(req, &s.ctx.settings.public_url));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            if forged {
                return Err(ApiError::new(
                    ErrorCode::CsrfFailed,
                    "请求来源不符,已拒绝(跨站请求校验)",
                    "a request carrying the session cookie came from another origin",
                ));
            }
            authenticate(
                &state.ctx,
                &state.sessions,
                token.map(|t| t.secret().to_owned()),
            )
            .await
        })
    }
}

/// The caller, who must be the administrator (403 otherwise). Put it after the path, query and
/// body in a handler's arguments: their errors come first, as they did before the check.
pub struct Admin(pub Caller);

impl Admin {
    /// For a handler whose other checks must come between signing in and this one.
    pub fn check(caller: Caller) -> Result<Self, ApiError> {
        access::require_admin(&caller)?;
        Ok(Self(caller))
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { Admin::check(caller.await?) })
    }
}

/// `If-Match` may be `5`, `"5"` or `W/"5"`.
pub fn parse_if_match(raw: &str) -> Option<i64> {
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

/// The case version in `If-Match`, if sent.
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(parse_if_match)
                .map(|v| IfMatch(Some(v)))
                .ok_or_else(|| {
                    ApiError::malformed(
                        "If-Match 请求头应为案件版本号(整数)",
                        "If-Match must be the case version (an integer)",
                    )
                }),
        })
    }
}

/// The `Idempotency-Key` header as sent. It is checked when the request's fingerprint is
/// taken (`Idempotency::new`), after the body is read; a value that is not visible text is
/// kept as empty, which that check refuses.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = req
            .headers()
            .get("idempotency-key")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        ready(Ok(IdempotencyKey(key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(origin_of("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(
            origin_of("https://pf.example/cases/1?x=2"),
            "https://pf.example"
        );
        assert_eq!(origin_of("http://pf.example"), "http://pf.example");
    }

    #[test]
    fn if_match_takes_the_forms_clients_send() {
        assert_eq!(parse_if_match("5"), Some(5));
        assert_eq!(parse_if_match("\"5\""), Some(5));
        assert_eq!(parse_if_match("W/\"5\""), Some(5));
        assert_eq!(parse_if_match("five"), None);
    }
}
