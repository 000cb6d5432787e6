//! A review: the extracted document, its clauses by CUAD category with evidence offsets,
//! and the engine that made it. (Key terms, playbook risks and the summary come next.)

use serde::Serialize;

use crate::classify::Model;
use crate::extract::{Extracted, Format};
use crate::segment::segments;

/// Version of the JSON schema of [`Review`].
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Engine {
    pub name: &'static str,
    pub version: &'static str,
    pub classifier: &'static str,
    /// The LLM used for the optional rewrite pass, when one was.
    pub model: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Clause {
    /// CUAD category, spelled as in `category_descriptions.csv`.
    pub category: &'static str,
    /// UTF-8 byte offsets into the extracted text (for TXT: into the file).
    pub start: usize,
    pub end: usize,
    /// 1-based page, for PDFs.
    pub page: Option<u32>,
    pub text: String,
    pub confidence: f32,
}

#[derive(Debug, Serialize)]
pub struct Review {
    pub schema_version: u32,
    pub format: Format,
    pub clauses: Vec<Clause>,
    /// Key terms with their normalised values and offsets.
    pub terms: crate::terms::Terms,
    pub warnings: Vec<String>,
    pub engine: Engine,
}

/// Reviews an extracted document with the clause model.
pub fn review(extracted: &Extracted, model: &Model) -> Review {
    let segments = segments(&extracted.text);
    let mut clauses: Vec<Clause> = model
        .predict(&extracted.text, &segments)
        .into_iter()
        .map(|p| Clause {
            category: p.category,
            start: p.segment.start,
            end: p.segment.end,
            page: extracted.page_of(p.segment.start),
            text: p.segment.text(&extracted.text).to_owned(),
            confidence: (p.confidence * 1000.0).round() / 1000.0,
        })
        .collect();
    clauses.sort_by(|a, b| a.start.cmp(&b.start).then(b.confidence.total_cmp(&a.confidence)));
    Review {
        schema_version: SCHEMA_VERSION,
        format: extracted.format,
        clauses,
        terms: crate::terms::key_terms(&extracted.text),
        warnings: extracted.warnings.clone(),
        engine: Engine {
            name: "contract-reviewer",
            version: env!("CARGO_PKG_VERSION"),
            classifier: "hashed n-gram logistic regression (CUAD dev, train part)",
            model: None,
        },
    }
}
