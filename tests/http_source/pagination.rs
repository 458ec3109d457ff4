//! Pagination: every style stores every page in order, or nothing.

use super::api::*;
use super::harness::*;

/// The pagination table and the pages each style stores per day.
fn pagination_styles() -> Vec<(&'static str, &'static str, usize)> {
    vec![
        (
            "cursor",
            r#"{ style = "cursor", pointer = "/next_cursor", param = "cursor" }"#,
            PAGES,
        ),
        (
            "next_url",
            r#"{ style = "next_url", pointer = "/next" }"#,
            PAGES,
        ),
        ("link_header", r#"{ style = "link_header" }"#, PAGES),
        // Counters stop at the first empty page, which is stored too.
        (
            "page",
            r#"{ style = "page", param = "page", start = 1, records_pointer = "/records" }"#,
            PAGES + 1,
        ),
        (
            "offset",
            r#"{ style = "offset", param = "offset", records_pointer = "/records" }"#,
            PAGES + 1,
        ),
    ]
}

#[test]
fn every_pagination_style_stores_every_page_in_order_or_nothing() {
    for (style, pagination, stored) in pagination_styles() {
        let api = Api::start();
        let ws = workspace();
        let source = format!(
            r#"url = "{}/pages/{style}"
query = {{ date = "{{date}}" }}
pagination = {pagination}
max_attempts = 2
backoff = "10ms""#,
            api.base
        );
        ws.write_config(&config(3, &source, false));
        // Page 3 of 5 of the second day keeps failing.
        api.always(&format!("{}#3", date(2)), Fault::Status(500, "page broke"));

        let first = run(&ws, &[], &[]);
        assert_eq!(first.code, Some(1), "{style}: {}", first.json);
        for d in [1, 3] {
            let names: Vec<String> = (1..=stored).map(|p| format!("page-{p:04}.json")).collect();
            assert_eq!(manifest_files(&ws, d), names, "{style}");
            for (p, name) in names.iter().enumerate() {
                assert_eq!(
                    raw_file(&ws, d, name),
                    page_body(style, &date(d), p + 1),
                    "{style}: {name} of {}",
                    date(d)
                );
            }
            let urls: Vec<String> = origins(&ws, d)
                .iter()
                .map(|o| o["url"].as_str().unwrap().to_owned())
                .collect();
            assert!(
                urls.iter()
                    .all(|u| u.contains(&format!("date={}", date(d)))),
                "{style}: {urls:?}"
            );
            assert_eq!(api.hits(&date(d)), stored, "{style}: requests");
        }
        let failed = failures(&first, "raw/weather", "source");
        let error = &failed[&day(2)];
        assert!(
            error.contains("page 3") && error.contains("HTTP 500") && error.contains("page broke"),
            "{style}: {error}"
        );
        assert!(
            !ws.partition_dir("raw/weather", &day(2)).exists(),
            "{style}: pages of a failed day were written"
        );
        // Pages 1 and 2 once, page 3 twice; then it stopped.
        assert_eq!(api.hits(&date(2)), 4, "{style}");

        api.heal(&format!("{}#3", date(2)));
        let second = run(&ws, &[], &[]);
        second.assert_ok();
        assert_eq!(second.computed("raw/weather"), [day(2)], "{style}");
        assert_eq!(manifest_files(&ws, 2).len(), stored, "{style}");
        assert_eq!(
            raw_file(&ws, 2, "page-0003.json"),
            page_body(style, &date(2), 3)
        );
    }
}
