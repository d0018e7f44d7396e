//! The calendar feed: `GET /calendar.ics?token=…` lists every running deadline the token's
//! owner must act on, for Outlook or WPS to subscribe to. Calendar programs cannot sign in,
//! so each user has one feed token of its own, shown once, stored hashed, replaced or
//! revoked by its owner.

use crate::access;
use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::{case_deadline, feed_token, user};
use icalendar::{Calendar, Component, EventLike};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most deadlines one feed lists (the nearest first).
const MAX_EVENTS: u64 = 2_000;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedToken {
    /// Shown once; a new one replaces it.
    pub token: String,
    /// The address to subscribe to.
    pub url: String,
}

/// Issues the caller a new feed token, replacing (and so revoking) any earlier one.
pub async fn issue(state: &AppState, caller: &Caller) -> Result<FeedToken, ApiError> {
    let token = auth::new_token();
    feed_token::Entity::insert(feed_token::ActiveModel {
        username: Set(caller.username.clone()),
        token_hash: Set(auth::token_hash(&token)),
        created_at: Set(state.clock.now()),
    })
    .on_conflict(
        OnConflict::column(feed_token::Column::Username)
            .update_columns([feed_token::Column::TokenHash, feed_token::Column::CreatedAt])
            .to_owned(),
    )
    .exec(&state.store.write)
    .await?;
    let url = state
        .settings
        .public_link(&format!("/calendar.ics?token={token}"));
    Ok(FeedToken { token, url })
}

pub async fn revoke(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    feed_token::Entity::delete_by_id(caller.username.clone())
        .exec(&state.store.write)
        .await?;
    Ok(())
}

fn feed_not_found() -> ApiError {
    ApiError::new(
        "feed_not_found",
        "日历订阅地址无效或已撤销,请在系统中重新生成",
        "this calendar feed address is unknown or was revoked; make a new one",
    )
}

/// The iCalendar text for the owner of `token`.
pub async fn render(state: &AppState, token: &str) -> Result<String, ApiError> {
    let db = &state.store.read;
    let owner = feed_token::Entity::find()
        .filter(feed_token::Column::TokenHash.eq(auth::token_hash(token)))
        .one(db)
        .await?
        .ok_or_else(feed_not_found)?;
    let caller = user::Entity::find_by_id(owner.username)
        .filter(user::Column::Active.eq(true))
        .one(db)
        .await?
        .and_then(Caller::from_row)
        .ok_or_else(feed_not_found)?;
    let role_in_list = format!("%\"{}\"%", caller.role.as_str());
    let rows = case_deadline::Entity::find()
        .filter(access::scope_condition(
            &caller,
            case_deadline::Column::OrgUnit,
            case_deadline::Column::ParentUnit,
            case_deadline::Column::CaseId,
        ))
        .filter(case_deadline::Column::Status.eq("pending"))
        .filter(case_deadline::Column::Responsible.like(role_in_list))
        .order_by_asc(case_deadline::Column::Due)
        .limit(MAX_EVENTS)
        .all(db)
        .await?;
    let now = state.clock.now();
    let units = state.units();
    let tz = chrono_tz::Asia::Shanghai;
    let mut calendar = Calendar::new();
    calendar.name("试点工作截止时间").description(&format!(
        "{}({})需要办理的事项",
        caller.display_name, caller.username
    ));
    for r in rows {
        let link = crate::reminders::case_link(&state.settings, &r.case_id);
        let due_local = pilotflow_engine::deadline::local_text(tz, r.due);
        calendar.push(
            icalendar::Event::new()
                .uid(&format!(
                    "{}-{}-{}@pilotflow",
                    r.case_id,
                    r.name,
                    r.due.timestamp()
                ))
                .timestamp(now)
                .summary(&format!("{}:{}", r.label, r.case_title))
                .description(&format!(
                    "{} · {}\n截止:{}(北京时间)\n{}",
                    units.name(&r.org_unit),
                    r.case_title,
                    due_local,
                    link
                ))
                .url(&link)
                .starts(r.due)
                .ends(r.due)
                .done(),
        );
    }
    Ok(calendar.done().to_string())
}
