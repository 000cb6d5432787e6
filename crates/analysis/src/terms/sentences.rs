//! Sentences of a contract as key-term readers see them: segments with their lower-cased
//! text (same byte offsets), broken sentences joined, and the small text helpers the readers share.

use super::*;

/// A segment of the text with its ASCII-lower-cased form, which keeps byte offsets, so a
/// cue found in it is at the same offset in the original.
#[derive(Clone)]
pub(super) struct Sentence {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) lower: String,
}

impl Sentence {
    /// Bytes `from..to` of the sentence (ASCII boundaries: cut after '.' or ';').
    pub(super) fn part(&self, from: usize, to: usize) -> Sentence {
        Sentence { start: self.start + from, end: self.start + to, lower: self.lower[from..to].to_string() }
    }

    pub(super) fn has(&self, cues: &[&str]) -> bool {
        cues.iter().any(|cue| self.lower.contains(cue))
    }

    /// [`Sentence::has`] for cues read from a wording table.
    pub(super) fn has_any(&self, cues: &[String]) -> bool {
        cues.iter().any(|cue| self.lower.contains(cue.as_str()))
    }

    pub(super) fn periods(&self, text: &str) -> Vec<Period> {
        find_periods(&text[self.start..self.end], self.start)
    }
}

/// Segments joined to the next while they do not end a sentence (at most three, 1,000 bytes).
pub(super) fn join_broken_sentences(text: &str, segments: &[Sentence]) -> Vec<Sentence> {
    let mut out: Vec<Sentence> = Vec::with_capacity(segments.len());
    let mut open = 0;
    for segment in segments {
        match out.last_mut() {
            // (A blank line ends a paragraph whatever its last character: "4.0 TERM".)
            Some(last)
                if open > 0
                    && open < 4
                    && segment.end - last.start <= 1000
                    && !text[last.end..segment.start].contains("\n\n") =>
            {
                last.end = segment.end;
                last.lower = text[last.start..last.end].to_ascii_lowercase();
                open += 1;
            }
            _ => {
                out.push(Sentence { start: segment.start, end: segment.end, lower: segment.lower.clone() });
                open = 1;
            }
        }
        if segment.lower.trim_end().trim_end_matches(['*', '_']).ends_with(['.', ';', ':', '!', '?']) {
            open = 0;
        }
    }
    out
}

/// The sentences of a segment: cut after a period or a semicolon followed by white space and
/// a capital, a digit, a parenthesis or more white space (abbreviations such as "Inc. The" cut
/// too, which only costs a sentence its first words).
pub(super) fn split_sentences(text: &str, segment: &Sentence) -> Vec<Sentence> {
    let bytes = segment.lower.as_bytes();
    let original = |i: usize| if i < bytes.len() { text.as_bytes()[segment.start + i] } else { b' ' };
    let mut out = Vec::new();
    let mut from = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if !matches!(byte, b'.' | b';') || i < from {
            continue;
        }
        // Past Markdown emphasis closing the sentence (".**").
        let mut end = i + 1;
        while end < bytes.len() && matches!(original(end), b'*' | b'_') {
            end += 1;
        }
        let next = original(end + 1);
        let cut = original(end).is_ascii_whitespace()
            && (next.is_ascii_uppercase()
                || next.is_ascii_digit()
                || next == b'('
                || next.is_ascii_whitespace()
                || (next == b'*' && original(end + 3).is_ascii_uppercase()));
        if cut && end > from {
            out.push(segment.part(from, end));
            from = (end + 1).min(bytes.len());
        }
    }
    if from < bytes.len() {
        out.push(segment.part(from, bytes.len()));
    }
    out
}

/// Words with their byte offsets.
pub(super) fn words_with_offsets(text: &str) -> Vec<(usize, &str)> {
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

pub(super) fn lower_window(text: &str, start: usize, end: usize) -> String {
    let s = crate::floor_boundary(text, start);
    let mut e = end.min(text.len());
    while !text.is_char_boundary(e) {
        e += 1;
    }
    text[s..e].to_lowercase()
}

/// The end of `window` back to the start of its sentence (a line break, ";" or ". ").
pub(super) fn sentence_so_far(window: &str) -> &str {
    let clause = window.rsplit(['\n', ';']).next().unwrap_or("");
    clause.rsplit(". ").next().unwrap_or("")
}
