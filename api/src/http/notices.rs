//! Route handlers for reminders: in-app notifications, the outbox, running the jobs on the
//! rehearsal clock, and the calendar feed.

use super::extract::Admin;
use super::{Data, resource};
use crate::clock::ClockMode;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::identity::Caller;
use crate::notices::deadlines::{self, DeadlineFilter, DeadlineList};
use crate::notices::feed::{self, FeedToken};
use crate::notices::jobs::{self, JobKind, JobReport};
use crate::notices::notifications::{
    self, MailList, MailView, MarkedRead, NotificationFilter, NotificationList, OutboxFilter,
};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

/// The `/api/v1` resources; the calendar feed is outside it (`configure_feed`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/deadlines").route(web::get().to(upcoming_deadlines)))
        .service(resource("/notifications").route(web::get().to(list_notifications)))
        .service(resource("/notifications/read-all").route(web::post().to(read_all_notifications)))
        .service(resource("/notifications/{id}/read").route(web::post().to(read_notification)))
        .service(resource("/admin/outbox").route(web::get().to(list_outbox)))
        .service(resource("/admin/outbox/{id}/retry").route(web::post().to(retry_mail)))
        .service(resource("/admin/jobs/{job}/run").route(web::post().to(run_job)))
        .service(
            resource("/me/calendar-feed")
                .route(web::post().to(issue_feed))
                .route(web::delete().to(revoke_feed)),
        );
}

/// Running deadlines within the caller's scope due within a window (and those already past),
/// soonest first.
#[utoipa::path(get, path = "/api/v1/deadlines", tag = "cases", security(("bearer" = [])),
    params(DeadlineFilter),
    responses(
        (status = 200, body = DeadlineList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upcoming_deadlines(
    state: Data,
    caller: Caller,
    query: web::Query<DeadlineFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(
        HttpResponse::Ok()
            .json(deadlines::upcoming(&state.ctx, &caller, query.into_inner()).await?),
    )
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationFilter),
    responses(
        (status = 200, body = NotificationList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_notifications(
    state: Data,
    caller: Caller,
    query: web::Query<NotificationFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(
        HttpResponse::Ok()
            .json(notifications::list(&state.ctx, &caller, query.into_inner()).await?),
    )
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "notification id")),
    responses(
        (status = 204, description = "marked read"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read_notification(
    state: Data,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    notifications::mark_read(&state.ctx, &caller, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, body = MarkedRead),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read_all_notifications(state: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notifications::mark_all_read(&state.ctx, &caller).await?))
}

/// The mail outbox, newest first (provincial admin): `status=dead` lists what failed for good.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "admin", security(("bearer" = [])),
    params(OutboxFilter),
    responses(
        (status = 200, body = MailList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_outbox(
    state: Data,
    query: web::Query<OutboxFilter>,
    _admin: Admin,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notifications::list_mail(&state.ctx, query.into_inner()).await?))
}

/// Queue a dead mail again (provincial admin).
#[utoipa::path(post, path = "/api/v1/admin/outbox/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "mail id")),
    responses(
        (status = 200, body = MailView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the mail is not dead", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retry_mail(
    state: Data,
    path: web::Path<i64>,
    _admin: Admin,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notifications::retry_mail(&state.ctx, path.into_inner()).await?))
}

/// Run a job now: `deadlines` (the reminder scan) or `outbox` (send waiting mail). Provincial
/// admin, rehearsal clock only (404 with the system clock, where cron runs them).
#[utoipa::path(post, path = "/api/v1/admin/jobs/{job}/run", tag = "admin", security(("bearer" = [])),
    params(("job" = JobKind, Path, description = "deadlines or outbox")),
    responses(
        (status = 200, body = JobReport),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such job, or the service runs on the system clock", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn run_job(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.ctx.clock.mode() == ClockMode::System {
        return Err(ApiError::not_found());
    }
    Admin::check(caller)?;
    let kind = JobKind::parse(&path.into_inner()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::JobNotFound,
            "没有这个任务:可运行 deadlines(截止提醒扫描)或 outbox(发送邮件)",
            "no such job: use deadlines or outbox",
        )
    })?;
    let report = jobs::run(&state.ctx, state.mailer.as_ref(), &state.jobs, kind)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(report))
}

/// Make (or replace) the caller's calendar feed address; the old one stops working.
#[utoipa::path(post, path = "/api/v1/me/calendar-feed", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 201, body = FeedToken),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn issue_feed(state: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(feed::issue(&state.ctx, &caller).await?))
}

/// Revoke the caller's calendar feed address.
#[utoipa::path(delete, path = "/api/v1/me/calendar-feed", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_feed(state: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    feed::revoke(&state.ctx, &caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedQuery {
    /// The feed token from `POST /api/v1/me/calendar-feed`.
    pub token: String,
}

/// The deadlines the feed's owner must act on, as iCalendar (for Outlook or WPS).
#[utoipa::path(get, path = "/calendar.ics", tag = "notifications",
    params(FeedQuery),
    responses(
        (status = 200, description = "iCalendar", content_type = "text/calendar", body = String),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn calendar_feed(
    state: Data,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let body = feed::render(&state.ctx, &query.token).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(body))
}

pub fn configure_feed(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/calendar.ics").route(web::get().to(calendar_feed)));
}
