//! What the API tells about workflow definitions.

use super::registry::{Registry, StoredWorkflow};
use crate::error::{ApiError, ErrorCode};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowSummary {
    pub key: String,
    pub version: String,
    pub title: String,
    pub title_en: String,
    /// SHA-256 of the YAML and the schemas it names.
    pub content_hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StateInfo {
    pub name: String,
    pub label: String,
    /// initial, normal or terminal.
    pub kind: String,
    pub region: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormInfo {
    pub name: String,
    pub label: String,
    pub editable_by: Vec<String>,
    pub editable_in: Vec<String>,
    #[schema(value_type = Object)]
    pub schema: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionInfo {
    pub name: String,
    pub label: String,
    pub from: Vec<String>,
    pub to: Option<String>,
    pub roles: Vec<String>,
    pub requires_forms: Vec<String>,
    /// The JSON Schema (draft 2020-12) of the action's input, if it takes one.
    #[schema(value_type = Option<Object>)]
    pub input_schema: Option<Value>,
    /// The input field that carries the number of the document the action is issued under
    /// (文号), if it is one.
    pub document: Option<String>,
    /// A scored review: each expert fills a score sheet (`/cases/{id}/reviews/{action}/sheet`)
    /// and submits it with this action.
    pub review: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VariableInfo {
    pub name: String,
    /// What people call it (the name when the definition gives no label).
    pub label: String,
    /// int, bool, string, timestamp or json.
    #[serde(rename = "type")]
    pub kind: String,
}

/// The programme's public list (名录): which states it lists, with the status people read,
/// and which variables each entry shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListingInfo {
    pub label: String,
    /// Listed state → its status (e.g. 实验中).
    pub states: BTreeMap<String, String>,
    pub fields: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInfo {
    pub name: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowDetail {
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    pub roles: Vec<RoleInfo>,
    pub states: Vec<StateInfo>,
    pub forms: Vec<FormInfo>,
    pub actions: Vec<ActionInfo>,
    pub variables: Vec<VariableInfo>,
    pub listing: Option<ListingInfo>,
}

fn summary(wf: &StoredWorkflow) -> WorkflowSummary {
    WorkflowSummary {
        key: wf.def.key.clone(),
        version: wf.def.version.to_string(),
        title: wf.def.title.zh.clone(),
        title_en: wf.def.title.en.clone(),
        content_hash: wf.content_hash.clone(),
    }
}

pub fn list(registry: &Registry) -> Vec<WorkflowSummary> {
    registry.current_all().map(summary).collect()
}

pub fn find<'r>(registry: &'r Registry, key: &str) -> Result<&'r StoredWorkflow, ApiError> {
    registry.current(key).ok_or_else(|| {
        ApiError::new(
            ErrorCode::WorkflowNotFound,
            format!("没有名为「{key}」的业务流程"),
            format!("no workflow `{key}`"),
        )
    })
}

pub fn detail(wf: &StoredWorkflow) -> WorkflowDetail {
    let def = &wf.def;
    let names = |v: &[pilotflow_engine::StateName]| v.iter().map(|s| s.to_string()).collect();
    WorkflowDetail {
        summary: summary(wf),
        roles: def
            .roles
            .iter()
            .map(|(name, r)| RoleInfo {
                name: name.to_string(),
                label: r.label.clone(),
            })
            .collect(),
        states: def
            .states
            .iter()
            .map(|(name, s)| StateInfo {
                name: name.to_string(),
                label: s.label.clone(),
                kind: format!("{:?}", s.kind).to_lowercase(),
                region: s.region.as_ref().map(|r| r.to_string()),
            })
            .collect(),
        forms: def
            .forms
            .iter()
            .map(|(name, f)| FormInfo {
                name: name.to_string(),
                label: f.label.clone(),
                editable_by: f.editable_by.iter().map(|r| r.to_string()).collect(),
                editable_in: names(&f.editable_in),
                schema: f.schema.document.clone(),
            })
            .collect(),
        actions: def
            .actions
            .iter()
            .map(|a| ActionInfo {
                name: a.name.to_string(),
                label: a.label.clone(),
                from: names(&a.from),
                to: a.to.as_ref().map(|s| s.to_string()),
                roles: a.roles.iter().map(|r| r.to_string()).collect(),
                requires_forms: a.requires_forms.iter().map(|f| f.to_string()).collect(),
                input_schema: a.input.as_ref().map(|s| s.document.clone()),
                document: a.document.clone(),
                review: a.scoring.is_some(),
            })
            .collect(),
        variables: def
            .variables
            .iter()
            .map(|(name, v)| VariableInfo {
                name: name.clone(),
                label: v.label.clone().unwrap_or_else(|| name.clone()),
                kind: format!("{:?}", v.ty).to_lowercase(),
            })
            .collect(),
        listing: def.listing.as_ref().map(|l| ListingInfo {
            label: l.label.clone(),
            states: l
                .states
                .iter()
                .map(|(s, status)| (s.to_string(), status.clone()))
                .collect(),
            fields: l.fields.clone(),
        }),
    }
}
