//! `docs/DESIGN.md`'s crate table is the map a newcomer trusts first: this
//! test holds it to the workspace manifests, as `cargo metadata` reads them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// One row of the table: the workspace crates and the outside crates it names.
struct Row {
    workspace: BTreeSet<String>,
    outside: BTreeSet<String>,
}

fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Every backticked name in a table cell.
fn names(cell: &str) -> BTreeSet<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The rows of the table under `## Crates`: `| crate | owns | depends on | outside crates |`.
fn design_table() -> BTreeMap<String, Row> {
    let path = workspace_root().join("docs/DESIGN.md");
    let text = std::fs::read_to_string(&path).expect("docs/DESIGN.md is readable");
    let section = text
        .split("\n## Crates")
        .nth(1)
        .expect("DESIGN.md has a `## Crates` section");
    let mut rows = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(
            cells.len(),
            4,
            "DESIGN.md crate table row {line:?} needs 4 cells"
        );
        let Some(name) = names(cells[0]).into_iter().next() else {
            continue; // the header and the |---| line
        };
        rows.insert(
            name,
            Row {
                workspace: names(cells[2]),
                outside: names(cells[3]),
            },
        );
    }
    rows
}

/// Per workspace crate: its path (workspace) dependencies and all its other
/// normal or build dependencies, as the manifests declare them.
fn manifests() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let mut crates = BTreeMap::new();
    for package in meta["packages"].as_array().expect("packages") {
        let (mut workspace, mut outside) = (BTreeSet::new(), BTreeSet::new());
        for dep in package["dependencies"].as_array().expect("dependencies") {
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let name = dep["name"].as_str().expect("name").to_string();
            if dep.get("path").is_some_and(|p| p.is_string()) {
                workspace.insert(name);
            } else {
                outside.insert(name);
            }
        }
        let name = package["name"].as_str().expect("package name").to_string();
        crates.insert(name, (workspace, outside));
    }
    crates
}

#[test]
fn design_crate_table_matches_the_manifests() {
    let table = design_table();
    let manifests = manifests();
    let listed: BTreeSet<&String> = table.keys().collect();
    let members: BTreeSet<&String> = manifests.keys().collect();
    assert_eq!(
        listed, members,
        "DESIGN.md's crate table must list exactly the workspace's crates"
    );
    for (name, row) in &table {
        let (workspace, outside) = &manifests[name];
        assert_eq!(
            &row.workspace, workspace,
            "DESIGN.md: the workspace crates `{name}` depends on (its Cargo.toml [dependencies])"
        );
        let unknown: Vec<&String> = row.outside.difference(outside).collect();
        assert!(
            unknown.is_empty(),
            "DESIGN.md names {unknown:?} as dependencies of `{name}`, but its Cargo.toml has no such dependency"
        );
    }
}
