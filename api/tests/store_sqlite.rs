//! The SQLite file's WAL: the writer never checkpoints, the store's own checkpointer copies
//! the WAL back into the database file. SQLite only, as the WAL is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pilotflow::store::Store;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn writes_reach_the_database_file_though_the_writer_never_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pilotflow.db");
    let store = Store::connect(&format!("sqlite://{}", path.display()), 2)
        .await
        .unwrap();
    let autocheckpoint = integer(&store.write, "PRAGMA wal_autocheckpoint").await;
    assert_eq!(
        autocheckpoint, 0,
        "the writer must leave checkpoints to the checkpointer"
    );

    store
        .write
        .execute_unprepared("CREATE TABLE filler (b BLOB NOT NULL)")
        .await
        .unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    // 2 MB: with no checkpoint it would stay in the WAL and the file would not grow.
    store
        .write
        .execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO filler SELECT randomblob(1024) FROM n",
        )
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let size = std::fs::metadata(&path).unwrap().len();
        if size > before + 2_000_000 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the database file stayed at {size} bytes (from {before}): nothing was checkpointed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // What was copied back is what was written.
    let rows = integer(&store.read, "SELECT count(*) FROM filler").await;
    assert_eq!(rows, 2000);
}

/// The one integer a statement answers.
async fn integer(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}
