//! The application path of the pilot-zone workflow over real HTTP, on SQLite and PostgreSQL,
//! with the demo users and the example inputs; then the history chain and its verification.

use crate::harness::{
    Backend, GENESIS, example, holiday_calendar, on_each_backend, spawn_app, verify_all,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn the_application_path_runs_from_submit_to_confirm(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.drafted("南关区社区治理和服务创新实验区申报").await;

    let case = app.get("d220102", &format!("/api/v1/cases/{id}")).await;
    let names: Vec<&str> = case.body["available_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["submit"], "{backend:?}");
    assert_eq!(case.body["org_unit_name"], "南关区");
    assert_eq!(case.body["round"], 2027);

    app.act("d220102", &id, "submit", Value::Null)
        .await
        .assert_ok();
    assert_eq!(app.state(&id).await, "municipal_review");
    let forwarded = app
        .act("c220100", &id, "forward", example("forward.json"))
        .await;
    assert_eq!(forwarded.assert_ok()["state"], "provincial_check");
    app.act("admin", &id, "start_review", example("start_review.json"))
        .await
        .assert_ok();
    let panel = app
        .call(
            "admin",
            Method::PUT,
            &format!("/api/v1/cases/{id}/panel"),
            Some(json!({"experts": ["expert04", "expert10"]})),
        )
        .await;
    panel.assert_ok();
    // The first sheet leaves the review open; the second completes it.
    let first = app
        .act("expert04", &id, "score", example("score.json"))
        .await;
    assert_eq!(first.assert_ok()["state"], "expert_review");
    let second = app
        .act("expert10", &id, "score", example("score.json"))
        .await;
    assert_eq!(second.assert_ok()["state"], "decision");
    let confirmed = app
        .act("admin", &id, "confirm", example("confirm.json"))
        .await;
    let body = confirmed.assert_ok();
    assert_eq!(body["state"], "in_experiment");
    assert_eq!(
        body["data"]["variables"]["document_number"],
        "吉民发〔2027〕12号"
    );

    // The district sees its confirmed zone and what it must do next.
    let seen = app.get("d220102", &format!("/api/v1/cases/{id}")).await;
    assert_eq!(seen.body["state"], "in_experiment");
    assert!(
        seen.body["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "annual_plan_1_due"),
        "{}",
        seen.text
    );

    // Working-day deadlines use the shipped 2024–2026 holiday data; any later year is counted
    // Monday to Friday and the deadline says so.
    for d in seen.body["deadlines"].as_array().unwrap() {
        let fallback = d["calendar_fallback_years"].as_array().unwrap();
        assert!(fallback.iter().all(|y| y.as_i64().unwrap() > 2026), "{d}");
    }

    let history = app
        .get("d220102", &format!("/api/v1/cases/{id}/history"))
        .await;
    let events = history.body.as_array().unwrap();
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "application",
            "experiment_plan",
            "submit",
            "forward",
            "start_review",
            "expert",
            "score",
            "score",
            "confirm"
        ]
    );
    assert_eq!(events[0]["type"], "started");
    assert_eq!(events[0]["prev_hash"], GENESIS);
    for pair in events.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
        assert_eq!(
            pair[1]["seq"].as_i64(),
            pair[0]["seq"].as_i64().map(|s| s + 1)
        );
    }
    let confirm = events.last().unwrap();
    assert_eq!(confirm["actor"], "admin");
    assert_eq!(confirm["from"], "decision");
    assert_eq!(confirm["to"], "in_experiment");

    // The stored chain verifies and replays; tampering with one event is found.
    let store = app.store().await;
    let calendar = holiday_calendar().unwrap();
    let report = verify_all(&store, &calendar).await.unwrap();
    assert_eq!((report.cases, report.events), (1, 10));
    assert!(report.broken.is_empty(), "{:?}", report.broken);

    use sea_orm::ConnectionTrait;
    store
        .write
        .execute_unprepared(&format!(
            "UPDATE case_events SET comment = 'edited later' WHERE case_id = '{id}' AND seq = 4"
        ))
        .await
        .unwrap();
    let report = verify_all(&store, &calendar).await.unwrap();
    assert_eq!(report.broken.len(), 1);
    assert_eq!(report.broken[0].1.seq, 4);
}
on_each_backend!(the_application_path_runs_from_submit_to_confirm);

#[tokio::test(flavor = "multi_thread")]
async fn verify_history_command_reports_intact_and_broken_chains() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = app.drafted("宽城区实验区申报").await;
    app.act("d220102", &id, "submit", Value::Null)
        .await
        .assert_ok();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pilotflow"))
            .arg("verify-history")
            .env("PILOTFLOW_DATA_DIR", app.data_dir.path())
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let ok = run();
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out}");
    assert!(
        out.contains("1 cases, 4 events checked: every history chain is intact"),
        "{out}"
    );

    let store = app.store().await;
    use sea_orm::ConnectionTrait;
    store
        .write
        .execute_unprepared("DELETE FROM case_events WHERE seq = 4")
        .await
        .unwrap();
    let broken = run();
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(!broken.status.success(), "{out}");
    assert!(out.contains(&format!("case {id}: event 3")), "{out}");
}

async fn workflows_are_published_with_input_schemas_and_a_diagram(backend: Backend) {
    let app = spawn_app(backend).await;
    let list = app.get("d220102", "/api/v1/workflows").await;
    assert_eq!(list.body[0]["key"], "pilot-zone");
    assert_eq!(list.body[0]["version"], "1.0.0");
    assert_eq!(list.body[0]["content_hash"].as_str().unwrap().len(), 64);
    let wf = app.get("d220102", "/api/v1/workflows/pilot-zone").await;
    let forward = wf.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "forward")
        .unwrap();
    assert_eq!(
        forward["input_schema"]["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let diagram = app
        .get("d220102", "/api/v1/workflows/pilot-zone/diagram")
        .await;
    assert!(
        diagram.text.contains("\nstateDiagram-v2\n"),
        "{}",
        diagram.text
    );
    app.get("d220102", "/api/v1/workflows/no-such")
        .await
        .assert_problem(404, "workflow_not_found");
}
on_each_backend!(workflows_are_published_with_input_schemas_and_a_diagram);
