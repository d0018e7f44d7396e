//! What expert review looks up in a definition and a case: the scored review, the experts'
//! role, the facts recusal needs, whether the caller may assign, and the refusal of a panel
//! member who must recuse themselves.

use crate::cases::{CaseService, Loaded};
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, access};
use crate::jurisdiction::UnitTree;
use chrono::{DateTime, Utc};
use pilotflow_engine::definition::{Action, Binding};
use pilotflow_engine::review::{Expert, Recusal, ReviewCase};
use pilotflow_engine::{Definition, FieldError, RoleName};

/// The collect action with scoring named `name`, or the workflow's first one.
pub(super) fn review_action<'d>(
    def: &'d Definition,
    name: Option<&str>,
) -> Result<&'d Action, ApiError> {
    def.actions
        .iter()
        .filter(|a| a.scoring.is_some())
        .find(|a| name.is_none_or(|n| a.name == n))
        .ok_or_else(|| match name {
            Some(n) => ApiError::new(
                ErrorCode::NoReview,
                format!("「{n}」不是该业务流程的评审环节"),
                format!("`{n}` is not a scored review of this workflow"),
            ),
            None => ApiError::new(
                ErrorCode::NoReview,
                "该业务流程没有专家评审环节",
                "this workflow has no scored review",
            ),
        })
}

/// The workflow's assigned role (its experts).
pub(super) fn panel_role(def: &Definition) -> Result<RoleName, ApiError> {
    def.roles
        .iter()
        .find(|(_, r)| r.binding == Binding::Assigned)
        .map(|(name, _)| name.clone())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoPanel,
                "该业务流程没有需要指派的专家角色",
                "this workflow has no assigned role",
            )
        })
}
pub(super) fn review_case(
    svc: &CaseService<'_>,
    loaded: &Loaded,
    action: &Action,
    now: DateTime<Utc>,
) -> ReviewCase {
    let units = svc.ctx.units();
    ReviewCase {
        id: loaded.row.id.clone(),
        unit: loaded.row.org_unit.clone(),
        unit_parent: units.parent(&loaded.row.org_unit).map(str::to_owned),
        topics: svc
            .engine(&loaded.wf.def)
            .review_topics(&loaded.snapshot, action, now),
    }
}

/// The refusal for a panel member who must recuse themselves.
pub(super) fn recusal_error(
    units: &UnitTree,
    pointer: &str,
    expert: &Expert,
    case: &ReviewCase,
    why: &Recusal,
) -> ApiError {
    let zh = why.message_zh(
        &expert.username,
        &units.name(&expert.affiliation),
        &units.name(&case.unit),
    );
    ApiError::new(
        ErrorCode::RecusalRequired,
        zh.clone(),
        format!(
            "expert `{}` must recuse themselves from this case ({why:?})",
            expert.username
        ),
    )
    .with_errors(vec![FieldError {
        pointer: pointer.to_owned(),
        message: zh,
        message_en: format!("`{}` must recuse themselves", expert.username),
    }])
    .with("expert", expert.username.clone())
    .with(
        "reason",
        serde_json::to_value(why)
            .ok()
            .and_then(|v| v.get("reason").cloned())
            .unwrap_or_default(),
    )
}

/// Whether the caller may assign the workflow's experts on this case (the province).
pub(super) fn ensure_assigner(
    svc: &CaseService<'_>,
    caller: &Caller,
    loaded: &Loaded,
) -> Result<(), ApiError> {
    let def = &loaded.wf.def;
    let role = panel_role(def)?;
    let actor = access::actor(caller, &svc.ctx.units(), &loaded.row.org_unit);
    let engine = svc.engine(def);
    let may = def.roles.get(&role).is_some_and(|r| {
        r.assigned_by
            .iter()
            .any(|by| engine.binds(&loaded.snapshot, &actor, by))
    });
    if may {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}
