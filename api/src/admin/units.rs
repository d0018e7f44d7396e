//! The jurisdiction tree as the administrator sees and extends it.

use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use crate::jurisdiction::{UnitTree, parse_level};
use crate::store::entities::org_unit;
use crate::store::{DbErr, is_unique_violation};
use pilotflow_engine::UnitLevel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgUnitNode {
    pub code: String,
    pub name: String,
    /// province, city or county.
    pub level: String,
    pub national_zone: bool,
    #[schema(no_recursion)]
    pub children: Vec<OrgUnitNode>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgUnit {
    pub code: String,
    pub name: String,
    /// city or county.
    pub level: String,
    pub parent_code: String,
    #[serde(default)]
    pub national_zone: bool,
}

fn node(tree: &UnitTree, code: &str, depth: usize) -> Option<OrgUnitNode> {
    let u = tree.get(code)?;
    let mut children: Vec<_> = tree
        .all()
        .filter(|c| c.parent_code.as_deref() == Some(code))
        .map(|c| c.code.clone())
        .collect();
    children.sort();
    Some(OrgUnitNode {
        code: u.code.clone(),
        name: u.name.clone(),
        level: u.level.as_str().to_owned(),
        national_zone: u.national_zone,
        children: if depth > 8 {
            Vec::new()
        } else {
            children
                .iter()
                .filter_map(|c| node(tree, c, depth + 1))
                .collect()
        },
    })
}

pub fn tree(tree: &UnitTree) -> Vec<OrgUnitNode> {
    let mut roots: Vec<_> = tree
        .all()
        .filter(|u| u.parent_code.is_none())
        .map(|u| u.code.clone())
        .collect();
    roots.sort();
    roots.iter().filter_map(|c| node(tree, c, 0)).collect()
}

/// Reads the tree again from the store (after a change, or at start).
pub async fn reload_units(ctx: &Context) -> Result<(), DbErr> {
    ctx.set_units(UnitTree::from_rows(ctx.store.org_units().await?));
    Ok(())
}

pub async fn create_org_unit(ctx: &Context, req: NewOrgUnit) -> Result<OrgUnitNode, ApiError> {
    let code = req.code.trim().to_owned();
    if code.is_empty() || code.len() > 12 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::invalid(
            "/code",
            "单位代码应为 1 到 12 位字母或数字",
            "code must be 1 to 12 letters or digits",
        ));
    }
    if req.name.trim().is_empty() {
        return Err(ApiError::invalid(
            "/name",
            "单位名称不能为空",
            "name is required",
        ));
    }
    let level = match parse_level(&req.level) {
        Some(l) if l != UnitLevel::Province => l,
        _ => {
            return Err(ApiError::invalid(
                "/level",
                "级别应为 city(市州)或 county(区县)",
                "level must be city or county",
            ));
        }
    };
    let units = ctx.units();
    let parent_code = req.parent_code.trim().to_owned();
    // The tree has three levels: cities under the province, counties under a city.
    let wanted_parent = match level {
        UnitLevel::City => UnitLevel::Province,
        _ => UnitLevel::City,
    };
    match units.get(&parent_code) {
        None => {
            return Err(ApiError::invalid(
                "/parent_code",
                format!("上级单位「{parent_code}」不存在"),
                format!("no parent unit `{parent_code}`"),
            ));
        }
        Some(p) if p.level != wanted_parent => {
            return Err(ApiError::invalid(
                "/parent_code",
                format!("「{}」不能作为上级单位:市州应直属省,区县应属于市州", p.name),
                format!(
                    "`{parent_code}` is a {} unit; a {} needs a {} parent",
                    p.level.as_str(),
                    level.as_str(),
                    wanted_parent.as_str()
                ),
            ));
        }
        Some(_) => {}
    }
    let inserted = ctx
        .store
        .insert_org_unit(org_unit::Model {
            code: code.clone(),
            name: req.name.trim().to_owned(),
            level: level.as_str().to_owned(),
            parent_code: Some(parent_code),
            national_zone: req.national_zone,
        })
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(ApiError::new(
                ErrorCode::AlreadyExists,
                format!("单位代码「{code}」已存在"),
                format!("unit `{code}` already exists"),
            ));
        }
        other => {
            other?;
        }
    }
    reload_units(ctx).await?;
    node(&ctx.units(), &code, 0).ok_or_else(|| ApiError::internal(anyhow::anyhow!("unit vanished")))
}
