//! Listing a dataset of a local store straight from the file system.
//!
//! object_store's LIST of a local folder walks it and stats every entry
//! three times (to find broken links); planning 14,600 partitions spent most
//! of its time there. This reads each partition folder once and stats each
//! file once, and gives the same answer: files directly inside partition
//! folders with their sizes, no temp files of interrupted writes (`NAME#N`),
//! and the manifest's entity tag as object_store spells it for that file
//! (inode, modification time in microseconds, size), so a manifest cache
//! entry taken from a GET matches it.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use strata_core::manifest::MANIFEST_FILE;

use super::FolderListing;

/// Every partition folder under `dataset_dir` that holds at least one file.
pub(crate) fn scan(dataset_dir: &Path) -> std::io::Result<HashMap<String, FolderListing>> {
    let mut out = HashMap::new();
    for (partition, entry) in entries(dataset_dir)? {
        if !is_dir(&entry) || !super::is_partition_folder(&partition) {
            continue;
        }
        let folder = folder(&entry.path())?;
        if !folder.files.is_empty() {
            out.insert(partition, folder);
        }
    }
    Ok(out)
}

/// The entries of `dir` with UTF-8 names (no object path names any
/// other); none if `dir` is gone, e.g. deleted since its parent was read.
fn entries(dir: &Path) -> std::io::Result<Vec<(String, std::fs::DirEntry)>> {
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry?;
        if let Some(name) = entry.file_name().to_str() {
            out.push((name.to_owned(), entry));
        }
    }
    Ok(out)
}

fn folder(dir: &Path) -> std::io::Result<FolderListing> {
    let mut folder = FolderListing::default();
    for (name, entry) in entries(dir)? {
        if is_temp_file(&name) {
            continue;
        }
        let metadata = match entry.metadata() {
            Ok(m) if m.is_symlink() => std::fs::metadata(entry.path()),
            other => other,
        };
        let metadata = match metadata {
            Ok(m) if m.is_file() => m,
            // Gone since the folder was read, a broken link, or a folder.
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if name == MANIFEST_FILE {
            folder.manifest_tag = Some(entity_tag(&metadata));
        }
        folder.files.insert(name, metadata.len());
    }
    Ok(folder)
}

fn is_dir(entry: &std::fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(t) if t.is_symlink() => entry.path().is_dir(),
        Ok(t) => t.is_dir(),
        Err(_) => false,
    }
}

/// object_store's name for a file being written: `NAME#` and digits.
fn is_temp_file(name: &str) -> bool {
    name.split_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The entity tag object_store's local store gives this file, unquoted.
fn entity_tag(metadata: &std::fs::Metadata) -> String {
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default()
        .as_micros();
    format!("{:x}-{mtime:x}-{:x}", metadata.ino(), metadata.len())
}
