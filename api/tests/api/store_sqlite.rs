//! The SQLite file's WAL: the writer never checkpoints, the store's own checkpointer copies
//! the WAL back into the database file. SQLite only, as the WAL is.

use crate::harness::{Store, init_test_logs};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn writes_reach_the_database_file_though_the_writer_never_checkpoints() {
    let (_dir, path, store) = fresh_store().await;
    let autocheckpoint = integer(&store.write, "PRAGMA wal_autocheckpoint").await;
    assert_eq!(
        autocheckpoint, 0,
        "the writer must leave checkpoints to the checkpointer"
    );

    let before = std::fs::metadata(&path).unwrap().len();
    // 2 MB: with no checkpoint it would stay in the WAL and the file would not grow.
    fill(&store.write, 2000).await;
    eventually(async || {
        let size = std::fs::metadata(&path).unwrap().len();
        (size > before + 2_000_000).then_some(()).ok_or_else(|| {
            format!(
                "the database file stayed at {size} bytes (from {before}): nothing was checkpointed"
            )
        })
    })
    .await;

    // What was copied back is what was written.
    let rows = integer(&store.read, "SELECT count(*) FROM filler").await;
    assert_eq!(rows, 2000);
}

/// A burst the checkpointer could not keep up with (here a reader holds every frame in the WAL)
/// leaves a long WAL; once it is copied back, the next write starts the WAL over and cuts the
/// file back to 64 MiB instead of keeping it at its longest.
#[tokio::test(flavor = "multi_thread")]
async fn the_wal_file_is_cut_back_after_a_burst() {
    init_test_logs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pilotflow.db");
    let limit = 64 << 20;
    let store =
        Store::connect_with_wal_limit(&format!("sqlite://{}", path.display()), 2, limit as i64)
            .await
            .unwrap();
    let wal = path.with_file_name("pilotflow.db-wal");
    fill(&store.write, 1).await;
    let reader = rusqlite::Connection::open(&path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
        .unwrap();
    fill(&store.write, 80_000).await;
    let longest = std::fs::metadata(&wal).unwrap().len();
    assert!(longest > limit, "the WAL reached only {longest} bytes");
    reader.execute_batch("COMMIT").unwrap();

    // The checkpointer copies it back; a write after that starts the WAL over.
    eventually(async || {
        store
            .write
            .execute_unprepared("INSERT INTO filler VALUES (x'00')")
            .await
            .unwrap();
        let size = std::fs::metadata(&wal).unwrap().len();
        (size <= limit)
            .then_some(())
            .ok_or_else(|| format!("the WAL file stayed at {size} bytes after the burst"))
    })
    .await;
    let rows = integer(&store.read, "SELECT count(*) FROM filler").await;
    assert!(rows > 80_000, "{rows} rows");
}

/// Under steady reads and writes a write seldom begins with every frame copied back and no
/// reader inside the WAL, the only moment SQLite starts a WAL over; the checkpointer makes that
/// moment once it has nearly caught up, so a burst's long WAL does not outlive the burst (after
/// a crash, the start reads every frame of it again).
#[tokio::test(flavor = "multi_thread")]
async fn a_long_wal_starts_over_under_steady_reads_and_writes() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let (_dir, path, store) = fresh_store().await;
    fill(&store.write, 1).await;
    let stop = Arc::new(AtomicBool::new(false));
    // Two readers taking turns, so that one is always inside a read transaction (as the
    // service's readers are under load).
    let readers = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut turns = [open(&path), open(&path)];
            turns[0].execute_batch("BEGIN").unwrap();
            count(&turns[0]);
            while !stop.load(Ordering::Relaxed) {
                turns[1].execute_batch("BEGIN").unwrap();
                count(&turns[1]);
                std::thread::sleep(Duration::from_millis(20));
                turns[0].execute_batch("COMMIT").unwrap();
                turns.swap(0, 1);
            }
        })
    };
    // A writer adding a row every millisecond, leaving checkpoints to the checkpointer. It
    // pauses between rows as the service's writer does between requests: writing back to back
    // it would take the lock again before the burst's connection (which sleeps between tries)
    // and could keep it out past its busy timeout.
    let writer = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let conn = open(&path);
            conn.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
            let mut written = 0;
            while !stop.load(Ordering::Relaxed) {
                conn.execute("INSERT INTO filler VALUES (randomblob(1024))", [])
                    .unwrap();
                written += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            written
        })
    };
    // The burst: 80 MB, some 20,000 frames.
    fill(&store.write, 80_000).await;
    let watcher = open(&path);
    eventually(async || {
        // (busy, frames in the WAL, frames copied back)
        let frames: i64 = watcher
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        (frames < 4_096)
            .then_some(())
            .ok_or_else(|| format!("the WAL still holds {frames} frames after the burst"))
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    readers.join().unwrap();
    let written = writer.join().unwrap();
    // Nothing written was lost on the way.
    assert_eq!(count(&watcher), 1 + 80_000 + written);
}

fn open(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

fn count(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
        .unwrap()
}

/// Adds `kib` rows of 1 KiB of random bytes to the table `filler`, made on first use.
async fn fill(db: &DatabaseConnection, kib: u32) {
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS filler (b BLOB NOT NULL)")
        .await
        .unwrap();
    db.execute_unprepared(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {kib}) \
         INSERT INTO filler SELECT randomblob(1024) FROM n"
    ))
    .await
    .unwrap();
}

/// Checks `done` every 50 ms until it holds; fails with its reason after 30 s.
async fn eventually(mut done: impl AsyncFnMut() -> Result<(), String>) {
    let started = Instant::now();
    while let Err(why) = done().await {
        assert!(started.elapsed() < Duration::from_secs(30), "{why}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A store on a new SQLite file (the directory goes when the first value is dropped).
async fn fresh_store() -> (tempfile::TempDir, std::path::PathBuf, Store) {
    init_test_logs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pilotflow.db");
    let store = Store::connect(&format!("sqlite://{}", path.display()), 2)
        .await
        .unwrap();
    (dir, path, store)
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

/// The writer thread (rusqlite) stores timestamps as sqlx does, so a row reads the same and
/// sorts the same whichever connection wrote it; and a case written twice at one version
/// changes once.
#[tokio::test(flavor = "multi_thread")]
async fn the_writer_thread_stores_rows_as_sqlx_does() {
    use crate::harness::entities::{case, case_event};
    use crate::harness::{CaseUpdate, CaseWrite, Transition};
    use chrono::{TimeZone, Utc};
    use sea_orm::EntityTrait;

    let (_dir, _path, store) = fresh_store().await;
    store.migrate().await.unwrap();
    let at = Utc.with_ymd_and_hms(2027, 9, 30, 15, 59, 59).unwrap()
        + chrono::Duration::microseconds(123_456);
    let row = case::Model {
        id: "c1".to_owned(),
        workflow_key: "pilot-zone".to_owned(),
        workflow_version: "1.0.0".to_owned(),
        title: "南关区申报".to_owned(),
        org_unit: "220102".to_owned(),
        parent_unit: Some("220100".to_owned()),
        round: None,
        state: "draft".to_owned(),
        snapshot: "{}".to_owned(),
        version: 1,
        head_hash: "h1".to_owned(),
        created_by: "d220102".to_owned(),
        created_at: at,
        updated_at: at,
    };
    let event = |seq: i64, hash: &str| case_event::Model {
        case_id: "c1".to_owned(),
        seq,
        kind: "started".to_owned(),
        action: None,
        actor: Some("d220102".to_owned()),
        actor_role: None,
        from_state: None,
        to_state: None,
        at,
        input_digest: "d".to_owned(),
        comment: None,
        body: "{}".to_owned(),
        prev_hash: String::new(),
        hash: hash.to_owned(),
    };
    let transition = |case, seq, hash| Transition {
        case,
        event: event(seq, hash),
        idempotency: None,
        deadlines: None,
        panel: None,
        document: None,
        form: None,
    };
    assert!(
        store
            .apply_transition(transition(
                CaseWrite::Insert(Box::new(row.clone())),
                1,
                "h1"
            ))
            .await
            .unwrap()
    );
    let read = case::Entity::find_by_id("c1")
        .one(&store.read)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, row);
    // The stored text is the text sqlx makes of the same instant.
    let texts = store
        .read
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT created_at, CAST($1 AS TEXT) FROM cases WHERE id = 'c1'",
            [at.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = texts.try_get_by_index(0).unwrap();
    let by_sqlx: String = texts.try_get_by_index(1).unwrap();
    assert_eq!(stored, by_sqlx);

    let update = || CaseUpdate {
        id: "c1".to_owned(),
        expected_version: 1,
        state: "submitted".to_owned(),
        snapshot: "{}".to_owned(),
        version: 2,
        round: Some(2027),
        head_hash: "h2".to_owned(),
        updated_at: at,
    };
    let (first, second) = tokio::join!(
        store.apply_transition(transition(CaseWrite::Update(update()), 2, "h2")),
        store.apply_transition(transition(CaseWrite::Update(update()), 2, "h2")),
    );
    assert_eq!(
        [first.unwrap(), second.unwrap()]
            .iter()
            .filter(|a| **a)
            .count(),
        1,
        "one of two writes at one version applies"
    );
    let events = integer(
        &store.read,
        "SELECT count(*) FROM case_events WHERE case_id = 'c1'",
    )
    .await;
    assert_eq!(events, 2);
}
