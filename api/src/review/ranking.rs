//! A round's ranking: the cases that reached the review, by aggregate score.

use super::lookup::review_action;
use super::scores::{ReviewSummary, summarise};
use crate::cases::parse_without_forms;
use crate::context::Context;
use crate::error::ApiError;
use crate::workflows;
use pilotflow_engine::review;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RankingQuery {
    pub workflow: String,
    /// The scored review (default: the workflow's first, e.g. `score`).
    pub action: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RankingEntry {
    pub rank: Option<u32>,
    pub case_id: String,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub city_name: String,
    pub state: String,
    pub state_label: String,
    pub score: Option<f64>,
    #[serde(flatten)]
    pub summary: ReviewSummary,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ranking {
    pub workflow: String,
    pub action: String,
    pub round: i32,
    pub method: String,
    pub items: Vec<RankingEntry>,
}

/// The round's cases that reached the review, by aggregate score (highest first).
pub async fn ranking(ctx: &Context, year: i32, q: &RankingQuery) -> Result<Ranking, ApiError> {
    let wf = workflows::views::find(&ctx.registry, &q.workflow)?.clone();
    let action_name = review_action(&wf.def, q.action.as_deref())?
        .name
        .to_string();
    let units = ctx.units();
    let rows = ctx.store.round_cases(&q.workflow, year).await?;
    let mut items = Vec::new();
    let mut method = String::new();
    for row in rows {
        let Some(case_wf) = ctx
            .registry
            .version(&row.workflow_key, &row.workflow_version)
        else {
            continue;
        };
        let def = &case_wf.def;
        let Ok(action) = review_action(def, Some(&action_name)) else {
            continue;
        };
        let snapshot = parse_without_forms(&row)?;
        if !action.from.iter().any(|s| snapshot.entered.contains_key(s)) {
            continue;
        }
        let (summary, _) = summarise(def, action, &snapshot);
        if method.is_empty() {
            method = action
                .scoring
                .as_ref()
                .map(|s| s.method.label_zh().to_owned())
                .unwrap_or_default();
        }
        let city = units.parent(&row.org_unit).unwrap_or_default().to_owned();
        items.push(RankingEntry {
            rank: None,
            score: summary.aggregate.score,
            case_id: row.id,
            title: row.title,
            org_unit_name: units.name(&row.org_unit),
            city_name: units.name(&city),
            org_unit: row.org_unit,
            state_label: def
                .state(&row.state)
                .map(|s| s.label.clone())
                .unwrap_or_default(),
            state: row.state,
            summary,
        });
    }
    let ranks = review::rank(&items.iter().map(|i| i.score).collect::<Vec<_>>());
    for (item, rank) in items.iter_mut().zip(ranks) {
        item.rank = rank;
    }
    items.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.case_id).cmp(&(b.rank.is_none(), b.rank, &b.case_id))
    });
    Ok(Ranking {
        workflow: q.workflow.clone(),
        action: action_name,
        round: year,
        method,
        items,
    })
}
