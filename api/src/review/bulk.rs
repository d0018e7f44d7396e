//! Panels for a whole round at once, and the one-transaction write that several cases'
//! outcomes share (bulk panels, decisions under one document).

use super::ReviewService;
use super::lookup::{panel_role, review_action, review_case};
use super::pool::{open_loads, pool};
use crate::cases::{
    Loaded, document_number_taken, parse_snapshot, update_transition, version_conflict,
};
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, access};
use crate::store::WriteError;
use crate::store::entities::document;
use crate::workflows;
use chrono::{DateTime, Utc};
use pilotflow_engine::definition::Action;
use pilotflow_engine::review::{self, Expert, ReviewCase};
use pilotflow_engine::{Outcome, RoleName, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkPanelRequest {
    pub workflow: String,
    /// The scored review (default: the workflow's first).
    pub action: Option<String>,
    /// Experts per case (default: the review's `panel_size`).
    pub experts_per_case: Option<usize>,
    /// Also reassign cases that already have a panel (default: only those without).
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkPanelCase {
    pub case_id: String,
    pub title: String,
    pub org_unit_name: String,
    pub experts: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkPanelReport {
    pub round: i32,
    pub experts_per_case: usize,
    pub cases: Vec<BulkPanelCase>,
    /// Open reviews per expert afterwards.
    pub loads: BTreeMap<String, usize>,
}

impl ReviewService<'_> {
    /// Assigns panels to every case of the round waiting in the review: balanced, recusal
    /// kept, areas matched where possible; all cases are written in one transaction.
    pub async fn bulk_panels(
        &self,
        caller: &Caller,
        year: i32,
        req: BulkPanelRequest,
    ) -> Result<BulkPanelReport, ApiError> {
        let ctx = self.ctx();
        let wf = workflows::views::find(&ctx.registry, &req.workflow)?.clone();
        let action = review_action(&wf.def, req.action.as_deref())?;
        let role = panel_role(&wf.def)?;
        let per_case = req
            .experts_per_case
            .or(action.panel_size.map(|n| n as usize))
            .unwrap_or(3);
        if !(1..=50).contains(&per_case) {
            return Err(ApiError::invalid(
                "/experts_per_case",
                "每个案件的评审专家人数应在 1 到 50 之间",
                "experts_per_case must be between 1 and 50",
            ));
        }
        let now = ctx.clock.now();
        let waiting = self
            .waiting_for_panels(caller, &req, year, action, &role)
            .await?;
        let experts = pool(ctx, role.as_str()).await?;
        let mut loads = open_loads(ctx, &role).await?;
        // The panels about to be replaced no longer count towards their experts' loads.
        for l in &waiting {
            for u in l.snapshot.assignments.get(&role).into_iter().flatten() {
                if let Some(n) = loads.get_mut(u.as_str()) {
                    *n = n.saturating_sub(1);
                }
            }
        }
        let cases: Vec<ReviewCase> = waiting
            .iter()
            .map(|l| review_case(&self.cases, l, action, now))
            .collect();
        let profiles: Vec<Expert> = experts.iter().map(|e| e.profile.clone()).collect();
        let base: Vec<usize> = profiles
            .iter()
            .map(|e| loads.get(&e.username).copied().unwrap_or(0))
            .collect();
        let panels = review::assign_panels(&cases, &profiles, per_case, &base)
            .map_err(|e| too_few_experts(e, &waiting))?;
        let units = ctx.units();
        let mut writes = Vec::new();
        for (l, panel) in waiting.iter().zip(&panels.panels) {
            let users: BTreeSet<UserId> = panel
                .iter()
                .map(|&e| UserId::new(profiles[e].username.clone()))
                .collect();
            let actor = access::actor(caller, &units, &l.row.org_unit);
            let outcome = self.cases.engine(&l.wf.def).assign(
                &l.snapshot,
                &actor,
                role.as_str(),
                users,
                now,
            )?;
            writes.push(outcome);
        }
        self.write_batch(&waiting, &writes, None, now).await?;
        Ok(BulkPanelReport {
            round: year,
            experts_per_case: per_case,
            cases: waiting
                .iter()
                .zip(&panels.panels)
                .map(|(l, panel)| BulkPanelCase {
                    case_id: l.row.id.clone(),
                    title: l.row.title.clone(),
                    org_unit_name: units.name(&l.row.org_unit),
                    experts: panel
                        .iter()
                        .map(|&e| profiles[e].username.clone())
                        .collect(),
                })
                .collect(),
            loads: profiles
                .iter()
                .zip(&panels.loads)
                .map(|(e, n)| (e.username.clone(), *n))
                .collect(),
        })
    }

    /// The round's cases the caller sees that wait in the review for a panel (or, with
    /// `replace`, have one already).
    async fn waiting_for_panels(
        &self,
        caller: &Caller,
        req: &BulkPanelRequest,
        year: i32,
        action: &Action,
        role: &RoleName,
    ) -> Result<Vec<Loaded>, ApiError> {
        let (rows, mut forms) = self
            .ctx()
            .store
            .round_cases_with_forms(&req.workflow, year)
            .await?;
        let mut waiting: Vec<Loaded> = Vec::new();
        for row in rows {
            let case_forms = forms.remove(&row.id).unwrap_or_default();
            let snapshot = Arc::new(parse_snapshot(&row, case_forms)?);
            let Ok(loaded) = self.cases.load_parsed(caller, row, snapshot) else {
                continue;
            };
            let open = action
                .from
                .iter()
                .any(|s| loaded.snapshot.is_in(&loaded.wf.def, s));
            let has_panel = loaded
                .snapshot
                .assignments
                .get(role)
                .is_some_and(|u| !u.is_empty());
            if open && (req.replace || !has_panel) {
                waiting.push(loaded);
            }
        }
        Ok(waiting)
    }

    /// Writes the outcomes of several cases (and a document) in one transaction: all or none.
    pub(super) async fn write_batch(
        &self,
        loaded: &[Loaded],
        outcomes: &[Outcome],
        document: Option<document::Model>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let number = document.as_ref().map(|d| d.number.clone());
        let mut transitions = Vec::with_capacity(loaded.len());
        for (l, outcome) in loaded.iter().zip(outcomes) {
            let engine = self.cases.engine(&l.wf.def);
            let before = engine.deadlines(&l.snapshot);
            let running = engine.deadlines(&outcome.snapshot);
            transitions.push(update_transition(l, outcome, &before, &running, None, now)?);
        }
        match self.ctx().store.apply_batch(document, transitions).await {
            Ok(None) => Ok(()),
            Ok(Some(stale)) => {
                let version = loaded
                    .iter()
                    .find(|l| l.row.id == stale)
                    .map_or(0, |l| l.row.version);
                Err(version_conflict(version + 1).with("case_id", stale))
            }
            Err(WriteError::UniqueViolation) => match number {
                Some(number) => Err(document_number_taken(&number, "/document_number")),
                None => Err(ApiError::internal(WriteError::UniqueViolation)),
            },
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

/// The refusal when a case has too few experts who need not recuse themselves.
fn too_few_experts(e: review::AssignError, waiting: &[Loaded]) -> ApiError {
    match e {
        review::AssignError::TooFewEligible {
            case,
            eligible,
            needed,
        } => {
            let title = waiting
                .iter()
                .find(|l| l.row.id == case)
                .map(|l| l.row.title.clone())
                .unwrap_or_default();
            ApiError::new(
                ErrorCode::TooFewExperts,
                format!("「{title}」只有 {eligible} 名无需回避的专家,不足每案 {needed} 名"),
                format!("case {case} has {eligible} eligible experts, {needed} are needed"),
            )
            .with("case_id", case)
        }
    }
}
