//! The Pilotflow service: REST API, persistence and the command line's workflow tools.

pub mod access;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod cases;
pub mod clock;
pub mod config;
pub mod deadlines;
pub mod demo;
pub mod error;
pub mod history;
pub mod holidays;
pub mod http;
pub mod metrics;
pub mod registry;
pub mod startup;
pub mod state;
pub mod store;
pub mod units;
pub mod verify;
pub mod workflow_files;
pub mod workflows;
