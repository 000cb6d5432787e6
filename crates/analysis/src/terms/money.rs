//! Monetary amounts with their currency ("$1,500,000", "US$ 2 million", "EUR 10,000",
//! "£500"), with offsets, for the key-terms table and liability caps.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Money {
    /// ISO 4217 code.
    pub currency: &'static str,
    pub amount: f64,
    /// As written.
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Currency markers, longest first so that "US$" wins over "$".
const MARKERS: [(&str, &str); 10] = [
    ("US$", "USD"),
    ("USD", "USD"),
    ("CAD", "CAD"),
    ("C$", "CAD"),
    ("EUR", "EUR"),
    ("GBP", "GBP"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("$", "USD"),
];

/// Every amount in `text`, offsets shifted by `base`.
pub fn find_money(text: &str, base: usize) -> Vec<Money> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let Some((marker, currency)) = MARKERS.iter().find(|(m, _)| rest.starts_with(m)) else {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        // A code must stand alone ("USD", not "USDA").
        let before_ok = text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let mut cursor = at + marker.len();
        let after_marker = &text[cursor..];
        let skipped = after_marker.len() - after_marker.trim_start_matches(' ').len();
        cursor += skipped.min(1);
        let digits_len = text[cursor..]
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == ',' || *c == '.'))
            .map_or(text.len() - cursor, |(i, _)| i);
        let mut figure = &text[cursor..cursor + digits_len];
        // A trailing full stop or comma ends the sentence, not the number.
        figure = figure.trim_end_matches(['.', ',']);
        if !before_ok || figure.is_empty() || !figure.starts_with(|c: char| c.is_ascii_digit()) {
            at += marker.len();
            continue;
        }
        let Ok(mut amount) = figure.replace(',', "").parse::<f64>() else {
            at += marker.len();
            continue;
        };
        let mut end = cursor + figure.len();
        let tail = text[end..].to_ascii_lowercase();
        for (word, factor) in [(" million", 1e6), (" billion", 1e9), (" thousand", 1e3)] {
            if tail.starts_with(word) {
                amount *= factor;
                end += word.len();
                break;
            }
        }
        out.push(Money { currency, amount, text: text[at..end].to_owned(), start: base + at, end: base + end });
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_with_currencies() {
        let text = "a fee of $1,500,000.00, up to US$ 2 million, EUR 10,000 or £500. USDA rules; $ and $.";
        let found: Vec<(&str, f64)> = find_money(text, 0).iter().map(|m| (m.currency, m.amount)).collect();
        assert_eq!(found, [("USD", 1_500_000.0), ("USD", 2_000_000.0), ("EUR", 10_000.0), ("GBP", 500.0)]);
        let first = &find_money(text, 0)[0];
        assert_eq!(&text[first.start..first.end], "$1,500,000.00");
    }
}
