//! CEL expressions and guards: each must parse and name only known functions and variables.

use super::suggest::suggest;
use super::{Checker, Guard, Variable};
use crate::expr::{BUILTIN_NAMES, CEL_FUNCTIONS, EXTRA_FUNCTIONS, Expr, is_known_function};
use crate::raw::{self, Sp};
use std::collections::BTreeMap;

pub(super) fn guard(
    ck: &mut Checker<'_>,
    g: &raw::RawGuard,
    variables: &BTreeMap<String, Variable>,
) -> Option<Guard> {
    expression(ck, &g.condition, variables).map(|expr| Guard {
        expr,
        message: g.message.clone(),
    })
}

pub(super) fn expression(
    ck: &mut Checker<'_>,
    source: &Sp<String>,
    variables: &BTreeMap<String, Variable>,
) -> Option<Expr> {
    match Expr::compile(&source.value) {
        Err(e) => {
            ck.at(
                source.referenced,
                format!("expression `{}` does not parse: {e}", source.value),
            );
            None
        }
        Ok(expr) => {
            let unknown_functions: Vec<&str> = expr
                .functions()
                .iter()
                .map(String::as_str)
                .filter(|f| !is_known_function(f))
                .collect();
            for f in &unknown_functions {
                ck.at(
                    source.referenced,
                    format!(
                        "expression `{}` calls unknown function `{f}`{}",
                        source.value,
                        suggest(f, EXTRA_FUNCTIONS.iter().chain(CEL_FUNCTIONS))
                    ),
                );
            }
            let unknown: Vec<&str> = expr
                .names()
                .iter()
                .map(String::as_str)
                .filter(|n| !variables.contains_key(*n) && !BUILTIN_NAMES.contains(n))
                .collect();
            if unknown.is_empty() && unknown_functions.is_empty() {
                return Some(expr);
            }
            for n in unknown {
                ck.at(
                    source.referenced,
                    format!(
                        "expression `{}` names unknown variable `{n}`{}",
                        source.value,
                        suggest(
                            n,
                            variables
                                .keys()
                                .map(String::as_str)
                                .chain(BUILTIN_NAMES.iter().copied())
                        )
                    ),
                );
            }
            None
        }
    }
}
