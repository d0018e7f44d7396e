//! The pilot-zone lifecycle driven through the engine API with the example inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use pilotflow_engine::{EngineError, NotificationKind, UnitInfo, UnitLevel};
use serde_json::json;

#[test]
fn application_path_from_draft_to_confirmation() {
    let mut d = Driver::start("2026-11-23T10:00:00+08:00");
    assert_eq!(d.state(), "draft");
    assert_eq!(
        d.case.round(),
        Some(2027),
        "created after 30 Sep 2026: the 2027 round"
    );
    d.save_form("application", "2026-11-23T10:05:00+08:00");
    d.save_form("experiment_plan", "2026-11-23T10:06:00+08:00");

    let out = d.fire(&district(), "submit", "2027-03-01T09:00:00+08:00");
    assert_eq!(d.state(), "municipal_review");
    assert!(out.effects.notifications.iter().any(|n| matches!(&n.kind,
        NotificationKind::ActionRequired { state, .. } if state == "municipal_review")
        && n.roles.iter().any(|r| r == "municipal_reviewer")));

    d.fire(&city(), "forward", "2027-03-10T09:00:00+08:00");
    assert_eq!(d.state(), "provincial_check");
    assert_eq!(d.case.vars["forwarded_at"], json!("2027-03-10T01:00:00Z"));

    d.fire(&province(), "start_review", "2027-03-15T09:00:00+08:00");
    assert_eq!(d.state(), "expert_review");
    d.assign_experts(&[10, 11, 12], "2027-03-15T10:00:00+08:00");
    d.fire(&expert(10), "score", "2027-03-20T09:00:00+08:00");
    d.fire(&expert(11), "score", "2027-03-20T09:00:00+08:00");
    assert_eq!(
        d.state(),
        "expert_review",
        "two of three sheets: still collecting"
    );
    let again = d.engine.fire(
        &d.case,
        &expert(10),
        "score",
        &example("score.json"),
        t("2027-03-20T10:00:00+08:00"),
    );
    assert!(matches!(again, Err(EngineError::AlreadySubmitted { .. })));
    d.fire(&expert(12), "score", "2027-03-21T09:00:00+08:00");
    assert_eq!(d.state(), "decision");
    assert_eq!(d.case.collected["score"].len(), 3);

    d.fire(&province(), "confirm", "2027-04-01T10:00:00+08:00");
    assert_eq!(d.state(), "in_experiment");
    assert_eq!(d.case.vars["document_number"], json!("吉民发〔2027〕12号"));
    assert_eq!(
        d.case.vars["period_end"],
        json!("2029-04-01T15:59:59Z"),
        "two years, to the end of the day"
    );
    // Parallel regions start with the experiment period.
    assert_eq!(d.region("annual"), Some("year1_plan"));
    assert_eq!(d.region("changes"), Some("no_change"));
    assert_eq!(d.region("extension"), Some("no_extension"));
    assert_eq!(d.engine.replay(&d.events).unwrap(), d.case);
}

#[test]
fn city_return_and_resubmission() {
    let mut d = Driver::drafted("2026-11-23T10:00:00+08:00");
    d.fire(&district(), "submit", "2027-03-01T09:00:00+08:00");
    let out = d.fire(&city(), "return", "2027-03-02T09:00:00+08:00");
    assert_eq!(d.state(), "draft");
    assert!(out.effects.notifications.iter().any(|n| matches!(&n.kind,
        NotificationKind::ActionTaken { action, .. } if action == "return")
        && n.roles.iter().any(|r| r == "applicant")));
    d.fire(&district(), "submit", "2027-03-03T09:00:00+08:00");
    assert_eq!(d.state(), "municipal_review");
}

#[test]
fn provincial_return_goes_back_to_the_district() {
    let mut d = Driver::drafted("2026-11-23T10:00:00+08:00");
    d.fire(&district(), "submit", "2027-03-01T09:00:00+08:00");
    d.fire(&city(), "forward", "2027-03-02T09:00:00+08:00");
    d.fire(&province(), "return", "2027-03-05T09:00:00+08:00");
    assert_eq!(d.state(), "draft");
}

#[test]
fn rejection_records_the_reasons_and_ends_the_case() {
    let mut d = Driver::scored("2026-11-23T10:00:00+08:00");
    let out = d.fire(&province(), "reject", "2027-03-20T09:00:00+08:00");
    assert_eq!(d.state(), "rejected");
    assert_eq!(
        d.case.vars["rejection_reasons"],
        example("reject.json")["reasons"]
    );
    let told: Vec<&str> = out
        .effects
        .notifications
        .iter()
        .flat_map(|n| n.roles.iter().map(|r| r.as_str()))
        .collect();
    assert!(told.contains(&"applicant") && told.contains(&"municipal_reviewer"));
    assert!(
        d.engine
            .available_actions(&d.case, &province(), t("2027-03-21T09:00:00+08:00"))
            .is_empty()
    );
    assert_eq!(d.engine.replay(&d.events).unwrap(), d.case);
}

#[test]
fn change_request_runs_beside_the_annual_reports() {
    let mut d = Driver::confirmed("2026-11-23T10:00:00+08:00");
    d.fire(&district(), "request_change", "2027-05-01T09:00:00+08:00");
    assert_eq!(d.region("changes"), Some("change_review"));
    // The annual plan is not blocked by the pending change.
    d.fire(
        &district(),
        "submit_annual_plan",
        "2027-05-02T09:00:00+08:00",
    );
    assert_eq!(d.region("annual"), Some("year1_summary"));
    // Nor is an extension request.
    d.fire(
        &district(),
        "request_extension",
        "2027-05-03T09:00:00+08:00",
    );
    assert_eq!(d.region("extension"), Some("extension_review"));
    d.fire(&province(), "approve_change", "2027-05-10T09:00:00+08:00");
    assert_eq!(d.region("changes"), Some("no_change"));
    d.fire(&district(), "request_change", "2027-06-01T09:00:00+08:00");
    d.fire(&province(), "deny_change", "2027-06-05T09:00:00+08:00");
    assert_eq!(d.region("changes"), Some("no_change"));
    assert_eq!(d.state(), "in_experiment");
    assert_eq!(d.engine.replay(&d.events).unwrap(), d.case);
}

#[test]
fn annual_reports_go_in_order_and_check_the_year() {
    let mut d = Driver::confirmed("2026-11-23T10:00:00+08:00");
    let year2 =
        json!({"year": 2, "goals": "第二年度目标", "tasks": ["任务一"], "schedule": "全年推进"});
    let refused = d.try_fire(
        &district(),
        "submit_annual_plan",
        year2.clone(),
        "2027-05-01T09:00:00+08:00",
    );
    assert_guard_failed(refused, "第一年度");
    d.fire(
        &district(),
        "submit_annual_plan",
        "2027-05-01T09:00:00+08:00",
    );
    let summary = d.engine.fire(
        &d.case,
        &district(),
        "submit_annual_plan",
        &year2,
        t("2027-05-02T09:00:00+08:00"),
    );
    assert!(
        matches!(summary, Err(EngineError::ActionNotAvailable { .. })),
        "the plan is in, the summary is due"
    );
    d.fire(
        &district(),
        "submit_annual_summary",
        "2028-04-01T09:00:00+08:00",
    );
    d.try_fire(
        &district(),
        "submit_annual_plan",
        year2,
        "2028-04-10T09:00:00+08:00",
    )
    .unwrap();
    let mut summary2 = example("submit_annual_summary.json");
    summary2["year"] = json!(2);
    d.try_fire(
        &district(),
        "submit_annual_summary",
        summary2,
        "2029-03-20T09:00:00+08:00",
    )
    .unwrap();
    assert_eq!(d.region("annual"), Some("annual_done"));
}

#[test]
fn termination_denied_then_approved() {
    let mut d = Driver::confirmed("2026-11-23T10:00:00+08:00");
    d.fire(
        &district(),
        "request_termination",
        "2027-06-01T09:00:00+08:00",
    );
    assert_eq!(d.state(), "termination_review");
    // Annual reporting continues while the request is reviewed; changes wait.
    assert!(
        d.engine
            .available_actions(&d.case, &district(), t("2027-06-02T09:00:00+08:00"))
            .iter()
            .any(|a| a.name == "submit_annual_plan")
    );
    assert!(
        !d.engine
            .available_actions(&d.case, &district(), t("2027-06-02T09:00:00+08:00"))
            .iter()
            .any(|a| a.name == "request_change")
    );
    d.fire(&province(), "deny_termination", "2027-06-10T09:00:00+08:00");
    assert_eq!(d.state(), "in_experiment");
    d.fire(
        &district(),
        "request_termination",
        "2027-07-01T09:00:00+08:00",
    );
    d.fire(
        &province(),
        "approve_termination",
        "2027-07-10T09:00:00+08:00",
    );
    assert_eq!(d.state(), "terminated");
    assert!(
        d.engine.deadlines(&d.case).is_empty(),
        "a terminated zone has nothing due"
    );
}

#[test]
fn extension_moves_the_period_end_and_is_capped_at_twelve_months() {
    let mut d = Driver::confirmed("2026-11-23T10:00:00+08:00");
    d.fire(
        &district(),
        "request_extension",
        "2028-10-01T09:00:00+08:00",
    );
    d.fire(
        &province(),
        "approve_extension",
        "2028-10-10T09:00:00+08:00",
    );
    assert_eq!(d.case.vars["period_end"], json!("2029-10-01T15:59:59Z"));
    assert_eq!(d.case.vars["extended_months"], json!(6));
    // 6 more would make 12: allowed; 7 would not.
    let seven = json!({"months": 7, "reasons": "因疫情影响需再次延长实验周期以完成主要任务"});
    let refused = d.try_fire(
        &district(),
        "request_extension",
        seven,
        "2029-01-05T09:00:00+08:00",
    );
    assert_guard_failed(refused, "12");
    d.fire(
        &district(),
        "request_extension",
        "2029-01-05T09:00:00+08:00",
    );
    d.fire(&province(), "deny_extension", "2029-01-10T09:00:00+08:00");
    assert_eq!(d.case.vars["period_end"], json!("2029-10-01T15:59:59Z"));
    assert_eq!(d.case.vars["requested_extension_months"], json!(0));
}

#[test]
fn acceptance_with_rectification_then_title_and_national_recommendation() {
    let mut d = Driver::confirmed("2026-11-23T10:00:00+08:00");
    let refused = d.try_fire(
        &district(),
        "submit_final_report",
        serde_json::Value::Null,
        "2029-04-01T09:00:00+08:00",
    );
    assert!(
        matches!(refused, Err(EngineError::FormIncomplete { ref form, .. }) if form == "final_report")
    );
    d.save_form("final_report", "2029-04-01T09:00:00+08:00");
    d.fire(
        &district(),
        "submit_final_report",
        "2029-04-02T09:00:00+08:00",
    );
    assert_eq!(d.state(), "acceptance_review");
    d.acceptance_scores("2029-04-20T09:00:00+08:00");
    assert_eq!(d.state(), "acceptance_decision");
    d.fire(
        &province(),
        "require_rectification",
        "2029-05-01T09:00:00+08:00",
    );
    assert_eq!(d.state(), "rectification");
    assert!(
        d.engine
            .deadlines(&d.case)
            .iter()
            .any(|x| x.name == "rectification_due" && x.due == t("2029-11-01T23:59:59+08:00"))
    );
    d.save_form("final_report", "2029-08-01T09:00:00+08:00");
    d.fire(
        &district(),
        "resubmit_final_report",
        "2029-08-02T09:00:00+08:00",
    );
    assert_eq!(d.state(), "acceptance_review");
    assert!(
        !d.case.collected.contains_key("acceptance_score"),
        "re-review starts with no sheets"
    );
    d.acceptance_scores("2029-08-20T09:00:00+08:00");
    d.fire(&province(), "pass", "2029-09-01T09:00:00+08:00");
    assert_eq!(d.state(), "titled");
    assert_eq!(d.case.vars["recommended_national"], json!(true));
    assert_eq!(d.engine.replay(&d.events).unwrap(), d.case);
}

#[test]
fn acceptance_can_fail() {
    let mut d = Driver::confirmed("2026-11-23T10:00:00+08:00");
    d.save_form("final_report", "2029-04-01T09:00:00+08:00");
    d.fire(
        &district(),
        "submit_final_report",
        "2029-04-02T09:00:00+08:00",
    );
    d.acceptance_scores("2029-04-20T09:00:00+08:00");
    d.fire(&province(), "fail", "2029-05-01T09:00:00+08:00");
    assert_eq!(d.state(), "failed");
}

#[test]
fn a_short_plan_is_saved_but_cannot_be_submitted() {
    let mut d = Driver::start("2026-11-23T10:00:00+08:00");
    d.save_form("application", "2026-11-23T10:05:00+08:00");
    let short = example("invalid/experiment_plan_short.json");
    let saved = d
        .engine
        .save_form(
            &d.case,
            &district(),
            "experiment_plan",
            short,
            t("2026-11-23T10:06:00+08:00"),
        )
        .unwrap();
    assert_eq!(saved.form_errors.len(), 1, "{:?}", saved.form_errors);
    assert_eq!(saved.form_errors[0].pointer, "/sections");
    assert!(
        saved.form_errors[0].message.contains("不少于 3000 字"),
        "{}",
        saved.form_errors[0].message
    );
    d.case = saved.snapshot;
    let refused = d.try_fire(
        &district(),
        "submit",
        serde_json::Value::Null,
        "2027-03-01T09:00:00+08:00",
    );
    match refused {
        Err(EngineError::FormIncomplete { form, errors, .. }) => {
            assert_eq!(form, "experiment_plan");
            assert_eq!(errors[0].pointer, "/sections");
        }
        other => panic!("expected form_incomplete, got {other:?}"),
    }
    assert_eq!(d.state(), "draft");
}

#[test]
fn invalid_input_lists_every_field_with_its_chinese_title() {
    let mut d = Driver::drafted("2026-11-23T10:00:00+08:00");
    d.fire(&district(), "submit", "2027-03-01T09:00:00+08:00");
    let bad = json!({"opinion": 5, "reviewer": "", "extra": true});
    match d.engine.fire(
        &d.case,
        &city(),
        "forward",
        &bad,
        t("2027-03-02T09:00:00+08:00"),
    ) {
        Err(EngineError::InvalidInput { errors }) => {
            let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
            for p in ["/opinion", "/recommend", "/reviewer", "/extra"] {
                assert!(pointers.contains(&p), "{p} missing from {errors:#?}");
            }
            let recommend = errors.iter().find(|e| e.pointer == "/recommend").unwrap();
            assert_eq!(recommend.message, "「是否推荐」为必填项");
            let opinion = errors.iter().find(|e| e.pointer == "/opinion").unwrap();
            assert_eq!(opinion.message, "「审核意见」应为文本");
        }
        other => panic!("expected invalid_input, got {other:?}"),
    }
}

#[test]
fn roles_bind_by_unit_and_by_assignment() {
    let mut d = Driver::drafted("2026-11-23T10:00:00+08:00");
    let now = t("2027-03-01T09:00:00+08:00");
    let by_city = d
        .engine
        .fire(&d.case, &city(), "submit", &serde_json::Value::Null, now);
    assert!(matches!(by_city, Err(EngineError::ActionNotAllowed { .. })));
    d.fire(&district(), "submit", "2027-03-01T09:00:00+08:00");
    let other = d.engine.fire(
        &d.case,
        &other_city(),
        "forward",
        &example("forward.json"),
        now,
    );
    assert!(
        matches!(other, Err(EngineError::ActionNotAllowed { .. })),
        "a sibling city may not act"
    );
    let early = d.engine.fire(
        &d.case,
        &province(),
        "confirm",
        &example("confirm.json"),
        now,
    );
    assert!(matches!(early, Err(EngineError::ActionNotAvailable { .. })));
    let unknown = d.engine.fire(
        &d.case,
        &province(),
        "approve_everything",
        &serde_json::Value::Null,
        now,
    );
    assert!(matches!(unknown, Err(EngineError::UnknownAction { .. })));
    d.fire(&city(), "forward", "2027-03-02T09:00:00+08:00");
    d.fire(&province(), "start_review", "2027-03-05T09:00:00+08:00");
    d.assign_experts(&[10], "2027-03-05T10:00:00+08:00");
    let unassigned = d
        .engine
        .fire(&d.case, &expert(11), "score", &example("score.json"), now);
    assert!(matches!(
        unassigned,
        Err(EngineError::ActionNotAllowed { .. })
    ));
    let by_district = d
        .engine
        .assign(&d.case, &district(), "expert", Default::default(), now);
    assert!(matches!(
        by_district,
        Err(EngineError::AssignmentNotAllowed { .. })
    ));
}

#[test]
fn eligibility_is_checked_when_a_case_starts() {
    let e = engine();
    let now = t("2026-11-23T10:00:00+08:00");
    let changbai = UnitInfo {
        code: "220623".into(),
        name: "长白朝鲜族自治县".into(),
        level: UnitLevel::County,
        national_zone: true,
    };
    match e.start(changbai, Default::default(), now) {
        Err(EngineError::NotEligible { messages }) => assert!(messages[0].contains("全国实验区")),
        other => panic!("expected not_eligible, got {other:?}"),
    }
    let province_unit = UnitInfo {
        code: "220000".into(),
        name: "吉林省".into(),
        level: UnitLevel::Province,
        national_zone: false,
    };
    assert!(matches!(
        e.start(province_unit, Default::default(), now),
        Err(EngineError::NotEligible { .. })
    ));
}

#[test]
fn a_city_applies_only_for_a_city_level_project() {
    let e = engine();
    let changchun = UnitInfo {
        code: "220100".into(),
        name: "长春市".into(),
        level: UnitLevel::City,
        national_zone: false,
    };
    let mut case = e
        .start(
            changchun,
            Default::default(),
            t("2026-11-23T10:00:00+08:00"),
        )
        .unwrap()
        .snapshot;
    // For a city's own case the province is both its parent and the root.
    let city_self = pilotflow_engine::Actor {
        relation: pilotflow_engine::UnitRelation {
            own: true,
            parent: false,
            root: false,
        },
        ..city()
    };
    let mut application = example("forms/application.json");
    application["city_level_project"] = json!(false);
    case = e
        .save_form(
            &case,
            &pilotflow_engine::Actor {
                role: "applicant".into(),
                ..city_self.clone()
            },
            "application",
            application.clone(),
            t("2026-11-24T10:00:00+08:00"),
        )
        .unwrap()
        .snapshot;
    case = e
        .save_form(
            &case,
            &pilotflow_engine::Actor {
                role: "applicant".into(),
                ..city_self.clone()
            },
            "experiment_plan",
            example("forms/experiment_plan.json"),
            t("2026-11-24T10:00:00+08:00"),
        )
        .unwrap()
        .snapshot;
    let applicant = pilotflow_engine::Actor {
        role: "applicant".into(),
        ..city_self
    };
    let refused = e.fire(
        &case,
        &applicant,
        "submit",
        &serde_json::Value::Null,
        t("2027-03-01T09:00:00+08:00"),
    );
    assert_guard_failed(refused, "地级市");
    application["city_level_project"] = json!(true);
    case = e
        .save_form(
            &case,
            &applicant,
            "application",
            application,
            t("2027-03-01T09:00:00+08:00"),
        )
        .unwrap()
        .snapshot;
    let submitted = e
        .fire(
            &case,
            &applicant,
            "submit",
            &serde_json::Value::Null,
            t("2027-03-01T09:01:00+08:00"),
        )
        .unwrap();
    assert_eq!(submitted.snapshot.state, "municipal_review");
}

/// A whole snapshot reads back as the same case, through text or through a value, and its
/// forms are the documents that were saved (`verify-history` compares a replayed case with
/// the stored one as this JSON).
#[test]
fn a_stored_snapshot_reads_back_with_its_forms_as_saved() {
    let d = Driver::drafted("2026-11-23T10:00:00+08:00");
    let text = serde_json::to_string(&d.case).unwrap();

    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    for form in ["application", "experiment_plan"] {
        assert_eq!(
            stored["forms"][form],
            example(&format!("forms/{form}.json")),
            "{form} as stored"
        );
    }

    let read: pilotflow_engine::CaseSnapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(read, d.case);
    assert_eq!(serde_json::to_string(&read).unwrap(), text, "written again");

    let via_value: pilotflow_engine::CaseSnapshot =
        serde_json::from_value(serde_json::to_value(&d.case).unwrap()).unwrap();
    assert_eq!(via_value, d.case);
}

#[test]
fn a_snapshot_without_its_forms_is_the_snapshot_less_forms_and_reads_back_with_none() {
    let d = Driver::drafted("2026-11-23T10:00:00+08:00");
    assert_eq!(d.case.forms.len(), 2, "the drafted case has both forms");

    let mut whole = serde_json::to_value(&d.case).unwrap();
    whole.as_object_mut().unwrap().remove("forms");
    let without = serde_json::to_value(d.case.without_forms()).unwrap();
    assert_eq!(without, whole);

    let read: pilotflow_engine::CaseSnapshot = serde_json::from_value(without).unwrap();
    assert!(read.forms.is_empty());
    let mut with_forms = read;
    with_forms.forms = d.case.forms.clone();
    assert_eq!(with_forms, d.case, "the forms put back give the case again");
}
