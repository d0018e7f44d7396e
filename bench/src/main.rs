//! The load harness: `bench all` (the floor and W1–W3 against the release `pilotflow` server,
//! see `load.rs`), `bench reminders` (W4, in process) and `bench review` (expert review at
//! round scale). `bench/run` runs them on both backends and writes bench/results/.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod load;
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
    /// One backend's run of the load harness: the floor, W1, W2, W3 and the restart.
    All {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        /// Seconds measured per closed-loop run (after a 2-second warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// W1 client counts.
        #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
        clients: Vec<usize>,
        /// W2 arrival rates per second, in steps.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "100,200,400,800,1000,1200,1600,2400,3200"
        )]
        rates: Vec<u64>,
        /// Seconds per W2 step.
        #[arg(long, default_value_t = 4)]
        step_seconds: u64,
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

/// A release server on demo data that can be restarted on the same database.
struct Node {
    binary: PathBuf,
    data: PathBuf,
    port: u16,
    database: Option<String>,
    child: Option<Child>,
}

impl Node {
    async fn new(backend: Backend, binary: &Path, postgres: &str) -> Result<Self> {
        let data = std::env::temp_dir().join(format!("pf-load-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data)?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let database = match backend {
            Backend::Postgres => Some(fresh_postgres(postgres).await?),
            Backend::Sqlite => None,
        };
        let mut node = Self {
            binary: binary.to_owned(),
            data,
            port,
            database,
            child: None,
        };
        node.start().await?;
        Ok(node)
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Starts the server and waits for `/readyz`; returns how long that took.
    async fn start(&mut self) -> Result<Duration> {
        let mut cmd = Command::new(&self.binary);
        cmd.args(["serve", "--demo"])
            .env("PILOTFLOW_DATA_DIR", &self.data)
            .env("PILOTFLOW_BIND", format!("127.0.0.1:{}", self.port))
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = &self.database {
            cmd.env("DATABASE_URL", url)
                .env("PILOTFLOW_DB_POOL_SIZE", "16");
        }
        let began = Instant::now();
        self.child = Some(cmd.spawn().with_context(|| {
            format!("starting {} (cargo build --release)", self.binary.display())
        })?);
        let client = reqwest::Client::new();
        while began.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = client.get(format!("{}/readyz", self.base())).send().await
                && r.status().is_success()
            {
                return Ok(began.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        bail!("the server did not become ready")
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    async fn finish(mut self, postgres: &str) -> Result<()> {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data);
        if let Some(url) = self.database.take() {
            drop_postgres(postgres, &url).await?;
        }
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data);
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

/// CPU seconds the whole machine has been busy, over all its cores and processes (the
/// server, the load generator, PostgreSQL, the kernel), from the `cpu` line of /proc/stat:
/// user, nice, system, irq and softirq. Idle, I/O wait and steal (time the hypervisor gave to
/// other machines) are not work done here.
fn machine_busy_seconds() -> Option<f64> {
    busy_seconds_of(&std::fs::read_to_string("/proc/stat").ok()?)
}

fn busy_seconds_of(proc_stat: &str) -> Option<f64> {
    let fields: Vec<f64> = proc_stat
        .lines()
        .find(|l| l.starts_with("cpu "))?
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let busy = [0, 1, 2, 5, 6].iter().map(|&i| fields.get(i).copied());
    Some(busy.sum::<Option<f64>>()? / 100.0)
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::All {
            backend,
            seconds,
            clients,
            rates,
            step_seconds,
            server,
            postgres,
        } => {
            let report = load::run(&load::Plan {
                backend,
                binary: server,
                postgres,
                seconds,
                clients,
                rates,
                step_seconds,
            })
            .await?;
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

#[cfg(test)]
mod tests {
    use super::busy_seconds_of;

    #[test]
    fn busy_time_counts_user_nice_system_irq_and_softirq_but_not_idle_iowait_or_steal() {
        // user nice system idle iowait irq softirq steal guest guest_nice, in 1/100 s.
        let stat = "cpu  700 5 800 174551 437 3 126 620 0 0\n\
                    cpu0 350 5 400 87275 200 1 60 300 0 0\n\
                    intr 12345\n";
        assert_eq!(
            busy_seconds_of(stat),
            Some((700 + 5 + 800 + 3 + 126) as f64 / 100.0)
        );
        assert_eq!(busy_seconds_of("cpu0 1 2 3 4 5 6 7\n"), None);
        assert_eq!(busy_seconds_of("cpu  1 2 x 4 5 6 7\n"), None);
    }
}
