//! `_manifest.json`: the commit marker of a partition and the only thing
//! trusted about it.
//!
//! A manifest is never trusted blindly: it must parse, carry the current
//! format version, name only plain files inside its own folder, and record
//! well-formed sizes and hashes. Anything else makes the partition damaged.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest format this host writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The file name of the commit marker in every partition folder.
pub const MANIFEST_FILE: &str = "_manifest.json";

/// One column of a partition's schema: its name, the contract's name of
/// its type (`utf8`, `int64`, `decimal128(12,2)`, …) and nullability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub nullable: bool,
}

/// A data file of a partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name inside the partition folder.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What produced a partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Producer {
    Plugin {
        name: String,
        version: String,
        sha256: String,
    },
    Source {
        /// `files`, `http`, …
        source: String,
        /// Where each file came from, in file order (URLs redacted).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fetched: Vec<serde_json::Value>,
    },
}

/// An input partition a partition was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputRef {
    pub dataset: String,
    pub partition: String,
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub dataset: String,
    pub partition: String,
    /// sha256 of everything the partition was made from.
    pub key: String,
    /// sha256 over the data files, in order.
    pub content_hash: String,
    pub files: Vec<FileEntry>,
    pub rows: Option<u64>,
    #[serde(default)]
    pub schema: Vec<Column>,
    pub producer: Producer,
    #[serde(default)]
    pub params: serde_json::Value,
    #[serde(default)]
    pub inputs: Vec<InputRef>,
    pub written_at: String,
    pub host_version: String,
    /// Set by `host invalidate`: recompute this partition on the next run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidated: Option<String>,
    /// What the dataset's checks found in this content, one result per
    /// check (by id). Not part of the key or the content hash: changing a
    /// check re-evaluates it without recomputing anything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

/// What one check found in a partition's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    /// The check's result id (`Check::result_id`).
    pub id: String,
    /// Its kind (`not_null`, `unique`, …).
    pub check: String,
    /// `not_null(amount)`, for people.
    pub label: String,
    pub severity: crate::config::Severity,
    pub passed: bool,
    /// Rows that break the check (for `row_count` and `volume`: 0 or 1;
    /// for `schema`: the columns that differ).
    pub violations: u64,
    /// What it found, for people: "3 of 120 rows have currency outside [EUR, USD]".
    pub message: String,
    /// A few of the offending values, as text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<String>,
}

/// Why a manifest cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest does not parse: {0}")]
    Parse(String),
    #[error("manifest has format version {found}, this host reads {FORMAT_VERSION}")]
    Version { found: u32 },
    #[error("manifest is for {found}, not for this partition")]
    WrongPartition { found: String },
    #[error("manifest names a file outside its folder: `{0}`")]
    UnsafePath(String),
    #[error("manifest names the file `{0}` twice")]
    DuplicateFile(String),
    #[error("manifest records a malformed hash `{0}`")]
    BadHash(String),
    #[error("manifest's content hash does not match its file list")]
    ContentHash,
}

impl Manifest {
    /// Parses and checks a manifest read from the folder of `dataset`/`partition`.
    pub fn parse(bytes: &[u8], dataset: &str, partition: &str) -> Result<Manifest, ManifestError> {
        #[derive(Deserialize)]
        struct Probe {
            format: u32,
        }
        let probe: Probe =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Parse(e.to_string()))?;
        if probe.format != FORMAT_VERSION {
            return Err(ManifestError::Version {
                found: probe.format,
            });
        }
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Parse(e.to_string()))?;
        m.check(dataset, partition)
    }

    /// Checks a deserialised manifest as `parse` does: the format version,
    /// its partition, plain file names and well-formed hashes.
    pub fn check(self, dataset: &str, partition: &str) -> Result<Manifest, ManifestError> {
        let m = self;
        if m.format != FORMAT_VERSION {
            return Err(ManifestError::Version { found: m.format });
        }
        if m.dataset != dataset || m.partition != partition {
            return Err(ManifestError::WrongPartition {
                found: format!("{} {}", m.dataset, m.partition),
            });
        }
        for (i, f) in m.files.iter().enumerate() {
            if m.files[..i].iter().any(|g| g.path == f.path) {
                return Err(ManifestError::DuplicateFile(f.path.clone()));
            }
            if !is_plain_file_name(&f.path) {
                return Err(ManifestError::UnsafePath(f.path.clone()));
            }
            if !is_sha256(&f.sha256) {
                return Err(ManifestError::BadHash(f.sha256.clone()));
            }
        }
        for h in [&m.key, &m.content_hash] {
            if !is_sha256(h) {
                return Err(ManifestError::BadHash(h.clone()));
            }
        }
        if content_hash(&m.files) != m.content_hash {
            return Err(ManifestError::ContentHash);
        }
        Ok(m)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a manifest always serialises");
        bytes.push(b'\n');
        bytes
    }
}

/// A name a partition may contain: no folders, no `..`, not hidden, not ours.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.starts_with('_')
        && !name.contains(['/', '\\', '\0'])
        && name != ".."
}

pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The content hash of a partition: sha256 over each file's name and hash,
/// in order. Two partitions with the same files have the same content hash,
/// whoever wrote them and whenever.
pub fn content_hash(files: &[FileEntry]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.sha256.as_bytes());
        h.update([b'\n']);
    }
    hex::encode(h.finalize())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let files = vec![FileEntry {
            path: "part-0.parquet".into(),
            size: 3,
            sha256: sha256_hex(b"abc"),
        }];
        Manifest {
            format: FORMAT_VERSION,
            dataset: "bronze/t".into(),
            partition: "date=2025-01-01".into(),
            key: sha256_hex(b"key"),
            content_hash: content_hash(&files),
            files,
            rows: Some(1),
            schema: vec![],
            producer: Producer::Plugin {
                name: "p".into(),
                version: "1".into(),
                sha256: sha256_hex(b"p"),
            },
            params: serde_json::json!({}),
            inputs: vec![],
            written_at: "2025-01-02T00:00:00Z".into(),
            host_version: "0".into(),
            invalidated: None,
            checks: vec![],
        }
    }

    #[test]
    fn round_trips() {
        let m = sample();
        let back = Manifest::parse(&m.to_json(), "bronze/t", "date=2025-01-01").unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn hostile_manifests_are_rejected() {
        let ok = sample();
        let parse = |m: &Manifest| Manifest::parse(&m.to_json(), "bronze/t", "date=2025-01-01");

        let mut m = ok.clone();
        m.files[0].path = "../../etc/passwd".into();
        assert!(matches!(parse(&m), Err(ManifestError::UnsafePath(_))));
        m.files[0].path = "/etc/passwd".into();
        assert!(matches!(parse(&m), Err(ManifestError::UnsafePath(_))));

        let mut m = ok.clone();
        m.files[0].sha256 = "abc".into();
        assert!(matches!(parse(&m), Err(ManifestError::BadHash(_))));

        let mut m = ok.clone();
        m.files.push(m.files[0].clone());
        m.content_hash = content_hash(&m.files);
        assert!(matches!(parse(&m), Err(ManifestError::DuplicateFile(_))));

        let mut m = ok.clone();
        m.format = 99;
        assert_eq!(parse(&m), Err(ManifestError::Version { found: 99 }));

        let mut m = ok.clone();
        m.partition = "date=2025-01-02".into();
        assert!(matches!(
            parse(&m),
            Err(ManifestError::WrongPartition { .. })
        ));

        let json = ok.to_json();
        assert!(matches!(
            Manifest::parse(&json[..json.len() / 2], "bronze/t", "date=2025-01-01"),
            Err(ManifestError::Parse(_))
        ));
    }
}
