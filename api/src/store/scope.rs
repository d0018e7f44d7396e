//! Which cases a caller may see, as a condition on the tables that carry a case's unit, its
//! parent unit and its id (`cases`, `case_deadlines`). `identity::access` decides the scope;
//! this turns it into SQL.

use super::entities::case_assignment;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

/// The cases a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    /// The province: every case.
    All,
    /// A district: its own unit's cases.
    Unit(String),
    /// A city: its own cases and those of the units directly under it.
    UnitAndChildren(String),
    /// An expert: cases it is assigned to.
    Assigned(String),
}

impl CaseScope {
    pub(super) fn condition(
        &self,
        org_unit: impl ColumnTrait,
        parent_unit: impl ColumnTrait,
        case_id: impl ColumnTrait,
    ) -> Condition {
        match self {
            Self::All => Condition::all(),
            Self::Unit(u) => Condition::all().add(org_unit.eq(u.clone())),
            Self::UnitAndChildren(u) => Condition::any()
                .add(org_unit.eq(u.clone()))
                .add(parent_unit.eq(u.clone())),
            Self::Assigned(name) => Condition::all().add(
                case_id.in_subquery(
                    Query::select()
                        .column(case_assignment::Column::CaseId)
                        .from(case_assignment::Entity)
                        .and_where(Expr::col(case_assignment::Column::Username).eq(name.clone()))
                        .to_owned(),
                ),
            ),
        }
    }
}
