//! Pilotflow's pure core: workflow definitions as data, their static checks, the state machine
//! and deadline arithmetic. No I/O, no clock: the definition text, the schemas, the holiday
//! calendar and `now` are all arguments.

pub mod calendar;
pub mod deadline;
pub mod definition;
pub mod diagram;
pub mod error;
pub mod expr;
pub mod forms;
pub mod ids;
pub mod machine;
mod raw;
pub mod review;

pub use calendar::{Calendar, CalendarYear};
pub use deadline::DeadlineInstance;
pub use definition::{Definition, Diagnostic, SchemaLoadError, SchemaSource, compile};
pub use error::EngineError;
pub use forms::FieldError;
pub use ids::{ActionName, DeadlineName, FormName, RegionName, RoleName, StateName, UserId};
pub use machine::{
    Actor, AvailableAction, CaseSnapshot, Effects, Engine, Event, EventKind, Notification,
    NotificationKind, Outcome, UnitInfo, UnitLevel, UnitRelation, WithoutForms,
};
