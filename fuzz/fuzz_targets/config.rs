//! Fuzz target for configuration and numbers: `Config::parse_str` and
//! `E164::parse` must turn any text into a config or a clear error.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ringwatch::config::{Config, E164};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = E164::parse(&text);
    if let Err(e) = Config::parse_str(&text, Path::new("fuzz.toml")) {
        let _ = e.to_string();
    }
});
