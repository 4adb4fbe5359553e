//! `ringwatch daemon`: the scheduled probe matrix, its snapshot for the
//! HTTP endpoints, and alerts on state changes.

pub mod snapshot;
