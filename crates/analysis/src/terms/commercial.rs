//! Commercial terms: payment terms, the length of a non-compete, how long confidentiality
//! lasts, and how soon a data breach must be notified.

use super::*;

/// How long the duty of confidentiality lasts: the period it survives for or runs for
/// ("shall survive for three (3) years after disclosure", "survive the term … by three (3)
/// additional years"), read from a sentence about confidentiality, not the agreement's term.
pub(super) fn confidentiality_period(text: &str, sentences: &[Sentence]) -> Option<Period> {
    sentences
        .iter()
        .filter(|s| s.has(&["confidential"]))
        .filter(|s| s.has(&["surviv", "for a period of", "years after", "years from", "years following", "thereafter"]))
        .find_map(|s| {
            let periods: Vec<Period> = s.periods(text).into_iter().filter(|p| p.days >= 180).collect();
            let after_cue = ["surviv", "period of", "continue"].iter().filter_map(|cue| s.lower.find(cue)).min();
            match after_cue {
                Some(at) => {
                    periods.iter().find(|p| p.start >= s.start + at).cloned().or_else(|| periods.first().cloned())
                }
                None => periods.first().cloned(),
            }
        })
}

/// Days to pay an invoice ("within thirty (30) days of receipt of invoice", "net 30").
pub(super) fn payment_terms(text: &str, sentences: &[Sentence]) -> Option<Period> {
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
pub(super) fn non_compete(text: &str, sentences: &[Sentence]) -> Option<Period> {
    sentences
        .iter()
        .filter(|s| s.has(&["compet"]) && s.has(&["shall not", "will not", "agrees not", "covenants not", "refrain"]))
        .filter_map(|s| s.periods(text).into_iter().filter(|p| p.days >= 28).max_by_key(|p| p.days))
        .next()
}

/// How soon a breach of security or of personal data must be notified ("notify Customer of
/// any Personal Data Breach without undue delay and in any event within seventy-two (72)
/// hours", "no later than 72 hours after becoming aware"): the period after "within" or "no
/// later than" in a sentence about notifying such a breach.
pub(super) fn breach_notice(text: &str, sentences: &[Sentence]) -> Option<Period> {
    sentences
        .iter()
        .filter(|s| s.has(&["breach", "incident", "unauthori"]))
        .filter(|s| s.has(&["personal data", "personal information", "security", "customer data", "data breach"]))
        .filter(|s| s.has(&["notify", "notif", "inform", "report"]))
        .find_map(|s| {
            s.periods(text).into_iter().find(|p| {
                let before = lower_window(text, p.start.saturating_sub(16), p.start);
                ["within", "no later than", "not later than"].iter().any(|cue| before.contains(cue)) && p.days <= 60
            })
        })
}
