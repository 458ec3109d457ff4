//! One server on 127.0.0.1 for the operations tests: it receives webhooks
//! and lineage events (any POST, recorded, answered as the test says) and
//! serves a tiny day-per-request data API for an http raw dataset, where a
//! day can fail (404) or be held until the test releases it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use tokio::sync::watch;

/// How POSTs are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    Ok,
    /// This status.
    Status(u16),
    /// No answer at all (the client's timeout ends it).
    Hang,
}

/// A POST as received.
#[derive(Debug, Clone)]
pub(super) struct Post {
    pub(super) path: String,
    pub(super) query: String,
    pub(super) body: Value,
}

struct Inner {
    answer: Answer,
    posts: Vec<Post>,
    /// Days asked for, in order.
    requests: Vec<String>,
    failing: BTreeSet<String>,
    held: BTreeSet<String>,
    /// Requests waiting for `release`.
    waiting: usize,
    release: watch::Sender<bool>,
}

type Shared = Arc<Mutex<Inner>>;

pub(crate) struct Receiver {
    pub(crate) base: String,
    inner: Shared,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let inner: Shared = Arc::new(Mutex::new(Inner {
            answer: Answer::Ok,
            posts: vec![],
            requests: vec![],
            failing: BTreeSet::new(),
            held: BTreeSet::new(),
            waiting: 0,
            release: watch::channel(false).0,
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/data/{file}", get(data))
            .fallback(post)
            .with_state(inner.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            base,
            inner,
            runtime: Some(runtime),
        }
    }

    pub(super) fn answer(&self, answer: Answer) {
        self.inner.lock().unwrap().answer = answer;
    }

    /// The POSTs received so far.
    pub(super) fn posts(&self) -> Vec<Post> {
        self.inner.lock().unwrap().posts.clone()
    }

    /// The days the data API was asked for, in order.
    pub(super) fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// The data API answers 404 for `date` (or, with `false`, normally again).
    pub(super) fn fail(&self, date: &str, failing: bool) {
        let mut inner = self.inner.lock().unwrap();
        if failing {
            inner.failing.insert(date.to_owned());
        } else {
            inner.failing.remove(date);
        }
    }

    /// Requests for `date` wait until `release`.
    pub(crate) fn hold(&self, date: &str) {
        self.inner.lock().unwrap().held.insert(date.to_owned());
    }

    /// Waits (up to a minute, a hang guard and no measurement) until a
    /// request is held.
    pub(crate) fn wait_for_held(&self, mut alive: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.inner.lock().unwrap().waiting == 0 {
            assert!(alive(), "the host ended before its request was held");
            assert!(Instant::now() < deadline, "no request was held");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Answers the held requests and every later one.
    pub(crate) fn release(&self) {
        let inner = self.inner.lock().unwrap();
        let _ = inner.release.send(true);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn post(State(inner): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let answer = {
        let mut inner = inner.lock().unwrap();
        inner.posts.push(Post {
            path: uri.path().to_owned(),
            query: uri.query().unwrap_or_default().to_owned(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        inner.answer
    };
    match answer {
        Answer::Ok => (StatusCode::OK, "ok").into_response(),
        Answer::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            "the receiver fails on purpose",
        )
            .into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// `/data/2025-02-03.json`: one record for the day.
async fn data(State(inner): State<Shared>, UrlPath(file): UrlPath<String>) -> Response {
    let date = file.trim_end_matches(".json").to_owned();
    let (failing, release) = {
        let mut inner = inner.lock().unwrap();
        inner.requests.push(date.clone());
        let held = inner.held.contains(&date) && !*inner.release.borrow();
        if held {
            inner.waiting += 1;
        }
        (
            inner.failing.contains(&date),
            held.then(|| inner.release.subscribe()),
        )
    };
    if let Some(mut release) = release {
        let _ = release.wait_for(|open| *open).await;
    }
    if failing {
        return (StatusCode::NOT_FOUND, "no data for this day").into_response();
    }
    let body = format!(r#"[{{"id": "{date}-1", "amount": "1.00"}}]"#);
    ([("content-type", "application/json")], body).into_response()
}
