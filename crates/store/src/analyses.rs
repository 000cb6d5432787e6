//! Analysis results: one `analyses` row per completed job with the full review JSON, and the
//! parts a portfolio is queried by as rows of their own (clauses, key terms in typed columns,
//! risks). A result is written in the transaction that completes its job, fenced by the claim,
//! so a job that runs twice still leaves one result.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::db::Database;
use crate::jobs::{fenced, follow_status, Claim, Transition, FENCE};
use crate::{in_transaction, with_pool};

/// A result ready to be stored (serialisable: an isolated analysis hands it over as JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewAnalysis {
    pub id: String,
    pub engine_name: String,
    pub engine_version: String,
    pub classifier: String,
    pub llm_model: Option<String>,
    pub playbook: String,
    pub side: Option<String>,
    pub format: String,
    /// The review as JSON.
    pub review: Box<serde_json::value::RawValue>,
    pub processing_time_ms: i64,
    pub clauses: Vec<ClauseRow>,
    pub terms: TermsRow,
    pub risks: Vec<RiskRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ClauseRow {
    pub category: String,
    pub start_offset: i64,
    pub end_offset: i64,
    pub page: Option<i32>,
    /// Number of the innermost section holding the clause ("12.3").
    pub section: Option<String>,
    pub confidence: f32,
}

/// Key terms in typed columns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TermsRow {
    pub agreement_date: Option<NaiveDate>,
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    pub perpetual: bool,
    pub initial_term_days: Option<i32>,
    pub renewal_term_days: Option<i32>,
    pub auto_renewal: bool,
    pub non_renewal_notice_days: Option<i32>,
    pub non_renewal_deadline: Option<NaiveDate>,
    pub termination_notice_days: Option<i32>,
    pub governing_law: Option<String>,
    pub venue: Option<String>,
    pub liability_cap_amount: Option<f64>,
    pub liability_cap_currency: Option<String>,
    pub liability_cap_months: Option<i32>,
    pub payment_terms_days: Option<i32>,
    pub non_compete_days: Option<i32>,
    pub parties: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RiskRow {
    pub rule: String,
    pub severity: String,
    pub title: String,
    pub citation_start: Option<i64>,
    pub citation_end: Option<i64>,
    pub citation_page: Option<i32>,
}

/// Rows per multi-row INSERT (10 columns each stays far below either backend's bind limit).
const ROWS_PER_INSERT: usize = 200;

/// Completes a claimed job with its result: the job `completed`, the result rows, the
/// document `analysed` with this as its latest analysis, and the audit row, in one
/// transaction. [`Transition::Fenced`] (and nothing written) when the claim is no longer ours.
pub async fn complete(db: &Database, claim: &Claim, analysis: &NewAnalysis) -> Result<Transition, sqlx::Error> {
    let now = crate::ids::now();
    let job = &claim.job;
    let (org, doc) = (&job.organisation_id, &job.document_id);
    let complete_job = fenced(
        &format!(
            "UPDATE analysis_jobs SET state = 'completed', analysis_id = $1, finished_at = $2, updated_at = $2, \
             lease_until = NULL, error_code = NULL, error = NULL WHERE {FENCE}"
        ),
        3,
    );
    in_transaction!(db, |tx| {
        let affected = sqlx::query(&complete_job)
            .bind(&analysis.id)
            .bind(now)
            .bind(&job.id)
            .bind(&claim.worker_id)
            .bind(claim.attempt)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if affected != 1 {
            return Ok(Transition::Fenced);
        }
        sqlx::query(
            "INSERT INTO analyses (id, organisation_id, document_id, job_id, engine_name, engine_version, classifier, \
             llm_model, playbook, side, format, review, processing_time_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&analysis.id)
        .bind(org)
        .bind(doc)
        .bind(&job.id)
        .bind(&analysis.engine_name)
        .bind(&analysis.engine_version)
        .bind(&analysis.classifier)
        .bind(&analysis.llm_model)
        .bind(&analysis.playbook)
        .bind(&analysis.side)
        .bind(&analysis.format)
        .bind(Json(&*analysis.review))
        .bind(analysis.processing_time_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (chunk_index, chunk) in analysis.clauses.chunks(ROWS_PER_INSERT).enumerate() {
            let mut builder = sqlx::QueryBuilder::new(
                "INSERT INTO analysis_clauses (analysis_id, ordinal, organisation_id, document_id, category, \
                 start_offset, end_offset, page, section, confidence) ",
            );
            builder.push_values(chunk.iter().enumerate(), |mut row, (i, clause)| {
                row.push_bind(&analysis.id)
                    .push_bind((chunk_index * ROWS_PER_INSERT + i) as i32)
                    .push_bind(org)
                    .push_bind(doc)
                    .push_bind(&clause.category)
                    .push_bind(clause.start_offset)
                    .push_bind(clause.end_offset)
                    .push_bind(clause.page)
                    .push_bind(&clause.section)
                    .push_bind(clause.confidence);
            });
            builder.build().execute(&mut *tx).await?;
        }
        for (chunk_index, chunk) in analysis.risks.chunks(ROWS_PER_INSERT).enumerate() {
            let mut builder = sqlx::QueryBuilder::new(
                "INSERT INTO analysis_risks (analysis_id, ordinal, organisation_id, document_id, rule, severity, title, \
                 citation_start, citation_end, citation_page) ",
            );
            builder.push_values(chunk.iter().enumerate(), |mut row, (i, risk)| {
                row.push_bind(&analysis.id)
                    .push_bind((chunk_index * ROWS_PER_INSERT + i) as i32)
                    .push_bind(org)
                    .push_bind(doc)
                    .push_bind(&risk.rule)
                    .push_bind(&risk.severity)
                    .push_bind(&risk.title)
                    .push_bind(risk.citation_start)
                    .push_bind(risk.citation_end)
                    .push_bind(risk.citation_page);
            });
            builder.build().execute(&mut *tx).await?;
        }
        let t = &analysis.terms;
        sqlx::query(
            "INSERT INTO analysis_terms (analysis_id, organisation_id, document_id, agreement_date, effective_date, \
             expiration_date, perpetual, initial_term_days, renewal_term_days, auto_renewal, non_renewal_notice_days, \
             non_renewal_deadline, termination_notice_days, governing_law, venue, liability_cap_amount, \
             liability_cap_currency, liability_cap_months, payment_terms_days, non_compete_days, parties) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(&analysis.id)
        .bind(org)
        .bind(doc)
        .bind(t.agreement_date)
        .bind(t.effective_date)
        .bind(t.expiration_date)
        .bind(t.perpetual)
        .bind(t.initial_term_days)
        .bind(t.renewal_term_days)
        .bind(t.auto_renewal)
        .bind(t.non_renewal_notice_days)
        .bind(t.non_renewal_deadline)
        .bind(t.termination_notice_days)
        .bind(&t.governing_law)
        .bind(&t.venue)
        .bind(t.liability_cap_amount)
        .bind(&t.liability_cap_currency)
        .bind(t.liability_cap_months)
        .bind(t.payment_terms_days)
        .bind(t.non_compete_days)
        .bind(Json(&t.parties))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE documents SET latest_analysis_id = $1 WHERE id = $2 \
             AND (latest_analysis_id IS NULL OR latest_analysis_id < $1)",
        )
        .bind(&analysis.id)
        .bind(doc)
        .execute(&mut *tx)
        .await?;
        follow_status!(tx, document = doc, job = &job.id, status = "analysed", at = now);
        crate::documents::audit!(
            tx,
            org = org,
            actor = None::<&str>,
            action = "analysis.completed",
            target = ("analysis", &analysis.id),
            details = &serde_json::json!({ "document_id": doc, "job_id": job.id, "attempts": claim.attempt }),
            at = now
        );
        let payload =
            crate::webhooks::analysis_payload("analysis.completed", now, doc, &job.id, Some(&analysis.id), None);
        crate::webhooks::enqueue!(tx, org = org, event = "analysis.completed", payload = &payload, at = now);
        Ok::<_, sqlx::Error>(Transition::Done("completed".into()))
    })
}

/// An analysis row as readers see it, with the review as JSON text.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct AnalysisView {
    pub id: String,
    pub organisation_id: String,
    pub document_id: String,
    pub job_id: String,
    pub engine_name: String,
    pub engine_version: String,
    pub classifier: String,
    pub llm_model: Option<String>,
    pub playbook: String,
    pub side: Option<String>,
    pub format: String,
    pub processing_time_ms: i64,
    pub created_at: DateTime<Utc>,
    pub review: String,
}

const VIEW_COLUMNS: &str = "id, organisation_id, document_id, job_id, engine_name, engine_version, classifier, \
     llm_model, playbook, side, format, processing_time_ms, created_at";

/// An analysis of the organisation, with its review.
pub async fn find(db: &Database, organisation_id: &str, id: &str) -> Result<Option<AnalysisView>, sqlx::Error> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS}, CAST(review AS TEXT) AS review FROM analyses WHERE id = $1 AND organisation_id = $2"
    );
    with_pool!(db, |p| sqlx::query_as::<_, AnalysisView>(&sql).bind(id).bind(organisation_id).fetch_optional(p).await)
}

/// The id of the document's latest analysis (`Ok(None)` for a document that is not live or
/// not analysed yet; the outer option tells the two apart).
pub async fn latest_id(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    const SQL: &str =
        "SELECT latest_analysis_id FROM documents WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL";
    with_pool!(db, |p| sqlx::query_scalar::<_, Option<String>>(SQL)
        .bind(document_id)
        .bind(organisation_id)
        .fetch_optional(p)
        .await)
}

/// One entry of a document's analysis history (without the review).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AnalysisSummary {
    pub id: String,
    pub document_id: String,
    pub job_id: String,
    pub engine_name: String,
    pub engine_version: String,
    pub classifier: String,
    pub playbook: String,
    pub side: Option<String>,
    pub format: String,
    pub processing_time_ms: i64,
    pub created_at: DateTime<Utc>,
}

/// The document's analyses, newest first, before `before` (keyset).
pub async fn history(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<AnalysisSummary>, sqlx::Error> {
    const SQL: &str = "SELECT id, document_id, job_id, engine_name, engine_version, classifier, playbook, side, \
         format, processing_time_ms, created_at FROM analyses WHERE organisation_id = $1 AND document_id = $2 \
         AND id < $3 ORDER BY id DESC LIMIT $4";
    let before = before.unwrap_or("~");
    with_pool!(db, |p| sqlx::query_as::<_, AnalysisSummary>(SQL)
        .bind(organisation_id)
        .bind(document_id)
        .bind(before)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// The clause rows of an analysis, in order.
pub async fn clauses(db: &Database, organisation_id: &str, analysis_id: &str) -> Result<Vec<ClauseRow>, sqlx::Error> {
    const SQL: &str = "SELECT category, start_offset, end_offset, page, section, confidence FROM analysis_clauses \
                       WHERE analysis_id = $1 AND organisation_id = $2 ORDER BY ordinal";
    with_pool!(db, |p| sqlx::query_as::<_, ClauseRow>(SQL).bind(analysis_id).bind(organisation_id).fetch_all(p).await)
}

/// The latest analysis of every live document: what a re-run needs.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LatestAnalysis {
    pub organisation_id: String,
    pub document_id: String,
    pub engine_version: String,
    /// The playbook and side its job asked for.
    pub playbook: String,
    pub side: Option<String>,
}

/// [`LatestAnalysis`] of every live analysed document.
pub async fn latest_of_every_document(db: &Database) -> Result<Vec<LatestAnalysis>, sqlx::Error> {
    const SQL: &str = "SELECT a.organisation_id, a.document_id, a.engine_version, j.playbook, j.side FROM documents d \
         JOIN analyses a ON a.id = d.latest_analysis_id JOIN analysis_jobs j ON j.id = a.job_id \
         WHERE d.deleted_at IS NULL ORDER BY a.id";
    with_pool!(db, |p| sqlx::query_as::<_, LatestAnalysis>(SQL).fetch_all(p).await)
}

/// Filters of a portfolio query; every one given narrows the result. Each applies to the
/// latest analysis of each live document of one organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PortfolioFilter {
    pub governing_law: Option<String>,
    pub risk_rule: Option<String>,
    pub severity: Option<String>,
    pub clause_present: Option<String>,
    pub clause_missing: Option<String>,
    /// The last day to give notice of non-renewal falls within `[from, to]`.
    pub deadline_between: Option<(NaiveDate, NaiveDate)>,
}

/// Keyset position of a portfolio page: (deadline, document id) when ordered by deadline,
/// else the document id alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortfolioCursor {
    Document(String),
    Deadline(NaiveDate, String),
}

/// One contract of a portfolio answer.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PortfolioRow {
    pub document_id: String,
    pub filename: String,
    pub analysis_id: String,
    pub governing_law: Option<String>,
    pub expiration_date: Option<NaiveDate>,
    pub auto_renewal: bool,
    pub non_renewal_notice_days: Option<i32>,
    pub non_renewal_deadline: Option<NaiveDate>,
}

/// The organisation's contracts matching `filter`: by non-renewal deadline (soonest first)
/// when the filter has a deadline window, else newest first.
pub async fn portfolio(
    db: &Database,
    organisation_id: &str,
    filter: &PortfolioFilter,
    after: Option<&PortfolioCursor>,
    limit: i64,
) -> Result<Vec<PortfolioRow>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT d.id AS document_id, d.filename, a.id AS analysis_id, t.governing_law, t.expiration_date, \
         t.auto_renewal, t.non_renewal_notice_days, t.non_renewal_deadline \
         FROM documents d JOIN analyses a ON a.id = d.latest_analysis_id JOIN analysis_terms t ON t.analysis_id = a.id \
         WHERE d.organisation_id = $1 AND d.deleted_at IS NULL",
    );
    enum Arg {
        Text(String),
        Date(NaiveDate),
    }
    let mut args: Vec<Arg> = Vec::new();
    let next = |arg: Arg, args: &mut Vec<Arg>| {
        args.push(arg);
        format!("${}", args.len() + 1)
    };
    if let Some(law) = &filter.governing_law {
        let p = next(Arg::Text(law.to_lowercase()), &mut args);
        sql.push_str(&format!(" AND lower(t.governing_law) = {p}"));
    }
    if filter.risk_rule.is_some() || filter.severity.is_some() {
        sql.push_str(" AND EXISTS (SELECT 1 FROM analysis_risks r WHERE r.analysis_id = a.id");
        if let Some(rule) = &filter.risk_rule {
            let p = next(Arg::Text(rule.clone()), &mut args);
            sql.push_str(&format!(" AND r.rule = {p}"));
        }
        if let Some(severity) = &filter.severity {
            let p = next(Arg::Text(severity.clone()), &mut args);
            sql.push_str(&format!(" AND r.severity = {p}"));
        }
        sql.push(')');
    }
    if let Some(category) = &filter.clause_present {
        let p = next(Arg::Text(category.clone()), &mut args);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM analysis_clauses c WHERE c.analysis_id = a.id AND c.category = {p})"
        ));
    }
    if let Some(category) = &filter.clause_missing {
        let p = next(Arg::Text(category.clone()), &mut args);
        sql.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM analysis_clauses c WHERE c.analysis_id = a.id AND c.category = {p})"
        ));
    }
    let by_deadline = filter.deadline_between.is_some();
    if let Some((from, to)) = filter.deadline_between {
        let from = next(Arg::Date(from), &mut args);
        let to = next(Arg::Date(to), &mut args);
        sql.push_str(&format!(" AND t.non_renewal_deadline >= {from} AND t.non_renewal_deadline <= {to}"));
    }
    match after {
        Some(PortfolioCursor::Deadline(date, id)) if by_deadline => {
            let d = next(Arg::Date(*date), &mut args);
            let i = next(Arg::Text(id.clone()), &mut args);
            sql.push_str(&format!(
                " AND (t.non_renewal_deadline > {d} OR (t.non_renewal_deadline = {d} AND d.id > {i}))"
            ));
        }
        Some(PortfolioCursor::Document(id)) if !by_deadline => {
            let i = next(Arg::Text(id.clone()), &mut args);
            sql.push_str(&format!(" AND d.id < {i}"));
        }
        _ => {}
    }
    sql.push_str(if by_deadline { " ORDER BY t.non_renewal_deadline, d.id" } else { " ORDER BY d.id DESC" });
    let l = next(Arg::Text(String::new()), &mut args);
    args.pop();
    sql.push_str(&format!(" LIMIT {l}"));
    with_pool!(db, |p| {
        let mut query = sqlx::query_as::<_, PortfolioRow>(&sql).bind(organisation_id);
        for arg in &args {
            query = match arg {
                Arg::Text(text) => query.bind(text),
                Arg::Date(date) => query.bind(*date),
            };
        }
        query.bind(limit).fetch_all(p).await
    })
}
