//! What every area of the service reads: the settings, the store, the clock, the loaded
//! workflows, the jurisdiction tree, the holiday calendar and the metrics. The tree and the
//! calendar can be replaced while the service runs (an administrator adds a unit or uploads a
//! year of holidays); readers take the current one for the length of a request.

use crate::clock::Clock;
use crate::config::Settings;
use crate::jurisdiction::UnitTree;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::workflows::Registry;
use pilotflow_engine::Calendar;
use std::sync::{Arc, RwLock};

pub struct Context {
    pub settings: Settings,
    pub store: Store,
    pub clock: Clock,
    pub registry: Registry,
    pub metrics: Metrics,
    calendar: RwLock<Arc<Calendar>>,
    units: RwLock<Arc<UnitTree>>,
}

impl Context {
    pub fn new(
        settings: Settings,
        store: Store,
        clock: Clock,
        registry: Registry,
        metrics: Metrics,
        calendar: Calendar,
        units: UnitTree,
    ) -> Self {
        Self {
            settings,
            store,
            clock,
            registry,
            metrics,
            calendar: RwLock::new(Arc::new(calendar)),
            units: RwLock::new(Arc::new(units)),
        }
    }

    /// The jurisdiction tree as it is now.
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
