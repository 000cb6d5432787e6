//! What an upload is, decided by its bytes, not its name: PDF, DOCX, plain text or Markdown.
//! Everything else is refused with a message that says what was found. The name is only used
//! to tell Markdown from plain text, which no byte signature can.

use std::io::Read;
use std::path::Path;

use cr_analysis::extract::{self, ExtractError, Format, Signature};

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

/// Decides the type of the stored upload at `path` whose first bytes are `head`, with the
/// engine's detector ([`cr_analysis::extract::signature`]), so that what is stored as a PDF or
/// DOCX is what the analysis reads as one. Blocking (reads the file): call from a blocking task.
pub fn detect(head: &[u8], path: &Path, display_name: &str) -> Result<MediaType, ServiceError> {
    let tail = read_tail(path)?;
    let format = match extract::signature(head, &tail) {
        Signature::Empty => return Err(ServiceError::invalid("empty_file", "the uploaded file is empty")),
        Signature::Pdf => Ok(Format::Pdf),
        Signature::Zip => std::fs::File::open(path)
            .map_err(|e| ServiceError::Internal(anyhow::Error::new(e).context("reading the upload back")))
            .map(|file| extract::package_format(std::io::BufReader::new(file)))?,
        Signature::Ole => {
            return Err(ServiceError::UnsupportedMediaType(
                "this is an OLE compound file: a legacy .doc or a password-protected Office document; \
                 save it as an unprotected .docx and upload that"
                    .into(),
            ))
        }
        Signature::Utf16 => {
            return Err(ServiceError::UnsupportedMediaType(
                "UTF-16 text is not supported; save the file as UTF-8".into(),
            ))
        }
        Signature::Other => {
            let bytes = std::fs::read(path)
                .map_err(|e| ServiceError::Internal(anyhow::Error::new(e).context("reading the upload back")))?;
            extract::text_format(&bytes, display_name)
        }
    };
    match format {
        Ok(Format::Pdf) => Ok(MediaType::Pdf),
        Ok(Format::Docx) => Ok(MediaType::Docx),
        Ok(Format::Markdown) => Ok(MediaType::Markdown),
        Ok(Format::Text) => Ok(MediaType::PlainText),
        Err(ExtractError::Corrupt(message)) => Err(ServiceError::invalid("corrupt_file", message)),
        Err(ExtractError::Encrypted) => Err(ServiceError::UnsupportedMediaType(ExtractError::Encrypted.to_string())),
        Err(ExtractError::Unsupported(message)) => {
            Err(ServiceError::UnsupportedMediaType(format!("unrecognised file type: {message}")))
        }
        Err(other) => Err(ServiceError::invalid("corrupt_file", other.to_string())),
    }
}

/// The last bytes of the file, for the PDF trailer check.
fn read_tail(path: &Path) -> Result<Vec<u8>, ServiceError> {
    use std::io::{Seek, SeekFrom};
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        let take = size.min(extract::SIGNATURE_TAIL_BYTES as u64);
        file.seek(SeekFrom::Start(size - take))?;
        let mut tail = Vec::with_capacity(take as usize);
        file.take(take).read_to_end(&mut tail)?;
        Ok(tail)
    };
    read().map_err(|e| ServiceError::Internal(anyhow::Error::new(e).context("reading the end of the upload")))
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
    fn a_text_quoting_a_pdf_header_is_text() {
        let text = b"Exhibit B lists the files: each begins %PDF-1.7 and is attached.\nEnd of exhibit.\n";
        assert_eq!(detect_bytes(text, "exhibit.txt").ok(), Some(MediaType::PlainText));
        let mut pdf = b"junk before the header\n%PDF-1.4\n...".to_vec();
        pdf.extend_from_slice(b"\ntrailer\n%%EOF\n");
        assert_eq!(detect_bytes(&pdf, "a").ok(), Some(MediaType::Pdf), "junk before a real PDF is tolerated");
    }

    #[test]
    fn a_zip_without_a_word_main_part_is_not_a_docx() {
        let mut bytes = Vec::new();
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
            let options = zip::write::SimpleFileOptions::default();
            zip.start_file("[Content_Types].xml", options).expect("entry");
            std::io::Write::write_all(&mut zip, b"<Types/>").expect("write");
            zip.start_file("xl/workbook.xml", options).expect("entry");
            std::io::Write::write_all(&mut zip, b"<workbook/>").expect("write");
            zip.finish().expect("finish");
        }
        assert!(matches!(detect_bytes(&bytes, "a.docx"), Err(ServiceError::UnsupportedMediaType(_))));
        assert!(cr_analysis::extract::detect(&bytes, "a.docx").is_err(), "the engine agrees");
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
