//! Executing a definition: pure functions from (definition, snapshot, actor, command, now) to a
//! new snapshot with the event and its effects, or a typed refusal.

use crate::calendar::Calendar;
use crate::deadline::{self, DeadlineInstance};
use crate::definition::{
    Action, Binding, Completion, Definition, Guard, StateKind, VarType, json_fits,
};
use crate::error::EngineError;
use crate::expr::{self, CelValue, Expr};
use crate::forms::FieldError;
use crate::ids::{ActionName, DeadlineName, FormName, RegionName, RoleName, StateName, UserId};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    City,
    County,
}

impl UnitLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::County => "county",
        }
    }
}

/// The org unit a case belongs to, as far as the rules need to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub level: UnitLevel,
    /// Already named a national experimental zone.
    #[serde(default)]
    pub national_zone: bool,
}

/// How the actor's own unit stands to the case's unit (a city-level case's parent is also the
/// root, so more than one can hold).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRelation {
    pub own: bool,
    pub parent: bool,
    pub root: bool,
}

impl Binding {
    /// Whether someone standing in `relation` to a case (and `assigned` to it, asked only for
    /// an assignment binding) holds a role bound this way.
    pub fn holds(self, relation: UnitRelation, assigned: impl FnOnce() -> bool) -> bool {
        match self {
            Self::Unit => relation.own,
            Self::ParentUnit => relation.parent,
            Self::RootUnit => relation.root,
            Self::Assigned => assigned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: UserId,
    pub role: RoleName,
    pub relation: UnitRelation,
}

/// Everything the rules know about one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSnapshot {
    pub workflow: String,
    pub workflow_version: String,
    /// The state of the main lifecycle.
    pub state: StateName,
    /// The state of every region that has started.
    pub regions: BTreeMap<RegionName, StateName>,
    pub vars: BTreeMap<String, Value>,
    /// Saved form documents; shared, because they are large and never change once saved.
    /// Absent from [`CaseSnapshot::without_forms`], so a store keeping them apart reads
    /// the rest back with none.
    #[serde(default)]
    pub forms: BTreeMap<FormName, Arc<Value>>,
    pub assignments: BTreeMap<RoleName, BTreeSet<UserId>>,
    /// Submissions to collect actions that are still open, by user.
    pub collected: BTreeMap<ActionName, BTreeMap<UserId, Value>>,
    /// When the case last entered each state.
    pub entered: BTreeMap<StateName, DateTime<Utc>>,
    pub unit: UnitInfo,
    pub created_at: DateTime<Utc>,
    /// Number of events applied; the service's optimistic-lock version.
    pub version: u64,
}

/// A snapshot without its forms, for a store that keeps each form apart and writes it only
/// when it is saved: the forms are most of a snapshot's size, and every transition would
/// otherwise write them out again. Serializes as the snapshot does, less `forms`.
#[derive(Debug, Serialize)]
pub struct WithoutForms<'a> {
    workflow: &'a str,
    workflow_version: &'a str,
    state: &'a StateName,
    regions: &'a BTreeMap<RegionName, StateName>,
    vars: &'a BTreeMap<String, Value>,
    assignments: &'a BTreeMap<RoleName, BTreeSet<UserId>>,
    collected: &'a BTreeMap<ActionName, BTreeMap<UserId, Value>>,
    entered: &'a BTreeMap<StateName, DateTime<Utc>>,
    unit: &'a UnitInfo,
    created_at: &'a DateTime<Utc>,
    version: u64,
}

impl CaseSnapshot {
    /// Everything but the forms (see [`WithoutForms`]).
    pub fn without_forms(&self) -> WithoutForms<'_> {
        // Named field by field, so a field added to the snapshot fails to compile here.
        let CaseSnapshot {
            workflow,
            workflow_version,
            state,
            regions,
            vars,
            forms: _,
            assignments,
            collected,
            entered,
            unit,
            created_at,
            version,
        } = self;
        WithoutForms {
            workflow,
            workflow_version,
            state,
            regions,
            vars,
            assignments,
            collected,
            entered,
            unit,
            created_at,
            version: *version,
        }
    }

    /// Whether `state` is current: the main state, or the state of a running region.
    pub fn is_in(&self, def: &Definition, state: &StateName) -> bool {
        if self.state == *state {
            return true;
        }
        let Some(region) = def.state(state.as_str()).and_then(|s| s.region.as_ref()) else {
            return false;
        };
        self.region_running(def, region) && self.regions.get(region) == Some(state)
    }

    pub fn region_running(&self, def: &Definition, region: &RegionName) -> bool {
        def.regions
            .get(region)
            .is_some_and(|r| r.active_in.contains(&self.state) && self.regions.contains_key(region))
    }

    /// The current states: main first, then each running region's.
    pub fn current_states(&self, def: &Definition) -> Vec<StateName> {
        let mut out = vec![self.state.clone()];
        for (region, state) in &self.regions {
            if self.region_running(def, region) {
                out.push(state.clone());
            }
        }
        out
    }

    pub fn round(&self) -> Option<i32> {
        self.vars
            .get("round")
            .and_then(Value::as_i64)
            .and_then(|r| i32::try_from(r).ok())
    }

    pub fn timestamp_var(&self, name: &str) -> Option<DateTime<Utc>> {
        let s = self.vars.get(name)?.as_str()?;
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: Option<Actor>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Started {
        unit: UnitInfo,
        vars: BTreeMap<String, Value>,
    },
    FormSaved {
        form: FormName,
        /// Shared with the snapshot's copy of the form.
        data: Arc<Value>,
    },
    Assigned {
        role: RoleName,
        users: BTreeSet<UserId>,
    },
    ActionTaken {
        action: ActionName,
        input: Value,
        from: StateName,
        to: StateName,
        /// For collect actions: whether this submission completed the collection.
        completed: bool,
    },
    /// One submission to a collect action taken back so its author can submit again; a
    /// collection already complete opens again (the case returns to the review state).
    SheetReopened {
        action: ActionName,
        user: UserId,
        reason: String,
        from: StateName,
        to: StateName,
    },
    /// An assigned user (an expert) stepped down from the case, giving a reason.
    Declined { role: RoleName, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub roles: Vec<RoleName>,
    pub kind: NotificationKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NotificationKind {
    /// Someone took an action these roles should hear of.
    ActionTaken { action: ActionName, label: String },
    /// The case entered a state in which these roles have something to do.
    ActionRequired { state: StateName, label: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    pub variables: BTreeMap<String, Value>,
    pub deadlines_set: Vec<DeadlineInstance>,
    pub deadlines_cleared: Vec<DeadlineName>,
    pub notifications: Vec<Notification>,
}

impl Effects {
    /// The deadlines a step stopped, and those it started or moved, from the running ones
    /// before and after it.
    fn record_deadline_changes(
        &mut self,
        before: &[DeadlineInstance],
        after: Vec<DeadlineInstance>,
    ) {
        self.deadlines_cleared = before
            .iter()
            .filter(|b| !after.iter().any(|a| a.name == b.name))
            .map(|b| b.name.clone())
            .collect();
        self.deadlines_set = after.into_iter().filter(|a| !before.contains(a)).collect();
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub snapshot: CaseSnapshot,
    pub event: Event,
    pub effects: Effects,
    /// For form saves: what the saved document still lacks.
    pub form_errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableAction {
    pub name: ActionName,
    pub label: String,
    /// Schema path of the action's input, if it takes one.
    pub input: Option<String>,
}

/// A definition with the holiday calendar its deadlines are computed against.
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    pub def: &'a Definition,
    pub calendar: &'a Calendar,
}

impl<'a> Engine<'a> {
    pub fn new(def: &'a Definition, calendar: &'a Calendar) -> Self {
        Self { def, calendar }
    }

    /// A new case in the initial state. `vars` presets declared variables (for example a city's
    /// internal cutoff that the service knows when the case is created).
    pub fn start(
        &self,
        unit: UnitInfo,
        vars: BTreeMap<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let def = self.def;
        let mut values: BTreeMap<String, Value> = def
            .variables
            .iter()
            .filter_map(|(k, v)| v.initial.clone().map(|i| (k.clone(), i)))
            .collect();
        for (k, v) in &vars {
            let var = def
                .variables
                .get(k)
                .ok_or_else(|| EngineError::InvalidVariable {
                    variable: k.clone(),
                    reason: "the definition declares no such variable".to_owned(),
                })?;
            if !json_fits(var.ty, v) {
                return Err(EngineError::InvalidVariable {
                    variable: k.clone(),
                    reason: format!("expected {:?}", var.ty),
                });
            }
            values.insert(k.clone(), v.clone());
        }
        if let Some(cutoff) = def.round {
            values
                .entry("round".to_owned())
                .or_insert_with(|| Value::from(deadline::round_for(def.timezone, cutoff, now)));
        }
        let mut snapshot = CaseSnapshot {
            workflow: def.key.clone(),
            workflow_version: def.version.to_string(),
            state: def.initial.clone(),
            regions: BTreeMap::new(),
            vars: values,
            forms: BTreeMap::new(),
            assignments: BTreeMap::new(),
            collected: BTreeMap::new(),
            entered: BTreeMap::from([(def.initial.clone(), now)]),
            unit: unit.clone(),
            created_at: now,
            version: 0,
        };
        if !def.eligibility.is_empty() {
            let scope = Scope::new(
                self,
                &snapshot,
                &Value::Null,
                now,
                def.eligibility.iter().map(|g| &g.expr),
            );
            let failed = scope.failing(&def.eligibility)?;
            if !failed.is_empty() {
                return Err(EngineError::NotEligible { messages: failed });
            }
        }
        let mut entered = vec![def.initial.clone()];
        entered.extend(start_regions(def, &mut snapshot, now));
        let effects = Effects {
            variables: BTreeMap::new(),
            deadlines_set: deadline::active_deadlines(def, &snapshot, self.calendar),
            deadlines_cleared: Vec::new(),
            notifications: self.required_notifications(&entered),
        };
        snapshot.version = 1;
        Ok(Outcome {
            snapshot,
            event: Event {
                seq: 1,
                at: now,
                actor: None,
                kind: EventKind::Started { unit, vars },
            },
            effects,
            form_errors: Vec::new(),
        })
    }

    /// Whether the actor holds `role` for this case.
    pub fn binds(&self, snapshot: &CaseSnapshot, actor: &Actor, role: &RoleName) -> bool {
        if actor.role != *role {
            return false;
        }
        self.def.roles.get(role).is_some_and(|r| {
            r.binding.holds(actor.relation, || {
                snapshot
                    .assignments
                    .get(role)
                    .is_some_and(|users| users.contains(&actor.user))
            })
        })
    }

    /// The actions this actor may take now (guards that read the input are left to `fire`).
    pub fn available_actions(
        &self,
        snapshot: &CaseSnapshot,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Vec<AvailableAction> {
        let current = snapshot.current_states(self.def);
        let deadlines = deadline::active_deadlines(self.def, snapshot, self.calendar);
        let mut out: Vec<AvailableAction> = Vec::new();
        for action in &self.def.actions {
            if out.iter().any(|a| a.name == action.name)
                || !action.from.iter().any(|s| current.contains(s))
                || !action.roles.iter().any(|r| self.binds(snapshot, actor, r))
                || already_collected(snapshot, action, actor)
                || passed_gate(self.def, &deadlines, &action.name, now).is_some()
            {
                continue;
            }
            let static_guards: Vec<&Guard> = action
                .guards
                .iter()
                .filter(|g| !g.expr.reads("input"))
                .collect();
            if !static_guards.is_empty() {
                let scope = Scope::new(
                    self,
                    snapshot,
                    &Value::Null,
                    now,
                    static_guards.iter().map(|g| &g.expr),
                );
                if !matches!(scope.failing(static_guards.iter().copied()), Ok(f) if f.is_empty()) {
                    continue;
                }
            }
            out.push(AvailableAction {
                name: action.name.clone(),
                label: action.label.clone(),
                input: action.input.as_ref().map(|s| s.path.clone()),
            });
        }
        out
    }

    /// Takes an action. On success the returned snapshot has the event applied.
    pub fn fire(
        &self,
        snapshot: &CaseSnapshot,
        actor: &Actor,
        action_name: &str,
        input: &Value,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let def = self.def;
        let current = snapshot.current_states(def);
        let action = self.action_to_fire(snapshot, actor, action_name, &current)?;
        let before = deadline::active_deadlines(def, snapshot, self.calendar);
        if let Some(refusal) = passed_gate(def, &before, &action.name, now) {
            return Err(refusal);
        }
        let input = normalise_input(action, input)?;
        self.check_required_forms(snapshot, action)?;
        let exprs = action
            .guards
            .iter()
            .map(|g| &g.expr)
            .chain(action.set.iter().map(|(_, e)| e));
        let scope = Scope::new(self, snapshot, &input, now, exprs);
        let failed = scope.failing(&action.guards)?;
        if !failed.is_empty() {
            return Err(EngineError::GuardFailed { messages: failed });
        }

        let from = action
            .from
            .iter()
            .find(|s| current.contains(s))
            .cloned()
            .unwrap_or_else(|| snapshot.state.clone());
        let mut next = snapshot.clone();
        let completed = match action.collect {
            Some(completion) => record_submission(&mut next, action, completion, actor, &input),
            None => true,
        };
        let to = if completed {
            action.to.clone().unwrap_or_else(|| from.clone())
        } else {
            from.clone()
        };
        let mut effects = if completed {
            self.complete(&mut next, action, &scope, &to, now)?
        } else {
            Effects::default()
        };
        effects.record_deadline_changes(
            &before,
            deadline::active_deadlines(def, &next, self.calendar),
        );
        next.version = snapshot.version + 1;
        Ok(Outcome {
            event: Event {
                seq: next.version,
                at: now,
                actor: Some(actor.clone()),
                kind: EventKind::ActionTaken {
                    action: action.name.clone(),
                    input,
                    from,
                    to,
                    completed,
                },
            },
            snapshot: next,
            effects,
            form_errors: Vec::new(),
        })
    }

    /// The action named `action_name` that this actor may take in the current states, or why
    /// there is none. The refusals are checked in this order, most general first.
    fn action_to_fire<'n>(
        &self,
        snapshot: &CaseSnapshot,
        actor: &Actor,
        action_name: &'n str,
        current: &[StateName],
    ) -> Result<&'n Action, EngineError>
    where
        'a: 'n,
    {
        let mut named = self.def.actions_named(action_name).peekable();
        if named.peek().is_none() {
            return Err(EngineError::UnknownAction {
                action: ActionName::new(action_name),
            });
        }
        let Some(action) = named.find(|a| a.from.iter().any(|s| current.contains(s))) else {
            return Err(EngineError::ActionNotAvailable {
                action: ActionName::new(action_name),
                states: current.to_vec(),
            });
        };
        if !action.roles.iter().any(|r| self.binds(snapshot, actor, r)) {
            return Err(EngineError::ActionNotAllowed {
                action: action.name.clone(),
                role: actor.role.clone(),
            });
        }
        if already_collected(snapshot, action, actor) {
            return Err(EngineError::AlreadySubmitted {
                action: action.name.clone(),
            });
        }
        Ok(action)
    }

    /// Refuses the action unless every form it requires is saved and complete.
    fn check_required_forms(
        &self,
        snapshot: &CaseSnapshot,
        action: &Action,
    ) -> Result<(), EngineError> {
        let def = self.def;
        for form in &action.requires_forms {
            let label = def
                .forms
                .get(form)
                .map(|f| f.label.clone())
                .unwrap_or_default();
            let Some(data) = snapshot.forms.get(form) else {
                return Err(EngineError::FormIncomplete {
                    form: form.clone(),
                    label,
                    errors: Vec::new(),
                });
            };
            if let Some(schema) = def.forms.get(form).map(|f| &f.schema)
                && !schema.is_valid(data)
            {
                return Err(EngineError::FormIncomplete {
                    form: form.clone(),
                    label,
                    errors: schema.errors(data),
                });
            }
        }
        Ok(())
    }

    /// What a completed action does to `next`: sets its variables, moves the case to `to` and
    /// starts the regions that run there. The effects have no deadline changes yet.
    fn complete(
        &self,
        next: &mut CaseSnapshot,
        action: &Action,
        scope: &Scope,
        to: &StateName,
        now: DateTime<Utc>,
    ) -> Result<Effects, EngineError> {
        let def = self.def;
        let mut effects = Effects::default();
        for (var, e) in &action.set {
            let value = scope.eval(e)?;
            let ty = def.variables.get(var).map_or(VarType::Json, |v| v.ty);
            let json = cel_to_json(ty, &value).ok_or_else(|| EngineError::EvaluationFailed {
                message: format!(
                    "`{}` gave {value:?}, which does not fit variable `{var}` ({ty:?})",
                    e.source
                ),
            })?;
            effects.variables.insert(var.clone(), json);
        }
        for (k, v) in &effects.variables {
            next.vars.insert(k.clone(), v.clone());
        }
        let mut entered = Vec::new();
        if action.to.is_some() {
            match &action.region {
                None => next.state = to.clone(),
                Some(region) => {
                    next.regions.insert(region.clone(), to.clone());
                }
            }
            next.entered.insert(to.clone(), now);
            clear_collections(def, next, to);
            entered.push(to.clone());
            entered.extend(start_regions(def, next, now));
        }
        let mut notify = action.notify.clone();
        notify.retain(|r| def.roles.contains_key(r));
        if !notify.is_empty() {
            effects.notifications.push(Notification {
                roles: notify,
                kind: NotificationKind::ActionTaken {
                    action: action.name.clone(),
                    label: action.label.clone(),
                },
            });
        }
        effects
            .notifications
            .extend(self.required_notifications(&entered));
        Ok(effects)
    }

    /// Saves a draft of a form. The draft is kept even when it is incomplete; what it still
    /// lacks comes back in `form_errors`.
    pub fn save_form(
        &self,
        snapshot: &CaseSnapshot,
        actor: &Actor,
        form_name: &str,
        data: impl Into<Arc<Value>>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let data = data.into();
        let form = self
            .def
            .forms
            .get(form_name)
            .ok_or_else(|| EngineError::UnknownForm {
                form: FormName::new(form_name),
            })?;
        let current = snapshot.current_states(self.def);
        let state_ok = if form.editable_in.is_empty() {
            self.def
                .state(snapshot.state.as_str())
                .is_some_and(|s| s.kind != StateKind::Terminal)
        } else {
            form.editable_in.iter().any(|s| current.contains(s))
        };
        let role_ok = form
            .editable_by
            .iter()
            .any(|r| self.binds(snapshot, actor, r));
        if !state_ok || !role_ok {
            return Err(EngineError::FormNotEditable {
                form: FormName::new(form_name),
            });
        }
        let form_errors = form.schema.errors(&data);
        let mut next = snapshot.clone();
        next.forms
            .insert(FormName::new(form_name), Arc::clone(&data));
        next.version += 1;
        Ok(Outcome {
            event: Event {
                seq: next.version,
                at: now,
                actor: Some(actor.clone()),
                kind: EventKind::FormSaved {
                    form: FormName::new(form_name),
                    data,
                },
            },
            snapshot: next,
            effects: Effects::default(),
            form_errors,
        })
    }

    /// Sets the users holding an assigned role on this case (an expert panel).
    pub fn assign(
        &self,
        snapshot: &CaseSnapshot,
        actor: &Actor,
        role_name: &str,
        users: BTreeSet<UserId>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let role_key = RoleName::new(role_name);
        let allowed = self.def.roles.get(role_name).is_some_and(|role| {
            role.binding == Binding::Assigned
                && role
                    .assigned_by
                    .iter()
                    .any(|by| self.binds(snapshot, actor, by))
        });
        if !allowed {
            return Err(EngineError::AssignmentNotAllowed { role: role_key });
        }
        let mut next = snapshot.clone();
        next.assignments.insert(role_key.clone(), users.clone());
        next.version += 1;
        let mut effects = Effects::default();
        // A panel that changes mid-collection may complete it (or not); deadlines do not move.
        let states = next.current_states(self.def);
        effects.notifications = self.required_notifications(&states);
        effects
            .notifications
            .retain(|n| n.roles.contains(&role_key));
        Ok(Outcome {
            event: Event {
                seq: next.version,
                at: now,
                actor: Some(actor.clone()),
                kind: EventKind::Assigned {
                    role: role_key,
                    users,
                },
            },
            snapshot: next,
            effects,
            form_errors: Vec::new(),
        })
    }

    /// Takes back `user`'s submission to the collect action `action_name` (a score sheet
    /// entered wrongly, say), so that user can submit again. Only those who assign the
    /// action's role may, and only with a reason. While the collection is open the case stays
    /// where it is; once it completed (the case moved on to the action's target and nothing
    /// happened since), the case returns to the state it was collected in.
    pub fn reopen(
        &self,
        snapshot: &CaseSnapshot,
        actor: &Actor,
        action_name: &str,
        user: &UserId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let def = self.def;
        let action = def
            .actions_named(action_name)
            .find(|a| a.collect.is_some())
            .ok_or_else(|| EngineError::UnknownAction {
                action: ActionName::new(action_name),
            })?;
        let may = action.roles.iter().any(|r| {
            def.roles.get(r).is_some_and(|role| {
                role.assigned_by
                    .iter()
                    .any(|by| self.binds(snapshot, actor, by))
            })
        });
        if !may {
            return Err(EngineError::ActionNotAllowed {
                action: action.name.clone(),
                role: actor.role.clone(),
            });
        }
        if reason.trim().chars().count() < 2 {
            return Err(EngineError::InvalidInput {
                errors: vec![FieldError {
                    pointer: "/reason".to_owned(),
                    message: "请填写退回评分表的理由".to_owned(),
                    message_en: "give the reason for reopening the sheet".to_owned(),
                }],
            });
        }
        let has_sheet = snapshot
            .collected
            .get(&action.name)
            .is_some_and(|m| m.contains_key(user));
        if !has_sheet {
            return Err(EngineError::NothingToReopen {
                action: action.name.clone(),
                user: user.clone(),
            });
        }
        let current = snapshot.current_states(def);
        let open_in = action.from.iter().find(|s| current.contains(s)).cloned();
        let (from, to) = match (open_in, &action.to, action.from.as_slice()) {
            (Some(state), _, _) => (state.clone(), state),
            // Completed: the case sits in the target it reached through this collection.
            (None, Some(target), [review])
                if current.contains(target) && completed_here(snapshot, target, review) =>
            {
                (target.clone(), review.clone())
            }
            _ => {
                return Err(EngineError::ReviewClosed {
                    action: action.name.clone(),
                });
            }
        };
        let mut next = snapshot.clone();
        if let Some(sheets) = next.collected.get_mut(&action.name) {
            sheets.remove(user);
        }
        if from != to {
            match &action.region {
                None => next.state = to.clone(),
                Some(region) => {
                    next.regions.insert(region.clone(), to.clone());
                }
            }
        }
        next.version = snapshot.version + 1;
        let mut effects = Effects::default();
        let before = deadline::active_deadlines(def, snapshot, self.calendar);
        effects.record_deadline_changes(
            &before,
            deadline::active_deadlines(def, &next, self.calendar),
        );
        Ok(Outcome {
            event: Event {
                seq: next.version,
                at: now,
                actor: Some(actor.clone()),
                kind: EventKind::SheetReopened {
                    action: action.name.clone(),
                    user: user.clone(),
                    reason: reason.trim().to_owned(),
                    from,
                    to,
                },
            },
            snapshot: next,
            effects,
            form_errors: Vec::new(),
        })
    }

    /// An assigned user steps down from the case (an expert citing a conflict of interest).
    /// Not once that user has a submission in an open collection: the province reopens it
    /// first.
    pub fn decline(
        &self,
        snapshot: &CaseSnapshot,
        actor: &Actor,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let role = actor.role.clone();
        let assigned = snapshot
            .assignments
            .get(&role)
            .is_some_and(|users| users.contains(&actor.user));
        if !assigned {
            return Err(EngineError::NotAssigned { role });
        }
        if reason.trim().chars().count() < 2 {
            return Err(EngineError::InvalidInput {
                errors: vec![FieldError {
                    pointer: "/reason".to_owned(),
                    message: "请说明回避的理由".to_owned(),
                    message_en: "give the reason for stepping down".to_owned(),
                }],
            });
        }
        let current = snapshot.current_states(self.def);
        for a in self
            .def
            .actions
            .iter()
            .filter(|a| a.collect.is_some() && a.roles.contains(&role))
        {
            let open = a.from.iter().any(|s| current.contains(s));
            if open && already_collected(snapshot, a, actor) {
                return Err(EngineError::AlreadySubmitted {
                    action: a.name.clone(),
                });
            }
        }
        let mut next = snapshot.clone();
        if let Some(users) = next.assignments.get_mut(&role) {
            users.remove(&actor.user);
        }
        next.version = snapshot.version + 1;
        Ok(Outcome {
            event: Event {
                seq: next.version,
                at: now,
                actor: Some(actor.clone()),
                kind: EventKind::Declined {
                    role,
                    reason: reason.trim().to_owned(),
                },
            },
            snapshot: next,
            effects: Effects::default(),
            form_errors: Vec::new(),
        })
    }

    /// The experiment areas (or other topics) a case works on, from the collect action's
    /// `topics` expression; empty without one, or when it gives something else than strings.
    pub fn review_topics(
        &self,
        snapshot: &CaseSnapshot,
        action: &Action,
        now: DateTime<Utc>,
    ) -> BTreeSet<String> {
        let Some(e) = &action.topics else {
            return BTreeSet::new();
        };
        let scope = Scope::new(self, snapshot, &Value::Null, now, std::iter::once(e));
        match scope.eval(e).ok().and_then(|v| v.json().ok()) {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// Rebuilds a case from its events by executing each one again.
    pub fn replay(&self, events: &[Event]) -> Result<CaseSnapshot, EngineError> {
        let mut snapshot: Option<CaseSnapshot> = None;
        for event in events {
            let mismatch = || EngineError::ReplayMismatch { seq: event.seq };
            let outcome = match (&event.kind, snapshot.as_ref(), event.actor.as_ref()) {
                (EventKind::Started { unit, vars }, None, _) => {
                    self.start(unit.clone(), vars.clone(), event.at)?
                }
                (EventKind::FormSaved { form, data }, Some(s), Some(actor)) => {
                    self.save_form(s, actor, form.as_str(), Arc::clone(data), event.at)?
                }
                (EventKind::Assigned { role, users }, Some(s), Some(actor)) => {
                    self.assign(s, actor, role.as_str(), users.clone(), event.at)?
                }
                (EventKind::ActionTaken { action, input, .. }, Some(s), Some(actor)) => {
                    self.fire(s, actor, action.as_str(), input, event.at)?
                }
                (
                    EventKind::SheetReopened {
                        action,
                        user,
                        reason,
                        ..
                    },
                    Some(s),
                    Some(actor),
                ) => self.reopen(s, actor, action.as_str(), user, reason, event.at)?,
                (EventKind::Declined { reason, .. }, Some(s), Some(actor)) => {
                    self.decline(s, actor, reason, event.at)?
                }
                _ => return Err(mismatch()),
            };
            if outcome.event != *event {
                return Err(mismatch());
            }
            snapshot = Some(outcome.snapshot);
        }
        snapshot.ok_or(EngineError::ReplayMismatch { seq: 0 })
    }

    /// Deadlines running for the case now.
    pub fn deadlines(&self, snapshot: &CaseSnapshot) -> Vec<DeadlineInstance> {
        deadline::active_deadlines(self.def, snapshot, self.calendar)
    }

    /// One notification per entered state, to the roles that can act there.
    fn required_notifications(&self, entered: &[StateName]) -> Vec<Notification> {
        let mut out = Vec::new();
        for state in entered {
            let mut roles: Vec<RoleName> = Vec::new();
            for a in self.def.actions.iter().filter(|a| a.from.contains(state)) {
                for r in &a.roles {
                    if !roles.contains(r) {
                        roles.push(r.clone());
                    }
                }
            }
            if roles.is_empty() {
                continue;
            }
            let label = self
                .def
                .state(state.as_str())
                .map(|s| s.label.clone())
                .unwrap_or_default();
            out.push(Notification {
                roles,
                kind: NotificationKind::ActionRequired {
                    state: state.clone(),
                    label,
                },
            });
        }
        out
    }
}

/// Whether the case reached `target` from `review` and stayed: it entered `target` after it
/// last entered `review`.
fn completed_here(snapshot: &CaseSnapshot, target: &StateName, review: &StateName) -> bool {
    match (snapshot.entered.get(target), snapshot.entered.get(review)) {
        (Some(t), Some(r)) => t >= r,
        _ => false,
    }
}

/// Records the actor's submission to a collect action in `next`; whether the collection is now
/// complete. Only submissions from users assigned to the action's roles count.
fn record_submission(
    next: &mut CaseSnapshot,
    action: &Action,
    completion: Completion,
    actor: &Actor,
    input: &Value,
) -> bool {
    let submissions = next.collected.entry(action.name.clone()).or_default();
    submissions.insert(actor.user.clone(), input.clone());
    let assigned: BTreeSet<&UserId> = action
        .roles
        .iter()
        .filter_map(|r| next.assignments.get(r))
        .flatten()
        .collect();
    let done = submissions.keys().filter(|u| assigned.contains(u)).count();
    match completion {
        Completion::All => !assigned.is_empty() && done == assigned.len(),
        Completion::Quorum(n) => done >= usize::try_from(n).unwrap_or(usize::MAX),
    }
}

fn already_collected(snapshot: &CaseSnapshot, action: &Action, actor: &Actor) -> bool {
    action.collect.is_some()
        && snapshot
            .collected
            .get(&action.name)
            .is_some_and(|m| m.contains_key(&actor.user))
}

/// The refusal for a gated action whose deadline has passed, if any.
fn passed_gate(
    def: &Definition,
    deadlines: &[DeadlineInstance],
    action: &ActionName,
    now: DateTime<Utc>,
) -> Option<EngineError> {
    let d = deadlines
        .iter()
        .find(|d| d.gates.contains(action) && now > d.due)?;
    let tz = def.timezone;
    let due_local = deadline::local_text(tz, d.due);
    let next_due_local = d.next_due.map(|t| deadline::local_text(tz, t));
    let template = def
        .deadline(d.name.as_str())
        .and_then(|x| x.gate_message.clone())
        .unwrap_or_else(|| match next_due_local {
            Some(_) => {
                "「{label}」已于 {due}(北京时间)截止;下一轮将于 {next_due} 截止。".to_owned()
            }
            None => "「{label}」已于 {due}(北京时间)截止。".to_owned(),
        });
    let message = template
        .replace("{label}", &d.label)
        .replace("{due}", &due_local)
        .replace("{next_due}", next_due_local.as_deref().unwrap_or("-"));
    Some(EngineError::DeadlinePassed {
        deadline: d.name.clone(),
        due: d.due,
        due_local,
        next_due_local,
        message,
    })
}

fn normalise_input(action: &Action, input: &Value) -> Result<Value, EngineError> {
    match &action.input {
        Some(schema) => {
            if schema.is_valid(input) {
                Ok(input.clone())
            } else {
                Err(EngineError::InvalidInput {
                    errors: schema.errors(input),
                })
            }
        }
        None => match input {
            Value::Null => Ok(Value::Null),
            Value::Object(m) if m.is_empty() => Ok(Value::Null),
            _ => Err(EngineError::InvalidInput {
                errors: vec![FieldError {
                    pointer: String::new(),
                    message: format!("「{}」操作不需要填写内容", action.label),
                    message_en: format!("action `{}` takes no input", action.name),
                }],
            }),
        },
    }
}

/// Starts every region whose main state has just become one it runs in.
fn start_regions(
    def: &Definition,
    snapshot: &mut CaseSnapshot,
    now: DateTime<Utc>,
) -> Vec<StateName> {
    let mut entered = Vec::new();
    for (name, region) in &def.regions {
        if region.active_in.contains(&snapshot.state) && !snapshot.regions.contains_key(name) {
            snapshot
                .regions
                .insert(name.clone(), region.initial.clone());
            snapshot.entered.insert(region.initial.clone(), now);
            clear_collections(def, snapshot, &region.initial);
            entered.push(region.initial.clone());
        }
    }
    entered
}

/// Entering a state opens a fresh round of every collect action that starts from it.
fn clear_collections(def: &Definition, snapshot: &mut CaseSnapshot, state: &StateName) {
    for a in def
        .actions
        .iter()
        .filter(|a| a.collect.is_some() && a.from.contains(state))
    {
        snapshot.collected.remove(&a.name);
    }
}

fn cel_to_json(ty: VarType, v: &CelValue) -> Option<Value> {
    match (ty, v) {
        (_, CelValue::Null) => Some(Value::Null),
        (VarType::Timestamp, CelValue::Timestamp(t)) => Some(Value::from(
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        )),
        (VarType::Int, CelValue::Int(i)) => Some(Value::from(*i)),
        (VarType::Int, CelValue::UInt(u)) => i64::try_from(*u).ok().map(Value::from),
        (VarType::Bool, CelValue::Bool(b)) => Some(Value::from(*b)),
        (VarType::String, CelValue::String(s)) => Some(Value::from(s.as_str())),
        (VarType::Json, other) => other.json().ok(),
        _ => None,
    }
}

/// The CEL variables for one evaluation, built once per command with just the names its
/// expressions read.
struct Scope {
    ctx: cel::Context<'static, 'static>,
}

impl Scope {
    fn new<'e>(
        engine: &Engine<'_>,
        snapshot: &CaseSnapshot,
        input: &Value,
        now: DateTime<Utc>,
        exprs: impl Iterator<Item = &'e Expr>,
    ) -> Self {
        let def = engine.def;
        let exprs: Vec<&Expr> = exprs.collect();
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for e in &exprs {
            names.extend(e.names().iter().map(String::as_str));
        }
        let mut ctx = expr::new_context(def.timezone, |f| exprs.iter().any(|e| e.uses_function(f)));
        for name in names {
            let value = match name {
                "now" => expr::timestamp(now),
                "input" => expr::json_to_cel(input),
                "state" => CelValue::String(snapshot.state.as_str().to_owned().into()),
                "forms" => {
                    let map: BTreeMap<String, CelValue> = def
                        .forms
                        .keys()
                        .filter(|f| exprs.iter().any(|e| e.reads_form(f.as_str())))
                        .map(|f| {
                            let v = snapshot
                                .forms
                                .get(f)
                                .map_or(CelValue::Null, |v| expr::json_to_cel(v));
                            (f.as_str().to_owned(), v)
                        })
                        .collect();
                    map_value(map)
                }
                "unit" => map_value(BTreeMap::from([
                    (
                        "code".to_owned(),
                        CelValue::String(snapshot.unit.code.clone().into()),
                    ),
                    (
                        "name".to_owned(),
                        CelValue::String(snapshot.unit.name.clone().into()),
                    ),
                    (
                        "level".to_owned(),
                        CelValue::String(snapshot.unit.level.as_str().to_owned().into()),
                    ),
                    (
                        "national_zone".to_owned(),
                        CelValue::Bool(snapshot.unit.national_zone),
                    ),
                ])),
                "deadlines" => map_value(
                    def.deadlines
                        .iter()
                        .filter_map(|d| {
                            deadline::instance(def, d, snapshot, engine.calendar)
                                .map(|i| (d.name.as_str().to_owned(), expr::timestamp(i.due)))
                        })
                        .collect(),
                ),
                "assigned" => map_value(
                    def.roles
                        .iter()
                        .filter(|(_, r)| r.binding == Binding::Assigned)
                        .map(|(name, _)| {
                            let users: Vec<CelValue> = snapshot
                                .assignments
                                .get(name)
                                .into_iter()
                                .flatten()
                                .map(|u| CelValue::String(u.as_str().to_owned().into()))
                                .collect();
                            (name.as_str().to_owned(), CelValue::List(users.into()))
                        })
                        .collect(),
                ),
                "collected" => map_value(
                    snapshot
                        .collected
                        .iter()
                        .map(|(a, subs)| {
                            (
                                a.as_str().to_owned(),
                                CelValue::Int(i64::try_from(subs.len()).unwrap_or(i64::MAX)),
                            )
                        })
                        .collect(),
                ),
                var => match def.variables.get(var) {
                    Some(v) => var_value(v.ty, snapshot.vars.get(var)),
                    None => CelValue::Null,
                },
            };
            ctx.add_variable_from_value(name, value);
        }
        Self { ctx }
    }

    fn eval(&self, e: &Expr) -> Result<CelValue, EngineError> {
        e.eval(&self.ctx)
            .map_err(|message| EngineError::EvaluationFailed { message })
    }

    /// Messages of the guards that do not hold.
    fn failing<'g>(
        &self,
        guards: impl IntoIterator<Item = &'g Guard>,
    ) -> Result<Vec<String>, EngineError> {
        let mut failed = Vec::new();
        for g in guards {
            match self.eval(&g.expr)? {
                CelValue::Bool(true) => {}
                CelValue::Bool(false) => failed.push(g.message.clone()),
                other => {
                    return Err(EngineError::EvaluationFailed {
                        message: format!(
                            "guard `{}` gave {other:?} instead of true or false",
                            g.expr.source
                        ),
                    });
                }
            }
        }
        Ok(failed)
    }
}

fn map_value(map: BTreeMap<String, CelValue>) -> CelValue {
    let converted: std::collections::HashMap<cel::objects::Key, CelValue> = map
        .into_iter()
        .map(|(k, v)| (cel::objects::Key::from(k), v))
        .collect();
    CelValue::Map(cel::objects::Map {
        map: converted.into(),
    })
}

fn var_value(ty: VarType, v: Option<&Value>) -> CelValue {
    let Some(v) = v else {
        return CelValue::Null;
    };
    match ty {
        VarType::Timestamp => v
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map_or(CelValue::Null, CelValue::Timestamp),
        _ => expr::json_to_cel(v),
    }
}
