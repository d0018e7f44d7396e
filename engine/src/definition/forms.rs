//! The `forms` section: names, who may edit each form and when, and its schema.

use super::names::{check_role, check_state, is_identifier};
use super::schemas::Schemas;
use super::{Checker, Declared, Form};
use crate::ids::{FormName, RoleName, StateName};
use crate::raw::{self, RawDefinition};
use std::collections::BTreeMap;

pub(super) fn check(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    declared: &Declared<'_>,
    schemas: &mut Schemas<'_>,
) -> BTreeMap<FormName, Form> {
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
            check_role(ck, declared.roles, r, "editable_by");
        }
        for s in &form.value.editable_in {
            check_state(
                ck,
                declared.states,
                s,
                &format!("form `{name}` editable_in"),
            );
        }
        if let Some(schema) = schemas.load(ck, &form.value.schema) {
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
    forms
}
