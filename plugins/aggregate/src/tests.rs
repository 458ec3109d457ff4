use std::sync::Arc;

use strata_sdk::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use strata_sdk::arrow::datatypes::{
    DataType, Decimal128Type, Field, Float64Type, Int64Type, Schema, TimestampMicrosecondType,
};
use strata_sdk::{Context, Error, Input, Params, Plan, Transform, ipc};

use super::Aggregator;

fn context(params: &[(&str, &str)], schema: Option<Arc<Schema>>) -> Context {
    Context {
        dataset: "gold/t".into(),
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
            dataset: "silver/t".into(),
            schema: schema.unwrap_or_else(|| Arc::new(Schema::empty())),
            partitions: vec!["date=2025-02-18".into()],
        }],
    }
}

fn batch(
    customers: &[Option<&str>],
    statuses: &[&str],
    amounts: &[Option<i128>],
    counts: &[Option<i64>],
    at: &[Option<i64>],
) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "customer",
            Arc::new(StringArray::from(customers.to_vec())) as ArrayRef,
        ),
        (
            "status",
            Arc::new(StringArray::from(statuses.to_vec())) as ArrayRef,
        ),
        (
            "amount",
            Arc::new(
                Decimal128Array::from(amounts.to_vec())
                    .with_precision_and_scale(12, 2)
                    .unwrap(),
            ) as ArrayRef,
        ),
        (
            "items",
            Arc::new(Int64Array::from(counts.to_vec())) as ArrayRef,
        ),
        (
            "at",
            Arc::new(TimestampMicrosecondArray::from(at.to_vec()).with_timezone("UTC")) as ArrayRef,
        ),
    ])
    .unwrap()
}

fn run(params: &[(&str, &str)], batches: Vec<RecordBatch>) -> Result<RecordBatch, Error> {
    let mut t = Aggregator::open(&context(params, None))?;
    for b in batches {
        assert!(t.process(0, 0, b)?.is_empty());
    }
    let mut out = t.finish()?;
    assert_eq!(out.len(), 1);
    Ok(out.remove(0))
}

const AGGS: &str = r#"[
    {"column": "amount", "fn": "sum", "as": "total"},
    {"fn": "count", "as": "n"},
    {"column": "items", "fn": "count"},
    {"column": "items", "fn": "avg"},
    {"column": "amount", "fn": "avg"},
    {"column": "at", "fn": "max", "as": "last_at"},
    {"column": "items", "fn": "min"},
    {"column": "customer", "fn": "max"}
]"#;

fn two_days() -> Vec<RecordBatch> {
    vec![
        batch(
            &[Some("b"), Some("a"), None],
            &["settled", "settled", "settled"],
            &[Some(1050), Some(1), Some(7)],
            &[Some(1), None, Some(3)],
            &[Some(10), Some(20), None],
        ),
        batch(
            &[Some("a"), Some("b"), Some("a")],
            &["settled", "pending", "settled"],
            &[Some(2), Some(99999), None],
            &[Some(4), Some(5), Some(6)],
            &[Some(30), Some(40), Some(5)],
        ),
    ]
}

#[test]
fn groups_sorted_with_nulls_first() {
    let out = run(
        &[
            ("group_by", "customer"),
            ("aggregates", AGGS),
            ("filter", r#"{"column": "status", "equals": "settled"}"#),
        ],
        two_days(),
    )
    .unwrap();
    assert_eq!(out.num_rows(), 3);
    let names: Vec<_> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "customer",
            "total",
            "n",
            "count_items",
            "avg_items",
            "avg_amount",
            "last_at",
            "min_items",
            "max_customer"
        ]
    );
    let customer = out.column(0).as_string::<i32>();
    assert!(customer.is_null(0));
    assert_eq!((customer.value(1), customer.value(2)), ("a", "b"));
    let total = out.column(1).as_primitive::<Decimal128Type>();
    assert_eq!(total.data_type(), &DataType::Decimal128(38, 2));
    assert_eq!(
        (total.value(0), total.value(1), total.value(2)),
        (7, 3, 1050)
    );
    let n = out.column(2).as_primitive::<Int64Type>();
    assert_eq!(n.values(), &[1, 3, 1]);
    let count_items = out.column(3).as_primitive::<Int64Type>();
    assert_eq!(count_items.values(), &[1, 2, 1]);
    let avg_items = out.column(4).as_primitive::<Float64Type>();
    assert_eq!(avg_items.value(1), 5.0);
    let avg_amount = out.column(5).as_primitive::<Decimal128Type>();
    assert_eq!(avg_amount.data_type(), &DataType::Decimal128(38, 6));
    assert_eq!(avg_amount.value(1), 15000); // (0.01 + 0.02) / 2 = 0.015
    let last = out.column(6).as_primitive::<TimestampMicrosecondType>();
    assert!(last.is_null(0));
    assert_eq!(last.value(1), 30);
    assert_eq!(last.timezone(), Some("UTC"));
    let min_items = out.column(7).as_primitive::<Int64Type>();
    assert_eq!(min_items.value(1), 4);
    assert_eq!(out.column(8).as_string::<i32>().value(2), "b");
}

#[test]
fn no_group_by_gives_one_row_even_without_rows() {
    let out = run(
        &[
            ("aggregates", AGGS),
            ("filter", r#"[{"column": "status", "equals": "nope"}]"#),
        ],
        two_days(),
    )
    .unwrap();
    assert_eq!(out.num_rows(), 1);
    assert_eq!(out.column(0).null_count(), 1); // total
    assert_eq!(out.column(1).as_primitive::<Int64Type>().value(0), 0); // n

    let out = run(&[("aggregates", AGGS), ("group_by", "[]")], two_days()).unwrap();
    assert_eq!(out.num_rows(), 1);
    assert_eq!(
        out.column(0).as_primitive::<Decimal128Type>().value(0),
        101059
    );
    assert_eq!(out.column(1).as_primitive::<Int64Type>().value(0), 6);
}

#[test]
fn groups_by_several_columns_and_filters_numbers() {
    let out = run(
        &[
            ("group_by", r#"["status", "customer"]"#),
            ("aggregates", r#"[{"column": "items", "fn": "sum"}]"#),
            ("filter", r#"{"column": "items", "equals": 5}"#),
        ],
        two_days(),
    )
    .unwrap();
    assert_eq!(out.num_rows(), 1);
    assert_eq!(out.column(0).as_string::<i32>().value(0), "pending");
    assert_eq!(out.column(2).as_primitive::<Int64Type>().value(0), 5);
}

#[test]
fn float_sum_and_overflow() {
    let b = RecordBatch::try_from_iter([
        (
            "x",
            Arc::new(Float64Array::from(vec![0.5, 0.25])) as ArrayRef,
        ),
        (
            "y",
            Arc::new(Int64Array::from(vec![i64::MAX, 1])) as ArrayRef,
        ),
    ])
    .unwrap();
    let out = run(
        &[("aggregates", r#"[{"column": "x", "fn": "sum"}]"#)],
        vec![b.clone()],
    )
    .unwrap();
    assert_eq!(out.column(0).as_primitive::<Float64Type>().value(0), 0.75);
    let err = run(
        &[("aggregates", r#"[{"column": "y", "fn": "sum"}]"#)],
        vec![b],
    )
    .unwrap_err();
    assert!(matches!(err, Error::BadInput(m) if m.contains("overflows int64")));
}

#[test]
fn bad_params() {
    let b = two_days().remove(0);
    for params in [
        vec![],
        vec![("aggregates", "[]")],
        vec![("aggregates", r#"[{"column": "status", "fn": "sum"}]"#)],
        vec![("aggregates", r#"[{"column": "nope", "fn": "max"}]"#)],
        vec![("aggregates", r#"[{"column": "items", "fn": "median"}]"#)],
        vec![("aggregates", r#"[{"fn": "sum"}]"#)],
        vec![("aggregates", r#"[{"fn": "count"}, {"fn": "count"}]"#)],
        vec![("aggregates", r#"[{"fn": "count"}]"#), ("group_by", "nope")],
        vec![
            ("aggregates", r#"[{"fn": "count"}]"#),
            ("filter", r#"{"column": "items", "equals": "x"}"#),
        ],
        vec![
            ("aggregates", r#"[{"fn": "count"}]"#),
            ("filter", r#"{"col": "items"}"#),
        ],
        vec![
            ("aggregates", r#"[{"fn": "count"}]"#),
            ("grup_by", "customer"),
        ],
    ] {
        let err = run(&params, vec![b.clone()]).unwrap_err();
        assert!(matches!(err, Error::BadParams(_)), "{params:?}: {err:?}");
    }
}

#[test]
fn plans_from_the_host_schema_without_batches() {
    let schema = two_days()[0].schema();
    let mut t = Aggregator::open(&context(
        &[("group_by", "customer"), ("aggregates", AGGS)],
        Some(schema),
    ))
    .unwrap();
    let out = t.finish().unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].num_rows(), 0);
    assert_eq!(out[0].num_columns(), 9);
}

/// Params, and the columns the plan reads with them.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

/// What the host does with a plan: hands over only the columns it names,
/// in the input's column order (none at all keeps the rows).
fn project(batch: &RecordBatch, plan: &Plan, input: usize) -> RecordBatch {
    match plan.inputs().get(input).and_then(|p| p.columns.as_ref()) {
        None => batch.clone(),
        Some(columns) => {
            let indices: Vec<usize> = (0..batch.num_columns())
                .filter(|&i| columns.contains(batch.schema().field(i).name()))
                .collect();
            batch.project(&indices).unwrap()
        }
    }
}

#[test]
fn the_plan_reads_only_what_it_aggregates_and_changes_no_byte() {
    let mixed = two_days();
    // Each with the columns it reads; none sums a float, so all unordered.
    let cases: [Case; 4] = [
        (
            &[("group_by", "customer"), ("aggregates", AGGS)],
            &["amount", "at", "customer", "items"],
        ),
        (
            &[
                ("aggregates", r#"[{"column": "items", "fn": "sum"}]"#),
                ("filter", r#"{"column": "status", "equals": "settled"}"#),
            ],
            &["items", "status"],
        ),
        (&[("aggregates", r#"[{"fn": "count"}]"#)], &[]),
        (
            &[
                ("group_by", "status"),
                ("aggregates", r#"[{"fn": "count"}]"#),
            ],
            &["status"],
        ),
    ];
    for (params, read) in cases {
        let whole = run(params, two_days()).unwrap();
        let ctx = context(params, Some(mixed[0].schema()));
        let mut t = Aggregator::open(&ctx).unwrap();
        let plan = t.plan(&ctx);
        let columns: Vec<String> = read.iter().map(|c| c.to_string()).collect();
        assert_eq!(plan.inputs().len(), 1);
        assert_eq!(
            plan.inputs()[0].columns.as_ref(),
            Some(&columns),
            "{params:?}"
        );
        assert!(!plan.inputs()[0].ordered, "{params:?}");
        // In any order, as an unordered plan lets the host hand them.
        for b in mixed.iter().rev() {
            assert!(t.process(0, 0, project(b, &plan, 0)).unwrap().is_empty());
        }
        let out = t.finish().unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(
            ipc::encode(&out[0]).unwrap(),
            ipc::encode(&whole).unwrap(),
            "{params:?}"
        );
    }
}

#[test]
fn a_float_sum_or_avg_or_an_unknown_schema_keeps_the_order() {
    let floats = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
    ]));
    for (aggs, schema, ordered) in [
        (
            r#"[{"column": "x", "fn": "sum"}]"#,
            Some(floats.clone()),
            true,
        ),
        (
            r#"[{"column": "x", "fn": "avg"}]"#,
            Some(floats.clone()),
            true,
        ),
        (
            r#"[{"column": "x", "fn": "max"}]"#,
            Some(floats.clone()),
            false,
        ),
        (
            r#"[{"column": "x", "fn": "count"}]"#,
            Some(floats.clone()),
            false,
        ),
        (r#"[{"column": "x", "fn": "max"}]"#, None, true),
    ] {
        let ctx = context(&[("aggregates", aggs)], schema);
        let plan = Aggregator::open(&ctx).unwrap().plan(&ctx);
        assert_eq!(plan.inputs()[0].ordered, ordered, "{aggs}");
    }
}

#[test]
fn missing_aggregates_are_named() {
    let Err(Error::BadParams(msg)) = Aggregator::open(&context(&[], None)) else {
        panic!("no aggregates accepted")
    };
    assert_eq!(
        msg,
        "missing required param `aggregates` (a list of {column, fn, as})"
    );
}

#[test]
fn the_group_table_gives_each_distinct_key_one_id() {
    let mut table = super::GroupTable::default();
    // Lengths around the 8-byte words, keys that differ only in their last
    // byte, and a key that is another with a zero byte added.
    let keys: Vec<Vec<u8>> = (0..5000u32)
        .map(|i| {
            let mut k = vec![b'k'; (i % 19) as usize];
            k.extend_from_slice(&i.to_le_bytes());
            k
        })
        .chain([b"ab".to_vec(), b"ab\0".to_vec(), Vec::new()])
        .collect();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(table.id(k).unwrap(), (i as u32, true), "{k:?}");
    }
    for (i, k) in keys.iter().enumerate().rev() {
        assert_eq!(table.id(k).unwrap(), (i as u32, false), "{k:?}");
    }
    assert_eq!(table.len(), keys.len());
    assert!(super::same_bytes(b"settled!x", b"settled!x"));
    assert!(!super::same_bytes(b"settled!x", b"settled!y"));
    assert!(!super::same_bytes(b"settled", b"settled!"));
}
