//! Due dates, gates, rounds, extensions and working days.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use common::*;
use pilotflow_engine::{Calendar, CalendarYear, Engine, EngineError};
use serde_json::json;

fn submitted(created: &str) -> Driver {
    let mut d = Driver::drafted(created);
    d.fire(&district(), "submit", "2026-09-01T09:00:00+08:00");
    d
}

#[test]
fn forward_is_allowed_until_the_last_second_of_30_september() {
    let d = submitted("2026-03-01T09:00:00+08:00");
    assert_eq!(d.case.round(), Some(2026));
    let last_second = d.engine.fire(
        &d.case,
        &city(),
        "forward",
        &example("forward.json"),
        t("2026-09-30T23:59:59+08:00"),
    );
    assert_eq!(last_second.unwrap().snapshot.state, "provincial_check");

    let one_second_later = d.engine.fire(
        &d.case,
        &city(),
        "forward",
        &example("forward.json"),
        t("2026-10-01T00:00:00+08:00"),
    );
    match one_second_later {
        Err(EngineError::DeadlinePassed {
            deadline,
            due_local,
            next_due_local,
            message,
            ..
        }) => {
            assert_eq!(deadline, "application_cutoff");
            assert_eq!(due_local, "2026-09-30 23:59:59");
            assert_eq!(next_due_local.as_deref(), Some("2027-09-30 23:59:59"));
            assert!(
                message.contains("2026-09-30 23:59:59") && message.contains("2027-09-30 23:59:59"),
                "{message}"
            );
        }
        other => panic!("expected deadline_passed, got {other:?}"),
    }
    // The refusal is also visible before trying: the city is no longer offered `forward`.
    let offered = d
        .engine
        .available_actions(&d.case, &city(), t("2026-10-01T00:00:00+08:00"));
    assert!(!offered.iter().any(|a| a.name == "forward"));
    assert!(offered.iter().any(|a| a.name == "carry_over"));
}

#[test]
fn rounds_start_at_the_first_cutoff_on_or_after_creation() {
    let e = engine();
    for (created, round) in [
        ("2026-11-23T10:00:00+08:00", 2027),
        ("2026-09-30T23:59:59+08:00", 2026),
        ("2026-10-01T00:00:00+08:00", 2027),
        ("2026-01-01T00:00:00+08:00", 2026),
    ] {
        let case = e
            .start(nanguan(), Default::default(), t(created))
            .unwrap()
            .snapshot;
        assert_eq!(case.round(), Some(round), "created {created}");
    }
}

#[test]
fn carry_over_moves_a_late_case_to_the_next_round() {
    let mut d = submitted("2026-03-01T09:00:00+08:00");
    let early = d.try_fire(
        &city(),
        "carry_over",
        serde_json::Value::Null,
        "2026-09-15T09:00:00+08:00",
    );
    assert_guard_failed(early, "尚未截止");
    let out = d.fire(&city(), "carry_over", "2026-10-08T09:00:00+08:00");
    assert_eq!(d.case.round(), Some(2027));
    assert_eq!(
        d.state(),
        "municipal_review",
        "carry-over keeps the case where it was"
    );
    let cutoff = out
        .effects
        .deadlines_set
        .iter()
        .find(|x| x.name == "application_cutoff")
        .unwrap();
    assert_eq!(cutoff.due, t("2027-09-30T23:59:59+08:00"));
    d.fire(&city(), "forward", "2026-10-09T09:00:00+08:00");
    assert_eq!(d.state(), "provincial_check");
    assert_eq!(d.engine.replay(&d.events).unwrap(), d.case);
}

#[test]
fn a_city_internal_cutoff_gates_the_districts_submission() {
    let mut d = Driver::drafted("2026-11-23T10:00:00+08:00");
    let too_late = json!({"cutoff_date": "2027-10-15"});
    let refused = d.try_fire(
        &city(),
        "set_city_cutoff",
        too_late,
        "2026-12-01T09:00:00+08:00",
    );
    // Later than the province's own cutoff.
    assert_guard_failed(refused, "不能晚于省级截止日期");
    d.fire(&city(), "set_city_cutoff", "2026-12-01T09:00:00+08:00");
    let due = d
        .engine
        .deadlines(&d.case)
        .into_iter()
        .find(|x| x.name == "city_cutoff")
        .unwrap();
    assert_eq!(due.due, t("2027-09-15T23:59:59+08:00"));
    let refused = d.engine.fire(
        &d.case,
        &district(),
        "submit",
        &serde_json::Value::Null,
        t("2027-09-16T00:00:00+08:00"),
    );
    assert!(
        matches!(refused, Err(EngineError::DeadlinePassed { ref deadline, .. }) if deadline == "city_cutoff")
    );
    d.fire(&district(), "submit", "2027-09-15T23:59:59+08:00");
}

#[test]
fn an_extension_of_six_months_moves_every_later_deadline() {
    let mut d = Driver::confirmed("2026-11-23T10:00:00+08:00");
    d.fire(
        &district(),
        "submit_annual_plan",
        "2027-04-20T09:00:00+08:00",
    );
    d.fire(
        &district(),
        "submit_annual_summary",
        "2028-04-10T09:00:00+08:00",
    );
    d.try_fire(&district(), "submit_annual_plan", json!({"year": 2, "goals": "第二年度目标", "tasks": ["巩固成果"], "schedule": "按季度推进"}), "2028-04-20T09:00:00+08:00").unwrap();
    let before: Vec<_> = d.engine.deadlines(&d.case);
    let names: Vec<&str> = before.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["annual_summary_2_due", "final_report_due"]);

    d.fire(
        &district(),
        "request_extension",
        "2028-10-01T09:00:00+08:00",
    );
    let out = d.fire(
        &province(),
        "approve_extension",
        "2028-10-10T09:00:00+08:00",
    );
    let after = d.engine.deadlines(&d.case);
    for b in &before {
        let a = after.iter().find(|a| a.name == b.name).unwrap();
        let expected = b
            .due
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .checked_add_months(chrono::Months::new(6))
            .unwrap();
        assert_eq!(a.due, expected, "{} moves by six months", b.name);
        assert!(
            out.effects
                .deadlines_set
                .iter()
                .any(|s| s.name == b.name && s.due == a.due)
        );
        // Reminders follow the due date.
        assert_eq!(a.reminders[0].at, a.due - chrono::Duration::days(30));
    }
}

fn national_day_2026() -> Calendar {
    // A calendar given by the test: 1–7 October off, Sunday 27 September and Saturday
    // 10 October worked (调休).
    Calendar::from_years([CalendarYear {
        year: 2026,
        holidays: (1..=7)
            .map(|d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap())
            .collect(),
        workdays: vec![
            NaiveDate::from_ymd_opt(2026, 9, 27).unwrap(),
            NaiveDate::from_ymd_opt(2026, 10, 10).unwrap(),
        ],
    }])
}

#[test]
fn working_days_skip_holidays_and_count_make_up_days() {
    let cal = national_day_2026();
    let from = NaiveDate::from_ymd_opt(2026, 9, 25).unwrap(); // a Friday
    let sum = cal.add_working_days(from, 15);
    // 27 Sep (调休), 28, 29, 30, 8 Oct, 9, 10 (调休), 12–16, 19, 20, 21.
    assert_eq!(sum.date, NaiveDate::from_ymd_opt(2026, 10, 21).unwrap());
    assert!(sum.fallback_years.is_empty());
    let plain = Calendar::weekdays_only().add_working_days(from, 15);
    assert_eq!(plain.date, NaiveDate::from_ymd_opt(2026, 10, 16).unwrap());
    assert!(
        plain.fallback_years.contains(&2026),
        "no data for 2026: Monday–Friday, and it says so"
    );
    assert!(cal.is_working_day(NaiveDate::from_ymd_opt(2026, 9, 27).unwrap()));
    assert!(!cal.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()));
}

#[test]
fn the_expert_review_deadline_counts_working_days_from_the_calendar() {
    let cal = national_day_2026();
    let mut d = submitted("2026-03-01T09:00:00+08:00");
    d.engine = Engine::new(pilot_zone(), Box::leak(Box::new(cal)));
    d.fire(&city(), "forward", "2026-09-20T09:00:00+08:00");
    d.fire(&province(), "start_review", "2026-09-25T09:00:00+08:00");
    let review = d
        .engine
        .deadlines(&d.case)
        .into_iter()
        .find(|x| x.name == "expert_review_due")
        .unwrap();
    assert_eq!(review.due, t("2026-10-21T23:59:59+08:00"));
    assert!(review.calendar_fallback_years.is_empty());
    // Without the holiday data the same deadline falls on 16 October and is flagged.
    let plain = engine()
        .deadlines(&d.case)
        .into_iter()
        .find(|x| x.name == "expert_review_due")
        .unwrap();
    assert_eq!(plain.due, t("2026-10-16T23:59:59+08:00"));
    assert_eq!(plain.calendar_fallback_years, [2026]);
}

#[test]
fn reminders_are_offset_from_the_due_time() {
    let d = submitted("2026-03-01T09:00:00+08:00");
    let cutoff = d
        .engine
        .deadlines(&d.case)
        .into_iter()
        .find(|x| x.name == "application_cutoff")
        .unwrap();
    let days: Vec<u32> = cutoff.reminders.iter().map(|r| r.days_before).collect();
    assert_eq!(days, [30, 14, 7, 1]);
    assert_eq!(cutoff.reminders[0].at, t("2026-08-31T23:59:59+08:00"));
    assert_eq!(cutoff.reminders[3].at, t("2026-09-29T23:59:59+08:00"));
    let who: Vec<&str> = cutoff.responsible.iter().map(|r| r.as_str()).collect();
    assert_eq!(who, ["applicant", "municipal_reviewer"]);
    assert_eq!(cutoff.escalate_to[0], "provincial_admin");
}
