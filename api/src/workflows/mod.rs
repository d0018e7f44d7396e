//! Programme definitions: the files they are read from, the registry of every version loaded
//! (kept in the store so running cases keep theirs), and their views for the API.

pub mod files;
pub mod registry;
pub mod views;

pub use registry::{Registry, RegistryError, StoredWorkflow};
