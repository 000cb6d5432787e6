//! Renewal: whether the contract renews itself, for how long, the notice that stops it, and
//! the notice to terminate for convenience.

use super::*;

pub(super) struct Renewal {
    pub(super) term: Option<Period>,
    pub(super) automatic: Option<Term>,
    pub(super) notice: Option<Period>,
}

/// A term that rolls on by itself ("continue from year to year", "month-to-month"): the period
/// each roll lasts.
const ROLLING: [(&str, &str, u32); 4] = [
    ("year to year", "1 year", 365),
    ("year-to-year", "1 year", 365),
    ("month to month", "1 month", 30),
    ("month-to-month", "1 month", 30),
];

pub(super) fn renewal(text: &str, sentences: &[Sentence]) -> Renewal {
    let mut out = Renewal { term: None, automatic: None, notice: None };
    let cues: Vec<&str> = ["renew", "extended for", "extend for"]
        .into_iter()
        .chain(ROLLING.iter().map(|(cue, _, _)| *cue))
        .chain(term_wording().indefinitely.iter().map(String::as_str))
        .collect();
    for s in sentences.iter().filter(|s| s.has(&cues)) {
        // "Thereafter, it shall continue from year to year unless either party gives notice":
        // renews each year.
        if let Some((at, value, days)) =
            ROLLING.iter().find_map(|(cue, value, days)| s.lower.find(cue).map(|at| (at, *value, *days)))
        {
            if s.has(&["unless", "until", "either party", "terminat", "notice", "thereafter"]) {
                out.automatic = out.automatic.or(Some(Term { value: "yes".into(), start: s.start, end: s.end }));
                let start = s.start + at;
                out.term = out.term.take().or(Some(Period { value: value.into(), days, start, end: start + 12 }));
            }
        }
        // "continues indefinitely after the Initial Term until terminated on three months'
        // notice": no renewal term, no end; the notice is to terminate.
        if s.has_any(&term_wording().indefinitely)
            && s.has(&["initial term", "thereafter", "after the expiration", "after the end"])
        {
            out.automatic = out.automatic.or(Some(Term { value: "evergreen".into(), start: s.start, end: s.end }));
            continue;
        }
        let automatic = s.has_any(&term_wording().automatic_renewal)
            || (s.has(&["will renew", "shall renew", "renews for", "renew for successive"])
                && s.has(&["unless"])
                && s.has(&["non-renewal", "not to renew", "notice", "notif"]));
        // "Auto-renewal {auto_renewal_display}": a form's label, not a renewal.
        let a_blank_label = ["auto-renew", "automatic renewal"]
            .iter()
            .filter_map(|cue| s.lower.find(cue).map(|at| s.start + at + cue.len()))
            .any(|after| placeholder_follows(text, after, 30));
        if automatic && !a_blank_label && out.automatic.is_none() {
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
            let about_not_renewing = s.has(&[
                "unless",
                "not to renew",
                "non-renewal",
                "nonrenewal",
                "not renew",
                "not be renewed",
                "intention not",
                "elect not",
                "object",
            ]) && !s.has(&["insurance", "policy", "cure", "uncured", "breach"]);
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
pub(super) fn renews_for(sentence: &Sentence, period: &Period, after: &str) -> bool {
    let at = period.start.saturating_sub(sentence.start);
    let closely_after_a_cue = ["renew", "extend"]
        .iter()
        .any(|cue| sentence.lower.match_indices(cue).any(|(cue_at, _)| cue_at < at && at - cue_at <= 120));
    let next_word = after.trim_start_matches(|c: char| !c.is_alphabetic());
    let a_time_after = ["after", "following", "from the"].iter().any(|word| next_word.starts_with(word));
    closely_after_a_cue && !a_time_after
}

/// The notice a party must give to terminate without cause (or to end a term that runs on
/// until terminated).
pub(super) fn termination_notice(text: &str, sentences: &[Sentence]) -> Option<Period> {
    sentences
        .iter()
        .filter(|s| s.has(&["terminat"]) && s.has(&["notice"]) && !s.has(&["renew"]))
        .filter(|s| {
            s.has(&["convenience", "without cause", "for any reason", "at any time", "any reason", "any or no reason"])
                || (s.has_any(&term_wording().indefinitely)
                    || s.has(&["until terminated by either party", "until terminated by a party"]))
        })
        .find_map(|s| {
            s.periods(text).into_iter().find(|p| {
                let near = lower_window(text, p.start.saturating_sub(40), p.end + 40);
                near.contains("notice") || near.contains("prior")
            })
        })
}
