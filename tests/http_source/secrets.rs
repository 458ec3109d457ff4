//! Secrets: the token is never shown, and never follows a redirect to
//! another origin.

use super::api::*;
use super::harness::*;

#[test]
fn the_token_appears_in_no_manifest_file_log_or_message() {
    let token = "s3cr3t-5c0ffee-7a1b";
    let api = Api::with_token(token);
    let ws = workspace();
    let source = archive_source(
        &api,
        "max_attempts = 2\nheaders = { Authorization = \"Bearer ${API_TOKEN}\" }",
    ) + "apikey = \"${API_TOKEN}\"\n";
    ws.write_config(&config(4, &source, true));
    // An error body that repeats the token, and a retried broken answer.
    let echo: &'static str = Box::leak(format!("bad key {token}").into_boxed_str());
    api.always(&date(2), Fault::Status(500, echo));
    api.once(&date(3), vec![Fault::Drop]);
    let env = [("API_TOKEN", token)];

    let mut outputs = Vec::new();
    let out = host(&ws, &["-v", "run", "--json"], &env);
    assert_eq!(out.status.code(), Some(1));
    outputs.push(out);
    outputs.push(host(&ws, &["-vv", "run"], &env));
    outputs.push(host(&ws, &["status"], &env));
    outputs.push(host(&ws, &["show", "raw/weather", &day(1)], &env));
    for out in &outputs {
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains(token), "the token is in {what}:\n{text}");
        }
    }
    let log = String::from_utf8_lossy(&outputs[0].stderr);
    assert!(log.contains("apikey=***"), "{log}");
    assert!(log.contains("bad key ***"), "{log}");

    // The server did get it, and the store does not hold it anywhere.
    assert!(api.total() >= 4);
    assert_eq!(api.state.lock().unwrap().unauthorized, 0);
    assert!(api.log().iter().any(|l| l.contains(token)));
    let mut files = 0;
    let mut stack = vec![ws.store()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                    "the token is in {}",
                    path.display()
                );
            }
        }
    }
    assert!(files > 10, "only {files} files in the store");
    let url = origins(&ws, 1)[0]["url"].as_str().unwrap().to_owned();
    assert!(url.contains("?apikey=***&"), "{url}");

    // Without the variable nothing is sent, and the error names it.
    let before = api.total();
    let missing = run(&ws, &[], &[]);
    assert_eq!(missing.code, Some(1));
    let failed = failures(&missing, "raw/weather", "source");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2)]);
    assert!(
        failed[&day(2)].contains("environment variable API_TOKEN is not set"),
        "{failed:?}"
    );
    assert_eq!(api.total(), before);
}

#[test]
fn secrets_in_headers_do_not_follow_a_redirect_to_another_origin() {
    let token = "s3cr3t-4d2e-redirect";
    let env = [("API_TOKEN", token)];
    let front = Api::start();
    // Another port on 127.0.0.1 is another origin.
    let elsewhere = Api::start();
    front.state.lock().unwrap().redirect_to = Some(elsewhere.base.clone());
    let ws = workspace();
    let source = |header: &str| {
        archive_source(
            &front,
            &format!("headers = {{ {header} = \"${{API_TOKEN}}\" }}"),
        )
        .replacen("/v1/archive", "/moved", 1)
    };

    // A custom header with a secret: the redirect is not followed.
    ws.write_config(&config(2, &source("X-Api-Key"), false));
    let refused = run(&ws, &[], &env);
    assert_eq!(refused.code, Some(1));
    let failed = failures(&refused, "raw/weather", "source");
    assert_eq!(failed.len(), 2);
    for error in failed.values() {
        assert!(
            error.contains("HTTP 302") && error.contains("not followed"),
            "{error}"
        );
    }
    assert_eq!(elsewhere.total(), 0);

    // Authorization: followed, without the header (reqwest drops it).
    ws.write_config(&config(2, &source("Authorization"), false));
    let followed = run(&ws, &[], &env);
    followed.assert_ok();
    assert_eq!(elsewhere.total(), 2);
    assert_eq!(elsewhere.state.lock().unwrap().with_authorization, 0);
    assert_eq!(
        raw_file(&ws, 1, "page-0001.json"),
        archive_body(&date(1), 0)
    );
}
