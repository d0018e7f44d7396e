//! Expert review at round scale, through the real server over HTTP: 300 cases of the 60
//! demo counties waiting in review, then the time to assign 12 experts to all of them in bulk
//! (`POST /rounds/{year}/panels`, 5 per case), and, once every expert has scored its cases,
//! the time to rank the round (`GET /rounds/{year}/ranking`, JSON and xlsx).

use crate::{Backend, Node, example, login};
use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

const ROUND: i32 = 2027;
const PER_CASE: usize = 5;
/// Requests in flight while seeding.
const IN_FLIGHT: usize = 16;

async fn send(req: reqwest::RequestBuilder) -> Result<Value> {
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        bail!("{status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Tokens for every user not signed in yet.
async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    tokens: &mut HashMap<String, String>,
    users: impl Iterator<Item = String>,
) -> Result<()> {
    for user in users {
        if let std::collections::hash_map::Entry::Vacant(slot) = tokens.entry(user) {
            let token = login(http, base, slot.key()).await?;
            slot.insert(token);
        }
    }
    Ok(())
}

/// Median of `runs` timings of one request, in milliseconds.
async fn median_ms(runs: usize, mut f: impl AsyncFnMut() -> Result<()>) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

pub async fn run(
    backend: Backend,
    cases: usize,
    binary: PathBuf,
    postgres: String,
) -> Result<Value> {
    let server = Node::new(backend, &binary, &postgres).await?;
    let base = server.base();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()?;
    let admin = login(&http, &base, "admin").await?;
    let counties = counties(&http, &base, &admin).await?;
    let mut tokens: HashMap<String, String> = HashMap::new();
    let users = counties
        .iter()
        .flat_map(|(county, city)| [format!("d{county}"), format!("c{city}")]);
    sign_in(&http, &base, &mut tokens, users).await?;
    let (ids, seed_seconds) = seed(&http, &base, &admin, &tokens, &counties, cases).await?;
    let panels = assign(&http, &base, &admin, ids.len()).await?;
    let score_seconds = score(&http, &base, &mut tokens, &panels.report).await?;
    let ranking = rank(&http, &base, &admin).await?;
    server.finish(&postgres).await?;
    Ok(json!({
        "workload": "expert review: bulk panels and the round's ranking, over HTTP",
        "backend": format!("{backend:?}").to_lowercase(),
        "cases": ids.len(),
        "experts": panels.loads.len(),
        "experts_per_case": PER_CASE,
        "seed_seconds": seed_seconds,
        "bulk_assign_ms": panels.ms,
        "loads_min": panels.loads.iter().min(),
        "loads_max": panels.loads.iter().max(),
        "score_seconds": score_seconds,
        "ranked_cases": ranking.cases,
        "sheets_per_case": ranking.sheets_per_case,
        "ranking_json_ms": ranking.json_ms,
        "ranking_xlsx_ms": ranking.xlsx_ms,
    }))
}

/// The counties that may apply, each with its city's code in lower case (the city reviewer's
/// username is `c` and that code).
async fn counties(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
) -> Result<Vec<(String, String)>> {
    let units: Value = send(
        http.get(format!("{base}/api/v1/org-units"))
            .bearer_auth(admin),
    )
    .await?;
    // Counties with their cities, from the tree (59 of the 60 may apply).
    let mut counties: Vec<(String, String)> = Vec::new();
    for city in units[0]["children"].as_array().context("no cities")? {
        let city_code = city["code"].as_str().unwrap_or_default().to_lowercase();
        for county in city["children"].as_array().into_iter().flatten() {
            // A national zone may not apply.
            if county["national_zone"] == true {
                continue;
            }
            counties.push((
                county["code"].as_str().unwrap_or_default().to_owned(),
                city_code.clone(),
            ));
        }
    }
    if counties.is_empty() {
        bail!("the demo tree has no counties");
    }
    Ok(counties)
}

/// The example documents a seeded case is given.
struct Docs {
    forms: [(&'static str, Value); 2],
    forward: Value,
    start_review: Value,
}

/// Seeds `cases` cases, round-robin over `counties`, each taken into review; returns their
/// ids and the seconds it took.
async fn seed(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    tokens: &HashMap<String, String>,
    counties: &[(String, String)],
    cases: usize,
) -> Result<(Vec<String>, f64)> {
    let docs = Docs {
        forms: [
            ("application", example("forms/application.json")?),
            ("experiment_plan", example("forms/experiment_plan.json")?),
        ],
        forward: example("forward.json")?,
        start_review: example("start_review.json")?,
    };
    let seeded = Instant::now();
    let ids: Vec<String> = futures_util::stream::iter(0..cases)
        .map(|i| {
            let (county, city) = &counties[i % counties.len()];
            let district = tokens[&format!("d{county}")].clone();
            let reviewer = tokens[&format!("c{city}")].clone();
            let docs = &docs;
            async move { seed_case(http, base, i, [&district, &reviewer, admin], docs).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    Ok((ids, seeded.elapsed().as_secs_f64()))
}

/// One case, number `i`: created by its district with both forms, submitted, forwarded by its
/// city's reviewer and put into review by the admin. Returns its id.
async fn seed_case(
    http: &reqwest::Client,
    base: &str,
    i: usize,
    [district, reviewer, admin]: [&str; 3],
    docs: &Docs,
) -> Result<String> {
    let created = send(
        http.post(format!("{base}/api/v1/cases"))
            .bearer_auth(district)
            .json(&json!({"workflow": "pilot-zone", "title": format!("评审压测 {i}")})),
    )
    .await?;
    let id = created["id"].as_str().context("no id")?.to_owned();
    let mut version = created["version"].as_i64().context("no version")?;
    for (form, doc) in &docs.forms {
        send(
            http.put(format!("{base}/api/v1/cases/{id}/forms/{form}"))
                .bearer_auth(district)
                .json(doc),
        )
        .await?;
        version += 1;
    }
    for (token, action, input) in [
        (district, "submit", Value::Null),
        (reviewer, "forward", docs.forward.clone()),
        (admin, "start_review", docs.start_review.clone()),
    ] {
        send(
            http.post(format!("{base}/api/v1/cases/{id}/actions/{action}"))
                .bearer_auth(token)
                .header("If-Match", version.to_string())
                .json(&json!({"input": input})),
        )
        .await?;
        version += 1;
    }
    Ok(id)
}

/// The bulk assignment's answer, how long it took, and each expert's number of cases.
struct Panels {
    report: Value,
    ms: f64,
    loads: Vec<u64>,
}

/// Assigns the round's panels in one request; fails unless all `cases` got one.
async fn assign(http: &reqwest::Client, base: &str, admin: &str, cases: usize) -> Result<Panels> {
    // Bulk assignment: one request for the whole round.
    let t = Instant::now();
    let report = send(
        http.post(format!("{base}/api/v1/rounds/{ROUND}/panels"))
            .bearer_auth(admin)
            .json(&json!({"workflow": "pilot-zone", "experts_per_case": PER_CASE})),
    )
    .await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let loads: Vec<u64> = report["loads"]
        .as_object()
        .context("no loads")?
        .values()
        .filter_map(Value::as_u64)
        .collect();
    let assigned = report["cases"].as_array().map_or(0, Vec::len);
    if assigned != cases {
        bail!("{assigned} of {cases} cases got a panel");
    }
    Ok(Panels { report, ms, loads })
}

/// Has every expert of `panels` score each of its cases; returns the seconds the scoring took.
async fn score(
    http: &reqwest::Client,
    base: &str,
    tokens: &mut HashMap<String, String>,
    panels: &Value,
) -> Result<f64> {
    // Every expert scores each of its cases.
    let sheet = example("score.json")?;
    let mut seats: Vec<(String, String)> = Vec::new();
    for c in panels["cases"].as_array().into_iter().flatten() {
        for e in c["experts"].as_array().into_iter().flatten() {
            seats.push((
                e.as_str().unwrap_or_default().to_owned(),
                c["case_id"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    sign_in(http, base, tokens, seats.iter().map(|(e, _)| e.clone())).await?;
    // One case's sheets one after another (each changes the case's version).
    let mut by_case: HashMap<String, Vec<String>> = HashMap::new();
    for (expert, case) in seats {
        by_case.entry(case).or_default().push(expert);
    }
    let tokens = &*tokens;
    let scored = Instant::now();
    futures_util::stream::iter(by_case)
        .map(|(case, experts)| {
            let sheet = &sheet;
            async move {
                for e in experts {
                    let version = send(
                        http.get(format!("{base}/api/v1/cases/{case}"))
                            .bearer_auth(&tokens[&e]),
                    )
                    .await?["version"]
                        .as_i64()
                        .context("no version")?;
                    send(
                        http.post(format!("{base}/api/v1/cases/{case}/actions/score"))
                            .bearer_auth(&tokens[&e])
                            .header("If-Match", version.to_string())
                            .json(&json!({"input": sheet})),
                    )
                    .await?;
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    Ok(scored.elapsed().as_secs_f64())
}

/// The round's ranking as the server gives it, and the median time to rank, as JSON and xlsx.
struct Ranking {
    cases: usize,
    sheets_per_case: u64,
    json_ms: f64,
    xlsx_ms: f64,
}

/// Ranks the round once to read it, then five times each as JSON and as xlsx.
async fn rank(http: &reqwest::Client, base: &str, admin: &str) -> Result<Ranking> {
    let ranking_url = format!("{base}/api/v1/rounds/{ROUND}/ranking?workflow=pilot-zone");
    let ranked = send(http.get(&ranking_url).bearer_auth(admin)).await?;
    let cases = ranked["items"].as_array().map_or(0, Vec::len);
    let sheets_per_case = ranked["items"][0]["submitted"].as_u64().unwrap_or(0);
    let json_ms = median_ms(5, async || {
        send(http.get(&ranking_url).bearer_auth(admin)).await?;
        Ok(())
    })
    .await?;
    let xlsx_url = format!("{ranking_url}&format=xlsx");
    let xlsx_ms = median_ms(5, async || {
        http.get(&xlsx_url)
            .bearer_auth(admin)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(())
    })
    .await?;
    Ok(Ranking {
        cases,
        sheets_per_case,
        json_ms,
        xlsx_ms,
    })
}
