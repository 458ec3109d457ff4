//! Config mistakes, reported with their line.

use super::harness::*;

#[test]
fn config_mistakes_are_reported_with_the_line() {
    let ws = workspace();
    let cases = [
        (
            "timout = \"1s\"",
            vec!["pipeline.toml:", "unknown field `timout`"],
        ),
        (
            "pagination = { style = \"pages\", param = \"p\" }",
            vec!["pipeline.toml:", "unknown variant `pages`", "cursor"],
        ),
        (
            "backoff = \"half a second\"",
            vec!["pipeline.toml:", "not a duration"],
        ),
    ];
    for (line, needles) in cases {
        ws.write_config(&config(
            2,
            &format!("url = \"http://127.0.0.1:9/x/{{date}}\"\n{line}"),
            false,
        ));
        let out = host(&ws, &["status"], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{line}: accepted");
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{line}: `{needle}` not in {stderr}"
            );
        }
    }
    let checks = [
        ("url = \"ftp://127.0.0.1/x/{date}\"", "http:// or https://"),
        (
            "url = \"http://127.0.0.1:9/x\"",
            "does not mention the period",
        ),
        (
            "url = \"http://127.0.0.1:9/x/{date}\"\nbody = \"{}\"",
            "POST",
        ),
    ];
    for (source, needle) in checks {
        ws.write_config(&config(2, source, false));
        let out = host(&ws, &["status"], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{source}: accepted");
        assert!(
            stderr.contains("pipeline.toml:6:") && stderr.contains(needle),
            "{source}: {stderr}"
        );
    }
}
