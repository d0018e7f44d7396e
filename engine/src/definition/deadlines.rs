//! The `deadlines` section: what each is due from, when it runs, what it gates, whom it tells.

use super::names::{check_role, check_state, is_identifier};
use super::suggest::suggest;
use super::{Action, Checker, Deadline, Declared, Due, DueBase, Offset, VarType};
use crate::ids::{ActionName, DeadlineName, RoleName, StateName};
use crate::raw::{self, RawDeadline, RawDefinition, Sp};

/// `actions` are the checked actions, for gates that could never refuse anything.
pub(super) fn check(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    declared: &Declared<'_>,
    actions: &[Action],
) -> Vec<Deadline> {
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
        // Without a base the deadline has no due time; its other checks would only add noise.
        let Some(base) = due_base(raw, ck, declared, name, d) else {
            continue;
        };
        for s in &dv.active_in {
            check_state(
                ck,
                declared.states,
                s,
                &format!("deadline `{name}` active_in"),
            );
        }
        check_gates(raw, ck, actions, name, dv);
        let (remind_days_before, remind_to) = match &dv.remind {
            Some(r) => {
                for role in &r.to {
                    check_role(
                        ck,
                        declared.roles,
                        role,
                        &format!("deadline `{name}` remind.to"),
                    );
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
            check_role(
                ck,
                declared.roles,
                role,
                &format!("deadline `{name}` escalate_to"),
            );
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
    deadlines
}

/// What the deadline is due from: exactly one of the round cutoff, a timestamp variable or
/// entering a state. `None` when `due` does not name exactly one.
fn due_base(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    declared: &Declared<'_>,
    name: &str,
    d: &Sp<RawDeadline>,
) -> Option<DueBase> {
    let dv = &d.value;
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
            return None;
        }
    };
    match &base {
        // A `round` section whose cutoff is invalid is reported there, not here.
        DueBase::RoundCutoff if raw.round.is_none() => ck.at(
            d.referenced,
            format!("deadline `{name}` is due at the round cutoff, but the definition has no `round` section"),
        ),
        DueBase::Variable(v) => {
            let loc = dv.due.variable.as_ref().map_or(d.referenced, |s| s.referenced);
            match declared.variables.get(v) {
                None => ck.at(loc, format!("deadline `{name}` is due relative to unknown variable `{v}`{}", suggest(v, declared.variables.keys()))),
                Some(var) if var.ty != VarType::Timestamp => ck.at(
                    loc,
                    format!("deadline `{name}` is due relative to `{v}`, which is not a timestamp variable"),
                ),
                Some(_) => {}
            }
        }
        DueBase::Entered(_) => {
            if let Some(s) = &dv.due.entered {
                check_state(ck, declared.states, s, &format!("deadline `{name}` entered"));
            }
        }
        DueBase::RoundCutoff => {}
    }
    Some(base)
}

/// Each gated action must exist and be available in some state the deadline is active in.
fn check_gates(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    actions: &[Action],
    name: &str,
    dv: &RawDeadline,
) {
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
}
