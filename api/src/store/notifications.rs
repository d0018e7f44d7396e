//! The `notifications` table: each row an in-app notice and, when it carries an address, its
//! mail in the outbox. The reminder scan inserts them (`reminders`); here they are read, marked
//! read, and claimed and settled by the outbox worker.

use super::Store;
use super::entities::notification;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

/// A page of rows, newest first, and how many match.
pub struct NotificationPage {
    pub total: u64,
    pub rows: Vec<notification::Model>,
}

impl Store {
    /// How many of a user's notifications are unread, and a page of them (`unread`: only
    /// unread, only read, or all).
    pub async fn notifications_of(
        &self,
        username: &str,
        unread: Option<bool>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, NotificationPage), DbErr> {
        let mine = notification::Entity::find().filter(notification::Column::Username.eq(username));
        let unread_count = mine
            .clone()
            .filter(notification::Column::ReadAt.is_null())
            .count(&self.read)
            .await?;
        let query = match unread {
            Some(true) => mine.filter(notification::Column::ReadAt.is_null()),
            Some(false) => mine.filter(notification::Column::ReadAt.is_not_null()),
            None => mine,
        };
        let total = query.clone().count(&self.read).await?;
        let rows = query
            .order_by_desc(notification::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.read)
            .await?;
        Ok((unread_count, NotificationPage { total, rows }))
    }

    /// Marks one of a user's notifications read (again is fine); false if the user has no such
    /// notification.
    pub async fn mark_notification_read(
        &self,
        username: &str,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let Some(found) = notification::Entity::find_by_id(id)
            .filter(notification::Column::Username.eq(username))
            .one(&self.write)
            .await?
        else {
            return Ok(false);
        };
        if found.read_at.is_none() {
            notification::Entity::update_many()
                .col_expr(notification::Column::ReadAt, Expr::value(at))
                .filter(notification::Column::Id.eq(id))
                .filter(notification::Column::ReadAt.is_null())
                .exec(&self.write)
                .await?;
        }
        Ok(true)
    }

    /// Marks every unread notification of a user read; answers how many.
    pub async fn mark_all_notifications_read(
        &self,
        username: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, DbErr> {
        let done = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(at))
            .filter(notification::Column::Username.eq(username))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&self.write)
            .await?;
        Ok(done.rows_affected)
    }

    /// The outbox: rows that carry mail (`status`: of one status only), newest first.
    pub async fn outbox_page(
        &self,
        status: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<NotificationPage, DbErr> {
        let mut query =
            notification::Entity::find().filter(notification::Column::MailStatus.is_not_null());
        if let Some(status) = status {
            query = query.filter(notification::Column::MailStatus.eq(status));
        }
        let total = query.clone().count(&self.read).await?;
        let rows = query
            .order_by_desc(notification::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.read)
            .await?;
        Ok(NotificationPage { total, rows })
    }

    /// Puts a dead mail back in the queue with its attempts counted afresh. Answers whether it
    /// was dead (and so queued again) and the mail as it is now (`None`: no such mail).
    pub async fn requeue_dead_mail(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(bool, Option<notification::Model>), DbErr> {
        let done = notification::Entity::update_many()
            .col_expr(notification::Column::MailStatus, Expr::value("pending"))
            .col_expr(notification::Column::Attempts, Expr::value(0))
            .col_expr(notification::Column::NextAttemptAt, Expr::value(Some(at)))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::MailStatus.eq("dead"))
            .exec(&self.write)
            .await?;
        let row = notification::Entity::find_by_id(id)
            .filter(notification::Column::MailStatus.is_not_null())
            .one(&self.write)
            .await?;
        Ok((done.rows_affected > 0, row))
    }

    /// Claims up to `limit` mails waiting at `now` (and mails whose claim lapsed) for this
    /// worker until `lease_until`, counting the attempt. On PostgreSQL with `SKIP LOCKED`, so
    /// replicas take different rows; SQLite has one writer.
    pub async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<notification::Model>, DbErr> {
        let db = &self.write;
        let backend = db.get_database_backend();
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE notifications SET mail_status = 'sending', claimed_until = $1, \
             attempts = attempts + 1 WHERE id IN (SELECT id FROM notifications \
             WHERE (mail_status = 'pending' AND next_attempt_at <= $2) \
             OR (mail_status = 'sending' AND claimed_until < $2) ORDER BY id LIMIT $3{lock}) \
             RETURNING *"
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    Value::from(lease_until),
                    Value::from(now),
                    Value::from(limit),
                ],
            ))
            .await?;
        rows.iter()
            .map(|r| notification::Model::from_query_result(r, ""))
            .collect()
    }

    /// Settles a claimed mail that could not be sent: `dead` for good, or waiting until
    /// `retry_at`.
    pub async fn mark_mail_failed(
        &self,
        id: i64,
        dead: bool,
        retry_at: DateTime<Utc>,
        error: String,
    ) -> Result<(), DbErr> {
        notification::Entity::update_many()
            .col_expr(
                notification::Column::MailStatus,
                Expr::value(if dead { "dead" } else { "pending" }),
            )
            .col_expr(
                notification::Column::NextAttemptAt,
                Expr::value(Some(retry_at)),
            )
            .col_expr(notification::Column::LastError, Expr::value(error))
            .col_expr(
                notification::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::MailStatus.eq("sending"))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// Settles claimed mails that were sent at `at`.
    pub async fn mark_mail_sent(&self, ids: Vec<i64>, at: DateTime<Utc>) -> Result<(), DbErr> {
        notification::Entity::update_many()
            .col_expr(notification::Column::MailStatus, Expr::value("sent"))
            .col_expr(notification::Column::SentAt, Expr::value(at))
            .col_expr(
                notification::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                notification::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(notification::Column::Id.is_in(ids))
            .filter(notification::Column::MailStatus.eq("sending"))
            .exec(&self.write)
            .await?;
        Ok(())
    }
}
