//! Name rules shared by every section: snake_case names and references to declared ones.

use super::suggest::suggest;
use super::{Checker, Role, State};
use crate::ids::{RoleName, StateName};
use crate::raw::Sp;
use std::collections::BTreeMap;

pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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

pub(super) fn check_role(
    ck: &mut Checker<'_>,
    roles: &BTreeMap<RoleName, Role>,
    r: &Sp<String>,
    what: &str,
) {
    check_declared(ck, roles, r, what, "role");
}

pub(super) fn check_state(
    ck: &mut Checker<'_>,
    states: &BTreeMap<StateName, State>,
    s: &Sp<String>,
    what: &str,
) {
    check_declared(ck, states, s, what, "state");
}
