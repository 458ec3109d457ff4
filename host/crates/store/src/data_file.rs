//! A data file written into a partition's folder as it is produced: in
//! parts (a multipart upload on object stores) under a temporary name,
//! hashed on the way, then renamed to the name its content gives it. No
//! partition's output has to be held in memory whole.
//!
//! Writing a data file commits nothing: only a manifest naming it does.
//! A file left by a crash, under either name, is garbage `host gc` removes.

use std::io::Write;

use anyhow::{Context, Result};
use bytes::Bytes;
use object_store::ObjectStoreExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use sha2::{Digest, Sha256};
use strata_core::DatasetId;
use strata_core::manifest::FileEntry;
use tokio::runtime::Handle;

use crate::Store;

/// Bytes gathered before they are handed to the upload; the upload
/// itself sends parts of its own size.
const CHUNK_BYTES: usize = 8 << 20;

/// A data file being written; a `std::io::Write` for a blocking thread,
/// driving its upload through `handle`.
pub struct DataFileWriter {
    store: Store,
    handle: Handle,
    dataset: DatasetId,
    partition: String,
    temporary: Path,
    upload: BufWriter,
    pending: Vec<u8>,
    hash: Sha256,
    size: u64,
}

impl DataFileWriter {
    /// Starts a data file in `partition` of `dataset`.
    pub fn create(store: &Store, handle: Handle, dataset: &DatasetId, partition: &str) -> Self {
        let mut nonce = [0u8; 8];
        // Without randomness, a fixed name: only two writers of the same
        // partition at once could then collide, and the lease prevents it.
        let _ = getrandom::fill(&mut nonce);
        let temporary = Store::file_path(
            dataset,
            partition,
            &format!("_writing-{}.tmp", hex::encode(nonce)),
        );
        DataFileWriter {
            store: store.clone(),
            handle,
            dataset: dataset.clone(),
            partition: partition.to_owned(),
            upload: BufWriter::new(store.inner.clone(), temporary.clone()),
            temporary,
            pending: Vec::with_capacity(CHUNK_BYTES),
            hash: Sha256::new(),
            size: 0,
        }
    }

    fn send_pending(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.pending,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.handle
            .block_on(self.upload.put(chunk))
            .map_err(std::io::Error::other)
    }

    /// Completes the upload and gives the file the name `name` makes of
    /// its sha256; its manifest entry.
    pub fn finish(mut self, name: impl FnOnce(&str) -> String) -> Result<FileEntry> {
        let written = (|| -> Result<FileEntry> {
            self.send_pending()?;
            self.handle
                .block_on(tokio::io::AsyncWriteExt::shutdown(&mut self.upload))
                .with_context(|| format!("writing {}", self.temporary))?;
            let sha256 = hex::encode(self.hash.clone().finalize());
            let path = name(&sha256);
            let target = Store::file_path(&self.dataset, &self.partition, &path);
            self.handle
                .block_on(self.store.inner.rename(&self.temporary, &target))
                .with_context(|| format!("renaming {} to {target}", self.temporary))?;
            Ok(FileEntry {
                path,
                size: self.size,
                sha256,
            })
        })();
        let url = self.store.url.clone();
        if written.is_err() {
            self.discard();
        }
        written.with_context(|| format!("in {url}"))
    }

    /// Gives up the file: its upload is aborted, what was written deleted.
    /// Nothing may be written after.
    pub fn discard(&mut self) {
        let (handle, temporary) = (self.handle.clone(), self.temporary.clone());
        handle.block_on(async {
            let _ = self.upload.abort().await;
            match self.store.inner.delete(&temporary).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => tracing::debug!("could not delete {temporary}: {e}"),
            }
        });
    }
}

impl Write for DataFileWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.hash.update(bytes);
        self.size += bytes.len() as u64;
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= CHUNK_BYTES {
            self.send_pending()?;
        }
        Ok(bytes.len())
    }

    /// Parts go out when they are full; the file is complete only in
    /// [`DataFileWriter::finish`].
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
