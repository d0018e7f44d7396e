//! The outbox worker: claims waiting mail in the database, sends it through SMTP (lettre),
//! and records the result. A failed send is retried with exponential backoff; after
//! `outbox_max_attempts` failures (or at once, if the server refuses the mail for good) the
//! row is marked dead with its error for the provincial admin, who may retry it.
//!
//! Claiming sets a lease (`claimed_until`): on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//! replicas take different rows; SQLite has one writer. A worker that dies mid-send leaves
//! its lease to lapse and another takes the row over. That one case can repeat a mail the
//! server had already accepted; its `Message-ID` is derived from the notice key, so mail
//! clients show it once.

use super::messages::{self, case_link, html_body};
use super::{JobError, JobGuards};
use crate::config::Settings;
use crate::context::Context;
use crate::store::entities::notification;
use chrono::Duration;
use futures_util::StreamExt;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Mails claimed at once, and sent at once over the SMTP connection pool. SMTP is a chain of
/// small round trips per mail, so throughput comes from mails in flight, not from CPU.
const CLAIM: i64 = 256;
const IN_FLIGHT: usize = 32;
/// How long a claim holds before another worker may take the mail over.
const LEASE_MINUTES: i64 = 5;
const FIRST_RETRY_SECONDS: i64 = 30;
const MAX_RETRY_SECONDS: i64 = 3_600;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("smtp_url is not a usable SMTP address (smtp://host:port, smtps://…)")]
    Url(#[source] lettre::transport::smtp::Error),
    #[error("mail_from `{0}` is not a mail address (e.g. 试点工作平台 <noreply@example.org>)")]
    From(String),
}

impl Mailer {
    /// The mailer the settings ask for; `None` without `smtp_url`. Must run inside Tokio (the
    /// connection pool starts a task).
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, MailerError> {
        let Some(url) = &settings.smtp_url else {
            return Ok(None);
        };
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|_| MailerError::From(settings.mail_from.clone()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(MailerError::Url)?
            .timeout(Some(std::time::Duration::from_secs(15)))
            .pool_config(PoolConfig::new().max_size(IN_FLIGHT as u32))
            .build();
        Ok(Some(Self { transport, from }))
    }

    async fn send(
        &self,
        row: &notification::Model,
        text: &messages::Message,
        link: &str,
    ) -> Result<(), SendFailure> {
        let address = row.email.as_deref().unwrap_or_default();
        let to: Mailbox = address.parse().map_err(|e| SendFailure {
            permanent: true,
            error: format!("收件地址无效 / invalid recipient `{address}`: {e}"),
        })?;
        let id = hex::encode(&Sha256::digest(row.dedupe_key.as_bytes())[..16]);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(text.subject.clone())
            .message_id(Some(format!("<{id}@pilotflow>")))
            .multipart(MultiPart::alternative_plain_html(
                text.text.clone(),
                html_body(&text.subject, &text.text, link),
            ))
            .map_err(|e| SendFailure {
                permanent: true,
                error: format!("邮件无法生成 / cannot build the mail: {e}"),
            })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendFailure {
                permanent: e.is_permanent(),
                error: error_chain(&e),
            })
    }
}

struct SendFailure {
    permanent: bool,
    error: String,
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
pub struct SendReport {
    pub sent: u64,
    /// Failed this time and waiting for a retry.
    pub retrying: u64,
    /// Failed for the last time (or refused for good): now dead.
    pub dead: u64,
}

/// The wait before retry `attempts` (1 = after the first failure): 30 s, doubling, at most an
/// hour.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    Duration::seconds((FIRST_RETRY_SECONDS << doublings).min(MAX_RETRY_SECONDS))
}

/// Sends everything due now; returns what happened. Stops early (between claims) when the
/// service is shutting down, so the mail in flight is finished and nothing new is started.
pub async fn run(
    ctx: &Context,
    mailer: Option<&Mailer>,
    guards: &JobGuards,
) -> Result<SendReport, JobError> {
    let mut report = SendReport::default();
    let Some(mailer) = mailer else {
        return Ok(report);
    };
    let max_attempts = i32::try_from(ctx.settings.outbox_max_attempts.max(1)).unwrap_or(i32::MAX);
    while !guards.stopping() {
        let now = ctx.clock.now();
        let rows = ctx
            .store
            .claim_mail(now, now + Duration::minutes(LEASE_MINUTES), CLAIM)
            .await?;
        if rows.is_empty() {
            break;
        }
        let texts = messages::render(ctx, &rows).await?;
        let results: Vec<(notification::Model, Result<(), SendFailure>)> =
            futures_util::stream::iter(rows.into_iter().zip(texts))
                .map(|(row, text)| async move {
                    let link = case_link(&ctx.settings, &row.case_id);
                    let result = mailer.send(&row, &text, &link).await;
                    (row, result)
                })
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
        let finished = ctx.clock.now();
        let mut sent = Vec::new();
        for (row, result) in results {
            match result {
                Ok(()) => sent.push(row.id),
                Err(failure) => {
                    let dead = failure.permanent || row.attempts >= max_attempts;
                    tracing::warn!(
                        mail = row.id,
                        attempts = row.attempts,
                        dead,
                        error = %failure.error,
                        "a mail could not be sent"
                    );
                    if dead {
                        report.dead += 1;
                    } else {
                        report.retrying += 1;
                    }
                    let retry_at = finished + backoff(row.attempts);
                    ctx.store
                        .mark_mail_failed(row.id, dead, retry_at, failure.error)
                        .await?;
                }
            }
        }
        if !sent.is_empty() {
            report.sent += sent.len() as u64;
            ctx.store.mark_mail_sent(sent, finished).await?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(4), Duration::seconds(240));
        assert_eq!(backoff(12), Duration::seconds(3_600));
        assert_eq!(backoff(i32::MAX), Duration::seconds(3_600));
    }
}
