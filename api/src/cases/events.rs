//! An outcome's event as its chained row: the event's JSON, the digest of its input, and the
//! hash that links it to the case's previous event.

use super::history;
use crate::error::ApiError;
use crate::store::entities::case_event;
use crate::support::to_json;
use pilotflow_engine::{EventKind, Outcome};
use serde_json::json;
use std::borrow::Cow;

pub(crate) fn event_row(
    case_id: &str,
    outcome: &Outcome,
    comment: Option<String>,
    prev_hash: &str,
) -> Result<case_event::Model, ApiError> {
    let e = &outcome.event;
    let body = to_json(e)?;
    let seq = e.seq as i64;
    let (kind, action, from, to, input) = match &e.kind {
        EventKind::Started { vars, .. } => ("started", None, None, None, Cow::Owned(json!(vars))),
        EventKind::FormSaved { form, data } => (
            "form_saved",
            Some(form.to_string()),
            None,
            None,
            Cow::Borrowed(&**data),
        ),
        EventKind::Assigned { role, users } => (
            "assigned",
            Some(role.to_string()),
            None,
            None,
            Cow::Owned(json!(users)),
        ),
        EventKind::ActionTaken {
            action,
            input,
            from,
            to,
            ..
        } => (
            "action_taken",
            Some(action.to_string()),
            Some(from.to_string()),
            Some(to.to_string()),
            Cow::Borrowed(input),
        ),
        EventKind::SheetReopened {
            action,
            user,
            reason,
            from,
            to,
        } => (
            "sheet_reopened",
            Some(action.to_string()),
            Some(from.to_string()),
            Some(to.to_string()),
            Cow::Owned(json!({"expert": user, "reason": reason})),
        ),
        EventKind::Declined { role, reason } => (
            "declined",
            Some(role.to_string()),
            None,
            None,
            Cow::Owned(json!({"reason": reason})),
        ),
    };
    let hash = history::event_hash(prev_hash, case_id, seq, comment.as_deref(), &body);
    Ok(case_event::Model {
        case_id: case_id.to_owned(),
        seq,
        kind: kind.to_owned(),
        action,
        actor: e.actor.as_ref().map(|a| a.user.to_string()),
        actor_role: e.actor.as_ref().map(|a| a.role.to_string()),
        from_state: from,
        to_state: to,
        at: e.at,
        input_digest: history::digest_json(&input),
        comment,
        body,
        prev_hash: prev_hash.to_owned(),
        hash,
    })
}
