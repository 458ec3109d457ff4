//! Every table of the example read by deltalake, Polars and DuckDB, a
//! plugin swap read as a new version with time travel to the old one, and
//! `host gc` keeping old versions' files for the retention only.

use crate::util::{Gold, Medallion, Workspace, day};

use super::{log_versions, manifests, read_table, table_of};

const READERS: [&str; 3] = ["deltalake", "polars", "duckdb"];

/// Every reader sees each table as its manifests say, and for a plain
/// glob reader's pitfall: the run keeps a replaced file on disk, which a
/// glob would count and the table does not.
#[test]
fn every_reader_sees_each_table_as_its_manifests_say() {
    let ws = Medallion::new()
        .days(6)
        .gold(
            "aggregate",
            &[Gold::DailyTotals, Gold::Rolling3d, Gold::AllTime],
        )
        .workspace();
    let run = ws.run(&[]);
    run.assert_ok();
    let tables = [
        "bronze/transactions",
        "silver/transactions",
        "gold/daily_totals",
        "gold/rolling_3d",
        "gold/all_time",
    ];
    for dataset in tables {
        assert_eq!(
            table_of(&run, dataset)["version"],
            0,
            "{dataset}: {}",
            run.json
        );
        let expected = manifests(&ws, dataset);
        assert_eq!(
            expected.rows.len(),
            if dataset == "gold/all_time" { 1 } else { 6 }
        );
        for reader in READERS {
            let Some(read) = read_table(&ws.store().join(dataset), reader, None) else {
                return;
            };
            assert_eq!(read, expected, "{reader} reading {dataset}");
        }
    }
    assert!(
        !ws.store().join("raw/transactions/_delta_log").exists(),
        "raw datasets are files, not tables"
    );
    assert!(table_of(&run, "raw/transactions").is_null());

    // A run with nothing to do commits no version.
    let again = ws.run(&[]);
    again.assert_ok();
    for dataset in tables {
        assert_eq!(log_versions(&ws, dataset), [0], "{dataset}");
        assert_eq!(table_of(&again, dataset)["committed"], false, "{dataset}");
    }
}

/// silver through test_passthrough, then its `alter` build, which drops
/// a row on two days: version 1 holds the new data of those two days
/// only; version 0 still reads as the old data.
fn swap_workspace(retention: &str) -> Workspace {
    let params = format!(
        "alter_partitions = \"{},{}\"\n\n[tables]\nretention = \"{retention}\"\n",
        day(2),
        day(3)
    );
    let ws = Medallion::new()
        .days(4)
        .silver("test_passthrough", &params)
        .workspace();
    ws.add_plugin("test_passthrough", "test_passthrough");
    ws
}

fn swap_plugin(ws: &Workspace) {
    ws.add_plugin("test_passthrough_alter", "test_passthrough");
}

#[test]
fn a_plugin_swap_is_a_new_version_and_time_travel_reads_the_old_one() {
    let ws = swap_workspace("7d");
    ws.run(&[]).assert_ok();
    let silver = "silver/transactions";
    let before = manifests(&ws, silver);
    swap_plugin(&ws);
    let run = ws.run(&[]);
    run.assert_ok();
    assert_eq!(run.changed(silver), [day(2), day(3)]);
    let table = table_of(&run, silver);
    assert_eq!(
        (&table["version"], &table["added"], &table["removed"]),
        (&1.into(), &2.into(), &2.into()),
        "{table}"
    );
    let after = manifests(&ws, silver);
    assert_ne!(before.rows, after.rows);
    let dir = ws.store().join(silver);
    for reader in READERS {
        let Some(latest) = read_table(&dir, reader, None) else {
            return;
        };
        assert_eq!(latest, after, "{reader}, latest");
    }
    for reader in ["deltalake", "polars"] {
        assert_eq!(
            read_table(&dir, reader, Some(1)).unwrap(),
            after,
            "{reader}, version 1"
        );
        assert_eq!(
            read_table(&dir, reader, Some(0)).unwrap(),
            before,
            "{reader}, version 0: time travel"
        );
    }

    // The replaced files stay for version 0 while the retention runs.
    let gc = ws.host(&["gc"]);
    assert!(gc.status.success());
    let said = String::from_utf8_lossy(&gc.stderr);
    assert!(said.contains("2 replaced file(s) kept"), "{said}");
    assert_eq!(ws.data_files(silver, &day(2)).len(), 2);
    assert_eq!(
        read_table(&dir, "deltalake", Some(0)).unwrap(),
        before,
        "time travel after gc within the retention"
    );
}

#[test]
fn gc_removes_replaced_files_once_the_retention_has_passed() {
    let ws = swap_workspace("0s");
    ws.run(&[]).assert_ok();
    swap_plugin(&ws);
    ws.run(&[]).assert_ok();
    let silver = "silver/transactions";
    assert_eq!(ws.data_files(silver, &day(2)).len(), 2, "kept until gc");
    let gc = ws.host(&["gc"]);
    assert!(gc.status.success());
    let said = String::from_utf8_lossy(&gc.stderr);
    assert!(said.contains("2 file(s) removed"), "{said}");
    for d in 1..=4 {
        assert_eq!(ws.data_files(silver, &day(d)).len(), 1, "day {d}");
    }
    let latest = read_table(&ws.store().join(silver), "deltalake", None);
    if let Some(latest) = latest {
        assert_eq!(latest, manifests(&ws, silver));
    }
}

/// `format = "none"`: no log anywhere, and a replaced file is deleted by
/// the commit, as before tables.
#[test]
fn format_none_writes_no_log() {
    let params = format!(
        "alter_partitions = \"{}\"\n\n[tables]\nformat = \"none\"\n",
        day(2)
    );
    let ws = Medallion::new()
        .days(3)
        .silver("test_passthrough", &params)
        .workspace();
    ws.add_plugin("test_passthrough", "test_passthrough");
    let run = ws.run(&[]);
    run.assert_ok();
    assert!(table_of(&run, "silver/transactions").is_null());
    ws.add_plugin("test_passthrough_alter", "test_passthrough");
    ws.run(&[]).assert_ok();
    assert!(!ws.all_files().keys().any(|p| p.contains("_delta_log")));
    assert_eq!(ws.data_files("silver/transactions", &day(2)).len(), 1);
}
