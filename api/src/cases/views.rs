//! A case as the API shows it, and the requests that create, list and move cases.

use crate::error::ProblemField;
use chrono::{DateTime, Utc};
use pilotflow_engine::Definition;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkflowRef {
    pub key: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateRef {
    pub name: String,
    pub label: String,
    /// The parallel region this state belongs to; absent for the main lifecycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    pub name: String,
    pub label: String,
    pub due: DateTime<Utc>,
    /// The due time in the workflow's time zone, for people.
    pub due_local: String,
    /// Whole days from now until the due time (negative once it has passed).
    pub days_left: i64,
    /// Actions refused once the deadline has passed.
    pub gates: Vec<String>,
    /// Roles that must act before it.
    pub responsible: Vec<String>,
    /// Years this due date was counted in Monday to Friday, for lack of holiday data.
    pub calendar_fallback_years: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionRef {
    pub name: String,
    pub label: String,
    /// The input schema's path (see `GET /workflows/{key}` for the schema itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<String>,
}

/// A case as one caller sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    pub workflow: WorkflowRef,
    /// The main lifecycle state.
    pub state: String,
    pub state_label: String,
    /// Every state the case is in now: the main one and those of running regions.
    pub states: Vec<StateRef>,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub round: Option<i32>,
    /// `variables`, `regions` (the state of each parallel region) and `forms` (the names of
    /// the saved forms; each one's document is at `GET /cases/{id}/forms/{form}`).
    #[schema(value_type = Object)]
    pub data: Value,
    /// Pass it back in `If-Match` when acting.
    pub version: i64,
    pub deadlines: Vec<DeadlineView>,
    /// What this caller may do now.
    pub available_actions: Vec<ActionRef>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub workflow: WorkflowRef,
    pub state: String,
    pub state_label: String,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub round: Option<i32>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// Workflow key, e.g. `pilot-zone`.
    pub workflow: String,
    pub title: String,
    /// The applying unit; defaults to the caller's own unit.
    pub org_unit: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// The action's input, checked against its schema.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub input: Value,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseFilter {
    pub workflow: Option<String>,
    pub state: Option<String>,
    pub org_unit: Option<String>,
    pub round: Option<i32>,
    /// Text contained in the title.
    pub q: Option<String>,
    /// Only cases with a running deadline already past (true), or with none (false).
    pub overdue: Option<bool>,
    /// From 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// 1 to 100; 20 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FormSaved {
    pub form: String,
    pub version: i64,
    /// What the saved draft still lacks; empty when it is complete.
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub seq: i64,
    /// started, form_saved, assigned or action_taken.
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
    /// SHA-256 of the input the event carried.
    pub input_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

pub(crate) fn state_label(def: &Definition, name: &str) -> String {
    def.state(name)
        .map(|s| s.label.clone())
        .unwrap_or_else(|| name.to_owned())
}
