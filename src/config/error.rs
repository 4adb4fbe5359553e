//! Config errors: one line, `FILE:LINE:COL: message` whenever a position is
//! known.
//!
//! Owns turning byte offsets into 1-based line:column and rewording the
//! TOML parser's serde messages into ringwatch's (naming the table of an
//! unknown key, refusing a password with a specific hint). It does not
//! decide what is valid; `validate.rs` does.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::raw::{SECTIONS, STRUCT_NAMES};

/// A 1-based position in the config file. `column` counts characters, not
/// bytes, so it matches what an editor shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number in characters, starting at 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`. Offsets past the end map to
    /// the end; an offset inside a multi-byte character maps to that
    /// character.
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let mut line = 1;
        let mut column = 1;
        for (i, c) in text.char_indices() {
            if i >= offset {
                break;
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else if i + c.len_utf8() <= offset {
                column += 1;
            }
        }
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where an error is: the file and, when known, the line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The config file as the user named it.
    pub path: PathBuf,
    /// Line and column, when the error points at one place.
    pub position: Option<Position>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(p) = self.position {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// Why a config file could not be loaded. `Display` is a single line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file does not exist.
    #[error(
        "{}: config file not found (pass --config PATH, or start from `ringwatch config example > probes.toml`)",
        path.display()
    )]
    NotFound {
        /// The path that was tried.
        path: PathBuf,
    },
    /// The file exists but could not be read (permissions, not UTF-8, ...).
    #[error("{}: cannot read config file", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The file was read but is not a valid ringwatch config.
    #[error("{location}: {message}")]
    Invalid {
        /// File and position.
        location: Location,
        /// What is wrong, one line, without the location.
        message: String,
    },
}

impl ConfigError {
    /// Line and column of an [`ConfigError::Invalid`] error, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            ConfigError::Invalid { location, .. } => location.position,
            _ => None,
        }
    }

    /// The message of an [`ConfigError::Invalid`] error, without location.
    pub fn message(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// The text being validated and its path: builds located errors.
pub(crate) struct Source<'a> {
    pub(crate) text: &'a str,
    pub(crate) path: &'a Path,
}

impl Source<'_> {
    /// An error at byte `span.start`.
    pub(crate) fn at(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        self.invalid(Some(Position::of_offset(self.text, span.start)), message)
    }

    /// An error about the file as a whole.
    pub(crate) fn whole(&self, message: impl Into<String>) -> ConfigError {
        self.invalid(None, message)
    }

    /// The line of byte `span.start`, for "already defined at line N".
    pub(crate) fn line_of(&self, span: Range<usize>) -> usize {
        Position::of_offset(self.text, span.start).line
    }

    fn invalid(&self, position: Option<Position>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            location: Location {
                path: self.path.to_owned(),
                position,
            },
            message: one_line(&message.into()),
        }
    }

    /// Reword a TOML/serde error and attach its position.
    pub(crate) fn toml_error(&self, err: &toml::de::Error) -> ConfigError {
        let span = err.span();
        let message = reword(err.message(), span.clone(), self.text);
        match span {
            Some(span) => self.at(span, message),
            None => self.whole(message),
        }
    }
}

/// Collapse a possibly multi-line message onto one line.
fn one_line(message: &str) -> String {
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join("; ")
}

/// Turn serde's wording into ours.
fn reword(message: &str, span: Option<Range<usize>>, text: &str) -> String {
    if let Some(better) = reword_unknown_field(message) {
        return better;
    }
    let mut message = message.to_owned();
    for (internal, shown) in STRUCT_NAMES {
        message = message.replace(internal, shown);
    }
    if message == "invalid type: map, expected a sequence" {
        let header = span
            .clone()
            .and_then(|s| text.get(s.start..))
            .and_then(|t| {
                let name = t.strip_prefix('[')?.split(']').next()?.trim();
                (!name.starts_with('[')).then_some(name)
            });
        if let Some(name) = header {
            return format!(
                "[{name}] must be written [[{name}]] (double brackets): one block per entry"
            );
        }
    }
    let typed = message.starts_with("invalid type") || message.starts_with("invalid value");
    if let Some(key) = span
        .filter(|_| typed)
        .and_then(|s| key_before(text, s.start))
    {
        return format!("`{key}`: {message}");
    }
    message
}

/// `unknown field `x`, expected one of `a`, `b`` → the same with the table
/// named, and the password case replaced by a hint.
fn reword_unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let listed = backticked(expected);
    let (section, fields) = SECTIONS.iter().find(|(_, fields)| {
        fields.len() == listed.len() && fields.iter().all(|f| listed.contains(f))
    })?;
    if *section == "[trunk]" && field == "password" {
        return Some(
            "a password must not be in the config file: put the password in an \
             environment variable and name it with password_env"
                .to_owned(),
        );
    }
    let fields: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    let shown_field = field.escape_debug();
    Some(match section.strip_prefix('[') {
        Some(_) => format!(
            "unknown field `{shown_field}` in {section}, expected one of {}",
            fields.join(", ")
        ),
        None => format!(
            "unknown table `{shown_field}` at the top level, expected one of {}",
            fields.join(", ")
        ),
    })
}

/// The names between backticks in `s`.
pub(crate) fn backticked(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// For a value at `offset`, the key on its left (`key = value`), if the
/// text has that simple shape.
fn key_before(text: &str, offset: usize) -> Option<&str> {
    let before = text.get(..offset)?;
    let before = before.trim_end_matches([' ', '\t']);
    let before = before.strip_suffix('=')?;
    let before = before.trim_end_matches([' ', '\t']);
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let key = &before[start..];
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_line_and_column() {
        let text = "ab\ncd\r\néf\n";
        let at = |o| {
            let p = Position::of_offset(text, o);
            (p.line, p.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(1), (1, 2));
        assert_eq!(at(3), (2, 1));
        assert_eq!(at(4), (2, 2));
        assert_eq!(at(7), (3, 1));
        // 'é' is two bytes; 'f' is the second character of line 3.
        assert_eq!(at(9), (3, 2));
        // Inside the multi-byte character: still that character.
        assert_eq!(at(8), (3, 1));
        assert_eq!(at(10_000), (4, 1));
    }

    #[test]
    fn messages_become_one_line() {
        assert_eq!(
            one_line("invalid table header\nexpected `.`, `]`\n"),
            "invalid table header; expected `.`, `]`"
        );
    }

    #[test]
    fn key_before_finds_simple_keys() {
        assert_eq!(key_before("a = 1", 4), Some("a"));
        assert_eq!(key_before("[t]\nuser_phone=\"x\"", 15), Some("user_phone"));
        assert_eq!(key_before("x = [1, 2]", 8), None);
        assert_eq!(key_before("x", 99), None);
        assert_eq!(key_before("é= 1", 4), None);
        assert_eq!(key_before("éa = 1", 6), Some("a"));
        assert_eq!(key_before("\"é\" = 1", 7), None);
    }
}
