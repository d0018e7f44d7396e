//! Telling people what is due: the deadlines across cases, the reminder scan that writes each
//! notice once, what the notices say, the in-app notifications, the mail outbox and its
//! worker, the calendar feed, and the jobs that run the scan and the worker.

pub mod deadlines;
pub mod feed;
pub mod jobs;
pub mod messages;
pub mod notifications;
pub mod outbox;
pub mod reminders;

pub use jobs::{JobError, JobGuards, JobKind, JobReport};
pub use outbox::Mailer;
