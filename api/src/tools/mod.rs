//! Command-line tools over definitions and the store: `simulate` (a new case's deadlines and
//! notices if nobody acted) and `verify-history` (every chain intact, every case replayable).

pub mod simulate;
pub mod verify;
