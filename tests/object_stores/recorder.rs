//! A store wrapper that records writes and deletes and fails chosen puts.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use strata_store::Store;

// ---- a recording, fault-injecting wrapper ---------------------------------

/// Passes everything to the store it wraps, records writes and deletes in
/// order, and fails a put whose path ends with a given suffix.
#[derive(Debug)]
pub(super) struct Recorder {
    pub(super) inner: Arc<dyn ObjectStore>,
    /// Writes and deletes, in order.
    pub(super) log: Arc<Mutex<Vec<String>>>,
    /// Paths read, in order.
    pub(super) gets: Mutex<Vec<String>>,
    pub(super) fail_put: Mutex<Option<String>>,
}

impl Recorder {
    pub(super) fn wrap(store: &Store) -> (Store, Arc<Recorder>) {
        let recorder = Arc::new(Recorder {
            inner: store.object_store().clone(),
            log: Arc::default(),
            gets: Mutex::default(),
            fail_put: Mutex::new(None),
        });
        (
            Store::from_object_store(recorder.clone(), store.url.clone()),
            recorder,
        )
    }

    pub(super) fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    pub(super) fn take_gets(&self) -> Vec<String> {
        std::mem::take(&mut *self.gets.lock().unwrap())
    }

    pub(super) fn fail_puts_ending_with(&self, suffix: Option<&str>) {
        *self.fail_put.lock().unwrap() = suffix.map(str::to_owned);
    }
}

impl fmt::Display for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recorder({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for Recorder {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let fail = self
            .fail_put
            .lock()
            .unwrap()
            .as_deref()
            .is_some_and(|s| location.as_ref().ends_with(s));
        if fail {
            self.log
                .lock()
                .unwrap()
                .push(format!("failed put {location}"));
            return Err(object_store::Error::Generic {
                store: "Recorder",
                source: "injected failure".into(),
            });
        }
        let result = self.inner.put_opts(location, payload, opts).await;
        self.log.lock().unwrap().push(format!("put {location}"));
        result
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.log
            .lock()
            .unwrap()
            .push(format!("multipart {location}"));
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.gets.lock().unwrap().push(location.to_string());
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let log = self.log.clone();
        self.inner.delete_stream(
            locations
                .inspect(move |p| {
                    if let Ok(p) = p {
                        log.lock().unwrap().push(format!("delete {p}"));
                    }
                })
                .boxed(),
        )
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
