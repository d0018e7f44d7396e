//! Expert review as rules: the rubric a score sheet's schema declares, each sheet's score,
//! their aggregate with its flags, the ranking of a round, who must recuse themselves (回避)
//! from which case, and the balanced assignment of experts to cases. Pure functions: the
//! service gathers the sheets, the pool and the cases, and stores what these decide.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// How the sheets of one case are combined (the workflow's `collect.scoring.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The mean of the sheets' points (each sheet: the sum of its criteria).
    Mean,
    /// The mean of the sheets' weighted totals: each criterion as a share of its maximum,
    /// weighted by its `x-weight`, on a scale of 100.
    WeightedTotal,
    /// As `mean`, but with 5 or more sheets the highest and the lowest are dropped first.
    TrimmedMean,
}

impl Method {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Mean => "算术平均",
            Self::WeightedTotal => "加权总分",
            Self::TrimmedMean => "去掉一个最高分和一个最低分后平均",
        }
    }
}

/// Sheets needed before `trimmed_mean` drops the highest and the lowest.
pub const TRIM_FROM: usize = 5;

/// One criterion of a rubric: a property of the sheet's `scores` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub key: String,
    pub title: String,
    pub max: f64,
    /// `x-weight`; the weighted total needs every criterion to have one.
    pub weight: Option<f64>,
}

/// The criteria of a score sheet, in the schema's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rubric {
    pub criteria: Vec<Criterion>,
}

/// How a collect action's sheets are scored and combined.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoring {
    pub method: Method,
    /// Points of spread between the highest and the lowest sheet beyond which the case is
    /// flagged for discussion.
    pub dispersion: Option<f64>,
    pub rubric: Rubric,
}

impl Rubric {
    /// Reads the criteria from a score sheet's schema: the properties of its `scores` object,
    /// each a number or integer with a `maximum`, in the order of its `required` list. Returns
    /// what is wrong otherwise.
    pub fn from_schema(schema: &Value) -> Result<Self, String> {
        let scores = schema
            .pointer("/properties/scores/properties")
            .and_then(Value::as_object)
            .ok_or("the score sheet needs a `scores` object whose properties are the criteria")?;
        let mut criteria = Vec::new();
        for (key, c) in scores {
            let max = c
                .get("maximum")
                .and_then(Value::as_f64)
                .filter(|m| *m > 0.0)
                .ok_or_else(|| format!("criterion `{key}` needs a positive `maximum`"))?;
            let weight = match c.get("x-weight") {
                None => None,
                Some(w) => Some(w.as_f64().filter(|w| *w >= 0.0).ok_or_else(|| {
                    format!("criterion `{key}`: `x-weight` must be a number of 0 or more")
                })?),
            };
            criteria.push(Criterion {
                key: key.clone(),
                title: c
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or(key)
                    .to_owned(),
                max,
                weight,
            });
        }
        if criteria.is_empty() {
            return Err("the score sheet's `scores` object has no criteria".to_owned());
        }
        // JSON objects keep no order here, so the criteria follow the `required` list (which
        // authors write in reading order), then the rest by name.
        let order: Vec<&str> = schema
            .pointer("/properties/scores/required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        criteria.sort_by_key(|c| order.iter().position(|k| *k == c.key).unwrap_or(usize::MAX));
        Ok(Self { criteria })
    }

    /// What a method needs of the rubric: weights summing to 1 for the weighted total.
    pub fn check_for(&self, method: Method) -> Result<(), String> {
        if method != Method::WeightedTotal {
            return Ok(());
        }
        let mut sum = 0.0;
        for c in &self.criteria {
            match c.weight {
                Some(w) => sum += w,
                None => {
                    return Err(format!(
                        "the weighted total needs an `x-weight` on criterion `{}`",
                        c.key
                    ));
                }
            }
        }
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!("the criteria's weights add up to {sum}, not 1"));
        }
        Ok(())
    }

    /// The best score a sheet can have under `method`.
    pub fn full_marks(&self, method: Method) -> f64 {
        match method {
            Method::WeightedTotal => 100.0,
            Method::Mean | Method::TrimmedMean => self.criteria.iter().map(|c| c.max).sum(),
        }
    }
}

/// One sheet's score: its points (or weighted total for `weighted_total`); `None` when a
/// criterion is missing or not a number (the action's schema refuses such sheets).
pub fn sheet_score(rubric: &Rubric, method: Method, sheet: &Value) -> Option<f64> {
    let scores = sheet.get("scores")?;
    let mut total = 0.0;
    for c in &rubric.criteria {
        let points = scores.get(&c.key)?.as_f64()?;
        total += match method {
            Method::WeightedTotal => c.weight? * points / c.max * 100.0,
            Method::Mean | Method::TrimmedMean => points,
        };
    }
    Some(total)
}

/// The combined score of one case and what it is flagged for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub method: Method,
    /// `None` until there is a sheet.
    pub score: Option<f64>,
    /// Sheets submitted.
    pub sheets: usize,
    /// Sheets the score counts (fewer than `sheets` when the extremes were dropped).
    pub counted: usize,
    /// Highest minus lowest sheet score.
    pub spread: Option<f64>,
    /// The spread is beyond the workflow's dispersion threshold.
    pub dispersed: bool,
}

/// Combines the sheet scores of one case.
pub fn aggregate(scoring: &Scoring, scores: &[f64]) -> Aggregate {
    let mut sorted: Vec<f64> = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let counted: &[f64] = if scoring.method == Method::TrimmedMean && sorted.len() >= TRIM_FROM {
        &sorted[1..sorted.len() - 1]
    } else {
        &sorted
    };
    let score = (!counted.is_empty()).then(|| counted.iter().sum::<f64>() / counted.len() as f64);
    let spread = match (sorted.first(), sorted.last()) {
        (Some(lo), Some(hi)) => Some(hi - lo),
        _ => None,
    };
    Aggregate {
        method: scoring.method,
        score,
        sheets: sorted.len(),
        counted: counted.len(),
        spread,
        dispersed: matches!((spread, scoring.dispersion), (Some(s), Some(t)) if s > t),
    }
}

/// Competition ranking ("1, 2, 2, 4"), highest score first; unscored entries get no rank.
/// Scores are compared to two decimals, as they are shown.
pub fn rank(scores: &[Option<f64>]) -> Vec<Option<u32>> {
    let shown = |s: f64| (s * 100.0).round() as i64;
    scores
        .iter()
        .map(|s| {
            s.map(|mine| {
                1 + scores
                    .iter()
                    .flatten()
                    .filter(|other| shown(**other) > shown(mine))
                    .count() as u32
            })
        })
        .collect()
}

/// An expert of the pool as recusal and assignment see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    pub username: String,
    /// The unit the expert works for.
    pub affiliation: String,
    /// That unit's parent (a district's city), if any.
    pub affiliation_parent: Option<String>,
    /// Units the expert declared a conflict of interest with.
    pub conflicts: BTreeSet<String>,
    /// Experiment areas the expert is versed in.
    pub expertise: BTreeSet<String>,
}

/// A case under review as recusal and assignment see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCase {
    pub id: String,
    /// The applying unit.
    pub unit: String,
    /// Its parent (a district's city).
    pub unit_parent: Option<String>,
    /// The experiment areas the case works on.
    pub topics: BTreeSet<String>,
}

/// Why an expert may not review a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Recusal {
    /// The expert works for the applying unit itself.
    SameUnit,
    /// The expert works for the applying district's city.
    SupervisingUnit,
    /// The expert works for a unit under the applying city.
    SubordinateUnit,
    /// The expert declared a conflict with the applying unit or its city.
    DeclaredConflict { unit: String },
}

impl Recusal {
    /// Why, in a sentence for the provincial staff.
    pub fn message_zh(&self, expert: &str, affiliation_name: &str, case_unit_name: &str) -> String {
        match self {
            Self::SameUnit => {
                format!("专家 {expert}({affiliation_name})就职于申报单位{case_unit_name},应当回避")
            }
            Self::SupervisingUnit => format!(
                "专家 {expert}({affiliation_name})所在单位是申报单位{case_unit_name}的上级市州,应当回避"
            ),
            Self::SubordinateUnit => format!(
                "专家 {expert}({affiliation_name})所在单位隶属于申报单位{case_unit_name},应当回避"
            ),
            Self::DeclaredConflict { .. } => {
                format!("专家 {expert} 已声明与申报单位{case_unit_name}存在利益冲突,应当回避")
            }
        }
    }
}

/// Whether `expert` must stay off `case`, and why (the first reason that holds).
pub fn recusal(expert: &Expert, case: &ReviewCase) -> Option<Recusal> {
    if expert.affiliation == case.unit {
        return Some(Recusal::SameUnit);
    }
    if case.unit_parent.as_deref() == Some(expert.affiliation.as_str()) {
        return Some(Recusal::SupervisingUnit);
    }
    if expert.affiliation_parent.as_deref() == Some(case.unit.as_str()) {
        return Some(Recusal::SubordinateUnit);
    }
    [Some(&case.unit), case.unit_parent.as_ref()]
        .into_iter()
        .flatten()
        .find(|u| expert.conflicts.contains(*u))
        .map(|u| Recusal::DeclaredConflict { unit: u.clone() })
}

/// Experiment areas a case and an expert share.
pub fn shared_topics(expert: &Expert, case: &ReviewCase) -> usize {
    expert.expertise.intersection(&case.topics).count()
}

/// A round's panels: for each case (in the order given), the indices of its experts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panels {
    pub panels: Vec<Vec<usize>>,
    /// Cases per expert, counting `base_load`.
    pub loads: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    #[error("case {case} has {eligible} eligible experts, {needed} are needed")]
    TooFewEligible {
        case: String,
        eligible: usize,
        needed: usize,
    },
}

/// Assigns `per_case` experts to every case: never one that must recuse itself, cases per
/// expert as even as the recusals allow (max − min ≤ 1 whenever any assignment achieves it),
/// and among those, as many shared experiment areas as possible. `base_load` counts cases the
/// experts already review (same order as `experts`).
///
/// A minimum-cost flow: source → case (capacity `per_case`) → eligible expert (1) → sink,
/// where an expert's n-th case costs n·B, B larger than any gain from matching areas, so the
/// loads are balanced first and matched second; ties go to the earlier expert.
pub fn assign_panels(
    cases: &[ReviewCase],
    experts: &[Expert],
    per_case: usize,
    base_load: &[usize],
) -> Result<Panels, AssignError> {
    for case in cases {
        let eligible = experts
            .iter()
            .filter(|e| recusal(e, case).is_none())
            .count();
        if eligible < per_case {
            return Err(AssignError::TooFewEligible {
                case: case.id.clone(),
                eligible,
                needed: per_case,
            });
        }
    }
    let max_shared = cases.iter().map(|c| c.topics.len()).max().unwrap_or(0) as i64;
    let units = (cases.len() * per_case) as i64;
    let big = (max_shared + 1) * units + 1;
    let mut flow = Flow::new(cases, experts, per_case, base_load, big, max_shared);
    flow.run();
    let mut panels = vec![Vec::new(); cases.len()];
    for (c, expert, used) in flow.assignments() {
        if used {
            panels[c].push(expert);
        }
    }
    for (c, panel) in panels.iter().enumerate() {
        if panel.len() < per_case {
            // Every case has enough eligible experts, and an expert's capacity is unbounded,
            // so the flow saturates; this is only reachable through a bug.
            return Err(AssignError::TooFewEligible {
                case: cases[c].id.clone(),
                eligible: panel.len(),
                needed: per_case,
            });
        }
    }
    Ok(Panels {
        panels,
        loads: flow.loads,
    })
}

#[derive(Debug, Clone)]
struct Edge {
    to: usize,
    cap: i64,
    cost: i64,
}

/// The assignment network. Expert → sink is one edge whose cost follows the expert's load
/// (its next case costs (load + 1)·B): with convex costs this is the network with one unit
/// edge per load level, whose cheapest unused unit is the only one a shortest path takes.
struct Flow {
    edges: Vec<Edge>,
    graph: Vec<Vec<usize>>,
    /// For each case, its (edge index, expert) pairs.
    case_edges: Vec<Vec<(usize, usize)>>,
    /// For each expert, the index of its edge to the sink.
    sink_edges: Vec<usize>,
    loads: Vec<usize>,
    big: i64,
    source: usize,
    sink: usize,
    first_expert: usize,
}

impl Flow {
    fn new(
        cases: &[ReviewCase],
        experts: &[Expert],
        per_case: usize,
        base_load: &[usize],
        big: i64,
        max_shared: i64,
    ) -> Self {
        let source = 0;
        let first_expert = 1 + cases.len();
        let sink = first_expert + experts.len();
        let mut f = Self {
            edges: Vec::new(),
            graph: vec![Vec::new(); sink + 1],
            case_edges: vec![Vec::new(); cases.len()],
            sink_edges: Vec::new(),
            loads: (0..experts.len())
                .map(|i| base_load.get(i).copied().unwrap_or(0))
                .collect(),
            big,
            source,
            sink,
            first_expert,
        };
        for (c, case) in cases.iter().enumerate() {
            f.add(source, 1 + c, per_case as i64, 0);
            for (e, expert) in experts.iter().enumerate() {
                if recusal(expert, case).is_none() {
                    let cost = max_shared - shared_topics(expert, case) as i64;
                    let id = f.add(1 + c, first_expert + e, 1, cost);
                    f.case_edges[c].push((id, e));
                }
            }
        }
        for e in 0..experts.len() {
            let id = f.add(
                first_expert + e,
                sink,
                per_case.max(1) as i64 * cases.len() as i64,
                0,
            );
            f.sink_edges.push(id);
        }
        f.price_sinks();
        f
    }

    fn add(&mut self, from: usize, to: usize, cap: i64, cost: i64) -> usize {
        let id = self.edges.len();
        self.edges.push(Edge { to, cap, cost });
        self.edges.push(Edge {
            to: from,
            cap: 0,
            cost: -cost,
        });
        self.graph[from].push(id);
        self.graph[to].push(id + 1);
        id
    }

    fn price_sinks(&mut self) {
        for (e, &id) in self.sink_edges.iter().enumerate() {
            self.edges[id].cost = (self.loads[e] as i64 + 1) * self.big;
        }
    }

    /// Successive shortest paths, one case–expert pair each (Bellman–Ford on a queue: the
    /// edges back from an expert to a case cost less than nothing). Paths never leave the
    /// sink: with no negative cycle, a shortest path to it need not pass it twice.
    fn run(&mut self) {
        let n = self.graph.len();
        loop {
            let mut dist = vec![i64::MAX; n];
            let mut via = vec![usize::MAX; n];
            let mut queued = vec![false; n];
            let mut queue = std::collections::VecDeque::new();
            dist[self.source] = 0;
            queue.push_back(self.source);
            while let Some(u) = queue.pop_front() {
                queued[u] = false;
                if u == self.sink {
                    continue;
                }
                for &id in &self.graph[u] {
                    let Edge { to, cap, cost } = self.edges[id];
                    if cap > 0 && dist[u] + cost < dist[to] {
                        dist[to] = dist[u] + cost;
                        via[to] = id;
                        if !queued[to] {
                            queued[to] = true;
                            queue.push_back(to);
                        }
                    }
                }
            }
            if dist[self.sink] == i64::MAX {
                return;
            }
            let mut v = self.sink;
            while v != self.source {
                let id = via[v];
                self.edges[id].cap -= 1;
                self.edges[id ^ 1].cap += 1;
                let from = self.edges[id ^ 1].to;
                if v == self.sink {
                    self.loads[from - self.first_expert] += 1;
                }
                v = from;
            }
            self.price_sinks();
        }
    }

    /// (case, expert, assigned) for every eligible pair.
    fn assignments(&self) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
        self.case_edges
            .iter()
            .enumerate()
            .flat_map(move |(c, list)| {
                list.iter()
                    .map(move |&(id, e)| (c, e, self.edges[id].cap == 0))
            })
    }
}
