//! The service's one error type. Every error has a stable `code`; `status_for` is the one table
//! from codes to HTTP status. Bodies are RFC 9457 problem details, in Chinese unless the request
//! asks for English (`Accept-Language: en`, applied by `http::language`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use pilotflow_engine::{EngineError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use utoipa::ToSchema;

/// One problem in submitted input.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProblemField {
    /// JSON Pointer into the submitted document (empty for the whole document).
    pub pointer: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// Further facts about this kind of problem (for example the current version).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
}

pub struct ApiError {
    pub code: &'static str,
    zh: String,
    en: String,
    errors: Vec<FieldError>,
    extra: Map<String, Value>,
    /// Kept for the log only; never sent.
    internal: Option<anyhow::Error>,
}

/// The one table from error codes to HTTP status.
pub fn status_for(code: &str) -> StatusCode {
    match code {
        "malformed_request" | "invalid_query" => StatusCode::BAD_REQUEST,
        "unauthenticated" | "login_failed" => StatusCode::UNAUTHORIZED,
        "forbidden"
        | "action_not_allowed"
        | "form_not_editable"
        | "assignment_not_allowed"
        | "not_assigned" => StatusCode::FORBIDDEN,
        "not_found"
        | "case_not_found"
        | "workflow_not_found"
        | "attachment_not_found"
        | "user_not_found"
        | "unknown_action"
        | "unknown_form"
        | "form_not_saved"
        | "notification_not_found"
        | "mail_not_found"
        | "job_not_found"
        | "feed_not_found" => StatusCode::NOT_FOUND,
        "method_not_allowed" => StatusCode::METHOD_NOT_ALLOWED,
        "version_conflict"
        | "action_not_available"
        | "already_submitted"
        | "already_exists"
        | "mail_not_dead"
        | "document_number_taken"
        | "review_closed"
        | "nothing_to_reopen" => StatusCode::CONFLICT,
        "payload_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "unsupported_media_type" | "file_type_not_allowed" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "if_match_required" => StatusCode::PRECONDITION_REQUIRED,
        "too_many_attempts" => StatusCode::TOO_MANY_REQUESTS,
        "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "internal" | "evaluation_failed" | "replay_mismatch" => StatusCode::INTERNAL_SERVER_ERROR,
        // invalid_input, form_incomplete, guard_failed, deadline_passed, not_eligible,
        // invalid_variable, validation_failed, idempotency_key_reused, no_panel,
        // recusal_required, too_few_experts, no_review
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl ApiError {
    pub fn new(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            code,
            zh: zh.into(),
            en: en.into(),
            errors: Vec::new(),
            extra: Map::new(),
            internal: None,
        }
    }

    pub fn message_zh(&self) -> String {
        self.zh.clone()
    }

    pub fn message_en(&self) -> String {
        self.en.clone()
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// An input problem at one place in the submitted document.
    pub fn invalid(pointer: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        let (zh, en) = (zh.into(), en.into());
        Self::new(
            "validation_failed",
            format!("提交的内容有误:{zh}"),
            format!("the request is invalid: {en}"),
        )
        .with_errors(vec![FieldError {
            pointer: pointer.to_owned(),
            message: zh,
            message_en: en,
        }])
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            "unauthenticated",
            "请先登录,或登录已过期",
            "sign in first; the token is missing, expired or revoked",
        )
    }

    pub fn forbidden() -> Self {
        Self::new("forbidden", "您无权进行此操作", "you may not do this")
    }

    pub fn case_not_found() -> Self {
        Self::new("case_not_found", "案件不存在", "no such case")
    }

    pub fn not_found() -> Self {
        Self::new("not_found", "请求的资源不存在", "no such resource")
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new("internal", "系统内部错误,请稍后再试", "internal error");
        e.internal = Some(err.into());
        e
    }

    pub fn status(&self) -> StatusCode {
        status_for(self.code)
    }

    pub fn problem(&self, english: bool) -> Problem {
        let status = self.status();
        let title = if english {
            status.canonical_reason().unwrap_or("Error").to_owned()
        } else {
            title_zh(status).to_owned()
        };
        Problem {
            problem_type: format!("urn:pilotflow:problem:{}", self.code),
            title,
            status: status.as_u16(),
            detail: if english {
                self.en.clone()
            } else {
                self.zh.clone()
            },
            code: self.code.to_owned(),
            errors: self
                .errors
                .iter()
                .map(|e| ProblemField {
                    pointer: e.pointer.clone(),
                    message: if english {
                        e.message_en.clone()
                    } else {
                        e.message.clone()
                    },
                })
                .collect(),
            extra: self.extra.clone(),
        }
    }

    pub fn response(&self, english: bool) -> HttpResponse {
        let body = serde_json::to_string(&self.problem(english)).unwrap_or_default();
        HttpResponse::build(self.status())
            .content_type("application/problem+json")
            .body(body)
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

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.internal {
            Some(e) => write!(f, "{}: {e:?}", self.code),
            None => write!(f, "{}: {}", self.code, self.en),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.en)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(e) = &self.internal {
            tracing::error!(code = self.code, error = ?e, "internal error");
        }
        self.response(false)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let code = e.code();
        let mut out = Self::new(code, e.message_zh(), e.to_string());
        match &e {
            EngineError::InvalidInput { errors } | EngineError::FormIncomplete { errors, .. } => {
                out.errors = errors.clone();
            }
            EngineError::DeadlinePassed {
                deadline,
                due,
                due_local,
                next_due_local,
                ..
            } => {
                out = out
                    .with("deadline", deadline.as_str())
                    .with("due", due.to_rfc3339())
                    .with("due_local", due_local.as_str());
                if let Some(next) = next_due_local {
                    out = out.with("next_due_local", next.as_str());
                }
            }
            EngineError::ActionNotAvailable { states, .. } => {
                out = out.with(
                    "states",
                    states.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                );
            }
            EngineError::EvaluationFailed { .. } | EngineError::ReplayMismatch { .. } => {
                out.internal = Some(anyhow::Error::new(e.clone()));
            }
            _ => {}
        }
        out
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(e)
    }
}
