//! Writing transitions: each is the case's new state (or, for a new case, its row), its
//! chained event, for a keyed request the idempotency record, and, when they changed, the
//! case's deadlines, its panel, the form it saved and the numbered document it was decided
//! under. The case row
//! only changes if it is still at the version it was read at; everything else is only written
//! if it did.
//!
//! Every statement is a round trip (PostgreSQL) and SQLite has one writer, so:
//! - PostgreSQL: one statement per transition (data-modifying CTEs);
//! - SQLite: a thread of our own commits the transitions waiting at that moment together, in
//!   one transaction (group commit; see `sqlite_writer`).

use super::entities::{
    case, case_deadline, case_event, case_form, deadline_schedule, document, idempotency_key,
};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};

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

/// How a transition writes its case row.
#[derive(Debug, Clone)]
pub enum CaseWrite {
    /// A new case.
    Insert(Box<case::Model>),
    /// An existing case, only if it is still at the expected version.
    Update(CaseUpdate),
}

impl CaseWrite {
    fn case_id(&self) -> &str {
        match self {
            CaseWrite::Insert(row) => &row.id,
            CaseWrite::Update(u) => &u.id,
        }
    }
}

/// A role's panel after a transition that changed it.
#[derive(Debug, Clone)]
pub struct PanelWrite {
    pub role: String,
    pub users: Vec<String>,
}

/// One transition to write.
#[derive(Debug, Clone)]
pub struct Transition {
    pub case: CaseWrite,
    pub event: case_event::Model,
    pub idempotency: Option<idempotency_key::Model>,
    /// `None` when the running deadlines did not change.
    pub deadlines: Option<DeadlineWrite>,
    /// `None` when the panel did not change.
    pub panel: Option<PanelWrite>,
    /// The numbered document the action was issued under. A number already used fails the
    /// whole transition with a unique-key violation.
    pub document: Option<document::Model>,
    /// The form the transition saved (the snapshot is stored without forms).
    pub form: Option<case_form::Model>,
}

const EVENT_COLUMNS: &str = "case_id, seq, kind, action, actor, actor_role, from_state, \
     to_state, at, input_digest, comment, body, prev_hash, hash";
const IDEMPOTENCY_COLUMNS: &str = "username, key, request_hash, status, response, created_at";
const CASE_COLUMNS: &str = "id, workflow_key, workflow_version, title, org_unit, parent_unit, \
     round, state, snapshot, version, head_hash, created_by, created_at, updated_at";
const DOCUMENT_COLUMNS: &str = "workflow_key, number, year, action, case_ids, issued_by, issued_at";
const DEADLINE_COLUMNS: &str = "case_id, name, label, case_title, workflow_key, org_unit, \
     parent_unit, due, status, responsible, gates, fallback_years, updated_at, remind_days, \
     escalate_to";
/// On a rewrite, a deadline still pending at the same due time keeps its place in the
/// reminder schedule; a moved one starts its schedule again, and so does a revived one (its
/// row left the schedule when it stopped running).
const NEXT_NOTICE_ON_CONFLICT: &str = "CASE WHEN deadline_schedule.due = excluded.due \
     THEN deadline_schedule.next_notice_at ELSE excluded.next_notice_at END";
/// `status = 'pending'` written so no index can serve it. Without statistics (a new
/// database, or before ANALYZE has seen a burst) both backends otherwise answer
/// `case_id = ? AND status = 'pending' AND name NOT IN (…)` from the `(status, due)` index and
/// read every pending deadline of every case: SQLite by that index alone, PostgreSQL by a
/// BitmapAnd of it with the primary key (5,393 index entries for one case's two rows, seen in
/// W1). PostgreSQL folds `(status = 'pending') = TRUE` back into `status = 'pending'`, but
/// not a concatenation; the primary key finds the case's few rows.
pub const STILL_PENDING: &str = "status || '' = 'pending'";

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
}

fn event_values(e: case_event::Model) -> Vec<Value> {
    vec![
        e.case_id.into(),
        e.seq.into(),
        e.kind.into(),
        e.action.into(),
        e.actor.into(),
        e.actor_role.into(),
        e.from_state.into(),
        e.to_state.into(),
        e.at.into(),
        e.input_digest.into(),
        e.comment.into(),
        e.body.into(),
        e.prev_hash.into(),
        e.hash.into(),
    ]
}

fn idempotency_values(i: idempotency_key::Model) -> Vec<Value> {
    vec![
        i.username.into(),
        i.key.into(),
        i.request_hash.into(),
        i.status.into(),
        i.response.into(),
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

fn case_values(c: case::Model) -> Vec<Value> {
    vec![
        c.id.into(),
        c.workflow_key.into(),
        c.workflow_version.into(),
        c.title.into(),
        c.org_unit.into(),
        c.parent_unit.into(),
        c.round.into(),
        c.state.into(),
        c.snapshot.into(),
        c.version.into(),
        c.head_hash.into(),
        c.created_by.into(),
        c.created_at.into(),
        c.updated_at.into(),
    ]
}

fn document_values(d: document::Model) -> Vec<Value> {
    vec![
        d.workflow_key.into(),
        d.number.into(),
        d.year.into(),
        d.action.into(),
        d.case_ids.into(),
        d.issued_by.into(),
        d.issued_at.into(),
    ]
}

/// The statement writing the case row: an insert, or an update at the expected version.
fn write_case(sql: &mut Sql, c: CaseWrite) -> String {
    match c {
        CaseWrite::Insert(row) => {
            let values = sql.params(case_values(*row));
            format!("INSERT INTO cases ({CASE_COLUMNS}) VALUES ({values})")
        }
        CaseWrite::Update(u) => update_case(sql, u),
    }
}

fn update_case(sql: &mut Sql, u: CaseUpdate) -> String {
    format!(
        "UPDATE cases SET state = {}, snapshot = {}, version = {}, round = {}, head_hash = {}, \
         updated_at = {} WHERE id = {} AND version = {}",
        sql.param(u.state),
        sql.param(u.snapshot),
        sql.param(u.version),
        sql.param(u.round),
        sql.param(u.head_hash),
        sql.param(u.updated_at),
        sql.param(u.id),
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

/// The statements that replace a role's panel, store the saved form and record the
/// document, each guarded by `applied`. They are independent of their order (a PostgreSQL
/// statement's parts see one snapshot): the panel's leavers are deleted and its members
/// inserted if missing.
fn panel_form_and_document_statements(
    sql: &mut Sql,
    case_id: &str,
    panel: Option<PanelWrite>,
    form: Option<case_form::Model>,
    document: Option<document::Model>,
    applied: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(f) = form {
        let values = sql.params(vec![
            f.case_id.into(),
            f.name.into(),
            f.body.into(),
            f.saved_at.into(),
        ]);
        out.push(format!(
            "INSERT INTO case_forms (case_id, name, body, saved_at) SELECT {values} \
             WHERE {applied} ON CONFLICT (case_id, name) DO UPDATE SET body = excluded.body, \
             saved_at = excluded.saved_at"
        ));
    }
    if let Some(p) = panel {
        let id = sql.param(case_id.to_owned());
        let role = sql.param(p.role);
        let staying = if p.users.is_empty() {
            String::new()
        } else {
            let names = sql.params(p.users.iter().map(|u| u.clone().into()).collect());
            format!(" AND username NOT IN ({names})")
        };
        out.push(format!(
            "DELETE FROM case_assignments WHERE case_id = {id} AND role = {role} AND {applied}\
             {staying}"
        ));
        for user in &p.users {
            let user = sql.param(user.clone());
            out.push(format!(
                "INSERT INTO case_assignments (case_id, role, username) SELECT {id}, {role}, \
                 {user} WHERE {applied} ON CONFLICT DO NOTHING"
            ));
        }
    }
    if let Some(d) = document {
        let values = sql.params(document_values(d));
        out.push(format!(
            "INSERT INTO documents ({DOCUMENT_COLUMNS}) SELECT {values} WHERE {applied}"
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
pub async fn write_postgres(db: &DatabaseConnection, t: Transition) -> Result<bool, DbErr> {
    let Transition {
        case,
        event,
        idempotency,
        deadlines,
        panel,
        document,
        form,
    } = t;
    let case_id = case.case_id().to_owned();
    let mut sql = Sql::default();
    let update = write_case(&mut sql, case);
    let event = sql.params(event_values(event));
    let mut text = format!(
        "WITH upd AS ({update} RETURNING id), \
         ev AS (INSERT INTO case_events ({EVENT_COLUMNS}) SELECT {event} FROM upd RETURNING case_id)"
    );
    if let Some(i) = idempotency {
        let values = sql.params(idempotency_values(i));
        text.push_str(&format!(
            ", idem AS (INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) SELECT {values} \
             FROM ev RETURNING key)"
        ));
    }
    let applied = "EXISTS (SELECT 1 FROM ev)";
    let mut statements = match &deadlines {
        Some(d) => deadline_statements(&mut sql, &case_id, d, applied),
        None => Vec::new(),
    };
    statements.extend(panel_form_and_document_statements(
        &mut sql, &case_id, panel, form, document, applied,
    ));
    for (n, s) in statements.iter().enumerate() {
        text.push_str(&format!(", w{n} AS ({s})"));
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

/// SQLite: one transition's statements for the writer thread (`sqlite_writer`). The first
/// writes the case row; the rest run only if it changed a row, so they need no guard. All
/// share one list of values, which each statement binds by its parameters' numbers. The
/// transition's texts move into the values: a queued transition holds its snapshot once.
pub(super) fn sqlite_statements(t: Transition) -> (Vec<String>, Vec<Value>) {
    let Transition {
        case,
        event,
        idempotency,
        deadlines,
        panel,
        document,
        form,
    } = t;
    let case_id = case.case_id().to_owned();
    let mut sql = Sql::default();
    let mut statements = vec![write_case(&mut sql, case)];
    let event = sql.params(event_values(event));
    statements.push(format!(
        "INSERT INTO case_events ({EVENT_COLUMNS}) VALUES ({event})"
    ));
    if let Some(i) = idempotency {
        let values = sql.params(idempotency_values(i));
        statements.push(format!(
            "INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) VALUES ({values})"
        ));
    }
    if let Some(d) = &deadlines {
        statements.extend(deadline_statements(&mut sql, &case_id, d, "TRUE"));
    }
    statements.extend(panel_form_and_document_statements(
        &mut sql, &case_id, panel, form, document, "TRUE",
    ));
    (statements, sql.values)
}
