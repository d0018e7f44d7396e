//! The provincial admin's management of users and org units.

use crate::auth::{Role, hash_password_blocking};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::{org_unit, user};
use crate::store::is_unique_violation;
use crate::units::{UnitTree, parse_level};
use pilotflow_engine::UnitLevel;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
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

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub org_unit: String,
    pub active: bool,
    /// Experts: the fields they are versed in (see `GET /experts` for the keys).
    pub expertise: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 2–40 lower-case letters, digits, `.`, `_` or `-`.
    pub username: String,
    pub display_name: String,
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    pub role: Role,
    pub org_unit: String,
    /// Experts: the fields they are versed in, keys of the workflows' `expertise`.
    #[serde(default)]
    pub expertise: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub role: Option<Role>,
    pub org_unit: Option<String>,
    /// False stops the user signing in.
    pub active: Option<bool>,
    pub expertise: Option<Vec<String>>,
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

pub async fn reload_units(state: &AppState) -> Result<(), ApiError> {
    let rows = org_unit::Entity::find().all(&state.store.write).await?;
    state.set_units(UnitTree::from_rows(rows));
    Ok(())
}

pub async fn create_org_unit(state: &AppState, req: NewOrgUnit) -> Result<OrgUnitNode, ApiError> {
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
    let units = state.units();
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
    let inserted = org_unit::ActiveModel {
        code: Set(code.clone()),
        name: Set(req.name.trim().to_owned()),
        level: Set(level.as_str().to_owned()),
        parent_code: Set(Some(parent_code)),
        national_zone: Set(req.national_zone),
    }
    .insert(&state.store.write)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(ApiError::new(
                "already_exists",
                format!("单位代码「{code}」已存在"),
                format!("unit `{code}` already exists"),
            ));
        }
        other => {
            other?;
        }
    }
    reload_units(state).await?;
    node(&state.units(), &code, 0)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("unit vanished")))
}

fn view(u: user::Model) -> Option<UserView> {
    Some(UserView {
        role: Role::parse(&u.role)?,
        username: u.username,
        display_name: u.display_name,
        email: u.email,
        org_unit: u.org_unit,
        active: u.active,
        expertise: serde_json::from_str(&u.expertise).unwrap_or_default(),
    })
}

/// Fields of expertise must be ones a loaded workflow matches experts on.
fn check_expertise(state: &AppState, pointer: &str, fields: &[String]) -> Result<String, ApiError> {
    let known: Vec<&str> = state
        .registry
        .current_all()
        .flat_map(|w| w.def.expertise.iter().map(|(k, _)| k.as_str()))
        .collect();
    for (i, f) in fields.iter().enumerate() {
        if !known.contains(&f.as_str()) {
            return Err(ApiError::invalid(
                &format!("{pointer}/{i}"),
                format!("「{f}」不是已知的专业领域,可选:{}", known.join("、")),
                format!(
                    "`{f}` is not a known field of expertise; known: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    let mut unique: Vec<&String> = fields.iter().collect();
    unique.sort();
    unique.dedup();
    serde_json::to_string(&unique).map_err(ApiError::internal)
}

pub async fn list_users(state: &AppState) -> Result<Vec<UserView>, ApiError> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(&state.store.read)
        .await?
        .into_iter()
        .filter_map(view)
        .collect())
}

fn check_email(pointer: &str, email: &str) -> Result<(), ApiError> {
    let ok = email.split_once('@').is_some_and(|(a, d)| {
        !a.is_empty() && d.contains('.') && !email.contains(char::is_whitespace)
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            pointer,
            "电子邮箱格式不正确",
            "not an e-mail address",
        ))
    }
}

fn check_password(pointer: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() >= 8 {
        Ok(())
    } else {
        Err(ApiError::invalid(
            pointer,
            "密码至少 8 个字符",
            "password must have at least 8 characters",
        ))
    }
}

fn check_unit(state: &AppState, pointer: &str, code: &str) -> Result<(), ApiError> {
    if state.units().get(code).is_some() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            pointer,
            format!("单位「{code}」不存在"),
            format!("no unit `{code}`"),
        ))
    }
}

pub async fn create_user(state: &AppState, req: NewUser) -> Result<UserView, ApiError> {
    let name_ok = (2..=40).contains(&req.username.len())
        && req
            .username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !name_ok {
        return Err(ApiError::invalid(
            "/username",
            "用户名应为 2 到 40 个小写字母、数字或 . _ -",
            "username must be 2 to 40 lower-case letters, digits, `.`, `_` or `-`",
        ));
    }
    if req.display_name.trim().is_empty() {
        return Err(ApiError::invalid(
            "/display_name",
            "姓名不能为空",
            "display_name is required",
        ));
    }
    check_email("/email", &req.email)?;
    check_password("/password", &req.password)?;
    check_unit(state, "/org_unit", &req.org_unit)?;
    let expertise = check_expertise(state, "/expertise", &req.expertise)?;
    let now = state.clock.now();
    let model = user::ActiveModel {
        username: Set(req.username.clone()),
        display_name: Set(req.display_name.trim().to_owned()),
        email: Set(req.email.trim().to_owned()),
        password_hash: Set(hash_password_blocking(req.password).await?),
        role: Set(req.role.as_str().to_owned()),
        org_unit: Set(req.org_unit),
        active: Set(true),
        created_at: Set(now),
        expertise: Set(expertise),
    };
    match model.insert(&state.store.write).await {
        Ok(row) => view(row).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad role"))),
        Err(e) if is_unique_violation(&e) => Err(ApiError::new(
            "already_exists",
            format!("用户名「{}」已被使用", req.username),
            format!("username `{}` is taken", req.username),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn update_user(
    state: &AppState,
    username: &str,
    req: UserPatch,
) -> Result<UserView, ApiError> {
    let row = user::Entity::find_by_id(username.to_owned())
        .one(&state.store.write)
        .await?
        .ok_or_else(|| ApiError::new("user_not_found", "用户不存在", "no such user"))?;
    let mut active: user::ActiveModel = row.into();
    if let Some(d) = req.display_name {
        if d.trim().is_empty() {
            return Err(ApiError::invalid(
                "/display_name",
                "姓名不能为空",
                "display_name is required",
            ));
        }
        active.display_name = Set(d.trim().to_owned());
    }
    if let Some(e) = req.email {
        check_email("/email", &e)?;
        active.email = Set(e.trim().to_owned());
    }
    if let Some(p) = req.password {
        check_password("/password", &p)?;
        active.password_hash = Set(hash_password_blocking(p).await?);
    }
    if let Some(r) = req.role {
        active.role = Set(r.as_str().to_owned());
    }
    if let Some(u) = req.org_unit {
        check_unit(state, "/org_unit", &u)?;
        active.org_unit = Set(u);
    }
    if let Some(a) = req.active {
        active.active = Set(a);
    }
    if let Some(fields) = req.expertise {
        active.expertise = Set(check_expertise(state, "/expertise", &fields)?);
    }
    let row = active.update(&state.store.write).await?;
    state.sessions.forget_user(username);
    view(row).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad role")))
}
