//! The limitation of liability as a lawyer reads it: the general cap and its basis (months of
//! fees, a fixed amount, a multiple, the greater or lesser of two), caps that apply to some
//! claims or products only (trials, free services, "Enhanced Claims"), what is carved out of
//! the cap and whether a carve-out is uncapped or under a higher cap, the waiver of
//! consequential damages, and whom each cap protects. The cues are data
//! (`wording/liability.toml`).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::*;
use crate::wording::{check_cues, parse, WordingError};

/// What a cap is measured by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapBasis {
    /// The fees paid or payable (over `months_of_fees`, when stated).
    FeesPaid,
    /// A fixed amount.
    FixedAmount,
    /// The greater of an amount and the fees.
    GreaterOf,
    /// The lesser of an amount and the fees.
    LesserOf,
    /// A multiple of the fees or of another cap ("three times (3x) the General Cap").
    Multiple,
    /// A cap the text names but does not define ("the General Cap Amount", set on a cover page).
    Named,
}

/// A cap on liability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiabilityCap {
    pub basis: CapBasis,
    pub amount: Option<Money>,
    /// "fees paid in the twelve (12) months before the claim" → 12.
    pub months_of_fees: Option<u32>,
    /// "three times (3x)" → 3.
    pub multiple: Option<f64>,
    /// The cap's defined name, when it has one ("General Cap").
    pub named: Option<String>,
    /// For a cap on some claims or products only, the words saying which ("Trials and
    /// Betas"); `None` for the general cap.
    pub applies_to: Option<String>,
    /// Whom it protects: "each party", or the party the sentence names ("Provider").
    pub protects: String,
    /// The sentence the cap was read from.
    pub start: usize,
    pub end: usize,
}

/// Claims taken out of the general cap.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CarveOut {
    /// What the claims are, by kind (`wording/liability.toml`): "indemnification",
    /// "confidentiality", …; empty when they are a defined class not defined in this
    /// document (a cover page's "Unlimited Claims").
    pub kinds: Vec<String>,
    /// The defined name of the class of claims ("Uncapped Claims"), when they have one.
    pub named: Option<String>,
    /// Under a higher cap of their own (Bonterms' "Enhanced Claims") rather than uncapped.
    pub capped: bool,
    /// The sentence or definition that lists them.
    pub start: usize,
    pub end: usize,
}

/// Everything the limitation-of-liability clauses say.
#[derive(Default)]
pub(super) struct Liability {
    pub(super) cap: Option<LiabilityCap>,
    pub(super) other_caps: Vec<LiabilityCap>,
    pub(super) carve_outs: Vec<CarveOut>,
    /// `value`: whom the waiver protects ("each party" or a party's name).
    pub(super) damages_waiver: Option<Term>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Wording {
    cap_cues: Vec<String>,
    side_scope_cues: Vec<String>,
    exclusion_cues: Vec<String>,
    damages_kinds: Vec<String>,
    waiver_cues: Vec<String>,
    carve_out: Vec<CarveOutKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CarveOutKind {
    kind: String,
    cues: Vec<String>,
    #[serde(default)]
    supersedes: Vec<String>,
}

const TABLE: &str = "liability";

/// Parses and validates the liability wording table.
pub(crate) fn load(text: &str) -> Result<Wording, WordingError> {
    let wording: Wording = parse(TABLE, text)?;
    check_cues(TABLE, "cap_cues", &wording.cap_cues)?;
    check_cues(TABLE, "side_scope_cues", &wording.side_scope_cues)?;
    check_cues(TABLE, "exclusion_cues", &wording.exclusion_cues)?;
    check_cues(TABLE, "damages_kinds", &wording.damages_kinds)?;
    check_cues(TABLE, "waiver_cues", &wording.waiver_cues)?;
    if wording.carve_out.is_empty() {
        return Err(WordingError::Empty { table: TABLE, field: "carve_out".into() });
    }
    for kind in &wording.carve_out {
        check_cues(TABLE, &format!("carve_out {:?}", kind.kind), &kind.cues)?;
    }
    Ok(wording)
}

pub(crate) const BUILT_IN: &str = include_str!("../../../../wording/liability.toml");

fn wording() -> &'static Wording {
    static WORDING: OnceLock<Wording> = OnceLock::new();
    WORDING.get_or_init(|| load(BUILT_IN).unwrap_or_default())
}

/// The kinds of carve-out the wording table names, for playbooks to refer to.
pub fn carve_out_kinds() -> Vec<&'static str> {
    wording().carve_out.iter().map(|kind| kind.kind.as_str()).collect()
}

fn has_any(lower: &str, cues: &[String]) -> bool {
    cues.iter().any(|cue| lower.contains(cue.as_str()))
}

fn first_of(lower: &str, cues: &[String]) -> Option<usize> {
    cues.iter().filter_map(|cue| lower.find(cue.as_str())).min()
}

pub(super) fn liability(text: &str, segments: &[Sentence]) -> Liability {
    let words = wording();
    let sentences: Vec<Sentence> =
        join_broken_sentences(text, segments).iter().flat_map(|segment| split_sentences(text, segment)).collect();
    let about_liability = |s: &Sentence| s.has(&["liabilit", "liable"]);
    let mut caps: Vec<LiabilityCap> = Vec::new();
    let mut cap_sentences: Vec<usize> = Vec::new();
    for s in sentences.iter().filter(|s| about_liability(s)) {
        if let Some(cap) = read_cap(text, s, &sentences) {
            cap_sentences.push(s.start);
            caps.push(cap);
        }
    }
    let general = caps.iter().position(|cap| cap.applies_to.is_none());
    let cap = general.map(|at| caps.remove(at));
    let mut out = Liability { cap, other_caps: caps, ..Liability::default() };
    let side_scopes: Vec<String> =
        out.other_caps.iter().filter_map(|cap| cap.applies_to.as_ref().map(|a| a.to_ascii_lowercase())).collect();
    for s in &sentences {
        let is_cap = cap_sentences.contains(&s.start);
        let about_cap = s.has(&["liabilit", " cap", "cap ", "limitation", "limits"]);
        if let Some((from, to)) = (about_cap && !only_about_the_waiver(s)).then(|| excluded_part(s, is_cap)).flatten() {
            let kinds = kinds_of(&without_exceptions(&s.lower[from..to]));
            if !kinds.is_empty() {
                out.carve_outs.push(CarveOut { kinds, named: None, capped: false, start: s.start, end: s.end });
            }
            for name in claim_names(&text[s.start + from..s.start + to]) {
                let capped = side_scopes.iter().any(|scope| scope.contains(&name.to_ascii_lowercase()));
                match definition_of(&sentences, &name) {
                    Some(definition) => {
                        let kinds = kinds_of(&without_exceptions(&definition.lower));
                        if !kinds.is_empty() {
                            out.carve_outs.push(CarveOut {
                                kinds,
                                named: Some(name),
                                capped,
                                start: definition.start,
                                end: definition.end,
                            });
                        }
                    }
                    // Defined on a cover page: what they are is not in this document.
                    None if !capped => out.carve_outs.push(CarveOut {
                        kinds: Vec::new(),
                        named: Some(name),
                        capped,
                        start: s.start,
                        end: s.end,
                    }),
                    None => {}
                }
            }
        }
        if out.damages_waiver.is_none()
            && about_liability(s)
            && has_any(&s.lower, &words.damages_kinds)
            && has_any(&s.lower, &words.waiver_cues)
        {
            let value = protected_party(text, s, s.lower.len());
            out.damages_waiver = Some(Term { value, start: s.start, end: s.end });
        }
    }
    out.carve_outs.sort_by_key(|c| (c.start, c.end));
    out.carve_outs.dedup_by_key(|c| (c.start, c.end));
    out
}

/// What a cap is measured by, read from its sentence from `from` (the cap words) on.
struct Measure {
    basis: CapBasis,
    amount: Option<Money>,
    months_of_fees: Option<u32>,
    multiple: Option<f64>,
}

fn measure(text: &str, s: &Sentence, from: usize) -> Option<Measure> {
    let after = &s.lower[from..];
    let amount = find_money(&text[s.start + from..s.end], s.start + from)
        .into_iter()
        .max_by(|a, b| a.amount.total_cmp(&b.amount));
    let months_of_fees = s
        .has(&["fees", "amounts paid", "amount paid", "charges", "paid or payable", "amounts payable"])
        .then(|| s.periods(text).into_iter().find(|p| p.days >= 28).map(|p| p.months()))
        .flatten();
    let multiple = multiple_in(after);
    let basis = if after.contains("greater of") {
        CapBasis::GreaterOf
    } else if after.contains("lesser of") {
        CapBasis::LesserOf
    } else if multiple.is_some() {
        CapBasis::Multiple
    } else if months_of_fees.is_some() || s.has(&["fees paid", "amounts paid", "paid or payable"]) {
        CapBasis::FeesPaid
    } else if amount.is_some() {
        CapBasis::FixedAmount
    } else {
        return None;
    };
    Some(Measure { basis, amount, months_of_fees, multiple })
}

/// A cap read from one sentence; a cap it names ("will not exceed the General Cap") is
/// measured by that name's definition.
fn read_cap(text: &str, s: &Sentence, sentences: &[Sentence]) -> Option<LiabilityCap> {
    let words = wording();
    let at = first_of(&s.lower, &words.cap_cues)?;
    if only_a_waiver(s) {
        return None;
    }
    let before = &s.lower[..at];
    let applies_to = words
        .side_scope_cues
        .iter()
        .filter_map(|cue| before.rfind(cue.as_str()))
        .max()
        .map(|from| scope_words(text, s.start + from, s.start + at));
    let named = cap_name(&text[s.start + at..s.end]);
    let stated = measure(text, s, at).filter(|m| m.amount.is_some() || m.months_of_fees.is_some());
    let measured = stated.or_else(|| {
        let definition = definition_of(sentences, named.as_deref()?)?;
        read_definition(text, &definition, sentences, 0)
    });
    let Measure { basis, amount, months_of_fees, multiple } = match measured {
        Some(measure) => measure,
        None if named.is_some() => {
            Measure { basis: CapBasis::Named, amount: None, months_of_fees: None, multiple: None }
        }
        None => measure(text, s, at)?,
    };
    Some(LiabilityCap {
        basis,
        amount,
        months_of_fees,
        multiple,
        named,
        applies_to,
        protects: protected_party(text, s, at),
        start: s.start,
        end: s.end,
    })
}

/// A cap's definition ("“General Cap” means amounts paid … in the 12 months …"); a multiple
/// of another cap ("three times (3x) the General Cap") takes that cap's months of fees.
fn read_definition(text: &str, definition: &Sentence, sentences: &[Sentence], depth: u8) -> Option<Measure> {
    let means = definition.lower.find(" mean")?;
    let mut found = measure(text, definition, means)?;
    if found.months_of_fees.is_none() && depth < 2 {
        let base = cap_name(&text[definition.start + means..definition.end]);
        if let Some(base) =
            base.and_then(|name| definition_of(sentences, &name)).filter(|d| d.start != definition.start)
        {
            found.months_of_fees = read_definition(text, &base, sentences, depth + 1).and_then(|m| m.months_of_fees);
        }
    }
    Some(found)
}

/// A sentence about kinds of damages no party is liable for (and no cap).
fn only_a_waiver(s: &Sentence) -> bool {
    let words = wording();
    has_any(&s.lower, &words.damages_kinds)
        && has_any(&s.lower, &words.waiver_cues)
        && !s.has(&["not exceed", "will not be more than", "shall not be more than", "limited to", "greater of"])
}

/// An exclusion from the damages waiver alone ("Section 8.2 (Damages Waiver) does not apply
/// to … a breach of Section 10"), which leaves the cap standing.
fn only_about_the_waiver(s: &Sentence) -> bool {
    s.has(&["waiver", "consequential", "indirect"])
        && !s.has(&["cap", "limitation of liability", "limitations of liability", "limitations and exclusions"])
        && !s.has(&["exclusions and limitations", "limitations and waivers", "limitations in this"])
}

/// The words of a sentence that take claims out of the cap: from the exclusion cue on; in a
/// cap sentence, an exception before the cap words ("Except for indemnification
/// obligations, …") up to them, or a proviso after them.
fn excluded_part(s: &Sentence, is_cap: bool) -> Option<(usize, usize)> {
    let words = wording();
    let cue = first_of(&s.lower, &words.exclusion_cues)?;
    let cap = first_of(&s.lower, &words.cap_cues).unwrap_or(s.lower.len());
    Some(if is_cap && cue < cap { (cue, cap) } else { (cue, s.lower.len()) })
}

/// Text without the exceptions to an exception ("breach of Section 18 (Confidentiality),
/// excluding breaches related to Customer Data"), which name what stays under the cap.
fn without_exceptions(lower: &str) -> String {
    static PATTERN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    match PATTERN.get_or_init(|| {
        regex::Regex::new(r"\b(?:excluding|except for|except with respect to|other than)\b[^,;()]*").ok()
    }) {
        Some(pattern) => {
            // The leading cue of the carve-out itself stays: only exceptions after other words go.
            let head = lower.len().min(20);
            let (first, rest) = lower.split_at(crate::floor_boundary(lower, head));
            format!("{first}{}", pattern.replace_all(rest, " "))
        }
        None => lower.to_owned(),
    }
}

/// The kinds of claims the words name.
fn kinds_of(lower: &str) -> Vec<String> {
    let named: Vec<&CarveOutKind> = wording().carve_out.iter().filter(|k| has_any(lower, &k.cues)).collect();
    let superseded: Vec<&String> = named.iter().flat_map(|k| &k.supersedes).collect();
    named.iter().filter(|k| !superseded.contains(&&k.kind)).map(|k| k.kind.clone()).collect()
}

/// Defined names of classes of claims in a sentence ("Enhanced Claims", "Uncapped Claims").
fn claim_names(sentence: &str) -> Vec<String> {
    static PATTERN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let Some(pattern) = PATTERN.get_or_init(|| regex::Regex::new(r"\b((?:[A-Z][a-z]+ ){1,3}Claims)\b").ok()).as_ref()
    else {
        return Vec::new();
    };
    let mut names: Vec<String> =
        pattern.captures_iter(sentence).filter_map(|c| Some(c.get(1)?.as_str().to_owned())).collect();
    names.dedup();
    names
}

/// The name of a cap after the cap words ("the General Cap Amount", "the Enhanced Cap").
fn cap_name(after: &str) -> Option<String> {
    static PATTERN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| {
            regex::Regex::new(r"\bthe\W{0,40}?((?:[A-Z][a-z]+ ){0,3}(?:Cap Amount|Cap|Liability Limit|Limit))\b").ok()
        })
        .as_ref()?;
    let head = &after[..crate::floor_boundary(after, 160)];
    pattern.captures(head).and_then(|c| Some(c.get(1)?.as_str().to_owned()))
}

/// The sentence that defines `name` ("“**General Cap**” means …", "\"General Cap\" shall mean …").
fn definition_of(sentences: &[Sentence], name: &str) -> Option<Sentence> {
    let lower_name = name.to_ascii_lowercase();
    sentences
        .iter()
        .find(|s| {
            s.lower.find(&lower_name).is_some_and(|at| {
                let after = &s.lower[at + lower_name.len()..];
                let after = after.trim_start_matches(['*', '"', '”', '’', '\'', ')', ' ']);
                let opening = s.lower[..at].trim_start_matches(|c: char| !c.is_alphanumeric() || c == '*');
                (after.starts_with("means") || after.starts_with("shall mean") || after.starts_with("has the meaning"))
                    && opening.len() <= 2
            })
        })
        .cloned()
}

/// A multiple ("three times (3x)", "2x", "two times", "200%").
fn multiple_in(lower: &str) -> Option<f64> {
    static PATTERN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| {
            regex::Regex::new(
                r"\b(?:(two|three|four|five|ten)\s+times|(\d+(?:\.\d+)?)\s*(?:x|times)\b|\((\d+(?:\.\d+)?)x\)|(\d{3})\s*(?:%|percent))",
            )
            .ok()
        })
        .as_ref()?;
    let found = pattern.captures(lower)?;
    if let Some(word) = found.get(1) {
        return ["two", "three", "four", "five"]
            .iter()
            .position(|w| *w == word.as_str())
            .map(|i| i as f64 + 2.0)
            .or((word.as_str() == "ten").then_some(10.0));
    }
    if let Some(number) = found.get(2).or(found.get(3)) {
        return number.as_str().parse().ok();
    }
    found.get(4).and_then(|percent| percent.as_str().parse::<f64>().ok()).map(|p| p / 100.0)
}

/// The words naming what a side cap is for, from its cue to the verb ("Trials and Betas").
fn scope_words(text: &str, from: usize, to: usize) -> String {
    // From the "for" that introduces the cue's phrase ("for Trials and Betas"), when close.
    let lead = text[crate::floor_boundary(text, from.saturating_sub(30))..from].to_ascii_lowercase();
    let from = lead.rfind("for ").map_or(from, |at| from - (lead.len() - at) + 4);
    let window = &text[from..crate::floor_boundary(text, to.max(from))];
    let lower = window.to_ascii_lowercase();
    let end = [",", " will ", " shall ", " is ", " are ", ";", "’s ", "'s ", " arising", " under ", " relating"]
        .iter()
        .filter_map(|stop| lower.find(stop))
        .min()
        .unwrap_or(window.len())
        .min(80);
    let words = window[..crate::floor_boundary(window, end)].trim_matches(|c: char| c == '*' || c.is_whitespace());
    let words = ["all ", "any ", "the "].iter().fold(words, |w, lead| w.strip_prefix(lead).unwrap_or(w));
    words.to_owned()
}

/// Whom a cap (or waiver) ending its subject at `at` protects: "each party" when the sentence
/// speaks of each, either or neither party, else the party whose liability it is
/// ("GitHub’s liability", "the liability of Provider").
fn protected_party(text: &str, s: &Sentence, at: usize) -> String {
    let before = &s.lower[..at.min(s.lower.len())];
    if ["each party", "either party", "neither party", "the parties", "both parties", "any party", "a party"]
        .iter()
        .any(|cue| before.contains(cue))
    {
        return "each party".into();
    }
    static POSSESSIVE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let possessive = POSSESSIVE
        .get_or_init(|| {
            regex::Regex::new(r"\b([A-Z][\w.&-]*(?: [A-Z][\w.&-]*){0,3})(?:’s|'s|’|')\s+(?:\w+\s+){0,3}?liabilit|\bliability of (?:the )?([A-Z][\w.&-]*(?: [A-Z][\w.&-]*){0,3})").ok()
        })
        .as_ref();
    let original = &text[s.start..s.start + before.len()];
    // "Provider offers no warranty … and its liability …": the party the clause is about.
    if before.contains(" its liabilit") || before.contains(" its total") || before.contains(" its aggregate") {
        static SUBJECT: OnceLock<Option<regex::Regex>> = OnceLock::new();
        let subject = SUBJECT
            .get_or_init(|| regex::Regex::new(r"\b([A-Z][A-Za-z]+) (?:offers|will|shall|may|has|agrees|is)\b").ok())
            .as_ref();
        if let Some(name) = subject.and_then(|p| p.captures(original)).and_then(|c| c.get(1)) {
            return name.as_str().to_owned();
        }
    }
    possessive
        .and_then(|p| p.captures_iter(original).last())
        .and_then(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_owned()))
        .unwrap_or_else(|| "each party".into())
}
