//! Reading cases: one case with its saved forms, filtered lists, a round's cases, and every
//! case a page at a time. Cases are written by transitions (`transition`, `batch`).

use super::entities::{case, case_deadline, case_form};
use super::scope::CaseScope;
use super::{DeadlineWrite, Store, write_deadlines};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// A filtered page of cases, newest first.
#[derive(Debug, Clone)]
pub struct CaseQuery {
    pub scope: CaseScope,
    pub workflow: Option<String>,
    pub state: Option<String>,
    pub org_unit: Option<String>,
    pub round: Option<i32>,
    /// Only cases with a running deadline past `now` (true), or with none (false).
    pub overdue: Option<bool>,
    pub now: DateTime<Utc>,
    /// Text contained in the title (LIKE wildcards in it match themselves).
    pub title_contains: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

impl CaseQuery {
    fn condition(&self) -> Condition {
        let mut cond = Condition::all().add(self.scope.condition(
            case::Column::OrgUnit,
            case::Column::ParentUnit,
            case::Column::Id,
        ));
        if let Some(w) = &self.workflow {
            cond = cond.add(case::Column::WorkflowKey.eq(w.clone()));
        }
        if let Some(s) = &self.state {
            cond = cond.add(case::Column::State.eq(s.clone()));
        }
        if let Some(u) = &self.org_unit {
            cond = cond.add(case::Column::OrgUnit.eq(u.clone()));
        }
        if let Some(r) = self.round {
            cond = cond.add(case::Column::Round.eq(r));
        }
        if let Some(overdue) = self.overdue {
            let late = case::Column::Id.in_subquery(
                Query::select()
                    .column(case_deadline::Column::CaseId)
                    .from(case_deadline::Entity)
                    .and_where(Expr::col(case_deadline::Column::Status).eq("pending"))
                    .and_where(Expr::col(case_deadline::Column::Due).lt(self.now))
                    .to_owned(),
            );
            cond = cond.add(if overdue { late } else { late.not() });
        }
        if let Some(q) = &self.title_contains {
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            cond = cond.add(
                Expr::col(case::Column::Title)
                    .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
        cond
    }
}

/// A case's saved forms.
async fn forms_of(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Vec<case_form::Model>, DbErr> {
    case_form::Entity::find()
        .filter(case_form::Column::CaseId.eq(case_id))
        .all(db)
        .await
}

/// The saved forms of every case `cases` selects, by case.
async fn forms_of_cases(
    db: &impl ConnectionTrait,
    cases: Condition,
) -> Result<HashMap<String, Vec<case_form::Model>>, DbErr> {
    let ids = Query::select()
        .column(case::Column::Id)
        .from(case::Entity)
        .cond_where(cases)
        .to_owned();
    let mut out: HashMap<String, Vec<case_form::Model>> = HashMap::new();
    for f in case_form::Entity::find()
        .filter(case_form::Column::CaseId.in_subquery(ids))
        .all(db)
        .await?
    {
        out.entry(f.case_id.clone()).or_default().push(f);
    }
    Ok(out)
}

fn round_of(workflow: &str, round: i32) -> Condition {
    Condition::all()
        .add(case::Column::WorkflowKey.eq(workflow))
        .add(case::Column::Round.eq(round))
}

impl Store {
    /// One case and its saved forms, read at once.
    pub async fn case_with_forms(
        &self,
        id: &str,
    ) -> Result<Option<(case::Model, Vec<case_form::Model>)>, DbErr> {
        let (row, forms) = tokio::try_join!(
            case::Entity::find_by_id(id.to_owned()).one(&self.read),
            forms_of(&self.read, id)
        )?;
        Ok(row.map(|r| (r, forms)))
    }

    /// A case's saved forms.
    pub async fn forms_of(&self, case_id: &str) -> Result<Vec<case_form::Model>, DbErr> {
        forms_of(&self.read, case_id).await
    }

    /// How many cases match, and the query's page of them.
    pub async fn list_cases(&self, q: &CaseQuery) -> Result<(u64, Vec<case::Model>), DbErr> {
        let cond = q.condition();
        let total = case::Entity::find()
            .filter(cond.clone())
            .count(&self.read)
            .await?;
        let rows = case::Entity::find()
            .filter(cond)
            .order_by_desc(case::Column::CreatedAt)
            .order_by_asc(case::Column::Id)
            .offset(q.offset)
            .limit(q.limit)
            .all(&self.read)
            .await?;
        Ok((total, rows))
    }

    /// A round's cases of a workflow, in id order.
    pub async fn round_cases(&self, workflow: &str, round: i32) -> Result<Vec<case::Model>, DbErr> {
        case::Entity::find()
            .filter(round_of(workflow, round))
            .order_by_asc(case::Column::Id)
            .all(&self.read)
            .await
    }

    /// A round's cases of a workflow in id order, with their saved forms by case.
    pub async fn round_cases_with_forms(
        &self,
        workflow: &str,
        round: i32,
    ) -> Result<(Vec<case::Model>, HashMap<String, Vec<case_form::Model>>), DbErr> {
        tokio::try_join!(
            self.round_cases(workflow, round),
            forms_of_cases(&self.read, round_of(workflow, round))
        )
    }

    /// Every case in the scope, with its saved forms by case.
    pub async fn cases_in_scope_with_forms(
        &self,
        scope: &CaseScope,
    ) -> Result<(Vec<case::Model>, HashMap<String, Vec<case_form::Model>>), DbErr> {
        let cond = scope.condition(
            case::Column::OrgUnit,
            case::Column::ParentUnit,
            case::Column::Id,
        );
        tokio::try_join!(
            case::Entity::find()
                .filter(cond.clone())
                .order_by_asc(case::Column::Id)
                .all(&self.read),
            forms_of_cases(&self.read, cond)
        )
    }

    /// A workflow's cases in any of `states`, by unit.
    pub async fn cases_in_states(
        &self,
        workflow: &str,
        states: Vec<String>,
    ) -> Result<Vec<case::Model>, DbErr> {
        case::Entity::find()
            .filter(case::Column::WorkflowKey.eq(workflow))
            .filter(case::Column::State.is_in(states))
            .order_by_asc(case::Column::OrgUnit)
            .all(&self.read)
            .await
    }

    /// Every case (the experts' open reviews are counted from their panels).
    pub async fn all_cases(&self) -> Result<Vec<case::Model>, DbErr> {
        case::Entity::find().all(&self.read).await
    }

    /// Every case in id order, a page at a time.
    pub fn case_pages(&self) -> CasePages<'_> {
        CasePages {
            db: &self.read,
            after: None,
            done: false,
        }
    }

    /// Whether any case has deadline rows (none in a database from before they were kept).
    pub async fn has_deadlines(&self) -> Result<bool, DbErr> {
        Ok(case_deadline::Entity::find()
            .one(&self.write)
            .await?
            .is_some())
    }

    /// Writes one case's deadlines outside a transition (filling in an old database).
    pub async fn write_case_deadlines(
        &self,
        case_id: &str,
        d: &DeadlineWrite,
    ) -> Result<(), DbErr> {
        write_deadlines(&self.write, case_id, d).await
    }
}

/// Every case in id order, a page at a time: keyset paging, so a large table is never read at
/// once and no page is re-read.
pub struct CasePages<'a> {
    db: &'a DatabaseConnection,
    after: Option<String>,
    done: bool,
}

impl CasePages<'_> {
    const PAGE: u64 = 500;

    pub async fn next(&mut self) -> Result<Option<Vec<case::Model>>, DbErr> {
        if self.done {
            return Ok(None);
        }
        let mut q = case::Entity::find()
            .order_by_asc(case::Column::Id)
            .limit(Self::PAGE);
        if let Some(last) = &self.after {
            q = q.filter(case::Column::Id.gt(last.clone()));
        }
        let page = q.all(self.db).await?;
        match page.last() {
            Some(last) => self.after = Some(last.id.clone()),
            None => {
                self.done = true;
                return Ok(None);
            }
        }
        Ok(Some(page))
    }
}
