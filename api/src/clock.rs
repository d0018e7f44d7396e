//! The one source of the current time for the service. Every read of "now" goes through here so
//! a rehearsal clock can replace the system clock.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            // Microseconds: what PostgreSQL keeps, so a time reads back as it was written.
            Self::System => {
                let now = Utc::now();
                now.duration_trunc(TimeDelta::microseconds(1))
                    .unwrap_or(now)
            }
        }
    }
}
