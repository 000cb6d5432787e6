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
    let bytes = text.as_bytes();
    let mut blanked: Option<Vec<u8>> = None;
    let mut at = 0;
    while let Some(offset) = text.get(at..).and_then(|rest| rest.find('<')) {
        let start = at + offset;
        match markup_end(bytes, start) {
            Some(end) => {
                let out = blanked.get_or_insert_with(|| bytes.to_vec());
                for byte in &mut out[start..end] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
                at = end;
            }
            None => at = start + 1,
        }
    }
    // Each blanked stretch runs from an ASCII '<' to an ASCII '>' and every byte of it became
    // a space, so the result is still UTF-8; checked all the same rather than assumed.
    blanked.and_then(|out| String::from_utf8(out).ok())
}

/// End (exclusive) of the HTML tag or comment starting at `start` (a `<`), if it is one.
fn markup_end(bytes: &[u8], start: usize) -> Option<usize> {
    let rest = &bytes[start..];
    if rest.starts_with(b"<!--") {
        let close = rest[4..].windows(3).position(|w| w == b"-->")?;
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
    use super::blank_inline_html;

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
    fn markup_around_multibyte_text_stays_valid_utf8() {
        let text = "<span title=\"Überschrift “8”\">Haftung</span> – §8";
        let blanked = blank_inline_html(text).expect("markup found");
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked.split_whitespace().collect::<Vec<_>>(), ["Haftung", "–", "§8"]);
    }
}
