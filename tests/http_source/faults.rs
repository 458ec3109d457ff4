//! Faults: retried transient failures, persistent errors, oversized and
//! malformed responses.

use std::collections::BTreeMap;
use std::time::Duration;

use super::api::*;
use super::harness::*;

#[test]
fn transient_failures_are_retried_until_the_day_is_committed() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(
        6,
        &archive_source(&api, "max_attempts = 4\ntimeout = \"2s\""),
        false,
    ));
    api.once(&date(1), vec![Fault::Status(500, "oops")]);
    api.once(
        &date(2),
        vec![Fault::Status(503, "busy"), Fault::Status(503, "busy")],
    );
    api.once(&date(3), vec![Fault::RetryAfter(1)]);
    api.once(&date(4), vec![Fault::Drop]);
    api.once(&date(6), vec![Fault::Hangup]);
    api.once(&date(5), vec![Fault::Slow(Duration::from_secs(10))]);

    let run = run(&ws, &[], &[]);
    run.assert_ok();
    assert_eq!(run.count("raw/weather", "computed"), 6);
    let expected: BTreeMap<String, usize> = [(1, 2), (2, 3), (3, 2), (4, 2), (5, 2), (6, 2)]
        .into_iter()
        .map(|(d, n)| (date(d), n))
        .collect();
    assert_eq!(api.all_hits(), expected);
    for d in 1..=6 {
        assert_eq!(
            raw_file(&ws, d, "page-0001.json"),
            archive_body(&date(d), 0)
        );
        assert_eq!(manifest_files(&ws, d), ["page-0001.json"]);
    }
    // Each retry is logged with its reason.
    for (d, why) in [
        (1, "HTTP 500 Internal Server Error: oops; retrying"),
        (2, "HTTP 503 Service Unavailable: busy; retrying"),
        (3, "HTTP 429 Too Many Requests: slow down; retrying in 1s"),
        (4, "the response broke off after 19 bytes of body"),
        (5, "(timeout); retrying"),
        (6, "; retrying"),
    ] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(&format!("start_date={}", date(d))) && l.contains(why)),
            "no retry for `{why}` logged:\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_persistent_error_fails_only_its_day_naming_the_url_and_status() {
    let token = "s3cr3t-9b1f04d2-token";
    let api = Api::with_token(token);
    let ws = workspace();
    let source = archive_source(
        &api,
        "max_attempts = 3\nheaders = { Authorization = \"Bearer ${API_TOKEN}\" }",
    ) + "apikey = \"${API_TOKEN}\"\n";
    ws.write_config(&config(5, &source, true));
    api.always(&date(2), Fault::Status(500, "internal error"));
    api.always(
        &date(4),
        Fault::Status(404, r#"{"error":true,"reason":"no such place"}"#),
    );
    let env = [("API_TOKEN", token)];

    let run1 = run(&ws, &[], &env);
    assert_eq!(run1.code, Some(1), "{}", run1.json);
    let failed = failures(&run1, "raw/weather", "source");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2), day(4)]);
    let error = &failed[&day(2)];
    for needle in [
        "raw/weather",
        "date=2025-02-02",
        &format!("GET {}/v1/archive?", api.base),
        "start_date=2025-02-02",
        "apikey=***",
        "HTTP 500",
        "internal error",
        "after 3 attempts",
    ] {
        assert!(error.contains(needle), "`{needle}` not in: {error}");
    }
    assert!(!error.contains(token), "{error}");
    assert_eq!(
        api.hits(&date(2)),
        3,
        "retried more or less than max_attempts"
    );
    // A 404 is not retried, and its body says why.
    let error = &failed[&day(4)];
    assert!(
        error.contains("HTTP 404") && error.contains("no such place"),
        "{error}"
    );
    assert_eq!(api.hits(&date(4)), 1);
    assert_eq!(api.state.lock().unwrap().unauthorized, 0);
    // The other days are complete, the failed ones are not there at all.
    for d in [1, 3, 5] {
        assert!(committed(&ws, "raw/weather", d));
        assert!(committed(&ws, "bronze/weather", d));
    }
    for d in [2, 4] {
        assert!(!ws.partition_dir("raw/weather", &day(d)).exists());
    }
    assert_eq!(run1.count("bronze/weather", "blocked"), 2);

    // Fixed at the source: the next run fetches exactly the failed days.
    api.heal(&date(2));
    api.heal(&date(4));
    let run2 = run(&ws, &[], &env);
    run2.assert_ok();
    assert_eq!(run2.computed("raw/weather"), [day(2), day(4)]);
    assert_eq!(run2.computed("bronze/weather"), [day(2), day(4)]);
    assert_eq!(api.total(), 3 + 1 + 3 + 2, "{:?}", api.all_hits());
}

#[test]
fn a_transient_failure_is_retried_by_every_run_and_its_attempts_recorded() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(3, &archive_source(&api, "max_attempts = 1"), false));
    api.always(&date(2), Fault::Status(503, "try later"));
    // The failure record as `host status --json` shows it.
    let record = || -> serde_json::Value {
        let out = host(&ws, &["status", "--json"], &[]);
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        status["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["dataset"] == "raw/weather" && p["partition"] == day(2))
            .unwrap()
            .clone()
    };

    let first = run(&ws, &[], &[]);
    assert_eq!(first.code, Some(1));
    assert!(failures(&first, "raw/weather", "source").contains_key(&day(2)));
    let entry = record();
    assert_eq!(entry["state"], "failed", "{entry}");
    assert_eq!(entry["failure"]["kind"], "source");
    assert_eq!(entry["failure"]["attempts"], 1);
    assert!(
        entry["reason"].as_str().unwrap().contains("HTTP 503"),
        "{entry}"
    );
    let since = entry["failure"]["since"].clone();

    // A source failure is transient: the next run tries again, and counts.
    let second = run(&ws, &[], &[]);
    assert_eq!(second.code, Some(1));
    let failed = &second.dataset("raw/weather")["failed_partitions"][0];
    assert_eq!(failed["attempted"], true, "{failed}");
    assert_eq!(failed["attempts"], 2, "{failed}");
    assert_eq!(api.hits(&date(2)), 2);
    let entry = record();
    assert_eq!(entry["failure"]["attempts"], 2);
    assert_eq!(entry["failure"]["since"], since);

    api.heal(&date(2));
    let third = run(&ws, &[], &[]);
    third.assert_ok();
    assert_eq!(third.computed("raw/weather"), [day(2)]);
    let entry = record();
    assert_eq!(entry["state"], "fresh", "{entry}");
    assert!(entry.get("failure").is_none(), "{entry}");
}

#[test]
fn a_response_over_the_size_limit_fails_its_day() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(
        3,
        &archive_source(&api, "max_response_bytes = \"4KiB\""),
        false,
    ));
    // One with a Content-Length, one streamed without.
    api.always(&date(2), Fault::Body(vec![b' '; 10_000]));
    api.always(&date(3), Fault::Stream(10_000));

    let run = run(&ws, &[], &[]);
    assert_eq!(run.code, Some(1));
    let failed = failures(&run, "raw/weather", "source");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2), day(3)]);
    for (partition, error) in &failed {
        assert!(
            error.contains("max_response_bytes (4096)"),
            "{partition}: {error}"
        );
    }
    assert!(failed[&day(2)].contains("10000 bytes"), "{failed:?}");
    // Not retried: the answer would be as large again.
    assert_eq!(api.hits(&date(2)), 1);
    assert_eq!(api.hits(&date(3)), 1);
    assert!(committed(&ws, "raw/weather", 1));
}

#[test]
fn a_malformed_body_is_kept_as_is_and_bronze_names_the_file() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(3, &archive_source(&api, ""), true));
    let broken = br#"[{"latitude":52.52,"daily":{"time":["2025-02-02"],"temper"#.to_vec();
    api.always(&date(2), Fault::Body(broken.clone()));

    let run = run(&ws, &[], &[]);
    assert_eq!(run.code, Some(1));
    // Raw does not judge.
    assert_eq!(run.count("raw/weather", "computed"), 3);
    assert_eq!(raw_file(&ws, 2, "page-0001.json"), broken);
    let failed = failures(&run, "bronze/weather", "plugin-error");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2)]);
    let error = &failed[&day(2)];
    assert!(
        error.contains("page-0001.json") && error.contains("not valid JSON"),
        "{error}"
    );
    assert!(committed(&ws, "bronze/weather", 3));
}
