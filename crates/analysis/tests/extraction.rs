//! Extraction on real files: the robustness corpus (malformed, encrypted, unusual) and real
//! contracts in several formats.

use std::path::{Path, PathBuf};

use cr_analysis::extract::{extract, text_similarity, ExtractError, Format, Limits};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(path)
}

fn run(path: &str) -> Result<cr_analysis::Extracted, ExtractError> {
    let bytes = std::fs::read(fixture(path)).expect("fixture");
    extract(&bytes, path, &Limits::default())
}

/// What each file of the robustness corpus must give: text, or one typed error.
const EXPECTED: &[(&str, &str)] = &[
    ("pdf/pypdf_libreoffice-writer-password.pdf", "encrypted"),
    ("pdf/opf_encryption_openpassword.pdf", "encrypted"),
    ("pdf/pdfjs_GHOSTSCRIPT-698804-1-fuzzed.pdf", "no_text_layer"),
    ("pdf/pdfjs_scan-bad.pdf", "no_text_layer"),
    ("pdf/pdfjs_poppler-937-0-fuzzed.pdf", "no_text_layer"),
    ("docx/poi_clusterfuzz-5313273089884160.docx", "corrupt"),
    ("docx/poi_crash-517626e8.docx", "corrupt"),
    ("docx/poi_bug53475-password-is-pass.docx", "encrypted"),
];

#[test]
fn every_robustness_file_gives_its_expected_text_or_typed_error() {
    let mut seen = 0;
    for dir in ["pdf", "docx"] {
        for entry in std::fs::read_dir(fixture(&format!("robustness/{dir}"))).expect("dir").flatten() {
            let name = format!("{dir}/{}", entry.file_name().to_string_lossy());
            let expected = EXPECTED.iter().find(|(file, _)| *file == name).map_or("text", |(_, outcome)| *outcome);
            let outcome = match run(&format!("robustness/{name}")) {
                Ok(_) => "text",
                Err(ExtractError::Encrypted) => "encrypted",
                Err(ExtractError::NoTextLayer) => "no_text_layer",
                Err(ExtractError::Corrupt(_)) => "corrupt",
                Err(other) => panic!("{name}: unexpected {other:?}"),
            };
            assert_eq!(outcome, expected, "{name}");
            seen += 1;
        }
    }
    assert!(seen >= 25);
}

#[test]
fn encrypted_documents_get_the_encrypted_error() {
    assert_eq!(run("robustness/docx/poi_bug53475-password-is-pass.docx").err(), Some(ExtractError::Encrypted));
    let pdf = run("robustness/pdf/pypdf_libreoffice-writer-password.pdf");
    assert_eq!(pdf.err(), Some(ExtractError::Encrypted));
}

#[test]
fn a_scan_without_a_text_layer_says_so() {
    let outcome = run("robustness/pdf/pdfjs_scan-bad.pdf");
    assert_eq!(outcome.err(), Some(ExtractError::NoTextLayer));
}

#[test]
fn tracked_changes_are_accepted_and_comments_left_out() {
    let changes = run("robustness/docx/poi_bug56075-changeTracking_on.docx").expect("docx");
    assert_eq!(changes.format, Format::Docx);
    assert!(!changes.text.trim().is_empty());
    let comments = run("robustness/docx/pydocx_comments-rich-para.docx").expect("docx");
    assert!(!comments.text.trim().is_empty());
}

#[test]
fn headers_and_footers_of_a_docx_are_kept_apart() {
    let doc = run("robustness/docx/pydocx_doc-odd-even-hdrs.docx").expect("docx");
    assert!(!doc.furniture.is_empty(), "headers found: {:?}", doc.furniture);
    for running in &doc.furniture {
        assert!(!doc.text.contains(running.as_str()), "{running:?} leaked into the text");
    }
}

#[test]
fn tables_are_read_row_by_row() {
    let doc = run("contracts/openagreements_common-paper-mutual-nda.docx").expect("docx");
    assert!(doc.text.lines().any(|l| l.starts_with("Governing Law\tThe laws of the State of")), "{}", doc.text);
    let empty_tables = run("robustness/docx/pydocx_tbl-having-tables.docx").expect("docx");
    assert!(empty_tables.text.trim().is_empty(), "a document of empty tables has no text");
}

#[test]
fn the_same_contract_as_pdf_and_markdown_extracts_to_the_same_words() {
    let pdf = run("contracts/bonterms_Mutual-NDA-Version-1.pdf").expect("pdf");
    let markdown = run("contracts/bonterms_Mutual-NDA.md").expect("md");
    assert_eq!(markdown.format, Format::Markdown);
    assert_eq!(pdf.pages.len(), 1, "a one-page form");
    let similarity = text_similarity(&pdf.text, &markdown.text);
    println!("PDF/Markdown similarity {similarity:.3}");
    assert!(similarity > 0.85, "similarity {similarity:.3}");
    // Offsets map back to pages.
    let offset = pdf.text.find("Governing Law").expect("clause present");
    assert!(pdf.page_of(offset).is_some());
}

#[test]
fn numbered_word_contracts_keep_their_numbering() {
    // Numbered through heading styles, as many contracts are.
    let doc = run("contracts/openagreements_common-paper-cloud-service-agreement.docx").expect("docx");
    let lines: Vec<&str> = doc.text.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("1. Service")), "headings numbered");
    assert!(lines.iter().any(|l| l.starts_with("1.1 Access and Use.")), "sub-clauses numbered");
    assert!(lines.iter().any(|l| l.starts_with("2.1 Restrictions on Customer.")));
    assert!(lines.iter().any(|l| l.starts_with("(a) ")), "lettered items");
}

#[test]
fn text_files_are_returned_exactly() {
    let bytes = std::fs::read(fixture("contracts/bonterms_Mutual-NDA.md")).expect("fixture");
    let extracted = extract(&bytes, "nda.md", &Limits::default()).expect("md");
    assert_eq!(extracted.text.as_bytes(), bytes.as_slice());
}
