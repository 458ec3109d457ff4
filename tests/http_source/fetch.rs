//! Fetching: every day byte for byte, healing, refetching recent days,
//! the concurrency limit.

use std::collections::BTreeMap;
use std::time::Duration;

use super::api::*;
use super::harness::*;

#[test]
fn the_example_fetches_every_day_byte_for_byte_and_a_second_run_asks_nothing() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&example_config(&api, 6, ""));

    let first = run(&ws, &[], &[]);
    first.assert_ok();
    assert_eq!(first.count("raw/weather", "computed"), 6);
    assert_eq!(first.count("bronze/weather", "computed"), 6);
    assert_eq!(first.count("gold/last_30_days", "computed"), 6);
    assert_eq!(first.computed("gold/by_city"), ["all"]);
    for d in 1..=6 {
        assert_eq!(api.hits(&date(d)), 1, "requests for {}", date(d));
        assert_eq!(manifest_files(&ws, d), ["page-0001.json"]);
        assert_eq!(
            raw_file(&ws, d, "page-0001.json"),
            archive_body(&date(d), 0),
            "raw is not the server's bytes"
        );
        let origin = &origins(&ws, d)[0];
        let url = origin["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/v1/archive?", api.base))
                && url.contains(&format!("start_date={}", date(d)))
                && url.contains(&format!("end_date={}", date(d))),
            "{origin}"
        );
        assert_eq!(origin["status"], 200, "{origin}");
        assert_eq!(
            origin["content_type"], "application/json; charset=utf-8",
            "{origin}"
        );
        assert_eq!(
            origin["size"].as_u64(),
            Some(archive_body(&date(d), 0).len() as u64)
        );
        // Two places, one row each.
        assert_eq!(ws.manifest("bronze/weather", &day(d))["rows"], 2);
    }
    // The query as configured, commas and all.
    assert!(
        api.log()[0].contains("latitude=52.52%2C48.85%2C51.51"),
        "{:?}",
        api.log()
    );
    let before = ws.snapshot();

    let second = run(&ws, &[], &[]);
    second.assert_ok();
    assert_eq!(api.total(), 6, "a second run made requests");
    for d in [
        "raw/weather",
        "bronze/weather",
        "gold/last_30_days",
        "gold/by_city",
    ] {
        assert_eq!(second.count(d, "computed"), 0, "{d} recomputed");
    }
    assert_eq!(ws.snapshot(), before, "a no-op run changed the store");
}

#[test]
fn a_deleted_raw_day_is_fetched_again_alone_and_the_layers_above_heal() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&example_config(&api, 6, ""));
    run(&ws, &[], &[]).assert_ok();
    let before = ws.snapshot();
    let data_files_unchanged = |after: &BTreeMap<String, String>| {
        for (path, hash) in &before {
            if !path.ends_with("_manifest.json") {
                assert_eq!(after.get(path), Some(hash), "{path}");
            }
        }
    };

    // Only raw: the same bytes come back, so nothing above moves.
    std::fs::remove_dir_all(ws.partition_dir("raw/weather", &day(3))).unwrap();
    let heal = run(&ws, &[], &[]);
    heal.assert_ok();
    assert_eq!(heal.computed("raw/weather"), [day(3)]);
    assert!(heal.computed("bronze/weather").is_empty());
    assert_eq!(api.hits(&date(3)), 2);
    assert_eq!(api.total(), 7, "{:?}", api.all_hits());
    data_files_unchanged(&ws.snapshot());

    // Raw with what was made from it: each layer heals from the one below.
    std::fs::remove_dir_all(ws.partition_dir("raw/weather", &day(4))).unwrap();
    std::fs::remove_dir_all(ws.partition_dir("bronze/weather", &day(4))).unwrap();
    std::fs::remove_dir_all(ws.partition_dir("gold/last_30_days", &day(4))).unwrap();
    let heal = run(&ws, &[], &[]);
    heal.assert_ok();
    assert_eq!(heal.computed("raw/weather"), [day(4)]);
    assert_eq!(heal.computed("bronze/weather"), [day(4)]);
    assert_eq!(heal.computed("gold/last_30_days"), [day(4)]);
    assert!(heal.computed("gold/by_city").is_empty());
    assert_eq!(api.hits(&date(4)), 2);
    assert_eq!(api.total(), 8, "{:?}", api.all_hits());
    data_files_unchanged(&ws.snapshot());
}

#[test]
fn refetch_recent_recomputes_only_when_the_response_changed() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(
        5,
        &archive_source(&api, "refetch_recent = 2"),
        true,
    ));
    run(&ws, &[], &[]).assert_ok();
    assert_eq!(api.total(), 5);

    // The same answers: refetched, nothing committed or recomputed.
    let before = ws.snapshot();
    let same = run(&ws, &[], &[]);
    same.assert_ok();
    assert_eq!(same.computed("raw/weather"), [day(4), day(5)]);
    assert!(same.changed("raw/weather").is_empty());
    assert!(same.computed("bronze/weather").is_empty());
    assert!(same.computed("gold/last_30_days").is_empty());
    assert_eq!(
        ws.snapshot(),
        before,
        "an unchanged refetch wrote something"
    );
    assert_eq!((api.hits(&date(3)), api.hits(&date(4))), (1, 2));

    // Yesterday corrected at the source: it and what reads it recompute.
    api.change(&date(5));
    let fixed = run(&ws, &[], &[]);
    fixed.assert_ok();
    assert_eq!(fixed.computed("raw/weather"), [day(4), day(5)]);
    assert_eq!(fixed.changed("raw/weather"), [day(5)]);
    assert_eq!(fixed.computed("bronze/weather"), [day(5)]);
    assert_eq!(fixed.computed("gold/last_30_days"), [day(5)]);
    assert_eq!(
        raw_file(&ws, 5, "page-0001.json"),
        archive_body(&date(5), api.version(&date(5)))
    );

    // An older day is not asked for again, changed or not.
    api.change(&date(2));
    let later = run(&ws, &[], &[]);
    later.assert_ok();
    assert_eq!(api.hits(&date(2)), 1);
    assert!(later.changed("raw/weather").is_empty());
    assert!(later.computed("bronze/weather").is_empty());
}

#[test]
fn requests_in_flight_stay_within_the_concurrency_limit() {
    let api = Api::start();
    api.state.lock().unwrap().delay = Some(Duration::from_millis(50));
    let ws = workspace();
    ws.write_config(&config(
        8,
        &archive_source(&api, "concurrency = 2\nrate_limit = 1000"),
        false,
    ));
    run(&ws, &["--jobs", "8"], &[]).assert_ok();
    assert_eq!(api.total(), 8);
    let max = api.state.lock().unwrap().max_in_flight;
    assert!((1..=2).contains(&max), "{max} requests at once");
}
