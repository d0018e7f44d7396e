//! Errors as HTTP answers: each code's status (one exhaustive match), the Chinese titles, and
//! the RFC 9457 problem document in Chinese or English.

use crate::error::{ApiError, ErrorCode, Problem, ProblemField};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// The one table from error codes to HTTP status.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::MalformedRequest | C::InvalidQuery => StatusCode::BAD_REQUEST,
        C::Unauthenticated | C::LoginFailed => StatusCode::UNAUTHORIZED,
        C::Forbidden
        | C::CsrfFailed
        | C::ActionNotAllowed
        | C::FormNotEditable
        | C::AssignmentNotAllowed
        | C::NotAssigned => StatusCode::FORBIDDEN,
        C::NotFound
        | C::CaseNotFound
        | C::WorkflowNotFound
        | C::AttachmentNotFound
        | C::UserNotFound
        | C::UnknownAction
        | C::UnknownForm
        | C::FormNotSaved
        | C::NotificationNotFound
        | C::MailNotFound
        | C::JobNotFound
        | C::FeedNotFound => StatusCode::NOT_FOUND,
        C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        C::VersionConflict
        | C::ActionNotAvailable
        | C::AlreadySubmitted
        | C::AlreadyExists
        | C::MailNotDead
        | C::DocumentNumberTaken
        | C::ReviewClosed
        | C::NothingToReopen => StatusCode::CONFLICT,
        C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::FileTypeNotAllowed => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::IfMatchRequired => StatusCode::PRECONDITION_REQUIRED,
        C::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        C::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        C::Internal | C::EvaluationFailed | C::ReplayMismatch => StatusCode::INTERNAL_SERVER_ERROR,
        C::ValidationFailed
        | C::InvalidInput
        | C::FormIncomplete
        | C::GuardFailed
        | C::DeadlinePassed
        | C::NotEligible
        | C::InvalidVariable
        | C::IdempotencyKeyReused
        | C::NoPanel
        | C::NoReview
        | C::RecusalRequired
        | C::TooFewExperts
        | C::DecisionRefused => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn title_zh(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求格式错误",
        401 => "未登录",
        403 => "无权操作",
        404 => "未找到",
        405 => "不支持的请求方法",
        409 => "状态冲突",
        413 => "文件过大",
        415 => "不支持的文件类型",
        422 => "内容未通过校验",
        428 => "缺少版本号",
        429 => "尝试次数过多",
        503 => "服务暂不可用",
        _ => "系统错误",
    }
}

/// The problem document of an error, in English or (by default) Chinese.
pub fn problem(e: &ApiError, english: bool) -> Problem {
    let status = status_of(e.code);
    let title = if english {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        title_zh(status).to_owned()
    };
    Problem {
        problem_type: format!("urn:pilotflow:problem:{}", e.code.as_str()),
        title,
        status: status.as_u16(),
        detail: if english {
            e.message_en().to_owned()
        } else {
            e.message_zh().to_owned()
        },
        code: e.code.as_str().to_owned(),
        errors: e
            .field_errors()
            .iter()
            .map(|f| ProblemField {
                pointer: f.pointer.clone(),
                message: if english {
                    f.message_en.clone()
                } else {
                    f.message.clone()
                },
            })
            .collect(),
        extra: e.extra().clone(),
    }
}

pub fn response(e: &ApiError, english: bool) -> HttpResponse {
    let body = serde_json::to_string(&problem(e, english)).unwrap_or_default();
    HttpResponse::build(status_of(e.code))
        .content_type("application/problem+json")
        .body(body)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code)
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(e) = self.internal_cause() {
            tracing::error!(code = self.code.as_str(), error = ?e, "internal error");
        }
        response(self, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_client_or_server_error_status() {
        for code in ErrorCode::ALL {
            let status = status_of(*code);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{}: {status}",
                code.as_str()
            );
        }
        assert_eq!(status_of(ErrorCode::DecisionRefused).as_u16(), 422);
        assert_eq!(status_of(ErrorCode::NotAssigned).as_u16(), 403);
    }
}
