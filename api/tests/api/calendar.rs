//! Holiday data: seeded from the shipped file, a new year uploaded by the provincial admin,
//! validated, kept, and used at once by working-day deadlines.

use crate::harness::{Answer, Backend, ClockMode, TestApp, on_each_backend, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};

async fn expert_review_due(app: &TestApp, id: &str) -> Value {
    let case = app.get("admin", &format!("/api/v1/cases/{id}")).await;
    case.body["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "expert_review_due")
        .cloned()
        .unwrap_or_else(|| panic!("{}", case.text))
}

async fn upload(app: &TestApp, user: &str, year: i32, body: Value) -> Answer {
    app.call(
        user,
        Method::PUT,
        &format!("/api/v1/calendar/{year}"),
        Some(body),
    )
    .await
}

async fn an_uploaded_year_moves_working_day_deadlines_at_once(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.clock_mode = ClockMode::Simulated;
        s.clock_start = Some("2027-09-20T01:00:00Z".parse().unwrap()); // Monday 09:00 in Jilin
    })
    .await;
    let shipped = app.get("d220102", "/api/v1/calendar").await;
    let years: Vec<i64> = shipped
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, [2024, 2025, 2026]);
    assert!(
        shipped.body[2]["source"]
            .as_str()
            .unwrap()
            .contains("国办发明电〔2025〕7号")
    );

    // Entering expert review on Monday 2027-09-20: 15 working days, 2027 counted Mon–Fri.
    let id = app
        .in_expert_review("南关区申报(2027)", &["expert04"])
        .await;
    let before = expert_review_due(&app, &id).await;
    assert_eq!(before["due_local"], "2027-10-11 23:59:59", "{before}");
    assert_eq!(before["calendar_fallback_years"], json!([2027]));

    let year_2027 = json!({
        "holidays": ["2027-10-01", "2027-10-02", "2027-10-03", "2027-10-04",
                     "2027-10-05", "2027-10-06", "2027-10-07"],
        "workdays": ["2027-09-26", "2027-10-09"],
        "source": "演练数据:2027 年国庆节放假安排"
    });
    upload(&app, "d220102", 2027, year_2027.clone())
        .await
        .assert_problem(403, "forbidden");
    upload(&app, "c220100", 2027, year_2027.clone())
        .await
        .assert_problem(403, "forbidden");

    // Bad uploads name the offending entry and change nothing.
    let mut weekday = year_2027.clone();
    weekday["workdays"] = json!(["2027-09-26", "2027-10-08"]);
    let refused = upload(&app, "admin", 2027, weekday).await;
    refused.assert_problem(422, "validation_failed");
    assert_eq!(refused.pointers(), ["/workdays/1"]);
    let mut other_year = year_2027.clone();
    other_year["holidays"] = json!(["2028-01-01"]);
    assert_eq!(
        upload(&app, "admin", 2027, other_year).await.pointers(),
        ["/holidays/0"]
    );
    let mut both = year_2027.clone();
    both["holidays"] = json!(["2027-10-09"]);
    assert_eq!(
        upload(&app, "admin", 2027, both).await.pointers(),
        ["/workdays/1"]
    );
    let mut not_a_date = year_2027.clone();
    not_a_date["holidays"] = json!(["2027-02-30"]);
    let bad_date = upload(&app, "admin", 2027, not_a_date).await;
    bad_date.assert_problem(422, "validation_failed");
    assert_eq!(bad_date.pointers(), ["/holidays/0"]);
    assert_eq!(expert_review_due(&app, &id).await, before);

    // The real upload: Oct 1–7 off, Sep 26 and Oct 9 worked.
    let saved = upload(&app, "admin", 2027, year_2027).await;
    assert_eq!(saved.assert_ok()["updated_by"], "admin");
    let after = expert_review_due(&app, &id).await;
    assert_eq!(after["due_local"], "2027-10-14 23:59:59", "{after}");
    assert_eq!(after["calendar_fallback_years"], json!([]));

    // Kept: another server on the same database has the year too.
    let other = app.second_server().await;
    let years = other.get("admin", "/api/v1/calendar").await;
    assert_eq!(years.body.as_array().unwrap().len(), 4);
    assert_eq!(
        years.body[3]["workdays"],
        json!(["2027-09-26", "2027-10-09"])
    );
}
on_each_backend!(an_uploaded_year_moves_working_day_deadlines_at_once);
