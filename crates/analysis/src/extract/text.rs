//! TXT and Markdown: the text is the input exactly as given, so offsets index the file.

use super::{ExtractError, Extracted, Format};

pub(super) fn extract(bytes: &[u8], format: Format) -> Result<Extracted, ExtractError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ExtractError::Unsupported(format!("not UTF-8 text: {e}")))?;
    Ok(Extracted { format, text: text.to_owned(), pages: Vec::new(), furniture: Vec::new(), warnings: Vec::new() })
}
