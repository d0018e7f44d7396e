//! The `listing` section: the public list's states and the variables it shows.

use super::suggest::suggest;
use super::{Checker, Declared, Listing};
use crate::ids::StateName;
use crate::raw::{self, RawDefinition};

pub(super) fn check(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    declared: &Declared<'_>,
) -> Option<Listing> {
    let states = declared.states;
    let variables = declared.variables;
    raw.listing.as_ref().map(|l| {
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
    })
}
