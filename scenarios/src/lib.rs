//! The RON scenario format.
