//! Decisions under a numbered document (发文确认): several cases in one call, all or none.

use super::ReviewService;
use crate::cases::{CaseView, Loaded, document_row};
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, access};
use crate::workflows;
use chrono::{DateTime, Utc};
use pilotflow_engine::{FieldError, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionCase {
    pub id: String,
    /// The version the decision was prepared on (as `If-Match` for one case).
    pub version: i64,
    /// This case's own input (e.g. the reasons of a rejection), over the shared one.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub workflow: String,
    /// `confirm` or `reject` (an action issued under a numbered document).
    pub action: String,
    /// The document number (文号), used by this decision only.
    pub document_number: String,
    /// Input shared by every case (e.g. `decided_on`, `remarks`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Value,
    pub cases: Vec<DecisionCase>,
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionReport {
    pub document_number: String,
    pub action: String,
    pub cases: Vec<CaseView>,
}

impl ReviewService<'_> {
    /// Several cases decided under one document: each must accept the action, or none
    /// changes.
    pub async fn decide(
        &self,
        caller: &Caller,
        req: DecisionRequest,
    ) -> Result<DecisionReport, ApiError> {
        let ctx = self.ctx();
        let wf = workflows::views::find(&ctx.registry, &req.workflow)?.clone();
        let field = wf
            .def
            .actions_named(&req.action)
            .find_map(|a| a.document.clone())
            .ok_or_else(|| {
                ApiError::invalid(
                    "/action",
                    format!("「{}」不是以文件发布的决定", req.action),
                    format!("`{}` is not issued under a document", req.action),
                )
            })?;
        if req.cases.is_empty() {
            return Err(ApiError::invalid(
                "/cases",
                "请至少列出一个案件",
                "list at least one case",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, c) in req.cases.iter().enumerate() {
            if !seen.insert(c.id.as_str()) {
                return Err(ApiError::invalid(
                    &format!("/cases/{i}/id"),
                    "同一案件列出了两次",
                    "the same case is listed twice",
                ));
            }
        }
        let now = ctx.clock.now();
        let (loaded, outcomes) = self.fire_each(caller, &req, &field, now).await?;
        let first = outcomes
            .first()
            .zip(loaded.first())
            .and_then(|(o, l)| document_row(&l.wf.def, &l.row.id, o, now));
        let document = first.map(|mut d| {
            d.case_ids =
                json!(loaded.iter().map(|l| l.row.id.clone()).collect::<Vec<_>>()).to_string();
            d
        });
        self.write_batch(&loaded, &outcomes, document, now).await?;
        let mut views = Vec::new();
        // Cached copies of these cases are at their old versions, so no later write uses them.
        for (l, o) in loaded.iter().zip(&outcomes) {
            let mut view = self.cases.view(caller, &l.row, &o.snapshot, &l.wf.def, now);
            view.updated_at = now;
            views.push(view);
        }
        Ok(DecisionReport {
            document_number: req.document_number.trim().to_owned(),
            action: req.action,
            cases: views,
        })
    }

    /// Fires the decision on every case, each with the shared input, its own, and the
    /// document number in `field`; refused whole, naming every case that cannot take it.
    async fn fire_each(
        &self,
        caller: &Caller,
        req: &DecisionRequest,
        field: &str,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Loaded>, Vec<Outcome>), ApiError> {
        let units = self.ctx().units();
        let mut loaded = Vec::new();
        let mut outcomes = Vec::new();
        let mut problems = Vec::new();
        for (i, c) in req.cases.iter().enumerate() {
            let l = match self.cases.load_visible(caller, &c.id).await {
                Ok(l) => l,
                Err(e) => {
                    problems.push(case_problem(i, &c.id, e.message_zh(), e.message_en()));
                    continue;
                }
            };
            if l.row.version != c.version {
                problems.push(case_problem(
                    i,
                    &c.id,
                    &format!("案件已被他人更新(当前版本 {}),请刷新后重试", l.row.version),
                    &format!(
                        "the case is at version {}, not {}",
                        l.row.version, c.version
                    ),
                ));
                continue;
            }
            let input = decision_input(req, c, field);
            let actor = access::actor(caller, &units, &l.row.org_unit);
            match self
                .cases
                .engine(&l.wf.def)
                .fire(&l.snapshot, &actor, &req.action, &input, now)
            {
                Ok(outcome) => {
                    outcomes.push(outcome);
                    loaded.push(l);
                }
                Err(e) => {
                    let e = ApiError::from(e);
                    problems.push(case_problem(i, &c.id, e.message_zh(), e.message_en()));
                }
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::new(
                ErrorCode::DecisionRefused,
                format!("{} 个案件不能按此决定办理,所有案件均未改动", problems.len()),
                format!(
                    "{} of the cases cannot take this decision; none was changed",
                    problems.len()
                ),
            )
            .with_errors(problems));
        }
        Ok((loaded, outcomes))
    }
}

/// One case's input: the shared input, the case's own over it, and the document number.
fn decision_input(req: &DecisionRequest, case: &DecisionCase, field: &str) -> Value {
    let mut input = req.input.clone();
    if !input.is_object() {
        input = json!({});
    }
    if let (Some(map), Some(own)) = (input.as_object_mut(), case.input.as_object()) {
        for (k, v) in own {
            map.insert(k.clone(), v.clone());
        }
    }
    if let Some(map) = input.as_object_mut() {
        map.insert(field.to_owned(), Value::from(req.document_number.trim()));
    }
    input
}

fn case_problem(i: usize, id: &str, zh: &str, en: &str) -> FieldError {
    FieldError {
        pointer: format!("/cases/{i}"),
        message: format!("案件 {id}:{zh}"),
        message_en: format!("case {id}: {en}"),
    }
}
