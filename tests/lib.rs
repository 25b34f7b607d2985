//! Integration tests for dsim live in `tests/`; this library is empty.
