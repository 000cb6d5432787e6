//! Key terms read from the text, each normalised and with the byte offsets of the words it
//! came from: parties and their short names; agreement, effective and expiration dates (as
//! m/d/yy, as CUAD writes them); initial and renewal terms, auto-renewal and notice periods;
//! governing law (the state or country) and venue; amounts, the liability cap and payment
//! terms. They are read by cues in the sentence ("governed by the laws of", "automatically
//! renew"), so each comes with the place it was read from for a reader to check.

mod money;
mod parties;
mod periods;

use serde::Serialize;

pub use money::{find_money, Money};
pub use parties::{find_parties, Party};
pub use periods::{find_periods, Period};

use crate::segment::segments;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

/// A cap on liability: an amount, a number of months of fees, or both.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiabilityCap {
    pub amount: Option<Money>,
    /// "fees paid in the twelve (12) months before the claim" → 12.
    pub months_of_fees: Option<u32>,
    /// The sentence the cap was read from.
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Terms {
    pub parties: Vec<Party>,
    pub agreement_date: Option<Term>,
    pub effective_date: Option<Term>,
    pub expiration_date: Option<Term>,
    pub initial_term: Option<Period>,
    pub renewal_term: Option<Period>,
    /// Present when the contract renews itself unless a party objects; the offsets are of
    /// the sentence that says so.
    pub auto_renewal: Option<Term>,
    /// How long before the end of a term notice of non-renewal must be given.
    pub non_renewal_notice: Option<Period>,
    /// Notice needed to terminate (for convenience or at will).
    pub termination_notice: Option<Period>,
    pub governing_law: Option<Term>,
    /// The courts or forum disputes go to.
    pub venue: Option<Term>,
    pub liability_cap: Option<LiabilityCap>,
    /// Days within which invoices are to be paid.
    pub payment_terms: Option<Period>,
    /// Length of a non-compete restriction.
    pub non_compete: Option<Period>,
    /// Every monetary amount, in order.
    pub amounts: Vec<Money>,
    /// Standard terms (Bonterms, Common Paper) name the parties, dates and other key terms on
    /// a cover page signed with them: the sentence that says so, `value` "Cover Page". A
    /// review of the standard terms alone then says where those terms are instead of
    /// guessing them from clauses that do not hold them.
    pub cover_page: Option<Term>,
}

impl Terms {
    /// Whether nothing at all was found.
    pub fn is_empty(&self) -> bool {
        self == &Terms::default()
    }
}

pub fn key_terms(text: &str) -> Terms {
    let dates = find_dates(text);
    let agreement_date = agreement_date(text, &dates);
    let effective_date = effective_date(text, &dates).or_else(|| agreement_date.clone());
    let sentences: Vec<Sentence> = segments(text)
        .into_iter()
        .map(|s| Sentence { start: s.start, end: s.end, lower: text[s.start..s.end].to_ascii_lowercase() })
        .collect();
    let renewal = renewal(text, &sentences);
    let initial_term = initial_term(text, &sentences);
    Terms {
        parties: find_parties(text),
        expiration_date: expiration_date(
            text,
            &dates,
            Start { effective: effective_date.as_ref(), dated: agreement_date.as_ref() },
            initial_term.as_ref(),
            &sentences,
        ),
        agreement_date,
        effective_date,
        initial_term,
        renewal_term: renewal.term,
        auto_renewal: renewal.automatic,
        non_renewal_notice: renewal.notice,
        termination_notice: termination_notice(text, &sentences),
        governing_law: governing_law(text),
        venue: venue(text, &sentences),
        liability_cap: liability_cap(text, &sentences),
        payment_terms: payment_terms(text, &sentences),
        non_compete: non_compete(text, &sentences),
        amounts: find_money(text, 0),
        cover_page: cover_page(text, &sentences),
    }
}

/// The sentence saying that the parties or the key terms are on a cover page ("Each party is
/// identified on the Cover Page", "the parties complete and sign a Bonterms Cover Page",
/// "\"Cover Page\" means a document that … identifies Provider and Customer"), not a
/// mention of a prospectus's or a plan's cover page.
fn cover_page(text: &str, sentences: &[Sentence]) -> Option<Term> {
    const HOW: &[&str] = &["identif", "complete", "incorporat", "sign", "execute", "meanings", "cover page between"];
    const WHAT: &[&str] =
        &["party", "parties", "provider", "customer", "key terms", "standard terms", "variables", "capitalized terms"];
    // A document that speaks of "this Cover Page" is the cover page.
    if sentences.iter().any(|s| s.lower.contains("this cover page")) {
        return None;
    }
    sentences
        .iter()
        .find(|s| s.lower.contains("cover page") && s.has(HOW) && s.has(WHAT) && !s.has(&["prospectus"]))
        .map(|s| Term { value: "Cover Page".into(), start: s.start, end: s.end.min(text.len()) })
}

/// A segment of the text with its ASCII-lower-cased form, which keeps byte offsets, so a
/// cue found in it is at the same offset in the original.
struct Sentence {
    start: usize,
    end: usize,
    lower: String,
}

impl Sentence {
    /// Bytes `from..to` of the sentence (ASCII boundaries: cut after '.' or ';').
    fn part(&self, from: usize, to: usize) -> Sentence {
        Sentence { start: self.start + from, end: self.start + to, lower: self.lower[from..to].to_string() }
    }

    fn has(&self, cues: &[&str]) -> bool {
        cues.iter().any(|cue| self.lower.contains(cue))
    }

    fn periods(&self, text: &str) -> Vec<Period> {
        find_periods(&text[self.start..self.end], self.start)
    }
}

/// The end of the term, read first from the sentences that state the agreement's term (see
/// [`term_sentences`]): an end date stated there, an anniversary of the effective date, a
/// period from the start the sentence gives (or from the effective date), or "perpetual" when
/// the term runs until someone or something ends it (see [`open_end`]). Only when no such
/// sentence says: a date introduced
/// as the agreement's end anywhere ("expiring on", "until"), the effective date plus the
/// initial term, or a perpetual term. The date carries the offsets of the words it was read
/// or computed from.
///
/// (The term sentence first: on the 325 training contracts of CUAD's dev split, a date that
/// merely followed "through" or "until" within 100 bytes, anywhere, had been taken for the
/// end — "navigate through this document … December 5, 2007", "sub-clauses (i) through (v)
/// … (Execution Copy, March 27, 2019)" — and periods of other duties for the term.)
fn expiration_date(
    text: &str,
    dates: &[(usize, usize, String)],
    start: Start,
    initial_term: Option<&Period>,
    sentences: &[Sentence],
) -> Option<Term> {
    let effective = start.effective;
    if let Some(end) = term_sentences(text, sentences).iter().find_map(|s| end_in_term_sentence(text, s, dates, start))
    {
        return Some(end);
    }
    let stated = dates.iter().filter(|(s, _, _)| effective.is_none_or(|e| e.start != *s)).find(|(s, _, _)| {
        let before = lower_window(text, s.saturating_sub(100), *s);
        // The agreement's end, not a fee's or a support promise's ("… through 19 August 2020"),
        // and the cue in the same sentence, just before the date.
        let sentence = sentence_so_far(&before);
        let of_the_agreement = ["term", "agreement", "expir"].iter().any(|cue| sentence.contains(cue));
        of_the_agreement && introduces_an_end(sentence)
    });
    if let Some((s, e, v)) = stated {
        return Some(Term { value: v.clone(), start: *s, end: *e });
    }
    if let Some(end) = effective
        .and_then(|effective| sentences.iter().find_map(|s| end_from_effective_date(effective, start.dated, s)))
    {
        return Some(end);
    }
    if let (Some(effective), Some(term)) = (effective, initial_term) {
        if let Some(end) = add_period(&effective.value, term) {
            return Some(Term { value: end, start: term.start, end: term.end });
        }
    }
    sentences
        .iter()
        .find(|s| {
            runs_until_ended(s)
                && s.has(&["term", "continue", "shall remain", "effective", "in force", "in effect", "valid"])
                && s.has(&["agreement"])
        })
        .map(|s| Term { value: "perpetual".into(), start: s.start, end: s.end })
}

/// Words that, just before a date, make it an end ("expiring on", "until", "through",
/// "ending on", "to"), looked for in the last 40 bytes of `before` (lower-cased text up to
/// the date).
fn introduces_an_end(before: &str) -> bool {
    let near = &before[crate::floor_boundary(before, before.len().saturating_sub(40))..];
    let last_words = near.trim_end_matches(|c: char| !c.is_alphanumeric());
    let cued = [
        "expir",
        "until",
        "terminate",
        "end on",
        "ends on",
        "ending",
        "end as of",
        "ends as of",
        "end at",
        "ends at",
        "conclude on",
        "concludes on",
        "concluding",
        "extended to",
        "through",
    ]
    .iter()
    .any(|cue| near.contains(cue));
    // (A sub-period's end is no end of the agreement: "the three-month period ending …".)
    let a_period_ends =
        ["period ending", "month ending", "quarter ending", "year ending"].iter().any(|cue| near.contains(cue));
    (cued && !a_period_ends) || last_words.ends_with(" to") || last_words.ends_with(" thru")
}

/// A term that runs until a party or an event ends it, with no date: CUAD reads these as
/// "perpetual".
fn runs_until_ended(s: &Sentence) -> bool {
    s.has(&[
        "perpetual",
        "in perpetuity",
        "indefinite",
        "until terminated",
        "unless and until",
        "until it is terminated",
        "until termination",
        "until such time as it is terminated",
        "until either party terminates",
    ])
}

/// The sentences that state the agreement's own term ("The term of this Agreement shall
/// commence … and end …", "This Agreement shall continue in effect for …", "\"Term\" means
/// …"), those naming the term plainly first, then those saying what the agreement does; not
/// a duty that lasts for the term (confidentiality, records, insurance, a warranty), nor a
/// sub-period of it (a quarter, a financial year).
fn term_sentences(text: &str, segments: &[Sentence]) -> Vec<Sentence> {
    const DURATION: &[&str] = &[
        "commenc",
        "begin",
        "continue",
        "remain",
        "expir",
        "terminat",
        "end on",
        "ending",
        " end ",
        "until",
        "through",
        "in force",
        "in effect",
        "valid",
        "year",
        "month",
        "perpetu",
        "indefinite",
    ];
    // Beside the duties that last for the term: a sub-period of it, what survives it, royalties.
    const OTHER_DUTIES: &[&str] =
        &["quarter", "fiscal year", "financial year", "calendar year\" ", "contract year", "survive", "royalt"];
    static PATTERNS: std::sync::OnceLock<Option<[regex::Regex; 6]>> = std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        Some([
            // The term is the subject: "The term of this Agreement shall …", "\"Term\" means …",
            // "Initial Term shall mean …", "Term: twelve (12) months …".
            regex::Regex::new(
                r#"(^|[^\w])(initial term|term of (this|the) (agreement|contract)|the term|"term"|initial period|contract period"?)( \([^)]{0,60}\))?,?[^.;]{0,50}? (shall|will|is|means|mean|commences?|begins?|expires?|ends?|runs?)\b|^\W*(initial )?term\W*:"#,
            )
            .ok()?,
            // The agreement is: "This Agreement shall commence … and continue …".
            regex::Regex::new(
                r"\b(this|the) ([\w-]+ )?(agreement|contract)\b[^.;]{0,40}?\b(shall|will|is|becomes|commences|continues|expires|remains)\b[^.;]{0,60}?\b(commence|begin|continue|remain|effective|expire|terminate on|come into force|valid|be for|for a|extend|in force|in effect)",
            )
            .ok()?,
            // The term as a time something else runs in: not the term's statement.
            regex::Regex::new(r"\b(during|throughout|for|after|within|beyond) the (initial )?term\b").ok()?,
            // Only a renewal: "This Agreement will extend automatically for monthly periods".
            regex::Regex::new(r"\b(agreement|term)\b[^.;]{0,20}\b(shall|will|may)( automatically)?( be)? (renew|extend)").ok()?,
            // (The cue lists as one search each: a review reads every sentence.)
            any_of(DURATION)?,
            any_of(&[DUTIES_FOR_THE_TERM, OTHER_DUTIES].concat())?,
        ])
    });
    let tier = |s: &Sentence| -> Option<usize> {
        let [term, agreement, during, renewal, duration, other_duties] = patterns.as_ref()?;
        if !duration.is_match(&s.lower)
            || other_duties.is_match(&s.lower)
            || (s.has(&["renew", "extend"])
                && renewal.is_match(&s.lower)
                && !s.has(&["commenc", "begin", "extend until", "extend through"]))
        {
            return None;
        }
        // The subject opens the sentence, or follows only a proviso ("Unless sooner
        // terminated …, this Agreement shall …"), not a condition or a time after the term
        // ("If Affiliate fails to notify …", "After the Initial Term, …").
        let opens = |found: regex::Match| {
            // (The subject's article is the subject's: "…hereof, the term of this Agreement".)
            let before = s.lower[..found.start()].trim();
            let before = before
                .strip_suffix("the")
                .filter(|rest| !rest.ends_with(|c: char| c.is_alphanumeric()))
                .unwrap_or(before)
                .trim_end();
            let conditional = before
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| ["if", "after", "following", "upon", "when", "event"].contains(&word));
            !conditional && (before.len() <= 30 || before.ends_with(','))
        };
        // (Each pattern only where its words are: the bounded repetitions make them slow.)
        if s.has(&["term", "period"]) && term.find(&s.lower).is_some_and(opens) && !during.is_match(&s.lower) {
            Some(0)
        } else if s.has(&["agreement", "contract"]) && agreement.find(&s.lower).is_some_and(opens) {
            Some(1)
        } else {
            None
        }
    };
    // A sentence broken over lines that start in capitals ("… shall commence on\nJanuary 1,
    // 2010 and extend through December 31, 2010.") is several segments: joined again. A
    // segment can hold several sentences ("… during the first twenty-four (24) months of
    // this Agreement. This Agreement shall be for a period of five (5) years …"): each is
    // judged alone.
    let mut found: Vec<(usize, Sentence)> = join_broken_sentences(text, segments)
        .iter()
        .flat_map(|segment| split_sentences(text, segment))
        .filter_map(|s| Some((tier(&s)?, s)))
        .collect();
    // (Stable: in the order of the text within a tier.)
    found.sort_by_key(|(tier, _)| *tier);
    found.into_iter().map(|(_, s)| s).collect()
}

/// Duties that last for the term (a sentence about them tells no term): confidentiality, a
/// warranty, invoicing, a non-compete or no-solicit, records, insurance.
const DUTIES_FOR_THE_TERM: &[&str] =
    &["confidential", "warrant", "invoice", "non-compet", "solicit", "records", "insurance"];

/// One regex matching any of `cues` (literal text).
fn any_of(cues: &[&str]) -> Option<regex::Regex> {
    regex::Regex::new(&cues.iter().map(|cue| regex::escape(cue)).collect::<Vec<_>>().join("|")).ok()
}

/// Segments joined to the next while they do not end a sentence (at most three, 1,000 bytes).
fn join_broken_sentences(text: &str, segments: &[Sentence]) -> Vec<Sentence> {
    let mut out: Vec<Sentence> = Vec::with_capacity(segments.len());
    let mut open = 0;
    for segment in segments {
        match out.last_mut() {
            // (A blank line ends a paragraph whatever its last character: "4.0 TERM".)
            Some(last)
                if open > 0
                    && open < 4
                    && segment.end - last.start <= 1000
                    && !text[last.end..segment.start].contains("\n\n") =>
            {
                last.end = segment.end;
                last.lower = text[last.start..last.end].to_ascii_lowercase();
                open += 1;
            }
            _ => {
                out.push(Sentence { start: segment.start, end: segment.end, lower: segment.lower.clone() });
                open = 1;
            }
        }
        if segment.lower.trim_end().ends_with(['.', ';', ':', '!', '?']) {
            open = 0;
        }
    }
    out
}

/// The sentences of a segment: cut after a period or a semicolon followed by white space and
/// a capital, a digit, a parenthesis or more white space (abbreviations such as "Inc. The" cut
/// too, which only costs a sentence its first words).
fn split_sentences(text: &str, segment: &Sentence) -> Vec<Sentence> {
    let bytes = segment.lower.as_bytes();
    let original = |i: usize| if i < bytes.len() { text.as_bytes()[segment.start + i] } else { b' ' };
    let mut out = Vec::new();
    let mut from = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let next = original(i + 2);
        let cut = matches!(byte, b'.' | b';')
            && original(i + 1).is_ascii_whitespace()
            && (next.is_ascii_uppercase() || next.is_ascii_digit() || next == b'(' || next.is_ascii_whitespace());
        if cut && i + 1 > from {
            out.push(segment.part(from, i + 1));
            from = i + 2;
        }
    }
    if from < bytes.len() {
        out.push(segment.part(from, bytes.len()));
    }
    out
}

/// The end of the term as one term sentence gives it (see [`expiration_date`]).
fn end_in_term_sentence(
    text: &str,
    s: &Sentence,
    dates: &[(usize, usize, String)],
    counted_from: Start,
) -> Option<Term> {
    let effective = counted_from.effective;
    let mine: Vec<&(usize, usize, String)> = dates.iter().filter(|(at, _, _)| s.start <= *at && *at < s.end).collect();
    // A start the sentence states ("commencing January 1, 2000", "from February 21, 2011").
    let mut start: Option<&String> = None;
    let mut previous_end = s.start;
    for (at, end, value) in &mine {
        // (Dates end on their year and so never overlap, which a test checks; the slice
        // still cannot run backwards should a new date form ever make them.)
        let before = &s.lower[previous_end.min(*at) - s.start..*at - s.start];
        previous_end = *end;
        let clause = sentence_so_far(before);
        if introduces_an_end(clause) && effective.is_none_or(|e| e.start != *at) {
            return Some(Term { value: value.clone(), start: *at, end: *end });
        }
        let near = &clause[crate::floor_boundary(clause, clause.len().saturating_sub(30))..];
        if start.is_none()
            && ["commenc", "begin", "from", "effective", "starting", "start", "into force", "into effect"]
                .iter()
                .any(|cue| near.contains(cue))
        {
            start = Some(value);
        }
    }
    if let Some(end) = effective.and_then(|effective| end_from_effective_date(effective, counted_from.dated, s)) {
        return Some(end);
    }
    if let Some(period) = term_period(text, s) {
        let from = start.or(effective.map(|e| &e.value))?;
        return add_period(from, &period).map(|value| Term { value, start: period.start, end: period.end });
    }
    // A term that lasts until an event, not a date ("shall continue until the expiration of
    // the License Agreement", "until the Owner no longer owns any Receivables"): CUAD reads
    // these as perpetual too.
    // ("Unless terminated" is open-ended only in a sentence that gives no period: "shall
    // continue for a period of [***] unless terminated earlier" has one, redacted.)
    let open = open_end(&s.lower).filter(|at| {
        !s.lower[*at..].starts_with("unless")
            || !s.has(&["period", "for a term", "years", "months", "year term", "-year"])
    });
    let until_an_event = open.is_some_and(|at| {
        let after = &s.lower[at..];
        !mine.iter().any(|(date, _, _)| *date >= s.start + at)
            && !["until the end of", "until the last day of", "until such date", "until the date", "until revoked"]
                .iter()
                .any(|cue| after.starts_with(cue))
    });
    (runs_until_ended(s) || until_an_event).then(|| Term { value: "perpetual".into(), start: s.start, end: s.end })
}

/// Where a term sentence says the term lasts until something happens rather than for a time:
/// "until …", "for so long as …", "ending on the expiration of …", "unless terminated". (With
/// "so long as", the expiration of another thing and "unless terminated": on the training part
/// 3 more of CUAD's "perpetual" read, and a fourth with "shall extend until" no longer taken
/// for a renewal; none lost. Tried and left out: any "this Agreement
/// shall terminate upon / if …" when nothing else gave an end: 2 more perpetual terms, but 8
/// in contracts CUAD gives no expiration date, most of them an agency's obligations ending
/// with an offering.)
fn open_end(lower: &str) -> Option<usize> {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| {
            regex::Regex::new(
                r"\buntil\b|\bso long as\b|\b(end|ending|ends|terminate|terminates|expire|expires) (on|upon|with) the (expiration|termination) (of|and|or)\b|\bunless terminated\b",
            )
            .ok()
        })
        .as_ref()?
        .find(lower)
        .map(|found| found.start())
}

/// The term's end stated from the effective date ("shall terminate on the third anniversary
/// of the Effective Date", "until the four-year anniversary of the Effective Date", "ending
/// on the tenth (10th) anniversary thereof", "shall terminate on the date three (3) years
/// from the Effective Date"): the effective date plus that many years or months.
fn end_from_effective_date(effective: &Term, dated: Option<&Term>, s: &Sentence) -> Option<Term> {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| {
            let count = r"(?P<count>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})(?:st|nd|rd|th)?";
            // (Words spaced however the filing spaced them: "the date of this      Agreement".)
            let anniversary = r"(?:(?:-|\s+)years?)?(?:\s+\(\d{1,2}(?:st|nd|rd|th)?\))?\s+anniversary\s+(?:of\s+the\s+(?:effective\s+date|commencement\s+date|(?P<dated>date\s+(?:hereof|of\s+this\s+agreement)))|thereof)";
            let period = r"(?:\s+\(\d{1,3}\))?\s+(?P<unit>years?|months?)\s+(?:from|after)\s+the\s+effective\s+date";
            regex::Regex::new(&format!(
                r"(?:end|expir|terminat|until|conclud|through)\w*\b[^.;]{{0,40}}?\(?\b{count}\)?(?:{anniversary}|{period})"
            ))
            .ok()
        })
        .as_ref()?;
    const ORDINALS: [&str; 10] =
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
    const NUMBERS: [&str; 10] = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    // (The literal test first: the pattern is slow to run on every sentence.)
    let relative = ["anniversary", "effective date"];
    if !(s.has(&relative) && s.has(&["term", "agreement"])) {
        return None;
    }
    let found = pattern.captures(&s.lower)?;
    // The agreement's or its term's end, not a period's ("… in any three full month
    // period ending 18 months after the Effective Date").
    let whole = found.get(0)?;
    let before = &s.lower[crate::floor_boundary(&s.lower, whole.start().saturating_sub(30))..whole.start()];
    if before.contains("period") {
        return None;
    }
    let count = found.name("count")?.as_str();
    let count = ORDINALS
        .iter()
        .chain(&NUMBERS)
        .position(|w| *w == count)
        .map(|i| i % 10 + 1)
        .or_else(|| count.parse::<usize>().ok())
        .filter(|n| (1..=99).contains(n))?;
    let months = found.name("unit").is_some_and(|unit| unit.as_str().starts_with("month"));
    let (start, end) = (s.start + whole.start(), s.start + whole.end());
    let (value, days) =
        if months { (format!("{count} months"), 30 * count) } else { (format!("{count} years"), 365 * count) };
    let period = Period { value, days: u32::try_from(days).ok()?, start, end };
    // ("The first anniversary of the date of this Agreement" counts from the date it bears,
    // which need not be the date its term begins.)
    let from = dated.filter(|_| found.name("dated").is_some()).unwrap_or(effective);
    Some(Term { value: add_period(&from.value, &period)?, start, end })
}

/// The dates a term can be counted from: the effective date (or, wanting one, the
/// agreement's date) and the date the agreement bears.
#[derive(Clone, Copy)]
struct Start<'a> {
    effective: Option<&'a Term>,
    dated: Option<&'a Term>,
}

/// "m/d/yy" plus a period, as "m/d/yy" (days past a month's end fall back to its last day).
fn add_period(date: &str, period: &Period) -> Option<String> {
    let mut parts = date.split('/').map(|p| p.parse::<i64>().ok());
    let (month, day, year) = (parts.next()??, parts.next()??, parts.next()??);
    let year = if year < 50 { 2000 + year } else { 1900 + year };
    let in_days = ["day", "days", "week", "weeks"].iter().any(|unit| period.value.ends_with(unit));
    let (y, m, d) = if in_days {
        civil_from_days(days_from_civil(year, month, day) + i64::from(period.days))
    } else {
        let count: i64 = period.value.split(' ').next()?.parse().ok()?;
        let months = if period.value.contains("year") { count * 12 } else { count };
        let total = year * 12 + (month - 1) + months;
        let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        let last = civil_from_days(days_from_civil(y, m + 1, 1) - 1).2;
        (y, m, day.min(last))
    };
    Some(format!("{m}/{d}/{:02}", y.rem_euclid(100)))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (months past 12 roll over).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let (year, month) = (year + (month - 1).div_euclid(12), (month - 1).rem_euclid(12) + 1);
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The first term of the agreement: a period in a sentence about the term ("initial term of
/// three (3) years", "shall continue in effect for a period of two years").
fn initial_term(text: &str, sentences: &[Sentence]) -> Option<Period> {
    // Sentences that state the term most plainly first, then looser wordings.
    let plain: &[&str] = &["initial term", "term of this agreement", "term of the agreement", "the term shall"];
    let loose: &[&str] = &[
        "shall continue",
        "shall remain in",
        "will continue",
        "will remain in",
        "remain in effect",
        "remain in full force",
        "continue for",
        "continue in effect",
        "valid for",
        "for a term of",
        "this agreement shall be for",
    ];
    // (Not a duty that lasts for the term and some years after it: keeping records, insurance.)
    let about_term = |s: &&Sentence| !s.has(DUTIES_FOR_THE_TERM) && s.has(&["agreement", "term"]);
    [plain, loose]
        .iter()
        .find_map(|cues| sentences.iter().filter(about_term).filter(|s| s.has(cues)).find_map(|s| term_period(text, s)))
}

/// The first period of a sentence about the term that is the term's length: four weeks or
/// more, not a notice or a time before something ("thirty days prior"), not a duty that runs
/// on after the term ("and for two (2) years thereafter", "one year after termination").
fn term_period(text: &str, s: &Sentence) -> Option<Period> {
    s.periods(text).into_iter().find(|p| {
        let after = lower_window(text, p.end, p.end + 40);
        let before = lower_window(text, p.start.saturating_sub(30), p.start);
        let next_words = after.trim_start_matches([' ', '\n', '\t', ',', '(', ')']);
        let after_the_end = (next_words.starts_with("thereafter") && before.contains("and for"))
            || ["after", "following", "from the date of"].iter().any(|cue| {
                next_words
                    .strip_prefix(cue)
                    .is_some_and(|rest| ["termination", "expiration", "expiry"].iter().any(|end| rest.contains(end)))
            });
        // (Nor a renewal's: "renew for successive one (1) year periods".)
        let renewal =
            ["renew", "extension", "extended", "additional", "successive"].iter().any(|cue| before.contains(cue));
        p.days >= 28
            && !after.contains("prior")
            && !after.contains("notice")
            && !before.contains("within")
            && !after_the_end
            && !renewal
    })
}

struct Renewal {
    term: Option<Period>,
    automatic: Option<Term>,
    notice: Option<Period>,
}

fn renewal(text: &str, sentences: &[Sentence]) -> Renewal {
    let mut out = Renewal { term: None, automatic: None, notice: None };
    for s in sentences.iter().filter(|s| s.has(&["renew", "extended for", "extend for"])) {
        let automatic = s.has(&[
            "automatically renew",
            "automatically be renewed",
            "automatically extend",
            "automatically be extended",
            "renew automatically",
            "be renewed automatically",
            "automatic renewal",
            "auto-renew",
            "unless either party",
            "unless a party",
        ]);
        if automatic && out.automatic.is_none() {
            out.automatic = Some(Term { value: "yes".into(), start: s.start, end: s.end });
        }
        for p in s.periods(text) {
            let after = lower_window(text, p.end, p.end + 25);
            let before = lower_window(text, p.start.saturating_sub(20), p.start);
            let is_notice = after.contains("prior")
                || after.contains("notice")
                || after.contains("before")
                || before.contains("at least")
                || before.contains("notice");
            // Notice of not renewing: not of exercising an option to renew, nor an insurer's
            // cancellation, nor a cure period.
            let about_not_renewing =
                s.has(&[
                    "unless",
                    "not to renew",
                    "non-renewal",
                    "nonrenewal",
                    "not renew",
                    "not be renewed",
                    "intention not",
                    "elect not",
                    "object",
                ]) && !s.has(&["insurance", "policy", "cancellation", "cure", "uncured", "breach"]);
            if is_notice {
                if about_not_renewing {
                    out.notice = out.notice.or(Some(p));
                }
            } else if p.days >= 28 && out.term.is_none() && renews_for(s, &p, &after) {
                out.term = Some(p);
            }
        }
        if out.term.is_some() && out.automatic.is_some() && out.notice.is_some() {
            break;
        }
    }
    out
}

/// Whether `period` (with the text `after` it) is what the sentence renews or extends the
/// agreement for: it follows "renew" or "extend" closely ("renew for successive one (1) year
/// periods", "extended for two additional years": within 120 bytes), and is not a time after something
/// ("45 days after the completion", "one year following expiration").
fn renews_for(sentence: &Sentence, period: &Period, after: &str) -> bool {
    let at = period.start.saturating_sub(sentence.start);
    let closely_after_a_cue = ["renew", "extend"]
        .iter()
        .any(|cue| sentence.lower.match_indices(cue).any(|(cue_at, _)| cue_at < at && at - cue_at <= 120));
    let next_word = after.trim_start_matches(|c: char| !c.is_alphabetic());
    let a_time_after = ["after", "following", "from the"].iter().any(|word| next_word.starts_with(word));
    closely_after_a_cue && !a_time_after
}

/// The notice a party must give to terminate without cause.
fn termination_notice(text: &str, sentences: &[Sentence]) -> Option<Period> {
    sentences
        .iter()
        .filter(|s| s.has(&["terminat"]) && s.has(&["notice"]) && !s.has(&["renew"]))
        .filter(|s| s.has(&["convenience", "without cause", "for any reason", "at any time", "any reason"]))
        .find_map(|s| {
            s.periods(text).into_iter().find(|p| {
                let near = lower_window(text, p.start.saturating_sub(40), p.end + 40);
                near.contains("notice") || near.contains("prior")
            })
        })
}

/// The forum: the place after "courts of" / "courts located in" in a jurisdiction sentence.
fn venue(text: &str, sentences: &[Sentence]) -> Option<Term> {
    for s in sentences.iter().filter(|s| s.has(&["jurisdiction", "venue", "forum"]) && s.has(&["court"])) {
        for cue in ["courts located in ", "courts of ", "courts in ", "courts sitting in ", "court of ", "located in "]
        {
            let Some(found) = s.lower.find(cue) else { continue };
            let from = s.start + found + cue.len();
            if from > s.end || !text.is_char_boundary(from) {
                continue;
            }
            let mut rest_start = from;
            for prefix in ["the ", "State of ", "state of ", "County of ", "county of ", "City of ", "city of "] {
                if text[rest_start..].starts_with(prefix) {
                    rest_start += prefix.len();
                }
            }
            if let Some((start, end, name)) = jurisdiction(text, rest_start) {
                return Some(Term { end, value: name, start });
            }
        }
    }
    None
}

/// The cap on liability: a sentence limiting liability, with an amount or months of fees.
fn liability_cap(text: &str, sentences: &[Sentence]) -> Option<LiabilityCap> {
    sentences
        .iter()
        .filter(|s| s.has(&["liabilit"]) && s.has(&["exceed", "limited to", "greater of", "lesser of", "in excess of"]))
        .find_map(|s| {
            let amount =
                find_money(&text[s.start..s.end], s.start).into_iter().max_by(|a, b| a.amount.total_cmp(&b.amount));
            let months_of_fees = s
                .has(&["fees", "amounts paid", "amount paid", "charges"])
                .then(|| s.periods(text).into_iter().find(|p| p.days >= 28).map(|p| p.months()));
            let months_of_fees = months_of_fees.flatten();
            (amount.is_some() || months_of_fees.is_some() || s.has(&["fees paid", "amounts paid"]))
                .then_some(LiabilityCap { amount, months_of_fees, start: s.start, end: s.end })
        })
}

/// Days to pay an invoice ("within thirty (30) days of receipt of invoice", "net 30").
fn payment_terms(text: &str, sentences: &[Sentence]) -> Option<Period> {
    sentences.iter().filter(|s| s.has(&["invoice", "payable", "shall pay", "payment"])).find_map(|s| {
        if let Some(at) = s.lower.find("net ") {
            let digits: String = s.lower[at + 4..].chars().take_while(char::is_ascii_digit).collect();
            if let Ok(days) = digits.parse::<u32>() {
                if (1..=180).contains(&days) {
                    let start = s.start + at;
                    return Some(Period { value: format!("{days} days"), days, start, end: start + 4 + digits.len() });
                }
            }
        }
        s.periods(text).into_iter().find(|p| {
            let before = lower_window(text, p.start.saturating_sub(12), p.start);
            let after = lower_window(text, p.end, p.end + 60);
            p.days <= 120
                && before.contains("within")
                && (after.contains("invoice") || after.contains("receipt") || s.has(&["invoice"]))
        })
    })
}

/// The length of a non-compete: the longest period in a sentence restricting competition.
fn non_compete(text: &str, sentences: &[Sentence]) -> Option<Period> {
    sentences
        .iter()
        .filter(|s| s.has(&["compet"]) && s.has(&["shall not", "will not", "agrees not", "covenants not", "refrain"]))
        .filter_map(|s| s.periods(text).into_iter().filter(|p| p.days >= 28).max_by_key(|p| p.days))
        .next()
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches(['.', ',']).to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&w) && (w.len() >= 3) && (w.len() == m.len() || w.len() <= 4))
        .map(|i| i as u32 + 1)
}

fn day_of(word: &str) -> Option<u32> {
    let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
    let rest = &word[digits.len()..];
    let suffix_ok = matches!(rest.trim_end_matches([',', '.']), "" | "st" | "nd" | "rd" | "th");
    let day: u32 = digits.parse().ok()?;
    (suffix_ok && (1..=31).contains(&day)).then_some(day)
}

fn year_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches([',', '.', ')', ';']);
    let year: u32 = w.parse().ok()?;
    (w.len() == 4 && (1900..=2100).contains(&year)).then_some(year)
}

/// Words with their byte offsets.
fn words_with_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() || c == '(' || c == '"' || c == '“' || c == '”' {
            if let Some(s) = start.take() {
                out.push((s, &text[s..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// Every date in the text: (start, end, "m/d/yy").
pub fn find_dates(text: &str) -> Vec<(usize, usize, String)> {
    // A comma set apart ("April 15 , 2010") is not a word of the date.
    let words: Vec<(usize, &str)> = words_with_offsets(text).into_iter().filter(|(_, w)| *w != ",").collect();
    let mut out = Vec::new();
    let format = |m: u32, d: u32, y: u32| format!("{m}/{d}/{:02}", y % 100);
    let end_of = |i: usize| words[i].0 + words[i].1.trim_end_matches([',', '.', ')', ';']).len();
    for i in 0..words.len() {
        let w = |k: usize| words.get(i + k).map(|(_, w)| *w).unwrap_or("");
        // CUAD's text often splits an ordinal's suffix ("15t h day of January 2018",
        // "November 19t h, 2012"): the day, and how many words it took.
        let split_day = |k: usize| {
            let (first, second) = (w(k), w(k + 1).trim_end_matches([',', '.']));
            match (first.chars().last(), second) {
                (Some('t'), "h") | (Some('s'), "t") | (Some('n' | 'r'), "d") => {
                    day_of(&format!("{first}{second}")).map(|d| (d, 2))
                }
                _ => day_of(first).map(|d| (d, 1)),
            }
        };
        // Month D,YYYY (no space after the comma)
        if let (Some(m), Some((d, y))) = (month_of(w(0)), w(1).split_once(',')) {
            if let (Some(d), Some(y)) = (day_of(d), year_of(y)) {
                out.push((words[i].0, end_of(i + 1), format(m, d, y)));
                continue;
            }
        }
        // Month Dt h, YYYY and Dt h day of Month, YYYY
        if let Some((d, 2)) = split_day(0) {
            if w(2).eq_ignore_ascii_case("day") && w(3).eq_ignore_ascii_case("of") {
                if let (Some(m), Some(y)) = (month_of(w(4)), year_of(w(5))) {
                    out.push((words[i].0, end_of(i + 5), format(m, d, y)));
                    continue;
                }
            }
        }
        if let (Some(m), Some((d, 2)), Some(y)) = (month_of(w(0)), split_day(1), year_of(w(3))) {
            out.push((words[i].0, end_of(i + 3), format(m, d, y)));
            continue;
        }
        // Month D, YYYY
        if let (Some(m), Some(d), Some(y)) = (month_of(w(0)), day_of(w(1)), year_of(w(2))) {
            out.push((words[i].0, end_of(i + 2), format(m, d, y)));
            continue;
        }
        // D Month YYYY
        if let (Some(d), Some(m), Some(y)) = (day_of(w(0)), month_of(w(1)), year_of(w(2))) {
            out.push((words[i].0, end_of(i + 2), format(m, d, y)));
            continue;
        }
        // Dth day of Month, YYYY
        if w(1).eq_ignore_ascii_case("day") && w(2).eq_ignore_ascii_case("of") {
            if let (Some(d), Some(m), Some(y)) = (day_of(w(0)), month_of(w(3)), year_of(w(4))) {
                out.push((words[i].0, end_of(i + 4), format(m, d, y)));
                continue;
            }
        }
        // MM/DD/YYYY, MM-DD-YY
        let numbers: Vec<&str> = w(0).trim_end_matches([',', '.', ')', ';']).split(['/', '-']).collect();
        if numbers.len() == 3 && matches!(numbers[2].len(), 2 | 4) {
            if let (Ok(m), Ok(d), Ok(y)) =
                (numbers[0].parse::<u32>(), numbers[1].parse::<u32>(), numbers[2].parse::<u32>())
            {
                let y = if y < 100 { 2000 + y } else { y };
                if (1..=12).contains(&m) && (1..=31).contains(&d) && (1900..=2100).contains(&y) {
                    out.push((words[i].0, end_of(i), format(m, d, y)));
                }
            }
        }
    }
    out
}

fn lower_window(text: &str, start: usize, end: usize) -> String {
    let s = crate::floor_boundary(text, start);
    let mut e = end.min(text.len());
    while !text.is_char_boundary(e) {
        e += 1;
    }
    text[s..e].to_lowercase()
}

/// The date the agreement is made: an early date introduced by "dated", "as of", "made" or
/// "entered into"; else the first date of the opening.
fn agreement_date(text: &str, dates: &[(usize, usize, String)]) -> Option<Term> {
    let opening: Vec<&(usize, usize, String)> =
        dates.iter().filter(|(s, e, _)| *s < 5000 && !dates_another_agreement(text, *s, *e)).collect();
    let introduced = opening.iter().find(|(s, _, _)| {
        let before = lower_window(text, s.saturating_sub(80), *s);
        ["dated", "as of", "made", "entered into", "date:"].iter().any(|cue| before.contains(cue))
    });
    introduced.or(opening.first()).map(|(s, e, v)| Term { value: v.clone(), start: *s, end: *e })
}

/// The end of `window` back to the start of its sentence (a line break, ";" or ". ").
fn sentence_so_far(window: &str) -> &str {
    let clause = window.rsplit(['\n', ';']).next().unwrap_or("");
    clause.rsplit(". ").next().unwrap_or("")
}

/// A date of some other agreement the contract mentions: one the recitals tell of
/// ("WHEREAS, A and B entered into a Supply Agreement dated May 1, 2019"), or one followed by
/// that agreement's defined name ("dated as of June 21, 2006 (the \"Arrangement Agreement\")").
fn dates_another_agreement(text: &str, start: usize, end: usize) -> bool {
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
fn effective_date(text: &str, dates: &[(usize, usize, String)]) -> Option<Term> {
    let term = |(s, e, v): &(usize, usize, String)| Term { value: v.clone(), start: *s, end: *e };
    let own = || dates.iter().filter(|(s, e, _)| !dates_another_agreement(text, *s, *e));
    let defined = own().find(|(_, e, _)| is_defined_as_effective_date(text, *e));
    if let Some(date) = defined {
        return Some(term(date));
    }
    own().find(|(s, _, _)| follows_an_effective_cue(text, *s)).map(term)
}

/// A date followed by its definition as the "Effective Date".
fn is_defined_as_effective_date(text: &str, date_end: usize) -> bool {
    let after = lower_window(text, date_end, date_end + 40);
    after.contains("\"effective date\"") || after.contains("“effective date”")
}

/// A date after "effective as of", "commencing", "Effective Date:" and the like. (White space
/// collapsed and no end between cue and date: on the 325 training contracts, effective date
/// 173 → 174 of 201 exact and expiration date 135 → 137 of 198; one exhibit's "Effective
/// Date: January 5, 1999" is now taken where the agreement date had stood in. The day the
/// agreement or its term begins, comes into force or is signed and effective — "The term …
/// will begin on February 1, 1998", "\"Commencement Date\" means 16 October 2005" — CUAD
/// reads as the effective date too: 174 → 178, one contract lost whose gold effective date
/// is its signing date though its term begins later.)
fn follows_an_effective_cue(text: &str, date_start: usize) -> bool {
    // The last 40 characters with runs of white space as one (a cover page's "EFFECTIVE
    // DATE", blank lines and centring spaces, "JUNE 1, 1998").
    let wide = lower_window(text, date_start.saturating_sub(200), date_start);
    let collapsed = wide.split_whitespace().collect::<Vec<_>>().join(" ") + " ";
    let before = &collapsed[crate::floor_boundary(&collapsed, collapsed.len().saturating_sub(41))..];
    // "commencing" starts the agreement or its term, not a fiscal year or a forecast.
    let ended_since = |from: usize| {
        ["expir", "until", "terminat", "through", " end", "conclud"].iter().any(|cue| before[from..].contains(cue))
    };
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

const CANADIAN_PROVINCES: [&str; 6] = ["Ontario", "British Columbia", "Quebec", "Alberta", "Manitoba", "Nova Scotia"];

/// The jurisdiction after "laws of" in a governing-law sentence.
fn governing_law(text: &str) -> Option<Term> {
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
        let Some((start, end, name)) = named_jurisdiction(text, found.end()) else { continue };
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

fn jurisdiction_term((start, end, name): (usize, usize, String)) -> Term {
    let value = match name.as_str() {
        "PRC" => "People's Republic of China".to_owned(),
        _ if CANADIAN_PROVINCES.contains(&name.as_str()) => format!("{name}, Canada"),
        _ => name,
    };
    Term { value, start, end }
}

/// The jurisdiction named from `from` on, past "the", "State of", "Commonwealth of",
/// "Province of" (in any case and spacing).
fn named_jurisdiction(text: &str, from: usize) -> Option<(usize, usize, String)> {
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
fn jurisdiction(text: &str, from: usize) -> Option<(usize, usize, String)> {
    let rest = &text[from..];
    let trimmed = rest.trim_start();
    let start = from + (rest.len() - trimmed.len());
    // Each word with its offset in `trimmed` (a name may be spaced or broken over lines).
    let mut words: Vec<(usize, &str)> = Vec::new();
    for (at, word) in words_with_offsets(&trimmed[..crate::floor_boundary(trimmed, 240)]) {
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

/// Normalises a value for comparison (case, punctuation, "the", "State of").
pub fn normalise(value: &str) -> String {
    if let Some(date) = numeric_date(value.trim()) {
        return date;
    }
    let lower = value.to_lowercase().replace("state of ", "").replace("the ", "");
    lower
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '/' || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A date written in figures as m/d/y, in the engine's form ("01/31/2025" → "1/31/25"); read
/// as d/m/y when only that is a date ("31/01/2025", as one CUAD answer is written).
fn numeric_date(value: &str) -> Option<String> {
    let parts: Vec<u32> = value.split('/').map(|part| part.parse().ok()).collect::<Option<_>>()?;
    let [first, second, year] = parts[..] else { return None };
    let (month, day) = if first > 12 && second <= 12 { (second, first) } else { (first, second) };
    (1..=12).contains(&month).then_some(())?;
    (1..=31).contains(&day).then_some(())?;
    Some(format!("{month}/{day}/{:02}", year % 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_figures_compare_in_one_form() {
        assert_eq!(normalise("31/01/2025"), normalise("1/31/25"));
        assert_eq!(normalise("01/05/2019"), "1/5/19");
        assert_eq!(normalise("9/5/19"), "9/5/19");
        // Not a date: left as it is.
        assert_eq!(normalise("13/13/2020"), "13/13/2020");
        assert_eq!(normalise("1/2"), "1/2");
    }

    #[test]
    fn dates_in_contract_styles_are_normalised() {
        let text = "dated October 1, 2019 and 23rd day of September, 2016 or 22 Dec. 2017 or 1/13/2005, \
                    April 15 , 2010, start: 04-01-06; not section 1-2-3.";
        let values: Vec<String> = find_dates(text).into_iter().map(|d| d.2).collect();
        assert_eq!(values, ["10/1/19", "9/23/16", "12/22/17", "1/13/05", "4/15/10", "4/1/06"]);
        // As CUAD's text often has them: an ordinal's suffix split off, no space after a comma.
        let split =
            "made this 15t h day of January 2018, amended November 19t h, 2012 and May 3,2006; 21s t day of May, 1999";
        let values: Vec<String> = find_dates(split).into_iter().map(|d| d.2).collect();
        assert_eq!(values, ["1/15/18", "11/19/12", "5/3/06", "5/21/99"]);
    }

    #[test]
    fn standard_terms_point_to_their_cover_page() {
        for text in [
            "1. Introduction. To use this NDA, the parties complete and sign a Bonterms Cover Page. Each party is identified on the Cover Page.\n",
            "\"Cover Page\" means a document that is signed by the parties, incorporates these Standard Terms, and identifies Provider and Customer.\n",
            "Variables have the meanings or descriptions given on the Cover Page.\n",
        ] {
            let cover_page = key_terms(text).cover_page.expect(text);
            assert_eq!(cover_page.value, "Cover Page");
            assert!(text[cover_page.start..cover_page.end].contains("Cover Page"));
        }
        for text in [
            // A prospectus's, a plan's cover page; a cover page that is this document.
            "The Shares are offered at the Purchase Price set forth on the cover page of the Prospectus, signed by the parties.\n",
            "The improvements identified in this property improvement plan relevant to the brand specified on the cover page of this PIP.\n",
            "By signing this Cover Page, each party agrees to enter into this MNDA. The parties identified on the Cover Page sign it.\n",
            "THIS AGREEMENT is made between Acme Inc. and Beta LLC. Notices go to the address on the cover page.\n",
        ] {
            assert_eq!(key_terms(text).cover_page, None, "{text}");
        }
    }

    #[test]
    fn the_agreement_and_effective_dates_are_told_apart() {
        let text = "This Services Agreement is made as of October 1, 2019 (the \"Agreement\"), effective as of November 1, 2019.";
        let terms = key_terms(text);
        assert_eq!(terms.agreement_date.map(|t| t.value).as_deref(), Some("10/1/19"));
        assert_eq!(terms.effective_date.map(|t| t.value).as_deref(), Some("11/1/19"));
    }

    #[test]
    fn the_expiration_date_is_stated_or_computed_from_the_term() {
        let stated =
            "This Agreement is effective June 1, 1998 and continues for three (3) years, expiring May 31, 2001.";
        assert_eq!(key_terms(stated).expiration_date.map(|t| t.value).as_deref(), Some("5/31/01"));
        let computed = "This Agreement is effective as of September 23, 2016.\n\nThe term of this Agreement shall be five (5) years following the Effective Date.";
        let terms = key_terms(computed);
        assert_eq!(terms.initial_term.as_ref().map(|p| p.value.as_str()), Some("5 years"));
        assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("9/23/21"));
        let period = |value: &str, days| Period { value: value.into(), days, start: 0, end: 0 };
        assert_eq!(add_period("1/31/20", &period("1 month", 30)).as_deref(), Some("2/29/20"));
        assert_eq!(add_period("12/15/99", &period("30 days", 30)).as_deref(), Some("1/14/00"));
    }

    #[test]
    fn looser_term_wordings_and_perpetual_agreements() {
        let loose =
            "This Agreement is effective as of April 15, 2010.\n\nThis Development Agreement will begin on the \
                     Effective Date and continue for four (4) years unless earlier terminated on written notice.";
        let terms = key_terms(loose);
        assert_eq!(terms.initial_term.map(|p| p.value).as_deref(), Some("4 years"));
        assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("4/15/14"));
        let defined = "This Agreement is made on January 5, 2019 and becomes effective on February 1, 2019 \
                       (the \"Effective Date\").";
        assert_eq!(key_terms(defined).effective_date.map(|t| t.value).as_deref(), Some("2/1/19"));
        let perpetual = "This Agreement shall be effective from the date first above written and shall continue \
                         indefinitely until terminated by either Party.";
        assert_eq!(key_terms(perpetual).expiration_date.map(|t| t.value).as_deref(), Some("perpetual"));
        for perpetual in [
            "This Agreement will commence on the Effective Date and will continue until termination as provided below.",
            "This Agreement shall commence on the Effective Date and shall continue until it is terminated in \
             accordance with the provisions of Section 15.",
            "This Agreement shall be valid for an indefinite period.",
        ] {
            assert_eq!(
                key_terms(perpetual).expiration_date.map(|t| t.value).as_deref(),
                Some("perpetual"),
                "{perpetual}"
            );
        }
        let anniversary = "This Agreement is effective as of March 27, 2017 (the \"Effective Date\").\n\nThis Agreement \
                           shall commence on the Effective Date and shall continue until the four-year anniversary of the \
                           Effective Date.";
        assert_eq!(key_terms(anniversary).expiration_date.map(|t| t.value).as_deref(), Some("3/27/21"));
        let third = "This Agreement is effective as of September 21, 1998 (the \"Effective Date\").\n\nThis Agreement \
                     will terminate on the third (3rd) anniversary of the Effective Date.";
        assert_eq!(key_terms(third).expiration_date.map(|t| t.value).as_deref(), Some("9/21/01"));
        let thereof = "This Agreement is effective as of March 27, 2019 (the \"Effective Date\").\n\nThe Agreement shall \
                       have an initial term of ten (10) years commencing from the Effective Date and ending on the tenth \
                       (10th) anniversary thereof.";
        assert_eq!(key_terms(thereof).expiration_date.map(|t| t.value).as_deref(), Some("3/27/29"));
        let from =
            "This Agreement is effective as of September 4, 2014 (the \"Effective Date\").\n\nUnless terminated \
                    earlier, this Agreement shall terminate on the date three (3) years from the Effective Date.";
        assert_eq!(key_terms(from).expiration_date.map(|t| t.value).as_deref(), Some("9/4/17"));
        let volume =
            "This Agreement is effective as of April 27, 1999 (the \"Effective Date\").\n\nBuyer may end this \
                      Agreement if fewer than 1,000 packages ship in any three (3) full month period ending 18 months \
                      after the Effective Date.";
        assert_eq!(key_terms(volume).expiration_date, None, "a period's end, not the agreement's");
        let dated = "This Agreement is made on January 5, 2004.\n\nThis Agreement shall continue until December 31, \
                     2006 and thereafter until terminated.";
        assert_eq!(key_terms(dated).expiration_date.map(|t| t.value).as_deref(), Some("12/31/06"));
    }

    /// The expiration date of `text`, as the review reports it.
    fn expires(text: &str) -> Option<String> {
        key_terms(text).expiration_date.map(|t| t.value)
    }

    #[test]
    fn the_term_sentence_gives_the_end_before_any_other_date() {
        // A "through" far from the date, in another sentence, makes no end of it.
        let stray = "Use the links to navigate through this document.\nTHIS AGREEMENT is made this 5th day of \
                     December, 2007.\n\n1. The term of this Agreement shall be one (1) year, commencing January 1, \
                     2008 and ending on December 31, 2008.";
        assert_eq!(expires(stray).as_deref(), Some("12/31/08"));
        // The start the term sentence states, plus its period.
        let started = "This Agreement is dated March 3, 1999.\n\nThe term of this Agreement shall begin on January 1, \
                       2000 and continue for an initial period of five (5) years unless earlier terminated.";
        assert_eq!(expires(started).as_deref(), Some("1/1/05"));
        // A duty's period in the same paragraph comes first in the text, not in the reading.
        let duty = "This Agreement is effective as of March 18, 2010 (the \"Effective Date\").\n\nBuyer shall order \
                    1,000 units during the first twenty-four (24) months of this Agreement. This Agreement shall be \
                    for a period of five (5) years commencing upon the Effective Date.";
        assert_eq!(expires(duty).as_deref(), Some("3/18/15"));
        // What happens after the term, or if a party fails to act, is not the term.
        let after = "This Agreement is effective as of February 17, 2016 (the \"Effective Date\").\n\nAfter the \
                     Initial Term, this Agreement shall continue on a month to month basis.\n\nThe Initial Term of \
                     this Agreement shall be three (3) years from the Effective Date.";
        assert_eq!(expires(after).as_deref(), Some("2/17/19"));
        // A sentence the text breaks over lines that start in capitals.
        let broken = "This Sponsorship Agreement is made as of December 1, 2009.\n\n1. Term. The term of this \
                      Agreement shall commence on\nJanuary 1, 2010 and extend through December 31, 2010.";
        assert_eq!(expires(broken).as_deref(), Some("12/31/10"));
        // The day before an anniversary, as CUAD reads it: the anniversary.
        let prior = "This Agreement is effective as of November 19, 1999 (the \"Effective Date\").\n\nINITIAL TERM \
                     shall mean the Effective Date through the day prior to the second anniversary of the Effective \
                     Date, unless earlier terminated pursuant to Section 11.";
        assert_eq!(expires(prior).as_deref(), Some("11/19/01"));
    }

    #[test]
    fn a_sub_period_or_a_renewal_is_not_the_end_of_the_term() {
        let ledger = "This Agreement is effective as of May 1, 2019.\n\nThe first statement under the terms of this \
                      Agreement covers the three-month period ending January 31, 2020.";
        assert_eq!(expires(ledger), None);
        let renewal = "This Agreement is effective as of July 23, 2003.\n\nThis Agreement will extend automatically \
                       for monthly periods unless either party gives notice.\n\nThis Agreement commences on the date \
                       first above written, and will remain in effect for the period of five (5) years.";
        assert_eq!(expires(renewal).as_deref(), Some("7/23/08"));
    }

    #[test]
    fn a_date_of_another_agreement_is_not_the_agreement_date() {
        let text = "THIS AGREEMENT is made as of the Effective Date between Glamis and Western.\n\n\
                    (A) Glamis and Western are parties to an arrangement agreement dated as of February 23, 2006 \
                    (the \"Arrangement Agreement\").\n\nWHEREAS, Glamis entered into a Supply Agreement dated May 1, 2005.";
        assert_eq!(key_terms(text).agreement_date, None);
        let amendment = "WHEREAS, A and B entered into a License Agreement dated May 1, 2005.\n\n\
                         This Amendment is dated as of June 1, 2020 (the \"Amendment\").";
        assert_eq!(key_terms(amendment).agreement_date.map(|t| t.value).as_deref(), Some("6/1/20"));
    }

    #[test]
    fn a_duty_that_outlasts_the_term_is_not_the_term() {
        let text = "This Agreement is effective as of March 1, 2020.\n\n\
                    During the Term of this Agreement and for two (2) years thereafter, Supplier keeps spare parts.\n\n\
                    For three (3) years after termination of this Agreement, Buyer may audit.\n\n\
                    This Agreement shall continue in full force and effect for an initial period of five (5) years. \
                    Thereafter, this Agreement shall automatically renew for one (1) year periods.";
        let terms = key_terms(text);
        assert_eq!(terms.initial_term.map(|p| p.value).as_deref(), Some("5 years"));
        assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("3/1/25"));
        let fee =
            "This Agreement is effective as of March 1, 2020.\n\nThe monthly fee is $3,250 through August 19, 2020.";
        assert_eq!(key_terms(fee).expiration_date, None, "a fee's end, not the agreement's");
        let records = "This Agreement is effective as of March 1, 2020.\n\nSupplier shall keep records during the \
                       term of this Agreement and for a period of three (3) years.";
        assert_eq!(key_terms(records).initial_term, None);
    }

    #[test]
    fn an_effective_date_is_stated_or_stands_in_for_the_agreement_date() {
        let stated = "This Agreement is entered into effective as of May 1, 2020 by A and B.";
        let terms = key_terms(stated);
        assert!(is_stated_effective_date(stated, &terms.effective_date.expect("effective date")));
        let dated_only = "This Agreement is made and entered into this 1st day of June, 2017 by A and B.";
        let terms = key_terms(dated_only);
        let stand_in = terms.effective_date.expect("the agreement date stands in");
        assert_eq!(Some(&stand_in), terms.agreement_date.as_ref());
        assert!(!is_stated_effective_date(dated_only, &stand_in));
        // Not a fiscal year that commences, nor another agreement's effective date.
        let others = "This Agreement is made as of May 1, 2020 by A and B.\n\n\
                      WHEREAS, A and C entered into a Selling Agreement, effective as of December 1, 2002.\n\n\
                      Reports are due for each fiscal year commencing January 1, 2021.";
        let terms = key_terms(others);
        assert_eq!(terms.effective_date, terms.agreement_date, "only the agreement date stands in");
        assert!(!is_stated_effective_date(others, &terms.effective_date.expect("stand-in")));
    }

    #[test]
    fn a_term_sentence_after_a_proviso_or_spaced_like_a_filing() {
        // "…hereof, the term of this Agreement …": the article belongs to the subject.
        let proviso = "1. Term. Subject to the provisions of Section 14 hereof, the term of this Agreement and the \
                       sponsorship described herein shall commence on  January 1, 2010 and extend through December 31, 2010.";
        assert_eq!(expires(proviso).as_deref(), Some("12/31/10"));
        // An anniversary with the filing's spacing inside the words.
        let spaced = "This Agreement is made as of January 26, 1998.\n\n4. Term. The term of this Agreement (the \
                      \"Term\") will begin on      February 1, 1998 and end on the first anniversary of the date of this      \
                      Agreement; provided that either party may terminate this Agreement.";
        assert_eq!(expires(spaced).as_deref(), Some("1/26/99"));
        // "comes into force as of" starts the term the sentence gives.
        let in_force = "13.1 This Agreement shall come into force as of January 1, 2013 and remain valid for 1 year.";
        assert_eq!(expires(in_force).as_deref(), Some("1/1/14"));
    }

    #[test]
    fn a_term_that_lasts_while_something_holds_is_perpetual_but_a_redacted_period_is_not() {
        for open in [
            "This Agreement shall become effective as of the Effective Date and shall continue to be in full force \
             and effect for so long as Alpha remains a Shareholder of the Company.",
            "This Agreement will be effective beginning on the Effective Date and ending on the expiration and/or \
             termination of all Service Option Attachments.",
            "This Agreement shall become effective as of the day and year first above written and shall govern the \
             relations between the parties hereto thereafter, unless terminated as set forth in this Section 6.",
            // "Extend until" states the term; it is no renewal.
            "Unless earlier terminated as provided below, this IP Agreement shall extend until the last date of \
             expiration of the Intellectual Property rights licensed under this IP Agreement.",
        ] {
            let text = format!("This Agreement is made as of March 20, 2018.\n\n{open}");
            assert_eq!(expires(&text).as_deref(), Some("perpetual"), "{open}");
        }
        for dated in [
            // A period is stated, if redacted: not open-ended.
            "This Supply Agreement shall commence on the Effective Date, and shall continue for a period of [***] \
             unless terminated earlier in accordance with its terms.",
            // The end is a date the agreement defines elsewhere.
            "This Agreement shall commence on the Effective Date and, unless earlier terminated, shall expire on the \
             Expiration Date (the \"Term\").",
        ] {
            let text = format!("This Agreement is made as of March 20, 2018.\n\n{dated}");
            assert_ne!(expires(&text).as_deref(), Some("perpetual"), "{dated}");
        }
    }

    #[test]
    fn the_start_of_the_term_is_the_effective_date_and_an_anniversary_of_the_agreements_date_counts_from_it() {
        let effective = |text: &str| key_terms(text).effective_date.map(|t| t.value);
        let begins = "This Agreement is made as of January 26, 1998.\n\nThe term of this Agreement will begin on \
                      February 1, 1998 and end on the first anniversary of the date of this Agreement.";
        assert_eq!(effective(begins).as_deref(), Some("2/1/98"));
        assert_eq!(expires(begins).as_deref(), Some("1/26/99"));
        for (text, date) in [
            ("This Agreement shall come into force as of January 1, 2013 and remain valid for 1 year.", "1/1/13"),
            ("Signed and effective this 25th day of May, 1999.", "5/25/99"),
            ("\"Commencement Date\" means 16 October 2005.", "10/16/05"),
        ] {
            assert_eq!(effective(text).as_deref(), Some(date), "{text}");
        }
        // A date the term begins and then one it ends: the first is the start.
        let both = "This promotion shall begin on June 1, 1999 and shall terminate June 1, 2000 (the \"Term\").";
        assert_eq!(effective(both).as_deref(), Some("6/1/99"));
    }

    #[test]
    fn a_term_until_an_event_is_perpetual_and_an_anniversary_in_figures_counts() {
        let event = "This Agreement is made as of March 20, 2018.\n\nThis Agreement shall become effective as of the \
                     Effective Date and shall continue until the expiration or earlier termination of the License Agreement.";
        assert_eq!(expires(event).as_deref(), Some("perpetual"));
        // A date after "until" is the end, not an event.
        let dated = "This Agreement is made as of March 20, 2018.\n\nThis Agreement shall continue until the end of \
                     the current calendar year.";
        assert_ne!(expires(dated).as_deref(), Some("perpetual"));
        let figures = "This Agreement is made as of June 30, 2009.\n\nThis Agreement shall commence on the Effective \
                       Date and shall  continue until the twentieth (20th) anniversary of the Effective Date.";
        assert_eq!(expires(figures).as_deref(), Some("6/30/29"));
    }

    #[test]
    fn dates_dense_in_a_term_sentence_never_overlap_nor_panic() {
        // Words of dates in every order inside a term sentence: the readers slice the text
        // between one date and the next, so dates must come in order and apart.
        let words = [
            "1",
            "5",
            "15t",
            "h",
            "day",
            "of",
            "June",
            "January",
            "2010,",
            "2011",
            "5,2010",
            "12/31/2010",
            "through",
            "until",
            "commencing",
            "The",
            "term",
            "of",
            "this",
            "Agreement",
            "shall",
            "commence",
            "on",
            "and",
            "end",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            let mut text = String::from("The term of this Agreement shall commence on");
            for _ in 0..14 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                text.push(' ');
                text.push_str(words[(seed >> 33) as usize % words.len()]);
            }
            text.push('.');
            let dates = find_dates(&text);
            let _ = key_terms(&text);
            assert!(dates.windows(2).all(|pair| pair[0].1 <= pair[1].0), "{text} {dates:?}");
        }
    }

    #[test]
    fn an_effective_cue_reaches_over_blank_space_but_not_past_an_end() {
        // A cover page: the cue and the date far apart in bytes, close in words.
        let cover =
            "SUPPLY AGREEMENT\n\n                 EFFECTIVE DATE\n\n                                  JUNE 1, 1998\n\n\
                     The parties agree as follows.";
        assert_eq!(key_terms(cover).effective_date.map(|t| t.value).as_deref(), Some("6/1/98"));
        // The date after "effective as of the Effective Date and shall expire on" is the end.
        let ends = "This Agreement is made on February 19, 2007.\n\nThis Agreement shall be effective as of the \
                    Effective Date and shall expire on December 31, 2006 unless extended by the parties.";
        let terms = key_terms(ends);
        assert_eq!(terms.effective_date.map(|t| t.value).as_deref(), Some("2/19/07"));
        assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("12/31/06"));
    }

    #[test]
    fn a_renewal_term_is_what_the_agreement_renews_for() {
        for sentence in [
            "The obligations shall terminate no later than 45 days after the Offering, unless extended by the Bank.",
            "During the Term and any renewal terms, and for one (1) year following the expiration, Customer shall not hire.",
        ] {
            assert_eq!(key_terms(sentence).renewal_term, None, "{sentence}");
        }
        let insurer =
            "Supplier shall give thirty (30) days prior notice of any cancellation or non-renewal of its insurance.";
        assert_eq!(key_terms(insurer).non_renewal_notice, None);
        let option = "Buyer may exercise each renewal option by giving written notice not later than six (6) months \
                      prior to the expiration of the current Term.";
        assert_eq!(key_terms(option).non_renewal_notice, None, "notice to renew, not to end the renewal");
        let extended = "The Term shall be extended for a further period of two (2) years unless either party objects.";
        assert_eq!(key_terms(extended).renewal_term.map(|p| p.value).as_deref(), Some("2 years"));
    }

    #[test]
    fn renewal_notice_cap_and_payment_terms() {
        let text = "This Agreement shall automatically renew for successive one (1) year periods unless either party \
                    gives notice of non-renewal at least sixty (60) days prior to the end of the then-current term.\n\
                    In no event shall either party's aggregate liability exceed the fees paid by Customer in the twelve (12) months preceding the claim.\n\
                    Customer shall pay each invoice within thirty (30) days of receipt.\n\
                    Any dispute shall be subject to the exclusive jurisdiction of the courts located in Wilmington, Delaware.";
        let terms = key_terms(text);
        assert_eq!(terms.renewal_term.map(|p| p.value).as_deref(), Some("1 year"));
        assert!(terms.auto_renewal.is_some());
        assert_eq!(terms.non_renewal_notice.map(|p| p.days), Some(60));
        let cap = terms.liability_cap.expect("cap");
        assert_eq!(cap.months_of_fees, Some(12));
        assert_eq!(terms.payment_terms.map(|p| p.days), Some(30));
        assert_eq!(terms.venue.map(|t| t.value).as_deref(), Some("Wilmington"));
    }

    #[test]
    fn governing_law_names_the_jurisdiction() {
        let cases = [
            ("This Agreement shall be governed by the laws of the State of New York, without regard", "New York"),
            ("construed in accordance with the laws of England and Wales.", "England and Wales"),
            ("governed by the laws of the Province of Ontario and the federal laws", "Ontario, Canada"),
            (
                "governed by and construed under the laws of the People's Republic of China.",
                "People's Republic of China",
            ),
            ("shall be interpreted under the                   laws of the State of Nevada.", "Nevada"),
            ("governed by the laws of the State of North\u{a0}Carolina\u{a0}and the", "North Carolina"),
            ("shall be governed by the law of the State of New York.", "New York"),
            ("governed by and in accordance with the laws in the State of Washington.", "Washington"),
            ("The laws of California shall govern the construction of the Agreement.", "California"),
            ("This Agreement is governed by English law.", "England"),
            ("shall be governed by the laws of PRC.", "People's Republic of China"),
            ("SHALL BE GOVERNED BY THE LAWS OF THE STATE OF NEW YORK WITHOUT REGARD TO CONFLICTS", "NEW YORK"),
            ("GOVERNED BY THE INTERNAL LAWS OF THE COMMONWEALTH OF PENNSYLVANIA WITHOUT GIVING EFFECT", "PENNSYLVANIA"),
            (
                "shall be governed by the laws of the United States of America and of the Commonwealth of Pennsylvania.",
                "Pennsylvania",
            ),
        ];
        for (text, expected) in cases {
            let term = governing_law(text).expect(text);
            assert_eq!(term.value, expected);
            let named = expected.split(',').next().unwrap_or_default();
            // (Offsets are of the words read: "English" for England, "PRC" for China.)
            assert!(!text.contains(named) || text[term.start..term.end].starts_with(named), "{text}");
            assert!(term.end > term.start);
        }
        assert!(governing_law("The laws of physics apply.").is_none());
        assert!(governing_law("Acme, Inc., a corporation organized under the laws of Delaware, and Beta").is_none());
    }
}
