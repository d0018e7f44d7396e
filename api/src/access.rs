//! Who may see which case, in one place. What a visible caller may *do* is the engine's role
//! bindings' decision (`Engine::available_actions` / `fire`), given the `Actor` built here.
//! A case the caller may not see is reported as not found, so its existence does not leak.

use crate::auth::{Caller, Role};
use crate::store::entities::case_assignment;
use crate::units::UnitTree;
use pilotflow_engine::{Actor, CaseSnapshot, RoleName, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

/// The cases a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The province: every case.
    All,
    /// A district: its own unit's cases.
    Unit(String),
    /// A city: its own cases and those of the units directly under it.
    UnitAndChildren(String),
    /// An expert: cases it is assigned to.
    Assigned(String),
}

pub fn scope(caller: &Caller) -> Scope {
    match caller.role {
        Role::ProvincialAdmin => Scope::All,
        Role::MunicipalReviewer => Scope::UnitAndChildren(caller.org_unit.clone()),
        Role::Applicant => Scope::Unit(caller.org_unit.clone()),
        Role::Expert => Scope::Assigned(caller.username.clone()),
    }
}

/// Whether the caller may see a case of `case_unit` with this snapshot.
pub fn can_see(
    caller: &Caller,
    units: &UnitTree,
    case_unit: &str,
    snapshot: &CaseSnapshot,
) -> bool {
    match scope(caller) {
        Scope::All => true,
        Scope::Unit(u) => u == case_unit,
        Scope::UnitAndChildren(u) => u == case_unit || units.parent(case_unit) == Some(u.as_str()),
        Scope::Assigned(name) => snapshot
            .assignments
            .values()
            .any(|users| users.iter().any(|x| x.as_str() == name)),
    }
}

/// Whether the caller may open a case for `unit` at all (the engine decides what follows).
pub fn can_see_unit(caller: &Caller, units: &UnitTree, unit: &str) -> bool {
    match scope(caller) {
        Scope::All => true,
        Scope::Unit(u) => u == unit,
        Scope::UnitAndChildren(u) => u == unit || units.parent(unit) == Some(u.as_str()),
        Scope::Assigned(_) => false,
    }
}

/// The caller in the engine's terms, for a case of `case_unit`.
pub fn actor(caller: &Caller, units: &UnitTree, case_unit: &str) -> Actor {
    Actor {
        user: UserId::new(caller.username.clone()),
        role: RoleName::new(caller.role.as_str()),
        relation: units.relation(&caller.org_unit, case_unit),
    }
}

/// Whether the caller may add attachments to a case it can see: the units concerned may, an
/// expert (who only reads) may not.
pub fn may_attach(caller: &Caller) -> bool {
    caller.role != Role::Expert
}

/// The same scope as a database condition on a table with the case's unit, its parent unit
/// and the case id (cases, case deadlines).
pub fn scope_condition(
    caller: &Caller,
    org_unit: impl ColumnTrait,
    parent_unit: impl ColumnTrait,
    case_id: impl ColumnTrait,
) -> Condition {
    match scope(caller) {
        Scope::All => Condition::all(),
        Scope::Unit(u) => Condition::all().add(org_unit.eq(u)),
        Scope::UnitAndChildren(u) => Condition::any()
            .add(org_unit.eq(u.clone()))
            .add(parent_unit.eq(u)),
        Scope::Assigned(name) => Condition::all().add(
            case_id.in_subquery(
                Query::select()
                    .column(case_assignment::Column::CaseId)
                    .from(case_assignment::Entity)
                    .and_where(Expr::col(case_assignment::Column::Username).eq(name))
                    .to_owned(),
            ),
        ),
    }
}
