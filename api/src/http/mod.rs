//! HTTP: routes, the JSON body extractor, and the middleware that picks the language of error
//! bodies and records request metrics.

pub mod notice_routes;
pub mod openapi;
pub mod review_routes;
pub mod routes;

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

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
            "malformed_request",
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
                    "payload_too_large",
                    "请求内容过大",
                    format!("the body is larger than {JSON_LIMIT} bytes"),
                )
            })?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// Whether the client prefers English over Chinese.
fn prefers_english(req: &ServiceRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut best: Option<(f32, bool)> = None;
    for part in value.split(',') {
        let mut bits = part.trim().split(';');
        let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .find_map(|b| b.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let english = tag == "en" || tag.starts_with("en-");
        let chinese = tag == "zh" || tag.starts_with("zh-");
        if (english || chinese) && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, english));
        }
    }
    best.is_some_and(|(_, en)| en)
}

/// Renders problem bodies in English when asked, and records the request's latency.
pub async fn language_and_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let english = prefers_english(&req);
    // A NUL character (%00) in the path or query cannot be stored or compared as text by
    // PostgreSQL: refuse it before any handler sees it.
    let encoded_nul = |s: &str| s.to_ascii_lowercase().contains("%00");
    if encoded_nul(req.uri().path()) || encoded_nul(req.query_string()) {
        let error = ApiError::new(
            "malformed_request",
            "地址中不能包含空字符(%00)",
            "the address must not contain a NUL character (%00)",
        );
        let response = error.response(english);
        return Ok(req.into_response(response));
    }
    let started = Instant::now();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(state) = state {
        state
            .metrics
            .requests
            .with_label_values(&[method.as_str(), route.as_str(), res.status().as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    let english_body = english
        .then(|| {
            res.response()
                .error()
                .and_then(|e| e.as_error::<ApiError>())
                .map(|e| e.response(true))
        })
        .flatten();
    Ok(match english_body {
        Some(body) => res.into_response(body),
        None => res.map_into_boxed_body(),
    })
}

pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        "method_not_allowed",
        "该地址不支持此请求方法",
        "this method is not allowed on this resource",
    ))
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        "invalid_query",
        format!("查询参数不正确:{err}"),
        format!("invalid query parameters: {err}"),
    )
    .into()
}

pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        "not_found",
        "请求的资源不存在",
        format!("no such resource: {err}"),
    )
    .into()
}
