//! SQLite's WAL checkpoints, off the writer's thread.
//!
//! By default the connection whose commit grows the WAL past 1,000 pages copies it back into
//! the database file, inside that commit: the one writer stops for it (measured: 11% of the
//! reminder scan's writer time, and the slowest commits of a burst). Here the writer never
//! checkpoints; a connection of its own does, a few times a second, on the other core.
//! `PASSIVE` never waits for readers or the writer. Once it has nearly caught up with a long
//! WAL, it asks the writer for a `RESTART` checkpoint, which makes the next write start the
//! WAL from its beginning (see `checkpoint`).

use super::sqlite_writer::SqliteWriter;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{ConnectOptions as _, Connection as _, Executor as _};
use std::time::Duration;
use tokio::sync::oneshot;

/// How often the WAL is copied back. At the reminder scan's 20 MB/s of WAL that is about as
/// many pages per checkpoint as SQLite's own threshold; when nothing was written a checkpoint
/// returns at once.
const INTERVAL: Duration = Duration::from_millis(250);

/// Runs while any clone of the store holds it; the last drop stops the task.
#[derive(Debug)]
pub struct WalCheckpointer {
    _stop: oneshot::Sender<()>,
}

impl WalCheckpointer {
    pub async fn start(
        options: &SqliteConnectOptions,
        writer: SqliteWriter,
    ) -> Result<Self, sea_orm::sqlx::Error> {
        let mut conn = options.connect().await?;
        let (stop_tx, mut stop) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tick.tick() => checkpoint(&mut conn, &writer).await,
                }
            }
            // One more on a clean stop, so what was written is in the database file.
            checkpoint(&mut conn, &writer).await;
            let _ = conn.close().await;
        });
        Ok(Self { _stop: stop_tx })
    }
}

/// A WAL this long (frames) is started over as soon as the checkpoint has nearly caught up:
/// 64 MiB of 4 KiB pages. After a crash SQLite reads every frame of the WAL again before the
/// first query (a 2.9 GB WAL: 1.1 s to `/readyz`).
const RESTART_AFTER_FRAMES: i64 = 16_384;
/// Frames left to copy for the catch-up to count as nearly done: the restart copies them with
/// the writer held back, a few milliseconds.
const NEARLY_CAUGHT_UP_FRAMES: i64 = 1_024;

async fn checkpoint(conn: &mut SqliteConnection, writer: &SqliteWriter) {
    use sea_orm::sqlx::Row as _;
    // (busy, frames in the WAL, frames copied back)
    let passive = conn
        .fetch_one("PRAGMA wal_checkpoint(PASSIVE)")
        .await
        .and_then(|row| Ok((row.try_get::<i64, _>(1)?, row.try_get::<i64, _>(2)?)));
    let (frames, copied) = match passive {
        Ok(counts) => counts,
        Err(e) => {
            // The next tick tries again; the WAL only grows meanwhile.
            tracing::warn!(error = %e, "WAL checkpoint failed");
            return;
        }
    };
    // The WAL starts over only when a write begins with every frame copied back and no reader
    // inside the WAL. Under steady reads and writes that moment may never come, and the WAL
    // grows without end; RESTART makes it: it holds the writer back, copies the few frames
    // left, and waits for the readers still inside the WAL (new ones read the database file).
    // Readers that outlast its wait leave the WAL as it is until the next tick.
    if frames >= RESTART_AFTER_FRAMES
        && frames - copied <= NEARLY_CAUGHT_UP_FRAMES
        && let Err(e) = writer.restart_wal().await
    {
        tracing::warn!(error = %e, frames, "WAL restart failed");
    }
}
