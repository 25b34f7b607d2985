//! dsim library side of the CLI.
