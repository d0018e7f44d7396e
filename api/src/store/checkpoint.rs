//! SQLite's WAL checkpoints, off the writer's thread.
//!
//! By default the connection whose commit grows the WAL past 1,000 pages copies it back into
//! the database file, inside that commit: the one writer stops for it (measured: 11% of the
//! reminder scan's writer time, and the slowest commits of a burst). Here the writer never
//! checkpoints; a connection of its own does, a few times a second, on the other core.
//! `PASSIVE` never waits for readers or the writer, and SQLite restarts the WAL from its
//! beginning once a checkpoint has caught up, as it does with automatic checkpoints.

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
    pub async fn start(options: &SqliteConnectOptions) -> Result<Self, sea_orm::sqlx::Error> {
        let mut conn = options.connect().await?;
        let (stop_tx, mut stop) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tick.tick() => checkpoint(&mut conn).await,
                }
            }
            // One more on a clean stop, so what was written is in the database file.
            checkpoint(&mut conn).await;
            let _ = conn.close().await;
        });
        Ok(Self { _stop: stop_tx })
    }
}

async fn checkpoint(conn: &mut SqliteConnection) {
    if let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
        // The next tick tries again; the WAL only grows meanwhile.
        tracing::warn!(error = %e, "WAL checkpoint failed");
    }
}
