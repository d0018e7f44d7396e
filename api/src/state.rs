//! The application's state, assembled at the top: the shared [`Context`] and what each area
//! keeps for itself (sessions and login throttling, the case cache, the mailer, the jobs'
//! guards). Route handlers reach each area through it; no area imports it.

use crate::cases::{CaseCache, CaseService};
use crate::context::Context;
use crate::identity::{SessionCache, Throttle};
use crate::notices::{JobGuards, Mailer};
use crate::review::ReviewService;

pub struct AppState {
    pub ctx: Context,
    pub throttle: Throttle,
    pub sessions: SessionCache,
    pub cases: CaseCache,
    /// `None` without `smtp_url`: mail waits in the outbox.
    pub mailer: Option<Mailer>,
    pub jobs: JobGuards,
}

impl AppState {
    pub fn new(ctx: Context, mailer: Option<Mailer>) -> Self {
        Self {
            ctx,
            throttle: Throttle::default(),
            sessions: SessionCache::default(),
            cases: CaseCache::default(),
            mailer,
            jobs: JobGuards::default(),
        }
    }

    pub fn case_service(&self) -> CaseService<'_> {
        CaseService::new(&self.ctx, &self.cases)
    }

    pub fn review_service(&self) -> ReviewService<'_> {
        ReviewService::new(self.case_service())
    }
}
