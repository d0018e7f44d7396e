//! Shipped data: Jilin's jurisdiction tree (always, into an empty database) and the demo users
//! (`serve --demo`).

use super::SeedError;
use crate::identity::{Role, hash_password_blocking};
use crate::store::Store;
use crate::store::entities::{org_unit, user};
use chrono::{DateTime, Utc};

/// GB/T 2260 codes of Jilin's province, cities and counties (`demo/jilin-divisions.csv`).
pub const DIVISIONS_CSV: &str = include_str!("../../../demo/jilin-divisions.csv");

/// Already a national experimental zone in the demo data: 长白朝鲜族自治县.
pub const NATIONAL_ZONE: &str = "220623";

/// Expert user names and the unit each belongs to.
pub fn demo_experts() -> Vec<(String, &'static str)> {
    (1..=12)
        .map(|n| {
            let unit = match n {
                1..=3 => "220100",
                4..=6 => "220200",
                7..=9 => "222400",
                _ => "220000",
            };
            (format!("expert{n:02}"), unit)
        })
        .collect()
}

/// Two of the five experiment areas for the `i`-th demo expert, in turn.
fn demo_expertise(i: usize) -> &'static str {
    const PAIRS: [&str; 5] = [
        r#"["governance_level","self_governance"]"#,
        r#"["service_capacity","burden_reduction"]"#,
        r#"["party_building","governance_level"]"#,
        r#"["self_governance","service_capacity"]"#,
        r#"["burden_reduction","party_building"]"#,
    ];
    PAIRS[i % PAIRS.len()]
}

pub fn divisions() -> Vec<org_unit::Model> {
    DIVISIONS_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.trim_end_matches('\r').split(',');
            let (code, name, level, parent) = (f.next()?, f.next()?, f.next()?, f.next()?);
            Some(org_unit::Model {
                code: code.to_owned(),
                name: name.to_owned(),
                level: level.to_owned(),
                parent_code: (!parent.is_empty()).then(|| parent.to_owned()),
                national_zone: code == NATIONAL_ZONE,
            })
        })
        .collect()
}

/// Loads the jurisdiction tree into an empty `org_units` table.
pub async fn seed_units(store: &Store) -> Result<bool, SeedError> {
    if store.count_org_units().await? > 0 {
        return Ok(false);
    }
    store.insert_org_units(divisions()).await?;
    Ok(true)
}

fn account(
    username: String,
    display_name: String,
    role: Role,
    unit: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> user::Model {
    user::Model {
        email: format!("{username}@pilotflow.test"),
        username,
        display_name,
        password_hash: hash.to_owned(),
        role: role.as_str().to_owned(),
        org_unit: unit.to_owned(),
        active: true,
        created_at: now,
        expertise: "[]".to_owned(),
    }
}

/// The provincial admin, `admin`, of the root unit.
fn admin_account(hash: &str, now: DateTime<Utc>) -> user::Model {
    account(
        "admin".to_owned(),
        "省民政厅管理员".to_owned(),
        Role::ProvincialAdmin,
        "220000",
        hash,
        now,
    )
}

/// Creates the demo users if there are no users yet. All share one password; its hash is
/// computed once (a demo convenience, not how real accounts are made).
pub async fn seed_demo_users(
    store: &Store,
    password: &str,
    now: DateTime<Utc>,
) -> Result<bool, SeedError> {
    if store.count_users().await? > 0 {
        return Ok(false);
    }
    let hash = hash_password_blocking(password.to_owned()).await?;
    let mut rows = vec![admin_account(&hash, now)];
    for unit in divisions() {
        match unit.level.as_str() {
            "city" => rows.push(account(
                format!("c{}", unit.code.to_lowercase()),
                format!("{}民政局", unit.name),
                Role::MunicipalReviewer,
                &unit.code,
                &hash,
                now,
            )),
            "county" => rows.push(account(
                format!("d{}", unit.code),
                format!("{}民政局", unit.name),
                Role::Applicant,
                &unit.code,
                &hash,
                now,
            )),
            _ => {}
        }
    }
    for (i, (name, unit)) in demo_experts().into_iter().enumerate() {
        let mut expert = account(
            name,
            format!("评审专家{:02}", i + 1),
            Role::Expert,
            unit,
            &hash,
            now,
        );
        expert.expertise = demo_expertise(i).to_owned();
        rows.push(expert);
    }
    store.insert_users(rows).await?;
    Ok(true)
}

/// Outside demo mode: creates `admin` with the configured password when there are no users.
pub async fn seed_admin(
    store: &Store,
    password: &str,
    now: DateTime<Utc>,
) -> Result<bool, SeedError> {
    if store.count_users().await? > 0 {
        return Ok(false);
    }
    let hash = hash_password_blocking(password.to_owned()).await?;
    store.insert_user(admin_account(&hash, now)).await?;
    Ok(true)
}
