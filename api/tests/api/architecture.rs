//! The service's module graph, read from its source: imports run one way (http → the areas →
//! store → the engine), with no loop among the modules, and only the store speaks SQL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The service's top-level modules, and the files of each.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("api/src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name")
            .to_owned();
        // The binary and the crate root list every module; they are not part of the graph.
        if name == "main" || name == "lib" {
            continue;
        }
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path]
        };
        out.insert(name, files);
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The code of a file without its comments (a doc comment may name any module).
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("source")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which top-level modules each module uses (`crate::name`).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, files)| {
            let mut uses = BTreeSet::new();
            for file in files {
                let code = code_of(file);
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + "crate::".len()..];
                    let used: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if used != *name && names.contains(&used) {
                        uses.insert(used);
                    }
                }
            }
            (name.clone(), uses)
        })
        .collect()
}

/// A loop in the graph, as the modules along it, if there is one.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_its_way_back_to_itself() {
    let graph = graph();
    assert!(graph.contains_key("cases") && graph.contains_key("store"));
    if let Some(cycle) = find_loop(&graph) {
        panic!("import loop: {}", cycle.join(" → "));
    }
}

#[test]
fn imports_run_from_http_through_the_areas_to_the_store() {
    let graph = graph();
    let top = ["http", "state", "startup"];
    for (module, uses) in &graph {
        if module == "store" {
            assert!(
                uses.is_empty(),
                "store uses {uses:?}: it must use only the engine"
            );
        }
        let is_top = top.contains(&module.as_str());
        for used in uses {
            assert!(
                is_top || !top.contains(&used.as_str()),
                "{module} uses {used}: only the top (startup, state, http) may"
            );
        }
    }
    let users_of_http: Vec<&String> = graph
        .iter()
        .filter(|(m, uses)| uses.contains("http") && *m != "startup")
        .map(|(m, _)| m)
        .collect();
    assert!(users_of_http.is_empty(), "{users_of_http:?} use http");
}

#[test]
fn only_the_store_speaks_sql() {
    for (module, files) in modules() {
        if module == "store" || module == "error" {
            continue;
        }
        for file in files {
            let code = code_of(&file);
            assert!(
                !code.contains("sea_orm") && !code.contains("sqlx") && !code.contains("rusqlite"),
                "{} reaches for the database library; put the query in store/",
                file.display()
            );
            for connection in ["store.read", "store.write", ".begin_write"] {
                assert!(
                    !names_a_field(&code, connection),
                    "{} uses `{connection}`: ask the store for what it needs",
                    file.display()
                );
            }
        }
    }
}

/// Whether `code` has `name` as a whole name (`store.write`, not `store.write_case_deadlines`).
fn names_a_field(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(i, _)| {
        !code[i + name.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn route_files_do_not_import_each_other() {
    let http = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let shared = ["mod", "extract", "problem", "middleware", "openapi"];
    let routes: Vec<String> = rust_files(&http)
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .filter(|n| !shared.contains(&n.as_str()))
        .collect();
    assert!(routes.len() >= 5, "{routes:?}");
    for file in rust_files(&http) {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if shared.contains(&name) {
            continue;
        }
        let code = code_of(&file);
        for other in routes.iter().filter(|r| *r != name) {
            for form in [format!("super::{other}"), format!("http::{other}")] {
                assert!(!code.contains(&form), "http/{name}.rs uses {form}");
            }
        }
    }
}
