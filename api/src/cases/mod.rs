//! Cases: the case service (loading, viewing, creating, acting, saving forms), the list, the
//! cache of cases written last, the hash-chained history, numbered documents, attachments, and
//! how an outcome becomes the store's transition.

pub mod attachments;
mod backfill;
mod cache;
mod deadlines;
mod documents;
mod events;
pub mod history;
mod list;
mod service;
mod snapshots;
mod tasks;
mod transitions;
mod views;
mod writes;

pub use backfill::backfill_deadlines;
pub use cache::CaseCache;
pub use documents::document_year;
pub use list::list;
pub use service::CaseService;
pub use tasks::{NextDeadline, TaskFilter, TaskItem, TaskList};
pub use views::{
    ActionRef, ActionRequest, CaseFilter, CaseList, CaseSummary, CaseView, CreateCase,
    DeadlineView, FormSaved, HistoryEntry, StateRef, WorkflowRef,
};
pub use writes::ActionReply;

// For the other areas that fire the engine on cases (expert review) and the tools.
pub(crate) use documents::{document_number_taken, document_row};
pub(crate) use service::Loaded;
pub(crate) use snapshots::{parse_snapshot, parse_without_forms};
pub(crate) use transitions::{update_transition, version_conflict};
