//! The standard plugins, compiled into the host: `json-to-table` (bronze:
//! raw JSON to typed columns), `clean-dedupe` (silver) and `aggregate`
//! (gold), built from `plugins/` by this crate's build script.
//!
//! A pipeline names one as `plugin = "std:json-to-table"`. It is still
//! identified by the sha256 of its bytes, as a plugin file is: the same
//! bytes from a file or from here make the same partitions, and a host
//! whose standard plugin has other bytes recomputes what it made.
//!
//! ```ignore
//! let bytes: &'static [u8] = strata_std_plugins::get("json-to-table").unwrap();
//! ```

include!(concat!(env!("OUT_DIR"), "/std.rs"));

/// What a pipeline writes before a standard plugin's name.
pub const PREFIX: &str = "std:";

/// The component of the standard plugin `name` (without `std:`), or `None`
/// if there is none of that name (see [`NAMES`]).
pub fn get(name: &str) -> Option<&'static [u8]> {
    NAMES.iter().position(|n| *n == name).map(|i| COMPONENTS[i])
}

/// Every standard plugin as (name, component), in the order of [`NAMES`].
pub fn all() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    NAMES.iter().copied().zip(COMPONENTS.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_knows_the_same_names() {
        // Core validates `std:` names without depending on this crate.
        assert_eq!(strata_core::config::STD_PLUGINS, NAMES);
    }

    #[test]
    fn every_name_is_a_component() {
        // A component's preamble: magic, then version 0x0d and layer 1.
        const COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";
        assert_eq!(all().count(), NAMES.len());
        for (name, bytes) in all() {
            assert!(bytes.starts_with(COMPONENT), "{name} is not a component");
            assert_eq!(get(name), Some(bytes));
        }
        assert_eq!(get("nope"), None);
        assert_eq!(
            get("std:json-to-table"),
            None,
            "names are without the prefix"
        );
    }
}
