use std::sync::Arc;

use strata_sdk::arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use strata_sdk::arrow::datatypes::{Int64Type, Schema};
use strata_sdk::{Context, Error, Input, Params, Transform};

use super::CleanDedupe;

fn context(params: &[(&str, &str)]) -> Context {
    Context {
        dataset: "silver/t".into(),
        partition: "date=2025-02-18".into(),
        period_start: String::new(),
        period_end: String::new(),
        params: params.iter().copied().collect::<Params>(),
        inputs: vec![Input {
            dataset: "bronze/t".into(),
            schema: Arc::new(Schema::empty()),
        }],
    }
}

fn batch(ids: &[Option<&str>], versions: &[Option<i64>], names: &[Option<&str>]) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("id", Arc::new(StringArray::from(ids.to_vec())) as ArrayRef),
        (
            "version",
            Arc::new(Int64Array::from(versions.to_vec())) as ArrayRef,
        ),
        (
            "name",
            Arc::new(StringArray::from(names.to_vec())) as ArrayRef,
        ),
    ])
    .unwrap()
}

fn run(params: &[(&str, &str)], batches: Vec<RecordBatch>) -> Result<RecordBatch, Error> {
    let mut t = CleanDedupe::open(&context(params))?;
    for b in batches {
        assert!(t.process(0, b)?.is_empty());
    }
    let out = t.finish()?;
    assert_eq!(out.len(), 1);
    Ok(out.into_iter().next().unwrap())
}

fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    b.column_by_name(col)
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

#[test]
fn keeps_greatest_order_by_then_latest() {
    let out = run(
        &[
            ("key", "id"),
            ("order_by", "version"),
            ("trim", "id,name"),
            ("uppercase", r#"["name"]"#),
        ],
        vec![
            batch(
                &[Some("b"), Some(" a"), None, Some("a")],
                &[Some(1), Some(2), Some(9), Some(1)],
                &[Some("b1"), Some(" a2 "), Some("x"), Some("a1")],
            ),
            batch(
                &[Some("a "), Some("b"), Some("c")],
                &[Some(2), None, None],
                &[Some("a2-later"), Some("b-null"), Some("c")],
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        strings(&out, "id"),
        [Some("a".into()), Some("b".into()), Some("c".into())]
    );
    // a: version 2 twice, the later wins; b: 1 beats null; c: only row.
    assert_eq!(
        strings(&out, "name"),
        [Some("A2-LATER".into()), Some("B1".into()), Some("C".into())]
    );
}

#[test]
fn without_order_by_the_last_row_wins_and_columns_drop() {
    let out = run(
        &[
            ("key", "id"),
            ("drop_columns", "version"),
            ("lowercase", "name"),
        ],
        vec![batch(
            &[Some("x"), Some("x")],
            &[Some(5), Some(1)],
            &[Some("First"), Some("SECOND")],
        )],
    )
    .unwrap();
    assert_eq!(out.num_columns(), 2);
    assert_eq!(strings(&out, "name"), [Some("second".into())]);
}

#[test]
fn composite_key_and_compaction_across_many_batches() {
    let params = [("key", "id,version"), ("order_by", "name")];
    let mut batches = Vec::new();
    for round in 0..3 {
        let ids: Vec<Option<String>> = (0..70_000)
            .map(|i| Some(format!("k{}", i % 1000)))
            .collect();
        let ids: Vec<Option<&str>> = ids.iter().map(|s| s.as_deref()).collect();
        let versions: Vec<Option<i64>> = (0..70_000).map(|i| Some(i % 3)).collect();
        let names: Vec<Option<String>> = (0..70_000)
            .map(|i| Some(format!("{round}-{i:06}")))
            .collect();
        let names: Vec<Option<&str>> = names.iter().map(|s| s.as_deref()).collect();
        batches.push(batch(&ids, &versions, &names));
    }
    let out = run(&params, batches).unwrap();
    assert_eq!(out.num_rows(), 3000);
    let ids = strings(&out, "id");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let v = out
        .column_by_name("version")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!((v.value(0), v.value(1), v.value(2)), (0, 1, 2));
    assert!(
        strings(&out, "name")
            .iter()
            .all(|n| n.as_deref().unwrap().starts_with("2-"))
    );
}

#[test]
fn empty_input_keeps_schema() {
    let out = run(&[("key", "id")], vec![batch(&[], &[], &[])]).unwrap();
    assert_eq!(out.num_rows(), 0);
    assert_eq!(out.num_columns(), 3);
}

#[test]
fn bad_params_name_the_column() {
    let err = run(&[("key", "nope")], vec![batch(&[], &[], &[])]).unwrap_err();
    let Error::BadParams(msg) = err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains("nope") && msg.contains("id, version, name"),
        "{msg}"
    );
    let err = run(
        &[("key", "id"), ("trim", "version")],
        vec![batch(&[], &[], &[])],
    )
    .unwrap_err();
    assert!(matches!(err, Error::BadParams(m) if m.contains("not a string column")));
    assert!(matches!(run(&[], vec![]), Err(Error::BadParams(_))));
    assert!(matches!(
        run(&[("key", "id"), ("oder_by", "x")], vec![]),
        Err(Error::BadParams(_))
    ));
}
