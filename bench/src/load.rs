//! `bench all`: the load harness against the physical floor. For each backend it starts the
//! release server (demo data), measures the floor, then W1 (the application path, closed
//! loop at several client counts), W2 (an open-loop burst of create-and-submit at stepped
//! rates, with its knee), W3 (a working day's mix), and the time from start to `/readyz` on
//! the existing database. CPU seconds come from /proc, peak RSS from `VmHWM`. Before W1, the
//! HTTP ceiling: `GET /healthz` in the same closed loop on the same server, the cheapest request
//! there is, so W1 and the floor can each be read as a share of what HTTP alone allows.
//!
//! The floor is the same read-update-insert a transition makes (read the case row, update it
//! at its version with a snapshot of the same size, insert an event of the same size, and for
//! a form save store the form; the sizes go through W1's ten steps), issued directly to the
//! same database by the same number of clients: no HTTP, no engine, no JSON.
//! On SQLite, which has one writer, the clients' transitions go to one thread that commits what
//! is waiting together, as the service's writer does; on PostgreSQL each is a transaction of
//! the client's own connection.

use crate::{
    Backend, Node, cpu_seconds, drop_postgres, example, fresh_postgres, login,
    machine_busy_seconds, percentile, proc_status,
};
use anyhow::{Context, Result, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Signed-in demo users and the example documents.
struct Kit {
    http: reqwest::Client,
    base: String,
    district: String,
    city: String,
    admin: String,
    experts: [String; 2],
    forms: Vec<(&'static str, Value)>,
    inputs: Inputs,
}

struct Inputs {
    forward: Value,
    start_review: Value,
    score: Value,
    confirm: Value,
    ret: Value,
}

impl Kit {
    async fn new(base: String) -> Result<Arc<Self>> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Arc::new(Self {
            district: login(&http, &base, "d220102").await?,
            city: login(&http, &base, "c220100").await?,
            admin: login(&http, &base, "admin").await?,
            experts: [
                login(&http, &base, "expert04").await?,
                login(&http, &base, "expert10").await?,
            ],
            forms: vec![
                ("application", example("forms/application.json")?),
                ("experiment_plan", example("forms/experiment_plan.json")?),
            ],
            inputs: Inputs {
                forward: example("forward.json")?,
                start_review: example("start_review.json")?,
                score: example("score.json")?,
                confirm: example("confirm.json")?,
                ret: example("return.json")?,
            },
            http,
            base,
        }))
    }

    /// Sends one request; fails on anything but success.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value> {
        let res = req.send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        if !status.is_success() {
            bail!("{status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn create(&self, title: &str) -> Result<(String, i64)> {
        let created = self
            .send(
                self.http
                    .post(format!("{}/api/v1/cases", self.base))
                    .bearer_auth(&self.district)
                    .json(&json!({"workflow": "pilot-zone", "title": title})),
            )
            .await?;
        Ok((
            created["id"].as_str().context("no id")?.to_owned(),
            created["version"].as_i64().context("no version")?,
        ))
    }

    async fn save_form(&self, case: &str, form: &str, doc: &Value) -> Result<()> {
        self.send(
            self.http
                .put(format!("{}/api/v1/cases/{case}/forms/{form}", self.base))
                .bearer_auth(&self.district)
                .json(doc),
        )
        .await?;
        Ok(())
    }

    async fn act(
        &self,
        token: &str,
        case: &str,
        action: &str,
        version: i64,
        input: &Value,
    ) -> Result<()> {
        self.send(
            self.http
                .post(format!(
                    "{}/api/v1/cases/{case}/actions/{action}",
                    self.base
                ))
                .bearer_auth(token)
                .header("If-Match", version.to_string())
                .json(&json!({"input": input})),
        )
        .await?;
        Ok(())
    }

    async fn panel(&self, case: &str) -> Result<()> {
        self.send(
            self.http
                .put(format!("{}/api/v1/cases/{case}/panel", self.base))
                .bearer_auth(&self.admin)
                .json(&json!({"experts": ["expert04", "expert10"]})),
        )
        .await?;
        Ok(())
    }
}

/// Keeps a request's latency if it ended inside the measured window.
fn window(
    begin: Instant,
    warmup: Duration,
    measure: Duration,
) -> impl Fn(&mut Vec<Duration>, Instant) + Copy {
    move |samples, t| {
        let e = begin.elapsed();
        if e >= warmup && e <= warmup + measure {
            samples.push(t.elapsed());
        }
    }
}

fn summary(mut all: Vec<Duration>, seconds: f64) -> Value {
    all.sort();
    json!({
        "transitions": all.len(),
        "transitions_per_second": (all.len() as f64 / seconds * 10.0).round() / 10.0,
        "p50_ms": percentile(&all, 0.50),
        "p95_ms": percentile(&all, 0.95),
        "p99_ms": percentile(&all, 0.99),
    })
}

/// A document number nobody has used yet in this run (the pattern allows 1–4 digits a year).
fn document_number(n: u64) -> String {
    format!("吉民发〔{}〕{}号", 2027 + n / 9_999, n % 9_999 + 1)
}

/// W1: each client drives new cases through the application path (create, both forms,
/// submit, forward, start review, panel, two score sheets, confirm), over and over. Every
/// step writes one event; each is timed.
async fn lifecycle(kit: Arc<Kit>, clients: usize, seconds: u64, pid: u32) -> Result<Value> {
    let warmup = Duration::from_secs(2);
    let measure = Duration::from_secs(seconds);
    let begin = Instant::now();
    let keep = window(begin, warmup, measure);
    let numbers = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (kit, numbers) = (Arc::clone(&kit), Arc::clone(&numbers));
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut record = |t: Instant| keep(&mut samples, t);
            let mut n = 0u64;
            while begin.elapsed() < warmup + measure {
                let t = Instant::now();
                let (case, mut v) = kit.create(&format!("W1 {c}-{n}")).await?;
                record(t);
                for (form, doc) in &kit.forms {
                    let t = Instant::now();
                    kit.save_form(&case, form, doc).await?;
                    record(t);
                    v += 1;
                }
                let i = &kit.inputs;
                let mut confirm = i.confirm.clone();
                confirm["document_number"] =
                    json!(document_number(numbers.fetch_add(1, Ordering::Relaxed)));
                let steps: [(&str, &str, &Value); 3] = [
                    (kit.district.as_str(), "submit", &Value::Null),
                    (kit.city.as_str(), "forward", &i.forward),
                    (kit.admin.as_str(), "start_review", &i.start_review),
                ];
                for (token, action, input) in steps {
                    let t = Instant::now();
                    kit.act(token, &case, action, v, input).await?;
                    record(t);
                    v += 1;
                }
                let t = Instant::now();
                kit.panel(&case).await?;
                record(t);
                v += 1;
                for token in &kit.experts {
                    let t = Instant::now();
                    kit.act(token, &case, "score", v, &i.score).await?;
                    record(t);
                    v += 1;
                }
                let t = Instant::now();
                kit.act(&kit.admin, &case, "confirm", v, &confirm).await?;
                record(t);
                n += 1;
            }
            anyhow::Ok(samples)
        }));
    }
    let mut out = measured(tasks, warmup, measure, Some(pid)).await?;
    out["clients"] = json!(clients);
    Ok(out)
}

/// The latencies of closed-loop clients (`tasks`, each keeping its samples inside the
/// measured window), summarised, with the CPU seconds per 1,000 requests over that window of
/// the whole machine and, given the server's `pid`, of the server and of the load generator.
async fn measured(
    tasks: Vec<tokio::task::JoinHandle<Result<Vec<Duration>>>>,
    warmup: Duration,
    measure: Duration,
    pid: Option<u32>,
) -> Result<Value> {
    let processes = pid.map(|server| [server, std::process::id()]);
    let sample = || {
        (
            processes.map(|p| p.map(cpu_seconds)),
            machine_busy_seconds(),
        )
    };
    tokio::time::sleep(warmup).await;
    let (processes_before, machine_before) = sample();
    tokio::time::sleep(measure).await;
    let (processes_after, machine_after) = sample();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let n = all.len().max(1) as f64;
    let per_1000 = |before: Option<f64>, after: Option<f64>| {
        json!(before.zip(after).map(|(a, b)| (b - a) / n * 1000.0))
    };
    let mut out = summary(all, measure.as_secs_f64());
    if let Some(([server_before, client_before], [server_after, client_after])) =
        processes_before.zip(processes_after)
    {
        out["server_cpu_seconds_per_1000"] = per_1000(server_before, server_after);
        out["load_generator_cpu_seconds_per_1000"] = per_1000(client_before, client_after);
    }
    out["machine_cpu_seconds_per_1000"] = per_1000(machine_before, machine_after);
    Ok(out)
}

/// The HTTP ceiling: `GET /healthz` (no session, no database, an empty body) in the same
/// closed loop as W1, on the same server and client. No request the service answers can be
/// cheaper, so it bounds what any workload over HTTP can reach on this machine at that moment.
async fn http_ceiling(kit: &Kit, clients: usize, seconds: u64, pid: u32) -> Result<Value> {
    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs(seconds);
    let begin = Instant::now();
    let keep = window(begin, warmup, measure);
    let url = format!("{}/healthz", kit.base);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url) = (kit.http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while begin.elapsed() < warmup + measure {
                let t = Instant::now();
                let res = http.get(&url).send().await?;
                let status = res.status();
                res.bytes().await?;
                if !status.is_success() {
                    bail!("/healthz answered {status}");
                }
                keep(&mut samples, t);
            }
            anyhow::Ok(samples)
        }));
    }
    measured(tasks, warmup, measure, Some(pid)).await
}

/// A case with both forms saved (its version), ready to submit.
async fn drafted(kit: &Kit, title: &str) -> Result<(String, i64)> {
    let (case, mut v) = kit.create(title).await?;
    for (form, doc) in &kit.forms {
        kit.save_form(&case, form, doc).await?;
        v += 1;
    }
    Ok((case, v))
}

/// Arrivals of W2 sent at once, at most (sockets are finite).
const MAX_IN_FLIGHT: usize = 512;

/// W2: an open loop of districts creating and submitting applications (create, both forms,
/// submit) at a fixed arrival rate per step. Each arrival's latency counts from when it was
/// due to start, so a server that falls behind shows it. Stops stepping once a step fails.
async fn burst(kit: Arc<Kit>, rates: &[u64], step_seconds: u64, pid: u32) -> Result<Value> {
    let mut steps = Vec::new();
    let mut peak_rss_kb = 0;
    for &rate in rates {
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let total = rate * step_seconds;
        let start = Instant::now();
        let errors = Arc::new(AtomicU64::new(0));
        // Arrivals beyond this many in flight wait their turn (their wait still counts).
        let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        let mut tasks = Vec::with_capacity(total as usize);
        for i in 0..total {
            let due = start + interval * i as u32;
            tokio::time::sleep_until(due.into()).await;
            let (kit, errors) = (Arc::clone(&kit), Arc::clone(&errors));
            let in_flight = Arc::clone(&in_flight);
            tasks.push(tokio::spawn(async move {
                let _permit = in_flight.acquire_owned().await;
                let r = async {
                    let (case, v) = drafted(&kit, &format!("W2 {rate}-{i}")).await?;
                    kit.act(&kit.district, &case, "submit", v, &Value::Null)
                        .await
                }
                .await;
                if r.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                due.elapsed()
            }));
            if i % 64 == 0 {
                peak_rss_kb = peak_rss_kb.max(proc_status(pid, "VmRSS:").unwrap_or(0));
            }
        }
        let mut latencies = Vec::with_capacity(tasks.len());
        for t in tasks {
            latencies.push(t.await?);
        }
        latencies.sort();
        let achieved = total as f64 / start.elapsed().as_secs_f64();
        let errors = errors.load(Ordering::Relaxed);
        let p99 = percentile(&latencies, 0.99);
        steps.push(json!({
            "rate": rate,
            "achieved_per_second": (achieved * 10.0).round() / 10.0,
            "submissions": total,
            "errors": errors,
            "p50_ms": percentile(&latencies, 0.50),
            "p95_ms": percentile(&latencies, 0.95),
            "p99_ms": p99,
        }));
        if errors > 0 || p99 > 2_000.0 {
            break;
        }
    }
    let knee = steps
        .iter()
        .filter(|s| s["errors"] == 0 && s["p99_ms"].as_f64().is_some_and(|p| p < 100.0))
        .filter_map(|s| s["rate"].as_u64())
        .max();
    Ok(json!({
        "steps": steps,
        "knee_per_second": knee,
        "server_peak_rss_mb": proc_status(pid, "VmHWM:").unwrap_or(peak_rss_kb) as f64 / 1024.0,
    }))
}

/// W3: a working day: 70% reads (the case list and a case page), 20% actions (submit or
/// return on the client's own case), 10% new cases.
async fn working_day(kit: Arc<Kit>, clients: usize, seconds: u64) -> Result<Value> {
    let warmup = Duration::from_secs(2);
    let measure = Duration::from_secs(seconds);
    let begin = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let kit = Arc::clone(&kit);
        tasks.push(tokio::spawn(async move {
            let (case, mut v) = drafted(&kit, &format!("W3 {c}")).await?;
            let mut submitted = false;
            let (mut reads, mut writes, mut creates) = (Vec::new(), Vec::new(), Vec::new());
            let mut n = 0u64;
            while begin.elapsed() < warmup + measure {
                let roll = (n * 7 + c as u64 * 3) % 10;
                let t = Instant::now();
                match roll {
                    0..=6 => {
                        let url = if roll.is_multiple_of(2) {
                            format!("{}/api/v1/cases?per_page=20", kit.base)
                        } else {
                            format!("{}/api/v1/cases/{case}", kit.base)
                        };
                        kit.send(kit.http.get(url).bearer_auth(&kit.district))
                            .await?;
                    }
                    7 | 8 => {
                        let (token, action, input) = if submitted {
                            (&kit.city, "return", &kit.inputs.ret)
                        } else {
                            (&kit.district, "submit", &Value::Null)
                        };
                        kit.act(token, &case, action, v, input).await?;
                        v += 1;
                        submitted = !submitted;
                    }
                    _ => {
                        kit.create(&format!("W3 new {c}-{n}")).await?;
                    }
                }
                let e = begin.elapsed();
                if e >= warmup && e <= warmup + measure {
                    match roll {
                        0..=6 => reads.push(t.elapsed()),
                        7 | 8 => writes.push(t.elapsed()),
                        _ => creates.push(t.elapsed()),
                    }
                }
                n += 1;
            }
            anyhow::Ok((reads, writes, creates))
        }));
    }
    let (mut reads, mut writes, mut creates) = (Vec::new(), Vec::new(), Vec::new());
    for t in tasks {
        let (r, w, c) = t.await??;
        reads.extend(r);
        writes.extend(w);
        creates.extend(c);
    }
    let secs = measure.as_secs_f64();
    let total = reads.len() + writes.len() + creates.len();
    Ok(json!({
        "clients": clients,
        "requests_per_second": (total as f64 / secs * 10.0).round() / 10.0,
        "reads": summary(reads, secs),
        "actions": summary(writes, secs),
        "creates": summary(creates, secs),
    }))
}

/// What one of W1's ten steps stores, in bytes: the case's snapshot, the event, and the form
/// row of a form save (forms are rows of their own, written only when saved). Measured on
/// the service 2026-12-03: `length()` of each row after each step of one case driven as W1
/// drives it (create, both forms, submit, forward, start review, panel, two sheets, confirm).
const W1_STEPS: [(usize, usize, Option<&str>); 10] = [
    (397, 170, None),
    (397, 746, Some("application")),
    (397, 4_117, Some("experiment_plan")),
    (457, 260, None),
    (544, 436, None),
    (587, 464, None),
    (619, 222, None),
    (848, 468, None),
    (1_104, 461, None),
    (1_499, 374, None),
];

/// A JSON text of exactly `bytes` bytes (from 15), its padding varied so that PostgreSQL's
/// compression of long values gains no more than on real text.
fn json_of_size(bytes: usize, seed: u64) -> String {
    let mut x = seed | 1;
    let padding: String = (0..bytes.saturating_sub(14))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    json!({ "padding": padding }).to_string()
}

/// One step's texts for the floor: snapshot, event and, for a form save, the form's name and
/// document (the example document itself).
struct FloorStep {
    snapshot: Arc<String>,
    event: Arc<String>,
    form: Option<(&'static str, Arc<String>)>,
}

fn floor_steps() -> Result<Arc<Vec<FloorStep>>> {
    W1_STEPS
        .iter()
        .enumerate()
        .map(|(n, &(snapshot, event, form))| {
            Ok(FloorStep {
                snapshot: Arc::new(json_of_size(snapshot, 2 * n as u64 + 1)),
                event: Arc::new(json_of_size(event, 2 * n as u64 + 2)),
                form: match form {
                    Some(name) => Some((
                        name,
                        Arc::new(example(&format!("forms/{name}.json"))?.to_string()),
                    )),
                    None => None,
                },
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Arc::new)
}

/// The floor: the read-update-insert of a transition issued directly to the database by
/// `clients` clients, on cases like the service's (the sizes of W1's steps, `W1_STEPS`).
async fn floor(
    backend: Backend,
    database: Option<&str>,
    data: &Path,
    clients: usize,
    seconds: u64,
) -> Result<Value> {
    let url = match database {
        Some(u) => u.to_owned(),
        None => format!("sqlite://{}/floor.sqlite3?mode=rwc", data.display()),
    };
    // The service's own connection set-up (WAL, NORMAL, one writer on SQLite).
    let store = pilotflow::store::Store::connect(&url, clients as u32).await?;
    store.migrate().await?;
    let db = store.write.clone();
    let kind = db.get_database_backend();
    // Each client's transitions go through W1's ten steps, each as large as the service's.
    let steps = floor_steps()?;
    floor_cases(&db, clients, &steps[0].snapshot).await?;
    // SQLite has one writer; the service commits what waits together, and so does the floor.
    let batched = match backend {
        Backend::Sqlite => Some(FloorWriter::start(&data.join("floor.sqlite3"))?),
        Backend::Postgres => None,
    };
    let client = FloorClient {
        db,
        kind,
        sql: Arc::new(FloorSql::new(kind)),
        steps,
        batched,
    };
    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs(seconds);
    let begin = Instant::now();
    let keep = window(begin, warmup, measure);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("floor-{c}");
            let mut samples = Vec::new();
            let mut version = 0i64;
            while begin.elapsed() < warmup + measure {
                let t = Instant::now();
                client.transition(&id, version).await?;
                version += 1;
                keep(&mut samples, t);
            }
            anyhow::Ok(samples)
        }));
    }
    // No server: the floor's clients and its writer are this process, so only the machine's
    // figure says what a transition costs (on PostgreSQL, with the server's backends).
    let mut out = measured(tasks, warmup, measure, None).await?;
    out["clients"] = json!(clients);
    Ok(out)
}

/// A statement's `n`th parameter in the database's own syntax.
fn placeholder(kind: DbBackend, n: usize) -> String {
    match kind {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// One draft case per floor client, `floor-{c}`, at version 0 with the first step's snapshot.
async fn floor_cases(db: &DatabaseConnection, clients: usize, snapshot: &str) -> Result<()> {
    let kind = db.get_database_backend();
    let p = |n| placeholder(kind, n);
    for c in 0..clients {
        db.execute_raw(Statement::from_sql_and_values(
            kind,
            format!(
                "INSERT INTO cases (id, workflow_key, workflow_version, title, org_unit, \
                 parent_unit, round, state, snapshot, version, head_hash, created_by, \
                 created_at, updated_at) VALUES ({}, 'pilot-zone', '1.0.0', 'floor', '220102', \
                 '220100', 2027, 'draft', {}, 0, '', 'bench', {}, {})",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            [
                format!("floor-{c}").into(),
                snapshot.into(),
                chrono::Utc::now().into(),
                chrono::Utc::now().into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// The statements of one floor transition made by a client itself (not the SQLite writer).
struct FloorSql {
    read: String,
    update: String,
    insert: String,
    form_upsert: String,
}

impl FloorSql {
    fn new(kind: DbBackend) -> Self {
        let p = |n| placeholder(kind, n);
        Self {
            read: format!("SELECT snapshot, version FROM cases WHERE id = {}", p(1)),
            update: format!(
                "UPDATE cases SET snapshot = {}, version = {}, state = 'draft', updated_at = {} \
                 WHERE id = {} AND version = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            insert: format!(
                "INSERT INTO case_events (case_id, seq, kind, action, actor, actor_role, \
                 from_state, to_state, at, input_digest, comment, body, prev_hash, hash) \
                 VALUES ({}, {}, 'action_taken', 'submit', 'd220102', 'applicant', 'draft', \
                 'municipal_review', {}, '', NULL, {}, '', '')",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            form_upsert: format!(
                "INSERT INTO case_forms (case_id, name, body, saved_at) VALUES ({}, {}, {}, {}) \
                 ON CONFLICT (case_id, name) DO UPDATE SET body = excluded.body, \
                 saved_at = excluded.saved_at",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
        }
    }
}

/// What a floor client needs to make its transitions.
#[derive(Clone)]
struct FloorClient {
    db: DatabaseConnection,
    kind: DbBackend,
    sql: Arc<FloorSql>,
    steps: Arc<Vec<FloorStep>>,
    batched: Option<FloorWriter>,
}

impl FloorClient {
    /// Case `id`'s transition from `version`, with the texts of W1's step at that version:
    /// through the SQLite writer, or else as a transaction of the client's own.
    async fn transition(&self, id: &str, version: i64) -> Result<()> {
        let step = &self.steps[version as usize % self.steps.len()];
        if let Some(writer) = &self.batched {
            return writer
                .transition(FloorJob {
                    id: id.to_owned(),
                    version,
                    snapshot: Arc::clone(&step.snapshot),
                    event: Arc::clone(&step.event),
                    form: step.form.clone(),
                })
                .await;
        }
        let (kind, sql) = (self.kind, &self.sql);
        let txn = self.db.begin().await?;
        txn.query_one_raw(Statement::from_sql_and_values(kind, &sql.read, [id.into()]))
            .await?;
        let now = chrono::Utc::now();
        txn.execute_raw(Statement::from_sql_and_values(
            kind,
            &sql.update,
            [
                step.snapshot.as_str().into(),
                (version + 1).into(),
                now.into(),
                id.into(),
                version.into(),
            ],
        ))
        .await?;
        txn.execute_raw(Statement::from_sql_and_values(
            kind,
            &sql.insert,
            [
                id.into(),
                (version + 1).into(),
                now.into(),
                step.event.as_str().into(),
            ],
        ))
        .await?;
        if let Some((name, body)) = &step.form {
            txn.execute_raw(Statement::from_sql_and_values(
                kind,
                &sql.form_upsert,
                [id.into(), (*name).into(), body.as_str().into(), now.into()],
            ))
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// One read-update-insert of the floor.
struct FloorJob {
    id: String,
    version: i64,
    snapshot: Arc<String>,
    event: Arc<String>,
    form: Option<(&'static str, Arc<String>)>,
}

type FloorReply = tokio::sync::oneshot::Sender<Result<(), String>>;

/// The SQLite floor's writer: a thread with a connection of its own (WAL, NORMAL, no
/// checkpoints of its own: the store's checkpointer copies the WAL back) that commits the
/// transitions waiting at that moment in one transaction, as the service's writer does.
#[derive(Clone)]
struct FloorWriter {
    queue: tokio::sync::mpsc::Sender<(FloorJob, FloorReply)>,
}

impl FloorWriter {
    fn start(path: &Path) -> Result<Self> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA temp_store = memory; \
             PRAGMA wal_autocheckpoint = 0;",
        )?;
        let (queue, mut inbox) = tokio::sync::mpsc::channel::<(FloorJob, FloorReply)>(1024);
        std::thread::spawn(move || {
            while let Some(first) = inbox.blocking_recv() {
                let mut batch = vec![first];
                while batch.len() < 64 {
                    match inbox.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let result =
                    floor_batch(&conn, batch.iter().map(|(job, _)| job)).map_err(|e| e.to_string());
                for (_, reply) in batch {
                    let _ = reply.send(result.clone());
                }
            }
        });
        Ok(Self { queue })
    }

    async fn transition(&self, job: FloorJob) -> Result<()> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send((job, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the floor's writer stopped"))?;
        answer.await?.map_err(anyhow::Error::msg)
    }
}

fn floor_batch<'a>(
    conn: &rusqlite::Connection,
    jobs: impl Iterator<Item = &'a FloorJob>,
) -> rusqlite::Result<()> {
    use rusqlite::params;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        for job in jobs {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
            conn.prepare_cached("SELECT snapshot, version FROM cases WHERE id = ?1")?
                .query_row(params![job.id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })?;
            conn.prepare_cached(
                "UPDATE cases SET snapshot = ?1, version = ?2, state = 'draft', updated_at = ?3 \
                 WHERE id = ?4 AND version = ?5",
            )?
            .execute(params![
                job.snapshot.as_str(),
                job.version + 1,
                now,
                job.id,
                job.version
            ])?;
            conn.prepare_cached(
                "INSERT INTO case_events (case_id, seq, kind, action, actor, actor_role, \
                 from_state, to_state, at, input_digest, comment, body, prev_hash, hash) \
                 VALUES (?1, ?2, 'action_taken', 'submit', 'd220102', 'applicant', 'draft', \
                 'municipal_review', ?3, '', NULL, ?4, '', '')",
            )?
            .execute(params![job.id, job.version + 1, now, job.event.as_str()])?;
            if let Some((name, body)) = &job.form {
                conn.prepare_cached(
                    "INSERT INTO case_forms (case_id, name, body, saved_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (case_id, name) DO UPDATE SET \
                     body = excluded.body, saved_at = excluded.saved_at",
                )?
                .execute(params![job.id, name, body.as_str(), now])?;
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

pub struct Plan {
    pub backend: Backend,
    pub binary: PathBuf,
    pub postgres: String,
    pub seconds: u64,
    pub clients: Vec<usize>,
    pub rates: Vec<u64>,
    pub step_seconds: u64,
}

/// One backend's run of every workload (W4, the reminders, runs by itself: bench/reminders).
pub async fn run(plan: &Plan) -> Result<Value> {
    let backend_name = format!("{:?}", plan.backend).to_lowercase();
    // The floor at each W1 client count, on a database of its own.
    let mut floors = Vec::new();
    for &clients in &plan.clients {
        let data = std::env::temp_dir().join(format!("pf-floor-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data)?;
        let database = match plan.backend {
            Backend::Postgres => Some(fresh_postgres(&plan.postgres).await?),
            Backend::Sqlite => None,
        };
        let f = floor(
            plan.backend,
            database.as_deref(),
            &data,
            clients,
            plan.seconds,
        )
        .await;
        let _ = std::fs::remove_dir_all(&data);
        if let Some(url) = &database {
            drop_postgres(&plan.postgres, url).await?;
        }
        floors.push(f?);
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let mut w1 = Vec::new();
    for (&clients, floor) in plan.clients.iter().zip(&floors) {
        let node = Node::new(plan.backend, &plan.binary, &plan.postgres).await?;
        let kit = Kit::new(node.base()).await?;
        let ceiling = http_ceiling(&kit, clients, plan.seconds, node.pid()).await?;
        let mut r = lifecycle(kit, clients, plan.seconds, node.pid()).await?;
        r["server_peak_rss_mb"] =
            json!(proc_status(node.pid(), "VmHWM:").unwrap_or(0) as f64 / 1024.0);
        let floor_tps = floor["transitions_per_second"].as_f64().unwrap_or(0.0);
        r["floor_transitions_per_second"] = json!(floor_tps);
        r["share_of_floor"] =
            json!(r["transitions_per_second"].as_f64().unwrap_or(0.0) / floor_tps.max(1e-9));
        r["http_ceiling_per_second"] = ceiling["transitions_per_second"].clone();
        r["http_ceiling_server_cpu_seconds_per_1000"] =
            ceiling["server_cpu_seconds_per_1000"].clone();
        let http_cpu = ceiling["machine_cpu_seconds_per_1000"].as_f64();
        let floor_cpu = floor["machine_cpu_seconds_per_1000"].as_f64();
        r["http_ceiling_machine_cpu_seconds_per_1000"] = json!(http_cpu);
        r["floor_machine_cpu_seconds_per_1000"] = json!(floor_cpu);
        // A transition is at least one request and one floor transition, so with no other
        // work at all the machine's cores could do no more than this many a second.
        let bound = http_cpu
            .zip(floor_cpu)
            .map(|(h, f)| cores * 1000.0 / (h + f).max(1e-9));
        r["bound_transitions_per_second"] = json!(bound);
        r["bound_share_of_floor"] = json!(bound.map(|b| b / floor_tps.max(1e-9)));
        node.finish(&plan.postgres).await?;
        w1.push(r);
    }
    // W2 on a fresh server (its RSS is the burst's alone), then the restart on its database.
    let mut node = Node::new(plan.backend, &plan.binary, &plan.postgres).await?;
    let kit = Kit::new(node.base()).await?;
    let w2 = burst(Arc::clone(&kit), &plan.rates, plan.step_seconds, node.pid()).await?;
    let w3 = working_day(kit, 16, plan.seconds).await?;
    node.stop();
    let ready = node.start().await?;
    node.finish(&plan.postgres).await?;
    Ok(json!({
        "backend": backend_name,
        "at": chrono::Utc::now().to_rfc3339(),
        "floor": floors,
        "w1_lifecycle": w1,
        "w2_burst": w2,
        "w3_working_day": w3,
        "start_to_ready_ms": ready.as_secs_f64() * 1000.0,
    }))
}
