//! The administrator's management of users.

use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Role, SessionCache, hash_password_blocking};
use crate::store::UserChange;
use crate::store::entities::user;
use crate::store::is_unique_violation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
fn check_expertise(ctx: &Context, pointer: &str, fields: &[String]) -> Result<String, ApiError> {
    let known: Vec<&str> = ctx
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

pub async fn list_users(ctx: &Context) -> Result<Vec<UserView>, ApiError> {
    Ok(ctx
        .store
        .users()
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

fn check_unit(ctx: &Context, pointer: &str, code: &str) -> Result<(), ApiError> {
    if ctx.units().get(code).is_some() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            pointer,
            format!("单位「{code}」不存在"),
            format!("no unit `{code}`"),
        ))
    }
}

pub async fn create_user(ctx: &Context, req: NewUser) -> Result<UserView, ApiError> {
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
    check_unit(ctx, "/org_unit", &req.org_unit)?;
    let expertise = check_expertise(ctx, "/expertise", &req.expertise)?;
    let now = ctx.clock.now();
    let model = user::Model {
        username: req.username.clone(),
        display_name: req.display_name.trim().to_owned(),
        email: req.email.trim().to_owned(),
        password_hash: hash_password_blocking(req.password).await?,
        role: req.role.as_str().to_owned(),
        org_unit: req.org_unit,
        active: true,
        created_at: now,
        expertise,
    };
    match ctx.store.insert_user(model).await {
        Ok(row) => view(row).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad role"))),
        Err(e) if is_unique_violation(&e) => Err(ApiError::new(
            ErrorCode::AlreadyExists,
            format!("用户名「{}」已被使用", req.username),
            format!("username `{}` is taken", req.username),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn update_user(
    ctx: &Context,
    sessions: &SessionCache,
    username: &str,
    req: UserPatch,
) -> Result<UserView, ApiError> {
    let not_found = || ApiError::new(ErrorCode::UserNotFound, "用户不存在", "no such user");
    if ctx.store.user(username).await?.is_none() {
        return Err(not_found());
    }
    let change = checked_change(ctx, req).await?;
    let row = ctx
        .store
        .update_user(username, change)
        .await?
        .ok_or_else(not_found)?;
    sessions.forget_user(username);
    view(row).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad role")))
}

/// Checks a patch field by field, in the order the fields are listed.
async fn checked_change(ctx: &Context, req: UserPatch) -> Result<UserChange, ApiError> {
    let mut change = UserChange::default();
    if let Some(d) = req.display_name {
        if d.trim().is_empty() {
            return Err(ApiError::invalid(
                "/display_name",
                "姓名不能为空",
                "display_name is required",
            ));
        }
        change.display_name = Some(d.trim().to_owned());
    }
    if let Some(e) = req.email {
        check_email("/email", &e)?;
        change.email = Some(e.trim().to_owned());
    }
    if let Some(p) = req.password {
        check_password("/password", &p)?;
        change.password_hash = Some(hash_password_blocking(p).await?);
    }
    change.role = req.role.map(|r| r.as_str().to_owned());
    if let Some(u) = req.org_unit {
        check_unit(ctx, "/org_unit", &u)?;
        change.org_unit = Some(u);
    }
    change.active = req.active;
    if let Some(fields) = req.expertise {
        change.expertise = Some(check_expertise(ctx, "/expertise", &fields)?);
    }
    Ok(change)
}
