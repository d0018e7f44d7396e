//! Workflow definitions are stored with version and content hash; a case keeps its version, and
//! a changed file under an unchanged version is refused at startup.

use crate::harness::{Application, Backend, TestApp, on_each_backend, repo_root, spawn_app_with};
use serde_json::Value;

async fn cases_keep_their_version_and_silent_edits_are_refused(backend: Backend) {
    let workflows = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(repo_root().join("workflows/pilot-zone.yaml")).unwrap();
    let file = workflows.path().join("pilot-zone.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let dir = workflows.path().to_path_buf();
    let app = spawn_app_with(backend, |s| s.workflows_dir = dir).await;
    let old = app.drafted("南关区申报(1.0.0)").await;

    // Same version, different text: refused with a message naming the workflow and the fix.
    std::fs::write(&file, yaml.replace("label: 草稿", "label: 草稿(新)")).unwrap();
    let refused = Application::build(app.settings.clone(), true).await;
    let message = format!("{:#}", refused.err().expect("startup refused"));
    assert!(message.contains("pilot-zone"), "{message}");
    assert!(message.contains("1.0.0"), "{message}");
    assert!(message.contains("new `version:`"), "{message}");

    // A new version starts; old cases stay on theirs and go on working.
    std::fs::write(
        &file,
        yaml.replace("label: 草稿", "label: 草稿(新)")
            .replace("version: 1.0.0", "version: 1.1.0"),
    )
    .unwrap();
    let next = Application::build(app.settings.clone(), true)
        .await
        .unwrap();
    let port = next.port();
    tokio::spawn(next.run_until_stopped());
    let app2 = spawn_like(&app, port);
    let list = app2.get("d220102", "/api/v1/workflows").await;
    assert_eq!(list.body[0]["version"], "1.1.0");
    let old_case = app2.get("d220102", &format!("/api/v1/cases/{old}")).await;
    assert_eq!(old_case.body["workflow"]["version"], "1.0.0");
    assert_eq!(old_case.body["state_label"], "草稿");
    app2.act("d220102", &old, "submit", Value::Null)
        .await
        .assert_ok();
    let new_case = app2.create_case("d220102", "南关区申报(1.1.0)").await;
    assert_eq!(new_case["workflow"]["version"], "1.1.0");
    assert_eq!(new_case["state_label"], "草稿(新)");
}
on_each_backend!(cases_keep_their_version_and_silent_edits_are_refused);

/// A client for a second server on the same database as `app`.
fn spawn_like(app: &TestApp, port: u16) -> TestApp {
    TestApp::attach(app, port)
}
