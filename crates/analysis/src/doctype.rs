//! What kind of document this is (NDA, services, SaaS terms, licence, distribution, supply,
//! outsourcing, joint venture, amendment, order form or cover page, DPA, BAA), read from its
//! title, so that the review picks the playbook for it and does not report as missing the
//! clauses an amendment or an order form leaves to the agreement it belongs to. The kinds and
//! their cues are data (`wording/document_types.toml`).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::structure::Structure;
use crate::wording::{check_cues, parse, WordingError};

/// The kind of document, with the words it was told by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentType {
    /// `"nda"`, `"services"`, `"cloud"`, `"licence"`, `"distribution"`, `"supply"`,
    /// `"outsourcing"`, `"joint_venture"`, `"amendment"`, `"order_form"`, `"dpa"`, `"baa"`,
    /// or `"other"`.
    pub id: String,
    /// In words: "Non-disclosure agreement".
    pub name: String,
    /// The built-in playbook for it.
    pub playbook: String,
    /// Whether rules reporting a clause as missing apply to it.
    pub missing_clause_rules: bool,
    /// The title (or opening) it was read from; `None` for `"other"`.
    pub start: Option<usize>,
    pub end: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Table {
    kind: Vec<Kind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Kind {
    id: String,
    name: String,
    cues: Vec<String>,
    #[serde(default)]
    opening: Vec<String>,
    not: Vec<String>,
    #[serde(default)]
    title_only: bool,
    playbook: String,
    missing_clause_rules: bool,
}

const TABLE: &str = "document_types";

pub(crate) const BUILT_IN: &str = include_str!("../../../wording/document_types.toml");

/// Parses and validates the document-type table: cues lower case, each playbook built in.
pub(crate) fn load(text: &str) -> Result<Table, WordingError> {
    let table: Table = parse(TABLE, text)?;
    if table.kind.is_empty() {
        return Err(WordingError::Empty { table: TABLE, field: "kind".into() });
    }
    for kind in &table.kind {
        check_cues(TABLE, &format!("kind {:?} cues", kind.id), &kind.cues)?;
        if !kind.opening.is_empty() {
            check_cues(TABLE, &format!("kind {:?} opening", kind.id), &kind.opening)?;
        }
        if kind.not.iter().any(|cue| cue.to_lowercase() != *cue) {
            return Err(WordingError::NotLowerCase {
                table: TABLE,
                field: format!("kind {:?} not", kind.id),
                cue: kind.not.join(", "),
            });
        }
        if !crate::playbook::BUILT_IN.iter().any(|(name, _)| *name == kind.playbook) {
            return Err(WordingError::Syntax {
                table: TABLE,
                message: format!("kind {:?} names the playbook {:?}, which is not built in", kind.id, kind.playbook),
            });
        }
    }
    Ok(table)
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| load(BUILT_IN).unwrap_or_default())
}

/// The document's kind, from its title, else its first 600 bytes.
pub fn document_type(text: &str, structure: &Structure) -> DocumentType {
    let (start, end) = match &structure.title {
        Some(title) => (title.start, title.end),
        None => (0, crate::floor_boundary(text, 600)),
    };
    let words = text[start..end].to_lowercase();
    let opening = text[..crate::floor_boundary(text, 1500)].to_lowercase();
    let found = |kind: &Kind, start: usize, end: usize| DocumentType {
        id: kind.id.clone(),
        name: kind.name.clone(),
        playbook: kind.playbook.clone(),
        missing_clause_rules: kind.missing_clause_rules,
        start: Some(start),
        end: Some(end),
    };
    for kind in &table().kind {
        let excluded = kind.not.iter().any(|cue| words.contains(cue.as_str()));
        if excluded {
            continue;
        }
        if kind.cues.iter().any(|cue| has_word_cue(&words, cue)) {
            return found(kind, start, end);
        }
        if let Some(at) =
            kind.opening.iter().filter_map(|cue| opening.find(cue.as_str()).map(|at| (at, cue.len()))).min()
        {
            return found(kind, at.0, at.0 + at.1);
        }
    }
    // No title, or one that says nothing of the kind ("Standard Terms"): the opening.
    let head_end = crate::floor_boundary(text, 600);
    let head = text[..head_end].to_lowercase();
    for kind in table().kind.iter().filter(|kind| !kind.title_only) {
        if kind.cues.iter().any(|cue| has_word_cue(&head, cue)) {
            return found(kind, 0, head_end);
        }
    }
    DocumentType {
        id: "other".into(),
        name: "Commercial agreement".into(),
        playbook: "default".into(),
        missing_clause_rules: true,
        start: None,
        end: None,
    }
}

/// A cue found at the start of a word ("nda" in "Mutual NDA", not in "addendum").
fn has_word_cue(words: &str, cue: &str) -> bool {
    words.match_indices(cue).any(|(at, _)| !words[..at].chars().next_back().is_some_and(char::is_alphanumeric))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(text: &str) -> String {
        document_type(text, &crate::structure::structure(text)).id
    }

    #[test]
    fn the_table_loads_and_refuses_an_unknown_playbook() {
        assert!(load(BUILT_IN).is_ok());
        let wrong = BUILT_IN.replacen("playbook = \"nda\"", "playbook = \"ndaa\"", 1);
        assert!(load(&wrong).is_err());
    }

    #[test]
    fn kinds_are_told_by_their_title() {
        for (title, kind) in [
            ("FIRST AMENDMENT TO SUPPLY AGREEMENT", "amendment"),
            ("AMENDED AND RESTATED DISTRIBUTION AGREEMENT", "distribution"),
            ("Mutual Non-Disclosure Agreement", "nda"),
            ("Mutual NDA Cover Page", "order_form"),
            ("Data Processing Agreement", "dpa"),
            ("Business Associate Agreement", "baa"),
            ("Cloud Service Agreement", "cloud"),
            ("Software License Agreement", "licence"),
            ("MASTER SERVICES AGREEMENT", "services"),
            ("JOINT VENTURE AGREEMENT", "joint_venture"),
            ("OUTSOURCING AGREEMENT", "outsourcing"),
            ("MANUFACTURING AGREEMENT", "supply"),
            ("ADDENDUM", "other"),
            ("Standard Terms\n\nThis Mutual Non-Disclosure Agreement incorporates these terms", "nda"),
            ("Mutual NDA\n\nThis MNDA consists of: (1) this Cover Page and (2) the Standard Terms", "order_form"),
        ] {
            let text = format!("{title}\n\nThis agreement is made between Acme Inc. and Beta LLC.\n");
            assert_eq!(kind_of(&text), kind, "{title}");
        }
    }
}
