//! Helpers the test files share: where the example's scenario files are, and loading them
//! with the example's registry.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::PathBuf;

use scenarios::Scenario;

/// `examples/chain-replication/scenarios/<name>.ron`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.ron"))
}

/// Every scenario file of the example, sorted.
pub fn all() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the scenarios folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

/// A scenario of the example, loaded with the example's registry.
pub fn load(name: &str) -> Scenario {
    chain_replication::registry()
        .load(&path(name))
        .unwrap_or_else(|e| panic!("{e}"))
}
