//! The agreement's own term: the sentences that state it, its initial length and its end
//! (a date, an anniversary, a period from the start, or perpetual).

use chrono::NaiveDate;

use super::*;

/// The end of the term, read first from the sentences that state the agreement's term (see
/// [`term_sentences`]): an end date stated there, an anniversary of the effective date, a
/// period from the start the sentence gives (or from the effective date), or "perpetual" when
/// the term runs until someone or something ends it (see [`open_end`]). Only when no such
/// sentence says: a date introduced
/// as the agreement's end anywhere ("expiring on", "until"), the effective date plus the
/// initial term, or a perpetual term. The date carries the offsets of the words it was read
/// or computed from.
///
/// (The term sentence first: a date after "through" or "until" elsewhere is often no end of
/// the agreement: "navigate through this document … December 5, 2007".)
pub(super) fn expiration_date(
    text: &str,
    dates: &[(usize, usize, NaiveDate)],
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
        return Some(Term { value: v.to_string(), start: *s, end: *e });
    }
    if let Some(end) = effective
        .and_then(|effective| sentences.iter().find_map(|s| end_from_effective_date(effective, start.dated, s)))
    {
        return Some(end);
    }
    if let (Some(effective), Some(term)) = (effective, initial_term) {
        if let Some(end) = effective.date().and_then(|from| add_period(from, term)) {
            return Some(Term { value: end.to_string(), start: term.start, end: term.end })
                .filter(|_| !counted_from_another_event(text, term));
        }
    }
    // A term of a known length from an event we cannot date has an end, just not one we know.
    if initial_term.is_some() {
        return None;
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
pub(super) fn introduces_an_end(before: &str) -> bool {
    let near = &before[crate::floor_boundary(before, before.len().saturating_sub(40))..];
    let last_words = near.trim_end_matches(|c: char| !c.is_alphanumeric());
    let words = term_wording();
    let cued = words.end_cues.iter().any(|cue| near.contains(cue.as_str()));
    // (A sub-period's end is no end of the agreement: "the three-month period ending …".)
    let a_period_ends = words.sub_period_ends.iter().any(|cue| near.contains(cue.as_str()));
    (cued && !a_period_ends) || last_words.ends_with(" to") || last_words.ends_with(" thru")
}

/// A term that runs until a party or an event ends it, with no date: CUAD reads these as
/// "perpetual".
pub(super) fn runs_until_ended(s: &Sentence) -> bool {
    s.has_any(&term_wording().open_ended)
}

/// The sentences that state the agreement's own term ("The term of this Agreement shall
/// commence … and end …", "This Agreement shall continue in effect for …", "\"Term\" means
/// …"), those naming the term plainly first, then those saying what the agreement does; not
/// a duty that lasts for the term (confidentiality, records, insurance, a warranty), nor a
/// sub-period of it (a quarter, a financial year).
pub(super) fn term_sentences(text: &str, segments: &[Sentence]) -> Vec<Sentence> {
    static PATTERNS: std::sync::OnceLock<Option<[regex::Regex; 6]>> = std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        let words = term_wording();
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
            any_of(&words.duration)?,
            any_of(&[words.duties_for_the_term.as_slice(), words.other_duties.as_slice()].concat())?,
        ])
    });
    let tier = |s: &Sentence| -> Option<usize> {
        let [term, agreement, during, renewal, duration, other_duties] = patterns.as_ref()?;
        // ("Term: twelve (12) months …, which term shall automatically renew …" states the
        // term before its renewal.)
        let only_a_renewal = |s: &Sentence| {
            renewal.find(&s.lower).is_some_and(|found| {
                !s.has(&["commenc", "begin", "extend until", "extend through"])
                    && !s.periods(text).iter().any(|p| p.start < s.start + found.start())
            })
        };
        if !duration.is_match(&s.lower)
            || (other_duties.is_match(&s.lower) && !counts_contract_years(&s.lower))
            || (s.has(&["renew", "extend"]) && only_a_renewal(s))
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
            let heading = only_a_heading(&text[s.start..s.start + found.start()]);
            !conditional && (before.len() <= 30 || before.ends_with(',') || heading)
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

/// Text before a sentence's subject that is only a heading and its number ("ARTICLE NINE
/// EFFECTIVENESS 9.1", "2. TERM. (a)"), as filings run them into the first sentence.
fn only_a_heading(before: &str) -> bool {
    let words: Vec<&str> = before.split_whitespace().collect();
    let number = |w: &str| {
        let bare = w.trim_matches(|c: char| "().".contains(c));
        !bare.is_empty()
            && bare.len() <= 6
            && (bare.chars().all(|c| c.is_ascii_digit() || c == '.')
                || bare.chars().all(|c| c.is_ascii_lowercase()) && w.starts_with('('))
    };
    let capitals = |w: &str| w.chars().any(char::is_alphabetic) && !w.chars().any(char::is_lowercase);
    !words.is_empty() && words.len() <= 8 && words.iter().all(|w| number(w) || capitals(w))
}

/// A term counted in contract years ("shall continue for ten (10) Contract Years"), not a duty
/// for one of them.
fn counts_contract_years(lower: &str) -> bool {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| regex::Regex::new(r"\bfor (\w+ )?(\(\d{1,2}\) )?contract years\b").ok())
        .as_ref()
        .is_some_and(|pattern| pattern.is_match(lower))
}

/// One regex matching any of `cues` (literal text).
pub(super) fn any_of(cues: &[String]) -> Option<regex::Regex> {
    regex::Regex::new(&cues.iter().map(|cue| regex::escape(cue)).collect::<Vec<_>>().join("|")).ok()
}

/// The end of the term as one term sentence gives it (see [`expiration_date`]).
pub(super) fn end_in_term_sentence(
    text: &str,
    s: &Sentence,
    dates: &[(usize, usize, NaiveDate)],
    counted_from: Start,
) -> Option<Term> {
    let effective = counted_from.effective;
    let mine: Vec<&(usize, usize, NaiveDate)> =
        dates.iter().filter(|(at, _, _)| s.start <= *at && *at < s.end).collect();
    // A start the sentence states ("commencing January 1, 2000", "from February 21, 2011").
    let mut start: Option<NaiveDate> = None;
    let mut previous_end = s.start;
    for (at, end, value) in &mine {
        // (Dates end on their year and so never overlap, which a test checks; the slice
        // still cannot run backwards should a new date form ever make them.)
        let before = &s.lower[previous_end.min(*at) - s.start..*at - s.start];
        previous_end = *end;
        let clause = sentence_so_far(before);
        if introduces_an_end(clause) && effective.is_none_or(|e| e.start != *at) {
            return Some(Term { value: value.to_string(), start: *at, end: *end });
        }
        let near = &clause[crate::floor_boundary(clause, clause.len().saturating_sub(30))..];
        if start.is_none()
            && ["commenc", "begin", "from", "effective", "starting", "start", "into force", "into effect"]
                .iter()
                .any(|cue| near.contains(cue))
        {
            start = Some(*value);
        }
    }
    if let Some(end) = effective.and_then(|effective| end_from_effective_date(effective, counted_from.dated, s)) {
        return Some(end);
    }
    // A term that ends only when a party gives notice ("shall end on the 60th day following a
    // written notice from one party to the other") is open-ended, whatever period follows.
    if s.has(&["notice"]) && ends_on_notice(&s.lower) {
        return Some(Term { value: "perpetual".into(), start: s.start, end: s.end });
    }
    if s.has(&["end of the current calendar year", "end of the then current calendar year"]) {
        use chrono::Datelike;
        let from = start.or(effective.and_then(Term::date))?;
        let year_end = NaiveDate::from_ymd_opt(from.year(), 12, 31)?;
        let at = s.lower.find("end of the").map_or(s.start, |at| s.start + at);
        return Some(Term { value: year_end.to_string(), start: at, end: at + "end of the".len() });
    }
    if let Some(period) = term_period(text, s) {
        if counted_from_another_event(text, &period) {
            return None;
        }
        let from = start.or(effective.and_then(Term::date))?;
        return add_period(from, &period).map(|value| Term {
            value: value.to_string(),
            start: period.start,
            end: period.end,
        });
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
/// "until …", "for so long as …", "ending on the expiration of …", "unless terminated".
pub(super) fn open_end(lower: &str) -> Option<usize> {
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

/// Whether a term sentence ends the term only on a party's notice ("shall end on the 60th day
/// following a written notice").
pub(super) fn ends_on_notice(lower: &str) -> bool {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| {
            regex::Regex::new(
                r"\b(end|ends|terminate|terminates|expire|expires) (on|upon) the \w+ day (following|after) (a |the )?(written )?notice\b",
            )
            .ok()
        })
        .as_ref()
        .is_some_and(|pattern| pattern.is_match(lower))
}

/// The term's end stated from the effective date ("shall terminate on the third anniversary
/// of the Effective Date", "until the four-year anniversary of the Effective Date", "ending
/// on the tenth (10th) anniversary thereof", "shall terminate on the date three (3) years
/// from the Effective Date"): the effective date plus that many years or months.
pub(super) fn end_from_effective_date(effective: &Term, dated: Option<&Term>, s: &Sentence) -> Option<Term> {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| {
            let count = r"(?P<count>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})(?:st|nd|rd|th)?";
            // (Words spaced however the filing spaced them: "the date of this      Agreement".)
            let anniversary = r"(?:(?:-|\s+)years?)?(?:\s+\(\d{1,2}(?:st|nd|rd|th)?\))?\s+anniversary\s+(?:of\s+the\s+(?:effective\s+date|commencement\s+date|(?P<dated>date\s+(?:hereof|of\s+this\s+agreement)))|of\s+this\s+agreement|thereof)";
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
    Some(Term { value: add_period(from.date()?, &period)?.to_string(), start, end })
}

/// The dates a term can be counted from: the effective date (or, wanting one, the
/// agreement's date) and the date the agreement bears.
#[derive(Clone, Copy)]
pub(super) struct Start<'a> {
    pub(super) effective: Option<&'a Term>,
    pub(super) dated: Option<&'a Term>,
}

/// The first term of the agreement: a period in a sentence about the term ("initial term of
/// three (3) years", "shall continue in effect for a period of two years").
pub(super) fn initial_term(text: &str, sentences: &[Sentence]) -> Option<Period> {
    // Sentences that state the term most plainly first, then looser wordings.
    let words = term_wording();
    let (plain, loose) = (&words.initial_term_plain, &words.initial_term_loose);
    // (Not a duty that lasts for the term and some years after it: keeping records, insurance.)
    let about_term = |s: &&Sentence| !s.has_any(&words.duties_for_the_term) && s.has(&["agreement", "term"]);
    [plain, loose].iter().find_map(|cues| {
        sentences.iter().filter(about_term).filter(|s| s.has_any(cues)).find_map(|s| term_period(text, s))
    })
}

/// Whether a term's length is counted from an event that is not its start ("ten (10) years
/// after the First Commercial Sale", "twelve months after the Launch"): its end cannot be
/// had by adding it to the effective date.
pub(super) fn counted_from_another_event(text: &str, period: &Period) -> bool {
    let after = lower_window(text, period.end, period.end + 40);
    let next_words = after.trim_start_matches([' ', '\n', '\t', ',', '(', ')']);
    ["after the", "following the"].iter().any(|cue| {
        next_words.strip_prefix(cue).is_some_and(|rest| {
            !["effective", "commencement", "execution", "signing", "date", "start"]
                .iter()
                .any(|start| rest.trim_start().starts_with(start))
        })
    })
}

/// The first period of a sentence about the term that is the term's length: four weeks or
/// more, not a notice or a time before something ("thirty days prior"), not a duty that runs
/// on after the term ("and for two (2) years thereafter", "one year after termination").
pub(super) fn term_period(text: &str, s: &Sentence) -> Option<Period> {
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
