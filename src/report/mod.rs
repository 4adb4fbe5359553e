//! Output for people and tools: the evidence ticket, pcap export, and (via
//! `crate::reputation::render`) history and check tables.

pub mod evidence;
pub mod pcap;
