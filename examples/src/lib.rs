//! Shared helpers for the example servers.
