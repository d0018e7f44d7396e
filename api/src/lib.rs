//! The Pilotflow service: REST API, persistence and the command line's workflow tools.
//!
//! Imports run one way: `http` → the areas (`identity`, `workflows`, `cases`, `review`,
//! `notices`, `admin`, `tools`) → `store` → the engine crate. `state` assembles the areas'
//! parts at the top; `context` is what every area shares. `tests/api/architecture.rs` checks
//! that no module imports its way back up.

pub mod admin;
pub mod cases;
pub mod clock;
pub mod config;
pub mod context;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod jurisdiction;
pub mod metrics;
pub mod notices;
pub mod review;
pub mod startup;
pub mod state;
pub mod store;
pub mod support;
pub mod tools;
pub mod workflows;
