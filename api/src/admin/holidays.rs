//! The holiday calendar shipped with Pilotflow: `calendar/china-holidays.json`, the State
//! Council's yearly notices (法定节假日 and 调休) for 2024–2026. Years without data count
//! Monday to Friday, and the engine says so in every deadline that crosses them.

use super::SeedError;
use crate::context::Context;
use crate::error::ApiError;
use crate::store::entities::calendar_year;
use crate::store::{DbErr, Store};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use pilotflow_engine::{Calendar, CalendarYear};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const SHIPPED: &str = include_str!("../../../calendar/china-holidays.json");

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

/// The shipped calendar alone (the service uses the stored years: `load`).
pub fn calendar() -> Result<Calendar, serde_json::Error> {
    Ok(Calendar::from_years(shipped()?.years))
}

/// One year as stored and shown.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarYearView {
    pub year: i32,
    /// Dates off (法定节假日, weekends within them included).
    #[schema(value_type = Vec<String>, example = json!(["2027-01-01"]))]
    pub holidays: Vec<NaiveDate>,
    /// Weekend dates worked (调休上班).
    #[schema(value_type = Vec<String>)]
    pub workdays: Vec<NaiveDate>,
    /// The notice the year comes from.
    pub source: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// A year uploaded by the provincial admin.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarYearUpload {
    #[schema(value_type = Vec<String>, example = json!(["2027-01-01", "2027-02-05"]))]
    pub holidays: Vec<NaiveDate>,
    #[schema(value_type = Vec<String>, example = json!(["2027-02-14"]))]
    pub workdays: Vec<NaiveDate>,
    /// The notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知.
    pub source: String,
}

fn dates(json: &str) -> Vec<NaiveDate> {
    serde_json::from_str(json).unwrap_or_default()
}

fn view(row: calendar_year::Model) -> CalendarYearView {
    CalendarYearView {
        year: row.year,
        holidays: dates(&row.holidays),
        workdays: dates(&row.workdays),
        source: row.source,
        updated_by: row.updated_by,
        updated_at: row.updated_at,
    }
}

fn row(
    year: i32,
    holidays: &[NaiveDate],
    workdays: &[NaiveDate],
    source: String,
    by: &str,
    now: DateTime<Utc>,
) -> Result<calendar_year::Model, serde_json::Error> {
    Ok(calendar_year::Model {
        year,
        holidays: serde_json::to_string(holidays)?,
        workdays: serde_json::to_string(workdays)?,
        source,
        updated_by: by.to_owned(),
        updated_at: now,
    })
}

/// Stores the shipped years the database does not have yet.
pub async fn seed(store: &Store, now: DateTime<Utc>) -> Result<(), SeedError> {
    let file = shipped().map_err(SeedError::ShippedCalendar)?;
    for y in file.years {
        if store.has_calendar_year(y.year).await? {
            continue;
        }
        let source = file
            .notices
            .get(&y.year.to_string())
            .cloned()
            .unwrap_or_default();
        let year = row(y.year, &y.holidays, &y.workdays, source, "shipped", now)
            .map_err(SeedError::ShippedCalendar)?;
        store.replace_calendar_year(year).await?;
    }
    Ok(())
}

pub async fn list(store: &Store) -> Result<Vec<CalendarYearView>, DbErr> {
    Ok(store
        .calendar_years()
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// The calendar the service computes deadlines with: every stored year.
pub async fn load(store: &Store) -> Result<Calendar, DbErr> {
    Ok(Calendar::from_years(list(store).await?.into_iter().map(
        |y| CalendarYear {
            year: y.year,
            holidays: y.holidays,
            workdays: y.workdays,
        },
    )))
}

fn check_dates(year: i32, field: &str, list: &[NaiveDate], weekends: bool) -> Result<(), ApiError> {
    for (i, d) in list.iter().enumerate() {
        let pointer = format!("/{field}/{i}");
        if d.year() != year {
            return Err(ApiError::invalid(
                &pointer,
                format!("{d} 不在 {year} 年"),
                format!("{d} is not in {year}"),
            ));
        }
        let weekend = d.weekday().number_from_monday() >= 6;
        if weekends && !weekend {
            return Err(ApiError::invalid(
                &pointer,
                format!("{d} 不是周末,无需列为调休上班日"),
                format!("{d} is not a weekend day; only weekend days can be make-up working days"),
            ));
        }
    }
    Ok(())
}

/// Stores (or replaces) one year and puts it into use at once.
pub async fn upload(
    ctx: &Context,
    by: &str,
    year: i32,
    req: CalendarYearUpload,
) -> Result<CalendarYearView, ApiError> {
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::invalid(
            "",
            format!("年份 {year} 不在 2000–2100 之间"),
            format!("year {year} is outside 2000–2100"),
        ));
    }
    if req.source.trim().is_empty() {
        return Err(ApiError::invalid(
            "/source",
            "请注明所依据的通知",
            "source (the notice) is required",
        ));
    }
    check_dates(year, "holidays", &req.holidays, false)?;
    check_dates(year, "workdays", &req.workdays, true)?;
    if let Some(i) = req.workdays.iter().position(|d| req.holidays.contains(d)) {
        return Err(ApiError::invalid(
            &format!("/workdays/{i}"),
            format!("{} 同时列为放假日和调休上班日", req.workdays[i]),
            format!(
                "{} is listed both as a holiday and as a working day",
                req.workdays[i]
            ),
        ));
    }
    let (mut holidays, mut workdays) = (req.holidays, req.workdays);
    holidays.sort();
    holidays.dedup();
    workdays.sort();
    workdays.dedup();
    let now = ctx.clock.now();
    let year_row = row(
        year,
        &holidays,
        &workdays,
        req.source.trim().to_owned(),
        by,
        now,
    )
    .map_err(ApiError::internal)?;
    let saved = ctx.store.replace_calendar_year(year_row).await?;
    ctx.set_calendar(load(&ctx.store).await?);
    Ok(view(saved))
}

#[cfg(test)]
mod tests {
    use super::*;

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
