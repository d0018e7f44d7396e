//! A loaded, checked workflow definition. `compile` turns the YAML text into a `Definition`
//! or into every problem it has, each with `file:line:column`.
//!
//! `build` runs one checker module per section of the file, in the file's order.

mod actions;
mod deadlines;
mod expressions;
mod forms;
mod graph;
mod header;
mod listing;
mod names;
mod roles;
mod schemas;
mod scoring;
mod states;
mod suggest;
mod variables;
mod yaml;

pub(crate) use variables::json_fits;

use crate::expr::Expr;
use crate::forms::FormSchema;
use crate::ids::{ActionName, DeadlineName, FormName, RegionName, RoleName, StateName};
use crate::raw::{self, RawDefinition};
use chrono::NaiveTime;
use chrono_tz::Tz;
use serde_saphyr::Location;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Where the compiler finds the schema files a definition names (the CLI and the service read
/// them from `schemas/`; tests may hand them over in memory).
pub trait SchemaSource {
    fn load(&self, path: &str) -> Result<serde_json::Value, SchemaLoadError>;
}

#[derive(Debug, Clone)]
pub enum SchemaLoadError {
    NotFound,
    Unreadable(String),
}

impl SchemaSource for BTreeMap<String, serde_json::Value> {
    fn load(&self, path: &str) -> Result<serde_json::Value, SchemaLoadError> {
        self.get(path).cloned().ok_or(SchemaLoadError::NotFound)
    }
}

/// One problem in a definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

#[derive(Debug, Clone)]
pub struct Title {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yearly {
    pub month: u32,
    pub day: u32,
    pub time: NaiveTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Unit,
    ParentUnit,
    RootUnit,
    Assigned,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub label: String,
    pub binding: Binding,
    pub assigned_by: Vec<RoleName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    Int,
    Bool,
    String,
    Timestamp,
    Json,
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub ty: VarType,
    pub label: Option<String>,
    pub initial: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct Form {
    pub label: String,
    pub schema: Arc<FormSchema>,
    pub editable_by: Vec<RoleName>,
    pub editable_in: Vec<StateName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKind {
    Initial,
    Normal,
    Terminal,
}

#[derive(Debug, Clone)]
pub struct State {
    pub label: String,
    pub kind: StateKind,
    /// `None` for the main lifecycle.
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone)]
pub struct Region {
    pub label: String,
    pub active_in: Vec<StateName>,
    pub initial: StateName,
}

#[derive(Debug)]
pub struct Guard {
    pub expr: Expr,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    All,
    Quorum(u32),
}

#[derive(Debug)]
pub struct Action {
    pub name: ActionName,
    pub label: String,
    pub from: Vec<StateName>,
    pub to: Option<StateName>,
    pub region: Option<RegionName>,
    pub roles: Vec<RoleName>,
    pub input: Option<Arc<FormSchema>>,
    pub requires_forms: Vec<FormName>,
    pub guards: Vec<Guard>,
    pub set: Vec<(String, Expr)>,
    pub collect: Option<Completion>,
    /// For a collect action of score sheets: the rubric and how sheets combine.
    pub scoring: Option<crate::review::Scoring>,
    /// The case's experiment areas, for matching experts in bulk assignment.
    pub topics: Option<Expr>,
    /// Experts per case in bulk assignment, unless the request says otherwise.
    pub panel_size: Option<u32>,
    pub notify: Vec<RoleName>,
    /// The input field holding a document number (文号) that only one decision may use.
    pub document: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueBase {
    RoundCutoff,
    Variable(String),
    Entered(StateName),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offset {
    pub years: i32,
    pub months: i32,
    pub days: i64,
    pub working_days: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub base: DueBase,
    pub offset: Offset,
    pub end_of_day: bool,
}

#[derive(Debug, Clone)]
pub struct Deadline {
    pub name: DeadlineName,
    pub label: String,
    pub due: Due,
    pub active_in: Vec<StateName>,
    pub gates: Vec<ActionName>,
    pub gate_message: Option<String>,
    pub remind_days_before: Vec<u32>,
    pub remind_to: Vec<RoleName>,
    pub escalate_to: Vec<RoleName>,
}

#[derive(Debug)]
pub struct Definition {
    pub key: String,
    pub version: semver::Version,
    pub title: Title,
    pub timezone: Tz,
    pub round: Option<Yearly>,
    pub roles: BTreeMap<RoleName, Role>,
    pub variables: BTreeMap<String, Variable>,
    pub forms: BTreeMap<FormName, Form>,
    pub eligibility: Vec<Guard>,
    pub states: BTreeMap<StateName, State>,
    pub initial: StateName,
    pub regions: BTreeMap<RegionName, Region>,
    pub actions: Vec<Action>,
    pub deadlines: Vec<Deadline>,
    pub listing: Option<Listing>,
    /// Fields of expertise (key, label) that experts are matched on, in the file's order.
    pub expertise: Vec<(String, String)>,
}

/// A public list of the cases in some states (the programme's 名录).
#[derive(Debug, Clone)]
pub struct Listing {
    pub label: String,
    /// Listed states with the status people read, in the file's order.
    pub states: Vec<(StateName, String)>,
    /// Variables shown with each entry.
    pub fields: Vec<String>,
}

impl Definition {
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.get(name)
    }

    pub fn actions_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Action> + 'a {
        self.actions.iter().filter(move |a| a.name == name)
    }

    pub fn deadline(&self, name: &str) -> Option<&Deadline> {
        self.deadlines.iter().find(|d| d.name == name)
    }

    /// Every distinct input schema path (for the service to publish).
    pub fn schemas(&self) -> BTreeMap<String, Arc<FormSchema>> {
        let mut out = BTreeMap::new();
        for s in self
            .actions
            .iter()
            .filter_map(|a| a.input.clone())
            .chain(self.forms.values().map(|f| f.schema.clone()))
        {
            out.insert(s.path.clone(), s);
        }
        out
    }
}

/// The diagnostics found so far in one file.
struct Checker<'a> {
    file: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn at(&mut self, loc: Location, message: impl Into<String>) {
        let (line, column) = if loc == Location::UNKNOWN {
            (0, 0)
        } else {
            (loc.line(), loc.column())
        };
        self.diagnostics.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
        });
    }
}

/// Parses and checks a definition. `file` is only used in diagnostics.
pub fn compile(
    file: &str,
    source: &str,
    schemas: &dyn SchemaSource,
) -> Result<Definition, Vec<Diagnostic>> {
    let raw: RawDefinition = match serde_saphyr::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            let (mut line, mut column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let mut message = yaml::message(&e);
            // serde-saphyr reports a missing top-level key at the last top-level key (column 1);
            // the start of the definition is where its author will look for it.
            if message.starts_with("required key") && column == 1 {
                (line, column) = (1, 1);
                message = format!("the definition's {message}");
            }
            return Err(vec![Diagnostic {
                file: file.to_owned(),
                line,
                column,
                message,
            }]);
        }
    };
    let mut ck = Checker {
        file,
        diagnostics: Vec::new(),
    };
    let def = build(&raw, &mut ck, schemas);
    if ck.diagnostics.is_empty()
        && let Some(def) = def
    {
        return Ok(def);
    }
    ck.diagnostics.sort_by_key(|d| (d.line, d.column));
    Err(ck.diagnostics)
}

/// What the sections checked so far declare, for later sections to check references against.
struct Declared<'d> {
    roles: &'d BTreeMap<RoleName, Role>,
    variables: &'d BTreeMap<String, Variable>,
    states: &'d BTreeMap<StateName, State>,
}

/// Runs every section's checks. Diagnostics are sorted by position afterwards, so this order
/// only decides the order of several problems at one position; it follows the file's sections.
fn build(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    schema_source: &dyn SchemaSource,
) -> Option<Definition> {
    let header = header::check(raw, ck);
    let roles = roles::check(raw, ck);
    let variables = variables::check(raw, ck, header.round.is_some());
    let lifecycle = states::check(raw, ck);
    let declared = Declared {
        roles: &roles,
        variables: &variables,
        states: &lifecycle.states,
    };
    let mut schemas = schemas::Schemas::new(schema_source);
    let forms = forms::check(raw, ck, &declared, &mut schemas);
    let eligibility = raw
        .eligibility
        .iter()
        .filter_map(|g| expressions::guard(ck, g, &variables))
        .collect();
    let checked = actions::check(raw, ck, &declared, &mut schemas);
    let deadlines = deadlines::check(raw, ck, &declared, &checked.actions);
    if !checked.dangling {
        graph::check(ck, raw, &lifecycle, &checked.actions);
    }
    let listing = listing::check(raw, ck, &declared);

    Some(Definition {
        key: raw.key.value.clone(),
        version: header.version?,
        title: Title {
            zh: raw.title.zh.clone(),
            en: raw.title.en.clone(),
        },
        timezone: header.timezone?,
        round: header.round,
        roles,
        variables,
        forms,
        eligibility,
        states: lifecycle.states,
        initial: lifecycle.initial?,
        regions: lifecycle.regions,
        actions: checked.actions,
        deadlines,
        listing,
        expertise: raw::in_file_order(&raw.expertise)
            .into_iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
    })
}
