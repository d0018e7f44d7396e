//! The middleware that picks the language of error bodies, refuses NUL characters in the
//! address and records request metrics; and the answers for what no route serves.

use super::problem;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::Instant;

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
            ErrorCode::MalformedRequest,
            "地址中不能包含空字符(%00)",
            "the address must not contain a NUL character (%00)",
        );
        let response = problem::response(&error, english);
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
            .ctx
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
                .map(|e| problem::response(e, true))
        })
        .flatten();
    Ok(match english_body {
        Some(body) => res.into_response(body),
        None => res.map_into_boxed_body(),
    })
}

pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::MethodNotAllowed,
        "该地址不支持此请求方法",
        "this method is not allowed on this resource",
    ))
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!("查询参数不正确:{err}"),
        format!("invalid query parameters: {err}"),
    )
    .into()
}

pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::NotFound,
        "请求的资源不存在",
        format!("no such resource: {err}"),
    )
    .into()
}
