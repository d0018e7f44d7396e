//! SQLite's writer of transitions: a thread of our own with a connection of its own
//! (rusqlite), fed by a queue. It takes the transitions waiting at that moment and commits them
//! in one transaction (group commit), each inside a savepoint so that one bad transition (a
//! document number already used) fails only itself.
//!
//! Through sqlx every statement was a hand-off from the async workers to the connection's
//! thread and back: a third of the server's CPU went to switching threads (perf, W1 at 16
//! clients). Here a whole batch is one hand-off each way, and its statements are prepared once
//! and kept (the batch's texts are the same few shapes again and again).
//!
//! The writer also starts a long WAL over when the checkpointer asks (`restart_wal`): between
//! two batches, it holds no lock the restart has to wait for.

use super::transition::{Transition, sqlite_statements};
use chrono::SecondsFormat;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sea_orm::Value;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Transitions per transaction: enough to drain a burst, few enough to answer soon.
const MAX_BATCH: usize = 64;
/// Prepared statements kept: the shapes of a workflow's transitions (each count of running
/// deadlines and of panel members is a shape of its own).
const STATEMENT_CACHE: usize = 128;

/// Why a transition was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A unique key of the transition's rows is taken (an idempotency key, a document number);
    /// nothing of the transition was written.
    #[error("a unique key of the transition is already taken")]
    UniqueViolation,
    #[error(transparent)]
    Postgres(sea_orm::DbErr),
    #[error("SQLite")]
    Sqlite(#[from] rusqlite::Error),
    /// The batch's transaction could not begin or commit (logged where it happened).
    #[error("the SQLite transaction failed: {0}")]
    Transaction(String),
    #[error("the SQLite writer has stopped")]
    Stopped,
}

impl WriteError {
    pub(super) fn from_postgres(e: sea_orm::DbErr) -> Self {
        if super::is_unique_violation(&e) {
            Self::UniqueViolation
        } else {
            Self::Postgres(e)
        }
    }
}

/// A transition as statement texts and their values, made by the request's thread so that the
/// one writer thread only binds and steps; it comes back with the answer, so its memory is
/// freed where it was allocated (freeing across threads contends for the allocator's locks).
struct Job {
    statements: Vec<String>,
    values: Vec<Value>,
}

type Reply = oneshot::Sender<(Job, Result<bool, WriteError>)>;

/// What the writer thread is asked to do.
enum Work {
    Write(Job, Reply),
    /// Start the WAL over (see `restart_wal`); answers whether it did.
    RestartWal(oneshot::Sender<Result<bool, rusqlite::Error>>),
}

/// The queue to the writer thread. The thread stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct SqliteWriter {
    queue: mpsc::Sender<Work>,
}

/// How long a WAL restart waits for the readers still inside the WAL; the writes queue up
/// meanwhile. Longer readers make it give up until the checkpointer's next try.
const RESTART_WAIT: Duration = Duration::from_millis(50);
/// The writer's wait for another connection's lock (another process on the same file).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl SqliteWriter {
    pub fn start(path: &Path, wal_limit: i64) -> Result<Self, rusqlite::Error> {
        let conn = open(path, wal_limit)?;
        let (queue, inbox) = mpsc::channel(1024);
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run(conn, inbox))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Self { queue })
    }

    /// Writes a transition; false if its case was no longer at the expected version.
    pub async fn write(&self, t: Transition) -> Result<bool, WriteError> {
        let (statements, values) = sqlite_statements(t);
        self.send(Job { statements, values }).await
    }

    async fn send(&self, job: Job) -> Result<bool, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Work::Write(job, reply))
            .await
            .map_err(|_| WriteError::Stopped)?;
        let (_job, result) = answer.await.map_err(|_| WriteError::Stopped)?;
        result
    }

    /// Copies the frames left in the WAL back and makes the next write start the WAL from its
    /// beginning (`PRAGMA wal_checkpoint(RESTART)`), on the writer's thread, after the
    /// transitions queued before it. Done here, the restart only waits for readers: from the
    /// checkpointer's connection it first had to win the write lock from this thread, each
    /// side sleeping between tries, and W2's writes stood still 35–55 ms at every restart.
    /// Answers false when readers kept it waiting past `RESTART_WAIT`.
    pub async fn restart_wal(&self) -> Result<bool, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Work::RestartWal(reply))
            .await
            .map_err(|_| WriteError::Stopped)?;
        Ok(answer.await.map_err(|_| WriteError::Stopped)??)
    }
}

/// The writer's connection, set as the service's sqlx connections are (api/src/store/mod.rs):
/// WAL, `synchronous = NORMAL`, a busy timeout, foreign keys, statement journals in memory,
/// the WAL file's size limit, and no checkpoints of its own (the checkpointer copies the WAL
/// back).
fn open(path: &Path, wal_limit: i64) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = memory; PRAGMA wal_autocheckpoint = 0;",
    )?;
    conn.pragma_update(None, "journal_size_limit", wal_limit)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

fn run(mut conn: Connection, mut inbox: mpsc::Receiver<Work>) {
    // A restart taken off the queue while gathering a batch waits here for that batch.
    let mut next = None;
    while let Some(work) = next.take().or_else(|| inbox.blocking_recv()) {
        let first = match work {
            Work::Write(job, reply) => (job, reply),
            Work::RestartWal(reply) => {
                let _ = reply.send(restart_wal(&conn));
                continue;
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(Work::Write(job, reply)) => batch.push((job, reply)),
                // After this batch, which was queued before it.
                Ok(restart) => {
                    next = Some(restart);
                    break;
                }
                Err(_) => break,
            }
        }
        let results = write_batch(&mut conn, batch.iter().map(|(job, _)| job));
        for ((job, reply), result) in batch.into_iter().zip(results) {
            let _ = reply.send((job, result));
        }
    }
}

fn restart_wal(conn: &Connection) -> Result<bool, rusqlite::Error> {
    conn.busy_timeout(RESTART_WAIT)?;
    // (busy, frames in the WAL, frames copied back); busy when readers outlasted the wait.
    let busy = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
        row.get::<_, i64>(0)
    });
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(busy? == 0)
}

/// The batch in one transaction; a result per transition, none of them `Ok` unless the
/// transaction committed.
fn write_batch<'a>(
    conn: &mut Connection,
    batch: impl ExactSizeIterator<Item = &'a Job>,
) -> Vec<Result<bool, WriteError>> {
    let n = batch.len();
    let all_failed = |e: &rusqlite::Error| {
        tracing::error!(error = %e, "SQLite writer: a batch of {n} transitions failed");
        (0..n)
            .map(|_| Err(WriteError::Transaction(e.to_string())))
            .collect::<Vec<_>>()
    };
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return all_failed(&e),
    };
    let mut results = Vec::with_capacity(n);
    for job in batch {
        let result = tx.savepoint().and_then(|sp| {
            let applied = write_one(&sp, job)?;
            sp.commit()?;
            Ok(applied)
        });
        results.push(result.map_err(|e| {
            if is_unique(&e) {
                WriteError::UniqueViolation
            } else {
                WriteError::Sqlite(e)
            }
        }));
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => all_failed(&e),
    }
}

fn is_unique(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// One transition: the case row, then, only if it changed, everything else.
fn write_one(conn: &Connection, job: &Job) -> Result<bool, rusqlite::Error> {
    let values = &job.values;
    for (i, text) in job.statements.iter().enumerate() {
        let mut stmt = conn.prepare_cached(text)?;
        for p in 1..=stmt.parameter_count() {
            let value = stmt
                .parameter_name(p)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| values.get(n - 1))
                .ok_or(rusqlite::Error::InvalidParameterCount(p, values.len()))?;
            stmt.raw_bind_parameter(p, Bind(value))?;
        }
        let changed = stmt.raw_execute()?;
        if i == 0 && changed != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A sea-query value as SQLite stores it, written as sqlx writes it (timestamps as RFC 3339
/// text with `T` and an offset), so rows read the same whichever connection wrote them.
struct Bind<'a>(&'a Value);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::String(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::BigInt(Some(n)) => ToSqlOutput::from(*n),
            Value::Int(Some(n)) => ToSqlOutput::from(*n),
            Value::Bool(Some(b)) => ToSqlOutput::from(*b),
            Value::ChronoDateTimeUtc(Some(t)) => {
                ToSqlOutput::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
            }
            Value::String(None)
            | Value::BigInt(None)
            | Value::Int(None)
            | Value::Bool(None)
            | Value::ChronoDateTimeUtc(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("no SQLite form for {other:?}").into(),
                ));
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// A new file in WAL mode with the table `t`, and a connection of its own to it.
    fn wal_file(dir: &tempfile::TempDir) -> (std::path::PathBuf, Connection) {
        let path = dir.path().join("wal.sqlite3");
        let other = Connection::open(&path).expect("open");
        other
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (body)")
            .expect("table");
        (path, other)
    }

    fn statement(sql: &str) -> Job {
        Job {
            statements: vec![sql.to_owned()],
            values: Vec::new(),
        }
    }

    /// The writer's connection starts a caught-up WAL over from the beginning and cuts the file
    /// back to the limit (the sqlx connections' is tested in api/tests/api/store_sqlite.rs).
    #[tokio::test]
    async fn the_writer_cuts_a_long_wal_back_when_it_starts_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, other) = wal_file(&dir);
        let limit = 64 << 20;
        let writer = SqliteWriter::start(&path, limit).expect("writer");
        // 80 MiB, more than the limit, which the writer never checkpoints.
        for _ in 0..80 {
            let job = statement("INSERT INTO t VALUES (randomblob(1048576))");
            assert!(writer.send(job).await.expect("written"));
        }
        let wal = dir.path().join("wal.sqlite3-wal");
        let longest = std::fs::metadata(&wal).expect("WAL").len();
        assert!(longest > 80 << 20, "the WAL reached only {longest} bytes");

        other
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .expect("checkpoint");
        let job = statement("INSERT INTO t VALUES (1)");
        assert!(writer.send(job).await.expect("written"));
        let size = std::fs::metadata(&wal).expect("WAL").len();
        assert!(size <= limit as u64, "the WAL file stayed at {size} bytes");
    }

    /// The checkpointer's restart runs on the writer's thread: once the WAL is copied back, the
    /// next write starts the WAL from its beginning; a reader still inside the WAL makes the
    /// restart give up (the writer does not stand still for its ten-second busy timeout), and
    /// the writes after it go on.
    #[tokio::test]
    async fn the_writer_starts_a_copied_back_wal_over_unless_a_reader_is_inside_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, other) = wal_file(&dir);
        let writer = SqliteWriter::start(&path, 64 << 20).expect("writer");
        // (frames in the WAL, frames copied back), after copying back what no reader holds.
        let passive = |conn: &Connection| {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
            .expect("checkpoint")
        };
        for _ in 0..16 {
            let job = statement("INSERT INTO t VALUES (randomblob(65536))");
            assert!(writer.send(job).await.expect("written"));
        }
        // A reader inside the WAL: its snapshot is made of the WAL's frames.
        let reader = Connection::open(&path).expect("open");
        reader.execute_batch("BEGIN").expect("begin");
        let rows: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 16);
        let (frames, copied) = passive(&other);
        assert!(
            frames > 256 && copied == frames,
            "{frames} frames, {copied} copied"
        );

        let started = std::time::Instant::now();
        assert!(
            !writer.restart_wal().await.expect("restart"),
            "the WAL started over under a reader inside it"
        );
        let waited = started.elapsed();
        assert!(
            waited < BUSY_TIMEOUT / 2,
            "the restart waited {waited:?} for the reader"
        );
        let job = statement("INSERT INTO t VALUES (1)");
        assert!(
            writer
                .send(job)
                .await
                .expect("written after the refused restart")
        );
        assert!(passive(&other).0 > frames, "the WAL did not go on growing");

        reader.execute_batch("COMMIT").expect("end the read");
        assert!(writer.restart_wal().await.expect("restart"));
        let job = statement("INSERT INTO t VALUES (2)");
        assert!(writer.send(job).await.expect("written after the restart"));
        let (frames_now, _) = passive(&other);
        assert!(
            frames_now < 16,
            "the WAL holds {frames_now} frames after the restart: it did not start over"
        );
        let rows: i64 = other
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 18, "a row was lost on the way");
    }
}
