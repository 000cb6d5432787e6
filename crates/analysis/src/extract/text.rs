//! TXT and Markdown: the text is the input exactly as given, so offsets index the file.
//!
//! Markdown may carry inline HTML (Common Paper's agreements wrap every heading in
//! `<span class="header_3" id="8.2">…</span>`). It is markup, not words of the contract: the
//! analysis reads a view of the text with it blanked out, byte for byte, so that every offset
//! still indexes the file.

use super::{ExtractError, Extracted, Format};

pub(super) fn extract(bytes: &[u8], format: Format) -> Result<Extracted, ExtractError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ExtractError::Unsupported(format!("not UTF-8 text: {e}")))?;
    Ok(Extracted { format, text: text.to_owned(), pages: Vec::new(), furniture: Vec::new(), warnings: Vec::new() })
}

/// Longest stretch taken for one HTML tag; beyond it a `<` is text ("a < b … > c").
const MAX_TAG_BYTES: usize = 1_000;

/// `text` with HTML tags (`<span …>`, `</span>`, `<br/>`) and comments (`<!-- … -->`)
/// replaced by spaces, line breaks kept; the same length, so offsets into it index `text`.
/// `None` when there is no markup. Autolinks (`<https://…>`, `<a@b.com>`) are text.
pub(super) fn blank_inline_html(text: &str) -> Option<String> {
    let markup = inline_html(text);
    if markup.is_empty() {
        return None;
    }
    let mut blanked = text.as_bytes().to_vec();
    for (start, end) in markup {
        for byte in &mut blanked[start..end] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    }
    // Each blanked stretch runs from an ASCII '<' to an ASCII '>' and every byte of it became
    // a space, so the result is still UTF-8; checked all the same rather than assumed.
    String::from_utf8(blanked).ok()
}

/// `text` without its HTML tags and comments: what a reader should see quoted.
pub(super) fn strip_inline_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in inline_html(text) {
        out.push_str(&text[at..start]);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Byte ranges of the HTML tags and comments in `text`, in order.
fn inline_html(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    // Once a comment is found unclosed, no later one can close: not searching again keeps a
    // file of many "<!--" linear.
    let mut comments_can_close = true;
    while let Some(offset) = text.get(at..).and_then(|rest| rest.find('<')) {
        let start = at + offset;
        match markup_end(bytes, start, &mut comments_can_close) {
            Some(end) => {
                out.push((start, end));
                at = end;
            }
            None => at = start + 1,
        }
    }
    out
}

/// End (exclusive) of the HTML tag or comment starting at `start` (a `<`), if it is one.
/// `comments_can_close` turns false when a comment has no end.
fn markup_end(bytes: &[u8], start: usize, comments_can_close: &mut bool) -> Option<usize> {
    let rest = &bytes[start..];
    if rest.starts_with(b"<!--") {
        if !*comments_can_close {
            return None;
        }
        let Some(close) = rest[4..].windows(3).position(|w| w == b"-->") else {
            *comments_can_close = false;
            return None;
        };
        return Some(start + 4 + close + 3);
    }
    let mut at = start + 1;
    if bytes.get(at) == Some(&b'/') {
        at += 1;
    }
    if !bytes.get(at).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    while bytes.get(at).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-') {
        at += 1;
    }
    // After the name: attributes, a self-closing slash, or the end.
    if !matches!(bytes.get(at), Some(b' ' | b'\t' | b'/' | b'>')) {
        return None;
    }
    let limit = bytes.len().min(start + MAX_TAG_BYTES);
    let close = bytes[at..limit].iter().position(|b| matches!(b, b'>' | b'<' | b'\n'))?;
    (bytes[at + close] == b'>').then_some(at + close + 1)
}

#[cfg(test)]
mod tests {
    use super::{blank_inline_html, strip_inline_html};

    #[test]
    fn html_in_markdown_is_blanked_to_the_same_length() {
        let text = "8. <span class=\"header_3\" id=\"8.2\">Damages Waiver.</span> **Except** as <br/>provided\n<!-- a\nnote -->Done";
        let blanked = blank_inline_html(text).expect("markup found");
        assert_eq!(blanked.len(), text.len());
        assert!(!blanked.contains('<') && !blanked.contains('>'), "{blanked}");
        assert!(blanked.contains("Damages Waiver."));
        assert!(blanked.contains("**Except** as"));
        assert_eq!(blanked.matches('\n').count(), text.matches('\n').count(), "line breaks kept");
        let at = text.find("Damages").expect("in text");
        assert_eq!(&blanked[at..at + 7], "Damages", "offsets index the original");
    }

    #[test]
    fn quoted_markdown_drops_its_markup() {
        let text = "2. <span class=\"header_3\" id=\"8.2\">Damages Waiver.</span> See <https://x.org>.<!-- n -->";
        assert_eq!(strip_inline_html(text), "2. Damages Waiver. See <https://x.org>.");
        assert_eq!(strip_inline_html("no markup < here"), "no markup < here");
    }

    #[test]
    fn text_that_only_looks_like_markup_is_kept() {
        for text in [
            "See <https://commonpaper.com/standards> or <legal@example.com>.",
            "If a < b and c > d, the price of <5 units is fixed.",
            "An unclosed <span class=\"x\" and more text\n>",
            "Plain text with no markup at all: é, “quotes”.",
        ] {
            assert_eq!(blank_inline_html(text), None, "{text}");
        }
    }

    #[test]
    fn many_unclosed_comments_are_read_in_one_pass() {
        // Searching for "-->" from each of them again would take quadratic time.
        let text = "<!-- ".repeat(100_000);
        assert_eq!(blank_inline_html(&text), None);
        assert_eq!(strip_inline_html(&text), text);
    }

    #[test]
    fn markup_around_multibyte_text_stays_valid_utf8() {
        let text = "<span title=\"Überschrift “8”\">Haftung</span> – §8";
        let blanked = blank_inline_html(text).expect("markup found");
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked.split_whitespace().collect::<Vec<_>>(), ["Haftung", "–", "§8"]);
    }
}
