use strata_core::manifest::{Column, FORMAT_VERSION, FileEntry, Producer, content_hash};

use super::*;

fn manifest(day: u32, file: &str, columns: &[(&str, &str)]) -> Arc<Manifest> {
    let files = vec![FileEntry {
        path: file.into(),
        size: 100 + day as u64,
        sha256: sha256_hex(file.as_bytes()),
    }];
    Arc::new(Manifest {
        format: FORMAT_VERSION,
        dataset: "silver/t".into(),
        partition: format!("date=2025-02-{day:02}"),
        key: sha256_hex(b"k"),
        content_hash: content_hash(&files),
        files,
        rows: Some(1),
        schema: columns
            .iter()
            .map(|(n, t)| Column {
                name: (*n).into(),
                data_type: (*t).into(),
                nullable: true,
            })
            .collect(),
        producer: Producer::Plugin {
            name: "p".into(),
            version: "1".into(),
            sha256: sha256_hex(b"p"),
        },
        params: serde_json::Value::Null,
        inputs: vec![],
        written_at: "2025-02-18T00:00:00.000Z".into(),
        host_version: "0".into(),
        invalidated: None,
        checks: vec![],
    })
}

fn kinds(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::CommitInfo(_) => "commitInfo".to_owned(),
            Action::Protocol(_) => "protocol".to_owned(),
            Action::MetaData(_) => "metaData".to_owned(),
            Action::Add(a) => format!("add {}", a.path),
            Action::Remove(r) => format!("remove {}", r.path),
        })
        .collect()
}

#[test]
fn the_plan_is_the_difference_between_log_and_manifests() {
    let now = Utc::now();
    let cols = [("id", "utf8")];
    let v0 = vec![
        manifest(1, "part-a.parquet", &cols),
        manifest(2, "part-b.parquet", &cols),
    ];
    let first = plan(&Snapshot::default(), &v0, now).unwrap().unwrap();
    assert_eq!(
        kinds(&first),
        [
            "commitInfo",
            "protocol",
            "metaData",
            "add date=2025-02-01/part-a.parquet",
            "add date=2025-02-02/part-b.parquet"
        ]
    );
    let Action::MetaData(meta) = &first[2] else {
        unreachable!()
    };
    assert_eq!(meta.partition_columns, ["date"]);
    assert!(
        meta.schema_string
            .contains("{\"name\":\"date\",\"type\":\"date\"")
    );
    let mut snapshot = Snapshot::default();
    for a in first {
        snapshot.apply(a);
    }
    snapshot.version = Some(0);
    // Nothing changed: nothing to commit.
    assert!(plan(&snapshot, &v0, now).unwrap().is_none());
    // Day 2 replaced by a new plugin that adds a column, day 1 gone.
    let v1 = vec![manifest(
        2,
        "part-c.parquet",
        &[("id", "utf8"), ("fx", "float64")],
    )];
    let second = plan(&snapshot, &v1, now).unwrap().unwrap();
    assert_eq!(
        kinds(&second),
        [
            "commitInfo",
            "metaData",
            "remove date=2025-02-01/part-a.parquet",
            "remove date=2025-02-02/part-b.parquet",
            "add date=2025-02-02/part-c.parquet"
        ]
    );
    // Partitions that disagree on a type commit nothing and say why.
    let bad = vec![
        manifest(2, "part-c.parquet", &[("id", "utf8")]),
        manifest(3, "part-d.parquet", &[("id", "int64")]),
    ];
    let err = plan(&snapshot, &bad, now).unwrap_err();
    assert!(matches!(err, TableError::Schema(_)), "{err}");
}

#[test]
fn versions_are_twenty_digits() {
    assert_eq!(parse_version("00000000000000000012"), Some(12));
    assert_eq!(parse_version("12"), None);
    assert_eq!(parse_version("0000000000000000001a"), None);
}
