//! Expert review rules: aggregation on worked examples, ranking, recusal, balanced assignment
//! (with a property test over random pools), and reopening or declining through the engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use pilotflow_engine::review::{
    self, Aggregate, Criterion, Expert, Method, Recusal, ReviewCase, Rubric, Scoring,
};
use pilotflow_engine::{EngineError, EventKind, UserId};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

fn scoring(method: Method, dispersion: Option<f64>) -> Scoring {
    Scoring {
        method,
        dispersion,
        rubric: Rubric {
            criteria: vec![
                Criterion {
                    key: "a".into(),
                    title: "甲".into(),
                    max: 40.0,
                    weight: Some(0.5),
                },
                Criterion {
                    key: "b".into(),
                    title: "乙".into(),
                    max: 60.0,
                    weight: Some(0.5),
                },
            ],
        },
    }
}

fn close(a: Option<f64>, b: f64) {
    let a = a.expect("a score");
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn trimmed_mean_drops_the_extremes_from_five_sheets_on() {
    let s = scoring(Method::TrimmedMean, None);
    // Five sheets: 60 and 95 are dropped, (70 + 80 + 90) / 3 = 80.
    let five = review::aggregate(&s, &[80.0, 95.0, 60.0, 90.0, 70.0]);
    close(five.score, 80.0);
    assert_eq!((five.sheets, five.counted), (5, 3));
    // Four sheets: nothing is dropped, (60 + 70 + 90 + 95) / 4 = 78.75.
    let four = review::aggregate(&s, &[60.0, 95.0, 90.0, 70.0]);
    close(four.score, 78.75);
    assert_eq!((four.sheets, four.counted), (4, 4));
    // The plain mean never drops: (80 + 95 + 60 + 90 + 70) / 5 = 79.
    close(
        review::aggregate(
            &scoring(Method::Mean, None),
            &[80.0, 95.0, 60.0, 90.0, 70.0],
        )
        .score,
        79.0,
    );
}

#[test]
fn the_weighted_total_weighs_each_criterion_as_a_share_of_its_maximum() {
    let s = scoring(Method::WeightedTotal, None);
    let sheet = json!({"scores": {"a": 20, "b": 60}});
    // a: 20/40 × 0.5 × 100 = 25; b: 60/60 × 0.5 × 100 = 50. Points alone would be 80.
    close(
        review::sheet_score(&s.rubric, Method::WeightedTotal, &sheet),
        75.0,
    );
    close(review::sheet_score(&s.rubric, Method::Mean, &sheet), 80.0);
    let other = json!({"scores": {"a": 40, "b": 30}});
    close(
        review::sheet_score(&s.rubric, Method::WeightedTotal, &other),
        75.0,
    );
    close(review::aggregate(&s, &[75.0, 75.0]).score, 75.0);
    // A sheet missing a criterion has no score.
    assert_eq!(
        review::sheet_score(&s.rubric, Method::Mean, &json!({"scores": {"a": 1}})),
        None
    );
}

#[test]
fn a_spread_beyond_the_threshold_is_flagged() {
    let s = scoring(Method::Mean, Some(20.0));
    let tight = review::aggregate(&s, &[70.0, 80.0, 90.0]);
    assert_eq!(tight.spread, Some(20.0));
    assert!(
        !tight.dispersed,
        "a spread equal to the threshold is not flagged"
    );
    let wide = review::aggregate(&s, &[65.0, 80.0, 90.0]);
    assert!(wide.dispersed);
    let none: Aggregate = review::aggregate(&s, &[]);
    assert_eq!(
        (none.score, none.spread, none.dispersed),
        (None, None, false)
    );
}

#[test]
fn ranking_shares_places_and_skips_after_a_tie() {
    let ranks = review::rank(&[Some(80.0), Some(91.5), None, Some(80.0), Some(70.25)]);
    assert_eq!(ranks, vec![Some(2), Some(1), None, Some(2), Some(4)]);
}

#[test]
fn the_pilot_zone_rubrics_come_from_the_score_sheet_schemas() {
    let def = pilot_zone();
    let score = def.actions_named("score").next().unwrap();
    let s = score.scoring.as_ref().unwrap();
    assert_eq!(s.method, Method::TrimmedMean);
    assert_eq!(s.dispersion, Some(20.0));
    let keys: Vec<&str> = s.rubric.criteria.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "innovation",
            "feasibility",
            "foundation",
            "guarantees",
            "demonstration"
        ]
    );
    assert_eq!(s.rubric.full_marks(Method::TrimmedMean), 100.0);
    assert_eq!(score.panel_size, Some(5));
    // The example sheet: 22 + 21 + 18 + 13 + 13.
    close(
        review::sheet_score(&s.rubric, s.method, &example("score.json")),
        87.0,
    );
    let acceptance = def.actions_named("acceptance_score").next().unwrap();
    assert_eq!(
        acceptance.scoring.as_ref().unwrap().method,
        Method::WeightedTotal
    );
}

fn expert_at(name: &str, unit: &str, parent: Option<&str>, areas: &[&str]) -> Expert {
    Expert {
        username: name.into(),
        affiliation: unit.into(),
        affiliation_parent: parent.map(str::to_owned),
        conflicts: BTreeSet::new(),
        expertise: areas.iter().map(|a| a.to_string()).collect(),
    }
}

fn case_of(id: &str, unit: &str, parent: &str, areas: &[&str]) -> ReviewCase {
    ReviewCase {
        id: id.into(),
        unit: unit.into(),
        unit_parent: Some(parent.into()),
        topics: areas.iter().map(|a| a.to_string()).collect(),
    }
}

#[test]
fn recusal_covers_the_unit_its_city_its_districts_and_declared_conflicts() {
    let nanguan = case_of("c1", "220102", "220100", &[]);
    let changchun_city = case_of("c2", "220100", "220000", &[]);
    let expert01 = expert_at("expert01", "220100", Some("220000"), &[]);
    assert_eq!(
        review::recusal(&expert01, &nanguan),
        Some(Recusal::SupervisingUnit)
    );
    assert_eq!(
        review::recusal(&expert01, &changchun_city),
        Some(Recusal::SameUnit)
    );
    let from_nanguan = expert_at("e", "220102", Some("220100"), &[]);
    assert_eq!(
        review::recusal(&from_nanguan, &nanguan),
        Some(Recusal::SameUnit)
    );
    assert_eq!(
        review::recusal(&from_nanguan, &changchun_city),
        Some(Recusal::SubordinateUnit)
    );
    let province = expert_at("expert10", "220000", None, &[]);
    assert_eq!(review::recusal(&province, &nanguan), None);
    let jilin = expert_at("expert04", "220200", Some("220000"), &[]);
    assert_eq!(review::recusal(&jilin, &nanguan), None);
    let mut declared = jilin;
    declared.conflicts.insert("220102".into());
    assert_eq!(
        review::recusal(&declared, &nanguan),
        Some(Recusal::DeclaredConflict {
            unit: "220102".into()
        })
    );
    let message = Recusal::SupervisingUnit.message_zh("expert01", "长春市", "南关区");
    assert!(
        message.contains("expert01") && message.contains("回避"),
        "{message}"
    );
}

#[test]
fn bulk_assignment_balances_loads_and_matches_areas() {
    let experts: Vec<Expert> = (1..=4)
        .map(|n| {
            let areas: &[&str] = if n <= 2 {
                &["party_building"]
            } else {
                &["service_capacity"]
            };
            expert_at(&format!("e{n}"), "220000", None, areas)
        })
        .collect();
    let cases: Vec<ReviewCase> = (0..6)
        .map(|i| {
            let area = if i % 2 == 0 {
                "party_building"
            } else {
                "service_capacity"
            };
            case_of(&format!("c{i}"), "220102", "220100", &[area])
        })
        .collect();
    let panels = review::assign_panels(&cases, &experts, 2, &[0; 4]).unwrap();
    // 12 places over 4 experts: 3 each.
    assert_eq!(panels.loads, vec![3, 3, 3, 3]);
    for (i, panel) in panels.panels.iter().enumerate() {
        let wanted = if i % 2 == 0 { [0, 1] } else { [2, 3] };
        assert_eq!(panel, &wanted, "case c{i} gets the experts of its area");
    }
    // Existing loads count: the two already busy experts get fewer new cases.
    let uneven = review::assign_panels(&cases, &experts, 2, &[2, 2, 0, 0]).unwrap();
    let spread = uneven.loads.iter().max().unwrap() - uneven.loads.iter().min().unwrap();
    assert!(spread <= 1, "{:?}", uneven.loads);
}

#[test]
fn bulk_assignment_says_which_case_lacks_experts() {
    let experts = vec![
        expert_at("e1", "220100", Some("220000"), &[]),
        expert_at("e2", "220000", None, &[]),
    ];
    let cases = vec![case_of("nanguan", "220102", "220100", &[])];
    assert_eq!(
        review::assign_panels(&cases, &experts, 2, &[0, 0]),
        Err(review::AssignError::TooFewEligible {
            case: "nanguan".into(),
            eligible: 1,
            needed: 2
        })
    );
}

const UNITS: [(&str, Option<&str>); 7] = [
    ("220000", None),
    ("220100", Some("220000")),
    ("220102", Some("220100")),
    ("220103", Some("220100")),
    ("220200", Some("220000")),
    ("220202", Some("220200")),
    ("222401", Some("222400")),
];

fn pool() -> impl Strategy<Value = (Vec<Expert>, Vec<ReviewCase>, usize)> {
    let expert = (
        0..UNITS.len(),
        proptest::collection::btree_set(2..UNITS.len(), 0..2),
    );
    let case = 1..UNITS.len();
    (
        proptest::collection::vec(expert, 2..8),
        proptest::collection::vec(case, 1..7),
        1..4usize,
    )
        .prop_map(|(experts, cases, per_case)| {
            let experts = experts
                .into_iter()
                .enumerate()
                .map(|(i, (u, conflicts))| Expert {
                    username: format!("e{i}"),
                    affiliation: UNITS[u].0.into(),
                    affiliation_parent: UNITS[u].1.map(str::to_owned),
                    conflicts: conflicts
                        .into_iter()
                        .map(|c| UNITS[c].0.to_owned())
                        .collect(),
                    expertise: BTreeSet::new(),
                })
                .collect();
            let cases = cases
                .into_iter()
                .enumerate()
                .map(|(i, u)| ReviewCase {
                    id: format!("c{i}"),
                    unit: UNITS[u].0.into(),
                    unit_parent: UNITS[u].1.map(str::to_owned),
                    topics: BTreeSet::new(),
                })
                .collect();
            (experts, cases, per_case)
        })
}

/// The smallest sum of squared loads any valid assignment reaches (exhaustive search).
fn best_balance(experts: &[Expert], cases: &[ReviewCase], per_case: usize) -> Option<usize> {
    fn go(
        i: usize,
        experts: &[Expert],
        cases: &[ReviewCase],
        per_case: usize,
        loads: &mut Vec<usize>,
        best: &mut Option<usize>,
    ) {
        if i == cases.len() {
            let cost = loads.iter().map(|l| l * l).sum();
            if best.is_none_or(|b| cost < b) {
                *best = Some(cost);
            }
            return;
        }
        let eligible: Vec<usize> = (0..experts.len())
            .filter(|&e| review::recusal(&experts[e], &cases[i]).is_none())
            .collect();
        let mut pick = Vec::new();
        fn choose(from: &[usize], k: usize, pick: &mut Vec<usize>, out: &mut dyn FnMut(&[usize])) {
            if k == 0 {
                out(pick);
                return;
            }
            for (j, &e) in from.iter().enumerate() {
                pick.push(e);
                choose(&from[j + 1..], k - 1, pick, out);
                pick.pop();
            }
        }
        let mut options = Vec::new();
        choose(&eligible, per_case, &mut pick, &mut |p| {
            options.push(p.to_vec())
        });
        for option in options {
            for &e in &option {
                loads[e] += 1;
            }
            go(i + 1, experts, cases, per_case, loads, best);
            for &e in &option {
                loads[e] -= 1;
            }
        }
    }
    let mut best = None;
    go(
        0,
        experts,
        cases,
        per_case,
        &mut vec![0; experts.len()],
        &mut best,
    );
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Over random pools and applicants: nobody who must recuse themselves is ever assigned,
    /// every case gets its number of distinct experts, and the loads are as even as any valid
    /// assignment could make them (checked against an exhaustive search).
    #[test]
    fn recusal_is_never_broken_and_loads_are_as_even_as_possible(
        (experts, cases, per_case) in pool()
    ) {
        let result = review::assign_panels(&cases, &experts, per_case, &vec![0; experts.len()]);
        let best = best_balance(&experts, &cases, per_case);
        match result {
            Err(review::AssignError::TooFewEligible { case, .. }) => {
                prop_assert!(best.is_none(), "refused {case} though an assignment exists");
            }
            Ok(panels) => {
                for (case, panel) in cases.iter().zip(&panels.panels) {
                    prop_assert_eq!(panel.len(), per_case);
                    let distinct: BTreeSet<_> = panel.iter().collect();
                    prop_assert_eq!(distinct.len(), per_case);
                    for &e in panel {
                        prop_assert_eq!(review::recusal(&experts[e], case), None);
                    }
                }
                let mut loads = vec![0usize; experts.len()];
                for &e in panels.panels.iter().flatten() {
                    loads[e] += 1;
                }
                prop_assert_eq!(&loads, &panels.loads);
                let cost: usize = loads.iter().map(|l| l * l).sum();
                prop_assert_eq!(Some(cost), best);
            }
        }
    }
}

/// A case in expert review with experts 10–12 assigned.
fn in_review() -> Driver {
    let mut d = Driver::drafted("2026-11-23T09:00:00+08:00");
    d.fire(&district(), "submit", "2027-03-01T09:00:00+08:00");
    d.fire(&city(), "forward", "2027-03-10T09:00:00+08:00");
    d.fire(&province(), "start_review", "2027-03-15T09:00:00+08:00");
    d.assign_experts(&[10, 11, 12], "2027-03-15T10:00:00+08:00");
    d
}

fn reopen(d: &mut Driver, n: u32, reason: &str) -> Result<(), EngineError> {
    let out = d.engine.reopen(
        &d.case,
        &province(),
        "score",
        &UserId::new(format!("expert{n:02}")),
        reason,
        t("2027-03-21T09:00:00+08:00"),
    )?;
    d.case = out.snapshot;
    d.events.push(out.event);
    Ok(())
}

#[test]
fn the_province_reopens_a_sheet_while_the_review_is_open_and_after_it_completed() {
    let mut d = in_review();
    d.fire(&expert(10), "score", "2027-03-20T09:00:00+08:00");
    assert!(matches!(
        reopen(&mut d, 11, "分数录入有误"),
        Err(EngineError::NothingToReopen { .. })
    ));
    assert!(matches!(
        reopen(&mut d, 10, " "),
        Err(EngineError::InvalidInput { .. })
    ));
    reopen(&mut d, 10, "分数录入有误,请重新评分").unwrap();
    assert_eq!(d.state(), "expert_review");
    d.fire(&expert(10), "score", "2027-03-21T10:00:00+08:00");
    d.fire(&expert(11), "score", "2027-03-21T10:00:00+08:00");
    d.fire(&expert(12), "score", "2027-03-21T10:00:00+08:00");
    assert_eq!(d.state(), "decision");
    // Completed: reopening one sheet takes the case back to the review, with the others kept.
    reopen(&mut d, 12, "评审意见与分数不符").unwrap();
    assert_eq!(d.state(), "expert_review");
    assert_eq!(d.case.collected["score"].len(), 2);
    assert!(matches!(
        d.events.last().map(|e| &e.kind),
        Some(EventKind::SheetReopened { from, to, .. }) if from == "decision" && to == "expert_review"
    ));
    // Only the province may.
    let refused = d.engine.reopen(
        &d.case,
        &expert(10),
        "score",
        &UserId::new("expert11"),
        "想改",
        t("2027-03-22T09:00:00+08:00"),
    );
    assert!(matches!(refused, Err(EngineError::ActionNotAllowed { .. })));
    d.fire(&expert(12), "score", "2027-03-22T10:00:00+08:00");
    d.fire(&province(), "confirm", "2027-04-01T10:00:00+08:00");
    // Once decided, the review is closed.
    assert!(matches!(
        reopen(&mut d, 10, "再改一次"),
        Err(EngineError::ReviewClosed { .. })
    ));
    assert_eq!(d.engine.replay(&d.events).unwrap(), d.case);
}

#[test]
fn an_expert_declines_before_scoring_and_leaves_the_panel() {
    let mut d = in_review();
    let out = d
        .engine
        .decline(
            &d.case,
            &expert(11),
            "本人曾参与该区实验方案的起草",
            t("2027-03-16T09:00:00+08:00"),
        )
        .unwrap();
    d.case = out.snapshot;
    d.events.push(out.event);
    assert!(!d.case.assignments["expert"].contains(&UserId::new("expert11")));
    assert!(matches!(
        d.engine
            .decline(&d.case, &expert(11), "再次", t("2027-03-16T10:00:00+08:00")),
        Err(EngineError::NotAssigned { .. })
    ));
    d.fire(&expert(10), "score", "2027-03-20T09:00:00+08:00");
    assert!(matches!(
        d.engine.decline(
            &d.case,
            &expert(10),
            "评分后才发现",
            t("2027-03-20T10:00:00+08:00")
        ),
        Err(EngineError::AlreadySubmitted { .. })
    ));
    // The two left complete the review.
    d.fire(&expert(12), "score", "2027-03-20T11:00:00+08:00");
    assert_eq!(d.state(), "decision");
    assert_eq!(d.engine.replay(&d.events).unwrap(), d.case);
}

#[test]
fn the_review_topics_are_the_plans_experiment_areas() {
    let d = in_review();
    let score = pilot_zone().actions_named("score").next().unwrap();
    let topics = d
        .engine
        .review_topics(&d.case, score, t("2027-03-15T10:00:00+08:00"));
    let plan = example("forms/experiment_plan.json");
    let expected: BTreeSet<String> = plan["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(topics, expected);
}
