//! What an upload is, decided by its bytes, not its name: PDF, DOCX, plain text or Markdown.
//! Everything else is refused with a message that says what was found. The name is only used
//! to tell Markdown from plain text, which no byte signature can.

use std::io::Read;
use std::path::Path;

use crate::ServiceError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Docx,
    Markdown,
    PlainText,
}

impl MediaType {
    /// The media type stored with the document and sent on download.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            MediaType::Markdown => "text/markdown",
            MediaType::PlainText => "text/plain",
        }
    }
}

/// Decides the type of the stored upload at `path` whose first bytes are `head`.
/// Blocking (reads the file): call from a blocking task.
pub fn detect(head: &[u8], path: &Path, display_name: &str) -> Result<MediaType, ServiceError> {
    if head.is_empty() {
        return Err(ServiceError::invalid("empty_file", "the uploaded file is empty"));
    }
    // PDF readers accept the header anywhere in the first KiB.
    if head[..head.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Ok(MediaType::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return detect_zip(path);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(ServiceError::UnsupportedMediaType(
            "this is an OLE compound file: a legacy .doc or a password-protected Office document; \
             save it as an unprotected .docx and upload that"
                .into(),
        ));
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(ServiceError::UnsupportedMediaType("UTF-16 text is not supported; save the file as UTF-8".into()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| ServiceError::Internal(anyhow::Error::new(e).context("reading the upload back")))?;
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).map_err(|_| {
        ServiceError::UnsupportedMediaType("unrecognised file type: not PDF, DOCX, or UTF-8 text (Markdown)".into())
    })?;
    if !looks_like_text(text) {
        return Err(ServiceError::UnsupportedMediaType(
            "the file is valid UTF-8 but contains binary control characters; not a text document".into(),
        ));
    }
    let lower = display_name.to_ascii_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") || looks_like_markdown(text) {
        Ok(MediaType::Markdown)
    } else {
        Ok(MediaType::PlainText)
    }
}

fn detect_zip(path: &Path) -> Result<MediaType, ServiceError> {
    let file = std::fs::File::open(path)
        .map_err(|e| ServiceError::Internal(anyhow::Error::new(e).context("reading the upload back")))?;
    let archive = zip::ZipArchive::new(file).map_err(|e| {
        ServiceError::invalid("corrupt_file", format!("the file starts like a ZIP/DOCX but cannot be read as one: {e}"))
    })?;
    let has = |name: &str| archive.file_names().any(|n| n.eq_ignore_ascii_case(name));
    if has("word/document.xml") && has("[Content_Types].xml") {
        Ok(MediaType::Docx)
    } else if has("[Content_Types].xml") {
        Err(ServiceError::UnsupportedMediaType(
            "an Office document that is not a Word document (.docx); only Word documents are reviewed".into(),
        ))
    } else {
        Err(ServiceError::UnsupportedMediaType("a ZIP archive, not a Word document".into()))
    }
}

fn looks_like_text(text: &str) -> bool {
    let controls = text.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')).count();
    !text.contains('\0') && controls * 1000 <= text.len().max(1)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_bytes(bytes: &[u8], name: &str) -> Result<MediaType, ServiceError> {
        let dir = std::env::temp_dir().join(format!("cr-content-{}", uuid::Uuid::now_v7().simple()));
        std::fs::write(&dir, bytes).expect("write temp");
        let out = detect(&bytes[..bytes.len().min(8192)], &dir, name);
        let _ = std::fs::remove_file(&dir);
        out
    }

    #[test]
    fn the_extension_does_not_decide_the_type() {
        assert_eq!(detect_bytes(b"%PDF-1.7\n...", "contract.txt").ok(), Some(MediaType::Pdf));
        assert!(matches!(
            detect_bytes(b"\x7fELF\x02\x01\x01\0\0\0", "contract.pdf"),
            Err(ServiceError::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn text_and_markdown_are_told_apart() {
        assert_eq!(detect_bytes(b"This Agreement is made...", "a").ok(), Some(MediaType::PlainText));
        assert_eq!(detect_bytes(b"# NDA\n\n**Parties** ...\n- one\n", "a").ok(), Some(MediaType::Markdown));
        assert_eq!(detect_bytes(b"plain", "terms.md").ok(), Some(MediaType::Markdown));
    }

    #[test]
    fn empty_ole_and_broken_zip_files_get_typed_errors() {
        assert!(matches!(detect_bytes(b"", "a"), Err(ServiceError::Invalid { code: "empty_file", .. })));
        assert!(matches!(
            detect_bytes(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0], "a.docx"),
            Err(ServiceError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            detect_bytes(b"PK\x03\x04garbage", "a.docx"),
            Err(ServiceError::Invalid { code: "corrupt_file", .. })
        ));
    }
}
