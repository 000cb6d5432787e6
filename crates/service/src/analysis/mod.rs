//! The analysis flow: a queued job per upload (or re-run), workers that turn it into a stored
//! review, and the reads of results: one analysis (cached 7 days under `analysis:{org}:{id}`
//! with the documents' generation / compare-and-set protection), a document's latest analysis
//! and history, its reports, and portfolio queries over an organisation's latest analyses.
//!
//! Every read is made as a principal and carries the organisation in its query and cache key.

pub mod dispatch;
pub mod engine;
pub mod events;
pub mod isolated;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use cr_analysis::classify::Model;
use cr_store::analyses::{self, AnalysisView, PortfolioCursor, PortfolioFilter};
use cr_store::cache::Lookup;
use cr_store::identity::Principal;
use cr_store::jobs::{self, Claim, EnqueueOutcome, JobRow, NewJob};
use cr_store::{ids, Cache, Database, FileStore};
use serde::{Deserialize, Serialize};

use crate::singleflight::SingleFlight;
use crate::ServiceError;
use dispatch::{RedisStream, Wakeups};
use events::{AnalysisEvent, EventBus};
pub use worker::{Background, WorkerSettings};

/// Playbooks a job may name.
pub const PLAYBOOKS: [&str; 3] = ["auto", "default", "nda"];
/// Sides a job may name.
pub const SIDES: [&str; 4] = ["customer", "vendor", "disclosing", "receiving"];
/// Largest page of history or portfolio results.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Cached in place of an analysis that does not exist.
const MISSING: &[u8] = b"-";

#[derive(Clone, Debug)]
pub struct AnalysisSettings {
    pub workers: WorkerSettings,
    /// Lifetime of a cached analysis.
    pub analysis_ttl: Duration,
    /// Lifetime of a cached "not found".
    pub negative_ttl: Duration,
    /// Bytes of analyses kept in process in front of the shared cache (0: none).
    pub local_cache_bytes: u64,
    /// How long a finished load stays joinable (see [`SingleFlight`]).
    pub load_linger: Duration,
}

/// What to analyse a document with; each field falls back to the organisation's default.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisRequest {
    pub playbook: Option<String>,
    pub side: Option<String>,
}

impl AnalysisRequest {
    /// Checks the names; `None` fields stay for the organisation's defaults.
    pub fn validate(&self) -> Result<(), ServiceError> {
        if let Some(playbook) = &self.playbook {
            if !PLAYBOOKS.contains(&playbook.as_str()) {
                return Err(ServiceError::invalid(
                    "invalid_playbook",
                    format!("playbook must be one of {}", PLAYBOOKS.join(", ")),
                ));
            }
        }
        if let Some(side) = &self.side {
            if !SIDES.contains(&side.as_str()) {
                return Err(ServiceError::invalid("invalid_side", format!("side must be one of {}", SIDES.join(", "))));
            }
        }
        Ok(())
    }
}

/// A job as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct JobOut {
    pub id: String,
    pub document_id: String,
    pub state: String,
    pub playbook: String,
    pub side: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub analysis_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<&JobRow> for JobOut {
    fn from(job: &JobRow) -> Self {
        Self {
            id: job.id.clone(),
            document_id: job.document_id.clone(),
            state: job.state.clone(),
            playbook: job.playbook.clone(),
            side: job.side.clone(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            error_code: job.error_code.clone(),
            error: job.error.clone(),
            analysis_id: job.analysis_id.clone(),
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EngineOut<'a> {
    name: &'a str,
    version: &'a str,
    classifier: &'a str,
    llm_model: Option<&'a str>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportsOut {
    json: String,
    pdf: String,
}

/// An analysis as the API shows it, the review embedded as stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalysisOut<'a> {
    id: &'a str,
    document_id: &'a str,
    job_id: &'a str,
    engine: EngineOut<'a>,
    playbook: &'a str,
    side: Option<&'a str>,
    format: &'a str,
    processing_time_ms: i64,
    created_at: DateTime<Utc>,
    reports: ReportsOut,
    /// The review, as documented in docs/review-schema.md.
    #[schema(value_type = Object)]
    review: &'a serde_json::value::RawValue,
}

impl<'a> AnalysisOut<'a> {
    fn new(view: &'a AnalysisView) -> anyhow::Result<Self> {
        Ok(Self {
            id: &view.id,
            document_id: &view.document_id,
            job_id: &view.job_id,
            engine: EngineOut {
                name: &view.engine_name,
                version: &view.engine_version,
                classifier: &view.classifier,
                llm_model: view.llm_model.as_deref(),
            },
            playbook: &view.playbook,
            side: view.side.as_deref(),
            format: &view.format,
            processing_time_ms: view.processing_time_ms,
            created_at: view.created_at,
            reports: ReportsOut {
                json: format!("/api/analyses/{}/report.json", view.id),
                pdf: format!("/api/analyses/{}/report.pdf", view.id),
            },
            review: serde_json::from_str(&view.review).context("stored review is not JSON")?,
        })
    }
}

/// Query of a portfolio request, as received.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PortfolioQuery {
    pub governing_law: Option<String>,
    pub risk_rule: Option<String>,
    pub severity: Option<String>,
    /// A CUAD category the latest analysis found.
    pub clause: Option<String>,
    /// A CUAD category the latest analysis did not find.
    pub missing_clause: Option<String>,
    /// Contracts whose last day to give notice of non-renewal is within this many days from today.
    pub renewal_within_days: Option<u32>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PortfolioPage {
    pub items: Vec<analyses::PortfolioRow>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryPage {
    pub items: Vec<analyses::AnalysisSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Clone)]
pub struct AnalysisService {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Database,
    /// The same pool, counted apart: what workers, relay and reconciler use.
    pub(crate) background_db: Database,
    pub(crate) cache: Cache,
    pub(crate) files: FileStore,
    pub(crate) model: Arc<Model>,
    pub(crate) events: EventBus,
    pub(crate) stream: Option<Arc<RedisStream>>,
    pub(crate) wakeups: Wakeups,
    pub(crate) settings: WorkerSettings,
    pub(crate) webhooks: crate::webhooks::WebhookService,
    analysis_ttl: Duration,
    negative_ttl: Duration,
    loads: SingleFlight<Result<Bytes, Arc<anyhow::Error>>>,
    /// Analyses never change once written, so a copy in process cannot go stale: hits on it
    /// skip Redis, whose round trip with a review of tens of KB is most of a hit's cost.
    local: moka::sync::Cache<String, StoredAnalysis>,
}

/// An analysis as cached: `{document id}\n{analysis JSON}`, so that a read can check the
/// document is still live without parsing the JSON.
pub(crate) fn analysis_key(org: &str, id: &str) -> String {
    format!("analysis-of:{org}:{id}")
}

/// An analysis as kept in process: its document and its JSON.
#[derive(Clone)]
struct StoredAnalysis {
    document_id: Arc<str>,
    body: Bytes,
}

impl StoredAnalysis {
    fn encode(document_id: &str, body: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(document_id.len() + 1 + body.len());
        out.extend_from_slice(document_id.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(body);
        Bytes::from(out)
    }

    fn decode(cached: Bytes) -> Option<Self> {
        let newline = cached.iter().position(|&b| b == b'\n')?;
        let document_id = std::str::from_utf8(&cached[..newline]).ok()?.into();
        Some(Self { document_id, body: cached.slice(newline + 1..) })
    }
}

pub(crate) fn latest_key(org: &str, doc: &str) -> String {
    format!("analysis-latest:{org}:{doc}")
}

impl AnalysisService {
    pub fn new(
        db: Database,
        cache: Cache,
        files: FileStore,
        events: EventBus,
        stream: Option<RedisStream>,
        webhooks: crate::webhooks::WebhookService,
        settings: AnalysisSettings,
    ) -> anyhow::Result<Self> {
        let model = Model::from_bytes(cr_analysis::classify::BUILT_IN_MODEL)
            .map_err(|e| anyhow::anyhow!("the built-in clause model does not load: {e}"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                background_db: db.with_own_counter(),
                db,
                cache,
                files,
                model: Arc::new(model),
                events,
                stream: stream.map(Arc::new),
                wakeups: Wakeups::default(),
                settings: settings.workers,
                webhooks,
                analysis_ttl: settings.analysis_ttl,
                negative_ttl: settings.negative_ttl,
                loads: SingleFlight::with_linger(settings.load_linger),
                local: moka::sync::Cache::builder()
                    .max_capacity(settings.local_cache_bytes)
                    .weigher(|key: &String, value: &StoredAnalysis| {
                        u32::try_from(key.len() + value.document_id.len() + value.body.len()).unwrap_or(u32::MAX)
                    })
                    .time_to_live(settings.analysis_ttl)
                    .build(),
            }),
        })
    }

    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    pub fn wakeups(&self) -> &Wakeups {
        &self.inner.wakeups
    }

    pub fn settings(&self) -> &WorkerSettings {
        &self.inner.settings
    }

    /// The job an upload creates, with the organisation's defaults for what `request` leaves out.
    pub async fn new_job(&self, caller: &Principal, request: &AnalysisRequest) -> Result<NewJob, ServiceError> {
        request.validate()?;
        let (default_playbook, default_side) = if request.playbook.is_none() || request.side.is_none() {
            cr_store::identity::organisation_defaults(&self.inner.db, &caller.organisation_id).await?
        } else {
            (String::new(), None)
        };
        Ok(NewJob::new(
            request.playbook.clone().unwrap_or(default_playbook),
            request.side.clone().or(default_side),
            self.inner.settings.max_attempts,
            Some(&caller.user_id),
        ))
    }

    /// Sets the playbook and side the organisation's uploads use when they name none
    /// (organisation admins; `side: None` clears it). Returns the defaults now in force.
    pub async fn set_defaults(
        &self,
        caller: &Principal,
        organisation_id: &str,
        defaults: &AnalysisRequest,
    ) -> Result<AnalysisRequest, ServiceError> {
        if caller.organisation_id != organisation_id {
            return Err(ServiceError::NotFound("organisation"));
        }
        if caller.role != "admin" {
            return Err(ServiceError::Forbidden("only an organisation admin can change its analysis defaults"));
        }
        defaults.validate()?;
        let playbook = defaults.playbook.clone().unwrap_or_else(|| "auto".into());
        if !cr_store::identity::set_organisation_defaults(
            &self.inner.db,
            organisation_id,
            &playbook,
            defaults.side.as_deref(),
            &caller.user_id,
        )
        .await?
        {
            return Err(ServiceError::NotFound("organisation"));
        }
        Ok(AnalysisRequest { playbook: Some(playbook), side: defaults.side.clone() })
    }

    /// After the transaction that queued `job` committed: dispatch and tell watchers.
    pub async fn queued(&self, organisation_id: &str, document_id: &str, job_id: &str) {
        // The event first: a woken worker's first stage must not overtake it.
        self.inner.events.publish(AnalysisEvent::new("queued", organisation_id, document_id, job_id, 0)).await;
        self.inner.wakeups.job_committed();
    }

    /// Queues a new analysis of a document (`POST /api/documents/{id}/analyses`).
    pub async fn request(
        &self,
        caller: &Principal,
        document_id: &str,
        request: &AnalysisRequest,
    ) -> Result<JobOut, ServiceError> {
        if !ids::is_valid("doc", document_id) {
            return Err(ServiceError::NotFound("document"));
        }
        let job = self.new_job(caller, request).await?;
        match jobs::enqueue(&self.inner.db, &caller.organisation_id, document_id, &job).await? {
            EnqueueOutcome::Queued(row) => {
                self.invalidate_document(&caller.organisation_id, document_id).await;
                self.queued(&caller.organisation_id, document_id, &row.id).await;
                Ok(JobOut::from(&*row))
            }
            EnqueueOutcome::DocumentMissing => Err(ServiceError::NotFound("document")),
        }
    }

    /// The newest job of a document.
    pub async fn latest_job(&self, caller: &Principal, document_id: &str) -> Result<Option<JobOut>, ServiceError> {
        if !ids::is_valid("doc", document_id) {
            return Err(ServiceError::NotFound("document"));
        }
        Ok(jobs::latest_of_document(&self.inner.db, &caller.organisation_id, document_id)
            .await?
            .map(|j| JobOut::from(&j)))
    }

    /// One analysis as JSON, from the cache when possible; only while its document is live.
    pub async fn get_json(&self, caller: &Principal, id: &str) -> Result<Bytes, ServiceError> {
        let stored = self.stored_analysis(caller, id).await?;
        // The pointer read is what a delete or purge invalidates, on every instance.
        if self.latest_pointer(&caller.organisation_id, &stored.document_id).await?.as_ref() == MISSING {
            return Err(ServiceError::NotFound("analysis"));
        }
        Ok(stored.body)
    }

    /// The analysis and its document, from process memory, the cache or the database.
    async fn stored_analysis(&self, caller: &Principal, id: &str) -> Result<StoredAnalysis, ServiceError> {
        if !ids::is_valid("ana", id) {
            return Err(ServiceError::NotFound("analysis"));
        }
        let org = &caller.organisation_id;
        let key = analysis_key(org, id);
        if let Some(stored) = self.inner.local.get(&key) {
            return Ok(stored);
        }
        let cached = self
            .cached(key.clone(), self.inner.analysis_ttl, || async move {
                match analyses::find(&self.inner.db, org, id).await.context("loading an analysis")? {
                    Some(view) => {
                        let body = serde_json::to_vec(&AnalysisOut::new(&view)?)?;
                        Ok(StoredAnalysis::encode(&view.document_id, &body))
                    }
                    None => Ok(Bytes::from_static(MISSING)),
                }
            })
            .await?;
        if cached.as_ref() == MISSING {
            return Err(ServiceError::NotFound("analysis"));
        }
        let stored = StoredAnalysis::decode(cached).context("a cached analysis without its document")?;
        self.inner.local.insert(key, stored.clone());
        Ok(stored)
    }

    /// The latest-analysis pointer of a live document: `MISSING` when the document is not
    /// live, empty when it has no analysis yet, else the analysis id.
    async fn latest_pointer(&self, org: &str, document_id: &str) -> Result<Bytes, ServiceError> {
        self.cached(latest_key(org, document_id), self.inner.analysis_ttl, || async move {
            Ok(
                match analyses::latest_id(&self.inner.db, org, document_id)
                    .await
                    .context("loading the latest analysis")?
                {
                    None => Bytes::from_static(MISSING),
                    Some(None) => Bytes::new(),
                    Some(Some(id)) => Bytes::from(id),
                },
            )
        })
        .await
    }

    /// The latest analysis of a document as JSON.
    pub async fn latest_json(&self, caller: &Principal, document_id: &str) -> Result<Bytes, ServiceError> {
        if !ids::is_valid("doc", document_id) {
            return Err(ServiceError::NotFound("document"));
        }
        let pointer = self.latest_pointer(&caller.organisation_id, document_id).await?;
        match pointer.as_ref() {
            MISSING => Err(ServiceError::NotFound("document")),
            b"" => Err(ServiceError::NotFound("analysis (the document has not been analysed yet)")),
            id => Ok(self.stored_analysis(caller, std::str::from_utf8(id).context("cached analysis id")?).await?.body),
        }
    }

    /// Drops analyses from this process's memory (after a purge).
    pub fn forget_locally(&self, org: &str, analysis_ids: &[String]) {
        for id in analysis_ids {
            self.inner.local.invalidate(&analysis_key(org, id));
        }
    }

    /// Cache-aside read with the generation guard and one loader per key.
    async fn cached<F, Fut>(&self, key: String, ttl: Duration, load: F) -> Result<Bytes, ServiceError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Bytes>>,
    {
        let inner = &self.inner;
        match inner.cache.lookup(&key).await {
            Lookup::Hit(body) => Ok(body),
            Lookup::Miss { generation: Some(generation) } => inner
                .loads
                .run_keeping(
                    format!("{key}@{generation}"),
                    || async {
                        let body = load().await.map_err(Arc::new)?;
                        let ttl = if body.as_ref() == MISSING { inner.negative_ttl } else { ttl };
                        inner.cache.fill(&key, generation, body.clone(), ttl).await;
                        Ok(body)
                    },
                    Result::is_ok,
                )
                .await
                .map_err(|e| ServiceError::from_shared(&e)),
            Lookup::Miss { generation: None } => load().await.map_err(|e| ServiceError::from_shared(&e)),
        }
    }

    /// A document's analyses, newest first.
    pub async fn history(
        &self,
        caller: &Principal,
        document_id: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<HistoryPage, ServiceError> {
        if !ids::is_valid("doc", document_id) {
            return Err(ServiceError::NotFound("document"));
        }
        let limit = page_limit(limit)?;
        if let Some(cursor) = cursor {
            if !ids::is_valid("ana", cursor) {
                return Err(ServiceError::invalid("invalid_cursor", "cursor is not one returned by this API"));
            }
        }
        let org = &caller.organisation_id;
        if analyses::latest_id(&self.inner.db, org, document_id).await?.is_none() {
            return Err(ServiceError::NotFound("document"));
        }
        let mut items = analyses::history(&self.inner.db, org, document_id, cursor, i64::from(limit) + 1).await?;
        let next_cursor = (items.len() > limit as usize).then(|| items[limit as usize - 1].id.clone());
        items.truncate(limit as usize);
        Ok(HistoryPage { items, next_cursor })
    }

    /// Where the stored report of an analysis is, after checking the caller may read it.
    pub async fn report_path(
        &self,
        caller: &Principal,
        id: &str,
        extension: &str,
    ) -> Result<std::path::PathBuf, ServiceError> {
        self.get_json(caller, id).await?;
        let details = serde_json::json!({ "format": extension });
        crate::audit::record_download(&self.inner.db, caller, "report.download", ("analysis", id), details).await?;
        Ok(self.inner.files.report_path(id, extension))
    }

    /// The organisation's contracts matching the query (see [`PortfolioQuery`]).
    pub async fn portfolio(&self, caller: &Principal, query: &PortfolioQuery) -> Result<PortfolioPage, ServiceError> {
        let limit = page_limit(query.limit)?;
        let text = |value: &Option<String>, name: &str| -> Result<Option<String>, ServiceError> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) if v.len() > 200 || v.contains('\0') => {
                    Err(ServiceError::invalid("invalid_filter", format!("{name} must be at most 200 bytes of text")))
                }
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
        let severity = text(&query.severity, "severity")?;
        if let Some(severity) = &severity {
            if !["high", "medium", "low"].contains(&severity.as_str()) {
                return Err(ServiceError::invalid("invalid_filter", "severity must be high, medium or low"));
            }
        }
        let category = |value: &Option<String>, name: &str| -> Result<Option<String>, ServiceError> {
            let value = text(value, name)?;
            if let Some(v) = &value {
                if !cr_analysis::classify::CATEGORIES.contains(&v.as_str()) {
                    return Err(ServiceError::invalid(
                        "invalid_filter",
                        format!("{name} must be a CUAD category name, e.g. \"Governing Law\""),
                    ));
                }
            }
            Ok(value)
        };
        let today = Utc::now().date_naive();
        let deadline_between = match query.renewal_within_days {
            Some(days) if days > 3650 => {
                return Err(ServiceError::invalid("invalid_filter", "renewal_within_days must be at most 3650"))
            }
            Some(days) => Some((today, today + chrono::Days::new(u64::from(days)))),
            None => None,
        };
        let filter = PortfolioFilter {
            governing_law: text(&query.governing_law, "governing_law")?,
            risk_rule: text(&query.risk_rule, "risk_rule")?,
            severity,
            clause_present: category(&query.clause, "clause")?,
            clause_missing: category(&query.missing_clause, "missing_clause")?,
            deadline_between,
        };
        let cursor = query.cursor.as_deref().map(|c| parse_cursor(c, deadline_between.is_some())).transpose()?;
        let mut items = analyses::portfolio(
            &self.inner.db,
            &caller.organisation_id,
            &filter,
            cursor.as_ref(),
            i64::from(limit) + 1,
        )
        .await?;
        let next_cursor = (items.len() > limit as usize).then(|| {
            let last = &items[limit as usize - 1];
            match (deadline_between, last.non_renewal_deadline) {
                (Some(_), Some(date)) => format!("{date}~{}", last.document_id),
                _ => last.document_id.clone(),
            }
        });
        items.truncate(limit as usize);
        Ok(PortfolioPage { items, next_cursor })
    }

    /// Queues a new analysis (same playbook and side) of every live document whose latest
    /// analysis came from an engine older than `older_than` (every analysed one when `None`).
    /// Returns the number queued.
    pub async fn reanalyze(&self, older_than: Option<&str>) -> anyhow::Result<usize> {
        let latest = analyses::latest_of_every_document(&self.inner.db).await?;
        let mut queued = 0;
        for stale in latest.into_iter().filter(|a| older_than.is_none_or(|v| version_older(&a.engine_version, v))) {
            let (org, doc) = (stale.organisation_id, stale.document_id);
            let job = NewJob::new(stale.playbook, stale.side, self.inner.settings.max_attempts, None);
            if let EnqueueOutcome::Queued(row) = jobs::enqueue(&self.inner.db, &org, &doc, &job).await? {
                self.invalidate_document(&org, &doc).await;
                self.queued(&org, &doc, &row.id).await;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// After a job ended (completed, failed or dead): caches, the final event.
    pub(crate) async fn finished(
        &self,
        claim: &Claim,
        state: &str,
        analysis_id: Option<&str>,
        error: Option<(&str, &str)>,
    ) {
        let job = &claim.job;
        self.invalidate_document(&job.organisation_id, &job.document_id).await;
        let percent = if state == "completed" { 100 } else { 0 };
        let mut event = AnalysisEvent::new(state, &job.organisation_id, &job.document_id, &job.id, percent);
        event.analysis_id = analysis_id.map(str::to_owned);
        event.error_code = error.map(|(code, _)| code.to_owned());
        event.error = error.map(|(_, message)| message.to_owned());
        self.inner.events.publish(event).await;
        // The store wrote the deliveries with the job's end.
        self.inner.webhooks.wake();
    }

    /// The caches a change of a document's job or analysis makes stale.
    pub async fn invalidate_document(&self, org: &str, doc: &str) {
        self.inner
            .cache
            .invalidate(&[
                crate::documents::document_key(org, doc),
                crate::documents::list_namespace(org),
                latest_key(org, doc),
            ])
            .await;
    }
}

/// Whether dotted version `a` is older than `b`, comparing numbers as numbers ("0.9" < "0.10");
/// a part that is not a number compares as text.
pub fn version_older(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-', '+']).map(|p| (p.parse().unwrap_or(u64::MAX), p.to_owned())).collect()
    };
    parts(a) < parts(b)
}

fn page_limit(limit: Option<u32>) -> Result<u32, ServiceError> {
    let limit = limit.unwrap_or(20);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(ServiceError::invalid("invalid_limit", format!("limit must be between 1 and {MAX_PAGE_SIZE}")));
    }
    Ok(limit)
}

fn parse_cursor(cursor: &str, by_deadline: bool) -> Result<PortfolioCursor, ServiceError> {
    let invalid = || ServiceError::invalid("invalid_cursor", "cursor is not one returned by this API");
    if by_deadline {
        let (date, id) = cursor.split_once('~').ok_or_else(invalid)?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| invalid())?;
        if !ids::is_valid("doc", id) {
            return Err(invalid());
        }
        Ok(PortfolioCursor::Deadline(date, id.to_owned()))
    } else if ids::is_valid("doc", cursor) {
        Ok(PortfolioCursor::Document(cursor.to_owned()))
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_their_numbers() {
        assert!(version_older("0.1.0", "0.2.0"));
        assert!(version_older("0.9.1", "0.10.0"));
        assert!(!version_older("0.10.0", "0.9.9"));
        assert!(!version_older("1.0.0", "1.0.0"));
    }
}
