//! The reminder scan's SQL: claiming the deadlines whose next notice is due, inserting the
//! notices (in-app and mail, one row each) once per key, and moving each deadline on to its
//! next notice, all in one transaction per batch. What is due, and for whom, is decided in
//! `notices::reminders`.

use super::Store;
use super::entities::{case_assignment, case_deadline};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, Statement, Value,
};
use std::collections::HashMap;

/// Rows per insert statement: SQLite finds each parameter by a linear search of its names, so
/// very long statements cost more per row (measured: 1,000 rows slower than 250).
const INSERT_CHUNK: usize = 250;

/// A batch of deadlines claimed by the reminder scan, inside the transaction that writes
/// their notices: nothing is written unless [`ReminderBatch::finish`] commits.
pub struct ReminderBatch {
    txn: DatabaseTransaction,
    /// The claimed deadlines, soonest notice first.
    pub rows: Vec<case_deadline::Model>,
    /// PostgreSQL: each claimed schedule row's `ctid`, in the order of `rows`.
    tids: Vec<String>,
}

impl Store {
    /// Claims up to `size` deadlines whose next notice is due at `now`.
    pub async fn claim_reminders(
        &self,
        now: DateTime<Utc>,
        size: u64,
    ) -> Result<ReminderBatch, DbErr> {
        let txn = self.begin_write().await?;
        let (rows, tids) = claim(&txn, now, size).await?;
        Ok(ReminderBatch { txn, rows, tids })
    }
}

impl ReminderBatch {
    /// The panels of the batch's cases: case → (role, user name).
    pub async fn assignments(&self) -> Result<HashMap<String, Vec<(String, String)>>, DbErr> {
        let case_ids: Vec<String> = self.rows.iter().map(|r| r.case_id.clone()).collect();
        let mut assigned: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for a in case_assignment::Entity::find()
            .filter(case_assignment::Column::CaseId.is_in(case_ids))
            .all(&self.txn)
            .await?
        {
            assigned
                .entry(a.case_id)
                .or_default()
                .push((a.role, a.username));
        }
        Ok(assigned)
    }

    /// Inserts the notices whose key is new (composed lazily from `rows`).
    pub async fn insert_notices(
        &self,
        rows: &mut (dyn Iterator<Item = NewNotice> + Send),
    ) -> Result<Written, DbErr> {
        insert_new(&self.txn, rows).await
    }

    /// Moves each deadline on to its next notice (`None`: it has none left) and commits.
    /// `next` is in the order of `rows`.
    pub async fn finish(
        self,
        next: Vec<(String, String, Option<DateTime<Utc>>)>,
    ) -> Result<(), DbErr> {
        set_next_notice(&self.txn, next, &self.tids).await?;
        self.txn.commit().await
    }
}

/// The claim's query: `$1` is the time, `$2` the batch size.
pub fn claim_sql(backend: DbBackend) -> String {
    let (tid, lock) = match backend {
        DbBackend::Postgres => ("s.ctid::text AS row_tid, ", " FOR UPDATE OF s SKIP LOCKED"),
        _ => ("", ""),
    };
    format!(
        "SELECT {tid}d.* FROM deadline_schedule s JOIN case_deadlines d \
         ON d.case_id = s.case_id AND d.name = s.name \
         WHERE s.next_notice_at <= $1 AND d.status = 'pending' \
         ORDER BY s.next_notice_at LIMIT $2{lock}"
    )
}

/// Takes a batch of deadlines whose next notice is due, soonest first: on PostgreSQL their
/// schedule rows are locked (`SKIP LOCKED`, so concurrent scans share the work) and each
/// one's `ctid` comes back, so the batch's final update finds its rows without a join; the
/// row locks keep every `ctid` fixed until commit. SQLite has one writer.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    size: u64,
) -> Result<(Vec<case_deadline::Model>, Vec<String>), DbErr> {
    let backend = db.get_database_backend();
    let found = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            claim_sql(backend),
            [now.into(), (size as i64).into()],
        ))
        .await?;
    let mut rows = Vec::with_capacity(found.len());
    let mut tids = Vec::new();
    for r in &found {
        if backend == DbBackend::Postgres {
            tids.push(r.try_get::<String>("", "row_tid")?);
        }
        rows.push(case_deadline::Model::from_query_result(r, "")?);
    }
    Ok((rows, tids))
}

/// What an insert of notices wrote: notices whose key was new, and of them those with mail.
#[derive(Debug, Default)]
pub struct Written {
    pub notices: u64,
    pub mails: u64,
}

/// A notice as the scan writes it (the rest of the row starts empty).
#[derive(Debug)]
pub struct NewNotice {
    pub dedupe_key: String,
    pub username: String,
    pub case_id: String,
    pub deadline: String,
    pub kind: &'static str,
    pub due: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub email: Option<String>,
    pub mail_status: Option<&'static str>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Inserts the notices whose key is new; returns how many were, and how many carry mail.
async fn insert_new<C: ConnectionTrait>(
    db: &C,
    rows: &mut (dyn Iterator<Item = NewNotice> + Send),
) -> Result<Written, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let (with_mail, app_only): (Vec<_>, Vec<_>) = rows.partition(|r| r.email.is_some());
        let mails = insert_postgres(db, with_mail).await?;
        return Ok(Written {
            notices: mails + insert_postgres(db, app_only).await?,
            mails,
        });
    }
    // SQLite: chunks of rows with anonymous placeholders (see `set_next_notice`); the next
    // chunk is composed and its statements built while SQLite's own thread runs the ones
    // before. A chunk's rows with mail and those without go in separate statements, so the
    // counts are rows affected: sqlx hands each returned row from SQLite's thread to this one
    // as a message of its own (`RETURNING` made 1,000 of them a batch).
    let mut written = Written::default();
    let mut pending = sqlite_inserts(rows);
    while !pending.is_empty() {
        let run = async {
            for (statement, carries_mail) in pending {
                let n = db.execute_raw(statement).await?.rows_affected();
                written.notices += n;
                if carries_mail {
                    written.mails += n;
                }
            }
            Ok::<_, DbErr>(())
        };
        let (done, next) = futures_util::join!(run, async { sqlite_inserts(rows) });
        done?;
        pending = next;
    }
    Ok(written)
}

/// The inserts of the next `INSERT_CHUNK` rows, if any are left: one for those that carry
/// mail and one for those that do not (either may be absent), each marked with which it is.
fn sqlite_inserts(rows: &mut (dyn Iterator<Item = NewNotice> + Send)) -> Vec<(Statement, bool)> {
    let (with_mail, app_only): (Vec<_>, Vec<_>) =
        rows.take(INSERT_CHUNK).partition(|r| r.email.is_some());
    [(with_mail, true), (app_only, false)]
        .into_iter()
        .filter(|(part, _)| !part.is_empty())
        .map(|(part, carries_mail)| (sqlite_insert(part), carries_mail))
        .collect()
}

fn sqlite_insert(rows: Vec<NewNotice>) -> Statement {
    const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)";
    let tuples = vec![ROW; rows.len()].join(", ");
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 10);
    for r in rows {
        values.extend([
            r.dedupe_key.into(),
            r.username.into(),
            r.case_id.into(),
            r.deadline.into(),
            r.kind.into(),
            r.due.into(),
            r.created_at.into(),
            r.email.into(),
            r.mail_status.into(),
            r.next_attempt_at.into(),
        ]);
    }
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!(
            "INSERT INTO notifications (dedupe_key, username, case_id, deadline, kind, due, \
             created_at, email, mail_status, next_attempt_at, attempts) VALUES {tuples} \
             ON CONFLICT (dedupe_key) DO NOTHING"
        ),
        values,
    )
}

/// PostgreSQL: one array parameter per column, sent in binary and read by `unnest`, so the
/// server neither plans a statement with thousands of parameters nor parses text (JSON
/// parameters were parsed while planning and again per row: 12% of the server's time).
/// `insert_new` passes rows that all carry mail or all do not; array elements cannot be NULL,
/// so the mail columns are either all arrays or all NULL.
async fn insert_postgres<C: ConnectionTrait>(db: &C, rows: Vec<NewNotice>) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    let with_mail = rows.iter().all(|r| r.email.is_some());
    let n = rows.len();
    let (mut key, mut user, mut case, mut deadline) = (vec![], vec![], vec![], vec![]);
    let mut kind = vec![];
    let (mut due, mut created) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut email, mut status, mut attempt_at) = (vec![], vec![], vec![]);
    for r in rows {
        key.push(r.dedupe_key);
        user.push(r.username);
        case.push(r.case_id);
        deadline.push(r.deadline);
        kind.push(r.kind.to_owned());
        due.push(r.due);
        created.push(r.created_at);
        if with_mail {
            email.extend(r.email);
            status.extend(r.mail_status.map(str::to_owned));
            attempt_at.extend(r.next_attempt_at);
        }
    }
    let mut values: Vec<Value> = [key, user, case, deadline, kind]
        .into_iter()
        .map(Value::from)
        .collect();
    values.push(due.into());
    values.push(created.into());
    let mail_columns = if with_mail {
        values.push(email.into());
        values.push(status.into());
        values.push(attempt_at.into());
        "unnest($8::text[]), unnest($9::text[]), unnest($10::timestamptz[])"
    } else {
        "NULL::text, NULL::text, NULL::timestamptz"
    };
    let sql = format!(
        "INSERT INTO notifications (dedupe_key, username, case_id, deadline, kind, due, \
         created_at, email, mail_status, next_attempt_at, attempts) \
         SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), \
         unnest($5::text[]), unnest($6::timestamptz[]), unnest($7::timestamptz[]), \
         {mail_columns}, 0 \
         ON CONFLICT (dedupe_key) DO NOTHING"
    );
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    Ok(done.rows_affected())
}

/// Moves each deadline on to its next notice, one statement per batch.
async fn set_next_notice<C: ConnectionTrait>(
    db: &C,
    next: Vec<(String, String, Option<DateTime<Utc>>)>,
    tids: &[String],
) -> Result<(), DbErr> {
    if next.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        // By `ctid` (from the claim, in the same order), in arrays as for the inserts. The
        // planner, costing each fetch by `ctid` as a random read from disk, preferred to hash
        // the whole table (70 ms a batch at 100,000 deadlines, and growing with the table)
        // over fetching the batch's 2,000 rows, which the claim has just read; within this
        // transaction it is told not to scan. A deadline with no notice left gets NULL
        // through `has_next` (array elements cannot be NULL).
        let mut at = Vec::with_capacity(next.len());
        let mut has_next = Vec::with_capacity(next.len());
        for (_, _, next_at) in next {
            has_next.push(next_at.is_some());
            at.push(next_at.unwrap_or_default());
        }
        db.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await?;
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE deadline_schedule SET next_notice_at = CASE WHEN x.has_next THEN x.at END \
             FROM unnest($1::text[]::tid[], $2::timestamptz[], $3::bool[]) AS x(tid, at, has_next) \
             WHERE deadline_schedule.ctid = ANY($1::text[]::tid[]) \
             AND deadline_schedule.ctid = x.tid",
            [tids.to_vec().into(), at.into(), has_next.into()],
        ))
        .await?;
        return Ok(());
    }
    // Anonymous `?` placeholders, bound in order: sqlx asks SQLite for every parameter's name,
    // and SQLite finds a named one (`$1`) by a linear search, so 1,500 named parameters cost
    // a million steps a statement (measured: 8% of the scan).
    let mut values: Vec<Value> = Vec::with_capacity(next.len() * 3);
    for (case_id, name, at) in next {
        values.push(case_id.into());
        values.push(name.into());
        values.push(at.into());
    }
    let tuples = vec!["(?, ?, ?)"; values.len() / 3];
    let sql = format!(
        "WITH v(case_id, name, next_at) AS (VALUES {}) \
         UPDATE deadline_schedule SET next_notice_at = v.next_at FROM v \
         WHERE deadline_schedule.case_id = v.case_id AND deadline_schedule.name = v.name",
        tuples.join(", ")
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}
