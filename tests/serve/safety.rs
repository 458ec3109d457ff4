//! What the server must refuse: paths that try to leave the store and the
//! page's assets (sent as raw bytes, since an HTTP client would normalise
//! the `..` away before sending), requests for another Host (DNS
//! rebinding), and actions without the token, from another origin, or
//! without a JSON body, none of which may change the store.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Server, client, host_json, store_with_a_failure};
use crate::util::day;

/// A marker only in files outside what the server may serve.
const SECRET: &str = "SERVE-SECRET-7f3a9c";

/// Sends `request_line` (and `host`) as raw bytes; the status and body.
fn raw(server: &Server, request_line: &str, host: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{request_line}\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in `{text}`"));
    (status, text)
}

#[test]
fn path_traversal_probes_get_a_4xx_and_no_file() {
    let ws = store_with_a_failure();
    // Secrets where a traversal would find them: next to the store, in the
    // config, and in the store's root.
    std::fs::write(ws.path().join("secret.txt"), SECRET).unwrap();
    let config = std::fs::read_to_string(ws.path().join("pipeline.toml")).unwrap();
    ws.write_config(&format!("# {SECRET}\n{config}"));
    std::fs::write(ws.store().join("secret.txt"), SECRET).unwrap();
    let server = Server::start(&ws, &[], &[]);
    let d = day(1);
    let probes = [
        "/../pipeline.toml".to_owned(),
        "/../../../../etc/passwd".to_owned(),
        "/..%2fpipeline.toml".to_owned(),
        "/%2e%2e/pipeline.toml".to_owned(),
        "/%2e%2e%2fpipeline.toml".to_owned(),
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned(),
        "//etc/passwd".to_owned(),
        "/etc/passwd".to_owned(),
        "/%2fetc%2fpasswd".to_owned(),
        "/secret.txt".to_owned(),
        "/store/secret.txt".to_owned(),
        "/assets/../../pipeline.toml".to_owned(),
        "/assets/..%2f..%2fpipeline.toml".to_owned(),
        "/assets/%2e%2e%2f%2e%2e%2fpipeline.toml".to_owned(),
        "/assets/%2e%2e%5c%2e%2e%5cpipeline.toml".to_owned(),
        "/assets/%2fetc%2fpasswd".to_owned(),
        "/assets/app.js%00.html".to_owned(),
        "/assets/%00".to_owned(),
        "/api/partitions/raw/transactions/..%2f..%2f..%2fpipeline.toml".to_owned(),
        "/api/partitions/raw/transactions/..%2f..%2fsecret.txt/rows".to_owned(),
        "/api/partitions/%2e%2e/%2e%2e/secret.txt/rows".to_owned(),
        "/api/partitions/raw/..%2f..%2f/secret.txt/rows".to_owned(),
        format!("/api/partitions/raw/transactions/{d}%2f..%2f..%2f..%2fsecret.txt/rows"),
        format!("/api/partitions/raw/transactions/{d}%00/rows"),
        format!("/api/partitions/raw/transactions/{d}%2f_manifest.json/rows"),
        "/api/partitions/raw/transactions/%2fetc%2fpasswd/rows".to_owned(),
        "/api/partitions/raw/transactions/C:%5cWindows%5cwin.ini/rows".to_owned(),
        "/api/partitions/raw/transactions/date=2025-02-01/..%2f..%2f..%2fsecret.txt".to_owned(),
        "/api/runs/..%2f..%2fsecret".to_owned(),
        "/api/runs/..%2f..%2f..%2fpipeline.toml".to_owned(),
        "/api/runs/%2e%2e".to_owned(),
        "/api/runs/..".to_owned(),
        "/api/runs/%2fetc%2fpasswd".to_owned(),
        "/api/runs/%00".to_owned(),
    ];
    for probe in &probes {
        let (status, body) = raw(&server, &format!("GET {probe} HTTP/1.1"), &server.addr);
        assert!(
            (400..500).contains(&status),
            "GET {probe} answered {status}:\n{body}"
        );
        for leak in [SECRET, "root:", "[[datasets]]", "[partitions]"] {
            assert!(!body.contains(leak), "GET {probe} leaked `{leak}`:\n{body}");
        }
    }
    // An absolute-form target with a traversal is refused too.
    let (status, body) = raw(
        &server,
        &format!("GET http://{}/../pipeline.toml HTTP/1.1", server.addr),
        &server.addr,
    );
    assert!((400..500).contains(&status), "{body}");
    assert!(!body.contains(SECRET));

    // Another Host (a rebinding site's name resolving to 127.0.0.1) is refused.
    let (status, body) = raw(&server, "GET /api/partitions HTTP/1.1", "evil.example:80");
    assert_eq!(status, 421, "{body}");
    assert!(!body.contains("\"partitions\""));
    // localhost with the right port is the same server.
    let port = server.addr.rsplit(':').next().unwrap();
    let (status, _) = raw(
        &server,
        "GET /api/partitions HTTP/1.1",
        &format!("localhost:{port}"),
    );
    assert_eq!(status, 200);
}

/// POSTs `body` to an action with `headers`; the status and body.
fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut request = client().post(server.url(path)).body(body.to_owned());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.text().unwrap())
}

#[test]
fn actions_are_refused_without_the_token_and_a_same_origin_json_request() {
    let ws = store_with_a_failure();
    let runs_before = host_json(&ws, &["history", "--json"]);
    let files_before = ws.snapshot();
    let invalidate = json!({ "dataset": "silver/transactions", "partition": day(1) }).to_string();

    // Read-only by default: even the right-looking token does nothing.
    {
        let server = Server::start(&ws, &[], &[("STRATA_SERVE_TOKEN", "t0ken-for-tests")]);
        let auth = ("Authorization", "Bearer t0ken-for-tests");
        let json_type = ("Content-Type", "application/json");
        let (status, body) = post(&server, "/api/actions/run", &[auth, json_type], "{}");
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("--allow-actions"), "{body}");
        let (status, _) = post(
            &server,
            "/api/actions/invalidate",
            &[auth, json_type],
            &invalidate,
        );
        assert_eq!(status, 403);
    }

    let token = "t0ken-for-tests";
    let server = Server::start(&ws, &["--allow-actions"], &[("STRATA_SERVE_TOKEN", token)]);
    assert_eq!(
        server.token.as_deref(),
        Some(token),
        "the link carries the token"
    );
    let bearer = format!("Bearer {token}");
    let auth = ("Authorization", bearer.as_str());
    let json_type = ("Content-Type", "application/json");
    let origin = format!("http://{}", server.addr);
    for (path, body) in [
        ("/api/actions/run", "{}"),
        ("/api/actions/invalidate", invalidate.as_str()),
    ] {
        for (headers, code) in [
            (vec![json_type], 401),
            (vec![json_type, ("Authorization", "Bearer wrong")], 401),
            (vec![json_type, ("Authorization", token)], 401),
            (vec![json_type, ("Authorization", "Bearer ")], 401),
            (
                vec![auth, json_type, ("Origin", "http://evil.example")],
                403,
            ),
            (vec![auth, json_type, ("Origin", "null")], 403),
            (vec![auth, json_type, ("Sec-Fetch-Site", "cross-site")], 403),
            (vec![auth, ("Content-Type", "text/plain")], 415),
            (
                vec![auth, ("Content-Type", "application/x-www-form-urlencoded")],
                415,
            ),
            (vec![auth], 415),
        ] {
            let (status, answer) = post(&server, path, &headers, body);
            assert_eq!(status, code, "POST {path} with {headers:?}: {answer}");
            let error: Value = serde_json::from_str(&answer).unwrap();
            assert!(error["error"].is_string());
        }
    }
    assert_eq!(
        host_json(&ws, &["history", "--json"]),
        runs_before,
        "a refused action ran nothing"
    );
    assert_eq!(
        ws.snapshot(),
        files_before,
        "a refused action changed nothing"
    );

    // With the token, from the page's own origin: invalidate, then run.
    let same = ("Origin", origin.as_str());
    let (status, answer) = post(
        &server,
        "/api/actions/invalidate",
        &[auth, json_type, same],
        &invalidate,
    );
    assert_eq!(status, 200, "{answer}");
    let silver_day1 = ws.status()[&("silver/transactions".to_owned(), day(1))].clone();
    assert_eq!(silver_day1.0, "stale", "{silver_day1:?}");
    assert!(silver_day1.1.contains("invalidated"), "{silver_day1:?}");
    // Raw data only when asked for explicitly.
    let (status, answer) = post(
        &server,
        "/api/actions/invalidate",
        &[auth, json_type],
        &json!({ "dataset": "raw/transactions", "partition": day(1) }).to_string(),
    );
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = post(
        &server,
        "/api/actions/invalidate",
        &[auth, json_type],
        &json!({ "dataset": "silver/transactions", "partition": "date=1999-01-01" }).to_string(),
    );
    assert_eq!(status, 404, "{answer}");

    let (status, answer) = post(&server, "/api/actions/run", &[auth, json_type, same], "");
    assert_eq!(status, 202, "{answer}");
    let action = wait_for_action(&server, 1);
    // The failed day is still failed, so the run exits 1, like the CLI.
    assert_eq!(action["exit_code"], 1, "{action}");
    let runs = host_json(&ws, &["history", "--json"]);
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs}");
    assert_eq!(runs[0]["id"], action["run"]);
    assert_eq!(runs[0]["counts"]["computed"], 1, "only the invalidated day");
    assert_eq!(
        ws.status()[&("silver/transactions".to_owned(), day(1))].0,
        "fresh"
    );
}

/// Waits (a hang guard, not a measurement) until the `n`th action has
/// finished; returns it.
fn wait_for_action(server: &Server, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let actions = server.json("/api/actions");
        let run = actions
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "run")
            .nth(n - 1)
            .cloned();
        if let Some(run) = run
            && run["finished_at"].is_string()
        {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "the run never finished: {actions}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
