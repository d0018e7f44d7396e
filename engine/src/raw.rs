//! The definition file as written: serde structures that mirror the YAML one to one.
//! Every name that another part of the file refers to is `Spanned`, so the checks in
//! `compile` can point at the exact line and column of a bad reference.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::HashMap;

pub type Sp<T> = Spanned<T>;

/// A mapping whose keys are names; both keys and values keep their position.
pub type Named<V> = HashMap<Sp<String>, Sp<V>>;

/// Entries in the order they appear in the file.
pub fn in_file_order<V>(map: &Named<V>) -> Vec<(&Sp<String>, &Sp<V>)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
    entries
}

/// The entry named `name`: its key (for the name's position) and its value.
pub fn entry<'a, V>(map: &'a Named<V>, name: &str) -> Option<(&'a Sp<String>, &'a Sp<V>)> {
    map.iter().find(|(k, _)| k.value == name)
}

pub fn lookup<'a, V>(map: &'a Named<V>, name: &str) -> Option<&'a Sp<V>> {
    entry(map, name).map(|(_, v)| v)
}

pub fn has_key<V>(map: &Named<V>, name: &str) -> bool {
    lookup(map, name).is_some()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefinition {
    pub key: Sp<String>,
    pub version: Sp<String>,
    pub title: RawTitle,
    pub timezone: Sp<String>,
    #[serde(default)]
    pub round: Option<RawRound>,
    pub roles: Named<RawRole>,
    #[serde(default)]
    pub variables: Named<RawVariable>,
    #[serde(default)]
    pub forms: Named<RawForm>,
    #[serde(default)]
    pub eligibility: Vec<RawGuard>,
    pub states: Named<RawState>,
    #[serde(default)]
    pub regions: Named<RawRegion>,
    pub actions: Vec<Sp<RawAction>>,
    #[serde(default)]
    pub deadlines: Named<RawDeadline>,
    /// A public list of the cases in some states (a programme's 名录).
    #[serde(default)]
    pub listing: Option<Sp<RawListing>>,
    /// The fields experts are versed in (key → label), as `scoring.topics` names them.
    #[serde(default)]
    pub expertise: Named<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTitle {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRound {
    /// The yearly cutoff that closes a round, as a date and time in the definition's timezone.
    pub cutoff: Sp<RawYearly>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawYearly {
    pub month: u32,
    pub day: u32,
    #[serde(default = "end_of_day")]
    pub time: Sp<String>,
}

fn end_of_day() -> Sp<String> {
    Spanned::new(
        "23:59:59".to_owned(),
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub label: String,
    pub binding: RawBinding,
    /// For `assigned` roles: who may assign users to a case.
    #[serde(default)]
    pub assigned_by: Vec<Sp<String>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawBinding {
    /// The case's own org unit.
    Unit,
    /// The parent of the case's org unit.
    ParentUnit,
    /// The root of the jurisdiction tree.
    RootUnit,
    /// Users assigned to the case.
    Assigned,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariable {
    #[serde(rename = "type")]
    pub ty: RawVarType,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub initial: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawVarType {
    Int,
    Bool,
    String,
    Timestamp,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForm {
    pub label: String,
    pub schema: Sp<String>,
    #[serde(default)]
    pub editable_by: Vec<Sp<String>>,
    #[serde(default)]
    pub editable_in: Vec<Sp<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub label: String,
    #[serde(default)]
    pub kind: RawStateKind,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawStateKind {
    Initial,
    #[default]
    Normal,
    Terminal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub label: String,
    /// Main states during which this region runs.
    pub active_in: Vec<Sp<String>>,
    pub states: Named<RawState>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    pub name: Sp<String>,
    pub label: String,
    pub from: Sp<OneOrMany>,
    /// Omitted: the action keeps the case in the state it was fired from.
    #[serde(default)]
    pub to: Option<Sp<String>>,
    pub roles: Vec<Sp<String>>,
    /// Schema (path under `schemas/`) of the action's input.
    #[serde(default)]
    pub input: Option<Sp<String>>,
    /// Saved forms that must be present and valid when the action fires.
    #[serde(default)]
    pub requires_forms: Vec<Sp<String>>,
    #[serde(default)]
    pub guards: Vec<RawGuard>,
    #[serde(default)]
    pub set: Named<String>,
    #[serde(default)]
    pub collect: Option<RawCollect>,
    /// Roles told about this action once it is taken, beyond those who must act next.
    #[serde(default)]
    pub notify: Vec<Sp<String>>,
    /// The input field holding the number of the document (文号) the action is issued under:
    /// a number is used by one decision only.
    #[serde(default)]
    pub document: Option<Sp<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCollect {
    /// `all` (every assigned user) or a number (quorum).
    pub complete_when: Sp<RawCompletion>,
    /// For score sheets: how they are scored and combined.
    #[serde(default)]
    pub scoring: Option<Sp<RawScoring>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoring {
    pub method: Sp<RawMethod>,
    /// Points of spread between the highest and lowest sheet that flag the case.
    #[serde(default)]
    pub dispersion: Option<Sp<f64>>,
    /// Expression giving the case's experiment areas (a list of strings), matched against
    /// the experts' fields when panels are assigned in bulk.
    #[serde(default)]
    pub topics: Option<Sp<String>>,
    /// Experts per case when panels are assigned in bulk, unless the request says otherwise.
    #[serde(default)]
    pub panel_size: Option<Sp<u32>>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawMethod {
    Mean,
    WeightedTotal,
    TrimmedMean,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListing {
    pub label: String,
    /// The states whose cases are listed, each with the status people read.
    pub states: Named<String>,
    /// Variables shown with each entry.
    #[serde(default)]
    pub fields: Vec<Sp<String>>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(untagged)]
pub enum RawCompletion {
    Keyword(RawCompletionKeyword),
    Quorum(u32),
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawCompletionKeyword {
    All,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuard {
    #[serde(rename = "if")]
    pub condition: Sp<String>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeadline {
    pub label: String,
    pub due: RawDue,
    /// States (main or region) in which the deadline runs.
    pub active_in: Vec<Sp<String>>,
    #[serde(default)]
    pub gates: Vec<Sp<String>>,
    /// Shown when a gated action is refused; `{due}` and `{next_due}` are filled in.
    #[serde(default)]
    pub gate_message: Option<String>,
    #[serde(default)]
    pub remind: Option<RawRemind>,
    #[serde(default)]
    pub escalate_to: Vec<Sp<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDue {
    /// The yearly cutoff of the case's round.
    #[serde(default)]
    pub round_cutoff: bool,
    /// A timestamp variable of the case.
    #[serde(default)]
    pub variable: Option<Sp<String>>,
    /// The time the case last entered this state.
    #[serde(default)]
    pub entered: Option<Sp<String>>,
    #[serde(default)]
    pub offset: Option<RawOffset>,
    /// Move the result to 23:59:59 of its day in the definition's timezone.
    #[serde(default)]
    pub end_of_day: bool,
}

#[derive(Debug, Deserialize, Clone, Copy, Default)]
#[serde(deny_unknown_fields)]
pub struct RawOffset {
    #[serde(default)]
    pub years: i32,
    #[serde(default)]
    pub months: i32,
    #[serde(default)]
    pub days: i64,
    #[serde(default)]
    pub working_days: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemind {
    pub days_before: Vec<u32>,
    pub to: Vec<Sp<String>>,
}
