//! `pilotflow verify-history`: proves every case's event chain intact and that replaying its
//! events through the engine gives the stored snapshot.

use crate::cases::history::{ChainBreak, verify_chain};
use crate::store::Store;
use crate::store::entities::{case, case_event, case_form};
use crate::workflows::Registry;
use pilotflow_engine::{Calendar, Engine, Event};

#[derive(Debug, Default)]
pub struct Report {
    pub cases: u64,
    pub events: u64,
    pub broken: Vec<(String, ChainBreak)>,
}

pub async fn verify_all(store: &Store, calendar: &Calendar) -> anyhow::Result<Report> {
    let registry = Registry::from_store(store).await?;
    let mut report = Report::default();
    let mut pages = store.case_pages();
    while let Some(batch) = pages.next().await? {
        for row in batch {
            report.cases += 1;
            let events = store.events_of(&row.id).await?;
            report.events += events.len() as u64;
            if let Err(b) = verify_chain(&row.id, &events, &row.head_hash) {
                report.broken.push((row.id.clone(), b));
                continue;
            }
            let forms = store.forms_of(&row.id).await?;
            if let Err(b) = replay(&registry, calendar, &row, &forms, &events) {
                report.broken.push((row.id.clone(), b));
            }
        }
    }
    Ok(report)
}

fn replay(
    registry: &Registry,
    calendar: &Calendar,
    row: &case::Model,
    forms: &[case_form::Model],
    events: &[case_event::Model],
) -> Result<(), ChainBreak> {
    let broken = |seq: i64, reason: String| ChainBreak { seq, reason };
    let Some(wf) = registry.version(&row.workflow_key, &row.workflow_version) else {
        return Err(broken(
            0,
            format!(
                "workflow {} {} is not stored",
                row.workflow_key, row.workflow_version
            ),
        ));
    };
    let parsed: Vec<Event> = events
        .iter()
        .map(|e| {
            serde_json::from_str(&e.body)
                .map_err(|err| broken(e.seq, format!("unreadable event: {err}")))
        })
        .collect::<Result<_, _>>()?;
    let snapshot = Engine::new(&wf.def, calendar)
        .replay(&parsed)
        .map_err(|e| broken(events.len() as i64, format!("replay refused: {e}")))?;
    let mut stored: serde_json::Value = serde_json::from_str(&row.snapshot)
        .map_err(|e| broken(0, format!("unreadable snapshot: {e}")))?;
    // The forms are rows of their own; the stored case is the snapshot with them put back.
    let mut saved = serde_json::Map::new();
    for f in forms {
        let doc = serde_json::from_str(&f.body)
            .map_err(|e| broken(0, format!("unreadable form {}: {e}", f.name)))?;
        saved.insert(f.name.clone(), doc);
    }
    if let Some(case) = stored.as_object_mut() {
        case.insert("forms".to_owned(), serde_json::Value::Object(saved));
    }
    let replayed = serde_json::to_value(&snapshot).map_err(|e| broken(0, e.to_string()))?;
    if stored != replayed {
        return Err(broken(
            events.len() as i64,
            "replaying the events does not give the stored case".to_owned(),
        ));
    }
    Ok(())
}
