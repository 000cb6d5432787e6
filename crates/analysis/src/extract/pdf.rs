//! PDF: the text layer of each page (lopdf, pure Rust), then the clean-up no backend does:
//! ligatures expanded, soft hyphens dropped, words hyphenated at line ends re-joined, and
//! running headers, footers and page numbers recognised (lines that repeat at the top or
//! bottom of most pages, or that are only a page number) and moved to furniture.

use std::collections::HashMap;

use super::{Deadline, ExtractError, Extracted, Format, Limits, PageSpan};

/// Fewer letters and digits than this on a page with an image: the page is a scan.
const SCAN_TEXT_THRESHOLD: usize = 32;

pub(super) fn extract(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<Extracted, ExtractError> {
    let mut document = lopdf::Document::load_mem(bytes).map_err(load_error)?;
    if document.is_encrypted() && document.decrypt("").is_err() {
        return Err(ExtractError::Encrypted);
    }
    let pages = document.get_pages();
    if pages.len() > limits.max_pages {
        return Err(ExtractError::TooLarge(format!("{} pages; at most {} are read", pages.len(), limits.max_pages)));
    }
    let mut warnings = Vec::new();
    let mut page_lines: Vec<(u32, Vec<String>)> = Vec::with_capacity(pages.len());
    let mut scanned_pages = Vec::new();
    for (&number, &page_id) in &pages {
        deadline.check()?;
        let text = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            super::pdf_text::page_text(&document, page_id, deadline)
        }));
        let text = match text {
            Ok(Err(err @ (ExtractError::Timeout(_) | ExtractError::TooLarge(_)))) => return Err(err),
            Ok(Ok(text)) => text,
            Ok(Err(err)) => {
                warnings.push(format!("page {number}: text could not be read ({err})"));
                String::new()
            }
            Err(_) => {
                warnings.push(format!("page {number}: text could not be read (parser failure)"));
                String::new()
            }
        };
        // A page that is an image with (almost) no text is a scan: its words are not here.
        let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
        if letters < SCAN_TEXT_THRESHOLD && document.get_page_images(page_id).is_ok_and(|images| !images.is_empty()) {
            scanned_pages.push(number);
        }
        page_lines.push((number, clean_lines(&text)));
    }
    let no_text = page_lines.iter().all(|(_, lines)| lines.iter().all(|l| l.trim().is_empty()));
    if no_text || scanned_pages.len() == page_lines.len() {
        return Err(ExtractError::NoTextLayer);
    }
    if !scanned_pages.is_empty() {
        warnings.push(format!("pages {scanned_pages:?} look scanned (no text layer); their text is missing"));
    }
    let furniture = remove_furniture(&mut page_lines);
    let mut text = String::new();
    let mut spans = Vec::with_capacity(page_lines.len());
    for (number, lines) in &page_lines {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let start = text.len();
        text.push_str(&join_lines(lines));
        spans.push(PageSpan { number: *number, start, end: text.len() });
    }
    Ok(Extracted { format: Format::Pdf, text, pages: spans, furniture, warnings })
}

fn load_error(err: lopdf::Error) -> ExtractError {
    let message = err.to_string();
    if message.to_ascii_lowercase().contains("encrypt") || message.to_ascii_lowercase().contains("password") {
        ExtractError::Encrypted
    } else {
        ExtractError::Corrupt(message)
    }
}

/// Lines of a page with ligatures expanded, soft hyphens removed and spacing normalised.
fn clean_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let mut out = String::with_capacity(line.len());
            for c in line.chars() {
                match c {
                    '\u{FB00}' => out.push_str("ff"),
                    '\u{FB01}' => out.push_str("fi"),
                    '\u{FB02}' => out.push_str("fl"),
                    '\u{FB03}' => out.push_str("ffi"),
                    '\u{FB04}' => out.push_str("ffl"),
                    '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
                    '\u{AD}' | '\u{0}' => {}
                    '\u{A0}' | '\t' => out.push(' '),
                    c if c.is_control() => {}
                    c => out.push(c),
                }
            }
            out.trim_end().to_owned()
        })
        .collect()
}

/// Joins a page's lines, re-joining words hyphenated at line ends ("agree-\nment").
fn join_lines(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        if out.is_empty() {
            out.push_str(line.trim_start());
            continue;
        }
        let next = line.trim_start();
        let hyphenated = out.ends_with('-')
            && out[..out.len() - 1].chars().next_back().is_some_and(char::is_alphabetic)
            && next.chars().next().is_some_and(char::is_lowercase);
        if hyphenated {
            out.pop();
            out.push_str(next);
        } else {
            out.push('\n');
            out.push_str(line);
        }
    }
    out
}

/// Shape of a line for repetition counting: case, spacing and numbers ignored.
fn shape(line: &str) -> String {
    let mut out = String::new();
    for word in line.split_whitespace() {
        let word: String =
            word.chars().map(|c| if c.is_ascii_digit() { '#' } else { c.to_ascii_lowercase() }).collect();
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

fn is_page_number(line: &str) -> bool {
    let l = line.trim().trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace()).to_ascii_lowercase();
    let l = l.strip_prefix("page").map(str::trim).unwrap_or(&l);
    let mut parts = l.split(" of ");
    let first = parts.next().unwrap_or_default().trim();
    let rest_ok = parts.all(|p| p.trim().chars().all(|c| c.is_ascii_digit()) && !p.trim().is_empty());
    !first.is_empty() && first.len() <= 6 && (first.chars().all(|c| c.is_ascii_digit()) || is_roman(first)) && rest_ok
}

fn is_roman(s: &str) -> bool {
    s.len() <= 6 && s.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l'))
}

/// Edge lines considered as headers/footers on each page.
const EDGE_LINES: usize = 2;

/// Removes running headers/footers and page numbers from the top and bottom of pages.
fn remove_furniture(pages: &mut [(u32, Vec<String>)]) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (_, lines) in pages.iter() {
        let mut seen = std::collections::HashSet::new();
        for index in edge_indices(lines) {
            let s = shape(&lines[index]);
            if !s.is_empty() && seen.insert(s.clone()) {
                *counts.entry(s).or_default() += 1;
            }
        }
    }
    let threshold = (pages.len() / 2).max(2);
    let page_count = pages.len();
    let repeated = |line: &str| page_count >= 3 && counts.get(&shape(line)).is_some_and(|n| *n >= threshold);
    let mut furniture: Vec<String> = Vec::new();
    for (_, lines) in pages.iter_mut() {
        let mut drop = vec![false; lines.len()];
        for index in edge_indices(lines) {
            let line = lines[index].trim();
            if is_page_number(line) || repeated(line) {
                drop[index] = true;
                if !furniture.iter().any(|f| shape(f) == shape(line)) {
                    furniture.push(line.to_owned());
                }
            }
        }
        let mut index = 0;
        lines.retain(|_| {
            let keep = !drop[index];
            index += 1;
            keep
        });
    }
    furniture
}

/// Indices of the first and last few non-empty lines.
fn edge_indices(lines: &[String]) -> Vec<usize> {
    let filled: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].trim().is_empty()).collect();
    let mut out: Vec<usize> = filled.iter().take(EDGE_LINES).copied().collect();
    for &i in filled.iter().rev().take(EDGE_LINES) {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_words_are_rejoined_and_ligatures_expanded() {
        let lines = clean_lines("This agree-\nment is de\u{FB01}ned\nas Non-\nCompete.");
        assert_eq!(join_lines(&lines), "This agreement is defined\nas Non-\nCompete.");
    }

    #[test]
    fn running_headers_and_page_numbers_become_furniture() {
        let words = ["alpha", "bravo", "charlie", "delta"];
        let page = |n: u32| {
            let word = words[n as usize - 1];
            let mut lines = vec!["ACME CONFIDENTIAL".to_owned()];
            lines.extend((0..5).map(|i| format!("The {word} clause, line {i}, says {word}.")));
            lines.push(format!("Page {n} of 4"));
            (n, lines)
        };
        let mut pages: Vec<_> = (1..=4).map(page).collect();
        let furniture = remove_furniture(&mut pages);
        assert!(pages.iter().all(|(_, lines)| lines.len() == 5 && lines[0].starts_with("The ")), "{pages:?}");
        assert_eq!(furniture.len(), 2, "{furniture:?}");
    }

    #[test]
    fn page_numbers_are_recognised() {
        for line in ["12", "- 4 -", "Page 3", "page 3 of 10", "iv"] {
            assert!(is_page_number(line), "{line}");
        }
        for line in ["12. Term", "Section 4", "Page one"] {
            assert!(!is_page_number(line), "{line}");
        }
    }
}
