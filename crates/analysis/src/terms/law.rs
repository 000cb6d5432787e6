//! Governing law and venue: the jurisdiction a governing-law sentence chooses and the courts
//! disputes go to.

use super::*;

/// The forum: the place after "courts of" / "courts located in" in a jurisdiction sentence.
pub(super) fn venue(text: &str, sentences: &[Sentence]) -> Option<Term> {
    for s in sentences.iter().filter(|s| s.has(&["jurisdiction", "venue", "forum"]) && s.has(&["court"])) {
        for cue in ["courts located in ", "courts of ", "courts in ", "courts sitting in ", "court of ", "located in "]
        {
            let Some(found) = s.lower.find(cue) else { continue };
            let from = s.start + found + cue.len();
            if from > s.end || !text.is_char_boundary(from) || inside_brackets(text, from) {
                continue;
            }
            let mut rest_start = from;
            for prefix in ["the ", "State of ", "state of ", "County of ", "county of ", "City of ", "city of "] {
                if text[rest_start..].starts_with(prefix) {
                    rest_start += prefix.len();
                }
            }
            if let Some((start, end, name)) =
                jurisdiction(text, rest_start).filter(|(_, _, name)| !is_not_a_place(name))
            {
                return Some(Term { end, value: name, start });
            }
        }
    }
    None
}

pub(super) const CANADIAN_PROVINCES: [&str; 6] =
    ["Ontario", "British Columbia", "Quebec", "Alberta", "Manitoba", "Nova Scotia"];

/// The jurisdiction after "laws of" in a governing-law sentence.
pub(super) fn governing_law(text: &str) -> Option<Term> {
    static LAWS_OF: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    // "laws of", "law of", "laws in", however spaced; "English law", "PRC Law".
    let laws_of = LAWS_OF
        .get_or_init(|| regex::Regex::new(r"(?i)\blaws?\s+(?:of|in)\s+|\b(?:english|prc)\s+laws?\b").ok())
        .as_ref()?;
    for found in laws_of.find_iter(text) {
        let before = lower_window(text, found.start().saturating_sub(200), found.start());
        let after = lower_window(text, found.end(), (found.end() + 120).min(text.len()));
        let chosen = ["governed", "construed", "governing law", "interpreted", "controlled by", "enforced"]
            .iter()
            .any(|cue| before.contains(cue))
            || ["shall govern", "will govern", "shall apply to the agreement", "shall apply to this agreement"]
                .iter()
                .any(|cue| after.contains(cue));
        if !chosen {
            continue;
        }
        let matched = found.as_str().to_lowercase();
        if matched.starts_with("english") {
            return Some(Term { value: "England".into(), start: found.start(), end: found.start() + "english".len() });
        }
        if matched.starts_with("prc") {
            return Some(Term {
                value: "People's Republic of China".into(),
                start: found.start(),
                end: found.start() + 3,
            });
        }
        let Some((start, end, name)) = named_jurisdiction(text, found.end())
            .filter(|(_, _, name)| !is_not_a_place(name))
            .or_else(|| state_referred_back(text, found.start(), found.end()))
        else {
            continue;
        };
        // "the laws of the United States of America and of the Commonwealth of Pennsylvania":
        // the state is the choice (federal law applies anyway).
        if name.eq_ignore_ascii_case("United States") || name.eq_ignore_ascii_case("United States of America") {
            // ASCII lower case keeps byte offsets, so a cue found in it is where it is in `text`.
            let after_name = end;
            let tail = text[after_name..crate::floor_boundary(text, after_name + 60)].to_ascii_lowercase();
            if let Some(of) = ["of the state of", "the state of", "of the commonwealth of"]
                .iter()
                .find_map(|cue| tail.find(cue).map(|i| i + cue.len()))
            {
                if let Some(state) = named_jurisdiction(text, after_name + of) {
                    return Some(jurisdiction_term(state));
                }
            }
        }
        return Some(jurisdiction_term((start, end, name)));
    }
    None
}

/// "the laws of that State" (or "such State", "said State"): the State the sentence named
/// before ("entered into in the State of New Jersey, and … the laws of that State").
fn state_referred_back(text: &str, laws_at: usize, after: usize) -> Option<(usize, usize, String)> {
    let next = text[after..crate::floor_boundary(text, after + 12)].to_ascii_lowercase();
    if !["that state", "such state", "said state"].iter().any(|cue| next.starts_with(cue)) {
        return None;
    }
    let from = crate::floor_boundary(text, laws_at.saturating_sub(200));
    let before = text[from..laws_at].to_ascii_lowercase();
    let at = before.rfind("state of ")?;
    jurisdiction(text, from + at + "state of ".len()).filter(|(_, _, name)| !is_not_a_place(name))
}

pub(super) fn jurisdiction_term((start, end, name): (usize, usize, String)) -> Term {
    // The place's usual name: "Commonwealth of Pennsylvania", "New York State" and "Federal
    // Republic of Germany" name Pennsylvania, New York and Germany.
    let name = name
        .strip_prefix("Commonwealth of ")
        .or_else(|| name.strip_prefix("Federal Republic of "))
        .or_else(|| name.strip_suffix(" State").filter(|rest| !rest.is_empty()))
        .map_or(name.clone(), str::to_owned);
    let value = match name.as_str() {
        "PRC" => "People's Republic of China".to_owned(),
        _ if CANADIAN_PROVINCES.contains(&name.as_str()) => format!("{name}, Canada"),
        _ => name,
    };
    Term { value, start, end }
}

/// The jurisdiction named from `from` on, past "the", "State of", "Commonwealth of",
/// "Province of" (in any case and spacing).
pub(super) fn named_jurisdiction(text: &str, from: usize) -> Option<(usize, usize, String)> {
    let mut rest_start = from;
    loop {
        let rest = &text[rest_start..];
        let trimmed = rest.trim_start();
        let lead = rest.len() - trimmed.len();
        let words: Vec<&str> = trimmed.splitn(3, char::is_whitespace).collect();
        let first = words.first().map(|w| w.to_ascii_lowercase()).unwrap_or_default();
        let second = words.get(1).map(|w| w.to_ascii_lowercase()).unwrap_or_default();
        if first == "the" {
            rest_start += lead + 3;
        } else if ["state", "commonwealth", "province"].contains(&first.as_str()) && second == "of" {
            let after_first = &trimmed[first.len()..];
            let of_at = after_first.find(|c: char| !c.is_whitespace()).unwrap_or(0);
            rest_start += lead + first.len() + of_at + 2;
        } else {
            break;
        }
    }
    jurisdiction(text, rest_start)
}

/// Capitalised words (joined by "of", "and" or "'s") from `from`: where they start and end
/// in `text`, and the name with single spaces.
pub(super) fn jurisdiction(text: &str, from: usize) -> Option<(usize, usize, String)> {
    let rest = &text[from..];
    let trimmed = rest.trim_start();
    let start = from + (rest.len() - trimmed.len());
    // Each word with its offset in `trimmed` (a name may be spaced or broken over lines).
    let mut words: Vec<(usize, &str)> = Vec::new();
    for (at, word) in words_with_offsets(&trimmed[..crate::floor_boundary(trimmed, 240)]) {
        // A parenthesis ends the name: "the Laws of England (English common and statutory Law)".
        if let Some((previous_at, previous)) = words.last() {
            if trimmed[previous_at + previous.len()..at].contains('(') {
                break;
            }
        }
        let clean = word.trim_end_matches([',', '.', ';', ')', ':']);
        // Words of an all-capitals sentence that follow the name ("… OF THE STATE OF NEW YORK
        // WITHOUT REGARD TO …") are not part of it.
        let capital = clean.chars().next().is_some_and(char::is_uppercase)
            && ![
                "WITHOUT",
                "APPLICABLE",
                "EXCLUDING",
                "EXCEPT",
                "GIVING",
                "AS",
                "IN",
                "TO",
                "FOR",
                "THAT",
                "WHICH",
                "REGARDLESS",
            ]
            .contains(&clean);
        let joiner = matches!(clean, "of" | "and" | "OF" | "AND") && !words.is_empty();
        if capital || joiner {
            words.push((at, clean));
            if clean.len() != word.len() {
                break; // punctuation ends the name
            }
        } else {
            break;
        }
        if words.len() >= 6 {
            break;
        }
    }
    while words.last().is_some_and(|(_, w)| matches!(*w, "of" | "and" | "OF" | "AND")) {
        words.pop();
    }
    let (last_at, last) = words.last()?;
    let name = words.iter().map(|(_, w)| *w).collect::<Vec<_>>().join(" ");
    Some((start, start + last_at + last.len(), name))
}
