//! `ringwatch daemon`: the scheduled probe matrix, its snapshot for the
//! HTTP endpoints, and alerts on state changes.

mod run;
pub mod snapshot;

pub use run::{Control, DaemonPaths, run};
