//! Optimistic concurrency and idempotent retries under parallel requests.

use crate::harness::{Backend, TestApp, example, on_each_backend, spawn_app};
use serde_json::{Value, json};

async fn in_municipal_review(app: &TestApp) -> (String, i64) {
    let id = app.drafted("南关区申报").await;
    app.act("d220102", &id, "submit", Value::Null)
        .await
        .assert_ok();
    let version = app.version("c220100", &id).await;
    (id, version)
}

fn forward_request(app: &TestApp, token: &str, id: &str, version: i64) -> reqwest::RequestBuilder {
    app.client
        .post(app.url(&format!("/api/v1/cases/{id}/actions/forward")))
        .bearer_auth(token)
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"input": example("forward.json"), "comment": "同意报省"}))
}

async fn count_forwards(app: &TestApp, id: &str) -> usize {
    let h = app
        .get("admin", &format!("/api/v1/cases/{id}/history"))
        .await;
    h.body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "forward")
        .count()
}

async fn twenty_parallel_calls_with_one_version_give_one_success(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, version) = in_municipal_review(&app).await;
    let token = app.token("c220100").await;
    let calls = (0..20).map(|_| app.send(forward_request(&app, &token, &id, version)));
    let answers = futures_util::future::join_all(calls).await;
    let ok = answers.iter().filter(|a| a.status.as_u16() == 200).count();
    let conflicts: Vec<_> = answers
        .iter()
        .filter(|a| a.status.as_u16() == 409)
        .collect();
    assert_eq!(ok, 1, "{backend:?}");
    assert_eq!(conflicts.len(), 19, "{backend:?}");
    for c in conflicts {
        c.assert_problem(409, "version_conflict");
    }
    assert_eq!(count_forwards(&app, &id).await, 1);
    assert_eq!(app.version("admin", &id).await, version + 1);
    app.assert_histories_intact().await;
}
on_each_backend!(twenty_parallel_calls_with_one_version_give_one_success);

async fn the_same_idempotency_key_gives_one_event_and_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, version) = in_municipal_review(&app).await;
    let token = app.token("c220100").await;
    let keyed = || forward_request(&app, &token, &id, version).header("Idempotency-Key", "fwd-1");
    let first = app.send(keyed()).await;
    let second = app.send(keyed()).await;
    first.assert_ok();
    second.assert_ok();
    assert_eq!(first.body, second.body);
    assert_eq!(
        second
            .headers
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    assert_eq!(count_forwards(&app, &id).await, 1);

    // Twenty parallel retries of one keyed request all get the one answer.
    let (id2, version2) = in_municipal_review(&app).await;
    let calls = (0..20).map(|_| {
        app.send(forward_request(&app, &token, &id2, version2).header("Idempotency-Key", "fwd-2"))
    });
    let answers = futures_util::future::join_all(calls).await;
    for a in &answers {
        assert_eq!(
            a.status.as_u16(),
            200,
            "{backend:?}: {} (all: {:?})",
            a.text,
            answers
                .iter()
                .map(|a| a.status.as_u16())
                .collect::<Vec<_>>()
        );
        assert_eq!(a.body["version"], version2 + 1);
    }
    assert_eq!(count_forwards(&app, &id2).await, 1);

    // The key belongs to its first request: reusing it for another is refused.
    let other = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/cases/{id2}/actions/return")))
                .bearer_auth(&token)
                .header("If-Match", (version2 + 1).to_string())
                .header("Idempotency-Key", "fwd-2")
                .json(&json!({"input": example("return.json")})),
        )
        .await;
    other.assert_problem(422, "idempotency_key_reused");
}
on_each_backend!(the_same_idempotency_key_gives_one_event_and_the_same_answer);

async fn actions_need_the_current_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, version) = in_municipal_review(&app).await;
    let token = app.token("c220100").await;
    let missing = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/cases/{id}/actions/forward")))
                .bearer_auth(&token)
                .json(&json!({"input": example("forward.json")})),
        )
        .await;
    missing.assert_problem(428, "if_match_required");
    assert_eq!(missing.body["current_version"], version);
    let stale = app
        .send(forward_request(&app, &token, &id, version - 1))
        .await;
    stale.assert_problem(409, "version_conflict");
    assert_eq!(stale.body["current_version"], version);
    assert_eq!(count_forwards(&app, &id).await, 0);
}
on_each_backend!(actions_need_the_current_version);

async fn one_key_on_two_cases_at_once_is_refused_not_failed(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.token("c220100").await;
    for round in 0..5 {
        let (a, va) = in_municipal_review(&app).await;
        let (b, vb) = in_municipal_review(&app).await;
        let key = format!("shared-{round}");
        let (ra, rb) = tokio::join!(
            app.send(forward_request(&app, &token, &a, va).header("Idempotency-Key", &key)),
            app.send(forward_request(&app, &token, &b, vb).header("Idempotency-Key", &key)),
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 422],
            "{backend:?}: {} / {}",
            ra.text,
            rb.text
        );
        let refused = if ra.status.as_u16() == 422 { &ra } else { &rb };
        refused.assert_problem(422, "idempotency_key_reused");
        assert_eq!(
            count_forwards(&app, &a).await + count_forwards(&app, &b).await,
            1
        );
    }
    app.assert_histories_intact().await;
}
on_each_backend!(one_key_on_two_cases_at_once_is_refused_not_failed);

async fn two_servers_on_one_database_never_act_on_a_stale_case(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.second_server().await;

    // Server A writes the case last (and remembers it at that version) ...
    let (id, v) = in_municipal_review(&a).await;
    // ... then server B moves it on.
    b.act_at("c220100", &id, "forward", example("forward.json"), v)
        .await
        .assert_ok();
    // Acting on A at the old version is a conflict, not a second transition.
    a.act_at("c220100", &id, "return", example("return.json"), v)
        .await
        .assert_problem(409, "version_conflict");
    // At the new version A sees the case as B left it.
    let started = a
        .act_at(
            "admin",
            &id,
            "start_review",
            example("start_review.json"),
            v + 1,
        )
        .await;
    assert_eq!(started.assert_ok()["state"], "expert_review");
    assert_eq!(count_forwards(&a, &id).await, 1);
    assert_eq!(a.history_len(&id).await, 6);
}
on_each_backend!(two_servers_on_one_database_never_act_on_a_stale_case);

/// Decisions sent at once, two of them under one document number: the writer commits what
/// arrives together in one transaction, and the taken number fails only its own case.
async fn a_taken_document_number_fails_only_its_own_decision(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let id = app
            .in_expert_review(&format!("文号并发 {n}"), &["expert04", "expert10"])
            .await;
        for expert in ["expert04", "expert10"] {
            app.act(expert, &id, "score", example("score.json"))
                .await
                .assert_ok();
        }
        assert_eq!(app.state(&id).await, "decision", "{backend:?}");
        ids.push(id);
    }
    let token = app.token("admin").await;
    let mut requests = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let version = app.version("admin", id).await;
        let mut input = example("confirm.json");
        // Cases 0 and 1 share a number.
        input["document_number"] = json!(format!("吉民发〔2027〕{}号", 40 + n.max(1)));
        requests.push(
            app.client
                .post(app.url(&format!("/api/v1/cases/{id}/actions/confirm")))
                .bearer_auth(&token)
                .header("If-Match", version.to_string())
                .json(&json!({"input": input})),
        );
    }
    let answers = futures_util::future::join_all(requests.into_iter().map(|r| app.send(r))).await;
    let refused: Vec<usize> = (0..ids.len())
        .filter(|&i| answers[i].status.as_u16() != 200)
        .collect();
    assert_eq!(refused.len(), 1, "{backend:?}: {refused:?}");
    let loser = refused[0];
    assert!(loser < 2, "{backend:?}: only a shared number is refused");
    answers[loser].assert_problem(409, "document_number_taken");
    for (i, id) in ids.iter().enumerate() {
        let expected = if i == loser {
            "decision"
        } else {
            "in_experiment"
        };
        assert_eq!(app.state(id).await, expected, "{backend:?}: case {i}");
    }
    app.assert_histories_intact().await;
}
on_each_backend!(a_taken_document_number_fails_only_its_own_decision);

/// Saving a form and setting a panel name no version: they start from the case as this server
/// last wrote it, and when another server has moved it on since, from the database's.
async fn writes_without_a_version_build_on_another_servers_change(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.second_server().await;

    // A opens the case (and remembers it), B saves the first form, A the second.
    let created = a.create_case("d220102", "两台服务器的申报").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let v = created["version"].as_i64().unwrap();
    for (server, form) in [(&b, "application"), (&a, "experiment_plan")] {
        let saved = server
            .save_form("d220102", &id, form, example(&format!("forms/{form}.json")))
            .await;
        assert_eq!(saved.status.as_u16(), 200, "{backend:?}: {}", saved.text);
    }
    let case = b.get("d220102", &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case.body["version"], v + 2, "{backend:?}");
    assert_eq!(
        case.body["data"]["forms"],
        json!(["application", "experiment_plan"]),
        "{backend:?}: neither save is lost"
    );

    // A takes the case to expert review; B sets a panel; A sets another over it.
    for (user, action, input) in [
        ("d220102", "submit", Value::Null),
        ("c220100", "forward", example("forward.json")),
        ("admin", "start_review", example("start_review.json")),
    ] {
        a.act(user, &id, action, input).await.assert_ok();
    }
    b.set_panel(&id, &["expert04"]).await.assert_ok();
    let panel = a.set_panel(&id, &["expert04", "expert10"]).await;
    assert_eq!(panel.assert_ok()["version"], v + 7, "{backend:?}");
    for expert in ["expert04", "expert10"] {
        a.act(expert, &id, "score", example("score.json"))
            .await
            .assert_ok();
    }
    assert_eq!(a.state(&id).await, "decision", "{backend:?}");
    a.assert_histories_intact().await;
}
on_each_backend!(writes_without_a_version_build_on_another_servers_change);
