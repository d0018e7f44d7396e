//! The public listing (名录) of the zones of every workflow that declares one.

use crate::cases::parse_without_forms;
use crate::context::Context;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ZoneQuery {
    /// Default: every workflow with a listing.
    pub workflow: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Zone {
    pub case_id: String,
    pub workflow: String,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub city_name: String,
    pub state: String,
    /// The listing's status for the state (e.g. 实验中, 已授牌).
    pub status: String,
    /// The listing's fields (document number, dates, national recommendation).
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ZoneList {
    pub items: Vec<Zone>,
}

/// The public listing (名录) of every workflow that declares one, for anyone signed in.
pub async fn zones(ctx: &Context, q: ZoneQuery) -> Result<ZoneList, ApiError> {
    let units = ctx.units();
    let mut items = Vec::new();
    for wf in ctx.registry.current_all() {
        if q.workflow.as_ref().is_some_and(|w| *w != wf.def.key) {
            continue;
        }
        let Some(listing) = &wf.def.listing else {
            continue;
        };
        let listed: Vec<String> = listing.states.iter().map(|(s, _)| s.to_string()).collect();
        let rows = ctx.store.cases_in_states(&wf.def.key, listed).await?;
        for row in rows {
            let Some(case_wf) = ctx
                .registry
                .version(&row.workflow_key, &row.workflow_version)
            else {
                continue;
            };
            let Some(case_listing) = &case_wf.def.listing else {
                continue;
            };
            let Some((_, status)) = case_listing
                .states
                .iter()
                .find(|(s, _)| s.as_str() == row.state)
            else {
                continue;
            };
            let snapshot = parse_without_forms(&row)?;
            let city = units.parent(&row.org_unit).unwrap_or_default().to_owned();
            items.push(Zone {
                case_id: row.id,
                workflow: row.workflow_key,
                title: row.title,
                org_unit_name: units.name(&row.org_unit),
                city_name: units.name(&city),
                org_unit: row.org_unit,
                state: row.state,
                status: status.clone(),
                fields: case_listing
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            f.clone(),
                            snapshot.vars.get(f).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect(),
            });
        }
    }
    Ok(ZoneList { items })
}
