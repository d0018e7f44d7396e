//! Settings: defaults, then `pilotflow.toml` (or the file named by `PILOTFLOW_CONFIG`), then
//! `PILOTFLOW_*` environment variables and `DATABASE_URL`. Unknown keys are refused.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The demo password when `PILOTFLOW_DEMO_PASSWORD` is not set (documented in the README).
pub const DEFAULT_DEMO_PASSWORD: &str = "pilotflow-demo";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on; port 0 picks a free one.
    pub bind: String,
    /// `postgres://…` or `sqlite://…`; unset means an SQLite file in `data_dir`.
    pub database_url: Option<Secret>,
    /// Where the SQLite file and the attachments live.
    pub data_dir: PathBuf,
    pub workflows_dir: PathBuf,
    pub schemas_dir: PathBuf,
    /// Password of every demo user seeded by `serve --demo`.
    pub demo_password: Secret,
    /// Password for `admin` when the database has no users yet (outside demo mode).
    pub admin_password: Option<Secret>,
    /// Largest accepted attachment, in bytes.
    pub max_upload_bytes: u64,
    /// How long a login token stays valid, in hours.
    pub token_ttl_hours: u32,
    /// Failed logins allowed per user name within `login_window_minutes`.
    pub login_max_failures: u32,
    /// Failed logins allowed per client address (higher: offices share one address).
    pub login_max_failures_per_address: u32,
    pub login_window_minutes: u32,
    /// Connections to PostgreSQL (SQLite uses one writer and this many readers).
    pub db_pool_size: u32,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// `json` or `pretty` log lines; unset: `pretty` when the output is a terminal, else
    /// `json`.
    pub log_format: Option<LogFormat>,
    /// `system`, or `simulated` for rehearsals (演练模式): time starts at `clock_start`.
    pub clock_mode: crate::clock::ClockMode,
    /// Where a simulated clock starts (RFC 3339); unset means now.
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// Where mail goes: `smtp://host:port`, `smtps://user:pass@host` or
    /// `smtp://host?tls=required`; unset means notifications stay in the app only and the
    /// outbox keeps its rows until a server is configured.
    pub smtp_url: Option<Secret>,
    /// The sender of every mail.
    pub mail_from: String,
    /// The address people reach the service at, for links in mail and the calendar feed and
    /// for the origin check of the web application's requests. Unset (empty): `http://` and
    /// the address the service listens on (127.0.0.1 for an unspecified address).
    pub public_url: String,
    /// When the reminder scan runs (cron with seconds, UTC); `off` to run it only on demand.
    pub deadline_scan_cron: String,
    /// When the outbox worker sends waiting mail; `off` likewise.
    pub outbox_cron: String,
    /// Failed sends before a mail is marked dead for the admin to look at.
    pub outbox_max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A value kept out of logs and `Debug` output.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: None,
            data_dir: PathBuf::from("data"),
            workflows_dir: PathBuf::from("workflows"),
            schemas_dir: PathBuf::from("schemas"),
            demo_password: Secret::new(DEFAULT_DEMO_PASSWORD),
            admin_password: None,
            max_upload_bytes: 50 * 1024 * 1024,
            token_ttl_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_address: 50,
            login_window_minutes: 15,
            db_pool_size: 8,
            workers: 0,
            log_format: None,
            clock_mode: crate::clock::ClockMode::System,
            clock_start: None,
            smtp_url: None,
            mail_from: "试点工作平台 <noreply@pilotflow.test>".to_owned(),
            public_url: String::new(),
            deadline_scan_cron: "0 * * * * *".to_owned(),
            outbox_cron: "*/10 * * * * *".to_owned(),
            outbox_max_attempts: 8,
        }
    }
}

impl Settings {
    /// Reads the layered configuration from the process environment.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let file = std::env::var_os("PILOTFLOW_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("pilotflow.toml"));
        Self::load_from(&file)
    }

    pub fn load_from(file: &Path) -> Result<Self, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("PILOTFLOW_").ignore(&["config"]))
            .merge(Env::raw().only(&["database_url"]))
            .extract()
            .map_err(Box::new)
    }

    /// The database to use: `DATABASE_URL`, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!(
                "sqlite://{}",
                self.data_dir.join("pilotflow.sqlite3").display()
            ),
        }
    }

    pub fn clock(&self) -> crate::clock::Clock {
        match self.clock_mode {
            crate::clock::ClockMode::System => crate::clock::Clock::System,
            crate::clock::ClockMode::Simulated => {
                crate::clock::Clock::simulated(self.clock_start.unwrap_or_else(chrono::Utc::now))
            }
        }
    }

    /// Fills an unset `public_url` from the address the service listens on.
    pub fn public_url_from(&mut self, listening: std::net::SocketAddr) {
        if !self.public_url.trim().is_empty() {
            return;
        }
        let mut addr = listening;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        self.public_url = format!("http://{addr}");
    }

    /// An address of the service as people reach it (`path` starts with `/`).
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.data_dir.join("attachments")
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment's own error type
mod tests {
    use super::*;
    use figment::Jail;

    fn load(jail: &Jail) -> Result<Settings, Box<figment::Error>> {
        Settings::load_from(&jail.directory().join("pilotflow.toml"))
    }

    #[test]
    fn defaults_apply_without_file_or_environment() {
        Jail::expect_with(|jail| {
            let s = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(s.bind, "127.0.0.1:8080");
            assert_eq!(s.max_upload_bytes, 50 * 1024 * 1024);
            assert_eq!(s.demo_password.expose(), DEFAULT_DEMO_PASSWORD);
            assert_eq!(s.database_url(), "sqlite://data/pilotflow.sqlite3");
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_the_file() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "pilotflow.toml",
                "bind = \"0.0.0.0:9000\"\ndata_dir = \"/srv/pf\"\n",
            )?;
            let s = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(s.bind, "0.0.0.0:9000");
            assert_eq!(s.database_url(), "sqlite:///srv/pf/pilotflow.sqlite3");
            jail.set_env("PILOTFLOW_BIND", "127.0.0.1:7000");
            jail.set_env("PILOTFLOW_DEMO_PASSWORD", "another-secret");
            jail.set_env("DATABASE_URL", "postgres://postgres@127.0.0.1/pf");
            let s = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(s.bind, "127.0.0.1:7000");
            assert_eq!(s.demo_password.expose(), "another-secret");
            assert_eq!(s.database_url(), "postgres://postgres@127.0.0.1/pf");
            assert!(!format!("{s:?}").contains("another-secret"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused_wherever_they_come_from() {
        Jail::expect_with(|jail| {
            jail.create_file("pilotflow.toml", "bnid = \"0.0.0.0:9000\"\n")?;
            let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("bnid"), "{err}");
            jail.create_file("pilotflow.toml", "")?;
            jail.set_env("PILOTFLOW_MAX_UPLOAD", "10");
            let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("max_upload"), "{err}");
            Ok(())
        });
    }
}
