//! Key terms read from the text: governing law, agreement date and effective date, each
//! normalised (dates as m/d/yy, as CUAD writes them; the law as the state or country) and
//! with the byte offsets of the words it came from. More terms (parties, renewal, notice,
//! money and caps) come next.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Terms {
    pub governing_law: Option<Term>,
    pub agreement_date: Option<Term>,
    pub effective_date: Option<Term>,
}

pub fn key_terms(text: &str) -> Terms {
    let dates = find_dates(text);
    let agreement_date = agreement_date(text, &dates);
    let effective_date = effective_date(text, &dates).or_else(|| agreement_date.clone());
    Terms { governing_law: governing_law(text), agreement_date, effective_date }
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
    let words = words_with_offsets(text);
    let mut out = Vec::new();
    let format = |m: u32, d: u32, y: u32| format!("{m}/{d}/{:02}", y % 100);
    let end_of = |i: usize| words[i].0 + words[i].1.trim_end_matches([',', '.', ')', ';']).len();
    for i in 0..words.len() {
        let w = |k: usize| words.get(i + k).map(|(_, w)| *w).unwrap_or("");
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
        // MM/DD/YYYY
        let numbers: Vec<&str> = w(0).trim_end_matches([',', '.', ')', ';']).split('/').collect();
        if numbers.len() == 3 {
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
    let mut s = start.min(text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = end.min(text.len());
    while !text.is_char_boundary(e) {
        e += 1;
    }
    text[s..e].to_lowercase()
}

/// The date the agreement is made: an early date introduced by "dated", "as of", "made" or
/// "entered into"; else the first date of the opening.
fn agreement_date(text: &str, dates: &[(usize, usize, String)]) -> Option<Term> {
    let opening: Vec<&(usize, usize, String)> = dates.iter().filter(|(s, _, _)| *s < 5000).collect();
    let introduced = opening.iter().find(|(s, _, _)| {
        let before = lower_window(text, s.saturating_sub(80), *s);
        ["dated", "as of", "made", "entered into", "date:"].iter().any(|cue| before.contains(cue))
    });
    introduced.or(opening.first()).map(|(s, e, v)| Term { value: v.clone(), start: *s, end: *e })
}

/// A date introduced as the effective or commencement date.
fn effective_date(text: &str, dates: &[(usize, usize, String)]) -> Option<Term> {
    dates
        .iter()
        .find(|(s, _, _)| {
            let before = lower_window(text, s.saturating_sub(120), *s);
            before.contains("effective") || before.contains("commenc")
        })
        .map(|(s, e, v)| Term { value: v.clone(), start: *s, end: *e })
}

const CANADIAN_PROVINCES: [&str; 6] = ["Ontario", "British Columbia", "Quebec", "Alberta", "Manitoba", "Nova Scotia"];

/// The jurisdiction after "laws of" in a governing-law sentence.
fn governing_law(text: &str) -> Option<Term> {
    let lower = text.to_lowercase();
    let mut search = 0;
    while let Some(found) = lower[search..].find("laws of") {
        let at = search + found;
        search = at + 7;
        let window = lower_window(text, at.saturating_sub(200), at);
        if !(window.contains("governed") || window.contains("construed") || window.contains("governing law")) {
            continue;
        }
        let mut rest_start = at + "laws of".len();
        let mut rest = &text[rest_start..];
        for prefix in [" the", " State of", " state of", " Commonwealth of", " Province of", " province of"] {
            if let Some(stripped) = rest.strip_prefix(prefix) {
                rest_start += prefix.len();
                rest = stripped;
            }
        }
        let (start, name) = jurisdiction(text, rest_start)?;
        let value = if CANADIAN_PROVINCES.contains(&name.as_str()) { format!("{name}, Canada") } else { name.clone() };
        return Some(Term { value, start, end: start + name.len() });
    }
    None
}

/// Capitalised words (joined by "of", "and" or "'s") from `from`.
fn jurisdiction(text: &str, from: usize) -> Option<(usize, String)> {
    let rest = &text[from..];
    let trimmed = rest.trim_start();
    let start = from + (rest.len() - trimmed.len());
    let mut words: Vec<&str> = Vec::new();
    for word in trimmed.split_whitespace() {
        let clean = word.trim_end_matches([',', '.', ';', ')', ':']);
        let capital = clean.chars().next().is_some_and(char::is_uppercase);
        let joiner = matches!(clean, "of" | "and") && !words.is_empty();
        if capital || joiner {
            words.push(clean);
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
    while words.last().is_some_and(|w| matches!(*w, "of" | "and")) {
        words.pop();
    }
    (!words.is_empty()).then(|| (start, words.join(" ")))
}

/// Normalises a value for comparison (case, punctuation, "the", "State of").
pub fn normalise(value: &str) -> String {
    let lower = value.to_lowercase().replace("state of ", "").replace("the ", "");
    lower
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '/' || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_contract_styles_are_normalised() {
        let text = "dated October 1, 2019 and 23rd day of September, 2016 or 22 Dec. 2017 or 1/13/2005.";
        let values: Vec<String> = find_dates(text).into_iter().map(|d| d.2).collect();
        assert_eq!(values, ["10/1/19", "9/23/16", "12/22/17", "1/13/05"]);
    }

    #[test]
    fn the_agreement_and_effective_dates_are_told_apart() {
        let text = "This Services Agreement is made as of October 1, 2019 (the \"Agreement\"), effective as of November 1, 2019.";
        let terms = key_terms(text);
        assert_eq!(terms.agreement_date.map(|t| t.value).as_deref(), Some("10/1/19"));
        assert_eq!(terms.effective_date.map(|t| t.value).as_deref(), Some("11/1/19"));
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
        ];
        for (text, expected) in cases {
            let term = governing_law(text).expect(text);
            assert_eq!(term.value, expected);
            assert!(text[term.start..term.end].starts_with(expected.split(',').next().unwrap_or_default()));
        }
        assert!(governing_law("The laws of physics apply.").is_none());
    }
}
