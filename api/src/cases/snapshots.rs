//! A case's snapshot as the store keeps it: the row's text without the saved forms, which are
//! rows of their own.

use crate::error::ApiError;
use crate::store::entities::{case, case_form};
use crate::support::to_json;
use chrono::{DateTime, Utc};
use pilotflow_engine::{CaseSnapshot, EventKind, FormName, Outcome};
use serde_json::Value;
use std::sync::Arc;

/// A case row's snapshot with its saved forms put back (`forms`: the case's `case_forms`
/// rows).
pub(crate) fn parse_snapshot(
    row: &case::Model,
    forms: Vec<case_form::Model>,
) -> Result<CaseSnapshot, ApiError> {
    let mut snapshot = parse_without_forms(row)?;
    for f in forms {
        let doc: Value = serde_json::from_str(&f.body).map_err(|e| {
            ApiError::internal(
                anyhow::Error::new(e).context(format!("case {} form {}", row.id, f.name)),
            )
        })?;
        snapshot.forms.insert(FormName::new(f.name), Arc::new(doc));
    }
    Ok(snapshot)
}

/// A case row's snapshot with no forms: for readers of its state, variables, panels and
/// sheets only. Firing actions or building the case page needs [`parse_snapshot`].
pub(crate) fn parse_without_forms(row: &case::Model) -> Result<CaseSnapshot, ApiError> {
    serde_json::from_str(&row.snapshot)
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context(format!("case {}", row.id))))
}

/// The snapshot as the case row stores it: without the forms, which are rows of their own
/// written when saved (see [`saved_form`]).
pub(crate) fn stored_snapshot(snapshot: &CaseSnapshot) -> Result<String, ApiError> {
    to_json(&snapshot.without_forms())
}

/// The form row a form save writes.
pub(crate) fn saved_form(
    case_id: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<Option<case_form::Model>, ApiError> {
    let EventKind::FormSaved { form, data } = &outcome.event.kind else {
        return Ok(None);
    };
    Ok(Some(case_form::Model {
        case_id: case_id.to_owned(),
        name: form.to_string(),
        body: to_json(data)?,
        saved_at: now,
    }))
}
