//! The `actions` section: transitions, roles, collection, input, required forms, guards and `set`.

use super::expressions::{expression, guard};
use super::names::{check_role, is_identifier};
use super::schemas::Schemas;
use super::suggest::suggest;
use super::{
    Action, Binding, Checker, Completion, Declared, Role, State, StateKind, Variable, scoring,
};
use crate::expr::Expr;
use crate::forms::FormSchema;
use crate::ids::{ActionName, FormName, RegionName, RoleName, StateName};
use crate::raw::{self, RawAction, RawDefinition};
use serde_saphyr::Location;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) struct Checked {
    pub(super) actions: Vec<Action>,
    /// Set when a transition names a state that does not exist; reachability is then meaningless.
    pub(super) dangling: bool,
}

pub(super) fn check(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    declared: &Declared<'_>,
    schemas: &mut Schemas<'_>,
) -> Checked {
    let mut actions = Vec::new();
    let mut transitions = Transitions {
        states: declared.states,
        seen: BTreeMap::new(),
        dangling: false,
    };
    for action in &raw.actions {
        let a = &action.value;
        let name = &a.name.value;
        if !is_identifier(name) {
            ck.at(
                a.name.referenced,
                format!("action name `{name}` must be snake_case"),
            );
        }
        let (from, region) = transitions.from(ck, a);
        let to = transitions.to(ck, a, region.as_ref());
        if to.is_none() && from.len() > 1 && a.collect.is_some() {
            ck.at(
                a.name.referenced,
                format!("collect action `{name}` needs a `to` state"),
            );
        }
        check_roles(ck, declared.roles, a);
        let collect = collection(ck, declared.roles, a);
        let input = a.input.as_ref().and_then(|p| schemas.load(ck, p));
        let review = scoring::check(ck, a, input.as_ref(), declared.variables);
        check_document(ck, a, input.as_ref());
        let requires_forms = required_forms(ck, raw, a);
        let guards = a
            .guards
            .iter()
            .filter_map(|g| guard(ck, g, declared.variables))
            .collect();
        let set = assignments(ck, a, declared.variables);
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
            scoring: review.scoring,
            topics: review.topics,
            panel_size: review.panel_size,
            notify: a
                .notify
                .iter()
                .map(|r| RoleName::new(r.value.clone()))
                .collect(),
            document: a.document.as_ref().map(|d| d.value.clone()),
        });
    }
    Checked {
        actions,
        dangling: transitions.dangling,
    }
}

/// Checks the states actions move between, across all actions of the definition.
struct Transitions<'d> {
    states: &'d BTreeMap<StateName, State>,
    /// Where each (action, from state) pair first appeared, to report a second one.
    seen: BTreeMap<(String, String), Location>,
    dangling: bool,
}

impl Transitions<'_> {
    /// The states an action starts from and the region they are in (`None`: the main lifecycle).
    fn from(
        &mut self,
        ck: &mut Checker<'_>,
        a: &RawAction,
    ) -> (Vec<StateName>, Option<RegionName>) {
        let name = &a.name.value;
        let mut from = Vec::new();
        let mut region: Option<Option<RegionName>> = None;
        for s in a.from.value.items() {
            let Some(state) = self.states.get(s) else {
                self.dangling = true;
                ck.at(
                    a.from.referenced,
                    format!(
                        "action `{name}` starts from unknown state `{s}`{}",
                        suggest(s, self.states.keys().map(StateName::as_str))
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
            if let Some(first) = self
                .seen
                .insert((name.clone(), s.to_owned()), a.name.referenced)
            {
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
        (from, region.flatten())
    }

    /// The state an action goes to, which must be in the `region` it starts from.
    fn to(
        &mut self,
        ck: &mut Checker<'_>,
        a: &RawAction,
        region: Option<&RegionName>,
    ) -> Option<StateName> {
        let name = &a.name.value;
        a.to.as_ref().map(|t| {
            match self.states.get(t.value.as_str()) {
                None => {
                    self.dangling = true;
                    ck.at(
                    t.referenced,
                    format!("action `{name}` goes to unknown state `{}`{}", t.value, suggest(&t.value, self.states.keys().map(StateName::as_str))),
                    );
                }
                Some(st) if st.region.as_ref() != region => ck.at(
                    t.referenced,
                    format!("action `{name}` goes to `{}`, which is not in the same region as the states it starts from", t.value),
                ),
                Some(_) => {}
            }
            StateName::new(t.value.clone())
        })
    }
}

/// The roles that may take the action and those it notifies.
fn check_roles(ck: &mut Checker<'_>, roles: &BTreeMap<RoleName, Role>, a: &RawAction) {
    let name = &a.name.value;
    for r in &a.roles {
        check_role(ck, roles, r, &format!("action `{name}` roles"));
    }
    if a.roles.is_empty() {
        ck.at(
            a.name.referenced,
            format!("action `{name}` names no role that may take it"),
        );
    }
    for r in &a.notify {
        check_role(ck, roles, r, &format!("action `{name}` notify"));
    }
}

/// When a collect action is complete; only assigned roles can submit to one.
fn collection(
    ck: &mut Checker<'_>,
    roles: &BTreeMap<RoleName, Role>,
    a: &RawAction,
) -> Option<Completion> {
    let name = &a.name.value;
    a.collect.as_ref().map(|c| {
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
    })
}

/// The input field that holds a document number (文号) must exist in the input schema.
fn check_document(ck: &mut Checker<'_>, a: &RawAction, input: Option<&Arc<FormSchema>>) {
    let name = &a.name.value;
    if let (Some(field), Some(schema)) = (&a.document, input)
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
}

fn required_forms(ck: &mut Checker<'_>, raw: &RawDefinition, a: &RawAction) -> Vec<FormName> {
    let name = &a.name.value;
    let mut requires_forms = Vec::new();
    for f in &a.requires_forms {
        // Checked against the file, not the compiled forms: a form whose schema failed is
        // reported there, not here.
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
    requires_forms
}

/// The action's `set`: each names a declared variable and gives a valid expression.
fn assignments(
    ck: &mut Checker<'_>,
    a: &RawAction,
    variables: &BTreeMap<String, Variable>,
) -> Vec<(String, Expr)> {
    let name = &a.name.value;
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
        if let Some(e) = expression(ck, source, variables) {
            set.push((var.clone(), e));
        }
    }
    set
}
