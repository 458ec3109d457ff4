//! The contracts this host speaks, and which one a component was built
//! for: a plugin exports `strata:plugin/transform` at one version, and the
//! runtime binds that version's world (`v0_1`, `v0_2`).

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::Component;

/// A version of the plugin contract (`wit/` and its older copies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// `strata:plugin@0.1.0` (`wit/v0.1/`): params as strings, types as
    /// strings, `finish` once, no projection.
    V0_1,
    /// `strata:plugin@0.2.0` (`wit/`): params as one JSON object, a plan
    /// from `open`, batches tagged with their partition, `finish` drained.
    V0_2,
}

impl Contract {
    /// Every contract this host speaks, oldest first.
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    /// The newest contract, the one `wit/` holds and new plugins are built for.
    pub const NEWEST: Contract = Contract::V0_2;

    /// The package and version, as its WIT declares it (`strata:plugin@0.2.0`).
    pub fn package(self) -> &'static str {
        let wit = match self {
            Contract::V0_1 => include_str!("../../../../wit/v0.1/strata.wit"),
            Contract::V0_2 => include_str!("../../../../wit/strata.wit"),
        };
        package_line(wit)
    }

    /// The version alone (`0.2.0`).
    pub fn version(self) -> &'static str {
        self.package().split_once('@').map_or("", |(_, v)| v)
    }

    /// The interface a plugin of this contract exports
    /// (`strata:plugin/transform@0.2.0`).
    fn transform_export(self) -> String {
        format!("{PACKAGE}/transform@{}", self.version())
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.package())
    }
}

impl serde::Serialize for Contract {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.package())
    }
}

/// The contract's package name, without a version.
const PACKAGE: &str = "strata:plugin";

/// The `package name@version;` line of a WIT file.
fn package_line(wit: &'static str) -> &'static str {
    wit.lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .and_then(|rest| rest.trim().strip_suffix(';'))
        .expect("every contract WIT has a `package name@version;` line")
}

/// Whether `bytes` are a core WebAssembly module (magic, then version 1 in
/// layer 0) rather than a component (its own version, layer 1).
pub(crate) fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// The contract whose transform interface the component exports, if it is
/// one this host speaks.
pub(crate) fn exported(engine: &Engine, component: &Component) -> Option<Contract> {
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    // Newest first: a component exporting both is driven as the newer.
    Contract::ALL
        .into_iter()
        .rev()
        .find(|c| exports.contains(&c.transform_export()))
}

/// The interfaces of the contract's package that a component imports or
/// exports at a version this host does not speak: what a plugin built for
/// another contract shows.
pub(crate) fn other_versions(engine: &Engine, component: &Component) -> Vec<String> {
    let prefix = format!("{PACKAGE}/");
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(name, _)| name.to_owned());
    let exports = ty.exports(engine).map(|(name, _)| name.to_owned());
    let mut found: Vec<String> = imports
        .chain(exports)
        .filter(|name| {
            name.strip_prefix(&prefix).is_some_and(|rest| {
                let version = rest.split_once('@').map_or("", |(_, v)| v);
                !Contract::ALL.iter().any(|c| c.version() == version)
            })
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_module_header_is_told_from_a_component_header() {
        assert!(is_core_module(b"\0asm\x01\0\0\0"));
        // A component: version 0x0d, layer 1.
        assert!(!is_core_module(b"\0asm\x0d\0\x01\0"));
        assert!(!is_core_module(b"\0asm"));
    }

    #[test]
    fn every_contract_is_its_wit_package() {
        assert_eq!(Contract::V0_1.package(), "strata:plugin@0.1.0");
        assert_eq!(Contract::V0_2.package(), "strata:plugin@0.2.0");
        assert_eq!(Contract::NEWEST, *Contract::ALL.last().unwrap());
        assert_eq!(
            Contract::V0_2.transform_export(),
            "strata:plugin/transform@0.2.0"
        );
    }
}
