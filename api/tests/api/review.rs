//! Expert review over real HTTP on SQLite and PostgreSQL: recusal, blind scoring with drafts
//! and reopening, aggregation through the API, bulk assignment (balanced, recusal kept,
//! declined seats and replacements), the ranking in JSON, CSV and xlsx (read back), decisions
//! under numbered documents (duplicates refused, batches all or nothing), final acceptance
//! and the zone listing.

use crate::harness::{Backend, TestApp, example, on_each_backend, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Demo experts' units: 01–03 长春市, 04–06 吉林市, 07–09 延边州, 10–12 the province.
fn expert_unit(n: usize) -> &'static str {
    match n {
        1..=3 => "220100",
        4..=6 => "220200",
        7..=9 => "222400",
        _ => "220000",
    }
}

/// A sheet with these five criterion points (innovation, feasibility, foundation, guarantees,
/// demonstration).
fn sheet(points: [u32; 5]) -> Value {
    let mut s = example("score.json");
    s["scores"] = json!({
        "innovation": points[0], "feasibility": points[1], "foundation": points[2],
        "guarantees": points[3], "demonstration": points[4],
    });
    s
}

async fn recusal_is_refused_with_the_expert_and_the_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.in_expert_review("南关区申报", &["expert04"]).await;
    let before = app.history_len(&id).await;
    let refused = app.set_panel(&id, &["expert10", "expert01"]).await;
    refused.assert_problem(422, "recusal_required");
    assert_eq!(refused.pointers(), ["/experts/1"]);
    assert_eq!(refused.body["expert"], "expert01");
    assert_eq!(refused.body["reason"], "supervising_unit");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("expert01") && detail.contains("长春市") && detail.contains("南关区"),
        "{detail}"
    );
    assert_eq!(app.history_len(&id).await, before, "nothing written");
    let panel = app.get("admin", &format!("/api/v1/cases/{id}/panel")).await;
    let members: Vec<&str> = panel.assert_ok()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["expert04"]);
    // Recused experts are never offered as replacements either.
    let offered: Vec<&str> = panel.body["replacements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert!(
        !offered
            .iter()
            .any(|u| ["expert01", "expert02", "expert03"].contains(u)),
        "{offered:?}"
    );
    assert!(offered.contains(&"expert10"));
    // A declared conflict recuses too.
    app.call(
        "expert10",
        Method::POST,
        "/api/v1/experts/expert10/conflicts",
        Some(json!({"org_unit": "220102", "reason": "本人系南关区实验方案的起草顾问"})),
    )
    .await
    .assert_ok();
    let declared = app.set_panel(&id, &["expert10"]).await;
    declared.assert_problem(422, "recusal_required");
    assert_eq!(declared.body["reason"], "declared_conflict");
    // Only the expert itself or the province may declare.
    app.call(
        "expert11",
        Method::POST,
        "/api/v1/experts/expert10/conflicts",
        Some(json!({"org_unit": "220103", "reason": "代为声明"})),
    )
    .await
    .assert_problem(403, "forbidden");
}
on_each_backend!(recusal_is_refused_with_the_expert_and_the_reason);

async fn scoring_is_blind_and_independent(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .in_expert_review("南关区申报", &["expert04", "expert05", "expert10"])
        .await;
    let sheet_path = format!("/api/v1/cases/{id}/reviews/score/sheet");
    // A draft is saved even when incomplete, and says what it lacks.
    let draft = app
        .call(
            "expert04",
            Method::PUT,
            &sheet_path,
            Some(json!({"scores": {"innovation": 20}})),
        )
        .await;
    let body = draft.assert_ok();
    assert_eq!(body["status"], "draft");
    assert!(
        !body["errors"].as_array().unwrap().is_empty(),
        "{}",
        draft.text
    );
    assert_eq!(
        app.get("expert04", &sheet_path).await.body["sheet"]["scores"]["innovation"],
        20
    );
    // Others have no way to it: no sheet of theirs, no scores, no panel, no names in history.
    app.get("expert05", &sheet_path)
        .await
        .assert_problem(404, "form_not_saved");
    app.get("expert05", &format!("/api/v1/cases/{id}/scores"))
        .await
        .assert_problem(403, "forbidden");
    app.get("expert05", &format!("/api/v1/cases/{id}/panel"))
        .await
        .assert_problem(403, "forbidden");
    app.act("expert04", &id, "score", sheet([22, 21, 18, 13, 13]))
        .await
        .assert_ok();
    let seen = app
        .get("expert05", &format!("/api/v1/cases/{id}/history"))
        .await;
    let text = seen.text.clone();
    assert!(seen.status.is_success(), "{text}");
    assert!(
        !text.contains("expert04") && !text.contains("expert10"),
        "{text}"
    );
    assert!(
        !seen
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "assigned"),
        "{text}"
    );
    // The province sees every name.
    let all = app
        .get("admin", &format!("/api/v1/cases/{id}/history"))
        .await;
    assert!(all.text.contains("expert04"));
    // An unassigned expert does not learn that the case exists.
    for path in [
        format!("/api/v1/cases/{id}"),
        format!("/api/v1/cases/{id}/scores"),
        sheet_path.clone(),
        format!("/api/v1/cases/{id}/history"),
    ] {
        app.get("expert06", &path)
            .await
            .assert_problem(404, "case_not_found");
    }
    // Submitted once: no second sheet, no more drafts.
    app.act("expert04", &id, "score", sheet([1, 1, 1, 1, 1]))
        .await
        .assert_problem(409, "already_submitted");
    app.call(
        "expert04",
        Method::PUT,
        &sheet_path,
        Some(sheet([1, 1, 1, 1, 1])),
    )
    .await
    .assert_problem(409, "already_submitted");
    let mine = app.get("expert04", &sheet_path).await;
    assert_eq!(mine.assert_ok()["status"], "submitted");
    assert_eq!(mine.body["sheet"]["scores"]["innovation"], 22);

    // While open the province sees the sheet so far and an incomplete review.
    let open = app
        .get("admin", &format!("/api/v1/cases/{id}/scores"))
        .await;
    let open = open.assert_ok();
    assert_eq!(open["submitted"], 1);
    assert_eq!(open["assigned"], 3);
    assert_eq!(open["complete"], false);
    assert!(
        open["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("incomplete"))
    );
    let panel = app.get("admin", &format!("/api/v1/cases/{id}/panel")).await;
    let sheets: BTreeMap<String, String> = panel.assert_ok()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["username"].as_str().unwrap().to_owned(),
                m["sheets"]["score"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(sheets["expert04"], "submitted");
    assert_eq!(sheets["expert05"], "pending");
}
on_each_backend!(scoring_is_blind_and_independent);

/// Three sheets far apart: the province's aggregate, its dispersion flag, and a sheet reopened
/// by the province and submitted again.
async fn the_province_aggregates_the_sheets_and_reopens_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .in_expert_review("南关区申报", &["expert04", "expert05", "expert10"])
        .await;
    let sheet_path = format!("/api/v1/cases/{id}/reviews/score/sheet");
    app.act("expert04", &id, "score", sheet([22, 21, 18, 13, 13]))
        .await
        .assert_ok();
    app.act("expert05", &id, "score", sheet([12, 12, 10, 8, 8]))
        .await
        .assert_ok();
    let done = app
        .act("expert10", &id, "score", sheet([20, 20, 16, 12, 12]))
        .await;
    assert_eq!(done.assert_ok()["state"], "decision");
    let scores = app
        .get("admin", &format!("/api/v1/cases/{id}/scores"))
        .await;
    let s = scores.assert_ok();
    // Three sheets (87, 50, 80): fewer than five, so the trimmed mean drops nothing.
    assert!((s["aggregate"]["score"].as_f64().unwrap() - 217.0 / 3.0).abs() < 1e-9);
    assert_eq!(s["aggregate"]["counted"], 3);
    assert_eq!(s["aggregate"]["spread"], 37.0);
    assert_eq!(s["complete"], true);
    // 87 − 50 = 37 points apart, beyond the workflow's 20: flagged.
    assert_eq!(s["flags"], json!(["dispersed"]));
    let by_expert: BTreeMap<&str, f64> = s["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["expert"].as_str().unwrap(), x["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(by_expert["expert05"], 50.0);

    // Reopening is the province's act, with a reason; the review opens again.
    let reopen = format!("/api/v1/cases/{id}/reviews/score/reopen");
    app.call(
        "expert10",
        Method::POST,
        &reopen,
        Some(json!({"expert": "expert05", "reason": "分数录入有误"})),
    )
    .await
    .assert_problem(403, "action_not_allowed");
    app.call(
        "admin",
        Method::POST,
        &reopen,
        Some(json!({"expert": "expert05", "reason": ""})),
    )
    .await
    .assert_problem(422, "invalid_input");
    let reopened = app
        .call(
            "admin",
            Method::POST,
            &reopen,
            Some(json!({"expert": "expert05", "reason": "第三项分数录入有误,请核对后重新提交"})),
        )
        .await;
    assert_eq!(reopened.assert_ok()["state"], "expert_review");
    let history = app
        .get("admin", &format!("/api/v1/cases/{id}/history"))
        .await;
    assert!(
        history
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "sheet_reopened"
                && e["actor"] == "admin"
                && e["from"] == "decision"
                && e["to"] == "expert_review"),
        "{}",
        history.text
    );
    // The expert finds its sheet back as a draft and submits it again.
    let back = app.get("expert05", &sheet_path).await;
    assert_eq!(back.assert_ok()["status"], "draft");
    assert_eq!(back.body["sheet"]["scores"]["foundation"], 10);
    app.act("expert05", &id, "score", sheet([12, 12, 16, 8, 8]))
        .await
        .assert_ok();
    assert_eq!(app.state(&id).await, "decision");
    app.assert_histories_intact().await;
}
on_each_backend!(the_province_aggregates_the_sheets_and_reopens_one);

/// Districts of three cities and their city reviewers.
const DISTRICTS: [(&str, &str); 8] = [
    ("d220102", "c220100"),
    ("d220103", "c220100"),
    ("d220104", "c220100"),
    ("d220202", "c220200"),
    ("d220203", "c220200"),
    ("d222401", "c222400"),
    ("d222402", "c222400"),
    ("d220302", "c220300"),
];

/// A case of each of `DISTRICTS`, in that order, waiting for its panel.
async fn round_awaiting_panels(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for (district, city) in DISTRICTS {
        ids.push(
            app.awaiting_panel(district, city, &format!("{district}申报"))
                .await,
        );
    }
    ids
}

/// The province sets the round's panels in one call, three experts a case; its report.
async fn assign_panels(app: &TestApp) -> Value {
    let bulk = app
        .call(
            "admin",
            Method::POST,
            "/api/v1/rounds/2027/panels",
            Some(json!({"workflow": "pilot-zone", "experts_per_case": 3})),
        )
        .await;
    let report = bulk.assert_ok().clone();
    assert_eq!(report["cases"].as_array().unwrap().len(), 8);
    report
}

/// Everyone on each case's panel scores it: the case's position in `ids` sets its points.
/// The score each case must then have, in the order of `ids`.
async fn score_round(app: &TestApp, ids: &[String]) -> Vec<f64> {
    let mut expected_scores = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let panel = app.get("admin", &format!("/api/v1/cases/{id}/panel")).await;
        let experts: Vec<String> = panel.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["username"].as_str().unwrap().to_owned())
            .collect();
        let base = 10 + (i as u32 % 4) * 2;
        for e in &experts {
            app.act(e, id, "score", sheet([base, base, base, 8, 8]))
                .await
                .assert_ok();
        }
        expected_scores.push(f64::from(base * 3 + 16));
        assert_eq!(app.state(id).await, "decision");
    }
    expected_scores
}

/// The round's eight cases with their panels set in bulk and every sheet in, so each waits
/// for the province's decision: their ids and the scores they must have.
async fn scored_round(app: &TestApp) -> (Vec<String>, Vec<f64>) {
    let ids = round_awaiting_panels(app).await;
    assign_panels(app).await;
    let expected_scores = score_round(app, &ids).await;
    (ids, expected_scores)
}

/// Bulk assignment: balanced, no expert of the case's own city, nothing left for a second
/// run; an expert declining a seat with a conflict, its replacement, and the conflict kept.
async fn a_round_gets_balanced_panels_and_a_declined_seat_is_refilled(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = round_awaiting_panels(&app).await;
    let report = assign_panels(&app).await;
    // 24 seats over 12 experts: two each.
    let loads: Vec<u64> = report["loads"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(loads.len(), 12);
    assert!(loads.iter().all(|&n| n == 2), "{loads:?}");
    for c in report["cases"].as_array().unwrap() {
        let i = ids.iter().position(|id| *id == c["case_id"]).unwrap();
        let unit = &DISTRICTS[i].0[1..];
        let city = format!("{}00", &unit[..4]);
        let experts: Vec<&str> = c["experts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(experts.len(), 3);
        for e in &experts {
            let n: usize = e[6..].parse().unwrap();
            assert_ne!(
                expert_unit(n),
                city,
                "{e} reviews a case of its own city {city}"
            );
            assert_ne!(expert_unit(n), unit);
        }
        // The panel is what the case says, and the expert sees the case.
        let panel = app
            .get(
                "admin",
                &format!("/api/v1/cases/{}/panel", c["case_id"].as_str().unwrap()),
            )
            .await;
        let members: BTreeSet<&str> = panel.assert_ok()["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["username"].as_str().unwrap())
            .collect();
        assert_eq!(members, experts.iter().copied().collect());
        app.get(
            experts[0],
            &format!("/api/v1/cases/{}", c["case_id"].as_str().unwrap()),
        )
        .await
        .assert_ok();
    }
    // Nothing is left to assign: a second run assigns none.
    let again = app
        .call(
            "admin",
            Method::POST,
            "/api/v1/rounds/2027/panels",
            Some(json!({"workflow": "pilot-zone"})),
        )
        .await;
    assert_eq!(again.assert_ok()["cases"].as_array().unwrap().len(), 0);

    // An expert steps down citing a conflict; the province is offered replacements.
    let first = &report["cases"][0];
    let first_id = first["case_id"].as_str().unwrap().to_owned();
    let leaving = first["experts"][0].as_str().unwrap().to_owned();
    app.call(
        &leaving,
        Method::POST,
        &format!("/api/v1/cases/{first_id}/panel/decline"),
        Some(json!({"reason": "本人曾为该区实验方案提供咨询", "conflict": true})),
    )
    .await
    .assert_ok();
    app.get(&leaving, &format!("/api/v1/cases/{first_id}"))
        .await
        .assert_problem(404, "case_not_found");
    let panel = app
        .get("admin", &format!("/api/v1/cases/{first_id}/panel"))
        .await;
    let p = panel.assert_ok();
    assert_eq!(p["members"].as_array().unwrap().len(), 2);
    assert_eq!(p["declined"][0]["username"], leaving.as_str());
    assert!(
        p["declined"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("咨询")
    );
    let replacement = p["replacements"][0]["username"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(replacement, leaving);
    let mut members: Vec<String> = p["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap().to_owned())
        .collect();
    members.push(replacement.clone());
    let names: Vec<&str> = members.iter().map(String::as_str).collect();
    app.set_panel(&first_id, &names).await.assert_ok();
    // The declared conflict now recuses the expert from that district.
    app.set_panel(&first_id, &[names[0], names[1], leaving.as_str()])
        .await
        .assert_problem(422, "recusal_required");

    // Everyone scores, the replacement too: every review completes.
    score_round(&app, &ids).await;
    app.assert_histories_intact().await;
}
on_each_backend!(a_round_gets_balanced_panels_and_a_declined_seat_is_refilled);

/// The ranking of a scored round, sorted with competition ranks, for the province only; in
/// CSV and in xlsx (read back row by row).
async fn a_scored_round_is_ranked_in_json_csv_and_xlsx(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ids, expected_scores) = scored_round(&app).await;
    let ranking = app
        .get("admin", "/api/v1/rounds/2027/ranking?workflow=pilot-zone")
        .await;
    let r = ranking.assert_ok();
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    let mut previous = f64::INFINITY;
    for item in items {
        let score = item["score"].as_f64().unwrap();
        assert!(score <= previous, "sorted by score");
        previous = score;
        let i = ids
            .iter()
            .position(|id| id == item["case_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(score, expected_scores[i]);
        let better = expected_scores.iter().filter(|s| **s > score).count() as u64;
        assert_eq!(item["rank"], better + 1, "competition ranking");
    }
    app.get("c220100", "/api/v1/rounds/2027/ranking?workflow=pilot-zone")
        .await
        .assert_problem(403, "forbidden");

    // CSV with a byte-order mark and Chinese headings.
    let csv = app
        .get(
            "admin",
            "/api/v1/rounds/2027/ranking?workflow=pilot-zone&format=csv",
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    let text = csv.text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("排名,申报单位,所属市州,案件名称,综合得分")
    );
    assert_eq!(lines.count(), 8);

    // The xlsx read back: its rows are the ranking's.
    let token = app.token("admin").await;
    let bytes = app
        .client
        .get(app.url("/api/v1/rounds/2027/ranking?workflow=pilot-zone&format=xlsx"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet_name = book.sheet_names()[0].clone();
    assert_eq!(sheet_name, "2027年度排名");
    let range = book.worksheet_range(&sheet_name).unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert!(rows[0][0].contains("评审排名"), "{:?}", rows[0]);
    assert_eq!(rows[1][0], "排名");
    assert_eq!(rows[1][4], "综合得分");
    assert_eq!(rows.len(), 2 + items.len());
    for (row, item) in rows[2..].iter().zip(items) {
        assert_eq!(row[0], item["rank"].to_string());
        assert_eq!(row[1], item["org_unit_name"].as_str().unwrap());
        assert_eq!(row[3], item["title"].as_str().unwrap());
        assert_eq!(
            row[4].parse::<f64>().unwrap(),
            item["score"].as_f64().unwrap()
        );
    }
    app.assert_histories_intact().await;
}
on_each_backend!(a_scored_round_is_ranked_in_json_csv_and_xlsx);

/// Decisions under numbered documents: several cases in one call, a number used once only
/// (by a batch or a single action), a batch all or nothing, rejections with their reasons.
async fn decisions_take_each_document_number_once_and_batches_all_or_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ids, _) = scored_round(&app).await;

    // Decisions: two cases under one document, in one call.
    let version = |id: String| {
        let app = &app;
        async move { app.version("admin", &id).await }
    };
    let (a, b, c) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let decided = app
        .call(
            "admin",
            Method::POST,
            "/api/v1/decisions",
            Some(json!({
                "workflow": "pilot-zone", "action": "confirm",
                "document_number": "吉民发〔2027〕21号",
                "input": {"decided_on": "2027-11-26"},
                "cases": [{"id": a, "version": version(a.clone()).await},
                          {"id": b, "version": version(b.clone()).await}],
            })),
        )
        .await;
    let d = decided.assert_ok();
    assert_eq!(d["cases"].as_array().unwrap().len(), 2);
    for id in [&a, &b] {
        let case = app.get("d220102", &format!("/api/v1/cases/{id}")).await;
        if case.status == StatusCode::OK {
            assert_eq!(
                case.body["data"]["variables"]["document_number"],
                "吉民发〔2027〕21号"
            );
        }
        assert_eq!(app.state(id).await, "in_experiment");
    }
    // A number once used is refused, by the batch and by the single action alike.
    let before = app.history_len(&c).await;
    app.call(
        "admin",
        Method::POST,
        "/api/v1/decisions",
        Some(json!({
            "workflow": "pilot-zone", "action": "confirm",
            "document_number": "吉民发〔2027〕21号",
            "input": {"decided_on": "2027-11-27"},
            "cases": [{"id": c, "version": version(c.clone()).await}],
        })),
    )
    .await
    .assert_problem(409, "document_number_taken");
    let mut input = example("confirm.json");
    input["document_number"] = json!("吉民发〔2027〕21号");
    app.act("admin", &c, "confirm", input)
        .await
        .assert_problem(409, "document_number_taken");
    assert_eq!(app.history_len(&c).await, before, "nothing written");
    assert_eq!(app.state(&c).await, "decision");
    // A pattern the schema refuses names the field.
    let mut bad = example("confirm.json");
    bad["document_number"] = json!("2027-21");
    let refused = app.act("admin", &c, "confirm", bad).await;
    refused.assert_problem(422, "invalid_input");
    assert_eq!(refused.pointers(), ["/document_number"]);

    // A batch with one case that cannot take the decision changes nothing.
    let (e, f) = (ids[4].clone(), ids[5].clone());
    let bad_batch = app
        .call(
            "admin",
            Method::POST,
            "/api/v1/decisions",
            Some(json!({
                "workflow": "pilot-zone", "action": "confirm",
                "document_number": "吉民发〔2027〕22号",
                "input": {"decided_on": "2027-11-27"},
                "cases": [{"id": e, "version": version(e.clone()).await},
                          {"id": a, "version": version(a.clone()).await}],
            })),
        )
        .await;
    bad_batch.assert_problem(422, "decision_refused");
    assert_eq!(bad_batch.pointers(), ["/cases/1"]);
    assert_eq!(app.state(&e).await, "decision");
    // …and leaves its document number unused.
    let rejected = app
        .call(
            "admin",
            Method::POST,
            "/api/v1/decisions",
            Some(json!({
                "workflow": "pilot-zone", "action": "reject",
                "document_number": "吉民发〔2027〕22号",
                "input": {"reasons": "实验方案与本地实际结合不够紧密,主要目标缺乏可衡量的指标。"},
                "cases": [{"id": e, "version": version(e.clone()).await},
                          {"id": f, "version": version(f.clone()).await,
                           "input": {"reasons": "经费保障措施不明确,经专家评审未达到认定标准。"}}],
            })),
        )
        .await;
    rejected.assert_ok();
    // The district and its city read the reasons.
    let seen = app.get("d222401", &format!("/api/v1/cases/{f}")).await;
    assert_eq!(seen.assert_ok()["state"], "rejected");
    assert!(
        seen.body["data"]["variables"]["rejection_reasons"]
            .as_str()
            .unwrap()
            .contains("经费保障")
    );
    let by_city = app.get("c220200", &format!("/api/v1/cases/{e}")).await;
    assert!(
        by_city.assert_ok()["data"]["variables"]["rejection_reasons"]
            .as_str()
            .unwrap()
            .contains("可衡量")
    );
    app.assert_histories_intact().await;
}
on_each_backend!(decisions_take_each_document_number_once_and_batches_all_or_nothing);

async fn final_acceptance_titles_the_zone_for_everyone_to_see(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .in_expert_review("南关区申报", &["expert04", "expert10"])
        .await;
    for e in ["expert04", "expert10"] {
        app.act(e, &id, "score", example("score.json"))
            .await
            .assert_ok();
    }
    app.act("admin", &id, "confirm", example("confirm.json"))
        .await
        .assert_ok();
    let zones = app
        .get("d220202", "/api/v1/zones?workflow=pilot-zone")
        .await;
    let listed = zones.assert_ok()["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "实验中");
    assert_eq!(listed[0]["org_unit_name"], "南关区");
    assert_eq!(listed[0]["fields"]["document_number"], "吉民发〔2027〕12号");

    app.save_form(
        "d220102",
        &id,
        "final_report",
        example("forms/final_report.json"),
    )
    .await
    .assert_ok();
    app.act("d220102", &id, "submit_final_report", Value::Null)
        .await
        .assert_ok();
    assert_eq!(app.state(&id).await, "acceptance_review");
    // The same recusal holds for the acceptance panel.
    app.set_panel(&id, &["expert02"])
        .await
        .assert_problem(422, "recusal_required");
    app.set_panel(&id, &["expert05", "expert11"])
        .await
        .assert_ok();
    let mut low = example("acceptance_score.json");
    low["scores"] = json!({"goal_achievement": 15, "innovation_results": 10,
        "institutionalisation": 10, "resident_satisfaction": 5, "replicability": 5});
    app.act(
        "expert05",
        &id,
        "acceptance_score",
        example("acceptance_score.json"),
    )
    .await
    .assert_ok();
    app.act("expert11", &id, "acceptance_score", low)
        .await
        .assert_ok();
    assert_eq!(app.state(&id).await, "acceptance_decision");
    let scores = app
        .get(
            "admin",
            &format!("/api/v1/cases/{id}/scores?action=acceptance_score"),
        )
        .await;
    let s = scores.assert_ok();
    assert_eq!(s["action"], "acceptance_score");
    // Weighted totals: 89 and 45 (weights in proportion to the maxima), mean 67.
    assert_eq!(s["aggregate"]["method"], "weighted_total");
    assert!(
        (s["aggregate"]["score"].as_f64().unwrap() - 67.0).abs() < 1e-9,
        "{}",
        scores.text
    );
    assert_eq!(s["flags"], json!(["dispersed"]));
    // The application review's scores are kept beside the acceptance's.
    let first = app
        .get("admin", &format!("/api/v1/cases/{id}/scores"))
        .await;
    assert_eq!(first.assert_ok()["action"], "score");
    assert_eq!(first.body["submitted"], 2);

    app.act("admin", &id, "pass", example("pass.json"))
        .await
        .assert_ok();
    let zones = app.get("expert07", "/api/v1/zones").await;
    let z = &zones.assert_ok()["items"][0];
    assert_eq!(z["status"], "已授牌");
    assert_eq!(z["state"], "titled");
    assert_eq!(z["fields"]["recommended_national"], true);
    app.assert_histories_intact().await;
}
on_each_backend!(final_acceptance_titles_the_zone_for_everyone_to_see);

async fn the_expert_pool_shows_fields_conflicts_and_load(backend: Backend) {
    let app = spawn_app(backend).await;
    app.in_expert_review("南关区申报", &["expert04", "expert10"])
        .await;
    let pool = app.get("admin", "/api/v1/experts").await;
    let p = pool.assert_ok();
    assert_eq!(p["fields"]["party_building"], "创新社区党建工作");
    let experts = p["experts"].as_array().unwrap();
    assert_eq!(experts.len(), 12);
    let e04 = experts
        .iter()
        .find(|e| e["username"] == "expert04")
        .unwrap();
    assert_eq!(e04["org_unit_name"], "吉林市");
    assert_eq!(e04["load"], 1);
    assert_eq!(e04["expertise"].as_array().unwrap().len(), 2);
    app.get("d220102", "/api/v1/experts")
        .await
        .assert_problem(403, "forbidden");
    // Fields of expertise are checked against the workflows'.
    let bad = app
        .call(
            "admin",
            Method::PATCH,
            "/api/v1/users/expert04",
            Some(json!({"expertise": ["party_building", "astrology"]})),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.pointers(), ["/expertise/1"]);
    let ok = app
        .call(
            "admin",
            Method::PATCH,
            "/api/v1/users/expert04",
            Some(json!({"expertise": ["party_building"]})),
        )
        .await;
    assert_eq!(ok.assert_ok()["expertise"], json!(["party_building"]));
}
on_each_backend!(the_expert_pool_shows_fields_conflicts_and_load);
