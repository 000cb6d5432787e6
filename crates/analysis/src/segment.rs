//! Segments: the units the classifier labels. A segment is a paragraph (a line of the
//! extracted text), cut at sentence ends when it is long (PDF text blocks and run-on
//! paragraphs), so that evidence spans stay clause-sized. Offsets are bytes into the text.

use serde::Serialize;

/// Paragraphs longer than this are cut at sentence boundaries.
const MAX_SEGMENT_BYTES: usize = 700;
/// Pieces shorter than this are merged into the previous one.
const MIN_SEGMENT_BYTES: usize = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
}

impl Segment {
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        &text[self.start..self.end]
    }
}

/// Splits `text` into segments covering every non-blank line. A line that continues a
/// sentence (the previous line has no closing punctuation and this one starts in lower case,
/// as in the visual lines of a PDF) joins the previous line's paragraph.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut paragraphs: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed_start = start + (line.len() - line.trim_start().len());
        let end = start + line.trim_end().len();
        if end <= trimmed_start {
            paragraphs.push((0, 0)); // a blank line always ends a paragraph
            continue;
        }
        let continues = text[trimmed_start..end].chars().next().is_some_and(char::is_lowercase);
        match paragraphs.last_mut() {
            Some(last)
                if continues && last.1 > last.0 && !text[last.0..last.1].ends_with(['.', ';', ':', '!', '?']) =>
            {
                last.1 = end
            }
            _ => paragraphs.push((trimmed_start, end)),
        }
    }
    let mut out = Vec::new();
    for (start, end) in paragraphs.into_iter().filter(|(s, e)| e > s) {
        split_long(text, start, end, &mut out);
    }
    out
}

fn split_long(text: &str, start: usize, end: usize, out: &mut Vec<Segment>) {
    if end - start <= MAX_SEGMENT_BYTES {
        out.push(Segment { start, end });
        return;
    }
    let slice = &text[start..end];
    let bytes = slice.as_bytes();
    let mut piece_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let is_end = matches!(bytes[i], b'.' | b';' | b'?' | b'!')
            && bytes.get(i + 1).is_some_and(|b| *b == b' ')
            && bytes.get(i + 2).is_some_and(|b| b.is_ascii_uppercase() || *b == b'(' || b.is_ascii_digit());
        if is_end && i + 1 - piece_start >= MIN_SEGMENT_BYTES {
            out.push(Segment { start: start + piece_start, end: start + i + 1 });
            piece_start = i + 2;
        }
        i += 1;
    }
    if piece_start < bytes.len() {
        let tail = Segment { start: start + piece_start, end };
        match out.last_mut() {
            Some(last)
                if tail.end - tail.start < MIN_SEGMENT_BYTES
                    && last.end + 1 >= start + piece_start - 1
                    && last.start >= start =>
            {
                last.end = tail.end
            }
            _ => out.push(tail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_segments_and_long_ones_are_cut_at_sentences() {
        let long = format!(
            "{} Second sentence here is long enough to stand alone. Tail.",
            "First sentence is long. ".repeat(40)
        );
        let text = format!("1. Title\n\n{long}\nLast line\nand its continuation");
        let segs = segments(&text);
        assert_eq!(segs[0].text(&text), "1. Title");
        assert!(segs.len() > 3);
        assert!(segs.iter().all(|s| s.end - s.start <= MAX_SEGMENT_BYTES));
        assert_eq!(segs.last().map(|s| s.text(&text)), Some("Last line\nand its continuation"));
        for pair in segs.windows(2) {
            assert!(pair[0].end <= pair[1].start);
        }
    }
}
