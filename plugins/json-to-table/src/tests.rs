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
        params: params
            .iter()
            .map(|(k, v)| {
                // JSON when it is JSON (`["id"]`, `3`), else a string.
                let value = serde_json::from_str(v)
                    .unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
                (*k, value)
            })
            .collect::<Params>(),
        inputs: vec![Input {
            dataset: "raw/t".into(),
            schema: raw(&[]).schema(),
            partitions: vec!["date=2025-02-18".into()],
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
    let mut out = t.process(0, 0, raw(files))?;
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

fn bad_input(result: Result<Vec<RecordBatch>, Error>) -> String {
    match result {
        Err(Error::BadInput(msg)) => msg,
        other => panic!("expected bad input, got {other:?}"),
    }
}

fn strings(batch: &RecordBatch, column: usize) -> Vec<Option<String>> {
    let col = batch.column(column).as_string::<i32>();
    (0..col.len())
        .map(|i| (!col.is_null(i)).then(|| col.value(i).to_string()))
        .collect()
}

#[test]
fn keys_in_any_order_and_unknown_keys_of_any_shape() {
    let cols = r#"[{"name": "id", "type": "int64"}, {"name": "name", "type": "utf8"},
                   {"name": "amount", "type": "decimal128(12,2)", "from": "/price/amount"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"{"meta": {"ids": [1, 2.5, {"x": [null, "\"q\""]}], "deep": [[[[{}]]]]},
                "records": [
                {"id": 1, "name": "a", "price": {"amount": "1.50"}},
                {"price": {"currency": "EUR", "amount": 2, "notes": [1, {"a": "b"}]},
                 "extra": {"id": 99, "name": "nested, not read"}, "name": "b", "id": 2},
                {"zzz": 1e400, "name": "c", "big": 123456789012345678901234567890, "id": 3,
                 "flag": true, "nothing": null, "price": null}
              ], "next_cursor": "\u00e9"}"#,
        )],
    )
    .unwrap();
    let b = &out[0];
    assert_eq!(b.column(0).as_primitive::<Int64Type>().values(), &[1, 2, 3]);
    assert_eq!(
        strings(b, 1),
        [Some("a".into()), Some("b".into()), Some("c".into())]
    );
    let amounts = b.column(2).as_primitive::<Decimal128Type>();
    assert_eq!(amounts.value(0), 150);
    assert_eq!(amounts.value(1), 200);
    assert!(amounts.is_null(2)); // `price` is null: the pointer finds nothing
}

#[test]
fn many_columns_in_shuffled_order() {
    // More fields than a linear scan covers: looked up by hash.
    let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let cols = names
        .iter()
        .map(|n| format!(r#"{{"name": "{n}", "type": "int64"}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let record = |order: &mut dyn Iterator<Item = usize>| {
        let fields: Vec<String> = order.map(|i| format!(r#""f{i}": {i}"#)).collect();
        format!("{{{}}}", fields.join(","))
    };
    let body = format!(
        "[{}, {}, {}]",
        record(&mut (0..20)),
        record(&mut (0..20).rev()),
        record(&mut (0..20).map(|i| (i * 7) % 20)),
    );
    let out = run(&[("columns", &format!("[{cols}]"))], &[("a.json", &body)]).unwrap();
    for (i, col) in out[0].columns().iter().enumerate() {
        assert_eq!(col.as_primitive::<Int64Type>().values(), &[i as i64; 3]);
    }
}

#[test]
fn escaped_strings_and_keys() {
    let cols = r#"[{"name": "id", "type": "utf8"}, {"name": "a/b", "type": "utf8", "from": "/a~1b"},
                   {"name": "t", "type": "utf8", "from": "~t"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"\u0069d": "q\"uote\\ \n tab\t \u00e9 \ud83d\ude00 / \/", "a/b": "slash", "~t": "tilde"},
                {"id": "plain é 😀"}]"#,
        )],
    )
    .unwrap();
    let b = &out[0];
    assert_eq!(
        strings(b, 0),
        [
            Some("q\"uote\\ \n tab\t é 😀 / /".into()),
            Some("plain é 😀".into())
        ]
    );
    assert_eq!(strings(b, 1), [Some("slash".into()), None]);
    assert_eq!(strings(b, 2), [Some("tilde".into()), None]);
}

#[test]
fn repeated_keys_last_one_wins() {
    let cols = r#"[{"name": "id", "type": "int64"},
                   {"name": "amount", "type": "decimal128(12,2)", "from": "/price/amount"},
                   {"name": "currency", "type": "utf8", "from": "/price/currency"}]"#;
    let out = run(
        &[("columns", cols)],
        &[
            (
                "a.json",
                r#"[{"id": "not a number", "id": 2},
                    {"id": 3, "price": {"amount": "1.00"}, "price": {"currency": "EUR"}},
                    {"id": 4, "price": {"amount": "1.00", "amount": "2.00"}}]"#,
            ),
            (
                "b.json",
                r#"{"records": [{"id": 5}], "records": [{"id": 6}, {"id": 7}]}"#,
            ),
            ("c.json", r#"[{"id": 8}]"#),
        ],
    )
    .unwrap();
    let b = &out[0];
    assert_eq!(
        b.column(0).as_primitive::<Int64Type>().values(),
        &[2, 3, 4, 6, 7, 8]
    );
    let amounts = b.column(1).as_primitive::<Decimal128Type>();
    assert!(amounts.is_null(0) && amounts.is_null(1));
    assert_eq!(amounts.value(2), 200);
    assert_eq!(strings(b, 2)[1], Some("EUR".into()));
}

#[test]
fn numbers_keep_their_digits() {
    let cols = r#"[{"name": "d", "type": "decimal128(38,4)"}, {"name": "s", "type": "utf8", "from": "d"},
                   {"name": "f", "type": "float64", "from": "d"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"d": 1234567890123456789012345678.9012}, {"d": 18446744073709551616},
                {"d": -9223372036854775808}, {"d": 1E3}, {"d": -0}, {"d": 0.5e-1},
                {"d": 18446744073709551615}]"#,
        )],
    )
    .unwrap();
    let b = &out[0];
    let d = b.column(0).as_primitive::<Decimal128Type>();
    assert_eq!(d.value(0), 12345678901234567890123456789012);
    assert_eq!(d.value(1), 184467440737095516160000);
    assert_eq!(d.value(2), -92233720368547758080000);
    assert_eq!(d.value(3), 10000000);
    assert_eq!(d.value(4), 0);
    assert_eq!(d.value(5), 500);
    // As text: serde_json's arbitrary-precision form of each number.
    let s: Vec<String> = strings(b, 1).into_iter().map(Option::unwrap).collect();
    assert_eq!(
        s,
        [
            "1234567890123456789012345678.9012",
            "18446744073709551616",
            "-9223372036854775808",
            "1e+3",
            "-0",
            "0.5e-1",
            "18446744073709551615"
        ]
    );
    let f = b.column(2).as_primitive::<Float64Type>();
    assert_eq!(f.value(3), 1000.0);
    assert_eq!(f.value(6), 18446744073709551615u64 as f64);
}

#[test]
fn int64_bounds() {
    let cols = r#"[{"name": "v", "type": "int64"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"v": 9223372036854775807}, {"v": -9223372036854775808}, {"v": "-0"}, {"v": -0}]"#,
        )],
    )
    .unwrap();
    assert_eq!(
        out[0].column(0).as_primitive::<Int64Type>().values(),
        &[i64::MAX, i64::MIN, 0, 0]
    );
    for (v, shown) in [
        ("9223372036854775808", "9223372036854775808"),
        ("-9223372036854775809", "-9223372036854775809"),
        ("1.0", "1.0"),
        ("1E2", "1e+2"),
    ] {
        let msg = bad_input(run(
            &[("columns", cols)],
            &[("a.json", &format!(r#"[{{"v": {v}}}]"#))],
        ));
        assert!(
            msg.contains(&format!(
                "cannot convert {shown}: expected an integer that fits in int64"
            )),
            "{msg}"
        );
    }
}

#[test]
fn other_values_as_text() {
    let cols = r#"[{"name": "v", "type": "utf8"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"v": {"b": 1, "a": [true, null, "x\"y"], "c": {}}}, {"v": [1.50, -2]}, {"v": true},
                {"v": {}}, {"v": []}, {"v": {"k": 1, "k": 2}}]"#,
        )],
    )
    .unwrap();
    let s: Vec<String> = strings(&out[0], 0)
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(
        s,
        [
            r#"{"a":[true,null,"x\"y"],"b":1,"c":{}}"#,
            "[1.50,-2]",
            "true",
            "{}",
            "[]",
            r#"{"k":2}"#
        ]
    );
}

#[test]
fn nulls_and_missing_values() {
    let cols = r#"[{"name": "id", "type": "int64", "nullable": false},
                   {"name": "n", "type": "float64"},
                   {"name": "amount", "type": "decimal128(12,2)", "from": "/price/amount"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"id": 1, "n": null, "price": {"amount": null}}, {"id": 2, "price": 5},
                {"id": 3, "price": [1]}, {"id": 4, "n": 1}]"#,
        )],
    )
    .unwrap();
    let b = &out[0];
    let n = b.column(1).as_primitive::<Float64Type>();
    assert!(n.is_null(0) && n.is_null(1) && n.is_null(2) && !n.is_null(3));
    assert_eq!(b.column(2).null_count(), 4);

    let strict = r#"[{"name": "id", "type": "int64"},
                     {"name": "amount", "type": "decimal128(12,2)", "from": "/price/amount", "nullable": false}]"#;
    let msg = bad_input(run(
        &[("columns", strict)],
        &[("a.json", r#"[{"id": 1, "price": {"amount": null}}]"#)],
    ));
    assert!(
        msg.contains("record 0 (id=1): column `amount`") && msg.contains("value is null"),
        "{msg}"
    );
    let msg = bad_input(run(
        &[("columns", strict)],
        &[(
            "a.json",
            r#"[{"id": 1, "price": {"amount": "1"}}, {"price": null, "id": 2}]"#,
        )],
    ));
    assert!(
        msg.contains("record 1 (id=2): column `amount`") && msg.contains("value is missing"),
        "{msg}"
    );
}

#[test]
fn errors_name_the_first_bad_record_wherever_its_id_is() {
    let cols = r#"[{"name": "amount", "type": "decimal128(12,2)"}]"#;
    let msg = bad_input(run(
        &[("columns", cols)],
        &[
            ("good.json", r#"[{"amount": "1.00"}]"#),
            (
                "page-2.json",
                r#"{"records": [{"amount": "1.00"}, {"amount": "x", "zeta": 1, "order_id": "A-7"},
                                {"amount": "y", "id": 9}]}"#,
            ),
        ],
    ));
    assert!(
        msg.starts_with(
            "file `page-2.json`, record 1 (order_id=\"A-7\"): column `amount` (decimal128(12,2)): \
             cannot convert \"x\": "
        ),
        "{msg}"
    );
}

#[test]
fn the_whole_document_is_checked_before_any_record() {
    let cols = r#"[{"name": "id", "type": "int64"}]"#;
    // A bad value in record 0, then a syntax error: the syntax error is told.
    for body in [
        r#"[{"id": "x"}, {"#,
        "[{\"id\": \"x\"}, {\"skipped\": \"\\ud800\"}]",
        "[{\"id\": \"x\"}, {\"skipped\": \"\\q\"}]",
        "[{\"id\": 1}] trailing",
    ] {
        let msg = bad_input(run(&[("columns", cols)], &[("a.json", body)]));
        assert!(msg.contains("body is not valid JSON"), "{body}: {msg}");
    }
    // Invalid UTF-8 in a field no column reads.
    let names: ArrayRef = Arc::new(StringArray::from(vec!["a.json"]));
    let bodies: ArrayRef = Arc::new(BinaryArray::from_vec(vec![b"[{\"x\": \"\xff\"}]"]));
    let batch = RecordBatch::try_from_iter([("file", names), ("body", bodies)]).unwrap();
    let mut t = JsonToTable::open(&context(&[("columns", cols)])).unwrap();
    let Err(Error::BadInput(msg)) = t.process(0, 0, batch) else {
        panic!("invalid UTF-8 accepted")
    };
    assert!(msg.contains("body is not valid JSON"), "{msg}");
}

#[test]
fn nesting_is_limited_in_fields_no_column_reads_too() {
    let cols = r#"[{"name": "id", "type": "int64"}]"#;
    let nested = |depth: usize| {
        format!(
            r#"[{{"id": 1, "skipped": {}{}}}]"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    // The deepest document serde_json reads into a `Value`.
    let deepest = (100..200)
        .take_while(|&d| serde_json::from_str::<serde_json::Value>(&nested(d)).is_ok())
        .last()
        .unwrap();
    assert!(deepest < 199);
    run(&[("columns", cols)], &[("a.json", &nested(deepest))]).unwrap();
    let msg = bad_input(run(
        &[("columns", cols)],
        &[("a.json", &nested(deepest + 1))],
    ));
    assert!(msg.contains("recursion limit exceeded"), "{msg}");
}

#[test]
fn objects_that_read_as_numbers() {
    // serde_json (arbitrary_precision) reads an object whose first key is
    // its private number key as a number.
    let cols = r#"[{"name": "v", "type": "int64"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"v": {"$serde_json::private::Number": "5"}}, {"v": 6, "w": {"$serde_json::private::Number": "7"}}]"#,
        )],
    )
    .unwrap();
    assert_eq!(
        out[0].column(0).as_primitive::<Int64Type>().values(),
        &[5, 6]
    );
    let msg = bad_input(run(
        &[("columns", cols)],
        &[("a.json", r#"[{"$serde_json::private::Number": "5"}]"#)],
    ));
    assert!(
        msg.contains("record 0: is a number, expected an object"),
        "{msg}"
    );
    let msg = bad_input(run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"w": {"$serde_json::private::Number": "x"}}]"#,
        )],
    ));
    assert!(msg.contains("body is not valid JSON"), "{msg}");
}

#[test]
fn records_located_anywhere() {
    let cols = r#"[{"name": "v", "type": "int64"}]"#;
    let rows = |records_field: &str, body: &str| -> Result<usize, String> {
        match run(
            &[("columns", cols), ("records_field", records_field)],
            &[("a.json", body)],
        ) {
            Ok(out) => Ok(out.iter().map(RecordBatch::num_rows).sum()),
            Err(Error::BadInput(msg)) => Err(msg),
            Err(e) => panic!("{e:?}"),
        }
    };
    let two = r#"[{"v": 1}, {"v": 2}]"#;
    assert_eq!(rows("records", two), Ok(2)); // a top-level array is the records
    assert_eq!(
        rows(
            "/data/0/items",
            &format!(r#"{{"data": [{{"items": {two}}}]}}"#)
        ),
        Ok(2)
    );
    assert_eq!(
        rows(
            "/data/items",
            &format!(r#"{{"x": 1, "data": {{"items": {two}}}}}"#)
        ),
        Ok(2)
    );
    assert_eq!(
        rows("/a~1b/~0c", &format!(r#"{{"a/b": {{"~c": {two}}}}}"#)),
        Ok(2)
    );
    assert_eq!(rows("/data/items", r#"{"data": 5}"#), Ok(0));
    assert_eq!(rows("/data/items", r#"{"data": {"items": null}}"#), Ok(0));
    assert_eq!(rows("/data/items", r#"{"data": null}"#), Ok(0));
    assert_eq!(rows("records", r#"{"other": []}"#), Ok(0));
    let msg = rows("/data/items", r#"{"data": {"items": {"v": 1}}}"#).unwrap_err();
    assert!(
        msg.contains("records field `/data/items` is an object, expected an array"),
        "{msg}"
    );
    let msg = rows("records", "12").unwrap_err();
    assert!(
        msg.contains("the document is a number, expected an array of records or an object"),
        "{msg}"
    );
    let msg = rows("records", r#"[{"v": 1}, 7]"#).unwrap_err();
    assert!(
        msg.contains("record 1: is a number, expected an object"),
        "{msg}"
    );
}

#[test]
fn pointers_into_arrays_and_both_a_field_and_inside_it() {
    // The weather example's shape: one value per array.
    let cols = r#"[{"name": "date", "type": "date32", "from": "/daily/time/0"},
                   {"name": "max", "type": "float64", "from": "/daily/max/0"},
                   {"name": "latitude", "type": "float64"},
                   {"name": "daily", "type": "utf8"},
                   {"name": "first_unit", "type": "utf8", "from": "/units/0"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            r#"[{"latitude": 52.52, "daily": {"time": ["2025-02-01"], "max": [3.1]}, "units": ["C", "mm"]},
                {"latitude": 48.86, "daily": {"time": [], "max": 2}, "units": "C"}]"#,
        )],
    )
    .unwrap();
    let b = &out[0];
    let date = b.column(0).as_primitive::<Date32Type>();
    assert_eq!(date.value(0), 20120);
    assert!(date.is_null(1));
    let max = b.column(1).as_primitive::<Float64Type>();
    assert_eq!(max.value(0), 3.1);
    assert!(max.is_null(1));
    assert_eq!(
        b.column(2).as_primitive::<Float64Type>().values(),
        &[52.52, 48.86]
    );
    assert_eq!(
        strings(b, 3),
        [
            Some(r#"{"max":[3.1],"time":["2025-02-01"]}"#.into()),
            Some(r#"{"max":2,"time":[]}"#.into())
        ]
    );
    assert_eq!(strings(b, 4), [Some("C".into()), None]);
}

#[test]
fn strings_that_need_trimming() {
    let cols = r#"[{"name": "i", "type": "int64"}, {"name": "b", "type": "bool"},
                   {"name": "d", "type": "decimal128(12,2)"}, {"name": "t", "type": "timestamp-us-utc"}]"#;
    let out = run(
        &[("columns", cols)],
        &[(
            "a.json",
            "[{\"i\": \" 7\\n\", \"b\": \"\\u00a0true\\u2003\", \"d\": \"\\t1.5 \", \"t\": \" 2025-02-18T08:00:00Z\"}]",
        )],
    )
    .unwrap();
    let b = &out[0];
    assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), 7);
    assert!(b.column(1).as_boolean().value(0));
    assert_eq!(b.column(2).as_primitive::<Decimal128Type>().value(0), 150);
    assert_eq!(
        b.column(3)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_739_865_600_000_000
    );
}

#[test]
fn the_plan_reads_file_and_body_in_order() {
    let ctx = context(&[("columns", COLUMNS)]);
    let plan = JsonToTable::open(&ctx).unwrap().plan(&ctx);
    assert_eq!(plan.inputs().len(), 1);
    assert_eq!(
        plan.inputs()[0].columns.as_deref(),
        Some(&["file".to_string(), "body".to_string()][..])
    );
    assert!(plan.inputs()[0].ordered, "rows come out in file order");
}

#[test]
fn missing_columns_are_named() {
    let Err(Error::BadParams(msg)) = JsonToTable::open(&context(&[])) else {
        panic!("no columns accepted")
    };
    assert_eq!(
        msg,
        "missing required param `columns` (a list of {name, type, nullable, from})"
    );
}
