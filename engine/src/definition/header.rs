//! The definition's identity and calendar: `key`, `version`, `timezone` and the round cutoff.

use super::{Checker, Yearly};
use crate::raw::{self, RawDefinition, Sp};
use chrono::NaiveTime;
use chrono_tz::Tz;

/// The header's values that parsed; `None` where a diagnostic was reported.
pub(super) struct Header {
    pub(super) version: Option<semver::Version>,
    pub(super) timezone: Option<Tz>,
    pub(super) round: Option<Yearly>,
}

pub(super) fn check(raw: &RawDefinition, ck: &mut Checker<'_>) -> Header {
    if raw.key.value.is_empty()
        || !raw
            .key
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        ck.at(
            raw.key.referenced,
            format!(
                "key `{}` must be lower-case letters, digits and hyphens, like `pilot-zone`",
                raw.key.value
            ),
        );
    }
    let version = match semver::Version::parse(&raw.version.value) {
        Ok(v) => Some(v),
        Err(e) => {
            ck.at(
                raw.version.referenced,
                format!(
                    "version `{}` is not a semantic version like 1.0.0: {e}",
                    raw.version.value
                ),
            );
            None
        }
    };
    let timezone: Option<Tz> = match raw.timezone.value.parse() {
        Ok(tz) => Some(tz),
        Err(_) => {
            ck.at(
                raw.timezone.referenced,
                format!(
                    "timezone `{}` is not an IANA timezone name like Asia/Shanghai",
                    raw.timezone.value
                ),
            );
            None
        }
    };
    let round = raw.round.as_ref().and_then(|r| yearly(&r.cutoff, ck));
    Header {
        version,
        timezone,
        round,
    }
}

fn yearly(spanned: &Sp<raw::RawYearly>, ck: &mut Checker<'_>) -> Option<Yearly> {
    let y = &spanned.value;
    let time = match NaiveTime::parse_from_str(&y.time.value, "%H:%M:%S") {
        Ok(t) => t,
        Err(_) => {
            ck.at(
                y.time.referenced,
                format!("time `{}` must look like 23:59:59", y.time.value),
            );
            return None;
        }
    };
    // 2024 is a leap year, so 29 February is accepted here; rounds clamp it later.
    if chrono::NaiveDate::from_ymd_opt(2024, y.month, y.day).is_none() {
        ck.at(
            spanned.referenced,
            format!("month {} day {} is not a date", y.month, y.day),
        );
        return None;
    }
    Some(Yearly {
        month: y.month,
        day: y.day,
        time,
    })
}
