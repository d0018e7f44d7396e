//! Persistence: connections, migrations, table rows, and the queries each area of the
//! service needs, one file per group of tables. No other module builds SQL or reaches for a
//! connection; `read` and `write` are public for the command-line tools, the benchmark and the
//! tests.

mod attachments;
mod batch;
mod cases;
mod checkpoint;
mod deadlines;
pub mod entities;
mod events;
mod migration;
mod notifications;
pub mod reminders;
mod review;
mod scope;
mod sqlite_writer;
mod transition;
mod units;
mod users;

pub use cases::{CasePages, CaseQuery};
pub use notifications::NotificationPage;
pub use scope::CaseScope;
/// The store's error: areas pass it on without knowing the database library.
pub use sea_orm::DbErr;
pub use users::UserChange;

use checkpoint::WalCheckpointer;
use sqlite_writer::SqliteWriter;
pub use sqlite_writer::WriteError;
use std::sync::Arc;
pub use transition::{
    CaseUpdate, CaseWrite, DeadlineWrite, PanelWrite, RunningDeadline, STILL_PENDING, Transition,
    write_deadlines,
};

use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{DatabaseConnection, DbBackend, SqlxPostgresConnector, SqlxSqliteConnector};
use sea_orm_migration::MigratorTrait;
use std::str::FromStr;
use std::time::Duration;
use tracing::log::LevelFilter;

pub use migration::Migrator;

/// What the SQLite WAL file is cut back to when it starts over. A burst the checkpointer cannot
/// keep up with grows it (2.9 GB in 20 s of W2's overload steps); without a limit the file
/// keeps that size until the last connection closes. Cut back to 64 MiB, W1 lost 5 % (the file
/// truncated and grown again under load); at 1 GiB nothing measurable.
pub const WAL_SIZE_LIMIT: i64 = 1 << 30;

/// The database, split so that SQLite has exactly one writer: `write` is used for every
/// transaction that changes data, `read` for everything else. On PostgreSQL both are one pool.
#[derive(Clone, Debug)]
pub struct Store {
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
    /// SQLite only: the group-commit writer of transitions, a thread of its own.
    sqlite_writer: Option<SqliteWriter>,
    /// SQLite only: copies the WAL back into the database file, off the writer's thread.
    _checkpointer: Option<Arc<WalCheckpointer>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use postgres://… or sqlite://…")]
    UnsupportedUrl(String),
    #[error("cannot open the database")]
    Connect(#[source] sea_orm::sqlx::Error),
    #[error("cannot migrate the database")]
    Migrate(#[source] DbErr),
    #[error("cannot start the SQLite writer")]
    Writer(#[source] rusqlite::Error),
}

impl Store {
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, StoreError> {
        Self::connect_with_wal_limit(url, pool_size, WAL_SIZE_LIMIT).await
    }

    /// As [`Store::connect`], with the size SQLite's WAL file is cut back to when it starts
    /// over (tests use a small one).
    pub async fn connect_with_wal_limit(
        url: &str,
        pool_size: u32,
        wal_limit: i64,
    ) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(StoreError::Connect)?
                .log_statements(LevelFilter::Off);
            let pool = PgPoolOptions::new()
                .max_connections(pool_size.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
            Ok(Self {
                read: db.clone(),
                write: db,
                sqlite_writer: None,
                _checkpointer: None,
            })
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(StoreError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Statement journals (a multi-row statement inside a transaction keeps one)
                // in memory, not in a temporary file: 8% of the reminder scan's writer time
                // was their writes.
                .pragma("temp_store", "memory")
                .pragma("journal_size_limit", wal_limit.to_string())
                // Statement logging costs more than the statements here.
                .log_statements(LevelFilter::Off);
            // The writer never checkpoints; `WalCheckpointer` does.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
                .await
                .map_err(StoreError::Connect)?;
            // Each SQLite connection is a thread of its own; more readers than cores only
            // adds hand-offs (measured: 2 readers beat 4 and 8 on two cores).
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            let read = SqlitePoolOptions::new()
                .max_connections(pool_size.clamp(1, cores.max(1)))
                .connect_with(options.clone())
                .await
                .map_err(StoreError::Connect)?;
            // After the sqlx connections, which create the file and put it in WAL mode.
            let writer = SqliteWriter::start(options.get_filename(), wal_limit)
                .map_err(StoreError::Writer)?;
            let checkpointer = WalCheckpointer::start(&options, writer.clone())
                .await
                .map_err(StoreError::Connect)?;
            Ok(Self {
                read: SqlxSqliteConnector::from_sqlx_sqlite_pool(read),
                sqlite_writer: Some(writer),
                write: SqlxSqliteConnector::from_sqlx_sqlite_pool(write),
                _checkpointer: Some(Arc::new(checkpointer)),
            })
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.write, None)
            .await
            .map_err(StoreError::Migrate)
    }

    /// Writes a transition if its case is still at the expected version; returns whether it was.
    pub async fn apply_transition(&self, t: Transition) -> Result<bool, WriteError> {
        match &self.sqlite_writer {
            Some(writer) => writer.write(t).await,
            None => transition::write_postgres(&self.write, t)
                .await
                .map_err(WriteError::from_postgres),
        }
    }

    /// A write transaction. On SQLite it takes the write lock at `BEGIN` (IMMEDIATE), so two
    /// processes on one file wait for each other (busy timeout) instead of failing when a
    /// reading transaction tries to start writing.
    pub async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        self.write
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.ping().await
    }
}

/// Whether a database error is a unique-key collision (the same key written twice).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
