//! W4, reminders: a database with many open deadlines (one per case), of which some have a
//! reminder due now. Measures, in process and through the service's own code:
//! - finding the due deadlines: the scan's claim query (its first batch) and a count of all
//!   of them, with the query plan, to show an index range and not a table scan;
//! - filling the outbox: `reminders::scan` over every due deadline (two mails and two in-app
//!   notices each);
//! - sending: `outbox::run` to a local SMTP server (aiosmtpd).

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use pilotflow::config::{Secret, Settings};
use pilotflow::notices::outbox::SendReport;
use pilotflow::state::AppState;
use pilotflow::store::entities::{case_deadline, deadline_schedule, notification, org_unit};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Statement, TransactionTrait,
};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

pub struct Options {
    /// PostgreSQL URL of an empty database; `None` for an SQLite file.
    pub database: Option<String>,
    pub cases: u64,
    pub due: u64,
    pub mails: u64,
    pub smtp: String,
}

const NOW: &str = "2027-03-01T01:00:00Z";
const SEED_CHUNK: usize = 1_000;

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// Median of five timings of `f`, in milliseconds.
async fn median_ms<F, Fut>(mut f: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        f().await?;
        times.push(ms(t.elapsed()));
    }
    times.sort_by(f64::total_cmp);
    Ok(times[2])
}

pub async fn run(o: Options) -> Result<Value> {
    let data = std::env::temp_dir().join(format!("pf-bench-w4-{}", uuid::Uuid::new_v4().simple()));
    let now: DateTime<Utc> = NOW.parse()?;
    let backend = if o.database.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let state = prepare(&o, &data, now).await?;
    let db = &state.ctx.store.write;

    let seed_seconds = seed(db, &o, now).await?;
    settle(db).await?;
    let found = find_due(&state, now).await?;

    // Filling the outbox: the whole scan over every due deadline.
    eprintln!("W4: scan starts ({backend}, {} due)", found.count);
    let t = Instant::now();
    let scan = pilotflow::notices::reminders::scan(&state.ctx).await?;
    let scan_seconds = t.elapsed().as_secs_f64();

    let (sent, send_seconds) = send(&state, o.mails).await?;
    let _ = std::fs::remove_dir_all(&data);

    Ok(json!({
        "workload": "W4 reminders",
        "backend": backend,
        "open_deadlines": o.cases,
        "seed_seconds": seed_seconds,
        "due_deadlines": found.count,
        "find_due_first_batch_ms": found.first_batch_ms,
        "find_due_count_all_ms": found.count_ms,
        "query_plan": found.plan,
        "scan_deadlines": scan.deadlines,
        "scan_seconds": scan_seconds,
        "outbox_rows": scan.mails,
        "notification_rows": scan.notifications,
        "outbox_rows_per_second": scan.mails as f64 / scan_seconds,
        "mails_sent": sent.sent,
        "mails_failed": sent.retrying + sent.dead,
        "send_seconds": send_seconds,
        "mails_per_second": sent.sent as f64 / send_seconds,
    }))
}

/// The service on a new database in `data` (or `o.database`), with demo data, its clock
/// stopped at `now` and its scheduled jobs off: the bench runs them itself.
async fn prepare(o: &Options, data: &Path, now: DateTime<Utc>) -> Result<AppState> {
    let settings = Settings {
        data_dir: data.to_owned(),
        database_url: o.database.clone().map(Secret::new),
        clock_mode: pilotflow::clock::ClockMode::Simulated,
        clock_start: Some(now),
        smtp_url: Some(Secret::new(o.smtp.clone())),
        deadline_scan_cron: "off".to_owned(),
        outbox_cron: "off".to_owned(),
        db_pool_size: 8,
        ..Settings::default()
    };
    pilotflow::startup::prepare(settings, true)
        .await
        .context("preparing the database")
}

/// Fills the deadline tables with `o.cases` open deadlines, `o.due` of them with a reminder
/// due; returns the seconds it took.
async fn seed(db: &DatabaseConnection, o: &Options, now: DateTime<Utc>) -> Result<f64> {
    // The 60 counties with their cities: each deadline has a district and a city to tell.
    let counties: Vec<org_unit::Model> = org_unit::Entity::find()
        .filter(org_unit::Column::Level.eq("county"))
        .order_by_asc(org_unit::Column::Code)
        .all(db)
        .await?;
    let seeded = Instant::now();
    let mut rows = Vec::with_capacity(SEED_CHUNK);
    let mut schedule = Vec::with_capacity(SEED_CHUNK);
    for i in 0..o.cases {
        let unit = &counties[(i % counties.len() as u64) as usize];
        let (row, next) = deadline(i, unit, o.due, now);
        rows.push(row);
        schedule.push(next);
        if rows.len() == SEED_CHUNK || i + 1 == o.cases {
            let txn = db.begin().await?;
            case_deadline::Entity::insert_many(std::mem::take(&mut rows))
                .exec_without_returning(&txn)
                .await?;
            deadline_schedule::Entity::insert_many(std::mem::take(&mut schedule))
                .exec_without_returning(&txn)
                .await?;
            txn.commit().await?;
        }
    }
    Ok(seeded.elapsed().as_secs_f64())
}

/// Case `i`'s open deadline in `unit` and its schedule row.
fn deadline(
    i: u64,
    unit: &org_unit::Model,
    due_count: u64,
    now: DateTime<Utc>,
) -> (case_deadline::ActiveModel, deadline_schedule::ActiveModel) {
    let json_list = |v: &[&str]| serde_json::to_string(v).unwrap_or_default();
    // The first `due_count` have their 30-day reminder due within the last day; the rest
    // spread over the coming year.
    let first_notice = if i < due_count {
        now - Duration::seconds((i % 86_400) as i64)
    } else {
        now + Duration::seconds(1 + (i * 31) as i64 % (365 * 86_400))
    };
    let due = first_notice + Duration::days(30);
    let row = case_deadline::ActiveModel::from(case_deadline::Model {
        case_id: format!("bench-{i:08}"),
        name: "application_cutoff".to_owned(),
        label: "年度申报截止(市州报省)".to_owned(),
        case_title: format!("{}申报 {i}", unit.name),
        workflow_key: "pilot-zone".to_owned(),
        org_unit: unit.code.clone(),
        parent_unit: unit.parent_code.clone(),
        due,
        status: "pending".to_owned(),
        responsible: json_list(&["applicant", "municipal_reviewer"]),
        gates: json_list(&["forward"]),
        fallback_years: "[]".to_owned(),
        updated_at: now,
        remind_days: "[30,14,7,1]".to_owned(),
        escalate_to: json_list(&["provincial_admin"]),
    });
    let next = deadline_schedule::ActiveModel::from(deadline_schedule::Model {
        case_id: format!("bench-{i:08}"),
        name: "application_cutoff".to_owned(),
        due,
        next_notice_at: Some(first_notice),
    });
    (row, next)
}

/// Settles the seeded database before anything is measured.
/// Measured on a settled database, as one that gathered its million cases over years is:
/// statistics gathered, the seed's WAL written back and (PostgreSQL) the new rows vacuumed.
/// Otherwise the scan shares the two cores with autovacuum and the seed's checkpoint.
async fn settle(db: &DatabaseConnection) -> Result<()> {
    let settle: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &["VACUUM ANALYZE", "CHECKPOINT"],
        _ => &["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"],
    };
    for sql in settle {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// How fast the due deadlines are found, and how many there are.
struct FindDue {
    first_batch_ms: f64,
    count_ms: f64,
    count: u64,
    plan: String,
}

/// Finding the due deadlines: the scan's claim (first batch) and a count of all of them.
async fn find_due(state: &AppState, now: DateTime<Utc>) -> Result<FindDue> {
    let claim = || async {
        let txn = state.ctx.store.read.begin().await?;
        pilotflow::store::reminders::claim(&txn, now, 500).await?;
        txn.rollback().await?;
        Ok(())
    };
    let first_batch_ms = median_ms(claim).await?;
    let count_due = || {
        deadline_schedule::Entity::find()
            .filter(deadline_schedule::Column::NextNoticeAt.lte(now))
            .count(&state.ctx.store.read)
    };
    let count_ms = median_ms(|| async {
        count_due().await?;
        Ok(())
    })
    .await?;
    let count = count_due().await?;
    let plan = query_plan(&state.ctx.store.write, now).await?;
    Ok(FindDue {
        first_batch_ms,
        count_ms,
        count,
        plan,
    })
}

/// Sending: keep `mails` waiting, count the rest as sent, and time the worker. Returns what
/// it did and the seconds it took.
async fn send(state: &AppState, mails: u64) -> Result<(SendReport, f64)> {
    let db = &state.ctx.store.write;
    let first_id: i64 = notification::Entity::find()
        .order_by_asc(notification::Column::Id)
        .one(db)
        .await?
        .map(|m| m.id)
        .unwrap_or(0);
    notification::Entity::update_many()
        .col_expr(
            notification::Column::MailStatus,
            sea_orm::sea_query::Expr::value("sent"),
        )
        .filter(notification::Column::Id.gte(first_id + mails as i64))
        .exec(db)
        .await?;
    let t = Instant::now();
    let sent =
        pilotflow::notices::outbox::run(&state.ctx, state.mailer.as_ref(), &state.jobs).await?;
    Ok((sent, t.elapsed().as_secs_f64()))
}

/// The plan of the claim query, as the database explains it.
async fn query_plan(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<String> {
    let backend = db.get_database_backend();
    let prefix = match backend {
        DbBackend::Postgres => "EXPLAIN",
        _ => "EXPLAIN QUERY PLAN",
    };
    let sql = format!(
        "{prefix} {}",
        pilotflow::store::reminders::claim_sql(backend)
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [now.into(), 500i64.into()],
        ))
        .await?;
    let mut lines = Vec::new();
    for row in rows {
        let line: String = match backend {
            DbBackend::Postgres => row.try_get_by_index(0)?,
            _ => row.try_get("", "detail")?,
        };
        lines.push(line);
    }
    Ok(lines.join(" | "))
}
