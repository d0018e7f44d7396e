//! The rehearsal clock (演练模式): time starts where configured, the provincial admin moves it,
//! and the 30 September cutoff is enforced against it. With the system clock the path is 404.

use crate::harness::{Backend, ClockMode, example, on_each_backend, spawn_app, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};

async fn the_cutoff_is_enforced_on_the_rehearsal_clock(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.clock_mode = ClockMode::Simulated;
        s.clock_start = Some("2026-09-30T15:59:00Z".parse().unwrap()); // 23:59:00 in Jilin
    })
    .await;
    let on_time = app.drafted("南关区申报(截止前报省)").await;
    let late = app.drafted("南关区申报(错过截止)").await;
    for id in [&on_time, &late] {
        app.act("d220102", id, "submit", Value::Null)
            .await
            .assert_ok();
    }
    let case = app.get("c220100", &format!("/api/v1/cases/{late}")).await;
    assert_eq!(case.body["round"], 2026, "{}", case.text);

    // Before 23:59:59 the city forwards.
    app.act("c220100", &on_time, "forward", example("forward.json"))
        .await
        .assert_ok();

    // Only the provincial admin moves the clock.
    app.call(
        "c220100",
        Method::POST,
        "/api/v1/admin/clock",
        Some(json!({"advance": "PT2M"})),
    )
    .await
    .assert_problem(403, "forbidden");
    let moved = app
        .call(
            "admin",
            Method::POST,
            "/api/v1/admin/clock",
            Some(json!({"advance": "PT2M"})),
        )
        .await;
    let local = moved.assert_ok()["now_local"].as_str().unwrap().to_owned();
    assert!(local.starts_with("2026-10-01 00:0"), "{local}");

    // After it the forward is refused, naming the cutoff and when the next round closes.
    let refused = app
        .act("c220100", &late, "forward", example("forward.json"))
        .await;
    refused.assert_problem(422, "deadline_passed");
    assert_eq!(refused.body["due_local"], "2026-09-30 23:59:59");
    assert_eq!(refused.body["next_due_local"], "2027-09-30 23:59:59");
    assert!(
        refused.body["detail"].as_str().unwrap().contains("2027"),
        "{}",
        refused.text
    );
    let after = app.get("c220100", &format!("/api/v1/cases/{late}")).await;
    assert_eq!(after.body["state"], "municipal_review");
    let names: Vec<&str> = after.body["available_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"forward") && names.contains(&"carry_over"),
        "{names:?}"
    );

    // A duration the clock cannot read is refused at its pointer.
    let bad = app
        .call(
            "admin",
            Method::POST,
            "/api/v1/admin/clock",
            Some(json!({"advance": "ten days"})),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.pointers(), ["/advance"]);
}
on_each_backend!(the_cutoff_is_enforced_on_the_rehearsal_clock);

async fn the_system_clock_has_no_clock_path(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("admin", "/api/v1/admin/clock")
        .await
        .assert_problem(404, "not_found");
    app.call(
        "admin",
        Method::POST,
        "/api/v1/admin/clock",
        Some(json!({"advance": "P10D"})),
    )
    .await
    .assert_problem(404, "not_found");
}
on_each_backend!(the_system_clock_has_no_clock_path);
