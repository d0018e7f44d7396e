//! The holiday calendar shipped with Pilotflow: `calendar/china-holidays.json`, the State
//! Council's yearly notices (法定节假日 and 调休) for 2024–2026. Years without data count
//! Monday to Friday, and the engine says so in every deadline that crosses them.

use pilotflow_engine::{Calendar, CalendarYear};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const SHIPPED: &str = include_str!("../../calendar/china-holidays.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayFile {
    pub description: String,
    /// The notice each year comes from, by year.
    pub notices: BTreeMap<String, String>,
    pub years: Vec<CalendarYear>,
}

pub fn shipped() -> Result<HolidayFile, serde_json::Error> {
    serde_json::from_str(SHIPPED)
}

/// The shipped calendar.
pub fn calendar() -> Result<Calendar, serde_json::Error> {
    Ok(Calendar::from_years(shipped()?.years))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn every_year_names_its_notice_and_make_up_days_fall_on_weekends() {
        let file = shipped().map_err(|e| e.to_string());
        let file = match file {
            Ok(f) => f,
            Err(e) => panic!("calendar/china-holidays.json: {e}"),
        };
        let years: Vec<i32> = file.years.iter().map(|y| y.year).collect();
        assert_eq!(years, [2024, 2025, 2026]);
        for y in &file.years {
            assert!(file.notices.contains_key(&y.year.to_string()), "{}", y.year);
            for d in &y.workdays {
                assert!(
                    d.weekday().number_from_monday() >= 6,
                    "{d} is not a weekend day"
                );
            }
        }
    }

    /// Every day of 2024 to 2026-12-24 agrees with the `chinese_holiday` crate (which stops at
    /// 2026-12-25, which is why it is only a cross-check here).
    #[test]
    fn agrees_with_an_independent_source_day_by_day() {
        let cal = match calendar() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(2024, 1, 1),
            NaiveDate::from_ymd_opt(2026, 12, 24),
        ) else {
            panic!("dates")
        };
        let mut checked = 0;
        for day in first.iter_days().take_while(|d| *d <= last) {
            let theirs = chinese_holiday::chinese_holiday(&day).is_workday();
            assert_eq!(cal.is_working_day(day), theirs, "{day}");
            checked += 1;
        }
        assert!(checked > 1000);
    }
}
