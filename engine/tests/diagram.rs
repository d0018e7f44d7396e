//! The Mermaid text `pilotflow diagram` prints, for the shipped workflow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn parallel_region_notes_use_a_full_width_colon() {
    let text = pilotflow_engine::diagram::mermaid(common::pilot_zone());
    let notes: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("note "))
        .collect();
    assert!(
        notes.contains(&"    note right of in_experiment : 并行：年度实验计划与总结"),
        "{text}"
    );
    for note in notes {
        // Mermaid 11 refuses an ASCII colon in the note's text (after the one that starts it).
        let (_, body) = note.split_once(" : ").unwrap();
        assert!(!body.contains(':'), "{note}");
    }
}
