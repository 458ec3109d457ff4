//! Which contract a component was built for, for the load errors that say
//! why it is not a plugin of this host.

use wasmtime::Engine;
use wasmtime::component::Component;

/// The contract's package and version as `wit/` declares it
/// (`strata:plugin@0.1.0`): the WIT the bindings in lib.rs are made from.
pub(crate) fn package() -> &'static str {
    include_str!("../../../../wit/strata.wit")
        .lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .and_then(|rest| rest.trim().strip_suffix(';'))
        .expect("wit/strata.wit has a `package name@version;` line")
}

/// Whether `bytes` are a core WebAssembly module (magic, then version 1 in
/// layer 0) rather than a component (its own version, layer 1).
pub(crate) fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// The interfaces of the contract's package that a component imports or
/// exports at a version other than this host's: what a plugin built for
/// another contract shows.
pub(crate) fn other_versions(engine: &Engine, component: &Component) -> Vec<String> {
    let (package, version) = package().split_once('@').unwrap_or((package(), ""));
    let prefix = format!("{package}/");
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(name, _)| name.to_owned());
    let exports = ty.exports(engine).map(|(name, _)| name.to_owned());
    let mut found: Vec<String> = imports
        .chain(exports)
        .filter(|name| {
            name.strip_prefix(&prefix)
                .is_some_and(|rest| rest.split_once('@').map_or("", |(_, v)| v) != version)
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
    fn the_package_is_the_contract_with_its_version() {
        let (name, version) = package().split_once('@').unwrap();
        assert_eq!(name, "strata:plugin");
        assert!(!version.is_empty());
    }
}
