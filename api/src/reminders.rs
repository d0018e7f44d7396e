//! The reminder scan: finds the deadlines whose next notice has fallen due, and writes each
//! notice once per person, as an in-app notification and an outbox mail, in the transaction
//! that moves the deadline on to its next notice.
//!
//! Exactly once, across replicas and restarts:
//! - every notice has a key (case, deadline, due time, offset, recipient), unique in both
//!   tables, and is inserted with `ON CONFLICT DO NOTHING`;
//! - a batch of deadlines is claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has
//!   one writer), so two scans share the work instead of doing it twice;
//! - which notices are due is the engine's `notice_plan`, a pure function of the deadline and
//!   the time, so a scan repeated after a crash asks for the same keys.

use crate::deadlines::json_list;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::{case_assignment, case_deadline, notification, user};
use chrono::{DateTime, Utc};
use pilotflow_engine::deadline::{self, Notice};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Statement, Value,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use utoipa::ToSchema;

/// Deadlines per transaction on SQLite: small enough to keep the single writer's turns short.
const SQLITE_BATCH: u64 = 500;
/// Deadlines per transaction on PostgreSQL, where writers do not wait for each other: larger
/// batches share one commit (and its WAL flush) among more rows.
const POSTGRES_BATCH: u64 = 2_000;
/// Batches in flight at once on PostgreSQL: each claims its own deadlines (`SKIP LOCKED`), so
/// while one batch's rows are composed here the database writes another's.
const POSTGRES_CLAIMERS: usize = 2;
/// Rows per insert statement: SQLite finds each parameter by a linear search of its names, so
/// very long statements cost more per row (measured: 1,000 rows slower than 250).
const INSERT_CHUNK: usize = 250;

#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
pub struct ScanReport {
    /// Deadlines whose notices were due.
    pub deadlines: u64,
    /// In-app notifications written (repeats of earlier ones are not counted).
    pub notifications: u64,
    /// Mails queued in the outbox.
    pub mails: u64,
}

/// Someone a notice can go to.
#[derive(Debug, Clone)]
struct Person {
    username: String,
    email: String,
    org_unit: String,
}

/// The active users, by role and unit, read once per scan (there are far fewer users than
/// deadlines).
struct Directory {
    /// role → unit → people.
    by_role_unit: HashMap<String, HashMap<String, Vec<Person>>>,
    by_name: HashMap<String, (String, Person)>,
}

impl Directory {
    async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let mut by_role_unit: HashMap<String, HashMap<String, Vec<Person>>> = HashMap::new();
        let mut by_name = HashMap::new();
        for u in user::Entity::find()
            .filter(user::Column::Active.eq(true))
            .order_by_asc(user::Column::Username)
            .all(db)
            .await?
        {
            let person = Person {
                username: u.username.clone(),
                email: u.email,
                org_unit: u.org_unit.clone(),
            };
            by_role_unit
                .entry(u.role.clone())
                .or_default()
                .entry(u.org_unit)
                .or_default()
                .push(person.clone());
            by_name.insert(u.username, (u.role, person));
        }
        Ok(Self {
            by_role_unit,
            by_name,
        })
    }
}

/// What a mail and an in-app notice say.
pub struct Message {
    pub subject: String,
    pub text: String,
}

/// Which of the two notices a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Reminder,
    Overdue,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Overdue => "overdue",
        }
    }

    fn of(notice: Notice) -> Self {
        match notice {
            Notice::Reminder { .. } => Self::Reminder,
            Notice::Overdue => Self::Overdue,
        }
    }

    /// A stored `kind`: anything but `overdue` reads as a reminder.
    fn stored(kind: &str) -> Self {
        if kind == Self::Overdue.as_str() {
            Self::Overdue
        } else {
            Self::Reminder
        }
    }
}

/// The facts a notice is composed from.
pub struct NoticeFacts<'a> {
    pub kind: NoticeKind,
    pub recipient_name: &'a str,
    pub case_title: &'a str,
    pub unit_name: &'a str,
    pub label: &'a str,
    pub due_local: &'a str,
    pub days_left: i64,
    pub link: &'a str,
}

/// The Chinese text of a reminder or an overdue notice.
pub fn compose(f: &NoticeFacts<'_>) -> Message {
    let (subject, lead) = match f.kind {
        NoticeKind::Reminder => {
            let left = if f.days_left <= 0 {
                "今天截止".to_owned()
            } else {
                format!("还有 {} 天截止", f.days_left)
            };
            (
                format!("【试点工作提醒】{}:{}{}", f.case_title, f.label, left),
                format!(
                    "{}的「{}」:{}将于 {}(北京时间)截止,{}。请在截止前办理。",
                    f.unit_name, f.case_title, f.label, f.due_local, left
                ),
            )
        }
        NoticeKind::Overdue => (
            format!("【逾期督办】{}:{}已逾期", f.case_title, f.label),
            format!(
                "{}的「{}」:{}已于 {}(北京时间)截止,至今尚未办理,请督促落实。",
                f.unit_name, f.case_title, f.label, f.due_local
            ),
        ),
    };
    let footer = "此邮件由试点工作平台(Pilotflow)自动发送,请勿直接回复。";
    let text = format!(
        "{}:\n\n{}\n\n{LINK_LEAD}{}\n\n{}\n",
        f.recipient_name, lead, f.link, footer
    );
    Message { subject, text }
}

const LINK_LEAD: &str = "办理入口:";

/// The HTML part of a notice's mail: its text paragraph by paragraph, the link clickable.
pub fn html_body(subject: &str, text: &str, link: &str) -> String {
    let e = |s: &str| html_escape::encode_text(s).into_owned();
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
         </head><body>",
        e(subject)
    );
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if paragraph.starts_with(LINK_LEAD) {
            html.push_str(&format!(
                "<p>{LINK_LEAD}<a href=\"{}\">{}</a></p>",
                html_escape::encode_double_quoted_attribute(link),
                e(link)
            ));
        } else {
            html.push_str(&format!("<p>{}</p>", e(paragraph)));
        }
    }
    html.push_str("</body></html>");
    html
}

/// Where people open a case (links in mail and in the calendar feed).
pub fn case_link(settings: &crate::config::Settings, case_id: &str) -> String {
    settings.public_link(&format!("/api/v1/cases/{case_id}"))
}

/// The subject and text of stored notices, in order: composed from each row's facts, its
/// deadline's row (title, label, unit), the recipient's name and the workflow's time zone.
pub async fn render(state: &AppState, rows: &[notification::Model]) -> Result<Vec<Message>, DbErr> {
    let db = &state.store.read;
    let case_ids: BTreeSet<&str> = rows.iter().map(|r| r.case_id.as_str()).collect();
    let names: BTreeSet<&str> = rows.iter().map(|r| r.username.as_str()).collect();
    let deadlines: HashMap<(String, String), case_deadline::Model> = case_deadline::Entity::find()
        .filter(case_deadline::Column::CaseId.is_in(case_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|d| ((d.case_id.clone(), d.name.clone()), d))
        .collect();
    let people: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::Username.is_in(names))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.username, u.display_name))
        .collect();
    let units = state.units();
    Ok(rows
        .iter()
        .map(|n| {
            let deadline = deadlines.get(&(n.case_id.clone(), n.deadline.clone()));
            let tz = deadline
                .and_then(|d| state.registry.current(&d.workflow_key))
                .map_or(chrono_tz::Asia::Shanghai, |wf| wf.def.timezone);
            let link = case_link(&state.settings, &n.case_id);
            compose(&NoticeFacts {
                kind: NoticeKind::stored(&n.kind),
                recipient_name: people.get(&n.username).unwrap_or(&n.username),
                case_title: deadline.map_or(n.case_id.as_str(), |d| d.case_title.as_str()),
                unit_name: &deadline
                    .map(|d| units.name(&d.org_unit))
                    .unwrap_or_default(),
                label: deadline.map_or(n.deadline.as_str(), |d| d.label.as_str()),
                due_local: &deadline::local_text(tz, n.due),
                days_left: crate::deadlines::days_left(n.due, n.created_at),
                link: &link,
            })
        })
        .collect())
}

/// The stable key of one notice to one person.
pub fn notice_key(
    case_id: &str,
    deadline: &str,
    due: DateTime<Utc>,
    notice: Notice,
    username: &str,
) -> String {
    format!(
        "{case_id}/{deadline}/{}/{}/{username}",
        due.timestamp(),
        notice.offset_key()
    )
}

/// Runs the scan to the end: every deadline with a notice due at the clock's now.
pub async fn scan(state: &AppState) -> Result<ScanReport, ApiError> {
    let now = state.clock.now();
    let directory = Directory::load(&state.store.read).await?;
    let (batch, claimers) = match state.store.write.get_database_backend() {
        DbBackend::Postgres => (POSTGRES_BATCH, POSTGRES_CLAIMERS),
        _ => (SQLITE_BATCH, 1),
    };
    let drains = (0..claimers).map(|_| drain(state, &directory, now, batch));
    let mut report = ScanReport::default();
    for part in futures_util::future::try_join_all(drains).await? {
        report.deadlines += part.deadlines;
        report.notifications += part.notifications;
        report.mails += part.mails;
    }
    Ok(report)
}

/// Claims and writes batches until none is left.
async fn drain(
    state: &AppState,
    directory: &Directory,
    now: DateTime<Utc>,
    size: u64,
) -> Result<ScanReport, ApiError> {
    let mut report = ScanReport::default();
    loop {
        let batch = scan_batch(state, directory, now, size).await?;
        if batch.deadlines == 0 {
            return Ok(report);
        }
        report.deadlines += batch.deadlines;
        report.notifications += batch.notifications;
        report.mails += batch.mails;
    }
}

/// Turns a claimed deadline into the notices due on it now.
struct Composer<'a> {
    state: &'a AppState,
    directory: &'a Directory,
    /// The batch's assignments: case → (role, user name).
    assigned: HashMap<String, Vec<(String, String)>>,
    units: Arc<crate::units::UnitTree>,
    now: DateTime<Utc>,
}

impl Composer<'_> {
    /// When the deadline next needs the scan, and the notices due on it now, one per person.
    fn notices(&self, row: &case_deadline::Model) -> (Option<DateTime<Utc>>, Vec<NewNotice>) {
        let (state, directory, units, now) = (self.state, self.directory, &self.units, self.now);
        let remind_days: Vec<u32> = json_list(&row.remind_days);
        let escalate_to: Vec<String> = json_list(&row.escalate_to);
        let plan = deadline::notice_plan(row.due, &remind_days, !escalate_to.is_empty(), now);
        let mut notices = Vec::new();
        let Some(wf) = state.registry.current(&row.workflow_key) else {
            return (plan.next_at, notices);
        };
        let case_unit = row.org_unit.as_str();
        let root = units.root(case_unit);
        let assigned_here = self.assigned.get(&row.case_id);
        for notice in plan.due_now {
            let roles = match notice {
                Notice::Reminder { .. } => json_list::<String>(&row.responsible),
                Notice::Overdue => escalate_to.clone(),
            };
            let mut recipients: BTreeMap<&str, &Person> = BTreeMap::new();
            for role in &roles {
                let Some(binding) = wf
                    .def
                    .roles
                    .get(&pilotflow_engine::RoleName::new(role.as_str()))
                    .map(|r| r.binding)
                else {
                    continue;
                };
                // Everyone a binding can reach: the role's users in the case's unit, its parent
                // and its root, and those assigned to the case; the engine's rule decides.
                let holders = assigned_here
                    .into_iter()
                    .flatten()
                    .filter(|(r, _)| r == role)
                    .map(|(_, name)| name.as_str());
                let in_units = [Some(case_unit), row.parent_unit.as_deref(), Some(root)]
                    .into_iter()
                    .flatten()
                    .filter_map(|u| directory.by_role_unit.get(role)?.get(u))
                    .flatten();
                let by_assignment = holders
                    .clone()
                    .filter_map(|name| directory.by_name.get(name))
                    .filter(|(r, _)| r == role)
                    .map(|(_, p)| p);
                for p in in_units.chain(by_assignment) {
                    let relation = units.relation(&p.org_unit, case_unit);
                    if binding.holds(relation, || holders.clone().any(|n| n == p.username)) {
                        recipients.insert(&p.username, p);
                    }
                }
            }
            for person in recipients.values() {
                let mail = !person.email.is_empty();
                notices.push(NewNotice {
                    dedupe_key: notice_key(
                        &row.case_id,
                        &row.name,
                        row.due,
                        notice,
                        &person.username,
                    ),
                    username: person.username.clone(),
                    case_id: row.case_id.clone(),
                    deadline: row.name.clone(),
                    kind: NoticeKind::of(notice).as_str(),
                    due: row.due,
                    created_at: now,
                    email: mail.then(|| person.email.clone()),
                    mail_status: mail.then_some("pending"),
                    next_attempt_at: mail.then_some(now),
                });
            }
        }
        (plan.next_at, notices)
    }
}

async fn scan_batch(
    state: &AppState,
    directory: &Directory,
    now: DateTime<Utc>,
    size: u64,
) -> Result<ScanReport, ApiError> {
    let txn = state.store.begin_write().await?;
    let (rows, tids) = claim(&txn, now, size).await?;
    if rows.is_empty() {
        txn.commit().await?;
        return Ok(ScanReport::default());
    }
    let case_ids: Vec<String> = rows.iter().map(|r| r.case_id.clone()).collect();
    let mut assigned: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for a in case_assignment::Entity::find()
        .filter(case_assignment::Column::CaseId.is_in(case_ids))
        .all(&txn)
        .await?
    {
        assigned
            .entry(a.case_id)
            .or_default()
            .push((a.role, a.username));
    }
    let composer = Composer {
        state,
        directory,
        assigned,
        units: state.units(),
        now,
    };
    let mut next = Vec::with_capacity(rows.len());
    // Composed lazily: on SQLite the next chunk is composed while the one before is written.
    let mut notices = rows.iter().flat_map(|row| {
        let (next_at, notices) = composer.notices(row);
        next.push((row.case_id.clone(), row.name.clone(), next_at));
        notices
    });
    let written = insert_new(&txn, &mut notices).await?;
    drop(notices);
    set_next_notice(&txn, next, &tids).await?;
    txn.commit().await?;
    Ok(ScanReport {
        deadlines: rows.len() as u64,
        notifications: written.notices,
        mails: written.mails,
    })
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

#[derive(Default)]
struct Written {
    notices: u64,
    mails: u64,
}

/// A notice as the scan writes it (the rest of the row starts empty).
#[derive(Debug)]
struct NewNotice {
    dedupe_key: String,
    username: String,
    case_id: String,
    deadline: String,
    kind: &'static str,
    due: DateTime<Utc>,
    created_at: DateTime<Utc>,
    email: Option<String>,
    mail_status: Option<&'static str>,
    next_attempt_at: Option<DateTime<Utc>>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(kind: NoticeKind, title: &'a str, days_left: i64) -> NoticeFacts<'a> {
        NoticeFacts {
            kind,
            recipient_name: "南关区民政局",
            case_title: title,
            unit_name: "南关区",
            label: "年度申报截止(市州报省)",
            due_local: "2026-09-30 23:59:59",
            days_left,
            link: "https://pf.example/api/v1/cases/c1?a=1&b=2",
        }
    }

    #[test]
    fn a_reminder_names_the_case_unit_due_time_and_days_left() {
        let m = compose(&facts(NoticeKind::Reminder, "南关区申报", 6));
        assert_eq!(
            m.subject,
            "【试点工作提醒】南关区申报:年度申报截止(市州报省)还有 6 天截止"
        );
        assert!(
            m.text
                .starts_with("南关区民政局:\n\n南关区的「南关区申报」"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("2026-09-30 23:59:59(北京时间)"),
            "{}",
            m.text
        );
        let today = compose(&facts(NoticeKind::Reminder, "南关区申报", 0));
        assert!(today.subject.ends_with("今天截止"), "{}", today.subject);
        let late = compose(&facts(NoticeKind::Overdue, "南关区申报", -1));
        assert_eq!(
            late.subject,
            "【逾期督办】南关区申报:年度申报截止(市州报省)已逾期"
        );
    }

    #[test]
    fn the_html_part_escapes_what_people_typed() {
        let m = compose(&facts(NoticeKind::Overdue, "<script>alert(1)</script>", -1));
        let html = html_body(
            &m.subject,
            &m.text,
            "https://pf.example/api/v1/cases/c1?a=1&b=2",
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains("<a href=\"https://pf.example/api/v1/cases/c1?a=1&amp;b=2\">"),
            "{html}"
        );
    }

    #[test]
    fn a_notice_key_names_case_deadline_due_offset_and_person() {
        let due: DateTime<Utc> = "2026-09-30T15:59:59Z".parse().unwrap_or_default();
        assert_eq!(
            notice_key(
                "c1",
                "application_cutoff",
                due,
                Notice::Reminder { days_before: 30 },
                "d220102"
            ),
            "c1/application_cutoff/1790783999/30d/d220102"
        );
    }
}
