//! The service's error for requests. Every error has a stable [`ErrorCode`]; the HTTP layer
//! gives each code its status in one exhaustive match (`http::problem::status_of`), so a new
//! code cannot be added without choosing its status. Bodies are RFC 9457 problem documents,
//! in Chinese unless the request asks for English.

use pilotflow_engine::{EngineError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use utoipa::ToSchema;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// The stable, machine-readable code of every error the API answers (`code` in the
        /// body).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, for the table's tests.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    // The request itself.
    MalformedRequest => "malformed_request",
    InvalidQuery => "invalid_query",
    MethodNotAllowed => "method_not_allowed",
    PayloadTooLarge => "payload_too_large",
    FileTypeNotAllowed => "file_type_not_allowed",
    IfMatchRequired => "if_match_required",
    IdempotencyKeyReused => "idempotency_key_reused",
    /// The input's content: `errors[]` names each place.
    ValidationFailed => "validation_failed",
    // Who is calling.
    Unauthenticated => "unauthenticated",
    LoginFailed => "login_failed",
    TooManyAttempts => "too_many_attempts",
    Forbidden => "forbidden",
    /// A cookie-signed request from another site (cross-site request forgery refused).
    CsrfFailed => "csrf_failed",
    // What the request names.
    NotFound => "not_found",
    CaseNotFound => "case_not_found",
    WorkflowNotFound => "workflow_not_found",
    AttachmentNotFound => "attachment_not_found",
    UserNotFound => "user_not_found",
    NotificationNotFound => "notification_not_found",
    MailNotFound => "mail_not_found",
    JobNotFound => "job_not_found",
    FeedNotFound => "feed_not_found",
    FormNotSaved => "form_not_saved",
    AlreadyExists => "already_exists",
    VersionConflict => "version_conflict",
    MailNotDead => "mail_not_dead",
    DocumentNumberTaken => "document_number_taken",
    // The engine's refusals (`EngineError`).
    UnknownAction => "unknown_action",
    ActionNotAvailable => "action_not_available",
    ActionNotAllowed => "action_not_allowed",
    AlreadySubmitted => "already_submitted",
    InvalidInput => "invalid_input",
    FormIncomplete => "form_incomplete",
    GuardFailed => "guard_failed",
    DeadlinePassed => "deadline_passed",
    NotEligible => "not_eligible",
    UnknownForm => "unknown_form",
    FormNotEditable => "form_not_editable",
    AssignmentNotAllowed => "assignment_not_allowed",
    InvalidVariable => "invalid_variable",
    EvaluationFailed => "evaluation_failed",
    ReplayMismatch => "replay_mismatch",
    NothingToReopen => "nothing_to_reopen",
    ReviewClosed => "review_closed",
    NotAssigned => "not_assigned",
    // Expert review.
    NoReview => "no_review",
    NoPanel => "no_panel",
    RecusalRequired => "recusal_required",
    TooFewExperts => "too_few_experts",
    /// One or more of a decision's cases cannot take it; none changed.
    DecisionRefused => "decision_refused",
    // The service.
    Unavailable => "unavailable",
    Internal => "internal",
}

impl From<&EngineError> for ErrorCode {
    fn from(e: &EngineError) -> Self {
        match e {
            EngineError::UnknownAction { .. } => Self::UnknownAction,
            EngineError::ActionNotAvailable { .. } => Self::ActionNotAvailable,
            EngineError::ActionNotAllowed { .. } => Self::ActionNotAllowed,
            EngineError::AlreadySubmitted { .. } => Self::AlreadySubmitted,
            EngineError::InvalidInput { .. } => Self::InvalidInput,
            EngineError::FormIncomplete { .. } => Self::FormIncomplete,
            EngineError::GuardFailed { .. } => Self::GuardFailed,
            EngineError::DeadlinePassed { .. } => Self::DeadlinePassed,
            EngineError::NotEligible { .. } => Self::NotEligible,
            EngineError::UnknownForm { .. } => Self::UnknownForm,
            EngineError::FormNotEditable { .. } => Self::FormNotEditable,
            EngineError::AssignmentNotAllowed { .. } => Self::AssignmentNotAllowed,
            EngineError::InvalidVariable { .. } => Self::InvalidVariable,
            EngineError::EvaluationFailed { .. } => Self::EvaluationFailed,
            EngineError::ReplayMismatch { .. } => Self::ReplayMismatch,
            EngineError::NothingToReopen { .. } => Self::NothingToReopen,
            EngineError::ReviewClosed { .. } => Self::ReviewClosed,
            EngineError::NotAssigned { .. } => Self::NotAssigned,
        }
    }
}

/// One problem in submitted input.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProblemField {
    /// JSON Pointer into the submitted document (empty for the whole document).
    pub pointer: String,
    pub message: String,
}

impl ProblemField {
    /// The engine's field errors as the API shows them (in Chinese).
    pub fn list(errors: &[FieldError]) -> Vec<Self> {
        errors
            .iter()
            .map(|e| Self {
                pointer: e.pointer.clone(),
                message: e.message.clone(),
            })
            .collect()
    }
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
    pub code: ErrorCode,
    zh: String,
    en: String,
    errors: Vec<FieldError>,
    extra: Map<String, Value>,
    /// Kept for the log only; never sent.
    internal: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            code,
            zh: zh.into(),
            en: en.into(),
            errors: Vec::new(),
            extra: Map::new(),
            internal: None,
        }
    }

    pub fn message_zh(&self) -> &str {
        &self.zh
    }

    pub fn message_en(&self) -> &str {
        &self.en
    }

    /// The problems at places in the input, each in Chinese and English.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Further facts for the problem document.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The cause of an internal error, for the log.
    pub fn internal_cause(&self) -> Option<&anyhow::Error> {
        self.internal.as_ref()
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
            ErrorCode::ValidationFailed,
            format!("提交的内容有误:{zh}"),
            format!("the request is invalid: {en}"),
        )
        .with_errors(vec![FieldError {
            pointer: pointer.to_owned(),
            message: zh,
            message_en: en,
        }])
    }

    pub fn malformed(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedRequest, zh, en)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "请先登录,或登录已过期",
            "sign in first; the token is missing, expired or revoked",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "您无权进行此操作",
            "you may not do this",
        )
    }

    pub fn case_not_found() -> Self {
        Self::new(ErrorCode::CaseNotFound, "案件不存在", "no such case")
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "请求的资源不存在", "no such resource")
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            ErrorCode::Internal,
            "系统内部错误,请稍后再试",
            "internal error",
        );
        e.internal = Some(err.into());
        e
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.internal {
            Some(e) => write!(f, "{}: {e:?}", self.code.as_str()),
            None => write!(f, "{}: {}", self.code.as_str(), self.en),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.en)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.internal.as_ref().map(|e| e.as_ref() as _)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let mut out = Self::new(ErrorCode::from(&e), e.message_zh(), e.to_string());
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

impl From<crate::store::DbErr> for ApiError {
    fn from(e: crate::store::DbErr) -> Self {
        Self::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_distinct_snake_case_and_matches_the_engines() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
        }
        let refusal = EngineError::GuardFailed {
            messages: vec!["x".to_owned()],
        };
        assert_eq!(ErrorCode::from(&refusal).as_str(), refusal.code());
    }
}
