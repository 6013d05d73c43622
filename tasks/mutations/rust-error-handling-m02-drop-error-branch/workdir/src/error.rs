use std::fmt;

/// Everything that can be wrong with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A non-blank, non-comment line without `=`; `line` is 1-based.
    MalformedLine { line: usize },
    /// A key that appears more than once.
    DuplicateKey(String),
    /// A required key that is absent.
    MissingKey(String),
    /// A value that does not parse as the key's type.
    InvalidValue { key: String, value: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MalformedLine { line } => write!(f, "line {}: expected `key = value`", line),
            ConfigError::DuplicateKey(key) => write!(f, "key `{}` is set more than once", key),
            ConfigError::MissingKey(key) => write!(f, "required key `{}` is missing", key),
            ConfigError::InvalidValue { key, value } => {
                write!(f, "key `{}`: cannot parse `{}`", key, value)
            }
        }
    }
}

impl std::error::Error for ConfigError {}
