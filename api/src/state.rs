//! What every request handler shares.

use crate::auth::{SessionCache, Throttle};
use crate::cases::CaseCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::store::Store;
use crate::units::UnitTree;
use pilotflow_engine::Calendar;
use std::sync::{Arc, RwLock};

pub struct AppState {
    pub settings: Settings,
    pub store: Store,
    pub clock: Clock,
    pub registry: Registry,
    pub calendar: RwLock<Arc<Calendar>>,
    pub units: RwLock<Arc<UnitTree>>,
    pub throttle: Throttle,
    pub sessions: SessionCache,
    pub cases: CaseCache,
    pub metrics: Metrics,
    /// `None` without `smtp_url`: mail waits in the outbox.
    pub mailer: Option<crate::outbox::Mailer>,
    pub jobs: crate::jobs::JobGuards,
}

impl AppState {
    pub fn units(&self) -> Arc<UnitTree> {
        self.units
            .read()
            .map(|u| Arc::clone(&u))
            .unwrap_or_default()
    }

    /// The holiday calendar deadlines are computed with now.
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_default()
    }

    pub fn set_calendar(&self, calendar: Calendar) {
        if let Ok(mut c) = self.calendar.write() {
            *c = Arc::new(calendar);
        }
    }

    pub fn set_units(&self, tree: UnitTree) {
        if let Ok(mut u) = self.units.write() {
            *u = Arc::new(tree);
        }
    }
}
