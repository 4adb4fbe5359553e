//! The one integration test binary (ripgrep style: one link step, not one
//! per file). It runs the built `ringwatch` binary against real peers on
//! loopback: SIPp playing the far ends of tests/scenarios/*.xml, one scenario
//! per outcome, and bad command lines that must fail before any call.
//!
//! Run it with `cargo test --test integration` (filter by test name after
//! it). SIPp must be installed (`apt-get install sip-tester`); the tests
//! fail, with that hint, when it is not. `scripts/test` runs everything.

// A crate root resolves `mod x;` next to itself (tests/x.rs), so the modules
// in tests/integration/ are named by path.
#[path = "integration/bad_store.rs"]
mod bad_store;
#[path = "integration/common.rs"]
mod common;
#[path = "integration/daemon.rs"]
mod daemon;
#[path = "integration/history.rs"]
mod history;
#[path = "integration/media.rs"]
mod media;
#[path = "integration/probe_errors.rs"]
mod probe_errors;
#[path = "integration/probe_failed.rs"]
mod probe_failed;
#[path = "integration/probe_outcomes.rs"]
mod probe_outcomes;
