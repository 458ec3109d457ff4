//! Schema changes across partitions: a new column joins the table as
//! nullable; partitions that disagree on a column's type leave the table
//! at its last version, readable, with the reason in `run --json`, until
//! every partition agrees.

use crate::util::{Columns, DEDUPE_BY_KEY, Medallion};

use super::{log_versions, manifests, read_table, table_of};

const BRONZE: &str = "bronze/transactions";

#[test]
fn a_new_column_is_added_and_a_type_change_waits_for_every_partition() {
    let core = Medallion::new()
        .days(4)
        .bronze("json_to_table", Columns::Core)
        .silver("clean_dedupe", DEDUPE_BY_KEY);
    let ws = core.workspace();
    ws.run(&[]).assert_ok();
    let v0 = manifests(&ws, BRONZE);
    assert!(!v0.columns.contains(&"customer_id".to_owned()));

    // The full columns: customer_id and merchant are new.
    let all = core.clone().bronze("json_to_table", Columns::All);
    ws.write_config(&all.toml());
    let run = ws.run(&["--dataset", BRONZE]);
    run.assert_ok();
    assert_eq!(table_of(&run, BRONZE)["version"], 1);
    let v1 = manifests(&ws, BRONZE);
    let dir = ws.store().join(BRONZE);
    // New columns go after the table's own, before the partition column.
    let order = [
        "id",
        "amount",
        "currency",
        "status",
        "updated_at",
        "customer_id",
        "merchant",
        "date",
    ];
    for reader in ["deltalake", "polars", "duckdb"] {
        let Some(read) = read_table(&dir, reader, None) else {
            return;
        };
        assert_eq!(read.columns, order, "{reader}");
        assert_eq!(read.rows, v1.rows, "{reader}");
    }
    assert_eq!(read_table(&dir, "polars", Some(0)).unwrap(), v0);
    let log = std::fs::read_to_string(dir.join("_delta_log/00000000000000000001.json")).unwrap();
    assert!(
        log.contains(r#"{\"name\":\"customer_id\",\"type\":\"long\",\"nullable\":true"#),
        "{log}"
    );

    // customer_id becomes a string, but only days 1 and 2 are recomputed:
    // no table version can hold both types.
    let text = all.toml().replace(
        r#"name = "customer_id", type = "int64""#,
        r#"name = "customer_id", type = "utf8""#,
    );
    ws.write_config(&text);
    let partial = ws.run(&["--dataset", BRONZE, "--to", "2025-02-02"]);
    partial.assert_ok();
    let table = table_of(&partial, BRONZE);
    let error = table["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(
            "column `customer_id` is string in date=2025-02-01 but long in date=2025-02-03"
        ),
        "{table}"
    );
    assert!(
        partial.stderr.contains("the Delta table was not updated"),
        "{}",
        partial.stderr
    );
    assert_eq!(log_versions(&ws, BRONZE), [0, 1]);
    // The table still reads as version 1: its files were kept.
    if let Some(read) = read_table(&dir, "deltalake", None) {
        assert_eq!(
            (read.columns, read.rows),
            (order.map(String::from).to_vec(), v1.rows)
        );
    }

    // Once every partition has the new type, the table takes it.
    let rest = ws.run(&["--dataset", BRONZE]);
    rest.assert_ok();
    assert_eq!(table_of(&rest, BRONZE)["version"], 2);
    assert!(table_of(&rest, BRONZE)["error"].is_null());
    if let Some(read) = read_table(&dir, "polars", None) {
        assert_eq!(read.rows, manifests(&ws, BRONZE).rows);
        assert_eq!(read.columns, order);
    }
    let log = std::fs::read_to_string(dir.join("_delta_log/00000000000000000002.json")).unwrap();
    assert!(
        log.contains(r#"{\"name\":\"customer_id\",\"type\":\"string\""#),
        "{log}"
    );
}
