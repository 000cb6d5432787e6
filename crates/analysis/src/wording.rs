//! Wording tables a legal expert can edit (`wording/*.toml`): the cues the key-term readers
//! look for. Each table is parsed and validated once; a table that fails validation is a bug
//! in the shipped data, which the tests catch, so the readers then see an empty table rather
//! than stopping a review.

use serde::Deserialize;

/// Why a wording table was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WordingError {
    #[error("wording table {table}: {message}")]
    Syntax { table: &'static str, message: String },
    #[error("wording table {table}: `{field}` is empty")]
    Empty { table: &'static str, field: String },
    #[error("wording table {table}: cue {cue:?} in `{field}` is not lower case")]
    NotLowerCase { table: &'static str, field: String, cue: String },
}

/// Checks that a list of cues is non-empty and lower case (cues are matched against
/// lower-cased text, so a capital letter would never match).
pub fn check_cues(table: &'static str, field: &str, cues: &[String]) -> Result<(), WordingError> {
    if cues.is_empty() || cues.iter().any(|cue| cue.trim().is_empty()) {
        return Err(WordingError::Empty { table, field: field.to_owned() });
    }
    if let Some(cue) = cues.iter().find(|cue| cue.to_lowercase() != **cue) {
        return Err(WordingError::NotLowerCase { table, field: field.to_owned(), cue: cue.clone() });
    }
    Ok(())
}

/// Parses a table, refusing unknown fields (the structs say `deny_unknown_fields`).
pub fn parse<T: for<'de> Deserialize<'de>>(table: &'static str, text: &str) -> Result<T, WordingError> {
    toml::from_str(text).map_err(|e| WordingError::Syntax { table, message: e.to_string() })
}
