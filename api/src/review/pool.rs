//! The experts: the pool with affiliations, fields and declared conflicts, how many open
//! reviews each sits on, and the declaring of a conflict of interest.

use crate::cases::parse_without_forms;
use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, Role};
use crate::store::entities::expert_conflict;
use pilotflow_engine::RoleName;
use pilotflow_engine::review::Expert;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::ToSchema;

/// An expert of the pool, with what recusal and assignment need.
#[derive(Debug, Clone)]
pub struct PoolExpert {
    pub profile: Expert,
    pub display_name: String,
}

/// Every active expert with the given role, with affiliations and declared conflicts.
/// Its two reads go at once: each is a hand-off to a connection's thread, and under load
/// every hand-off waits its turn for a core.
pub(super) async fn pool(ctx: &Context, role: &str) -> Result<Vec<PoolExpert>, ApiError> {
    let units = ctx.units();
    let (declared, users) = tokio::try_join!(
        ctx.store.expert_conflicts(),
        ctx.store.users_with_role(role, true),
    )?;
    let mut conflicts: HashMap<String, BTreeSet<String>> = HashMap::new();
    for c in declared {
        conflicts.entry(c.username).or_default().insert(c.org_unit);
    }
    Ok(users
        .into_iter()
        .map(|u| PoolExpert {
            profile: Expert {
                affiliation_parent: units.parent(&u.org_unit).map(str::to_owned),
                conflicts: conflicts.remove(&u.username).unwrap_or_default(),
                expertise: serde_json::from_str(&u.expertise).unwrap_or_default(),
                affiliation: u.org_unit,
                username: u.username,
            },
            display_name: u.display_name,
        })
        .collect())
}
/// Open reviews each expert sits on now, by user name (cases in a review state).
pub(super) async fn open_loads(
    ctx: &Context,
    role: &RoleName,
) -> Result<HashMap<String, usize>, ApiError> {
    let mut loads = HashMap::new();
    let rows = ctx.store.all_cases().await?;
    for row in rows {
        let Some(wf) = ctx
            .registry
            .version(&row.workflow_key, &row.workflow_version)
        else {
            continue;
        };
        let reviewing = wf
            .def
            .actions
            .iter()
            .filter(|a| a.scoring.is_some())
            .any(|a| a.from.iter().any(|s| s.as_str() == row.state));
        if !reviewing {
            continue;
        }
        let snapshot = parse_without_forms(&row)?;
        for u in snapshot.assignments.get(role).into_iter().flatten() {
            *loads.entry(u.to_string()).or_insert(0) += 1;
        }
    }
    Ok(loads)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PoolEntry {
    pub username: String,
    pub display_name: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub expertise: Vec<String>,
    /// Units the expert declared a conflict with.
    pub conflicts: Vec<String>,
    /// Open reviews the expert sits on.
    pub load: usize,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExpertPool {
    /// The fields of expertise the workflows match on (key → label).
    pub fields: BTreeMap<String, String>,
    pub experts: Vec<PoolEntry>,
}

/// The expert pool for the province: affiliations, fields, conflicts and current load.
pub async fn expert_pool(ctx: &Context) -> Result<ExpertPool, ApiError> {
    let units = ctx.units();
    let role = RoleName::new(Role::Expert.as_str());
    let loads = open_loads(ctx, &role).await?;
    Ok(ExpertPool {
        fields: ctx
            .registry
            .current_all()
            .flat_map(|w| w.def.expertise.clone())
            .collect(),
        experts: pool(ctx, role.as_str())
            .await?
            .into_iter()
            .map(|e| PoolEntry {
                load: loads.get(&e.profile.username).copied().unwrap_or(0),
                org_unit_name: units.name(&e.profile.affiliation),
                username: e.profile.username,
                display_name: e.display_name,
                org_unit: e.profile.affiliation,
                expertise: e.profile.expertise.into_iter().collect(),
                conflicts: e.profile.conflicts.into_iter().collect(),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictRequest {
    /// The unit the expert has a conflict of interest with.
    pub org_unit: String,
    pub reason: String,
}

/// Records a declared conflict of interest: by the expert, or by the province for it.
pub async fn declare_conflict(
    ctx: &Context,
    caller: &Caller,
    username: &str,
    req: ConflictRequest,
) -> Result<PoolEntry, ApiError> {
    if !caller.is_admin() && caller.username != username {
        return Err(ApiError::forbidden());
    }
    if ctx.units().get(&req.org_unit).is_none() {
        return Err(ApiError::invalid(
            "/org_unit",
            format!("单位「{}」不存在", req.org_unit),
            format!("no unit `{}`", req.org_unit),
        ));
    }
    if req.reason.trim().chars().count() < 2 {
        return Err(ApiError::invalid(
            "/reason",
            "请说明利益冲突的情况",
            "give the reason",
        ));
    }
    let role = RoleName::new(Role::Expert.as_str());
    let experts = pool(ctx, role.as_str()).await?;
    if !experts.iter().any(|e| e.profile.username == username) {
        return Err(ApiError::new(
            ErrorCode::UserNotFound,
            format!("「{username}」不是在册的评审专家"),
            format!("`{username}` is not an active expert"),
        ));
    }
    ctx.store
        .put_expert_conflict(
            expert_conflict::Model {
                username: username.to_owned(),
                org_unit: req.org_unit.clone(),
                reason: req.reason.trim().to_owned(),
                declared_at: ctx.clock.now(),
            },
            true,
        )
        .await?;
    expert_pool(ctx)
        .await?
        .experts
        .into_iter()
        .find(|e| e.username == username)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("expert vanished")))
}
