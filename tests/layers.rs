//! The host's crates point one way (README: Layout): core at the bottom;
//! the runtime knows no other Strata crate; the store knows nothing of
//! plugins; only the engine and the binary see everything. Read from
//! `cargo metadata`, so a dependency added against the grain fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Package name → the names of its normal (non-dev) dependencies, over the
/// resolved graph, and the closure of each.
struct Graph {
    direct: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn load() -> Graph {
        // Only this platform's graph: the others' crates need not be here.
        let rustc = Command::new("rustc")
            .arg("-vV")
            .output()
            .expect("rustc -vV");
        let host = String::from_utf8_lossy(&rustc.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
            .expect("rustc -vV names the host");
        let out = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--offline", "--locked"])
            .args(["--filter-platform", &host])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .output()
            .expect("running cargo metadata");
        assert!(
            out.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
        let name_of: BTreeMap<&str, &str> = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let mut direct = BTreeMap::new();
        for node in meta["resolve"]["nodes"].as_array().unwrap() {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| name_of[d["pkg"].as_str().unwrap()].to_owned())
                .collect();
            direct.insert(name_of[node["id"].as_str().unwrap()].to_owned(), deps);
        }
        Graph { direct }
    }

    fn closure(&self, package: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![package.to_owned()];
        while let Some(p) = todo.pop() {
            for d in self.direct.get(&p).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }

    fn strata_deps(&self, package: &str) -> BTreeSet<String> {
        self.direct[package]
            .iter()
            .filter(|d| d.starts_with("strata-"))
            .cloned()
            .collect()
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_host_crates_point_one_way() {
    let g = Graph::load();
    assert_eq!(g.strata_deps("strata-core"), set(&[]));
    assert_eq!(g.strata_deps("strata-runtime"), set(&[]));
    // Only their bytes: it builds them, core names them.
    assert_eq!(g.strata_deps("strata-std-plugins"), set(&[]));
    assert_eq!(g.strata_deps("strata-store"), set(&["strata-core"]));
    assert_eq!(
        g.strata_deps("strata-sources"),
        set(&["strata-core", "strata-store"])
    );
    assert_eq!(
        g.strata_deps("strata-engine"),
        set(&[
            "strata-core",
            "strata-runtime",
            "strata-sources",
            "strata-std-plugins",
            "strata-store"
        ])
    );
}

#[test]
fn the_planner_and_the_manifest_format_need_no_webassembly() {
    let g = Graph::load();
    for package in ["strata-core", "strata-store", "strata-sources"] {
        let wasm: Vec<String> = g
            .closure(package)
            .into_iter()
            .filter(|d| {
                d.starts_with("wasmtime") || d.starts_with("cranelift") || d == "wasmparser"
            })
            .collect();
        assert!(wasm.is_empty(), "{package} depends on {wasm:?}");
    }
    // The runtime is where they are, so the check above can fail.
    assert!(g.closure("strata-runtime").contains("wasmtime"));
}
