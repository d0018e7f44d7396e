//! `bench http`: starts the release `pilotflow` binary on SQLite or PostgreSQL with demo data,
//! drives N closed-loop clients through real transitions (submit, then return, on each client's
//! own case) and reports transitions per second, latency percentiles and the server's peak RSS.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod reminders;
mod review;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Subcommand)]
enum Cmd {
    /// Closed-loop transitions through the HTTP API.
    Http {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds of measurement after a short warm-up.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// The server binary.
        #[arg(long, default_value = "target/release/pilotflow")]
        server: PathBuf,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres: String,
    },
    /// Expert review at round scale over HTTP: bulk panels, then the ranking.
    Review {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 300)]
        cases: usize,
        #[arg(long, default_value = "target/release/pilotflow")]
        server: PathBuf,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres: String,
    },
    /// W4: the reminder scan and the outbox over many open deadlines, in process.
    Reminders {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        /// Open deadlines in the table (one per case).
        #[arg(long, default_value_t = 1_000_000)]
        cases: u64,
        /// How many of them have a reminder due now (each goes to two people).
        #[arg(long, default_value_t = 25_000)]
        due: u64,
        /// Mails sent to the SMTP server for the mails-per-second figure.
        #[arg(long, default_value_t = 2_000)]
        mails: u64,
        #[arg(long, default_value = "smtp://127.0.0.1:2525")]
        smtp: String,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres: String,
    },
}

struct Server {
    child: Child,
    base: String,
    _data: PathBuf,
    /// The PostgreSQL database made for this server, to drop afterwards.
    database: Option<String>,
}

impl Server {
    /// Stops the server and drops its PostgreSQL database, if it had one.
    async fn finish(self, admin_url: &str) -> Result<()> {
        let database = self.database.clone();
        drop(self);
        if let Some(url) = database {
            drop_postgres(admin_url, &url).await?;
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._data);
    }
}

fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds of a process, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// A new, empty PostgreSQL database beside the one `admin_url` names; returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> Result<String> {
    use sea_orm::ConnectionTrait;
    let name = format!("pf_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    Ok(format!("{base}/{name}"))
}

/// Drops a database `fresh_postgres` made (its tables would otherwise linger, and autovacuum
/// would work on them during the next run).
pub async fn drop_postgres(admin_url: &str, url: &str) -> Result<()> {
    use sea_orm::ConnectionTrait;
    let Some((_, name)) = url.rsplit_once('/') else {
        return Ok(());
    };
    let admin = sea_orm::Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    Ok(())
}

async fn start(backend: Backend, binary: &PathBuf, postgres: &str) -> Result<Server> {
    let data = std::env::temp_dir().join(format!("pf-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data)?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mut cmd = Command::new(binary);
    cmd.args(["serve", "--demo"])
        .env("PILOTFLOW_DATA_DIR", &data)
        .env("PILOTFLOW_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let database = match backend {
        Backend::Postgres => Some(fresh_postgres(postgres).await?),
        Backend::Sqlite => None,
    };
    if let Some(url) = &database {
        cmd.env("DATABASE_URL", url)
            .env("PILOTFLOW_DB_POOL_SIZE", "16");
    }
    let child = cmd.spawn().with_context(|| {
        format!(
            "starting {} (build it with cargo build --release)",
            binary.display()
        )
    })?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _data: data,
        database,
    };
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
            && r.status().is_success()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not become ready")
}

async fn login(client: &reqwest::Client, base: &str, user: &str) -> Result<String> {
    let r: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": "pilotflow-demo"}))
        .send()
        .await?
        .json()
        .await?;
    r["token"]
        .as_str()
        .map(str::to_owned)
        .context("login answered no token")
}

fn example(name: &str) -> Result<Value> {
    let path = PathBuf::from("workflows/examples/pilot-zone").join(name);
    Ok(serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| path.display().to_string())?,
    )?)
}

struct Client {
    http: reqwest::Client,
    base: String,
    applicant: String,
    reviewer: String,
    case: String,
    version: i64,
    return_input: Value,
}

impl Client {
    /// Submit (applicant) or return (city), alternately: each call is one transition.
    async fn step(&mut self, n: u64) -> Result<Duration> {
        let (token, action, input) = if n.is_multiple_of(2) {
            (&self.applicant, "submit", Value::Null)
        } else {
            (&self.reviewer, "return", self.return_input.clone())
        };
        let t = Instant::now();
        let res = self
            .http
            .post(format!(
                "{}/api/v1/cases/{}/actions/{action}",
                self.base, self.case
            ))
            .bearer_auth(token)
            .header("If-Match", self.version.to_string())
            .json(&json!({"input": input}))
            .send()
            .await?;
        let status = res.status();
        let body = res.bytes().await?;
        let elapsed = t.elapsed();
        if !status.is_success() {
            bail!("{action}: {status} {}", String::from_utf8_lossy(&body));
        }
        self.version += 1;
        Ok(elapsed)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn http(
    backend: Backend,
    clients: usize,
    seconds: u64,
    binary: PathBuf,
    postgres: String,
) -> Result<Value> {
    let server = start(backend, &binary, &postgres).await?;
    let pid = server.child.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let applicant = login(&http, &server.base, "d220102").await?;
    let reviewer = login(&http, &server.base, "c220100").await?;
    let forms = [
        ("application", example("forms/application.json")?),
        ("experiment_plan", example("forms/experiment_plan.json")?),
    ];
    let mut workers = Vec::new();
    for i in 0..clients {
        let created: Value = http
            .post(format!("{}/api/v1/cases", server.base))
            .bearer_auth(&applicant)
            .json(&json!({"workflow": "pilot-zone", "title": format!("压测案件 {i}")}))
            .send()
            .await?
            .json()
            .await?;
        let case = created["id"].as_str().context("no case id")?.to_owned();
        let mut version = created["version"].as_i64().context("no version")?;
        for (form, doc) in &forms {
            http.put(format!("{}/api/v1/cases/{case}/forms/{form}", server.base))
                .bearer_auth(&applicant)
                .json(doc)
                .send()
                .await?
                .error_for_status()?;
            version += 1;
        }
        workers.push(Client {
            http: http.clone(),
            base: server.base.clone(),
            applicant: applicant.clone(),
            reviewer: reviewer.clone(),
            case,
            version,
            return_input: example("return.json")?,
        });
    }
    let warmup = Duration::from_secs(2);
    let measure = Duration::from_secs(seconds);
    let cpu_before = std::sync::Arc::new(std::sync::Mutex::new(None::<f64>));
    let begin = Instant::now();
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut n = 0u64;
                loop {
                    let since = begin.elapsed();
                    if since > warmup + measure {
                        break;
                    }
                    let d = c.step(n).await?;
                    n += 1;
                    if since >= warmup {
                        samples.push(d);
                    }
                }
                anyhow::Ok(samples)
            })
        })
        .collect();
    tokio::time::sleep(warmup).await;
    *cpu_before.lock().map_err(|_| anyhow::anyhow!("lock"))? = cpu_seconds(pid);
    let client_cpu_before = cpu_seconds(std::process::id());
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let cpu_after = cpu_seconds(pid);
    let client_cpu = match (client_cpu_before, cpu_seconds(std::process::id())) {
        (Some(a), Some(b)) => Some((b - a) / all.len().max(1) as f64 * 1000.0),
        _ => None,
    };
    let peak_rss_kb = proc_status(pid, "VmHWM:").unwrap_or(0);
    server.finish(&postgres).await?;
    all.sort();
    let secs = measure.as_secs_f64();
    let tps = all.len() as f64 / secs;
    let cpu = match (
        *cpu_before.lock().map_err(|_| anyhow::anyhow!("lock"))?,
        cpu_after,
    ) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    Ok(json!({
        "workload": "http transitions (submit/return), closed loop",
        "backend": format!("{backend:?}").to_lowercase(),
        "clients": clients,
        "seconds": seconds,
        "transitions": all.len(),
        "transitions_per_second": (tps * 10.0).round() / 10.0,
        "p50_ms": percentile(&all, 0.50),
        "p95_ms": percentile(&all, 0.95),
        "p99_ms": percentile(&all, 0.99),
        "server_cpu_seconds_per_1000": cpu.map(|c| c / all.len().max(1) as f64 * 1000.0),
        "server_peak_rss_mb": peak_rss_kb as f64 / 1024.0,
        "load_generator_cpu_seconds_per_1000": client_cpu,
        "at": chrono::Utc::now().to_rfc3339(),
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Http {
            backend,
            clients,
            seconds,
            server,
            postgres,
        } => {
            let report = http(backend, clients, seconds, server, postgres).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Cmd::Review {
            backend,
            cases,
            server,
            postgres,
        } => {
            let report = review::run(backend, cases, server, postgres).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Cmd::Reminders {
            backend,
            cases,
            due,
            mails,
            smtp,
            postgres,
        } => {
            let database = match backend {
                Backend::Sqlite => None,
                Backend::Postgres => Some(fresh_postgres(&postgres).await?),
            };
            let report = reminders::run(reminders::Options {
                database: database.clone(),
                cases,
                due,
                mails,
                smtp,
            })
            .await;
            if let Some(url) = &database {
                drop_postgres(&postgres, url).await?;
            }
            println!("{}", serde_json::to_string_pretty(&report?)?);
        }
    }
    Ok(())
}
