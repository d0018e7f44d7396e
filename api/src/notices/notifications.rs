//! In-app notifications (each user's own), and the outbox as the provincial admin sees it:
//! what is waiting, what was sent, and the dead mail to retry.

use super::messages::{Message, render};
use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use crate::identity::Caller;
use crate::store::entities::notification;
use crate::support::Page;
use chrono::{DateTime, Utc};
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
    ctx: &Context,
    caller: &Caller,
    f: NotificationFilter,
) -> Result<NotificationList, ApiError> {
    let page = Page::checked(f.page, f.per_page, 20)?;
    let (unread, found) = ctx
        .store
        .notifications_of(&caller.username, f.unread, page.offset(), page.per_page)
        .await?;
    let texts = render(ctx, &found.rows).await?;
    let items = found
        .rows
        .into_iter()
        .zip(texts)
        .map(|(n, text)| NotificationView::new(n, text))
        .collect();
    Ok(NotificationList {
        items,
        total: found.total,
        unread,
    })
}

/// Marks one of the caller's notifications read (again is fine); another's is not found.
pub async fn mark_read(ctx: &Context, caller: &Caller, id: i64) -> Result<(), ApiError> {
    if ctx
        .store
        .mark_notification_read(&caller.username, id, ctx.clock.now())
        .await?
    {
        Ok(())
    } else {
        Err(notification_not_found())
    }
}

pub async fn mark_all_read(ctx: &Context, caller: &Caller) -> Result<MarkedRead, ApiError> {
    let marked = ctx
        .store
        .mark_all_notifications_read(&caller.username, ctx.clock.now())
        .await?;
    Ok(MarkedRead { marked })
}

fn notification_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotificationNotFound,
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

pub async fn list_mail(ctx: &Context, f: OutboxFilter) -> Result<MailList, ApiError> {
    let page = Page::checked(f.page, f.per_page, 20)?;
    let found = ctx
        .store
        .outbox_page(
            f.status.map(MailStatus::as_str),
            page.offset(),
            page.per_page,
        )
        .await?;
    let texts = render(ctx, &found.rows).await?;
    let items = found
        .rows
        .into_iter()
        .zip(texts)
        .map(|(m, text)| MailView::new(m, text))
        .collect();
    Ok(MailList {
        items,
        total: found.total,
    })
}

/// Puts a dead mail back in the queue, with its attempts counted afresh.
pub async fn retry_mail(ctx: &Context, id: i64) -> Result<MailView, ApiError> {
    let (requeued, row) = ctx.store.requeue_dead_mail(id, ctx.clock.now()).await?;
    let row =
        row.ok_or_else(|| ApiError::new(ErrorCode::MailNotFound, "该邮件不存在", "no such mail"))?;
    if !requeued {
        let status = row.mail_status.as_deref().unwrap_or_default();
        return Err(ApiError::new(
            ErrorCode::MailNotDead,
            format!("只有发送失败(dead)的邮件可以重发,该邮件状态为 {status}"),
            format!("only dead mail can be retried; this one is {status}"),
        ));
    }
    let mut text = render(ctx, std::slice::from_ref(&row)).await?;
    Ok(MailView::new(row, text.remove(0)))
}
