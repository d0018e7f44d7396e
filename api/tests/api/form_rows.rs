//! Saved forms are rows of their own: the case row's snapshot holds none, a form is written
//! only by the save that applied, and a database from before keeps its forms through the
//! migration.

use crate::harness::entities::{case, case_form};
use crate::harness::{Answer, Backend, Store, TestApp, example, on_each_backend, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// The case row's snapshot, parsed.
async fn stored_snapshot(store: &Store, id: &str) -> Value {
    let row = case::Entity::find_by_id(id.to_owned())
        .one(&store.read)
        .await
        .unwrap()
        .expect("case row");
    serde_json::from_str(&row.snapshot).unwrap()
}

/// The case's form rows, by name.
async fn form_rows(store: &Store, id: &str) -> Vec<(String, Value)> {
    let mut rows: Vec<(String, Value)> = case_form::Entity::find()
        .filter(case_form::Column::CaseId.eq(id))
        .all(&store.read)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.name, serde_json::from_str(&f.body).unwrap()))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn both_forms() -> Vec<(String, Value)> {
    ["application", "experiment_plan"]
        .into_iter()
        .map(|f| (f.to_owned(), example(&format!("forms/{f}.json"))))
        .collect()
}

async fn get_form(app: &TestApp, id: &str, form: &str) -> Value {
    let a = app
        .get("d220102", &format!("/api/v1/cases/{id}/forms/{form}"))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body
}

/// Another server on the same database, which has never seen the case and so reads it from
/// the rows, after checking it serves both forms as saved.
async fn cold_server_with_both_forms(app: &TestApp, id: &str) -> TestApp {
    let cold = app.second_server().await;
    for (form, doc) in both_forms() {
        assert_eq!(
            get_form(&cold, id, &form).await,
            doc,
            "{:?} {form}",
            app.backend
        );
    }
    cold
}

async fn forms_are_stored_once_apart_from_the_case_and_read_back_after_later_steps(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let id = app.submitted("南关区申报").await;
    app.act("c220100", &id, "forward", example("forward.json"))
        .await
        .assert_ok();

    let db = app.store().await;
    let snapshot = stored_snapshot(&db, &id).await;
    assert_eq!(snapshot["state"], "provincial_check", "{backend:?}");
    assert_eq!(
        snapshot.get("forms"),
        None,
        "{backend:?}: no forms in the row"
    );
    assert_eq!(form_rows(&db, &id).await, both_forms(), "{backend:?}");

    let cold = cold_server_with_both_forms(&app, &id).await;
    let page = cold.get("d220102", &format!("/api/v1/cases/{id}")).await;
    assert_eq!(
        page.assert_ok()["data"]["forms"],
        json!(["application", "experiment_plan"]),
        "{backend:?}"
    );
    app.assert_histories_intact().await;
}
on_each_backend!(forms_are_stored_once_apart_from_the_case_and_read_back_after_later_steps);

/// Saves the application form, at `version` if given (`If-Match`).
async fn save_application(server: &TestApp, id: &str, doc: &Value, version: Option<i64>) -> Answer {
    let token = server.token("d220102").await;
    let mut req = server
        .client
        .put(server.url(&format!("/api/v1/cases/{id}/forms/application")))
        .bearer_auth(token)
        .json(doc);
    if let Some(v) = version {
        req = req.header("If-Match", v.to_string());
    }
    server.send(req).await
}

async fn a_form_save_refused_at_its_version_leaves_the_stored_form_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_case("d220102", "南关区申报").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let first = json!({"unit_name": "第一稿"});
    let second = json!({"unit_name": "第二稿"});
    let stale = json!({"unit_name": "过时的稿"});
    // This server caches the case at the version its save made.
    let v = save_application(&app, &id, &first, None).await.assert_ok()["version"]
        .as_i64()
        .unwrap();
    // Another server moves the case on.
    let other = app.second_server().await;
    save_application(&other, &id, &second, Some(v))
        .await
        .assert_ok();
    // The first server still holds the older version: its write is refused in the store.
    save_application(&app, &id, &stale, Some(v))
        .await
        .assert_problem(409, "version_conflict");

    let db = app.store().await;
    assert_eq!(
        form_rows(&db, &id).await,
        vec![("application".to_owned(), second.clone())],
        "{backend:?}"
    );
    assert_eq!(get_form(&other, &id, "application").await, second);
    app.assert_histories_intact().await;
}
on_each_backend!(a_form_save_refused_at_its_version_leaves_the_stored_form_alone);

/// A database written before forms had rows of their own: the migration moves each
/// snapshot's forms into rows, and the case goes on from there.
async fn the_migration_moves_the_forms_of_an_older_database_into_rows(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.submitted("南关区申报").await;
    let db = app.store().await;

    // Back to the shape before: the forms inside the snapshot, no form rows.
    let mut old = stored_snapshot(&db, &id).await;
    old["forms"] = Value::Object(both_forms().into_iter().collect());
    let conn = &db.write;
    let kind = conn.get_database_backend();
    conn.execute_unprepared("DROP TABLE case_forms")
        .await
        .unwrap();
    conn.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = 'm20261203_000008_forms_apart'",
    )
    .await
    .unwrap();
    let sql = if kind == sea_orm::DbBackend::Postgres {
        "UPDATE cases SET snapshot = $1 WHERE id = $2"
    } else {
        "UPDATE cases SET snapshot = ? WHERE id = ?"
    };
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        kind,
        sql,
        [old.to_string().into(), id.clone().into()],
    ))
    .await
    .unwrap();

    db.migrate().await.unwrap();

    old.as_object_mut().unwrap().remove("forms");
    assert_eq!(
        stored_snapshot(&db, &id).await,
        old,
        "{backend:?}: the snapshot as it was, less its forms"
    );
    assert_eq!(form_rows(&db, &id).await, both_forms(), "{backend:?}");

    let cold = cold_server_with_both_forms(&app, &id).await;
    cold.act("c220100", &id, "forward", example("forward.json"))
        .await
        .assert_ok();
    app.assert_histories_intact().await;
}
on_each_backend!(the_migration_moves_the_forms_of_an_older_database_into_rows);
