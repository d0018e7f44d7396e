//! The API crate's integration tests, in one binary (one link instead of one per file): a
//! module per area, sharing the harness (`harness`), which also re-exports every library path
//! the tests use.
//!
//! A test of both databases is `async fn name(backend: Backend)` followed by
//! `on_each_backend!(name)`: two tests, `module::name::sqlite` and `module::name::postgres`.
//! `cargo test -p pilotflow --test api -- postgres` runs the PostgreSQL ones (`sqlite` the
//! SQLite ones, `--skip postgres` everything but PostgreSQL). `TEST_LOG=1` adds the service's
//! logs to a failing test's output (`RUST_LOG` filters them, default `info`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod access;
mod architecture;
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
mod web;
