//! An outcome the engine fired, as the store's transition: the case's new row, its chained
//! event, its deadlines when they changed, its panel when it changed, and the form it saved.

use super::deadlines::{deadline_rows, deadlines_changed};
use super::events::event_row;
use super::service::Loaded;
use super::snapshots::{saved_form, stored_snapshot};
use crate::error::{ApiError, ErrorCode};
use crate::store::{CaseUpdate, CaseWrite, DeadlineWrite, PanelWrite, Transition};
use chrono::{DateTime, Utc};
use pilotflow_engine::{DeadlineInstance, EventKind, Outcome};

/// The transition that updates `loaded` to `outcome`. `before` and `running` are the
/// deadlines running on the loaded and on the new snapshot. No idempotency record and no
/// document: the caller adds them where they apply.
pub(crate) fn update_transition(
    loaded: &Loaded,
    outcome: &Outcome,
    before: &[DeadlineInstance],
    running: &[DeadlineInstance],
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<Transition, ApiError> {
    let row = &loaded.row;
    let event = event_row(&row.id, outcome, comment, &row.head_hash)?;
    let snap = &outcome.snapshot;
    let update = CaseUpdate {
        id: row.id.clone(),
        expected_version: row.version,
        state: snap.state.to_string(),
        snapshot: stored_snapshot(snap)?,
        version: snap.version as i64,
        round: snap.round(),
        head_hash: event.hash.clone(),
        updated_at: now,
    };
    let deadlines = if deadlines_changed(before, running) {
        Some(DeadlineWrite {
            active: deadline_rows(row, running, now)?,
            now,
        })
    } else {
        None
    };
    Ok(Transition {
        case: CaseWrite::Update(update),
        event,
        idempotency: None,
        deadlines,
        panel: panel_write(outcome),
        document: None,
        form: saved_form(&row.id, outcome, now)?,
    })
}

/// The panel a transition leaves, when it changed one.
fn panel_write(outcome: &Outcome) -> Option<PanelWrite> {
    let (EventKind::Assigned { role, .. } | EventKind::Declined { role, .. }) = &outcome.event.kind
    else {
        return None;
    };
    let users = outcome.snapshot.assignments.get(role);
    Some(PanelWrite {
        role: role.to_string(),
        users: users.into_iter().flatten().map(|u| u.to_string()).collect(),
    })
}

/// The refusal of a write whose case moved on first.
pub(crate) fn version_conflict(current: i64) -> ApiError {
    ApiError::new(
        ErrorCode::VersionConflict,
        "案件已被他人更新,请刷新后重试",
        "the case has changed since you loaded it; reload and try again",
    )
    .with("current_version", current)
}
