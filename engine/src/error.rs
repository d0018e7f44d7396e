//! What the engine refuses, with a stable code for every kind and a message for people.

use crate::forms::FieldError;
use crate::ids::{ActionName, DeadlineName, FormName, RoleName, StateName, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum EngineError {
    #[error("the workflow has no action `{action}`")]
    UnknownAction { action: ActionName },
    #[error("action `{action}` is not available while the case is in {states:?}")]
    ActionNotAvailable {
        action: ActionName,
        states: Vec<StateName>,
    },
    #[error("action `{action}` may not be taken by this user as `{role}`")]
    ActionNotAllowed { action: ActionName, role: RoleName },
    #[error("this user has already submitted `{action}` for this case")]
    AlreadySubmitted { action: ActionName },
    #[error("the input does not satisfy the action's schema")]
    InvalidInput { errors: Vec<FieldError> },
    #[error("form `{form}` is missing or incomplete")]
    FormIncomplete {
        form: FormName,
        label: String,
        errors: Vec<FieldError>,
    },
    #[error("a condition of the action is not met: {}", messages.join("; "))]
    GuardFailed { messages: Vec<String> },
    #[error("deadline `{deadline}` passed at {due_local}")]
    DeadlinePassed {
        deadline: DeadlineName,
        due: DateTime<Utc>,
        due_local: String,
        next_due_local: Option<String>,
        message: String,
    },
    #[error("the unit may not start this workflow: {}", messages.join("; "))]
    NotEligible { messages: Vec<String> },
    #[error("the workflow has no form `{form}`")]
    UnknownForm { form: FormName },
    #[error("form `{form}` cannot be edited by this user in the case's current state")]
    FormNotEditable { form: FormName },
    #[error("role `{role}` cannot be assigned by this user")]
    AssignmentNotAllowed { role: RoleName },
    #[error("initial value for `{variable}` is not allowed: {reason}")]
    InvalidVariable { variable: String, reason: String },
    #[error("the definition could not evaluate an expression: {message}")]
    EvaluationFailed { message: String },
    #[error("replaying event {seq} did not give the recorded result")]
    ReplayMismatch { seq: u64 },
    #[error("{user} has no submission to `{action}` to reopen")]
    NothingToReopen { action: ActionName, user: UserId },
    #[error("the review `{action}` is over; its submissions can no longer be reopened")]
    ReviewClosed { action: ActionName },
    #[error("this user is not assigned to the case as `{role}`")]
    NotAssigned { role: RoleName },
}

impl EngineError {
    /// Stable code for clients and for the service's status table.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownAction { .. } => "unknown_action",
            Self::ActionNotAvailable { .. } => "action_not_available",
            Self::ActionNotAllowed { .. } => "action_not_allowed",
            Self::AlreadySubmitted { .. } => "already_submitted",
            Self::InvalidInput { .. } => "invalid_input",
            Self::FormIncomplete { .. } => "form_incomplete",
            Self::GuardFailed { .. } => "guard_failed",
            Self::DeadlinePassed { .. } => "deadline_passed",
            Self::NotEligible { .. } => "not_eligible",
            Self::UnknownForm { .. } => "unknown_form",
            Self::FormNotEditable { .. } => "form_not_editable",
            Self::AssignmentNotAllowed { .. } => "assignment_not_allowed",
            Self::InvalidVariable { .. } => "invalid_variable",
            Self::EvaluationFailed { .. } => "evaluation_failed",
            Self::ReplayMismatch { .. } => "replay_mismatch",
            Self::NothingToReopen { .. } => "nothing_to_reopen",
            Self::ReviewClosed { .. } => "review_closed",
            Self::NotAssigned { .. } => "not_assigned",
        }
    }

    /// The message shown to the people using the system (Chinese).
    pub fn message_zh(&self) -> String {
        match self {
            Self::UnknownAction { action } => format!("没有名为「{action}」的操作"),
            Self::ActionNotAvailable { action, .. } => {
                format!("当前状态下不能执行「{action}」操作")
            }
            Self::ActionNotAllowed { action, .. } => format!("您无权执行「{action}」操作"),
            Self::AlreadySubmitted { .. } => "您已提交过,不能重复提交".to_owned(),
            Self::InvalidInput { errors } => format!(
                "填写内容有 {} 处问题:{}",
                errors.len(),
                errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            ),
            Self::FormIncomplete { label, errors, .. } => {
                if errors.is_empty() {
                    format!("尚未填写「{label}」")
                } else {
                    format!(
                        "「{label}」尚不完整:{}",
                        errors
                            .iter()
                            .map(|e| e.message.as_str())
                            .collect::<Vec<_>>()
                            .join(";")
                    )
                }
            }
            Self::GuardFailed { messages } | Self::NotEligible { messages } => messages.join(";"),
            Self::DeadlinePassed { message, .. } => message.clone(),
            Self::UnknownForm { form } => format!("没有名为「{form}」的表单"),
            Self::FormNotEditable { .. } => "当前状态下您不能修改该表单".to_owned(),
            Self::AssignmentNotAllowed { .. } => "您无权指派该角色".to_owned(),
            Self::InvalidVariable { variable, .. } => format!("案件变量「{variable}」的取值不正确"),
            Self::EvaluationFailed { .. } | Self::ReplayMismatch { .. } => {
                "系统内部错误,请联系管理员".to_owned()
            }
            Self::NothingToReopen { user, .. } => {
                format!("专家 {user} 尚未提交评分表,无需退回")
            }
            Self::ReviewClosed { .. } => "评审已结束,评分表不能再退回修改".to_owned(),
            Self::NotAssigned { .. } => "您未被指派评审该案件".to_owned(),
        }
    }
}
