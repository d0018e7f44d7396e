//! Deadlines across cases, from the `case_deadlines` table the case service keeps: what is
//! coming (and what is late) within the caller's scope.

use crate::context::Context;
use crate::error::ApiError;
use crate::identity::{Caller, access};
use crate::support::{Page, days_left, json_list};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeadlineFilter {
    /// How far ahead: days (`30d`) or an ISO 8601 duration (`P2W`); default 30 days, at most
    /// 366. Deadlines already past are always included.
    pub within: Option<String>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadlineItem {
    pub case_id: String,
    pub case_title: String,
    pub workflow: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub name: String,
    pub label: String,
    pub due: DateTime<Utc>,
    /// The due time in Asia/Shanghai.
    pub due_local: String,
    /// Whole days from now (negative once past).
    pub days_left: i64,
    pub overdue: bool,
    /// Roles that must act.
    pub responsible: Vec<String>,
    pub calendar_fallback_years: Vec<i32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadlineList {
    pub items: Vec<DeadlineItem>,
    pub total: u64,
    /// The end of the window, in Asia/Shanghai.
    pub until_local: String,
}

const MAX_DAYS: i64 = 366;

fn window(raw: Option<&str>) -> Result<Duration, ApiError> {
    let Some(raw) = raw.map(str::trim) else {
        return Ok(Duration::days(30));
    };
    let bad = || {
        ApiError::invalid(
            "/within",
            format!(
                "「{raw}」不是可用的时长,请写成 30d 或 ISO 8601 形式(如 P2W),最长 {MAX_DAYS} 天"
            ),
            format!(
                "`{raw}` is not a window: use 30d or an ISO 8601 duration, at most {MAX_DAYS} days"
            ),
        )
    };
    let days = match raw.strip_suffix('d') {
        Some(n) => n.parse::<i64>().ok().map(Duration::days),
        None => iso8601::duration(raw)
            .ok()
            .and_then(|d| Duration::from_std(d.into()).ok()),
    };
    match days {
        Some(d) if d > Duration::zero() && d <= Duration::days(MAX_DAYS) => Ok(d),
        _ => Err(bad()),
    }
}

pub async fn upcoming(
    ctx: &Context,
    caller: &Caller,
    f: DeadlineFilter,
) -> Result<DeadlineList, ApiError> {
    let within = window(f.within.as_deref())?;
    let page = Page::checked(f.page, f.per_page, 50)?;
    let now = ctx.clock.now();
    let until = now + within;
    let (total, rows) = ctx
        .store
        .pending_deadlines(&access::scope(caller), until, page.offset(), page.per_page)
        .await?;
    let units = ctx.units();
    let tz = chrono_tz::Asia::Shanghai;
    Ok(DeadlineList {
        items: rows
            .into_iter()
            .map(|r| DeadlineItem {
                due_local: pilotflow_engine::deadline::local_text(tz, r.due),
                days_left: days_left(r.due, now),
                overdue: r.due < now,
                org_unit_name: units.name(&r.org_unit),
                responsible: json_list(&r.responsible),
                calendar_fallback_years: json_list(&r.fallback_years),
                case_id: r.case_id,
                case_title: r.case_title,
                workflow: r.workflow_key,
                org_unit: r.org_unit,
                name: r.name,
                label: r.label,
                due: r.due,
            })
            .collect(),
        total,
        until_local: pilotflow_engine::deadline::local_text(tz, until),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_read_as_days_or_iso_durations() {
        assert_eq!(window(None).ok(), Some(Duration::days(30)));
        assert_eq!(window(Some("7d")).ok(), Some(Duration::days(7)));
        assert_eq!(window(Some("P2W")).ok(), Some(Duration::days(14)));
        assert!(window(Some("0d")).is_err());
        assert!(window(Some("400d")).is_err());
        assert!(window(Some("soon")).is_err());
    }
}
