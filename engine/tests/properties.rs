//! Random sequences of commands by random actors: the engine never panics, never leaves the
//! declared states, accepts only what the actor was offered, and replays to the same snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use pilotflow_engine::definition::StateKind;
use pilotflow_engine::{Actor, EngineError, UserId};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Step {
    /// Any actor, any action name: mostly refusals.
    Fire {
        actor: usize,
        action: usize,
        input: InputKind,
    },
    /// One of the actions some actor is offered now, so that walks get deep into the lifecycle.
    Offered {
        actor: usize,
        action: usize,
        input: InputKind,
    },
    SaveForm {
        actor: usize,
        form: usize,
        valid: bool,
    },
    Assign {
        actor: usize,
        experts: Vec<u32>,
    },
    Wait {
        hours: i64,
    },
}

#[derive(Debug, Clone, Copy)]
enum InputKind {
    Example,
    Empty,
    Garbage,
}

fn actors() -> Vec<Actor> {
    vec![
        district(),
        city(),
        other_city(),
        province(),
        expert(1),
        expert(2),
        expert(3),
        expert(4),
    ]
}

fn action_names() -> Vec<String> {
    let mut names: Vec<String> = pilot_zone()
        .actions
        .iter()
        .map(|a| a.name.to_string())
        .collect();
    names.dedup();
    names.sort();
    names.dedup();
    names.push("no_such_action".to_owned());
    names
}

const FORMS: [&str; 3] = ["application", "experiment_plan", "final_report"];

fn step() -> impl Strategy<Value = Step> {
    let n_actions = action_names().len();
    let input = || prop_oneof![8 => Just(InputKind::Example), 1 => Just(InputKind::Empty), 1 => Just(InputKind::Garbage)];
    let district_mostly = || prop_oneof![3 => Just(0usize), 1 => 0..8usize];
    let province_mostly = || prop_oneof![3 => Just(3usize), 1 => 0..8usize];
    prop_oneof![
        3 => (0..8usize, 0..n_actions, input()).prop_map(|(actor, action, input)| Step::Fire { actor, action, input }),
        8 => (0..64usize, 0..64usize, input()).prop_map(|(actor, action, input)| Step::Offered { actor, action, input }),
        3 => (district_mostly(), 0..3usize, prop::bool::weighted(0.85)).prop_map(|(actor, form, valid)| Step::SaveForm { actor, form, valid }),
        1 => (province_mostly(), prop::collection::vec(1..5u32, 0..4)).prop_map(|(actor, experts)| Step::Assign { actor, experts }),
        1 => prop_oneof![4 => 1..72i64, 1 => 72..6000i64].prop_map(|hours| Step::Wait { hours }),
    ]
}

fn input_for(action: &str, kind: InputKind) -> Value {
    match kind {
        InputKind::Empty => json!({}),
        InputKind::Garbage => json!({"unexpected": [1, 2, 3], "year": "一"}),
        InputKind::Example => {
            let path = repo().join(format!("workflows/examples/pilot-zone/{action}.json"));
            if path.exists() {
                example(&format!("{action}.json"))
            } else {
                Value::Null
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_every_invariant(steps in prop::collection::vec(step(), 1..120)) {
        let def = pilot_zone();
        let engine = engine();
        let actors = actors();
        let names = action_names();
        let mut now = t("2026-11-23T09:00:00+08:00");
        let start = engine.start(nanguan(), Default::default(), now).unwrap();
        let mut case = start.snapshot;
        let mut events = vec![start.event];

        for step in steps {
            match step {
                Step::Wait { hours } => now += Duration::hours(hours),
                Step::Fire { .. } | Step::Offered { .. } => {
                    let (who, name, input) = match step {
                        Step::Fire { actor, action, input } => (&actors[actor], names[action].clone(), input),
                        Step::Offered { actor, action, input } => {
                            let busy: Vec<(&Actor, Vec<_>)> = actors.iter()
                                .map(|a| (a, engine.available_actions(&case, a, now)))
                                .filter(|(_, offered)| !offered.is_empty())
                                .collect();
                            if busy.is_empty() {
                                continue;
                            }
                            let (who, offered) = &busy[actor % busy.len()];
                            (*who, offered[action % offered.len()].name.to_string(), input)
                        }
                        _ => unreachable!(),
                    };
                    let name = &name;
                    let offered = engine.available_actions(&case, who, now);
                    let input = input_for(name, input);
                    match engine.fire(&case, who, name, &input, now) {
                        Ok(out) => {
                            prop_assert!(offered.iter().any(|a| a.name == name.as_str()),
                                "{name} by {} succeeded but was not offered: {offered:?}", who.user);
                            let action = def.actions_named(name)
                                .find(|a| a.from.iter().any(|s| case.is_in(def, s)))
                                .unwrap();
                            prop_assert!(action.roles.iter().any(|r| engine.binds(&case, who, r)));
                            prop_assert_eq!(out.snapshot.version, case.version + 1);
                            case = out.snapshot;
                            events.push(out.event);
                        }
                        Err(EngineError::EvaluationFailed { message }) => {
                            prop_assert!(false, "the definition failed to evaluate: {}", message);
                        }
                        Err(EngineError::UnknownAction { .. }) => prop_assert_eq!(name.as_str(), "no_such_action"),
                        Err(_) => {}
                    }
                }
                Step::SaveForm { actor, form, valid } => {
                    let data = if valid { example(&format!("forms/{}.json", FORMS[form])) } else { json!({"title": 3}) };
                    if let Ok(out) = engine.save_form(&case, &actors[actor], FORMS[form], data, now) {
                        prop_assert_eq!(valid, out.form_errors.is_empty());
                        case = out.snapshot;
                        events.push(out.event);
                    }
                }
                Step::Assign { actor, experts } => {
                    let users: BTreeSet<UserId> = experts.iter().map(|n| UserId::new(format!("expert{n:02}"))).collect();
                    if let Ok(out) = engine.assign(&case, &actors[actor], "expert", users, now) {
                        prop_assert_eq!(actors[actor].role.as_str(), "provincial_admin");
                        case = out.snapshot;
                        events.push(out.event);
                    }
                }
            }
            // Declared states only, each region in its own states.
            let main = def.state(case.state.as_str());
            prop_assert!(main.is_some_and(|s| s.region.is_none()), "undeclared main state {}", case.state);
            for (region, state) in &case.regions {
                let s = def.state(state.as_str());
                prop_assert!(s.is_some_and(|s| s.region.as_ref() == Some(region)), "{state} is not a state of {region}");
            }
            if main.is_some_and(|s| s.kind == StateKind::Terminal) {
                for who in &actors {
                    let open: Vec<_> = engine.available_actions(&case, who, now).into_iter().filter(|a| {
                        def.actions_named(a.name.as_str()).all(|x| x.region.is_none())
                    }).collect();
                    prop_assert!(open.is_empty(), "terminal state {} offers {open:?}", case.state);
                }
            }
        }
        prop_assert_eq!(engine.replay(&events).unwrap(), case);
    }
}
