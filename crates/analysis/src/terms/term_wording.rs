//! The term and renewal readers' cues as data (`wording/term.toml`), so that a legal expert
//! can add a wording without touching the readers.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::wording::{check_cues, parse, WordingError};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct TermWording {
    pub(super) end_cues: Vec<String>,
    pub(super) sub_period_ends: Vec<String>,
    pub(super) open_ended: Vec<String>,
    pub(super) duration: Vec<String>,
    pub(super) duties_for_the_term: Vec<String>,
    pub(super) other_duties: Vec<String>,
    pub(super) initial_term_plain: Vec<String>,
    pub(super) initial_term_loose: Vec<String>,
    pub(super) indefinitely: Vec<String>,
    pub(super) automatic_renewal: Vec<String>,
}

const TABLE: &str = "term";

pub(crate) const BUILT_IN: &str = include_str!("../../../../wording/term.toml");

/// Parses and validates the term wording table.
pub(crate) fn load(text: &str) -> Result<TermWording, WordingError> {
    let w: TermWording = parse(TABLE, text)?;
    for (field, cues) in [
        ("end_cues", &w.end_cues),
        ("sub_period_ends", &w.sub_period_ends),
        ("open_ended", &w.open_ended),
        ("duration", &w.duration),
        ("duties_for_the_term", &w.duties_for_the_term),
        ("other_duties", &w.other_duties),
        ("initial_term_plain", &w.initial_term_plain),
        ("initial_term_loose", &w.initial_term_loose),
        ("indefinitely", &w.indefinitely),
        ("automatic_renewal", &w.automatic_renewal),
    ] {
        check_cues(TABLE, field, cues)?;
    }
    Ok(w)
}

/// The shipped table (validated by a test; an invalid one reads as empty).
pub(super) fn term_wording() -> &'static TermWording {
    static WORDING: OnceLock<TermWording> = OnceLock::new();
    WORDING.get_or_init(|| load(BUILT_IN).unwrap_or_default())
}
