//! The `roles` section: names, bindings and who may assign each assigned role.

use super::names::{check_role, is_identifier};
use super::{Binding, Checker, Role};
use crate::ids::RoleName;
use crate::raw::{self, RawDefinition};
use std::collections::BTreeMap;

pub(super) fn check(raw: &RawDefinition, ck: &mut Checker<'_>) -> BTreeMap<RoleName, Role> {
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
    // Only now are all roles known: `assigned_by` may name a role declared further down.
    for role in raw.roles.values() {
        for by in &role.value.assigned_by {
            check_role(ck, &roles, by, "assigned_by");
        }
    }
    roles
}
