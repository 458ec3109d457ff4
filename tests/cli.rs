//! What the CLI's read-only commands print: `host show` on partitions a test
//! has computed with the shipped example pipeline, and `host plugin test`
//! on a sample.

use std::process::Output;

use crate::util::{Workspace, example_dir, plugin};

/// examples/transactions as shipped, with the plugins it names built from
/// source, run once.
fn example_run() -> Workspace {
    let ws = Workspace::with_example_landing();
    for name in ["json_to_table", "clean_dedupe", "aggregate"] {
        ws.add_plugin(name, name);
    }
    ws.write_config(&std::fs::read_to_string(example_dir().join("pipeline.toml")).unwrap());
    ws.run(&[]).assert_ok();
    ws
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The cells of the table row whose first cell is `first`.
fn table_row(table: &str, first: &str) -> Vec<String> {
    let rows: Vec<Vec<String>> = table
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .filter(|cells: &Vec<String>| cells.first().is_some_and(|c| c == first))
        .collect();
    assert_eq!(rows.len(), 1, "one row starting with {first} in:\n{table}");
    rows.into_iter().next().unwrap()
}

/// The landing file has `"updated_at": "2025-02-06T20:36:46+02:00"` for
/// tx-0206-000; bronze types it timestamp-us-utc, silver keeps it.
#[test]
fn show_failed_on_timestamps_with_a_named_zone_utc() {
    let ws = example_run();
    let header = [
        "id",
        "customer_id",
        "amount",
        "currency",
        "status",
        "merchant",
        "updated_at",
    ];
    for (dataset, merchant) in [
        ("bronze/transactions", "Book Nook"),
        ("silver/transactions", "book nook"),
    ] {
        let out = ws.host(&["show", dataset, "2025-02-06", "--limit", "100"]);
        let text = stdout_of(&out);
        assert!(
            text.starts_with(&format!("{dataset} date=2025-02-06\n")),
            "{text}"
        );
        assert_eq!(table_row(&text, "id"), header, "{text}");
        assert_eq!(
            table_row(&text, "tx-0206-000"),
            [
                "tx-0206-000",
                "1054",
                "83.22",
                "EUR",
                "settled",
                merchant,
                "2025-02-06T18:36:46Z"
            ],
            "{dataset}:\n{text}"
        );
    }
}

/// `host plugin test --table` prints a timestamp-us-utc column of a CSV and
/// a JSON lines sample typed by `--schema`.
#[test]
fn plugin_test_table_failed_on_timestamps_with_a_named_zone_utc() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sample.csv"),
        "id,at\na,2025-02-06T20:36:46+02:00\nb,2025-02-07T00:00:00.5Z\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sample.jsonl"),
        "{\"id\":\"a\",\"at\":\"2025-02-06T20:36:46+02:00\"}\n\
         {\"id\":\"b\",\"at\":\"2025-02-07T00:00:00.5Z\"}\n",
    )
    .unwrap();
    let schema = r#"[{"name": "id", "type": "utf8", "nullable": false},
                     {"name": "at", "type": "timestamp-us-utc", "nullable": false}]"#;
    let wasm = plugin("test_passthrough");
    for sample in ["sample.csv", "sample.jsonl"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_host"))
            .current_dir(dir.path())
            .env("STRATA_CACHE_DIR", crate::util::shared_cache())
            .env("NO_COLOR", "1")
            .args(["plugin", "test", wasm.to_str().unwrap(), "--input", sample])
            .args(["--schema", schema, "--table"])
            .output()
            .unwrap();
        let text = stdout_of(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("output: 2 row(s); id: utf8 not null, at: timestamp-us-utc not null"),
            "{sample}: {stderr}"
        );
        assert_eq!(table_row(&text, "id"), ["id", "at"], "{sample}:\n{text}");
        assert_eq!(
            table_row(&text, "a"),
            ["a", "2025-02-06T18:36:46Z"],
            "{sample}:\n{text}"
        );
        assert_eq!(
            table_row(&text, "b"),
            ["b", "2025-02-07T00:00:00.500Z"],
            "{sample}:\n{text}"
        );
    }
}
