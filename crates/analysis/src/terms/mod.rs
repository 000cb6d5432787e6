//! Key terms read from the text, each normalised and with the byte offsets of the words it
//! came from: parties and their short names; agreement, effective and expiration dates (ISO
//! 8601); initial and renewal terms, auto-renewal and notice periods;
//! governing law (the state or country) and venue; amounts, the liability cap and payment
//! terms. They are read by cues in the sentence ("governed by the laws of", "automatically
//! renew"), so each comes with the place it was read from for a reader to check.

mod commercial;
mod dates;
mod key_dates;
mod law;
mod liability;
mod money;
mod parties;
mod periods;
mod placeholders;
mod renewal;
mod sentences;
mod term;
mod term_wording;

use serde::Serialize;

pub use dates::{find_dates, normalise};
pub use key_dates::is_stated_effective_date;
pub use liability::{carve_out_kinds, CapBasis, CarveOut, LiabilityCap};
pub use money::{find_money, Money};
pub use parties::{find_parties, Party};
pub use periods::{find_periods, Period};

use crate::segment::segments;
use commercial::*;
use dates::*;
use key_dates::*;
use law::*;
use liability::liability;
use placeholders::{inside_brackets, is_not_a_place, placeholder_follows, placeholders};
use renewal::*;
use sentences::*;
use term::*;
use term_wording::term_wording;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    /// Normalised; a date is ISO 8601 ("2019-10-01").
    pub value: String,
    pub start: usize,
    pub end: usize,
}

impl Term {
    /// The value as a calendar date, when it is one.
    pub fn date(&self) -> Option<chrono::NaiveDate> {
        self.value.parse().ok()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Terms {
    pub parties: Vec<Party>,
    pub agreement_date: Option<Term>,
    pub effective_date: Option<Term>,
    pub expiration_date: Option<Term>,
    pub initial_term: Option<Period>,
    pub renewal_term: Option<Period>,
    /// Present when the contract renews itself unless a party objects: `value` `"yes"` (it
    /// renews for the renewal term) or `"evergreen"` (after the initial term it runs on until
    /// a party ends it on notice); the offsets are of the sentence that says so.
    pub auto_renewal: Option<Term>,
    /// How long before the end of a term notice of non-renewal must be given.
    pub non_renewal_notice: Option<Period>,
    /// The last day to give notice of non-renewal before the first renewal: the end of the
    /// initial term less the notice (ISO 8601; offsets of the notice). Later deadlines follow
    /// every renewal term ([`Terms::next_non_renewal_deadline`]).
    pub non_renewal_deadline: Option<Term>,
    /// Notice needed to terminate (for convenience or at will).
    pub termination_notice: Option<Period>,
    pub governing_law: Option<Term>,
    /// The courts or forum disputes go to.
    pub venue: Option<Term>,
    /// The general cap on liability (not one for some claims or products only).
    pub liability_cap: Option<LiabilityCap>,
    /// Caps on some claims or products only: trials, free services, claims under a higher cap.
    pub other_caps: Vec<LiabilityCap>,
    /// Claims taken out of the general cap: uncapped, or under a higher cap.
    pub cap_carve_outs: Vec<CarveOut>,
    /// The waiver of indirect and consequential damages; `value` is whom it protects.
    pub damages_waiver: Option<Term>,
    /// Days within which invoices are to be paid.
    pub payment_terms: Option<Period>,
    /// Length of a non-compete restriction.
    pub non_compete: Option<Period>,
    /// How long the duty of confidentiality lasts (its survival period), which an NDA
    /// playbook judges rather than the agreement's term.
    pub confidentiality_period: Option<Period>,
    /// How soon a security or personal-data breach must be notified ("within 72 hours").
    pub breach_notice: Option<Period>,
    /// Every monetary amount, in order.
    pub amounts: Vec<Money>,
    /// Standard terms (Bonterms, Common Paper) name the parties, dates and other key terms on
    /// a cover page signed with them: the sentence that says so, `value` "Cover Page". A
    /// review of the standard terms alone then says where those terms are instead of
    /// guessing them from clauses that do not hold them.
    pub cover_page: Option<Term>,
    /// Blanks the form leaves unfilled (`{governing_law}`, `[Fill in state]`, `[ ]`,
    /// `________`; not signature lines nor redactions), at most 100: `value` as written.
    pub placeholders: Vec<Term>,
}

impl Terms {
    /// Whether nothing at all was found.
    pub fn is_empty(&self) -> bool {
        self == &Terms::default()
    }

    /// The first non-renewal deadline on or after `today`: the first one, moved on by the
    /// renewal term until it is not past. `None` when the contract does not renew for a
    /// stated term.
    pub fn next_non_renewal_deadline(&self, today: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        let mut deadline = self.non_renewal_deadline.as_ref()?.date()?;
        let renewal = self.renewal_term.as_ref()?;
        // (Bounded: a renewal term is at least a day, and dates end in year 262143.)
        for _ in 0..10_000 {
            if deadline >= today {
                return Some(deadline);
            }
            deadline = add_period(deadline, renewal)?;
        }
        None
    }
}

/// The end of the initial term less the notice of non-renewal, for a contract that renews
/// for a stated term.
fn first_non_renewal_deadline(
    expiration: Option<&Term>,
    automatic: Option<&Term>,
    notice: Option<&Period>,
) -> Option<Term> {
    let (end, notice) = (expiration?.date()?, notice?);
    automatic.filter(|renews| renews.value == "yes")?;
    let deadline = subtract_period(end, notice)?;
    Some(Term { value: deadline.to_string(), start: notice.start, end: notice.end })
}

pub fn key_terms(text: &str) -> Terms {
    let dates: Vec<_> = find_dates(text).into_iter().filter(|(at, _, _)| !dates_no_agreement(text, *at)).collect();
    let agreement_date = agreement_date(text, &dates);
    let effective_date = effective_date(text, &dates).or_else(|| agreement_date.clone());
    let sentences: Vec<Sentence> = segments(text)
        .into_iter()
        .map(|s| Sentence { start: s.start, end: s.end, lower: text[s.start..s.end].to_ascii_lowercase() })
        .collect();
    let renewal = renewal(text, &sentences);
    let initial_term = initial_term(text, &sentences);
    let liability = liability(text, &sentences);
    let expiration_date = expiration_date(
        text,
        &dates,
        Start { effective: effective_date.as_ref(), dated: agreement_date.as_ref() },
        initial_term.as_ref(),
        &sentences,
    )
    .filter(|end| {
        let stated = effective_date.as_ref().filter(|date| is_stated_effective_date(text, date));
        !ends_before_it_starts(end, stated)
    });
    let non_renewal_deadline =
        first_non_renewal_deadline(expiration_date.as_ref(), renewal.automatic.as_ref(), renewal.notice.as_ref());
    Terms {
        parties: find_parties(text),
        expiration_date,
        agreement_date,
        effective_date,
        initial_term,
        renewal_term: renewal.term,
        auto_renewal: renewal.automatic,
        non_renewal_notice: renewal.notice,
        non_renewal_deadline,
        termination_notice: termination_notice(text, &sentences),
        governing_law: governing_law(text),
        venue: venue(text, &sentences),
        liability_cap: liability.cap,
        other_caps: liability.other_caps,
        cap_carve_outs: liability.carve_outs,
        damages_waiver: liability.damages_waiver,
        payment_terms: payment_terms(text, &sentences),
        non_compete: non_compete(text, &sentences),
        confidentiality_period: confidentiality_period(text, &sentences),
        breach_notice: breach_notice(text, &sentences),
        amounts: find_money(text, 0),
        cover_page: cover_page(text, &sentences),
        placeholders: placeholders(text),
    }
}

/// An end date before the stated effective date is a misreading (another agreement's date, a
/// sub-period's end), not an agreement that ended before it began. (Against a signing date
/// it can be true: an agreement signed after the period it covers.)
fn ends_before_it_starts(end: &Term, effective: Option<&Term>) -> bool {
    matches!((end.date(), effective.and_then(Term::date)), (Some(end), Some(start)) if end < start)
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

#[cfg(test)]
mod tests;
