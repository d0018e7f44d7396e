//! Filling in the deadlines of a database from before they were kept.

use super::deadlines::deadline_rows;
use super::snapshots::parse_snapshot;
use crate::context::Context;
use crate::store::DeadlineWrite;
use pilotflow_engine::Engine;

/// Writes the running deadlines of every case when none are stored at all (a database from
/// before deadlines were kept); returns how many cases it wrote. Once any row exists this is
/// one indexed lookup, so a restart stays fast.
pub async fn backfill_deadlines(ctx: &Context) -> anyhow::Result<u64> {
    if ctx.store.has_deadlines().await? {
        return Ok(0);
    }
    let mut written = 0;
    let calendar = ctx.calendar();
    let mut pages = ctx.store.case_pages();
    while let Some(batch) = pages.next().await? {
        let now = ctx.clock.now();
        for row in batch {
            let Some(wf) = ctx
                .registry
                .version(&row.workflow_key, &row.workflow_version)
            else {
                continue;
            };
            let forms = ctx.store.forms_of(&row.id).await?;
            let snapshot = parse_snapshot(&row, forms)?;
            let running = Engine::new(&wf.def, &calendar).deadlines(&snapshot);
            if running.is_empty() {
                continue;
            }
            let d = DeadlineWrite {
                active: deadline_rows(&row, &running, now)?,
                now,
            };
            ctx.store.write_case_deadlines(&row.id, &d).await?;
            written += 1;
        }
    }
    Ok(written)
}
