//! Writing one transition (the case's new state, its chained event and, for a keyed request,
//! the idempotency record) in a single round trip to the database: every statement sent to
//! SQLite or PostgreSQL is a hand-off to a connection thread or a network round trip, and the
//! write path is the service's bottleneck. The case row is only changed if it is still at the
//! version it was read at; the event and idempotency rows are only written if it was.

use super::Store;
use super::entities::{case_event, idempotency_key};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// The new state of a case row.
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

const UPDATE_CASE: &str = "UPDATE cases SET state = $1, snapshot = $2, version = $3, round = $4, \
     head_hash = $5, updated_at = $6 WHERE id = $7 AND version = $8";
const EVENT_COLUMNS: &str = "case_id, seq, kind, action, actor, actor_role, from_state, \
     to_state, at, input_digest, comment, body, prev_hash, hash";
const IDEMPOTENCY_COLUMNS: &str = "username, key, request_hash, status, response, created_at";

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn values(
    update: &CaseUpdate,
    event: &case_event::Model,
    idem: Option<&idempotency_key::Model>,
) -> Vec<Value> {
    let mut v: Vec<Value> = vec![
        update.state.clone().into(),
        update.snapshot.clone().into(),
        update.version.into(),
        update.round.into(),
        update.head_hash.clone().into(),
        update.updated_at.into(),
        update.id.clone().into(),
        update.expected_version.into(),
        event.case_id.clone().into(),
        event.seq.into(),
        event.kind.clone().into(),
        event.action.clone().into(),
        event.actor.clone().into(),
        event.actor_role.clone().into(),
        event.from_state.clone().into(),
        event.to_state.clone().into(),
        event.at.into(),
        event.input_digest.clone().into(),
        event.comment.clone().into(),
        event.body.clone().into(),
        event.prev_hash.clone().into(),
        event.hash.clone().into(),
    ];
    if let Some(i) = idem {
        v.extend([
            i.username.clone().into(),
            i.key.clone().into(),
            i.request_hash.clone().into(),
            i.status.into(),
            i.response.clone().into(),
            i.created_at.into(),
        ]);
    }
    v
}

impl Store {
    /// Applies a transition if the case is still at `update.expected_version`; returns whether
    /// it was applied.
    pub async fn apply_transition(
        &self,
        update: &CaseUpdate,
        event: &case_event::Model,
        idem: Option<&idempotency_key::Model>,
    ) -> Result<bool, DbErr> {
        let backend = self.backend();
        let vals = values(update, event, idem);
        match backend {
            DbBackend::Postgres => {
                // Data-modifying CTEs run once each; each insert reads the rows of the one before.
                let mut sql = format!(
                    "WITH upd AS ({UPDATE_CASE} RETURNING id), \
                     ev AS (INSERT INTO case_events ({EVENT_COLUMNS}) SELECT {} FROM upd RETURNING case_id)",
                    placeholders(9, 14)
                );
                if idem.is_some() {
                    sql.push_str(&format!(
                        ", idem AS (INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) SELECT {} FROM ev RETURNING key)",
                        placeholders(23, 6)
                    ));
                }
                sql.push_str(" SELECT count(*) AS applied FROM ev");
                let row = self
                    .write
                    .query_one_raw(Statement::from_sql_and_values(backend, sql, vals))
                    .await?;
                let applied: i64 = match row {
                    Some(r) => r.try_get("", "applied")?,
                    None => 0,
                };
                Ok(applied == 1)
            }
            _ => {
                // SQLite runs the statements of one call in order on the one writer connection;
                // `changes()` is the row count of the statement before. Only the event insert
                // returns a row, so a row back means the transition was applied (the summed
                // row counts of a multi-statement call are not reliable: BEGIN and COMMIT
                // repeat the previous count).
                let mut sql = format!(
                    "BEGIN IMMEDIATE; {UPDATE_CASE}; \
                     INSERT INTO case_events ({EVENT_COLUMNS}) SELECT {} WHERE changes() = 1 RETURNING seq;",
                    placeholders(9, 14)
                );
                if idem.is_some() {
                    sql.push_str(&format!(
                        " INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) SELECT {} WHERE changes() = 1;",
                        placeholders(23, 6)
                    ));
                }
                sql.push_str(" COMMIT;");
                match self
                    .write
                    .query_all_raw(Statement::from_sql_and_values(backend, sql, vals))
                    .await
                {
                    Ok(rows) => Ok(rows.len() == 1),
                    Err(e) => {
                        // A failed statement leaves the transaction open on the connection.
                        let _ = self.write.execute_unprepared("ROLLBACK").await;
                        Err(e)
                    }
                }
            }
        }
    }
}
