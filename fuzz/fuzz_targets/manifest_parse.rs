//! `Manifest::parse` on arbitrary bytes: never panics, and whatever it
//! accepts names only plain files inside its own partition folder and reads
//! back the same after being written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_core::DatasetId;
use strata_core::manifest::{Manifest, content_hash, is_sha256};
use strata_store::Store;

const DATASET: &str = "bronze/t";
const PARTITION: &str = "date=2025-02-18";

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Manifest::parse(data, DATASET, PARTITION) else {
        return;
    };
    assert_eq!(
        (m.dataset.as_str(), m.partition.as_str()),
        (DATASET, PARTITION)
    );
    assert!(is_sha256(&m.key) && is_sha256(&m.content_hash));
    assert_eq!(m.content_hash, content_hash(&m.files));
    let ds = DatasetId::parse(DATASET).unwrap();
    let folder = Store::partition_dir(&ds, PARTITION);
    for f in &m.files {
        let name = f.path.as_str();
        assert!(
            !name.is_empty()
                && name != "."
                && name != ".."
                && !name.starts_with(['.', '_'])
                && !name.contains(['/', '\\', '\0']),
            "accepted file name {name:?}"
        );
        let path = Store::file_path(&ds, PARTITION, name);
        assert!(path.prefix_matches(&folder));
        assert_eq!(path.parts().count(), folder.parts().count() + 1);
        assert!(is_sha256(&f.sha256));
    }
    let again = Manifest::parse(&m.to_json(), DATASET, PARTITION);
    assert_eq!(again.as_ref(), Ok(&m));
});
