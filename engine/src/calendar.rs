//! Working days: Monday to Friday, minus public holidays, plus make-up working days (调休).
//! The engine is given the calendar; where a year has no data it falls back to Monday–Friday
//! and says so, so that no answer silently depends on a year nobody entered.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One year of official holiday data, as published by the State Council.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarYear {
    pub year: i32,
    /// Days off that would otherwise be working days.
    pub holidays: Vec<NaiveDate>,
    /// Weekend days that are working days (调休).
    pub workdays: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
}

/// The date reached and the years that had no data (counted Monday–Friday).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingDaySum {
    pub date: NaiveDate,
    pub fallback_years: BTreeSet<i32>,
}

impl Calendar {
    /// Monday to Friday, no holidays: every year is a fallback year.
    pub fn weekdays_only() -> Self {
        Self::default()
    }

    pub fn from_years(years: impl IntoIterator<Item = CalendarYear>) -> Self {
        let mut cal = Self::default();
        for y in years {
            cal.add_year(y);
        }
        cal
    }

    /// Adds (or replaces) one year's data.
    pub fn add_year(&mut self, year: CalendarYear) {
        let in_year = |d: &NaiveDate| d.year() == year.year;
        self.holidays.retain(|d| !in_year(d));
        self.workdays.retain(|d| !in_year(d));
        self.holidays
            .extend(year.holidays.iter().filter(|d| in_year(d)));
        self.workdays
            .extend(year.workdays.iter().filter(|d| in_year(d)));
        self.years.insert(year.year);
    }

    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The `n`th working day after `from` (or before it, for negative `n`); `from` itself
    /// never counts.
    pub fn add_working_days(&self, from: NaiveDate, n: i64) -> WorkingDaySum {
        let mut fallback_years = BTreeSet::new();
        let mut day = from;
        let step = if n >= 0 { 1 } else { -1 };
        let mut left = n.unsigned_abs();
        while left > 0 {
            let Some(next) = day.checked_add_signed(chrono::Duration::days(step)) else {
                break;
            };
            day = next;
            if !self.covers(day.year()) {
                fallback_years.insert(day.year());
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        WorkingDaySum {
            date: day,
            fallback_years,
        }
    }
}
