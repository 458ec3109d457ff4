use std::sync::Arc;

use strata_sdk::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, RecordBatch, StringArray};
use strata_sdk::arrow::datatypes::{
    Date32Type, Decimal128Type, Float64Type, Int64Type, TimestampMicrosecondType,
};
use strata_sdk::{Context, Error, Input, Params, Transform};

use super::JsonToTable;

fn context(params: &[(&str, &str)]) -> Context {
    Context {
        dataset: "bronze/t".into(),
        partition: "date=2025-02-18".into(),
        period_start: String::new(),
        period_end: String::new(),
        params: params.iter().copied().collect::<Params>(),
        inputs: vec![Input {
            dataset: "raw/t".into(),
            schema: raw(&[]).schema(),
        }],
    }
}

fn raw(files: &[(&str, &str)]) -> RecordBatch {
    let names: ArrayRef = Arc::new(StringArray::from_iter_values(files.iter().map(|f| f.0)));
    let bodies: ArrayRef = Arc::new(BinaryArray::from_iter_values(
        files.iter().map(|f| f.1.as_bytes()),
    ));
    RecordBatch::try_from_iter([("file", names), ("body", bodies)]).unwrap()
}

const COLUMNS: &str = r#"[
    {"name": "id", "type": "int64", "nullable": false},
    {"name": "name", "type": "utf8"},
    {"name": "amount", "type": "decimal128(12,2)", "from": "/price/amount"},
    {"name": "ratio", "type": "float64"},
    {"name": "ok", "type": "bool"},
    {"name": "day", "type": "date32"},
    {"name": "at", "type": "timestamp-us-utc"}
]"#;

fn run(params: &[(&str, &str)], files: &[(&str, &str)]) -> Result<Vec<RecordBatch>, Error> {
    let mut t = JsonToTable::open(&context(params))?;
    let mut out = t.process(0, raw(files))?;
    out.extend(t.finish()?);
    Ok(out)
}

#[test]
fn parses_all_types() {
    let out = run(
        &[("columns", COLUMNS)],
        &[
            (
                "a.json",
                r#"{"records": [
                    {"id": 1, "name": "x", "price": {"amount": "12.5"}, "ratio": 0.5, "ok": true,
                     "day": "2025-02-18", "at": "2025-02-18T10:00:00+02:00"},
                    {"id": "2", "name": 7, "ratio": null}
                ]}"#,
            ),
            ("b.json", r#"{"records": null}"#),
            ("c.json", r#"{"other": 1}"#),
            (
                "d.json",
                r#"[{"id": 3, "price": {"amount": 123456789.01}}]"#,
            ),
        ],
    )
    .unwrap();
    assert_eq!(out.len(), 1);
    let b = &out[0];
    assert_eq!(b.num_rows(), 3);
    assert!(!b.schema().field(0).is_nullable());
    let ids = b.column(0).as_primitive::<Int64Type>();
    assert_eq!(ids.values(), &[1, 2, 3]);
    let names = b.column(1).as_string::<i32>();
    assert_eq!(names.value(0), "x");
    assert_eq!(names.value(1), "7");
    assert!(names.is_null(2));
    let amounts = b.column(2).as_primitive::<Decimal128Type>();
    assert_eq!(amounts.value(0), 1250);
    assert!(amounts.is_null(1));
    assert_eq!(amounts.value(2), 12345678901);
    assert_eq!(b.column(3).as_primitive::<Float64Type>().value(0), 0.5);
    assert!(b.column(4).as_boolean().value(0));
    assert_eq!(b.column(5).as_primitive::<Date32Type>().value(0), 20137);
    let at = b.column(6).as_primitive::<TimestampMicrosecondType>();
    let expected = if cfg!(feature = "legacy-offsets") {
        1_739_872_800_000_000 // 10:00 taken as UTC: the old bug
    } else {
        1_739_865_600_000_000 // 08:00 UTC
    };
    assert_eq!(at.value(0), expected);
    assert_eq!(at.timezone(), Some("UTC"));
}

#[test]
fn empty_input_gives_empty_batch_with_schema() {
    let out = run(&[("columns", COLUMNS)], &[("a.json", "[]")]).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].num_rows(), 0);
    assert_eq!(out[0].num_columns(), 7);
}

#[test]
fn records_field_and_pointer() {
    let cols = r#"[{"name": "v", "type": "int64"}]"#;
    let out = run(
        &[("columns", cols), ("records_field", "items")],
        &[("a.json", r#"{"items": [{"v": 1}]}"#)],
    )
    .unwrap();
    assert_eq!(out[0].num_rows(), 1);
    let out = run(
        &[("columns", cols), ("records_field", "/data/items")],
        &[("a.json", r#"{"data": {"items": [{"v": 1}, {"v": 2}]}}"#)],
    )
    .unwrap();
    assert_eq!(out[0].num_rows(), 2);
}

#[test]
fn errors_name_file_record_column_and_value() {
    let err = run(
        &[("columns", COLUMNS)],
        &[(
            "page-0001.json",
            r#"[{"id": 1}, {"id": 2, "order_id": "A-7", "price": {"amount": "1.234"}}]"#,
        )],
    )
    .unwrap_err();
    let Error::BadInput(msg) = err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("page-0001.json"), "{msg}");
    assert!(msg.contains("record 1 (id=2)"), "{msg}");
    assert!(msg.contains("`amount`"), "{msg}");
    assert!(msg.contains("\"1.234\""), "{msg}");

    let err = run(&[("columns", COLUMNS)], &[("x.json", r#"[{"name": "n"}]"#)]).unwrap_err();
    let Error::BadInput(msg) = err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains("x.json") && msg.contains("`id`") && msg.contains("missing"),
        "{msg}"
    );

    let err = run(&[("columns", COLUMNS)], &[("bad.json", "{not json")]).unwrap_err();
    let Error::BadInput(msg) = err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains("bad.json") && msg.contains("not valid JSON"),
        "{msg}"
    );
}

#[test]
fn bad_params() {
    for params in [
        vec![],
        vec![("columns", "[]")],
        vec![("columns", r#"[{"name": "a", "type": "int32"}]"#)],
        vec![("columns", r#"[{"name": "a", "type": "int64", "bogus": 1}]"#)],
        vec![
            ("columns", r#"[{"name": "a", "type": "int64"}]"#),
            ("typo", "x"),
        ],
    ] {
        let err = JsonToTable::open(&context(&params)).err().unwrap();
        assert!(matches!(err, Error::BadParams(_)), "{err:?}");
    }
}
