//! Blanks a form leaves to be filled in — `{governing_law}`, `[Fill in state]`, `[ ]`, `[•]`,
//! `________` — found so that no key term takes one for a value and the review can say the
//! document is not filled in. Blank lines to sign on (`By: ______`) and redactions (`[***]`)
//! are not blanks of the contract. The cues are data (`wording/placeholders.toml`).

use std::sync::OnceLock;

use serde::Deserialize;

use super::*;
use crate::wording::{check_cues, parse, WordingError};

/// At most this many placeholders are listed (a template can have hundreds).
pub(super) const MAX_PLACEHOLDERS: usize = 100;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Wording {
    bracket_openers: Vec<String>,
    bracket_labels: Vec<String>,
    blank_marks: Vec<String>,
    signature_labels: Vec<String>,
    signature_words: Vec<String>,
    not_a_place: Vec<String>,
}

const TABLE: &str = "placeholders";

pub(crate) const BUILT_IN: &str = include_str!("../../../../wording/placeholders.toml");

/// Parses and validates the placeholder wording table.
pub(crate) fn load(text: &str) -> Result<Wording, WordingError> {
    let wording: Wording = parse(TABLE, text)?;
    check_cues(TABLE, "bracket_openers", &wording.bracket_openers)?;
    check_cues(TABLE, "bracket_labels", &wording.bracket_labels)?;
    check_cues(TABLE, "blank_marks", &wording.blank_marks)?;
    check_cues(TABLE, "signature_labels", &wording.signature_labels)?;
    check_cues(TABLE, "signature_words", &wording.signature_words)?;
    check_cues(TABLE, "not_a_place", &wording.not_a_place)?;
    Ok(wording)
}

fn wording() -> &'static Wording {
    static WORDING: OnceLock<Wording> = OnceLock::new();
    WORDING.get_or_init(|| load(BUILT_IN).unwrap_or_default())
}

/// Every placeholder in the text (at most [`MAX_PLACEHOLDERS`]), in order: `value` as written.
pub(super) fn placeholders(text: &str) -> Vec<Term> {
    static PATTERN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let Some(pattern) = PATTERN
        .get_or_init(|| regex::Regex::new(r"\{[A-Za-z][\w \-]{0,60}\}|\[[^\[\]\n]{0,160}\]|_{4,}").ok())
        .as_ref()
    else {
        return Vec::new();
    };
    // "[ ]" is a blank unless the document ticks boxes ("[x]").
    let ticks_boxes = ["[x]", "[ x ]", "[X]", "[ X ]", "[✓]", "☐", "☒"].iter().any(|tick| text.contains(tick));
    let words = wording();
    // Blank lines and boxes after the signatures belong to forms attached as exhibits (a
    // notice, a certificate), not to the contract's own terms.
    let signed_at = ["IN WITNESS WHEREOF", "In Witness Whereof", "IN WITNESS THEREOF"]
        .iter()
        .filter_map(|cue| text.find(cue))
        .min()
        .unwrap_or(text.len());
    let mut out = Vec::new();
    for found in pattern.find_iter(text) {
        if found.start() > signed_at && !found.as_str().starts_with('{') {
            continue;
        }
        let raw = found.as_str();
        let is_blank = if raw.starts_with('{') {
            true
        } else if raw.starts_with('[') {
            let inside = raw[1..raw.len() - 1].trim();
            let lower = inside.to_lowercase();
            let link = text[found.end()..].starts_with('(');
            let redaction = inside.starts_with('*');
            let empty = inside.is_empty() && !ticks_boxes;
            let marks = !inside.is_empty()
                && inside.chars().all(|c| c.is_whitespace() || words.blank_marks.iter().any(|m| m.contains(c)));
            let opener = words.bracket_openers.iter().any(|cue| lower.starts_with(cue.as_str()));
            let label = (1..=2).contains(&lower.split_whitespace().count())
                && lower.split_whitespace().all(|word| words.bracket_labels.iter().any(|l| l == word));
            !link && !redaction && (empty || marks || opener || label)
        } else {
            !on_a_signature_line(text, found.start())
                && !near_signature_words(text, found.start(), found.end())
                && in_running_text(text, found.start())
        };
        if is_blank {
            out.push(Term { value: raw.to_owned(), start: found.start(), end: found.end() });
            if out.len() == MAX_PLACEHOLDERS {
                break;
            }
        }
    }
    out
}

/// A blank on a line that is only a signature label ("By:", "Title:") or only the blank.
fn on_a_signature_line(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..at].trim().trim_end_matches(':').trim().to_lowercase();
    before.is_empty() || wording().signature_labels.contains(&before)
}

/// A blank line near the words of a signature block.
fn near_signature_words(text: &str, start: usize, end: usize) -> bool {
    let window = &text[crate::floor_boundary(text, start.saturating_sub(150))..crate::floor_boundary(text, end + 80)];
    let lower = window.to_lowercase();
    wording().signature_words.iter().any(|word| lower.contains(word.as_str()))
}

/// A blank inside running text ("made this ____ day of", "a fee of $_____ per unit"), not one
/// on a line of a form's labels: the line has four words or more.
fn in_running_text(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let words = text[line_start..line_end]
        .split_whitespace()
        .filter(|word| word.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count();
    words >= 4
}

/// Whether a name read as a jurisdiction is a placeholder's word ("Governing Law", "Chosen
/// Courts", "Governing Member State") rather than a place.
pub(super) fn is_not_a_place(name: &str) -> bool {
    name.split_whitespace().any(|word| {
        let word = word.to_lowercase();
        wording().not_a_place.contains(&word)
    })
}

/// Whether `at` is inside square brackets on its line (a form's hint: "[Fill in city or
/// county and state, i.e. “courts located in New Castle, DE”]").
pub(super) fn inside_brackets(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let before = &text[line_start..at];
    before.rfind('[').is_some_and(|open| !before[open..].contains(']')) && text[at..line_end].contains(']')
}

/// Whether a placeholder is among the first `within` bytes after `from`.
pub(super) fn placeholder_follows(text: &str, from: usize, within: usize) -> bool {
    let end = crate::floor_boundary(text, from + within);
    let window = &text[crate::floor_boundary(text, from)..end];
    window.contains('{') || window.contains("[Fill") || window.contains("[ ]") || window.contains("____")
}
