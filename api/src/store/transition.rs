//! Writing transitions: each is the case's new state, its chained event and, for a keyed request,
//! the idempotency record. The case row only changes if it is still at the version it was read
//! at; the event and idempotency rows are only written if it did.
//!
//! Every statement is a hand-off to a connection thread (SQLite) or a round trip (PostgreSQL),
//! and SQLite has one writer, so:
//! - PostgreSQL: one statement per transition (data-modifying CTEs);
//! - SQLite: a writer task commits the transitions waiting at that moment together, in one
//!   multi-statement call and one transaction (group commit). If that call fails, each
//!   transition of the batch is retried alone, so one bad transition fails only itself.

use super::entities::{case_event, idempotency_key};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};
use tokio::sync::{mpsc, oneshot};

/// The new state of a case row.
#[derive(Debug, Clone)]
pub struct CaseUpdate {
    pub id: String,
    pub expected_version: i64,
    pub state: String,
    pub snapshot: String,
    pub version: i64,
    pub round: Option<i32>,
    pub head_hash: String,
    pub updated_at: DateTime<Utc>,
}

/// One transition to write.
#[derive(Debug, Clone)]
pub struct Transition {
    pub update: CaseUpdate,
    pub event: case_event::Model,
    pub idempotency: Option<idempotency_key::Model>,
}

const EVENT_COLUMNS: &str = "case_id, seq, kind, action, actor, actor_role, from_state, \
     to_state, at, input_digest, comment, body, prev_hash, hash";
const IDEMPOTENCY_COLUMNS: &str = "username, key, request_hash, status, response, created_at";
const CASE_PARAMS: usize = 8;
const EVENT_PARAMS: usize = 14;
const IDEMPOTENCY_PARAMS: usize = 6;
/// Transitions per SQLite batch (28 parameters each, far below SQLite's limit of 32,766).
const MAX_BATCH: usize = 64;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn update_case(p: usize) -> String {
    format!(
        "UPDATE cases SET state = ${}, snapshot = ${}, version = ${}, round = ${}, \
         head_hash = ${}, updated_at = ${} WHERE id = ${} AND version = ${}",
        p,
        p + 1,
        p + 2,
        p + 3,
        p + 4,
        p + 5,
        p + 6,
        p + 7
    )
}

impl Transition {
    fn push_values(&self, v: &mut Vec<Value>) {
        let (u, e) = (&self.update, &self.event);
        v.extend([
            u.state.clone().into(),
            u.snapshot.clone().into(),
            u.version.into(),
            u.round.into(),
            u.head_hash.clone().into(),
            u.updated_at.into(),
            u.id.clone().into(),
            u.expected_version.into(),
            e.case_id.clone().into(),
            e.seq.into(),
            e.kind.clone().into(),
            e.action.clone().into(),
            e.actor.clone().into(),
            e.actor_role.clone().into(),
            e.from_state.clone().into(),
            e.to_state.clone().into(),
            e.at.into(),
            e.input_digest.clone().into(),
            e.comment.clone().into(),
            e.body.clone().into(),
            e.prev_hash.clone().into(),
            e.hash.clone().into(),
        ]);
        if let Some(i) = &self.idempotency {
            v.extend([
                i.username.clone().into(),
                i.key.clone().into(),
                i.request_hash.clone().into(),
                i.status.into(),
                i.response.clone().into(),
                i.created_at.into(),
            ]);
        }
    }

    fn param_count(&self) -> usize {
        CASE_PARAMS
            + EVENT_PARAMS
            + if self.idempotency.is_some() {
                IDEMPOTENCY_PARAMS
            } else {
                0
            }
    }
}

/// PostgreSQL: one statement; each insert reads the rows of the one before.
pub async fn write_postgres(db: &DatabaseConnection, t: &Transition) -> Result<bool, DbErr> {
    let mut sql = format!(
        "WITH upd AS ({} RETURNING id), \
         ev AS (INSERT INTO case_events ({EVENT_COLUMNS}) SELECT {} FROM upd RETURNING case_id)",
        update_case(1),
        placeholders(1 + CASE_PARAMS, EVENT_PARAMS)
    );
    if t.idempotency.is_some() {
        sql.push_str(&format!(
            ", idem AS (INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) SELECT {} FROM ev \
             RETURNING key)",
            placeholders(1 + CASE_PARAMS + EVENT_PARAMS, IDEMPOTENCY_PARAMS)
        ));
    }
    sql.push_str(" SELECT count(*) AS applied FROM ev");
    let mut values = Vec::with_capacity(t.param_count());
    t.push_values(&mut values);
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    let applied: i64 = match row {
        Some(r) => r.try_get("", "applied")?,
        None => 0,
    };
    Ok(applied == 1)
}

/// SQLite: the transitions of a batch in one transaction. `changes()` is the row count of the
/// statement before, so each event (and idempotency record) is written only if its case row
/// was. Only event inserts return rows (their hashes), which says which transitions applied;
/// the summed row counts of a multi-statement call are not reliable (BEGIN and COMMIT repeat
/// the previous count).
async fn write_sqlite_batch(
    db: &DatabaseConnection,
    batch: &[&Transition],
) -> Result<Vec<bool>, DbErr> {
    let mut sql = String::from("BEGIN IMMEDIATE;");
    let mut values = Vec::new();
    for t in batch {
        let p = values.len() + 1;
        sql.push_str(&format!(
            " {}; INSERT INTO case_events ({EVENT_COLUMNS}) SELECT {} WHERE changes() = 1 \
             RETURNING hash;",
            update_case(p),
            placeholders(p + CASE_PARAMS, EVENT_PARAMS)
        ));
        if t.idempotency.is_some() {
            sql.push_str(&format!(
                " INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) SELECT {} \
                 WHERE changes() = 1;",
                placeholders(p + CASE_PARAMS + EVENT_PARAMS, IDEMPOTENCY_PARAMS)
            ));
        }
        t.push_values(&mut values);
    }
    sql.push_str(" COMMIT;");
    let rows = match db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            values,
        ))
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            // A failed statement leaves the transaction open on the connection.
            let _ = db.execute_unprepared("ROLLBACK").await;
            return Err(e);
        }
    };
    let mut applied = vec![false; batch.len()];
    for row in rows {
        let hash: String = row.try_get("", "hash")?;
        // Two transitions of one case from one version can share a hash only if identical;
        // then the first in the batch is the one whose update matched.
        if let Some(i) = (0..batch.len()).find(|&i| !applied[i] && batch[i].event.hash == hash) {
            applied[i] = true;
        }
    }
    Ok(applied)
}

type Reply = oneshot::Sender<Result<bool, DbErr>>;

/// The SQLite group-commit writer: a task that owns the writing of transitions.
#[derive(Debug, Clone)]
pub struct SqliteWriter {
    queue: mpsc::Sender<(Transition, Reply)>,
}

impl SqliteWriter {
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, mut inbox) = mpsc::channel::<(Transition, Reply)>(1024);
        tokio::spawn(async move {
            while let Some(first) = inbox.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match inbox.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let transitions: Vec<&Transition> = batch.iter().map(|(t, _)| t).collect();
                match write_sqlite_batch(&db, &transitions).await {
                    Ok(applied) => {
                        for ((_, reply), ok) in batch.into_iter().zip(applied) {
                            let _ = reply.send(Ok(ok));
                        }
                    }
                    Err(e) if batch.len() == 1 => {
                        if let Some((_, reply)) = batch.pop() {
                            let _ = reply.send(Err(e));
                        }
                    }
                    Err(_) => {
                        for (t, reply) in batch {
                            let _ = reply.send(write_sqlite_batch(&db, &[&t]).await.map(|a| a[0]));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    pub async fn write(&self, t: Transition) -> Result<bool, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((t, reply))
            .await
            .map_err(|_| DbErr::Custom("the SQLite writer has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the SQLite writer dropped a transition".to_owned()))?
    }
}
