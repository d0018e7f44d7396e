//! What the administrator (the province) manages: users, the jurisdiction tree, the holiday
//! calendar, and the data shipped for an empty database and for the demo.

pub mod demo;
pub mod holidays;
pub mod units;
pub mod users;

use crate::identity::PasswordError;
use crate::store::DbErr;

/// Why seeding an empty database failed at start. Seeding runs before the service answers
/// anyone, so it knows nothing of HTTP.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database failed")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("the shipped holiday calendar cannot be read")]
    ShippedCalendar(#[source] serde_json::Error),
}
