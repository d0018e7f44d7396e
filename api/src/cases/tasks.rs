//! The caller's to-do list (待办): the cases in its scope on which it can act now, the soonest
//! deadline first, each with the deadline it answers for and the actions it may take.

use super::service::CaseService;
use super::snapshots::parse_snapshot;
use super::views::{ActionRef, CaseSummary, DeadlineView, WorkflowRef};
use crate::error::ApiError;
use crate::identity::{Caller, access};
use crate::support::Page;
use chrono::{DateTime, Utc};
use pilotflow_engine::definition::StateKind;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskFilter {
    /// Only this workflow's cases.
    pub workflow: Option<String>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// 1 to 100; 20 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

/// The deadline a to-do row shows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NextDeadline {
    pub name: String,
    pub label: String,
    pub due: DateTime<Utc>,
    /// The due time in the workflow's time zone (北京时间 for the programmes shipped).
    pub due_local: String,
    /// Whole days from now (negative once past).
    pub days_left: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskItem {
    #[serde(flatten)]
    pub case: CaseSummary,
    /// The soonest running deadline the caller's role answers for, else the soonest of all.
    pub next_deadline: Option<NextDeadline>,
    /// What the caller may do now (never empty).
    pub available_actions: Vec<ActionRef>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<TaskItem>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// The deadline to show: the caller's role's soonest, else the soonest.
fn next_deadline(deadlines: &[DeadlineView], role: &str) -> Option<NextDeadline> {
    let soonest = |mine: bool| {
        deadlines
            .iter()
            .filter(|d| !mine || d.responsible.iter().any(|r| r == role))
            .min_by_key(|d| d.due)
    };
    soonest(true)
        .or_else(|| soonest(false))
        .map(|d| NextDeadline {
            name: d.name.clone(),
            label: d.label.clone(),
            due: d.due,
            due_local: d.due_local.clone(),
            days_left: d.days_left,
        })
}

/// Soonest deadline first, cases without one after them; then the latest changed; then id.
fn order(a: &TaskItem, b: &TaskItem) -> std::cmp::Ordering {
    // `None` sorts before `Some`, so the key is whether there is *no* deadline, then when.
    let due = |t: &TaskItem| {
        let d = t.next_deadline.as_ref().map(|d| d.due);
        (d.is_none(), d)
    };
    due(a)
        .cmp(&due(b))
        .then_with(|| b.case.updated_at.cmp(&a.case.updated_at))
        .then_with(|| a.case.id.cmp(&b.case.id))
}

impl CaseService<'_> {
    /// The cases in the caller's scope on which it can act now, soonest deadline first.
    pub async fn tasks(&self, caller: &Caller, f: TaskFilter) -> Result<TaskList, ApiError> {
        let page = Page::checked(f.page, f.per_page, 20)?;
        let (rows, mut forms) = self
            .ctx
            .store
            .cases_in_scope_with_forms(&access::scope(caller))
            .await?;
        let now = self.ctx.clock.now();
        let mut items = Vec::new();
        for row in rows {
            if f.workflow.as_ref().is_some_and(|w| *w != row.workflow_key) {
                continue;
            }
            let finished = self
                .ctx
                .registry
                .version(&row.workflow_key, &row.workflow_version)
                .and_then(|wf| wf.def.state(&row.state))
                .is_some_and(|s| s.kind == StateKind::Terminal);
            if finished {
                continue;
            }
            let case_forms = forms.remove(&row.id).unwrap_or_default();
            let snapshot = Arc::new(parse_snapshot(&row, case_forms)?);
            let Ok(loaded) = self.load_parsed(caller, row, snapshot) else {
                continue;
            };
            let view = self.view(caller, &loaded.row, &loaded.snapshot, &loaded.wf.def, now);
            if view.available_actions.is_empty() {
                continue;
            }
            items.push(TaskItem {
                next_deadline: next_deadline(&view.deadlines, caller.role.as_str()),
                available_actions: view.available_actions,
                case: CaseSummary {
                    id: view.id,
                    workflow: WorkflowRef {
                        key: view.workflow.key,
                        version: view.workflow.version,
                    },
                    state: view.state,
                    state_label: view.state_label,
                    title: view.title,
                    org_unit: view.org_unit,
                    org_unit_name: view.org_unit_name,
                    round: view.round,
                    version: view.version,
                    created_at: view.created_at,
                    updated_at: view.updated_at,
                },
            });
        }
        items.sort_by(order);
        let total = items.len() as u64;
        let items = items
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(page.per_page).unwrap_or(usize::MAX))
            .collect();
        Ok(TaskList {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }
}
