//! A case's review as the province reads it: each sheet with its score, and the aggregate
//! with its flags, by the engine's rules.

use super::ReviewService;
use super::lookup::{ensure_assigner, review_action};
use super::sheets::submission_times;
use crate::error::ApiError;
use crate::identity::{Caller, Role};
use chrono::{DateTime, Utc};
use pilotflow_engine::definition::Action;
use pilotflow_engine::review::{self, Aggregate};
use pilotflow_engine::{CaseSnapshot, Definition};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

/// One case's review as the province reads it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewSummary {
    #[schema(value_type = Object)]
    pub aggregate: Aggregate,
    /// Experts on the panel.
    pub assigned: usize,
    /// Of them, sheets submitted.
    pub submitted: usize,
    /// The collection is complete (all assigned, or the quorum).
    pub complete: bool,
    /// `dispersed` (spread beyond the threshold), `incomplete`.
    pub flags: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SheetScore {
    pub expert: String,
    pub display_name: String,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The sheet's score under the review's method.
    pub score: Option<f64>,
    #[schema(value_type = Object)]
    pub sheet: Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseScores {
    pub case_id: String,
    pub action: String,
    #[schema(value_type = Vec<Object>)]
    pub rubric: Vec<review::Criterion>,
    pub sheets: Vec<SheetScore>,
    #[serde(flatten)]
    pub summary: ReviewSummary,
}

/// The review's summary and each sheet (expert, sheet, score), by the engine's rules.
pub(super) fn summarise(
    def: &Definition,
    action: &Action,
    snapshot: &CaseSnapshot,
) -> (ReviewSummary, Vec<(String, Value, Option<f64>)>) {
    let Some(scoring) = &action.scoring else {
        return (
            ReviewSummary {
                aggregate: review::aggregate(
                    &review::Scoring {
                        method: review::Method::Mean,
                        dispersion: None,
                        rubric: review::Rubric {
                            criteria: Vec::new(),
                        },
                    },
                    &[],
                ),
                assigned: 0,
                submitted: 0,
                complete: false,
                flags: Vec::new(),
            },
            Vec::new(),
        );
    };
    let sheets: Vec<(String, Value, Option<f64>)> = snapshot
        .collected
        .get(&action.name)
        .into_iter()
        .flatten()
        .map(|(user, sheet)| {
            (
                user.to_string(),
                sheet.clone(),
                review::sheet_score(&scoring.rubric, scoring.method, sheet),
            )
        })
        .collect();
    let scores: Vec<f64> = sheets.iter().filter_map(|(_, _, s)| *s).collect();
    let aggregate = review::aggregate(scoring, &scores);
    let assigned = action
        .roles
        .iter()
        .filter_map(|r| snapshot.assignments.get(r))
        .map(BTreeSet::len)
        .sum();
    let complete = match action.collect {
        Some(pilotflow_engine::definition::Completion::All) => {
            assigned > 0 && sheets.len() >= assigned
        }
        Some(pilotflow_engine::definition::Completion::Quorum(n)) => sheets.len() >= n as usize,
        None => false,
    };
    let _ = def;
    let mut flags = Vec::new();
    if aggregate.dispersed {
        flags.push("dispersed".to_owned());
    }
    if !complete {
        flags.push("incomplete".to_owned());
    }
    (
        ReviewSummary {
            aggregate,
            assigned,
            submitted: sheets.len(),
            complete,
            flags,
        },
        sheets,
    )
}

impl ReviewService<'_> {
    /// Each sheet of a case's review, the aggregate and its flags, for the province.
    pub async fn scores(
        &self,
        caller: &Caller,
        id: &str,
        action: Option<&str>,
    ) -> Result<CaseScores, ApiError> {
        let loaded = self.cases.load_visible(caller, id).await?;
        ensure_assigner(&self.cases, caller, &loaded)?;
        let def = &loaded.wf.def;
        let a = review_action(def, action)?;
        let people: HashMap<String, String> = self
            .ctx()
            .store
            .users_with_role(Role::Expert.as_str(), false)
            .await?
            .into_iter()
            .map(|u| (u.username, u.display_name))
            .collect();
        let times = submission_times(self.ctx(), id).await?;
        let (summary, sheets) = summarise(def, a, &loaded.snapshot);
        Ok(CaseScores {
            case_id: id.to_owned(),
            action: a.name.to_string(),
            rubric: a
                .scoring
                .as_ref()
                .map(|s| s.rubric.criteria.clone())
                .unwrap_or_default(),
            sheets: sheets
                .into_iter()
                .map(|(expert, sheet, score)| SheetScore {
                    display_name: people.get(&expert).cloned().unwrap_or_default(),
                    submitted_at: times.get(&(a.name.to_string(), expert.clone())).copied(),
                    expert,
                    score,
                    sheet,
                })
                .collect(),
            summary,
        })
    }
}
