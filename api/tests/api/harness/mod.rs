//! Test harness: the real application on port 0 over real HTTP, on a fresh SQLite file or a
//! fresh PostgreSQL database (`PF_TEST_POSTGRES_URL` names the server, default
//! `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! A test that runs on both databases is written once, as `async fn name(backend: Backend)`,
//! and `on_each_backend!(name)` makes it two tests, `name::sqlite` and `name::postgres`. The
//! name picks a backend: `cargo test -p pilotflow --test api -- postgres` runs the PostgreSQL
//! ones, `-- --skip postgres` everything else.
//!
//! `TEST_LOG=1` shows the service's logs (tracing) in the test output: see `init_test_logs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Mutex, Once};

// The library's paths the tests use, all here: elsewhere they are `crate::harness::…`, so a
// module moving in api/src is followed in this one place.
pub use pilotflow::admin::holidays::calendar as holiday_calendar;
pub use pilotflow::cases::history::GENESIS;
pub use pilotflow::clock::ClockMode;
pub use pilotflow::config::{DEFAULT_DEMO_PASSWORD, Secret, Settings};
pub use pilotflow::startup::Application;
pub use pilotflow::store::{CaseUpdate, CaseWrite, STILL_PENDING, Store, Transition, entities};
pub use pilotflow::tools::verify::{Report, verify_all};

mod smtp;
pub use smtp::{Mail, SmtpCapture};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `on_each_backend!(name)`, after `async fn name(backend: Backend) { … }`: the module `name`
/// with the tests `sqlite` and `postgres`, each running `name` on its backend in a
/// multi-threaded runtime (after kellnr's `#[db_test]`). The function stays a plain function,
/// outside the macro, so rustfmt and the IDE see its body (rustfmt leaves macro bodies alone);
/// one that no `on_each_backend!` names is dead code, which clippy's `-D warnings` refuses.
macro_rules! on_each_backend {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                $crate::harness::init_test_logs();
                super::$name($crate::harness::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                $crate::harness::init_test_logs();
                super::$name($crate::harness::Backend::Postgres).await;
            }
        }
    };
}
pub(crate) use on_each_backend;

/// With `TEST_LOG` set (to anything but empty or `0`), the service's logs go to the output of
/// the test that caused them, as the service writes them (one line per request when it ends):
/// libtest shows that output for a failing test, or for every test with `--nocapture`.
/// `RUST_LOG` filters them (default `info`), e.g. `TEST_LOG=1 RUST_LOG=debug cargo test -p
/// pilotflow --test api -- auth::logout`. Without `TEST_LOG` nothing is installed and the logs
/// go nowhere.
///
/// Installs one global subscriber, once per test binary, on the first call (every test that
/// starts the service or opens a store calls it). The service's own subscriber is installed by
/// its binary (`init_logs` in api/src/main.rs), not by the library's `Application::build`, so
/// this is the only one in the test process.
pub fn init_test_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let wanted = std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0");
        if !wanted {
            return;
        }
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // The test writer prints through libtest's capture, which the runtime's and the
        // server's threads inherit from the test that started them.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_ansi(std::io::stdout().is_terminal())
            .with_test_writer()
            .try_init();
    });
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn example(name: &str) -> Value {
    let path = repo_root().join("workflows/examples/pilot-zone").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("example file")).expect("json")
}

fn postgres_admin_url() -> String {
    std::env::var("PF_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates an empty PostgreSQL database for one test and returns its URL.
pub async fn fresh_postgres() -> String {
    use sea_orm::ConnectionTrait;
    let admin = postgres_admin_url();
    let name = format!("pf_test_{}", uuid::Uuid::new_v4().simple());
    let conn = sea_orm::Database::connect(&admin)
        .await
        .expect("PostgreSQL must be running for the `::postgres` tests (see README; PF_TEST_POSTGRES_URL names it); `cargo test -p pilotflow -- --skip postgres` leaves them out");
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub data_dir: tempfile::TempDir,
    tokens: Mutex<HashMap<String, String>>,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_logs();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings {
        bind: "127.0.0.1:0".to_owned(),
        data_dir: data_dir.path().to_path_buf(),
        workflows_dir: repo_root().join("workflows"),
        schemas_dir: repo_root().join("schemas"),
        workers: 2,
        // Tests run the jobs when they choose (POST /admin/jobs/…/run); one test turns cron on.
        deadline_scan_cron: "off".to_owned(),
        outbox_cron: "off".to_owned(),
        ..Settings::default()
    };
    if backend == Backend::Postgres {
        settings.database_url = Some(Secret::new(fresh_postgres().await));
    }
    tweak(&mut settings);
    let app = Application::build(settings.clone(), true)
        .await
        .expect("application starts");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        backend,
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        settings,
        data_dir,
        tokens: Mutex::new(HashMap::new()),
    }
}

/// An answer: status, headers and the body as JSON (Null when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "content type {} for {}",
            self.content_type,
            self.text
        );
        assert_eq!(self.code(), code, "{}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(
            !self.body["detail"].as_str().unwrap_or("").is_empty(),
            "{}",
            self.text
        );
        self
    }

    pub fn assert_ok(&self) -> &Value {
        assert!(self.status.is_success(), "{} {}", self.status, self.text);
        &self.body
    }

    pub fn pointers(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["pointer"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    /// A client for another server (on `port`) sharing this app's database and data directory.
    pub fn attach(app: &TestApp, port: u16) -> TestApp {
        TestApp {
            backend: app.backend,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            settings: app.settings.clone(),
            data_dir: tempfile::tempdir().expect("temp dir"),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Starts another server on this app's settings (the same database) and a client for it.
    pub async fn second_server(&self) -> TestApp {
        let second = Application::build(self.settings.clone(), true)
            .await
            .expect("second server starts");
        let port = second.port();
        tokio::spawn(second.run_until_stopped());
        TestApp::attach(self, port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            headers,
            body,
            text,
        }
    }

    pub async fn login_raw(&self, username: &str, password: &str) -> Answer {
        self.send(
            self.client
                .post(self.url("/api/v1/auth/login"))
                .json(&json!({"username": username, "password": password})),
        )
        .await
    }

    /// A token for a demo user (cached per app).
    pub async fn token(&self, username: &str) -> String {
        if let Some(t) = self.tokens.lock().unwrap().get(username) {
            return t.clone();
        }
        let a = self.login_raw(username, DEFAULT_DEMO_PASSWORD).await;
        let token = a.assert_ok()["token"].as_str().expect("token").to_owned();
        self.tokens
            .lock()
            .unwrap()
            .insert(username.to_owned(), token.clone());
        token
    }

    /// Drops the cached tokens (after moving a rehearsal clock past their expiry).
    pub fn forget_tokens(&self) {
        self.tokens.lock().unwrap().clear();
    }

    pub async fn call(
        &self,
        user: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let token = self.token(user).await;
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    pub async fn get(&self, user: &str, path: &str) -> Answer {
        self.call(user, Method::GET, path, None).await
    }

    pub async fn create_case(&self, user: &str, title: &str) -> Value {
        let a = self
            .call(
                user,
                Method::POST,
                "/api/v1/cases",
                Some(json!({"workflow": "pilot-zone", "title": title})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.body
    }

    pub async fn save_form(&self, user: &str, case: &str, form: &str, doc: Value) -> Answer {
        self.call(
            user,
            Method::PUT,
            &format!("/api/v1/cases/{case}/forms/{form}"),
            Some(doc),
        )
        .await
    }

    pub async fn version(&self, user: &str, case: &str) -> i64 {
        self.get(user, &format!("/api/v1/cases/{case}")).await.body["version"]
            .as_i64()
            .expect("version")
    }

    /// Takes an action at the case's current version.
    pub async fn act(&self, user: &str, case: &str, action: &str, input: Value) -> Answer {
        let version = self.version("admin", case).await;
        self.act_at(user, case, action, input, version).await
    }

    pub async fn act_at(
        &self,
        user: &str,
        case: &str,
        action: &str,
        input: Value,
        version: i64,
    ) -> Answer {
        let token = self.token(user).await;
        self.send(
            self.client
                .post(self.url(&format!("/api/v1/cases/{case}/actions/{action}")))
                .bearer_auth(token)
                .header("If-Match", version.to_string())
                .json(&json!({"input": input})),
        )
        .await
    }

    /// A case of 南关区 (220102) with both forms saved, ready to submit.
    pub async fn drafted(&self, title: &str) -> String {
        self.drafted_by("d220102", title).await
    }

    /// A case of 南关区 (220102) submitted to its city.
    pub async fn submitted(&self, title: &str) -> String {
        let id = self.drafted(title).await;
        self.act("d220102", &id, "submit", Value::Null)
            .await
            .assert_ok();
        id
    }

    /// A case of `district` with both forms saved, ready to submit.
    pub async fn drafted_by(&self, district: &str, title: &str) -> String {
        let case = self.create_case(district, title).await;
        let id = case["id"].as_str().expect("id").to_owned();
        for form in ["application", "experiment_plan"] {
            let a = self
                .save_form(district, &id, form, example(&format!("forms/{form}.json")))
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        }
        id
    }

    /// A case of `district` (its city reviewer `city`) in expert review with no panel yet.
    pub async fn awaiting_panel(&self, district: &str, city: &str, title: &str) -> String {
        let id = self.drafted_by(district, title).await;
        self.act(district, &id, "submit", Value::Null)
            .await
            .assert_ok();
        self.act(city, &id, "forward", example("forward.json"))
            .await
            .assert_ok();
        self.act("admin", &id, "start_review", example("start_review.json"))
            .await
            .assert_ok();
        id
    }

    /// The province sets a case's panel.
    pub async fn set_panel(&self, id: &str, experts: &[&str]) -> Answer {
        self.call(
            "admin",
            Method::PUT,
            &format!("/api/v1/cases/{id}/panel"),
            Some(json!({"experts": experts})),
        )
        .await
    }

    /// Drives a drafted case to expert review with `experts` on its panel.
    pub async fn in_expert_review(&self, title: &str, experts: &[&str]) -> String {
        let id = self.awaiting_panel("d220102", "c220100", title).await;
        self.set_panel(&id, experts).await.assert_ok();
        id
    }

    pub async fn state(&self, case: &str) -> String {
        self.get("admin", &format!("/api/v1/cases/{case}"))
            .await
            .body["state"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// A store on this app's database, for reading and changing behind the service's back.
    pub async fn store(&self) -> Store {
        Store::connect(&self.settings.database_url(), 2)
            .await
            .expect("database")
    }

    /// What was written is whole: every case's chain holds and replays to the stored case.
    pub async fn assert_histories_intact(&self) -> Report {
        let store = self.store().await;
        let calendar = holiday_calendar().unwrap();
        let report = verify_all(&store, &calendar).await.expect("verify");
        assert!(report.broken.is_empty(), "{:?}", report.broken);
        report
    }

    pub async fn history_len(&self, case: &str) -> usize {
        self.get("admin", &format!("/api/v1/cases/{case}/history"))
            .await
            .body
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    }
}
