//! Every file in `tests/broken/` is a small definition with planted problems. Its leading
//! `# expect: LINE:COLUMN: <substring of the message>` comments list exactly what `compile`
//! must report: each expectation needs a diagnostic at that position whose message contains
//! the text, and there must be no other diagnostics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use pilotflow_engine::Diagnostic;
use std::path::PathBuf;

#[derive(Debug)]
struct Expect {
    line: u64,
    column: u64,
    message: String,
}

/// The `# expect:` comments of a fixture.
fn expectations(name: &str, text: &str) -> Vec<Expect> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|rest| {
            let parse = || -> Option<Expect> {
                let (line, rest) = rest.trim_start().split_once(':')?;
                let (column, message) = rest.split_once(':')?;
                Some(Expect {
                    line: line.trim().parse().ok()?,
                    column: column.trim().parse().ok()?,
                    message: message.trim().to_owned(),
                })
            };
            parse().unwrap_or_else(|| {
                panic!("{name}: malformed `# expect:` line (want `# expect: LINE:COLUMN: text`): {rest}")
            })
        })
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let dir = common::repo().join("tests/broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

fn listing(diagnostics: &[Diagnostic]) -> String {
    if diagnostics.is_empty() {
        return "    (none)".to_owned();
    }
    diagnostics
        .iter()
        .map(|d| format!("    {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is wrong with one fixture's diagnostics, or `None` if they match its expectations.
fn check(name: &str, text: &str) -> Option<String> {
    let expects = expectations(name, text);
    if expects.is_empty() {
        return Some(format!("{name}: has no `# expect:` lines"));
    }
    let schemas = common::Dir(common::repo().join("tests/broken/schemas"));
    let diagnostics = match pilotflow_engine::compile(name, text, &schemas) {
        Ok(_) => return Some(format!("{name}: compiled without errors")),
        Err(d) => d,
    };
    let mut problems = Vec::new();
    for e in &expects {
        let found = diagnostics
            .iter()
            .any(|d| d.line == e.line && d.column == e.column && d.message.contains(&e.message));
        if !found {
            problems.push(format!(
                "  missing: {}:{}: …{}…",
                e.line, e.column, e.message
            ));
        }
    }
    if diagnostics.len() != expects.len() {
        problems.push(format!(
            "  expected {} diagnostic(s), got {}",
            expects.len(),
            diagnostics.len()
        ));
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!(
            "{name}:\n{}\n  reported:\n{}",
            problems.join("\n"),
            listing(&diagnostics)
        ))
    }
}

#[test]
fn broken_definitions_report_exactly_the_expected_problems() {
    let files = fixtures();
    assert!(
        files.len() >= 24,
        "expected the broken fixtures in tests/broken, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let name = format!(
            "tests/broken/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(path).unwrap();
        failures.extend(check(&name, &text));
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures do not report what they expect:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn several_problems_are_all_reported() {
    let text =
        std::fs::read_to_string(common::repo().join("tests/broken/several_problems.yaml")).unwrap();
    assert_eq!(expectations("several_problems.yaml", &text).len(), 3);
    let schemas = common::Dir(common::repo().join("tests/broken/schemas"));
    let diagnostics =
        pilotflow_engine::compile("tests/broken/several_problems.yaml", &text, &schemas)
            .expect_err("several_problems.yaml must not compile");
    assert_eq!(
        diagnostics.len(),
        3,
        "want all three problems, got:\n{}",
        listing(&diagnostics)
    );
}

#[test]
fn pilot_zone_compiles_cleanly() {
    let text = std::fs::read_to_string(common::repo().join("workflows/pilot-zone.yaml")).unwrap();
    match pilotflow_engine::compile("workflows/pilot-zone.yaml", &text, &common::schemas()) {
        Ok(def) => {
            assert_eq!(def.key, "pilot-zone");
            assert_eq!(def.initial.as_str(), "draft");
        }
        Err(diagnostics) => panic!(
            "workflows/pilot-zone.yaml has {} problem(s):\n{}",
            diagnostics.len(),
            listing(&diagnostics)
        ),
    }
}
