//! The page: HTML, CSS and JavaScript without dependencies, compiled into
//! the binary, served from a fixed table (a name in the URL is compared
//! with the table's names and never reaches the filesystem), and the
//! OpenAPI document of the API.

use axum::extract::Path as UrlPath;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::api;

/// The page's assets: name, content type, bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("assets/icon.svg")),
];

const INDEX: &str = include_str!("assets/index.html");
const OPENAPI: &str = include_str!("assets/openapi.json");

/// `GET /`: the page (one document; views are `#/…` routes in it).
pub(super) async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
        .into_response()
}

/// `GET /assets/{name}`: one of [`ASSETS`], or 404.
pub(super) async fn asset(UrlPath(name): UrlPath<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => api::error(StatusCode::NOT_FOUND, format!("no asset `{name}`")),
    }
}

/// `GET /api/openapi.json`: the API described (OpenAPI 3.1).
pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
