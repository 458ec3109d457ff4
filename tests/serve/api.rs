//! Every endpoint's JSON against the CLI on the same store: the partition
//! list is `host status --json`, the runs are `host history --json`, a
//! partition's detail and rows are its manifest and its Parquet, /metrics
//! counts what status counts; filters, limits and bad requests.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Server, client, host_json, store_with_a_failure};
use crate::util::day;

/// Counts by dataset and state from `host status --json`.
fn counts(status: &Value) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for p in status["partitions"].as_array().unwrap() {
        *out.entry((
            p["dataset"].as_str().unwrap().to_owned(),
            p["state"].as_str().unwrap().to_owned(),
        ))
        .or_default() += 1;
    }
    out
}

#[test]
fn every_endpoint_answers_what_status_and_history_say() {
    let ws = store_with_a_failure();
    let status = host_json(&ws, &["status", "--json"]);
    let history = host_json(&ws, &["history", "--json"]);
    let server = Server::start(&ws, &[], &[]);

    // The partitions: the same JSON as `host status --json`.
    assert_eq!(server.json("/api/partitions"), status);
    let failed: Vec<&Value> = status["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{status}");
    assert_eq!(failed[0]["dataset"], "bronze/transactions");
    assert_eq!(failed[0]["partition"], day(2));

    // Filters keep exactly the entries status has that match.
    let only = server.json("/api/partitions?dataset=bronze/transactions&state=failed");
    assert_eq!(only["partitions"], Value::Array(vec![failed[0].clone()]));
    let window = server.json("/api/partitions?from=2025-02-02&to=2025-02-03");
    let expected: Vec<Value> = status["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["partition"] == day(2) || p["partition"] == day(3))
        .cloned()
        .collect();
    assert_eq!(window["partitions"], Value::Array(expected));
    let blocked = server.json("/api/partitions?state=blocked,failed");
    let n = status["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "blocked" || p["state"] == "failed")
        .count();
    assert_eq!(blocked["partitions"].as_array().unwrap().len(), n);

    // An unchanged store answers a conditional GET with 304.
    let first = client().get(server.url("/api/partitions")).send().unwrap();
    let etag = first.headers()["etag"].clone();
    let again = client()
        .get(server.url("/api/partitions"))
        .header("If-None-Match", etag)
        .send()
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);

    // The pipeline: datasets in order with their inputs and counts.
    let pipeline = server.json("/api/pipeline");
    let names: Vec<&str> = pipeline["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "raw/transactions",
            "bronze/transactions",
            "silver/transactions",
            "gold/daily_totals",
            "gold/rolling_3d"
        ]
    );
    let by_state = counts(&status);
    for d in pipeline["datasets"].as_array().unwrap() {
        for (state, n) in d["counts"].as_object().unwrap() {
            let expected = by_state
                .get(&(d["dataset"].as_str().unwrap().to_owned(), state.clone()))
                .copied()
                .unwrap_or(0);
            assert_eq!(n.as_u64(), Some(expected), "{} {state}", d["dataset"]);
        }
    }
    let rolling = &pipeline["datasets"][4];
    assert_eq!(rolling["inputs"][0]["dataset"], "silver/transactions");
    assert_eq!(rolling["inputs"][0]["mapping"], "window");
    assert_eq!(rolling["inputs"][0]["window"], 3);
    assert_eq!(pipeline["datasets"][1]["inputs"][0]["mapping"], "same");
    assert_eq!(pipeline["last_run"], history[0]);
    assert!(pipeline["running"].is_null());

    // The failed partition: status's entry, the failure on record, what it
    // reads (its lineage, though it was never committed).
    let detail = server.json(&format!("/api/partitions/bronze/transactions/{}", day(2)));
    for key in ["dataset", "partition", "state", "reason", "failure"] {
        assert_eq!(detail[key], failed[0][key], "{key}");
    }
    assert_eq!(detail["failure_record"]["kind"], "plugin-error");
    assert_eq!(detail["failure_record"]["attempts"], 1);
    assert!(detail["manifest"].is_null());
    assert_eq!(
        detail["reads"],
        serde_json::json!([{ "dataset": "raw/transactions",
            "partitions": [{ "partition": day(2), "state": "fresh" }] }])
    );
    // The label works as well as the id.
    let by_label = server.json("/api/partitions/bronze/transactions/2025-02-02");
    assert_eq!(by_label["partition"], day(2));

    // A fresh partition: its manifest as stored, each input with its state.
    let rolling = server.json(&format!("/api/partitions/gold/rolling_3d/{}", day(1)));
    assert_eq!(rolling["state"], "fresh");
    let mut manifest = ws.manifest("gold/rolling_3d", &day(1));
    for input in manifest["inputs"].as_array_mut().unwrap() {
        input["state"] = "fresh".into();
    }
    assert_eq!(rolling["manifest"], manifest);
    // A window reads three days; the 4th day's window holds the failed day's
    // blocked silver partition.
    let fourth = server.json(&format!("/api/partitions/gold/rolling_3d/{}", day(4)));
    let reads: Vec<(String, String)> = fourth["reads"][0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["partition"].as_str().unwrap().to_owned(),
                p["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reads,
        [
            (day(2), "blocked".to_owned()),
            (day(3), "fresh".to_owned()),
            (day(4), "fresh".to_owned())
        ]
    );

    // Rows: the first N of the partition's Parquet, its schema's columns.
    let silver = ws.manifest("silver/transactions", &day(1));
    let rows = server.json(&format!(
        "/api/partitions/silver/transactions/{}/rows?limit=5",
        day(1)
    ));
    let columns: Vec<&Value> = rows["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    let schema: Vec<&Value> = silver["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(columns, schema);
    assert_eq!(rows["rows"].as_array().unwrap().len(), 5);
    assert_eq!(rows["total_rows"], silver["rows"]);
    assert_eq!(
        rows["rows"][0].as_array().unwrap().len(),
        schema.len(),
        "{rows}"
    );
    // Raw data: the file's first bytes, as delivered.
    let raw = server.json(&format!("/api/partitions/raw/transactions/{}/rows", day(1)));
    let landed =
        std::fs::read_to_string(ws.path().join("landing/transactions-2025-02-01.json")).unwrap();
    let head = raw["files"][0]["head"].as_str().unwrap();
    assert!(landed.starts_with(head) && !head.is_empty(), "{raw}");

    // Runs: `host history --json`, and one run in full.
    assert_eq!(server.json("/api/runs"), history);
    let id = history[0]["id"].as_str().unwrap();
    assert_eq!(
        server.json(&format!("/api/runs/{id}")),
        host_json(&ws, &["history", id, "--json"])
    );
    assert_eq!(
        server.json("/api/runs?limit=1"),
        host_json(&ws, &["history", "--json", "--limit", "1"])
    );

    // /metrics: the partitions families count what status counts.
    let (code, metrics) = server.get("/metrics");
    assert_eq!(code, 200);
    for ((dataset, state), n) in &by_state {
        let line = format!("strata_partitions{{dataset=\"{dataset}\",state=\"{state}\"}} {n}\n");
        assert!(metrics.contains(&line), "no `{line}` in\n{metrics}");
    }
    assert!(metrics.contains("strata_last_run_success 0\n"), "{metrics}");
    assert!(
        metrics.contains("strata_last_run_status{status=\"failed\"} 1\n"),
        "{metrics}"
    );
    assert_eq!(server.json("/healthz")["status"], "ok");

    // The OpenAPI document names every GET endpoint, and each answers 200
    // with its example parameters.
    let openapi = server.json("/api/openapi.json");
    assert_eq!(openapi["openapi"], "3.1.0");
    let mut gets = 0;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        if item.get("get").is_none()
            || path == "/api/events"
            || path == "/api/actions"
            || path == "/healthz"
        {
            continue;
        }
        let url = path
            .replace("{layer}", "silver")
            .replace("{name}", "transactions")
            .replace("{partition}", &day(1))
            .replace("{id}", id);
        let (code, body) = server.get(&url);
        assert_eq!(code, 200, "GET {url}: {body}");
        gets += 1;
    }
    assert_eq!(gets, 8, "{openapi}");
}

#[test]
fn bad_requests_get_a_4xx_with_a_reason() {
    let ws = store_with_a_failure();
    let server = Server::start(&ws, &["--max-rows", "10"], &[]);
    for (path, code, says) in [
        (
            "/api/partitions?dataset=gold/nope",
            404,
            "no dataset `gold/nope`",
        ),
        ("/api/partitions?state=rotten", 400, "not a state"),
        ("/api/partitions?from=yesterday", 400, "not a date"),
        (
            "/api/partitions/silver/transactions/date=2024-01-01",
            404,
            "not a partition",
        ),
        (
            "/api/partitions/silver/nope/date=2025-02-01",
            404,
            "no dataset",
        ),
        (
            "/api/partitions/silver/transactions/date=2025-02-01/rows?limit=11",
            400,
            "--max-rows 10",
        ),
        (
            "/api/partitions/silver/transactions/date=2025-02-01/rows?limit=many",
            400,
            "not a number",
        ),
        (
            "/api/partitions/bronze/transactions/date=2025-02-02/rows",
            404,
            "no data",
        ),
        ("/api/runs?limit=0", 400, "1 to 1000"),
        ("/api/runs/20990101T000000.000Z-0", 404, "no run"),
        ("/api/runs/.hidden", 400, "not a run id"),
        ("/api/actions", 404, "actions are disabled"),
        ("/nowhere", 404, "no such page"),
        ("/assets/nothing.js", 404, "no asset"),
    ] {
        let (status, body) = server.get(path);
        assert_eq!(status, code, "GET {path}: {body}");
        let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            json["error"].as_str().unwrap().contains(says),
            "GET {path}: {body}"
        );
    }
    // The page and its assets, with the headers that confine it.
    let page = client().get(server.url("/")).send().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().unwrap().contains("/assets/app.js"));
    let (status, js) = server.get("/assets/app.js");
    assert_eq!(status, 200);
    assert!(js.contains("EventSource('/api/events')"));
}
