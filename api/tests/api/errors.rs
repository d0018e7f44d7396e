//! Bad input gets the right status, a problem+json body naming what is wrong and where, and
//! leaves nothing written.

use crate::harness::{Backend, TestApp, example, on_each_backend, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

async fn history_and_version(app: &TestApp, id: &str) -> (usize, i64) {
    (app.history_len(id).await, app.version("admin", id).await)
}

async fn malformed_and_mistyped_bodies_are_refused_with_pointers(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.token("d220102").await;
    let raw = |body: &'static str| {
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
    };
    let broken = app
        .send(raw(r#"{"workflow": "pilot-zone", "title": "#))
        .await;
    broken.assert_problem(400, "malformed_request");
    assert!(
        broken.body["detail"].as_str().unwrap().contains("第 1 行"),
        "{}",
        broken.text
    );
    let typed = app.send(raw(r#"{"workflow": 5, "title": "x"}"#)).await;
    typed.assert_problem(422, "validation_failed");
    assert_eq!(typed.pointers(), ["/workflow"]);
    let unknown = app
        .send(raw(
            r#"{"workflow": "pilot-zone", "title": "x", "colour": "red"}"#,
        ))
        .await;
    unknown.assert_problem(422, "validation_failed");
    let empty_title = app
        .call(
            "d220102",
            Method::POST,
            "/api/v1/cases",
            Some(json!({"workflow": "pilot-zone", "title": "  "})),
        )
        .await;
    empty_title.assert_problem(422, "validation_failed");
    assert_eq!(empty_title.pointers(), ["/title"]);
    let no_workflow = app
        .call(
            "d220102",
            Method::POST,
            "/api/v1/cases",
            Some(json!({"workflow": "nope", "title": "x"})),
        )
        .await;
    no_workflow.assert_problem(422, "validation_failed");
    assert_eq!(no_workflow.pointers(), ["/workflow"]);
    assert_eq!(app.get("admin", "/api/v1/cases").await.body["total"], 0);
}
on_each_backend!(malformed_and_mistyped_bodies_are_refused_with_pointers);

async fn action_input_is_checked_against_its_schema(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.drafted("南关区申报").await;
    app.act("d220102", &id, "submit", Value::Null)
        .await
        .assert_ok();
    let before = history_and_version(&app, &id).await;
    let mut input = example("forward.json");
    input["recommend"] = json!("yes");
    input.as_object_mut().unwrap().remove("opinion");
    let refused = app.act("c220100", &id, "forward", input).await;
    refused.assert_problem(422, "invalid_input");
    let mut pointers = refused.pointers();
    pointers.sort();
    assert_eq!(pointers, ["/opinion", "/recommend"], "{}", refused.text);
    // Each message names the field in Chinese.
    assert!(
        refused.text.contains("审核意见") || refused.text.contains("opinion"),
        "{}",
        refused.text
    );
    assert_eq!(history_and_version(&app, &id).await, before);
}
on_each_backend!(action_input_is_checked_against_its_schema);

async fn a_short_plan_is_saved_as_a_draft_but_cannot_be_submitted(backend: Backend) {
    let app = spawn_app(backend).await;
    let case = app.create_case("d220102", "南关区申报").await;
    let id = case["id"].as_str().unwrap();
    app.save_form(
        "d220102",
        id,
        "application",
        example("forms/application.json"),
    )
    .await
    .assert_ok();
    let short = example("invalid/experiment_plan_short.json");
    let saved = app.save_form("d220102", id, "experiment_plan", short).await;
    assert_eq!(saved.status.as_u16(), 200, "{}", saved.text);
    let errors = saved.body["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("3000")),
        "{}",
        saved.text
    );
    let before = history_and_version(&app, id).await;
    let submit = app.act("d220102", id, "submit", Value::Null).await;
    submit.assert_problem(422, "form_incomplete");
    assert!(
        submit.body["detail"].as_str().unwrap().contains("实验方案"),
        "{}",
        submit.text
    );
    assert!(!submit.pointers().is_empty());
    assert_eq!(history_and_version(&app, id).await, before);
    assert_eq!(app.state(id).await, "draft");
}
on_each_backend!(a_short_plan_is_saved_as_a_draft_but_cannot_be_submitted);

async fn unknown_things_answer_404_and_wrong_methods_405(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.drafted("南关区申报").await;
    let before = history_and_version(&app, &id).await;
    app.act("d220102", &id, "launch_rocket", Value::Null)
        .await
        .assert_problem(404, "unknown_action");
    app.save_form("d220102", &id, "no_such_form", json!({}))
        .await
        .assert_problem(404, "unknown_form");
    app.act_at(
        "d220102",
        "00000000-0000-0000-0000-000000000000",
        "submit",
        Value::Null,
        1,
    )
    .await
    .assert_problem(404, "case_not_found");
    app.get("d220102", "/api/v1/cases/not-a-case")
        .await
        .assert_problem(404, "case_not_found");
    app.get("d220102", "/api/v1/nothing-here")
        .await
        .assert_problem(404, "not_found");
    app.call(
        "d220102",
        Method::DELETE,
        &format!("/api/v1/cases/{id}"),
        None,
    )
    .await
    .assert_problem(405, "method_not_allowed");
    app.call("d220102", Method::PUT, "/api/v1/cases", None)
        .await
        .assert_problem(405, "method_not_allowed");
    // Taking an action in the wrong state is a conflict with the case's state.
    app.act("d220102", &id, "confirm", example("confirm.json"))
        .await
        .assert_problem(409, "action_not_available");
    assert_eq!(history_and_version(&app, &id).await, before);
}
on_each_backend!(unknown_things_answer_404_and_wrong_methods_405);

#[tokio::test(flavor = "multi_thread")]
async fn problems_are_in_chinese_unless_english_is_asked_for() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.token("d220102").await;
    let ask = |lang: Option<&'static str>| {
        let mut r = app
            .client
            .get(app.url("/api/v1/cases/none"))
            .bearer_auth(&token);
        if let Some(l) = lang {
            r = r.header("Accept-Language", l);
        }
        app.send(r)
    };
    let zh = ask(None).await;
    assert_eq!(zh.body["detail"], "案件不存在");
    assert_eq!(zh.body["title"], "未找到");
    let en = ask(Some("en-US,en;q=0.9")).await;
    en.assert_problem(404, "case_not_found");
    assert_eq!(en.body["detail"], "no such case");
    assert_eq!(en.body["title"], "Not Found");
    let prefers_zh = ask(Some("zh-CN,zh;q=0.9,en;q=0.8")).await;
    assert_eq!(prefers_zh.body["detail"], "案件不存在");
}

async fn operations_endpoints_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(health.status.as_u16(), 200);
    let ready = app.send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(ready.status.as_u16(), 200);
    let id = app.drafted("南关区申报").await;
    app.act("d220102", &id, "submit", Value::Null)
        .await
        .assert_ok();
    app.act("d220102", &id, "submit", Value::Null).await;
    let metrics = app.send(app.client.get(app.url("/metrics"))).await;
    assert!(
        metrics.text.contains(
            r#"pilotflow_actions_total{action="submit",outcome="ok",workflow="pilot-zone"} 1"#
        ),
        "{}",
        metrics.text
    );
    assert!(
        metrics.text.contains(r#"outcome="action_not_available""#),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("pilotflow_http_request_duration_seconds_bucket")
    );
    let doc = app.send(app.client.get(app.url("/api/openapi.json"))).await;
    assert!(
        doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc.text
    );
    assert!(doc.body["paths"]["/api/v1/cases/{id}/actions/{action}"]["post"].is_object());
    let docs = app.send(app.client.get(app.url("/docs/"))).await;
    assert_eq!(docs.status.as_u16(), 200);
    assert!(docs.text.contains("swagger"), "{}", docs.text);
}
on_each_backend!(operations_endpoints_answer);

async fn nul_characters_are_refused_not_failed(backend: Backend) {
    let app = spawn_app(backend).await;
    // Found by schemathesis: PostgreSQL cannot take a NUL in text.
    app.get("admin", "/api/v1/cases?q=%00%C2%BF&page=100")
        .await
        .assert_problem(400, "malformed_request");
    app.get("admin", "/api/v1/cases/%00")
        .await
        .assert_problem(400, "malformed_request");
    let created = app
        .call(
            "d220102",
            Method::POST,
            "/api/v1/cases",
            Some(json!({"workflow": "pilot-zone", "title": "南关\u{0}区"})),
        )
        .await;
    created.assert_problem(422, "validation_failed");
    assert_eq!(created.pointers(), ["/title"]);
    let id = app.drafted("南关区申报").await;
    let before = history_and_version(&app, &id).await;
    let mut plan = example("forms/experiment_plan.json");
    plan["sections"]["background"]["development"] = json!("背景\u{0}");
    let saved = app.save_form("d220102", &id, "experiment_plan", plan).await;
    saved.assert_problem(422, "validation_failed");
    assert_eq!(saved.pointers(), ["/sections/background/development"]);
    assert_eq!(history_and_version(&app, &id).await, before);
    assert_eq!(app.get("admin", "/api/v1/cases").await.body["total"], 1);
}
on_each_backend!(nul_characters_are_refused_not_failed);
