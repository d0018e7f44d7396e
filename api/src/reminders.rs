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
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set, Statement, Value,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
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
    display_name: String,
    email: String,
    org_unit: String,
}

/// The active users, by role and unit, read once per scan (there are far fewer users than
/// deadlines).
struct Directory {
    by_role_unit: HashMap<(String, String), Vec<Person>>,
    by_name: HashMap<String, (String, Person)>,
}

impl Directory {
    async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let mut by_role_unit: HashMap<(String, String), Vec<Person>> = HashMap::new();
        let mut by_name = HashMap::new();
        for u in user::Entity::find()
            .filter(user::Column::Active.eq(true))
            .order_by_asc(user::Column::Username)
            .all(db)
            .await?
        {
            let person = Person {
                username: u.username.clone(),
                display_name: u.display_name,
                email: u.email,
                org_unit: u.org_unit.clone(),
            };
            by_role_unit
                .entry((u.role.clone(), u.org_unit))
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

/// The facts a notice is written from.
pub struct NoticeFacts<'a> {
    pub notice: Notice,
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
    let (subject, lead) = match f.notice {
        Notice::Reminder { .. } => {
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
        Notice::Overdue => (
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
    let mut assigned: HashMap<(String, String), Vec<String>> = HashMap::new();
    for a in case_assignment::Entity::find()
        .filter(case_assignment::Column::CaseId.is_in(case_ids))
        .all(&txn)
        .await?
    {
        assigned
            .entry((a.case_id, a.role))
            .or_default()
            .push(a.username);
    }
    let units = state.units();
    let mut notices = Vec::new();
    let mut next = Vec::with_capacity(rows.len());
    for row in &rows {
        let remind_days: Vec<u32> = json_list(&row.remind_days);
        let escalate_to: Vec<String> = json_list(&row.escalate_to);
        let plan = deadline::notice_plan(row.due, &remind_days, !escalate_to.is_empty(), now);
        next.push((row.case_id.clone(), row.name.clone(), plan.next_at));
        let Some(wf) = state.registry.current(&row.workflow_key) else {
            continue;
        };
        let tz = wf.def.timezone;
        let due_local = deadline::local_text(tz, row.due);
        let unit_name = units.name(&row.org_unit);
        let link = case_link(&state.settings, &row.case_id);
        let case_unit = row.org_unit.as_str();
        let root = units.root(case_unit);
        for notice in plan.due_now {
            let roles = match notice {
                Notice::Reminder { .. } => json_list::<String>(&row.responsible),
                Notice::Overdue => escalate_to.clone(),
            };
            let mut recipients: BTreeMap<String, &Person> = BTreeMap::new();
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
                let assigned_here = assigned.get(&(row.case_id.clone(), role.clone()));
                let in_units = [Some(case_unit), row.parent_unit.as_deref(), Some(root)]
                    .into_iter()
                    .flatten()
                    .filter_map(|u| directory.by_role_unit.get(&(role.clone(), u.to_owned())))
                    .flatten();
                let by_assignment = assigned_here
                    .into_iter()
                    .flatten()
                    .filter_map(|name| directory.by_name.get(name))
                    .filter(|(r, _)| r == role)
                    .map(|(_, p)| p);
                for p in in_units.chain(by_assignment) {
                    let relation = units.relation(&p.org_unit, case_unit);
                    if binding.holds(relation, || {
                        assigned_here.is_some_and(|names| names.contains(&p.username))
                    }) {
                        recipients.insert(p.username.clone(), p);
                    }
                }
            }
            for person in recipients.values() {
                let message = compose(&NoticeFacts {
                    notice,
                    recipient_name: &person.display_name,
                    case_title: &row.case_title,
                    unit_name: &unit_name,
                    label: &row.label,
                    due_local: &due_local,
                    days_left: crate::deadlines::days_left(row.due, now),
                    link: &link,
                });
                let key = notice_key(&row.case_id, &row.name, row.due, notice, &person.username);
                let mail = !person.email.is_empty();
                notices.push(NewNotice {
                    dedupe_key: key,
                    username: person.username.clone(),
                    case_id: row.case_id.clone(),
                    deadline: row.name.clone(),
                    kind: match notice {
                        Notice::Reminder { .. } => "reminder",
                        Notice::Overdue => "overdue",
                    },
                    subject: message.subject,
                    body: message.text,
                    due: row.due,
                    created_at: now,
                    email: mail.then(|| person.email.clone()),
                    mail_status: mail.then_some("pending"),
                    next_attempt_at: mail.then_some(now),
                });
            }
        }
    }
    let written = insert_new(&txn, notices).await?;
    set_next_notice(&txn, next, &tids).await?;
    txn.commit().await?;
    Ok(ScanReport {
        deadlines: rows.len() as u64,
        notifications: written.notices,
        mails: written.mails,
    })
}

/// Locks a batch of deadlines whose next notice is due. On PostgreSQL it also returns each
/// row's `ctid`, so the batch's final update finds its rows without a join the planner would
/// answer by hashing the whole table; the row locks keep every `ctid` fixed until commit.
async fn claim<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    size: u64,
) -> Result<(Vec<case_deadline::Model>, Vec<String>), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        let rows = case_deadline::Entity::find()
            .filter(case_deadline::Column::Status.eq("pending"))
            .filter(case_deadline::Column::NextNoticeAt.lte(now))
            .order_by_asc(case_deadline::Column::NextNoticeAt)
            .limit(size)
            .all(db)
            .await?;
        return Ok((rows, Vec::new()));
    }
    let found = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT ctid::text AS row_tid, * FROM case_deadlines \
             WHERE status = 'pending' AND next_notice_at <= $1 \
             ORDER BY next_notice_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            [now.into(), (size as i64).into()],
        ))
        .await?;
    let mut rows = Vec::with_capacity(found.len());
    let mut tids = Vec::with_capacity(found.len());
    for r in &found {
        tids.push(r.try_get::<String>("", "row_tid")?);
        rows.push(case_deadline::Model::from_query_result(r, "")?);
    }
    Ok((rows, tids))
}

struct Written {
    notices: u64,
    mails: u64,
}

/// A notice as the scan writes it (the rest of the row starts empty).
#[derive(Debug, Serialize)]
struct NewNotice {
    dedupe_key: String,
    username: String,
    case_id: String,
    deadline: String,
    kind: &'static str,
    subject: String,
    body: String,
    due: DateTime<Utc>,
    created_at: DateTime<Utc>,
    email: Option<String>,
    mail_status: Option<&'static str>,
    next_attempt_at: Option<DateTime<Utc>>,
}

impl From<NewNotice> for notification::ActiveModel {
    fn from(n: NewNotice) -> Self {
        Self {
            id: NotSet,
            dedupe_key: Set(n.dedupe_key),
            username: Set(n.username),
            case_id: Set(n.case_id),
            deadline: Set(n.deadline),
            kind: Set(n.kind.to_owned()),
            subject: Set(n.subject),
            body: Set(n.body),
            due: Set(n.due),
            created_at: Set(n.created_at),
            read_at: Set(None),
            email: Set(n.email),
            mail_status: Set(n.mail_status.map(str::to_owned)),
            attempts: Set(0),
            next_attempt_at: Set(n.next_attempt_at),
            claimed_until: Set(None),
            last_error: Set(None),
            sent_at: Set(None),
        }
    }
}

/// Inserts the notices whose key is new; returns how many were, and how many carry mail.
async fn insert_new<C: ConnectionTrait>(db: &C, rows: Vec<NewNotice>) -> Result<Written, DbErr> {
    let (with_mail, app_only): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.email.is_some());
    let mails = insert_chunks(db, with_mail).await?;
    Ok(Written {
        notices: mails + insert_chunks(db, app_only).await?,
        mails,
    })
}

async fn insert_chunks<C: ConnectionTrait>(db: &C, rows: Vec<NewNotice>) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    if db.get_database_backend() == DbBackend::Postgres {
        return insert_postgres(db, rows).await;
    }
    let mut written = 0;
    let mut rows = rows
        .into_iter()
        .map(notification::ActiveModel::from)
        .peekable();
    while rows.peek().is_some() {
        let chunk: Vec<notification::ActiveModel> = rows.by_ref().take(INSERT_CHUNK).collect();
        written += notification::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(notification::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

/// PostgreSQL: one array parameter per column, sent in binary and read by `unnest`, so the
/// server neither plans a statement with thousands of parameters nor parses text (JSON
/// parameters were parsed while planning and again per row: 12% of the server's time).
/// `insert_new` passes rows that all carry mail or all do not; array elements cannot be NULL,
/// so the mail columns are either all arrays or all NULL.
async fn insert_postgres<C: ConnectionTrait>(db: &C, rows: Vec<NewNotice>) -> Result<u64, DbErr> {
    let with_mail = rows.iter().all(|r| r.email.is_some());
    let n = rows.len();
    let (mut key, mut user, mut case, mut deadline) = (vec![], vec![], vec![], vec![]);
    let (mut kind, mut subject, mut body) = (vec![], vec![], vec![]);
    let (mut due, mut created) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut email, mut status, mut attempt_at) = (vec![], vec![], vec![]);
    for r in rows {
        key.push(r.dedupe_key);
        user.push(r.username);
        case.push(r.case_id);
        deadline.push(r.deadline);
        kind.push(r.kind.to_owned());
        subject.push(r.subject);
        body.push(r.body);
        due.push(r.due);
        created.push(r.created_at);
        if with_mail {
            email.extend(r.email);
            status.extend(r.mail_status.map(str::to_owned));
            attempt_at.extend(r.next_attempt_at);
        }
    }
    let mut values: Vec<Value> = [key, user, case, deadline, kind, subject, body]
        .into_iter()
        .map(Value::from)
        .collect();
    values.push(due.into());
    values.push(created.into());
    let mail_columns = if with_mail {
        values.push(email.into());
        values.push(status.into());
        values.push(attempt_at.into());
        "unnest($10::text[]), unnest($11::text[]), unnest($12::timestamptz[])"
    } else {
        "NULL::text, NULL::text, NULL::timestamptz"
    };
    let sql = format!(
        "INSERT INTO notifications (dedupe_key, username, case_id, deadline, kind, subject, \
         body, due, created_at, email, mail_status, next_attempt_at, attempts) \
         SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), \
         unnest($5::text[]), unnest($6::text[]), unnest($7::text[]), \
         unnest($8::timestamptz[]), unnest($9::timestamptz[]), {mail_columns}, 0 \
         ON CONFLICT (dedupe_key) DO NOTHING"
    );
    let done = db
        .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
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
        // By `ctid` (from the claim, in the same order), in arrays as for the inserts; the
        // `ANY` lets the planner fetch just those rows (a join alone got a hash of the whole
        // table: 70 ms a batch at 100,000 deadlines, growing with the table). A
        // deadline with no notice left gets NULL through `has_next` (array elements cannot
        // be NULL).
        let mut at = Vec::with_capacity(next.len());
        let mut has_next = Vec::with_capacity(next.len());
        for (_, _, next_at) in next {
            has_next.push(next_at.is_some());
            at.push(next_at.unwrap_or_default());
        }
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE case_deadlines SET next_notice_at = CASE WHEN x.has_next THEN x.at END \
             FROM unnest($1::text[]::tid[], $2::timestamptz[], $3::bool[]) AS x(tid, at, has_next) \
             WHERE case_deadlines.ctid = ANY($1::text[]::tid[]) AND case_deadlines.ctid = x.tid",
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
         UPDATE case_deadlines SET next_notice_at = v.next_at FROM v \
         WHERE case_deadlines.case_id = v.case_id AND case_deadlines.name = v.name",
        tuples.join(", ")
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(notice: Notice, title: &'a str, days_left: i64) -> NoticeFacts<'a> {
        NoticeFacts {
            notice,
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
        let m = compose(&facts(Notice::Reminder { days_before: 7 }, "南关区申报", 6));
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
        let today = compose(&facts(Notice::Reminder { days_before: 1 }, "南关区申报", 0));
        assert!(today.subject.ends_with("今天截止"), "{}", today.subject);
        let late = compose(&facts(Notice::Overdue, "南关区申报", -1));
        assert_eq!(
            late.subject,
            "【逾期督办】南关区申报:年度申报截止(市州报省)已逾期"
        );
    }

    #[test]
    fn the_html_part_escapes_what_people_typed() {
        let m = compose(&facts(Notice::Overdue, "<script>alert(1)</script>", -1));
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
