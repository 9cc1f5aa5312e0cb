//! Diagnostics: problems found in the editors' files, with where they are and what to do.
//!
//! Pure modules (calendar, privacy) report a [`ConfigIssue`] against a path inside the parsed
//! document (`exceptions[2].hours[0]`); the loader turns that path into `file:line:column`.

use std::fmt;

/// A problem found while building a pure component from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Where in the document, as `key.sub[3].field`; empty for the document itself.
    pub path: String,
    /// What is wrong: lowercase, no final period, user input in backticks.
    pub message: String,
    /// An optional hint, such as "did you mean `maandag`?".
    pub help: Option<String>,
}

impl ConfigIssue {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigIssue {
            path: path.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}
