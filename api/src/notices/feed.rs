//! The calendar feed: `GET /calendar.ics?token=…` lists every running deadline the token's
//! owner must act on, for Outlook or WPS to subscribe to. Calendar programs cannot sign in,
//! so each user has one feed token of its own, shown once, stored hashed, replaced or
//! revoked by its owner.

use super::messages::case_link;
use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, access, new_token, token_hash};
use icalendar::{Calendar, Component, EventLike};
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
pub async fn issue(ctx: &Context, caller: &Caller) -> Result<FeedToken, ApiError> {
    let token = new_token();
    ctx.store
        .put_feed_token(&caller.username, token_hash(&token), ctx.clock.now())
        .await?;
    let url = ctx
        .settings
        .public_link(&format!("/calendar.ics?token={token}"));
    Ok(FeedToken { token, url })
}

pub async fn revoke(ctx: &Context, caller: &Caller) -> Result<(), ApiError> {
    ctx.store.delete_feed_token(&caller.username).await?;
    Ok(())
}

fn feed_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::FeedNotFound,
        "日历订阅地址无效或已撤销,请在系统中重新生成",
        "this calendar feed address is unknown or was revoked; make a new one",
    )
}

/// The iCalendar text for the owner of `token`.
pub async fn render(ctx: &Context, token: &str) -> Result<String, ApiError> {
    let owner = ctx
        .store
        .feed_token_owner(&token_hash(token))
        .await?
        .ok_or_else(feed_not_found)?;
    let caller = ctx
        .store
        .active_user(&owner)
        .await?
        .and_then(Caller::from_row)
        .ok_or_else(feed_not_found)?;
    let rows = ctx
        .store
        .pending_deadlines_for_role(&access::scope(&caller), caller.role.as_str(), MAX_EVENTS)
        .await?;
    let now = ctx.clock.now();
    let units = ctx.units();
    let tz = chrono_tz::Asia::Shanghai;
    let mut calendar = Calendar::new();
    calendar.name("试点工作截止时间").description(&format!(
        "{}({})需要办理的事项",
        caller.display_name, caller.username
    ));
    for r in rows {
        let link = case_link(&ctx.settings, &r.case_id);
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
