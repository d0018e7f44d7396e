//! Extractors: the JSON body (400 with line and column, 422 with a JSON Pointer), the caller
//! (a bearer token's session), the administrator, the bearer token itself, `If-Match` and
//! `Idempotency-Key`.

use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, access, authenticate};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
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
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(bearer(req).map(Token).ok_or_else(ApiError::unauthenticated))
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
            authenticate(&state.ctx, &state.sessions, token).await
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
    fn if_match_takes_the_forms_clients_send() {
        assert_eq!(parse_if_match("5"), Some(5));
        assert_eq!(parse_if_match("\"5\""), Some(5));
        assert_eq!(parse_if_match("W/\"5\""), Some(5));
        assert_eq!(parse_if_match("five"), None);
    }
}
