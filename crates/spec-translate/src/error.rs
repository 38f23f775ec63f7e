//! The one error type of translation: a one-line message naming the offending field.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    /// JSON path of the field, e.g. `process.capabilities.bounding[2]`.
    pub field: String,
    pub reason: String,
}

impl TranslateError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        TranslateError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "config.json: {}: {}", self.field, self.reason)
        }
    }
}

impl std::error::Error for TranslateError {}

pub type Result<T> = std::result::Result<T, TranslateError>;
