//! Due dates. Pure arithmetic over a definition, a case snapshot and a holiday calendar.

use crate::calendar::Calendar;
use crate::definition::{Deadline, Definition, DueBase, Yearly};
use crate::expr::end_of_local_day;
use crate::ids::{ActionName, DeadlineName, RoleName};
use crate::machine::CaseSnapshot;
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A deadline as it stands for one case now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineInstance {
    pub name: DeadlineName,
    pub label: String,
    pub due: DateTime<Utc>,
    /// For round cutoffs: when the next round closes.
    pub next_due: Option<DateTime<Utc>>,
    pub gates: Vec<ActionName>,
    /// Who must act before it.
    pub responsible: Vec<RoleName>,
    pub reminders: Vec<Reminder>,
    pub escalate_to: Vec<RoleName>,
    /// Years counted Monday–Friday because the calendar had no data for them.
    pub calendar_fallback_years: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub days_before: u32,
    pub at: DateTime<Utc>,
}

/// The cutoff that closes round `year`.
pub fn round_cutoff(tz: Tz, cutoff: Yearly, year: i32) -> Option<DateTime<Utc>> {
    let day = NaiveDate::from_ymd_opt(year, cutoff.month, cutoff.day)
        // 29 February in a common year: the round closes on the 28th.
        .or_else(|| NaiveDate::from_ymd_opt(year, cutoff.month, cutoff.day.saturating_sub(1)))?;
    tz.from_local_datetime(&day.and_time(cutoff.time))
        .latest()
        .map(|t| t.with_timezone(&Utc))
}

/// The round a case created at `at` belongs to: the year of the first cutoff on or after it.
pub fn round_for(tz: Tz, cutoff: Yearly, at: DateTime<Utc>) -> i32 {
    let year = at.with_timezone(&tz).year();
    match round_cutoff(tz, cutoff, year) {
        Some(c) if at <= c => year,
        _ => year + 1,
    }
}

/// Every deadline running for the case in its current states.
pub fn active_deadlines(
    def: &Definition,
    snapshot: &CaseSnapshot,
    calendar: &Calendar,
) -> Vec<DeadlineInstance> {
    def.deadlines
        .iter()
        .filter(|d| d.active_in.iter().any(|s| snapshot.is_in(def, s)))
        .filter_map(|d| instance(def, d, snapshot, calendar))
        .collect()
}

/// The deadline's due time for this case, whether or not it is running now.
pub fn instance(
    def: &Definition,
    d: &Deadline,
    snapshot: &CaseSnapshot,
    calendar: &Calendar,
) -> Option<DeadlineInstance> {
    let tz = def.timezone;
    let mut fallback = Vec::new();
    let (due, next_due) = match &d.due.base {
        DueBase::RoundCutoff => {
            let round = snapshot.round()?;
            let cutoff = def.round?;
            let due = apply_offset(
                def,
                d,
                round_cutoff(tz, cutoff, round)?,
                calendar,
                &mut fallback,
            )?;
            let next = round_cutoff(tz, cutoff, round + 1)
                .and_then(|t| apply_offset(def, d, t, calendar, &mut Vec::new()));
            (due, next)
        }
        DueBase::Variable(v) => {
            let base = snapshot.timestamp_var(v)?;
            (apply_offset(def, d, base, calendar, &mut fallback)?, None)
        }
        DueBase::Entered(s) => {
            let base = *snapshot.entered.get(s)?;
            (apply_offset(def, d, base, calendar, &mut fallback)?, None)
        }
    };
    let mut remind_days = d.remind_days_before.clone();
    remind_days.sort_unstable_by(|a, b| b.cmp(a));
    let reminders = remind_days
        .into_iter()
        .filter_map(|days| {
            reminder_at(due, days).map(|at| Reminder {
                days_before: days,
                at,
            })
        })
        .collect();
    fallback.sort_unstable();
    fallback.dedup();
    Some(DeadlineInstance {
        name: d.name.clone(),
        label: d.label.clone(),
        due,
        next_due,
        gates: d.gates.clone(),
        responsible: d.remind_to.clone(),
        reminders,
        escalate_to: d.escalate_to.clone(),
        calendar_fallback_years: fallback,
    })
}

/// When the reminder `days_before` whole days ahead of `due` goes out.
pub fn reminder_at(due: DateTime<Utc>, days_before: u32) -> Option<DateTime<Utc>> {
    due.checked_sub_signed(chrono::Duration::days(i64::from(days_before)))
}

/// The first moment a deadline counts as missed: one second after its due time, so that a
/// cutoff of 23:59:59 is overdue from midnight.
pub fn overdue_at(due: DateTime<Utc>) -> DateTime<Utc> {
    due + chrono::Duration::seconds(1)
}

/// A notice a deadline calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// To the roles that must act, `days_before` whole days ahead.
    Reminder { days_before: u32 },
    /// To the escalation roles, once the due time has passed.
    Overdue,
}

impl Notice {
    /// A short stable name for the offset: `30d` or `overdue`.
    pub fn offset_key(self) -> String {
        match self {
            Self::Reminder { days_before } => format!("{days_before}d"),
            Self::Overdue => "overdue".to_owned(),
        }
    }
}

/// What a pending deadline calls for at `now`, and when it next will.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePlan {
    /// At most one reminder (the nearest one due: when several fell due unseen, only the
    /// latest is worth sending) and, once past due, the overdue notice.
    pub due_now: Vec<Notice>,
    /// The next moment something falls due; `None` when nothing more will.
    pub next_at: Option<DateTime<Utc>>,
}

/// The notices of a pending deadline due at `due`, with reminders `remind_days` ahead and an
/// overdue notice if `escalates`. Reminders stop at the due time. Pure in `now`, so running
/// it twice at one moment asks for the same notices (the service keys them to send once).
pub fn notice_plan(
    due: DateTime<Utc>,
    remind_days: &[u32],
    escalates: bool,
    now: DateTime<Utc>,
) -> NoticePlan {
    let mut due_now = Vec::new();
    let mut next_at: Option<DateTime<Utc>> = None;
    let mut later = |t: DateTime<Utc>| next_at = Some(next_at.map_or(t, |n| n.min(t)));
    if now <= due {
        let mut nearest: Option<u32> = None;
        for &days in remind_days {
            match reminder_at(due, days) {
                Some(at) if at <= now => nearest = Some(nearest.map_or(days, |n| n.min(days))),
                Some(at) => later(at),
                None => {}
            }
        }
        if let Some(days_before) = nearest {
            due_now.push(Notice::Reminder { days_before });
        }
    }
    if escalates {
        let overdue = overdue_at(due);
        if now >= overdue {
            due_now.push(Notice::Overdue);
        } else {
            later(overdue);
        }
    }
    NoticePlan { due_now, next_at }
}

/// The first moment a new or moved deadline needs the reminder scan.
pub fn first_notice_at(
    due: DateTime<Utc>,
    remind_days: &[u32],
    escalates: bool,
) -> Option<DateTime<Utc>> {
    notice_plan(due, remind_days, escalates, DateTime::<Utc>::MIN_UTC).next_at
}

fn apply_offset(
    def: &Definition,
    d: &Deadline,
    base: DateTime<Utc>,
    calendar: &Calendar,
    fallback: &mut Vec<i32>,
) -> Option<DateTime<Utc>> {
    let tz = def.timezone;
    let o = d.due.offset;
    let mut local = base.with_timezone(&tz);
    let months = o.years.checked_mul(12)?.checked_add(o.months)?;
    local = if months >= 0 {
        local.checked_add_months(Months::new(months.unsigned_abs()))?
    } else {
        local.checked_sub_months(Months::new(months.unsigned_abs()))?
    };
    local = local.checked_add_signed(chrono::Duration::days(o.days))?;
    if o.working_days != 0 {
        let sum = calendar.add_working_days(local.date_naive(), o.working_days);
        fallback.extend(sum.fallback_years);
        local = tz
            .from_local_datetime(&sum.date.and_time(local.time()))
            .latest()?;
    }
    if d.due.end_of_day {
        return end_of_local_day(tz, local.date_naive());
    }
    Some(local.with_timezone(&Utc))
}

/// Local time for people, e.g. `2026-09-30 23:59:59`.
pub fn local_text(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    const DAYS: [u32; 4] = [30, 14, 7, 1];

    #[test]
    fn a_new_deadline_first_needs_its_earliest_reminder() {
        let due = at("2026-09-30T15:59:59Z");
        assert_eq!(
            first_notice_at(due, &DAYS, true),
            Some(at("2026-08-31T15:59:59Z"))
        );
        assert_eq!(
            first_notice_at(due, &[], true),
            Some(at("2026-09-30T16:00:00Z"))
        );
        assert_eq!(first_notice_at(due, &[], false), None);
    }

    #[test]
    fn only_the_nearest_reminder_due_is_sent() {
        let due = at("2026-09-30T15:59:59Z");
        let plan = notice_plan(due, &DAYS, true, at("2026-09-24T00:00:00Z"));
        assert_eq!(plan.due_now, vec![Notice::Reminder { days_before: 7 }]);
        assert_eq!(plan.next_at, Some(at("2026-09-29T15:59:59Z")));
    }

    #[test]
    fn past_due_the_deadline_escalates_once_and_reminders_stop() {
        let due = at("2026-09-30T15:59:59Z");
        let on_time = notice_plan(due, &DAYS, true, due);
        assert_eq!(on_time.due_now, vec![Notice::Reminder { days_before: 1 }]);
        assert_eq!(on_time.next_at, Some(at("2026-09-30T16:00:00Z")));
        let late = notice_plan(due, &DAYS, true, at("2026-09-30T16:00:00Z"));
        assert_eq!(late.due_now, vec![Notice::Overdue]);
        assert_eq!(late.next_at, None);
        let quiet = notice_plan(due, &DAYS, false, at("2026-10-30T00:00:00Z"));
        assert!(quiet.due_now.is_empty());
        assert_eq!(quiet.next_at, None);
    }
}
