//! `config::parse` on arbitrary text: never panics, and whatever it accepts
//! is consistent (datasets in dependency order, plain folder names).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strata_core::config;

/// A pipeline folder with the plugin files and landing folder the seeds name.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("strata-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("plugins")).unwrap();
        std::fs::create_dir_all(dir.join("landing")).unwrap();
        for p in ["json_to_table", "clean_dedupe", "aggregate", "p", "daily"] {
            std::fs::write(dir.join(format!("plugins/{p}.wasm")), b"\0asm").unwrap();
        }
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = dir().join("pipeline.toml");
    let pipeline = match config::parse(&path, text) {
        Ok(p) => p,
        Err(e) => {
            if let Some(line) = e.line {
                assert!(line >= 1 && line <= text.lines().count() + 1);
            }
            return;
        }
    };
    assert!(!pipeline.datasets.is_empty());
    let mut seen = Vec::new();
    for d in &pipeline.datasets {
        for part in [&d.id.layer, &d.id.name] {
            assert!(!part.is_empty() && !part.starts_with(['.', '_']));
            assert!(!part.contains(['/', '\\', '\0']));
        }
        assert!(!seen.contains(&d.id), "{} twice", d.id);
        for input in d.inputs() {
            assert!(
                seen.contains(&input.dataset),
                "{} before {}",
                d.id,
                input.dataset
            );
        }
        seen.push(d.id.clone());
    }
    if let Some(end) = pipeline.partitions.end {
        assert!(end >= pipeline.partitions.start);
    }
});
