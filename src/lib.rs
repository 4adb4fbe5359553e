//! ringwatch: an outbound SIP test-call prober.
//!
//! # Layers
//!
//! ```text
//! cli ──> probe (thin async shell: sockets, pacing) ──> uac (sans-IO INVITE client)
//!                                       │                    │
//!                                       v                    v
//!                                   classify (pure) <── sip (tolerant parser, Reason, Call-Info)
//! config (raw TOML -> validated Config)      clock (the only place that reads time or seeds RNGs)
//! ```
//!
//! # The drive-loop contract
//!
//! Protocol cores never read the clock and never touch a socket. They take
//! `now` and bytes through `handle_*` methods and hand back work through
//! `poll_*` methods. After every mutation the caller drains `poll_output`
//! until it yields `Output::Timeout(deadline)` (or `Output::Done`), sends
//! every `Transmit`, records every `Event`, then sleeps until the deadline or
//! the next datagram, whichever comes first. Unit tests drive the same cores
//! on virtual time, which is why Timer B (32 s) is tested in microseconds.

pub mod alerts;
pub mod classify;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod http;
pub mod lab;
pub mod media;
pub mod probe;
pub mod report;
pub mod reputation;
pub mod schedule;
pub mod sdp;
pub mod sip;
pub mod store;
#[doc(hidden)]
pub mod testkit;
pub mod uac;
