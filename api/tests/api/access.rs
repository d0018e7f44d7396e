//! The access matrix, table-driven: every kind of caller × (list, get, act) × its relation to
//! the case. A case the caller may not see answers 404; an action it may not take on a case it
//! can see answers 403.

use crate::harness::{Answer, Backend, TestApp, example, on_each_backend, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// One caller and what it may do with a case of 南关区 (220102, under 长春市 220100).
struct Row {
    user: &'static str,
    relation: &'static str,
    sees: bool,
    /// Status of `forward` while the case is in municipal review.
    forward: u16,
    /// Status of `score` while the case is in expert review with expert04 on the panel.
    score: u16,
}

const MATRIX: &[Row] = &[
    Row {
        user: "d220103",
        relation: "sibling district",
        sees: false,
        forward: 404,
        score: 404,
    },
    Row {
        user: "d220202",
        relation: "unrelated district",
        sees: false,
        forward: 404,
        score: 404,
    },
    Row {
        user: "c220200",
        relation: "unrelated city",
        sees: false,
        forward: 404,
        score: 404,
    },
    Row {
        user: "expert05",
        relation: "unassigned expert",
        sees: false,
        forward: 404,
        score: 404,
    },
    Row {
        user: "d220102",
        relation: "own district",
        sees: true,
        forward: 403,
        score: 403,
    },
    Row {
        user: "admin",
        relation: "province",
        sees: true,
        forward: 403,
        score: 403,
    },
    // The permitted callers come last: their action changes the case.
    Row {
        user: "c220100",
        relation: "parent city",
        sees: true,
        forward: 200,
        score: 403,
    },
    Row {
        user: "expert04",
        relation: "assigned expert",
        sees: true,
        forward: 404,
        score: 200,
    },
];

async fn listed(app: &TestApp, user: &str, id: &str) -> bool {
    let a = app.get(user, "/api/v1/cases?per_page=100").await;
    a.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id)
}

async fn check_matrix(app: &TestApp) {
    // Case 1 waits for the city; expert04 is on no panel yet.
    let review = app.drafted("南关区申报(市州审核)").await;
    app.act("d220102", &review, "submit", Value::Null)
        .await
        .assert_ok();
    // Case 2 waits for the experts' scores, with expert04 on its panel.
    let scoring = app
        .in_expert_review("南关区申报(专家评审)", &["expert04"])
        .await;

    for row in MATRIX {
        let who = format!("{} ({}) on {:?}", row.user, row.relation, app.backend);
        assert_eq!(
            listed(app, row.user, &scoring).await,
            row.sees,
            "list: {who}"
        );
        let got = app.get(row.user, &format!("/api/v1/cases/{scoring}")).await;
        if row.sees {
            got.assert_ok();
        } else {
            got.assert_problem(404, "case_not_found");
        }
        let history = app
            .get(row.user, &format!("/api/v1/cases/{scoring}/history"))
            .await;
        assert_eq!(
            history.status.as_u16(),
            if row.sees { 200 } else { 404 },
            "history: {who}"
        );

        let forward = app
            .act(row.user, &review, "forward", example("forward.json"))
            .await;
        assert_eq!(
            forward.status.as_u16(),
            row.forward,
            "forward: {who}: {}",
            forward.text
        );
        let score = app
            .act(row.user, &scoring, "score", example("score.json"))
            .await;
        assert_eq!(
            score.status.as_u16(),
            row.score,
            "score: {who}: {}",
            score.text
        );
        match row.forward {
            403 => assert_eq!(forward.code(), "action_not_allowed", "{who}"),
            404 => assert_eq!(forward.code(), "case_not_found", "{who}"),
            _ => {}
        }
    }
    assert_eq!(app.state(&review).await, "provincial_check");
    assert_eq!(app.state(&scoring).await, "decision");
}

async fn every_role_sees_and_acts_only_within_its_jurisdiction(backend: Backend) {
    let app = spawn_app(backend).await;
    check_matrix(&app).await;
}
on_each_backend!(every_role_sees_and_acts_only_within_its_jurisdiction);

async fn available_actions_are_those_of_the_caller(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.drafted("南关区申报").await;
    app.act("d220102", &id, "submit", Value::Null)
        .await
        .assert_ok();
    let names = |a: &Answer| -> Vec<String> {
        a.body["available_actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let city = app.get("c220100", &format!("/api/v1/cases/{id}")).await;
    assert_eq!(names(&city), ["set_city_cutoff", "return", "forward"]);
    let district = app.get("d220102", &format!("/api/v1/cases/{id}")).await;
    assert!(names(&district).is_empty(), "{}", district.text);
    let province = app.get("admin", &format!("/api/v1/cases/{id}")).await;
    assert!(names(&province).is_empty(), "{}", province.text);
}
on_each_backend!(available_actions_are_those_of_the_caller);

async fn cases_are_opened_only_for_units_the_caller_applies_for(backend: Backend) {
    let app = spawn_app(backend).await;
    let create = |user: &'static str, body: Value| {
        let app = &app;
        async move {
            app.call(user, Method::POST, "/api/v1/cases", Some(body))
                .await
        }
    };
    // A district for a sibling district: outside its jurisdiction.
    create(
        "d220102",
        json!({"workflow": "pilot-zone", "title": "x", "org_unit": "220103"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    // A city reviews; it does not apply for its districts.
    create(
        "c220100",
        json!({"workflow": "pilot-zone", "title": "x", "org_unit": "220102"}),
    )
    .await
    .assert_problem(403, "forbidden");
    // An expert applies for nothing.
    create("expert01", json!({"workflow": "pilot-zone", "title": "x"}))
        .await
        .assert_problem(422, "validation_failed");
    // 长白朝鲜族自治县 is already a national zone.
    let national = create(
        "d220623",
        json!({"workflow": "pilot-zone", "title": "长白县申报"}),
    )
    .await;
    national.assert_problem(422, "not_eligible");
    assert!(
        national.body["detail"]
            .as_str()
            .unwrap()
            .contains("全国实验区")
    );
    let total = app.get("admin", "/api/v1/cases").await.body["total"].as_u64();
    assert_eq!(total, Some(0));
}
on_each_backend!(cases_are_opened_only_for_units_the_caller_applies_for);

async fn lists_filter_and_paginate_within_the_callers_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    for (user, title) in [
        ("d220102", "南关区甲"),
        ("d220102", "南关区乙"),
        ("d220103", "宽城区甲"),
        ("d220202", "昌邑区甲"),
    ] {
        app.create_case(user, title).await;
    }
    let total = |a: Answer| a.body["total"].as_u64().unwrap();
    assert_eq!(total(app.get("admin", "/api/v1/cases").await), 4);
    assert_eq!(total(app.get("c220100", "/api/v1/cases").await), 3);
    assert_eq!(total(app.get("c220200", "/api/v1/cases").await), 1);
    assert_eq!(total(app.get("d220102", "/api/v1/cases").await), 2);
    assert_eq!(total(app.get("expert01", "/api/v1/cases").await), 0);
    assert_eq!(
        total(app.get("c220100", "/api/v1/cases?org_unit=220103").await),
        1
    );
    assert_eq!(
        total(app.get("c220100", "/api/v1/cases?org_unit=220202").await),
        0
    );
    assert_eq!(total(app.get("admin", "/api/v1/cases?q=南关").await), 2);
    assert_eq!(
        total(
            app.get("admin", "/api/v1/cases?state=draft&round=2027")
                .await
        ),
        4
    );
    assert_eq!(
        total(
            app.get("admin", "/api/v1/cases?state=municipal_review")
                .await
        ),
        0
    );
    let page = app.get("admin", "/api/v1/cases?per_page=3&page=2").await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["total"], 4);
    app.get("admin", "/api/v1/cases?per_page=0")
        .await
        .assert_problem(422, "validation_failed");
    app.get("admin", "/api/v1/cases?page=abc")
        .await
        .assert_problem(400, "invalid_query");
}
on_each_backend!(lists_filter_and_paginate_within_the_callers_scope);
