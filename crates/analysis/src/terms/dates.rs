//! Dates written in the styles contracts use ("October 1, 2019", "23rd day of September,
//! 2016", "1/13/2005"), their normal form, and date arithmetic for terms counted from a date.

use chrono::{Days, Months, NaiveDate};

use super::*;

/// How a period moves a date: days and weeks as days, months and years as calendar months.
enum Step {
    Days(Days),
    Months(Months),
}

fn step(period: &Period) -> Option<Step> {
    if ["hour", "hours", "day", "days", "week", "weeks"].iter().any(|unit| period.value.ends_with(unit)) {
        return Some(Step::Days(Days::new(u64::from(period.days))));
    }
    let count: u32 = period.value.split(' ').next()?.parse().ok()?;
    let months = if period.value.contains("year") { count.checked_mul(12)? } else { count };
    Some(Step::Months(Months::new(months)))
}

/// A date plus a period (a day past the month's end falls back to its last day: 31 January
/// + 1 month is 28 February).
pub(super) fn add_period(date: NaiveDate, period: &Period) -> Option<NaiveDate> {
    match step(period)? {
        Step::Days(days) => date.checked_add_days(days),
        Step::Months(months) => date.checked_add_months(months),
    }
}

/// A date less a period (the inverse of [`add_period`]).
pub(super) fn subtract_period(date: NaiveDate, period: &Period) -> Option<NaiveDate> {
    match step(period)? {
        Step::Days(days) => date.checked_sub_days(days),
        Step::Months(months) => date.checked_sub_months(months),
    }
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

/// Every date in the text: (start, end, the date). A day the month does not have ("February
/// 30, 2020") is no date.
pub fn find_dates(text: &str) -> Vec<(usize, usize, NaiveDate)> {
    // A comma set apart ("April 15 , 2010") is not a word of the date.
    let words: Vec<(usize, &str)> = words_with_offsets(text).into_iter().filter(|(_, w)| *w != ",").collect();
    let mut out = Vec::new();
    let format = |m: u32, d: u32, y: u32| i32::try_from(y).ok().and_then(|y| NaiveDate::from_ymd_opt(y, m, d));
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
                // Two-digit years pivot as POSIX `%y` does: 69–99 are 19xx, 00–68 are 20xx.
                let y = match y {
                    0..=68 => 2000 + y,
                    69..=99 => 1900 + y,
                    _ => y,
                };
                if (1..=12).contains(&m) && (1..=31).contains(&d) && (1900..=2100).contains(&y) {
                    out.push((words[i].0, end_of(i), format(m, d, y)));
                }
            }
        }
    }
    out.into_iter().filter_map(|(start, end, date)| Some((start, end, date?))).collect()
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
