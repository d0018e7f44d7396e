//! Writing transitions: each is the case's new state, its chained event, for a keyed request
//! the idempotency record, and, when they changed, the case's deadlines. The case row only
//! changes if it is still at the version it was read at; everything else is only written if
//! it did.
//!
//! Every statement is a hand-off to a connection thread (SQLite) or a round trip (PostgreSQL),
//! and SQLite has one writer, so:
//! - PostgreSQL: one statement per transition (data-modifying CTEs);
//! - SQLite: a writer task commits the transitions waiting at that moment together, in one
//!   multi-statement call and one transaction (group commit). If that call fails, each
//!   transition of the batch is retried alone, so one bad transition fails only itself.

use super::entities::{case_deadline, case_event, deadline_schedule, idempotency_key};
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

/// The deadlines running after a transition (all `pending`). Deadlines that stop running are
/// marked `met` if their due time had not passed, else `missed`, and leave the reminder
/// schedule.
#[derive(Debug, Clone)]
pub struct DeadlineWrite {
    pub active: Vec<RunningDeadline>,
    pub now: DateTime<Utc>,
}

/// A running deadline and when its first notice falls due (`None`: it has none).
#[derive(Debug, Clone)]
pub struct RunningDeadline {
    pub row: case_deadline::Model,
    pub first_notice_at: Option<DateTime<Utc>>,
}

/// One transition to write.
#[derive(Debug, Clone)]
pub struct Transition {
    pub update: CaseUpdate,
    pub event: case_event::Model,
    pub idempotency: Option<idempotency_key::Model>,
    /// `None` when the running deadlines did not change.
    pub deadlines: Option<DeadlineWrite>,
}

const EVENT_COLUMNS: &str = "case_id, seq, kind, action, actor, actor_role, from_state, \
     to_state, at, input_digest, comment, body, prev_hash, hash";
const IDEMPOTENCY_COLUMNS: &str = "username, key, request_hash, status, response, created_at";
const DEADLINE_COLUMNS: &str = "case_id, name, label, case_title, workflow_key, org_unit, \
     parent_unit, due, status, responsible, gates, fallback_years, updated_at, remind_days, \
     escalate_to";
/// On a rewrite, a deadline still pending at the same due time keeps its place in the
/// reminder schedule; a moved one starts its schedule again, and so does a revived one (its
/// row left the schedule when it stopped running).
const NEXT_NOTICE_ON_CONFLICT: &str = "CASE WHEN deadline_schedule.due = excluded.due \
     THEN deadline_schedule.next_notice_at ELSE excluded.next_notice_at END";
/// `status = 'pending'` written so no index can serve it: SQLite, with no statistics, would
/// otherwise answer `case_id = ? AND status = 'pending' AND name NOT IN (…)` from the
/// `(status, due)` index and read every pending deadline of every case (EXPLAIN QUERY PLAN:
/// `USING INDEX idx_case_deadlines_due (status=?)`); the primary key finds the case's few rows.
const STILL_PENDING: &str = "(status = 'pending') = TRUE";
/// Transitions per SQLite batch (well below SQLite's 32,766 parameters).
const MAX_BATCH: usize = 64;

/// SQL text with numbered parameters.
#[derive(Default)]
struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn param(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }

    fn params(&mut self, vs: Vec<Value>) -> String {
        vs.into_iter()
            .map(|v| self.param(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
}

fn event_values(e: &case_event::Model) -> Vec<Value> {
    vec![
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
    ]
}

fn idempotency_values(i: &idempotency_key::Model) -> Vec<Value> {
    vec![
        i.username.clone().into(),
        i.key.clone().into(),
        i.request_hash.clone().into(),
        i.status.into(),
        i.response.clone().into(),
        i.created_at.into(),
    ]
}

fn deadline_values(d: &case_deadline::Model) -> Vec<Value> {
    vec![
        d.case_id.clone().into(),
        d.name.clone().into(),
        d.label.clone().into(),
        d.case_title.clone().into(),
        d.workflow_key.clone().into(),
        d.org_unit.clone().into(),
        d.parent_unit.clone().into(),
        d.due.into(),
        d.status.clone().into(),
        d.responsible.clone().into(),
        d.gates.clone().into(),
        d.fallback_years.clone().into(),
        d.updated_at.into(),
        d.remind_days.clone().into(),
        d.escalate_to.clone().into(),
    ]
}

fn update_case(sql: &mut Sql, u: &CaseUpdate) -> String {
    format!(
        "UPDATE cases SET state = {}, snapshot = {}, version = {}, round = {}, head_hash = {}, \
         updated_at = {} WHERE id = {} AND version = {}",
        sql.param(u.state.clone()),
        sql.param(u.snapshot.clone()),
        sql.param(u.version),
        sql.param(u.round),
        sql.param(u.head_hash.clone()),
        sql.param(u.updated_at),
        sql.param(u.id.clone()),
        sql.param(u.expected_version),
    )
}

/// The statements that retire deadlines no longer running and upsert the running ones, with
/// their reminder schedule, each guarded by `applied` (true only if this transition's event
/// was written).
fn deadline_statements(
    sql: &mut Sql,
    case_id: &str,
    d: &DeadlineWrite,
    applied: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let now = sql.param(d.now);
    let id = sql.param(case_id.to_owned());
    let running = if d.active.is_empty() {
        String::new()
    } else {
        let names = d
            .active
            .iter()
            .map(|a| sql.param(a.row.name.clone()))
            .collect::<Vec<_>>()
            .join(", ");
        format!(" AND name NOT IN ({names})")
    };
    out.push(format!(
        "UPDATE case_deadlines SET status = CASE WHEN due >= {now} THEN 'met' ELSE 'missed' END, \
         updated_at = {now} WHERE case_id = {id} AND {STILL_PENDING} AND {applied}{running}"
    ));
    out.push(format!(
        "DELETE FROM deadline_schedule WHERE case_id = {id} AND {applied}{running}"
    ));
    for a in &d.active {
        let values = sql.params(deadline_values(&a.row));
        out.push(format!(
            "INSERT INTO case_deadlines ({DEADLINE_COLUMNS}) SELECT {values} WHERE {applied} \
             ON CONFLICT (case_id, name) DO UPDATE SET label = excluded.label, \
             due = excluded.due, status = excluded.status, responsible = excluded.responsible, \
             gates = excluded.gates, fallback_years = excluded.fallback_years, \
             updated_at = excluded.updated_at, remind_days = excluded.remind_days, \
             escalate_to = excluded.escalate_to"
        ));
        let schedule = sql.params(vec![
            a.row.case_id.clone().into(),
            a.row.name.clone().into(),
            a.row.due.into(),
            a.first_notice_at.into(),
        ]);
        out.push(format!(
            "INSERT INTO deadline_schedule (case_id, name, due, next_notice_at) \
             SELECT {schedule} WHERE {applied} ON CONFLICT (case_id, name) DO UPDATE SET \
             next_notice_at = {NEXT_NOTICE_ON_CONFLICT}, due = excluded.due"
        ));
    }
    out
}

/// Writes deadlines inside an open transaction (creation, panel changes: the rarer paths).
pub async fn write_deadlines<C: ConnectionTrait>(
    db: &C,
    case_id: &str,
    d: &DeadlineWrite,
) -> Result<(), DbErr> {
    use case_deadline::Column as C;
    use deadline_schedule::Column as S;
    use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let names: Vec<String> = d.active.iter().map(|a| a.row.name.clone()).collect();
    case_deadline::Entity::update_many()
        .col_expr(
            C::Status,
            Expr::case(Expr::col(C::Due).gte(d.now), "met")
                .finally("missed")
                .into(),
        )
        .col_expr(C::UpdatedAt, Expr::value(d.now))
        .filter(C::CaseId.eq(case_id))
        .filter(Expr::cust(STILL_PENDING))
        .filter(C::Name.is_not_in(names.clone()))
        .exec(db)
        .await?;
    deadline_schedule::Entity::delete_many()
        .filter(S::CaseId.eq(case_id))
        .filter(S::Name.is_not_in(names))
        .exec(db)
        .await?;
    for a in &d.active {
        case_deadline::Entity::insert(case_deadline::ActiveModel::from(a.row.clone()))
            .on_conflict(
                OnConflict::columns([C::CaseId, C::Name])
                    .update_columns([
                        C::Label,
                        C::Due,
                        C::Status,
                        C::Responsible,
                        C::Gates,
                        C::FallbackYears,
                        C::UpdatedAt,
                        C::RemindDays,
                        C::EscalateTo,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        deadline_schedule::Entity::insert(deadline_schedule::ActiveModel {
            case_id: Set(a.row.case_id.clone()),
            name: Set(a.row.name.clone()),
            due: Set(a.row.due),
            next_notice_at: Set(a.first_notice_at),
        })
        .on_conflict(
            OnConflict::columns([S::CaseId, S::Name])
                .value(S::NextNoticeAt, Expr::cust(NEXT_NOTICE_ON_CONFLICT))
                .update_column(S::Due)
                .to_owned(),
        )
        .exec(db)
        .await?;
    }
    Ok(())
}

/// PostgreSQL: one statement; each insert reads the rows of the one before.
pub async fn write_postgres(db: &DatabaseConnection, t: &Transition) -> Result<bool, DbErr> {
    let mut sql = Sql::default();
    let update = update_case(&mut sql, &t.update);
    let event = sql.params(event_values(&t.event));
    let mut text = format!(
        "WITH upd AS ({update} RETURNING id), \
         ev AS (INSERT INTO case_events ({EVENT_COLUMNS}) SELECT {event} FROM upd RETURNING case_id)"
    );
    if let Some(i) = &t.idempotency {
        let values = sql.params(idempotency_values(i));
        text.push_str(&format!(
            ", idem AS (INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) SELECT {values} \
             FROM ev RETURNING key)"
        ));
    }
    if let Some(d) = &t.deadlines {
        let statements =
            deadline_statements(&mut sql, &t.update.id, d, "EXISTS (SELECT 1 FROM ev)");
        for (n, s) in statements.iter().enumerate() {
            text.push_str(&format!(", dl{n} AS ({s})"));
        }
    }
    text.push_str(" SELECT count(*) AS applied FROM ev");
    sql.text = text;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql.text,
            sql.values,
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
/// was; deadlines check that their event exists. Only event inserts return rows (their
/// hashes), which says which transitions applied; the summed row counts of a multi-statement
/// call are not reliable (BEGIN and COMMIT repeat the previous count).
async fn write_sqlite_batch(
    db: &DatabaseConnection,
    batch: &[&Transition],
) -> Result<Vec<bool>, DbErr> {
    let mut sql = Sql::default();
    sql.push("BEGIN IMMEDIATE;");
    for t in batch {
        let update = update_case(&mut sql, &t.update);
        let event = sql.params(event_values(&t.event));
        sql.text.push_str(&format!(
            " {update}; INSERT INTO case_events ({EVENT_COLUMNS}) SELECT {event} \
             WHERE changes() = 1 RETURNING hash;"
        ));
        if let Some(i) = &t.idempotency {
            let values = sql.params(idempotency_values(i));
            sql.text.push_str(&format!(
                " INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) SELECT {values} \
                 WHERE changes() = 1;"
            ));
        }
        if let Some(d) = &t.deadlines {
            let applied = format!(
                "EXISTS (SELECT 1 FROM case_events WHERE case_id = {} AND seq = {} AND hash = {})",
                sql.param(t.event.case_id.clone()),
                sql.param(t.event.seq),
                sql.param(t.event.hash.clone())
            );
            for s in deadline_statements(&mut sql, &t.update.id, d, &applied) {
                sql.text.push_str(&format!(" {s};"));
            }
        }
    }
    sql.push(" COMMIT;");
    let rows = match db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql.text,
            sql.values,
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
