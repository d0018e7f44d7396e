//! Score sheets: an expert's private draft, the sheet as submitted, and the province taking a
//! submitted sheet back (it becomes the expert's draft again).

use super::ReviewService;
use super::lookup::review_action;
use crate::cases::{CaseView, version_conflict};
use crate::context::Context;
use crate::error::{ApiError, ErrorCode, ProblemField};
use crate::identity::{Caller, access};
use crate::store::entities::review_draft;
use crate::support::to_json;
use chrono::{DateTime, Utc};
use pilotflow_engine::UserId;
use pilotflow_engine::definition::Action;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// The expert whose submitted sheet is taken back.
    pub expert: String,
    /// Why (kept in the case's history).
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SheetView {
    pub action: String,
    /// `draft` or `submitted`.
    pub status: String,
    #[schema(value_type = Object)]
    pub sheet: Value,
    /// What a draft still lacks (empty once complete).
    pub errors: Vec<crate::error::ProblemField>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ReviewService<'_> {
    /// The province takes an expert's submitted sheet back; the sheet becomes that expert's
    /// draft again.
    pub async fn reopen(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
        req: ReopenRequest,
    ) -> Result<CaseView, ApiError> {
        let loaded = self.cases.load_visible(caller, id).await?;
        let def = &loaded.wf.def;
        let actor = access::actor(caller, &self.ctx().units(), &loaded.row.org_unit);
        let now = self.ctx().clock.now();
        let user = UserId::new(req.expert.clone());
        let sheet = loaded
            .snapshot
            .collected
            .get(action)
            .and_then(|m| m.get(&user))
            .cloned();
        let outcome = self.cases.engine(def).reopen(
            &loaded.snapshot,
            &actor,
            action,
            &user,
            &req.reason,
            now,
        )?;
        let running = self.cases.engine(def).deadlines(&outcome.snapshot);
        if !self
            .cases
            .commit(&loaded, &outcome, &running, None, now, None)
            .await?
        {
            return Err(version_conflict(loaded.row.version + 1));
        }
        if let Some(sheet) = sheet {
            save_draft(self.ctx(), id, action, &req.expert, &sheet, now).await?;
        }
        Ok(self
            .cases
            .view_with(caller, &loaded.row, &outcome.snapshot, def, now, running))
    }

    /// The caller's own sheet: submitted, else its draft.
    pub async fn my_sheet(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
    ) -> Result<SheetView, ApiError> {
        let loaded = self.cases.load_visible(caller, id).await?;
        let a = review_action(&loaded.wf.def, Some(action))?;
        if let Some(sheet) = loaded
            .snapshot
            .collected
            .get(&a.name)
            .and_then(|m| m.get(caller.username.as_str()))
        {
            let times = submission_times(self.ctx(), id).await?;
            return Ok(SheetView {
                action: action.to_owned(),
                status: "submitted".to_owned(),
                sheet: sheet.clone(),
                errors: Vec::new(),
                updated_at: times
                    .get(&(action.to_owned(), caller.username.clone()))
                    .copied(),
            });
        }
        let draft = self
            .ctx()
            .store
            .review_draft(id, action, &caller.username)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::FormNotSaved,
                    "您尚未填写该评分表",
                    "you have no sheet for this review yet",
                )
            })?;
        let sheet: Value = serde_json::from_str(&draft.data).map_err(ApiError::internal)?;
        Ok(SheetView {
            action: action.to_owned(),
            status: "draft".to_owned(),
            errors: sheet_errors(a, &sheet),
            sheet,
            updated_at: Some(draft.updated_at),
        })
    }

    /// Saves the caller's draft sheet (assigned, review open, not yet submitted); answers
    /// what it still lacks.
    pub async fn save_sheet(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
        sheet: Value,
    ) -> Result<SheetView, ApiError> {
        let loaded = self.cases.load_visible(caller, id).await?;
        let a = review_action(&loaded.wf.def, Some(action))?;
        let actor = access::actor(caller, &self.ctx().units(), &loaded.row.org_unit);
        let now = self.ctx().clock.now();
        let offered = self
            .cases
            .engine(&loaded.wf.def)
            .available_actions(&loaded.snapshot, &actor, now)
            .into_iter()
            .any(|x| x.name == a.name);
        if !offered {
            let submitted = loaded
                .snapshot
                .collected
                .get(&a.name)
                .is_some_and(|m| m.contains_key(caller.username.as_str()));
            return Err(if submitted {
                pilotflow_engine::EngineError::AlreadySubmitted {
                    action: a.name.clone(),
                }
                .into()
            } else {
                ApiError::new(
                    ErrorCode::ReviewClosed,
                    "该评审当前未开放,或您不是本案评审专家",
                    "this review is not open to you now",
                )
            });
        }
        save_draft(self.ctx(), id, action, &caller.username, &sheet, now).await?;
        Ok(SheetView {
            action: action.to_owned(),
            status: "draft".to_owned(),
            errors: sheet_errors(a, &sheet),
            sheet,
            updated_at: Some(now),
        })
    }
}

/// When each user last submitted each collect action of a case.
pub(super) async fn submission_times(
    ctx: &Context,
    case_id: &str,
) -> Result<HashMap<(String, String), DateTime<Utc>>, ApiError> {
    let mut times = HashMap::new();
    for e in ctx.store.events_of_kind(case_id, "action_taken").await? {
        if let (Some(action), Some(actor)) = (e.action, e.actor) {
            times.insert((action, actor), e.at);
        }
    }
    Ok(times)
}

fn sheet_errors(action: &Action, sheet: &Value) -> Vec<ProblemField> {
    action
        .input
        .as_ref()
        .map(|s| ProblemField::list(&s.errors(sheet)))
        .unwrap_or_default()
}

async fn save_draft(
    ctx: &Context,
    case_id: &str,
    action: &str,
    username: &str,
    sheet: &Value,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    ctx.store
        .put_review_draft(review_draft::Model {
            case_id: case_id.to_owned(),
            action: action.to_owned(),
            username: username.to_owned(),
            data: to_json(sheet)?,
            updated_at: now,
        })
        .await?;
    Ok(())
}
