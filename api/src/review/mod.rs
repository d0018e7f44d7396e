//! Expert review through the service: the expert pool, panels with recusal (回避), bulk
//! assignment for a round, private drafts of score sheets, reopening a sheet, each case's
//! scores for the province, the round's ranking (JSON, CSV, xlsx), decisions under numbered
//! documents (several cases in one call, all or nothing) and the public zone listing.
//!
//! The rules are the engine's (`pilotflow_engine::review`, `Engine::{assign, fire, reopen,
//! decline}`); this area gathers what they need from the store and writes what they decide.

mod bulk;
mod decisions;
pub mod exports;
mod lookup;
mod panels;
mod pool;
mod ranking;
mod scores;
mod sheets;
mod zones;

pub use bulk::{BulkPanelCase, BulkPanelReport, BulkPanelRequest};
pub use decisions::{DecisionCase, DecisionReport, DecisionRequest};
pub use panels::{DeclineRequest, DeclinedSeat, PanelMember, PanelRequest, PanelView, Replacement};
pub use pool::{ConflictRequest, ExpertPool, PoolEntry, declare_conflict, expert_pool};
pub use ranking::{Ranking, RankingEntry, RankingQuery, ranking};
pub use scores::{CaseScores, ReviewSummary, SheetScore};
pub use sheets::{ReopenRequest, SheetView};
pub use zones::{Zone, ZoneList, ZoneQuery, zones};

use crate::cases::CaseService;
use crate::context::Context;

/// Review's operations on cases, over the case service (which loads, fires and writes).
pub struct ReviewService<'a> {
    cases: CaseService<'a>,
}

impl<'a> ReviewService<'a> {
    pub fn new(cases: CaseService<'a>) -> Self {
        Self { cases }
    }

    fn ctx(&self) -> &'a Context {
        self.cases.ctx
    }
}
