use std::sync::Arc;

use strata_sdk::arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use strata_sdk::arrow::datatypes::{Int64Type, Schema};
use strata_sdk::{Context, Error, Input, Params, Plan, Transform, ipc};

use super::{CleanDedupe, Dedupe};

fn context(params: &[(&str, &str)]) -> Context {
    Context {
        dataset: "silver/t".into(),
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
            dataset: "bronze/t".into(),
            schema: Arc::new(Schema::empty()),
            partitions: vec!["date=2025-02-18".into()],
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
    let out = run_all(params, batches)?;
    assert_eq!(out.len(), 1);
    Ok(out.into_iter().next().unwrap())
}

/// Which way a run deduplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// The hash path where it applies, compacting as in production.
    Default,
    /// The hash path, compacting whenever the kept rows pass twice the keys.
    HashCompactingOften,
    /// The sort path (the implementation before the hash path), folding
    /// pending rows often.
    Sort,
}

fn run_path(
    path: Path,
    params: &[(&str, &str)],
    batches: &[RecordBatch],
) -> Result<(Vec<RecordBatch>, bool), Error> {
    let mut t = CleanDedupe::open(&context(params))?;
    match path {
        Path::Default => {}
        Path::HashCompactingOften => t.compact_rows = 1,
        Path::Sort => {
            t.allow_hash = false;
            t.compact_rows = 7;
        }
    }
    for b in batches {
        assert!(t.process(0, 0, b.clone())?.is_empty());
    }
    let hashed = matches!(t.dedupe, Dedupe::Hash(_));
    Ok((output(&mut t)?, hashed))
}

/// What the host takes after the last batch: `finish`, then `drain` until
/// it has nothing.
fn output(t: &mut CleanDedupe) -> Result<Vec<RecordBatch>, Error> {
    let mut out = t.finish()?;
    while let Some(batch) = t.drain()? {
        out.push(batch);
    }
    Ok(out)
}

/// Runs every path, checks they give the same batches, returns them.
fn run_all(params: &[(&str, &str)], batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, Error> {
    let (out, _) = run_path(Path::Default, params, &batches)?;
    for path in [Path::HashCompactingOften, Path::Sort] {
        let (other, _) = run_path(path, params, &batches)?;
        assert_eq!(out, other, "{path:?} differs from the default path");
    }
    Ok(out)
}

/// Like [`run_all`], and checks that the default path is the hash path.
fn run_hashed(params: &[(&str, &str)], batches: Vec<RecordBatch>) -> Vec<RecordBatch> {
    assert!(
        run_path(Path::Default, params, &batches).unwrap().1,
        "hash path not taken"
    );
    run_all(params, batches).unwrap()
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

// The hash path against the sort path, and the cases a hash-based dedupe
// could get wrong.

/// xorshift64: deterministic test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }

    /// `None` one time in `one_in`.
    fn maybe<T>(&mut self, one_in: usize, value: impl FnOnce(&mut Rng) -> T) -> Option<T> {
        (self.below(one_in) != 0).then(|| value(self))
    }
}

const STRINGS: &[&str] = &[
    "",
    "a",
    "a ",
    " a",
    "ab",
    "abcdefg",
    "abcdefgh",
    "abcdefgh\0",
    "abcdefghi",
    "abcdefgi",
    "tx-20250301-p0001-0000001",
    "tx-20250301-p0001-0000002",
    "tx-20250301-p0002-0000001",
    "tx-20250301-p0001-00000010",
    "Straße",
    "STRASSE",
    "İstanbul",
    "\u{a0}nbsp\u{2003}",
    "zz",
];

const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.5,
    -1.5,
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
];

/// A table with a column of every type the hash path knows, a dictionary
/// column (which it does not) and a `payload` that tells rows apart.
fn wide_batch(rng: &mut Rng, rows: usize, batch: usize, with_dictionary: bool) -> RecordBatch {
    use strata_sdk::arrow::array::{
        BinaryArray, BooleanArray, Decimal128Array, DictionaryArray, Float32Array, Float64Array,
        Int8Array, LargeStringArray, TimestampMicrosecondArray, UInt64Array,
    };
    use strata_sdk::arrow::datatypes::Int32Type;
    let s: StringArray = (0..rows)
        .map(|_| rng.maybe(12, |r| r.pick(STRINGS)))
        .collect();
    let i: Int64Array = (0..rows)
        .map(|_| rng.maybe(12, |r| r.below(5) as i64 - 2))
        .collect();
    let u: UInt64Array = (0..rows)
        .map(|_| rng.maybe(12, |r| r.pick(&[0, 1, u64::MAX, u64::MAX - 1, 1 << 63])))
        .collect();
    let f: Float64Array = (0..rows)
        .map(|_| rng.maybe(12, |r| r.pick(FLOATS)))
        .collect();
    let f32: Float32Array = (0..rows)
        .map(|_| rng.maybe(12, |r| r.pick(FLOATS) as f32))
        .collect();
    let b: BooleanArray = (0..rows)
        .map(|_| rng.maybe(12, |r| r.below(2) == 0))
        .collect();
    let d = (0..rows)
        .map(|_| {
            rng.maybe(12, |r| {
                r.pick(&[i128::MIN, -1, 0, 1, 1 << 70, -(1 << 70), i128::MAX])
            })
        })
        .collect::<Decimal128Array>()
        .with_precision_and_scale(38, 2)
        .unwrap();
    let t = (0..rows)
        .map(|_| rng.maybe(12, |r| r.below(4) as i64 * 1_000_000 - 1))
        .collect::<TimestampMicrosecondArray>()
        .with_timezone("UTC");
    let bin: BinaryArray = (0..rows)
        .map(|_| rng.maybe(12, |r| r.pick(STRINGS).as_bytes()))
        .collect();
    let ls: LargeStringArray = (0..rows)
        .map(|_| rng.maybe(12, |r| r.pick(STRINGS)))
        .collect();
    let i8: Int8Array = (0..rows)
        .map(|_| rng.maybe(12, |r| r.pick(&[i8::MIN, -1, 0, 1, i8::MAX])))
        .collect();
    let payload: StringArray = (0..rows)
        .map(|row| Some(format!("{batch}-{row}")))
        .collect();
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("s", Arc::new(s)),
        ("i", Arc::new(i)),
        ("u", Arc::new(u)),
        ("f", Arc::new(f)),
        ("f32", Arc::new(f32)),
        ("b", Arc::new(b)),
        ("d", Arc::new(d)),
        ("t", Arc::new(t)),
        ("bin", Arc::new(bin)),
        ("ls", Arc::new(ls)),
        ("i8", Arc::new(i8)),
        ("payload", Arc::new(payload)),
    ];
    if with_dictionary {
        let dict: DictionaryArray<Int32Type> = (0..rows)
            .map(|_| rng.maybe(12, |r| r.pick(&["x", "y", "z"])))
            .collect();
        columns.push(("dict", Arc::new(dict)));
    }
    RecordBatch::try_from_iter(columns).unwrap()
}

#[test]
fn hash_path_matches_sort_path_on_random_tables() {
    const KEYS: &[&str] = &["s", "i", "u", "f", "f32", "b", "d", "t", "bin", "ls", "i8"];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut hashed = 0;
    for case in 0..300 {
        let with_dictionary = case % 10 == 9;
        let mut key: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(KEYS)).collect();
        key.dedup();
        if with_dictionary && case % 20 == 19 {
            key = vec!["dict", "i"];
        }
        let key = key.join(",");
        let order_by = match rng.below(4) {
            0 => None,
            1 => Some("payload"),
            _ => Some(rng.pick(KEYS)),
        };
        let mut params = vec![("key", key.as_str())];
        if let Some(o) = order_by {
            params.push(("order_by", o));
        }
        match rng.below(4) {
            0 => params.push(("trim", "s,ls")),
            1 => params.extend([("trim", "s"), ("lowercase", "s,ls")]),
            2 => params.push(("uppercase", "s")),
            _ => {}
        }
        if rng.below(3) == 0 {
            params.push(("drop_columns", "i,payload"));
        }
        let batches: Vec<RecordBatch> = (0..1 + rng.below(6))
            .map(|b| {
                let rows = rng.pick(&[0, 1, 2, 17, 100, 300]);
                wide_batch(&mut rng, rows, b, with_dictionary)
            })
            .collect();
        let (_, hash) = run_path(Path::Default, &params, &batches).unwrap();
        assert_eq!(hash, !with_dictionary, "{params:?}");
        hashed += usize::from(hash);
        let out = run_all(&params, batches).unwrap();
        assert_eq!(out.len(), 1, "{params:?}");
    }
    assert!(hashed > 200);
}

#[test]
fn ties_keep_the_later_row_within_and_across_batches() {
    let params = [("key", "id"), ("order_by", "version")];
    let out = run_hashed(
        &params,
        vec![
            batch(
                &[Some("a"), Some("a"), Some("b"), Some("c")],
                &[Some(3), Some(3), Some(1), None],
                &[Some("a1"), Some("a2"), Some("b1"), Some("c1")],
            ),
            batch(
                &[Some("b"), Some("a"), Some("c")],
                &[Some(1), Some(2), None],
                &[Some("b2"), Some("a3"), Some("c2")],
            ),
            batch(&[Some("b")], &[Some(1)], &[Some("b3")]),
        ],
    );
    assert_eq!(out.len(), 1);
    // a: 3 twice in one batch, the later wins, and 2 later does not beat it;
    // b: 1 three times, the last batch wins; c: null twice, the later wins.
    assert_eq!(
        strings(&out[0], "name"),
        [Some("a2".into()), Some("b3".into()), Some("c2".into())]
    );
}

#[test]
fn null_order_by_is_the_smallest() {
    let out = run_hashed(
        &[("key", "id"), ("order_by", "version")],
        vec![
            batch(
                &[Some("a"), Some("b")],
                &[Some(i64::MIN), None],
                &[Some("a1"), Some("b1")],
            ),
            batch(
                &[Some("a"), Some("b")],
                &[None, Some(i64::MIN)],
                &[Some("a2"), Some("b2")],
            ),
        ],
    );
    assert_eq!(
        strings(&out[0], "name"),
        [Some("a1".into()), Some("b2".into())]
    );
}

#[test]
fn null_keys_are_dropped_everywhere() {
    let out = run_hashed(
        &[("key", "id,version")],
        vec![
            batch(&[None, None], &[Some(1), None], &[Some("x"), Some("y")]),
            batch(
                &[Some("a"), None, Some("a"), Some("a")],
                &[None, Some(1), Some(1), Some(1)],
                &[Some("a-null"), Some("null-1"), Some("a1"), Some("a1-later")],
            ),
            batch(&[None], &[None], &[Some("z")]),
        ],
    );
    assert_eq!(out[0].num_rows(), 1);
    assert_eq!(strings(&out[0], "name"), [Some("a1-later".into())]);
    // Only rows without a key: the schema, no rows.
    let out = run_hashed(
        &[("key", "id")],
        vec![batch(&[None, None], &[Some(1), Some(2)], &[None, None])],
    );
    assert_eq!(
        (out.len(), out[0].num_rows(), out[0].num_columns()),
        (1, 0, 3)
    );
}

#[test]
fn a_key_in_the_last_batch_only_and_duplicates_across_batches() {
    let mut batches: Vec<RecordBatch> = (0..20)
        .map(|b| {
            let ids: Vec<String> = (0..50)
                .map(|i| format!("id-{:03}", (i * 7 + b) % 60))
                .collect();
            let ids: Vec<Option<&str>> = ids.iter().map(|s| Some(s.as_str())).collect();
            let versions: Vec<Option<i64>> = (0..50).map(|i| Some((i % 4) as i64)).collect();
            let names: Vec<String> = (0..50).map(|i| format!("{b}-{i}")).collect();
            let names: Vec<Option<&str>> = names.iter().map(|s| Some(s.as_str())).collect();
            batch(&ids, &versions, &names)
        })
        .collect();
    batches.push(batch(&[Some("late")], &[Some(0)], &[Some("only")]));
    let out = run_hashed(&[("key", "id"), ("order_by", "version")], batches);
    let ids = strings(&out[0], "id");
    assert_eq!(ids.len(), 61);
    assert_eq!(ids.last().unwrap().as_deref(), Some("late"));
    assert_eq!(
        strings(&out[0], "name").last().unwrap().as_deref(),
        Some("only")
    );
}

#[test]
fn later_batches_supersede_whole_earlier_ones() {
    // Every batch repeats the same keys with a greater version: earlier
    // batches are dropped as they go, and compaction never has to copy.
    let batches: Vec<RecordBatch> = (0..30)
        .map(|b| {
            let ids: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
            let ids: Vec<Option<&str>> = ids.iter().map(|s| Some(s.as_str())).collect();
            let names: Vec<String> = (0..40).map(|i| format!("{b}-{i}")).collect();
            let names: Vec<Option<&str>> = names.iter().map(|s| Some(s.as_str())).collect();
            batch(&ids, &vec![Some(b); 40], &names)
        })
        .collect();
    let out = run_hashed(&[("key", "id"), ("order_by", "version")], batches);
    assert_eq!(out[0].num_rows(), 40);
    assert!(
        strings(&out[0], "name")
            .iter()
            .all(|n| n.as_deref().unwrap().starts_with("29-"))
    );
}

#[test]
fn many_keys_come_out_sorted_in_batches_of_64k_rows() {
    let mut rng = Rng(7);
    let mut batches = Vec::new();
    for b in 0..5 {
        let ids: Vec<String> = (0..40_000)
            .map(|_| format!("tx-{:06}", rng.below(150_000)))
            .collect();
        let ids: Vec<Option<&str>> = ids.iter().map(|s| Some(s.as_str())).collect();
        let versions: Vec<Option<i64>> = (0..40_000)
            .map(|_| rng.maybe(5, |r| r.below(3) as i64))
            .collect();
        let names: Vec<String> = (0..40_000).map(|i| format!("{b}-{i}")).collect();
        let names: Vec<Option<&str>> = names.iter().map(|s| Some(s.as_str())).collect();
        batches.push(batch(&ids, &versions, &names));
    }
    let out = run_hashed(&[("key", "id"), ("order_by", "version")], batches);
    let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
    assert!(sizes.len() >= 2 && sizes[..sizes.len() - 1].iter().all(|&n| n == 1 << 16));
    let ids: Vec<Option<String>> = out.iter().flat_map(|b| strings(b, "id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn no_batch_at_all_gives_the_schema_from_open() {
    let mut ctx = context(&[("key", "id"), ("drop_columns", "name")]);
    ctx.inputs[0].schema = batch(&[], &[], &[]).schema();
    let mut t = CleanDedupe::open(&ctx).unwrap();
    let out = output(&mut t).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].num_rows(), 0);
    assert_eq!(out[0].num_columns(), 2);
    // Empty batches only.
    let out = run_hashed(
        &[("key", "id")],
        vec![batch(&[], &[], &[]), batch(&[], &[], &[])],
    );
    assert_eq!((out.len(), out[0].num_rows()), (1, 0));
}

#[test]
fn nullability_merged_across_batches_reaches_the_output() {
    let strict = RecordBatch::try_from_iter_with_nullable([
        (
            "id",
            Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            false,
        ),
        (
            "version",
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
            false,
        ),
    ])
    .unwrap();
    let loose = RecordBatch::try_from_iter_with_nullable([
        (
            "id",
            Arc::new(StringArray::from(vec!["b", "c"])) as ArrayRef,
            false,
        ),
        (
            "version",
            Arc::new(Int64Array::from(vec![Some(3), None])) as ArrayRef,
            true,
        ),
    ])
    .unwrap();
    let out = run_hashed(
        &[("key", "id"), ("order_by", "version")],
        vec![strict, loose],
    );
    assert!(
        out[0]
            .schema()
            .field_with_name("version")
            .unwrap()
            .is_nullable()
    );
    assert!(!out[0].schema().field_with_name("id").unwrap().is_nullable());
    assert_eq!(out[0].num_rows(), 3);
}

/// The cleaning as it was written before (a `Cow` per value).
fn clean_reference(values: &[Option<&str>], cleans: &[super::Clean]) -> Vec<Option<String>> {
    use super::Clean;
    use std::borrow::Cow;
    values
        .iter()
        .map(|value| {
            value.map(|s| {
                let mut s = Cow::Borrowed(s);
                for clean in cleans {
                    s = match clean {
                        Clean::Trim => match s {
                            Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
                            Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
                        },
                        Clean::Lowercase => Cow::Owned(s.to_lowercase()),
                        Clean::Uppercase => Cow::Owned(s.to_uppercase()),
                    };
                }
                s.into_owned()
            })
        })
        .collect()
}

#[test]
fn cleaning_is_as_before() {
    use super::Clean::{Lowercase, Trim, Uppercase};
    let mut values: Vec<Option<&str>> = STRINGS.iter().copied().map(Some).collect();
    values.extend([
        None,
        Some("  MiXeD Case  "),
        Some("\u{3000}ǅ\u{85}"),
        Some(" ß "),
    ]);
    let arrays: [ArrayRef; 2] = [
        Arc::new(StringArray::from(values.clone())),
        Arc::new(strata_sdk::arrow::array::LargeStringArray::from(
            values.clone(),
        )),
    ];
    for cleans in [
        &[Trim][..],
        &[Lowercase],
        &[Uppercase],
        &[Trim, Lowercase],
        &[Trim, Uppercase],
        &[Trim, Trim, Lowercase],
        &[Lowercase, Trim],
        &[Uppercase, Trim, Trim],
        &[Lowercase, Lowercase],
    ] {
        let expected = clean_reference(&values, cleans);
        let cleaned = super::clean_strings(&arrays[0], cleans).unwrap();
        let got: Vec<Option<String>> = cleaned
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect();
        assert_eq!(got, expected, "{cleans:?}");
        let cleaned = super::clean_strings(&arrays[1], cleans).unwrap();
        let got: Vec<Option<String>> = cleaned
            .as_string::<i64>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect();
        assert_eq!(got, expected, "{cleans:?} (large)");
    }
}

#[test]
fn input_in_key_order_is_released_as_the_output_is_made() {
    // Three batches of ids in order (plus a few late corrections of the
    // first ones): each kept batch can go once its output batch is made.
    let mut batches = Vec::new();
    for b in 0..3 {
        let mut ids: Vec<String> = (0..50_000)
            .map(|i| format!("k{:07}", b * 50_000 + i))
            .collect();
        if b == 2 {
            ids.extend((0..100).map(|i| format!("k{:07}", i * 7)));
        }
        let ids: Vec<Option<&str>> = ids.iter().map(|s| Some(s.as_str())).collect();
        let versions: Vec<Option<i64>> = (0..ids.len())
            .map(|i| Some(b + i as i64 / 50_000))
            .collect();
        let names: Vec<String> = (0..ids.len()).map(|i| format!("{b}-{i}")).collect();
        let names: Vec<Option<&str>> = names.iter().map(|s| Some(s.as_str())).collect();
        batches.push(batch(&ids, &versions, &names));
    }
    let out = run_hashed(&[("key", "id"), ("order_by", "version")], batches);
    let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
    assert_eq!(sizes, [65_536, 65_536, 18_928]);
    assert_eq!(strings(&out[0], "name")[7].as_deref(), Some("2-50001"));
}

#[test]
fn long_keys_sharing_prefixes_sort_as_bytes() {
    // Keys that tie on many 8-byte words, differ anywhere, contain zero
    // bytes and are prefixes of each other.
    let mut rng = Rng(42);
    let batches: Vec<RecordBatch> = (0..4)
        .map(|b| {
            let ids: Vec<String> = (0..3_000)
                .map(|_| {
                    let len = rng.below(40);
                    let tail: String = (0..len).map(|_| rng.pick(&['a', 'b', '\0'])).collect();
                    format!("a-shared-prefix/{tail}")
                })
                .collect();
            let ids: Vec<Option<&str>> = ids.iter().map(|s| Some(s.as_str())).collect();
            let versions: Vec<Option<i64>> =
                (0..3_000).map(|_| Some(rng.below(2) as i64)).collect();
            let names: Vec<String> = (0..3_000).map(|i| format!("{b}-{i}")).collect();
            let names: Vec<Option<&str>> = names.iter().map(|s| Some(s.as_str())).collect();
            batch(&ids, &versions, &names)
        })
        .collect();
    let out = run_hashed(&[("key", "id"), ("order_by", "version")], batches);
    let ids = strings(&out[0], "id");
    assert!(ids.len() > 5_000);
    assert!(
        ids.windows(2)
            .all(|w| w[0].as_deref().unwrap().as_bytes() < w[1].as_deref().unwrap().as_bytes())
    );
}

/// Params, and the columns the plan reads with them.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

/// What the host does with a plan: hands over only the columns it names,
/// in the input's column order.
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

fn ipc(batches: &[RecordBatch]) -> Vec<Vec<u8>> {
    batches.iter().map(|b| ipc::encode(b).unwrap()).collect()
}

#[test]
fn the_plan_reads_the_output_the_key_and_order_by_and_changes_no_byte() {
    let batches = vec![
        batch(
            &[Some(" a"), Some("b"), Some("a ")],
            &[Some(1), Some(2), Some(3)],
            &[Some("x"), Some("y"), None],
        ),
        batch(
            &[Some("b"), None, Some("c")],
            &[Some(1), Some(9), None],
            &[Some("w"), Some("v"), Some("u")],
        ),
    ];
    let cases: [Case; 5] = [
        (&[("key", "id"), ("trim", "id")], &["id", "version", "name"]),
        (
            &[("key", "id"), ("drop_columns", "name")],
            &["id", "version"],
        ),
        (
            &[
                ("key", "id"),
                ("order_by", "version"),
                ("drop_columns", "version"),
            ],
            &["id", "version", "name"],
        ),
        (
            &[("key", "name"), ("drop_columns", r#"["version", "name"]"#)],
            &["id", "name"],
        ),
        (&[("key", "id"), ("drop_columns", "version, name")], &["id"]),
    ];
    for (params, read) in cases {
        let whole = run_all(params, batches.clone()).unwrap();
        let mut ctx = context(params);
        ctx.inputs[0].schema = batches[0].schema();
        let mut t = CleanDedupe::open(&ctx).unwrap();
        let plan = t.plan(&ctx);
        assert_eq!(plan.inputs().len(), 1, "{params:?}");
        let read: Vec<String> = read.iter().map(|c| c.to_string()).collect();
        assert_eq!(plan.inputs()[0].columns, Some(read), "{params:?}");
        assert!(plan.inputs()[0].ordered, "ties keep the later row");
        for b in &batches {
            assert!(t.process(0, 0, project(b, &plan, 0)).unwrap().is_empty());
        }
        assert_eq!(ipc(&output(&mut t).unwrap()), ipc(&whole), "{params:?}");
    }
}

#[test]
fn an_input_without_a_schema_is_read_whole_and_one_with_is_projected() {
    let params = [("key", "id"), ("drop_columns", "name")];
    let b = batch(
        &[Some("a"), Some("a")],
        &[Some(1), Some(2)],
        &[Some("x"), None],
    );
    let whole = run_all(&params, vec![b.clone()]).unwrap();
    let mut ctx = context(&params);
    ctx.inputs.push(Input {
        dataset: "bronze/u".into(),
        schema: b.schema(),
        partitions: vec!["date=2025-02-18".into()],
    });
    let mut t = CleanDedupe::open(&ctx).unwrap();
    let plan = t.plan(&ctx);
    assert_eq!(plan.inputs()[0].columns, None);
    assert_eq!(
        plan.inputs()[1].columns.as_deref(),
        Some(&["id".to_string(), "version".to_string()][..])
    );
    // The first batch comes from input 1, without the dropped column.
    assert!(t.process(1, 0, project(&b, &plan, 1)).unwrap().is_empty());
    assert_eq!(ipc(&output(&mut t).unwrap()), ipc(&whole));
}

#[test]
fn a_missing_key_is_named() {
    let Err(Error::BadParams(msg)) = CleanDedupe::open(&context(&[("trim", "id")])) else {
        panic!("no key accepted")
    };
    assert_eq!(msg, "missing required param `key` (the key columns)");
}

/// Output larger than a batch comes from `drain` a batch at a time, in key
/// order, on both paths; `finish` itself hands over nothing.
#[test]
fn a_large_output_is_drained_a_batch_at_a_time() {
    let n = super::OUTPUT_BATCH_ROWS * 2 + 5;
    let ids: Vec<String> = (0..n).rev().map(|i| format!("k{i:07}")).collect();
    let ids: Vec<Option<&str>> = ids.iter().map(|s| Some(s.as_str())).collect();
    let input = batch(&ids, &vec![Some(1); n], &vec![None; n]);
    for path in [Path::Default, Path::Sort] {
        let mut t = CleanDedupe::open(&context(&[("key", "id")])).unwrap();
        if path == Path::Sort {
            t.allow_hash = false;
        }
        assert!(t.process(0, 0, input.clone()).unwrap().is_empty());
        assert!(t.finish().unwrap().is_empty(), "{path:?}");
        let mut sizes = Vec::new();
        let mut last = String::new();
        while let Some(b) = t.drain().unwrap() {
            sizes.push(b.num_rows());
            for id in b.column(0).as_string::<i32>().iter().flatten() {
                assert!(id > last.as_str(), "{path:?}: {id} after {last}");
                last = id.to_string();
            }
        }
        let full = super::OUTPUT_BATCH_ROWS;
        assert_eq!(sizes, [full, full, 5], "{path:?}");
        assert!(t.drain().unwrap().is_none(), "{path:?}");
    }
}
