mod values;

use values::range;

use super::*;
use arrow::array::{Decimal128Array, Int64Array, StringArray, TimestampMicrosecondArray};
use serde_json::json;

fn check(kind: CheckKind) -> Check {
    Check {
        kind,
        severity: Severity::Error,
        id: "x".repeat(64),
        line: 7,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn ints(values: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

fn decimals(values: &[Option<i128>]) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(values.to_vec())
            .with_precision_and_scale(12, 2)
            .unwrap(),
    )
}

fn timestamps(values: &[Option<&str>], zone: &str) -> ArrayRef {
    let micros = values
        .iter()
        .map(|v| {
            v.map(|t| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .unwrap()
                    .timestamp_micros()
            })
        })
        .collect::<Vec<_>>();
    Arc::new(TimestampMicrosecondArray::from(micros).with_timezone(zone))
}

fn columns_of(batch: &RecordBatch) -> Vec<Column> {
    crate::schema::columns(&batch.schema()).unwrap()
}

fn column(name: &str, data_type: &str) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        nullable: true,
    }
}

/// One check over the batches, with the first batch's schema.
fn evaluate(kind: CheckKind, batches: &[RecordBatch]) -> CheckResult {
    evaluate_with(kind, &columns_of(&batches[0]), batches, &[])
}

fn evaluate_with(
    kind: CheckKind,
    columns: &[Column],
    batches: &[RecordBatch],
    history: &[u64],
) -> CheckResult {
    let check = check(kind);
    let mut evaluator = Evaluator::new(&[&check], columns, history);
    for batch in batches {
        evaluator.observe(batch).unwrap();
    }
    let mut results = evaluator.finish();
    assert_eq!(results.len(), 1);
    let result = results.remove(0);
    assert_eq!(result.id, check.id);
    assert_eq!(result.check, check.kind.name());
    assert_eq!(result.label, check.label());
    assert_eq!(result.severity, Severity::Error);
    result
}

#[track_caller]
fn assert_result(
    result: &CheckResult,
    passed: bool,
    violations: u64,
    message: &str,
    samples: &[&str],
) {
    assert_eq!(result.passed, passed, "{result:?}");
    assert_eq!(result.violations, violations, "{result:?}");
    assert!(
        result.message.contains(message),
        "`{}` does not contain `{message}`",
        result.message
    );
    assert_eq!(result.samples, samples, "{result:?}");
}

fn transactions() -> Vec<RecordBatch> {
    vec![
        batch(vec![
            ("id", strings(&[Some("tx-1"), Some("tx-2"), Some("tx-3")])),
            ("amount", decimals(&[Some(1050), None, Some(300)])),
            (
                "currency",
                strings(&[Some("EUR"), Some("USD"), Some("XXX")]),
            ),
        ]),
        batch(vec![
            ("id", strings(&[Some("tx-4"), None])),
            ("amount", decimals(&[None, None])),
            ("currency", strings(&[None, Some("GBP")])),
        ]),
    ]
}

#[test]
fn not_null_counts_nulls_per_column() {
    let batches = transactions();
    let result = evaluate(
        CheckKind::NotNull {
            columns: names(&["amount"]),
        },
        &batches,
    );
    assert_result(&result, false, 3, "3 of 5 rows have a null amount", &[]);

    let both = CheckKind::NotNull {
        columns: names(&["id", "amount", "currency"]),
    };
    let result = evaluate(both, &batches);
    assert_result(
        &result,
        false,
        5,
        "5 nulls in 5 rows: 1 in id, 3 in amount, 1 in currency",
        &[],
    );

    let result = evaluate(
        CheckKind::NotNull {
            columns: names(&["id"]),
        },
        &batches[..1],
    );
    assert_result(&result, true, 0, "no nulls in id (3 rows)", &[]);
}

#[test]
fn unique_finds_repeated_keys_and_skips_nulls() {
    let b = batch(vec![(
        "id",
        strings(&[
            Some("tx-1"),
            Some("tx-17"),
            Some("tx-17"),
            None,
            Some("tx-2"),
            Some("tx-17"),
            None,
        ]),
    )]);
    let result = evaluate(
        CheckKind::Unique {
            columns: names(&["id"]),
        },
        &[b],
    );
    assert_result(
        &result,
        false,
        2,
        "2 of 7 rows repeat a value of id already seen",
        &["id=tx-17"],
    );

    let result = evaluate(
        CheckKind::Unique {
            columns: names(&["id"]),
        },
        &transactions(),
    );
    assert_result(&result, true, 0, "every id is unique (5 rows)", &[]);
}

#[test]
fn unique_over_several_columns_across_batches() {
    let batches = [
        batch(vec![
            ("a", ints(&[Some(1), Some(1), Some(2)])),
            ("b", strings(&[Some("x"), Some("y"), Some("x")])),
        ]),
        batch(vec![
            ("a", ints(&[Some(1), Some(2), Some(3), Some(3), Some(2)])),
            ("b", strings(&[Some("x"), Some("x"), None, None, Some("y")])),
        ]),
    ];
    let result = evaluate(
        CheckKind::Unique {
            columns: names(&["a", "b"]),
        },
        &batches,
    );
    assert_result(
        &result,
        false,
        2,
        "2 of 8 rows repeat a combination of (a, b) already seen",
        &["a=1, b=x", "a=2, b=x"],
    );
    let result = evaluate(
        CheckKind::Unique {
            columns: names(&["b", "a"]),
        },
        &batches[..1],
    );
    assert_result(&result, true, 0, "every (b, a) is unique (3 rows)", &[]);
}

#[test]
fn unique_keeps_at_most_five_distinct_samples() {
    let ids = (0..40).map(|i| Some(i % 8)).collect::<Vec<_>>();
    let result = evaluate(
        CheckKind::Unique {
            columns: names(&["n"]),
        },
        &[batch(vec![("n", ints(&ids))])],
    );
    assert_result(
        &result,
        false,
        32,
        "32 of 40 rows",
        &["n=0", "n=1", "n=2", "n=3", "n=4"],
    );
}

#[test]
fn row_count_bounds() {
    let rows = batch(vec![("n", ints(&vec![Some(1); 120]))]);
    let result = evaluate(
        CheckKind::RowCount {
            min: Some(200),
            max: None,
        },
        std::slice::from_ref(&rows),
    );
    assert_result(&result, false, 1, "120 rows, expected at least 200", &[]);
    let result = evaluate(
        CheckKind::RowCount {
            min: None,
            max: Some(100),
        },
        std::slice::from_ref(&rows),
    );
    assert_result(&result, false, 1, "120 rows, expected at most 100", &[]);
    let result = evaluate(
        CheckKind::RowCount {
            min: Some(120),
            max: Some(120),
        },
        &[rows],
    );
    assert_result(
        &result,
        true,
        0,
        "120 rows (expected between 120 and 120)",
        &[],
    );
}

#[test]
fn volume_against_the_median_of_the_window() {
    let rows = |n: usize| vec![batch(vec![("n", ints(&vec![Some(1); n]))])];
    let columns = [column("n", "int64")];
    let kind = CheckKind::Volume {
        window: 3,
        max_change: 0.2,
    };
    let history = [100, 1000, 200, 210, 190];
    let result = evaluate_with(kind.clone(), &columns, &rows(250), &history);
    assert_result(
        &result,
        false,
        1,
        "250 rows, 25% above the median of the last 3 partitions (200); at most 20% allowed",
        &[],
    );
    let result = evaluate_with(kind.clone(), &columns, &rows(160), &history);
    assert_result(
        &result,
        true,
        0,
        "160 rows, 20% below the median of the last 3 partitions (200)",
        &[],
    );
    let result = evaluate_with(kind.clone(), &columns, &rows(160), &[]);
    assert_result(&result, true, 0, "no history yet", &[]);
    let result = evaluate_with(kind.clone(), &columns, &rows(3), &[1, 2]);
    assert_result(
        &result,
        false,
        1,
        "3 rows, 100% above the median of the last 2 partitions (1.5)",
        &[],
    );
    let result = evaluate_with(kind.clone(), &columns, &[], &[0, 0, 0]);
    assert_result(
        &result,
        true,
        0,
        "0 rows, as the median of the last 3 partitions (0)",
        &[],
    );
    let result = evaluate_with(kind, &columns, &rows(5), &[0]);
    assert_result(
        &result,
        false,
        1,
        "5 rows, where the previous partition has 0",
        &[],
    );
}

#[test]
fn schema_against_the_manifest_columns() {
    let columns = [
        column("id", "utf8"),
        column("amount", "decimal128(12,2)"),
        column("note", "utf8"),
    ];
    let kind = |expected: &[(&str, &str)], exact: bool| CheckKind::Schema {
        columns: expected
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect(),
        exact,
    };
    let result = evaluate_with(
        kind(&[("id", "utf8"), ("amount", "decimal128(12, 2)")], false),
        &columns,
        &[],
        &[],
    );
    assert_result(
        &result,
        true,
        0,
        "the 2 expected columns, with their types",
        &[],
    );
    let result = evaluate_with(
        kind(&[("id", "utf8"), ("amount", "decimal128(12,2)")], true),
        &columns,
        &[],
        &[],
    );
    assert_result(
        &result,
        false,
        1,
        "1 column differs from the expected schema: note is not expected",
        &["note: not expected"],
    );
    let result = evaluate_with(
        kind(
            &[("id", "utf8"), ("amount", "int64"), ("day", "date32")],
            false,
        ),
        &columns,
        &[],
        &[],
    );
    assert_result(
        &result,
        false,
        2,
        "2 columns differ from the expected schema: amount is decimal128(12,2), expected int64; day is missing",
        &["amount: decimal128(12,2), expected int64", "day: missing"],
    );
    let result = evaluate_with(kind(&[("id", "utf-8")], false), &columns, &[], &[]);
    assert_result(
        &result,
        false,
        0,
        "column `id`: unknown column type `utf-8`",
        &[],
    );
}

#[test]
fn an_empty_partition() {
    let columns = [column("id", "utf8"), column("amount", "decimal128(12,2)")];
    let kinds = [
        CheckKind::NotNull {
            columns: names(&["id"]),
        },
        CheckKind::Unique {
            columns: names(&["id"]),
        },
        CheckKind::AcceptedValues {
            column: "id".into(),
            values: vec![json!("a")],
        },
        range("amount", Some(json!(0)), None),
        CheckKind::RowCount {
            min: Some(1),
            max: None,
        },
        CheckKind::Volume {
            window: 7,
            max_change: 0.5,
        },
        CheckKind::Schema {
            columns: vec![("id".into(), "utf8".into())],
            exact: false,
        },
    ];
    let checks = kinds.into_iter().map(check).collect::<Vec<_>>();
    let refs = checks.iter().collect::<Vec<_>>();
    let results = Evaluator::new(&refs, &columns, &[10, 12]).finish();
    let summary = results
        .iter()
        .map(|r| (r.check.as_str(), r.passed, r.violations, r.message.as_str()))
        .collect::<Vec<_>>();
    assert_eq!(
        summary,
        [
            ("not_null", true, 0, "no nulls in id (0 rows)"),
            ("unique", true, 0, "every id is unique (0 rows)"),
            (
                "accepted_values",
                true,
                0,
                "every non-null id is in [a] (0 rows)"
            ),
            ("range", true, 0, "no amount below 0.00 (0 rows)"),
            ("row_count", false, 1, "0 rows, expected at least 1"),
            (
                "volume",
                false,
                1,
                "0 rows, 100% below the median of the last 2 partitions (11); at most 50% allowed"
            ),
            ("schema", true, 0, "the expected column, with its type"),
        ]
    );
    // An empty batch changes nothing.
    let mut evaluator = Evaluator::new(&refs, &columns, &[]);
    let empty = RecordBatch::new_empty(crate::schema::to_arrow(&columns).unwrap());
    evaluator.observe(&empty).unwrap();
    assert!(
        evaluator
            .finish()
            .iter()
            .filter(|r| r.check != "row_count")
            .all(|r| r.passed)
    );
}

#[test]
fn a_column_the_partition_lacks_fails_the_check() {
    let batches = transactions();
    let result = evaluate(
        CheckKind::NotNull {
            columns: names(&["id", "amout"]),
        },
        &batches,
    );
    assert_result(
        &result,
        false,
        0,
        "the partition has no column `amout`; its columns are: id, amount, currency",
        &[],
    );
    let result = evaluate(range("amount", Some(json!("ten")), None), &batches);
    assert_result(
        &result,
        false,
        0,
        "`min` \"ten\" is not a decimal128(12,2) value (the type of `amount`)",
        &[],
    );
}

#[test]
fn a_batch_without_a_schema_column_is_a_host_error() {
    let check = check(CheckKind::NotNull {
        columns: names(&["id"]),
    });
    let mut evaluator = Evaluator::new(&[&check], &[column("id", "utf8")], &[]);
    let err = evaluator
        .observe(&batch(vec![("other", ints(&[Some(1)]))]))
        .unwrap_err();
    assert!(err.contains("a batch has no column `id`"), "{err}");
}

#[test]
fn results_follow_the_order_of_the_checks() {
    let batches = transactions();
    let mut first = check(CheckKind::RowCount {
        min: Some(1),
        max: None,
    });
    first.id = "1".repeat(64);
    first.severity = Severity::Warn;
    let second = check(CheckKind::Unique {
        columns: names(&["currency"]),
    });
    let mut evaluator = Evaluator::new(&[&first, &second], &columns_of(&batches[0]), &[]);
    for b in &batches {
        evaluator.observe(b).unwrap();
    }
    let results = evaluator.finish();
    assert_eq!(results.len(), 2);
    assert_eq!(
        (results[0].id.as_str(), results[0].severity),
        (first.id.as_str(), Severity::Warn)
    );
    assert_eq!(results[1].label, "unique(currency)");
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "`freshness` checks are not evaluated by checks::builtin")]
fn freshness_is_not_given_to_the_evaluator() {
    let check = check(CheckKind::Freshness {
        max_age: std::time::Duration::from_secs(60),
    });
    Evaluator::new(&[&check], &[], &[]);
}

#[test]
fn validate_names_the_line_and_the_columns() {
    let columns = [
        column("id", "utf8"),
        column("amount", "decimal128(12,2)"),
        column("currency", "utf8"),
        column("day", "date32"),
        column("n", "int64"),
    ];
    let validate_one = |kind: CheckKind| validate("silver/transactions", &[&check(kind)], &columns);
    assert_eq!(
        validate_one(CheckKind::NotNull {
            columns: names(&["id", "amout"])
        }),
        Err((
            7,
            "check `not_null` names column `amout`, which silver/transactions does not have; \
             its columns are: id, amount, currency, day, n"
                .into()
        ))
    );
    let problem = |kind: CheckKind| validate_one(kind).unwrap_err().1;
    assert_eq!(
        problem(range("amount", None, Some(json!(10.555)))),
        "check `range`: `max` 10.555 is not exactly a decimal128(12,2) value (the type of `amount`): it would be 10.56"
    );
    assert_eq!(
        problem(range("amount", None, Some(json!("10.555")))),
        "check `range`: `max` \"10.555\" is not exactly a decimal128(12,2) value (the type of `amount`): it would be 10.56"
    );
    assert_eq!(
        problem(range("day", Some(json!("2025-13-01")), None)),
        "check `range`: `min` \"2025-13-01\" is not a date32 value (the type of `day`)"
    );
    assert!(
        problem(range("day", Some(json!("2025-01-01T10:00:00")), None))
            .contains("is not exactly a date32 value")
    );
    assert!(
        problem(range("n", Some(json!(2.5)), None))
            .contains("`min` 2.5 is not exactly a int64 value")
    );
    assert!(
        problem(range("currency", Some(json!(5)), None)).contains("write the bound as a string")
    );
    assert_eq!(
        problem(CheckKind::AcceptedValues {
            column: "n".into(),
            values: vec![json!(1), json!("two")]
        }),
        "check `accepted_values`: value \"two\" is not a int64 value (the type of `n`)"
    );
    assert!(
        problem(CheckKind::Schema {
            columns: vec![("id".into(), "string".into())],
            exact: true
        })
        .starts_with("check `schema`: column `id`: unknown column type `string`")
    );

    let good = [
        check(CheckKind::NotNull {
            columns: names(&["id", "amount"]),
        }),
        check(CheckKind::Unique {
            columns: names(&["id"]),
        }),
        check(CheckKind::AcceptedValues {
            column: "amount".into(),
            values: vec![json!(10.5), json!("10.25"), json!(3)],
        }),
        check(range(
            "day",
            Some(json!("2025-01-01")),
            Some(json!("2025-12-31")),
        )),
        check(range("amount", Some(json!(0)), Some(json!("1e3")))),
        check(range("currency", Some(json!("A")), None)),
        check(CheckKind::RowCount {
            min: Some(1),
            max: None,
        }),
        check(CheckKind::Schema {
            columns: vec![("nothere".into(), "int64".into())],
            exact: false,
        }),
    ];
    assert_eq!(
        validate(
            "silver/transactions",
            &good.iter().collect::<Vec<_>>(),
            &columns
        ),
        Ok(())
    );
}

#[test]
fn keys_are_compared_in_full() {
    /// Every key hashes alike.
    #[derive(Default)]
    struct Constant;
    impl std::hash::Hasher for Constant {
        fn finish(&self) -> u64 {
            42
        }
        fn write(&mut self, _: &[u8]) {}
    }
    let mut keys = Keys::with_hasher(std::hash::BuildHasherDefault::<Constant>::default());
    for key in ["a", "b", "ab", "b", "", "a", "ab", "", "b", "c"] {
        keys.push(key.as_bytes());
    }
    assert_eq!(keys.key(2), b"ab");
    assert_eq!(keys.key(4), b"");
    // Repeats, in arrival order: "b" at 3 (first at 1), "a" at 5 (first
    // at 0), "ab" at 6, "" at 7, "b" again at 8.
    assert_eq!(keys.repeats(2), (5, vec![1, 0]));

    let mut keys = Keys::default();
    for i in (0..1000u32).chain((500..1500).rev()) {
        keys.push(&i.to_le_bytes());
    }
    assert_eq!(keys.repeats(3), (500, vec![999, 998, 997]));
    assert_eq!(Keys::default().repeats(5), (0, vec![]));
}

#[test]
fn medians_and_percentages() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[5, 1, 3]), Some(3.0));
    assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
    assert_eq!(percent(0.5), "50%");
    assert_eq!(percent(0.07), "7%");
    assert_eq!(percent(1.0 / 3.0), "33.3%");
}
