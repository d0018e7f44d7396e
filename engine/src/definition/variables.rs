//! The `variables` section: names, types and initial values, plus the implicit `round`.

use super::names::is_identifier;
use super::{Checker, VarType, Variable};
use crate::expr::BUILTIN_NAMES;
use crate::raw::{self, RawDefinition};
use std::collections::BTreeMap;

/// `has_round`: the definition has a valid round cutoff, so cases get a `round` variable.
pub(super) fn check(
    raw: &RawDefinition,
    ck: &mut Checker<'_>,
    has_round: bool,
) -> BTreeMap<String, Variable> {
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
    if has_round && !variables.contains_key("round") {
        variables.insert(
            "round".to_owned(),
            Variable {
                ty: VarType::Int,
                label: Some("申报轮次".to_owned()),
                initial: None,
            },
        );
    }
    variables
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
