//! The API crate's integration tests, in one binary (one link instead of one per file): a
//! module per area, sharing the harness (`harness`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod access;
mod attachments;
mod auth;
mod calendar;
mod cli;
mod clock;
mod concurrency;
mod deadlines;
mod errors;
mod form_rows;
mod lifecycle;
mod reminders;
mod review;
mod store_plans;
mod store_sqlite;
mod versions;
