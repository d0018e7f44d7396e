//! A loaded, checked workflow definition. `compile` turns the YAML text into a `Definition`
//! or into every problem it has, each with `file:line:column`.

use crate::expr::{BUILTIN_NAMES, CEL_FUNCTIONS, EXTRA_FUNCTIONS, Expr, is_known_function};
use crate::forms::FormSchema;
use crate::ids::{ActionName, DeadlineName, FormName, RegionName, RoleName, StateName};
use crate::raw::{self, RawDefinition, Sp};
use chrono::NaiveTime;
use chrono_tz::Tz;
use serde_saphyr::Location;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
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

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
            let mut message = yaml_message(&e);
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

fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    // Library advice that means nothing to a workflow author.
    let text = match text.find(", set DuplicateKeyPolicy") {
        Some(i) => format!("{} (each name may appear only once)", &text[..i]),
        None => text,
    };
    // serde-saphyr appends " at line L column C"; we print the position in front already.
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    plain_words(&text.replace("unknown field", "unknown key"))
}

/// serde-saphyr's words for a value of the wrong kind, said the way a workflow author writes YAML.
fn plain_words(text: &str) -> String {
    const KINDS: [(&str, &str); 8] = [
        (
            "expected sequence start",
            "expected a list here, like [a, b] or lines starting with `- `",
        ),
        (
            "expected mapping start",
            "expected a mapping here (`key: value` lines or `{key: value}`)",
        ),
        ("expected string scalar", "expected text here"),
        ("invalid u32", "expected a whole number here"),
        ("invalid u64", "expected a whole number here"),
        ("invalid i32", "expected a whole number here"),
        ("invalid i64", "expected a whole number here"),
        ("invalid bool", "expected true or false here"),
    ];
    if let Some(name) = text.strip_prefix("missing field ") {
        return format!("required key {name} is missing");
    }
    for (library, plain) in KINDS {
        if let Some(rest) = text.strip_prefix(library) {
            return format!("{plain}{rest}");
        }
    }
    text.to_owned()
}

fn build(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    schemas: &dyn SchemaSource,
) -> Option<Definition> {
    if raw.key.value.is_empty()
        || !raw
            .key
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        ck.at(
            raw.key.referenced,
            format!(
                "key `{}` must be lower-case letters, digits and hyphens, like `pilot-zone`",
                raw.key.value
            ),
        );
    }
    let version = match semver::Version::parse(&raw.version.value) {
        Ok(v) => Some(v),
        Err(e) => {
            ck.at(
                raw.version.referenced,
                format!(
                    "version `{}` is not a semantic version like 1.0.0: {e}",
                    raw.version.value
                ),
            );
            None
        }
    };
    let timezone: Option<Tz> = match raw.timezone.value.parse() {
        Ok(tz) => Some(tz),
        Err(_) => {
            ck.at(
                raw.timezone.referenced,
                format!(
                    "timezone `{}` is not an IANA timezone name like Asia/Shanghai",
                    raw.timezone.value
                ),
            );
            None
        }
    };
    let round = raw.round.as_ref().and_then(|r| yearly(&r.cutoff, ck));

    // Roles
    let mut roles = BTreeMap::new();
    for (key, role) in raw::in_file_order(&raw.roles) {
        let name = &key.value;
        if !is_identifier(name) {
            ck.at(
                key.referenced,
                format!("role name `{name}` must be snake_case"),
            );
        }
        let binding = match role.value.binding {
            raw::RawBinding::Unit => Binding::Unit,
            raw::RawBinding::ParentUnit => Binding::ParentUnit,
            raw::RawBinding::RootUnit => Binding::RootUnit,
            raw::RawBinding::Assigned => Binding::Assigned,
        };
        if binding != Binding::Assigned && !role.value.assigned_by.is_empty() {
            ck.at(
                role.value.assigned_by[0].referenced,
                format!(
                    "role `{name}` is bound by org unit; only `assigned` roles take `assigned_by`"
                ),
            );
        }
        roles.insert(
            RoleName::new(name.clone()),
            Role {
                label: role.value.label.clone(),
                binding,
                assigned_by: role
                    .value
                    .assigned_by
                    .iter()
                    .map(|r| RoleName::new(r.value.clone()))
                    .collect(),
            },
        );
    }
    for role in raw.roles.values() {
        for by in &role.value.assigned_by {
            check_role(ck, &roles, by, "assigned_by");
        }
    }

    // Variables
    let mut variables = BTreeMap::new();
    for (key, var) in raw::in_file_order(&raw.variables) {
        let name = &key.value;
        if !is_identifier(name) {
            ck.at(
                key.referenced,
                format!("variable name `{name}` must be snake_case"),
            );
        }
        if BUILTIN_NAMES.contains(&name.as_str()) {
            ck.at(
                key.referenced,
                format!(
                    "variable `{name}` clashes with a built-in name ({})",
                    BUILTIN_NAMES.join(", ")
                ),
            );
        }
        let ty = match var.value.ty {
            raw::RawVarType::Int => VarType::Int,
            raw::RawVarType::Bool => VarType::Bool,
            raw::RawVarType::String => VarType::String,
            raw::RawVarType::Timestamp => VarType::Timestamp,
            raw::RawVarType::Json => VarType::Json,
        };
        if let Some(initial) = &var.value.initial
            && !json_fits(ty, initial)
        {
            ck.at(
                var.referenced,
                format!(
                    "variable `{name}` is {}, but its initial value {initial} is not",
                    type_name(ty)
                ),
            );
        }
        variables.insert(
            name.clone(),
            Variable {
                ty,
                label: var.value.label.clone(),
                initial: var.value.initial.clone(),
            },
        );
    }
    if round.is_some() && !variables.contains_key("round") {
        variables.insert(
            "round".to_owned(),
            Variable {
                ty: VarType::Int,
                label: Some("申报轮次".to_owned()),
                initial: None,
            },
        );
    }

    // States, main and regional
    let mut states: BTreeMap<StateName, State> = BTreeMap::new();
    let main_initial = collect_states(ck, &raw.states, None, &mut states, "the main lifecycle");
    let mut regions = BTreeMap::new();
    for (rkey, region) in raw::in_file_order(&raw.regions) {
        let rname = &rkey.value;
        if !is_identifier(rname) {
            ck.at(
                rkey.referenced,
                format!("region name `{rname}` must be snake_case"),
            );
        }
        let region_name = RegionName::new(rname.clone());
        let initial = collect_states(
            ck,
            &region.value.states,
            Some(&region_name),
            &mut states,
            &format!("region `{rname}`"),
        );
        let mut active_in = Vec::new();
        for s in &region.value.active_in {
            match raw::lookup(&raw.states, &s.value) {
                None => ck.at(
                    s.referenced,
                    format!(
                        "region `{rname}` runs in unknown state `{}`{}",
                        s.value,
                        suggest(&s.value, raw.states.keys().map(|k| k.value.as_str()))
                    ),
                ),
                Some(st) if st.value.kind == raw::RawStateKind::Terminal => ck.at(
                    s.referenced,
                    format!(
                        "region `{rname}` cannot run in terminal state `{}`",
                        s.value
                    ),
                ),
                Some(_) => {}
            }
            active_in.push(StateName::new(s.value.clone()));
        }
        if let Some(initial) = initial {
            regions.insert(
                region_name,
                Region {
                    label: region.value.label.clone(),
                    active_in,
                    initial,
                },
            );
        }
    }

    // Forms and schemas
    let mut schema_cache: BTreeMap<String, Option<Arc<FormSchema>>> = BTreeMap::new();
    let mut load_schema = |ck: &mut Checker<'_>, path: &Sp<String>| -> Option<Arc<FormSchema>> {
        if let Some(cached) = schema_cache.get(&path.value) {
            return cached.clone();
        }
        let compiled = match schemas.load(&path.value) {
            Err(SchemaLoadError::NotFound) => {
                ck.at(
                    path.referenced,
                    format!("schema file `{}` does not exist", path.value),
                );
                None
            }
            Err(SchemaLoadError::Unreadable(why)) => {
                ck.at(
                    path.referenced,
                    format!("schema file `{}` cannot be read: {why}", path.value),
                );
                None
            }
            Ok(doc) => match FormSchema::compile(&path.value, doc) {
                Ok(s) => Some(Arc::new(s)),
                Err(errors) => {
                    for e in errors {
                        ck.at(path.referenced, e);
                    }
                    None
                }
            },
        };
        schema_cache.insert(path.value.clone(), compiled.clone());
        compiled
    };
    let mut forms = BTreeMap::new();
    for (key, form) in raw::in_file_order(&raw.forms) {
        let name = &key.value;
        if !is_identifier(name) {
            ck.at(
                key.referenced,
                format!("form name `{name}` must be snake_case"),
            );
        }
        for r in &form.value.editable_by {
            check_role(ck, &roles, r, "editable_by");
        }
        for s in &form.value.editable_in {
            check_state(ck, &states, s, &format!("form `{name}` editable_in"));
        }
        if let Some(schema) = load_schema(ck, &form.value.schema) {
            forms.insert(
                FormName::new(name.clone()),
                Form {
                    label: form.value.label.clone(),
                    schema,
                    editable_by: form
                        .value
                        .editable_by
                        .iter()
                        .map(|r| RoleName::new(r.value.clone()))
                        .collect(),
                    editable_in: form
                        .value
                        .editable_in
                        .iter()
                        .map(|s| StateName::new(s.value.clone()))
                        .collect(),
                },
            );
        }
    }

    let eligibility = raw
        .eligibility
        .iter()
        .filter_map(|g| guard(ck, g, &variables))
        .collect();

    // Actions
    let mut actions = Vec::new();
    let mut seen: BTreeMap<(String, String), Location> = BTreeMap::new();
    // Set when a transition names a state that does not exist; reachability is then meaningless.
    let mut dangling = false;
    for action in &raw.actions {
        let a = &action.value;
        let name = &a.name.value;
        if !is_identifier(name) {
            ck.at(
                a.name.referenced,
                format!("action name `{name}` must be snake_case"),
            );
        }
        let mut from = Vec::new();
        let mut region: Option<Option<RegionName>> = None;
        for s in a.from.value.items() {
            let Some(state) = states.get(s) else {
                dangling = true;
                ck.at(
                    a.from.referenced,
                    format!(
                        "action `{name}` starts from unknown state `{s}`{}",
                        suggest(s, states.keys().map(StateName::as_str))
                    ),
                );
                continue;
            };
            if state.kind == StateKind::Terminal {
                ck.at(
                    a.from.referenced,
                    format!(
                        "terminal state `{s}` cannot have actions, but `{name}` starts from it"
                    ),
                );
            }
            match &region {
                None => region = Some(state.region.clone()),
                Some(r) if *r != state.region => ck.at(
                    a.from.referenced,
                    format!("action `{name}` starts from states of different regions; split it into one action per region"),
                ),
                Some(_) => {}
            }
            if let Some(first) = seen.insert((name.clone(), s.to_owned()), a.name.referenced) {
                ck.at(
                    a.name.referenced,
                    format!(
                        "two actions named `{name}` start from state `{s}` (the other is at line {})",
                        first.line()
                    ),
                );
            }
            from.push(StateName::new(s));
        }
        let region = region.flatten();
        let to = a.to.as_ref().map(|t| {
            match states.get(t.value.as_str()) {
                None => {
                    dangling = true;
                    ck.at(
                    t.referenced,
                    format!("action `{name}` goes to unknown state `{}`{}", t.value, suggest(&t.value, states.keys().map(StateName::as_str))),
                    );
                }
                Some(st) if st.region != region => ck.at(
                    t.referenced,
                    format!("action `{name}` goes to `{}`, which is not in the same region as the states it starts from", t.value),
                ),
                Some(_) => {}
            }
            StateName::new(t.value.clone())
        });
        if to.is_none() && from.len() > 1 && a.collect.is_some() {
            ck.at(
                a.name.referenced,
                format!("collect action `{name}` needs a `to` state"),
            );
        }
        for r in &a.roles {
            check_role(ck, &roles, r, &format!("action `{name}` roles"));
        }
        if a.roles.is_empty() {
            ck.at(
                a.name.referenced,
                format!("action `{name}` names no role that may take it"),
            );
        }
        for r in &a.notify {
            check_role(ck, &roles, r, &format!("action `{name}` notify"));
        }
        let collect = a.collect.as_ref().map(|c| {
            for r in &a.roles {
                if roles.get(r.value.as_str()).is_some_and(|role| role.binding != Binding::Assigned) {
                    ck.at(
                        r.referenced,
                        format!("collect action `{name}` can only be taken by assigned roles, and `{}` is bound by org unit", r.value),
                    );
                }
            }
            match c.complete_when.value {
                raw::RawCompletion::Keyword(raw::RawCompletionKeyword::All) => Completion::All,
                raw::RawCompletion::Quorum(n) => {
                    if n == 0 {
                        ck.at(c.complete_when.referenced, "a quorum must be at least 1");
                    }
                    Completion::Quorum(n)
                }
            }
        });
        let input = a.input.as_ref().and_then(|p| load_schema(ck, p));
        let scoring_spec = a.collect.as_ref().and_then(|c| c.scoring.as_ref());
        let scoring = scoring_spec.and_then(|sc| {
            let method = match sc.value.method.value {
                raw::RawMethod::Mean => crate::review::Method::Mean,
                raw::RawMethod::WeightedTotal => crate::review::Method::WeightedTotal,
                raw::RawMethod::TrimmedMean => crate::review::Method::TrimmedMean,
            };
            let Some(schema) = &input else {
                if a.input.is_none() {
                    ck.at(
                        sc.referenced,
                        format!("action `{name}` scores sheets, so it needs an `input` schema (the score sheet)"),
                    );
                }
                return None;
            };
            let rubric = crate::review::Rubric::from_schema(&schema.document)
                .and_then(|r| r.check_for(method).map(|()| r));
            match rubric {
                Ok(rubric) => Some(crate::review::Scoring {
                    method,
                    dispersion: sc.value.dispersion.as_ref().map(|d| d.value),
                    rubric,
                }),
                Err(why) => {
                    let at = a.input.as_ref().map_or(sc.referenced, |p| p.referenced);
                    ck.at(at, format!("score sheet of action `{name}`: {why}"));
                    None
                }
            }
        });
        let topics = scoring_spec
            .and_then(|sc| sc.value.topics.as_ref())
            .and_then(|t| expression(ck, t, &variables));
        let panel_size = scoring_spec
            .and_then(|sc| sc.value.panel_size.as_ref())
            .map(|p| {
                if p.value == 0 {
                    ck.at(p.referenced, "a panel needs at least one expert");
                }
                p.value
            });
        if let (Some(field), Some(schema)) = (&a.document, &input)
            && schema
                .document
                .pointer(&format!("/properties/{}", field.value))
                .is_none()
        {
            ck.at(
                field.referenced,
                format!(
                    "action `{name}` takes its document number from input field `{}`, which its schema does not have",
                    field.value
                ),
            );
        }
        if a.document.is_some() && a.input.is_none() {
            ck.at(
                a.name.referenced,
                format!("action `{name}` names a document field but takes no input"),
            );
        }
        let mut requires_forms = Vec::new();
        for f in &a.requires_forms {
            if !raw::has_key(&raw.forms, &f.value) {
                ck.at(
                    f.referenced,
                    format!(
                        "action `{name}` requires unknown form `{}`{}",
                        f.value,
                        suggest(&f.value, raw.forms.keys().map(|k| k.value.as_str()))
                    ),
                );
            }
            requires_forms.push(FormName::new(f.value.clone()));
        }
        let guards = a
            .guards
            .iter()
            .filter_map(|g| guard(ck, g, &variables))
            .collect();
        let mut set = Vec::new();
        for (key, source) in raw::in_file_order(&a.set) {
            let var = &key.value;
            if !variables.contains_key(var) {
                ck.at(
                    key.referenced,
                    format!(
                        "action `{name}` sets unknown variable `{var}`{}",
                        suggest(var, variables.keys())
                    ),
                );
            }
            if let Some(e) = expression(ck, source, &variables) {
                set.push((var.clone(), e));
            }
        }
        actions.push(Action {
            name: ActionName::new(name.clone()),
            label: a.label.clone(),
            from,
            to,
            region,
            roles: a
                .roles
                .iter()
                .map(|r| RoleName::new(r.value.clone()))
                .collect(),
            input,
            requires_forms,
            guards,
            set,
            collect,
            scoring,
            topics,
            panel_size,
            notify: a
                .notify
                .iter()
                .map(|r| RoleName::new(r.value.clone()))
                .collect(),
            document: a.document.as_ref().map(|d| d.value.clone()),
        });
    }

    // Deadlines
    let mut deadlines = Vec::new();
    for (key, d) in raw::in_file_order(&raw.deadlines) {
        let name = &key.value;
        let dv = &d.value;
        if !is_identifier(name) {
            ck.at(
                key.referenced,
                format!("deadline name `{name}` must be snake_case"),
            );
        }
        let bases = [
            dv.due.round_cutoff.then_some(DueBase::RoundCutoff),
            dv.due
                .variable
                .as_ref()
                .map(|v| DueBase::Variable(v.value.clone())),
            dv.due
                .entered
                .as_ref()
                .map(|s| DueBase::Entered(StateName::new(s.value.clone()))),
        ];
        let mut bases = bases.into_iter().flatten();
        let base = match (bases.next(), bases.next()) {
            (Some(b), None) => b,
            _ => {
                ck.at(
                    d.referenced,
                    format!("deadline `{name}`: `due` takes exactly one of `round_cutoff: true`, `variable` or `entered`"),
                );
                continue;
            }
        };
        match &base {
            DueBase::RoundCutoff if round.is_none() && raw.round.is_none() => ck.at(
                d.referenced,
                format!("deadline `{name}` is due at the round cutoff, but the definition has no `round` section"),
            ),
            DueBase::Variable(v) => {
                let loc = dv.due.variable.as_ref().map_or(d.referenced, |s| s.referenced);
                match variables.get(v) {
                    None => ck.at(loc, format!("deadline `{name}` is due relative to unknown variable `{v}`{}", suggest(v, variables.keys()))),
                    Some(var) if var.ty != VarType::Timestamp => ck.at(
                        loc,
                        format!("deadline `{name}` is due relative to `{v}`, which is not a timestamp variable"),
                    ),
                    Some(_) => {}
                }
            }
            DueBase::Entered(_) => {
                if let Some(s) = &dv.due.entered {
                    check_state(ck, &states, s, &format!("deadline `{name}` entered"));
                }
            }
            DueBase::RoundCutoff => {}
        }
        for s in &dv.active_in {
            check_state(ck, &states, s, &format!("deadline `{name}` active_in"));
        }
        for g in &dv.gates {
            if !raw.actions.iter().any(|a| a.value.name.value == g.value) {
                ck.at(
                    g.referenced,
                    format!(
                        "deadline `{name}` gates unknown action `{}`{}",
                        g.value,
                        suggest(
                            &g.value,
                            raw.actions.iter().map(|a| a.value.name.value.as_str())
                        )
                    ),
                );
            } else if !actions.iter().any(|a| {
                a.name == g.value.as_str()
                    && a.from
                        .iter()
                        .any(|s| dv.active_in.iter().any(|x| x.value == s.as_str()))
            }) {
                // The gate could never refuse anything: the action is never available while
                // the deadline runs.
                ck.at(
                    g.referenced,
                    format!(
                        "deadline `{name}` gates `{}`, but `{}` cannot be taken in any state the deadline is active in ({})",
                        g.value,
                        g.value,
                        dv.active_in.iter().map(|x| x.value.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        let (remind_days_before, remind_to) = match &dv.remind {
            Some(r) => {
                for role in &r.to {
                    check_role(ck, &roles, role, &format!("deadline `{name}` remind.to"));
                }
                (
                    r.days_before.clone(),
                    r.to.iter()
                        .map(|x| RoleName::new(x.value.clone()))
                        .collect(),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        for role in &dv.escalate_to {
            check_role(ck, &roles, role, &format!("deadline `{name}` escalate_to"));
        }
        let offset = dv.due.offset.unwrap_or_default();
        deadlines.push(Deadline {
            name: DeadlineName::new(name.clone()),
            label: dv.label.clone(),
            due: Due {
                base,
                offset: Offset {
                    years: offset.years,
                    months: offset.months,
                    days: offset.days,
                    working_days: offset.working_days,
                },
                end_of_day: dv.due.end_of_day,
            },
            active_in: dv
                .active_in
                .iter()
                .map(|s| StateName::new(s.value.clone()))
                .collect(),
            gates: dv
                .gates
                .iter()
                .map(|g| ActionName::new(g.value.clone()))
                .collect(),
            gate_message: dv.gate_message.clone(),
            remind_days_before,
            remind_to,
            escalate_to: dv
                .escalate_to
                .iter()
                .map(|x| RoleName::new(x.value.clone()))
                .collect(),
        });
    }

    if !dangling {
        check_graph(ck, raw, &states, &regions, &actions, main_initial.as_ref());
    }

    let listing = raw.listing.as_ref().map(|l| {
        let mut listed = Vec::new();
        for (state, status) in raw::in_file_order(&l.value.states) {
            if states
                .get(state.value.as_str())
                .is_some_and(|s| s.region.is_some())
            {
                ck.at(
                    state.referenced,
                    format!(
                        "listing names `{}`, a state of a region; list states of the main lifecycle",
                        state.value
                    ),
                );
            }
            if !states.contains_key(state.value.as_str()) {
                ck.at(
                    state.referenced,
                    format!(
                        "listing names unknown state `{}`{}",
                        state.value,
                        suggest(&state.value, states.keys().map(StateName::as_str))
                    ),
                );
            }
            listed.push((StateName::new(state.value.clone()), status.value.clone()));
        }
        for f in &l.value.fields {
            if !variables.contains_key(&f.value) {
                ck.at(
                    f.referenced,
                    format!(
                        "listing shows unknown variable `{}`{}",
                        f.value,
                        suggest(&f.value, variables.keys())
                    ),
                );
            }
        }
        Listing {
            label: l.value.label.clone(),
            states: listed,
            fields: l.value.fields.iter().map(|f| f.value.clone()).collect(),
        }
    });

    Some(Definition {
        key: raw.key.value.clone(),
        version: version?,
        title: Title {
            zh: raw.title.zh.clone(),
            en: raw.title.en.clone(),
        },
        timezone: timezone?,
        round,
        roles,
        variables,
        forms,
        eligibility,
        states,
        initial: main_initial?,
        regions,
        actions,
        deadlines,
        listing,
        expertise: raw::in_file_order(&raw.expertise)
            .into_iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
    })
}

fn yearly(spanned: &Sp<raw::RawYearly>, ck: &mut Checker<'_>) -> Option<Yearly> {
    let y = &spanned.value;
    let time = match NaiveTime::parse_from_str(&y.time.value, "%H:%M:%S") {
        Ok(t) => t,
        Err(_) => {
            ck.at(
                y.time.referenced,
                format!("time `{}` must look like 23:59:59", y.time.value),
            );
            return None;
        }
    };
    // 2024 is a leap year, so 29 February is accepted here; rounds clamp it later.
    if chrono::NaiveDate::from_ymd_opt(2024, y.month, y.day).is_none() {
        ck.at(
            spanned.referenced,
            format!("month {} day {} is not a date", y.month, y.day),
        );
        return None;
    }
    Some(Yearly {
        month: y.month,
        day: y.day,
        time,
    })
}

fn collect_states(
    ck: &mut Checker<'_>,
    raw_states: &raw::Named<raw::RawState>,
    region: Option<&RegionName>,
    states: &mut BTreeMap<StateName, State>,
    owner: &str,
) -> Option<StateName> {
    let mut initial = Vec::new();
    let mut first_loc = None;
    for (key, st) in raw::in_file_order(raw_states) {
        let name = &key.value;
        first_loc.get_or_insert(key.referenced);
        if !is_identifier(name) {
            ck.at(
                key.referenced,
                format!("state name `{name}` must be snake_case"),
            );
        }
        let kind = match st.value.kind {
            raw::RawStateKind::Initial => {
                initial.push((name.clone(), key.referenced));
                StateKind::Initial
            }
            raw::RawStateKind::Normal => StateKind::Normal,
            raw::RawStateKind::Terminal => StateKind::Terminal,
        };
        if states.contains_key(name.as_str()) {
            ck.at(key.referenced,
                format!("state `{name}` is declared twice; state names are shared by the main lifecycle and every region"),
            );
        }
        states.insert(
            StateName::new(name.clone()),
            State {
                label: st.value.label.clone(),
                kind,
                region: region.cloned(),
            },
        );
    }
    match initial.as_slice() {
        [(name, _)] => Some(StateName::new(name.clone())),
        [] => {
            ck.at(
                first_loc.unwrap_or(Location::UNKNOWN),
                format!("{owner} has no initial state (mark one with `kind: initial`)"),
            );
            None
        }
        [_, (second, loc), ..] => {
            ck.at(
                *loc,
                format!("{owner} has more than one initial state (`{second}` is the second)"),
            );
            None
        }
    }
}

/// Whether a JSON value can be stored in a variable of this type.
pub(crate) fn json_fits(ty: VarType, v: &serde_json::Value) -> bool {
    match ty {
        VarType::Int => v.is_i64() || v.is_u64(),
        VarType::Bool => v.is_boolean(),
        VarType::String => v.is_string(),
        VarType::Timestamp => v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        VarType::Json => true,
    }
}

fn type_name(ty: VarType) -> &'static str {
    match ty {
        VarType::Int => "an int",
        VarType::Bool => "a bool",
        VarType::String => "a string",
        VarType::Timestamp => "a timestamp (RFC 3339 text)",
        VarType::Json => "JSON",
    }
}

/// Reports `name` unless `known` declares it.
fn check_declared<K: std::borrow::Borrow<str> + Ord, V>(
    ck: &mut Checker<'_>,
    known: &BTreeMap<K, V>,
    name: &Sp<String>,
    what: &str,
    kind: &str,
) {
    if !known.contains_key(name.value.as_str()) {
        ck.at(
            name.referenced,
            format!(
                "{what}: unknown {kind} `{}`{}",
                name.value,
                suggest(&name.value, known.keys().map(|k| k.borrow()))
            ),
        );
    }
}

fn check_role(ck: &mut Checker<'_>, roles: &BTreeMap<RoleName, Role>, r: &Sp<String>, what: &str) {
    check_declared(ck, roles, r, what, "role");
}

fn check_state(
    ck: &mut Checker<'_>,
    states: &BTreeMap<StateName, State>,
    s: &Sp<String>,
    what: &str,
) {
    check_declared(ck, states, s, what, "state");
}

fn guard(
    ck: &mut Checker<'_>,
    g: &raw::RawGuard,
    variables: &BTreeMap<String, Variable>,
) -> Option<Guard> {
    expression(ck, &g.condition, variables).map(|expr| Guard {
        expr,
        message: g.message.clone(),
    })
}

fn expression(
    ck: &mut Checker<'_>,
    source: &Sp<String>,
    variables: &BTreeMap<String, Variable>,
) -> Option<Expr> {
    match Expr::compile(&source.value) {
        Err(e) => {
            ck.at(
                source.referenced,
                format!("expression `{}` does not parse: {e}", source.value),
            );
            None
        }
        Ok(expr) => {
            let unknown_functions: Vec<&str> = expr
                .functions()
                .iter()
                .map(String::as_str)
                .filter(|f| !is_known_function(f))
                .collect();
            for f in &unknown_functions {
                ck.at(
                    source.referenced,
                    format!(
                        "expression `{}` calls unknown function `{f}`{}",
                        source.value,
                        suggest(f, EXTRA_FUNCTIONS.iter().chain(CEL_FUNCTIONS))
                    ),
                );
            }
            let unknown: Vec<&str> = expr
                .names()
                .iter()
                .map(String::as_str)
                .filter(|n| !variables.contains_key(*n) && !BUILTIN_NAMES.contains(n))
                .collect();
            if unknown.is_empty() && unknown_functions.is_empty() {
                return Some(expr);
            }
            for n in unknown {
                ck.at(
                    source.referenced,
                    format!(
                        "expression `{}` names unknown variable `{n}`{}",
                        source.value,
                        suggest(
                            n,
                            variables
                                .keys()
                                .map(String::as_str)
                                .chain(BUILTIN_NAMES.iter().copied())
                        )
                    ),
                );
            }
            None
        }
    }
}

/// "; did you mean `x`?" when a known name is one or two edits away.
fn suggest<'a, S: AsRef<str> + 'a>(name: &str, known: impl IntoIterator<Item = S>) -> String {
    known
        .into_iter()
        .map(|k| {
            let k = k.as_ref().to_owned();
            (edit_distance(name, &k), k)
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Unreachable states, dead ends and terminal states with actions.
fn check_graph(
    ck: &mut Checker<'_>,
    raw: &RawDefinition,
    states: &BTreeMap<StateName, State>,
    regions: &BTreeMap<RegionName, Region>,
    actions: &[Action],
    main_initial: Option<&StateName>,
) {
    let mut starts: Vec<&StateName> = regions.values().map(|r| &r.initial).collect();
    starts.extend(main_initial);
    let mut reached: BTreeSet<&StateName> = BTreeSet::new();
    let mut queue: VecDeque<&StateName> = starts.into_iter().collect();
    while let Some(s) = queue.pop_front() {
        if !reached.insert(s) {
            continue;
        }
        for a in actions.iter().filter(|a| a.from.contains(s)) {
            let next = a.to.as_ref().unwrap_or(s);
            if states.contains_key(next) {
                queue.push_back(next);
            }
        }
    }
    let key_location = |map: &raw::Named<raw::RawState>, name: &str| {
        raw::entry(map, name).map(|(k, _)| k.referenced)
    };
    let location = |name: &str| -> Location {
        key_location(&raw.states, name)
            .or_else(|| {
                raw.regions
                    .values()
                    .find_map(|r| key_location(&r.value.states, name))
            })
            .unwrap_or(Location::UNKNOWN)
    };
    for (name, state) in states {
        let has_exit = actions
            .iter()
            .any(|a| a.from.contains(name) && a.to.as_ref().is_some_and(|t| t != name));
        if !reached.contains(name) && main_initial.is_some() {
            ck.at(
                location(name.as_str()),
                format!(
                    "state `{name}` ({}) cannot be reached from the initial state",
                    state.label
                ),
            );
        }
        if state.kind != StateKind::Terminal && !has_exit {
            ck.at(
                location(name.as_str()),
                format!(
                    "state `{name}` ({}) is not terminal but no action leads out of it; add an action or mark it `kind: terminal`",
                    state.label
                ),
            );
        }
    }
}
