//! Who may see which case, in one place. What a visible caller may *do* is the engine's role
//! bindings' decision (`Engine::available_actions` / `fire`), given the `Actor` built here.
//! A case the caller may not see is reported as not found, so its existence does not leak.

use super::{Caller, Role};
use crate::error::ApiError;
use crate::jurisdiction::UnitTree;
use crate::store::CaseScope as Scope;
use pilotflow_engine::{Actor, CaseSnapshot, RoleName, UserId};

/// The cases a caller may see (the store turns it into a condition on its tables).
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

/// Refuses anyone but the administrator: the one place that check is made (the HTTP layer's
/// `Admin` extractor calls it).
pub fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// Whether the caller may add attachments to a case it can see: the units concerned may, an
/// expert (who only reads) may not.
pub fn may_attach(caller: &Caller) -> bool {
    caller.role != Role::Expert
}
