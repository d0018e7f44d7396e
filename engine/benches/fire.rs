//! `fire`, `available_actions` and writing a snapshot, on the pilot-zone definition.
//! Run: `cargo bench -p pilotflow-engine --bench fire`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use pilotflow_engine::{
    Actor, Calendar, CaseSnapshot, Engine, RoleName, SchemaLoadError, SchemaSource, UnitInfo,
    UnitLevel, UnitRelation, UserId,
};
use serde_json::Value;
use std::hint::black_box;
use std::path::{Path, PathBuf};

struct Dir(PathBuf);
impl SchemaSource for Dir {
    fn load(&self, path: &str) -> Result<Value, SchemaLoadError> {
        std::fs::read_to_string(self.0.join(path))
            .map(|t| serde_json::from_str(&t).unwrap())
            .map_err(|_| SchemaLoadError::NotFound)
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example(name: &str) -> Value {
    let text =
        std::fs::read_to_string(repo().join("workflows/examples/pilot-zone").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn actor(user: &str, role: &str, relation: UnitRelation) -> Actor {
    Actor {
        user: UserId::new(user),
        role: RoleName::new(role),
        relation,
    }
}

fn bench(c: &mut Criterion) {
    let text = std::fs::read_to_string(repo().join("workflows/pilot-zone.yaml")).unwrap();
    let def =
        pilotflow_engine::compile("pilot-zone.yaml", &text, &Dir(repo().join("schemas"))).unwrap();
    let calendar = Calendar::weekdays_only();
    let engine = Engine::new(&def, &calendar);
    let unit = UnitInfo {
        code: "220102".into(),
        name: "南关区".into(),
        level: UnitLevel::County,
        national_zone: false,
    };
    let district = actor(
        "d220102",
        "applicant",
        UnitRelation {
            own: true,
            ..Default::default()
        },
    );
    let city = actor(
        "c220100",
        "municipal_reviewer",
        UnitRelation {
            parent: true,
            ..Default::default()
        },
    );
    let now = t("2027-03-01T09:00:00+08:00");

    let mut case: CaseSnapshot = engine
        .start(unit, Default::default(), t("2026-11-23T09:00:00+08:00"))
        .unwrap()
        .snapshot;
    for form in ["application", "experiment_plan"] {
        case = engine
            .save_form(
                &case,
                &district,
                form,
                example(&format!("forms/{form}.json")),
                now,
            )
            .unwrap()
            .snapshot;
    }
    let submitted = engine
        .fire(&case, &district, "submit", &Value::Null, now)
        .unwrap()
        .snapshot;
    let forward = example("forward.json");

    // The city forwards a submitted application: schema check, deadline gate, effects.
    c.bench_function("fire forward", |b| {
        b.iter(|| {
            engine
                .fire(
                    black_box(&submitted),
                    &city,
                    "forward",
                    black_box(&forward),
                    now,
                )
                .unwrap()
        })
    });
    // The district submits: both saved forms re-validated (a 3,600-character plan), two guards.
    c.bench_function("fire submit", |b| {
        b.iter(|| {
            engine
                .fire(black_box(&case), &district, "submit", &Value::Null, now)
                .unwrap()
        })
    });
    // The whole snapshot, both saved forms in it, against what the service stores on every
    // transition (the forms are written apart, only when saved).
    c.bench_function("snapshot to JSON", |b| {
        b.iter(|| serde_json::to_string(black_box(&submitted)).unwrap())
    });
    c.bench_function("snapshot without forms to JSON", |b| {
        b.iter(|| serde_json::to_string(&black_box(&submitted).without_forms()).unwrap())
    });
    c.bench_function("available_actions city", |b| {
        b.iter(|| engine.available_actions(black_box(&submitted), &city, now))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
