//! The cases a caller may see, filtered, newest first.

use super::views::{CaseFilter, CaseList, CaseSummary, WorkflowRef, state_label};
use crate::context::Context;
use crate::error::ApiError;
use crate::identity::{Caller, access};
use crate::store::CaseQuery;
use crate::support::Page;

pub async fn list(ctx: &Context, caller: &Caller, f: CaseFilter) -> Result<CaseList, ApiError> {
    let Page { page, per_page } = Page::checked(f.page, f.per_page, 20)?;
    let query = CaseQuery {
        scope: access::scope(caller),
        workflow: f.workflow,
        state: f.state,
        org_unit: f.org_unit,
        round: f.round,
        overdue: f.overdue,
        now: ctx.clock.now(),
        title_contains: f.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
        offset: (page - 1).saturating_mul(per_page),
        limit: per_page,
    };
    let (total, rows) = ctx.store.list_cases(&query).await?;
    let units = ctx.units();
    let items = rows
        .into_iter()
        .map(|r| {
            let label = ctx
                .registry
                .version(&r.workflow_key, &r.workflow_version)
                .map(|w| state_label(&w.def, &r.state))
                .unwrap_or_else(|| r.state.clone());
            CaseSummary {
                id: r.id,
                workflow: WorkflowRef {
                    key: r.workflow_key,
                    version: r.workflow_version,
                },
                state_label: label,
                state: r.state,
                title: r.title,
                org_unit_name: units.name(&r.org_unit),
                org_unit: r.org_unit,
                round: r.round,
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        })
        .collect();
    Ok(CaseList {
        items,
        total,
        page,
        per_page,
    })
}
