//! `review --pdf FILE`: the review as a multi-page PDF report (title, key terms, risks with
//! the cited text and proposed language, recommendations, clauses found), written with
//! lopdf, which the engine already uses to read PDFs, in the standard Helvetica fonts that
//! every PDF reader has, so nothing is embedded or fetched.

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream, StringFormat};

use crate::playbook::Severity;
use crate::review::Review;

use crate::report::{confidence, excerpt};

const PAGE_WIDTH: f32 = 595.0; // A4, in points
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;

/// Advance widths of Helvetica for ASCII 32..=126, in 1/1000 em (from its AFM metrics).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
];

#[derive(Clone, Copy, PartialEq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    fn width(self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                let code = c as u32;
                if (32..=126).contains(&code) {
                    u32::from(HELVETICA[(code - 32) as usize])
                } else {
                    556
                }
            })
            .sum();
        // Bold runs about 6 % wider; wrapping errs on the safe side.
        let factor = if self == Font::Bold { 1.06 } else { 1.0 };
        units as f32 * size / 1000.0 * factor
    }
}

/// Text in WinAnsiEncoding (the standard fonts' encoding); what it cannot show becomes '?'.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{A0}'..='\u{FF}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '\t' | '\n' | '\r' => b' ',
            _ => b'?',
        })
        .collect()
}

/// Lays text out in pages.
struct Layout {
    pages: Vec<Vec<Operation>>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout { pages: vec![Vec::new()], y: PAGE_HEIGHT - MARGIN }
    }

    fn ops(&mut self) -> &mut Vec<Operation> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn need(&mut self, height: f32) {
        if self.y - height < MARGIN + 20.0 {
            self.pages.push(Vec::new());
            self.y = PAGE_HEIGHT - MARGIN;
        }
    }

    fn line(&mut self, text: &str, font: Font, size: f32, indent: f32, colour: Rgb) {
        let leading = size * 1.35;
        self.need(leading);
        self.y -= leading;
        let y = self.y;
        let ops = self.ops();
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("rg", vec![colour.0.into(), colour.1.into(), colour.2.into()]));
        ops.push(Operation::new("Tf", vec![font.name().into(), size.into()]));
        ops.push(Operation::new("Td", vec![(MARGIN + indent).into(), y.into()]));
        ops.push(Operation::new("Tj", vec![Object::String(win_ansi(text), StringFormat::Literal)]));
        ops.push(Operation::new("ET", vec![]));
    }

    /// A paragraph wrapped to the text width, black or grey.
    fn paragraph(&mut self, text: &str, font: Font, size: f32, indent: f32, grey: bool) {
        self.paragraph_in(text, font, size, indent, if grey { GREY } else { BLACK });
    }

    /// A paragraph wrapped to the text width, in `colour`.
    fn paragraph_in(&mut self, text: &str, font: Font, size: f32, indent: f32, colour: Rgb) {
        let width = PAGE_WIDTH - 2.0 * MARGIN - indent;
        let mut current = String::new();
        for word in text.split_whitespace().flat_map(|w| split_long_word(w, font, size, width)) {
            let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
            if font.width(&candidate, size) <= width || current.is_empty() {
                current = candidate;
            } else {
                self.line(&current, font, size, indent, colour);
                current = word.to_owned();
            }
        }
        if !current.is_empty() {
            self.line(&current, font, size, indent, colour);
        }
    }

    fn heading(&mut self, text: &str, size: f32) {
        self.need(size * 4.0);
        self.space(size * 0.6);
        self.paragraph(text, Font::Bold, size, 0.0, false);
        self.space(size * 0.2);
    }

    fn space(&mut self, points: f32) {
        self.y -= points;
    }
}

/// A fill colour, red, green and blue in 0..1.
type Rgb = (f32, f32, f32);
const BLACK: Rgb = (0.0, 0.0, 0.0);
const GREY: Rgb = (0.35, 0.35, 0.35);
/// Severities as a reader expects them: high red, medium amber, low blue.
const HIGH: Rgb = (0.75, 0.1, 0.1);
const MEDIUM: Rgb = (0.8, 0.45, 0.0);
const LOW: Rgb = (0.1, 0.35, 0.6);

/// A word wider than the line (a long path, a URL) in pieces that fit.
fn split_long_word(word: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    if font.width(word, size) <= width {
        return vec![word.to_owned()];
    }
    let mut pieces = vec![String::new()];
    for c in word.chars() {
        let last = pieces.len() - 1;
        let mut candidate = pieces[last].clone();
        candidate.push(c);
        if font.width(&candidate, size) > width && !pieces[last].is_empty() {
            pieces.push(c.to_string());
        } else {
            pieces[last] = candidate;
        }
    }
    pieces
}

/// The report as PDF bytes.
pub fn report(review: &Review, title: &str) -> Result<Vec<u8>, lopdf::Error> {
    let mut layout = Layout::new();
    layout.paragraph(&format!("Contract review: {title}"), Font::Bold, 16.0, 0.0, false);
    let side = review.playbook.side.map(|s| format!(", side: {}", format!("{s:?}").to_lowercase())).unwrap_or_default();
    layout.paragraph(
        &format!(
            "{:?} document · playbook: {}{side} · {} {} · schema {}",
            review.format, review.playbook.name, review.engine.name, review.engine.version, review.schema_version
        ),
        Font::Regular,
        9.0,
        0.0,
        true,
    );
    if let Some(found) = &review.structure.title {
        layout.paragraph(&format!("Title: {}", found.text), Font::Regular, BODY, 0.0, false);
    }

    if let Some(llm) = &review.llm {
        if let Some(summary) = &llm.summary {
            layout.heading(&format!("Summary (LLM: {})", llm.model), 13.0);
            layout.paragraph(summary, Font::Regular, BODY, 0.0, false);
        }
    }
    layout.paragraph(&review.summary.headline, Font::Bold, BODY, 0.0, false);
    layout.heading("Key terms", 13.0);
    if review.summary.key_terms.is_empty() {
        layout.paragraph("None found.", Font::Regular, BODY, 0.0, false);
    }
    for row in &review.summary.key_terms {
        layout.need(BODY * 1.4);
        let y_before = layout.y;
        layout.line(row.term, Font::Bold, BODY, 0.0, BLACK);
        layout.y = y_before;
        layout.paragraph(&row.value, Font::Regular, BODY, 150.0, false);
    }

    layout.heading(&format!("Risks ({})", review.risks.len()), 13.0);
    if review.risks.is_empty() {
        layout.paragraph("None against this playbook.", Font::Regular, BODY, 0.0, false);
    }
    for (i, risk) in review.risks.iter().enumerate() {
        let severity = match risk.severity {
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
        };
        layout.need(BODY * 6.0);
        layout.space(4.0);
        let colour = match risk.severity {
            Severity::High => HIGH,
            Severity::Medium => MEDIUM,
            Severity::Low => LOW,
        };
        layout.paragraph_in(&format!("{}. [{severity}] {}", i + 1, risk.title), Font::Bold, 11.0, 0.0, colour);
        layout.paragraph(&risk.detail, Font::Regular, BODY, 12.0, false);
        if let Some(citation) = &risk.citation {
            layout.paragraph(
                &format!("Cited ({}): “{}”", citation.place(), excerpt(&citation.text, 700)),
                Font::Regular,
                9.0,
                24.0,
                true,
            );
        }
        layout.paragraph(&format!("Why: {}", risk.rationale), Font::Regular, BODY, 12.0, false);
        layout.paragraph(&format!("Propose: {}", risk.fallback), Font::Regular, BODY, 12.0, false);
        for redline in review.llm.iter().flat_map(|l| &l.redlines).filter(|r| r.rule == risk.rule) {
            layout.paragraph(&format!("LLM redline: {}", redline.proposed), Font::Regular, BODY, 12.0, false);
        }
    }

    layout.heading("Recommendations", 13.0);
    for (i, recommendation) in review.summary.recommendations.iter().enumerate() {
        layout.paragraph(&format!("{}. {recommendation}", i + 1), Font::Regular, BODY, 0.0, false);
        layout.space(2.0);
    }

    layout.heading("Clauses found", 13.0);
    // A paragraph found under several categories is shown once, with all of them.
    for (clause, categories) in super::by_paragraph(review) {
        let page = clause.page.map(|p| format!(", p. {p}")).unwrap_or_default();
        let names: Vec<String> =
            categories.iter().map(|c| format!("{} ({})", c.category, confidence(c.confidence))).collect();
        layout.paragraph(&format!("{}{page}", names.join(", ")), Font::Bold, 9.0, 0.0, false);
        layout.paragraph(&excerpt(&clause.text, 400), Font::Regular, 9.0, 12.0, true);
    }
    if !review.warnings.is_empty() {
        layout.heading("Warnings", 13.0);
        for warning in &review.warnings {
            layout.paragraph(warning, Font::Regular, BODY, 0.0, false);
        }
    }
    write(layout, title)
}

fn write(layout: Layout, title: &str) -> Result<Vec<u8>, lopdf::Error> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let regular = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let bold = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold", "Encoding" => "WinAnsiEncoding",
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => regular, "F2" => bold } });
    let total = layout.pages.len();
    let mut kids: Vec<Object> = Vec::with_capacity(total);
    for (index, mut operations) in layout.pages.into_iter().enumerate() {
        // Footer: where the reader is.
        let footer = format!("{} · page {} of {total}", excerpt(title, 70), index + 1);
        operations.extend([
            Operation::new("BT", vec![]),
            Operation::new("rg", vec![0.5.into(), 0.5.into(), 0.5.into()]),
            Operation::new("Tf", vec!["F1".into(), 8.into()]),
            Operation::new("Td", vec![MARGIN.into(), (MARGIN - 24.0).into()]),
            Operation::new("Tj", vec![Object::String(win_ansi(&footer), StringFormat::Literal)]),
            Operation::new("ET", vec![]),
        ]);
        let mut stream = Stream::new(dictionary! {}, Content { operations }.encode()?);
        // A report of many pages is mostly text: compress it (falls back to plain on error).
        let _ = stream.compress();
        let content = doc.add_object(stream);
        let page = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content });
        kids.push(page.into());
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => total as i64,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
        }),
    );
    let info = doc.add_object(dictionary! {
        "Title" => Object::String(win_ansi(&format!("Contract review: {title}")), StringFormat::Literal),
        "Producer" => Object::String(win_ansi(&format!("contract-reviewer {}", env!("CARGO_PKG_VERSION"))), StringFormat::Literal),
    });
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text-showing and fill-colour operations of every page, in order.
    fn operations(pdf: &[u8]) -> Vec<Operation> {
        let doc = Document::load_mem(pdf).expect("a PDF");
        let mut out = Vec::new();
        for (_, page) in doc.get_pages() {
            let content = doc.get_and_decode_page_content(page).expect("content");
            out.extend(content.operations.into_iter().filter(|op| matches!(op.operator.as_str(), "rg" | "Tj")));
        }
        out
    }

    fn review_of(text: &str) -> Review {
        let extracted = crate::extract(text.as_bytes(), "a.txt", &crate::Limits::default()).expect("text");
        let model = crate::classify::Model::from_bytes(crate::classify::BUILT_IN_MODEL).expect("model");
        let playbook = crate::playbook::Playbook::built_in("default").expect("playbook");
        crate::review(&extracted, &model, &playbook, Some(crate::playbook::Side::Vendor))
    }

    #[test]
    fn a_high_risk_is_red_and_a_long_file_name_wraps_within_the_page() {
        let review = review_of("SERVICES AGREEMENT\n\nThis Agreement is governed by the laws of the Cayman Islands.\n");
        assert!(review.risks.iter().any(|r| r.severity == Severity::High));
        let title = format!("{}.pdf", "a-very-long-file-name-without-any-spaces".repeat(6));
        let ops = operations(&report(&review, &title).expect("report"));
        let red: Vec<Object> = vec![HIGH.0.into(), HIGH.1.into(), HIGH.2.into()];
        let high_title = ops.windows(2).any(|pair| {
            pair[0].operator == "rg"
                && pair[0].operands == red
                && pair[1].operands.first().and_then(|o| o.as_str().ok()).is_some_and(|t| t.starts_with(b"1. [HIGH]"))
        });
        assert!(high_title, "the first (high) risk is not drawn in red");
        let widest = ops
            .iter()
            .filter(|op| op.operator == "Tj")
            .filter_map(|op| op.operands.first().and_then(|o| o.as_str().ok()))
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .filter(|line| {
                !line.contains(" page ") && (line.contains("without-any-spaces") || line.starts_with("Contract review"))
            })
            .map(|line| Font::Bold.width(&line, 16.0))
            .fold(0.0_f32, f32::max);
        assert!(widest <= PAGE_WIDTH - 2.0 * MARGIN, "a line {widest} points wide overflows the page");
    }
}
