//! The agreement date and the effective date: which of the dates in the opening the contract
//! is made on, and which one it says it takes effect on.

use chrono::NaiveDate;

use super::*;

/// The date the agreement is made: an early date introduced by "dated", "as of", "made" or
/// "entered into"; else the first date of the opening. None when the opening leaves its date
/// blank ("made this ____ day of ________, 20__") before any date it fills in: a form's blank
/// is no licence to take a later date for it.
pub(super) fn agreement_date(text: &str, dates: &[(usize, usize, NaiveDate)]) -> Option<Term> {
    // (Not a date given as an end: "The Term … is hereby extended to January 20, 2012".)
    let an_end = |at: usize| introduces_an_end(sentence_so_far(&lower_window(text, at.saturating_sub(100), at)));
    let dates: Vec<(usize, usize, NaiveDate)> = dates.iter().filter(|(at, _, _)| !an_end(*at)).copied().collect();
    let opening: Vec<&(usize, usize, NaiveDate)> =
        dates.iter().filter(|(s, e, _)| *s < 5000 && !dates_another_agreement(text, *s, *e)).collect();
    let introduced = opening.iter().find(|(s, _, _)| {
        let before = lower_window(text, s.saturating_sub(80), *s);
        ["dated", "as of", "made", "entered into", "date:"].iter().any(|cue| before.contains(cue))
    });
    let Some(chosen) = introduced.or(opening.first()) else {
        return signing_date(text, &dates);
    };
    if blank_date(text).is_some_and(|blank| blank < chosen.0) {
        return None;
    }
    Some(Term { value: chosen.2.to_string(), start: chosen.0, end: chosen.1 })
}

/// With no date in the opening, the day the agreement was signed: the latest date in the
/// signature block ("Signed and effective this 25th day of May, 1999", dates beside the
/// signatures), within 1,500 bytes after "IN WITNESS WHEREOF", or else in the last 3,000
/// bytes of the text.
fn signing_date(text: &str, dates: &[(usize, usize, NaiveDate)]) -> Option<Term> {
    let lower_tail_from = crate::floor_boundary(text, text.len().saturating_sub(3000));
    let witness = ["IN WITNESS WHEREOF", "In Witness Whereof", "IN WITNESS THEREOF"]
        .iter()
        .filter_map(|cue| text.rfind(cue))
        .max();
    let (from, to) = match witness {
        Some(at) => (at, at + 1500),
        None => (lower_tail_from, text.len()),
    };
    dates
        .iter()
        .filter(|(at, end, _)| (from..to).contains(at) && !dates_another_agreement(text, *at, *end))
        .max_by_key(|(_, _, date)| *date)
        .map(|(at, end, date)| Term { value: date.to_string(), start: *at, end: *end })
}

/// Where the opening (first 5,000 bytes) leaves the agreement's date blank: "dated as of
/// ____________", "this [ ] day of [ ], 20__", "made on [DATE]".
pub(super) fn blank_date(text: &str) -> Option<usize> {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| {
            regex::Regex::new(
                r"(?i)\b(?:dated|as of|made|entered into|effective)\b[^.;\n]{0,40}?(?:_{3,}|\[\s*\]|\[\s*(?:date|insert[^\]]{0,20}|fill in[^\]]{0,20}|[•●]|\.{3,})\s*\]|\b(?:19|20)_{2}\b|\bday of\s*,)",
            )
            .ok()
        })
        .as_ref()?;
    pattern.find(&text[..crate::floor_boundary(text, 5000)]).map(|found| found.end())
}

/// A date that is no agreement's: one in an EDGAR filing's footer ("Source: ACME CORP, 10-K, 3/1/2019"): the day the
/// filing was made, not a date of the agreement.
pub(super) fn dates_no_agreement(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..at].trim_start().to_ascii_lowercase();
    // Also the date a version of online terms was published or retired ("Version Effective
    // Date: November 16, 2020", "Last updated: …", "deprecated effective …"), which dates the
    // form, not an agreement.
    line.starts_with("source:")
        || [
            "version effective date",
            "last updated",
            "last modified",
            "last revised",
            "version date",
            "deprecated",
            "superseded",
        ]
        .iter()
        .any(|cue| line.contains(cue))
}

/// A date of some other agreement the contract mentions: one the recitals tell of
/// ("WHEREAS, A and B entered into a Supply Agreement dated May 1, 2019"), or one followed by
/// that agreement's defined name ("dated as of June 21, 2006 (the \"Arrangement Agreement\")").
pub(super) fn dates_another_agreement(text: &str, start: usize, end: usize) -> bool {
    let window = lower_window(text, start.saturating_sub(120), start);
    let before = sentence_so_far(&window);
    let after = lower_window(text, end, end + 60);
    let recital = ["whereas", "entered into a ", "entered into an ", "are parties to", "is party to", "is a party to"]
        .iter()
        .any(|cue| before.contains(cue));
    let named = after.trim_start_matches([' ', ',', '\n']).strip_prefix("(the ").is_some_and(|rest| {
        let name = rest.trim_start_matches(['"', '“']);
        let name = &name[..name.find(['"', '”']).unwrap_or(name.len())];
        name.contains("agreement") && name != "agreement"
    });
    recital || named
}

/// The effective date: a date defined as the "Effective Date" (followed by it in quotes),
/// else one introduced closely by "effective as of", "effective date", "commencing", …;
/// else (by the caller) the agreement date.
pub(super) fn effective_date(text: &str, dates: &[(usize, usize, NaiveDate)]) -> Option<Term> {
    let term = |(s, e, v): &(usize, usize, NaiveDate)| Term { value: v.to_string(), start: *s, end: *e };
    let own = || dates.iter().filter(|(s, e, _)| !dates_another_agreement(text, *s, *e));
    let defined = own().find(|(_, e, _)| is_defined_as_effective_date(text, *e));
    if let Some(date) = defined {
        return Some(term(date));
    }
    own().find(|(s, _, _)| follows_an_effective_cue(text, *s)).map(term)
}

/// A date followed by its definition as the "Effective Date".
pub(super) fn is_defined_as_effective_date(text: &str, date_end: usize) -> bool {
    let after = lower_window(text, date_end, date_end + 40);
    after.contains("\"effective date\"") || after.contains("“effective date”")
}

/// A date after "effective as of", "commencing", "Effective Date:" and the like (white space
/// collapsed, no end between cue and date), or the day the agreement or its term begins,
/// comes into force or is signed and effective, which CUAD reads as the effective date too.
pub(super) fn follows_an_effective_cue(text: &str, date_start: usize) -> bool {
    // The last 40 characters with runs of white space as one (a cover page's "EFFECTIVE
    // DATE", blank lines and centring spaces, "JUNE 1, 1998").
    let wide = lower_window(text, date_start.saturating_sub(200), date_start);
    let collapsed = wide.split_whitespace().collect::<Vec<_>>().join(" ") + " ";
    let before = &collapsed[crate::floor_boundary(&collapsed, collapsed.len().saturating_sub(41))..];
    // "commencing" starts the agreement or its term, not a fiscal year or a forecast.
    let ended_since = |from: usize| {
        ["expir", "until", "terminat", "through", " end", "conclud"].iter().any(|cue| before[from..].contains(cue))
    };
    // "deprecated effective 30 November 2021": the day something stopped, not started.
    if ["deprecated effective", "superseded effective", "retired effective"].iter().any(|cue| before.contains(cue)) {
        return false;
    }
    let commenced =
        ["commenc", "begin on", "begins on", "begin as of"].iter().filter_map(|cue| before.rfind(cue)).max();
    let commences = commenced.is_some_and(|from| !ended_since(from)) && {
        let sentence = lower_window(text, date_start.saturating_sub(120), date_start);
        let sentence = sentence.rsplit(['\n', ';']).next().unwrap_or("");
        ["agreement", "term", "contract"].iter().any(|cue| sentence.contains(cue))
    };
    const CUES: [&str; 10] = [
        "effective as of",
        "effective date",
        "effective on",
        "effective from",
        "effective:",
        "start:",
        "effective this",
        "into force as of",
        "into force on",
        "commencement date",
    ];
    // The last cue before the date, and no end between them: "effective as of the Effective
    // Date and shall expire on December 31, 2006" gives the end, not the start.
    let cued = CUES.iter().filter_map(|cue| before.rfind(cue).map(|at| at + cue.len())).max();
    commences || cued.is_some_and(|from| !ended_since(from))
}

/// Whether the contract states `effective_date` as such, rather than it being the
/// agreement date taken for it (what [`key_terms`] reports when nothing says "effective").
pub fn is_stated_effective_date(text: &str, effective_date: &Term) -> bool {
    is_defined_as_effective_date(text, effective_date.end) || follows_an_effective_cue(text, effective_date.start)
}
