//! Decisions issued under a numbered document (文号): the document's row, its year, and the
//! refusal of a number already used.

use crate::error::{ApiError, ErrorCode};
use crate::store::entities::document;
use chrono::{DateTime, Utc};
use pilotflow_engine::{Definition, EventKind, FieldError, Outcome};
use serde_json::json;

/// The document row an action issued under a numbered document records, if it is one.
pub(crate) fn document_row(
    def: &Definition,
    case_id: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Option<document::Model> {
    let EventKind::ActionTaken { action, input, .. } = &outcome.event.kind else {
        return None;
    };
    let field = def
        .actions_named(action.as_str())
        .find_map(|a| a.document.as_ref())?;
    let number = input.get(field)?.as_str()?.trim().to_owned();
    Some(document::Model {
        workflow_key: def.key.clone(),
        year: document_year(&number),
        number,
        action: action.to_string(),
        case_ids: json!([case_id]).to_string(),
        issued_by: outcome
            .event
            .actor
            .as_ref()
            .map(|a| a.user.to_string())
            .unwrap_or_default(),
        issued_at: now,
    })
}

/// The year in a document number's 〔〕 (吉民发〔2026〕12号 → 2026).
pub fn document_year(number: &str) -> Option<i32> {
    let (_, rest) = number.split_once('〔')?;
    let (year, _) = rest.split_once('〕')?;
    year.parse().ok()
}

/// The refusal of a number already used, on the field that carried it (`pointer`).
pub(crate) fn document_number_taken(number: &str, pointer: &str) -> ApiError {
    ApiError::new(
        ErrorCode::DocumentNumberTaken,
        format!("文号「{number}」已被使用,一个文号只能用于一次决定"),
        format!("document number `{number}` is already used by another decision"),
    )
    .with_errors(vec![FieldError {
        pointer: pointer.to_owned(),
        message: format!("文号「{number}」已被使用"),
        message_en: format!("document number `{number}` is already used"),
    }])
}
