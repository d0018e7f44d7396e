//! Deadlines as data: written on every transition, listed across cases within the caller's
//! scope, overdue cases found, met and missed recorded; on the rehearsal clock.

use crate::harness::entities::case_deadline;
use crate::harness::{
    Application, Backend, ClockMode, TestApp, example, on_each_backend, spawn_app_with,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

fn ids(list: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

async fn statuses(app: &TestApp, case: &str) -> Vec<(String, String)> {
    let store = app.store().await;
    let mut rows: Vec<(String, String)> = case_deadline::Entity::find()
        .filter(case_deadline::Column::CaseId.eq(case))
        .all(&store.read)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.status))
        .collect();
    rows.sort();
    rows
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn deadlines_are_kept_listed_and_found_overdue(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.clock_mode = ClockMode::Simulated;
        s.clock_start = Some("2026-09-20T01:00:00Z".parse().unwrap()); // 09:00 in Jilin
    })
    .await;
    let on_time = app.drafted("南关区申报(按时)").await;
    let sibling = app.create_case("d220103", "宽城区申报").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = app.create_case("d220202", "昌邑区申报").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Within 30 days each caller sees the round's cutoff of the cases in its scope.
    let within = |user: &'static str, q: &'static str| {
        let app = &app;
        async move { app.get(user, &format!("/api/v1/deadlines{q}")).await }
    };
    let city = within("c220100", "").await;
    assert!(city.body["items"].is_array(), "{}", city.text);

    assert_eq!(
        ids(&city.body, "case_id"),
        sorted(vec![on_time.clone(), sibling.clone()]),
        "{}",
        city.text
    );
    assert_eq!(city.body["items"][0]["due_local"], "2026-09-30 23:59:59");
    assert_eq!(city.body["items"][0]["days_left"], 10);
    assert_eq!(city.body["items"][0]["overdue"], false);
    assert_eq!(within("admin", "?within=30d").await.body["total"], 3);
    assert_eq!(within("d220102", "").await.body["total"], 1);
    assert_eq!(within("expert01", "").await.body["total"], 0);
    assert_eq!(within("admin", "?within=5d").await.body["total"], 0);
    assert_eq!(within("admin", "?within=P2W").await.body["total"], 3);
    within("admin", "?within=forever")
        .await
        .assert_problem(422, "validation_failed");

    // Forwarded before the cutoff: the deadline is met and leaves the list.
    app.act("d220102", &on_time, "submit", Value::Null)
        .await
        .assert_ok();
    app.act("c220100", &on_time, "forward", example("forward.json"))
        .await
        .assert_ok();
    assert_eq!(
        statuses(&app, &on_time).await,
        [("application_cutoff".to_owned(), "met".to_owned())]
    );
    assert_eq!(within("admin", "").await.body["total"], 2);

    // Eleven days on, the other two are overdue.
    app.call(
        "admin",
        Method::POST,
        "/api/v1/admin/clock",
        Some(json!({"advance": "P11D"})),
    )
    .await
    .assert_ok();
    // Logins expire on the same clock (12 hours): sign in again.
    let stale = app.get("admin", "/api/v1/me").await;
    stale.assert_problem(401, "unauthenticated");
    app.forget_tokens();
    let overdue = app.get("admin", "/api/v1/cases?overdue=true").await;
    assert!(overdue.body["items"].is_array(), "{}", overdue.text);
    assert_eq!(
        ids(&overdue.body, "id"),
        sorted(vec![sibling.clone(), elsewhere.clone()])
    );
    let city_overdue = app.get("c220100", "/api/v1/cases?overdue=true").await;
    assert_eq!(
        ids(&city_overdue.body, "id"),
        std::slice::from_ref(&sibling)
    );
    let not_overdue = app.get("admin", "/api/v1/cases?overdue=false").await;
    assert_eq!(ids(&not_overdue.body, "id"), std::slice::from_ref(&on_time));
    let late = within("c220100", "").await;
    assert_eq!(late.body["items"][0]["overdue"], true, "{}", late.text);
    assert!(late.body["items"][0]["days_left"].as_i64().unwrap() < 0);

    // Carried over to the next round, the sibling's cutoff moves a year and it is not late.
    app.act("d220103", &sibling, "carry_over", Value::Null)
        .await
        .assert_ok();
    let overdue = app.get("admin", "/api/v1/cases?overdue=true").await;
    assert_eq!(ids(&overdue.body, "id"), std::slice::from_ref(&elsewhere));
    let case = app.get("admin", &format!("/api/v1/cases/{sibling}")).await;
    assert_eq!(case.body["round"], 2027);
    assert_eq!(
        case.body["deadlines"][0]["due_local"],
        "2027-09-30 23:59:59"
    );
    assert_eq!(
        statuses(&app, &sibling).await,
        [("application_cutoff".to_owned(), "pending".to_owned())]
    );
}
on_each_backend!(deadlines_are_kept_listed_and_found_overdue);

/// A database without deadline rows gets them back at the next start.
async fn missing_deadline_rows_are_rebuilt_at_the_next_start(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.clock_mode = ClockMode::Simulated;
        s.clock_start = Some("2026-09-20T01:00:00Z".parse().unwrap()); // 09:00 in Jilin
    })
    .await;
    let elsewhere = app.create_case("d220202", "昌邑区申报").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = app.store().await;
    case_deadline::Entity::delete_many()
        .exec(&store.write)
        .await
        .unwrap();
    assert!(statuses(&app, &elsewhere).await.is_empty());
    let restarted = Application::build(app.settings.clone(), true)
        .await
        .unwrap();
    drop(restarted);
    assert_eq!(
        statuses(&app, &elsewhere).await,
        [("application_cutoff".to_owned(), "pending".to_owned())]
    );
}
on_each_backend!(missing_deadline_rows_are_rebuilt_at_the_next_start);
