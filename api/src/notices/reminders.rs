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

use super::JobError;
use super::messages::NoticeKind;
use crate::context::Context;
use crate::jurisdiction::UnitTree;
use crate::store::Store;
use crate::store::entities::case_deadline;
use crate::store::reminders::NewNotice;
use crate::support::json_list;
use chrono::{DateTime, Utc};
use pilotflow_engine::deadline::{self, Notice};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
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
    async fn load(store: &Store) -> Result<Self, JobError> {
        let mut by_role_unit: HashMap<String, HashMap<String, Vec<Person>>> = HashMap::new();
        let mut by_name = HashMap::new();
        for u in store.active_users().await? {
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
pub async fn scan(ctx: &Context) -> Result<ScanReport, JobError> {
    let now = ctx.clock.now();
    let directory = Directory::load(&ctx.store).await?;
    let (batch, claimers) = if ctx.store.is_postgres() {
        (POSTGRES_BATCH, POSTGRES_CLAIMERS)
    } else {
        (SQLITE_BATCH, 1)
    };
    let drains = (0..claimers).map(|_| drain(ctx, &directory, now, batch));
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
    ctx: &Context,
    directory: &Directory,
    now: DateTime<Utc>,
    size: u64,
) -> Result<ScanReport, JobError> {
    let mut report = ScanReport::default();
    loop {
        let batch = scan_batch(ctx, directory, now, size).await?;
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
    ctx: &'a Context,
    directory: &'a Directory,
    /// The batch's assignments: case → (role, user name).
    assigned: HashMap<String, Vec<(String, String)>>,
    units: Arc<UnitTree>,
    now: DateTime<Utc>,
}

impl Composer<'_> {
    /// When the deadline next needs the scan, and the notices due on it now, one per person.
    fn notices(&self, row: &case_deadline::Model) -> (Option<DateTime<Utc>>, Vec<NewNotice>) {
        let (ctx, directory, units, now) = (self.ctx, self.directory, &self.units, self.now);
        let remind_days: Vec<u32> = json_list(&row.remind_days);
        let escalate_to: Vec<String> = json_list(&row.escalate_to);
        let plan = deadline::notice_plan(row.due, &remind_days, !escalate_to.is_empty(), now);
        let mut notices = Vec::new();
        let Some(wf) = ctx.registry.current(&row.workflow_key) else {
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
    ctx: &Context,
    directory: &Directory,
    now: DateTime<Utc>,
    size: u64,
) -> Result<ScanReport, JobError> {
    let batch = ctx.store.claim_reminders(now, size).await?;
    if batch.rows.is_empty() {
        batch.finish(Vec::new()).await?;
        return Ok(ScanReport::default());
    }
    let composer = Composer {
        ctx,
        directory,
        assigned: batch.assignments().await?,
        units: ctx.units(),
        now,
    };
    let mut next = Vec::with_capacity(batch.rows.len());
    // Composed lazily: on SQLite the next chunk is composed while the one before is written.
    let mut notices = batch.rows.iter().flat_map(|row| {
        let (next_at, notices) = composer.notices(row);
        next.push((row.case_id.clone(), row.name.clone(), next_at));
        notices
    });
    let written = batch.insert_notices(&mut notices).await?;
    drop(notices);
    let deadlines = batch.rows.len() as u64;
    batch.finish(next).await?;
    Ok(ScanReport {
        deadlines,
        notifications: written.notices,
        mails: written.mails,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
