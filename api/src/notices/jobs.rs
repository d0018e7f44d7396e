//! Background jobs: the reminder scan and the outbox worker, triggered by cron
//! (tokio-cron-scheduler, in memory) or by the provincial admin on the rehearsal clock. Every
//! job claims its work in the database, so any number of replicas may run them; within one
//! process a job never overlaps itself.

use super::outbox::{self, Mailer, SendReport};
use super::reminders::{self, ScanReport};
use crate::context::Context;
use crate::store::DbErr;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// The reminder scan over every pending deadline.
    Deadlines,
    /// The outbox worker.
    Outbox,
}

impl JobKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "deadlines" => Some(Self::Deadlines),
            "outbox" => Some(Self::Outbox),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deadlines => "deadlines",
            Self::Outbox => "outbox",
        }
    }
}

/// What one run of a job did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobReport {
    pub job: JobKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<SendReport>,
}

/// Per-process guards: one run of each job at a time, and a flag that stops them starting
/// new work at shutdown.
#[derive(Debug, Default)]
pub struct JobGuards {
    deadlines: Mutex<()>,
    outbox: Mutex<()>,
    stopping: AtomicBool,
}

impl JobGuards {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Stops new work and waits for the runs in flight to finish.
    pub async fn drain(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _scan = self.deadlines.lock().await;
        let _mail = self.outbox.lock().await;
    }
}

/// Why a job did not finish: the store failed. It is logged, not shown to a person, unless an
/// administrator ran the job by hand.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("the database failed")]
    Database(#[from] DbErr),
}

/// Runs a job now (waiting for a run of it already in progress in this process).
pub async fn run(
    ctx: &Context,
    mailer: Option<&Mailer>,
    guards: &JobGuards,
    kind: JobKind,
) -> Result<JobReport, JobError> {
    match kind {
        JobKind::Deadlines => {
            let _running = guards.deadlines.lock().await;
            Ok(JobReport {
                job: kind,
                scan: Some(reminders::scan(ctx).await?),
                outbox: None,
            })
        }
        JobKind::Outbox => {
            let _running = guards.outbox.lock().await;
            Ok(JobReport {
                job: kind,
                scan: None,
                outbox: Some(outbox::run(ctx, mailer, guards).await?),
            })
        }
    }
}

/// Starts the cron triggers the settings ask for (`off` for none); `None` when both are off.
/// `run` runs one job; it is called afresh for every trigger.
pub async fn schedule<F, Fut>(
    deadline_scan_cron: &str,
    outbox_cron: &str,
    run: F,
) -> Result<Option<JobScheduler>, JobSchedulerError>
where
    F: Fn(JobKind) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let crons = [
        (JobKind::Deadlines, deadline_scan_cron),
        (JobKind::Outbox, outbox_cron),
    ];
    if crons.iter().all(|(_, c)| c.trim() == "off") {
        return Ok(None);
    }
    let scheduler = JobScheduler::new().await?;
    for (kind, cron) in crons {
        if cron.trim() == "off" {
            continue;
        }
        let run = run.clone();
        scheduler
            .add(Job::new_async(cron, move |_id, _scheduler| {
                Box::pin(run(kind))
            })?)
            .await?;
    }
    scheduler.start().await?;
    Ok(Some(scheduler))
}
