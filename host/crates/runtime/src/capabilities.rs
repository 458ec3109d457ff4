//! What a plugin may import. The contract grants the `host` interface and
//! the parts of WASI that toolchains link even for pure computation (I/O
//! streams, CLI stdio/environment/exit, clocks, random, filesystem types).
//! Those are linked but empty: no preopened directories, an empty
//! environment, fixed clocks. Anything else (sockets, HTTP, name lookup,
//! unknown interfaces) is refused when the plugin is loaded.

/// Interface prefixes a plugin may import.
const GRANTED: &[&str] = &[
    "strata:plugin/",
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
];

/// Whether an import name (e.g. `wasi:sockets/tcp@0.2.6`) is granted.
pub fn is_granted(import: &str) -> bool {
    GRANTED.iter().any(|prefix| import.starts_with(prefix))
}

/// The imports of a component that the sandbox refuses.
pub(crate) fn refused<'a>(imports: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    imports
        .into_iter()
        .filter(|name| !is_granted(name))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_and_http_are_refused() {
        let refused = refused([
            "wasi:io/streams@0.2.6",
            "wasi:sockets/tcp@0.2.6",
            "wasi:http/outgoing-handler@0.2.6",
            "strata:plugin/host@0.1.0",
            "wasi:filesystem/preopens@0.2.6",
        ]);
        assert_eq!(
            refused,
            ["wasi:sockets/tcp@0.2.6", "wasi:http/outgoing-handler@0.2.6"]
        );
    }
}
