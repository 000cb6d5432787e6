//! Dates written in the styles contracts use ("October 1, 2019", "23rd day of September,
//! 2016", "1/13/2005"), their normal form, and date arithmetic for terms counted from a date.

use super::*;

/// "m/d/yy" plus a period, as "m/d/yy" (days past a month's end fall back to its last day).
pub(super) fn add_period(date: &str, period: &Period) -> Option<String> {
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
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let (year, month) = (year + (month - 1).div_euclid(12), (month - 1).rem_euclid(12) + 1);
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
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

pub(super) const MONTHS: [&str; 12] = [
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

pub(super) fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches(['.', ',']).to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&w) && (w.len() >= 3) && (w.len() == m.len() || w.len() <= 4))
        .map(|i| i as u32 + 1)
}

pub(super) fn day_of(word: &str) -> Option<u32> {
    let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
    let rest = &word[digits.len()..];
    let suffix_ok = matches!(rest.trim_end_matches([',', '.']), "" | "st" | "nd" | "rd" | "th");
    let day: u32 = digits.parse().ok()?;
    (suffix_ok && (1..=31).contains(&day)).then_some(day)
}

pub(super) fn year_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches([',', '.', ')', ';']);
    let year: u32 = w.parse().ok()?;
    (w.len() == 4 && (1900..=2100).contains(&year)).then_some(year)
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
pub(super) fn numeric_date(value: &str) -> Option<String> {
    let parts: Vec<u32> = value.split('/').map(|part| part.parse().ok()).collect::<Option<_>>()?;
    let [first, second, year] = parts[..] else { return None };
    let (month, day) = if first > 12 && second <= 12 { (second, first) } else { (first, second) };
    (1..=12).contains(&month).then_some(())?;
    (1..=31).contains(&day).then_some(())?;
    Some(format!("{month}/{day}/{:02}", year % 100))
}
