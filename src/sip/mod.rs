//! SIP wire format: a tolerant message parser that keeps the raw bytes and
//! the real reason phrase, parsers for the headers a prober lives on
//! (Reason, Call-Info, Retry-After, Warning), request building, digest auth
//! and protocol identifiers.

pub mod call_info;
pub mod digest;
pub mod ids;
pub mod message;
pub mod params;
pub mod reason;
pub mod request;
pub mod retry_after;
pub mod warning;
