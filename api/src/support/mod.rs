//! Small helpers several areas share: pagination, JSON columns, whole days left.

mod page;

pub use page::{MAX_PAGE, Page};

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value as compact JSON text (a stored column); failing is an internal error.
pub fn to_json<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

/// A JSON array column (roles, actions, years, days), empty if it cannot be read.
pub fn json_list<T: DeserializeOwned>(s: &str) -> Vec<T> {
    serde_json::from_str(s).unwrap_or_default()
}

/// Whole days until `due`, rounded down: 9 hours late is -1, not 0.
pub fn days_left(due: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (due - now).num_seconds().div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_rounds_down() {
        let due: DateTime<Utc> = "2026-09-30T15:59:59Z".parse().unwrap_or_default();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap_or_default();
        assert_eq!(days_left(due, at("2026-09-20T01:00:00Z")), 10);
        assert_eq!(days_left(due, at("2026-09-30T16:00:00Z")), -1);
        assert_eq!(days_left(due, at("2026-09-30T15:00:00Z")), 0);
    }
}
