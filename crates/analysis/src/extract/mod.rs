//! Extraction: a PDF, DOCX, TXT or Markdown contract becomes one UTF-8 text, with byte
//! offsets always and page numbers for PDF. Running headers, footers and page numbers are
//! kept apart from the text so they never end up inside a clause.
//!
//! Every extractor is bounded (input size, decompressed size, XML depth, pages, time) and
//! answers a typed [`ExtractError`] on bad input; panics inside third-party parsers are
//! caught and reported as corrupt input.

mod docx;
mod pdf;
mod pdf_text;
mod text;

use std::time::{Duration, Instant};

use serde::Serialize;

/// What the input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Docx,
    Markdown,
    Text,
}

/// Bounds on the work one document may cause.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest input accepted, bytes.
    pub max_input_bytes: usize,
    /// Largest total of decompressed parts read from a DOCX (zip bombs), bytes.
    pub max_decompressed_bytes: u64,
    /// Deepest XML nesting accepted.
    pub max_xml_depth: usize,
    /// Most PDF pages read.
    pub max_pages: usize,
    /// Longest extraction, checked between pages and XML events.
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 100 * 1024 * 1024,
            max_decompressed_bytes: 256 * 1024 * 1024,
            max_xml_depth: 256,
            max_pages: 2000,
            max_duration: Duration::from_secs(30),
        }
    }
}

/// Typed failures; each message tells the user what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("the document is password-protected or encrypted; remove the protection and try again")]
    Encrypted,
    #[error("the PDF has no text layer (a scan?); OCR is not supported yet")]
    NoTextLayer,
    #[error("the file is damaged and could not be read: {0}")]
    Corrupt(String),
    #[error("the document is too large: {0}")]
    TooLarge(String),
    #[error("extraction took longer than the limit of {0:?}")]
    Timeout(Duration),
    #[error("unsupported file type: {0}")]
    Unsupported(String),
}

/// A span of the extracted text that came from one PDF page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PageSpan {
    /// 1-based page number.
    pub number: u32,
    /// Byte offsets into [`Extracted::text`].
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Extracted {
    pub format: Format,
    /// The document text. For TXT and Markdown it is the input exactly as given.
    pub text: String,
    /// Page spans, in order (PDF only; empty for the other formats).
    pub pages: Vec<PageSpan>,
    /// Running headers, footers and page numbers that were kept out of `text`.
    pub furniture: Vec<String>,
    /// Things a reader should know (unreadable page, unsupported feature), in plain words.
    pub warnings: Vec<String>,
}

impl Extracted {
    /// The 1-based page holding byte `offset` of the text, for PDFs.
    pub fn page_of(&self, offset: usize) -> Option<u32> {
        let index = self.pages.partition_point(|p| p.end <= offset);
        self.pages.get(index).filter(|p| p.start <= offset).map(|p| p.number)
    }

    /// The text from byte `start` to `end` as a reader should see it quoted: in Markdown,
    /// without its inline HTML. `start..end` must lie on character boundaries of the text.
    pub fn quote(&self, start: usize, end: usize) -> String {
        let slice = self.text.get(start..end).unwrap_or_default();
        match self.format {
            Format::Markdown => text::strip_inline_html(slice),
            _ => slice.to_owned(),
        }
    }

    /// The text the analysis reads: [`Extracted::text`], except that in Markdown inline HTML
    /// (tags, comments) is blanked with spaces. Same length, so its offsets index `text`.
    pub fn analysed_text(&self) -> std::borrow::Cow<'_, str> {
        match self.format {
            Format::Markdown => {
                text::blank_inline_html(&self.text).map_or(std::borrow::Cow::Borrowed(&self.text), Into::into)
            }
            _ => std::borrow::Cow::Borrowed(&self.text),
        }
    }
}

/// Detects the format from the bytes (the name only tells Markdown from text) and extracts.
pub fn extract(bytes: &[u8], name_hint: &str, limits: &Limits) -> Result<Extracted, ExtractError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(ExtractError::TooLarge(format!(
            "{} bytes; at most {} are read",
            bytes.len(),
            limits.max_input_bytes
        )));
    }
    let deadline = Deadline::after(limits.max_duration);
    match detect(bytes, name_hint)? {
        Format::Pdf => guarded(|| pdf::extract(bytes, limits, &deadline)),
        Format::Docx => guarded(|| docx::extract(bytes, limits, &deadline)),
        format @ (Format::Text | Format::Markdown) => text::extract(bytes, format),
    }
}

/// What the first and last bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    Empty,
    Pdf,
    /// A ZIP package: a DOCX only if [`package_format`] says so.
    Zip,
    /// An OLE compound file: a legacy `.doc`, or an encrypted OOXML package.
    Ole,
    Utf16,
    /// Anything else: text if [`text_format`] accepts it.
    Other,
}

/// Bytes of the start of a file [`signature`] looks at.
pub const SIGNATURE_HEAD_BYTES: usize = 1024;
/// Bytes of the end of a file [`signature`] looks at.
pub const SIGNATURE_TAIL_BYTES: usize = 1024;

/// The signature of a file from its first (`head`) and last (`tail`) bytes. The one detector
/// of the service (uploads) and the engine (extraction), so both agree on every file.
///
/// A PDF starts with `%PDF-1.x` / `%PDF-2.x`; readers tolerate junk before the header within
/// the first KiB, so that is accepted too, but only when the file also ends like a PDF
/// (`%%EOF` in its last KiB): a text that merely quotes a PDF header stays text.
pub fn signature(head: &[u8], tail: &[u8]) -> Signature {
    if head.is_empty() {
        return Signature::Empty;
    }
    let is_header =
        |w: &[u8]| w.starts_with(b"%PDF-") && w[5].is_ascii_digit() && w[6] == b'.' && w[7].is_ascii_digit();
    let window = &head[..head.len().min(SIGNATURE_HEAD_BYTES)];
    if window.len() >= 8 && is_header(window) {
        return Signature::Pdf;
    }
    let ends_like_pdf = tail.windows(5).any(|w| w == b"%%EOF");
    if ends_like_pdf && window.windows(8).any(is_header) {
        return Signature::Pdf;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Signature::Zip;
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Signature::Ole;
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Signature::Utf16;
    }
    Signature::Other
}

/// Whether a ZIP package is a Word document (the same test extraction relies on).
pub fn package_format<R: std::io::Read + std::io::Seek>(reader: R) -> Result<Format, ExtractError> {
    docx::package_format(reader)
}

/// Text or Markdown, if `bytes` are UTF-8 text (a BOM allowed) without binary control
/// characters. Markdown by name (`.md`, `.markdown`) or by its marks (a heading and a few
/// emphases, links or list items).
pub fn text_format(bytes: &[u8], name_hint: &str) -> Result<Format, ExtractError> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| ExtractError::Unsupported("not PDF, DOCX, or UTF-8 text (Markdown)".into()))?;
    let controls = text.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')).count();
    if text.contains('\0') || controls * 1000 > text.len().max(1) {
        return Err(ExtractError::Unsupported(
            "the file is valid UTF-8 but contains binary control characters; not a text document".into(),
        ));
    }
    let lower = name_hint.to_ascii_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") || looks_like_markdown(text) {
        Ok(Format::Markdown)
    } else {
        Ok(Format::Text)
    }
}

fn looks_like_markdown(text: &str) -> bool {
    let mut headings = 0;
    let mut marks = 0;
    for line in text.lines().take(2000) {
        let t = line.trim_start();
        if t.starts_with('#') && t.trim_start_matches('#').starts_with(' ') {
            headings += 1;
        }
        if t.contains("**") || t.contains("](") || t.starts_with("- ") || t.starts_with("* ") || t.starts_with("> ") {
            marks += 1;
        }
    }
    headings >= 1 && headings + marks >= 3
}

/// Decides the format of a file held in memory.
pub fn detect(bytes: &[u8], name_hint: &str) -> Result<Format, ExtractError> {
    let tail = &bytes[bytes.len().saturating_sub(SIGNATURE_TAIL_BYTES)..];
    match signature(bytes, tail) {
        Signature::Pdf => Ok(Format::Pdf),
        Signature::Zip => package_format(std::io::Cursor::new(bytes)),
        Signature::Ole => Err(ExtractError::Encrypted),
        Signature::Utf16 => Err(ExtractError::Unsupported("UTF-16 text is not supported; save it as UTF-8".into())),
        Signature::Empty | Signature::Other => text_format(bytes, name_hint),
    }
}

/// Runs a parser, turning a panic inside it into [`ExtractError::Corrupt`].
fn guarded(run: impl FnOnce() -> Result<Extracted, ExtractError>) -> Result<Extracted, ExtractError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .unwrap_or_else(|_| Err(ExtractError::Corrupt("the parser failed on this file".into())))
}

/// A point in time after which extraction stops.
pub(crate) struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    fn after(limit: Duration) -> Self {
        Self { at: Instant::now() + limit, limit }
    }

    pub(crate) fn check(&self) -> Result<(), ExtractError> {
        if Instant::now() > self.at {
            Err(ExtractError::Timeout(self.limit))
        } else {
            Ok(())
        }
    }
}

/// Similarity of two texts as word-bigram Dice coefficient after normalising case, spacing
/// and punctuation: 1.0 for the same words in the same order. Used to compare extracted PDF
/// text with a reference text.
pub fn text_similarity(a: &str, b: &str) -> f64 {
    use std::collections::HashMap;
    fn bigrams(text: &str) -> HashMap<(String, String), usize> {
        let words: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        let mut counts = HashMap::new();
        for pair in words.windows(2) {
            *counts.entry((pair[0].clone(), pair[1].clone())).or_insert(0) += 1;
        }
        counts
    }
    let (x, y) = (bigrams(a), bigrams(b));
    let total: usize = x.values().sum::<usize>() + y.values().sum::<usize>();
    if total == 0 {
        return 1.0;
    }
    let shared: usize = x.iter().map(|(k, n)| (*n).min(y.get(k).copied().unwrap_or(0))).sum();
    2.0 * shared as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_of_maps_offsets_to_pages() {
        let extracted = Extracted {
            format: Format::Pdf,
            text: "aaa\n\nbbb".into(),
            pages: vec![PageSpan { number: 1, start: 0, end: 3 }, PageSpan { number: 2, start: 5, end: 8 }],
            furniture: vec![],
            warnings: vec![],
        };
        assert_eq!(extracted.page_of(0), Some(1));
        assert_eq!(extracted.page_of(2), Some(1));
        assert_eq!(extracted.page_of(4), None);
        assert_eq!(extracted.page_of(6), Some(2));
        assert_eq!(extracted.page_of(9), None);
    }

    #[test]
    fn similarity_is_one_for_equal_texts_and_low_for_shuffled_ones() {
        assert!((text_similarity("The Parties agree.", "the  parties, AGREE") - 1.0).abs() < 1e-9);
        assert!(text_similarity("a b c d e f", "f e d c b a") < 0.01);
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let limits = Limits { max_input_bytes: 10, ..Limits::default() };
        assert!(matches!(extract(b"%PDF-1.7 and more bytes", "a.pdf", &limits), Err(ExtractError::TooLarge(_))));
    }
}
