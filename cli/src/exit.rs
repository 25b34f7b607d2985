//! dsim's exit codes (defined in `scenarios::exit`, so that a protocol's own benchmark uses
//! the same ones): an interface that scripts and CI depend on. Never renumber.

pub use scenarios::exit::*;
