//! `pilotflow simulate`: the timeline a new case of a definition would see between two dates if
//! nobody acted: its running deadlines, each reminder and overdue notice, and which roles get
//! them. No database: a preview for workflow authors, from the same engine functions the
//! service's reminder scan uses.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use pilotflow_engine::deadline::{self, Notice};
use pilotflow_engine::{Calendar, Definition, Engine, RoleName, UnitInfo, UnitLevel};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("`{0}` is not a date: use 2026-08-01 or 2026-08-01T09:00:00+08:00")]
    Date(String),
    #[error("--to ({to}) is before --from ({from})")]
    Order { from: String, to: String },
    #[error("--set `{0}`: write NAME=VALUE (a date, a time, a number or text)")]
    Set(String),
    #[error("the case cannot start: {0}")]
    Start(String),
}

/// A date (09:00 that day in the definition's time zone) or an RFC 3339 time.
pub fn parse_time(def: &Definition, raw: &str) -> Result<DateTime<Utc>, SimulateError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .and_then(|t| def.timezone.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| SimulateError::Date(raw.to_owned()))
}

/// `NAME=VALUE` presets for the case's variables: times as RFC 3339 text, numbers, booleans.
pub fn parse_set(def: &Definition, raw: &str) -> Result<(String, Value), SimulateError> {
    let (name, value) = raw
        .split_once('=')
        .ok_or_else(|| SimulateError::Set(raw.to_owned()))?;
    let value = match parse_time(def, value) {
        Ok(t) => Value::from(t.to_rfc3339()),
        Err(_) => serde_json::from_str(value).unwrap_or_else(|_| Value::from(value)),
    };
    Ok((name.to_owned(), value))
}

fn roles_text(def: &Definition, roles: &[RoleName]) -> String {
    roles
        .iter()
        .map(|r| match def.roles.get(r) {
            Some(role) => format!("{}({r})", role.label),
            None => r.to_string(),
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// The timeline as printable lines.
pub fn timeline(
    def: &Definition,
    calendar: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    vars: BTreeMap<String, Value>,
) -> Result<Vec<String>, SimulateError> {
    if to < from {
        return Err(SimulateError::Order {
            from: from.to_rfc3339(),
            to: to.to_rfc3339(),
        });
    }
    let tz = def.timezone;
    let local = |t: DateTime<Utc>| deadline::local_text(tz, t);
    let unit = UnitInfo {
        code: "000000".to_owned(),
        name: "示例单位".to_owned(),
        level: UnitLevel::County,
        national_zone: false,
    };
    let started = Engine::new(def, calendar)
        .start(unit, vars, from)
        .map_err(|e| SimulateError::Start(e.to_string()))?;
    let mut running = started.effects.deadlines_set;
    running.sort_by_key(|d| d.due);
    let state = &started.snapshot.state;
    let state = def
        .state(state.as_str())
        .map_or_else(|| state.to_string(), |s| s.label.clone());
    let mut out = vec![format!(
        "{} {}:案件于 {} 创建,处于「{}」,其后无人办理;{} 至 {}(北京时间)",
        def.key,
        def.version,
        local(from),
        state,
        local(from),
        local(to)
    )];
    if running.is_empty() {
        out.push("没有正在计时的截止时间。".to_owned());
        return Ok(out);
    }
    out.push(String::new());
    out.push("正在计时的截止时间:".to_owned());
    for d in &running {
        let mut line = format!(
            "  {}  {}({}),由 {} 办理",
            local(d.due),
            d.label,
            d.name,
            roles_text(def, &d.responsible)
        );
        if !d.gates.is_empty() {
            let gates: Vec<String> = d.gates.iter().map(ToString::to_string).collect();
            line.push_str(&format!(";逾期后不能 {}", gates.join("、")));
        }
        if !d.calendar_fallback_years.is_empty() {
            let years: Vec<String> = d
                .calendar_fallback_years
                .iter()
                .map(ToString::to_string)
                .collect();
            line.push_str(&format!(
                ";{} 年无节假日数据,按周一至周五计算",
                years.join("、")
            ));
        }
        out.push(line);
    }
    let mut events: Vec<(DateTime<Utc>, String)> = Vec::new();
    for d in &running {
        let days: Vec<u32> = d.reminders.iter().map(|r| r.days_before).collect();
        let escalates = !d.escalate_to.is_empty();
        // Walk the engine's plan from its first notice, as the reminder scan would.
        // Notices already due at creation go out at once (only the nearest reminder).
        let mut at = deadline::first_notice_at(d.due, &days, escalates).map(|t| t.max(from));
        while let Some(t) = at.filter(|t| *t <= to) {
            let plan = deadline::notice_plan(d.due, &days, escalates, t);
            for notice in plan.due_now {
                let (what, roles) = match notice {
                    Notice::Reminder { days_before } => {
                        (format!("提醒(截止前 {days_before} 天)"), &d.responsible)
                    }
                    Notice::Overdue => ("逾期督办".to_owned(), &d.escalate_to),
                };
                events.push((
                    t,
                    format!(
                        "  {}  {what}  {} → {}",
                        local(t),
                        d.label,
                        roles_text(def, roles)
                    ),
                ));
            }
            at = plan.next_at;
        }
    }
    events.sort();
    out.push(String::new());
    if events.is_empty() {
        out.push("这段时间内没有提醒。".to_owned());
    } else {
        out.push("提醒与督办:".to_owned());
        out.extend(events.into_iter().map(|(_, line)| line));
    }
    Ok(out)
}
