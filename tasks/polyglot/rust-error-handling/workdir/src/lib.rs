//! Configuration loader for the worker service.
//!
//! The file format is one `key = value` pair per line; blank lines and lines
//! starting with `#` are ignored. Keys and values are trimmed.

mod error;

pub use error::ConfigError;

use std::collections::HashMap;
use std::str::FromStr;

/// The worker service's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub timeout_ms: u64,
    pub verbose: bool,
}

/// Default for `workers` when the file does not set it.
pub const DEFAULT_WORKERS: usize = 4;
/// Default for `timeout_ms` when the file does not set it.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Splits the file into a key -> value map.
pub fn parse_pairs(text: &str) -> Result<HashMap<String, String>, ConfigError> {
    let mut pairs = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // TODO(error-handling): report bad lines instead of crashing.
        let (key, value) = line.split_once('=').expect("malformed config line");
        pairs.insert(key.trim().to_string(), value.trim().to_string());
    }
    Ok(pairs)
}

fn required<F: FromStr>(pairs: &HashMap<String, String>, key: &str) -> F {
    let raw = pairs.get(key).expect("missing required key");
    raw.parse().ok().expect("invalid value")
}

fn optional<F: FromStr>(pairs: &HashMap<String, String>, key: &str, default: F) -> F {
    match pairs.get(key) {
        Some(raw) => raw.parse().ok().unwrap(),
        None => default,
    }
}

/// Parses a whole configuration file.
pub fn parse_config(text: &str) -> Result<Config, ConfigError> {
    let pairs = parse_pairs(text)?;
    Ok(Config {
        host: required(&pairs, "host"),
        port: required(&pairs, "port"),
        workers: optional(&pairs, "workers", DEFAULT_WORKERS),
        timeout_ms: optional(&pairs, "timeout_ms", DEFAULT_TIMEOUT_MS),
        verbose: optional(&pairs, "verbose", false),
    })
}
