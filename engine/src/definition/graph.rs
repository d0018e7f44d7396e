//! The lifecycle as a graph: unreachable states and dead ends.

use super::states::Lifecycle;
use super::{Action, Checker, StateKind};
use crate::ids::StateName;
use crate::raw::{self, RawDefinition};
use serde_saphyr::Location;
use std::collections::{BTreeSet, VecDeque};

/// Reports states no action path reaches from an initial state, and non-terminal states that
/// no action leaves.
pub(super) fn check(
    ck: &mut Checker<'_>,
    raw: &RawDefinition,
    lifecycle: &Lifecycle,
    actions: &[Action],
) {
    let Lifecycle {
        states,
        initial: main_initial,
        regions,
    } = lifecycle;
    let mut queue: VecDeque<&StateName> = regions.values().map(|r| &r.initial).collect();
    queue.extend(main_initial);
    let mut reached: BTreeSet<&StateName> = BTreeSet::new();
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
