//! Segments that are no clause (a table of contents line, an attachment's title, a notice of
//! the document itself, a disclaimer heading) and the section heading each segment is under.

use super::*;

/// A short copyright or licence notice of the document itself ("© 2021. Free to use under
/// CC BY 4.0."), which the licence categories would otherwise take for a licence grant; or a
/// filing's page footer ("Source: ACME CORP, 8-K, 8/15/2019", on every page of an EDGAR
/// exhibit), which the model took for a title or a date in 165 places over the 413 CUAD
/// contracts (and which CUAD marks in 3 of 2,641).
pub(super) fn is_notice_of_the_document_itself(lower: &str) -> bool {
    let copyright = lower.starts_with('©') || lower.starts_with("copyright") || lower.starts_with("(c) ");
    let filing_footer = lower.starts_with("source: ")
        && lower.rsplit(' ').next().is_some_and(|date| date.split('/').count() == 3 && date.len() <= 10);
    lower.len() < 200 && (copyright || filing_footer)
}

/// A line of a table of contents or an index ("Liability, Indemnification and Insurance
/// 24", "11.5 Insurance. 40"): short, few words, ending in a page number, and no period,
/// share or amount a clause would state. It names clauses without being one.
pub(super) fn is_contents_line(lower: &str) -> bool {
    let trimmed = lower.trim_end();
    let page = trimmed.len() - trimmed.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let before = &trimmed[..trimmed.len() - page];
    let words = lower.split(|c: char| !c.is_ascii_lowercase()).filter(|w| w.len() >= 3).count();
    let states_a_term = ["day", "month", "year", "%", "$", "percent"].iter().any(|unit| lower.contains(unit));
    trimmed.len() <= 100
        && (1..=3).contains(&page)
        && before.ends_with([' ', '\t', '\n', '.'])
        && (1..=8).contains(&words)
        && !states_a_term
}

/// The title line of an exhibit, schedule or annex ("EXHIBIT A", "Schedule 2 Direct
/// Competitors"): it names what follows without being a clause, yet its few words scored up to
/// 0.83 as a non-compete where the whole-document model had judged one present.
pub(super) fn is_attachment_title(lower: &str) -> bool {
    let mut words = lower.split_whitespace();
    let opens = ["exhibit", "schedule", "annex", "appendix", "attachment"];
    let first = words.next().map(|first| first.trim_matches(|c: char| !c.is_alphabetic()));
    // Counted without collecting: this runs on every segment of every review.
    first.is_some_and(|first| opens.contains(&first)) && words.count() < 6
}

/// Whether `text` has a word of three letters or more: a stray letter of drawn or vertical
/// text ("V", "T E R") is no clause, whatever its few features score.
pub(super) fn has_a_word(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic()).any(|word| word.chars().count() >= 3)
}

/// Section headings that name a category ("12.3 Governing Law."): the section is evidence of
/// it even when its wording is unusual (a cover-page reference, a one-line clause), as in
/// templates such as Bonterms, whose clauses point to a cover page.
pub(super) const HEADINGS: &[(&str, &[&str])] = &[
    ("Governing Law", &["governing law", "choice of law", "applicable law"]),
    ("Anti-Assignment", &["assignment"]),
    ("Cap on Liability", &["limitation of liability", "limitations of liability", "limitation on liability"]),
    ("Insurance", &["insurance"]),
    ("Audit Rights", &["audit"]),
    ("Non-Compete", &["non-compet", "noncompet", "non-competition"]),
    ("No-Solicit of Employees", &["non-solicit", "nonsolicit", "no-solicit"]),
    ("Exclusivity", &["exclusivity"]),
    ("Most Favored Nation", &["most favored", "most favoured"]),
    ("Termination for Convenience", &["termination for convenience"]),
    ("Change of Control", &["change of control", "change in control"]),
    ("Third Party Beneficiary", &["third party beneficiar", "third-party beneficiar"]),
    ("Source Code Escrow", &["escrow"]),
    ("Liquidated Damages", &["liquidated damages"]),
    ("Non-Disparagement", &["disparage"]),
    ("Covenant Not to Sue", &["covenant not to sue"]),
];

/// A heading that disclaims what it names ("No Third Party Beneficiaries"): the section says
/// the contract has no such clause. ("No Assignment", "No Solicitation" are the clauses.)
pub(super) fn is_disclaimer_heading(lower: &str) -> bool {
    let unnumbered = lower.trim_start_matches(|c: char| !c.is_alphabetic());
    ["no third", "no intended third", "no other third"].iter().any(|cue| unnumbered.starts_with(cue))
}

/// The heading of the section each segment is in: that of the last numbered section opened
/// at or before it, where an unheaded top-level section ("13.") ends the one before.
pub fn section_headings<'a>(segments: &[Segment], structure: &'a crate::structure::Structure) -> Vec<Option<&'a str>> {
    let mut sections = structure.sections.iter().peekable();
    let mut current: Option<&'a str> = None;
    segments
        .iter()
        .map(|segment| {
            while let Some(section) = sections.next_if(|s| s.start <= segment.start) {
                match &section.heading {
                    Some(heading) => current = Some(heading),
                    None if !section.number.contains(['(', '.']) => current = None,
                    None => {}
                }
            }
            current
        })
        .collect()
}

/// Below this, a category judged present with no segment above its evidence threshold is not
/// evidenced by its best segment after all: a segment scored 0.13 is noise to a reader.
/// Not for a category reported in every contract (the title, the parties), nor for one the
/// whole document judged present.
pub(super) const ALWAYS_PRESENT_FLOOR: f32 = 0.2;

/// Categories a contract states once: CUAD marks one span for nearly every contract (332
/// Document Name spans in 325 contracts, 292 Governing Law in 283).
pub(super) const SINGLE_VALUED: &[&str] =
    &["Document Name", "Agreement Date", "Effective Date", "Expiration Date", "Governing Law"];

/// Categories whose evidence is a name or a date, which a heading line can be on its own.
pub(super) const NAMES_AND_DATES: &[&str] =
    &["Document Name", "Parties", "Agreement Date", "Effective Date", "Expiration Date", "Governing Law"];

/// Per segment, whether it is a numbered section's heading and nothing more ("9.
/// EXCLUSIVITY", "Section 4. Records; Audits.").
pub(super) fn heading_only_segments(
    text: &str,
    segments: &[Segment],
    structure: &crate::structure::Structure,
) -> Vec<bool> {
    let mut sections = structure.sections.iter().peekable();
    segments
        .iter()
        .map(|segment| {
            while sections.next_if(|s| s.start < segment.start).is_some() {}
            let Some(section) = sections.peek().filter(|s| s.start == segment.start) else {
                return false;
            };
            let Some(heading) = &section.heading else {
                return false;
            };
            let words = |t: &str| t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count();
            // The segment's words: the number ("Section", "9"), the heading's, nothing else.
            words(segment.text(text)) <= words(heading) + words(&section.number) + 1
        })
        .collect()
}
