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
    for (idx, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or(ConfigError::MalformedLine { line: idx + 1 })?;
        let key = key.trim().to_string();
        if !pairs.contains_key(&key) {
            return Err(ConfigError::DuplicateKey(key));
        }
        pairs.insert(key, value.trim().to_string());
    }
    Ok(pairs)
}

fn parse_value<F: FromStr>(key: &str, raw: &str) -> Result<F, ConfigError> {
    raw.parse::<F>().map_err(|_| ConfigError::InvalidValue {
        key: key.to_string(),
        value: raw.to_string(),
    })
}

fn required<F: FromStr>(pairs: &HashMap<String, String>, key: &str) -> Result<F, ConfigError> {
    let raw = pairs
        .get(key)
        .ok_or_else(|| ConfigError::MissingKey(key.to_string()))?;
    parse_value(key, raw)
}

fn optional<F: FromStr>(pairs: &HashMap<String, String>, key: &str, default: F) -> Result<F, ConfigError> {
    match pairs.get(key) {
        Some(raw) => parse_value(key, raw),
        None => Ok(default),
    }
}

/// Parses a whole configuration file.
pub fn parse_config(text: &str) -> Result<Config, ConfigError> {
    let pairs = parse_pairs(text)?;
    Ok(Config {
        host: required(&pairs, "host")?,
        port: required(&pairs, "port")?,
        workers: optional(&pairs, "workers", DEFAULT_WORKERS)?,
        timeout_ms: optional(&pairs, "timeout_ms", DEFAULT_TIMEOUT_MS)?,
        verbose: optional(&pairs, "verbose", false)?,
    })
}
