//! Plugins in Python and JavaScript beside Rust: the example pipeline with
//! the Python silver and the JavaScript gold gives the Rust pipeline's
//! bytes; swapping in the Python silver stops at silver by early cutoff;
//! author errors and malformed JSON lines fail the partition with their
//! message; `host plugin new/build/test/inspect` work in every language.
//!
//! The Python and JavaScript plugins are built from source by
//! `strata-test-plugins` when their toolchains are installed (CI installs
//! them: .ci/run). Without one, its tests print a loud SKIPPED locally and
//! fail in CI (`CI=true`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{DEDUPE, Gold, Medallion, Workspace, day, plugin, shared_cache};

/// A Python or JavaScript plugin, or `None` (after a loud skip message) if
/// its toolchain was missing when the tests were built. In CI a missing
/// toolchain is a failure.
pub(crate) fn polyglot(name: &str) -> Option<PathBuf> {
    let Some(why) = strata_test_plugins::missing(name) else {
        return Some(plugin(name));
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must build the plugin `{name}`, but: {why}");
    }
    // Straight to stderr, past the test harness's capture: a skip must be
    // seen even when the test passes.
    let bar = "!".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\nSKIPPED: the plugin `{name}` was not built: {why}\n{bar}\n"
    );
    None
}

/// The example pipeline (as tests/pipeline.rs runs it) with the given
/// silver and gold plugins, over `days` days.
fn config(silver: &str, gold: &str, days: u32) -> String {
    Medallion::new()
        .days(days)
        .silver(silver, DEDUPE)
        .gold(
            gold,
            &[Gold::DailyTotals, Gold::Rolling3dWide, Gold::AllTime],
        )
        .toml()
}

const DAYS: u32 = 16;
const GOLD: [&str; 3] = ["gold/daily_totals", "gold/rolling_3d", "gold/all_time"];

/// The example's landing files with the given plugins in `plugins/`.
fn workspace(plugins: &[(&Path, &str)]) -> Workspace {
    let ws = Workspace::with_example_landing();
    ws.add_plugin("json_to_table", "json_to_table");
    for (path, name) in plugins {
        std::fs::copy(path, ws.path().join("plugins").join(format!("{name}.wasm"))).unwrap();
    }
    ws
}

/// Every data file of a dataset by partition (file names are content
/// prefixes, so equal names mean equal bytes; the bytes are compared too).
fn data(ws: &Workspace, dataset: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(ws.store().join(dataset)).unwrap() {
        let partition = entry.unwrap().file_name().to_string_lossy().into_owned();
        if partition.starts_with('_') {
            continue; // the Delta log
        }
        let files = ws.data_files(dataset, &partition);
        assert_eq!(files.len(), 1, "{dataset} {partition}: {files:?}");
        out.insert(partition, std::fs::read(&files[0]).unwrap());
    }
    out
}

#[test]
fn python_silver_and_javascript_gold_give_the_rust_pipelines_bytes() {
    let (Some(silver_py), Some(gold_js)) = (polyglot("clean_dedupe_py"), polyglot("aggregate_js"))
    else {
        return;
    };
    let rust = workspace(&[
        (&plugin("clean_dedupe"), "silver"),
        (&plugin("aggregate"), "gold"),
    ]);
    rust.write_config(&config("silver", "gold", DAYS));
    rust.run(&[]).assert_ok();

    let poly = workspace(&[(&silver_py, "silver"), (&gold_js, "gold")]);
    poly.write_config(&config("silver", "gold", DAYS));
    let run = poly.run(&[]);
    run.assert_ok();
    assert_eq!(run.count("silver/transactions", "computed"), DAYS as u64);
    assert_eq!(run.computed("gold/all_time"), ["all"]);

    for dataset in ["silver/transactions"].into_iter().chain(GOLD) {
        let (r, p) = (data(&rust, dataset), data(&poly, dataset));
        assert_eq!(
            r.keys().collect::<Vec<_>>(),
            p.keys().collect::<Vec<_>>(),
            "{dataset}"
        );
        for (partition, bytes) in &r {
            // Same schema, so the same bytes: the manifests say so first.
            let schema = |ws: &Workspace| ws.manifest(dataset, partition)["schema"].clone();
            assert_eq!(schema(&rust), schema(&poly), "{dataset} {partition} schema");
            assert!(
                *bytes == p[partition],
                "{dataset} {partition}: the Python/JavaScript output differs from the Rust output"
            );
            let rows = |ws: &Workspace| ws.manifest(dataset, partition)["rows"].clone();
            assert_eq!(rows(&rust), rows(&poly), "{dataset} {partition} rows");
        }
    }
    // They were made by other plugins, all the same.
    let producer = poly.manifest("silver/transactions", &day(1));
    assert!(
        producer.to_string().contains("clean-dedupe-py"),
        "{producer}"
    );
    let producer = poly.manifest("gold/daily_totals", &day(1));
    assert!(producer.to_string().contains("aggregate-js"), "{producer}");
}

#[test]
fn swapping_the_rust_silver_for_the_python_one_recomputes_silver_and_nothing_below() {
    let Some(silver_py) = polyglot("clean_dedupe_py") else {
        return;
    };
    let ws = workspace(&[
        (&plugin("clean_dedupe"), "clean_dedupe"),
        (&silver_py, "clean_dedupe_py"),
        (&plugin("aggregate"), "aggregate"),
    ]);
    ws.write_config(&config("clean_dedupe", "aggregate", DAYS));
    ws.run(&[]).assert_ok();
    let before = ws.snapshot();

    ws.write_config(&config("clean_dedupe_py", "aggregate", DAYS));
    let (state, reason) = ws.status()[&("silver/transactions".to_owned(), day(4))].clone();
    assert_eq!(state, "stale");
    assert!(reason.starts_with("plugin changed"), "{reason}");

    let swap = ws.run(&[]);
    swap.assert_ok();
    assert_eq!(swap.count("silver/transactions", "computed"), DAYS as u64);
    assert!(
        swap.changed("silver/transactions").is_empty(),
        "the Python silver changed bytes on {:?}",
        swap.changed("silver/transactions")
    );
    for dataset in ["bronze/transactions"].into_iter().chain(GOLD) {
        assert!(
            swap.computed(dataset).is_empty(),
            "{dataset} recomputed: {:?}",
            swap.computed(dataset)
        );
    }
    let after = ws.snapshot();
    for (path, hash) in &before {
        if !path.ends_with("_manifest.json") {
            assert_eq!(after.get(path), Some(hash), "{path}");
        }
    }
    assert!(
        ws.manifest("silver/transactions", &day(4))
            .to_string()
            .contains("clean-dedupe-py")
    );
}

/// Runs the first two days with `name` as silver (params `mode = MODE`),
/// checks both failed with `kind`, and returns the error of day 1.
fn failing_silver(path: &Path, mode: &str, kind: &str) -> String {
    let ws = workspace(&[(path, "silver")]);
    // Silver gets `mode` instead of clean-dedupe's params; no gold.
    let text = Medallion::new()
        .days(2)
        .silver("silver", &format!("mode = \"{mode}\""))
        .toml();
    ws.write_config(&text);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "a failed partition must fail the run");
    let failures = run.dataset("silver/transactions")["failed_partitions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(failures[0]["partition"], day(1));
    assert_eq!(
        run.count("bronze/transactions", "computed"),
        2,
        "bronze must not be touched by a silver failure"
    );
    for f in &failures {
        assert_eq!(f["error"]["kind"], kind, "{failures:?}");
    }
    let error = failures[0]["error"]["message"].as_str().unwrap().to_owned();
    for needle in ["silver/transactions", "date=2025-02-01"] {
        assert!(
            error.contains(needle),
            "the error does not name {needle}: {error}"
        );
    }
    error
}

#[test]
fn a_python_raise_fails_the_partition_with_the_authors_message() {
    let Some(path) = polyglot("test_misbehave_py") else {
        return;
    };
    let error = failing_silver(&path, "raise", "plugin-error");
    assert!(
        error.contains("ValueError: python plugin failed on purpose"),
        "{error}"
    );
    assert!(error.contains("misbehave.py"), "no location: {error}");
    assert!(
        error.contains("test-misbehave-py"),
        "no plugin name: {error}"
    );

    let error = failing_silver(&path, "bad-params", "plugin-error");
    assert!(
        error.contains("rejected its params: param `mode` is bad on purpose"),
        "{error}"
    );
}

#[test]
fn a_javascript_throw_fails_the_partition_with_the_authors_message() {
    let Some(path) = polyglot("test_misbehave_js") else {
        return;
    };
    let error = failing_silver(&path, "throw", "plugin-error");
    assert!(
        error.contains("Error: js plugin failed on purpose"),
        "{error}"
    );
    assert!(
        error.contains("test-misbehave-js"),
        "no plugin name: {error}"
    );

    let error = failing_silver(&path, "bad-params", "plugin-error");
    assert!(
        error.contains("rejected its params: param `mode` is bad on purpose"),
        "{error}"
    );
}

#[test]
fn a_json_lines_line_that_does_not_fit_the_schema_fails_naming_the_line() {
    for name in ["test_misbehave_py", "test_misbehave_js"] {
        let Some(path) = polyglot(name) else {
            continue;
        };
        let error = failing_silver(&path, "bad-line", "bad-output");
        assert!(error.contains("malformed output"), "{name}: {error}");
        assert!(error.contains("JSON line 3"), "{name}: {error}");
        assert!(
            error.contains("field `n` (int64)") && error.contains("\"three\""),
            "{name}: {error}"
        );
    }
}

/// Runs `host ARGS` in `dir` with the shared cache and extra environment.
fn host(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .current_dir(dir)
        .env("STRATA_CACHE_DIR", shared_cache())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running host")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `host plugin new` in `lang` for `layer`, then `host plugin build`, then
/// the sample test its README gives.
fn scaffold_builds_and_passes_its_test(lang: &str, layer: &str) {
    let dir = tempfile::tempdir().unwrap();
    // Rust: the plugins' target folder, so the SDK and Arrow are not
    // compiled again.
    let target = Path::new(strata_test_plugins::DIR)
        .parent()
        .unwrap()
        .to_owned();
    // JavaScript: the repository's toolchain (tests/install.rs runs the
    // scaffold's own `npm ci` instead).
    let js_toolchain = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/js");
    let env: &[(&str, &Path)] = &[
        ("CARGO_TARGET_DIR", &target),
        ("STRATA_JS_TOOLCHAIN", &js_toolchain),
    ];
    let out = host(
        dir.path(),
        &[
            "plugin",
            "new",
            "demo-plugin",
            "--lang",
            lang,
            "--layer",
            layer,
        ],
        env,
    );
    assert!(out.status.success(), "new: {}", text(&out));
    let project = dir.path().join("demo-plugin");
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();

    let out = host(dir.path(), &["plugin", "build", "demo-plugin"], env);
    assert!(out.status.success(), "build: {}", text(&out));
    let built = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(
        Path::new(&built),
        project.join("build/demo_plugin.wasm"),
        "{}",
        text(&out)
    );

    // The test command the README gives, as it is.
    let line = readme
        .lines()
        .find(|l| l.starts_with("host plugin test"))
        .unwrap_or_else(|| panic!("no test command in the README:\n{readme}"));
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let out = host(&project, &args, env);
    assert!(out.status.success(), "{line}: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ok: the output is the rows of"),
        "{}",
        text(&out)
    );

    // And the check has teeth: other expected rows fail it.
    let expected = project.join("samples/expected.jsonl");
    let rows = std::fs::read_to_string(&expected).unwrap();
    let first_line_end = rows.find('\n').unwrap() + 1;
    std::fs::write(&expected, &rows[first_line_end..]).unwrap();
    let out = host(&project, &args, env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("FAILED"),
        "{}",
        text(&out)
    );
}

#[test]
fn host_plugin_new_in_rust_builds_and_passes_its_test() {
    scaffold_builds_and_passes_its_test("rust", "silver");
}

#[test]
fn host_plugin_new_in_python_builds_and_passes_its_test() {
    if polyglot("clean_dedupe_py").is_none() {
        return;
    }
    scaffold_builds_and_passes_its_test("python", "bronze");
}

#[test]
fn host_plugin_new_in_javascript_builds_and_passes_its_test() {
    if polyglot("aggregate_js").is_none() {
        return;
    }
    scaffold_builds_and_passes_its_test("js", "gold");
}

#[test]
fn host_plugin_inspect_shows_a_shipped_plugin_and_marks_refused_imports() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = plugin("aggregate");
    let out = host(
        dir.path(),
        &["plugin", "inspect", wasm.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let contract = strata_runtime::Contract::NEWEST.package();
    let host_interface = contract.replace("plugin@", "plugin/host@");
    for needle in [
        "name         aggregate",
        &format!("contract     {contract}"),
        "format       arrow-ipc",
        &host_interface,
        "imports:",
    ] {
        assert!(stdout.contains(needle), "no {needle:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("(refused)"), "{stdout}");

    if let Some(py) = polyglot("clean_dedupe_py") {
        let out = host(
            dir.path(),
            &["plugin", "inspect", "--json", py.to_str().unwrap()],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["info"]["name"], "clean-dedupe-py");
        assert_eq!(doc["info"]["format"], "json-lines");
        assert_eq!(doc["loads"], true);
        // Built with every WASI import stubbed: only the contract is left.
        let imports: Vec<&str> = doc["imports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert!(
            imports.iter().all(|i| i.starts_with("strata:plugin/")),
            "{imports:?}"
        );
    }

    // A plugin the sandbox refuses still shows what it asks for.
    let net = plugin("test_net");
    let out = host(
        dir.path(),
        &["plugin", "inspect", net.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let refused: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with("(refused)"))
        .collect();
    assert!(
        !refused.is_empty()
            && refused
                .iter()
                .all(|l| l.trim().starts_with("wasi:sockets/")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.trim() == "wasi:io/streams@0.2.6" || l.trim().starts_with("wasi:io/")),
        "granted imports are listed too:\n{stdout}"
    );
    assert!(
        stdout.contains("refused: the sandbox will not load this plugin"),
        "{stdout}"
    );
    assert!(stdout.contains("sha256"), "{stdout}");
}

#[test]
fn a_javascript_plugin_can_work_on_arrow_tables() {
    let Some(wasm) = polyglot("test_arrow_passthrough_js") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.jsonl");
    std::fs::write(
        &sample,
        "{\"id\":\"a\",\"n\":1,\"x\":1.5,\"ok\":true}\n{\"id\":null,\"n\":-2,\"x\":null,\"ok\":false}\n{\"id\":\"c\",\"n\":3,\"x\":0.25,\"ok\":null}\n",
    )
    .unwrap();
    let out = host(
        dir.path(),
        &[
            "plugin",
            "test",
            wasm.to_str().unwrap(),
            "--input",
            "sample.jsonl",
            "--batch-rows",
            "2",
            "--expect",
            "sample.jsonl",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(arrow-ipc)"), "{stderr}");
    assert!(
        stderr.contains("3 row(s) passed through apache-arrow"),
        "{stderr}"
    );
}
