//! Background jobs: the reminder scan and the outbox worker, triggered by cron
//! (tokio-cron-scheduler, in memory) or by the provincial admin on the rehearsal clock. Every
//! job claims its work in the database, so any number of replicas may run them; within one
//! process a job never overlaps itself.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web;
use serde::{Deserialize, Serialize};
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

    fn as_str(self) -> &'static str {
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
    pub scan: Option<crate::reminders::ScanReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<crate::outbox::SendReport>,
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

/// Runs a job now (waiting for a run of it already in progress in this process).
pub async fn run(state: &AppState, kind: JobKind) -> Result<JobReport, ApiError> {
    match kind {
        JobKind::Deadlines => {
            let _running = state.jobs.deadlines.lock().await;
            Ok(JobReport {
                job: kind,
                scan: Some(crate::reminders::scan(state).await?),
                outbox: None,
            })
        }
        JobKind::Outbox => {
            let _running = state.jobs.outbox.lock().await;
            Ok(JobReport {
                job: kind,
                scan: None,
                outbox: Some(crate::outbox::run(state).await?),
            })
        }
    }
}

/// Starts the cron triggers the settings ask for; `None` when both are `off`.
pub async fn schedule(
    state: web::Data<AppState>,
) -> Result<Option<JobScheduler>, JobSchedulerError> {
    let crons = [
        (
            JobKind::Deadlines,
            state.settings.deadline_scan_cron.clone(),
        ),
        (JobKind::Outbox, state.settings.outbox_cron.clone()),
    ];
    if crons.iter().all(|(_, c)| c.trim() == "off") {
        return Ok(None);
    }
    let scheduler = JobScheduler::new().await?;
    for (kind, cron) in crons {
        if cron.trim() == "off" {
            continue;
        }
        let state = state.clone();
        scheduler
            .add(Job::new_async(cron.as_str(), move |_id, _scheduler| {
                let state = state.clone();
                Box::pin(async move {
                    if state.jobs.stopping() {
                        return;
                    }
                    if let Err(e) = run(&state, kind).await {
                        tracing::error!(job = kind.as_str(), error = ?e, "a scheduled job failed");
                    }
                })
            })?)
            .await?;
    }
    scheduler.start().await?;
    Ok(Some(scheduler))
}
