//! Periods of time as contracts write them ("thirty (30) days", "12 months", "a one-year
//! term", "60-day"), with their offsets, so that terms, notices and playbook thresholds can
//! compare them.

use serde::Serialize;

/// A period found in the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// As normalised: "30 days", "12 months", "2 years".
    pub value: String,
    /// Length in days (a month counts 30, a year 365), to compare against thresholds.
    pub days: u32,
    pub start: usize,
    pub end: usize,
}

impl Period {
    /// Length in whole months (30 days each), rounded.
    pub fn months(&self) -> u32 {
        (self.days + 15) / 30
    }
}

const NUMBER_WORDS: [(&str, u32); 29] = [
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("eighteen", 18),
    ("twenty", 20),
    ("twenty-four", 24),
    ("thirty", 30),
    ("thirty-six", 36),
    ("forty-five", 45),
    ("forty-eight", 48),
    ("seventy-two", 72),
    ("sixty", 60),
    ("ninety", 90),
    ("a", 1),
    ("an", 1),
    ("one hundred twenty", 120),
    ("one hundred eighty", 180),
];

fn number(word: &str) -> Option<u32> {
    let w = word.trim_matches(|c: char| matches!(c, '(' | ')' | ',' | '"'));
    if !w.is_empty() && w.len() <= 4 && w.bytes().all(|b| b.is_ascii_digit()) {
        return w.parse().ok();
    }
    let lower = w.to_ascii_lowercase();
    NUMBER_WORDS.iter().find(|(name, _)| *name == lower).map(|(_, n)| *n)
}

/// Hours in one unit, for a unit word ("hours", "days", "month", "years'").
fn unit(word: &str) -> Option<(u32, &'static str)> {
    let w = word.trim_end_matches([',', '.', ';', ')', ':', '\'', '’']);
    let w = w.to_ascii_lowercase();
    let w = w.trim_end_matches("'s").trim_end_matches('s');
    match w {
        "hour" => Some((1, "hour")),
        "day" => Some((24, "day")),
        "week" => Some((7 * 24, "week")),
        "month" => Some((30 * 24, "month")),
        "year" => Some((365 * 24, "year")),
        _ => None,
    }
}

/// A period of `amount` units of `unit_hours` each; its days rounded up ("72 hours" is 3 days,
/// "36 hours" 2), so that day thresholds apply to it.
fn make(amount: u32, unit_hours: u32, unit_name: &str, start: usize, end: usize) -> Option<Period> {
    if amount == 0 || amount > 1200 {
        return None;
    }
    let plural = if amount == 1 { "" } else { "s" };
    let days = (amount * unit_hours).div_ceil(24);
    Some(Period { value: format!("{amount} {unit_name}{plural}"), days, start, end })
}

/// Every period in `text`, offsets shifted by `base`.
pub fn find_periods(text: &str, base: usize) -> Vec<Period> {
    let words = super::words_with_offsets(text);
    let mut out: Vec<Period> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (start, word) = words[i];
        // "60-day", "12-month", "one-year"
        if let Some((head, tail)) = word.split_once('-') {
            if let (Some(n), Some((days, name))) = (number(head), unit(tail)) {
                if let Some(p) = make(n, days, name, base + start, base + start + word.len()) {
                    out.push(p);
                }
                i += 1;
                continue;
            }
        }
        // "one hundred twenty (120) days"
        let mut n = number(word);
        let mut next = i + 1;
        if n.is_none() && i + 2 < words.len() {
            let three = format!("{} {} {}", word, words[i + 1].1, words[i + 2].1).to_ascii_lowercase();
            n = NUMBER_WORDS.iter().find(|(name, _)| *name == three).map(|(_, v)| *v);
            next = i + 3;
        }
        let Some(mut n) = n else {
            i += 1;
            continue;
        };
        // "thirty (30) days": the figure in parentheses wins.
        if let Some((_, w)) = words.get(next) {
            if w.ends_with(')') {
                if let Some(figure) = number(w) {
                    n = figure;
                    next += 1;
                }
            }
        }
        // "calendar days", "business days", "consecutive months", "three (3) additional years"
        // (Up to two of them: "twelve (12) full calendar months".)
        for _ in 0..2 {
            if words.get(next).is_some_and(|(_, w)| {
                matches!(
                    w.to_ascii_lowercase().as_str(),
                    "calendar"
                        | "business"
                        | "consecutive"
                        | "full"
                        | "working"
                        | "additional"
                        | "further"
                        | "successive"
                        | "contract"
                )
            }) {
                next += 1;
            }
        }
        if let Some((unit_start, unit_word)) = words.get(next) {
            if let Some((days, name)) = unit(unit_word) {
                let end = unit_start + unit_word.trim_end_matches([',', '.', ';', ')', ':']).len();
                // "a" and "an" only count before a unit ("a one year term" is caught at "one").
                let is_article = matches!(word.to_ascii_lowercase().as_str(), "a" | "an");
                if !is_article || next == i + 1 {
                    if let Some(p) = make(n, days, name, base + start, base + end) {
                        out.push(p);
                    }
                }
                i = next + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_in_contract_styles() {
        let text = "within thirty (30) days, a 12-month term, two (2) years, 90 calendar days' notice, \
                    one hundred twenty (120) days and a year";
        let found: Vec<(String, u32)> = find_periods(text, 0).into_iter().map(|p| (p.value, p.days)).collect();
        assert_eq!(
            found,
            [
                ("30 days".to_owned(), 30),
                ("12 months".to_owned(), 360),
                ("2 years".to_owned(), 730),
                ("90 days".to_owned(), 90),
                ("120 days".to_owned(), 120),
                ("1 year".to_owned(), 365),
            ]
        );
        let p = &find_periods("notice of sixty (60) days.", 10)[0];
        assert_eq!(&"xxxxxxxxxxnotice of sixty (60) days."[p.start..p.end], "sixty (60) days");
        assert!(find_periods("Section 12 of the Agreement", 0).is_empty());
    }
}
