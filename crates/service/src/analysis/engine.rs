//! One analysis, start to end, as a synchronous function the workers run off the async
//! runtime: the original's bytes → the review (the CLI's `review --json`, same engine, model
//! and playbook choice) → the rows the database stores and the two reports (JSON, PDF).
//! It touches no database, cache or network, so its failures are about the document alone.

use std::time::Instant;

use cr_analysis::classify::Model;
use cr_analysis::playbook::Side;
use cr_analysis::review::Stage as ReviewStage;
use cr_analysis::{ExtractError, Limits, Review};
use cr_store::analyses::{ClauseRow, NewAnalysis, RiskRow, TermsRow};

/// What a running analysis is doing, for live progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Extracting,
    Classifying,
    CheckingPlaybook,
    WritingResults,
}

impl Stage {
    /// The stage's name in events.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Extracting => "extracting",
            Stage::Classifying => "classifying",
            Stage::CheckingPlaybook => "checking_playbook",
            Stage::WritingResults => "writing_results",
        }
    }

    /// The stage named `name` in events.
    pub fn from_name(name: &str) -> Option<Stage> {
        [Stage::Extracting, Stage::Classifying, Stage::CheckingPlaybook, Stage::WritingResults]
            .into_iter()
            .find(|stage| stage.name() == name)
    }

    /// Rough share of the work done when the stage starts.
    pub fn percent(self) -> u8 {
        match self {
            Stage::Extracting => 5,
            Stage::Classifying => 30,
            Stage::CheckingPlaybook => 80,
            Stage::WritingResults => 90,
        }
    }
}

/// Why a document could not be analysed: final, the same bytes would fail again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DocumentFailure {
    /// Stable code: `encrypted`, `no_text_layer`, `corrupt`, `too_large`, `timeout`,
    /// `unsupported`, `empty_document`, `invalid_playbook`, `invalid_side`, `internal`.
    pub code: String,
    pub message: String,
}

/// A finished analysis, ready to store.
pub struct Output {
    pub analysis: NewAnalysis,
    /// The review JSON as written to `reports/<id>.json`.
    pub json_report: Vec<u8>,
    /// The PDF report (the CLI's `review --pdf`).
    pub pdf_report: Vec<u8>,
}

/// Analyses `bytes` (named `filename`) with `playbook` ("auto", "default", "nda") for `side`.
pub fn analyse(
    analysis_id: &str,
    bytes: &[u8],
    filename: &str,
    playbook: &str,
    side: Option<&str>,
    model: &Model,
    progress: &mut dyn FnMut(Stage),
) -> Result<Output, DocumentFailure> {
    let started = Instant::now();
    let failure = |code: &str, message: String| DocumentFailure { code: code.to_owned(), message };
    let parsed_side = side.map(Side::parse).transpose().map_err(|e| failure("invalid_side", e.to_string()))?;
    progress(Stage::Extracting);
    let extracted = cr_analysis::extract(bytes, filename, &Limits::default())
        .map_err(|e| failure(extract_error_code(&e), e.to_string()))?;
    if extracted.text.trim().is_empty() {
        return Err(failure("empty_document", "the document has no text to review".into()));
    }
    let playbook_used = cr_analysis::review::resolve_playbook(playbook, &extracted.text)
        .ok_or_else(|| failure("invalid_playbook", format!("no built-in playbook named {playbook:?}")))?;
    // The text is untrusted: a bug in the engine costs this document, not the worker.
    let review = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cr_analysis::review::review_with_progress(&extracted, model, &playbook_used, parsed_side, &mut |stage| {
            progress(match stage {
                ReviewStage::Classifying => Stage::Classifying,
                ReviewStage::CheckingPlaybook => Stage::CheckingPlaybook,
            })
        })
    }))
    .map_err(|_| failure("internal", "internal error while analysing this document (it has been logged)".into()))?;
    progress(Stage::WritingResults);
    let json_report = serde_json::to_vec(&review).map_err(|e| failure("internal", format!("serialising: {e}")))?;
    let raw = serde_json::value::RawValue::from_string(
        String::from_utf8(json_report.clone()).map_err(|e| failure("internal", e.to_string()))?,
    )
    .map_err(|e| failure("internal", e.to_string()))?;
    let analysis = NewAnalysis {
        id: analysis_id.to_owned(),
        engine_name: review.engine.name.to_owned(),
        engine_version: review.engine.version.to_owned(),
        classifier: review.engine.classifier.to_owned(),
        llm_model: review.engine.model.clone(),
        playbook: review.playbook.name.clone(),
        side: side.map(str::to_owned),
        format: serde_json::to_value(review.format)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        review: raw,
        processing_time_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        clauses: clause_rows(&review),
        terms: terms_row(&review),
        risks: risk_rows(&review),
    };
    let pdf_report = cr_analysis::report::pdf::report(&review, filename)
        .map_err(|e| failure("internal", format!("rendering the PDF report: {e}")))?;
    Ok(Output { analysis, json_report, pdf_report })
}

fn extract_error_code(err: &ExtractError) -> &'static str {
    match err {
        ExtractError::Encrypted => "encrypted",
        ExtractError::NoTextLayer => "no_text_layer",
        ExtractError::Corrupt(_) => "corrupt",
        ExtractError::TooLarge(_) => "too_large",
        ExtractError::Timeout(_) => "timeout",
        ExtractError::Unsupported(_) => "unsupported",
    }
}

fn clause_rows(review: &Review) -> Vec<ClauseRow> {
    let sections = &review.structure.sections;
    review
        .clauses
        .iter()
        .map(|clause| {
            // Sections are in text order; the clause belongs to the last one opened before it.
            let index = sections.partition_point(|s| s.start <= clause.start);
            let section = index.checked_sub(1).and_then(|i| sections.get(i)).map(|s| s.number.clone());
            ClauseRow {
                category: clause.category.to_owned(),
                start_offset: offset(clause.start),
                end_offset: offset(clause.end),
                page: clause.page.and_then(|p| i32::try_from(p).ok()),
                section,
                confidence: clause.confidence,
            }
        })
        .collect()
}

fn risk_rows(review: &Review) -> Vec<RiskRow> {
    review
        .risks
        .iter()
        .map(|risk| RiskRow {
            rule: risk.rule.clone(),
            severity: serde_json::to_value(risk.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            title: risk.title.clone(),
            citation_start: risk.citation.as_ref().map(|c| offset(c.start)),
            citation_end: risk.citation.as_ref().map(|c| offset(c.end)),
            citation_page: risk.citation.as_ref().and_then(|c| c.page).and_then(|p| i32::try_from(p).ok()),
        })
        .collect()
}

fn offset(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn days(period: Option<&cr_analysis::terms::Period>) -> Option<i32> {
    period.and_then(|p| i32::try_from(p.days).ok())
}

fn terms_row(review: &Review) -> TermsRow {
    let terms = &review.terms;
    let date = |term: &Option<cr_analysis::terms::Term>| term.as_ref().and_then(cr_analysis::terms::Term::date);
    let expiration_date = date(&terms.expiration_date);
    let non_renewal_notice_days = days(terms.non_renewal_notice.as_ref());
    // The next deadline from the day of the analysis; the portfolio lists what is due.
    let non_renewal_deadline = terms.next_non_renewal_deadline(chrono::Utc::now().date_naive());
    let cap = terms.liability_cap.as_ref();
    TermsRow {
        agreement_date: date(&terms.agreement_date),
        effective_date: date(&terms.effective_date),
        expiration_date,
        perpetual: terms.expiration_date.as_ref().is_some_and(|t| t.value == "perpetual"),
        initial_term_days: days(terms.initial_term.as_ref()),
        renewal_term_days: days(terms.renewal_term.as_ref()),
        auto_renewal: terms.auto_renewal.is_some(),
        non_renewal_notice_days,
        non_renewal_deadline,
        termination_notice_days: days(terms.termination_notice.as_ref()),
        governing_law: terms.governing_law.as_ref().map(|t| t.value.clone()),
        venue: terms.venue.as_ref().map(|t| t.value.clone()),
        liability_cap_amount: cap.and_then(|c| c.amount.as_ref()).map(|m| m.amount),
        liability_cap_currency: cap.and_then(|c| c.amount.as_ref()).map(|m| m.currency.to_owned()),
        liability_cap_months: cap.and_then(|c| c.months_of_fees).and_then(|m| i32::try_from(m).ok()),
        payment_terms_days: days(terms.payment_terms.as_ref()),
        non_compete_days: days(terms.non_compete.as_ref()),
        parties: serde_json::to_value(&terms.parties).unwrap_or_default(),
    }
}
