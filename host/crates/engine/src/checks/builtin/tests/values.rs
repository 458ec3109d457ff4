//! `accepted_values` and `range`.

use super::*;
use arrow::array::{Date32Array, Float64Array};

#[test]
fn accepted_values_ignores_nulls() {
    let kind = |values: Vec<Value>| CheckKind::AcceptedValues {
        column: "currency".into(),
        values,
    };
    let batches = [
        batch(vec![(
            "currency",
            strings(&[Some("EUR"), Some("XXX"), None, Some("USD"), Some("YYY")]),
        )]),
        batch(vec![(
            "currency",
            strings(&[Some("XXX"), Some("GBP"), None]),
        )]),
    ];
    let result = evaluate(
        kind(vec![json!("EUR"), json!("USD"), json!("GBP")]),
        &batches,
    );
    assert_result(
        &result,
        false,
        3,
        "3 of 8 rows have currency outside [EUR, USD, GBP]",
        &["XXX", "YYY"],
    );
    let all = kind(vec![
        json!("EUR"),
        json!("USD"),
        json!("GBP"),
        json!("XXX"),
        json!("YYY"),
    ]);
    let result = evaluate(all, &batches);
    assert_result(
        &result,
        true,
        0,
        "every non-null currency is in [EUR, USD, GBP, XXX, YYY] (8 rows)",
        &[],
    );
}

#[test]
fn accepted_values_compare_as_the_column_type() {
    let b = batch(vec![(
        "amount",
        decimals(&[Some(1050), Some(1000), None, Some(999), Some(100)]),
    )]);
    let kind = CheckKind::AcceptedValues {
        column: "amount".into(),
        values: vec![json!(10.5), json!("10"), json!(1)],
    };
    let result = evaluate(kind, &[b]);
    assert_result(
        &result,
        false,
        1,
        "1 of 5 rows have amount outside [10.50, 10.00, 1.00]",
        &["9.99"],
    );
}

#[test]
fn long_accepted_lists_match_like_short_ones() {
    let codes = (0..30).map(|i| format!("C{i}")).collect::<Vec<_>>();
    let column = (0..100)
        .map(|i| (i % 7 != 3).then(|| format!("C{}", i % 40)))
        .collect::<Vec<_>>();
    let b = batch(vec![(
        "code",
        Arc::new(StringArray::from(column.clone())) as ArrayRef,
    )]);
    let kind = |n: usize| CheckKind::AcceptedValues {
        column: "code".into(),
        values: codes[..n].iter().map(|c| json!(c)).collect(),
    };
    let long = evaluate(kind(30), std::slice::from_ref(&b));
    let expected = column
        .iter()
        .flatten()
        .filter(|c| c[1..].parse::<usize>().unwrap() >= 30)
        .count() as u64;
    assert!(expected > 0);
    assert_result(
        &long,
        false,
        expected,
        "have code outside [C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, and 20 more]",
        &["C30", "C32", "C33", "C34", "C35"],
    );
    // The same through the kernels: the first 16 codes.
    let short = evaluate(kind(KERNEL_VALUES), std::slice::from_ref(&b));
    let expected = column
        .iter()
        .flatten()
        .filter(|c| c[1..].parse::<usize>().unwrap() >= KERNEL_VALUES)
        .count() as u64;
    assert_eq!(short.violations, expected);
}

#[test]
fn samples_are_clipped() {
    let long = "é".repeat(200);
    let b = batch(vec![("note", strings(&[Some(&long)]))]);
    let kind = CheckKind::AcceptedValues {
        column: "note".into(),
        values: vec![json!("ok")],
    };
    let result = evaluate(kind, &[b]);
    assert_eq!(result.samples.len(), 1);
    assert_eq!(result.samples[0].chars().count(), SAMPLE_CHARS);
    assert!(result.samples[0].ends_with("é…"));
}

pub(super) fn range(column: &str, min: Option<Value>, max: Option<Value>) -> CheckKind {
    CheckKind::Range {
        column: column.into(),
        min,
        max,
    }
}

#[test]
fn range_on_integers_ignores_nulls() {
    let b = batch(vec![(
        "n",
        ints(&[
            Some(-5),
            Some(0),
            Some(5),
            Some(10),
            Some(11),
            None,
            Some(11),
            Some(12),
        ]),
    )]);
    let result = evaluate(
        range("n", Some(json!(0)), Some(json!(10))),
        std::slice::from_ref(&b),
    );
    assert_result(
        &result,
        false,
        4,
        "4 of 8 rows have n outside [0, 10]: 1 below, 3 above",
        &["-5", "11", "12"],
    );
    let result = evaluate(
        range("n", Some(json!(-5)), Some(json!(12))),
        std::slice::from_ref(&b),
    );
    assert_result(
        &result,
        true,
        0,
        "every non-null n is within [-5, 12] (8 rows)",
        &[],
    );
    let result = evaluate(range("n", Some(json!(0)), None), std::slice::from_ref(&b));
    assert_result(&result, false, 1, "1 of 8 rows have n below 0", &["-5"]);
    let result = evaluate(range("n", None, Some(json!(100))), std::slice::from_ref(&b));
    assert_result(&result, true, 0, "no n above 100 (8 rows)", &[]);
}

#[test]
fn range_on_decimals_and_floats() {
    let b = batch(vec![
        (
            "amount",
            decimals(&[
                Some(99_999),
                Some(100_000),
                Some(100_001),
                None,
                Some(250_000),
            ]),
        ),
        (
            "rate",
            Arc::new(Float64Array::from(vec![
                Some(0.5),
                Some(0.25),
                None,
                Some(1.0),
                Some(0.75),
            ])) as ArrayRef,
        ),
    ]);
    let result = evaluate(
        range("amount", Some(json!(0)), Some(json!(1000))),
        std::slice::from_ref(&b),
    );
    assert_result(
        &result,
        false,
        2,
        "2 of 5 rows have amount above 1000.00",
        &["1000.01", "2500.00"],
    );
    let result = evaluate(
        range("amount", Some(json!("999.995")), None),
        std::slice::from_ref(&b),
    );
    assert!(!result.passed && result.violations == 0, "{result:?}");
    assert!(result.message.contains("999.995"), "{}", result.message);
    let result = evaluate(
        range("amount", Some(json!("999.99")), None),
        std::slice::from_ref(&b),
    );
    assert_result(&result, true, 0, "no amount below 999.99 (5 rows)", &[]);
    let result = evaluate(
        range("rate", Some(json!(0.5)), Some(json!(1))),
        std::slice::from_ref(&b),
    );
    assert_result(
        &result,
        false,
        1,
        "1 of 5 rows have rate below 0.5",
        &["0.25"],
    );
}

#[test]
fn range_on_timestamps_and_dates() {
    let batches = [
        batch(vec![(
            "at",
            timestamps(
                &[
                    Some("2024-12-31T23:59:59.999999Z"),
                    Some("2025-01-01T00:00:00Z"),
                    None,
                ],
                "UTC",
            ),
        )]),
        // The same contract type, zoned differently: compared all the same.
        batch(vec![(
            "at",
            timestamps(
                &[Some("2025-01-31T12:00:00Z"), Some("2025-02-01T00:00:00Z")],
                "+00:00",
            ),
        )]),
    ];
    let result = evaluate(
        range(
            "at",
            Some(json!("2025-01-01")),
            Some(json!("2025-01-31T23:59:59Z")),
        ),
        &batches,
    );
    assert_result(
        &result,
        false,
        2,
        "2 of 5 rows have at outside [2025-01-01T00:00:00Z, 2025-01-31T23:59:59Z]: 1 below, 1 above",
        &["2024-12-31T23:59:59.999999Z", "2025-02-01T00:00:00Z"],
    );

    let day = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days() as i32
    };
    let b = batch(vec![(
        "day",
        Arc::new(Date32Array::from(vec![
            Some(day("2025-01-01")),
            None,
            Some(day("2025-02-01")),
        ])) as ArrayRef,
    )]);
    let result = evaluate(
        range("day", None, Some(json!("2025-01-31"))),
        std::slice::from_ref(&b),
    );
    assert_result(
        &result,
        false,
        1,
        "1 of 3 rows have day above 2025-01-31",
        &["2025-02-01"],
    );
    let result = evaluate(
        range("day", Some(json!("2025-01-01")), Some(json!("2025-02-01"))),
        &[b],
    );
    assert_result(
        &result,
        true,
        0,
        "every non-null day is within [2025-01-01, 2025-02-01] (3 rows)",
        &[],
    );
}

#[test]
fn value_samples_are_distinct_across_batches() {
    let batches = (0..4)
        .map(|b| {
            batch(vec![(
                "n",
                ints(&(0..6).map(|i| Some(100 + (b + i) % 3)).collect::<Vec<_>>()),
            )])
        })
        .chain([batch(vec![(
            "n",
            ints(&(200..220).map(Some).collect::<Vec<_>>()),
        )])])
        .collect::<Vec<_>>();
    let result = evaluate(range("n", None, Some(json!(99))), &batches);
    assert_result(
        &result,
        false,
        44,
        "44 of 44 rows have n above 99",
        &["100", "101", "102", "200", "201"],
    );
}
