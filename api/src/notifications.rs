//! In-app notifications (each user's own), and the outbox as the provincial admin sees it:
//! what is waiting, what was sent, and the dead mail to retry.

use crate::auth::Caller;
use crate::cases::Page;
use crate::error::ApiError;
use crate::reminders::{Message, render};
use crate::state::AppState;
use crate::store::entities::notification;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationFilter {
    /// Only unread notifications (true) or only read ones (false).
    pub unread: Option<bool>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// 1 to 100; 20 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    pub case_id: String,
    pub deadline: String,
    /// `reminder` or `overdue`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub due: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationView>,
    /// How many match the filter.
    pub total: u64,
    /// How many of the caller's notifications are unread.
    pub unread: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MarkedRead {
    /// Notifications newly marked read.
    pub marked: u64,
}

impl NotificationView {
    fn new(n: notification::Model, text: Message) -> Self {
        Self {
            id: n.id,
            case_id: n.case_id,
            deadline: n.deadline,
            kind: n.kind,
            subject: text.subject,
            body: text.text,
            due: n.due,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: NotificationFilter,
) -> Result<NotificationList, ApiError> {
    let page = Page::checked(f.page, f.per_page, 20)?;
    let db = &state.store.read;
    let mine = notification::Entity::find()
        .filter(notification::Column::Username.eq(caller.username.clone()));
    let unread = mine
        .clone()
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?;
    let query = match f.unread {
        Some(true) => mine.filter(notification::Column::ReadAt.is_null()),
        Some(false) => mine.filter(notification::Column::ReadAt.is_not_null()),
        None => mine,
    };
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(notification::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    let texts = render(state, &rows).await?;
    let items = rows
        .into_iter()
        .zip(texts)
        .map(|(n, text)| NotificationView::new(n, text))
        .collect();
    Ok(NotificationList {
        items,
        total,
        unread,
    })
}

/// Marks one of the caller's notifications read (again is fine); another's is not found.
pub async fn mark_read(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let db = &state.store.write;
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::Username.eq(caller.username.clone()))
        .one(db)
        .await?
        .ok_or_else(notification_not_found)?;
    if found.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(state.clock.now()))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn mark_all_read(state: &AppState, caller: &Caller) -> Result<MarkedRead, ApiError> {
    let done = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(state.clock.now()))
        .filter(notification::Column::Username.eq(caller.username.clone()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&state.store.write)
        .await?;
    Ok(MarkedRead {
        marked: done.rows_affected,
    })
}

fn notification_not_found() -> ApiError {
    ApiError::new(
        "notification_not_found",
        "该通知不存在",
        "no such notification",
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    Pending,
    Sending,
    Sent,
    Dead,
}

impl MailStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxFilter {
    /// pending, sending, sent or dead; all when absent.
    #[param(inline)]
    pub status: Option<MailStatus>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MailView {
    pub id: i64,
    pub case_id: String,
    pub username: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure (a dead mail's cause).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MailList {
    pub items: Vec<MailView>,
    pub total: u64,
}

impl MailView {
    fn new(m: notification::Model, text: Message) -> Self {
        Self {
            id: m.id,
            case_id: m.case_id,
            username: m.username,
            recipient: m.email.unwrap_or_default(),
            subject: text.subject,
            status: m.mail_status.unwrap_or_default(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

pub async fn list_mail(state: &AppState, f: OutboxFilter) -> Result<MailList, ApiError> {
    let page = Page::checked(f.page, f.per_page, 20)?;
    let db = &state.store.read;
    let mut query =
        notification::Entity::find().filter(notification::Column::MailStatus.is_not_null());
    if let Some(status) = f.status {
        query = query.filter(notification::Column::MailStatus.eq(status.as_str()));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(notification::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    let texts = render(state, &rows).await?;
    let items = rows
        .into_iter()
        .zip(texts)
        .map(|(m, text)| MailView::new(m, text))
        .collect();
    Ok(MailList { items, total })
}

/// Puts a dead mail back in the queue, with its attempts counted afresh.
pub async fn retry_mail(state: &AppState, id: i64) -> Result<MailView, ApiError> {
    let db = &state.store.write;
    let now = state.clock.now();
    let done = notification::Entity::update_many()
        .col_expr(notification::Column::MailStatus, Expr::value("pending"))
        .col_expr(notification::Column::Attempts, Expr::value(0))
        .col_expr(notification::Column::NextAttemptAt, Expr::value(Some(now)))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::MailStatus.eq("dead"))
        .exec(db)
        .await?;
    let row = notification::Entity::find_by_id(id)
        .filter(notification::Column::MailStatus.is_not_null())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::new("mail_not_found", "该邮件不存在", "no such mail"))?;
    if done.rows_affected == 0 {
        return Err(ApiError::new(
            "mail_not_dead",
            format!(
                "只有发送失败(dead)的邮件可以重发,该邮件状态为 {}",
                row.mail_status.as_deref().unwrap_or_default()
            ),
            format!(
                "only dead mail can be retried; this one is {}",
                row.mail_status.as_deref().unwrap_or_default()
            ),
        ));
    }
    let mut text = render(state, std::slice::from_ref(&row)).await?;
    Ok(MailView::new(row, text.remove(0)))
}
