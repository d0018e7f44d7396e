//! The rows of the deadlines running on a case, written when they change.

use crate::error::ApiError;
use crate::store::RunningDeadline;
use crate::store::entities::{case, case_deadline};
use crate::support::to_json;
use chrono::{DateTime, Utc};
use pilotflow_engine::{DeadlineInstance, deadline};

/// The rows for the deadlines running on a case (all pending), with their first notices.
pub(crate) fn deadline_rows(
    row: &case::Model,
    running: &[DeadlineInstance],
    now: DateTime<Utc>,
) -> Result<Vec<RunningDeadline>, ApiError> {
    running
        .iter()
        .map(|d| {
            let remind_days: Vec<u32> = d.reminders.iter().map(|r| r.days_before).collect();
            Ok(RunningDeadline {
                first_notice_at: deadline::first_notice_at(
                    d.due,
                    &remind_days,
                    !d.escalate_to.is_empty(),
                ),
                row: case_deadline::Model {
                    case_id: row.id.clone(),
                    name: d.name.to_string(),
                    label: d.label.clone(),
                    case_title: row.title.clone(),
                    workflow_key: row.workflow_key.clone(),
                    org_unit: row.org_unit.clone(),
                    parent_unit: row.parent_unit.clone(),
                    due: d.due,
                    status: "pending".to_owned(),
                    responsible: to_json(&d.responsible)?,
                    gates: to_json(&d.gates)?,
                    fallback_years: to_json(&d.calendar_fallback_years)?,
                    updated_at: now,
                    remind_days: to_json(&remind_days)?,
                    escalate_to: to_json(&d.escalate_to)?,
                },
            })
        })
        .collect()
}

/// Whether two sets of running deadlines differ in anything stored.
pub(crate) fn deadlines_changed(before: &[DeadlineInstance], after: &[DeadlineInstance]) -> bool {
    let same = |a: &DeadlineInstance, b: &DeadlineInstance| {
        a.name == b.name
            && a.due == b.due
            && a.responsible == b.responsible
            && a.gates == b.gates
            && a.calendar_fallback_years == b.calendar_fallback_years
            && a.reminders == b.reminders
            && a.escalate_to == b.escalate_to
    };
    before.len() != after.len() || before.iter().zip(after).any(|(a, b)| !same(a, b))
}
