//! Query plans the write path depends on, on both backends. A new database has no statistics
//! (nor has one that took a burst before ANALYZE saw it), so the planners fall back on their
//! defaults; each transition must still find its case's rows by the case, not read every
//! pending deadline of every case.

use crate::harness::entities::case_deadline;
use crate::harness::{Backend, STILL_PENDING, Store, fresh_postgres, on_each_backend};
use chrono::Utc;
use sea_orm::{ConnectionTrait, EntityTrait, Set, Statement};

const OTHER_CASES: usize = 1_500;

async fn retiring_a_cases_deadlines_reads_its_rows_by_the_primary_key_not_every_pending_deadline(
    backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/plans.sqlite3?mode=rwc", dir.path().display()),
        Backend::Postgres => fresh_postgres().await,
    };
    let store = Store::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    // Two running deadlines for each of many cases, as after the 30 September burst.
    for chunk in (0..OTHER_CASES * 2).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| pending_deadline(n / 2, n % 2));
        case_deadline::Entity::insert_many(rows)
            .exec(&store.write)
            .await
            .unwrap();
    }

    // The WHERE of the retirement (`deadline_statements`, `write_deadlines`).
    let filter =
        format!("case_id = 'case-7' AND {STILL_PENDING} AND name NOT IN ('acceptance_report')");
    // The statement as the writer sends it; each backend names its plan's column its own way.
    let (explain, column) = match backend {
        Backend::Sqlite => ("EXPLAIN QUERY PLAN", "detail"),
        Backend::Postgres => ("EXPLAIN", "QUERY PLAN"),
    };
    let plan = column_of(
        &store,
        &format!("{explain} UPDATE case_deadlines SET status = 'met' WHERE {filter}"),
        column,
    )
    .await
    .join("\n");
    assert!(
        !plan.contains("idx_case_deadlines_due"),
        "{backend:?}: the retirement reads the (status, due) index, every pending deadline \
         of every case:\n{plan}"
    );
    let key = match backend {
        Backend::Sqlite => "sqlite_autoindex_case_deadlines_1",
        Backend::Postgres => "case_deadlines_pkey",
    };
    assert!(
        plan.contains(key),
        "{backend:?}: the retirement does not find the case's rows by its key:\n{plan}"
    );

    // And the filter selects what it says: the case's pending rows except the one named.
    let names = column_of(
        &store,
        &format!("SELECT name FROM case_deadlines WHERE {filter}"),
        "name",
    )
    .await;
    assert_eq!(names, ["annual_report"], "{backend:?}");
}
on_each_backend!(
    retiring_a_cases_deadlines_reads_its_rows_by_the_primary_key_not_every_pending_deadline
);

fn pending_deadline(case: usize, which: usize) -> case_deadline::ActiveModel {
    let now = Utc::now();
    case_deadline::ActiveModel {
        case_id: Set(format!("case-{case}")),
        name: Set(["annual_report", "acceptance_report"][which].to_owned()),
        label: Set("年度报告".to_owned()),
        case_title: Set(format!("试验区 {case}")),
        workflow_key: Set("pilot-zone".to_owned()),
        org_unit: Set("220102".to_owned()),
        parent_unit: Set(Some("220100".to_owned())),
        due: Set(now),
        status: Set("pending".to_owned()),
        responsible: Set("[\"applicant\"]".to_owned()),
        gates: Set("[]".to_owned()),
        fallback_years: Set("[]".to_owned()),
        updated_at: Set(now),
        remind_days: Set("[30, 7, 1]".to_owned()),
        escalate_to: Set("[]".to_owned()),
    }
}

/// One text column of every row `sql` answers, in order.
async fn column_of(store: &Store, sql: &str, column: &str) -> Vec<String> {
    let rows = store
        .read
        .query_all_raw(Statement::from_string(
            store.read.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", column).unwrap())
        .collect()
}
