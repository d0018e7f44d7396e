//! The `pilotflow` command line, run as a process from the repository root.

use std::path::PathBuf;
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn pilotflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilotflow"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("the pilotflow binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// Exit code, stdout and stderr, for assertion messages.
fn show(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// `file:line:column:` for every `# expect:` line of a fixture.
fn expected_prefixes(file: &str) -> Vec<String> {
    std::fs::read_to_string(repo().join(file))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|rest| {
            let mut parts = rest.trim_start().splitn(3, ':');
            let line = parts.next().unwrap().trim();
            let column = parts.next().unwrap().trim();
            format!("{file}:{line}:{column}:")
        })
        .collect()
}

#[test]
fn validate_accepts_the_pilot_zone_workflow() {
    let out = pilotflow(&["validate", "workflows/pilot-zone.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("workflows/pilot-zone.yaml: ok"),
        "{}",
        show(&out)
    );
    assert!(text(&out.stderr).is_empty(), "{}", show(&out));
}

#[test]
fn validate_lists_every_problem_with_its_position() {
    let file = "tests/broken/several_problems.yaml";
    let out = pilotflow(&["validate", "--schemas", "tests/broken/schemas", file]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let prefixes = expected_prefixes(file);
    assert_eq!(prefixes.len(), 3, "the fixture declares three problems");
    assert_reports(&out, &prefixes, "3 problems found");
    assert!(!text(&out.stdout).contains(": ok"), "{}", show(&out));
}

/// Every expected `file:line:column:` prefix starts a line of stderr, and so does the total.
fn assert_reports(out: &std::process::Output, prefixes: &[String], total: &str) {
    let stderr = text(&out.stderr);
    for prefix in prefixes {
        assert!(
            stderr.lines().any(|l| l.starts_with(prefix.as_str())),
            "no line starting with `{prefix}`\n{}",
            show(out)
        );
    }
    assert!(stderr.lines().any(|l| l == total), "{}", show(out));
}

#[test]
fn validate_reports_each_file_of_several() {
    let broken = "tests/broken/several_problems.yaml";
    let out = pilotflow(&[
        "validate",
        "--schemas",
        "schemas",
        "workflows/pilot-zone.yaml",
        broken,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("workflows/pilot-zone.yaml: ok"),
        "the valid file is still reported\n{}",
        show(&out)
    );
    // Against the real schemas the broken file's three problems are all still there.
    assert_reports(&out, &expected_prefixes(broken), "3 problems found");
}

#[test]
fn diagram_prints_mermaid() {
    let out = pilotflow(&["diagram", "workflows/pilot-zone.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("---"), "{}", show(&out));
    assert!(
        lines.next().is_some_and(|l| l.starts_with("title: ")),
        "{}",
        show(&out)
    );
    assert_eq!(lines.next(), Some("---"), "{}", show(&out));
    for wanted in [
        "stateDiagram-v2",
        "[*] --> draft",
        "draft --> municipal_review : 提交申请",
        "state \"年度实验计划与总结\" as annual {",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim() == wanted),
            "no line `{wanted}`\n{}",
            show(&out)
        );
    }
}

#[test]
fn validate_names_a_missing_file() {
    let missing = "workflows/no-such-workflow.yaml";
    let out = pilotflow(&["validate", missing]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(missing),
        "the message names the file\n{}",
        show(&out)
    );
    assert!(text(&out.stdout).is_empty(), "{}", show(&out));
}

#[test]
fn simulate_prints_the_reminders_a_case_would_get() {
    let out = pilotflow(&[
        "simulate",
        "workflows/pilot-zone.yaml",
        "--from",
        "2026-08-01",
        "--to",
        "2026-10-31",
        "--set",
        "city_cutoff=2026-09-10T23:59:59+08:00",
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    for expected in [
        "2026-08-31 23:59:59  提醒(截止前 30 天)  年度申报截止(市州报省) → 申报单位(区、县、市)(applicant)、市州民政局(municipal_reviewer)",
        "2026-09-09 23:59:59  提醒(截止前 1 天)  市州内部截止(区县报市州) → 申报单位(区、县、市)(applicant)",
        "2026-09-11 00:00:00  逾期督办  市州内部截止(区县报市州) → 市州民政局(municipal_reviewer)",
        "2026-10-01 00:00:00  逾期督办  年度申报截止(市州报省) → 省民政厅(provincial_admin)",
    ] {
        assert!(
            lines.contains(&expected),
            "missing `{expected}`\n{}",
            show(&out)
        );
    }
    let notices = lines.iter().filter(|l| l.contains(" → ")).count();
    assert_eq!(notices, 9, "{}", show(&out));

    let bad = pilotflow(&[
        "simulate",
        "workflows/pilot-zone.yaml",
        "--from",
        "2026-13-01",
        "--to",
        "2026-10-31",
    ]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("`2026-13-01` is not a date"),
        "{}",
        show(&bad)
    );
}
