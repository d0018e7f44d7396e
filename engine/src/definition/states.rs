//! The lifecycle: `states` of the main lifecycle and of each parallel region, and `regions`.

use super::names::is_identifier;
use super::suggest::suggest;
use super::{Checker, Region, State, StateKind};
use crate::ids::{RegionName, StateName};
use crate::raw::{self, RawDefinition};
use serde_saphyr::Location;
use std::collections::BTreeMap;

pub(super) struct Lifecycle {
    /// Every state, main and regional: they share one namespace.
    pub(super) states: BTreeMap<StateName, State>,
    /// The main lifecycle's initial state, unless there is not exactly one.
    pub(super) initial: Option<StateName>,
    /// The regions with exactly one initial state.
    pub(super) regions: BTreeMap<RegionName, Region>,
}

pub(super) fn check(raw: &RawDefinition, ck: &mut Checker<'_>) -> Lifecycle {
    let mut states: BTreeMap<StateName, State> = BTreeMap::new();
    let initial = collect_states(ck, &raw.states, None, &mut states, "the main lifecycle");
    let regions = regions(raw, ck, &mut states);
    Lifecycle {
        states,
        initial,
        regions,
    }
}

/// Checks each region and adds its states to `states`.
fn regions(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    states: &mut BTreeMap<StateName, State>,
) -> BTreeMap<RegionName, Region> {
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
            states,
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
    regions
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
