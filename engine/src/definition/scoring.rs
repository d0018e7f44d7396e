//! A collect action's `scoring`: its score sheet's rubric, the topics and the panel size.

use super::expressions::expression;
use super::{Checker, Variable};
use crate::expr::Expr;
use crate::forms::FormSchema;
use crate::raw::{self, RawAction};
use crate::review::{Method, Rubric, Scoring};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a collect action's `scoring` block gives bulk assignment and scoring.
pub(super) struct Review {
    pub(super) scoring: Option<Scoring>,
    pub(super) topics: Option<Expr>,
    pub(super) panel_size: Option<u32>,
}

/// `input` is the action's compiled input schema (the score sheet), if it loaded.
pub(super) fn check(
    ck: &mut Checker<'_>,
    a: &RawAction,
    input: Option<&Arc<FormSchema>>,
    variables: &BTreeMap<String, Variable>,
) -> Review {
    let name = &a.name.value;
    let scoring_spec = a.collect.as_ref().and_then(|c| c.scoring.as_ref());
    let scoring = scoring_spec.and_then(|sc| {
        let method = match sc.value.method.value {
            raw::RawMethod::Mean => Method::Mean,
            raw::RawMethod::WeightedTotal => Method::WeightedTotal,
            raw::RawMethod::TrimmedMean => Method::TrimmedMean,
        };
        let Some(schema) = input else {
            // A schema that failed to load has been reported already.
            if a.input.is_none() {
                ck.at(
                    sc.referenced,
                    format!("action `{name}` scores sheets, so it needs an `input` schema (the score sheet)"),
                );
            }
            return None;
        };
        let rubric =
            Rubric::from_schema(&schema.document).and_then(|r| r.check_for(method).map(|()| r));
        match rubric {
            Ok(rubric) => Some(Scoring {
                method,
                dispersion: sc.value.dispersion.as_ref().map(|d| d.value),
                rubric,
            }),
            Err(why) => {
                let at = a.input.as_ref().map_or(sc.referenced, |p| p.referenced);
                ck.at(at, format!("score sheet of action `{name}`: {why}"));
                None
            }
        }
    });
    let topics = scoring_spec
        .and_then(|sc| sc.value.topics.as_ref())
        .and_then(|t| expression(ck, t, variables));
    let panel_size = scoring_spec
        .and_then(|sc| sc.value.panel_size.as_ref())
        .map(|p| {
            if p.value == 0 {
                ck.at(p.referenced, "a panel needs at least one expert");
            }
            p.value
        });
    Review {
        scoring,
        topics,
        panel_size,
    }
}
