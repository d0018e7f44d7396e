//! The one migration set, for SQLite and PostgreSQL alike.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Initial),
            Box::new(CalendarYears),
            Box::new(CaseDeadlines),
            Box::new(Reminders),
            Box::new(NoticeTextAtRead),
            Box::new(DeadlineSchedule),
            Box::new(ExpertReview),
            Box::new(FormsApart),
        ]
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m20261123_000001_initial"
    }
}

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn text_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

fn time(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn time_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn index(table: &'static str, name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create().name(name).table(table).to_owned();
    for c in cols {
        idx.col(*c);
    }
    idx
}

fn serial_id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn big(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("org_units")
                .col(text("code").primary_key())
                .col(text("name"))
                .col(text("level"))
                .col(text_null("parent_code"))
                .col(ColumnDef::new("national_zone").boolean().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("users")
                .col(text("username").primary_key())
                .col(text("display_name"))
                .col(text("email"))
                .col(text("password_hash"))
                .col(text("role"))
                .col(text("org_unit"))
                .col(ColumnDef::new("active").boolean().not_null())
                .col(time("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("sessions")
                .col(text("token_hash").primary_key())
                .col(text("username"))
                .col(time("created_at"))
                .col(time("expires_at"))
                .col(time_null("revoked_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("workflow_definitions")
                .col(text("key"))
                .col(text("version"))
                .col(text("content_hash"))
                .col(text("source"))
                .col(text("schemas"))
                .col(time("loaded_at"))
                .primary_key(Index::create().col("key").col("version"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cases")
                .col(text("id").primary_key())
                .col(text("workflow_key"))
                .col(text("workflow_version"))
                .col(text("title"))
                .col(text("org_unit"))
                .col(text_null("parent_unit"))
                .col(ColumnDef::new("round").integer().null())
                .col(text("state"))
                .col(text("snapshot"))
                .col(big("version"))
                .col(text("head_hash"))
                .col(text("created_by"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_cases_org_unit", &["org_unit", "created_at"][..]),
            ("idx_cases_parent_unit", &["parent_unit", "created_at"][..]),
            ("idx_cases_created", &["created_at"][..]),
        ] {
            m.create_index(index("cases", name, cols)).await?;
        }
        m.create_table(
            Table::create()
                .table("case_events")
                .col(text("case_id"))
                .col(big("seq"))
                .col(text("kind"))
                .col(text_null("action"))
                .col(text_null("actor"))
                .col(text_null("actor_role"))
                .col(text_null("from_state"))
                .col(text_null("to_state"))
                .col(time("at"))
                .col(text("input_digest"))
                .col(text_null("comment"))
                .col(text("body"))
                .col(text("prev_hash"))
                .col(text("hash"))
                .primary_key(Index::create().col("case_id").col("seq"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("case_assignments")
                .col(text("case_id"))
                .col(text("role"))
                .col(text("username"))
                .primary_key(Index::create().col("case_id").col("role").col("username"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "case_assignments",
            "idx_case_assignments_user",
            &["username"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(text("username"))
                .col(text("key"))
                .col(text("request_hash"))
                .col(ColumnDef::new("status").integer().not_null())
                .col(text("response"))
                .col(time("created_at"))
                .primary_key(Index::create().col("username").col("key"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("attachments")
                .col(text("id").primary_key())
                .col(text("case_id"))
                .col(text("filename"))
                .col(text("content_type"))
                .col(big("size"))
                .col(text("sha256"))
                .col(text("stored_name"))
                .col(text("uploaded_by"))
                .col(time("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("attachments", "idx_attachments_case", &["case_id"]))
            .await?;
        Ok(())
    }
}

/// Holiday data by year: seeded from `calendar/china-holidays.json`, new years uploaded by the
/// provincial admin.
struct CalendarYears;

impl MigrationName for CalendarYears {
    fn name(&self) -> &str {
        "m20261123_000002_calendar_years"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CalendarYears {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("calendar_years")
                .col(ColumnDef::new("year").integer().not_null().primary_key())
                .col(text("holidays"))
                .col(text("workdays"))
                .col(text("source"))
                .col(text("updated_by"))
                .col(time("updated_at"))
                .to_owned(),
        )
        .await
    }
}

/// Each case's deadlines as the engine computed them at its last transition, for scans and
/// lists across cases (overdue, coming up).
struct CaseDeadlines;

impl MigrationName for CaseDeadlines {
    fn name(&self) -> &str {
        "m20261123_000003_case_deadlines"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CaseDeadlines {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("case_deadlines")
                .col(text("case_id"))
                .col(text("name"))
                .col(text("label"))
                .col(text("case_title"))
                .col(text("workflow_key"))
                .col(text("org_unit"))
                .col(text_null("parent_unit"))
                .col(time("due"))
                .col(text("status"))
                .col(text("responsible"))
                .col(text("gates"))
                .col(text("fallback_years"))
                .col(time("updated_at"))
                .primary_key(Index::create().col("case_id").col("name"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_case_deadlines_due", &["status", "due"][..]),
            (
                "idx_case_deadlines_unit",
                &["org_unit", "status", "due"][..],
            ),
            (
                "idx_case_deadlines_parent",
                &["parent_unit", "status", "due"][..],
            ),
        ] {
            m.create_index(index("case_deadlines", name, cols)).await?;
        }
        Ok(())
    }
}

/// Reminders: when each deadline next needs a notice, the notices (in the app, and the mail
/// outbox) and the calendar feed tokens.
struct Reminders;

impl MigrationName for Reminders {
    fn name(&self) -> &str {
        "m20261124_000004_reminders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Reminders {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per ALTER TABLE.
        for col in [
            ColumnDef::new("remind_days")
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
            ColumnDef::new("escalate_to")
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
            time_null("next_notice_at"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("case_deadlines")
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        // Rows written before reminders existed lack their schedule; the service rebuilds the
        // table from the cases at start when it is empty.
        m.get_connection()
            .execute_unprepared("DELETE FROM case_deadlines")
            .await?;
        m.create_index(index(
            "case_deadlines",
            "idx_case_deadlines_notice",
            &["status", "next_notice_at"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("notifications")
                .col(serial_id())
                .col(text("dedupe_key").unique_key())
                .col(text("username"))
                .col(text("case_id"))
                .col(text("deadline"))
                .col(text("kind"))
                .col(text("subject"))
                .col(text("body"))
                .col(time("due"))
                .col(time("created_at"))
                .col(time_null("read_at"))
                .col(text_null("email"))
                .col(text_null("mail_status"))
                .col(ColumnDef::new("attempts").integer().not_null())
                .col(time_null("next_attempt_at"))
                .col(time_null("claimed_until"))
                .col(text_null("last_error"))
                .col(time_null("sent_at"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_notifications_user", ["username", "id"]),
            ("idx_notifications_mail", ["mail_status", "next_attempt_at"]),
        ] {
            m.create_index(index("notifications", name, &cols)).await?;
        }
        m.create_table(
            Table::create()
                .table("feed_tokens")
                .col(text("username").primary_key())
                .col(text("token_hash").unique_key())
                .col(time("created_at"))
                .to_owned(),
        )
        .await
    }
}

/// A notice's subject and text are composed when it is read or mailed, from the facts the row
/// and its deadline keep: the scan writes narrow rows (measured: a third of what it wrote).
struct NoticeTextAtRead;

impl MigrationName for NoticeTextAtRead {
    fn name(&self) -> &str {
        "m20261201_000005_notice_text_at_read"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NoticeTextAtRead {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per ALTER TABLE.
        for col in ["subject", "body"] {
            m.alter_table(
                Table::alter()
                    .table("notifications")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// The reminder schedule moves out of `case_deadlines` into a narrow table of its own, so the
/// scan's update touches two small indexes instead of the wide row's five.
struct DeadlineSchedule;

impl MigrationName for DeadlineSchedule {
    fn name(&self) -> &str {
        "m20261201_000006_deadline_schedule"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DeadlineSchedule {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("deadline_schedule")
                .col(text("case_id"))
                .col(text("name"))
                .col(time("due"))
                .col(time_null("next_notice_at"))
                .primary_key(Index::create().col("case_id").col("name"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "deadline_schedule",
            "idx_deadline_schedule_next",
            &["next_notice_at"],
        ))
        .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO deadline_schedule (case_id, name, due, next_notice_at) \
                 SELECT case_id, name, due, next_notice_at FROM case_deadlines \
                 WHERE status = 'pending'",
            )
            .await?;
        m.drop_index(
            Index::drop()
                .name("idx_case_deadlines_notice")
                .table("case_deadlines")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("case_deadlines")
                .drop_column("next_notice_at")
                .to_owned(),
        )
        .await
    }
}

/// Expert review: the fields of expertise of each expert, declared conflicts of interest,
/// private drafts of score sheets, and the numbered documents decisions were issued under.
struct ExpertReview;

impl MigrationName for ExpertReview {
    fn name(&self) -> &str {
        "m20261201_000007_expert_review"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ExpertReview {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(
                    ColumnDef::new("expertise")
                        .text()
                        .not_null()
                        .default("[]")
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("expert_conflicts")
                .col(text("username"))
                .col(text("org_unit"))
                .col(text("reason"))
                .col(time("declared_at"))
                .primary_key(Index::create().col("username").col("org_unit"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("review_drafts")
                .col(text("case_id"))
                .col(text("action"))
                .col(text("username"))
                .col(text("data"))
                .col(time("updated_at"))
                .primary_key(Index::create().col("case_id").col("action").col("username"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("documents")
                .col(text("workflow_key"))
                .col(text("number"))
                .col(ColumnDef::new("year").integer().null())
                .col(text("action"))
                .col(text("case_ids"))
                .col(text("issued_by"))
                .col(time("issued_at"))
                .primary_key(Index::create().col("workflow_key").col("number"))
                .to_owned(),
        )
        .await
    }
}

/// Saved forms move out of the case snapshot into rows of their own, written only when a form
/// is saved: a snapshot carried both forms (4.5 KB with the plan) and every transition wrote
/// them again.
struct FormsApart;

impl MigrationName for FormsApart {
    fn name(&self) -> &str {
        "m20261203_000008_forms_apart"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FormsApart {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("case_forms")
                .col(text("case_id"))
                .col(text("name"))
                .col(text("body"))
                .col(time("saved_at"))
                .primary_key(Index::create().col("case_id").col("name"))
                .to_owned(),
        )
        .await?;
        // The forms each snapshot holds become rows (saved at the case's last change: when
        // each was saved is in its event), and leave the snapshot.
        let (copy, strip) = match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => (
                "INSERT INTO case_forms (case_id, name, body, saved_at) \
                 SELECT c.id, f.key, f.value::text, c.updated_at \
                 FROM cases c, json_each(c.snapshot::json -> 'forms') f",
                "UPDATE cases SET snapshot = (snapshot::jsonb - 'forms')::text \
                 WHERE snapshot::jsonb ? 'forms'",
            ),
            _ => (
                "INSERT INTO case_forms (case_id, name, body, saved_at) \
                 SELECT c.id, f.key, c.snapshot -> f.fullkey, c.updated_at \
                 FROM cases c, json_each(c.snapshot, '$.forms') f",
                "UPDATE cases SET snapshot = json_remove(snapshot, '$.forms') \
                 WHERE json_type(snapshot, '$.forms') IS NOT NULL",
            ),
        };
        let db = m.get_connection();
        db.execute_unprepared(copy).await?;
        db.execute_unprepared(strip).await?;
        Ok(())
    }
}
