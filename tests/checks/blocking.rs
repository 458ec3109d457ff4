//! A blocking check failing on one day: the new output is kept out, the
//! previous version and everything downstream stay as they were, and the
//! day heals when the delivery is fixed.

use std::collections::BTreeMap;

use crate::util::{Gold, Medallion, Workspace, day};

use super::*;

const CURRENCIES: &str = "[[datasets.checks]]
check = \"accepted_values\"
column = \"currency\"
values = [\"EUR\", \"USD\", \"GBP\"]";

fn landing(ws: &Workspace, d: u32) -> std::path::PathBuf {
    ws.path()
        .join("landing")
        .join(format!("transactions-2025-02-{d:02}.json"))
}

/// Every data file a manifest names, with its sha256. (Files a replaced
/// partition had stay beside it for the Delta table's retention; no
/// manifest names them.)
fn data(ws: &Workspace) -> BTreeMap<String, String> {
    let files = ws.snapshot();
    let mut named = BTreeMap::new();
    for (path, _) in files.iter().filter(|(p, _)| p.ends_with("/_manifest.json")) {
        let folder = path.trim_end_matches("_manifest.json");
        let m: Value =
            serde_json::from_slice(&std::fs::read(ws.store().join(path)).unwrap()).unwrap();
        for f in m["files"].as_array().unwrap() {
            let file = format!("{folder}{}", f["path"].as_str().unwrap());
            named.insert(file.clone(), files[&file].clone());
        }
    }
    named
}

/// Each partition's content hash.
fn content_hashes(ws: &Workspace) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for dataset in [
        "raw/transactions",
        "bronze/transactions",
        "silver/transactions",
        "gold/daily_totals",
        "gold/rolling_3d",
    ] {
        for d in 1..=6 {
            let m = ws.manifest(dataset, &day(d));
            out.insert(
                (dataset.to_owned(), day(d)),
                m["content_hash"].as_str().unwrap().to_owned(),
            );
        }
    }
    out
}

fn redeliver(ws: &Workspace, d: u32, text: &str) {
    std::fs::write(landing(ws, d), text).unwrap();
    let date = format!("2025-02-{d:02}");
    let out = ws.host(&[
        "invalidate",
        "raw/transactions",
        "--raw",
        "--from",
        &date,
        "--to",
        &date,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_broken_delivery_is_stopped_at_silver_and_heals_when_fixed() {
    let ws = Medallion::new()
        .days(6)
        .silver_checks(CURRENCIES)
        .gold("aggregate", &[Gold::DailyTotals, Gold::Rolling3d])
        .workspace();
    ws.run(&[]).assert_ok();
    let clean_data = data(&ws);
    let clean_hashes = content_hashes(&ws);
    let silver_before = ws.snapshot();

    // Day 4 is delivered again, with a currency nobody accepts.
    let good = std::fs::read_to_string(landing(&ws, 4)).unwrap();
    let broken = good.replacen("\"GBP\"", "\"XXX\"", 1);
    assert_ne!(broken, good);
    redeliver(&ws, 4, &broken);

    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.json, run.stderr);
    assert!(!run.json["ok"].as_bool().unwrap());
    assert_eq!(run.computed("raw/transactions"), [day(4)]);
    assert_eq!(run.computed("bronze/transactions"), [day(4)]);
    assert!(run.computed("silver/transactions").is_empty());
    let failures = failed(&run, "silver/transactions");
    assert_eq!(failures.len(), 1, "{}", run.json);
    let (partition, kind, message) = &failures[0];
    assert_eq!(
        (partition.as_str(), kind.as_str()),
        (day(4).as_str(), "check")
    );
    for needle in [
        "accepted_values(currency)",
        "XXX",
        "silver/transactions",
        "date=2025-02-04",
    ] {
        assert!(message.contains(needle), "`{needle}` not in {message}");
    }
    // Nothing downstream was computed from the rejected output.
    assert!(run.computed("gold/daily_totals").is_empty());
    assert!(run.computed("gold/rolling_3d").is_empty());
    assert_eq!(run.count("gold/daily_totals", "blocked"), 1);
    assert_eq!(run.count("gold/rolling_3d", "blocked"), 3);

    // Silver and gold are byte for byte what they were, day 4 included.
    let now = ws.snapshot();
    for (path, hash) in &silver_before {
        if path.starts_with("silver/") || path.starts_with("gold/") {
            assert_eq!(now.get(path), Some(hash), "{path} changed");
        }
    }
    // The status says what failed, why and since when.
    let status = ws.host(&["status", "--json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let entry = |dataset: &str, d: u32| -> Value {
        status["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["dataset"] == dataset && p["partition"] == day(d))
            .unwrap()
            .clone()
    };
    let silver4 = entry("silver/transactions", 4);
    assert_eq!(silver4["state"], "failed", "{silver4}");
    assert!(
        silver4["reason"]
            .as_str()
            .unwrap()
            .contains("accepted_values(currency)")
    );
    assert_eq!(silver4["failure"]["kind"], "check");
    assert_eq!(silver4["failure"]["attempts"], 1);
    let since = silver4["failure"]["since"].as_str().unwrap().to_owned();
    assert_eq!(entry("gold/daily_totals", 4)["state"], "blocked");
    assert_eq!(entry("gold/daily_totals", 3)["state"], "fresh");

    // The rejected output waits in quarantine, with what the check found.
    let quarantine = silver4["failure"]["quarantine"].as_str().unwrap();
    assert!(quarantine.starts_with("_strata/quarantine/silver/transactions/date=2025-02-04"));
    let show = ws.host(&["show", "silver/transactions", "2025-02-04", "--quarantine"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        show.status.success(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
    assert!(text.contains("rejected by a blocking check"), "{text}");
    assert!(text.contains("accepted_values(currency) FAILED"), "{text}");
    assert!(text.contains("| XXX"), "{text}");
    let show = ws.host(&["show", "silver/transactions", "2025-02-04"]);
    assert!(!String::from_utf8_lossy(&show.stdout).contains("XXX"));

    // Nothing changed: nothing is computed, and it is still failed.
    let again = ws.run(&[]);
    assert_eq!(again.code, Some(1));
    for dataset in [
        "raw/transactions",
        "bronze/transactions",
        "silver/transactions",
    ] {
        assert_eq!(again.count(dataset, "computed"), 0, "{}", again.json);
    }
    assert_eq!(failed(&again, "silver/transactions").len(), 1);
    let status = ws.status();
    assert_eq!(
        status[&("silver/transactions".to_owned(), day(4))].0,
        "failed"
    );

    // The delivery is fixed: bronze is back to its old bytes, so the
    // silver day that kept serving is exactly what its input makes again:
    // fresh without computing, and gold was never touched.
    redeliver(&ws, 4, &good);
    let healed = ws.run(&[]);
    healed.assert_ok();
    assert_eq!(healed.computed("bronze/transactions"), [day(4)]);
    assert!(healed.computed("silver/transactions").is_empty());
    assert!(healed.computed("gold/daily_totals").is_empty());
    assert_eq!(data(&ws), clean_data);
    assert_eq!(content_hashes(&ws), clean_hashes);
    assert!(silver_states(&ws).iter().all(|s| s == "fresh"));
    let status = ws.host(&["status", "--json"]);
    assert!(!String::from_utf8_lossy(&status.stdout).contains(&since));
    let left: Vec<_> = ws
        .all_files()
        .into_keys()
        .filter(|path| path.starts_with(quarantine))
        .collect();
    assert!(left.is_empty(), "quarantine not released: {left:?}");
}

#[test]
fn a_warning_publishes_and_is_shown() {
    let ws = Medallion::new()
        .days(2)
        .silver_checks(
            "[[datasets.checks]]\ncheck = \"accepted_values\"\ncolumn = \"currency\"\n\
             values = [\"EUR\", \"USD\"]\nseverity = \"warn\"",
        )
        .workspace();
    let run = ws.run(&[]);
    run.assert_ok();
    assert_eq!(run.computed("silver/transactions"), [day(1), day(2)]);
    let entry = &run.dataset("silver/transactions")["computed_partitions"][0];
    let r = result_in(entry, "accepted_values(currency)");
    assert_eq!(
        (r["passed"].as_bool(), r["severity"].as_str()),
        (Some(false), Some("warn"))
    );
    assert!(silver_states(&ws).iter().all(|s| s == "fresh"));
    let show = ws.host(&["show", "silver/transactions", "2025-02-01"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("accepted_values(currency) warning"), "{text}");
}
