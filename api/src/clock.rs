//! The one source of the current time for the service. Every read of "now" goes through here,
//! so the rehearsal clock (演练模式) can stand in for the system clock: it starts at a configured
//! moment, runs on in real time, and the provincial admin can move it forward.

use chrono::{DateTime, Duration, DurationRound, Months, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    #[default]
    System,
    Simulated,
}

#[derive(Debug, Default)]
pub enum Clock {
    #[default]
    System,
    Simulated {
        start: DateTime<Utc>,
        started: Instant,
        /// How far the admin has moved the clock forward, in microseconds.
        advanced_micros: AtomicI64,
    },
}

/// Microseconds: what PostgreSQL keeps, so a time reads back as it was written.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

impl Clock {
    pub fn simulated(start: DateTime<Utc>) -> Self {
        Self::Simulated {
            start,
            started: Instant::now(),
            advanced_micros: AtomicI64::new(0),
        }
    }

    pub fn mode(&self) -> ClockMode {
        match self {
            Self::System => ClockMode::System,
            Self::Simulated { .. } => ClockMode::Simulated,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => micros(Utc::now()),
            Self::Simulated {
                start,
                started,
                advanced_micros,
            } => {
                let elapsed = Duration::from_std(started.elapsed()).unwrap_or_default();
                let advanced = Duration::microseconds(advanced_micros.load(Ordering::SeqCst));
                micros(*start + elapsed + advanced)
            }
        }
    }

    /// Moves a simulated clock forward by an ISO 8601 duration (`P10D`, `PT2H`, `P1M`): years
    /// and months by the calendar, the rest exactly. Returns the new time.
    pub fn advance(&self, iso: &str) -> Result<DateTime<Utc>, AdvanceError> {
        let Self::Simulated {
            advanced_micros, ..
        } = self
        else {
            return Err(AdvanceError::SystemClock);
        };
        let parsed = iso8601::duration(iso).map_err(|_| AdvanceError::Unreadable)?;
        let now = self.now();
        let later = match parsed {
            iso8601::Duration::Weeks(w) => Some(now + Duration::weeks(i64::from(w))),
            iso8601::Duration::YMDHMS {
                year,
                month,
                day,
                hour,
                minute,
                second,
                millisecond,
            } => now
                .checked_add_months(Months::new(year.saturating_mul(12).saturating_add(month)))
                .map(|t| {
                    t + Duration::days(i64::from(day))
                        + Duration::hours(i64::from(hour))
                        + Duration::minutes(i64::from(minute))
                        + Duration::seconds(i64::from(second))
                        + Duration::milliseconds(i64::from(millisecond))
                }),
        };
        let later = later.ok_or(AdvanceError::TooFar)?;
        let delta = (later - now)
            .num_microseconds()
            .ok_or(AdvanceError::TooFar)?;
        advanced_micros.fetch_add(delta, Ordering::SeqCst);
        Ok(self.now())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdvanceError {
    #[error("the system clock cannot be moved")]
    SystemClock,
    #[error("not an ISO 8601 duration such as P10D or PT2H")]
    Unreadable,
    #[error("that is too far")]
    TooFar,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn a_simulated_clock_starts_where_told_and_moves_forward() {
        let clock = Clock::simulated(at("2026-09-30T15:59:00Z"));
        let first = clock.now();
        assert!(first >= at("2026-09-30T15:59:00Z") && first < at("2026-09-30T16:00:00Z"));
        let moved = clock.advance("P10D").unwrap_or_default();
        assert!(moved >= at("2026-10-10T15:59:00Z") && moved < at("2026-10-10T16:00:00Z"));
        let month = clock.advance("P1M").unwrap_or_default();
        assert!(month >= at("2026-11-10T15:59:00Z") && month < at("2026-11-10T16:00:00Z"));
        assert_eq!(clock.advance("ten days"), Err(AdvanceError::Unreadable));
        assert!(clock.now() >= month);
    }

    #[test]
    fn the_system_clock_cannot_be_moved() {
        assert_eq!(Clock::System.advance("P1D"), Err(AdvanceError::SystemClock));
    }
}
