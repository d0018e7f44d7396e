//! Reading the running deadlines the case service keeps (`case_deadlines`): across cases
//! within a scope, and by case. Transitions write them (`transition`).

use super::Store;
use super::entities::case_deadline;
use super::scope::CaseScope;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

fn pending_in(scope: &CaseScope) -> Select<case_deadline::Entity> {
    case_deadline::Entity::find()
        .filter(scope.condition(
            case_deadline::Column::OrgUnit,
            case_deadline::Column::ParentUnit,
            case_deadline::Column::CaseId,
        ))
        .filter(case_deadline::Column::Status.eq("pending"))
}

impl Store {
    /// How many running deadlines in the scope are due by `until` (past ones included), and a
    /// page of them, soonest first.
    pub async fn pending_deadlines(
        &self,
        scope: &CaseScope,
        until: DateTime<Utc>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<case_deadline::Model>), DbErr> {
        let query = pending_in(scope).filter(case_deadline::Column::Due.lte(until));
        let total = query.clone().count(&self.read).await?;
        let rows = query
            .order_by_asc(case_deadline::Column::Due)
            .order_by_asc(case_deadline::Column::CaseId)
            .offset(offset)
            .limit(limit)
            .all(&self.read)
            .await?;
        Ok((total, rows))
    }

    /// The running deadlines in the scope that a role must act on, soonest first, at most
    /// `limit`.
    pub async fn pending_deadlines_for_role(
        &self,
        scope: &CaseScope,
        role: &str,
        limit: u64,
    ) -> Result<Vec<case_deadline::Model>, DbErr> {
        // `responsible` is a JSON array of role names.
        pending_in(scope)
            .filter(case_deadline::Column::Responsible.like(format!("%\"{role}\"%")))
            .order_by_asc(case_deadline::Column::Due)
            .limit(limit)
            .all(&self.read)
            .await
    }

    /// Every deadline row (running or not) of the given cases.
    pub async fn deadlines_of_cases(
        &self,
        case_ids: impl IntoIterator<Item = &str>,
    ) -> Result<Vec<case_deadline::Model>, DbErr> {
        case_deadline::Entity::find()
            .filter(case_deadline::Column::CaseId.is_in(case_ids))
            .all(&self.read)
            .await
    }
}
