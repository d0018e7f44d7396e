//! Shared by the engine's integration tests: the repository's workflows, schemas and examples.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use pilotflow_engine::{
    Actor, Calendar, CaseSnapshot, Definition, Engine, RoleName, SchemaLoadError, SchemaSource,
    UnitInfo, UnitLevel, UnitRelation, UserId,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub struct Dir(pub PathBuf);

impl SchemaSource for Dir {
    fn load(&self, path: &str) -> Result<Value, SchemaLoadError> {
        match std::fs::read_to_string(self.0.join(path)) {
            Ok(t) => {
                serde_json::from_str(&t).map_err(|e| SchemaLoadError::Unreadable(e.to_string()))
            }
            Err(_) => Err(SchemaLoadError::NotFound),
        }
    }
}

pub fn schemas() -> Dir {
    Dir(repo().join("schemas"))
}

/// Compiles a definition file from the repository, panicking with its diagnostics.
pub fn load(relative: &str) -> Definition {
    let path = repo().join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    pilotflow_engine::compile(relative, &text, &schemas()).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

pub fn pilot_zone() -> &'static Definition {
    static DEF: OnceLock<Definition> = OnceLock::new();
    DEF.get_or_init(|| load("workflows/pilot-zone.yaml"))
}

pub fn weekdays() -> &'static Calendar {
    static CAL: OnceLock<Calendar> = OnceLock::new();
    CAL.get_or_init(Calendar::weekdays_only)
}

pub fn engine() -> Engine<'static> {
    Engine::new(pilot_zone(), weekdays())
}

/// An example document from `workflows/examples/pilot-zone/`.
pub fn example(name: &str) -> Value {
    let path = repo().join("workflows/examples/pilot-zone").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn nanguan() -> UnitInfo {
    UnitInfo {
        code: "220102".into(),
        name: "南关区".into(),
        level: UnitLevel::County,
        national_zone: false,
    }
}

fn actor(user: &str, role: &str, own: bool, parent: bool, root: bool) -> Actor {
    Actor {
        user: UserId::new(user),
        role: RoleName::new(role),
        relation: UnitRelation { own, parent, root },
    }
}

/// The district's applicant (the case's own unit).
pub fn district() -> Actor {
    actor("d220102", "applicant", true, false, false)
}
/// The city's reviewer (the parent unit).
pub fn city() -> Actor {
    actor("c220100", "municipal_reviewer", false, true, false)
}
/// A reviewer of another city.
pub fn other_city() -> Actor {
    actor("c220200", "municipal_reviewer", false, false, false)
}
/// The province (the root unit).
pub fn province() -> Actor {
    actor("admin", "provincial_admin", false, false, true)
}
pub fn expert(n: u32) -> Actor {
    actor(&format!("expert{n:02}"), "expert", false, false, false)
}

/// Asserts a refusal by a guard whose message mentions `fragment`.
pub fn assert_guard_failed(
    result: Result<pilotflow_engine::Outcome, pilotflow_engine::EngineError>,
    fragment: &str,
) {
    match result {
        Err(pilotflow_engine::EngineError::GuardFailed { messages }) => assert!(
            messages.iter().any(|m| m.contains(fragment)),
            "no guard message mentions `{fragment}`: {messages:?}"
        ),
        other => panic!("expected guard_failed mentioning `{fragment}`, got {other:?}"),
    }
}

/// Drives a case with the example documents and panics on the first refusal.
pub struct Driver {
    pub engine: Engine<'static>,
    pub case: CaseSnapshot,
    pub events: Vec<pilotflow_engine::Event>,
}

impl Driver {
    pub fn start(now: &str) -> Self {
        let engine = engine();
        let out = engine.start(nanguan(), Default::default(), t(now)).unwrap();
        Self {
            engine,
            case: out.snapshot,
            events: vec![out.event],
        }
    }

    pub fn try_fire(
        &mut self,
        who: &Actor,
        action: &str,
        input: Value,
        now: &str,
    ) -> Result<pilotflow_engine::Outcome, pilotflow_engine::EngineError> {
        let out = self.engine.fire(&self.case, who, action, &input, t(now))?;
        self.case = out.snapshot.clone();
        self.events.push(out.event.clone());
        Ok(out)
    }

    pub fn fire(&mut self, who: &Actor, action: &str, now: &str) -> pilotflow_engine::Outcome {
        let input =
            if Path::new(&repo().join(format!("workflows/examples/pilot-zone/{action}.json")))
                .exists()
            {
                example(&format!("{action}.json"))
            } else {
                Value::Null
            };
        self.try_fire(who, action, input, now)
            .unwrap_or_else(|e| panic!("{action} refused: {e:?}"))
    }

    pub fn save_form(&mut self, form: &str, now: &str) {
        let out = self
            .engine
            .save_form(
                &self.case,
                &district(),
                form,
                example(&format!("forms/{form}.json")),
                t(now),
            )
            .unwrap();
        assert!(out.form_errors.is_empty(), "{:?}", out.form_errors);
        self.case = out.snapshot;
        self.events.push(out.event);
    }

    pub fn assign_experts(&mut self, ns: &[u32], now: &str) {
        let users = ns
            .iter()
            .map(|n| UserId::new(format!("expert{n:02}")))
            .collect();
        let out = self
            .engine
            .assign(&self.case, &province(), "expert", users, t(now))
            .unwrap();
        self.case = out.snapshot;
        self.events.push(out.event);
    }

    pub fn state(&self) -> &str {
        self.case.state.as_str()
    }

    pub fn region(&self, name: &str) -> Option<&str> {
        self.case.regions.get(name).map(|s| s.as_str())
    }

    /// A new case with both application forms saved from the examples.
    pub fn drafted(created: &str) -> Self {
        let mut d = Self::start(created);
        d.save_form("application", created);
        d.save_form("experiment_plan", created);
        d
    }

    /// Draft to the province's decision: submitted, forwarded, checked and scored by
    /// experts 10–12, with the example inputs.
    pub fn scored(created: &str) -> Self {
        let mut d = Self::drafted(created);
        d.fire(&district(), "submit", "2027-03-01T09:00:00+08:00");
        d.fire(&city(), "forward", "2027-03-10T09:00:00+08:00");
        d.fire(&province(), "start_review", "2027-03-15T09:00:00+08:00");
        d.assign_experts(&[10, 11, 12], "2027-03-15T10:00:00+08:00");
        for n in [10, 11, 12] {
            d.fire(&expert(n), "score", "2027-03-20T09:00:00+08:00");
        }
        d
    }

    /// Draft to confirmation, the application path with the example inputs.
    pub fn confirmed(created: &str) -> Self {
        let mut d = Self::scored(created);
        d.fire(&province(), "confirm", "2027-04-01T10:00:00+08:00");
        d
    }

    /// Every assigned expert submits the acceptance score sheet.
    pub fn acceptance_scores(&mut self, now: &str) {
        for n in [10, 11, 12] {
            self.fire(&expert(n), "acceptance_score", now);
        }
    }
}
