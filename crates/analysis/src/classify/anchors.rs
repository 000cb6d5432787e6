//! Categories whose evidence is a key term's place (parties, dates, governing law): the
//! segment that holds the value the key-term readers found.

use super::*;

/// Segments that hold a value the key-term and structure readers found, by category: the
/// title (Document Name), the parties block (Parties), the dates, the governing law, the
/// renewal term and its notice. These readers are precise where the bag-of-words model is
/// not.
pub(super) fn anchored_values(
    text: &str,
    segments: &[Segment],
    terms: &crate::terms::Terms,
    structure: &crate::structure::Structure,
) -> Vec<(usize, usize)> {
    let segment_at = |offset: usize| segments.iter().position(|s| s.start <= offset && offset < s.end.max(s.start + 1));
    let category = |name: &str| CATEGORIES.iter().position(|c| *c == name);
    let mut out = Vec::new();
    let mut add = |name: &str, offset: Option<usize>| {
        if let (Some(c), Some(index)) = (category(name), offset.and_then(segment_at)) {
            out.push((c, index));
        }
    };
    add("Document Name", structure.title.as_ref().map(|t| t.start));
    for party in &terms.parties {
        add("Parties", Some(party.start));
    }
    add("Agreement Date", terms.agreement_date.as_ref().map(|t| t.start));
    // Only an effective date the contract states: CUAD marks none where the agreement date
    // (which the reader reports in its place) is all there is, or marks the term clause.
    let stated_effective_date =
        terms.effective_date.as_ref().filter(|date| crate::terms::is_stated_effective_date(text, date));
    add("Effective Date", stated_effective_date.map(|t| t.start));
    add("Expiration Date", terms.expiration_date.as_ref().map(|t| t.start));
    add("Governing Law", terms.governing_law.as_ref().map(|t| t.start));
    add("Renewal Term", terms.renewal_term.as_ref().map(|t| t.start));
    add("Notice Period to Terminate Renewal", terms.non_renewal_notice.as_ref().map(|t| t.start));
    for section in &structure.sections {
        let Some(heading) = &section.heading else { continue };
        if is_contents_line(&text[section.start..section.end].to_lowercase()) {
            continue;
        }
        let lower = heading.to_lowercase();
        if is_disclaimer_heading(&lower) {
            continue;
        }
        if let Some((name, _)) = HEADINGS.iter().find(|(_, cues)| cues.iter().any(|cue| lower.contains(cue))) {
            add(name, Some(section.start));
        }
    }
    out
}
