//! The standard plugins the host carries (`plugin = "std:NAME"`): the same
//! bytes as the files built from the same crates, so the same partitions;
//! `host plugin list` and `host plugin export`; unknown names.

use sha2::{Digest, Sha256};

use crate::util::{Gold, Medallion, Workspace, day, plugin};

const DAYS: u32 = 4;

/// The three layers (and gold's daily totals) on plugin files.
fn on_files() -> Medallion {
    Medallion::new()
        .days(DAYS)
        .gold("aggregate", &[Gold::DailyTotals])
}

/// `toml` with every shipped plugin file replaced by its `std:` name.
fn on_std(toml: &str) -> String {
    let mut out = toml.to_owned();
    for (file, name) in [
        ("json_to_table", "json-to-table"),
        ("clean_dedupe", "clean-dedupe"),
        ("aggregate", "aggregate"),
    ] {
        let from = format!("plugin = \"plugins/{file}.wasm\"");
        assert!(out.contains(&from), "no `{from}` in:\n{out}");
        out = out.replace(&from, &format!("plugin = \"std:{name}\""));
    }
    out
}

const DATASETS: [&str; 3] = [
    "bronze/transactions",
    "silver/transactions",
    "gold/daily_totals",
];

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn std_plugins_make_what_their_files_make() {
    let files = on_files().workspace();
    files.run(&[]).assert_ok();
    let std = Workspace::with_example_landing();
    std.write_config(&on_std(&on_files().toml()));
    std.run(&[]).assert_ok();

    for dataset in DATASETS {
        for d in 1..=DAYS {
            let (a, b) = (
                files.manifest(dataset, &day(d)),
                std.manifest(dataset, &day(d)),
            );
            // The plugin (name, version, sha256), the key and the bytes.
            for field in ["producer", "key", "content_hash", "files"] {
                assert_eq!(a[field], b[field], "{dataset} {}: {field}", day(d));
            }
        }
    }
    for (dataset, file) in [
        ("bronze/transactions", "json_to_table"),
        ("silver/transactions", "clean_dedupe"),
        ("gold/daily_totals", "aggregate"),
    ] {
        let recorded = &std.manifest(dataset, &day(1))["producer"]["sha256"];
        assert_eq!(
            recorded.as_str(),
            Some(sha256(&std::fs::read(plugin(file)).unwrap()).as_str()),
            "{dataset}"
        );
    }
}

#[test]
fn swapping_a_file_for_std_recomputes_nothing_and_other_bytes_do() {
    let ws = on_files().workspace();
    ws.run(&[]).assert_ok();
    let before = ws.snapshot();

    ws.write_config(&on_std(&on_files().toml()));
    let swapped = ws.run(&[]);
    swapped.assert_ok();
    for dataset in DATASETS {
        assert_eq!(swapped.count(dataset, "computed"), 0, "{}", swapped.json);
        assert_eq!(
            swapped.count(dataset, "fresh"),
            u64::from(DAYS),
            "{dataset}"
        );
    }
    assert_eq!(ws.snapshot(), before, "nothing was rewritten");

    // A plugin with other bytes than std's (as a host upgrade that changes
    // a standard plugin would be) recomputes what std's made.
    ws.add_plugin("json_to_table_legacy", "legacy");
    let toml = on_std(&on_files().toml()).replace("std:json-to-table", "plugins/legacy.wasm");
    ws.write_config(&toml);
    let legacy = ws.run(&[]);
    legacy.assert_ok();
    assert_eq!(
        legacy.count("bronze/transactions", "computed"),
        u64::from(DAYS)
    );
}

#[test]
fn plugin_list_shows_what_export_writes() {
    let ws = Workspace::with_example_landing();
    let out = ws.host(&["plugin", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["plugin"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["std:json-to-table", "std:clean-dedupe", "std:aggregate"]
    );
    for entry in list.as_array().unwrap() {
        let name = entry["plugin"].as_str().unwrap();
        let file = format!("{}.wasm", entry["name"].as_str().unwrap());
        let out = ws.host(&["plugin", "export", name, &file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(ws.path().join(&file)).unwrap();
        assert_eq!(
            entry["sha256"].as_str(),
            Some(sha256(&bytes).as_str()),
            "{name}"
        );
        assert_eq!(entry["size"].as_u64(), Some(bytes.len() as u64), "{name}");
        // The very bytes of the file the tests build from the same crate.
        let built = std::fs::read(plugin(&entry["name"].as_str().unwrap().replace('-', "_")));
        assert!(
            built.unwrap() == bytes,
            "{name}: export differs from the built file"
        );
        // The version is the plugin's own (describe), as inspect says.
        let out = ws.host(&["plugin", "inspect", "--json", &file]);
        let inspected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(entry["version"], inspected["info"]["version"], "{name}");
        assert!(!entry["version"].as_str().unwrap().is_empty(), "{name}");
    }

    // The table names each with its sha256.
    let out = ws.host(&["plugin", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for entry in list.as_array().unwrap() {
        let line = text
            .lines()
            .find(|l| l.starts_with(entry["plugin"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("no line for {} in:\n{text}", entry["plugin"]));
        assert!(line.ends_with(entry["sha256"].as_str().unwrap()), "{line}");
    }

    let out = ws.host(&["plugin", "export", "std:nope", "nope.wasm"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no standard plugin `std:nope`")
            && stderr.contains("std:json-to-table, std:clean-dedupe, std:aggregate"),
        "{stderr}"
    );
    assert!(!ws.path().join("nope.wasm").exists());
}

#[test]
fn an_unknown_std_name_is_a_config_error_with_its_line() {
    let ws = Workspace::with_example_landing();
    let toml = on_std(&on_files().toml()).replace("std:clean-dedupe", "std:nope");
    let line = toml
        .lines()
        .position(|l| l.contains("std:nope"))
        .expect("the line")
        + 1;
    ws.write_config(&toml);
    let out = ws.host(&["run"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("pipeline.toml:{line}: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "there is no standard plugin `nope`; the standard plugins are \
                         `std:json-to-table`, `std:clean-dedupe`, `std:aggregate`"
        ),
        "{stderr}"
    );
}
