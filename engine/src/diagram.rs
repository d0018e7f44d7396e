//! Mermaid `stateDiagram-v2` text for a definition, labelled in Chinese.

use crate::definition::{Definition, StateKind};
use crate::ids::StateName;
use std::fmt::Write;

pub fn mermaid(def: &Definition) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "---\ntitle: {} ({} {})\n---",
        def.title.zh, def.key, def.version
    );
    out.push_str("stateDiagram-v2\n");
    let main: Vec<(&StateName, _)> = def
        .states
        .iter()
        .filter(|(_, s)| s.region.is_none())
        .collect();
    for (name, state) in &main {
        let _ = writeln!(out, "    {name} : {}", escape(&state.label));
    }
    let _ = writeln!(out, "    [*] --> {}", def.initial);
    for (name, state) in &main {
        if state.kind == StateKind::Terminal {
            let _ = writeln!(out, "    {name} --> [*]");
        }
    }
    edges(def, &mut out, None, "    ");
    for (rname, region) in &def.regions {
        let _ = writeln!(out, "    state \"{}\" as {rname} {{", escape(&region.label));
        for (name, state) in def
            .states
            .iter()
            .filter(|(_, s)| s.region.as_ref() == Some(rname))
        {
            let _ = writeln!(out, "        {name} : {}", escape(&state.label));
        }
        let _ = writeln!(out, "        [*] --> {}", region.initial);
        edges(def, &mut out, Some(rname.as_str()), "        ");
        out.push_str("    }\n");
        for s in &region.active_in {
            // A full-width colon: Mermaid 11 refuses a second ASCII `:` in a note's text.
            let _ = writeln!(
                out,
                "    note right of {s} : 并行：{}",
                escape(&region.label)
            );
        }
    }
    out
}

fn edges(def: &Definition, out: &mut String, region: Option<&str>, indent: &str) {
    for a in def
        .actions
        .iter()
        .filter(|a| a.region.as_ref().map(|r| r.as_str()) == region)
    {
        for from in &a.from {
            let to = a.to.as_ref().unwrap_or(from);
            let _ = writeln!(out, "{indent}{from} --> {to} : {}", escape(&a.label));
        }
    }
}

/// Mermaid labels end at a line break and treat `:` and `;` specially.
fn escape(s: &str) -> String {
    s.replace(['\n', ';'], " ").replace(':', "：")
}
