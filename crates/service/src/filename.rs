//! Filenames as uploaded are hostile input: path separators, NUL and other controls, bidi
//! overrides that disguise extensions ("invoice\u{202E}fdp.exe"), and unbounded length.
//! [`UploadFilename::parse`] keeps a safe display name and a visible record of the original.
//! Filenames never reach the filesystem: originals are stored by content hash.

use crate::ServiceError;

/// Raw names longer than this (in bytes) are refused rather than silently cut.
pub const MAX_RAW_BYTES: usize = 1024;
/// Display names are cut to this many bytes (at a character boundary).
pub const MAX_DISPLAY_BYTES: usize = 255;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadFilename {
    /// Safe to show and to put in `Content-Disposition`.
    pub display: String,
    /// The name as uploaded, with control and bidi characters made visible (`\u{202e}`).
    pub original: String,
}

fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}')
}

impl UploadFilename {
    pub fn parse(raw: &str) -> Result<Self, ServiceError> {
        if raw.len() > MAX_RAW_BYTES {
            return Err(ServiceError::invalid(
                "filename_too_long",
                format!("the filename is {} bytes long; at most {MAX_RAW_BYTES} are accepted", raw.len()),
            ));
        }
        let original: String =
            raw.chars()
                .map(|c| {
                    if c.is_control() || is_bidi_or_invisible(c) {
                        c.escape_unicode().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
        let last_component = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
        let cleaned: String = last_component.chars().filter(|c| !c.is_control() && !is_bidi_or_invisible(*c)).collect();
        let trimmed = cleaned.trim().trim_start_matches('.').trim();
        let mut display = String::new();
        for c in trimmed.chars() {
            if display.len() + c.len_utf8() > MAX_DISPLAY_BYTES {
                break;
            }
            display.push(c);
        }
        if display.is_empty() {
            display = "document".to_owned();
        }
        Ok(Self { display, original })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_traversal_keeps_only_the_last_component() {
        let name = UploadFilename::parse("../../etc/passwd").expect("valid");
        assert_eq!(name.display, "passwd");
        assert_eq!(name.original, "../../etc/passwd");
        assert_eq!(UploadFilename::parse("..\\..\\boot.ini").expect("valid").display, "boot.ini");
    }

    #[test]
    fn controls_and_bidi_overrides_are_removed_from_the_display_name() {
        let name = UploadFilename::parse("invoice\u{202E}fdp.exe\0.pdf").expect("valid");
        assert_eq!(name.display, "invoicefdp.exe.pdf");
        assert!(name.original.contains("\\u{202e}") && name.original.contains("\\u{0}"));
    }

    #[test]
    fn names_of_only_dots_or_controls_become_document() {
        assert_eq!(UploadFilename::parse("..").expect("valid").display, "document");
        assert_eq!(UploadFilename::parse("\u{1}\u{2}").expect("valid").display, "document");
        assert_eq!(UploadFilename::parse("").expect("valid").display, "document");
    }

    #[test]
    fn very_long_names_are_refused_and_long_ones_cut_at_a_char_boundary() {
        assert!(matches!(
            UploadFilename::parse(&"a".repeat(10_000)),
            Err(ServiceError::Invalid { code: "filename_too_long", .. })
        ));
        let name = UploadFilename::parse(&"é".repeat(300)).expect("valid");
        assert!(name.display.len() <= MAX_DISPLAY_BYTES);
        assert!(name.display.chars().all(|c| c == 'é'));
    }
}
