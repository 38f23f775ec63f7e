//! Shared helpers for the integration tests: bundles, unique ids and roots, cleanup guards.
