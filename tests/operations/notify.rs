//! Notifications: told once when a failure starts, once when it heals,
//! never by every run in between; an endpoint that fails or hangs is
//! retried, recorded and logged, and changes nothing about the run; the
//! secret in its URL is in no stored file, log line or message.

use serde_json::Value;

use super::receiver::{Answer, Receiver};
use super::{TOKEN, files_containing, host, raw_pipeline, record, run};

fn webhook(base: &str, extra: &str) -> String {
    format!(
        r#"[[notify]]
kind = "webhook"
url = "{base}/hook?token=${{HOOK_TOKEN}}"
backoff = "10ms"
{extra}"#
    )
}

#[test]
fn a_failure_is_notified_once_and_its_recovery_when_fresh_again() {
    let api = Receiver::start();
    api.fail("2025-02-03", true);
    let ws = raw_pipeline(&api.base, 3, &webhook(&api.base, ""));
    let mut logs = String::new();

    let first = run(&ws, &["-vv"]);
    assert_eq!(first.code, Some(1), "{}", first.stderr);
    logs.push_str(&first.stderr);
    let posts = api.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let failure = &posts[0];
    assert_eq!(failure.path, "/hook");
    assert_eq!(
        failure.query,
        format!("token={TOKEN}"),
        "the secret is sent"
    );
    assert_eq!(failure.body["event"], "failure", "{}", failure.body);
    assert_eq!(failure.body["run"], first.json["run"]);
    assert!(failure.body["pipeline"].is_string());
    let partitions = failure.body["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 1, "{}", failure.body);
    assert_eq!(partitions[0]["dataset"], "raw/orders");
    assert_eq!(partitions[0]["partition"], "date=2025-02-03");
    assert_eq!(partitions[0]["kind"], "source");
    assert!(
        partitions[0]["message"].as_str().unwrap().contains("404"),
        "{}",
        failure.body
    );

    // Runs that still see the failure tell nobody.
    for _ in 0..2 {
        let again = run(&ws, &[]);
        assert_eq!(again.code, Some(1));
        logs.push_str(&again.stderr);
    }
    assert_eq!(api.posts().len(), 1, "{:?}", api.posts());

    api.fail("2025-02-03", false);
    let healed = run(&ws, &[]);
    healed.assert_ok();
    logs.push_str(&healed.stderr);
    let posts = api.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let recovery = &posts[1].body;
    assert_eq!(recovery["event"], "recovery", "{recovery}");
    assert_eq!(recovery["run"], healed.json["run"]);
    assert_eq!(recovery["partitions"][0]["partition"], "date=2025-02-03");
    assert_eq!(recovery["partitions"].as_array().unwrap().len(), 1);

    // Fresh and still fresh: nothing more.
    let quiet = run(&ws, &[]);
    quiet.assert_ok();
    logs.push_str(&quiet.stderr);
    assert_eq!(api.posts().len(), 2);

    // The run record lists what was sent, with the secret hidden.
    let sent = record(&ws, first.json["run"].as_str().unwrap());
    let n = &sent["notifications"][0];
    assert_eq!(n["message"], "failure");
    assert_eq!(n["delivered"], true);
    assert_eq!(n["endpoint"], format!("{}/hook?token=***", api.base));

    // The secret: in no stored file, no log line, no message body.
    assert_eq!(files_containing(ws.path(), TOKEN), Vec::<String>::new());
    assert!(!logs.contains(TOKEN), "a log line has the secret:\n{logs}");
    for post in api.posts() {
        assert!(!post.body.to_string().contains(TOKEN), "{}", post.body);
    }
    let history = host(&ws, &["history", first.json["run"].as_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&history.stdout).contains(TOKEN));
}

#[test]
fn an_endpoint_that_fails_or_hangs_is_retried_recorded_and_never_fails_the_run() {
    let api = Receiver::start();
    api.fail("2025-02-02", true);
    api.answer(Answer::Status(500));
    let ws = raw_pipeline(
        &api.base,
        2,
        &webhook(&api.base, "max_attempts = 3\ntimeout = \"300ms\""),
    );

    let failed_500 = run(&ws, &[]);
    // Exactly as without notifications: one day failed, the other committed.
    assert_eq!(failed_500.code, Some(1), "{}", failed_500.stderr);
    assert_eq!(failed_500.count("raw/orders", "computed"), 1);
    assert!(
        ws.partition_dir("raw/orders", "date=2025-02-01")
            .join("_manifest.json")
            .exists()
    );
    assert_eq!(api.posts().len(), 3, "three attempts");
    assert!(
        failed_500.stderr.contains("not delivered"),
        "{}",
        failed_500.stderr
    );
    let sent = record(&ws, failed_500.json["run"].as_str().unwrap());
    let n = &sent["notifications"][0];
    assert_eq!(n["delivered"], false, "{sent}");
    assert_eq!(n["attempts"], 3);
    assert_eq!(n["status"], 500);
    assert!(n["error"].as_str().unwrap().contains("500"), "{n}");

    // A receiver that never answers: each attempt ends at the timeout.
    api.answer(Answer::Hang);
    let hung = run(&ws, &[]);
    assert_eq!(hung.code, Some(1), "{}", hung.stderr);
    assert_eq!(api.posts().len(), 6, "three more attempts");
    let sent = record(&ws, hung.json["run"].as_str().unwrap());
    let n = &sent["notifications"][0];
    assert_eq!(n["delivered"], false, "{sent}");
    assert!(n["error"].as_str().unwrap().contains("no answer"), "{n}");
    assert!(!hung.stderr.contains(TOKEN), "{}", hung.stderr);

    // Never delivered, so the next run tells it again, now successfully.
    api.answer(Answer::Ok);
    let told = run(&ws, &[]);
    assert_eq!(told.code, Some(1));
    let posts = api.posts();
    assert_eq!(posts.len(), 7);
    assert_eq!(posts[6].body["event"], "failure");
    let sent = record(&ws, told.json["run"].as_str().unwrap());
    assert_eq!(sent["notifications"][0]["delivered"], true, "{sent}");
    assert_eq!(files_containing(ws.path(), TOKEN), Vec::<String>::new());
}

#[test]
fn slack_gets_one_text_per_event_and_run_events_come_every_run() {
    let api = Receiver::start();
    api.fail("2025-02-02", true);
    api.fail("2025-02-03", true);
    let ws = raw_pipeline(
        &api.base,
        3,
        &format!(
            r#"[[notify]]
kind = "slack"
url = "{}/slack"
on = ["failure", "run"]
"#,
            api.base
        ),
    );
    let first = run(&ws, &[]);
    assert_eq!(first.code, Some(1));
    let second = run(&ws, &[]);
    assert_eq!(second.code, Some(1));
    let posts = api.posts();
    // Run 1: one failure message for both days, and the run; run 2: the run.
    assert_eq!(posts.len(), 3, "{posts:?}");
    for p in &posts {
        let body = p.body.as_object().unwrap();
        assert_eq!(body.keys().collect::<Vec<_>>(), ["text"], "{}", p.body);
    }
    let failure = posts[0].body["text"].as_str().unwrap();
    assert!(failure.contains("2 partition(s) failing"), "{failure}");
    assert!(failure.contains("date=2025-02-02") && failure.contains("date=2025-02-03"));
    for (post, run) in [(&posts[1], &first), (&posts[2], &second)] {
        let text = post.body["text"].as_str().unwrap();
        assert!(
            text.contains(run.json["run"].as_str().unwrap()) && text.contains("failed"),
            "{text}"
        );
    }
}

#[test]
fn a_failure_still_there_is_told_again_after_remind() {
    let api = Receiver::start();
    api.fail("2025-02-02", true);
    let ws = raw_pipeline(&api.base, 2, &webhook(&api.base, "remind = \"24h\""));
    assert_eq!(run(&ws, &[]).code, Some(1));
    assert_eq!(run(&ws, &[]).code, Some(1));
    assert_eq!(api.posts().len(), 1, "told once within the day");

    // As far as the state knows, that was two days ago.
    let path = ws.store().join("_strata/notify/state.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let two_days_ago = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    for endpoint in state["endpoints"].as_object_mut().unwrap().values_mut() {
        assert!(!endpoint.to_string().contains(TOKEN), "{endpoint}");
        for told in endpoint["failing"].as_object_mut().unwrap().values_mut() {
            told["notified_at"] = Value::from(two_days_ago.clone());
        }
    }
    std::fs::write(&path, state.to_string()).unwrap();

    let reminded = run(&ws, &[]);
    assert_eq!(reminded.code, Some(1));
    let posts = api.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let body = &posts[1].body;
    assert_eq!(body["event"], "failure");
    assert_eq!(body["partitions"][0]["reminder"], true, "{body}");
    assert!(
        body["text"].as_str().unwrap().contains("still failing"),
        "{body}"
    );
    assert_eq!(run(&ws, &[]).code, Some(1));
    assert_eq!(api.posts().len(), 2, "reminded, and quiet again for a day");
}

#[test]
fn a_run_that_fails_as_a_whole_is_told_once_and_when_runs_complete_again() {
    let api = Receiver::start();
    let ws = crate::util::Workspace::with_example_landing();
    ws.write_config(&format!(
        r#"
[partitions]
start = "2025-02-01"
end = "2025-02-02"

[[datasets]]
layer = "raw"
name = "transactions"
source = {{ kind = "files", dir = "landing", pattern = "transactions-{{date}}.json" }}

{}
"#,
        webhook(&api.base, "")
    ));
    // A file where the dataset's folder should be: the store cannot be
    // listed, so the run fails before any partition.
    std::fs::create_dir_all(ws.store().join("raw")).unwrap();
    std::fs::write(ws.store().join("raw/transactions"), "in the way").unwrap();
    for _ in 0..2 {
        let out = host(&ws, &["run"]);
        assert_eq!(out.status.code(), Some(2));
    }
    let posts = api.posts();
    assert_eq!(posts.len(), 1, "told once: {posts:?}");
    let body = &posts[0].body;
    assert_eq!(body["event"], "failure");
    assert_eq!(body["partitions"], Value::Array(vec![]));
    assert!(
        body["error"].as_str().unwrap().contains("Not a directory"),
        "{body}"
    );

    std::fs::remove_file(ws.store().join("raw/transactions")).unwrap();
    run(&ws, &[]).assert_ok();
    let posts = api.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[1].body["event"], "recovery");
    assert!(
        posts[1].body["text"]
            .as_str()
            .unwrap()
            .contains("runs complete again")
    );
    run(&ws, &[]).assert_ok();
    assert_eq!(api.posts().len(), 2);
}

#[test]
fn a_failed_check_is_a_failure_and_a_warn_check_a_warning() {
    let api = Receiver::start();
    // Day 2 has 35 silver rows: too many for the blocking check; every day
    // has GBP, which only warns.
    let checks = "[[datasets.checks]]\ncheck = \"row_count\"\nmax = 32\n\n\
                  [[datasets.checks]]\ncheck = \"accepted_values\"\ncolumn = \"currency\"\n\
                  values = [\"EUR\", \"USD\"]\nseverity = \"warn\"";
    let medallion = crate::util::Medallion::new()
        .days(2)
        .store_toml(&format!(
            "[store]\nurl = \"store\"\n\n{}",
            webhook(&api.base, "on = [\"failure\", \"recovery\", \"warning\"]")
        ))
        .silver_checks(checks);
    let ws = medallion.workspace();
    let first = run(&ws, &[]);
    assert_eq!(first.code, Some(1), "{}", first.stderr);
    let posts = api.posts();
    let event = |name: &str| -> Vec<Value> {
        posts
            .iter()
            .filter(|p| p.body["event"] == name)
            .map(|p| p.body.clone())
            .collect()
    };
    let failures = event("failure");
    assert_eq!(failures.len(), 1, "{posts:?}");
    let failed = &failures[0]["partitions"][0];
    assert_eq!(failed["dataset"], "silver/transactions");
    assert_eq!(failed["partition"], "date=2025-02-02");
    assert_eq!(failed["kind"], "check");
    assert!(
        failed["message"].as_str().unwrap().contains("row_count"),
        "{failed}"
    );
    // Day 1 was published with its warning; day 2 was rejected, with one too.
    let warnings = event("warning");
    assert_eq!(
        warnings.len(),
        1,
        "one message for the run's warnings: {posts:?}"
    );
    let warned: Vec<&str> = warnings[0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["partition"].as_str().unwrap())
        .collect();
    assert!(warned.contains(&"date=2025-02-01"), "{warned:?}");

    // Nothing changed: the same failure is not told again, and no check ran
    // again, so no warning either.
    let again = run(&ws, &[]);
    assert_eq!(again.code, Some(1));
    assert_eq!(api.posts().len(), posts.len(), "{:?}", api.posts());
}
